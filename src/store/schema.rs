//! Numbered schema migrations. Append new ones; never edit one that has shipped.

use rusqlite_migration::{Migrations, M};

/// 1: feeds with their validators and health, posts, the per-feed entries that point at them,
/// and the log of every fetch (the evidence of the `late` rule).
const V1: &str = r#"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE feeds (
    id                   INTEGER PRIMARY KEY,
    url                  TEXT NOT NULL UNIQUE,
    member_id            TEXT NOT NULL,
    title                TEXT,
    feed_uid             TEXT,
    site_link            TEXT,
    feed_updated         INTEGER,
    etag                 TEXT,
    last_modified        TEXT,
    body_hash            TEXT,
    final_url            TEXT,
    last_attempt         INTEGER,
    last_success         INTEGER,
    first_success        INTEGER,
    http_status          INTEGER,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    last_error           TEXT,
    moved_to             TEXT,
    permanent_redirects  INTEGER NOT NULL DEFAULT 0,
    next_attempt         INTEGER,
    paused_until         INTEGER,
    items                INTEGER NOT NULL DEFAULT 0,
    last_post            INTEGER
);

CREATE TABLE posts (
    id              INTEGER PRIMARY KEY,
    member_id       TEXT NOT NULL,
    atom_id         TEXT NOT NULL UNIQUE,
    title           TEXT NOT NULL,
    link            TEXT,
    normalised_link TEXT,
    norm_title      TEXT NOT NULL,
    published       INTEGER,
    updated         INTEGER,
    first_seen      INTEGER NOT NULL,
    effective       INTEGER NOT NULL,
    summary         TEXT NOT NULL,
    content         TEXT,
    chars           INTEGER,
    history         INTEGER NOT NULL DEFAULT 0,
    primary_feed_id INTEGER NOT NULL REFERENCES feeds(id),
    primary_rank    INTEGER NOT NULL
);
CREATE INDEX posts_by_link ON posts(member_id, normalised_link);
CREATE INDEX posts_by_title ON posts(member_id, norm_title);
CREATE INDEX posts_by_time ON posts(history, effective);

CREATE TABLE entries (
    feed_id    INTEGER NOT NULL REFERENCES feeds(id),
    key        TEXT NOT NULL,
    post_id    INTEGER NOT NULL REFERENCES posts(id),
    first_seen INTEGER NOT NULL,
    link       TEXT,
    published  INTEGER,
    updated    INTEGER,
    PRIMARY KEY (feed_id, key)
) WITHOUT ROWID;
CREATE INDEX entries_by_post ON entries(post_id);

CREATE TABLE fetch_log (
    id          INTEGER PRIMARY KEY,
    feed_id     INTEGER NOT NULL REFERENCES feeds(id),
    at          INTEGER NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('fetched', 'not_modified', 'failed', 'paused')),
    http_status INTEGER,
    error       TEXT,
    new_entries INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX fetch_log_by_feed ON fetch_log(feed_id, at);
"#;

/// 2: feed health — the 301/308 target being counted toward a move, when a feed answered 410 —
/// and the discovery cache of members who gave only a blog.
const V2: &str = r#"
ALTER TABLE feeds ADD COLUMN redirect_target TEXT;
ALTER TABLE feeds ADD COLUMN gone_since INTEGER;

CREATE TABLE discovered (
    member_id    TEXT PRIMARY KEY,
    blog         TEXT NOT NULL,
    feed_url     TEXT,
    rule         TEXT,
    platform     TEXT,
    error        TEXT,
    attempted_at INTEGER NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 1
);
"#;

/// 3: the weekly digest — which week went to which audience, and which posts it carried (a post
/// first seen late is announced once, in the next digest not yet sent).
const V3: &str = r#"
CREATE TABLE digests_sent (
    week       TEXT NOT NULL,
    audience   TEXT NOT NULL,
    sent_at    INTEGER NOT NULL,
    message_id TEXT NOT NULL,
    recipients INTEGER NOT NULL,
    sends      INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (week, audience)
) WITHOUT ROWID;

CREATE TABLE digest_posts (
    week     TEXT NOT NULL,
    audience TEXT NOT NULL,
    post_id  INTEGER NOT NULL REFERENCES posts(id),
    PRIMARY KEY (week, audience, post_id)
) WITHOUT ROWID;
CREATE INDEX digest_posts_by_post ON digest_posts(post_id);
"#;

