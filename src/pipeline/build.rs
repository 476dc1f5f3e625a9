//! `build`, and the judgement every output shares: read the store, judge the rounds, write the
//! public files.
//!
//! [`judgement`] hands the round judge the stored posts that can fall in a round and the
//! successful fetches since the first round opened; [`build`] renders `atom.xml`, `index.html`
//! and `members.opml` from the store alone (no network), the teams' feeds (made beside the
//! judge, through a reading connection of their own), then the members' pages and the cohort's
//! retrospective (`views.rs`), each written atomically, and records the render; [`refresh`] (a
//! `fetch` run's last step) renders only when `fresh.rs` finds the recorded outputs out of date.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use smallvec::SmallVec;

use super::ahead::MadeAhead;
use super::error::RunError;
use super::fresh;
use super::hand::{hand_posts, newest};
use super::views::{join, team_feeds, Views};
use crate::config::{Config, Member};
use crate::health;
use crate::normalise;
use crate::render;
use crate::render::templates::Templates;
use crate::render::Written;
use crate::rounds::{self, GoodFetch, HandPost, History, Judgement, MemberFeed, PostFacts};
use crate::source::FeedSource;
use crate::store::{JudgedPost, Store, StoreError};
use crate::time::instant;

/// Writes every public output from the store — `atom.xml`, `index.html`, `members.opml`, then
/// `members/<id>.html`, `teams/<slug>.xml` and (once the cohort is over) `cohort.html` — and says
/// of each whether it changed. Always renders, and records the render so that a later `fetch`
/// with nothing new can skip it.
pub fn build(config: &Config, store: &Store, now: DateTime<Utc>) -> Result<Vec<Written>, RunError> {
    let key = fresh::key(config, store, now)?;
    let written = render_all(config, store, now, &key, false, None)?;
    fresh::remember(store, &key, &written)?;
    Ok(written)
}

/// [`build`], unless nothing the outputs are made of changed since the last render: then the
/// files are left as they are, each said `unchanged`, and the second value is `false`. The pages
/// the run made `ahead` are kept where their members' judgement is the one they were made from.
pub(super) fn refresh(
    config: &Config,
    store: &Store,
    now: DateTime<Utc>,
    ahead: Option<&MadeAhead>,
) -> Result<(Vec<Written>, bool), RunError> {
    let key = fresh::key(config, store, now)?;
    // A page made ahead that changed its file makes the record of the last render untrue.
    if !ahead.is_some_and(MadeAhead::changed_any) {
        if let Some(files) = fresh::up_to_date(store, &key)? {
            return Ok((files, false));
        }
    }
    let written = render_all(config, store, now, &key, true, ahead)?;
    fresh::remember(store, &key, &written)?;
    Ok((written, true))
}

/// Renders and writes every output (`reuse`: but the members' pages that are as the last render
/// left them, see `fresh::PageMarks`, and those made `ahead` from the same judgement), `key`
/// being the render's.
fn render_all(
    config: &Config,
    store: &Store,
    now: DateTime<Utc>,
    key: &str,
    reuse: bool,
    ahead: Option<&MadeAhead>,
) -> Result<Vec<Written>, RunError> {
    let templates = Templates::load(config.output.templates.as_deref())?;
    let ids: Vec<&str> = config.members.iter().map(|m| m.id.as_str()).collect();
    let hand = hand_posts(config, store)?;
    let posts = newest(
        config,
        store.recent_posts(config.output.entries, &ids)?,
        &hand,
        now,
    );
    let atom = render::atom::render(config, &posts, now)?;
    // The teams' feeds need no judgement: they are read and made through a connection of their
    // own while this one reads the judge's posts (the two are most of what a render waits on).
    let path = store.path();
    let (teams, judged) = std::thread::scope(|s| {
        let beside = s.spawn(|| teams_beside(config, path, &hand, now));
        let judged = judge_with(config, store, now, &hand);
        (join(beside), judged)
    });
    let judgement = judged?;
    // Only the failing feeds' health is read, after the judge: every feed's, at a big club's
    // size, would sit beside the judge's posts, where a run's memory peaks.
    let failing = store.feed_health_failing(health::TROUBLE_AFTER_FAILURES)?;
    let trouble = render::view::feeds_in_trouble(config, &failing);
    let page = render::page::model(config, &posts, &judgement, trouble, now);
    let index = render::page::render(&templates, &page)?;
    let opml = render::opml::export(config);
    let mut written = Vec::new();
    for (name, bytes) in [
        ("atom.xml", atom),
        ("index.html", index),
        ("members.opml", opml),
    ] {
        let path = config.output.dir.join(name);
        written.push(render::write_output(&path, &bytes)?);
    }
    written.extend(match teams {
        Some(teams) => teams?,
        None => team_feeds(config, store, &hand, now)?,
    });
    let views = Views {
        config,
        store,
        judgement: &judgement,
        templates: &templates,
        now,
        key,
        reuse,
        ahead,
    };
    written.extend(views.write()?);
    Ok(written)
}

