//! Checks of a merged feed against the MUSTs of RFC 4287 (and the W3C validator's warnings we
//! know of), plus a read by Python's feedparser when it is installed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::path::Path;

use atom_syndication::Feed;

pub fn is_rfc3339(s: &str) -> bool {
    // YYYY-MM-DDTHH:MM:SS(.f)?(Z|±HH:MM), upper-case T and Z, seconds and zone required.
    let b = s.as_bytes();
    if b.len() < 20 {
        return false;
    }
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    let base = digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        rest = &frac[n..];
    }
    base && (rest == "Z"
        || (rest.len() == 6
            && (rest.starts_with('+') || rest.starts_with('-'))
            && &rest[3..4] == ":"))
        && chrono::DateTime::parse_from_rfc3339(s).is_ok()
}

fn is_absolute_iri(s: &str) -> bool {
    s == s.trim()
        && !s.is_empty()
        && s.is_ascii()
        && !s.contains(char::is_whitespace)
        && url::Url::parse(s).is_ok()
}

pub fn is_tag_uri(s: &str) -> bool {
    // tag:authority,YYYY[-MM[-DD]]:specific
    let Some(rest) = s.strip_prefix("tag:") else {
        return false;
    };
    let Some((authority, rest)) = rest.split_once(',') else {
        return false;
    };
    let Some((date, specific)) = rest.split_once(':') else {
        return false;
    };
    authority
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
        && matches!(date.len(), 4 | 7 | 10)
        && date.chars().all(|c| c.is_ascii_digit() || c == '-')
        && !specific.is_empty()
        && specific
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ";/?:@&=+$.-_!~*'()%,".contains(c))
}

/// Every violation found, in words; empty when the feed conforms.
pub fn violations(bytes: &[u8]) -> Vec<String> {
    let mut v = Vec::new();
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => return vec![format!("not UTF-8: {e}")],
    };
    if let Some(c) = text
        .chars()
        .find(|c| (c.is_control() && !matches!(c, '\t' | '\n' | '\r')) || *c == '\u{fffd}')
    {
        v.push(format!(
            "control or replacement character U+{:04X} in the document",
            c as u32
        ));
    }
    if !text.starts_with("<?xml version=\"1.0\"") {
        v.push("no XML 1.0 declaration".into());
    }
    let feed = match Feed::read_from(bytes) {
        Ok(f) => f,
        Err(e) => {
            return vec![format!(
                "not an Atom document atom_syndication can read: {e}"
            )]
        }
    };
    if !is_absolute_iri(&feed.id) {
        v.push(format!(
            "feed id {:?} is not an absolute IRI (4.2.6)",
            feed.id
        ));
    }
    if feed.title.value.trim().is_empty() {
        v.push("feed has no title (4.1.1)".into());
    }
    let self_links: Vec<_> = feed.links.iter().filter(|l| l.rel == "self").collect();
    if self_links.len() != 1 || !is_absolute_iri(&self_links[0].href) {
        v.push("feed needs exactly one absolute rel=self link (validator: MissingSelf)".into());
    }
    let mut alternates = HashSet::new();
    for l in feed.links.iter().filter(|l| l.rel == "alternate") {
        if !alternates.insert((l.mime_type.clone(), l.hreflang.clone())) {
            v.push("feed has two alternate links with the same type and hreflang (4.1.1)".into());
        }
    }
    let mut ids = HashSet::new();
    let mut updated = HashSet::new();
    for (i, e) in feed.entries.iter().enumerate() {
        let who = format!("entry {i} ({})", e.id);
        if !is_absolute_iri(&e.id) || (e.id.starts_with("tag:") && !is_tag_uri(&e.id)) {
            v.push(format!(
                "{who}: id is not an absolute IRI / valid tag URI (4.2.6)"
            ));
        }
        if !ids.insert(e.id.clone()) {
            v.push(format!("{who}: duplicate id"));
        }
        if !updated.insert(e.updated) {
            v.push(format!(
                "{who}: same updated as another entry (validator: DuplicateUpdated)"
            ));
        }
        if e.title.value.trim().is_empty() {
            v.push(format!("{who}: no title (4.1.2)"));
        }
        if e.authors.is_empty()
            && feed.authors.is_empty()
            && e.source.as_ref().is_none_or(|s| s.authors.is_empty())
        {
            v.push(format!("{who}: no author and the feed has none (4.1.1)"));
        }
        for a in &e.authors {
            if a.name.trim().is_empty() {
                v.push(format!("{who}: author without name (3.2.1)"));
            }
            if let Some(uri) = &a.uri {
                if !is_absolute_iri(uri) {
                    v.push(format!("{who}: author uri {uri:?} is not an IRI"));
                }
            }
        }
        let entry_alternates: Vec<_> = e.links.iter().filter(|l| l.rel == "alternate").collect();
        if e.content.is_none() && entry_alternates.is_empty() {
            v.push(format!("{who}: no content and no alternate link (4.1.2)"));
        }
        let mut seen = HashSet::new();
        for l in &entry_alternates {
            if !seen.insert((l.mime_type.clone(), l.hreflang.clone())) {
                v.push(format!(
                    "{who}: two alternate links with the same type and hreflang (4.1.2)"
                ));
            }
        }
        for l in &e.links {
            if !is_absolute_iri(&l.href) {
                v.push(format!(
                    "{who}: link href {:?} is not an absolute ASCII IRI",
                    l.href
                ));
            }
        }
        if e.summary.is_none() && e.content.is_none() {
            v.push(format!(
                "{who}: neither summary nor content (validator: MissingTextualContent)"
            ));
        }
        if let Some(c) = &e.content {
            if c.src.is_some() && e.summary.is_none() {
                v.push(format!("{who}: content with src needs a summary (4.1.2)"));
            }
            for bad in super::html_check::executable_forms(c.value.as_deref().unwrap_or("")) {
                v.push(format!("{who}: content carries {bad}"));
            }
        }
        for t in [&e.summary, &Some(e.title.clone())].into_iter().flatten() {
            if t.value.contains("</") {
                v.push(format!(
                    "{who}: text construct contains markup (validator: ContainsUndeclaredHTML)"
                ));
            }
        }
        match &e.source {
            None => v.push(format!("{who}: no atom:source")),
            Some(s) => {
                if !is_absolute_iri(&s.id) || s.title.value.trim().is_empty() {
                    v.push(format!(
                        "{who}: source needs an id IRI and a title (4.2.11)"
                    ));
                }
            }
        }
    }
    // Dates as written (atom_syndication re-parses leniently).
    for tag in ["updated", "published"] {
        let open = format!("<{tag}>");
        let close = format!("</{tag}>");
        let mut rest = text;
        while let Some(p) = rest.find(&open) {
            rest = &rest[p + open.len()..];
            let end = rest.find(&close).unwrap_or(0);
            let value = &rest[..end];
            if !is_rfc3339(value) {
                v.push(format!(
                    "<{tag}> {value:?} is not an RFC 3339 date-time (3.3)"
                ));
            }
            if value < "1990" {
                v.push(format!(
                    "<{tag}> {value:?} is implausible (validator: ImplausibleDate)"
                ));
            }
        }
    }
    v
}

