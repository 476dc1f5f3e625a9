//! Sitemaps, for blogs that publish no feed (Notion/oopy, inblog, Next.js sites): reading one
//! (an XML `<urlset>` or `<sitemapindex>`, gzip-compressed or not, or a plain-text list of
//! addresses), the `Sitemap:` lines of a `robots.txt`, and the rule that tells a post's address
//! from the homepage, tag, category, archive, paging and file addresses a sitemap also lists.
//! Pure: the documents are already fetched (discovery fetches them; the fetch run will read a
//! blog's sitemap like a feed).
//!
//! What is read follows the sitemap protocol (<https://www.sitemaps.org/protocol.html>): at most
//! 50,000 addresses per document and 50 MB once decompressed; `<loc>` and `<lastmod>` of each
//! `<url>` (or `<sitemap>` in an index), in the sitemap namespace or none, so the `image:loc`,
//! `video:` and `xhtml:link` extensions are left out. Entities are never expanded (only the five
//! XML ones and character references are read), and a document cut off mid-way keeps the
//! addresses read before the break.

use std::borrow::Cow;
use std::io::Read;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;
use url::Url;

use crate::parse::parse_date;

/// Addresses kept from one sitemap document at most (the protocol's limit).
pub const MAX_URLS: usize = 50_000;

/// Bytes a gzip-compressed sitemap may take once decompressed (the protocol's 50 MB).
pub const MAX_DECOMPRESSED: u64 = 50 * 1024 * 1024;

/// Elements nested deeper than this are not a sitemap (a real one is four deep).
const MAX_DEPTH: usize = 32;

/// Bytes kept of one `<loc>` or `<lastmod>`, about (longer text is cut near there).
const MAX_FIELD: usize = 4096;

/// One sitemap document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sitemap {
    /// A `<urlset>` (or a plain-text sitemap): the pages it lists, in document order.
    Urls(Vec<SitemapUrl>),
    /// A `<sitemapindex>`: the sitemaps it lists, in document order.
    Index(Vec<Url>),
}

/// One page a sitemap lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SitemapUrl {
    /// The page's address, resolved against the sitemap's.
    pub loc: Url,
    /// When the page last changed, as the sitemap says (`<lastmod>`, W3C datetime; a date alone
    /// is midnight in the club's zone).
    pub lastmod: Option<DateTime<Utc>>,
}

/// Reads a sitemap: XML (`<urlset>` or `<sitemapindex>`), the same gzip-compressed (a `.xml.gz`
/// file served as it is; a `Content-Encoding: gzip` body is already decompressed by the fetch
/// stage), or plain text with one address per line. `base` is the sitemap's own address
/// (relative `<loc>`s resolve against it); `tz` is the club's zone, for dates without one. Only
/// `http`/`https` addresses are kept. The error says, in plain words, why the document is not a
/// sitemap.
pub fn parse(bytes: &[u8], base: &Url, tz: Tz) -> Result<Sitemap, String> {
    let bytes = inflate(bytes)?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    // The protocol says UTF-8; anything else loses only its odd characters.
    let text = String::from_utf8_lossy(bytes);
    let start = text.trim_start();
    if start.is_empty() {
        return Err("the sitemap is empty: the server sent no content".to_string());
    }
    if looks_like_html(start) {
        return Err(
            "not a sitemap: got an HTML page (the site may have no sitemap at this address)"
                .to_string(),
        );
    }
    if start.starts_with('<') {
        read_xml(start, base, tz)
    } else {
        read_text(start, base)
    }
}

/// The `Sitemap:` lines of a robots.txt, resolved against `site` (the site's root), in order
/// and without duplicates; only `http`/`https` addresses. The key is read in any case and
/// anywhere in the file (it belongs to no user-agent group); `#` starts a comment.
pub fn robots_sitemaps(robots_txt: &str, site: &Url) -> Vec<Url> {
    let mut found: Vec<Url> = Vec::new();
    for line in robots_txt.trim_start_matches('\u{feff}').lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if !key.trim().eq_ignore_ascii_case("sitemap") || value.is_empty() {
            continue;
        }
        let Ok(url) = site.join(value) else {
            continue;
        };
        if is_web(&url) && !found.contains(&url) {
            found.push(url);
        }
    }
    found
}

