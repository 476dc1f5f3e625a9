//! `members/<id>.html`: one member's cohort, round by round.
//!
//! Each round opened so far, with its posts (title, link, date, length, reading time) and a
//! status chip; the current streak of rounds submitted in a row and the longest
//! ([`crate::rounds::streak`]); the member's totals. The page is public: `missed`, `short` and
//! `unverified` are shown only with `[output] show_statuses = true` — otherwise such a round has
//! no chip and no missed count appears (a short round still lists its post: it is on the
//! member's own blog). Built from the judgement alone, so the same store and `--now` give the
//! same bytes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::templates::Templates;
use super::view::{korean_date, korean_day, reading_minutes, thousands, web_link};
use super::RenderError;
use crate::config::Config;
use crate::normalise::one_line;
use crate::rounds::{self, MemberReport, PostFacts, RoundState};
use crate::status::Status;
use crate::time::local_date;

/// One post as the member and cohort pages list it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PostLine {
    /// The title as plain text (the address when the post has none).
    pub title: String,
    /// The post, when its link is an absolute http(s) URL.
    pub link: Option<String>,
    /// Local date, e.g. `11월 14일 (목)`.
    pub date: String,
    /// Local date, `YYYY-MM-DD`.
    pub iso_date: String,
    /// Characters without whitespace, when known.
    pub chars: Option<u64>,
    /// `1,234자`, or empty when unknown.
    pub length: String,
    /// Minutes to read, when the length is known.
    pub minutes: Option<i64>,
    /// The round it counts for.
    pub round: u32,
}

/// One round of the member's page.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MemberRound {
    /// The round's number.
    pub number: u32,
    /// `11월 11일`.
    pub opens: String,
    /// `11월 24일 (일)`.
    pub due: String,
    /// `open` or `closed`.
    pub state: String,
    /// The status's machine name (a CSS class), or empty when the page does not show it.
    pub status: String,
    /// The status chip's words, or empty when the page does not show it.
    pub label: String,
    /// The round's posts, oldest first.
    pub posts: Vec<PostLine>,
}

/// What `members/<id>.html` shows.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MemberPage {
    /// The club's name.
    pub club: String,
    /// The club's site.
    pub club_url: String,
    /// The member's id.
    pub id: String,
    /// The member's display name.
    pub name: String,
    /// The member's team (`팀 미지정` when empty).
    pub team: String,
    /// The team's slug (its feed and its section on the page).
    pub team_slug: String,
    /// The member's blog, when it is an absolute http(s) URL.
    pub blog: Option<String>,
    /// Rounds opened so far, newest first.
    pub rounds: Vec<MemberRound>,
    /// Rounds submitted in a row, up to the latest round judged.
    pub streak: u32,
    /// The longest such run of the cohort.
    pub longest_streak: u32,
    /// Rounds submitted (late included).
    pub submitted: u32,
    /// Passes used.
    pub passes: u32,
    /// Rounds missed (short included), only with `show_statuses`.
    pub missed: Option<u32>,
    /// Posts in the cohort's rounds.
    pub posts: usize,
    /// Their characters, `12,345` (empty when no length is known).
    pub chars: String,
    /// Minutes to read them all.
    pub minutes: i64,
    /// Whether the cohort's retrospective (`cohort.html`) is out.
    pub cohort_closed: bool,
}

/// The words of a status chip, or `None` when a public page must not show it.
pub fn status_label(status: Status, show_statuses: bool) -> Option<&'static str> {
    let label = match status {
        Status::Submitted => "제출",
        Status::Late => "늦게 확인",
        Status::Pass => "패스",
        Status::Pending => "진행 중",
        Status::Exempt => "해당 없음",
        Status::Short if show_statuses => "짧은 글",
        Status::Missed if show_statuses => "미제출",
        Status::Unverified if show_statuses => "확인 중",
        Status::Short | Status::Missed | Status::Unverified => return None,
    };
    Some(label)
}

/// A judged post as listed.
pub fn post_line(config: &Config, p: &PostFacts, round: u32) -> PostLine {
    let date = local_date(p.effective.timestamp(), config.club.timezone);
    let title = one_line(&p.title);
    let title = match (title.is_empty(), &p.url) {
        (false, _) => title,
        (true, Some(url)) => url.clone(),
        (true, None) => "(제목 없음)".to_string(),
    };
    PostLine {
        title,
        link: web_link(p.url.as_deref()),
        date: korean_date(date),
        iso_date: date.to_string(),
        chars: p.chars,
        length: p
            .chars
            .map(|c| format!("{}자", thousands(c)))
            .unwrap_or_default(),
        minutes: reading_minutes(p.chars),
        round,
    }
}

/// The page of one member of the judgement, at `now`; `team_slug` is the slug of the member's
/// team (`slug::team_slugs`, taken once for the whole roster: a slug depends on every team).
pub fn model(
    config: &Config,
    judgement: &rounds::Judgement,
    member: &MemberReport,
    team_slug: String,
    now: DateTime<Utc>,
) -> MemberPage {
    let show = config.output.show_statuses;
    let mut shown = Vec::new();
    let mut lines = Vec::new();
    for (round, verdict) in judgement.rounds.iter().zip(&member.rounds) {
        let state = round.state(now);
        if state == RoundState::Upcoming {
            continue;
        }
        let posts: Vec<PostLine> = verdict
            .posts
            .iter()
            .map(|p| post_line(config, p, round.number))
            .collect();
        lines.extend(posts.iter().cloned());
        let label = status_label(verdict.status, show);
        shown.push(MemberRound {
            number: round.number,
            opens: korean_day(round.opens),
            due: korean_date(round.due),
            state: state.as_str().to_string(),
            status: label
                .map(|_| verdict.status.as_str().to_string())
                .unwrap_or_default(),
            label: label.unwrap_or_default().to_string(),
            posts,
        });
    }
    shown.reverse();
    let streak = rounds::streak(&member.rounds);
    let chars: u64 = lines.iter().filter_map(|p| p.chars).sum();
    let last_closed = judgement
        .rounds
        .last()
        .is_some_and(|r| r.state(now) == RoundState::Closed);
    MemberPage {
        club: one_line(&config.club.name),
        club_url: config.club.url.to_string(),
        id: member.id.clone(),
        name: one_line(&member.name),
        team: team_name(&member.team),
        team_slug,
        blog: config
            .member(&member.id)
            .and_then(|m| m.blog.as_ref())
            .and_then(|b| web_link(Some(b.as_str()))),
        rounds: shown,
        streak: streak.current,
        longest_streak: streak.longest,
        submitted: member.totals.submitted,
        passes: member.totals.passes,
        missed: show.then_some(member.totals.missed),
        posts: lines.len(),
        chars: if chars > 0 {
            thousands(chars)
        } else {
            String::new()
        },
        minutes: reading_minutes(Some(chars)).unwrap_or(0),
        cohort_closed: last_closed,
    }
}

/// A team's name as shown: `팀 미지정` for none.
pub fn team_name(team: &str) -> String {
    if team.trim().is_empty() {
        "팀 미지정".to_string()
    } else {
        one_line(team)
    }
}

/// Renders a member's page.
pub fn render(templates: &Templates, page: &MemberPage) -> Result<Vec<u8>, RenderError> {
    Ok(templates.render_text("member.html", page)?.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_public_page_names_missed_short_and_unverified_only_when_allowed() {
        for status in Status::ALL {
            let hidden = matches!(status, Status::Missed | Status::Short | Status::Unverified);
            assert_eq!(status_label(status, false).is_none(), hidden, "{status}");
            assert!(status_label(status, true).is_some(), "{status}");
        }
    }
}
