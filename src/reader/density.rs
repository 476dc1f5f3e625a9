//! The general extractor: the densest block of paragraphs on a page, for pages no platform
//! rule knows.
//!
//! A Readability-style scorer over scraper's tree, without chrome: every block of text of at
//! least [`MIN_PARAGRAPH`] characters (a `<p>`, a `<div>` of text and `<br>`s, a list item)
//! scores for its parent (in full), its grandparent (half) and three more ancestors (less),
//! by its length and commas, discounted by how much of it is link text; a candidate's tag and
//! its class words (`content`, `entry`, `post` up; `meta`, `footer`, `comment` down) weigh in,
//! and its total is discounted by the link density of everything under it. The best
//! candidate is widened as Readability does when several nearly as good ones sit on other
//! branches (an editor that wraps each paragraph in a component), and raised past wrappers of
//! which it is the only child; the article is then that block with those of its siblings that
//! score nearly as well, are plain paragraphs, or are lists, tables, quotations or code with
//! few links (a list's short lines never score). Chrome (see [`super::chrome`]) and the
//! heading that repeats the title are not walked at all; when class words would leave no
//! paragraph, the page is read again with tags and roles only.

use scraper::ElementRef;

use super::chrome::{is_chrome, repeats_title};

/// Fewest characters (no whitespace) a block must hold to count as a paragraph.
pub const MIN_PARAGRAPH: usize = 25;

/// The article the general extractor found: its elements, in page order, and whether class
/// and id words were used to leave chrome out (measure with the same setting).
pub struct Found<'a> {
    /// The best candidate and the siblings that belong with it.
    pub roots: Vec<ElementRef<'a>>,
    /// Whether class and id words marked chrome.
    pub words: bool,
}

/// What the walk knows of one element outside chrome.
struct Info<'a> {
    el: ElementRef<'a>,
    parent: Option<usize>,
    /// Characters of text whose nearest block is this element.
    own: usize,
    /// Of those, inside links.
    own_links: usize,
    /// Commas in that text.
    commas: usize,
    /// Characters of all text under it, and of link text under it.
    chars: usize,
    links: usize,
}

/// The densest block of paragraphs under `body`, or why there is none; an element repeating
/// one of `titles` (the post's title) is not text of the post.
pub fn densest<'a>(body: ElementRef<'a>, titles: &[String]) -> Result<Found<'a>, String> {
    for words in [true, false] {
        let nodes = walk(body, words, titles);
        if let Some(roots) = best(&nodes) {
            return Ok(Found { roots, words });
        }
    }
    Err(format!(
        "no article found: no block of at least {MIN_PARAGRAPH} characters of text outside \
         navigation, headers, footers, sidebars and comments"
    ))
}

/// Every element under `root` outside chrome, in page order (a parent before its children),
/// with its own text and its subtree's totals. Iterative: depth cannot exhaust the stack.
fn walk<'a>(root: ElementRef<'a>, words: bool, titles: &[String]) -> Vec<Info<'a>> {
    let mut nodes: Vec<Info> = Vec::new();
    // (node, parent index, nearest block index, inside a link)
    let mut stack = vec![(*root, None, None, false)];
    while let Some((node, parent, block, in_link)) = stack.pop() {
        if let Some(text) = node.value().as_text() {
            if let Some(info) = block.and_then(|b: usize| nodes.get_mut(b)) {
                let n = text.chars().filter(|c| !c.is_whitespace()).count();
                info.own += n;
                if in_link {
                    info.own_links += n;
                }
                info.commas += text.matches([',', '，', '、']).count();
            }
            continue;
        }
        let Some(el) = ElementRef::wrap(node) else {
            continue;
        };
        if el != root && (is_chrome(el.value(), words) || repeats_title(el, titles)) {
            continue;
        }
        let idx = nodes.len();
        nodes.push(Info {
            el,
            parent,
            own: 0,
            own_links: 0,
            commas: 0,
            chars: 0,
            links: 0,
        });
        let name = el.value().name();
        let block = if is_inline(name) { block } else { Some(idx) };
        let in_link = in_link || name == "a";
        stack.extend(
            node.children()
                .rev()
                .map(|c| (c, Some(idx), block, in_link)),
        );
    }
    for i in (0..nodes.len()).rev() {
        let (chars, links) = (
            nodes[i].chars + nodes[i].own,
            nodes[i].links + nodes[i].own_links,
        );
        nodes[i].chars = chars;
        nodes[i].links = links;
        if let Some(p) = nodes[i].parent {
            nodes[p].chars += chars;
            nodes[p].links += links;
        }
    }
    nodes
}

