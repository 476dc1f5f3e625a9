//! Feed discovery: a blog's homepage or one of its post URLs (what members paste) → the blog's
//! feed URL(s), each with the rule that found it.
//!
//! The steps, in order, stop at the first that yields a feed that really parses:
//! 1. the address rules ([`rules`]): Tistory, Velog, Naver, Medium, Substack, WordPress.com,
//!    Ghost(Pro), Blogger give the feed from the address alone — and still answer, unverified,
//!    when the network is away; Brunch names the author page whose link holds the `@@id` feed;
//! 2. the page ([`page`]): the address rules again on where it redirected to and on its
//!    canonical/`og:url` address (Naver's mobile pages have no autodiscovery but name the blog),
//!    platform fingerprints (Tistory on its own domain → `/rss`, Medium and Substack custom
//!    domains → `/feed`), `<link rel="alternate">` autodiscovery, and the generator's default
//!    feed path (Hugo `/index.xml`, Jekyll `/feed.xml`, Hexo `/atom.xml`, …);
//! 3. for a post URL, the same on the site's homepage;
//! 4. fallback probes (`/feed.xml`, `/atom.xml`, `/rss.xml`, `/index.xml`, `/feed`, `/rss`),
//!    accepted only when the body parses as a feed;
//! 5. no feed anywhere: a sitemap ([`sitemap`]) that lists at least one post — the `Sitemap:`
//!    lines of the site's `robots.txt`, else `/sitemap.xml` and `/sitemap-index.xml`; an index is
//!    followed one level. Notion sites on their own host (`*.oopy.io`, `*.notion.site`), which
//!    publish no feed, go straight to this step, and get the `extra_posts` advice only when it
//!    finds nothing either. The answer has rule `sitemap` ([`Discovery::sitemap`]), for `fetch`
//!    to read like a feed; it is never the [`Discovery::main_feed`].
//!
//! Every request goes through the fetch stage's [`Session`], so the private-address guard, the
//! body cap, the timeouts and the per-host caps apply.

pub mod page;
pub mod rules;
pub mod sitemap;

use chrono_tz::Tz;
use url::Url;

use crate::fetch::{FailKind, Outcome, Session};
use crate::normalise::clean_title;
use crate::parse;
use page::{Alternate, PageFacts};
use rules::{Platform, UrlRule};
use sitemap::Sitemap;

/// Paths probed on a site's root when nothing else found a feed.
pub const PROBES: [&str; 6] = [
    "feed.xml",
    "atom.xml",
    "rss.xml",
    "index.xml",
    "feed",
    "rss",
];

/// Candidates checked per input at most (beyond the probes).
const MAX_CANDIDATES: usize = 6;

/// The rule of a sitemap found for a blog without a feed.
pub const SITEMAP_RULE: &str = "sitemap";

/// Where a sitemap is looked for on a root when `robots.txt` names none: `/sitemap.xml` (Notion/
/// oopy, Next.js, Hugo, Jekyll, most site builders), then `/sitemap-index.xml` (Gatsby, Astro).
pub const SITEMAP_GUESSES: [&str; 2] = ["sitemap.xml", "sitemap-index.xml"];

/// `Sitemap:` lines of `robots.txt` tried at most.
const MAX_DECLARED_SITEMAPS: usize = 3;

/// Child sitemaps of an index read at most, looking for a post.
const MAX_CHILD_SITEMAPS: usize = 3;

/// Requests the sitemap step makes per input at most, `robots.txt` included.
const MAX_SITEMAP_REQUESTS: usize = 10;

/// What `discover` found for one input. Serialised as it is, it is one element of the array
/// that `discover --json` prints: renaming a field changes that output.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Discovery {
    /// The address as given.
    pub input: String,
    /// The platform or generator (`tistory`, `velog`, `hugo`, …; `other` when unknown).
    pub platform: String,
    /// Feeds found, the main one first.
    pub feeds: Vec<FoundFeed>,
    /// Why nothing was found, in words for an operator.
    pub error: Option<String>,
}

