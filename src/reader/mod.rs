//! The post-page reader (to come): a post's own page, read when its feed gives no full text.
//!
//! This room will own reading pages, as the README's *Reading pages* will describe: for a
//! non-history post whose feed carried only a summary, the post's page is fetched once through
//! the fetch stage (the same guard, caps, timeouts and body cap, at most `[reader] max_pages` a
//! run) and the article's text is extracted — platform rules first (Tistory, Velog, Naver's
//! frame and SmartEditor, Brunch, Medium, WordPress, the static generators), a general article
//! extractor after — and measured by the length rule. It will also read a page's title and date
//! for posts recorded by hand, and a sitemap for a blog without a feed. A page that cannot be
//! read leaves the length unknown with its reason; it never fails the feed.
//!
//! It will sit between the store and the judge: the fetch run hands it the posts that need a
//! page (`pipeline/`, a file of its own), and it writes back a length and where it came from.
//! It may import the fetch stage, `normalise` (the length rule) and `time`; nothing imports it
//! but the pipeline.

// NOTE: a placeholder with the reader's interface, replaced by the extraction itself.
use chrono::{DateTime, Utc};

/// What the reader found on one page.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The page is only a frame around the post: read this address instead.
    pub follow: Option<url::Url>,
    /// The page's title.
    pub title: Option<String>,
    /// The post's date, from the page.
    pub published: Option<DateTime<Utc>>,
    /// The article, or why none was found.
    pub article: Result<Article, String>,
}

/// The article of a page.
#[derive(Debug, Clone, PartialEq)]
pub struct Article {
    /// Which rule found it.
    pub rule: &'static str,
    /// The article's visible text.
    pub text: String,
    /// Its length by the club's rule.
    pub chars: usize,
}

/// Reads one page. Until the extractor lands, no article is ever taken from a page (a whole
/// page's text would count navigation and comments): the length stays unknown.
pub fn read(_html: &str, _page_url: &url::Url, _tz: chrono_tz::Tz) -> Page {
    Page {
        follow: None,
        title: None,
        published: None,
        article: Err("the article extractor is not built yet".to_string()),
    }
}
