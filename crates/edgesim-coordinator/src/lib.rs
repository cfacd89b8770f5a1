//! The coordinator: starts local agents (child processes or in-process
//! servers on loopback) or connects to remote ones, assigns regions to
//! them balanced by expected load, drives simulated time epoch by epoch,
//! and folds the agents' reports into a [`Summary`].
//!
//! It owns everything global (routing today; origin load, migration
//! control and faults as they arrive) and only moves data: the simulation
//! itself happens in the agents' region engines.
//!
//! Agents hold a run under a lease the coordinator renews every
//! [`RENEW_EVERY`]; during an epoch they stream progress, and an agent is
//! declared failed only when it stays silent (no progress, no report) for
//! [`RunConfig::silence_deadline`], however long the work itself takes.
//! Every path out of [`run`] (success, failure, [`RunConfig::stop`]) stops
//! the runs it started on live agents.

mod agents;
mod epochlog;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use edgesim_model::{AgentFailurePolicy, Scenario};
use edgesim_proto::pb;
use edgesim_proto::{PROTOCOL_VERSION, SOFTWARE_VERSION, region_report_from_pb};
use edgesim_report::{AccumulateError, Incident, Summary};
use edgesim_sim::{Demand, Routing};
use tokio::task::JoinSet;

pub use agents::AgentConn;
pub use epochlog::{
    EPOCH_LOG_FILE, EpochLogError, LogEnd, LogReader, MAX_RAW_RECORD_BYTES, MAX_RECORD_BYTES,
    ParsedLog, Rebuilt, parse_log, rebuild, rebuild_salvaging,
};

/// How often the coordinator renews its runs' leases on the agents.
pub const RENEW_EVERY: Duration = Duration::from_secs(1);

/// The default of [`RunConfig::silence_deadline`].
pub const DEFAULT_SILENCE_DEADLINE: Duration = Duration::from_secs(10);

/// Tells a run to stop, with the name of the reason (such as "SIGINT"):
/// the run stops its agents, keeps the epochs completed so far in its
/// epoch log and returns [`CoordinatorError::Interrupted`].
pub type StopReceiver = tokio::sync::watch::Receiver<Option<&'static str>>;

/// Where the agents come from.
#[derive(Debug, Clone)]
pub enum AgentSource {
    /// Start `count` agents as child processes of `exe` (the edgesim
    /// binary) listening on 127.0.0.1 ephemeral ports.
    Spawn {
        /// Path of the edgesim binary.
        exe: PathBuf,
        /// Number of agents.
        count: usize,
    },
    /// Start `count` agents inside this process, on loopback (for tests).
    InProcess {
        /// Number of agents.
        count: usize,
    },
    /// Use agents already running at these `host:port` addresses.
    Connect(Vec<String>),
}

/// How to run.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// The agents.
    pub agents: AgentSource,
    /// How long an agent may stay silent (no progress message, no report;
    /// agents send progress every half second while they work) during an
    /// epoch before it is declared failed.
    pub silence_deadline: Duration,
    /// How long an agent may take to start and answer the handshake.
    pub startup_deadline: Duration,
    /// Shared token sent to `Connect` agents (local agents listen on
    /// loopback and need none).
    pub token: Option<String>,
    /// Where to keep the epoch log as the run goes (see [`rebuild`]).
    pub epoch_log: Option<PathBuf>,
    /// TLS towards `Connect` agents (agents started with a certificate).
    pub tls: Option<ClientTls>,
    /// Stops the run early when it says so (Ctrl-C).
    pub stop: Option<StopReceiver>,
}

/// How the coordinator checks agents that speak TLS.
#[derive(Debug, Clone)]
pub struct ClientTls {
    /// PEM certificate(s) of the authority that signed the agents'
    /// certificates (or the agents' self-signed certificates).
    pub ca_pem: Vec<u8>,
    /// Name the agents' certificates must carry, when it is not the host
    /// part of their address.
    pub domain: Option<String>,
}

impl RunConfig {
    /// Defaults for the given agents.
    pub fn new(agents: AgentSource) -> RunConfig {
        RunConfig {
            agents,
            silence_deadline: DEFAULT_SILENCE_DEADLINE,
            startup_deadline: Duration::from_secs(30),
            token: None,
            epoch_log: None,
            tls: None,
            stop: None,
        }
    }
}

