//! The main job, stage by stage: config → fetch → parse → normalise → store → render.
//!
//! [`fetch()`] polls every configured feed concurrently and stores each feed's outcome in its own
//! transaction as soon as it arrives, so a run killed half-way keeps what it finished. A feed's
//! failure is a value in the [`RunSummary`], never an error of the run. [`build`] writes the
//! public outputs from the store alone. [`prepare_digests`], [`write_digests`] and
//! [`send_digests`] make, write and mail the weekly digest. [`inspect`] shows what the tool sees in one feed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::{Config, ContentMode, FeedSource, Member};
use crate::discover::{self, Discovery};
use crate::fetch::{self, FeedRequest, FeedResult, FetchSettings, Outcome, Session, Source};
use crate::health;
use crate::mail;
use crate::normalise::{self, FeedMeta, Post};
use crate::parse::{self, ParsedFeed};
use crate::render::digest::{self, Audience, Digest, Format as DigestFormat, Week};
use crate::render::templates::Templates;
use crate::render::{self, RenderError};
use crate::store::{
    DiscoveredRow, FeedRow, FetchRecord, SentDigest, Store, StoreError, TagContext,
};

/// The longest a host's Retry-After is honoured (SPEC §6).
const MAX_PAUSE: i64 = 24 * 3600;

/// A failure that stops the run (per-feed failures never do).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The store could not be used.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The outputs could not be written.
    #[error(transparent)]
    Render(#[from] RenderError),
    /// Mail could not be built or the password is missing.
    #[error(transparent)]
    Mail(#[from] mail::MailError),
    /// `--send` without an `[email]` section.
    #[error("--send needs an [email] section in the config (smtp_host, from, to); see the README")]
    NoEmail,
    /// `--member` named nobody on the roster.
    #[error("no member `{0}` in the roster; check the id in feeds.toml")]
    UnknownMember(String),
}

/// How one feed's fetch ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedStatus {
    /// Fetched and parsed.
    Fetched,
    /// 304 or an unchanged body.
    NotModified,
    /// Failed: fetch or parse.
    Failed,
    /// Paused: the host asked us to come back later (429/503 with Retry-After).
    Paused,
    /// Not polled this run: its host is paused, it is backing off after failures, or it is
    /// gone and polled weekly (not a failure).
    Skipped,
}

/// One feed's line in the run summary.
#[derive(Debug, Clone)]
pub struct FeedReport {
    /// Owner.
    pub member: String,
    /// Feed key.
    pub url: String,
    /// How it ended.
    pub status: FeedStatus,
    /// New posts stored (not history).
    pub new_posts: usize,
    /// New posts stored as history.
    pub history: usize,
    /// The error, in words, when it failed.
    pub error: Option<String>,
    /// Repairs the parser made.
    pub repairs: Vec<String>,
    /// Time the fetch took.
    pub elapsed: Duration,
}

/// What a fetch run did.
#[derive(Debug, Clone, Default)]
pub struct RunSummary {
    /// Per feed, in roster order.
    pub feeds: Vec<FeedReport>,
    /// Members without a feed to poll: (member, why), e.g. discovery found none on the blog.
    pub skipped_members: Vec<(String, String)>,
    /// Feeds discovered this run: (member, feed URL, rule).
    pub discovered: Vec<(String, String, String)>,
    /// Files written.
    pub outputs: Vec<PathBuf>,
}

impl RunSummary {
    /// Feeds that ended in `status`.
    pub fn count(&self, status: &FeedStatus) -> usize {
        self.feeds.iter().filter(|f| &f.status == status).count()
    }

    /// New (non-history) posts over all feeds.
    pub fn new_posts(&self) -> usize {
        self.feeds.iter().map(|f| f.new_posts).sum()
    }
}

/// Fetch settings from the config.
pub fn fetch_settings(config: &Config) -> FetchSettings {
    let f = &config.fetch;
    FetchSettings {
        concurrency: f.concurrency,
        per_host: f.per_host,
        timeout: f.timeout,
        connect_timeout: f.connect_timeout,
        max_body: f.max_body,
        user_agent: f.user_agent.clone(),
        allow_private_addresses: f.allow_private_addresses,
        allow_addresses: f.allow_addresses.clone(),
        ..FetchSettings::default()
    }
}

fn source_of(feed: &FeedSource) -> Source {
    match feed {
        FeedSource::Url(u) => Source::Url(u.clone()),
        FeedSource::Path(p) => Source::Path(p.clone()),
    }
}

/// The `tag:` authority and date for ids minted now.
fn tag_context(config: &Config, now: DateTime<Utc>) -> TagContext {
    TagContext {
        authority: config
            .club
            .url
            .host_str()
            .unwrap_or("geultto.github.io")
            .to_string(),
        date: now
            .with_timezone(&config.club.timezone)
            .format("%Y-%m-%d")
            .to_string(),
    }
}

