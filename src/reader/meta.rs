//! What a page says about its post besides the article: the title, the publication date, and
//! whether the page is only a frame around the post.
//!
//! The title is `og:title`, else the document's `<title>`. The date is the first of:
//! `article:published_time` (and its spellings in `<meta>`), JSON-LD `datePublished` (in an
//! array or an `@graph` too, a posting's before any other's), microdata and microformat dates
//! (`itemprop="datePublished"`, `.dt-published`, `time.published`), a platform's own markup
//! (Naver's `addDate`, `.se_publishDate` and `._postAddDate`, Tistory's and Brunch's date
//! lines, Velog's `released_at`), the first `<time datetime>` outside chrome, and last a theme's
//! `.date` or `.post-date` outside chrome. Texts go through
//! [`crate::parse::parse_date`]: a date without a zone is in the club's. The frame is Naver's
//! `iframe#mainFrame`, whose address is the post's own view.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use scraper::{ElementRef, Html, Selector};
use serde_json::Value;
use url::Url;

use super::chrome::{lists_other_posts, one_line};
use crate::parse::{is_control, parse_date};

/// Compiles selectors once; one that does not parse (a bug the tests catch) is left out.
pub fn compile(list: &[&str]) -> Vec<Selector> {
    list.iter()
        .filter_map(|s| Selector::parse(s).ok())
        .collect()
}

static META: LazyLock<Vec<Selector>> = LazyLock::new(|| compile(&["meta"]));
static TITLE: LazyLock<Vec<Selector>> = LazyLock::new(|| compile(&["head title", "title"]));
static JSON_LD: LazyLock<Vec<Selector>> =
    LazyLock::new(|| compile(&["script[type='application/ld+json']"]));
static FRAME: LazyLock<Vec<Selector>> =
    LazyLock::new(|| compile(&["iframe#mainFrame[src]", "frame#mainFrame[src]"]));
static SCRIPT: LazyLock<Vec<Selector>> = LazyLock::new(|| compile(&["script"]));
static NAVER_PROPERTY: LazyLock<Vec<Selector>> =
    LazyLock::new(|| compile(&["#_post_property[addDate]"]));

/// Microdata and microformat dates: an element whose `datetime` or `content` (else its text)
/// is the post's date.
static MICRODATA: LazyLock<Vec<Selector>> = LazyLock::new(|| {
    compile(&[
        "[itemprop~='datePublished']",
        ".dt-published",
        "time.published",
        "time[pubdate]",
        "time.entry-date",
    ])
});

/// The platforms' own date lines: Naver (SmartEditor 3's, SmartEditor 2's, the mobile page's),
/// Tistory's skins, Brunch's cover.
static PLATFORM_DATES: LazyLock<Vec<Selector>> = LazyLock::new(|| {
    compile(&[
        ".se_publishDate",
        "._postAddDate",
        ".blog_date",
        ".info_post .date",
        ".titleWrap .date",
        ".wrap_cover .date",
        ".cover_info .date",
    ])
});

/// Date lines any theme may use, read last (outside chrome: comments carry dates too).
static LOOSE_DATES: LazyLock<Vec<Selector>> = LazyLock::new(|| {
    compile(&[
        ".post-meta .date",
        ".article-date",
        ".post-date",
        ".entry-date",
        ".date",
    ])
});
static TIME: LazyLock<Vec<Selector>> = LazyLock::new(|| compile(&["time[datetime]"]));

/// Elements of one date selector looked at: the post's date comes early on its page.
const MAX_CANDIDATES: usize = 32;

/// `<meta>` names and properties (lowercase) that carry the publication date.
const DATE_METAS: &[&str] = &[
    "article:published_time",
    "og:article:published_time",
    "article.published",
    "datepublished",
    "pubdate",
    "publishdate",
];

/// The post's title: `og:title`, else `<title>`, on one line without control characters.
pub fn title(doc: &Html) -> Option<String> {
    meta_content(doc, &["og:title"]).or_else(|| document_title(doc))
}

/// Every title the page gives (`og:title`, `<title>`), for recognising a heading that repeats it.
pub fn titles(doc: &Html) -> Vec<String> {
    [meta_content(doc, &["og:title"]), document_title(doc)]
        .into_iter()
        .flatten()
        .collect()
}

/// The first `<title>`'s text, cleaned.
fn document_title(doc: &Html) -> Option<String> {
    TITLE
        .iter()
        .find_map(|s| doc.select(s).next())
        .and_then(|t| clean(&t.text().collect::<String>()))
}

/// `text` on one line, control characters dropped; `None` when nothing is left.
fn clean(text: &str) -> Option<String> {
    let kept: String = text.chars().filter(|c| !is_control(*c)).collect();
    Some(one_line(&kept)).filter(|t| !t.is_empty())
}

