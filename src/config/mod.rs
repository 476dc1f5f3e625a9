//! The roster and settings: `feeds.toml` as written, then validated.
//!
//! Two layers, as ripgrep separates what the user typed from what the program uses:
//! `raw.rs` mirrors the file exactly, `validate.rs` checks every value and reports every problem
//! at once (key, line, what to do), and `types.rs` is the [`Config`] the rest of the program
//! relies on. `keys.rs` knows the keys of each table and reports every unknown one, `read.rs`
//! reads the file section by section so one problem does not hide the next. `units.rs` reads
//! durations and sizes; `roster.rs` holds the club's roster rules (passes, overrides), which are
//! warnings in `fetch` and `report` and errors in `check` (`check.rs`, which also looks for the
//! local feed files on disk).

mod chat;
mod check;
mod keys;
mod problem;
mod raw;
mod read;
mod roster;
mod types;
mod units;
mod validate;

use std::path::{Path, PathBuf};

pub use chat::REMIND_BEFORE;
pub use check::{check, check_text, CheckReport};
pub use keys::known_keys;
#[cfg(test)]
pub(crate) use keys::written_keys;
pub use problem::Problem;
pub use roster::roster_problems;
pub use types::{
    available_cores, Chat, ChatKind, Club, Config, ContentMode, Email, ExtraPost, FetchConfig,
    Member, Output, Reader, Rounds, Security,
};
pub use units::{parse_duration, parse_size};

/// A problem with `feeds.toml` that stops the program before it touches anything.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read at all.
    #[error("cannot read the config {path}: {source}. Pass the roster with -c PATH, or name it in GEULTTO_AGG_CONFIG (default ./feeds.toml)")]
    Read {
        /// The path that was tried.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML, or has a key or value of the wrong shape.
    #[error("{path}: {}", .problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n  "))]
    Invalid {
        /// The config file.
        path: PathBuf,
        /// Every problem found, in file order.
        problems: Vec<Problem>,
    },
}

impl Config {
    /// Reads and validates the config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Config::from_str(&text, path)
    }

    /// Parses and validates config text; `path` names the file in messages and anchors relative
    /// paths.
    pub fn from_str(text: &str, path: &Path) -> Result<Config, ConfigError> {
        validate::validate(text, path).map_err(|problems| ConfigError::Invalid {
            path: path.to_path_buf(),
            problems,
        })
    }
}

/// A small club for unit tests: five rounds from 2024-09-29, one member `m` with one feed;
/// `extra_rounds` goes in `[rounds]`, `member_extra` in the member's table.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) fn test_club(extra_rounds: &str, member_extra: &str) -> Config {
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
