//! `inspect`: what the tool sees in one feed — format, encoding, repairs, and each entry's
//! identity key, links, dates and length — fetched or read exactly as a run would, without
//! touching the store.

use std::path::Path;

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::fetch::{self, FeedRequest, Outcome};
use crate::normalise::{self, FeedMeta, Post};
use crate::parse::{self, ParseError, ParsedFeed};
use crate::render::terminal::{InspectedEntry, InspectedPage, Inspection};
use crate::source::FeedSource;
use crate::time::rfc3339;

/// A feed that `inspect` could not read.
#[derive(Debug, thiserror::Error)]
#[error("{source_name}: {message}")]
pub struct InspectError {
    /// What was asked for.
    pub source_name: String,
    /// What went wrong.
    pub message: String,
}

/// Fetches (or reads) one feed and shows what the tool sees, without touching the store.
pub async fn inspect(config: &Config, target: &str) -> Result<Inspection, InspectError> {
    let fail = |message: String| InspectError {
        source_name: target.to_string(),
        message,
    };
    let source = FeedSource::parse(target, Path::new("")).map_err(|e| fail(e.to_string()))?;
    let request = FeedRequest {
        index: 0,
        source: source.clone(),
        etag: None,
        last_modified: None,
        body_hash: None,
    };
    let mut result = None;
    fetch::fetch_all(&config.fetch.settings, vec![request], |r| result = Some(r)).await;
    let outcome = result
        .map(|r| r.outcome)
        .ok_or_else(|| fail("no result".into()))?;
    let (final_url, content_type, body): (String, Option<String>, Vec<u8>) = match outcome {
        Outcome::Fetched {
            final_url,
            content_type,
            body,
            ..
        } => (final_url, content_type, body),
        Outcome::NotModified { .. } => return Err(fail("not modified".into())),
        Outcome::Failed(e) => return Err(fail(e.message)),
    };
    let charset = content_type
        .as_deref()
        .and_then(parse::charset_of_content_type);
    let base = source.is_url().then_some(final_url.as_str());
    let parsed: ParsedFeed = match parse::parse(&body, charset, base, config.club.timezone) {
        Ok(parsed) => parsed,
        // Not a feed but a web page: show what the reader makes of it, as of a post's page.
        Err(ParseError::Html) => {
            return Ok(page_inspection(config, target, &source, final_url, &body, charset).await)
        }
        Err(e) => return Err(fail(e.to_string())),
    };
    let (meta, posts, warnings): (FeedMeta, Vec<Post>, Vec<String>) =
        normalise::normalise(&parsed, &source.key(), config.rounds.min_chars);
    let tz = config.club.timezone;
    let show = |t: Option<DateTime<Utc>>| t.map(|t| rfc3339(t, tz));
    Ok(Inspection {
        page: None,
        source: target.to_string(),
        final_url,
        format: parsed.format.as_str().to_string(),
        encoding: parsed.encoding.to_string(),
        repairs: parsed.repairs,
        warnings,
        title: meta.title,
        entries: posts
            .into_iter()
            .map(|p| InspectedEntry {
                key: p.key,
                title: p.title,
                link: p.link,
                normalised_link: p.normalised_link,
                published: show(p.published),
                updated: show(p.updated),
                chars: p.chars,
                warnings: p.warnings,
            })
            .collect(),
    })
}

/// `inspect` of a web page: the post-page reader on it (a frame followed for a web address).
async fn page_inspection(
    config: &Config,
    target: &str,
    source: &FeedSource,
    final_url: String,
    body: &[u8],
    charset: Option<&str>,
) -> Inspection {
    let tz = config.club.timezone;
    let read = match (source, url::Url::parse(&final_url)) {
        (FeedSource::Url(_), Ok(url)) => crate::pipeline::read_page(config, &url).await,
        _ => {
            let html = parse::decode_html(body, charset);
            let base = url::Url::parse("file:///").map_err(|e| e.to_string());
            base.map(|b| (final_url.clone(), crate::reader::read(&html, &b, tz)))
        }
    };
    let page = match read {
        Ok((at, page)) => InspectedPage::of(at, &page, tz),
        Err(why) => InspectedPage {
            final_url: final_url.clone(),
            rule: None,
            chars: None,
            text: None,
            title: None,
            published: None,
            error: Some(why),
        },
    };
    Inspection {
        source: target.to_string(),
        final_url,
        format: "html".to_string(),
        encoding: String::new(),
        repairs: Vec::new(),
        warnings: Vec::new(),
        title: page.title.clone().unwrap_or_default(),
        entries: Vec::new(),
        page: Some(page),
    }
}
