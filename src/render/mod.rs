//! Outputs: the merged Atom feed, the page, the weekly digest and the roster as OPML, written
//! from the store; the `report` and `feeds` tables and JSON; and what the other commands print
//! for a person at a terminal (`terminal.rs`).
//!
//! Rendering is deterministic — the same store and `now` give byte-identical files — and every
//! file is written to a temporary file in the same folder, flushed and renamed into place, so a
//! reader never sees half a file and a failed run leaves the previous outputs as they were.
//! Republished HTML passes through one sanitiser here; the page and the digest are rendered by
//! templates that escape every value (`templates.rs`).
//!
//! Text fields written into XML as text — in `atom.xml` the titles, summaries, author names,
//! categories and source titles; in the OPML the names shown to readers — pass through
//! [`xml_text`], which defuses markup-looking text: a U+200B ZERO WIDTH SPACE is inserted after
//! every `<` followed by an ASCII letter, `!`, `/` or `?`, and after every `&` that starts a
//! character reference (`&#…`, an entity name, or any `&name;`). The XML writer escapes the text
//! as always; the zero-width space is there for the reader that renders a text field as HTML
//! anyway: to an HTML parser `<` + U+200B starts no tag and `&` + U+200B no reference, so
//! `<img src=x onerror=…>` is shown as those characters and nothing runs. Nothing visible
//! changes; [`restore_defused`] takes the spaces out again (`opml import`).

pub mod atom;
pub mod cohort;
pub mod digest;
pub mod feeds;
pub mod member;
pub mod opml;
pub mod page;
pub mod remind;
pub mod report;
pub mod slug;
pub mod templates;
pub mod terminal;
pub mod view;

use std::io::Write;
use std::path::{Path, PathBuf};

/// An output could not be written.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// Writing a file failed.
    #[error("cannot write {path}: {source}. Check that the folder ([output] dir or digest_dir) is writable")]
    Write {
        /// The file that could not be written.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Serialising the Atom feed failed.
    #[error("cannot serialise atom.xml: {0}")]
    Atom(String),
    /// A template failed to load or render.
    #[error("template {name} ({origin}): {message}. Fix the template, or remove it from [output] templates to use the built-in one")]
    Template {
        /// The template's name, e.g. `digest.html`.
        name: String,
        /// `built-in` or the file it came from.
        origin: String,
        /// What minijinja said.
        message: String,
    },
    /// Reading the store failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// What writing an output did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The file.
    pub path: PathBuf,
    /// Whether its bytes changed (`false`: the file already held them and was left untouched).
    pub changed: bool,
    /// The file was removed (a page of a member no longer on the roster, say).
    pub removed: bool,
    /// The hash of the bytes the file now holds (`ids::body_hash`), when this write had them in
    /// hand: the render's record then need not read the file back.
    pub hash: Option<String>,
}

impl Written {
    /// A file left as it was: it already held the bytes it would be given.
    pub fn unchanged(path: PathBuf) -> Self {
        Written {
            path,
            changed: false,
            removed: false,
            hash: None,
        }
    }
}

impl std::fmt::Display for Written {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let verb = match (self.removed, self.changed) {
            (true, _) => "removed",
            (false, true) => "wrote",
            (false, false) => "unchanged",
        };
        write!(f, "{verb} {}", self.path.display())
    }
}

/// Writes `bytes` to `path` atomically (temp file in the same folder, fsync, rename).
/// An unchanged file is left untouched (and said to be).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<Written, RenderError> {
    write_replacing(path, bytes, true)
}

/// [`write_atomic`] without the fsync, for the public outputs of a render: a reader never sees a
/// half-written file (the rename is atomic), and a file a power loss left short or empty no
/// longer matches the hash the render record keeps, so the next run writes it again. A
/// thousand members' pages then cost a thousand renames, not a thousand waits for the disk.
pub fn write_output(path: &Path, bytes: &[u8]) -> Result<Written, RenderError> {
    write_replacing(path, bytes, false)
}

fn write_replacing(path: &Path, bytes: &[u8], sync: bool) -> Result<Written, RenderError> {
    let err = |source| RenderError::Write {
        path: path.to_path_buf(),
        source,
    };
    let hash = Some(crate::ids::body_hash(bytes));
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(Written {
            hash,
            ..Written::unchanged(path.to_path_buf())
        });
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        // The folder is made only when it is missing: a thousand pages go into one folder, and
        // making sure of it for each would lock its parent a thousand times.
        let mut file = match std::fs::File::create(&tmp) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(dir)?;
                std::fs::File::create(&tmp)?
            }
            opened => opened?,
        };
        file.write_all(bytes)?;
        if sync {
            file.sync_all()?;
        }
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(err)?;
    Ok(Written {
        path: path.to_path_buf(),
        changed: true,
        removed: false,
        hash,
    })
}

