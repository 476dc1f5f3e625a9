//! Feed health (SPEC §6): when a feed is polled next, what state it is in, and what an operator
//! should do about it — in plain words. Pure: it reads what the store remembers and `now`.
//!
//! - A feed failing on consecutive runs is polled less often: after `n ≥ 2` failures in a row
//!   the next poll waits `interval × 2^(n−1)`, capped at 24 h; it is never dropped. One failure
//!   holds nothing back (the next run tries again, as cron would anyway).
//! - A 410 marks the feed gone: polled once a week until it answers again.
//! - A 429/503 with `Retry-After` pauses its host until then (at most 24 h): not a failure.
//! - A 301/308 seen on 3 runs in a row moves the feed (the store records where; the config is
//!   never rewritten and `feeds` tells the operator to update it).

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::store::FeedHealth;

/// The longest backoff between polls of a failing feed.
pub const MAX_BACKOFF: i64 = 24 * 3600;

/// How often a gone (410) feed is still polled.
pub const GONE_INTERVAL: i64 = 7 * 24 * 3600;

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

/// Why a feed is not polled this run, or `None` when it is due. A run that starts a little
/// early (up to a tenth of the interval) still counts as on time, so cron's jitter does not
/// skip a feed for a whole interval.
pub fn skip_reason(
    row: &crate::store::FeedRow,
    host_pause: Option<(&str, i64)>,
    now: i64,
    interval: Duration,
    tz: Tz,
) -> Option<String> {
    if let Some((host, until)) = host_pause.filter(|(_, until)| *until > now) {
        return Some(format!(
            "{host} asked us to wait (Retry-After) until {}; not a failure",
            local(until, tz)
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
            local(next, tz)
        )
    } else {
        format!(
            "failed {} run(s) in a row: polled less often, next at {}",
            row.consecutive_failures,
            local(next, tz)
        )
    })
}

/// The hosts paused by Retry-After, with the time each may be asked again.
pub fn host_pauses<'a>(
    rows: impl IntoIterator<Item = &'a crate::store::FeedRow>,
    now: i64,
) -> HashMap<String, i64> {
    let mut pauses: HashMap<String, i64> = HashMap::new();
    for row in rows {
        let Some(until) = row.paused_until.filter(|u| *u > now) else {
            continue;
        };
        if let Some(host) = host_of(row.poll_url()) {
            let entry = pauses.entry(host).or_insert(until);
            *entry = (*entry).max(until);
        }
    }
    pauses
}

/// The lowercased host of a URL (`None` for local paths).
pub fn host_of(url: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
}

/// A feed's state, as `feeds` shows it.
pub fn state(health: &FeedHealth, host_paused_until: Option<i64>, now: i64) -> &'static str {
    if health.last_attempt.is_none() {
        return "new";
    }
    if health.row.gone_since.is_some() {
        return "gone";
    }
    if host_paused_until.is_some_and(|u| u > now) {
        return "paused";
    }
    if health.consecutive_failures > 0 {
        let waiting = health.row.next_attempt.is_some_and(|n| n > now);
        return if health.consecutive_failures >= 2 && waiting {
            "backoff"
        } else {
            "failing"
        };
    }
    if health.moved_to.is_some() {
        return "moved";
    }
    "ok"
}

/// What the operator should do about a feed in `state`, in plain words (`None` when healthy).
pub fn advice(
    health: &FeedHealth,
    state: &str,
    host_paused_until: Option<i64>,
    tz: Tz,
) -> Option<String> {
    match state {
        "ok" => None,
        "new" => Some("not polled yet: the next `fetch` polls it".to_string()),
        "gone" => Some(
            "the server says the feed is gone for good (410): ask the member for the blog's new \
             address and update `feeds` in feeds.toml; meanwhile it is polled once a week"
                .to_string(),
        ),
        "paused" => Some(format!(
            "the host asked us to wait (Retry-After) until {}; nothing to do",
            host_paused_until.map(|u| local(u, tz)).unwrap_or_default()
        )),
        "moved" => Some(format!(
            "moved permanently to {}: the tool already polls the new address; put it in \
             `feeds` in feeds.toml",
            health.moved_to.as_deref().unwrap_or("?")
        )),
        _ => {
            let error = health.last_error.as_deref().unwrap_or("");
            let what = if error.contains("not a feed") {
                "the address gives a web page, not a feed: run `geultto-agg discover <blog>` and \
                 put the feed URL in feeds.toml"
            } else if matches!(health.http_status, Some(404)) {
                "check that the blog still exists at this address; if it moved, put the new feed \
                 URL in feeds.toml"
            } else if matches!(health.http_status, Some(401 | 403)) {
                "the host refuses us: ask the member whether the feed is public"
            } else if error.contains("timed out")
                || error.contains("connect")
                || error.contains("connection")
                || matches!(health.http_status, Some(500..=599))
            {
                "the host did not answer properly; usually temporary, act only if it lasts days"
            } else {
                "run `geultto-agg inspect <url>` to see what the tool sees"
            };
            let when = match state {
                "backoff" => format!(
                    "; failing {} runs in a row, so polled less often (next at {})",
                    health.consecutive_failures,
                    health
                        .row
                        .next_attempt
                        .map(|n| local(n, tz))
                        .unwrap_or_default()
                ),
                _ => String::new(),
            };
            Some(format!("{what}{when}"))
        }
    }
}

/// `t` (Unix seconds) as RFC 3339 in the club's zone.
pub fn local(t: i64, tz: Tz) -> String {
    DateTime::<Utc>::from_timestamp(t, 0)
        .map(|d| d.with_timezone(&tz).to_rfc3339())
        .unwrap_or_default()
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
}
