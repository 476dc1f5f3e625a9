//! feed-rs entries to [`Post`]s: identity key, link normalisation, dates, titles, text and length.
//!
//! This stage owns the rules for the entries of a single feed (the README's *What the tool does
//! with a feed*): an entry is known by the feed's own guid/atom:id when it really has one, else by
//! its normalised link, else by a hash of title and published time — never by an id feed-rs
//! invented. Titles are text unless the feed says they are HTML (Atom `type="html"`/`xhtml`, an
//! RSS title written with literal markup): text only loses HTML entities and control characters,
//! and an escaped `&lt;b&gt;` stays the text `<b>`. The full text (where the feed carries it)
//! gives the length used by the club's `min_chars` rule; the summary is plain text for
//! republishing.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use feed_rs::model::{Entry, Feed, Text};

use crate::ids::stable_hash;
use crate::parse::{is_control, ParsedFeed, GENERATED_ID_PREFIX};

/// Entries kept per feed: a feed of 100,000 entries keeps its newest this many.
pub const MAX_ENTRIES: usize = 2000;

/// How long the plain-text summary may be, in characters.
pub const SUMMARY_CHARS: usize = 300;

/// One entry of one feed, normalised.
#[derive(Debug, Clone, PartialEq)]
pub struct Post {
    /// Identity within the feed: `guid:…`, `link:…` or `hash:…`.
    pub key: String,
    /// Title as plain text (entities decoded, no control characters).
    pub title: String,
    /// The original link, absolute, as the feed gave it.
    pub link: Option<String>,
    /// The link normalised for matching (never published).
    pub normalised_link: Option<String>,
    /// `published` from the feed.
    pub published: Option<DateTime<Utc>>,
    /// `updated` from the feed.
    pub updated: Option<DateTime<Utc>>,
    /// Plain-text summary, about [`SUMMARY_CHARS`] characters.
    pub summary: String,
    /// The full post as HTML when the feed carries it (unsanitised: sanitised at output).
    pub content_html: Option<String>,
    /// Length by the club's rule, or `None` when the feed carries only a summary.
    pub chars: Option<usize>,
    /// The length is that of an RSS `description` taken as the full text (Tistory and Velog put
    /// the post there — unless the blogger publishes only a summary, so a short one is checked
    /// against the post's page before it counts as short).
    pub chars_from_description: bool,
    /// What looked wrong with this entry.
    pub warnings: Vec<String>,
}

/// Feed-level facts kept for `atom:source` and health.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedMeta {
    /// The feed's title.
    pub title: String,
    /// The feed's own id (atom:id, or its URL).
    pub id: String,
    /// The blog's homepage.
    pub site_link: Option<String>,
    /// The feed's updated time.
    pub updated: Option<DateTime<Utc>>,
}

/// Normalises every entry of a parsed feed. Later duplicates of a key are dropped with a warning.
pub fn normalise(
    parsed: &ParsedFeed,
    feed_url: &str,
    min_chars: usize,
) -> (FeedMeta, Vec<Post>, Vec<String>) {
    normalise_with(parsed, feed_url, min_chars, true)
}

/// [`normalise`], keeping each post's full HTML only when `keep_html` (`content = "full"`):
/// otherwise it is read for its length and never copied.
pub fn normalise_with(
    parsed: &ParsedFeed,
    feed_url: &str,
    min_chars: usize,
    keep_html: bool,
) -> (FeedMeta, Vec<Post>, Vec<String>) {
    let feed = &parsed.feed;
    let meta = FeedMeta {
        title: feed.title.as_ref().map(clean_title).unwrap_or_default(),
        id: if feed.id.is_empty() || feed.id.starts_with(GENERATED_ID_PREFIX) {
            feed_url.to_string()
        } else {
            clean_text(&feed.id)
        },
        site_link: feed
            .links
            .iter()
            .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
            .map(|l| l.href.clone()),
        updated: feed.updated,
    };
    let full_description = description_is_full_text(feed);
    let mut seen = HashSet::new();
    let mut warnings = Vec::new();
    let mut entries: Vec<&Entry> = feed.entries.iter().collect();
    if entries.len() > MAX_ENTRIES {
        warnings.push(format!(
            "{} entries: kept the newest {MAX_ENTRIES}",
            entries.len()
        ));
        let mut order: Vec<usize> = (0..entries.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(entries[i].published.or(entries[i].updated)));
        let mut keep: Vec<usize> = order.into_iter().take(MAX_ENTRIES).collect();
        keep.sort_unstable();
        entries = keep.into_iter().map(|i| entries[i]).collect();
    }
    let mut posts = Vec::with_capacity(entries.len());
    for entry in entries {
        let post = normalise_entry(entry, full_description, min_chars, keep_html);
        if !seen.insert(post.key.clone()) {
            warnings.push(format!(
                "duplicate entry key {} (\"{}\"): kept the first",
                post.key, post.title
            ));
            continue;
        }
        posts.push(post);
    }
    (meta, posts, warnings)
}

/// Tistory and Velog put the whole post in RSS `description`.
fn description_is_full_text(feed: &Feed) -> bool {
    let generator = feed
        .generator
        .as_ref()
        .map(|g| g.content.to_ascii_lowercase())
        .unwrap_or_default();
    let host_is = |suffix: &str| {
        feed.links.iter().any(|l| {
            url::Url::parse(&l.href)
                .ok()
                .and_then(|u| {
                    u.host_str()
                        .map(|h| h == suffix || h.ends_with(&format!(".{suffix}")))
                })
                .unwrap_or(false)
        })
    };
    generator.contains("tistory") || host_is("tistory.com") || host_is("velog.io")
}

