//! The validated configuration: what the rest of the program relies on.
//!
//! Every value here has been checked and every default filled in: durations are durations,
//! paths are resolved against the config file's folder, members have well-formed ids and feeds.
//! Values derived from the file or the machine (the club's host, the number of cores) are
//! computed once, when the file is read.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::Duration;

use chrono::NaiveDate;
use chrono_tz::Tz;

use crate::fetch::FetchSettings;
use crate::source::FeedSource;
use crate::status::Status;

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The config file this came from.
    pub path: PathBuf,
    /// The club's name, site and zone.
    pub club: Club,
    /// Deadlines and the club's rules.
    pub rounds: Rounds,
    /// The SQLite file.
    pub storage_path: PathBuf,
    /// How feeds are polled.
    pub fetch: FetchConfig,
    /// Where and how outputs are written.
    pub output: Output,
    /// Mail settings, when the digest is sent.
    pub email: Option<Email>,
    /// Reading post pages for the length of posts whose feed gives no full text.
    pub reader: Reader,
    /// Chat delivery of the digest and the reminders, when configured.
    pub chat: Option<Chat>,
    /// The roster, in file order.
    pub members: Vec<Member>,
    /// Each member's place in `members`, by id: [`Config::member`] is asked once per post and
    /// per page, which a walk of the roster would make quadratic in the club's size.
    pub(crate) member_index: MemberIndex,
    /// CPU cores this machine offers, read once: feeds are parsed on at most this many threads.
    pub cores: usize,
}

/// `[club]`.
#[derive(Debug, Clone)]
pub struct Club {
    /// Display name, e.g. "글또 10기".
    pub name: String,
    /// The club's site, used in outputs.
    pub url: url::Url,
    /// The site's host: the naming authority of every id the tool mints (`tag:` ids,
    /// Message-IDs, the placeholder sender).
    pub host: String,
    /// The club's zone: local dates, zone-less timestamps and rounds are in it.
    pub timezone: Tz,
}

/// `[rounds]`.
#[derive(Debug, Clone)]
pub struct Rounds {
    /// Round 0: the cohort starts (local date).
    pub start: NaiveDate,
    /// Due dates of rounds 1..=n, increasing.
    pub due: Vec<NaiveDate>,
    /// Extra time after the end of a due date.
    pub grace: Duration,
    /// Passes each member may use.
    pub passes: u32,
    /// Minimum length of a post (characters without whitespace and code).
    pub min_chars: usize,
    /// KRW deducted per missed round.
    pub penalty: u64,
    /// How long after a round closes a fetch must be to count as evidence for `late`.
    pub late_after: Duration,
}

/// `[fetch]`.
#[derive(Debug, Clone)]
pub struct FetchConfig {
    /// What the fetch stage needs: caps, timeouts, body cap, User-Agent, the address guard.
    pub settings: FetchSettings,
    /// How often cron runs `fetch`: the unit of backoff.
    pub interval: Duration,
}

/// What the merged feed carries per entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentMode {
    /// A plain-text summary only.
    Summary,
    /// The summary and the sanitised full HTML.
    Full,
}

/// `[output]`.
#[derive(Debug, Clone)]
pub struct Output {
    /// Folder of the public files.
    pub dir: PathBuf,
    /// The merged feed's own address (rel="self").
    pub feed_url: url::Url,
    /// Newest entries kept in atom.xml.
    pub entries: usize,
    /// Summary or full content.
    pub content: ContentMode,
    /// Folder of the digest files.
    pub digest_dir: PathBuf,
    /// Optional folder of templates overriding the built-in ones.
    pub templates: Option<PathBuf>,
    /// Whether members' public pages show `missed`, `short` and `unverified` rounds (otherwise
    /// those rounds are shown empty).
    pub show_statuses: bool,
}

/// `[reader]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reader {
    /// Whether `fetch` reads a post's page when its feed gives no full text.
    pub pages: bool,
    /// Pages read per run at most; the rest wait for the next run.
    pub max_pages: usize,
}

/// `[email]`.
#[derive(Debug, Clone)]
pub struct Email {
    /// The SMTP server's host name.
    pub smtp_host: String,
    /// The SMTP server's port (587 for STARTTLS, 465 for TLS).
    pub smtp_port: u16,
    /// `starttls`, `tls` or `none`.
    pub security: Security,
    /// The SMTP login, when the server wants one.
    pub username: Option<String>,
    /// Name of the environment variable holding the password.
    pub password_env: Option<String>,
    /// The sender's mailbox, e.g. `글또 <bot@example.org>`.
    pub from: String,
    /// The group's addresses: the members' digest goes to them, in `To`.
    pub to: Vec<String>,
    /// Members' digest recipients who must not see each other: on the envelope only, never in
    /// a header.
    pub bcc: Vec<String>,
    /// Where a reader unsubscribes (`mailto:` or `https://`): the `List-Unsubscribe` header of
    /// the members' digest.
    pub unsubscribe: Option<String>,
    /// Operators (they also get the feed-health part).
    pub operators: Vec<String>,
    /// Whether the group digest names members who missed.
    pub show_missing: bool,
}

