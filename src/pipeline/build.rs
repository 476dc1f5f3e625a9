//! `build`, and the judgement every output shares: read the store, judge the rounds, write the
//! public files.
//!
//! [`judgement`] hands the round judge the stored posts that can fall in a round and the
//! successful fetches since the first round opened; [`build`] renders `atom.xml`, `index.html`
//! and `members.opml` from the store alone (no network), then the members' pages, the teams'
//! feeds and the cohort's retrospective (`views.rs`), each written atomically.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::error::RunError;
use super::hand::{hand_posts, newest};
use super::views::Views;
use crate::config::Config;
use crate::normalise;
use crate::render;
use crate::render::templates::Templates;
use crate::render::Written;
use crate::rounds::{self, GoodFetch, HandPost, History, Judgement, MemberFeed, PostFacts};
use crate::source::FeedSource;
use crate::store::{FeedHealth, JudgedPost, Store};
use crate::time::instant;

/// Writes every public output from the store — `atom.xml`, `index.html`, `members.opml`, then
/// `members/<id>.html`, `teams/<slug>.xml` and (once the cohort is over) `cohort.html` — and says
/// of each whether it changed.
pub fn build(config: &Config, store: &Store, now: DateTime<Utc>) -> Result<Vec<Written>, RunError> {
    let templates = Templates::load(config.output.templates.as_deref())?;
    let ids: Vec<&str> = config.members.iter().map(|m| m.id.as_str()).collect();
    let hand = hand_posts(config, store)?;
    let health = store.feed_health()?;
    let posts = newest(
        config,
        store.recent_posts(config.output.entries, &ids)?,
        &hand,
        now,
    );
    let atom = render::atom::render(config, &posts, now)?;
    let judgement = judge_with(config, store, now, &hand, &health)?;
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
        written.push(render::write_atomic(&path, &bytes)?);
    }
    let views = Views {
        config,
        store,
        judgement: &judgement,
        hand: &hand,
        templates: &templates,
        now,
    };
    written.extend(views.write()?);
    Ok(written)
}

/// Judges every member in every round from the store, at `now`.
pub fn judgement(
    config: &Config,
    store: &Store,
    now: DateTime<Utc>,
) -> Result<Judgement, RunError> {
    let hand = hand_posts(config, store)?;
    judge_with(config, store, now, &hand, &store.feed_health()?)
}

/// [`judgement`] with the posts recorded by hand and the feeds' health already read (the
/// outputs need them too).
pub(super) fn judge_with(
    config: &Config,
    store: &Store,
    now: DateTime<Utc>,
    hand: &[HandPost],
    health: &[FeedHealth],
) -> Result<Judgement, RunError> {
    // Only posts that can fall in a round matter (a member's older posts would only take memory):
    // from the first round's opening to the last one's close.
    let all = rounds::rounds(&config.rounds, config.club.timezone);
    let from = all.first().map_or(i64::MIN, |r| r.opens_at.timestamp());
    let until = all.last().map_or(i64::MAX, |r| r.closes_at.timestamp());
    // Shared (not copied) into the verdicts: a big club's posts are held once.
    let mut posts = Vec::new();
    let judged = |p: JudgedPost| facts(p, config);
    store.round_posts(from, until, |p| posts.push(Arc::new(judged(p))))?;
    posts.extend(hand.iter().map(|h| Arc::new(h.facts(config.club.timezone))));
    let fetches: Vec<GoodFetch> = store
        .good_fetches(from)?
        .into_iter()
        .map(|(feed_id, at)| GoodFetch {
            feed_id,
            at: instant(at),
        })
        .collect();
    let feeds = member_feeds(config, store, health)?;
    let history = History {
        fetches: &fetches,
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
    health: &[FeedHealth],
) -> Result<HashMap<String, Vec<MemberFeed>>, RunError> {
    let known: HashMap<String, &FeedHealth> =
        health.iter().map(|h| (h.row.source.key(), h)).collect();
    let mut out = HashMap::new();
    for member in &config.members {
        let mut keys: Vec<String> = member.feeds.iter().map(FeedSource::key).collect();
        if keys.is_empty() {
            let found = store
                .discovered(&member.id)?
                .filter(|d| member.blog.as_ref().is_some_and(|b| b.as_str() == d.blog))
                .and_then(|d| d.feed_url);
            keys.extend(found);
        }
        let feeds = keys
            .into_iter()
            .map(|key| {
                let h = known.get(&key);
                MemberFeed {
                    id: h.map(|h| h.row.id),
                    last_error: h.and_then(|h| h.last_error.clone()),
                    label: key,
                }
            })
            .collect();
        out.insert(member.id.clone(), feeds);
    }
    Ok(out)
}

/// A stored post as the judge takes it, judged by the length rule.
fn facts(p: JudgedPost, config: &Config) -> PostFacts {
    let chars = normalise::judged_length(
        p.chars,
        p.chars_source.as_deref(),
        config.rounds.min_chars,
        config.reader.pages,
    );
    PostFacts {
        member_id: p.member_id,
        title: p.title,
        url: p.link,
        published: p.published.map(instant),
        updated: p.updated.map(instant),
        first_seen: instant(p.first_seen),
        effective: instant(p.effective),
        chars,
        chars_from_page: p.chars_source.as_deref() == Some("page"),
        history: p.history,
        feeds: p.feeds,
        extra: false,
    }
}
