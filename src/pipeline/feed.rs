//! One feed's way through the run after its fetch: parse → normalise → store.
//!
//! [`parse`] runs on the blocking pool as soon as the fetch ends (it is CPU work); [`store`]
//! turns the outcome into a [`FetchRecord`] — with the health policy deciding when a failed
//! feed is polled next and how long a host's pause lasts — and writes it whole, in the run's
//! group commit. A failure of either is a value in the feed's [`FeedReport`], never an error of
//! the run; only a store that cannot be written stops it.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::{Config, ContentMode};
use crate::discover::sitemap::{self, Sitemap};
use crate::fetch::{FailKind, FeedResult, FetchError, Outcome};
use crate::health;
use crate::ids::TagContext;
use crate::normalise::{self, FeedMeta, Post};
use crate::parse::{self, ParseError};
use crate::render::terminal::{FeedReport, FeedStatus};
use crate::source::FeedSource;
use crate::store::{FeedRow, FetchRecord, Store, StoreError};

/// A report on `plan`'s feed that did nothing yet.
pub(super) fn report(plan: &Planned, status: FeedStatus) -> FeedReport {
    FeedReport {
        member: plan.member.clone(),
        url: plan.row.source.key(),
        status,
        new_posts: 0,
        history: 0,
        error: None,
        repairs: Vec::new(),
        elapsed: Duration::ZERO,
    }
}

/// A feed this run is about: whose it is, its place in the member's list, its stored row.
#[derive(Debug)]
pub(super) struct Planned {
    /// The member the feed belongs to.
    pub member: String,
    /// Position in the member's list (0 = first listed: its link wins a cross-post).
    pub rank: usize,
    /// What the store remembers of it.
    pub row: FeedRow,
}

/// A fetched body, parsed and normalised.
#[derive(Debug)]
pub(super) struct ParsedBody {
    meta: FeedMeta,
    posts: Vec<Post>,
    repairs: Vec<String>,
}

/// A body that is not a feed we can read, with the kind of failure it is.
#[derive(Debug)]
pub(super) struct ParseFailure {
    kind: FailKind,
    message: String,
}

/// What parsing a fetched body came to.
pub(super) type Parsed = Result<ParsedBody, ParseFailure>;

/// What the parse step needs to know of the run: the club's zone, the length rule, whether
/// posts' HTML is kept.
#[derive(Debug, Clone, Copy)]
pub(super) struct ParseRules {
    tz: chrono_tz::Tz,
    min_chars: usize,
    keep_content: bool,
}

impl ParseRules {
    /// The rules `config` sets. A post's full HTML is kept only when the merged feed republishes
    /// it (`content = "full"`): it is most of a store's bytes.
    pub(super) fn of(config: &Config) -> Self {
        Self {
            tz: config.club.timezone,
            min_chars: config.rounds.min_chars,
            keep_content: config.output.content == ContentMode::Full,
        }
    }
}

/// Parses and normalises the body of a fetched feed, taking the body (it is not needed after);
/// `None` when nothing was fetched.
pub(super) fn parse(
    result: &mut FeedResult,
    source: &FeedSource,
    rules: ParseRules,
) -> Option<Parsed> {
    let Outcome::Fetched {
        final_url,
        content_type,
        body,
        ..
    } = &mut result.outcome
    else {
        return None;
    };
    let body = std::mem::take(body);
    if looks_like_sitemap(&body) {
        return Some(sitemap_posts(&body, final_url, rules.tz));
    }
    let base = source.is_url().then_some(final_url.as_str());
    let charset = content_type
        .as_deref()
        .and_then(parse::charset_of_content_type);
    let parsed = parse::parse(&body, charset, base, rules.tz);
    // The feed model holds all that is needed from here on: the body may go before normalising.
    drop(body);
    Some(match parsed {
        Ok(parsed) => {
            let (meta, posts, _warnings) = normalise::normalise_with(
                &parsed,
                &source.key(),
                rules.min_chars,
                rules.keep_content,
            );
            Ok(ParsedBody {
                meta,
                posts,
                repairs: parsed.repairs,
            })
        }
        Err(e) => Err(ParseFailure {
            kind: match e {
                ParseError::Html => FailKind::NotAFeed,
                ParseError::Empty | ParseError::Invalid(_) => FailKind::Unreadable,
            },
            message: e.to_string(),
        }),
    })
}

/// Whether a body is a sitemap (a blog without a feed is read through its sitemap).
fn looks_like_sitemap(body: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&body[..body.len().min(1024)]);
    head.contains("<urlset") || head.contains("<sitemapindex")
}

