//! The merged feed through the real binary: RFC 4287 MUSTs, feedparser, determinism, hostile input.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::atom_check::{assert_conforms, is_rfc3339, is_tag_uri, violations};
use common::{club_config, run, text, M};

const NOW: &str = "2024-11-20T12:00:00+09:00";

/// Feeds with the trouble real member feeds carry: control characters, entities, relative links,
/// equal timestamps, Korean paths, undated entries, markup in titles, hostile HTML.
fn write_feeds(dir: &std::path::Path) -> Vec<String> {
    let a = common::rss(
        "민지의 &amp;lt;데이터&amp;gt; 블로그",
        "https://minji.tistory.com/",
        &[
            ("https://minji.tistory.com/1", "첫 글 &amp;hellip; \u{8}시작", "https://minji.tistory.com/1", "Sat, 05 Oct 2024 21:30:00 +0900", "<p>본문 <img src=\"/img/a.png\" onerror=\"alert(1)\"></p><script>alert(2)</script>"),
            ("https://minji.tistory.com/2", "같은 시각 글", "https://minji.tistory.com/2", "Sat, 05 Oct 2024 21:30:00 +0900", "<p style=\"color:red\" onclick=\"x()\">두 번째 <a href=\"javascript:alert(3)\">링크</a></p>"),
            ("https://minji.tistory.com/3", "한글 주소 글", "https://minji.tistory.com/entry/한글-제목", "Sun, 06 Oct 2024 09:00:00 +0900", "<iframe src=\"https://evil.example\"></iframe><p>세 번째 &lt;/p&gt; 글</p>"),
        ],
    );
    let b = r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title type="html">&lt;b&gt;지훈&lt;/b&gt;의 블로그</title><id>https://JIHOON.example/</id>
<updated>2099-01-01T00:00:00Z</updated><link href="https://jihoon.example/"/>
<entry><title type="html">&lt;em&gt;강조&lt;/em&gt; 제목</title><id>https://jihoon.example/p/1</id><link href="/p/1"/>
<updated>2024-10-07T10:00:00+09:00</updated><content type="html">&lt;p&gt;상대 &lt;a href="/p/2"&gt;링크&lt;/a&gt;&lt;/p&gt;</content></entry>
<entry><title>날짜 없는 글</title><id>urn:uuid:7f1d</id><link href="https://jihoon.example/p/2"/></entry>
</feed>"#;
    let pa = dir.join("a.xml");
    let pb = dir.join("b.xml");
    std::fs::write(&pa, a).unwrap();
    std::fs::write(&pb, b).unwrap();
    vec![pa.display().to_string(), pb.display().to_string()]
}

fn club(dir: &std::path::Path, output_extra: &str) -> std::path::PathBuf {
    let feeds = write_feeds(dir);
    club_config(
        dir,
        &[
            M {
                id: "minji",
                name: "김민지",
                team: "데이터",
                feeds: vec![feeds[0].clone()],
            },
            M {
                id: "jihoon",
                name: "박지훈\\u001b",
                team: "백엔드",
                feeds: vec![feeds[1].clone()],
            },
        ],
        "",
        output_extra,
    )
}

#[test]
fn merged_feed_meets_rfc_4287_in_summary_and_full_modes() {
    for mode in ["summary", "full"] {
        let dir = tempfile::tempdir().unwrap();
        let config = club(dir.path(), &format!("content = \"{mode}\""));
        let out = run(&config, NOW, &["fetch"]);
        assert!(out.status.success(), "{}", text(&out));
        let atom = dir.path().join("public/atom.xml");
        assert_conforms(&atom);
        let xml = std::fs::read_to_string(&atom).unwrap();
        assert_eq!(xml.matches("<entry>").count(), 5, "{xml}");
        assert!(xml.contains("<title>첫 글 … 시작</title>"), "{xml}");
        assert!(xml.contains("<title>강조 제목</title>"), "{xml}");
        assert!(
            xml.contains("https://minji.tistory.com/entry/%ED%95%9C%EA%B8%80-%EC%A0%9C%EB%AA%A9"),
            "{xml}"
        );
        assert!(xml.contains("<category term=\"데이터\"/>"), "{xml}");
        assert!(!xml.contains('\u{1b}') && !xml.contains('\u{8}'));
        // The full HTML is stored only when the feed republishes it.
        let kept = common::count_rows(&dir.path().join("geultto-agg.db"), "post_content");
        assert_eq!(kept > 0, mode == "full", "{mode}: {kept} rows of HTML");
        if mode == "full" {
            assert!(xml.contains("<content type=\"html\">"), "{xml}");
            // Regression: the plain-text guard must not break the HTML's closing tags.
            let atom = atom_syndication::Feed::read_from(xml.as_bytes()).unwrap();
            for e in &atom.entries {
                let html = e
                    .content
                    .as_ref()
                    .and_then(|c| c.value.clone())
                    .unwrap_or_default();
                assert!(
                    !html.contains('\u{200b}'),
                    "zero-width space inside HTML content: {html}"
                );
            }
            assert!(
                xml.contains("https://minji.tistory.com/img/a.png"),
                "relative URL made absolute: {xml}"
            );
            assert!(xml.contains("https://jihoon.example/p/2"), "{xml}");
        } else {
            assert!(!xml.contains("<content"), "{xml}");
        }
    }
}