/// What the coordinator tells its caller after each epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Epochs completed.
    pub epochs_done: u64,
    /// Epochs in the run.
    pub epochs: u64,
    /// Simulated seconds completed.
    pub simulated_secs: f64,
    /// Simulated seconds in the run.
    pub duration_secs: f64,
    /// Requests simulated so far.
    pub requests: u64,
    /// Wall time spent in epochs so far, seconds.
    pub wall_secs: f64,
    /// Of that, time the busiest agent of each epoch spent simulating,
    /// seconds; the rest is coordination (messages, merging, logging).
    pub busy_secs: f64,
}

/// Why a run failed. Each variant names who failed.
#[derive(Debug, thiserror::Error)]
pub enum CoordinatorError {
    /// An agent could not be started or reached.
    #[error("agent {agent}: could not start: {reason}")]
    AgentStart {
        /// Which agent (index and address or command).
        agent: String,
        /// Why.
        reason: String,
    },
    /// An agent speaks another protocol version.
    #[error(
        "agent {agent}: speaks protocol version {agent_version} (edgesim {agent_software}), this coordinator speaks version {ours} (edgesim {our_software})"
    )]
    VersionMismatch {
        /// Which agent.
        agent: String,
        /// Its protocol version.
        agent_version: u32,
        /// Its software version.
        agent_software: String,
        /// Our protocol version.
        ours: u32,
        /// Our software version.
        our_software: String,
    },
    /// An agent failed during the run.
    #[error("agent {agent} (regions {regions}) failed at epoch {epoch}: {reason}")]
    AgentFailed {
        /// Which agent.
        agent: String,
        /// The regions it was simulating.
        regions: String,
        /// The epoch being simulated.
        epoch: u64,
        /// Why.
        reason: String,
    },
    /// An agent's report did not fit the run.
    #[error("coordinator: bad report: {0}")]
    Report(#[from] AccumulateError),
    /// The epoch log could not be written.
    #[error("coordinator: epoch log {0}")]
    EpochLog(#[from] EpochLogError),
    /// The `[replay]` logs could not be read.
    #[error("{0}")]
    Replay(#[from] edgesim_model::replay::ReplayError),
    /// The run was told to stop ([`RunConfig::stop`]).
    #[error("coordinator: run interrupted by {signal} after {epochs_done} epochs")]
    Interrupted {
        /// Why (the signal's name).
        signal: &'static str,
        /// Epochs completed and saved in the epoch log.
        epochs_done: u64,
    },
}

impl CoordinatorError {
    /// Whether the run may have saved epochs in its log before failing
    /// (false for failures before the first epoch).
    pub fn logged_epochs(&self) -> bool {
        match self {
            CoordinatorError::AgentStart { .. }
            | CoordinatorError::VersionMismatch { .. }
            | CoordinatorError::Replay(_) => false,
            CoordinatorError::Interrupted { epochs_done, .. } => *epochs_done > 0,
            _ => true,
        }
    }
}

/// Runs `scenario` (whose file text is `scenario_toml`) and returns its
/// summary. `on_epoch` is called after every epoch.
///
/// An agent that fails mid-run (dies, answers an error, or stays silent
/// for the silence deadline) is handled per the scenario's
/// `on_agent_failure`: `abort` returns the summary of the epochs completed
/// so far, marked incomplete, with the incident; `reassign` restarts its
/// regions cold on the surviving agents from the failed epoch and goes on.
/// Either way the summary lists the incident. Failures before the first
/// epoch (agents that cannot be started or reached, refused runs) are
/// errors, and leave no run behind on the agents that did start it.
pub async fn run(
    scenario: Arc<Scenario>,
    scenario_toml: &str,
    config: &RunConfig,
    on_epoch: impl FnMut(&Progress),
) -> Result<Summary, CoordinatorError> {
    let routing = Routing::nearest(&scenario);
    let demand = routing.demand(&scenario, scenario.viewers.requests_per_sec);
    // [replay]: read the logs before starting anything (a bad log is an
    // error, not a report); the agents get each epoch's requests.
    // The logs are checked whole here, then streamed epoch by epoch.
    let replay = edgesim_model::replay::ReplayStream::open(&scenario)?;
    if let Some(stream) = &replay {
        for (code, n) in stream.unmapped() {
            eprintln!(
                "warning: replay: {n} lines of edge location {code} dropped: no [[pops]] entry has city = \"{code}\""
            );
        }
    }
    let replay = replay.map(std::sync::Mutex::new);
    let mut stop = config.stop.clone();
    let interrupted = |signal| CoordinatorError::Interrupted {
        signal,
        epochs_done: 0,
    };
    let mut pool = or_stop(
        &mut stop,
        agents::start(
            &config.agents,
            config.token.as_deref(),
            config.tls.as_ref(),
            config.startup_deadline,
        ),
    )
    .await
    .map_err(interrupted)??;
    let assignment = assign_regions(&scenario, &demand, pool.len());
    let run_id = format!(
        "{}-{}-{}",
        scenario.name,
        std::process::id(),
        unique_suffix()
    );
    let mut alive = vec![false; pool.len()];
    let started = or_stop(
        &mut stop,
        handshake_and_start(
            &mut pool,
            &scenario,
            scenario_toml,
            &assignment,
            &run_id,
            config,
            &mut alive,
        ),
    )
    .await
    .map_err(interrupted)
    .and_then(|r| r);
    let result = match started {
        Err(e) => Err(e),
        Ok(()) => {
            let renewals = renew_leases(&pool, &run_id);
            let run = Run {
                scenario: &scenario,
                scenario_toml,
                config,
                pool: &pool,
                run_id: &run_id,
                demand: &demand,
                replay: replay.as_ref(),
            };
            let out = run.drive(assignment, &mut alive, stop, on_epoch).await;
            drop(renewals);
            if let (Ok(summary), Some(stream)) = (&out, &replay) {
                let after_end = stream.lock().map_or(0, |s| s.not_replayed());
                if summary.complete && after_end > 0 {
                    eprintln!(
                        "warning: replay: {after_end} lines after the end of the run (duration_secs) dropped"
                    );
                }
            }
            out
        }
    };
    // Whatever happened, the runs started on live agents end here: a
    // failed or interrupted run leaves none behind.
    stop_runs(&pool, &run_id, &alive).await;
    pool.shutdown().await;
    result
}

/// Awaits `fut` unless `stop` says to stop first (then its reason).
async fn or_stop<T>(
    stop: &mut Option<StopReceiver>,
    fut: impl std::future::Future<Output = T>,
) -> Result<T, &'static str> {
    match stop {
        None => Ok(fut.await),
        Some(rx) => tokio::select! {
            biased;
            why = stopped(rx) => Err(why),
            out = fut => Ok(out),
        },
    }
}

/// Resolves once `rx` says to stop (never if its sender is gone).
async fn stopped(rx: &mut StopReceiver) -> &'static str {
    loop {
        let now = *rx.borrow_and_update();
        if let Some(why) = now {
            return why;
        }
        if rx.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Renews the run's lease on every agent every [`RENEW_EVERY`] until the
/// returned set is dropped. An agent that does not answer is noticed by
/// its epoch calls, not here.
fn renew_leases(pool: &agents::AgentPool, run_id: &str) -> JoinSet<()> {
    let mut tasks = JoinSet::new();
    for agent in pool.iter() {
        let mut client = agent.client.clone();
        let run_id = run_id.to_owned();
        tasks.spawn(async move {
            let mut tick = tokio::time::interval(RENEW_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let _ = tokio::time::timeout(
                    RENEW_EVERY * 2,
                    client.renew(pb::RenewRequest {
                        run_id: run_id.clone(),
                    }),
                )
                .await;
            }
        });
    }
    tasks
}

/// Ends the run on every agent marked in `alive`, all at once, each
/// given a few seconds (an agent that does not answer drops the run when
/// its lease runs out).
async fn stop_runs(pool: &agents::AgentPool, run_id: &str, alive: &[bool]) {
    let mut calls = JoinSet::new();
    for (i, agent) in pool.iter().enumerate() {
        if !alive.get(i).copied().unwrap_or(false) {
            continue;
        }
        let mut client = agent.client.clone();
        let req = pb::StopRunRequest {
            run_id: run_id.to_owned(),
        };
        calls.spawn(async move {
            let _ = tokio::time::timeout(Duration::from_secs(3), client.stop_run(req)).await;
        });
    }
    while calls.join_next().await.is_some() {}
}

/// A started run: what its epochs need.
struct Run<'a> {
    scenario: &'a Arc<Scenario>,
    scenario_toml: &'a str,
    config: &'a RunConfig,
    pool: &'a agents::AgentPool,
    run_id: &'a str,
    demand: &'a [Vec<Demand>],
    replay: Option<&'a std::sync::Mutex<edgesim_model::replay::ReplayStream>>,
}

impl Run<'_> {
    /// Drives the epochs; `alive` (index = agent) says which agents still
    /// hold the run, for the caller to stop them.
    async fn drive(
        &self,
        mut assignment: Vec<Vec<usize>>,
        alive: &mut [bool],
        mut stop: Option<StopReceiver>,
        mut on_epoch: impl FnMut(&Progress),
    ) -> Result<Summary, CoordinatorError> {
        let (scenario, pool, demand) = (self.scenario, self.pool, self.demand);
        let deadline = self.config.silence_deadline;
        let mut log = match &self.config.epoch_log {
            Some(path) => Some(epochlog::EpochLogWriter::create(
                path,
                scenario,
                self.scenario_toml,
            )?),
            None => None,
        };

        let mut fold = edgesim_run::RunFold::new(Arc::clone(scenario));
        let (mut wall_secs, mut busy_secs) = (0.0, 0.0);
        let epochs = scenario.simulation.epochs();
        let mut committed = 0u64;

        // Epoch k's numbers are folded while the agents simulate epoch k+1:
        // only the cheap part of the fold (global load, the migration
        // controller) stands between two epochs.
        let mut pending: Option<Completed> = None;
        // Origin Shield: the authoritative caches, and the change of the last
        // epoch observed, sent with the next epoch (see edgesim_sim::shield).
        let mut shields = edgesim_sim::shield::ShieldCaches::new(scenario);
        let mut shield_update: Option<pb::ShieldUpdate> = None;
        for epoch in 0..epochs {
            let controls = fold.controls(epoch);
            let demand_now = fold.demand(epoch);
            let replay_now = match self.replay {
                Some(stream) => replay_batches(scenario, stream, epoch)?,
                None => Vec::new(),
            };
            let ctx = EpochCtx {
                pool,
                scenario,
                demand: &demand_now,
                replay: &replay_now,
                run_id: self.run_id,
                shield: shield_update.as_ref(),
                // Agents without regions keep their shield replica current in
                // case they take regions over.
                idle_too: shields.enabled(),
            };
            let started = Instant::now();
            let calls = spawn_advance(&ctx, &assignment, alive, &controls, epoch, deadline);
            if let Some(done) = pending.take() {
                commit(&mut fold, &mut log, done)?;
                committed += 1;
                on_epoch(&progress(scenario, &fold, epoch - 1, wall_secs, busy_secs));
            }
            let collected = or_stop(&mut stop, collect_advance(&ctx, calls, epoch)).await;
            let (mut reports, failures, busy) = match collected {
                Ok(out) => out,
                Err(signal) => return interrupt(log, signal, committed),
            };
            busy_secs += busy.as_secs_f64();
            let mut incidents = Vec::new();
            let mut aborted = false;
            let mut orphans: Vec<(usize, Vec<usize>, String)> = failures
                .into_iter()
                .map(|(i, reason)| {
                    alive[i] = false;
                    (i, std::mem::take(&mut assignment[i]), reason)
                })
                .collect();
            while let Some((i, regions, reason)) = orphans.pop() {
                let incident = |action: &str, to: Vec<String>| Incident {
                    epoch,
                    at_secs: scenario.simulation.epoch_span(epoch).start as f64 / 1e6,
                    kind: "agent_failed".into(),
                    agent: pool.name(i).to_owned(),
                    regions: regions
                        .iter()
                        .map(|&r| scenario.regions[r].id.clone())
                        .collect(),
                    reason: reason.clone(),
                    action: action.into(),
                    to,
                };
                let survivors = alive.iter().any(|&a| a);
                if scenario.simulation.on_agent_failure == AgentFailurePolicy::Abort || !survivors {
                    incidents.push(incident("aborted", Vec::new()));
                    aborted = true;
                    continue;
                }
                let plan = reassign(scenario, demand, &assignment, alive, &regions);
                let mut to = Vec::new();
                for (agent, taken) in plan {
                    let took = or_stop(
                        &mut stop,
                        take_over(&ctx, agent, &taken, &controls, epoch, deadline),
                    )
                    .await;
                    let took = match took {
                        Ok(took) => took,
                        Err(signal) => return interrupt(log, signal, committed),
                    };
                    match took {
                        Ok(more) => {
                            reports.extend(more);
                            assignment[agent].extend(&taken);
                            assignment[agent].sort_unstable();
                            to.push(pool.name(agent).to_owned());
                        }
                        Err(why) => {
                            alive[agent] = false;
                            let mut lost = std::mem::take(&mut assignment[agent]);
                            lost.extend(&taken);
                            lost.sort_unstable();
                            // Its own regions answered this epoch, but their
                            // state is gone with it: they restart cold at this
                            // epoch elsewhere, so drop what they reported.
                            reports.retain(|r| !lost.contains(&r.region));
                            orphans.push((agent, lost, why));
                        }
                    }
                }
                incidents.push(incident("reassigned", to));
            }
            if aborted {
                if let Some(log) = &mut log {
                    log.append(epoch, &[], &incidents, false)?;
                }
                fold.abort(incidents);
                break;
            }
            reports.sort_by_key(|r| r.region);
            fold.observe(epoch, &reports);
            if shields.enabled() {
                let update = shields.apply_epoch(epoch, &reports);
                shield_update = Some(edgesim_proto::shield_update_to_pb(&update));
            }
            wall_secs += started.elapsed().as_secs_f64();
            pending = Some(Completed {
                epoch,
                reports,
                incidents,
            });
            if let Some(rx) = &stop
                && let Some(signal) = *rx.borrow()
            {
                if let Some(done) = pending.take() {
                    commit(&mut fold, &mut log, done)?;
                    committed += 1;
                    on_epoch(&progress(scenario, &fold, epoch, wall_secs, busy_secs));
                }
                return interrupt(log, signal, committed);
            }
        }
        if let Some(done) = pending.take() {
            let epoch = done.epoch;
            commit(&mut fold, &mut log, done)?;
            on_epoch(&progress(scenario, &fold, epoch, wall_secs, busy_secs));
        }
        if let Some(log) = log {
            log.finish()?;
        }
        Ok(fold.finish())
    }
}