/// Whether a sitemap's `url` looks like a post of the blog at `site` (its homepage). Refused:
///
/// - another site: the host must be the site's (`www.` and case aside, same port; `http` and
///   `https` alike), and the path under the site's folder — `https://me.github.io/blog/` keeps
///   `/blog/…`; on a host shared by many blogs, the blog's folder ([`shared_host_blog`]:
///   `velog.io/@user/…`, `inblog.ai/{blog}/…`). `site` is the blog's homepage; a post's address
///   serves too when the blog is at the host's root or on a shared host;
/// - the homepage: nothing left below the site's folder once `index.html`/`index.php` and
///   leading language folders (`/ko/`, `/en-us/`) are set aside (but WordPress's plain
///   permalink `/?p=123` is a post);
/// - a bare section index or a standing page: one segment such as `posts`, `blog`, `articles`,
///   `entry`, `notes`, `til`, `about`, `resume`, `projects`, `guestbook`, `notice`, `search`;
/// - listings anywhere in the path: `tag(s)`, `category`/`categories`, `archive(s)`,
///   `author(s)`, `series`, `topic(s)`, `label(s)`, `search`; paging (`/page/2`, `/page2/`,
///   `?page=2`, `?paged=2`) and listing queries (`?tag=`, `?category=`, `?q=`, `?s=`, …);
///   date archives (`/2024/11/`, `/2024/11/02/`; a bare number such as Tistory's `/2024` is a
///   post);
/// - feeds and copies: a last segment `feed`, `rss`, `atom`, `amp`, `comments`, `embed`,
///   `trackback`;
/// - files: images, media, documents, archives, scripts, styles, fonts, and `.xml`/`.json`/
///   `.txt` (feeds, sitemaps); and site machinery (`wp-content`, `wp-json`, `_next`, `static`,
///   `assets`, `api`, `cdn-cgi`, `attachment`).
///
/// Everything else on the site is a post: oopy/Notion `/{slug}` and `/{32-hex id}`, inblog
/// `/{slug}`, `/posts/{slug}` and `/blog/{slug}` (Next.js, Gatsby, Astro), Tistory
/// `/entry/{title}` and `/{n}`, Velog `/@user/{slug}`, Hugo/Jekyll `/2024/11/18/{slug}.html`.
pub fn is_post_like(url: &Url, site: &Url) -> bool {
    if !is_web(url) || !same_host(url, site) {
        return false;
    }
    let Some(mut segments) = segments_below(url, site) else {
        return false;
    };
    if segments
        .last()
        .is_some_and(|s| matches!(s.as_str(), "index.html" | "index.htm" | "index.php"))
    {
        segments.pop();
    }
    let first_content = segments
        .iter()
        .position(|s| !LANGUAGES.contains(&s.as_str()))
        .unwrap_or(segments.len());
    let segments = &segments[first_content..];
    let Some(last) = segments.last() else {
        // The homepage, unless WordPress's plain permalinks name a post (`/?p=123`).
        return is_plain_permalink(url);
    };
    let single_page = segments.len() == 1 && STANDING_PAGES.contains(&last.as_str());
    !(single_page
        || lists_posts(segments)
        || is_date_archive(segments)
        || LAST_NOT_POST.contains(&last.as_str())
        || is_file(last)
        || segments.iter().any(|s| MACHINERY.contains(&s.as_str()))
        || query_lists_posts(url))
}

// ---------------------------------------------------------------------------------------------
// Reading.

/// A gzip body decompressed (at most [`MAX_DECOMPRESSED`] bytes); anything else as it is.
fn inflate(bytes: &[u8]) -> Result<Cow<'_, [u8]>, String> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(Cow::Borrowed(bytes));
    }
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .take(MAX_DECOMPRESSED + 1)
        .read_to_end(&mut out)
        .map_err(|e| {
            format!(
                "the gzip-compressed sitemap could not be decompressed ({e}): the file may be \
                 cut off, or not gzip"
            )
        })?;
    if out.len() as u64 > MAX_DECOMPRESSED {
        return Err(
            "the sitemap is larger than 50 MB once decompressed (the sitemap protocol's limit): \
             refused"
                .to_string(),
        );
    }
    Ok(Cow::Owned(out))
}

fn looks_like_html(start: &str) -> bool {
    let head: String = start
        .chars()
        .take(64)
        .collect::<String>()
        .to_ascii_lowercase();
    head.starts_with("<!doctype html") || head.starts_with("<html")
}

fn is_web(url: &Url) -> bool {
    matches!(url.scheme(), "http" | "https") && url.host_str().is_some()
}

/// A plain-text sitemap: one absolute address per line; lines that are not one are skipped,
/// but the first must be (else this is not a sitemap).
fn read_text(text: &str, base: &Url) -> Result<Sitemap, String> {
    let mut urls = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let head = |scheme: &str| {
            line.as_bytes()
                .get(..scheme.len())
                .is_some_and(|h| h.eq_ignore_ascii_case(scheme.as_bytes()))
        };
        let url = Some(line)
            .filter(|_| head("https://") || head("http://"))
            .and_then(|l| base.join(l).ok())
            .filter(is_web);
        match url {
            Some(loc) => urls.push(SitemapUrl { loc, lastmod: None }),
            None if urls.is_empty() => {
                let shown: String = line.chars().take(60).collect();
                return Err(format!(
                    "not a sitemap: neither XML nor a list of addresses (it begins `{shown}`)"
                ));
            }
            None => {}
        }
        if urls.len() >= MAX_URLS {
            break;
        }
    }
    Ok(Sitemap::Urls(urls))
}

/// Which sitemap document the root element says this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    UrlSet,
    Index,
}

/// The child of a `<url>`/`<sitemap>` being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Loc,
    Lastmod,
}

/// The state of reading one XML sitemap, fed one event at a time.
struct Collector<'a> {
    base: &'a Url,
    tz: Tz,
    kind: Option<Kind>,
    /// Elements open, the root being 1.
    depth: usize,
    /// Inside a `<url>` (or `<sitemap>`) at depth 2.
    in_entry: bool,
    field: Option<Field>,
    text: String,
    loc: Option<Url>,
    lastmod: Option<DateTime<Utc>>,
    urls: Vec<SitemapUrl>,
    sitemaps: Vec<Url>,
}

