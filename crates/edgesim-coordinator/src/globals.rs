//! What the coordinator owns because no region can: the migration
//! controller and the origins' global load. Both turn one epoch's reports
//! into the controls of the next (a one-epoch lag, see DESIGN.md).

use std::collections::BTreeMap;

use edgesim_migration::{Controller, GateMetric, Observation};
use edgesim_model::Scenario;
use edgesim_report::MigrationSummary;
use edgesim_sim::{RegionEpochReport, controls};

/// The coordinator's global state across epochs.
pub(crate) struct Globals {
    /// Drives `[migration]`, when the scenario has one.
    controller: Option<Controller>,
    /// Origins traffic moves from and to.
    migration_origins: Option<(usize, usize)>,
    /// Whether a gate needs viewer latency (decoding histograms costs).
    needs_latency: bool,
    /// Per origin: fetches per second offered in the last epoch.
    offered_rps: Vec<f64>,
}

impl Globals {
    pub(crate) fn new(scenario: &Scenario) -> Globals {
        let controller = scenario
            .migration
            .as_ref()
            .map(|m| Controller::new(&m.spec, scenario.simulation.epoch_us));
        Globals {
            needs_latency: scenario
                .migration
                .as_ref()
                .is_some_and(|m| m.spec.gates.iter().any(|g| g.metric == GateMetric::P99Ms)),
            migration_origins: scenario.migration.as_ref().map(|m| (m.from, m.to)),
            controller,
            offered_rps: vec![0.0; scenario.origins.len()],
        }
    }

    /// The controls every region gets for `epoch`.
    pub(crate) fn controls(&mut self, scenario: &Scenario, epoch: u64) -> BTreeMap<String, f64> {
        let mut out = BTreeMap::new();
        if let Some(c) = &mut self.controller {
            let plan = c.plan(epoch);
            out.insert(controls::MIGRATION_WEIGHT.to_owned(), plan.weight);
            if plan.promoted {
                out.insert(controls::MIGRATION_PROMOTED.to_owned(), 1.0);
            }
        }
        for (o, offered) in scenario.origins.iter().zip(&self.offered_rps) {
            if let Some(limit) = o.faults.throttle_rps
                && *offered > limit
            {
                out.insert(controls::origin_throttle(&o.id), 1.0 - limit / offered);
            }
        }
        out
    }

    /// Folds in the reports of `epoch` (all regions, in region order).
    pub(crate) fn observe(
        &mut self,
        scenario: &Scenario,
        epoch: u64,
        reports: &[RegionEpochReport],
    ) {
        let span = scenario.simulation.epoch_span(epoch);
        let secs = ((span.end - span.start) as f64 / 1e6).max(1e-9);
        let mut fetches = vec![0u64; scenario.origins.len()];
        for r in reports {
            for o in &r.origins {
                fetches[o.origin] += o.fetches;
            }
        }
        for (rps, f) in self.offered_rps.iter_mut().zip(&fetches) {
            *rps = *f as f64 / secs;
        }
        let (Some(controller), Some((from, to))) = (&mut self.controller, self.migration_origins)
        else {
            return;
        };
        let mut obs = Observation::default();
        let mut latency: Option<hdrhistogram::Histogram<u64>> = None;
        for r in reports {
            for p in &r.pops {
                let c = &p.counters;
                obs.requests += c.requests;
                obs.status_5xx += c.status_5xx;
                obs.edge_hits += c.edge_hits;
                obs.origin_bytes += c.origin_bytes;
                obs.viewers_exposed_to_errors += c.viewers_exposed;
                obs.served_bytes_total += c.viewer_bytes;
                if self.needs_latency
                    && let Ok(h) = edgesim_sim::metrics::decode_histogram(&p.latency_v2)
                {
                    match &mut latency {
                        Some(all) => {
                            // Same bounds: adding cannot fail.
                            let _ = all.add(&h);
                        }
                        None => latency = Some(h),
                    }
                }
            }
            for o in &r.origins {
                if o.origin == from {
                    obs.old_fetches += o.fetches;
                    obs.old_errors += o.errors;
                    obs.served_from_old += o.served;
                    obs.hits_old_arm += o.served_hits;
                } else if o.origin == to {
                    obs.new_fetches += o.fetches;
                    obs.new_errors += o.errors;
                    obs.new_503 += o.throttled;
                    obs.served_from_new += o.served;
                    obs.served_bytes_from_new += o.served_bytes;
                    obs.hits_new_arm += o.served_hits;
                }
            }
        }
        obs.latency = latency;
        controller.observe(epoch, &obs);
    }

    /// The migration's part of the summary.
    pub(crate) fn migration_summary(&self, scenario: &Scenario) -> Option<MigrationSummary> {
        let (c, (from, to)) = (self.controller.as_ref()?, self.migration_origins?);
        Some(MigrationSummary::of(
            c,
            &scenario.origins[from].id,
            &scenario.origins[to].id,
        ))
    }
}
