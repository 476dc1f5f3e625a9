//! Time in the club's zone, and the rules about a post's times.
//!
//! Everything that turns a Unix time or a local date into another form lives here: local
//! midnight, the end of a local day, RFC 3339 text in the club's zone. So do the two rules every
//! stage must agree on: a post's *effective time* (published, else updated, else first seen; a
//! time more than a day after first seen is distrusted) and the age beyond which a post brought
//! in by a bulk fetch is history. Nothing here reads the clock ([`crate::clock`] does).

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// A post's published (or updated) time this far after its first sighting is not trusted.
pub const FUTURE_TOLERANCE: i64 = 86_400;

/// Posts older than this before the fetch that brought them in are history (when that fetch is
/// a feed's first or a bulk import), and a post first seen in a week is that week's news only
/// when it is at most this old.
pub const HISTORY_AGE: i64 = 14 * 86_400;

/// A post's effective time, and whether its own date was set aside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Effective {
    /// Unix seconds: published, else updated, else first seen.
    pub at: i64,
    /// The post's date lay more than [`FUTURE_TOLERANCE`] after first seen, so first seen was
    /// used instead (the `future-date` flag).
    pub distrusted: bool,
}

/// The effective time of a post with these times (Unix seconds).
pub fn effective_time(published: Option<i64>, updated: Option<i64>, first_seen: i64) -> Effective {
    match published.or(updated) {
        Some(t) if t <= first_seen.saturating_add(FUTURE_TOLERANCE) => Effective {
            at: t,
            distrusted: false,
        },
        Some(_) => Effective {
            at: first_seen,
            distrusted: true,
        },
        None => Effective {
            at: first_seen,
            distrusted: false,
        },
    }
}

/// The instant a local date begins in `tz`. In a zone whose clocks skip midnight, the date's
/// midnight read as UTC stands in.
pub fn local_midnight(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let midnight = date.and_time(NaiveTime::MIN);
    tz.from_local_datetime(&midnight)
        .earliest()
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&midnight))
}

/// The instant a local date ends (24:00, the next day's midnight) in `tz`.
pub fn end_of_day(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    local_midnight(date.succ_opt().unwrap_or(date), tz)
}

/// A Unix time as an instant (the epoch for a time out of range).
pub fn instant(t: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(t, 0).single().unwrap_or_default()
}

/// The local date of a Unix time in `tz`.
pub fn local_date(t: i64, tz: Tz) -> NaiveDate {
    instant(t).with_timezone(&tz).date_naive()
}

/// An instant as RFC 3339 in `tz`, e.g. `2024-11-20T12:00:00+09:00`.
pub fn rfc3339(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).to_rfc3339()
}

/// A Unix time as RFC 3339 in `tz` (empty for a time out of range).
pub fn rfc3339_unix(t: i64, tz: Tz) -> String {
    DateTime::<Utc>::from_timestamp(t, 0)
        .map(|d| rfc3339(d, tz))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;

    #[test]
    fn a_future_published_date_is_distrusted() {
        assert_eq!(
            effective_time(Some(100 + 2 * DAY), None, 100),
            Effective {
                at: 100,
                distrusted: true
            }
        );
        assert_eq!(
            effective_time(Some(100 + DAY / 2), None, 100).at,
            100 + DAY / 2
        );
        assert_eq!(effective_time(Some(100 + DAY), None, 100).at, 100 + DAY);
        assert_eq!(effective_time(None, Some(50), 100).at, 50);
        assert_eq!(
            effective_time(None, None, 100),
            Effective {
                at: 100,
                distrusted: false
            }
        );
    }

    #[test]
    fn local_days_begin_and_end_in_the_club_zone() {
        let tz = chrono_tz::Asia::Seoul;
        let d = NaiveDate::from_ymd_opt(2024, 11, 24).unwrap();
        assert_eq!(
            rfc3339(local_midnight(d, tz), tz),
            "2024-11-24T00:00:00+09:00"
        );
        assert_eq!(rfc3339(end_of_day(d, tz), tz), "2024-11-25T00:00:00+09:00");
        assert_eq!(local_date(end_of_day(d, tz).timestamp() - 1, tz), d);
        assert_eq!(rfc3339_unix(1_732_071_600, tz), "2024-11-20T12:00:00+09:00");
    }
}