/// 4: a post's full HTML lives in its own table, so reading posts (rounds, outputs) does not walk
/// every post's content through overflow pages.
const V4: &str = r#"
CREATE TABLE post_content (
    post_id INTEGER PRIMARY KEY REFERENCES posts(id),
    html    TEXT NOT NULL
);
INSERT INTO post_content(post_id, html) SELECT id, content FROM posts WHERE content IS NOT NULL;
ALTER TABLE posts DROP COLUMN content;
"#;

/// 5: the kind of a feed's last failure (timeout, an HTML page instead of a feed, …), so the
/// advice `feeds` gives follows from what happened rather than from the words of the error.
const V5: &str = r#"
ALTER TABLE feeds ADD COLUMN fail_kind TEXT;
"#;

/// 6: where a post's length came from (the feed's full text, an RSS description taken as it,
/// the post's page, or unknown), and the post pages the
/// reader has read: keyed by address, with validators for a conditional re-read, the post's
/// `updated` when it was read (a page is read again only when the feed says the post changed),
/// and what was found — or why nothing was.
const V6: &str = r#"
ALTER TABLE posts ADD COLUMN chars_source TEXT CHECK (chars_source IN ('feed', 'description', 'page'));
UPDATE posts SET chars_source = 'feed' WHERE chars IS NOT NULL;

CREATE TABLE pages (
    url           TEXT PRIMARY KEY,
    final_url     TEXT,
    etag          TEXT,
    last_modified TEXT,
    read_at       INTEGER NOT NULL,
    for_updated   INTEGER,
    attempts      INTEGER NOT NULL DEFAULT 1,
    retry         INTEGER NOT NULL DEFAULT 0,
    rule          TEXT,
    chars         INTEGER,
    title         TEXT,
    published     INTEGER,
    error         TEXT
) WITHOUT ROWID;
"#;

/// 7: what went to chat and to members' own addresses: one row per message kind (`digest`,
/// `remind`), period (an ISO week, `round-N`) and channel (`chat:members`, `chat:operators`,
/// `dm:<member>`, `mail:<member>`), with how many of its messages the platform accepted — a
/// long digest is several messages, and a run stopped halfway resumes after the last accepted
/// one. Channels are named by role, never by their secret address.
const V7: &str = r#"
CREATE TABLE deliveries (
    kind    TEXT NOT NULL,
    period  TEXT NOT NULL,
    channel TEXT NOT NULL,
    parts   INTEGER NOT NULL,
    total   INTEGER NOT NULL,
    sent_at INTEGER NOT NULL,
    sends   INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (kind, period, channel)
) WITHOUT ROWID;
"#;

/// 8: a run's cost stops growing with history. `posts_by_member_seen` finds the change points the
/// fetch log is compacted between (`fetch_log.rs`); `outputs_stale` says whether anything the
/// outputs are made of changed since they were last rendered — posts, entries, HTML, pages read,
/// the discovery cache, and a feed's shown columns (not its validators or attempt times) — set
/// by triggers, so every write path is covered, and cleared when the outputs are rendered.
const V8: &str = r#"
CREATE INDEX posts_by_member_seen ON posts(member_id, first_seen);
-- The log so far, compacted as each fetch now compacts it: a successful read goes when the next
-- one of its feed follows with no change point (a post of the member, or one the feed carries,
-- first seen) between them; failures and pauses go after a week (of the newest row).
DELETE FROM fetch_log WHERE id IN (
    SELECT w.id FROM (
        SELECT l.id, l.at, l.feed_id, f.member_id,
               LEAD(l.at) OVER (PARTITION BY l.feed_id ORDER BY l.at, l.id) AS next_at
        FROM fetch_log l JOIN feeds f ON f.id = l.feed_id
        WHERE l.outcome IN ('fetched', 'not_modified')
    ) w
    WHERE w.next_at IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM posts p WHERE p.member_id = w.member_id
                        AND p.first_seen > w.at AND p.first_seen <= w.next_at)
      AND NOT EXISTS (SELECT 1 FROM entries e JOIN posts p ON p.id = e.post_id
                      WHERE e.feed_id = w.feed_id AND p.first_seen > w.at AND p.first_seen <= w.next_at)
);
DELETE FROM fetch_log WHERE outcome IN ('failed', 'paused')
    AND at < (SELECT MAX(at) FROM fetch_log) - 604800;
INSERT OR REPLACE INTO meta(key, value) VALUES ('outputs_stale', '1');
CREATE TRIGGER posts_added AFTER INSERT ON posts
    BEGIN UPDATE meta SET value = '1' WHERE key = 'outputs_stale' AND value IS NOT '1'; END;
CREATE TRIGGER posts_removed AFTER DELETE ON posts
    BEGIN UPDATE meta SET value = '1' WHERE key = 'outputs_stale' AND value IS NOT '1'; END;
