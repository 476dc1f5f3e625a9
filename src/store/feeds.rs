//! Feeds as the store knows them: validators, health, where they moved, and the discovery cache
//! of members who gave only a blog.
//!
//! Rows are read here; a fetch's outcome is written by `record.rs`, in one transaction with the
//! feed's entries and its fetch-log row.

use std::collections::HashMap;

use rusqlite::{params, OptionalExtension};

use super::{Result, Store};
use crate::fetch::{FailKind, Hostname};
use crate::source::FeedSource;

/// A feed as the store knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedRow {
    /// Row id (what entries and the fetch log point at).
    pub id: i64,
    /// Where the feed lives, as the roster names it (its key in the store).
    pub source: FeedSource,
    /// The member the feed belongs to.
    pub member_id: String,
    /// The `ETag` of the last successful fetch, sent back as `If-None-Match`.
    pub etag: Option<String>,
    /// The `Last-Modified` of the last successful fetch, sent back as `If-Modified-Since`.
    pub last_modified: Option<String>,
    /// Hash of the last processed body.
    pub body_hash: Option<String>,
    /// When the feed was first fetched successfully.
    pub first_success: Option<i64>,
    /// Where 301/308 redirects seen on 3 runs in a row moved it (later fetches go there).
    pub moved_to: Option<String>,
    /// Failures in a row.
    pub consecutive_failures: u32,
    /// Not polled before this time (backoff after failures; weekly when gone).
    pub next_attempt: Option<i64>,
    /// Its host asked (Retry-After) to be left alone until this time.
    pub paused_until: Option<i64>,
    /// When it first answered 410 Gone (cleared by a later success).
    pub gone_since: Option<i64>,
}

impl FeedRow {
    /// Where to poll the feed: where a permanent redirect moved it, else where the roster says.
    pub fn poll_source(&self) -> FeedSource {
        match (&self.source, self.moved_to.as_deref()) {
            (FeedSource::Url(_), Some(moved)) => match url::Url::parse(moved) {
                Ok(u) => FeedSource::Url(u),
                Err(_) => self.source.clone(),
            },
            _ => self.source.clone(),
        }
    }

    /// The exact host polled (a Retry-After pause applies to it), `None` for a local file.
    pub fn poll_host(&self) -> Option<Hostname> {
        match self.poll_source() {
            FeedSource::Url(u) => Hostname::of(&u),
            FeedSource::Path(_) => None,
        }
    }
}

/// The columns [`row_of`] reads, in its order.
const ROW_COLUMNS: &str = "id, url, member_id, etag, last_modified, body_hash, first_success, \
                           moved_to, consecutive_failures, next_attempt, paused_until, gone_since";

fn row_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<FeedRow> {
    Ok(FeedRow {
        id: r.get(0)?,
        source: FeedSource::from_key(&r.get::<_, String>(1)?),
        member_id: r.get(2)?,
        etag: r.get(3)?,
        last_modified: r.get(4)?,
        body_hash: r.get(5)?,
        first_success: r.get(6)?,
        moved_to: r.get(7)?,
        consecutive_failures: r.get(8)?,
        next_attempt: r.get(9)?,
        paused_until: r.get(10)?,
        gone_since: r.get(11)?,
    })
}

/// A member's cached discovery result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveredRow {
    /// The member who gave only a blog.
    pub member_id: String,
    /// The blog address it was found from.
    pub blog: String,
    /// The feed found, if any.
    pub feed_url: Option<String>,
    /// The rule that found it.
    pub rule: Option<String>,
    /// The platform the blog is on (`tistory`, `velog`, …).
    pub platform: Option<String>,
    /// Why nothing was found.
    pub error: Option<String>,
    /// When discovery last ran.
    pub attempted_at: i64,
    /// Discovery attempts for this blog.
    pub attempts: u32,
}

/// What the store remembers of a feed's health, beyond the row a fetch needs.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedHealth {
    /// The feed row (validators, failures, backoff, pause, move, gone).
    pub row: FeedRow,
    /// The feed's own title.
    pub title: Option<String>,
    /// When it was last polled.
    pub last_attempt: Option<i64>,
    /// When it was last read successfully (fetched, or not modified).
    pub last_success: Option<i64>,
    /// The HTTP status of the last answer.
    pub http_status: Option<u16>,
    /// The last error, in words for an operator.
    pub last_error: Option<String>,
    /// What kind of failure the last error was (`None` after a success, and for failures
    /// stored before the kind was kept).
    pub fail_kind: Option<FailKind>,
    /// Entries the feed has carried.
    pub items: u32,
    /// The newest post's effective time.
    pub last_post: Option<i64>,
    /// The 301/308 target being counted toward a move.
    pub redirect_target: Option<String>,
    /// Runs in a row that saw that redirect.
    pub permanent_redirects: u32,
}

impl Store {
    /// Makes sure every feed of the roster has a row (owner updated) and returns the rows in the
    /// order given: `(member id, feed)`.
    pub fn sync_feeds(&self, feeds: &[(String, FeedSource)]) -> Result<Vec<FeedRow>> {
        // One transaction for the whole roster, not a commit per feed (a thousand commits were
        // most of the time a run took before its first request).
        let tx = if self.conn.is_autocommit() {
            Some(self.conn.unchecked_transaction().map_err(|e| self.err(e))?)
        } else {
            None
        };
        let mut rows = Vec::with_capacity(feeds.len());
        let mut insert = self
            .conn
            .prepare_cached(
                "INSERT INTO feeds(url, member_id) VALUES (?1, ?2)
                 ON CONFLICT(url) DO UPDATE SET member_id = excluded.member_id",
            )
            .map_err(|e| self.err(e))?;
        for (member, source) in feeds {
            insert
                .execute(params![source.key(), member])
                .map_err(|e| self.err(e))?;
        }
        drop(insert);
        for (_, source) in feeds {
            if let Some(row) = self.feed(source)? {
                rows.push(row);
            }
        }
        if let Some(tx) = tx {
            tx.commit().map_err(|e| self.err(e))?;
        }
        Ok(rows)
    }

