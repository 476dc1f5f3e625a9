//! The document repairs, each a pure function of the text: control characters removed, bare
//! `&`s and HTML named entities escaped, `<rss>` without a known version read as 2.0, XML
//! declarations dropped (the leading one and any left mid-document), the internal DTD subset
//! removed (entities are never expanded), Atom 0.3 renamed to 1.0, MIME types on Atom text
//! constructs mapped, and a truncated download closed after its last complete entry. Also the
//! checks made before any repair: the root element, an HTML page, and the nesting depth. A
//! repair returns `None` when it has nothing to change, so most documents are never copied.

use std::borrow::Cow;

/// Is this an XML-illegal or invisible control character?
pub fn is_control(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{fffe}' | '\u{ffff}')
}

pub(super) fn strip_control_chars<'a>(doc: &'a str, repairs: &mut Vec<String>) -> Cow<'a, str> {
    let bytes = doc.as_bytes();
    let Some(first) = first_control(bytes) else {
        return Cow::Borrowed(doc);
    };
    let mut out = String::with_capacity(doc.len());
    let (mut from, mut at, mut count) = (0, first, 0);
    while at < bytes.len() {
        match control_len_at(bytes, at) {
            Some(len) => {
                out.push_str(&doc[from..at]);
                count += 1;
                at += len;
                from = at;
            }
            None => at += 1,
        }
    }
    out.push_str(&doc[from..]);
    repairs.push(format!("removed {count} control character(s)"));
    Cow::Owned(out)
}

