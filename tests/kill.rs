//! Crash safety: `fetch` on a few hundred local feeds is SIGKILLed at 50 random
//! moments. After every kill the store passes `PRAGMA integrity_check` and the previous outputs
//! are whole; the run after the last kill ends in the same state as an uninterrupted run — the
//! same posts and ids, the same report, byte-identical outputs. Also: two overlapping runs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const NOW: &str = "2024-11-20T12:00:00+09:00";
const FEEDS: usize = 200;

/// A club of `FEEDS` members with one local feed each (15 posts with some body text).
fn club(dir: &Path, feeds_dir: &Path) -> std::path::PathBuf {
    let mut toml = String::from(
        "[club]\nname = \"킬\"\nurl = \"https://geultto.github.io/\"\n[rounds]\nstart = \"2024-09-29\"\ndue = [\"2024-10-13\", \"2024-10-27\", \"2024-11-10\", \"2024-11-24\"]\n[output]\nfeed_url = \"https://geultto.github.io/agg/atom.xml\"\n[reader]\npages = false\n",
    );
    for m in 0..FEEDS {
        toml.push_str(&format!(
            "[[members]]\nid = \"m{m}\"\nname = \"멤버 {m}\"\nteam = \"팀 {}\"\nfeeds = [\"{}/f{m}.xml\"]\n",
            m % 7,
            feeds_dir.display()
        ));
    }
    let path = dir.join("feeds.toml");
    std::fs::write(&path, toml).unwrap();
    path
}

fn write_feeds(feeds_dir: &Path) {
    std::fs::create_dir_all(feeds_dir).unwrap();
    let body = "<p>글또에서 쓰는 긴 글의 한 문단입니다. 데이터와 인프라 이야기.</p>".repeat(20);
    for m in 0..FEEDS {
        let items: Vec<(String, String, String, String)> = (0..15)
            .map(|i| {
                (
                    format!("https://m{m}.example/{i}"),
                    format!("멤버 {m}의 글 {i}"),
                    format!("https://m{m}.example/{i}"),
                    format!(
                        "2024-{:02}-{:02}T{:02}:00:00+09:00",
                        9 + i / 8,
                        1 + (i * 3 + m) % 28,
                        m % 24
                    ),
                )
            })
            .collect();
        let refs: Vec<(&str, &str, &str, &str, &str)> = items
            .iter()
            .map(|(a, b, c, d)| {
                (
                    a.as_str(),
                    b.as_str(),
                    c.as_str(),
                    d.as_str(),
                    body.as_str(),
                )
            })
            .collect();
        std::fs::write(
            feeds_dir.join(format!("f{m}.xml")),
            common::rss(&format!("m{m}"), &format!("https://m{m}.example/"), &refs),
        )
        .unwrap();
    }
}

/// Posts (atom id, member, title, first_seen), the report JSON, atom.xml.
type State = (Vec<(String, String, String, i64)>, String, Vec<u8>);

/// What must be equal between an interrupted and an uninterrupted history of runs.
fn final_state(dir: &Path, config: &Path) -> State {
    let conn = rusqlite::Connection::open(dir.join("geultto-agg.db")).unwrap();
    let mut stmt = conn
        .prepare("SELECT atom_id, member_id, title, first_seen FROM posts ORDER BY atom_id")
        .unwrap();
    let posts = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let report = common::run(config, NOW, &["report", "--round", "all", "--json"]);
    assert!(report.status.success());
    let atom = std::fs::read(dir.join("public/atom.xml")).unwrap();
    (posts, String::from_utf8(report.stdout).unwrap(), atom)
}

fn fetch_cmd(config: &Path) -> Command {
    let mut c = Command::new(assert_cmd::cargo::cargo_bin("geultto-agg"));
    c.arg("-c")
        .arg(config)
        .arg("--now")
        .arg(NOW)
        .arg("-q")
        .arg("fetch");
    c
}

