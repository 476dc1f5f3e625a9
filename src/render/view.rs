//! What the page and the digest show of posts, rounds and feeds: plain values for the templates.
//!
//! Everything here is text the templates escape: titles and excerpts are plain text, links are
//! absolute `http(s)` URLs or absent (a `javascript:` or relative link never becomes an `href`),
//! and dates are written in Korean in the club's zone.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::Serialize;

use crate::config::Config;
use crate::health;
use crate::normalise::{one_line, truncate_chars};
use crate::rounds::{HandPost, Judgement, Round, RoundState};
use crate::status::Status;
use crate::store::{FeedHealth, StoredPost};
use crate::time::{local_date, local_midnight};

/// Characters of the excerpt shown under a title.
pub const EXCERPT_CHARS: usize = 200;
/// Reading speed for Korean prose, characters (without spaces) per minute.
pub const CHARS_PER_MINUTE: i64 = 500;

/// One post as shown.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PostView {
    /// Store row id (absent for posts recorded by hand).
    #[serde(skip)]
    pub id: Option<i64>,
    /// Effective time, for ordering.
    #[serde(skip)]
    pub at: i64,
    /// The title as plain text (`(제목 없음)` when the feed gave none).
    pub title: String,
    /// Member's display name.
    pub author: String,
    /// The author's member id.
    pub member: String,
    /// The author's team.
    pub team: String,
    /// The original post, when it is an absolute http(s) URL.
    pub link: Option<String>,
    /// About 200 characters of plain text.
    pub excerpt: String,
    /// Estimated minutes to read, when the length is known.
    pub minutes: Option<i64>,
    /// Local date, e.g. `11월 14일 (목)`.
    pub date: String,
    /// Local date, `YYYY-MM-DD`.
    pub iso_date: String,
    /// Recorded by hand in `extra_posts` (no feed).
    pub extra: bool,
}

/// Posts of one team.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TeamView {
    /// Team name (`팀 미지정` when empty).
    pub team: String,
    /// The team's posts, in the order given.
    pub posts: Vec<PostView>,
}

/// A round's progress as counts (and names where the audience may see them).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RoundView {
    /// The round's number (1-based).
    pub number: u32,
    /// Local opening date, e.g. `11월 11일`.
    pub opens: String,
    /// Local due date, e.g. `11월 24일 (일)`.
    pub due: String,
    /// `open`, `closed` or `upcoming`.
    pub state: String,
    /// Members judged (not exempt).
    pub members: usize,
    /// Submitted, late included.
    pub submitted: usize,
    /// Members who used a pass on it.
    pub pass: usize,
    /// Missed, short included.
    pub missed: usize,
    /// Not decided yet (round open).
    pub pending: usize,
    /// Closed without evidence either way (a feed not read since the close): not charged.
    pub unverified: usize,
    /// Names of members who missed (empty unless shown to this audience).
    pub missed_names: Vec<String>,
    /// Names of members whose only posts were short.
    pub short_names: Vec<String>,
    /// Names of members whose post appeared late, dated back (an operator decides).
    pub late_names: Vec<String>,
    /// Names of members who passed.
    pub pass_names: Vec<String>,
    /// Names of members whose round is unverified.
    pub unverified_names: Vec<String>,
    /// Percentage submitted of those judged, for a progress bar.
    pub percent: usize,
}

/// A feed in trouble: failing for more than [`health::TROUBLE_AFTER_FAILURES`] runs.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TroubleView {
    /// The owner's member id.
    pub member: String,
    /// The owner's display name.
    pub name: String,
    /// The feed (URL or path).
    pub feed: String,
    /// Failures in a row.
    pub failures: u32,
    /// The last error, in words.
    pub error: String,
    /// Last success as a local date, or `없음`.
    pub last_success: String,
    /// The feed is a local file (its error names paths of this machine).
    #[serde(skip)]
    pub local: bool,
}

const WEEKDAYS: [&str; 7] = ["월", "화", "수", "목", "금", "토", "일"];

