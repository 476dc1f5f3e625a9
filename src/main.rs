//! The `geultto-agg` binary: parse arguments, set up logging, run a command, map the result to
//! an exit code (0 done, 1 fatal, 2 feed failures with `--fail-on-feed-errors`, 3 locked).
//!
//! What each command does is in `commands.rs`, the binary's other module: a call into the
//! library and a print of what it returns.

mod commands;

use std::process::ExitCode;

use clap::Parser;
use commands::Fatal;
use geultto_agg::cli::Cli;

fn main() -> ExitCode {
    fixed_mmap_threshold();
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
    match commands::run(&cli) {
        Ok(code) => ExitCode::from(code),
        // A reader that closed the pipe (`… | head`) wanted no more: end quietly.
        Err(Fatal { error, .. }) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(Fatal { code, error }) => {
            eprintln!("error: {}", chain_text(&error));
            ExitCode::from(code)
        }
    }
}

/// Large blocks (1 MiB and up) get their own mapping from glibc's malloc, returned to the
/// system when freed, instead of glibc's default: a threshold that starts at 128 KiB and rises
/// to the size of each large block freed, up to 32 MiB. Once it has risen, a run's feed bodies,
/// decoded documents and growing page buffers are carved from the heap and leave it in pieces
/// nothing reuses. At 10,000 feeds that cost about 15 MB of resident memory, for no measurable
/// CPU (README, "Issue 16").
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn fixed_mmap_threshold() {
    const THRESHOLD: libc::c_int = 1024 * 1024;
    // SAFETY: `mallopt` only sets a tunable of the allocator; it is called before any thread
    // is started, and a refusal (a 0 return) leaves glibc's default in place, which is safe.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, THRESHOLD);
    }
}

/// Other C libraries keep their allocator's own policy.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn fixed_mmap_threshold() {}

/// The error and its causes on one line, each cause said once: our messages often name their
/// cause already, which `{:#}` would repeat.
fn chain_text(error: &anyhow::Error) -> String {
    let mut text = error.to_string();
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}

/// Whether the error is stdout closed by its reader.
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
