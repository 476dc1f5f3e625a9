//! The roster and settings: `feeds.toml` as typed, then validated.
//!
//! Two layers, as ripgrep separates what the user typed from what the program uses: the `Raw*`
//! structs mirror the TOML file exactly (`deny_unknown_fields`, values kept with their byte spans),
//! and [`Config`] is what the rest of the program relies on — durations parsed, paths resolved
//! against the config file's folder, members checked. Every problem is reported with the key,
//! the line and what to do about it, and all problems of a file are reported at once.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::NaiveDate;
use chrono_tz::Tz;
use serde::Deserialize;
use toml::Spanned;

use crate::fetch::IpCidr;
use crate::rounds::Status;

/// A problem with `feeds.toml` that stops the program before it touches anything.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read at all.
    #[error("cannot read the config {path}: {source}. Pass the roster with -c PATH (default ./feeds.toml)")]
    Read {
        /// The path that was tried.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML, or has a key or value of the wrong shape.
    #[error("{path}: {}", .problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n  "))]
    Invalid {
        /// The config file.
        path: PathBuf,
        /// Every problem found, in file order.
        problems: Vec<Problem>,
    },
}

/// One problem in the config file: where, which key, what is wrong and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line in the file, when known.
    pub line: Option<usize>,
    /// Dotted key path, e.g. `fetch.timeout` or `members[3].feeds`.
    pub key: String,
    /// What is wrong and what to do.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: `{}`: {}", self.key, self.message),
            None => write!(f, "`{}`: {}", self.key, self.message),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Raw layer: exactly the file.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    club: RawClub,
    rounds: RawRounds,
    #[serde(default)]
    storage: RawStorage,
    #[serde(default)]
    fetch: RawFetch,
    #[serde(default)]
    output: RawOutput,
    email: Option<RawEmail>,
    #[serde(default)]
    members: Vec<RawMember>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClub {
    name: String,
    url: Spanned<String>,
    #[serde(default = "default_timezone")]
    timezone: Spanned<String>,
}

