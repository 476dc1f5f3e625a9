//! The post pages the reader has read: which pages a run should read, and what each gave.
//!
//! A page is keyed by its address (a post's published link, or an `extra_posts` URL). It is
//! read once; again only when the feed says the post was updated (the post's `updated` is later
//! than the one it was read for) — with the page's validators, so an unchanged page costs a
//! 304 — or, after a failed fetch, on a later run, a few times at most. A length found on the
//! page becomes the post's length (`chars_source = 'page'`) in the same transaction, and the
//! page's title and date fill in what the feed (or sitemap) did not give.

use std::collections::HashMap;

use rusqlite::{params, OptionalExtension};

use super::{Result, Store};
use crate::normalise::normalise_title;

/// A failed page fetch is tried again on later runs, this many times in all.
pub const PAGE_ATTEMPTS: u32 = 3;

/// A page a run should read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageWanted {
    /// The page's address.
    pub url: String,
    /// The post's `updated` now (a re-read is recorded for it).
    pub for_updated: Option<i64>,
    /// The `ETag` of the last read, for a conditional re-read.
    pub etag: Option<String>,
    /// The `Last-Modified` of the last read, for a conditional re-read.
    pub last_modified: Option<String>,
    /// Failed reads so far.
    pub attempts: u32,
}

/// What the store keeps of a page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageFacts {
    /// Where it was read after redirects (and a frame followed).
    pub final_url: Option<String>,
    /// Which reader rule found the article.
    pub rule: Option<String>,
    /// The article's length by the club's rule.
    pub chars: Option<u64>,
    /// The page's title.
    pub title: Option<String>,
    /// The post's date from the page (Unix seconds).
    pub published: Option<i64>,
    /// Why the page gave no length, in words.
    pub error: Option<String>,
    /// When it was last read (Unix seconds).
    pub read_at: i64,
}

/// What reading one page came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageOutcome<'a> {
    /// The page was read; the article found, or why not (`rule`/`chars` absent).
    Read {
        /// Where it was read (after redirects, and a frame followed).
        final_url: &'a str,
        /// Validators for the next re-read.
        etag: Option<&'a str>,
        /// Validators for the next re-read.
        last_modified: Option<&'a str>,
        /// The reader rule that found the article.
        rule: Option<&'a str>,
        /// The article's length.
        chars: Option<u64>,
        /// The page's title.
        title: Option<&'a str>,
        /// The post's date from the page.
        published: Option<i64>,
        /// Why no article was found.
        error: Option<&'a str>,
    },
    /// The server said the page did not change since the last read.
    NotModified,
    /// The page could not be fetched; `retry` when trying again later may help.
    Failed {
        /// What happened, in words.
        error: &'a str,
        /// A transient failure (timeout, refused connection, 5xx).
        retry: bool,
    },
}

impl Store {
    /// The pages of posts whose length the feed does not give (or gives as a description under
    /// `min_chars`), newest posts first, at most `limit`: never read, read for an older
    /// `updated`, or failed and due again (last tried at or before `retry_before`).
    pub fn pages_wanted(
        &self,
        min_chars: usize,
        limit: usize,
        retry_before: i64,
    ) -> Result<Vec<PageWanted>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT p.link, MAX(p.updated), g.etag, g.last_modified, COALESCE(g.attempts, 0)
                 FROM posts p LEFT JOIN pages g ON g.url = p.link
                 WHERE p.history = 0 AND p.link IS NOT NULL
                   AND (p.chars IS NULL OR p.chars_source = 'page'
                        OR (p.chars_source = 'description' AND p.chars < ?1))
                   AND (g.url IS NULL
                        OR (p.updated IS NOT NULL AND (g.for_updated IS NULL OR p.updated > g.for_updated))
                        OR (g.retry = 1 AND g.attempts < ?2 AND g.read_at <= ?3))
                 GROUP BY p.link
                 ORDER BY MAX(p.effective) DESC, p.link
                 LIMIT ?4",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(
                params![min_chars as i64, PAGE_ATTEMPTS, retry_before, limit as i64],
                |r| {
                    Ok(PageWanted {
                        url: r.get(0)?,
                        for_updated: r.get(1)?,
                        etag: r.get(2)?,
                        last_modified: r.get(3)?,
                        attempts: r.get(4)?,
                    })
                },
            )
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.err(e))
    }

    /// What the store keeps of the page at `url`, if it was ever read.
    pub fn page(&self, url: &str) -> Result<Option<PageFacts>> {
        self.conn
            .prepare_cached(
                "SELECT final_url, rule, chars, title, published, error, read_at FROM pages WHERE url = ?1",
            )
            .and_then(|mut s| {
                s.query_row([url], |r| {
                    Ok(PageFacts {
                        final_url: r.get(0)?,
                        rule: r.get(1)?,
                        chars: r.get::<_, Option<i64>>(2)?.map(|c| c.max(0) as u64),
                        title: r.get(3)?,
                        published: r.get(4)?,
                        error: r.get(5)?,
                        read_at: r.get(6)?,
                    })
                })
                .optional()
            })
            .map_err(|e| self.err(e))
    }

    /// The pages of these addresses that were read, by address.
    pub fn pages(&self, urls: &[&str]) -> Result<HashMap<String, PageFacts>> {
        let mut out = HashMap::new();
        for url in urls {
            if let Some(facts) = self.page(url)? {
                out.insert((*url).to_string(), facts);
            }
        }
        Ok(out)
    }

    /// Records a read of the page `url` (for the post's `updated` value `for_updated`) and, when
    /// it gave a length, makes it the length of the posts that link to it — in one transaction.
    pub fn record_page(
        &mut self,
        url: &str,
        for_updated: Option<i64>,
        outcome: &PageOutcome<'_>,
        now: i64,
    ) -> Result<()> {
        self.immediate(|tx| match outcome {
            PageOutcome::Read { .. } => page_read(tx, url, for_updated, outcome, now),
            PageOutcome::NotModified => tx
                .prepare_cached(
                    "UPDATE pages SET read_at = ?2, for_updated = ?3, attempts = 0, retry = 0 WHERE url = ?1",
                )
                .and_then(|mut s| s.execute(params![url, now, for_updated]))
                .map(|_| ()),
            PageOutcome::Failed { error, retry } => tx
                .prepare_cached(
                    "INSERT INTO pages(url, read_at, for_updated, attempts, retry, error)
                     VALUES (?1, ?2, ?3, 1, ?4, ?5)
                     ON CONFLICT(url) DO UPDATE SET read_at = excluded.read_at,
                         for_updated = excluded.for_updated, attempts = attempts + 1,
                         retry = excluded.retry, error = excluded.error",
                )
                .and_then(|mut s| s.execute(params![url, now, for_updated, retry, error]))
                .map(|_| ()),
        })
    }
}