/// The first non-empty `content` of a `<meta>` whose `property`, `name` or `itemprop` is one of
/// `keys` (lowercase), in the order of `keys`.
fn meta_content(doc: &Html, keys: &[&str]) -> Option<String> {
    let metas: Vec<(String, &str)> = META
        .iter()
        .flat_map(|s| doc.select(s))
        .filter_map(|m| {
            let e = m.value();
            let key = e
                .attr("property")
                .or_else(|| e.attr("name"))
                .or_else(|| e.attr("itemprop"))?;
            Some((key.trim().to_ascii_lowercase(), e.attr("content")?))
        })
        .collect();
    keys.iter().find_map(|k| {
        metas
            .iter()
            .filter(|(key, _)| key == k)
            .find_map(|(_, content)| clean(content))
    })
}

/// The post's publication date, from the first source that has one (see the module's doc).
pub fn published(doc: &Html, tz: Tz) -> Option<DateTime<Utc>> {
    DATE_METAS
        .iter()
        .find_map(|k| meta_content(doc, &[k]).and_then(|t| parse_date(&t, tz)))
        .or_else(|| json_ld_date(doc, tz))
        .or_else(|| dated_element(doc, &MICRODATA, tz))
        .or_else(|| naver_add_date(doc))
        .or_else(|| dated_element(doc, &PLATFORM_DATES, tz))
        .or_else(|| velog_released_at(doc, tz))
        .or_else(|| first_time(doc, tz))
        .or_else(|| dated_element(doc, &LOOSE_DATES, tz))
}

/// `datePublished` from the page's JSON-LD: a posting's or article's first, else any.
fn json_ld_date(doc: &Html, tz: Tz) -> Option<DateTime<Utc>> {
    let values: Vec<Value> = JSON_LD
        .iter()
        .flat_map(|s| doc.select(s))
        .filter_map(|script| {
            let text: String = script.text().collect();
            let trimmed = text
                .trim()
                .trim_start_matches("<!--")
                .trim_end_matches("-->")
                .trim();
            serde_json::from_str(trimmed).ok()
        })
        .collect();
    let mut found: Vec<(bool, &str)> = Vec::new();
    for v in &values {
        collect_dates(v, &mut found);
    }
    let posting_first = found.iter().filter(|(posting, _)| *posting);
    posting_first
        .chain(found.iter().filter(|(posting, _)| !*posting))
        .find_map(|(_, text)| parse_date(text, tz))
}

/// Every `datePublished` in a JSON-LD value, with whether its object is an article or posting.
/// serde_json refuses documents nested deeper than 128, so the recursion is bounded.
fn collect_dates<'v>(v: &'v Value, out: &mut Vec<(bool, &'v str)>) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| collect_dates(i, out)),
        Value::Object(map) => {
            if let Some(Value::String(date)) = map.get("datePublished") {
                let posting = match map.get("@type") {
                    Some(Value::String(t)) => is_posting(t),
                    Some(Value::Array(ts)) => ts.iter().any(|t| t.as_str().is_some_and(is_posting)),
                    _ => false,
                };
                out.push((posting, date));
            }
            map.values().for_each(|i| collect_dates(i, out));
        }
        _ => {}
    }
}

/// Whether a schema.org type is an article or a posting (`BlogPosting`, `NewsArticle`, …).
fn is_posting(t: &str) -> bool {
    t.contains("Article") || t.contains("Posting")
}

/// The first parseable date of `selectors`' elements outside chrome, selector by selector:
/// `datetime`, then `content`, then the text.
fn dated_element(doc: &Html, selectors: &[Selector], tz: Tz) -> Option<DateTime<Utc>> {
    selectors.iter().find_map(|s| {
        doc.select(s)
            .take(MAX_CANDIDATES)
            .filter(|e| !in_chrome(*e))
            .find_map(|e| element_date(e, tz))
    })
}

/// The date an element gives: its `datetime`, `content`, or text.
fn element_date(e: ElementRef, tz: Tz) -> Option<DateTime<Utc>> {
    let v = e.value();
    v.attr("datetime")
        .or_else(|| v.attr("content"))
        .and_then(|t| parse_date(t, tz))
        .or_else(|| parse_date(&one_line(&e.text().collect::<String>()), tz))
}

/// The first `<time datetime>` outside chrome (sidebars list other posts' dates).
fn first_time(doc: &Html, tz: Tz) -> Option<DateTime<Utc>> {
    TIME.iter().find_map(|s| {
        doc.select(s)
            .take(MAX_CANDIDATES)
            .filter(|e| !in_chrome(*e))
            .find_map(|e| e.value().attr("datetime").and_then(|t| parse_date(t, tz)))
    })
}

/// Whether `e` sits where other posts' dates are: navigation, a sidebar, comments, related
/// posts (a post's own header and footer are fine).
fn in_chrome(e: ElementRef) -> bool {
    e.ancestors()
        .filter_map(ElementRef::wrap)
        .any(|a| lists_other_posts(a.value()))
}

/// Naver's post property block: `addDate` in milliseconds since the epoch.
fn naver_add_date(doc: &Html) -> Option<DateTime<Utc>> {
    let el = NAVER_PROPERTY.iter().find_map(|s| doc.select(s).next())?;
    let ms: i64 = el.value().attr("adddate")?.trim().parse().ok()?;
    DateTime::from_timestamp(ms.div_euclid(1000), 0)
}

