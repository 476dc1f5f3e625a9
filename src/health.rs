//! Feed health: every rule about when a feed is polled, what state it is in, and what an
//! operator should do about it — functions over what the store remembers of a feed and `now`,
//! in the spirit of Miniflux's `WithError` / `ResetErrorCounter` / `ScheduleNextCheck`.
//!
//! - A feed failing on consecutive runs is polled less often: after `n ≥ 2` failures in a row
//!   the next poll waits `interval × 2^(n−1)`, capped at [`MAX_BACKOFF`]; it is never dropped.
//!   One failure holds nothing back (the next run tries again, as cron would anyway).
//! - A 410 marks the feed gone: polled once every [`GONE_INTERVAL`] until it answers again.
//! - A 429/503 with `Retry-After` pauses that exact hostname until then, at most [`MAX_PAUSE`]:
//!   a signal, not a failure.
//! - A 301/308 seen on 3 runs in a row moves the feed (the store counts the runs; the config is
//!   never rewritten and `feeds` tells the operator to update it).
//! - A feed is *in trouble* (shown on the page and to operators) after more than
//!   [`TROUBLE_AFTER_FAILURES`] failures in a row; a discovered feed is looked for again after
//!   [`REDISCOVER_AFTER_FAILURES`].
//!
//! A feed's state is a [`FeedState`], spelled one way everywhere; the advice follows from the
//! stored [`FailKind`] of the last failure, never from the words of its message.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::fetch::{FailKind, Hostname, RetryAfter};
use crate::store::{FeedHealth, FeedRow};
use crate::time::rfc3339_unix;

/// The longest backoff between polls of a failing feed.
pub const MAX_BACKOFF: i64 = 24 * 3600;

/// How often a gone (410) feed is still polled.
pub const GONE_INTERVAL: i64 = 7 * 24 * 3600;

/// The longest a host's Retry-After is honoured.
pub const MAX_PAUSE: i64 = 24 * 3600;

/// A feed failing on more runs in a row than this is in trouble: the page and the operators'
/// digest list it.
pub const TROUBLE_AFTER_FAILURES: u32 = 3;

/// A discovered feed failing on this many runs in a row (or gone) is looked for again from the
/// member's blog, at most once every [`MAX_BACKOFF`].
pub const REDISCOVER_AFTER_FAILURES: u32 = 3;

/// A feed's state, as `feeds` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FeedState {
    /// Read successfully on its last poll.
    Ok,
    /// Failed on its last poll; polled again on the next run.
    Failing,
    /// Read successfully, at the address a permanent redirect moved it to.
    Moved,
    /// Answered 410 Gone: polled once a week.
    Gone,
    /// Its host asked us (Retry-After) to wait.
    Paused,
    /// Failed on several runs in a row, so polled less often for now.
    Backoff,
    /// Never polled yet.
    New,
}

impl FeedState {
    /// The name used in the table and in `feeds --json`.
    pub fn as_str(self) -> &'static str {
        match self {
            FeedState::Ok => "ok",
            FeedState::Failing => "failing",
            FeedState::Moved => "moved",
            FeedState::Gone => "gone",
            FeedState::Paused => "paused",
            FeedState::Backoff => "backoff",
            FeedState::New => "new",
        }
    }

    /// Whether an operator needs to look at it (anything but `ok` and `new`).
    pub fn needs_attention(self) -> bool {
        !matches!(self, FeedState::Ok | FeedState::New)
    }
}

impl std::fmt::Display for FeedState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// When a feed that has now failed `failures` times in a row is polled next (`None`: at the
/// next run).
pub fn next_attempt_after_failure(
    now: i64,
    failures: u32,
    interval: Duration,
    http_status: Option<u16>,
) -> Option<i64> {
    if http_status == Some(410) {
        return Some(now + GONE_INTERVAL);
    }
    if failures <= 1 {
        return None;
    }
    let interval = i64::try_from(interval.as_secs())
        .unwrap_or(MAX_BACKOFF)
        .max(1);
    let doublings = failures.saturating_sub(1).min(30);
    let delay = interval
        .saturating_mul(1i64 << doublings)
        .min(MAX_BACKOFF.max(interval));
    Some(now + delay)
}

/// When a feed that failed at `now` (with this status, if any) is polled next.
pub fn after_failure(
    row: &FeedRow,
    now: i64,
    interval: Duration,
    http_status: Option<u16>,
) -> Option<i64> {
    next_attempt_after_failure(
        now,
        row.consecutive_failures.saturating_add(1),
        interval,
        http_status,
    )
}

/// Until when a host that answered with `retry_after` at `now` is left alone: its own deadline,
/// but never in the past and never more than [`MAX_PAUSE`] away.
pub fn pause_until(retry_after: &RetryAfter, now: DateTime<Utc>) -> i64 {
    let t = now.timestamp();
    let deadline = retry_after.deadline(SystemTime::from(now));
    DateTime::<Utc>::from(deadline)
        .timestamp()
        .clamp(t, t + MAX_PAUSE)
}

