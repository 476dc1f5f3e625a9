//! RSS entries set right from the raw walk (`items.rs`) after feed-rs has read them: their
//! dates, and their link.
//!
//! **Dates.** An item's published date is the first of its date elements that parses, in this
//! order: `pubDate`, `dc:date`, `dcterms:issued`, `dcterms:created`, `atom:published`; its updated
//! date the first of `atom:updated`, `dcterms:modified` (else the published date). So a junk
//! `dc:date` beside a good `pubDate` costs nothing, and `pubDate` wins over `dc:date` whichever
//! comes first in the item (feed-rs keeps the last of the two, parsed or not).
//!
//! **Links.** The link we publish must be the post's: an item without `<link>` takes the `href`
//! of an Atom `<link>` inside it (`a10:link`), else its guid when that is a permalink
//! (`isPermaLink` not `false`) and an `http(s)` address — never a guid that says it is not a
//! permalink, never the `<comments>` page (feed-rs lists that among the links; `normalise` skips
//! it).
//!
//! When the items of the walk cannot be matched one to one with feed-rs's entries, nothing is
//! changed.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use feed_rs::model::{Entry, Feed, Link};

use super::dates::parse_date;
use super::items::{count_elements, rss_walk_may_change, DateField, RawFeed, RawItem};
use super::say;
use crate::source::is_web_address;

/// Sets the dates and links of `feed`'s entries from the raw walk of its items, and says in
/// `repairs` what that changed.
pub(super) fn fill_rss_entries(
    feed: &mut Feed,
    raw: &RawFeed,
    base_url: Option<&str>,
    tz: Tz,
    repairs: &mut Vec<String>,
) {
    if raw.items.len() != feed.entries.len() {
        return;
    }
    let mut dated: Vec<DateField> = Vec::new();
    let (mut atom_links, mut guid_links, mut refused_guids, mut comments_only) = (0, 0, 0, 0);
    for (entry, item) in feed.entries.iter_mut().zip(&raw.items) {
        if let Some(field) = fill_dates(entry, item, tz) {
            dated.push(field);
        }
        if has_own_link(entry) {
            continue;
        }
        if let Some(href) = &item.atom_link {
            entry.links.insert(0, link(href, base_url));
            atom_links += 1;
        } else if let Some(guid) = item
            .guid
            .as_ref()
            .filter(|g| g.permalink && is_web_address(g.text.trim()))
        {
            entry.links.insert(0, link(&guid.text, base_url));
            guid_links += 1;
        } else if item
            .guid
            .as_ref()
            .is_some_and(|g| !g.permalink && is_web_address(g.text.trim()))
        {
            refused_guids += 1;
        } else if !entry.links.is_empty() {
            comments_only += 1;
        }
    }
    note_dates(&dated, repairs);
    say(repairs, atom_links, |n| {
        format!("took the link of {n} item(s) from an Atom <link> inside the item")
    });
    say(repairs, guid_links, |n| {
        format!("took the link of {n} item(s) without <link> from their permalink <guid>")
    });
    say(repairs, refused_guids, |n| {
        format!(
            "{n} item(s) without <link> have a guid marked isPermaLink=\"false\": not taken as \
             their link"
        )
    });
    say(repairs, comments_only, |n| {
        format!("{n} item(s) without <link> have only a <comments> page: not taken as their link")
    });
}

/// Whether the raw walk of an RSS document can change what feed-rs read from it. For RSS 2.0
/// it cannot when every entry has its own link and a date, `pubDate` is the only element that
/// dates an item and is written at most once in each, and no title holds literal markup: then
/// feed-rs's dates and links are the ones the rules above give, and the walk is skipped (it
/// would read the whole document a second time). RSS 0.9x and 1.0 are always walked.
pub(super) fn walk_needed(feed: &Feed, doc: &str) -> bool {
    if feed.feed_type != feed_rs::model::FeedType::RSS2 {
        return true;
    }
    let pub_dates = count_elements(doc, "pubDate");
    let own = feed.entries.len() + usize::from(feed.published.is_some());
    pub_dates > own
        || feed
            .entries
            .iter()
            .any(|e| !has_own_link(e) || e.published.is_none())
        || rss_walk_may_change(doc)
}

/// Sets an entry's dates from the item's date elements. Returns the field the published date
/// was taken from when that differs from what feed-rs read (a repair worth saying).
fn fill_dates(entry: &mut Entry, item: &RawItem, tz: Tz) -> Option<DateField> {
    let first = |published: bool| -> Option<(DateField, DateTime<Utc>)> {
        let mut dates: Vec<&(DateField, String)> = item
            .dates
            .iter()
            .filter(|(f, _)| f.is_published() == published)
            .collect();
        dates.sort_by_key(|(f, _)| *f);
        dates
            .into_iter()
            .find_map(|(f, text)| parse_date(text, tz).map(|d| (*f, d)))
    };
    let published = first(true);
    let updated = first(false);
    if published.is_none() && updated.is_none() {
        return None;
    }
    let before = entry.published;
    entry.published = published.map(|(_, d)| d);
    entry.updated = updated.map(|(_, d)| d).or(entry.published);
    published
        .filter(|(_, d)| before != Some(*d))
        .map(|(f, _)| f)
        .or_else(|| updated.filter(|_| before.is_none()).map(|(f, _)| f))
}