/// The best candidate and its siblings that belong with it; `None` when no paragraph scored.
fn best<'a>(nodes: &[Info<'a>]) -> Option<Vec<ElementRef<'a>>> {
    let scores = scores(nodes);
    let final_score = |i: usize, s: f64| s * (1.0 - link_density(nodes[i].links, nodes[i].chars));
    let mut ranked: Vec<(usize, f64)> = scores
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.map(|s| (i, final_score(i, s))))
        .collect();
    // Best first; on a tie the tighter block (less text around the paragraphs) wins.
    ranked.sort_by(|a, b| {
        b.1.total_cmp(&a.1)
            .then(nodes[a.0].chars.cmp(&nodes[b.0].chars))
    });
    let tree = Children::of(nodes);
    let top = tree.up_from_only_child(nodes, widen(nodes, &ranked)?);
    let Some(parent) = nodes[top].parent else {
        return Some(vec![nodes[top].el]);
    };
    let top_score = scores[top].map_or(0.0, |s| final_score(top, s));
    let threshold = (top_score * 0.2).max(10.0);
    let roots = (0..nodes.len())
        .filter(|&i| i == top || nodes[i].parent == Some(parent))
        .filter(|&i| {
            i == top
                || scores[i].is_some_and(|s| s >= threshold)
                || is_plain_paragraph(&nodes[i])
                || tree.is_content_block(nodes, i)
        })
        .map(|i| nodes[i].el)
        .collect();
    Some(roots)
}

/// How many children outside chrome each element has, and its first.
struct Children {
    count: Vec<usize>,
    first: Vec<Option<usize>>,
}

impl Children {
    fn of(nodes: &[Info]) -> Self {
        let mut count = vec![0; nodes.len()];
        let mut first = vec![None; nodes.len()];
        for (i, n) in nodes.iter().enumerate() {
            if let Some(p) = n.parent {
                count[p] += 1;
                first[p].get_or_insert(i);
            }
        }
        Children { count, first }
    }

    /// Readability's step for wrappers: while the candidate is its parent's only child (chrome
    /// aside), the parent is the candidate, so that the siblings it is joined with are the
    /// article's other blocks and not the wrapper's empty insides. The root is never reached.
    fn up_from_only_child(&self, nodes: &[Info], mut top: usize) -> usize {
        while let Some(p) = nodes[top].parent {
            if self.count[p] != 1 || nodes[p].parent.is_none() {
                break;
            }
            top = p;
        }
        top
    }

    /// A sibling that is a list, a table, a quotation or code, perhaps inside wrappers of one
    /// child each (an editor's component), with few links: part of the article even though its
    /// short lines never score as paragraphs.
    fn is_content_block(&self, nodes: &[Info], mut i: usize) -> bool {
        if nodes[i].chars == 0 || link_density(nodes[i].links, nodes[i].chars) >= 0.25 {
            return false;
        }
        while self.count[i] == 1 {
            match self.first[i] {
                Some(c) => i = c,
                None => break,
            }
        }
        matches!(
            nodes[i].el.value().name(),
            "ul" | "ol" | "dl" | "table" | "blockquote" | "pre"
        )
    }
}

/// The best candidate, widened as Readability does for editors that wrap every paragraph in
/// components of its own (Naver's SmartEditor): when at least three of the next four
/// candidates score three quarters of the best or more, the article is the lowest ancestor of
/// the best that holds three of them. Candidates that contain the best or sit inside it do
/// not count. `ranked` is best first.
fn widen(nodes: &[Info], ranked: &[(usize, f64)]) -> Option<usize> {
    const MIN_ALTERNATIVES: usize = 3;
    let &(top, top_score) = ranked.first()?;
    let holds = |ancestor: usize, mut i: usize| loop {
        match nodes[i].parent {
            Some(p) if p == ancestor => break true,
            Some(p) => i = p,
            None => break false,
        }
    };
    // Alternatives on other branches: the best one's ancestors score from its own paragraphs.
    let alternatives: Vec<usize> = ranked
        .iter()
        .skip(1)
        .take(4)
        .filter(|&&(i, s)| s >= 0.75 * top_score && !holds(i, top) && !holds(top, i))
        .map(|(i, _)| *i)
        .collect();
    if alternatives.len() < MIN_ALTERNATIVES {
        return Some(top);
    }
    let mut ancestor = nodes[top].parent;
    while let Some(a) = ancestor {
        if nodes[a].parent.is_none() {
            break; // the walk's root (the body) is never the article
        }
        if alternatives.iter().filter(|&&alt| holds(a, alt)).count() >= MIN_ALTERNATIVES {
            return Some(a);
        }
        ancestor = nodes[a].parent;
    }
    Some(top)
}

