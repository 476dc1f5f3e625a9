//! Posting built messages to a platform and reading its answer: where each message goes (a
//! webhook from an environment variable, or Slack's Web API with a bot token), one message at a
//! time in order, paced as the platform asks, a `429` waited out and retried, and every other
//! answer turned into accepted or refused.
//!
//! The webhook URL and the token are read from the environment when a message is about to go
//! and are never put in an error, a log line or the store: errors name the variable instead,
//! and the platform's own error word (`invalid_payload`, `channel_not_found`, `Unknown Webhook`).

use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;
use url::Url;

use crate::config::{Chat, ChatKind};
use crate::fetch::{Answer, FetchSettings, Poster};

/// Slack's Web API, unless `GEULTTO_SLACK_API_BASE` points elsewhere (a proxy, a test server).
pub const SLACK_API_BASE: &str = "https://slack.com/api";
/// The variable that moves the Slack Web API.
pub const SLACK_API_BASE_ENV: &str = "GEULTTO_SLACK_API_BASE";
/// Slack asks for at most one message a second per channel (and per app for direct messages).
const SLACK_PACE: Duration = Duration::from_secs(1);
/// The longest `Retry-After` waited out; a longer one is an error to retry later.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// Attempts per message when the platform keeps answering `429`.
const ATTEMPTS: u32 = 4;

/// A message could not be delivered. Nothing in it is secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChatError {
    /// The variable `[chat]` names is not set.
    #[error("[chat] {key} names ${env}, which is not set; export the {what} in it (it never goes in feeds.toml)")]
    Unset {
        /// The `[chat]` key.
        key: &'static str,
        /// The variable's name.
        env: String,
        /// What it should hold.
        what: &'static str,
    },
    /// A message was planned for a channel `[chat]` names no variable for.
    #[error("[chat] names no variable for the {0} channel; set it, or nothing is posted there")]
    NotConfigured(String),
    /// The variable holds something that is not an http(s) address.
    #[error("${env} does not hold an http(s) webhook address; export the webhook URL the {platform} channel settings give")]
    BadUrl {
        /// The variable's name.
        env: String,
        /// Slack or Discord.
        platform: &'static str,
    },
    /// The platform answered, and refused.
    #[error("{platform} refused the message sent to ${env}: {status} {word}. {advice} Nothing was recorded for it")]
    Refused {
        /// Slack or Discord.
        platform: &'static str,
        /// The variable naming where it went.
        env: String,
        /// The HTTP status.
        status: u16,
        /// The platform's error word.
        word: String,
        /// What to do.
        advice: &'static str,
    },
    /// No answer (connection, timeout, a private address refused).
    #[error("{platform} could not be reached through ${env}: {message}. Nothing was recorded; the next run tries again")]
    Unreachable {
        /// Slack or Discord.
        platform: &'static str,
        /// The variable naming where it went.
        env: String,
        /// What went wrong (host and port at most).
        message: String,
    },
    /// Still rate-limited after waiting, or asked to wait longer than we do.
    #[error("{platform} kept the message to ${env} waiting ({why}); nothing was recorded, run again later")]
    RateLimited {
        /// Slack or Discord.
        platform: &'static str,
        /// The variable naming where it went.
        env: String,
        /// What it asked.
        why: String,
    },
}

/// How one delivery (the messages of one kind and period to one channel) ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every message was accepted (`messages` of them this run) and recorded.
    Delivered {
        /// The channel by role, e.g. `chat:members`.
        channel: String,
        /// Messages accepted this run.
        messages: usize,
    },
    /// Delivered before (and no `--force`): nothing sent.
    AlreadyDelivered {
        /// The channel by role.
        channel: String,
        /// When it was delivered, RFC 3339 in the club's zone.
        at: String,
    },
    /// Nothing to send to this channel (no recipient, no message).
    Skipped {
        /// The channel by role.
        channel: String,
        /// Why, in words.
        why: String,
    },
    /// Refused or unreachable; the messages accepted before are recorded, the rest are not.
    Failed {
        /// The channel by role.
        channel: String,
        /// Messages accepted this run before the failure.
        accepted: usize,
        /// What went wrong (names the variable, never the address).
        error: String,
    },
}

