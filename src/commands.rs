//! The commands of the binary, one function each: load what the command needs, call the
//! library, print what it returns — text for a person through the render stage, values as JSON
//! for scripts — and say which exit code a failure maps to.
//!
//! Output for a person goes to stderr (unless `-q`), machine output and tables to stdout through
//! one handle, so a reader that closes the pipe ends the command quietly.

use std::io::{IsTerminal, Write};

use anyhow::Context;
use clap::CommandFactory;
use geultto_agg::cli::{
    AddArgs, CheckArgs, Cli, Command, CsvCommand, DigestArgs, DigestAudience, DigestFormat,
    DiscoverArgs, FetchArgs, InitArgs, OpmlCommand, RemindArgs, ReportArgs, ReportFormat,
    SubmitArgs, TableOrJson, TextOrJson,
};
use geultto_agg::config::{self, Config};
use geultto_agg::render::digest::{Audience, Week};
use geultto_agg::render::report::{self, Selection};
use geultto_agg::render::terminal::{self, FeedStatus};
use geultto_agg::store::{RunLock, Store, StoreError};
use geultto_agg::{clock, edit, pipeline, render};
use tokio::runtime::Runtime;

/// A fatal error and the exit code it maps to.
pub struct Fatal {
    /// The exit code.
    pub code: u8,
    /// What went wrong, with what was being done.
    pub error: anyhow::Error,
}

impl<E: Into<anyhow::Error>> From<E> for Fatal {
    fn from(e: E) -> Self {
        Fatal {
            code: 1,
            error: e.into(),
        }
    }
}

