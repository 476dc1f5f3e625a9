//! The `geultto-agg` binary: parse arguments, set up logging, run a command, map the result to
//! an exit code (0 done, 1 fatal, 2 feed failures with `--fail-on-feed-errors`, 3 locked).
//!
//! Each command is a call into the library and a print of what it returns; the text a person
//! reads is rendered by the library's render stage, machine output is its values as JSON.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use geultto_agg::cli::{
    Cli, Command, DigestArgs, DigestAudience, DigestFormat, DiscoverArgs, FetchArgs, OpmlCommand,
    ReportArgs, ReportFormat, TableOrJson, TextOrJson,
};
use geultto_agg::config::{self, Config};
use geultto_agg::fetch::Session;
use geultto_agg::render::digest::{Audience, Week};
use geultto_agg::render::report::{self, Selection};
use geultto_agg::render::terminal::{self, FeedStatus};
use geultto_agg::store::{RunLock, Store, StoreError};
use geultto_agg::{clock, discover, edit, pipeline, render};

/// A fatal error and the exit code it maps to.
struct Fatal {
    code: u8,
    error: anyhow::Error,
}

impl<E: Into<anyhow::Error>> From<E> for Fatal {
    fn from(e: E) -> Self {
        Fatal {
            code: 1,
            error: e.into(),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let level = match (cli.quiet, cli.verbose) {
        (true, _) => "error",
        (_, true) => "info",
        _ => "warn",
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("GEULTTO_LOG").unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new(format!("warn,geultto_agg={level}"))
            }),
        )
        .with_target(false)
        .without_time()
        .init();
    match run(&cli) {
        Ok(code) => ExitCode::from(code),
        // A reader that closed the pipe (`… | head`) wanted no more: end quietly.
        Err(Fatal { error, .. }) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(Fatal { code, error }) => {
            eprintln!("error: {error:#}");
            ExitCode::from(code)
        }
    }
}

fn run(cli: &Cli) -> Result<u8, Fatal> {
    let now = match &cli.now {
        Some(text) => Some(clock::parse_now(text).map_err(anyhow::Error::msg)?),
        None => None,
    };
    let now = clock::now(now);
    // Discovery needs no roster: without a config file it runs with the default settings.
    let config = match &cli.command {
        Command::Discover(_) if !cli.config.exists() => None,
        _ => Some(Config::load(&cli.config)?),
    };
    let cores = config
        .as_ref()
        .map_or_else(config::available_cores, |c| c.cores);
    // The one runtime, built only by the commands that need it: a few blocking threads (feeds are
    // parsed on at most one per core, local files read), as every extra thread's malloc arena
    // would hold memory.
    let runtime = || {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .max_blocking_threads(cores + 2)
            .build()
            .context("cannot start the async runtime")
    };
    let Some(config) = config else {
        if let Command::Discover(args) = &cli.command {
            return discover(None, args, runtime()?);
        }
        return Ok(0);
    };
    let config = &config;
    match &cli.command {
        Command::Fetch(args) => fetch(cli, config, args, now, runtime()?),
        Command::Build => {
            let _lock = lock(config)?;
            let store = Store::open(&config.storage_path)?;
            for path in pipeline::build(config, &store, now)? {
                say(cli, &format!("wrote {}\n", path.display()));
            }
            Ok(0)
        }
        Command::Inspect(args) => {
            let report = runtime()?.block_on(pipeline::inspect(config, &args.target))?;
            if args.json || args.format == TextOrJson::Json {
                print_json(&report)
            } else {
                print(&terminal::inspection(&report))
            }
        }
        Command::Discover(args) => discover(Some(config), args, runtime()?),
        Command::Feeds(args) => {
            let store = Store::open(&config.storage_path)?;
            let lines = pipeline::feed_lines(config, &store, now)?;
            if args.json || args.format == TableOrJson::Json {
                return print_json(&lines);
            }
            let (table, count) = render::feeds::table(&lines);
            print(&table)?;
            eprintln!("{count}");
            Ok(0)
        }
        Command::Report(args) => {
            warn_roster(cli, config);
            report(config, args, now)
        }
        Command::Digest(args) => digest(cli, config, args, now, runtime),
        Command::Opml(OpmlCommand::Export) => print_bytes(&render::opml::export(config)),
        Command::Opml(OpmlCommand::Import { file }) => {
            let report = edit::opml::import(&cli.config, file)?;
            if report.is_empty() {
                eprintln!("{}: nothing new to add", cli.config.display());
            }
            for line in report {
                eprintln!("{line}");
            }
            Ok(0)
        }
        Command::Check => check(cli, config),
    }
}