/// A page that was read: what it gave, and its length made the length of the posts linking to
/// it (over a feed's description, never over a feed's full text).
fn page_read(
    tx: &rusqlite::Connection,
    url: &str,
    for_updated: Option<i64>,
    outcome: &PageOutcome<'_>,
    now: i64,
) -> rusqlite::Result<()> {
    let PageOutcome::Read {
        final_url,
        etag,
        last_modified,
        rule,
        chars,
        title,
        published,
        error,
    } = outcome
    else {
        return Ok(());
    };
    tx.prepare_cached(
        "INSERT INTO pages(url, final_url, etag, last_modified, read_at, for_updated,
             attempts, retry, rule, chars, title, published, error)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, 0, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT(url) DO UPDATE SET final_url = excluded.final_url,
             etag = excluded.etag, last_modified = excluded.last_modified,
             read_at = excluded.read_at, for_updated = excluded.for_updated,
             attempts = 0, retry = 0, rule = excluded.rule, chars = excluded.chars,
             title = excluded.title, published = excluded.published,
             error = excluded.error",
    )?
    .execute(params![
        url,
        final_url,
        etag,
        last_modified,
        now,
        for_updated,
        rule,
        chars.map(|c| c as i64),
        title,
        published,
        error
    ])?;
    if let Some(chars) = chars {
        tx.prepare_cached(
            "UPDATE posts SET chars = ?2, chars_source = 'page'
             WHERE link = ?1 AND (chars IS NULL OR chars_source IN ('description', 'page'))",
        )?
        .execute(params![url, *chars as i64])?;
    }
    // What the feed lacked, the page gives: a title (a sitemap lists none), a publication date
    // (a sitemap's lastmod is only when the page changed) — and with it the effective time.
    if let Some(title) = title.map(|t| t.trim()).filter(|t| !t.is_empty()) {
        tx.prepare_cached(
            "UPDATE posts SET title = ?2, norm_title = ?3 WHERE link = ?1 AND title = ''",
        )?
        .execute(params![url, title, normalise_title(title)])?;
    }
    if let Some(published) = published {
        tx.prepare_cached(
            "UPDATE posts SET published = ?2, effective = effective_time(?2, updated, first_seen)
             WHERE link = ?1 AND published IS NULL",
        )?
        .execute(params![url, published])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::TagContext;
    use crate::normalise::{FeedMeta, Post};
    use crate::source::FeedSource;
    use crate::store::FetchRecord;
    use chrono::{TimeZone, Utc};

    const NOW: i64 = 1_730_000_000;

    /// A store with one feed carrying two posts: `/full` with its full text, `/summary` with
    /// none (the second `updated` as given).
    fn store(updated: Option<i64>) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("g.db")).unwrap();
        let row = store
            .sync_feeds(&[("m".into(), FeedSource::from_key("https://m.example/rss"))])
            .unwrap()
            .remove(0);
        let post = |path: &str, chars: Option<usize>, updated: Option<i64>| Post {
            key: format!("guid:{path}"),
            title: path.into(),
            link: Some(format!("https://m.example{path}")),
            normalised_link: Some(format!("https://m.example{path}")),
            published: Some(Utc.timestamp_opt(NOW - 3600, 0).unwrap()),
            updated: updated.map(|t| Utc.timestamp_opt(t, 0).unwrap()),
            summary: "요약".into(),
            content_html: None,
            chars,
            chars_from_description: false,
            warnings: vec![],
        };
        let posts = [
            post("/full", Some(1500), None),
            post("/summary", None, updated),
        ];
        let tag = TagContext {
            authority: "geultto.github.io".into(),
            date: "2024-10-27".into(),
        };
        let meta = FeedMeta::default();
        let record = FetchRecord::Fetched {
            final_url: "https://m.example/rss",
            http_status: 200,
            etag: None,
            last_modified: None,
            body_hash: "h",
            permanent_redirect: None,
            meta: &meta,
            posts: &posts,
            rank: 0,
            tag: &tag,
        };
        store.record(&row, &record, NOW).unwrap();
        (dir, store)
    }

    fn wanted(store: &Store) -> Vec<String> {
        store
            .pages_wanted(1000, 10, NOW + 86_400)
            .unwrap()
            .into_iter()
            .map(|w| w.url)
            .collect()
    }

    fn chars_of(store: &Store, link: &str) -> (Option<i64>, Option<String>) {
        let p = store.all_posts().unwrap();
        let p = p.iter().find(|p| p.link.as_deref() == Some(link)).unwrap();
        (p.chars, p.chars_source.clone())
    }

    #[test]
    fn a_page_is_read_once_and_its_length_becomes_the_posts() {
        let (_d, mut store) = store(None);
        assert_eq!(
            wanted(&store),
            ["https://m.example/summary"],
            "only the post without text"
        );
        let read = PageOutcome::Read {
            final_url: "https://m.example/summary",
            etag: Some("\"v1\""),
            last_modified: None,
            rule: Some("article"),
            chars: Some(1234),
            title: Some("제목"),
            published: None,
            error: None,
        };
        store
            .record_page("https://m.example/summary", None, &read, NOW + 60)
            .unwrap();
        assert_eq!(
            chars_of(&store, "https://m.example/summary"),
            (Some(1234), Some("page".into()))
        );
        assert_eq!(
            chars_of(&store, "https://m.example/full"),
            (Some(1500), Some("feed".into()))
        );
        assert!(wanted(&store).is_empty(), "read once");
        let facts = store.page("https://m.example/summary").unwrap().unwrap();
        assert_eq!(
            (facts.rule.as_deref(), facts.chars),
            (Some("article"), Some(1234))
        );
    }

    #[test]
    fn a_page_is_read_again_when_the_feed_says_the_post_changed() {
        let (_d, mut store) = store(Some(NOW - 600));
        let url = "https://m.example/summary";
        let first = store.pages_wanted(1000, 10, NOW).unwrap().remove(0);
        assert_eq!(first.for_updated, Some(NOW - 600));
        let read = PageOutcome::Read {
            final_url: url,
            etag: Some("\"v1\""),
            last_modified: None,
            rule: Some("article"),
            chars: Some(900),
            title: None,
            published: None,
            error: None,
        };
        store
            .record_page(url, first.for_updated, &read, NOW)
            .unwrap();
        assert!(wanted(&store).is_empty());
        // The feed now says the post was updated later: read again, with the validators.
        store
            .conn
            .execute(
                "UPDATE posts SET updated = ?1 WHERE link = ?2",
                params![NOW + 100, url],
            )
            .unwrap();
        let again = store.pages_wanted(1000, 10, NOW).unwrap().remove(0);
        assert_eq!(
            (again.etag.as_deref(), again.for_updated),
            (Some("\"v1\""), Some(NOW + 100))
        );
        store
            .record_page(url, again.for_updated, &PageOutcome::NotModified, NOW + 200)
            .unwrap();
        assert!(wanted(&store).is_empty(), "a 304 settles it");
        assert_eq!(chars_of(&store, url), (Some(900), Some("page".into())));
    }

    #[test]
    fn a_failed_fetch_is_retried_a_few_times_and_a_page_without_an_article_is_not() {
        let (_d, mut store) = store(None);
        let url = "https://m.example/summary";
        let failed = PageOutcome::Failed {
            error: "timed out",
            retry: true,
        };
        for attempt in 0..PAGE_ATTEMPTS {
            assert_eq!(wanted(&store), [url], "attempt {attempt}");
            store.record_page(url, None, &failed, NOW).unwrap();
        }
        assert!(wanted(&store).is_empty(), "gave up after {PAGE_ATTEMPTS}");
        let (_d, mut store) = self::store(None);
        let empty = PageOutcome::Read {
            final_url: url,
            etag: None,
            last_modified: None,
            rule: None,
            chars: None,
            title: None,
            published: None,
            error: Some("no article on the page"),
        };
        store.record_page(url, None, &empty, NOW).unwrap();
        assert!(wanted(&store).is_empty());
        assert_eq!(chars_of(&store, url), (None, None));
    }
}
