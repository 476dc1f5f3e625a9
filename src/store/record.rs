//! The one write path of a fetch run: a feed's outcome, stored whole, and the group commit.
//!
//! Fetched with its entries, not modified, paused by its host, or failed: each lands in one
//! write together with the feed's health columns and the fetch-log row that later serves as
//! evidence for the `late` rule. A run groups several feeds' writes in one `BEGIN IMMEDIATE`
//! transaction ([`Store::begin_group`], [`Store::commit_group`]), so a run killed at any moment
//! leaves every feed either wholly stored or untouched: the feeds of the group it was filling are
//! untouched, their validators too, and the next run fetches them again in full. A write that
//! fails inside a group rolls that group back the same way. What the values mean (when to poll next, how long a pause lasts) is decided by
//! the health policy before the record is made.

use rusqlite::{params, Connection};

use super::feeds::FeedRow;
// The fetch-log row of each outcome: the evidence of what was read when, compacted as it grows.
use super::fetch_log::append as log;
use super::posts::{upsert_entries, NewEntries};
use super::{Result, Store};
use crate::fetch::FailKind;
use crate::ids::TagContext;
use crate::normalise::{FeedMeta, Post};

/// What one fetch of one feed produced, ready to be stored.
#[derive(Debug)]
pub enum FetchRecord<'a> {
    /// A body was fetched and parsed.
    Fetched {
        /// Where the feed was read after redirects.
        final_url: &'a str,
        /// HTTP status (200 for files).
        http_status: u16,
        /// The response's `ETag`, kept for the next conditional GET.
        etag: Option<&'a str>,
        /// The response's `Last-Modified`, kept for the next conditional GET.
        last_modified: Option<&'a str>,
        /// Fingerprint of the body: the same body next time counts as not modified.
        body_hash: &'a str,
        /// Target of a 301/308 first hop.
        permanent_redirect: Option<&'a str>,
        /// The feed's title, id, homepage and updated time.
        meta: &'a FeedMeta,
        /// The feed's entries, normalised.
        posts: &'a [Post],
        /// The feed's position in its member's list (0 = first listed).
        rank: usize,
        /// Authority and date for minting entry ids.
        tag: &'a TagContext,
    },
    /// The server (or the body hash) said nothing changed.
    NotModified {
        /// Where the feed was read after redirects.
        final_url: &'a str,
        /// 304, or 200 when the body hash was unchanged.
        http_status: u16,
        /// The validator to keep (this response's, else the one sent).
        etag: Option<&'a str>,
        /// The validator to keep (this response's, else the one sent).
        last_modified: Option<&'a str>,
        /// Target of a 301/308 first hop.
        permanent_redirect: Option<&'a str>,
    },
    /// The host asked us to come back later (429/503 with Retry-After): a signal, not a failure.
    Paused {
        /// The status that carried the Retry-After.
        http_status: Option<u16>,
        /// What the server said, in words.
        message: &'a str,
        /// When the host may be asked again (Unix seconds, already clamped by the policy).
        until: i64,
    },
    /// The fetch or the parse failed.
    Failed {
        /// HTTP status, when there was a response.
        http_status: Option<u16>,
        /// What kind of failure: the advice `feeds` gives follows from it.
        kind: FailKind,
        /// What happened, in words.
        error: &'a str,
        /// Not to be polled again before this time (backoff; a week when gone); `None`: next run.
        next_attempt: Option<i64>,
    },
}

/// Counts a 301/308 first hop (`?2`) toward a move: the same target on 3 runs in a row moves the
/// feed; a run without one resets the count (a move, once made, stays).
const COUNT_REDIRECT: &str = "UPDATE feeds SET
        permanent_redirects = CASE WHEN ?2 IS NULL THEN 0
                                   WHEN redirect_target = ?2 THEN permanent_redirects + 1 ELSE 1 END,
        moved_to = CASE WHEN ?2 IS NOT NULL AND redirect_target = ?2 AND permanent_redirects + 1 >= 3
                        THEN ?2 ELSE moved_to END,
        redirect_target = ?2
     WHERE id = ?1";

