//! A run in process, in the pure part of edgesim: what the coordinator owns
//! across epochs ([`Globals`]: routing and demand, the events in force, the
//! migration controller, origins' global load), folding each epoch into
//! the summary ([`RunFold`]), and [`SteppedRun`], which drives every region
//! of a scenario itself, one epoch per call, with no tokio, gRPC or agent.
//!
//! The coordinator (`edgesim-coordinator`) uses the same [`Globals`] and
//! [`RunFold`] and only adds transport: agents over gRPC, leases, failures.
//! A stepped run therefore gives the same summary, byte for byte, as a run
//! on any number of agents (a test in the coordinator says so).

mod fold;
mod globals;

use std::sync::Arc;

use edgesim_model::Scenario;
use edgesim_model::replay::{ReplayError, ReplayRequest, ReplayStream};
use edgesim_report::{AccumulateError, Summary};
use edgesim_sim::controls::EpochControls;
use edgesim_sim::shield::{ShieldCaches, ShieldReplica};
use edgesim_sim::{RegionEpochReport, RegionSim, SimError};

pub use fold::RunFold;
pub use globals::Globals;

/// Why a stepped run could not go on.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// A region could not be built or advanced.
    #[error(transparent)]
    Sim(#[from] SimError),
    /// An epoch's reports could not be folded.
    #[error(transparent)]
    Fold(#[from] AccumulateError),
    /// A replayed log could not be read on.
    #[error(transparent)]
    Replay(#[from] ReplayError),
}

/// What one step did: the epoch, its controls and its regions' reports.
#[derive(Debug)]
pub struct Step<'a> {
    /// The epoch simulated.
    pub epoch: u64,
    /// The controls every region had for it.
    pub controls: &'a EpochControls,
    /// Every region's report, in region order.
    pub reports: &'a [RegionEpochReport],
}

/// A whole run stepped epoch by epoch in the calling thread.
pub struct SteppedRun {
    scenario: Arc<Scenario>,
    regions: Vec<RegionSim>,
    fold: RunFold,
    shields: ShieldCaches,
    replica: Arc<ShieldReplica>,
    replay: Option<ReplayStream>,
    next_epoch: u64,
    controls: EpochControls,
    reports: Vec<RegionEpochReport>,
}

impl SteppedRun {
    /// A run of `scenario` before its first epoch, with `replay` the
    /// scenario's `[replay]` logs when it has them (see
    /// `edgesim_model::replay::ReplayStream::open`).
    pub fn new(scenario: Arc<Scenario>, replay: Option<ReplayStream>) -> Result<Self, StepError> {
        let replica = Arc::new(ShieldReplica::new());
        let mut regions = (0..scenario.regions.len())
            .map(|r| RegionSim::new(Arc::clone(&scenario), r))
            .collect::<Result<Vec<_>, _>>()?;
        for r in &mut regions {
            r.set_shield_replica(Arc::clone(&replica));
        }
        Ok(SteppedRun {
            fold: RunFold::new(Arc::clone(&scenario)),
            shields: ShieldCaches::new(&scenario),
            scenario,
            regions,
            replica,
            replay,
            next_epoch: 0,
            controls: EpochControls::default(),
            reports: Vec::new(),
        })
    }

    /// The epoch the next [`SteppedRun::step`] simulates.
    pub fn next_epoch(&self) -> u64 {
        self.next_epoch
    }

    /// Whether every epoch of the scenario has been simulated.
    pub fn is_done(&self) -> bool {
        self.next_epoch >= self.scenario.simulation.epochs()
    }

    /// Simulates the next epoch in every region and folds it in; None
    /// once the run is over.
    pub fn step(&mut self) -> Result<Option<Step<'_>>, StepError> {
        if self.is_done() {
            return Ok(None);
        }
        let epoch = self.next_epoch;
        self.controls = self.fold.controls(epoch);
        let demand = self.fold.demand(epoch);
        let replay = match &mut self.replay {
            None => None,
            Some(stream) => {
                let end_us = self.scenario.simulation.epoch_span(epoch).end;
                Some(by_region(&self.scenario, stream.take_until(end_us)?))
            }
        };
        let mut reports = Vec::with_capacity(self.regions.len());
        for (i, region) in self.regions.iter_mut().enumerate() {
            region.set_controls(&self.controls);
            reports.push(match &replay {
                Some(batches) => region.advance_replay(epoch, &batches[i])?,
                None => region.advance(epoch, &demand[i])?,
            });
        }
        self.fold.observe(epoch, &reports);
        if self.shields.enabled() {
            // The coordinator's shields take the epoch's accesses; every
            // region reads them from the next epoch on.
            let update = self.shields.apply_epoch(epoch, &reports);
            let empty = Arc::new(ShieldReplica::new());
            for r in &mut self.regions {
                r.set_shield_replica(Arc::clone(&empty));
            }
            Arc::make_mut(&mut self.replica).apply(&update);
            for r in &mut self.regions {
                r.set_shield_replica(Arc::clone(&self.replica));
            }
        }
        self.fold.accumulate(epoch, &reports, Vec::new())?;
        self.reports = reports;
        self.next_epoch += 1;
        Ok(Some(Step {
            epoch,
            controls: &self.controls,
            reports: &self.reports,
        }))
    }

    /// Steps to the end of the run and returns its summary.
    pub fn run_to_end(mut self) -> Result<Summary, StepError> {
        while self.step()?.is_some() {}
        Ok(self.summary())
    }

    /// The summary of the epochs simulated so far (marked incomplete
    /// until the last one).
    pub fn summary(&self) -> Summary {
        self.fold.finish()
    }
}