impl Collector<'_> {
    fn full(&self) -> bool {
        self.urls.len() + self.sitemaps.len() >= MAX_URLS
    }

    fn has_entries(&self) -> bool {
        !self.urls.is_empty() || !self.sitemaps.is_empty()
    }

    /// An element opens; `ours` says it is in the sitemap namespace (or none).
    fn open(&mut self, e: &BytesStart<'_>, ours: bool) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!(
                "not a sitemap: elements nested deeper than {MAX_DEPTH}"
            ));
        }
        let name = e.local_name();
        let name = name.as_ref();
        match self.depth {
            1 => self.kind = Some(root_kind(name)?),
            2 if ours => {
                let entry = match self.kind {
                    Some(Kind::UrlSet) => "url",
                    _ => "sitemap",
                };
                self.in_entry = name == entry;
                self.loc = None;
                self.lastmod = None;
            }
            3 if ours && self.in_entry => {
                self.field = match name {
                    "loc" => Some(Field::Loc),
                    "lastmod" => Some(Field::Lastmod),
                    _ => None,
                };
                self.text.clear();
            }
            _ => {}
        }
        Ok(())
    }

    /// Text inside the element being read.
    fn push_text(&mut self, text: &str) {
        if self.field.is_some() && self.text.len() < MAX_FIELD {
            self.text.push_str(text);
        }
    }

    /// `&amp;`, `&#x41;`: the five XML entities and character references; others are dropped.
    fn push_ref(&mut self, r: &BytesRef<'_>) {
        let resolved = match r.resolve_char_ref() {
            Ok(Some(c)) => Some(c),
            Ok(None) => match r.as_ref() {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => None,
            },
            Err(_) => None,
        };
        if let Some(c) = resolved {
            let mut buf = [0u8; 4];
            self.push_text(c.encode_utf8(&mut buf));
        }
    }

    /// An element closes.
    fn close(&mut self) {
        match self.depth {
            3 => match self.field.take() {
                Some(Field::Loc) => {
                    let loc = self.text.trim();
                    self.loc = Some(loc)
                        .filter(|l| !l.is_empty())
                        .and_then(|l| self.base.join(l).ok())
                        .filter(is_web);
                }
                Some(Field::Lastmod) => self.lastmod = parse_lastmod(&self.text, self.tz),
                None => {}
            },
            2 if self.in_entry => {
                self.in_entry = false;
                if let Some(loc) = self.loc.take() {
                    match self.kind {
                        Some(Kind::UrlSet) => self.urls.push(SitemapUrl {
                            loc,
                            lastmod: self.lastmod.take(),
                        }),
                        _ => self.sitemaps.push(loc),
                    }
                }
            }
            _ => {}
        }
        self.depth = self.depth.saturating_sub(1);
    }

    fn finish(self) -> Result<Sitemap, String> {
        match self.kind {
            Some(Kind::UrlSet) => Ok(Sitemap::Urls(self.urls)),
            Some(Kind::Index) => Ok(Sitemap::Index(self.sitemaps)),
            None => Err("not a sitemap: the XML has no root element".to_string()),
        }
    }
}

/// The kind of sitemap a root element names, or why it is none.
fn root_kind(name: &str) -> Result<Kind, String> {
    match name {
        "urlset" => Ok(Kind::UrlSet),
        "sitemapindex" => Ok(Kind::Index),
        "rss" | "feed" | "RDF" => Err(format!(
            "not a sitemap: this is a feed (<{name}>); read it as a feed"
        )),
        "html" => Err(
            "not a sitemap: got an HTML page (the site may have no sitemap at this address)"
                .to_string(),
        ),
        _ => Err(format!(
            "not a sitemap: the XML's root element is <{name}>, where a sitemap has <urlset> or \
             <sitemapindex>"
        )),
    }
}

/// Whether an element is the sitemap protocol's: no prefix (whatever the default namespace
/// says, as lenient readers do), or a prefix bound to a sitemap namespace (`ns0:url`, as
/// Python's ElementTree writes them). `image:loc`, `xhtml:link` and the like are not.
fn is_ours(e: &BytesStart<'_>, resolved: &ResolveResult<'_>) -> bool {
    if e.name().prefix().is_none() {
        return true;
    }
    match resolved {
        ResolveResult::Bound(ns) => {
            let ns = ns.as_ref();
            ns.contains("sitemaps.org/schemas/sitemap") || ns.contains("google.com/schemas/sitemap")
        }
        _ => false,
    }
}

/// An XML sitemap. A break in the XML after some addresses keeps them (a download cut off);
/// before any, it is the error.
fn read_xml(text: &str, base: &Url, tz: Tz) -> Result<Sitemap, String> {
    let mut reader = NsReader::from_str(text);
    let mut c = Collector {
        base,
        tz,
        kind: None,
        depth: 0,
        in_entry: false,
        field: None,
        text: String::new(),
        loc: None,
        lastmod: None,
        urls: Vec::new(),
        sitemaps: Vec::new(),
    };
    loop {
        let event = match reader.read_resolved_event() {
            Ok((resolved, Event::Start(e))) => {
                let ours = is_ours(&e, &resolved);
                c.open(&e, ours)
            }
            Ok((resolved, Event::Empty(e))) => {
                let ours = is_ours(&e, &resolved);
                c.open(&e, ours).map(|()| c.close())
            }
            Ok((_, Event::End(_))) => {
                c.close();
                Ok(())
            }
            Ok((_, Event::Text(t))) => {
                c.push_text(&t.xml10_content());
                Ok(())
            }
            Ok((_, Event::CData(t))) => {
                c.push_text(&t.xml10_content());
                Ok(())
            }
            Ok((_, Event::GeneralRef(r))) => {
                c.push_ref(&r);
                Ok(())
            }
            Ok((_, Event::Eof)) => break,
            Ok(_) => Ok(()),
            Err(e) if c.has_entries() => {
                tracing::debug!("sitemap {base}: XML broken after some addresses: {e}");
                break;
            }
            Err(e) => Err(format!(
                "not a sitemap: the XML is broken at byte {} ({e}) before any address",
                reader.error_position()
            )),
        };
        event?;
        if c.full() || (c.kind.is_some() && c.depth == 0) {
            break;
        }
    }
    c.finish()
}

