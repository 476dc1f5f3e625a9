//! The weekly digest: which posts and rounds an ISO week holds, for whom, in which form.
//!
//! [`Week`] is an ISO week in the club's zone (Monday 00:00 to the next Monday 00:00). [`model`]
//! gathers what the digest of a week says — the week's new posts by team (non-history posts whose
//! effective time falls in the week, plus those first seen in the week that no other sent digest
//! carried, plus hand-recorded posts dated in the week), the rounds whose due date falls in the
//! week with counts, links to the merged feed and the page — and, for the operators' message,
//! the names of who missed and the feeds in trouble. The templates turn the model into HTML
//! email, plain text and Markdown; an empty week still gets a short, friendly message.

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDate, Utc, Weekday};
use chrono_tz::Tz;
use serde::Serialize;

use super::templates::Templates;
use super::view::{self, PostView, RoundView, TeamView, TroubleView, UnverifiedView};
use super::RenderError;
use crate::config::Config;
use crate::normalise::one_line;
use crate::rounds::{HandPost, Judgement};
use crate::store::{FeedHealth, StoredPost};
use crate::time::{local_date, local_midnight, HISTORY_AGE};

/// An ISO 8601 week, e.g. `2024-W46`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Week {
    /// ISO week-numbering year.
    pub year: i32,
    /// Week 1..=53.
    pub week: u32,
}

/// `--week` is not an ISO week.
#[derive(Debug, thiserror::Error)]
#[error("--week {0:?} is not an ISO week; write it as YYYY-Www, e.g. 2024-W46")]
pub struct BadWeek(String);

impl FromStr for Week {
    type Err = BadWeek;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadWeek(s.to_string());
        let t = s.trim().to_ascii_uppercase();
        let (year, week) = t
            .split_once("-W")
            .or_else(|| t.split_once('W'))
            .ok_or_else(bad)?;
        let year: i32 = year.parse().map_err(|_| bad())?;
        let week: u32 = week.parse().map_err(|_| bad())?;
        NaiveDate::from_isoywd_opt(year, week, Weekday::Mon).ok_or_else(bad)?;
        Ok(Week { year, week })
    }
}

impl fmt::Display for Week {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-W{:02}", self.year, self.week)
    }
}

impl Week {
    /// The ISO week holding a local date.
    pub fn of(d: NaiveDate) -> Week {
        let w = d.iso_week();
        Week {
            year: w.year(),
            week: w.week(),
        }
    }

    /// The last complete week before `now`, in the club's zone (the default of `digest`).
    pub fn last_complete(now: DateTime<Utc>, tz: Tz) -> Week {
        let today = now.with_timezone(&tz).date_naive();
        Week::of(view::monday_of(today) - chrono::Days::new(7))
    }

    /// The week's Monday (its first day).
    pub fn monday(&self) -> NaiveDate {
        NaiveDate::from_isoywd_opt(self.year, self.week, Weekday::Mon).unwrap_or_default()
    }

    /// The week's Sunday (its last day).
    pub fn sunday(&self) -> NaiveDate {
        self.monday() + chrono::Days::new(6)
    }

    /// `[Monday 00:00, next Monday 00:00)` in `tz`, as Unix seconds.
    pub fn bounds(&self, tz: Tz) -> (i64, i64) {
        let at = |d: NaiveDate| local_midnight(d, tz).timestamp();
        (at(self.monday()), at(self.monday() + chrono::Days::new(7)))
    }
}

/// Who a digest is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The group (`[email] to`).
    Members,
    /// The operators (`[email] operators`): names of who missed and feeds in trouble too.
    Operators,
}

impl Audience {
    /// Both, in sending order.
    pub const ALL: [Audience; 2] = [Audience::Members, Audience::Operators];

    /// `members` or `operators` (file names, the store).
    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Members => "members",
            Audience::Operators => "operators",
        }
    }
}

