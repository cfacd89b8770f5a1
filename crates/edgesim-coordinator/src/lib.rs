//! The coordinator: starts local agents (child processes or in-process
//! servers on loopback) or connects to remote ones, assigns regions to
//! them balanced by expected load, drives simulated time epoch by epoch,
//! and folds the agents' reports into a [`Summary`].
//!
//! It owns everything global (routing today; origin load, migration
//! control and faults as they arrive) and only moves data: the simulation
//! itself happens in the agents' region engines.

mod agents;
mod epochlog;
mod fold;
mod globals;

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
pub use epochlog::{EPOCH_LOG_FILE, EpochLogError, Rebuilt, rebuild};

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
    /// How long one epoch may take on an agent before it is declared failed.
    pub epoch_deadline: Duration,
    /// How long an agent may take to start and answer the handshake.
    pub startup_deadline: Duration,
    /// Shared token sent to `Connect` agents (local agents listen on
    /// loopback and need none).
    pub token: Option<String>,
    /// Where to keep the epoch log as the run goes (see [`rebuild`]).
    pub epoch_log: Option<PathBuf>,
    /// TLS towards `Connect` agents (agents started with a certificate).
    pub tls: Option<ClientTls>,
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
            epoch_deadline: Duration::from_secs(120),
            startup_deadline: Duration::from_secs(30),
            token: None,
            epoch_log: None,
            tls: None,
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
}

