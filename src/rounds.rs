//! Rounds and submissions: a pure function of (the rules, the roster, stored posts and fetch
//! history, now).
//!
//! This module owns the club's rule. Round k covers local dates `due[k-1] < d ≤ due[k]`
//! (`due[0]` = `start`): it closes at 24:00 of its due date plus `grace` in the club's zone, and
//! round k+1 opens at that instant, so rounds never overlap. A post belongs to the round in which
//! its effective time falls. Each member gets exactly one status per round, the first that
//! applies of: exempt, an operator's override, submitted, late, pass, short, pending,
//! unverified, missed (the README's *Rounds* section). `missed` needs evidence: every feed of the
//! member read successfully at least `late_after` after the round closed; without it the round
//! is `unverified`, which costs nothing. Nothing here reads the clock, the store or the network:
//! [`judge`] takes everything as input.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use smallvec::SmallVec;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::config::{Member, Rounds as RoundsConfig};
use crate::status::Status;
use crate::time;

/// Where a round stands at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoundState {
    /// Its close has passed.
    Closed,
    /// Open at `now`: posts still count for it.
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
    time::end_of_day(date, tz) + chrono::Duration::from_std(grace).unwrap_or_default()
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

/// A post as the judge sees it: its owner, its times, its length, the feeds that carry it.
#[derive(Debug, Clone, PartialEq, Hash)]
pub struct PostFacts {
    /// The member who wrote it (one allocation per member, shared by that member's posts).
    pub member_id: Arc<str>,
    /// Its title, for the report.
    pub title: String,
    /// The link the merged feed publishes (the first-listed feed's).
    pub url: Option<String>,
    /// Published time from the feed.
    pub published: Option<DateTime<Utc>>,
    /// Updated time from the feed.
    pub updated: Option<DateTime<Utc>>,
    /// First seen by the tool (for hand-recorded posts: their date).
    pub first_seen: DateTime<Utc>,
    /// Effective time: the instant that decides its round.
    pub effective: DateTime<Utc>,
    /// Length by the club's rule; `None` when unknown.
    pub chars: Option<u64>,
    /// The length was read from the post's page (the feed gave no full text).
    pub chars_from_page: bool,
    /// Stored as history (old posts brought in by a feed's first fetch or a bulk import).
    pub history: bool,
    /// Store ids of the feeds carrying the post, ascending (most posts have one: held inline).
    pub feeds: SmallVec<[i64; 1]>,
    /// Recorded by hand in `extra_posts`.
    pub extra: bool,
}

impl PostFacts {
    /// Its own date lay more than a day after first seen and was set aside (`future-date`).
    pub fn future_date(&self) -> bool {
        time::effective_time(
            self.published.map(|t| t.timestamp()),
            self.updated.map(|t| t.timestamp()),
            self.first_seen.timestamp(),
        )
        .distrusted
    }
}

/// A post recorded by hand (`extra_posts`), with what its page gave where the roster is silent:
/// the title and date the operator wrote win, the page's fill in, and its length is the page's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandPost {
    /// The member who wrote it.
    pub member_id: String,
    /// The post's address.
    pub url: url::Url,
    /// Its title: the roster's, else the page's, else empty.
    pub title: String,
    /// The local date it counts on.
    pub date: NaiveDate,
    /// Its length, when its page was read.
    pub chars: Option<u64>,
}

impl HandPost {
    /// The post as the judge sees it: dated 00:00 local on its date.
    pub fn facts(&self, tz: Tz) -> PostFacts {
        let t = time::local_midnight(self.date, tz);
        PostFacts {
            member_id: self.member_id.as_str().into(),
            title: self.title.clone(),
            url: Some(self.url.to_string()),
            published: Some(t),
            updated: None,
            first_seen: t,
            effective: t,
            chars: self.chars,
            chars_from_page: self.chars.is_some(),
            history: false,
            feeds: SmallVec::new(),
            extra: true,
        }
    }
}

/// A successful fetch (fetched or not modified) of one feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GoodFetch {
    /// Store id of the feed read.
    pub feed_id: i64,
    /// When it was read.
    pub at: DateTime<Utc>,
}

