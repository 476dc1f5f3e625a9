//! `check`: everything wrong with a config file, in one pass, offline.
//!
//! Loading a config stops at its problems; `check` goes on past them. It reads the file as far
//! as it can be read (`read.rs`), so one unreadable section or member does not hide the others,
//! adds the roster rules (errors here, warnings elsewhere) judged on whatever could be read, and
//! looks on disk for the local feed files the members list: a missing one is a per-feed failure
//! in `fetch`, but before a run it is a mistake in the roster. Every problem comes with its line
//! and key, in file order.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::problem::{LocalFeed, Problem};
use super::validate;
use super::ConfigError;

/// What `check` found in a config file.
#[derive(Debug, Serialize)]
pub struct CheckReport {
    /// The config file.
    pub config: PathBuf,
    /// Whether the file has no problem at all.
    pub ok: bool,
    /// Every problem, in file order (those without a line last).
    pub problems: Vec<Problem>,
    /// Members that could be read.
    pub members: usize,
    /// Feeds those members list.
    pub feeds: usize,
    /// Rounds `[rounds]` declares (0 when that is unknown).
    pub rounds: usize,
}

/// Checks the config file at `path`; `Err` only when it cannot be read at all.
pub fn check(path: &Path) -> Result<CheckReport, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(check_text(&text, path))
}

/// Checks config text; `path` names the file and anchors relative paths.
pub fn check_text(text: &str, path: &Path) -> CheckReport {
    let reading = validate::read(text, path);
    let mut problems = reading.problems;
    problems.extend(reading.roster.problems());
    problems.extend(reading.local_feeds.iter().filter_map(missing_file));
    problems.sort_by_key(|p| p.line.unwrap_or(usize::MAX));
    CheckReport {
        config: path.to_path_buf(),
        ok: problems.is_empty(),
        problems,
        members: reading.roster.members.len(),
        feeds: reading.feeds,
        rounds: reading.roster.rounds.unwrap_or(0),
    }
}

/// The problem of a local feed file that is not there.
fn missing_file(feed: &LocalFeed) -> Option<Problem> {
    if feed.resolved.is_file() {
        return None;
    }
    let what = if feed.resolved.exists() {
        "is not a file"
    } else {
        "does not exist"
    };
    let resolved = std::path::absolute(&feed.resolved).unwrap_or_else(|_| feed.resolved.clone());
    Some(Problem {
        line: feed.line,
        key: feed.key.clone(),
        message: format!(
            "member `{}`: the local feed file `{}` {what} (resolved to {}); fix the path (a relative path resolves against the config file's folder) or write the feed's http(s) URL",
            feed.member,
            feed.written,
            resolved.display()
        ),
        suggestion: None,
    })
}
