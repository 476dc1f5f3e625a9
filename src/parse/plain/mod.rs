//! The plain reader: an RSS 2.0 (or 0.91/0.92) or Atom document made only of elements whose
//! reading is simple is read here in one pass over the text, into the very model feed-rs would
//! have built from it; any other document is left to feed-rs.
//!
//! feed-rs reads through a decoding, buffered quick-xml reader that checks the UTF-8 of every
//! event and builds each element's name and attributes as owned strings before it knows
//! whether the element matters; a cold run spent a quarter of its CPU there. This reader
//! tokenizes the `str` itself (`xml.rs`) and does only the work feed-rs's RSS 2.0 and Atom
//! readers do with what they keep (`atom.rs` for Atom): the same namespaces, the same text rule
//! (the text before an element's first child, comments skipped, CDATA and references joined,
//! then trimmed where feed-rs trims), the same links resolved against the same base, the same
//! dates through the same date parser, the same generated ids.
//!
//! It gives up — `None`, and feed-rs reads the document — at anything it does not reproduce:
//! XML outside the plain subset, an `xml:base`, a child element inside an element read as
//! text, an e-mail address in an RSS person, enclosures, Media RSS, iTunes, Podcasting 2.0,
//! comment links, XHTML or `src` content in Atom. So a document is either read here exactly as
//! feed-rs reads it or read by feed-rs; the corpus test (`tests/corpus.rs`) and the proptests
//! in this file hold the two to that.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use feed_rs::model::{
    Category, Content, Entry, Feed, FeedType, Generator, Image, Link, Person, Text,
};
use mediatype::{names, MediaTypeBuf};
use url::Url;

use super::dates::parse_date;
use xml::{Lexer, Reference, StartTag, Token};

mod atom;
mod xml;

/// The namespaces feed-rs tells apart; an element in any other is one it ignores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ns {
    Rss,
    Atom,
    Content,
    DublinCore,
    /// Media RSS, iTunes, Podcasting 2.0 and the comment API: read by feed-rs into media
    /// objects and comment links, which this reader does not build.
    Declined,
    Unknown,
}

impl Ns {
    /// The namespace of an element as feed-rs resolves it: a bound namespace by its name,
    /// anything unbound in the document's default (RSS for RSS, Atom for Atom).
    fn of(namespace: Option<&str>, default: Ns) -> Ns {
        match namespace {
            Some(ns) => match ns {
                "http://purl.org/rss/1.0/" => Ns::Rss,
                "http://www.w3.org/2005/Atom" => Ns::Atom,
                "http://purl.org/rss/1.0/modules/content/" => Ns::Content,
                "http://purl.org/dc/elements/1.1/" => Ns::DublinCore,
                "http://search.yahoo.com/mrss/"
                | "http://www.itunes.com/dtds/podcast-1.0.dtd"
                | "https://podcastindex.org/namespace/1.0"
                | "http://wellformedweb.org/CommentAPI/" => Ns::Declined,
                _ => Ns::Unknown,
            },
            None => default,
        }
    }
}

/// An element's start: its namespace, its local name and the attributes feed-rs may read,
/// borrowed from the document.
struct Start<'a> {
    ns: Ns,
    name: &'a str,
    attributes: Vec<(&'a str, Cow<'a, str>)>,
}

impl Start<'_> {
    /// The first attribute called `name` (as written, prefix included), unescaped as feed-rs
    /// unescapes it.
    fn attr(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_ref())
    }
}

/// What came next inside an element.
enum Next<'a> {
    Start(Start<'a>),
    End,
}

/// The walk over one document.
struct Walk<'a> {
    lexer: Lexer<'a>,
    base: Option<Url>,
    tz: Tz,
    /// The namespace of unbound elements: set by the root, as feed-rs sets it.
    default_ns: Ns,
}

