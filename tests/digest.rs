//! The weekly digest, the page and the OPML roster through the real binary: snapshots of the
//! demo digest, mail received by a real SMTP server (mailin-embedded, in process, on loopback),
//! no resend without `--force`, a failed send not recorded, hostile post text escaped in every
//! output, and members.opml re-imported into the same roster.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::smtp::smtp_server;
use common::{count_rows, demo_copy, run, text};

const NOW: &str = "2024-11-20T12:00:00+09:00";

fn ok(out: &std::process::Output) {
    assert_eq!(out.status.code(), Some(0), "{}", text(out));
}

fn stdout(out: &std::process::Output) -> String {
    ok(out);
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn email_section(port: u16) -> String {
    format!(
        r#"[email]
smtp_host = "127.0.0.1"
smtp_port = {port}
security = "none"
from = "글또 봇 <bot@geultto.test>"
to = ["members@geultto.test", "all@geultto.test"]
operators = ["ops@geultto.test"]
show_missing = false"#
    )
}

/// A received message, parsed: (headers, text part, html part).
struct Parsed {
    subject: String,
    content_type: String,
    message_id: Option<String>,
    date: Option<String>,
    list_id: Option<String>,
    parts: Vec<(String, String, String)>, // (mime type, charset, decoded body)
}

fn parse_mail(bytes: &[u8]) -> Parsed {
    use mailparse::MailHeaderMap;
    let m = mailparse::parse_mail(bytes).unwrap();
    Parsed {
        subject: m.headers.get_first_value("Subject").unwrap_or_default(),
        content_type: m.ctype.mimetype.clone(),
        message_id: m.headers.get_first_value("Message-ID"),
        date: m.headers.get_first_value("Date"),
        list_id: m.headers.get_first_value("List-Id"),
        parts: m
            .subparts
            .iter()
            .map(|p| {
                (
                    p.ctype.mimetype.clone(),
                    p.ctype.charset.clone(),
                    p.get_body().unwrap(),
                )
            })
            .collect(),
    }
}

const W46_TITLES: [&str; 4] = [
    "데이터 카탈로그 도입 후 3개월",
    "데이터 품질 검사를 파이프라인에 넣기까지",
    "사내 기술 블로그: Next.js App Router 전환기",
    "Prometheus 장기 보관을 위한 Thanos 도입기",
];

#[test]
fn the_demo_digest_arrives_by_smtp_as_multipart_alternative_and_is_not_sent_twice() {
    let dir = tempfile::tempdir().unwrap();
    let (port, mails) = smtp_server(false);
    let config = demo_copy(dir.path(), &email_section(port));
    ok(&run(&config, NOW, &["fetch"]));
    let out = run(&config, NOW, &["digest", "--send"]);
    ok(&out);
    let received = mails.lock().unwrap().clone();
    assert_eq!(received.len(), 2, "members and operators: {}", text(&out));

    let members = received
        .iter()
        .find(|m| m.to.iter().any(|t| t.contains("members@")))
        .expect("the group message");
    let mut to = members.to.clone();
    to.sort();
    assert_eq!(to, ["all@geultto.test", "members@geultto.test"]);
    let raw = String::from_utf8(members.data.clone()).unwrap();
    assert!(
        raw.contains("Subject: =?utf-8?"),
        "subject is RFC 2047 encoded:\n{raw}"
    );
    let m = parse_mail(&members.data);
    assert_eq!(m.subject, "[글또 10기 (데모)] 이번 주 새 글 4편 · 2024-W46");
    assert_eq!(m.content_type, "multipart/alternative");
    assert_eq!(m.parts.len(), 2, "two alternatives");
    assert_eq!(m.parts[0].0, "text/plain");
    assert_eq!(m.parts[1].0, "text/html");
    for (_, charset, _) in &m.parts {
        assert_eq!(charset.to_ascii_lowercase(), "utf-8");
    }
    let id = m.message_id.expect("Message-ID");
    assert!(
        id.starts_with("<2024-W46.members.") && id.ends_with("@geultto.github.io>"),
        "{id}"
    );
    assert!(
        m.date.unwrap().contains("20 Nov 2024 03:00:00"),
        "Date from --now"
    );
    assert!(m
        .list_id
        .unwrap()
        .contains("<members.digest.geultto.github.io>"));
    let (plain, html) = (&m.parts[0].2, &m.parts[1].2);
    for title in W46_TITLES {
        assert!(plain.contains(title), "{title} in text:\n{plain}");
        assert!(html.contains(title), "{title} in html");
    }
    // History and other weeks stay out: the Redis post is W47, the Parquet post W45.
    assert!(!plain.contains("Redis 분산 락") && !plain.contains("Parquet 파일 구조"));
    // Nobody's name as a non-submitter in the group message (show_missing = false).
    assert!(!plain.contains("미제출:"));

    let ops = received
        .iter()
        .find(|m| m.to == ["ops@geultto.test"])
        .expect("the operators' message");
    let o = parse_mail(&ops.data);
    assert_eq!(o.subject, "[글또 10기 (데모)] 운영진 주간 점검 · 2024-W46");
    assert!(o.parts[0].2.contains("피드 상태"), "{}", o.parts[0].2);

    // Sent weeks are recorded; a second --send sends nothing.
    assert_eq!(
        count_rows(&dir.path().join("geultto-agg.db"), "digests_sent"),
        2
    );
    let again = run(&config, NOW, &["digest", "--send"]);
    ok(&again);
    assert_eq!(mails.lock().unwrap().len(), 2, "{}", text(&again));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already sent"),
        "{}",
        text(&again)
    );
    // A later cron run in the same week neither resends.
    let later = run(&config, "2024-11-23T09:00:00+09:00", &["digest", "--send"]);
    ok(&later);
    assert_eq!(mails.lock().unwrap().len(), 2);
    // --force does.
    ok(&run(&config, NOW, &["digest", "--send", "--force"]));
    assert_eq!(mails.lock().unwrap().len(), 4);
}