/// Ends a run told to stop: its log is synced and the error says how many
/// epochs it holds.
fn interrupt(
    log: Option<epochlog::EpochLogWriter>,
    signal: &'static str,
    epochs_done: u64,
) -> Result<Summary, CoordinatorError> {
    if let Some(log) = log {
        log.finish()?;
    }
    Err(CoordinatorError::Interrupted {
        signal,
        epochs_done,
    })
}

/// An epoch whose reports are all in, waiting to be folded.
struct Completed {
    epoch: u64,
    reports: Vec<edgesim_sim::RegionEpochReport>,
    incidents: Vec<Incident>,
}

/// Folds a completed epoch into the summary and appends it to the log
/// (the log holds only epochs that were folded).
fn commit(
    fold: &mut edgesim_run::RunFold,
    log: &mut Option<epochlog::EpochLogWriter>,
    done: Completed,
) -> Result<(), CoordinatorError> {
    fold.accumulate(done.epoch, &done.reports, done.incidents.clone())?;
    if let Some(log) = log {
        log.append(done.epoch, &done.reports, &done.incidents, true)?;
    }
    Ok(())
}

/// What `on_epoch` is told once `epoch` is folded.
fn progress(
    scenario: &Scenario,
    fold: &edgesim_run::RunFold,
    epoch: u64,
    wall_secs: f64,
    busy_secs: f64,
) -> Progress {
    Progress {
        epochs_done: epoch + 1,
        epochs: scenario.simulation.epochs(),
        simulated_secs: scenario.simulation.epoch_span(epoch).end as f64 / 1e6,
        duration_secs: scenario.simulation.duration_us as f64 / 1e6,
        requests: fold.totals().requests,
        wall_secs,
        busy_secs,
    }
}