/// Removes the files of `dir` that look like ours — named `<stem>.<ext>` with a stem of
/// lower-case ASCII letters, digits, `-` and `_` — whose stem is not in `keep`: the page of a
/// member who left the roster, the feed of a team that no longer exists. Anything else in the
/// folder is left alone; a folder that does not exist holds nothing to remove.
pub fn remove_stale(
    dir: &Path,
    ext: &str,
    keep: &std::collections::HashSet<String>,
) -> Result<Vec<Written>, RenderError> {
    let err = |path: &Path, source| RenderError::Write {
        path: path.to_path_buf(),
        source,
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(err(dir, e)),
    };
    let mut stale = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| err(dir, e))?.path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Some(stem) = name.strip_suffix(&format!(".{ext}")) else {
            continue;
        };
        let ours = !stem.is_empty()
            && stem
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if ours && !keep.contains(stem) && path.is_file() {
            stale.push(path);
        }
    }
    stale.sort();
    let mut removed = Vec::new();
    for path in stale {
        std::fs::remove_file(&path).map_err(|e| err(&path, e))?;
        removed.push(Written {
            path,
            changed: true,
            removed: true,
            hash: None,
        });
    }
    Ok(removed)
}

/// Sanitises republished HTML: no script, style, event handlers or `javascript:` URLs; relative
/// URLs made absolute against `base` (the post's link) and links marked `noopener`.
pub fn sanitise_html(html: &str, base: Option<&str>) -> String {
    let mut builder = ammonia::Builder::default();
    builder.link_rel(Some("noopener noreferrer nofollow"));
    match base.and_then(|b| url::Url::parse(b).ok()) {
        Some(base) => builder.url_relative(ammonia::UrlRelative::RewriteWithBase(base)),
        None => builder.url_relative(ammonia::UrlRelative::Deny),
    };
    builder.clean(html).to_string()
}

/// The character [`xml_text`] slips in after a `<` or `&` that would start markup.
pub const DEFUSER: char = '\u{200b}';

/// Text for a text field of an XML output: control characters and U+FFFD (left by bad bytes)
/// removed, trimmed, and markup-looking text defused (see the module doc): U+200B after a `<`
/// followed by an ASCII letter, `!`, `/` or `?`, and after an `&` that starts a character
/// reference. Strict readers (and the W3C validator) also stop flagging such text as
/// undeclared markup.
pub fn xml_text(s: &str) -> String {
    let cleaned = crate::normalise::clean_text(s).replace('\u{fffd}', "");
    let mut out = String::with_capacity(cleaned.len());
    let mut rest = cleaned.as_str();
    while let Some(p) = rest.find(['<', '&']) {
        out.push_str(&rest[..=p]);
        let after = &rest[p + 1..];
        let looks_like_markup = if rest[p..].starts_with('<') {
            after.starts_with(|c: char| c.is_ascii_alphabetic() || matches!(c, '!' | '/' | '?'))
        } else {
            starts_reference(after)
        };
        if looks_like_markup {
            out.push(DEFUSER);
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// Whether the text after an `&` reads as a character reference to an HTML parser: `#…`, a
/// name that begins with a known entity (HTML decodes `&amp` without its `;`), or a name
/// closed by `;`.
fn starts_reference(after: &str) -> bool {
    let name: String = after
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    after.starts_with('#')
        || name.starts_with(|c: char| c.is_ascii_digit())
        || (!name.is_empty() && after[name.len()..].starts_with(';'))
        || (!name.is_empty()
            && (1..=name.len()).any(|n| {
                let entity = format!("&{};", &name[..n]);
                html_escape::decode_html_entities(&entity) != entity
            }))
}

/// Text read back from one of our XML outputs with [`xml_text`]'s defusing undone: a U+200B
/// right after a `<` or `&` is removed.
pub fn restore_defused(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut previous = None;
    for c in s.chars() {
        if !(c == DEFUSER && matches!(previous, Some('<' | '&'))) {
            out.push(c);
        }
        previous = Some(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_looking_text_is_defused_and_restored() {
        let z = DEFUSER;
        for (text, want) in [
            (
                "<img src=x onerror=alert(1)>".to_string(),
                format!("<{z}img src=x onerror=alert(1)>"),
            ),
            (
                "</p> <!-- x --> <?php".into(),
                format!("<{z}/p> <{z}!-- x --> <{z}?php"),
            ),
            ("<!channel> 긴급".into(), format!("<{z}!channel> 긴급")),
            ("1 < 2, a<3, <가>".into(), "1 < 2, a<3, <가>".into()),
            ("R&D, AT&T, a & b".into(), "R&D, AT&T, a & b".into()),
            (
                "&amp; &lt &#60; &#x3c; &foo; &copy".into(),
                format!("&{z}amp; &{z}lt &{z}#60; &{z}#x3c; &{z}foo; &{z}copy"),
            ),
            (" 제목\u{8}\u{fffd} ".into(), "제목".into()),
        ] {
            let defused = xml_text(&text);
            assert_eq!(defused, want, "{text:?}");
            assert_eq!(
                restore_defused(&defused),
                text.trim().replace(['\u{8}', '\u{fffd}'], "")
            );
        }
    }

    #[test]
    fn sanitiser_removes_what_executes_and_absolutises_links() {
        let out = sanitise_html(
            r#"<p onclick="x()">hi<script>alert(1)</script><img src="/a.png" onerror="y()"><a href="javascript:alert(1)">j</a><style>p{}</style></p>"#,
            Some("https://blog.example/posts/1"),
        );
        assert!(
            !out.contains("script") && !out.contains("onclick") && !out.contains("onerror"),
            "{out}"
        );
        assert!(
            !out.contains("javascript:") && !out.contains("<style"),
            "{out}"
        );
        assert!(out.contains(r#"src="https://blog.example/a.png""#), "{out}");
    }

    #[test]
    fn atomic_write_replaces_whole_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out/atom.xml");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(dir.path().join("out"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1);
    }
}