#[test]
fn a_refused_send_exits_1_and_is_not_recorded_so_the_next_run_sends() {
    let dir = tempfile::tempdir().unwrap();
    let (bad_port, bad) = smtp_server(true);
    let config = demo_copy(dir.path(), &email_section(bad_port));
    ok(&run(&config, NOW, &["fetch"]));
    let out = run(&config, NOW, &["digest", "--send"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("NOT sent"),
        "{}",
        text(&out)
    );
    assert!(bad.lock().unwrap().is_empty());
    let db = dir.path().join("geultto-agg.db");
    assert_eq!(count_rows(&db, "digests_sent"), 0);
    assert_eq!(count_rows(&db, "digest_posts"), 0);

    // The same week, now to a server that accepts: it is sent (nothing was recorded before).
    let (port, mails) = smtp_server(false);
    let text_config = std::fs::read_to_string(&config).unwrap().replace(
        &format!("smtp_port = {bad_port}"),
        &format!("smtp_port = {port}"),
    );
    std::fs::write(&config, text_config).unwrap();
    ok(&run(&config, NOW, &["digest", "--send"]));
    assert_eq!(mails.lock().unwrap().len(), 2);
    assert_eq!(count_rows(&db, "digests_sent"), 2);
    assert_eq!(
        count_rows(&db, "digest_posts"),
        6,
        "3 stored W46 posts × 2 audiences"
    );
}

#[test]
fn a_password_variable_that_is_not_set_stops_the_send_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let (port, mails) = smtp_server(false);
    let email = email_section(port)
        + "\nusername = \"bot@geultto.test\"\npassword_env = \"GEULTTO_TEST_UNSET_PASSWORD\"";
    let config = demo_copy(dir.path(), &email);
    ok(&run(&config, NOW, &["fetch"]));
    let out = common::bin()
        .env_remove("GEULTTO_TEST_UNSET_PASSWORD")
        .arg("-c")
        .arg(&config)
        .args(["--now", NOW, "digest", "--send"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("GEULTTO_TEST_UNSET_PASSWORD"),
        "{}",
        text(&out)
    );
    assert!(mails.lock().unwrap().is_empty());
    assert_eq!(
        count_rows(&dir.path().join("geultto-agg.db"), "digests_sent"),
        0
    );
}

#[test]
fn send_without_an_email_section_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = demo_copy(dir.path(), "");
    ok(&run(&config, NOW, &["fetch"]));
    let out = run(&config, NOW, &["digest", "--send"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("[email]"));
}

// ---------------------------------------------------------------------------------------------
// The demo digest: snapshots and files.

#[test]
fn demo_digest_snapshots_and_files() {
    let dir = tempfile::tempdir().unwrap();
    let config = demo_copy(dir.path(), "");
    ok(&run(&config, NOW, &["fetch"]));
    // Default week at NOW (Wednesday of W47) is 2024-W46.
    let html = stdout(&run(&config, NOW, &["digest", "--format", "html"]));
    let txt = stdout(&run(&config, NOW, &["digest", "--format", "text"]));
    let md = stdout(&run(&config, NOW, &["digest", "--format", "md"]));
    insta::assert_snapshot!("demo_digest_w46_html", html);
    insta::assert_snapshot!("demo_digest_w46_text", txt);
    insta::assert_snapshot!("demo_digest_w46_md", md);
    // The week round 3 closed, for the operators: counts and names.
    let ops = stdout(&run(
        &config,
        NOW,
        &[
            "digest",
            "--week",
            "2024-W45",
            "--format",
            "text",
            "--audience",
            "operators",
        ],
    ));
    insta::assert_snapshot!("demo_digest_w45_operators_text", ops);
    assert!(
        ops.contains("3회차 마감")
            && ops.contains("분량 미달: 박지훈")
            && ops.contains("패스: 강동우")
    );
    for title in W46_TITLES {
        assert!(txt.contains(title) && md.contains(title) && html.contains(title));
    }

    // Without --format: every format for both audiences in [output] digest_dir.
    ok(&run(&config, NOW, &["digest"]));
    let mut names: Vec<String> = std::fs::read_dir(dir.path().join("digest"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "2024-W46-members.eml",
            "2024-W46-members.html",
            "2024-W46-members.md",
            "2024-W46-members.txt",
            "2024-W46-operators.eml",
            "2024-W46-operators.html",
            "2024-W46-operators.md",
            "2024-W46-operators.txt",
        ]
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("digest/2024-W46-members.html")).unwrap(),
        html
    );
    let eml = std::fs::read(dir.path().join("digest/2024-W46-members.eml")).unwrap();
    let m = parse_mail(&eml);
    assert_eq!(m.content_type, "multipart/alternative");
    assert_eq!(m.parts[0].2.replace("\r\n", "\n"), txt);
    // --out elsewhere; the same bytes (deterministic).
    ok(&run(
        &config,
        NOW,
        &[
            "digest",
            "--out",
            dir.path().join("elsewhere").to_str().unwrap(),
        ],
    ));
    assert_eq!(
        std::fs::read(dir.path().join("elsewhere/2024-W46-members.eml")).unwrap(),
        eml
    );
    // A bad --week is refused.
    let bad = run(&config, NOW, &["digest", "--week", "2024-46"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("YYYY-Www"));
}

#[test]
fn an_empty_week_gets_a_short_friendly_digest() {
    let dir = tempfile::tempdir().unwrap();
    let config = demo_copy(dir.path(), "");
    ok(&run(&config, NOW, &["fetch"]));
    let txt = stdout(&run(
        &config,
        NOW,
        &["digest", "--week", "2024-W30", "--format", "text"],
    ));
    assert!(txt.contains("이번 주 새 글 0편"), "{txt}");
    assert!(txt.contains("새 글이 없었어요"), "{txt}");
    assert!(txt.lines().count() < 15, "short:\n{txt}");
}

#[test]
fn a_post_first_seen_after_its_week_was_sent_goes_in_the_next_digest_once() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("late.xml");
    let item = |t: &str, d: &str| (t.to_string(), d.to_string());
    let write = |items: &[(String, String)]| {
        let items: Vec<(&str, &str, String, &str, &str)> = items
            .iter()
            .map(|(t, d)| {
                (
                    t.as_str(),
                    t.as_str(),
                    format!("https://late.example/{t}"),
                    d.as_str(),
                    "본문",
                )
            })
            .collect();
        let items: Vec<(&str, &str, &str, &str, &str)> = items
            .iter()
            .map(|(a, b, c, d, e)| (*a, *b, c.as_str(), *d, *e))
            .collect();
        std::fs::write(&feed, common::rss("late", "https://late.example/", &items)).unwrap();
    };
    let (port, mails) = smtp_server(false);
    let config = common::club_config(
        dir.path(),
        &[common::M {
            id: "late",
            name: "늦은이",
            team: "팀",
            feeds: vec![feed.display().to_string()],
        }],
        "",
        "",
    );
    let mut toml = std::fs::read_to_string(&config).unwrap();
    let at = toml.find("[[members]]").unwrap();
    toml.insert_str(at, &format!("{}\n\n", email_section(port)));
    std::fs::write(&config, toml).unwrap();
    // W46 (Nov 11-17): one post on the 12th, fetched on the 13th.
    write(&[item("first", "Tue, 12 Nov 2024 10:00:00 +0900")]);
    ok(&run(&config, "2024-11-13T09:00:00+09:00", &["fetch"]));
    ok(&run(
        &config,
        "2024-11-18T09:00:00+09:00",
        &["digest", "--send"],
    ));
    // A post dated the 15th (W46) appears only on the 19th (W47), after W46 was sent.
    write(&[
        item("first", "Tue, 12 Nov 2024 10:00:00 +0900"),
        item("backdated", "Fri, 15 Nov 2024 10:00:00 +0900"),
    ]);
    ok(&run(&config, "2024-11-19T09:00:00+09:00", &["fetch"]));
    ok(&run(
        &config,
        "2024-11-25T09:00:00+09:00",
        &["digest", "--send"],
    ));
    let mails = mails.lock().unwrap();
    let members: Vec<String> = mails
        .iter()
        .filter(|m| m.to.iter().any(|t| t.starts_with("members@")))
        .map(|m| parse_mail(&m.data).parts[0].2.clone())
        .collect();
    assert_eq!(members.len(), 2);
    assert!(members[0].contains("first") && !members[0].contains("backdated"));
    assert!(members[1].contains("backdated"), "{}", members[1]);
    assert!(
        !members[1].contains("* first"),
        "announced once:\n{}",
        members[1]
    );
}

