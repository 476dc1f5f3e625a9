//! Posts and the per-feed entries that point at them: identity, dedup and history.
//!
//! An entry is one feed's view of a post, keyed by (feed, identity key). A new entry joins an
//! existing post of the same member when their normalised links are equal, or their normalised
//! titles are equal with effective times within three days (cross-posting, http/https twins, an
//! old and a new feed URL); otherwise it founds a new post whose `tag:` id is minted once and
//! never changes. The first listed feed's view is the one a post publishes.

use std::collections::HashMap;

use rusqlite::{params, Connection, OptionalExtension, ToSql};

use super::feeds::FeedRow;
use super::outputs::mark_stale;
use super::{Result, Store};
use crate::ids::TagContext;
use crate::normalise::{normalise_title, Post};
use crate::source::FeedSource;
use crate::time::{effective_time, HISTORY_AGE};

/// Entries within this many seconds with equal normalised titles are one post.
const TITLE_MATCH_WINDOW: i64 = 3 * 86400;
/// History: a fetch adding more than this many posts to one feed is a bulk import.
const BULK_IMPORT: usize = 10;

/// Counts of what a recorded fetch added.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NewEntries {
    /// New (feed, key) entries.
    pub entries: usize,
    /// New posts (entries that matched no existing post).
    pub posts: usize,
    /// Of the new posts, how many were stored as history.
    pub history: usize,
}

/// A post as the outputs read it, with its primary feed's facts.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPost {
    /// Row id (what sent digests record).
    pub id: i64,
    /// The merged feed's entry id.
    pub atom_id: String,
    /// The member who wrote it.
    pub member_id: String,
    /// Its title, as stored (plain text).
    pub title: String,
    /// Published link (the first listed feed's).
    pub link: Option<String>,
    /// Published time from the feed.
    pub published: Option<i64>,
    /// Updated time from the feed.
    pub updated: Option<i64>,
    /// First seen by the tool.
    pub first_seen: i64,
    /// Effective time: published, else updated, else first seen, a far-future date distrusted.
    pub effective: i64,
    /// About 300 characters of plain text from the post.
    pub summary: String,
    /// Full HTML, unsanitised.
    pub content: Option<String>,
    /// Length by the club's rule.
    pub chars: Option<i64>,
    /// Where the length came from: `feed`, `page`, or `None` when unknown.
    pub chars_source: Option<String>,
    /// Stored as history (never "new").
    pub history: bool,
    /// The primary feed (the first-listed feed that carries the post).
    pub feed: FeedSource,
    /// The primary feed's title.
    pub feed_title: Option<String>,
    /// The primary feed's id.
    pub feed_uid: Option<String>,
    /// The primary feed's homepage.
    pub feed_site_link: Option<String>,
    /// The primary feed's updated time.
    pub feed_updated: Option<i64>,
    /// How many feeds carry this post.
    pub feeds: i64,
}

/// A stored post as the round judge reads it: owner, times, length and the feeds that carry it.
/// Raw facts only; what they mean (effective time, a distrusted date) is the judge's to say.
#[derive(Debug, Clone, PartialEq)]
pub struct JudgedPost {
    /// The member who wrote it.
    pub member_id: String,
    /// Its title, for the report.
    pub title: String,
    /// The link the merged feed publishes.
    pub link: Option<String>,
    /// Published time from the feed (Unix seconds).
    pub published: Option<i64>,
    /// Updated time from the feed (Unix seconds).
    pub updated: Option<i64>,
    /// First seen by the tool (Unix seconds).
    pub first_seen: i64,
    /// Effective time as stored (Unix seconds).
    pub effective: i64,
    /// Length by the club's rule; `None` when unknown.
    pub chars: Option<u64>,
    /// Where the length came from: `feed`, `page`, or `None` when unknown.
    pub chars_source: Option<String>,
    /// Stored as history.
    pub history: bool,
    /// Store ids of the feeds carrying it, ascending.
    pub feeds: Vec<i64>,
}

/// Stores a feed's entries; returns what was new. Runs inside the caller's transaction.
pub(super) fn upsert_entries(
    tx: &Connection,
    feed: &FeedRow,
    posts: &[Post],
    rank: usize,
    now: i64,
    first_run_completed: bool,
    tag: &TagContext,
) -> rusqlite::Result<NewEntries> {
    // The feed's known entries in one query (a point lookup per entry costs more).
    let mut seen = HashMap::new();
    let mut existing = tx.prepare_cached("SELECT key, post_id FROM entries WHERE feed_id = ?1")?;
    let mut rows = existing.query(params![feed.id])?;
    while let Some(row) = rows.next()? {
        seen.insert(row.get::<_, String>(0)?, row.get::<_, i64>(1)?);
    }
    drop(rows);
    drop(existing);
    let known: Vec<Option<i64>> = posts.iter().map(|p| seen.get(&p.key).copied()).collect();
    let new_count = known.iter().filter(|k| k.is_none()).count();
    // After the store's first run, a feed's first successful fetch or a bulk import brings old
    // posts in as history: stored and judged, never announced as new.
    let history_fetch =
        first_run_completed && (feed.first_success.is_none() || new_count > BULK_IMPORT);
    let rank = rank as i64;
    let adding = Adding {
        rank,
        now,
        history_fetch,
        tag,
    };
    let mut matcher = Matcher::new(tx, &feed.member_id, new_count)?;
    let mut out = NewEntries::default();
    // Whether a post's HTML was inserted (or changed) for a post already stored.
    let mut content_written = false;
    for (post, known) in posts.iter().zip(known) {
        let published = post.published.map(|t| t.timestamp());
        let updated = post.updated.map(|t| t.timestamp());
        let norm_title = normalise_title(&post.title);
        match known {
            Some(post_id) => {
                tx.prepare_cached("UPDATE entries SET link = ?3, published = ?4, updated = ?5 WHERE feed_id = ?1 AND key = ?2")?
                    .execute(params![feed.id, post.key, post.link, published, updated])?;
                content_written |=
                    update_post_if_primary(tx, post_id, feed.id, rank, post, &norm_title)?;
            }
            None => {
                let matched = matcher.find(tx, feed, post, &norm_title, now)?;
                let post_id = match matched {
                    Some(post_id) => {
                        content_written |=
                            update_post_if_primary(tx, post_id, feed.id, rank, post, &norm_title)?;
                        post_id
                    }
                    None => {
                        let (post_id, history) = insert_post(tx, feed, post, &norm_title, &adding)?;
                        matcher.added(post, post_id);
                        out.posts += 1;
                        out.history += usize::from(history);
                        post_id
                    }
                };
                tx.prepare_cached(
                    "INSERT INTO entries(feed_id, key, post_id, first_seen, link, published, updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?
                .execute(params![feed.id, post.key, post_id, now, post.link, published, updated])?;
                out.entries += 1;
            }
        }
    }
    // A new entry comes with every new post and its HTML: the inserts no trigger watches.
    if out.entries > 0 || content_written {
        mark_stale(tx)?;
    }
    Ok(out)
}

/// What every post a fetch adds shares: its feed's rank, the time, whether the fetch brings
/// history, and the authority and date of the ids minted for it.
#[derive(Clone, Copy)]
struct Adding<'a> {
    rank: i64,
    now: i64,
    history_fetch: bool,
    tag: &'a TagContext,
}