struct Planned {
    member: String,
    source: FeedSource,
    rank: usize,
    row: FeedRow,
}

/// Polls the feeds (all, or only `members`'), stores what they hold, then writes the outputs
/// unless `no_output`. `on_feed` is called as each feed is stored (for progress and `-v`).
///
/// Members with a `blog` and no `feeds` get their feed discovered (once, cached in the store).
/// Feeds backing off after failures, gone feeds between their weekly polls and feeds on hosts
/// paused by Retry-After are skipped, unless `members` names their member (a forced poll).
pub async fn fetch(
    config: &Config,
    store: &mut Store,
    now: DateTime<Utc>,
    members: &[String],
    no_output: bool,
    mut on_feed: impl FnMut(&FeedReport, usize, usize),
) -> Result<RunSummary, RunError> {
    for m in members {
        if config.member(m).is_none() {
            return Err(RunError::UnknownMember(m.clone()));
        }
    }
    let forced = !members.is_empty();
    let settings = fetch_settings(config);
    let mut summary = RunSummary::default();
    let chosen: Vec<&Member> = config
        .members
        .iter()
        .filter(|m| members.is_empty() || members.contains(&m.id))
        .collect();
    let found =
        discover_feeds(config, store, now, &settings, &chosen, forced, &mut summary).await?;
    let mut wanted = Vec::new();
    for member in &chosen {
        let feeds: Vec<FeedSource> = if member.feeds.is_empty() {
            found
                .get(&member.id)
                .map(|u| vec![FeedSource::Url(u.clone())])
                .unwrap_or_default()
        } else {
            member.feeds.clone()
        };
        for (rank, feed) in feeds.into_iter().enumerate() {
            wanted.push((member.id.clone(), feed, rank));
        }
    }
    let keys: Vec<(String, String)> = wanted
        .iter()
        .map(|(m, f, _)| (m.clone(), f.key()))
        .collect();
    let rows = store.sync_feeds(&keys)?;
    let planned: Vec<Planned> = wanted
        .into_iter()
        .zip(rows)
        .map(|((member, source, rank), row)| Planned {
            member,
            source,
            rank,
            row,
        })
        .collect();
    let t = now.timestamp();
    let pauses = health::host_pauses(planned.iter().map(|p| &p.row), t);
    let total = planned.len();
    let mut reports: HashMap<usize, FeedReport> = HashMap::new();
    let mut requests = Vec::new();
    for (index, p) in planned.iter().enumerate() {
        let host = health::host_of(p.row.poll_url());
        let pause = host
            .as_deref()
            .and_then(|h| pauses.get(h).map(|until| (h, *until)));
        let skip = (!forced)
            .then(|| {
                health::skip_reason(
                    &p.row,
                    pause,
                    t,
                    config.fetch.interval,
                    config.club.timezone,
                )
            })
            .flatten();
        if let Some(reason) = skip {
            let report = FeedReport {
                member: p.member.clone(),
                url: p.source.key(),
                status: FeedStatus::Skipped,
                new_posts: 0,
                history: 0,
                error: Some(reason),
                repairs: Vec::new(),
                elapsed: Duration::ZERO,
            };
            on_feed(&report, reports.len() + 1, total);
            reports.insert(index, report);
            continue;
        }
        requests.push(FeedRequest {
            index,
            source: poll_source(p),
            etag: p.row.etag.clone(),
            last_modified: p.row.last_modified.clone(),
            body_hash: p.row.body_hash.clone(),
        });
    }
    let tag = tag_context(config, now);
    let mut store_error = None;
    // A member's feeds are stored in the roster's order, whatever order they finish in: the
    // first-listed feed's link and id win a cross-post (SPEC §4), and the ids minted on a first
    // run do not depend on which server answered first. `due` holds, per member, the requested
    // feeds not yet stored (in roster order); a feed that finishes before an earlier one of its
    // member waits in `held` (without its admission permit, so waiting never stalls fetching).
    let mut due: HashMap<&str, std::collections::VecDeque<usize>> = HashMap::new();
    for r in &requests {
        if let Some(p) = planned.get(r.index) {
            due.entry(p.member.as_str()).or_default().push_back(r.index);
        }
    }
    let mut held: HashMap<usize, (FeedResult, Option<Parsed>)> = HashMap::new();
    // Parsing and normalising are CPU work: each feed's runs on the blocking pool as soon as its
    // fetch ends, at most one per core at a time (more would only hold more documents in memory
    // at once), while this task writes the store (one transaction per feed).
    let (tz, min_chars) = (config.club.timezone, config.rounds.min_chars);
    // A post's full HTML is kept only when the feed republishes it (most of a store's bytes).
    let keep_content = config.output.content == ContentMode::Full;
    let (parsed_tx, mut parsed_rx) = tokio::sync::mpsc::unbounded_channel();
    let sources: Vec<FeedSource> = planned.iter().map(|p| p.source.clone()).collect();
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let parsers = Arc::new(tokio::sync::Semaphore::new(cores));
    // Backpressure: a feed is fetched only while fewer than twice `concurrency` feeds are
    // fetched but not yet stored, so a slow store (a busy machine, a big run) bounds memory.
    let admission = Arc::new(tokio::sync::Semaphore::new(2 * settings.concurrency.max(1)));
    let fetching = fetch::fetch_all_admitted(
        &settings,
        requests,
        Some(admission),
        move |mut result, admitted| {
            let source = sources.get(result.index).cloned();
            let index = result.index;
            let parsers = Arc::clone(&parsers);
            let parsing = tokio::spawn(async move {
                let _permit = parsers.acquire_owned().await;
                tokio::task::spawn_blocking(move || {
                    let parsed = source
                        .and_then(|s| parse_result(&mut result, &s, tz, min_chars, keep_content));
                    (result, parsed)
                })
                .await
            });
            let _ = parsed_tx.send((index, parsing, admitted));
        },
    );
    let storing = async {
        // Stores one feed, unless an earlier store error stopped the run's writing.
        let mut store_one = |i: usize, result: FeedResult, parsed: Option<Parsed>| {
            let Some(plan) = planned.get(i).filter(|_| store_error.is_none()) else {
                return;
            };
            match process(config, store, plan, result, parsed, now, &tag) {
                Ok(report) => {
                    on_feed(&report, reports.len() + 1, total);
                    reports.insert(i, report);
                }
                Err(e) => store_error = Some(e),
            }
        };
        while let Some((index, parsing, admitted)) = parsed_rx.recv().await {
            let done = match parsing.await {
                Ok(Ok(done)) => done,
                Ok(Err(e)) | Err(e) => (
                    failed_result(index, &format!("internal error while parsing: {e}")),
                    None,
                ),
            };
            let Some(queue) = planned
                .get(index)
                .and_then(|p| due.get_mut(p.member.as_str()))
            else {
                continue;
            };
            if queue.front() != Some(&index) {
                drop(admitted);
                held.insert(index, done);
                continue;
            }
            // This feed, then those of the member's later feeds that finished before it.
            let mut next = Some((index, done));
            while let Some((i, (result, parsed))) = next {
                queue.pop_front();
                store_one(i, result, parsed);
                next = queue
                    .front()
                    .and_then(|&i| held.remove(&i).map(|done| (i, done)));
            }
            drop(admitted);
        }
        // Only a feed whose task was lost (a bug) leaves others held: store them anyway.
        let mut left: Vec<(usize, (FeedResult, Option<Parsed>))> = held.drain().collect();
        left.sort_by_key(|(i, _)| *i);
        for (i, (result, parsed)) in left {
            store_one(i, result, parsed);
        }
    };
    tokio::join!(fetching, storing);
    if let Some(e) = store_error {
        return Err(e.into());
    }
    let mut indexed: Vec<(usize, FeedReport)> = reports.into_iter().collect();
    indexed.sort_by_key(|(i, _)| *i);
    summary.feeds = indexed.into_iter().map(|(_, r)| r).collect();
    // Only a run over the whole roster completes the store's first run (SPEC §4's history rule).
    if members.is_empty() {
        store.mark_run_completed(now.timestamp())?;
    }
    if !no_output {
        summary.outputs = build(config, store, now)?;
    }
    Ok(summary)
}