/// Runs the command `cli` names; `Ok` holds the exit code of a run that completed.
pub fn run(cli: &Cli) -> Result<u8, Fatal> {
    let now = match &cli.now {
        Some(text) => Some(clock::parse_now(text).map_err(anyhow::Error::msg)?),
        None => None,
    };
    let now = clock::now(now);
    if let Some(done) = without_roster(cli) {
        return done;
    }
    // Discovery needs no roster: without a config file it runs with the default settings.
    let config = match &cli.command {
        Command::Discover(_) if !cli.config.exists() => None,
        _ => Some(Config::load(&cli.config)?),
    };
    let cores = config
        .as_ref()
        .map_or_else(config::available_cores, |c| c.cores);
    let runtime = || pipeline::runtime(cores).context("cannot start the async runtime");
    let Some(config) = config else {
        if let Command::Discover(args) = &cli.command {
            return discover(cli, None, args, runtime()?);
        }
        return Ok(0);
    };
    let config = &config;
    match &cli.command {
        Command::Fetch(args) => fetch(cli, config, args, now, runtime()?),
        Command::Build => {
            let _lock = lock(config)?;
            let store = Store::open(&config.storage_path)?;
            for written in pipeline::build(config, &store, now)? {
                say(cli, &format!("{written}\n"));
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
        Command::Discover(args) => discover(cli, Some(config), args, runtime()?),
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
        Command::Remind(args) => remind(cli, config, args, now, runtime),
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
        Command::Submit(args) => submit(cli, config, args, runtime()?),
        Command::Add(args) => add(cli, config, args, runtime()?),
        Command::Csv(CsvCommand::Import { file }) => csv_import(cli, config, file, runtime()?),
        // Run by `without_roster`, before the roster is loaded.
        Command::Check(_) | Command::Init(_) | Command::Completions(_) | Command::Man => Ok(0),
    }
}

/// `add`: discover the blog's feed, then append the member; nothing found is exit 1, the roster
/// untouched.
fn add(cli: &Cli, config: &Config, args: &AddArgs, rt: Runtime) -> Result<u8, Fatal> {
    if config.member(&args.id).is_some() {
        return Err(edit::add::AddError::Duplicate(args.id.clone()).into());
    }
    let found = rt.block_on(pipeline::discover_all(
        Some(config),
        std::slice::from_ref(&args.blog),
        false,
    ));
    let Some(d) = found.first() else {
        return Ok(1);
    };
    print(&terminal::discoveries(&found))?;
    let Some(feed) = d.main_feed().or_else(|| d.feeds.first()) else {
        let why = d.error.clone().unwrap_or_else(|| "no feed".into());
        let error = anyhow::anyhow!(
            "nothing usable found for {}: {why}; {} was left unchanged",
            args.blog,
            cli.config.display()
        );
        return Err(error.into());
    };
    let member = edit::opml::Imported {
        id: args.id.clone(),
        name: args.name.clone(),
        team: args.team.clone(),
        blog: Some(args.blog.clone()),
        feeds: if feed.is_sitemap() {
            Vec::new()
        } else {
            vec![feed.url.clone()]
        },
        email: None,
        slack_id: None,
    };
    for line in edit::add::add(&cli.config, config, &member)? {
        say(cli, &format!("{line}\n"));
    }
    Ok(0)
}

/// `csv import`: a signup sheet's members, each blog's feed discovered, appended.
fn csv_import(
    cli: &Cli,
    config: &Config,
    file: &std::path::Path,
    rt: Runtime,
) -> Result<u8, Fatal> {
    let text = std::fs::read_to_string(file).map_err(|source| edit::add::AddError::Read {
        path: file.to_path_buf(),
        source,
    })?;
    let mut members = edit::add::parse_csv(&text).map_err(|message| edit::add::AddError::Csv {
        path: file.to_path_buf(),
        message,
    })?;
    let blogs: Vec<String> = members
        .iter()
        .filter(|m| m.feeds.is_empty() && config.member(&m.id).is_none())
        .filter_map(|m| m.blog.clone())
        .collect();
    let found = rt.block_on(pipeline::discover_all(Some(config), &blogs, false));
    for m in members.iter_mut().filter(|m| m.feeds.is_empty()) {
        let feed = found
            .iter()
            .find(|d| Some(&d.input) == m.blog.as_ref())
            .and_then(|d| d.main_feed());
        match feed {
            Some(f) => m.feeds.push(f.url.clone()),
            None if config.member(&m.id).is_none() => say(
                cli,
                &format!(
                    "{}: no feed found on {}; added with its blog alone (fetch tries again)\n",
                    m.id,
                    m.blog.as_deref().unwrap_or("")
                ),
            ),
            None => {}
        }
    }
    let report = edit::add::append(&cli.config, &members)?;
    if report.is_empty() {
        say(
            cli,
            &format!("{}: nothing new to add\n", cli.config.display()),
        );
    }
    for line in report {
        say(cli, &format!("{line}\n"));
    }
    Ok(0)
}

/// The commands that do not load the roster: `check` reads it its own way (on past its
/// problems), the others write or print what needs no roster.
fn without_roster(cli: &Cli) -> Option<Result<u8, Fatal>> {
    Some(match &cli.command {
        Command::Check(args) => check(cli, args),
        Command::Init(args) => init(cli, args),
        Command::Completions(args) => {
            let mut out = Vec::new();
            clap_complete::generate(args.shell, &mut Cli::command(), "geultto-agg", &mut out);
            print_bytes(&out)
        }
        Command::Man => {
            let mut out = Vec::new();
            match clap_mangen::Man::new(Cli::command()).render(&mut out) {
                Ok(()) => print_bytes(&out),
                Err(e) => Err(anyhow::Error::new(e)
                    .context("cannot render the man page")
                    .into()),
            }
        }
        _ => return None,
    })
}

/// `init`: a starter roster in the folder, never over one that is there.
fn init(cli: &Cli, args: &InitArgs) -> Result<u8, Fatal> {
    let path = edit::init::init(&args.dir)?;
    say(
        cli,
        &format!(
            "wrote {0}: every key, defaults shown. Edit it, then run `geultto-agg -c {0} check`\n",
            path.display()
        ),
    );
    Ok(0)
}

/// `submit`: read the post's page, say what it gave, and record the post by hand.
fn submit(cli: &Cli, config: &Config, args: &SubmitArgs, rt: Runtime) -> Result<u8, Fatal> {
    let url = url::Url::parse(&args.url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| anyhow::anyhow!("{:?} is not an http(s) address of a post", args.url))?;
    if config.member(&args.member).is_none() {
        let ids: Vec<&str> = config.members.iter().map(|m| m.id.as_str()).collect();
        let error = anyhow::anyhow!(
            "no member `{}`; the ids are: {}",
            args.member,
            ids.join(", ")
        );
        return Err(error.into());
    }
    let tz = config.club.timezone;
    let page = rt.block_on(pipeline::read_page(config, &url));
    let (title, page_date) = match &page {
        Ok((final_url, page)) => {
            eprint!("{}", terminal::page_read(final_url, page, tz));
            (
                page.title.clone(),
                page.published.map(|d| d.with_timezone(&tz).date_naive()),
            )
        }
        Err(why) => {
            eprintln!("page:     {url}: not read ({why})");
            (None, None)
        }
    };
    let date = match &args.date {
        Some(d) => Some(
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map_err(|_| anyhow::anyhow!("--date {d:?}: write it as YYYY-MM-DD"))?,
        ),
        None => page_date,
    };
    let Some(date) = date else {
        let error = anyhow::anyhow!(
            "{url}: the page gives no date; give the post's date with --date YYYY-MM-DD \
             ({} is unchanged)",
            cli.config.display()
        );
        return Err(error.into());
    };
    let title = args.title.clone().or(title).unwrap_or_default();
    let post = edit::submit::Submission {
        member: args.member.clone(),
        url,
        date,
        title,
    };
    edit::submit::submit(&cli.config, &post)?;
    say(
        cli,
        &format!(
            "recorded in {}: {} {} {}\n",
            cli.config.display(),
            post.member,
            post.date,
            post.url
        ),
    );
    Ok(0)
}

/// `fetch`: poll, store, build; a progress bar on a terminal, a line per feed with `-v`.
fn fetch(
    cli: &Cli,
    config: &Config,
    args: &FetchArgs,
    now: chrono::DateTime<chrono::Utc>,
    runtime: Runtime,
) -> Result<u8, Fatal> {
    warn_roster(cli, config);
    let _lock = lock(config)?;
    let mut store = Store::open(&config.storage_path)?;
    let bar = !cli.quiet && std::io::stderr().is_terminal();
    let progress = terminal::Progress::new(bar, cli.verbose);
    let on_feed = |report: &terminal::FeedReport, done, total| progress.feed(report, done, total);
    let summary = pipeline::fetch(
        config,
        &mut store,
        now,
        &args.members,
        pipeline::FetchOptions {
            no_output: args.no_output,
            refetch: args.refetch,
        },
        on_feed,
        runtime,
    )?;
    progress.finish();
    say(cli, &terminal::summary(&summary, cli.verbose));
    let failed = summary.count(&FeedStatus::Failed);
    Ok(if args.fail_on_feed_errors && failed > 0 {
        2
    } else {
        0
    })
}

/// `discover`: blog addresses to feeds, as text or JSON.
fn discover(
    cli: &Cli,
    config: Option<&Config>,
    args: &DiscoverArgs,
    rt: Runtime,
) -> Result<u8, Fatal> {
    if !args.offline {
        // The network may be away: say what is being waited for rather than sit silent.
        let settings = config.map(|c| c.fetch.settings.clone()).unwrap_or_default();
        say(
            cli,
            &format!(
                "discovering {} address(es) (each request up to {}s, connecting up to {}s; --offline uses the address rules only)\n",
                args.urls.len(),
                settings.timeout.as_secs(),
                settings.connect_timeout.as_secs()
            ),
        );
    }
    let results = rt.block_on(pipeline::discover_all(config, &args.urls, args.offline));
    if args.json || args.format == TextOrJson::Json {
        print_json(&results)?;
    } else {
        print(&terminal::discoveries(&results))?;
    }
    let nothing: Vec<&str> = results
        .iter()
        .filter(|d| d.feeds.is_empty())
        .map(|d| d.input.as_str())
        .collect();
    if nothing.is_empty() {
        return Ok(0);
    }
    let error = anyhow::anyhow!(
        "nothing usable found for {}; check the address, or record its posts with `submit`",
        nothing.join(", ")
    );
    Err(error.into())
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
    let format = if args.json {
        ReportFormat::Json
    } else {
        args.format
    };
    match format {
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
    runtime: impl FnOnce() -> anyhow::Result<Runtime>,
) -> Result<u8, Fatal> {
    let week = match &args.week {
        Some(w) => w.parse::<Week>()?,
        None => Week::last_complete(now, config.club.timezone),
    };
    // Sending takes the run lock: two cron jobs must not both send the same week.
    let _lock = if args.send { Some(lock(config)?) } else { None };
    let mut store = open_store(config, args.send)?;
    let prepared = pipeline::prepare_digests(config, &store, week, now)?;
    if let Some(format) = args.format {
        let audience = match args.audience {
            DigestAudience::Members => Audience::Members,
            DigestAudience::Operators => Audience::Operators,
        };
        let Some(p) = prepared.iter().find(|p| p.audience == audience) else {
            return Ok(0);
        };
        let ext = match format {
            DigestFormat::Html => "html",
            DigestFormat::Text => "txt",
            DigestFormat::Md => "md",
            DigestFormat::Eml => "eml",
        };
        let files = p.files();
        return print_bytes(
            files
                .iter()
                .find(|(e, _)| *e == ext)
                .map_or(&[], |(_, b)| b),
        );
    }
    let dir = args.out.as_ref().unwrap_or(&config.output.digest_dir);
    let files = pipeline::write_digests(dir, &store, &prepared, args.send && args.force)?;
    let counts = prepared
        .iter()
        .map(|p| (p.audience, p.digest.post_count, p.digest.rounds.len()));
    say(cli, &terminal::digest_written(week, counts, &files.written));
    for kept in &files.kept {
        say(
            cli,
            &format!("kept {} (the copy that was sent)\n", kept.display()),
        );
    }
    if !args.send {
        return Ok(0);
    }
    let rt = runtime()?;
    let chat = rt.block_on(pipeline::send_chat_digests(
        config, &mut store, &prepared, args.force, now,
    ))?;
    let mut failed = chat.iter().filter(|o| o.failed()).count();
    for outcome in &chat {
        eprintln!("digest {week} → {outcome}");
    }
    if config.email.is_some() {
        let sending = pipeline::send_digests(config, &mut store, prepared, args.force, now);
        let outcomes = rt.block_on(sending)?;
        let (lines, mail_failed) = terminal::send_outcomes(week, &outcomes, config.club.timezone);
        eprint!("{lines}");
        failed += mail_failed;
    }
    if failed > 0 {
        return Err(anyhow::anyhow!(
            "{failed} digest message(s) not sent; they are not recorded, so the next run will try again"
        )
        .into());
    }
    Ok(0)
}

/// `remind`: print the reminder (text or the payloads), and with `--send` deliver it.
fn remind(
    cli: &Cli,
    config: &Config,
    args: &RemindArgs,
    now: chrono::DateTime<chrono::Utc>,
    runtime: impl FnOnce() -> anyhow::Result<Runtime>,
) -> Result<u8, Fatal> {
    let _lock = if args.send { Some(lock(config)?) } else { None };
    let mut store = open_store(config, args.send)?;
    let prepared = match pipeline::prepare_reminder(config, &store, args.round, now)? {
        Ok(p) => p,
        // A daily cron's usual day: nothing closes soon. `--round N` that cannot be reminded
        // of is the operator's mistake.
        Err(why) if args.round.is_none() => {
            say(cli, &format!("{why}\n"));
            return Ok(0);
        }
        Err(why) => return Err(anyhow::Error::new(why).into()),
    };
    if args.json || args.format == TextOrJson::Json {
        print_json(&prepared)?;
    } else {
        print(&render::remind::text(&prepared.reminder))?;
    }
    if !args.send {
        return Ok(0);
    }
    let round = prepared.reminder.round;
    let outcomes = runtime()?.block_on(pipeline::send_reminder(
        config, &mut store, prepared, args.force, now,
    ))?;
    for outcome in &outcomes {
        eprintln!("remind round {round} → {outcome}");
    }
    let failed = outcomes.iter().filter(|o| o.failed()).count();
    if failed > 0 {
        let error = anyhow::anyhow!(
            "{failed} reminder delivery(ies) failed; they are not recorded, so the next run sends them (and only them)"
        );
        return Err(error.into());
    }
    Ok(0)
}

/// `check`: every problem of the config file, the roster rules among them, as text or JSON;
/// exit 1 when there is any.
fn check(cli: &Cli, args: &CheckArgs) -> Result<u8, Fatal> {
    let report = config::check(&cli.config)?;
    if args.json || args.format == TextOrJson::Json {
        print_json(&report)?;
        return Ok(u8::from(!report.ok));
    }
    let path = cli.config.display();
    let mut text = String::new();
    for p in &report.problems {
        text.push_str(&format!("{path}: {p}\n"));
    }
    if report.ok {
        let (members, feeds, rounds) = (report.members, report.feeds, report.rounds);
        text.push_str(&format!(
            "{path}: ok — {members} members, {feeds} feeds, {rounds} rounds\n"
        ));
        return print(&text);
    }
    print(&text)?;
    let error = anyhow::anyhow!(
        "{} problem(s) in {path}; fix them and run check again",
        report.problems.len()
    );
    Err(Fatal { code: 1, error })
}

/// Roster-rule problems are warnings outside `check`.
fn warn_roster(cli: &Cli, config: &Config) {
    for p in config::roster_problems(config) {
        say(cli, &format!("warning: {p}\n"));
    }
}

/// The store, for a command that may send: sending needs `[email]` or `[chat]`, and a store on
/// which a fetch completed (a missing store is not created for it).
fn open_store(config: &Config, sending: bool) -> Result<Store, Fatal> {
    if !sending {
        return Ok(Store::open(&config.storage_path)?);
    }
    if config.email.is_none() && config.chat.is_none() {
        return Err(pipeline::RunError::NoEmail.into());
    }
    let never = || pipeline::RunError::NeverFetched(config.storage_path.clone());
    if !config.storage_path.exists() {
        return Err(never().into());
    }
    let store = Store::open(&config.storage_path)?;
    if !store.first_run_completed()? {
        return Err(never().into());
    }
    Ok(store)
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
