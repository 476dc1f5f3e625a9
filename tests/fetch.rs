//! The fetch stage against real local servers (see `support`): conditional GET,
//! decompression, redirects, retries, timeouts, body caps, concurrency caps,
//! the private-address guard and local files.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use geultto_agg::fetch::{
    fetch_all, FailKind, FeedRequest, FeedResult, FetchError, FetchSettings, Outcome, RetryAfter,
};
use geultto_agg::ids;
use geultto_agg::source::FeedSource as Source;
use support::{Reply, TestServer};

const FEED: &str =
    r#"<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>"#;

fn settings() -> FetchSettings {
    FetchSettings {
        concurrency: 8,
        per_host: 0,
        timeout: Duration::from_secs(2),
        connect_timeout: Duration::from_secs(1),
        max_body: 1024 * 1024,
        user_agent: "geultto-agg-test/1.0".to_owned(),
        allow_private_addresses: true,
        allow_addresses: Vec::new(),
        retries: 2,
        retry_base: Duration::from_millis(20),
        rewrites: Vec::new(),
    }
}

fn req(index: usize, url: &str) -> FeedRequest {
    FeedRequest {
        index,
        source: Source::Url(url.parse().unwrap()),
        etag: None,
        last_modified: None,
        body_hash: None,
    }
}

async fn fetch_many(settings: &FetchSettings, requests: Vec<FeedRequest>) -> Vec<FeedResult> {
    let mut results = Vec::new();
    fetch_all(settings, requests, |r| results.push(r)).await;
    results.sort_by_key(|r| r.index);
    results
}

async fn fetch_one(settings: &FetchSettings, request: FeedRequest) -> FeedResult {
    let mut results = fetch_many(settings, vec![request]).await;
    assert_eq!(results.len(), 1);
    results.remove(0)
}