/// Reads `text` (UTF-8, its XML declaration already removed) when it is a plain RSS or Atom document;
/// `None` hands it to feed-rs. `base_url` resolves relative links, as feed-rs's base URI does;
/// `tz` reads zone-less dates, as the date parser feed-rs is given does.
pub fn read(text: &str, base_url: Option<&str>, tz: Tz) -> Option<Feed> {
    let base = match base_url {
        Some(b) => Some(Url::parse(b).ok()?),
        None => None,
    };
    let mut walk = Walk {
        lexer: Lexer::new(text),
        base,
        tz,
        default_ns: Ns::Unknown,
    };
    let mut feed = walk.document()?;
    if feed.id.is_empty() {
        feed.id = super::generated_id(&feed.links, &feed.title);
    }
    for entry in &mut feed.entries {
        if entry.id.is_empty() {
            entry.id = super::generated_id(&entry.links, &entry.title);
        }
    }
    Some(feed)
}

impl<'a> Walk<'a> {
    /// The root: an Atom `feed` read whole, or an RSS root's first `channel` child, after
    /// which nothing is read, as feed-rs reads nothing more.
    fn document(&mut self) -> Option<Feed> {
        let Next::Start(root) = self.next_outside_text()? else {
            return None;
        };
        let feed_type = match (root.name, root.attr("version")) {
            ("feed", _) => {
                self.default_ns = Ns::Atom;
                return self.atom_feed(&root);
            }
            ("rss", Some("2.0" | "")) => FeedType::RSS2,
            ("rss", Some("0.91" | "0.92")) => FeedType::RSS0,
            _ => return None,
        };
        self.default_ns = Ns::Rss;
        loop {
            match self.next_outside_text()? {
                Next::Start(child) if child.name == "channel" => {
                    return self.channel(feed_type);
                }
                Next::Start(_) => self.skip()?,
                Next::End => return None,
            }
        }
    }

    /// The channel's children, as feed-rs's RSS 2.0 reader reads them.
    fn channel(&mut self, feed_type: FeedType) -> Option<Feed> {
        let mut feed = empty_feed(feed_type);
        while let Next::Start(child) = self.next_outside_text()? {
            match (child.ns, child.name) {
                (Ns::Rss, "title") => feed.title = self.text()?.map(text_plain),
                (Ns::Rss, "link") => {
                    if let Some(href) = self.text()? {
                        feed.links.push(self.link(&href));
                    }
                }
                (Ns::Atom, "link") => {
                    if let Some(link) = self.atom_link(&child) {
                        feed.links.push(link);
                    }
                    self.skip()?;
                }
                (Ns::Rss, "description") => feed.description = self.text()?.map(text_plain),
                (Ns::Rss, "language") => feed.language = self.text()?.map(|t| t.to_lowercase()),
                (Ns::Rss, "copyright") => feed.rights = self.text()?.map(text_plain),
                (Ns::Rss, role @ ("managingEditor" | "webMaster")) => {
                    if let Some(text) = self.text()? {
                        feed.contributors.push(person(&text, role)?);
                    }
                }
                (Ns::Rss, "pubDate") => feed.published = self.date()?,
                (Ns::Rss, "lastBuildDate" | "updated") => feed.updated = self.date()?,
                (Ns::Rss, "category") => {
                    if let Some(text) = self.text()? {
                        feed.categories.push(category(&text, &child));
                    }
                }
                (Ns::Rss, "generator") => {
                    feed.generator = self.text()?.map(|text| Generator {
                        content: text.trim().to_string(),
                        uri: child.attr("uri").map(str::to_string),
                        version: None,
                    });
                }
                (Ns::Rss, "ttl") => {
                    if let Some(ttl) = self.text()?.and_then(|t| t.parse::<u32>().ok()) {
                        feed.ttl = Some(ttl);
                    }
                }
                (Ns::Rss, "image") => feed.logo = self.image()?,
                (Ns::Rss, "item") => feed.entries.push(self.item()?),
                (Ns::Declined, _) => return None,
                _ => self.skip()?,
            }
        }
        Some(feed)
    }