impl Discovery {
    /// The main feed, to poll as a feed: the first verified one, else the first. Never a
    /// sitemap, which is no feed to poll (see [`Discovery::sitemap`]).
    pub fn main_feed(&self) -> Option<&FoundFeed> {
        let feeds = || self.feeds.iter().filter(|f| !f.is_sitemap());
        feeds().find(|f| f.verified).or_else(|| feeds().next())
    }

    /// The sitemap found for a blog without a feed (rule `sitemap`), to be read with
    /// [`sitemap::parse`]: the verified one, else an unverified one.
    pub fn sitemap(&self) -> Option<&FoundFeed> {
        let sitemaps = || self.feeds.iter().filter(|f| f.is_sitemap());
        sitemaps()
            .find(|f| f.verified)
            .or_else(|| sitemaps().next())
    }
}

/// One feed found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FoundFeed {
    /// The feed's address.
    pub url: String,
    /// What found it: a platform rule (`tistory`, `velog`, `naver`, `brunch`, `medium`, `hugo`,
    /// …), `link-alternate`, `probe`, `direct` (the input was the feed), or `sitemap` (no feed:
    /// the site's sitemap, to read like one).
    pub rule: String,
    /// `rss2|rss1|rss0|atom|atom03|json` when verified; `sitemap` or `sitemap-index` for a
    /// verified sitemap.
    pub format: Option<String>,
    /// The feed's title (or the link's title when not verified).
    pub title: Option<String>,
    /// True only when the feed was fetched and parsed (a sitemap: fetched, parsed, and listing at
    /// least one post, in itself or in one of the first sitemaps of an index).
    pub verified: bool,
    /// Why it is not verified, when it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl FoundFeed {
    /// Whether this is a sitemap (rule `sitemap`), not a feed.
    pub fn is_sitemap(&self) -> bool {
        self.rule == SITEMAP_RULE
    }
}

/// The address rules alone, without the network (`discover --offline`).
pub fn offline(input: &str) -> Discovery {
    let url = match parse_input(input) {
        Ok(url) => url,
        Err(error) => return failed(input, Platform::Other, error),
    };
    let rule = rules::by_url(&url);
    if let Some(why) = rule.no_feed {
        return failed(input, rule.platform, why.to_string());
    }
    match rule.feed {
        Some(feed) => Discovery {
            input: input.to_string(),
            platform: rule.platform.as_str().to_string(),
            feeds: vec![FoundFeed {
                url: feed.to_string(),
                rule: rule.platform.as_str().to_string(),
                format: None,
                title: None,
                verified: false,
                note: Some("offline: not fetched".to_string()),
            }],
            error: None,
        },
        None => failed(
            input,
            rule.platform,
            "needs the page: the address alone does not name the feed (run without --offline)"
                .to_string(),
        ),
    }
}

/// Finds the feed(s) of the blog at `input` (a homepage, a post or a feed URL).
pub async fn discover(session: &Session, tz: Tz, input: &str) -> Discovery {
    let url = match parse_input(input) {
        Ok(url) => url,
        Err(error) => return failed(input, Platform::Other, error),
    };
    let rule = rules::by_url(&url);
    let mut run = Run::new(session, tz, input, rule.platform);
    if let Some(why) = rule.no_feed {
        if rule.has_sitemap {
            return run.sitemap_or_advice(&url, why).await;
        }
        return failed(input, rule.platform, why.to_string());
    }
    if let Some(feed) = &rule.feed {
        let name = rule.platform.as_str();
        run.check(feed, name, None).await;
        if run.done() {
            return run.finish();
        }
    }
    let page_url = rule.page.clone().unwrap_or_else(|| url.clone());
    let page = run.read_page(&page_url, rule.feed.is_none()).await;
    if run.done() {
        return run.finish();
    }
    let final_url = match page {
        Some((final_url, facts)) => {
            run.candidates_of_page(&final_url, &facts).await;
            if run.done() {
                return run.finish();
            }
            final_url
        }
        // The host is unreachable: nothing more to learn from it.
        None if run.unreachable => return run.finish(),
        // A post that is gone (404) still has a blog around it.
        None => page_url.clone(),
    };
    if shared_platform_host(&url) {
        // velog.io, blog.naver.com, brunch.co.kr, medium.com: their homepage and probes are the
        // platform's, not the member's.
        return run.finish();
    }
    // A post (or any inner page): the blog's homepage says more.
    let roots = site_roots(&final_url, run.platform);
    for root in &roots {
        if *root == final_url || *root == page_url {
            continue;
        }
        if let Some((root_final, facts)) = run.read_page(root, false).await {
            run.candidates_of_page(&root_final, &facts).await;
            if run.done() {
                return run.finish();
            }
        }
    }
    for root in &roots {
        for probe in PROBES {
            if let Ok(candidate) = root.join(probe) {
                if run.probe(&candidate).await {
                    return run.finish();
                }
            }
        }
    }
    run.find_sitemap(&final_url, &roots).await;
    run.finish()
}

