//! The root of an RSS document set right before feed-rs reads it. feed-rs knows `<rss>` whose
//! elements are in no namespace and `<rdf:RDF>` whose items each have a link; RSS has been
//! published otherwise, and each way below read as a feed of no items, silently:
//!
//! - RSS 2.0 in Userland's or Harvard's namespace, as the default namespace or behind a prefix
//!   (`<r:rss xmlns:r="http://backend.userland.com/rss2">`): read as plain RSS;
//! - an `<rss>` with its items straight under the root, no `<channel>`: given one;
//! - RSS 0.90, in Netscape's namespace: read in RSS 1.0's (the same elements);
//! - an RDF root written `<rdf>`, without its namespace: read as `<rdf:RDF>`;
//! - RSS 1.0 items without `<link>`: given their `rdf:about` address as their link (the RSS 1.0
//!   spec says it should be the link); when some item has neither, the whole document is read
//!   as RSS 2.0 (items moved into the channel), which keeps items without a link as RSS 2.0
//!   items are kept.
//!
//! - an Atom `<feed>` whose entries are written `<item>` (no `<entry>` at all): read as entries.
//!
//! Each repair is said in `repairs`.

use std::borrow::Cow;

use super::repair::{find_root, root_element};
use super::Format;
use crate::source::is_web_address;

/// The RSS 1.0 namespace, the one RSS 1.0 (and 0.90, once renamed) is read in.
const RSS1: &str = "http://purl.org/rss/1.0/";
/// RSS 0.90's namespace (Netscape's).
const RSS090: &str = "http://my.netscape.com/rdf/simple/0.9/";
/// The RDF namespace.
const RDF: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";

/// The root repairs, in order; returns the format when the document is read as another
/// (RSS 0.90 or 1.0 read as RSS 2.0).
pub(super) fn repair_root(doc: &mut Cow<'_, str>, repairs: &mut Vec<String>) -> Option<Format> {
    type Step = fn(&str, &mut Vec<String>) -> Option<String>;
    let steps: [Step; 6] = [
        atom_items_as_entries,
        repair_rss_namespace,
        unprefix_rss,
        add_channel,
        name_bare_rdf,
        repair_rdf_links,
    ];
    for step in steps {
        if let Some(repaired) = step(doc, repairs) {
            *doc = Cow::Owned(repaired);
        }
    }
    let mut format = None;
    let rdf = root_element(doc).is_some_and(|(_, root)| root.ends_with(":RDF"));
    if let Some(renamed) = (rdf && doc.contains(RSS090)).then(|| doc.replacen(RSS090, RSS1, 1)) {
        repairs.push("read RSS 0.90 (Netscape's namespace) as RSS 1.0".to_string());
        *doc = Cow::Owned(renamed);
        format = Some(Format::Rss0);
    }
    if let Some(converted) = rdf_as_rss2(doc, repairs) {
        *doc = Cow::Owned(converted);
        format = format.or(Some(Format::Rss1));
    }
    format
}

/// The default namespaces RSS 2.0 was once published in (Userland's, Harvard's): feed-rs
/// looks for RSS elements in no namespace, so an `<rss xmlns="…">` in one of them read as a feed
/// of no items, silently.
const RSS_NAMESPACES: [&str; 3] = [
    "http://backend.userland.com/rss2",
    "http://backend.userland.com/rss",
    "http://blogs.law.harvard.edu/tech/rss",
];

/// Drops an RSS 2.0 default namespace declaration from the `<rss>` tag (other declarations,
/// such as `xmlns:dc`, stay): its elements are RSS elements either way.
fn repair_rss_namespace(doc: &str, repairs: &mut Vec<String>) -> Option<String> {
    let start = find_root(doc, "rss")?;
    let end = doc[start..].find('>').map(|e| start + e)?;
    let tag = &doc[start..end];
    for ns in RSS_NAMESPACES {
        for quote in ['"', '\''] {
            let decl = format!("xmlns={quote}{ns}{quote}");
            if let Some(at) = tag.find(&decl) {
                repairs.push(format!(
                    "read RSS in the default namespace {ns} as plain RSS"
                ));
                let at = start + at;
                return Some(format!("{}{}", &doc[..at], &doc[at + decl.len()..]));
            }
        }
    }
    None
}

