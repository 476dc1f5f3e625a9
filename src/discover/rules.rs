//! What a blog's address alone says: the platform, and for the platforms whose feed URL follows
//! from the address (Tistory, Velog, Naver, Medium, Substack, WordPress.com, Ghost(Pro),
//! Blogger) the feed itself; for Notion, which publishes none, the advice, and whether the site
//! keeps a sitemap to read instead. Pure: no network, so these rules answer even when the network
//! is away, and they can be checked against every member URL the club has.

use url::Url;

/// A blogging platform or site generator, as `discover` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Platform {
    /// `*.tistory.com` or a Tistory blog on its own domain.
    Tistory,
    /// `velog.io/@user`.
    Velog,
    /// `blog.naver.com/{id}` and its mobile and `PostView.naver` forms.
    Naver,
    /// `brunch.co.kr/@handle`.
    Brunch,
    /// `medium.com/@user`, `user.medium.com`, publications, custom domains.
    Medium,
    /// `*.substack.com` or a Substack on its own domain.
    Substack,
    /// `*.wordpress.com` or a self-hosted WordPress.
    WordPress,
    /// `*.ghost.io` or a self-hosted Ghost.
    Ghost,
    /// `*.blogspot.com`.
    Blogger,
    /// Notion pages (`notion.so`, `*.notion.site`, `*.oopy.io`): no feed; the sites on their own
    /// host may keep a sitemap.
    Notion,
    /// A site on `*.github.io` whose generator is not known (yet).
    GithubPages,
    /// A site on `*.vercel.app`.
    Vercel,
    /// A site on `*.netlify.app`.
    Netlify,
    /// Jekyll (jekyll-feed: `/feed.xml`).
    Jekyll,
    /// Hugo (`/index.xml`).
    Hugo,
    /// Hexo (hexo-generator-feed: `/atom.xml`).
    Hexo,
    /// Gatsby (gatsby-plugin-feed: `/rss.xml`).
    Gatsby,
    /// Docusaurus (`/blog/rss.xml`).
    Docusaurus,
    /// Anything else: a blog on its own domain.
    Other,
}

impl Platform {
    /// The name in `discover` output and rule names.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Tistory => "tistory",
            Platform::Velog => "velog",
            Platform::Naver => "naver",
            Platform::Brunch => "brunch",
            Platform::Medium => "medium",
            Platform::Substack => "substack",
            Platform::WordPress => "wordpress",
            Platform::Ghost => "ghost",
            Platform::Blogger => "blogger",
            Platform::Notion => "notion",
            Platform::GithubPages => "github-pages",
            Platform::Vercel => "vercel",
            Platform::Netlify => "netlify",
            Platform::Jekyll => "jekyll",
            Platform::Hugo => "hugo",
            Platform::Hexo => "hexo",
            Platform::Gatsby => "gatsby",
            Platform::Docusaurus => "docusaurus",
            Platform::Other => "other",
        }
    }

    /// Whether the name says only where the site is hosted, so that a generator read from the
    /// page says more.
    pub fn is_hosting_only(self) -> bool {
        matches!(
            self,
            Platform::GithubPages | Platform::Vercel | Platform::Netlify | Platform::Other
        )
    }
}

/// What the address alone tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlRule {
    /// The platform the address belongs to.
    pub platform: Platform,
    /// The feed, when it follows from the address.
    pub feed: Option<Url>,
    /// The page to read when the feed does not follow from the address (Brunch's author page:
    /// its feed is named by an internal id found only there).
    pub page: Option<Url>,
    /// Set when the platform publishes no feed at all: what the operator can do instead.
    pub no_feed: Option<&'static str>,
    /// With `no_feed`: the site is the member's own and may keep a sitemap (oopy serves
    /// `/sitemap.xml`), which discovery reads before giving the advice. False on hosts shared by
    /// the whole platform (`notion.so`), whose sitemap is the platform's, not the member's.
    pub has_sitemap: bool,
}

impl UrlRule {
    fn feed(platform: Platform, feed: Option<Url>) -> Self {
        Self {
            platform,
            feed,
            page: None,
            no_feed: None,
            has_sitemap: false,
        }
    }

    fn needs_page(platform: Platform) -> Self {
        Self::feed(platform, None)
    }
}

/// An address as the rules read it: the host lowercased without a trailing dot or `www.`, and
/// the non-empty path segments percent-decoded.
struct Address<'a> {
    url: &'a Url,
    host: String,
    segments: Vec<String>,
}

impl<'a> Address<'a> {
    fn of(url: &'a Url) -> Self {
        let host = url
            .host_str()
            .unwrap_or("")
            .trim_end_matches('.')
            .to_ascii_lowercase();
        let host = host.strip_prefix("www.").unwrap_or(&host).to_string();
        let segments: Vec<String> = url
            .path_segments()
            .map(|s| s.filter(|p| !p.is_empty()).map(percent_decode).collect())
            .unwrap_or_default();
        Self {
            url,
            host,
            segments,
        }
    }