/// The state of one discovery.
struct Run<'a> {
    session: &'a Session,
    tz: Tz,
    input: &'a str,
    platform: Platform,
    found: Vec<FoundFeed>,
    problems: Vec<String>,
    checked: Vec<Url>,
    unreachable: bool,
    /// Requests made by the sitemap step so far.
    sitemap_requests: usize,
}

/// Why a document of the sitemap step was not read.
enum Miss {
    /// The host could not be reached (network away, timeout).
    Unreachable(String),
    /// The host answered, and not with the document.
    Not(String),
    /// Already requested, or the step's requests are spent.
    Skipped,
}

/// What checking one candidate came to.
enum Check {
    Verified {
        format: String,
        title: String,
    },
    /// The host could not be reached (network away, timeout): the candidate may still be right.
    Unreachable(String),
    /// The host answered, and not with a feed.
    NotAFeed(String),
}

impl<'a> Run<'a> {
    fn new(session: &'a Session, tz: Tz, input: &'a str, platform: Platform) -> Self {
        Run {
            session,
            tz,
            input,
            platform,
            found: Vec::new(),
            problems: Vec::new(),
            checked: Vec::new(),
            unreachable: false,
            sitemap_requests: 0,
        }
    }

    fn done(&self) -> bool {
        self.found.iter().any(|f| f.verified)
    }

    fn set_platform(&mut self, platform: Platform) {
        if self.platform.is_hosting_only() || self.platform == platform {
            self.platform = platform;
        }
    }

    /// Checks a candidate and records it (verified, or unverified when unreachable).
    async fn check(&mut self, url: &Url, rule: &str, link_title: Option<&str>) {
        if self.checked.contains(url) || self.checked.len() >= MAX_CANDIDATES + PROBES.len() * 2 {
            return;
        }
        self.checked.push(url.clone());
        match self.fetch_feed(url).await {
            Check::Verified { format, title } => self.found.push(FoundFeed {
                url: url.to_string(),
                rule: rule.to_string(),
                format: Some(format),
                title: Some(title).filter(|t| !t.is_empty()),
                verified: true,
                note: None,
            }),
            Check::Unreachable(why) => self.found.push(FoundFeed {
                url: url.to_string(),
                rule: rule.to_string(),
                format: None,
                title: link_title.map(str::to_string),
                verified: false,
                note: Some(format!("not verified: {why}")),
            }),
            Check::NotAFeed(why) => self.problems.push(format!("{url} ({rule}): {why}")),
        }
    }

    /// A fallback probe: kept only when it parses.
    async fn probe(&mut self, url: &Url) -> bool {
        if self.checked.contains(url) {
            return false;
        }
        self.checked.push(url.clone());
        if let Check::Verified { format, title } = self.fetch_feed(url).await {
            self.found.push(FoundFeed {
                url: url.to_string(),
                rule: "probe".to_string(),
                format: Some(format),
                title: Some(title).filter(|t| !t.is_empty()),
                verified: true,
                note: None,
            });
            return true;
        }
        false
    }