#[test]
fn fifty_sigkills_lose_nothing_and_the_next_run_converges() {
    let feeds = tempfile::tempdir().unwrap();
    write_feeds(feeds.path());
    // The uninterrupted reference.
    let reference = tempfile::tempdir().unwrap();
    let ref_config = club(reference.path(), feeds.path());
    let started = Instant::now();
    assert!(fetch_cmd(&ref_config).status().unwrap().success());
    let run_time = started.elapsed();
    let want = final_state(reference.path(), &ref_config);
    assert_eq!(want.0.len(), FEEDS * 15);

    let dir = tempfile::tempdir().unwrap();
    let config = club(dir.path(), feeds.path());
    let mut rng = fastrand::Rng::with_seed(2024);
    let (mut killed_mid_run, mut convergences) = (0, 0);
    for _ in 0..50 {
        let mut child = fetch_cmd(&config).spawn().unwrap();
        std::thread::sleep(Duration::from_micros(
            rng.u64(0..run_time.as_micros() as u64),
        ));
        let finished = child.try_wait().unwrap().is_some();
        child.kill().ok(); // SIGKILL
        child.wait().unwrap();
        let db = dir.path().join("geultto-agg.db");
        if db.exists() {
            let conn = rusqlite::Connection::open(&db).unwrap();
            let ok: String = conn
                .query_row("PRAGMA integrity_check", [], |r| r.get(0))
                .unwrap();
            assert_eq!(ok, "ok");
        }
        let atom = dir.path().join("public/atom.xml");
        if atom.exists() {
            let bytes = std::fs::read(&atom).unwrap();
            assert!(
                atom_syndication::Feed::read_from(&bytes[..]).is_ok(),
                "atom.xml is whole after a kill"
            );
        }
        if finished {
            // Nothing left to interrupt: the state must be the reference; then start cold again
            // (the previous outputs stay, as on a real machine).
            assert!(
                final_state(dir.path(), &config) == want,
                "a run after kills converges to the reference"
            );
            convergences += 1;
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(dir.path().join(format!("geultto-agg.db{suffix}")));
            }
        } else {
            killed_mid_run += 1;
        }
    }
    eprintln!("kills: 50, {killed_mid_run} mid-run, {convergences} completed runs checked; uninterrupted run {run_time:?}");
    assert!(
        killed_mid_run >= 25,
        "most kills should land mid-run ({killed_mid_run})"
    );
    assert!(fetch_cmd(&config).status().unwrap().success());
    let got = final_state(dir.path(), &config);
    assert_eq!(got.0, want.0, "the same posts and ids");
    assert_eq!(got.1, want.1, "the same statuses");
    assert!(got.2 == want.2, "byte-identical atom.xml");
}

#[test]
fn two_overlapping_runs_the_second_exits_3_quickly() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(support::TestServer::start("127.0.0.8"));
    let body = common::rss(
        "slow",
        "https://slow.example/",
        &[(
            "https://slow.example/1",
            "느린 글",
            "https://slow.example/1",
            "2024-11-19T10:00:00+09:00",
            "<p>글</p>",
        )],
    );
    server.route(
        "/rss",
        support::Reply::ok(body).delay(Duration::from_millis(1500)),
    );
    let dir = tempfile::tempdir().unwrap();
    let config = common::club_config(
        dir.path(),
        &[common::M {
            id: "slow",
            name: "느림",
            team: "t",
            feeds: vec![server.url("/rss")],
        }],
        "allow_addresses = [\"127.0.0.8/32\"]",
        "",
    );
    let mut first = fetch_cmd(&config).spawn().unwrap();
    // Wait until the first run holds the lock (its request reached the server).
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.total_hits() == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let started = Instant::now();
    let second = fetch_cmd(&config).output().unwrap();
    assert_eq!(second.status.code(), Some(3), "{}", common::text(&second));
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "the second run gives up at once"
    );
    assert!(first.wait().unwrap().success());
    assert_eq!(server.total_hits(), 1, "the second run fetched nothing");
    let conn = rusqlite::Connection::open(dir.path().join("geultto-agg.db")).unwrap();
    let ok: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    let posts: i64 = conn
        .query_row("SELECT COUNT(*) FROM posts", [], |r| r.get(0))
        .unwrap();
    assert_eq!(posts, 1);
    drop(rt);
}
