//! Fault injection: one real server on loopback serves 28 kinds of trouble, each as a
//! member's feed, next to a healthy feed on the same host; one `fetch` run through the real
//! binary must complete, record each fault as its own outcome — a per-feed error in plain words, a
//! recovery that `inspect` reports, or a pause — and leave the healthy feed unaffected.
//! Each kind is its own test over the shared run.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod support;

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use support::{Reply, TestServer};

const NOW: &str = "2024-11-20T12:00:00+09:00";

fn items(n: usize, prefix: &str) -> String {
    (0..n)
        .map(|i| {
            format!("<item><title>{prefix} 글 {i}</title><link>https://{prefix}.example/{i}</link><guid>https://{prefix}.example/{i}</guid><pubDate>Sat, 16 Nov 2024 10:00:00 +0900</pubDate><description>본문 {i}</description></item>")
        })
        .collect()
}

fn rss(prefix: &str, body: &str) -> String {
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>{prefix} 블로그</title><link>https://{prefix}.example/</link>{body}</channel></rss>")
}

/// One row of the `feeds` table after the run.
#[derive(Debug, Clone)]
struct Row {
    http_status: Option<i64>,
    failures: i64,
    error: Option<String>,
    paused_until: Option<i64>,
    items: i64,
}

struct Run {
    rows: HashMap<String, Row>,
    stderr: String,
    exit: Option<i32>,
    dir: tempfile::TempDir,
    config: PathBuf,
    hits: HashMap<String, usize>,
    private_hits: usize,
    _servers: (TestServer, TestServer),
    _rt: tokio::runtime::Runtime,
}

/// The kinds: (name, path, reply or None for "connection refused").
fn kinds(server: &TestServer, private: &TestServer) -> Vec<(&'static str, Reply)> {
    let good = rss("good", &items(3, "good"));
    let truncated = {
        let full = rss("cut", &items(4, "cut"));
        full[..full.len() - 120].to_string()
    };
    let euc_kr = encoding_rs::EUC_KR
        .encode(&rss("euckr", &items(2, "euckr")))
        .0
        .into_owned();
    let mut chain = Vec::new();
    for i in 0..20 {
        chain.push((
            format!("/hop{i}"),
            Reply::redirect(302, &server.url(&format!("/hop{}", i + 1))),
        ));
    }
    let nested = rss(
        "deep",
        &format!(
            "<item><title>t</title><x>{}{}</x></item>",
            "<a>".repeat(2000),
            "</a>".repeat(2000)
        ),
    );
    let laughs = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE rss [<!ENTITY lol \"lol\"><!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\"><!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">]>{}",
        rss("lol", "<item><title>&lol2;</title><link>https://lol.example/1</link></item>").trim_start_matches("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
    );
    let huge_feed = rss(
        "many",
        &(0..100_000)
            .map(|i| format!("<item><title>{i}</title><guid>m{i}</guid></item>"))
            .collect::<String>(),
    );
    let dup_guids = rss(
        "dup",
        "<item><title>첫째</title><guid>same</guid><link>https://dup.example/1</link></item><item><title>둘째</title><guid>same</guid><link>https://dup.example/2</link></item>",
    );
    let no_ids = rss(
        "noid",
        "<item><title>링크만</title><link>https://noid.example/1</link></item><item><title>제목만</title></item><item><description>아무것도 없음</description></item>",
    );
    let future = rss(
        "future",
        "<item><title>미래 글</title><link>https://future.example/1</link><pubDate>Fri, 01 Jan 2100 10:00:00 +0900</pubDate></item>",
    );
    let v: Vec<(&'static str, Reply)> = vec![
        ("good", Reply::ok(good.clone())),
        ("reset-mid-body", Reply::ok(good.clone()).reset_after(80)),
        (
            "hang-before-headers",
            Reply::ok(good.clone()).delay(Duration::from_secs(4)),
        ),
        (
            "one-byte-per-second",
            Reply::ok(good.clone()).drip(Duration::from_secs(1)),
        ),
        ("truncated-xml", Reply::ok(truncated)),
        (
            "html-page",
            Reply::status(200)
                .header("Content-Type", "text/html; charset=utf-8")
                .body(
                    "<!DOCTYPE html><html><head><title>블로그</title></head><body>홈</body></html>",
                ),
        ),
        ("empty-200", Reply::ok("")),
        ("no-content-204", Reply::status(204)),
        ("not-found-404", Reply::status(404)),
        ("gone-410", Reply::status(410)),
        (
            "429-retry-after",
            Reply::status(429).header("Retry-After", "3600"),
        ),
        ("429-no-retry-after", Reply::status(429)),
        ("500", Reply::status(500)),
        ("503", Reply::status(503)),
        (
            "redirect-loop",
            Reply::redirect(301, &server.url("/redirect-loop-b")),
        ),
        (
            "redirect-to-private",
            Reply::redirect(302, &private.url("/rss")),
        ),
        (
            "twenty-hop-chain",
            Reply::redirect(302, &server.url("/hop0")),
        ),
        (
            "wrong-content-type",
            Reply::status(200)
                .header("Content-Type", "image/png")
                .body(good.clone()),
        ),
        (
            "wrong-charset",
            Reply::status(200)
                .header("Content-Type", "application/rss+xml; charset=iso-8859-1")
                .body(rss("한글", &items(2, "charset"))),
        ),
        (
            "invalid-utf8",
            Reply::status(200)
                .header("Content-Type", "application/rss+xml; charset=utf-8")
                .body(euc_kr),
        ),
        (
            "2gb-content-length",
            Reply::ok(good.clone()).header("Content-Length", "2147483648"),
        ),
        ("gzip-bomb", Reply::ok(vec![b'<'; 40 << 20]).gzip()),
        ("deeply-nested", Reply::ok(nested)),
        ("billion-laughs", Reply::ok(laughs)),
        ("100000-entries", Reply::ok(huge_feed)),
        ("duplicate-guids", Reply::ok(dup_guids)),
        ("no-ids-or-dates", Reply::ok(no_ids)),
        ("future-dates", Reply::ok(future)),
    ];
    for (path, reply) in chain {
        server.route(&path, reply);
    }
    server.route(
        "/redirect-loop-b",
        Reply::redirect(301, &server.url("/redirect-loop")),
    );
    v
}