impl Outcome {
    /// Whether this delivery failed.
    pub fn failed(&self) -> bool {
        matches!(self, Outcome::Failed { .. })
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Delivered { channel, messages } => {
                write!(f, "{channel}: delivered ({messages} message(s) accepted)")
            }
            Outcome::AlreadyDelivered { channel, at } => write!(
                f,
                "{channel}: already delivered at {at}; not sent again (use --force to send anyway)"
            ),
            Outcome::Skipped { channel, why } => write!(f, "{channel}: skipped ({why})"),
            Outcome::Failed {
                channel,
                accepted,
                error,
            } => write!(
                f,
                "{channel}: NOT delivered ({accepted} message(s) accepted before): {error}"
            ),
        }
    }
}

/// Where messages go: a webhook, or Slack's `chat.postMessage` with a token.
#[derive(Debug, Clone)]
pub struct Target {
    platform: ChatKind,
    /// The variable it was read from (named in errors).
    env: String,
    url: Url,
    token: Option<String>,
}

impl Target {
    /// The webhook whose URL the variable `env` holds (`key` is the `[chat]` key naming it).
    pub fn webhook(platform: ChatKind, key: &'static str, env: &str) -> Result<Target, ChatError> {
        let value = read_env(key, env, "webhook URL")?;
        let url = Url::parse(value.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| ChatError::BadUrl {
                env: env.to_string(),
                platform: platform.name(),
            })?;
        Ok(Target {
            platform,
            env: env.to_string(),
            url,
            token: None,
        })
    }

    /// Slack's `chat.postMessage`, with the bot token the variable `env` holds, at the API base
    /// `GEULTTO_SLACK_API_BASE` names (default `https://slack.com/api`).
    pub fn slack_api(env: &str) -> Result<Target, ChatError> {
        let token = read_env("bot_token_env", env, "Slack bot token (xoxb-…)")?;
        let base = std::env::var(SLACK_API_BASE_ENV)
            .ok()
            .filter(|b| !b.trim().is_empty())
            .unwrap_or_else(|| SLACK_API_BASE.to_string());
        let url = Url::parse(&format!(
            "{}/chat.postMessage",
            base.trim().trim_end_matches('/')
        ))
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| ChatError::BadUrl {
            env: SLACK_API_BASE_ENV.to_string(),
            platform: "Slack",
        })?;
        Ok(Target {
            platform: ChatKind::Slack,
            env: env.to_string(),
            url,
            token: Some(token.trim().to_string()),
        })
    }

    /// Where the channel (by role: `chat:members`, `chat:operators`, `dm:<member>`) posts, as
    /// `[chat]` names it; `None` when `[chat]` names no variable for it.
    pub fn for_channel(chat: &Chat, channel: &str) -> Option<Result<Target, ChatError>> {
        match channel {
            "chat:members" => chat
                .members_webhook_env
                .as_deref()
                .map(|env| Target::webhook(chat.kind, "members_webhook_env", env)),
            "chat:operators" => chat
                .operators_webhook_env
                .as_deref()
                .map(|env| Target::webhook(chat.kind, "operators_webhook_env", env)),
            _ if channel.starts_with("dm:") => chat.bot_token_env.as_deref().map(Target::slack_api),
            _ => None,
        }
    }

    /// The variable naming this target.
    pub fn env(&self) -> &str {
        &self.env
    }
}

fn read_env(key: &'static str, env: &str, what: &'static str) -> Result<String, ChatError> {
    std::env::var(env)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| ChatError::Unset {
            key,
            env: env.to_string(),
            what,
        })
}

/// Posts messages one at a time, paced, with `429` waited out.
pub struct Sender {
    poster: Poster,
    last: Option<Instant>,
}

