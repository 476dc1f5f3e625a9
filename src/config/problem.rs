//! What reading a config file finds besides its values: each problem with its line and key,
//! and the local feed files the members list (for `check` to look for on disk). Every stage of
//! reading (`keys`, `read`, `validate`, `roster`, `check`) speaks these; this file imports none
//! of them.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

/// One problem in the config file: where, which key, what is wrong and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// 1-based line in the file, when known.
    pub line: Option<usize>,
    /// Dotted key path, e.g. `fetch.timeout` or `members[3] (minji).feeds`.
    pub key: String,
    /// What is wrong and what to do.
    pub message: String,
    /// For an unknown key: the valid key nearest to it, which was probably meant.
    pub suggestion: Option<String>,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        if !self.key.is_empty() {
            write!(f, "`{}`: ", self.key)?;
        }
        f.write_str(&self.message)
    }
}

/// 1-based line of a byte offset.
pub(super) fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset.min(text.len()))
        .map(|t| t.matches('\n').count() + 1)
        .unwrap_or(1)
}

/// A local feed file a member lists, as written and as resolved.
#[derive(Debug, Clone)]
pub(super) struct LocalFeed {
    /// The member's id.
    pub(super) member: String,
    /// Where it is written, e.g. `members[0] (minji).feeds`.
    pub(super) key: String,
    /// The path as written.
    pub(super) written: String,
    /// The path resolved against the config file's folder.
    pub(super) resolved: PathBuf,
    /// Its line.
    pub(super) line: Option<usize>,
}