/// Where the first control character ([`is_control`]) of a UTF-8 text starts. Blocks of 64
/// bytes are sifted for the bytes a control character can start with (below 0x20 but tab and
/// line ends, 0x7f, 0xc2 for C1, 0xef for U+FFFE/U+FFFF), branch-free, and only a block that
/// has one is looked at byte by byte: most documents have none, and many have an `0xc2` or
/// `0xef` (a no-break space, a full-width comma) that starts no control character.
fn first_control(bytes: &[u8]) -> Option<usize> {
    let suspect = |b: u8| {
        (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || matches!(b, 0x7f | 0xc2 | 0xef)
    };
    let blocks = bytes.chunks(64);
    let mut start = 0;
    for block in blocks {
        if block.iter().fold(false, |any, &b| any | suspect(b)) {
            if let Some(i) =
                (start..start + block.len()).find(|&i| control_len_at(bytes, i).is_some())
            {
                return Some(i);
            }
        }
        start += block.len();
    }
    None
}

/// The length in bytes of the control character starting at `i`, if one does. In UTF-8 the
/// bytes tested here only ever start a character, so no character boundary is needed.
fn control_len_at(bytes: &[u8], i: usize) -> Option<usize> {
    match bytes[i] {
        b'\t' | b'\n' | b'\r' => None,
        0..=0x1f | 0x7f => Some(1),
        0xc2 if matches!(bytes.get(i + 1), Some(0x80..=0x9f)) => Some(2),
        0xef if bytes.get(i + 1) == Some(&0xbf)
            && matches!(bytes.get(i + 2), Some(0xbe | 0xbf)) =>
        {
            Some(3)
        }
        _ => None,
    }
}

pub(super) fn looks_like_html(doc: &str) -> bool {
    root_element(doc).is_some_and(|(_, name)| name.eq_ignore_ascii_case("html"))
}

const XML_ENTITIES: [&str; 5] = ["amp", "lt", "gt", "quot", "apos"];

/// The reference an `&` at the start of `rest` opens: the text up to a `;` within 32 bytes.
fn reference_after_ampersand(rest: &str) -> Option<&str> {
    let bytes = rest.as_bytes().get(1..)?;
    memchr::memchr(b';', &bytes[..bytes.len().min(33)]).map(|e| &rest[1..1 + e])
}

/// Is `r` (between `&` and `;`) a reference XML itself defines?
fn is_xml_reference(r: &str) -> bool {
    XML_ENTITIES.contains(&r) || r.strip_prefix('#').is_some_and(is_char_ref)
}

/// Escapes bare `&` and turns HTML named entities into numeric references, outside CDATA,
/// comments and processing instructions. `None` when there is nothing to repair: every `&`
/// opens an XML reference (most documents, found without a walk) or stands in a section where
/// it is literal.
pub(super) fn repair_ampersands(doc: &str, repairs: &mut Vec<String>) -> Option<String> {
    let all_xml = memchr::memchr_iter(b'&', doc.as_bytes())
        .all(|at| reference_after_ampersand(&doc[at..]).is_some_and(is_xml_reference));
    if all_xml {
        return None;
    }
    // Most documents whose `&`s are not all references have them in CDATA only (HTML in a CDATA
    // description writes `&nbsp;`): a walk that copies nothing tells, before one that copies.
    let mut counts = Ampersands::default();
    walk_ampersands(doc, None, &mut counts);
    if counts.bare + counts.named + counts.upper == 0 {
        return None;
    }
    let mut out = String::with_capacity(doc.len() + 64);
    let mut counts = Ampersands::default();
    walk_ampersands(doc, Some(&mut out), &mut counts);
    let Ampersands { bare, named, upper } = counts;
    if bare > 0 {
        repairs.push(format!("escaped {bare} bare '&'"));
    }
    if upper > 0 {
        repairs.push(format!(
            "read {upper} character reference(s) written &#X… as &#x…"
        ));
    }
    if named > 0 {
        repairs.push(format!(
            "replaced {named} HTML named entit{} undefined in XML",
            if named == 1 { "y" } else { "ies" }
        ));
    }
    Some(out)
}

/// One walk of the document's `&`s outside CDATA, comments, processing instructions and the
/// doctype, counting what must change; with `out`, the repaired document is written there.
fn walk_ampersands(doc: &str, mut out: Option<&mut String>, counts: &mut Ampersands) {
    let mut scratch = String::new();
    let mut rest = doc;
    while let Some(pos) = memchr::memchr2(b'&', b'<', rest.as_bytes()) {
        let (before, at) = rest.split_at(pos);
        rest = at;
        // Sections whose `&` are literal are taken whole; a `<` of anything else is one byte.
        let skip = [
            ("<![CDATA[", "]]>"),
            ("<!--", "-->"),
            ("<?", "?>"),
            ("<!DOCTYPE", ">"),
        ]
        .iter()
        .find(|(open, _)| rest.starts_with(open))
        .map(|(open, close)| {
            find(&rest[open.len()..], close)
                .map(|e| open.len() + e + close.len())
                .unwrap_or(rest.len())
        })
        .or_else(|| rest.starts_with('<').then_some(1));
        let used = match (out.as_deref_mut(), skip) {
            (Some(out), Some(len)) => {
                out.push_str(before);
                out.push_str(&rest[..len]);
                len
            }
            (Some(out), None) => {
                out.push_str(before);
                one_ampersand(rest, out, counts)
            }
            (None, Some(len)) => len,
            (None, None) => {
                scratch.clear();
                one_ampersand(rest, &mut scratch, counts)
            }
        };
        rest = &rest[used..];
    }
    if let Some(out) = out {
        out.push_str(rest);
    }
}

/// What [`repair_ampersands`] changed.
#[derive(Default)]
struct Ampersands {
    bare: usize,
    named: usize,
    upper: usize,
}

/// At an `&` of `rest`: writes it to `out` as XML reads it — a well-formed reference as it is,
/// `&#X41;` as `&#x41;`, an HTML named entity as character references, anything else as
/// `&amp;` — and returns how much of `rest` it took.
fn one_ampersand(rest: &str, out: &mut String, counts: &mut Ampersands) -> usize {
    match reference_after_ampersand(rest) {
        Some(r) if is_xml_reference(r) => {
            out.push('&');
            1
        }
        Some(r)
            if r.strip_prefix("#X")
                .is_some_and(|h| is_char_ref(&format!("x{h}"))) =>
        {
            counts.upper += 1;
            out.push_str("&#x");
            3
        }
        Some(r) if !r.is_empty() && r.chars().all(|c| c.is_ascii_alphanumeric()) => {
            let entity = format!("&{r};");
            let decoded = html_escape::decode_html_entities(&entity);
            if decoded != entity {
                counts.named += 1;
                for c in decoded.chars() {
                    out.push_str(&format!("&#{};", c as u32));
                }
                entity.len()
            } else {
                counts.bare += 1;
                out.push_str("&amp;");
                1
            }
        }
        _ => {
            counts.bare += 1;
            out.push_str("&amp;");
            1
        }
    }
}

/// Byte offset of `needle` in `hay` (SIMD search: documents are scanned whole several times).
fn find(hay: &str, needle: &str) -> Option<usize> {
    memchr::memmem::find(hay.as_bytes(), needle.as_bytes())
}

/// A character reference as XML writes it: decimal, or hex after a lower-case `x` (XML has no
/// `&#X41;`, which HTML allows; [`repair_ampersands`] lowers it).
fn is_char_ref(r: &str) -> bool {
    if let Some(hex) = r.strip_prefix('x') {
        !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit())
    } else {
        !r.is_empty() && r.chars().all(|c| c.is_ascii_digit())
    }
}

