//! `fetch`: the main job, stage by stage — plan → discover → fetch → parse → store → build.
//!
//! [`fetch()`] polls every feed of the roster (or only some members') concurrently and stores
//! each feed's outcome whole as soon as it arrives, in roster order per member, several feeds to
//! a transaction committed every few hundred milliseconds, so a run killed half-way keeps what
//! it committed and the next run fetches the rest again. A feed's failure is a value in the
//! [`RunSummary`], never an error of the run.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::ahead::{Ahead, Completion};
use super::error::RunError;
use super::feed::{self, report, ParseRules, Parsed, Planned, StoreContext};
use super::roster_order::RosterOrder;
use super::{build, discovery, pages};
use crate::config::{Config, ContentMode, Member};
use crate::fetch::{self, FeedRequest, FeedResult, Outcome};
use crate::health;
use crate::ids::TagContext;
use crate::render::terminal::{FeedReport, FeedStatus, RunSummary};
use crate::source::FeedSource;
use crate::store::{Store, StoreError};

/// Called as each feed is stored or skipped: (its report, feeds done, feeds in all).
pub trait Progress: FnMut(&FeedReport, usize, usize) {}
impl<F: FnMut(&FeedReport, usize, usize)> Progress for F {}

/// Polls the feeds (all, or only `members`'), stores what they hold, then writes the outputs
/// unless `options.no_output`. `on_feed` is called as each feed is stored (for progress and `-v`).
///
/// Members with a `blog` and no `feeds` get their feed discovered (once, cached in the store).
/// Feeds backing off after failures, gone feeds between their weekly polls and feeds on hosts
/// paused by Retry-After are skipped, unless `members` names their member (a forced poll).
///
/// The polling runs on `runtime`, which is shut down before the outputs are made: what the
/// fetch phase held is freed by then, and its threads' memory goes back to the allocator for
/// the render to reuse rather than sitting beside it.
pub fn fetch(
    config: &Config,
    store: &mut Store,
    now: DateTime<Utc>,
    members: &[String],
    options: FetchOptions,
    on_feed: impl Progress,
    runtime: tokio::runtime::Runtime,
) -> Result<RunSummary, RunError> {
    // From the first commit on, so that the log is copied while the run waits on the network;
    // once more before the render, for what the last commits left.
    store.checkpoint_beside();
    let path = store.path().to_path_buf();
    let (polled, ahead) = std::thread::scope(|scope| {
        // The members' pages are made as their feeds come in, unless nothing is to be written.
        let ahead = (!options.no_output).then(|| Ahead::start(scope, config, &path, now));
        let run = poll(
            config,
            store,
            now,
            members,
            options,
            on_feed,
            ahead.as_ref(),
        );
        let polled = runtime.block_on(run);
        runtime.shutdown_timeout(SHUTDOWN_WAIT);
        (polled, ahead.map(Ahead::finish))
    });
    let mut summary = polled?;
    store.checkpoint_beside();
    if !options.no_output {
        (summary.outputs, summary.rendered) = build::refresh(config, store, now, ahead.as_ref())?;
    }
    Ok(summary)
}

/// How long shutting the runtime down waits for a blocking task still running (a name lookup
/// past its request's timeout) before leaving it behind.
const SHUTDOWN_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// [`fetch`] up to the outputs: discovery, the plan, the feeds fetched and stored, the pages
/// read.
async fn poll(
    config: &Config,
    store: &mut Store,
    now: DateTime<Utc>,
    members: &[String],
    options: FetchOptions,
    mut on_feed: impl Progress,
    ahead: Option<&Ahead<'_>>,
) -> Result<RunSummary, RunError> {
    let chosen = chosen_members(config, members)?;
    let forced = !members.is_empty();
    let mut summary = RunSummary::default();
    let switched = content_switched(config, store)?;
    let found =
        discovery::feeds_of_blogs(config, store, now, &chosen, forced, &mut summary).await?;
    let planned = plan(store, &chosen, &found)?;
    let (mut requests, mut reports) = schedule(config, &planned, now, forced, &mut on_feed);
    if options.refetch {
        // Once, as if never fetched: every feed answers in full and is parsed again, so what
        // the store lacks (HTML after switching to `content = "full"`) is filled in.
        for r in &mut requests {
            (r.etag, r.last_modified, r.body_hash) = (None, None, None);
        }
    }
    let tag = tag_context(config, now);
    let cx = StoreContext {
        config,
        now,
        tag: &tag,
    };
    let done = reports.len();
    let stored = fetch_and_store(cx, store, &planned, requests, &mut on_feed, done, ahead).await?;
    reports.extend(stored);
    reports.sort_by_key(|(i, _)| *i);
    summary.feeds = reports.into_iter().map(|(_, r)| r).collect();
    summary.pages = pages::read_pages(config, store, now).await?;
    // Only a run over the whole roster completes the store's first run (after which a new feed's
    // old posts come in as history).
    if members.is_empty() {
        store.mark_run_completed(now.timestamp())?;
    }
    match switched {
        Some(mode) if !(options.refetch && members.is_empty()) => summary.advice.push(format!(
            "[output] content is now \"{mode}\", but posts stored before keep no HTML until their feed changes; run `geultto-agg fetch --refetch` once to fill it in"
        )),
        _ => store.set_meta(CONTENT_MODE, content_name(config))?,
    }
    Ok(summary)
}

