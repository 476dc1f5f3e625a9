//! JSON Feed as it is really written, made readable: feed-rs reads JSON Feed strictly, so one
//! field off the spec loses the whole feed. Before it reads the document, the fields real feeds
//! get wrong are set right, and each change is said in `repairs`:
//!
//! - a `version` written `http://jsonfeed.org/version/1`, `1`, `1.0` or `1.1` is the spec's URL;
//! - a feed without a `title` gets an empty one;
//! - `tags` written as one string (`"a,b"`) becomes the list it meant;
//! - an attachment without `url` is dropped, and one without `mime_type` gets
//!   `application/octet-stream`;
//! - a field of the wrong type (a title that is a list, a `url` that is a number, `authors`
//!   that is not a list, a size that is not a whole number …) is dropped, so the rest of the
//!   item is read; an item that is not an object is dropped; a numeric `id` is read as text.
//!
//! A document that is not a JSON object is left to feed-rs, which says what is wrong with it.

use serde_json::{Map, Value};

use super::say;

/// The document with its known deviations set right, or `None` when it needed nothing.
pub(super) fn repair_json_feed(doc: &str, repairs: &mut Vec<String>) -> Option<String> {
    let mut root: Value = serde_json::from_str(doc).ok()?;
    let feed = root.as_object_mut()?;
    let mut fixed: Vec<String> = Vec::new();
    repair_version(feed, &mut fixed);
    if !feed.get("title").is_some_and(Value::is_string) {
        feed.insert("title".into(), Value::String(String::new()));
        fixed.push("gave the feed an empty title".into());
    }
    let mut wrong = drop_wrong_types(feed, FEED_STRINGS);
    let (mut tags, mut attachments) = (0, 0);
    if let Some(items) = feed.get_mut("items").and_then(Value::as_array_mut) {
        let before = items.len();
        items.retain(Value::is_object);
        wrong += before - items.len();
        for item in items.iter_mut().filter_map(Value::as_object_mut) {
            if let Some(Value::Number(n)) = item.get("id") {
                let id = n.to_string();
                item.insert("id".into(), Value::String(id));
                wrong += 1;
            }
            wrong += drop_wrong_types(item, ITEM_STRINGS);
            tags += usize::from(repair_tags(item));
            attachments += repair_attachments(item);
        }
    }
    say(&mut fixed, wrong, |n| {
        format!("dropped {n} field(s) or item(s) of the wrong type (the rest is read)")
    });
    say(&mut fixed, tags, |n| {
        format!("read {n} item(s)' tags written as one string as a list")
    });
    say(&mut fixed, attachments, |n| {
        format!("fixed {n} attachment(s) without url or mime_type")
    });
    if fixed.is_empty() {
        return None;
    }
    repairs.extend(fixed.into_iter().map(|f| format!("JSON Feed: {f}")));
    serde_json::to_string(&root).ok()
}

/// The feed's fields that are text.
const FEED_STRINGS: &[&str] = &[
    "home_page_url",
    "feed_url",
    "description",
    "user_comment",
    "next_url",
    "icon",
    "favicon",
    "language",
];

/// An item's fields that are text.
const ITEM_STRINGS: &[&str] = &[
    "id",
    "url",
    "external_url",
    "title",
    "content_html",
    "content_text",
    "summary",
    "image",
    "banner_image",
    "date_published",
    "date_modified",
    "language",
];

/// Drops the fields of `object` that have the wrong type: the text fields named, `authors`
/// (a list: its entries that are not objects dropped, and their fields that are not text),
/// `author` (an object), `hubs` (a list); how many were dropped.
fn drop_wrong_types(object: &mut Map<String, Value>, strings: &[&str]) -> usize {
    let mut dropped = 0;
    if let Some(Value::Array(authors)) = object.get_mut("authors") {
        let before = authors.len();
        authors.retain(Value::is_object);
        dropped += before - authors.len();
        for author in authors.iter_mut().filter_map(Value::as_object_mut) {
            let fields = author.len();
            author.retain(|_, v| v.is_string());
            dropped += fields - author.len();
        }
    }
    let before = object.len();
    object.retain(|key, value| match key.as_str() {
        "authors" | "hubs" => value.is_array(),
        "author" => value.is_object(),
        k if strings.contains(&k) => value.is_string(),
        _ => true,
    });
    dropped + before - object.len()
}