    async fn fetch_feed(&self, url: &Url) -> Check {
        let result = self.session.get(url).await;
        match result.outcome {
            Outcome::Fetched {
                final_url,
                content_type,
                body,
                ..
            } => {
                let charset = content_type
                    .as_deref()
                    .and_then(parse::charset_of_content_type);
                match parse::parse(&body, charset, Some(&final_url), self.tz) {
                    Ok(parsed) => Check::Verified {
                        format: parsed.format.as_str().to_string(),
                        title: parsed
                            .feed
                            .title
                            .as_ref()
                            .map(clean_title)
                            .unwrap_or_default(),
                    },
                    Err(e) => Check::NotAFeed(e.to_string()),
                }
            }
            Outcome::NotModified { .. } => Check::NotAFeed("answered 304 unasked".to_string()),
            Outcome::Failed(e) => match e.kind {
                FailKind::Timeout | FailKind::Connect => Check::Unreachable(e.message),
                _ => Check::NotAFeed(e.message),
            },
        }
    }

    /// Fetches a page; when it is itself a feed, records it (`direct`). `report` says whether
    /// a failure to read it is worth telling the operator.
    async fn read_page(&mut self, url: &Url, report: bool) -> Option<(Url, PageFacts)> {
        if self.checked.contains(url) {
            return None;
        }
        self.checked.push(url.clone());
        let result = self.session.get(url).await;
        let (final_url, content_type, body) = match result.outcome {
            Outcome::Fetched {
                final_url,
                content_type,
                body,
                ..
            } => (final_url, content_type, body),
            Outcome::NotModified { .. } => return None,
            Outcome::Failed(e) => {
                if report {
                    self.problems
                        .push(format!("could not read {url}: {}", e.message));
                }
                return None;
            }
        };
        let final_url = Url::parse(&final_url).unwrap_or_else(|_| url.clone());
        let charset = content_type
            .as_deref()
            .and_then(parse::charset_of_content_type);
        if let Ok(parsed) = parse::parse(&body, charset, Some(final_url.as_str()), self.tz) {
            self.found.push(FoundFeed {
                url: url.to_string(),
                rule: "direct".to_string(),
                format: Some(parsed.format.as_str().to_string()),
                title: parsed
                    .feed
                    .title
                    .as_ref()
                    .map(clean_title)
                    .filter(|t| !t.is_empty()),
                verified: true,
                note: None,
            });
            return None;
        }
        let html = parse::decode_html(&body, charset);
        Some((final_url.clone(), page::read(&html, &final_url)))
    }

    /// Candidates from one page, in order of trust.
    async fn candidates_of_page(&mut self, final_url: &Url, facts: &PageFacts) {
        // Address rules on where the page really is (redirects, canonical, og:url).
        let mut addresses = vec![final_url.clone()];
        addresses.extend(facts.addresses.iter().cloned());
        for address in &addresses {
            let rule: UrlRule = rules::by_url(address);
            if let Some(feed) = rule.feed {
                self.platform = rule.platform;
                self.check(&feed, rule.platform.as_str(), None).await;
                if self.done() {
                    return;
                }
            }
        }
        if let Some(platform) = facts.platform {
            self.set_platform(platform);
        }
        let root = site_root(final_url);
        // Platforms whose feed path is fixed, on their own domain.
        if let Some(platform @ (Platform::Tistory | Platform::Medium | Platform::Substack)) =
            facts.platform
        {
            if let Some(feed) = page::default_feed_path(platform).and_then(|p| root.join(p).ok()) {
                self.check(&feed, platform.as_str(), None).await;
                if self.done() {
                    return;
                }
            }
        }
        let rule = if self.platform == Platform::Brunch {
            "brunch"
        } else {
            "link-alternate"
        };
        let alternates: Vec<Alternate> = facts
            .alternates
            .iter()
            .take(MAX_CANDIDATES)
            .cloned()
            .collect();
        for alt in &alternates {
            self.check(&alt.url, rule, alt.title.as_deref()).await;
        }
        if self.done() {
            return;
        }
        // The generator's default feed path, on the site's root (a GitHub Pages project site
        // has its root one folder down).
        if let Some(platform) = facts.platform {
            if let Some(path) = page::default_feed_path(platform) {
                for root in site_roots(final_url, self.platform) {
                    if let Ok(feed) = root.join(path) {
                        self.check(&feed, platform.as_str(), None).await;
                        if self.done() {
                            return;
                        }
                    }
                }
            }
        }
    }

