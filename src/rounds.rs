//! Rounds and submissions: a pure function of (config, stored posts and fetch history, now).
//!
//! This module owns the club's rule (SPEC §5). Round k covers local dates `due[k-1] < d ≤ due[k]`
//! (`due[0]` = `start`): it closes at 24:00 of its due date plus `grace` in the club's zone, and
//! round k+1 opens at that instant, so rounds never overlap. A post belongs to the round in which
//! its effective time falls. Each member gets exactly one status per round, the first that
//! applies of: exempt, an operator's override, submitted, late, pass, short, pending, missed.
//! Nothing here reads the clock, the store or the network: [`judge`] takes everything as input.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::config::{Config, Member, Rounds as RoundsConfig};

/// A member's status in one round (SPEC §5), in precedence order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// Before `joined_round` or after `left_round`.
    Exempt,
    /// A post of enough (or unknown) length falls in the round.
    Submitted,
    /// The post appeared after the round closed, dated back into it.
    Late,
    /// A pass from the roster.
    Pass,
    /// The only posts are shorter than `min_chars`.
    Short,
    /// The round is still open.
    Pending,
    /// The round closed and nothing applies.
    Missed,
}

impl Status {
    /// The lower-case name used in config and machine output.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Exempt => "exempt",
            Status::Submitted => "submitted",
            Status::Late => "late",
            Status::Pass => "pass",
            Status::Short => "short",
            Status::Pending => "pending",
            Status::Missed => "missed",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text is not a status name.
#[derive(Debug, thiserror::Error)]
#[error("unknown status `{0}`")]
pub struct UnknownStatus(String);

impl FromStr for Status {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "exempt" => Status::Exempt,
            "submitted" => Status::Submitted,
            "late" => Status::Late,
            "pass" => Status::Pass,
            "short" => Status::Short,
            "pending" => Status::Pending,
            "missed" => Status::Missed,
            other => return Err(UnknownStatus(other.to_string())),
        })
    }
}

/// Where a round stands at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoundState {
    /// Its close has passed.
    Closed,
    /// Open now.
    Open,
    /// Not open yet.
    Upcoming,
}

impl RoundState {
    /// The name used in machine output.
    pub fn as_str(self) -> &'static str {
        match self {
            RoundState::Closed => "closed",
            RoundState::Open => "open",
            RoundState::Upcoming => "upcoming",
        }
    }
}

/// One deadline round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Round {
    /// 1-based number.
    pub number: u32,
    /// First local date of the round (the day after the previous due date).
    pub opens: NaiveDate,
    /// The due date (local).
    pub due: NaiveDate,
    /// The instant the round opens (the previous round's close).
    pub opens_at: DateTime<Utc>,
    /// The instant it closes: 24:00 of `due` plus grace, in the club's zone.
    pub closes_at: DateTime<Utc>,
}

impl Round {
    /// Its state at `now`.
    pub fn state(&self, now: DateTime<Utc>) -> RoundState {
        if now >= self.closes_at {
            RoundState::Closed
        } else if now >= self.opens_at {
            RoundState::Open
        } else {
            RoundState::Upcoming
        }
    }

    /// Whether an instant falls in the round.
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.opens_at <= t && t < self.closes_at
    }
}

/// The instant 24:00 of a local date (00:00 of the next day) plus `grace`.
fn end_of_day(date: NaiveDate, tz: Tz, grace: std::time::Duration) -> DateTime<Utc> {
    let next = date.succ_opt().unwrap_or(date);
    let midnight = tz
        .from_local_datetime(&next.and_time(NaiveTime::MIN))
        .earliest()
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&next.and_time(NaiveTime::MIN)));
    midnight + chrono::Duration::from_std(grace).unwrap_or_default()
}

/// The rounds of the cohort, in order.
pub fn rounds(config: &RoundsConfig, tz: Tz) -> Vec<Round> {
    let mut out = Vec::with_capacity(config.due.len());
    let mut previous = config.start;
    for (i, due) in config.due.iter().enumerate() {
        out.push(Round {
            number: i as u32 + 1,
            opens: previous.succ_opt().unwrap_or(previous),
            due: *due,
            opens_at: end_of_day(previous, tz, config.grace),
            closes_at: end_of_day(*due, tz, config.grace),
        });
        previous = *due;
    }
    out
}

