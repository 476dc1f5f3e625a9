//! The RSS items (and Atom entries) of a document walked once more, for what feed-rs reads only
//! in part: how each title was written (an Atom text title holding elements is cut by feed-rs
//! at the first of them), the guid and whether it is a permalink, an Atom `<link>` inside the item
//! (`a10:link`, `atom:link`), and every date element the item carries. feed-rs keeps one date
//! per item (the last of `pubDate` and `dc:date`, even when it does not parse) and drops
//! `isPermaLink`, `dcterms:*`, `atom:published` and Atom links inside RSS; the fill step
//! (`fill.rs`) and the title rule (`titles.rs`) read this walk instead.
//!
//! Items are the `item` children of `channel` under the root (RSS 2.0, 0.9x) or of the root
//! itself (RSS 1.0). Elements are told apart by namespace, not by prefix: `dc:`, `dcterms:` and
//! the Atom namespace may be bound to any prefix.

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

/// Dublin Core elements (`dc:date`).
const DC: &str = "http://purl.org/dc/elements/1.1/";
/// Dublin Core terms (`dcterms:issued`, `created`, `modified`).
const DCTERMS: &str = "http://purl.org/dc/terms/";
/// Atom 1.0, used inside RSS items as `atom:` or `a10:`.
const ATOM: &str = "http://www.w3.org/2005/Atom";
/// The namespaces RSS's own elements are written in when they are in one: RSS 1.0, RSS 0.90
/// (Netscape's) and Userland's RSS 2.0.
const RSS: [&str; 3] = [
    "http://purl.org/rss/1.0/",
    "http://my.netscape.com/rdf/simple/0.9/",
    "http://backend.userland.com/rss2",
];

/// A date element of an RSS item, in the order its dates are taken (see [`RawItem::dates`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum DateField {
    /// `pubDate`: when the item was published (RSS 2.0).
    PubDate,
    /// `dc:date` (RSS 1.0's date, used in RSS 2.0 too).
    DcDate,
    /// `dcterms:issued`.
    Issued,
    /// `dcterms:created`.
    Created,
    /// `atom:published` inside an RSS item.
    AtomPublished,
    /// `atom:updated` inside an RSS item, or a bare `updated`.
    AtomUpdated,
    /// `dcterms:modified`.
    Modified,
}

impl DateField {
    /// The element as written in a feed, for the repairs `inspect` shows.
    pub(super) fn name(self) -> &'static str {
        match self {
            DateField::PubDate => "pubDate",
            DateField::DcDate => "dc:date",
            DateField::Issued => "dcterms:issued",
            DateField::Created => "dcterms:created",
            DateField::AtomPublished => "atom:published",
            DateField::AtomUpdated => "atom:updated",
            DateField::Modified => "dcterms:modified",
        }
    }

    /// Is this a date of first publication (rather than of the last change)?
    pub(super) fn is_published(self) -> bool {
        self < DateField::AtomUpdated
    }
}

/// An item's `<guid>`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Guid {
    /// The guid's text, trimmed.
    pub text: String,
    /// `isPermaLink` is not `false` (RSS 2.0: a guid is a permalink unless it says otherwise).
    pub permalink: bool,
}

/// What the walk found in one item.
#[derive(Debug, Default, Clone, PartialEq)]
pub(super) struct RawItem {
    /// The title's markup as written, when it was written with literal markup (a child
    /// element, or CDATA holding a `<`); `None` for a title that is text, or no title.
    pub title_markup: Option<String>,
    /// Whether the item has a `<title>` at all.
    pub has_title: bool,
    /// The item's `<guid>`, if any.
    pub guid: Option<Guid>,
    /// The `href` of the first Atom `<link>` inside the item that is an alternate (or has no
    /// `rel`).
    pub atom_link: Option<String>,
    /// Every date element, with its text as written, in document order.
    pub dates: Vec<(DateField, String)>,
}