/// What every epoch call needs.
#[derive(Clone, Copy)]
struct EpochCtx<'a> {
    pool: &'a agents::AgentPool,
    scenario: &'a Scenario,
    demand: &'a [Vec<Demand>],
    /// Per region, the packed requests of the epoch (`[replay]`; empty
    /// otherwise).
    replay: &'a [Vec<u8>],
    run_id: &'a str,
    /// The Origin Shield update to send with the epoch, if any.
    shield: Option<&'a pb::ShieldUpdate>,
    /// Send the epoch to live agents without regions too.
    idle_too: bool,
}

/// Which surviving agent takes which of `regions`: largest expected load
/// first, each to the agent with the least load so far (deterministic).
fn reassign(
    scenario: &Scenario,
    demand: &[Vec<Demand>],
    assignment: &[Vec<usize>],
    alive: &[bool],
    regions: &[usize],
) -> Vec<(usize, Vec<usize>)> {
    let load = |r: usize| expected_load(scenario, demand, r);
    let mut totals: Vec<(usize, f64)> = (0..assignment.len())
        .filter(|&i| alive[i])
        .map(|i| (i, assignment[i].iter().map(|&r| load(r)).sum()))
        .collect();
    let mut order = regions.to_vec();
    order.sort_by(|&a, &b| load(b).total_cmp(&load(a)).then(a.cmp(&b)));
    let mut plan: Vec<(usize, Vec<usize>)> = Vec::new();
    for r in order {
        let Some(slot) = totals
            .iter_mut()
            .min_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)))
        else {
            break;
        };
        slot.1 += load(r);
        match plan.iter_mut().find(|(a, _)| *a == slot.0) {
            Some((_, rs)) => rs.push(r),
            None => plan.push((slot.0, vec![r])),
        }
    }
    plan.sort_by_key(|(a, _)| *a);
    plan
}

