//! The post-page reader on the project's own pages (`fixtures/pages/`, synthetic, modelled on
//! each platform's and generator's markup, with comments, sidebars, related posts, share bars
//! and footers around the article): one test per rule — the rule that found the article, its
//! length within ±10% of the truth, the title and the date — and the pages the reader must not
//! be fooled by: comments longer than the post, Naver's frame, a page without an article, and
//! hostile input.
//!
//! A fixture's truth is the text between its `<!--truth-->` and `<!--/truth-->` markers (a
//! page may have several), measured by the same rule as feed content: what a careful person
//! counts as the article body, leaving out the title, link previews and widgets inside it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use chrono_tz::Asia::Seoul;
use geultto_agg::normalise::html_text;
use geultto_agg::reader::{read, Article, Page};
use url::Url;

/// One fixture page and what the reader should find on it.
struct Fixture {
    file: &'static str,
    url: &'static str,
    rule: &'static str,
    title: &'static str,
    published: &'static str,
}

const TISTORY: Fixture = Fixture {
    file: "tistory.html",
    url: "https://minji-dev.tistory.com/42",
    rule: "tistory",
    title: "useEffect 의존성 배열, 이번에는 제대로 이해하기",
    published: "2025-03-04T21:30:00+09:00",
};
const TISTORY_CUSTOM: Fixture = Fixture {
    file: "tistory_custom.html",
    url: "https://blog.minji.dev/entry/docker-compose",
    rule: "tistory",
    title: "Docker Compose로 로컬 개발 환경을 5분 만에 띄우기",
    published: "2024-03-12T21:05:00+09:00",
};
const VELOG: Fixture = Fixture {
    file: "velog.html",
    url: "https://velog.io/@jihoon/rust-ownership",
    rule: "velog",
    title: "Rust 소유권, 빌림, 수명을 한 번에 정리하기",
    published: "2024-01-05T05:44:00+00:00",
};
const NAVER_SE3: Fixture = Fixture {
    file: "naver_se3.html",
    url: "https://blog.naver.com/PostView.naver?blogId=dongwoo&logNo=223400000001",
    rule: "naver-se3",
    title: "PostgreSQL 인덱스 튜닝 회고: 3초 쿼리를 30밀리초로",
    published: "2025-03-04T21:30:00+09:00",
};
const NAVER_SE2: Fixture = Fixture {
    file: "naver_se2.html",
    url: "https://blog.naver.com/PostView.nhn?blogId=hyejin&logNo=220650000001",
    rule: "naver-se2",
    title: "개발자가 2주에 한 번 글을 쓰면 생기는 일",
    published: "2016-03-21T13:24:00+09:00",
};
const BRUNCH: Fixture = Fixture {
    file: "brunch.html",
    url: "https://brunch.co.kr/@seoyeon/15",
    rule: "brunch",
    title: "개발자가 2주에 한 번 글을 쓰면 생기는 일",
    published: "2025-03-04T00:00:00+09:00",
};
const MEDIUM: Fixture = Fixture {
    file: "medium.html",
    url: "https://medium.com/@seoyeon/kubernetes-probes-3f1c2a",
    rule: "medium",
    title: "Kubernetes liveness와 readiness probe, 헷갈리지 않게 쓰기",
    published: "2025-03-04T11:20:00+00:00",
};
const WORDPRESS: Fixture = Fixture {
    file: "wordpress.html",
    url: "https://minji.dev/2025/02/10/docker-compose/",
    rule: "wordpress",
    title: "Docker Compose로 로컬 개발 환경을 5분 만에 띄우기 – 민지의 데브로그",
    published: "2025-02-10T09:30:00+00:00",
};
const HUGO: Fixture = Fixture {
    file: "hugo.html",
    url: "https://yuna.github.io/posts/k8s-probes/",
    rule: "hugo",
    title: "Kubernetes liveness와 readiness probe, 헷갈리지 않게 쓰기",
    published: "2024-01-02T10:00:00+09:00",
};
const JEKYLL: Fixture = Fixture {
    file: "jekyll.html",
    url: "https://taehun.github.io/2023/11/05/postgres-index.html",
    rule: "jekyll",
    title: "PostgreSQL 인덱스 튜닝 회고: 3초 쿼리를 30밀리초로 | 태훈의 기록",
    published: "2023-11-05T09:00:00+09:00",
};
const GATSBY: Fixture = Fixture {
    file: "gatsby.html",
    url: "https://ina.dev/ts-generics/",
    rule: "gatsby",
    title: "TypeScript 제네릭을 실무 코드로 이해하기",
    published: "2024-05-01T08:00:00+09:00",
};
const DOCUSAURUS: Fixture = Fixture {
    file: "docusaurus.html",
    url: "https://ina.github.io/blog/ts-generics",
    rule: "docusaurus",
    title: "TypeScript 제네릭을 실무 코드로 이해하기",
    published: "2024-06-10T00:00:00+00:00",
};
const HEXO: Fixture = Fixture {
    file: "hexo.html",
    url: "https://taetae.dev/2023/08/20/rust-ownership/",
    rule: "hexo",
    title: "Rust 소유권, 빌림, 수명을 한 번에 정리하기",
    published: "2023-08-20T14:00:00+09:00",
};
const NEXTJS: Fixture = Fixture {
    file: "nextjs.html",
    url: "https://sujin.vercel.app/blog/use-effect",
    rule: "nextjs",
    title: "useEffect 의존성 배열, 이번에는 제대로 이해하기 – 수진의 블로그",
    published: "2024-09-01T12:00:00+00:00",
};
const ARTICLE: Fixture = Fixture {
    file: "generic_article.html",
    url: "https://hyunwoo.kr/posts/k8s-probes",
    rule: "article",
    title: "Kubernetes liveness와 readiness probe, 헷갈리지 않게 쓰기",
    published: "2024-10-12T08:00:00+09:00",
};
const DENSITY: Fixture = Fixture {
    file: "density.html",
    url: "http://jisoo.pe.kr/board/dev/123",
    rule: "density",
    title: "Redis 캐시를 도입하며 배운 것들 - 개발자 지수의 홈페이지",
    published: "2024-07-15T22:10:00+09:00",
};
const COMMENTS_LONGER: Fixture = Fixture {
    file: "comments_longer.html",
    url: "https://jiwoo.me/posts/moved",
    rule: "density",
    title: "블로그를 옮겼습니다",
    published: "2025-01-20T20:00:00+09:00",
};