/// The round `--round current` means: the open one, else the last closed one (between cohorts),
/// else the first.
pub fn current_round(rounds: &[Round], now: DateTime<Utc>) -> Option<u32> {
    rounds
        .iter()
        .find(|r| r.state(now) == RoundState::Open)
        .or_else(|| {
            rounds
                .iter()
                .rev()
                .find(|r| r.state(now) == RoundState::Closed)
        })
        .or_else(|| rounds.first())
        .map(|r| r.number)
}

/// The round an instant falls in, if any.
pub fn round_of(rounds: &[Round], t: DateTime<Utc>) -> Option<u32> {
    rounds.iter().find(|r| r.contains(t)).map(|r| r.number)
}

/// A post as the judge sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct PostFacts {
    /// Owner.
    pub member_id: String,
    /// Title.
    pub title: String,
    /// Published link.
    pub url: Option<String>,
    /// Published time from the feed.
    pub published: Option<DateTime<Utc>>,
    /// First seen by the tool (for hand-recorded posts: their date).
    pub first_seen: DateTime<Utc>,
    /// Effective time (SPEC §4).
    pub effective: DateTime<Utc>,
    /// Length by the club's rule; `None` when unknown.
    pub chars: Option<u64>,
    /// Stored as history.
    pub history: bool,
    /// Feeds carrying the post.
    pub feeds: Vec<i64>,
    /// A published time more than a day after first_seen was distrusted.
    pub future_date: bool,
    /// Recorded by hand in `extra_posts`.
    pub extra: bool,
}

/// A successful fetch (fetched or not modified) of one feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GoodFetch {
    /// The feed.
    pub feed_id: i64,
    /// When.
    pub at: DateTime<Utc>,
}

/// A member's verdict for one round.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// Round number.
    pub round: u32,
    /// The status.
    pub status: Status,
    /// Posts in the round (all of them, counted or not), shared with the judge's input.
    pub posts: Vec<Arc<PostFacts>>,
    /// Flags: backdated, length-unknown, future-date, cross-posted, history, override.
    pub flags: BTreeSet<&'static str>,
}

/// A member's totals over the rounds judged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Submitted, including late.
    pub submitted: u32,
    /// Passes used.
    pub passes: u32,
    /// Missed, including short.
    pub missed: u32,
    /// missed × penalty, in KRW.
    pub deduction: u64,
}

/// One member's row of the report.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberReport {
    /// Member id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Team.
    pub team: String,
    /// One verdict per round, in order.
    pub rounds: Vec<Verdict>,
    /// Totals over every round.
    pub totals: Totals,
}

/// The whole judgement at `now`.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    /// The rounds.
    pub rounds: Vec<Round>,
    /// Per member, roster order.
    pub members: Vec<MemberReport>,
}

/// Judges every member in every round (SPEC §5).
///
/// `posts` are every stored post (history included) and `fetches` every successful fetch; extra
/// posts from the roster are added here.
pub fn judge(
    config: &Config,
    posts: Vec<Arc<PostFacts>>,
    fetches: &[GoodFetch],
    now: DateTime<Utc>,
) -> Judgement {
    let tz = config.club.timezone;
    let rounds = rounds(&config.rounds, tz);
    let mut by_member: HashMap<&str, Vec<&Arc<PostFacts>>> = HashMap::new();
    for p in &posts {
        by_member.entry(p.member_id.as_str()).or_default().push(p);
    }
    let mut fetches_by_feed: HashMap<i64, Vec<DateTime<Utc>>> = HashMap::new();
    for f in fetches {
        fetches_by_feed.entry(f.feed_id).or_default().push(f.at);
    }
    let late_after = chrono::Duration::from_std(config.rounds.late_after).unwrap_or_default();
    let members = config
        .members
        .iter()
        .map(|member| {
            let extra: Vec<Arc<PostFacts>> =
                extra_posts(member, tz).into_iter().map(Arc::new).collect();
            let mut own: Vec<&Arc<PostFacts>> = by_member
                .get(member.id.as_str())
                .cloned()
                .unwrap_or_default();
            own.extend(extra.iter());
            let verdicts: Vec<Verdict> = rounds
                .iter()
                .map(|round| {
                    let in_round: Vec<&Arc<PostFacts>> = own
                        .iter()
                        .copied()
                        .filter(|p| round.contains(p.effective))
                        .collect();
                    let backdated = |p: &PostFacts| {
                        let evidence_after = round.closes_at + late_after;
                        p.feeds.iter().any(|feed| {
                            fetches_by_feed.get(feed).is_some_and(|ats| {
                                ats.iter()
                                    .any(|at| *at > evidence_after && *at < p.first_seen)
                            })
                        })
                    };
                    verdict(config, member, round, now, &in_round, &backdated)
                })
                .collect();
            let mut totals = Totals::default();
            for v in &verdicts {
                match v.status {
                    Status::Submitted | Status::Late => totals.submitted += 1,
                    Status::Pass => totals.passes += 1,
                    Status::Missed | Status::Short => totals.missed += 1,
                    Status::Exempt | Status::Pending => {}
                }
            }
            totals.deduction = u64::from(totals.missed) * config.rounds.penalty;
            MemberReport {
                id: member.id.clone(),
                name: member.name.clone(),
                team: member.team.clone(),
                rounds: verdicts,
                totals,
            }
        })
        .collect();
    Judgement { rounds, members }
}