/// A feed of a member, as the evidence rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberFeed {
    /// Store id of the feed; `None` when it was never polled.
    pub id: Option<i64>,
    /// The feed as the roster names it (URL or path).
    pub label: String,
    /// Its last error, in words, when its last poll failed.
    pub last_error: Option<String>,
}

/// What the tool saw of the members' feeds: the evidence `late` and `missed` need.
#[derive(Debug, Clone, Copy)]
pub struct History<'a> {
    /// Every successful fetch (fetched or not modified) since the first round opened.
    pub fetches: &'a [GoodFetch],
    /// Each member's feeds as the roster lists them now, by member id (a member with only a
    /// blog has the feed discovery found, or none).
    pub feeds: &'a HashMap<String, Vec<MemberFeed>>,
}

/// A feed that was not read successfully after a round closed, and why.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Unread {
    /// The feed (URL or path); the blog when the member has no feed at all.
    pub feed: String,
    /// Why there is no evidence, in words.
    pub why: String,
}

/// A member's verdict for one round.
#[derive(Debug, Clone, PartialEq, Hash)]
pub struct Verdict {
    /// The round's number (1-based).
    pub round: u32,
    /// The one status the member gets in it.
    pub status: Status,
    /// Posts in the round (all of them, counted or not), shared with the judge's input.
    pub posts: Vec<Arc<PostFacts>>,
    /// Flags: backdated, length-unknown, length-from-page, future-date, cross-posted, history,
    /// override, by-hand.
    pub flags: BTreeSet<&'static str>,
    /// For an `unverified` round: each feed without evidence, and why (empty otherwise).
    pub unread: Vec<Unread>,
}

/// A member's totals over the rounds judged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Totals {
    /// Submitted, including late.
    pub submitted: u32,
    /// Passes the member used.
    pub passes: u32,
    /// Missed, including short.
    pub missed: u32,
    /// Unverified: closed rounds without evidence either way (not charged).
    pub unverified: u32,
    /// missed × penalty, in KRW.
    pub deduction: u64,
}

/// One member's row of the report.
#[derive(Debug, Clone, PartialEq, Hash)]
pub struct MemberReport {
    /// The member's id.
    pub id: String,
    /// The member's display name.
    pub name: String,
    /// The member's team.
    pub team: String,
    /// One verdict per round, in order.
    pub rounds: Vec<Verdict>,
    /// Totals over every round.
    pub totals: Totals,
}

/// The whole judgement at `now`.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    /// Every round of the cohort, in order.
    pub rounds: Vec<Round>,
    /// Per member, roster order.
    pub members: Vec<MemberReport>,
}

/// Judges every member in every round by the club's `rules`, in the club's zone `tz`.
///
/// `posts` are the stored posts that can fall in a round (history included) and the posts
/// recorded by hand ([`HandPost::facts`]); `history` holds the successful fetches since the
/// first round opened and each member's feeds.
pub fn judge(
    rules: &RoundsConfig,
    tz: Tz,
    members: &[Member],
    posts: Vec<Arc<PostFacts>>,
    history: History<'_>,
    now: DateTime<Utc>,
) -> Judgement {
    let rounds = rounds(rules, tz);
    let mut by_member: HashMap<&str, Vec<&Arc<PostFacts>>> = HashMap::new();
    for p in &posts {
        by_member.entry(&p.member_id).or_default().push(p);
    }
    let evidence = Evidence::new(history.fetches, rules.late_after, tz);
    let no_feeds = Vec::new();
    let members = members
        .iter()
        .map(|member| {
            let own: Vec<&Arc<PostFacts>> = by_member
                .get(member.id.as_str())
                .cloned()
                .unwrap_or_default();
            let judge = MemberJudge {
                rules,
                member,
                feeds: history.feeds.get(&member.id).unwrap_or(&no_feeds),
                now,
                evidence: &evidence,
            };
            let verdicts: Vec<Verdict> = rounds.iter().map(|r| judge.round(r, &own)).collect();
            MemberReport {
                id: member.id.clone(),
                name: member.name.clone(),
                team: member.team.clone(),
                totals: totals(&verdicts, rules.penalty),
                rounds: verdicts,
            }
        })
        .collect();
    Judgement { rounds, members }
}

