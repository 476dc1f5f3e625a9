//! The platform rules: which platform or generator made a page, and where its article is.
//!
//! Each [`Rule`] names its platform by host (`*.tistory.com`, `velog.io`, `blog.naver.com`,
//! `brunch.co.kr`, `medium.com`), by `<meta name="generator">` (WordPress, Hugo, Jekyll,
//! Gatsby, Docusaurus, Hexo) or by fingerprints in the markup (Tistory's skin containers on a
//! custom domain, Next.js's `#__next`), and lists the article's containers best first, the
//! platform's chrome inside them (Tistory's 공감/구독 buttons, Jetpack's like bar, Naver's
//! stickers, maps and link previews) and its code widgets that are not `<pre>`. The rules of
//! the platforms a page matches are tried in table order; the first container with text wins.
//! After them come two general rules: the page's `<article>` ("article"), then the densest
//! block of paragraphs ("density", [`super::density`]).

use std::sync::LazyLock;

use scraper::{ElementRef, Html, Selector};

use super::chrome::{is_chrome, Cleaner};
use super::density::{densest, MIN_PARAGRAPH};
use super::meta::compile;
use super::Article;

/// One platform's way of holding an article.
struct Rule {
    /// The rule's name, reported in [`Article::rule`].
    name: &'static str,
    /// Hosts (and their subdomains) that are this platform.
    hosts: &'static [&'static str],
    /// Lowercase prefixes of the `generator` meta that name this platform.
    generators: &'static [&'static str],
    /// Selectors whose presence names this platform.
    marks: &'static [&'static str],
    /// Where the article is, best first.
    containers: &'static [&'static str],
    /// The platform's chrome inside the article.
    drops: &'static [&'static str],
    /// Code widgets written without `<pre>`/`<code>` (measured as code).
    code: &'static [&'static str],
}

