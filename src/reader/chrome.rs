//! What is not the article: the page chrome every rule leaves out, and the measuring of what
//! is left.
//!
//! An element is chrome by its tag (`nav`, `aside`, `header`, `footer`, `form`, `button`,
//! scripts and styles, frames, `svg`), its ARIA role (navigation, banner, complementary, …),
//! its being hidden (`hidden`, `display:none`), or a word of its `class` or `id` (`comment`,
//! `sidebar`, `share`, `related`, `subscribe`, `cookie`, `ad`, `toc`, Tistory's `postbtn` and
//! `another_category`, Naver's `likeit`, Jetpack's `sharedaddy`, …). [`Cleaner`] writes an
//! article element's inner HTML without its chrome — plus a rule's own drops and the heading
//! that only repeats the post's title — and marks a platform's code widgets as `<pre>`, so
//! that [`crate::normalise::html_text`] measures the article exactly as it measures a feed's
//! content: no whitespace, no `<pre>`/`<code>`.

use scraper::node::Element;
use scraper::{ElementRef, Node, Selector};

use super::Article;
use crate::normalise::html_text;

/// Tags whose elements are never article text.
const CHROME_TAGS: &[&str] = &[
    "script", "style", "noscript", "template", "nav", "aside", "header", "footer", "form",
    "button", "select", "textarea", "input", "label", "iframe", "frame", "frameset", "object",
    "embed", "svg", "canvas", "dialog", "menu", "link", "meta",
];

/// ARIA roles of page chrome.
const CHROME_ROLES: &[&str] = &[
    "navigation",
    "banner",
    "contentinfo",
    "complementary",
    "search",
    "dialog",
    "alertdialog",
    "menu",
    "menubar",
    "toolbar",
    "tablist",
];

/// Whole `class` tokens of text meant only for screen readers or kept hidden.
const HIDDEN_CLASSES: &[&str] = &[
    "blind",
    "screen_out",
    "screen-reader-text",
    "sr-only",
    "visually-hidden",
    "visuallyhidden",
    "hidden",
    "hide",
];

/// `class`/`id` words (split at `-`, `_`, spaces and camelCase) that name chrome.
const CHROME_WORDS: &[&str] = &[
    "nav",
    "gnb",
    "lnb",
    "snb",
    "menu",
    "toolbar",
    "breadcrumb",
    "breadcrumbs",
    "header",
    "footer",
    "masthead",
    "sidebar",
    "aside",
    "widget",
    "widgets",
    "comment",
    "comments",
    "reply",
    "replies",
    "response",
    "responses",
    "disqus",
    "utterances",
    "giscus",
    "related",
    "recommend",
    "share",
    "sharing",
    "social",
    "sns",
    "subscribe",
    "subscription",
    "newsletter",
    "cookie",
    "cookies",
    "consent",
    "gdpr",
    "banner",
    "popup",
    "modal",
    "ad",
    "ads",
    "adsense",
    "adsbygoogle",
    "advert",
    "advertisement",
    "sponsor",
    "sponsored",
    "promo",
    "pagination",
    "pager",
    "paging",
    "toc",
    "tag",
    "tags",
    "byline",
    "meta",
    "postbtn",
    "reaction",
    "reactions",
    "like",
    "likes",
    "likeit",
    "sympathy",
    "og",
    "oglink",
    "opengraph",
    "map",
    "sticker",
    "profile",
    "author",
    "bio",
    "copyright",
];

/// `class`/`id` word prefixes that name chrome (`sharedaddy`, `relatedposts`, `commentlist`).
const CHROME_PREFIXES: &[&str] = &[
    "comment",
    "sidebar",
    "share",
    "social",
    "related",
    "recommend",
    "subscri",
    "newsletter",
    "breadcrumb",
    "pagination",
    "advert",
    "sponsor",
    "disqus",
    "navbar",
    "navigation",
    "likeit",
    "another",
];

