//! The nesting guard: what a page would cost the HTML parser, estimated before it is parsed.
//!
//! html5ever, behind scraper, scans its stack of open elements for many start tags (a `<div>`
//! looks for an open `<p>` to close, an `<li>` for an open `<li>`), so a page that nests block
//! elements thousands deep costs time in the square of its depth: 16,000 nested `<div>`s take
//! seconds, 5 MB of them would take hours. [`parse_cost`] reads the markup once, without
//! building anything, and sums the depth of open block elements at each start tag — an upper
//! bound of that scanning. Inline elements (`span`, `b`, `a`, …), void elements and elements
//! the parser closes by itself (`p`, `li`, `td`, …) do not deepen the count, so unclosed
//! formatting, which html5ever handles cheaply, is not held against a page. Once parsed, a
//! page deeper than [`MAX_TREE_DEPTH`] (inline elements nest too) is not read either.

/// Past this cost (the sum, over start tags, of the depth of open block elements) a page is
/// not parsed. The corpus's real post pages cost 1,400 to 4,400 and the fixtures less; at
/// this budget the parser's worst case stays around half a second in a debug build.
pub const MAX_PARSE_COST: u64 = 20_000_000;

/// Deepest nesting of elements a parsed page may have, as browsers allow (Blink's parser stops
/// nesting at 512). Every walk of the reader is iterative, but some look at an element's
/// ancestors, and this bound keeps that cheap; real posts nest a few dozen levels.
pub const MAX_TREE_DEPTH: usize = 512;

/// The deepest nesting of elements under `root`, in one iterative pass.
pub fn tree_depth(root: scraper::ElementRef) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(*root, 1usize)];
    while let Some((node, depth)) = stack.pop() {
        deepest = deepest.max(depth);
        stack.extend(
            node.children()
                .filter(|c| c.value().is_element())
                .map(|c| (c, depth + 1)),
        );
    }
    deepest
}

/// What one reading of the markup found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cost {
    /// Sum over start tags of the number of block elements open around them.
    pub cost: u64,
    /// The deepest nesting of block elements seen.
    pub max_depth: u64,
}

/// Estimates the parser's work for `html`, in one pass over its bytes.
pub fn parse_cost(html: &str) -> Cost {
    let bytes = html.as_bytes();
    let mut out = Cost::default();
    let mut depth: u64 = 0;
    let mut i = 0;
    while let Some(off) = memchr::memchr(b'<', bytes.get(i..).unwrap_or_default()) {
        let at = i + off;
        let rest = bytes.get(at + 1..).unwrap_or_default();
        if rest.starts_with(b"!--") {
            i = find(bytes, at + 4, b"-->").map_or(bytes.len(), |e| e + 3);
            continue;
        }
        let (end_tag, name_at) = match rest.first() {
            Some(b'/') => (true, at + 2),
            _ => (false, at + 1),
        };
        let name = tag_name(bytes, name_at);
        if name.is_empty() {
            i = at + 1;
            continue;
        }
        let close = memchr::memchr(b'>', bytes.get(name_at..).unwrap_or_default())
            .map_or(bytes.len(), |e| name_at + e + 1);
        let kind = kind_of(name);
        if end_tag {
            if kind == Kind::Block {
                depth = depth.saturating_sub(1);
            }
            i = close;
            continue;
        }
        out.cost = out.cost.saturating_add(depth);
        match kind {
            Kind::Block => {
                depth += 1;
                out.max_depth = out.max_depth.max(depth);
            }
            Kind::RawText => {
                i = raw_text_end(bytes, close, name);
                continue;
            }
            Kind::Flat => {}
        }
        i = close;
    }
    out
}

/// How an element changes the depth the parser scans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Opens a level that stays open until its end tag.
    Block,
    /// Inline, void or closed by the parser itself: no level.
    Flat,
    /// Its content is text up to its end tag (`script`, `style`, …): skipped.
    RawText,
}

