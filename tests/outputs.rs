//! When `fetch` renders the outputs: a run where no feed changed and the rounds did not move
//! renders nothing and says so; any change — a new post, a round closing, a deleted output, an
//! edited config, a run that stored without rendering — renders again, and the files are always
//! the bytes `build` (which always renders) writes. Real binary, real HTTP on 127.0.0.120–123.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod support;

use std::path::{Path, PathBuf};

use common::{club_config, rss, run, text, M};
use support::{Reply, TestServer};

/// Up to date: the line a run that did not render prints.
const UP_TO_DATE: &str = "outputs up to date";

fn feed(posts: usize) -> String {
    let items: Vec<(String, String, String, String)> = (0..posts)
        .map(|i| {
            (
                format!("g{i}"),
                format!("글 {i}"),
                format!("https://m.example/{i}"),
                // Round 2 (2024-10-14 .. 2024-10-27), a day apart.
                format!("{:02} Oct 2024 10:00:00 +0900", 15 + i),
            )
        })
        .collect();
    let items: Vec<(&str, &str, &str, &str, &str)> = items
        .iter()
        .map(|(g, t, l, d)| (g.as_str(), t.as_str(), l.as_str(), d.as_str(), "본문"))
        .collect();
    rss("블로그", "https://m.example/", &items)
}

struct Club {
    _rt: tokio::runtime::Runtime,
    server: TestServer,
    dir: tempfile::TempDir,
    config: PathBuf,
}

fn club(ip: &str, output_extra: &str) -> Club {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(TestServer::start(ip));
    server.route("/rss", Reply::ok(feed(1)));
    let dir = tempfile::tempdir().unwrap();
    let config = club_config(
        dir.path(),
        &[M {
            id: "m",
            name: "엠",
            team: "t",
            feeds: vec![server.url("/rss")],
        }],
        &format!("allow_addresses = [\"{ip}/32\"]"),
        output_extra,
    );
    Club {
        _rt: rt,
        server,
        dir,
        config,
    }
}

impl Club {
    fn fetch(&self, now: &str, args: &[&str]) -> String {
        let mut all = vec!["fetch"];
        all.extend_from_slice(args);
        let out = run(&self.config, now, &all);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        // The run's summary goes to standard error.
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    fn public(&self) -> PathBuf {
        self.dir.path().join("public")
    }

    /// `build` at `now` on a copy of the store and outputs: every file `unchanged` means the
    /// outputs on disk are exactly what rendering them now gives.
    fn assert_as_built(&self, now: &str) {
        let copy = tempfile::tempdir().unwrap();
        for entry in std::fs::read_dir(self.dir.path()).unwrap().flatten() {
            copy_all(&entry.path(), &copy.path().join(entry.file_name()));
        }
        let out = run(&copy.path().join("feeds.toml"), now, &["build"]);
        let said = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        assert!(said.lines().count() >= 3, "{said}");
        assert!(
            said.lines().all(|l| l.starts_with("unchanged ")),
            "the outputs differ from a render at {now}:\n{said}"
        );
    }
}

/// How many files there are under `dir`, at any depth.
fn files_under(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| {
            let path = e.path();
            if path.is_dir() {
                files_under(&path)
            } else {
                1
            }
        })
        .sum()
}

fn copy_all(from: &Path, to: &Path) {
    if from.is_dir() {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap().flatten() {
            copy_all(&entry.path(), &to.join(entry.file_name()));
        }
    } else {
        std::fs::copy(from, to).unwrap();
    }
}

#[test]
fn a_run_with_nothing_new_renders_nothing_and_a_new_post_renders_again() {
    let c = club("127.0.0.120", "");
    let first = c.fetch("2024-10-20T12:00:00+09:00", &[]);
    assert!(first.contains("wrote "), "{first}");
    assert!(!first.contains(UP_TO_DATE), "{first}");
    // An hour later the feed answers the same: nothing to render.
    let quiet = c.fetch("2024-10-20T13:00:00+09:00", &[]);
    assert!(quiet.contains(UP_TO_DATE), "{quiet}");
    let unchanged = quiet
        .lines()
        .filter(|l| l.starts_with("unchanged "))
        .count();
    // atom.xml, index.html, members.opml, the member's page and the team's feed.
    assert_eq!(files_under(&c.public()), 5);
    assert_eq!(unchanged, 5, "each output is listed unchanged: {quiet}");
    assert!(!quiet.contains("wrote "), "{quiet}");
    c.assert_as_built("2024-10-20T13:00:00+09:00");
    // A new post: rendered, and atom.xml written.
    c.server.route("/rss", Reply::ok(feed(2)));
    let posted = c.fetch("2024-10-20T14:00:00+09:00", &[]);
    assert!(!posted.contains(UP_TO_DATE), "{posted}");
    assert!(posted.contains("atom.xml"), "{posted}");
    let atom = std::fs::read_to_string(c.public().join("atom.xml")).unwrap();
    assert!(atom.contains("글 1"), "the new post is in the feed");
    c.assert_as_built("2024-10-20T14:00:00+09:00");
    // `build` always renders, and says only what it wrote.
    let out = run(&c.config, "2024-10-20T14:00:00+09:00", &["build"]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!said.contains(UP_TO_DATE), "{said}");
}