fn normalise_entry(
    entry: &Entry,
    full_description: bool,
    min_chars: usize,
    keep_html: bool,
) -> Post {
    let mut warnings = Vec::new();
    let title = entry.title.as_ref().map(clean_title).unwrap_or_default();
    if title.is_empty() {
        warnings.push("no title".to_string());
    }
    let link = entry_link(entry);
    let normalised_link = link.as_deref().and_then(normalise_link);
    let guid = (!entry.id.is_empty() && !entry.id.starts_with(GENERATED_ID_PREFIX))
        .then(|| clean_text(&entry.id));
    let key = match (&guid, &normalised_link) {
        (Some(g), _) if !g.is_empty() => format!("guid:{g}"),
        (_, Some(l)) => format!("link:{l}"),
        _ => {
            let published = entry.published.map(|p| p.to_rfc3339()).unwrap_or_default();
            let mut basis = format!("{title}\u{1}{published}");
            // With neither a title nor a date, only the text tells items apart (RSS 0.92 allows
            // items that are a description alone).
            if title.is_empty() && published.is_empty() {
                let text = entry.summary.as_ref().map(|t| t.content.as_str());
                let text = text.or_else(|| entry.content.as_ref().and_then(|c| c.body.as_deref()));
                basis.push('\u{1}');
                basis.push_str(text.unwrap_or_default());
            }
            format!("hash:{}", stable_hash(basis.as_bytes()))
        }
    };
    if entry.published.is_none() && entry.updated.is_none() {
        warnings.push("no date: first_seen stands in".to_string());
    }
    let content = entry
        .content
        .as_ref()
        .and_then(|c| c.body.as_deref())
        .filter(|b| !b.trim().is_empty());
    let description = entry
        .summary
        .as_ref()
        .map(|s| s.content.as_str())
        .filter(|s| !s.trim().is_empty());
    // Only the summary's first characters of the text are kept (SUMMARY_CHARS + 1 tell
    // `truncate_chars` whether it must cut).
    let text = |html: &str| html_text_up_to(html, SUMMARY_CHARS + 1);
    // Beside a description (which gives the summary), full content gives only its length: it
    // is counted, not collected.
    let content_text = content.map(|html| match description {
        Some(_) => html_text_up_to(html, 0),
        None => text(html),
    });
    // Beside full content, a description gives only the summary: its length is not needed.
    let description_text = description.map(|html| match content_text {
        Some(_) => html_text_prefix(html, SUMMARY_CHARS + 1),
        None => text(html),
    });
    let (full_html, chars, chars_from_description) = full_text(
        content,
        content_text.as_ref(),
        description,
        description_text.as_ref(),
        full_description,
        min_chars,
    );
    if let Some(warning) = length_warning(chars, chars_from_description, min_chars) {
        warnings.push(warning);
    }
    let summary_source = description_text.as_ref().or(content_text.as_ref());
    let summary = summary_source
        .map(|t| truncate_chars(&t.text, SUMMARY_CHARS))
        .unwrap_or_default();
    Post {
        key,
        title,
        link,
        normalised_link,
        published: entry.published,
        updated: entry.updated,
        summary,
        content_html: full_html.filter(|_| keep_html).map(str::to_string),
        chars,
        chars_from_description,
        warnings,
    }
}

/// The length a post is judged by: the feed's, unless it is an RSS `description` under
/// `min_chars` and post pages are read — then only the page's length counts, and until the
/// page is read the length is unknown (a post is never short on a summary alone). With pages
/// off, the description's length stands.
pub fn judged_length(
    chars: Option<u64>,
    source: Option<&str>,
    min_chars: usize,
    pages: bool,
) -> Option<u64> {
    match (chars, source) {
        (Some(c), Some("description")) if pages && c < min_chars as u64 => None,
        _ => chars,
    }
}

/// The entry's full text (HTML) and its length: Atom content / `content:encoded`, else an RSS
/// `description` where it holds the whole post (Tistory, Velog, or already `min_chars` long);
/// whether the length is a description's; `None` when the feed carries only a summary.
fn full_text<'a>(
    content: Option<&'a str>,
    content_text: Option<&HtmlText>,
    description: Option<&'a str>,
    description_text: Option<&HtmlText>,
    full_description: bool,
    min_chars: usize,
) -> (Option<&'a str>, Option<usize>, bool) {
    match (content, content_text) {
        (Some(html), Some(t)) => (Some(html), Some(t.chars), false),
        _ => match (description, description_text) {
            (Some(html), Some(t)) if full_description || t.chars >= min_chars => {
                (Some(html), Some(t.chars), true)
            }
            _ => (None, None, false),
        },
    }
}

/// What `inspect` says about a length that may not count as it is.
fn length_warning(
    chars: Option<usize>,
    from_description: bool,
    min_chars: usize,
) -> Option<String> {
    match chars {
        None => Some("length-unknown: the feed carries no full text".to_string()),
        Some(c) if from_description && c < min_chars => Some(format!(
            "the description ({c} characters) is under min_chars: it may be only a summary, so \
             the post's page is read before the post counts as short"
        )),
        Some(_) => None,
    }
}

/// The entry's link to the post: its alternate (or rel-less) link, else its first link that is
/// not about something else (comments, an enclosure, the entry's own edit or self address).
/// An id is never taken as the link: the parse stage gives an RSS item its permalink guid as a
/// link when the item has no `<link>`, and a guid that is not a permalink is never one.
fn entry_link(entry: &Entry) -> Option<String> {
    let rel = |l: &&feed_rs::model::Link| l.rel.as_deref().unwrap_or("alternate").to_string();
    let own = |l: &&feed_rs::model::Link| l.target.is_none() && !l.href.trim().is_empty();
    entry
        .links
        .iter()
        .filter(own)
        .find(|l| rel(l) == "alternate")
        .or_else(|| {
            entry.links.iter().filter(own).find(|l| {
                !matches!(
                    rel(l).as_str(),
                    "enclosure" | "replies" | "edit" | "self" | "edit-media" | "hub" | "license"
                )
            })
        })
        .map(|l| clean_text(&l.href))
        .filter(|l| !l.is_empty())
}

/// Removes control characters and trims.
pub fn clean_text(s: &str) -> String {
    if !s.chars().any(is_control) {
        return s.trim().to_string();
    }
    s.chars()
        .filter(|c| !is_control(*c))
        .collect::<String>()
        .trim()
        .to_string()
}

/// A feed's or an entry's title as plain text, by what the feed says it is. Markup — Atom
/// `type="html"` or `"xhtml"`, or an RSS title written with literal markup (the parse stage
/// marks those `text/html`) — gives its visible text; markup that leaves no text at all (a
/// lone `<script>…`) is taken as text instead, so no title is lost to reading it as HTML.
/// Text — Atom `type="text"`, every other RSS title, JSON Feed — is never read as HTML: only
/// its entities are decoded (feeds often double-escape), so `&lt;b&gt;` and `<!channel>` stay
/// the text they are. Control characters are removed and whitespace collapsed either way.
pub fn clean_title(title: &Text) -> String {
    let markup = matches!(title.content_type.subty().as_str(), "html" | "xhtml");
    title_text(&title.content, markup)
}