/// Why a feed is not polled this run, or `None` when it is due. A run that starts a little
/// early (up to a tenth of the interval) still counts as on time, so cron's jitter does not
/// skip a feed for a whole interval.
pub fn skip_reason(
    row: &FeedRow,
    host_pause: Option<(&Hostname, i64)>,
    now: i64,
    interval: Duration,
    tz: Tz,
) -> Option<String> {
    if let Some((host, until)) = host_pause.filter(|(_, until)| *until > now) {
        return Some(format!(
            "{host} asked us to wait (Retry-After) until {}; not a failure",
            rfc3339_unix(until, tz)
        ));
    }
    let slack = i64::try_from(interval.as_secs() / 10).unwrap_or(0);
    let next = row.next_attempt?;
    if now + slack >= next {
        return None;
    }
    Some(if row.gone_since.is_some() {
        format!(
            "gone (410): polled once a week, next at {}",
            rfc3339_unix(next, tz)
        )
    } else {
        format!(
            "failed {} run(s) in a row: polled less often, next at {}",
            row.consecutive_failures,
            rfc3339_unix(next, tz)
        )
    })
}

/// The hostnames paused by Retry-After, with the time each may be asked again.
pub fn host_pauses<'a>(
    rows: impl IntoIterator<Item = &'a FeedRow>,
    now: i64,
) -> HashMap<Hostname, i64> {
    let mut pauses: HashMap<Hostname, i64> = HashMap::new();
    for row in rows {
        let Some(until) = row.paused_until.filter(|u| *u > now) else {
            continue;
        };
        if let Some(host) = row.poll_host() {
            let entry = pauses.entry(host).or_insert(until);
            *entry = (*entry).max(until);
        }
    }
    pauses
}

/// A feed's state at `now`, given until when its host is paused.
pub fn state(health: &FeedHealth, host_paused_until: Option<i64>, now: i64) -> FeedState {
    let row = &health.row;
    if health.last_attempt.is_none() {
        return FeedState::New;
    }
    if row.gone_since.is_some() {
        return FeedState::Gone;
    }
    if host_paused_until.is_some_and(|u| u > now) {
        return FeedState::Paused;
    }
    if row.consecutive_failures > 0 {
        let waiting = row.next_attempt.is_some_and(|n| n > now);
        return if row.consecutive_failures >= 2 && waiting {
            FeedState::Backoff
        } else {
            FeedState::Failing
        };
    }
    if row.moved_to.is_some() {
        return FeedState::Moved;
    }
    FeedState::Ok
}

/// When a feed in `state` is polled next, when something holds it back (a paused host, backoff,
/// the weekly poll of a gone feed); `None` when it is polled on the next run.
pub fn held_until(
    health: &FeedHealth,
    state: FeedState,
    host_paused_until: Option<i64>,
) -> Option<i64> {
    match state {
        FeedState::Paused => host_paused_until,
        FeedState::Gone | FeedState::Backoff | FeedState::Failing => health.row.next_attempt,
        FeedState::Ok | FeedState::Moved | FeedState::New => None,
    }
}

/// Whether the feed has failed on more than [`TROUBLE_AFTER_FAILURES`] runs in a row.
pub fn in_trouble(row: &FeedRow) -> bool {
    row.consecutive_failures > TROUBLE_AFTER_FAILURES
}

/// Whether a discovered feed should be looked for again from the blog: it keeps failing or is
/// gone, and the last discovery was at least [`MAX_BACKOFF`] ago.
pub fn rediscovery_due(row: &FeedRow, discovered_at: i64, now: i64) -> bool {
    let troubled =
        row.consecutive_failures >= REDISCOVER_AFTER_FAILURES || row.gone_since.is_some();
    troubled && now - discovered_at >= MAX_BACKOFF
}

/// When a discovery that found nothing (after `attempts` tries, the last at `attempted_at`) is
/// tried again: backoff like a failing feed's (`None`: at the next run).
pub fn discovery_retry_at(attempted_at: i64, attempts: u32, interval: Duration) -> Option<i64> {
    next_attempt_after_failure(attempted_at, attempts.saturating_add(1), interval, None)
}