CREATE TRIGGER entries_added AFTER INSERT ON entries
    BEGIN UPDATE meta SET value = '1' WHERE key = 'outputs_stale' AND value IS NOT '1'; END;
CREATE TRIGGER entries_removed AFTER DELETE ON entries
    BEGIN UPDATE meta SET value = '1' WHERE key = 'outputs_stale' AND value IS NOT '1'; END;
CREATE TRIGGER post_content_added AFTER INSERT ON post_content
    BEGIN UPDATE meta SET value = '1' WHERE key = 'outputs_stale' AND value IS NOT '1'; END;
CREATE TRIGGER post_content_removed AFTER DELETE ON post_content
    BEGIN UPDATE meta SET value = '1' WHERE key = 'outputs_stale' AND value IS NOT '1'; END;
CREATE TRIGGER pages_added AFTER INSERT ON pages
    BEGIN UPDATE meta SET value = '1' WHERE key = 'outputs_stale' AND value IS NOT '1'; END;
CREATE TRIGGER pages_removed AFTER DELETE ON pages
    BEGIN UPDATE meta SET value = '1' WHERE key = 'outputs_stale' AND value IS NOT '1'; END;
CREATE TRIGGER discovered_added AFTER INSERT ON discovered
    BEGIN UPDATE meta SET value = '1' WHERE key = 'outputs_stale' AND value IS NOT '1'; END;
CREATE TRIGGER discovered_removed AFTER DELETE ON discovered
    BEGIN UPDATE meta SET value = '1' WHERE key = 'outputs_stale' AND value IS NOT '1'; END;
CREATE TRIGGER feeds_added AFTER INSERT ON feeds
    BEGIN UPDATE meta SET value = '1' WHERE key = 'outputs_stale' AND value IS NOT '1'; END;
CREATE TRIGGER feeds_removed AFTER DELETE ON feeds
    BEGIN UPDATE meta SET value = '1' WHERE key = 'outputs_stale' AND value IS NOT '1'; END;
CREATE TRIGGER posts_changed AFTER UPDATE ON posts
    WHEN (OLD.member_id, OLD.atom_id, OLD.title, OLD.link, OLD.normalised_link, OLD.norm_title, OLD.published, OLD.updated, OLD.first_seen, OLD.effective, OLD.summary, OLD.chars, OLD.chars_source, OLD.history, OLD.primary_feed_id, OLD.primary_rank)
      IS NOT (NEW.member_id, NEW.atom_id, NEW.title, NEW.link, NEW.normalised_link, NEW.norm_title, NEW.published, NEW.updated, NEW.first_seen, NEW.effective, NEW.summary, NEW.chars, NEW.chars_source, NEW.history, NEW.primary_feed_id, NEW.primary_rank)
    BEGIN UPDATE meta SET value = '1' WHERE key = 'outputs_stale' AND value IS NOT '1'; END;
CREATE TRIGGER entries_changed AFTER UPDATE ON entries
    WHEN (OLD.feed_id, OLD.key, OLD.post_id, OLD.first_seen, OLD.link, OLD.published, OLD.updated)
      IS NOT (NEW.feed_id, NEW.key, NEW.post_id, NEW.first_seen, NEW.link, NEW.published, NEW.updated)
    BEGIN UPDATE meta SET value = '1' WHERE key = 'outputs_stale' AND value IS NOT '1'; END;
CREATE TRIGGER post_content_changed AFTER UPDATE ON post_content
    WHEN (OLD.post_id, OLD.html)
      IS NOT (NEW.post_id, NEW.html)
    BEGIN UPDATE meta SET value = '1' WHERE key = 'outputs_stale' AND value IS NOT '1'; END;
CREATE TRIGGER pages_changed AFTER UPDATE ON pages
    WHEN (OLD.url, OLD.final_url, OLD.rule, OLD.chars, OLD.title, OLD.published, OLD.error, OLD.for_updated)
      IS NOT (NEW.url, NEW.final_url, NEW.rule, NEW.chars, NEW.title, NEW.published, NEW.error, NEW.for_updated)
    BEGIN UPDATE meta SET value = '1' WHERE key = 'outputs_stale' AND value IS NOT '1'; END;
CREATE TRIGGER discovered_changed AFTER UPDATE ON discovered
    WHEN (OLD.member_id, OLD.blog, OLD.feed_url, OLD.rule, OLD.platform, OLD.error)
      IS NOT (NEW.member_id, NEW.blog, NEW.feed_url, NEW.rule, NEW.platform, NEW.error)
    BEGIN UPDATE meta SET value = '1' WHERE key = 'outputs_stale' AND value IS NOT '1'; END;
