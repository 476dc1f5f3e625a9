//! The raw layer: `feeds.toml` exactly as written.
//!
//! These structs mirror the file key for key (`deny_unknown_fields`; `keys.rs` derives from them
//! the keys valid in each table and reports every other one with its line), with the values that
//! need checking kept as text with their byte spans. Nothing here judges a value: `validate.rs`
//! turns them into the [`super::Config`] the rest of the program relies on. Defaults that serde
//! fills in are the documented ones. The top level is read section by section (`read.rs`), so a
//! section that cannot be read does not hide the problems of the others.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

/// The sections of the top level, as [`RawConfig`] holds them.
pub(super) const ROOT_KEYS: &[&str] = &[
    "club", "rounds", "storage", "fetch", "output", "email", "reader", "chat", "members",
];

/// The file's sections, each as far as it could be read: a required section that could not be
/// read is `None`, an optional one its default (or `None`); the reason is a reported problem.
#[derive(Debug, Default)]
pub(super) struct RawConfig {
    pub(super) club: Option<RawClub>,
    pub(super) rounds: Option<RawRounds>,
    pub(super) storage: RawStorage,
    pub(super) fetch: RawFetch,
    pub(super) output: RawOutput,
    pub(super) email: Option<RawEmail>,
    pub(super) reader: RawReader,
    pub(super) chat: Option<RawChat>,
    /// The `[[members]]` tables that could be read, each with its place in the file.
    pub(super) members: Vec<(usize, RawMember)>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawClub {
    pub(super) name: String,
    pub(super) url: Spanned<String>,
    #[serde(default = "default_timezone")]
    pub(super) timezone: Spanned<String>,
}

fn default_timezone() -> Spanned<String> {
    Spanned::new(0..0, "Asia/Seoul".to_string())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRounds {
    pub(super) start: Spanned<String>,
    pub(super) due: Option<Spanned<Vec<Spanned<String>>>>,
    pub(super) every_days: Option<Spanned<u32>>,
    pub(super) count: Option<Spanned<u32>>,
    pub(super) grace: Option<Spanned<String>>,
    #[serde(default = "default_passes")]
    pub(super) passes: u32,
    #[serde(default = "default_min_chars")]
    pub(super) min_chars: usize,
    #[serde(default = "default_penalty")]
    pub(super) penalty: u64,
    pub(super) late_after: Option<Spanned<String>>,
}

fn default_passes() -> u32 {
    2
}
fn default_min_chars() -> usize {
    1000
}
fn default_penalty() -> u64 {
    10000
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStorage {
    pub(super) path: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFetch {
    pub(super) concurrency: Option<Spanned<usize>>,
    pub(super) per_host: Option<usize>,
    pub(super) timeout: Option<Spanned<String>>,
    pub(super) connect_timeout: Option<Spanned<String>>,
    pub(super) max_body: Option<Spanned<String>>,
    pub(super) interval: Option<Spanned<String>>,
    pub(super) user_agent: Option<String>,
    pub(super) allow_private_addresses: Option<bool>,
    pub(super) allow_addresses: Option<Vec<Spanned<String>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOutput {
    pub(super) dir: Option<String>,
    pub(super) feed_url: Option<Spanned<String>>,
    pub(super) entries: Option<usize>,
    pub(super) content: Option<Spanned<String>>,
    pub(super) digest_dir: Option<String>,
    pub(super) templates: Option<String>,
    pub(super) show_statuses: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawReader {
    pub(super) pages: Option<bool>,
    pub(super) max_pages: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEmail {
    pub(super) smtp_host: String,
    #[serde(default = "default_smtp_port")]
    pub(super) smtp_port: u16,
    #[serde(default = "default_security")]
    pub(super) security: Spanned<String>,
    pub(super) username: Option<String>,
    pub(super) password_env: Option<String>,
    pub(super) from: String,
    #[serde(default)]
    pub(super) to: Vec<String>,
    #[serde(default)]
    pub(super) bcc: Vec<String>,
    #[serde(default)]
    pub(super) operators: Vec<String>,
    #[serde(default)]
    pub(super) show_missing: bool,
    pub(super) unsubscribe: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawChat {
    pub(super) kind: Spanned<String>,
    pub(super) members_webhook_env: Option<Spanned<String>>,
    pub(super) operators_webhook_env: Option<Spanned<String>>,
    pub(super) bot_token_env: Option<Spanned<String>>,
    pub(super) remind_before: Option<Spanned<String>>,
}

fn default_smtp_port() -> u16 {
    587
}
fn default_security() -> Spanned<String> {
    Spanned::new(0..0, "starttls".to_string())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMember {
    pub(super) id: Spanned<String>,
    pub(super) name: String,
    #[serde(default)]
    pub(super) team: String,
    pub(super) blog: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) feeds: Vec<Spanned<String>>,
    pub(super) joined_round: Option<Spanned<u32>>,
    pub(super) left_round: Option<Spanned<u32>>,
    #[serde(default)]
    pub(super) passes: Vec<Spanned<u32>>,
    #[serde(default)]
    pub(super) overrides: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    pub(super) extra_posts: Vec<RawExtraPost>,
    pub(super) email: Option<Spanned<String>>,
    pub(super) slack_id: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawExtraPost {
    pub(super) url: Spanned<String>,
    pub(super) date: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) title: String,
}
