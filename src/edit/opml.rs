//! `opml import FILE`: the members of an OPML file, added to the roster.
//!
//! It reads our own export (the member id and team ride in attributes of our namespace, so the
//! same roster comes back) and a reader's export (no namespace: the team is the enclosing folder
//! and the id is made from the blog's address). Members are added through `toml_edit`, which
//! keeps the file's comments, order and layout: new ids become new `[[members]]` tables at the
//! end, feeds new to a known member are appended to its `feeds`, feeds listed anywhere already
//! are skipped, and a member whose every feed is listed under someone else is not added. Names
//! come back without the zero-width spaces our export slips into markup-looking text.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;
use toml_edit::{value, Array, ArrayOfTables, DocumentMut, Item, Table};

use crate::render::opml::NAMESPACE;
use crate::render::{restore_defused, RenderError};

/// OPML import failed; the roster file is left as it was.
#[derive(Debug, thiserror::Error)]
pub enum OpmlError {
    /// The OPML file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The OPML file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The OPML is not well-formed XML.
    #[error("{path} is not OPML: {message}. Export it again from the reader, or check the XML")]
    Xml {
        /// The OPML file.
        path: PathBuf,
        /// What the parser said.
        message: String,
    },
    /// The OPML has no feed outlines.
    #[error("{0} has no feed outlines (outline elements with xmlUrl); nothing to import")]
    Empty(PathBuf),
    /// The roster file is not editable TOML.
    #[error("cannot edit the roster {path}: {message}")]
    Roster {
        /// The roster file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The roster would become invalid.
    #[error("importing would make {path} invalid, so it was left unchanged:\n  {problems}")]
    Invalid {
        /// The roster file.
        path: PathBuf,
        /// The problems, one per line.
        problems: String,
    },
    /// Writing the roster failed.
    #[error(transparent)]
    Write(#[from] RenderError),
}

/// A member read from OPML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// Member id (ours, or made from the blog's address).
    pub id: String,
    /// The outline's text: the member's name.
    pub name: String,
    /// Our team attribute, else the enclosing folder's name.
    pub team: String,
    /// The blog's homepage (`htmlUrl`, or a link outline's `url`).
    pub blog: Option<String>,
    /// Feeds in document order.
    pub feeds: Vec<String>,
    /// The member's own address (a signup sheet has it; OPML does not).
    pub email: Option<String>,
    /// The member's Slack user id (a signup sheet has it; OPML does not).
    pub slack_id: Option<String>,
}

/// Reads the members of an OPML document, in document order.
pub fn parse(text: &str) -> Result<Vec<Imported>, String> {
    let mut reader = NsReader::from_str(text);
    let mut folders: Vec<Option<String>> = Vec::new();
    let mut members: Vec<Imported> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    loop {
        let (event, is_empty) = match reader.read_event() {
            Ok(Event::Start(e)) => (e, false),
            Ok(Event::Empty(e)) => (e, true),
            Ok(Event::End(e)) => {
                if e.local_name().as_ref() == "outline" {
                    folders.pop();
                }
                continue;
            }
            Ok(Event::Eof) => break,
            Ok(_) => continue,
            Err(e) => return Err(format!("at byte {}: {e}", reader.error_position())),
        };
        if event.local_name().as_ref() != "outline" {
            continue;
        }
        let attrs = attributes(&reader, &event)?;
        let get = |k: &str| {
            attrs
                .get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let feed = get("xmlUrl");
        let link = (get("type").as_deref() == Some("link"))
            .then(|| get("url"))
            .flatten();
        if feed.is_none() && link.is_none() {
            // A folder: its text names the team of what it holds.
            if !is_empty {
                folders.push(
                    get("text")
                        .or_else(|| get("title"))
                        .map(|t| restore_defused(&t)),
                );
            }
            continue;
        }
        let blog = get("htmlUrl").or_else(|| link.clone());
        let team = get("ns:team")
            .or_else(|| folders.iter().rev().flatten().next().cloned())
            .filter(|t| t != "팀 미지정")
            .unwrap_or_default();
        let name = get("text")
            .or_else(|| get("title"))
            .map(|t| restore_defused(&t))
            .unwrap_or_default();
        let id = get("ns:id").unwrap_or_else(|| {
            make_id(
                blog.as_deref().or(feed.as_deref()).unwrap_or(&name),
                members.len() + 1,
            )
        });
        let at = *index.entry(id.clone()).or_insert_with(|| {
            members.push(Imported {
                id: id.clone(),
                name: if name.is_empty() { id.clone() } else { name },
                team,
                blog: blog.clone(),
                feeds: Vec::new(),
                email: None,
                slack_id: None,
            });
            members.len() - 1
        });
        if let Some(m) = members.get_mut(at) {
            add_feeds(m, feed, get("ns:moreFeeds"));
        }
    }
    Ok(members)
}

/// An outline's feed and the others our export lists beside it (`moreFeeds`), each once.
fn add_feeds(m: &mut Imported, feed: Option<String>, more: Option<String>) {
    let more = more.unwrap_or_default();
    let feeds = feed
        .into_iter()
        .chain(more.split_whitespace().map(str::to_string));
    for feed in feeds {
        if !m.feeds.contains(&feed) {
            m.feeds.push(feed);
        }
    }
}

/// An outline's attributes by name; ours come as `ns:id` and `ns:team`.
fn attributes(
    reader: &NsReader<&[u8]>,
    e: &BytesStart<'_>,
) -> Result<HashMap<String, String>, String> {
    let mut out = HashMap::new();
    for attr in e.attributes() {
        let attr = attr.map_err(|e| e.to_string())?;
        let value = attr
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| e.to_string())?
            .into_owned();
        let (ns, local) = reader.resolver().resolve_attribute(attr.key);
        let local = local.as_ref().to_string();
        let key = match ns {
            ResolveResult::Bound(n) if n.as_ref() == NAMESPACE => format!("ns:{local}"),
            ResolveResult::Unbound => local,
            _ => continue,
        };
        out.insert(key, value);
    }
    Ok(out)
}

/// A member id from a blog or feed address: the account on a shared platform (`velog.io/@kim`,
/// `medium.com/@kim`, `blog.naver.com/kim`, `brunch.co.kr/@kim`), else the first label of the
/// host (`kim.tistory.com`, `kim.github.io`), reduced to `[a-z0-9_-]`.
pub(super) fn make_id(address: &str, n: usize) -> String {
    let fallback = format!("member-{n}");
    let Ok(url) = url::Url::parse(address) else {
        return fallback;
    };
    let host = url.host_str().unwrap_or("").trim_start_matches("www.");
    let first_segment = url
        .path_segments()
        .and_then(|mut s| s.next())
        .unwrap_or("")
        .trim_start_matches('@')
        .to_string();
    let shared = ["velog.io", "medium.com", "blog.naver.com", "brunch.co.kr"];
    let raw = if shared.contains(&host) && !first_segment.is_empty() {
        first_segment
    } else {
        host.split('.').next().unwrap_or("").to_string()
    };
    let id: String = raw
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let id = id.trim_matches('-').to_string();
    if id.is_empty() {
        fallback
    } else {
        id
    }
}

/// What an import did, one line per change, for stderr.
pub type ImportReport = Vec<String>;

/// Adds the members of `opml_path` to the roster file `roster`: new ids become new
/// `[[members]]` tables at the end, feeds new to a known member are appended to its `feeds`, and
/// feeds already listed anywhere are skipped. Comments and order are kept. The edited roster is
/// validated before it replaces the file; nothing is written when nothing changes.
pub fn import(roster: &Path, opml_path: &Path) -> Result<ImportReport, OpmlError> {
    let text = std::fs::read_to_string(opml_path).map_err(|source| OpmlError::Read {
        path: opml_path.to_path_buf(),
        source,
    })?;
    let imported = parse(&text).map_err(|message| OpmlError::Xml {
        path: opml_path.to_path_buf(),
        message,
    })?;
    if imported
        .iter()
        .all(|m| m.feeds.is_empty() && m.blog.is_none())
    {
        return Err(OpmlError::Empty(opml_path.to_path_buf()));
    }
    let roster_text = std::fs::read_to_string(roster).map_err(|e| OpmlError::Roster {
        path: roster.to_path_buf(),
        message: e.to_string(),
    })?;
    let (edited, report) = merge(&roster_text, &imported).map_err(|message| OpmlError::Roster {
        path: roster.to_path_buf(),
        message,
    })?;
    if edited == roster_text {
        return Ok(report);
    }
    if let Some(problems) = super::problems_of(&edited, roster) {
        return Err(OpmlError::Invalid {
            path: roster.to_path_buf(),
            problems,
        });
    }
    super::replace(roster, &edited)?;
    Ok(report)
}

/// Merges imported members into roster text; returns the new text and what changed.
pub fn merge(roster_text: &str, imported: &[Imported]) -> Result<(String, ImportReport), String> {
    let mut doc: DocumentMut = roster_text.parse().map_err(|e| format!("{e}"))?;
    let mut report = Vec::new();
    if doc.get("members").is_none() {
        doc.insert("members", Item::ArrayOfTables(ArrayOfTables::new()));
    }
    // Comments after the last table are the document's trailing text; toml_edit would print new
    // tables before them. They go in front of the first new table instead, so the old file stays
    // a prefix of the new one.
    let mut trailing = doc.trailing().as_str().unwrap_or("").to_string();
    let members = doc
        .get_mut("members")
        .and_then(Item::as_array_of_tables_mut)
        .ok_or("`members` is not a list of [[members]] tables")?;
    let mut known = Known::of(members);
    for m in imported {
        let new_feeds = known.claim(m, &mut report);
        match known.ids.get(&m.id) {
            Some(&i) => {
                let Some(table) = members.get_mut(i).filter(|_| !new_feeds.is_empty()) else {
                    continue;
                };
                append_feeds(table, &new_feeds);
                report.push(format!(
                    "{}: added {} feed(s) to the existing member",
                    m.id,
                    new_feeds.len()
                ));
            }
            None => {
                // A member whose every feed is someone else's would be a phantom, later
                // discovered from its blog and charged: not added.
                if new_feeds.is_empty() && (!m.feeds.is_empty() || m.blog.is_none()) {
                    if !m.feeds.is_empty() {
                        report.push(format!(
                            "{}: member {} not added: every feed of theirs is listed under another member",
                            m.id, m.name
                        ));
                    }
                    continue;
                }
                let prefix = if trailing.is_empty() || trailing.ends_with("\n\n") {
                    std::mem::take(&mut trailing)
                } else {
                    format!("{}\n", std::mem::take(&mut trailing))
                };
                members.push(member_table(m, &new_feeds, prefix));
                known.ids.insert(m.id.clone(), members.len() - 1);
                let team = if m.team.is_empty() {
                    "no team"
                } else {
                    &m.team
                };
                report.push(format!(
                    "{}: added member {} ({team}) with {} feed(s)",
                    m.id,
                    m.name,
                    new_feeds.len()
                ));
            }
        }
    }
    if trailing.is_empty() {
        doc.set_trailing("");
    }
    let added = report
        .iter()
        .filter(|l| l.contains(": added member "))
        .count();
    if added > 0 {
        report.push(format!(
            "note: the {added} new member(s) have no joined_round, so every closed round before they joined counts as missed; add `joined_round = N` (the first round they take part in) to each new [[members]] table"
        ));
    }
    Ok((doc.to_string(), report))
}

/// What the roster already holds: each listed feed's owner, each member's table.
struct Known {
    /// Feed → the member id it is listed under.
    listed: HashMap<String, String>,
    /// Member id → index of its `[[members]]` table.
    ids: HashMap<String, usize>,
}

impl Known {
    fn of(members: &ArrayOfTables) -> Known {
        let mut listed = HashMap::new();
        let mut ids = HashMap::new();
        for (i, t) in members.iter().enumerate() {
            let id = t.get("id").and_then(Item::as_str).unwrap_or("").to_string();
            let feeds = t
                .get("feeds")
                .and_then(Item::as_array)
                .into_iter()
                .flatten();
            for f in feeds.filter_map(|f| f.as_str()) {
                listed.insert(f.to_string(), id.clone());
            }
            ids.insert(id, i);
        }
        Known { listed, ids }
    }