/// The columns a post takes from the feed entry it is read from, as named SQL parameters: the
/// same set for a new post and for a refresh of a stored one.
struct EntryColumns<'a> {
    post: &'a Post,
    norm_title: &'a str,
    published: Option<i64>,
    updated: Option<i64>,
    chars: Option<i64>,
    chars_source: Option<&'static str>,
}

impl<'a> EntryColumns<'a> {
    fn new(post: &'a Post, norm_title: &'a str) -> Self {
        EntryColumns {
            post,
            norm_title,
            published: post.published.map(|t| t.timestamp()),
            updated: post.updated.map(|t| t.timestamp()),
            chars: post.chars.map(|c| c as i64),
            chars_source: chars_source(post),
        }
    }

    /// These columns' parameters followed by a statement's own.
    fn with<'b>(
        &'b self,
        own: &[(&'static str, &'b dyn ToSql)],
    ) -> Vec<(&'static str, &'b dyn ToSql)> {
        let mut all: Vec<(&'static str, &'b dyn ToSql)> = vec![
            (":title", &self.post.title),
            (":link", &self.post.link),
            (":normalised_link", &self.post.normalised_link),
            (":norm_title", &self.norm_title),
            (":published", &self.published),
            (":updated", &self.updated),
            (":summary", &self.post.summary),
            (":chars", &self.chars),
            (":chars_source", &self.chars_source),
        ];
        all.extend_from_slice(own);
        all
    }
}

/// Stores a post seen for the first time (with its HTML, when kept); returns its row id and
/// whether it is history: old or undated, brought in by a `history_fetch`.
fn insert_post(
    tx: &Connection,
    feed: &FeedRow,
    post: &Post,
    norm_title: &str,
    adding: &Adding<'_>,
) -> rusqlite::Result<(i64, bool)> {
    let Adding {
        rank,
        now,
        history_fetch,
        tag,
    } = *adding;
    let columns = EntryColumns::new(post, norm_title);
    let (published, updated) = (columns.published, columns.updated);
    let effective = effective_time(published, updated, now).at;
    let undated = published.is_none() && updated.is_none();
    let history = history_fetch && (undated || effective < now - HISTORY_AGE);
    // A new entry id, `tag:{authority},{date}:{member}/{hash of the entry key}`: independent of
    // where the feed lives (URL or path), so a moved feed or another checkout mints the same ids.
    // Two different posts of one member with the same key get the next free variant; the
    // insert's own uniqueness check finds which is free (no lookup before it).
    let mut insert = tx.prepare_cached(
        "INSERT INTO posts(member_id, atom_id, title, link, normalised_link, norm_title, published,
            updated, first_seen, effective, summary, chars, chars_source, history, primary_feed_id,
            primary_rank)
         VALUES (:member_id, :atom_id, :title, :link, :normalised_link, :norm_title, :published,
            :updated, :first_seen, :effective, :summary, :chars, :chars_source, :history, :feed_id,
            :rank)
         ON CONFLICT(atom_id) DO NOTHING",
    )?;
    let mut variant = 1u32;
    loop {
        let atom_id = tag.post_id(&feed.member_id, &post.key, variant);
        let inserted = insert.execute(&*columns.with(&[
            (":member_id", &feed.member_id),
            (":atom_id", &atom_id),
            (":first_seen", &now),
            (":effective", &effective),
            (":history", &history),
            (":feed_id", &feed.id),
            (":rank", &rank),
        ]))?;
        if inserted == 1 {
            break;
        }
        variant = variant
            .checked_add(1)
            .ok_or(rusqlite::Error::InvalidQuery)?;
    }
    drop(insert);
    let post_id = tx.last_insert_rowid();
    if let Some(html) = &post.content_html {
        tx.prepare_cached("INSERT INTO post_content(post_id, html) VALUES (?1, ?2)")?
            .execute(params![post_id, html])?;
    }
    Ok((post_id, history))
}

/// Where a feed entry's length comes from, as the store spells it.
fn chars_source(post: &Post) -> Option<&'static str> {
    match (post.chars, post.chars_from_description) {
        (None, _) => None,
        (Some(_), true) => Some("description"),
        (Some(_), false) => Some("feed"),
    }
}