fn default_timezone() -> Spanned<String> {
    Spanned::new(0..0, "Asia/Seoul".to_string())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRounds {
    start: Spanned<String>,
    due: Option<Spanned<Vec<Spanned<String>>>>,
    every_days: Option<Spanned<u32>>,
    count: Option<Spanned<u32>>,
    grace: Option<Spanned<String>>,
    #[serde(default = "default_passes")]
    passes: u32,
    #[serde(default = "default_min_chars")]
    min_chars: usize,
    #[serde(default = "default_penalty")]
    penalty: u64,
    late_after: Option<Spanned<String>>,
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
struct RawStorage {
    path: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFetch {
    concurrency: Option<Spanned<usize>>,
    per_host: Option<usize>,
    timeout: Option<Spanned<String>>,
    connect_timeout: Option<Spanned<String>>,
    max_body: Option<Spanned<String>>,
    interval: Option<Spanned<String>>,
    user_agent: Option<String>,
    allow_private_addresses: Option<bool>,
    allow_addresses: Option<Vec<Spanned<String>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOutput {
    dir: Option<String>,
    feed_url: Option<Spanned<String>>,
    entries: Option<usize>,
    content: Option<Spanned<String>>,
    digest_dir: Option<String>,
    templates: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEmail {
    smtp_host: String,
    #[serde(default = "default_smtp_port")]
    smtp_port: u16,
    #[serde(default = "default_security")]
    security: Spanned<String>,
    username: Option<String>,
    password_env: Option<String>,
    from: String,
    #[serde(default)]
    to: Vec<String>,
    #[serde(default)]
    operators: Vec<String>,
    #[serde(default)]
    show_missing: bool,
}

fn default_smtp_port() -> u16 {
    587
}
fn default_security() -> Spanned<String> {
    Spanned::new(0..0, "starttls".to_string())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMember {
    id: Spanned<String>,
    name: String,
    #[serde(default)]
    team: String,
    blog: Option<Spanned<String>>,
    #[serde(default)]
    feeds: Vec<Spanned<String>>,
    joined_round: Option<Spanned<u32>>,
    left_round: Option<Spanned<u32>>,
    #[serde(default)]
    passes: Vec<u32>,
    #[serde(default)]
    overrides: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    extra_posts: Vec<RawExtraPost>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExtraPost {
    url: Spanned<String>,
    date: Spanned<String>,
    #[serde(default)]
    title: String,
}

// ---------------------------------------------------------------------------------------------
// Validated layer: what the program uses.

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
    /// The roster, in file order.
    pub members: Vec<Member>,
}

/// `[club]`.
#[derive(Debug, Clone)]
pub struct Club {
    /// Display name, e.g. "글또 10기".
    pub name: String,
    /// The club's site, used in outputs.
    pub url: url::Url,
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
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Requests in flight per registrable domain (0 = no cap).
    pub per_host: usize,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Body cap, after decompression.
    pub max_body: u64,
    /// How often cron runs `fetch`: the unit of backoff.
    pub interval: Duration,
    /// The User-Agent header.
    pub user_agent: String,
    /// Whether loopback/private addresses may be fetched.
    pub allow_private_addresses: bool,
    /// Networks exempt from the private-address refusal.
    pub allow_addresses: Vec<IpCidr>,
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
}

/// `[email]`.
#[derive(Debug, Clone)]
pub struct Email {
    /// SMTP server.
    pub smtp_host: String,
    /// SMTP port.
    pub smtp_port: u16,
    /// `starttls`, `tls` or `none`.
    pub security: Security,
    /// SMTP user.
    pub username: Option<String>,
    /// Name of the environment variable holding the password.
    pub password_env: Option<String>,
    /// Sender.
    pub from: String,
    /// Group recipients.
    pub to: Vec<String>,
    /// Operators (they also get the feed-health part).
    pub operators: Vec<String>,
    /// Whether the group digest names members who missed.
    pub show_missing: bool,
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
    /// Display name.
    pub name: String,
    /// Team (a category in the feed, a group in the digest).
    pub team: String,
    /// Homepage.
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
}

/// A post on a platform without a feed, recorded by hand.
#[derive(Debug, Clone)]
pub struct ExtraPost {
    /// Its address.
    pub url: url::Url,
    /// Its local date.
    pub date: NaiveDate,
    /// Its title.
    pub title: String,
}

/// Where a feed lives: a URL or a local file (the demo runs offline).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FeedSource {
    /// An `http(s)://` URL.
    Url(url::Url),
    /// A local file, resolved against the config's folder.
    Path(PathBuf),
}

impl FeedSource {
    /// The stable text under which the store keys this feed: the URL, or the path as resolved.
    pub fn key(&self) -> String {
        match self {
            FeedSource::Url(u) => u.to_string(),
            FeedSource::Path(p) => p.display().to_string(),
        }
    }
}

impl fmt::Display for FeedSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

impl Config {
    /// Reads and validates the config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Config::from_str(&text, path)
    }

    /// Parses and validates config text; `path` names the file in messages and anchors relative paths.
    pub fn from_str(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let invalid = |problems| ConfigError::Invalid {
            path: path.to_path_buf(),
            problems,
        };
        let raw: RawConfig =
            toml::from_str(text).map_err(|e| invalid(vec![toml_problem(text, &e)]))?;
        let base = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let mut v = Validator {
            text,
            base: &base,
            problems: Vec::new(),
        };
        let config = v.config(raw, path);
        if v.problems.is_empty() {
            if let Some(config) = config {
                return Ok(config);
            }
        }
        v.problems.sort_by_key(|p| p.line.unwrap_or(usize::MAX));
        Err(invalid(v.problems))
    }

    /// The member with this id.
    pub fn member(&self, id: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.id == id)
    }
}

/// Turns a TOML/serde error into a problem with key and line.
fn toml_problem(text: &str, e: &toml::de::Error) -> Problem {
    let line = e.span().map(|s| line_of(text, s.start));
    let message = e.message().trim().to_string();
    let key = e.span().map(|s| key_at(text, s.start)).unwrap_or_default();
    let message = if message.starts_with("unknown field") {
        format!("{message}; remove it or fix its spelling (see the README's config reference)")
    } else if message.starts_with("missing field") {
        format!("{message}; add it (see the README's config reference)")
    } else {
        message
    };
    Problem { line, key, message }
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset.min(text.len()))
        .map(|t| t.matches('\n').count() + 1)
        .unwrap_or(1)
}

/// The key written at the start of the line holding `offset` (best effort, for messages).
fn key_at(text: &str, offset: usize) -> String {
    let start = text
        .get(..offset.min(text.len()))
        .and_then(|t| t.rfind('\n'))
        .map(|i| i + 1)
        .unwrap_or(0);
    let line = text
        .get(start..)
        .and_then(|t| t.lines().next())
        .unwrap_or("");
    line.split('=').next().unwrap_or("").trim().to_string()
}

struct Validator<'a> {
    text: &'a str,
    base: &'a Path,
    problems: Vec<Problem>,
}

impl Validator<'_> {
    fn problem(
        &mut self,
        span: Option<Range<usize>>,
        key: impl Into<String>,
        message: impl Into<String>,
    ) {
        let line = span
            .filter(|s| s.end > 0)
            .map(|s| line_of(self.text, s.start));
        self.problems.push(Problem {
            line,
            key: key.into(),
            message: message.into(),
        });
    }

    fn duration(
        &mut self,
        value: Option<Spanned<String>>,
        key: &str,
        default: Duration,
    ) -> Duration {
        let Some(value) = value else { return default };
        match parse_duration(value.get_ref()) {
            Some(d) => d,
            None => {
                self.problem(
                    Some(value.span()),
                    key,
                    format!(
                        "`{}` is not a duration; write a number and a unit, e.g. \"30s\", \"10m\", \"6h\", \"1d\"",
                        value.get_ref()
                    ),
                );
                default
            }
        }
    }

    fn url(&mut self, value: &Spanned<String>, key: &str) -> Option<url::Url> {
        match url::Url::parse(value.get_ref()) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => Some(u),
            _ => {
                self.problem(
                    Some(value.span()),
                    key,
                    format!(
                        "`{}` is not an http(s) URL; write the full address, e.g. \"https://example.org/\"",
                        value.get_ref()
                    ),
                );
                None
            }
        }
    }

    fn date(&mut self, value: &Spanned<String>, key: &str) -> Option<NaiveDate> {
        match NaiveDate::parse_from_str(value.get_ref(), "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                self.problem(
                    Some(value.span()),
                    key,
                    format!(
                        "`{}` is not a date; write it as \"YYYY-MM-DD\"",
                        value.get_ref()
                    ),
                );
                None
            }
        }
    }

    fn path(&self, p: &str) -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base.join(p)
        }
    }

    fn config(&mut self, raw: RawConfig, path: &Path) -> Option<Config> {
        let club = self.club(raw.club);
        let rounds = self.rounds(raw.rounds);
        let storage_path = self.path(
            raw.storage
                .path
                .as_ref()
                .map(|p| p.get_ref().as_str())
                .unwrap_or("geultto-agg.db"),
        );
        let fetch = self.fetch(raw.fetch);
        let output = self.output(raw.output);
        let email = raw.email.map(|e| self.email(e));
        let members = self.members(raw.members, rounds.as_ref().map(|r| r.due.len()));
        Some(Config {
            path: path.to_path_buf(),
            club: club?,
            rounds: rounds?,
            storage_path,
            fetch,
            output: output?,
            email,
            members,
        })
    }

    fn club(&mut self, raw: RawClub) -> Option<Club> {
        let url = self.url(&raw.url, "club.url");
        let timezone = match raw.timezone.get_ref().parse::<Tz>() {
            Ok(tz) => Some(tz),
            Err(_) => {
                self.problem(
                    Some(raw.timezone.span()),
                    "club.timezone",
                    format!(
                        "unknown time zone `{}`; use an IANA name such as \"Asia/Seoul\"",
                        raw.timezone.get_ref()
                    ),
                );
                None
            }
        };
        Some(Club {
            name: raw.name,
            url: url?,
            timezone: timezone?,
        })
    }

    fn rounds(&mut self, raw: RawRounds) -> Option<Rounds> {
        let start = self.date(&raw.start, "rounds.start");
        let grace = self.duration(raw.grace, "rounds.grace", Duration::ZERO);
        let late_after = self.duration(
            raw.late_after,
            "rounds.late_after",
            Duration::from_secs(6 * 3600),
        );
        let due = match (raw.due, raw.every_days, raw.count) {
            (Some(due), None, None) => {
                let mut dates: Vec<NaiveDate> = Vec::new();
                for d in due.get_ref() {
                    if let Some(date) = self.date(d, "rounds.due") {
                        let previous = dates.last().copied().or(start);
                        if let Some(previous) = previous.filter(|p| date <= *p) {
                            self.problem(
                                Some(d.span()),
                                "rounds.due",
                                format!(
                                    "due date {date} (round {}) is not after {previous}; due dates must increase and come after `start`",
                                    dates.len() + 1
                                ),
                            );
                        }
                        dates.push(date);
                    }
                }
                dates
            }
            (None, Some(every), Some(count)) => {
                if *every.get_ref() == 0 {
                    self.problem(
                        Some(every.span()),
                        "rounds.every_days",
                        "must be at least 1",
                    );
                }
                match start {
                    Some(start) => (1..=*count.get_ref())
                        .map(|k| {
                            start + chrono::Days::new(u64::from(k) * u64::from(*every.get_ref()))
                        })
                        .collect(),
                    None => Vec::new(),
                }
            }
            (Some(due), _, _) => {
                self.problem(
                    Some(due.span()),
                    "rounds.due",
                    "give either `due` or `every_days` + `count`, not both",
                );
                Vec::new()
            }
            _ => {
                self.problem(
                    Some(raw.start.span()),
                    "rounds",
                    "no deadlines: add `due = [\"YYYY-MM-DD\", …]`, or `every_days = 14` with `count = N`",
                );
                Vec::new()
            }
        };
        Some(Rounds {
            start: start?,
            due,
            grace,
            passes: raw.passes,
            min_chars: raw.min_chars,
            penalty: raw.penalty,
            late_after,
        })
    }

    fn fetch(&mut self, raw: RawFetch) -> FetchConfig {
        let concurrency = match raw.concurrency {
            Some(c) if *c.get_ref() == 0 => {
                self.problem(
                    Some(c.span()),
                    "fetch.concurrency",
                    "must be at least 1 (default 32)",
                );
                32
            }
            Some(c) => *c.get_ref(),
            None => 32,
        };
        let max_body = match raw.max_body {
            Some(v) => match parse_size(v.get_ref()) {
                Some(n) if n > 0 => n,
                _ => {
                    self.problem(
                        Some(v.span()),
                        "fetch.max_body",
                        format!(
                            "`{}` is not a size; write e.g. \"10MiB\", \"500KB\"",
                            v.get_ref()
                        ),
                    );
                    10 << 20
                }
            },
            None => 10 << 20,
        };
        let mut allow_addresses = Vec::new();
        for a in raw.allow_addresses.unwrap_or_default() {
            match a.get_ref().parse::<IpCidr>() {
                Ok(c) => allow_addresses.push(c),
                Err(_) => self.problem(
                    Some(a.span()),
                    "fetch.allow_addresses",
                    format!(
                        "`{}` is not an address or network; write e.g. \"10.1.2.0/24\" or \"127.0.0.2\"",
                        a.get_ref()
                    ),
                ),
            }
        }
        FetchConfig {
            concurrency,
            per_host: raw.per_host.unwrap_or(4),
            timeout: self.duration(raw.timeout, "fetch.timeout", Duration::from_secs(30)),
            connect_timeout: self.duration(
                raw.connect_timeout,
                "fetch.connect_timeout",
                Duration::from_secs(10),
            ),
            max_body,
            interval: self.duration(raw.interval, "fetch.interval", Duration::from_secs(3600)),
            user_agent: raw
                .user_agent
                .unwrap_or_else(default_user_agent)
                .replace("VERSION", env!("CARGO_PKG_VERSION")),
            allow_private_addresses: raw.allow_private_addresses.unwrap_or(false),
            allow_addresses,
        }
    }

    fn output(&mut self, raw: RawOutput) -> Option<Output> {
        let feed_url = match &raw.feed_url {
            Some(u) => self.url(u, "output.feed_url"),
            None => url::Url::parse("https://example.org/atom.xml").ok(),
        };
        let content = match raw.content {
            None => ContentMode::Summary,
            Some(c) => match c.get_ref().as_str() {
                "summary" => ContentMode::Summary,
                "full" => ContentMode::Full,
                other => {
                    self.problem(
                        Some(c.span()),
                        "output.content",
                        format!("`{other}` is not a content mode; write \"summary\" or \"full\""),
                    );
                    ContentMode::Summary
                }
            },
        };
        let templates = raw
            .templates
            .filter(|t| !t.is_empty())
            .map(|t| self.path(&t));
        Some(Output {
            dir: self.path(raw.dir.as_deref().unwrap_or("public")),
            feed_url: feed_url?,
            entries: raw.entries.unwrap_or(100),
            content,
            digest_dir: self.path(raw.digest_dir.as_deref().unwrap_or("digest")),
            templates,
        })
    }

    fn email(&mut self, raw: RawEmail) -> Email {
        let security = match raw.security.get_ref().as_str() {
            "starttls" => Security::StartTls,
            "tls" => Security::Tls,
            "none" => Security::None,
            other => {
                self.problem(
                    Some(raw.security.span()),
                    "email.security",
                    format!(
                        "`{other}` is not a transport; write \"starttls\", \"tls\" or \"none\""
                    ),
                );
                Security::StartTls
            }
        };
        Email {
            smtp_host: raw.smtp_host,
            smtp_port: raw.smtp_port,
            security,
            username: raw.username,
            password_env: raw.password_env,
            from: raw.from,
            to: raw.to,
            operators: raw.operators,
            show_missing: raw.show_missing,
        }
    }

    fn members(&mut self, raw: Vec<RawMember>, rounds: Option<usize>) -> Vec<Member> {
        let mut seen_ids: HashMap<String, usize> = HashMap::new();
        let mut seen_feeds: HashMap<String, String> = HashMap::new();
        let mut members = Vec::new();
        for (i, m) in raw.into_iter().enumerate() {
            let id = m.id.get_ref().clone();
            let key = format!("members[{i}] ({id})");
            if id.is_empty()
                || !id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
            {
                self.problem(
                    Some(m.id.span()),
                    format!("{key}.id"),
                    "a member id uses only a-z, 0-9, `_` and `-`; it is the stable key of the member's posts",
                );
            }
            if let Some(prev) = seen_ids.insert(id.clone(), i) {
                self.problem(
                    Some(m.id.span()),
                    format!("{key}.id"),
                    format!("member id `{id}` is used twice (also members[{prev}]); give each member its own id"),
                );
            }
            let blog = m
                .blog
                .as_ref()
                .and_then(|b| self.url(b, &format!("{key}.blog")));
            let mut feeds = Vec::new();
            for f in &m.feeds {
                let text = f.get_ref().trim();
                let source = if text.starts_with("http://") || text.starts_with("https://") {
                    self.url(f, &format!("{key}.feeds")).map(FeedSource::Url)
                } else if text.contains("://") {
                    self.problem(
                        Some(f.span()),
                        format!("{key}.feeds"),
                        format!("`{text}`: only http(s) URLs and local paths are feeds"),
                    );
                    None
                } else if text.is_empty() {
                    self.problem(
                        Some(f.span()),
                        format!("{key}.feeds"),
                        "an empty feed; remove it",
                    );
                    None
                } else {
                    Some(FeedSource::Path(self.path(text)))
                };
                let Some(source) = source else { continue };
                if let Some(other) = seen_feeds.insert(source.key(), id.clone()) {
                    self.problem(
                        Some(f.span()),
                        format!("{key}.feeds"),
                        format!(
                            "the feed {source} is listed under `{other}` too; a feed belongs to one member — remove it from one of them"
                        ),
                    );
                    continue;
                }
                feeds.push(source);
            }
            if m.feeds.is_empty() && m.blog.is_none() {
                self.problem(
                    Some(m.id.span()),
                    key.clone(),
                    "the member has neither `feeds` nor `blog`; add the blog's address or its feed URL",
                );
            }
            let check_round = |v: &Option<Spanned<u32>>, name: &str, this: &mut Self| {
                if let (Some(v), Some(n)) = (v, rounds) {
                    if *v.get_ref() == 0 || *v.get_ref() as usize > n {
                        this.problem(
                            Some(v.span()),
                            format!("{key}.{name}"),
                            format!("round {} does not exist; rounds are 1..={n}", v.get_ref()),
                        );
                    }
                }
            };
            check_round(&m.joined_round, "joined_round", self);
            check_round(&m.left_round, "left_round", self);
            let mut overrides = BTreeMap::new();
            for (round, status) in &m.overrides {
                let r = round.parse::<u32>().ok();
                let s = status.get_ref().parse::<Status>().ok();
                match (r, s) {
                    (Some(r), Some(s)) => {
                        overrides.insert(r, s);
                    }
                    (None, _) => self.problem(
                        Some(status.span()),
                        format!("{key}.overrides"),
                        format!("`{round}` is not a round number; write e.g. {{ 6 = \"submitted\" }}"),
                    ),
                    (_, None) => self.problem(
                        Some(status.span()),
                        format!("{key}.overrides"),
                        format!(
                            "`{}` is not a status; use one of submitted, late, short, pass, missed, pending, exempt",
                            status.get_ref()
                        ),
                    ),
                }
            }
            let mut extra_posts = Vec::new();
            for p in m.extra_posts {
                let url = self.url(&p.url, &format!("{key}.extra_posts.url"));
                let date = self.date(&p.date, &format!("{key}.extra_posts.date"));
                if let (Some(url), Some(date)) = (url, date) {
                    extra_posts.push(ExtraPost {
                        url,
                        date,
                        title: p.title,
                    });
                }
            }
            members.push(Member {
                id,
                name: m.name,
                team: m.team,
                blog,
                feeds,
                joined_round: m.joined_round.map(|v| *v.get_ref()),
                left_round: m.left_round.map(|v| *v.get_ref()),
                passes: m.passes,
                overrides,
                extra_posts,
            });
        }
        members
    }
}