/// Velog's `released_at` in the page's state script, as plain JSON (`"released_at": "…"`) or
/// inside a script string (`\"released_at\":\"…\"`).
fn velog_released_at(doc: &Html, tz: Tz) -> Option<DateTime<Utc>> {
    const KEY: &str = "released_at";
    SCRIPT
        .iter()
        .flat_map(|s| doc.select(s))
        .find_map(|script| {
            let text: String = script.text().collect();
            let rest = text.get(text.find(KEY)? + KEY.len()..)?;
            let value = rest.trim_start_matches(['"', '\\', ':', ' ']);
            let end = value.find(['"', '\\'])?;
            parse_date(value.get(..end)?, tz)
        })
}

/// Naver's frame page: the address of the post's view in `iframe#mainFrame`, resolved against
/// the page's address (http and https only).
pub fn follow(doc: &Html, page_url: &Url) -> Option<Url> {
    let frame = FRAME.iter().find_map(|s| doc.select(s).next())?;
    let url = page_url.join(frame.value().attr("src")?.trim()).ok()?;
    (matches!(url.scheme(), "http" | "https") && &url != page_url).then_some(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Asia::Seoul;

    fn date(html: &str) -> Option<String> {
        published(&Html::parse_document(html), Seoul).map(|d| d.to_rfc3339())
    }

    #[test]
    fn og_title_comes_before_the_document_title() {
        let doc = Html::parse_document(
            "<title> 제목 :: 블로그 </title><meta property='og:title' content='제목 &amp; 부제'>",
        );
        assert_eq!(title(&doc).as_deref(), Some("제목 & 부제"));
        let doc = Html::parse_document("<title>\n  여러 줄\n  제목\u{8} </title>");
        assert_eq!(title(&doc).as_deref(), Some("여러 줄 제목"));
        assert_eq!(title(&Html::parse_document("<p>없음</p>")), None);
    }

    #[test]
    fn the_meta_date_wins() {
        let html = "<meta property='article:published_time' content='2025-08-26T15:21:16+09:00'>\
                    <time datetime='2020-01-01'>";
        assert_eq!(date(html).as_deref(), Some("2025-08-26T06:21:16+00:00"));
    }

    #[test]
    fn json_ld_dates_are_read_in_graphs_and_prefer_postings() {
        let html = r#"<script type="application/ld+json">{"@graph":[
            {"@type":"WebSite","datePublished":"2019-01-01"},
            {"@type":["BlogPosting"],"datePublished":"2024-03-05T10:00:00"}]}</script>"#;
        assert_eq!(date(html).as_deref(), Some("2024-03-05T01:00:00+00:00"));
        assert_eq!(
            date(r#"<script type="application/ld+json">[{"datePublished":"2024-03-05"}]</script>"#)
                .as_deref(),
            Some("2024-03-04T15:00:00+00:00")
        );
    }

    #[test]
    fn platform_date_lines_are_read() {
        let naver = "<div id='_post_property' addDate='1756172755336'></div>";
        assert_eq!(date(naver).as_deref(), Some("2025-08-26T01:45:55+00:00"));
        let naver_pc = "<span class='se_publishDate pcol2'>2025. 8. 26. 10:45</span>";
        assert_eq!(date(naver_pc).as_deref(), Some("2025-08-26T01:45:00+00:00"));
        let velog = r#"<script>window.__APOLLO_STATE__={"released_at":"2024-01-05T05:44:00.000Z"}</script>"#;
        assert_eq!(date(velog).as_deref(), Some("2024-01-05T05:44:00+00:00"));
        let escaped = r#"<script>self.__next_f.push([1,"{"released_at":"2024-01-05T05:44:00.000Z"}"])</script>"#;
        assert_eq!(date(escaped).as_deref(), Some("2024-01-05T05:44:00+00:00"));
        let relative = "<p class='blog_date'>4시간 전</p>";
        assert_eq!(date(relative), None);
    }

    #[test]
    fn times_in_sidebars_are_not_the_posts_date() {
        let html = "<aside><time datetime='2020-01-01'>1월 1일</time></aside>\
                    <div class='post'><time datetime='2024-02-03T04:05:06Z'>2월</time></div>";
        assert_eq!(date(html).as_deref(), Some("2024-02-03T04:05:06+00:00"));
    }

    #[test]
    fn the_naver_frame_is_followed() {
        let page = Url::parse("https://blog.naver.com/mike3dk/223983671419").unwrap();
        let doc = Html::parse_document(
            "<iframe id='mainFrame' src='/PostView.naver?blogId=mike3dk&amp;logNo=223983671419'></iframe>",
        );
        assert_eq!(
            follow(&doc, &page).unwrap().as_str(),
            "https://blog.naver.com/PostView.naver?blogId=mike3dk&logNo=223983671419"
        );
        let js = Html::parse_document("<iframe id='mainFrame' src='javascript:void(0)'></iframe>");
        assert_eq!(follow(&js, &page), None);
    }
}
