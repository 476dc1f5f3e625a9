//! Feed dates: RFC 3339 first, then a loose reader for everything feeds really carry — RFC 822
//! with wrong weekdays and named zones, asctime, W3C-DTF's partial dates, and the Korean forms
//! (`2024년 1월 5일`, `오후 3:05`). The text is cut into tokens, each token is placed (a time, a
//! date, a month name, a zone, a bare number), the bare numbers are ordered, and a time without
//! a zone is read in the club's zone.

use chrono::{
    DateTime, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike,
    Utc,
};
use chrono_tz::Tz;

/// Parses a feed date: RFC 3339 / W3C-DTF, RFC 822 (with wrong weekdays, named zones), asctime,
/// and Korean forms (`2024년 1월 5일 12:00`, `2024-05-25 오후 11:23:17`, `2024. 1. 5. 오후 3:05`).
/// A date without a zone is in `tz`, the club's zone.
pub fn parse_date(text: &str, tz: Tz) -> Option<DateTime<Utc>> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    let parsed = match DateTime::parse_from_rfc3339(t) {
        Ok(d) => Some(d.with_timezone(&Utc)),
        Err(_) => parse_loose(t, tz),
    };
    // Whole seconds: stored and published times stay comparable and deterministic.
    parsed.and_then(|d| d.with_nanosecond(0))
}

#[derive(Default, Debug)]
struct DateParts {
    year: Option<i32>,
    month: Option<u32>,
    day: Option<u32>,
    time: Option<(u32, u32, u32)>,
    pm: Option<bool>,
    offset: Option<i32>,
    numbers: Vec<(u32, usize)>,
}

fn month_number(word: &str) -> Option<u32> {
    let w = word.to_ascii_lowercase();
    let w = w.trim_end_matches('.');
    const NAMES: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    if w.len() < 3 {
        return None;
    }
    let prefix = w.get(..3)?;
    let idx = NAMES.iter().position(|n| *n == prefix)?;
    // Accept full names and "Sept".
    let full = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    (w.len() == 3 || full[idx].starts_with(w) || w == "sept").then_some(idx as u32 + 1)
}

fn zone_offset(word: &str) -> Option<i32> {
    let w = word.trim_end_matches(')').trim_start_matches('(');
    let upper = w.to_ascii_uppercase();
    let named = match upper.as_str() {
        "Z" | "UT" | "UTC" | "GMT" | "ETC/GMT" | "ETC/UTC" => Some(0),
        "KST" => Some(9 * 60),
        "JST" => Some(9 * 60),
        "EST" => Some(-5 * 60),
        "EDT" => Some(-4 * 60),
        "CST" => Some(-6 * 60),
        "CDT" => Some(-5 * 60),
        "MST" => Some(-7 * 60),
        "MDT" => Some(-6 * 60),
        "PST" => Some(-8 * 60),
        "PDT" => Some(-7 * 60),
        "AT" => Some(-4 * 60),
        "ET" => Some(-5 * 60),
        "CT" => Some(-6 * 60),
        "MT" => Some(-7 * 60),
        "PT" => Some(-8 * 60),
        "MET" | "CET" => Some(60),
        "MEST" | "CEST" => Some(120),
        "BST" => Some(60),
        _ => None,
    };
    if named.is_some() {
        return named;
    }
    let rest = upper
        .strip_prefix("GMT")
        .or_else(|| upper.strip_prefix("UTC"))
        .unwrap_or(&upper);
    let (sign, digits) = match rest.chars().next()? {
        '+' => (1, &rest[1..]),
        '-' => (-1, &rest[1..]),
        _ => return None,
    };
    let digits: String = digits.chars().filter(|c| *c != ':').collect();
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let (h, m) = match digits.len() {
        1 | 2 => (digits.parse::<i32>().ok()?, 0),
        3 => (
            digits[..1].parse::<i32>().ok()?,
            digits[1..].parse::<i32>().ok()?,
        ),
        4 => (
            digits[..2].parse::<i32>().ok()?,
            digits[2..].parse::<i32>().ok()?,
        ),
        _ => return None,
    };
    (h <= 14 && m < 60).then_some(sign * (h * 60 + m))
}

