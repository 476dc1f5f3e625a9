//! The embedded SQLite store: what the tool has seen, across runs.
//!
//! One file in WAL mode with numbered migrations (`schema.rs`). Tables fall in four families:
//! feeds, their health and the discovery cache (`feeds.rs`), posts with the per-feed entries that
//! point at them (`posts.rs`), the post pages the reader read (`pages.rs`), and the digests that
//! were sent (`digests.rs`). `record.rs` is the one write path of a feed's fetch: every feed's
//! update is stored whole, several feeds to one `BEGIN IMMEDIATE` transaction (the group
//! commit), so a run killed at any moment leaves a consistent store and the next run redoes
//! what was not committed. Times are Unix
//! seconds (UTC). The store keeps facts; the rules that read them (rounds, health) live in their
//! own rooms — the one rule SQL needs, a post's effective time, is the Rust function
//! [`crate::time::effective_time`], registered with SQLite rather than written again in SQL.
//! A lock file beside the database keeps two runs from overlapping.

mod deliveries;
mod digests;
mod feeds;
mod fetch_log;
mod outputs;
mod pages;
mod posts;
mod record;
mod schema;

use std::fs::File;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension};

pub use deliveries::Delivery;
pub use digests::SentDigest;
pub use feeds::{DiscoveredRow, FeedHealth, FeedRow};
pub use pages::{PageFacts, PageOutcome, PageWanted, PAGE_ATTEMPTS};
pub use posts::{JudgedPost, NewEntries, StoredPost};
pub use record::FetchRecord;