/// What the operator should do about a feed in `state`, in plain words (`None` when healthy).
pub fn advice(
    health: &FeedHealth,
    state: FeedState,
    host_paused_until: Option<i64>,
    tz: Tz,
) -> Option<String> {
    let row = &health.row;
    match state {
        FeedState::Ok => None,
        FeedState::New => Some("not polled yet: the next `fetch` polls it".to_string()),
        FeedState::Gone => Some(
            "the server says the feed is gone for good (410): ask the member for the blog's new \
             address and update `feeds` in feeds.toml; meanwhile it is polled once a week"
                .to_string(),
        ),
        FeedState::Paused => Some(format!(
            "the host asked us to wait (Retry-After) until {}; nothing to do",
            host_paused_until
                .map(|u| rfc3339_unix(u, tz))
                .unwrap_or_default()
        )),
        FeedState::Moved => Some(format!(
            "moved permanently to {}: the tool already polls the new address; put it in \
             `feeds` in feeds.toml",
            row.moved_to.as_deref().unwrap_or("?")
        )),
        FeedState::Failing | FeedState::Backoff => {
            let what = failure_advice(health.fail_kind, health.http_status);
            let when = if state == FeedState::Backoff {
                format!(
                    "; failing {} runs in a row, so polled less often (next at {})",
                    row.consecutive_failures,
                    row.next_attempt
                        .map(|n| rfc3339_unix(n, tz))
                        .unwrap_or_default()
                )
            } else {
                String::new()
            };
            Some(format!("{what}{when}"))
        }
    }
}

/// What to do about a failure of this kind and status.
fn failure_advice(kind: Option<FailKind>, http_status: Option<u16>) -> &'static str {
    let host_trouble =
        "the host did not answer properly; usually temporary, act only if it lasts days";
    match (kind, http_status) {
        (Some(FailKind::NotAFeed), _) => {
            "the address gives a web page, not a feed: run `geultto-agg discover <blog>` and \
             put the feed URL in feeds.toml"
        }
        (_, Some(404)) => {
            "check that the blog still exists at this address; if it moved, put the new feed \
             URL in feeds.toml"
        }
        (_, Some(401 | 403)) => "the host refuses us: ask the member whether the feed is public",
        (Some(FailKind::Timeout | FailKind::Connect), _) | (_, Some(500..=599)) => host_trouble,
        _ => "run `geultto-agg inspect <url>` to see what the tool sees",
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_interval_and_caps_at_a_day() {
        let hour = Duration::from_secs(3600);
        let delays: Vec<Option<i64>> = (1..=7)
            .map(|n| next_attempt_after_failure(0, n, hour, Some(500)).map(|t| t / 3600))
            .collect();
        assert_eq!(
            delays,
            [
                None,
                Some(2),
                Some(4),
                Some(8),
                Some(16),
                Some(24),
                Some(24)
            ]
        );
        assert_eq!(
            next_attempt_after_failure(0, 100, hour, None),
            Some(24 * 3600)
        );
        assert_eq!(
            next_attempt_after_failure(10, 1, hour, Some(410)),
            Some(10 + 7 * 24 * 3600)
        );
        // An interval longer than a day is never shortened by the cap.
        let two_days = Duration::from_secs(48 * 3600);
        assert_eq!(
            next_attempt_after_failure(0, 3, two_days, None),
            Some(48 * 3600)
        );
    }

    #[test]
    fn a_retry_after_pause_is_clamped_to_now_and_a_day() {
        let now = DateTime::<Utc>::from_timestamp(1_000_000, 0).unwrap();
        let t = now.timestamp();
        let delay = |s| RetryAfter::Delay(Duration::from_secs(s));
        assert_eq!(pause_until(&delay(120), now), t + 120);
        assert_eq!(pause_until(&delay(7 * 86_400), now), t + MAX_PAUSE);
        let past = RetryAfter::At(SystemTime::UNIX_EPOCH);
        assert_eq!(pause_until(&past, now), t);
    }

    #[test]
    fn advice_follows_the_failure_kind_not_the_words() {
        let web_page = failure_advice(Some(FailKind::NotAFeed), Some(200));
        assert!(web_page.contains("discover"), "{web_page}");
        let slow = failure_advice(Some(FailKind::Timeout), None);
        assert!(slow.contains("did not answer"), "{slow}");
        assert_eq!(failure_advice(Some(FailKind::Connect), None), slow);
        assert_eq!(failure_advice(Some(FailKind::Http), Some(503)), slow);
        assert!(failure_advice(Some(FailKind::Http), Some(404)).contains("still exists"));
        assert!(failure_advice(Some(FailKind::Http), Some(403)).contains("public"));
        for kind in [FailKind::Dns, FailKind::Unreadable, FailKind::TooLarge] {
            assert!(
                failure_advice(Some(kind), None).contains("inspect"),
                "{kind}"
            );
        }
        assert!(failure_advice(None, None).contains("inspect"));
    }

    #[test]
    fn every_state_has_one_spelling() {
        let all = [
            FeedState::Ok,
            FeedState::Failing,
            FeedState::Moved,
            FeedState::Gone,
            FeedState::Paused,
            FeedState::Backoff,
            FeedState::New,
        ];
        for state in all {
            let json = serde_json::to_value(state).unwrap();
            assert_eq!(json, state.as_str());
            assert_eq!(state.to_string(), state.as_str());
        }
        assert!(!FeedState::New.needs_attention() && FeedState::Moved.needs_attention());
    }
}
