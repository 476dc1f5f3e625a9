//! `report` output: who posted in which round, as a terminal table, JSON or CSV.
//!
//! The table aligns by display width (Korean names take two columns per character); the JSON
//! keeps the documented shape of `report --json` (fields may be added, never renamed); the CSV
//! opens in a spreadsheet (UTF-8 with a BOM), one row per member and a column per round.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::{json, Value};
use unicode_width::UnicodeWidthStr;

use crate::rounds::{self, Judgement, PostFacts, Round, Verdict};
use crate::status::Status;
use crate::time::rfc3339;

/// Which rounds a report shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    /// The round with this number.
    One(u32),
    /// Every round of the cohort.
    All,
}

impl Selection {
    /// What `--round` asks for: a round number, `current` (the open round, or the last closed
    /// one between cohorts) or `all`; the error says what to write instead.
    pub fn from_arg(arg: &str, rounds: &[Round], now: DateTime<Utc>) -> Result<Selection, String> {
        match arg {
            "all" => Ok(Selection::All),
            "current" => {
                Ok(rounds::current_round(rounds, now).map_or(Selection::All, Selection::One))
            }
            n => match n.parse::<u32>() {
                Ok(n) if n >= 1 && n as usize <= rounds.len() => Ok(Selection::One(n)),
                _ => Err(format!(
                    "--round {n:?}: write a round number 1..={}, `current` or `all`",
                    rounds.len()
                )),
            },
        }
    }

    fn includes(self, round: u32) -> bool {
        match self {
            Selection::One(n) => n == round,
            Selection::All => true,
        }
    }
}

/// The report as JSON (the shape of `report --json`). Totals always cover every round.
pub fn json(
    club: &str,
    tz: Tz,
    judgement: &Judgement,
    now: DateTime<Utc>,
    selection: Selection,
) -> Value {
    let rounds: Vec<Value> = judgement
        .rounds
        .iter()
        .filter(|r| selection.includes(r.number))
        .map(|r| {
            json!({
                "round": r.number,
                "opens": r.opens.to_string(),
                "due": r.due.to_string(),
                "closes_at": rfc3339(r.closes_at, tz),
                "state": r.state(now).as_str(),
            })
        })
        .collect();
    let members: Vec<Value> = judgement
        .members
        .iter()
        .map(|m| {
            let rounds: Vec<Value> = m
                .rounds
                .iter()
                .filter(|v| selection.includes(v.round))
                .map(|v| {
                    let mut round = json!({
                        "round": v.round,
                        "status": v.status.as_str(),
                        "posts": v.posts.iter().map(|p| json!({
                            "title": p.title,
                            "url": p.url,
                            "published": p.published.map(|t| rfc3339(t, tz)),
                            "first_seen": rfc3339(p.first_seen, tz),
                            "chars": p.chars,
                            "chars_source": chars_source(p),
                        })).collect::<Vec<_>>(),
                        "flags": v.flags.iter().collect::<Vec<_>>(),
                    });
                    if !v.unread.is_empty() {
                        round["unverified"] = json!(v
                            .unread
                            .iter()
                            .map(|u| json!({"feed": u.feed, "why": u.why}))
                            .collect::<Vec<_>>());
                    }
                    round
                })
                .collect();
            json!({
                "id": m.id,
                "name": m.name,
                "team": m.team,
                "rounds": rounds,
                "totals": {
                    "submitted": m.totals.submitted,
                    "passes": m.totals.passes,
                    "missed": m.totals.missed,
                    "unverified": m.totals.unverified,
                    "deduction": m.totals.deduction,
                },
            })
        })
        .collect();
    json!({
        "club": club,
        "generated_at": rfc3339(now, tz),
        "rounds": rounds,
        "members": members,
    })
}

/// Where a post's length came from: `feed`, `page`, or `null` when unknown (a post recorded by
/// hand has its length from its page, when read).
fn chars_source(p: &PostFacts) -> Option<&'static str> {
    match (p.chars, p.chars_from_page) {
        (None, _) => None,
        (Some(_), true) => Some("page"),
        (Some(_), false) => Some("feed"),
    }
}

/// One letter per status, for the all-rounds table.
fn letter(status: Status) -> &'static str {
    match status {
        Status::Submitted => "O",
        Status::Late => "L",
        Status::Pass => "P",
        Status::Short => "S",
        Status::Pending => ".",
        Status::Missed => "X",
        Status::Unverified => "?",
        Status::Exempt => "-",
    }
}

/// The feeds behind each `unverified` verdict in `verdicts`, one line each: who, which round,
/// which feed and why — so an operator can fix the feed before anyone is charged.
fn unread_lines(judgement: &Judgement, selection: Selection) -> String {
    let mut out = String::new();
    for m in &judgement.members {
        for v in m.rounds.iter().filter(|v| selection.includes(v.round)) {
            for u in &v.unread {
                out.push_str(&format!(
                    "  {} round {}: {} — {}\n",
                    m.id, v.round, u.feed, u.why
                ));
            }
        }
    }
    if out.is_empty() {
        return out;
    }
    format!("\nunverified (not charged until the feeds are read):\n{out}")
}

/// Pads `s` with spaces to `width` display columns.
fn pad(s: &str, width: usize) -> String {
    let w = UnicodeWidthStr::width(s);
    format!("{s}{}", " ".repeat(width.saturating_sub(w)))
}