const ALL: &[&Fixture] = &[
    &TISTORY,
    &TISTORY_CUSTOM,
    &VELOG,
    &NAVER_SE3,
    &NAVER_SE2,
    &BRUNCH,
    &MEDIUM,
    &WORDPRESS,
    &HUGO,
    &JEKYLL,
    &GATSBY,
    &DOCUSAURUS,
    &HEXO,
    &NEXTJS,
    &ARTICLE,
    &DENSITY,
    &COMMENTS_LONGER,
];

/// Text of the chrome every fixture carries (comments, the sidebar's introduction, related
/// posts, the footer, share bars): none of it may be counted.
const CHROME_SNIPPETS: &[&str] = &[
    "좋은 글 감사합니다",
    "북마크해 두고 팀원들에게도",
    "읽은 책, 가끔은 여행 이야기",
    "멀티 스테이지 빌드부터",
    "무단으로 전재하거나",
    "공유하기",
    "구독하기",
    "스크립트 안의 문자열",
];

fn page_html(file: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/pages")
        .join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The fixture's true length: the marked regions, measured as feed content is.
fn truth(html: &str) -> usize {
    let mut total = 0;
    let mut rest = html;
    while let Some(start) = rest.find("<!--truth-->") {
        let after = &rest[start + "<!--truth-->".len()..];
        let end = after
            .find("<!--/truth-->")
            .expect("every truth marker is closed");
        total += html_text(&after[..end]).chars;
        rest = &after[end..];
    }
    assert!(total > 0, "the fixture marks its article");
    total
}

fn at(url: &str) -> Url {
    Url::parse(url).unwrap()
}

fn rfc3339(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().into()
}

/// Percent error of `got` against `truth`.
fn error(got: usize, truth: usize) -> f64 {
    (got as f64 - truth as f64) / truth as f64 * 100.0
}

/// Reads a fixture and checks its rule, length, title, date and that no chrome was counted.
fn check(f: &Fixture) -> (Page, usize) {
    let html = page_html(f.file);
    let truth = truth(&html);
    let page = read(&html, &at(f.url), Seoul);
    let article: &Article = page
        .article
        .as_ref()
        .unwrap_or_else(|e| panic!("{}: {e}", f.file));
    assert_eq!(article.rule, f.rule, "{}", f.file);
    let err = error(article.chars, truth);
    assert!(
        err.abs() <= 10.0,
        "{}: {} chars against a truth of {truth} ({err:+.1}%): {}",
        f.file,
        article.chars,
        article.text
    );
    for snippet in CHROME_SNIPPETS {
        assert!(
            !article.text.contains(snippet),
            "{}: chrome counted ({snippet}): {}",
            f.file,
            article.text
        );
    }
    assert_eq!(page.title.as_deref(), Some(f.title), "{}", f.file);
    assert_eq!(page.published, Some(rfc3339(f.published)), "{}", f.file);
    assert_eq!(page.follow, None, "{}", f.file);
    (page, truth)
}

#[test]
fn tistory_on_its_own_host() {
    let (page, _) = check(&TISTORY);
    let text = page.article.unwrap().text;
    assert!(
        !text.contains("react.dev"),
        "the link preview card is not the post"
    );
    assert!(!text.contains("카테고리의 다른 글"));
}

#[test]
fn tistory_on_a_custom_domain_by_its_fingerprints() {
    check(&TISTORY_CUSTOM);
}

#[test]
fn velog() {
    check(&VELOG);
}

#[test]
fn naver_smarteditor_3_without_its_stickers_maps_and_link_previews() {
    let (page, truth) = check(&NAVER_SE3);
    let article = page.article.unwrap();
    assert!(!article.text.contains("Multicolumn Indexes"));
    assert!(!article.text.contains("테헤란로"));
    // Naver's code component is not <pre>: it is measured as code all the same.
    assert!(article.text.contains("CREATE INDEX CONCURRENTLY"));
    assert!(article.chars <= truth + truth / 10);
}

#[test]
fn naver_smarteditor_2() {
    check(&NAVER_SE2);
}

#[test]
fn brunch() {
    check(&BRUNCH);
}

#[test]
fn medium_without_its_byline_and_claps() {
    let (page, _) = check(&MEDIUM);
    let text = page.article.unwrap().text;
    assert!(!text.contains("min read") && !text.contains("Follow"));
}

#[test]
fn wordpress_without_jetpack_and_with_its_date_in_a_json_ld_graph() {
    let (page, _) = check(&WORDPRESS);
    let text = page.article.unwrap().text;
    assert!(!text.contains("좋아하기") && !text.contains("관련"));
}

#[test]
fn hugo() {
    check(&HUGO);
}

#[test]
fn jekyll() {
    check(&JEKYLL);
}

#[test]
fn gatsby() {
    check(&GATSBY);
}

#[test]
fn docusaurus_without_its_heading_anchors_and_copy_buttons() {
    let (page, _) = check(&DOCUSAURUS);
    let text = page.article.unwrap().text;
    assert!(!text.contains('\u{200b}') && !text.contains("복사"));
}

#[test]
fn hexo() {
    check(&HEXO);
}

#[test]
fn nextjs_without_its_page_data_script() {
    check(&NEXTJS);
}

#[test]
fn an_unknown_site_with_an_article_element() {
    check(&ARTICLE);
}

#[test]
fn an_unknown_site_without_one_by_density() {
    check(&DENSITY);
}

#[test]
fn comments_longer_than_the_post_are_not_counted() {
    let html = page_html(COMMENTS_LONGER.file);
    let comments = html_text(&html[html.find("id=\"comments\"").unwrap()..]).chars;
    let (page, truth) = check(&COMMENTS_LONGER);
    assert!(
        comments > 5 * truth,
        "the fixture's comments dwarf its post"
    );
    let text = page.article.unwrap().text;
    assert!(
        !text.contains("댓글 12개") && !text.contains("최근 댓글"),
        "{text}"
    );
}

#[test]
fn every_fixture_in_one_table() {
    println!(
        "{:<22} {:<10} {:>6} {:>6} {:>8}",
        "page", "rule", "chars", "truth", "error %"
    );
    for f in ALL {
        let (page, truth) = check(f);
        let a = page.article.unwrap();
        println!(
            "{:<22} {:<10} {:>6} {:>6} {:>+8.1}",
            f.file,
            a.rule,
            a.chars,
            truth,
            error(a.chars, truth)
        );
    }
}

#[test]
fn the_naver_frame_page_points_to_the_post_view() {
    let html = page_html("naver_frame.html");
    let page = read(
        &html,
        &at("https://blog.naver.com/dongwoo/223400000001"),
        Seoul,
    );
    let want = "https://blog.naver.com/PostView.naver?blogId=dongwoo&logNo=223400000001\
                &redirect=Dlog&widgetTypeCall=true&directAccess=false";
    assert_eq!(page.follow.as_ref().map(Url::as_str), Some(want));
    let reason = page.article.unwrap_err();
    assert!(reason.contains(want), "{reason}");
    assert_eq!(
        page.title.as_deref(),
        Some("PostgreSQL 인덱스 튜닝 회고: 3초 쿼리를 30밀리초로")
    );
    assert_eq!(page.published, Some(rfc3339("2025-03-04T21:30:00+09:00")));
}

#[test]
fn a_page_without_an_article_says_why() {
    let html = page_html("no_article.html");
    let page = read(&html, &at("https://jiwoo.me/posts/gone"), Seoul);
    let reason = page.article.unwrap_err();
    assert!(reason.contains("no article"), "{reason}");
    assert_eq!(
        page.title.as_deref(),
        Some("페이지를 찾을 수 없습니다 - 지우의 블로그")
    );
}

#[test]
fn an_empty_platform_container_is_not_guessed_around() {
    let html = "<html><body><div class='tt_article_useless_p_margin'></div>\
                <div class='sidebar-free-text'><p>사이드바의 긴 소개 글이 여기 있습니다, 아주 길게 씁니다.</p></div>\
                </body></html>";
    let page = read(html, &at("https://a.tistory.com/1"), Seoul);
    let reason = page.article.unwrap_err();
    assert!(reason.contains("holds no text"), "{reason}");
}

/// Reads `html` and checks it neither panics nor takes long.
fn survives(name: &str, html: &str) -> Page {
    let started = Instant::now();
    let page = read(html, &at("https://example.com/post"), Seoul);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(20), "{name}: {took:?}");
    page
}