/// `<rss>` without a version, or with one feed-rs does not know (`2.00`, `0.93`), is read as 2.0.
pub(super) fn repair_rss_version(doc: &str, repairs: &mut Vec<String>) -> Option<String> {
    let start = find_root(doc, "rss")?;
    let end = doc[start..].find('>').map(|e| start + e)?;
    let tag = &doc[start..end];
    let version = tag.find("version").and_then(|p| {
        let rest = tag[p + 7..].trim_start().strip_prefix('=')?.trim_start();
        let q = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let rest = &rest[1..];
        Some((p, rest.find(q).map(|e| rest[..e].to_string())?))
    });
    match version {
        Some((_, v)) if matches!(v.as_str(), "2.0" | "0.91" | "0.92") => None,
        Some((_, v)) => {
            repairs.push(format!("read rss version=\"{v}\" as 2.0"));
            let new_tag = tag.replacen(&format!("\"{v}\""), "\"2.0\"", 1).replacen(
                &format!("'{v}'"),
                "'2.0'",
                1,
            );
            Some(format!("{}{}{}", &doc[..start], new_tag, &doc[end..]))
        }
        None => {
            repairs.push("added the missing rss version=\"2.0\"".to_string());
            Some(format!(
                "{}<rss version=\"2.0\"{}",
                &doc[..start],
                &doc[start + 4..]
            ))
        }
    }
}

/// Deepest element nesting a feed may have; real feeds stay far below (feed-rs slows down
/// quadratically on deep XHTML content).
pub(super) const MAX_DEPTH: usize = 512;

/// Deepest element nesting outside CDATA, comments and processing instructions (a linear scan).
pub(super) fn max_depth(doc: &str) -> usize {
    let bytes = doc.as_bytes();
    let (mut depth, mut max, mut i) = (0usize, 0usize, 0usize);
    while let Some(p) = memchr_lt(&bytes[i..]) {
        let at = i + p;
        let rest = &doc[at..];
        let skip = [
            ("<![CDATA[", "]]>"),
            ("<!--", "-->"),
            ("<?", "?>"),
            ("<!", ">"),
        ]
        .iter()
        .find(|(open, _)| rest.starts_with(open));
        if let Some((open, close)) = skip {
            i = at
                + find(&rest[open.len()..], close)
                    .map(|e| open.len() + e + close.len())
                    .unwrap_or(rest.len());
            continue;
        }
        let end = rest.find('>').unwrap_or(rest.len());
        if rest.starts_with("</") {
            depth = depth.saturating_sub(1);
        } else if !rest[..end].ends_with('/') {
            depth += 1;
            max = max.max(depth);
        }
        i = at + end.max(1);
    }
    max
}

fn memchr_lt(bytes: &[u8]) -> Option<usize> {
    memchr::memchr(b'<', bytes)
}

/// Length of the leading XML declaration, which is dropped: the text is UTF-8 now, which is what
/// a document without a declaration is, and a declaration is where quick-xml's encoding switch
/// (and its panics) live. A declaration cut short by markup (`<?xml version="1<rss …`) ends where
/// that markup begins.
pub(super) fn leading_declaration_len(doc: &str) -> usize {
    let Some(rest) = doc.strip_prefix("<?xml") else {
        return 0;
    };
    if !rest.starts_with(|c: char| c.is_whitespace() || c == '?') {
        return 0; // `<?xml-stylesheet …?>` and the like are processing instructions.
    }
    match (rest.find("?>"), rest.find('<')) {
        (Some(end), Some(lt)) if lt < end => 5 + lt,
        (Some(end), _) => 5 + end + 2,
        (None, Some(lt)) => 5 + lt,
        (None, None) => doc.len(),
    }
}

/// Removes every `<?xml …?>` declaration left once the leading one is dropped. Concatenated
/// documents carry them, and the XML reader panics on a second `encoding`. They are removed
/// wherever they stand (even where a comment or CDATA might seem to hide them: a `<!--` inside an
/// attribute value fooled a context-aware version, found by cargo fuzz).
pub(super) fn strip_misplaced_declarations(doc: &str) -> Option<String> {
    find(doc, "<?xml")?; // most documents have none left: no copy
    let mut out = String::with_capacity(doc.len());
    let mut removed = false;
    let mut i = 0;
    while let Some(p) = doc.get(i..).and_then(|rest| find(rest, "<?xml")) {
        let at = i + p;
        let after = &doc[at + 5..];
        out.push_str(&doc[i..at]);
        if after.starts_with(|c: char| c.is_whitespace() || c == '?') {
            i = at + 5 + after.find("?>").map(|e| e + 2).unwrap_or(after.len());
            removed = true;
        } else {
            out.push_str("<?xml");
            i = at + 5;
        }
    }
    out.push_str(&doc[i..]);
    removed.then_some(out)
}