/// A `<lastmod>` in the W3C datetime forms: `2024`, `2024-11`, `2024-11-02` (midnight in
/// `tz`), `2024-11-02T10:00+09:00`, `…T10:00:00Z`, `…T10:00:00.5+09:00`; a time without a zone
/// is in `tz`. Other forms that [`parse_date`] reads are taken too.
pub fn parse_lastmod(text: &str, tz: Tz) -> Option<DateTime<Utc>> {
    let t = text.trim();
    if t.len() == 4 && t.bytes().all(|b| b.is_ascii_digit()) {
        let year: i32 = t.parse().ok()?;
        let midnight = NaiveDate::from_ymd_opt(year, 1, 1)?.and_hms_opt(0, 0, 0)?;
        return tz
            .from_local_datetime(&midnight)
            .earliest()
            .map(|d| d.with_timezone(&Utc));
    }
    parse_date(t, tz)
}

// ---------------------------------------------------------------------------------------------
// Telling posts from the rest.

/// Leading folders that only choose a language.
const LANGUAGES: &[&str] = &[
    "ko", "kr", "en", "ja", "jp", "zh", "cn", "ko-kr", "en-us", "en-gb", "ja-jp", "zh-cn", "zh-tw",
];

/// Pages that, alone in the path, are a section's index or a standing page, not a post.
const STANDING_PAGES: &[&str] = &[
    "posts",
    "post",
    "blog",
    "blogs",
    "articles",
    "article",
    "entry",
    "entries",
    "writing",
    "writings",
    "notes",
    "note",
    "til",
    "essays",
    "stories",
    "log",
    "logs",
    "home",
    "about",
    "about-me",
    "me",
    "contact",
    "privacy",
    "privacy-policy",
    "terms",
    "resume",
    "cv",
    "portfolio",
    "projects",
    "guestbook",
    "notice",
    "notices",
    "location",
    "media",
    "login",
    "signin",
    "signup",
    "manage",
    "admin",
    "404",
    "offline",
];

/// Path segments that make a listing of posts wherever they are.
const LISTINGS: &[&str] = &[
    "tag",
    "tags",
    "category",
    "categories",
    "archive",
    "archives",
    "author",
    "authors",
    "series",
    "topic",
    "topics",
    "label",
    "labels",
    "search",
];

/// Last segments that are a feed or another copy of a post.
const LAST_NOT_POST: &[&str] = &[
    "feed",
    "rss",
    "atom",
    "amp",
    "comments",
    "embed",
    "trackback",
];

/// Path segments of site machinery, never a post.
const MACHINERY: &[&str] = &[
    "wp-content",
    "wp-admin",
    "wp-includes",
    "wp-json",
    "wp-login.php",
    "xmlrpc.php",
    "_next",
    "static",
    "assets",
    "api",
    "cdn-cgi",
    "attachment",
];

/// File extensions that are not a page.
const FILE_EXTENSIONS: &[&str] = &[
    "xml",
    "rss",
    "atom",
    "json",
    "txt",
    "gz",
    "zip",
    "tar",
    "tgz",
    "rar",
    "7z",
    "pdf",
    "doc",
    "docx",
    "ppt",
    "pptx",
    "xls",
    "xlsx",
    "csv",
    "hwp",
    "png",
    "jpg",
    "jpeg",
    "gif",
    "webp",
    "avif",
    "svg",
    "ico",
    "bmp",
    "tif",
    "tiff",
    "heic",
    "mp3",
    "mp4",
    "m4a",
    "webm",
    "mov",
    "avi",
    "wav",
    "ogg",
    "css",
    "js",
    "mjs",
    "map",
    "wasm",
    "woff",
    "woff2",
    "ttf",
    "otf",
    "eot",
    "webmanifest",
    "ics",
];

/// Query keys of paging, listing and search.
const LISTING_QUERIES: &[&str] = &[
    "page", "paged", "pg", "tag", "tags", "category", "cat", "s", "q", "search", "query", "sort",
];

fn host_key(url: &Url) -> String {
    let host = url
        .host_str()
        .unwrap_or("")
        .trim_end_matches('.')
        .to_ascii_lowercase();
    match host.strip_prefix("www.") {
        Some(rest) => rest.to_string(),
        None => host,
    }
}

fn same_host(url: &Url, site: &Url) -> bool {
    host_key(url) == host_key(site) && url.port() == site.port()
}

/// The blog a sitemap at `sitemap_url` belongs to, for [`is_post_like`]: its folder on a shared
/// host (`inblog.ai/{blog}/`), else the sitemap's own folder (`/` or a project site's `/blog/`).
pub fn site_of(sitemap_url: &Url) -> Url {
    shared_host_blog(sitemap_url)
        .or_else(|| sitemap_url.join("./").ok())
        .unwrap_or_else(|| sitemap_url.clone())
}