CREATE TRIGGER feeds_changed AFTER UPDATE ON feeds
    WHEN (OLD.url, OLD.member_id, OLD.title, OLD.feed_uid, OLD.site_link, OLD.feed_updated, OLD.http_status, OLD.consecutive_failures, OLD.last_error, OLD.fail_kind, OLD.moved_to, OLD.gone_since, OLD.items, OLD.last_post)
      IS NOT (NEW.url, NEW.member_id, NEW.title, NEW.feed_uid, NEW.site_link, NEW.feed_updated, NEW.http_status, NEW.consecutive_failures, NEW.last_error, NEW.fail_kind, NEW.moved_to, NEW.gone_since, NEW.items, NEW.last_post)
    BEGIN UPDATE meta SET value = '1' WHERE key = 'outputs_stale' AND value IS NOT '1'; END;
"#;

/// 9: a feed's HTTP status is no part of any output (the trouble box shows failures and errors),
/// so a feed going from 200 to 304 no longer marks the outputs stale: a run where every feed
/// answers "not modified" renders nothing.
const V9: &str = r#"
DROP TRIGGER feeds_changed;
CREATE TRIGGER feeds_changed AFTER UPDATE ON feeds
    WHEN (OLD.url, OLD.member_id, OLD.title, OLD.feed_uid, OLD.site_link, OLD.feed_updated, OLD.consecutive_failures, OLD.last_error, OLD.fail_kind, OLD.moved_to, OLD.gone_since, OLD.items, OLD.last_post)
      IS NOT (NEW.url, NEW.member_id, NEW.title, NEW.feed_uid, NEW.site_link, NEW.feed_updated, NEW.consecutive_failures, NEW.last_error, NEW.fail_kind, NEW.moved_to, NEW.gone_since, NEW.items, NEW.last_post)
    BEGIN UPDATE meta SET value = '1' WHERE key = 'outputs_stale' AND value IS NOT '1'; END;
"#;

/// 10: the fetch log's compaction finds the posts a feed carries that were first seen since its
/// previous read without walking all of the feed's entries (a feed's history grows over a
/// cohort, and the compaction runs on every fetch).
const V10: &str = "CREATE INDEX entries_by_feed_seen ON entries(feed_id, first_seen);";

/// 11: whether any post's date lies after `now` (asked on every run, to know whether the
/// outputs change with time alone) is answered from an index on a post's latest date, not a
/// walk of every post: the posts grow over a cohort. The expression must stay the one
/// `Store::dates_after` writes, or SQLite will not use the index.
const V11: &str = "CREATE INDEX posts_by_latest_date
    ON posts(max(effective, coalesce(published, effective), coalesce(updated, effective)));";

/// 12: the inserts a fetch makes (posts, entries, a post's HTML) mark the outputs stale in the
/// code that makes them (`store/posts.rs`), not by trigger: a statement that fires a trigger
/// keeps an undo journal of every page it touches, and these inserts are most of what a cold
/// run writes. Every other write keeps its trigger.
const V12: &str = "DROP TRIGGER posts_added;
DROP TRIGGER entries_added;
DROP TRIGGER post_content_added;";

/// 13: matching a new entry to a member's existing post (same link, or same title within three
/// days) reads that member's posts through `posts_by_member_seen`, rather than through an index
/// on (member, link) and one on (member, title): a member has tens of posts, and those two
/// indexes, keyed by long text, were a fifth of what storing a new post wrote.
const V13: &str = "DROP INDEX posts_by_link;
DROP INDEX posts_by_title;";

/// 14: the index of migration 11 holds only the posts whose published or updated date lies
/// after their effective time (a date set aside as in the future, or an update after
/// publication); for every other post the latest date is the effective time, which
/// `posts_by_time` orders. Keyed by date, the full index took a write at a random place for
/// every new post: at 10,000 feeds, most of what a cold run wrote.
const V14: &str = "DROP INDEX posts_by_latest_date;
CREATE INDEX posts_dated_later
    ON posts(max(coalesce(published, effective), coalesce(updated, effective)))
    WHERE max(coalesce(published, effective), coalesce(updated, effective)) > effective;";

/// All migrations, in order.
pub fn migrations() -> Migrations<'static> {
    Migrations::new(
        [V1, V2, V3, V4, V5, V6, V7, V8, V9, V10, V11, V12, V13, V14]
            .into_iter()
            .map(M::up)
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn migrations_are_valid() {
        assert!(super::migrations().validate().is_ok());
    }
}