/// A store failure: the database cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store's folder could not be created.
    #[error("cannot create the folder of the store {path}: {source}. Check [storage] path and the folder's permissions")]
    Folder {
        /// The database file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// SQLite said no.
    #[error("store {path}: {source}")]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// The SQLite error.
        #[source]
        source: rusqlite::Error,
    },
    /// The schema could not be brought up to date.
    #[error("store {path}: cannot migrate the schema: {message}. Is the file from a newer geultto-agg, or not ours?")]
    Migration {
        /// The database file.
        path: PathBuf,
        /// What the migration said.
        message: String,
    },
    /// The file is an SQLite database of another program: it is left untouched.
    #[error("store {path} belongs to another program ({what}); it was left untouched. Point [storage] path at a file of its own, e.g. \"geultto-agg.db\"")]
    Foreign {
        /// The database file.
        path: PathBuf,
        /// What marks it as someone else's.
        what: String,
    },
    /// Another run holds the lock.
    #[error("another geultto-agg run holds the lock {0}; wait for it to finish")]
    Locked(PathBuf),
    /// The lock file could not be created.
    #[error("cannot create the lock file {path}: {source}")]
    LockFile {
        /// The lock file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// `PRAGMA application_id` of our stores ("GEUL"): a file with another id is not ours.
pub const APPLICATION_ID: i32 = 0x4745_554c;

/// Result of store operations.
pub type Result<T> = std::result::Result<T, StoreError>;

/// The open store.
pub struct Store {
    /// Copying the log beside this connection once [`Store::checkpoint_beside`] started it;
    /// declared first so that it ends, and closes its connection, before `conn` closes (the
    /// last connection to close copies what is left and removes the log).
    checkpointer: Option<Checkpointer>,
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

/// Checks that the file at `path` is ours, or new, before anything writes to it, and marks it
/// as ours. A store made before the mark (no id, our `meta` and `feeds` tables) is adopted;
/// any other file with tables or another id is refused untouched.
fn claim(conn: &Connection, path: &Path) -> Result<()> {
    let wrap = |source| StoreError::Sqlite {
        path: path.to_path_buf(),
        source,
    };
    let id: i32 = conn
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .map_err(wrap)?;
    if id == APPLICATION_ID {
        return Ok(());
    }
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .and_then(|mut stmt| {
            stmt.query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()
        })
        .map_err(wrap)?;
    let ours_unmarked = id == 0
        && ["meta", "feeds", "posts"]
            .iter()
            .all(|t| tables.iter().any(|n| n == t));
    if id != 0 || !(tables.is_empty() || ours_unmarked) {
        let what = if id != 0 {
            format!("its application_id is {id:#x}")
        } else {
            let shown: Vec<&str> = tables.iter().take(5).map(String::as_str).collect();
            format!("its tables are {}", shown.join(", "))
        };
        return Err(StoreError::Foreign {
            path: path.to_path_buf(),
            what,
        });
    }
    conn.pragma_update(None, "application_id", APPLICATION_ID)
        .map_err(wrap)
}

impl Store {
    /// Opens (creating when absent) and migrates the store. A file that belongs to another
    /// program is refused before anything is written to it.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::Folder {
                path: path.to_path_buf(),
                source,
            })?;
        }
        let mut conn = Connection::open(path).map_err(|source| StoreError::Sqlite {
            path: path.to_path_buf(),
            source,
        })?;
        let wrap = |source| StoreError::Sqlite {
            path: path.to_path_buf(),
            source,
        };
        claim(&conn, path)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(wrap)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(wrap)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(wrap)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(wrap)?;
        // Room for every statement a feed's transaction runs, so none is prepared twice.
        conn.set_prepared_statement_cache_capacity(64);
        // The writer's own checkpoint, every 32 MB of WAL rather than 4 MB, is for when nothing
        // copies the log beside it (`checkpoint_beside`): each copies the same hot index pages
        // into the database again, and it makes the commit that crosses the mark wait.
        conn.pragma_update(None, "wal_autocheckpoint", 8192)
            .map_err(wrap)?;
        // A statement that may need undoing within its transaction (one that fires a trigger)
        // keeps its undo pages in a temporary file unless temporaries live in memory; they are
        // a few pages, gone when the statement ends.
        conn.pragma_update(None, "temp_store", "MEMORY")
            .map_err(wrap)?;
        register_effective_time(&conn).map_err(wrap)?;
        schema::migrations()
            .to_latest(&mut conn)
            .map_err(|e| StoreError::Migration {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
        Ok(Store {
            checkpointer: None,
            conn,
            path: path.to_path_buf(),
        })
    }

    /// A second, read-only connection to an existing store, for a thread that reads beside the
    /// one that writes (in WAL mode a reader sees every commit made before its statement
    /// starts, and never blocks the writer). Nothing is created or migrated: the writer's
    /// [`Store::open`] did that.
    pub fn open_reader(path: &Path) -> Result<Store> {
        use rusqlite::OpenFlags;
        let wrap = |source| StoreError::Sqlite {
            path: path.to_path_buf(),
            source,
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(wrap)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(wrap)?;
        register_effective_time(&conn).map_err(wrap)?;
        Ok(Store {
            checkpointer: None,
            conn,
            path: path.to_path_buf(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Copies the write-ahead log into the database on a thread of its own, through a second
    /// connection, now and after every later group commit ([`Store::commit_group`]), while this
    /// connection goes on writing (a fetch run) or reading (a render). The copy is SQLite's
    /// passive checkpoint, safe beside readers and writers and against a kill. Done while a run
    /// waits on the network, it keeps the log short: a cold run would otherwise leave tens of
    /// megabytes of it for its last commit or the store's close to copy while the run waits.
    /// Whatever a checkpoint does not reach, the next one or closing the store copies, so its
    /// failure is no failure of the run, and is not reported.
    pub fn checkpoint_beside(&mut self) {
        let path = &self.path;
        self.checkpointer
            .get_or_insert_with(|| Checkpointer::start(path))
            .ask();
    }

    fn err(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    /// Runs `write` in one `BEGIN IMMEDIATE` transaction, committed when it succeeds and rolled
    /// back (dropped) when it fails: the store has all of it or none. Inside a group (see
    /// [`Store::begin_group`]) it writes straight into the group's transaction, and a failure
    /// rolls the whole group back, as a kill would: the feeds of that group are untouched and
    /// the next run fetches them again. (A savepoint per write would undo only the failed one,
    /// but it copies every page the write touches into an undo journal first: a third of what
    /// storing a feed cost.)
    fn immediate<T>(
        &mut self,
        write: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T> {
        let done = if self.conn.is_autocommit() {
            self.conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .and_then(|tx| {
                    let value = write(&tx)?;
                    tx.commit()?;
                    Ok(value)
                })
        } else {
            write(&self.conn).inspect_err(|_| {
                // The error is the one to report; a rollback that fails leaves the group to the
                // connection's close, which drops it all the same.
                let _ = self.conn.execute_batch("ROLLBACK");
            })
        };
        done.map_err(|e| self.err(e))
    }

    /// A value from the `meta` table.
    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        self.conn
            .prepare_cached("SELECT value FROM meta WHERE key = ?1")
            .and_then(|mut s| s.query_row([key], |r| r.get(0)).optional())
            .map_err(|e| self.err(e))
    }

    /// Sets a value in the `meta` table.
    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [key, value],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// Whether a fetch run has completed on this store before: until then every post is new,
    /// none is history.
    pub fn first_run_completed(&self) -> Result<bool> {
        Ok(self.meta("first_run_completed")?.is_some())
    }

    /// When the first fetch run on this store completed (Unix seconds): every post first seen
    /// by then was read with the whole history of its feed.
    pub fn first_run_completed_at(&self) -> Result<Option<i64>> {
        Ok(self
            .meta("first_run_completed")?
            .and_then(|v| v.parse().ok()))
    }

    /// Whether any post's HTML is kept (only `content = "full"` keeps it).
    pub fn has_post_content(&self) -> Result<bool> {
        self.conn
            .query_row("SELECT EXISTS (SELECT 1 FROM post_content)", [], |r| {
                r.get(0)
            })
            .map_err(|e| self.err(e))
    }

    /// Records that a fetch run completed at `now`.
    pub fn mark_run_completed(&self, now: i64) -> Result<()> {
        if !self.first_run_completed()? {
            self.set_meta("first_run_completed", &now.to_string())?;
        }
        self.set_meta("last_run_completed", &now.to_string())
    }

    /// `PRAGMA integrity_check` is `ok`.
    pub fn integrity_ok(&self) -> Result<bool> {
        let v: String = self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        Ok(v == "ok")
    }
}

/// Makes [`crate::time::effective_time`] callable from SQL as `effective_time(published,
/// updated, first_seen)`, so a statement that refreshes a post computes its effective time by
/// the same rule as the code that first stored it.
fn register_effective_time(conn: &Connection) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;
    conn.create_scalar_function(
        "effective_time",
        3,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let published: Option<i64> = ctx.get(0)?;
            let updated: Option<i64> = ctx.get(1)?;
            let first_seen: i64 = ctx.get(2)?;
            Ok(crate::time::effective_time(published, updated, first_seen).at)
        },
    )
}

/// An exclusive lock held for the length of a run (a `.lock` file beside the database, removed
/// when the run ends, so a finished or failed run leaves no stray file).
#[derive(Debug)]
pub struct RunLock {
    file: File,
    path: PathBuf,
}

impl RunLock {
    /// Takes the lock for the store at `db_path`, or fails at once with [`StoreError::Locked`].
    pub fn acquire(db_path: &Path) -> Result<RunLock> {
        let mut name = db_path.as_os_str().to_owned();
        name.push(".lock");
        let path = PathBuf::from(name);
        let fail = |source| StoreError::LockFile {
            path: path.clone(),
            source,
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(fail)?;
        }
        // A holder removes the file when it ends: a file locked after its holder removed it is
        // no longer the lock, so open the path again until the locked file is the one there.
        for _ in 0..8 {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .map_err(fail)?;
            match file.try_lock() {
                Ok(()) if same_file(&file, &path) => return Ok(RunLock { file, path }),
                Ok(()) => continue,
                Err(std::fs::TryLockError::WouldBlock) => return Err(StoreError::Locked(path)),
                Err(std::fs::TryLockError::Error(source)) => return Err(fail(source)),
            }
        }
        Err(StoreError::Locked(path))
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The thread of [`Store::checkpoint_beside`]; when dropped, it finishes the checkpoint it was
/// asked for and ends, so it never outlives the store.
struct Checkpointer {
    asks: Option<std::sync::mpsc::SyncSender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Checkpointer {
    fn start(path: &Path) -> Checkpointer {
        let path = path.to_path_buf();
        // One request waiting is enough: a checkpoint copies everything committed before it.
        let (asks, asked) = std::sync::mpsc::sync_channel::<()>(1);
        let thread = std::thread::Builder::new()
            .name("checkpoint".into())
            .spawn(move || {
                let Ok(conn) = Connection::open(&path) else {
                    return;
                };
                while asked.recv().is_ok() {
                    let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                }
            })
            .ok();
        Checkpointer {
            asks: Some(asks),
            thread,
        }
    }

    /// Asks for a checkpoint of everything committed so far, without waiting for it; while one
    /// is asked for and not yet begun, asking again changes nothing.
    fn ask(&self) {
        if let Some(asks) = &self.asks {
            let _ = asks.try_send(());
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.asks.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        // Removed while still locked, so no other run can have locked this file meanwhile.
        let _ = std::fs::remove_file(&self.path);
        let _ = self.file.unlock();
    }
}

/// Whether the open `file` is the file now at `path`.
#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_file: &File, path: &Path) -> bool {
    path.exists()
}

/// A store in `dir` with one feed per member, `https://{member}.example/rss`, for the store's
/// tests.
#[cfg(test)]
fn store_of(dir: &Path, members: &[&str]) -> (Store, Vec<FeedRow>) {
    let store = Store::open(&dir.join("g.db")).unwrap();
    let feeds: Vec<(String, crate::source::FeedSource)> = members
        .iter()
        .map(|m| {
            let url = format!("https://{m}.example/rss");
            (m.to_string(), crate::source::FeedSource::from_key(&url))
        })
        .collect();
    let rows = store.sync_feeds(&feeds).unwrap();
    (store, rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_migrates_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/g.db");
        let s = Store::open(&path).unwrap();
        assert!(!s.first_run_completed().unwrap());
        s.mark_run_completed(100).unwrap();
        drop(s);
        let s = Store::open(&path).unwrap();
        assert!(s.first_run_completed().unwrap());
        assert!(s.integrity_ok().unwrap());
        let mode: String = s
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn a_second_lock_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("g.db");
        let first = RunLock::acquire(&db).unwrap();
        assert!(matches!(RunLock::acquire(&db), Err(StoreError::Locked(_))));
        drop(first);
        assert!(RunLock::acquire(&db).is_ok());
    }
}
