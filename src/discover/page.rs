//! What an HTML page says about its feeds: `<link rel="alternate">` autodiscovery (RSS, Atom,
//! JSON Feed) resolved against `<base href>`, with comment feeds, `hreflang` page alternates and
//! stylesheets left out and the main feed first; the generator (`<meta name="generator">`) and
//! platform fingerprints (Tistory on its own domain, Medium and Substack custom domains); and
//! the canonical and `og:url` addresses, which the address rules can read. Pure: the page is
//! already fetched. Parsed with scraper (html5ever), so unquoted attributes and broken markup
//! read as a browser reads them.

use scraper::node::{Element, Node};
use scraper::Html;
use url::Url;

use super::rules::Platform;

/// A feed a page links to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alternate {
    /// The feed's address, resolved.
    pub url: Url,
    /// The link's `title`, if any.
    pub title: Option<String>,
}

/// What was read from a page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageFacts {
    /// Linked feeds, main feed first, without duplicates.
    pub alternates: Vec<Alternate>,
    /// The platform or generator the markup reveals.
    pub platform: Option<Platform>,
    /// `<link rel="canonical">` and `og:url`, resolved.
    pub addresses: Vec<Url>,
    /// The base URL relative links resolve against.
    pub base: Option<Url>,
}

/// A `<link>` element's attributes that matter here.
struct LinkTag {
    rel: Vec<String>,
    kind: Option<String>,
    href: Option<String>,
    title: Option<String>,
    hreflang: bool,
}

impl LinkTag {
    /// The attributes of `el`, trimmed; `rel` and `type` lowercased.
    fn of(el: &Element) -> Self {
        let rel: Vec<String> = el
            .attr("rel")
            .unwrap_or("")
            .split_ascii_whitespace()
            .map(str::to_ascii_lowercase)
            .collect();
        LinkTag {
            rel,
            kind: el.attr("type").map(|t| t.trim().to_ascii_lowercase()),
            href: el.attr("href").map(|h| h.trim().to_string()),
            title: el.attr("title").map(|t| t.trim().to_string()),
            hreflang: el.attr("hreflang").is_some(),
        }
    }

    /// Whether `rel` lists this (lowercase) value.
    fn has_rel(&self, rel: &str) -> bool {
        self.rel.iter().any(|r| r == rel)
    }
}

/// The elements of a page that say where its feeds are: the first `<base>`, every `<link>`, and
/// every `<meta>` (keyed by `name` or `property`, lowercased).
#[derive(Default)]
struct PageTags {
    base: Option<Url>,
    links: Vec<LinkTag>,
    generator: Option<String>,
    metas: Vec<(String, String)>,
}

impl PageTags {
    /// Collects the tags of `doc`, in document order; `<base href>` resolved against `page_url`.
    fn collect(doc: &Html, page_url: &Url) -> Self {
        let mut tags = PageTags::default();
        for node in doc.root_element().descendants() {
            let Node::Element(el) = node.value() else {
                continue;
            };
            match el.name() {
                "base" if tags.base.is_none() => {
                    tags.base = el.attr("href").and_then(|h| page_url.join(h.trim()).ok());
                }
                "link" => tags.links.push(LinkTag::of(el)),
                "meta" => {
                    let key = el
                        .attr("name")
                        .or_else(|| el.attr("property"))
                        .unwrap_or("")
                        .trim()
                        .to_ascii_lowercase();
                    let content = el.attr("content").unwrap_or("").trim().to_string();
                    if key == "generator" && tags.generator.is_none() {
                        tags.generator = Some(content.clone());
                    }
                    tags.metas.push((key, content));
                }
                _ => {}
            }
        }
        tags
    }

