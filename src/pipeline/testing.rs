//! What the pipeline's unit tests share: a post as a feed gives it, and a feed's read stored.

#![allow(clippy::unwrap_used)]

use chrono::{TimeZone, Utc};

use crate::ids::TagContext;
use crate::normalise::{FeedMeta, Post};
use crate::store::{FeedRow, FetchRecord, Store};

/// Post `n` of `member`, `글 n` at `https://<member>.example/<n>`, 2,000 characters long,
/// published at `published` (Unix seconds).
pub(super) fn post(n: usize, member: &str, published: i64) -> Post {
    let link = format!("https://{member}.example/{n}");
    Post {
        key: format!("guid:{n}"),
        title: format!("글 {n}"),
        link: Some(link.clone()),
        normalised_link: crate::normalise::normalise_link(&link),
        published: Utc.timestamp_opt(published, 0).single(),
        updated: None,
        summary: "요약".into(),
        content_html: None,
        chars: Some(2000),
        chars_from_description: false,
        warnings: vec![],
    }
}

/// Stores a successful read of `feed` at `now` (Unix seconds) holding `posts`.
pub(super) fn read(store: &mut Store, feed: &FeedRow, posts: &[Post], now: i64) {
    let meta = FeedMeta::default();
    let tag = TagContext {
        authority: "geultto.github.io".into(),
        date: "2024-10-01".into(),
    };
    let record = FetchRecord::Fetched {
        final_url: "https://x.example/rss",
        http_status: 200,
        etag: None,
        last_modified: None,
        body_hash: "h",
        permanent_redirect: None,
        meta: &meta,
        posts,
        rank: 0,
        tag: &tag,
    };
    store.record(feed, &record, now).unwrap();
}
