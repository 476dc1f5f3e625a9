//! `feeds`: every feed of the roster with its health, as a table for a terminal or as JSON.
//!
//! One [`FeedLine`] per feed, in roster order: its state, when it was last polled and read,
//! its last error in words, where it moved, when it is polled next and what to do about it. A
//! member who gave only a blog gets a line for the feed discovery found — or for the blog itself
//! while nothing is found. The JSON keeps the documented shape (fields may be added, never
//! renamed); `title`, `source` and `advice` are ours.

use std::collections::HashMap;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::{Config, Member};
use crate::fetch::Hostname;
use crate::health::{self, FeedState};
use crate::store::{DiscoveredRow, FeedHealth};
use crate::time::rfc3339_unix;

/// One line of `feeds`.
#[derive(Debug, Clone, Serialize)]
pub struct FeedLine {
    /// The member the feed belongs to.
    pub member: String,
    /// The feed as configured (or discovered); the blog when discovery found nothing.
    pub url: String,
    /// Its state (`ok`, `failing`, `moved`, `gone`, `paused`, `backoff`, `new`).
    pub state: FeedState,
    /// Last poll (RFC 3339, club zone).
    pub last_attempt: Option<String>,
    /// Last successful poll (fetched or not modified).
    pub last_success: Option<String>,
    /// The HTTP status of the last answer.
    pub http_status: Option<u16>,
    /// Failures in a row.
    pub consecutive_failures: u32,
    /// The last error in words.
    pub last_error: Option<String>,
    /// Where a permanent redirect moved it.
    pub moved_to: Option<String>,
    /// Entries the feed has carried.
    pub items: u32,
    /// The newest post's effective time.
    pub last_post: Option<String>,
    /// When it is polled next, when something holds it back (backoff, gone, paused host).
    pub next_attempt: Option<String>,
    /// The feed's own title.
    pub title: Option<String>,
    /// `config`, or `discovered:<rule>` when discovery found it from the member's blog.
    pub source: String,
    /// What the operator should do, in plain words (`null` when healthy).
    pub advice: Option<String>,
}

impl FeedLine {
    /// A line for something not polled yet, or with no feed at all: only who, what and advice.
    fn bare(member: &Member, url: String, state: FeedState, source: &str, advice: &str) -> Self {
        FeedLine {
            member: member.id.clone(),
            url,
            state,
            last_attempt: None,
            last_success: None,
            http_status: None,
            consecutive_failures: 0,
            last_error: None,
            moved_to: None,
            items: 0,
            last_post: None,
            next_attempt: None,
            title: None,
            source: source.to_string(),
            advice: Some(advice.to_string()),
        }
    }
}

/// What `feeds` reads: the roster, every feed's health and the discovery cache of members who
/// gave only a blog (by member id).
#[derive(Debug)]
pub struct FeedsInputs<'a> {
    /// The validated config.
    pub config: &'a Config,
    /// Every feed row the store holds, with its health.
    pub health: &'a [FeedHealth],
    /// The discovery cache of blog-only members, by member id.
    pub discovered: &'a HashMap<String, DiscoveredRow>,
    /// The run's `now`.
    pub now: DateTime<Utc>,
}

/// Health of every feed of the roster, in roster order.
pub fn lines(inputs: &FeedsInputs<'_>) -> Vec<FeedLine> {
    let t = inputs.now.timestamp();
    let by_key: HashMap<String, &FeedHealth> = inputs
        .health
        .iter()
        .map(|h| (h.row.source.key(), h))
        .collect();
    let pauses = health::host_pauses(inputs.health.iter().map(|h| &h.row), t);
    let mut lines = Vec::new();
    for member in &inputs.config.members {
        let mut feeds: Vec<(String, String)> = member
            .feeds
            .iter()
            .map(|f| (f.key(), "config".to_string()))
            .collect();
        if feeds.is_empty() {
            let cached = inputs
                .discovered
                .get(&member.id)
                .filter(|c| member.blog.as_ref().is_some_and(|b| b.as_str() == c.blog));
            match (cached, &member.blog) {
                (Some(c), _) => match &c.feed_url {
                    Some(url) => feeds.push((
                        url.clone(),
                        format!("discovered:{}", c.rule.as_deref().unwrap_or("?")),
                    )),
                    None => lines.push(nothing_found(inputs.config, member, c)),
                },
                (None, Some(blog)) => lines.push(FeedLine::bare(
                    member,
                    blog.to_string(),
                    FeedState::New,
                    "discovery",
                    "the feed is discovered from the blog on the next `fetch`",
                )),
                (None, None) => {}
            }
        }
        for (url, source) in feeds {
            lines.push(match by_key.get(&url) {
                Some(h) => polled(inputs, member, url, source, h, &pauses),
                None => FeedLine::bare(
                    member,
                    url,
                    FeedState::New,
                    &source,
                    "not polled yet: the next `fetch` polls it",
                ),
            });
        }
    }
    lines
}