#[track_caller]
fn failed(result: &FeedResult) -> &FetchError {
    match &result.outcome {
        Outcome::Failed(err) => err,
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[track_caller]
fn fetched_body(result: &FeedResult) -> &[u8] {
    match &result.outcome {
        Outcome::Fetched { body, .. } => body,
        other => panic!("expected Fetched, got {other:?}"),
    }
}

// ---------------------------------------------------------------- conditional GET

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conditional_get_sends_validators_and_304_keeps_new_ones() {
    let server = TestServer::start("127.0.0.1").await;
    let lm = "Wed, 01 Jan 2025 00:00:00 GMT";
    server.route_seq(
        "/feed",
        vec![
            Reply::ok(FEED)
                .header("ETag", "\"v1\"")
                .header("Last-Modified", lm),
            Reply::status(304).header("ETag", "\"v2\""),
        ],
    );
    let s = settings();
    let first = fetch_one(&s, req(0, &server.url("/feed"))).await;
    let Outcome::Fetched {
        etag,
        last_modified,
        http_status,
        body,
        body_hash,
        content_type,
        final_url,
        permanent_redirect,
    } = first.outcome
    else {
        panic!("first fetch: {:?}", first.outcome);
    };
    assert_eq!(http_status, 200);
    assert_eq!(body, FEED.as_bytes());
    assert_eq!(body_hash, ids::body_hash(FEED.as_bytes()));
    assert_eq!(etag.as_deref(), Some("\"v1\""));
    assert_eq!(last_modified.as_deref(), Some(lm));
    assert_eq!(
        content_type.as_deref(),
        Some("application/rss+xml; charset=utf-8")
    );
    assert_eq!(final_url, server.url("/feed"));
    assert_eq!(permanent_redirect, None);

    let mut second = req(1, &server.url("/feed"));
    second.etag = etag;
    second.last_modified = last_modified;
    second.body_hash = Some(body_hash);
    let second = fetch_one(&s, second).await;
    assert_eq!(
        second.outcome,
        Outcome::NotModified {
            final_url: server.url("/feed"),
            http_status: 304,
            etag: Some("\"v2\"".to_owned()), // new validator from the 304
            last_modified: Some(lm.to_owned()), // the old one, kept
            permanent_redirect: None,
        }
    );
    let seen = server.requests();
    assert_eq!(seen.len(), 2);
    assert!(!seen[0].headers.contains_key("if-none-match"));
    assert_eq!(seen[1].headers["if-none-match"], "\"v1\"");
    assert_eq!(seen[1].headers["if-modified-since"], lm);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unchanged_body_is_not_modified() {
    let server = TestServer::start("127.0.0.1").await;
    server.route("/feed", Reply::ok(FEED).header("ETag", "\"same\""));
    let mut request = req(0, &server.url("/feed"));
    request.body_hash = Some(ids::body_hash(FEED.as_bytes()));
    let result = fetch_one(&settings(), request).await;
    assert_eq!(
        result.outcome,
        Outcome::NotModified {
            final_url: server.url("/feed"),
            http_status: 200,
            etag: Some("\"same\"".to_owned()),
            last_modified: None,
            permanent_redirect: None,
        }
    );

    // A different stored hash: the body is new.
    let mut request = req(1, &server.url("/feed"));
    request.body_hash = Some(ids::body_hash(b"older body"));
    let result = fetch_one(&settings(), request).await;
    assert_eq!(fetched_body(&result), FEED.as_bytes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_agent_and_accept_headers_are_sent() {
    let server = TestServer::start("127.0.0.1").await;
    server.route("/feed", Reply::ok(FEED));
    let result = fetch_one(&settings(), req(0, &server.url("/feed"))).await;
    fetched_body(&result);
    let seen = &server.requests()[0];
    assert_eq!(seen.headers["user-agent"], "geultto-agg-test/1.0");
    assert!(seen.headers["accept"].starts_with("application/atom+xml, application/rss+xml"));
    let accept_encoding = &seen.headers["accept-encoding"];
    for coding in ["gzip", "br", "deflate", "zstd"] {
        assert!(accept_encoding.contains(coding), "{accept_encoding}");
    }
}

// ---------------------------------------------------------------- encodings and redirects

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_body_is_decoded() {
    let server = TestServer::start("127.0.0.1").await;
    let big = FEED.repeat(50);
    server.route("/feed", Reply::ok(big.clone()).gzip());
    let result = fetch_one(&settings(), req(0, &server.url("/feed"))).await;
    assert_eq!(fetched_body(&result), big.as_bytes());
    match &result.outcome {
        Outcome::Fetched { body_hash, .. } => {
            assert_eq!(*body_hash, ids::body_hash(big.as_bytes()));
        }
        _ => unreachable!(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirect_chain_is_followed_and_a_301_first_hop_recorded() {
    let server = TestServer::start("127.0.0.1").await;
    let other = TestServer::start("127.0.0.2").await;
    server.route("/a", Reply::redirect(301, "/b"));
    server.route("/b", Reply::redirect(302, &other.url("/c")));
    other.route("/c", Reply::redirect(307, "feed.xml"));
    other.route("/feed.xml", Reply::ok(FEED));
    let result = fetch_one(&settings(), req(0, &server.url("/a"))).await;
    match &result.outcome {
        Outcome::Fetched {
            final_url,
            permanent_redirect,
            body,
            ..
        } => {
            assert_eq!(*final_url, other.url("/feed.xml"));
            assert_eq!(
                permanent_redirect.as_deref(),
                Some(server.url("/b").as_str())
            );
            assert_eq!(body, FEED.as_bytes());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(result.attempts, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permanent_redirect_is_recorded_for_308_but_not_for_302() {
    let server = TestServer::start("127.0.0.1").await;
    server.route("/temp", Reply::redirect(302, "/feed"));
    server.route("/perm", Reply::redirect(308, "/feed"));
    server.route("/feed", Reply::ok(FEED));
    let results = fetch_many(
        &settings(),
        vec![req(0, &server.url("/temp")), req(1, &server.url("/perm"))],
    )
    .await;
    match &results[0].outcome {
        Outcome::Fetched {
            permanent_redirect,
            final_url,
            ..
        } => {
            assert_eq!(*permanent_redirect, None);
            assert_eq!(*final_url, server.url("/feed"));
        }
        other => panic!("{other:?}"),
    }
    match &results[1].outcome {
        Outcome::Fetched {
            permanent_redirect, ..
        } => assert_eq!(
            permanent_redirect.as_deref(),
            Some(server.url("/feed").as_str())
        ),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permanent_redirect_is_reported_with_a_304() {
    let server = TestServer::start("127.0.0.1").await;
    server.route("/old", Reply::redirect(301, "/new"));
    server.route("/new", Reply::status(304));
    let mut request = req(0, &server.url("/old"));
    request.etag = Some("\"e\"".to_owned());
    let result = fetch_one(&settings(), request).await;
    assert_eq!(
        result.outcome,
        Outcome::NotModified {
            final_url: server.url("/new"),
            http_status: 304,
            etag: Some("\"e\"".to_owned()),
            last_modified: None,
            permanent_redirect: Some(server.url("/new")),
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirect_loop_fails_with_redirects() {
    let server = TestServer::start("127.0.0.1").await;
    server.route("/one", Reply::redirect(302, "/two"));
    server.route("/two", Reply::redirect(302, "/one"));
    let result = fetch_one(&settings(), req(0, &server.url("/one"))).await;
    let err = failed(&result);
    assert_eq!(err.kind, FailKind::Redirects);
    assert!(err.message.contains("redirect loop"), "{}", err.message);
    assert_eq!(result.attempts, 1, "a redirect loop is not retried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_redirects_are_followed_eleven_are_too_many() {
    let server = TestServer::start("127.0.0.1").await;
    for i in 0..11 {
        server.route(
            &format!("/r{i}"),
            Reply::redirect(302, &format!("/r{}", i + 1)),
        );
    }
    server.route("/r11", Reply::ok(FEED));
    let results = fetch_many(
        &settings(),
        vec![req(0, &server.url("/r1")), req(1, &server.url("/r0"))],
    )
    .await;
    assert_eq!(fetched_body(&results[0]), FEED.as_bytes());
    let err = failed(&results[1]);
    assert_eq!(err.kind, FailKind::Redirects);
    assert!(
        err.message.contains("too many redirects (over 10)"),
        "{}",
        err.message
    );
}

// ---------------------------------------------------------------- statuses and retries

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_error_500_is_retried_then_fails() {
    let server = TestServer::start("127.0.0.1").await;
    server.route("/feed", Reply::status(500));
    let s = settings();
    let result = fetch_one(&s, req(0, &server.url("/feed"))).await;
    let err = failed(&result);
    assert_eq!(err.kind, FailKind::Http);
    assert_eq!(err.http_status, Some(500));
    assert!(err.message.contains("server says 500"), "{}", err.message);
    assert_eq!(result.attempts, s.retries + 1);
    assert_eq!(server.hits("/feed"), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_503_then_200_succeeds_on_retry() {
    let server = TestServer::start("127.0.0.1").await;
    server.route_seq("/feed", vec![Reply::status(503), Reply::ok(FEED)]);
    let result = fetch_one(&settings(), req(0, &server.url("/feed"))).await;
    assert_eq!(fetched_body(&result), FEED.as_bytes());
    assert_eq!(result.attempts, 2);
    assert_eq!(server.hits("/feed"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_found_404_is_not_retried() {
    let server = TestServer::start("127.0.0.1").await;
    server.route("/feed", Reply::status(404));
    let result = fetch_one(&settings(), req(0, &server.url("/feed"))).await;
    let err = failed(&result);
    assert_eq!(err.kind, FailKind::Http);
    assert_eq!(err.http_status, Some(404));
    assert!(err.message.contains("404"), "{}", err.message);
    assert!(err.message.contains("moved"), "{}", err.message);
    assert_eq!(result.attempts, 1);
    assert_eq!(server.hits("/feed"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_requests_429_with_retry_after_is_not_retried() {
    let server = TestServer::start("127.0.0.1").await;
    server.route("/feed", Reply::status(429).header("Retry-After", "120"));
    let result = fetch_one(&settings(), req(0, &server.url("/feed"))).await;
    let err = failed(&result);
    assert_eq!(err.kind, FailKind::Http);
    assert_eq!(err.http_status, Some(429));
    assert_eq!(
        err.retry_after,
        Some(RetryAfter::Delay(Duration::from_secs(120)))
    );
    assert!(err.message.contains("wait 120 s"), "{}", err.message);
    assert_eq!(result.attempts, 1);
    assert_eq!(server.hits("/feed"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unavailable_503_with_http_date_retry_after_is_not_retried() {
    let server = TestServer::start("127.0.0.1").await;
    server.route(
        "/feed",
        Reply::status(503).header("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT"),
    );
    let result = fetch_one(&settings(), req(0, &server.url("/feed"))).await;
    let err = failed(&result);
    assert_eq!(err.http_status, Some(503));
    assert_eq!(
        err.retry_after,
        Some(RetryAfter::At(
            std::time::UNIX_EPOCH + Duration::from_secs(1_445_412_480)
        ))
    );
    assert_eq!(server.hits("/feed"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_refused_is_a_connect_failure() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let mut s = settings();
    s.retries = 1;
    let result = fetch_one(&s, req(0, &format!("http://127.0.0.1:{port}/feed"))).await;
    let err = failed(&result);
    assert_eq!(err.kind, FailKind::Connect);
    assert!(
        err.message.contains("connection refused"),
        "{}",
        err.message
    );
    assert_eq!(result.attempts, 2, "connection errors are retried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_mid_body_is_retried_as_a_connect_failure() {
    let server = TestServer::start("127.0.0.1").await;
    server.route("/feed", Reply::ok(vec![b'x'; 10_000]).reset_after(100));
    let mut s = settings();
    s.retries = 1;
    let result = fetch_one(&s, req(0, &server.url("/feed"))).await;
    let err = failed(&result);
    assert_eq!(err.kind, FailKind::Connect, "{}", err.message);
    assert!(
        err.message.contains("while reading the body"),
        "{}",
        err.message
    );
    assert_eq!(result.attempts, 2);
    assert_eq!(server.hits("/feed"), 2);
}

// ---------------------------------------------------------------- timeouts

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hanging_server_times_out() {
    let server = TestServer::start("127.0.0.1").await;
    server.route("/feed", Reply::ok(FEED).delay(Duration::from_secs(10)));
    let mut s = settings();
    s.timeout = Duration::from_millis(500);
    s.retries = 0;
    let started = Instant::now();
    let result = fetch_one(&s, req(0, &server.url("/feed"))).await;
    let took = started.elapsed();
    let err = failed(&result);
    assert_eq!(err.kind, FailKind::Timeout);
    assert!(
        err.message.contains("timed out after 500 ms"),
        "{}",
        err.message
    );
    assert!(
        took >= Duration::from_millis(450) && took < Duration::from_millis(1500),
        "{took:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_are_retried() {
    let server = TestServer::start("127.0.0.1").await;
    server.route("/feed", Reply::ok(FEED).delay(Duration::from_secs(10)));
    let mut s = settings();
    s.timeout = Duration::from_millis(200);
    s.retries = 2;
    let result = fetch_one(&s, req(0, &server.url("/feed"))).await;
    assert_eq!(failed(&result).kind, FailKind::Timeout);
    assert_eq!(result.attempts, 3);
    assert_eq!(server.hits("/feed"), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drip_fed_body_past_the_total_timeout_times_out() {
    let server = TestServer::start("127.0.0.1").await;
    server.route(
        "/feed",
        Reply::ok(vec![b'x'; 100]).drip(Duration::from_millis(100)),
    );
    let mut s = settings();
    s.timeout = Duration::from_secs(1);
    s.retries = 0;
    let started = Instant::now();
    let result = fetch_one(&s, req(0, &server.url("/feed"))).await;
    let took = started.elapsed();
    let err = failed(&result);
    assert_eq!(err.kind, FailKind::Timeout);
    assert!(
        err.message.contains("while reading the body"),
        "{}",
        err.message
    );
    assert!(
        took >= Duration::from_millis(950) && took < Duration::from_secs(2),
        "{took:?}"
    );
}

// ---------------------------------------------------------------- body size

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn body_over_max_body_is_too_large() {
    let server = TestServer::start("127.0.0.1").await;
    server.route("/feed", Reply::ok(vec![b'x'; 5000]));
    server.route("/fits", Reply::ok(vec![b'x'; 1000]));
    let mut s = settings();
    s.max_body = 1000;
    let results = fetch_many(
        &s,
        vec![req(0, &server.url("/feed")), req(1, &server.url("/fits"))],
    )
    .await;
    let err = failed(&results[0]);
    assert_eq!(err.kind, FailKind::TooLarge);
    assert!(
        err.message.contains("after decompression"),
        "{}",
        err.message
    );
    assert_eq!(results[0].attempts, 1);
    assert_eq!(fetched_body(&results[1]).len(), 1000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_bomb_stops_at_the_cap() {
    let server = TestServer::start("127.0.0.1").await;
    let bomb = support::gzip(&vec![0u8; 50 * 1024 * 1024]);
    assert!(bomb.len() < 200 * 1024);
    server.route("/feed", Reply::ok(bomb).header("Content-Encoding", "gzip"));
    let mut s = settings();
    s.max_body = 1024 * 1024;
    let started = Instant::now();
    let result = fetch_one(&s, req(0, &server.url("/feed"))).await;
    let took = started.elapsed();
    let err = failed(&result);
    assert_eq!(err.kind, FailKind::TooLarge);
    assert_eq!(err.message, "body larger than 1 MiB after decompression (raise [fetch] max_body if this feed is legitimate)");
    assert!(took < Duration::from_secs(1), "{took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_body_is_fetched_empty() {
    let server = TestServer::start("127.0.0.1").await;
    server.route("/feed", Reply::ok(""));
    let result = fetch_one(&settings(), req(0, &server.url("/feed"))).await;
    assert!(fetched_body(&result).is_empty());
}

// ---------------------------------------------------------------- concurrency

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_host_cap_limits_requests_in_flight() {
    let a = TestServer::start("127.0.0.2").await;
    let b = TestServer::start("127.0.0.3").await;
    let slow = Reply::ok(FEED).delay(Duration::from_millis(150));
    a.route("/feed", slow.clone());
    b.route("/feed", slow);
    let mut s = settings();
    s.concurrency = 8;
    s.per_host = 2;
    let mut requests: Vec<FeedRequest> = (0..12).map(|i| req(i, &a.url("/feed"))).collect();
    requests.extend((12..18).map(|i| req(i, &b.url("/feed"))));
    let results = fetch_many(&s, requests).await;
    assert_eq!(results.len(), 18);
    for r in &results {
        fetched_body(r);
    }
    assert_eq!(a.hits("/feed"), 12);
    assert_eq!(b.hits("/feed"), 6);
    for server in [&a, &b] {
        let max = server.max_in_flight();
        assert!(max <= 2 && max > 1, "max in flight {max}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_for_a_busy_host_holds_no_global_slot() {
    let a = TestServer::start("127.0.0.2").await;
    let b = TestServer::start("127.0.0.3").await;
    let slow = Reply::ok(FEED).delay(Duration::from_millis(200));
    a.route("/feed", slow.clone());
    b.route("/feed", slow);
    let mut s = settings();
    s.concurrency = 2;
    s.per_host = 1;
    // Host A's five feeds come first; B's single feed is last in line.
    let mut requests: Vec<FeedRequest> = (0..5).map(|i| req(i, &a.url("/feed"))).collect();
    requests.push(req(5, &b.url("/feed")));
    let results = fetch_many(&s, requests).await;
    assert!(results
        .iter()
        .all(|r| matches!(r.outcome, Outcome::Fetched { .. })));
    let a_starts: Vec<Instant> = a.requests().iter().map(|r| r.at).collect();
    let b_start = b.requests()[0].at;
    assert_eq!(a_starts.len(), 5);
    assert_eq!(a.max_in_flight(), 1);
    // B started while A's first request was still being answered.
    assert!(b_start < a_starts[1], "B waited for host A's queue");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_arrive_as_each_feed_finishes() {
    let server = TestServer::start("127.0.0.1").await;
    server.route("/slow", Reply::ok(FEED).delay(Duration::from_millis(800)));
    server.route("/fast", Reply::ok(FEED));
    let started = Instant::now();
    let mut arrivals = Vec::new();
    fetch_all(
        &settings(),
        vec![req(0, &server.url("/slow")), req(1, &server.url("/fast"))],
        |r| arrivals.push((r.index, started.elapsed())),
    )
    .await;
    assert_eq!(arrivals.len(), 2);
    assert_eq!(arrivals[0].0, 1, "the fast feed is reported first");
    assert!(arrivals[0].1 < Duration::from_millis(500), "{arrivals:?}");
    assert!(arrivals[1].1 >= Duration::from_millis(800), "{arrivals:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admission_holds_back_requests_until_the_caller_lets_go_of_results() {
    // Two admissions, six feeds: the caller keeps each result's permit for 300 ms (a slow
    // store), so no more than two feeds are ever in flight or in the caller's hands, although
    // concurrency alone would allow all six at once.
    let server = TestServer::start("127.0.0.1").await;
    server.route("/feed", Reply::ok(FEED).delay(Duration::from_millis(50)));
    let admission = std::sync::Arc::new(tokio::sync::Semaphore::new(2));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let settings = settings();
    let fetching = geultto_agg::fetch::fetch_all_admitted(
        &settings,
        (0..6).map(|i| req(i, &server.url("/feed"))).collect(),
        Some(std::sync::Arc::clone(&admission)),
        move |result, permit| {
            assert!(permit.is_some(), "each result carries its admission");
            let _ = tx.send((result, permit));
        },
    );
    let consuming = async {
        let mut done = 0;
        while let Some((result, permit)) = rx.recv().await {
            assert!(matches!(result.outcome, Outcome::Fetched { .. }));
            tokio::time::sleep(Duration::from_millis(300)).await;
            drop(permit);
            done += 1;
        }
        done
    };
    let ((), done) = tokio::join!(fetching, consuming);
    assert_eq!(done, 6);
    assert!(server.max_in_flight() <= 2, "{}", server.max_in_flight());
    assert_eq!(admission.available_permits(), 2);
}

// ---------------------------------------------------------------- private addresses

fn guarded() -> FetchSettings {
    FetchSettings {
        allow_private_addresses: false,
        ..settings()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn literal_loopback_address_is_refused() {
    let server = TestServer::start("127.0.0.1").await;
    server.route("/feed", Reply::ok(FEED));
    let result = fetch_one(&guarded(), req(0, &server.url("/feed"))).await;
    let err = failed(&result);
    assert_eq!(err.kind, FailKind::Private);
    assert!(
        err.message.contains("127.0.0.1 is loopback"),
        "{}",
        err.message
    );
    assert!(
        err.message.contains("allow_private_addresses"),
        "{}",
        err.message
    );
    assert!(err.message.contains("allow_addresses"), "{}", err.message);
    assert_eq!(result.attempts, 1);
    assert_eq!(server.total_hits(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn name_resolving_to_loopback_is_refused() {
    let server = TestServer::start("127.0.0.1").await;
    server.route("/feed", Reply::ok(FEED));
    let url = format!("http://localhost:{}/feed", server.port());
    let result = fetch_one(&guarded(), req(0, &url)).await;
    let err = failed(&result);
    assert_eq!(err.kind, FailKind::Private, "{}", err.message);
    assert!(
        err.message.contains("host localhost resolves to"),
        "{}",
        err.message
    );
    assert!(err.message.contains("which is loopback"), "{}", err.message);
    assert!(
        err.message.contains("allow_private_addresses"),
        "{}",
        err.message
    );
    assert_eq!(result.attempts, 1);
    assert_eq!(server.total_hits(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn name_resolving_to_an_allowed_address_is_fetched() {
    let server = TestServer::start("127.0.0.1").await;
    server.route("/feed", Reply::ok(FEED));
    let url = format!("http://localhost:{}/feed", server.port());
    let mut s = guarded();
    s.allow_addresses = vec!["127.0.0.0/8".parse().unwrap(), "::1".parse().unwrap()];
    let result = fetch_one(&s, req(0, &url)).await;
    assert_eq!(fetched_body(&result), FEED.as_bytes());
    assert_eq!(server.hits("/feed"), 1);
}

/// 6to4 (`2002::/16`), NAT64 local-use (`64:ff9b:1::/48`) and IPv4-translated
/// (`::ffff:0:a.b.c.d`) addresses were judged as IPv6 and let through, though they carry a
/// loopback or private IPv4 address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regression_ipv6_forms_embedding_a_private_ipv4_are_refused() {
    for (url, shown) in [
        ("http://[2002:7f00:1::]/feed", "2002:7f00:1:: is loopback"),
        (
            "http://[64:ff9b:1::7f00:1]/",
            "64:ff9b:1::7f00:1 is loopback",
        ),
        (
            "http://[::ffff:0:7f00:1]/feed",
            "::ffff:0:7f00:1 is loopback",
        ),
        (
            "http://[2002:c0a8:101::1]:8080/feed",
            "is private (RFC 1918)",
        ),
    ] {
        let result = fetch_one(&guarded(), req(0, url)).await;
        let err = failed(&result);
        assert_eq!(err.kind, FailKind::Private, "{url}: {}", err.message);
        assert!(err.message.contains(shown), "{url}: {}", err.message);
        assert_eq!(result.attempts, 1, "{url}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirect_to_a_private_address_is_refused() {
    let allowed = TestServer::start("127.0.0.2").await;
    let refused = TestServer::start("127.0.0.3").await;
    allowed.route("/feed", Reply::redirect(302, &refused.url("/feed")));
    refused.route("/feed", Reply::ok(FEED));
    let mut s = guarded();
    s.allow_addresses = vec!["127.0.0.2/32".parse().unwrap()];
    let result = fetch_one(&s, req(0, &allowed.url("/feed"))).await;
    let err = failed(&result);
    assert_eq!(err.kind, FailKind::Private);
    assert!(err.message.contains("redirect"), "{}", err.message);
    assert!(
        err.message.contains("127.0.0.3 is loopback"),
        "{}",
        err.message
    );
    assert_eq!(allowed.hits("/feed"), 1);
    assert_eq!(refused.total_hits(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirect_to_a_name_resolving_to_a_private_address_is_refused() {
    let allowed = TestServer::start("127.0.0.2").await;
    let refused = TestServer::start("127.0.0.1").await;
    let target = format!("http://localhost:{}/feed", refused.port());
    allowed.route("/feed", Reply::redirect(301, &target));
    refused.route("/feed", Reply::ok(FEED));
    let mut s = guarded();
    s.allow_addresses = vec!["127.0.0.2/32".parse().unwrap()];
    let result = fetch_one(&s, req(0, &allowed.url("/feed"))).await;
    let err = failed(&result);
    assert_eq!(err.kind, FailKind::Private, "{}", err.message);
    assert!(
        err.message.contains(&format!("redirect to {target}")),
        "{}",
        err.message
    );
    assert_eq!(refused.total_hits(), 0);
}

// ---------------------------------------------------------------- local files

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_path_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("feed.xml");
    std::fs::write(&path, FEED).unwrap();
    let request = |index, body_hash| FeedRequest {
        index,
        source: Source::Path(path.clone()),
        etag: None,
        last_modified: None,
        body_hash,
    };
    let result = fetch_one(&settings(), request(0, None)).await;
    match &result.outcome {
        Outcome::Fetched {
            final_url,
            http_status,
            body,
            body_hash,
            ..
        } => {
            assert_eq!(*final_url, path.display().to_string());
            assert_eq!(*http_status, 200);
            assert_eq!(body, FEED.as_bytes());
            assert_eq!(*body_hash, ids::body_hash(FEED.as_bytes()));
        }
        other => panic!("{other:?}"),
    }
    let again = fetch_one(
        &settings(),
        request(1, Some(ids::body_hash(FEED.as_bytes()))),
    )
    .await;
    assert!(
        matches!(
            again.outcome,
            Outcome::NotModified {
                http_status: 200,
                ..
            }
        ),
        "{:?}",
        again.outcome
    );

    let mut s = settings();
    s.max_body = 10;
    let big = fetch_one(&s, request(2, None)).await;
    assert_eq!(failed(&big).kind, FailKind::TooLarge);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_local_file_is_an_io_failure() {
    let path = PathBuf::from("/nonexistent/geultto/feed.xml");
    let request = FeedRequest {
        index: 7,
        source: Source::Path(path),
        etag: None,
        last_modified: None,
        body_hash: None,
    };
    let result = fetch_one(&settings(), request).await;
    assert_eq!(result.index, 7);
    let err = failed(&result);
    assert_eq!(err.kind, FailKind::Io);
    assert!(
        err.message
            .contains("feed file /nonexistent/geultto/feed.xml not found"),
        "{}",
        err.message
    );
}

// ---------------------------------------------------------------- isolation

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_feed_failing_never_affects_another() {
    let server = TestServer::start("127.0.0.1").await;
    server.route("/good", Reply::ok(FEED));
    server.route("/bad", Reply::status(404));
    server.route("/hang", Reply::ok(FEED).delay(Duration::from_secs(10)));
    let mut s = settings();
    s.timeout = Duration::from_millis(300);
    s.retries = 0;
    let results = fetch_many(
        &s,
        vec![
            req(0, &server.url("/bad")),
            req(1, &server.url("/hang")),
            req(2, &server.url("/good")),
            req(3, "ftp://example.org/feed"),
        ],
    )
    .await;
    assert_eq!(failed(&results[0]).kind, FailKind::Http);
    assert_eq!(failed(&results[1]).kind, FailKind::Timeout);
    assert_eq!(fetched_body(&results[2]), FEED.as_bytes());
    assert_eq!(failed(&results[3]).kind, FailKind::Other);
}