/// The successful fetches of each feed: the evidence the `late` and `missed` rules weigh.
struct Evidence {
    by_feed: HashMap<i64, Vec<DateTime<Utc>>>,
    late_after: chrono::Duration,
    tz: Tz,
}

impl Evidence {
    fn new(fetches: &[GoodFetch], late_after: std::time::Duration, tz: Tz) -> Evidence {
        let mut by_feed: HashMap<i64, Vec<DateTime<Utc>>> = HashMap::new();
        for f in fetches {
            by_feed.entry(f.feed_id).or_default().push(f.at);
        }
        Evidence {
            by_feed,
            late_after: chrono::Duration::from_std(late_after).unwrap_or_default(),
            tz,
        }
    }

    /// A feed of the post was read successfully more than `late_after` after the round closed
    /// and before the post was first seen: it appeared later, dated back into the round.
    fn backdated(&self, post: &PostFacts, round: &Round) -> bool {
        let evidence_after = round.closes_at + self.late_after;
        post.feeds.iter().any(|feed| {
            self.by_feed.get(feed).is_some_and(|ats| {
                ats.iter()
                    .any(|at| *at > evidence_after && *at < post.first_seen)
            })
        })
    }

    /// The member's feeds not read successfully at least `late_after` after the round closed
    /// (all of them, or the blog, when the member has no feed to read).
    fn unread(&self, member: &Member, feeds: &[MemberFeed], round: &Round) -> Vec<Unread> {
        let evidence_from = round.closes_at + self.late_after;
        let since = time::rfc3339(evidence_from, self.tz);
        if feeds.is_empty() {
            let blog = member
                .blog
                .as_ref()
                .map_or_else(String::new, |b| b.to_string());
            return vec![Unread {
                feed: blog,
                why: "no feed to read: discovery found none on the blog; list the feed in \
                      `feeds`, or record the member's posts by hand"
                    .to_string(),
            }];
        }
        feeds
            .iter()
            .filter(|f| {
                !f.id.is_some_and(|id| {
                    self.by_feed
                        .get(&id)
                        .is_some_and(|ats| ats.iter().any(|at| *at >= evidence_from))
                })
            })
            .map(|f| Unread {
                feed: f.label.clone(),
                why: match (&f.id, &f.last_error) {
                    (None, _) => format!("not read successfully since {since}: never polled yet"),
                    (_, Some(error)) => {
                        format!("not read successfully since {since}: {error}")
                    }
                    (_, None) => format!("not read successfully since {since}"),
                },
            })
            .collect()
    }
}

/// A member's totals over their verdicts.
fn totals(verdicts: &[Verdict], penalty: u64) -> Totals {
    let mut totals = Totals::default();
    for v in verdicts {
        match v.status {
            Status::Submitted | Status::Late => totals.submitted += 1,
            Status::Pass => totals.passes += 1,
            Status::Missed | Status::Short => totals.missed += 1,
            Status::Unverified => totals.unverified += 1,
            Status::Exempt | Status::Pending => {}
        }
    }
    totals.deduction = u64::from(totals.missed) * penalty;
    totals
}

/// A member's streaks of rounds submitted in a row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Streak {
    /// The run that reaches the latest round judged so far (0 when that run was broken).
    pub current: u32,
    /// The longest run of the cohort.
    pub longest: u32,
}

/// Rounds submitted in a row, over the verdicts in round order: `submitted` and `late` (a post
/// was written) add one; `missed` and `short` break the run; `exempt`, `pass` (the club allows
/// it), `pending` (the round is still open) and `unverified` (no evidence either way) neither
/// add nor break.
pub fn streak(verdicts: &[Verdict]) -> Streak {
    let mut s = Streak::default();
    for v in verdicts {
        match v.status {
            Status::Submitted | Status::Late => {
                s.current += 1;
                s.longest = s.longest.max(s.current);
            }
            Status::Missed | Status::Short => s.current = 0,
            Status::Exempt | Status::Pass | Status::Pending | Status::Unverified => {}
        }
    }
    s
}

/// Judges one member, round by round.
struct MemberJudge<'a> {
    rules: &'a RoundsConfig,
    member: &'a Member,
    feeds: &'a [MemberFeed],
    now: DateTime<Utc>,
    evidence: &'a Evidence,
}