#[test]
fn a_feed_answering_not_modified_after_a_full_read_renders_nothing() {
    let c = club("127.0.0.122", "");
    // 200 with an ETag, then 304 for ever: the feed's status changes, its posts do not.
    c.server.route_seq(
        "/rss",
        vec![
            Reply::ok(feed(1)).header("ETag", "\"v1\""),
            Reply::status(304).header("ETag", "\"v1\""),
        ],
    );
    let first = c.fetch("2024-10-20T12:00:00+09:00", &[]);
    assert!(first.contains("wrote "), "{first}");
    let quiet = c.fetch("2024-10-20T13:00:00+09:00", &[]);
    let sent = c.server.requests();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(quiet.contains(UP_TO_DATE), "a 304 is not a change: {quiet}");
    assert!(!quiet.contains("wrote "), "{quiet}");
    c.assert_as_built("2024-10-20T13:00:00+09:00");
}

/// Two members, `a` and `b`, each with one feed (`/a`, `/b`) of one post.
fn two_members(ip: &str) -> Club {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(TestServer::start(ip));
    server.route("/a", Reply::ok(feed(1)));
    server.route("/b", Reply::ok(feed(1).replace("m.example", "b.example")));
    let dir = tempfile::tempdir().unwrap();
    let members: Vec<M> = [("a", "에이"), ("b", "비")]
        .into_iter()
        .map(|(id, name)| M {
            id,
            name,
            team: "t",
            feeds: vec![server.url(&format!("/{id}"))],
        })
        .collect();
    let config = club_config(
        dir.path(),
        &members,
        &format!("allow_addresses = [\"{ip}/32\"]"),
        "",
    );
    Club {
        _rt: rt,
        server,
        dir,
        config,
    }
}

#[test]
fn a_member_page_is_made_again_when_its_member_changed_or_its_file_did() {
    let c = two_members("127.0.0.123");
    c.fetch("2024-10-20T12:00:00+09:00", &[]);
    let page = |id: &str| c.public().join("members").join(format!("{id}.html"));
    let said_of = |out: &str, id: &str| {
        let name = format!("members/{id}.html");
        out.lines()
            .find(|l| l.ends_with(&name))
            .map(|l| l.split(' ').next().unwrap().to_string())
            .unwrap_or_default()
    };
    // `a` posts: a's page is made again, b's is kept, and both are what `build` makes.
    c.server.route("/a", Reply::ok(feed(2)));
    let out = c.fetch("2024-10-20T13:00:00+09:00", &[]);
    assert_eq!(said_of(&out, "a"), "wrote", "{out}");
    assert_eq!(said_of(&out, "b"), "unchanged", "{out}");
    assert!(std::fs::read_to_string(page("a")).unwrap().contains("글 1"));
    c.assert_as_built("2024-10-20T13:00:00+09:00");
    // b's page edited by hand, and `a` posts again: b's page is made again all the same.
    std::fs::write(page("b"), "edited").unwrap();
    c.server.route("/a", Reply::ok(feed(3)));
    let out = c.fetch("2024-10-20T14:00:00+09:00", &[]);
    assert_eq!(said_of(&out, "b"), "wrote", "{out}");
    assert_ne!(std::fs::read_to_string(page("b")).unwrap(), "edited");
    c.assert_as_built("2024-10-20T14:00:00+09:00");
    // b's post retitled: only b's page changes.
    c.server.route(
        "/b",
        Reply::ok(
            feed(1)
                .replace("m.example", "b.example")
                .replace("글 0", "새 제목"),
        ),
    );
    let out = c.fetch("2024-10-20T15:00:00+09:00", &[]);
    assert_eq!(said_of(&out, "b"), "wrote", "{out}");
    assert_eq!(said_of(&out, "a"), "unchanged", "{out}");
    assert!(std::fs::read_to_string(page("b"))
        .unwrap()
        .contains("새 제목"));
    c.assert_as_built("2024-10-20T15:00:00+09:00");
}