fn parse_time(token: &str, parts: &mut DateParts) -> Option<()> {
    // "10:14:55", "10:14:55.1234", "10:14:55Z", "10:14:55+08:00", "23:25:47.538+10:00"
    let zone_at = token
        .find(['Z', 'z', '+'])
        .or_else(|| token.rfind('-').filter(|&p| p > 0));
    let (clock, zone) = match zone_at {
        Some(p) => (&token[..p], Some(&token[p..])),
        None => (token, None),
    };
    let mut fields = clock.split(':');
    let h: u32 = fields.next()?.parse().ok()?;
    let m: u32 = fields.next()?.parse().ok()?;
    let s: u32 = match fields.next() {
        Some(s) => s.split('.').next()?.parse().ok()?,
        None => 0,
    };
    if fields.next().is_some() || h > 24 || m > 59 || s > 60 {
        return None;
    }
    parts.time = Some((h, m, s.min(59)));
    if let Some(z) = zone {
        parts.offset = Some(zone_offset(z)?);
    }
    Some(())
}

fn parse_date_token(token: &str, parts: &mut DateParts) -> Option<()> {
    // "2024-10-05", "2024/10/05", "2024.10.05", "03-12-31", "2003-12", also with a T time.
    if let Some((d, t)) = token.split_once(['T', 't']) {
        parse_date_token(d, parts)?;
        return parse_time(t, parts);
    }
    let fields: Vec<&str> = token
        .split(['-', '/', '.'])
        .filter(|f| !f.is_empty())
        .collect();
    if fields.len() < 2 || fields.len() > 3 {
        return None;
    }
    let nums: Vec<u32> = fields
        .iter()
        .map(|f| f.parse::<u32>().ok().or_else(|| month_number(f)))
        .collect::<Option<Vec<_>>>()?;
    let (y, m, d) = if fields[0].len() == 4 {
        (nums[0] as i32, nums[1], nums.get(2).copied().unwrap_or(1))
    } else if fields.len() == 3 && fields[2].len() == 4 {
        (nums[2] as i32, nums[0], nums[1])
    } else if fields.len() == 3 {
        (2000 + nums[0] as i32, nums[1], nums[2])
    } else {
        return None;
    };
    parts.year = Some(y);
    parts.month = Some(m);
    parts.day = Some(d);
    Some(())
}

/// What [`parse_date`] reads beyond RFC 3339: each token placed, then the bare numbers ordered,
/// then the local time put in its zone.
fn parse_loose(text: &str, tz: Tz) -> Option<DateTime<Utc>> {
    let mut parts = DateParts::default();
    let cleaned = separate_tokens(text);
    for token in cleaned.split_whitespace() {
        let tok = token.trim_end_matches('.');
        if !tok.is_empty() {
            parts.read_token(tok)?;
        }
    }
    parts.place_numbers()?;
    in_zone(parts.local_time()?, parts.offset, tz)
}

/// Korean markers (`년`, `월`, `일`), commas and parentheses become separators; 오전/오후 become
/// `AM`/`PM`, which set the half of the day.
fn separate_tokens(text: &str) -> String {
    let mut cleaned = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '년' | '월' | '일' | ',' => cleaned.push(' '),
            '(' | ')' => cleaned.push(' '),
            _ => cleaned.push(c),
        }
    }
    cleaned.replace("오전", " AM ").replace("오후", " PM ")
}

