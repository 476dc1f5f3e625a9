//! Bytes to a feed-rs model: our own encoding choice, repairs of common breakage, our own ids and dates.
//!
//! feed-rs is a strict XML reader that decodes by the prolog alone and invents random ids; real
//! member feeds are EUC-KR, carry control characters, bare `&`s and zone-less dates. So this stage
//! picks the encoding itself (BOM → HTTP charset → XML prolog, with the Korean aliases encoding_rs
//! lacks), decodes once, repairs what is commonly broken and says what it repaired, then hands
//! UTF-8 to feed-rs with a base URI, an id generator that marks generated ids (so identity never
//! rests on them) and a date parser that knows Korean formats and the club's zone.
//!
//! RSS titles written with literal markup (a child element, or CDATA holding a `<`) are handed on
//! as HTML; every other RSS title, escaped markup included, is text (`titles.rs`).
//!
//! This file holds the entry points and the order of the steps; `encoding.rs` chooses the charset
//! and decodes, `repair.rs` holds the document checks and repairs, `dates.rs` reads feed dates,
//! `titles.rs` tells RSS titles that are markup from those that are text.

mod dates;
mod encoding;
mod fill;
mod items;
mod json;
pub mod plain;
mod rebalance;
mod repair;
mod roots;
mod titles;

use std::borrow::Cow;

use chrono_tz::Tz;
use feed_rs::model::{Feed, FeedType};
use feed_rs::parser::{ParseErrorKind, ParseFeedError};

pub use dates::parse_date;
pub use encoding::{charset_of_content_type, decode_html, encoding_for_label};
pub use repair::is_control;

use encoding::decode;
use repair::{
    close_truncated, convert_atom03, find_root, leading_declaration_len, looks_like_html,
    max_depth, repair_ampersands, repair_rss_version, repair_text_types, root_element,
    strip_control_chars, strip_internal_dtd, strip_misplaced_declarations, MAX_DEPTH,
};

/// Prefix our id generator puts on ids feed-rs had to invent (never used as identity).
pub const GENERATED_ID_PREFIX: &str = "\u{1}generated:";

/// A parse failure: the body is not a feed we can read.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// Nothing at all came back.
    #[error("empty body: the server sent no content")]
    Empty,
    /// An HTML page came back where a feed was expected.
    #[error("not a feed: got an HTML page (is the URL the blog's homepage rather than its feed?)")]
    Html,
    /// feed-rs could not read it even after repairs.
    #[error("not a readable feed: {0}")]
    Invalid(String),
}

/// The syndication format of a parsed document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// RSS 2.0 (and 0.93/0.94 read as it).
    Rss2,
    /// RSS 1.0 (RDF).
    Rss1,
    /// RSS 0.9x.
    Rss0,
    /// Atom 1.0.
    Atom,
    /// Atom 0.3, read after renaming its elements.
    Atom03,
    /// JSON Feed.
    Json,
}

impl Format {
    /// The name used in `inspect` output.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Rss2 => "rss2",
            Format::Rss1 => "rss1",
            Format::Rss0 => "rss0",
            Format::Atom => "atom",
            Format::Atom03 => "atom03",
            Format::Json => "json",
        }
    }
}

/// A parsed feed and what it took to read it.
#[derive(Debug)]
pub struct ParsedFeed {
    /// The feed-rs model (entries with generated ids carry [`GENERATED_ID_PREFIX`]).
    pub feed: Feed,
    /// Detected format.
    pub format: Format,
    /// The encoding the bytes were decoded with.
    pub encoding: &'static str,
    /// What was repaired, in words.
    pub repairs: Vec<String>,
}

/// Says `what` among the repairs when `count` things were repaired (nothing when none were).
fn say(repairs: &mut Vec<String>, count: usize, what: impl FnOnce(usize) -> String) {
    if count > 0 {
        repairs.push(what(count));
    }
}

/// Reads a feed document.
///
/// `http_charset` is the `charset` parameter of the response's Content-Type, if any; `base_url`
/// resolves relative links; `tz` is the club's zone, used for zone-less dates. A UTF-8 body is
/// read in place: decoding it copies nothing.
pub fn parse(
    bytes: &[u8],
    http_charset: Option<&str>,
    base_url: Option<&str>,
    tz: Tz,
) -> Result<ParsedFeed, ParseError> {
    let mut repairs = Vec::new();
    let (text, encoding) = decode(bytes, http_charset, &mut repairs);
    let trimmed = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if trimmed.is_empty() {
        return Err(ParseError::Empty);
    }
    if trimmed.len() != text.len() && trimmed.starts_with('<') {
        repairs.push("removed whitespace before the XML declaration".to_string());
    }
    let is_json = trimmed.starts_with('{');
    let mut doc = strip_control_chars(trimmed, &mut repairs);
    let mut format_hint = None;
    if !is_json {
        refuse_non_feed(&doc)?;
        format_hint = repair_xml(&mut doc, &mut repairs);
    } else if let Some(repaired) = json::repair_json_feed(&doc, &mut repairs) {
        doc = Cow::Owned(repaired);
    }
    let feed = read_feed(&doc, is_json, base_url, tz, &mut repairs)?;
    let format = format_hint.unwrap_or(match feed.feed_type {
        FeedType::Atom => Format::Atom,
        FeedType::JSON => Format::Json,
        FeedType::RSS0 => Format::Rss0,
        FeedType::RSS1 => Format::Rss1,
        FeedType::RSS2 => Format::Rss2,
    });
    Ok(ParsedFeed {
        feed,
        format,
        encoding: encoding.name(),
        repairs,
    })
}