/// RSS 1.0 items without a `<link>`: feed-rs drops them, though an RSS 2.0 item without a link
/// is kept. An RSS 1.0 item names its resource in `rdf:about` (which the spec says should be
/// its link), so that address is given as its `<link>`; an item without either is left alone.
fn repair_rdf_links(doc: &str, repairs: &mut Vec<String>) -> Option<String> {
    let (_, root) = root_element(doc)?;
    if !root.eq_ignore_ascii_case("rdf:RDF") {
        return None;
    }
    let mut out = String::with_capacity(doc.len() + 64);
    let (mut copied, mut added) = (0, 0);
    for (start, open_end, close) in rdf_items(doc) {
        if doc[open_end..close].contains("<link") {
            continue;
        }
        let tag = &doc[start..open_end];
        let about = tag.find("rdf:about=").and_then(|i| {
            let rest = &tag[i + 10..];
            let q = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
            rest[1..].find(q).map(|e| rest[1..1 + e].to_string())
        });
        if let Some(about) = about.filter(|a| is_web_address(a)) {
            out.push_str(&doc[copied..open_end]);
            out.push_str(&format!("<link>{about}</link>"));
            copied = open_end;
            added += 1;
        }
    }
    if added == 0 {
        return None;
    }
    out.push_str(&doc[copied..]);
    repairs.push(format!(
        "gave {added} RSS 1.0 item(s) without a <link> their rdf:about address"
    ));
    Some(out)
}

/// An Atom feed with `<item>`s and no `<entry>`: the items renamed entries.
fn atom_items_as_entries(doc: &str, repairs: &mut Vec<String>) -> Option<String> {
    find_root(doc, "feed")?;
    if doc.contains("<entry") {
        return None;
    }
    let items = rdf_items(doc).len();
    if items == 0 {
        return None;
    }
    repairs.push(format!(
        "read {items} <item>(s) of an Atom feed as its entries"
    ));
    Some(
        doc.replace("<item>", "<entry>")
            .replace("<item ", "<entry ")
            .replace("</item>", "</entry>"),
    )
}

/// `<r:rss xmlns:r="…userland…">`: every element written behind the prefix bound to an RSS
/// namespace, read without it.
fn unprefix_rss(doc: &str, repairs: &mut Vec<String>) -> Option<String> {
    let (start, root) = root_element(doc)?;
    let (prefix, local) = root.split_once(':')?;
    if local != "rss" {
        return None;
    }
    let end = doc[start..].find('>').map(|e| start + e)?;
    let tag = &doc[start..end];
    let bound = RSS_NAMESPACES.iter().any(|ns| {
        ['"', '\'']
            .iter()
            .any(|q| tag.contains(&format!("xmlns:{prefix}={q}{ns}{q}")))
    });
    if !bound {
        return None;
    }
    repairs.push(format!(
        "read RSS written behind the prefix {prefix}: as plain RSS"
    ));
    Some(
        doc.replace(&format!("<{prefix}:"), "<")
            .replace(&format!("</{prefix}:"), "</"),
    )
}

/// An `<rss>` root with no `<channel>`: its content is wrapped in one.
fn add_channel(doc: &str, repairs: &mut Vec<String>) -> Option<String> {
    let start = find_root(doc, "rss")?;
    if doc.contains("<channel") || !doc.contains("<item") {
        return None;
    }
    let open_end = start + doc[start..].find('>')? + 1;
    if doc[..open_end].ends_with("/>") {
        return None;
    }
    let close = doc.rfind("</rss").filter(|c| *c >= open_end)?;
    repairs.push("an <rss> without a <channel>: read its items as the channel's".to_string());
    Some(format!(
        "{}<channel>{}</channel>{}",
        &doc[..open_end],
        &doc[open_end..close],
        &doc[close..]
    ))
}