fn run() -> &'static Run {
    static RUN: OnceLock<Run> = OnceLock::new();
    RUN.get_or_init(|| {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let (server, private) = rt.block_on(async { (TestServer::start("127.0.0.6").await, TestServer::start("127.0.0.7").await) });
        private.route("/rss", Reply::ok(rss("private", &items(1, "private"))));
        server.route("/hop20", Reply::ok(rss("hops", &items(1, "hops"))));
        let refused_port = std::net::TcpListener::bind("127.0.0.6:0").unwrap().local_addr().unwrap().port();
        let mut feeds = vec![("connection-refused".to_string(), format!("http://127.0.0.6:{refused_port}/rss"))];
        for (name, reply) in kinds(&server, &private) {
            let path = format!("/{name}");
            server.route(&path, reply);
            feeds.push((name.to_string(), server.url(&path)));
        }
        let dir = tempfile::tempdir().unwrap();
        let mut toml = String::from(
            "[club]\nname = \"결함\"\nurl = \"https://geultto.github.io/\"\n[rounds]\nstart = \"2024-09-29\"\ndue = [\"2024-11-24\"]\n\
             [fetch]\ntimeout = \"1s\"\nconnect_timeout = \"1s\"\nmax_body = \"10MiB\"\nallow_private_addresses = false\nallow_addresses = [\"127.0.0.6/32\"]\n\
             [output]\nfeed_url = \"https://geultto.github.io/agg/atom.xml\"\n[reader]\npages = false\n",
        );
        for (name, url) in &feeds {
            let id = name.replace(|c: char| !c.is_ascii_alphanumeric(), "-").to_ascii_lowercase();
            toml.push_str(&format!("[[members]]\nid = \"m-{id}\"\nname = \"{name}\"\nteam = \"t\"\nfeeds = [\"{url}\"]\n"));
        }
        let config = dir.path().join("feeds.toml");
        std::fs::File::create(&config).unwrap().write_all(toml.as_bytes()).unwrap();
        let out = common::run(&config, NOW, &["fetch", "-v"]);
        let conn = rusqlite::Connection::open(dir.path().join("geultto-agg.db")).unwrap();
        let mut stmt = conn
            .prepare("SELECT member_id, http_status, consecutive_failures, last_error, paused_until, items FROM feeds")
            .unwrap();
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?.trim_start_matches("m-").to_string(),
                    Row { http_status: r.get(1)?, failures: r.get(2)?, error: r.get(3)?, paused_until: r.get(4)?, items: r.get(5)? },
                ))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let hits = feeds.iter().map(|(name, _)| (name.clone(), server.hits(&format!("/{name}")))).collect();
        Run {
            rows,
            stderr: common::text(&out),
            exit: out.status.code(),
            private_hits: private.total_hits(),
            hits,
            config,
            dir,
            _servers: (server, private),
            _rt: rt,
        }
    })
}