// ---------------------------------------------------------------------------------------------
// Hostile text never reaches an output unescaped.

const HOSTILE_FEED: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>evil</title><link>https://evil.example/</link><description>d</description>
<item>
  <title>&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt; &amp;lt;img src=x onerror=alert(2)&amp;gt; javascript:alert(3)</title>
  <link>javascript:alert(4)</link>
  <guid isPermaLink="false">evil-1</guid>
  <pubDate>Thu, 14 Nov 2024 10:00:00 +0900</pubDate>
  <content:encoded><![CDATA[<p onclick="alert(12)">full<script>alert(13)</script><img src="x" onerror="alert(14)"><a href="javascript:alert(15)">j</a><iframe src="https://evil.example/"></iframe></p>]]></content:encoded>
  <description><![CDATA[<p>hi<script>alert(5)</script><img src="x" onerror="alert(6)"><a href="javascript:alert(7)">click</a> &lt;script&gt;alert(8)&lt;/script&gt; [x](javascript:alert(9))</p>]]></description>
</item>
<item>
  <title>두 번째 글 &lt;b onmouseover=alert(10)&gt;</title>
  <link>https://evil.example/2</link>
  <guid>https://evil.example/2</guid>
  <pubDate>Fri, 15 Nov 2024 10:00:00 +0900</pubDate>
  <description>&lt;iframe src="javascript:alert(11)"&gt;&lt;/iframe&gt; 본문</description>
