//! Feed health across runs, through the real binary with `--now` against HTTP servers on
//! loopback: a 301 on 3 runs in a row moves a feed (a 302 never does), a 410 marks it gone and
//! polled weekly, a failing feed backs off (doubling from `[fetch] interval`), Retry-After
//! leaves the whole host alone until then, `fetch --member` forces a poll, and `feeds` says what
//! is wrong in plain words.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod support;

use common::{club_config, run, text, M};
use support::{Reply, TestServer};

fn feed(title: &str) -> String {
    common::rss(
        title,
        "https://blog.example/",
        &[(
            "https://blog.example/1",
            "글 하나",
            "https://blog.example/1",
            "Mon, 18 Nov 2024 10:00:00 +0900",
            "<p>본문</p>",
        )],
    )
}

/// `2024-11-20T{hh}:00:00+09:00`, with days added.
fn at(day: u32, hour: u32) -> String {
    format!("2024-11-{day:02}T{hour:02}:00:00+09:00")
}

fn feeds_json(config: &std::path::Path, now: &str) -> serde_json::Value {
    let out = run(config, now, &["feeds", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn line<'a>(v: &'a serde_json::Value, url: &str) -> &'a serde_json::Value {
    v.as_array()
        .unwrap()
        .iter()
        .find(|l| l["url"] == url)
        .unwrap_or_else(|| panic!("no line for {url} in {v}"))
}

const FETCH: &str = "allow_private_addresses = true\ntimeout = \"2s\"\ninterval = \"1h\"";

#[test]
fn a_301_on_three_runs_moves_the_feed_a_302_never_does() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s = rt.block_on(TestServer::start("127.0.0.50"));
    s.route("/old.xml", Reply::redirect(301, &s.url("/new.xml")));
    s.route("/new.xml", Reply::ok(feed("옮긴 블로그")));
    s.route("/temp.xml", Reply::redirect(302, &s.url("/other.xml")));
    s.route("/other.xml", Reply::ok(feed("임시")));
    let dir = tempfile::tempdir().unwrap();
    let config = club_config(
        dir.path(),
        &[
            M {
                id: "mover",
                name: "이사",
                team: "t",
                feeds: vec![s.url("/old.xml")],
            },
            M {
                id: "temp",
                name: "임시",
                team: "t",
                feeds: vec![s.url("/temp.xml")],
            },
        ],
        FETCH,
        "",
    );
    let config_text = std::fs::read_to_string(&config).unwrap();
    for (n, hour) in [(1, 12), (2, 13)] {
        let out = run(&config, &at(20, hour), &["fetch"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let v = feeds_json(&config, &at(20, hour));
        assert_eq!(line(&v, &s.url("/old.xml"))["state"], "ok", "run {n}");
        assert_eq!(
            line(&v, &s.url("/old.xml"))["moved_to"],
            serde_json::Value::Null
        );
    }
    let out = run(&config, &at(20, 14), &["fetch"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v = feeds_json(&config, &at(20, 14));
    let moved = line(&v, &s.url("/old.xml"));
    assert_eq!(moved["state"], "moved");
    assert_eq!(moved["moved_to"], s.url("/new.xml"));
    assert!(
        moved["advice"]
            .as_str()
            .unwrap()
            .contains("put it in `feeds`"),
        "{moved}"
    );
    assert_eq!(line(&v, &s.url("/temp.xml"))["state"], "ok");
    assert_eq!(s.hits("/old.xml"), 3);

    // Later runs poll the new address directly; the config is never rewritten.
    for hour in [15, 16] {
        let out = run(&config, &at(20, hour), &["fetch"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    }
    assert_eq!(
        s.hits("/old.xml"),
        3,
        "the old address is left alone once moved"
    );
    assert_eq!(s.hits("/new.xml"), 5);
    assert_eq!(
        s.hits("/temp.xml"),
        5,
        "a 302 is followed from the old address every run"
    );
    let v = feeds_json(&config, &at(20, 16));
    assert_eq!(line(&v, &s.url("/old.xml"))["state"], "moved");
    assert_eq!(
        line(&v, &s.url("/temp.xml"))["moved_to"],
        serde_json::Value::Null
    );
    assert_eq!(std::fs::read_to_string(&config).unwrap(), config_text);
    // The table says it too.
    let out = run(&config, &at(20, 16), &["feeds"]);
    let t = String::from_utf8_lossy(&out.stdout);
    assert!(t.contains("moved permanently to"), "{t}");
    drop(rt);
}

#[test]
fn a_redirect_streak_broken_by_a_direct_answer_starts_again() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s = rt.block_on(TestServer::start("127.0.0.51"));
    s.route_seq(
        "/f.xml",
        vec![
            Reply::redirect(308, &s.url("/g.xml")),
            Reply::redirect(308, &s.url("/g.xml")),
            Reply::ok(feed("돌아옴")),
            Reply::redirect(308, &s.url("/g.xml")),
        ],
    );
    s.route("/g.xml", Reply::ok(feed("새 주소")));
    let dir = tempfile::tempdir().unwrap();
    let config = club_config(
        dir.path(),
        &[M {
            id: "a",
            name: "에이",
            team: "t",
            feeds: vec![s.url("/f.xml")],
        }],
        FETCH,
        "",
    );
    for hour in 12..=16 {
        let out = run(&config, &at(20, hour), &["fetch"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let v = feeds_json(&config, &at(20, hour));
        let state = line(&v, &s.url("/f.xml"))["state"].clone();
        // Runs 12, 13: 308; 14: direct 200 (streak reset); 15, 16: 308 again → 2 in a row.
        assert_eq!(state, "ok", "hour {hour}: {v}");
    }
    let out = run(&config, &at(20, 17), &["fetch"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        line(&feeds_json(&config, &at(20, 17)), &s.url("/f.xml"))["state"],
        "moved"
    );
    drop(rt);
}

#[test]
fn a_410_marks_the_feed_gone_and_it_is_polled_weekly() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s = rt.block_on(TestServer::start("127.0.0.52"));
    s.route("/gone.xml", Reply::status(410));
    s.route("/ok.xml", Reply::ok(feed("멀쩡")));
    let dir = tempfile::tempdir().unwrap();
    let config = club_config(
        dir.path(),
        &[
            M {
                id: "g",
                name: "지",
                team: "t",
                feeds: vec![s.url("/gone.xml")],
            },
            M {
                id: "o",
                name: "오",
                team: "t",
                feeds: vec![s.url("/ok.xml")],
            },
        ],
        FETCH,
        "",
    );
    let out = run(&config, &at(20, 12), &["fetch", "--fail-on-feed-errors"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a 410 is a failure: {}",
        text(&out)
    );
    let v = feeds_json(&config, &at(20, 12));
    let gone = line(&v, &s.url("/gone.xml"));
    assert_eq!(gone["state"], "gone");
    assert_eq!(gone["http_status"], 410);
    assert_eq!(gone["next_attempt"], "2024-11-27T12:00:00+09:00");
    assert!(
        gone["last_error"].as_str().unwrap().contains("410"),
        "{gone}"
    );
    assert!(
        gone["advice"].as_str().unwrap().contains("once a week"),
        "{gone}"
    );

    // Hourly runs leave it alone for a week; they are not failures.
    for (day, hour) in [(20, 13), (21, 12), (27, 11)] {
        let out = run(&config, &at(day, hour), &["fetch", "--fail-on-feed-errors"]);
        let t = text(&out);
        assert_eq!(out.status.code(), Some(0), "{t}");
        assert!(
            t.contains("2 feeds: 0 ok, 1 not modified, 0 failed, 0 paused, 1 skipped"),
            "{t}"
        );
        assert!(t.contains("skipped: gone (410): polled once a week"), "{t}");
    }
    assert_eq!(s.hits("/gone.xml"), 1);
    let out = run(&config, &at(27, 12), &["fetch"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(s.hits("/gone.xml"), 2, "polled again a week later");
    // `fetch --member` forces a poll now.
    let out = run(&config, &at(27, 13), &["fetch", "--member", "g"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(s.hits("/gone.xml"), 3);
    drop(rt);
}

#[test]
fn a_failing_feed_backs_off_doubling_and_recovers() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s = rt.block_on(TestServer::start("127.0.0.53"));
    // 404 is not retried within a run: one hit per poll.
    s.route_seq(
        "/f.xml",
        vec![
            Reply::status(404),
            Reply::status(404),
            Reply::status(404),
            Reply::status(404),
            Reply::ok(feed("돌아온 블로그")),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let config = club_config(
        dir.path(),
        &[M {
            id: "f",
            name: "에프",
            team: "t",
            feeds: vec![s.url("/f.xml")],
        }],
        FETCH,
        "",
    );
    let url = s.url("/f.xml");
    // (hour of the run, polled?, state after, failures after, next attempt after)
    let timeline: [(u32, bool, &str, u32, Option<&str>); 10] = [
        (0, true, "failing", 1, None), // 1st failure: next run as usual
        (1, true, "backoff", 2, Some("2024-11-20T03:00:00+09:00")), // 2nd: wait 2 h
        (2, false, "backoff", 2, Some("2024-11-20T03:00:00+09:00")),
        (3, true, "backoff", 3, Some("2024-11-20T07:00:00+09:00")), // 3rd: wait 4 h
        (4, false, "backoff", 3, Some("2024-11-20T07:00:00+09:00")),
        (5, false, "backoff", 3, Some("2024-11-20T07:00:00+09:00")),
        (6, false, "backoff", 3, Some("2024-11-20T07:00:00+09:00")),
        (7, true, "backoff", 4, Some("2024-11-20T15:00:00+09:00")), // 4th: wait 8 h
        (8, false, "backoff", 4, Some("2024-11-20T15:00:00+09:00")),
        (15, true, "ok", 0, None), // back: polled every run
    ];
    let mut hits = 0;
    for (hour, polled, state, failures, next) in timeline {
        let now = at(20, hour);
        let out = run(&config, &now, &["fetch", "--fail-on-feed-errors"]);
        let t = text(&out);
        if polled {
            hits += 1;
        }
        assert_eq!(s.hits("/f.xml"), hits, "hour {hour}: {t}");
        let expected_code = if polled && state != "ok" { 2 } else { 0 };
        assert_eq!(
            out.status.code(),
            Some(expected_code),
            "hour {hour}: a skip is not a failure: {t}"
        );
        if !polled {
            assert!(t.contains("1 skipped"), "{t}");
            assert!(t.contains("polled less often"), "{t}");
        }
        let v = feeds_json(&config, &now);
        let l = line(&v, &url);
        assert_eq!(l["state"], state, "hour {hour}: {l}");
        assert_eq!(l["consecutive_failures"], failures, "hour {hour}");
        assert_eq!(l["next_attempt"].as_str(), next, "hour {hour}");
        if state == "backoff" {
            assert_eq!(
                l["last_error"],
                "server says 404 (Not Found): the blog may have moved, or the feed URL is wrong"
            );
            assert!(
                l["advice"].as_str().unwrap().contains("polled less often"),
                "{l}"
            );
        }
    }
    let v = feeds_json(&config, &at(20, 15));
    let l = line(&v, &url);
    assert_eq!(l["items"], 1);
    assert_eq!(l["last_success"], "2024-11-20T15:00:00+09:00");
    assert_eq!(l["last_post"], "2024-11-18T10:00:00+09:00");
    assert_eq!(l["http_status"], 200);
    drop(rt);
}

#[test]
fn fetch_member_forces_a_poll_of_a_backing_off_feed() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s = rt.block_on(TestServer::start("127.0.0.54"));
    s.route("/f.xml", Reply::status(404));
    let dir = tempfile::tempdir().unwrap();
    let config = club_config(
        dir.path(),
        &[M {
            id: "f",
            name: "에프",
            team: "t",
            feeds: vec![s.url("/f.xml")],
        }],
        FETCH,
        "",
    );
    run(&config, &at(20, 0), &["fetch"]);
    run(&config, &at(20, 1), &["fetch"]);
    run(&config, &at(20, 2), &["fetch"]);
    assert_eq!(s.hits("/f.xml"), 2, "the third run backs off");
    let out = run(&config, &at(20, 2), &["fetch", "--member", "f"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(s.hits("/f.xml"), 3, "--member polls now");
    drop(rt);
}

#[test]
fn retry_after_leaves_the_whole_host_alone_until_then() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let busy = rt.block_on(TestServer::start("127.0.0.55"));
    let other = rt.block_on(TestServer::start("127.0.0.56"));
    // Two hours from the first run, as an HTTP date.
    busy.route_seq(
        "/a.xml",
        vec![
            Reply::status(503).header("Retry-After", "Wed, 20 Nov 2024 05:00:00 GMT"),
            Reply::ok(feed("에이")),
        ],
    );
    busy.route("/b.xml", Reply::ok(feed("비")));
    other.route("/c.xml", Reply::ok(feed("씨")));
    let dir = tempfile::tempdir().unwrap();
    let config = club_config(
        dir.path(),
        &[
            M {
                id: "a",
                name: "에이",
                team: "t",
                feeds: vec![busy.url("/a.xml")],
            },
            M {
                id: "b",
                name: "비",
                team: "t",
                feeds: vec![busy.url("/b.xml")],
            },
            M {
                id: "c",
                name: "씨",
                team: "t",
                feeds: vec![other.url("/c.xml")],
            },
        ],
        FETCH,
        "",
    );
    let out = run(&config, &at(20, 12), &["fetch", "--fail-on-feed-errors"]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(
        t.contains("3 feeds: 2 ok, 0 not modified, 0 failed, 1 paused"),
        "{t}"
    );
    let v = feeds_json(&config, &at(20, 12));
    for path in ["/a.xml", "/b.xml"] {
        let l = line(&v, &busy.url(path));
        assert_eq!(l["state"], "paused", "{l}");
        assert_eq!(l["next_attempt"], "2024-11-20T14:00:00+09:00");
    }
    assert_eq!(line(&v, &busy.url("/a.xml"))["consecutive_failures"], 0);
    assert_eq!(line(&v, &other.url("/c.xml"))["state"], "ok");

    // An hour later the host is still paused: both of its feeds wait; the other host is polled.
    let out = run(&config, &at(20, 13), &["fetch", "--fail-on-feed-errors"]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(
        t.contains("3 feeds: 0 ok, 1 not modified, 0 failed, 0 paused, 2 skipped"),
        "{t}"
    );
    assert!(
        t.contains("asked us to wait (Retry-After) until 2024-11-20T14:00:00+09:00"),
        "{t}"
    );
    assert_eq!(busy.hits("/a.xml"), 1);
    assert_eq!(busy.hits("/b.xml"), 1);
    assert_eq!(other.hits("/c.xml"), 2);

    // At the deadline the host is polled again.
    let out = run(&config, &at(20, 14), &["fetch"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(busy.hits("/a.xml"), 2);
    assert_eq!(busy.hits("/b.xml"), 2);
    let v = feeds_json(&config, &at(20, 14));
    assert_eq!(line(&v, &busy.url("/a.xml"))["state"], "ok");
    drop(rt);
}

#[test]
fn feeds_table_speaks_plainly() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s = rt.block_on(TestServer::start("127.0.0.57"));
    s.route(
        "/page",
        Reply::status(200)
            .header("Content-Type", "text/html")
            .body("<!DOCTYPE html><html><body>블로그</body></html>"),
    );
    let dir = tempfile::tempdir().unwrap();
    let config = club_config(
        dir.path(),
        &[
            M {
                id: "html",
                name: "에이치",
                team: "t",
                feeds: vec![s.url("/page")],
            },
            M {
                id: "later",
                name: "나중",
                team: "t",
                feeds: vec![s.url("/later.xml")],
            },
        ],
        FETCH,
        "",
    );
    // Before any fetch: every feed is new.
    let v = feeds_json(&config, &at(20, 11));
    assert!(
        v.as_array().unwrap().iter().all(|l| l["state"] == "new"),
        "{v}"
    );
    let keys: Vec<&str> = v[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for key in [
        "member",
        "url",
        "state",
        "last_attempt",
        "last_success",
        "http_status",
        "consecutive_failures",
        "last_error",
        "moved_to",
        "items",
        "last_post",
        "next_attempt",
    ] {
        assert!(keys.contains(&key), "missing {key} in {keys:?}");
    }
    run(&config, &at(20, 12), &["fetch", "--member", "html"]);
    let out = run(&config, &at(20, 12), &["feeds"]);
    let t = String::from_utf8_lossy(&out.stdout);
    assert!(t.contains("not a feed: got an HTML page"), "{t}");
    assert!(t.contains("run `geultto-agg discover <blog>`"), "{t}");
    assert!(t.lines().next().unwrap().starts_with("MEMBER"), "{t}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("2 feeds, 1 need attention"));
    drop(rt);
}