/// An RDF root written `<rdf>` without a namespace, holding RSS 1.0's `channel` and `item`s.
fn name_bare_rdf(doc: &str, repairs: &mut Vec<String>) -> Option<String> {
    let start = find_root(doc, "rdf")?;
    if !doc.contains("<item") {
        return None;
    }
    let open_end = start + doc[start..].find('>')?;
    let close = doc.rfind("</rdf>").filter(|c| *c >= open_end)?;
    repairs.push("read the root <rdf> (no namespace) as RSS 1.0's <rdf:RDF>".to_string());
    Some(format!(
        "{}<rdf:RDF xmlns:rdf=\"{RDF}\" xmlns=\"{RSS1}\"{}</rdf:RDF>{}",
        &doc[..start],
        &doc[start + "<rdf".len()..close],
        &doc[close + "</rdf>".len()..]
    ))
}

/// The start, end of start tag and end of content of each `<item>` element.
fn rdf_items(doc: &str) -> Vec<(usize, usize, usize)> {
    let mut items = Vec::new();
    let mut at = 0;
    while let Some(p) = doc[at..].find("<item") {
        let start = at + p;
        let Some(tag_len) = doc[start..].find('>') else {
            break;
        };
        let open_end = start + tag_len + 1;
        at = open_end;
        let after = doc[start + "<item".len()..].chars().next();
        if !after.is_some_and(|c| c.is_whitespace() || c == '>') {
            continue;
        }
        let Some(close) = doc[open_end..].find("</item>").map(|e| open_end + e) else {
            break;
        };
        items.push((start, open_end, close));
    }
    items
}