/// The platform rules, in the order they are tried.
const RULES: &[Rule] = &[
    Rule {
        name: "tistory",
        hosts: &["tistory.com"],
        generators: &[],
        marks: &[
            ".tt_article_useless_p_margin",
            "[data-tistory-react-app]",
            "link[href*='tistory_admin']",
            "script[src*='tistory_admin']",
            "meta[name='twitter:site'][content='@TISTORY']",
        ],
        containers: &[
            ".tt_article_useless_p_margin",
            ".contents_style",
            "#article-view",
            ".article-view",
            ".article_view",
            ".entry-content",
            ".tt_article",
            ".area_view",
            ".article_cont",
            ".post-content",
        ],
        drops: &[
            ".container_postbtn",
            ".postbtn_like",
            ".another_category",
            ".revenue_unit_wrap",
            ".btn-toggle-moreless",
            "figure[data-ke-type='opengraph']",
            "[data-tistory-react-app]",
        ],
        code: &[],
    },
    Rule {
        name: "velog",
        hosts: &["velog.io"],
        generators: &[],
        marks: &["meta[property='og:site_name'][content='velog']"],
        containers: &[".atom-one", "[class*='MarkdownRender']", ".markdown-body"],
        drops: &[],
        code: &[],
    },
    Rule {
        name: "naver-se3",
        hosts: &["blog.naver.com"],
        generators: &[],
        marks: &[".se-main-container", ".se_component_wrap"],
        containers: &[".se-main-container", ".se_component_wrap.sect_dsc"],
        drops: &[
            ".se-oglink",
            ".se-module-oglink",
            ".se-sticker",
            ".se-module-sticker",
            ".se-placesMap",
            ".se-map",
            ".se-material",
            ".se-video",
            ".se-file",
            ".se-schedule",
            ".se_og_box",
            ".se_sticker",
            ".se_map",
        ],
        code: &[".se-code-source", ".__se_code_view", ".se_code"],
    },
    Rule {
        name: "naver-se2",
        hosts: &["blog.naver.com"],
        generators: &[],
        marks: &["#postViewArea"],
        containers: &["#postViewArea", ".post-view", "#viewTypeSelector"],
        drops: &[".__se_map", ".__se_sticker", "._naverMap"],
        code: &[],
    },
    Rule {
        name: "brunch",
        hosts: &["brunch.co.kr"],
        generators: &[],
        marks: &[
            "meta[property='og:site_name'][content*='브런치']",
            ".wrap_body_frame",
        ],
        containers: &[".wrap_body"],
        drops: &[".item_type_opengraph", ".wrap_keyword"],
        code: &[],
    },
    Rule {
        name: "medium",
        hosts: &["medium.com"],
        generators: &["medium"],
        marks: &[
            "meta[property='al:android:package'][content='com.medium.reader']",
            "meta[property='og:site_name'][content='Medium']",
        ],
        containers: &["article"],
        drops: &[
            ".speechify-ignore",
            ".pw-post-byline-header",
            "[data-testid='headerClapButton']",
            "[data-testid='audioPlayButton']",
            ".pw-responses-count",
            ".pw-multi-vote-count",
        ],
        code: &[],
    },
    Rule {
        name: "wordpress",
        hosts: &["wordpress.com"],
        generators: &["wordpress"],
        marks: &[
            "link[href*='/wp-content/']",
            "link[href*='/wp-includes/']",
            "script[src*='/wp-includes/']",
        ],
        containers: &[
            ".entry-content",
            ".wp-block-post-content",
            ".post-content",
            ".entry",
            "article .content",
        ],
        drops: &[
            "#jp-post-flair",
            ".sharedaddy",
            ".jp-relatedposts",
            ".wpcnt",
            ".addtoany_share_save_container",
            ".yarpp-related",
        ],
        code: &[],
    },
    Rule {
        name: "docusaurus",
        hosts: &[],
        generators: &["docusaurus"],
        marks: &["meta[name='docusaurus_locale']"],
        containers: &[
            "article .markdown",
            ".theme-doc-markdown",
            "[itemprop='articleBody']",
            "article",
        ],
        drops: &[
            ".hash-link",
            ".theme-doc-footer",
            ".theme-doc-toc-mobile",
            ".pagination-nav",
            ".theme-edit-this-page",
            ".theme-last-updated",
            ".theme-doc-breadcrumbs",
        ],
        code: &[],
    },
    Rule {
        name: "hugo",
        hosts: &[],
        generators: &["hugo"],
        marks: &[],
        containers: &[
            ".post-content",
            ".article-content",
            ".post-body",
            ".entry-content",
            "[itemprop='articleBody']",
            ".content",
            "article",
            "main",
        ],
        drops: &[".anchor", ".heading-anchor", ".post-tags", ".post-footer"],
        code: &[],
    },
    Rule {
        name: "jekyll",
        hosts: &[],
        generators: &["jekyll"],
        marks: &[],
        containers: &[
            ".post-content",
            ".e-content",
            ".page__content",
            ".entry-content",
            ".post-body",
            "[itemprop='articleBody']",
            ".content",
            "article",
            "main",
        ],
        drops: &[
            ".anchorjs-link",
            ".page__meta",
            ".page__taxonomy",
            ".page__share",
        ],
        code: &[],
    },
    Rule {
        name: "gatsby",
        hosts: &[],
        generators: &["gatsby"],
        marks: &["#___gatsby"],
        containers: &[
            "[itemprop='articleBody']",
            ".markdown",
            ".post-content",
            ".blog-post-content",
            "article",
            "main",
        ],
        drops: &[".anchor-header", ".gatsby-resp-image-background-image"],
        code: &[],
    },
    Rule {
        name: "hexo",
        hosts: &[],
        generators: &["hexo"],
        marks: &[],
        containers: &[
            ".article-entry",
            ".post-body",
            ".post-content",
            ".markdown-body",
            "[itemprop='articleBody']",
            "article",
        ],
        drops: &[
            ".post-copyright",
            ".reward-container",
            ".post-nav",
            ".post-widgets",
            ".post-tags",
            ".article-footer",
            ".headerlink",
        ],
        code: &[],
    },
    Rule {
        name: "nextjs",
        hosts: &[],
        generators: &["next.js"],
        marks: &["#__next", "script#__NEXT_DATA__", "script[src*='/_next/']"],
        containers: &["article", "main"],
        drops: &[],
        code: &[],
    },
];

/// A rule with its selectors compiled.
struct Compiled {
    rule: &'static Rule,
    marks: Vec<Selector>,
    containers: Vec<Selector>,
    drops: Vec<Selector>,
    code: Vec<Selector>,
}

static COMPILED: LazyLock<Vec<Compiled>> = LazyLock::new(|| {
    RULES
        .iter()
        .map(|rule| Compiled {
            rule,
            marks: compile(rule.marks),
            containers: compile(rule.containers),
            drops: compile(rule.drops),
            code: compile(rule.code),
        })
        .collect()
});

static GENERATOR: LazyLock<Vec<Selector>> =
    LazyLock::new(|| compile(&["meta[name='generator' i][content]"]));
static ARTICLE: LazyLock<Vec<Selector>> =
    LazyLock::new(|| compile(&["[itemprop='articleBody']", "article", "[role='article']"]));