/// Runs `scenario` (whose file text is `scenario_toml`) and returns its
/// summary. `on_epoch` is called after every epoch.
///
/// An agent that fails mid-run (dies, answers an error, or misses the
/// epoch deadline) is handled per the scenario's `on_agent_failure`:
/// `abort` returns the summary of the epochs completed so far, marked
/// incomplete, with the incident; `reassign` restarts its regions cold on
/// the surviving agents from the failed epoch and goes on. Either way the
/// summary lists the incident. Failures before the first epoch (agents that
/// cannot be started or reached, refused runs) are errors.
pub async fn run(
    scenario: Arc<Scenario>,
    scenario_toml: &str,
    config: &RunConfig,
    mut on_epoch: impl FnMut(&Progress),
) -> Result<Summary, CoordinatorError> {
    let routing = Routing::nearest(&scenario);
    let demand = routing.demand(&scenario, scenario.viewers.requests_per_sec);
    // [replay]: read the logs before starting anything (a bad log is an
    // error, not a report); the agents get each epoch's requests.
    let replay = edgesim_model::replay::load(&scenario)?;
    if let Some(plan) = &replay {
        for (code, n) in &plan.unmapped {
            eprintln!(
                "warning: replay: {n} lines of edge location {code} dropped: no [[pops]] entry has city = \"{code}\""
            );
        }
        if plan.after_end > 0 {
            eprintln!(
                "warning: replay: {} lines after the end of the run (duration_secs) dropped",
                plan.after_end
            );
        }
    }
    let mut pool = agents::start(
        &config.agents,
        config.token.as_deref(),
        config.tls.as_ref(),
        config.startup_deadline,
    )
    .await?;
    let mut assignment = assign_regions(&scenario, &demand, pool.len());
    let run_id = format!(
        "{}-{}-{}",
        scenario.name,
        std::process::id(),
        unique_suffix()
    );
    handshake_and_start(
        &mut pool,
        &scenario,
        scenario_toml,
        &assignment,
        &run_id,
        config,
    )
    .await?;
    let mut log = match &config.epoch_log {
        Some(path) => Some(epochlog::EpochLogWriter::create(
            path,
            &scenario,
            scenario_toml,
        )?),
        None => None,
    };

    let mut fold = fold::RunFold::new(Arc::clone(&scenario));
    let mut alive = vec![true; pool.len()];
    let mut deadline = Deadline::new(config.epoch_deadline);
    let (mut wall_secs, mut busy_secs) = (0.0, 0.0);
    let epochs = scenario.simulation.epochs();

    // Epoch k's numbers are folded while the agents simulate epoch k+1:
    // only the cheap part of the fold (global load, the migration
    // controller) stands between two epochs.
    let mut pending: Option<Completed> = None;
    // Origin Shield: the authoritative caches, and the change of the last
    // epoch observed, sent with the next epoch (see edgesim_sim::shield).
    let mut shields = edgesim_sim::shield::ShieldCaches::new(&scenario);
    let mut shield_update: Option<pb::ShieldUpdate> = None;
    for epoch in 0..epochs {
        let controls = fold.controls(epoch);
        let demand_now = fold.demand(epoch);
        let replay_now = replay
            .as_ref()
            .map(|plan| replay_batches(&scenario, plan, epoch))
            .unwrap_or_default();
        let ctx = EpochCtx {
            pool: &pool,
            scenario: &scenario,
            demand: &demand_now,
            replay: &replay_now,
            run_id: &run_id,
            shield: shield_update.as_ref(),
            // Agents without regions keep their shield replica current in
            // case they take regions over.
            idle_too: shields.enabled(),
        };
        let started = Instant::now();
        let calls = spawn_advance(
            &ctx,
            &assignment,
            &alive,
            &controls,
            epoch,
            deadline.current(),
        );
        if let Some(done) = pending.take() {
            commit(&mut fold, &mut log, done)?;
            on_epoch(&progress(&scenario, &fold, epoch - 1, wall_secs, busy_secs));
        }
        let (mut reports, failures, busy) = collect_advance(&ctx, calls, epoch).await;
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
            let plan = reassign(&scenario, &demand, &assignment, &alive, &regions);
            let mut to = Vec::new();
            for (agent, taken) in plan {
                match take_over(&ctx, agent, &taken, &controls, epoch, deadline.current()).await {
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
        deadline.observe(started.elapsed());
        wall_secs += started.elapsed().as_secs_f64();
        pending = Some(Completed {
            epoch,
            reports,
            incidents,
        });
    }
    if let Some(done) = pending.take() {
        let epoch = done.epoch;
        commit(&mut fold, &mut log, done)?;
        on_epoch(&progress(&scenario, &fold, epoch, wall_secs, busy_secs));
    }
    if let Some(log) = log {
        log.finish()?;
    }
    for (i, agent) in pool.iter_mut().enumerate() {
        if alive[i] {
            // The run's results are already in; a failed stop only leaves
            // the agent busy until it is restarted.
            let _ = tokio::time::timeout(
                Duration::from_secs(5),
                agent.client.stop_run(pb::StopRunRequest {
                    run_id: run_id.clone(),
                }),
            )
            .await;
        }
    }
    pool.shutdown().await;
    Ok(fold.finish())
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
    fold: &mut fold::RunFold,
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
    fold: &fold::RunFold,
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

/// The per-epoch call deadline: generous for the first epochs, then a
/// multiple of the slowest epoch seen, never above the configured cap.
struct Deadline {
    cap: Duration,
    slowest: Duration,
}

impl Deadline {
    /// Floor of the adaptive deadline.
    const FLOOR: Duration = Duration::from_secs(10);
    /// How many times the slowest epoch so far an epoch may take.
    const FACTOR: u32 = 20;

    fn new(cap: Duration) -> Deadline {
        Deadline {
            cap,
            slowest: Duration::ZERO,
        }
    }

    fn current(&self) -> Duration {
        (self.slowest * Self::FACTOR).max(Self::FLOOR).min(self.cap)
    }

    fn observe(&mut self, took: Duration) {
        self.slowest = self.slowest.max(took);
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
    controls: &std::collections::BTreeMap<String, f64>,
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

/// Each region's requests of `epoch` in a replay, packed for the wire.
fn replay_batches(
    scenario: &Scenario,
    plan: &edgesim_model::replay::ReplayPlan,
    epoch: u64,
) -> Vec<Vec<u8>> {
    let span = scenario.simulation.epoch_span(epoch);
    let start = plan.requests.partition_point(|r| r.at_us < span.start);
    let end = plan.requests.partition_point(|r| r.at_us < span.end);
    let mut per_region: Vec<Vec<&edgesim_model::replay::ReplayRequest>> =
        vec![Vec::new(); scenario.regions.len()];
    for r in &plan.requests[start..end] {
        per_region[scenario.pops[r.pop].region].push(r);
    }
    per_region
        .into_iter()
        .map(|rs| edgesim_model::replay::encode(rs, span.start))
        .collect()
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

async fn handshake_and_start(
    pool: &mut agents::AgentPool,
    scenario: &Scenario,
    scenario_toml: &str,
    assignment: &[Vec<usize>],
    run_id: &str,
    config: &RunConfig,
) -> Result<(), CoordinatorError> {
    for (i, agent) in pool.iter_mut().enumerate() {
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
        agent
            .client
            .start_run(pb::StartRunRequest {
                run_id: run_id.to_owned(),
                scenario_name: scenario.source_name.clone(),
                scenario_toml: scenario_toml.to_owned(),
                regions: assignment[i]
                    .iter()
                    .map(|&r| scenario.regions[r].id.clone())
                    .collect(),
                handler_sources: scenario.trigger_sources.clone().into_iter().collect(),
            })
            .await
            .map_err(|s| fail(format!("refused the run: {}", status_text(&s))))?;
    }
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
    controls: &std::collections::BTreeMap<String, f64>,
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

/// The calls of one epoch's advance, under way.
type AdvanceCalls = JoinSet<(
    usize,
    Result<
        Result<tonic::Response<pb::AdvanceResponse>, tonic::Status>,
        tokio::time::error::Elapsed,
    >,
    Duration,
)>;

/// Sends `epoch`'s Advance to every live agent with regions.
fn spawn_advance(
    ctx: &EpochCtx<'_>,
    assignment: &[Vec<usize>],
    alive: &[bool],
    controls: &std::collections::BTreeMap<String, f64>,
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
            controls: controls.clone().into_iter().collect(),
            shield: ctx.shield.cloned(),
        };
        let mut client = agent.client.clone();
        calls.spawn(async move {
            let started = Instant::now();
            let out = tokio::time::timeout(deadline, client.advance(req)).await;
            (i, out, started.elapsed())
        });
    }
    calls
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
        let (i, out, elapsed) = joined.expect("advance tasks do not panic");
        let resp = match out {
            Err(_) => {
                failures.push((i, format!("no answer within {elapsed:.1?}")));
                continue;
            }
            Ok(Err(status)) => {
                failures.push((i, status_text(&status)));
                continue;
            }
            Ok(Ok(resp)) => resp.into_inner(),
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