#[test]
fn hostile_input_does_not_panic() {
    let page = survives("empty", "");
    assert!(page.article.is_err() && page.title.is_none() && page.published.is_none());
    // Bytes of every value, as a lossy decoder would hand them over.
    let bytes: Vec<u8> = (0..=255u8).cycle().take(1 << 20).collect();
    survives("binary", &String::from_utf8_lossy(&bytes));
    // Pseudo-random bytes rich in markup characters.
    let mut x: u32 = 12345;
    let noise: Vec<u8> = (0..1 << 20)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            b"<>/=\"' &#;!-abcdivp\x00\xff"[(x >> 16) as usize % 21]
        })
        .collect();
    survives("noise", &String::from_utf8_lossy(&noise));
    for tag in ["span", "b", "a", "font"] {
        let deep = format!(
            "<body>{}깊은 글{}</body>",
            format!("<{tag}>").repeat(100_000),
            "x"
        );
        survives(tag, &deep);
    }
}

#[test]
fn five_megabytes_of_nested_divs_are_refused_quickly() {
    for html in [
        "<div>".repeat(1_000_000),
        format!("{}글{}", "<div>".repeat(500_000), "</div>".repeat(500_000)),
        "<ul><li>".repeat(400_000),
        "<b><div>".repeat(500_000),
    ] {
        let page = survives("nested", &html);
        let reason = page.article.unwrap_err();
        assert!(reason.contains("too deep"), "{reason}");
    }
}

