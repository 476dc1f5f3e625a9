//! The reminder before a round closes: which round, how long is left, and who has not posted
//! yet, by team — the model every channel (chat, direct messages, mail, the terminal) renders.
//!
//! [`which_round`] picks the round to remind of: the one `--round` names (it must be open), or
//! else the open round when it closes within `[chat] remind_before` — so a `remind` run daily
//! by cron does nothing on the other days. [`model`] lists the members still `pending` in it:
//! never one who posted (even a short post), passed, or is exempt. Names and ids come from the
//! roster; nothing here comes from a feed.

use std::time::Duration;

use chrono::{DateTime, Timelike, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::view::korean_date;
use crate::config::Config;
use crate::normalise::one_line;
use crate::rounds::{Judgement, Round, RoundState};
use crate::status::Status;
use crate::time::rfc3339;

/// Who the reminder is about, and when the round closes.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Reminder {
    /// The club's name (plain text).
    pub club: String,
    /// The round's number.
    pub round: u32,
    /// Its due date, e.g. `11월 24일 (일)`.
    pub due: String,
    /// The instant it closes, RFC 3339 in the club's zone.
    pub closes_at: String,
    /// The close as a person reads it, e.g. `11월 24일 (일) 24:00`.
    pub closes: String,
    /// Time left until the close, e.g. `1일 5시간` or `23시간 12분`.
    pub time_left: String,
    /// Members judged in the round (not exempt).
    pub judged: usize,
    /// Members still pending, counted.
    pub pending: usize,
    /// The pending members by team, teams in roster order.
    pub teams: Vec<RemindTeam>,
    /// The club's page (where the round's progress is shown).
    pub page_url: String,
}

/// The pending members of one team.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RemindTeam {
    /// The team's name (`팀 미지정` when empty).
    pub team: String,
    /// Its pending members, in roster order.
    pub members: Vec<PendingMember>,
}

/// A member who has not posted in the round yet.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PendingMember {
    /// The member's id.
    pub id: String,
    /// Display name (plain text).
    pub name: String,
    /// Slack user id, mentioned as `<@U…>` in Slack.
    pub slack_id: Option<String>,
    /// The member's own address for the reminder mail.
    #[serde(skip)]
    pub email: Option<String>,
}

/// What a reminder run delivered: the operators' channel hears the count.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Tally {
    /// The round.
    pub round: u32,
    /// Pending members reminded (named in the channel, or messaged, or mailed).
    pub reminded: usize,
    /// Members judged in the round (not exempt).
    pub judged: usize,
    /// Direct messages accepted.
    pub direct: usize,
    /// Mails accepted.
    pub mails: usize,
}

impl Tally {
    /// `5회차 리마인드: 412명 중 23명 (DM 20명, 메일 15명)`.
    pub fn text(&self) -> String {
        format!(
            "{}회차 리마인드: {}명 중 {}명 (DM {}명, 메일 {}명)",
            self.round, self.judged, self.reminded, self.direct, self.mails
        )
    }
}

/// No round to remind of.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoRound {
    /// Nothing closes within the window (the usual day of a daily cron).
    #[error("no round closes within {window}{next}; nothing to remind (run with --round N to remind of an open round anyway)")]
    NotYet {
        /// The window, e.g. `30h`.
        window: String,
        /// The next close, e.g. `: round 5 closes 11월 24일 (일) 24:00, in 4일 2시간`.
        next: String,
    },
    /// `--round N` names a round that does not exist.
    #[error("round {0} does not exist; rounds are 1..={1}")]
    Unknown(u32, usize),
    /// `--round N` names a round that is not open.
    #[error(
        "round {round} is {state} (it closes {closes}); only an open round can be reminded of"
    )]
    NotOpen {
        /// The round.
        round: u32,
        /// `closed` or `upcoming`.
        state: &'static str,
        /// When it closes.
        closes: String,
    },
}