/// Finds the post a new entry is another view of. A member with no posts before this fetch (a
/// cold run: every member) can only match a post the fetch itself adds, and only by link — a
/// title match needs another feed's post: those links are kept in memory rather than asked of
/// the store twice an entry.
enum Matcher {
    /// Ask the store ([`find_match`]).
    Store,
    /// The member had no posts: the normalised links of the posts added so far, each with the
    /// first post that had it.
    Fresh(HashMap<String, i64>),
}

impl Matcher {
    fn new(tx: &Connection, member_id: &str, new_entries: usize) -> rusqlite::Result<Self> {
        if new_entries == 0 {
            return Ok(Matcher::Store);
        }
        let has_posts: bool = tx
            .prepare_cached("SELECT EXISTS(SELECT 1 FROM posts WHERE member_id = ?1)")?
            .query_row([member_id], |r| r.get(0))?;
        Ok(if has_posts {
            Matcher::Store
        } else {
            Matcher::Fresh(HashMap::new())
        })
    }

    fn find(
        &self,
        tx: &Connection,
        feed: &FeedRow,
        post: &Post,
        norm_title: &str,
        now: i64,
    ) -> rusqlite::Result<Option<i64>> {
        match self {
            Matcher::Store => find_match(tx, feed, post, norm_title, now),
            Matcher::Fresh(links) => Ok(post
                .normalised_link
                .as_ref()
                .and_then(|link| links.get(link).copied())),
        }
    }

    /// A post was added for a new entry.
    fn added(&mut self, post: &Post, post_id: i64) {
        if let (Matcher::Fresh(links), Some(link)) = (self, &post.normalised_link) {
            links.entry(link.clone()).or_insert(post_id);
        }
    }
}

/// An existing post of the same member that this new entry is another view of.
fn find_match(
    tx: &Connection,
    feed: &FeedRow,
    post: &Post,
    norm_title: &str,
    now: i64,
) -> rusqlite::Result<Option<i64>> {
    if let Some(link) = &post.normalised_link {
        let by_link = tx
            .prepare_cached("SELECT id FROM posts WHERE member_id = ?1 AND normalised_link = ?2 ORDER BY id LIMIT 1")?
            .query_row(params![feed.member_id, link], |r| r.get::<_, i64>(0))
            .optional()?;
        if by_link.is_some() {
            return Ok(by_link);
        }
    }
    if norm_title.is_empty() {
        return Ok(None);
    }
    let effective = effective_time(
        post.published.map(|t| t.timestamp()),
        post.updated.map(|t| t.timestamp()),
        now,
    )
    .at;
    // Same title within three days, from another feed (two posts of one feed are two posts).
    tx.prepare_cached(
        "SELECT id FROM posts WHERE member_id = ?1 AND norm_title = ?2 AND ABS(effective - ?3) <= ?4
           AND NOT EXISTS (SELECT 1 FROM entries WHERE entries.post_id = posts.id AND entries.feed_id = ?5)
         ORDER BY ABS(effective - ?3), id LIMIT 1",
    )?
    .query_row(params![feed.member_id, norm_title, effective, TITLE_MATCH_WINDOW, feed.id], |r| r.get::<_, i64>(0))
    .optional()
}

/// Refreshes a post's fields from this feed's view when this feed ranks first among its views;
/// says whether its HTML was written (inserted, changed or removed).
fn update_post_if_primary(
    tx: &Connection,
    post_id: i64,
    feed_id: i64,
    rank: i64,
    post: &Post,
    norm_title: &str,
) -> rusqlite::Result<bool> {
    let columns = EntryColumns::new(post, norm_title);
    let changed = tx
        .prepare_cached(
            "UPDATE posts SET title = :title, link = :link, normalised_link = :normalised_link,
            norm_title = :norm_title, published = :published, updated = :updated,
            effective = effective_time(:published, :updated, first_seen),
            summary = :summary, primary_feed_id = :feed_id, primary_rank = :rank,
            -- The feed's own length wins; without one, a length read from the page stays.
            chars = CASE WHEN :chars_source = 'feed' OR (:chars_source = 'description' AND chars_source IS NOT 'page')
                         THEN :chars WHEN chars_source = 'page' THEN chars END,
            chars_source = CASE WHEN :chars_source = 'feed' OR (:chars_source = 'description' AND chars_source IS NOT 'page')
                                THEN :chars_source WHEN chars_source = 'page' THEN 'page' END
         WHERE id = :post_id AND (primary_rank > :rank OR primary_feed_id = :feed_id)",
        )?
        .execute(&*columns.with(&[
            (":feed_id", &feed_id),
            (":rank", &rank),
            (":post_id", &post_id),
        ]))?;
    if changed == 0 {
        return Ok(false);
    }
    let written = match &post.content_html {
        Some(html) => tx
                .prepare_cached(
                    "INSERT INTO post_content(post_id, html) VALUES (?1, ?2)
                     ON CONFLICT(post_id) DO UPDATE SET html = excluded.html WHERE html <> excluded.html",
                )?
                .execute(params![post_id, html])?,
        None => tx
            .prepare_cached("DELETE FROM post_content WHERE post_id = ?1")?
            .execute(params![post_id])?,
    };
    Ok(written > 0)
}

const POST_COLUMNS: &str = "p.id, p.atom_id, p.member_id, p.title, p.link, p.published, p.updated, p.first_seen,
    p.effective, p.summary, (SELECT c.html FROM post_content c WHERE c.post_id = p.id), p.chars, p.history, f.url, f.title, f.feed_uid, f.site_link, f.feed_updated,
    (SELECT COUNT(*) FROM entries e WHERE e.post_id = p.id), p.chars_source";

/// The next row of a query of two integers.
fn next_pair(rows: &mut rusqlite::Rows<'_>) -> rusqlite::Result<Option<(i64, i64)>> {
    rows.next()?.map(|r| Ok((r.get(0)?, r.get(1)?))).transpose()
}

