//! Feed discovery against real HTTP servers on loopback, serving synthetic pages shaped like the
//! platforms' real ones (see ../shared/corpus for the originals: unquoted minified attributes,
//! several alternates, hreflang page alternates, comment feeds, no autodiscovery on Naver's
//! mobile pages). Platform hosts (velog.io, m.blog.naver.com, brunch.co.kr, …) are stood in for
//! by a local server through `FetchSettings::rewrites`, so the feed URLs reported are the real
//! ones while no request leaves the machine. Then `discover` through the real binary: the JSON
//! shape, `--offline`, and automatic discovery in `fetch`, cached in the store.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod support;

use std::time::Duration;

use geultto_agg::discover::{self, Discovery};
use geultto_agg::fetch::{FetchSettings, Session};
use support::{Reply, TestServer};

const TZ: chrono_tz::Tz = chrono_tz::Asia::Seoul;

fn settings(rewrites: &[(&str, String)]) -> FetchSettings {
    FetchSettings {
        timeout: Duration::from_secs(3),
        connect_timeout: Duration::from_secs(1),
        allow_private_addresses: true,
        retries: 0,
        rewrites: rewrites
            .iter()
            .map(|(from, to)| (from.to_string(), to.clone()))
            .collect(),
        ..FetchSettings::default()
    }
}

fn rss(title: &str) -> String {
    common::rss(
        title,
        "https://blog.example/",
        &[(
            "https://blog.example/1",
            "첫 글",
            "https://blog.example/1",
            "Mon, 18 Nov 2024 10:00:00 +0900",
            "<p>본문</p>",
        )],
    )
}

fn atom(title: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>{title}</title><id>urn:x</id><updated>2024-11-18T10:00:00+09:00</updated><entry><title>글</title><id>urn:x:1</id><link href="https://blog.example/1"/><updated>2024-11-18T10:00:00+09:00</updated></entry></feed>"#
    )
}

fn html(body: &str) -> Reply {
    Reply::status(200)
        .header("Content-Type", "text/html; charset=utf-8")
        .body(body.to_string())
}

fn feed_reply(body: String) -> Reply {
    Reply::ok(body)
}

async fn run(settings: &FetchSettings, input: &str) -> Discovery {
    discover::discover(&Session::new(settings), TZ, input).await
}

fn urls(d: &Discovery) -> Vec<(&str, &str, bool)> {
    d.feeds
        .iter()
        .map(|f| (f.url.as_str(), f.rule.as_str(), f.verified))
        .collect()
}

#[tokio::test]
async fn tistory_by_address_and_on_its_own_domain() {
    let s = TestServer::start("127.0.0.20").await;
    s.route("/rss", feed_reply(rss("하브와의 블로그")));
    let cfg = settings(&[("https://habwa.tistory.com", s.url(""))]);
    let d = run(
        &cfg,
        "https://habwa.tistory.com/entry/%EB%81%9D%EB%A7%BA%EC%9D%8C",
    )
    .await;
    assert_eq!(d.platform, "tistory");
    assert_eq!(
        urls(&d),
        [("https://habwa.tistory.com/rss", "tistory", true)]
    );
    assert_eq!(d.feeds[0].format.as_deref(), Some("rss2"));
    assert_eq!(d.feeds[0].title.as_deref(), Some("하브와의 블로그"));
    assert_eq!(
        s.total_hits(),
        1,
        "the address names the feed: no page read"
    );

    // A Tistory blog on its own domain: recognised by its markup, feed at /rss.
    let own = TestServer::start("127.0.0.21").await;
    let page = format!(
        r#"<!doctype html><html lang="ko"><head>
<link href="https://tistory1.daumcdn.net/tistory_admin/userblog/userblog-39ee/static/plugin/BusinessLicenseInfo/style.css" rel="stylesheet" type="text/css"/>
<meta name="google-adsense-platform-domain" content="tistory.com"/>
<meta property="og:url" content="{root}65"/>
<link rel="stylesheet" type="text/css" href="https://t1.daumcdn.net/tistory_admin/www/style/font.css"/>
<link rel="canonical" href="{root}65"/>
</head><body><div class="entry-content"><p>글</p></div></body></html>"#,
        root = own.url("/")
    );
    own.route("/65", html(&page));
    own.route("/rss", feed_reply(rss("개인 도메인 티스토리")));
    let d = run(&settings(&[]), &own.url("/65")).await;
    assert_eq!(d.platform, "tistory");
    assert_eq!(urls(&d), [(own.url("/rss").as_str(), "tistory", true)]);
}

#[tokio::test]
async fn velog_post_to_the_v2_feed() {
    let s = TestServer::start("127.0.0.22").await;
    s.route("/rss/wisepine", feed_reply(rss("wisepine.log")));
    let cfg = settings(&[
        ("https://velog.io", s.url("")),
        ("https://v2.velog.io", s.url("")),
    ]);
    let d = run(
        &cfg,
        "https://velog.io/@wisepine/JPA-%EC%82%AC%EC%9A%A9-%EC%8B%9C-19%EA%B0%80%EC%A7%80-Tip",
    )
    .await;
    assert_eq!(d.platform, "velog");
    assert_eq!(
        urls(&d),
        [("https://v2.velog.io/rss/wisepine", "velog", true)]
    );
    assert_eq!(d.error, None);
}

#[tokio::test]
async fn naver_desktop_mobile_postview_and_a_short_link_to_a_mobile_page() {
    let s = TestServer::start("127.0.0.23").await;
    s.route("/mike3dk.xml", feed_reply(rss("마사장의 블로그")));
    // A mobile post page as Naver serves it: no <link rel="alternate"> at all, the blog named
    // only in og:url and in scripts.
    let mobile = r#"<!doctype html>
<html lang="ko">
<head prefix="og: http://ogp.me/ns# article: http://ogp.me/ns/article#">
<meta http-equiv="Content-type" content="text/html; charset=utf-8">
<link rel="icon" type="image/png" href="/blog_192x192.png">
<link rel="stylesheet" type="text/css" href="https://ssl.pstatic.net/t.static.blog/nmobile/versioning/lego_w-1_https.css" charset="UTF-8" />
		<meta property="og:title" content="미슐랭 레스토랑이 많은 도시"/>
			<meta property="og:url" content="https://blog.naver.com/mike3dk/223983671419"/>
<meta property="me:feed:serviceId" content="blog" />
<meta property="naverblog:nickname" content="mike3dk" />
<script>var blogId = 'mike3dk';</script>
</head><body></body></html>"#;
    s.route("/mike3dk/223983671419", html(mobile));
    s.route(
        "/AbCdEf",
        Reply::redirect(302, "https://m.blog.naver.com/mike3dk/223983671419"),
    );
    let cfg = settings(&[
        ("https://rss.blog.naver.com", s.url("")),
        ("https://m.blog.naver.com", s.url("")),
        ("https://naver.me", s.url("")),
    ]);
    for input in [
        "https://blog.naver.com/mike3dk",
        "https://m.blog.naver.com/mike3dk/223983671419",
        "https://blog.naver.com/PostView.naver?blogId=mike3dk&logNo=223983671419",
        "https://naver.me/AbCdEf",
    ] {
        let d = run(&cfg, input).await;
        assert_eq!(d.platform, "naver", "{input}");
        assert_eq!(
            urls(&d),
            [("https://rss.blog.naver.com/mike3dk.xml", "naver", true)],
            "{input}"
        );
    }
    assert_eq!(
        s.hits("/mike3dk/223983671419"),
        1,
        "only the short link needed the page"
    );
}

