//! The command line: clap definitions only (the README's *Commands* table says what each does).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Feed aggregator of the 글또 writing club: polls member blogs, judges rounds, publishes a merged
/// Atom feed.
#[derive(Debug, Parser)]
#[command(name = "geultto-agg", version, about)]
pub struct Cli {
    /// The roster and settings. Without -c: the file named by the environment variable
    /// GEULTTO_AGG_CONFIG when it is set, else ./feeds.toml.
    #[arg(
        short = 'c',
        long = "config",
        global = true,
        env = "GEULTTO_AGG_CONFIG",
        default_value = "feeds.toml",
        value_name = "PATH"
    )]
    pub config: PathBuf,
    /// Replace the wall clock everywhere (RFC 3339), e.g. 2024-11-20T12:00:00+09:00.
    #[arg(long, global = true, value_name = "RFC3339")]
    pub now: Option<String>,
    /// More detail on stderr (per-feed lines).
    #[arg(short, long, global = true, conflicts_with = "quiet")]
    pub verbose: bool,
    /// Only errors on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// What to do: one subcommand per job.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Poll feeds, update the store, then write every output (as `build`).
    Fetch(FetchArgs),
    /// Write the outputs from the store, no network.
    Build,
    /// Fetch or read one feed and show what the tool sees.
    Inspect(InspectArgs),
    /// Find a blog's feed from its homepage or a post URL, with the rule that found it.
    Discover(DiscoverArgs),
    /// Per-feed health: last poll, failures, errors in plain words, moved and gone feeds.
    Feeds(FeedsArgs),
    /// Who posted in which round: one status per member and round, with totals and deductions.
    Report(ReportArgs),
    /// Validate the config offline and report every problem at once: unknown keys (with "did you
    /// mean"), duplicate members or feeds, bad rounds, passes that break the rules, local feed
    /// files that do not exist. Exit 1 when there is any.
    Check(CheckArgs),
    /// The weekly digest: write it, print one format, or send it by mail and to chat.
    Digest(DigestArgs),
    /// The reminder before a round closes: who has not posted yet; `--send` delivers it to
    /// chat, direct messages and members' own addresses, once per round.
    Remind(RemindArgs),
    /// The roster as OPML 2.0, and back.
    #[command(subcommand)]
    Opml(OpmlCommand),
    /// Record a post by hand (a blog without a feed, a post the feed missed): read its page for
    /// title, date and length, and append it to the member's `extra_posts`.
    Submit(SubmitArgs),
    /// Discover a blog's feed and append the member to the roster file (-c).
    Add(AddArgs),
    /// A signup sheet (CSV) into the roster.
    #[command(subcommand)]
    Csv(CsvCommand),
    /// Write a commented starter feeds.toml (every key, defaults shown) into DIR, and nothing
    /// else; refuses when DIR already has one.
    Init(InitArgs),
    /// Print shell completions to stdout, e.g. `geultto-agg completions bash > geultto-agg.bash`.
    Completions(CompletionsArgs),
    /// Print the man page (roff) to stdout, e.g. `geultto-agg man > geultto-agg.1`.
    Man,
}

/// `add` options.
#[derive(Debug, Args)]
pub struct AddArgs {
    /// The blog's homepage (or a post of it).
    #[arg(value_name = "BLOG_URL")]
    pub blog: String,
    /// The member's id: `[a-z0-9_-]`, the stable key of their posts.
    #[arg(long)]
    pub id: String,
    /// The name shown in outputs.
    #[arg(long)]
    pub name: String,
    /// The member's team.
    #[arg(long, default_value = "")]
    pub team: String,
}

/// `csv` subcommands.
#[derive(Debug, Subcommand)]
pub enum CsvCommand {
    /// Add the members of a signup sheet (columns name, blog, and optionally team, id, feed,
    /// email, slack_id) to the roster file (-c), discovering each blog's feed.
    Import {
        /// The CSV file (a header row, then one member per row).
        file: PathBuf,
    },
}

/// `check` options.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// `text` for a person, `json` for scripts.
    #[arg(long, value_enum, default_value = "text")]
    pub format: TextOrJson,
    /// Shorthand for --format json.
    #[arg(long)]
    pub json: bool,
}

/// `init` options.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The folder to write feeds.toml into (created when missing).
    #[arg(default_value = ".", value_name = "DIR")]
    pub dir: PathBuf,
}