#[test]
fn a_page_nested_up_to_the_limit_is_read() {
    let para = "<p>깊게 감싼 본문 문단입니다, 스물다섯 글자를 충분히 넘기는 길이로 씁니다.</p>";
    let html = format!("<body>{}{}</body>", "<div>".repeat(500), para.repeat(3));
    let page = survives("deep", &html);
    let article = page.article.unwrap();
    assert_eq!(article.rule, "density");
    assert_eq!(article.chars, 3 * html_text(para).chars);
}

#[test]
fn nested_article_containers_are_measured_once() {
    let para = "<p>본문 문단입니다, 스물다섯 글자를 충분히 넘기는 길이로 씁니다.</p>";
    // Within the browsers' nesting limit: read, the outermost container measured.
    let html = format!(
        "<body>{}{para}</body>",
        "<div class='entry-content'>".repeat(500)
    );
    let page = read(&html, &at("https://a.tistory.com/1"), Seoul);
    assert_eq!(page.article.unwrap().chars, html_text(para).chars);
    // Past it (each container would be measured over the rest): refused, quickly.
    let html = format!("<body>{}{para}</body>", "<article>".repeat(6_000));
    let reason = survives("nested articles", &html).article.unwrap_err();
    assert!(reason.contains("too deep"), "{reason}");
    let html = format!(
        "<body>{}{para}</body>",
        "<span class='title'>".repeat(100_000)
    );
    let reason = survives("nested spans", &html).article.unwrap_err();
    assert!(reason.contains("512"), "{reason}");
}
