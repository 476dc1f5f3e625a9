//! The views beside the merged feed: a page per member (`members/<id>.html`), a feed per team
//! (`teams/<slug>.xml`), and the cohort's retrospective (`cohort.html`) once its last round has
//! closed.
//!
//! Pages and feeds of members and teams no longer on the roster are removed, so a departed
//! member's page does not linger. The retrospective is made from the store until the last
//! round's evidence is in (its close plus `late_after`, when the `late` rule has had its say);
//! the first build after that keeps its model in the store (`meta`, keyed by the cohort's start
//! and last due date), and every later build renders that model, so new posts, a member leaving
//! the roster or an edited title no longer change it (a changed template still does).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::ahead::MadeAhead;
use super::error::RunError;
use super::fresh::PageMarks;
use super::hand::newest;
use crate::config::Config;
use crate::ids::value_hash128;
use crate::render::cohort::{self, CohortPage};
use crate::render::slug::{self, team_slugs};
use crate::render::templates::Templates;
use crate::render::{self, atom, member, RenderError, Written};
use crate::rounds::{HandPost, Judgement, MemberReport};
use crate::store::Store;

/// What the members' pages and the cohort's are made from: the build's judgement and templates.
pub(super) struct Views<'a> {
    pub(super) config: &'a Config,
    pub(super) store: &'a Store,
    pub(super) judgement: &'a Judgement,
    pub(super) templates: &'a Templates,
    pub(super) now: DateTime<Utc>,
    /// The render's key (`fresh::key`), which every member's page mark starts from.
    pub(super) key: &'a str,
    /// Whether a member's page the last render left as it would be made now is kept rather than
    /// rendered again (`fetch`); `build` renders every page.
    pub(super) reuse: bool,
    /// The members' pages a `fetch` run made while it waited on the network (`ahead.rs`).
    pub(super) ahead: Option<&'a MadeAhead>,
}

impl Views<'_> {
    /// Writes every view (and removes the stale ones), saying of each file what happened.
    ///
    /// The members' pages are made on every core while this thread, the only one that holds the
    /// store, writes the cohort's page: a thousand pages are most of a render's time, and
    /// nothing on a page needs the store. (The teams' feeds are [`team_feeds`], made beside
    /// the judge.)
    pub(super) fn write(&self) -> Result<Vec<Written>, RunError> {
        let dir = self.config.output.dir.join("members");
        let mut marks = PageMarks::load(self.store, self.reuse)?;
        let (mut pages, pending) = self.pages_to_make(&mut marks, &dir);
        let maker = PageMaker::new(self.config, self.now);
        let (made, rest) = std::thread::scope(|s| {
            let workers: Vec<_> = chunks(&pending, worker_count())
                .map(|chunk| s.spawn(|| maker.make(self.templates, self.judgement, chunk)))
                .collect();
            let rest = self.cohort();
            let made: Vec<_> = workers.into_iter().map(join).collect();
            (made, rest)
        });
        for chunk in made {
            for (slot, w) in chunk? {
                pages[slot] = Some(w);
            }
        }
        marks.save(self.store)?;
        let mut written: Vec<Written> = pages.into_iter().flatten().collect();
        let keep: HashSet<String> = self.config.members.iter().map(|m| m.id.clone()).collect();
        written.extend(render::remove_stale(&dir, "html", &keep)?);
        written.extend(rest?);
        Ok(written)
    }

    /// Each member's page in roster order: `Some` where the page made ahead from the same
    /// judgement or the last render's (`marks`) is kept, `None` where it is to be made; and the
    /// pages to make, each with its place.
    fn pages_to_make(
        &self,
        marks: &mut PageMarks,
        dir: &Path,
    ) -> (Vec<Option<Written>>, Vec<PendingPage<'_>>) {
        let mut pages = Vec::with_capacity(self.judgement.members.len());
        let mut pending = Vec::new();
        for (at, m) in self.judgement.members.iter().enumerate() {
            // Hashed once: the page's mark and the page made ahead both go by it.
            let judged = value_hash128(m);
            let mark = PageMarks::mark(self.key, judged);
            if let Some(made) = self.ahead.and_then(|a| a.page(at, &m.id, judged)) {
                marks.note(&m.id, &mark);
                pages.push(Some(made));
                continue;
            }
            let path = dir.join(format!("{}.html", m.id));
            if marks.unchanged(&m.id, &mark, &path) {
                pages.push(Some(Written::unchanged(path)));
            } else {
                pending.push((pages.len(), m, path));
                pages.push(None);
            }
        }
        (pages, pending)
    }

    /// `cohort.html`, once the last round has closed (nothing before).
    fn cohort(&self) -> Result<Option<Written>, RunError> {
        let config = self.config;
        let Some(last) = self.judgement.rounds.last() else {
            return Ok(None);
        };
        if self.now < last.closes_at {
            return Ok(None);
        }
        let late_after = chrono::Duration::from_std(config.rounds.late_after).unwrap_or_default();
        let settled = self.now >= last.closes_at + late_after;
        let key = format!("cohort_page:{}:{}", config.rounds.start, last.due);
        let kept: Option<CohortPage> = self
            .store
            .meta(&key)?
            .and_then(|json| serde_json::from_str(&json).ok());
        let page = match kept {
            Some(page) => page,
            None => {
                let page = cohort::model(config, self.judgement);
                if settled {
                    // A model that does not serialise is only not kept: the page is still written.
                    if let Ok(json) = serde_json::to_string(&page) {
                        self.store.set_meta(&key, &json)?;
                    }
                }
                page
            }
        };
        let bytes = cohort::render(self.templates, &page)?;
        let path = config.output.dir.join("cohort.html");
        Ok(Some(render::write_output(&path, &bytes)?))
    }
}