/// [`clean_title`] of a title's content, read as markup or as text.
fn title_text(s: &str, markup: bool) -> String {
    if markup {
        let text = one_line(&html_text(s).text);
        if !text.is_empty() {
            return text;
        }
    }
    one_line(&html_escape::decode_html_entities(s))
}

/// Text on one line: control characters removed, whitespace collapsed and trimmed. Stored text
/// (titles, summaries, names) is shown this way and never parsed as HTML again.
pub fn one_line(s: &str) -> String {
    clean_text(s)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Cuts plain text to at most `max` characters at a word boundary, adding `…` when cut.
pub fn truncate_chars(text: &str, max: usize) -> String {
    // Stops at the limit rather than counting a whole post's text.
    if text.char_indices().nth(max).is_none() {
        return text.to_string();
    }
    let end = text
        .char_indices()
        .nth(max.saturating_sub(1))
        .map_or(text.len(), |(at, _)| at);
    let cut = &text[..end];
    let at_word = match cut.rfind(char::is_whitespace) {
        Some(p) if p > cut.len() / 2 => &cut[..p],
        _ => cut,
    };
    format!("{}…", at_word.trim_end())
}

/// Visible text of an HTML fragment and its length by the club's rule.
#[derive(Debug, Clone, PartialEq)]
pub struct HtmlText {
    /// The visible text, whitespace collapsed (code included, scripts and styles not).
    pub text: String,
    /// Characters without whitespace and without `<pre>`/`<code>` content.
    pub chars: usize,
}

// The element lists [`tag_kind`] matches on, spelled out for the tests (which check the match
// against them and use them in the html5ever reference walk).
/// Elements whose content is never visible text (skipped up to their end tag).
#[cfg(test)]
const HIDDEN: [&str; 6] = ["script", "style", "template", "noscript", "head", "title"];
/// Raw-text elements whose content is text as it stands (no tags, no entities inside).
#[cfg(test)]
const RAW_TEXT: [&str; 4] = ["iframe", "xmp", "noembed", "noframes"];
/// Elements that separate words: a space goes before and after them.
#[cfg(test)]
const BLOCKS: [&str; 18] = [
    "p",
    "div",
    "br",
    "li",
    "pre",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "tr",
    "blockquote",
    "figure",
    "figcaption",
    "section",
    "article",
    "hr",
];

/// Extracts the visible text of an HTML fragment in one pass over the markup: tags are dropped
/// (a block element becomes a space), comments and declarations skipped, the contents of
/// `script`/`style`/`template`/`noscript`/`head`/`title` left out, entities decoded, and text
/// inside `<pre>`/`<code>` kept in the text but not counted. It reads text as an HTML parser
/// does for the markup feeds carry (attribute values may hold `>`, a `<` not starting a tag is
/// text), without building a tree: a post's length is needed for every entry of every feed.
pub fn html_text(html: &str) -> HtmlText {
    html_text_up_to(html, usize::MAX)
}

/// [`html_text`] whose text stops after `max_text` characters (the length still counts all of
/// it): a summary needs only its first few hundred characters of a post.
pub fn html_text_up_to(html: &str, max_text: usize) -> HtmlText {
    read_text(html, max_text, true)
}

/// The first `max_text` characters of an HTML fragment's text, and no more reading: its
/// `chars` counts only what was read.
fn html_text_prefix(html: &str, max_text: usize) -> HtmlText {
    read_text(html, max_text, false)
}

fn read_text(html: &str, max_text: usize, count_all: bool) -> HtmlText {
    let mut out = TextSink::new(max_text);
    let mut code_depth = 0usize;
    let mut rest = html;
    while !rest.is_empty() && (count_all || out.room > 0) {
        let Some(lt) = memchr::memchr(b'<', rest.as_bytes()) else {
            out.push_raw(rest, code_depth > 0);
            break;
        };
        out.push_raw(&rest[..lt], code_depth > 0);
        rest = &rest[lt..];
        match markup(rest) {
            Markup::Text => {
                out.push_text("<", code_depth > 0);
                rest = &rest[1..];
            }
            Markup::Skip(len) => rest = &rest[len..],
            Markup::Unterminated => break,
            Markup::Tag { name, end, len } => {
                rest = &rest[len..];
                let kind = tag_kind(name);
                if kind.block {
                    out.space();
                }
                if kind.code {
                    code_depth = if end {
                        code_depth.saturating_sub(1)
                    } else {
                        code_depth + 1
                    };
                }
                if !end && (kind.hidden || kind.raw) {
                    let (content, after) = until_end_tag(rest, name);
                    if kind.raw {
                        out.push_text(content, code_depth > 0);
                    }
                    rest = after;
                }
            }
        }
    }
    HtmlText {
        text: out.text,
        chars: out.chars,
    }
}

/// What an element is to the text reader: a block (a word boundary before and after it), code
/// (kept in the text, not counted), hidden (`script`, `style`, … : skipped to its end tag) or
/// raw text (`iframe`, `xmp`, … : its content is text as it stands).
#[derive(Debug, Default, PartialEq)]
struct TagKind {
    block: bool,
    code: bool,
    hidden: bool,
    raw: bool,
}

/// The kind of the element `name` (any case), by one match on its lowercased name: tags come
/// every few dozen bytes of a post, so comparing each with every list would cost.
fn tag_kind(name: &str) -> TagKind {
    let mut lower = [0u8; 10];
    let Some(buf) = lower.get_mut(..name.len()) else {
        return TagKind::default();
    };
    for (d, s) in buf.iter_mut().zip(name.bytes()) {
        *d = s.to_ascii_lowercase();
    }
    let (block, code, hidden, raw) = match &*buf {
        b"pre" => (true, true, false, false),
        b"code" => (false, true, false, false),
        b"p" | b"div" | b"br" | b"li" | b"h1" | b"h2" | b"h3" | b"h4" | b"h5" | b"h6" | b"tr"
        | b"blockquote" | b"figure" | b"figcaption" | b"section" | b"article" | b"hr" => {
            (true, false, false, false)
        }
        b"script" | b"style" | b"template" | b"noscript" | b"head" | b"title" => {
            (false, false, true, false)
        }
        b"iframe" | b"xmp" | b"noembed" | b"noframes" => (false, false, false, true),
        _ => (false, false, false, false),
    };
    TagKind {
        block,
        code,
        hidden,
        raw,
    }
}

/// Collects visible text as it is read: control characters dropped, whitespace collapsed to one
/// space, no space at either end, at most `room` characters kept; counts the length as it goes.
struct TextSink {
    text: String,
    chars: usize,
    room: usize,
    space: bool,
    scratch: String,
}

impl TextSink {
    fn new(max_text: usize) -> Self {
        Self {
            text: String::new(),
            chars: 0,
            room: max_text,
            space: false,
            scratch: String::new(),
        }
    }

    /// A word boundary (a block element's edge).
    fn space(&mut self) {
        self.space = true;
    }

    /// Markup text: entities still to decode.
    fn push_raw(&mut self, raw: &str, in_code: bool) {
        if self.room == 0 && in_code {
            return; // neither kept nor counted
        }
        if memchr::memchr(b'&', raw.as_bytes()).is_some() {
            let mut decoded = std::mem::take(&mut self.scratch);
            decoded.clear();
            decode_entities(raw, &mut decoded);
            self.push_text(&decoded, in_code);
            self.scratch = decoded;
        } else {
            self.push_text(raw, in_code);
        }
    }

    /// Decoded text; code is kept in the text but not counted.
    fn push_text(&mut self, t: &str, in_code: bool) {
        if self.room == 0 {
            if !in_code {
                self.chars += count_visible(t);
            }
            return;
        }
        for c in t.chars() {
            if c.is_whitespace() {
                self.space = true;
            } else if !is_control(c) {
                if !in_code {
                    self.chars += 1;
                }
                if self.room > 0 {
                    if self.space && !self.text.is_empty() {
                        self.text.push(' ');
                        self.room = self.room.saturating_sub(1);
                    }
                    if self.room > 0 {
                        self.text.push(c);
                        self.room -= 1;
                    }
                }
                self.space = false;
            }
        }
    }
}

/// HTML text with its character references decoded, as html_escape decodes them: the few
/// references posts are full of (`&lt;` and `&gt;` in code, `&amp;`, `&quot;`, `&#39;`,
/// `&nbsp;`) are read here, and the rest of the text from the first other one is left to
/// html_escape's full table, which costs a lookup per reference.
fn decode_entities(raw: &str, out: &mut String) {
    const COMMON: [(&str, char); 6] = [
        ("&lt;", '<'),
        ("&gt;", '>'),
        ("&amp;", '&'),
        ("&quot;", '"'),
        ("&#39;", '\''),
        ("&nbsp;", '\u{a0}'),
    ];
    let mut rest = raw;
    while let Some(p) = memchr::memchr(b'&', rest.as_bytes()) {
        let (before, reference) = rest.split_at(p);
        out.push_str(before);
        match COMMON.iter().find(|(name, _)| reference.starts_with(name)) {
            Some((name, c)) => {
                out.push(*c);
                rest = &reference[name.len()..];
            }
            None => {
                html_escape::decode_html_entities_to_string(reference, out);
                return;
            }
        }
    }
    out.push_str(rest);
}

/// Characters that are neither whitespace nor control characters.
fn count_visible(s: &str) -> usize {
    // By bytes: an ASCII byte counts when graphic; a multi-byte character counts once, at its
    // lead byte (a branch-free sum the compiler vectorises). Only leads 0xC2 (C1 controls,
    // U+0085, U+00A0), 0xE1, 0xE2, 0xE3 (Unicode spaces) and 0xEF (U+FFFE, U+FFFF) can start an
    // invisible character: those are found with memchr, decoded, and taken back when invisible.
    let bytes = s.as_bytes();
    let counted: usize = bytes
        .iter()
        .map(|&b| usize::from(b.is_ascii_graphic() | (b >= 0xc0)))
        .sum();
    let invisible = memchr::memchr3_iter(0xc2, 0xe1, 0xe2, bytes)
        .chain(memchr::memchr2_iter(0xe3, 0xef, bytes))
        .filter(|&i| {
            s.get(i..)
                .and_then(|rest| rest.chars().next())
                .is_some_and(|c| c.is_whitespace() || is_control(c))
        })
        .count();
    counted - invisible
}

/// What a `<` starts.
enum Markup<'a> {
    /// Not markup: a literal `<`.
    Text,
    /// A comment, doctype or processing instruction of this many bytes.
    Skip(usize),
    /// A start or end tag of this many bytes.
    Tag {
        name: &'a str,
        end: bool,
        len: usize,
    },
    /// Markup cut off by the end of the input (dropped, as a parser does).
    Unterminated,
}