#[test]
fn outputs_are_deterministic_and_an_unchanged_run_changes_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = club(dir.path(), "");
    assert!(run(&config, NOW, &["fetch"]).status.success());
    let atom = dir.path().join("public/atom.xml");
    let first = std::fs::read(&atom).unwrap();
    let mtime = std::fs::metadata(&atom).unwrap().modified().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let out = run(&config, "2024-11-20T13:00:00+09:00", &["fetch"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(std::fs::read(&atom).unwrap(), first);
    assert_eq!(
        std::fs::metadata(&atom).unwrap().modified().unwrap(),
        mtime,
        "file rewritten"
    );
    let out = run(&config, "2024-11-21T13:00:00+09:00", &["build"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(std::fs::read(&atom).unwrap(), first);
}

#[test]
fn ids_are_minted_once_and_survive_title_edits() {
    let dir = tempfile::tempdir().unwrap();
    let config = club(dir.path(), "");
    assert!(run(&config, NOW, &["fetch"]).status.success());
    let atom = dir.path().join("public/atom.xml");
    let ids = |xml: &str| -> Vec<String> {
        xml.split("<id>")
            .skip(1)
            .map(|s| s.split("</id>").next().unwrap().to_string())
            .filter(|s| s.starts_with("tag:"))
            .collect()
    };
    let before = ids(&std::fs::read_to_string(&atom).unwrap());
    assert_eq!(before.len(), 5);
    assert!(before.iter().all(|id| is_tag_uri(id)), "{before:?}");
    let a = dir.path().join("a.xml");
    let edited = std::fs::read_to_string(&a)
        .unwrap()
        .replace("같은 시각 글", "같은 시각 글 (수정)");
    std::fs::write(&a, edited).unwrap();
    assert!(run(&config, "2024-11-21T12:00:00+09:00", &["fetch"])
        .status
        .success());
    let xml = std::fs::read_to_string(&atom).unwrap();
    assert!(xml.contains("같은 시각 글 (수정)"));
    let mut after = ids(&xml);
    let mut before_sorted = before.clone();
    after.sort();
    before_sorted.sort();
    assert_eq!(after, before_sorted);
}

#[test]
fn the_checker_catches_what_it_should() {
    assert!(is_rfc3339("2024-10-05T21:30:00+09:00"));
    assert!(!is_rfc3339("2024-10-05 21:30:00+09:00"));
    assert!(!is_rfc3339("2024-10-05T21:30+09:00"));
    assert!(is_tag_uri(
        "tag:geultto.github.io,2024-10-20:minji/0123abcd"
    ));
    assert!(!is_tag_uri("tag:geultto.github.io,2024-10-20:민지/1"));
    let bad = br#"<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>x y</id><updated>2024-10-05T21:30:00+09:00</updated><entry><title></title><id>urn:a</id><updated>2024-10-05T21:30:00+09:00</updated></entry></feed>"#;
    let v = violations(bad).join("\n");
    for want in [
        "feed id",
        "rel=self",
        "no title",
        "no author",
        "no content and no alternate",
        "no atom:source",
    ] {
        assert!(v.contains(want), "missing {want:?} in\n{v}");
    }
}
