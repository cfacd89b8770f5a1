//! The coordinator: starts local agents (child processes or in-process
//! servers on loopback) or connects to remote ones, assigns regions to
//! them balanced by expected load, drives simulated time epoch by epoch,
//! and folds the agents' reports into a [`Summary`].
//!
//! It owns everything global (routing today; origin load, migration
//! control and faults as they arrive) and only moves data: the simulation
//! itself happens in the agents' region engines.

mod agents;
mod globals;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use edgesim_model::Scenario;
use edgesim_proto::pb;
use edgesim_proto::{PROTOCOL_VERSION, SOFTWARE_VERSION, region_report_from_pb};
use edgesim_report::{AccumulateError, RunAccumulator, Summary};
use edgesim_sim::{Demand, Routing};
use tokio::task::JoinSet;

pub use agents::AgentConn;

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
}

impl RunConfig {
    /// Defaults for the given agents.
    pub fn new(agents: AgentSource) -> RunConfig {
        RunConfig {
            agents,
            epoch_deadline: Duration::from_secs(120),
            startup_deadline: Duration::from_secs(30),
            token: None,
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
}

/// Runs `scenario` (whose file text is `scenario_toml`) to completion and
/// returns its summary. `on_epoch` is called after every epoch.
pub async fn run(
    scenario: Arc<Scenario>,
    scenario_toml: &str,
    config: &RunConfig,
    mut on_epoch: impl FnMut(&Progress),
) -> Result<Summary, CoordinatorError> {
    let routing = Routing::nearest(&scenario);
    let demand = routing.demand(&scenario, scenario.viewers.requests_per_sec);
    let mut pool = agents::start(
        &config.agents,
        config.token.as_deref(),
        config.startup_deadline,
    )
    .await?;
    let assignment = assign_regions(&scenario, &demand, pool.len());
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

    let mut acc = RunAccumulator::new(Arc::clone(&scenario));
    let mut globals = globals::Globals::new(&scenario);
    let epochs = scenario.simulation.epochs();
    for epoch in 0..epochs {
        let controls = globals.controls(&scenario, epoch);
        let reports = advance_epoch(
            &pool,
            &assignment,
            &scenario,
            &demand,
            &controls,
            &run_id,
            epoch,
            config,
        )
        .await?;
        globals.observe(&scenario, epoch, &reports);
        acc.add_epoch(epoch, &reports)?;
        on_epoch(&Progress {
            epochs_done: epoch + 1,
            epochs,
            simulated_secs: scenario.simulation.epoch_span(epoch).end as f64 / 1e6,
            duration_secs: scenario.simulation.duration_us as f64 / 1e6,
            requests: acc.totals().requests,
        });
    }
    for (i, agent) in pool.iter_mut().enumerate() {
        if !assignment[i].is_empty() {
            // The run's results are already in; a failed stop only leaves
            // the agent busy until it is restarted.
            let _ = agent
                .client
                .stop_run(pb::StopRunRequest {
                    run_id: run_id.clone(),
                })
                .await;
        }
    }
    pool.shutdown().await;
    let mut summary = acc.summary();
    summary.migration = globals.migration_summary(&scenario);
    Ok(summary)
}

fn unique_suffix() -> u128 {
    // Only names the run for the agents; never part of any result.
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

/// Regions per agent (index = agent): largest expected load first, each to
/// the least-loaded agent so far (ties to the lower index); deterministic.
pub fn assign_regions(
    scenario: &Scenario,
    demand: &[Vec<Demand>],
    agents: usize,
) -> Vec<Vec<usize>> {
    let load = |r: usize| {
        demand[r].iter().map(|d| d.requests_per_sec).sum::<f64>()
            + scenario.regions[r].pops.len() as f64
    };
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
        if assignment[i].is_empty() {
            continue;
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

#[allow(clippy::too_many_arguments)]
async fn advance_epoch(
    pool: &agents::AgentPool,
    assignment: &[Vec<usize>],
    scenario: &Scenario,
    demand: &[Vec<Demand>],
    controls: &std::collections::BTreeMap<String, f64>,
    run_id: &str,
    epoch: u64,
    config: &RunConfig,
) -> Result<Vec<edgesim_sim::RegionEpochReport>, CoordinatorError> {
    let mut calls = JoinSet::new();
    for (i, agent) in pool.iter().enumerate() {
        if assignment[i].is_empty() {
            continue;
        }
        let req = pb::AdvanceRequest {
            run_id: run_id.to_owned(),
            epoch,
            regions: assignment[i]
                .iter()
                .map(|&r| pb::RegionControls {
                    region: scenario.regions[r].id.clone(),
                    demand: demand[r].iter().map(pb::Demand::from).collect(),
                })
                .collect(),
            controls: controls.clone().into_iter().collect(),
        };
        let mut client = agent.client.clone();
        let deadline = config.epoch_deadline;
        calls.spawn(async move {
            let started = Instant::now();
            let out = tokio::time::timeout(deadline, client.advance(req)).await;
            (i, out, started.elapsed())
        });
    }
    let mut reports = Vec::with_capacity(scenario.regions.len());
    while let Some(joined) = calls.join_next().await {
        let (i, out, elapsed) = joined.expect("advance tasks do not panic");
        let failed = |reason: String| CoordinatorError::AgentFailed {
            agent: pool.name(i).to_owned(),
            regions: assignment[i]
                .iter()
                .map(|&r| scenario.regions[r].id.as_str())
                .collect::<Vec<_>>()
                .join(","),
            epoch,
            reason,
        };
        let resp = match out {
            Err(_) => return Err(failed(format!("no answer within {:.1?}", elapsed))),
            Ok(Err(status)) => return Err(failed(status_text(&status))),
            Ok(Ok(resp)) => resp.into_inner(),
        };
        if resp.epoch != epoch || resp.run_id != run_id {
            return Err(failed(format!(
                "answered for run {} epoch {}",
                resp.run_id, resp.epoch
            )));
        }
        reports.extend(
            resp.regions
                .into_iter()
                .map(|r| region_report_from_pb(epoch, r)),
        );
    }
    reports.sort_by_key(|r| r.region);
    Ok(reports)
}
