//! The views beside the merged feed, through the real binary on the demo and on small clubs:
//! members' pages, teams' feeds, the index that opens with the newest posts, and the cohort's
//! retrospective — snapshots, feed validity, determinism, what a public page may show.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::atom_check::{assert_conforms, w3c_validates};
use common::{club_config, demo_copy, run, text, M};

/// Inside the cohort: rounds 1–3 closed, round 4 open.
const NOW: &str = "2024-11-20T12:00:00+09:00";
/// After the demo's last round (due 2025-01-05, closed at 2025-01-06 00:00) and its `late_after`.
const AFTER: &str = "2025-01-07T09:00:00+09:00";

const DEMO_MEMBERS: [&str; 8] = [
    "minji", "jihoon", "seoyeon", "taehun", "yuna", "dongwoo", "hyejin", "sungmin",
];

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `(id, category)` of every entry of an Atom file.
fn entries(path: &Path) -> BTreeSet<(String, String)> {
    let feed = atom_syndication::Feed::read_from(std::fs::read(path).unwrap().as_slice()).unwrap();
    feed.entries
        .iter()
        .map(|e| {
            let team = e.categories.first().map(|c| c.term.clone());
            (e.id.clone(), team.unwrap_or_default())
        })
        .collect()
}

fn ok(out: &std::process::Output) -> String {
    assert_eq!(out.status.code(), Some(0), "{}", text(out));
    String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout)
}

#[test]
fn the_demo_views_inside_the_cohort() {
    let dir = tempfile::tempdir().unwrap();
    let config = demo_copy(dir.path(), "");
    ok(&run(&config, NOW, &["fetch"]));
    let public = dir.path().join("public");
    for id in DEMO_MEMBERS {
        assert!(public.join(format!("members/{id}.html")).is_file(), "{id}");
    }
    assert!(
        !public.join("cohort.html").exists(),
        "no retrospective before the last round closes"
    );

    // A feed per team, valid like atom.xml, with exactly the merged feed's entries of the team
    // (the demo has fewer posts than `entries`), under the same ids.
    let merged = entries(&public.join("atom.xml"));
    let teams = [
        ("데이터", "deiteo"),
        ("백엔드", "baekendeu"),
        ("프론트엔드", "peuronteuendeu"),
        ("인프라", "inpeura"),
    ];
    for (team, slug) in teams {
        let path = public.join(format!("teams/{slug}.xml"));
        assert_conforms(&path);
        let own: BTreeSet<_> = merged.iter().filter(|(_, t)| t == team).cloned().collect();
        assert!(!own.is_empty());
        assert_eq!(entries(&path), own, "{team}");
        let xml = read(&path);
        let url = format!("https://geultto.github.io/agg/teams/{slug}.xml");
        assert!(
            xml.contains(&format!("<id>{url}</id>"))
                && xml.contains(&format!("href=\"{url}\" rel=\"self\"")),
            "{xml}"
        );
        let opml = read(&public.join("members.opml"));
        assert!(
            opml.contains(&format!("geultto:teamFeed=\"{url}\"")),
            "{opml}"
        );
    }
    let mut files: Vec<_> = std::fs::read_dir(public.join("teams"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), teams.len());
    files.push(public.join("atom.xml"));
    w3c_validates(&public, "https://geultto.github.io/agg/", &files);

    // The index opens with the newest post of the club, then the teams behind a jump list; every
    // author links to their page and every link to a page or feed of ours resolves.
    let index = read(&public.join("index.html"));
    let latest = index.find("id=\"latest\"").unwrap();
    let first_team = index.find("id=\"team-deiteo\"").unwrap();
    assert!(latest < first_team);
    let newest = index[latest..]
        .find("Redis 분산 락으로 중복 결제 막기")
        .unwrap();
    let older = index[latest..].find("Airflow 백필").unwrap();
    assert!(newest < older, "newest first");
    assert!(!index.contains("<script"));
    for (_, slug) in teams {
        assert!(index.contains(&format!("href=\"#team-{slug}\"")));
        assert!(index.contains(&format!("id=\"team-{slug}\"")));
    }
    for href in local_links(&index) {
        assert!(public.join(&href).is_file(), "index links to {href}");
    }
    assert!(index.contains("href=\"members/jihoon.html\">박지훈</a>"));
    insta::assert_snapshot!("demo_index_inside", index);

    let member = read(&public.join("members/jihoon.html"));
    for href in local_links(&member) {
        let target = public.join("members").join(&href);
        assert!(target.is_file(), "member page links to {href}");
    }
    insta::assert_snapshot!("demo_member_jihoon_inside", member);
    insta::assert_snapshot!(
        "demo_team_baekendeu_inside",
        read(&public.join("teams/baekendeu.xml"))
    );

    // Same store, same --now: the same bytes, and nothing rewritten.
    let before = snapshot(&public);
    let again = ok(&run(&config, NOW, &["build"]));
    assert!(!again.contains("wrote"), "{again}");
    assert_eq!(snapshot(&public), before);
}

