//! How much of the parse stage is feed-rs, and how far below it an XML reader can go: on a
//! folder of feed documents (the bench's, written by `bench --serve` to `serve-n1000/docs/`, or
//! any other), each pass is timed over every document, in one thread, best of `--rounds`:
//!
//! - `parse`: the whole parse stage as a run does it (`geultto_agg::parse::parse`: encoding,
//!   repairs, feed-rs, our ids and dates);
//! - `feed-rs`: feed-rs alone on the same bytes;
//! - `quick-xml walk`: quick-xml's namespace-resolving reader over every event, each text,
//!   CDATA and attribute value copied into a `String` — the least any reader built on
//!   quick-xml does before it builds a model;
//! - `UTF-8 check`: one `std::str::from_utf8` over each document, which quick-xml repeats for
//!   every event it returns.
//!
//! `cargo run --release --example parse-floor -- DIR [--rounds 5]`

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use quick_xml::events::Event;
use quick_xml::NsReader;

/// Bytes of text a quick-xml walk copies out of a document (kept so the copies are not
/// optimised away).
fn walk(doc: &[u8]) -> usize {
    let mut reader = NsReader::from_reader(doc);
    reader.config_mut().expand_empty_elements = true;
    let mut buf = Vec::new();
    let mut copied = 0;
    loop {
        match reader.read_resolved_event_into(&mut buf) {
            Ok((_, Event::Eof)) | Err(_) => break,
            Ok((_, Event::Text(t))) => copied += t.to_string().len(),
            Ok((_, Event::CData(t))) => copied += t.to_string().len(),
            Ok((_, Event::Start(e))) => {
                for a in e.attributes().flatten() {
                    copied += a.value.to_string().len();
                }
            }
            Ok(_) => {}
        }
        buf.clear();
    }
    copied
}

/// A pass over one document: what it counted (entries, bytes).
type Pass<'a> = &'a dyn Fn(&[u8]) -> usize;

/// The best time of `rounds` runs of `pass` over all documents, and what the last run counted.
fn best(rounds: usize, docs: &[Vec<u8>], pass: impl Fn(&[u8]) -> usize) -> (Duration, usize) {
    let mut best = Duration::MAX;
    let mut counted = 0;
    for _ in 0..rounds {
        let start = Instant::now();
        counted = docs.iter().map(|d| pass(d)).sum();
        best = best.min(start.elapsed());
    }
    (best, counted)
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let mut dir = None;
    let mut rounds = 5;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--rounds" => rounds = args.next().context("--rounds needs a number")?.parse()?,
            _ if dir.is_none() => dir = Some(PathBuf::from(arg)),
            other => bail!("unknown argument {other}; usage: parse-floor DIR [--rounds 5]"),
        }
    }
    let dir = dir.context("usage: parse-floor DIR [--rounds 5]")?;
    let mut docs = Vec::new();
    for entry in
        std::fs::read_dir(&dir).with_context(|| format!("cannot read {}", dir.display()))?
    {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "xml") {
            docs.push(std::fs::read(&path)?);
        }
    }
    if docs.is_empty() {
        bail!("no .xml documents in {}", dir.display());
    }
    let mb = docs.iter().map(Vec::len).sum::<usize>() as f64 / 1e6;
    println!("{} documents, {mb:.1} MB, best of {rounds}", docs.len());
    let seoul = chrono_tz::Asia::Seoul;
    let passes: [(&str, Pass<'_>); 4] = [
        ("parse", &|d| {
            geultto_agg::parse::parse(d, None, None, seoul).map_or(0, |p| p.feed.entries.len())
        }),
        ("feed-rs", &|d| {
            feed_rs::parser::parse(d).map_or(0, |f| f.entries.len())
        }),
        ("quick-xml walk", &walk),
        ("UTF-8 check", &|d| {
            std::str::from_utf8(d).map_or(0, str::len)
        }),
    ];
    println!("| pass | ms | MB/s | counted |\n|---|---|---|---|");
    for (name, pass) in passes {
        let (time, counted) = best(rounds, &docs, pass);
        let ms = time.as_secs_f64() * 1e3;
        println!(
            "| {name} | {ms:.0} | {:.0} | {counted} |",
            mb / time.as_secs_f64()
        );
    }
    Ok(())
}
