//! `fetch` through the real binary against real HTTP servers on loopback (127.0.0.2… stand for
//! several hosts): conditional GET across runs, compression, redirects, and every kind of broken
//! feed ending as a recorded per-feed error while the run completes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod support;

use std::time::Duration;

use common::{club_config, count_rows, run, text, M};
use support::{Reply, TestServer};

const NOW: &str = "2024-11-20T12:00:00+09:00";

fn feed(prefix: &str, n: usize) -> String {
    let items: Vec<(String, String, String)> = (0..n)
        .map(|i| {
            (
                format!("https://{prefix}.example/{i}"),
                format!("{prefix} 글 {i}"),
                format!("2024-11-{:02}T10:00:00+09:00", 10 + i),
            )
        })
        .collect();
    let refs: Vec<(&str, &str, &str, &str, &str)> = items
        .iter()
        .map(|(l, t, d)| {
            (
                l.as_str(),
                t.as_str(),
                l.as_str(),
                d.as_str(),
                "<p>본문</p>",
            )
        })
        .collect();
    common::rss(prefix, &format!("https://{prefix}.example/"), &refs)
}

#[test]
fn fetch_over_http_conditional_get_and_recorded_failures() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (a, b, bad) = rt.block_on(async {
        (
            TestServer::start("127.0.0.2").await,
            TestServer::start("127.0.0.3").await,
            TestServer::start("127.0.0.4").await,
        )
    });
    // Host a: ETag + Last-Modified, gzip; answers 304 to a conditional request.
    a.route_seq(
        "/rss",
        vec![
            Reply::ok(feed("a", 3))
                .header("ETag", "\"v1\"")
                .header("Last-Modified", "Tue, 19 Nov 2024 01:00:00 GMT")
                .gzip(),
            Reply::status(304).header("ETag", "\"v2\""),
        ],
    );
    // Host b: a redirect chain to the feed.
    b.route("/old", Reply::redirect(302, &b.url("/mid")));
    b.route("/mid", Reply::redirect(302, &b.url("/feed.xml")));
    b.route("/feed.xml", Reply::ok(feed("b", 2)));
    // Host bad: every kind of trouble.
    bad.route("/500", Reply::status(500));
    bad.route(
        "/hang",
        Reply::ok(feed("h", 1)).delay(Duration::from_secs(5)),
    );
    bad.route("/huge", Reply::ok(vec![b' '; 200 * 1024]));
    bad.route("/bomb", Reply::ok(vec![0u8; 30 << 20]).gzip());
    bad.route(
        "/html",
        Reply::ok("<!DOCTYPE html><html><body>블로그</body></html>")
            .header("Content-Type", "text/html"),
    );
    bad.route("/empty", Reply::ok(""));
    let dir = tempfile::tempdir().unwrap();
    let config = club_config(
        dir.path(),
        &[
            M { id: "a", name: "에이", team: "t", feeds: vec![a.url("/rss")] },
            M { id: "b", name: "비", team: "t", feeds: vec![b.url("/old")] },
            M {
                id: "bad",
                name: "배드",
                team: "t",
                feeds: ["/500", "/hang", "/huge", "/bomb", "/html", "/empty"].iter().map(|p| bad.url(p)).collect(),
            },
        ],
        "timeout = \"1s\"\nconnect_timeout = \"1s\"\nmax_body = \"64KiB\"\nallow_private_addresses = true",
        "",
    );
    let out = run(&config, NOW, &["fetch", "-v"]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(
        t.contains("8 feeds: 2 ok, 0 not modified, 6 failed, 0 paused; 5 new posts"),
        "{t}"
    );
    for words in [
        "server says 500",
        "timed out after 1 s",
        "larger than 64 KiB",
        "not a feed: got an HTML page",
        "empty body",
    ] {
        assert!(t.contains(words), "missing {words:?} in {t}");
    }
    assert_eq!(
        t.matches("larger than 64 KiB").count(),
        2,
        "huge and bomb: {t}"
    );
    assert_eq!(bad.hits("/500"), 3, "a 500 is retried twice within the run");
    let db = dir.path().join("geultto-agg.db");
    assert_eq!(count_rows(&db, "posts"), 5);
    let xml = std::fs::read_to_string(dir.path().join("public/atom.xml")).unwrap();
    assert_eq!(xml.matches("<entry>").count(), 5);

    // Second run: validators sent, 304 recorded, nothing new; failures again; exit 2 on request.
    let out = run(
        &config,
        "2024-11-20T13:00:00+09:00",
        &["fetch", "--fail-on-feed-errors"],
    );
    let t = text(&out);
    assert_eq!(out.status.code(), Some(2), "{t}");
    assert!(t.contains("8 feeds: 0 ok, 2 not modified, 6 failed"), "{t}");
    let second = a
        .requests()
        .into_iter()
        .filter(|r| r.path == "/rss")
        .nth(1)
        .unwrap();
    assert_eq!(
        second.headers.get("if-none-match").map(String::as_str),
        Some("\"v1\"")
    );
    assert_eq!(
        second.headers.get("if-modified-since").map(String::as_str),
        Some("Tue, 19 Nov 2024 01:00:00 GMT")
    );
    assert_eq!(count_rows(&db, "posts"), 5);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let etag: String = conn
        .query_row(
            "SELECT etag FROM feeds WHERE url LIKE '%127.0.0.2%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(etag, "\"v2\"", "validators from the 304 are kept");
    let failures: i64 = conn
        .query_row(
            "SELECT consecutive_failures FROM feeds WHERE url LIKE '%/500'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(failures, 2);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("public/atom.xml")).unwrap(),
        xml
    );
    drop(rt);
}

