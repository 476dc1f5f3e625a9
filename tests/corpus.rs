//! The shared corpus, read in place: every real and test-suite feed goes through `parse` and
//! `normalise` without a panic, and what we read agrees with what peer parsers' test suites
//! expect (feed-rs, feedparser, gofeed, rss-parser) and with feedparser's date vectors.
//!
//! All tests are `#[ignore]`d (CI runs them with `--ignored`) and skip with a note when
//! `../shared/corpus` is absent. Each prints a one-line figure (`--nocapture` shows it); set
//! `CORPUS_DETAIL=1` to also list every document or entry that did not agree. The floors are set
//! just below what the current code measures, so they catch regressions, not ambitions.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use chrono_tz::Tz;
use geultto_agg::normalise::{normalise, FeedMeta, Post};
use geultto_agg::parse::{charset_of_content_type, parse, parse_date, ParseError, ParsedFeed};
use serde_json::Value;

#[path = "corpus/feedparser_side.rs"]
mod feedparser_side;

/// `min_chars` handed to `normalise` (the club's usual rule; it only affects `chars`).
const MIN_CHARS: usize = 1000;

// ---------------------------------------------------------------------------------------------
// The corpus and its manifest.

fn corpus_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if dir.join("MANIFEST.tsv").is_file() {
        Some(dir)
    } else {
        eprintln!(
            "corpus: {} is absent; skipping the corpus test",
            dir.display()
        );
        None
    }
}

fn detail() -> bool {
    std::env::var_os("CORPUS_DETAIL").is_some_and(|v| v != "0")
}

/// One row of `MANIFEST.tsv`.
struct Row {
    file: String,
    format: String,
    notes: String,
}

impl Row {
    /// The corpus folder the file sits in (`feedparser-tests`, `gofeed-testdata`, …).
    fn folder(&self) -> &str {
        self.file.split('/').next().unwrap_or("")
    }

    /// Is this a feed document (not an expectation, an HTML page, a table or an OPML list)?
    fn is_feed_document(&self) -> bool {
        let kind = self.format.rsplit(" / ").next().unwrap_or("");
        let ext = self.file.rsplit('.').next().unwrap_or("");
        !(self.format.starts_with("expected-output")
            || matches!(kind, "HTML" | "tsv" | "OPML")
            || matches!(ext, "html" | "tsv" | "opml")
            || self.file.ends_with(".serde.json")
            || self.file.ends_with("_expected.json"))
    }

    /// Well-formed by the manifest (expat for XML, `json.loads` for JSON).
    fn well_formed(&self) -> bool {
        !self.notes.contains("NOT WELL-FORMED") && !self.notes.contains("INVALID JSON")
    }
}

fn manifest(dir: &Path) -> Vec<Row> {
    let text = std::fs::read_to_string(dir.join("MANIFEST.tsv")).expect("read MANIFEST.tsv");
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            (cols.len() >= 6).then(|| Row {
                file: cols[0].to_string(),
                format: cols[4].to_string(),
                notes: cols[5].to_string(),
            })
        })
        .collect()
}

fn feed_documents(dir: &Path, folder: &str) -> Vec<Row> {
    manifest(dir)
        .into_iter()
        .filter(|r| r.is_feed_document() && (folder.is_empty() || r.folder() == folder))
        .collect()
}

fn read_json(path: &Path) -> Option<Value> {
    let bytes = std::fs::read(path).ok()?;
    match serde_json::from_slice(&bytes) {
        Ok(v) => Some(v),
        // rss-parser's encoding.json is Latin-1: read it as such.
        Err(_) => {
            let latin1: String = bytes.iter().map(|&b| b as char).collect();
            serde_json::from_str(&latin1).ok()
        }
    }
}

fn pct(n: usize, d: usize) -> f64 {
    if d == 0 {
        100.0
    } else {
        100.0 * n as f64 / d as f64
    }
}

// ---------------------------------------------------------------------------------------------
// Running our stages.

/// Normalises each entry on its own so that posts stay aligned with the document's entries
/// (`normalise` drops later duplicates of a key, which would shift the indices).
fn posts_by_entry(parsed: &ParsedFeed, feed_url: &str) -> (FeedMeta, Vec<Post>) {
    let mut shell = parsed.feed.clone();
    shell.entries.clear();
    let single = |feed| ParsedFeed {
        feed,
        format: parsed.format,
        encoding: parsed.encoding,
        repairs: Vec::new(),
    };
    let (meta, _, _) = normalise(&single(shell.clone()), feed_url, MIN_CHARS);
    let posts = parsed
        .feed
        .entries
        .iter()
        .map(|entry| {
            let mut feed = shell.clone();
            feed.entries.push(entry.clone());
            let (_, mut posts, _) = normalise(&single(feed), feed_url, MIN_CHARS);
            posts.pop().expect("one entry in, one post out")
        })
        .collect();
    (meta, posts)
}

fn read_feed(
    bytes: &[u8],
    charset: Option<&str>,
    base: Option<&str>,
) -> Result<(FeedMeta, Vec<Post>), ParseError> {
    let parsed = parse(bytes, charset, base, chrono_tz::UTC)?;
    Ok(posts_by_entry(
        &parsed,
        base.unwrap_or("https://corpus.invalid/feed"),
    ))
}

// ---------------------------------------------------------------------------------------------
// Comparing titles and links.