</item>
</channel></rss>
"#;

/// No element of an HTML document can run anything: no script/iframe/object/embed, no `on*`
/// attribute, no `javascript:` URL.
fn assert_inert_html(what: &str, html: &str) {
    let doc = scraper::Html::parse_document(html);
    for el in doc
        .root_element()
        .descendants()
        .filter_map(scraper::ElementRef::wrap)
    {
        let name = el.value().name();
        assert!(
            !matches!(
                name,
                "script" | "iframe" | "object" | "embed" | "frame" | "base"
            ),
            "{what}: <{name}> element in\n{html}"
        );
        for (attr, value) in el.value().attrs() {
            assert!(!attr.starts_with("on"), "{what}: {attr}= on <{name}>");
            assert!(
                !value.trim().to_ascii_lowercase().starts_with("javascript:"),
                "{what}: {attr}=\"{value}\" on <{name}>"
            );
        }
    }
}

#[test]
fn hostile_titles_and_summaries_never_reach_an_output_unescaped() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("evil.xml");
    std::fs::write(&feed, HOSTILE_FEED).unwrap();
    let config = common::club_config(
        dir.path(),
        &[common::M {
            id: "evil",
            name: "<b>악당</b>",
            team: "<i>팀</i>",
            feeds: vec![feed.display().to_string()],
        }],
        "",
        "content = \"full\"",
    );
    let now = "2024-11-20T12:00:00+09:00";
    ok(&run(&config, now, &["fetch"]));
    let atom = std::fs::read_to_string(dir.path().join("public/atom.xml")).unwrap();
    let index = std::fs::read_to_string(dir.path().join("public/index.html")).unwrap();
    ok(&run(&config, now, &["digest"]));
    let digest = |ext: &str| {
        std::fs::read_to_string(dir.path().join(format!("digest/2024-W46-members.{ext}"))).unwrap()
    };
    let (html, md, txt) = (digest("html"), digest("md"), digest("txt"));
    let eml = parse_mail(&std::fs::read(dir.path().join("digest/2024-W46-operators.eml")).unwrap());

    // The title is shown, as text.
    assert!(
        txt.contains("<script>alert(1)</script>"),
        "the text version shows it literally:\n{txt}"
    );
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(
        index.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{index}"
    );
    assert!(md.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{md}");
    for (what, doc) in [
        ("index.html", index.as_str()),
        ("digest html", html.as_str()),
        ("eml html part", eml.parts[1].2.as_str()),
    ] {
        assert_inert_html(what, doc);
        assert!(
            !doc.contains("<img"),
            "{what}: the page and the digest show no images"
        );
    }
    for (what, doc) in [("atom.xml", &atom), ("digest md", &md)] {
        let lower = doc.to_ascii_lowercase();
        for bad in ["<script", "<img", "<iframe", "<b onmouseover", "<b>", "<i>"] {
            assert!(!lower.contains(bad), "{what} contains {bad}:\n{doc}");
        }
        assert!(
            !lower.contains("href=\"javascript:"),
            "{what}: a javascript: href"
        );
    }
    // In Markdown a `](javascript:` may only appear with its `]` escaped (shown as text).
    for (i, _) in md.match_indices("](javascript:") {
        assert!(
            i > 0 && &md[i - 1..i] == "\\",
            "an unescaped javascript: link in\n{md}"
        );
    }
    assert!(md.contains("\\[x\\](javascript:alert(9))"), "{md}");
    // Atom: titles and summaries are plain text (escaped); the full content is HTML, sanitised.
    let feed = atom_syndication::Feed::read_from(atom.as_bytes()).unwrap();
    let mut contents = 0;
    for e in feed.entries() {
        assert_eq!(e.title().r#type, atom_syndication::TextType::Text);
        if let Some(html) = e.content().and_then(|c| c.value()) {
            contents += 1;
            assert_inert_html("atom content", html);
        }
    }
    assert_eq!(
        contents, 1,
        "content = \"full\" carries the sanitised content:encoded"
    );
}

// ---------------------------------------------------------------------------------------------
// The page.

#[test]
fn index_html_shows_posts_by_team_and_round_counts_without_names_or_scripts() {
    let dir = tempfile::tempdir().unwrap();
    let config = demo_copy(dir.path(), "");
    let out = run(&config, NOW, &["fetch"]);
    ok(&out);
    assert!(String::from_utf8_lossy(&out.stderr).contains("index.html"));
    let page = std::fs::read_to_string(dir.path().join("public/index.html")).unwrap();
    assert_inert_html("index.html", &page);
    let doc = scraper::Html::parse_document(&page);
    let sel = |s: &str| scraper::Selector::parse(s).unwrap();
    let teams: Vec<String> = doc
        .select(&sel("section h2"))
        .map(|h| h.text().collect::<String>())
        .collect();
    // The page opens with the club's newest posts, then the round, then the teams.
    assert!(teams[0].starts_with("최신 글"), "{teams:?}");
    assert!(teams[1].starts_with("4회차 진행 중"), "{teams:?}");
    for team in ["데이터", "백엔드", "프론트엔드", "인프라"] {
        assert!(
            teams.iter().any(|t| t.starts_with(team)),
            "{team} in {teams:?}"
        );
    }
    // Round 4 at NOW: 5 submitted, 3 not yet; no names in the round section.
    let round: String = doc
        .select(&sel("section[aria-labelledby=round]"))
        .next()
        .unwrap()
        .text()
        .collect();
    assert!(
        round.contains("제출 5") && round.contains("아직 3"),
        "{round}"
    );
    for name in [
        "김민지",
        "박지훈",
        "이서연",
        "정태훈",
        "최유나",
        "강동우",
        "윤혜진",
        "오성민",
    ] {
        assert!(
            !round.contains(name),
            "{name} named in the public round section"
        );
    }
    // Newest first within a team; history never (all demo posts are from the first run).
    let first_data = doc
        .select(&sel(
            "section[aria-labelledby=team-deiteo] ol.posts li .title",
        ))
        .next()
        .unwrap();
    assert_eq!(
        first_data.text().collect::<String>(),
        "데이터 품질 검사를 파이프라인에 넣기까지"
    );
    assert!(page.contains("<meta name=\"viewport\""));
    // Unchanged store and --now: the same bytes.
    ok(&run(&config, NOW, &["build"]));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("public/index.html")).unwrap(),
        page
    );
}

