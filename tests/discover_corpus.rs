//! The club's 460 real member post URLs (../shared/corpus/geultto-data/curated-post-urls.tsv,
//! read in place): each maps, by the address rules alone, to a platform and a feed URL, or to
//! "needs the page" (a blog on its own domain or a static host, whose page must be read), or to
//! "no feed" (Notion). Prints the counts per platform (`--nocapture` shows them).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;

use geultto_agg::discover::rules::{self, Platform};

#[test]
#[ignore = "reads ../shared/corpus; run with --ignored"]
fn every_curated_member_url_maps_to_a_platform_and_a_feed_or_needs_the_page() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus/geultto-data/curated-post-urls.tsv");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("corpus: {} is absent; skipping", path.display());
        return;
    };
    // platform → (feed by rule, needs the page, no feed)
    let mut counts: BTreeMap<&'static str, (usize, usize, usize)> = BTreeMap::new();
    let mut total = 0;
    let mut mismatches = Vec::new();
    for line in text.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (url, guess) = (cols[3], cols[4]);
        let parsed = url::Url::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
        let rule = rules::by_url(&parsed);
        total += 1;
        let entry = counts.entry(rule.platform.as_str()).or_default();
        match (&rule.feed, rule.no_feed) {
            (Some(feed), _) => {
                entry.0 += 1;
                assert_eq!(feed.scheme(), "https", "{url} → {feed}");
            }
            (None, Some(_)) => entry.2 += 1,
            (None, None) => entry.1 += 1,
        }
        // The address rules agree with the curators' guess wherever the guess names a platform
        // the address can tell.
        let expected = match guess {
            "tistory" => Some(Platform::Tistory),
            "velog" => Some(Platform::Velog),
            "medium" => Some(Platform::Medium),
            "brunch" => Some(Platform::Brunch),
            "naver" => Some(Platform::Naver),
            "github-pages" => Some(Platform::GithubPages),
            "vercel-hosted" => Some(Platform::Vercel),
            "oopy(notion)" | "notion" => Some(Platform::Notion),
            _ => None,
        };
        if let Some(expected) = expected {
            if rule.platform != expected {
                mismatches.push(format!(
                    "{url}: guessed {guess}, rule says {}",
                    rule.platform.as_str()
                ));
            }
        }
        // Platforms whose feed follows from the address always get one.
        if matches!(
            rule.platform,
            Platform::Tistory | Platform::Velog | Platform::Naver | Platform::Medium
        ) {
            assert!(rule.feed.is_some(), "{url}: {:?}", rule);
        }
        if rule.platform == Platform::Brunch {
            assert!(rule.page.is_some(), "{url}: Brunch needs the author page");
        }
    }
    assert_eq!(total, 460);
    assert!(mismatches.is_empty(), "{mismatches:#?}");
    println!("curated member URLs: {total}");
    println!(
        "{:<14} {:>6} {:>11} {:>8}",
        "platform", "feed", "needs page", "no feed"
    );
    let (mut f, mut p, mut n) = (0, 0, 0);
    for (platform, (feed, page, none)) in &counts {
        println!("{platform:<14} {feed:>6} {page:>11} {none:>8}");
        f += feed;
        p += page;
        n += none;
    }
    println!("{:<14} {f:>6} {p:>11} {n:>8}", "total");
}