    /// One item's children, as feed-rs reads them (its media objects and comment links are
    /// where this reader gives up).
    fn item(&mut self) -> Option<Entry> {
        let mut entry = Entry::default();
        while let Next::Start(child) = self.next_outside_text()? {
            match (child.ns, child.name) {
                (Ns::Rss, "title") => entry.title = self.text()?.map(text_plain),
                (Ns::Rss, "link") => {
                    if let Some(href) = self.text()? {
                        entry.links.push(self.link(&href));
                    }
                }
                (Ns::Rss, "description") => entry.summary = self.text()?.map(text_html),
                (Ns::Rss, "author") => {
                    if let Some(text) = self.text()? {
                        entry.authors.push(person(&text, "author")?);
                    }
                }
                (Ns::DublinCore, "creator") => {
                    if let Some(text) = self.text()? {
                        entry.authors.push(person(&text, "creator")?);
                    }
                }
                (Ns::Rss, "category") => {
                    if let Some(text) = self.text()? {
                        entry.categories.push(category(&text, &child));
                    }
                }
                (Ns::Rss, "guid") => {
                    if let Some(guid) = self.text()? {
                        entry.id = guid.trim().to_string();
                    }
                }
                (Ns::Rss, "pubDate") | (Ns::DublinCore, "date") => entry.published = self.date()?,
                (Ns::Rss | Ns::Atom, "updated") => entry.updated = self.date()?,
                (Ns::Content, "encoded") => {
                    entry.content = self.text()?.and_then(|t| self.html_content(t))
                }
                (Ns::Rss, "enclosure" | "comments") | (Ns::Declined, _) => return None,
                _ => self.skip()?,
            }
        }
        if entry.updated.is_none() && entry.published.is_some() {
            entry.updated = entry.published;
        }
        Some(entry)
    }

    /// The channel's `<image>`, kept when it has a `url` (feed-rs's bounds on its size kept too).
    fn image(&mut self) -> Option<Option<Image>> {
        let mut image = Image {
            uri: String::new(),
            title: None,
            link: None,
            width: None,
            height: None,
            description: None,
        };
        while let Next::Start(child) = self.next_outside_text()? {
            match (child.ns, child.name) {
                (Ns::Rss, "url") => {
                    if let Some(url) = self.text()? {
                        image.uri = url;
                    }
                }
                (Ns::Rss, "title") => image.title = self.text()?,
                (Ns::Rss, "link") => {
                    if let Some(href) = self.text()? {
                        image.link = Some(self.link(&href));
                    }
                }
                (Ns::Rss, "width") => {
                    if let Some(w) = self.text()?.and_then(|t| t.parse::<u32>().ok()) {
                        if w > 0 && w <= 144 {
                            image.width = Some(w);
                        }
                    }
                }
                (Ns::Rss, "height") => {
                    if let Some(h) = self.text()?.and_then(|t| t.parse::<u32>().ok()) {
                        if h > 0 && h <= 400 {
                            image.height = Some(h);
                        }
                    }
                }
                (Ns::Rss, "description") => image.description = self.text()?,
                _ => self.skip()?,
            }
        }
        Some((!image.uri.is_empty()).then_some(image))
    }

    /// `<content:encoded>`'s text as the entry's HTML content (none when empty), its source
    /// the base, as feed-rs sets it.
    fn html_content(&self, body: String) -> Option<Content> {
        (!body.is_empty()).then(|| Content {
            body: Some(body),
            content_type: MediaTypeBuf::new(names::TEXT, names::HTML),
            length: None,
            src: self.base.as_ref().map(|b| self.link(b.as_str())),
        })
    }

    /// An element's text read as a date by the date parser feed-rs is given.
    fn date(&mut self) -> Option<Option<DateTime<Utc>>> {
        Some(self.text()?.and_then(|t| parse_date(&t, self.tz)))
    }

    /// A link resolved against the base as feed-rs resolves it: an absolute address as parsed,
    /// a relative one joined to the base, anything else as written; trimmed.
    fn link(&self, href: &str) -> Link {
        let resolved = resolve(href, self.base.as_ref());
        bare_link(
            resolved
                .unwrap_or_else(|| href.to_string())
                .trim()
                .to_string(),
        )
    }

