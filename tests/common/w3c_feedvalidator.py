"""Runs the W3C Feed Validation Service's own code over files, offline.

Usage: python3 w3c_feedvalidator.py VALIDATOR_SRC ROOT BASE FILE...

VALIDATOR_SRC is the `src` folder of a checkout of https://github.com/w3c/feedvalidator (it
needs html5lib and rdflib); each FILE is validated as if served at BASE + its path below ROOT,
so `rel="self"` is checked against the address the feed will have. Prints one line per file,
`ok` or the validator's messages at its "AA" level (what the online validator shows), and exits
1 when any file has an error or a warning.
"""
import os
import sys

src, root, base = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path.insert(0, src)
import feedvalidator  # noqa: E402
from feedvalidator import compatibility  # noqa: E402
from feedvalidator.formatter.text_plain import Formatter  # noqa: E402

failed = False
for path in sys.argv[4:]:
    with open(path, "rb") as f:
        data = f.read()
    url = base + os.path.relpath(path, root).replace(os.sep, "/")
    events = feedvalidator.validateString(data, firstOccurrenceOnly=0, base=url)["loggedEvents"]
    messages = Formatter(compatibility.AA(events))
    if messages:
        failed = True
        print(path, "\n  " + "\n  ".join(messages))
    else:
        print(path, "ok")
sys.exit(1 if failed else 0)