    /// The first path segment, `""` when there is none.
    fn first(&self) -> &str {
        self.segments.first().map(String::as_str).unwrap_or("")
    }

    /// `blog` for a host `blog.{parent}` (see [`subdomain_of`]).
    fn subdomain_of(&self, parent: &str) -> Option<&str> {
        subdomain_of(&self.host, parent)
    }
}

/// One platform family's rules: `Some` when the address is theirs.
type Rule = fn(&Address<'_>) -> Option<UrlRule>;

/// The rules in the order they are tried; the first that claims the address answers.
const RULES: [Rule; 8] = [
    tistory,
    velog,
    naver,
    brunch,
    medium,
    platform_subdomain,
    notion,
    static_host,
];

/// Applies the address rules to `url` (a homepage, a post, or a feed URL).
pub fn by_url(url: &Url) -> UrlRule {
    let address = Address::of(url);
    RULES
        .iter()
        .find_map(|rule| rule(&address))
        .unwrap_or_else(|| UrlRule::needs_page(Platform::Other))
}

/// `text` as a URL, when it is one.
fn https(text: String) -> Option<Url> {
    Url::parse(&text).ok()
}

/// `*.tistory.com`: the feed is `/rss` on the blog's own subdomain.
fn tistory(a: &Address<'_>) -> Option<UrlRule> {
    let blog = a.subdomain_of("tistory.com")?;
    Some(UrlRule::feed(
        Platform::Tistory,
        https(format!("https://{blog}.tistory.com/rss")),
    ))
}

/// `velog.io/@user` and the feed hosts `v2.velog.io` / `api.velog.io` (`/rss/{user}`).
fn velog(a: &Address<'_>) -> Option<UrlRule> {
    let first = a.first();
    let user = match a.host.as_str() {
        "velog.io" => first.strip_prefix('@').filter(|u| is_handle(u)),
        "v2.velog.io" | "api.velog.io" => (first == "rss")
            .then(|| a.segments.get(1))
            .flatten()
            .map(|u| u.trim_start_matches('@'))
            .filter(|u| is_handle(u)),
        _ => return None,
    };
    Some(UrlRule::feed(
        Platform::Velog,
        user.and_then(|u| https(format!("https://v2.velog.io/rss/{u}"))),
    ))
}

/// `blog.naver.com` and `m.blog.naver.com` (the id in the path or in `?blogId=`), and the feed
/// host `rss.blog.naver.com`. (`*.blog.me`, also Naver, is tried later, in
/// [`platform_subdomain`].)
fn naver(a: &Address<'_>) -> Option<UrlRule> {
    let first = a.first();
    match a.host.as_str() {
        "blog.naver.com" | "m.blog.naver.com" => {
            let from_query = a
                .url
                .query_pairs()
                .find(|(k, _)| k.eq_ignore_ascii_case("blogId"))
                .map(|(_, v)| v.into_owned());
            let from_path = Some(first)
                .filter(|f| !f.contains('.') && is_handle(f))
                .map(str::to_string);
            let id = from_query.filter(|i| is_handle(i)).or(from_path);
            Some(UrlRule::feed(Platform::Naver, id.and_then(naver_feed)))
        }
        "rss.blog.naver.com" => {
            let id = first.strip_suffix(".xml").unwrap_or(first);
            Some(UrlRule::feed(
                Platform::Naver,
                Some(id)
                    .filter(|i| is_handle(i))
                    .and_then(|i| naver_feed(i.to_string())),
            ))
        }
        _ => None,
    }
}

/// `brunch.co.kr`: a feed address as it is, else the author page, which names the feed.
fn brunch(a: &Address<'_>) -> Option<UrlRule> {
    if a.host != "brunch.co.kr" {
        return None;
    }
    let first = a.first();
    if first == "rss" {
        // Already the feed (`/rss/@@id`).
        return Some(UrlRule::feed(Platform::Brunch, Some(a.url.clone())));
    }
    let page = first
        .strip_prefix('@')
        .filter(|h| is_handle(h))
        .and_then(|h| https(format!("https://brunch.co.kr/@{h}")));
    Some(UrlRule {
        page,
        ..UrlRule::needs_page(Platform::Brunch)
    })
}

/// First path segments on `medium.com` that are not publications.
const NOT_PUBLICATIONS: &[&str] = &[
    "m",
    "p",
    "me",
    "tag",
    "tags",
    "topics",
    "search",
    "membership",
    "plans",
    "about",
    "policy",
    "jobs-at-medium",
    "creators",
    "new-story",
];

/// `medium.com/@user`, `medium.com/{publication}`, a feed address as it is, and `user.medium.com`.
fn medium(a: &Address<'_>) -> Option<UrlRule> {
    if a.host == "medium.com" {
        let first = a.first();
        let feed = if first == "feed" {
            Some(a.url.clone())
        } else if let Some(user) = first.strip_prefix('@') {
            Some(user)
                .filter(|u| !u.is_empty())
                .and_then(|u| https(format!("https://medium.com/feed/@{u}")))
        } else if !first.is_empty() && !NOT_PUBLICATIONS.contains(&first) {
            https(format!("https://medium.com/feed/{first}"))
        } else {
            None
        };
        return Some(UrlRule::feed(Platform::Medium, feed));
    }
    let user = a.subdomain_of("medium.com")?;
    Some(UrlRule::feed(
        Platform::Medium,
        https(format!("https://{user}.medium.com/feed")),
    ))
}

/// Blogs on their own subdomain of a platform whose feed path is fixed: Naver's `*.blog.me`,
/// Substack, WordPress.com, Ghost(Pro), and Blogger (`*.blogspot.*`, any country domain).
fn platform_subdomain(a: &Address<'_>) -> Option<UrlRule> {
    if let Some(id) = a.subdomain_of("blog.me") {
        return Some(UrlRule::feed(Platform::Naver, naver_feed(id.to_string())));
    }
    if let Some(name) = a.subdomain_of("substack.com") {
        return Some(UrlRule::feed(
            Platform::Substack,
            https(format!("https://{name}.substack.com/feed")),
        ));
    }
    if let Some(name) = a.subdomain_of("wordpress.com") {
        return Some(UrlRule::feed(
            Platform::WordPress,
            https(format!("https://{name}.wordpress.com/feed/")),
        ));
    }
    if let Some(name) = a.subdomain_of("ghost.io") {
        return Some(UrlRule::feed(
            Platform::Ghost,
            https(format!("https://{name}.ghost.io/rss/")),
        ));
    }
    let host = &a.host;
    host.contains(".blogspot.").then(|| {
        UrlRule::feed(
            Platform::Blogger,
            https(format!("https://{host}/feeds/posts/default")),
        )
    })
}

/// Notion pages (`notion.so`, `*.notion.site`, `*.oopy.io`): no feed at all; a site on its own
/// host (`*.notion.site`, `*.oopy.io`) may have a sitemap.
fn notion(a: &Address<'_>) -> Option<UrlRule> {
    let own_site = a.subdomain_of("notion.site").is_some() || a.subdomain_of("oopy.io").is_some();
    (own_site || a.host == "notion.so").then(|| UrlRule {
        no_feed: Some(
            "Notion pages publish no feed: ask the member for a blog with a feed, or record \
             each post in the member's `extra_posts`",
        ),
        has_sitemap: own_site,
        ..UrlRule::needs_page(Platform::Notion)
    })
}

/// Static hosts (`*.github.io`, `*.vercel.app`, `*.netlify.app`): the page names the generator.
fn static_host(a: &Address<'_>) -> Option<UrlRule> {
    [
        ("github.io", Platform::GithubPages),
        ("vercel.app", Platform::Vercel),
        ("netlify.app", Platform::Netlify),
    ]
    .into_iter()
    .find(|(parent, _)| a.subdomain_of(parent).is_some())
    .map(|(_, platform)| UrlRule::needs_page(platform))
}

/// `blog` for `blog.{parent}` (one label or more, never `www` alone).
fn subdomain_of<'a>(host: &'a str, parent: &str) -> Option<&'a str> {
    let head = host.strip_suffix(parent)?.strip_suffix('.')?;
    Some(head).filter(|h| !h.is_empty() && *h != "www" && *h != "m")
}

