//! One HTTP attempt for one feed: a conditional GET, redirects followed by hand
//! (so each hop is checked against the address guard, loops are caught, and a
//! permanent first hop is recorded), the body read chunk by chunk with a cap on
//! decompressed bytes, the whole attempt under one timeout, and every error
//! turned into a [`FetchError`] an operator can act on.

use std::error::Error as StdError;
use std::io;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::header::{
    HeaderMap, HeaderName, HeaderValue, ACCEPT, CONTENT_TYPE, ETAG, IF_MODIFIED_SINCE,
    IF_NONE_MATCH, LAST_MODIFIED, LOCATION, RETRY_AFTER,
};
use reqwest::{Client, Response, StatusCode};
use url::{Host, Url};

use super::guard::{AddressPolicy, GuardedResolver, ResolveError};
use super::{
    body_hash, human_bytes, human_duration, FailKind, FeedRequest, FetchError, FetchSettings,
    Outcome, RetryAfter, MAX_REDIRECTS,
};

/// The shared HTTP client and the limits of one run.
pub(crate) struct Fetcher {
    client: Result<Client, String>,
    policy: Arc<AddressPolicy>,
    timeout: Duration,
    connect_timeout: Duration,
    max_body: u64,
    rewrites: Vec<(String, String)>,
}

/// How far an attempt got, for the timeout message.
#[derive(Debug, Default)]
struct Progress {
    url: String,
    reading_body: bool,
    body_bytes: u64,
}

impl Progress {
    fn describe(&self) -> String {
        if self.reading_body {
            format!(
                "while reading the body of {}, {} received",
                self.url,
                human_bytes(self.body_bytes)
            )
        } else {
            format!("waiting for {} to answer", self.url)
        }
    }
}