/// What the walk found: the channel's title markup and every item in document order.
#[derive(Debug, Default, PartialEq)]
pub(super) struct RawFeed {
    /// The channel's title markup, when written with literal markup.
    pub channel_title_markup: Option<String>,
    /// The items, in document order.
    pub items: Vec<RawItem>,
}

/// What is being read inside an item (or the channel's title).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Field {
    ChannelTitle,
    Title,
    Guid,
    Date(DateField),
}

/// An element whose content is being collected: what it is, where its content starts, how deep
/// it sits, whether literal markup was seen in it, and (for a guid) its `isPermaLink`.
struct Open {
    field: Field,
    start: usize,
    depth: usize,
    markup: bool,
    permalink: bool,
}

/// Walks an RSS document (the names on `stack` are local names). `None` when the XML cannot be read to its end.
pub(super) fn scan(doc: &str) -> Option<RawFeed> {
    let mut reader = NsReader::from_str(doc);
    let mut stack: Vec<String> = Vec::new();
    let mut found = RawFeed::default();
    let mut open: Option<Open> = None;
    let mut atom = false;
    loop {
        let before = usize::try_from(reader.buffer_position()).ok()?;
        match reader.read_event().ok()? {
            Event::Start(e) => {
                let after = usize::try_from(reader.buffer_position()).unwrap_or(before);
                if stack.is_empty() {
                    atom = e.local_name().as_ref() == "feed";
                }
                if let Some(o) = open.as_mut() {
                    o.markup = true;
                } else {
                    let field = if atom {
                        opened_atom(&e, &stack, &mut found).map(|f| (f, false))
                    } else {
                        opened(&reader, &e, &stack, &mut found)
                    };
                    open = field.map(|(field, permalink)| Open {
                        field,
                        start: after,
                        depth: stack.len(),
                        markup: false,
                        permalink,
                    });
                }
                stack.push(e.local_name().as_ref().to_string());
            }
            Event::Empty(e) => match open.as_mut() {
                Some(o) => o.markup = true,
                None if atom => {
                    let _ = opened_atom(&e, &stack, &mut found);
                }
                None => {
                    let _ = opened(&reader, &e, &stack, &mut found);
                }
            },
            // An RSS title's CDATA holding a `<` is markup; Atom text is text, CDATA or not.
            Event::CData(c) => {
                if let Some(o) = open.as_mut().filter(|_| !atom) {
                    o.markup |= c.contains('<');
                }
            }
            Event::End(_) => {
                stack.pop();
                if let Some(o) = open.take_if(|o| o.depth == stack.len()) {
                    let raw = doc.get(o.start..before).unwrap_or("");
                    close(o, raw, &mut found);
                }
            }
            Event::Eof => return Some(found),
            _ => {}
        }
    }
}

