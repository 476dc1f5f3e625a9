//! `add` and `csv import`: members appended to the roster — one from a blog address, or a
//! signup sheet of them — through `toml_edit`, comments and order kept, validated before the
//! file is replaced.
//!
//! `add` refuses an id or a feed the roster already has (an operator typing a member twice
//! wants to hear so); a sheet's rows skip what is there already, as `opml import` does. The
//! feeds themselves are found by discovery, which the command runs before calling here: a row
//! whose blog gave no feed is added with its `blog` alone, and `fetch` tries again.

use std::path::{Path, PathBuf};

use super::opml::{make_id, merge, ImportReport, Imported};
use crate::config::Config;
use crate::render::RenderError;

/// A member could not be added; the roster is left as it was.
#[derive(Debug, thiserror::Error)]
pub enum AddError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The id is taken.
    #[error("the roster already has a member `{0}`; choose another --id (ids are the stable key of a member's posts)")]
    Duplicate(String),
    /// The feed is listed under a member already.
    #[error("the feed {feed} is listed under `{owner}` already; a feed belongs to one member")]
    FeedListed {
        /// The feed.
        feed: String,
        /// Its member.
        owner: String,
    },
    /// The sheet is not CSV with the expected columns.
    #[error("{path}: {message}")]
    Csv {
        /// The sheet.
        path: PathBuf,
        /// What is wrong, with the line.
        message: String,
    },
    /// The roster is not editable, or would become invalid.
    #[error("adding would make {path} invalid, so it was left unchanged:\n  {problems}")]
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

/// Appends one member; refuses an id or a feed the roster has.
pub fn add(roster: &Path, config: &Config, member: &Imported) -> Result<ImportReport, AddError> {
    if config.member(&member.id).is_some() {
        return Err(AddError::Duplicate(member.id.clone()));
    }
    for feed in &member.feeds {
        let owner = config
            .members
            .iter()
            .find(|m| m.feeds.iter().any(|f| f.to_string() == *feed));
        if let Some(owner) = owner {
            return Err(AddError::FeedListed {
                feed: feed.clone(),
                owner: owner.id.clone(),
            });
        }
    }
    append(roster, std::slice::from_ref(member))
}

/// Appends the members (new ids as new tables, what is listed already skipped), validated
/// before the file is replaced; nothing is written when nothing changes.
pub fn append(roster: &Path, members: &[Imported]) -> Result<ImportReport, AddError> {
    let text = std::fs::read_to_string(roster).map_err(|source| AddError::Read {
        path: roster.to_path_buf(),
        source,
    })?;
    let invalid = |problems: String| AddError::Invalid {
        path: roster.to_path_buf(),
        problems,
    };
    let (edited, report) = merge(&text, members).map_err(invalid)?;
    if edited == text {
        return Ok(report);
    }
    if let Some(problems) = super::problems_of(&edited, roster) {
        return Err(invalid(problems));
    }
    super::replace(roster, &edited)?;
    Ok(report)
}

/// The members of a signup sheet: CSV with a header row naming the columns `name` and `blog`
/// (required), and `team`, `id`, `feed`, `email`, `slack_id` (optional), in any order. A missing
/// id is made from the blog's address, as `opml import` makes it.
pub fn parse_csv(text: &str) -> Result<Vec<Imported>, String> {
    let mut rows = csv_rows(text)?.into_iter();
    let header: Vec<String> = rows
        .next()
        .ok_or("the sheet is empty; its first row names the columns (name, blog, team, …)")?
        .1
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    let column = |name: &str| header.iter().position(|h| h == name);
    let (Some(name_at), Some(blog_at)) = (column("name"), column("blog")) else {
        return Err(format!(
            "line 1: the header needs `name` and `blog` columns (found: {})",
            header.join(", ")
        ));
    };
    let mut members = Vec::new();
    for (line, row) in rows {
        let cell = |at: Option<usize>| {
            at.and_then(|i| row.get(i))
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let (Some(name), Some(blog)) = (cell(Some(name_at)), cell(Some(blog_at))) else {
            if row.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            return Err(format!("line {line}: a row needs a name and a blog"));
        };
        members.push(Imported {
            id: cell(column("id")).unwrap_or_else(|| make_id(&blog, members.len() + 1)),
            name,
            team: cell(column("team")).unwrap_or_default(),
            feeds: cell(column("feed")).into_iter().collect(),
            blog: Some(blog),
            email: cell(column("email")),
            slack_id: cell(column("slack_id")),
        });
    }
    Ok(members)
}

/// RFC 4180 rows with their line numbers: commas, `"quoted, fields"` with `""` for a quote,
/// line breaks inside quotes.
fn csv_rows(text: &str) -> Result<Vec<(usize, Vec<String>)>, String> {
    let text = text.trim_start_matches('\u{feff}');
    let (mut rows, mut row, mut field) = (Vec::new(), Vec::new(), String::new());
    let (mut line, mut start, mut quoted) = (1, 1, false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            ('"', true) => quoted = false,
            ('"', false) if field.is_empty() => quoted = true,
            (',', false) => row.push(std::mem::take(&mut field)),
            ('\r', false) => {}
            ('\n', false) => {
                row.push(std::mem::take(&mut field));
                rows.push((start, std::mem::take(&mut row)));
                line += 1;
                start = line;
            }
            ('\n', true) => {
                line += 1;
                field.push(c);
            }
            (c, _) => field.push(c),
        }
    }
    if quoted {
        return Err(format!("line {start}: a quoted field is not closed"));
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push((start, row));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signup_sheet_reads_its_columns_in_any_order_with_quotes() {
        let sheet = "\u{feff}Team,name,blog,email,slack_id\r\n데이터,\"김, 민지\",https://minji.tistory.com/,minji@example.org,U01\r\n,박지훈,https://velog.io/@jihoon_dev,,\r\n\r\n";
        let m = parse_csv(sheet).unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(
            (m[0].id.as_str(), m[0].name.as_str()),
            ("minji", "김, 민지")
        );
        assert_eq!(m[0].team, "데이터");
        assert_eq!(m[0].email.as_deref(), Some("minji@example.org"));
        assert_eq!(m[0].slack_id.as_deref(), Some("U01"));
        assert_eq!(m[1].id, "jihoon_dev");
        assert_eq!(m[1].email, None);
        assert!(m[1].feeds.is_empty());
    }

    #[test]
    fn a_sheet_without_its_columns_or_with_an_open_quote_is_refused_with_the_line() {
        assert!(parse_csv("who,where\nA,B\n")
            .unwrap_err()
            .contains("`name` and `blog`"));
        assert!(parse_csv("name,blog\n\"A,https://x\n")
            .unwrap_err()
            .contains("line 2"));
        assert!(parse_csv("name,blog\nA,\n").unwrap_err().contains("line 2"));
    }
}
