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
mod input_limits;

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
}

fn main() -> ExitCode {
    // Like other Unix tools, end quietly when the reader of our output
    // goes away (`edgesim run ... | head -1`): the default action of
    // SIGPIPE, which Rust programs otherwise ignore (and then panic on the
    // failed write in println!). Sockets are unaffected: Rust sends with
    // MSG_NOSIGNAL.
    sigpipe::reset();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => cmd_run::run(args),
        Command::Compare(args) => cmd_compare::run(*args),
        Command::Sweep(args) => cmd_sweep::run(*args),
        Command::Validate(args) => cmd_validate::run(args),
        Command::Agent(args) => cmd_agent::run(args),
        Command::Replay(args) => cmd_replay::run(*args),
        Command::Report(args) => cmd_report::run(args),
        Command::Trigger(TriggerCommand::Test(args)) => cmd_trigger::run(*args),
        Command::Workload(command) => cmd_workload::run(command),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