/// The teams' feeds, made through a reading connection of their own to the store at `path`;
/// `None` when no such connection opens (they are then made through the render's own).
fn teams_beside(
    config: &Config,
    path: &std::path::Path,
    hand: &[HandPost],
    now: DateTime<Utc>,
) -> Option<Result<Vec<Written>, RunError>> {
    let reader = Store::open_reader(path).ok()?;
    Some(team_feeds(config, &reader, hand, now))
}

/// Judges every member in every round from the store, at `now`.
pub fn judgement(
    config: &Config,
    store: &Store,
    now: DateTime<Utc>,
) -> Result<Judgement, RunError> {
    let hand = hand_posts(config, store)?;
    judge_with(config, store, now, &hand)
}

/// [`judgement`] with the posts recorded by hand already read (the outputs need them too).
pub(super) fn judge_with(
    config: &Config,
    store: &Store,
    now: DateTime<Utc>,
    hand: &[HandPost],
) -> Result<Judgement, RunError> {
    let (posts, from) = round_inputs(config, store, hand)?;
    let fetches: Vec<GoodFetch> = store
        .good_fetches(from)?
        .into_iter()
        .map(|(feed_id, at)| GoodFetch {
            feed_id,
            at: instant(at),
        })
        .collect();
    judge_posts(config, store, now, posts, &fetches)
}

/// The posts that can fall in a round (stored and by hand), and the instant the first round
/// opens (evidence before it is not read).
fn round_inputs(
    config: &Config,
    store: &Store,
    hand: &[HandPost],
) -> Result<(Vec<Arc<PostFacts>>, i64), RunError> {
    let (from, until) = round_span(config);
    // Shared (not copied) into the verdicts: a big club's posts are held once.
    let mut posts = Vec::new();
    let mut members: HashMap<String, Arc<str>> = HashMap::new();
    store.round_posts(from, until, |p| {
        posts.push(Arc::new(facts(p, config, &mut members)));
    })?;
    posts.extend(hand.iter().map(|h| Arc::new(h.facts(config.club.timezone))));
    Ok((posts, from))
}

/// The instants posts can fall in a round between: the first round's opening and the last
/// one's close (a member's older posts would only take memory).
fn round_span(config: &Config) -> (i64, i64) {
    let all = rounds::rounds(&config.rounds, config.club.timezone);
    let from = all.first().map_or(i64::MIN, |r| r.opens_at.timestamp());
    let until = all.last().map_or(i64::MAX, |r| r.closes_at.timestamp());
    (from, until)
}

/// The judge's call, with the posts and the evidence read.
fn judge_posts(
    config: &Config,
    store: &Store,
    now: DateTime<Utc>,
    posts: Vec<Arc<PostFacts>>,
    fetches: &[GoodFetch],
) -> Result<Judgement, RunError> {
    let feeds = member_feeds(config, store)?;
    let history = History {
        fetches,
        feeds: &feeds,
    };
    Ok(rounds::judge(
        &config.rounds,
        config.club.timezone,
        &config.members,
        posts,
        history,
        now,
    ))
}

/// Each member's feeds as the roster lists them now (a blog-only member: the feed discovery
/// found, if any), with what the store knows of each.
fn member_feeds(
    config: &Config,
    store: &Store,
) -> Result<HashMap<String, Vec<MemberFeed>>, RunError> {
    let known = store.judged_feeds()?;
    let mut out = HashMap::new();
    for member in &config.members {
        let feeds = feeds_of(member, store, |key| Ok(known.get(key).cloned()))?;
        out.insert(member.id.clone(), feeds);
    }
    Ok(out)
}

/// One member's feeds for [`member_feeds`], `known` saying what the store knows of a feed by its
/// key (its id and last error).
fn feeds_of(
    member: &Member,
    store: &Store,
    mut known: impl FnMut(&str) -> Result<Option<(i64, Option<String>)>, StoreError>,
) -> Result<Vec<MemberFeed>, RunError> {
    let mut keys: Vec<String> = member.feeds.iter().map(FeedSource::key).collect();
    if keys.is_empty() {
        let found = store
            .discovered(&member.id)?
            .filter(|d| member.blog.as_ref().is_some_and(|b| b.as_str() == d.blog))
            .and_then(|d| d.feed_url);
        keys.extend(found);
    }
    let mut feeds = Vec::with_capacity(keys.len());
    for label in keys {
        let h = known(&label)?;
        feeds.push(MemberFeed {
            id: h.as_ref().map(|(id, _)| *id),
            last_error: h.and_then(|(_, e)| e),
            label,
        });
    }
    Ok(feeds)
}