static BODY: LazyLock<Vec<Selector>> = LazyLock::new(|| compile(&["body"]));
static PASSWORD: LazyLock<Vec<Selector>> = LazyLock::new(|| compile(&["input[type='password' i]"]));

/// What the rules need to know of the page.
pub struct Context<'d> {
    /// The parsed page.
    pub doc: &'d Html,
    /// The page's host, lowercase.
    pub host: String,
    /// The post's titles as the page gives them.
    pub titles: &'d [String],
}

impl Compiled {
    /// Whether the page is this rule's platform.
    fn applies(&self, cx: &Context) -> bool {
        let host = cx.host.as_str();
        let by_host =
            self.rule.hosts.iter().any(|h| {
                host == *h || host.strip_suffix(h).is_some_and(|rest| rest.ends_with('.'))
            });
        by_host
            || (!self.rule.generators.is_empty() && {
                let generators = generators(cx.doc);
                self.rule
                    .generators
                    .iter()
                    .any(|g| generators.iter().any(|have| have.starts_with(g)))
            })
            || self.marks.iter().any(|s| cx.doc.select(s).next().is_some())
    }

    fn cleaner<'r>(&'r self, cx: &'r Context) -> Cleaner<'r> {
        Cleaner {
            drops: &self.drops,
            code: &self.code,
            titles: cx.titles,
            words: true,
        }
    }
}

/// The page's `generator` metas, lowercase.
fn generators(doc: &Html) -> Vec<String> {
    GENERATOR
        .iter()
        .flat_map(|s| doc.select(s))
        .filter_map(|m| m.value().attr("content"))
        .map(|c| c.trim().to_ascii_lowercase())
        .collect()
}

/// How one container selector fared.
enum Outcome {
    /// It matched, with text.
    Found(Article),
    /// It matched, but only empty elements.
    Empty,
    /// It matched nothing.
    Absent,
}

/// Matches of one container selector looked at, in page order: a post page has a few (a list
/// page a few dozen); a page built to have thousands is not measured thousands of times.
const MAX_MATCHES: usize = 64;

/// The largest outermost match of `selector` outside chrome, measured by `cleaner`.
fn largest(
    cx: &Context,
    selector: &Selector,
    cleaner: &Cleaner,
    rule: &'static str,
) -> Result<Outcome, String> {
    let mut outcome = Outcome::Absent;
    let mut outer: Option<ElementRef> = None;
    for el in cx.doc.select(selector).take(MAX_MATCHES) {
        // A match inside the last one measured is part of it (and never larger).
        if outer.is_some_and(|o| el.ancestors().any(|a| a == *o)) || inside_chrome(el) {
            continue;
        }
        outer = Some(el);
        if PASSWORD.iter().any(|s| el.select(s).next().is_some()) {
            return Err(format!(
                "the post is protected by a password (rule {rule}): its text is not on the page"
            ));
        }
        let article = cleaner.article(rule, &[el]);
        outcome = match outcome {
            Outcome::Found(best) if best.chars >= article.chars => Outcome::Found(best),
            _ if article.chars > 0 => Outcome::Found(article),
            _ => Outcome::Empty,
        };
    }
    Ok(outcome)
}

/// Whether an element sits inside chrome (a container in a sidebar widget is not the post).
fn inside_chrome(e: ElementRef) -> bool {
    e.ancestors()
        .filter_map(ElementRef::wrap)
        .any(|a| is_chrome(a.value(), true))
}

/// The article of the page: the platform rules in order, then the page's `<article>`, then the
/// densest block; or why there is none.
pub fn article(cx: &Context) -> Result<Article, String> {
    let mut empty: Option<&'static str> = None;
    for compiled in COMPILED.iter().filter(|c| c.applies(cx)) {
        let cleaner = compiled.cleaner(cx);
        for selector in &compiled.containers {
            match largest(cx, selector, &cleaner, compiled.rule.name)? {
                Outcome::Found(article) => return Ok(article),
                Outcome::Empty => {
                    empty.get_or_insert(compiled.rule.name);
                }
                Outcome::Absent => {}
            }
        }
    }
    if let Some(rule) = empty {
        return Err(format!(
            "the page's article container (rule {rule}) holds no text: the post may be images \
             only, or drawn by scripts the reader does not run"
        ));
    }
    general(cx)
}