fn markup(s: &str) -> Markup<'_> {
    let b = s.as_bytes();
    match b.get(1) {
        Some(b'!') => {
            if let Some(body) = s.strip_prefix("<!--") {
                // `<!-->` and `<!--->` are empty comments.
                if body.starts_with('>') {
                    return Markup::Skip(5);
                }
                if body.starts_with("->") {
                    return Markup::Skip(6);
                }
                return body
                    .find("-->")
                    .map_or(Markup::Unterminated, |e| Markup::Skip(4 + e + 3));
            }
            s.find('>')
                .map_or(Markup::Unterminated, |e| Markup::Skip(e + 1))
        }
        Some(b'?') => s
            .find('>')
            .map_or(Markup::Unterminated, |e| Markup::Skip(e + 1)),
        Some(b'/') if b.get(2).is_some_and(u8::is_ascii_alphabetic) => tag(s, 2, true),
        Some(b'/') if b.get(2) == Some(&b'>') => Markup::Skip(3),
        Some(b'/') => s
            .find('>')
            .map_or(Markup::Unterminated, |e| Markup::Skip(e + 1)),
        Some(c) if c.is_ascii_alphabetic() => tag(s, 1, false),
        _ => Markup::Text,
    }
}

/// A tag whose name starts at byte `at`; its end is the first `>` outside a quoted value.
fn tag(s: &str, at: usize, end: bool) -> Markup<'_> {
    let b = s.as_bytes();
    let name_end = b[at..]
        .iter()
        .position(|c| c.is_ascii_whitespace() || *c == b'/' || *c == b'>')
        .map_or(b.len(), |p| at + p);
    let mut i = name_end;
    while i < b.len() {
        match b[i] {
            b'>' => {
                return Markup::Tag {
                    name: &s[at..name_end],
                    end,
                    len: i + 1,
                }
            }
            b'=' => {
                i += 1;
                while i < b.len() && b[i].is_ascii_whitespace() {
                    i += 1;
                }
                if let Some(&q) = b.get(i).filter(|c| **c == b'"' || **c == b'\'') {
                    match b[i + 1..].iter().position(|c| *c == q) {
                        Some(p) => i += p + 2,
                        None => return Markup::Unterminated,
                    }
                }
            }
            _ => i += 1,
        }
    }
    Markup::Unterminated
}