#[test]
fn a_round_closing_with_no_new_post_renders_again() {
    let c = club("127.0.0.121", "");
    // Round 2 closes at 2024-10-28T00:00+09:00; `late_after` is 6 h by default.
    c.fetch("2024-10-27T20:00:00+09:00", &[]);
    assert!(c
        .fetch("2024-10-27T21:00:00+09:00", &[])
        .contains(UP_TO_DATE));
    for now in ["2024-10-28T01:00:00+09:00", "2024-10-28T07:00:00+09:00"] {
        let out = c.fetch(now, &[]);
        assert!(
            !out.contains(UP_TO_DATE),
            "time moved the rounds at {now}: {out}"
        );
        c.assert_as_built(now);
    }
    let settled = c.fetch("2024-10-28T08:00:00+09:00", &[]);
    assert!(settled.contains(UP_TO_DATE), "{settled}");
}

#[test]
fn missing_outputs_an_edited_config_or_a_run_without_outputs_render_again() {
    let c = club("127.0.0.120", "");
    let now = "2024-10-20T12:00:00+09:00";
    c.fetch(now, &[]);
    // An output deleted (or the whole folder): rendered again.
    std::fs::remove_file(c.public().join("index.html")).unwrap();
    let out = c.fetch("2024-10-20T13:00:00+09:00", &[]);
    assert!(!out.contains(UP_TO_DATE), "{out}");
    assert!(c.public().join("index.html").exists());
    // An output edited by hand: rendered again.
    std::fs::write(c.public().join("atom.xml"), "x").unwrap();
    let out = c.fetch("2024-10-20T14:00:00+09:00", &[]);
    assert!(out.contains("wrote ") && out.contains("atom.xml"), "{out}");
    // The config edited: rendered again with it.
    let edited = std::fs::read_to_string(&c.config)
        .unwrap()
        .replace("글또 테스트", "글또 시험");
    std::fs::write(&c.config, edited).unwrap();
    let out = c.fetch("2024-10-20T15:00:00+09:00", &[]);
    assert!(!out.contains(UP_TO_DATE), "{out}");
    assert!(std::fs::read_to_string(c.public().join("index.html"))
        .unwrap()
        .contains("글또 시험"));
    // A new post stored with --no-output: the next run renders it though its feed is unchanged.
    c.server.route("/rss", Reply::ok(feed(2)));
    let out = c.fetch("2024-10-20T16:00:00+09:00", &["--no-output"]);
    assert!(
        !out.contains("wrote ") && !out.contains(UP_TO_DATE),
        "{out}"
    );
    let out = c.fetch("2024-10-20T17:00:00+09:00", &[]);
    assert!(!out.contains(UP_TO_DATE), "{out}");
    assert!(std::fs::read_to_string(c.public().join("atom.xml"))
        .unwrap()
        .contains("글 1"));
    c.assert_as_built("2024-10-20T17:00:00+09:00");
}

/// Sets the modification time of every file under `dir` to `ago` before now.
fn age_files(dir: &Path, ago: std::time::Duration) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            age_files(&path, ago);
        } else {
            set_mtime(&path, std::time::SystemTime::now() - ago);
        }
    }
}

fn set_mtime(path: &Path, at: std::time::SystemTime) {
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(at)
        .unwrap();
}

#[test]
fn an_output_touched_is_weighed_by_its_bytes_and_one_edited_to_the_same_size_renders_again() {
    let c = club("127.0.0.124", "");
    c.fetch("2024-10-20T12:00:00+09:00", &[]);
    // The files as an hour-old render left them: the next quiet run checks their bytes once
    // and stamps them.
    age_files(&c.public(), std::time::Duration::from_secs(3600));
    let quiet = c.fetch("2024-10-20T13:00:00+09:00", &[]);
    assert!(quiet.contains(UP_TO_DATE), "{quiet}");
    // Touched, bytes the same: still up to date (the changed stamp sends it to its bytes).
    let atom = c.public().join("atom.xml");
    set_mtime(&atom, std::time::SystemTime::now());
    let touched = c.fetch("2024-10-20T14:00:00+09:00", &[]);
    assert!(touched.contains(UP_TO_DATE), "{touched}");
    // Edited to other bytes of the same size, dated an hour back: its stamp differs from the
    // recorded one all the same, and it is made again.
    let before = std::fs::read(&atom).unwrap();
    let mut edited = before.clone();
    let at = edited.iter().position(|b| *b == b'>').unwrap();
    edited[at - 1] = if edited[at - 1] == b'x' { b'y' } else { b'x' };
    std::fs::write(&atom, &edited).unwrap();
    set_mtime(
        &atom,
        std::time::SystemTime::now() - std::time::Duration::from_secs(3600),
    );
    let out = c.fetch("2024-10-20T15:00:00+09:00", &[]);
    assert!(out.contains("wrote ") && out.contains("atom.xml"), "{out}");
    assert_eq!(std::fs::read(&atom).unwrap(), before);
    c.assert_as_built("2024-10-20T15:00:00+09:00");
}