/// What a digest says. Serialised into the templates.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Digest {
    /// The club's name.
    pub club: String,
    /// The club's site.
    pub club_url: String,
    /// The merged feed.
    pub feed_url: String,
    /// The page (the folder of the feed).
    pub page_url: String,
    /// `2024-W46`.
    pub week: String,
    /// `11월 11일 (월) – 11월 17일 (일)`.
    pub period: String,
    /// The mail subject.
    pub subject: String,
    /// A one-line preview (the inbox's grey text).
    pub preheader: String,
    /// `members` or `operators`.
    pub audience: String,
    /// Whether this is the operators' message.
    pub operators: bool,
    /// New posts, counted.
    pub post_count: usize,
    /// New posts by team.
    pub teams: Vec<TeamView>,
    /// Rounds due in the week.
    pub rounds: Vec<RoundView>,
    /// Whether member names of who missed are shown (operators, or `show_missing`).
    pub show_names: bool,
    /// Feeds failing for more than 3 runs (operators only).
    pub trouble: Vec<TroubleView>,
    /// Closed rounds without evidence, with the feed and why (operators only).
    pub unverified: Vec<UnverifiedView>,
    /// Nothing happened this week.
    pub empty: bool,
    /// Local date the digest was made, `YYYY-MM-DD`.
    pub generated: String,
    /// Ids of the stored posts carried (recorded when sent).
    #[serde(skip)]
    pub post_ids: Vec<i64>,
}

/// Everything a digest is made from.
#[derive(Debug)]
pub struct Inputs<'a> {
    /// The validated config (roster, club, `[email] show_missing`).
    pub config: &'a Config,
    /// Every stored post.
    pub posts: &'a [StoredPost],
    /// The posts recorded by hand.
    pub hand: &'a [HandPost],
    /// Posts carried by sent digests of other weeks.
    pub already_sent: &'a HashSet<i64>,
    /// When the store's first fetch run completed: posts first seen by then came with their
    /// feed's whole history and are news only by their own date.
    pub first_run: Option<i64>,
    /// The round judgement at `now`.
    pub judgement: &'a Judgement,
    /// Every feed's health (the operators' message lists the feeds in trouble).
    pub health: &'a [FeedHealth],
    /// The run's `now`: round states and the digest's date.
    pub now: DateTime<Utc>,
}

/// The digest of `week` for `audience`.
pub fn model(inputs: &Inputs<'_>, week: Week, audience: Audience) -> Digest {
    let config = inputs.config;
    let posts = week_posts(inputs, week);
    let post_ids: Vec<i64> = posts.iter().filter_map(|p| p.id).collect();
    let post_count = posts.len();
    let teams = view::by_team(config, posts);
    let operators = audience == Audience::Operators;
    let show_names = operators || config.email.as_ref().is_some_and(|e| e.show_missing);
    let rounds: Vec<RoundView> = inputs
        .judgement
        .rounds
        .iter()
        .filter(|r| r.due >= week.monday() && r.due <= week.sunday())
        .map(|r| view::round_view(inputs.judgement, r, inputs.now, show_names))
        .collect();
    let (trouble, unverified) = if operators {
        (
            view::feeds_in_trouble(config, inputs.health),
            view::unverified(inputs.judgement),
        )
    } else {
        (Vec::new(), Vec::new())
    };
    let period = format!(
        "{} – {}",
        view::korean_date(week.monday()),
        view::korean_date(week.sunday())
    );
    let club = one_line(&config.club.name);
    let subject = match audience {
        Audience::Members => format!("[{club}] 이번 주 새 글 {post_count}편 · {week}"),
        Audience::Operators => format!("[{club}] 운영진 주간 점검 · {week}"),
    };
    let preheader = preheader(&period, &teams, post_count);
    let empty = post_count == 0 && rounds.is_empty() && trouble.is_empty() && unverified.is_empty();
    Digest {
        club,
        club_url: config.club.url.to_string(),
        feed_url: config.output.feed_url.to_string(),
        page_url: page_url(config),
        week: week.to_string(),
        period,
        subject,
        preheader,
        audience: audience.as_str().to_string(),
        operators,
        post_count,
        teams,
        rounds,
        show_names,
        trouble,
        unverified,
        empty,
        generated: local_date(inputs.now.timestamp(), config.club.timezone).to_string(),
        post_ids,
    }
}

/// The week's new posts, oldest first: non-history posts whose effective time falls in the
/// week, those first seen in the week (after the store's first run) that no other sent digest
/// carried, and the posts recorded by hand with a date in the week.
fn week_posts(inputs: &Inputs<'_>, week: Week) -> Vec<PostView> {
    let config = inputs.config;
    let (from, to) = week.bounds(config.club.timezone);
    let in_week = |t: i64| from <= t && t < to;
    let mut posts: Vec<PostView> = inputs
        .posts
        .iter()
        .filter(|p| !p.history)
        .filter(|p| {
            in_week(p.effective)
                || (in_week(p.first_seen)
                    && inputs.first_run.is_some_and(|first| p.first_seen > first)
                    && p.effective < to
                    // Posts first seen in the week are news only when they are not old: on a
                    // store's first run every post is first seen at once.
                    && p.effective >= from - HISTORY_AGE
                    && !inputs.already_sent.contains(&p.id))
        })
        .filter_map(|p| view::post_view(config, p))
        .collect();
    posts.extend(view::hand_post_views(
        config,
        inputs.hand,
        week.monday(),
        week.monday() + chrono::Days::new(7),
    ));
    posts.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.title.cmp(&b.title)));
    posts
}