/// Decodes the XML entities, `&nbsp;` and numeric references (the expectations are decoded
/// already; this evens out the few that keep an escaped form).
fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(p) = rest.find('&') {
        out.push_str(&rest[..p]);
        rest = &rest[p..];
        let end = rest.find(';').filter(|&e| e <= 10);
        let decoded = end.and_then(|e| {
            let name = &rest[1..e];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                _ => {
                    let num = name.strip_prefix('#')?;
                    let code = match num.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => num.parse().ok()?,
                    };
                    char::from_u32(code)
                }
            }?;
            Some((c, e + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

const BLOCK_ELEMENTS: &[&str] = &[
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "pre",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "tr",
    "td",
    "table",
    "blockquote",
    "figure",
    "figcaption",
    "section",
    "article",
    "hr",
    "script",
    "style",
];

/// Drops `<tag …>` (and `<!-- … -->`, `<script>…</script>`, `<style>…</style>` with content).
fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(p) = rest.find('<') {
        out.push_str(&rest[..p]);
        rest = &rest[p..];
        let next = rest[1..].chars().next();
        if !next.is_some_and(|c| c.is_ascii_alphabetic() || c == '/' || c == '!') {
            out.push('<');
            rest = &rest[1..];
            continue;
        }
        let lower = rest.get(..8).unwrap_or(rest).to_ascii_lowercase();
        let skip_to = if rest.starts_with("<!--") {
            rest.find("-->").map(|e| e + 3)
        } else if lower.starts_with("<script") || lower.starts_with("<style") {
            let close = if lower.starts_with("<script") {
                "</script"
            } else {
                "</style"
            };
            rest.to_ascii_lowercase()
                .find(close)
                .and_then(|e| rest[e..].find('>').map(|g| e + g + 1))
        } else {
            rest.find('>').map(|e| e + 1)
        };
        match skip_to {
            Some(e) => {
                // Block elements separate words, inline ones (`<b>`, `<sup>`) do not.
                let name: String = rest[1..e]
                    .trim_start_matches('/')
                    .chars()
                    .take_while(char::is_ascii_alphanumeric)
                    .collect::<String>()
                    .to_ascii_lowercase();
                if BLOCK_ELEMENTS.contains(&name.as_str()) {
                    out.push(' ');
                }
                rest = &rest[e..];
            }
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// A title as a reader sees it: entities decoded, markup dropped, whitespace collapsed. Applied
/// to both sides, since peers keep HTML titles as HTML and we keep plain text.
fn comparable_title(s: &str) -> String {
    let text = strip_tags(&decode_entities(s));
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn same_title(ours: &str, theirs: &str) -> bool {
    comparable_title(ours) == comparable_title(theirs)
}

/// A link for comparison: trimmed, scheme and host lower-cased, an empty path written `/` (as the
/// `url` crate behind feed-rs writes it).
fn comparable_link(link: &str) -> String {
    let link = link.trim();
    let Some((scheme, rest)) = link.split_once("://") else {
        return link.to_string();
    };
    let (authority, path) = rest
        .find(['/', '?', '#'])
        .map_or((rest, ""), |p| rest.split_at(p));
    let path = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    };
    format!(
        "{}://{}{path}",
        scheme.to_ascii_lowercase(),
        authority.to_ascii_lowercase()
    )
}

fn same_link(ours: Option<&str>, theirs: &str) -> bool {
    ours.is_some_and(|o| comparable_link(o) == comparable_link(theirs))
}

/// The links a peer's JSON accepts for a record: its `link` string and every string of `links`,
/// or else the alternate (or rel-less) `{href, rel}` objects of `links`. Empty: no expectation.
fn json_links(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v
        .get("link")
        .and_then(Value::as_str)
        .map(str::to_string)
        .into_iter()
        .collect();
    let links = v.get("links").and_then(Value::as_array);
    for l in links.into_iter().flatten() {
        match l {
            Value::String(s) => out.push(s.clone()),
            Value::Object(o) => {
                let alternate = o
                    .get("rel")
                    .and_then(Value::as_str)
                    .is_none_or(|r| r == "alternate");
                if let (true, Some(href)) = (alternate, o.get("href").and_then(Value::as_str)) {
                    out.push(href.to_string());
                }
            }
            _ => {}
        }
    }
    out
}

/// A peer's title: a string, or feed-rs's `{content}` text object.
fn json_title(v: &Value) -> Option<String> {
    match v.get("title")? {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("content").and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
}

/// Agreement tallies for one comparison test.
#[derive(Default)]
struct Tally {
    compared: usize,
    agreed: usize,
    misses: Vec<String>,
}

impl Tally {
    fn record(&mut self, agrees: bool, what: impl FnOnce() -> String) {
        self.compared += 1;
        if agrees {
            self.agreed += 1;
        } else {
            self.misses.push(what());
        }
    }

    fn rate(&self) -> f64 {
        pct(self.agreed, self.compared)
    }

    fn print_misses(&self) {
        if detail() {
            for m in &self.misses {
                eprintln!("  disagrees: {m}");
            }
        }
    }
}

/// Compares one peer record (item or feed) with ours: the title (when the peer gives one) and the
/// link (ours must be one of the peer's links, when it gives any) must agree.
fn compare_record(
    tally: &mut Tally,
    label: &str,
    expected: &Value,
    ours: Option<(&str, Option<&str>)>,
) {
    let title = json_title(expected);
    let links = json_links(expected);
    if title.is_none() && links.is_empty() {
        return;
    }
    let agrees = ours.is_some_and(|(our_title, our_link)| {
        title.as_deref().is_none_or(|t| same_title(our_title, t))
            && (links.is_empty() || links.iter().any(|l| same_link(our_link, l)))
    });
    tally.record(agrees, || {
        format!("{label}: expected title {title:?} links {links:?}, got {ours:?}")
    });
}

// ---------------------------------------------------------------------------------------------
// 1. Every document parses without a panic.

#[derive(Default)]
struct FolderCount {
    docs: usize,
    ok: usize,
    errors: usize,
    panics: usize,
    well_formed: usize,
    well_formed_ok: usize,
}

#[test]
#[ignore = "reads ../shared/corpus; run with --ignored"]
fn every_corpus_feed_parses_without_panic() {
    let Some(dir) = corpus_dir() else { return };
    let docs = feed_documents(&dir, "");
    assert!(
        docs.len() > 2500,
        "only {} feed documents listed",
        docs.len()
    );
    let mut folders: BTreeMap<String, FolderCount> = BTreeMap::new();
    let mut panics = Vec::new();
    let mut failed_well_formed = Vec::new();
    for row in &docs {
        let bytes = std::fs::read(dir.join(&row.file)).expect("read corpus file");
        let base = format!("https://corpus.invalid/{}", row.file);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let parsed = parse(&bytes, None, Some(&base), chrono_tz::Asia::Seoul)?;
            let (_, posts, _) = normalise(&parsed, &base, MIN_CHARS);
            Ok::<usize, ParseError>(posts.len())
        }));
        let count = folders.entry(row.folder().to_string()).or_default();
        count.docs += 1;
        count.well_formed += usize::from(row.well_formed());
        match outcome {
            Ok(Ok(_)) => {
                count.ok += 1;
                count.well_formed_ok += usize::from(row.well_formed());
            }
            Ok(Err(e)) => {
                count.errors += 1;
                if row.well_formed() {
                    failed_well_formed.push(format!("{} [{}]: {e}", row.file, row.format));
                }
            }
            Err(payload) => {
                count.panics += 1;
                let message = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                panics.push(format!("{}: {message}", row.file));
            }
        }
    }
    let mut total = FolderCount::default();
    for (folder, c) in &folders {
        eprintln!(
            "  {folder:<28} {:>4} docs {:>4} ok {:>4} parse errors {} panics; well-formed {}/{} ok",
            c.docs, c.ok, c.errors, c.panics, c.well_formed_ok, c.well_formed
        );
        total.docs += c.docs;
        total.ok += c.ok;
        total.errors += c.errors;
        total.panics += c.panics;
        total.well_formed += c.well_formed;
        total.well_formed_ok += c.well_formed_ok;
    }
    if detail() {
        for f in &failed_well_formed {
            eprintln!("  well-formed but not read: {f}");
        }
    }
    let wf_rate = pct(total.well_formed_ok, total.well_formed);
    eprintln!(
        "corpus: {}/{} parsed ({:.1}%), {} parse errors, {} panics; well-formed {}/{} parsed ({wf_rate:.1}%)",
        total.ok,
        total.docs,
        pct(total.ok, total.docs),
        total.errors,
        total.panics,
        total.well_formed_ok,
        total.well_formed,
    );
    assert!(panics.is_empty(), "panics:\n{}", panics.join("\n"));
    for folder in REAL_KOREAN_SNAPSHOTS {
        let c = folders
            .get(*folder)
            .expect("the real Korean snapshots are in the corpus");
        assert_eq!(
            c.ok, c.docs,
            "a real member-style feed in {folder}/ no longer parses"
        );
    }
    assert!(
        wf_rate >= WELL_FORMED_FLOOR,
        "only {wf_rate:.1}% of well-formed documents parse (floor {WELL_FORMED_FLOOR}%)"
    );
}

/// Measured 87.1% (2229/2560) on the current code. The misses are mostly Atom 0.3 (elements with
/// attributes keep their 0.3 names, MIME `type`s feed-rs refuses), `<rss>` without `<channel>`,
/// base64 Atom text constructs, CDF and JSON Feeds feed-rs finds too loose.
const WELL_FORMED_FLOOR: f64 = 96.5;

/// Folders of real Korean blog feeds (Tistory, Naver, WordPress, Hugo, Hexo, Gatsby, Jekyll,
/// Docusaurus): every document in them must parse.
const REAL_KOREAN_SNAPSHOTS: &[&str] = &[
    "korean-blog-extractor",
    "taetaetae.github.io",
    "teddygood.github.io",
    "kys9261.github.io",
    "jasonkang14.github.io",
    "jekyll-sites",
];

// ---------------------------------------------------------------------------------------------
// 2. feed-rs fixtures: entry titles and alternate links.

#[test]
#[ignore = "reads ../shared/corpus; run with --ignored"]
fn feed_rs_fixture_expectations_agree() {
    let Some(dir) = corpus_dir() else { return };
    let mut tally = Tally::default();
    let mut files = 0;
    for row in feed_documents(&dir, "feed-rs-fixtures") {
        let stem = row
            .file
            .strip_suffix(".xml")
            .or_else(|| row.file.strip_suffix(".json"))
            .unwrap_or(&row.file);
        let Some(expected) = read_json(&dir.join(format!("{stem}.serde.json"))) else {
            continue;
        };
        files += 1;
        let bytes = std::fs::read(dir.join(&row.file)).expect("read fixture");
        let ours = read_feed(&bytes, None, None);
        let entries = expected["entries"].as_array().cloned().unwrap_or_default();
        for (i, entry) in entries.iter().enumerate() {
            let post = ours.as_ref().ok().and_then(|(_, posts)| posts.get(i));
            compare_record(
                &mut tally,
                &format!("{}#{i}", row.file),
                entry,
                post.map(|p| (p.title.as_str(), p.link.as_deref())),
            );
        }
    }
    tally.print_misses();
    eprintln!(
        "feed-rs fixtures: {}/{} entries agree on title and link ({:.1}%) in {files} fixtures",
        tally.agreed,
        tally.compared,
        tally.rate()
    );
    assert!(files > 40, "only {files} feed-rs fixtures found");
    assert!(
        tally.rate() >= FEED_RS_FLOOR,
        "feed-rs agreement {:.1}% below the floor {FEED_RS_FLOOR}%",
        tally.rate()
    );
}

/// Measured 100.0% (96/96) on the current code: one disagreeing entry fails.
const FEED_RS_FLOOR: f64 = 99.0;

// ---------------------------------------------------------------------------------------------
// 3. feedparser's `Expect:` lines.

/// A token of the Python expressions in feedparser's `Expect:` lines.
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Str(String),
    Int(usize),
    Ident(String),
    Sym(&'static str),
}

/// Reads a Python string literal body starting after the opening quote; returns it and the
/// rest after the closing quote.
fn python_string(s: &str, quote: char) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        if c == quote {
            return Some((out, &s[i + 1..]));
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        let (_, e) = chars.next()?;
        let mut hex = |n: usize| -> Option<char> {
            let digits: String = (0..n)
                .filter_map(|_| chars.next().map(|(_, c)| c))
                .collect();
            char::from_u32(u32::from_str_radix(&digits, 16).ok()?)
        };
        match e {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            '\\' | '\'' | '"' => out.push(e),
            'x' => out.push(hex(2)?),
            'u' => out.push(hex(4)?),
            'U' => out.push(hex(8)?),
            other => {
                out.push('\\');
                out.push(other);
            }
        }
    }
    None
}

fn tokenize(expr: &str) -> Option<Vec<Tok>> {
    let mut toks = Vec::new();
    let mut rest = expr.trim();
    while let Some(c) = rest.chars().next() {
        if c.is_whitespace() {
            rest = rest.trim_start();
            continue;
        }
        // String literals, possibly u'' (a b'' bytes literal stays untranslated).
        let after = match rest.strip_prefix(['u', 'U']) {
            Some(a) if a.starts_with(['\'', '"']) => a,
            _ => rest,
        };
        if let Some(q) = after.chars().next().filter(|q| *q == '\'' || *q == '"') {
            let (s, r) = python_string(&after[1..], q)?;
            toks.push(Tok::Str(s));
            rest = r;
            continue;
        }
        if c.is_ascii_digit() {
            let end = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            toks.push(Tok::Int(rest[..end].parse().ok()?));
            rest = &rest[end..];
            continue;
        }
        if c.is_ascii_alphabetic() || c == '_' {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            toks.push(Tok::Ident(rest[..end].to_string()));
            rest = &rest[end..];
            continue;
        }
        let sym = ["==", "[", "]", ".", "+", "(", ")", ","]
            .into_iter()
            .find(|s| rest.starts_with(s))?;
        toks.push(Tok::Sym(sym));
        rest = &rest[sym.len()..];
    }
    Some(toks)
}

/// What an operand of a comparison refers to.
#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Literal(String),
    FeedTitle,
    FeedLink,
    EntryTitle(usize),
    EntryLink(usize),
    /// `published`, `created` (and their `_parsed` tuples): our published date.
    EntryPublished(usize),
    /// `updated` (and `updated_parsed`): our updated date.
    EntryUpdated(usize),
}

/// A translated expectation: alternatives (`or`) of conjunctions (`and`) of equality chains.
type Expectation = Vec<Vec<Vec<Operand>>>;

/// Parses the small part of Python the translatable expectations use:
/// `[not] bozo`, `feed['title'|'link']`, `feed.title`, `entries[N]['title'|'link']`,
/// `entries[N]['published'|'updated'|'created']` and their `_parsed` time tuples, string
/// literals (concatenated with `+`), `==` chains, `and`, `or`. Everything else is skipped:
/// other fields (`summary`, `content`, `author_detail`, `enclosures`, `tags`, …), nested
/// subscripts (`['links'][0]`), `len(…)`, `in`, `not` before a comparison, byte literals.
fn translate(expr: &str) -> Option<Expectation> {
    let toks = tokenize(expr)?;
    let mut pos = 0;
    let mut alternatives = Vec::new();
    let mut conjunction = Vec::new();
    loop {
        // One clause.
        let mut negated = false;
        if toks.get(pos) == Some(&Tok::Ident("not".into())) {
            negated = true;
            pos += 1;
        }
        if toks.get(pos) == Some(&Tok::Ident("bozo".into())) {
            pos += 1; // bozo-ness is not modelled: we repair instead.
        } else {
            if negated {
                return None;
            }
            let mut chain = vec![operand(&toks, &mut pos)?];
            while toks.get(pos) == Some(&Tok::Sym("==")) {
                pos += 1;
                chain.push(operand(&toks, &mut pos)?);
            }
            if chain.len() < 2 {
                return None;
            }
            conjunction.push(chain);
        }
        match toks.get(pos) {
            None => break,
            Some(Tok::Ident(w)) if w == "and" => pos += 1,
            Some(Tok::Ident(w)) if w == "or" => {
                alternatives.push(std::mem::take(&mut conjunction));
                pos += 1;
            }
            _ => return None,
        }
    }
    alternatives.push(conjunction);
    alternatives
        .iter()
        .any(|c| !c.is_empty())
        .then_some(alternatives)
}

fn operand(toks: &[Tok], pos: &mut usize) -> Option<Operand> {
    match toks.get(*pos)? {
        // A `time.struct_time` written as a tuple: its first six fields, as RFC 3339 UTC.
        Tok::Sym("(") => {
            let mut fields = Vec::new();
            *pos += 1;
            loop {
                match toks.get(*pos)? {
                    Tok::Int(n) => fields.push(*n),
                    Tok::Sym(",") => {}
                    Tok::Sym(")") => break,
                    _ => return None,
                }
                *pos += 1;
            }
            *pos += 1;
            let [y, mo, d, h, mi, sec, ..] = fields[..] else {
                return None;
            };
            Some(Operand::Literal(format!(
                "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{sec:02}Z"
            )))
        }
        Tok::Str(s) => {
            let mut value = s.clone();
            *pos += 1;
            while toks.get(*pos) == Some(&Tok::Sym("+")) {
                match toks.get(*pos + 1)? {
                    Tok::Str(more) => value.push_str(more),
                    _ => return None,
                }
                *pos += 2;
            }
            Some(Operand::Literal(value))
        }
        Tok::Ident(root) if root == "feed" || root == "entries" => {
            *pos += 1;
            let index = if root == "entries" {
                let (Tok::Sym("["), Tok::Int(n), Tok::Sym("]")) =
                    (toks.get(*pos)?, toks.get(*pos + 1)?, toks.get(*pos + 2)?)
                else {
                    return None;
                };
                *pos += 3;
                Some(*n)
            } else {
                None
            };
            let field = match (toks.get(*pos)?, toks.get(*pos + 1)?) {
                (Tok::Sym("."), Tok::Ident(f)) => {
                    *pos += 2;
                    f.clone()
                }
                (Tok::Sym("["), Tok::Str(f)) if toks.get(*pos + 2) == Some(&Tok::Sym("]")) => {
                    *pos += 3;
                    f.clone()
                }
                _ => return None,
            };
            // A further subscript (`['value']`, `[0]`) is a field we do not translate.
            if matches!(toks.get(*pos), Some(Tok::Sym("[" | "."))) {
                return None;
            }
            match (index, field.as_str()) {
                (None, "title") => Some(Operand::FeedTitle),
                (None, "link") => Some(Operand::FeedLink),
                (Some(n), "title") => Some(Operand::EntryTitle(n)),
                (Some(n), "link") => Some(Operand::EntryLink(n)),
                (Some(n), "published" | "published_parsed" | "created" | "created_parsed") => {
                    Some(Operand::EntryPublished(n))
                }
                (Some(n), "updated" | "updated_parsed") => Some(Operand::EntryUpdated(n)),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Evaluates a translated expectation against what we read (`None`: the parse failed).
fn holds(expectation: &Expectation, ours: Option<&(FeedMeta, Vec<Post>)>) -> bool {
    let Some((meta, posts)) = ours else {
        return false;
    };
    let value = |op: &Operand| -> Option<String> {
        match op {
            Operand::Literal(s) => Some(s.clone()),
            Operand::FeedTitle => Some(meta.title.clone()),
            Operand::FeedLink => meta.site_link.clone(),
            Operand::EntryTitle(n) => posts.get(*n).map(|p| p.title.clone()),
            Operand::EntryLink(n) => posts.get(*n).and_then(|p| p.link.clone()),
            Operand::EntryPublished(n) => posts.get(*n)?.published.map(|d| d.to_rfc3339()),
            Operand::EntryUpdated(n) => posts.get(*n)?.updated.map(|d| d.to_rfc3339()),
        }
    };
    expectation.iter().any(|conjunction| {
        conjunction.iter().all(|chain| {
            let is_title = chain
                .iter()
                .any(|o| matches!(o, Operand::FeedTitle | Operand::EntryTitle(_)));
            let is_date = chain
                .iter()
                .any(|o| matches!(o, Operand::EntryPublished(_) | Operand::EntryUpdated(_)));
            let values: Option<Vec<String>> = chain.iter().map(value).collect();
            values.is_some_and(|v| {
                v.windows(2).all(|w| {
                    if is_date {
                        let at = |s: &str| parse_date(s, chrono_tz::UTC);
                        at(&w[0]).is_some() && at(&w[0]) == at(&w[1])
                    } else if is_title {
                        same_title(&w[0], &w[1])
                    } else {
                        same_link(Some(&w[0]), &w[1])
                    }
                })
            })
        })
    })
}

/// The `Header:` and `Expect:` lines of a feedparser test (UTF-16/32 files: NULs dropped).
fn feedparser_comment(bytes: &[u8]) -> (Vec<String>, Option<String>) {
    let head: Vec<u8> = bytes
        .iter()
        .take(16_384)
        .copied()
        .filter(|b| *b != 0)
        .collect();
    let text = String::from_utf8_lossy(&head);
    let mut headers = Vec::new();
    let mut expect = None;
    for line in text.lines() {
        if let Some(h) = line.trim().strip_prefix("Header:") {
            headers.push(h.trim().to_string());
        }
        if expect.is_none() {
            if let Some(p) = line.find("Expect:") {
                let e = line[p + "Expect:".len()..].trim();
                let e = e.strip_suffix("\",").unwrap_or(e).trim();
                let e = e.strip_suffix("-->").unwrap_or(e).trim();
                expect = Some(e.to_string());
            }
        }
    }
    (headers, expect)
}

/// The document URI feedparser's test server gives a file, and the `Content-Type` its headers
/// set.
fn feedparser_request(file: &str, headers: &[String]) -> (String, Option<String>) {
    const HOST: &str = "http://127.0.0.1:8097";
    let rel = file.strip_prefix("feedparser-tests/").unwrap_or(file);
    let mut base = format!("{HOST}/tests/{rel}");
    let mut content_type = None;
    for h in headers {
        let Some((name, value)) = h.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "content-type" => content_type = Some(value.to_string()),
            "content-location" if value.starts_with('/') => base = format!("{HOST}{value}"),
            "content-location" if value.starts_with("http") => base = value.to_string(),
            _ => {}
        }
    }
    (base, content_type)
}

#[test]
#[ignore = "reads ../shared/corpus; run with --ignored"]
fn feedparser_expectations_agree() {
    let Some(dir) = corpus_dir() else { return };
    let mut tally = Tally::default();
    let mut with_expect = 0;
    for row in feed_documents(&dir, "feedparser-tests") {
        let bytes = std::fs::read(dir.join(&row.file)).expect("read feedparser test");
        let (headers, Some(expect)) = feedparser_comment(&bytes) else {
            continue;
        };
        with_expect += 1;
        let Some(expectation) = translate(&expect) else {
            continue;
        };
        let (base, content_type) = feedparser_request(&row.file, &headers);
        let charset = content_type.as_deref().and_then(charset_of_content_type);
        let ours = read_feed(&bytes, charset, Some(&base));
        let agrees = holds(&expectation, ours.as_ref().ok());
        tally.record(agrees, || {
            let got = match &ours {
                Ok((meta, posts)) => format!(
                    "feed title {:?} link {:?}; entries {:?}",
                    meta.title,
                    meta.site_link,
                    posts
                        .iter()
                        .take(2)
                        .map(|p| (&p.title, &p.link))
                        .collect::<Vec<_>>()
                ),
                Err(e) => format!("error: {e}"),
            };
            format!("{}: {expect} — got {got}", row.file)
        });
    }
    tally.print_misses();
    eprintln!(
        "feedparser: {}/{} translated expectations agree ({:.1}%); translated {} of {with_expect} Expect: lines",
        tally.agreed,
        tally.compared,
        tally.rate(),
        tally.compared
    );
    assert!(
        tally.compared > 300,
        "only {} expectations translated",
        tally.compared
    );
    assert!(
        tally.rate() >= FEEDPARSER_FLOOR,
        "feedparser agreement {:.1}% below the floor {FEEDPARSER_FLOOR}%",
        tally.rate()
    );
}

/// Measured 87.2% (383/439) on the current code. The misses: Atom 0.3 and Atom 1.0 text
/// constructs with MIME or base64 `type`s (feed not read, or base64 left encoded), titles with
/// naked inline markup cut at the first element, CDF, RSS 0.90, `dc:title` fallbacks, HTML4 vs
/// HTML5 code points for `&lang;`/`&rang;`.
const FEEDPARSER_FLOOR: f64 = 90.5;

#[test]
#[ignore = "a helper of the corpus tests; run with --ignored"]
fn feedparser_expectations_are_translated_as_python_reads_them() {
    use Operand::*;
    let t = |e: &str| translate(e);
    assert_eq!(
        t(r"not bozo and entries[0]['title'] == u'caf\xe9 \u2014 \'x\''"),
        Some(vec![vec![vec![
            EntryTitle(0),
            Literal("café — 'x'".into())
        ]]])
    );
    assert_eq!(
        t(r#"feed.link == "http://domain/?a=1&b=2""#),
        Some(vec![vec![vec![
            FeedLink,
            Literal("http://domain/?a=1&b=2".into())
        ]]])
    );
    assert_eq!(
        t("entries[0]['link'] == entries[1]['link'] == 'http://x/'"),
        Some(vec![vec![vec![
            EntryLink(0),
            EntryLink(1),
            Literal("http://x/".into())
        ]]])
    );
    assert_eq!(
        t("feed['title'] == 'a' + '-' + 'b' or feed['title'] == \"c\""),
        Some(vec![
            vec![vec![FeedTitle, Literal("a-b".into())]],
            vec![vec![FeedTitle, Literal("c".into())]]
        ])
    );
    for untranslatable in [
        "bozo",
        "not bozo and entries[0]['title_detail']['value'] == 'x'",
        "entries[0]['summary'] == 'x'",
        "len(entries) == 2",
        "not bozo and feed['title'] == 'x' and version == 'rss20'",
    ] {
        assert_eq!(t(untranslatable), None, "{untranslatable}");
    }
}

// ---------------------------------------------------------------------------------------------
// 4. gofeed and rss-parser expectations.

/// The expectation file next to a gofeed or rss-parser input.
fn peer_expectation(file: &str) -> Option<String> {
    if let Some(rest) = file.strip_prefix("rss-parser-tests/input/") {
        let stem = rest.rsplit_once('.').map_or(rest, |(s, _)| s);
        return Some(format!("rss-parser-tests/output/{stem}.json"));
    }
    if file.starts_with("gofeed-testdata/parser/json/") {
        let stem = file.strip_suffix(".json")?;
        return Some(format!("{stem}_expected.json"));
    }
    if file.starts_with("gofeed-testdata/") && !file.contains("/universal/") {
        let stem = file.strip_suffix(".xml")?;
        return Some(format!("{stem}.json"));
    }
    None
}

#[test]
#[ignore = "reads ../shared/corpus; run with --ignored"]
fn gofeed_and_rss_parser_expectations_agree() {
    let Some(dir) = corpus_dir() else { return };
    let mut tallies: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut files = 0;
    let docs = [
        feed_documents(&dir, "gofeed-testdata"),
        feed_documents(&dir, "rss-parser-tests"),
    ];
    for row in docs.iter().flatten() {
        let Some(expected) = peer_expectation(&row.file)
            .filter(|e| *e != row.file)
            .and_then(|e| read_json(&dir.join(e)))
        else {
            continue;
        };
        files += 1;
        let suite = if row.folder() == "gofeed-testdata" {
            "gofeed"
        } else {
            "rss-parser"
        };
        let tally = tallies.entry(suite).or_default();
        let bytes = std::fs::read(dir.join(&row.file)).expect("read peer test");
        let ours = read_feed(&bytes, None, None).ok();
        let feed = expected.get("feed").unwrap_or(&expected);
        compare_record(
            tally,
            &format!("{} (feed)", row.file),
            feed,
            ours.as_ref()
                .map(|(m, _)| (m.title.as_str(), m.site_link.as_deref())),
        );
        let items = feed
            .get("items")
            .or_else(|| feed.get("entries"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for (i, item) in items.iter().enumerate() {
            let post = ours.as_ref().and_then(|(_, posts)| posts.get(i));
            compare_record(
                tally,
                &format!("{}#{i}", row.file),
                item,
                post.map(|p| (p.title.as_str(), p.link.as_deref())),
            );
        }
    }
    let mut all = Tally::default();
    for (suite, tally) in &tallies {
        tally.print_misses();
        eprintln!(
            "  {suite}: {}/{} records agree ({:.1}%)",
            tally.agreed,
            tally.compared,
            tally.rate()
        );
        all.compared += tally.compared;
        all.agreed += tally.agreed;
    }
    eprintln!(
        "gofeed+rss-parser: {}/{} feed and item records agree on title and link ({:.1}%) in {files} files",
        all.agreed,
        all.compared,
        all.rate()
    );
    assert!(files > 100, "only {files} gofeed/rss-parser pairs found");
    assert!(
        all.rate() >= PEERS_FLOOR,
        "gofeed/rss-parser agreement {:.1}% below the floor {PEERS_FLOOR}%",
        all.rate()
    );
}

/// Measured 97.4% (1365/1401) on the current code (gofeed 100/136, rss-parser 1265/1265). The
/// misses: the same Atom 0.3 / base64 / naked-markup cases, RSS 1.0 items without `<link>`
/// (feed-rs drops them), `dc:title` fallbacks and atom:link-only RSS channels.
const PEERS_FLOOR: f64 = 97.5;

// ---------------------------------------------------------------------------------------------
// 5. feedparser's date vectors.

#[test]
#[ignore = "reads ../shared/corpus; run with --ignored"]
fn date_vectors_parse() {
    let Some(dir) = corpus_dir() else { return };
    let path = dir.join("feedparser-tests/derived/date-vectors.tsv");
    let text = std::fs::read_to_string(&path).expect("read date-vectors.tsv");
    let (mut dated, mut agreed, mut undated, mut undated_parsed) = (0, 0, 0, 0);
    let mut wrong = Vec::new();
    let mut missed = Vec::new();
    let mut panics = Vec::new();
    for line in text.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let [parser, input, expected, ..] = cols[..] else {
            continue;
        };
        let tz: Tz = if parser.ends_with("_nate") || parser.ends_with("_onblog") {
            chrono_tz::Asia::Seoul
        } else {
            chrono_tz::UTC
        };
        if expected == "None" {
            undated += 1;
        } else {
            dated += 1;
        }
        let ours = match catch_unwind(|| parse_date(input, tz)) {
            Ok(d) => d.map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
            Err(_) => {
                panics.push(format!("{parser} {input:?}"));
                continue;
            }
        };
        if expected == "None" {
            if let Some(got) = ours {
                undated_parsed += 1;
                if detail() {
                    eprintln!("  {parser} {input:?}: expected none, got {got}");
                }
            }
            continue;
        }
        match ours {
            Some(got) if got == expected => agreed += 1,
            Some(got) => wrong.push(format!(
                "{parser} {input:?}: expected {expected}, got {got}"
            )),
            None => missed.push(format!("{parser} {input:?}: expected {expected}, got none")),
        }
    }
    if detail() {
        for m in wrong.iter().chain(&missed) {
            eprintln!("  {m}");
        }
    }
    let rate = pct(agreed, dated);
    eprintln!(
        "dates: {agreed}/{dated} parsed as expected ({rate:.1}%), {} wrong, {} missed, {} panics; {undated_parsed}/{undated} expected-none inputs parsed anyway",
        wrong.len(),
        missed.len(),
        panics.len()
    );
    assert!(
        panics.is_empty(),
        "parse_date panicked on:\n{}",
        panics.join("\n")
    );
    assert!(
        wrong.is_empty(),
        "dates read as the wrong instant:\n{}",
        wrong.join("\n")
    );
    assert!(
        rate >= DATES_FLOOR,
        "date agreement {rate:.1}% below the floor {DATES_FLOOR}%"
    );
}

/// Measured 84.8% (39/46) on the current code (the Greek vector panics; Hungarian months, ISO
/// ordinal/compact forms and a bare year are not read).
const DATES_FLOOR: f64 = 86.5;

/// The length html5ever's tree gives an HTML fragment (the walk `normalise` used before its
/// one-pass reader): text outside script/style/template/noscript/head/title and outside
/// `<pre>`/`<code>`, without whitespace and control characters.
fn html5ever_chars(html: &str) -> usize {
    use scraper::node::Node;
    fn walk(node: ego_tree::NodeRef<'_, Node>, in_code: bool, chars: &mut usize) {
        for child in node.children() {
            match child.value() {
                Node::Text(t) if !in_code => {
                    *chars += t
                        .chars()
                        .filter(|c| !c.is_whitespace() && !geultto_agg::parse::is_control(*c))
                        .count();
                }
                Node::Element(e) => {
                    let name = e.name();
                    if matches!(
                        name,
                        "script" | "style" | "template" | "noscript" | "head" | "title"
                    ) {
                        continue;
                    }
                    walk(child, in_code || matches!(name, "pre" | "code"), chars);
                }
                _ => walk(child, in_code, chars),
            }
        }
    }
    let mut chars = 0;
    walk(
        scraper::Html::parse_fragment(html).tree.root(),
        false,
        &mut chars,
    );
    chars
}

#[test]
#[ignore = "reads ../shared/corpus; run with --ignored"]
fn post_lengths_agree_with_html5ever_on_corpus_entries() {
    let Some(dir) = corpus_dir() else { return };
    let (mut texts, mut off, mut examples) = (0usize, 0usize, Vec::new());
    for row in feed_documents(&dir, "") {
        let Ok(bytes) = std::fs::read(dir.join(&row.file)) else {
            continue;
        };
        let Ok(parsed) = parse(&bytes, None, None, chrono_tz::Asia::Seoul) else {
            continue;
        };
        for entry in &parsed.feed.entries {
            let bodies = [
                entry.content.as_ref().and_then(|c| c.body.clone()),
                entry.summary.as_ref().map(|s| s.content.clone()),
            ];
            for html in bodies.into_iter().flatten() {
                texts += 1;
                let (ours, reference) = (
                    geultto_agg::normalise::html_text(&html).chars,
                    html5ever_chars(&html),
                );
                if ours != reference {
                    off += 1;
                    if examples.len() < 5 {
                        examples.push(format!("{}: ours {ours}, html5ever {reference}", row.file));
                    }
                }
            }
        }
    }
    eprintln!("{texts} entry texts, {off} with another length than html5ever's: {examples:#?}");
    assert!(texts > 3000, "only {texts} texts");
    // Known difference: a numeric reference to a C1 code point (`&#150;`) is a Windows-1252
    // character to a browser and a control character to us (one text in the corpus).
    assert!(
        off * 1000 <= texts,
        "{off} of {texts} differ: {examples:#?}"
    );
}

// ---------------------------------------------------------------------------------------------
// The plain RSS reader against feed-rs.

/// A corpus document as the readers get it: UTF-8 (lossy), without a BOM, leading blanks or
/// its XML declaration.
fn reader_text(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    let text = match text.strip_prefix("<?xml") {
        Some(rest) => rest.find("?>").map_or(text, |end| &rest[end + 2..]),
        None => text,
    };
    text.to_string()
}

#[test]
#[ignore = "reads ../shared/corpus; run with --ignored"]
fn the_plain_reader_reads_every_corpus_feed_it_takes_as_feed_rs_does() {
    use geultto_agg::parse::{plain, read_with_feed_rs};
    let Some(dir) = corpus_dir() else { return };
    let docs = feed_documents(&dir, "");
    let (mut taken, mut plain_kinds, mut differ) = (0, 0, Vec::new());
    for row in &docs {
        let bytes = std::fs::read(dir.join(&row.file)).expect("read corpus file");
        let text = reader_text(&bytes);
        let base = format!("https://corpus.invalid/{}", row.file);
        for base in [Some(base.as_str()), None] {
            let theirs = read_with_feed_rs(&text, base, chrono_tz::Asia::Seoul);
            if theirs.as_ref().is_ok_and(|f| {
                matches!(
                    f.feed_type,
                    feed_rs::model::FeedType::RSS2 | feed_rs::model::FeedType::Atom
                )
            }) {
                plain_kinds += 1;
            }
            let Some(ours) = plain::read(&text, base, chrono_tz::Asia::Seoul) else {
                continue;
            };
            taken += 1;
            match theirs {
                Ok(theirs) if theirs == ours => {}
                Ok(theirs) => {
                    let at = ours
                        .entries
                        .iter()
                        .zip(&theirs.entries)
                        .position(|(a, b)| a != b);
                    let shown = at.map_or_else(
                        || format!("feed: {:?} vs {:?}", ours.title, theirs.title),
                        |i| {
                            format!(
                                "entry {i}: {:?}\n vs {:?}",
                                ours.entries[i], theirs.entries[i]
                            )
                        },
                    );
                    differ.push(format!("{} (base {base:?}): {shown}", row.file));
                }
                Err(e) => differ.push(format!("{}: feed-rs fails ({e}), we read it", row.file)),
            }
        }
    }
    eprintln!(
        "plain reader: took {taken} readings of {} (feed-rs read {plain_kinds} as RSS 2.0 or Atom); {} differ",
        docs.len() * 2,
        differ.len()
    );
    assert!(
        differ.is_empty(),
        "{} differ: {:#?}",
        differ.len(),
        &differ[..differ.len().min(8)]
    );
    // It must take a real share of the RSS 2.0 and Atom documents, or it buys nothing.
    assert!(
        taken * 2 > plain_kinds,
        "took only {taken} of {plain_kinds} RSS 2.0 and Atom readings"
    );
}
