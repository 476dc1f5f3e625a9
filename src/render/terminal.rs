//! What the commands print for a person at a terminal, and the values it is printed from: the
//! run summary of `fetch` ([`RunSummary`], one [`FeedReport`] per feed), what `inspect` saw
//! ([`Inspection`], which is also its JSON), `discover`'s text, and the outcome of sending a
//! digest.
//!
//! The jobs fill these values; each function here returns the text, and the binary decides where
//! it goes (the summary and send outcomes to stderr, `inspect` and `discover` to stdout).

use std::fmt::Write as _;
use std::time::Duration;

use chrono_tz::Tz;

use crate::discover::Discovery;
use crate::render::digest::{Audience, SendOutcome, Week};
use crate::time::rfc3339_unix;

/// How one feed's fetch ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedStatus {
    /// Fetched and parsed.
    Fetched,
    /// 304 or an unchanged body.
    NotModified,
    /// Failed: fetch or parse.
    Failed,
    /// Paused: the host asked us to come back later (429/503 with Retry-After).
    Paused,
    /// Not polled this run: its host is paused, it is backing off after failures, or it is
    /// gone and polled weekly (not a failure).
    Skipped,
}

/// One feed's line in the run summary.
#[derive(Debug, Clone)]
pub struct FeedReport {
    /// The member the feed belongs to.
    pub member: String,
    /// The feed's key (its URL, or the resolved path).
    pub url: String,
    /// How it ended.
    pub status: FeedStatus,
    /// New posts stored (not history).
    pub new_posts: usize,
    /// New posts stored as history.
    pub history: usize,
    /// Why it failed, was paused or was skipped, in words.
    pub error: Option<String>,
    /// Repairs the parser made to read it.
    pub repairs: Vec<String>,
    /// How long its fetch took.
    pub elapsed: Duration,
}

/// What the reader did in a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PagesRead {
    /// Pages fetched (a followed frame counts once more).
    pub fetched: usize,
    /// Pages whose article gave a length.
    pub measured: usize,
    /// Pages that could not be fetched, or held no article.
    pub unreadable: usize,
    /// Pages that had not changed since their last read.
    pub not_modified: usize,
    /// Pages left for the next run by `max_pages`.
    pub deferred: usize,
}

/// What a fetch run did.
#[derive(Debug, Clone, Default)]
pub struct RunSummary {
    /// Per feed, in roster order.
    pub feeds: Vec<FeedReport>,
    /// Members without a feed to poll: (member, why), e.g. discovery found none on the blog.
    pub skipped_members: Vec<(String, String)>,
    /// Feeds discovered this run: (member, feed URL, rule).
    pub discovered: Vec<(String, String, String)>,
    /// The output files the run wrote (or found unchanged).
    pub outputs: Vec<super::Written>,
    /// Whether the outputs were rendered: `false` when nothing they are made of had changed
    /// since the last render (the files are then listed as `unchanged`), or with `--no-output`.
    pub rendered: bool,
    /// What the reader did with post pages.
    pub pages: PagesRead,
    /// What the operator should do about the store as a whole, one line each.
    pub advice: Vec<String>,
}

impl RunSummary {
    /// Feeds that ended in `status`.
    pub fn count(&self, status: &FeedStatus) -> usize {
        self.feeds.iter().filter(|f| &f.status == status).count()
    }

    /// New (non-history) posts over all feeds.
    pub fn new_posts(&self) -> usize {
        self.feeds.iter().map(|f| f.new_posts).sum()
    }
}

/// What `inspect` reports about one feed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Inspection {
    /// What was asked for.
    pub source: String,
    /// Where it was read after redirects.
    pub final_url: String,
    /// `rss2|rss1|rss0|atom|atom03|json`, or `html` for a post's page.
    pub format: String,
    /// Encoding used to decode.
    pub encoding: String,
    /// What the parser repaired to read it, in words.
    pub repairs: Vec<String>,
    /// What looked wrong in the feed as a whole.
    pub warnings: Vec<String>,
    /// The feed's own title.
    pub title: String,
    /// Every entry, as the tool would store it.
    pub entries: Vec<InspectedEntry>,
    /// For a post's page (not a feed): what the reader extracted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<InspectedPage>,
}