/// A sitemap read like a feed: each address that looks like a post of the blog becomes an
/// entry known by its link, dated by its `lastmod` (as `updated`) until its page gives the
/// post's own date; title and length come from the page too.
fn sitemap_posts(body: &[u8], final_url: &str, tz: chrono_tz::Tz) -> Parsed {
    let failure = |message: String| ParseFailure {
        kind: FailKind::Unreadable,
        message,
    };
    let url = url::Url::parse(final_url).map_err(|e| failure(e.to_string()))?;
    let urls = match sitemap::parse(body, &url, tz).map_err(failure)? {
        Sitemap::Urls(urls) => urls,
        Sitemap::Index(children) => {
            return Err(failure(format!(
                "a sitemap index of {} sitemaps, not a list of posts: run `geultto-agg discover \
                 <blog>` again, or list the blog's sitemap of posts in `feeds`",
                children.len()
            )))
        }
    };
    let site = sitemap::site_of(&url);
    let posts = urls
        .into_iter()
        .filter(|u| sitemap::is_post_like(&u.loc, &site))
        .map(|u| {
            let link = u.loc.to_string();
            let normalised_link = normalise::normalise_link(&link);
            Post {
                key: format!("link:{}", normalised_link.as_deref().unwrap_or(&link)),
                title: String::new(),
                link: Some(link),
                normalised_link,
                published: None,
                updated: u.lastmod,
                summary: String::new(),
                content_html: None,
                chars: None,
                chars_from_description: false,
                warnings: vec!["from a sitemap: title, date and length come from the page".into()],
            }
        })
        .collect();
    Ok(ParsedBody {
        meta: FeedMeta {
            title: String::new(),
            id: final_url.to_string(),
            site_link: Some(site.to_string()),
            updated: None,
        },
        posts,
        repairs: Vec::new(),
    })
}

/// The result of a feed whose processing failed inside the tool (a lost parse task).
pub(super) fn internal_failure(index: usize, message: &str) -> FeedResult {
    FeedResult {
        index,
        outcome: Outcome::Failed(FetchError::new(FailKind::Other, message)),
        attempts: 1,
        elapsed: Duration::ZERO,
    }
}

/// The run's facts every stored feed shares.
pub(super) struct StoreContext<'a> {
    /// The validated config.
    pub config: &'a Config,
    /// The run's `now`.
    pub now: DateTime<Utc>,
    /// Authority and date for the ids of new posts.
    pub tag: &'a TagContext,
}

/// Stores one feed's result (its body already parsed into `parsed`) and reports what it did.
pub(super) fn store(
    cx: &StoreContext<'_>,
    store: &mut Store,
    plan: &Planned,
    result: FeedResult,
    parsed: Option<Parsed>,
) -> Result<FeedReport, StoreError> {
    let mut report = report(plan, FeedStatus::Failed);
    report.elapsed = result.elapsed;
    let t = cx.now.timestamp();
    match result.outcome {
        Outcome::Fetched {
            final_url,
            http_status,
            etag,
            last_modified,
            body_hash,
            permanent_redirect,
            ..
        } => match parsed.unwrap_or_else(|| {
            Err(ParseFailure {
                kind: FailKind::Other,
                message: "internal error: body not parsed".into(),
            })
        }) {
            Ok(body) => {
                let record = FetchRecord::Fetched {
                    final_url: &final_url,
                    http_status,
                    etag: etag.as_deref(),
                    last_modified: last_modified.as_deref(),
                    body_hash: &body_hash,
                    permanent_redirect: permanent_redirect.as_deref(),
                    meta: &body.meta,
                    posts: &body.posts,
                    rank: plan.rank,
                    tag: cx.tag,
                };
                let added = store.record(&plan.row, &record, t)?;
                report.status = FeedStatus::Fetched;
                report.new_posts = added.posts - added.history;
                report.history = added.history;
                report.repairs = body.repairs;
            }
            Err(failure) => {
                let failed = FetchError {
                    kind: failure.kind,
                    http_status: Some(http_status),
                    message: failure.message,
                    retry_after: None,
                };
                store_failure(cx, store, plan, failed, &mut report)?;
            }
        },
        Outcome::NotModified {
            final_url,
            http_status,
            etag,
            last_modified,
            permanent_redirect,
        } => {
            let record = FetchRecord::NotModified {
                final_url: &final_url,
                http_status,
                etag: etag.as_deref(),
                last_modified: last_modified.as_deref(),
                permanent_redirect: permanent_redirect.as_deref(),
            };
            store.record(&plan.row, &record, t)?;
            report.status = FeedStatus::NotModified;
        }
        Outcome::Failed(err) => store_failure(cx, store, plan, err, &mut report)?,
    }
    Ok(report)
}

/// A failed fetch or parse: a host's Retry-After pauses it (not a failure); anything else is
/// counted, and backoff decides when the feed is polled next.
fn store_failure(
    cx: &StoreContext<'_>,
    store: &mut Store,
    plan: &Planned,
    err: FetchError,
    report: &mut FeedReport,
) -> Result<(), StoreError> {
    let t = cx.now.timestamp();
    let record = match &err.retry_after {
        Some(retry_after) => {
            report.status = FeedStatus::Paused;
            FetchRecord::Paused {
                http_status: err.http_status,
                message: &err.message,
                until: health::pause_until(retry_after, cx.now),
            }
        }
        None => FetchRecord::Failed {
            http_status: err.http_status,
            kind: err.kind,
            error: &err.message,
            next_attempt: health::after_failure(
                &plan.row,
                t,
                cx.config.fetch.interval,
                err.http_status,
            ),
        },
    };
    store.record(&plan.row, &record, t)?;
    report.error = Some(err.message.clone());
    Ok(())
}
