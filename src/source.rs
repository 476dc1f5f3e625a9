//! Where a feed lives: an `http(s)://` URL or a local file.
//!
//! One type from the roster to the store: the config reads it, the fetch stage polls it, the
//! store keys its rows by [`FeedSource::key`] and reads them back with [`FeedSource::from_key`],
//! and the outputs show it with [`FeedSource::label`]. Whether a feed is on the web is decided
//! here, once, and never again by looking at a string's prefix elsewhere.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where a feed lives.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FeedSource {
    /// An `http://` or `https://` URL.
    Url(url::Url),
    /// A local file (the demo runs offline), already resolved against the config's folder.
    Path(PathBuf),
}

/// Text that names a feed but is neither a web address nor a path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    /// Nothing was written.
    #[error("an empty feed; remove it")]
    Empty,
    /// It starts like a web address but does not parse as one.
    #[error("`{0}` is not an http(s) URL; write the full address, e.g. \"https://example.org/\"")]
    BadUrl(String),
    /// Another scheme (`ftp://`, `file://` …).
    #[error("`{0}`: only http(s) URLs and local paths are feeds")]
    Scheme(String),
}

impl FeedSource {
    /// Reads what a person wrote (the roster, `inspect`): an `http(s)://` URL (the scheme in any
    /// case), else a local path resolved against `base` when it is relative.
    pub fn parse(text: &str, base: &Path) -> Result<FeedSource, SourceError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(SourceError::Empty);
        }
        if is_web_address(text) {
            return url::Url::parse(text)
                .map(FeedSource::Url)
                .map_err(|_| SourceError::BadUrl(text.to_string()));
        }
        if text.contains("://") {
            return Err(SourceError::Scheme(text.to_string()));
        }
        let path = Path::new(text);
        Ok(FeedSource::Path(if path.is_absolute() {
            path.to_path_buf()
        } else {
            base.join(path)
        }))
    }

    /// The source behind a store key written by [`FeedSource::key`].
    pub fn from_key(key: &str) -> FeedSource {
        match url::Url::parse(key) {
            Ok(u) if is_web_address(key) => FeedSource::Url(u),
            _ => FeedSource::Path(PathBuf::from(key)),
        }
    }

    /// The stable text under which the store keys this feed: the URL, or the path as resolved.
    pub fn key(&self) -> String {
        match self {
            FeedSource::Url(u) => u.to_string(),
            FeedSource::Path(p) => p.display().to_string(),
        }
    }

    /// Whether the feed is on the web (not a local file).
    pub fn is_url(&self) -> bool {
        matches!(self, FeedSource::Url(_))
    }

    /// The feed as a public page may show it: its URL, or only the file name of a local path
    /// (the full path would tell readers about this machine).
    pub fn label(&self) -> String {
        match self {
            FeedSource::Url(u) => u.to_string(),
            FeedSource::Path(p) => p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| p.display().to_string()),
        }
    }
}

impl fmt::Display for FeedSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

/// Text that starts as a web address does. Schemes are case-insensitive (`HTTP://`, `Https://`
/// are web addresses too; the `url` crate writes them in lower case).
pub fn is_web_address(text: &str) -> bool {
    let starts = |prefix: &str| {
        text.get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
    };
    starts("http://") || starts("https://")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_paths_are_told_apart_once_and_read_back_from_their_keys() {
        let base = Path::new("/etc/club");
        let url = FeedSource::parse(" https://minji.tistory.com/rss ", base).unwrap();
        assert!(url.is_url());
        let path = FeedSource::parse("feeds/minji.xml", base).unwrap();
        assert_eq!(
            path,
            FeedSource::Path(PathBuf::from("/etc/club/feeds/minji.xml"))
        );
        for source in [&url, &path] {
            assert_eq!(&FeedSource::from_key(&source.key()), source);
        }
        assert_eq!(path.label(), "minji.xml");
        assert_eq!(url.label(), "https://minji.tistory.com/rss");
        assert!(matches!(
            FeedSource::parse("ftp://x.example/feed", base),
            Err(SourceError::Scheme(_))
        ));
        assert_eq!(FeedSource::parse("  ", base), Err(SourceError::Empty));
    }

    /// `HTTP://…` was taken for another scheme ("only http(s) URLs and local paths are feeds"),
    /// which stopped the whole run at config time.
    #[test]
    fn regression_an_upper_case_scheme_is_a_web_address() {
        let base = Path::new("/etc/club");
        for (text, want) in [
            ("HTTP://127.0.0.1:1/x", "http://127.0.0.1:1/x"),
            (
                "Https://Minji.Tistory.com/rss",
                "https://minji.tistory.com/rss",
            ),
            ("hTTpS://x.example", "https://x.example/"),
        ] {
            let source = FeedSource::parse(text, base).unwrap();
            assert!(source.is_url(), "{text}");
            assert_eq!(source.key(), want);
            assert_eq!(FeedSource::from_key(&source.key()), source);
        }
        assert!(matches!(
            FeedSource::parse("FTP://x.example/feed", base),
            Err(SourceError::Scheme(_))
        ));
        assert!(matches!(
            FeedSource::parse("HTTP://", base),
            Err(SourceError::BadUrl(_))
        ));
    }
}
