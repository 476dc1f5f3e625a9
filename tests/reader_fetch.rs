//! The reader stage of `fetch`, through the real binary against real HTTP servers on loopback:
//! a summary-only feed's post measured from its page (Tistory's short description checked
//! against the page, Naver's frame followed), each page fetched once across runs and again only
//! when the feed says the post changed (with its validator), and a page that cannot be read
//! leaving the length unknown without failing the feed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod support;

use common::{run, text};
use support::{Reply, TestServer};

const NOW: &str = "2024-11-20T12:00:00+09:00";

fn page(name: &str) -> Reply {
    let html = std::fs::read(common::repo().join("fixtures/pages").join(name)).unwrap();
    Reply::status(200)
        .header("Content-Type", "text/html; charset=utf-8")
        .header("ETag", "\"v1\"")
        .body(html)
}

/// An RSS feed of one post whose description is only a summary.
fn rss(generator: &str, link: &str, updated: Option<&str>) -> Reply {
    let updated = updated
        .map(|u| {
            format!("<atom:updated xmlns:atom=\"http://www.w3.org/2005/Atom\">{u}</atom:updated>")
        })
        .unwrap_or_default();
    Reply::ok(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>블로그</title>\
         <link>{link}</link><description>d</description><generator>{generator}</generator>\
         <item><title>글</title><link>{link}</link><guid>{link}</guid>\
         <pubDate>Mon, 18 Nov 2024 10:00:00 +0900</pubDate>{updated}\
         <description><![CDATA[<p>요약만 있는 짧은 글입니다.</p>]]></description></item></channel></rss>\n"
    ))
}

/// A club of one member `m` whose feed is `feed`, reading pages; posts count from 500
/// characters (the fixture articles are 800–1000 long, their feeds' summaries 14).
fn club(dir: &std::path::Path, feed: &str) -> std::path::PathBuf {
    let path = dir.join("feeds.toml");
    std::fs::write(
        &path,
        format!(
            "[club]\nname = \"글또\"\nurl = \"https://geultto.github.io/\"\n\
             [rounds]\nstart = \"2024-09-29\"\ndue = [\"2024-10-13\", \"2024-10-27\", \"2024-11-10\", \"2024-11-24\"]\nmin_chars = 500\n\
             [fetch]\nallow_private_addresses = true\ntimeout = \"3s\"\n\
             [output]\nfeed_url = \"https://geultto.github.io/agg/atom.xml\"\n\
             [reader]\npages = true\nmax_pages = 10\n\
             [[members]]\nid = \"m\"\nname = \"엠\"\nteam = \"t\"\nfeeds = [\"{feed}\"]\n"
        ),
    )
    .unwrap();
    path
}