/// A [`JudgedPost`] from a row of [`Store::round_posts`]'s query (its id first), with the feeds
/// that carry it.
fn judged_post(r: &rusqlite::Row<'_>, feeds: Vec<i64>) -> rusqlite::Result<JudgedPost> {
    Ok(JudgedPost {
        member_id: r.get(1)?,
        title: r.get(2)?,
        link: r.get(3)?,
        published: r.get(4)?,
        updated: r.get(5)?,
        first_seen: r.get(6)?,
        effective: r.get(7)?,
        chars: r.get::<_, Option<i64>>(8)?.map(|c| c.max(0) as u64),
        history: r.get(9)?,
        chars_source: r.get(10)?,
        feeds,
    })
}

/// `post` with its feeds in ascending order, as [`JudgedPost::feeds`] promises.
fn sorted_feeds(mut post: JudgedPost) -> JudgedPost {
    post.feeds.sort_unstable();
    post
}

fn post_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredPost> {
    Ok(StoredPost {
        id: r.get(0)?,
        atom_id: r.get(1)?,
        member_id: r.get(2)?,
        title: r.get(3)?,
        link: r.get(4)?,
        published: r.get(5)?,
        updated: r.get(6)?,
        first_seen: r.get(7)?,
        effective: r.get(8)?,
        summary: r.get(9)?,
        content: r.get(10)?,
        chars: r.get(11)?,
        history: r.get(12)?,
        feed: FeedSource::from_key(&r.get::<_, String>(13)?),
        feed_title: r.get(14)?,
        feed_uid: r.get(15)?,
        feed_site_link: r.get(16)?,
        feed_updated: r.get(17)?,
        feeds: r.get(18)?,
        chars_source: r.get(19)?,
    })
}

impl Store {
    /// The newest non-history posts of the given members, newest effective time first, ties by id.
    pub fn recent_posts(&self, limit: usize, members: &[&str]) -> Result<Vec<StoredPost>> {
        let ids = self.recent_ids_grouped(limit, &[members])?;
        self.posts_by_ids(ids.first().map_or(&[], Vec::as_slice))
    }

    /// The ids [`Store::recent_posts`] would give for each group of members (a team's feed
    /// each), found in one walk of the posts, newest first, that ends once every group has
    /// `limit` (a query per group walked the newest posts once per group). A member may be in
    /// several groups. Read each group's posts with [`Store::posts_by_ids`].
    pub fn recent_ids_grouped(&self, limit: usize, groups: &[&[&str]]) -> Result<Vec<Vec<i64>>> {
        let mut member_groups: HashMap<&str, Vec<usize>> = HashMap::new();
        for (g, members) in groups.iter().enumerate() {
            for m in members.iter() {
                let of = member_groups.entry(m).or_default();
                if of.last() != Some(&g) {
                    of.push(g);
                }
            }
        }
        let mut chosen: Vec<Vec<i64>> = vec![Vec::new(); groups.len()];
        let mut open = if limit == 0 { 0 } else { chosen.len() };
        let mut stmt = self
            .conn
            .prepare(
                "SELECT p.id, p.member_id FROM posts p JOIN feeds f ON f.id = p.primary_feed_id
                 WHERE p.history = 0 ORDER BY p.effective DESC, p.atom_id DESC",
            )
            .map_err(|e| self.err(e))?;
        let mut rows = stmt.query([]).map_err(|e| self.err(e))?;
        while open > 0 {
            let Some(row) = rows.next().map_err(|e| self.err(e))? else {
                break;
            };
            let member: String = row.get(1).map_err(|e| self.err(e))?;
            let Some(of) = member_groups.get(member.as_str()) else {
                continue;
            };
            let id: i64 = row.get(0).map_err(|e| self.err(e))?;
            for &g in of {
                if chosen[g].len() < limit {
                    chosen[g].push(id);
                    open -= usize::from(chosen[g].len() == limit);
                }
            }
        }
        Ok(chosen)
    }