impl Store {
    /// Opens a group commit: the feeds recorded until [`Store::commit_group`] share one
    /// transaction, so the hot index pages they all touch are written to the WAL once per group
    /// rather than once per feed. Does nothing when a group is open already.
    pub fn begin_group(&mut self) -> Result<()> {
        if !self.conn.is_autocommit() {
            return Ok(());
        }
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| self.err(e))
    }

    /// Commits the open group, if any: from now on its feeds survive a crash. The log it wrote
    /// is copied beside the run once [`Store::checkpoint_beside`] has been called.
    pub fn commit_group(&mut self) -> Result<()> {
        if self.conn.is_autocommit() {
            return Ok(());
        }
        self.conn.execute_batch("COMMIT").map_err(|e| self.err(e))?;
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.ask();
        }
        Ok(())
    }

    /// Stores one feed's fetch outcome whole (its own transaction, or part of the open group,
    /// which it rolls back if it fails); returns what it added.
    pub fn record(
        &mut self,
        feed: &FeedRow,
        record: &FetchRecord<'_>,
        now: i64,
    ) -> Result<NewEntries> {
        let first_run_completed = self.first_run_completed()?;
        self.immediate(|tx| match record {
            FetchRecord::Fetched { .. } => fetched(tx, feed, record, now, first_run_completed),
            FetchRecord::NotModified { .. } => {
                not_modified(tx, feed, record, now).map(|()| NewEntries::default())
            }
            FetchRecord::Paused {
                http_status,
                message,
                until,
            } => exec(
                tx,
                "UPDATE feeds SET last_attempt = ?2, http_status = ?3, last_error = ?4, paused_until = ?5 WHERE id = ?1",
                params![feed.id, now, http_status, message, until],
            )
            .and_then(|_| log(tx, feed, now, "paused", *http_status, Some(message), 0))
            .map(|()| NewEntries::default()),
            FetchRecord::Failed { .. } => {
                failed(tx, feed, record, now).map(|()| NewEntries::default())
            }
        })
    }
}

/// A fetched body: entries stored, validators and health reset, the redirect counted.
fn fetched(
    tx: &Connection,
    feed: &FeedRow,
    record: &FetchRecord<'_>,
    now: i64,
    first_run_completed: bool,
) -> rusqlite::Result<NewEntries> {
    let FetchRecord::Fetched {
        final_url,
        http_status,
        etag,
        last_modified,
        body_hash,
        permanent_redirect,
        meta,
        posts,
        rank,
        tag,
    } = record
    else {
        return Ok(NewEntries::default());
    };
    let added = upsert_entries(tx, feed, posts, *rank, now, first_run_completed, tag)?;
    exec(
        tx,
        "UPDATE feeds SET title = ?2, feed_uid = ?3, site_link = ?4, feed_updated = ?5,
            etag = ?6, last_modified = ?7, body_hash = ?8, final_url = ?9,
            last_attempt = ?10, last_success = ?10, first_success = COALESCE(first_success, ?10),
            http_status = ?11, consecutive_failures = 0, last_error = NULL, fail_kind = NULL,
            next_attempt = NULL, gone_since = NULL,
            items = (SELECT COUNT(*) FROM entries WHERE feed_id = ?1),
            last_post = (SELECT MAX(p.effective) FROM entries e JOIN posts p ON p.id = e.post_id WHERE e.feed_id = ?1)
         WHERE id = ?1",
        params![
            feed.id,
            meta.title,
            meta.id,
            meta.site_link,
            meta.updated.map(|t| t.timestamp()),
            etag,
            last_modified,
            body_hash,
            final_url,
            now,
            http_status,
        ],
    )?;
    exec(tx, COUNT_REDIRECT, params![feed.id, permanent_redirect])?;
    log(
        tx,
        feed,
        now,
        "fetched",
        Some(*http_status),
        None,
        added.entries as i64,
    )?;
    Ok(added)
}