/// The content up to the end tag `</name` (any case) and what follows that end tag.
fn until_end_tag<'a>(s: &'a str, name: &str) -> (&'a str, &'a str) {
    let b = s.as_bytes();
    let mut from = 0;
    while let Some(p) = s[from..].find("</") {
        let at = from + p;
        let name_at = at + 2;
        let candidate = b.get(name_at..name_at + name.len());
        let follows = b.get(name_at + name.len());
        if candidate.is_some_and(|c| c.eq_ignore_ascii_case(name.as_bytes()))
            && follows.is_none_or(|c| c.is_ascii_whitespace() || *c == b'/' || *c == b'>')
        {
            let close = s[name_at..].find('>').map_or(s.len(), |e| name_at + e + 1);
            return (&s[..at], &s[close..]);
        }
        from = at + 2;
    }
    (s, "")
}

/// Tracking parameters dropped from links before matching.
fn is_tracking_param(key: &str, value: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k.starts_with("utm_")
        || matches!(
            k.as_str(),
            "fbclid" | "gclid" | "fromrss" | "trackingcode" | "ref_src" | "mc_cid" | "mc_eid"
        )
        || (k == "source" && value.to_ascii_lowercase().starts_with("rss"))
}

/// Normalises a link for matching: lowercase scheme and host, http → https, no `www.`,
/// no default port, no fragment, no trailing `/`, no tracking parameters, sorted query, upper-case
/// percent-escapes. Returns `None` for text that is not an absolute http(s) URL.
pub fn normalise_link(link: &str) -> Option<String> {
    let mut url = url::Url::parse(link.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let host = url.host_str()?.to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host).to_string();
    let port = url.port().filter(|p| *p != 80 && *p != 443);
    let mut pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, v)| !is_tracking_param(k, v))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    pairs.sort();
    url.set_fragment(None);
    url.set_query(None);
    if !pairs.is_empty() {
        url.query_pairs_mut().extend_pairs(pairs);
    }
    let path = url.path().trim_end_matches('/').to_string();
    let query = url.query().map(|q| format!("?{q}")).unwrap_or_default();
    let port = port.map(|p| format!(":{p}")).unwrap_or_default();
    Some(upper_percent_escapes(&format!(
        "https://{host}{port}{path}{query}"
    )))
}