/// A member's `extra_posts` as posts dated 00:00 local on their date.
fn extra_posts(member: &Member, tz: Tz) -> Vec<PostFacts> {
    member
        .extra_posts
        .iter()
        .map(|e| {
            let t = tz
                .from_local_datetime(&e.date.and_time(NaiveTime::MIN))
                .earliest()
                .map(|d| d.with_timezone(&Utc))
                .unwrap_or_default();
            PostFacts {
                member_id: member.id.clone(),
                title: e.title.clone(),
                url: Some(e.url.to_string()),
                published: Some(t),
                first_seen: t,
                effective: t,
                chars: None,
                history: false,
                feeds: Vec::new(),
                future_date: false,
                extra: true,
            }
        })
        .collect()
}

fn verdict(
    config: &Config,
    member: &Member,
    round: &Round,
    now: DateTime<Utc>,
    posts: &[&Arc<PostFacts>],
    backdated: &dyn Fn(&PostFacts) -> bool,
) -> Verdict {
    let min_chars = config.rounds.min_chars as u64;
    let long_enough = |p: &PostFacts| p.chars.is_none_or(|c| c >= min_chars);
    let mut flags = BTreeSet::new();
    for p in posts {
        if p.future_date {
            flags.insert("future-date");
        }
        if p.feeds.len() > 1 {
            flags.insert("cross-posted");
        }
        if p.history {
            flags.insert("history");
        }
    }
    let counted: Vec<&PostFacts> = posts
        .iter()
        .map(|p| &***p)
        .filter(|p| long_enough(p))
        .collect();
    let on_time: Vec<&PostFacts> = counted.iter().copied().filter(|p| !backdated(p)).collect();
    let exempt = member.joined_round.is_some_and(|j| round.number < j)
        || member.left_round.is_some_and(|l| round.number > l);
    let status = if exempt {
        Status::Exempt
    } else if let Some(s) = member.overrides.get(&round.number) {
        flags.insert("override");
        *s
    } else if !on_time.is_empty() {
        if on_time.iter().any(|p| p.chars.is_none() && !p.extra) {
            flags.insert("length-unknown");
        }
        Status::Submitted
    } else if !counted.is_empty() {
        if counted.iter().any(|p| p.chars.is_none() && !p.extra) {
            flags.insert("length-unknown");
        }
        flags.insert("backdated");
        Status::Late
    } else if member.passes.contains(&round.number) {
        Status::Pass
    } else if !posts.is_empty() {
        Status::Short
    } else if round.state(now) != RoundState::Closed {
        Status::Pending
    } else {
        Status::Missed
    };
    let mut posts: Vec<Arc<PostFacts>> = posts.iter().map(|p| Arc::clone(p)).collect();
    posts.sort_by(|a, b| {
        a.effective
            .cmp(&b.effective)
            .then_with(|| a.title.cmp(&b.title))
    });
    Verdict {
        round: round.number,
        status,
        posts,
        flags,
    }
}

