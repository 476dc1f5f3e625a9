//! The real binary's roster commands: `check` (every problem in one pass, text and JSON),
//! `init`, `completions`, `man`, and the config path from `GEULTTO_AGG_CONFIG`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::Output;

use common::{bin, text};

/// A club with four rounds; `rounds_extra` goes into `[rounds]`, `members` after the sections.
fn club(rounds_extra: &str, fetch_extra: &str, members: &str) -> String {
    format!(
        r#"[club]
name = "글또"
url = "https://geultto.github.io/"

[rounds]
start = "2024-09-29"
due = ["2024-10-13", "2024-10-27", "2024-11-10", "2024-11-24"]
{rounds_extra}

[fetch]
{fetch_extra}

{members}"#
    )
}

const MEMBER: &str = r#"[[members]]
id = "minji"
name = "김민지"
feeds = ["https://minji.tistory.com/rss"]
"#;

fn write(dir: &Path, text: &str) -> std::path::PathBuf {
    let path = dir.join("feeds.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn check(config: &Path, args: &[&str]) -> Output {
    bin()
        .env_remove("GEULTTO_AGG_CONFIG")
        .arg("-c")
        .arg(config)
        .arg("check")
        .args(args)
        .output()
        .unwrap()
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(out)))
}

#[test]
fn regression_check_reports_both_key_typos_with_did_you_mean() {
    let dir = tempfile::tempdir().unwrap();
    let member = MEMBER.replace("feeds =", "blgo = \"https://minji.tistory.com/\"\nfeeds =");
    let config = write(dir.path(), &club("", "concurency = 3", &member));
    let out = check(&config, &[]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(
        t.contains(
            "line 11: `fetch.concurency`: unknown field `concurency`, did you mean `concurrency`?"
        ),
        "{t}"
    );
    assert!(
        t.contains(
            "line 16: `members[0] (minji).blgo`: unknown field `blgo`, did you mean `blog`?"
        ),
        "{t}"
    );
    assert!(t.contains("2 problem(s)"), "{t}");
}

#[test]
fn regression_check_reports_consecutive_passes_despite_a_due_date_error() {
    let dir = tempfile::tempdir().unwrap();
    let text_ = club("", "", &format!("{MEMBER}passes = [2, 3]\n"))
        .replace("\"2024-10-27\"", "\"2024/10/27\"");
    let config = write(dir.path(), &text_);
    let out = check(&config, &[]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(
        t.contains("line 7: `rounds.due`: `2024/10/27` is not a date"),
        "{t}"
    );
    assert!(
        t.contains("`members[0] (minji).passes`: member `minji` passes rounds 2 and 3 in a row"),
        "{t}"
    );
    // The malformed date is still a round: a pass for round 4 is not "a round that does not exist".
    assert!(!t.contains("does not exist"), "{t}");
}

#[test]
fn regression_check_fails_on_a_local_feed_file_that_does_not_exist() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("here.xml"),
        common::rss("m", "https://m.example/", &[]),
    )
    .unwrap();
    let member = MEMBER.replace(
        "feeds = [\"https://minji.tistory.com/rss\"]",
        "feeds = [\"here.xml\", \"feeds/gone.xml\"]",
    );
    let config = write(dir.path(), &club("", "", &member));
    let out = check(&config, &[]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    let resolved = dir.path().join("feeds/gone.xml");
    assert!(
        t.contains(&format!(
            "line 16: `members[0] (minji).feeds`: member `minji`: the local feed file `feeds/gone.xml` does not exist (resolved to {})",
            resolved.display()
        )),
        "{t}"
    );
    assert!(!t.contains("here.xml"), "the file that exists is fine: {t}");
    // In `fetch` the missing file stays one feed's failure, not a config error.
    let out = common::run(&config, "2024-11-20T12:00:00+09:00", &["fetch"]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(t.contains("1 failed"), "{t}");
}

#[test]
fn check_reports_every_problem_as_json_with_lines_and_suggestions() {
    let dir = tempfile::tempdir().unwrap();
    let member = format!("{MEMBER}passes = [1, 2, 3]\nfeeds_url = \"x\"\n");
    let config = write(
        dir.path(),
        &club("grace = \"soon\"", "timout = \"1s\"", &member),
    );
    let out = check(&config, &["--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let v = json(&out);
    assert_eq!(v["config"], config.display().to_string());
    assert_eq!(v["ok"], false);
    assert_eq!(
        (v["members"].as_u64(), v["feeds"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(v["rounds"], 4);
    let problems = v["problems"].as_array().unwrap();
    let found: Vec<(serde_json::Value, &str, serde_json::Value)> = problems
        .iter()
        .map(|p| {
            (
                p["line"].clone(),
                p["key"].as_str().unwrap(),
                p["suggestion"].clone(),
            )
        })
        .collect();
    let lines: Vec<_> = found.iter().map(|(l, k, _)| (l.as_u64(), *k)).collect();
    assert_eq!(
        lines,
        [
            (Some(8), "rounds.grace"),
            (Some(11), "fetch.timout"),
            (Some(17), "members[0] (minji).passes"),
            (Some(17), "members[0] (minji).passes"),
            (Some(17), "members[0] (minji).passes"),
            (Some(18), "members[0] (minji).feeds_url"),
        ],
        "{problems:#?}"
    );
    assert_eq!(found[1].2, "timeout");
    assert!(found[0].2.is_null());
    assert!(found[5].2.is_null(), "feeds_url is too far from any key");
    assert!(problems[2]["message"]
        .as_str()
        .unwrap()
        .contains("has 3 passes"));
    // `--format json` is the same; a good file is `ok` with exit 0.
    let long = check(&config, &["--format", "json"]);
    assert_eq!(long.stdout, out.stdout);
    let good = write(dir.path(), &club("", "", MEMBER));
    let out = check(&good, &["--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v = json(&out);
    assert_eq!(v["ok"], true);
    assert_eq!(v["problems"], serde_json::json!([]));
}

#[test]
fn init_writes_a_starter_that_passes_check_and_never_replaces_a_roster() {
    let dir = tempfile::tempdir().unwrap();
    let club = dir.path().join("club");
    let out = bin().arg("init").arg(&club).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let written: Vec<_> = std::fs::read_dir(&club)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        written,
        ["feeds.toml"],
        "init writes that file and nothing else"
    );
    let roster = club.join("feeds.toml");
    let out = check(&roster, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("ok — 1 members, 1 feeds"),
        "{}",
        text(&out)
    );
    std::fs::write(&roster, "# mine\n").unwrap();
    let out = bin().arg("init").arg(&club).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("exists"), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(&roster).unwrap(), "# mine\n");
    // Without DIR: the current folder.
    let here = tempfile::tempdir().unwrap();
    let out = bin().current_dir(here.path()).arg("init").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(here.path().join("feeds.toml").is_file());
}

#[test]
fn completions_for_every_shell_and_bash_knows_fetch_and_config() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = bin().args(["completions", shell]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", text(&out));
        assert!(!out.stdout.is_empty(), "{shell}");
    }
    let out = bin().args(["completions", "bash"]).output().unwrap();
    let script = String::from_utf8(out.stdout).unwrap();
    assert!(
        script.contains("fetch") && script.contains("--config"),
        "{script}"
    );
    let out = bin().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "clap refuses an unknown shell");
}

#[test]
fn man_prints_a_roff_page_titled_geultto_agg() {
    let out = bin().arg("man").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let page = String::from_utf8(out.stdout).unwrap();
    // clap_mangen opens every page with the two lines that define the apostrophe string
    // (`.ie`/`.el`); the title comes right after them.
    let first = page
        .lines()
        .find(|l| !l.starts_with(".ie ") && !l.starts_with(".el "))
        .unwrap();
    assert!(first.starts_with(".TH geultto-agg 1"), "{first}");
    assert!(
        page.contains("GEULTTO_AGG_CONFIG"),
        "the man page lists the variable"
    );
}

#[test]
fn the_config_path_comes_from_geultto_agg_config_when_c_is_absent() {
    let dir = tempfile::tempdir().unwrap();
    let config = write(dir.path(), &club("", "", MEMBER));
    let elsewhere = tempfile::tempdir().unwrap();
    let out = bin()
        .current_dir(elsewhere.path())
        .env("GEULTTO_AGG_CONFIG", &config)
        .arg("check")
        .output()
        .unwrap();
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(t.contains(&format!("{}: ok", config.display())), "{t}");
    // -c wins over the variable.
    let other = elsewhere.path().join("other.toml");
    std::fs::write(&other, club("", "concurency = 1", MEMBER)).unwrap();
    let out = bin()
        .current_dir(elsewhere.path())
        .env("GEULTTO_AGG_CONFIG", &config)
        .args(["-c", "other.toml", "check"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("other.toml: line"), "{}", text(&out));
    let help = bin().arg("--help").output().unwrap();
    assert!(
        String::from_utf8_lossy(&help.stdout).contains("GEULTTO_AGG_CONFIG"),
        "{}",
        text(&help)
    );
}