/// Whether `el` is page chrome by its tag, role, hiding or (when `words`) its class and id.
pub fn is_chrome(el: &Element, words: bool) -> bool {
    let name = el.name();
    if CHROME_TAGS.contains(&name) {
        return true;
    }
    if let Some(role) = el.attr("role") {
        if CHROME_ROLES.contains(&role.trim().to_ascii_lowercase().as_str()) {
            return true;
        }
    }
    if el.attr("hidden").is_some() || el.attr("style").is_some_and(hides) {
        return true;
    }
    if el.classes().any(|c| HIDDEN_CLASSES.contains(&c)) {
        return true;
    }
    if !words || matches!(name, "html" | "body" | "main") || is_content_level(name) {
        return false;
    }
    let tokens: Vec<&str> = el.classes().chain(el.id()).collect();
    tokens.iter().any(|t| names_chrome(t)) && !tokens.iter().any(|t| names_content(t))
}

/// `class`/`id` words that keep an element even when another word names chrome, as
/// Readability's "maybe a candidate" does: `content-sidebar-wrap` wraps the post too.
const CONTENT_WORDS: &[&str] = &["content", "article", "main", "body", "column", "entry"];

/// Whether a class or id names the content.
fn names_content(token: &str) -> bool {
    words_of(token).any(|w| CONTENT_WORDS.contains(&w.as_str()))
}

/// Where a page lists other posts or other people's words, whose dates are not the post's:
/// `nav` and `aside`, and comments, sidebars, widgets, related and popular posts by class or id.
pub fn lists_other_posts(el: &Element) -> bool {
    const PREFIXES: &[&str] = &[
        "comment",
        "reply",
        "replies",
        "response",
        "sidebar",
        "widget",
        "related",
        "recommend",
        "popular",
        "recent",
        "disqus",
        "utterances",
        "giscus",
        "cbox",
    ];
    matches!(el.name(), "nav" | "aside")
        || el
            .classes()
            .chain(el.id())
            .any(|t| words_of(t).any(|w| PREFIXES.iter().any(|p| w.starts_with(p))))
}

/// Elements that hold the article's own words, never a widget of their own: their class
/// names (often CSS-module hashes such as `anchorWithStickyNavbar_LWe7`) are not read.
fn is_content_level(name: &str) -> bool {
    matches!(
        name,
        "h1" | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "pre"
            | "code"
            | "blockquote"
            | "figure"
            | "figcaption"
            | "table"
            | "tbody"
            | "tr"
            | "td"
            | "th"
    )
}

/// A block whose class names it code (`se-code`, `code-block`, `codeBlockContainer`): code
/// even when it is not written with `<pre>`/`<code>`.
fn is_code_widget(el: &Element) -> bool {
    matches!(el.name(), "div" | "section" | "figure")
        && el
            .classes()
            .any(|c| words_of(c).any(|w| w == "code" || w == "codeblock"))
}

/// Whether an inline style hides the element.
fn hides(style: &str) -> bool {
    let compact: String = style
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect();
    compact.contains("display:none") || compact.contains("visibility:hidden")
}

/// Whether a class or id names chrome: one of its words is a chrome word or starts with a
/// chrome prefix.
fn names_chrome(token: &str) -> bool {
    words_of(token).any(|w| {
        CHROME_WORDS.contains(&w.as_str()) || CHROME_PREFIXES.iter().any(|p| w.starts_with(p))
    })
}

/// The lowercase words of a class or id: split at anything not a letter or digit, and where a
/// lowercase letter is followed by an uppercase one (`relatedPosts` → `related`, `posts`).
fn words_of(token: &str) -> impl Iterator<Item = String> + '_ {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut prev_lower = false;
    for c in token.chars() {
        if !c.is_ascii_alphanumeric() {
            words.push(std::mem::take(&mut word));
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower {
            words.push(std::mem::take(&mut word));
        }
        prev_lower = c.is_ascii_lowercase();
        word.push(c.to_ascii_lowercase());
    }
    words.push(word);
    words.into_iter().filter(|w| !w.is_empty())
}

