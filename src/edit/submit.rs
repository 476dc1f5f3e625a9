//! `submit MEMBER URL`: a post recorded by hand, appended to the member's `extra_posts`.
//!
//! The entry is added through `toml_edit` as an inline table `{ url, date, title }` at the end of
//! the member's `extra_posts` (created when absent), so the file keeps its comments, order and
//! layout; the edited file must pass validation before it replaces the old one. A post already
//! recorded (by any member) is refused rather than recorded twice.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use toml_edit::{value, Array, DocumentMut, InlineTable, Item};

use crate::render::RenderError;

/// A post to record by hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    /// The member's id.
    pub member: String,
    /// The post's address.
    pub url: url::Url,
    /// The local date it counts on.
    pub date: NaiveDate,
    /// Its title (may be empty).
    pub title: String,
}

/// The post could not be recorded; the roster file is left as it was.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The roster file could not be read or is not TOML `toml_edit` can edit.
    #[error("cannot edit the roster {path}: {message}")]
    Roster {
        /// The roster file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// No member has this id.
    #[error("no member `{member}` in {path}; the ids are: {ids}")]
    UnknownMember {
        /// The roster file.
        path: PathBuf,
        /// The id given.
        member: String,
        /// The roster's ids, comma-separated.
        ids: String,
    },
    /// The post is recorded already.
    #[error("{url} is already recorded under `{owner}` in {path}; nothing changed")]
    Duplicate {
        /// The roster file.
        path: PathBuf,
        /// The post's address.
        url: String,
        /// The member it is recorded under.
        owner: String,
    },
    /// The roster would become invalid.
    #[error(
        "recording the post would make {path} invalid, so it was left unchanged:\n  {problems}"
    )]
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

/// Appends `post` to its member's `extra_posts` in the roster file `roster`.
pub fn submit(roster: &Path, post: &Submission) -> Result<(), SubmitError> {
    let text = std::fs::read_to_string(roster).map_err(|e| SubmitError::Roster {
        path: roster.to_path_buf(),
        message: e.to_string(),
    })?;
    let edited = append(&text, post).map_err(|e| e.at(roster, post))?;
    if let Some(problems) = super::problems_of(&edited, roster) {
        return Err(SubmitError::Invalid {
            path: roster.to_path_buf(),
            problems,
        });
    }
    super::replace(roster, &edited)?;
    Ok(())
}

/// Why roster text could not take the post (the file named later).
#[derive(Debug)]
pub enum AppendError {
    /// Not editable TOML, or `members` of the wrong shape.
    Roster(String),
    /// No such member: the roster's ids.
    UnknownMember(Vec<String>),
    /// Recorded already, under this member.
    Duplicate(String),
}

impl AppendError {
    /// The error for an operator: which file, which member, which post.
    fn at(self, roster: &Path, post: &Submission) -> SubmitError {
        let path = roster.to_path_buf();
        match self {
            AppendError::Roster(message) => SubmitError::Roster { path, message },
            AppendError::UnknownMember(ids) => SubmitError::UnknownMember {
                path,
                member: post.member.clone(),
                ids: ids.join(", "),
            },
            AppendError::Duplicate(owner) => SubmitError::Duplicate {
                path,
                url: post.url.to_string(),
                owner,
            },
        }
    }
}

/// Roster text with `post` appended to its member's `extra_posts`.
pub fn append(text: &str, post: &Submission) -> Result<String, AppendError> {
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e| AppendError::Roster(format!("{e}")))?;
    let members = doc
        .get_mut("members")
        .and_then(Item::as_array_of_tables_mut)
        .ok_or_else(|| AppendError::Roster("no [[members]] tables".to_string()))?;
    let url = post.url.as_str();
    for t in members.iter() {
        let recorded = t
            .get("extra_posts")
            .and_then(Item::as_array)
            .into_iter()
            .flatten()
            .filter_map(|e| e.as_inline_table())
            .any(|e| e.get("url").and_then(|u| u.as_str()) == Some(url));
        if recorded {
            let owner = t.get("id").and_then(Item::as_str).unwrap_or("?");
            return Err(AppendError::Duplicate(owner.to_string()));
        }
    }
    let ids: Vec<String> = members
        .iter()
        .filter_map(|t| t.get("id").and_then(Item::as_str).map(str::to_string))
        .collect();
    let Some(table) = members
        .iter_mut()
        .find(|t| t.get("id").and_then(Item::as_str) == Some(post.member.as_str()))
    else {
        return Err(AppendError::UnknownMember(ids));
    };
    if table.get("extra_posts").and_then(Item::as_array).is_none() {
        table.insert("extra_posts", value(Array::new()));
    }
    let mut entry = InlineTable::new();
    entry.insert("url", url.into());
    entry.insert("date", post.date.to_string().into());
    if !post.title.trim().is_empty() {
        entry.insert("title", post.title.trim().into());
    }
    if let Some(array) = table.get_mut("extra_posts").and_then(Item::as_array_mut) {
        array.push(entry);
    }
    Ok(doc.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROSTER: &str = r#"# the club
[club]
name = "글또"

[[members]]
id = "minji"   # 데이터
name = "김민지"
feeds = ["https://minji.tistory.com/rss"]

[[members]]
id = "seoyeon"
name = "이서연"
extra_posts = [{ url = "https://seoyeon.oopy.io/a", date = "2024-10-02" }]
"#;

    fn post(member: &str, url: &str) -> Submission {
        Submission {
            member: member.into(),
            url: url::Url::parse(url).unwrap(),
            date: NaiveDate::from_ymd_opt(2024, 11, 2).unwrap(),
            title: "노션 글".into(),
        }
    }

    #[test]
    fn a_post_is_appended_to_its_member_keeping_comments_and_order() {
        let out = append(ROSTER, &post("minji", "https://minji.oopy.io/p")).unwrap();
        assert!(out.starts_with("# the club\n[club]"), "{out}");
        assert!(out.contains("id = \"minji\"   # 데이터"), "{out}");
        assert!(
            out.contains(
                "extra_posts = [{ url = \"https://minji.oopy.io/p\", date = \"2024-11-02\", title = \"노션 글\" }]"
            ),
            "{out}"
        );
        let again = append(&out, &post("seoyeon", "https://seoyeon.oopy.io/b")).unwrap();
        assert!(again.contains("\"https://seoyeon.oopy.io/a\""), "{again}");
        assert!(again.contains("\"https://seoyeon.oopy.io/b\""), "{again}");
    }

    #[test]
    fn a_post_recorded_already_or_an_unknown_member_is_refused() {
        assert!(matches!(
            append(ROSTER, &post("minji", "https://seoyeon.oopy.io/a")),
            Err(AppendError::Duplicate(owner)) if owner == "seoyeon"
        ));
        assert!(matches!(
            append(ROSTER, &post("nobody", "https://x.oopy.io/a")),
            Err(AppendError::UnknownMember(ids)) if ids == ["minji", "seoyeon"]
        ));
    }
}
