//! The `infodemic` binary: parses the command line, runs one command, picks the exit code.
//! The only place in the workspace that prints or exits.

mod cli;
mod commands;
mod config;
mod context;
mod exit;
mod output;
mod progress;
mod when;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use crate::cli::{Cli, Command};
use crate::exit::{exit_for, Exit};

fn main() -> ExitCode {
    // Before any thread exists: arenas are handed out as threads first allocate.
    infodemic_service::memory::bound_allocator_arenas();
    let mut cli = Cli::parse();
    cli.global.long_running = cli.command.is_long_running();
    init_logging(
        cli.global.verbose,
        matches!(cli.command, Command::Watch(_) | Command::Worker(_)),
        cli.global.log_json,
    );
    let configured = cli.global.apply_config();
    let global = &cli.global;
    let result = configured.and_then(|()| match cli.command {
        Command::Crawl(args) => commands::crawl::run(&args, global),
        Command::Watch(args) => commands::watch::run(&args, global),
        Command::Feeds(args) => commands::feeds::run(&args, global),
        Command::Query(args) => commands::query::run(args, global),
        Command::Show(args) => commands::show::run(&args, global),
        Command::Review(args) => commands::review::run(args, global),
        Command::Export(args) => commands::export::run(&args, global),
        Command::Import(args) => commands::import::run(&args, global),
        Command::Stats(args) => commands::stats::run(&args, global),
        Command::Classify(args) => commands::classify::run(&args, global),
        Command::Eval(args) => commands::eval::run(&args, global),
        Command::Model(args) => commands::model::run(&args, global),
        Command::Claims(args) => commands::claims::run(&args, global),
        Command::Campaigns(args) => commands::campaigns::run(&args, global),
        Command::Alerts(args) => commands::campaigns::run_alerts(&args, global),
        Command::Rescore(args) => commands::rescore::run(&args, global),
        Command::Worker(args) => commands::worker::run(&args, global),
        Command::Migrate(args) => commands::migrate::run(&args, global),
    });
    match result {
        Ok(exit) => exit.into(),
        Err(error) if output::is_broken_pipe(&error) => Exit::Success.into(),
        Err(error) => {
            let exit = exit_for(&error);
            // Not eprintln!: it panics when stderr is closed.
            let mut stderr = std::io::stderr().lock();
            // Errors quote servers, files and user input: no control character reaches the terminal.
            let message = format!("{error:#}");
            let _ = writeln!(stderr, "error: {}", output::terminal_safe(&message));
            let _ = stderr.flush();
            exit.into()
        }
    }
}

/// Logs go to stderr, in colour only on a terminal; INFODEMIC_LOG (tracing filter syntax)
/// overrides -v.
fn init_logging(verbose: u8, long_running: bool, json: bool) {
    let default = match verbose {
        // A service logs what it does; one-shot commands only what went wrong.
        0 if long_running => "info",
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_env("INFODEMIC_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    // A closed stderr (a log pipe whose reader went away) must not make logging panic: that
    // would kill whatever task logged, a signal handler included.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .log_internal_errors(false);
    if json {
        builder.json().init();
    } else {
        builder.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())).init();
    }
}