    /// Step 5, when no feed was found for the blog at `page` (whose homepage may be at any of
    /// `roots`): a sitemap that lists one of its posts. The `Sitemap:` lines of the host's
    /// `robots.txt` first — like a linked feed, one that cannot be reached is kept unverified —
    /// then [`SITEMAP_GUESSES`] in the blog's folder on a shared host and on each root, kept
    /// only when verified, like a probe. A `robots.txt` that cannot be reached ends the step:
    /// the host is away.
    async fn find_sitemap(&mut self, page: &Url, roots: &[Url]) -> bool {
        let Some(host_root) = roots.last() else {
            return false;
        };
        // On a shared host (`inblog.ai/{blog}`) only the blog's folder is the member's.
        let sites: Vec<Url> = match sitemap::shared_host_blog(page) {
            Some(blog) => vec![blog],
            None => roots.to_vec(),
        };
        let declared = match self.robots_sitemaps(host_root).await {
            Ok(declared) => declared,
            Err(Miss::Unreachable(_)) => return false,
            Err(_) => Vec::new(),
        };
        for url in declared.iter().take(MAX_DECLARED_SITEMAPS) {
            if self.check_sitemap(url, &sites, true).await {
                return true;
            }
        }
        let mut folders = sites.clone();
        folders.extend(roots.iter().filter(|r| !sites.contains(r)).cloned());
        for folder in &folders {
            for guess in SITEMAP_GUESSES {
                if let Ok(url) = folder.join(guess) {
                    if self.check_sitemap(&url, &sites, false).await {
                        return true;
                    }
                }
            }
        }
        false
    }

    /// A platform without feeds whose sites keep a sitemap (Notion on `*.oopy.io` or
    /// `*.notion.site`): the sitemap, else the platform's advice.
    async fn sitemap_or_advice(mut self, url: &Url, advice: &str) -> Discovery {
        let roots = site_roots(url, self.platform);
        self.find_sitemap(url, &roots).await;
        if !self.found.is_empty() {
            return self.finish();
        }
        let mut words = format!("{advice} (no sitemap was found either");
        if !self.problems.is_empty() {
            words.push_str(": ");
            words.push_str(&self.problems.join("; "));
        }
        words.push(')');
        failed(self.input, self.platform, words)
    }

    /// The sitemaps the `robots.txt` of the site at `root` names (none when it has none).
    async fn robots_sitemaps(&mut self, root: &Url) -> Result<Vec<Url>, Miss> {
        let robots = root
            .join("/robots.txt")
            .map_err(|e| Miss::Not(e.to_string()))?;
        let (_, body) = self.get_document(&robots).await?;
        Ok(sitemap::robots_sitemaps(
            &String::from_utf8_lossy(&body),
            root,
        ))
    }

    /// Reads one sitemap and records it when it lists a post (`declared`: robots.txt named it,
    /// so a failure is worth telling).
    async fn check_sitemap(&mut self, url: &Url, sites: &[Url], declared: bool) -> bool {
        match self.read_sitemap(url).await {
            Ok(Sitemap::Urls(pages)) => {
                if pages.iter().any(|p| is_post_of(&p.loc, sites)) {
                    self.found.push(sitemap_feed(url, Ok("sitemap")));
                    return true;
                }
                self.problems.push(format!(
                    "{url} ({SITEMAP_RULE}): lists {} addresses, none of them a post",
                    pages.len()
                ));
            }
            Ok(Sitemap::Index(children)) => return self.check_index(url, children, sites).await,
            Err(Miss::Unreachable(why)) if declared => {
                self.found.push(sitemap_feed(url, Err(why)));
            }
            Err(Miss::Not(why)) if declared => {
                self.problems.push(format!("{url} ({SITEMAP_RULE}): {why}"));
            }
            Err(_) => {}
        }
        false
    }