/// `completions` options.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `remind` options.
#[derive(Debug, Args)]
pub struct RemindArgs {
    /// The round to remind of (default: the open round, if it closes within `[chat] remind_before`).
    #[arg(long, value_name = "N")]
    pub round: Option<u32>,
    /// Deliver it (without: print what would be sent).
    #[arg(long)]
    pub send: bool,
    /// Send again a reminder already delivered for this round.
    #[arg(long, requires = "send")]
    pub force: bool,
    /// `text` for a person, `json` for the messages' payloads.
    #[arg(long, value_enum, default_value = "text")]
    pub format: TextOrJson,
    /// Shorthand for `--format json`.
    #[arg(long)]
    pub json: bool,
}

/// `submit` options.
#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// The member's id.
    pub member: String,
    /// The post's address.
    pub url: String,
    /// The local date it counts on (wins over the page's date; needed when the page has none).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: Option<String>,
    /// Its title (wins over the page's).
    #[arg(long, value_name = "TITLE")]
    pub title: Option<String>,
}

/// Formats `digest --format` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DigestFormat {
    /// HTML email.
    Html,
    /// Plain text.
    Text,
    /// Markdown (Slack, Notion).
    Md,
    /// The complete message (RFC 5322).
    Eml,
}

/// Who a printed digest is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DigestAudience {
    /// The group (`[email] to`).
    Members,
    /// The operators (`[email] operators`): who missed, feeds in trouble.
    Operators,
}

/// `digest` options.
#[derive(Debug, Args)]
pub struct DigestArgs {
    /// The ISO week, e.g. 2024-W46 (default: the last complete week in the club's zone).
    #[arg(long, value_name = "YYYY-Www")]
    pub week: Option<String>,
    /// Print this one format to stdout instead of writing files.
    #[arg(long, value_enum, conflicts_with = "send")]
    pub format: Option<DigestFormat>,
    /// Which audience `--format` prints.
    #[arg(long, value_enum, default_value = "members", requires = "format")]
    pub audience: DigestAudience,
    /// Folder for the .html .txt .md .eml files (default: `[output] digest_dir`).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Send by SMTP as `[email]` says and post to chat as `[chat]` says (once per week,
    /// audience and channel).
    #[arg(long)]
    pub send: bool,
    /// With --send: send again even if this week was already sent.
    #[arg(long, requires = "send")]
    pub force: bool,
}

/// `opml` subcommands.
#[derive(Debug, Subcommand)]
pub enum OpmlCommand {
    /// Print the roster as OPML 2.0 (the same as public/members.opml).
    Export,
    /// Add the feeds of an OPML file to the roster file (-c), keeping its comments and order.
    Import {
        /// The OPML file.
        file: PathBuf,
    },
}

/// Output formats of `report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Aligned for a terminal.
    Table,
    /// For scripts: rounds, and per member each round's status, posts and flags, and totals.
    Json,
    /// One row per member, a column per round.
    Csv,
}

/// `report` options.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A round number, `current` (the open round, or the last closed one) or `all`.
    #[arg(long, default_value = "current", value_name = "N|current|all")]
    pub round: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: ReportFormat,
    /// Shorthand for --format json.
    #[arg(long)]
    pub json: bool,
}

/// `fetch` options.
#[derive(Debug, Args)]
pub struct FetchArgs {
    /// Poll only this member's feeds (repeatable).
    #[arg(long = "member", value_name = "ID")]
    pub members: Vec<String>,
    /// Update the store but write no output files.
    #[arg(long)]
    pub no_output: bool,
    /// Exit 2 when any feed failed this run.
    #[arg(long)]
    pub fail_on_feed_errors: bool,
    /// Ignore the stored validators once: read and parse every feed again in full, filling in
    /// what the store lacks (e.g. posts' HTML after switching to `content = "full"`).
    #[arg(long)]
    pub refetch: bool,
}

/// Output formats of `inspect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TextOrJson {
    /// For people.
    Text,
    /// For scripts.
    Json,
}

/// `inspect` options.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// A feed URL or a local file.
    pub target: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: TextOrJson,
    /// Shorthand for --format json.
    #[arg(long)]
    pub json: bool,
}

/// `discover` options.
#[derive(Debug, Args)]
pub struct DiscoverArgs {
    /// Blog homepages or post URLs (`https://` is assumed when missing).
    #[arg(required = true, value_name = "URL")]
    pub urls: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: TextOrJson,
    /// Shorthand for --format json.
    #[arg(long)]
    pub json: bool,
    /// Use the address rules only: no network, nothing verified.
    #[arg(long)]
    pub offline: bool,
}

/// Output formats of `feeds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TableOrJson {
    /// Aligned for a terminal.
    Table,
    /// For scripts: one object per feed.
    Json,
}

/// `feeds` options.
#[derive(Debug, Args)]
pub struct FeedsArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: TableOrJson,
    /// Shorthand for --format json.
    #[arg(long)]
    pub json: bool,
}
