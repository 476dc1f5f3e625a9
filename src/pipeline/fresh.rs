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
//! - the files: each file the last render wrote is still there with the same bytes (its size
//!   and modification time vouch for them; a file whose stamp changed is hashed again).
//!
//! A new output file needs nothing here: the record lists whatever the render wrote.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};

use super::error::RunError;
use super::hand::hand_posts;
use crate::config::Config;
use crate::ids::{body_hash, value_hash};
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
    let Some((recorded_key, recorded)) = read_record(&record) else {
        return Ok(None);
    };
    if recorded_key != key {
        return Ok(None);
    }
    let mut files = Vec::new();
    let mut unstamped = false;
    // The same record with the stamps as they are now: kept when the last render left files
    // unstamped (only just written), whose bytes this check has just read, so the next run need
    // not read them again.
    let (now, mut restamped) = (SystemTime::now(), key.to_string());
    for (path, file) in recorded {
        let Some(meta) = file.holds(Path::new(path)) else {
            return Ok(None);
        };
        unstamped |= file.stamp == NO_STAMP;
        let _ = write!(
            restamped,
            "\n{} {} {path}",
            file.hash,
            stamp_to_record(&meta, now)
        );
        files.push(Written::unchanged(PathBuf::from(path)));
    }
    if files.is_empty() {
        return Ok(None);
    }
    if unstamped {
        store.outputs_rendered(&restamped)?;
    }
    Ok(Some(files))
}

/// One file of a render record: the hash of the bytes the render left, and the file's stamp
/// then (size and modification time, or `-` when it was too fresh to vouch for them).
struct Recorded {
    hash: String,
    stamp: String,
}

impl Recorded {
    /// The file's metadata when the file at `path` still holds the recorded bytes; `None` when
    /// it does not (or is gone). An unchanged stamp vouches for them without reading the file
    /// (as `make` and `git` trust a file's size and time); a changed one (the file touched or
    /// edited) has its bytes hashed and compared.
    fn holds(&self, path: &Path) -> Option<std::fs::Metadata> {
        let meta = std::fs::metadata(path).ok()?;
        (self.vouched_by(&meta) || file_hash(path).as_deref() == Some(self.hash.as_str()))
            .then_some(meta)
    }

    /// Whether the file's metadata now is the recorded stamp: the file untouched since.
    fn vouched_by(&self, meta: &std::fs::Metadata) -> bool {
        self.stamp != NO_STAMP && stamp_of(meta).as_deref() == Some(self.stamp.as_str())
    }
}

/// The stamp recorded for a file whose stamp cannot vouch for its bytes.
const NO_STAMP: &str = "-";

/// A file modified less than this long before it is recorded gets no stamp: an edit within the
/// file system's clock tick of the render's own write could leave size and time as they were
/// (git's "racily clean" files). The next run hashes such a file once and stamps it then.
const FRESH: std::time::Duration = std::time::Duration::from_secs(2);

/// A file's size and modification time (nanoseconds), as `<size>.<ns>`.
fn stamp_of(meta: &std::fs::Metadata) -> Option<String> {
    let modified = meta.modified().ok()?;
    let ns = modified.duration_since(UNIX_EPOCH).ok()?.as_nanos();
    Some(format!("{}.{ns}", meta.len()))
}

/// The stamp to record for a file at `now`: [`NO_STAMP`] when it was modified less than
/// [`FRESH`] before (or its time cannot be read).
fn stamp_to_record(meta: &std::fs::Metadata, now: SystemTime) -> String {
    let fresh = meta
        .modified()
        .ok()
        .and_then(|m| now.duration_since(m).ok())
        .is_none_or(|age| age < FRESH);
    match stamp_of(meta) {
        Some(s) if !fresh => s,
        _ => NO_STAMP.to_string(),
    }
}

/// A render record read back ([`remember`] writes it): its key, then each file the render
/// wrote as `<hash> <stamp> <path>`, read as (path, what was recorded). `None` when a line is
/// not of that form (a record an older version wrote: the outputs are then rendered once more).
fn read_record(record: &str) -> Option<(&str, Vec<(&str, Recorded)>)> {
    let mut lines = record.lines();
    let key = lines.next()?;
    let files = lines
        .map(|l| {
            let (hash, rest) = l.split_once(' ')?;
            let (stamp, path) = rest.split_once(' ')?;
            let (hash, stamp) = (hash.to_string(), stamp.to_string());
            Some((path, Recorded { hash, stamp }))
        })
        .collect::<Option<Vec<_>>>()?;
    Some((key, files))
}

