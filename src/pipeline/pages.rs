//! The reader's part of a fetch run: the pages of posts whose feed gives no full text (or only a
//! description under `min_chars`) and of posts recorded by hand, fetched through the fetch stage
//! (the same guard, caps, timeouts and body cap), read by [`crate::reader`], and stored.
//!
//! At most `[reader] max_pages` pages a run (the rest wait for the next one), recorded by hand
//! first, then the newest posts. A frame page (Naver's blog frame) is followed once. A page that
//! cannot be read leaves the length unknown with its reason; it never fails the run or the feed.

use chrono::{DateTime, Utc};

use super::error::RunError;
use crate::config::Config;
use crate::fetch::{self, FeedRequest, FeedResult, Outcome};
use crate::parse;
use crate::reader::{self, Page};
use crate::render::terminal::PagesRead;
use crate::source::FeedSource;
use crate::store::{PageOutcome, PageWanted, Store};

/// Reads the pages this run should read, and stores what they gave.
pub(super) async fn read_pages(
    config: &Config,
    store: &mut Store,
    now: DateTime<Utc>,
) -> Result<PagesRead, RunError> {
    let mut done = PagesRead::default();
    if !config.reader.pages {
        return Ok(done);
    }
    let limit = config.reader.max_pages;
    let mut wanted = hand_recorded(config, store)?;
    let interval = i64::try_from(config.fetch.interval.as_secs()).unwrap_or(3600);
    let retry_before = now.timestamp() - interval;
    let from_feeds = store.pages_wanted(config.rounds.min_chars, limit + 1, retry_before)?;
    let from_feeds: Vec<PageWanted> = from_feeds
        .into_iter()
        .filter(|w| !wanted_has(&wanted, &w.url))
        .collect();
    wanted.extend(from_feeds);
    if wanted.len() > limit {
        done.deferred = wanted.len() - limit;
        wanted.truncate(limit);
    }
    let mut follow = Vec::new();
    for (wanted, read) in fetch_pages(config, &wanted).await {
        done.fetched += 1;
        match read {
            Read::Follow(next) => follow.push((wanted, next)),
            read => record(store, &wanted, read, now, &mut done)?,
        }
    }
    // A frame leads to the post's own page: read it (once) and keep it under the first address.
    let frames: Vec<PageWanted> = follow
        .iter()
        .map(|(w, next)| PageWanted {
            url: next.to_string(),
            etag: None,
            last_modified: None,
            ..w.clone()
        })
        .collect();
    for ((first, _), (_, read)) in follow.iter().zip(fetch_pages(config, &frames).await) {
        done.fetched += 1;
        let read = match read {
            Read::Follow(_) => Read::Failed("the page is a frame within a frame".into(), false),
            read => read,
        };
        record(store, first, read, now, &mut done)?;
    }
    Ok(done)
}

/// Reads one page through the fetch stage (a frame followed once), for `submit` and `inspect`:
/// where it was read and what the reader found, or why it could not be fetched.
pub async fn read_page(config: &Config, url: &url::Url) -> Result<(String, Page), String> {
    let mut wanted = PageWanted {
        url: url.to_string(),
        for_updated: None,
        etag: None,
        last_modified: None,
        attempts: 0,
    };
    for _hop in 0..2 {
        let read = fetch_pages(config, std::slice::from_ref(&wanted)).await;
        match read.into_iter().next().map(|(_, r)| r) {
            Some(Read::Page {
                final_url, page, ..
            }) => return Ok((final_url, page)),
            Some(Read::Follow(next)) => wanted.url = next.to_string(),
            Some(Read::Failed(why, _)) => return Err(why),
            Some(Read::NotModified) | None => return Err(format!("{url}: no answer")),
        }
    }
    Err(format!("{url}: the page is a frame within a frame"))
}

/// Posts recorded by hand whose page was never read (their title, date or length may come from
/// it).
fn hand_recorded(config: &Config, store: &Store) -> Result<Vec<PageWanted>, RunError> {
    let mut wanted: Vec<PageWanted> = Vec::new();
    for post in config.members.iter().flat_map(|m| &m.extra_posts) {
        let url = post.url.to_string();
        if store.page(&url)?.is_none() && !wanted_has(&wanted, &url) {
            wanted.push(PageWanted {
                url,
                for_updated: None,
                etag: None,
                last_modified: None,
                attempts: 0,
            });
        }
    }
    Ok(wanted)
}

