//! `index.html`: the merged feed as a page anyone can open on a phone.
//!
//! It opens with the newest non-history posts across the club (the same posts as `atom.xml`,
//! newest first, each author linking to their page `members/<id>.html`), then the same posts by
//! team behind a jump list, each team with its feed (`teams/<slug>.xml`) and its members' pages;
//! the current round's progress as counts only (the page is public: never the names of who
//! missed), and the feeds failing for more than three runs so their owners can fix them. No JavaScript; one small stylesheet with a
//! dark variant. Every snippet is plain text escaped by the template. The page shows no "now":
//! the same store and `--now` give the same bytes, and a quiet run rewrites nothing.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::slug::team_slugs;
use super::templates::Templates;
use super::view::{self, PostView, RoundView, TroubleView};
use super::RenderError;
use crate::config::Config;
use crate::normalise::one_line;
use crate::rounds::{self, Judgement};
use crate::store::StoredPost;
use crate::time::local_date;

/// What the page shows. Serialised into `index.html`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Page {
    /// The club's name.
    pub club: String,
    /// The club's site.
    pub club_url: String,
    /// The merged feed.
    pub feed_url: String,
    /// How many posts the page shows.
    pub post_count: usize,
    /// Members with posts shown.
    pub author_count: usize,
    /// The newest post's local date.
    pub updated: Option<String>,
    /// The newest posts across the club, newest first.
    pub latest: Vec<PostView>,
    /// Every team of the roster (its posts newest first), roster order.
    pub teams: Vec<PageTeam>,
    /// Whether the cohort's last round has closed (`cohort.html` is out).
    pub cohort_closed: bool,
    /// The current round, counts only.
    pub round: Option<RoundView>,
    /// Feeds failing for more than three runs.
    pub trouble: Vec<TroubleView>,
}

/// A member as the page links to them.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MemberLink {
    /// The member's id: their page is `members/<id>.html`.
    pub id: String,
    /// The member's display name.
    pub name: String,
}

/// A team on the page: its posts, its feed and its members.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PageTeam {
    /// Team name (`팀 미지정` when empty).
    pub team: String,
    /// Its slug: the section's anchor `team-<slug>` and the feed `teams/<slug>.xml`.
    pub slug: String,
    /// The team's posts among the newest, newest first.
    pub posts: Vec<PostView>,
    /// The team's members, roster order.
    pub members: Vec<MemberLink>,
}

/// The page model from the newest posts (newest first), the judgement and the feeds in trouble
/// ([`view::feeds_in_trouble`]).
pub fn model(
    config: &Config,
    posts: &[StoredPost],
    judgement: &Judgement,
    trouble: Vec<TroubleView>,
    now: DateTime<Utc>,
) -> Page {
    let views: Vec<_> = posts
        .iter()
        .filter(|p| !p.history)
        .filter_map(|p| view::post_view(config, p))
        .collect();
    let updated = views
        .iter()
        .map(|p| p.at)
        .max()
        .map(|t| view::korean_date(local_date(t, config.club.timezone)));
    let mut authors: Vec<&str> = views.iter().map(|p| p.member.as_str()).collect();
    authors.sort_unstable();
    authors.dedup();
    let author_count = authors.len();
    let post_count = views.len();
    let round = rounds::current_round(&judgement.rounds, now)
        .and_then(|n| judgement.rounds.iter().find(|r| r.number == n))
        .map(|r| view::round_view(judgement, r, now, false));
    Page {
        club: one_line(&config.club.name),
        club_url: config.club.url.to_string(),
        feed_url: config.output.feed_url.to_string(),
        post_count,
        author_count,
        updated,
        teams: page_teams(config, &views),
        latest: views,
        cohort_closed: judgement
            .rounds
            .last()
            .is_some_and(|r| r.state(now) == rounds::RoundState::Closed),
        round,
        trouble: trouble
            .into_iter()
            .map(|mut t| {
                // The page is public: a local file's error would show this machine's paths.
                if t.local {
                    t.error.clear();
                }
                t
            })
            .collect(),
    }
}

/// Every team of the roster, with its share of the newest posts and its members.
fn page_teams(config: &Config, views: &[PostView]) -> Vec<PageTeam> {
    team_slugs(config)
        .into_iter()
        .map(|(team, slug)| PageTeam {
            team: super::member::team_name(&team),
            posts: views.iter().filter(|p| p.team == team).cloned().collect(),
            members: config
                .members
                .iter()
                .filter(|m| m.team == team)
                .map(|m| MemberLink {
                    id: m.id.clone(),
                    name: one_line(&m.name),
                })
                .collect(),
            slug,
        })
        .collect()
}

/// Renders `index.html`.
pub fn render(templates: &Templates, page: &Page) -> Result<Vec<u8>, RenderError> {
    Ok(templates.render_text("index.html", page)?.into_bytes())
}