/// On a host shared by many blogs, where each blog is a folder — `velog.io/@user`,
/// `medium.com/@user`, `brunch.co.kr/@user` (a first segment starting with `@`) and
/// `inblog.ai/{blog}` — that folder (`https://inblog.ai/graphwoody/`), from the blog's address
/// or one of its posts'.
pub fn shared_host_blog(url: &Url) -> Option<Url> {
    let folder = shared_host_folder(url)?;
    url.join(&folder).ok()
}

fn shared_host_folder(url: &Url) -> Option<String> {
    let first = url.path_segments()?.next().filter(|s| !s.is_empty())?;
    (first.starts_with('@') || host_key(url) == "inblog.ai").then(|| format!("/{first}/"))
}

/// The site's folder: a blog's folder on a shared host ([`shared_host_blog`]), else the site's
/// path up to its last `/` (so a post's address stands for a blog at the host's root).
fn site_folder(site: &Url) -> String {
    if let Some(folder) = shared_host_folder(site) {
        return folder;
    }
    let path = site.path();
    let last = path.rsplit('/').next().unwrap_or("");
    path[..path.len() - last.len()].to_string()
}

/// The non-empty path segments of `url` below the site's folder, lowercased; `None` when the
/// path is outside it.
fn segments_below(url: &Url, site: &Url) -> Option<Vec<String>> {
    let folder = site_folder(site);
    let path = url.path();
    let rest = path
        .get(..folder.len())
        .filter(|head| head.eq_ignore_ascii_case(&folder))
        .map(|_| &path[folder.len()..])?;
    Some(
        rest.split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_ascii_lowercase)
            .collect(),
    )
}

/// A listing segment anywhere, or paging: `page/2`, `page2`.
fn lists_posts(segments: &[String]) -> bool {
    let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    segments.iter().enumerate().any(|(i, s)| {
        LISTINGS.contains(&s.as_str())
            || (s == "page" && segments.get(i + 1).is_none_or(|n| numeric(n)))
            || s.strip_prefix("page").is_some_and(numeric)
    })
}

/// `/2024/11/` and `/2024/11/02/`: a year, then a month, then perhaps a day, and nothing else.
fn is_date_archive(segments: &[String]) -> bool {
    let number = |s: &String, len: std::ops::RangeInclusive<usize>| {
        len.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
    };
    matches!(segments.len(), 2 | 3)
        && number(&segments[0], 4..=4)
        && segments[1..].iter().all(|s| number(s, 1..=2))
}

/// A last segment with a file extension that is not a page.
fn is_file(last: &str) -> bool {
    last.rsplit_once('.')
        .is_some_and(|(_, ext)| FILE_EXTENSIONS.contains(&ext))
}

