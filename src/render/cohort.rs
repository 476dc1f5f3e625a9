//! `cohort.html`: the cohort's retrospective, once its last round has closed.
//!
//! Every member's posts of the cohort by team (members without a post are not listed: the page
//! is public and never says who missed), who submitted every round they were judged in (완주),
//! the cohort's totals — posts, characters, the median length, posts per round — the posts per
//! round, and the longest posts. The model is plain data that serialises both ways: the build
//! keeps it in the store once the last round's evidence is in, so later runs write the same page
//! ([`crate::pipeline`]'s views job decides when).

use chrono::Datelike;
use serde::{Deserialize, Serialize};

use super::member::{post_line, team_name, PostLine};
use super::slug::team_slugs;
use super::templates::Templates;
use super::view::{korean_date, korean_day, thousands};
use super::RenderError;
use crate::config::Config;
use crate::normalise::one_line;
use crate::rounds::{Judgement, MemberReport};
use crate::status::Status;

/// How many of the longest posts the page shows.
pub const LONGEST: usize = 5;

/// A member's part of the retrospective.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CohortMember {
    /// The member's id (their page is `members/<id>.html`).
    pub id: String,
    /// The member's display name.
    pub name: String,
    /// Submitted every round they were judged in.
    pub finished: bool,
    /// Their characters, `12,345` (empty when no length is known).
    pub chars: String,
    /// Their posts of the cohort, oldest first.
    pub posts: Vec<PostLine>,
}

/// A team's members with posts.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CohortTeam {
    /// The team's name as shown.
    pub team: String,
    /// Its slug.
    pub slug: String,
    /// Members with at least one post, roster order.
    pub members: Vec<CohortMember>,
}

/// One of the longest posts.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LongPost {
    /// The author's id.
    pub member: String,
    /// The author's name.
    pub author: String,
    /// The post.
    pub post: PostLine,
}

/// Posts in one round.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RoundCount {
    /// The round's number.
    pub number: u32,
    /// Its due date, `11월 24일 (일)`.
    pub due: String,
    /// Posts dated in it.
    pub posts: usize,
}

/// What `cohort.html` shows.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CohortPage {
    /// The club's name.
    pub club: String,
    /// The club's site.
    pub club_url: String,
    /// First day of round 1, `2024년 9월 30일`.
    pub first_day: String,
    /// The last due date, `2025년 1월 5일 (일)`.
    pub last_day: String,
    /// Rounds in the cohort.
    pub rounds: usize,
    /// Members on the roster when the page was made.
    pub members: usize,
    /// Members with at least one post.
    pub writers: usize,
    /// Posts of the cohort.
    pub posts: usize,
    /// The characters of the posts whose length is known, `123,456`.
    pub chars: String,
    /// Posts whose length is known (what `chars` and `median` count).
    pub measured: usize,
    /// The median length of the posts whose length is known, `2,345자` (empty when none).
    pub median: String,
    /// Posts per round, one decimal: `4.5`.
    pub per_round: String,
    /// Posts in each round.
    pub round_counts: Vec<RoundCount>,
    /// Members who submitted every round they were judged in (완주), roster order.
    pub finishers: Vec<CohortMember>,
    /// The longest posts, longest first.
    pub longest: Vec<LongPost>,
    /// Every member's posts, by team.
    pub teams: Vec<CohortTeam>,
}

/// Submitted (late included) in every round the member was judged in, and judged in one at least.
fn finished(rounds: &[crate::rounds::Verdict]) -> bool {
    let judged: Vec<_> = rounds
        .iter()
        .filter(|v| v.status != Status::Exempt)
        .collect();
    !judged.is_empty()
        && judged
            .iter()
            .all(|v| matches!(v.status, Status::Submitted | Status::Late))
}

/// The median of sorted lengths (the mean of the middle two for an even count, rounded down).
fn median(sorted: &[u64]) -> Option<u64> {
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2),
    }
}

/// A member's part of the retrospective: their posts, their characters, whether they finished.
fn cohort_member(config: &Config, m: &MemberReport) -> CohortMember {
    let posts: Vec<PostLine> = m
        .rounds
        .iter()
        .flat_map(|v| v.posts.iter().map(|p| post_line(config, p, v.round)))
        .collect();
    let chars: u64 = posts.iter().filter_map(|p| p.chars).sum();
    CohortMember {
        id: m.id.clone(),
        name: one_line(&m.name),
        finished: finished(&m.rounds),
        chars: if chars > 0 {
            thousands(chars)
        } else {
            String::new()
        },
        posts,
    }
}