/// Asserts the file conforms, and that feedparser (when installed; required on CI) reads it with
/// `bozo = 0` and the same number of entries.
pub fn assert_conforms(path: &Path) {
    let bytes = std::fs::read(path).unwrap();
    let v = violations(&bytes);
    assert!(
        v.is_empty(),
        "{} violates RFC 4287:\n  {}",
        path.display(),
        v.join("\n  ")
    );
    let entries = Feed::read_from(&bytes[..]).unwrap().entries.len();
    feedparser_reads(path, entries);
}

/// Python's feedparser reads the file without `bozo` and finds `entries` entries.
pub fn feedparser_reads(path: &Path, entries: usize) {
    let script = "import sys, feedparser\nd = feedparser.parse(sys.argv[1])\nprint(int(d.bozo), len(d.entries), repr(d.get('bozo_exception')))";
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(path)
        .output();
    let available = out.as_ref().is_ok_and(|o| o.status.success());
    if !available {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true");
        assert!(
            !ci,
            "feedparser is required on CI (.ci/run installs it): {out:?}"
        );
        eprintln!(
            "note: python3 feedparser not installed; skipped its check (pip install feedparser)"
        );
        return;
    }
    let out = out.unwrap();
    let line = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert_eq!(
        line,
        format!("0 {entries} None"),
        "feedparser: bozo, entries, exception = {line}"
    );
}

/// The W3C Feed Validation Service's own code finds no error and no warning in `files`, each
/// validated as if served at `base` + its path below `root` (so `rel="self"` is checked too).
/// It runs when `GEULTTO_FEEDVALIDATOR` names the `src` folder of a checkout of
/// github.com/w3c/feedvalidator (with `GEULTTO_FEEDVALIDATOR_PYTHON`, default `python3`, a
/// Python that has html5lib and rdflib); without it the check is skipped with a note.
pub fn w3c_validates(root: &Path, base: &str, files: &[std::path::PathBuf]) {
    let Ok(src) = std::env::var("GEULTTO_FEEDVALIDATOR") else {
        eprintln!("note: GEULTTO_FEEDVALIDATOR not set; skipped the W3C feed validator");
        return;
    };
    let python =
        std::env::var("GEULTTO_FEEDVALIDATOR_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/common/w3c_feedvalidator.py");
    let out = std::process::Command::new(python)
        .arg(script)
        .arg(src)
        .arg(root)
        .arg(base)
        .args(files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the W3C feed validator:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
