//! The fetch log: a row per fetch, kept only as long as it is evidence.
//!
//! The `late` and `unverified` rules ask one question of a feed's log: "was this feed read
//! successfully (fetched, or not modified) at some instant after `a` and before `b`?", where `a`
//! is a round's close plus `late_after` and `b` is either open or the `first_seen` of a post of
//! the feed's member (the instant its content is known to have changed). Between two such
//! instants — two *change points* — only the last successful read can answer differently from
//! the others: any query that an earlier read of the stretch satisfies, the last one satisfies
//! too. So each stretch between the change points of a feed keeps its last successful read and
//! loses the rest; failures and pauses are evidence of nothing and are kept for
//! [`FAILURES_KEPT`] only. The log of a feed thus holds about one row per post of its member,
//! whatever the number of runs.
//!
//! Compaction runs with each fetch's row, inside that feed's transaction, over the rows
//! *before* the run's instant: the stretch a read of this very run falls in may still gain a
//! change point from another feed of the member stored later in the run. It assumes time moves
//! forward: a run whose `--now` lies before reads already compacted may judge differently from
//! an uncompacted log.

use rusqlite::{params, Transaction};

use super::feeds::FeedRow;
use super::{Result, Store};

/// How long failed and paused fetches stay in the log (seconds): a week, for whoever reads
/// the file by hand; no rule reads them.
pub const FAILURES_KEPT: i64 = 7 * 86_400;

/// Deletes each successful read of feed `?1` before `?2` that is followed, before `?2` too, by
/// another successful read with no change point between them. A change point of a feed: the `first_seen`
/// of a post of the feed's member, or of a post the feed carries.
const COMPACT_READS: &str = "
DELETE FROM fetch_log WHERE id IN (
    SELECT w.id FROM (
        SELECT l.id, l.at, l.feed_id, f.member_id,
               LEAD(l.at) OVER (PARTITION BY l.feed_id ORDER BY l.at, l.id) AS next_at
        FROM fetch_log l JOIN feeds f ON f.id = l.feed_id
        WHERE l.feed_id = ?1 AND l.at < ?2
          AND l.outcome IN ('fetched', 'not_modified')
    ) w
    WHERE w.next_at IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM posts p
                      WHERE p.member_id = w.member_id AND p.first_seen > w.at AND p.first_seen <= w.next_at)
      AND NOT EXISTS (SELECT 1 FROM entries e JOIN posts p ON p.id = e.post_id
                      WHERE e.feed_id = w.feed_id AND p.first_seen > w.at AND p.first_seen <= w.next_at)
)";

/// Appends the fetch-log row of one fetch of `feed` at `now`, then compacts the feed's log.
pub(super) fn append(
    tx: &Transaction<'_>,
    feed: &FeedRow,
    now: i64,
    outcome: &str,
    http_status: Option<u16>,
    error: Option<&str>,
    new_entries: i64,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO fetch_log(feed_id, at, outcome, http_status, error, new_entries) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![feed.id, now, outcome, http_status, error, new_entries])?;
    compact(tx, feed.id, now)
}

/// Compacts the log of `feed_id` before `before`: what stays answers every question the round
/// rules ask as the whole log did. A log written before compaction existed is compacted whole
/// at its feed's next fetch.
fn compact(tx: &Transaction<'_>, feed_id: i64, before: i64) -> rusqlite::Result<()> {
    tx.prepare_cached(COMPACT_READS)?
        .execute(params![feed_id, before])?;
    tx.prepare_cached(
        "DELETE FROM fetch_log WHERE feed_id = ?1 AND at < ?2
            AND outcome IN ('failed', 'paused')",
    )?
    .execute(params![feed_id, before.saturating_sub(FAILURES_KEPT)])?;
    Ok(())
}

impl Store {
    /// Every successful fetch (fetched or not modified) at or after `from` that the log keeps,
    /// oldest first, as (feed id, Unix seconds): the evidence the `late` and `unverified` rules
    /// weigh.
    pub fn good_fetches(&self, from: i64) -> Result<Vec<(i64, i64)>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT feed_id, at FROM fetch_log WHERE outcome IN ('fetched', 'not_modified') AND at >= ?1 ORDER BY at, id")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([from], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.err(e))
    }
}