/// The general rules: the largest `<article>` with a paragraph's worth of text, else the densest
/// block of paragraphs.
fn general(cx: &Context) -> Result<Article, String> {
    let cleaner = Cleaner {
        drops: &[],
        code: &[],
        titles: cx.titles,
        words: true,
    };
    for selector in ARTICLE.iter() {
        if let Outcome::Found(a) = largest(cx, selector, &cleaner, "article")? {
            if a.chars >= MIN_PARAGRAPH {
                return Ok(a);
            }
        }
    }
    let body = BODY
        .iter()
        .find_map(|s| cx.doc.select(s).next())
        .unwrap_or_else(|| cx.doc.root_element());
    let found = densest(body, cx.titles)?;
    let cleaner = Cleaner {
        words: found.words,
        ..cleaner
    };
    Ok(cleaner.article("density", &found.roots))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalise::html_text;

    #[test]
    fn every_selector_compiles() {
        for rule in RULES {
            for list in [rule.marks, rule.containers, rule.drops, rule.code] {
                for s in list {
                    assert!(Selector::parse(s).is_ok(), "{}: {s}", rule.name);
                }
            }
        }
        assert_eq!(GENERATOR.len(), 1);
        assert_eq!(ARTICLE.len(), 3);
        assert_eq!(PASSWORD.len(), 1);
    }

    #[test]
    fn hosts_match_themselves_and_their_subdomains_only() {
        let doc = Html::parse_document("<p>x</p>");
        let tistory = COMPILED.iter().find(|c| c.rule.name == "tistory").unwrap();
        for (host, yes) in [
            ("mike3dk.tistory.com", true),
            ("tistory.com", true),
            ("nottistory.com", false),
            ("tistory.com.evil.example", false),
        ] {
            let cx = Context {
                doc: &doc,
                host: host.to_string(),
                titles: &[],
            };
            assert_eq!(tistory.applies(&cx), yes, "{host}");
        }
    }

    /// The general rules alone (no platform rule) on a page, against its truth: (rule, chars).
    fn general_alone(html: &str) -> (&'static str, usize) {
        let doc = Html::parse_document(html);
        let titles = super::super::meta::titles(&doc);
        let cx = Context {
            doc: &doc,
            host: "unknown.example".into(),
            titles: &titles,
        };
        general(&cx).map_or(("none", 0), |a| (a.rule, a.chars))
    }

    /// The text between a fixture's truth markers, measured as feed content is.
    fn truth(html: &str) -> Option<usize> {
        let parts: Vec<&str> = html.split("<!--truth-->").skip(1).collect();
        (!parts.is_empty()).then(|| {
            parts
                .iter()
                .map(|p| html_text(p.split("<!--/truth-->").next().unwrap_or("")).chars)
                .sum()
        })
    }

    fn within_ten_percent(pages: &[(String, String, usize)]) {
        let mut failures = Vec::new();
        for (name, html, truth) in pages {
            let (rule, chars) = general_alone(html);
            let error = (chars as f64 - *truth as f64) / *truth as f64 * 100.0;
            println!("{name:<22} {rule:<8} {chars:>6} {truth:>6} {error:>+8.1}");
            if error.abs() > 10.0 {
                failures.push(name.clone());
            }
        }
        assert!(failures.is_empty(), "{failures:?}");
    }

    /// The general extractor must not lean on the platform rules: on every fixture it alone
    /// stays within ±10% too.
    #[test]
    fn the_general_rules_alone_measure_every_fixture() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pages");
        let mut pages = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "html") {
                continue;
            }
            let html = std::fs::read_to_string(&path).unwrap_or_default();
            if let Some(t) = truth(&html) {
                pages.push((path.file_name().unwrap().to_string_lossy().into(), html, t));
            }
        }
        pages.sort();
        assert!(pages.len() >= 17);
        within_ten_percent(&pages);
    }

    /// The same on the corpus's real pages (read in place; see `tests/reader_corpus.rs` for
    /// their truth).
    #[test]
    #[ignore = "reads ../shared/corpus in place"]
    fn the_general_rules_alone_measure_the_real_pages() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/corpus/korean-blog-extractor");
        if !dir.is_dir() {
            println!("note: {} is absent; skipped", dir.display());
            return;
        }
        let pages: Vec<(String, String, usize)> = [
            "post_tistory.html",
            "post_naver.html",
            "post_wordpress.html",
        ]
        .iter()
        .map(|f| {
            let html = std::fs::read_to_string(dir.join(f)).unwrap();
            (f.to_string(), html, 139)
        })
        .collect();
        within_ten_percent(&pages);
    }

    #[test]
    fn a_protected_post_is_an_error() {
        let doc = Html::parse_document(
            "<div class='entry-content'><form><p>보호되어 있는 글입니다.</p>\
             <input type='password'></form></div>",
        );
        let cx = Context {
            doc: &doc,
            host: "a.tistory.com".into(),
            titles: &[],
        };
        assert!(article(&cx).unwrap_err().contains("password"));
    }
}