/// The versions written in the wild, as the URLs feed-rs knows.
fn repair_version(feed: &mut Map<String, Value>, fixed: &mut Vec<String>) {
    let written = feed.get("version").and_then(Value::as_str).unwrap_or("");
    let known = match written.trim().trim_end_matches('/') {
        "https://jsonfeed.org/version/1" | "https://jsonfeed.org/version/1.1" => return,
        "http://jsonfeed.org/version/1" | "1" | "1.0" | "" => "https://jsonfeed.org/version/1",
        "http://jsonfeed.org/version/1.1" | "1.1" => "https://jsonfeed.org/version/1.1",
        _ => return,
    };
    fixed.push(format!("read version {written:?} as {known}"));
    feed.insert("version".into(), Value::String(known.into()));
}

/// `"tags": "a, b"` as `["a", "b"]`; whether anything changed.
fn repair_tags(item: &mut Map<String, Value>) -> bool {
    let Some(Value::String(text)) = item.get("tags") else {
        return false;
    };
    let list: Vec<Value> = text
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| Value::String(t.to_string()))
        .collect();
    item.insert("tags".into(), Value::Array(list));
    true
}

/// Attachments made readable; how many were changed or dropped.
fn repair_attachments(item: &mut Map<String, Value>) -> usize {
    let Some(list) = item.get_mut("attachments").and_then(Value::as_array_mut) else {
        return 0;
    };
    let before = list.len();
    list.retain(|a| a.get("url").is_some_and(Value::is_string));
    let mut changed = before - list.len();
    for a in list.iter_mut().filter_map(Value::as_object_mut) {
        let fields = a.len();
        a.retain(|key, value| match key.as_str() {
            "size_in_bytes" | "duration_in_seconds" => value.is_u64(),
            "mime_type" | "title" => value.is_string(),
            _ => true,
        });
        changed += fields - a.len();
        if !a.get("mime_type").is_some_and(Value::is_string) {
            a.insert(
                "mime_type".into(),
                Value::String("application/octet-stream".into()),
            );
            changed += 1;
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(doc: &str) -> crate::parse::ParsedFeed {
        crate::parse::parse(doc.as_bytes(), None, None, chrono_tz::Asia::Seoul).unwrap()
    }

    #[test]
    fn regression_one_field_off_the_spec_no_longer_loses_a_json_feed() {
        let doc = r#"{"version": "http://jsonfeed.org/version/1", "items": [
            {"id": "1", "url": "https://x.example/1", "content_text": "a", "tags": "rust, 글또"},
            {"id": "2", "url": "https://x.example/2", "content_text": "b",
             "attachments": [{"url": "https://x.example/a.mp3"}, {"title": "no url"}]}
        ]}"#;
        let parsed = parse(doc);
        assert_eq!(parsed.feed.entries.len(), 2);
        let r = parsed.repairs.join("\n");
        for said in ["read version", "empty title", "tags", "attachment"] {
            assert!(r.contains(said), "{said}: {r}");
        }
        assert_eq!(parsed.feed.entries[0].categories.len(), 2);
    }

    #[test]
    fn regression_fields_of_the_wrong_type_are_dropped_and_the_items_read() {
        let doc = r#"{"version": "https://jsonfeed.org/version/1.1", "title": ["x"],
            "home_page_url": {"not": "a string"}, "authors": {"not": "a list"},
            "items": [
                {"id": 2, "title": 1000, "content_text": ["no"], "url": 1.2,
                 "date_published": "not a date", "authors": "nobody",
                 "attachments": [{"url": "https://x.example/a", "size_in_bytes": 1.5,
                                  "duration_in_seconds": "long", "mime_type": "audio/x-m4a"}]},
                "not an item",
                {"id": "3", "url": "https://x.example/3", "content_html": "<p>ok</p>"}
            ]}"#;
        let parsed = parse(doc);
        assert_eq!(parsed.feed.entries.len(), 2);
        assert_eq!(parsed.feed.entries[0].id, "2");
        assert!(
            parsed.repairs.iter().any(|r| r.contains("wrong type")),
            "{:?}",
            parsed.repairs
        );
    }

    #[test]
    fn versions_written_1_0_and_1_1_are_read_and_a_spec_feed_is_untouched() {
        for (v, url) in [("1.0", "version/1"), ("1.1", "version/1.1")] {
            let doc = format!(
                r#"{{"version": "{v}", "title": "t", "items": [{{"id": "1", "content_text": "a"}}]}}"#
            );
            let mut repairs = Vec::new();
            assert!(repair_json_feed(&doc, &mut repairs).unwrap().contains(url));
            assert_eq!(parse(&doc).feed.entries.len(), 1);
        }
        let good = r#"{"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": []}"#;
        assert_eq!(repair_json_feed(good, &mut Vec::new()), None);
    }
}