/// How a fetch run goes beyond polling.
#[derive(Debug, Clone, Copy, Default)]
pub struct FetchOptions {
    /// Skip writing the outputs.
    pub no_output: bool,
    /// Ignore the stored validators once: every feed is read and parsed again in full.
    pub refetch: bool,
}

/// The store's record of the `[output] content` mode its posts were stored under.
const CONTENT_MODE: &str = "content_mode";

fn content_name(config: &Config) -> &'static str {
    match config.output.content {
        ContentMode::Full => "full",
        ContentMode::Summary => "summary",
    }
}

/// `Some("full")` when the config asks for full content but the store's posts were stored
/// without it (a store made in summary mode): their HTML is missing until re-read.
fn content_switched(config: &Config, store: &Store) -> Result<Option<&'static str>, RunError> {
    if config.output.content != ContentMode::Full || !store.first_run_completed()? {
        return Ok(None);
    }
    let missing = match store.meta(CONTENT_MODE)?.as_deref() {
        Some(mode) => mode != "full",
        // A store from before the mode was recorded: it was in full mode if it kept any HTML.
        None => !store.has_post_content()?,
    };
    Ok(missing.then_some("full"))
}

/// The members a run polls: all, or those named (each must be on the roster).
fn chosen_members<'a>(config: &'a Config, ids: &[String]) -> Result<Vec<&'a Member>, RunError> {
    if let Some(unknown) = ids.iter().find(|id| config.member(id).is_none()) {
        return Err(RunError::UnknownMember(unknown.clone()));
    }
    Ok(config
        .members
        .iter()
        .filter(|m| ids.is_empty() || ids.contains(&m.id))
        .collect())
}

/// Every feed of the chosen members, in roster order, with its stored row (created when new).
/// A member with only a blog polls the feed discovery found for it.
fn plan(
    store: &Store,
    members: &[&Member],
    found: &HashMap<String, url::Url>,
) -> Result<Vec<Planned>, StoreError> {
    let mut wanted: Vec<(String, FeedSource)> = Vec::new();
    let mut ranks = Vec::new();
    for member in members {
        let feeds = if member.feeds.is_empty() {
            found
                .get(&member.id)
                .map(|u| vec![FeedSource::Url(u.clone())])
                .unwrap_or_default()
        } else {
            member.feeds.clone()
        };
        for (rank, feed) in feeds.into_iter().enumerate() {
            wanted.push((member.id.clone(), feed));
            ranks.push(rank);
        }
    }
    let rows = store.sync_feeds(&wanted)?;
    Ok(wanted
        .into_iter()
        .zip(ranks)
        .zip(rows)
        .map(|(((member, _), rank), row)| Planned { member, rank, row })
        .collect())
}

/// Which planned feeds are polled now (as requests) and which are held back by the health
/// policy (reported as skipped, unless the run is forced).
fn schedule(
    config: &Config,
    planned: &[Planned],
    now: DateTime<Utc>,
    forced: bool,
    on_feed: &mut impl Progress,
) -> (Vec<FeedRequest>, Vec<(usize, FeedReport)>) {
    let t = now.timestamp();
    let pauses = health::host_pauses(planned.iter().map(|p| &p.row), t);
    let mut requests = Vec::new();
    let mut skipped = Vec::new();
    for (index, p) in planned.iter().enumerate() {
        let pause = p
            .row
            .poll_host()
            .and_then(|h| pauses.get_key_value(&h).map(|(h, until)| (h, *until)));
        let tz = config.club.timezone;
        let skip = (!forced)
            .then(|| health::skip_reason(&p.row, pause, t, config.fetch.interval, tz))
            .flatten();
        if let Some(reason) = skip {
            let mut report = report(p, FeedStatus::Skipped);
            report.error = Some(reason);
            on_feed(&report, skipped.len() + 1, planned.len());
            skipped.push((index, report));
            continue;
        }
        requests.push(FeedRequest {
            index,
            source: p.row.poll_source(),
            etag: p.row.etag.clone(),
            last_modified: p.row.last_modified.clone(),
            body_hash: p.row.body_hash.clone(),
        });
    }
    (requests, skipped)
}