    /// An `<atom:link>` inside the channel, from its attributes (none without `href`).
    fn atom_link(&self, start: &Start) -> Option<Link> {
        let mut link = self.link(start.attr("href")?);
        for (name, value) in &start.attributes {
            match *name {
                "rel" => link.rel = Some(value.to_string()),
                "type" => link.media_type = Some(value.to_string()),
                "hreflang" => link.href_lang = Some(value.to_string()),
                "title" => link.title = Some(value.to_string()),
                "length" => link.length = value.parse::<u64>().ok(),
                _ => {}
            }
        }
        if link.rel.is_none() {
            link.rel = Some("alternate".to_string());
        }
        Some(link)
    }

    /// The text of an element whose start was just read, up to its end (consumed): `None`
    /// inside when it holds no text, and `None` outside — give up — when a child element
    /// comes first or the XML breaks. Text, CDATA and references are joined, as feed-rs joins
    /// them (a text is there once any piece of it is).
    fn text(&mut self) -> Option<Option<String>> {
        let mut text: Option<String> = None;
        loop {
            match self.lexer.next()? {
                Token::Text(t) | Token::CData(t) if !t.is_empty() => {
                    text.get_or_insert_with(String::new).push_str(t);
                }
                Token::Text(_) | Token::CData(_) => {}
                Token::Ref(r) => {
                    let buffer = text.get_or_insert_with(String::new);
                    match r {
                        Reference::Char(c) => buffer.push(c),
                        Reference::Predefined(s) => buffer.push_str(s),
                        Reference::Other(name) => {
                            buffer.push('&');
                            buffer.push_str(name);
                            buffer.push(';');
                        }
                    }
                }
                Token::End => return Some(text),
                Token::Start(_) | Token::Eof => return None,
            }
        }
    }

    /// The next element start or end, the text between them passed over.
    fn next_outside_text(&mut self) -> Option<Next<'a>> {
        loop {
            match self.lexer.next()? {
                Token::Start(tag) => return start(tag, self.default_ns).map(Next::Start),
                Token::End => return Some(Next::End),
                Token::Eof => return None,
                Token::Text(_) | Token::CData(_) | Token::Ref(_) => {}
            }
        }
    }

    /// Passes over the rest of an element whose start was just read, through its end.
    fn skip(&mut self) -> Option<()> {
        let mut depth = 0usize;
        loop {
            match self.next_outside_text()? {
                Next::Start(_) => depth += 1,
                Next::End if depth == 0 => return Some(()),
                Next::End => depth -= 1,
            }
        }
    }
}

