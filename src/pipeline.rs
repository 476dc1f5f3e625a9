//! The main job, stage by stage: config → fetch → parse → normalise → store → render.
//!
//! [`fetch`] polls every configured feed concurrently and stores each feed's outcome in its own
//! transaction as soon as it arrives, so a run killed half-way keeps what it finished. A feed's
//! failure is a value in the [`RunSummary`], never an error of the run. [`build`] writes the
//! outputs from the store alone. [`inspect`] shows what the tool sees in one feed.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::{Config, FeedSource};
use crate::fetch::{self, FeedRequest, FeedResult, FetchSettings, Outcome, Source};
use crate::normalise::{self, FeedMeta, Post};
use crate::parse::{self, ParsedFeed};
use crate::render::{self, RenderError};
use crate::store::{FeedRow, FetchRecord, Store, StoreError, TagContext};

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
    /// Members without a feed to poll (blog only: discovery is not built yet).
    pub skipped_members: Vec<String>,
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
    let mut summary = RunSummary::default();
    let mut wanted = Vec::new();
    for member in config
        .members
        .iter()
        .filter(|m| members.is_empty() || members.contains(&m.id))
    {
        if member.feeds.is_empty() {
            summary.skipped_members.push(member.id.clone());
        }
        for (rank, feed) in member.feeds.iter().enumerate() {
            wanted.push((member.id.clone(), feed.clone(), rank));
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
    let requests: Vec<FeedRequest> = planned
        .iter()
        .enumerate()
        .map(|(index, p)| FeedRequest {
            index,
            source: source_of(&p.source),
            etag: p.row.etag.clone(),
            last_modified: p.row.last_modified.clone(),
            body_hash: p.row.body_hash.clone(),
        })
        .collect();
    let total = requests.len();
    let settings = fetch_settings(config);
    let tag = tag_context(config, now);
    let mut reports: HashMap<usize, FeedReport> = HashMap::new();
    let mut store_error = None;
    // Parsing and normalising are CPU work: each feed's runs on the blocking pool as soon as its
    // fetch ends, at most one per core at a time (more would only hold more documents in memory
    // at once), while this task writes the store (one transaction per feed, in the order the
    // feeds finish).
    let (tz, min_chars) = (config.club.timezone, config.rounds.min_chars);
    let (parsed_tx, mut parsed_rx) = tokio::sync::mpsc::unbounded_channel();
    let sources: Vec<FeedSource> = planned.iter().map(|p| p.source.clone()).collect();
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let parsers = Arc::new(tokio::sync::Semaphore::new(cores));
    let fetching = fetch::fetch_all(&settings, requests, move |mut result| {
        let source = sources.get(result.index).cloned();
        let index = result.index;
        let parsers = Arc::clone(&parsers);
        let parsing = tokio::spawn(async move {
            let _permit = parsers.acquire_owned().await;
            tokio::task::spawn_blocking(move || {
                let parsed = source.and_then(|s| parse_result(&mut result, &s, tz, min_chars));
                (result, parsed)
            })
            .await
        });
        let _ = parsed_tx.send((index, parsing));
    });
    let storing = async {
        while let Some((index, parsing)) = parsed_rx.recv().await {
            let (result, parsed) = match parsing.await {
                Ok(Ok(done)) => done,
                Ok(Err(e)) | Err(e) => (
                    failed_result(index, &format!("internal error while parsing: {e}")),
                    None,
                ),
            };
            if store_error.is_some() {
                continue;
            }
            let Some(plan) = planned.get(result.index) else {
                continue;
            };
            match process(store, plan, result, parsed, now, &tag) {
                Ok(report) => {
                    on_feed(&report, reports.len() + 1, total);
                    reports.insert(index, report);
                }
                Err(e) => store_error = Some(e),
            }
        }
    };
    tokio::join!(fetching, storing);
    if let Some(e) = store_error {
        return Err(e.into());
    }
    let mut indexed: Vec<(usize, FeedReport)> = reports.into_iter().collect();
    indexed.sort_by_key(|(i, _)| *i);
    summary.feeds = indexed.into_iter().map(|(_, r)| r).collect();
    store.mark_run_completed(now.timestamp())?;
    if !no_output {
        summary.outputs = build(config, store, now)?;
    }
    Ok(summary)
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
        parse::parse(&body, charset, base.as_deref(), tz)
            .map(|parsed| {
                let (meta, posts, _warnings) =
                    normalise::normalise(&parsed, &source.key(), min_chars);
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
            ..
        } => {
            store.record(
                &plan.row,
                &FetchRecord::NotModified {
                    final_url: &final_url,
                    http_status,
                    etag: etag.as_deref(),
                    last_modified: last_modified.as_deref(),
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

/// The base URI for relative links: the final URL when it is on the web.
fn web_base(final_url: &str, source: &FeedSource) -> Option<String> {
    match source {
        FeedSource::Url(_) => Some(final_url.to_string()),
        FeedSource::Path(_) => None,
    }
}

/// Writes every output from the store; returns the files written.
pub fn build(config: &Config, store: &Store, now: DateTime<Utc>) -> Result<Vec<PathBuf>, RunError> {
    let ids: Vec<&str> = config.members.iter().map(|m| m.id.as_str()).collect();
    let posts = store.recent_posts(config.output.entries, &ids)?;
    let atom = render::atom::render(config, &posts, now)?;
    let path = config.output.dir.join("atom.xml");
    render::write_atomic(&path, &atom)?;
    Ok(vec![path])
}

/// Judges every member in every round from the store (SPEC §5).
pub fn judgement(
    config: &Config,
    store: &Store,
    now: DateTime<Utc>,
) -> Result<crate::rounds::Judgement, RunError> {
    let (posts, fetches) = store.round_inputs()?;
    Ok(crate::rounds::judge(config, &posts, &fetches, now))
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
