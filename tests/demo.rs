//! The shipped demo club: the README's first command, on a copy of `feeds.toml`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::atom_check::assert_conforms;
use common::{count_rows, demo_copy, repo, run, text};

const NOW: &str = "2024-11-20T12:00:00+09:00";

#[test]
fn the_shipped_feeds_toml_parses_and_mentions_every_option() {
    let out = common::bin()
        .arg("-c")
        .arg(repo().join("feeds.toml"))
        .arg("check")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let shipped = std::fs::read_to_string(repo().join("feeds.toml")).unwrap();
    let keys = [
        "[club]",
        "name",
        "url",
        "timezone",
        "[rounds]",
        "start",
        "due",
        "every_days",
        "count",
        "grace",
        "passes",
        "min_chars",
        "penalty",
        "late_after",
        "[storage]",
        "path",
        "[fetch]",
        "concurrency",
        "per_host",
        "timeout",
        "connect_timeout",
        "max_body",
        "interval",
        "user_agent",
        "allow_private_addresses",
        "allow_addresses",
        "[output]",
        "dir",
        "feed_url",
        "entries",
        "content",
        "digest_dir",
        "templates",
        "show_statuses",
        "[email]",
        "smtp_host",
        "smtp_port",
        "security",
        "username",
        "password_env",
        "from",
        "to",
        "operators",
        "show_missing",
        "[reader]",
        "pages",
        "max_pages",
        "[[members]]",
        "id",
        "team",
        "blog",
        "feeds",
        "joined_round",
        "left_round",
        "overrides",
        "extra_posts",
    ];
    for key in keys {
        let written = if key.starts_with('[') {
            key.to_string()
        } else {
            format!("{key} =")
        };
        assert!(
            shipped.contains(&written),
            "feeds.toml does not mention `{key}`"
        );
    }
}

#[test]
fn the_demo_runs_offline_and_its_atom_feed_is_stable() {
    let dir = tempfile::tempdir().unwrap();
    let config = demo_copy(dir.path(), "");
    let out = run(&config, NOW, &["fetch"]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(
        t.contains("9 feeds: 9 ok, 0 not modified, 0 failed, 0 paused; 30 new posts"),
        "{t}"
    );
    let atom = dir.path().join("public/atom.xml");
    assert_conforms(&atom);
    let xml = std::fs::read_to_string(&atom).unwrap();
    // The fixtures' traps, seen through to the output.
    assert!(
        xml.contains("<title>트랜잭션 격리 수준 실험으로 이해하기</title>"),
        "0x08 removed"
    );
    assert!(
        xml.contains("<title>R&amp;D 회고: 사내 디자인 토큰 파이프라인 1년</title>"),
        "EUC-KR + bare &"
    );
    assert!(
        xml.contains("스프링 배치 삽질기… 청크 사이즈의 함정"),
        "&hellip; unescaped"
    );
    assert!(
        xml.contains("<published>2024-10-13T19:30:00+09:00</published>"),
        "zone-less date read in the club's zone"
    );
    assert_eq!(
        xml.matches("모니터링 지표 설계").count(),
        1,
        "cross-post published once"
    );
    assert!(
        xml.contains("https://sungmin-infra.tistory.com/31"),
        "the first listed feed's link wins"
    );
    // Ids included: a member's feeds are stored in roster order, so a cross-post's id is the
    // first-listed feed's on every machine.
    insta::assert_snapshot!("demo_atom", xml);

    let db = dir.path().join("geultto-agg.db");
    let before = (count_rows(&db, "posts"), count_rows(&db, "entries"));
    let out = run(&config, "2024-11-20T13:00:00+09:00", &["fetch"]);
    assert!(
        text(&out).contains("9 feeds: 0 ok, 9 not modified"),
        "{}",
        text(&out)
    );
    assert_eq!(
        (count_rows(&db, "posts"), count_rows(&db, "entries")),
        before
    );
    assert_eq!(std::fs::read_to_string(&atom).unwrap(), xml);
}