    /// A sitemap index: its first few sitemaps (those named like posts first) are read, one
    /// level only, until one lists a post.
    async fn check_index(&mut self, url: &Url, mut children: Vec<Url>, sites: &[Url]) -> bool {
        children.sort_by_key(child_rank);
        for child in children.iter().take(MAX_CHILD_SITEMAPS) {
            if let Ok(Sitemap::Urls(pages)) = self.read_sitemap(child).await {
                if pages.iter().any(|p| is_post_of(&p.loc, sites)) {
                    self.found.push(sitemap_feed(url, Ok("sitemap-index")));
                    return true;
                }
            }
        }
        let why = match children.len() {
            0 => "lists no sitemaps".to_string(),
            n if n > MAX_CHILD_SITEMAPS => {
                format!("none of the first {MAX_CHILD_SITEMAPS} of its {n} sitemaps lists a post")
            }
            n => format!("none of its {n} sitemaps lists a post"),
        };
        self.problems
            .push(format!("{url} ({SITEMAP_RULE} index): {why}"));
        false
    }

    async fn read_sitemap(&mut self, url: &Url) -> Result<Sitemap, Miss> {
        let (final_url, body) = self.get_document(url).await?;
        sitemap::parse(&body, &final_url, self.tz).map_err(Miss::Not)
    }

    /// Fetches a document of the sitemap step: where it came from and its body.
    async fn get_document(&mut self, url: &Url) -> Result<(Url, Vec<u8>), Miss> {
        if self.checked.contains(url) || self.sitemap_requests >= MAX_SITEMAP_REQUESTS {
            return Err(Miss::Skipped);
        }
        self.checked.push(url.clone());
        self.sitemap_requests += 1;
        match self.session.get(url).await.outcome {
            Outcome::Fetched {
                final_url, body, ..
            } => Ok((Url::parse(&final_url).unwrap_or_else(|_| url.clone()), body)),
            Outcome::NotModified { .. } => Err(Miss::Not("answered 304 unasked".to_string())),
            Outcome::Failed(e) => match e.kind {
                FailKind::Timeout | FailKind::Connect => Err(Miss::Unreachable(e.message)),
                _ => Err(Miss::Not(e.message)),
            },
        }
    }

    fn finish(self) -> Discovery {
        let error = if self.found.is_empty() {
            let mut words = String::from("no feed found");
            if !self.problems.is_empty() {
                words.push_str(": ");
                words.push_str(&self.problems.join("; "));
            }
            words.push_str(
                "; check the address in a browser, or ask the member for the feed URL and list it in `feeds`",
            );
            Some(words)
        } else {
            None
        };
        // Verified feeds first, in the order found; the unverified after them.
        let mut feeds = self.found;
        feeds.sort_by_key(|f| !f.verified);
        Discovery {
            input: self.input.to_string(),
            platform: self.platform.as_str().to_string(),
            feeds,
            error,
        }
    }
}

/// A sitemap as a found feed: verified, with its format; or not, with why.
fn sitemap_feed(url: &Url, verified: Result<&str, String>) -> FoundFeed {
    let (format, note) = match verified {
        Ok(format) => (Some(format.to_string()), None),
        Err(why) => (None, Some(format!("not verified: {why}"))),
    };
    FoundFeed {
        url: url.to_string(),
        rule: SITEMAP_RULE.to_string(),
        format,
        title: None,
        verified: note.is_none(),
        note,
    }
}

/// Whether a sitemap's address is a post of the blog at one of its homepages.
fn is_post_of(url: &Url, sites: &[Url]) -> bool {
    sites.iter().any(|site| sitemap::is_post_like(url, site))
}