/// The kind of the element named `name` (ASCII, any case).
fn kind_of(name: &[u8]) -> Kind {
    let mut lower = [0u8; 12];
    let Some(buf) = lower.get_mut(..name.len()) else {
        return Kind::Block; // a long custom element name: a level like any container
    };
    for (d, s) in buf.iter_mut().zip(name) {
        *d = s.to_ascii_lowercase();
    }
    match &*buf {
        b"script" | b"style" | b"textarea" | b"title" | b"xmp" | b"iframe" | b"noembed"
        | b"noframes" | b"noscript" | b"plaintext" => Kind::RawText,
        // Void elements.
        b"area" | b"base" | b"br" | b"col" | b"embed" | b"hr" | b"img" | b"input" | b"link"
        | b"meta" | b"source" | b"track" | b"wbr" | b"param" | b"keygen" | b"basefont"
        | b"bgsound" | b"frame" | b"image"
        // Closed by the next of their kind or by their parent's end.
        | b"p" | b"li" | b"dt" | b"dd" | b"option" | b"optgroup" | b"tr" | b"td" | b"th"
        | b"thead" | b"tbody" | b"tfoot" | b"rb" | b"rt" | b"rp" | b"rtc" | b"colgroup"
        | b"caption"
        // Inline and formatting elements: html5ever keeps at most three identical ones open.
        | b"a" | b"b" | b"i" | b"u" | b"s" | b"em" | b"strong" | b"font" | b"span" | b"small"
        | b"big" | b"code" | b"tt" | b"nobr" | b"strike" | b"sub" | b"sup" | b"mark"
        | b"abbr" | b"label" | b"cite" | b"q" | b"time" | b"kbd" | b"samp" | b"var"
        | b"del" | b"ins" | b"bdi" | b"bdo" | b"data" | b"dfn" | b"html" | b"head"
        | b"body" => Kind::Flat,
        _ => Kind::Block,
    }
}

/// The tag name starting at `at`: an ASCII letter, then letters, digits, `-`, `_` or `:`.
fn tag_name(bytes: &[u8], at: usize) -> &[u8] {
    let rest = bytes.get(at..).unwrap_or_default();
    if !rest.first().is_some_and(u8::is_ascii_alphabetic) {
        return &[];
    }
    let len = rest
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':')))
        .unwrap_or(rest.len());
    rest.get(..len).unwrap_or_default()
}

/// Where the raw text of element `name`, starting at `from`, ends: after its end tag (any
/// case), or the end of the page.
fn raw_text_end(bytes: &[u8], from: usize, name: &[u8]) -> usize {
    let mut i = from;
    while let Some(off) = find(bytes, i, b"</") {
        let name_at = off + 2;
        let candidate = bytes.get(name_at..name_at + name.len()).unwrap_or_default();
        if candidate.eq_ignore_ascii_case(name) {
            return memchr::memchr(b'>', bytes.get(name_at..).unwrap_or_default())
                .map_or(bytes.len(), |e| name_at + e + 1);
        }
        i = name_at;
    }
    bytes.len()
}

/// The first place at or after `from` where `needle` occurs.
fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(bytes.get(from..)?, needle).map(|p| from + p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_blocks_cost_the_square_of_their_depth() {
        let c = parse_cost(&"<div>".repeat(1000));
        assert_eq!(c.max_depth, 1000);
        assert_eq!(c.cost, 999 * 1000 / 2);
    }

    #[test]
    fn closed_siblings_cost_their_depth_only() {
        let c = parse_cost(&"<div><p>text</p></div>".repeat(10_000));
        assert_eq!(c.max_depth, 1);
        assert_eq!(c.cost, 10_000); // each <p> sits in one div
    }

    #[test]
    fn unclosed_formatting_and_paragraphs_do_not_deepen() {
        let c = parse_cost(&"<p><b><span>x".repeat(10_000));
        assert_eq!(c.max_depth, 0);
    }

    #[test]
    fn script_and_comment_text_is_not_markup() {
        let html = "<script>var s = '<div><div><div>';</script><!-- <div><div> --><div></div>";
        assert_eq!(parse_cost(html).max_depth, 1);
        assert_eq!(parse_cost("<SCRIPT>'<div>'</SCRIPT ><div>").max_depth, 1);
    }

    #[test]
    fn tree_depth_counts_every_element() {
        let doc = scraper::Html::parse_document(&format!("{}x", "<span>".repeat(600)));
        // html, body and the spans
        assert_eq!(tree_depth(doc.root_element()), 602);
    }

    #[test]
    fn broken_markup_is_read_to_the_end() {
        for html in [
            "<", "<div", "</", "<!--", "<script>", "<a<b<c", "< div>", "<1>",
        ] {
            let _ = parse_cost(html);
        }
        assert_eq!(parse_cost("a < b and c > d").cost, 0);
    }
}
