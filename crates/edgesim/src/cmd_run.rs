//! `edgesim run`: a scenario end to end, from file to report directory.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use edgesim_coordinator::{AgentSource, Progress, RunConfig};
use edgesim_model::Scenario;
use edgesim_report::Summary;
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
    /// local ones (comma-separated HOST:PORT list). `dns:NAME:PORT` stands
    /// for every address NAME resolves to, sorted (e.g. Docker Swarm's
    /// `dns:tasks.agent:7070` or a Kubernetes headless Service).
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
    /// Longest an agent may stay silent during an epoch before it is
    /// declared failed, seconds [default: 10]. Agents report progress every
    /// half second while they work, so a slow epoch is never taken for a
    /// dead agent: only silence is.
    #[arg(long, value_name = "SECS", visible_alias = "silence-deadline")]
    epoch_deadline: Option<f64>,
    /// Talk TLS to the --connect agents, trusting the certificate
    /// authority in this PEM file (or the agents' self-signed certificate).
    #[arg(long, value_name = "FILE", requires = "connect")]
    tls_ca: Option<PathBuf>,
    /// Name the agents' certificates carry, when it is not the host part of
    /// their --connect address.
    #[arg(long, value_name = "NAME", requires = "tls_ca")]
    tls_domain: Option<String>,
    /// What to do when an agent fails mid-run, instead of the scenario's
    /// `simulation.on_agent_failure`: `abort` (keep the completed epochs,
    /// report marked incomplete, exit 1) or `reassign` (restart its regions
    /// cold on the other agents and go on).
    #[arg(long, value_name = "abort|reassign", value_parser = ["abort", "reassign"])]
    on_agent_failure: Option<String>,
    /// Run seed, instead of the scenario's `simulation.seed`.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// No progress output.
    #[arg(long, short)]
    quiet: bool,
    #[command(flatten)]
    limits: crate::input_limits::LimitArgs,
}

/// Runs the scenario and writes its report.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut set = args.set.clone();
    if let Some(policy) = &args.on_agent_failure {
        set.push(format!("simulation.on_agent_failure={policy}"));
    }
    let (source_name, text) =
        crate::cmd_validate::read_with_overrides(&args.scenario, &set, args.seed)?;
    let scenario = load_scenario(&args.scenario, &source_name, &text, &args.limits)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("reports").join(&scenario.name));
    let agents = AgentArgs {
        agents: args.agents,
        connect: args.connect.clone(),
        token: args.token.clone(),
        epoch_deadline: args.epoch_deadline,
        tls_ca: args.tls_ca.clone(),
        tls_domain: args.tls_domain.clone(),
    };
    let started = Instant::now();
    let (summary, stats) = run_and_write_with_stats(
        Arc::clone(&scenario),
        &text,
        &agents,
        ProgressMode::new(args.quiet, true),
        &out,
    )?;
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
    if let Some(p) = stats.filter(|p| p.wall_secs > 0.0) {
        println!(
            "epochs: {:.2} s wall, of which the busiest agent simulated {:.2} s; coordination overhead {:.1}%",
            p.wall_secs,
            p.busy_secs,
            (1.0 - p.busy_secs / p.wall_secs).max(0.0) * 100.0
        );
    }
    println!("report: {}", out.join("summary.json").display());
    Ok(ExitCode::SUCCESS)
}

/// How to reach agents, shared by `run`, `compare` and `sweep`.
#[derive(clap::Args, Debug, Clone, Default)]
pub(crate) struct AgentArgs {
    /// Number of local agents to start as child processes on 127.0.0.1
    /// [default: one per core].
    #[arg(long, value_name = "N", conflicts_with = "connect")]
    pub(crate) agents: Option<usize>,
    /// Use agents already running at these addresses instead of starting
    /// local ones (comma-separated HOST:PORT list). `dns:NAME:PORT` stands
    /// for every address NAME resolves to, sorted (e.g. Docker Swarm's
    /// `dns:tasks.agent:7070` or a Kubernetes headless Service).
    #[arg(long, value_name = "HOST:PORT,...", value_delimiter = ',')]
    pub(crate) connect: Vec<String>,
    /// Shared token for the agents given with --connect (agents beyond
    /// loopback require one).
    #[arg(
        long,
        env = "EDGESIM_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub(crate) token: Option<String>,
    /// Longest an agent may stay silent during an epoch before it is
    /// declared failed, seconds [default: 10]. Agents report progress every
    /// half second while they work, so a slow epoch is never taken for a
    /// dead agent: only silence is.
    #[arg(long, value_name = "SECS", visible_alias = "silence-deadline")]
    pub(crate) epoch_deadline: Option<f64>,
    /// Talk TLS to the --connect agents, trusting the certificate
    /// authority in this PEM file (or the agents' self-signed certificate).
    #[arg(long, value_name = "FILE", requires = "connect")]
    pub(crate) tls_ca: Option<PathBuf>,
    /// Name the agents' certificates carry, when it is not the host part of
    /// their --connect address.
    #[arg(long, value_name = "NAME", requires = "tls_ca")]
    pub(crate) tls_domain: Option<String>,
}

