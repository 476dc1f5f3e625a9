//! The validated layer: raw TOML in, a [`Config`] the rest of the program can trust out.
//!
//! As ripgrep turns what the user typed into what the program uses, the [`Validator`] walks the
//! raw structs once and checks every value: dates, durations, sizes, URLs, time zones, member ids,
//! feeds listed twice, rounds that do not exist. Every problem is kept with its key, its line and
//! what to do, and all of a file's problems are reported at once, in file order, including those
//! of a file whose sections could only partly be read (`read.rs`): what could be read is still
//! judged, and what the roster rules and `check` need is kept in a [`Reading`]. Defaults come
//! from one place each: the fetch stage's own [`FetchSettings::default`], the README's table for
//! the rest.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::NaiveDate;
use chrono_tz::Tz;
use toml::Spanned;

use super::problem::{line_of, LocalFeed, Problem};
use super::raw::{
    RawClub, RawConfig, RawEmail, RawExtraPost, RawFetch, RawMember, RawOutput, RawRounds,
};
use super::roster::{Roster, RosterMember};
use super::types::{
    available_cores, Club, Config, ContentMode, Email, ExtraPost, FetchConfig, Member, MemberIndex,
    Output, Reader, Rounds, Security,
};
use super::units::{parse_duration, parse_size};
use crate::fetch::{FetchSettings, IpCidr};
use crate::source::FeedSource;
use crate::status::Status;

/// The naming authority used when the club's site has no host of its own.
const FALLBACK_HOST: &str = "geultto.github.io";

/// Reads config text into a [`Config`], or every problem found.
pub(super) fn validate(text: &str, path: &Path) -> Result<Config, Vec<Problem>> {
    let reading = read(text, path);
    match reading.config {
        Some(config) if reading.problems.is_empty() => Ok(config),
        _ => Err(reading.problems),
    }
}

/// What one reading of a config file found: the config when it is valid, every problem in file
/// order, and what `check` judges even when the file is not valid.
pub(super) struct Reading {
    /// The config, when every section could be read (it is valid only without problems).
    pub(super) config: Option<Config>,
    /// Every problem the file has, in file order (the roster rules are not among them).
    pub(super) problems: Vec<Problem>,
    /// What the roster rules judge, as far as the file could be read.
    pub(super) roster: Roster,
    /// The local feed files the members list, for `check` to look for.
    pub(super) local_feeds: Vec<LocalFeed>,
    /// Feeds listed by the members that could be read.
    pub(super) feeds: usize,
}

/// Reads config text as far as it can be read, collecting every problem.
pub(super) fn read(text: &str, path: &Path) -> Reading {
    let base = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let mut v = Validator {
        text,
        base: &base,
        problems: Vec::new(),
        roster: Roster::default(),
        local_feeds: Vec::new(),
    };
    let raw = super::read::read(text, &mut v.problems);
    let config = raw.and_then(|raw| v.config(raw, path));
    v.problems.sort_by_key(|p| p.line.unwrap_or(usize::MAX));
    let feeds = v.roster.members.iter().map(|m| m.feeds).sum();
    Reading {
        config,
        problems: v.problems,
        roster: v.roster,
        local_feeds: v.local_feeds,
        feeds,
    }
}

/// Walks the raw config once, collecting problems as it goes.
pub(super) struct Validator<'a> {
    text: &'a str,
    base: &'a Path,
    problems: Vec<Problem>,
    roster: Roster,
    local_feeds: Vec<LocalFeed>,
}

