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
