//! What the coordinator owns because no region can: routing and demand
//! (traffic shapes, PoP outages), the events in force, the migration
//! controller and the origins' global load (throttling, queueing). Load
//! turns one epoch's reports into the controls of the next (a one-epoch
//! lag, see DESIGN.md).

use std::collections::BTreeMap;

use edgesim_migration::{Controller, GateMetric, Observation};
use edgesim_model::Scenario;
use edgesim_model::events::EventKind;
use edgesim_report::MigrationSummary;
use edgesim_sim::{Demand, RegionEpochReport, Routing, controls};

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
    /// Per origin with `throttle_rps`: the Slow Down limit now (it grows
    /// under pressure with `throttle_doubling_secs`) and the limit each
    /// epoch was given.
    slow_down: Vec<Option<(f64, Vec<f64>)>>,
    /// Per origin: requests queued beyond what it can serve (an origin
    /// loaded past its capacity), carried from epoch to epoch.
    backlog: Vec<f64>,
    /// PoPs that were down in the previous epoch.
    down_before: Vec<bool>,
    /// Routing for the current set of PoPs that are up.
    routing: Option<(Vec<bool>, Routing)>,
    /// Per origin with limited concurrency, per epoch: (utilisation, mean
    /// queueing delay per fetch in ms) the model applied.
    queue_series: Vec<Vec<(f64, f64)>>,
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
            slow_down: scenario
                .origins
                .iter()
                .map(|o| o.faults.throttle_rps.map(|l| (l, Vec::new())))
                .collect(),
            backlog: vec![0.0; scenario.origins.len()],
            down_before: vec![false; scenario.pops.len()],
            routing: None,
            queue_series: vec![Vec::new(); scenario.origins.len()],
        }
    }

    /// PoPs down at `t_us` (a `pop_outage` in force).
    fn down_at(scenario: &Scenario, t_us: u64) -> Vec<bool> {
        let mut down = vec![false; scenario.pops.len()];
        for e in &scenario.events {
            if let EventKind::PopOutage { pop } = e.kind
                && e.active_at(t_us)
            {
                down[pop] = true;
            }
        }
        down
    }

    /// The demand of every region (index = region) in `epoch`: viewers go
    /// to the nearest PoP that is up, at the rate the traffic shape and
    /// any flash crowd give their country at the epoch's start.
    pub(crate) fn demand(&mut self, scenario: &Scenario, epoch: u64) -> Vec<Vec<Demand>> {
        let t_us = scenario.simulation.epoch_span(epoch).start;
        let down = Self::down_at(scenario, t_us);
        let stale = self.routing.as_ref().is_none_or(|(d, _)| *d != down);
        if stale {
            let up: Vec<bool> = down.iter().map(|d| !d).collect();
            self.routing = Some((down.clone(), Routing::nearest_up(scenario, &up)));
        }
        let routing = &self.routing.as_ref().expect("just set").1;
        let mut demand = routing.demand(scenario, scenario.viewers.requests_per_sec);
        let flash = flash_at(scenario, t_us);
        for region in &mut demand {
            for d in region.iter_mut() {
                let c = &scenario.viewers.countries[d.country];
                let mut m = scenario
                    .traffic
                    .multiplier(t_us, f64::from(c.utc_offset_hours));
                if let Some((factor, _, countries)) = &flash
                    && (countries.is_empty() || countries.contains(&d.country))
                {
                    m *= factor;
                }
                d.requests_per_sec *= m;
            }
        }
        demand
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
        for ((o, offered), slow_down) in scenario
            .origins
            .iter()
            .zip(&self.offered_rps)
            .zip(&mut self.slow_down)
        {
            if let Some((limit, series)) = slow_down {
                series.push(*limit);
                if *offered > *limit {
                    out.insert(controls::origin_throttle(&o.id), 1.0 - *limit / offered);
                }
            }
        }
        let span = scenario.simulation.epoch_span(epoch);
        let t_us = span.start;
        let epoch_secs = (span.end - span.start) as f64 / 1e6;
        let mut slowdown = vec![1.0; scenario.origins.len()];
        for e in scenario.events.iter().filter(|e| e.active_at(t_us)) {
            match &e.kind {
                EventKind::OriginOutage { origin, status } => {
                    out.insert(
                        controls::origin_down(&scenario.origins[*origin].id),
                        f64::from(*status),
                    );
                }
                EventKind::OriginSlowdown { origin, factor } => slowdown[*origin] *= factor,
                EventKind::RegionalOutage { region } => {
                    out.insert(controls::regional_down(&scenario.regions[*region].id), 1.0);
                }
                EventKind::NetworkDegradation {
                    region,
                    origin,
                    extra_ms,
                } => {
                    for (i, o) in scenario.origins.iter().enumerate() {
                        if origin.is_none_or(|x| x == i) {
                            let key = controls::extra_rtt_ms(&scenario.regions[*region].id, &o.id);
                            *out.entry(key).or_insert(0.0) += extra_ms;
                        }
                    }
                }
                EventKind::PopOutage { .. } | EventKind::FlashCrowd { .. } => {}
            }
        }
        for (i, o) in scenario.origins.iter().enumerate() {
            if slowdown[i] != 1.0 {
                out.insert(controls::origin_slowdown(&o.id), slowdown[i]);
            }
            // Limited concurrency: an M/M/c queue at last epoch's load.
            let Some(servers) = o.concurrency else {
                continue;
            };
            let mean_service_secs = o.service_ms.mean() * slowdown[i] / 1000.0;
            if mean_service_secs <= 0.0 {
                continue;
            }
            let mu = 1.0 / mean_service_secs;
            let capacity = f64::from(servers) * mu;
            let lambda = self.offered_rps[i];
            // Requests beyond capacity pile up; spare capacity drains them.
            self.backlog[i] = (self.backlog[i] + (lambda - capacity) * epoch_secs).max(0.0);
            let utilisation = lambda / capacity;
            let (p, mean_secs) = if self.backlog[i] > 0.0 {
                (1.0, self.backlog[i] / capacity)
            } else {
                match edgesim_sim::queueing::mmc_wait(servers, lambda, mu) {
                    Some(w) => (w.p_wait, w.mean_wait_if_waiting_secs),
                    None => (1.0, 1.0 / capacity),
                }
            };
            if p > 0.0 {
                out.insert(controls::origin_wait_p(&o.id), p);
                out.insert(controls::origin_wait_ms(&o.id), mean_secs * 1000.0);
            }
            self.queue_series[i].push((utilisation, p * mean_secs * 1000.0));
        }
        // PoPs back from an outage start with an empty cache.
        let down = Self::down_at(scenario, t_us);
        for (i, p) in scenario.pops.iter().enumerate() {
            if self.down_before[i] && !down[i] {
                out.insert(controls::pop_flush(&p.id), 1.0);
            }
        }
        self.down_before = down;
        if let Some((factor, objects, countries)) = flash_at(scenario, t_us) {
            out.insert(controls::FLASH_OBJECTS.to_owned(), objects as f64);
            for (i, c) in scenario.viewers.countries.iter().enumerate() {
                if countries.is_empty() || countries.contains(&i) {
                    out.insert(controls::flash_share(&c.code), (factor - 1.0) / factor);
                }
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
        // S3 scales a prefix under sustained pressure: the limit doubles
        // every `throttle_doubling_secs` while the offered rate exceeds it,
        // and stays where it got to when the pressure ends.
        for ((o, offered), slow_down) in scenario
            .origins
            .iter()
            .zip(&self.offered_rps)
            .zip(&mut self.slow_down)
        {
            if let (Some((limit, _)), Some(doubling)) = (slow_down, o.faults.throttle_doubling_secs)
                && *offered > *limit
            {
                *limit = (*limit * (secs / doubling).exp2()).min(*offered);
            }
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

    /// Utilisation and mean queueing delay per epoch of the origins with
    /// limited concurrency, into the summary's origins.
    pub(crate) fn fill_origin_queues(&self, summary: &mut edgesim_report::Summary) {
        for (o, series) in summary.origins.iter_mut().zip(&self.queue_series) {
            // Only epochs that were folded (an aborted run planned one more).
            let n = o.fetches_per_epoch.len().min(series.len());
            o.utilisation_per_epoch = series[..n].iter().map(|s| s.0).collect();
            o.queue_wait_ms_per_epoch = series[..n].iter().map(|s| s.1).collect();
        }
        for (o, slow_down) in summary.origins.iter_mut().zip(&self.slow_down) {
            if let Some((_, series)) = slow_down {
                let n = o.fetches_per_epoch.len().min(series.len());
                o.slow_down_limit_per_epoch = series[..n].to_vec();
            }
        }
    }

    /// The migration's part of the summary.
    pub(crate) fn migration_summary(&self, scenario: &Scenario) -> Option<MigrationSummary> {
        let (c, (from, to)) = (self.controller.as_ref()?, self.migration_origins?);
        let summary = MigrationSummary::of(c, &scenario.origins[from].id, &scenario.origins[to].id);
        Some(
            match scenario
                .migration
                .as_ref()
                .and_then(|m| m.countries.as_ref())
            {
                Some(order) => summary.with_countries(order),
                None => summary,
            },
        )
    }
}

/// The flash crowd in force at `t_us`: (traffic factor, objects, countries).
fn flash_at(scenario: &Scenario, t_us: u64) -> Option<(f64, u64, Vec<usize>)> {
    scenario.events.iter().find_map(|e| match &e.kind {
        EventKind::FlashCrowd {
            factor,
            objects,
            countries,
        } if e.active_at(t_us) => Some((*factor, *objects, countries.clone())),
        _ => None,
    })
}
