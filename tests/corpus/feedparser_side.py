"""What Python's feedparser reads in each corpus file, for the side-by-side corpus test.

Reads a JSON list of {"path", "content_type", "base"} on stdin and writes, for each, a JSON
object on one line: {"path", "bozo", "version", "entries": [{"link", "id", "guidislink", "comments",
"date", "title"}]}, "date" being published (or else updated) as RFC 3339 UTC. Run by
`tests/corpus/feedparser_side.rs`, never by hand.
"""

import calendar
import datetime
import json
import sys
import warnings

import feedparser

warnings.filterwarnings("ignore")


def when(entry):
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                stamp = calendar.timegm(value)
                moment = datetime.datetime.fromtimestamp(stamp, datetime.timezone.utc)
                return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
            except (OverflowError, ValueError, OSError):
                return None
    return None


def read(job):
    with open(job["path"], "rb") as f:
        data = f.read()
    headers = {}
    if job.get("content_type"):
        headers["content-type"] = job["content_type"]
    if job.get("base"):
        headers["content-location"] = job["base"]
    try:
        parsed = feedparser.parse(data, response_headers=headers)
    except Exception as e:  # feedparser raises on very little; record it as a failure
        return {"path": job["path"], "bozo": True, "error": repr(e), "entries": []}
    entries = []
    for e in parsed.entries:
        entries.append(
            {
                "link": e.get("link"),
                "id": e.get("id"),
                "guidislink": bool(e.get("guidislink")),
                "comments": e.get("comments"),
                "date": when(e),
                "title": e.get("title"),
            }
        )
    return {
        "path": job["path"],
        "bozo": bool(parsed.get("bozo")),
        "version": parsed.get("version") or "",
        "entries": entries,
    }


def main():
    jobs = json.load(sys.stdin)
    out = sys.stdout
    for job in jobs:
        out.write(json.dumps(read(job), ensure_ascii=False))
        out.write("\n")


if __name__ == "__main__":
    main()
