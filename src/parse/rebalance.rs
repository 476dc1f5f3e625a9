//! Elements left open or closed by the wrong name, set right so that the entries around them
//! are read: the recovery tried when feed-rs refuses a document as ill-formed (and before a
//! cut-off document is read to its last whole entry).
//!
//! The document is walked with end-name checks off, keeping the stack of open elements:
//!
//! - an end tag that closes an element further down the stack closes the ones above it first
//!   (`<itunes:category text='x'>` never closed, then `</channel>`);
//! - an end tag that matches nothing open is dropped (`<title>t</subtitle>`);
//! - an `<item>` or `<entry>` opened while something other than its parent is open (the
//!   channel, the Atom feed, the RDF root) closes what is open above that parent first, so a
//!   stray open element does not swallow the entries after it.
//!
//! A document that does not read to its end (a cut-off body, an unterminated CDATA section) or
//! that leaves elements open at its end is not this recovery's: `None`, and the cut-off
//! recovery keeps its whole entries, if any.

use quick_xml::events::Event;
use quick_xml::Reader;

/// What the walk set right, in words for `repairs`.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Rebalanced {
    /// The repaired document.
    pub doc: String,
    /// Elements closed where the document forgot to.
    pub closed: usize,
    /// End tags dropped because nothing of their name was open.
    pub dropped: usize,
}

impl Rebalanced {
    /// The repair in words.
    pub(super) fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.closed > 0 {
            parts.push(format!("closed {} element(s) left open", self.closed));
        }
        if self.dropped > 0 {
            parts.push(format!(
                "dropped {} end tag(s) that closed nothing open",
                self.dropped
            ));
        }
        format!("the XML was ill-formed: {}", parts.join(", "))
    }
}

/// Rebalances `doc`; `None` when it needs nothing, or more than this recovery does.
pub(super) fn rebalance(doc: &str) -> Option<Rebalanced> {
    let mut reader = Reader::from_str(doc);
    reader.config_mut().check_end_names = false;
    reader.config_mut().allow_unmatched_ends = true;
    let mut stack: Vec<String> = Vec::new();
    let mut out = Rebalanced {
        doc: String::with_capacity(doc.len() + 64),
        ..Rebalanced::default()
    };
    let mut copied = 0;
    loop {
        let before = usize::try_from(reader.buffer_position()).ok()?;
        let event = reader.read_event().ok()?;
        let after = usize::try_from(reader.buffer_position()).ok()?;
        match event {
            Event::Start(e) => {
                let name = e.name().as_ref().to_string();
                if matches!(local(&name), "item" | "entry") {
                    if let Some(parent) = entry_parent(&stack) {
                        out.doc.push_str(&doc[copied..before]);
                        copied = before;
                        close_above(&mut stack, parent + 1, &mut out);
                    }
                }
                stack.push(name);
            }
            Event::End(e) => {
                let name = e.name().as_ref().to_string();
                match stack.iter().rposition(|open| *open == name) {
                    Some(at) if at + 1 == stack.len() => {
                        stack.pop();
                    }
                    Some(at) => {
                        out.doc.push_str(&doc[copied..before]);
                        copied = before;
                        close_above(&mut stack, at + 1, &mut out);
                        stack.pop();
                    }
                    None => {
                        out.doc.push_str(&doc[copied..before]);
                        copied = after;
                        out.dropped += 1;
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() || out.closed + out.dropped == 0 {
        return None;
    }
    out.doc.push_str(&doc[copied..]);
    Some(out)
}

/// The local part of a (possibly prefixed) name.
fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

/// Where an item's or entry's parent sits on the stack, when something else is open above it.
fn entry_parent(stack: &[String]) -> Option<usize> {
    let parent = stack.iter().rposition(|n| {
        matches!(n.as_str(), "channel" | "feed") || (n.ends_with(":RDF") && stack[0] == *n)
    })?;
    (parent + 1 < stack.len()).then_some(parent)
}

/// Closes every open element from `depth` up, innermost first, writing their end tags.
fn close_above(stack: &mut Vec<String>, depth: usize, out: &mut Rebalanced) {
    while stack.len() > depth {
        if let Some(name) = stack.pop() {
            out.doc.push_str("</");
            out.doc.push_str(&name);
            out.doc.push('>');
            out.closed += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_element_left_open_is_closed_before_the_items_after_it() {
        let doc = "<rss><channel><itunes:category text='a'><itunes:category text='b'/>\
            <item><title>1</title></item><item><title>2</title></item></channel></rss>";
        let fixed = rebalance(doc).unwrap();
        assert_eq!(
            fixed.doc,
            "<rss><channel><itunes:category text='a'><itunes:category text='b'/>\
            </itunes:category><item><title>1</title></item><item><title>2</title></item></channel></rss>"
        );
        assert_eq!((fixed.closed, fixed.dropped), (1, 0));
    }

    #[test]
    fn an_end_tag_that_closes_nothing_is_dropped() {
        let doc = "<feed><entry><source><title type=\"text\">S</subtitle></source></entry></feed>";
        let fixed = rebalance(doc).unwrap();
        assert_eq!(
            fixed.doc,
            "<feed><entry><source><title type=\"text\">S</title></source></entry></feed>"
        );
        assert_eq!((fixed.closed, fixed.dropped), (1, 1));
    }

    #[test]
    fn well_formed_and_cut_off_documents_are_not_this_recoverys() {
        assert_eq!(rebalance("<rss><channel><item/></channel></rss>"), None);
        assert_eq!(rebalance("<rss><channel><item><title><![CD"), None);
        assert_eq!(rebalance("<rss><channel><item></item>"), None);
    }
}
