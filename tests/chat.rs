//! Chat delivery through the real binary: a loopback server stands in for Slack's incoming
//! webhooks and Web API and for Discord's webhooks, records every request and answers with the
//! platforms' real status codes and bodies; a real SMTP server takes the members' reminder
//! mails. Covered: the demo's W46 digest as Block Kit and as Discord embeds (snapshots), sent
//! once per week and channel, `--force`; refusals (400, 403, 404, 410) exit 1 naming the
//! variable, never the address, and record nothing; a 429 waited out; mail and chat recorded
//! apart; a long week split within the limits with every post once; hostile titles that ping
//! nobody; `remind` printed, sent to the channel, as DMs and mails, once per round.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod support;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use common::smtp::smtp_server;
use common::{bin, count_rows, demo_copy, text};
use geultto_agg::chat::limits::{check_discord, check_slack};
use serde_json::Value;
use support::{Reply, TestServer};

const NOW: &str = "2024-11-20T12:00:00+09:00";
/// The evening before round 4's due date (2024-11-24): 28 hours before it closes.
const EVENING: &str = "2024-11-23T20:00:00+09:00";
const MEMBERS_ENV: &str = "GEULTTO_CHAT_MEMBERS";
const OPERATORS_ENV: &str = "GEULTTO_CHAT_OPERATORS";
const TOKEN_ENV: &str = "GEULTTO_SLACK_TOKEN";
const TOKEN: &str = "xoxb-test-token-0001";

/// A club on the demo roster with `[chat]`, private addresses allowed (the server is on
/// loopback), Slack ids for four members and addresses for four.
fn chat_demo(dir: &Path, kind: &str, bot: bool, email: &str) -> PathBuf {
    let bot = if bot {
        format!("bot_token_env = \"{TOKEN_ENV}\"\n")
    } else {
        String::new()
    };
    let chat = format!(
        "[chat]\nkind = \"{kind}\"\nmembers_webhook_env = \"{MEMBERS_ENV}\"\noperators_webhook_env = \"{OPERATORS_ENV}\"\n{bot}\n{email}"
    );
    let path = demo_copy(dir, &chat);
    let mut toml = std::fs::read_to_string(&path).unwrap();
    toml = toml.replace(
        "allow_private_addresses = false",
        "allow_private_addresses = true",
    );
    for (id, extra) in [
        (
            "jihoon",
            "slack_id = \"U01JIHOON\"\nemail = \"jihoon@geultto.test\"",
        ),
        ("yuna", "slack_id = \"U02YUNA\""),
        (
            "minji",
            "slack_id = \"U03MINJI\"\nemail = \"minji@geultto.test\"",
        ),
        ("hyejin", "email = \"hyejin@geultto.test\""),
        (
            "dongwoo",
            "slack_id = \"U04DONGWOO\"\nemail = \"dongwoo@geultto.test\"",
        ),
    ] {
        let at = format!("id = \"{id}\"\n");
        toml = toml.replace(&at, &format!("{at}{extra}\n"));
    }
    std::fs::write(&path, toml).unwrap();
    path
}

/// Runs the binary with the chat variables pointing at `server`.
fn run_chat(config: &Path, server: &TestServer, now: &str, args: &[&str]) -> Output {
    bin()
        .arg("-c")
        .arg(config)
        .arg("--now")
        .arg(now)
        .args(args)
        .env(
            MEMBERS_ENV,
            server.url("/hooks/members/T000/B000/SECRETmembers"),
        )
        .env(
            OPERATORS_ENV,
            server.url("/hooks/operators/T000/B001/SECRETops"),
        )
        .env(TOKEN_ENV, TOKEN)
        .env("GEULTTO_SLACK_API_BASE", server.url("/api"))
        .output()
        .unwrap()
}

