//! RSS titles written with literal markup, told apart from titles written with escaped markup.
//!
//! RSS says nothing about whether a `<title>` is text or HTML, and feed-rs hands every RSS title
//! over as plain text, whichever way it was written: `<![CDATA[<b>x</b>]]>` and `&lt;b&gt;x&lt;/b&gt;`
//! reach us as the same string, and a title holding child elements (`R&amp;D <b>회고</b>`) is cut
//! at the first of them. The way it was written is the only clue to what the author meant, so
//! the document feed-rs read is walked once more here:
//!
//! - a title written with literal markup — a child element, or a CDATA section holding a `<` —
//!   is HTML: it is handed on as `text/html`, its content the markup as written (CDATA unwrapped);
//! - every other title (plain, or markup escaped as `&lt;b&gt;`) stays the text feed-rs read, so
//!   an escaped `&lt;script&gt;` is shown as the text `<script>`, never read as a tag.
//!
//! This is feedparser's idea (it sniffs RSS titles for markup) decided on the raw document
//! rather than the decoded string. Atom says what its text constructs are (`type="text"` is text,
//! only `html` and `xhtml` are markup) and JSON Feed titles are text: both are left as feed-rs
//! read them. When the items of the document cannot be matched one to one with the entries
//! feed-rs read, nothing is changed.

use feed_rs::model::{Feed, FeedType, Text};
use quick_xml::events::Event;
use quick_xml::Reader;

/// Marks the RSS titles of `feed` (read from `doc`) that were written with literal markup as
/// HTML, with the markup as written as their content.
pub(super) fn mark_markup_titles(feed: &mut Feed, doc: &str) {
    if !matches!(
        feed.feed_type,
        FeedType::RSS0 | FeedType::RSS1 | FeedType::RSS2
    ) || !doc.contains("<title")
    {
        return;
    }
    let Some(titles) = scan(doc) else { return };
    if let Some(html) = titles.channel {
        feed.title = html_title(html).or(feed.title.take());
    }
    if titles.items.len() != feed.entries.len() {
        return;
    }
    for (entry, html) in feed.entries.iter_mut().zip(titles.items) {
        if let Some(html) = html {
            entry.title = html_title(html).or(entry.title.take());
        }
    }
}

/// A title as `text/html`.
fn html_title(content: String) -> Option<Text> {
    Some(Text {
        content_type: "text/html".parse().ok()?,
        src: None,
        content,
    })
}

/// What the walk found: for the channel and for each item in document order, the markup of a
/// title written with literal markup (`None` for a title that is text, or no title).
#[derive(Debug, Default, PartialEq)]
struct Titles {
    channel: Option<String>,
    items: Vec<Option<String>>,
}

/// Whose title is being read.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Owner {
    Channel,
    Item,
}

/// A title being read: whose it is, where its content starts, how deep it is and whether
/// literal markup was seen in it.
struct Open {
    owner: Owner,
    start: usize,
    depth: usize,
    markup: bool,
}

/// Walks an RSS document (RSS 2.0 and 0.9x: `rss > channel > item`; RSS 1.0:
/// `rdf:RDF > item`). `None` when the XML cannot be read to its end.
fn scan(doc: &str) -> Option<Titles> {
    let mut reader = Reader::from_str(doc);
    let mut stack: Vec<String> = Vec::new();
    let mut found = Titles::default();
    let mut open: Option<Open> = None;
    loop {
        let before = usize::try_from(reader.buffer_position()).ok()?;
        match reader.read_event().ok()? {
            Event::Start(e) => {
                let name = e.name().as_ref().to_string();
                if let Some(t) = open.as_mut() {
                    t.markup = true;
                } else if name == "title" {
                    open = title_owner(&stack).map(|owner| Open {
                        owner,
                        start: usize::try_from(reader.buffer_position()).unwrap_or(before),
                        depth: stack.len(),
                        markup: false,
                    });
                } else if name == "item" && is_item_parent(&stack) {
                    found.items.push(None);
                }
                stack.push(name);
            }
            Event::Empty(e) => match open.as_mut() {
                Some(t) => t.markup = true,
                None if e.name().as_ref() == "item" && is_item_parent(&stack) => {
                    found.items.push(None);
                }
                None => {}
            },
            Event::CData(c) => {
                if let Some(t) = open.as_mut() {
                    t.markup |= c.contains('<');
                }
            }
            Event::End(_) => {
                stack.pop();
                if let Some(t) = open.take_if(|t| t.depth == stack.len()) {
                    let html = t
                        .markup
                        .then(|| unwrap_cdata(doc.get(t.start..before).unwrap_or("")));
                    match t.owner {
                        Owner::Channel => found.channel = html,
                        Owner::Item => {
                            if let Some(last) = found.items.last_mut() {
                                *last = html;
                            }
                        }
                    }
                }
            }
            Event::Eof => return Some(found),
            _ => {}
        }
    }
}

/// Items are children of `channel` under the root (RSS 2.0, 0.9x) or of the root (RSS 1.0).
fn is_item_parent(stack: &[String]) -> bool {
    stack.len() == 1 || (stack.len() == 2 && stack[1] == "channel")
}

/// The owner of a `title` opened inside `stack`: the channel's own title, or an item's.
fn title_owner(stack: &[String]) -> Option<Owner> {
    let (parent, above) = stack.split_last()?;
    if parent == "channel" && above.len() == 1 {
        Some(Owner::Channel)
    } else if parent == "item" && is_item_parent(above) {
        Some(Owner::Item)
    } else {
        None
    }
}

/// The markup of a title's content with its CDATA sections unwrapped (their text is markup
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
    fn only_titles_written_with_literal_markup_are_markup() {
        let doc = "<rss version=\"2.0\"><channel><title><![CDATA[<b>블로그</b>]]></title>\
            <image><title><i>x</i></title></image>\
            <item><title>&lt;b&gt;굵게&lt;/b&gt;</title></item>\
            <item><title><![CDATA[R&D 이야기]]></title></item>\
            <item><title>R&amp;D <b>회고</b></title><media:title><i>m</i></media:title></item>\
            <item><title><![CDATA[<script>alert(1)</script> 제목]]></title></item>\
            <item><description>no title</description></item>\
            </channel></rss>";
        let titles = scan(doc).unwrap();
        assert_eq!(titles.channel.as_deref(), Some("<b>블로그</b>"));
        assert_eq!(
            titles.items,
            [
                None,
                None,
                Some("R&amp;D <b>회고</b>".to_string()),
                Some("<script>alert(1)</script> 제목".to_string()),
                None,
            ]
        );
    }

    #[test]
    fn rss1_items_sit_under_the_root() {
        let doc = "<rdf:RDF><channel><title>t</title></channel>\
            <item><title><![CDATA[<em>a</em>]]></title></item><item><title>b</title></item></rdf:RDF>";
        let titles = scan(doc).unwrap();
        assert_eq!(titles.channel, None);
        assert_eq!(titles.items, [Some("<em>a</em>".to_string()), None]);
    }
}