impl Sender {
    /// A sender with the fetch stage's timeouts and address guard.
    pub fn new(settings: &FetchSettings) -> Self {
        Sender {
            poster: Poster::new(settings),
            last: None,
        }
    }

    /// Posts one message to `target`; `Ok` once the platform accepted it.
    pub async fn post(&mut self, target: &Target, message: &Value) -> Result<(), ChatError> {
        let platform = target.platform.name();
        for attempt in 1..=ATTEMPTS {
            self.pace(target.platform).await;
            let answer = self
                .poster
                .post_json(&target.url, message, target.token.as_deref())
                .await
                .map_err(|e| ChatError::Unreachable {
                    platform,
                    env: target.env.clone(),
                    message: e.0,
                })?;
            self.last = Some(Instant::now());
            match judge(target, &answer) {
                Judged::Accepted => return Ok(()),
                Judged::Refused { word, advice } => {
                    return Err(ChatError::Refused {
                        platform,
                        env: target.env.clone(),
                        status: answer.status,
                        word,
                        advice,
                    })
                }
                Judged::Wait(wait) if wait > MAX_RETRY_AFTER => {
                    return Err(ChatError::RateLimited {
                        platform,
                        env: target.env.clone(),
                        why: format!("Retry-After {} s, longer than we wait", wait.as_secs()),
                    })
                }
                Judged::Wait(wait) => {
                    tracing::info!(
                        platform,
                        env = %target.env,
                        attempt,
                        wait_ms = wait.as_millis() as u64,
                        "rate-limited; waiting as asked"
                    );
                    tokio::time::sleep(wait).await;
                }
            }
        }
        Err(ChatError::RateLimited {
            platform,
            env: target.env.clone(),
            why: format!("still 429 after {ATTEMPTS} attempts"),
        })
    }

    /// Waits so that Slack messages leave at most one a second.
    async fn pace(&self, platform: ChatKind) {
        if let (ChatKind::Slack, Some(last)) = (platform, self.last) {
            tokio::time::sleep_until(last + SLACK_PACE).await;
        }
    }
}

/// What an answer means.
#[derive(Debug, PartialEq, Eq)]
enum Judged {
    Accepted,
    Wait(Duration),
    Refused { word: String, advice: &'static str },
}

/// Slack webhooks answer `200 ok`; the Web API `200 {"ok":true}`; Discord `204` (or `200` with
/// the message). `429` asks to wait; anything else is a refusal with the platform's word.
fn judge(target: &Target, answer: &Answer) -> Judged {
    let json: Option<Value> = serde_json::from_str(&answer.body).ok();
    if answer.status == 429 {
        let from_body = json
            .as_ref()
            .and_then(|j| j.get("retry_after"))
            .and_then(Value::as_f64)
            .map(|s| Duration::from_secs_f64(s.max(0.0)));
        return Judged::Wait(
            answer
                .retry_after
                .or(from_body)
                .unwrap_or(Duration::from_secs(1)),
        );
    }
    let api = target.token.is_some();
    let ok = match (target.platform, api) {
        (ChatKind::Slack, true) => {
            answer.status == 200
                && json
                    .as_ref()
                    .and_then(|j| j.get("ok"))
                    .and_then(Value::as_bool)
                    == Some(true)
        }
        (ChatKind::Slack, false) => answer.status == 200,
        (ChatKind::Discord, _) => matches!(answer.status, 200 | 204),
    };
    if ok {
        return Judged::Accepted;
    }
    let word = json
        .as_ref()
        .and_then(|j| j.get("error").or_else(|| j.get("message")))
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| answer.body.trim().chars().take(100).collect());
    Judged::Refused {
        advice: advice(answer.status, &word),
        word: if word.is_empty() {
            "(no reason given)".to_string()
        } else {
            word
        },
    }
}