fn round_4(config: &std::path::Path, now: &str) -> serde_json::Value {
    let out = run(config, now, &["report", "--round", "4", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["members"][0]["rounds"][0].clone()
}

#[test]
fn a_short_tistory_description_is_checked_against_the_page_and_read_once() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s = rt.block_on(TestServer::start("127.0.0.71"));
    let post = s.url("/42");
    s.route_seq("/42", vec![page("tistory.html"), Reply::status(304)]);
    s.route_seq(
        "/rss",
        vec![
            rss("TISTORY", &post, None),
            rss("TISTORY", &post, Some("2024-11-19T09:00:00+09:00")),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let config = club(dir.path(), &s.url("/rss"));
    // The description (14 characters) alone would make the post short.
    let out = run(&config, NOW, &["fetch"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("post pages: 1 read, 1 measured"),
        "{}",
        text(&out)
    );
    let r = round_4(&config, NOW);
    assert_eq!(r["status"], "submitted", "{r}");
    assert_eq!(
        r["posts"][0]["chars"], 980,
        "the article, not the page: {r}"
    );
    assert_eq!(r["posts"][0]["chars_source"], "page");
    assert!(r["flags"].to_string().contains("length-from-page"), "{r}");
    assert_eq!(s.hits("/42"), 1);
    // The feed now says the post was updated: the page is asked again, with its validator, and
    // the 304 keeps what was read.
    let later = "2024-11-20T13:00:00+09:00";
    let out = run(&config, later, &["fetch"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(s.hits("/42"), 2);
    let asked = s
        .requests()
        .into_iter()
        .filter(|r| r.path == "/42")
        .nth(1)
        .unwrap();
    assert_eq!(
        asked.headers.get("if-none-match").map(String::as_str),
        Some("\"v1\"")
    );
    assert_eq!(round_4(&config, later)["posts"][0]["chars"], 980);
    // Nothing changed since: no page is fetched again.
    let out = run(&config, "2024-11-20T14:00:00+09:00", &["fetch"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        s.hits("/42"),
        2,
        "each page once, again only when the post changed"
    );
    drop(rt);
}

#[test]
fn a_naver_post_is_measured_through_its_frame_and_an_unreadable_page_leaves_it_unknown() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s = rt.block_on(TestServer::start("127.0.0.72"));
    let post = s.url("/dongwoo/223400000001");
    s.route("/dongwoo/223400000001", page("naver_frame.html"));
    s.route(
        "/PostView.naver?blogId=dongwoo&logNo=223400000001&redirect=Dlog&widgetTypeCall=true&directAccess=false",
        page("naver_se3.html"),
    );
    s.route("/rss", rss("Naver Blog", &post, None));
    let broken = s.url("/gone");
    s.route("/gone", Reply::status(404));
    s.route("/broken-rss", rss("Naver Blog", &broken, None));
    let dir = tempfile::tempdir().unwrap();
    let config = club(dir.path(), &s.url("/rss"));
    let out = run(&config, NOW, &["fetch"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let r = round_4(&config, NOW);
    assert_eq!(r["posts"][0]["chars"], 837, "{r}");
    assert_eq!(r["posts"][0]["chars_source"], "page");
    // A page that answers 404: the feed is fine, the post counts with its length unknown.
    let dir = tempfile::tempdir().unwrap();
    let config = club(dir.path(), &s.url("/broken-rss"));
    let out = run(&config, NOW, &["fetch", "--fail-on-feed-errors"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "the feed did not fail: {}",
        text(&out)
    );
    assert!(text(&out).contains("1 unreadable"), "{}", text(&out));
    let r = round_4(&config, NOW);
    assert_eq!(r["status"], "submitted");
    assert_eq!(r["posts"][0]["chars"], serde_json::Value::Null);
    assert!(r["flags"].to_string().contains("length-unknown"), "{r}");
    let out = run(&config, NOW, &["inspect", &broken]);
    assert!(
        text(&out).contains("404"),
        "inspect says why: {}",
        text(&out)
    );
    // A Tistory description under min_chars whose page cannot be read is never short on its
    // own: the post counts, its length unknown.
    s.route("/tistory-rss", rss("TISTORY", &broken, None));
    let dir = tempfile::tempdir().unwrap();
    let config = club(dir.path(), &s.url("/tistory-rss"));
    assert!(run(&config, NOW, &["fetch", "-q"]).status.success());
    let r = round_4(&config, NOW);
    assert_eq!(r["status"], "submitted", "{r}");
    assert!(r["flags"].to_string().contains("length-unknown"), "{r}");
    drop(rt);
}

/// A post as the store keeps it: link, title, chars, chars_source, published.
type StoredRow = (String, String, Option<i64>, Option<String>, Option<i64>);

/// A blog with only a sitemap: its posts' titles, dates and lengths come from their pages.
#[test]
fn a_sitemaps_posts_take_their_title_date_and_length_from_their_pages() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s = rt.block_on(TestServer::start("127.0.0.73"));
    let root = s.url("/");
    s.route(
        "/sitemap.xml",
        Reply::ok(format!(
            "<?xml version=\"1.0\"?><urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\
             <url><loc>{root}</loc></url>\
             <url><loc>{root}posts/k8s-probes</loc><lastmod>2024-11-19</lastmod></url>\
             <url><loc>{root}tags/k8s</loc></url></urlset>"
        )),
    );
    s.route("/posts/k8s-probes", page("hugo.html"));
    let dir = tempfile::tempdir().unwrap();
    let config = club(dir.path(), &s.url("/sitemap.xml"));
    let out = run(&config, NOW, &["fetch"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let db = rusqlite::Connection::open(dir.path().join("geultto-agg.db")).unwrap();
    let posts: Vec<StoredRow> = db
        .prepare("SELECT link, title, chars, chars_source, published FROM posts")
        .unwrap()
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        posts.len(),
        1,
        "only the post, not the homepage or the tag: {posts:?}"
    );
    let (link, title, chars, source, published) = &posts[0];
    assert_eq!(link, &format!("{root}posts/k8s-probes"));
    assert_eq!(
        title,
        "Kubernetes liveness와 readiness probe, 헷갈리지 않게 쓰기"
    );
    assert_eq!((*chars, source.as_deref()), (Some(879), Some("page")));
    // The page's date (2024-01-02 10:00 KST), not the sitemap's lastmod.
    assert_eq!(*published, Some(1_704_157_200));
    let atom = std::fs::read_to_string(dir.path().join("public/atom.xml")).unwrap();
    assert!(atom.contains("헷갈리지 않게 쓰기</title>"), "{atom}");
    assert_eq!(s.hits("/tags/k8s"), 0, "a tag page is not a post");
    drop(rt);
}

/// `submit` takes the title and date from the page when they are not given.
#[test]
fn submit_reads_the_title_and_date_from_the_page() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s = rt.block_on(TestServer::start("127.0.0.74"));
    s.route("/@hnote/154", page("brunch.html"));
    s.route("/rss", rss("TISTORY", &s.url("/1"), None));
    let dir = tempfile::tempdir().unwrap();
    let config = club(dir.path(), &s.url("/rss"));
    let url = s.url("/@hnote/154");
    let out = run(&config, NOW, &["submit", "m", &url]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("chars:    797 (rule brunch)"),
        "{}",
        text(&out)
    );
    let roster = std::fs::read_to_string(&config).unwrap();
    assert!(
        roster.contains("title = \"개발자가 2주에 한 번 글을 쓰면 생기는 일\""),
        "{roster}"
    );
    assert!(
        roster.contains(&format!("url = \"{url}\", date = \"20")),
        "{roster}"
    );
    drop(rt);
}

/// At most `[reader] max_pages` pages a run; the rest wait for the next run.
#[test]
fn max_pages_leaves_the_rest_for_the_next_run() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s = rt.block_on(TestServer::start("127.0.0.75"));
    let (a, b) = (s.url("/a"), s.url("/b"));
    s.route("/a", page("hugo.html"));
    s.route("/b", page("jekyll.html"));
    s.route(
        "/rss",
        Reply::ok(format!(
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title><link>{a}</link>\
             <description>d</description>\
             <item><title>가</title><link>{a}</link><guid>{a}</guid><pubDate>Mon, 18 Nov 2024 10:00:00 +0900</pubDate><description>요약</description></item>\
             <item><title>나</title><link>{b}</link><guid>{b}</guid><pubDate>Tue, 19 Nov 2024 10:00:00 +0900</pubDate><description>요약</description></item>\
             </channel></rss>"
        )),
    );
    let dir = tempfile::tempdir().unwrap();
    let config = club(dir.path(), &s.url("/rss"));
    let text_ = std::fs::read_to_string(&config)
        .unwrap()
        .replace("max_pages = 10", "max_pages = 1");
    std::fs::write(&config, text_).unwrap();
    let out = run(&config, NOW, &["fetch"]);
    assert!(
        text(&out).contains("1 left for the next run"),
        "{}",
        text(&out)
    );
    assert_eq!(
        (s.hits("/a"), s.hits("/b")),
        (0, 1),
        "the newest post first"
    );
    let out = run(&config, "2024-11-20T13:00:00+09:00", &["fetch"]);
    assert!(out.status.success());
    assert_eq!((s.hits("/a"), s.hits("/b")), (1, 1));
    drop(rt);
}