/// Roster-rule problems (SPEC §5): more passes than allowed, two passes in a row, passes or
/// overrides for rounds that do not exist, `left_round` before `joined_round`. Warnings in
/// `fetch` and `report`, errors in `check`.
pub fn roster_problems(config: &Config) -> Vec<String> {
    let n = config.rounds.due.len() as u32;
    let mut problems = Vec::new();
    for m in &config.members {
        let mut passes = m.passes.clone();
        passes.sort_unstable();
        if passes.len() as u32 > config.rounds.passes {
            problems.push(format!(
                "member `{}` has {} passes ({:?}) but each member may use {}; remove {} from `passes`",
                m.id,
                passes.len(),
                passes,
                config.rounds.passes,
                passes.len() as u32 - config.rounds.passes
            ));
        }
        for w in passes.windows(2) {
            if w[1] == w[0] + 1 {
                problems.push(format!(
                    "member `{}` passes rounds {} and {} in a row; passes may not be consecutive — record one as missed or override it",
                    m.id, w[0], w[1]
                ));
            }
            if w[1] == w[0] {
                problems.push(format!(
                    "member `{}` lists pass {} twice; list it once",
                    m.id, w[0]
                ));
            }
        }
        for p in &passes {
            if *p == 0 || *p > n {
                problems.push(format!("member `{}` has a pass for round {p}, which does not exist (rounds are 1..={n})", m.id));
            }
        }
        for r in m.overrides.keys() {
            if *r == 0 || *r > n {
                problems.push(format!(
                    "member `{}` has an override for round {r}, which does not exist (rounds are 1..={n})",
                    m.id
                ));
            }
        }
        if let (Some(j), Some(l)) = (m.joined_round, m.left_round) {
            if l < j {
                problems.push(format!("member `{}` left (round {l}) before joining (round {j}); fix `left_round` or `joined_round`", m.id));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn config(extra_rounds: &str, member_extra: &str) -> Config {
        let text = format!(
            r#"[club]
name = "글또"
url = "https://geultto.github.io/"
[rounds]
start = "2024-09-29"
due = ["2024-10-13", "2024-10-27", "2024-11-10", "2024-11-24", "2024-12-22"]
{extra_rounds}
[[members]]
id = "m"
name = "멤버"
feeds = ["https://m.example/rss"]
{member_extra}
"#
        );
        Config::from_str(&text, Path::new("feeds.toml")).unwrap()
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn post(effective: &str, chars: Option<u64>) -> PostFacts {
        PostFacts {
            member_id: "m".into(),
            title: format!("글 {effective}"),
            url: Some("https://m.example/1".into()),
            published: Some(at(effective)),
            first_seen: at(effective),
            effective: at(effective),
            chars,
            history: false,
            feeds: vec![1],
            future_date: false,
            extra: false,
        }
    }

    #[test]
    fn boundaries_fall_where_the_club_bot_put_them() {
        let no_grace = config("", "");
        let grace = config("grace = \"6h\"", "");
        let rs = rounds(&no_grace.rounds, no_grace.club.timezone);
        let rg = rounds(&grace.rounds, grace.club.timezone);
        let cases: [(&str, &[Round], Option<u32>, &str); 11] = [
            (
                "2024-10-13T23:59:59+09:00",
                &rs,
                Some(1),
                "last second of the due date",
            ),
            (
                "2024-10-14T00:00:00+09:00",
                &rs,
                Some(2),
                "midnight belongs to the next round",
            ),
            (
                "2024-10-14T05:59:59+09:00",
                &rg,
                Some(1),
                "inside the grace",
            ),
            ("2024-10-14T06:00:00+09:00", &rg, Some(2), "grace over"),
            // Monday 00:30 in Seoul is still Sunday 15:30 in UTC: the club's zone decides.
            (
                "2024-10-13T15:30:00Z",
                &rs,
                Some(2),
                "Monday in Seoul, Sunday in UTC",
            ),
            (
                "2024-10-13T14:59:59Z",
                &rs,
                Some(1),
                "Sunday 23:59:59 in Seoul",
            ),
            (
                "2024-09-29T23:59:59+09:00",
                &rs,
                None,
                "the start date itself is round 0",
            ),
            (
                "2024-09-30T00:00:00+09:00",
                &rs,
                Some(1),
                "the first round after start",
            ),
            // The 10th cohort's extension: round 5 runs four weeks, 11-25 .. 12-22.
            (
                "2024-12-08T12:00:00+09:00",
                &rs,
                Some(5),
                "the dropped 12-08 deadline",
            ),
            (
                "2024-12-22T23:59:59+09:00",
                &rs,
                Some(5),
                "the extended due date",
            ),
            (
                "2024-12-23T00:00:00+09:00",
                &rs,
                None,
                "after the last round",
            ),
        ];
        for (t, rounds, want, why) in cases {
            assert_eq!(round_of(rounds, at(t)), want, "{t}: {why}");
        }
        let r1 = &rs[0];
        assert_eq!(r1.opens.to_string(), "2024-09-30");
        assert_eq!(r1.closes_at, at("2024-10-14T00:00:00+09:00"));
    }

    #[test]
    fn a_zone_less_date_is_read_in_the_club_zone_and_judged_there() {
        let c = config("", "");
        let t = crate::parse::parse_date("2024-10-13 23:30:00", c.club.timezone).unwrap();
        assert_eq!(round_of(&rounds(&c.rounds, c.club.timezone), t), Some(1));
    }

    fn status_of(
        c: &Config,
        posts: &[PostFacts],
        fetches: &[GoodFetch],
        now: &str,
        round: u32,
    ) -> (Status, Vec<&'static str>) {
        let j = judge(
            c,
            posts.iter().cloned().map(Arc::new).collect(),
            fetches,
            at(now),
        );
        let v = &j.members[0].rounds[round as usize - 1];
        (v.status, v.flags.iter().copied().collect())
    }

    #[test]
    fn statuses_follow_the_precedence_of_spec_5() {
        let now = "2024-11-20T12:00:00+09:00";
        let c = config(
            "",
            "passes = [2]\noverrides = { 3 = \"submitted\" }\njoined_round = 1",
        );
        let posts = [
            post("2024-10-05T10:00:00+09:00", Some(1500)), // round 1: submitted
            post("2024-10-20T10:00:00+09:00", Some(200)),  // round 2: short, but a pass → pass
        ];
        assert_eq!(status_of(&c, &posts, &[], now, 1).0, Status::Submitted);
        assert_eq!(status_of(&c, &posts, &[], now, 2).0, Status::Pass);
        assert_eq!(
            status_of(&c, &posts, &[], now, 3),
            (Status::Submitted, vec!["override"])
        );
        assert_eq!(status_of(&c, &posts, &[], now, 4).0, Status::Pending);
        let c = config("", "joined_round = 2");
        assert_eq!(status_of(&c, &posts, &[], now, 1).0, Status::Exempt);
        assert_eq!(status_of(&c, &posts, &[], now, 2).0, Status::Short);
        assert_eq!(status_of(&c, &posts, &[], now, 3).0, Status::Missed);
        let unknown = [post("2024-10-05T10:00:00+09:00", None)];
        assert_eq!(
            status_of(&c, &unknown, &[], "2024-10-06T00:00:00+09:00", 2).0,
            Status::Pending
        );
        let c = config("", "");
        assert_eq!(
            status_of(&c, &unknown, &[], now, 1),
            (Status::Submitted, vec!["length-unknown"])
        );
        let c = config("", "left_round = 3");
        assert_eq!(status_of(&c, &[], &[], now, 4).0, Status::Exempt);
    }

    #[test]
    fn late_needs_a_fetch_after_late_after_that_did_not_contain_the_post() {
        let c = config("", "");
        let mut p = post("2024-10-12T10:00:00+09:00", Some(1500));
        p.first_seen = at("2024-10-16T09:00:00+09:00");
        // Round 1 closed 10-14 00:00; late_after 6h.
        let early = GoodFetch {
            feed_id: 1,
            at: at("2024-10-14T05:00:00+09:00"),
        };
        let later = GoodFetch {
            feed_id: 1,
            at: at("2024-10-14T07:00:00+09:00"),
        };
        let other_feed = GoodFetch {
            feed_id: 2,
            at: at("2024-10-15T07:00:00+09:00"),
        };
        let now = "2024-11-20T12:00:00+09:00";
        assert_eq!(
            status_of(&c, std::slice::from_ref(&p), &[early], now, 1).0,
            Status::Submitted
        );
        assert_eq!(
            status_of(&c, std::slice::from_ref(&p), &[other_feed], now, 1).0,
            Status::Submitted
        );
        assert_eq!(
            status_of(&c, std::slice::from_ref(&p), &[early, later], now, 1),
            (Status::Late, vec!["backdated"])
        );
        // A fetch after the post was first seen proves nothing.
        let after = GoodFetch {
            feed_id: 1,
            at: at("2024-10-17T07:00:00+09:00"),
        };
        assert_eq!(
            status_of(&c, std::slice::from_ref(&p), &[after], now, 1).0,
            Status::Submitted
        );
    }

    #[test]
    fn extra_posts_count_like_posts_and_totals_add_up() {
        let c = config("penalty = 5000", "extra_posts = [{ url = \"https://x.oopy.io/p\", date = \"2024-10-27\", title = \"노션 글\" }]");
        let j = judge(
            &c,
            vec![Arc::new(post("2024-10-05T10:00:00+09:00", Some(1500)))],
            &[],
            at("2024-11-20T12:00:00+09:00"),
        );
        let m = &j.members[0];
        let statuses: Vec<Status> = m.rounds.iter().map(|v| v.status).collect();
        assert_eq!(
            statuses,
            [
                Status::Submitted,
                Status::Submitted,
                Status::Missed,
                Status::Pending,
                Status::Pending
            ]
        );
        assert_eq!(
            m.totals,
            Totals {
                submitted: 2,
                passes: 0,
                missed: 1,
                deduction: 5000
            }
        );
    }

    #[test]
    fn roster_rules_catch_too_many_and_consecutive_passes() {
        let c = config(
            "passes = 2",
            "passes = [2, 3, 9]\noverrides = { 7 = \"submitted\" }",
        );
        let p = roster_problems(&c).join("\n");
        for want in [
            "has 3 passes",
            "rounds 2 and 3 in a row",
            "pass for round 9",
            "override for round 7",
        ] {
            assert!(p.contains(want), "missing {want:?} in {p}");
        }
        assert!(roster_problems(&config("", "passes = [1, 3]")).is_empty());
    }

    #[test]
    fn current_round_is_the_open_one_or_the_last_closed() {
        let c = config("", "");
        let rs = rounds(&c.rounds, c.club.timezone);
        assert_eq!(current_round(&rs, at("2024-11-20T12:00:00+09:00")), Some(4));
        assert_eq!(current_round(&rs, at("2025-02-01T12:00:00+09:00")), Some(5));
        assert_eq!(current_round(&rs, at("2024-09-01T12:00:00+09:00")), Some(1));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]
            #[test]
            fn every_member_has_one_status_per_round_and_totals_add_up(
                gaps in proptest::collection::vec(1u64..30, 1..12),
                offsets in proptest::collection::vec((0i64..400 * 86400, proptest::option::of(0u64..3000)), 0..40),
                now_offset in 0i64..400 * 86400,
                passes in proptest::collection::btree_set(1u32..12, 0..3),
            ) {
                let mut due = Vec::new();
                let mut d = NaiveDate::from_ymd_opt(2024, 9, 29).unwrap();
                for g in &gaps {
                    d = d + chrono::Days::new(*g);
                    due.push(format!("\"{d}\""));
                }
                let passes: Vec<String> = passes.iter().filter(|p| **p as usize <= gaps.len()).map(|p| p.to_string()).collect();
                let text = format!(
                    "[club]\nname = \"c\"\nurl = \"https://c.example/\"\n[rounds]\nstart = \"2024-09-29\"\ndue = [{}]\n[[members]]\nid = \"m\"\nname = \"m\"\nfeeds = [\"f.xml\"]\npasses = [{}]\n",
                    due.join(", "), passes.join(", ")
                );
                let c2 = Config::from_str(&text, Path::new("feeds.toml")).unwrap();
                let start = at("2024-09-29T00:00:00+09:00");
                let posts: Vec<PostFacts> = offsets.iter().map(|(o, chars)| {
                    let mut p = post("2024-10-01T00:00:00+09:00", *chars);
                    p.effective = start + chrono::Duration::seconds(*o);
                    p.first_seen = p.effective;
                    p
                }).collect();
                let now = start + chrono::Duration::seconds(now_offset);
                let j = judge(&c2, posts.iter().cloned().map(Arc::new).collect(), &[], now);
                let m = &j.members[0];
                prop_assert_eq!(m.rounds.len(), gaps.len());
                for (i, v) in m.rounds.iter().enumerate() {
                    prop_assert_eq!(v.round as usize, i + 1);
                    let in_round = posts.iter().filter(|p| j.rounds[i].contains(p.effective)).count();
                    prop_assert_eq!(v.posts.len(), in_round);
                    if v.status == Status::Pending { prop_assert!(j.rounds[i].state(now) != RoundState::Closed); }
                    if v.status == Status::Missed { prop_assert!(in_round == 0 && j.rounds[i].state(now) == RoundState::Closed); }
                }
                // Every post falls in at most one round.
                for p in &posts {
                    prop_assert!(j.rounds.iter().filter(|r| r.contains(p.effective)).count() <= 1);
                }
                let t = m.totals;
                let counted = m.rounds.iter().filter(|v| !matches!(v.status, Status::Exempt | Status::Pending)).count() as u32;
                prop_assert_eq!(t.submitted + t.passes + t.missed, counted);
                prop_assert_eq!(t.deduction, u64::from(t.missed) * 10000);
            }
        }
    }
}
