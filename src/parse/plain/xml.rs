//! The plain reader's XML: a tokenizer over `&str` for the well-formed, plain subset of XML
//! that real feeds are written in, giving the same elements, texts and namespaces quick-xml
//! gives feed-rs, without quick-xml's UTF-8 check of every event (the text is a `str`
//! already: every delimiter is ASCII, so every slice between them is one too).
//!
//! Anything outside that subset — a declaration or doctype, a name that is not plain ASCII,
//! an attribute without quotes or repeated, a `<` in an attribute, a reference that is not a
//! well-formed character reference or named entity, an end tag that does not match, a
//! document that ends inside an element — is `None`, and the document goes to feed-rs.

use std::borrow::Cow;

use memchr::{memchr, memchr2, memmem};

/// One token.
pub(super) enum Token<'a> {
    /// An element's start (an empty element gives a start and then an end).
    Start(StartTag<'a>),
    /// An element's end.
    End,
    /// Text, as written (references come apart, as quick-xml gives them).
    Text(&'a str),
    /// A CDATA section's content.
    CData(&'a str),
    /// A reference: a character, a predefined entity, or another entity kept as written.
    Ref(Reference<'a>),
    /// The end of the document, outside every element.
    Eof,
}

/// A reference in text.
pub(super) enum Reference<'a> {
    /// `&#…;`
    Char(char),
    /// `&amp;` and the other four.
    Predefined(&'static str),
    /// Any other named entity, which feed-rs keeps as `&name;`.
    Other(&'a str),
}

/// An element's start tag.
pub(super) struct StartTag<'a> {
    /// The namespace the element's name resolves to (`None`: unbound, or an unknown prefix).
    pub namespace: Option<&'a str>,
    /// The local name (after any prefix).
    pub local: &'a str,
    /// The attributes, names as written, values unescaped.
    pub attributes: Vec<(&'a str, Cow<'a, str>)>,
}

/// The tokenizer's state: where it is, the open elements, the namespaces in scope.
pub(super) struct Lexer<'a> {
    text: &'a str,
    pos: usize,
    /// Each open element: its name as written, and how many namespace bindings it made.
    open: Vec<(&'a str, usize)>,
    /// Namespace bindings in scope, innermost last: (prefix, namespace); "" is the default.
    bindings: Vec<(&'a str, &'a str)>,
    /// An empty element's end, owed after its start.
    pending_end: bool,
}

impl<'a> Lexer<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        Lexer {
            text,
            pos: 0,
            open: Vec::new(),
            bindings: Vec::new(),
            pending_end: false,
        }
    }

    /// The next token; comments and processing instructions are passed over. `None`: not the
    /// plain subset, or not well-formed.
    pub(super) fn next(&mut self) -> Option<Token<'a>> {
        if self.pending_end {
            self.pending_end = false;
            self.close();
            return Some(Token::End);
        }
        loop {
            let rest = &self.text[self.pos..];
            let Some(&first) = rest.as_bytes().first() else {
                return self.open.is_empty().then_some(Token::Eof);
            };
            match first {
                b'<' => {
                    if let Some(token) = self.markup(rest)? {
                        return Some(token);
                    }
                }
                b'&' => return self.reference(rest),
                _ => {
                    let end = memchr2(b'<', b'&', rest.as_bytes()).unwrap_or(rest.len());
                    self.pos += end;
                    return Some(Token::Text(&rest[..end]));
                }
            }
        }
    }

    /// A tag, a CDATA section, or something passed over (`Some(None)`).
    fn markup(&mut self, rest: &'a str) -> Option<Option<Token<'a>>> {
        let bytes = rest.as_bytes();
        match bytes.get(1)? {
            b'/' => {
                let end = memchr(b'>', bytes)?;
                let name = rest[2..end].trim_end_matches([' ', '\t', '\r', '\n']);
                let (open, _) = *self.open.last()?;
                if name != open {
                    return None;
                }
                self.pos += end + 1;
                self.close();
                Some(Some(Token::End))
            }
            b'!' if rest.starts_with("<!--") => {
                let end = memmem::find(&bytes[4..], b"-->")?;
                self.pos += 4 + end + 3;
                Some(None)
            }
            b'!' if rest.starts_with("<![CDATA[") => {
                let end = memmem::find(&bytes[9..], b"]]>")?;
                self.pos += 9 + end + 3;
                Some(Some(Token::CData(&rest[9..9 + end])))
            }
            b'?' if !rest.starts_with("<?xml") => {
                let end = memmem::find(&bytes[2..], b"?>")?;
                self.pos += 2 + end + 2;
                Some(None)
            }
            b'!' | b'?' => None,
            _ => self.start(rest).map(Some),
        }
    }

    /// A start tag (or an empty element's).
    fn start(&mut self, rest: &'a str) -> Option<Token<'a>> {
        let bytes = rest.as_bytes();
        let end = memchr(b'>', bytes)?;
        let empty = bytes[end - 1] == b'/';
        let inner = &rest[1..if empty { end - 1 } else { end }];
        let name_end = inner.find([' ', '\t', '\r', '\n']).unwrap_or(inner.len());
        let name = &inner[..name_end];
        if !is_name(name) {
            return None;
        }
        let attributes = attributes(&inner[name_end..])?;
        let bound_before = self.bindings.len();
        for (key, value) in &attributes {
            if let Some(prefix) = key.strip_prefix("xmlns") {
                let prefix = match prefix.strip_prefix(':') {
                    Some(p) => p,
                    None if prefix.is_empty() => "",
                    None => continue,
                };
                let Cow::Borrowed(ns) = value else {
                    return None;
                };
                if ns.is_empty() || prefix == "xml" || prefix == "xmlns" {
                    return None;
                }
                self.bindings.push((prefix, ns));
            }
        }
        let (prefix, local) = match name.split_once(':') {
            Some((p, l)) => (p, l),
            None => ("", name),
        };
        if prefix == "xml" || prefix == "xmlns" || local.contains(':') {
            return None;
        }
        let namespace = self
            .bindings
            .iter()
            .rev()
            .find(|(p, _)| *p == prefix)
            .map(|&(_, ns)| ns);
        self.pos += end + 1;
        self.open.push((name, self.bindings.len() - bound_before));
        self.pending_end = empty;
        Some(Token::Start(StartTag {
            namespace,
            local,
            attributes,
        }))
    }

    /// Closes the innermost element and drops its bindings.
    fn close(&mut self) {
        if let Some((_, bound)) = self.open.pop() {
            self.bindings.truncate(self.bindings.len() - bound);
        }
    }

    /// A reference, `&…;`.
    fn reference(&mut self, rest: &'a str) -> Option<Token<'a>> {
        let end = memchr(b';', rest.as_bytes())?;
        let name = &rest[1..end];
        self.pos += end + 1;
        Some(Token::Ref(resolve(name)?))
    }
}

/// What a reference's name stands for; `None` when it is not a well-formed one.
fn resolve(name: &str) -> Option<Reference<'_>> {
    if let Some(number) = name.strip_prefix('#') {
        let code = match number.strip_prefix('x') {
            Some(hex) if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
                u32::from_str_radix(hex, 16).ok()?
            }
            Some(_) => return None,
            None if !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) => {
                number.parse::<u32>().ok()?
            }
            None => return None,
        };
        return (code != 0)
            .then(|| char::from_u32(code))
            .flatten()
            .map(Reference::Char);
    }
    if !is_name(name) || name.contains(':') {
        return None;
    }
    Some(match name {
        "lt" => Reference::Predefined("<"),
        "gt" => Reference::Predefined(">"),
        "amp" => Reference::Predefined("&"),
        "apos" => Reference::Predefined("'"),
        "quot" => Reference::Predefined("\""),
        other => Reference::Other(other),
    })
}