/// `11월 14일 (목)`.
pub fn korean_date(d: NaiveDate) -> String {
    format!(
        "{}월 {}일 ({})",
        d.month(),
        d.day(),
        WEEKDAYS[d.weekday().num_days_from_monday() as usize]
    )
}

/// `11월 14일`.
pub fn korean_day(d: NaiveDate) -> String {
    format!("{}월 {}일", d.month(), d.day())
}

/// A number with thousands separators: `12,345`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Minutes to read `chars` characters (without spaces), at least one; `None` when unknown or 0.
pub fn reading_minutes(chars: Option<u64>) -> Option<i64> {
    chars
        .filter(|c| *c > 0)
        .map(|c| ((c as i64 + CHARS_PER_MINUTE - 1) / CHARS_PER_MINUTE).max(1))
}

/// An absolute http(s) link in ASCII form, or nothing.
pub fn web_link(s: Option<&str>) -> Option<String> {
    s.and_then(super::atom::ascii_link)
}

/// A stored post as shown, or `None` when its member left the roster.
pub fn post_view(config: &Config, p: &StoredPost) -> Option<PostView> {
    let member = config.member(&p.member_id)?;
    let tz = config.club.timezone;
    let date = local_date(p.effective, tz);
    let title = one_line(&p.title);
    let excerpt = truncate_chars(&one_line(&p.summary), EXCERPT_CHARS);
    let excerpt = if excerpt == title {
        String::new()
    } else {
        excerpt
    };
    Some(PostView {
        id: Some(p.id),
        at: p.effective,
        title: if title.is_empty() {
            "(제목 없음)".to_string()
        } else {
            title
        },
        author: member.name.clone(),
        member: member.id.clone(),
        team: member.team.clone(),
        link: web_link(p.link.as_deref()),
        excerpt,
        minutes: reading_minutes(p.chars.and_then(|c| u64::try_from(c).ok())),
        date: korean_date(date),
        iso_date: date.to_string(),
        extra: false,
    })
}

/// Posts recorded by hand (`extra_posts`, with what their pages gave) dated in `[from, to)`
/// local dates, of members still on the roster.
pub fn hand_post_views(
    config: &Config,
    hand: &[HandPost],
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<PostView> {
    let tz = config.club.timezone;
    hand.iter()
        .filter(|h| h.date >= from && h.date < to)
        .filter_map(|h| {
            let m = config.member(&h.member_id)?;
            Some(PostView {
                id: None,
                at: local_midnight(h.date, tz).timestamp(),
                title: if h.title.trim().is_empty() {
                    h.url.to_string()
                } else {
                    one_line(&h.title)
                },
                author: m.name.clone(),
                member: m.id.clone(),
                team: m.team.clone(),
                link: web_link(Some(h.url.as_str())),
                excerpt: String::new(),
                minutes: reading_minutes(h.chars),
                date: korean_date(h.date),
                iso_date: h.date.to_string(),
                extra: true,
            })
        })
        .collect()
}

/// Groups posts by team, teams in roster order (first member of each team), keeping the order
/// of posts given.
pub fn by_team(config: &Config, posts: Vec<PostView>) -> Vec<TeamView> {
    let mut order: Vec<String> = Vec::new();
    for m in &config.members {
        if !order.contains(&m.team) {
            order.push(m.team.clone());
        }
    }
    let mut teams: Vec<TeamView> = Vec::new();
    for team in order {
        let posts: Vec<PostView> = posts.iter().filter(|p| p.team == team).cloned().collect();
        if !posts.is_empty() {
            teams.push(TeamView {
                team: if team.trim().is_empty() {
                    "팀 미지정".to_string()
                } else {
                    team
                },
                posts,
            });
        }
    }
    teams
}

/// A round's counts; names are filled only when `names` is true.
pub fn round_view(
    judgement: &Judgement,
    round: &Round,
    now: DateTime<Utc>,
    names: bool,
) -> RoundView {
    let mut v = RoundView {
        number: round.number,
        opens: korean_day(round.opens),
        due: korean_date(round.due),
        state: round.state(now).as_str().to_string(),
        members: 0,
        submitted: 0,
        pass: 0,
        missed: 0,
        pending: 0,
        missed_names: Vec::new(),
        short_names: Vec::new(),
        late_names: Vec::new(),
        pass_names: Vec::new(),
        unverified: 0,
        unverified_names: Vec::new(),
        percent: 0,
    };
    for m in &judgement.members {
        let Some(verdict) = m.rounds.iter().find(|r| r.round == round.number) else {
            continue;
        };
        let name = || m.name.clone();
        match verdict.status {
            Status::Exempt => continue,
            Status::Submitted => v.submitted += 1,
            Status::Late => {
                v.submitted += 1;
                if names {
                    v.late_names.push(name());
                }
            }
            Status::Pass => {
                v.pass += 1;
                if names {
                    v.pass_names.push(name());
                }
            }
            Status::Short => {
                v.missed += 1;
                if names {
                    v.short_names.push(name());
                }
            }
            Status::Missed => {
                v.missed += 1;
                if names {
                    v.missed_names.push(name());
                }
            }
            Status::Unverified => {
                v.unverified += 1;
                if names {
                    v.unverified_names.push(name());
                }
            }
            Status::Pending => v.pending += 1,
        }
        v.members += 1;
    }
    v.percent = (v.submitted * 100).checked_div(v.members).unwrap_or(0);
    v
}

/// A member's closed round without evidence, for the operators: which feed and why.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct UnverifiedView {
    /// The member's id.
    pub member: String,
    /// The member's display name.
    pub name: String,
    /// The round's number.
    pub round: u32,
    /// The feed without evidence (URL or path; the blog when the member has no feed).
    pub feed: String,
    /// Why, in words.
    pub why: String,
}