/// The round to remind of at `now`: `asked`, or the open one closing within `window`.
pub fn which_round(
    rounds: &[Round],
    asked: Option<u32>,
    window: Duration,
    now: DateTime<Utc>,
    tz: Tz,
) -> Result<&Round, NoRound> {
    if let Some(n) = asked {
        let round = rounds
            .iter()
            .find(|r| r.number == n)
            .ok_or(NoRound::Unknown(n, rounds.len()))?;
        return match round.state(now) {
            RoundState::Open => Ok(round),
            state => Err(NoRound::NotOpen {
                round: n,
                state: state.as_str(),
                closes: closes(round, tz),
            }),
        };
    }
    let open = rounds.iter().find(|r| r.state(now) == RoundState::Open);
    let window_text = window_words(window);
    match open {
        Some(r)
            if (r.closes_at - now)
                .to_std()
                .is_ok_and(|left| left <= window) =>
        {
            Ok(r)
        }
        Some(r) => Err(NoRound::NotYet {
            window: window_text,
            next: format!(
                ": round {} closes {}, in {}",
                r.number,
                closes(r, tz),
                time_left(r.closes_at, now)
            ),
        }),
        None => Err(NoRound::NotYet {
            window: window_text,
            next: String::new(),
        }),
    }
}

/// The reminder of `round`: its pending members by team.
pub fn model(
    config: &Config,
    judgement: &Judgement,
    round: &Round,
    now: DateTime<Utc>,
) -> Reminder {
    let tz = config.club.timezone;
    let index = round.number as usize - 1;
    let mut teams: Vec<RemindTeam> = Vec::new();
    let mut judged = 0;
    for report in &judgement.members {
        let Some(verdict) = report.rounds.get(index) else {
            continue;
        };
        if verdict.status != Status::Exempt {
            judged += 1;
        }
        if verdict.status != Status::Pending {
            continue;
        }
        let member = config.member(&report.id);
        let pending = PendingMember {
            id: report.id.clone(),
            name: one_line(&report.name),
            slack_id: member.and_then(|m| m.slack_id.clone()),
            email: member.and_then(|m| m.email.clone()),
        };
        let team = if report.team.trim().is_empty() {
            "팀 미지정".to_string()
        } else {
            one_line(&report.team)
        };
        match teams.iter_mut().find(|t| t.team == team) {
            Some(t) => t.members.push(pending),
            None => teams.push(RemindTeam {
                team,
                members: vec![pending],
            }),
        }
    }
    Reminder {
        club: one_line(&config.club.name),
        round: round.number,
        due: korean_date(round.due),
        closes_at: rfc3339(round.closes_at, tz),
        closes: closes(round, tz),
        time_left: time_left(round.closes_at, now),
        judged,
        pending: teams.iter().map(|t| t.members.len()).sum(),
        teams,
        page_url: super::digest::page_url(config),
    }
}

impl Reminder {
    /// Every pending member, team by team.
    pub fn members(&self) -> impl Iterator<Item = &PendingMember> {
        self.teams.iter().flat_map(|t| t.members.iter())
    }

    /// The one-line headline, e.g. `[글또 10기] 5회차 마감까지 23시간 · 아직 3명`.
    pub fn headline(&self) -> String {
        format!(
            "[{}] {}회차 마감까지 {} · 아직 {}명",
            self.club, self.round, self.time_left, self.pending
        )
    }

    /// The member's own reminder (a direct message or a mail), plain text.
    pub fn personal_text(&self, member: &PendingMember) -> String {
        format!(
            "{}님, {} {}회차 마감({})까지 {} 남았어요.\n\
             글을 올리면 블로그 피드에서 자동으로 확인해요. 이미 올렸다면 이 메시지는 넘겨 주세요.\n\
             진행 상황: {}\n",
            member.name, self.club, self.round, self.closes, self.time_left, self.page_url
        )
    }

    /// The subject of the member's reminder mail.
    pub fn personal_subject(&self) -> String {
        format!(
            "[{}] {}회차 마감까지 {}",
            self.club, self.round, self.time_left
        )
    }
}

/// What a person reads at a terminal (and what `remind` without `--send` prints).
pub fn text(r: &Reminder) -> String {
    let mut out = format!("{}\n{} 마감 ({})\n", r.headline(), r.closes, r.closes_at);
    if r.pending == 0 {
        out.push_str(&format!("모두 올렸어요: {}명 전원.\n", r.judged));
        return out;
    }
    for team in &r.teams {
        let names: Vec<String> = team
            .members
            .iter()
            .map(|m| match &m.slack_id {
                Some(id) => format!("{} (<@{id}>)", m.name),
                None => m.name.clone(),
            })
            .collect();
        out.push_str(&format!("  {}: {}\n", team.team, names.join(", ")));
    }
    out.push_str(&format!(
        "{}명 중 {}명이 아직이에요.\n",
        r.judged, r.pending
    ));
    out
}

