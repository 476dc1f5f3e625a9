//! Feeds, their validators and health, and the log of every fetch.
//!
//! [`Store::record`] is the one write path of a fetch run: a feed's outcome — fetched with its
//! posts, not modified, or failed — lands in one `BEGIN IMMEDIATE` transaction together with the
//! log row that later serves as evidence for the `late` rule.

use rusqlite::{params, OptionalExtension, Transaction, TransactionBehavior};

use super::posts::{upsert_entries, NewEntries, TagContext};
use super::{Result, Store};
use crate::normalise::{FeedMeta, Post};

/// A feed as the store knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedRow {
    /// Row id.
    pub id: i64,
    /// The feed's key (URL or resolved path).
    pub url: String,
    /// Owner.
    pub member_id: String,
    /// Last ETag.
    pub etag: Option<String>,
    /// Last Last-Modified.
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
    /// The address to poll: where the feed moved to, else its configured key.
    pub fn poll_url(&self) -> &str {
        self.moved_to.as_deref().unwrap_or(&self.url)
    }
}

/// The columns [`row_of`] reads, in its order.
const ROW_COLUMNS: &str = "id, url, member_id, etag, last_modified, body_hash, first_success, \
                           moved_to, consecutive_failures, next_attempt, paused_until, gone_since";

fn row_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<FeedRow> {
    Ok(FeedRow {
        id: r.get(0)?,
        url: r.get(1)?,
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
    /// The member.
    pub member_id: String,
    /// The blog address it was found from.
    pub blog: String,
    /// The feed found, if any.
    pub feed_url: Option<String>,
    /// The rule that found it.
    pub rule: Option<String>,
    /// The platform.
    pub platform: Option<String>,
    /// Why nothing was found.
    pub error: Option<String>,
    /// When discovery last ran.
    pub attempted_at: i64,
    /// Discovery attempts for this blog.
    pub attempts: u32,
}

/// Per-feed health, as `feeds` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedHealth {
    /// The feed row.
    pub row: FeedRow,
    /// Feed title.
    pub title: Option<String>,
    /// Last attempt.
    pub last_attempt: Option<i64>,
    /// Last success (fetched or not modified).
    pub last_success: Option<i64>,
    /// Last HTTP status.
    pub http_status: Option<u16>,
    /// Failures in a row.
    pub consecutive_failures: u32,
    /// Last error in words.
    pub last_error: Option<String>,
    /// Where a permanent redirect moved it.
    pub moved_to: Option<String>,
    /// Entries seen.
    pub items: u32,
    /// Newest post's effective time.
    pub last_post: Option<i64>,
    /// The 301/308 target being counted toward a move.
    pub redirect_target: Option<String>,
    /// Runs in a row that saw that redirect.
    pub permanent_redirects: u32,
}

/// What one fetch of one feed produced, ready to be stored.
#[derive(Debug)]
pub enum FetchRecord<'a> {
    /// A body was fetched and parsed.
    Fetched {
        /// Where the feed was read after redirects.
        final_url: &'a str,
        /// HTTP status (200 for files).
        http_status: u16,
        /// New ETag.
        etag: Option<&'a str>,
        /// New Last-Modified.
        last_modified: Option<&'a str>,
        /// Hash of the body.
        body_hash: &'a str,
        /// Target of a 301/308 first hop.
        permanent_redirect: Option<&'a str>,
        /// Feed-level facts.
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
        /// New ETag.
        etag: Option<&'a str>,
        /// New Last-Modified.
        last_modified: Option<&'a str>,
        /// Target of a 301/308 first hop.
        permanent_redirect: Option<&'a str>,
    },
    /// The host asked us to come back later (429/503 with Retry-After): a signal, not a failure.
    Paused {
        /// HTTP status.
        http_status: Option<u16>,
        /// What the server said, in words.
        message: &'a str,
        /// When the host may be asked again (Unix seconds, capped at 24 h).
        until: i64,
    },
    /// The fetch or the parse failed.
    Failed {
        /// HTTP status, when there was a response.
        http_status: Option<u16>,
        /// What happened, in words.
        error: &'a str,
        /// Not to be polled again before this time (backoff; a week when gone); `None`: next run.
        next_attempt: Option<i64>,
    },
}

/// The SET clauses that count a 301/308 first hop (`?12`) toward a move: the same target on 3
/// runs in a row moves the feed; a run without one resets the count (a move, once made, stays).
const REDIRECT_COUNT: &str = "permanent_redirects = CASE WHEN ?12 IS NULL THEN 0
                                    WHEN redirect_target = ?12 THEN permanent_redirects + 1 ELSE 1 END,
        moved_to = CASE WHEN ?12 IS NOT NULL AND redirect_target = ?12 AND permanent_redirects + 1 >= 3
                        THEN ?12 ELSE moved_to END,
        redirect_target = ?12";

/// What a recorded fetch changed.
pub type RecordOutcome = NewEntries;

impl Store {
    /// Makes sure every configured feed has a row (owner updated) and returns the rows in the
    /// order given.
    pub fn sync_feeds(&self, feeds: &[(String, String)]) -> Result<Vec<FeedRow>> {
        let mut rows = Vec::with_capacity(feeds.len());
        let mut insert = self
            .conn
            .prepare_cached(
                "INSERT INTO feeds(url, member_id) VALUES (?1, ?2)
                 ON CONFLICT(url) DO UPDATE SET member_id = excluded.member_id",
            )
            .map_err(|e| self.err(e))?;
        for (member, url) in feeds {
            insert
                .execute(params![url, member])
                .map_err(|e| self.err(e))?;
        }
        drop(insert);
        for (_, url) in feeds {
            if let Some(row) = self.feed(url)? {
                rows.push(row);
            }
        }
        Ok(rows)
    }