impl DateParts {
    /// Places one token: the half of the day, a month name, a weekday (ignored), a time, a date
    /// (possibly with a time), a zone after a time or date, or a bare number left for
    /// [`DateParts::place_numbers`]. `None` for anything else: the text is not a date.
    fn read_token(&mut self, tok: &str) -> Option<()> {
        let upper = tok.to_ascii_uppercase();
        if upper == "AM" || upper == "PM" {
            self.pm = Some(upper == "PM");
            return Some(());
        }
        if let Some(m) = month_number(tok) {
            self.month = Some(m);
            return Some(());
        }
        if matches!(
            upper.get(..3),
            Some("MON" | "TUE" | "WED" | "THU" | "FRI" | "SAT" | "SUN")
        ) && tok.chars().all(|c| c.is_ascii_alphabetic())
        {
            return Some(());
        }
        if tok.chars().next().is_some_and(|c| c.is_ascii_digit())
            && tok.contains(':')
            && !tok.contains(['-', '/'])
        {
            return parse_time(tok, self);
        }
        if tok.chars().next().is_some_and(|c| c.is_ascii_digit())
            && tok.contains(['-', '/', '.', 'T'])
        {
            // A date token, possibly with an offset glued after a time ("2024-07-08T…-00:20").
            if (tok.len() > 10 || tok.contains(['-', '/', '.']))
                && parse_date_token(tok, self).is_some()
            {
                return Some(());
            }
        }
        if let Some(off) = zone_offset(tok) {
            if self.time.is_some() || self.year.is_some() {
                self.offset = Some(off);
                return Some(());
            }
        }
        if let Ok(n) = tok.parse::<u32>() {
            self.numbers.push((n, tok.len()));
            return Some(());
        }
        None
    }

    /// Bare numbers: Y M D in Korean order, or D Y / Y D around a month name.
    fn place_numbers(&mut self) -> Option<()> {
        let numbers = std::mem::take(&mut self.numbers);
        for (n, len) in numbers {
            if len > 4 {
                return None;
            } else if self.year.is_none() && (len == 4 || n > 31) {
                self.year = Some(n as i32);
            } else if self.month.is_none() && self.year.is_some() && self.day.is_none() {
                self.month = Some(n);
            } else if self.day.is_none() {
                self.day = Some(n);
            } else if self.year.is_none() {
                self.year = Some(if len <= 2 { 2000 + n as i32 } else { n as i32 });
            } else {
                return None;
            }
        }
        Some(())
    }

    /// The date and time the parts name, on the 24-hour clock (`24:00` is the next midnight).
    fn local_time(&self) -> Option<NaiveDateTime> {
        // W3C-DTF allows a bare year ("2003") and a year and month ("2003-12").
        let month = match (self.month, self.day) {
            (Some(m), _) => m,
            (None, None) => 1,
            (None, Some(_)) => return None,
        };
        let date = NaiveDate::from_ymd_opt(self.year?, month, self.day.unwrap_or(1))?;
        let (mut h, m, s) = self.time.unwrap_or((0, 0, 0));
        match self.pm {
            Some(true) if h < 12 => h += 12,
            Some(false) if h == 12 => h = 0,
            _ => {}
        }
        Some(if h == 24 {
            NaiveDateTime::new(date.succ_opt()?, NaiveTime::from_hms_opt(0, m, s)?)
        } else {
            NaiveDateTime::new(date, NaiveTime::from_hms_opt(h, m, s)?)
        })
    }
}