#[test]
fn retry_after_pauses_the_feed_without_counting_a_failure() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(TestServer::start("127.0.0.5"));
    server.route("/rss", Reply::status(429).header("Retry-After", "120"));
    server.route("/ok", Reply::ok(feed("ok", 1)));
    let dir = tempfile::tempdir().unwrap();
    let config = club_config(
        dir.path(),
        &[M {
            id: "p",
            name: "피",
            team: "t",
            feeds: vec![server.url("/rss"), server.url("/ok")],
        }],
        "timeout = \"1s\"\nallow_addresses = [\"127.0.0.5/32\"]",
        "",
    );
    let out = run(&config, NOW, &["fetch", "--fail-on-feed-errors"]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "a pause is not a failure: {t}");
    assert!(
        t.contains("2 feeds: 1 ok, 0 not modified, 0 failed, 1 paused"),
        "{t}"
    );
    assert_eq!(
        server.hits("/rss"),
        1,
        "a 429 with Retry-After is not retried"
    );
    let conn = rusqlite::Connection::open(dir.path().join("geultto-agg.db")).unwrap();
    let (failures, until): (i64, i64) = conn
        .query_row(
            "SELECT consecutive_failures, paused_until FROM feeds WHERE url LIKE '%/rss'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(failures, 0);
    let now = chrono::DateTime::parse_from_rfc3339(NOW)
        .unwrap()
        .timestamp();
    assert_eq!(until, now + 120, "Retry-After is measured from --now");
    drop(rt);
}

#[test]
fn a_cross_post_takes_the_first_listed_feeds_id_whichever_feed_answers_first() {
    // One member, two feeds carrying the same post under different guids. Whether the first-listed
    // feed answers first or last, the post is stored once with the id minted from the first
    // feed's entry, so first runs on two machines publish the same ids.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (first, second) = rt.block_on(async {
        (
            TestServer::start("127.0.0.2").await,
            TestServer::start("127.0.0.3").await,
        )
    });
    let post = |guid: &str| {
        common::rss(
            guid,
            "https://blog.example/",
            &[(
                guid,
                "같은 글",
                "https://blog.example/posts/1",
                "2024-11-18T10:00:00+09:00",
                "<p>본문</p>",
            )],
        )
    };
    let slow = Duration::from_millis(700);
    first.route("/slow", Reply::ok(post("first-guid")).delay(slow));
    first.route("/fast", Reply::ok(post("first-guid")));
    second.route("/slow", Reply::ok(post("second-guid")).delay(slow));
    second.route("/fast", Reply::ok(post("second-guid")));

    let mut ids = Vec::new();
    for (a, b) in [("/slow", "/fast"), ("/fast", "/slow")] {
        let dir = tempfile::tempdir().unwrap();
        let config = club_config(
            dir.path(),
            &[M {
                id: "m",
                name: "엠",
                team: "t",
                feeds: vec![first.url(a), second.url(b)],
            }],
            "allow_private_addresses = true",
            "",
        );
        let out = run(&config, NOW, &["fetch"]);
        assert!(out.status.success(), "{}", text(&out));
        assert_eq!(count_rows(&dir.path().join("geultto-agg.db"), "posts"), 1);
        let xml = std::fs::read_to_string(dir.path().join("public/atom.xml")).unwrap();
        let entry = &xml[xml.find("<entry>").unwrap()..];
        let id = entry[entry.find("<id>").unwrap() + 4..entry.find("</id>").unwrap()].to_owned();
        assert!(
            entry.contains(&first.url(a)),
            "the source is the first-listed feed: {entry}"
        );
        ids.push(id);
    }
    assert_eq!(ids[0], ids[1]);
}

/// `submit` reads the post's page through the fetch stage and appends the post to the member's
/// `extra_posts`; without a date on the page or `--date` it changes nothing and exits 1; the
/// same post twice is refused.
#[test]
fn submit_records_a_post_by_hand_and_refuses_what_it_cannot_date() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s = rt.block_on(TestServer::start("127.0.0.61"));
    s.route(
        "/notion-post",
        Reply::status(200)
            .header("Content-Type", "text/html; charset=utf-8")
            .body("<html><head><title>노션 글</title></head><body><p>본문</p></body></html>"),
    );
    let dir = tempfile::tempdir().unwrap();
    let config = club_config(
        dir.path(),
        &[M {
            id: "minji",
            name: "김민지",
            team: "데이터",
            feeds: vec![],
        }],
        "allow_private_addresses = true\ntimeout = \"3s\"",
        "",
    );
    // A member needs a feed or a blog: give her a blog.
    let original = std::fs::read_to_string(&config)
        .unwrap()
        .replace("feeds = []", "blog = \"https://minji.oopy.io/\"");
    std::fs::write(&config, &original).unwrap();
    let url = s.url("/notion-post");
    let out = run(&config, NOW, &["submit", "minji", &url]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("--date"), "{}", text(&out));
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        original,
        "unchanged"
    );
    let out = run(
        &config,
        NOW,
        &["submit", "minji", &url, "--date", "2024-11-02"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let edited = std::fs::read_to_string(&config).unwrap();
    assert!(
        edited.contains(&format!(
            "extra_posts = [{{ url = \"{url}\", date = \"2024-11-02\""
        )),
        "{edited}"
    );
    let head = &original[..original.find("[[members]]").unwrap()];
    assert!(edited.starts_with(head), "the rest is kept");
    let out = run(
        &config,
        NOW,
        &["submit", "minji", &url, "--date", "2024-11-02"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("already recorded"), "{}", text(&out));
    let out = run(
        &config,
        NOW,
        &["submit", "nobody", &url, "--date", "2024-11-02"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("no member `nobody`"), "{}", text(&out));
    drop(rt);
}
