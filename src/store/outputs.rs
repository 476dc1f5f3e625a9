//! What the store knows about the outputs: whether anything they are made of changed since
//! they were last rendered, and what that render was.
//!
//! The `outputs_stale` flag in `meta` is set by triggers (migration 8) on every write to posts,
//! entries, post HTML, pages, the discovery cache and a feed's shown columns, whichever code
//! path makes it — except the inserts of posts, entries and post HTML, which only a fetch makes
//! and which mark it through [`mark_stale`] (migration 12 says why); rendering clears it. The last render is kept as one `meta` value (its key and
//! its files), written after the files, and so are the marks of the members' pages it made.

use rusqlite::params;

use super::{Result, Store};

/// `meta` key of the flag the triggers set.
const STALE: &str = "outputs_stale";
/// `meta` key of the last render's record.
const RENDERED: &str = "outputs_rendered";
/// `meta` key of the members' page marks: a line `<member id> <mark>` per page.
const PAGE_MARKS: &str = "member_page_marks";

/// [`Store::dates_after`]'s statement. A post's latest date is its effective time, or a later
/// published or updated date: the first is read from `posts_by_time` (`history` is 0 or 1),
/// the second from `posts_dated_later` (migration 14), whose condition the query repeats word
/// for word so that SQLite uses it.
const DATES_AFTER: &str =
    "SELECT EXISTS(SELECT 1 FROM posts WHERE history IN (0, 1) AND effective > ?1)
    OR EXISTS(SELECT 1 FROM posts
        WHERE max(coalesce(published, effective), coalesce(updated, effective)) > effective
          AND max(coalesce(published, effective), coalesce(updated, effective)) > ?1)
    OR EXISTS(SELECT 1 FROM feeds WHERE feed_updated > ?1)";

/// Marks the outputs stale, inside the caller's transaction: what the dropped insert triggers
/// did, said by the one code path that inserts posts, entries and post HTML.
pub(super) fn mark_stale(tx: &rusqlite::Connection) -> rusqlite::Result<()> {
    tx.prepare_cached("UPDATE meta SET value = '1' WHERE key = ?1 AND value IS NOT '1'")?
        .execute([STALE])
        .map(|_| ())
}

impl Store {
    /// Whether something the outputs are made of changed since they were last rendered.
    pub fn outputs_stale(&self) -> Result<bool> {
        Ok(self.meta(STALE)?.as_deref() != Some("0"))
    }

    /// The marks of the members' pages the last render made (`fresh.rs` says what a mark is).
    pub fn page_marks(&self) -> Result<Option<String>> {
        self.meta(PAGE_MARKS)
    }

    /// Keeps the marks of the members' pages just made.
    pub fn set_page_marks(&self, marks: &str) -> Result<()> {
        self.set_meta(PAGE_MARKS, marks)
    }

    /// What the last render recorded ([`Store::outputs_rendered`]), if any.
    pub fn last_render(&self) -> Result<Option<String>> {
        self.meta(RENDERED)
    }

    /// Records a render (`record`: its key and files, in the caller's words) and clears the
    /// stale flag, in one statement.
    pub fn outputs_rendered(&self, record: &str) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO meta(key, value) VALUES (?1, ?2), (?3, '0')
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                params![RENDERED, record, STALE],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// Each feed's id and last successful read (Unix seconds), by id: what decides, as time
    /// passes, whether a closed round has its evidence.
    pub fn last_reads(&self) -> Result<Vec<(i64, Option<i64>)>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, last_success FROM feeds ORDER BY id")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.err(e))
    }

    /// Whether a stored date lies after `now` (a post's or a feed's): the outputs clamp such
    /// dates to `now`, so they change as time passes. Both halves of a post's latest date are
    /// read from indexes (see the statement).
    pub fn dates_after(&self, now: i64) -> Result<bool> {
        self.conn
            .query_row(DATES_AFTER, [now], |r| r.get(0))
            .map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store with one feed and one post whose dates are `(published, updated)`, first seen
    /// and effective at 1,000.
    fn store_with(published: Option<i64>, updated: Option<i64>) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("g.db")).unwrap();
        store
            .conn
            .execute_batch(
                "INSERT INTO feeds(id, url, member_id) VALUES (1, 'https://a.example/rss', 'a');",
            )
            .unwrap();
        store
            .conn
            .execute(
                "INSERT INTO posts(member_id, atom_id, title, norm_title, published, updated,
                                   first_seen, effective, summary, primary_feed_id, primary_rank)
                 VALUES ('a', 'tag:1', 't', 't', ?1, ?2, 1000, 1000, 's', 1, 0)",
                rusqlite::params![published, updated],
            )
            .unwrap();
        (dir, store)
    }

    #[test]
    fn a_post_dated_after_now_by_any_of_its_dates_is_found() {
        for (published, updated) in [(None, None), (Some(900), None), (Some(900), Some(950))] {
            let (_dir, store) = store_with(published, updated);
            assert!(
                !store.dates_after(1000).unwrap(),
                "{published:?} {updated:?}"
            );
            assert!(
                store.dates_after(999).unwrap(),
                "effective 1000 is after 999"
            );
        }
        let (_dir, store) = store_with(Some(5000), None);
        assert!(store.dates_after(4999).unwrap(), "published after now");
        assert!(!store.dates_after(5000).unwrap());
        let (_dir, store) = store_with(Some(900), Some(7000));
        assert!(store.dates_after(6999).unwrap(), "updated after now");
        assert!(!store.dates_after(7000).unwrap());
    }

    proptest::proptest! {
        /// The statement answers what a walk of every post answers: is any post's latest date
        /// (effective, published or updated) after `now`?
        #[test]
        fn the_split_query_agrees_with_the_latest_of_every_posts_dates(
            posts in proptest::collection::vec(
                (proptest::option::of(0i64..20), proptest::option::of(0i64..20), 0i64..20, proptest::bool::ANY),
                0..6,
            ),
            now in 0i64..22,
        ) {
            let (_dir, store) = store_with(None, None);
            store.conn.execute("DELETE FROM posts", []).unwrap();
            for (i, (published, updated, effective, history)) in posts.iter().enumerate() {
                store.conn.execute(
                    "INSERT INTO posts(member_id, atom_id, title, norm_title, published, updated,
                                       first_seen, effective, summary, primary_feed_id, primary_rank,
                                       history)
                     VALUES ('a', ?1, 't', 't', ?2, ?3, ?4, ?4, 's', 1, 0, ?5)",
                    rusqlite::params![format!("tag:{i}"), published, updated, effective, history],
                ).unwrap();
            }
            let walked = posts.iter().any(|(p, u, e, _)| {
                (*e).max(p.unwrap_or(*e)).max(u.unwrap_or(*e)) > now
            });
            proptest::prop_assert_eq!(store.dates_after(now).unwrap(), walked);
        }
    }

    #[test]
    fn the_latest_date_is_read_from_its_index() {
        let (_dir, store) = store_with(None, None);
        let plan: Vec<String> = store
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {DATES_AFTER}"))
            .unwrap()
            .query_map([1], |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert!(
            plan.iter().any(|l| l.contains("posts_dated_later")),
            "{plan:?}"
        );
        assert!(plan.iter().any(|l| l.contains("posts_by_time")), "{plan:?}");
        assert!(
            !plan.iter().any(|l| l.starts_with("SCAN posts")),
            "{plan:?}"
        );
    }
}
