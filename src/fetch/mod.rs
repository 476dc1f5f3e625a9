//! The fetch stage: turns a list of feed requests into one [`Outcome`] per feed.
//! It owns the HTTP client (conditional GET, decompression, a body cap that counts
//! decompressed bytes, whole-request timeouts, redirects followed by hand so each
//! hop is checked), the private-address guard, the global and per-host
//! concurrency caps, and the in-run retries of transient errors. A failure is a
//! value ([`Outcome::Failed`]), never an `Err` or a panic, and each result is
//! handed to the caller as soon as its feed finishes so it can be stored at once.
//! Local paths are read with the same cap and the same unchanged-body rule.

mod client;
mod guard;
mod hosts;
mod local;
mod post;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

pub use guard::{CidrError, IpCidr};
pub use hosts::{registrable_domain, Domain, Hostname};
pub use post::{Answer, PostError, Poster};

use crate::ids::body_hash;
use crate::source::FeedSource;
use client::Fetcher;
use hosts::HostLimits;

/// Redirect hops followed before giving up.
pub const MAX_REDIRECTS: usize = 10;

/// The `Accept` header sent with every feed request.
pub const ACCEPT: &str = "application/atom+xml, application/rss+xml, application/feed+json, \
                          application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8";

/// How the fetch stage behaves; built from the `[fetch]` table of `feeds.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchSettings {
    /// Requests in flight at once over all hosts (0 is treated as 1).
    pub concurrency: usize,
    /// Requests in flight at once per registrable domain; 0 = no cap.
    pub per_host: usize,
    /// Whole-request timeout per attempt: connecting, redirects, headers and body.
    pub timeout: Duration,
    /// Timeout for establishing one TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// Largest body accepted, in bytes after decompression.
    pub max_body: u64,
    /// `User-Agent` header value.
    pub user_agent: String,
    /// Allow loopback, private, link-local and other non-public addresses.
    pub allow_private_addresses: bool,
    /// Networks exempt from the private-address refusal.
    pub allow_addresses: Vec<IpCidr>,
    /// Extra attempts for transient errors within one run.
    pub retries: u32,
    /// Base of the jittered exponential backoff between attempts.
    pub retry_base: Duration,
    /// URL prefixes requested elsewhere: a request for a URL starting with the first string
    /// goes to the second string plus the rest. What the caller sees (final URLs, redirect
    /// targets, messages) keeps the original address. Empty in normal use; tests use it to
    /// stand a local server in for a platform's host (`https://velog.io` → `http://127.0.0.2:…`).
    pub rewrites: Vec<(String, String)>,
}

/// The `User-Agent` written in `feeds.toml` when none is set; `VERSION` becomes this build's.
pub const USER_AGENT_TEMPLATE: &str = "geultto-agg/VERSION (+https://geultto.github.io/)";

/// A `User-Agent` from its template: `VERSION` is replaced by this build's version.
pub fn user_agent(template: &str) -> String {
    template.replace("VERSION", env!("CARGO_PKG_VERSION"))
}

/// The defaults of `[fetch]`: the README's table lists these values.
impl Default for FetchSettings {
    fn default() -> Self {
        Self {
            concurrency: 32,
            per_host: 4,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_body: 10 * 1024 * 1024,
            user_agent: user_agent(USER_AGENT_TEMPLATE),
            allow_private_addresses: false,
            allow_addresses: Vec::new(),
            retries: 2,
            retry_base: Duration::from_millis(500),
            rewrites: Vec::new(),
        }
    }
}

/// One feed to fetch, with what the store remembers of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedRequest {
    /// The caller's index for this feed; echoed in [`FeedResult::index`].
    pub index: usize,
    /// Where to fetch it.
    pub source: FeedSource,
    /// `ETag` of the last successful fetch, sent as `If-None-Match`.
    pub etag: Option<String>,
    /// `Last-Modified` of the last successful fetch, sent as `If-Modified-Since`.
    pub last_modified: Option<String>,
    /// [`body_hash`] of the last body processed: an identical body is "not modified".
    pub body_hash: Option<String>,
}