/// `fetch`: poll, store, build; a progress bar on a terminal, a line per feed with `-v`.
fn fetch(
    cli: &Cli,
    config: &Config,
    args: &FetchArgs,
    now: chrono::DateTime<chrono::Utc>,
    runtime: tokio::runtime::Runtime,
) -> Result<u8, Fatal> {
    warn_roster(cli, config);
    let _lock = lock(config)?;
    let mut store = Store::open(&config.storage_path)?;
    let bar = (!cli.quiet && std::io::stderr().is_terminal()).then(|| {
        let style = indicatif::ProgressStyle::with_template(
            "{spinner} {pos}/{len} feeds {wide_bar} {elapsed}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
        indicatif::ProgressBar::new(0).with_style(style)
    });
    let progress = |report: &terminal::FeedReport, done: usize, total: usize| {
        if let Some(bar) = &bar {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        }
        if cli.verbose {
            match &bar {
                Some(bar) => bar.println(terminal::feed_line(report)),
                None => eprintln!("{}", terminal::feed_line(report)),
            }
        }
    };
    let fetching = pipeline::fetch(
        config,
        &mut store,
        now,
        &args.members,
        args.no_output,
        progress,
    );
    let summary = runtime.block_on(fetching)?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    say(cli, &terminal::summary(&summary, cli.verbose));
    let failed = summary.count(&FeedStatus::Failed);
    Ok(if args.fail_on_feed_errors && failed > 0 {
        2
    } else {
        0
    })
}

/// `discover`: every input concurrently through one client (or the address rules alone).
fn discover(
    config: Option<&Config>,
    args: &DiscoverArgs,
    runtime: tokio::runtime::Runtime,
) -> Result<u8, Fatal> {
    let results: Vec<discover::Discovery> = if args.offline {
        args.urls.iter().map(|u| discover::offline(u)).collect()
    } else {
        let settings = config.map(|c| c.fetch.settings.clone()).unwrap_or_default();
        let tz = config.map_or(chrono_tz::Asia::Seoul, |c| c.club.timezone);
        let session = Session::new(&settings);
        let all = args
            .urls
            .iter()
            .map(|u| discover::discover(&session, tz, u));
        runtime.block_on(futures::future::join_all(all))
    };
    if args.json || args.format == TextOrJson::Json {
        return print_json(&results);
    }
    print(&terminal::discoveries(&results))
}

/// `report`: the judgement of the chosen round(s) as a table, JSON or CSV.
fn report(
    config: &Config,
    args: &ReportArgs,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<u8, Fatal> {
    let store = Store::open(&config.storage_path)?;
    let judgement = pipeline::judgement(config, &store, now)?;
    let selection =
        Selection::from_arg(&args.round, &judgement.rounds, now).map_err(anyhow::Error::msg)?;
    let (club, tz) = (&config.club.name, config.club.timezone);
    match if args.json {
        ReportFormat::Json
    } else {
        args.format
    } {
        ReportFormat::Json => print_json(&report::json(club, tz, &judgement, now, selection)),
        ReportFormat::Table => print(&report::table(club, &judgement, now, selection)),
        ReportFormat::Csv => print(&report::csv(&judgement, selection)),
    }
}

/// `digest`: print one format, or write every file and optionally send.
fn digest(
    cli: &Cli,
    config: &Config,
    args: &DigestArgs,
    now: chrono::DateTime<chrono::Utc>,
    runtime: impl FnOnce() -> anyhow::Result<tokio::runtime::Runtime>,
) -> Result<u8, Fatal> {
    let week = match &args.week {
        Some(w) => w.parse::<Week>()?,
        None => Week::last_complete(now, config.club.timezone),
    };
    // Sending takes the run lock: two cron jobs must not both send the same week.
    let _lock = if args.send { Some(lock(config)?) } else { None };
    let mut store = Store::open(&config.storage_path)?;
    if args.send && config.email.is_none() {
        return Err(pipeline::RunError::NoEmail.into());
    }
    let prepared = pipeline::prepare_digests(config, &store, week, now)?;
    if let Some(format) = args.format {
        let audience = match args.audience {
            DigestAudience::Members => Audience::Members,
            DigestAudience::Operators => Audience::Operators,
        };
        let Some(p) = prepared.iter().find(|p| p.audience == audience) else {
            return Ok(0);
        };
        return print_bytes(match format {
            DigestFormat::Html => p.html.as_bytes(),
            DigestFormat::Text => p.text.as_bytes(),
            DigestFormat::Md => p.markdown.as_bytes(),
            DigestFormat::Eml => &p.eml,
        });
    }
    let dir = args.out.as_ref().unwrap_or(&config.output.digest_dir);
    let written = pipeline::write_digests(dir, &prepared)?;
    for p in &prepared {
        let (posts, rounds) = (p.digest.post_count, p.digest.rounds.len());
        let audience = p.audience.as_str();
        say(
            cli,
            &format!("{week} {audience}: {posts} new post(s), {rounds} round(s) due\n"),
        );
    }
    for path in &written {
        say(cli, &format!("wrote {}\n", path.display()));
    }
    if !args.send {
        return Ok(0);
    }
    let sending = pipeline::send_digests(config, &mut store, prepared, args.force, now);
    let outcomes = runtime()?.block_on(sending)?;
    let (lines, failed) = terminal::send_outcomes(week, &outcomes, config.club.timezone);
    eprint!("{lines}");
    if failed > 0 {
        return Err(anyhow::anyhow!(
            "{failed} digest message(s) not sent; they are not recorded, so the next run will try again"
        )
        .into());
    }
    Ok(0)
}

/// `check`: the roster rules are errors here.
fn check(cli: &Cli, config: &Config) -> Result<u8, Fatal> {
    let problems = config::roster_problems(config);
    let path = cli.config.display();
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("{path}: {p}");
        }
        let error = anyhow::anyhow!("{} roster problem(s) in {path}", problems.len());
        return Err(Fatal { code: 1, error });
    }
    let feeds: usize = config.members.iter().map(|m| m.feeds.len()).sum();
    let (members, rounds) = (config.members.len(), config.rounds.due.len());
    print(&format!(
        "{path}: ok — {members} members, {feeds} feeds, {rounds} rounds\n"
    ))
}

/// Roster-rule problems are warnings outside `check`.
fn warn_roster(cli: &Cli, config: &Config) {
    for p in config::roster_problems(config) {
        say(cli, &format!("warning: {p}\n"));
    }
}

fn lock(config: &Config) -> Result<RunLock, Fatal> {
    RunLock::acquire(&config.storage_path).map_err(|e| Fatal {
        code: if matches!(e, StoreError::Locked(_)) {
            3
        } else {
            1
        },
        error: e.into(),
    })
}

/// Text for a person on stderr, unless `-q`.
fn say(cli: &Cli, text: &str) {
    if !cli.quiet {
        eprint!("{text}");
    }
}

fn print(text: &str) -> Result<u8, Fatal> {
    print_bytes(text.as_bytes())
}

fn print_json(value: &impl serde::Serialize) -> Result<u8, Fatal> {
    print(&(serde_json::to_string_pretty(value)? + "\n"))
}

/// Writes machine or table output to stdout through one handle, so a closed pipe is an error
/// value (a quiet exit) rather than a panic.
fn print_bytes(bytes: &[u8]) -> Result<u8, Fatal> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .context("cannot write to stdout")?;
    Ok(0)
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
