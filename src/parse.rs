//! Bytes to a feed-rs model: our own encoding choice, repairs of common breakage, our own ids and dates.
//!
//! feed-rs is a strict XML reader that decodes by the prolog alone and invents random ids; real
//! member feeds are EUC-KR, carry control characters, bare `&`s and zone-less dates. So this stage
//! picks the encoding itself (BOM → HTTP charset → XML prolog, with the Korean aliases encoding_rs
//! lacks), decodes once, repairs what is commonly broken and says what it repaired, then hands
//! UTF-8 to feed-rs with a base URI, an id generator that marks generated ids (so identity never
//! rests on them) and a date parser that knows Korean formats and the club's zone.

use std::borrow::Cow;

use chrono::{
    DateTime, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike,
    Utc,
};
use chrono_tz::Tz;
use encoding_rs::Encoding;
use feed_rs::model::{Feed, FeedType};

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

/// Reads a feed document.
///
/// `http_charset` is the `charset` parameter of the response's Content-Type, if any; `base_url`
/// resolves relative links; `tz` is the club's zone, used for zone-less dates.
pub fn parse(
    bytes: &[u8],
    http_charset: Option<&str>,
    base_url: Option<&str>,
    tz: Tz,
) -> Result<ParsedFeed, ParseError> {
    parse_cow(Cow::Borrowed(bytes), http_charset, base_url, tz)
}

/// [`parse`] of a body the caller no longer needs: a UTF-8 body becomes the text without a copy.
pub fn parse_vec(
    bytes: Vec<u8>,
    http_charset: Option<&str>,
    base_url: Option<&str>,
    tz: Tz,
) -> Result<ParsedFeed, ParseError> {
    parse_cow(Cow::Owned(bytes), http_charset, base_url, tz)
}

fn parse_cow(
    bytes: Cow<'_, [u8]>,
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
        if looks_like_html(&doc) {
            return Err(ParseError::Html);
        }
        let depth = max_depth(&doc);
        if depth > MAX_DEPTH {
            return Err(ParseError::Invalid(format!(
                "elements nested {depth} deep (limit {MAX_DEPTH}): refused as hostile or broken"
            )));
        }
        let declaration = leading_declaration_len(&doc);
        doc = match doc {
            Cow::Borrowed(text) => Cow::Borrowed(&text[declaration..]),
            Cow::Owned(mut text) => {
                text.drain(..declaration);
                Cow::Owned(text)
            }
        };
        if let Some(stripped) = strip_misplaced_declarations(&doc) {
            repairs.push("removed an XML declaration in the middle of the document".to_string());
            doc = Cow::Owned(stripped);
        }
        if let Some(stripped) = strip_internal_dtd(&doc) {
            repairs
                .push("removed an internal DTD subset (entities are never expanded)".to_string());
            doc = Cow::Owned(stripped);
        }
        if let Some(repaired) = repair_ampersands(&doc, &mut repairs) {
            doc = Cow::Owned(repaired);
        }
        if let Some(repaired) = repair_rss_version(&doc, &mut repairs) {
            doc = Cow::Owned(repaired);
        }
        if let Some(converted) = convert_atom03(&doc) {
            repairs.push("read Atom 0.3 as Atom 1.0".to_string());
            format_hint = Some(Format::Atom03);
            doc = Cow::Owned(converted);
        }
        if find_root(&doc, "feed").is_some() {
            if let Some(repaired) = repair_text_types(&doc, &mut repairs) {
                doc = Cow::Owned(repaired);
            }
        }
    }
    // A feed-rs parser keeps state after a failure, so every attempt gets a fresh one.
    let parser = || {
        feed_rs::parser::Builder::new()
            .base_uri(base_url)
            .sanitize_content(false)
            .id_generator(|links, title, _base| {
                let link = links.first().map(|l| l.href.as_str()).unwrap_or("");
                let title = title.as_ref().map(|t| t.content.as_str()).unwrap_or("");
                format!("{GENERATED_ID_PREFIX}{link}\u{1}{title}")
            })
            .timestamp_parser(move |s| parse_date(s, tz))
            .build()
    };
    // feed-rs asserts on some inputs; a crash in the parser is this feed's error, not the run's.
    let guarded = |text: &str| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            parser().parse(text.as_bytes())
        }))
        .unwrap_or(Err(feed_rs::parser::ParseFeedError::ParseError(
            feed_rs::parser::ParseErrorKind::NoFeedRoot,
        )))
    };
    let feed = match guarded(&doc) {
        Ok(feed) => feed,
        Err(e) => {
            // A truncated download: keep the entries that arrived whole.
            let recovered = (!is_json)
                .then(|| close_truncated(&doc))
                .flatten()
                .and_then(|(closed, kept)| guarded(&closed).ok().map(|f| (f, kept)));
            match recovered {
                Some((feed, kept)) => {
                    repairs.push(format!(
                        "the document was cut off: kept the {kept} complete entries"
                    ));
                    feed
                }
                None => return Err(ParseError::Invalid(explain_feed_rs_error(&e, &doc))),
            }
        }
    };
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

fn explain_feed_rs_error(e: &feed_rs::parser::ParseFeedError, doc: &str) -> String {
    use feed_rs::parser::{ParseErrorKind, ParseFeedError};
    match e {
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

// ---------------------------------------------------------------------------------------------
// Encoding.

/// Maps a charset label to an encoding, including the Korean aliases encoding_rs lacks.
pub fn encoding_for_label(label: &str) -> Option<&'static Encoding> {
    let l = label
        .trim()
        .trim_matches(|c| c == '"' || c == '\'')
        .to_ascii_lowercase();
    match l.as_str() {
        "cp949" | "ms949" | "uhc" | "x-windows-949" | "ks_c_5601" | "ksc5601" | "ksc_5601"
        | "euckr" => Some(encoding_rs::EUC_KR),
        _ => Encoding::for_label(l.as_bytes()),
    }
}

/// The `charset` parameter of a Content-Type header.
pub fn charset_of_content_type(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| v.trim().trim_matches('"'))
    })
}

fn prolog_encoding(bytes: &[u8]) -> Option<&str> {
    let head = &bytes[..bytes.len().min(512)];
    let start = head.windows(5).position(|w| w == b"<?xml")?;
    let end = head[start..].windows(2).position(|w| w == b"?>")? + start;
    let decl = std::str::from_utf8(&head[start..end]).ok()?;
    let pos = decl.find("encoding")?;
    let rest = decl[pos + "encoding".len()..]
        .trim_start()
        .strip_prefix('=')?
        .trim_start();
    let quote = rest.chars().next()?;
    if quote != '"' && quote != '\'' {
        return None;
    }
    let rest = &rest[1..];
    rest.find(quote).map(|e| &rest[..e])
}

