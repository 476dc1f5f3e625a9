//! Side by side with Python's feedparser: every feed document of the corpus is read by
//! feedparser (`feedparser_side.py`) and by us, and per file we compare the entry counts, the
//! dates of paired entries, titles we garble (U+FFFD) where feedparser does not, and whether a link we would publish is a non-permalink guid or a
//! comments page. Every known, justified disagreement is listed with its reason in
//! `feedparser-baseline.tsv`; a new one fails the test, and so does a listed one that no longer
//! happens (the list stays exact). `CORPUS_BASELINE_WRITE=1` prints the table as it stands now,
//! reasons left blank, to start a new baseline from; `CORPUS_DETAIL=1` prints the figures by
//! suite.
//!
//! feedparser 6 does not read JSON Feed: a JSON Feed document is compared with a plain reader
//! of the JSON Feed spec instead (its `items`, `url` as the link, `date_published` or else
//! `date_modified` as the date).

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

use geultto_agg::normalise::{normalise, Post};
use geultto_agg::parse::parse;
use serde_json::{json, Value};

use super::{
    comparable_link, corpus_dir, feed_documents, feedparser_comment, feedparser_request, MIN_CHARS,
};

/// A document and what feedparser's test server would say of it.
struct Job {
    file: String,
    content_type: Option<String>,
    base: String,
}

/// feedparser's reading of one entry.
struct Theirs {
    link: Option<String>,
    id: Option<String>,
    guid_is_link: bool,
    comments: Option<String>,
    date: Option<String>,
    title: Option<String>,
    /// RSS 1.0, where the item's `rdf:about` is its address (feedparser calls it the id; the
    /// RSS 1.0 spec says it should be the item's `<link>`).
    rdf: bool,
}

/// Is this manifest row a JSON document (JSON Feed, or JSON that claims to be one)?
fn is_json(row: &super::Row) -> bool {
    row.file.ends_with(".json") || row.format.contains("JSON Feed")
}

/// A plain reader of the JSON Feed spec: the document's `items`; `None` for JSON that is not a
/// feed at all (no `items` array).
fn json_feed(dir: &std::path::Path, file: &str) -> Option<Vec<Theirs>> {
    let v = super::read_json(&dir.join(file))?;
    let items = v.get("items")?.as_array()?;
    let s = |i: &Value, k: &str| i.get(k).and_then(Value::as_str).map(str::to_string);
    Some(
        items
            .iter()
            .filter(|i| i.is_object())
            .map(|i| Theirs {
                link: s(i, "url"),
                id: None,
                guid_is_link: true,
                comments: None,
                date: s(i, "date_published")
                    .or_else(|| s(i, "date_modified"))
                    .and_then(|d| super::parse_date(&d, chrono_tz::UTC))
                    .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
                title: s(i, "title"),
                rdf: false,
            })
            .collect(),
    )
}

fn jobs(dir: &std::path::Path) -> Vec<Job> {
    feed_documents(dir, "")
        .into_iter()
        .filter(|row| !is_json(row))
        .map(|row| {
            let (mut base, mut content_type) =
                (format!("https://corpus.invalid/{}", row.file), None);
            if row.folder() == "feedparser-tests" {
                let bytes = std::fs::read(dir.join(&row.file)).expect("read corpus file");
                let (headers, _) = feedparser_comment(&bytes);
                (base, content_type) = feedparser_request(&row.file, &headers);
            }
            Job {
                file: row.file,
                content_type,
                base,
            }
        })
        .collect()
}

/// Runs feedparser over every job at once; `None` when Python or feedparser is missing.
fn feedparser(dir: &std::path::Path, jobs: &[Job]) -> Option<BTreeMap<String, Vec<Theirs>>> {
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/feedparser_side.py");
    let input: Vec<Value> = jobs
        .iter()
        .map(|j| json!({"path": dir.join(&j.file), "content_type": j.content_type, "base": j.base}))
        .collect();
    let mut child = Command::new("python3")
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take()?;
    let body = serde_json::to_vec(&input).ok()?;
    let writer = std::thread::spawn(move || stdin.write_all(&body));
    let out = child.wait_with_output().ok()?;
    writer.join().ok()?.ok()?;
    if !out.status.success() {
        return None;
    }
    let mut by_path = BTreeMap::new();
    for (line, job) in String::from_utf8_lossy(&out.stdout).lines().zip(jobs) {
        let v: Value = serde_json::from_str(line).expect("feedparser_side.py prints JSON lines");
        let s = |e: &Value, k: &str| e.get(k).and_then(Value::as_str).map(str::to_string);
        let rdf = v["version"].as_str() == Some("rss10");
        let entries = v["entries"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| Theirs {
                link: s(e, "link"),
                id: s(e, "id"),
                guid_is_link: e["guidislink"].as_bool().unwrap_or(false),
                comments: s(e, "comments"),
                date: s(e, "date"),
                title: s(e, "title"),
                rdf,
            })
            .collect();
        by_path.insert(job.file.clone(), entries);
    }
    Some(by_path)
}