/// Each element's score, `None` for those no paragraph credited.
fn scores(nodes: &[Info]) -> Vec<Option<f64>> {
    let mut scores: Vec<Option<f64>> = vec![None; nodes.len()];
    for (i, n) in nodes.iter().enumerate() {
        if n.own < MIN_PARAGRAPH {
            continue;
        }
        let name = n.el.value().name();
        let credit = (1.0 + n.commas as f64 + (n.own as f64 / 50.0).min(3.0))
            * (1.0 - link_density(n.own_links, n.own));
        // A container holding its text directly (text and <br>s) is a candidate itself.
        let mut target = if is_container(name) {
            Some(i)
        } else {
            n.parent
        };
        let mut level = 0usize;
        while let Some(t) = target {
            if level > 5 {
                break;
            }
            let share = match level {
                0 => 1.0,
                1 => 0.5,
                l => 1.0 / (l as f64 * 3.0),
            };
            let base = scores[t].unwrap_or_else(|| initial_score(nodes[t].el));
            scores[t] = Some(base + credit * share);
            target = nodes[t].parent;
            level += 1;
        }
    }
    scores
}

/// A candidate's score before any paragraph credits it: its tag and its class words.
fn initial_score(el: ElementRef) -> f64 {
    let tag = match el.value().name() {
        "div" | "article" | "section" => 5.0,
        "main" => 3.0,
        "pre" | "td" | "blockquote" => 3.0,
        "address" | "ol" | "ul" | "dl" | "dd" | "dt" | "li" | "form" => -3.0,
        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "th" => -5.0,
        _ => 0.0,
    };
    tag + class_weight(el)
}

/// +25 for a class or id that names content, −25 for one that names chrome, each at most once.
fn class_weight(el: ElementRef) -> f64 {
    const POSITIVE: &[&str] = &[
        "article", "body", "content", "entry", "hentry", "main", "page", "post", "text", "blog",
        "story", "markdown", "prose", "view",
    ];
    const NEGATIVE: &[&str] = &[
        "hidden", "foot", "footer", "meta", "media", "outbrain", "scroll", "shoutbox", "tool",
        "contact", "combx", "comment", "comments", "sidebar", "widget", "related", "share",
        "sponsor", "banner", "masthead", "promo", "tags", "list", "card", "thumb",
    ];
    let e = el.value();
    let words: Vec<String> = e
        .classes()
        .chain(e.id())
        .flat_map(|t| {
            t.split(|c: char| !c.is_ascii_alphanumeric())
                .map(str::to_ascii_lowercase)
                .collect::<Vec<_>>()
        })
        .collect();
    let has = |list: &[&str]| words.iter().any(|w| list.contains(&w.as_str()));
    let mut weight = 0.0;
    if has(POSITIVE) {
        weight += 25.0;
    }
    if has(NEGATIVE) {
        weight -= 25.0;
    }
    weight
}

/// A sibling that is a paragraph of prose: long with few links, or short, linkless and ending
/// a sentence.
fn is_plain_paragraph(n: &Info) -> bool {
    if n.el.value().name() != "p" {
        return false;
    }
    let density = link_density(n.links, n.chars);
    if n.chars >= 80 {
        return density < 0.25;
    }
    n.chars > 0 && density == 0.0 && {
        let text: String = n.el.text().collect();
        let t = text.trim_end();
        t.ends_with('.') || t.contains(". ")
    }
}

/// The share of `chars` that is link text.
fn link_density(links: usize, chars: usize) -> f64 {
    if chars == 0 {
        0.0
    } else {
        links as f64 / chars as f64
    }
}