/// What fetching one feed came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A new body to parse.
    Fetched {
        /// The URL the body came from after redirects (or the path as given).
        final_url: String,
        /// The final HTTP status (2xx; 200 for a local file).
        http_status: u16,
        /// The `Content-Type` header, if any (it may carry the charset).
        content_type: Option<String>,
        /// The new `ETag`, if any.
        etag: Option<String>,
        /// The new `Last-Modified`, if any.
        last_modified: Option<String>,
        /// The body, decompressed, at most `max_body` bytes; may be empty.
        body: Vec<u8>,
        /// [`body_hash`] of `body`.
        body_hash: String,
        /// The target of the first redirect hop when that hop was a 301 or 308.
        permanent_redirect: Option<String>,
    },
    /// Nothing new: a 304, or a body identical to the last one processed.
    NotModified {
        /// The URL answered from after redirects (or the path as given).
        final_url: String,
        /// 304, or the 2xx status of a response whose body hash was unchanged.
        http_status: u16,
        /// The validator to keep: from this response, else the one sent.
        etag: Option<String>,
        /// The validator to keep: from this response, else the one sent.
        last_modified: Option<String>,
        /// The target of the first redirect hop when that hop was a 301 or 308.
        permanent_redirect: Option<String>,
    },
    /// The feed could not be fetched this run.
    Failed(FetchError),
}

/// The kind of a feed's failure: the fetch stage's own kinds, and the two the parse stage adds
/// (the body was a web page, or not a readable feed). Stored with the feed, so the advice an
/// operator gets follows from the kind, never from the words of the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailKind {
    /// The whole request, or connecting, took too long.
    Timeout,
    /// No connection: refused, reset, unreachable, TLS failure.
    Connect,
    /// The host's name did not resolve to any address.
    Dns,
    /// The server answered with a status other than 2xx or 304.
    Http,
    /// The body was larger than `max_body` after decompression.
    TooLarge,
    /// Too many redirects, a loop, or a redirect that cannot be followed.
    Redirects,
    /// The URL, a redirect or a name pointed at a refused (private) address.
    Private,
    /// A local file could not be read.
    Io,
    /// An HTML page came back where a feed was expected (the blog's homepage, say).
    NotAFeed,
    /// The body was empty or not a feed we can read, even after repairs.
    Unreadable,
    /// Anything else (bad URL scheme, undecodable body, internal error).
    Other,
}

impl FailKind {
    /// Every kind, for reading a stored name back.
    pub const ALL: [FailKind; 11] = [
        FailKind::Timeout,
        FailKind::Connect,
        FailKind::Dns,
        FailKind::Http,
        FailKind::TooLarge,
        FailKind::Redirects,
        FailKind::Private,
        FailKind::Io,
        FailKind::NotAFeed,
        FailKind::Unreadable,
        FailKind::Other,
    ];

    /// The name the store keeps.
    pub fn as_str(self) -> &'static str {
        match self {
            FailKind::Timeout => "timeout",
            FailKind::Connect => "connect",
            FailKind::Dns => "dns",
            FailKind::Http => "http",
            FailKind::TooLarge => "too-large",
            FailKind::Redirects => "redirects",
            FailKind::Private => "private",
            FailKind::Io => "io",
            FailKind::NotAFeed => "not-a-feed",
            FailKind::Unreadable => "unreadable",
            FailKind::Other => "other",
        }
    }
}

impl std::fmt::Display for FailKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text names no failure kind.
#[derive(Debug, thiserror::Error)]
#[error("unknown failure kind `{0}`")]
pub struct UnknownFailKind(String);

impl std::str::FromStr for FailKind {
    type Err = UnknownFailKind;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FailKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownFailKind(s.to_string()))
    }
}

/// When a server asked us to come back (`Retry-After`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAfter {
    /// `Retry-After: <seconds>`: relative to when the response arrived.
    Delay(Duration),
    /// `Retry-After: <HTTP-date>`: an absolute time.
    At(SystemTime),
}

impl RetryAfter {
    /// The moment to wait for, given the time the response was received
    /// (the caller's `now`, so `--now` applies).
    pub fn deadline(&self, now: SystemTime) -> SystemTime {
        match self {
            Self::Delay(d) => now.checked_add(*d).unwrap_or(now),
            Self::At(t) => *t,
        }
    }
}