#[test]
fn feeds_failing_more_than_three_runs_show_on_the_page_and_to_operators() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.xml");
    std::fs::write(
        &good,
        common::rss(
            "g",
            "https://good.example/",
            &[(
                "g1",
                "좋은 글",
                "https://good.example/1",
                "Thu, 14 Nov 2024 10:00:00 +0900",
                "본문",
            )],
        ),
    )
    .unwrap();
    let config = common::club_config(
        dir.path(),
        &[
            common::M {
                id: "good",
                name: "좋은이",
                team: "팀",
                feeds: vec![good.display().to_string()],
            },
            common::M {
                id: "broken",
                name: "고장난이",
                team: "팀",
                feeds: vec![dir.path().join("missing.xml").display().to_string()],
            },
        ],
        "",
        "",
    );
    for day in 14..=17 {
        ok(&run(
            &config,
            &format!("2024-11-{day}T09:00:00+09:00"),
            &["fetch"],
        ));
    }
    let page = std::fs::read_to_string(dir.path().join("public/index.html")).unwrap();
    assert!(
        page.contains("가져오지 못하는 피드") && page.contains("고장난이"),
        "{page}"
    );
    assert!(page.contains("4회 연속 실패"), "{page}");
    assert!(
        !page.contains(&dir.path().display().to_string()),
        "no local paths on the public page"
    );
    let ops = stdout(&run(
        &config,
        "2024-11-20T09:00:00+09:00",
        &["digest", "--format", "text", "--audience", "operators"],
    ));
    assert!(ops.contains("고장난이 (broken): 4회 연속 실패"), "{ops}");
    let members = stdout(&run(
        &config,
        "2024-11-20T09:00:00+09:00",
        &["digest", "--format", "text"],
    ));
    assert!(
        !members.contains("고장난이"),
        "the group digest has no feed health:\n{members}"
    );
}

// ---------------------------------------------------------------------------------------------
// OPML.

