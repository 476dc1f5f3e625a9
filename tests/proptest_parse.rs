//! Property tests over the parse → normalise path: whatever bytes a member's server
//! sends, the tool returns a feed or an error — never a panic — and what it returns is clean.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use geultto_agg::normalise::{html_text, normalise, normalise_link};
use geultto_agg::parse::{parse, parse_date};
use proptest::prelude::*;

fn is_clean(s: &str) -> bool {
    !s.chars().any(geultto_agg::parse::is_control)
}

/// Text fragments that stress the repairs: entities, bare `&`, markup, controls, Korean.
fn nasty_text() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        Just("&".to_string()),
        Just("&amp;".to_string()),
        Just("&hellip;".to_string()),
        Just("&#x1F600;".to_string()),
        Just("&#0;".to_string()),
        Just("<b>".to_string()),
        Just("</p>".to_string()),
        Just("<![CDATA[".to_string()),
        Just("]]>".to_string()),
        Just("\u{8}".to_string()),
        Just("\u{1b}".to_string()),
        Just("\u{fffe}".to_string()),
        Just("한글".to_string()),
        Just("<script>x</script>".to_string()),
        "[a-z ]{0,8}".prop_map(|s| s),
        any::<char>().prop_map(|c| c.to_string()),
    ];
    proptest::collection::vec(pieces, 0..12).prop_map(|v| v.concat())
}

fn rss_with(title: &str, desc: &str, date: &str, link: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel><title>{title}</title><item><title>{title}</title><link>{link}</link><pubDate>{date}</pubDate><description>{desc}</description></item><item><title>b</title></item></channel></rss>"
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048), charset in proptest::option::of("[a-zA-Z0-9_-]{0,12}")) {
        if let Ok(parsed) = parse(&bytes, charset.as_deref(), None, chrono_tz::Asia::Seoul) {
            let (_, posts, _) = normalise(&parsed, "https://x.example/feed", 1000);
            for p in posts {
                prop_assert!(is_clean(&p.title));
            }
        }
    }

    #[test]
    fn hostile_text_in_a_feed_parses_to_clean_unique_posts(title in nasty_text(), desc in nasty_text(), date in nasty_text(), link in nasty_text()) {
        let doc = rss_with(&title, &desc, &date, &link);
        if let Ok(parsed) = parse(doc.as_bytes(), None, Some("https://x.example/feed"), chrono_tz::Asia::Seoul) {
            let (meta, posts, _) = normalise(&parsed, "https://x.example/feed", 1000);
            prop_assert!(is_clean(&meta.title));
            let mut keys = std::collections::HashSet::new();
            for p in &posts {
                prop_assert!(is_clean(&p.title) && is_clean(&p.summary));
                prop_assert!(keys.insert(p.key.clone()), "duplicate key {}", p.key);
                prop_assert!(p.summary.chars().count() <= geultto_agg::normalise::SUMMARY_CHARS);
            }
        }
    }

    #[test]
    fn truncating_a_valid_feed_anywhere_never_panics(cut in 0usize..400) {
        let doc = rss_with("제목 &amp; 글", "<![CDATA[<p>본문</p>]]>", "Sat, 16 Nov 2024 10:00:00 +0900", "https://x.example/1");
        let cut = cut.min(doc.len());
        // Cutting mid-character is fine: the parser sees bytes.
        let _ = parse(&doc.as_bytes()[..cut], None, None, chrono_tz::Asia::Seoul);
    }

    #[test]
    fn dates_never_panic(s in "\\PC{0,40}") {
        let _ = parse_date(&s, chrono_tz::Asia::Seoul);
    }

    #[test]
    fn link_normalisation_is_idempotent(path in "[a-zA-Z0-9가-힣%/._~-]{0,30}", query in "[a-z0-9=&_%]{0,20}", www in any::<bool>(), http in any::<bool>()) {
        let link = format!("{}://{}Example.com/{path}?{query}#frag", if http { "http" } else { "https" }, if www { "www." } else { "" });
        if let Some(once) = normalise_link(&link) {
            prop_assert_eq!(normalise_link(&once), Some(once.clone()));
            prop_assert!(once.starts_with("https://example.com"));
            prop_assert!(!once.contains('#'));
        }
    }

    #[test]
    fn html_text_counts_only_visible_non_space_characters(html in nasty_text()) {
        let t = html_text(&html);
        prop_assert!(t.chars <= t.text.chars().filter(|c| !c.is_whitespace()).count());
        prop_assert!(is_clean(&t.text));
    }
}
