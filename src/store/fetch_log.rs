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

use rusqlite::{params, Connection};

use super::feeds::FeedRow;
use super::{Result, Store};

/// How long failed and paused fetches stay in the log (seconds): a week, for whoever reads
/// the file by hand; no rule reads them.
pub const FAILURES_KEPT: i64 = 7 * 86_400;

/// Deletes the older of feed `?1`'s last two successful reads before `?2` when no change point
/// lies between them (a change point of a feed: the `first_seen` of a post of the feed's member,
/// or of a post the feed carries). A feed carries a post no earlier than the post was first
/// seen, so only the feed's entries first seen after the older read are looked at, through
/// `entries_by_feed_seen`: the feed's whole history is not walked on every fetch. Each fetch's
/// row adds one read, so weighing this one pair per fetch weighs every pair once; migration 8
/// compacted what came before, the same way.
const COMPACT_READS: &str = "
WITH last AS (SELECT id, at FROM fetch_log
              WHERE feed_id = ?1 AND at < ?2 AND outcome IN ('fetched', 'not_modified')
              ORDER BY at DESC, id DESC LIMIT 2),
     f AS (SELECT id, at FROM last ORDER BY at, id LIMIT 1),
     g AS (SELECT id, at FROM last ORDER BY at DESC, id DESC LIMIT 1)
DELETE FROM fetch_log
WHERE id = (SELECT id FROM f) AND id <> (SELECT id FROM g)
  AND NOT EXISTS (SELECT 1 FROM posts p
                  WHERE p.member_id = (SELECT member_id FROM feeds WHERE id = ?1)
                    AND p.first_seen > (SELECT at FROM f) AND p.first_seen <= (SELECT at FROM g))
  AND NOT EXISTS (SELECT 1 FROM entries e JOIN posts p ON p.id = e.post_id
                  WHERE e.feed_id = ?1 AND e.first_seen > (SELECT at FROM f)
                    AND p.first_seen > (SELECT at FROM f) AND p.first_seen <= (SELECT at FROM g))";

/// Appends the fetch-log row of one fetch of `feed` at `now`, then compacts the feed's log.
pub(super) fn append(
    tx: &Connection,
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
/// rules ask as the whole log did.
fn compact(tx: &Connection, feed_id: i64, before: i64) -> rusqlite::Result<()> {
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

    /// [`Store::good_fetches`] of some feeds only: each feed's, through the log's index.
    pub fn good_fetches_of(&self, feeds: &[i64], from: i64) -> Result<Vec<(i64, i64)>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT feed_id, at FROM fetch_log WHERE feed_id = ?1 AND at >= ?2 AND outcome IN ('fetched', 'not_modified') ORDER BY at, id")
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for feed in feeds {
            let rows = stmt
                .query_map([*feed, from], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(|e| self.err(e))?;
            for row in rows {
                out.push(row.map_err(|e| self.err(e))?);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migration_8_compacts_a_log_written_before_compaction() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v7.db");
        {
            let mut conn = rusqlite::Connection::open(&path).unwrap();
            super::super::schema::migrations()
                .to_version(&mut conn, 7)
                .unwrap();
            // Feed 1 read hourly from 300 to 320 (h), a post of its member first seen at 310;
            // failures at 1 and at 319 h. Feed 2, another member's, read at 300 and 301.
            let mut sql = String::from(
                "INSERT INTO feeds(id, url, member_id) VALUES (1, 'https://a.example/rss', 'a'),
                                                             (2, 'https://b.example/rss', 'b');
                 INSERT INTO posts(id, member_id, atom_id, title, norm_title, first_seen, effective,
                                   summary, primary_feed_id, primary_rank)
                 VALUES (1, 'a', 'tag:1', 't', 't', 1116000, 1116000, 's', 1, 0);
                 INSERT INTO fetch_log(feed_id, at, outcome) VALUES (1, 3600, 'failed'),
                                                                  (1, 1148400, 'failed'),
                                                                  (2, 1080000, 'not_modified'),
                                                                  (2, 1083600, 'not_modified');",
            );
            for h in 300..=320 {
                sql.push_str(&format!(
                    "INSERT INTO fetch_log(feed_id, at, outcome) VALUES (1, {}, 'not_modified');",
                    h * 3600
                ));
            }
            conn.execute_batch(&sql).unwrap();
        }
        let store = Store::open(&path).unwrap();
        let kept: Vec<(i64, i64)> = store.good_fetches(0).unwrap();
        // Feed 1: the last read before the post (309 h) and the last of all (320 h); feed 2: its
        // last read (301 h).
        assert_eq!(kept, [(2, 1083600), (1, 1112400), (1, 1152000)]);
        let failures: i64 = store
            .conn
            .query_row(
                "SELECT COUNT(*) FROM fetch_log WHERE outcome = 'failed'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            failures, 1,
            "the week-old failure goes, the recent one stays"
        );
    }
}
