//! Folds per-epoch region reports into run totals, per-PoP and per-route
//! histograms and the time series. Histograms are added, never averaged,
//! so the result does not depend on how regions were spread over agents.

use std::collections::BTreeMap;
use std::sync::Arc;

use edgesim_model::Scenario;
use edgesim_sim::metrics::{decode_histogram, new_latency_histogram};
use edgesim_sim::{Counters, LatencyHistogram, RegionEpochReport};

use crate::summary::{
    EpochRow, LatencyMs, OriginSummary, PopSummary, RegionSummary, RouteSummary, SCHEMA_VERSION,
    Summary, Totals,
};

/// A report that does not fit the run it is added to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccumulateError {
    /// Epochs must arrive in order.
    #[error("epoch {got} reported, epoch {expected} expected")]
    EpochOutOfOrder {
        /// Epoch received.
        got: u64,
        /// Epoch due.
        expected: u64,
    },
    /// Every region must report every epoch, once.
    #[error("epoch {epoch}: region {region} {problem}")]
    Region {
        /// Epoch.
        epoch: u64,
        /// Region id or index.
        region: String,
        /// What is wrong.
        problem: String,
    },
    /// An index or histogram in the report is invalid.
    #[error("epoch {epoch}: {problem}")]
    Malformed {
        /// Epoch.
        epoch: u64,
        /// What is wrong.
        problem: String,
    },
}

/// Running totals of one run.
pub struct RunAccumulator {
    scenario: Arc<Scenario>,
    total: Counters,
    latency: LatencyHistogram,
    pops: Vec<(Counters, LatencyHistogram)>,
    routes: BTreeMap<(usize, usize), (u64, LatencyHistogram)>,
    origins: Vec<(u64, u64)>,
    rows: Vec<EpochRow>,
}

impl RunAccumulator {
    /// An empty accumulator for a run of `scenario`.
    pub fn new(scenario: Arc<Scenario>) -> RunAccumulator {
        RunAccumulator {
            total: Counters::default(),
            latency: new_latency_histogram(),
            pops: scenario
                .pops
                .iter()
                .map(|_| (Counters::default(), new_latency_histogram()))
                .collect(),
            routes: BTreeMap::new(),
            origins: vec![(0, 0); scenario.origins.len()],
            rows: Vec::new(),
            scenario,
        }
    }

    /// Epochs folded in so far.
    pub fn epochs_done(&self) -> u64 {
        self.rows.len() as u64
    }

    /// Run totals so far.
    pub fn totals(&self) -> &Counters {
        &self.total
    }

    /// Folds in one epoch: one report per region of the scenario, in any
    /// order. Nothing is changed when the reports are rejected.
    pub fn add_epoch(
        &mut self,
        epoch: u64,
        reports: &[RegionEpochReport],
    ) -> Result<&EpochRow, AccumulateError> {
        let expected = self.epochs_done();
        if epoch != expected {
            return Err(AccumulateError::EpochOutOfOrder {
                got: epoch,
                expected,
            });
        }
        let decoded = self.check_and_decode(epoch, reports)?;
        let mut epoch_counters = Counters::default();
        let mut epoch_latency = new_latency_histogram();
        for (report, (pop_hists, route_hists)) in reports.iter().zip(decoded) {
            for (p, h) in report.pops.iter().zip(pop_hists) {
                let (c, ph) = &mut self.pops[p.pop];
                c.add(&p.counters);
                epoch_counters.add(&p.counters);
                add_histogram(ph, &h);
                add_histogram(&mut epoch_latency, &h);
            }
            for (r, h) in report.routes.iter().zip(route_hists) {
                let entry = self
                    .routes
                    .entry((r.country, r.pop))
                    .or_insert_with(|| (0, new_latency_histogram()));
                entry.0 += r.requests;
                add_histogram(&mut entry.1, &h);
            }
            for o in &report.origins {
                self.origins[o.origin].0 += o.fetches;
                self.origins[o.origin].1 += o.bytes;
            }
        }
        self.total.add(&epoch_counters);
        add_histogram(&mut self.latency, &epoch_latency);
        let span = self.scenario.simulation.epoch_span(epoch);
        let l = LatencyMs::of(&epoch_latency);
        self.rows.push(EpochRow {
            epoch,
            start_secs: span.start as f64 / 1e6,
            end_secs: span.end as f64 / 1e6,
            requests: epoch_counters.requests,
            edge_hits: epoch_counters.edge_hits,
            edge_collapsed: epoch_counters.edge_collapsed,
            regional_hits: epoch_counters.regional_hits,
            origin_fetches: epoch_counters.origin_fetches,
            viewer_bytes: epoch_counters.viewer_bytes,
            origin_bytes: epoch_counters.origin_bytes,
            offload_requests: epoch_counters.offload_requests(),
            offload_bytes: epoch_counters.offload_bytes(),
            p50_ms: l.p50,
            p90_ms: l.p90,
            p99_ms: l.p99,
            p999_ms: l.p999,
        });
        Ok(self.rows.last().expect("just pushed"))
    }

