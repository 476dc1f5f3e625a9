//! The `geultto-agg` binary: parse arguments, set up logging, run a command, map the result to
//! an exit code (0 done, 1 fatal, 2 feed failures with `--fail-on-feed-errors`, 3 locked).

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use geultto_agg::cli::{
    Cli, Command, DigestArgs, DigestAudience, DigestFormat, DiscoverArgs, FeedsArgs, FetchArgs,
    InspectArgs, OpmlCommand, ReportArgs, ReportFormat, TableOrJson, TextOrJson,
};
use geultto_agg::config::Config;
use geultto_agg::pipeline::{self, FeedStatus, Inspection, RunSummary, SendOutcome};
use geultto_agg::render::digest::{Audience, Week};
use geultto_agg::render::report::{self as report_render, Selection};
use geultto_agg::store::{RunLock, Store, StoreError};
use geultto_agg::{clock, rounds};

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
    let level = if cli.quiet {
        "error"
    } else if cli.verbose {
        "info"
    } else {
        "warn"
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
    if let Command::Discover(args) = &cli.command {
        // Discovery needs no roster: without a config file it runs with the default settings.
        let config = if cli.config.exists() {
            Some(Config::load(&cli.config)?)
        } else {
            None
        };
        return discover(config.as_ref(), args);
    }
    let config = Config::load(&cli.config)?;
    let runtime = || {
        // A few blocking threads: they parse feeds (one per core at a time) and read local
        // files; every extra thread would get its own malloc arena and hold its memory.
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .max_blocking_threads(cores + 2)
            .build()
            .context("cannot start the async runtime")
    };
    match &cli.command {
        Command::Fetch(args) => {
            warn_roster(cli, &config);
            let _lock = lock(&config)?;
            let mut store = Store::open(&config.storage_path)?;
            let summary = runtime()?.block_on(fetch(cli, &config, &mut store, now, args))?;
            print_summary(cli, &summary);
            let failed = summary.count(&FeedStatus::Failed);
            Ok(if args.fail_on_feed_errors && failed > 0 {
                2
            } else {
                0
            })
        }
        Command::Build => {
            let _lock = lock(&config)?;
            let store = Store::open(&config.storage_path)?;
            let written = pipeline::build(&config, &store, now)?;
            if !cli.quiet {
                for path in written {
                    eprintln!("wrote {}", path.display());
                }
            }
            Ok(0)
        }
        Command::Inspect(args) => inspect(&config, args, runtime()?),
        Command::Discover(_) => Ok(0), // handled above
        Command::Feeds(args) => feeds(&config, args, now),
        Command::Report(args) => {
            warn_roster(cli, &config);
            report(&config, args, now)
        }
        Command::Digest(args) => digest(cli, &config, args, now, runtime),
        Command::Opml(OpmlCommand::Export) => {
            use std::io::Write;
            std::io::stdout()
                .write_all(&geultto_agg::render::opml::export(&config))
                .context("cannot write to stdout")?;
            Ok(0)
        }
        Command::Opml(OpmlCommand::Import { file }) => {
            let report = geultto_agg::render::opml::import(&cli.config, file)?;
            if report.is_empty() {
                eprintln!("{}: nothing new to add", cli.config.display());
            }
            for line in report {
                eprintln!("{line}");
            }
            Ok(0)
        }
        Command::Check => {
            let problems = rounds::roster_problems(&config);
            if !problems.is_empty() {
                for p in &problems {
                    eprintln!("{}: {p}", cli.config.display());
                }
                return Err(Fatal {
                    code: 1,
                    error: anyhow::anyhow!(
                        "{} roster problem(s) in {}",
                        problems.len(),
                        cli.config.display()
                    ),
                });
            }
            let feeds: usize = config.members.iter().map(|m| m.feeds.len()).sum();
            println!(
                "{}: ok — {} members, {} feeds, {} rounds",
                cli.config.display(),
                config.members.len(),
                feeds,
                config.rounds.due.len()
            );
            Ok(0)
        }
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
        let bytes: &[u8] = match format {
            DigestFormat::Html => p.html.as_bytes(),
            DigestFormat::Text => p.text.as_bytes(),
            DigestFormat::Md => p.markdown.as_bytes(),
            DigestFormat::Eml => &p.eml,
        };
        use std::io::Write;
        std::io::stdout()
            .write_all(bytes)
            .context("cannot write to stdout")?;
        return Ok(0);
    }
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| config.output.digest_dir.clone());
    let written = pipeline::write_digests(&dir, &prepared)?;
    if !cli.quiet {
        for p in &prepared {
            eprintln!(
                "{week} {}: {} new post(s), {} round(s) due",
                p.audience.as_str(),
                p.digest.post_count,
                p.digest.rounds.len()
            );
        }
        for path in &written {
            eprintln!("wrote {}", path.display());
        }
    }
    if !args.send {
        return Ok(0);
    }
    let outcomes = runtime()?.block_on(pipeline::send_digests(
        config, &mut store, prepared, args.force, now,
    ))?;
    let tz = config.club.timezone;
    let mut failed = 0;
    for o in outcomes {
        match o {
            SendOutcome::Sent {
                audience,
                recipients,
            } => eprintln!(
                "{week} {}: sent to {recipients} recipient(s)",
                audience.as_str()
            ),
            SendOutcome::AlreadySent { audience, sent_at } => {
                let at = chrono::DateTime::from_timestamp(sent_at, 0)
                    .map(|t| t.with_timezone(&tz).to_rfc3339())
                    .unwrap_or_default();
                eprintln!(
                    "{week} {}: already sent at {at}; not sent again (use --force to resend)",
                    audience.as_str()
                )
            }
            SendOutcome::NoRecipients(audience) => {
                if audience == Audience::Members {
                    eprintln!("{week} members: [email] to is empty; nothing sent");
                }
            }
            SendOutcome::Failed { audience, error } => {
                failed += 1;
                eprintln!("{week} {}: NOT sent: {error}", audience.as_str());
            }
        }
    }
    if failed > 0 {
        return Err(anyhow::anyhow!(
            "{failed} digest message(s) not sent; they are not recorded, so the next run will try again"
        )
        .into());
    }
    Ok(0)
}