/// An element starts (or is empty) inside `stack`: records a new item or an item's Atom link,
/// and says which field's content to collect, with a guid's `isPermaLink`.
fn opened(
    reader: &NsReader<&[u8]>,
    e: &BytesStart<'_>,
    stack: &[String],
    found: &mut RawFeed,
) -> Option<(Field, bool)> {
    let (ns, local) = reader.resolver().resolve_element(e.name());
    let local = local.as_ref();
    let ns: &str = match ns {
        ResolveResult::Bound(n) => n.into_inner(),
        ResolveResult::Unbound => "",
        // A prefix nobody declared (`media:title` without its xmlns) is not RSS's own.
        ResolveResult::Unknown(_) => "undeclared:",
    };
    // RSS's own elements: in no namespace, or in one of RSS's.
    let unprefixed = ns.is_empty() || RSS.contains(&ns);
    let (parent, above) = stack.split_last()?;
    if unprefixed && local == "item" && is_item_parent(stack) {
        found.items.push(RawItem::default());
        return None;
    }
    if unprefixed && local == "title" && parent == "channel" && above.len() == 1 {
        return Some((Field::ChannelTitle, false));
    }
    if !(parent == "item" && is_item_parent(above)) {
        return None;
    }
    let item = found.items.last_mut()?;
    let field = match (ns, local) {
        (ATOM, "link") => {
            let rel = attribute(e, "rel");
            if item.atom_link.is_none() && rel.as_deref().is_none_or(|r| r == "alternate") {
                item.atom_link = attribute(e, "href").filter(|h| !h.trim().is_empty());
            }
            return None;
        }
        (ATOM, "published") => DateField::AtomPublished,
        (ATOM, "updated") => DateField::AtomUpdated,
        (DC, "date") => DateField::DcDate,
        (DCTERMS, "issued") => DateField::Issued,
        (DCTERMS, "created") => DateField::Created,
        (DCTERMS, "modified") => DateField::Modified,
        _ if !unprefixed => return None,
        (_, "title") => {
            item.has_title = true;
            return Some((Field::Title, false));
        }
        (_, "guid") => {
            let permalink =
                attribute(e, "isPermaLink").is_none_or(|v| !v.trim().eq_ignore_ascii_case("false"));
            return Some((Field::Guid, permalink));
        }
        (_, "pubDate") => DateField::PubDate,
        (_, "updated") => DateField::AtomUpdated,
        _ => return None,
    };
    Some((Field::Date(field), false))
}

/// An Atom element starts (or is empty): records a new entry, and says when a title of the
/// feed or of an entry that says it is text (no `type`, or `text`) is to be collected: Atom
/// text holds no elements, so one written inside it is markup the author wrote literally.
fn opened_atom(e: &BytesStart<'_>, stack: &[String], found: &mut RawFeed) -> Option<Field> {
    let local = e.local_name();
    let local = local.as_ref();
    if local == "entry" && stack.len() == 1 {
        found.items.push(RawItem::default());
        return None;
    }
    let text = attribute(e, "type").is_none_or(|t| matches!(t.trim(), "text" | "text/plain"));
    if local != "title" || !text || attribute(e, "mode").is_some_and(|m| m != "xml") {
        return None;
    }
    match stack {
        [_] => Some(Field::ChannelTitle),
        [_, parent] if parent == "entry" => {
            if let Some(item) = found.items.last_mut() {
                item.has_title = true;
            }
            Some(Field::Title)
        }
        _ => None,
    }
}

/// An element being collected ends, its content `raw` as written.
fn close(o: Open, raw: &str, found: &mut RawFeed) {
    let markup = o.markup.then(|| unwrap_cdata(raw));
    match o.field {
        Field::ChannelTitle => found.channel_title_markup = markup,
        Field::Title => {
            if let Some(item) = found.items.last_mut() {
                item.title_markup = markup;
            }
        }
        Field::Guid => {
            if let Some(item) = found.items.last_mut() {
                item.guid = Some(Guid {
                    text: text_of(raw),
                    permalink: o.permalink,
                });
            }
        }
        Field::Date(field) => {
            if let Some(item) = found.items.last_mut() {
                item.dates.push((field, text_of(raw)));
            }
        }
    }
}

/// Could an Atom document have a title holding an element? A byte scan, so that the walk runs
/// only on the rare documents where it can change something: some `<title …>` whose content,
/// CDATA sections aside, has a `<` before its `</title`.
pub(super) fn atom_title_may_hold_elements(doc: &str) -> bool {
    // SIMD substring search: the document is long and its titles few.
    let find = |hay: &str, needle: &str| memchr::memmem::find(hay.as_bytes(), needle.as_bytes());
    let mut rest = doc;
    while let Some(p) = find(rest, "<title") {
        let Some(gt) = rest[p..].find('>') else {
            return false;
        };
        let body = &rest[p + gt + 1..];
        let end = find(body, "</title").unwrap_or(body.len());
        let mut content = &body[..end];
        while let Some(c) = find(content, "<![CDATA[") {
            if content[..c].contains('<') {
                return true;
            }
            content = find(&content[c..], "]]>").map_or("", |e| &content[c + e + 3..]);
        }
        if content.contains('<') {
            return true;
        }
        rest = &body[end..];
    }
    false
}