/// A finished fetch on its way to the store: its parse, and the admission permit to give
/// back once the feed is stored.
type InFlight = (usize, Parsing, Option<tokio::sync::OwnedSemaphorePermit>);

/// A fetched feed's parse: under way on the blocking pool, or needless (a 304, an unchanged
/// body, a failure: nothing to read), in which case the result goes straight to the store
/// without waking a thread for it, which is most of a quiet run's feeds.
enum Parsing {
    Spawned(tokio::task::JoinHandle<Result<(FeedResult, Option<Parsed>), tokio::task::JoinError>>),
    Needless(FeedResult),
}

/// Fetches the requests, parses each body on the blocking pool as its fetch ends (at most one
/// per core at a time), and stores each feed as soon as it and its member's earlier feeds are
/// parsed. `done` feeds were already reported (skipped).
async fn fetch_and_store(
    cx: StoreContext<'_>,
    store: &mut Store,
    planned: &[Planned],
    requests: Vec<FeedRequest>,
    on_feed: &mut impl Progress,
    done: usize,
    ahead: Option<&Ahead<'_>>,
) -> Result<Vec<(usize, FeedReport)>, RunError> {
    let config = cx.config;
    let settings = &config.fetch.settings;
    let members = || {
        requests
            .iter()
            .filter_map(|r| planned.get(r.index).map(|p| (p.member.as_str(), r.index)))
    };
    let mut order = RosterOrder::new(members());
    let ahead = ahead.map(|a| (a, Completion::new(members().map(|(m, _)| m))));
    let (parsed_tx, mut parsed_rx) = tokio::sync::mpsc::unbounded_channel::<InFlight>();
    let sources: Vec<FeedSource> = planned.iter().map(|p| p.row.source.clone()).collect();
    let parsers = Arc::new(tokio::sync::Semaphore::new(config.cores));
    let rules = ParseRules::of(config);
    // Backpressure: a feed is fetched only while fewer than twice `concurrency` feeds are
    // fetched but not yet stored, so a slow store (a busy machine, a big run) bounds memory.
    let admission = Arc::new(tokio::sync::Semaphore::new(2 * settings.concurrency.max(1)));
    let fetching = fetch::fetch_all_admitted(
        settings,
        requests,
        Some(admission),
        move |result, admitted| {
            let source = sources.get(result.index).cloned();
            let index = result.index;
            let parsing = spawn_parse(Arc::clone(&parsers), result, source, rules);
            let _ = parsed_tx.send((index, parsing, admitted));
        },
    );
    let mut storing = Storing {
        cx,
        store,
        planned,
        on_feed,
        done,
        reports: Vec::new(),
        error: None,
        group: None,
        ahead,
    };
    tokio::join!(fetching, storing.drain(&mut parsed_rx, &mut order));
    match storing.error {
        Some(e) => Err(e.into()),
        None => Ok(storing.reports),
    }
}

/// A group commit is committed once it holds this many feeds...
const GROUP_FEEDS: usize = 64;
/// ... or this long after its first feed, whichever comes first (and when the run's last feed
/// is stored). A kill loses at most this much work, which the next run fetches again.
const GROUP_TIME: std::time::Duration = std::time::Duration::from_millis(250);

/// The storing side of a run: feeds are stored as they become ready, several to a transaction
/// (a group commit, see `store/record.rs`), counted for the progress report; the first store
/// error stops all further writes: the group it struck is rolled back, the groups committed
/// before it stay.
struct Storing<'a, P> {
    cx: StoreContext<'a>,
    store: &'a mut Store,
    planned: &'a [Planned],
    on_feed: &'a mut P,
    /// Feeds reported so far (skipped ones included).
    done: usize,
    reports: Vec<(usize, FeedReport)>,
    error: Option<StoreError>,
    /// The open group: when it was opened, and how many feeds it holds.
    group: Option<(tokio::time::Instant, usize)>,
    /// Where the members whose feeds are all stored go once committed, to have their pages
    /// made while the run goes on; and who they are.
    ahead: Option<(&'a Ahead<'a>, Completion)>,
}

