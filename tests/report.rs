//! `report` and `check` through the real binary: the demo's verdicts, the `late` timeline, a
//! member joining with old posts, and every planted roster mistake.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{club_config, demo_copy, run, text, M};

const NOW: &str = "2024-11-20T12:00:00+09:00";

fn json(out: &std::process::Output) -> serde_json::Value {
    assert_eq!(out.status.code(), Some(0), "{}", text(out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn statuses(v: &serde_json::Value, member: &str) -> Vec<String> {
    let m = v["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == member)
        .unwrap();
    m["rounds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_demo_report_matches_the_hand_checked_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    let config = demo_copy(dir.path(), "");
    assert_eq!(run(&config, NOW, &["fetch", "-q"]).status.code(), Some(0));
    let v = json(&run(&config, NOW, &["report", "--round", "all", "--json"]));
    // Checked by hand against the fixtures (see fixtures/demo and feeds.toml):
    let expected = [
        (
            "minji",
            [
                "submitted",
                "submitted",
                "submitted",
                "submitted",
                "pending",
                "pending",
            ],
        ),
        (
            "jihoon",
            [
                "submitted",
                "submitted",
                "short",
                "submitted",
                "pending",
                "pending",
            ],
        ),
        (
            "seoyeon",
            [
                "submitted",
                "missed",
                "submitted",
                "submitted",
                "pending",
                "pending",
            ],
        ),
        (
            "taehun",
            [
                "submitted",
                "submitted",
                "submitted",
                "submitted",
                "pending",
                "pending",
            ],
        ),
        (
            "yuna",
            [
                "submitted",
                "submitted",
                "submitted",
                "pending",
                "pending",
                "pending",
            ],
        ),
        (
            "dongwoo",
            [
                "submitted",
                "submitted",
                "pass",
                "pending",
                "pending",
                "pending",
            ],
        ),
        (
            "hyejin",
            [
                "exempt",
                "submitted",
                "submitted",
                "pending",
                "pending",
                "pending",
            ],
        ),
        (
            "sungmin",
            [
                "submitted",
                "submitted",
                "submitted",
                "submitted",
                "pending",
                "pending",
            ],
        ),
    ];
    for (member, want) in expected {
        assert_eq!(statuses(&v, member), want, "{member}");
    }
    let rounds = v["rounds"].as_array().unwrap();
    assert_eq!(rounds[0]["opens"], "2024-09-30");
    assert_eq!(rounds[0]["closes_at"], "2024-10-14T00:00:00+09:00");
    assert_eq!(rounds[3]["state"], "open");
    assert_eq!(rounds[4]["opens"], "2024-11-25");
    assert_eq!(rounds[4]["due"], "2024-12-22");
    let taehun = &v["members"][3];
    assert_eq!(
        taehun["rounds"][1]["flags"],
        serde_json::json!(["override"])
    );
    // The 00:10 post after the 10-27 due date counts for round 3.
    assert!(taehun["rounds"][2]["posts"].to_string().contains("Kafka"));
    let jihoon = &v["members"][1];
    assert_eq!(
        jihoon["totals"],
        serde_json::json!({"submitted": 3, "passes": 0, "missed": 1, "unverified": 0, "deduction": 10000})
    );
    assert_eq!(v["members"][5]["totals"]["passes"], 1);
    assert!(v["members"][7]["rounds"][0]["flags"]
        .to_string()
        .contains("cross-posted"));
    assert_eq!(v["generated_at"], NOW);
    insta::assert_snapshot!(
        "demo_report_json",
        serde_json::to_string_pretty(&v).unwrap()
    );

    // current = the open round 4; CSV has a BOM and a column per round.
    let current = json(&run(&config, NOW, &["report", "--json"]));
    assert_eq!(current["rounds"].as_array().unwrap().len(), 1);
    assert_eq!(current["rounds"][0]["round"], 4);
    let csv = run(
        &config,
        NOW,
        &["report", "--round", "all", "--format", "csv"],
    );
    let csv = String::from_utf8(csv.stdout).unwrap();
    assert!(csv.starts_with("\u{feff}id,name,team,round 1 (2024-10-13),"));
    assert!(csv.contains("seoyeon,이서연,프론트엔드,submitted,missed,submitted,submitted,pending,pending,3,0,1,0,10000,\r\n"), "{csv}");
    let table = run(&config, NOW, &["report", "--round", "3"]);
    let table = String::from_utf8(table.stdout).unwrap();
    assert!(
        table.contains("round 3 (2024-10-28 … 2024-11-10, closed)"),
        "{table}"
    );
    let bad = run(&config, NOW, &["report", "--round", "9"]);
    assert_eq!(bad.status.code(), Some(1));
}

/// A post that appears only after a fetch made more than `late_after` after the round closed,
/// dated inside the round, is `late`; with the second fetch inside `late_after`, `submitted`.
#[test]
fn late_is_judged_from_fetch_evidence() {
    for (second_fetch, want, flags) in [
        (
            "2024-10-14T07:00:00+09:00",
            "late",
            "[\"backdated\",\"length-unknown\"]",
        ),
        (
            "2024-10-14T05:00:00+09:00",
            "submitted",
            "[\"length-unknown\"]",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let feed = dir.path().join("f.xml");
        let old = (
            "https://m.example/1",
            "첫 글",
            "https://m.example/1",
            "2024-10-01T10:00:00+09:00",
            "<p>글</p>",
        );
        std::fs::write(&feed, common::rss("m", "https://m.example/", &[old])).unwrap();
        let config = club_config(
            dir.path(),
            &[M {
                id: "m",
                name: "엠",
                team: "t",
                feeds: vec![feed.display().to_string()],
            }],
            "",
            "",
        );
        // Round 2 (10-14 .. 10-27) is open; the feed has only a round-1 post.
        assert!(run(&config, "2024-10-20T12:00:00+09:00", &["fetch", "-q"])
            .status
            .success());
        // Round 2 closed at 10-28 00:00 KST. Fetch again (still absent).
        let second = second_fetch.replace("10-14", "10-28");
        assert!(run(&config, &second, &["fetch", "-q"]).status.success());
        // The post appears, dated inside round 2.
        let late = (
            "https://m.example/2",
            "늦은 글",
            "https://m.example/2",
            "2024-10-27T22:00:00+09:00",
            "<p>글</p>",
        );
        std::fs::write(&feed, common::rss("m", "https://m.example/", &[old, late])).unwrap();
        assert!(run(&config, "2024-10-29T09:00:00+09:00", &["fetch", "-q"])
            .status
            .success());
        let v = json(&run(
            &config,
            "2024-10-29T09:00:00+09:00",
            &["report", "--round", "2", "--json"],
        ));
        let r = &v["members"][0]["rounds"][0];
        assert_eq!(r["status"], want, "second fetch at {second}: {r}");
        assert_eq!(r["flags"].to_string(), flags);
        assert_eq!(
            v["members"][0]["totals"]["deduction"], 0,
            "a late costs nothing until an override"
        );
    }
}

#[test]
fn a_member_joining_with_60_old_posts_is_judged_by_their_dates_and_nothing_is_new() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.xml");
    let a_post = (
        "https://a.example/1",
        "에이 글",
        "https://a.example/1",
        "2024-11-18T10:00:00+09:00",
        "<p>a</p>",
    );
    std::fs::write(&a, common::rss("a", "https://a.example/", &[a_post])).unwrap();
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
    assert!(run(&config, NOW, &["fetch", "-q"]).status.success());
    // 60 posts, one every 3 days from 2024-05-01 to 2024-10-25: rounds 1 and 2 hold some.
    let items: Vec<(String, String, String, String)> = (0..60)
        .map(|i| {
            let d = chrono::NaiveDate::from_ymd_opt(2024, 5, 1).unwrap() + chrono::Days::new(3 * i);
            (
                format!("https://b.example/{i}"),
                format!("비 글 {i}"),
                format!("https://b.example/{i}"),
                format!("{d}T12:00:00+09:00"),
            )
        })
        .collect();
    let refs: Vec<(&str, &str, &str, &str, &str)> = items
        .iter()
        .map(|(a, b, c, d)| (a.as_str(), b.as_str(), c.as_str(), d.as_str(), "<p>b</p>"))
        .collect();
    std::fs::write(
        dir.path().join("b.xml"),
        common::rss("b", "https://b.example/", &refs),
    )
    .unwrap();
    let config = club_config(dir.path(), &members(true), "", "");
    let out = run(&config, "2024-11-20T13:00:00+09:00", &["fetch"]);
    assert!(
        text(&out).contains("0 new posts")
            && text(&out).contains("60 older posts recorded as history"),
        "{}",
        text(&out)
    );
    let xml = std::fs::read_to_string(dir.path().join("public/atom.xml")).unwrap();
    assert_eq!(
        xml.matches("<entry>").count(),
        1,
        "only a's post is in the feed"
    );
    let v = json(&run(
        &config,
        "2024-11-20T13:00:00+09:00",
        &["report", "--round", "all", "--json"],
    ));
    assert_eq!(
        statuses(&v, "b")[..4],
        ["submitted", "submitted", "missed", "pending"]
    );
    let flags = v["members"][1]["rounds"][0]["flags"].to_string();
    assert!(
        flags.contains("history") && flags.contains("length-unknown"),
        "{flags}"
    );
}

#[test]
fn check_finds_every_planted_roster_mistake() {
    let dir = tempfile::tempdir().unwrap();
    let base = r#"[club]
name = "글또"
url = "https://geultto.github.io/"
[rounds]
start = "2024-09-29"
due = ["2024-10-13", "2024-10-27", "2024-11-10"]
passes = 1
"#;
    let cases = [
        ("duplicate ids", "[[members]]\nid = \"a\"\nname = \"A\"\nfeeds = [\"a.xml\"]\n[[members]]\nid = \"a\"\nname = \"B\"\nfeeds = [\"b.xml\"]\n", "member id `a` is used twice"),
        ("same feed twice", "[[members]]\nid = \"a\"\nname = \"A\"\nfeeds = [\"a.xml\"]\n[[members]]\nid = \"b\"\nname = \"B\"\nfeeds = [\"a.xml\"]\n", "is listed under `a` too"),
        ("due not increasing", "[[members]]\nid = \"a\"\nname = \"A\"\nfeeds = [\"a.xml\"]\n", "due dates must increase"),
        ("too many passes", "[[members]]\nid = \"a\"\nname = \"A\"\nfeeds = [\"a.xml\"]\npasses = [1, 3]\n", "has 2 passes"),
        ("passes in a row", "[[members]]\nid = \"a\"\nname = \"A\"\nfeeds = [\"a.xml\"]\npasses = [2, 3]\n", "in a row"),
        ("joined_round out of range", "[[members]]\nid = \"a\"\nname = \"A\"\nfeeds = [\"a.xml\"]\njoined_round = 7\n", "round 7 does not exist"),
        ("unknown key", "[[members]]\nid = \"a\"\nname = \"A\"\nfeeds = [\"a.xml\"]\nblgo = \"x\"\n", "unknown field `blgo`"),
    ];
    for (what, members, message) in cases {
        let mut text_ = format!("{base}{members}");
        if what == "due not increasing" {
            text_ = text_.replace(
                "\"2024-10-27\", \"2024-11-10\"",
                "\"2024-11-10\", \"2024-10-27\"",
            );
        }
        if what == "too many passes" || what == "passes in a row" {
            text_ = text_.replace(
                "passes = 1\n",
                if what == "passes in a row" {
                    "passes = 2\n"
                } else {
                    "passes = 1\n"
                },
            );
        }
        let path = dir.path().join("feeds.toml");
        std::fs::write(&path, &text_).unwrap();
        let out = common::bin()
            .arg("-c")
            .arg(&path)
            .arg("check")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{what}: {}", text(&out));
        assert!(
            text(&out).contains(message),
            "{what}: expected {message:?} in {}",
            text(&out)
        );
    }
    // Roster-rule problems are only warnings in report.
    let path = dir.path().join("feeds.toml");
    std::fs::write(
        &path,
        format!(
            "{base}[[members]]\nid = \"a\"\nname = \"A\"\nfeeds = [\"a.xml\"]\npasses = [1, 3]\n"
        ),
    )
    .unwrap();
    let out = run(&path, NOW, &["report"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("warning: member `a` has 2 passes"),
        "{}",
        text(&out)
    );
}

/// A member whose second feed path has a typo is `unverified` (not charged) in closed rounds
/// without a post, with the feed and its error in the table, JSON and CSV; once the feed is
/// read after the close, the round becomes `missed`.
#[test]
fn a_broken_feed_makes_a_round_unverified_until_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.xml");
    let post = (
        "https://m.example/1",
        "첫 글",
        "https://m.example/1",
        "2024-10-01T10:00:00+09:00",
        "<p>글</p>",
    );
    std::fs::write(&good, common::rss("m", "https://m.example/", &[post])).unwrap();
    let typo = dir.path().join("typo.xml");
    let config = club_config(
        dir.path(),
        &[M {
            id: "m",
            name: "엠",
            team: "t",
            feeds: vec![good.display().to_string(), typo.display().to_string()],
        }],
        "",
        "",
    );
    // Round 2 closed at 10-28 00:00; both feeds polled after close + 6 h, one of them missing.
    let now = "2024-10-29T09:00:00+09:00";
    assert!(run(&config, now, &["fetch", "-q"]).status.success());
    let v = json(&run(&config, now, &["report", "--round", "2", "--json"]));
    let r = &v["members"][0]["rounds"][0];
    assert_eq!(r["status"], "unverified", "{r}");
    let unread = r["unverified"].as_array().unwrap();
    assert_eq!(unread.len(), 1, "only the broken feed: {r}");
    assert!(unread[0]["feed"].as_str().unwrap().ends_with("typo.xml"));
    assert!(
        unread[0]["why"].as_str().unwrap().contains("typo.xml"),
        "the reason carries the feed's error: {r}"
    );
    let totals = &v["members"][0]["totals"];
    assert_eq!(
        (totals["unverified"].as_u64(), totals["deduction"].as_u64()),
        (Some(1), Some(0))
    );
    let table = run(&config, now, &["report", "--round", "all"]);
    let table = String::from_utf8(table.stdout).unwrap();
    assert!(table.contains("? unverified"), "{table}");
    assert!(
        table.contains("m round 2:") && table.contains("typo.xml"),
        "{table}"
    );
    let csv = run(
        &config,
        now,
        &["report", "--round", "all", "--format", "csv"],
    );
    let csv = String::from_utf8(csv.stdout).unwrap();
    assert!(
        csv.contains(",unverified,") && csv.contains("round 2 unverified:"),
        "{csv}"
    );
    // The operators' digest of the week round 2 was due in names the member under the feeds.
    let digest = run(
        &config,
        now,
        &[
            "digest",
            "--week",
            "2024-W43",
            "--format",
            "text",
            "--audience",
            "operators",
        ],
    );
    let digest = String::from_utf8(digest.stdout).unwrap();
    assert!(digest.contains("판정하지 못한 회차가 1건"), "{digest}");
    assert!(
        digest.contains("엠 (m) 2회차") && digest.contains("typo.xml"),
        "{digest}"
    );
    assert!(digest.contains("판정 보류 1"), "{digest}");
    // The feed is fixed and read: now the tool has its evidence, and round 2 is missed.
    std::fs::write(&typo, common::rss("m2", "https://m.example/", &[])).unwrap();
    let later = "2024-10-30T09:00:00+09:00";
    assert!(run(&config, later, &["fetch", "-q"]).status.success());
    let v = json(&run(&config, later, &["report", "--round", "2", "--json"]));
    assert_eq!(v["members"][0]["rounds"][0]["status"], "missed");
    assert_eq!(v["members"][0]["totals"]["deduction"], 10000);
}