    /// The content of the first `<meta>` with this key.
    fn meta(&self, key: &str) -> Option<&str> {
        self.metas
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Reads the facts of the page at `page_url`.
pub fn read(html: &str, page_url: &Url) -> PageFacts {
    let doc = Html::parse_document(html);
    let tags = PageTags::collect(&doc, page_url);
    let resolve_base = tags.base.clone().unwrap_or_else(|| page_url.clone());

    let mut alternates: Vec<(u8, Alternate)> = Vec::new();
    let mut addresses = Vec::new();
    for link in &tags.links {
        let Some(href) = link.href.as_deref().filter(|h| !h.is_empty()) else {
            continue;
        };
        if link.has_rel("canonical") {
            if let Ok(u) = resolve_base.join(href) {
                addresses.push(u);
            }
            continue;
        }
        let Some((rank, alternate)) = feed_link(link, href, &resolve_base) else {
            continue;
        };
        if alternates.iter().any(|(_, a)| a.url == alternate.url) {
            continue;
        }
        alternates.push((rank, alternate));
    }
    alternates.sort_by_key(|(rank, _)| *rank);

    let meta = |key: &str| tags.meta(key);
    if let Some(u) = meta("og:url").and_then(|u| resolve_base.join(u).ok()) {
        addresses.push(u);
    }
    let platform = platform_of(html, tags.generator.as_deref(), &meta);
    PageFacts {
        alternates: alternates.into_iter().map(|(_, a)| a).collect(),
        platform,
        addresses,
        base: tags.base,
    }
}

/// The feed a `<link>` (with a non-empty `href`) names, with its rank: 0 for a main feed, 1 for
/// a feed of one category, tag, series or author. `None` for links that are not feeds (no
/// `alternate` or `feed` rel, stylesheets, `hreflang` page alternates, other types, other
/// schemes) and for comment feeds.
fn feed_link(link: &LinkTag, href: &str, resolve_base: &Url) -> Option<(u8, Alternate)> {
    let is_feed_rel = link.has_rel("feed");
    if !(link.has_rel("alternate") || is_feed_rel) || link.has_rel("stylesheet") || link.hreflang {
        return None;
    }
    let url = resolve_base.join(href).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let title_lc = link.title.as_deref().unwrap_or("").to_lowercase();
    let path_lc = url.path().to_ascii_lowercase();
    if !is_feed_type(link.kind.as_deref(), is_feed_rel, &path_lc, &title_lc) {
        return None;
    }
    let comments = ["comment", "댓글"].iter().any(|w| title_lc.contains(w))
        || path_lc.contains("/comments/")
        || path_lc.contains("/comments.")
        || path_lc.ends_with("/comments");
    if comments {
        return None;
    }
    // A feed of one category, tag or series is not the blog's main feed.
    let partial = [
        "/category/",
        "/categories/",
        "/tag/",
        "/tags/",
        "/series/",
        "/author/",
    ]
    .iter()
    .any(|w| path_lc.contains(w));
    let title = link.title.clone().filter(|t| !t.is_empty());
    Some((u8::from(partial), Alternate { url, title }))
}

/// Whether a link's `type` names a feed: the feed types always; generic JSON and XML types when
/// the path (or, for JSON, the title) says feed; no type at all only on `rel="feed"`.
fn is_feed_type(kind: Option<&str>, is_feed_rel: bool, path_lc: &str, title_lc: &str) -> bool {
    match kind {
        Some(
            "application/rss+xml"
            | "application/atom+xml"
            | "application/feed+json"
            | "application/rdf+xml",
        ) => true,
        Some("application/json") => path_lc.contains("feed") || title_lc.contains("feed"),
        Some("application/xml" | "text/xml") => {
            ["rss", "atom", "feed"].iter().any(|w| path_lc.contains(w))
        }
        None => is_feed_rel,
        Some(_) => false,
    }
}

fn platform_of<'a>(
    html: &str,
    generator: Option<&str>,
    meta: &dyn Fn(&str) -> Option<&'a str>,
) -> Option<Platform> {
    let generator = generator.unwrap_or("").to_ascii_lowercase();
    for (word, platform) in [
        ("hugo", Platform::Hugo),
        ("jekyll", Platform::Jekyll),
        ("hexo", Platform::Hexo),
        ("gatsby", Platform::Gatsby),
        ("docusaurus", Platform::Docusaurus),
        ("wordpress", Platform::WordPress),
        ("ghost", Platform::Ghost),
        ("blogger", Platform::Blogger),
        ("substack", Platform::Substack),
    ] {
        if generator.contains(word) {
            return Some(platform);
        }
    }
    if meta("google-adsense-platform-domain") == Some("tistory.com")
        || html.contains("tistory_admin")
    {
        return Some(Platform::Tistory);
    }
    if meta("al:android:package") == Some("com.medium.reader")
        || meta("twitter:app:name:iphone") == Some("Medium")
    {
        return Some(Platform::Medium);
    }
    if html.contains("substackcdn.com") {
        return Some(Platform::Substack);
    }
    if meta("naverblog:nickname").is_some() {
        return Some(Platform::Naver);
    }
    if html.contains("/wp-content/") || html.contains("/wp-includes/") {
        return Some(Platform::WordPress);
    }
    None
}

/// Where a platform or generator puts its feed by default, relative to the site's root.
pub fn default_feed_path(platform: Platform) -> Option<&'static str> {
    Some(match platform {
        Platform::Tistory => "rss",
        Platform::Medium | Platform::Substack => "feed",
        Platform::WordPress => "feed/",
        Platform::Ghost => "rss/",
        Platform::Blogger => "feeds/posts/default",
        Platform::Jekyll => "feed.xml",
        Platform::Hugo => "index.xml",
        Platform::Hexo => "atom.xml",
        Platform::Gatsby => "rss.xml",
        Platform::Docusaurus => "blog/rss.xml",
        _ => return None,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn urls(f: &PageFacts) -> Vec<String> {
        f.alternates.iter().map(|a| a.url.to_string()).collect()
    }

    #[test]
    fn unquoted_minified_hugo_head() {
        let html = "<!doctype html><html lang=ko><head><meta name=generator content=\"Hugo 0.147.9\">\
            <link rel=canonical href=https://t.example/><link rel=alternate href=/index.xml type=application/rss+xml title>\
            <link rel=feed href=/index.xml type=application/rss+xml title><link rel=stylesheet href=/css/s.css></head></html>";
        let f = read(html, &Url::parse("https://t.example/posts/x/").unwrap());
        assert_eq!(urls(&f), ["https://t.example/index.xml"]);
        assert_eq!(f.platform, Some(Platform::Hugo));
        assert_eq!(f.addresses[0].as_str(), "https://t.example/");
    }

    #[test]
    fn hreflang_comments_stylesheets_and_base() {
        let html = r#"<html><head><base href="https://cdn.example/site/">
            <link rel="alternate" href="https://b.example/en/" hreflang="en">
            <link rel="alternate stylesheet" type="text/css" href="dark.css">
            <link rel="alternate" type="application/rss+xml" title="Blog &raquo; Comments Feed" href="comments/feed/">
            <link rel="alternate" type="application/rss+xml" title="Blog &raquo; Feed" href="feed/">
            <link rel="alternate" type="application/json+oembed" href="oembed.json">
            <link rel="alternate" type="application/json" href="wp-json/wp/v2/posts/1">
            <link rel="alternate" type="application/feed+json" href="feed.json">
            </head></html>"#;
        let f = read(html, &Url::parse("https://b.example/2024/x/").unwrap());
        assert_eq!(
            urls(&f),
            [
                "https://cdn.example/site/feed/",
                "https://cdn.example/site/feed.json"
            ]
        );
        assert_eq!(f.alternates[0].title.as_deref(), Some("Blog » Feed"));
    }

    #[test]
    fn category_feeds_come_after_the_main_feed() {
        let html = r#"<link rel=alternate type=application/atom+xml href=/tags/rust/atom.xml>
            <link rel=alternate type=application/atom+xml href=/atom.xml>"#;
        let f = read(html, &Url::parse("https://x.example/").unwrap());
        assert_eq!(
            urls(&f),
            [
                "https://x.example/atom.xml",
                "https://x.example/tags/rust/atom.xml"
            ]
        );
    }

    #[test]
    fn platform_fingerprints() {
        let tistory = r#"<link rel="stylesheet" href="https://tistory1.daumcdn.net/tistory_admin/userblog/x/style.css">"#;
        assert_eq!(
            read(tistory, &Url::parse("https://blog.example/").unwrap()).platform,
            Some(Platform::Tistory)
        );
        let medium = r#"<meta property="al:android:package" content="com.medium.reader">"#;
        assert_eq!(
            read(medium, &Url::parse("https://eng.example/").unwrap()).platform,
            Some(Platform::Medium)
        );
        let naver = r#"<meta property="og:url" content="https://blog.naver.com/mike3dk/1"/><meta property="naverblog:nickname" content="mike3dk" />"#;
        let f = read(naver, &Url::parse("https://m.blog.naver.com/x").unwrap());
        assert_eq!(f.platform, Some(Platform::Naver));
        assert!(f.alternates.is_empty());
        assert_eq!(f.addresses[0].as_str(), "https://blog.naver.com/mike3dk/1");
    }
}