/// Could the walk change anything feed-rs read from an RSS 2.0 document? A byte scan, so that
/// the walk runs only where it can: `false` when no title holds literal markup and no element
/// but `pubDate` can date an item (no `date`, `issued`, `created`, `published`, `updated` or
/// `modified`, whatever the prefix). The caller adds what only the entries tell: an entry
/// without its own link or without a date, and a `pubDate` written twice in an item.
pub(super) fn rss_walk_may_change(doc: &str) -> bool {
    const DATES: [&str; 6] = [
        "date",
        "issued",
        "created",
        "published",
        "updated",
        "modified",
    ];
    rss_title_may_hold_markup(doc) || DATES.iter().any(|name| count_elements(doc, name) > 0)
}

/// How many start tags named `local` (any prefix) the document has, give or take a mention in
/// text that looks like one: an element `x` is always written `<x` or `<prefix:x`, followed by
/// `>`, `/` or white space.
pub(super) fn count_elements(doc: &str, local: &str) -> usize {
    let bytes = doc.as_bytes();
    memchr::memmem::find_iter(bytes, local.as_bytes())
        .filter(|&at| {
            tag_start(bytes, at).is_some_and(|open| bytes.get(open + 1) != Some(&b'/'))
                && ends_name(bytes.get(at + local.len()))
        })
        .count()
}

/// Could an RSS title hold literal markup: an element in its content, or a CDATA section holding
/// a `<`? Titles with a prefix (`rss:title`, `media:title`) count; anything unclear counts.
fn rss_title_may_hold_markup(doc: &str) -> bool {
    let bytes = doc.as_bytes();
    for at in memchr::memmem::find_iter(bytes, b"title") {
        let Some(open) = tag_start(bytes, at) else {
            continue;
        };
        if bytes.get(open + 1) == Some(&b'/') || !ends_name(bytes.get(at + 5)) {
            continue;
        }
        let Some(gt) = doc[at..].find('>') else {
            return true;
        };
        if doc[..at + gt].ends_with('/') {
            continue;
        }
        if content_has_markup(&doc[at + gt + 1..]) {
            return true;
        }
    }
    false
}

/// Where the tag holding the name at `at` starts (its `<`), when the name follows `<` or a
/// `prefix:` that follows `<`.
fn tag_start(bytes: &[u8], at: usize) -> Option<usize> {
    let mut i = at.checked_sub(1)?;
    if bytes[i] == b':' {
        while i > 0
            && (bytes[i - 1].is_ascii_alphanumeric() || matches!(bytes[i - 1], b'_' | b'-' | b'.'))
        {
            i -= 1;
        }
        i = i.checked_sub(1)?;
    }
    (bytes[i] == b'<').then_some(i)
}

fn ends_name(after: Option<&u8>) -> bool {
    after.is_some_and(|a| matches!(a, b'>' | b'/') || a.is_ascii_whitespace())
}

/// Whether an element's content, up to its end tag, holds an element, a comment or a CDATA
/// section with a `<` in it. Content that never ends counts as markup.
fn content_has_markup(mut rest: &str) -> bool {
    loop {
        if let Some(inside) = rest.strip_prefix("<![CDATA[") {
            let Some(e) = inside.find("]]>") else {
                return true;
            };
            if inside[..e].contains('<') {
                return true;
            }
            rest = &inside[e + 3..];
            continue;
        }
        let Some(p) = rest.find('<') else {
            return true;
        };
        rest = &rest[p..];
        if rest.starts_with("</") {
            return false;
        }
        if !rest.starts_with("<![CDATA[") {
            return true;
        }
    }
}

/// Items are children of `channel` under the root (RSS 2.0, 0.9x) or of the root (RSS 1.0).
fn is_item_parent(stack: &[String]) -> bool {
    stack.len() == 1 || (stack.len() == 2 && stack[1] == "channel")
}