/// A post's page as the reader sees it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct InspectedPage {
    /// Where it was read (after redirects, and a frame followed).
    pub final_url: String,
    /// The reader rule that found the article (`null` when none was found).
    pub rule: Option<String>,
    /// The article's length by the club's rule (`null` when unknown).
    pub chars: Option<usize>,
    /// The first 300 characters of the article's text.
    pub text: Option<String>,
    /// The page's title.
    pub title: Option<String>,
    /// The post's date from the page (RFC 3339, club zone).
    pub published: Option<String>,
    /// Why no article was found.
    pub error: Option<String>,
}

impl InspectedPage {
    /// What the reader found on `page`, read at `final_url`.
    pub fn of(final_url: String, page: &crate::reader::Page, tz: Tz) -> InspectedPage {
        let (rule, chars, text, error) = match &page.article {
            Ok(a) => (
                Some(a.rule.to_string()),
                Some(a.chars),
                Some(a.text.chars().take(300).collect()),
                None,
            ),
            Err(why) => (None, None, None, Some(why.clone())),
        };
        InspectedPage {
            final_url,
            rule,
            chars,
            text,
            title: page.title.clone(),
            published: page.published.map(|d| crate::time::rfc3339(d, tz)),
            error,
        }
    }
}

/// One entry as `inspect` shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct InspectedEntry {
    /// The identity key the entry is known by within its feed.
    pub key: String,
    /// Its title, as plain text.
    pub title: String,
    /// The link as the feed gives it (what gets published).
    pub link: Option<String>,
    /// The link as matched against other feeds' (tracking dropped, case and slashes unified).
    pub normalised_link: Option<String>,
    /// Published (RFC 3339, club zone).
    pub published: Option<String>,
    /// Updated (RFC 3339, club zone).
    pub updated: Option<String>,
    /// Length by the club's rule.
    pub chars: Option<usize>,
    /// What looked wrong.
    pub warnings: Vec<String>,
}

/// At most this many failed (or skipped) feeds are listed after a run without `-v`.
const LISTED: usize = 15;

/// What a person sees while `fetch` runs: a progress bar when stderr is a terminal, and with
/// `-v` one line per feed as it finishes.
#[derive(Debug)]
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    verbose: bool,
}

