//! The keys `feeds.toml` may hold, table by table, and the check that finds every other one.
//!
//! Each table's list of keys is derived from its raw struct (the field names serde generates for
//! it), so a key added to `raw.rs` is known here without a second list to keep in step; only
//! the top level, read section by section, lists its tables by hand next to [`RawConfig`].
//! [`strip_unknown`] walks the parsed document once, reports every key that is not valid where
//! it is written (with its line, and a "did you mean" by edit distance against the keys valid
//! there), and removes it, so the rest of the file is still read and judged.
//!
//! [`RawConfig`]: super::raw::RawConfig

use serde::de::{self, DeserializeOwned, Visitor};
use toml::de::{DeTable, DeValue};

use super::problem::{line_of, Problem};
use super::raw::{
    RawChat, RawClub, RawEmail, RawExtraPost, RawFetch, RawMember, RawOutput, RawReader, RawRounds,
    RawStorage, ROOT_KEYS,
};

/// A table of `feeds.toml`: where a key is written decides which keys are valid there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Table {
    /// The top level: the sections.
    Root,
    Club,
    Rounds,
    Storage,
    Fetch,
    Output,
    Email,
    Reader,
    Chat,
    /// One `[[members]]` table.
    Member,
    /// One entry of a member's `extra_posts`.
    ExtraPost,
}

impl Table {
    /// The keys valid in this table, as the raw structs spell them.
    pub(super) fn keys(self) -> &'static [&'static str] {
        match self {
            Table::Root => ROOT_KEYS,
            Table::Club => fields_of::<RawClub>(),
            Table::Rounds => fields_of::<RawRounds>(),
            Table::Storage => fields_of::<RawStorage>(),
            Table::Fetch => fields_of::<RawFetch>(),
            Table::Output => fields_of::<RawOutput>(),
            Table::Email => fields_of::<RawEmail>(),
            Table::Reader => fields_of::<RawReader>(),
            Table::Chat => fields_of::<RawChat>(),
            Table::Member => fields_of::<RawMember>(),
            Table::ExtraPost => fields_of::<RawExtraPost>(),
        }
    }

    /// The table (or array of tables) a key of this table holds, if it holds one whose keys
    /// are fixed (a member's `overrides` maps any round number, so it is not one).
    pub(super) fn child(self, key: &str) -> Option<Table> {
        Some(match (self, key) {
            (Table::Root, "club") => Table::Club,
            (Table::Root, "rounds") => Table::Rounds,
            (Table::Root, "storage") => Table::Storage,
            (Table::Root, "fetch") => Table::Fetch,
            (Table::Root, "output") => Table::Output,
            (Table::Root, "email") => Table::Email,
            (Table::Root, "reader") => Table::Reader,
            (Table::Root, "chat") => Table::Chat,
            (Table::Root, "members") => Table::Member,
            (Table::Member, "extra_posts") => Table::ExtraPost,
            _ => return None,
        })
    }

    /// How messages name the table.
    fn label(self, path: &str) -> String {
        match self {
            Table::Root => "the top level".to_string(),
            Table::Member => "a [[members]] table".to_string(),
            Table::ExtraPost => "an `extra_posts` entry".to_string(),
            _ => format!("[{path}]"),
        }
    }
}

/// Every key the config knows, dotted from the top (`fetch.timeout`, `members.extra_posts.url`):
/// what a starter file or a reference must mention.
pub fn known_keys() -> Vec<String> {
    let mut keys = Vec::new();
    collect(Table::Root, "", &mut keys);
    keys
}

fn collect(table: Table, prefix: &str, out: &mut Vec<String>) {
    for key in table.keys() {
        let dotted = if prefix.is_empty() {
            key.to_string()
        } else {
            format!("{prefix}.{key}")
        };
        match table.child(key) {
            Some(child) => collect(child, &dotted, out),
            None => out.push(dotted),
        }
    }
}

/// Reports every key of `root` that is not valid where it is written, and removes it.
pub(super) fn strip_unknown(root: &mut DeTable<'_>, text: &str, problems: &mut Vec<Problem>) {
    strip(root, Table::Root, "", text, problems);
}

fn strip(table: &mut DeTable<'_>, at: Table, path: &str, text: &str, problems: &mut Vec<Problem>) {
    let known = at.keys();
    let unknown_keys: Vec<(String, usize)> = table
        .keys()
        .filter(|key| !known.contains(&key.get_ref().as_ref()))
        .map(|key| (key.get_ref().to_string(), key.span().start))
        .collect();
    for (name, at_byte) in unknown_keys {
        problems.push(unknown(&name, at, path, line_of(text, at_byte)));
        table.remove(name.as_str());
    }
    for (key, value) in table.iter_mut() {
        let name: &str = key.get_ref();
        let Some(child) = at.child(name) else {
            continue;
        };
        let here = if path.is_empty() {
            name.to_string()
        } else {
            format!("{path}.{name}")
        };
        match value.get_mut() {
            DeValue::Table(t) => strip(t, child, &here, text, problems),
            DeValue::Array(items) => {
                for (i, item) in items.iter_mut().enumerate() {
                    if let DeValue::Table(t) = item.get_mut() {
                        let here = element_path(&here, i, t, child);
                        strip(t, child, &here, text, problems);
                    }
                }
            }
            _ => {}
        }
    }
}