/// `/?p=123`: a WordPress post under plain permalinks.
fn is_plain_permalink(url: &Url) -> bool {
    url.query_pairs()
        .any(|(k, v)| k == "p" && !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
}

fn query_lists_posts(url: &Url) -> bool {
    url.query_pairs()
        .any(|(k, _)| LISTING_QUERIES.contains(&k.to_ascii_lowercase().as_str()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use chrono::SecondsFormat;

    const TZ: Tz = chrono_tz::Asia::Seoul;

    fn base() -> Url {
        Url::parse("https://blog.example/sitemap.xml").unwrap()
    }

    fn urls(s: &Sitemap) -> Vec<(String, Option<String>)> {
        match s {
            Sitemap::Urls(u) => u
                .iter()
                .map(|u| {
                    (
                        u.loc.to_string(),
                        u.lastmod
                            .map(|d| d.to_rfc3339_opts(SecondsFormat::Secs, true)),
                    )
                })
                .collect(),
            Sitemap::Index(_) => panic!("an index: {s:?}"),
        }
    }

    #[test]
    fn a_urlset_in_document_order_with_its_lastmods() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:image="http://www.google.com/schemas/sitemap-image/1.1"
        xmlns:xhtml="http://www.w3.org/1999/xhtml">
  <url><loc>https://blog.example/</loc><changefreq>daily</changefreq><priority>1.0</priority></url>
  <url>
    <loc>
      https://blog.example/posts/hello-world
    </loc>
    <lastmod>2024-11-02</lastmod>
    <image:image><image:loc>https://cdn.example/hello.png</image:loc></image:image>
    <xhtml:link rel="alternate" hreflang="en" href="https://blog.example/en/posts/hello-world"/>
  </url>
  <url><loc>/posts/relative?a=1&amp;b=2</loc><lastmod>2024-11-18T10:30:00+09:00</lastmod></url>
  <url><lastmod>2024-01-01</lastmod></url>
  <url><loc>mailto:me@blog.example</loc></url>
  <url><loc><![CDATA[https://blog.example/posts/%ED%95%9C%EA%B8%80]]></loc></url>
</urlset>"#;
        let s = parse(xml.as_bytes(), &base(), TZ).unwrap();
        assert_eq!(
            urls(&s),
            [
                ("https://blog.example/".to_string(), None),
                (
                    "https://blog.example/posts/hello-world".to_string(),
                    Some("2024-11-01T15:00:00Z".to_string())
                ),
                (
                    "https://blog.example/posts/relative?a=1&b=2".to_string(),
                    Some("2024-11-18T01:30:00Z".to_string())
                ),
                (
                    "https://blog.example/posts/%ED%95%9C%EA%B8%80".to_string(),
                    None
                ),
            ]
        );
    }

    #[test]
    fn a_sitemap_index_lists_its_sitemaps() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>https://blog.example/sitemap-0.xml</loc><lastmod>2024-11-02T10:00:00Z</lastmod></sitemap>
  <sitemap><loc>post-sitemap.xml</loc></sitemap>
</sitemapindex>"#;
        let s = parse(xml.as_bytes(), &base(), TZ).unwrap();
        assert_eq!(
            s,
            Sitemap::Index(vec![
                Url::parse("https://blog.example/sitemap-0.xml").unwrap(),
                Url::parse("https://blog.example/post-sitemap.xml").unwrap(),
            ])
        );
    }

    #[test]
    fn prefixed_sitemap_elements_as_elementtree_writes_them() {
        let xml = r#"<ns0:urlset xmlns:ns0="http://www.sitemaps.org/schemas/sitemap/0.9"><ns0:url><ns0:loc>https://blog.example/a</ns0:loc></ns0:url></ns0:urlset>"#;
        let s = parse(xml.as_bytes(), &base(), TZ).unwrap();
        assert_eq!(urls(&s), [("https://blog.example/a".to_string(), None)]);
    }

    #[test]
    fn a_plain_text_sitemap() {
        let text = "\u{feff}https://blog.example/posts/a\r\n\r\nhttps://blog.example/posts/b\n  not an address\nhttp://blog.example/c\n";
        let s = parse(text.as_bytes(), &base(), TZ).unwrap();
        assert_eq!(
            urls(&s),
            [
                ("https://blog.example/posts/a".to_string(), None),
                ("https://blog.example/posts/b".to_string(), None),
                ("http://blog.example/c".to_string(), None),
            ]
        );
    }

    #[test]
    fn a_gzip_compressed_sitemap() {
        use std::io::Write;
        let xml = r#"<urlset><url><loc>https://blog.example/p/1</loc></url></urlset>"#;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(xml.as_bytes()).unwrap();
        let gz = enc.finish().unwrap();
        let s = parse(&gz, &base(), TZ).unwrap();
        assert_eq!(urls(&s), [("https://blog.example/p/1".to_string(), None)]);
        let err = parse(&gz[..gz.len() / 2], &base(), TZ).unwrap_err();
        assert!(err.contains("could not be decompressed"), "{err}");
    }

    #[test]
    fn regression_gzip_bomb_is_refused_at_the_protocols_limit() {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let zeros = vec![b' '; 1024 * 1024];
        for _ in 0..51 {
            enc.write_all(&zeros).unwrap();
        }
        let gz = enc.finish().unwrap();
        assert!(gz.len() < 1024 * 1024);
        let err = parse(&gz, &base(), TZ).unwrap_err();
        assert!(err.contains("larger than 50 MB"), "{err}");
    }

    #[test]
    fn lastmod_in_the_w3c_forms() {
        let at =
            |t: &str| parse_lastmod(t, TZ).map(|d| d.to_rfc3339_opts(SecondsFormat::Secs, true));
        assert_eq!(at("2024").as_deref(), Some("2023-12-31T15:00:00Z"));
        assert_eq!(at("2024-11").as_deref(), Some("2024-10-31T15:00:00Z"));
        assert_eq!(at(" 2024-11-02 ").as_deref(), Some("2024-11-01T15:00:00Z"));
        assert_eq!(
            at("2024-11-02T10:00+09:00").as_deref(),
            Some("2024-11-02T01:00:00Z")
        );
        assert_eq!(
            at("2024-11-02T10:00:00Z").as_deref(),
            Some("2024-11-02T10:00:00Z")
        );
        assert_eq!(
            at("2024-11-02T10:00:00.45+01:00").as_deref(),
            Some("2024-11-02T09:00:00Z")
        );
        assert_eq!(
            at("2024-11-02T10:00:00").as_deref(),
            Some("2024-11-02T01:00:00Z"),
            "no zone: the club's"
        );
        assert_eq!(at(""), None);
        assert_eq!(at("yesterday"), None);
        assert_eq!(at("2024-13-45"), None);
    }

    #[test]
    fn junk_is_not_a_sitemap_and_says_why() {
        for (body, words) in [
            ("", "empty"),
            ("   \n ", "empty"),
            (
                "<!DOCTYPE html><html><body>Not found</body></html>",
                "HTML page",
            ),
            ("<html lang=ko><head>", "HTML page"),
            (
                r#"<?xml version="1.0"?><rss version="2.0"><channel/></rss>"#,
                "this is a feed (<rss>)",
            ),
            (
                r#"<feed xmlns="http://www.w3.org/2005/Atom"/>"#,
                "this is a feed",
            ),
            ("<?xml version=\"1.0\"?><opml/>", "root element is <opml>"),
            ("<?xml version=\"1.0\"?>", "no root element"),
            ("<urlset><url><loc>https://x/</lo", "broken at byte"),
            (r#"{"urls": []}"#, "neither XML nor a list of addresses"),
            ("Not Found", "neither XML nor a list of addresses"),
        ] {
            let err = parse(body.as_bytes(), &base(), TZ).unwrap_err();
            assert!(err.contains(words), "{body:?}: {err}");
        }
        let deep = format!("<urlset>{}", "<a>".repeat(100));
        assert!(parse(deep.as_bytes(), &base(), TZ)
            .unwrap_err()
            .contains("nested deeper"));
    }

    #[test]
    fn a_sitemap_cut_off_keeps_what_came_before_the_break() {
        let xml = "<urlset><url><loc>https://blog.example/a</loc></url><url><loc>https://blog.example/b</loc></url><url><loc>https://blo";
        let s = parse(xml.as_bytes(), &base(), TZ).unwrap();
        assert_eq!(urls(&s).len(), 2);
        // An empty urlset is a sitemap with nothing in it.
        let s = parse(
            b"<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\"/>",
            &base(),
            TZ,
        )
        .unwrap();
        assert_eq!(s, Sitemap::Urls(Vec::new()));
    }

    #[test]
    fn regression_entities_are_never_expanded() {
        let xml = r#"<?xml version="1.0"?>
<!DOCTYPE urlset [<!ENTITY lol "lollollollollollollol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>
<urlset><url><loc>https://blog.example/&lol2;x</loc></url></urlset>"#;
        let s = parse(xml.as_bytes(), &base(), TZ).unwrap();
        assert_eq!(urls(&s), [("https://blog.example/x".to_string(), None)]);
    }

    #[test]
    fn fifty_thousand_addresses_are_kept_and_no_more() {
        let mut xml = String::from("<urlset>");
        for i in 0..MAX_URLS + 10 {
            xml.push_str(&format!("<url><loc>https://blog.example/p/{i}</loc></url>"));
        }
        xml.push_str("</urlset>");
        let Sitemap::Urls(u) = parse(xml.as_bytes(), &base(), TZ).unwrap() else {
            panic!("not a urlset")
        };
        assert_eq!(u.len(), MAX_URLS);
        assert_eq!(u[MAX_URLS - 1].loc.path(), "/p/49999");
    }

    #[test]
    fn robots_txt_sitemap_lines() {
        let site = Url::parse("https://blog.example/").unwrap();
        let robots = "\u{feff}User-agent: *\nDisallow: /admin\n\nsitemap: https://blog.example/sitemap-index.xml # the index\nSITEMAP:/sitemap.xml\nSitemap: https://blog.example/sitemap.xml\nSitemap:\nSitemap: ftp://blog.example/x.xml\n# Sitemap: https://blog.example/old.xml\nUser-agent: GPTBot\nSitemap: https://cdn.example/blog/sitemap.xml.gz\n";
        let got: Vec<String> = robots_sitemaps(robots, &site)
            .iter()
            .map(Url::to_string)
            .collect();
        assert_eq!(
            got,
            [
                "https://blog.example/sitemap-index.xml",
                "https://blog.example/sitemap.xml",
                "https://cdn.example/blog/sitemap.xml.gz",
            ]
        );
        assert!(robots_sitemaps("<html><p>Sitemap: /x.xml</p></html>", &site).is_empty());
    }

    /// `(address, site, is a post)`, per platform.
    #[rustfmt::skip]
    const POSTS: &[(&str, &str, bool)] = &[
        // Notion/oopy.
        ("https://pizzathief.oopy.io/kernel-bypass", "https://pizzathief.oopy.io/", true),
        ("https://pizzathief.oopy.io/0c5f3b4a9e2d4f6a8b1c2d3e4f5a6b7c", "https://pizzathief.oopy.io/", true),
        ("https://pizzathief.oopy.io/", "https://pizzathief.oopy.io/", false),
        ("https://pizzathief.oopy.io/about", "https://pizzathief.oopy.io/", false),
        ("https://other.oopy.io/kernel-bypass", "https://pizzathief.oopy.io/", false),
        ("https://pizzathief.oopy.io/data-drift-detection", "https://pizzathief.oopy.io/kernel", true),
        ("https://sihyung92.oopy.io/etc/intellij/4", "https://sihyung92.oopy.io/", true),
        ("https://lunadata.oopy.io/2bcf214c-453e-464d-903e-85b2ddffc821", "https://lunadata.oopy.io", true),
        ("https://hip-turtle.notion.site/Retention-65bbd2dd05154308935eecc4c4b34d93", "https://hip-turtle.notion.site/", true),
        ("https://me.notion.site/Kafka-2f3e4d5c6b7a49e8a1b2c3d4e5f60718", "https://me.notion.site/", true),
        // inblog.
        ("https://minji.inblog.ai/spring-transaction-23411", "https://minji.inblog.ai", true),
        ("https://minji.inblog.ai/tag/spring", "https://minji.inblog.ai", false),
        ("https://minji.inblog.ai/category/backend", "https://minji.inblog.ai", false),
        ("https://minji.inblog.ai/author/minji", "https://minji.inblog.ai", false),
        ("https://minji.inblog.ai/?page=2", "https://minji.inblog.ai", false),
        ("https://minji.inblog.ai/rss", "https://minji.inblog.ai", false),
        ("https://inblog.ai/graphwoody/graphfds-02", "https://inblog.ai/graphwoody", true),
        ("https://inblog.ai/graphwoody/graphfds-03", "https://inblog.ai/graphwoody/graphfds-02", true),
        ("https://inblog.ai/graphwoody", "https://inblog.ai/graphwoody", false),
        ("https://inblog.ai/graphwoody/tag/fds", "https://inblog.ai/graphwoody", false),
        ("https://inblog.ai/someone-else/graphfds-02", "https://inblog.ai/graphwoody", false),
        // Next.js / Vercel / Netlify.
        ("https://snupi.vercel.app/posts/react-query", "https://snupi.vercel.app/", true),
        ("https://snupi.vercel.app/posts", "https://snupi.vercel.app/", false),
        ("https://snupi.vercel.app/posts/", "https://snupi.vercel.app/", false),
        ("https://snupi.vercel.app/posts/page/2", "https://snupi.vercel.app/", false),
        ("https://snupi.vercel.app/posts/tags/react", "https://snupi.vercel.app/", false),
        ("https://snupi.vercel.app/_next/static/chunks/main.js", "https://snupi.vercel.app/", false),
        ("https://snupi.vercel.app/og/react-query.png", "https://snupi.vercel.app/", false),
        ("https://dev-kim.netlify.app/blog/2024-retro", "https://dev-kim.netlify.app/", true),
        ("https://dev-kim.netlify.app/blog", "https://dev-kim.netlify.app/", false),
        ("https://dev-kim.netlify.app/blog/category/retro", "https://dev-kim.netlify.app/", false),
        ("https://dev-kim.netlify.app/blog/search?q=rust", "https://dev-kim.netlify.app/", false),
        ("https://dev-kim.netlify.app/about", "https://dev-kim.netlify.app/", false),
        ("https://dev-kim.netlify.app/ko/blog/2024-retro", "https://dev-kim.netlify.app/", true),
        ("https://dev-kim.netlify.app/en/", "https://dev-kim.netlify.app/", false),
        ("https://www.dev-kim.netlify.app/blog/2024-retro", "https://dev-kim.netlify.app/", true),
        // Tistory.
        ("https://habwa.tistory.com/entry/%EB%81%9D%EB%A7%BA%EC%9D%8C", "https://habwa.tistory.com/", true),
        ("https://pkw-may.tistory.com/65", "https://pkw-may.tistory.com/", true),
        ("https://pkw-may.tistory.com/2024", "https://pkw-may.tistory.com/", true),
        ("https://pkw-may.tistory.com/category", "https://pkw-may.tistory.com/", false),
        ("https://pkw-may.tistory.com/category/%EA%B0%9C%EB%B0%9C", "https://pkw-may.tistory.com/", false),
        ("https://pkw-may.tistory.com/tag/java", "https://pkw-may.tistory.com/", false),
        ("https://pkw-may.tistory.com/archive/202411", "https://pkw-may.tistory.com/", false),
        ("https://pkw-may.tistory.com/guestbook", "https://pkw-may.tistory.com/", false),
        ("https://pkw-may.tistory.com/entry", "https://pkw-may.tistory.com/", false),
        // Velog.
        ("https://velog.io/@wisepine/JPA-Tip", "https://velog.io/@wisepine", true),
        ("https://velog.io/@wisepine", "https://velog.io/@wisepine", false),
        ("https://velog.io/@wisepine/posts", "https://velog.io/@wisepine", false),
        ("https://velog.io/@wisepine/series/JPA", "https://velog.io/@wisepine", false),
        ("https://velog.io/@wisepine/about", "https://velog.io/@wisepine", false),
        ("https://velog.io/@someone/JPA-Tip", "https://velog.io/@wisepine", false),
        ("https://velog.io/@wisepine/other-post", "https://velog.io/@wisepine/JPA-Tip", true),
        // Hugo / Jekyll / WordPress date paths.
        ("https://taehun.github.io/2024/11/18/post.html", "https://taehun.github.io/", true),
        ("https://taehun.github.io/posts/first/", "https://taehun.github.io/", true),
        ("https://taehun.github.io/2024/11/", "https://taehun.github.io/", false),
        ("https://taehun.github.io/2024/11/18/", "https://taehun.github.io/", false),
        ("https://taehun.github.io/page2/", "https://taehun.github.io/", false),
        ("https://taehun.github.io/page/3/", "https://taehun.github.io/", false),
        ("https://taehun.github.io/categories/", "https://taehun.github.io/", false),
        ("https://taehun.github.io/index.xml", "https://taehun.github.io/", false),
        ("https://taehun.github.io/index.html", "https://taehun.github.io/", false),
        ("https://taehun.github.io/sitemap.xml", "https://taehun.github.io/", false),
        ("https://taehun.github.io/assets/cv.pdf", "https://taehun.github.io/", false),
        ("https://other.github.io/blog/2024/post/", "https://other.github.io/blog/", true),
        ("https://other.github.io/resume/", "https://other.github.io/blog/", false),
        ("https://other.github.io/blog/", "https://other.github.io/blog/", false),
        ("https://mike.example/2025/08/25/cities/", "https://mike.example/", true),
        ("https://mike.example/2025/08/25/cities/feed/", "https://mike.example/", false),
        ("https://mike.example/2025/08/25/cities/amp/", "https://mike.example/", false),
        ("https://mike.example/wp-content/uploads/2025/08/a.jpg", "https://mike.example/", false),
        ("https://mike.example/?p=123", "https://mike.example/", true),
        ("https://mike.example/?s=rust", "https://mike.example/", false),
        // Not the web, or another port.
        ("ftp://mike.example/2025/x", "https://mike.example/", false),
        ("http://mike.example:8080/2025/x", "http://mike.example/", false),
        ("http://mike.example/2025/x", "https://mike.example/", true),
    ];

    #[test]
    fn post_like_addresses_per_platform() {
        let wrong: Vec<String> = POSTS
            .iter()
            .filter(|(url, site, want)| {
                is_post_like(&Url::parse(url).unwrap(), &Url::parse(site).unwrap()) != *want
            })
            .map(|(url, site, want)| format!("{url} (site {site}): expected {want}"))
            .collect();
        assert!(wrong.is_empty(), "{wrong:#?}");
    }
}