/// `%ed` and `%ED` are the same escape; links are compared and published with upper-case ones.
pub fn upper_percent_escapes(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && bytes[i + 1].is_ascii_hexdigit()
            && bytes[i + 2].is_ascii_hexdigit()
        {
            out.push('%');
            out.push(bytes[i + 1].to_ascii_uppercase() as char);
            out.push(bytes[i + 2].to_ascii_uppercase() as char);
            i += 3;
        } else {
            let ch = s[i..].chars().next().unwrap_or('\u{fffd}');
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// A title normalised for cross-feed matching: lower case, letters and digits only.
///
/// ASCII and Hangul syllables, nearly every character of a member's title, are decided here;
/// std's Unicode tables answer only for the rest (they cost a table search per character, a
/// few percent of a cold run's CPU when done for every post).
pub fn normalise_title(title: &str) -> String {
    let mut out = String::with_capacity(title.len());
    for c in title.chars() {
        match c {
            'a'..='z' | '0'..='9' | '\u{AC00}'..='\u{D7A3}' => out.push(c),
            'A'..='Z' => out.push(c.to_ascii_lowercase()),
            _ if c.is_ascii() => {}
            _ if c.is_alphanumeric() => out.extend(c.to_lowercase()),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_description_is_never_judged_on_its_own_while_pages_are_read() {
        let judged = |chars, source, pages| judged_length(chars, source, 1000, pages);
        assert_eq!(judged(Some(400), Some("description"), true), None);
        assert_eq!(judged(Some(400), Some("description"), false), Some(400));
        assert_eq!(judged(Some(1400), Some("description"), true), Some(1400));
        assert_eq!(judged(Some(400), Some("feed"), true), Some(400));
        assert_eq!(judged(Some(400), Some("page"), true), Some(400));
        assert_eq!(judged(None, None, true), None);
    }
    use chrono_tz::Asia::Seoul;

    #[test]
    fn links_normalise_for_matching() {
        let cases = [
            (
                "http://www.Example.COM:80/a/b/?utm_source=x&b=2&a=1#frag",
                Some("https://example.com/a/b?a=1&b=2"),
            ),
            (
                "https://medium.com/@u/post-1a2b?source=rss-abc------2",
                Some("https://medium.com/@u/post-1a2b"),
            ),
            (
                "https://blog.naver.com/dw/2236?fromRss=true&trackingCode=rss",
                Some("https://blog.naver.com/dw/2236"),
            ),
            (
                "https://velog.io/@j/%ed%95%9c",
                Some("https://velog.io/@j/%ED%95%9C"),
            ),
            (
                "https://velog.io/@j/한",
                Some("https://velog.io/@j/%ED%95%9C"),
            ),
            (
                "https://example.com:8443/x/",
                Some("https://example.com:8443/x"),
            ),
            (
                "https://example.com/?fbclid=1&gclid=2",
                Some("https://example.com"),
            ),
            ("mailto:a@b.c", None),
            ("/relative", None),
        ];
        for (input, want) in cases {
            assert_eq!(normalise_link(input).as_deref(), want, "{input}");
        }
    }

    #[test]
    fn text_length_skips_whitespace_and_code() {
        let t = html_text("<p>가나 다라</p><pre><code>let x = 1;</code></pre><p>마&amp;<code>inline</code></p><script>evil()</script>");
        assert_eq!(t.chars, 6);
        assert_eq!(t.text, "가나 다라 let x = 1; 마&inline");
    }

    #[test]
    fn tag_kinds_follow_the_lists_in_any_case() {
        let names = BLOCKS.iter().chain(&HIDDEN).chain(&RAW_TEXT).chain(&[
            "code",
            "span",
            "a",
            "strong",
            "figcaptions",
            "x",
        ]);
        for name in names {
            let want = TagKind {
                block: BLOCKS.contains(name),
                code: matches!(*name, "pre" | "code"),
                hidden: HIDDEN.contains(name),
                raw: RAW_TEXT.contains(name),
            };
            assert_eq!(tag_kind(name), want, "{name}");
            assert_eq!(tag_kind(&name.to_ascii_uppercase()), want, "{name}");
        }
    }

    #[test]
    fn visible_characters_are_counted_by_bytes_as_by_chars() {
        let samples = [
            "가나 다라\u{a0}마\u{3000}바\u{2003}사\u{85}아\u{9f}자\u{ffff}",
            "é ñ © … — “인용” 😀 \t\n\r\u{1}\u{7f}",
            "",
        ];
        for s in samples {
            let by_chars = s
                .chars()
                .filter(|c| !c.is_whitespace() && !is_control(*c))
                .count();
            assert_eq!(count_visible(s), by_chars, "{s:?}");
        }
    }

    #[test]
    fn text_of_markup_that_trips_a_naive_stripper() {
        let cases = [
            // A `>` inside a quoted attribute does not end the tag.
            ("<a title=\"a > b\" href='x>y'>링크</a>", "링크", 2),
            // A `<` that starts no tag is text; an unterminated tag at the end is dropped.
            ("1 < 2 그리고 3<4 <img src=\"x", "1 < 2 그리고 3<4", 9),
            // Comments, doctypes and processing instructions vanish; `<br>` separates words.
            (
                "가<!-- 숨김 <p>x</p> -->나<!DOCTYPE html><?php echo 1 ?>다<br>라",
                "가나다 라",
                4,
            ),
            // Raw-text elements end only at their own end tag, in any case.
            (
                "<style>p > a { }</style><SCRIPT>if (a</b) {}</Script>보임",
                "보임",
                2,
            ),
            // Entities decode once; &nbsp; is whitespace and does not count.
            (
                "&lt;b&gt;&nbsp;&amp;amp; &#xAC00;&#44033;",
                "<b> &amp; 가각",
                10,
            ),
            // Unclosed code runs to its end tag: not counted.
            ("<p>글 <code>a<b>c</b>d</code> 끝", "글 acd 끝", 2),
        ];
        for (html, text, chars) in cases {
            let t = html_text(html);
            assert_eq!((t.text.as_str(), t.chars), (text, chars), "{html}");
        }
    }

    /// The tree walk this module used before the one-pass reader (scraper/html5ever): the
    /// reference the reader must agree with on well-formed markup.
    fn html5ever_text(html: &str) -> HtmlText {
        use ego_tree::NodeRef;
        use scraper::node::Node;
        fn walk(node: NodeRef<'_, Node>, in_code: bool, text: &mut String, chars: &mut usize) {
            for child in node.children() {
                match child.value() {
                    Node::Text(t) => {
                        text.push_str(t);
                        if !in_code {
                            *chars += count_visible(t);
                        }
                    }
                    Node::Element(e) => {
                        let name = e.name();
                        if HIDDEN.contains(&name) {
                            continue;
                        }
                        let block = BLOCKS.contains(&name);
                        if block {
                            text.push(' ');
                        }
                        let code = in_code || matches!(name, "pre" | "code");
                        walk(child, code, text, chars);
                        if block {
                            text.push(' ');
                        }
                    }
                    _ => walk(child, in_code, text, chars),
                }
            }
        }
        let fragment = scraper::Html::parse_fragment(html);
        let mut text = String::new();
        let mut chars = 0;
        walk(fragment.tree.root(), false, &mut text, &mut chars);
        HtmlText {
            text: one_line(&text),
            chars,
        }
    }

    mod agrees_with_html5ever {
        use super::*;
        use proptest::prelude::*;

        fn leaf() -> impl Strategy<Value = String> {
            prop_oneof![
                prop::sample::select(vec![
                    "가나다",
                    "글또 ",
                    " 회고",
                    "Rust",
                    "a b",
                    "\n",
                    "&amp;",
                    "&lt;",
                    "&gt;",
                    "&quot;",
                    "&nbsp;",
                    "&hellip;",
                    "&#xAC00;",
                    "&#44033;",
                    "1 < 2",
                    "x=\"y\"",
                    "<br>",
                    "<hr>",
                    "<img src=\"a.png\" alt=\"x > y\">",
                    "<!-- 주석 -->",
                    "<script>if (a < b) { x(\"</p>\"); }</script>",
                    "<style>p > a { }</style>",
                    "<input value='a>b'>",
                    "\u{8}",
                ])
                .prop_map(str::to_string),
                "[가-힣a-z ]{0,12}",
            ]
        }

        fn fragment() -> impl Strategy<Value = String> {
            leaf().prop_recursive(4, 48, 6, |inner| {
                (
                    prop::sample::select(vec![
                        "p",
                        "div",
                        "span",
                        "strong",
                        "em",
                        "a",
                        "code",
                        "li",
                        "h2",
                        "blockquote",
                        "figure",
                        "section",
                        "b",
                        "i",
                    ]),
                    prop::collection::vec(inner, 0..6),
                )
                    .prop_map(|(name, children)| {
                        let attrs = if name == "a" {
                            " href=\"https://x.example/?a=1&amp;b=2\" title='t > u'"
                        } else {
                            ""
                        };
                        format!("<{name}{attrs}>{}</{name}>", children.concat())
                    })
            })
        }

        fn pre_block() -> impl Strategy<Value = String> {
            "[a-z =;(){}]{0,20}"
                .prop_map(|code| format!("<pre><code>{code} &lt;T&gt;</code></pre>"))
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]
            #[test]
            fn text_is_cleaned_and_cut_as_char_by_char(
                text in "[a-z 가-힣\\t\\n\\u{0}-\\u{1F}\\u{7F}-\\u{9F}\\u{200B}\\u{FEFF}]{0,60}",
                max in 0usize..70,
            ) {
                let cleaned: String = text.chars().filter(|c| !is_control(*c)).collect();
                prop_assert_eq!(clean_text(&text), cleaned.trim());
                let cut = if text.chars().count() <= max {
                    text.clone()
                } else {
                    let cut: String = text.chars().take(max.saturating_sub(1)).collect();
                    let at_word = match cut.rfind(char::is_whitespace) {
                        Some(p) if p > cut.len() / 2 => &cut[..p],
                        _ => &cut,
                    };
                    format!("{}…", at_word.trim_end())
                };
                prop_assert_eq!(truncate_chars(&text, max), cut);
            }

            #[test]
            fn titles_normalise_as_the_unicode_tables_say(
                title in "[a-zA-Z0-9 가-힣ㄱ-ㅎ\\u{00C0}-\\u{024F}\\u{0370}-\\u{03FF}\\u{0400}-\\u{04FF}\\u{3040}-\\u{30FF}\\u{4E00}-\\u{4E50}\\u{FF10}-\\u{FF5A}\\u{2160}-\\u{2188}.,!?()\\[\\]_-]{0,40}",
            ) {
                let reference: String = title
                    .chars()
                    .filter(|c| c.is_alphanumeric())
                    .flat_map(char::to_lowercase)
                    .collect();
                prop_assert_eq!(normalise_title(&title), reference);
            }

            #[test]
            fn on_generated_posts(parts in prop::collection::vec(prop_oneof![fragment(), pre_block()], 0..8)) {
                // The same visible characters in the same order and the same length; where
                // markup nests the way HTML forbids (`<li>` in `<li>`, `<p>` in `<p>`) a parser
                // closes elements early and a word boundary may differ.
                let html = parts.concat();
                let (ours, reference) = (html_text(&html), html5ever_text(&html));
                let squeeze = |t: &str| t.split_whitespace().collect::<String>();
                prop_assert_eq!(ours.chars, reference.chars, "{}", html);
                prop_assert_eq!(squeeze(&ours.text), squeeze(&reference.text), "{}", html);
            }

            #[test]
            fn common_references_decode_as_html_escape_decodes_them(
                parts in prop::collection::vec(prop::sample::select(vec![
                    "&lt;", "&gt;", "&amp;", "&quot;", "&#39;", "&nbsp;", "&lt", "&amp", "&nbsp",
                    "&hellip;", "&#xAC00;", "&#44033;", "&", ";", "#", "lt;", "amp;", "가", "a ",
                    "&ltx;", "&amp;lt;", "&#39", "&#3", "&NBSP;",
                ]), 0..12),
            ) {
                let raw = parts.concat();
                let mut ours = String::new();
                decode_entities(&raw, &mut ours);
                prop_assert_eq!(ours, html_escape::decode_html_entities(&raw).into_owned(), "{:?}", raw);
            }

            #[test]
            fn visible_count_by_bytes_is_the_count_by_characters(s in "(\\PC|\\s|[\u{80}-\u{9f}\u{a0}\u{85}\u{3000}\u{2000}-\u{200b}\u{fffe}\u{ffff}\u{1}])*") {
                let by_chars = s.chars().filter(|c| !c.is_whitespace() && !is_control(*c)).count();
                prop_assert_eq!(count_visible(&s), by_chars, "{:?}", s);
            }
        }
    }

    #[test]
    fn a_prefix_reads_only_as_far_as_its_text() {
        let html = format!(
            "<p>첫 문단 &amp; 코드 <code>x</code></p>{}",
            "<p>긴 글</p>".repeat(500)
        );
        let whole = html_text_up_to(&html, 10);
        let prefix = html_text_prefix(&html, 10);
        assert_eq!(prefix.text, whole.text);
        assert_eq!(whole.chars, 6 + 2 * 500);
        assert!(prefix.chars < 20, "{}", prefix.chars);
    }

    #[test]
    fn titles_lose_entities_tags_and_control_characters() {
        assert_eq!(title_text("A &hellip; B\u{8}", false), "A … B");
        assert_eq!(title_text("R&amp;D  <b>회고</b>", true), "R&D 회고");
        assert_eq!(
            title_text("&lt;script&gt; 이야기", false),
            "<script> 이야기"
        );
        assert_eq!(
            title_text("<b>굵게</b> <!channel>", false),
            "<b>굵게</b> <!channel>"
        );
        assert_eq!(
            title_text("<script>alert(1)</script>", true),
            "<script>alert(1)</script>"
        );
    }

    /// An RSS title written with escaped markup was read as HTML: its tags vanished, and an
    /// escaped `<script>` left no title at all ("(제목 없음)" in atom.xml). A title holding
    /// child markup was cut at its first element.
    #[test]
    fn regression_an_escaped_markup_rss_title_is_shown_as_text() {
        let p = parsed(
            r#"<rss version="2.0"><channel><title>&lt;i&gt;블로그&lt;/i&gt;</title>
            <item><title>&lt;b&gt;굵게&lt;/b&gt; 쓰는 법</title><link>https://blog.example/1</link></item>
            <item><title>&lt;script&gt;alert(1)&lt;/script&gt;</title><link>https://blog.example/2</link></item>
            <item><title><![CDATA[<b>CDATA</b> 회고]]></title><link>https://blog.example/3</link></item>
            <item><title>R&amp;D <b>회고</b></title><link>https://blog.example/4</link></item>
            <item><title><![CDATA[&lt;p&gt; 태그]]></title><link>https://blog.example/5</link></item>
            </channel></rss>"#,
        );
        let (meta, posts, _) = normalise(&p, "u", 1000);
        assert_eq!(meta.title, "<i>블로그</i>");
        let titles: Vec<&str> = posts.iter().map(|p| p.title.as_str()).collect();
        assert_eq!(
            titles,
            [
                "<b>굵게</b> 쓰는 법",
                "<script>alert(1)</script>",
                "CDATA 회고",
                "R&D 회고",
                "<p> 태그"
            ]
        );
    }

    /// An Atom `type="text"` title was read as HTML: `<!channel> 긴급` lost its first word as a
    /// "declaration" and `<!everyone>` left no title.
    #[test]
    fn regression_an_atom_text_title_is_never_read_as_html() {
        let entry = |n: usize, title: &str| {
            format!(
                "<entry><id>urn:e{n}</id><updated>2024-10-05T12:00:00Z</updated>{title}</entry>"
            )
        };
        let doc = format!(
            r#"<feed xmlns="http://www.w3.org/2005/Atom"><id>urn:f</id><updated>2024-10-05T12:00:00Z</updated>
            <title type="text">&lt;!channel&gt; 공지</title>{}{}{}{}{}</feed>"#,
            entry(1, r#"<title type="text">&lt;!channel&gt; 긴급</title>"#),
            entry(2, r#"<title type="text">&lt;!everyone&gt;</title>"#),
            entry(3, r#"<title>&lt;b&gt;기본은 text&lt;/b&gt;</title>"#),
            entry(
                4,
                r#"<title type="html">&lt;b&gt;굵게&lt;/b&gt; 씀</title>"#
            ),
            entry(
                5,
                r#"<title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><b>x</b> y</div></title>"#
            ),
        );
        let (meta, posts, _) = normalise(&parsed(&doc), "u", 1000);
        assert_eq!(meta.title, "<!channel> 공지");
        let titles: Vec<&str> = posts.iter().map(|p| p.title.as_str()).collect();
        assert_eq!(
            titles,
            [
                "<!channel> 긴급",
                "<!everyone>",
                "<b>기본은 text</b>",
                "굵게 씀",
                "x y"
            ]
        );
    }

    #[test]
    fn truncation_keeps_whole_words() {
        assert_eq!(truncate_chars("짧은 글", 300), "짧은 글");
        assert_eq!(truncate_chars("one two three four", 12), "one two…");
    }

    fn parsed(xml: &str) -> ParsedFeed {
        crate::parse::parse(
            xml.as_bytes(),
            None,
            Some("https://blog.example/feed.xml"),
            Seoul,
        )
        .unwrap()
    }

    /// Without `keep_html` a post's HTML is still read for its length and its summary, but not
    /// kept; with it, the full text is kept, from the content or from a full description.
    #[test]
    fn html_is_kept_only_when_asked_and_the_rest_is_the_same() {
        let body = "<p>가나다라마바사 아자차카타파하</p>".repeat(40);
        let p = parsed(&format!(
            r#"<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>b</title>
            <item><title>본문</title><link>https://blog.example/1</link><description>요약입니다</description><content:encoded><![CDATA[{body}]]></content:encoded></item>
            <item><title>설명만</title><link>https://blog.example/2</link><description><![CDATA[{body}]]></description></item>
            </channel></rss>"#
        ));
        let (_, kept, _) = normalise_with(&p, "u", 100, true);
        let (_, dropped, _) = normalise_with(&p, "u", 100, false);
        assert_eq!(kept[0].content_html.as_deref(), Some(body.as_str()));
        assert_eq!(kept[1].content_html.as_deref(), Some(body.as_str()));
        assert!(dropped.iter().all(|p| p.content_html.is_none()));
        for (k, d) in kept.iter().zip(&dropped) {
            assert_eq!(
                (k.chars, &k.summary, k.chars_from_description),
                (d.chars, &d.summary, d.chars_from_description)
            );
        }
        assert_eq!(kept[0].summary, "요약입니다");
        assert_eq!(kept[0].chars, Some(14 * 40));
        assert!(kept[1].chars_from_description);
    }

    #[test]
    fn identity_prefers_guid_then_link_then_hash_and_never_a_generated_id() {
        let p = parsed(
            r#"<rss version="2.0"><channel><title>t</title><link>https://blog.example/</link>
            <item><title>a</title><guid isPermaLink="false">urn:a</guid><link>https://blog.example/a</link></item>
            <item><title>b</title><link>https://blog.example/b/?utm_medium=rss</link></item>
            <item><title>c</title><pubDate>Sat, 05 Oct 2024 21:30:00 +0900</pubDate></item>
            <item><title>b again</title><link>https://blog.example/b</link></item>
            </channel></rss>"#,
        );
        let (meta, posts, warnings) = normalise(&p, "https://blog.example/feed.xml", 1000);
        assert_eq!(meta.id, "https://blog.example/feed.xml");
        let keys: Vec<_> = posts.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys[0], "guid:urn:a");
        assert_eq!(keys[1], "link:https://blog.example/b");
        assert!(keys[2].starts_with("hash:"));
        assert_eq!(posts.len(), 3);
        assert!(warnings[0].contains("duplicate"));
        // The hash is stable across parses.
        let (_, again, _) = normalise(&parsed(&p_source()), "u", 1000);
        let (_, again2, _) = normalise(&parsed(&p_source()), "u", 1000);
        assert_eq!(again[0].key, again2[0].key);
    }

    #[test]
    fn regression_description_only_items_without_title_or_date_stay_apart() {
        let p = parsed(
            r#"<rss version="0.92"><channel><title>t</title><link>https://x.example/</link>
            <item><description>first</description></item>
            <item><description>second</description></item>
            <item><description>third</description></item>
            </channel></rss>"#,
        );
        let (_, posts, _) = normalise(&p, "u", 1000);
        assert_eq!(posts.len(), 3);
        let keys: std::collections::HashSet<_> = posts.iter().map(|p| p.key.clone()).collect();
        assert_eq!(keys.len(), 3);
    }

    #[test]
    fn regression_a_comments_page_or_an_enclosure_is_never_the_posts_link() {
        let p = parsed(
            r#"<rss version="2.0"><channel><title>t</title><link>https://blog.example/</link>
            <item><title>a</title><comments>https://blog.example/a#comments</comments></item>
            <item><title>b</title><comments>https://blog.example/b#c</comments><link>https://blog.example/b</link></item>
            <item><title>c</title><guid isPermaLink="false">https://blog.example/?p=3</guid></item>
            </channel></rss>"#,
        );
        let (_, posts, _) = normalise(&p, "u", 1000);
        let links: Vec<_> = posts.iter().map(|p| p.link.as_deref()).collect();
        assert_eq!(links, [None, Some("https://blog.example/b"), None]);
    }

    fn p_source() -> String {
        "<rss version=\"2.0\"><channel><title>t</title><item><title>x</title></item></channel></rss>".to_string()
    }

    #[test]
    fn description_is_full_text_only_on_known_platforms_or_when_long() {
        let body = "가".repeat(50);
        let xml = |gen: &str| {
            format!(
                r#"<rss version="2.0"><channel><title>t</title><link>https://x.example/</link><generator>{gen}</generator>
                <item><title>a</title><link>https://x.example/1</link><description><![CDATA[<p>{body}</p>]]></description></item></channel></rss>"#
            )
        };
        let (_, tistory, _) = normalise(&parsed(&xml("TISTORY")), "u", 1000);
        assert_eq!(tistory[0].chars, Some(50));
        let (_, hugo, _) = normalise(&parsed(&xml("Hugo -- gohugo.io")), "u", 1000);
        assert_eq!(hugo[0].chars, None);
        assert!(hugo[0]
            .warnings
            .iter()
            .any(|w| w.starts_with("length-unknown")));
        let (_, long, _) = normalise(&parsed(&xml("Hugo")), "u", 40);
        assert_eq!(long[0].chars, Some(50));
    }
}
