//! The one place that reads the wall clock; `--now` replaces it everywhere else.

use chrono::{DateTime, Utc};

/// The current instant: `--now` when given, else the system clock.
pub fn now(override_now: Option<DateTime<Utc>>) -> DateTime<Utc> {
    #[allow(clippy::disallowed_methods)]
    override_now.unwrap_or_else(Utc::now)
}

/// Parses `--now` (RFC 3339).
pub fn parse_now(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| format!("--now {text:?} is not an RFC 3339 time ({e}); write e.g. 2024-11-20T12:00:00+09:00"))
}