/// Roster-rule problems are warnings outside `check` (SPEC §2).
fn warn_roster(cli: &Cli, config: &Config) {
    if cli.quiet {
        return;
    }
    for p in rounds::roster_problems(config) {
        eprintln!("warning: {p}");
    }
}

fn report(
    config: &Config,
    args: &ReportArgs,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<u8, Fatal> {
    let store = Store::open(&config.storage_path)?;
    let judgement = pipeline::judgement(config, &store, now)?;
    let selection = match args.round.as_str() {
        "all" => Selection::All,
        "current" => match rounds::current_round(&judgement.rounds, now) {
            Some(n) => Selection::One(n),
            None => Selection::All,
        },
        n => match n.parse::<u32>() {
            Ok(n) if n >= 1 && n as usize <= judgement.rounds.len() => Selection::One(n),
            _ => {
                return Err(anyhow::anyhow!(
                    "--round {n:?}: write a round number 1..={}, `current` or `all`",
                    judgement.rounds.len()
                )
                .into())
            }
        },
    };
    let format = if args.json {
        ReportFormat::Json
    } else {
        args.format
    };
    let tz = config.club.timezone;
    match format {
        ReportFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report_render::json(
                &config.club.name,
                tz,
                &judgement,
                now,
                selection
            ))?
        ),
        ReportFormat::Table => print!(
            "{}",
            report_render::table(&config.club.name, &judgement, now, selection)
        ),
        ReportFormat::Csv => print!("{}", report_render::csv(&judgement, selection)),
    }
    Ok(0)
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