/// [`judgement`] of some members only (`ids`, in roster order), read from the store member by
/// member: what the judge would say of each of them from the same store, for their pages made
/// while the rest of the roster is still being fetched. `hand` are every member's posts
/// recorded by hand.
pub(super) fn judge_members(
    config: &Config,
    store: &Store,
    now: DateTime<Utc>,
    ids: &[&str],
    hand: &[HandPost],
) -> Result<Judgement, RunError> {
    let wanted: HashSet<&str> = ids.iter().copied().collect();
    let members: Vec<Member> = config
        .members
        .iter()
        .filter(|m| wanted.contains(m.id.as_str()))
        .cloned()
        .collect();
    let (from, until) = round_span(config);
    let mut posts = Vec::new();
    let mut names: HashMap<String, Arc<str>> = HashMap::new();
    store.round_posts_of(ids, from, until, |p| {
        posts.push(Arc::new(facts(p, config, &mut names)));
    })?;
    let tz = config.club.timezone;
    posts.extend(
        hand.iter()
            .filter(|h| wanted.contains(h.member_id.as_str()))
            .map(|h| Arc::new(h.facts(tz))),
    );
    let mut feeds = HashMap::new();
    for member in &members {
        let of = feeds_of(member, store, |key| store.judged_feed(key))?;
        feeds.insert(member.id.clone(), of);
    }
    let ids: Vec<i64> = feeds.values().flatten().filter_map(|f| f.id).collect();
    let fetches: Vec<GoodFetch> = store
        .good_fetches_of(&ids, from)?
        .into_iter()
        .map(|(feed_id, at)| GoodFetch {
            feed_id,
            at: instant(at),
        })
        .collect();
    let history = History {
        fetches: &fetches,
        feeds: &feeds,
    };
    Ok(rounds::judge(
        &config.rounds,
        tz,
        &members,
        posts,
        history,
        now,
    ))
}