/// An RSS 1.0 document with an item that has no `<link>` (and no `rdf:about` to stand in),
/// which feed-rs would drop: read as RSS 2.0, the channel closed after the last item.
fn rdf_as_rss2(doc: &str, repairs: &mut Vec<String>) -> Option<String> {
    let (start, root) = root_element(doc)?;
    if !root.ends_with(":RDF") {
        return None;
    }
    let items = rdf_items(doc);
    let linkless = items
        .iter()
        .filter(|(_, open_end, close)| !doc[*open_end..*close].contains("<link"))
        .count();
    if linkless == 0 {
        return None;
    }
    let open_end = start + doc[start..].find('>')? + 1;
    let close = doc.rfind(&format!("</{root}")).filter(|c| *c >= open_end)?;
    let attributes = &doc[start + 1 + root.len()..open_end - 1];
    let body = &doc[open_end..close];
    let body = match body.find("</channel>") {
        Some(c) => format!("{}{}", &body[..c], &body[c + "</channel>".len()..]),
        None => format!("<channel>{body}"),
    };
    repairs.push(format!(
        "read RSS 1.0 as RSS 2.0 to keep {linkless} item(s) that have no link"
    ));
    Some(format!(
        "{}<rss version=\"2.0\"{attributes}>{body}</channel></rss>",
        &doc[..start]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse;

    #[test]
    fn regression_rss_in_the_userland_default_namespace_keeps_its_items() {
        let doc = r#"<?xml version="1.0"?><rss version="2.0" xmlns="http://backend.userland.com/rss2" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>t</title><item><title>a</title><link>https://x.example/a</link></item></channel></rss>"#;
        let mut repairs = Vec::new();
        let fixed = repair_rss_namespace(doc, &mut repairs).unwrap();
        assert!(!fixed.contains("backend.userland.com"), "{fixed}");
        assert!(
            fixed.contains("xmlns:dc="),
            "other declarations stay: {fixed}"
        );
        assert_eq!(repairs.len(), 1);
        let parsed =
            crate::parse::parse(doc.as_bytes(), None, None, chrono_tz::Asia::Seoul).unwrap();
        assert_eq!(parsed.feed.entries.len(), 1);
        assert!(parsed
            .repairs
            .iter()
            .any(|r| r.contains("default namespace")));
    }

    #[test]
    fn regression_rss1_items_without_a_link_are_kept() {
        let doc = r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="http://example.org/index.rdf"><title>t</title><link>http://example.org/</link><description>d</description></channel>
  <item rdf:about="http://example.org/entry/1"><title>one</title><dc:date>2024-11-14T10:00:00+09:00</dc:date></item>
  <item rdf:about="http://example.org/entry/2"><title>two</title><link>http://example.org/2</link></item>
</rdf:RDF>"#;
        let parsed =
            crate::parse::parse(doc.as_bytes(), None, None, chrono_tz::Asia::Seoul).unwrap();
        assert_eq!(parsed.feed.entries.len(), 2);
        assert!(
            parsed.repairs.iter().any(|r| r.contains("1 RSS 1.0 item")),
            "{:?}",
            parsed.repairs
        );
        assert!(parsed.feed.entries[0].published.is_some());
    }

    #[test]
    fn regression_rss_behind_a_userland_prefix_keeps_its_items() {
        let doc = r#"<r:rss version="2.0" xmlns:r="http://backend.userland.com/rss2"><r:channel><r:title>t</r:title><r:item><r:title>a</r:title><r:link>https://x.example/a</r:link></r:item></r:channel></r:rss>"#;
        let parsed = parse(doc.as_bytes(), None, None, chrono_tz::UTC).unwrap();
        assert_eq!(parsed.feed.entries.len(), 1);
        assert!(parsed.repairs.iter().any(|r| r.contains("prefix r:")));
    }

    #[test]
    fn regression_an_atom_feed_written_with_items_keeps_them() {
        let doc = r#"<feed xmlns="http://www.w3.org/2005/Atom"><item><title>a</title><link href="https://x.example/a"/></item></feed>"#;
        let parsed = parse(doc.as_bytes(), None, None, chrono_tz::UTC).unwrap();
        assert_eq!(parsed.feed.entries.len(), 1);
        assert!(parsed
            .repairs
            .iter()
            .any(|r| r.contains("<item>(s) of an Atom feed")));
    }

    #[test]
    fn regression_rss_without_a_channel_keeps_its_items() {
        let doc = "<rss><item><title>a</title><description>x</description></item></rss>";
        let parsed = parse(doc.as_bytes(), None, None, chrono_tz::UTC).unwrap();
        assert_eq!(parsed.feed.entries.len(), 1);
        assert!(parsed
            .repairs
            .iter()
            .any(|r| r.contains("without a <channel>")));
    }

    #[test]
    fn regression_rss_090_and_a_bare_rdf_root_keep_items_without_links() {
        let rss090 = r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://my.netscape.com/rdf/simple/0.9/"><channel><title>c</title></channel><item><title>Item title</title></item></rdf:RDF>"#;
        let parsed = parse(rss090.as_bytes(), None, None, chrono_tz::UTC).unwrap();
        assert_eq!(parsed.feed.entries.len(), 1);
        assert_eq!(parsed.format, Format::Rss0);
        assert_eq!(
            parsed.feed.entries[0]
                .title
                .as_ref()
                .map(|t| t.content.as_str()),
            Some("Item title")
        );
        let bare = "<rdf><item><title>Glasfaser</title><description>d</description></item></rdf>";
        let parsed = parse(bare.as_bytes(), None, None, chrono_tz::UTC).unwrap();
        assert_eq!(parsed.feed.entries.len(), 1);
        assert_eq!(parsed.format, Format::Rss1);
        assert!(
            parsed.repairs.iter().any(|r| r.contains("<rdf>")),
            "{:?}",
            parsed.repairs
        );
    }
}