/// What a member would get from the document: the posts `normalise` keeps.
fn ours(dir: &std::path::Path, job: &Job) -> Option<Vec<Post>> {
    let bytes = std::fs::read(dir.join(&job.file)).expect("read corpus file");
    let charset = job
        .content_type
        .as_deref()
        .and_then(geultto_agg::parse::charset_of_content_type);
    let parsed = parse(&bytes, charset, Some(&job.base), chrono_tz::UTC).ok()?;
    Some(normalise(&parsed, &job.base, MIN_CHARS).1)
}

/// A link of ours that is the entry's comments page or a guid feedparser would not take as a
/// link (while feedparser found the post's own link elsewhere, or none).
fn wrong_link(post: &Post, theirs: &Theirs) -> Option<&'static str> {
    let link = comparable_link(post.link.as_deref()?);
    let same = |o: &Option<String>| o.as_deref().map(comparable_link) == Some(link.clone());
    if same(&theirs.link) {
        return None;
    }
    if same(&theirs.comments) {
        return Some("comments");
    }
    (same(&theirs.id) && !theirs.guid_is_link && !theirs.rdf).then_some("guid")
}

/// The disagreements of one file, as baseline keys (`none 0/5`, `fewer 3/5`, `date 2`,
/// `garbled 4`, `link guid`).
fn disagreements(ours: Option<&[Post]>, theirs: &[Theirs]) -> Vec<String> {
    let mut out = Vec::new();
    let n = ours.map_or(0, <[Post]>::len);
    if theirs.is_empty() {
        return out;
    }
    if n == 0 {
        out.push(format!("none 0/{}", theirs.len()));
        return out;
    }
    if n < theirs.len() {
        out.push(format!("fewer {n}/{}", theirs.len()));
    }
    let ours = ours.unwrap_or_default();
    let pairs: Vec<(&Post, &Theirs)> = if n == theirs.len() {
        ours.iter().zip(theirs).collect()
    } else {
        theirs
            .iter()
            .filter_map(|t| {
                let l = t.link.as_deref().map(comparable_link)?;
                let p = ours
                    .iter()
                    .find(|p| p.link.as_deref().map(comparable_link) == Some(l.clone()))?;
                Some((p, t))
            })
            .collect()
    };
    let missed_dates = pairs
        .iter()
        .filter(|(p, t)| t.date.is_some() && p.published.or(p.updated).is_none())
        .count();
    if missed_dates > 0 {
        out.push(format!("date {missed_dates}"));
    }
    let garbled = pairs
        .iter()
        .filter(|(p, t)| {
            p.title.contains('\u{fffd}') && !t.title.as_deref().unwrap_or("").contains('\u{fffd}')
        })
        .count();
    if garbled > 0 {
        out.push(format!("garbled {garbled}"));
    }
    let mut wrong: Vec<&str> = pairs.iter().filter_map(|(p, t)| wrong_link(p, t)).collect();
    wrong.dedup();
    out.extend(wrong.into_iter().map(|w| format!("link {w}")));
    out
}

/// The corpus folders of real member blogs of the club (Korean text, GitHub Pages, Tistory,
/// Velog and the like): here we must agree with feedparser on every entry, not only in count.
const MEMBER_BLOGS: [&str; 6] = [
    "jasonkang14.github.io",
    "jekyll-sites",
    "korean-blog-extractor",
    "kys9261.github.io",
    "taetaetae.github.io",
    "teddygood.github.io",
];

/// Every way an entry of ours differs from feedparser's on a member blog: count, link, date
/// (to the second) or title (markup and spacing aside).
fn strict_differences(file: &str, ours: Option<&[Post]>, theirs: &[Theirs]) -> Vec<String> {
    let ours = ours.unwrap_or_default();
    if ours.len() != theirs.len() {
        return vec![format!(
            "{file}: {} entries, feedparser {}",
            ours.len(),
            theirs.len()
        )];
    }
    let mut out = Vec::new();
    for (i, (p, t)) in ours.iter().zip(theirs).enumerate() {
        // A space in a link is the address with `%20` (feedparser leaves it as written).
        let link = p.link.as_deref().map(comparable_link);
        let their_link = t
            .link
            .as_deref()
            .map(|l| comparable_link(&l.replace(' ', "%20")));
        if link != their_link {
            out.push(format!("{file} #{i}: link {link:?} vs {:?}", t.link));
        }
        let date = p
            .published
            .or(p.updated)
            .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string());
        if date != t.date {
            out.push(format!("{file} #{i}: date {date:?} vs {:?}", t.date));
        }
        if !super::same_title(&p.title, t.title.as_deref().unwrap_or("")) {
            out.push(format!("{file} #{i}: title {:?} vs {:?}", p.title, t.title));
        }
    }
    out
}