/// Starts `regions` cold on `agent` at `epoch` and simulates that epoch
/// for them; returns their reports.
async fn take_over(
    ctx: &EpochCtx<'_>,
    agent: usize,
    regions: &[usize],
    controls: &edgesim_sim::controls::EpochControls,
    epoch: u64,
    deadline: Duration,
) -> Result<Vec<edgesim_sim::RegionEpochReport>, String> {
    let mut client = ctx
        .pool
        .iter()
        .nth(agent)
        .expect("agent index")
        .client
        .clone();
    let ids: Vec<String> = regions
        .iter()
        .map(|&r| ctx.scenario.regions[r].id.clone())
        .collect();
    tokio::time::timeout(
        deadline,
        client.add_regions(pb::AddRegionsRequest {
            run_id: ctx.run_id.to_owned(),
            regions: ids,
            start_epoch: epoch,
        }),
    )
    .await
    .map_err(|_| format!("no answer to taking over regions within {deadline:.1?}"))?
    .map_err(|s| format!("could not take over regions: {}", status_text(&s)))?;
    // Only the agent taking over simulates (again) this epoch.
    let ctx = &EpochCtx {
        idle_too: false,
        ..*ctx
    };
    let (reports, failures, _) = advance_epoch(
        ctx,
        &single(ctx.pool.len(), agent, regions),
        &vec![true; ctx.pool.len()],
        controls,
        epoch,
        deadline,
    )
    .await;
    match failures.into_iter().next() {
        Some((_, reason)) => Err(reason),
        None => Ok(reports),
    }
}