/// `members[3] (minji)` for a member (as the validator names it), `…extra_posts[1]` otherwise.
pub(super) fn element_path(path: &str, i: usize, table: &DeTable<'_>, at: Table) -> String {
    match (at, table.get("id").and_then(|id| id.get_ref().as_str())) {
        (Table::Member, Some(id)) => format!("{path}[{i}] ({id})"),
        _ => format!("{path}[{i}]"),
    }
}

/// The problem for an unknown key, with the nearest valid key as a suggestion.
fn unknown(name: &str, at: Table, path: &str, line: usize) -> Problem {
    let known = at.keys();
    let suggestion = suggest(name, known);
    let message = match &suggestion {
        Some(s) => format!(
            "unknown field `{name}`, did you mean `{s}`? Otherwise remove it or fix its spelling (see the README's config reference)"
        ),
        None => format!(
            "unknown field `{name}`; remove it or fix its spelling (the keys of {} are {})",
            at.label(path),
            known
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let key = if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    };
    Problem {
        line: Some(line),
        key,
        message,
        suggestion: suggestion.map(str::to_string),
    }
}

/// The known key nearest to `typed`, when it is near enough to be what was meant: at most one
/// edit per three characters (at least one), case and `-`/`_` ignored, transpositions one edit.
pub(super) fn suggest<'k>(typed: &str, known: &[&'k str]) -> Option<&'k str> {
    let typed = typed.to_lowercase().replace('-', "_");
    let limit = (typed.chars().count() / 3).max(1);
    known
        .iter()
        .map(|k| (edit_distance(&typed, k), *k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
/// neighbouring characters each count one.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let width = b.len() + 1;
    let mut d: Vec<usize> = vec![0; (a.len() + 1) * width];
    for i in 0..=a.len() {
        for j in 0..=b.len() {
            d[i * width + j] = if i == 0 || j == 0 {
                i + j
            } else {
                let cost = usize::from(a[i - 1] != b[j - 1]);
                let mut best = (d[(i - 1) * width + j] + 1)
                    .min(d[i * width + j - 1] + 1)
                    .min(d[(i - 1) * width + j - 1] + cost);
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    best = best.min(d[(i - 2) * width + j - 2] + 1);
                }
                best
            };
        }
    }
    d[a.len() * width + b.len()]
}

/// The field names serde derives for a struct: exactly the keys `deny_unknown_fields` accepts.
/// A deserializer that answers nothing but records the names the struct asks for.
fn fields_of<T: DeserializeOwned>() -> &'static [&'static str] {
    let mut fields = None;
    // The probe always fails, after recording the names: that error is the expected end.
    let _ = T::deserialize(FieldProbe(&mut fields));
    fields.unwrap_or(&[])
}

struct FieldProbe<'a>(&'a mut Option<&'static [&'static str]>);

/// How the probe stops a struct's deserialisation once it has the names.
#[derive(Debug)]
struct Stop;

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("field names recorded")
    }
}

impl std::error::Error for Stop {}

impl de::Error for Stop {
    fn custom<M: std::fmt::Display>(_: M) -> Self {
        Stop
    }
}