    /// The feeds of `m` not listed yet, now claimed for it; a feed listed under another member
    /// is skipped (and said so in `report`).
    fn claim(&mut self, m: &Imported, report: &mut ImportReport) -> Vec<String> {
        let mut new_feeds = Vec::new();
        for f in &m.feeds {
            match self.listed.get(f) {
                Some(owner) if owner != &m.id => {
                    report.push(format!(
                        "{}: skipped {f}: already listed under `{owner}`",
                        m.id
                    ));
                }
                Some(_) => {}
                None => {
                    self.listed.insert(f.clone(), m.id.clone());
                    new_feeds.push(f.clone());
                }
            }
        }
        new_feeds
    }
}

/// Appends feeds to a member's `feeds` array (created when absent).
fn append_feeds(table: &mut Table, feeds: &[String]) {
    if table.get("feeds").and_then(Item::as_array).is_none() {
        table.insert("feeds", value(Array::new()));
    }
    if let Some(array) = table.get_mut("feeds").and_then(Item::as_array_mut) {
        for f in feeds {
            array.push(f.as_str());
        }
    }
}

/// A new `[[members]]` table, written after `prefix` (the file's old trailing comments, or a
/// blank line).
fn member_table(m: &Imported, feeds: &[String], prefix: String) -> Table {
    let mut t = Table::new();
    t.insert("id", value(m.id.as_str()));
    t.insert("name", value(m.name.as_str()));
    t.insert("team", value(m.team.as_str()));
    if let Some(blog) = &m.blog {
        t.insert("blog", value(blog.as_str()));
    }
    let mut array = Array::new();
    for f in feeds {
        array.push(f.as_str());
    }
    t.insert("feeds", value(array));
    for (key, v) in [("email", &m.email), ("slack_id", &m.slack_id)] {
        if let Some(v) = v {
            t.insert(key, value(v.as_str()));
        }
    }
    t.decor_mut().set_prefix(if prefix.is_empty() {
        "\n".to_string()
    } else {
        prefix
    });
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_come_from_the_account_on_shared_platforms_and_the_host_elsewhere() {
        assert_eq!(make_id("https://velog.io/@jihoon_dev", 1), "jihoon_dev");
        assert_eq!(make_id("https://medium.com/@seoyeon.lee", 1), "seoyeon-lee");
        assert_eq!(
            make_id("https://blog.naver.com/dongwoo_dev", 1),
            "dongwoo_dev"
        );
        assert_eq!(make_id("https://minji-data.tistory.com/", 1), "minji-data");
        assert_eq!(make_id("https://www.Taehun.github.io/", 1), "taehun");
        assert_eq!(make_id("not a url", 7), "member-7");
    }

    #[test]
    fn a_readers_export_imports_with_folders_as_teams() {
        let opml = r#"<?xml version="1.0"?>
<opml version="1.0"><head><title>x</title></head><body>
  <outline text="백엔드">
    <outline type="rss" text="박지훈" xmlUrl="https://v2.velog.io/rss/@jihoon_dev" htmlUrl="https://velog.io/@jihoon_dev"/>
  </outline>
  <outline type="rss" text="Lone &amp; Co" xmlUrl="https://lone.example/feed"/>
</body></opml>"#;
        let m = parse(opml).unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(
            (m[0].id.as_str(), m[0].team.as_str(), m[0].name.as_str()),
            ("jihoon_dev", "백엔드", "박지훈")
        );
        assert_eq!(
            (m[1].id.as_str(), m[1].team.as_str(), m[1].name.as_str()),
            ("lone", "", "Lone & Co")
        );
    }

    #[test]
    fn merge_keeps_comments_and_order_and_skips_known_feeds() {
        let roster = "# the roster\n[club]\nname = \"x\" # club name\n\n[[members]]\nid = \"a\" # first\nname = \"A\"\nfeeds = [\"https://a.example/feed\"]\n";
        let imported = vec![
            Imported {
                id: "a".into(),
                name: "A".into(),
                team: String::new(),
                blog: None,
                feeds: vec![
                    "https://a.example/feed".into(),
                    "https://a2.example/feed".into(),
                ],
                email: None,
                slack_id: None,
            },
            Imported {
                id: "b".into(),
                name: "비".into(),
                team: "데이터".into(),
                blog: Some("https://b.example/".into()),
                feeds: vec![
                    "https://a.example/feed".into(),
                    "https://b.example/feed".into(),
                ],
                email: None,
                slack_id: None,
            },
        ];
        let (out, report) = merge(roster, &imported).unwrap();
        assert!(
            out.starts_with("# the roster\n[club]\nname = \"x\" # club name\n"),
            "{out}"
        );
        assert!(out.contains("id = \"a\" # first"), "{out}");
        assert!(
            out.contains("feeds = [\"https://a.example/feed\", \"https://a2.example/feed\"]"),
            "{out}"
        );
        assert!(out.ends_with("\n[[members]]\nid = \"b\"\nname = \"비\"\nteam = \"데이터\"\nblog = \"https://b.example/\"\nfeeds = [\"https://b.example/feed\"]\n"), "{out}");
        // Added feeds, a skipped feed, the new member, and the note on joined_round.
        assert_eq!(report.len(), 4, "{report:?}");
        assert!(report[3].contains("joined_round"), "{report:?}");
        // Importing again changes nothing.
        let (again, _) = merge(&out, &imported).unwrap();
        assert_eq!(again, out);
    }
}