/// Removes `<!DOCTYPE name [ … ]>`'s internal subset, where entity bombs live.
pub(super) fn strip_internal_dtd(doc: &str) -> Option<String> {
    let start = find(doc, "<!DOCTYPE")?;
    let rest = &doc[start..];
    let bracket = rest.find('[')?;
    if rest[..bracket].contains('>') {
        return None;
    }
    let close = rest[bracket..].find("]>").map(|e| bracket + e + 2)?;
    Some(format!("{}{}", &doc[..start], &doc[start + close..]))
}

/// A document cut off mid-way: everything up to the last complete `</item>` or `</entry>`, closed
/// with the tags its root needs. Returns the closed text and how many entries it keeps.
pub(super) fn close_truncated(doc: &str) -> Option<(String, usize)> {
    let (_, root) = root_element(doc)?;
    let (end_tag, closers) = match root {
        "rss" => ("</item>", "</channel></rss>"),
        "feed" => ("</entry>", "</feed>"),
        "rdf:RDF" => ("</item>", "</rdf:RDF>"),
        _ => return None,
    };
    let root_close = format!("</{root}>");
    if doc.trim_end().ends_with(&root_close) {
        return None;
    }
    let cut = doc.rfind(end_tag)? + end_tag.len();
    let kept = doc[..cut].matches(end_tag).count();
    Some((format!("{}{}", &doc[..cut], closers), kept))
}

/// Byte offset and name of the root element (after prolog, comments, doctype).
pub(super) fn root_element(doc: &str) -> Option<(usize, &str)> {
    let mut i = 0;
    while let Some(p) = doc.get(i..)?.find('<') {
        let at = i + p;
        let rest = &doc[at..];
        if rest.starts_with("<?") || rest.starts_with("<!") {
            let close = if rest.starts_with("<!--") { "-->" } else { ">" };
            i = at + rest.find(close)? + close.len();
            continue;
        }
        let name = rest[1..]
            .split(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .next()?;
        return Some((at, name));
    }
    None
}

/// Byte offset of the root element when it is `<name`.
pub(super) fn find_root(doc: &str, name: &str) -> Option<usize> {
    root_element(doc).and_then(|(at, root)| (root == name).then_some(at))
}

/// Atom 0.3 text written `mode="base64"`: the element's text decoded and escaped in its place,
/// the `mode` attribute dropped (Atom 1.0 has none). Text that is not base64 is left as it is.
fn decode_base64_modes(doc: &str) -> Option<String> {
    if !doc.contains("mode=\"base64\"") && !doc.contains("mode='base64'") {
        return None;
    }
    let mut out = String::with_capacity(doc.len());
    let (mut copied, mut decoded_any) = (0, false);
    for mode in ["mode=\"base64\"", "mode='base64'"] {
        let mut at = copied;
        while let Some(p) = doc[at..].find(mode) {
            let attr = at + p;
            at = attr + mode.len();
            let (Some(open), Some(gt)) = (doc[..attr].rfind('<'), doc[attr..].find('>')) else {
                continue;
            };
            let text_start = attr + gt + 1;
            let name: String = doc[open + 1..]
                .chars()
                .take_while(|c| !c.is_whitespace() && *c != '>' && *c != '/')
                .collect();
            let Some(len) = doc[text_start..].find(&format!("</{name}")) else {
                continue;
            };
            let Some(text) = base64(&doc[text_start..text_start + len]) else {
                continue;
            };
            out.push_str(&doc[copied..attr]);
            out.push_str(&doc[attr + mode.len()..text_start]);
            out.push_str(&quick_xml::escape::escape(text.as_str()));
            copied = text_start + len;
            at = copied;
            decoded_any = true;
        }
    }
    decoded_any.then(|| {
        out.push_str(&doc[copied..]);
        out
    })
}

/// Standard base64 (whitespace ignored) as UTF-8 text; `None` for anything else.
fn base64(text: &str) -> Option<String> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let digits: Vec<u8> = text.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    let digits = digits
        .strip_suffix(b"==")
        .or_else(|| digits.strip_suffix(b"="))
        .unwrap_or(&digits);
    let mut bytes = Vec::with_capacity(digits.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for c in digits {
        acc = (acc << 6) | u32::from(value(*c)?);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            bytes.push((acc >> bits) as u8);
        }
    }
    String::from_utf8(bytes).ok()
}