/// Why a feed failed, in words for an operator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FetchError {
    /// What kind of failure.
    pub kind: FailKind,
    /// The HTTP status, when the server answered.
    pub http_status: Option<u16>,
    /// What happened and, where it helps, what to do.
    pub message: String,
    /// Set for a 429 or 503 carrying `Retry-After`: the host asks to be left alone.
    pub retry_after: Option<RetryAfter>,
}

impl FetchError {
    /// A failure without an HTTP status.
    pub fn new(kind: FailKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            http_status: None,
            message: message.into(),
            retry_after: None,
        }
    }

    /// Whether trying again within this run may help: timeouts, connection
    /// errors, and 408, 429, 500, 502, 503, 504 without `Retry-After`.
    pub fn is_transient(&self) -> bool {
        match self.kind {
            FailKind::Timeout | FailKind::Connect | FailKind::Dns => true,
            FailKind::Http => {
                self.retry_after.is_none()
                    && matches!(self.http_status, Some(408 | 429 | 500 | 502 | 503 | 504))
            }
            FailKind::TooLarge
            | FailKind::Redirects
            | FailKind::Private
            | FailKind::Io
            | FailKind::NotAFeed
            | FailKind::Unreadable
            | FailKind::Other => false,
        }
    }
}

/// The result for one feed, delivered as soon as that feed is done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedResult {
    /// [`FeedRequest::index`] of the request.
    pub index: usize,
    /// How the fetch ended.
    pub outcome: Outcome,
    /// Attempts made (1 + retries used).
    pub attempts: u32,
    /// Time from the start of the first attempt to the result (queueing for a
    /// slot before the first attempt is not counted; backoff between attempts is).
    pub elapsed: Duration,
}

/// Shared by every feed task of one run.
struct Shared {
    settings: FetchSettings,
    fetcher: Fetcher,
    global: Arc<Semaphore>,
    hosts: HostLimits,
}

/// One HTTP client with its caps, for requests made one at a time (discovery reads pages and
/// probes candidate feeds through it). Cheap to clone; every clone shares the client, the
/// global cap and the per-host caps.
#[derive(Clone)]
pub struct Session {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("settings", &self.shared.settings)
            .finish()
    }
}

impl Session {
    /// A client per `settings`; hosts are capped as they are met.
    pub fn new(settings: &FetchSettings) -> Self {
        Self::with_hosts(settings, std::iter::empty())
    }

    fn with_hosts(settings: &FetchSettings, hosts: impl IntoIterator<Item = Domain>) -> Self {
        Self {
            shared: Arc::new(Shared {
                settings: settings.clone(),
                fetcher: Fetcher::new(settings),
                global: Arc::new(Semaphore::new(settings.concurrency.max(1))),
                hosts: HostLimits::new(settings.per_host, hosts),
            }),
        }
    }

    /// The settings this session was made with.
    pub fn settings(&self) -> &FetchSettings {
        &self.shared.settings
    }

    /// Fetches one URL (no validators), with the same guard, caps and in-run retries as
    /// [`fetch_all`]. Never fails: a failure is [`Outcome::Failed`].
    pub async fn get(&self, url: &url::Url) -> FeedResult {
        let (result, _) = run_feed(
            &self.shared,
            None,
            FeedRequest {
                index: 0,
                source: FeedSource::Url(url.clone()),
                etag: None,
                last_modified: None,
                body_hash: None,
            },
        )
        .await;
        result
    }
}

/// Fetches every request, one task per feed, and calls `on_result` for each
/// feed as soon as it is done (in completion order, not request order).
///
/// At most `concurrency` requests run at once, and at most `per_host` per
/// registrable domain; a task takes its host's permit before a global one, so
/// a feed waiting for a busy host never holds a global slot. Transient failures
/// are retried `retries` times with jittered exponential backoff, releasing
/// both permits while waiting. Every request yields exactly one result; this
/// function never fails and never panics on bad input. It must run inside a
/// Tokio runtime.
pub async fn fetch_all(
    settings: &FetchSettings,
    requests: Vec<FeedRequest>,
    mut on_result: impl FnMut(FeedResult),
) {
    fetch_all_admitted(settings, requests, None, |result, _| on_result(result)).await;
}

