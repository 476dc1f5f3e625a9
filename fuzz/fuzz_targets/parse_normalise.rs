//! Fuzz target: any bytes, with or without an HTTP charset, through parse → normalise, and the
//! pieces the pipeline calls on every entry (dates, link normalisation, text extraction).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (charset, body) = match data.split_first() {
        Some((b, rest)) if *b < 8 => (["euc-kr", "cp949", "iso-8859-1", "utf-8", "utf-16", "", "x", "windows-1252"].get(*b as usize).copied(), rest),
        _ => (None, data),
    };
    if let Ok(parsed) = geultto_agg::parse::parse(body, charset, Some("https://fuzz.example/feed"), chrono_tz::Asia::Seoul) {
        let (_, posts, _) = geultto_agg::normalise::normalise(&parsed, "https://fuzz.example/feed", 1000);
        for p in posts {
            assert!(!p.title.chars().any(geultto_agg::parse::is_control));
            if let Some(l) = p.normalised_link {
                assert_eq!(geultto_agg::normalise::normalise_link(&l), Some(l.clone()));
            }
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = geultto_agg::parse::parse_date(text, chrono_tz::Asia::Seoul);
        let _ = geultto_agg::normalise::html_text(text);
    }
});