/// Refuses an XML document that is an HTML page, or nested deeper than [`MAX_DEPTH`].
fn refuse_non_feed(doc: &str) -> Result<(), ParseError> {
    if looks_like_html(doc) {
        return Err(ParseError::Html);
    }
    let depth = max_depth(doc);
    if depth > MAX_DEPTH {
        return Err(ParseError::Invalid(format!(
            "elements nested {depth} deep (limit {MAX_DEPTH}): refused as hostile or broken"
        )));
    }
    Ok(())
}

/// The repairs of an XML document, in order, each noted in `repairs`; the document is copied
/// only by a repair that changes it. Returns [`Format::Atom03`] when Atom 0.3 was renamed.
fn repair_xml(doc: &mut Cow<'_, str>, repairs: &mut Vec<String>) -> Option<Format> {
    let declaration = leading_declaration_len(doc);
    match doc {
        Cow::Borrowed(text) => *text = &text[declaration..],
        Cow::Owned(text) => {
            text.drain(..declaration);
        }
    }
    if let Some(stripped) = strip_misplaced_declarations(doc) {
        repairs.push("removed an XML declaration in the middle of the document".to_string());
        *doc = Cow::Owned(stripped);
    }
    if let Some(stripped) = strip_internal_dtd(doc) {
        repairs.push("removed an internal DTD subset (entities are never expanded)".to_string());
        *doc = Cow::Owned(stripped);
    }
    if let Some(repaired) = repair_ampersands(doc, repairs) {
        *doc = Cow::Owned(repaired);
    }
    if let Some(repaired) = repair_rss_version(doc, repairs) {
        *doc = Cow::Owned(repaired);
    }
    let mut format_hint = roots::repair_root(doc, repairs);
    if let Some(converted) = convert_atom03(doc) {
        repairs.push("read Atom 0.3 as Atom 1.0".to_string());
        format_hint = Some(Format::Atom03);
        *doc = Cow::Owned(converted);
    }
    if find_root(doc, "feed").is_some() {
        if let Some(repaired) = repair_text_types(doc, repairs) {
            *doc = Cow::Owned(repaired);
        }
    }
    format_hint
}

/// feed-rs reads the document; when that fails on an XML document cut off mid-way, it reads the
/// entries that arrived whole (and says so in `repairs`).
fn read_feed(
    doc: &str,
    is_json: bool,
    base_url: Option<&str>,
    tz: Tz,
    repairs: &mut Vec<String>,
) -> Result<Feed, ParseError> {
    let e = match read_marked(doc, base_url, tz, repairs) {
        Ok(feed) => return Ok(feed),
        Err(e) => e,
    };
    // Elements left open or closed by the wrong name.
    if let Some(fixed) = (!is_json).then(|| rebalance::rebalance(doc)).flatten() {
        let mut more = Vec::new();
        if let Ok(feed) = read_marked(&fixed.doc, base_url, tz, &mut more) {
            repairs.push(fixed.describe());
            repairs.append(&mut more);
            return Ok(feed);
        }
    }
    // A truncated download: keep the entries that arrived whole.
    let recovered =
        (!is_json)
            .then(|| close_truncated(doc))
            .flatten()
            .and_then(|(closed, kept)| {
                read_marked(&closed, base_url, tz, repairs)
                    .ok()
                    .map(|f| (f, kept))
            });
    match recovered {
        Some((feed, kept)) => {
            repairs.push(format!(
                "the document was cut off: kept the {kept} complete entries"
            ));
            Ok(feed)
        }
        None => Err(ParseError::Invalid(explain_feed_rs_error(&e, doc))),
    }
}

/// [`read_guarded`], then the raw items walked once more (from the very text feed-rs
/// read, so its items are the entries): titles written with literal markup marked as HTML
/// (RSS, and Atom text titles holding elements); for RSS, dates and links set right
/// (`fill.rs`), said in `repairs`. An RSS 2.0 document the walk cannot change (plain titles,
/// `pubDate` only, every item linked) and an Atom document whose titles hold no element are
/// not walked.
fn read_marked(
    text: &str,
    base_url: Option<&str>,
    tz: Tz,
    repairs: &mut Vec<String>,
) -> Result<Feed, ParseFeedError> {
    let mut feed = read_guarded(text, base_url, tz)?;
    let rss = matches!(
        feed.feed_type,
        FeedType::RSS0 | FeedType::RSS1 | FeedType::RSS2
    );
    let atom = feed.feed_type == FeedType::Atom && items::atom_title_may_hold_elements(text);
    if (rss && fill::walk_needed(&feed, text)) || atom {
        if let Some(raw) = items::scan(text) {
            titles::mark_markup_titles(&mut feed, &raw);
            if rss {
                fill::fill_rss_entries(&mut feed, &raw, base_url, tz, repairs);
            }
        }
    }
    Ok(feed)
}