impl<P: Progress> Storing<'_, P> {
    /// Takes each parsed feed as it arrives, and stores what roster order lets through; an open
    /// group is committed when its time is up even if no feed arrives.
    async fn drain(
        &mut self,
        parsed: &mut tokio::sync::mpsc::UnboundedReceiver<InFlight>,
        order: &mut RosterOrder<(FeedResult, Option<Parsed>)>,
    ) {
        loop {
            let next = match self.group {
                Some((opened, _)) => {
                    match tokio::time::timeout_at(opened + GROUP_TIME, parsed.recv()).await {
                        Ok(next) => next,
                        Err(_time_up) => {
                            self.commit();
                            continue;
                        }
                    }
                }
                None => parsed.recv().await,
            };
            let Some((index, parsing, admitted)) = next else {
                break;
            };
            let done = match parsing {
                Parsing::Needless(result) => (result, None),
                Parsing::Spawned(handle) => match handle.await {
                    Ok(Ok(done)) => done,
                    Ok(Err(e)) | Err(e) => (
                        feed::internal_failure(
                            index,
                            &format!("internal error while parsing: {e}"),
                        ),
                        None,
                    ),
                },
            };
            for (i, ready) in order.arrive(index, done) {
                self.one(i, ready);
            }
            // Only now may another feed be fetched: this one is off our hands.
            drop(admitted);
            if self.group.is_some_and(|(opened, feeds)| {
                feeds >= GROUP_FEEDS || opened.elapsed() >= GROUP_TIME
            }) {
                self.commit();
            }
        }
        for (i, ready) in order.rest() {
            self.one(i, ready);
        }
        self.commit();
    }

    /// Stores the `i`th planned feed in the open group (opening one if needed), unless an
    /// earlier store error stopped the run's writing.
    fn one(&mut self, i: usize, (result, parsed): (FeedResult, Option<Parsed>)) {
        let Some(plan) = self.planned.get(i).filter(|_| self.error.is_none()) else {
            return;
        };
        if self.group.is_none() {
            if let Err(e) = self.store.begin_group() {
                self.error = Some(e);
                return;
            }
            self.group = Some((tokio::time::Instant::now(), 0));
        }
        match feed::store(&self.cx, self.store, plan, result, parsed) {
            Ok(report) => {
                if let Some((_, completion)) = &mut self.ahead {
                    completion.stored(&plan.member, report.status == FeedStatus::Fetched);
                }
                self.done += 1;
                (self.on_feed)(&report, self.done, self.planned.len());
                self.reports.push((i, report));
                if let Some((_, feeds)) = &mut self.group {
                    *feeds += 1;
                }
            }
            Err(e) => self.error = Some(e),
        }
    }

    /// Commits the open group, if any: its feeds are durable from now on. After a store error
    /// nothing is committed: the failed write rolled its group back, and should that rollback
    /// itself have failed, what is left of the group must not be made durable.
    fn commit(&mut self) {
        if self.group.take().is_some() && self.error.is_none() {
            match self.store.commit_group() {
                Err(e) => {
                    self.error.get_or_insert(e);
                }
                // The members whose last feed this group held: their pages can be made now.
                Ok(()) => {
                    if let Some((ahead, completion)) = &mut self.ahead {
                        ahead.make(completion.take_done());
                    }
                }
            }
        }
    }
}

/// Parses one fetched feed on the blocking pool, once one of `parsers`' permits is free; a
/// result with no new body is not parsed at all.
fn spawn_parse(
    parsers: Arc<tokio::sync::Semaphore>,
    mut result: FeedResult,
    source: Option<FeedSource>,
    rules: ParseRules,
) -> Parsing {
    let Some(source) = source.filter(|_| matches!(result.outcome, Outcome::Fetched { .. })) else {
        return Parsing::Needless(result);
    };
    Parsing::Spawned(tokio::spawn(async move {
        let _permit = parsers.acquire_owned().await;
        tokio::task::spawn_blocking(move || {
            let parsed = feed::parse(&mut result, &source, rules);
            (result, parsed)
        })
        .await
    }))
}

/// The `tag:` authority and date for ids minted now.
fn tag_context(config: &Config, now: DateTime<Utc>) -> TagContext {
    TagContext {
        authority: config.club.host.clone(),
        date: now
            .with_timezone(&config.club.timezone)
            .format("%Y-%m-%d")
            .to_string(),
    }
}