/// Where to poll a planned feed: where it moved to, else where the config says.
fn poll_source(plan: &Planned) -> Source {
    match (&plan.source, plan.row.moved_to.as_deref()) {
        (FeedSource::Url(_), Some(moved)) => match url::Url::parse(moved) {
            Ok(u) => Source::Url(u),
            Err(_) => source_of(&plan.source),
        },
        _ => source_of(&plan.source),
    }
}

/// Finds the feeds of members who gave only a `blog`, from the store's cache when it holds one
/// for the same blog, else by discovery (cached for the next runs). A failed discovery is tried
/// again after a backoff like a failing feed's; a cached feed that keeps failing (3 runs, or
/// gone) is rediscovered once a day.
async fn discover_feeds(
    config: &Config,
    store: &mut Store,
    now: DateTime<Utc>,
    settings: &FetchSettings,
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
        let Some(cached) = cached else {
            to_discover.push((member.id.clone(), blog.clone()));
            continue;
        };
        match cached
            .feed_url
            .as_deref()
            .and_then(|u| url::Url::parse(u).ok())
        {
            Some(feed) => {
                let troubled = store
                    .feed(feed.as_str())?
                    .is_some_and(|r| r.consecutive_failures >= 3 || r.gone_since.is_some());
                if troubled && t - cached.attempted_at >= health::MAX_BACKOFF {
                    to_discover.push((member.id.clone(), blog.clone()));
                } else {
                    found.insert(member.id.clone(), feed);
                }
            }
            None => {
                let retry_at = health::next_attempt_after_failure(
                    cached.attempted_at,
                    cached.attempts.saturating_add(1),
                    config.fetch.interval,
                    None,
                )
                .unwrap_or(cached.attempted_at);
                if forced || t >= retry_at {
                    to_discover.push((member.id.clone(), blog.clone()));
                } else {
                    summary.skipped_members.push((
                        member.id.clone(),
                        format!(
                            "{} {}; discovery is tried again at {}",
                            blog,
                            cached.error.as_deref().unwrap_or("had no feed"),
                            health::local(retry_at, config.club.timezone)
                        ),
                    ));
                }
            }
        }
    }
    if to_discover.is_empty() {
        return Ok(found);
    }
    let session = Session::new(settings);
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
    for (member, blog, d) in results {
        let main = d.main_feed().cloned();
        store.record_discovery(&DiscoveredRow {
            member_id: member.clone(),
            blog: blog.to_string(),
            feed_url: main.as_ref().map(|f| f.url.clone()),
            rule: main.as_ref().map(|f| f.rule.clone()),
            platform: Some(d.platform.clone()),
            error: d.error.clone(),
            attempted_at: t,
            attempts: 1,
        })?;
        match main.and_then(|f| url::Url::parse(&f.url).ok().map(|u| (u, f.rule))) {
            Some((feed, rule)) => {
                summary
                    .discovered
                    .push((member.clone(), feed.to_string(), rule));
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

/// A fetched feed, parsed and normalised: (meta, posts, repairs), or the parse error in words.
type Parsed = Result<(FeedMeta, Vec<Post>, Vec<String>), String>;

/// Parses and normalises the body of a fetched feed (taking the body, which is not needed after);
/// `None` when nothing was fetched.
fn parse_result(
    result: &mut FeedResult,
    source: &FeedSource,
    tz: chrono_tz::Tz,
    min_chars: usize,
    keep_content: bool,
) -> Option<Parsed> {
    let Outcome::Fetched {
        final_url,
        content_type,
        body,
        ..
    } = &mut result.outcome
    else {
        return None;
    };
    let body = std::mem::take(body);
    let base = web_base(final_url, source);
    let charset = content_type
        .as_deref()
        .and_then(parse::charset_of_content_type);
    Some(
        parse::parse_vec(body, charset, base.as_deref(), tz)
            .map(|parsed| {
                let (meta, mut posts, _warnings) =
                    normalise::normalise(&parsed, &source.key(), min_chars);
                if !keep_content {
                    for post in &mut posts {
                        post.content_html = None;
                    }
                }
                (meta, posts, parsed.repairs)
            })
            .map_err(|e| e.to_string()),
    )
}

/// The result of a feed whose processing failed inside the tool.
fn failed_result(index: usize, message: &str) -> FeedResult {
    FeedResult {
        index,
        outcome: Outcome::Failed(fetch::FetchError::new(fetch::FailKind::Other, message)),
        attempts: 1,
        elapsed: Duration::ZERO,
    }
}

/// Stores one feed's result (its body already parsed and normalised into `parsed`).
fn process(
    config: &Config,
    store: &mut Store,
    plan: &Planned,
    result: FeedResult,
    parsed: Option<Parsed>,
    now: DateTime<Utc>,
    tag: &TagContext,
) -> Result<FeedReport, StoreError> {
    let t = now.timestamp();
    let mut report = FeedReport {
        member: plan.member.clone(),
        url: plan.source.key(),
        status: FeedStatus::Failed,
        new_posts: 0,
        history: 0,
        error: None,
        repairs: Vec::new(),
        elapsed: result.elapsed,
    };
    match result.outcome {
        Outcome::Fetched {
            final_url,
            http_status,
            etag,
            last_modified,
            body_hash,
            permanent_redirect,
            ..
        } => {
            let parsed = parsed.unwrap_or_else(|| Err("internal error: body not parsed".into()));
            match parsed {
                Ok((meta, posts, repairs)) => {
                    report.repairs = repairs;
                    let record = FetchRecord::Fetched {
                        final_url: &final_url,
                        http_status,
                        etag: etag.as_deref(),
                        last_modified: last_modified.as_deref(),
                        body_hash: &body_hash,
                        permanent_redirect: permanent_redirect.as_deref(),
                        meta: &meta,
                        posts: &posts,
                        rank: plan.rank,
                        tag,
                    };
                    let added = store.record(&plan.row, &record, t)?;
                    report.status = FeedStatus::Fetched;
                    report.new_posts = added.posts - added.history;
                    report.history = added.history;
                }
                Err(error) => {
                    store.record(
                        &plan.row,
                        &FetchRecord::Failed {
                            http_status: Some(http_status),
                            error: &error,
                            next_attempt: failure_next_attempt(config, plan, t, Some(http_status)),
                        },
                        t,
                    )?;
                    report.error = Some(error);
                }
            }
        }
        Outcome::NotModified {
            final_url,
            http_status,
            etag,
            last_modified,
            permanent_redirect,
        } => {
            store.record(
                &plan.row,
                &FetchRecord::NotModified {
                    final_url: &final_url,
                    http_status,
                    etag: etag.as_deref(),
                    last_modified: last_modified.as_deref(),
                    permanent_redirect: permanent_redirect.as_deref(),
                },
                t,
            )?;
            report.status = FeedStatus::NotModified;
        }
        Outcome::Failed(err) => {
            let error = err.message.clone();
            match err.retry_after {
                Some(retry_after) => {
                    // SPEC §6: leave the host alone until then, at most 24 h; not a failure.
                    let deadline = retry_after.deadline(std::time::SystemTime::from(now));
                    let until = chrono::DateTime::<Utc>::from(deadline)
                        .timestamp()
                        .clamp(t, t + MAX_PAUSE);
                    store.record(
                        &plan.row,
                        &FetchRecord::Paused {
                            http_status: err.http_status,
                            message: &error,
                            until,
                        },
                        t,
                    )?;
                    report.status = FeedStatus::Paused;
                }
                None => {
                    store.record(
                        &plan.row,
                        &FetchRecord::Failed {
                            http_status: err.http_status,
                            error: &error,
                            next_attempt: failure_next_attempt(config, plan, t, err.http_status),
                        },
                        t,
                    )?;
                }
            }
            report.error = Some(error);
        }
    }
    Ok(report)
}

/// When a feed that failed now is polled next (backoff from `[fetch] interval`; weekly if gone).
fn failure_next_attempt(
    config: &Config,
    plan: &Planned,
    now: i64,
    status: Option<u16>,
) -> Option<i64> {
    health::next_attempt_after_failure(
        now,
        plan.row.consecutive_failures.saturating_add(1),
        config.fetch.interval,
        status,
    )
}

/// The base URI for relative links: the final URL when it is on the web.
fn web_base(final_url: &str, source: &FeedSource) -> Option<String> {
    match source {
        FeedSource::Url(_) => Some(final_url.to_string()),
        FeedSource::Path(_) => None,
    }
}

/// Writes every public output from the store — `atom.xml`, `index.html`, `members.opml` — and
/// returns the files written.
pub fn build(config: &Config, store: &Store, now: DateTime<Utc>) -> Result<Vec<PathBuf>, RunError> {
    let templates = Templates::load(config.output.templates.as_deref())?;
    let ids: Vec<&str> = config.members.iter().map(|m| m.id.as_str()).collect();
    let posts = store.recent_posts(config.output.entries, &ids)?;
    let atom = render::atom::render(config, &posts, now)?;
    let judgement = judgement(config, store, now)?;
    let health = store.feed_health()?;
    let page = render::page::model(config, &posts, &judgement, &health, now);
    let index = render::page::render(&templates, &page)?;
    let opml = render::opml::export(config);
    let mut written = Vec::new();
    for (name, bytes) in [
        ("atom.xml", atom),
        ("index.html", index),
        ("members.opml", opml),
    ] {
        let path = config.output.dir.join(name);
        render::write_atomic(&path, &bytes)?;
        written.push(path);
    }
    Ok(written)
}

/// One audience's digest, rendered in every format and assembled as mail.
#[derive(Debug)]
pub struct PreparedDigest {
    /// Who it is for.
    pub audience: Audience,
    /// What it says.
    pub digest: Digest,
    /// HTML email.
    pub html: String,
    /// Plain text.
    pub text: String,
    /// Markdown.
    pub markdown: String,
    /// The complete message (`.eml`).
    pub eml: Vec<u8>,
    /// The message, ready to send.
    pub message: lettre::Message,
    /// Its Message-ID.
    pub message_id: String,
    /// Real recipients from `[email]` (empty: nobody to send to).
    pub recipients: Vec<String>,
}

impl PreparedDigest {
    /// The file name stem, e.g. `2024-W46-members`.
    pub fn stem(&self) -> String {
        format!("{}-{}", self.digest.week, self.audience.as_str())
    }
}

/// The digest of `week` for both audiences, rendered and assembled (nothing written or sent).
pub fn prepare_digests(
    config: &Config,
    store: &Store,
    week: Week,
    now: DateTime<Utc>,
) -> Result<Vec<PreparedDigest>, RunError> {
    let templates = Templates::load(config.output.templates.as_deref())?;
    let posts = store.all_posts()?;
    let already_sent = store.posts_in_sent_digests(&week.to_string())?;
    let judgement = judgement(config, store, now)?;
    let health = store.feed_health()?;
    let inputs = digest::Inputs {
        config,
        posts: &posts,
        already_sent: &already_sent,
        judgement: &judgement,
        health: &health,
        now,
    };
    let host = config
        .club
        .url
        .host_str()
        .unwrap_or("geultto.github.io")
        .to_string();
    let club = crate::render::view::plain(&config.club.name);
    let placeholder = format!("\"{}\" <noreply@{host}>", club.replace(['"', '\\'], ""));
    let list_name: String = club
        .chars()
        .filter(|c| !matches!(c, '(' | ')' | '<' | '>' | '"' | '\\'))
        .collect();
    let mut out = Vec::new();
    for audience in Audience::ALL {
        let d = digest::model(&inputs, week, audience);
        let html = digest::render(&templates, &d, DigestFormat::Html)?;
        let text = digest::render(&templates, &d, DigestFormat::Text)?;
        let markdown = digest::render(&templates, &d, DigestFormat::Markdown)?;
        let recipients = match (&config.email, audience) {
            (Some(e), Audience::Members) => e.to.clone(),
            (Some(e), Audience::Operators) => e.operators.clone(),
            (None, _) => Vec::new(),
        };
        let from = config
            .email
            .as_ref()
            .map(|e| e.from.clone())
            .unwrap_or_else(|| placeholder.clone());
        let message_id = format!(
            "<{}.{}.{}.{}@{host}>",
            d.week,
            audience.as_str(),
            now.timestamp(),
            crate::fetch::stable_hash(text.as_bytes())
                .chars()
                .take(12)
                .collect::<String>()
        );
        let outgoing = mail::Outgoing {
            from: from.clone(),
            to: if recipients.is_empty() {
                vec![from]
            } else {
                recipients.clone()
            },
            subject: d.subject.clone(),
            text: text.clone(),
            html: html.clone(),
            date: now,
            message_id: message_id.clone(),
            list_id: format!(
                "{} {} <{}.digest.{host}>",
                list_name.trim(),
                audience.as_str(),
                audience.as_str()
            ),
        };
        let message = mail::build(&outgoing)?;
        out.push(PreparedDigest {
            audience,
            eml: mail::eml(&message),
            message,
            message_id,
            recipients,
            digest: d,
            html,
            text,
            markdown,
        });
    }
    Ok(out)
}

/// Writes each audience's `.html .txt .md .eml` into `dir`; returns the files written.
pub fn write_digests(dir: &Path, prepared: &[PreparedDigest]) -> Result<Vec<PathBuf>, RunError> {
    let mut written = Vec::new();
    for p in prepared {
        let stem = p.stem();
        for (ext, bytes) in [
            ("html", p.html.as_bytes()),
            ("txt", p.text.as_bytes()),
            ("md", p.markdown.as_bytes()),
            ("eml", p.eml.as_slice()),
        ] {
            let path = dir.join(format!("{stem}.{ext}"));
            render::write_atomic(&path, bytes)?;
            written.push(path);
        }
    }
    Ok(written)
}

/// How sending one audience's digest ended.
#[derive(Debug)]
pub enum SendOutcome {
    /// Accepted by the server and recorded.
    Sent {
        /// Who.
        audience: Audience,
        /// How many recipients.
        recipients: usize,
    },
    /// Already sent for this week (and no `--force`): not sent again.
    AlreadySent {
        /// Who.
        audience: Audience,
        /// When it was sent (Unix seconds).
        sent_at: i64,
    },
    /// No recipients configured for this audience.
    NoRecipients(Audience),
    /// The server refused or could not be reached; nothing recorded.
    Failed {
        /// Who.
        audience: Audience,
        /// Why.
        error: mail::MailError,
    },
}

/// Sends each prepared digest that has recipients and was not sent yet (or `force`), recording
/// each accepted send in the store. A failed send is not recorded.
pub async fn send_digests(
    config: &Config,
    store: &mut Store,
    prepared: Vec<PreparedDigest>,
    force: bool,
    now: DateTime<Utc>,
) -> Result<Vec<SendOutcome>, RunError> {
    let email = config.email.as_ref().ok_or(RunError::NoEmail)?;
    let mut outcomes = Vec::new();
    for p in prepared {
        if p.recipients.is_empty() {
            outcomes.push(SendOutcome::NoRecipients(p.audience));
            continue;
        }
        let week = p.digest.week.clone();
        if let Some(sent) = store.digest_sent(&week, p.audience.as_str())? {
            if !force {
                outcomes.push(SendOutcome::AlreadySent {
                    audience: p.audience,
                    sent_at: sent.sent_at,
                });
                continue;
            }
        }
        let credentials = mail::credentials(email)?;
        match mail::send(email, credentials, p.message).await {
            Ok(()) => {
                store.record_digest_sent(
                    &SentDigest {
                        week,
                        audience: p.audience.as_str().to_string(),
                        sent_at: now.timestamp(),
                        message_id: p.message_id.clone(),
                        recipients: p.recipients.len() as u32,
                        sends: 1,
                    },
                    &p.digest.post_ids,
                )?;
                outcomes.push(SendOutcome::Sent {
                    audience: p.audience,
                    recipients: p.recipients.len(),
                });
            }
            Err(error) => outcomes.push(SendOutcome::Failed {
                audience: p.audience,
                error,
            }),
        }
    }
    Ok(outcomes)
}

/// Judges every member in every round from the store (SPEC §5).
pub fn judgement(
    config: &Config,
    store: &Store,
    now: DateTime<Utc>,
) -> Result<crate::rounds::Judgement, RunError> {
    // Only posts that can fall in a round matter (a member's older posts would only take memory):
    // from the first round's opening to the last one's close.
    let rounds = crate::rounds::rounds(&config.rounds, config.club.timezone);
    let from = rounds.first().map_or(i64::MIN, |r| r.opens_at.timestamp());
    let until = rounds.last().map_or(i64::MAX, |r| r.closes_at.timestamp());
    let (posts, fetches) = store.round_inputs(from, until)?;
    Ok(crate::rounds::judge(config, posts, &fetches, now))
}

/// What `inspect` reports about one feed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Inspection {
    /// What was asked for.
    pub source: String,
    /// Where it was read after redirects.
    pub final_url: String,
    /// `rss2|rss1|rss0|atom|atom03|json`.
    pub format: String,
    /// Encoding used to decode.
    pub encoding: String,
    /// Repairs made.
    pub repairs: Vec<String>,
    /// Feed-level warnings.
    pub warnings: Vec<String>,
    /// Feed title.
    pub title: String,
    /// Every entry.
    pub entries: Vec<InspectedEntry>,
}

/// One entry as `inspect` shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct InspectedEntry {
    /// Identity key.
    pub key: String,
    /// Title.
    pub title: String,
    /// Original link.
    pub link: Option<String>,
    /// Normalised link.
    pub normalised_link: Option<String>,
    /// Published (RFC 3339, club zone).
    pub published: Option<String>,
    /// Updated (RFC 3339, club zone).
    pub updated: Option<String>,
    /// Length by the club's rule.
    pub chars: Option<usize>,
    /// What looked wrong.
    pub warnings: Vec<String>,
}

/// A feed that `inspect` could not read.
#[derive(Debug, thiserror::Error)]
#[error("{source_name}: {message}")]
pub struct InspectError {
    /// What was asked for.
    pub source_name: String,
    /// What went wrong.
    pub message: String,
}

/// Fetches (or reads) one feed and shows what the tool sees, without touching the store.
pub async fn inspect(config: &Config, target: &str) -> Result<Inspection, InspectError> {
    let source = if target.starts_with("http://") || target.starts_with("https://") {
        url::Url::parse(target)
            .map(FeedSource::Url)
            .map_err(|e| InspectError {
                source_name: target.to_string(),
                message: format!("not a URL: {e}"),
            })?
    } else {
        FeedSource::Path(PathBuf::from(target))
    };
    let request = FeedRequest {
        index: 0,
        source: source_of(&source),
        etag: None,
        last_modified: None,
        body_hash: None,
    };
    let mut result = None;
    fetch::fetch_all(&fetch_settings(config), vec![request], |r| result = Some(r)).await;
    let fail = |message: String| InspectError {
        source_name: target.to_string(),
        message,
    };
    let outcome = result
        .map(|r| r.outcome)
        .ok_or_else(|| fail("no result".into()))?;
    let (final_url, content_type, body): (String, Option<String>, Vec<u8>) = match outcome {
        Outcome::Fetched {
            final_url,
            content_type,
            body,
            ..
        } => (final_url, content_type, body),
        Outcome::NotModified { .. } => return Err(fail("not modified".into())),
        Outcome::Failed(e) => return Err(fail(e.message)),
    };
    let charset = content_type
        .as_deref()
        .and_then(parse::charset_of_content_type);
    let parsed: ParsedFeed = parse::parse(
        &body,
        charset,
        web_base(&final_url, &source).as_deref(),
        config.club.timezone,
    )
    .map_err(|e| fail(e.to_string()))?;
    let (meta, posts, warnings): (FeedMeta, Vec<Post>, Vec<String>) =
        normalise::normalise(&parsed, &source.key(), config.rounds.min_chars);
    let tz = config.club.timezone;
    let show = |t: Option<DateTime<Utc>>| t.map(|t| t.with_timezone(&tz).to_rfc3339());
    Ok(Inspection {
        source: target.to_string(),
        final_url,
        format: parsed.format.as_str().to_string(),
        encoding: parsed.encoding.to_string(),
        repairs: parsed.repairs,
        warnings,
        title: meta.title,
        entries: posts
            .into_iter()
            .map(|p| InspectedEntry {
                key: p.key,
                title: p.title,
                link: p.link,
                normalised_link: p.normalised_link,
                published: show(p.published),
                updated: show(p.updated),
                chars: p.chars,
                warnings: p.warnings,
            })
            .collect(),
    })
}

/// One line of `feeds` (SPEC §2's JSON shape, plus `title`, `source` and `advice`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct FeedLine {
    /// Owner.
    pub member: String,
    /// The feed as configured (or discovered); the blog when discovery found nothing.
    pub url: String,
    /// `ok|failing|moved|gone|paused|backoff|new`.
    pub state: String,
    /// Last poll (RFC 3339, club zone).
    pub last_attempt: Option<String>,
    /// Last successful poll (fetched or not modified).
    pub last_success: Option<String>,
    /// Last HTTP status.
    pub http_status: Option<u16>,
    /// Failures in a row.
    pub consecutive_failures: u32,
    /// The last error in words.
    pub last_error: Option<String>,
    /// Where a permanent redirect moved it.
    pub moved_to: Option<String>,
    /// Entries seen.
    pub items: u32,
    /// Newest post's effective time.
    pub last_post: Option<String>,
    /// When it is polled next, when it is held back (backoff, gone, paused host).
    pub next_attempt: Option<String>,
    /// The feed's title.
    pub title: Option<String>,
    /// `config`, or `discovered:<rule>` when discovery found it from the member's blog.
    pub source: String,
    /// What the operator should do, in plain words (`null` when healthy).
    pub advice: Option<String>,
}