fn default_user_agent() -> String {
    "geultto-agg/VERSION (+https://geultto.github.io/)".to_string()
}

/// Parses "30s", "10m", "6h", "1d", "500ms", "0h" (a bare number means seconds).
pub fn parse_duration(text: &str) -> Option<Duration> {
    let t = text.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().ok()?;
    let secs = match unit.trim() {
        "ms" => n / 1000.0,
        "" | "s" | "sec" | "secs" => n,
        "m" | "min" | "mins" => n * 60.0,
        "h" | "hr" | "hrs" => n * 3600.0,
        "d" | "day" | "days" => n * 86400.0,
        _ => return None,
    };
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

/// Parses "10MiB", "500KB", "1048576" into bytes.
pub fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().ok()?;
    let mult = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" => 1e3,
        "kib" | "k" => 1024.0,
        "mb" => 1e6,
        "mib" | "m" => 1024.0 * 1024.0,
        "gb" => 1e9,
        "gib" | "g" => 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    let v = n * mult;
    (v.is_finite() && v >= 0.0).then_some(v as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[club]
name = "글또"
url = "https://geultto.github.io/"

[rounds]
start = "2024-09-29"
due = ["2024-10-13", "2024-10-27"]

[[members]]
id = "minji"
name = "김민지"
team = "데이터"
feeds = ["https://minji.tistory.com/rss", "feeds/minji.xml"]
"#;

    fn load(text: &str) -> Result<Config, ConfigError> {
        Config::from_str(text, Path::new("/etc/club/feeds.toml"))
    }

    fn problems(text: &str) -> Vec<Problem> {
        match load(text) {
            Err(ConfigError::Invalid { problems, .. }) => problems,
            other => panic!("expected problems, got {other:?}"),
        }
    }

    #[test]
    fn minimal_config_gets_defaults_and_resolves_paths() {
        let c = load(MINIMAL).unwrap();
        assert_eq!(c.club.timezone, chrono_tz::Asia::Seoul);
        assert_eq!(c.fetch.concurrency, 32);
        assert_eq!(c.fetch.per_host, 4);
        assert_eq!(c.fetch.max_body, 10 << 20);
        assert_eq!(c.storage_path, PathBuf::from("/etc/club/geultto-agg.db"));
        assert_eq!(
            c.members[0].feeds[1],
            FeedSource::Path(PathBuf::from("/etc/club/feeds/minji.xml"))
        );
        assert!(c.fetch.user_agent.starts_with("geultto-agg/0."));
        assert_eq!(c.rounds.due.len(), 2);
    }

    #[test]
    fn unknown_key_names_key_and_line() {
        let text = MINIMAL.replace("team = \"데이터\"", "team = \"데이터\"\ncolour = \"red\"");
        let p = problems(&text);
        assert_eq!(p.len(), 1);
        assert!(p[0].message.contains("unknown field `colour`"), "{p:?}");
        assert_eq!(p[0].line, Some(14));
        assert_eq!(p[0].key, "colour");
    }

    #[test]
    fn bad_values_are_all_reported_with_lines_and_fixes() {
        let text = MINIMAL
            .replace(
                "due = [\"2024-10-13\", \"2024-10-27\"]",
                "due = [\"2024-10-13\", \"2024/10/27\"]\ngrace = \"soon\"",
            )
            .replace("id = \"minji\"", "id = \"Min Ji\"");
        let p = problems(&text);
        let keys: Vec<_> = p.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            ["rounds.due", "rounds.grace", "members[0] (Min Ji).id"]
        );
        assert_eq!(p[0].line, Some(8));
        assert!(p[0].message.contains("YYYY-MM-DD"));
        assert!(p[1].message.contains("\"30s\""));
    }

    #[test]
    fn the_same_feed_under_two_members_is_an_error() {
        let text = format!(
            "{MINIMAL}\n[[members]]\nid = \"jihoon\"\nname = \"박지훈\"\nfeeds = [\"https://minji.tistory.com/rss\"]\n"
        );
        let p = problems(&text);
        assert_eq!(p.len(), 1);
        assert!(p[0].message.contains("listed under `minji` too"), "{p:?}");
    }

    #[test]
    fn every_days_generates_due_dates() {
        let text = MINIMAL.replace(
            "due = [\"2024-10-13\", \"2024-10-27\"]",
            "every_days = 14\ncount = 3",
        );
        let c = load(&text).unwrap();
        let due: Vec<String> = c.rounds.due.iter().map(|d| d.to_string()).collect();
        assert_eq!(due, ["2024-10-13", "2024-10-27", "2024-11-10"]);
    }

    #[test]
    fn durations_and_sizes() {
        assert_eq!(parse_duration("30s"), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration("6h"), Some(Duration::from_secs(21600)));
        assert_eq!(parse_duration("0h"), Some(Duration::ZERO));
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("6 weeks"), None);
        assert_eq!(parse_size("10MiB"), Some(10 << 20));
        assert_eq!(parse_size("500KB"), Some(500_000));
        assert_eq!(parse_size("lots"), None);
    }
}