/// What an operator does about a refusal.
fn advice(status: u16, word: &str) -> &'static str {
    match (status, word) {
        (_, "invalid_auth" | "not_authed" | "token_revoked" | "account_inactive") | (401, _) => {
            "The token is not valid: export a current bot token (xoxb-…)."
        }
        (_, "missing_scope") => "The bot lacks the chat:write scope: add it and reinstall the app.",
        (_, "channel_not_found" | "user_not_found") => {
            "Check the member's slack_id (the profile's Copy member ID) and that the bot is in the workspace."
        }
        (404 | 410, _) | (_, "no_service" | "channel_is_archived" | "Unknown Webhook") => {
            "The webhook no longer exists or its channel is archived: create a new one and export its URL."
        }
        (403, _) => "The workspace does not allow this post: check the app's permissions for the channel.",
        (400, _) => "The message was not accepted as built; please report this with the output of `remind`/`digest --format`.",
        _ => "Check the platform's status and run again.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(platform: ChatKind, api: bool) -> Target {
        Target {
            platform,
            env: "GEULTTO_CHAT_MEMBERS".into(),
            url: Url::parse("http://127.0.0.1:9/hook").unwrap(),
            token: api.then(|| "xoxb-1".to_string()),
        }
    }

    fn answer(status: u16, body: &str, retry_after: Option<u64>) -> Answer {
        Answer {
            status,
            retry_after: retry_after.map(Duration::from_secs),
            body: body.into(),
        }
    }

    #[test]
    fn each_platform_answer_means_what_the_platform_says() {
        let slack = target(ChatKind::Slack, false);
        let api = target(ChatKind::Slack, true);
        let discord = target(ChatKind::Discord, false);
        assert_eq!(judge(&slack, &answer(200, "ok", None)), Judged::Accepted);
        assert_eq!(judge(&discord, &answer(204, "", None)), Judged::Accepted);
        assert_eq!(
            judge(&api, &answer(200, r#"{"ok":true}"#, None)),
            Judged::Accepted
        );
        let Judged::Refused { word, .. } = judge(
            &api,
            &answer(200, r#"{"ok":false,"error":"channel_not_found"}"#, None),
        ) else {
            panic!("an ok:false answer is a refusal")
        };
        assert_eq!(word, "channel_not_found");
        let Judged::Refused { word, advice } = judge(&slack, &answer(400, "invalid_payload", None))
        else {
            panic!()
        };
        assert_eq!(word, "invalid_payload");
        assert!(advice.contains("report"));
        let Judged::Refused { word, advice } = judge(
            &discord,
            &answer(
                404,
                r#"{"message": "Unknown Webhook", "code": 10015}"#,
                None,
            ),
        ) else {
            panic!()
        };
        assert_eq!(word, "Unknown Webhook");
        assert!(advice.contains("create a new one"));
        assert_eq!(
            judge(&slack, &answer(429, "rate_limited", Some(3))),
            Judged::Wait(Duration::from_secs(3))
        );
        assert_eq!(
            judge(
                &discord,
                &answer(429, r#"{"retry_after": 0.5, "global": false}"#, None)
            ),
            Judged::Wait(Duration::from_millis(500))
        );
    }

    #[test]
    fn errors_name_the_variable_and_never_the_address() {
        std::env::remove_var("GEULTTO_TEST_UNSET_HOOK");
        let err = Target::webhook(
            ChatKind::Slack,
            "members_webhook_env",
            "GEULTTO_TEST_UNSET_HOOK",
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("$GEULTTO_TEST_UNSET_HOOK, which is not set"),
            "{err}"
        );
        let refused = ChatError::Refused {
            platform: "Slack",
            env: "GEULTTO_CHAT_MEMBERS".into(),
            status: 404,
            word: "no_service".into(),
            advice: advice(404, "no_service"),
        };
        let text = refused.to_string();
        assert!(
            text.contains("$GEULTTO_CHAT_MEMBERS: 404 no_service"),
            "{text}"
        );
        assert!(!text.contains("127.0.0.1"), "{text}");
    }
}