/// The HTTP client every request of a run shares, and the address policy it enforces: the
/// settings' User-Agent and connect timeout, no redirect followed by itself (each hop is checked
/// by hand), no proxy (a proxy would resolve names itself, past the guard), and names resolved
/// through the guard. A client that cannot be built is an error to report per request.
pub(super) fn guarded_client(
    settings: &FetchSettings,
) -> (Result<Client, String>, Arc<AddressPolicy>) {
    let policy = Arc::new(AddressPolicy {
        allow_private: settings.allow_private_addresses,
        allow: settings.allow_addresses.clone(),
    });
    install_crypto_provider();
    let client = Client::builder()
        .user_agent(settings.user_agent.clone())
        .connect_timeout(settings.connect_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(GuardedResolver {
            policy: Arc::clone(&policy),
        })
        .build()
        .map_err(|e| {
            format!(
                "could not set up the HTTP client: {}",
                error_text(&e.without_url())
            )
        });
    (client, policy)
}

/// Installs ring as rustls's crypto provider for the process: reqwest is built without a
/// provider of its own (a client built before this would fail), and lettre's SMTP over TLS
/// takes the installed one too. A second call changes nothing: the first provider stays.
fn install_crypto_provider() {
    let _already_installed = rustls::crypto::ring::default_provider().install_default();
}

impl Fetcher {
    /// A client per the settings. A client that cannot be built is remembered
    /// as an error and reported for every URL feed.
    pub fn new(settings: &FetchSettings) -> Self {
        let (client, policy) = guarded_client(settings);
        Self {
            client,
            policy,
            timeout: settings.timeout,
            connect_timeout: settings.connect_timeout,
            max_body: settings.max_body,
            rewrites: settings.rewrites.clone(),
        }
    }

    /// Where a request for `url` really goes (see `FetchSettings::rewrites`).
    fn target(&self, url: &Url) -> Url {
        let text = url.as_str();
        self.rewrites
            .iter()
            .find_map(|(from, to)| {
                let rest = text.strip_prefix(from.as_str())?;
                Url::parse(&format!("{to}{rest}")).ok()
            })
            .unwrap_or_else(|| url.clone())
    }

    /// One attempt at `url`, redirects included, under the whole-request timeout.
    pub async fn fetch(&self, url: &Url, request: &FeedRequest) -> Outcome {
        let client = match &self.client {
            Ok(client) => client,
            Err(message) => {
                return Outcome::Failed(FetchError::new(FailKind::Other, message.clone()))
            }
        };
        let mut progress = Progress {
            url: url.to_string(),
            ..Progress::default()
        };
        let attempt = self.follow(client, url, request, &mut progress);
        match tokio::time::timeout(self.timeout, attempt).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(err)) => Outcome::Failed(err),
            Err(_) => Outcome::Failed(FetchError::new(
                FailKind::Timeout,
                format!(
                    "timed out after {} {}",
                    human_duration(self.timeout),
                    progress.describe()
                ),
            )),
        }
    }

    /// Requests `start` and follows its redirects by hand: every hop is checked against the
    /// address guard, a loop or too many hops end the attempt, and a permanent first hop is
    /// recorded in the outcome.
    async fn follow(
        &self,
        client: &Client,
        start: &Url,
        request: &FeedRequest,
        progress: &mut Progress,
    ) -> Result<Outcome, FetchError> {
        check_target(&self.target(start), &self.policy)
            .map_err(|(kind, why)| FetchError::new(kind, why))?;
        let mut current = start.clone();
        let mut visited: Vec<Url> = Vec::new();
        let mut permanent_redirect = None;
        loop {
            progress.url = current.to_string();
            let response = send(client, &self.target(&current), request)
                .await
                .map_err(|e| self.send_error(&e, &current, !visited.is_empty()))?;
            let status = response.status();
            if !status.is_redirection() || status == StatusCode::NOT_MODIFIED {
                let final_url = current.to_string();
                return self
                    .outcome_of(response, final_url, permanent_redirect, request, progress)
                    .await;
            }
            let target = redirect_target(&response, &current)?;
            if visited.is_empty()
                && matches!(
                    status,
                    StatusCode::MOVED_PERMANENTLY | StatusCode::PERMANENT_REDIRECT
                )
            {
                permanent_redirect = Some(target.to_string());
            }
            visited.push(current.clone());
            self.check_redirect(&current, &target, &visited)?;
            tracing::debug!(from = %current, to = %target, %status, "following redirect");
            current = target;
        }
    }

    /// Refuses a redirect from `current` to `target` that loops back to an address already
    /// `visited`, goes over [`MAX_REDIRECTS`], or leads where the address guard forbids.
    fn check_redirect(
        &self,
        current: &Url,
        target: &Url,
        visited: &[Url],
    ) -> Result<(), FetchError> {
        if visited.contains(target) {
            return Err(FetchError::new(
                FailKind::Redirects,
                format!("redirect loop: {current} redirects back to {target}"),
            ));
        }
        if visited.len() > MAX_REDIRECTS {
            return Err(FetchError::new(
                FailKind::Redirects,
                format!("too many redirects (over {MAX_REDIRECTS}), the last to {target}"),
            ));
        }
        check_target(&self.target(target), &self.policy).map_err(|(kind, why)| {
            let kind = if kind == FailKind::Private {
                kind
            } else {
                FailKind::Redirects
            };
            FetchError::new(
                kind,
                format!("redirect from {current} to {target} refused: {why}"),
            )
        })
    }

    /// The outcome of the response from `final_url`, the last hop: not modified (by status, or
    /// by a body unchanged since the last fetch), an HTTP error, or the body read under the cap.
    async fn outcome_of(
        &self,
        response: Response,
        final_url: String,
        permanent_redirect: Option<String>,
        request: &FeedRequest,
        progress: &mut Progress,
    ) -> Result<Outcome, FetchError> {
        let status = response.status();
        let headers = response.headers();
        let etag = header_text(headers, &ETAG);
        let last_modified = header_text(headers, &LAST_MODIFIED);

        // Nothing new: the validators to keep are this response's, else the ones sent.
        let not_modified =
            |etag: Option<String>, last_modified: Option<String>, permanent_redirect, final_url| {
                Outcome::NotModified {
                    final_url,
                    http_status: status.as_u16(),
                    etag: etag.or_else(|| request.etag.clone()),
                    last_modified: last_modified.or_else(|| request.last_modified.clone()),
                    permanent_redirect,
                }
            };
        if status == StatusCode::NOT_MODIFIED {
            return Ok(not_modified(
                etag,
                last_modified,
                permanent_redirect,
                final_url,
            ));
        }
        if !status.is_success() {
            return Err(http_error(&response));
        }

        let content_type = header_text(headers, &CONTENT_TYPE);
        let body = read_body(response, self.max_body, progress).await?;
        let body_hash = body_hash(&body);
        if request.body_hash.as_deref() == Some(body_hash.as_str()) {
            return Ok(not_modified(
                etag,
                last_modified,
                permanent_redirect,
                final_url,
            ));
        }
        Ok(Outcome::Fetched {
            final_url,
            http_status: status.as_u16(),
            content_type,
            etag,
            last_modified,
            body,
            body_hash,
            permanent_redirect,
        })
    }

    /// Words for an error of `send` (no response at all).
    fn send_error(&self, err: &reqwest::Error, url: &Url, redirected: bool) -> FetchError {
        let prefix = if redirected {
            format!("redirect to {url} failed: ")
        } else {
            String::new()
        };
        let host = host_port(url);
        if let Some(resolve) = find_in_chain::<ResolveError>(err) {
            let kind = match resolve {
                ResolveError::Refused { .. } => FailKind::Private,
                ResolveError::Lookup { .. } | ResolveError::Empty { .. } => FailKind::Dns,
            };
            return FetchError::new(kind, format!("{prefix}{resolve}"));
        }
        if err.is_timeout() {
            return FetchError::new(
                FailKind::Timeout,
                format!(
                    "{prefix}could not connect to {host} within {}",
                    human_duration(self.connect_timeout)
                ),
            );
        }
        if let Some(io_err) = find_in_chain::<io::Error>(err) {
            let what = match io_err.kind() {
                io::ErrorKind::ConnectionRefused => Some("connection refused by"),
                io::ErrorKind::ConnectionReset => Some("connection reset by"),
                io::ErrorKind::ConnectionAborted => Some("connection aborted by"),
                io::ErrorKind::HostUnreachable => Some("no route to"),
                io::ErrorKind::NetworkUnreachable => Some("network unreachable for"),
                _ => None,
            };
            if let Some(what) = what {
                return FetchError::new(FailKind::Connect, format!("{prefix}{what} {host}"));
            }
        }
        let kind = if err.is_builder() {
            FailKind::Other
        } else {
            FailKind::Connect
        };
        FetchError::new(
            kind,
            format!("{prefix}could not fetch from {host}: {}", error_text(err)),
        )
    }
}