#[test]
fn members_opml_parses_and_reimports_to_the_same_roster() {
    use geultto_agg::config::Config;
    let dir = tempfile::tempdir().unwrap();
    let config_path = demo_copy(dir.path(), "");
    ok(&run(&config_path, NOW, &["build"]));
    let opml_path = dir.path().join("public/members.opml");
    let opml = std::fs::read_to_string(&opml_path).unwrap();
    // Well-formed XML, OPML 2.0, one rss outline per member (regression: a cross-poster was
    // listed once per feed, so a reader subscribed to the file got their posts twice).
    let mut reader = quick_xml::Reader::from_str(&opml);
    let mut feeds = 0;
    loop {
        match reader.read_event().unwrap() {
            quick_xml::events::Event::Eof => break,
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e)
                if e.name().as_ref() == "outline"
                    && e.attributes().any(|a| a.unwrap().key.as_ref() == "xmlUrl") =>
            {
                feeds += 1;
            }
            _ => {}
        }
    }
    assert_eq!(feeds, 8);
    assert!(
        opml.contains("geultto:moreFeeds="),
        "the other feeds ride along for import"
    );
    assert!(opml.contains("<opml version=\"2.0\""));
    let export = stdout(&run(&config_path, NOW, &["opml", "export"]));
    assert_eq!(export, opml);

    // A roster with the same club and no members, with comments to keep.
    let shipped = std::fs::read_to_string(&config_path).unwrap();
    let head = &shipped[..shipped.find("[[members]]").unwrap()];
    let other = tempfile::tempdir().unwrap();
    let roster = other.path().join("feeds.toml");
    std::fs::write(&roster, head).unwrap();
    let out = run(
        &roster,
        NOW,
        &["opml", "import", opml_path.to_str().unwrap()],
    );
    ok(&out);
    let imported = std::fs::read_to_string(&roster).unwrap();
    assert!(
        imported.starts_with(head),
        "everything before the members is kept as it was"
    );
    let original = Config::load(&config_path).unwrap();
    let rebuilt = Config::load(&roster).unwrap();
    // The same members, feeds in the same order; members come back grouped by team (the OPML's
    // folders), so compare them by id.
    type Row = (String, String, String, Option<String>, Vec<String>);
    let key = |c: &Config| -> Vec<Row> {
        let mut members: Vec<_> = c
            .members
            .iter()
            .map(|m| {
                (
                    m.id.clone(),
                    m.name.clone(),
                    m.team.clone(),
                    m.blog.as_ref().map(|b| b.to_string()),
                    m.feeds.iter().map(|f| f.key()).collect(),
                )
            })
            .collect();
        members.sort();
        members
    };
    assert_eq!(key(&rebuilt), key(&original));
    // Importing again adds nothing and leaves the file byte for byte.
    let again = run(
        &roster,
        NOW,
        &["opml", "import", opml_path.to_str().unwrap()],
    );
    ok(&again);
    assert!(String::from_utf8_lossy(&again.stderr).contains("nothing new"));
    assert_eq!(std::fs::read_to_string(&roster).unwrap(), imported);
}

#[test]
fn opml_import_into_the_shipped_roster_keeps_its_comments_and_order() {
    let dir = tempfile::tempdir().unwrap();
    let roster = demo_copy(dir.path(), "");
    let before = std::fs::read_to_string(&roster).unwrap();
    let opml = dir.path().join("reader.opml");
    std::fs::write(
        &opml,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0"><head><title>Feedly</title></head><body>
<outline text="모바일" title="모바일">
  <outline type="rss" text="한새봄" title="한새봄" xmlUrl="https://v2.velog.io/rss/@saebom" htmlUrl="https://velog.io/@saebom"/>
</outline>
</body></opml>"#,
    )
    .unwrap();
    ok(&run(
        &roster,
        NOW,
        &["opml", "import", opml.to_str().unwrap()],
    ));
    let after = std::fs::read_to_string(&roster).unwrap();
    assert!(
        after.starts_with(&before),
        "the old file is a prefix of the new one"
    );
    assert!(after.ends_with(
        "\n[[members]]\nid = \"saebom\"\nname = \"한새봄\"\nteam = \"모바일\"\nblog = \"https://velog.io/@saebom\"\nfeeds = [\"https://v2.velog.io/rss/@saebom\"]\n"
    ), "{after}");
    ok(&common::bin()
        .arg("-c")
        .arg(&roster)
        .arg("check")
        .output()
        .unwrap());
}