/// A plain ASCII XML name: a letter or `_`, then letters, digits, `_`, `-`, `.`, `:`.
fn is_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'))
}

/// A start tag's attributes (`rest` is what follows the name), values unescaped as feed-rs
/// unescapes them; `None` on anything but `name="value"` pairs with distinct names.
fn attributes(rest: &str) -> Option<Vec<(&str, Cow<'_, str>)>> {
    let mut found: Vec<(&str, Cow<'_, str>)> = Vec::new();
    let mut rest = rest;
    loop {
        rest = rest.trim_start_matches([' ', '\t', '\r', '\n']);
        if rest.is_empty() {
            return Some(found);
        }
        let eq = rest.find('=')?;
        let name = rest[..eq].trim_end_matches([' ', '\t', '\r', '\n']);
        if !is_name(name) || found.iter().any(|(n, _)| *n == name) {
            return None;
        }
        let after = rest[eq + 1..].trim_start_matches([' ', '\t', '\r', '\n']);
        let quote = after.chars().next().filter(|c| matches!(c, '"' | '\''))?;
        let close = after[1..].find(quote)?;
        let raw = &after[1..1 + close];
        if raw.contains('<') {
            return None;
        }
        found.push((name, unescape(raw)?));
        rest = &after[close + 2..];
        if !rest.is_empty() && !rest.starts_with([' ', '\t', '\r', '\n']) {
            return None;
        }
    }
}

/// An attribute value with its references resolved; `None` when one is not a character
/// reference or a predefined entity (feed-rs would keep such a value as written: rare
/// enough to leave to it).
fn unescape(raw: &str) -> Option<Cow<'_, str>> {
    if !raw.contains('&') {
        return Some(Cow::Borrowed(raw));
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let end = rest[amp..].find(';')? + amp;
        match resolve(&rest[amp + 1..end])? {
            Reference::Char(c) => out.push(c),
            Reference::Predefined(s) => out.push_str(s),
            Reference::Other(_) => return None,
        }
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Some(Cow::Owned(out))
}
