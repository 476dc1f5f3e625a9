//! The post-page reader's extraction: the HTML of a post's own page in, its article out.
//!
//! When a feed carries only a summary, the tool reads the post's page; this room is the pure
//! part of that — [`read`] takes a page already fetched and decoded and returns a [`Page`]:
//! the article's text and its length by the club's rule (measured with
//! [`crate::normalise::html_text`] on the article's inner HTML, exactly as feed content is
//! measured), the title and publication date, and, for Naver's frame page, the address to read
//! instead. Platform rules come first (`rules.rs`: Tistory, Velog, Naver's SmartEditor 3 and 2,
//! Brunch, Medium, WordPress, Docusaurus, Hugo, Jekyll, Gatsby, Hexo, Next.js), then the page's
//! `<article>`, then a general extractor, the densest block of paragraphs (`density.rs`);
//! inside the chosen element the chrome is left out before measuring (`chrome.rs`). Metadata is
//! read by `meta.rs`; `depth.rs` refuses pages nested so deep that parsing or reading them
//! would take minutes (html5ever's cost grows with the square of the depth; past the 512
//! levels browsers allow, the reader does not go). A page without an article is an `Err` with
//! a reason for the operator, never a panic.
//!
//! Fetching, storing and scheduling are not here: the pipeline fetches the page (through the
//! fetch stage, with its guard, caps and body cap), hands the decoded text to [`read`], follows
//! [`Page::follow`] once, and stores what comes back. Sitemaps are not read here either.

mod chrome;
mod density;
mod depth;
mod meta;
mod rules;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use scraper::Html;
use url::Url;

/// What the reader found on one page.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The page is only a frame around the post (Naver's `blog.naver.com/{id}/{logNo}` page
    /// holds an `iframe#mainFrame` with the PostView address): read this address instead.
    /// `None` otherwise.
    pub follow: Option<Url>,
    /// `og:title`, then `<title>` (trimmed, entities decoded, one line); `None` when absent.
    pub title: Option<String>,
    /// `article:published_time`, JSON-LD `datePublished`, microdata or `<time datetime>`, or a
    /// platform's own date markup; a date without a zone is in the club's zone.
    pub published: Option<DateTime<Utc>>,
    /// The article, or why none was found (a sentence for an operator, shown by `inspect`).
    pub article: Result<Article, String>,
}

/// An article found on a page and its length.
#[derive(Debug, Clone, PartialEq)]
pub struct Article {
    /// Which rule found it: a platform's (`tistory`, `velog`, `naver-se3`, `naver-se2`,
    /// `brunch`, `medium`, `wordpress`, `docusaurus`, `hugo`, `jekyll`, `gatsby`, `hexo`,
    /// `nextjs`), the page's `<article>` element (`article`), or the general extractor
    /// (`density`).
    pub rule: &'static str,
    /// The article's visible text, whitespace collapsed (code included).
    pub text: String,
    /// Its length by the club's rule: characters without whitespace and without `<pre>`/`<code>`
    /// content.
    pub chars: usize,
}

/// Reads a post's page: `html` as decoded text, `page_url` the address it came from (after
/// redirects; relative frame addresses resolve against it), `tz` the club's zone for dates
/// without one.
pub fn read(html: &str, page_url: &Url, tz: Tz) -> Page {
    let cost = depth::parse_cost(html);
    if cost.cost > depth::MAX_PARSE_COST {
        return too_deep(cost.max_depth as usize);
    }
    let doc = Html::parse_document(html);
    let nesting = depth::tree_depth(doc.root_element());
    if nesting > depth::MAX_TREE_DEPTH {
        return too_deep(nesting);
    }
    let follow = meta::follow(&doc, page_url);
    let titles = meta::titles(&doc);
    let article = match &follow {
        Some(url) => Err(format!(
            "the page is only a frame around the post: its text is at {url}"
        )),
        None => rules::article(&rules::Context {
            doc: &doc,
            host: page_url.host_str().unwrap_or("").to_ascii_lowercase(),
            titles: &titles,
        }),
    };
    Page {
        follow,
        title: meta::title(&doc),
        published: meta::published(&doc, tz),
        article,
    }
}

/// The page that was not read because it nests `levels` deep.
fn too_deep(levels: usize) -> Page {
    Page {
        follow: None,
        title: None,
        published: None,
        article: Err(format!(
            "the page nests its elements {levels} levels deep: too deep to read safely \
             (browsers stop at {}), so it was not read",
            depth::MAX_TREE_DEPTH
        )),
    }
}