#[test]
fn members_opml_imports_into_newsboat_when_it_is_installed() {
    let newsboat = std::process::Command::new("newsboat").arg("-v").output();
    if newsboat.is_err() {
        eprintln!("newsboat is not installed (.ci/run installs it): skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = common::club_config(
        dir.path(),
        &[
            common::M {
                id: "a",
                name: "가",
                team: "데이터",
                feeds: vec!["https://a.example/feed.xml".into()],
            },
            common::M {
                id: "b",
                name: "나",
                team: "백엔드",
                feeds: vec![
                    "https://b.example/rss".into(),
                    "https://b2.example/atom.xml".into(),
                ],
            },
        ],
        "",
        "",
    );
    ok(&run(&config, NOW, &["build"]));
    let urls = dir.path().join("urls");
    std::fs::write(&urls, "").unwrap();
    let out = std::process::Command::new("newsboat")
        .env("HOME", dir.path())
        .arg("-u")
        .arg(&urls)
        .arg("-c")
        .arg(dir.path().join("cache.db"))
        .arg("-C")
        .arg(dir.path().join("config"))
        .arg("-i")
        .arg(dir.path().join("public/members.opml"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let list = std::fs::read_to_string(&urls).unwrap();
    for url in ["https://a.example/feed.xml", "https://b.example/rss"] {
        assert!(list.contains(url), "{url} in newsboat's urls:\n{list}");
    }
    // The cross-poster once: their first-listed feed only.
    assert!(!list.contains("https://b2.example/atom.xml"), "{list}");
}

#[test]
fn regression_opml_import_adds_no_phantom_member_and_says_how_to_set_joined_round() {
    let dir = tempfile::tempdir().unwrap();
    let roster = demo_copy(dir.path(), "");
    let before = std::fs::read_to_string(&roster).unwrap();
    let opml = dir.path().join("in.opml");
    std::fs::write(
        &opml,
        r#"<?xml version="1.0"?><opml version="2.0"><body><outline text="백엔드">
  <outline type="rss" text="중복" xmlUrl="fixtures/demo/jihoon-velog.xml" htmlUrl="https://dup.example/"/>
  <outline type="rss" text="한새봄" xmlUrl="https://v2.velog.io/rss/@saebom" htmlUrl="https://velog.io/@saebom"/>
</outline></body></opml>"#
            .replace("fixtures/demo/", &format!("{}/fixtures/demo/", common::repo().display())),
    )
    .unwrap();
    let out = run(&roster, NOW, &["opml", "import", opml.to_str().unwrap()]);
    ok(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not added: every feed of theirs is listed under another member"),
        "{err}"
    );
    assert!(err.contains("joined_round"), "{err}");
    let after = std::fs::read_to_string(&roster).unwrap();
    assert!(after.starts_with(&before));
    let added = &after[before.len()..];
    assert!(added.contains("saebom"), "{added}");
    assert_eq!(added.matches("[[members]]").count(), 1, "{added}");
}

#[test]
fn output_templates_override_the_built_in_ones_and_a_broken_one_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let templates = dir.path().join("tpl");
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::write(
        templates.join("digest.txt"),
        "{{ week }}: {{ post_count }}\n{% for t in teams %}{% for p in t.posts %}- {{ p.title }}\n{% endfor %}{% endfor %}",
    )
    .unwrap();
    std::fs::write(
        templates.join("digest.html"),
        "<p>{{ teams[0].posts[0].title }}</p>\n",
    )
    .unwrap();
    let config = demo_copy(dir.path(), "");
    let toml = std::fs::read_to_string(&config)
        .unwrap()
        .replace("templates = \"\"", "templates = \"tpl\"");
    std::fs::write(&config, toml).unwrap();
    ok(&run(&config, NOW, &["fetch"]));
    let txt = stdout(&run(&config, NOW, &["digest", "--format", "text"]));
    assert!(
        txt.starts_with("2024-W46: 4\n- 데이터 카탈로그 도입 후 3개월\n"),
        "{txt}"
    );
    // Overrides escape like the built-ins; the md template is still the built-in one.
    let html = stdout(&run(&config, NOW, &["digest", "--format", "html"]));
    assert_eq!(html, "<p>데이터 카탈로그 도입 후 3개월</p>\n");
    let md = stdout(&run(&config, NOW, &["digest", "--format", "md"]));
    assert!(md.starts_with("## 글또 10기 (데모)"), "{md}");

    std::fs::write(templates.join("digest.txt"), "{% for %}").unwrap();
    let out = run(&config, NOW, &["digest"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("digest.txt") && err.contains("tpl"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Regressions an operator hit.

#[test]
fn regression_digest_send_before_any_fetch_completed_is_refused_and_records_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (port, mails) = smtp_server(false);
    let config = demo_copy(dir.path(), &email_section(port));
    let db = dir.path().join("geultto-agg.db");
    // No store at all: refused, and no store is created for it.
    let out = run(&config, NOW, &["digest", "--send"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("run `geultto-agg fetch` first"),
        "{}",
        text(&out)
    );
    assert!(!db.exists(), "no empty store is created");
    // A store whose only fetch never completed (here: opened by `build`): refused too.
    ok(&run(&config, NOW, &["build"]));
    let out = run(&config, NOW, &["digest", "--send"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(count_rows(&db, "digests_sent"), 0);
    assert!(mails.lock().unwrap().is_empty(), "nothing was mailed");
    // After a fetch the real digest goes out, without --force.
    ok(&run(&config, NOW, &["fetch"]));
    ok(&run(&config, NOW, &["digest", "--send"]));
    assert_eq!(mails.lock().unwrap().len(), 2);
}

#[test]
fn regression_the_first_weeks_digest_does_not_announce_the_history_the_first_run_read() {
    let dir = tempfile::tempdir().unwrap();
    let config = demo_copy(dir.path(), "");
    // Installed on Wednesday of W47: the first run reads the W46 posts as history.
    ok(&run(&config, NOW, &["fetch"]));
    let w47 = stdout(&run(
        &config,
        "2024-11-25T09:00:00+09:00",
        &["digest", "--week", "2024-W47", "--format", "text"],
    ));
    for title in W46_TITLES {
        assert!(
            !w47.contains(title),
            "{title} announced again in W47:\n{w47}"
        );
    }
    // W46 itself still has them: they are news by their own dates.
    let w46 = stdout(&run(
        &config,
        NOW,
        &["digest", "--week", "2024-W46", "--format", "text"],
    ));
    for title in W46_TITLES {
        assert!(w46.contains(title), "{title} missing from W46:\n{w46}");
    }
}

#[test]
fn regression_an_unchanged_output_is_said_to_be_unchanged_not_written() {
    let dir = tempfile::tempdir().unwrap();
    let config = demo_copy(dir.path(), "");
    let first = run(&config, NOW, &["fetch"]);
    ok(&first);
    assert!(text(&first).contains("wrote "), "{}", text(&first));
    let again = run(&config, NOW, &["fetch"]);
    ok(&again);
    let err = text(&again);
    assert!(!err.contains("wrote "), "{err}");
    assert!(
        err.contains("unchanged ") && err.contains("atom.xml"),
        "{err}"
    );
    let build = run(&config, NOW, &["build"]);
    ok(&build);
    assert!(text(&build).contains("unchanged "), "{}", text(&build));
}

#[test]
fn regression_a_refused_second_send_keeps_the_eml_that_was_mailed() {
    let dir = tempfile::tempdir().unwrap();
    let (port, mails) = smtp_server(false);
    let config = demo_copy(dir.path(), &email_section(port));
    ok(&run(&config, NOW, &["fetch"]));
    ok(&run(&config, NOW, &["digest", "--send"]));
    let eml = dir.path().join("digest/2024-W46-members.eml");
    let sent = std::fs::read(&eml).unwrap();
    let mailed = mails.lock().unwrap()[0].data.clone();
    let id = |bytes: &[u8]| parse_mail(bytes).message_id.unwrap();
    assert_eq!(id(&sent), id(&mailed));
    // An hour later, a cron retry: nothing is sent, and the files stay the copy that was.
    let out = run(&config, "2024-11-20T13:00:00+09:00", &["digest", "--send"]);
    ok(&out);
    assert!(text(&out).contains("kept "), "{}", text(&out));
    assert_eq!(std::fs::read(&eml).unwrap(), sent);
    let out = run(&config, "2024-11-20T13:00:00+09:00", &["digest"]);
    ok(&out);
    assert_eq!(std::fs::read(&eml).unwrap(), sent);
    // --force sends again, and the files are the new copy.
    ok(&run(
        &config,
        "2024-11-20T13:00:00+09:00",
        &["digest", "--send", "--force"],
    ));
    assert_ne!(std::fs::read(&eml).unwrap(), sent);
}

#[test]
fn regression_bcc_recipients_get_the_digest_but_appear_in_no_header_and_the_list_can_be_left() {
    let dir = tempfile::tempdir().unwrap();
    let (port, mails) = smtp_server(false);
    let email = email_section(port).replace(
        "to = [\"members@geultto.test\", \"all@geultto.test\"]",
        "to = [\"members@geultto.test\"]\nbcc = [\"kim@geultto.test\", \"lee@geultto.test\"]\nunsubscribe = \"mailto:ops@geultto.test?subject=unsubscribe\"",
    );
    let config = demo_copy(dir.path(), &email);
    ok(&run(&config, NOW, &["fetch"]));
    ok(&run(&config, NOW, &["digest", "--send"]));
    let received = mails.lock().unwrap().clone();
    let members = received
        .iter()
        .find(|m| m.to.iter().any(|t| t.contains("members@")))
        .unwrap();
    let mut to = members.to.clone();
    to.sort();
    assert_eq!(
        to,
        [
            "kim@geultto.test",
            "lee@geultto.test",
            "members@geultto.test"
        ]
    );
    let raw = String::from_utf8(members.data.clone()).unwrap();
    let eml = std::fs::read_to_string(dir.path().join("digest/2024-W46-members.eml")).unwrap();
    for text in [&raw, &eml] {
        assert!(!text.contains("kim@") && !text.contains("lee@"), "{text}");
        assert!(
            text.contains("List-Unsubscribe: <mailto:ops@geultto.test?subject=unsubscribe>"),
            "{text}"
        );
    }
    let ops = received
        .iter()
        .find(|m| m.to == ["ops@geultto.test"])
        .unwrap();
    assert!(!String::from_utf8_lossy(&ops.data).contains("List-Unsubscribe"));
}