/// Nothing changed: new validators kept, health reset, the redirect counted.
fn not_modified(
    tx: &Connection,
    feed: &FeedRow,
    record: &FetchRecord<'_>,
    now: i64,
) -> rusqlite::Result<()> {
    let FetchRecord::NotModified {
        final_url,
        http_status,
        etag,
        last_modified,
        permanent_redirect,
    } = record
    else {
        return Ok(());
    };
    exec(
        tx,
        "UPDATE feeds SET etag = COALESCE(?2, etag), last_modified = COALESCE(?3, last_modified),
            final_url = ?4, last_attempt = ?5, last_success = ?5, http_status = ?6,
            consecutive_failures = 0, last_error = NULL, fail_kind = NULL, next_attempt = NULL,
            gone_since = NULL
         WHERE id = ?1",
        params![feed.id, etag, last_modified, final_url, now, http_status],
    )?;
    exec(tx, COUNT_REDIRECT, params![feed.id, permanent_redirect])?;
    log(tx, feed, now, "not_modified", Some(*http_status), None, 0)
}

/// A failure: counted, its kind and words kept, the next attempt set; a 410 marks it gone.
fn failed(
    tx: &Connection,
    feed: &FeedRow,
    record: &FetchRecord<'_>,
    now: i64,
) -> rusqlite::Result<()> {
    let FetchRecord::Failed {
        http_status,
        kind,
        error,
        next_attempt,
    } = record
    else {
        return Ok(());
    };
    exec(
        tx,
        "UPDATE feeds SET last_attempt = ?2, http_status = ?3,
            consecutive_failures = consecutive_failures + 1, last_error = ?4, fail_kind = ?6,
            next_attempt = ?5,
            gone_since = CASE WHEN ?3 = 410 THEN COALESCE(gone_since, ?2) ELSE NULL END
         WHERE id = ?1",
        params![
            feed.id,
            now,
            http_status,
            error,
            next_attempt,
            kind.as_str()
        ],
    )?;
    log(tx, feed, now, "failed", *http_status, Some(error), 0)
}