/// A stored post as the judge takes it, judged by the length rule; `members` holds each
/// member's id once for all of their posts.
fn facts(p: JudgedPost, config: &Config, members: &mut HashMap<String, Arc<str>>) -> PostFacts {
    let chars = normalise::judged_length(
        p.chars,
        p.chars_source.as_deref(),
        config.rounds.min_chars,
        config.reader.pages,
    );
    let member_id = members
        .entry(p.member_id)
        .or_insert_with_key(|id| Arc::from(id.as_str()))
        .clone();
    PostFacts {
        member_id,
        title: p.title,
        url: p.link,
        published: p.published.map(instant),
        updated: p.updated.map(instant),
        first_seen: instant(p.first_seen),
        effective: instant(p.effective),
        chars,
        chars_from_page: p.chars_source.as_deref() == Some("page"),
        history: p.history,
        feeds: SmallVec::from_vec(p.feeds),
        extra: false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{post, read};
    use super::*;
    use crate::normalise::Post;
    use crate::store::{FeedRow, FetchRecord};
    use chrono::TimeZone;
    use proptest::prelude::*;
    use std::path::Path;

    const HOUR: i64 = 3600;

    /// Two members: `a` with two feeds (cross-posts land in both), `b` with one; six two-day
    /// rounds from 2024-09-29 (Asia/Seoul), `late_after` 6 h.
    fn club() -> Config {
        let text = r#"[club]
name = "글또"
url = "https://geultto.github.io/"
timezone = "Asia/Seoul"
[rounds]
start = "2024-09-29"
every_days = 2
count = 6
late_after = "6h"
[[members]]
id = "a"
name = "가"
feeds = ["https://a.example/rss", "https://a2.example/rss"]
[[members]]
id = "b"
name = "나"
feeds = ["https://b.example/rss"]
"#;
        Config::from_str(text, Path::new("feeds.toml")).unwrap()
    }

    /// What happens to one feed in one run.
    #[derive(Debug, Clone, Copy)]
    enum Poll {
        Read,
        Fail,
        Skip,
    }

    /// One run: hours since the last, each feed's poll, and the posts written before it (per
    /// member: hours back its date lies, for `a` which feeds carry it — 1, 2 or both — and how
    /// many runs later a cross-post reaches the second feed).
    #[derive(Debug, Clone)]
    struct Run {
        gap: i64,
        polls: [Poll; 3],
        posts: Vec<(usize, i64, u8, usize)>,
    }

    fn poll() -> impl Strategy<Value = Poll> {
        prop_oneof![6 => Just(Poll::Read), 2 => Just(Poll::Fail), 2 => Just(Poll::Skip)]
    }

    fn run() -> impl Strategy<Value = Run> {
        (
            1i64..=14,
            [poll(), poll(), poll()],
            proptest::collection::vec((0usize..2, 0i64..80, 1u8..=3, 0usize..4), 0..2),
        )
            .prop_map(|(gap, polls, posts)| Run { gap, polls, posts })
    }

    fn record(
        store: &mut Store,
        feed: &FeedRow,
        poll: Poll,
        posts: &[Post],
        changed: bool,
        now: i64,
    ) {
        let record = match (poll, changed) {
            (Poll::Fail, _) => FetchRecord::Failed {
                http_status: Some(500),
                kind: crate::fetch::FailKind::Http,
                error: "500",
                next_attempt: None,
            },
            (_, true) => return read(store, feed, posts, now),
            (_, false) => FetchRecord::NotModified {
                final_url: "https://x.example/rss",
                http_status: 304,
                etag: None,
                last_modified: None,
                permanent_redirect: None,
            },
        };
        store.record(feed, &record, now).unwrap();
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

        /// Every verdict (`late`, `unverified`, `missed` and the rest, with the feeds `unverified`
        /// names) is the same judged from the compacted log as from every fetch ever made, at
        /// every run of a random history of reads, failures, skipped polls, cross-posts and posts
        /// dated back into closed rounds; and each member judged alone is judged the same.
        #[test]
        fn compaction_changes_no_verdict(runs in proptest::collection::vec(run(), 1..70)) {
            let config = club();
            let dir = tempfile::tempdir().unwrap();
            let mut store = Store::open(&dir.path().join("g.db")).unwrap();
            let sources: Vec<(String, FeedSource)> = config
                .members
                .iter()
                .flat_map(|m| m.feeds.iter().map(|f| (m.id.clone(), f.clone())))
                .collect();
            let rows = store.sync_feeds(&sources).unwrap();
            // What each feed holds now, and whether that changed since its last read.
            let mut held: Vec<Vec<Post>> = vec![Vec::new(); 3];
            let mut changed = [true; 3];
            let mut every_read = Vec::new();
            let mut now = Utc.with_ymd_and_hms(2024, 9, 28, 15, 0, 0).unwrap().timestamp();
            let mut n = 0;
            // Cross-posts on their way to the second feed: (run, post).
            let mut later: Vec<(usize, Post)> = Vec::new();
            for (k, r) in runs.iter().enumerate() {
                now += r.gap * HOUR;
                for &(member, back, which, delay) in &r.posts {
                    n += 1;
                    let (id, feeds): (&str, &[usize]) = match (member, which) {
                        (1, _) => ("b", &[2]),
                        (_, 1) => ("a", &[0]),
                        (_, 2) => ("a", &[1]),
                        _ => ("a", &[0]),
                    };
                    let p = post(n, id, now - back * HOUR);
                    if (member, which) == (0, 3) {
                        later.push((k + delay, p.clone()));
                    }
                    for &f in feeds {
                        held[f].insert(0, p.clone());
                        changed[f] = true;
                    }
                }
                for (_, p) in later.extract_if(.., |(due, _)| *due <= k) {
                    held[1].insert(0, p);
                    changed[1] = true;
                }
                for (f, row) in rows.iter().enumerate() {
                    match r.polls[f] {
                        Poll::Skip => {}
                        Poll::Fail => record(&mut store, row, Poll::Fail, &[], false, now),
                        Poll::Read => {
                            record(&mut store, row, Poll::Read, &held[f], changed[f], now);
                            changed[f] = false;
                            every_read.push(GoodFetch { feed_id: row.id, at: instant(now) });
                        }
                    }
                }
                store.mark_run_completed(now).unwrap();
                let at = instant(now);
                let compacted = judgement(&config, &store, at).unwrap();
                let (posts, _) = round_inputs(&config, &store, &[]).unwrap();
                let full = judge_posts(&config, &store, at, posts, &every_read).unwrap();
                // A member judged alone, read member by member, is judged as among everyone.
                for (i, id) in ["a", "b"].into_iter().enumerate() {
                    let alone = judge_members(&config, &store, at, &[id], &[]).unwrap();
                    prop_assert_eq!(&alone.members[..], &compacted.members[i..=i]);
                }
                prop_assert_eq!(compacted, full);
            }
            // The log kept about a row per post and feed, not a row per run.
            let kept = store.good_fetches(i64::MIN).unwrap().len();
            prop_assert!(kept <= 3 * (n + 2), "{kept} rows kept for {n} posts");
        }
    }
}