/// Whether `el` only repeats the post's title: a heading (`h1`–`h3`) or an element whose
/// class names a title (`title_view`, `tit_post`, `subject`), whose text is one of `titles`
/// or the start of one before a separator (`제목 :: 블로그`). Other elements are not read, so
/// that deep markup is not walked once per element.
pub fn repeats_title(el: ElementRef, titles: &[String]) -> bool {
    let e = el.value();
    let titled = matches!(e.name(), "h1" | "h2" | "h3")
        || e.classes().any(|c| {
            words_of(c).any(|w| matches!(w.as_str(), "title" | "tit" | "subject" | "headline"))
        });
    if !titled || titles.is_empty() {
        return false;
    }
    // Read no more text than the longest title could match.
    let longest = titles.iter().map(String::len).max().unwrap_or(0);
    let mut text = String::new();
    for piece in el.text() {
        text.push_str(piece);
        if text.len() > longest + 64 {
            return false;
        }
    }
    let text = one_line(&text);
    !text.is_empty()
        && titles.iter().any(|t| {
            t == &text
                || t.strip_prefix(text.as_str())
                    .is_some_and(|rest| rest.starts_with([' ', '|', ':', '-', '–', '—', '<', '·']))
        })
}

/// Writes article elements' content without chrome, for measuring.
pub struct Cleaner<'r> {
    /// A rule's own chrome, beyond [`is_chrome`].
    pub drops: &'r [Selector],
    /// A platform's code widgets that are not `<pre>`/`<code>` (written as `<pre>`).
    pub code: &'r [Selector],
    /// The post's title as the page gives it: a heading that only repeats it is dropped.
    pub titles: &'r [String],
    /// Whether class and id words mark chrome (off when they would leave nothing).
    pub words: bool,
}

/// One step of the iterative walk: a node to write, or an end tag to close.
enum Step<'a, N> {
    Node(N),
    End(&'a str),
}

impl Cleaner<'_> {
    /// Whether `el`, inside an article, is left out.
    pub fn drops(&self, el: ElementRef) -> bool {
        is_chrome(el.value(), self.words)
            || self.drops.iter().any(|s| s.matches(&el))
            || repeats_title(el, self.titles)
    }

    /// The inner HTML of `roots`, in order, without what [`Cleaner::drops`] leaves out: tag
    /// names only (attributes do not change the measure), text escaped, code widgets as `<pre>`.
    /// Iterative, so nesting depth cannot exhaust the stack.
    pub fn inner_html(&self, roots: &[ElementRef]) -> String {
        let mut out = String::new();
        for root in roots {
            let mut stack = Vec::new();
            stack.extend(root.children().rev().map(Step::Node));
            while let Some(step) = stack.pop() {
                let node = match step {
                    Step::End(name) => {
                        out.push_str("</");
                        out.push_str(name);
                        out.push('>');
                        continue;
                    }
                    Step::Node(node) => node,
                };
                match node.value() {
                    Node::Text(t) => {
                        let raw = node
                            .parent()
                            .and_then(|p| p.value().as_element())
                            .is_some_and(|p| matches!(p.name(), "xmp" | "noembed" | "noframes"));
                        push_text(&mut out, t, raw);
                    }
                    Node::Element(e) => {
                        let Some(el) = ElementRef::wrap(node) else {
                            continue;
                        };
                        if self.drops(el) {
                            out.push(' ');
                            continue;
                        }
                        let name = if self.code.iter().any(|s| s.matches(&el))
                            || (self.words && is_code_widget(e))
                        {
                            "pre"
                        } else {
                            e.name()
                        };
                        out.push('<');
                        out.push_str(name);
                        out.push('>');
                        if !is_void(name) {
                            stack.push(Step::End(name));
                            stack.extend(node.children().rev().map(Step::Node));
                        }
                    }
                    _ => {}
                }
            }
        }
        out
    }

    /// The article in `roots`, found by `rule`, measured by the club's rule.
    pub fn article(&self, rule: &'static str, roots: &[ElementRef]) -> Article {
        let measured = html_text(&self.inner_html(roots));
        Article {
            rule,
            text: measured.text,
            chars: measured.chars,
        }
    }
}