fn wanted_has(wanted: &[PageWanted], url: &str) -> bool {
    wanted.iter().any(|w| w.url == url)
}

/// Fetches the pages (those with a web address) with their validators and reads each as it
/// arrives, so that no more than a page's worth of HTML is held per page in flight; what they
/// came to, in the order asked.
async fn fetch_pages(config: &Config, wanted: &[PageWanted]) -> Vec<(PageWanted, Read)> {
    let requests: Vec<FeedRequest> = wanted
        .iter()
        .enumerate()
        .filter_map(|(index, w)| {
            let url = url::Url::parse(&w.url)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https"))?;
            Some(FeedRequest {
                index,
                source: FeedSource::Url(url),
                etag: w.etag.clone(),
                last_modified: w.last_modified.clone(),
                body_hash: None,
            })
        })
        .collect();
    let mut results: Vec<(usize, Read)> = Vec::with_capacity(requests.len());
    fetch::fetch_all(&config.fetch.settings, requests, |result| {
        results.push((result.index, read_result(config, result)))
    })
    .await;
    results.sort_by_key(|(i, _)| *i);
    results
        .into_iter()
        .filter_map(|(i, read)| wanted.get(i).cloned().map(|w| (w, read)))
        .collect()
}

/// What one fetched page came to.
enum Read {
    /// The page, read.
    Page {
        final_url: String,
        etag: Option<String>,
        last_modified: Option<String>,
        page: Page,
    },
    /// The page is a frame: the post's own page is at this address.
    Follow(url::Url),
    /// Unchanged since the last read.
    NotModified,
    /// Not fetched: why, and whether trying again later may help.
    Failed(String, bool),
}

fn read_result(config: &Config, result: FeedResult) -> Read {
    match result.outcome {
        Outcome::Fetched {
            final_url,
            content_type,
            etag,
            last_modified,
            body,
            ..
        } => {
            let charset = content_type
                .as_deref()
                .and_then(parse::charset_of_content_type);
            let html = parse::decode_html(&body, charset);
            let base = url::Url::parse(&final_url);
            let Ok(base) = base else {
                return Read::Failed(format!("{final_url} is not a web address"), false);
            };
            let page = reader::read(&html, &base, config.club.timezone);
            match page.follow {
                Some(next) => Read::Follow(next),
                None => Read::Page {
                    final_url,
                    etag,
                    last_modified,
                    page,
                },
            }
        }
        Outcome::NotModified { .. } => Read::NotModified,
        Outcome::Failed(e) => {
            let retry = e.is_transient() || matches!(e.http_status, Some(500..=599));
            Read::Failed(e.message, retry)
        }
    }
}

/// Stores what reading `wanted` came to, counting it.
fn record(
    store: &mut Store,
    wanted: &PageWanted,
    read: Read,
    now: DateTime<Utc>,
    done: &mut PagesRead,
) -> Result<(), RunError> {
    let t = now.timestamp();
    match read {
        Read::Page {
            final_url,
            etag,
            last_modified,
            page,
        } => {
            let (rule, chars, error) = match &page.article {
                Ok(a) => (Some(a.rule), Some(a.chars as u64), None),
                Err(why) => (None, None, Some(why.as_str())),
            };
            if chars.is_some() {
                done.measured += 1;
            } else {
                done.unreadable += 1;
            }
            let outcome = PageOutcome::Read {
                final_url: &final_url,
                etag: etag.as_deref(),
                last_modified: last_modified.as_deref(),
                rule,
                chars,
                title: page.title.as_deref(),
                published: page.published.map(|p| p.timestamp()),
                error,
            };
            store.record_page(&wanted.url, wanted.for_updated, &outcome, t)?;
        }
        Read::NotModified => {
            done.not_modified += 1;
            store.record_page(
                &wanted.url,
                wanted.for_updated,
                &PageOutcome::NotModified,
                t,
            )?;
        }
        Read::Failed(error, retry) => {
            done.unreadable += 1;
            let outcome = PageOutcome::Failed {
                error: &error,
                retry,
            };
            store.record_page(&wanted.url, wanted.for_updated, &outcome, t)?;
        }
        Read::Follow(_) => {}
    }
    Ok(())
}