/// Atom 0.3 (`xmlns="http://purl.org/atom/ns#"`): rename its elements to their 1.0 names, with
/// base64-mode text decoded.
pub(super) fn convert_atom03(doc: &str) -> Option<String> {
    let start = find_root(doc, "feed")?;
    let head_end = doc[start..].find('>')? + start;
    if !doc[start..head_end].contains("http://purl.org/atom/ns#") {
        return None;
    }
    let decoded = decode_base64_modes(doc);
    let doc = decoded.as_deref().unwrap_or(doc);
    let mut out = doc.replacen("http://purl.org/atom/ns#", "http://www.w3.org/2005/Atom", 1);
    // `issued` is Atom 0.3's date of publication; a document without it has only `created`.
    let created = if out.contains("<issued") {
        "created"
    } else {
        "published"
    };
    for (old, new) in [
        ("issued", "published"),
        ("created", created),
        ("modified", "updated"),
        ("tagline", "subtitle"),
        ("copyright", "rights"),
    ] {
        for (from, to) in [("<", "<"), ("</", "</")] {
            for end in [">", " ", "\t", "\n", "\r", "/"] {
                out = out.replace(&format!("{from}{old}{end}"), &format!("{to}{new}{end}"));
            }
        }
    }
    Some(out)
}

/// Atom text constructs take `type="text|html|xhtml"`; Atom 0.3 and careless 1.0 feeds write MIME
/// types there (`text/plain`, `application/xhtml+xml`, …), which feed-rs refuses for the whole
/// feed. Map them, on title/subtitle/summary/content/rights only (links keep their MIME types).
pub(super) fn repair_text_types(doc: &str, repairs: &mut Vec<String>) -> Option<String> {
    const ELEMENTS: [&str; 5] = ["title", "subtitle", "summary", "content", "rights"];
    // Built only once a tag needs fixing: `copied` is how much of `doc` is in `out`.
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut fixed = 0usize;
    let mut at = 0;
    while let Some(p) = memchr_lt(&doc.as_bytes()[at..]) {
        let start = at + p;
        let rest = &doc[start..];
        let name_end = rest[1..]
            .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .map(|e| e + 1)
            .unwrap_or(rest.len());
        let name = &rest[1..name_end];
        let tag_end = rest.find('>').map(|e| e + 1).unwrap_or(rest.len());
        let tag = &rest[..tag_end];
        at = start + tag_end.max(1);
        if !(ELEMENTS.contains(&name) && tag.contains("type=")) {
            continue;
        }
        let mut new_tag = tag.to_string();
        let mut changed = false;
        for q in ['"', '\''] {
            let key = format!("type={q}");
            if let Some(v0) = new_tag.find(&key).map(|i| i + key.len()) {
                if let Some(len) = new_tag[v0..].find(q) {
                    let value = new_tag[v0..v0 + len].to_ascii_lowercase();
                    let mapped = match value.as_str() {
                        "text" | "html" | "xhtml" => None,
                        // Out-of-line content (`src`) takes a MIME type, any MIME type.
                        _ if name == "content" && new_tag.contains("src=") => None,
                        "text/html" => Some("html"),
                        "application/xhtml+xml" => Some("xhtml"),
                        _ => Some("text"),
                    };
                    if let Some(m) = mapped {
                        new_tag.replace_range(v0..v0 + len, m);
                        fixed += 1;
                        changed = true;
                    }
                }
            }
        }
        if changed {
            let out = out.get_or_insert_with(|| String::with_capacity(doc.len()));
            out.push_str(&doc[copied..start]);
            out.push_str(&new_tag);
            copied = start + tag_end;
        }
    }
    let mut out = out?;
    out.push_str(&doc[copied..]);
    repairs.push(format!(
        "mapped {fixed} MIME type(s) on Atom text elements to text/html/xhtml"
    ));
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_found_by_bytes_exactly_as_by_characters() {
        // Every character from U+0000 to U+10FFFF, in blocks: each must be kept or removed
        // exactly as `is_control` says, wherever it falls in a 64-byte block.
        let all: Vec<char> = (0..=0x10ffffu32).filter_map(char::from_u32).collect();
        for (n, chunk) in all.chunks(4099).enumerate() {
            let text: String = std::iter::repeat_n('가', n % 7)
                .chain(chunk.iter().copied())
                .collect();
            let mut repairs = Vec::new();
            let stripped = strip_control_chars(&text, &mut repairs);
            let want: String = text.chars().filter(|c| !is_control(*c)).collect();
            assert_eq!(stripped, want, "block {n}");
            let count = text.chars().filter(|c| is_control(*c)).count();
            assert_eq!(repairs.is_empty(), count == 0, "block {n}");
            if count > 0 {
                assert_eq!(repairs[0], format!("removed {count} control character(s)"));
            }
        }
        let mut repairs = Vec::new();
        assert!(matches!(
            strip_control_chars("a\u{a0}b，c\u{fffd}", &mut repairs),
            Cow::Borrowed(_)
        ));
        assert!(repairs.is_empty());
    }

    #[test]
    fn regression_atom03_base64_titles_are_decoded_not_shown_as_base64() {
        // "글또 <b>회고</b>" in base64.
        let doc = r#"<feed version="0.3" xmlns="http://purl.org/atom/ns#"><title mode="base64">6riA65iQIDxiPu2ajOqzoDwvYj4=</title>
<entry><title type="text/plain" mode="base64">
7LKrIOq4gA==
</title><link rel="alternate" type="text/html" href="https://x.example/1"/><id>urn:1</id><issued>2024-11-14T00:00:00Z</issued></entry></feed>"#;
        let parsed =
            crate::parse::parse(doc.as_bytes(), None, None, chrono_tz::Asia::Seoul).unwrap();
        assert_eq!(parsed.feed.entries.len(), 1);
        let title = parsed.feed.entries[0]
            .title
            .as_ref()
            .unwrap()
            .content
            .clone();
        assert_eq!(title, "첫 글");
        let feed_title = parsed.feed.title.as_ref().unwrap().content.clone();
        assert_eq!(
            feed_title, "글또 <b>회고</b>",
            "decoded, then read as the text it was"
        );
        assert_eq!(base64("not base64!"), None);
    }

    #[test]
    fn regression_an_upper_case_hex_reference_is_read_not_refused() {
        let doc = r#"<rss version="2.0"><channel><title>&#X41;B</title><item><title>&#X41;&#x42;&#67;</title><link>https://x.example/1</link></item></channel></rss>"#;
        let parsed =
            crate::parse::parse(doc.as_bytes(), None, None, chrono_tz::Asia::Seoul).unwrap();
        assert_eq!(parsed.feed.entries.len(), 1);
        let title = parsed.feed.entries[0]
            .title
            .as_ref()
            .unwrap()
            .content
            .clone();
        assert_eq!(title, "ABC");
        assert!(
            parsed.repairs.iter().any(|r| r.contains("&#X")),
            "{:?}",
            parsed.repairs
        );
    }

    #[test]
    fn regression_out_of_line_atom_content_with_a_mime_type_keeps_the_feed() {
        let doc = r#"<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>urn:f</id><updated>2024-11-14T00:00:00Z</updated>
<entry><title>doc</title><id>urn:e</id><updated>2024-11-14T00:00:00Z</updated><link href="https://x.example/d"/><content type="text/html" src="https://x.example/export?id=1"/></entry></feed>"#;
        let parsed =
            crate::parse::parse(doc.as_bytes(), None, None, chrono_tz::Asia::Seoul).unwrap();
        assert_eq!(parsed.feed.entries.len(), 1);
    }

    use crate::parse::{parse, Format};
    use chrono::{DateTime, Utc};
    use chrono_tz::Asia::Seoul;

    fn utc(s: &str) -> Option<DateTime<Utc>> {
        Some(DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc))
    }

    #[test]
    fn common_breakage_is_repaired_and_reported() {
        let body = "\n\n<?xml version=\"1.0\"?>\n<rss version=\"2.00\"><channel><title>R&D \u{8}log</title><item><title>A &hellip; B &amp; C</title><description><![CDATA[x && y]]></description><link>https://a.example/1?x=1&y=2</link></item></channel></rss>";
        let parsed = parse(body.as_bytes(), None, None, Seoul).unwrap();
        assert_eq!(parsed.feed.title.unwrap().content, "R&D log");
        let e = &parsed.feed.entries[0];
        assert_eq!(e.title.as_ref().unwrap().content, "A … B & C");
        assert_eq!(e.summary.as_ref().unwrap().content, "x && y");
        assert_eq!(e.links[0].href, "https://a.example/1?x=1&y=2");
        let r = parsed.repairs.join("; ");
        for want in [
            "whitespace before",
            "control character",
            "bare '&'",
            "named entit",
            "version=\"2.00\"",
        ] {
            assert!(r.contains(want), "missing {want:?} in {r}");
        }
    }

    #[test]
    fn rss_without_version_and_atom_03_are_read() {
        let parsed = parse(
            b"<rss><channel><title>t</title><item><title>a</title></item></channel></rss>",
            None,
            None,
            Seoul,
        )
        .unwrap();
        assert_eq!(parsed.feed.entries.len(), 1);
        let atom03 = r#"<?xml version="1.0"?><feed version="0.3" xmlns="http://purl.org/atom/ns#"><title>old</title><modified>2004-05-01T00:00:00Z</modified><entry><title>one</title><id>urn:1</id><link rel="alternate" href="https://old.example/1"/><issued>2004-04-30T10:00:00+09:00</issued><modified>2004-05-01T00:00:00Z</modified></entry></feed>"#;
        let parsed = parse(atom03.as_bytes(), None, None, Seoul).unwrap();
        assert_eq!(parsed.format, Format::Atom03);
        assert_eq!(parsed.feed.entries.len(), 1);
        assert_eq!(
            parsed.feed.entries[0].published,
            utc("2004-04-30T01:00:00Z")
        );
    }

    #[test]
    fn atom_text_constructs_with_mime_types_are_mapped_and_links_kept() {
        let doc = r#"<feed version="0.3" xmlns="http://purl.org/atom/ns#"><title type="text/plain" mode="escaped">t</title><tagline type="text/html">&lt;b&gt;sub&lt;/b&gt;</tagline><link rel="alternate" type="text/html" href="https://x.example/"/><entry><title type="application/xhtml+xml"><div xmlns="http://www.w3.org/1999/xhtml">e</div></title><id>urn:e</id><link rel="alternate" type="text/html" href="https://x.example/e"/><issued>2004-01-01T00:00:00Z</issued></entry></feed>"#;
        let parsed = parse(doc.as_bytes(), None, None, Seoul).unwrap();
        assert_eq!(parsed.feed.title.unwrap().content, "t");
        assert_eq!(parsed.feed.entries.len(), 1);
        assert_eq!(
            parsed.feed.entries[0].links[0].media_type.as_deref(),
            Some("text/html")
        );
        assert!(
            parsed.repairs.iter().any(|r| r.contains("MIME type")),
            "{:?}",
            parsed.repairs
        );
    }

    #[test]
    fn an_xhtml_doctype_before_rss_is_not_an_html_page() {
        let doc = r#"<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "x"><rss version="2.0"><channel><title>t</title></channel></rss>"#;
        assert!(parse(doc.as_bytes(), None, None, Seoul).is_ok());
    }

    #[test]
    fn hostile_documents_are_refused_or_defused() {
        let deep = format!(
            "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>t</title><entry><content type=\"xhtml\">{}{}</content></entry></feed>",
            "<div>".repeat(5000),
            "</div>".repeat(5000)
        );
        let err = parse(deep.as_bytes(), None, None, Seoul).unwrap_err();
        assert!(err.to_string().contains("nested 5003 deep"), "{err}");
        let laughs = r#"<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;">]><rss version="2.0"><channel><title>&lol1;</title></channel></rss>"#;
        let parsed = parse(laughs.as_bytes(), None, None, Seoul).unwrap();
        assert_eq!(parsed.feed.title.unwrap().content, "&lol1;");
        assert!(
            parsed.repairs.iter().any(|r| r.contains("DTD")),
            "{:?}",
            parsed.repairs
        );
    }

    /// Found by cargo fuzz: a second XML declaration with an encoding after the first content
    /// made quick-xml panic ("set_encoding() called after prefix buffer was drained").
    #[test]
    fn regression_a_second_xml_declaration_mid_document() {
        let doc = "<!-- c --><feed xmlns=\"http://www.w3.org/2005/Atom\"><title>t</title><entry><title>a</title><id>urn:a</id><content type=\"html\">x</content><?xml version=\"1.0\" encoding=\"euc-kr\"?></entry></feed>";
        let parsed = parse(doc.as_bytes(), None, None, Seoul).unwrap();
        assert_eq!(parsed.feed.entries.len(), 1);
        assert!(parsed
            .repairs
            .iter()
            .any(|r| r.contains("XML declaration in the middle")));
    }

    /// Found by cargo fuzz: when the document's first character was several bytes long, the
    /// search for misplaced declarations never started, and quick-xml panicked on one.
    #[test]
    fn regression_a_misplaced_declaration_after_a_multibyte_first_character() {
        let doc = "\u{cf}<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>t</title><entry><title>a</title><id>urn:a</id><content type=\"html\">x</content><?xml version=\"1.0\" encoding=\"iso-8859-1\"?></entry></feed>";
        let stripped = strip_misplaced_declarations(doc).unwrap();
        assert!(!stripped.contains("<?xml"), "{stripped}");
        assert!(stripped.starts_with("\u{cf}<feed"));
        let parsed = parse(doc.as_bytes(), None, None, Seoul).unwrap();
        assert_eq!(parsed.feed.entries.len(), 1);
    }

    /// Found by cargo fuzz: a leading declaration cut short by another (`<?xml version="1<?xml
    /// …`) swallowed the markup up to a later `?>`, and quick-xml panicked switching encodings
    /// after its prefix buffer was drained. The leading declaration is dropped now.
    #[test]
    fn regression_a_leading_declaration_cut_short_by_another() {
        let padding = "x".repeat(9000);
        let doc = format!(
            "<?xml version=\"1<?xml version=\"1.0\" enco!ding=\"big5\"?>\n<!--\n{padding}\n<?xml version=\"1.0\" encoding=\"big5\"?>\n-->\n<rss version=\"2.0\"><channel><title>t</title><item><title>a</title><guid>g</guid></item></channel></rss>"
        );
        let parsed = parse(doc.as_bytes(), None, None, Seoul).unwrap();
        assert_eq!(parsed.feed.entries.len(), 1);
        assert_eq!(leading_declaration_len("<?xml version=\"1.0\"?><rss/>"), 21);
        assert_eq!(leading_declaration_len("<?xml version=\"1<rss/>"), 16);
        assert_eq!(
            leading_declaration_len("<?xml-stylesheet href=\"a\"?><rss/>"),
            0
        );
    }

    #[test]
    fn repairs_copy_the_document_only_when_they_change_it() {
        let mut repairs = Vec::new();
        let clean = "<rss version=\"2.0\"><channel><title>a &amp; b &#12; &#x1F; &lt;</title></channel></rss>";
        assert_eq!(repair_ampersands(clean, &mut repairs), None);
        // HTML entities inside CDATA and comments are literal text: nothing to repair.
        let cdata = "<rss><channel><item><description><![CDATA[<p>a&nbsp;b &copy;</p>]]></description><!-- &x --></item></channel></rss>";
        assert_eq!(repair_ampersands(cdata, &mut repairs), None);
        assert_eq!(repair_rss_version(clean, &mut repairs), None);
        let atom =
            "<feed><title type=\"html\">t</title><link type=\"text/html\" href=\"x\"/></feed>";
        assert_eq!(repair_text_types(atom, &mut repairs), None);
        assert!(repairs.is_empty(), "{repairs:?}");
        let fixed = repair_ampersands("<t>a &nbsp; & b <![CDATA[&x]]></t>", &mut repairs);
        assert_eq!(
            fixed.as_deref(),
            Some("<t>a &#160; &amp; b <![CDATA[&x]]></t>")
        );
        let fixed = repair_text_types(
            "<feed><title type='text/plain'>t</title></feed>",
            &mut repairs,
        );
        assert_eq!(
            fixed.as_deref(),
            Some("<feed><title type='text'>t</title></feed>")
        );
        // A UTF-8 body is the text, byte for byte; one that is not UTF-8 is decoded.
        let body = "<rss version=\"2.0\"><channel><title>한글</title></channel></rss>";
        let parsed = parse(body.as_bytes(), None, None, Seoul).unwrap();
        assert_eq!(parsed.encoding, "UTF-8");
        let broken = b"<rss version=\"2.0\"><channel><title>\xb0\xa1</title></channel></rss>";
        let parsed = parse(broken, None, None, Seoul).unwrap();
        assert_eq!(parsed.encoding, "EUC-KR");
    }

    /// Found by cargo fuzz: a non-ASCII character where the quote of `version=` belongs made the
    /// version repair slice inside a character.
    #[test]
    fn regression_a_multibyte_character_after_rss_version() {
        let doc = "<rss version=\u{fffd}\"2.0\"><channel><title>t</title></channel></rss>";
        let _ = parse(doc.as_bytes(), None, None, Seoul);
        let doc = b"<rss version=\xb1\"2.0\"><channel><title>t</title></channel></rss>";
        let _ = parse(doc, None, None, Seoul);
    }

    #[test]
    fn a_truncated_download_keeps_its_complete_entries() {
        let doc = "<rss version=\"2.0\"><channel><title>t</title><item><title>a</title></item><item><title>b</title></item><item><title>잘";
        let parsed = parse(doc.as_bytes(), None, None, Seoul).unwrap();
        assert_eq!(parsed.feed.entries.len(), 2);
        assert!(parsed
            .repairs
            .iter()
            .any(|r| r.contains("kept the 2 complete entries")));
        assert!(parse(
            b"<rss version=\"2.0\"><channel><title>t</tit",
            None,
            None,
            Seoul
        )
        .is_err());
    }
}