/// The committed baseline: (file, disagreement) → reason.
fn baseline() -> BTreeMap<(String, String), String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus/feedparser-baseline.tsv");
    let text = std::fs::read_to_string(path).expect("read feedparser-baseline.tsv");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut cols = l.splitn(3, '\t');
            let file = cols.next().unwrap_or("").to_string();
            let what = cols.next().unwrap_or("").to_string();
            let why = cols.next().unwrap_or("").trim().to_string();
            assert!(!why.is_empty(), "baseline: {file} {what} has no reason");
            ((file, what), why)
        })
        .collect()
}

#[test]
#[ignore = "reads ../shared/corpus and runs Python's feedparser; run with --ignored"]
fn we_read_what_feedparser_reads_but_for_the_baseline() {
    let Some(dir) = corpus_dir() else { return };
    let mut jobs = jobs(&dir);
    let Some(mut theirs) = feedparser(&dir, &jobs) else {
        panic!("python3 with feedparser 6 is needed (pip install 'feedparser==6.0.*')");
    };
    for row in feed_documents(&dir, "").into_iter().filter(is_json) {
        if let Some(items) = json_feed(&dir, &row.file) {
            theirs.insert(row.file.clone(), items);
            jobs.push(Job {
                base: format!("https://corpus.invalid/{}", row.file),
                file: row.file,
                content_type: None,
            });
        }
    }
    let mut found: BTreeMap<(String, String), ()> = BTreeMap::new();
    let mut tally: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_suite: BTreeMap<&str, [usize; 6]> = BTreeMap::new();
    let mut member_blogs = (0, Vec::new());
    for job in &jobs {
        let posts = ours(&dir, job);
        let suite = job.file.split('/').next().unwrap_or("");
        if MEMBER_BLOGS.contains(&suite) {
            member_blogs.0 += theirs[&job.file].len();
            member_blogs.1.extend(strict_differences(
                &job.file,
                posts.as_deref(),
                &theirs[&job.file],
            ));
        }
        let row = by_suite.entry(suite).or_default();
        row[0] += 1;
        for d in disagreements(posts.as_deref(), &theirs[&job.file]) {
            let (kind, col) = match d.split(' ').next() {
                Some("none") => ("none", 1),
                Some("fewer") => ("fewer", 2),
                Some("date") => ("date", 3),
                Some("garbled") => ("garbled", 4),
                _ => ("link", 5),
            };
            *tally.entry(kind).or_default() += 1;
            row[col] += 1;
            found.insert((job.file.clone(), d), ());
        }
    }
    println!(
        "feedparser side by side: {} files (JSON Feed against the spec); feedparser finds entries where we find none: {}, \
         we find fewer: {}, files with paired date misses: {}, with titles garbled (U+FFFD) where feedparser's are not: {}, wrong links: {}",
        jobs.len(),
        tally.get("none").unwrap_or(&0),
        tally.get("fewer").unwrap_or(&0),
        tally.get("date").unwrap_or(&0),
        tally.get("garbled").unwrap_or(&0),
        tally.get("link").unwrap_or(&0),
    );
    println!(
        "member blogs: {} entries, {} differences from feedparser",
        member_blogs.0,
        member_blogs.1.len()
    );
    assert!(
        member_blogs.1.is_empty(),
        "on the member blogs every entry must agree: {:#?}",
        member_blogs.1
    );
    if super::detail() {
        println!("| suite | files | none | fewer | date misses | garbled | wrong links |");
        println!("|---|---|---|---|---|---|---|");
        for (suite, r) in &by_suite {
            println!(
                "| {suite} | {} | {} | {} | {} | {} | {} |",
                r[0], r[1], r[2], r[3], r[4], r[5]
            );
        }
    }
    if std::env::var_os("CORPUS_BASELINE_WRITE").is_some() {
        for (file, what) in found.keys() {
            println!("{file}\t{what}\t");
        }
        return;
    }
    let known = baseline();
    let new: Vec<_> = found.keys().filter(|k| !known.contains_key(*k)).collect();
    let gone: Vec<_> = known.keys().filter(|k| !found.contains_key(*k)).collect();
    let wrong_links: Vec<_> = known
        .keys()
        .filter(|(_, w)| w.starts_with("link"))
        .collect();
    assert!(
        wrong_links.is_empty(),
        "a wrong link is never justified: {wrong_links:?}"
    );
    assert!(
        new.is_empty() && gone.is_empty(),
        "disagreements with feedparser not in the baseline: {new:#?}\n\
         baseline lines that no longer happen (remove them): {gone:#?}"
    );
}