/// An attribute's value, unescaped.
fn attribute(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name)
        .and_then(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.into_owned())
        })
}

/// The text of an element's content as written: CDATA unwrapped, references decoded, trimmed.
fn text_of(raw: &str) -> String {
    if raw.contains("<![CDATA[") {
        return unwrap_cdata(raw);
    }
    quick_xml::escape::unescape(raw)
        .map_or_else(|_| raw.to_string(), |t| t.into_owned())
        .trim()
        .to_string()
}

/// The markup of an element's content with its CDATA sections unwrapped (their text is markup
/// here), trimmed.
fn unwrap_cdata(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(p) = rest.find("<![CDATA[") {
        out.push_str(&rest[..p]);
        let body = &rest[p + "<![CDATA[".len()..];
        let end = body.find("]]>").unwrap_or(body.len());
        out.push_str(&body[..end]);
        rest = body.get(end + "]]>".len()..).unwrap_or("");
    }
    out.push_str(rest);
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_walk_is_wanted_only_where_a_title_holds_markup_or_another_date_element_is() {
        let plain = "<rss><channel><title>블로그</title><item><title><![CDATA[첫 글 & 회고]]></title>\
            <link>https://a.example/1</link><pubDate>Mon, 14 Oct 2024 10:00:00 +0900</pubDate>\
            <media:title>x</media:title><description>&lt;b&gt;updated&lt;/b&gt; date: created</description></item></channel></rss>";
        assert!(!rss_walk_may_change(plain));
        assert_eq!(count_elements(plain, "pubDate"), 1);
        for (from, to) in [
            (
                "<title><![CDATA[첫 글 & 회고]]>",
                "<title><![CDATA[첫 <b>글</b>]]>",
            ),
            (
                "<title><![CDATA[첫 글 & 회고]]>",
                "<title>첫 <b>글</b> <![CDATA[회고]]>",
            ),
            ("<title>블로그</title>", "<title>블로그 <!-- x --></title>"),
            (
                "<media:title>x</media:title>",
                "<media:title>x<i>y</i></media:title>",
            ),
            (
                "<media:title>x</media:title>",
                "<dc:date>2024-10-14</dc:date>",
            ),
            (
                "<media:title>x</media:title>",
                "<updated>2024-10-14</updated>",
            ),
            (
                "<media:title>x</media:title>",
                "<dcterms:modified\n>2024</dcterms:modified>",
            ),
            (
                "<media:title>x</media:title>",
                "<a10:published>2024</a10:published>",
            ),
        ] {
            let doc = plain.replace(from, to);
            assert_ne!(doc, plain);
            assert!(rss_walk_may_change(&doc), "{to}");
        }
        let twice = plain.replace("</pubDate>", "</pubDate><pubDate>x</pubDate>");
        assert_eq!(count_elements(&twice, "pubDate"), 2);
    }

    #[test]
    fn only_titles_written_with_literal_markup_are_markup() {
        let doc = "<rss version=\"2.0\"><channel><title><![CDATA[<b>블로그</b>]]></title>\
            <image><title><i>x</i></title></image>\
            <item><title>&lt;b&gt;굵게&lt;/b&gt;</title></item>\
            <item><title><![CDATA[R&D 이야기]]></title></item>\
            <item><title>R&amp;D <b>회고</b></title><media:title><i>m</i></media:title></item>\
            <item><title><![CDATA[<script>alert(1)</script> 제목]]></title></item>\
            <item><description>no title</description></item>\
            </channel></rss>";
        let raw = scan(doc).unwrap();
        assert_eq!(raw.channel_title_markup.as_deref(), Some("<b>블로그</b>"));
        let titles: Vec<_> = raw.items.iter().map(|i| i.title_markup.clone()).collect();
        assert_eq!(
            titles,
            [
                None,
                None,
                Some("R&amp;D <b>회고</b>".to_string()),
                Some("<script>alert(1)</script> 제목".to_string()),
                None,
            ]
        );
        assert!(!raw.items[4].has_title && raw.items[3].has_title);
    }

    #[test]
    fn atom_text_titles_holding_elements_are_markup_html_ones_are_not() {
        let doc = "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>Club <b>feed</b></title>\
            <entry><title>Example <b>Atom</b></title></entry>\
            <entry><title type=\"xhtml\"><div xmlns=\"http://www.w3.org/1999/xhtml\"><b>x</b></div></title></entry>\
            <entry><title>plain</title><source><title>s <i>t</i></title></source></entry></feed>";
        let raw = scan(doc).unwrap();
        assert_eq!(
            raw.channel_title_markup.as_deref(),
            Some("Club <b>feed</b>")
        );
        let titles: Vec<_> = raw.items.iter().map(|i| i.title_markup.clone()).collect();
        assert_eq!(
            titles,
            [Some("Example <b>Atom</b>".to_string()), None, None]
        );
    }

    #[test]
    fn atom_cdata_is_text_and_the_byte_scan_finds_only_titles_holding_elements() {
        let cdata = "<feed xmlns=\"http://www.w3.org/2005/Atom\">\
            <entry><title><![CDATA[<b>x</b>]]></title></entry></feed>";
        assert_eq!(scan(cdata).unwrap().items[0].title_markup, None);
        assert!(!atom_title_may_hold_elements(cdata));
        assert!(!atom_title_may_hold_elements(
            "<feed><title type=\"html\">&lt;b&gt;</title></feed>"
        ));
        assert!(atom_title_may_hold_elements(
            "<feed><entry><title>a <b>b</b></title></entry></feed>"
        ));
    }

    #[test]
    fn rss1_items_sit_under_the_root() {
        let doc = "<rdf:RDF><channel><title>t</title></channel>\
            <item><title><![CDATA[<em>a</em>]]></title></item><item><title>b</title></item></rdf:RDF>";
        let raw = scan(doc).unwrap();
        assert_eq!(raw.channel_title_markup, None);
        let titles: Vec<_> = raw.items.iter().map(|i| i.title_markup.clone()).collect();
        assert_eq!(titles, [Some("<em>a</em>".to_string()), None]);
    }

    #[test]
    fn guids_links_and_dates_are_read_by_namespace_not_prefix() {
        let doc = "<rss version=\"2.0\" xmlns:a10=\"http://www.w3.org/2005/Atom\" \
            xmlns:d=\"http://purl.org/dc/elements/1.1/\" xmlns:t=\"http://purl.org/dc/terms/\">\
            <channel><item><guid isPermaLink=\"false\">urn:x:1</guid>\
            <a10:link rel=\"edit\" href=\"http://e/edit\"/><a10:link href=\"http://e/p?a=1&amp;b=2\"/>\
            <pubDate>junk</pubDate><d:date>2024-01-02T03:04:05Z</d:date>\
            <t:modified>2024-02-01T00:00:00Z</t:modified><a10:published>2024-01-01T00:00:00Z</a10:published>\
            </item><item><guid> http://e/2 </guid><comments>http://e/2#c</comments></item></channel></rss>";
        let raw = scan(doc).unwrap();
        let first = &raw.items[0];
        assert_eq!(
            first.guid,
            Some(Guid {
                text: "urn:x:1".into(),
                permalink: false
            })
        );
        assert_eq!(first.atom_link.as_deref(), Some("http://e/p?a=1&b=2"));
        let fields: Vec<_> = first.dates.iter().map(|(f, _)| *f).collect();
        assert_eq!(
            fields,
            [
                DateField::PubDate,
                DateField::DcDate,
                DateField::Modified,
                DateField::AtomPublished
            ]
        );
        assert_eq!(
            raw.items[1].guid,
            Some(Guid {
                text: "http://e/2".into(),
                permalink: true
            })
        );
    }
}