impl MemberJudge<'_> {
    /// The member's verdict in `round`, from all of the member's posts.
    fn round(&self, round: &Round, own: &[&Arc<PostFacts>]) -> Verdict {
        let posts: Vec<&Arc<PostFacts>> = own
            .iter()
            .copied()
            .filter(|p| round.contains(p.effective))
            .collect();
        let mut flags = post_flags(&posts);
        let mut unread = Vec::new();
        let status = self.status(round, &posts, &mut flags, &mut unread);
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
            unread,
        }
    }

    /// The first status that applies, adding the flags that explain it (and, for `unverified`,
    /// the feeds without evidence).
    fn status(
        &self,
        round: &Round,
        posts: &[&Arc<PostFacts>],
        flags: &mut BTreeSet<&'static str>,
        unread: &mut Vec<Unread>,
    ) -> Status {
        let min_chars = self.rules.min_chars as u64;
        let member = self.member;
        let counted: Vec<&PostFacts> = posts
            .iter()
            .map(|p| &***p)
            .filter(|p| p.chars.is_none_or(|c| c >= min_chars))
            .collect();
        let on_time: Vec<&PostFacts> = counted
            .iter()
            .copied()
            .filter(|p| !self.evidence.backdated(p, round))
            .collect();
        let length_unknown = |ps: &[&PostFacts]| ps.iter().any(|p| p.chars.is_none() && !p.extra);
        let exempt = member.joined_round.is_some_and(|j| round.number < j)
            || member.left_round.is_some_and(|l| round.number > l);
        if exempt {
            Status::Exempt
        } else if let Some(s) = member.overrides.get(&round.number) {
            flags.insert("override");
            *s
        } else if !on_time.is_empty() {
            if length_unknown(&on_time) {
                flags.insert("length-unknown");
            }
            Status::Submitted
        } else if !counted.is_empty() {
            if length_unknown(&counted) {
                flags.insert("length-unknown");
            }
            flags.insert("backdated");
            Status::Late
        } else if member.passes.contains(&round.number) {
            Status::Pass
        } else if !posts.is_empty() {
            Status::Short
        } else if round.state(self.now) != RoundState::Closed {
            Status::Pending
        } else {
            *unread = self.evidence.unread(member, self.feeds, round);
            if unread.is_empty() {
                Status::Missed
            } else {
                Status::Unverified
            }
        }
    }
}