/// Text written back as markup: `&` and `<` escaped unless the element's content is raw text.
fn push_text(out: &mut String, text: &str, raw: bool) {
    if raw {
        out.push_str(text);
        return;
    }
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            _ => out.push(c),
        }
    }
}

/// Elements that have no end tag.
fn is_void(name: &str) -> bool {
    matches!(
        name,
        "area"
            | "base"
            | "br"
            | "col"
            | "embed"
            | "hr"
            | "img"
            | "input"
            | "link"
            | "meta"
            | "source"
            | "track"
            | "wbr"
            | "param"
            | "keygen"
    )
}

/// `text` on one line: whitespace runs become one space, none at either end.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use scraper::Html;

    fn cleaned(html: &str, titles: &[String]) -> Article {
        let doc = Html::parse_document(html);
        let body = Selector::parse("body").unwrap();
        let root = doc.select(&body).next().unwrap();
        let cleaner = Cleaner {
            drops: &[],
            code: &[],
            titles,
            words: true,
        };
        cleaner.article("test", &[root])
    }

    #[test]
    fn class_words_split_at_dashes_underscores_and_case() {
        let words: Vec<String> = words_of("area_reply relatedPosts-box").collect();
        assert_eq!(words, ["area", "reply", "related", "posts", "box"]);
        assert!(names_chrome("sharedaddy"));
        assert!(names_chrome("container_postbtn"));
        assert!(names_chrome("jp-relatedposts"));
        assert!(names_chrome("comment-list"));
        assert!(!names_chrome("entry-content"));
        assert!(!names_chrome("se-main-container"));
        assert!(!names_chrome("tt_article_useless_p_margin"));
        assert!(!names_chrome("footnote"));
        assert!(!names_chrome("atom-one"));
    }

    #[test]
    fn chrome_inside_the_article_is_not_measured() {
        let html = "<body><p>본문 다섯 글자</p><div class='share-box'>공유하기</div>\
                    <nav>메뉴</nav><div style='display: none'>숨김</div>\
                    <span class='blind'>트위터</span><script>var x = '스크립트';</script></body>";
        let a = cleaned(html, &[]);
        assert_eq!(a.text, "본문 다섯 글자");
        assert_eq!(a.chars, 6);
    }

    #[test]
    fn code_is_kept_in_the_text_but_not_counted() {
        let a = cleaned(
            "<body><p>설명</p><pre><code>let x = 1;</code></pre></body>",
            &[],
        );
        assert_eq!(a.chars, 2);
        assert!(a.text.contains("let x = 1;"));
    }

    #[test]
    fn text_is_escaped_so_the_measure_reads_it_as_text() {
        let a = cleaned("<body><p>a &lt;b&gt; &amp;amp; c</p></body>", &[]);
        assert_eq!(a.text, "a <b> &amp; c");
        assert_eq!(a.chars, 10);
    }

    #[test]
    fn a_heading_repeating_the_title_is_dropped() {
        let titles = ["글 제목 :: 블로그".to_string()];
        let a = cleaned(
            "<body><h1>글 제목</h1><p>본문</p><h2>소제목</h2></body>",
            &titles,
        );
        assert_eq!(a.text, "본문 소제목");
    }

    #[test]
    fn deep_nesting_does_not_exhaust_the_stack() {
        let html = format!(
            "<body>{}깊다{}</body>",
            "<span>".repeat(50_000),
            "</span>".repeat(10)
        );
        assert_eq!(cleaned(&html, &[]).chars, 2);
    }
}