/// Health of every feed of the roster, in roster order (SPEC §6).
pub fn feed_lines(
    config: &Config,
    store: &Store,
    now: DateTime<Utc>,
) -> Result<Vec<FeedLine>, RunError> {
    let t = now.timestamp();
    let tz = config.club.timezone;
    let all = store.feed_health()?;
    let by_url: HashMap<&str, &crate::store::FeedHealth> =
        all.iter().map(|h| (h.row.url.as_str(), h)).collect();
    let pauses = health::host_pauses(all.iter().map(|h| &h.row), t);
    let show = |t: Option<i64>| t.map(|t| health::local(t, tz));
    let mut lines = Vec::new();
    for member in &config.members {
        let mut feeds: Vec<(String, String)> = member
            .feeds
            .iter()
            .map(|f| (f.key(), "config".to_string()))
            .collect();
        if feeds.is_empty() {
            let cached = store
                .discovered(&member.id)?
                .filter(|c| member.blog.as_ref().is_some_and(|b| b.as_str() == c.blog));
            match cached {
                Some(c) => match c.feed_url {
                    Some(url) => feeds.push((
                        url,
                        format!("discovered:{}", c.rule.as_deref().unwrap_or("?")),
                    )),
                    None => lines.push(FeedLine {
                        member: member.id.clone(),
                        url: c.blog.clone(),
                        state: "failing".to_string(),
                        last_attempt: show(Some(c.attempted_at)),
                        last_success: None,
                        http_status: None,
                        consecutive_failures: c.attempts,
                        last_error: c.error.clone(),
                        moved_to: None,
                        items: 0,
                        last_post: None,
                        next_attempt: show(health::next_attempt_after_failure(
                            c.attempted_at,
                            c.attempts.saturating_add(1),
                            config.fetch.interval,
                            None,
                        )),
                        title: None,
                        source: "discovery".to_string(),
                        advice: Some(
                            "no feed was found from the member's blog: ask the member for the \
                             feed URL and list it in `feeds`"
                                .to_string(),
                        ),
                    }),
                },
                None => {
                    if let Some(blog) = &member.blog {
                        lines.push(FeedLine {
                            member: member.id.clone(),
                            url: blog.to_string(),
                            state: "new".to_string(),
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
                            source: "discovery".to_string(),
                            advice: Some(
                                "the feed is discovered from the blog on the next `fetch`"
                                    .to_string(),
                            ),
                        });
                    }
                }
            }
        }
        for (url, source) in feeds {
            let Some(h) = by_url.get(url.as_str()) else {
                lines.push(FeedLine {
                    member: member.id.clone(),
                    url,
                    state: "new".to_string(),
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
                    source,
                    advice: Some("not polled yet: the next `fetch` polls it".to_string()),
                });
                continue;
            };
            let pause =
                health::host_of(h.row.poll_url()).and_then(|host| pauses.get(&host).copied());
            let state = health::state(h, pause, t);
            let next = match state {
                "paused" => pause,
                "gone" | "backoff" | "failing" => h.row.next_attempt,
                _ => None,
            };
            lines.push(FeedLine {
                member: member.id.clone(),
                url,
                state: state.to_string(),
                last_attempt: show(h.last_attempt),
                last_success: show(h.last_success),
                http_status: h.http_status,
                consecutive_failures: h.consecutive_failures,
                last_error: h.last_error.clone(),
                moved_to: h.moved_to.clone(),
                items: h.items,
                last_post: show(h.last_post),
                next_attempt: show(next),
                title: h.title.clone().filter(|t| !t.is_empty()),
                source,
                advice: health::advice(h, state, pause, tz),
            });
        }
    }
    Ok(lines)
}
