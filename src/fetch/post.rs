//! One JSON POST to a chat platform (a webhook, Slack's Web API) through the fetch stage's
//! guarded client: the same connect and whole-request timeouts, the same private-address
//! guard (`allow_private_addresses`, `allow_addresses`), no proxy, and no redirect followed.
//!
//! The address posted to is a secret (a webhook URL carries its token), so nothing this module
//! returns names it: errors speak of the host and port only, and reqwest's own messages are
//! stripped of the URL before they are read. The caller names the environment variable.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use reqwest::Client;
use url::Url;

use super::client::{guarded_client, host_port, parse_retry_after};
use super::guard::{AddressPolicy, ResolveError};
use super::{human_duration, FetchSettings, RetryAfter};

/// The most of an answer's body read: platforms answer with a word or a small JSON object.
const MAX_ANSWER: usize = 64 * 1024;

/// Posts JSON bodies under the fetch settings' limits.
pub struct Poster {
    client: Result<Client, String>,
    policy: Arc<AddressPolicy>,
    timeout: Duration,
}

/// What the platform answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// `Retry-After`, read as a delay from the moment the answer arrived.
    pub retry_after: Option<Duration>,
    /// The body as text (at most 64 KiB).
    pub body: String,
}

/// The request did not get an answer. The message names the host, never the full address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PostError(pub String);

impl Poster {
    /// A poster with the fetch stage's timeouts, User-Agent and address guard.
    pub fn new(settings: &FetchSettings) -> Self {
        let (client, policy) = guarded_client(settings);
        Poster {
            client,
            policy,
            timeout: settings.timeout,
        }
    }

    /// POSTs `body` as JSON to `url`, with `Authorization: Bearer` when a token is given.
    pub async fn post_json(
        &self,
        url: &Url,
        body: &serde_json::Value,
        bearer: Option<&str>,
    ) -> Result<Answer, PostError> {
        let client = self.client.as_ref().map_err(|e| PostError(e.clone()))?;
        let host = host_port(url);
        self.check(url, &host)?;
        let mut request = client
            .post(url.clone())
            .header(
                CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=utf-8"),
            )
            .body(serde_json::to_vec(body).unwrap_or_default());
        if let Some(token) = bearer {
            let value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
                PostError("the token holds characters a header cannot carry".into())
            })?;
            request = request.header(AUTHORIZATION, value);
        }
        let attempt = async {
            let response = request
                .send()
                .await
                .map_err(|e| PostError(describe(e, &host)))?;
            read_answer(response).await
        };
        match tokio::time::timeout(self.timeout, attempt).await {
            Ok(answer) => answer,
            Err(_) => Err(PostError(format!(
                "{host} did not answer within {}",
                human_duration(self.timeout)
            ))),
        }
    }

    /// Scheme and literal-address checks before anything is sent.
    fn check(&self, url: &Url, host: &str) -> Result<(), PostError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(PostError(format!(
                "the address is not http(s) (scheme `{}`)",
                url.scheme()
            )));
        }
        let ip = match url.host() {
            Some(url::Host::Ipv4(ip)) => ip.into(),
            Some(url::Host::Ipv6(ip)) => ip.into(),
            Some(url::Host::Domain(_)) => return Ok(()),
            None => return Err(PostError("the address has no host".into())),
        };
        self.policy
            .check(ip)
            .map_err(|refusal| PostError(format!("{host}: {refusal}")))
    }
}

/// Status, `Retry-After` and at most [`MAX_ANSWER`] bytes of the body.
async fn read_answer(response: reqwest::Response) -> Result<Answer, PostError> {
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_retry_after)
        .map(|r| match r {
            RetryAfter::Delay(d) => d,
            RetryAfter::At(at) => at
                .duration_since(std::time::SystemTime::now())
                .unwrap_or_default(),
        });
    let mut response = response;
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        body.extend_from_slice(&chunk);
        if body.len() >= MAX_ANSWER {
            body.truncate(MAX_ANSWER);
            break;
        }
    }
    Ok(Answer {
        status,
        retry_after,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// A send error in words, without the URL.
fn describe(err: reqwest::Error, host: &str) -> String {
    let err = err.without_url();
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&err);
    while let Some(e) = source {
        if let Some(resolve) = e.downcast_ref::<ResolveError>() {
            return resolve.to_string();
        }
        source = e.source();
    }
    if err.is_timeout() || err.is_connect() {
        return format!("could not connect to {host}");
    }
    let mut innermost: &(dyn std::error::Error + 'static) = &err;
    while let Some(next) = innermost.source() {
        innermost = next;
    }
    format!("could not post to {host}: {innermost}")
}