fn row(kind: &str) -> Row {
    let r = run();
    r.rows
        .get(kind)
        .cloned()
        .unwrap_or_else(|| panic!("no row for {kind}: {}", r.stderr))
}

fn failed_with(kind: &str, words: &[&str]) {
    let r = row(kind);
    assert!(
        r.failures >= 1,
        "{kind} should be a recorded failure: {r:?}"
    );
    let e = r.error.clone().unwrap_or_default();
    for w in words {
        assert!(e.contains(w), "{kind}: error {e:?} should say {w:?}");
    }
}

fn ok_with_items(kind: &str, items: i64) {
    let r = row(kind);
    assert_eq!((r.failures, r.items), (0, items), "{kind}: {r:?}");
}

fn inspect(kind: &str) -> serde_json::Value {
    let r = run();
    // inspect reads the same URL through the same guard.
    let url = r
        .stderr
        .lines()
        .find(|l| l.contains(&format!("/{kind} ")))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap()
        .to_string();
    let out = common::run(&r.config, NOW, &["inspect", &url, "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", common::text(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_run_completes_and_the_healthy_feed_is_unaffected() {
    let r = run();
    assert_eq!(r.exit, Some(0), "{}", r.stderr);
    assert_eq!(r.rows.len(), 29);
    ok_with_items("good", 3);
    assert!(r.dir.path().join("public/atom.xml").exists());
}

#[test]
fn connection_refused() {
    failed_with("connection-refused", &["refused"]);
}

#[test]
fn reset_mid_body() {
    failed_with("reset-mid-body", &[]);
    assert_eq!(
        run().hits["reset-mid-body"],
        3,
        "a reset is transient: retried twice"
    );
}

#[test]
fn hang_before_headers() {
    failed_with("hang-before-headers", &["timed out after 1 s"]);
}

#[test]
fn one_byte_per_second() {
    failed_with("one-byte-per-second", &["timed out after 1 s", "body"]);
}

#[test]
fn truncated_xml_keeps_the_complete_entries() {
    ok_with_items("truncated-xml", 3);
    let v = inspect("truncated-xml");
    assert!(v["repairs"].to_string().contains("cut off"), "{v}");
}

#[test]
fn html_page() {
    failed_with("html-page", &["not a feed: got an HTML page"]);
}

#[test]
fn empty_200() {
    failed_with("empty-200", &["empty body"]);
}

#[test]
fn no_content_204() {
    failed_with("no-content-204", &["empty body"]);
}

#[test]
fn not_found_404() {
    failed_with("not-found-404", &["server says 404"]);
    assert_eq!(run().hits["not-found-404"], 1, "a 404 is not retried");
}

#[test]
fn gone_410() {
    failed_with("gone-410", &["server says 410"]);
    assert_eq!(row("gone-410").http_status, Some(410));
}

#[test]
fn too_many_requests_with_retry_after_pauses() {
    let r = row("429-retry-after");
    assert_eq!(r.failures, 0, "a pause is not a failure: {r:?}");
    let now = chrono::DateTime::parse_from_rfc3339(NOW)
        .unwrap()
        .timestamp();
    assert_eq!(r.paused_until, Some(now + 3600));
    assert_eq!(run().hits["429-retry-after"], 1);
}

#[test]
fn too_many_requests_without_retry_after() {
    failed_with("429-no-retry-after", &["server says 429"]);
}

#[test]
fn server_error_500() {
    failed_with("500", &["server says 500"]);
    assert_eq!(run().hits["500"], 3);
}

#[test]
fn unavailable_503() {
    failed_with("503", &["server says 503"]);
}

#[test]
fn redirect_loop() {
    failed_with("redirect-loop", &["redirect loop"]);
}

#[test]
fn redirect_to_a_private_address() {
    failed_with("redirect-to-private", &["refused", "127.0.0.7"]);
    assert_eq!(
        run().private_hits,
        0,
        "no request reached the private address"
    );
}

#[test]
fn twenty_hop_chain() {
    failed_with("twenty-hop-chain", &["too many redirects"]);
}

#[test]
fn wrong_content_type_is_read_anyway() {
    ok_with_items("wrong-content-type", 3);
}

#[test]
fn wrong_charset_is_overruled() {
    ok_with_items("wrong-charset", 2);
    let v = inspect("wrong-charset");
    assert_eq!(v["title"], "한글 블로그");
    assert!(v["repairs"].to_string().contains("does not fit"), "{v}");
}

#[test]
fn invalid_utf8_falls_back_to_euc_kr() {
    ok_with_items("invalid-utf8", 2);
    let v = inspect("invalid-utf8");
    assert_eq!(v["encoding"], "EUC-KR");
    assert_eq!(v["entries"][0]["title"], "euckr 글 0");
}

#[test]
fn two_gigabyte_content_length() {
    failed_with("2gb-content-length", &["larger than 10 MiB"]);
}

#[test]
fn gzip_bomb() {
    failed_with("gzip-bomb", &["larger than 10 MiB"]);
}

#[test]
fn deeply_nested_document() {
    failed_with("deeply-nested", &["nested", "deep"]);
}

#[test]
fn billion_laughs() {
    ok_with_items("billion-laughs", 1);
    let v = inspect("billion-laughs");
    assert!(v["repairs"].to_string().contains("DTD"), "{v}");
    assert_eq!(v["entries"][0]["title"], "&lol2;");
}

#[test]
fn a_hundred_thousand_entries() {
    ok_with_items("100000-entries", 2000);
    let v = inspect("100000-entries");
    assert!(
        v["warnings"].to_string().contains("kept the newest 2000"),
        "{v}"
    );
}

#[test]
fn duplicate_guids() {
    ok_with_items("duplicate-guids", 1);
    let v = inspect("duplicate-guids");
    assert!(
        v["warnings"]
            .to_string()
            .contains("duplicate entry key guid:same"),
        "{v}"
    );
}

#[test]
fn entries_without_ids_or_dates() {
    ok_with_items("no-ids-or-dates", 3);
    let v = inspect("no-ids-or-dates");
    let keys: Vec<&str> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys[0], "link:https://noid.example/1");
    assert!(
        keys[1].starts_with("hash:") && keys[2].starts_with("hash:") && keys[1] != keys[2],
        "{keys:?}"
    );
    assert!(
        v["entries"][1]["warnings"].to_string().contains("no date"),
        "{v}"
    );
}

#[test]
fn future_dates_are_distrusted() {
    ok_with_items("future-dates", 1);
    let r = run();
    let out = common::run(&r.config, NOW, &["report", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let m = v["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "m-future-dates")
        .unwrap();
    assert_eq!(
        m["rounds"][0]["status"], "submitted",
        "judged by first_seen, inside the open round"
    );
    assert!(
        m["rounds"][0]["flags"].to_string().contains("future-date"),
        "{m}"
    );
}