async fn send(client: &Client, url: &Url, request: &FeedRequest) -> reqwest::Result<Response> {
    let mut builder = client
        .get(url.clone())
        .header(ACCEPT, HeaderValue::from_static(super::ACCEPT));
    let validators = [
        (IF_NONE_MATCH, &request.etag),
        (IF_MODIFIED_SINCE, &request.last_modified),
    ];
    for (name, value) in validators {
        if let Some(value) = value {
            match HeaderValue::from_str(value) {
                Ok(v) => builder = builder.header(name, v),
                Err(_) => {
                    tracing::debug!(%url, %name, "stored validator is not a valid header value; not sent")
                }
            }
        }
    }
    builder.send().await
}

/// Scheme and literal-address checks for a URL about to be requested.
fn check_target(url: &Url, policy: &AddressPolicy) -> Result<(), (FailKind, String)> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err((
            FailKind::Other,
            format!(
                "unsupported URL scheme `{}` in {url} (only http and https)",
                url.scheme()
            ),
        ));
    }
    let ip = match url.host() {
        Some(Host::Ipv4(ip)) => ip.into(),
        Some(Host::Ipv6(ip)) => ip.into(),
        Some(Host::Domain(_)) => return Ok(()), // checked by the resolver
        None => return Err((FailKind::Other, format!("no host in {url}"))),
    };
    policy
        .check(ip)
        .map_err(|refusal| (FailKind::Private, refusal.to_string()))
}

fn redirect_target(response: &Response, current: &Url) -> Result<Url, FetchError> {
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty());
    let Some(location) = location else {
        let mut err = FetchError::new(
            FailKind::Http,
            format!("server says {status} (a redirect) but gives no usable Location header"),
        );
        err.http_status = Some(status);
        return Err(err);
    };
    current.join(location).map_err(|e| {
        FetchError::new(
            FailKind::Redirects,
            format!("{current} redirects to `{location}`, which is not a valid URL ({e})"),
        )
    })
}

async fn read_body(
    mut response: Response,
    max_body: u64,
    progress: &mut Progress,
) -> Result<Vec<u8>, FetchError> {
    let too_large = || {
        FetchError::new(
            FailKind::TooLarge,
            format!(
                "body larger than {} after decompression (raise [fetch] max_body if this feed is legitimate)",
                human_bytes(max_body)
            ),
        )
    };
    // Without Content-Encoding the announced length is the real one: no need to download.
    if response.content_length().is_some_and(|n| n > max_body) {
        return Err(too_large());
    }
    progress.reading_body = true;
    let mut body = Vec::new();
    loop {
        let chunk = match response.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(err) => return Err(body_error(&err, progress.body_bytes)),
        };
        let total = (body.len() as u64).saturating_add(chunk.len() as u64);
        if total > max_body {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
        progress.body_bytes = total;
    }
    Ok(body)
}

fn body_error(err: &reqwest::Error, received: u64) -> FetchError {
    let invalid_data =
        find_in_chain::<io::Error>(err).is_some_and(|e| e.kind() == io::ErrorKind::InvalidData);
    if invalid_data {
        FetchError::new(
            FailKind::Other,
            format!("the body could not be decompressed: {}", error_text(err)),
        )
    } else {
        FetchError::new(
            FailKind::Connect,
            format!(
                "connection broken while reading the body ({} received): {}",
                human_bytes(received),
                error_text(err)
            ),
        )
    }
}

