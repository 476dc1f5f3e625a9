//! `init`: a commented starter roster, and nothing else.
//!
//! The starter (`starter.toml`, built into the binary) names every key the config knows, with
//! its default and what it means; the optional `[email]` and `[chat]` sections and the optional
//! member keys are commented out. As written it passes `check`: the example member's feed is a
//! web address, so nothing it names has to exist on disk. `init` never replaces a roster: when
//! the folder already holds a `feeds.toml`, it is left as it was.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The starter `feeds.toml`.
pub const STARTER: &str = include_str!("starter.toml");

/// Why no starter was written.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// The folder already has a roster.
    #[error("{0} exists; init never replaces a roster (edit it, or run init in an empty folder)")]
    Exists(PathBuf),
    /// The folder or the file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// What was being written.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// Writes the starter as `feeds.toml` into `dir` (created when missing) and returns its path.
pub fn init(dir: &Path) -> Result<PathBuf, InitError> {
    let path = dir.join("feeds.toml");
    let failed = |path: &Path| {
        let path = path.to_path_buf();
        move |source| InitError::Write { path, source }
    };
    std::fs::create_dir_all(dir).map_err(failed(dir))?;
    // `create_new`: a roster that appears meanwhile is not replaced either.
    let mut file = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(InitError::Exists(path))
        }
        Err(e) => return Err(failed(&path)(e)),
    };
    if let Err(e) = file
        .write_all(STARTER.as_bytes())
        .and_then(|()| file.sync_all())
    {
        // Half a starter is worse than none: the next `init` would refuse to replace it.
        drop(file);
        let _ = std::fs::remove_file(&path);
        return Err(failed(&path)(e));
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{check_text, known_keys, written_keys};

    /// The starter with its commented-out keys and section headers switched on.
    fn uncommented() -> String {
        STARTER
            .lines()
            .map(|line| {
                let rest = line.strip_prefix("# ").unwrap_or("");
                let header = rest.starts_with('[')
                    && rest
                        .split('#')
                        .next()
                        .is_some_and(|h| h.trim_end().ends_with(']'));
                let key = rest
                    .split_once(" = ")
                    .is_some_and(|(k, _)| k.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
                if header || key {
                    rest
                } else {
                    line
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn the_starter_names_every_known_key_where_it_belongs() {
        let all = uncommented();
        let written = written_keys(&all);
        let missing: Vec<String> = known_keys()
            .into_iter()
            .filter(|k| !written.contains(k))
            .collect();
        assert!(missing.is_empty(), "the starter lacks {missing:?}");
        // Every commented-out key is spelled right and in its table.
        let report = check_text(&all, Path::new("feeds.toml"));
        let unknown: Vec<_> = report
            .problems
            .iter()
            .filter(|p| p.message.starts_with("unknown field"))
            .collect();
        assert!(unknown.is_empty(), "{unknown:#?}");
    }

    #[test]
    fn the_starter_passes_check_as_written() {
        let report = check_text(STARTER, Path::new("/nowhere/feeds.toml"));
        assert!(report.ok, "{:#?}", report.problems);
        assert_eq!((report.members, report.feeds), (1, 1));
    }

    #[test]
    fn init_refuses_a_folder_that_has_a_roster() {
        let dir = tempfile::tempdir().unwrap();
        let path = init(&dir.path().join("club")).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), STARTER);
        std::fs::write(&path, "mine").unwrap();
        let again = init(&dir.path().join("club"));
        assert!(matches!(again, Err(InitError::Exists(_))), "{again:?}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "mine");
    }
}
