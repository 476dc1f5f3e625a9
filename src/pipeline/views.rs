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

use chrono::{DateTime, Utc};

use super::error::RunError;
use super::fresh::PageMarks;
use super::hand::newest;
use crate::config::Config;
use crate::render::cohort::{self, CohortPage};
use crate::render::slug::{self, team_slugs};
use crate::render::templates::Templates;
use crate::render::{self, atom, member, Written};
use crate::rounds::{HandPost, Judgement};
use crate::store::Store;

/// What the views are made from: the build's judgement, posts recorded by hand and templates.
pub(super) struct Views<'a> {
    pub(super) config: &'a Config,
    pub(super) store: &'a Store,
    pub(super) judgement: &'a Judgement,
    pub(super) hand: &'a [HandPost],
    pub(super) templates: &'a Templates,
    pub(super) now: DateTime<Utc>,
    /// The render's key (`fresh::key`), which every member's page mark starts from.
    pub(super) key: &'a str,
    /// Whether a member's page the last render left as it would be made now is kept rather than
    /// rendered again (`fetch`); `build` renders every page.
    pub(super) reuse: bool,
}

impl Views<'_> {
    /// Writes every view (and removes the stale ones), saying of each file what happened.
    pub(super) fn write(&self) -> Result<Vec<Written>, RunError> {
        let mut written = self.members()?;
        written.extend(self.teams()?);
        written.extend(self.cohort()?);
        Ok(written)
    }

    /// `members/<id>.html` for every member of the roster; other members' pages removed.
    fn members(&self) -> Result<Vec<Written>, RunError> {
        let dir = self.config.output.dir.join("members");
        let mut written = Vec::new();
        let mut marks = PageMarks::load(self.store, self.reuse)?;
        let slugs: HashMap<String, String> = team_slugs(self.config).into_iter().collect();
        for m in &self.judgement.members {
            let path = dir.join(format!("{}.html", m.id));
            if marks.unchanged(&m.id, &PageMarks::mark(self.key, m), &path) {
                written.push(Written::unchanged(path));
                continue;
            }
            let team_slug = slugs
                .get(&m.team)
                .cloned()
                .unwrap_or_else(|| slug::slug(&m.team));
            let page = member::model(self.config, self.judgement, m, team_slug, self.now);
            let bytes = member::render(self.templates, &page)?;
            written.push(render::write_output(&path, &bytes)?);
        }
        marks.save(self.store)?;
        let keep: HashSet<String> = self.config.members.iter().map(|m| m.id.clone()).collect();
        written.extend(render::remove_stale(&dir, "html", &keep)?);
        Ok(written)
    }

    /// `teams/<slug>.xml` for every team of the roster: its newest `entries` posts, as in
    /// `atom.xml`; feeds of teams no longer on the roster removed.
    fn teams(&self) -> Result<Vec<Written>, RunError> {
        let config = self.config;
        let dir = config.output.dir.join("teams");
        let slugs = team_slugs(config);
        let mut written = Vec::new();
        for (team, slug) in &slugs {
            let ids: Vec<&str> = config
                .members
                .iter()
                .filter(|m| &m.team == team)
                .map(|m| m.id.as_str())
                .collect();
            let hand: Vec<HandPost> = self
                .hand
                .iter()
                .filter(|h| ids.contains(&h.member_id.as_str()))
                .cloned()
                .collect();
            let stored = self.store.recent_posts(config.output.entries, &ids)?;
            let posts = newest(config, stored, &hand, self.now);
            let bytes = atom::render_team(config, team, slug, &posts, self.now)?;
            written.push(render::write_output(
                &dir.join(format!("{slug}.xml")),
                &bytes,
            )?);
        }
        let keep: HashSet<String> = slugs.into_iter().map(|(_, s)| s).collect();
        written.extend(render::remove_stale(&dir, "xml", &keep)?);
        Ok(written)
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