fn http_error(response: &Response) -> FetchError {
    let status = response.status();
    let code = status.as_u16();
    let retry_after = if matches!(code, 429 | 503) {
        response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after)
    } else {
        None
    };
    let hint = match code {
        401 | 403 => "access denied; the host may block bots or need a login",
        404 => "the blog may have moved, or the feed URL is wrong",
        408 => "the server gave up waiting for the request",
        410 => "the feed is gone for good",
        429 => "too many requests",
        400..=499 => "the server refused the request",
        500..=599 => "the server failed; it is usually temporary",
        _ => "not a status a feed can be read from",
    };
    let reason = status
        .canonical_reason()
        .map(|r| format!(" ({r})"))
        .unwrap_or_default();
    let wait = match retry_after {
        Some(RetryAfter::Delay(d)) => format!("; it asks us to wait {}", human_duration(d)),
        Some(RetryAfter::At(t)) => format!(
            "; it asks us to wait until {}",
            chrono::DateTime::<chrono::Utc>::from(t).format("%Y-%m-%d %H:%M:%S UTC")
        ),
        None => String::new(),
    };
    FetchError {
        kind: FailKind::Http,
        http_status: Some(code),
        message: format!("server says {code}{reason}: {hint}{wait}"),
        retry_after,
    }
}

/// `Retry-After` as delay-seconds or an HTTP-date (IMF-fixdate, RFC 850 or asctime).
pub(crate) fn parse_retry_after(value: &str) -> Option<RetryAfter> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    if value.bytes().all(|b| b.is_ascii_digit()) {
        let secs = value.parse::<u64>().unwrap_or(u64::MAX);
        return Some(RetryAfter::Delay(Duration::from_secs(secs)));
    }
    let timestamp = chrono::DateTime::parse_from_rfc2822(value)
        .map(|d| d.timestamp())
        .or_else(|_| {
            chrono::NaiveDateTime::parse_from_str(value, "%A, %d-%b-%y %H:%M:%S GMT")
                .map(|d| d.and_utc().timestamp())
        })
        .or_else(|_| {
            chrono::NaiveDateTime::parse_from_str(value, "%a %b %e %H:%M:%S %Y")
                .map(|d| d.and_utc().timestamp())
        })
        .ok()?;
    let secs = u64::try_from(timestamp).ok()?;
    SystemTime::UNIX_EPOCH
        .checked_add(Duration::from_secs(secs))
        .map(RetryAfter::At)
}

fn header_text(headers: &HeaderMap, name: &HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

pub(super) fn host_port(url: &Url) -> String {
    match (url.host_str(), url.port_or_known_default()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        (None, _) => url.to_string(),
    }
}

fn find_in_chain<'a, T: StdError + 'static>(err: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    let mut current = Some(err);
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        current = e.source();
    }
    None
}

/// The innermost cause of an error, which is where the useful words are
/// (reqwest's outer layers say "error sending request for url (...)").
fn error_text(err: &(dyn StdError + 'static)) -> String {
    let mut innermost = err;
    while let Some(next) = innermost.source() {
        innermost = next;
    }
    innermost.to_string()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        assert_eq!(
            parse_retry_after("120"),
            Some(RetryAfter::Delay(Duration::from_secs(120)))
        );
        assert_eq!(
            parse_retry_after(" 0 "),
            Some(RetryAfter::Delay(Duration::ZERO))
        );
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(RetryAfter::At(at))
        );
        assert_eq!(
            parse_retry_after("Wednesday, 21-Oct-15 07:28:00 GMT"),
            Some(RetryAfter::At(at))
        );
        assert_eq!(
            parse_retry_after("Wed Oct 21 07:28:00 2015"),
            Some(RetryAfter::At(at))
        );
        assert_eq!(parse_retry_after(""), None);
        assert_eq!(parse_retry_after("-5"), None);
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn only_http_and_https_are_fetched() {
        let policy = AddressPolicy::default();
        let url = Url::parse("ftp://example.org/feed").unwrap();
        assert_eq!(check_target(&url, &policy).unwrap_err().0, FailKind::Other);
        let url = Url::parse("http://127.1/feed").unwrap();
        assert_eq!(
            check_target(&url, &policy).unwrap_err().0,
            FailKind::Private
        );
        let url = Url::parse("http://[::ffff:10.0.0.1]/feed").unwrap();
        assert_eq!(
            check_target(&url, &policy).unwrap_err().0,
            FailKind::Private
        );
        let url = Url::parse("https://example.org/feed").unwrap();
        assert!(check_target(&url, &policy).is_ok());
    }
}