    /// The feed with this key.
    pub fn feed(&self, url: &str) -> Result<Option<FeedRow>> {
        self.conn
            .query_row(
                &format!("SELECT {ROW_COLUMNS} FROM feeds WHERE url = ?1"),
                [url],
                row_of,
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Health of every feed, by member then URL.
    pub fn feed_health(&self) -> Result<Vec<FeedHealth>> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {ROW_COLUMNS}, title, last_attempt, last_success, http_status,
                        last_error, items, last_post, redirect_target, permanent_redirects
                 FROM feeds ORDER BY member_id, url"
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                let row = row_of(r)?;
                Ok(FeedHealth {
                    consecutive_failures: row.consecutive_failures,
                    moved_to: row.moved_to.clone(),
                    row,
                    title: r.get(12)?,
                    last_attempt: r.get(13)?,
                    last_success: r.get(14)?,
                    http_status: r.get(15)?,
                    last_error: r.get(16)?,
                    items: r.get(17)?,
                    last_post: r.get(18)?,
                    redirect_target: r.get(19)?,
                    permanent_redirects: r.get(20)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.err(e))
    }

    /// Stores one feed's fetch outcome in one transaction.
    pub fn record(
        &mut self,
        feed: &FeedRow,
        record: &FetchRecord<'_>,
        now: i64,
    ) -> Result<RecordOutcome> {
        let first_run_completed = self.first_run_completed()?;
        let path = self.path.clone();
        let wrap = |source| super::StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(wrap)?;
        let mut outcome = NewEntries::default();
        match record {
            FetchRecord::Fetched {
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
            } => {
                let history_mode = first_run_completed;
                outcome = upsert_entries(&tx, feed, posts, *rank, now, history_mode, tag)
                    .map_err(wrap)?;
                exec(
                    &tx,
                    &format!("UPDATE feeds SET title = ?2, feed_uid = ?3, site_link = ?4, feed_updated = ?5,
                        etag = ?6, last_modified = ?7, body_hash = ?8, final_url = ?9,
                        last_attempt = ?10, last_success = ?10, first_success = COALESCE(first_success, ?10),
                        http_status = ?11, consecutive_failures = 0, last_error = NULL,
                        next_attempt = NULL, gone_since = NULL, {REDIRECT_COUNT},
                        items = (SELECT COUNT(*) FROM entries WHERE feed_id = ?1),
                        last_post = (SELECT MAX(p.effective) FROM entries e JOIN posts p ON p.id = e.post_id WHERE e.feed_id = ?1)
                     WHERE id = ?1"),
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
                        permanent_redirect,
                    ],
                )
                .map_err(wrap)?;
                exec(
                    &tx,
                    "INSERT INTO fetch_log(feed_id, at, outcome, http_status, new_entries) VALUES (?1, ?2, 'fetched', ?3, ?4)",
                    params![feed.id, now, http_status, outcome.entries as i64],
                )
                .map_err(wrap)?;
            }
            FetchRecord::NotModified {
                final_url,
                http_status,
                etag,
                last_modified,
                permanent_redirect,
            } => {
                exec(
                    &tx,
                    &format!("UPDATE feeds SET etag = COALESCE(?2, etag), last_modified = COALESCE(?3, last_modified),
                        final_url = ?4, last_attempt = ?5, last_success = ?5, http_status = ?6,
                        consecutive_failures = 0, last_error = NULL, next_attempt = NULL,
                        gone_since = NULL, {}
                     WHERE id = ?1", REDIRECT_COUNT.replace("?12", "?7")),
                    params![feed.id, etag, last_modified, final_url, now, http_status, permanent_redirect],
                )
                .map_err(wrap)?;
                exec(
                    &tx,
                    "INSERT INTO fetch_log(feed_id, at, outcome, http_status) VALUES (?1, ?2, 'not_modified', ?3)",
                    params![feed.id, now, http_status],
                )
                .map_err(wrap)?;
            }
            FetchRecord::Paused {
                http_status,
                message,
                until,
            } => {
                exec(
                    &tx,
                    "UPDATE feeds SET last_attempt = ?2, http_status = ?3, last_error = ?4, paused_until = ?5 WHERE id = ?1",
                    params![feed.id, now, http_status, message, until],
                )
                .map_err(wrap)?;
                exec(
                    &tx,
                    "INSERT INTO fetch_log(feed_id, at, outcome, http_status, error) VALUES (?1, ?2, 'paused', ?3, ?4)",
                    params![feed.id, now, http_status, message],
                )
                .map_err(wrap)?;
            }
            FetchRecord::Failed {
                http_status,
                error,
                next_attempt,
            } => {
                exec(
                    &tx,
                    "UPDATE feeds SET last_attempt = ?2, http_status = ?3,
                        consecutive_failures = consecutive_failures + 1, last_error = ?4,
                        next_attempt = ?5,
                        gone_since = CASE WHEN ?3 = 410 THEN COALESCE(gone_since, ?2) ELSE NULL END
                     WHERE id = ?1",
                    params![feed.id, now, http_status, error, next_attempt],
                )
                .map_err(wrap)?;
                exec(
                    &tx,
                    "INSERT INTO fetch_log(feed_id, at, outcome, http_status, error) VALUES (?1, ?2, 'failed', ?3, ?4)",
                    params![feed.id, now, http_status, error],
                )
                .map_err(wrap)?;
            }
        }
        tx.commit().map_err(wrap)?;
        Ok(outcome)
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

/// Runs one statement inside `tx`, prepared once per connection: a run stores every feed with the
/// same few statements.
fn exec(tx: &Transaction<'_>, sql: &str, params: impl rusqlite::Params) -> rusqlite::Result<usize> {
    tx.prepare_cached(sql)?.execute(params)
}