    /// Checks indices and decodes every histogram before anything is
    /// changed, so a bad report leaves the accumulator untouched.
    #[allow(clippy::type_complexity)]
    fn check_and_decode(
        &self,
        epoch: u64,
        reports: &[RegionEpochReport],
    ) -> Result<Vec<(Vec<LatencyHistogram>, Vec<LatencyHistogram>)>, AccumulateError> {
        let s = &self.scenario;
        let mut seen = vec![false; s.regions.len()];
        let malformed = |problem: String| AccumulateError::Malformed { epoch, problem };
        let mut out = Vec::with_capacity(reports.len());
        for r in reports {
            let Some(region) = s.regions.get(r.region) else {
                return Err(malformed(format!("unknown region index {}", r.region)));
            };
            if std::mem::replace(&mut seen[r.region], true) {
                return Err(AccumulateError::Region {
                    epoch,
                    region: region.id.clone(),
                    problem: "reported twice".into(),
                });
            }
            if r.epoch != epoch {
                return Err(AccumulateError::Region {
                    epoch,
                    region: region.id.clone(),
                    problem: format!("sent a report for epoch {}", r.epoch),
                });
            }
            let mut pop_hists = Vec::with_capacity(r.pops.len());
            for p in &r.pops {
                if s.pops.get(p.pop).is_none_or(|pop| pop.region != r.region) {
                    return Err(malformed(format!(
                        "region {} reported PoP index {} it does not own",
                        region.id, p.pop
                    )));
                }
                pop_hists.push(
                    decode_histogram(&p.latency_v2)
                        .map_err(|e| malformed(format!("PoP {}: {e}", s.pops[p.pop].id)))?,
                );
            }
            let mut route_hists = Vec::with_capacity(r.routes.len());
            for x in &r.routes {
                if x.country >= s.viewers.countries.len()
                    || s.pops.get(x.pop).is_none_or(|pop| pop.region != r.region)
                {
                    return Err(malformed(format!(
                        "region {} reported an unknown route ({}, {})",
                        region.id, x.country, x.pop
                    )));
                }
                route_hists.push(
                    decode_histogram(&x.latency_v2)
                        .map_err(|e| malformed(format!("route: {e}")))?,
                );
            }
            if let Some(o) = r.origins.iter().find(|o| o.origin >= s.origins.len()) {
                return Err(malformed(format!("unknown origin index {}", o.origin)));
            }
            out.push((pop_hists, route_hists));
        }
        if let Some(missing) = seen.iter().position(|&x| !x) {
            return Err(AccumulateError::Region {
                epoch,
                region: s.regions[missing].id.clone(),
                problem: "did not report".into(),
            });
        }
        Ok(out)
    }

    /// The summary of what has been folded in so far.
    pub fn summary(&self) -> Summary {
        let s = &self.scenario;
        let epochs = self.epochs_done();
        let simulated_us = if epochs == 0 {
            0
        } else {
            s.simulation.epoch_span(epochs - 1).end
        };
        Summary {
            schema_version: SCHEMA_VERSION,
            scenario: s.name.clone(),
            seed: s.simulation.seed,
            simulated_secs: simulated_us as f64 / 1e6,
            epoch_secs: s.simulation.epoch_us as f64 / 1e6,
            epochs,
            complete: epochs == s.simulation.epochs(),
            totals: Totals::from(&self.total),
            latency_ms: LatencyMs::of(&self.latency),
            pops: s
                .pops
                .iter()
                .zip(&self.pops)
                .map(|(p, (c, h))| PopSummary {
                    id: p.id.clone(),
                    city: p.city.clone(),
                    region: s.regions[p.region].id.clone(),
                    requests: c.requests,
                    edge_hits: c.edge_hits,
                    edge_collapsed: c.edge_collapsed,
                    regional_requests: c.regional_requests,
                    regional_hits: c.regional_hits,
                    origin_fetches: c.origin_fetches,
                    hit_ratio: c.hit_ratio(),
                    latency_ms: LatencyMs::of(h),
                })
                .collect(),
            regions: s
                .regions
                .iter()
                .map(|r| {
                    let mut c = Counters::default();
                    for &p in &r.pops {
                        c.add(&self.pops[p].0);
                    }
                    RegionSummary {
                        id: r.id.clone(),
                        cache_bytes: r.cache.map_or(0, |x| x.cache_bytes),
                        requests: c.requests,
                        regional_requests: c.regional_requests,
                        regional_hits: c.regional_hits,
                        regional_collapsed: c.regional_collapsed,
                        regional_hit_ratio: c.regional_hit_ratio(),
                        origin_fetches: c.origin_fetches,
                        offload_requests: c.offload_requests(),
                    }
                })
                .collect(),
            routes: self
                .routes
                .iter()
                .map(|(&(country, pop), (requests, h))| RouteSummary {
                    country: s.viewers.countries[country].code.clone(),
                    pop: s.pops[pop].id.clone(),
                    requests: *requests,
                    latency_ms: LatencyMs::of(h),
                })
                .collect(),
            origins: s
                .origins
                .iter()
                .zip(&self.origins)
                .map(|(o, &(fetches, bytes))| OriginSummary {
                    id: o.id.clone(),
                    fetches,
                    bytes,
                })
                .collect(),
            timeseries: self.rows.clone(),
        }
    }
}

/// Adds `from` into `into`; both have edgesim's bounds, so this cannot fail.
fn add_histogram(into: &mut LatencyHistogram, from: &LatencyHistogram) {
    into.add(from).expect("latency histograms share bounds");
}