impl Progress {
    /// Shows a bar when `bar` (not quiet, stderr a terminal); prints each feed when `verbose`.
    pub fn new(bar: bool, verbose: bool) -> Progress {
        let bar = bar.then(|| {
            let style = indicatif::ProgressStyle::with_template(
                "{spinner} {pos}/{len} feeds {wide_bar} {elapsed}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
            indicatif::ProgressBar::new(0).with_style(style)
        });
        Progress { bar, verbose }
    }

    /// One more feed is done: `done` of `total`.
    pub fn feed(&self, report: &FeedReport, done: usize, total: usize) {
        if let Some(bar) = &self.bar {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        }
        if self.verbose {
            match &self.bar {
                Some(bar) => bar.println(feed_line(report)),
                None => eprintln!("{}", feed_line(report)),
            }
        }
    }

    /// The run is over: the bar goes away.
    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

/// What `digest` wrote: per audience its posts and rounds, then the files.
pub fn digest_written(
    week: Week,
    digests: impl IntoIterator<Item = (Audience, usize, usize)>,
    written: &[super::Written],
) -> String {
    let mut out = String::new();
    for (audience, posts, rounds) in digests {
        let audience = audience.as_str();
        let _ = writeln!(
            out,
            "{week} {audience}: {posts} new post(s), {rounds} round(s) due"
        );
    }
    for w in written {
        let _ = writeln!(out, "{w}");
    }
    out
}

/// One feed's line after a run: who, which feed, how it ended, repairs, time taken.
pub fn feed_line(r: &FeedReport) -> String {
    let why = r.error.as_deref().unwrap_or("");
    let what = match r.status {
        FeedStatus::Fetched => format!("ok, {} new, {} history", r.new_posts, r.history),
        FeedStatus::NotModified => "not modified".to_string(),
        FeedStatus::Failed => format!("FAILED: {why}"),
        FeedStatus::Paused => format!("paused: {why}"),
        FeedStatus::Skipped => format!("skipped: {why}"),
    };
    let repairs = if r.repairs.is_empty() {
        String::new()
    } else {
        format!(" (repaired: {})", r.repairs.join("; "))
    };
    format!(
        "  {:<12} {} — {what}{repairs} [{} ms]",
        r.member,
        r.url,
        r.elapsed.as_millis()
    )
}

/// The summary of a fetch run. With `verbose` every feed was already printed as it finished,
/// so the failed and skipped feeds are not listed again.
pub fn summary(s: &RunSummary, verbose: bool) -> String {
    let mut out = String::new();
    for (member, url, rule) in &s.discovered {
        let _ = writeln!(out, "  {member}: discovered feed {url} (rule {rule})");
    }
    let skipped = s.count(&FeedStatus::Skipped);
    let skipped_words = if skipped > 0 {
        format!(", {skipped} skipped")
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "{}: {} ok, {} not modified, {} failed, {} paused{skipped_words}; {}",
        super::report::count(s.feeds.len(), "feed"),
        s.count(&FeedStatus::Fetched),
        s.count(&FeedStatus::NotModified),
        s.count(&FeedStatus::Failed),
        s.count(&FeedStatus::Paused),
        super::report::count(s.new_posts(), "new post")
    );
    let history: usize = s.feeds.iter().map(|f| f.history).sum();
    if history > 0 {
        let _ = writeln!(
            out,
            "{history} older posts recorded as history (judged for rounds, not announced as new)"
        );
    }
    let p = &s.pages;
    if p.fetched > 0 || p.deferred > 0 {
        let _ = writeln!(
            out,
            "post pages: {} read, {} measured, {} unreadable, {} unchanged{}",
            p.fetched,
            p.measured,
            p.unreadable,
            p.not_modified,
            if p.deferred > 0 {
                format!(
                    "; {} left for the next run ([reader] max_pages)",
                    p.deferred
                )
            } else {
                String::new()
            }
        );
    }
    if !verbose {
        list_feeds(&mut out, s, FeedStatus::Failed, "failed");
        list_feeds(&mut out, s, FeedStatus::Skipped, "skipped");
    }
    for (m, why) in &s.skipped_members {
        let _ = writeln!(out, "  {m}: no feed to poll: {why}");
    }
    for w in &s.outputs {
        let _ = writeln!(out, "{w}");
    }
    if !s.outputs.is_empty() && !s.rendered {
        let _ = writeln!(
            out,
            "outputs up to date: nothing they are made of changed since the last render"
        );
    }
    for a in &s.advice {
        let _ = writeln!(out, "note: {a}");
    }
    out
}

/// The feeds that ended in `status`, at most [`LISTED`] of them.
fn list_feeds(out: &mut String, s: &RunSummary, status: FeedStatus, word: &str) {
    let listed: Vec<&FeedReport> = s.feeds.iter().filter(|f| f.status == status).collect();
    for f in listed.iter().take(LISTED) {
        let _ = writeln!(out, "{}", feed_line(f));
    }
    if listed.len() > LISTED {
        let _ = writeln!(
            out,
            "  … and {} more {word} feeds (-v lists all)",
            listed.len() - LISTED
        );
    }
}

/// `inspect`'s text: the feed, then each entry with its key, links, dates and length.
pub fn inspection(report: &Inspection) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "source:   {}", report.source);
    let _ = writeln!(out, "final:    {}", report.final_url);
    let _ = writeln!(out, "title:    {}", report.title);
    let _ = writeln!(
        out,
        "format:   {}   encoding: {}",
        report.format, report.encoding
    );
    if report.repairs.is_empty() {
        let _ = writeln!(out, "repairs:  none");
    } else {
        let _ = writeln!(out, "repairs:  {}", report.repairs.join("; "));
    }
    for w in &report.warnings {
        let _ = writeln!(out, "warning:  {w}");
    }
    if let Some(p) = &report.page {
        out.push_str(&page_lines(p));
        return out;
    }
    let _ = writeln!(out, "entries:  {}", report.entries.len());
    for e in &report.entries {
        let _ = writeln!(out);
        let _ = writeln!(out, "  {}", e.title);
        let _ = writeln!(out, "    key:        {}", e.key);
        let _ = writeln!(out, "    link:       {}", e.link.as_deref().unwrap_or("-"));
        let _ = writeln!(
            out,
            "    normalised: {}",
            e.normalised_link.as_deref().unwrap_or("-")
        );
        let _ = writeln!(
            out,
            "    published:  {}   updated: {}",
            e.published.as_deref().unwrap_or("-"),
            e.updated.as_deref().unwrap_or("-")
        );
        let chars = e
            .chars
            .map(|c| c.to_string())
            .unwrap_or_else(|| "unknown".into());
        let _ = writeln!(out, "    chars:      {chars}");
        for w in &e.warnings {
            let _ = writeln!(out, "    warning:    {w}");
        }
    }
    out
}