/// The line of a blog whose discovery found no feed: failing, retried with backoff.
fn nothing_found(config: &Config, member: &Member, c: &DiscoveredRow) -> FeedLine {
    let tz = config.club.timezone;
    let retry = health::discovery_retry_at(c.attempted_at, c.attempts, config.fetch.interval);
    FeedLine {
        last_attempt: Some(rfc3339_unix(c.attempted_at, tz)),
        consecutive_failures: c.attempts,
        last_error: c.error.clone(),
        next_attempt: retry.map(|t| rfc3339_unix(t, tz)),
        ..FeedLine::bare(
            member,
            c.blog.clone(),
            FeedState::Failing,
            "discovery",
            "no feed was found from the member's blog: ask the member for the feed URL and list \
             it in `feeds`",
        )
    }
}

/// The line of a feed the store knows.
fn polled(
    inputs: &FeedsInputs<'_>,
    member: &Member,
    url: String,
    source: String,
    h: &FeedHealth,
    pauses: &HashMap<Hostname, i64>,
) -> FeedLine {
    let tz = inputs.config.club.timezone;
    let show = |t: Option<i64>| t.map(|t| rfc3339_unix(t, tz));
    let pause = h
        .row
        .poll_host()
        .and_then(|host| pauses.get(&host).copied());
    let state = health::state(h, pause, inputs.now.timestamp());
    FeedLine {
        member: member.id.clone(),
        url,
        state,
        last_attempt: show(h.last_attempt),
        last_success: show(h.last_success),
        http_status: h.http_status,
        consecutive_failures: h.row.consecutive_failures,
        last_error: h.last_error.clone(),
        moved_to: h.row.moved_to.clone(),
        items: h.items,
        last_post: show(h.last_post),
        next_attempt: show(health::held_until(h, state, pause)),
        title: h.title.clone().filter(|t| !t.is_empty()),
        source,
        advice: health::advice(h, state, pause, tz),
    }
}

/// The lines as an aligned table (stdout), and the count of feeds that need attention (for
/// stderr).
pub fn table(lines: &[FeedLine]) -> (String, String) {
    let day = |t: &Option<String>| {
        t.as_deref()
            .map(|t| t.get(..16).unwrap_or(t).replace('T', " "))
            .unwrap_or_else(|| "-".to_string())
    };
    let width = lines
        .iter()
        .map(|l| l.member.len())
        .max()
        .unwrap_or(6)
        .max(6);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<width$}  {:<8} {:>5}  {:<16}  {:<16}  {:>5}  URL",
        "MEMBER", "STATE", "FAILS", "LAST SUCCESS", "NEXT ATTEMPT", "ITEMS"
    );
    for l in lines {
        let _ = writeln!(
            out,
            "{:<width$}  {:<8} {:>5}  {:<16}  {:<16}  {:>5}  {}",
            l.member,
            l.state.as_str(),
            l.consecutive_failures,
            day(&l.last_success),
            day(&l.next_attempt),
            l.items,
            l.url
        );
        if let Some(error) = &l.last_error {
            let _ = writeln!(out, "{:<width$}  ↳ {error}", "");
        }
        if let Some(advice) = l.advice.as_ref().filter(|_| l.state != FeedState::New) {
            let _ = writeln!(out, "{:<width$}  → {advice}", "");
        }
    }
    let troubled = lines.iter().filter(|l| l.state.needs_attention()).count();
    (
        out,
        format!(
            "{}, {troubled} need attention",
            super::report::count(lines.len(), "feed")
        ),
    )
}