/// [`fetch_all`] with backpressure: see [`Session::fetch_all_admitted`].
pub async fn fetch_all_admitted(
    settings: &FetchSettings,
    requests: Vec<FeedRequest>,
    admission: Option<Arc<Semaphore>>,
    on_result: impl FnMut(FeedResult, Option<OwnedSemaphorePermit>),
) {
    let session = Session::with_hosts(
        settings,
        requests
            .iter()
            .filter_map(|r| match &r.source {
                FeedSource::Url(u) => Domain::of(u),
                FeedSource::Path(_) => None,
            })
            .collect::<Vec<_>>(),
    );
    session
        .fetch_all_admitted(requests, admission, on_result)
        .await;
}

impl Session {
    /// [`fetch_all`] with backpressure, for a caller that handles results more slowly than they
    /// may arrive: a feed's first request starts only once it holds one of `admission`'s
    /// permits (taken after its host's permit and before a global one, so a feed waiting for a
    /// busy host holds none), and the permit is handed to `on_result` with the result. The
    /// caller drops it when it is done with the result, so at most `admission`'s permits' worth
    /// of results are in hand at once, however slow the caller.
    pub async fn fetch_all_admitted(
        &self,
        requests: Vec<FeedRequest>,
        admission: Option<Arc<Semaphore>>,
        mut on_result: impl FnMut(FeedResult, Option<OwnedSemaphorePermit>),
    ) {
        let mut tasks = JoinSet::new();
        let mut index_of = std::collections::HashMap::new();
        for request in requests {
            let index = request.index;
            let shared = Arc::clone(&self.shared);
            let admission = admission.clone();
            let handle = tasks.spawn(async move { run_feed(&shared, admission, request).await });
            index_of.insert(handle.id(), index);
        }

        while let Some(joined) = tasks.join_next_with_id().await {
            let (result, admitted) = match joined {
                Ok((_, done)) => done,
                Err(err) => {
                    // A panic or cancellation inside a task must not lose the feed.
                    tracing::error!(error = %err, "fetch task ended abnormally");
                    let result = FeedResult {
                        index: index_of.get(&err.id()).copied().unwrap_or(usize::MAX),
                        outcome: Outcome::Failed(FetchError::new(
                            FailKind::Other,
                            format!("internal error while fetching: {err}"),
                        )),
                        attempts: 1,
                        elapsed: Duration::ZERO,
                    };
                    (result, None)
                }
            };
            on_result(result, admitted);
        }
    }
}

/// Takes one of `admission`'s permits, if there is a limit.
async fn admit(admission: Option<&Arc<Semaphore>>) -> Option<OwnedSemaphorePermit> {
    match admission {
        Some(sem) => Arc::clone(sem).acquire_owned().await.ok(),
        None => None,
    }
}

async fn run_feed(
    shared: &Shared,
    admission: Option<Arc<Semaphore>>,
    request: FeedRequest,
) -> (FeedResult, Option<OwnedSemaphorePermit>) {
    let url = match &request.source {
        FeedSource::Path(path) => {
            let admitted = admit(admission.as_ref()).await;
            let _permit = shared.global.acquire().await;
            let start = Instant::now();
            let outcome = local::read(path, &request, shared.settings.max_body).await;
            let result = FeedResult {
                index: request.index,
                outcome,
                attempts: 1,
                elapsed: start.elapsed(),
            };
            return (result, admitted);
        }
        FeedSource::Url(url) => url,
    };
    let host_limit = Domain::of(url).and_then(|d| shared.hosts.get(&d));

    let mut attempts = 0u32;
    let mut start = None;
    let mut admitted = None;
    loop {
        let outcome = {
            // Host first, then global: waiting for a busy host holds no global slot (nor an
            // admission, taken once, between the two).
            let host_permit = match &host_limit {
                Some(sem) => Some(sem.acquire().await),
                None => None,
            };
            if admitted.is_none() {
                admitted = admit(admission.as_ref()).await;
            }
            let global_permit = shared.global.acquire().await;
            if matches!(host_permit, Some(Err(_))) || global_permit.is_err() {
                Outcome::Failed(FetchError::new(
                    FailKind::Other,
                    "internal error: concurrency limiter closed",
                ))
            } else {
                start.get_or_insert_with(Instant::now);
                attempts += 1;
                // Boxed: a request's future is large, and a task still waiting for its permits
                // should not hold that much memory (a run spawns one task per feed up front).
                Box::pin(shared.fetcher.fetch(url, &request)).await
            }
        };
        let retry = match &outcome {
            Outcome::Failed(err) => err.is_transient() && attempts <= shared.settings.retries,
            _ => false,
        };
        if !retry {
            let result = FeedResult {
                index: request.index,
                outcome,
                attempts,
                elapsed: start.map(|s| s.elapsed()).unwrap_or_default(),
            };
            return (result, admitted);
        }
        let delay = backoff(shared.settings.retry_base, attempts - 1);
        if let Outcome::Failed(err) = &outcome {
            tracing::debug!(%url, attempt = attempts, ?delay, error = %err, "retrying");
        }
        tokio::time::sleep(delay).await;
    }
}

