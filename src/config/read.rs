//! From text to the raw structs, finding as many problems as one reading can.
//!
//! serde stops at the first thing it cannot read, so the file is not handed to it whole: it is
//! parsed once into a tree with byte spans, every unknown key is reported and taken out
//! (`keys.rs`), and each section, and each `[[members]]` table on its own, is then read into
//! its raw struct. A section that cannot be read is one problem (with its key and line) and the
//! rest of the file is still read, so `check` can report the other sections' problems and judge
//! the roster rules on the members that could be read.

use serde::de::DeserializeOwned;
use toml::de::{DeTable, DeValue, ValueDeserializer};
use toml::Spanned;

use super::keys::{self, Table};
use super::problem::{line_of, Problem};
use super::raw::{RawConfig, RawMember};

/// Reads `text` into its raw sections, pushing every problem found on the way; `None` when the
/// text is not TOML at all.
pub(super) fn read(text: &str, problems: &mut Vec<Problem>) -> Option<RawConfig> {
    let mut root = match DeTable::parse(text) {
        Ok(root) => root.into_inner(),
        Err(e) => {
            problems.push(toml_problem(text, &e, ""));
            return None;
        }
    };
    keys::strip_unknown(&mut root, text, problems);
    let mut r = Reader {
        text,
        root,
        problems,
    };
    Some(RawConfig {
        club: r.required("club"),
        rounds: r.required("rounds"),
        storage: r.section("storage").unwrap_or_default(),
        fetch: r.section("fetch").unwrap_or_default(),
        output: r.section("output").unwrap_or_default(),
        email: r.section("email"),
        reader: r.section("reader").unwrap_or_default(),
        chat: r.section("chat"),
        members: r.members(),
    })
}

/// The parsed tree, taken apart section by section.
struct Reader<'i, 'p> {
    text: &'i str,
    root: DeTable<'i>,
    problems: &'p mut Vec<Problem>,
}

impl<'i> Reader<'i, '_> {
    /// A section the file must have.
    fn required<T: DeserializeOwned>(&mut self, key: &str) -> Option<T> {
        if !self.root.contains_key(key) {
            self.problems.push(Problem {
                line: None,
                key: key.to_string(),
                message: format!(
                    "missing field `{key}`; add it (see the README's config reference)"
                ),
                suggestion: None,
            });
            return None;
        }
        self.section(key)
    }

    /// A section, when it is there and can be read.
    fn section<T: DeserializeOwned>(&mut self, key: &str) -> Option<T> {
        let value = self.root.remove(key)?;
        self.value(value, key)
    }

    /// Every `[[members]]` table that can be read, with its place; each one that cannot is one
    /// problem and does not hide the others.
    fn members(&mut self) -> Vec<(usize, RawMember)> {
        let Some(value) = self.root.remove("members") else {
            return Vec::new();
        };
        let span = value.span();
        let DeValue::Array(items) = value.into_inner() else {
            self.problems.push(Problem {
                line: Some(line_of(self.text, span.start)),
                key: "members".to_string(),
                message: "`members` is a list of tables; write each member under its own `[[members]]` header".to_string(),
                suggestion: None,
            });
            return Vec::new();
        };
        let mut members = Vec::new();
        for (i, item) in items.into_iter().enumerate() {
            let path = match item.get_ref() {
                DeValue::Table(t) => keys::element_path("members", i, t, Table::Member),
                _ => format!("members[{i}]"),
            };
            if let Some(m) = self.value(item, &path) {
                members.push((i, m));
            }
        }
        members
    }

    fn value<T: DeserializeOwned>(&mut self, value: Spanned<DeValue<'i>>, path: &str) -> Option<T> {
        match T::deserialize(ValueDeserializer::from(value)) {
            Ok(v) => Some(v),
            Err(e) => {
                self.problems.push(toml_problem(self.text, &e, path));
                None
            }
        }
    }
}

/// Turns a TOML/serde error met under `path` into a problem with key and line.
fn toml_problem(text: &str, e: &toml::de::Error, path: &str) -> Problem {
    let line = e.span().map(|s| line_of(text, s.start));
    let message = e.message().trim().to_string();
    let written = e.span().and_then(|s| key_at(text, s.start));
    let key = match (path, written) {
        ("", Some(k)) => k,
        (_, Some(k)) => format!("{path}.{k}"),
        (_, None) => path.to_string(),
    };
    let message = if message.starts_with("missing field") {
        format!("{message}; add it (see the README's config reference)")
    } else {
        message
    };
    Problem {
        line,
        key,
        message,
        suggestion: None,
    }
}

/// The key written at the start of the line holding `offset`, when the line starts with one
/// (best effort, for messages: not a table header, not an element of a multi-line array).
fn key_at(text: &str, offset: usize) -> Option<String> {
    let start = text
        .get(..offset.min(text.len()))
        .and_then(|t| t.rfind('\n'))
        .map_or(0, |i| i + 1);
    let line = text.get(start..)?.lines().next()?;
    let (key, _) = line.split_once('=')?;
    let key = key.trim();
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    bare.then(|| key.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<Problem> {
        let mut problems = Vec::new();
        read(text, &mut problems);
        problems
    }

    #[test]
    fn a_section_that_cannot_be_read_does_not_hide_the_next_one() {
        let p = problems(
            "[club]\nname = \"글또\"\n\n[rounds]\nstart = \"2024-09-29\"\n\n[fetch]\nconcurrency = \"many\"\n\n[output]\nentries = \"all\"\n",
        );
        let keys: Vec<_> = p.iter().map(|p| (p.key.as_str(), p.line)).collect();
        assert_eq!(
            keys,
            [
                ("club", Some(1)),
                ("fetch.concurrency", Some(8)),
                ("output.entries", Some(11))
            ],
            "{p:#?}"
        );
        assert!(p[0].message.contains("missing field `url`"), "{p:?}");
    }

    #[test]
    fn each_member_is_read_on_its_own() {
        let text =
            "[club]\nname = \"n\"\nurl = \"https://x.org/\"\n[rounds]\nstart = \"2024-09-29\"\n\
                    [[members]]\nid = \"a\"\nfeeds = [\"a.xml\"]\n\
                    [[members]]\nid = \"b\"\nname = \"B\"\npasses = \"3\"\n\
                    [[members]]\nid = \"c\"\nname = \"C\"\n";
        let mut p = Vec::new();
        let raw = read(text, &mut p).unwrap();
        let read: Vec<_> = raw
            .members
            .iter()
            .map(|(i, m)| (*i, m.name.clone()))
            .collect();
        assert_eq!(read, [(2, "C".to_string())]);
        let keys: Vec<_> = p.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["members[0] (a)", "members[1] (b).passes"], "{p:#?}");
    }

    #[test]
    fn text_that_is_not_toml_is_one_problem_with_its_line() {
        let p = problems("[club]\nname = \"글또\nurl = 3\n");
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].line, Some(2));
    }
}