/// Flags that describe a round's posts whatever the status: `future-date`, `cross-posted`,
/// `history`, `length-from-page`, `by-hand`.
fn post_flags(posts: &[&Arc<PostFacts>]) -> BTreeSet<&'static str> {
    let mut flags = BTreeSet::new();
    for p in posts {
        if p.future_date() {
            flags.insert("future-date");
        }
        if p.feeds.len() > 1 {
            flags.insert("cross-posted");
        }
        if p.history {
            flags.insert("history");
        }
        if p.chars_from_page {
            flags.insert("length-from-page");
        }
        if p.extra {
            flags.insert("by-hand");
        }
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use std::path::Path;

    fn config(extra_rounds: &str, member_extra: &str) -> Config {
        crate::config::test_club(extra_rounds, member_extra)
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
            updated: None,
            first_seen: at(effective),
            effective: at(effective),
            chars,
            chars_from_page: false,
            history: false,
            feeds: smallvec::smallvec![1],
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

    /// Member `m`'s one feed (store id 1), last failing with `last_error` if given.
    fn feeds(last_error: Option<&str>) -> HashMap<String, Vec<MemberFeed>> {
        HashMap::from([(
            "m".to_string(),
            vec![MemberFeed {
                id: Some(1),
                label: "https://m.example/rss".into(),
                last_error: last_error.map(str::to_string),
            }],
        )])
    }

    /// Judges with `fetches`, and `m`'s feed also read successfully at `now` (the usual case:
    /// a report right after a fetch), so closed rounds have their evidence.
    fn judged(c: &Config, posts: &[PostFacts], fetches: &[GoodFetch], now: &str) -> Judgement {
        let mut fetches = fetches.to_vec();
        fetches.push(GoodFetch {
            feed_id: 1,
            at: at(now),
        });
        let feeds = feeds(None);
        let history = History {
            fetches: &fetches,
            feeds: &feeds,
        };
        let posts = posts.iter().cloned().map(Arc::new).collect();
        judge(
            &c.rounds,
            c.club.timezone,
            &c.members,
            posts,
            history,
            at(now),
        )
    }

    fn status_of(
        c: &Config,
        posts: &[PostFacts],
        fetches: &[GoodFetch],
        now: &str,
        round: u32,
    ) -> (Status, Vec<&'static str>) {
        let j = judged(c, posts, fetches, now);
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
        let c = config("penalty = 5000", "");
        let by_hand = HandPost {
            member_id: "m".into(),
            url: url::Url::parse("https://x.oopy.io/p").unwrap(),
            title: "노션 글".into(),
            date: NaiveDate::from_ymd_opt(2024, 10, 27).unwrap(),
            chars: None,
        };
        let j = judged(
            &c,
            &[
                post("2024-10-05T10:00:00+09:00", Some(1500)),
                by_hand.facts(c.club.timezone),
            ],
            &[],
            "2024-11-20T12:00:00+09:00",
        );
        assert_eq!(
            j.members[0].rounds[1]
                .flags
                .iter()
                .copied()
                .collect::<Vec<_>>(),
            ["by-hand"]
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
                unverified: 0,
                deduction: 5000
            }
        );
    }

    #[test]
    fn missed_needs_a_successful_read_at_least_late_after_the_close() {
        let c = config("", "");
        // Round 1 closes 2024-10-14 00:00; late_after 6h: evidence from 06:00 on.
        let without_at_now = |fetch: &str, now: &str| {
            let fetches = [GoodFetch {
                feed_id: 1,
                at: at(fetch),
            }];
            let feeds = feeds(Some("HTTP 404 Not Found"));
            let history = History {
                fetches: &fetches,
                feeds: &feeds,
            };
            let j = judge(
                &c.rounds,
                c.club.timezone,
                &c.members,
                vec![],
                history,
                at(now),
            );
            j.members[0].rounds[0].clone()
        };
        let now = "2024-10-20T12:00:00+09:00";
        let before = without_at_now("2024-10-14T05:59:59+09:00", now);
        assert_eq!(before.status, Status::Unverified);
        assert_eq!(before.unread.len(), 1);
        assert_eq!(before.unread[0].feed, "https://m.example/rss");
        assert!(
            before.unread[0].why.contains("HTTP 404")
                && before.unread[0].why.contains("2024-10-14T06:00:00+09:00"),
            "{:?}",
            before.unread
        );
        assert_eq!(
            without_at_now("2024-10-14T06:00:00+09:00", now).status,
            Status::Missed
        );
        let after = without_at_now("2024-10-14T06:00:01+09:00", now);
        assert_eq!((after.status, after.unread.len()), (Status::Missed, 0));
        // Closed, but the evidence window is not over yet: unverified until the next read.
        assert_eq!(
            without_at_now("2024-10-14T01:00:00+09:00", "2024-10-14T03:00:00+09:00").status,
            Status::Unverified
        );
    }

    #[test]
    fn a_member_with_one_broken_feed_of_two_is_unverified_and_not_charged() {
        let c = config("", "");
        let fetches = [GoodFetch {
            feed_id: 1,
            at: at("2024-11-20T12:00:00+09:00"),
        }];
        let mut feeds = feeds(None);
        feeds.get_mut("m").unwrap().push(MemberFeed {
            id: Some(2),
            label: "https://m.example/typo.xml".into(),
            last_error: Some("HTTP 404 Not Found".into()),
        });
        let history = History {
            fetches: &fetches,
            feeds: &feeds,
        };
        let now = at("2024-11-20T12:00:00+09:00");
        let j = judge(&c.rounds, c.club.timezone, &c.members, vec![], history, now);
        let m = &j.members[0];
        let statuses: Vec<Status> = m.rounds.iter().map(|v| v.status).collect();
        assert_eq!(
            statuses,
            [
                Status::Unverified,
                Status::Unverified,
                Status::Unverified,
                Status::Pending,
                Status::Pending
            ]
        );
        let unread: Vec<&str> = m.rounds[0].unread.iter().map(|u| u.feed.as_str()).collect();
        assert_eq!(
            unread,
            ["https://m.example/typo.xml"],
            "only the broken feed"
        );
        assert_eq!(
            (m.totals.unverified, m.totals.missed, m.totals.deduction),
            (3, 0, 0)
        );
        // An operator's decision still wins.
        let c = config("", "overrides = { 1 = \"missed\" }");
        let j = judge(&c.rounds, c.club.timezone, &c.members, vec![], history, now);
        assert_eq!(j.members[0].rounds[0].status, Status::Missed);
        assert!(j.members[0].rounds[0].unread.is_empty());
    }

    #[test]
    fn a_member_without_any_feed_is_unverified_with_the_blog_named() {
        let c = config("", "");
        let none = HashMap::new();
        let history = History {
            fetches: &[],
            feeds: &none,
        };
        let now = at("2024-11-20T12:00:00+09:00");
        let j = judge(&c.rounds, c.club.timezone, &c.members, vec![], history, now);
        let v = &j.members[0].rounds[0];
        assert_eq!(v.status, Status::Unverified);
        assert!(
            v.unread[0].why.contains("no feed to read"),
            "{:?}",
            v.unread
        );
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
                let fetches = [GoodFetch { feed_id: 1, at: now }];
                let feeds = feeds(None);
                let history = History { fetches: &fetches, feeds: &feeds };
                let j = judge(&c2.rounds, c2.club.timezone, &c2.members, posts.iter().cloned().map(Arc::new).collect(), history, now);
                let m = &j.members[0];
                prop_assert_eq!(m.rounds.len(), gaps.len());
                for (i, v) in m.rounds.iter().enumerate() {
                    prop_assert_eq!(v.round as usize, i + 1);
                    let in_round = posts.iter().filter(|p| j.rounds[i].contains(p.effective)).count();
                    prop_assert_eq!(v.posts.len(), in_round);
                    if v.status == Status::Pending { prop_assert!(j.rounds[i].state(now) != RoundState::Closed); }
                    if matches!(v.status, Status::Missed | Status::Unverified) { prop_assert!(in_round == 0 && j.rounds[i].state(now) == RoundState::Closed); }
                    // Missed only with evidence: the read at `now` came late_after (6h) past the close.
                    if v.status == Status::Missed { prop_assert!(now >= j.rounds[i].closes_at + chrono::Duration::hours(6)); }
                    if v.status == Status::Unverified { prop_assert!(now < j.rounds[i].closes_at + chrono::Duration::hours(6)); }
                }
                // Every post falls in at most one round.
                for p in &posts {
                    prop_assert!(j.rounds.iter().filter(|r| r.contains(p.effective)).count() <= 1);
                }
                let t = m.totals;
                let counted = m.rounds.iter().filter(|v| !matches!(v.status, Status::Exempt | Status::Pending)).count() as u32;
                prop_assert_eq!(t.submitted + t.passes + t.missed + t.unverified, counted);
                prop_assert_eq!(t.deduction, u64::from(t.missed) * 10000);
            }
        }
    }
}

#[cfg(test)]
mod streak_tests {
    use super::*;

    fn verdicts(statuses: &[Status]) -> Vec<Verdict> {
        statuses
            .iter()
            .enumerate()
            .map(|(i, s)| Verdict {
                round: i as u32 + 1,
                status: *s,
                posts: Vec::new(),
                flags: BTreeSet::new(),
                unread: Vec::new(),
            })
            .collect()
    }

    #[test]
    fn a_streak_counts_submitted_rounds_and_breaks_only_on_missed_or_short() {
        use Status::*;
        for (statuses, current, longest) in [
            (vec![], 0, 0),
            (vec![Submitted, Submitted, Missed, Submitted], 1, 2),
            (vec![Exempt, Submitted, Pass, Late, Pending], 2, 2),
            (vec![Submitted, Submitted, Submitted, Short], 0, 3),
            (vec![Submitted, Unverified, Submitted], 2, 2),
            (vec![Missed, Missed], 0, 0),
        ] {
            let got = streak(&verdicts(&statuses));
            assert_eq!(got, Streak { current, longest }, "{statuses:?}");
        }
    }
}