impl Validator<'_> {
    pub(super) fn problem(
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
            suggestion: None,
        });
    }

    pub(super) fn duration(
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
        let club = raw.club.and_then(|c| self.club(c));
        let round_count = raw.rounds.as_ref().and_then(round_count);
        self.roster.rounds = round_count;
        self.roster.passes = raw.rounds.as_ref().map(|r| r.passes);
        let rounds = raw.rounds.and_then(|r| self.rounds(r));
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
        let chat = raw.chat.map(|c| self.chat(c));
        let reader = Reader {
            pages: raw.reader.pages.unwrap_or(true),
            max_pages: raw.reader.max_pages.unwrap_or(200),
        };
        let members = self.members(raw.members, round_count);
        Some(Config {
            path: path.to_path_buf(),
            club: club?,
            rounds: rounds?,
            storage_path,
            fetch,
            output: output?,
            email,
            reader,
            chat,
            member_index: MemberIndex::new(&members),
            members,
            cores: available_cores(),
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
        let url = url?;
        Some(Club {
            name: raw.name,
            host: url.host_str().unwrap_or(FALLBACK_HOST).to_string(),
            url,
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
        let defaults = FetchSettings::default();
        let concurrency = match raw.concurrency {
            Some(c) if *c.get_ref() == 0 => {
                self.problem(
                    Some(c.span()),
                    "fetch.concurrency",
                    format!("must be at least 1 (default {})", defaults.concurrency),
                );
                defaults.concurrency
            }
            Some(c) => *c.get_ref(),
            None => defaults.concurrency,
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
                    defaults.max_body
                }
            },
            None => defaults.max_body,
        };
        let allow_addresses = self.networks(raw.allow_addresses.unwrap_or_default());
        let settings = FetchSettings {
            concurrency,
            per_host: raw.per_host.unwrap_or(defaults.per_host),
            timeout: self.duration(raw.timeout, "fetch.timeout", defaults.timeout),
            connect_timeout: self.duration(
                raw.connect_timeout,
                "fetch.connect_timeout",
                defaults.connect_timeout,
            ),
            max_body,
            user_agent: raw
                .user_agent
                .map(|template| crate::fetch::user_agent(&template))
                .unwrap_or_else(|| defaults.user_agent.clone()),
            allow_private_addresses: raw
                .allow_private_addresses
                .unwrap_or(defaults.allow_private_addresses),
            allow_addresses,
            ..defaults
        };
        FetchConfig {
            settings,
            interval: self.duration(raw.interval, "fetch.interval", Duration::from_secs(3600)),
        }
    }

    /// `[fetch] allow_addresses`: each an address or a network in CIDR form.
    fn networks(&mut self, raw: Vec<Spanned<String>>) -> Vec<IpCidr> {
        let mut networks = Vec::new();
        for a in raw {
            match a.get_ref().parse::<IpCidr>() {
                Ok(c) => networks.push(c),
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
        networks
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
            show_statuses: raw.show_statuses.unwrap_or(false),
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
        let unsubscribe = raw.unsubscribe.and_then(|u| {
            let text = u.get_ref().trim().to_string();
            let lower = text.to_ascii_lowercase();
            let ok = lower.starts_with("mailto:")
                || lower.starts_with("https://")
                || lower.starts_with("http://");
            if !ok {
                self.problem(
                    Some(u.span()),
                    "email.unsubscribe",
                    format!("`{text}` is neither a mailto: nor an http(s) address; write e.g. \"mailto:ops@example.org?subject=unsubscribe\""),
                );
            }
            ok.then_some(text)
        });
        Email {
            unsubscribe,
            bcc: raw.bcc,
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

    /// The members that could be read, each with its place in the file.
    fn members(&mut self, raw: Vec<(usize, RawMember)>, rounds: Option<usize>) -> Vec<Member> {
        let mut seen = Seen::default();
        // A loop, not `collect`: collecting in place would keep the larger raw tables'
        // allocation (about twice a member's size) for as long as the config lives.
        let mut members = Vec::with_capacity(raw.len());
        for (i, m) in raw {
            members.push(self.member(i, m, rounds, &mut seen));
        }
        members
    }

    /// One `[[members]]` table; `seen` holds the ids and feeds of the members before it.
    fn member(&mut self, i: usize, m: RawMember, rounds: Option<usize>, seen: &mut Seen) -> Member {
        let id = m.id.get_ref().clone();
        let key = format!("members[{i}] ({id})");
        self.member_id(&m.id, &key, i, seen);
        let blog = m
            .blog
            .as_ref()
            .and_then(|b| self.url(b, &format!("{key}.blog")));
        let feeds = self.feeds(&m.feeds, &key, &id, seen);
        if m.feeds.is_empty() && m.blog.is_none() {
            self.problem(
                Some(m.id.span()),
                key.clone(),
                "the member has neither `feeds` nor `blog`; add the blog's address or its feed URL",
            );
        }
        for (value, name) in [
            (&m.joined_round, "joined_round"),
            (&m.left_round, "left_round"),
        ] {
            self.round_number(value.as_ref(), rounds, &format!("{key}.{name}"));
        }
        let roster = RosterMember::of_raw(&key, &m, feeds.len(), self.text);
        self.roster.members.push(roster);
        let (email, slack_id) = self.contact(m.email, m.slack_id, &key);
        Member {
            email,
            slack_id,
            overrides: self.overrides(&m.overrides, &key),
            extra_posts: self.extra_posts(m.extra_posts, &key),
            id,
            name: m.name,
            team: m.team,
            blog,
            feeds,
            joined_round: m.joined_round.map(|v| *v.get_ref()),
            left_round: m.left_round.map(|v| *v.get_ref()),
            passes: m.passes.iter().map(|p| *p.get_ref()).collect(),
        }
    }

    /// A member id is `[a-z0-9_-]` and unique.
    fn member_id(&mut self, id: &Spanned<String>, key: &str, i: usize, seen: &mut Seen) {
        let text = id.get_ref();
        let well_formed = !text.is_empty()
            && text
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
        if !well_formed {
            self.problem(
                Some(id.span()),
                format!("{key}.id"),
                "a member id uses only a-z, 0-9, `_` and `-`; it is the stable key of the member's posts",
            );
        }
        if let Some(prev) = seen.ids.insert(text.clone(), i) {
            self.problem(
                Some(id.span()),
                format!("{key}.id"),
                format!("member id `{text}` is used twice (also members[{prev}]); give each member its own id"),
            );
        }
    }

    /// A member's `feeds`: each a URL or a path, and each listed under one member only.
    fn feeds(
        &mut self,
        raw: &[Spanned<String>],
        key: &str,
        id: &str,
        seen: &mut Seen,
    ) -> Vec<FeedSource> {
        // Sized to the list: a pushed-to `Vec` starts at four, and a club holds one per member.
        let mut feeds = Vec::with_capacity(raw.len());
        for f in raw {
            let source = match FeedSource::parse(f.get_ref(), self.base) {
                Ok(source) => source,
                Err(e) => {
                    self.problem(Some(f.span()), format!("{key}.feeds"), e.to_string());
                    continue;
                }
            };
            if let Some(other) = seen.feeds.insert(source.key(), id.to_string()) {
                self.problem(
                    Some(f.span()),
                    format!("{key}.feeds"),
                    format!(
                        "the feed {source} is listed under `{other}` too; a feed belongs to one member — remove it from one of them"
                    ),
                );
                continue;
            }
            if let FeedSource::Path(resolved) = &source {
                self.local_feeds.push(LocalFeed {
                    member: id.to_string(),
                    key: format!("{key}.feeds"),
                    written: f.get_ref().trim().to_string(),
                    resolved: resolved.clone(),
                    line: Some(line_of(self.text, f.span().start)),
                });
            }
            feeds.push(source);
        }
        feeds
    }

    /// `joined_round` and `left_round` name rounds that exist.
    fn round_number(&mut self, value: Option<&Spanned<u32>>, rounds: Option<usize>, key: &str) {
        if let (Some(v), Some(n)) = (value, rounds) {
            if *v.get_ref() == 0 || *v.get_ref() as usize > n {
                self.problem(
                    Some(v.span()),
                    key,
                    format!("round {} does not exist; rounds are 1..={n}", v.get_ref()),
                );
            }
        }
    }

    /// `overrides = { 6 = "submitted" }`: round numbers and status names.
    fn overrides(
        &mut self,
        raw: &BTreeMap<String, Spanned<String>>,
        key: &str,
    ) -> BTreeMap<u32, Status> {
        let mut overrides = BTreeMap::new();
        for (round, status) in raw {
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
                        "`{}` is not a status; use one of {}",
                        status.get_ref(),
                        Status::ALL.map(Status::as_str).join(", ")
                    ),
                ),
            }
        }
        overrides
    }

    /// Posts recorded by hand: an address and a date each.
    fn extra_posts(&mut self, raw: Vec<RawExtraPost>, key: &str) -> Vec<ExtraPost> {
        let mut posts = Vec::new();
        for p in raw {
            let url = self.url(&p.url, &format!("{key}.extra_posts.url"));
            let date = match &p.date {
                Some(d) => match self.date(d, &format!("{key}.extra_posts.date")) {
                    Some(date) => Some(date),
                    None => continue,
                },
                None => None,
            };
            if let Some(url) = url {
                posts.push(ExtraPost {
                    url,
                    date,
                    title: p.title,
                });
            }
        }
        posts
    }
}

/// How many rounds `[rounds]` declares: the number of due dates written (a malformed one is
/// still a round), or `count`; unknown when the section names neither or both.
fn round_count(raw: &RawRounds) -> Option<usize> {
    match (&raw.due, &raw.every_days, &raw.count) {
        (Some(due), None, None) => Some(due.get_ref().len()),
        (None, Some(_), Some(count)) => Some(*count.get_ref() as usize),
        _ => None,
    }
}

/// Member ids and feed keys met so far, to report the ones used twice.
#[derive(Default)]
struct Seen {
    ids: HashMap<String, usize>,
    feeds: HashMap<String, String>,
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

    fn load(text: &str) -> Result<Config, Vec<Problem>> {
        validate(text, Path::new("/etc/club/feeds.toml"))
    }

    fn problems(text: &str) -> Vec<Problem> {
        match load(text) {
            Err(problems) => problems,
            other => panic!("expected problems, got {other:?}"),
        }
    }

    /// The render key holds the config's `Debug` text, so reading the same file twice gives the
    /// same text; and each member is found by id, the first of a repeated id as a walk would.
    #[test]
    fn the_same_roster_reads_the_same_and_members_are_found_by_id() {
        let roster: String = (0..50)
            .map(|i| format!("[[members]]\nid = \"m{i}\"\nname = \"회원 {i}\"\nfeeds = [\"https://m{i}.example/rss\"]\n"))
            .collect();
        let text = format!("[club]\nname = \"글또\"\nurl = \"https://geultto.github.io/\"\n[rounds]\nstart = \"2024-09-29\"\ndue = [\"2024-10-13\"]\n{roster}");
        let read = || Config::from_str(&text, Path::new("feeds.toml")).unwrap();
        let (a, b) = (read(), read());
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
        for i in [0, 17, 49] {
            assert_eq!(
                a.member(&format!("m{i}")).map(|m| m.name.as_str()),
                Some(format!("회원 {i}").as_str())
            );
        }
        assert!(a.member("m50").is_none());
        // A roster changed after reading (tests do) is still searched right.
        let mut changed = a.clone();
        changed.members.remove(0);
        assert_eq!(changed.member("m1").map(|m| m.id.as_str()), Some("m1"));
        assert!(changed.member("m0").is_none());
    }

    #[test]
    fn minimal_config_gets_defaults_and_resolves_paths() {
        let c = load(MINIMAL).unwrap();
        assert_eq!(c.club.timezone, chrono_tz::Asia::Seoul);
        assert_eq!(c.fetch.settings.concurrency, 32);
        assert_eq!(c.fetch.settings.per_host, 4);
        assert_eq!(c.fetch.settings.max_body, 10 << 20);
        assert_eq!(c.storage_path, PathBuf::from("/etc/club/geultto-agg.db"));
        assert_eq!(
            c.members[0].feeds[1],
            FeedSource::Path(PathBuf::from("/etc/club/feeds/minji.xml"))
        );
        assert!(c.fetch.settings.user_agent.starts_with("geultto-agg/0."));
        assert_eq!(c.rounds.due.len(), 2);
    }

    #[test]
    fn unknown_key_names_key_and_line() {
        let text = MINIMAL.replace("team = \"데이터\"", "team = \"데이터\"\ncolour = \"red\"");
        let p = problems(&text);
        assert_eq!(p.len(), 1);
        assert!(p[0].message.contains("unknown field `colour`"), "{p:?}");
        assert_eq!(p[0].line, Some(14));
        assert_eq!(p[0].key, "members[0] (minji).colour");
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

    /// One member's `HTTP://…` feed stopped the whole run at config time ("only http(s) URLs
    /// and local paths are feeds"). Schemes are case-insensitive; the feed is keyed (and found
    /// listed twice) in lower case.
    #[test]
    fn regression_an_upper_case_feed_scheme_is_accepted() {
        let text = MINIMAL.replace(
            "\"https://minji.tistory.com/rss\"",
            "\"HTTP://127.0.0.1:1/x\", \"Https://Minji.Tistory.com/rss\"",
        );
        let c = load(&text).unwrap();
        let keys: Vec<String> = c.members[0].feeds.iter().map(FeedSource::key).collect();
        assert_eq!(
            keys[..2],
            ["http://127.0.0.1:1/x", "https://minji.tistory.com/rss"]
        );
        let twice = format!(
            "{MINIMAL}\n[[members]]\nid = \"jihoon\"\nname = \"박지훈\"\nfeeds = [\"HTTPS://minji.tistory.com/rss\"]\n"
        );
        let p = problems(&twice);
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
}
