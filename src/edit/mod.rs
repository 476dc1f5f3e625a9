//! Roster editing: the commands that change `feeds.toml` rather than read it.
//!
//! Each edit works on the file's text through `toml_edit`, so comments, order and layout stay as
//! the operator wrote them; the edited text must pass the same validation `check` applies before
//! it replaces the file, atomically. `opml.rs` adds the members of an OPML file, `submit.rs` a
//! post recorded by hand, `init.rs` writes a starter roster where there is none, `add.rs` adds a
//! member from a blog or a signup sheet of them.

pub mod add;
pub mod init;
pub mod opml;
pub mod submit;

use std::path::Path;

use crate::config::{Config, ConfigError};
use crate::render::{write_atomic, RenderError};

/// The problems the edited roster text would have, one per line; `None` when it is valid.
pub fn problems_of(edited: &str, roster: &Path) -> Option<String> {
    match Config::from_str(edited, roster) {
        Ok(_) => None,
        Err(ConfigError::Invalid { problems, .. }) => Some(
            problems
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join("\n  "),
        ),
        Err(other) => Some(other.to_string()),
    }
}

/// Replaces the roster file with `edited`, atomically (a reader never sees half a file).
pub fn replace(roster: &Path, edited: &str) -> Result<(), RenderError> {
    write_atomic(roster, edited.as_bytes()).map(|_| ())
}