fn naver_feed(id: String) -> Option<Url> {
    Url::parse(&format!("https://rss.blog.naver.com/{id}.xml")).ok()
}

/// A user name as platforms allow them: letters, digits, `-`, `_`, `.`.
fn is_handle(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' && i + 2 < bytes.len() {
            if let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn rule(u: &str) -> (Platform, Option<String>, Option<String>) {
        let r = by_url(&Url::parse(u).unwrap());
        (
            r.platform,
            r.feed.map(|f| f.to_string()),
            r.page.map(|p| p.to_string()),
        )
    }

    #[test]
    fn feeds_that_follow_from_the_address() {
        for (input, platform, feed) in [
            (
                "https://habwa.tistory.com/entry/%EB%81%9D",
                Platform::Tistory,
                "https://habwa.tistory.com/rss",
            ),
            (
                "http://pkw-may.tistory.com/65",
                Platform::Tistory,
                "https://pkw-may.tistory.com/rss",
            ),
            (
                "https://velog.io/@wisepine/JPA-Tip",
                Platform::Velog,
                "https://v2.velog.io/rss/wisepine",
            ),
            (
                "https://velog.io/@judy_choi",
                Platform::Velog,
                "https://v2.velog.io/rss/judy_choi",
            ),
            (
                "https://velog.io/%40rimo_/posts",
                Platform::Velog,
                "https://v2.velog.io/rss/rimo_",
            ),
            (
                "https://v2.velog.io/rss/@kim",
                Platform::Velog,
                "https://v2.velog.io/rss/kim",
            ),
            (
                "https://blog.naver.com/khun-/223754418099",
                Platform::Naver,
                "https://rss.blog.naver.com/khun-.xml",
            ),
            (
                "https://m.blog.naver.com/mike3dk/223983671419",
                Platform::Naver,
                "https://rss.blog.naver.com/mike3dk.xml",
            ),
            (
                "https://blog.naver.com/PostView.naver?blogId=mike3dk&logNo=1",
                Platform::Naver,
                "https://rss.blog.naver.com/mike3dk.xml",
            ),
            (
                "https://m.blog.naver.com/PostView.naver?blogId=abc_1&logNo=2",
                Platform::Naver,
                "https://rss.blog.naver.com/abc_1.xml",
            ),
            (
                "https://blog.naver.com/mike3dk",
                Platform::Naver,
                "https://rss.blog.naver.com/mike3dk.xml",
            ),
            (
                "https://rss.blog.naver.com/mike3dk.xml",
                Platform::Naver,
                "https://rss.blog.naver.com/mike3dk.xml",
            ),
            (
                "https://medium.com/@Jager-yoo/how-to-df236940c4d0",
                Platform::Medium,
                "https://medium.com/feed/@Jager-yoo",
            ),
            (
                "https://medium.com/@cwh./%EB%8F%99",
                Platform::Medium,
                "https://medium.com/feed/@cwh.",
            ),
            (
                "https://medium.com/daangn/%EB%A7%A4%EC%9D%BC",
                Platform::Medium,
                "https://medium.com/feed/daangn",
            ),
            (
                "https://sigridjin.medium.com/understanding-7e8c05171d6d",
                Platform::Medium,
                "https://sigridjin.medium.com/feed",
            ),
            (
                "https://someone.substack.com/p/hello",
                Platform::Substack,
                "https://someone.substack.com/feed",
            ),
            (
                "https://mike7dk.wordpress.com/2025/08/25/x/",
                Platform::WordPress,
                "https://mike7dk.wordpress.com/feed/",
            ),
            (
                "https://me.ghost.io/post/",
                Platform::Ghost,
                "https://me.ghost.io/rss/",
            ),
            (
                "https://me.blogspot.com/2024/01/x.html",
                Platform::Blogger,
                "https://me.blogspot.com/feeds/posts/default",
            ),
        ] {
            let (p, f, _) = rule(input);
            assert_eq!(p, platform, "{input}");
            assert_eq!(f.as_deref(), Some(feed), "{input}");
        }
    }

    #[test]
    fn addresses_that_need_the_page() {
        assert_eq!(
            rule("https://brunch.co.kr/@hnote/154"),
            (
                Platform::Brunch,
                None,
                Some("https://brunch.co.kr/@hnote".into())
            )
        );
        assert_eq!(
            rule("https://wormwlrm.github.io/2024/01/x.html").0,
            Platform::GithubPages
        );
        assert_eq!(rule("https://blog.example.dev/posts/x").0, Platform::Other);
        assert_eq!(rule("https://snupi.vercel.app/x").0, Platform::Vercel);
        assert_eq!(rule("https://velog.io/").1, None);
        assert_eq!(rule("https://medium.com/p/abc123").1, None);
        assert_eq!(rule("https://www.tistory.com/").0, Platform::Other);
        let notion = by_url(&Url::parse("https://pizzathief.oopy.io/kernel").unwrap());
        assert_eq!(notion.platform, Platform::Notion);
        assert!(notion.no_feed.is_some());
    }

    #[test]
    fn notion_sites_on_their_own_host_may_have_a_sitemap_and_notion_so_has_none_of_ours() {
        for (input, sitemap) in [
            ("https://pizzathief.oopy.io/kernel", true),
            ("https://me.notion.site/Kafka-2f3e4d5c", true),
            ("https://www.notion.so/me/Kafka-2f3e4d5c", false),
            ("https://notion.so/x", false),
        ] {
            let rule = by_url(&Url::parse(input).unwrap());
            assert_eq!(rule.platform, Platform::Notion, "{input}");
            assert!(rule.no_feed.is_some(), "{input}");
            assert_eq!(rule.has_sitemap, sitemap, "{input}");
        }
        assert!(!by_url(&Url::parse("https://x.tistory.com/").unwrap()).has_sitemap);
    }
}