/// The close of a round as a person reads it: `11월 24일 (일) 24:00` for the end of the due
/// date, the local date and time otherwise (a grace moves it).
pub fn closes(round: &Round, tz: Tz) -> String {
    let local = round.closes_at.with_timezone(&tz);
    if local.hour() == 0 && local.minute() == 0 {
        let day = local.date_naive().pred_opt().unwrap_or(round.due);
        format!("{} 24:00", korean_date(day))
    } else {
        format!(
            "{} {:02}:{:02}",
            korean_date(local.date_naive()),
            local.hour(),
            local.minute()
        )
    }
}

/// A window as the config writes it: `30h`, `90m`.
fn window_words(d: Duration) -> String {
    let secs = d.as_secs();
    if secs.is_multiple_of(3600) {
        format!("{}h", secs / 3600)
    } else {
        format!("{}m", secs / 60)
    }
}

/// Time from `now` to `until` in Korean, coarse: `2일 5시간`, `23시간 12분`, `45분`.
pub fn time_left(until: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let minutes = (until - now).num_minutes().max(0);
    let (days, hours, mins) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    match (days, hours) {
        (0, 0) => format!("{mins}분"),
        (0, h) if mins == 0 => format!("{h}시간"),
        (0, h) => format!("{h}시간 {mins}분"),
        (d, 0) => format!("{d}일"),
        (d, h) => format!("{d}일 {h}시간"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone};

    fn round(due: (i32, u32, u32), grace_h: i64) -> Round {
        let tz: Tz = "Asia/Seoul".parse().unwrap();
        let due = NaiveDate::from_ymd_opt(due.0, due.1, due.2).unwrap();
        let closes = crate::time::end_of_day(due, tz) + chrono::Duration::hours(grace_h);
        Round {
            number: 4,
            opens: due - chrono::Days::new(13),
            due,
            opens_at: closes - chrono::Duration::days(14),
            closes_at: closes,
        }
    }

    #[test]
    fn time_left_and_the_close_read_as_a_person_says_them() {
        let tz: Tz = "Asia/Seoul".parse().unwrap();
        let r = round((2024, 11, 24), 0);
        let at = |h: i64, m: i64| r.closes_at - chrono::Duration::minutes(h * 60 + m);
        assert_eq!(time_left(r.closes_at, at(23, 12)), "23시간 12분");
        assert_eq!(time_left(r.closes_at, at(29, 0)), "1일 5시간");
        assert_eq!(time_left(r.closes_at, at(0, 45)), "45분");
        assert_eq!(time_left(r.closes_at, at(48, 0)), "2일");
        assert_eq!(closes(&r, tz), "11월 24일 (일) 24:00");
        assert_eq!(
            closes(&round((2024, 11, 24), 6), tz),
            "11월 25일 (월) 06:00"
        );
    }

    #[test]
    fn the_round_is_the_open_one_closing_within_the_window_or_the_one_asked() {
        let tz: Tz = "Asia/Seoul".parse().unwrap();
        let rounds = vec![round((2024, 11, 10), 0), {
            let mut r = round((2024, 11, 24), 0);
            r.number = 5;
            r
        }];
        let window = Duration::from_secs(30 * 3600);
        let evening = tz
            .with_ymd_and_hms(2024, 11, 23, 20, 0, 0)
            .unwrap()
            .to_utc();
        assert_eq!(
            which_round(&rounds, None, window, evening, tz)
                .unwrap()
                .number,
            5
        );
        let early = tz
            .with_ymd_and_hms(2024, 11, 20, 20, 0, 0)
            .unwrap()
            .to_utc();
        let err = which_round(&rounds, None, window, early, tz).unwrap_err();
        assert!(
            err.to_string()
                .contains("round 5 closes 11월 24일 (일) 24:00, in 4일 4시간"),
            "{err}"
        );
        assert_eq!(
            which_round(&rounds, Some(5), window, early, tz)
                .unwrap()
                .number,
            5
        );
        let closed = which_round(&rounds, Some(4), window, early, tz).unwrap_err();
        assert!(closed.to_string().contains("round 4 is closed"), "{closed}");
        assert_eq!(
            which_round(&rounds, Some(9), window, early, tz).unwrap_err(),
            NoRound::Unknown(9, 2)
        );
    }
}