/// What progress a run shows on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProgressMode {
    /// Nothing.
    Quiet,
    /// A bar on a terminal, nothing otherwise.
    BarOnly,
    /// A bar on a terminal, a plain line per 10% otherwise.
    BarOrLines,
}

impl ProgressMode {
    /// The mode for `--quiet`; `lines`: plain lines when not a terminal.
    pub(crate) fn new(quiet: bool, lines: bool) -> Self {
        match (quiet, lines) {
            (true, _) => ProgressMode::Quiet,
            (false, true) => ProgressMode::BarOrLines,
            (false, false) => ProgressMode::BarOnly,
        }
    }
}

/// Validates scenario text (named `source_name` in diagnostics) within
/// the input limits unless lifted; prints every problem and fails naming
/// `path` when it is invalid.
pub(crate) fn load_scenario(
    path: &Path,
    source_name: &str,
    text: &str,
    limits: &crate::input_limits::LimitArgs,
) -> anyhow::Result<Arc<Scenario>> {
    crate::input_limits::load(path, source_name, text, limits)
}

/// Runs `scenario` (whose text is `text`) on the agents `agents`
/// describes and writes its report to `out`, exactly as `edgesim run`
/// does; returns the summary.
pub(crate) fn run_and_write(
    scenario: Arc<Scenario>,
    text: &str,
    agents: &AgentArgs,
    progress: ProgressMode,
    out: &Path,
) -> anyhow::Result<Summary> {
    run_and_write_with_stats(scenario, text, agents, progress, out).map(|(s, _)| s)
}

/// [`run_and_write`], also returning the last progress (wall and busy time).
///
/// The run is staged in `OUT.partial/` (its epochs.log as it goes) under
/// the lock of `OUT` ([`crate::dirlock`]); the report in `OUT` is replaced
/// only by a complete new one, in one rename. A run that fails or is
/// interrupted leaves `OUT` as it was and its epochs in `OUT.partial/`,
/// and says which command makes a report of them.
pub(crate) fn run_and_write_with_stats(
    scenario: Arc<Scenario>,
    text: &str,
    agents: &AgentArgs,
    progress: ProgressMode,
    out: &Path,
) -> anyhow::Result<(Summary, Option<Progress>)> {
    let source = if agents.connect.is_empty() {
        let count = agents
            .agents
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        anyhow::ensure!(count >= 1, "--agents must be at least 1");
        let exe =
            std::env::current_exe().context("cannot find the edgesim binary to start agents")?;
        AgentSource::Spawn { exe, count }
    } else {
        AgentSource::Connect(agents.connect.clone())
    };
    let mut config = RunConfig::new(source);
    config.token = agents.token.clone().filter(|t| !t.is_empty());
    if let Some(ca) = &agents.tls_ca {
        config.tls = Some(edgesim_coordinator::ClientTls {
            ca_pem: std::fs::read(ca).with_context(|| format!("cannot read {}", ca.display()))?,
            domain: agents.tls_domain.clone(),
        });
    }
    if let Some(secs) = agents.epoch_deadline {
        anyhow::ensure!(
            secs.is_finite() && secs > 0.0,
            "--epoch-deadline must be a positive number of seconds, got {secs}"
        );
        config.silence_deadline = std::time::Duration::from_secs_f64(secs);
    }
    let stage = Staged::prepare(out)?;
    let log = stage.partial.join(edgesim_coordinator::EPOCH_LOG_FILE);
    config.epoch_log = Some(log.clone());
    // Stopping the agents and syncing the log take a few seconds at most;
    // a second Ctrl-C ends the process at once.
    config.stop = Some(crate::signals::watch(std::time::Duration::from_secs(15)));
    let progress = ProgressReporter::new(progress, scenario.simulation.epochs());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let mut last = None;
    let result = runtime.block_on(edgesim_coordinator::run(
        Arc::clone(&scenario),
        text,
        &config,
        |p| {
            progress.update(p);
            last = Some(*p);
        },
    ));
    progress.finish();
    let summary = match result {
        Ok(summary) => summary,
        Err(edgesim_coordinator::CoordinatorError::Interrupted {
            signal,
            epochs_done: 0,
        }) => {
            let untouched = stage.untouched();
            stage.discard();
            return Err(anyhow::Error::new(Interrupted {
                signal,
                message: format!(
                    "run interrupted by {signal} before its first epoch; the agents were stopped and nothing was written{untouched}"
                ),
            }));
        }
        Err(e) if !e.logged_epochs() => {
            // Nothing was simulated: leave no trace (the previous report,
            // if any, is as it was).
            let untouched = stage.untouched();
            stage.discard();
            return Err(anyhow::Error::new(e)
                .context(format!("run failed; no report was written{untouched}")));
        }
        Err(e) => {
            let untouched = stage.untouched();
            let rebuild = stage.rebuild_hint();
            if let edgesim_coordinator::CoordinatorError::Interrupted {
                signal,
                epochs_done,
            } = e
            {
                return Err(anyhow::Error::new(Interrupted {
                    signal,
                    message: format!(
                        "run interrupted by {signal} after {epochs_done} of {} epochs; the agents were stopped{untouched}; the completed epochs are in {}: {rebuild}",
                        scenario.simulation.epochs(),
                        log.display()
                    ),
                }));
            }
            return Err(anyhow::Error::new(e).context(format!(
                "run failed{untouched}; its epochs so far are in {}: {rebuild}",
                log.display()
            )));
        }
    };
    edgesim_report::write_report_in(&stage.partial, &summary)?;
    for i in &summary.incidents {
        eprintln!(
            "agent {} (regions {}) failed at epoch {} ({} s): {}; {}{}",
            i.agent,
            i.regions.join(","),
            i.epoch,
            i.at_secs,
            i.reason,
            i.action,
            if i.to.is_empty() {
                String::new()
            } else {
                format!(" to {}", i.to.join(", "))
            }
        );
    }
    if !summary.complete {
        // An incomplete report never replaces a report: it goes to OUT
        // only when there is none there.
        let (at, untouched) = if stage.had_report {
            (stage.partial.clone(), stage.untouched())
        } else {
            stage.commit()?;
            (out.to_owned(), String::new())
        };
        anyhow::bail!(
            "run aborted after {} of {} epochs; the report of the completed epochs, marked incomplete, is in {}{untouched}",
            summary.epochs,
            scenario.simulation.epochs(),
            at.display()
        );
    }
    stage.commit()?;
    Ok((summary, last))
}