/// Elements that do not start a block of text (their text belongs to the block around them).
fn is_inline(name: &str) -> bool {
    matches!(
        name,
        "a" | "abbr"
            | "b"
            | "bdi"
            | "bdo"
            | "big"
            | "br"
            | "cite"
            | "code"
            | "data"
            | "del"
            | "dfn"
            | "em"
            | "font"
            | "i"
            | "img"
            | "ins"
            | "kbd"
            | "mark"
            | "q"
            | "s"
            | "samp"
            | "small"
            | "span"
            | "strike"
            | "strong"
            | "sub"
            | "sup"
            | "time"
            | "tt"
            | "u"
            | "var"
            | "wbr"
    )
}

/// Blocks that hold other blocks (as opposed to paragraphs, list items and headings).
fn is_container(name: &str) -> bool {
    matches!(name, "div" | "section" | "article" | "main" | "td" | "body")
}

#[cfg(test)]
mod tests {
    use super::*;
    use scraper::{Html, Selector};

    fn found_ids(html: &str) -> Vec<String> {
        let doc = Html::parse_document(html);
        let body = doc
            .select(&Selector::parse("body").unwrap())
            .next()
            .unwrap();
        densest(body, &[])
            .unwrap()
            .roots
            .iter()
            .map(|e| e.value().id().unwrap_or("?").to_string())
            .collect()
    }

    const PARA: &str =
        "<p>이 문단은 본문입니다, 충분히 길게 써서 스물다섯 글자를 넘기도록 하였습니다.</p>";

    #[test]
    fn the_block_of_paragraphs_wins_over_a_list_of_links() {
        let links =
            "<li><a href='/a'>다른 글 제목이 꽤 길어서 스물다섯 글자를 넘습니다 정말로</a></li>";
        let html = format!(
            "<body><div id='links'><ul>{}</ul></div><div id='post'>{}</div></body>",
            links.repeat(10),
            PARA.repeat(4)
        );
        assert_eq!(found_ids(&html), ["post"]);
    }

    #[test]
    fn a_div_of_text_and_line_breaks_is_its_own_candidate() {
        let text = "본문이 문단 없이 줄바꿈으로만 이어집니다, 옛 스킨처럼.<br>".repeat(10);
        let html = format!(
            "<body><div id='wrap'><div id='post'>{text}</div><div id='side'>짧은 글</div></div></body>"
        );
        assert_eq!(found_ids(&html), ["post"]);
    }

    #[test]
    fn sections_of_one_article_are_taken_together() {
        let html = format!(
            "<body><div id='a'><section id='s1'>{p}{p}{p}</section><section id='s2'>{p}{p}</section></div></body>",
            p = PARA
        );
        let ids = found_ids(&html);
        assert!(ids == ["a"] || ids == ["s1", "s2"], "{ids:?}");
    }

    #[test]
    fn comments_are_not_walked() {
        let html = format!(
            "<body><div id='post'>{}</div><div id='comments'>{}</div></body>",
            PARA.repeat(2),
            PARA.repeat(10)
        );
        assert_eq!(found_ids(&html), ["post"]);
    }

    #[test]
    fn paragraphs_wrapped_in_components_of_their_own_are_taken_together() {
        let component = "<div class='se-component'><div class='se-component-content'>\
                         <div class='se-section'><div class='se-module'>{}</div></div></div></div>";
        let components: String = (0..6).map(|_| component.replace("{}", PARA)).collect();
        let html =
            format!("<body><div id='post'>{components}</div><div id='other'>{PARA}</div></body>");
        assert_eq!(found_ids(&html), ["post"]);
    }

    #[test]
    fn a_short_post_keeps_the_list_beside_its_one_paragraph() {
        let html = format!(
            "<body><div id='wrap'><div id='first'><div>{PARA}</div></div>\
             <div id='list'><div><ol><li>도쿄</li><li>파리</li><li>서울</li></ol></div></div>\
             <div id='links'><ul><li><a href='/a'>다른 글</a></li><li><a href='/b'>또 다른 글</a></li></ul></div>\
             </div></body>"
        );
        // (An id or class such as `post` would weigh the wrapper up, as in Readability.)
        assert_eq!(found_ids(&html), ["first", "list"]);
    }

    #[test]
    fn a_page_without_paragraphs_has_no_article() {
        let doc = Html::parse_document("<body><nav>홈 태그 방명록</nav><p>짧은 글</p></body>");
        let body = doc
            .select(&Selector::parse("body").unwrap())
            .next()
            .unwrap();
        assert!(densest(body, &[]).is_err());
    }
}