/// Decodes once: BOM, then HTTP charset, then the prolog, then UTF-8; falls back to the other
/// candidate when the chosen one produces malformed sequences and the other does not.
fn decode(
    owned: Cow<'_, [u8]>,
    http_charset: Option<&str>,
    repairs: &mut Vec<String>,
) -> (String, &'static Encoding) {
    let bytes = owned.as_ref();
    if let Some((enc, bom_len)) = Encoding::for_bom(bytes) {
        let (text, _) = enc.decode_without_bom_handling(&bytes[bom_len..]);
        return (text.into_owned(), enc);
    }
    let http = http_charset.and_then(encoding_for_label);
    let prolog = prolog_encoding(bytes).and_then(encoding_for_label);
    // UTF-16 declared without a BOM in an ASCII-readable prolog is a lie: read as UTF-8.
    let declared = http
        .or(prolog)
        .map(|e| {
            if e == encoding_rs::UTF_16LE || e == encoding_rs::UTF_16BE {
                encoding_rs::UTF_8
            } else {
                e
            }
        })
        .unwrap_or(encoding_rs::UTF_8);
    // The common case, a UTF-8 body the caller gave away: it becomes the text as it is.
    if declared == encoding_rs::UTF_8 {
        if let Cow::Owned(vec) = owned {
            return match String::from_utf8(vec) {
                Ok(text) => (text, declared),
                Err(e) => decode(Cow::Borrowed(e.as_bytes()), http_charset, repairs),
            };
        }
    }
    // A single-byte charset decodes any bytes without error; when the bytes are valid UTF-8 with
    // non-ASCII text in them, the declaration is the usual server default, not the truth.
    let single_byte = declared.is_single_byte() && declared != encoding_rs::UTF_8;
    if single_byte && !bytes.is_ascii() {
        if let Ok(utf8) = std::str::from_utf8(bytes) {
            repairs.push(format!(
                "declared charset {} does not fit the bytes; decoded as UTF-8",
                declared.name()
            ));
            return (utf8.to_string(), encoding_rs::UTF_8);
        }
    }
    let (text, had_errors) = declared.decode_without_bom_handling(bytes);
    if !had_errors {
        return (text.into_owned(), declared);
    }
    // The declared charset is wrong: try the other candidates, then UTF-8 and EUC-KR.
    for alt in [
        prolog,
        http,
        Some(encoding_rs::UTF_8),
        Some(encoding_rs::EUC_KR),
    ]
    .into_iter()
    .flatten()
    {
        if alt == declared {
            continue;
        }
        let (t, errs) = alt.decode_without_bom_handling(bytes);
        if !errs {
            repairs.push(format!(
                "declared charset {} does not fit the bytes; decoded as {}",
                declared.name(),
                alt.name()
            ));
            return (t.into_owned(), alt);
        }
    }
    repairs.push(format!(
        "invalid {} byte sequences replaced with U+FFFD",
        declared.name()
    ));
    (text.into_owned(), declared)
}

/// Length of the leading XML declaration, which is dropped: the text is UTF-8 now, which is what
/// a document without a declaration is, and a declaration is where quick-xml's encoding switch
/// (and its panics) live. A declaration cut short by markup (`<?xml version="1<rss …`) ends where
/// that markup begins.
fn leading_declaration_len(doc: &str) -> usize {
    let Some(rest) = doc.strip_prefix("<?xml") else {
        return 0;
    };
    if !rest.starts_with(|c: char| c.is_whitespace() || c == '?') {
        return 0; // `<?xml-stylesheet …?>` and the like are processing instructions.
    }
    match (rest.find("?>"), rest.find('<')) {
        (Some(end), Some(lt)) if lt < end => 5 + lt,
        (Some(end), _) => 5 + end + 2,
        (None, Some(lt)) => 5 + lt,
        (None, None) => doc.len(),
    }
}

// ---------------------------------------------------------------------------------------------
// Repairs.

/// Is this an XML-illegal or invisible control character?
pub fn is_control(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{fffe}' | '\u{ffff}')
}

fn strip_control_chars<'a>(doc: &'a str, repairs: &mut Vec<String>) -> Cow<'a, str> {
    // In UTF-8 every control character starts with a byte below 0x20, 0x7f, 0xc2 (C1) or 0xef
    // (U+FFFE/U+FFFF): a document without those bytes has none, and most have none.
    let suspect = |b: &u8| {
        (*b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || matches!(b, 0x7f | 0xc2 | 0xef)
    };
    if !doc.as_bytes().iter().any(suspect) {
        return Cow::Borrowed(doc);
    }
    let count = doc.chars().filter(|c| is_control(*c)).count();
    if count == 0 {
        return Cow::Borrowed(doc);
    }
    repairs.push(format!("removed {count} control character(s)"));
    Cow::Owned(doc.chars().filter(|c| !is_control(*c)).collect())
}

fn looks_like_html(doc: &str) -> bool {
    root_element(doc).is_some_and(|(_, name)| name.eq_ignore_ascii_case("html"))
}

const XML_ENTITIES: [&str; 5] = ["amp", "lt", "gt", "quot", "apos"];

/// The reference an `&` at the start of `rest` opens: the text up to a `;` within 32 bytes.
fn reference_after_ampersand(rest: &str) -> Option<&str> {
    let bytes = rest.as_bytes().get(1..)?;
    memchr::memchr(b';', &bytes[..bytes.len().min(33)]).map(|e| &rest[1..1 + e])
}

/// Is `r` (between `&` and `;`) a reference XML itself defines?
fn is_xml_reference(r: &str) -> bool {
    XML_ENTITIES.contains(&r) || r.strip_prefix('#').is_some_and(is_char_ref)
}