/// Replayed requests (in time order) split by the region of their PoP,
/// in scenario region order.
pub fn by_region(scenario: &Scenario, requests: Vec<ReplayRequest>) -> Vec<Vec<ReplayRequest>> {
    let mut per_region = vec![Vec::new(); scenario.regions.len()];
    for r in requests {
        per_region[scenario.pops[r.pop].region].push(r);
    }
    per_region
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCENARIO: &str = r#"
name = "stepped"
[simulation]
duration_secs = 30
epoch_ms = 1000
seed = 3

[[pops]]
id = "fra"
city = "FRA"
cache_bytes = "32MiB"

[[pops]]
id = "iad"
city = "IAD"
region = "us-east-1"
cache_bytes = "32MiB"

[viewers]
requests_per_sec = 200
countries = { DE = 0.5, US = 0.5 }

[[origins]]
id = "old"
kind = "s3"
location = "us-east-1"

[[origins]]
id = "new"
kind = "s3"
location = "eu-west-1"

[catalog]
objects = 2000
zipf_alpha = 0.8
size = "4KiB"
ttl_secs = 600
origin = "old"

[migration]
from = "old"
to = "new"
split = "object_hash"
start_secs = 5
schedule = { kind = "linear", step_percent = 25, every_secs = 5 }
"#;

    fn scenario() -> Arc<Scenario> {
        Arc::new(Scenario::from_toml("stepped.toml", SCENARIO).unwrap_or_else(|d| panic!("{d}")))
    }

    #[test]
    fn a_run_steps_epoch_by_epoch_and_its_migration_moves_traffic() {
        let s = scenario();
        let mut run = SteppedRun::new(Arc::clone(&s), None).expect("builds");
        let mut weights = Vec::new();
        let mut requests = 0;
        let mut expected = 0;
        while let Some(step) = run.step().expect("steps") {
            assert_eq!(step.epoch, expected, "epochs in order");
            expected += 1;
            assert_eq!(step.reports.len(), s.regions.len());
            weights.push(step.controls.migration.expect("a migration").weight);
            requests += step
                .reports
                .iter()
                .flat_map(|r| &r.pops)
                .map(|p| p.counters.requests)
                .sum::<u64>();
        }
        assert!(run.is_done());
        assert_eq!(weights.len() as u64, s.simulation.epochs());
        assert_eq!(weights[0], 0.0);
        assert_eq!(*weights.last().expect("epochs"), 1.0);
        assert!(weights.windows(2).all(|w| w[0] <= w[1]), "{weights:?}");
        let summary = run.summary();
        assert!(summary.complete);
        assert_eq!(summary.totals.requests, requests);
        assert!(run.step().expect("done").is_none());
    }

    #[test]
    fn the_same_scenario_steps_to_the_same_summary() {
        let a = SteppedRun::new(scenario(), None).expect("builds");
        let b = SteppedRun::new(scenario(), None).expect("builds");
        assert_eq!(a.run_to_end().expect("runs"), b.run_to_end().expect("runs"));
    }
}