/// The inbox's one-line preview: how many members wrote how many posts.
fn preheader(period: &str, teams: &[TeamView], post_count: usize) -> String {
    if post_count == 0 {
        return format!("{period}: 이번 주에는 새 글이 없었어요.");
    }
    let authors: HashSet<&str> = teams
        .iter()
        .flat_map(|t| t.posts.iter().map(|p| p.member.as_str()))
        .collect();
    format!(
        "{period}: {}명이 새 글 {post_count}편을 올렸어요.",
        authors.len()
    )
}

/// The page's address: the folder of the merged feed.
pub fn page_url(config: &Config) -> String {
    config
        .output
        .feed_url
        .join("./")
        .map(|u| u.to_string())
        .unwrap_or_else(|_| config.output.feed_url.to_string())
}

/// How sending one audience's digest ended.
#[derive(Debug)]
pub enum SendOutcome {
    /// Accepted by the server and recorded.
    Sent {
        /// The audience it went to.
        audience: Audience,
        /// How many recipients it was addressed to.
        recipients: usize,
    },
    /// Already sent for this week (and no `--force`): not sent again.
    AlreadySent {
        /// The audience it went to before.
        audience: Audience,
        /// When it was sent (Unix seconds).
        sent_at: i64,
    },
    /// No recipients configured for this audience.
    NoRecipients(Audience),
    /// The server refused or could not be reached; nothing recorded.
    Failed {
        /// The audience it did not reach.
        audience: Audience,
        /// What went wrong, naming the server.
        error: crate::mail::MailError,
    },
}

/// A digest format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// HTML email (inline CSS, light and dark).
    Html,
    /// Plain text, the email's alternative part.
    Text,
    /// Markdown, for chat or Notion.
    Markdown,
}

impl Format {
    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Html => "html",
            Format::Text => "txt",
            Format::Markdown => "md",
        }
    }
}

/// Renders a digest in one format.
pub fn render(
    templates: &Templates,
    digest: &Digest,
    format: Format,
) -> Result<String, RenderError> {
    let name = format!("digest.{}", format.extension());
    templates.render_text(&name, digest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn weeks_parse_print_and_bound_in_the_club_zone() {
        let w: Week = "2024-W46".parse().unwrap();
        assert_eq!(w.to_string(), "2024-W46");
        assert_eq!(w.monday(), NaiveDate::from_ymd_opt(2024, 11, 11).unwrap());
        assert_eq!(w.sunday(), NaiveDate::from_ymd_opt(2024, 11, 17).unwrap());
        assert_eq!("2024w46".parse::<Week>().unwrap(), w);
        assert!("2024-W54".parse::<Week>().is_err());
        assert!("2024-46".parse::<Week>().is_err());
        let tz: Tz = "Asia/Seoul".parse().unwrap();
        let (from, to) = w.bounds(tz);
        // Monday 00:00 KST is Sunday 15:00 UTC.
        assert_eq!(
            from,
            Utc.with_ymd_and_hms(2024, 11, 10, 15, 0, 0)
                .unwrap()
                .timestamp()
        );
        assert_eq!(to - from, 7 * 86400);
    }

    #[test]
    fn the_default_week_is_the_last_complete_one_in_the_club_zone() {
        let tz: Tz = "Asia/Seoul".parse().unwrap();
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        // Wednesday of W47 → W46.
        assert_eq!(
            Week::last_complete(at("2024-11-20T12:00:00+09:00"), tz).to_string(),
            "2024-W46"
        );
        // Monday 00:30 KST is still Sunday in UTC: the zone decides (W47 has begun → W46).
        assert_eq!(
            Week::last_complete(at("2024-11-18T00:30:00+09:00"), tz).to_string(),
            "2024-W46"
        );
        // Sunday 23:59 KST: W46 is not complete yet → W45.
        assert_eq!(
            Week::last_complete(at("2024-11-17T23:59:00+09:00"), tz).to_string(),
            "2024-W45"
        );
        // Across a year: 2025-01-01 is in 2025-W01 → 2024-W52.
        assert_eq!(
            Week::last_complete(at("2025-01-01T09:00:00+09:00"), tz).to_string(),
            "2024-W52"
        );
    }
}