/// A run stopped by a signal; `main` exits with the signal's code.
#[derive(Debug)]
pub(crate) struct Interrupted {
    /// The signal's name.
    pub(crate) signal: &'static str,
    message: String,
}

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Interrupted {}

/// A run's report directory while the run goes: `out` locked, the run
/// staged in `out.partial`.
struct Staged {
    out: PathBuf,
    partial: PathBuf,
    /// `out` held a report when the run started.
    had_report: bool,
    /// The top-most directory made for `out` (removed if nothing was run).
    created: Option<PathBuf>,
    _lock: crate::dirlock::DirLock,
}

impl Staged {
    /// Checks that `out` is a report directory (or empty, or absent),
    /// takes its lock and makes `out.partial` afresh.
    fn prepare(out: &Path) -> anyhow::Result<Staged> {
        let mut created = out.to_path_buf();
        while let Some(parent) = created.parent() {
            if parent.as_os_str().is_empty() || parent.exists() {
                break;
            }
            created = parent.to_path_buf();
        }
        let created = (!out.exists()).then_some(created);
        if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let lock = crate::dirlock::DirLock::acquire(out)?;
        let mut had_report = false;
        if out.exists() {
            had_report = ["summary.json", edgesim_coordinator::EPOCH_LOG_FILE]
                .iter()
                .any(|f| out.join(f).exists());
            let empty = std::fs::read_dir(out)
                .with_context(|| format!("cannot read {}", out.display()))?
                .next()
                .is_none();
            anyhow::ensure!(
                had_report || empty,
                "{} exists and is not an edgesim report; choose another --out",
                out.display()
            );
        }
        let partial = crate::dirlock::partial_of(out);
        if partial.exists() {
            eprintln!(
                "note: replacing {}, left by an earlier run that did not finish",
                partial.display()
            );
            std::fs::remove_dir_all(&partial)
                .with_context(|| format!("cannot replace {}", partial.display()))?;
        }
        std::fs::create_dir(&partial)
            .with_context(|| format!("cannot create {}", partial.display()))?;
        Ok(Staged {
            out: out.to_owned(),
            partial,
            had_report,
            created,
            _lock: lock,
        })
    }

    /// "; the previous report in OUT is untouched", when there was one.
    fn untouched(&self) -> String {
        if self.had_report {
            format!(
                "; the previous report in {} is untouched",
                self.out.display()
            )
        } else {
            String::new()
        }
    }

    /// The command that makes a report of the staged epochs.
    fn rebuild_hint(&self) -> String {
        format!(
            "`edgesim report {} --rebuild` makes a report of them",
            self.partial.display()
        )
    }

    /// Removes the staging directory (and what was made for `out`).
    fn discard(self) {
        let _ = std::fs::remove_dir_all(&self.partial);
        if let Some(created) = &self.created {
            if created != &self.out {
                let _ = std::fs::remove_dir_all(created);
            } else if self.out.exists() {
                let _ = std::fs::remove_dir(&self.out);
            }
        }
    }

    /// Puts the staged report in place of `out`, in one rename.
    fn commit(&self) -> anyhow::Result<()> {
        edgesim_report::replace_dir(&self.partial, &self.out)?;
        Ok(())
    }
}

/// A progress bar on a terminal, a plain line per 10% otherwise.
struct ProgressReporter {
    bar: Option<ProgressBar>,
    plain: bool,
    last_decile: std::sync::atomic::AtomicU64,
}

impl ProgressReporter {
    fn new(mode: ProgressMode, epochs: u64) -> Self {
        let quiet = mode == ProgressMode::Quiet;
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
            plain: mode == ProgressMode::BarOrLines && !tty,
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
