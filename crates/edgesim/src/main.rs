//! The edgesim command line: run scenarios, validate them, serve as an
//! agent.

mod cmd_agent;
mod cmd_compare;
mod cmd_replay;
mod cmd_report;
mod cmd_run;
mod cmd_sweep;
mod cmd_trigger;
mod cmd_validate;
mod cmd_workload;
mod dirlock;
mod input_limits;
mod signals;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Simulate a CloudFront-like CDN with Lambda@Edge triggers: many PoPs with
/// their own caches, synthetic viewers from many countries and devices,
/// and reports of latency, origin offload and migrations.
#[derive(Parser, Debug)]
#[command(name = "edgesim", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a scenario end to end and write its report.
    Run(cmd_run::Args),
    /// Run a scenario's baseline and [[variants]], or several scenario
    /// files (or read saved reports), and compare them: ranking, overlay
    /// plots, index.html.
    Compare(Box<cmd_compare::Args>),
    /// Run a scenario once per value of one parameter (or per combination
    /// of several: --vary, repeatable) and plot the metrics against it,
    /// with optional limits.
    Sweep(Box<cmd_sweep::Args>),
    /// Check scenario files and list every problem with file:line:col.
    Validate(cmd_validate::Args),
    /// Serve as an edge agent for a coordinator.
    Agent(cmd_agent::Args),
    /// Redraw a saved report's plots and index.html from its summary.json.
    Report(cmd_report::Args),
    /// Replay a cache trace through eviction policies and cache sizes.
    Replay(Box<cmd_replay::Args>),
    /// Work with Lambda@Edge trigger handlers.
    #[command(subcommand)]
    Trigger(TriggerCommand),
    /// Workloads from CloudFront standard logs.
    #[command(subcommand)]
    Workload(cmd_workload::Command),
}

#[derive(Subcommand, Debug)]
enum TriggerCommand {
    /// Run a handler once on a CloudFront-shaped event, as CloudFront would.
    Test(Box<cmd_trigger::Args>),
    /// Preflight a function before a deploy: every limit and restriction it breaks, at once.
    Check(Box<cmd_trigger::CheckArgs>),
}

/// Exit status of a command whose output pipe was closed, as a shell
/// reports one killed by SIGPIPE (128 + 13).
const CLOSED_PIPE_EXIT: i32 = 141;

/// Ends the process quietly when printing fails because the reader of
/// stdout or stderr went away (`edgesim run ... | head -1`), instead of
/// the panic and backtrace `println!` gives then. Commands that talk to
/// agents keep SIGPIPE ignored (a socket closed by its peer must be an
/// error, not the end of the coordinator), so they meet the closed pipe as
/// this panic.
fn quiet_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.starts_with("failed printing to std")
            && (message.contains("os error 32") || message.contains("Broken pipe"))
        {
            std::process::exit(CLOSED_PIPE_EXIT);
        }
        default(info);
    }));
}

fn main() -> ExitCode {
    quiet_on_closed_pipe();
    let cli = Cli::parse();
    // Commands that only read files and print end on a closed pipe as
    // other Unix tools do: by SIGPIPE's default action, which Rust
    // programs otherwise ignore.
    if !matches!(
        cli.command,
        Command::Run(_) | Command::Compare(_) | Command::Sweep(_) | Command::Agent(_)
    ) {
        sigpipe::reset();
    }
    let result = match cli.command {
        Command::Run(args) => cmd_run::run(args),
        Command::Compare(args) => cmd_compare::run(*args),
        Command::Sweep(args) => cmd_sweep::run(*args),
        Command::Validate(args) => cmd_validate::run(args),
        Command::Agent(args) => cmd_agent::run(args),
        Command::Replay(args) => cmd_replay::run(*args),
        Command::Report(args) => cmd_report::run(args),
        Command::Trigger(TriggerCommand::Test(args)) => cmd_trigger::run(*args),
        Command::Trigger(TriggerCommand::Check(args)) => cmd_trigger::run_check(*args),
        Command::Workload(command) => cmd_workload::run(command),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            match e.downcast_ref::<cmd_run::Interrupted>() {
                Some(i) => ExitCode::from(signals::exit_code(i.signal)),
                None => ExitCode::FAILURE,
            }
        }
    }
}