/// `naive` at the offset the text gave (minutes east of UTC), else in `tz`, the club's zone; an
/// ambiguous local time is the earlier instant, one that does not exist is no date.
fn in_zone(naive: NaiveDateTime, offset: Option<i32>, tz: Tz) -> Option<DateTime<Utc>> {
    match offset {
        Some(off) => {
            let fixed = FixedOffset::east_opt(off * 60)?;
            fixed
                .from_local_datetime(&naive)
                .single()
                .map(|d| d.with_timezone(&Utc))
        }
        None => match tz.from_local_datetime(&naive) {
            LocalResult::Single(d) => Some(d.with_timezone(&Utc)),
            LocalResult::Ambiguous(d, _) => Some(d.with_timezone(&Utc)),
            LocalResult::None => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Asia::Seoul;
    use chrono_tz::UTC;

    fn utc(s: &str) -> Option<DateTime<Utc>> {
        Some(DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc))
    }

    #[test]
    fn dates_in_every_shape_members_use() {
        let cases = [
            (
                "2024-10-05T21:30:00+09:00",
                Seoul,
                utc("2024-10-05T12:30:00Z"),
            ),
            (
                "Sat, 05 Oct 2024 21:30:00 +0900",
                Seoul,
                utc("2024-10-05T12:30:00Z"),
            ),
            (
                "Mon, 05 Oct 2024 21:30:00 +0900",
                Seoul,
                utc("2024-10-05T12:30:00Z"),
            ), // wrong weekday
            (
                "Sat, 05 Oct 2024 12:30:00 GMT",
                Seoul,
                utc("2024-10-05T12:30:00Z"),
            ),
            (
                "Sat, 05 Oct 2024 21:30:00 KST",
                UTC,
                utc("2024-10-05T12:30:00Z"),
            ),
            ("2024-10-05 21:30:00", Seoul, utc("2024-10-05T12:30:00Z")), // zone-less = club zone
            ("2024-10-05T21:30:00", Seoul, utc("2024-10-05T12:30:00Z")),
            ("2024-10-05", Seoul, utc("2024-10-04T15:00:00Z")),
            ("2024년 1월 5일 12:00", Seoul, utc("2024-01-05T03:00:00Z")),
            (
                "2004년 05월 28일  01:31:15",
                Seoul,
                utc("2004-05-27T16:31:15Z"),
            ),
            (
                "2004-05-25 오후 11:23:17",
                Seoul,
                utc("2004-05-25T14:23:17Z"),
            ),
            ("2024. 1. 5. 오후 3:05", Seoul, utc("2024-01-05T06:05:00Z")),
            ("2024.10.05 21:30", Seoul, utc("2024-10-05T12:30:00Z")),
            (
                "Thu, 01 Jan 04 19:48:21 GMT",
                UTC,
                utc("2004-01-01T19:48:21Z"),
            ),
            (
                "Thu,  5 Apr 2012 10:00:00 GMT",
                UTC,
                utc("2012-04-05T10:00:00Z"),
            ),
            (
                "Wed, 19 Feb 2012 22:40:00 GMT-01:01",
                UTC,
                utc("2012-02-19T23:41:00Z"),
            ),
            (
                "Mon, 13 Feb, 2012 06:28:00 UTC",
                UTC,
                utc("2012-02-13T06:28:00Z"),
            ),
            ("Thu, 01 Jan 2004", UTC, utc("2004-01-01T00:00:00Z")),
            (
                "Mon, 26 January 2004 16:31:00 PT",
                UTC,
                utc("2004-01-27T00:31:00Z"),
            ),
            (
                "Thu Aug 30 2012 17:26:16 +0200",
                UTC,
                utc("2012-08-30T15:26:16Z"),
            ),
            ("Sun Jan  4 16:29:06 2004", UTC, utc("2004-01-04T16:29:06Z")),
            (
                "2007-04-23T23:25:47.538+10:00",
                UTC,
                utc("2007-04-23T13:25:47Z"),
            ),
            (
                "2004-07-08 23:56:58 -00:20",
                UTC,
                utc("2004-07-09T00:16:58Z"),
            ),
            ("2003-12", UTC, utc("2003-12-01T00:00:00Z")),
            ("2003", UTC, utc("2003-01-01T00:00:00Z")),
            ("2013-01-27-01", UTC, None),
            ("Κυρ, 11 Ιούλ 2004 12:00:00 EST", UTC, None),
            ("", Seoul, None),
            ("Sun, 16 zzz 2012 11:47:32 GMT", UTC, None),
            ("2003-12-31T25:14:55Z", UTC, None),
            ("Sun, 99 Jun 2009 12:00:00 GMT", UTC, None),
            ("not a date", UTC, None),
        ];
        for (input, tz, want) in cases {
            assert_eq!(parse_date(input, tz), want, "{input}");
        }
    }
}