/// The files of a render record, by path (none when the record cannot be read).
fn recorded_files(record: &str) -> HashMap<String, Recorded> {
    read_record(record)
        .map(|(_, files)| files)
        .unwrap_or_default()
        .into_iter()
        .map(|(path, r)| (path.to_string(), r))
        .collect()
}

/// The marks of the members' pages: a member's page is a function of the render's key (config,
/// templates, binary, round states) and that member's judgement (verdicts, and the posts in
/// them), so its mark is the hash of those two. A `fetch` that must render re-renders a member's
/// page only when its mark differs from the one the last render left, or the file is no longer
/// the bytes that render recorded: in a big club most pages are the same from one run to the
/// next, and a page grows with its member's posts over a cohort. `build` renders every page.
pub(super) struct PageMarks {
    /// The last render's mark of each member's page.
    before: HashMap<String, String>,
    /// What the last render recorded of each file it wrote, by path.
    files: HashMap<String, Recorded>,
    /// The marks of this render, as they will be kept.
    now: String,
}

impl PageMarks {
    /// The marks the last render left (none at all for `build`, which renders every page).
    pub(super) fn load(store: &Store, reuse: bool) -> Result<Self, RunError> {
        let mut marks = PageMarks {
            before: HashMap::new(),
            files: HashMap::new(),
            now: String::new(),
        };
        if !reuse {
            return Ok(marks);
        }
        marks.before = store
            .page_marks()?
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(member, mark)| (member.to_string(), mark.to_string()))
            .collect();
        marks.files = recorded_files(&store.last_render()?.unwrap_or_default());
        Ok(marks)
    }

    /// The mark of a member's page, `judged` being the hash of the member's judgement
    /// (`ids::value_hash128`; the judgement's `Hash` covers every verdict and post the page
    /// shows). The key names the binary, so a mark is never compared with one a build that may
    /// hash differently made.
    pub(super) fn mark(key: &str, judged: u128) -> String {
        value_hash(&(key, judged))
    }

    /// Notes this render's mark of `member`'s page; says whether the page at `path` is already
    /// what rendering it would give (the same mark as last time, and the file as recorded).
    pub(super) fn unchanged(&mut self, member: &str, mark: &str, path: &Path) -> bool {
        self.note(member, mark);
        let recorded = path.to_str().and_then(|p| self.files.get(p));
        self.before.get(member).is_some_and(|m| m == mark)
            && recorded.is_some_and(|r| r.holds(path).is_some())
    }

    /// Notes this render's mark of `member`'s page, a page already made.
    pub(super) fn note(&mut self, member: &str, mark: &str) {
        let _ = writeln!(self.now, "{member} {mark}");
    }

    /// Keeps this render's marks for the next one.
    pub(super) fn save(&self, store: &Store) -> Result<(), RunError> {
        Ok(store.set_page_marks(&self.now)?)
    }
}

/// Records a render: its key and each file written, with the hash of its bytes and its stamp.
/// The hash is the one the write had in hand; failing that, a file whose stamp is the one the
/// last render recorded keeps that record's hash unread; failing that, the file is read.
pub(super) fn remember(store: &Store, key: &str, written: &[Written]) -> Result<(), RunError> {
    let before = recorded_files(&store.last_render()?.unwrap_or_default());
    let now = SystemTime::now();
    let mut record = key.to_string();
    for w in written.iter().filter(|w| !w.removed) {
        // A file that cannot be read back (or a path that is not text) is left out of the
        // record, so the next run renders again.
        let (Some(path), Ok(meta)) = (w.path.to_str(), std::fs::metadata(&w.path)) else {
            return Ok(());
        };
        let kept = || {
            before
                .get(path)
                .filter(|r| r.vouched_by(&meta))
                .map(|r| r.hash.clone())
        };
        let Some(hash) = w.hash.clone().or_else(kept).or_else(|| file_hash(&w.path)) else {
            return Ok(());
        };
        let _ = write!(record, "\n{hash} {} {path}", stamp_to_record(&meta, now));
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
