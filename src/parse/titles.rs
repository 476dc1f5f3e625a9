//! Titles written with literal markup, told apart from titles written with escaped markup.
//!
//! RSS says nothing about whether a `<title>` is text or HTML, and feed-rs hands every RSS title
//! over as plain text, whichever way it was written: `<![CDATA[<b>x</b>]]>` and `&lt;b&gt;x&lt;/b&gt;`
//! reach us as the same string, and a title holding child elements (`R&amp;D <b>회고</b>`) is cut
//! at the first of them. The way it was written is the only clue to what the author meant, so
//! it is read from the walk of the raw document (`items.rs`):
//!
//! - a title written with literal markup — a child element, or a CDATA section holding a `<` —
//!   is HTML: it is handed on as `text/html`, its content the markup as written (CDATA unwrapped);
//! - every other title (plain, or markup escaped as `&lt;b&gt;`) stays the text feed-rs read, so
//!   an escaped `&lt;script&gt;` is shown as the text `<script>`, never read as a tag.
//!
//! This is feedparser's idea (it sniffs RSS titles for markup) decided on the raw document
//! rather than the decoded string. Atom says what its text constructs are (`type="text"` is text,
//! only `html` and `xhtml` are markup), so an Atom title is changed only when a text title holds
//! elements, which text cannot (`Example <b>Atom</b>`, which feed-rs cuts to "Example"): it is
//! read as the markup it is, so no word is lost. JSON Feed titles are text, left as feed-rs read
//! them. When the items of the document cannot be matched one to one with the entries
//! feed-rs read, nothing is changed.

use feed_rs::model::{Feed, Text};

use super::items::RawFeed;

/// Marks the RSS titles of `feed` (walked as `raw`) that were written with literal markup as
/// HTML, with the markup as written as their content.
pub(super) fn mark_markup_titles(feed: &mut Feed, raw: &RawFeed) {
    if let Some(html) = raw.channel_title_markup.clone() {
        feed.title = html_title(html).or(feed.title.take());
    }
    if raw.items.len() != feed.entries.len() {
        return;
    }
    for (entry, item) in feed.entries.iter_mut().zip(&raw.items) {
        if let Some(html) = item.title_markup.clone() {
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