/// Whether the run's output has a line `<verb> …<file>`.
fn said(out: &str, verb: &str, file: &str) -> bool {
    out.lines()
        .any(|l| l.starts_with(&format!("{verb} ")) && l.ends_with(file))
}

/// Relative links of a page of ours (`href="…"` that is neither absolute nor a fragment), each
/// without its fragment.
fn local_links(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().to_string())
        .filter(|h| !h.starts_with("http") && !h.starts_with('#'))
        .map(|h| h.split('#').next().unwrap().to_string())
        .collect()
}

/// Every file under `dir` with its bytes and modification time.
fn snapshot(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>, std::time::SystemTime)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(snapshot(&p));
        } else {
            let modified = e.metadata().unwrap().modified().unwrap();
            out.push((p.clone(), std::fs::read(&p).unwrap(), modified));
        }
    }
    out.sort();
    out
}

#[test]
fn the_cohort_page_comes_after_the_last_round_and_later_runs_leave_it_alone() {
    let dir = tempfile::tempdir().unwrap();
    let config = demo_copy(dir.path(), "");
    ok(&run(&config, NOW, &["fetch"]));
    let public = dir.path().join("public");
    // Closed, its evidence not in yet: the page is out, made from the store.
    ok(&run(&config, "2025-01-06T03:00:00+09:00", &["build"]));
    assert!(public.join("cohort.html").is_file());
    ok(&run(&config, AFTER, &["build"]));
    let cohort = read(&public.join("cohort.html"));
    assert!(cohort.contains("글 <strong>30</strong>편"), "{cohort}");
    assert!(cohort.contains("2024년 9월 30일 – 2025년 1월 5일 (일)"));
    for href in local_links(&cohort) {
        assert!(public.join(&href).is_file(), "cohort page links to {href}");
    }
    insta::assert_snapshot!("demo_cohort_after", cohort);
    let index = read(&public.join("index.html"));
    assert!(index.contains("href=\"cohort.html\""));
    insta::assert_snapshot!(
        "demo_member_jihoon_after",
        read(&public.join("members/jihoon.html"))
    );
    let mtime = std::fs::metadata(public.join("cohort.html"))
        .unwrap()
        .modified()
        .unwrap();

    // Later: a member leaves the roster and another's blog gets a post dated back into round 4.
    let roster = read(&config);
    let at = roster.find("[[members]]\nid = \"yuna\"").unwrap();
    let end = roster[at + 1..].find("[[members]]").unwrap() + at + 1;
    let mut roster = format!("{}{}", &roster[..at], &roster[end..]);
    let extra = "extra_posts = [{ url = \"https://minji-data.tistory.com/99\", date = \"2024-11-20\", title = \"늦게 기록한 글\" }]\n";
    let minji = roster.find("id = \"minji\"").unwrap();
    roster.insert_str(minji, extra);
    std::fs::write(&config, roster).unwrap();
    let out = ok(&run(&config, "2025-02-01T09:00:00+09:00", &["build"]));
    assert!(said(&out, "unchanged", "public/cohort.html"), "{out}");
    assert!(said(&out, "removed", "public/members/yuna.html"), "{out}");
    assert_eq!(read(&public.join("cohort.html")), cohort);
    let later = std::fs::metadata(public.join("cohort.html"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(later, mtime, "cohort.html rewritten");
    assert!(!public.join("members/yuna.html").exists());
    assert!(read(&public.join("members/minji.html")).contains("늦게 기록한 글"));
    assert!(!read(&public.join("index.html")).contains("members/yuna.html"));
}

/// A club whose member `kim` posted a long post in round 1, a short one in round 2 and nothing
/// in round 3, read well after each round closed (a Tistory blog: its RSS description is the
/// post, so the short one is known to be short).
fn missing_club(dir: &Path, output_extra: &str) -> std::path::PathBuf {
    let long = "가".repeat(1200);
    let feed = common::rss(
        "김 블로그",
        "https://kim.tistory.com/",
        &[
            (
                "k1",
                "첫 글",
                "https://kim.tistory.com/1",
                "Sat, 05 Oct 2024 10:00:00 +0900",
                &long,
            ),
            (
                "k2",
                "짧은 글",
                "https://kim.tistory.com/2",
                "Sat, 19 Oct 2024 10:00:00 +0900",
                "짧다",
            ),
        ],
    );
    let path = dir.join("kim.xml");
    std::fs::write(&path, feed).unwrap();
    club_config(
        dir,
        &[M {
            id: "kim",
            name: "김하나",
            team: "데이터",
            feeds: vec![path.display().to_string()],
        }],
        "",
        output_extra,
    )
}

#[test]
fn a_members_page_shows_missed_short_and_unverified_only_with_show_statuses() {
    for show in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let extra = if show { "show_statuses = true" } else { "" };
        let config = missing_club(dir.path(), extra);
        ok(&run(&config, NOW, &["fetch"]));
        let report = ok(&run(&config, NOW, &["report", "--round", "all", "--json"]));
        assert!(
            report.contains("\"short\"") && report.contains("\"missed\""),
            "{report}"
        );
        let page = read(&dir.path().join("public/members/kim.html"));
        // The short post is on the member's own blog: it is listed either way.
        assert!(page.contains("짧은 글"), "{page}");
        assert!(page.contains("<span class=\"chip submitted\">제출</span>"));
        assert!(
            page.contains("연속 제출 0회 <small>최장 1회</small>"),
            "{page}"
        );
        for words in ["미제출", "짧은 글</span>", "chip missed", "chip short"] {
            assert_eq!(
                page.contains(words),
                show,
                "{words} with show_statuses = {show}"
            );
        }
        assert_eq!(
            page.contains("미제출 <strong>2</strong>회"),
            show,
            "the missed total (short counts as missed)"
        );
    }
}

#[test]
fn team_names_that_clash_get_distinct_slugs_and_a_removed_teams_feed_goes() {
    let dir = tempfile::tempdir().unwrap();
    let member = |id: &'static str, team: &'static str| {
        let path = dir.path().join(format!("{id}.xml"));
        let feed = common::rss(id, &format!("https://{id}.example/"), &[]);
        std::fs::write(&path, feed).unwrap();
        M {
            id,
            name: "이름",
            team,
            feeds: vec![path.display().to_string()],
        }
    };
    let config = club_config(
        dir.path(),
        &[
            member("a", "Data"),
            member("c", "data!"),
            member("d", "데이터 팀"),
        ],
        "",
        "",
    );
    ok(&run(&config, NOW, &["build"]));
    let mut names: Vec<String> = std::fs::read_dir(dir.path().join("public/teams"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(names.contains(&"deiteo-tim.xml".to_string()), "{names:?}");
    let clashing: Vec<_> = names.iter().filter(|n| n.starts_with("data-")).collect();
    assert_eq!(clashing.len(), 2, "{names:?}");
    for n in &names {
        assert_conforms(&dir.path().join("public/teams").join(n));
    }
    // The team "데이터 팀" leaves the roster: its feed goes; a file that is not ours stays.
    std::fs::write(dir.path().join("public/teams/README.txt"), "ours?").unwrap();
    let roster = read(&config).replace("데이터 팀", "Data");
    std::fs::write(&config, roster).unwrap();
    let out = ok(&run(&config, NOW, &["build"]));
    assert!(
        said(&out, "removed", "public/teams/deiteo-tim.xml"),
        "{out}"
    );
    assert!(dir.path().join("public/teams/README.txt").exists());
}

/// Members' pages are made on several threads: one page whose template fails, made by the
/// last of them, still fails the run with the template named, keeps no record of a render
/// (so nothing is said up to date), and the next run, the template mended, makes every page.
#[test]
fn a_members_page_that_fails_to_render_fails_the_run_and_the_next_run_makes_every_page() {
    let dir = tempfile::tempdir().unwrap();
    let templates = dir.path().join("tpl");
    std::fs::create_dir_all(&templates).unwrap();
    let built_in = read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/member.html"));
    // The roster's last member: the last page, on the last thread.
    let broken = built_in.replacen(
        "<h1>{{ name }}</h1>",
        "<h1>{{ name }}</h1>{% if name == \"오성민\" %}{{ name.no_such.field }}{% endif %}",
        1,
    );
    assert_ne!(broken, built_in, "the template still has its heading");
    std::fs::write(templates.join("member.html"), &broken).unwrap();
    let config = demo_copy(dir.path(), "");
    let toml = std::fs::read_to_string(&config)
        .unwrap()
        .replace("templates = \"\"", "templates = \"tpl\"");
    std::fs::write(&config, toml).unwrap();

    let out = run(&config, NOW, &["fetch"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("member.html") && err.contains("tpl"), "{err}");
    let members = dir.path().join("public/members");
    assert!(!members.join("sungmin.html").exists(), "the failed page");

    std::fs::write(templates.join("member.html"), &built_in).unwrap();
    let out = ok(&run(&config, NOW, &["fetch"]));
    assert!(said(&out, "wrote", "members/sungmin.html"), "{out}");
    for id in DEMO_MEMBERS {
        let page = read(&members.join(format!("{id}.html")));
        assert!(page.contains("<h1>"), "{id}");
    }
    // And the run after that has nothing to make.
    let out = ok(&run(&config, NOW, &["fetch"]));
    assert!(out.contains("outputs up to date"), "{out}");
}
