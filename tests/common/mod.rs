//! Helpers shared by the CLI-level tests: the real binary, temp clubs, and the Atom checks.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod atom_check;
pub mod html_check;
pub mod smtp;

use std::path::{Path, PathBuf};
use std::process::Output;

/// The built `geultto-agg` binary.
pub fn bin() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("geultto-agg").unwrap()
}

/// Runs the binary with `-c config --now now` and the given args.
pub fn run(config: &Path, now: &str, args: &[&str]) -> Output {
    bin()
        .arg("-c")
        .arg(config)
        .arg("--now")
        .arg(now)
        .args(args)
        .output()
        .unwrap()
}

/// Standard output and error as text, for assertion messages.
pub fn text(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A member for [`club_config`].
pub struct M<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub team: &'a str,
    pub feeds: Vec<String>,
}

/// Writes a club config into `dir` and returns its path. `extra` is appended verbatim to
/// `[fetch]` (e.g. timeouts, allow_private_addresses).
pub fn club_config(
    dir: &Path,
    members: &[M<'_>],
    fetch_extra: &str,
    output_extra: &str,
) -> PathBuf {
    let mut toml = format!(
        r#"[club]
name = "글또 테스트"
url = "https://geultto.github.io/"
timezone = "Asia/Seoul"

[rounds]
start = "2024-09-29"
due = ["2024-10-13", "2024-10-27", "2024-11-10", "2024-11-24"]

[fetch]
{fetch_extra}

[output]
feed_url = "https://geultto.github.io/agg/atom.xml"
{output_extra}

# Post links point at hosts that do not exist here: pages are read only where a test asks.
[reader]
pages = false
"#
    );
    for m in members {
        let feeds: Vec<String> = m.feeds.iter().map(|f| format!("{f:?}")).collect();
        toml.push_str(&format!(
            "\n[[members]]\nid = \"{}\"\nname = \"{}\"\nteam = \"{}\"\nfeeds = [{}]\n",
            m.id,
            m.name,
            m.team,
            feeds.join(", ")
        ));
    }
    let path = dir.join("feeds.toml");
    std::fs::write(&path, toml).unwrap();
    path
}

/// An RSS 2.0 document with the given items `(guid, title, link, pubDate, description)`.
pub fn rss(title: &str, link: &str, items: &[(&str, &str, &str, &str, &str)]) -> String {
    let mut s = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>{title}</title><link>{link}</link><description>d</description>\n"
    );
    for (guid, t, l, date, desc) in items {
        s.push_str(&format!(
            "<item><title>{t}</title><link>{l}</link><guid>{guid}</guid><pubDate>{date}</pubDate><description><![CDATA[{desc}]]></description></item>\n"
        ));
    }
    s.push_str("</channel></rss>\n");
    s
}

/// Number of rows in a table of the store.
pub fn count_rows(db: &Path, table: &str) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

/// The repository's root (where the shipped `feeds.toml` and `fixtures/` are).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shipped demo config with its fixture paths made absolute, written into `dir` (store and
/// outputs land there, not in the repository), with `extra` inserted before the members.
pub fn demo_copy(dir: &Path, extra: &str) -> PathBuf {
    let text = std::fs::read_to_string(repo().join("feeds.toml")).unwrap();
    let fixtures = repo().join("fixtures");
    let mut text = text.replace("\"fixtures/", &format!("\"{}/", fixtures.display()));
    if !extra.is_empty() {
        // Tables such as [email] must come before the [[members]] tables.
        let at = text.find("[[members]]").unwrap();
        text.insert_str(at, &format!("{extra}\n\n"));
    }
    let path = dir.join("feeds.toml");
    std::fs::write(&path, text).unwrap();
    path
}