/// Runs one statement inside `tx`, prepared once per connection: a run stores every feed with the
/// same few statements.
fn exec(tx: &Connection, sql: &str, params: impl rusqlite::Params) -> rusqlite::Result<usize> {
    tx.prepare_cached(sql)?.execute(params)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FeedSource;

    fn store() -> (tempfile::TempDir, Store, FeedRow) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("g.db")).unwrap();
        let feed = FeedSource::from_key("https://minji.tistory.com/rss");
        let row = store
            .sync_feeds(&[("minji".into(), feed)])
            .unwrap()
            .remove(0);
        (dir, store, row)
    }

    /// A server error, as a feed's outcome.
    const SERVER_ERROR: FetchRecord<'static> = FetchRecord::Failed {
        http_status: Some(500),
        kind: FailKind::Other,
        error: "server error",
        next_attempt: None,
    };

    /// Each feed's member and its count of failures in a row, by member.
    fn failures(store: &Store) -> Vec<(String, u32)> {
        let mut f: Vec<_> = store
            .feed_health()
            .unwrap()
            .into_iter()
            .map(|h| (h.row.member_id, h.row.consecutive_failures))
            .collect();
        f.sort();
        f
    }

    #[test]
    fn a_failure_keeps_its_kind_and_a_success_clears_it() {
        let (_d, mut store, row) = store();
        let failed = FetchRecord::Failed {
            http_status: Some(200),
            kind: FailKind::NotAFeed,
            error: "words that may change from one version to the next",
            next_attempt: None,
        };
        store.record(&row, &failed, 100).unwrap();
        let health = store.feed_health().unwrap().remove(0);
        assert_eq!(health.fail_kind, Some(FailKind::NotAFeed));
        assert_eq!(health.row.consecutive_failures, 1);
        let ok = FetchRecord::NotModified {
            final_url: "https://minji.tistory.com/rss",
            http_status: 304,
            etag: None,
            last_modified: None,
            permanent_redirect: None,
        };
        store.record(&row, &ok, 200).unwrap();
        let health = store.feed_health().unwrap().remove(0);
        assert_eq!(health.fail_kind, None);
        assert_eq!(health.row.consecutive_failures, 0);
    }

    #[test]
    fn a_permanent_redirect_seen_on_three_runs_moves_the_feed() {
        let (_d, mut store, row) = store();
        let moved = |target: Option<&'static str>| FetchRecord::NotModified {
            final_url: "https://new.example/rss",
            http_status: 304,
            etag: None,
            last_modified: None,
            permanent_redirect: target,
        };
        let to = Some("https://new.example/rss");
        store.record(&row, &moved(to), 1).unwrap();
        store.record(&row, &moved(None), 2).unwrap();
        store.record(&row, &moved(to), 3).unwrap();
        store.record(&row, &moved(to), 4).unwrap();
        let moved_to = |store: &Store| store.feed_health().unwrap()[0].row.moved_to.clone();
        assert_eq!(
            moved_to(&store),
            None,
            "a run without the redirect reset the count"
        );
        store.record(&row, &moved(to), 5).unwrap();
        assert_eq!(moved_to(&store).as_deref(), to);
        store.record(&row, &moved(None), 6).unwrap();
        assert_eq!(moved_to(&store).as_deref(), to, "a move, once made, stays");
    }

    #[test]
    fn migration_5_adds_the_failure_kind_to_a_v4_store() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v4.db");
        {
            let mut conn = rusqlite::Connection::open(&path).unwrap();
            super::super::schema::migrations()
                .to_version(&mut conn, 4)
                .unwrap();
            conn.execute_batch(
                "INSERT INTO feeds(url, member_id, consecutive_failures, last_error, last_attempt)
                 VALUES ('https://a.example/rss', 'a', 2, 'timed out after 30 s', 10);",
            )
            .unwrap();
        }
        let store = Store::open(&path).unwrap();
        let health = store.feed_health().unwrap().remove(0);
        assert_eq!(health.fail_kind, None, "old failures have no kind");
        assert_eq!(health.last_error.as_deref(), Some("timed out after 30 s"));
    }

    /// Every feed in one group is stored at the group's commit; a run that dies before it (the
    /// connection closed with the group open) leaves those feeds untouched for the next run.
    #[test]
    fn a_group_is_stored_at_its_commit_and_a_run_killed_before_it_leaves_the_feeds_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, rows) = super::super::store_of(dir.path(), &["a", "b", "c"]);
        store.begin_group().unwrap();
        store.record(&rows[0], &SERVER_ERROR, 100).unwrap();
        store.record(&rows[1], &SERVER_ERROR, 100).unwrap();
        store.commit_group().unwrap();
        store.begin_group().unwrap();
        store.begin_group().unwrap(); // a group open already: nothing changes
        store.record(&rows[2], &SERVER_ERROR, 100).unwrap();
        drop(store); // killed before this group's commit
        let store = Store::open(&dir.path().join("g.db")).unwrap();
        assert_eq!(
            failures(&store),
            [("a".into(), 1), ("b".into(), 1), ("c".into(), 0)],
            "a and b committed, c untouched"
        );
        let logged: i64 = store
            .conn
            .query_row("SELECT COUNT(*) FROM fetch_log", [], |r| r.get(0))
            .unwrap();
        assert_eq!(logged, 2, "c's fetch-log row went with its group");
    }

    /// A write that fails inside a group rolls the whole group back, as a kill would: no feed of
    /// it is half stored, the store takes writes again at once, and the groups committed before
    /// it stay.
    #[test]
    fn a_write_that_fails_in_a_group_rolls_the_group_back_and_leaves_the_store_usable() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, rows) = super::super::store_of(dir.path(), &["a", "b"]);
        store.begin_group().unwrap();
        store.record(&rows[0], &SERVER_ERROR, 100).unwrap();
        store.commit_group().unwrap();
        store.begin_group().unwrap();
        store.record(&rows[0], &SERVER_ERROR, 200).unwrap();
        // A feed the store does not hold: its fetch-log row breaks the foreign key.
        let stray = FeedRow {
            id: 9_999,
            ..rows[1].clone()
        };
        let err = store.record(&stray, &SERVER_ERROR, 200).unwrap_err();
        assert!(err.to_string().contains("FOREIGN KEY"), "{err}");
        assert!(store.conn.is_autocommit(), "the group is over");
        store.commit_group().unwrap();
        assert_eq!(
            failures(&store),
            [("a".into(), 1), ("b".into(), 0)],
            "a's second failure went with its group; the first group stays"
        );
        store.record(&rows[1], &SERVER_ERROR, 300).unwrap();
        assert_eq!(failures(&store), [("a".into(), 1), ("b".into(), 1)]);
    }
}