/// `teams/<slug>.xml` for every team of the roster: its newest `entries` posts (with the posts
/// recorded `hand`), as in `atom.xml`; feeds of teams no longer on the roster removed.
pub(super) fn team_feeds(
    config: &Config,
    store: &Store,
    hand: &[HandPost],
    now: DateTime<Utc>,
) -> Result<Vec<Written>, RunError> {
    let dir = config.output.dir.join("teams");
    let slugs = team_slugs(config);
    let teams: Vec<Vec<&str>> = slugs
        .iter()
        .map(|(team, _)| {
            let of_team = config.members.iter().filter(|m| &m.team == team);
            of_team.map(|m| m.id.as_str()).collect()
        })
        .collect();
    let groups: Vec<&[&str]> = teams.iter().map(Vec::as_slice).collect();
    let recent = store.recent_ids_grouped(config.output.entries, &groups)?;
    let mut written = Vec::new();
    for (((team, slug), ids), recent) in slugs.iter().zip(&teams).zip(recent) {
        let hand: Vec<HandPost> = hand
            .iter()
            .filter(|h| ids.contains(&h.member_id.as_str()))
            .cloned()
            .collect();
        let stored = store.posts_by_ids(&recent)?;
        let posts = newest(config, stored, &hand, now);
        let bytes = atom::render_team(config, team, slug, &posts, now)?;
        written.push(render::write_output(
            &dir.join(format!("{slug}.xml")),
            &bytes,
        )?);
    }
    let keep: HashSet<String> = slugs.into_iter().map(|(_, s)| s).collect();
    written.extend(render::remove_stale(&dir, "xml", &keep)?);
    Ok(written)
}

/// What a member's page is made from beside its judgement; holds no store, so it is shared by
/// the threads that make the pages.
pub(super) struct PageMaker<'a> {
    config: &'a Config,
    now: DateTime<Utc>,
    slugs: HashMap<String, String>,
}

/// A member's page to make: its place among the members, the member, its file.
pub(super) type PendingPage<'a> = (usize, &'a MemberReport, PathBuf);

impl<'a> PageMaker<'a> {
    /// Pages of `config`'s members at `now`.
    pub(super) fn new(config: &'a Config, now: DateTime<Utc>) -> PageMaker<'a> {
        PageMaker {
            config,
            now,
            slugs: team_slugs(config).into_iter().collect(),
        }
    }

    /// Makes and writes the pages of `pending`, members of `judgement`, each said with its place
    /// among the members.
    pub(super) fn make(
        &self,
        templates: &Templates,
        judgement: &Judgement,
        pending: &[PendingPage<'_>],
    ) -> Result<Vec<(usize, Written)>, RenderError> {
        let mut out = Vec::with_capacity(pending.len());
        for (slot, m, path) in pending {
            let team_slug = self
                .slugs
                .get(&m.team)
                .cloned()
                .unwrap_or_else(|| slug::slug(&m.team));
            let page = member::model(self.config, judgement, m, team_slug, self.now);
            let bytes = member::render(templates, &page)?;
            out.push((*slot, render::write_output(path, &bytes)?));
        }
        Ok(out)
    }
}

/// The threads that make members' pages: one per core, at most four (past that the disk, not
/// the templates, is what a render waits for).
fn worker_count() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
}

/// `items` in `n` runs of nearly equal length (none empty).
fn chunks<T>(items: &[T], n: usize) -> impl Iterator<Item = &[T]> {
    items.chunks(items.len().div_ceil(n.max(1)).max(1))
}

/// A scoped thread's result; a thread that panicked panics this one too, as the work it did
/// would have here.
pub(super) fn join<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}