/// `discover`'s text: each input with its platform, the feeds found and the rule that found
/// each.
pub fn discoveries(results: &[Discovery]) -> String {
    let mut out = String::new();
    for d in results {
        let _ = writeln!(out, "{}  [{}]", d.input, d.platform);
        for f in &d.feeds {
            let check = if f.verified {
                "verified"
            } else {
                "not verified"
            };
            let what = [f.format.as_deref(), f.title.as_deref().map(|t| t.trim())]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", ");
            let sep = if what.is_empty() { "" } else { "; " };
            let _ = writeln!(out, "  {}  (rule {}; {check}{sep}{what})", f.url, f.rule);
            if let Some(note) = &f.note {
                let _ = writeln!(out, "    {note}");
            }
        }
        if let Some(error) = &d.error {
            let _ = writeln!(out, "  {error}");
        }
    }
    out
}

/// What the reader found on a post's page, for `submit` and `inspect`: title, date, and the
/// article's length (with the rule that found it and its opening words) or why there is none.
pub fn page_read(final_url: &str, page: &crate::reader::Page, tz: Tz) -> String {
    page_lines(&InspectedPage::of(final_url.to_string(), page, tz))
}

/// A page as the reader saw it, a line per fact.
fn page_lines(p: &InspectedPage) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "page:     {}", p.final_url);
    let _ = writeln!(out, "title:    {}", p.title.as_deref().unwrap_or("-"));
    let _ = writeln!(out, "date:     {}", p.published.as_deref().unwrap_or("-"));
    match (&p.chars, &p.rule) {
        (Some(c), Some(rule)) => {
            let _ = writeln!(out, "chars:    {c} (rule {rule})");
            let _ = writeln!(out, "text:     {}", p.text.as_deref().unwrap_or(""));
        }
        _ => {
            let why = p.error.as_deref().unwrap_or("no article");
            let _ = writeln!(out, "chars:    unknown ({why})");
        }
    }
    out
}

/// The lines for how sending each audience's digest ended, and how many were not sent.
pub fn send_outcomes(week: Week, outcomes: &[SendOutcome], tz: Tz) -> (String, usize) {
    let mut out = String::new();
    let mut failed = 0;
    for o in outcomes {
        match o {
            SendOutcome::Sent {
                audience,
                recipients,
            } => {
                let _ = writeln!(
                    out,
                    "{week} {}: sent to {recipients} recipient(s)",
                    audience.as_str()
                );
            }
            SendOutcome::AlreadySent { audience, sent_at } => {
                let _ = writeln!(
                    out,
                    "{week} {}: already sent at {}; not sent again (use --force to resend)",
                    audience.as_str(),
                    rfc3339_unix(*sent_at, tz)
                );
            }
            SendOutcome::NoRecipients(Audience::Members) => {
                let _ = writeln!(out, "{week} members: [email] to is empty; nothing sent");
            }
            SendOutcome::NoRecipients(Audience::Operators) => {}
            SendOutcome::Failed { audience, error } => {
                failed += 1;
                let _ = writeln!(out, "{week} {}: NOT sent: {error}", audience.as_str());
            }
        }
    }
    (out, failed)
}