/// The longest posts of `all` (length known), longest first, ties by date then title.
fn longest(all: &[LongPost]) -> Vec<LongPost> {
    let mut longest: Vec<LongPost> = all
        .iter()
        .filter(|p| p.post.chars.is_some())
        .cloned()
        .collect();
    longest.sort_by(|a, b| {
        b.post
            .chars
            .cmp(&a.post.chars)
            .then_with(|| a.post.iso_date.cmp(&b.post.iso_date))
            .then_with(|| a.post.title.cmp(&b.post.title))
    });
    longest.truncate(LONGEST);
    longest
}

/// The cohort's members by team (those with posts), every post of the cohort, and who
/// submitted every round (in roster order).
fn by_team(
    config: &Config,
    judgement: &Judgement,
) -> (Vec<CohortTeam>, Vec<LongPost>, Vec<CohortMember>) {
    let mut all: Vec<LongPost> = Vec::new();
    let mut teams: Vec<CohortTeam> = Vec::new();
    let mut finishers = Vec::new();
    for (team, slug) in team_slugs(config) {
        let mut members = Vec::new();
        for m in judgement.members.iter().filter(|m| m.team == team) {
            let member = cohort_member(config, m);
            all.extend(member.posts.iter().map(|p| LongPost {
                member: member.id.clone(),
                author: member.name.clone(),
                post: p.clone(),
            }));
            if member.finished {
                finishers.push(CohortMember {
                    posts: Vec::new(),
                    ..member.clone()
                });
            }
            if !member.posts.is_empty() {
                members.push(member);
            }
        }
        if !members.is_empty() {
            teams.push(CohortTeam {
                team: team_name(&team),
                slug,
                members,
            });
        }
    }
    // Finishers in roster order, whatever their team.
    let order = |id: &str| judgement.members.iter().position(|m| m.id == id);
    finishers.sort_by_key(|f| order(&f.id));
    (teams, all, finishers)
}

/// The retrospective of the judged cohort.
pub fn model(config: &Config, judgement: &Judgement) -> CohortPage {
    let (teams, all, finishers) = by_team(config, judgement);
    let mut lengths: Vec<u64> = all.iter().filter_map(|p| p.post.chars).collect();
    lengths.sort_unstable();
    let chars: u64 = lengths.iter().sum();
    let rounds = judgement.rounds.len();
    let round_counts = judgement
        .rounds
        .iter()
        .map(|r| RoundCount {
            number: r.number,
            due: korean_date(r.due),
            posts: all.iter().filter(|p| p.post.round == r.number).count(),
        })
        .collect();
    let per_round = if rounds == 0 {
        "0".to_string()
    } else {
        format!("{:.1}", all.len() as f64 / rounds as f64)
    };
    CohortPage {
        club: one_line(&config.club.name),
        club_url: config.club.url.to_string(),
        first_day: judgement
            .rounds
            .first()
            .map(|r| format!("{}년 {}", r.opens.year(), korean_day(r.opens)))
            .unwrap_or_default(),
        last_day: judgement
            .rounds
            .last()
            .map(|r| format!("{}년 {}", r.due.year(), korean_date(r.due)))
            .unwrap_or_default(),
        rounds,
        members: judgement.members.len(),
        writers: teams.iter().map(|t| t.members.len()).sum(),
        posts: all.len(),
        chars: thousands(chars),
        measured: lengths.len(),
        median: median(&lengths)
            .map(|m| format!("{}자", thousands(m)))
            .unwrap_or_default(),
        per_round,
        round_counts,
        finishers,
        longest: longest(&all),
        teams,
    }
}

/// Renders `cohort.html`.
pub fn render(templates: &Templates, page: &CohortPage) -> Result<Vec<u8>, RenderError> {
    Ok(templates.render_text("cohort.html", page)?.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_is_the_middle_length_or_the_mean_of_the_middle_two() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[5]), Some(5));
        assert_eq!(median(&[1, 3, 10]), Some(3));
        assert_eq!(median(&[1, 3, 10, 20]), Some(6));
    }
}