/// One reading of `text`: by the plain reader when the document is plain (`plain/`: the same
/// model, in a fraction of the time), else by feed-rs. A crash in either reader is this feed's
/// error, not the run's (feed-rs asserts on some inputs); a crash in the plain reader leaves
/// the document to feed-rs.
fn read_guarded(text: &str, base_url: Option<&str>, tz: Tz) -> Result<Feed, ParseFeedError> {
    let plain = std::panic::catch_unwind(|| plain::read(text, base_url, tz))
        .ok()
        .flatten();
    match plain {
        Some(feed) => Ok(feed),
        None => read_with_feed_rs(text, base_url, tz),
    }
}

/// feed-rs's reading of `text` (a UTF-8 document without its XML declaration), with the base
/// URI, ids and dates this stage gives it — what [`plain::read`] must agree with wherever it
/// reads a document at all (the corpus test compares the two).
pub fn read_with_feed_rs(
    text: &str,
    base_url: Option<&str>,
    tz: Tz,
) -> Result<Feed, ParseFeedError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        feed_rs_parser(base_url, tz).parse(text.as_bytes())
    }))
    .unwrap_or(Err(ParseFeedError::ParseError(ParseErrorKind::NoFeedRoot)))
}

/// The id of an entry (or feed) that has none: its first link and its title, behind
/// [`GENERATED_ID_PREFIX`] so identity never rests on it.
fn generated_id(links: &[feed_rs::model::Link], title: &Option<feed_rs::model::Text>) -> String {
    let link = links.first().map(|l| l.href.as_str()).unwrap_or("");
    let title = title.as_ref().map(|t| t.content.as_str()).unwrap_or("");
    format!("{GENERATED_ID_PREFIX}{link}\u{1}{title}")
}

/// A feed-rs parser with our base URI, id generator and date parser. A feed-rs parser keeps
/// state after a failure, so every attempt gets a fresh one.
fn feed_rs_parser(base_url: Option<&str>, tz: Tz) -> feed_rs::parser::Parser {
    feed_rs::parser::Builder::new()
        .base_uri(base_url)
        .sanitize_content(false)
        .id_generator(|links, title, _base| generated_id(links, title))
        .timestamp_parser(move |s| parse_date(s, tz))
        .build()
}

/// A feed-rs failure in words an operator can act on (for a missing feed root, the root found).
fn explain_feed_rs_error(e: &ParseFeedError, doc: &str) -> String {
    match e {
        ParseFeedError::ParseError(ParseErrorKind::NoFeedRoot)
            if !doc
                .trim_start_matches('\u{feff}')
                .trim_start()
                .starts_with(['<', '{']) =>
        {
            let start: String = doc.trim().chars().take(40).collect();
            format!("it starts with {start:?}, which is neither XML (RSS, Atom) nor a JSON Feed")
        }
        ParseFeedError::ParseError(ParseErrorKind::NoFeedRoot) => match root_element(doc) {
            Some((_, "rss")) => "an <rss> document without a <channel>".to_string(),
            Some((_, root)) => {
                format!("the document's root is <{root}>, not <rss>, <feed> or <rdf:RDF>")
            }
            None => "no feed root element (expected <rss>, <feed> or <rdf:RDF>)".to_string(),
        },
        ParseFeedError::JsonSerde(e) => format!("invalid JSON Feed: {e}"),
        ParseFeedError::JsonUnsupportedVersion(v) => format!("unsupported JSON Feed version {v}"),
        other => format!("{other} (the XML is malformed or truncated)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Asia::Seoul;

    #[test]
    fn html_and_empty_bodies_are_named() {
        assert!(matches!(
            parse(b"  \n", None, None, Seoul),
            Err(ParseError::Empty)
        ));
        assert!(matches!(
            parse(
                b"<!DOCTYPE html><html><head><title>blog</title></head></html>",
                None,
                None,
                Seoul
            ),
            Err(ParseError::Html)
        ));
        let err = parse(
            b"<?xml version=\"1.0\"?><urlset></urlset>",
            None,
            None,
            Seoul,
        )
        .unwrap_err();
        assert!(err.to_string().contains("<urlset>"), "{err}");
    }

    #[test]
    fn generated_ids_are_marked_and_stable() {
        let body = b"<rss version=\"2.0\"><channel><title>t</title><item><title>no link</title></item></channel></rss>";
        let a = parse(body, None, None, Seoul).unwrap();
        let b = parse(body, None, None, Seoul).unwrap();
        assert!(a.feed.entries[0].id.starts_with(GENERATED_ID_PREFIX));
        assert_eq!(a.feed.entries[0].id, b.feed.entries[0].id);
    }
}