#[tokio::test]
async fn medium_user_publication_subdomain_and_custom_domain() {
    let s = TestServer::start("127.0.0.24").await;
    s.route("/feed/@Jager-yoo", feed_reply(rss("Jager on Medium")));
    s.route("/feed/daangn", feed_reply(rss("당근 테크 블로그")));
    s.route("/feed", feed_reply(rss("sigridjin")));
    let cfg = settings(&[
        ("https://medium.com", s.url("")),
        ("https://sigridjin.medium.com", s.url("")),
    ]);
    for (input, feed) in [
        ("https://medium.com/@Jager-yoo/how-to-make-simple-watchos-complications-df236940c4d0", "https://medium.com/feed/@Jager-yoo"),
        ("https://medium.com/daangn/%EB%A7%A4%EC%9D%BC-%EB%B0%B0%ED%8F%AC", "https://medium.com/feed/daangn"),
        ("https://sigridjin.medium.com/understanding-andre-karpathys-tokenizer-lecture-7e8c05171d6d", "https://sigridjin.medium.com/feed"),
    ] {
        let d = run(&cfg, input).await;
        assert_eq!(d.platform, "medium", "{input}");
        assert_eq!(urls(&d), [(feed, "medium", true)], "{input}");
    }
    // A Medium custom domain: recognised by the app meta tags, feed at /feed.
    let own = TestServer::start("127.0.0.25").await;
    own.route(
        "/some-post-abc123",
        html(r#"<html><head><meta data-rh="true" property="al:android:package" content="com.medium.reader"/><meta data-rh="true" name="twitter:app:name:iphone" content="Medium"/><link data-rh="true" id="feedLink" rel="alternate" type="application/rss+xml" title="RSS" href="https://medium.com/feed/eng"/></head><body></body></html>"#),
    );
    own.route("/feed", feed_reply(rss("Engineering")));
    let d = run(&settings(&[]), &own.url("/some-post-abc123")).await;
    assert_eq!(d.platform, "medium");
    assert_eq!(d.feeds[0].url, own.url("/feed"));
    assert_eq!(d.feeds[0].rule, "medium");
    assert!(d.feeds[0].verified);
}

#[tokio::test]
async fn brunch_feed_comes_from_the_author_page() {
    let s = TestServer::start("127.0.0.26").await;
    s.route(
        "/@hnote",
        html(r#"<!DOCTYPE html><html lang="ko"><head><meta charset="utf-8"><title>hnote의 브런치스토리</title>
<link rel="alternate" type="application/rss+xml" title="hnote rss" href="https://brunch.co.kr/rss/@@4Xyz">
<meta property="og:url" content="https://brunch.co.kr/@hnote"></head><body></body></html>"#),
    );
    s.route("/rss/@@4Xyz", feed_reply(rss("hnote의 브런치스토리")));
    let cfg = settings(&[("https://brunch.co.kr", s.url(""))]);
    let d = run(&cfg, "https://brunch.co.kr/@hnote/154").await;
    assert_eq!(d.platform, "brunch");
    assert_eq!(
        urls(&d),
        [("https://brunch.co.kr/rss/@@4Xyz", "brunch", true)]
    );
    assert_eq!(s.hits("/@hnote"), 1);
    assert_eq!(s.hits("/@hnote/154"), 0, "the author page, not the post");
}

#[tokio::test]
async fn github_pages_jekyll_feed_and_a_project_site() {
    let s = TestServer::start("127.0.0.27").await;
    // A user site with jekyll-feed's tag (type before rel, as feed_meta writes it).
    s.route(
        "/2024/11/18/post.html",
        html(r#"<!DOCTYPE html><html lang="en"><head><meta name="generator" content="Jekyll v4.3.2" />
<link rel="canonical" href="https://someone.github.io/2024/11/18/post.html" />
<link type="application/atom+xml" rel="alternate" href="https://someone.github.io/feed.xml" title="someone's blog" /></head><body></body></html>"#),
    );
    s.route("/feed.xml", feed_reply(atom("someone's blog")));
    let cfg = settings(&[("https://someone.github.io", s.url(""))]);
    let d = run(&cfg, "https://someone.github.io/2024/11/18/post.html").await;
    assert_eq!(d.platform, "jekyll");
    assert_eq!(
        urls(&d),
        [("https://someone.github.io/feed.xml", "link-alternate", true)]
    );
    assert_eq!(d.feeds[0].format.as_deref(), Some("atom"));

    // A project site (`/blog/`) whose theme leaves out the feed tag: the generator's default
    // path on the project's root.
    let p = TestServer::start("127.0.0.28").await;
    let page = r#"<html><head><meta name="generator" content="Jekyll v3.9.3"></head><body>글</body></html>"#;
    p.route("/blog/2024/post/", html(page));
    p.route("/blog/feed.xml", feed_reply(atom("project blog")));
    let cfg = settings(&[("https://other.github.io", p.url(""))]);
    let d = run(&cfg, "https://other.github.io/blog/2024/post/").await;
    assert_eq!(d.platform, "jekyll");
    assert_eq!(
        urls(&d),
        [("https://other.github.io/blog/feed.xml", "jekyll", true)]
    );
}

#[tokio::test]
async fn hugo_minified_unquoted_head() {
    let s = TestServer::start("127.0.0.29").await;
    let head = "<!doctype html><html lang=ko><head><meta charset=utf-8><meta name=generator content=\"Hugo 0.147.9\">\
<link rel=\"shortcut icon\" type=image/x-icon href=/favicon.ico><link rel=icon type=image/png sizes=32x32 href=/favicon-32x32.png>\
<link rel=manifest href=/site.webmanifest><link rel=canonical href=https://taehun.example/>\
<link rel=alternate href=/index.xml type=application/rss+xml title><link rel=feed href=/index.xml type=application/rss+xml title>\
<link rel=stylesheet href=/css/style.min.css><link rel=preload href=/css/all.min.css as=style onload='this.onload=null,this.rel=\"stylesheet\"'>\
</head><body></body></html>";
    s.route("/posts/first/", html(head));
    s.route("/index.xml", feed_reply(rss("태훈의 블로그")));
    let d = run(&settings(&[]), &s.url("/posts/first/")).await;
    assert_eq!(d.platform, "hugo");
    assert_eq!(
        urls(&d),
        [(s.url("/index.xml").as_str(), "link-alternate", true)]
    );

    // Without the link, the generator's default path.
    let bare = TestServer::start("127.0.0.30").await;
    bare.route(
        "/",
        html("<html><head><meta name=generator content=\"Hugo 0.120\"></head></html>"),
    );
    bare.route("/index.xml", feed_reply(rss("bare hugo")));
    let d = run(&settings(&[]), &bare.url("/")).await;
    assert_eq!(urls(&d), [(bare.url("/index.xml").as_str(), "hugo", true)]);
}

#[tokio::test]
async fn wordpress_comment_feeds_and_oembed_are_left_out() {
    let s = TestServer::start("127.0.0.31").await;
    let root = s.url("/");
    let page = format!(
        r#"<!DOCTYPE html><html lang="ko-KR"><head><meta name="generator" content="WordPress 6.6.2" />
<link rel="alternate" type="application/rss+xml" title="마사장의 웹사이트 &raquo; 미슐랭 레스토랑이 많은&nbsp;도시 Comments Feed" href="{root}2025/08/25/cities/feed/" />
<link rel="alternate" type="application/rss+xml" title="마사장의 웹사이트 &raquo; Feed" href="{root}feed/" />
<link rel="alternate" type="application/rss+xml" title="마사장의 웹사이트 &raquo; Comments Feed" href="{root}comments/feed/" />
<link rel="alternate" type="application/json+oembed" href="{root}oembed/?format=json" />
<link rel="alternate" type="application/xml+oembed" href="{root}oembed/?format=xml" />
<link rel="alternate" title="JSON" type="application/json" href="{root}wp-json/wp/v2/posts/7" />
</head><body></body></html>"#
    );
    s.route("/2025/08/25/cities/", html(&page));
    s.route("/feed/", feed_reply(rss("마사장의 웹사이트")));
    let d = run(&settings(&[]), &s.url("/2025/08/25/cities/")).await;
    assert_eq!(d.platform, "wordpress");
    assert_eq!(
        urls(&d),
        [(s.url("/feed/").as_str(), "link-alternate", true)]
    );
    assert_eq!(s.hits("/comments/feed/"), 0);
    assert_eq!(s.hits("/2025/08/25/cities/feed/"), 0);
}

#[tokio::test]
async fn ghost_substack_and_hexo_by_their_markup() {
    let s = TestServer::start("127.0.0.32").await;
    s.route(
        "/ghost-post/",
        html(r#"<html><head><meta name="generator" content="Ghost 5.80"></head></html>"#),
    );
    s.route("/rss/", feed_reply(rss("ghost blog")));
    let d = run(&settings(&[]), &s.url("/ghost-post/")).await;
    assert_eq!(
        (d.platform.as_str(), urls(&d)),
        ("ghost", vec![(s.url("/rss/").as_str(), "ghost", true)])
    );

    let sub = TestServer::start("127.0.0.33").await;
    sub.route(
        "/p/hello",
        html(r#"<html><head><link rel="preconnect" href="https://substackcdn.com"><script src="https://substackcdn.com/bundle/main.js"></script></head></html>"#),
    );
    sub.route("/feed", feed_reply(rss("a newsletter")));
    let d = run(&settings(&[]), &sub.url("/p/hello")).await;
    assert_eq!(
        (d.platform.as_str(), urls(&d)),
        (
            "substack",
            vec![(sub.url("/feed").as_str(), "substack", true)]
        )
    );

    // Hexo: an Atom feed named rss.xml, linked with its real type.
    let hexo = TestServer::start("127.0.0.34").await;
    hexo.route(
        "/",
        html(&format!(
            r#"<html><head><meta name="generator" content="Hexo 5.4.0"><link rel="canonical" href="{0}"><link rel="alternate" href="{0}rss.xml" title="Mike Kim 개발 블로그" type="application/atom+xml"></head></html>"#,
            hexo.url("/")
        )),
    );
    hexo.route("/rss.xml", feed_reply(atom("Mike Kim 개발 블로그")));
    let d = run(&settings(&[]), &hexo.url("/")).await;
    assert_eq!(d.platform, "hexo");
    assert_eq!(
        urls(&d),
        [(hexo.url("/rss.xml").as_str(), "link-alternate", true)]
    );
    assert_eq!(d.feeds[0].format.as_deref(), Some("atom"));
    assert_eq!(d.feeds[0].title.as_deref(), Some("Mike Kim 개발 블로그"));
}

#[tokio::test]
async fn several_alternates_hreflang_and_base() {
    let s = TestServer::start("127.0.0.35").await;
    // Docusaurus-like: three hreflang page alternates, then five feeds; the blog's first.
    let page = r#"<!doctype html><html lang="ko-KR"><head><meta name="generator" content="Docusaurus v3.9.2">
<link data-rh="true" rel="alternate" href="https://teddy.example/" hreflang="ko-KR">
<link data-rh="true" rel="alternate" href="https://teddy.example/en/" hreflang="en">
<link data-rh="true" rel="alternate" href="https://teddy.example/" hreflang="x-default">
<link rel="alternate" type="application/rss+xml" href="/blog/rss.xml" title="Teddy RSS Feed">
<link rel="alternate" type="application/atom+xml" href="/blog/atom.xml" title="Teddy Atom Feed">
<link rel="search" type="application/opensearchdescription+xml" title="Teddy" href="/opensearch.xml">
<link rel="alternate" type="application/rss+xml" href="/projects/rss.xml" title="Teddy Projects RSS Feed">
<link rel="alternate" type="application/json" href="/projects/feed.json" title="Teddy Projects JSON Feed">
</head><body></body></html>"#;
    s.route("/", html(page));
    s.route("/blog/rss.xml", feed_reply(rss("Teddy Blog")));
    s.route("/blog/atom.xml", feed_reply(atom("Teddy Blog")));
    s.route("/projects/rss.xml", feed_reply(rss("Teddy Projects")));
    s.route(
        "/projects/feed.json",
        Reply::ok(r#"{"version":"https://jsonfeed.org/version/1.1","title":"Teddy Projects","items":[{"id":"1","url":"https://teddy.example/p/1","content_text":"x"}]}"#)
            .header("Content-Type", "application/json"),
    );
    let d = run(&settings(&[]), &s.url("/")).await;
    assert_eq!(d.platform, "docusaurus");
    let got: Vec<&str> = d.feeds.iter().map(|f| f.url.as_str()).collect();
    assert_eq!(
        got,
        [
            s.url("/blog/rss.xml"),
            s.url("/blog/atom.xml"),
            s.url("/projects/rss.xml"),
            s.url("/projects/feed.json")
        ]
    );
    assert!(d
        .feeds
        .iter()
        .all(|f| f.verified && f.rule == "link-alternate"));
    let formats: Vec<&str> = d.feeds.iter().filter_map(|f| f.format.as_deref()).collect();
    assert_eq!(formats, ["rss2", "atom", "rss2", "json"]);
    assert_eq!(d.main_feed().unwrap().url, s.url("/blog/rss.xml"));
    assert_eq!(
        s.hits("/en/"),
        0,
        "hreflang alternates are pages, not feeds"
    );

    // <base href> moves where relative feed links point.
    let b = TestServer::start("127.0.0.36").await;
    b.route(
        "/post/1",
        html(r#"<html><head><base href="/site/"><link rel="alternate" type="application/atom+xml" href="atom.xml"></head></html>"#),
    );
    b.route("/site/atom.xml", feed_reply(atom("based")));
    let d = run(&settings(&[]), &b.url("/post/1")).await;
    assert_eq!(
        urls(&d),
        [(b.url("/site/atom.xml").as_str(), "link-alternate", true)]
    );
}

#[tokio::test]
async fn probes_accept_only_what_parses() {
    let s = TestServer::start("127.0.0.37").await;
    s.route(
        "/posts/hello",
        html("<html><head><title>글</title></head><body>no feed links</body></html>"),
    );
    s.route(
        "/",
        html("<html><head><title>home</title></head><body></body></html>"),
    );
    // A soft 404: 200 with an HTML page.
    s.route(
        "/feed.xml",
        html("<!doctype html><html><body>Not found</body></html>"),
    );
    s.route("/rss.xml", feed_reply(rss("found by probing")));
    let d = run(&settings(&[]), &s.url("/posts/hello")).await;
    assert_eq!(urls(&d), [(s.url("/rss.xml").as_str(), "probe", true)]);
    assert_eq!(s.hits("/feed.xml"), 1);
    assert_eq!(s.hits("/atom.xml"), 1);
    assert_eq!(s.hits("/index.xml"), 0, "probing stops at the first feed");
    assert_eq!(s.hits("/"), 1, "the homepage was read for a post URL");

    // Nothing anywhere: an error in plain words.
    let empty = TestServer::start("127.0.0.38").await;
    empty.route("/", html("<html></html>"));
    let d = run(&settings(&[]), &empty.url("/")).await;
    assert!(d.feeds.is_empty());
    assert!(
        d.error.as_deref().unwrap().starts_with("no feed found"),
        "{d:?}"
    );
}

#[tokio::test]
async fn a_feed_url_is_its_own_answer() {
    let s = TestServer::start("127.0.0.39").await;
    s.route("/atom.xml", feed_reply(atom("direct")));
    let d = run(&settings(&[]), &s.url("/atom.xml")).await;
    assert_eq!(urls(&d), [(s.url("/atom.xml").as_str(), "direct", true)]);
}

#[tokio::test]
async fn platform_rules_answer_unverified_when_the_network_is_away() {
    // A closed port stands for the network being away.
    let away = "http://127.0.0.1:9".to_string();
    let cfg = settings(&[
        ("https://velog.io", away.clone()),
        ("https://v2.velog.io", away.clone()),
        ("https://rss.blog.naver.com", away.clone()),
        ("https://blog.naver.com", away.clone()),
        ("https://x.example", away.clone()),
    ]);
    let d = run(&cfg, "https://velog.io/@kim/post").await;
    assert_eq!(urls(&d), [("https://v2.velog.io/rss/kim", "velog", false)]);
    assert!(d.feeds[0].note.as_deref().unwrap().contains("not verified"));
    assert_eq!(d.error, None);
    let d = run(&cfg, "https://blog.naver.com/mike3dk/1").await;
    assert_eq!(
        urls(&d),
        [("https://rss.blog.naver.com/mike3dk.xml", "naver", false)]
    );
    // A blog on its own domain needs its page: no answer without the network.
    let d = run(&cfg, "https://x.example/post").await;
    assert!(d.feeds.is_empty());
    assert!(
        d.error.as_deref().unwrap().contains("could not read"),
        "{d:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Blogs without a feed: the sitemap.

fn urlset(locs: &[&str]) -> String {
    let mut xml = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">"#,
    );
    for loc in locs {
        xml.push_str(&format!(
            "<url><loc>{loc}</loc><lastmod>2024-11-18</lastmod></url>"
        ));
    }
    xml.push_str("</urlset>");
    xml
}

fn sitemap_index(locs: &[&str]) -> String {
    let mut xml = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">"#,
    );
    for loc in locs {
        xml.push_str(&format!("<sitemap><loc>{loc}</loc></sitemap>"));
    }
    xml.push_str("</sitemapindex>");
    xml
}

fn xml(body: String) -> Reply {
    Reply::status(200)
        .header("Content-Type", "application/xml")
        .body(body)
}

fn text_plain(body: &str) -> Reply {
    Reply::status(200)
        .header("Content-Type", "text/plain")
        .body(body.to_string())
}

/// A Next.js page as Vercel serves it: no feed link, no generator the probes could use.
const NEXT_PAGE: &str = r#"<!DOCTYPE html><html lang="ko"><head><meta charSet="utf-8"/><meta name="viewport" content="width=device-width"/><title>snupi.log</title><link rel="preload" href="/_next/static/media/font.woff2" as="font" type="font/woff2" crossorigin="anonymous"/><link rel="stylesheet" href="/_next/static/css/app.css" data-precedence="next"/></head><body><div id="__next"></div><script src="/_next/static/chunks/main.js" async=""></script></body></html>"#;

#[tokio::test]
async fn robots_txt_names_a_sitemap_index_whose_second_sitemap_holds_the_posts() {
    let s = TestServer::start("127.0.0.43").await;
    s.route("/", html(NEXT_PAGE));
    s.route(
        "/robots.txt",
        text_plain("User-Agent: *\nAllow: /\n\nHost: https://snupi.vercel.app\nSitemap: https://snupi.vercel.app/sitemap-index.xml\n"),
    );
    s.route(
        "/sitemap-index.xml",
        xml(sitemap_index(&[
            "https://snupi.vercel.app/sitemap-0.xml",
            "https://snupi.vercel.app/sitemap-1.xml",
        ])),
    );
    // The first lists only the homepage and listings; the second the posts.
    s.route(
        "/sitemap-0.xml",
        xml(urlset(&[
            "https://snupi.vercel.app/",
            "https://snupi.vercel.app/posts",
            "https://snupi.vercel.app/posts/page/2",
            "https://snupi.vercel.app/tags/react",
        ])),
    );
    s.route(
        "/sitemap-1.xml",
        xml(urlset(&[
            "https://snupi.vercel.app/posts/react-query",
            "https://snupi.vercel.app/posts/next-app-router",
        ])),
    );
    let cfg = settings(&[("https://snupi.vercel.app", s.url(""))]);
    let d = run(&cfg, "https://snupi.vercel.app/").await;
    assert_eq!(d.platform, "vercel");
    assert_eq!(
        urls(&d),
        [(
            "https://snupi.vercel.app/sitemap-index.xml",
            "sitemap",
            true
        )]
    );
    assert_eq!(d.feeds[0].format.as_deref(), Some("sitemap-index"));
    assert_eq!(d.error, None);
    assert_eq!(d.main_feed(), None, "a sitemap is no feed to poll");
    assert_eq!(
        d.sitemap().map(|f| f.url.as_str()),
        Some("https://snupi.vercel.app/sitemap-index.xml")
    );
    // The feed steps came first and are unchanged: every probe was tried.
    for probe in discover::PROBES {
        assert_eq!(s.hits(&format!("/{probe}")), 1, "{probe}");
    }
    assert_eq!(s.hits("/robots.txt"), 1);
    assert_eq!(s.hits("/sitemap-0.xml"), 1);
    assert_eq!(s.hits("/sitemap-1.xml"), 1);
    assert_eq!(s.hits("/sitemap.xml"), 0, "robots.txt named the sitemap");
}

#[tokio::test]
async fn a_post_url_on_a_site_with_only_sitemap_xml() {
    let s = TestServer::start("127.0.0.44").await;
    s.route(
        "/blog/hello-world",
        html("<html><head><title>Hello</title></head><body>글</body></html>"),
    );
    s.route("/", html("<html><head><title>home</title></head></html>"));
    let root = s.url("/");
    s.route(
        "/sitemap.xml",
        xml(urlset(&[
            &root,
            &format!("{root}blog"),
            &format!("{root}blog/hello-world"),
            &format!("{root}tags/rust"),
        ])),
    );
    let d = run(&settings(&[]), &s.url("/blog/hello-world")).await;
    assert_eq!(
        urls(&d),
        [(s.url("/sitemap.xml").as_str(), "sitemap", true)]
    );
    assert_eq!(d.feeds[0].format.as_deref(), Some("sitemap"));
    assert_eq!(d.feeds[0].title, None);
    assert_eq!(d.error, None);
    assert_eq!(s.hits("/robots.txt"), 1);
    assert_eq!(s.hits("/sitemap-index.xml"), 0, "the first guess answered");
}

#[tokio::test]
async fn neither_feed_nor_sitemap_keeps_the_old_error() {
    let s = TestServer::start("127.0.0.45").await;
    s.route("/", html("<html><head><title>home</title></head></html>"));
    s.route("/robots.txt", text_plain("User-agent: *\nDisallow:\n"));
    // A soft 404: 200 with a page.
    s.route(
        "/sitemap.xml",
        html("<!doctype html><html><body>Not found</body></html>"),
    );
    let d = run(&settings(&[]), &s.url("/")).await;
    assert!(d.feeds.is_empty(), "{d:?}");
    let error = d.error.as_deref().unwrap();
    assert!(error.starts_with("no feed found"), "{error}");
    assert!(
        !error.contains("sitemap"),
        "a guess that fails is not told: {error}"
    );
    assert_eq!(s.hits("/sitemap.xml"), 1);
    assert_eq!(s.hits("/sitemap-index.xml"), 1);

    // A sitemap that lists no post is no answer either, and the error says so.
    let listings = TestServer::start("127.0.0.46").await;
    listings.route("/", html("<html></html>"));
    let root = listings.url("/");
    listings.route(
        "/robots.txt",
        text_plain(&format!("Sitemap: {root}sitemap.xml\n")),
    );
    listings.route(
        "/sitemap.xml",
        xml(urlset(&[
            &root,
            &format!("{root}tags/"),
            &format!("{root}page/2/"),
            &format!("{root}feed.xml"),
        ])),
    );
    let d = run(&settings(&[]), &root).await;
    assert!(d.feeds.is_empty(), "{d:?}");
    let error = d.error.as_deref().unwrap();
    assert!(error.starts_with("no feed found"), "{error}");
    assert!(
        error.contains("sitemap.xml (sitemap): lists 4 addresses, none of them a post"),
        "{error}"
    );
}

#[tokio::test]
async fn an_oopy_site_answers_with_its_sitemap_instead_of_the_extra_posts_advice() {
    let s = TestServer::start("127.0.0.47").await;
    s.route(
        "/sitemap.xml",
        xml(urlset(&[
            "https://pizzathief.oopy.io/",
            "https://pizzathief.oopy.io/kernel-bypass",
            "https://pizzathief.oopy.io/0c5f3b4a9e2d4f6a8b1c2d3e4f5a6b7c",
        ])),
    );
    let cfg = settings(&[("https://pizzathief.oopy.io", s.url(""))]);
    let d = run(&cfg, "https://pizzathief.oopy.io/kernel-bypass").await;
    assert_eq!(d.platform, "notion");
    assert_eq!(
        urls(&d),
        [("https://pizzathief.oopy.io/sitemap.xml", "sitemap", true)]
    );
    assert_eq!(d.error, None);
    assert_eq!(s.hits("/robots.txt"), 1);
    assert_eq!(s.hits("/kernel-bypass"), 0, "a Notion page names no feed");
    assert_eq!(
        s.hits("/feed.xml"),
        0,
        "nor is a Notion site probed for one"
    );

    // An oopy site with no sitemap: the advice, saying the sitemap was looked for.
    let bare = TestServer::start("127.0.0.48").await;
    let cfg = settings(&[("https://nothing.oopy.io", bare.url(""))]);
    let d = run(&cfg, "https://nothing.oopy.io/").await;
    assert_eq!(d.platform, "notion");
    assert!(d.feeds.is_empty());
    let error = d.error.as_deref().unwrap();
    assert!(
        error.starts_with("Notion pages publish no feed: ask the member for a blog with a feed, or record each post in the member's `extra_posts`"),
        "{error}"
    );
    assert!(error.contains("no sitemap was found either"), "{error}");
    assert_eq!(bare.hits("/sitemap.xml"), 1);
}

#[tokio::test]
async fn regression_a_platform_wide_sitemap_on_inblog_ai_is_not_the_members() {
    let s = TestServer::start("127.0.0.53").await;
    s.route(
        "/graphwoody/graphfds-02",
        html("<html><head><title>FDS 2</title></head></html>"),
    );
    s.route("/", html("<html><head><title>inblog</title></head></html>"));
    s.route(
        "/robots.txt",
        text_plain("User-agent: *\nSitemap: https://inblog.ai/sitemap.xml\n"),
    );
    // The platform's sitemap lists other blogs' posts: none is the member's.
    s.route(
        "/sitemap.xml",
        xml(urlset(&[
            "https://inblog.ai/otherblog/post-1",
            "https://inblog.ai/third/post-2",
        ])),
    );
    s.route(
        "/graphwoody/sitemap.xml",
        xml(urlset(&[
            "https://inblog.ai/graphwoody",
            "https://inblog.ai/graphwoody/graphfds-01",
        ])),
    );
    let cfg = settings(&[("https://inblog.ai", s.url(""))]);
    let d = run(&cfg, "https://inblog.ai/graphwoody/graphfds-02").await;
    assert_eq!(
        urls(&d),
        [("https://inblog.ai/graphwoody/sitemap.xml", "sitemap", true)]
    );
    assert_eq!(s.hits("/sitemap.xml"), 1);
}

#[tokio::test]
async fn regression_gzip_sitemaps_raw_and_content_encoded() {
    let s = TestServer::start("127.0.0.49").await;
    s.route("/", html("<html></html>"));
    let root = s.url("/");
    s.route(
        "/robots.txt",
        text_plain(&format!(
            "Sitemap: {root}missing.xml\nSitemap: {root}sitemap.xml.gz\n"
        )),
    );
    // A .xml.gz file served as it is (no Content-Encoding): the sitemap reader inflates it.
    s.route(
        "/sitemap.xml.gz",
        Reply::status(200)
            .header("Content-Type", "application/gzip")
            .body(support::gzip(
                urlset(&[&format!("{root}2024/11/18/first-post.html")]).as_bytes(),
            )),
    );
    let d = run(&settings(&[]), &root).await;
    assert_eq!(
        urls(&d),
        [(s.url("/sitemap.xml.gz").as_str(), "sitemap", true)]
    );
    assert_eq!(s.hits("/missing.xml"), 1, "robots.txt's lines in order");

    // Content-Encoding: gzip is undone by the fetch stage.
    let enc = TestServer::start("127.0.0.50").await;
    enc.route("/", html("<html></html>"));
    let root = enc.url("/");
    enc.route(
        "/sitemap.xml",
        xml(urlset(&[&format!("{root}posts/hello")])).gzip(),
    );
    let d = run(&settings(&[]), &root).await;
    assert_eq!(
        urls(&d),
        [(enc.url("/sitemap.xml").as_str(), "sitemap", true)]
    );
}

#[tokio::test]
async fn a_sitemap_robots_txt_names_on_an_unreachable_host_is_kept_unverified() {
    let s = TestServer::start("127.0.0.51").await;
    s.route("/", html("<html></html>"));
    // A closed port stands for the sitemap's host being away.
    s.route(
        "/robots.txt",
        text_plain("Sitemap: http://127.0.0.1:9/sitemap.xml\n"),
    );
    let d = run(&settings(&[]), &s.url("/")).await;
    assert_eq!(
        urls(&d),
        [("http://127.0.0.1:9/sitemap.xml", "sitemap", false)]
    );
    assert!(d.feeds[0]
        .note
        .as_deref()
        .unwrap()
        .starts_with("not verified"));
    assert_eq!(d.feeds[0].format, None);
    assert_eq!(d.sitemap(), d.feeds.first());
    assert_eq!(d.error, None);
    assert_eq!(s.hits("/sitemap.xml"), 1, "the guesses are still tried");
}

// ---------------------------------------------------------------------------------------------
// Through the binary.

fn config_with(dir: &std::path::Path, fetch_extra: &str, members: &str) -> std::path::PathBuf {
    let path = common::club_config(dir, &[], fetch_extra, "");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(members);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn discover_json_has_the_spec_shape() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s = rt.block_on(TestServer::start("127.0.0.40"));
    s.route(
        "/",
        html("<html><head><link rel=alternate type=application/rss+xml href=/rss title=블로그></head></html>"),
    );
    s.route("/rss", feed_reply(rss("내 블로그")));
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(
        dir.path(),
        "allow_private_addresses = true\ntimeout = \"3s\"",
        "",
    );
    let out = common::run(
        &config,
        "2024-11-20T12:00:00+09:00",
        &["discover", "--json", &s.url("/"), "notion.so/x"],
    );
    // Nothing usable for one of the addresses: exit 1, naming it (the JSON is still printed).
    assert_eq!(out.status.code(), Some(1), "{}", common::text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("nothing usable found for notion.so/x"),
        "{}",
        common::text(&out)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let expected = serde_json::json!([
        {"input": s.url("/"), "platform": "other", "feeds": [
            {"url": s.url("/rss"), "rule": "link-alternate", "format": "rss2", "title": "내 블로그", "verified": true}
        ], "error": null},
        {"input": "notion.so/x", "platform": "notion", "feeds": [],
         "error": "Notion pages publish no feed: ask the member for a blog with a feed, or record each post in the member's `extra_posts`"}
    ]);
    assert_eq!(v, expected);

    // Text for people: the feed and the rule that found it.
    let out = common::run(
        &config,
        "2024-11-20T12:00:00+09:00",
        &["discover", &s.url("/")],
    );
    let t = String::from_utf8_lossy(&out.stdout);
    assert!(
        t.contains(&format!(
            "{}  (rule link-alternate; verified; rss2, 내 블로그)",
            s.url("/rss")
        )),
        "{t}"
    );
    drop(rt);
}

#[test]
fn discover_offline_uses_the_address_alone() {
    let dir = tempfile::tempdir().unwrap();
    let out = common::bin()
        .current_dir(dir.path())
        .args([
            "discover",
            "--offline",
            "--format",
            "json",
            "velog.io/@kim/x",
            "https://brunch.co.kr/@a/1",
            "https://me.github.io/p",
        ])
        .output()
        .unwrap();
    // Brunch needs its page, which offline cannot read: nothing usable for it, exit 1.
    assert_eq!(out.status.code(), Some(1), "{}", common::text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["feeds"][0]["url"], "https://v2.velog.io/rss/kim");
    assert_eq!(v[0]["feeds"][0]["verified"], false);
    assert_eq!(v[1]["platform"], "brunch");
    assert!(v[1]["error"]
        .as_str()
        .unwrap()
        .starts_with("needs the page"));
    assert_eq!(v[2]["platform"], "github-pages");
}

#[test]
fn fetch_discovers_a_members_feed_once_and_feeds_shows_it() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s = rt.block_on(TestServer::start("127.0.0.41"));
    s.route(
        "/",
        html("<html><head><meta name=generator content=\"Hugo 0.140\"><link rel=alternate href=/index.xml type=application/rss+xml title></head></html>"),
    );
    s.route("/index.xml", feed_reply(rss("자동 발견")));
    let nothing = rt.block_on(TestServer::start("127.0.0.42"));
    let dir = tempfile::tempdir().unwrap();
    let members = format!(
        "\n[[members]]\nid = \"auto\"\nname = \"자동\"\nteam = \"t\"\nblog = \"{}\"\n\n[[members]]\nid = \"none\"\nname = \"없음\"\nteam = \"t\"\nblog = \"{}\"\n",
        s.url("/"),
        nothing.url("/nothing/")
    );
    let config = config_with(
        dir.path(),
        "allow_private_addresses = true\ntimeout = \"3s\"",
        &members,
    );
    let out = common::run(&config, "2024-11-20T12:00:00+09:00", &["fetch"]);
    let t = common::text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(
        t.contains(&format!(
            "auto: discovered feed {} (rule link-alternate)",
            s.url("/index.xml")
        )),
        "{t}"
    );
    assert!(t.contains("1 feed: 1 ok"), "{t}");
    assert!(t.contains("none: no feed to poll:"), "{t}");
    assert_eq!(s.hits("/"), 1);
    assert_eq!(s.hits("/index.xml"), 2, "verified once, then polled");

    let out = common::run(&config, "2024-11-20T13:00:00+09:00", &["fetch"]);
    assert_eq!(out.status.code(), Some(0), "{}", common::text(&out));
    assert_eq!(s.hits("/"), 1, "the discovery is cached in the store");
    assert_eq!(s.hits("/index.xml"), 3);

    let out = common::run(&config, "2024-11-20T13:00:00+09:00", &["feeds", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["member"], "auto");
    assert_eq!(v[0]["url"], s.url("/index.xml"));
    assert_eq!(v[0]["state"], "ok");
    assert_eq!(v[0]["source"], "discovered:link-alternate");
    assert_eq!(v[0]["items"], 1);
    assert_eq!(v[1]["member"], "none");
    assert_eq!(v[1]["state"], "failing");
    assert!(
        v[1]["last_error"]
            .as_str()
            .unwrap()
            .starts_with("no feed found"),
        "{v}"
    );
    drop(rt);
}

#[test]
fn discover_json_names_the_sitemap_of_a_site_without_a_feed() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s = rt.block_on(TestServer::start("127.0.0.52"));
    s.route("/", html("<html><head><title>home</title></head></html>"));
    let root = s.url("/");
    s.route(
        "/sitemap.xml",
        xml(urlset(&[&root, &format!("{root}posts/first")])),
    );
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(
        dir.path(),
        "allow_private_addresses = true\ntimeout = \"3s\"",
        "",
    );
    let out = common::run(
        &config,
        "2024-11-20T12:00:00+09:00",
        &["discover", "--json", &root],
    );
    assert_eq!(out.status.code(), Some(0), "{}", common::text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let expected = serde_json::json!([
        {"input": root, "platform": "other", "feeds": [
            {"url": s.url("/sitemap.xml"), "rule": "sitemap", "format": "sitemap", "title": null, "verified": true}
        ], "error": null}
    ]);
    assert_eq!(v, expected);
    drop(rt);
}

#[test]
#[ignore = "reads ../shared/corpus; run with --ignored"]
fn every_curated_member_post_url_looks_like_a_post_of_its_blog() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus/geultto-data/curated-post-urls.tsv");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("corpus: {} is absent; skipping", path.display());
        return;
    };
    let mut refused = Vec::new();
    let mut total = 0;
    for line in text.lines().skip(1) {
        let url = url::Url::parse(line.split('\t').nth(3).unwrap()).unwrap();
        // The blog's homepage: its folder on a shared host, else the host's root.
        let site =
            discover::sitemap::shared_host_blog(&url).unwrap_or_else(|| url.join("/").unwrap());
        total += 1;
        if !discover::sitemap::is_post_like(&url, &site) {
            refused.push(format!("{url} (site {site})"));
        }
        // Its homepage, and its feed, never are.
        assert!(!discover::sitemap::is_post_like(&site, &site), "{site}");
    }
    assert_eq!(total, 460);
    assert!(refused.is_empty(), "real posts refused: {refused:#?}");
}

/// A blog-only member whose Next.js site has no feed, only next-sitemap's index: `fetch` keeps
/// the index's sitemap of posts as the member's feed and reads it like one — post addresses
/// become posts (dated by `lastmod` until a page says more), the homepage, tag and paging
/// addresses do not — and the next run asks only the sitemap again.
#[test]
fn fetch_reads_a_sitemap_like_a_feed_for_a_blog_without_one() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s = rt.block_on(TestServer::start("127.0.0.53"));
    s.route("/", html(NEXT_PAGE));
    let root = s.url("/");
    s.route(
        "/robots.txt",
        text_plain(&format!("User-agent: *\nSitemap: {root}sitemap.xml\n")),
    );
    s.route(
        "/sitemap.xml",
        xml(sitemap_index(&[&format!("{root}sitemap-0.xml")])),
    );
    s.route(
        "/sitemap-0.xml",
        xml(urlset(&[
            &root,
            &format!("{root}posts/kafka-exactly-once"),
            &format!("{root}posts/rust-lifetimes"),
            &format!("{root}tags/rust"),
            &format!("{root}posts/page/2"),
        ])),
    );
    let dir = tempfile::tempdir().unwrap();
    let members = format!(
        "\n[[members]]\nid = \"next\"\nname = \"넥스트\"\nteam = \"t\"\nblog = \"{root}\"\n"
    );
    let config = config_with(
        dir.path(),
        "allow_private_addresses = true\ntimeout = \"3s\"",
        &members,
    );
    let out = common::run(&config, "2024-11-20T12:00:00+09:00", &["fetch"]);
    assert_eq!(out.status.code(), Some(0), "{}", common::text(&out));
    let t = common::text(&out);
    assert!(t.contains("(rule sitemap)"), "{t}");
    let out = common::run(
        &config,
        "2024-11-20T12:00:00+09:00",
        &["report", "--round", "all", "--json"],
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let posts: Vec<String> = v["members"][0]["rounds"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["posts"].as_array().unwrap().clone())
        .map(|p| p["url"].as_str().unwrap().to_string())
        .collect();
    let mut want = vec![
        format!("{root}posts/kafka-exactly-once"),
        format!("{root}posts/rust-lifetimes"),
    ];
    let mut got = posts.clone();
    got.sort();
    want.sort();
    assert_eq!(got, want, "only the post addresses: {posts:?}");
    let out = common::run(&config, "2024-11-20T12:00:00+09:00", &["feeds", "--json"]);
    let f: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(f[0]["url"], s.url("/sitemap-0.xml"));
    assert_eq!(f[0]["source"], "discovered:sitemap");
    let before = s.hits("/sitemap-0.xml");
    let out = common::run(&config, "2024-11-20T13:00:00+09:00", &["fetch"]);
    assert_eq!(out.status.code(), Some(0), "{}", common::text(&out));
    assert_eq!(s.hits("/sitemap-0.xml"), before + 1, "polled like a feed");
    assert_eq!(s.hits("/robots.txt"), 1, "the discovery is cached");
    drop(rt);
}

#[test]
fn regression_discover_exits_1_when_it_found_nothing_and_says_what_it_waits_for() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s = rt.block_on(TestServer::start("127.0.0.89"));
    s.route(
        "/",
        html("<html><head><title>피드 없음</title></head><body>글</body></html>"),
    );
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(
        dir.path(),
        "allow_private_addresses = true\ntimeout = \"3s\"",
        "",
    );
    let out = common::run(
        &config,
        "2024-11-20T12:00:00+09:00",
        &["discover", &s.url("/")],
    );
    assert_eq!(out.status.code(), Some(1), "{}", common::text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("discovering 1 address(es)"), "{err}");
    assert!(err.contains("nothing usable found for"), "{err}");
    let found = common::run(
        &config,
        "2024-11-20T12:00:00+09:00",
        &["discover", "--offline", "velog.io/@kim"],
    );
    // A platform rule's answer (unverified) is usable: exit 0.
    assert_eq!(found.status.code(), Some(0), "{}", common::text(&found));
    drop(rt);
}

/// A blog at `/` of `main` whose page links its feed at `/rss`, and at `/plain` of `bare` (a
/// host of its own, since discovery probes the usual paths) a blog without a feed.
fn a_blog_and_a_bare_one(
    main: &str,
    bare: &str,
) -> (tokio::runtime::Runtime, TestServer, TestServer) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s = rt.block_on(TestServer::start(main));
    s.route(
        "/",
        html("<html><head><link rel=alternate type=application/rss+xml href=/rss title=블로그></head></html>"),
    );
    s.route("/rss", feed_reply(rss("내 블로그")));
    let b = rt.block_on(TestServer::start(bare));
    b.route(
        "/plain",
        html("<html><head><title>피드 없음</title></head></html>"),
    );
    (rt, s, b)
}

#[test]
fn add_discovers_the_feed_and_appends_the_member_refusing_duplicates_and_nothing_found() {
    let (rt, s, bare) = a_blog_and_a_bare_one("127.0.0.90", "127.0.0.92");
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(
        dir.path(),
        "allow_private_addresses = true\ntimeout = \"3s\"",
        "",
    );
    let now = "2024-11-20T12:00:00+09:00";
    let out = common::run(
        &config,
        now,
        &[
            "add",
            &s.url("/"),
            "--id",
            "saebom",
            "--name",
            "한새봄",
            "--team",
            "백엔드",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", common::text(&out));
    let roster = std::fs::read_to_string(&config).unwrap();
    assert!(roster.contains("id = \"saebom\""), "{roster}");
    assert!(
        roster.contains(&format!("feeds = [\"{}\"]", s.url("/rss"))),
        "{roster}"
    );
    assert_eq!(common::run(&config, now, &["check"]).status.code(), Some(0));

    // The same id again, or the same blog's feed under another id: refused, file untouched.
    for args in [
        vec![
            "add",
            "https://other.example/",
            "--id",
            "saebom",
            "--name",
            "다른 사람",
        ],
        vec!["add", "/", "--id", "again", "--name", "또"],
    ] {
        let args: Vec<String> = args
            .into_iter()
            .map(|a| if a == "/" { s.url("/") } else { a.to_string() })
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = common::run(&config, now, &args);
        assert_eq!(out.status.code(), Some(1), "{}", common::text(&out));
        assert_eq!(std::fs::read_to_string(&config).unwrap(), roster);
    }
    // A blog with no feed: exit 1, nothing written.
    let out = common::run(
        &config,
        now,
        &["add", &bare.url("/plain"), "--id", "none", "--name", "없음"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", common::text(&out));
    assert!(
        common::text(&out).contains("nothing usable found"),
        "{}",
        common::text(&out)
    );
    assert_eq!(std::fs::read_to_string(&config).unwrap(), roster);
    drop(rt);
}

#[test]
fn csv_import_adds_a_signup_sheet_with_contacts_and_discovered_feeds() {
    let (rt, s, bare) = a_blog_and_a_bare_one("127.0.0.91", "127.0.0.93");
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(
        dir.path(),
        "allow_private_addresses = true\ntimeout = \"3s\"",
        "",
    );
    let sheet = dir.path().join("signup.csv");
    std::fs::write(
        &sheet,
        format!(
            "name,team,blog,email,slack_id,id\n\"한, 새봄\",백엔드,{},saebom@example.org,U0SAEBOM,saebom\n이피드,데이터,{},,,nofeed\n",
            s.url("/"),
            bare.url("/plain")
        ),
    )
    .unwrap();
    let now = "2024-11-20T12:00:00+09:00";
    let out = common::run(&config, now, &["csv", "import", sheet.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", common::text(&out));
    assert!(
        common::text(&out).contains("nofeed: no feed found"),
        "{}",
        common::text(&out)
    );
    let c = geultto_agg::config::Config::load(&config).unwrap();
    let saebom = c.member("saebom").unwrap();
    assert_eq!(saebom.name, "한, 새봄");
    assert_eq!(saebom.email.as_deref(), Some("saebom@example.org"));
    assert_eq!(saebom.slack_id.as_deref(), Some("U0SAEBOM"));
    assert_eq!(saebom.feeds[0].to_string(), s.url("/rss"));
    let nofeed = c.member("nofeed").unwrap();
    assert!(nofeed.feeds.is_empty() && nofeed.blog.is_some());
    // Again: nothing new.
    let before = std::fs::read_to_string(&config).unwrap();
    let out = common::run(&config, now, &["csv", "import", sheet.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", common::text(&out));
    assert_eq!(std::fs::read_to_string(&config).unwrap(), before);
    drop(rt);
}
