//! `edgesim run`: a scenario end to end, from file to report directory.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use edgesim_coordinator::{AgentSource, Progress, RunConfig};
use edgesim_model::Scenario;
use indicatif::{ProgressBar, ProgressStyle};

/// Arguments of `edgesim run`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Scenario file (TOML).
    #[arg(value_name = "SCENARIO")]
    scenario: PathBuf,
    /// Number of local agents to start as child processes on 127.0.0.1
    /// [default: one per core].
    #[arg(long, value_name = "N", conflicts_with = "connect")]
    agents: Option<usize>,
    /// Use agents already running at these addresses instead of starting
    /// local ones (comma-separated HOST:PORT list).
    #[arg(long, value_name = "HOST:PORT,...", value_delimiter = ',')]
    connect: Vec<String>,
    /// Shared token for the agents given with --connect (agents beyond
    /// loopback require one).
    #[arg(
        long,
        env = "EDGESIM_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    token: Option<String>,
    /// Report directory [default: reports/<scenario name>].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Override a scenario value, e.g. `--set viewers.requests_per_sec=5000`
    /// or `--set pops.cache_bytes=4GiB` (every PoP); repeatable.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
    /// Run seed, instead of the scenario's `simulation.seed`.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// No progress output.
    #[arg(long, short)]
    quiet: bool,
}

/// Runs the scenario and writes its report.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (source_name, text) =
        crate::cmd_validate::read_with_overrides(&args.scenario, &args.set, args.seed)?;
    let scenario = match Scenario::from_toml(&source_name, &text) {
        Ok(s) => Arc::new(s),
        Err(d) => {
            eprintln!("{d}");
            anyhow::bail!(
                "{} has {} problem(s); nothing was run",
                args.scenario.display(),
                d.0.len()
            );
        }
    };
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("reports").join(&scenario.name));
    let agents = if args.connect.is_empty() {
        let count = args
            .agents
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        anyhow::ensure!(count >= 1, "--agents must be at least 1");
        let exe =
            std::env::current_exe().context("cannot find the edgesim binary to start agents")?;
        AgentSource::Spawn { exe, count }
    } else {
        AgentSource::Connect(args.connect.clone())
    };
    let mut config = RunConfig::new(agents);
    config.token = args.token.clone().filter(|t| !t.is_empty());
    let progress = ProgressReporter::new(args.quiet, scenario.simulation.epochs());
    let started = Instant::now();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let summary = runtime
        .block_on(edgesim_coordinator::run(
            Arc::clone(&scenario),
            &text,
            &config,
            |p| progress.update(p),
        ))
        .context("run failed; no report was written")?;
    progress.finish();
    edgesim_report::write_report(&out, &summary)?;
    let wall = started.elapsed().as_secs_f64();
    let t = &summary.totals;
    println!(
        "{}: {} requests in {:.0} simulated s ({:.2} s wall, {:.2} M simulated req/s); offload {:.1}% of requests, {:.1}% of bytes; latency p50 {:.1} ms, p99 {:.1} ms",
        scenario.name,
        t.requests,
        summary.simulated_secs,
        wall,
        t.requests as f64 / wall / 1e6,
        t.offload_requests * 100.0,
        t.offload_bytes * 100.0,
        summary.latency_ms.p50,
        summary.latency_ms.p99
    );
    println!("report: {}", out.join("summary.json").display());
    Ok(ExitCode::SUCCESS)
}

/// A progress bar on a terminal, a plain line per 10% otherwise.
struct ProgressReporter {
    bar: Option<ProgressBar>,
    plain: bool,
    last_decile: std::sync::atomic::AtomicU64,
}

impl ProgressReporter {
    fn new(quiet: bool, epochs: u64) -> Self {
        let tty = std::io::stderr().is_terminal();
        let bar = (!quiet && tty).then(|| {
            let bar = ProgressBar::new(epochs);
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:40.cyan/blue} {pos}/{len} epochs  {msg}  ETA {eta}",
                )
                .expect("static template")
                .progress_chars("=> "),
            );
            bar
        });
        Self {
            bar,
            plain: !quiet && !tty,
            last_decile: 0.into(),
        }
    }

    fn update(&self, p: &Progress) {
        let msg = format!(
            "{:.0}/{:.0} s simulated, {} requests",
            p.simulated_secs, p.duration_secs, p.requests
        );
        if let Some(bar) = &self.bar {
            bar.set_position(p.epochs_done);
            bar.set_message(msg);
        } else if self.plain {
            let decile = p.epochs_done * 10 / p.epochs.max(1);
            if decile
                > self
                    .last_decile
                    .swap(decile, std::sync::atomic::Ordering::Relaxed)
            {
                eprintln!(
                    "[{:>3}%] epoch {}/{}: {msg}",
                    decile * 10,
                    p.epochs_done,
                    p.epochs
                );
            }
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