/// `[chat]`: where the digest and the reminders are posted. Holds names of environment
/// variables, never the webhook URLs or tokens themselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chat {
    /// Slack or Discord.
    pub kind: ChatKind,
    /// The variable holding the members' channel webhook.
    pub members_webhook_env: Option<String>,
    /// The variable holding the operators' channel webhook.
    pub operators_webhook_env: Option<String>,
    /// The variable holding a Slack bot token (direct messages to pending members).
    pub bot_token_env: Option<String>,
    /// `remind` without `--round` reminds of the open round only when it closes within this.
    pub remind_before: Duration,
}

/// A chat platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatKind {
    /// Slack: incoming webhooks with Block Kit, `chat.postMessage` for direct messages.
    Slack,
    /// Discord: webhooks with content and embeds.
    Discord,
}

impl ChatKind {
    /// `slack` or `discord`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChatKind::Slack => "slack",
            ChatKind::Discord => "discord",
        }
    }

    /// The platform's name in messages to a person.
    pub fn name(self) -> &'static str {
        match self {
            ChatKind::Slack => "Slack",
            ChatKind::Discord => "Discord",
        }
    }
}

/// SMTP transport security.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Plain connection upgraded with STARTTLS.
    StartTls,
    /// TLS from the first byte.
    Tls,
    /// No TLS (local relays, tests).
    None,
}

/// One member of the roster.
#[derive(Debug, Clone)]
pub struct Member {
    /// Stable key, `[a-z0-9_-]`.
    pub id: String,
    /// The name shown in outputs (the feed's author, the digest, the page).
    pub name: String,
    /// Team (a category in the feed, a group in the digest).
    pub team: String,
    /// The blog's homepage: discovery finds the feed from it when `feeds` is empty.
    pub blog: Option<url::Url>,
    /// Feeds, first listed first.
    pub feeds: Vec<FeedSource>,
    /// Rounds before it are exempt.
    pub joined_round: Option<u32>,
    /// Rounds after it are exempt.
    pub left_round: Option<u32>,
    /// Rounds the member passed.
    pub passes: Vec<u32>,
    /// An operator's decision per round.
    pub overrides: BTreeMap<u32, Status>,
    /// Posts recorded by hand.
    pub extra_posts: Vec<ExtraPost>,
    /// The member's own address: a short reminder mail before a round closes.
    pub email: Option<String>,
    /// The member's Slack user id (`U0123ABCD`): mentioned in reminders, and their DM.
    pub slack_id: Option<String>,
}

/// A post on a platform without a feed, recorded by hand.
#[derive(Debug, Clone)]
pub struct ExtraPost {
    /// The post's address.
    pub url: url::Url,
    /// The local date it counts on (00:00 of it decides the round); when absent, the date the
    /// post's page gives.
    pub date: Option<NaiveDate>,
    /// Its title, as the operator wrote it (empty: the page's title, else the address).
    pub title: String,
}

/// Each member's place in the roster, by id. Its `Debug` shows only its size: the config's
/// `Debug` text is part of the outputs' render key, which a map's random order would change on
/// every run (and the index says nothing the roster does not).
#[derive(Clone)]
pub struct MemberIndex(HashMap<String, usize>);

impl MemberIndex {
    /// The index [`Config::member`] reads, for `members`.
    pub(crate) fn new(members: &[Member]) -> MemberIndex {
        let mut index = HashMap::with_capacity(members.len());
        for (i, m) in members.iter().enumerate() {
            // The first of a repeated id (refused by the checks) is the one a walk would find.
            index.entry(m.id.clone()).or_insert(i);
        }
        MemberIndex(index)
    }
}

impl std::fmt::Debug for MemberIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MemberIndex({} ids)", self.0.len())
    }
}

/// The CPU cores this machine offers (2 when it cannot tell).
pub fn available_cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

impl Config {
    /// The member with this id.
    pub fn member(&self, id: &str) -> Option<&Member> {
        let indexed = self
            .member_index
            .0
            .get(id)
            .and_then(|&i| self.members.get(i));
        match indexed {
            Some(m) if m.id == id => Some(m),
            // The roster was changed after it was read (tests do): walk it.
            _ => self.members.iter().find(|m| m.id == id),
        }
    }
}