    /// The posts of these ids, in their order.
    pub fn posts_by_ids(&self, ids: &[i64]) -> Result<Vec<StoredPost>> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {POST_COLUMNS} FROM posts p JOIN feeds f ON f.id = p.primary_feed_id
                 WHERE p.id = ?1"
            ))
            .map_err(|e| self.err(e))?;
        ids.iter()
            .map(|id| stmt.query_row([id], post_from_row).map_err(|e| self.err(e)))
            .collect()
    }

    /// Every post, history included, oldest first.
    pub fn all_posts(&self) -> Result<Vec<StoredPost>> {
        let sql = format!(
            "SELECT {POST_COLUMNS} FROM posts p JOIN feeds f ON f.id = p.primary_feed_id
             ORDER BY p.effective, p.atom_id"
        );
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = stmt.query_map([], post_from_row).map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.err(e))
    }

    /// Hands `each` every post (history included) whose effective time lies in `from..=until`
    /// (seconds), with the feeds that carry it, in the order they were stored: what the round
    /// judge reads (it orders each round's posts itself). The caller passes a window that holds
    /// every round. Read in rowid order, the posts need no sort: sorting them by time made
    /// SQLite copy every row into a temporary B-tree, a third of the read. The feeds come from
    /// the entries read beside them in the same order (their index by post) and matched up as
    /// both go: a lookup of each post's entries was half the read.
    pub fn round_posts(
        &self,
        from: i64,
        until: i64,
        mut each: impl FnMut(JudgedPost),
    ) -> Result<()> {
        let err = |e| self.err(e);
        let mut posts = self
            .conn
            .prepare(
                "SELECT id, member_id, title, link, published, updated, first_seen, effective, chars,
                        history, chars_source
                 FROM posts WHERE effective BETWEEN ?1 AND ?2 ORDER BY id",
            )
            .map_err(err)?;
        let mut entries = self
            .conn
            .prepare("SELECT post_id, feed_id FROM entries ORDER BY post_id")
            .map_err(err)?;
        let mut entries = entries.query([]).map_err(err)?;
        let mut entry = next_pair(&mut entries).map_err(err)?;
        let mut rows = posts.query([from, until]).map_err(err)?;
        while let Some(r) = rows.next().map_err(err)? {
            let id: i64 = r.get(0).map_err(err)?;
            let mut feeds = Vec::new();
            while let Some((post, feed)) = entry.filter(|(post, _)| *post <= id) {
                if post == id {
                    feeds.push(feed);
                }
                entry = next_pair(&mut entries).map_err(err)?;
            }
            feeds.sort_unstable();
            each(judged_post(r, feeds).map_err(err)?);
        }
        Ok(())
    }

    /// [`Store::round_posts`] for some members only, member by member (each member's posts in
    /// id order, as the whole read gives them): a point lookup per member and post, for a few
    /// members' judgement while the store is still being written.
    pub fn round_posts_of(
        &self,
        members: &[&str],
        from: i64,
        until: i64,
        mut each: impl FnMut(JudgedPost),
    ) -> Result<()> {
        let err = |e| self.err(e);
        let mut posts = self
            .conn
            .prepare_cached(
                "SELECT p.id, p.member_id, p.title, p.link, p.published, p.updated, p.first_seen,
                        p.effective, p.chars, p.history, p.chars_source, e.feed_id
                 FROM posts p LEFT JOIN entries e ON e.post_id = p.id
                 WHERE p.member_id = ?1 AND p.effective BETWEEN ?2 AND ?3 ORDER BY p.id",
            )
            .map_err(err)?;
        for member in members {
            let mut rows = posts.query(params![member, from, until]).map_err(err)?;
            let mut open: Option<(i64, JudgedPost)> = None;
            while let Some(r) = rows.next().map_err(err)? {
                let id: i64 = r.get(0).map_err(err)?;
                let feed: Option<i64> = r.get(11).map_err(err)?;
                if open.as_ref().is_none_or(|(at, _)| *at != id) {
                    if let Some((_, done)) = open.take() {
                        each(sorted_feeds(done));
                    }
                    open = Some((id, judged_post(r, Vec::new()).map_err(err)?));
                }
                if let (Some((_, post)), Some(feed)) = (&mut open, feed) {
                    post.feeds.push(feed);
                }
            }
            if let Some((_, done)) = open {
                each(sorted_feeds(done));
            }
        }
        Ok(())
    }

    /// Row counts of (posts, entries, fetch_log).
    pub fn counts(&self) -> Result<(i64, i64, i64)> {
        self.conn
            .query_row(
                "SELECT (SELECT COUNT(*) FROM posts), (SELECT COUNT(*) FROM entries), (SELECT COUNT(*) FROM fetch_log)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::super::FetchRecord;
    use super::*;
    use crate::normalise::FeedMeta;
    use chrono::{TimeZone, Utc};
    use std::collections::HashSet;

    const DAY: i64 = 86400;

    fn post(key: &str, title: &str, link: &str, published: Option<i64>) -> Post {
        Post {
            key: key.to_string(),
            title: title.to_string(),
            link: Some(link.to_string()),
            normalised_link: crate::normalise::normalise_link(link),
            published: published.map(|t| Utc.timestamp_opt(t, 0).unwrap()),
            updated: None,
            summary: "요약".to_string(),
            content_html: None,
            chars: None,
            chars_from_description: false,
            warnings: vec![],
        }
    }

    /// Posts `guid:i` titled `글 i`, linked to `https://sungmin.tistory.com/i`, each `dated(i)`.
    fn numbered(range: std::ops::Range<i64>, dated: impl Fn(i64) -> i64) -> Vec<Post> {
        range
            .map(|i| {
                let link = format!("https://sungmin.tistory.com/{i}");
                post(
                    &format!("guid:{i}"),
                    &format!("글 {i}"),
                    &link,
                    Some(dated(i)),
                )
            })
            .collect()
    }

    /// A feed carrying one post, `guid:1`, with `html` as its full text.
    fn one_post(now: i64, html: Option<&str>) -> [Post; 1] {
        let mut p = post("guid:1", "글", "https://sungmin.tistory.com/1", Some(now));
        p.content_html = html.map(str::to_string);
        [p]
    }

    fn tag() -> TagContext {
        TagContext {
            authority: "geultto.github.io".into(),
            date: "2024-10-20".into(),
        }
    }

    fn record(
        store: &mut Store,
        feed: &FeedRow,
        posts: &[Post],
        rank: usize,
        now: i64,
    ) -> NewEntries {
        let meta = FeedMeta::default();
        let tag = tag();
        let rec = FetchRecord::Fetched {
            final_url: "https://sungmin.tistory.com/rss",
            http_status: 200,
            etag: None,
            last_modified: None,
            body_hash: "h",
            permanent_redirect: None,
            meta: &meta,
            posts,
            rank,
            tag: &tag,
        };
        store.record(feed, &rec, now).unwrap()
    }

    fn setup() -> (tempfile::TempDir, Store, Vec<FeedRow>) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("g.db")).unwrap();
        let rows = store
            .sync_feeds(&[
                (
                    "sungmin".into(),
                    FeedSource::from_key("https://sungmin.tistory.com/rss"),
                ),
                (
                    "sungmin".into(),
                    FeedSource::from_key("https://v2.velog.io/rss/sungmin"),
                ),
            ])
            .unwrap();
        (dir, store, rows)
    }

    #[test]
    fn round_inputs_read_only_the_posts_in_the_window() {
        let (_d, mut store, feeds) = setup();
        let now = 1_730_000_000;
        let posts = numbered(0..5, |i| now - i * 10 * DAY);
        record(&mut store, &feeds[0], &posts, 0, now);
        let read = |from, until| {
            let mut posts = Vec::new();
            store.round_posts(from, until, |p| posts.push(p)).unwrap();
            posts
        };
        assert_eq!(read(0, i64::MAX).len(), 5);
        assert_eq!(store.good_fetches(0).unwrap().len(), 1);
        let window = read(now - 25 * DAY, now - 5 * DAY);
        let mut titles: Vec<&str> = window.iter().map(|p| p.title.as_str()).collect();
        titles.sort_unstable();
        assert_eq!(titles, ["글 1", "글 2"]);
        assert!(window.iter().all(|p| p.feeds == [feeds[0].id]));
        let later = store.good_fetches(now + 1).unwrap();
        assert!(later.is_empty(), "fetches before the window are not read");
    }

    /// Each post comes with every feed that carries it, also where the posts between them lie
    /// outside the window and their entries are passed over.
    #[test]
    fn round_posts_come_with_every_feed_that_carries_them() {
        let (_d, mut store, feeds) = setup();
        let now = 1_730_000_000;
        let posts = numbered(0..6, |i| now - i * DAY);
        record(&mut store, &feeds[0], &posts[..4], 0, now);
        // The second feed carries posts 1 and 3 (the same links) and two of its own.
        let second = [&posts[1], &posts[3], &posts[4], &posts[5]].map(|p| Post {
            key: format!("velog:{}", p.key),
            ..p.clone()
        });
        record(&mut store, &feeds[1], &second, 1, now);
        let read = |from, until| {
            let mut read = Vec::new();
            store
                .round_posts(from, until, |p| read.push((p.title, p.feeds)))
                .unwrap();
            read.sort();
            read
        };
        let (one, two) = (vec![feeds[0].id], vec![feeds[1].id]);
        let both = vec![feeds[0].id, feeds[1].id];
        let every = [
            ("글 0".to_string(), one.clone()),
            ("글 1".to_string(), both.clone()),
            ("글 2".to_string(), one.clone()),
            ("글 3".to_string(), both.clone()),
            ("글 4".to_string(), two.clone()),
            ("글 5".to_string(), two.clone()),
        ];
        assert_eq!(read(0, i64::MAX), every);
        let odd_out = read(now - 3 * DAY - 1, now - 3 * DAY + 1);
        assert_eq!(
            odd_out,
            [("글 3".to_string(), both)],
            "one post alone in the window"
        );
        let ends = read(now - 5 * DAY, now - 4 * DAY);
        assert_eq!(
            ends,
            [("글 4".to_string(), two.clone()), ("글 5".to_string(), two)]
        );
    }

    /// Once `checkpoint_beside` is on, each group's commit has the log copied into the database
    /// file while the store goes on; without it, a small run's writes stay in the log until the
    /// store is closed.
    #[test]
    fn with_a_checkpoint_beside_each_commit_reaches_the_database_file() {
        let (dir, store, feeds) = setup();
        drop(store); // closing copies the log and removes it: the file holds everything
        let path = dir.path().join("g.db");
        let len = || std::fs::metadata(&path).unwrap().len();
        let mut store = Store::open(&path).unwrap();
        // One group of 300 posts, committed.
        let group = |store: &mut Store, feed: &FeedRow, from: i64, rank: usize, at: i64| {
            store.begin_group().unwrap();
            record(store, feed, &numbered(from..from + 300, |i| i), rank, at);
            store.commit_group().unwrap();
        };
        let before = len();
        group(&mut store, &feeds[0], 0, 0, 1_730_000_000);
        std::thread::sleep(std::time::Duration::from_millis(300));
        assert_eq!(len(), before, "without it, the commit stays in the log");

        store.checkpoint_beside(); // copies the first group
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let grown = |than: u64| {
            while len() <= than && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            len() > than
        };
        assert!(grown(before), "the first group copied");
        std::thread::sleep(std::time::Duration::from_millis(100));
        let copied = len();
        group(&mut store, &feeds[1], 1_000, 1, 1_730_000_100);
        assert!(grown(copied), "the second group copied after its commit");
    }

    /// The inserts no trigger watches still mark the outputs stale: a new post, and HTML that a
    /// post already stored did not have (its row and its feed's otherwise unchanged); the same
    /// fetch again marks nothing.
    #[test]
    fn a_new_post_or_new_html_marks_the_outputs_stale_and_the_same_fetch_does_not() {
        let (_d, mut store, feeds) = setup();
        let now = 1_730_000_000;
        let steps: [(i64, Option<&str>, bool, &str); 4] = [
            (0, None, true, "a new post"),
            (60, None, false, "nothing changed"),
            (120, Some("<p>본문</p>"), true, "HTML for a stored post"),
            (180, Some("<p>본문</p>"), false, "the same HTML again"),
        ];
        for (at, html, stale, what) in steps {
            store.outputs_rendered("r").unwrap();
            record(&mut store, &feeds[0], &one_post(now, html), 0, now + at);
            assert_eq!(store.outputs_stale().unwrap(), stale, "{what}");
        }
    }

    #[test]
    fn full_html_is_kept_beside_the_post_and_follows_the_primary_feed() {
        let (_d, mut store, feeds) = setup();
        let now = 1_730_000_000;
        let with = |html: Option<&str>| one_post(now, html);
        record(&mut store, &feeds[0], &with(Some("<p>처음</p>")), 0, now);
        let content = |store: &Store| store.all_posts().unwrap()[0].content.clone();
        assert_eq!(content(&store).as_deref(), Some("<p>처음</p>"));
        record(
            &mut store,
            &feeds[0],
            &with(Some("<p>고침</p>")),
            0,
            now + 60,
        );
        assert_eq!(content(&store).as_deref(), Some("<p>고침</p>"));
        // Another feed's view of the post does not replace the first-listed feed's HTML.
        record(
            &mut store,
            &feeds[1],
            &with(Some("<p>다른 곳</p>")),
            1,
            now + 120,
        );
        assert_eq!(content(&store).as_deref(), Some("<p>고침</p>"));
        record(&mut store, &feeds[0], &with(None), 0, now + 180);
        assert_eq!(content(&store), None);
        let rows: i64 = store
            .conn
            .query_row("SELECT COUNT(*) FROM post_content", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 0);
    }

    #[test]
    fn migration_4_moves_stored_html_out_of_the_posts_table() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            let mut conn = rusqlite::Connection::open(&path).unwrap();
            crate::store::schema::migrations()
                .to_version(&mut conn, 3)
                .unwrap();
            conn.execute_batch(
                "INSERT INTO feeds(id, url, member_id) VALUES (1, 'https://a.example/rss', 'a');
                 INSERT INTO posts(member_id, atom_id, title, norm_title, first_seen, effective, summary,
                                   content, primary_feed_id, primary_rank)
                 VALUES ('a', 'tag:x,2024:a/1', '글', '글', 1, 1, '요약', '<p>본문</p>', 1, 0),
                        ('a', 'tag:x,2024:a/2', '둘', '둘', 2, 2, '요약', NULL, 1, 0);",
            )
            .unwrap();
        }
        let store = Store::open(&path).unwrap();
        let posts = store.all_posts().unwrap();
        let contents: Vec<Option<&str>> = posts.iter().map(|p| p.content.as_deref()).collect();
        assert_eq!(contents, [Some("<p>본문</p>"), None]);
        let has_column: bool = store
            .conn
            .query_row(
                "SELECT COUNT(*) > 0 FROM pragma_table_info('posts') WHERE name = 'content'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(!has_column);
    }

    #[test]
    fn cross_posts_are_one_post_published_with_the_first_feeds_link() {
        let (_d, mut store, feeds) = setup();
        let now = 1_730_000_000;
        // The second-listed feed is seen first.
        let velog = [post(
            "guid:v1",
            "쿠버네티스 입문!",
            "https://velog.io/@sungmin/k8s",
            Some(now - DAY),
        )];
        assert_eq!(record(&mut store, &feeds[1], &velog, 1, now).posts, 1);
        let tistory = [
            post(
                "guid:t1",
                "쿠버네티스 입문",
                "https://sungmin.tistory.com/7",
                Some(now - 2 * DAY),
            ),
            post(
                "guid:t2",
                "다른 글",
                "http://sungmin.tistory.com/8/",
                Some(now),
            ),
        ];
        let added = record(&mut store, &feeds[0], &tistory, 0, now + 60);
        assert_eq!((added.entries, added.posts), (2, 1));
        let posts = store.all_posts().unwrap();
        assert_eq!(posts.len(), 2);
        let k8s = posts.iter().find(|p| p.title == "쿠버네티스 입문").unwrap();
        assert_eq!(k8s.link.as_deref(), Some("https://sungmin.tistory.com/7"));
        assert_eq!(k8s.feeds, 2);
        // An https twin of an existing link is the same post too.
        let twin = [post(
            "guid:t3",
            "다른 글 (수정)",
            "https://sungmin.tistory.com/8",
            Some(now),
        )];
        assert_eq!(record(&mut store, &feeds[1], &twin, 1, now + 120).posts, 0);
    }

    /// A member's first fetch matches its entries among themselves (from memory) exactly as
    /// the store's queries do for a member who has posts: two entries with one link (an http
    /// twin) are one post, two posts of one feed with one title are two posts.
    #[test]
    fn a_new_members_first_feed_matches_its_own_entries_as_the_store_would() {
        let now = 1_730_000_000;
        let entries = [
            post(
                "guid:1",
                "같은 글",
                "https://sungmin.tistory.com/1",
                Some(now),
            ),
            post(
                "guid:2",
                "같은 글 (사본)",
                "http://sungmin.tistory.com/1/",
                Some(now),
            ),
            post(
                "guid:3",
                "주간 회고",
                "https://sungmin.tistory.com/2",
                Some(now),
            ),
            post(
                "guid:4",
                "주간 회고",
                "https://sungmin.tistory.com/3",
                Some(now - DAY),
            ),
        ];
        let stored = |earlier: bool| {
            let (_d, mut store, feeds) = setup();
            if earlier {
                // An unrelated post of the member, long before: the store is asked.
                let old = [post(
                    "guid:old",
                    "옛 글",
                    "https://v2.velog.io/@s/old",
                    Some(0),
                )];
                record(&mut store, &feeds[1], &old, 1, now - 400 * DAY);
            }
            let added = record(&mut store, &feeds[0], &entries, 0, now);
            let mut posts: Vec<(String, Option<String>)> = store
                .all_posts()
                .unwrap()
                .into_iter()
                .filter(|p| p.title != "옛 글")
                .map(|p| (p.title, p.link))
                .collect();
            posts.sort();
            ((added.entries, added.posts), posts)
        };
        let fresh = stored(false);
        assert_eq!(fresh.0, (4, 3));
        assert_eq!(fresh, stored(true));
    }

    #[test]
    fn rerun_adds_nothing_and_keeps_ids() {
        let (_d, mut store, feeds) = setup();
        let now = 1_730_000_000;
        let posts = [post(
            "guid:a",
            "가",
            "https://sungmin.tistory.com/1",
            Some(now - DAY),
        )];
        record(&mut store, &feeds[0], &posts, 0, now);
        let before = store.all_posts().unwrap();
        let again = record(&mut store, &feeds[0], &posts, 0, now + 3600);
        assert_eq!(again, NewEntries::default());
        let after = store.all_posts().unwrap();
        assert_eq!(before, after);
        // A title edit keeps the id.
        let edited = [post(
            "guid:a",
            "가 (고침)",
            "https://sungmin.tistory.com/1",
            Some(now - DAY),
        )];
        record(&mut store, &feeds[0], &edited, 0, now + 7200);
        let edited_posts = store.all_posts().unwrap();
        assert_eq!(edited_posts[0].atom_id, before[0].atom_id);
        assert_eq!(edited_posts[0].title, "가 (고침)");
        assert_eq!(edited_posts[0].first_seen, now);
    }

    #[test]
    fn a_new_feed_after_the_first_run_brings_old_posts_in_as_history() {
        let (_d, mut store, feeds) = setup();
        let now = 1_730_000_000;
        store.mark_run_completed(now - 3600).unwrap();
        let old: Vec<Post> = (0..60)
            .map(|i| {
                post(
                    &format!("guid:{i}"),
                    &format!("옛 글 {i}"),
                    &format!("https://sungmin.tistory.com/{i}"),
                    Some(now - (20 + i) * DAY),
                )
            })
            .chain([post(
                "guid:new",
                "새 글",
                "https://sungmin.tistory.com/new",
                Some(now - DAY),
            )])
            .collect();
        let added = record(&mut store, &feeds[0], &old, 0, now);
        assert_eq!((added.posts, added.history), (61, 60));
        let recent = store.recent_posts(100, &["sungmin"]).unwrap();
        assert_eq!(recent.len(), 1);
        assert_eq!(recent[0].title, "새 글");
    }

    /// Three members posting in turn; groups that overlap, repeat a member, name a member with
    /// no posts or none at all: each group gets what its own query would give.
    #[test]
    fn grouped_recent_posts_are_each_groups_own_newest() {
        let dir = tempfile::tempdir().unwrap();
        let members = ["a", "b", "c"];
        let (mut store, feeds) = super::super::store_of(dir.path(), &members);
        let now = 1_730_000_000;
        for (i, feed) in feeds.iter().enumerate() {
            let posts: Vec<Post> = (0..5)
                .map(|n| {
                    let link = format!("https://{}.example/{n}", members[i]);
                    // Interleaved dates, and two posts of `b` at one instant (ties by id).
                    let at = now - (n * 3 + i as i64) * DAY + i64::from(i == 1 && n == 1) * DAY;
                    post(&format!("guid:{link}"), &link, &link, Some(at))
                })
                .collect();
            record(&mut store, feed, &posts, 0, now);
        }
        let groups: [&[&str]; 5] = [&["a", "b"], &["b", "c", "b"], &["c"], &["nobody"], &[]];
        for limit in [0, 3, 7, 20] {
            let ids = store.recent_ids_grouped(limit, &groups).unwrap();
            assert_eq!(ids.len(), groups.len());
            for (group, ids) in groups.iter().zip(&ids) {
                // The query per group this walk replaces.
                let list = serde_json::to_string(group).unwrap();
                let own: Vec<i64> = store
                    .conn
                    .prepare(
                        "SELECT p.id FROM posts p JOIN feeds f ON f.id = p.primary_feed_id
                         WHERE p.history = 0 AND p.member_id IN (SELECT value FROM json_each(?2))
                         ORDER BY p.effective DESC, p.atom_id DESC LIMIT ?1",
                    )
                    .unwrap()
                    .query_map(params![limit as i64, list], |r| r.get(0))
                    .unwrap()
                    .collect::<rusqlite::Result<_>>()
                    .unwrap();
                let mut alone = store.recent_ids_grouped(limit, &[group]).unwrap();
                assert_eq!(alone.pop().unwrap(), *ids, "{group:?} at {limit}");
                assert_eq!(own, *ids, "{group:?} at {limit}");
                let known: HashSet<&&str> = group.iter().filter(|m| **m != "nobody").collect();
                assert_eq!(ids.len(), limit.min(5 * known.len()));
                let posts = store.posts_by_ids(ids).unwrap();
                let times: Vec<i64> = posts.iter().map(|p| p.effective).collect();
                assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
            }
        }
    }

    #[test]
    fn on_the_very_first_run_everything_is_eligible() {
        let (_d, mut store, feeds) = setup();
        let now = 1_730_000_000;
        let old = [post(
            "guid:old",
            "옛 글",
            "https://sungmin.tistory.com/1",
            Some(now - 90 * DAY),
        )];
        assert_eq!(record(&mut store, &feeds[0], &old, 0, now).history, 0);
        assert_eq!(store.recent_posts(10, &["sungmin"]).unwrap().len(), 1);
    }

    #[test]
    fn two_posts_with_the_same_key_in_two_feeds_get_distinct_ids() {
        let (_d, mut store, feeds) = setup();
        let now = 1_730_000_000;
        record(
            &mut store,
            &feeds[0],
            &[post(
                "guid:1",
                "티스토리 글",
                "https://sungmin.tistory.com/1",
                Some(now - 10 * DAY),
            )],
            0,
            now,
        );
        record(
            &mut store,
            &feeds[1],
            &[post(
                "guid:1",
                "벨로그 글",
                "https://velog.io/@s/other",
                Some(now),
            )],
            1,
            now,
        );
        let posts = store.all_posts().unwrap();
        assert_eq!(posts.len(), 2);
        assert_ne!(posts[0].atom_id, posts[1].atom_id);
    }

    #[test]
    fn a_refreshed_post_takes_its_effective_time_from_the_same_rule() {
        let (_d, mut store, feeds) = setup();
        let now = 1_730_000_000;
        let dated = |published| {
            [post(
                "guid:1",
                "글",
                "https://sungmin.tistory.com/1",
                published,
            )]
        };
        record(&mut store, &feeds[0], &dated(Some(now - DAY)), 0, now);
        assert_eq!(store.all_posts().unwrap()[0].effective, now - DAY);
        // A later fetch moves the date far past first_seen: SQL's `effective_time` distrusts it.
        record(
            &mut store,
            &feeds[0],
            &dated(Some(now + 5 * DAY)),
            0,
            now + 60,
        );
        assert_eq!(store.all_posts().unwrap()[0].effective, now);
        record(
            &mut store,
            &feeds[0],
            &dated(Some(now + DAY / 2)),
            0,
            now + 120,
        );
        assert_eq!(store.all_posts().unwrap()[0].effective, now + DAY / 2);
    }
}
