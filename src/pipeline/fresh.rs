//! Whether a `fetch` run must render the outputs, or finds them up to date.
//!
//! The outputs are a function of the store, the config (templates included), the binary and
//! `now`. A run skips rendering — every output at once, whichever files there are — only when
//! all four say nothing changed since the last render:
//!
//! - the store: its `outputs_stale` flag, which triggers set on any write to what the outputs
//!   are made of (the fetch log and a feed's validators do not count);
//! - the config, the templates folder and the binary: a key over the validated config, the
//!   templates' bytes and the executable's size and modification time;
//! - time: the outputs depend on `now` only through the rounds — which are open or closed, and
//!   whether each closed round's evidence time (its close plus `late_after`) has passed and each
//!   feed was read after it — and through dates after `now`, which the outputs clamp (with such a
//!   date stored, every run renders). Those go in the key too;
//! - the files: each file the last render wrote is still there with the same bytes.
//!
//! A new output file needs nothing here: the record lists whatever the render wrote.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::error::RunError;
use super::hand::hand_posts;
use crate::config::Config;
use crate::ids::body_hash;
use crate::render::Written;
use crate::rounds;
use crate::store::Store;

/// The outputs' key at `now`: equal keys (and a store not stale) mean equal outputs.
pub(super) fn key(config: &Config, store: &Store, now: DateTime<Utc>) -> Result<String, RunError> {
    let mut k = String::new();
    let _ = writeln!(k, "binary {}", binary_id());
    let _ = writeln!(k, "config {config:?}");
    if let Some(dir) = &config.output.templates {
        let _ = writeln!(k, "templates {}", folder_id(dir));
    }
    let all = rounds::rounds(&config.rounds, config.club.timezone);
    let late_after = chrono::Duration::from_std(config.rounds.late_after).unwrap_or_default();
    let evidence: Vec<i64> = all
        .iter()
        .map(|r| (r.closes_at + late_after).timestamp())
        .collect();
    for (r, e) in all.iter().zip(&evidence) {
        let _ = write!(
            k,
            "{}{}",
            r.state(now).as_str(),
            u8::from(now.timestamp() >= *e)
        );
    }
    let _ = writeln!(k);
    for (feed, read) in store.last_reads()? {
        let after = read.map_or(0, |at| evidence.iter().filter(|e| **e <= at).count());
        let _ = write!(k, "{feed}:{after} ");
    }
    let _ = writeln!(k);
    let tz = config.club.timezone;
    let hand_later = hand_posts(config, store)?
        .iter()
        .any(|h| h.facts(tz).effective > now);
    if hand_later || store.dates_after(now.timestamp())? {
        let _ = writeln!(k, "now {}", now.timestamp());
    }
    Ok(body_hash(k.as_bytes()))
}

/// The outputs as the last render left them, each `unchanged`, when nothing they are made of
/// changed since: the store is not stale, the key is the same and every file is as written.
/// `None`: they must be rendered.
pub(super) fn up_to_date(store: &Store, key: &str) -> Result<Option<Vec<Written>>, RunError> {
    if store.outputs_stale()? {
        return Ok(None);
    }
    let Some(record) = store.last_render()? else {
        return Ok(None);
    };
    let mut lines = record.lines();
    if lines.next() != Some(key) {
        return Ok(None);
    }
    let mut files = Vec::new();
    for line in lines {
        let Some((hash, path)) = line.split_once(' ') else {
            return Ok(None);
        };
        let path = PathBuf::from(path);
        if file_hash(&path).as_deref() != Some(hash) {
            return Ok(None);
        }
        files.push(Written {
            path,
            changed: false,
            removed: false,
        });
    }
    Ok((!files.is_empty()).then_some(files))
}

/// Records a render: its key and each file written, with the hash of its bytes.
pub(super) fn remember(store: &Store, key: &str, written: &[Written]) -> Result<(), RunError> {
    let mut record = key.to_string();
    for w in written.iter().filter(|w| !w.removed) {
        // A file that cannot be read back (or a path that is not text) is left out of the
        // record, so the next run renders again.
        let (Some(hash), Some(path)) = (file_hash(&w.path), w.path.to_str()) else {
            return Ok(());
        };
        let _ = write!(record, "\n{hash} {path}");
    }
    Ok(store.outputs_rendered(&record)?)
}

fn file_hash(path: &Path) -> Option<String> {
    std::fs::read(path).ok().map(|bytes| body_hash(&bytes))
}

/// The running executable, by size and modification time: a rebuilt or upgraded binary may
/// render differently.
fn binary_id() -> String {
    std::env::current_exe()
        .and_then(std::fs::metadata)
        .map(|m| {
            let modified = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            format!("{} {modified}", m.len())
        })
        .unwrap_or_else(|_| format!("unknown {}", std::process::id()))
}

/// The files of a folder (the templates), by name and the hash of their bytes.
fn folder_id(dir: &Path) -> String {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    names.sort();
    let mut id = String::new();
    for path in names {
        let hash = file_hash(&path).unwrap_or_default();
        let _ = write!(id, "{}={hash} ", path.display());
    }
    id
}
