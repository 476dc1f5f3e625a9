//! The real binary on local feeds: exit codes, the lock, config errors, reruns, history, inspect.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{club_config, count_rows, run, text, M};

const NOW: &str = "2024-11-20T12:00:00+09:00";

fn items(prefix: &str, n: usize, first_day: u32) -> Vec<(String, String, String, String, String)> {
    (0..n)
        .map(|i| {
            let day = first_day + i as u32;
            (
                format!("https://{prefix}.example/{i}"),
                format!("{prefix} 글 {i}"),
                format!("https://{prefix}.example/{i}"),
                format!(
                    "2024-{:02}-{:02}T10:00:00+09:00",
                    1 + (day / 28) % 12,
                    1 + day % 28
                ),
                "<p>본문</p>".to_string(),
            )
        })
        .collect()
}

fn rss_of(prefix: &str, items: &[(String, String, String, String, String)]) -> String {
    let refs: Vec<(&str, &str, &str, &str, &str)> = items
        .iter()
        .map(|(a, b, c, d, e)| (a.as_str(), b.as_str(), c.as_str(), d.as_str(), e.as_str()))
        .collect();
    common::rss(prefix, &format!("https://{prefix}.example/"), &refs)
}

#[test]
fn a_broken_feed_is_a_recorded_error_and_the_run_completes() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.xml");
    std::fs::write(&good, rss_of("good", &items("good", 3, 250))).unwrap();
    let html = dir.path().join("html.xml");
    std::fs::write(
        &html,
        "<!DOCTYPE html><html><head><title>블로그</title></head><body>hi</body></html>",
    )
    .unwrap();
    let empty = dir.path().join("empty.xml");
    std::fs::write(&empty, "").unwrap();
    let config = club_config(
        dir.path(),
        &[
            M {
                id: "good",
                name: "좋음",
                team: "a",
                feeds: vec![good.display().to_string()],
            },
            M {
                id: "html",
                name: "에이치",
                team: "a",
                feeds: vec![html.display().to_string()],
            },
            M {
                id: "empty",
                name: "빈",
                team: "a",
                feeds: vec![
                    empty.display().to_string(),
                    dir.path().join("missing.xml").display().to_string(),
                ],
            },
        ],
        "",
        "",
    );
    let out = run(&config, NOW, &["fetch"]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(t.contains("4 feeds: 1 ok, 0 not modified, 3 failed"), "{t}");
    assert!(t.contains("not a feed: got an HTML page"), "{t}");
    assert!(t.contains("empty body"), "{t}");
    assert!(t.contains("missing.xml"), "{t}");
    assert_eq!(count_rows(&dir.path().join("geultto-agg.db"), "posts"), 3);
    let out = run(&config, NOW, &["fetch", "--fail-on-feed-errors"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

#[test]
fn a_second_run_while_the_lock_is_held_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("f.xml");
    std::fs::write(&feed, rss_of("f", &items("f", 1, 250))).unwrap();
    let config = club_config(
        dir.path(),
        &[M {
            id: "f",
            name: "에프",
            team: "a",
            feeds: vec![feed.display().to_string()],
        }],
        "",
        "",
    );
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.path().join("geultto-agg.db.lock"))
        .unwrap();
    lock.try_lock().unwrap();
    let started = std::time::Instant::now();
    let out = run(&config, NOW, &["fetch"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert!(
        text(&out).contains("another geultto-agg run holds the lock"),
        "{}",
        text(&out)
    );
    assert!(!dir.path().join("public/atom.xml").exists());
    drop(lock);
    assert_eq!(run(&config, NOW, &["fetch"]).status.code(), Some(0));
    // A run that ended leaves no lock file behind (regression: a stray `*.lock`).
    assert!(!dir.path().join("geultto-agg.db.lock").exists());
}

#[test]
fn config_errors_name_the_key_the_line_and_the_fix_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let config = club_config(
        dir.path(),
        &[M {
            id: "f",
            name: "에프",
            team: "a",
            feeds: vec!["f.xml".into()],
        }],
        "concurency = 3",
        "",
    );
    let out = run(&config, NOW, &["fetch"]);
    assert_eq!(out.status.code(), Some(1));
    let t = text(&out);
    assert!(
        t.contains("line 11")
            && t.contains("unknown field `concurency`")
            && t.contains("remove it or fix its spelling"),
        "{t}"
    );
    let config = club_config(
        dir.path(),
        &[M {
            id: "f",
            name: "에프",
            team: "a",
            feeds: vec!["f.xml".into()],
        }],
        "timeout = \"soon\"",
        "",
    );
    let out = run(&config, NOW, &["check"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("line 11: `fetch.timeout`"),
        "{}",
        text(&out)
    );
    let out = common::bin()
        .arg("-c")
        .arg(dir.path().join("nope.toml"))
        .arg("fetch")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("cannot read the config"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_rerun_adds_nothing_and_a_new_members_old_posts_are_history() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.xml");
    std::fs::write(&a, rss_of("a", &items("a", 5, 270))).unwrap();
    let members = |with_b: bool| {
        let mut m = vec![M {
            id: "a",
            name: "에이",
            team: "t",
            feeds: vec![a.display().to_string()],
        }];
        if with_b {
            m.push(M {
                id: "b",
                name: "비",
                team: "t",
                feeds: vec![dir.path().join("b.xml").display().to_string()],
            });
        }
        m
    };
    let config = club_config(dir.path(), &members(false), "", "");
    assert_eq!(run(&config, NOW, &["fetch"]).status.code(), Some(0));
    let db = dir.path().join("geultto-agg.db");
    let (posts, entries) = (count_rows(&db, "posts"), count_rows(&db, "entries"));
    assert_eq!((posts, entries), (5, 5));
    let out = run(&config, "2024-11-20T13:00:00+09:00", &["fetch"]);
    assert!(
        text(&out).contains("0 ok, 1 not modified"),
        "{}",
        text(&out)
    );
    assert_eq!(
        (count_rows(&db, "posts"), count_rows(&db, "entries")),
        (5, 5)
    );
    // A member joins with 60 old posts and one new one.
    let mut b_items = items("b", 60, 0);
    b_items.push((
        "https://b.example/new".into(),
        "비의 새 글".into(),
        "https://b.example/new".into(),
        "2024-11-19T10:00:00+09:00".into(),
        "<p>새</p>".into(),
    ));
    std::fs::write(dir.path().join("b.xml"), rss_of("b", &b_items)).unwrap();
    let config = club_config(dir.path(), &members(true), "", "");
    let out = run(&config, "2024-11-20T14:00:00+09:00", &["fetch"]);
    let t = text(&out);
    assert!(
        t.contains("1 new post")
            && !t.contains("1 new posts")
            && t.contains("60 older posts recorded as history"),
        "{t}"
    );
    let xml = std::fs::read_to_string(dir.path().join("public/atom.xml")).unwrap();
    assert_eq!(xml.matches("<entry>").count(), 6, "{xml}");
    assert!(xml.contains("비의 새 글"));
    assert_eq!(count_rows(&db, "posts"), 66);
}

#[test]
fn inspect_shows_keys_repairs_and_dates_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("broken.xml");
    std::fs::write(
        &feed,
        "\n<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.00\"><channel><title>R&D 블로그</title>\
         <item><title>첫\u{8} 글</title><link>https://x.example/1?utm_source=rss</link><pubDate>2024-10-10 21:30:00</pubDate></item>\
         <item><title>둘째</title></item></channel></rss>",
    )
    .unwrap();
    let config = club_config(
        dir.path(),
        &[M {
            id: "x",
            name: "엑스",
            team: "t",
            feeds: vec!["broken.xml".into()],
        }],
        "",
        "",
    );
    let out = run(&config, NOW, &["inspect", feed.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["format"], "rss2");
    assert_eq!(v["encoding"], "UTF-8");
    let repairs = v["repairs"].to_string();
    for want in ["whitespace", "control", "bare '&'", "2.00"] {
        assert!(repairs.contains(want), "{repairs}");
    }
    let e = &v["entries"][0];
    assert_eq!(e["key"], "link:https://x.example/1");
    assert_eq!(e["title"], "첫 글");
    assert_eq!(e["normalised_link"], "https://x.example/1");
    assert_eq!(e["published"], "2024-10-10T21:30:00+09:00");
    assert!(e["chars"].is_null());
    assert!(v["entries"][1]["key"]
        .as_str()
        .unwrap()
        .starts_with("hash:"));
    let out = run(&config, NOW, &["inspect", feed.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("key:        link:https://x.example/1"));
    let out = run(
        &config,
        NOW,
        &["inspect", dir.path().join("nope.xml").to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn regression_output_into_a_closed_pipe_ends_quietly_not_with_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::demo_copy(dir.path(), "");
    assert!(run(&config, NOW, &["fetch", "-q"]).status.success());
    let binary = assert_cmd::cargo::cargo_bin("geultto-agg");
    for args in [
        ["feeds", "--json"],
        ["report", "--json"],
        ["opml", "export"],
    ] {
        // The reader is gone before the command writes a byte (`… | head -0`).
        let mut child = std::process::Command::new(&binary)
            .arg("-c")
            .arg(&config)
            .arg("--now")
            .arg(NOW)
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn regression_a_store_path_at_another_programs_database_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::demo_copy(dir.path(), "");
    let db = dir.path().join("geultto-agg.db");
    for (what, setup) in [
        (
            "its tables are",
            "CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT); INSERT INTO moz_places(url) VALUES ('x');",
        ),
        ("its application_id is", "PRAGMA application_id = 1234;"),
    ] {
        let _ = std::fs::remove_file(&db);
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(setup).unwrap();
        drop(conn);
        let before = std::fs::read(&db).unwrap();
        let out = run(&config, NOW, &["fetch"]);
        assert_eq!(out.status.code(), Some(1), "{what}: {}", text(&out));
        let err = text(&out);
        assert!(err.contains("belongs to another program") && err.contains(what), "{err}");
        assert_eq!(std::fs::read(&db).unwrap(), before, "{what}: the file was changed");
        assert!(!dir.path().join("geultto-agg.db-wal").exists());
        assert!(!dir.path().join("geultto-agg.db.lock").exists(), "a failed run leaves no lock");
    }
    // Our own store, including one made before stores were marked, is opened and marked.
    let _ = std::fs::remove_file(&db);
    assert!(run(&config, NOW, &["fetch", "-q"]).status.success());
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("PRAGMA application_id = 0;").unwrap();
    drop(conn);
    assert!(run(&config, NOW, &["fetch", "-q"]).status.success());
    let conn = rusqlite::Connection::open(&db).unwrap();
    let id: i32 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .unwrap();
    assert_eq!(id, geultto_agg::store::APPLICATION_ID);
}

#[test]
fn regression_switching_to_full_content_says_so_and_refetch_fills_it_in() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::demo_copy(dir.path(), "");
    assert!(run(&config, NOW, &["fetch", "-q"]).status.success());
    let toml = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        toml.replace("content = \"summary\"", "content = \"full\""),
    )
    .unwrap();
    let atom = dir.path().join("public/atom.xml");
    let contents = || {
        std::fs::read_to_string(&atom)
            .unwrap()
            .matches("<content")
            .count()
    };

    let out = run(&config, NOW, &["fetch"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("fetch --refetch"), "{}", text(&out));
    assert_eq!(contents(), 0, "the stored posts have no HTML yet");

    let out = run(&config, NOW, &["fetch", "--refetch"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!text(&out).contains("fetch --refetch"), "{}", text(&out));
    assert!(
        contents() > 10,
        "refetch filled the HTML in: {}",
        contents()
    );

    let out = run(&config, NOW, &["fetch"]);
    assert!(
        !text(&out).contains("--refetch"),
        "said once fixed: {}",
        text(&out)
    );
}

#[test]
fn regression_small_words_one_feed_thousands_separators_and_errors_said_once() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("f.xml");
    std::fs::write(&feed, common::rss("f", "https://f.example/", &[])).unwrap();
    let config = club_config(
        dir.path(),
        &[M {
            id: "f",
            name: "에프",
            team: "a",
            feeds: vec![feed.display().to_string()],
        }],
        "",
        "",
    );
    let out = run(&config, NOW, &["fetch"]);
    assert!(text(&out).contains("1 feed: "), "{}", text(&out));
    let all = run(&config, NOW, &["report", "--round", "all"]);
    let t = String::from_utf8_lossy(&all.stdout);
    assert!(
        t.contains("₩30,000"),
        "three missed rounds, with a separator:\n{t}"
    );
    // A missing config: the cause said once.
    let out = run(&dir.path().join("nope.toml"), NOW, &["report"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.matches("os error 2").count(), 1, "{err}");
    // A file that is not XML at all is "not a feed", not a root element found in its prose.
    let readme = dir.path().join("README.md");
    std::fs::write(&readme, "# notes\n\nrun `geultto-agg <command>`\n").unwrap();
    let out = run(&config, NOW, &["inspect", readme.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("neither XML") && !err.contains("root is"),
        "{err}"
    );
}

/// One member's `HTTP://…` feed was taken for another scheme and stopped the whole run at
/// config time. Schemes are case-insensitive: `check` is ok, and `fetch` completes with that
/// feed refused by the address guard like any other loopback URL.
#[test]
fn regression_an_upper_case_feed_scheme_does_not_stop_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.xml");
    std::fs::write(&good, rss_of("good", &items("good", 2, 250))).unwrap();
    let config = club_config(
        dir.path(),
        &[
            M {
                id: "good",
                name: "좋음",
                team: "a",
                feeds: vec![good.display().to_string()],
            },
            M {
                id: "upper",
                name: "대문자",
                team: "a",
                feeds: vec!["HTTP://127.0.0.1:1/x".into()],
            },
        ],
        "allow_private_addresses = false",
        "",
    );
    let out = run(&config, NOW, &["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = run(&config, NOW, &["fetch"]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(t.contains("2 feeds: 1 ok, 0 not modified, 1 failed"), "{t}");
    assert!(t.contains("http://127.0.0.1:1/x"), "{t}");
    assert!(t.contains("127.0.0.1 is loopback"), "{t}");
    assert_eq!(count_rows(&dir.path().join("geultto-agg.db"), "posts"), 2);
}

/// IPv6 forms embedding a loopback IPv4 address (6to4, NAT64 local-use, IPv4-translated) were
/// judged as IPv6 and fetched; through the binary they fail as private and the run completes.
#[test]
fn regression_ipv6_forms_embedding_loopback_are_refused_as_private() {
    let dir = tempfile::tempdir().unwrap();
    let feeds = [
        "http://[2002:7f00:1::]/feed",
        "http://[64:ff9b:1::7f00:1]/",
        "http://[::ffff:0:7f00:1]/rss",
    ];
    let config = club_config(
        dir.path(),
        &[M {
            id: "v6",
            name: "육",
            team: "a",
            feeds: feeds.iter().map(|f| f.to_string()).collect(),
        }],
        "allow_private_addresses = false",
        "",
    );
    let out = run(&config, NOW, &["fetch"]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(t.contains("3 feeds: 0 ok, 0 not modified, 3 failed"), "{t}");
    for shown in ["2002:7f00:1::", "64:ff9b:1::7f00:1", "::ffff:0:7f00:1"] {
        assert!(t.contains(&format!("{shown} is loopback")), "{shown}: {t}");
    }
}
