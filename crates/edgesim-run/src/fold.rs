//! Folding epochs into a run's summary: the same code for a live run and
//! for a rebuild from the epoch log, so that both give the same bytes.

use std::sync::Arc;

use edgesim_model::Scenario;
use edgesim_report::{AccumulateError, Incident, RunAccumulator, Summary};
use edgesim_sim::{Counters, RegionEpochReport};

use crate::globals::Globals;

/// Everything a run has folded in so far.
pub struct RunFold {
    acc: RunAccumulator,
    globals: Globals,
    incidents: Vec<Incident>,
    aborted: bool,
    scenario: Arc<Scenario>,
}

impl RunFold {
    /// Nothing folded yet.
    pub fn new(scenario: Arc<Scenario>) -> RunFold {
        RunFold {
            acc: RunAccumulator::new(Arc::clone(&scenario)),
            globals: Globals::new(&scenario),
            incidents: Vec::new(),
            aborted: false,
            scenario,
        }
    }

    /// The demand of every region in `epoch`.
    pub fn demand(&mut self, epoch: u64) -> Vec<Vec<edgesim_sim::Demand>> {
        self.globals.demand(&self.scenario, epoch)
    }

    /// The controls of `epoch`; called once per epoch, in order, before
    /// the epoch is folded (or aborted).
    pub fn controls(&mut self, epoch: u64) -> edgesim_sim::controls::EpochControls {
        self.globals.controls(&self.scenario, epoch)
    }

    /// Folds in a completed epoch (`reports` in region order) and the
    /// incidents handled during it.
    pub fn add_epoch(
        &mut self,
        epoch: u64,
        reports: &[RegionEpochReport],
        incidents: Vec<Incident>,
    ) -> Result<(), AccumulateError> {
        self.observe(epoch, reports);
        self.accumulate(epoch, reports, incidents)
    }

    /// The part of [`RunFold::add_epoch`] the next epoch's controls depend
    /// on (cheap): global load and the migration controller.
    pub fn observe(&mut self, epoch: u64, reports: &[RegionEpochReport]) {
        self.globals.observe(&self.scenario, epoch, reports);
    }

    /// The rest of [`RunFold::add_epoch`] (the report's numbers), which
    /// the coordinator does while the agents simulate the next epoch.
    pub fn accumulate(
        &mut self,
        epoch: u64,
        reports: &[RegionEpochReport],
        incidents: Vec<Incident>,
    ) -> Result<(), AccumulateError> {
        self.acc.add_epoch(epoch, reports)?;
        self.incidents.extend(incidents);
        Ok(())
    }

    /// Records that the run stopped during an epoch it did not complete.
    pub fn abort(&mut self, incidents: Vec<Incident>) {
        self.incidents.extend(incidents);
        self.aborted = true;
    }

    /// Counters of the folded epochs.
    pub fn totals(&self) -> &Counters {
        self.acc.totals()
    }

    /// The summary of what was folded.
    pub fn finish(&self) -> Summary {
        let mut summary = self.acc.summary();
        summary.migration = self.globals.migration_summary(&self.scenario);
        self.globals.fill_origin_queues(&mut summary);
        summary.incidents = self.incidents.clone();
        if self.aborted {
            summary.complete = false;
        }
        summary
    }
}