/// Each region's requests of `epoch` in a replay, packed for the wire:
/// the stream's requests due before the epoch's end (epochs are taken in
/// order, once each).
fn replay_batches(
    scenario: &Scenario,
    stream: &std::sync::Mutex<edgesim_model::replay::ReplayStream>,
    epoch: u64,
) -> Result<Vec<Vec<u8>>, CoordinatorError> {
    let span = scenario.simulation.epoch_span(epoch);
    let requests = match stream.lock() {
        Ok(mut stream) => stream.take_until(span.end)?,
        Err(_) => Vec::new(),
    };
    Ok(edgesim_run::by_region(scenario, requests)
        .iter()
        .map(|rs| edgesim_model::replay::encode(rs, span.start))
        .collect())
}

/// An assignment with `regions` on `agent` and nothing elsewhere.
fn single(agents: usize, agent: usize, regions: &[usize]) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new(); agents];
    out[agent] = regions.to_vec();
    out
}

fn unique_suffix() -> u128 {
    // Only names the run for the agents; never part of any result.
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

/// What balancing weighs a region by: its requests per second plus one
/// per PoP (PoPs cost time even without traffic).
fn expected_load(scenario: &Scenario, demand: &[Vec<Demand>], region: usize) -> f64 {
    demand[region]
        .iter()
        .map(|d| d.requests_per_sec)
        .sum::<f64>()
        + scenario.regions[region].pops.len() as f64
}

/// Regions per agent (index = agent): largest expected load first, each to
/// the least-loaded agent so far (ties to the lower index); deterministic.
pub fn assign_regions(
    scenario: &Scenario,
    demand: &[Vec<Demand>],
    agents: usize,
) -> Vec<Vec<usize>> {
    let load = |r: usize| expected_load(scenario, demand, r);
    let mut order: Vec<usize> = (0..scenario.regions.len()).collect();
    order.sort_by(|&a, &b| load(b).total_cmp(&load(a)).then(a.cmp(&b)));
    let mut out = vec![Vec::new(); agents.max(1)];
    let mut totals = vec![0.0f64; agents.max(1)];
    for r in order {
        let (i, _) = totals
            .iter()
            .enumerate()
            .min_by(|a, b| a.1.total_cmp(b.1).then(a.0.cmp(&b.0)))
            .expect("at least one agent");
        out[i].push(r);
        totals[i] += load(r);
    }
    for regions in &mut out {
        regions.sort_unstable();
    }
    out
}

/// Says hello to every agent and starts the run on each; `started`
/// (index = agent) marks those that accepted it. When one agent fails,
/// the runs already started on the others are stopped before the error
/// is returned.
async fn handshake_and_start(
    pool: &mut agents::AgentPool,
    scenario: &Scenario,
    scenario_toml: &str,
    assignment: &[Vec<usize>],
    run_id: &str,
    config: &RunConfig,
    started: &mut [bool],
) -> Result<(), CoordinatorError> {
    let mut failed = None;
    for (i, agent) in pool.iter_mut().enumerate() {
        match start_one(
            agent,
            scenario,
            scenario_toml,
            &assignment[i],
            run_id,
            config,
        )
        .await
        {
            Ok(()) => started[i] = true,
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    match failed {
        None => Ok(()),
        Some(e) => {
            stop_runs(pool, run_id, started).await;
            started.iter_mut().for_each(|s| *s = false);
            Err(e)
        }
    }
}

/// The handshake with one agent and the start of its part of the run.
async fn start_one(
    agent: &mut agents::AgentConn,
    scenario: &Scenario,
    scenario_toml: &str,
    regions: &[usize],
    run_id: &str,
    config: &RunConfig,
) -> Result<(), CoordinatorError> {
    let name = agent.name.clone();
    let fail = |reason: String| CoordinatorError::AgentStart {
        agent: name.clone(),
        reason,
    };
    let hello = tokio::time::timeout(
        config.startup_deadline,
        agent.client.hello(pb::HelloRequest {
            protocol_version: PROTOCOL_VERSION,
            coordinator_version: SOFTWARE_VERSION.to_owned(),
        }),
    )
    .await
    .map_err(|_| fail("no answer to the handshake".into()))?
    .map_err(|s| fail(status_text(&s)))?
    .into_inner();
    if hello.protocol_version != PROTOCOL_VERSION {
        return Err(CoordinatorError::VersionMismatch {
            agent: name,
            agent_version: hello.protocol_version,
            agent_software: hello.agent_version,
            ours: PROTOCOL_VERSION,
            our_software: SOFTWARE_VERSION.to_owned(),
        });
    }
    tokio::time::timeout(
        config.startup_deadline,
        agent.client.start_run(pb::StartRunRequest {
            run_id: run_id.to_owned(),
            scenario_name: scenario.source_name.clone(),
            scenario_toml: scenario_toml.to_owned(),
            regions: regions
                .iter()
                .map(|&r| scenario.regions[r].id.clone())
                .collect(),
            handler_sources: scenario.trigger_sources.clone().into_iter().collect(),
            protocol_version: PROTOCOL_VERSION,
        }),
    )
    .await
    .map_err(|_| fail("no answer to starting the run".into()))?
    .map_err(|s| fail(format!("refused the run: {}", status_text(&s))))?;
    Ok(())
}

fn status_text(s: &tonic::Status) -> String {
    format!("{} ({:?})", s.message(), s.code())
}

/// Simulates `epoch` on every live agent with regions; returns the
/// reports of those that answered and, for the others, why they failed,
/// and how long the busiest agent simulated.
async fn advance_epoch(
    ctx: &EpochCtx<'_>,
    assignment: &[Vec<usize>],
    alive: &[bool],
    controls: &edgesim_sim::controls::EpochControls,
    epoch: u64,
    deadline: Duration,
) -> (
    Vec<edgesim_sim::RegionEpochReport>,
    Vec<(usize, String)>,
    Duration,
) {
    let calls = spawn_advance(ctx, assignment, alive, controls, epoch, deadline);
    collect_advance(ctx, calls, epoch).await
}

/// The calls of one epoch's advance, under way: each agent's report or
/// why it failed.
type AdvanceCalls = JoinSet<(usize, Result<pb::AdvanceResponse, String>)>;

/// Sends `epoch`'s Advance to every live agent with regions.
fn spawn_advance(
    ctx: &EpochCtx<'_>,
    assignment: &[Vec<usize>],
    alive: &[bool],
    controls: &edgesim_sim::controls::EpochControls,
    epoch: u64,
    deadline: Duration,
) -> AdvanceCalls {
    let mut calls = JoinSet::new();
    for (i, agent) in ctx.pool.iter().enumerate() {
        if !alive[i] || (assignment[i].is_empty() && !ctx.idle_too) {
            continue;
        }
        let req = pb::AdvanceRequest {
            run_id: ctx.run_id.to_owned(),
            epoch,
            regions: assignment[i]
                .iter()
                .map(|&r| pb::RegionControls {
                    region: ctx.scenario.regions[r].id.clone(),
                    demand: ctx.demand[r].iter().map(pb::Demand::from).collect(),
                    replay: ctx.replay.get(r).cloned().unwrap_or_default(),
                })
                .collect(),
            controls: Some(edgesim_proto::controls_to_pb(controls)),
            shield: ctx.shield.cloned(),
        };
        let mut client = agent.client.clone();
        calls.spawn(async move { (i, advance_call(&mut client, req, deadline).await) });
    }
    calls
}

/// One agent's epoch: its stream of progress, then its report. The
/// deadline applies to silence: every message resets it.
async fn advance_call(
    client: &mut agents::AgentClient,
    req: pb::AdvanceRequest,
    silence: Duration,
) -> Result<pb::AdvanceResponse, String> {
    let started = Instant::now();
    let silent = |started: Instant| {
        format!(
            "no answer within {silence:.1?} (silent: no progress, no report; {:.1?} into the epoch)",
            started.elapsed()
        )
    };
    let mut stream = tokio::time::timeout(silence, client.advance(req))
        .await
        .map_err(|_| silent(started))?
        .map_err(|s| status_text(&s))?
        .into_inner();
    loop {
        let event = tokio::time::timeout(silence, stream.message())
            .await
            .map_err(|_| silent(started))?
            .map_err(|s| status_text(&s))?
            .ok_or_else(|| "ended the epoch without a report".to_owned())?;
        match event.event {
            Some(pb::advance_event::Event::Report(report)) => {
                // Read the stream to its end (its status): a stream
                // dropped unfinished is reset, and HTTP/2 limits how many
                // resets a connection takes before it is closed, with
                // every call on it.
                let end = tokio::time::timeout(silence, stream.message())
                    .await
                    .map_err(|_| silent(started))?
                    .map_err(|s| status_text(&s))?;
                return match end {
                    None => Ok(report),
                    Some(_) => Err("sent more after the epoch's report".to_owned()),
                };
            }
            Some(pb::advance_event::Event::Progress(_)) | None => {}
        }
    }
}

/// Waits for `epoch`'s answers.
async fn collect_advance(
    ctx: &EpochCtx<'_>,
    mut calls: AdvanceCalls,
    epoch: u64,
) -> (
    Vec<edgesim_sim::RegionEpochReport>,
    Vec<(usize, String)>,
    Duration,
) {
    let mut reports = Vec::with_capacity(ctx.scenario.regions.len());
    let mut failures = Vec::new();
    let mut busiest = Duration::ZERO;
    while let Some(joined) = calls.join_next().await {
        let (i, out) = joined.expect("advance tasks do not panic");
        let resp = match out {
            Err(why) => {
                failures.push((i, why));
                continue;
            }
            Ok(resp) => resp,
        };
        if resp.epoch != epoch || resp.run_id != ctx.run_id {
            failures.push((
                i,
                format!("answered for run {} epoch {}", resp.run_id, resp.epoch),
            ));
            continue;
        }
        busiest = busiest.max(Duration::from_micros(resp.busy_micros));
        reports.extend(
            resp.regions
                .into_iter()
                .map(|r| region_report_from_pb(epoch, r)),
        );
    }
    failures.sort_by_key(|f| f.0);
    reports.sort_by_key(|r| r.region);
    (reports, failures, busiest)
}