    /// The row of this feed, if it was ever synced.
    pub fn feed(&self, source: &FeedSource) -> Result<Option<FeedRow>> {
        self.conn
            .prepare_cached(&format!("SELECT {ROW_COLUMNS} FROM feeds WHERE url = ?1"))
            .and_then(|mut stmt| stmt.query_row([source.key()], row_of).optional())
            .map_err(|e| self.err(e))
    }

    /// Health of every feed, by member then URL.
    pub fn feed_health(&self) -> Result<Vec<FeedHealth>> {
        self.health_where(-1)
    }

    /// Health of the feeds that failed on more than `failures` runs in a row, by member then URL:
    /// the feeds a list of those in trouble is drawn from, without reading every feed's row.
    pub fn feed_health_failing(&self, failures: u32) -> Result<Vec<FeedHealth>> {
        self.health_where(i64::from(failures))
    }

    /// The feeds with more than `failures` failures in a row (`-1`: all).
    fn health_where(&self, failures: i64) -> Result<Vec<FeedHealth>> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {ROW_COLUMNS}, title, last_attempt, last_success, http_status,
                        last_error, fail_kind, items, last_post, redirect_target, permanent_redirects
                 FROM feeds WHERE consecutive_failures > ?1 ORDER BY member_id, url"
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([failures], |r| {
                Ok(FeedHealth {
                    row: row_of(r)?,
                    title: r.get(12)?,
                    last_attempt: r.get(13)?,
                    last_success: r.get(14)?,
                    http_status: r.get(15)?,
                    last_error: r.get(16)?,
                    fail_kind: r
                        .get::<_, Option<String>>(17)?
                        .and_then(|k| k.parse::<FailKind>().ok()),
                    items: r.get(18)?,
                    last_post: r.get(19)?,
                    redirect_target: r.get(20)?,
                    permanent_redirects: r.get(21)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.err(e))
    }

    /// Each feed's store id and last error by its source key: all the round judge needs of a
    /// feed (a full [`FeedHealth`] per feed would sit beside the judge's posts at its peak).
    pub fn judged_feeds(&self) -> Result<HashMap<String, (i64, Option<String>)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT url, id, last_error FROM feeds")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                let key = FeedSource::from_key(&r.get::<_, String>(0)?).key();
                Ok((key, (r.get(1)?, r.get(2)?)))
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| self.err(e))
    }

    /// One feed of [`Store::judged_feeds`], by its key: its id and last error, if it was ever
    /// synced.
    pub fn judged_feed(&self, key: &str) -> Result<Option<(i64, Option<String>)>> {
        self.conn
            .prepare_cached("SELECT id, last_error FROM feeds WHERE url = ?1")
            .and_then(|mut stmt| {
                stmt.query_row([key], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
            })
            .map_err(|e| self.err(e))
    }

    /// A member's cached discovery, if any.
    pub fn discovered(&self, member_id: &str) -> Result<Option<DiscoveredRow>> {
        self.conn
            .query_row(
                "SELECT member_id, blog, feed_url, rule, platform, error, attempted_at, attempts
                 FROM discovered WHERE member_id = ?1",
                [member_id],
                |r| {
                    Ok(DiscoveredRow {
                        member_id: r.get(0)?,
                        blog: r.get(1)?,
                        feed_url: r.get(2)?,
                        rule: r.get(3)?,
                        platform: r.get(4)?,
                        error: r.get(5)?,
                        attempted_at: r.get(6)?,
                        attempts: r.get(7)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Caches a discovery result for a member (attempts count up while the blog is the same).
    pub fn record_discovery(&self, row: &DiscoveredRow) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO discovered(member_id, blog, feed_url, rule, platform, error, attempted_at, attempts)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1)
                 ON CONFLICT(member_id) DO UPDATE SET
                    attempts = CASE WHEN blog = excluded.blog THEN attempts + 1 ELSE 1 END,
                    blog = excluded.blog, feed_url = excluded.feed_url, rule = excluded.rule,
                    platform = excluded.platform, error = excluded.error,
                    attempted_at = excluded.attempted_at",
                params![
                    row.member_id,
                    row.blog,
                    row.feed_url,
                    row.rule,
                    row.platform,
                    row.error,
                    row.attempted_at
                ],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds failing 0, 3 and 4 runs in a row: only the last has failed on more than 3, and
    /// every feed's health still lists all three.
    #[test]
    fn failing_health_holds_only_the_feeds_past_the_count() {
        let dir = tempfile::tempdir().unwrap();
        let (store, rows) = super::super::store_of(dir.path(), &["a", "b", "c"]);
        for (row, failures) in rows.iter().zip([0, 3, 4]) {
            store
                .conn
                .execute(
                    "UPDATE feeds SET consecutive_failures = ?1 WHERE id = ?2",
                    params![failures, row.id],
                )
                .unwrap();
        }
        let members = |h: Vec<FeedHealth>| -> Vec<String> {
            h.into_iter().map(|h| h.row.member_id).collect()
        };
        assert_eq!(members(store.feed_health_failing(3).unwrap()), ["c"]);
        assert_eq!(members(store.feed_health_failing(0).unwrap()), ["b", "c"]);
        assert_eq!(members(store.feed_health().unwrap()), ["a", "b", "c"]);
    }
}
