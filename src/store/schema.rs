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

/// All migrations, in order.
pub fn migrations() -> Migrations<'static> {
    Migrations::new(
        [V1, V2, V3, V4, V5, V6, V7]
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