/// Says which date elements the entries' dates were taken from, when feed-rs read them otherwise.
fn note_dates(dated: &[DateField], repairs: &mut Vec<String>) {
    let mut fields: Vec<DateField> = dated.to_vec();
    fields.sort();
    fields.dedup();
    if fields.is_empty() {
        return;
    }
    let names: Vec<&str> = fields.iter().map(|f| f.name()).collect();
    repairs.push(format!(
        "dated {} item(s) by the first date that reads, in the order pubDate, dc:date, \
         dcterms:issued, dcterms:created, atom:published (here: {})",
        dated.len(),
        names.join(", ")
    ));
}

/// A link to `href`, made absolute against the document's address.
fn link(href: &str, base_url: Option<&str>) -> Link {
    let href = href.trim();
    let absolute = base_url
        .and_then(|b| url::Url::parse(b).ok())
        .and_then(|b| b.join(href).ok())
        .map_or_else(|| href.to_string(), String::from);
    super::plain::bare_link(absolute)
}

/// Does the entry already have a link of its own (not a comments page)?
fn has_own_link(entry: &Entry) -> bool {
    entry
        .links
        .iter()
        .any(|l| l.target.is_none() && !l.href.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use crate::parse::parse;
    use chrono::{TimeZone, Utc};

    fn rss(items: &str) -> String {
        format!(
            "<rss version=\"2.0\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" \
             xmlns:dcterms=\"http://purl.org/dc/terms/\" xmlns:a10=\"http://www.w3.org/2005/Atom\">\
             <channel><title>t</title>{items}</channel></rss>"
        )
    }

    #[test]
    fn regression_a_junk_dc_date_beside_a_good_pub_date_leaves_the_pub_date() {
        let doc = rss("<item><title>a</title><link>https://b.example/a</link>\
            <pubDate>Mon, 16 Oct 2017 15:10:00 +0000</pubDate><dc:date>1518478934</dc:date></item>\
            <item><title>b</title><link>https://b.example/b</link>\
            <dc:date>Tue, 17 Oct 2017 22:17:00 +0000</dc:date>\
            <pubDate>Tue, 17 Oct 2017 12:17:00 +0000</pubDate></item>");
        let parsed = parse(doc.as_bytes(), None, None, chrono_tz::UTC).unwrap();
        let dates: Vec<_> = parsed.feed.entries.iter().map(|e| e.published).collect();
        assert_eq!(
            dates,
            [
                Some(Utc.with_ymd_and_hms(2017, 10, 16, 15, 10, 0).unwrap()),
                Some(Utc.with_ymd_and_hms(2017, 10, 17, 12, 17, 0).unwrap()),
            ]
        );
        assert!(
            parsed.repairs.iter().any(|r| r.contains("pubDate")),
            "{:?}",
            parsed.repairs
        );
    }

    #[test]
    fn regression_dcterms_and_atom_dates_inside_rss_count() {
        let doc = rss(
            "<item><title>a</title><dcterms:issued>2003-12-31T10:14:55Z</dcterms:issued></item>\
            <item><title>b</title><a10:published>2019-01-02T15:04:05Z</a10:published></item>\
            <item><title>c</title><dcterms:modified>2020-05-06T07:08:09Z</dcterms:modified></item>",
        );
        let parsed = parse(doc.as_bytes(), None, None, chrono_tz::UTC).unwrap();
        let e = &parsed.feed.entries;
        assert_eq!(
            e[0].published,
            Some(Utc.with_ymd_and_hms(2003, 12, 31, 10, 14, 55).unwrap())
        );
        assert_eq!(
            e[1].published,
            Some(Utc.with_ymd_and_hms(2019, 1, 2, 15, 4, 5).unwrap())
        );
        assert_eq!(e[2].published, None);
        assert_eq!(
            e[2].updated,
            Some(Utc.with_ymd_and_hms(2020, 5, 6, 7, 8, 9).unwrap())
        );
    }

    #[test]
    fn regression_only_a_permalink_guid_or_an_atom_link_stands_in_for_a_missing_link() {
        let doc = rss("<item><title>a</title><guid isPermaLink=\"false\">http://guid.example/</guid></item>\
            <item><title>b</title><guid>http://b.example/2</guid></item>\
            <item><title>c</title><guid>http://b.example/3</guid><a10:link href=\"/posts/3\"/></item>\
            <item><title>d</title><link>https://b.example/4</link><guid>http://elsewhere.example/4</guid></item>");
        let parsed = parse(
            doc.as_bytes(),
            None,
            Some("https://b.example/feed"),
            chrono_tz::UTC,
        )
        .unwrap();
        let links: Vec<Vec<&str>> = parsed
            .feed
            .entries
            .iter()
            .map(|e| e.links.iter().map(|l| l.href.as_str()).collect())
            .collect();
        assert!(
            parsed.repairs.iter().any(|r| r.contains("isPermaLink")),
            "{:?}",
            parsed.repairs
        );
        assert_eq!(
            links,
            [
                vec![],
                vec!["http://b.example/2"],
                vec!["https://b.example/posts/3"],
                vec!["https://b.example/4"],
            ]
        );
    }
}
