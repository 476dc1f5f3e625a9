//! The discovery cache of a fetch run: members who gave only a `blog` get their feed from the
//! store when it holds one for the same blog, else by discovery, whose answer is kept for the
//! next runs.
//!
//! A discovery that found nothing is tried again after a backoff like a failing feed's; a cached
//! feed that keeps failing (or is gone) is looked for again once a day. Both thresholds are the
//! health policy's.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::error::RunError;
use crate::config::{Config, Member};
use crate::discover::sitemap::{self, Sitemap};
use crate::discover::{self, Discovery};
use crate::fetch::{Outcome, Session};
use crate::health;
use crate::render::terminal::RunSummary;
use crate::source::FeedSource;
use crate::store::{DiscoveredRow, Store};
use crate::time::rfc3339_unix;

/// The feed of each blog-only member that has one to poll this run. Members whose discovery
/// found nothing, now or before, are listed in `summary.skipped_members` with why.
pub(super) async fn feeds_of_blogs(
    config: &Config,
    store: &mut Store,
    now: DateTime<Utc>,
    members: &[&Member],
    forced: bool,
    summary: &mut RunSummary,
) -> Result<HashMap<String, url::Url>, RunError> {
    let t = now.timestamp();
    let mut found = HashMap::new();
    let mut to_discover = Vec::new();
    for member in members.iter().filter(|m| m.feeds.is_empty()) {
        let Some(blog) = &member.blog else {
            continue;
        };
        let cached = store
            .discovered(&member.id)?
            .filter(|c| c.blog == blog.as_str());
        match cached {
            None => to_discover.push((member.id.clone(), blog.clone())),
            Some(cached) => match cached_feed(config, store, &cached, t, forced)? {
                Cached::Use(feed) => {
                    found.insert(member.id.clone(), feed);
                }
                Cached::Rediscover => to_discover.push((member.id.clone(), blog.clone())),
                Cached::Wait(why) => summary.skipped_members.push((member.id.clone(), why)),
            },
        }
    }
    if to_discover.is_empty() {
        return Ok(found);
    }
    let session = Session::new(&config.fetch.settings);
    let tz = config.club.timezone;
    let results: Vec<(String, url::Url, Discovery)> =
        futures::future::join_all(to_discover.into_iter().map(|(member, blog)| {
            let session = session.clone();
            async move {
                let d = discover::discover(&session, tz, blog.as_str()).await;
                (member, blog, d)
            }
        }))
        .await;
    for (member, blog, mut d) in results {
        resolve_sitemap_index(&session, tz, &mut d).await;
        remember(store, t, &member, &blog, &d)?;
        // A blog without a feed is read through its sitemap, like a feed.
        let feed = d.main_feed().or_else(|| d.sitemap());
        match feed.and_then(|f| url::Url::parse(&f.url).ok().map(|u| (u, &f.rule))) {
            Some((feed, rule)) => {
                summary
                    .discovered
                    .push((member.clone(), feed.to_string(), rule.clone()));
                found.insert(member, feed);
            }
            None => summary.skipped_members.push((
                member,
                format!("{blog}: {}", d.error.as_deref().unwrap_or("no feed found")),
            )),
        }
    }
    Ok(found)
}

/// What to do with a member's cached discovery.
enum Cached {
    /// Poll the feed it found.
    Use(url::Url),
    /// Look again: the cached feed keeps failing, or an earlier search is due to be retried.
    Rediscover,
    /// An earlier search found nothing and is not due again yet: why, in words.
    Wait(String),
}

fn cached_feed(
    config: &Config,
    store: &Store,
    cached: &DiscoveredRow,
    t: i64,
    forced: bool,
) -> Result<Cached, RunError> {
    let feed = cached
        .feed_url
        .as_deref()
        .and_then(|u| url::Url::parse(u).ok());
    if let Some(feed) = feed {
        let row = store.feed(&FeedSource::Url(feed.clone()))?;
        let rediscover = row.is_some_and(|r| health::rediscovery_due(&r, cached.attempted_at, t));
        return Ok(if rediscover {
            Cached::Rediscover
        } else {
            Cached::Use(feed)
        });
    }
    let retry_at =
        health::discovery_retry_at(cached.attempted_at, cached.attempts, config.fetch.interval)
            .unwrap_or(cached.attempted_at);
    if forced || t >= retry_at {
        return Ok(Cached::Rediscover);
    }
    Ok(Cached::Wait(format!(
        "{} {}; discovery is tried again at {}",
        cached.blog,
        cached.error.as_deref().unwrap_or("had no feed"),
        rfc3339_unix(retry_at, config.club.timezone)
    )))
}

/// A blog without a feed whose sitemap is an index (next-sitemap's `/sitemap.xml`, Ghost's):
/// the index is replaced by the first of its sitemaps (post-named ones first, at most three
/// tried) that lists a post, which `fetch` then reads like a feed.
async fn resolve_sitemap_index(session: &Session, tz: chrono_tz::Tz, d: &mut Discovery) {
    if d.main_feed().is_some() {
        return;
    }
    let Some(found) = d.sitemap().cloned() else {
        return;
    };
    let Ok(index_url) = url::Url::parse(&found.url) else {
        return;
    };
    let Some(Sitemap::Index(mut children)) = read_sitemap(session, &index_url, tz).await else {
        return;
    };
    let site = sitemap::site_of(&index_url);
    children.sort_by_key(|c| !c.path().to_ascii_lowercase().contains("post"));
    for child in children.into_iter().take(3) {
        if let Some(Sitemap::Urls(urls)) = read_sitemap(session, &child, tz).await {
            if urls.iter().any(|u| sitemap::is_post_like(&u.loc, &site)) {
                if let Some(f) = d.feeds.iter_mut().find(|f| f.url == found.url) {
                    f.url = child.to_string();
                    f.format = Some("sitemap".to_string());
                }
                return;
            }
        }
    }
}

/// One sitemap document, fetched and parsed (`None` when either failed).
async fn read_sitemap(session: &Session, url: &url::Url, tz: chrono_tz::Tz) -> Option<Sitemap> {
    match session.get(url).await.outcome {
        Outcome::Fetched { body, .. } => sitemap::parse(&body, url, tz).ok(),
        _ => None,
    }
}

/// Keeps a discovery's answer for the next runs.
fn remember(
    store: &Store,
    t: i64,
    member: &str,
    blog: &url::Url,
    d: &Discovery,
) -> Result<(), RunError> {
    let main = d.main_feed().or_else(|| d.sitemap());
    store.record_discovery(&DiscoveredRow {
        member_id: member.to_string(),
        blog: blog.to_string(),
        feed_url: main.map(|f| f.url.clone()),
        rule: main.map(|f| f.rule.clone()),
        platform: Some(d.platform.clone()),
        error: d.error.clone(),
        attempted_at: t,
        attempts: 1,
    })?;
    Ok(())
}