fn render_rows(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| UnicodeWidthStr::width(s.as_str()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let line: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(c, s)| pad(s, widths[c]))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

fn round_line(r: &Round, now: DateTime<Utc>) -> String {
    format!(
        "round {} ({} … {}, {})",
        r.number,
        r.opens,
        r.due,
        r.state(now).as_str()
    )
}

/// The report as a table for a terminal.
pub fn table(
    club: &str,
    judgement: &Judgement,
    now: DateTime<Utc>,
    selection: Selection,
) -> String {
    let mut out = String::new();
    match selection {
        Selection::One(n) => {
            let Some(round) = judgement.rounds.iter().find(|r| r.number == n) else {
                return format!("{club}: no round {n}\n");
            };
            out.push_str(&format!("{club} — {}\n\n", round_line(round, now)));
            let mut rows = vec![vec![
                "member".into(),
                "name".into(),
                "team".into(),
                "status".into(),
                "post".into(),
                "flags".into(),
            ]];
            let mut counts = std::collections::BTreeMap::new();
            for m in &judgement.members {
                let Some(v) = m.rounds.iter().find(|v| v.round == n) else {
                    continue;
                };
                *counts.entry(v.status).or_insert(0u32) += 1;
                rows.push(vec![
                    m.id.clone(),
                    m.name.clone(),
                    m.team.clone(),
                    v.status.as_str().into(),
                    post_cell(v),
                    v.flags.iter().copied().collect::<Vec<_>>().join(","),
                ]);
            }
            out.push_str(&render_rows(&rows));
            let summary: Vec<String> = counts.iter().map(|(s, c)| format!("{s} {c}")).collect();
            out.push_str(&format!("\n{}\n", summary.join(" · ")));
            out.push_str(&unread_lines(judgement, selection));
        }
        Selection::All => {
            out.push_str(&format!("{club} — all rounds\n\n"));
            let mut header = vec!["member".to_string(), "name".into(), "team".into()];
            header.extend(judgement.rounds.iter().map(|r| r.number.to_string()));
            header.extend(
                ["submitted", "passes", "missed", "unverified", "deduction"].map(String::from),
            );
            let mut rows = vec![header];
            for m in &judgement.members {
                let mut row = vec![m.id.clone(), m.name.clone(), m.team.clone()];
                row.extend(m.rounds.iter().map(|v| letter(v.status).to_string()));
                row.extend([
                    m.totals.submitted.to_string(),
                    m.totals.passes.to_string(),
                    m.totals.missed.to_string(),
                    m.totals.unverified.to_string(),
                    won(m.totals.deduction),
                ]);
                rows.push(row);
            }
            out.push_str(&render_rows(&rows));
            out.push_str(
                "\nO submitted · L late · P pass · S short · X missed · ? unverified · . pending · - exempt\n",
            );
            out.push_str(&unread_lines(judgement, selection));
        }
    }
    out
}

/// An amount in won with thousands separators: `₩10,000`.
pub fn won(amount: u64) -> String {
    format!("₩{}", super::view::thousands(amount))
}

/// A count and a noun, `1 feed` / `2 feeds` (the noun's plural with an `s`).
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn post_cell(v: &Verdict) -> String {
    let Some(first) = v.posts.first() else {
        return String::new();
    };
    let mut title: String = first.title.chars().take(30).collect();
    if first.title.chars().count() > 30 {
        title.push('…');
    }
    let chars = first.chars.map(|c| format!(" ({c}자)")).unwrap_or_default();
    let more = if v.posts.len() > 1 {
        format!(" (+{} more post(s))", v.posts.len() - 1)
    } else {
        String::new()
    };
    format!("{title}{chars}{more}")
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The report as CSV: a UTF-8 BOM, one row per member, a column per selected round, then totals.
pub fn csv(judgement: &Judgement, selection: Selection) -> String {
    let mut out = String::from("\u{feff}");
    let mut header = vec!["id".to_string(), "name".into(), "team".into()];
    header.extend(
        judgement
            .rounds
            .iter()
            .filter(|r| selection.includes(r.number))
            .map(|r| format!("round {} ({})", r.number, r.due)),
    );
    header.extend(
        [
            "submitted",
            "passes",
            "missed",
            "unverified",
            "deduction",
            "notes",
        ]
        .map(String::from),
    );
    out.push_str(
        &header
            .iter()
            .map(|h| csv_field(h))
            .collect::<Vec<_>>()
            .join(","),
    );
    out.push_str("\r\n");
    for m in &judgement.members {
        let mut row = vec![m.id.clone(), m.name.clone(), m.team.clone()];
        row.extend(
            m.rounds
                .iter()
                .filter(|v| selection.includes(v.round))
                .map(|v| v.status.as_str().to_string()),
        );
        let notes: Vec<String> = m
            .rounds
            .iter()
            .filter(|v| selection.includes(v.round))
            .flat_map(|v| {
                v.unread
                    .iter()
                    .map(move |u| format!("round {} unverified: {} — {}", v.round, u.feed, u.why))
            })
            .collect();
        row.extend([
            m.totals.submitted.to_string(),
            m.totals.passes.to_string(),
            m.totals.missed.to_string(),
            m.totals.unverified.to_string(),
            m.totals.deduction.to_string(),
            notes.join("; "),
        ]);
        out.push_str(
            &row.iter()
                .map(|f| csv_field(f))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn korean_names_align_by_display_width() {
        let t = render_rows(&[
            vec!["id".into(), "name".into(), "x".into()],
            vec!["minji".into(), "김민지".into(), "1".into()],
            vec!["a".into(), "Bob".into(), "2".into()],
        ]);
        let cols: Vec<usize> = t
            .lines()
            .map(|l| {
                let idx = l.rfind(['x', '1', '2']).unwrap();
                UnicodeWidthStr::width(&l[..idx])
            })
            .collect();
        assert_eq!(cols[0], cols[1]);
        assert_eq!(cols[1], cols[2]);
    }

    #[test]
    fn csv_quotes_what_needs_quoting() {
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("김민지"), "김민지");
    }
}