fn fetched(dir: &Path, config: &Path) {
    let out = common::run(config, NOW, &["fetch"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(dir.join("geultto-agg.db").exists());
}

/// The JSON bodies posted to `path_prefix`, in order.
fn posted(server: &TestServer, path_prefix: &str) -> Vec<Value> {
    server
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.starts_with(path_prefix))
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

/// Nothing secret in what the run printed or in the store.
fn no_secret_leaks(out: &Output, db: &Path) {
    let printed = text(out);
    for secret in ["SECRETmembers", "SECRETops", TOKEN, "/hooks/"] {
        assert!(!printed.contains(secret), "{secret} printed:\n{printed}");
    }
    let bytes = std::fs::read(db).unwrap();
    let wal = std::fs::read(db.with_extension("db-wal")).unwrap_or_default();
    for secret in ["SECRETmembers", "SECRETops", TOKEN] {
        for file in [&bytes, &wal] {
            assert!(
                !file.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{secret} is in the store"
            );
        }
    }
}

fn slack_server(rt: &tokio::runtime::Runtime, ip: &str) -> TestServer {
    let s = rt.block_on(TestServer::start(ip));
    s.route("/hooks/members/T000/B000/SECRETmembers", Reply::ok("ok"));
    s.route("/hooks/operators/T000/B001/SECRETops", Reply::ok("ok"));
    s.route(
        "/api/chat.postMessage",
        Reply::ok(r#"{"ok":true,"channel":"D0001","ts":"1.2"}"#)
            .header("Content-Type", "application/json"),
    );
    s
}

#[test]
fn the_demo_digest_goes_to_both_slack_channels_as_block_kit_once_and_again_with_force() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s = slack_server(&rt, "127.0.0.76");
    let dir = tempfile::tempdir().unwrap();
    let config = chat_demo(dir.path(), "slack", false, "");
    fetched(dir.path(), &config);

    let out = run_chat(&config, &s, NOW, &["digest", "--send"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    no_secret_leaks(&out, &dir.path().join("geultto-agg.db"));
    let members = posted(&s, "/hooks/members");
    let operators = posted(&s, "/hooks/operators");
    assert_eq!((members.len(), operators.len()), (1, 1));
    for p in members.iter().chain(&operators) {
        check_slack(p).unwrap();
    }
    let body = serde_json::to_string(&members[0]).unwrap();
    assert!(body.contains("데이터 카탈로그 도입 후 3개월"), "{body}");
    assert!(
        !body.contains("운영진"),
        "the members' channel gets no operators' section"
    );
    insta::assert_snapshot!(
        "slack_w46_members",
        serde_json::to_string_pretty(&members[0]).unwrap()
    );
    insta::assert_snapshot!(
        "slack_w46_operators",
        serde_json::to_string_pretty(&operators[0]).unwrap()
    );
    assert_eq!(
        count_rows(&dir.path().join("geultto-agg.db"), "deliveries"),
        2
    );

    // A cron retry posts nothing.
    let again = run_chat(&config, &s, NOW, &["digest", "--send"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert!(
        text(&again).contains("already delivered"),
        "{}",
        text(&again)
    );
    assert_eq!(posted(&s, "/hooks/").len(), 2);

    let forced = run_chat(&config, &s, NOW, &["digest", "--send", "--force"]);
    assert_eq!(forced.status.code(), Some(0), "{}", text(&forced));
    assert_eq!(posted(&s, "/hooks/").len(), 4);
    assert_eq!(posted(&s, "/hooks/members")[1], members[0]);
}

#[test]
fn the_demo_digest_goes_to_discord_as_embeds_that_mention_nobody() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s = rt.block_on(TestServer::start("127.0.0.77"));
    s.route("/hooks/members/T000/B000/SECRETmembers", Reply::status(204));
    s.route("/hooks/operators/T000/B001/SECRETops", Reply::status(204));
    let dir = tempfile::tempdir().unwrap();
    let config = chat_demo(dir.path(), "discord", false, "");
    fetched(dir.path(), &config);

    let out = run_chat(&config, &s, NOW, &["digest", "--send"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    no_secret_leaks(&out, &dir.path().join("geultto-agg.db"));
    let members = posted(&s, "/hooks/members");
    assert_eq!(members.len(), 1);
    for p in members.iter().chain(&posted(&s, "/hooks/operators")) {
        check_discord(p).unwrap();
        assert_eq!(p["allowed_mentions"]["parse"], serde_json::json!([]));
    }
    insta::assert_snapshot!(
        "discord_w46_members",
        serde_json::to_string_pretty(&members[0]).unwrap()
    );
    insta::assert_snapshot!(
        "discord_w46_operators",
        serde_json::to_string_pretty(&posted(&s, "/hooks/operators")[0]).unwrap()
    );
}

#[test]
fn a_refused_webhook_exits_1_naming_the_variable_and_the_platform_word_and_records_nothing() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s = slack_server(&rt, "127.0.0.78");
    let dir = tempfile::tempdir().unwrap();
    let config = chat_demo(dir.path(), "slack", false, "");
    fetched(dir.path(), &config);
    let db = dir.path().join("geultto-agg.db");
    for (status, word) in [
        (400, "invalid_payload"),
        (403, "action_prohibited"),
        (404, "no_service"),
        (410, "channel_is_archived"),
    ] {
        s.route(
            "/hooks/members/T000/B000/SECRETmembers",
            Reply::status(status).body(word),
        );
        let out = run_chat(&config, &s, NOW, &["digest", "--send"]);
        assert_eq!(out.status.code(), Some(1), "{status}: {}", text(&out));
        let err = text(&out);
        assert!(
            err.contains(&format!("${MEMBERS_ENV}: {status} {word}")),
            "{status}: {err}"
        );
        no_secret_leaks(&out, &db);
        // The members' channel is not recorded; the operators' channel, accepted, is.
        let conn = rusqlite::Connection::open(&db).unwrap();
        let channels: Vec<String> = conn
            .prepare("SELECT channel FROM deliveries")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(channels, ["chat:operators"], "{status}");
    }
    // Once the channel takes it, the next run delivers the members' digest only.
    s.route("/hooks/members/T000/B000/SECRETmembers", Reply::ok("ok"));
    let before = posted(&s, "/hooks/operators").len();
    let out = run_chat(&config, &s, NOW, &["digest", "--send"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(posted(&s, "/hooks/operators").len(), before);
    assert_eq!(count_rows(&db, "deliveries"), 2);
}

#[test]
fn a_429_is_waited_out_for_its_retry_after_and_then_accepted() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s = slack_server(&rt, "127.0.0.79");
    s.route_seq(
        "/hooks/members/T000/B000/SECRETmembers",
        vec![
            Reply::status(429)
                .header("Retry-After", "1")
                .body("rate_limited"),
            Reply::ok("ok"),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let config = chat_demo(dir.path(), "slack", false, "");
    fetched(dir.path(), &config);
    let out = run_chat(&config, &s, NOW, &["digest", "--send"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let hits: Vec<_> = s
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/hooks/members"))
        .collect();
    assert_eq!(hits.len(), 2);
    assert!(hits[1].at - hits[0].at >= Duration::from_millis(950));
    assert_eq!(hits[0].body, hits[1].body, "the same message is retried");
    assert_eq!(
        count_rows(&dir.path().join("geultto-agg.db"), "deliveries"),
        2
    );
}

fn email_section(port: u16) -> String {
    format!(
        "[email]\nsmtp_host = \"127.0.0.1\"\nsmtp_port = {port}\nsecurity = \"none\"\nfrom = \"글또 봇 <bot@geultto.test>\"\nto = [\"members@geultto.test\"]\n"
    )
}

#[test]
fn mail_and_chat_are_recorded_apart_so_one_failing_neither_blocks_nor_repeats_the_other() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s = slack_server(&rt, "127.0.0.80");
    let (refusing, _) = smtp_server(true);
    let dir = tempfile::tempdir().unwrap();
    let config = chat_demo(dir.path(), "slack", false, &email_section(refusing));
    fetched(dir.path(), &config);
    let out = run_chat(&config, &s, NOW, &["digest", "--send"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(
        posted(&s, "/hooks/").len(),
        2,
        "chat went out though mail failed"
    );

    let (port, mails) = smtp_server(false);
    let toml = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        toml.replace(
            &format!("smtp_port = {refusing}"),
            &format!("smtp_port = {port}"),
        ),
    )
    .unwrap();
    let out = run_chat(&config, &s, NOW, &["digest", "--send"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(posted(&s, "/hooks/").len(), 2, "chat is not posted again");
    assert_eq!(mails.lock().unwrap().len(), 1, "the mail goes out now");
}

/// A club of one member whose feed holds `items` (title, day of November 2024), the n-th item
/// at 08:00 + n % 12 hours.
fn one_feed_club(dir: &Path, items: &[(String, u32)], kind: &str) -> PathBuf {
    let rows: Vec<(String, String, String, String, String)> = items
        .iter()
        .enumerate()
        .map(|(i, (title, day))| {
            (
                format!("post-{i}"),
                // Escaped twice: an RSS title is HTML, so a literal `<` is written `&amp;lt;`.
                html_escape::encode_text(&html_escape::encode_text(title)).into_owned(),
                format!("https://writer.example/posts/{i:03}"),
                format!("{day:02} Nov 2024 {:02}:00:00 +0900", 8 + i % 12),
                "본문".repeat(600),
            )
        })
        .collect();
    let refs: Vec<(&str, &str, &str, &str, &str)> = rows
        .iter()
        .map(|(a, b, c, d, e)| (a.as_str(), b.as_str(), c.as_str(), d.as_str(), e.as_str()))
        .collect();
    let feed = dir.join("writer.xml");
    std::fs::write(
        &feed,
        common::rss("writer", "https://writer.example/", &refs),
    )
    .unwrap();
    let members = [common::M {
        id: "writer",
        name: "김작가",
        team: "데이터",
        feeds: vec![feed.display().to_string()],
    }];
    let path = common::club_config(dir, &members, "allow_private_addresses = true", "");
    let mut toml = std::fs::read_to_string(&path).unwrap();
    toml.push_str(&format!(
        "\n[chat]\nkind = \"{kind}\"\nmembers_webhook_env = \"{MEMBERS_ENV}\"\n"
    ));
    std::fs::write(&path, toml).unwrap();
    path
}

#[test]
fn a_long_week_is_split_within_each_platforms_limits_with_every_post_once_in_order() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    for (kind, ip, check) in [
        (
            "slack",
            "127.0.0.81",
            check_slack as fn(&Value) -> Result<(), String>,
        ),
        ("discord", "127.0.0.82", check_discord),
    ] {
        let s = slack_server(&rt, ip);
        let dir = tempfile::tempdir().unwrap();
        let items: Vec<(String, u32)> = (0..80)
            .map(|i| {
                (
                    format!("{i:03}번째 글: 쿠버네티스 운영에서 배운 것들, 장애 회고와 다음 분기 계획 {}", "가".repeat(60)),
                    11 + (i / 12),
                )
            })
            .collect();
        let config = one_feed_club(dir.path(), &items, kind);
        let out = common::run(&config, NOW, &["fetch"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let out = run_chat(&config, &s, NOW, &["digest", "--send"]);
        assert_eq!(out.status.code(), Some(0), "{kind}: {}", text(&out));
        let messages = posted(&s, "/hooks/members");
        assert!(messages.len() > 1, "{kind}: 80 posts fit one message?");
        for m in &messages {
            check(m).unwrap_or_else(|e| panic!("{kind}: {e}"));
        }
        let all: String = messages
            .iter()
            .map(|m| serde_json::to_string(m).unwrap())
            .collect();
        let mut last = 0;
        for i in 0..80 {
            let link = format!("https://writer.example/posts/{i:03}");
            assert_eq!(all.matches(&link).count(), 1, "{kind}: {link}");
            let at = all.find(&link).unwrap();
            assert!(at >= last || i == 0, "{kind}: {link} out of order");
            last = at;
        }
        let db = dir.path().join("geultto-agg.db");
        let conn = rusqlite::Connection::open(&db).unwrap();
        let (parts, total): (u32, u32) = conn
            .query_row(
                "SELECT parts, total FROM deliveries WHERE channel = 'chat:members'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(
            (parts, total),
            (messages.len() as u32, messages.len() as u32)
        );
    }
}

#[test]
fn hostile_titles_ping_nobody_make_no_link_and_break_no_message() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let titles = [
        "<!channel> 긴급 공지",
        "@everyone 읽어 주세요 @here",
        "<https://evil.example|click> 여기",
        "[click](https://evil.example) 마크다운",
        "<@U999> 님께",
        "*굵게* _기울임_ `코드` ~취소~ | 파이프 > 인용",
    ];
    for (kind, ip) in [("slack", "127.0.0.83"), ("discord", "127.0.0.84")] {
        let s = slack_server(&rt, ip);
        let dir = tempfile::tempdir().unwrap();
        let items: Vec<(String, u32)> = titles.iter().map(|t| (t.to_string(), 14)).collect();
        let config = one_feed_club(dir.path(), &items, kind);
        let out = common::run(&config, NOW, &["fetch"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let out = run_chat(&config, &s, NOW, &["digest", "--send"]);
        assert_eq!(out.status.code(), Some(0), "{kind}: {}", text(&out));
        let messages = posted(&s, "/hooks/members");
        let body: String = messages
            .iter()
            .map(|m| serde_json::to_string(m).unwrap())
            .collect();
        for forbidden in ["<!channel>", "<!here>", "<https://evil", "<@U999>"] {
            assert!(!body.contains(forbidden), "{kind}: {forbidden} in {body}");
        }
        if kind == "discord" {
            assert!(!body.contains("@everyone"), "{body}");
            assert!(!body.contains("[click](https://evil"), "{body}");
            for m in &messages {
                assert_eq!(m["allowed_mentions"]["parse"], serde_json::json!([]));
            }
        } else {
            assert!(body.contains("&lt;!channel&gt;"), "{body}");
        }
        for m in &messages {
            if kind == "slack" {
                check_slack(m).unwrap();
            } else {
                check_discord(m).unwrap();
            }
        }
    }
}

#[test]
fn remind_prints_the_pending_members_by_team_and_their_payloads_without_sending() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s = slack_server(&rt, "127.0.0.85");
    let dir = tempfile::tempdir().unwrap();
    let config = chat_demo(dir.path(), "slack", true, "");
    fetched(dir.path(), &config);
    let out = run_chat(&config, &s, EVENING, &["remind"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let printed = String::from_utf8(out.stdout.clone()).unwrap();
    insta::assert_snapshot!("remind_text", printed);
    let json = run_chat(&config, &s, EVENING, &["remind", "--json"]);
    assert_eq!(json.status.code(), Some(0), "{}", text(&json));
    let v: Value = serde_json::from_slice(&json.stdout).unwrap();
    insta::assert_snapshot!("remind_json", serde_json::to_string_pretty(&v).unwrap());
    assert_eq!(s.total_hits(), 0, "nothing is sent without --send");
    for m in v["messages"].as_array().unwrap() {
        if m["channel"].as_str().unwrap().starts_with("chat:") {
            check_slack(&m["payload"]).unwrap();
        }
    }

    // A day when no round closes within remind_before: nothing to do, exit 0.
    let early = run_chat(
        &config,
        &s,
        "2024-11-12T09:00:00+09:00",
        &["remind", "--send"],
    );
    assert_eq!(early.status.code(), Some(0), "{}", text(&early));
    assert!(
        text(&early).contains("no round closes within 30h"),
        "{}",
        text(&early)
    );
    assert_eq!(s.total_hits(), 0);
    // A closed round cannot be reminded of.
    let closed = run_chat(&config, &s, EVENING, &["remind", "--round", "3"]);
    assert_eq!(closed.status.code(), Some(1), "{}", text(&closed));
    assert!(
        text(&closed).contains("round 3 is closed"),
        "{}",
        text(&closed)
    );
}

#[test]
fn remind_send_mentions_dms_and_mails_the_pending_members_once_per_round() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s = slack_server(&rt, "127.0.0.86");
    let (port, mails) = smtp_server(false);
    let dir = tempfile::tempdir().unwrap();
    let config = chat_demo(dir.path(), "slack", true, &email_section(port));
    fetched(dir.path(), &config);
    let plan: Value =
        serde_json::from_slice(&run_chat(&config, &s, EVENING, &["remind", "--json"]).stdout)
            .unwrap();
    let pending: Vec<String> = plan["reminder"]["teams"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["members"].as_array().unwrap().clone())
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect();
    // Round 4 on its eve: yuna, dongwoo and hyejin have not posted; two have Slack ids.
    assert_eq!(pending, ["yuna", "dongwoo", "hyejin"]);

    let out = run_chat(&config, &s, EVENING, &["remind", "--send"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    no_secret_leaks(&out, &dir.path().join("geultto-agg.db"));

    // The channel: every pending member, mentioned where the roster has a Slack id.
    let channel = posted(&s, "/hooks/members");
    assert_eq!(channel.len(), 1);
    let body = serde_json::to_string(&channel[0]).unwrap();
    for id in &pending {
        let member = plan["reminder"]["teams"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|t| t["members"].as_array().unwrap().clone())
            .find(|m| m["id"] == id.as_str())
            .unwrap();
        assert!(
            body.contains(member["name"].as_str().unwrap()),
            "{id}: {body}"
        );
        if let Some(slack) = member["slack_id"].as_str() {
            assert!(body.contains(&format!("<@{slack}>")), "{id}: {body}");
        }
    }
    // Direct messages: only pending members with a Slack id, with the bot token, paced.
    let dms: Vec<_> = s
        .requests()
        .into_iter()
        .filter(|r| r.path == "/api/chat.postMessage")
        .collect();
    let with_slack: Vec<&str> = ["jihoon", "yuna", "minji", "dongwoo"]
        .into_iter()
        .filter(|id| pending.iter().any(|p| p == id))
        .collect();
    assert_eq!(dms.len(), with_slack.len(), "{pending:?}");
    for pair in dms.windows(2) {
        assert!(
            pair[1].at - pair[0].at >= Duration::from_millis(950),
            "DMs at most one a second"
        );
    }
    for dm in &dms {
        assert_eq!(dm.headers["authorization"], format!("Bearer {TOKEN}"));
        let v: Value = serde_json::from_slice(&dm.body).unwrap();
        let channel = v["channel"].as_str().unwrap();
        assert!(["U02YUNA", "U04DONGWOO"].contains(&channel), "{v}");
    }
    // Mails: only pending members with an address.
    let mailed: Vec<Vec<String>> = mails.lock().unwrap().iter().map(|m| m.to.clone()).collect();
    let with_email: Vec<&str> = ["jihoon", "minji", "hyejin", "dongwoo"]
        .into_iter()
        .filter(|id| pending.iter().any(|p| p == id))
        .collect();
    assert_eq!(mailed.len(), with_email.len(), "{mailed:?}");
    // The operators hear the count.
    let tally = serde_json::to_string(&posted(&s, "/hooks/operators")).unwrap();
    let judged = plan["reminder"]["judged"].as_u64().unwrap();
    assert!(
        tally.contains(&format!("{judged}명 중 {}명", pending.len())),
        "{tally}"
    );
    // Nobody who posted, passed or is exempt is reminded.
    let report: Value = serde_json::from_slice(
        &run_chat(&config, &s, EVENING, &["report", "--round", "4", "--json"]).stdout,
    )
    .unwrap();
    for m in report["members"].as_array().unwrap() {
        let status = m["rounds"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["round"] == 4)
            .unwrap()["status"]
            .as_str()
            .unwrap();
        let id = m["id"].as_str().unwrap();
        assert_eq!(
            pending.iter().any(|p| p == id),
            status == "pending",
            "{id} {status}"
        );
    }

    // Once per round: a second run sends nothing; --force sends it all again.
    let before = s.total_hits();
    let again = run_chat(&config, &s, EVENING, &["remind", "--send"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert_eq!(s.total_hits(), before);
    assert_eq!(mails.lock().unwrap().len(), with_email.len());
    let forced = run_chat(&config, &s, EVENING, &["remind", "--send", "--force"]);
    assert_eq!(forced.status.code(), Some(0), "{}", text(&forced));
    assert_eq!(s.total_hits(), before * 2);
}

#[test]
fn a_webhook_on_a_private_address_is_refused_unless_allowed_and_a_slow_one_times_out() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s = slack_server(&rt, "127.0.0.87");
    let dir = tempfile::tempdir().unwrap();
    let config = chat_demo(dir.path(), "slack", false, "");
    fetched(dir.path(), &config);
    let db = dir.path().join("geultto-agg.db");
    let toml = std::fs::read_to_string(&config).unwrap();

    // The guard of [fetch] applies: loopback is refused while private addresses are not allowed.
    std::fs::write(
        &config,
        toml.replace(
            "allow_private_addresses = true",
            "allow_private_addresses = false",
        ),
    )
    .unwrap();
    let out = run_chat(&config, &s, NOW, &["digest", "--send"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("${MEMBERS_ENV}")),
        "{}",
        text(&out)
    );
    assert_eq!(s.total_hits(), 0, "nothing reached the private address");
    assert_eq!(count_rows(&db, "deliveries"), 0);
    no_secret_leaks(&out, &db);

    // So does its timeout: a channel that answers after the whole-request timeout is not sent.
    s.route(
        "/hooks/members/T000/B000/SECRETmembers",
        Reply::ok("ok").delay(Duration::from_secs(3)),
    );
    std::fs::write(
        &config,
        toml.replace("timeout = \"30s\"", "timeout = \"1s\""),
    )
    .unwrap();
    let out = run_chat(&config, &s, NOW, &["digest", "--send"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("did not answer within 1 s"),
        "{}",
        text(&out)
    );
    let conn = rusqlite::Connection::open(&db).unwrap();
    let members: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM deliveries WHERE channel = 'chat:members'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(members, 0);
}

#[test]
fn a_direct_message_slack_refuses_fails_alone_and_is_the_only_one_sent_again() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s = slack_server(&rt, "127.0.0.88");
    // Slack's Web API answers 200 with ok:false for a user it cannot reach.
    s.route_seq(
        "/api/chat.postMessage",
        vec![
            Reply::ok(r#"{"ok":true}"#),
            Reply::ok(r#"{"ok":false,"error":"channel_not_found"}"#),
            Reply::ok(r#"{"ok":true}"#),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let config = chat_demo(dir.path(), "slack", true, "");
    fetched(dir.path(), &config);
    let out = run_chat(&config, &s, EVENING, &["remind", "--send"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = text(&out);
    assert!(
        err.contains(&format!("${TOKEN_ENV}: 200 channel_not_found")),
        "{err}"
    );
    assert!(
        err.contains("slack_id"),
        "the advice names what to check: {err}"
    );
    assert_eq!(posted(&s, "/hooks/members").len(), 1, "the channel got it");
    let first: Vec<Value> = posted(&s, "/api/");
    assert_eq!(first.len(), 2);

    // The retry sends only the direct message that failed: the channel and the operators'
    // count were accepted the first time, and each is recorded on its own.
    let out = run_chat(&config, &s, EVENING, &["remind", "--send"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let dms = posted(&s, "/api/");
    assert_eq!(dms.len(), 3);
    assert_eq!(dms[2]["channel"], first[1]["channel"]);
    assert_eq!(posted(&s, "/hooks/members").len(), 1);
    assert_eq!(posted(&s, "/hooks/operators").len(), 1);
}