/// An element's start as feed-rs keeps it; `None` — give up — on an `xml:base`, which feed-rs
/// applies (and fails on when malformed) and this reader does not.
fn start(tag: StartTag<'_>, default_ns: Ns) -> Option<Start<'_>> {
    if tag.attributes.iter().any(|(n, _)| *n == "xml:base") {
        return None;
    }
    Some(Start {
        ns: Ns::of(tag.namespace, default_ns),
        name: tag.local,
        attributes: tag.attributes,
    })
}

/// An address parsed as feed-rs parses one: absolute as it is, relative joined to `base`;
/// `None` when neither parses.
fn resolve(href: &str, base: Option<&Url>) -> Option<String> {
    match Url::parse(href) {
        Ok(url) => Some(url.to_string()),
        Err(url::ParseError::RelativeUrlWithoutBase) => {
            base.and_then(|b| b.join(href).ok()).map(|u| u.to_string())
        }
        Err(_) => None,
    }
}

/// A link to `href` and nothing more: no relation, type, language, title or length.
pub(super) fn bare_link(href: String) -> Link {
    Link {
        href,
        target: None,
        rel: None,
        media_type: None,
        href_lang: None,
        title: None,
        length: None,
    }
}

/// A feed with nothing read yet.
fn empty_feed(feed_type: FeedType) -> Feed {
    Feed {
        feed_type,
        id: String::new(),
        title: None,
        updated: None,
        authors: Vec::new(),
        description: None,
        links: Vec::new(),
        categories: Vec::new(),
        contributors: Vec::new(),
        generator: None,
        icon: None,
        language: None,
        logo: None,
        published: None,
        rating: None,
        rights: None,
        ttl: None,
        people: Vec::new(),
        entries: Vec::new(),
    }
}

fn text_plain(content: String) -> Text {
    Text {
        content_type: MediaTypeBuf::new(names::TEXT, names::PLAIN),
        src: None,
        content: content.trim().to_string(),
    }
}

fn text_html(content: String) -> Text {
    Text {
        content_type: MediaTypeBuf::new(names::TEXT, names::HTML),
        src: None,
        content: content.trim().to_string(),
    }
}

/// A person from an RSS contact, as feed-rs reads one without an e-mail address; `None` —
/// give up — when there may be one (feed-rs splits it off by a pattern this reader does not
/// repeat).
fn person(text: &str, role: &str) -> Option<Person> {
    if text.contains('@') {
        return None;
    }
    Some(Person {
        name: Some(text.trim().to_string()),
        uri: None,
        email: None,
        role: Some(role.to_string()),
    })
}

/// A `<category>`, its `domain` the scheme.
fn category(text: &str, start: &Start) -> Category {
    Category {
        term: text.trim().to_string(),
        scheme: start.attr("domain").map(str::to_string),
        label: None,
        subcategories: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Asia::Seoul;
    use proptest::prelude::*;
    use proptest::strategy::ValueTree;

    const NAMESPACES: &str = r#"xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom""#;

    fn rss(version: &str, channel: &str) -> String {
        format!(r#"<rss version="{version}" {NAMESPACES}><channel>{channel}</channel></rss>"#)
    }

    #[test]
    fn a_plain_feed_is_read_as_feed_rs_reads_it() {
        let doc = rss(
            "2.0",
            "<title> 블로그 &amp; 글 </title><link>https://blog.example/</link>\
             <language>KO</language><atom:link href=\"/rss\" rel=\"self\"/>\
             <image><url>https://blog.example/i.png</url><width>100</width></image>\
             <item><title><![CDATA[첫 글]]></title><link>/posts/1</link>\
             <guid isPermaLink=\"false\"> id-1 </guid><pubDate>Tue, 19 Nov 2024 14:46:19 +0900</pubDate>\
             <category domain=\"tags\">Rust</category><dc:creator>글또</dc:creator>\
             <content:encoded><![CDATA[<p>본문</p>]]></content:encoded><comment-count>3</comment-count></item>\
             <item><title>no id</title><description>&lt;p&gt;요약&lt;/p&gt;</description></item>",
        );
        let base = Some("https://blog.example/feed.xml");
        let ours = read(&doc, base, Seoul).expect("a plain RSS 2.0 feed is taken");
        assert_eq!(ours.entries.len(), 2);
        assert_eq!(
            ours.entries[0].links[0].href,
            "https://blog.example/posts/1"
        );
        assert!(ours.entries[1]
            .id
            .starts_with(crate::parse::GENERATED_ID_PREFIX));
        assert_eq!(
            Ok(ours),
            crate::parse::read_with_feed_rs(&doc, base, Seoul).map_err(|e| e.to_string())
        );
    }

    #[test]
    fn what_it_does_not_reproduce_is_left_to_feed_rs() {
        let declined = [
            "<item><enclosure url=\"https://a.example/a.mp3\" length=\"1\" type=\"audio/mpeg\"/></item>",
            "<item><comments>https://a.example/c</comments></item>",
            "<item><author>me@example.com (Me)</author></item>",
            "<item><title>a <b>bold</b> title</title></item>",
            "<item xml:base=\"https://other.example/\"><link>x</link></item>",
            "<item><media:content xmlns:media=\"http://search.yahoo.com/mrss/\" url=\"https://a.example/v\"/></item>",
            "<item><title>cut off",
        ];
        for item in declined {
            assert!(read(&rss("2.0", item), None, Seoul).is_none(), "{item}");
        }
        assert!(
            read(&rss("1.0", "<item/>"), None, Seoul).is_none(),
            "another version"
        );
        let atom = |entry: &str| {
            format!("<feed xmlns=\"http://www.w3.org/2005/Atom\"><entry>{entry}</entry></feed>")
        };
        for entry in [
            "<title type=\"xhtml\"><div xmlns=\"http://www.w3.org/1999/xhtml\">x</div></title>",
            "<content src=\"https://a.example/post\"/>",
            "<content type=\"image/png\">AAAA</content>",
        ] {
            assert!(read(&atom(entry), None, Seoul).is_none(), "{entry}");
        }
        assert!(
            read(&atom("<title>t</title>"), None, Seoul).is_some(),
            "a plain Atom entry"
        );
    }

    fn text() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "plain",
            " spaced \n",
            "a &amp; b",
            "&#xAC00;&#44032;",
            "&lt;p&gt;x&lt;/p&gt;",
            "<![CDATA[<b>x</b> & y]]>",
            "",
            "&nbsp;",
            "x<!-- note -->y",
            "  ",
            "한글 제목",
            "Name",
            "60",
            "x",
            "100",
            "200",
            "KO-kr",
            "<![CDATA[]]>",
            "a<?pi x?>b",
        ])
        .prop_map(str::to_string)
    }

    fn url() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "https://a.example/p/1",
            "/relative/2",
            "rel3",
            " https://a.example/space ",
            "mailto:someone",
            "http://[bad",
            "",
            "https://a.example/a?b=1&amp;c=2",
        ])
        .prop_map(str::to_string)
    }

    fn date() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "Tue, 19 Nov 2024 14:46:19 +0900",
            "2024-11-19T05:00:00Z",
            "2024-11-19 14:00",
            "garbage",
            "",
            " Tue, 19 Nov 2024 14:46:19 GMT ",
        ])
        .prop_map(str::to_string)
    }

    /// One child of an item, or of the channel (`channel` adds the channel's own elements).
    fn child(channel: bool) -> impl Strategy<Value = String> {
        let common = prop_oneof![
            text().prop_map(|t| format!("<title>{t}</title>")),
            url().prop_map(|u| format!("<link>{u}</link>")),
            text().prop_map(|t| format!("<description>{t}</description>")),
            (text(), text()).prop_map(|(t, d)| format!("<category domain=\"{d}\">{t}</category>")),
            date().prop_map(|d| format!("<pubDate>{d}</pubDate>")),
            date().prop_map(|d| format!("<updated>{d}</updated>")),
            text().prop_map(|t| format!("<unknown a=\"1\"><deep>{t}</deep>{t}</unknown>")),
            text().prop_map(|t| format!("<x:y xmlns:x=\"urn:x\">{t}<z/></x:y>")),
            Just("<title/>".to_string()),
            Just("<!-- a comment -->".to_string()),
            text(),
            text().prop_map(|t| format!("<title >{t}</title >")),
            url().prop_map(|u| format!("<link\n>{u}</link\t>")),
            text().prop_map(|t| format!("<category domain='single'>{t}</category>")),
            text().prop_map(|t| format!("<category domain=\"a &amp; b &#65;\">{t}</category>")),
            text().prop_map(|t| format!("<category domain=\"x&y\">{t}</category>")),
            text().prop_map(|t| format!("<category domain = \"spaced\" >{t}</category>")),
            text().prop_map(|t| format!("<category domain=\"a\"domain=\"b\">{t}</category>")),
            text().prop_map(|t| format!("<zz:title>{t}</zz:title>")),
            text().prop_map(|t| format!("<title xmlns=\"urn:other\">{t}</title>")),
            text().prop_map(|t| format!(
                "<r:title xmlns:r=\"http://purl.org/rss/1.0/\">{t}</r:title>"
            )),
            text().prop_map(|t| format!("<title>{t}")),
            text().prop_map(|t| format!("<title>{t}</titel>")),
            text().prop_map(|t| format!("<x a=\"<\">{t}</x>")),
            text().prop_map(|t| format!("<x a=b>{t}</x>")),
            text().prop_map(|t| format!("<é>{t}</é>")),
            Just("<?xml version=\"1.0\"?>".to_string()),
            Just("<!DOCTYPE x>".to_string()),
        ];
        let own = if channel {
            prop_oneof![
                text().prop_map(|t| format!("<language>{t}</language>")),
                text().prop_map(|t| format!("<copyright>{t}</copyright>")),
                text().prop_map(|t| format!("<managingEditor>{t}</managingEditor>")),
                date().prop_map(|d| format!("<lastBuildDate>{d}</lastBuildDate>")),
                (text(), url()).prop_map(|(t, u)| format!("<generator uri=\"{u}\">{t}</generator>")),
                text().prop_map(|t| format!("<ttl>{t}</ttl>")),
                (url(), text(), text(), text()).prop_map(|(u, t, w, h)| format!(
                    "<image><url>{u}</url><title>{t}</title><link>{u}</link><width>{w}</width><height>{h}</height><description>{t}</description></image>"
                )),
                (url(), text(), text()).prop_map(|(u, r, l)| format!(
                    "<atom:link href=\"{u}\" rel=\"{r}\" type=\"application/rss+xml\" hreflang=\"ko\" title=\"{r}\" length=\"{l}\"/>"
                )),
                url().prop_map(|u| format!("<atom:link href=\"{u}\"/>")),
            ]
            .boxed()
        } else {
            prop_oneof![
                text().prop_map(|t| format!("<guid isPermaLink=\"false\">{t}</guid>")),
                date().prop_map(|d| format!("<dc:date>{d}</dc:date>")),
                date().prop_map(|d| format!("<atom:updated>{d}</atom:updated>")),
                text().prop_map(|t| format!("<content:encoded>{t}</content:encoded>")),
                text().prop_map(|t| format!("<dc:creator>{t}</dc:creator>")),
                text().prop_map(|t| format!("<author>{t}</author>")),
                text().prop_map(|t| format!("<guid/>{t}<guid />")),
                text().prop_map(|t| format!("<creator xmlns=\"http://purl.org/dc/elements/1.1/\">{t}</creator>")),
                date().prop_map(|d| format!("<d:date xmlns:d=\"http://purl.org/dc/elements/1.1/\">{d}</d:date>")),
                text().prop_map(|t| format!("<c:encoded xmlns:c=\"http://purl.org/rss/1.0/modules/content/\">{t}</c:encoded>")),
            ]
            .boxed()
        };
        prop_oneof![common, own]
    }

    fn document() -> impl Strategy<Value = String> {
        let item = prop::collection::vec(child(false), 0..8)
            .prop_map(|children| format!("<item>{}</item>", children.concat()));
        let channel = prop::collection::vec(prop_oneof![child(true), item], 0..10);
        (prop::sample::select(vec!["2.0", "", "0.91"]), channel)
            .prop_map(|(version, parts)| rss(version, &parts.concat()))
    }

    /// The proptest below would prove nothing if the reader gave up on most of its documents.
    #[test]
    fn most_generated_documents_are_taken() {
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let strategy = document();
        let (mut taken, total) = (0, 400);
        for _ in 0..total {
            let doc = strategy
                .new_tree(&mut runner)
                .map(|t| t.current())
                .unwrap_or_default();
            taken += usize::from(read(&doc, None, Seoul).is_some());
        }
        assert!(taken * 4 > total, "took only {taken} of {total}");
    }

    fn text_type() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "",
            " type=\"text\"",
            " type=\"html\"",
            " type=\"text/html\"",
            " type=\"xhtml\"",
            " type=\"bogus\"",
            " xml:lang=\"ko\"",
        ])
        .prop_map(str::to_string)
    }

    /// One child of an Atom entry, or of the feed (`feed` adds the feed's own elements).
    fn atom_child(feed: bool) -> impl Strategy<Value = String> {
        let common = prop_oneof![
            text().prop_map(|t| format!("<id>{t}</id>")),
            (text_type(), text()).prop_map(|(a, t)| format!("<title{a}>{t}</title>")),
            (text_type(), text()).prop_map(|(a, t)| format!("<rights{a}>{t}</rights>")),
            date().prop_map(|d| format!("<updated>{d}</updated>")),
            (text(), url(), text()).prop_map(|(n, u, e)| format!(
                "<author><name>{n}</name><uri>{u}</uri><email>{e}</email></author>"
            )),
            text().prop_map(|e| format!("<contributor><email>{e}</email><x>y</x></contributor>")),
            Just("<author><uri>https://a.example/</uri></author>".to_string()),
            (url(), text(), text()).prop_map(|(u, r, l)| format!(
                "<link href=\"{u}\" rel=\"{r}\" type=\"text/html\" length=\"{l}\"/>"
            )),
            url().prop_map(|u| format!("<link href=\"{u}\"></link>")),
            Just("<link rel=\"alternate\"/>".to_string()),
            (text(), text())
                .prop_map(|(t, l)| format!("<category term=\"{t}\" scheme=\"s\" label=\"{l}\"/>")),
            Just("<category label=\"no term\"/>".to_string()),
            text().prop_map(|t| format!("<unknown>{t}<deep/></unknown>")),
            text().prop_map(|t| format!(
                "<rss:title xmlns:rss=\"http://purl.org/rss/1.0/\">{t}</rss:title>"
            )),
            text(),
        ];
        let own = if feed {
            prop_oneof![
                (text_type(), text()).prop_map(|(a, t)| format!("<subtitle{a}>{t}</subtitle>")),
                text().prop_map(|t| format!(
                    "<generator uri=\"https://g.example/\" version=\"1\">{t}</generator>"
                )),
                url().prop_map(|u| format!("<icon>{u}</icon>")),
                url().prop_map(|u| format!("<logo>{u}</logo>")),
            ]
            .boxed()
        } else {
            prop_oneof![
                date().prop_map(|d| format!("<published>{d}</published>")),
                (text_type(), text()).prop_map(|(a, t)| format!("<summary{a}>{t}</summary>")),
                (text_type(), text()).prop_map(|(a, t)| format!("<content{a}>{t}</content>")),
                url().prop_map(|u| format!("<content src=\"{u}\" type=\"text/html\"/>")),
                text().prop_map(|t| format!("<content type=\"application/xml\">{t}</content>")),
                Just("<media:thumbnail xmlns:media=\"http://search.yahoo.com/mrss/\" url=\"https://a.example/t.png\"/>".to_string()),
            ]
            .boxed()
        };
        prop_oneof![common, own]
    }

    fn atom_document() -> impl Strategy<Value = String> {
        let entry = prop::collection::vec(atom_child(false), 0..8)
            .prop_map(|children| format!("<entry>{}</entry>", children.concat()));
        let children = prop::collection::vec(prop_oneof![atom_child(true), entry], 0..10);
        (
            prop::sample::select(vec![
                " xmlns=\"http://www.w3.org/2005/Atom\"",
                "",
                " xml:lang=\"ko-KR\"",
            ]),
            children,
        )
            .prop_map(|(attrs, parts)| format!("<feed{attrs}>{}</feed>", parts.concat()))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        /// Whatever Atom document this reader takes, feed-rs reads into the very same model.
        #[test]
        fn whatever_atom_it_takes_feed_rs_reads_the_same(
            doc in atom_document(),
            base in prop::sample::select(vec![None, Some("https://base.example/blog/feed.xml")]),
        ) {
            if let Some(ours) = read(&doc, base, Seoul) {
                let theirs = crate::parse::read_with_feed_rs(&doc, base, Seoul);
                prop_assert!(theirs.as_ref().is_ok_and(|t| *t == ours), "{doc}\nours: {:?}\ntheirs: {:?}", ours.entries, theirs.map(|t| t.entries));
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        /// Whatever this reader takes, feed-rs reads into the very same model.
        #[test]
        fn whatever_it_takes_feed_rs_reads_the_same(
            doc in document(),
            base in prop::sample::select(vec![None, Some("https://base.example/blog/feed.xml")]),
        ) {
            if let Some(ours) = read(&doc, base, Seoul) {
                let theirs = crate::parse::read_with_feed_rs(&doc, base, Seoul);
                prop_assert!(theirs.as_ref().is_ok_and(|t| *t == ours), "{doc}\nours: {:?}\ntheirs: {:?}", ours.entries, theirs.map(|t| t.entries));
            }
        }
    }
}