/// Escapes bare `&` and turns HTML named entities into numeric references, outside CDATA,
/// comments and processing instructions. `None` when every `&` already opens an XML reference
/// (most documents): then there is nothing to repair, whatever section it stands in.
fn repair_ampersands(doc: &str, repairs: &mut Vec<String>) -> Option<String> {
    let all_xml = memchr::memchr_iter(b'&', doc.as_bytes())
        .all(|at| reference_after_ampersand(&doc[at..]).is_some_and(is_xml_reference));
    if all_xml {
        return None;
    }
    let mut out = String::with_capacity(doc.len() + 64);
    let mut bare = 0usize;
    let mut named = 0usize;
    let mut rest = doc;
    while let Some(pos) = rest.find(['&', '<']) {
        out.push_str(&rest[..pos]);
        rest = &rest[pos..];
        // Skip over sections whose `&` are literal.
        let skip = [
            ("<![CDATA[", "]]>"),
            ("<!--", "-->"),
            ("<?", "?>"),
            ("<!DOCTYPE", ">"),
        ]
        .iter()
        .find(|(open, _)| rest.starts_with(open));
        if let Some((open, close)) = skip {
            let end = find(&rest[open.len()..], close)
                .map(|e| open.len() + e + close.len())
                .unwrap_or(rest.len());
            out.push_str(&rest[..end]);
            rest = &rest[end..];
            continue;
        }
        if rest.starts_with('<') {
            out.push('<');
            rest = &rest[1..];
            continue;
        }
        // At '&': is it a well-formed reference?
        match reference_after_ampersand(rest) {
            Some(r) if is_xml_reference(r) => {
                out.push('&');
                rest = &rest[1..];
            }
            Some(r) if !r.is_empty() && r.chars().all(|c| c.is_ascii_alphanumeric()) => {
                let entity = format!("&{r};");
                let decoded = html_escape::decode_html_entities(&entity);
                if decoded != entity {
                    named += 1;
                    for c in decoded.chars() {
                        out.push_str(&format!("&#{};", c as u32));
                    }
                    rest = &rest[entity.len()..];
                } else {
                    bare += 1;
                    out.push_str("&amp;");
                    rest = &rest[1..];
                }
            }
            _ => {
                bare += 1;
                out.push_str("&amp;");
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    if bare > 0 {
        repairs.push(format!("escaped {bare} bare '&'"));
    }
    if named > 0 {
        repairs.push(format!(
            "replaced {named} HTML named entit{} undefined in XML",
            if named == 1 { "y" } else { "ies" }
        ));
    }
    Some(out)
}

/// Byte offset of `needle` in `hay` (SIMD search: documents are scanned whole several times).
fn find(hay: &str, needle: &str) -> Option<usize> {
    memchr::memmem::find(hay.as_bytes(), needle.as_bytes())
}

fn is_char_ref(r: &str) -> bool {
    if let Some(hex) = r.strip_prefix('x').or_else(|| r.strip_prefix('X')) {
        !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit())
    } else {
        !r.is_empty() && r.chars().all(|c| c.is_ascii_digit())
    }
}

/// `<rss>` without a version, or with one feed-rs does not know (`2.00`, `0.93`), is read as 2.0.
fn repair_rss_version(doc: &str, repairs: &mut Vec<String>) -> Option<String> {
    let start = find_root(doc, "rss")?;
    let end = doc[start..].find('>').map(|e| start + e)?;
    let tag = &doc[start..end];
    let version = tag.find("version").and_then(|p| {
        let rest = tag[p + 7..].trim_start().strip_prefix('=')?.trim_start();
        let q = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let rest = &rest[1..];
        Some((p, rest.find(q).map(|e| rest[..e].to_string())?))
    });
    match version {
        Some((_, v)) if matches!(v.as_str(), "2.0" | "0.91" | "0.92") => None,
        Some((_, v)) => {
            repairs.push(format!("read rss version=\"{v}\" as 2.0"));
            let new_tag = tag.replacen(&format!("\"{v}\""), "\"2.0\"", 1).replacen(
                &format!("'{v}'"),
                "'2.0'",
                1,
            );
            Some(format!("{}{}{}", &doc[..start], new_tag, &doc[end..]))
        }
        None => {
            repairs.push("added the missing rss version=\"2.0\"".to_string());
            Some(format!(
                "{}<rss version=\"2.0\"{}",
                &doc[..start],
                &doc[start + 4..]
            ))
        }
    }
}

/// Deepest element nesting a feed may have; real feeds stay far below (feed-rs slows down
/// quadratically on deep XHTML content).
const MAX_DEPTH: usize = 512;

/// Deepest element nesting outside CDATA, comments and processing instructions (a linear scan).
fn max_depth(doc: &str) -> usize {
    let bytes = doc.as_bytes();
    let (mut depth, mut max, mut i) = (0usize, 0usize, 0usize);
    while let Some(p) = memchr_lt(&bytes[i..]) {
        let at = i + p;
        let rest = &doc[at..];
        let skip = [
            ("<![CDATA[", "]]>"),
            ("<!--", "-->"),
            ("<?", "?>"),
            ("<!", ">"),
        ]
        .iter()
        .find(|(open, _)| rest.starts_with(open));
        if let Some((open, close)) = skip {
            i = at
                + find(&rest[open.len()..], close)
                    .map(|e| open.len() + e + close.len())
                    .unwrap_or(rest.len());
            continue;
        }
        let end = rest.find('>').unwrap_or(rest.len());
        if rest.starts_with("</") {
            depth = depth.saturating_sub(1);
        } else if !rest[..end].ends_with('/') {
            depth += 1;
            max = max.max(depth);
        }
        i = at + end.max(1);
    }
    max
}

fn memchr_lt(bytes: &[u8]) -> Option<usize> {
    memchr::memchr(b'<', bytes)
}

/// Removes every `<?xml …?>` declaration left once the leading one is dropped. Concatenated
/// documents carry them, and the XML reader panics on a second `encoding`. They are removed
/// wherever they stand (even where a comment or CDATA might seem to hide them: a `<!--` inside an
/// attribute value fooled a context-aware version, found by cargo fuzz).
fn strip_misplaced_declarations(doc: &str) -> Option<String> {
    find(doc, "<?xml")?; // most documents have none left: no copy
    let mut out = String::with_capacity(doc.len());
    let mut removed = false;
    let mut i = 0;
    while let Some(p) = doc.get(i..).and_then(|rest| find(rest, "<?xml")) {
        let at = i + p;
        let after = &doc[at + 5..];
        out.push_str(&doc[i..at]);
        if after.starts_with(|c: char| c.is_whitespace() || c == '?') {
            i = at + 5 + after.find("?>").map(|e| e + 2).unwrap_or(after.len());
            removed = true;
        } else {
            out.push_str("<?xml");
            i = at + 5;
        }
    }
    out.push_str(&doc[i..]);
    removed.then_some(out)
}

/// Removes `<!DOCTYPE name [ … ]>`'s internal subset, where entity bombs live.
fn strip_internal_dtd(doc: &str) -> Option<String> {
    let start = doc.find("<!DOCTYPE")?;
    let rest = &doc[start..];
    let bracket = rest.find('[')?;
    if rest[..bracket].contains('>') {
        return None;
    }
    let close = rest[bracket..].find("]>").map(|e| bracket + e + 2)?;
    Some(format!("{}{}", &doc[..start], &doc[start + close..]))
}

/// A document cut off mid-way: everything up to the last complete `</item>` or `</entry>`, closed
/// with the tags its root needs. Returns the closed text and how many entries it keeps.
fn close_truncated(doc: &str) -> Option<(String, usize)> {
    let (_, root) = root_element(doc)?;
    let (end_tag, closers) = match root {
        "rss" => ("</item>", "</channel></rss>"),
        "feed" => ("</entry>", "</feed>"),
        "rdf:RDF" => ("</item>", "</rdf:RDF>"),
        _ => return None,
    };
    let root_close = format!("</{root}>");
    if doc.trim_end().ends_with(&root_close) {
        return None;
    }
    let cut = doc.rfind(end_tag)? + end_tag.len();
    let kept = doc[..cut].matches(end_tag).count();
    Some((format!("{}{}", &doc[..cut], closers), kept))
}

/// Byte offset and name of the root element (after prolog, comments, doctype).
fn root_element(doc: &str) -> Option<(usize, &str)> {
    let mut i = 0;
    while let Some(p) = doc.get(i..)?.find('<') {
        let at = i + p;
        let rest = &doc[at..];
        if rest.starts_with("<?") || rest.starts_with("<!") {
            let close = if rest.starts_with("<!--") { "-->" } else { ">" };
            i = at + rest.find(close)? + close.len();
            continue;
        }
        let name = rest[1..]
            .split(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .next()?;
        return Some((at, name));
    }
    None
}

/// Byte offset of the root element when it is `<name`.
fn find_root(doc: &str, name: &str) -> Option<usize> {
    root_element(doc).and_then(|(at, root)| (root == name).then_some(at))
}

/// Atom 0.3 (`xmlns="http://purl.org/atom/ns#"`): rename its elements to their 1.0 names.
fn convert_atom03(doc: &str) -> Option<String> {
    let start = find_root(doc, "feed")?;
    let head_end = doc[start..].find('>')? + start;
    if !doc[start..head_end].contains("http://purl.org/atom/ns#") {
        return None;
    }
    let mut out = doc.replacen("http://purl.org/atom/ns#", "http://www.w3.org/2005/Atom", 1);
    for (old, new) in [
        ("issued", "published"),
        ("modified", "updated"),
        ("tagline", "subtitle"),
        ("copyright", "rights"),
    ] {
        for (from, to) in [("<", "<"), ("</", "</")] {
            for end in [">", " ", "\t", "\n", "\r", "/"] {
                out = out.replace(&format!("{from}{old}{end}"), &format!("{to}{new}{end}"));
            }
        }
    }
    Some(out)
}

/// Atom text constructs take `type="text|html|xhtml"`; Atom 0.3 and careless 1.0 feeds write MIME
/// types there (`text/plain`, `application/xhtml+xml`, …), which feed-rs refuses for the whole
/// feed. Map them, on title/subtitle/summary/content/rights only (links keep their MIME types).
fn repair_text_types(doc: &str, repairs: &mut Vec<String>) -> Option<String> {
    const ELEMENTS: [&str; 5] = ["title", "subtitle", "summary", "content", "rights"];
    // Built only once a tag needs fixing: `copied` is how much of `doc` is in `out`.
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut fixed = 0usize;
    let mut at = 0;
    while let Some(p) = memchr_lt(&doc.as_bytes()[at..]) {
        let start = at + p;
        let rest = &doc[start..];
        let name_end = rest[1..]
            .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .map(|e| e + 1)
            .unwrap_or(rest.len());
        let name = &rest[1..name_end];
        let tag_end = rest.find('>').map(|e| e + 1).unwrap_or(rest.len());
        let tag = &rest[..tag_end];
        at = start + tag_end.max(1);
        if !(ELEMENTS.contains(&name) && tag.contains("type=")) {
            continue;
        }
        let mut new_tag = tag.to_string();
        let mut changed = false;
        for q in ['"', '\''] {
            let key = format!("type={q}");
            if let Some(v0) = new_tag.find(&key).map(|i| i + key.len()) {
                if let Some(len) = new_tag[v0..].find(q) {
                    let value = new_tag[v0..v0 + len].to_ascii_lowercase();
                    let mapped = match value.as_str() {
                        "text" | "html" | "xhtml" => None,
                        "text/html" => Some("html"),
                        "application/xhtml+xml" => Some("xhtml"),
                        // Other MIME types are legal on <content> only when it has a src.
                        _ if name == "content" && new_tag.contains("src=") => None,
                        _ => Some("text"),
                    };
                    if let Some(m) = mapped {
                        new_tag.replace_range(v0..v0 + len, m);
                        fixed += 1;
                        changed = true;
                    }
                }
            }
        }
        if changed {
            let out = out.get_or_insert_with(|| String::with_capacity(doc.len()));
            out.push_str(&doc[copied..start]);
            out.push_str(&new_tag);
            copied = start + tag_end;
        }
    }
    let mut out = out?;
    out.push_str(&doc[copied..]);
    repairs.push(format!(
        "mapped {fixed} MIME type(s) on Atom text elements to text/html/xhtml"
    ));
    Some(out)
}

// ---------------------------------------------------------------------------------------------
// Dates.

/// Parses a feed date: RFC 3339 / W3C-DTF, RFC 822 (with wrong weekdays, named zones), asctime,
/// and Korean forms (`2024년 1월 5일 12:00`, `2024-05-25 오후 11:23:17`, `2024. 1. 5. 오후 3:05`).
/// A date without a zone is in `tz`, the club's zone.
pub fn parse_date(text: &str, tz: Tz) -> Option<DateTime<Utc>> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    let parsed = match DateTime::parse_from_rfc3339(t) {
        Ok(d) => Some(d.with_timezone(&Utc)),
        Err(_) => parse_loose(t, tz),
    };
    // Whole seconds: stored and published times stay comparable and deterministic.
    parsed.and_then(|d| d.with_nanosecond(0))
}

#[derive(Default, Debug)]
struct DateParts {
    year: Option<i32>,
    month: Option<u32>,
    day: Option<u32>,
    time: Option<(u32, u32, u32)>,
    pm: Option<bool>,
    offset: Option<i32>,
    numbers: Vec<(u32, usize)>,
}

fn month_number(word: &str) -> Option<u32> {
    let w = word.to_ascii_lowercase();
    let w = w.trim_end_matches('.');
    const NAMES: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    if w.len() < 3 {
        return None;
    }
    let prefix = w.get(..3)?;
    let idx = NAMES.iter().position(|n| *n == prefix)?;
    // Accept full names and "Sept".
    let full = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    (w.len() == 3 || full[idx].starts_with(w) || w == "sept").then_some(idx as u32 + 1)
}

fn zone_offset(word: &str) -> Option<i32> {
    let w = word.trim_end_matches(')').trim_start_matches('(');
    let upper = w.to_ascii_uppercase();
    let named = match upper.as_str() {
        "Z" | "UT" | "UTC" | "GMT" | "ETC/GMT" | "ETC/UTC" => Some(0),
        "KST" => Some(9 * 60),
        "JST" => Some(9 * 60),
        "EST" => Some(-5 * 60),
        "EDT" => Some(-4 * 60),
        "CST" => Some(-6 * 60),
        "CDT" => Some(-5 * 60),
        "MST" => Some(-7 * 60),
        "MDT" => Some(-6 * 60),
        "PST" => Some(-8 * 60),
        "PDT" => Some(-7 * 60),
        "AT" => Some(-4 * 60),
        "ET" => Some(-5 * 60),
        "CT" => Some(-6 * 60),
        "MT" => Some(-7 * 60),
        "PT" => Some(-8 * 60),
        "MET" | "CET" => Some(60),
        "MEST" | "CEST" => Some(120),
        "BST" => Some(60),
        _ => None,
    };
    if named.is_some() {
        return named;
    }
    let rest = upper
        .strip_prefix("GMT")
        .or_else(|| upper.strip_prefix("UTC"))
        .unwrap_or(&upper);
    let (sign, digits) = match rest.chars().next()? {
        '+' => (1, &rest[1..]),
        '-' => (-1, &rest[1..]),
        _ => return None,
    };
    let digits: String = digits.chars().filter(|c| *c != ':').collect();
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let (h, m) = match digits.len() {
        1 | 2 => (digits.parse::<i32>().ok()?, 0),
        3 => (
            digits[..1].parse::<i32>().ok()?,
            digits[1..].parse::<i32>().ok()?,
        ),
        4 => (
            digits[..2].parse::<i32>().ok()?,
            digits[2..].parse::<i32>().ok()?,
        ),
        _ => return None,
    };
    (h <= 14 && m < 60).then_some(sign * (h * 60 + m))
}

fn parse_time(token: &str, parts: &mut DateParts) -> Option<()> {
    // "10:14:55", "10:14:55.1234", "10:14:55Z", "10:14:55+08:00", "23:25:47.538+10:00"
    let zone_at = token
        .find(['Z', 'z', '+'])
        .or_else(|| token.rfind('-').filter(|&p| p > 0));
    let (clock, zone) = match zone_at {
        Some(p) => (&token[..p], Some(&token[p..])),
        None => (token, None),
    };
    let mut fields = clock.split(':');
    let h: u32 = fields.next()?.parse().ok()?;
    let m: u32 = fields.next()?.parse().ok()?;
    let s: u32 = match fields.next() {
        Some(s) => s.split('.').next()?.parse().ok()?,
        None => 0,
    };
    if fields.next().is_some() || h > 24 || m > 59 || s > 60 {
        return None;
    }
    parts.time = Some((h, m, s.min(59)));
    if let Some(z) = zone {
        parts.offset = Some(zone_offset(z)?);
    }
    Some(())
}

fn parse_date_token(token: &str, parts: &mut DateParts) -> Option<()> {
    // "2024-10-05", "2024/10/05", "2024.10.05", "03-12-31", "2003-12", also with a T time.
    if let Some((d, t)) = token.split_once(['T', 't']) {
        parse_date_token(d, parts)?;
        return parse_time(t, parts);
    }
    let fields: Vec<&str> = token
        .split(['-', '/', '.'])
        .filter(|f| !f.is_empty())
        .collect();
    if fields.len() < 2 || fields.len() > 3 {
        return None;
    }
    let nums: Vec<u32> = fields
        .iter()
        .map(|f| f.parse::<u32>().ok().or_else(|| month_number(f)))
        .collect::<Option<Vec<_>>>()?;
    let (y, m, d) = if fields[0].len() == 4 {
        (nums[0] as i32, nums[1], nums.get(2).copied().unwrap_or(1))
    } else if fields.len() == 3 && fields[2].len() == 4 {
        (nums[2] as i32, nums[0], nums[1])
    } else if fields.len() == 3 {
        (2000 + nums[0] as i32, nums[1], nums[2])
    } else {
        return None;
    };
    parts.year = Some(y);
    parts.month = Some(m);
    parts.day = Some(d);
    Some(())
}

fn parse_loose(text: &str, tz: Tz) -> Option<DateTime<Utc>> {
    let mut parts = DateParts::default();
    // Korean markers become separators; 오전/오후 set the half of the day.
    let mut cleaned = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '년' | '월' | '일' | ',' => cleaned.push(' '),
            '(' | ')' => cleaned.push(' '),
            _ => cleaned.push(c),
        }
    }
    let cleaned = cleaned.replace("오전", " AM ").replace("오후", " PM ");
    let tokens: Vec<&str> = cleaned.split_whitespace().collect();
    let mut i = 0;
    while i < tokens.len() {
        let tok = tokens[i].trim_end_matches('.');
        i += 1;
        if tok.is_empty() {
            continue;
        }
        let upper = tok.to_ascii_uppercase();
        if upper == "AM" || upper == "PM" {
            parts.pm = Some(upper == "PM");
            continue;
        }
        if let Some(m) = month_number(tok) {
            parts.month = Some(m);
            continue;
        }
        if matches!(
            upper.get(..3),
            Some("MON" | "TUE" | "WED" | "THU" | "FRI" | "SAT" | "SUN")
        ) && tok.chars().all(|c| c.is_ascii_alphabetic())
        {
            continue;
        }
        if tok.chars().next().is_some_and(|c| c.is_ascii_digit())
            && tok.contains(':')
            && !tok.contains(['-', '/'])
        {
            parse_time(tok, &mut parts)?;
            continue;
        }
        if tok.chars().next().is_some_and(|c| c.is_ascii_digit())
            && tok.contains(['-', '/', '.', 'T'])
        {
            // A date token, possibly with an offset glued after a time ("2024-07-08T…-00:20").
            if (tok.len() > 10 || tok.contains(['-', '/', '.']))
                && parse_date_token(tok, &mut parts).is_some()
            {
                continue;
            }
        }
        if let Some(off) = zone_offset(tok) {
            if parts.time.is_some() || parts.year.is_some() {
                parts.offset = Some(off);
                continue;
            }
        }
        if let Ok(n) = tok.parse::<u32>() {
            parts.numbers.push((n, tok.len()));
            continue;
        }
        return None;
    }
    // Bare numbers: Y M D in Korean order, or D Y / Y D around a month name.
    let numbers = std::mem::take(&mut parts.numbers);
    for (n, len) in numbers {
        if len > 4 {
            return None;
        } else if parts.year.is_none() && (len == 4 || n > 31) {
            parts.year = Some(n as i32);
        } else if parts.month.is_none() && parts.year.is_some() && parts.day.is_none() {
            parts.month = Some(n);
        } else if parts.day.is_none() {
            parts.day = Some(n);
        } else if parts.year.is_none() {
            parts.year = Some(if len <= 2 { 2000 + n as i32 } else { n as i32 });
        } else {
            return None;
        }
    }
    // W3C-DTF allows a bare year ("2003") and a year and month ("2003-12").
    let month = match (parts.month, parts.day) {
        (Some(m), _) => m,
        (None, None) => 1,
        (None, Some(_)) => return None,
    };
    let date = NaiveDate::from_ymd_opt(parts.year?, month, parts.day.unwrap_or(1))?;
    let (mut h, m, s) = parts.time.unwrap_or((0, 0, 0));
    match parts.pm {
        Some(true) if h < 12 => h += 12,
        Some(false) if h == 12 => h = 0,
        _ => {}
    }
    let naive = if h == 24 {
        NaiveDateTime::new(date.succ_opt()?, NaiveTime::from_hms_opt(0, m, s)?)
    } else {
        NaiveDateTime::new(date, NaiveTime::from_hms_opt(h, m, s)?)
    };
    match parts.offset {
        Some(off) => {
            let fixed = FixedOffset::east_opt(off * 60)?;
            fixed
                .from_local_datetime(&naive)
                .single()
                .map(|d| d.with_timezone(&Utc))
        }
        None => match tz.from_local_datetime(&naive) {
            LocalResult::Single(d) => Some(d.with_timezone(&Utc)),
            LocalResult::Ambiguous(d, _) => Some(d.with_timezone(&Utc)),
            LocalResult::None => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Asia::Seoul;
    use chrono_tz::UTC;

    fn utc(s: &str) -> Option<DateTime<Utc>> {
        Some(DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc))
    }

    #[test]
    fn dates_in_every_shape_members_use() {
        let cases = [
            (
                "2024-10-05T21:30:00+09:00",
                Seoul,
                utc("2024-10-05T12:30:00Z"),
            ),
            (
                "Sat, 05 Oct 2024 21:30:00 +0900",
                Seoul,
                utc("2024-10-05T12:30:00Z"),
            ),
            (
                "Mon, 05 Oct 2024 21:30:00 +0900",
                Seoul,
                utc("2024-10-05T12:30:00Z"),
            ), // wrong weekday
            (
                "Sat, 05 Oct 2024 12:30:00 GMT",
                Seoul,
                utc("2024-10-05T12:30:00Z"),
            ),
            (
                "Sat, 05 Oct 2024 21:30:00 KST",
                UTC,
                utc("2024-10-05T12:30:00Z"),
            ),
            ("2024-10-05 21:30:00", Seoul, utc("2024-10-05T12:30:00Z")), // zone-less = club zone
            ("2024-10-05T21:30:00", Seoul, utc("2024-10-05T12:30:00Z")),
            ("2024-10-05", Seoul, utc("2024-10-04T15:00:00Z")),
            ("2024년 1월 5일 12:00", Seoul, utc("2024-01-05T03:00:00Z")),
            (
                "2004년 05월 28일  01:31:15",
                Seoul,
                utc("2004-05-27T16:31:15Z"),
            ),
            (
                "2004-05-25 오후 11:23:17",
                Seoul,
                utc("2004-05-25T14:23:17Z"),
            ),
            ("2024. 1. 5. 오후 3:05", Seoul, utc("2024-01-05T06:05:00Z")),
            ("2024.10.05 21:30", Seoul, utc("2024-10-05T12:30:00Z")),
            (
                "Thu, 01 Jan 04 19:48:21 GMT",
                UTC,
                utc("2004-01-01T19:48:21Z"),
            ),
            (
                "Thu,  5 Apr 2012 10:00:00 GMT",
                UTC,
                utc("2012-04-05T10:00:00Z"),
            ),
            (
                "Wed, 19 Feb 2012 22:40:00 GMT-01:01",
                UTC,
                utc("2012-02-19T23:41:00Z"),
            ),
            (
                "Mon, 13 Feb, 2012 06:28:00 UTC",
                UTC,
                utc("2012-02-13T06:28:00Z"),
            ),
            ("Thu, 01 Jan 2004", UTC, utc("2004-01-01T00:00:00Z")),
            (
                "Mon, 26 January 2004 16:31:00 PT",
                UTC,
                utc("2004-01-27T00:31:00Z"),
            ),
            (
                "Thu Aug 30 2012 17:26:16 +0200",
                UTC,
                utc("2012-08-30T15:26:16Z"),
            ),
            ("Sun Jan  4 16:29:06 2004", UTC, utc("2004-01-04T16:29:06Z")),
            (
                "2007-04-23T23:25:47.538+10:00",
                UTC,
                utc("2007-04-23T13:25:47Z"),
            ),
            (
                "2004-07-08 23:56:58 -00:20",
                UTC,
                utc("2004-07-09T00:16:58Z"),
            ),
            ("2003-12", UTC, utc("2003-12-01T00:00:00Z")),
            ("2003", UTC, utc("2003-01-01T00:00:00Z")),
            ("2013-01-27-01", UTC, None),
            ("Κυρ, 11 Ιούλ 2004 12:00:00 EST", UTC, None),
            ("", Seoul, None),
            ("Sun, 16 zzz 2012 11:47:32 GMT", UTC, None),
            ("2003-12-31T25:14:55Z", UTC, None),
            ("Sun, 99 Jun 2009 12:00:00 GMT", UTC, None),
            ("not a date", UTC, None),
        ];
        for (input, tz, want) in cases {
            assert_eq!(parse_date(input, tz), want, "{input}");
        }
    }

    #[test]
    fn euc_kr_declared_in_prolog_is_decoded_once() {
        let body = "<?xml version=\"1.0\" encoding=\"CP949\"?><rss version=\"2.0\"><channel><title>혜진의 블로그</title><item><title>첫 글</title><link>https://hyejin.dev/1</link></item></channel></rss>";
        let (bytes, _, _) = encoding_rs::EUC_KR.encode(body);
        let parsed = parse(&bytes, None, None, Seoul).unwrap();
        assert_eq!(parsed.encoding, "EUC-KR");
        assert_eq!(parsed.feed.title.unwrap().content, "혜진의 블로그");
        assert_eq!(
            parsed.feed.entries[0].title.as_ref().unwrap().content,
            "첫 글"
        );
    }

    #[test]
    fn http_charset_wins_over_a_missing_prolog_and_wrong_one_falls_back() {
        let body = "<rss version=\"2.0\"><channel><title>한글</title></channel></rss>";
        let (bytes, _, _) = encoding_rs::EUC_KR.encode(body);
        let parsed = parse(&bytes, Some("euc-kr"), None, Seoul).unwrap();
        assert_eq!(parsed.feed.title.unwrap().content, "한글");
        // Declared EUC-KR but really UTF-8.
        let parsed = parse(body.as_bytes(), Some("ks_c_5601-1987"), None, Seoul).unwrap();
        assert_eq!(parsed.feed.title.unwrap().content, "한글");
        assert!(
            parsed.repairs.iter().any(|r| r.contains("does not fit")),
            "{:?}",
            parsed.repairs
        );
    }

    #[test]
    fn common_breakage_is_repaired_and_reported() {
        let body = "\n\n<?xml version=\"1.0\"?>\n<rss version=\"2.00\"><channel><title>R&D \u{8}log</title><item><title>A &hellip; B &amp; C</title><description><![CDATA[x && y]]></description><link>https://a.example/1?x=1&y=2</link></item></channel></rss>";
        let parsed = parse(body.as_bytes(), None, None, Seoul).unwrap();
        assert_eq!(parsed.feed.title.unwrap().content, "R&D log");
        let e = &parsed.feed.entries[0];
        assert_eq!(e.title.as_ref().unwrap().content, "A … B & C");
        assert_eq!(e.summary.as_ref().unwrap().content, "x && y");
        assert_eq!(e.links[0].href, "https://a.example/1?x=1&y=2");
        let r = parsed.repairs.join("; ");
        for want in [
            "whitespace before",
            "control character",
            "bare '&'",
            "named entit",
            "version=\"2.00\"",
        ] {
            assert!(r.contains(want), "missing {want:?} in {r}");
        }
    }

    #[test]
    fn rss_without_version_and_atom_03_are_read() {
        let parsed = parse(
            b"<rss><channel><title>t</title><item><title>a</title></item></channel></rss>",
            None,
            None,
            Seoul,
        )
        .unwrap();
        assert_eq!(parsed.feed.entries.len(), 1);
        let atom03 = r#"<?xml version="1.0"?><feed version="0.3" xmlns="http://purl.org/atom/ns#"><title>old</title><modified>2004-05-01T00:00:00Z</modified><entry><title>one</title><id>urn:1</id><link rel="alternate" href="https://old.example/1"/><issued>2004-04-30T10:00:00+09:00</issued><modified>2004-05-01T00:00:00Z</modified></entry></feed>"#;
        let parsed = parse(atom03.as_bytes(), None, None, Seoul).unwrap();
        assert_eq!(parsed.format, Format::Atom03);
        assert_eq!(parsed.feed.entries.len(), 1);
        assert_eq!(
            parsed.feed.entries[0].published,
            utc("2004-04-30T01:00:00Z")
        );
    }

    #[test]
    fn atom_text_constructs_with_mime_types_are_mapped_and_links_kept() {
        let doc = r#"<feed version="0.3" xmlns="http://purl.org/atom/ns#"><title type="text/plain" mode="escaped">t</title><tagline type="text/html">&lt;b&gt;sub&lt;/b&gt;</tagline><link rel="alternate" type="text/html" href="https://x.example/"/><entry><title type="application/xhtml+xml"><div xmlns="http://www.w3.org/1999/xhtml">e</div></title><id>urn:e</id><link rel="alternate" type="text/html" href="https://x.example/e"/><issued>2004-01-01T00:00:00Z</issued></entry></feed>"#;
        let parsed = parse(doc.as_bytes(), None, None, Seoul).unwrap();
        assert_eq!(parsed.feed.title.unwrap().content, "t");
        assert_eq!(parsed.feed.entries.len(), 1);
        assert_eq!(
            parsed.feed.entries[0].links[0].media_type.as_deref(),
            Some("text/html")
        );
        assert!(
            parsed.repairs.iter().any(|r| r.contains("MIME type")),
            "{:?}",
            parsed.repairs
        );
    }

    #[test]
    fn an_xhtml_doctype_before_rss_is_not_an_html_page() {
        let doc = r#"<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "x"><rss version="2.0"><channel><title>t</title></channel></rss>"#;
        assert!(parse(doc.as_bytes(), None, None, Seoul).is_ok());
    }

    #[test]
    fn hostile_documents_are_refused_or_defused() {
        let deep = format!(
            "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>t</title><entry><content type=\"xhtml\">{}{}</content></entry></feed>",
            "<div>".repeat(5000),
            "</div>".repeat(5000)
        );
        let err = parse(deep.as_bytes(), None, None, Seoul).unwrap_err();
        assert!(err.to_string().contains("nested 5003 deep"), "{err}");
        let laughs = r#"<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;">]><rss version="2.0"><channel><title>&lol1;</title></channel></rss>"#;
        let parsed = parse(laughs.as_bytes(), None, None, Seoul).unwrap();
        assert_eq!(parsed.feed.title.unwrap().content, "&lol1;");
        assert!(
            parsed.repairs.iter().any(|r| r.contains("DTD")),
            "{:?}",
            parsed.repairs
        );
    }

    /// Found by cargo fuzz: a second XML declaration with an encoding after the first content
    /// made quick-xml panic ("set_encoding() called after prefix buffer was drained").
    #[test]
    fn regression_a_second_xml_declaration_mid_document() {
        let doc = "<!-- c --><feed xmlns=\"http://www.w3.org/2005/Atom\"><title>t</title><entry><title>a</title><id>urn:a</id><content type=\"html\">x</content><?xml version=\"1.0\" encoding=\"euc-kr\"?></entry></feed>";
        let parsed = parse(doc.as_bytes(), None, None, Seoul).unwrap();
        assert_eq!(parsed.feed.entries.len(), 1);
        assert!(parsed
            .repairs
            .iter()
            .any(|r| r.contains("XML declaration in the middle")));
    }

    /// Found by cargo fuzz: when the document's first character was several bytes long, the
    /// search for misplaced declarations never started, and quick-xml panicked on one.
    #[test]
    fn regression_a_misplaced_declaration_after_a_multibyte_first_character() {
        let doc = "\u{cf}<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>t</title><entry><title>a</title><id>urn:a</id><content type=\"html\">x</content><?xml version=\"1.0\" encoding=\"iso-8859-1\"?></entry></feed>";
        let stripped = strip_misplaced_declarations(doc).unwrap();
        assert!(!stripped.contains("<?xml"), "{stripped}");
        assert!(stripped.starts_with("\u{cf}<feed"));
        let parsed = parse(doc.as_bytes(), None, None, Seoul).unwrap();
        assert_eq!(parsed.feed.entries.len(), 1);
    }

    /// Found by cargo fuzz: a leading declaration cut short by another (`<?xml version="1<?xml
    /// …`) swallowed the markup up to a later `?>`, and quick-xml panicked switching encodings
    /// after its prefix buffer was drained. The leading declaration is dropped now.
    #[test]
    fn regression_a_leading_declaration_cut_short_by_another() {
        let padding = "x".repeat(9000);
        let doc = format!(
            "<?xml version=\"1<?xml version=\"1.0\" enco!ding=\"big5\"?>\n<!--\n{padding}\n<?xml version=\"1.0\" encoding=\"big5\"?>\n-->\n<rss version=\"2.0\"><channel><title>t</title><item><title>a</title><guid>g</guid></item></channel></rss>"
        );
        let parsed = parse(doc.as_bytes(), None, None, Seoul).unwrap();
        assert_eq!(parsed.feed.entries.len(), 1);
        assert_eq!(leading_declaration_len("<?xml version=\"1.0\"?><rss/>"), 21);
        assert_eq!(leading_declaration_len("<?xml version=\"1<rss/>"), 16);
        assert_eq!(
            leading_declaration_len("<?xml-stylesheet href=\"a\"?><rss/>"),
            0
        );
    }

    #[test]
    fn repairs_copy_the_document_only_when_they_change_it() {
        let mut repairs = Vec::new();
        let clean = "<rss version=\"2.0\"><channel><title>a &amp; b &#12; &#x1F; &lt;</title></channel></rss>";
        assert_eq!(repair_ampersands(clean, &mut repairs), None);
        assert_eq!(repair_rss_version(clean, &mut repairs), None);
        let atom =
            "<feed><title type=\"html\">t</title><link type=\"text/html\" href=\"x\"/></feed>";
        assert_eq!(repair_text_types(atom, &mut repairs), None);
        assert!(repairs.is_empty(), "{repairs:?}");
        let fixed = repair_ampersands("<t>a &nbsp; & b <![CDATA[&x]]></t>", &mut repairs);
        assert_eq!(
            fixed.as_deref(),
            Some("<t>a &#160; &amp; b <![CDATA[&x]]></t>")
        );
        let fixed = repair_text_types(
            "<feed><title type='text/plain'>t</title></feed>",
            &mut repairs,
        );
        assert_eq!(
            fixed.as_deref(),
            Some("<feed><title type='text'>t</title></feed>")
        );
        // A UTF-8 body handed over is the text, byte for byte.
        let body = "<rss version=\"2.0\"><channel><title>한글</title></channel></rss>";
        let parsed = parse_vec(body.as_bytes().to_vec(), None, None, Seoul).unwrap();
        assert_eq!(parsed.encoding, "UTF-8");
        let broken =
            b"<rss version=\"2.0\"><channel><title>\xb0\xa1</title></channel></rss>".to_vec();
        let parsed = parse_vec(broken, None, None, Seoul).unwrap();
        assert_eq!(parsed.encoding, "EUC-KR");
    }

    /// Found by cargo fuzz: a non-ASCII character where the quote of `version=` belongs made the
    /// version repair slice inside a character.
    #[test]
    fn regression_a_multibyte_character_after_rss_version() {
        let doc = "<rss version=\u{fffd}\"2.0\"><channel><title>t</title></channel></rss>";
        let _ = parse(doc.as_bytes(), None, None, Seoul);
        let doc = b"<rss version=\xb1\"2.0\"><channel><title>t</title></channel></rss>";
        let _ = parse(doc, None, None, Seoul);
    }

    #[test]
    fn a_truncated_download_keeps_its_complete_entries() {
        let doc = "<rss version=\"2.0\"><channel><title>t</title><item><title>a</title></item><item><title>b</title></item><item><title>잘";
        let parsed = parse(doc.as_bytes(), None, None, Seoul).unwrap();
        assert_eq!(parsed.feed.entries.len(), 2);
        assert!(parsed
            .repairs
            .iter()
            .any(|r| r.contains("kept the 2 complete entries")));
        assert!(parse(
            b"<rss version=\"2.0\"><channel><title>t</tit",
            None,
            None,
            Seoul
        )
        .is_err());
    }

    #[test]
    fn a_latin_1_header_on_utf8_korean_is_overruled() {
        let doc = "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel><title>한글 제목</title></channel></rss>";
        let parsed = parse(doc.as_bytes(), Some("iso-8859-1"), None, Seoul).unwrap();
        assert_eq!(parsed.feed.title.unwrap().content, "한글 제목");
        assert_eq!(parsed.encoding, "UTF-8");
    }

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