async fn fetch(
    cli: &Cli,
    config: &Config,
    store: &mut Store,
    now: chrono::DateTime<chrono::Utc>,
    args: &FetchArgs,
) -> Result<RunSummary, Fatal> {
    let bar = (!cli.quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {pos}/{len} feeds {wide_bar} {elapsed}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let verbose = cli.verbose;
    let summary = pipeline::fetch(
        config,
        store,
        now,
        &args.members,
        args.no_output,
        |report, done, total| {
            if let Some(bar) = &bar {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
            }
            if verbose {
                let line = feed_line(report);
                match &bar {
                    Some(bar) => bar.println(line),
                    None => eprintln!("{line}"),
                }
            }
        },
    )
    .await?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(summary)
}

fn feed_line(r: &pipeline::FeedReport) -> String {
    let what = match r.status {
        FeedStatus::Fetched => format!("ok, {} new, {} history", r.new_posts, r.history),
        FeedStatus::NotModified => "not modified".to_string(),
        FeedStatus::Failed => format!("FAILED: {}", r.error.as_deref().unwrap_or("")),
        FeedStatus::Paused => format!("paused: {}", r.error.as_deref().unwrap_or("")),
        FeedStatus::Skipped => format!("skipped: {}", r.error.as_deref().unwrap_or("")),
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

fn print_summary(cli: &Cli, s: &RunSummary) {
    if cli.quiet {
        return;
    }
    for (member, url, rule) in &s.discovered {
        eprintln!("  {member}: discovered feed {url} (rule {rule})");
    }
    let skipped = s.count(&FeedStatus::Skipped);
    let skipped_words = if skipped > 0 {
        format!(", {skipped} skipped")
    } else {
        String::new()
    };
    eprintln!(
        "{} feeds: {} ok, {} not modified, {} failed, {} paused{skipped_words}; {} new posts",
        s.feeds.len(),
        s.count(&FeedStatus::Fetched),
        s.count(&FeedStatus::NotModified),
        s.count(&FeedStatus::Failed),
        s.count(&FeedStatus::Paused),
        s.new_posts()
    );
    let history: usize = s.feeds.iter().map(|f| f.history).sum();
    if history > 0 {
        eprintln!(
            "{history} older posts recorded as history (judged for rounds, not announced as new)"
        );
    }
    if !cli.verbose {
        let failed: Vec<_> = s
            .feeds
            .iter()
            .filter(|f| f.status == FeedStatus::Failed)
            .collect();
        for f in failed.iter().take(15) {
            eprintln!("{}", feed_line(f));
        }
        if failed.len() > 15 {
            eprintln!(
                "  … and {} more failed feeds (-v lists all)",
                failed.len() - 15
            );
        }
    }
    if !cli.verbose && skipped > 0 {
        let listed: Vec<_> = s
            .feeds
            .iter()
            .filter(|f| f.status == FeedStatus::Skipped)
            .collect();
        for f in listed.iter().take(15) {
            eprintln!("{}", feed_line(f));
        }
        if listed.len() > 15 {
            eprintln!(
                "  … and {} more skipped feeds (-v lists all)",
                listed.len() - 15
            );
        }
    }
    for (m, why) in &s.skipped_members {
        eprintln!("  {m}: no feed to poll: {why}");
    }
    for path in &s.outputs {
        eprintln!("wrote {}", path.display());
    }
}

fn inspect(
    config: &Config,
    args: &InspectArgs,
    runtime: tokio::runtime::Runtime,
) -> Result<u8, Fatal> {
    let report: Inspection = runtime.block_on(pipeline::inspect(config, &args.target))?;
    if args.json || args.format == TextOrJson::Json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(0);
    }
    println!("source:   {}", report.source);
    println!("final:    {}", report.final_url);
    println!("title:    {}", report.title);
    println!(
        "format:   {}   encoding: {}",
        report.format, report.encoding
    );
    if report.repairs.is_empty() {
        println!("repairs:  none");
    } else {
        println!("repairs:  {}", report.repairs.join("; "));
    }
    for w in &report.warnings {
        println!("warning:  {w}");
    }
    println!("entries:  {}", report.entries.len());
    for e in &report.entries {
        println!();
        println!("  {}", e.title);
        println!("    key:        {}", e.key);
        println!("    link:       {}", e.link.as_deref().unwrap_or("-"));
        println!(
            "    normalised: {}",
            e.normalised_link.as_deref().unwrap_or("-")
        );
        println!(
            "    published:  {}   updated: {}",
            e.published.as_deref().unwrap_or("-"),
            e.updated.as_deref().unwrap_or("-")
        );
        println!(
            "    chars:      {}",
            e.chars
                .map(|c| c.to_string())
                .unwrap_or_else(|| "unknown".into())
        );
        for w in &e.warnings {
            println!("    warning:    {w}");
        }
    }
    Ok(0)
}

fn discover(config: Option<&Config>, args: &DiscoverArgs) -> Result<u8, Fatal> {
    let results: Vec<geultto_agg::discover::Discovery> = if args.offline {
        args.urls
            .iter()
            .map(|u| geultto_agg::discover::offline(u))
            .collect()
    } else {
        let settings = config.map(pipeline::fetch_settings).unwrap_or_default();
        let tz = config
            .map(|c| c.club.timezone)
            .unwrap_or(chrono_tz::Asia::Seoul);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        runtime.block_on(async {
            let session = geultto_agg::fetch::Session::new(&settings);
            futures::future::join_all(
                args.urls
                    .iter()
                    .map(|u| geultto_agg::discover::discover(&session, tz, u)),
            )
            .await
        })
    };
    if args.json || args.format == TextOrJson::Json {
        println!("{}", serde_json::to_string_pretty(&results)?);
        return Ok(0);
    }
    for d in &results {
        println!("{}  [{}]", d.input, d.platform);
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
            println!(
                "  {}  (rule {}; {check}{}{})",
                f.url,
                f.rule,
                if what.is_empty() { "" } else { "; " },
                what
            );
            if let Some(note) = &f.note {
                println!("    {note}");
            }
        }
        if let Some(error) = &d.error {
            println!("  {error}");
        }
    }
    Ok(0)
}

fn feeds(
    config: &Config,
    args: &FeedsArgs,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<u8, Fatal> {
    let store = Store::open(&config.storage_path)?;
    let lines = pipeline::feed_lines(config, &store, now)?;
    if args.json || args.format == TableOrJson::Json {
        println!("{}", serde_json::to_string_pretty(&lines)?);
        return Ok(0);
    }
    let day = |t: &Option<String>| {
        t.as_deref()
            .map(|t| t.get(..16).unwrap_or(t).replace('T', " "))
            .unwrap_or_else(|| "-".to_string())
    };
    let width = lines
        .iter()
        .map(|l| l.member.len())
        .max()
        .unwrap_or(6)
        .max(6);
    println!(
        "{:<width$}  {:<8} {:>5}  {:<16}  {:<16}  {:>5}  URL",
        "MEMBER", "STATE", "FAILS", "LAST SUCCESS", "NEXT ATTEMPT", "ITEMS"
    );
    for l in &lines {
        println!(
            "{:<width$}  {:<8} {:>5}  {:<16}  {:<16}  {:>5}  {}",
            l.member,
            l.state,
            l.consecutive_failures,
            day(&l.last_success),
            day(&l.next_attempt),
            l.items,
            l.url
        );
        if let Some(error) = &l.last_error {
            println!("{:<width$}  ↳ {error}", "");
        }
        if let Some(advice) = &l.advice {
            if l.state != "new" {
                println!("{:<width$}  → {advice}", "");
            }
        }
    }
    let troubled = lines
        .iter()
        .filter(|l| !matches!(l.state.as_str(), "ok" | "new"))
        .count();
    eprintln!("{} feeds, {troubled} need attention", lines.len());
    Ok(0)
}