/// The order an index's sitemaps are read in: named like posts (`post-sitemap.xml`,
/// `sitemap-blog.xml`) first, named like listings or pages (`category-sitemap.xml`,
/// `page-sitemap.xml`) last, the rest as listed. Only the file's name counts, not its folder.
fn child_rank(url: &Url) -> u8 {
    let name = url
        .path_segments()
        .and_then(|mut s| s.next_back())
        .unwrap_or("")
        .to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| name.contains(w));
    if has(&["post", "blog", "article", "entr"]) {
        0
    } else if has(&[
        "tag", "categor", "author", "archive", "page", "image", "video",
    ]) {
        2
    } else {
        1
    }
}

fn failed(input: &str, platform: Platform, error: String) -> Discovery {
    Discovery {
        input: input.to_string(),
        platform: platform.as_str().to_string(),
        feeds: Vec::new(),
        error: Some(error),
    }
}

/// An address as typed: `https://` is assumed when the scheme is missing.
fn parse_input(input: &str) -> Result<Url, String> {
    let text = input.trim();
    let with_scheme = if text.contains("://") {
        text.to_string()
    } else {
        format!("https://{text}")
    };
    match Url::parse(&with_scheme) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host_str().is_some() => Ok(url),
        Ok(url) => Err(format!(
            "`{input}` is not a web address (scheme {}); give the blog's http(s) address",
            url.scheme()
        )),
        Err(e) => Err(format!("`{input}` is not a web address ({e})")),
    }
}

/// Hosts shared by every member of a platform.
fn shared_platform_host(url: &Url) -> bool {
    let host = url.host_str().unwrap_or("").to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    matches!(
        host,
        "velog.io"
            | "v2.velog.io"
            | "blog.naver.com"
            | "m.blog.naver.com"
            | "rss.blog.naver.com"
            | "brunch.co.kr"
            | "medium.com"
    )
}

/// The site's root (`https://host/`).
fn site_root(url: &Url) -> Url {
    url.join("/").unwrap_or_else(|_| url.clone())
}

/// Where a site's homepage may be: a GitHub Pages project site lives under its first path
/// segment; everything else at the root.
fn site_roots(url: &Url, platform: Platform) -> Vec<Url> {
    let root = site_root(url);
    let mut roots = Vec::new();
    let on_pages = url
        .host_str()
        .is_some_and(|h| h.ends_with(".github.io") || h.ends_with(".gitlab.io"));
    if on_pages || platform == Platform::GithubPages {
        let first = url
            .path_segments()
            .and_then(|mut s| s.next())
            .filter(|s| !s.is_empty() && !s.contains('.'));
        if let Some(first) = first {
            if let Ok(project) = root.join(&format!("{first}/")) {
                roots.push(project);
            }
        }
    }
    roots.push(root);
    roots
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn inputs_without_a_scheme_are_https() {
        assert_eq!(
            parse_input("velog.io/@kim").unwrap().as_str(),
            "https://velog.io/@kim"
        );
        assert!(parse_input("ftp://x.example/").is_err());
        assert!(parse_input("").is_err());
    }

    #[test]
    fn project_pages_have_two_roots() {
        let url = Url::parse("https://me.github.io/blog/2024/01/post.html").unwrap();
        let roots: Vec<String> = site_roots(&url, Platform::GithubPages)
            .iter()
            .map(Url::to_string)
            .collect();
        assert_eq!(
            roots,
            ["https://me.github.io/blog/", "https://me.github.io/"]
        );
        let url = Url::parse("https://blog.example/posts/x").unwrap();
        assert_eq!(site_roots(&url, Platform::Other).len(), 1);
    }

    #[test]
    fn offline_answers_from_the_address() {
        let d = offline("https://velog.io/@kim/post");
        assert_eq!(d.feeds[0].url, "https://v2.velog.io/rss/kim");
        assert!(!d.feeds[0].verified);
        let d = offline("https://blog.example/post");
        assert!(d.feeds.is_empty());
        assert!(d.error.unwrap().starts_with("needs the page"));
    }

    #[test]
    fn meta_charset_decodes_euc_kr_pages() {
        let (bytes, _, _) =
            encoding_rs::EUC_KR.encode("<meta charset=euc-kr><title>블로그</title>");
        assert!(parse::decode_html(&bytes, None).contains("블로그"));
    }
}