/// Every unverified verdict of the rounds that closed by `now`, oldest round first.
pub fn unverified(judgement: &Judgement) -> Vec<UnverifiedView> {
    let mut out = Vec::new();
    for m in &judgement.members {
        for v in &m.rounds {
            for u in &v.unread {
                out.push(UnverifiedView {
                    member: m.id.clone(),
                    name: m.name.clone(),
                    round: v.round,
                    feed: u.feed.clone(),
                    why: one_line(&u.why),
                });
            }
        }
    }
    out.sort_by(|a, b| a.round.cmp(&b.round).then_with(|| a.member.cmp(&b.member)));
    out
}

/// Whether a round is open at `now`.
pub fn is_open(round: &Round, now: DateTime<Utc>) -> bool {
    round.state(now) == RoundState::Open
}

/// Feeds of roster members in trouble (see [`health::in_trouble`]), most failures first.
pub fn feeds_in_trouble(config: &Config, health: &[FeedHealth]) -> Vec<TroubleView> {
    let tz = config.club.timezone;
    let mut out: Vec<TroubleView> = health
        .iter()
        .filter(|h| health::in_trouble(&h.row))
        .filter_map(|h| {
            let member = config.member(&h.row.member_id)?;
            let listed = member.feeds.contains(&h.row.source);
            listed.then(|| TroubleView {
                member: member.id.clone(),
                name: member.name.clone(),
                feed: h.row.source.label(),
                local: !h.row.source.is_url(),
                failures: h.row.consecutive_failures,
                error: one_line(h.last_error.as_deref().unwrap_or("")),
                last_success: h
                    .last_success
                    .map(|t| local_date(t, tz).to_string())
                    .unwrap_or_else(|| "없음".to_string()),
            })
        })
        .collect();
    out.sort_by(|a, b| {
        b.failures
            .cmp(&a.failures)
            .then_with(|| a.member.cmp(&b.member))
            .then_with(|| a.feed.cmp(&b.feed))
    });
    out
}

/// Monday of the ISO week holding `d`.
pub fn monday_of(d: NaiveDate) -> NaiveDate {
    d - chrono::Days::new(u64::from(d.weekday().num_days_from_monday()))
}