/// `base * 2^n * random(0.5..1.5)`, capped at one minute.
fn backoff(base: Duration, n: u32) -> Duration {
    let factor = 2f64.powi(n.min(16) as i32) * (0.5 + fastrand::f64());
    base.mul_f64(factor).min(Duration::from_secs(60))
}

/// "30 s", "1.5 s", "250 ms": a duration for a message.
pub(crate) fn human_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// "10 MiB", "1.5 MiB", "512 KiB", "100 bytes": a size for a message.
pub(crate) fn human_bytes(n: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * 1024;
    let (unit, name) = if n >= MIB {
        (MIB, "MiB")
    } else if n >= KIB {
        (KIB, "KiB")
    } else {
        return format!("{n} bytes");
    };
    if n.is_multiple_of(unit) {
        format!("{} {name}", n / unit)
    } else {
        format!("{:.1} {name}", n as f64 / unit as f64)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter() {
        let base = Duration::from_millis(500);
        for _ in 0..50 {
            let d0 = backoff(base, 0);
            assert!(d0 >= Duration::from_millis(250) && d0 <= Duration::from_millis(750));
            let d2 = backoff(base, 2);
            assert!(d2 >= Duration::from_millis(1000) && d2 <= Duration::from_millis(3000));
        }
        assert_eq!(
            backoff(base, 40),
            Duration::from_secs(60).min(backoff(base, 40))
        );
    }

    #[test]
    fn transient_errors() {
        let http = |status, retry_after| FetchError {
            kind: FailKind::Http,
            http_status: Some(status),
            message: String::new(),
            retry_after,
        };
        assert!(http(500, None).is_transient());
        assert!(http(503, None).is_transient());
        assert!(http(408, None).is_transient());
        assert!(!http(404, None).is_transient());
        assert!(!http(410, None).is_transient());
        assert!(!http(503, Some(RetryAfter::Delay(Duration::from_secs(5)))).is_transient());
        assert!(FetchError::new(FailKind::Timeout, "").is_transient());
        assert!(!FetchError::new(FailKind::Private, "").is_transient());
        assert!(!FetchError::new(FailKind::TooLarge, "").is_transient());
    }

    #[test]
    fn human_units() {
        assert_eq!(human_duration(Duration::from_secs(30)), "30 s");
        assert_eq!(human_duration(Duration::from_millis(1500)), "1.5 s");
        assert_eq!(human_duration(Duration::from_millis(250)), "250 ms");
        assert_eq!(human_bytes(10 * 1024 * 1024), "10 MiB");
        assert_eq!(human_bytes(1024 * 1024), "1 MiB");
        assert_eq!(human_bytes(512 * 1024), "512 KiB");
        assert_eq!(human_bytes(100), "100 bytes");
    }

    #[test]
    fn retry_after_deadline() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
        assert_eq!(
            RetryAfter::Delay(Duration::from_secs(120)).deadline(now),
            now + Duration::from_secs(120)
        );
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(5);
        assert_eq!(RetryAfter::At(at).deadline(now), at);
    }
}