impl<'de> de::Deserializer<'de> for FieldProbe<'_> {
    type Error = Stop;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
        Err(Stop)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Stop> {
        *self.0 = Some(fields);
        Err(Stop)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// Dotted keys written in a TOML text, arrays of tables collapsed (`members.extra_posts.url`), a
/// member's `overrides` one key: what a test compares with [`known_keys`].
#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) fn written_keys(text: &str) -> std::collections::BTreeSet<String> {
    fn walk(table: &toml::Table, prefix: &str, out: &mut std::collections::BTreeSet<String>) {
        for (key, value) in table {
            let dotted = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            match value {
                toml::Value::Table(t) if key != "overrides" => walk(t, &dotted, out),
                toml::Value::Array(items)
                    if !items.is_empty() && items.iter().all(toml::Value::is_table) =>
                {
                    for item in items.iter().filter_map(toml::Value::as_table) {
                        walk(item, &dotted, out);
                    }
                }
                _ => {
                    out.insert(dotted);
                }
            }
        }
    }
    let mut out = std::collections::BTreeSet::new();
    walk(&text.parse::<toml::Table>().unwrap(), "", &mut out);
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// A config that sets every key the structs in `raw.rs` have, each with a valid value.
    const EVERY_KEY: &str = r#"
[club]
name = "글또"
url = "https://geultto.github.io/"
timezone = "Asia/Seoul"

[rounds]
start = "2024-09-29"
due = ["2024-10-13", "2024-10-27"]
every_days = 14
count = 2
grace = "0h"
passes = 2
min_chars = 1000
penalty = 10000
late_after = "6h"

[storage]
path = "geultto-agg.db"

[fetch]
concurrency = 32
per_host = 4
timeout = "30s"
connect_timeout = "10s"
max_body = "10MiB"
interval = "1h"
user_agent = "geultto-agg/VERSION"
allow_private_addresses = false
allow_addresses = ["10.1.2.0/24"]

[output]
dir = "public"
feed_url = "https://example.org/atom.xml"
entries = 100
content = "summary"
digest_dir = "digest"
templates = ""
show_statuses = false

[email]
smtp_host = "smtp.example.org"
smtp_port = 587
security = "starttls"
username = "bot@example.org"
password_env = "GEULTTO_SMTP_PASSWORD"
from = "글또 <bot@example.org>"
to = ["members@example.org"]
bcc = ["quiet@example.org"]
operators = ["ops@example.org"]
show_missing = false
unsubscribe = "mailto:ops@example.org?subject=unsubscribe"

[reader]
pages = true
max_pages = 200

[chat]
kind = "slack"
members_webhook_env = "GEULTTO_CHAT_MEMBERS"
operators_webhook_env = "GEULTTO_CHAT_OPERATORS"
bot_token_env = "GEULTTO_SLACK_TOKEN"
remind_before = "30h"

[[members]]
id = "taehun"
name = "김태훈"
team = "데이터"
blog = "https://taehun.github.io/"
feeds = ["https://taehun.github.io/feed.xml"]
joined_round = 1
left_round = 2
passes = [2]
overrides = { 1 = "submitted" }
extra_posts = [{ url = "https://x.oopy.io/p", date = "2024-10-02", title = "노션 글" }]
email = "taehun@example.org"
slack_id = "U0123ABCD"
"#;

    #[test]
    fn the_lists_of_known_keys_match_the_raw_structs() {
        // Derived from the structs: what serde itself accepts.
        assert_eq!(Table::Storage.keys(), ["path"]);
        assert_eq!(Table::Reader.keys(), ["pages", "max_pages"]);
        // Every top-level key is a section with a list of its own.
        for key in Table::Root.keys() {
            assert!(Table::Root.child(key).is_some(), "{key}");
        }
        // A config setting every listed key sets every field of every struct …
        let known: BTreeSet<String> = known_keys().into_iter().collect();
        assert_eq!(written_keys(EVERY_KEY), known);
        // … and each is read where it is written: the only problem is the one the values were
        // chosen to have (`due` and `every_days` together), none an unknown or unreadable key.
        let mut problems = Vec::new();
        let raw = super::super::read::read(EVERY_KEY, &mut problems).unwrap();
        assert!(problems.is_empty(), "{problems:#?}");
        assert!(raw.club.is_some() && raw.rounds.is_some() && raw.email.is_some());
        assert!(raw.chat.is_some() && raw.members.len() == 1);
        let all = super::super::validate::read(EVERY_KEY, std::path::Path::new("feeds.toml"));
        let messages: Vec<_> = all.problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(
            messages,
            ["give either `due` or `every_days` + `count`, not both"]
        );
    }

    #[test]
    fn suggestions_are_the_nearest_key_when_it_is_near() {
        let fetch = Table::Fetch.keys();
        assert_eq!(suggest("concurency", fetch), Some("concurrency"));
        assert_eq!(suggest("per-host", fetch), Some("per_host"));
        assert_eq!(suggest("Timeout", fetch), Some("timeout"));
        assert_eq!(suggest("timeotu", fetch), Some("timeout"));
        let member = Table::Member.keys();
        assert_eq!(suggest("blgo", member), Some("blog"));
        assert_eq!(suggest("feed", member), Some("feeds"));
        assert_eq!(suggest("colour", member), None);
        assert_eq!(suggest("emial", Table::Root.keys()), Some("email"));
    }

    #[test]
    fn every_unknown_key_is_reported_and_removed() {
        let text = "[club]\nnmae = \"x\"\n[fetch]\nconcurency = 3\ntimout = \"1s\"\n[[members]]\nid = \"a\"\nextra_posts = [{ url = \"u\", titel = \"t\" }]\n[emial]\n";
        let mut root = DeTable::parse(text).unwrap().into_inner();
        let mut problems = Vec::new();
        strip_unknown(&mut root, text, &mut problems);
        problems.sort_by_key(|p| p.line);
        let found: Vec<_> = problems
            .iter()
            .map(|p| (p.line, p.key.as_str(), p.suggestion.as_deref()))
            .collect();
        assert_eq!(
            found,
            [
                (Some(2), "club.nmae", Some("name")),
                (Some(4), "fetch.concurency", Some("concurrency")),
                (Some(5), "fetch.timout", Some("timeout")),
                (
                    Some(8),
                    "members[0] (a).extra_posts[0].titel",
                    Some("title")
                ),
                (Some(9), "emial", Some("email")),
            ]
        );
        assert!(problems[1].message.contains("did you mean `concurrency`?"));
        assert!(root.get("emial").is_none());
    }
}
