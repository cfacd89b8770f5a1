//! Folds per-epoch region reports into run totals, per-PoP and per-route
//! histograms and the time series (overall and per origin). Histograms are
//! added, never averaged, so the result does not depend on how regions were
//! spread over agents; per-country histograms are the sums of their routes',
//! formed once in [`RunAccumulator::summary`] rather than every epoch.

use std::collections::BTreeMap;
use std::sync::Arc;

use edgesim_model::{OriginKind, Scenario};
use edgesim_sim::metrics::new_latency_histogram;
use edgesim_sim::{
    AnswerSource, Counters, ErrorCause, LambdaEpoch, LatencyHistogram, RegionEpochReport,
    TriggerEpoch,
};

use crate::histograms::RunHistograms;
use crate::shield::{ShieldCounters, ShieldSummary};
use crate::sparse::SparseHistogram;
use crate::summary::EntitySeries;
use crate::summary::{
    CountrySummary, EpochRow, LambdaQuotasSummary, LatencyMs, OriginSummary, PopSummary,
    RegionLambda, RegionSummary, RouteSummary, SCHEMA_VERSION, Summary, TIMESERIES_BY_TOP_N,
    TimeseriesBy, Totals, TriggerSummary, VariantSummary, ViewerOutcomes,
};

/// `part / whole`, 0 when `whole` is 0.
pub(crate) fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

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
    /// Scratch for the epoch being folded in (kept to avoid reallocating).
    epoch_latency: LatencyHistogram,
    /// Scratch for one origin's queue waits in the epoch being folded in.
    queue_scratch: LatencyHistogram,
    pops: Vec<(Counters, LatencyHistogram)>,
    routes: BTreeMap<(usize, usize), (u64, LatencyHistogram)>,
    origins: Vec<OriginLoad>,
    /// Per region: its Lambda@Edge quota usage in every epoch.
    lambda: Vec<Vec<LambdaEpoch>>,
    /// Per region: functions' console lines kept, and lines over the region's budget.
    function_logs: Vec<(Vec<String>, u64)>,
    rows: Vec<EpochRow>,
    triggers: BTreeMap<(usize, usize), TriggerEpoch>,
    /// By name: requests, edge hits, origin fetches, latency.
    variants: BTreeMap<String, (u64, u64, u64, LatencyHistogram)>,
    /// Per (behaviour, stage): invocations and failures per epoch.
    trigger_epochs: BTreeMap<(usize, usize), (Vec<u64>, Vec<u64>)>,
    /// Per-epoch latency of every country, PoP (scenario order) and
    /// variant (by name); the summary keeps the busiest.
    by_country: Vec<EntityTrack>,
    by_pop: Vec<EntityTrack>,
    by_variant: BTreeMap<String, EntityTrack>,
    by_device: Vec<EntityTrack>,
    by_origin: Vec<EntityTrack>,
    /// Run totals per device class (for the device CDF).
    device_totals: Vec<LatencyHistogram>,
    /// Any latency histogram: its bucket layout turns bucket values into
    /// the percentiles hdrhistogram reports.
    shape: LatencyHistogram,
    /// Per origin: its Origin Shield's counters per epoch.
    shield_epochs: Vec<Vec<ShieldCounters>>,
    /// Viewer answers by exact status over the run.
    statuses: BTreeMap<u16, u64>,
    /// Error answers by [`AnswerSource`] index over the run.
    errors_by_source: [u64; AnswerSource::ALL.len()],
    /// Error answers by [`ErrorCause`] (in `ErrorCause::ALL` order) per epoch.
    errors_by_cause: Vec<[u64; ErrorCause::ALL.len()]>,
    /// Time to first byte by part, per epoch (sums, µs) and answers.
    ttfb: Vec<(u64, edgesim_sim::TtfbParts)>,
    /// Connections over the run.
    connections: edgesim_sim::ConnectionCounts,
}

/// One entity's requests and latency percentiles (ms; p50, p90, p99,
/// p99.9) per epoch.
#[derive(Default, Clone)]
struct EntityTrack {
    requests: Vec<u64>,
    percentiles: Vec<Option<[f64; 4]>>,
}

impl EntityTrack {
    /// A track that starts with `epochs` epochs without requests.
    fn idle(epochs: usize) -> EntityTrack {
        EntityTrack {
            requests: vec![0; epochs],
            percentiles: vec![None; epochs],
        }
    }

    /// Appends one epoch: `requests` and the percentiles of `h`.
    fn push(&mut self, requests: u64, h: &SparseHistogram, shape: &LatencyHistogram) {
        self.requests.push(requests);
        self.percentiles.push((!h.is_empty()).then(|| {
            h.values_at_quantiles([0.5, 0.9, 0.99, 0.999], shape)
                .map(|us| us as f64 / 1000.0)
        }));
    }

    fn total(&self) -> u64 {
        self.requests.iter().sum()
    }

    /// The summary's form of this track.
    fn series(&self, id: &str, index: usize) -> EntitySeries {
        let column = |k: usize| self.percentiles.iter().map(|p| p.map(|p| p[k])).collect();
        EntitySeries {
            id: id.to_owned(),
            index,
            requests: self.total(),
            requests_per_epoch: self.requests.clone(),
            p50_ms: column(0),
            p90_ms: column(1),
            p99_ms: column(2),
            p999_ms: column(3),
        }
    }
}

/// The series of the (at most [`TIMESERIES_BY_TOP_N`]) tracks with the
/// most requests, busiest first (ties: lower index first); tracks without
/// requests are left out.
fn busiest<'a>(tracks: impl Iterator<Item = (&'a str, &'a EntityTrack)>) -> Vec<EntitySeries> {
    let mut busy: Vec<(usize, &str, &EntityTrack, u64)> = tracks
        .enumerate()
        .map(|(i, (id, t))| (i, id, t, t.total()))
        .filter(|x| x.3 > 0)
        .collect();
    busy.sort_by(|a, b| b.3.cmp(&a.3).then(a.0.cmp(&b.0)));
    busy.into_iter()
        .take(TIMESERIES_BY_TOP_N)
        .map(|(i, id, t, _)| t.series(id, i))
        .collect()
}

/// Moves `h` into `into`, merging when `into` already has counts.
fn absorb(into: &mut SparseHistogram, h: SparseHistogram) {
    if into.is_empty() {
        *into = h;
    } else {
        into.merge(&h);
    }
}

/// One origin's load over the run, in total and per epoch.
#[derive(Default)]
struct OriginLoad {
    fetches: u64,
    bytes: u64,
    errors: u64,
    throttled: u64,
    served: u64,
    served_hits: u64,
    errors_per_epoch: Vec<u64>,
    fetches_per_epoch: Vec<u64>,
    bytes_per_epoch: Vec<u64>,
    /// With limited concurrency: every fetch's wait for a server over the
    /// run (µs), and the mean wait per fetch offered to the queues in each
    /// epoch (ms).
    queue: Option<(LatencyHistogram, Vec<f64>)>,
}

impl RunAccumulator {
    /// An empty accumulator for a run of `scenario`.
    pub fn new(scenario: Arc<Scenario>) -> RunAccumulator {
        RunAccumulator {
            total: Counters::default(),
            latency: new_latency_histogram(),
            epoch_latency: new_latency_histogram(),
            pops: scenario
                .pops
                .iter()
                .map(|_| (Counters::default(), new_latency_histogram()))
                .collect(),
            routes: BTreeMap::new(),
            origins: scenario
                .origins
                .iter()
                .map(|o| OriginLoad {
                    queue: o.concurrency.map(|_| (new_latency_histogram(), Vec::new())),
                    ..OriginLoad::default()
                })
                .collect(),
            queue_scratch: new_latency_histogram(),
            lambda: vec![Vec::new(); scenario.regions.len()],
            function_logs: vec![(Vec::new(), 0); scenario.regions.len()],
            rows: Vec::new(),
            triggers: BTreeMap::new(),
            variants: BTreeMap::new(),
            trigger_epochs: BTreeMap::new(),
            by_country: vec![EntityTrack::default(); scenario.viewers.countries.len()],
            by_pop: vec![EntityTrack::default(); scenario.pops.len()],
            by_variant: BTreeMap::new(),
            by_device: vec![EntityTrack::default(); 4],
            device_totals: (0..4).map(|_| new_latency_histogram()).collect(),
            by_origin: vec![EntityTrack::default(); scenario.origins.len()],
            shape: new_latency_histogram(),
            shield_epochs: vec![Vec::new(); scenario.origins.len()],
            statuses: BTreeMap::new(),
            errors_by_source: [0; AnswerSource::ALL.len()],
            ttfb: Vec::new(),
            connections: edgesim_sim::ConnectionCounts::default(),
            errors_by_cause: Vec::new(),
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
        let mut variant_latency = Vec::new();
        for r in reports {
            for v in &r.variants {
                let h = SparseHistogram::decode(&v.latency_v2).map_err(|e| {
                    AccumulateError::Malformed {
                        epoch,
                        problem: format!("variant {}: {e}", v.name),
                    }
                })?;
                variant_latency.push(h);
            }
            if let Some(a) = r
                .shield
                .iter()
                .find(|a| a.origin >= self.scenario.origins.len())
            {
                return Err(AccumulateError::Malformed {
                    epoch,
                    problem: format!("shield access for unknown origin index {}", a.origin),
                });
            }
            if let Some(t) = r
                .triggers
                .iter()
                .find(|t| t.behavior >= self.scenario.behaviors.len() || t.stage >= 4)
            {
                return Err(AccumulateError::Malformed {
                    epoch,
                    problem: format!(
                        "unknown trigger (behavior {}, stage {})",
                        t.behavior, t.stage
                    ),
                });
            }
        }
        let mut variant_latency = variant_latency.into_iter();
        // Per device class and per origin of the content: checked and
        // decoded first, so that a bad report changes nothing.
        let mut groups = Vec::new();
        for r in reports {
            for (list, is_device, what, count) in [
                (&r.devices, true, "device", self.by_device.len()),
                (&r.content_origins, false, "origin", self.by_origin.len()),
            ] {
                for g in list {
                    let bad = |problem: String| AccumulateError::Malformed { epoch, problem };
                    if g.index >= count {
                        return Err(bad(format!("unknown {what} index {}", g.index)));
                    }
                    let h = SparseHistogram::decode(&g.latency_v2)
                        .map_err(|e| bad(format!("{what} {}: {e}", g.index)))?;
                    groups.push((is_device, g.index, g.requests, h));
                }
            }
        }
        let mut queue_waits = Vec::new();
        for r in reports {
            for g in &r.queue_waits {
                let bad = |problem: String| AccumulateError::Malformed { epoch, problem };
                if self.origins.get(g.index).is_none_or(|o| o.queue.is_none()) {
                    return Err(bad(format!(
                        "queue waits for origin index {} (unknown or without concurrency)",
                        g.index
                    )));
                }
                let h = SparseHistogram::decode(&g.latency_v2)
                    .map_err(|e| bad(format!("queue waits of origin {}: {e}", g.index)))?;
                queue_waits.push((g.index, h));
            }
        }
        let mut device_epoch = vec![(0u64, SparseHistogram::default()); self.by_device.len()];
        let mut origin_epoch = vec![(0u64, SparseHistogram::default()); self.by_origin.len()];
        for (is_device, index, requests, h) in groups {
            let slot = if is_device {
                h.add_to(&mut self.device_totals[index]);
                &mut device_epoch[index]
            } else {
                &mut origin_epoch[index]
            };
            slot.0 += requests;
            absorb(&mut slot.1, h);
        }
        for (track, (requests, h)) in self.by_device.iter_mut().zip(&device_epoch) {
            track.push(*requests, h, &self.shape);
        }
        for (track, (requests, h)) in self.by_origin.iter_mut().zip(&origin_epoch) {
            track.push(*requests, h, &self.shape);
        }
        let epoch_index = self.rows.len();
        for series in self.trigger_epochs.values_mut() {
            series.0.push(0);
            series.1.push(0);
        }
        // This epoch's requests and latency per variant.
        let mut variant_epoch: BTreeMap<&str, (u64, SparseHistogram)> = BTreeMap::new();
        for r in reports {
            for t in &r.triggers {
                self.triggers
                    .entry((t.behavior, t.stage))
                    .or_insert(TriggerEpoch {
                        behavior: t.behavior,
                        stage: t.stage,
                        ..TriggerEpoch::default()
                    })
                    .add(t);
                let series = self
                    .trigger_epochs
                    .entry((t.behavior, t.stage))
                    .or_insert_with(|| (vec![0; epoch_index + 1], vec![0; epoch_index + 1]));
                series.0[epoch_index] += t.invocations;
                series.1[epoch_index] +=
                    t.invalid + t.errors + t.timeouts + t.out_of_memory + t.throttled;
            }
            for v in &r.variants {
                let h = variant_latency.next().expect("decoded above");
                let e = self
                    .variants
                    .entry(v.name.clone())
                    .or_insert_with(|| (0, 0, 0, new_latency_histogram()));
                e.0 += v.requests;
                e.1 += v.edge_hits;
                e.2 += v.origin_fetches;
                h.add_to(&mut e.3);
                let ve = variant_epoch.entry(v.name.as_str()).or_default();
                ve.0 += v.requests;
                absorb(&mut ve.1, h);
            }
        }
        for (name, (requests, h)) in &variant_epoch {
            if !self.by_variant.contains_key(*name) {
                self.by_variant
                    .insert((*name).to_owned(), EntityTrack::idle(epoch_index));
            }
            let track = self.by_variant.get_mut(*name).expect("inserted above");
            track.push(*requests, h, &self.shape);
        }
        let empty = SparseHistogram::default();
        for (name, track) in &mut self.by_variant {
            if !variant_epoch.contains_key(name.as_str()) {
                track.push(0, &empty, &self.shape);
            }
        }
        let mut pop_epoch = vec![(0u64, SparseHistogram::default()); self.by_pop.len()];
        let mut country_epoch = vec![(0u64, SparseHistogram::default()); self.by_country.len()];
        for o in &mut self.origins {
            o.fetches_per_epoch.push(0);
            o.bytes_per_epoch.push(0);
            o.errors_per_epoch.push(0);
        }
        let mut epoch_counters = Counters::default();
        self.epoch_latency.reset();
        for (report, (pop_hists, route_hists)) in reports.iter().zip(decoded) {
            for (p, h) in report.pops.iter().zip(pop_hists) {
                let (c, ph) = &mut self.pops[p.pop];
                c.add(&p.counters);
                epoch_counters.add(&p.counters);
                h.add_to(ph);
                h.add_to(&mut self.epoch_latency);
                let pe = &mut pop_epoch[p.pop];
                pe.0 += p.counters.requests;
                absorb(&mut pe.1, h);
            }
            for (r, h) in report.routes.iter().zip(route_hists) {
                let entry = self
                    .routes
                    .entry((r.country, r.pop))
                    .or_insert_with(|| (0, new_latency_histogram()));
                entry.0 += r.requests;
                h.add_to(&mut entry.1);
                let ce = &mut country_epoch[r.country];
                ce.0 += r.requests;
                absorb(&mut ce.1, h);
            }
            for o in &report.origins {
                let load = &mut self.origins[o.origin];
                load.fetches += o.fetches;
                load.bytes += o.bytes;
                load.errors += o.errors;
                load.throttled += o.throttled;
                load.served += o.served;
                load.served_hits += o.served_hits;
                *load.errors_per_epoch.last_mut().expect("pushed above") += o.errors;
                *load.fetches_per_epoch.last_mut().expect("pushed above") += o.fetches;
                *load.bytes_per_epoch.last_mut().expect("pushed above") += o.bytes;
            }
        }
        for (i, load) in self.origins.iter_mut().enumerate() {
            let Some((run, per_epoch)) = &mut load.queue else {
                continue;
            };
            self.queue_scratch.reset();
            for (_, h) in queue_waits.iter().filter(|(o, _)| *o == i) {
                h.add_to(&mut self.queue_scratch);
                h.add_to(run);
            }
            per_epoch.push(if self.queue_scratch.is_empty() {
                0.0
            } else {
                (self.queue_scratch.mean()).round() / 1000.0
            });
        }
        for (track, (requests, h)) in self.by_pop.iter_mut().zip(&pop_epoch) {
            track.push(*requests, h, &self.shape);
        }
        for (track, (requests, h)) in self.by_country.iter_mut().zip(&country_epoch) {
            track.push(*requests, h, &self.shape);
        }
        for per_epoch in &mut self.lambda {
            per_epoch.push(LambdaEpoch::default());
        }
        for r in reports {
            *self.lambda[r.region].last_mut().expect("pushed above") = r.lambda;
            let (kept, dropped) = &mut self.function_logs[r.region];
            kept.extend(r.function_logs.iter().cloned());
            *dropped += r.function_logs_dropped;
        }
        let mut shield_epoch = ShieldCounters::default();
        for per_epoch in &mut self.shield_epochs {
            per_epoch.push(ShieldCounters::default());
        }
        for r in reports {
            for a in &r.shield {
                self.shield_epochs[a.origin]
                    .last_mut()
                    .expect("pushed above")
                    .count(a);
                shield_epoch.count(a);
            }
        }
        let mut ttfb = (0, edgesim_sim::TtfbParts::default());
        for r in reports {
            ttfb.0 += r.pops.iter().map(|p| p.counters.requests).sum::<u64>();
            ttfb.1.add(&r.ttfb);
            self.connections.add(&r.connections);
        }
        self.ttfb.push(ttfb);
        let mut causes = [0u64; ErrorCause::ALL.len()];
        for r in reports {
            for &(status, n) in &r.outcomes.statuses {
                *self.statuses.entry(status).or_default() += n;
            }
            for (i, &n) in r.outcomes.errors_by_source.iter().enumerate() {
                let source = AnswerSource::ALL[i];
                self.errors_by_source[i] += n;
                let cause = ErrorCause::ALL
                    .iter()
                    .position(|&c| c == source.cause())
                    .expect("every cause is listed");
                causes[cause] += n;
            }
        }
        self.errors_by_cause.push(causes);
        self.total.add(&epoch_counters);
        add_histogram(&mut self.latency, &self.epoch_latency);
        let span = self.scenario.simulation.epoch_span(epoch);
        let l = LatencyMs::of(&self.epoch_latency);
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
            regional_requests: epoch_counters.regional_requests,
            regional_collapsed: epoch_counters.regional_collapsed,
            shield_requests: shield_epoch.requests,
            shield_hits: shield_epoch.hits,
            shield_collapsed: shield_epoch.collapsed,
            function_answers: epoch_counters.function_answers,
            unresolved: epoch_counters.unresolved,
            status_2xx: epoch_counters.status_2xx,
            status_3xx: epoch_counters.status_3xx,
            status_4xx: epoch_counters.status_4xx,
            status_5xx: epoch_counters.status_5xx,
            error_rate: share(
                epoch_counters.status_4xx + epoch_counters.status_5xx,
                epoch_counters.requests,
            ),
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
    ) -> Result<Vec<(Vec<SparseHistogram>, Vec<SparseHistogram>)>, AccumulateError> {
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
                    SparseHistogram::decode(&p.latency_v2)
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
                    SparseHistogram::decode(&x.latency_v2)
                        .map_err(|e| malformed(format!("route: {e}")))?,
                );
            }
            if let Some(o) = r.origins.iter().find(|o| o.origin >= s.origins.len()) {
                return Err(malformed(format!("unknown origin index {}", o.origin)));
            }
            if r.outcomes.errors_by_source.len() > AnswerSource::ALL.len() {
                return Err(malformed(format!(
                    "region {} reported errors for {} answer sources, there are {}",
                    region.id,
                    r.outcomes.errors_by_source.len(),
                    AnswerSource::ALL.len()
                )));
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

    /// What viewers got so far (statuses, errors by cause).
    fn viewer_outcomes(&self) -> ViewerOutcomes {
        let t = &self.total;
        let errors = t.status_4xx + t.status_5xx;
        let named = |pairs: &mut dyn Iterator<Item = (&'static str, u64)>| {
            pairs
                .map(|(n, v)| (n.to_owned(), v))
                .collect::<BTreeMap<String, u64>>()
        };
        ViewerOutcomes {
            answers: t.requests,
            errors,
            error_rate: share(errors, t.requests),
            server_error_rate: share(t.status_5xx, t.requests),
            status_classes: named(
                &mut [
                    ("2xx", t.status_2xx),
                    ("3xx", t.status_3xx),
                    ("4xx", t.status_4xx),
                    ("5xx", t.status_5xx),
                ]
                .into_iter(),
            ),
            statuses: self
                .statuses
                .iter()
                .map(|(s, n)| (s.to_string(), *n))
                .collect(),
            errors_by_cause: named(&mut ErrorCause::ALL.iter().enumerate().map(|(i, c)| {
                (
                    c.name(),
                    self.errors_by_cause.iter().map(|e| e[i]).sum::<u64>(),
                )
            })),
            errors_by_source: named(
                &mut AnswerSource::ALL
                    .iter()
                    .zip(self.errors_by_source)
                    .filter(|(_, n)| *n > 0)
                    .map(|(s, n)| (s.name(), n)),
            ),
            errors_by_cause_per_epoch: ErrorCause::ALL
                .iter()
                .enumerate()
                .filter(|(i, _)| self.errors_by_cause.iter().any(|e| e[*i] > 0))
                .map(|(i, c)| {
                    (
                        c.name().to_owned(),
                        self.errors_by_cause.iter().map(|e| e[i]).collect(),
                    )
                })
                .collect(),
        }
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
        let (countries, country_histograms) = self.countries();
        let mut summary = Summary {
            schema_version: SCHEMA_VERSION,
            scenario: s.name.clone(),
            description: s.description.clone(),
            seed: s.simulation.seed,
            duration_secs: s.simulation.duration_us as f64 / 1e6,
            simulated_secs: simulated_us as f64 / 1e6,
            epoch_secs: s.simulation.epoch_us as f64 / 1e6,
            epochs,
            complete: epochs == s.simulation.epochs(),
            viewer_outcomes: self.viewer_outcomes(),
            latency_breakdown: crate::summary::LatencyBreakdown::of(&self.ttfb),
            connections: crate::summary::ConnectionsSummary::of(&self.connections),
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
                    lat: p.location.lat,
                    lon: p.location.lon,
                    requests: c.requests,
                    edge_hits: c.edge_hits,
                    edge_collapsed: c.edge_collapsed,
                    regional_requests: c.regional_requests,
                    regional_hits: c.regional_hits,
                    regional_collapsed: c.regional_collapsed,
                    origin_fetches: c.origin_fetches,
                    shield_answers: c.shield_answers,
                    viewer_bytes: c.viewer_bytes,
                    origin_bytes: c.origin_bytes,
                    hit_ratio: c.hit_ratio(),
                    latency_ms: LatencyMs::of(h),
                })
                .collect(),
            regions: s
                .regions
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let mut c = Counters::default();
                    for &p in &r.pops {
                        c.add(&self.pops[p].0);
                    }
                    RegionSummary {
                        lambda: RegionLambda::of(&self.lambda[i]),
                        function_log_lines: self.function_logs[i].0.len() as u64,
                        function_log_lines_dropped: self.function_logs[i].1,
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
            shields: s
                .origins
                .iter()
                .zip(&self.shield_epochs)
                .filter_map(|(o, per_epoch)| {
                    let mut total = ShieldCounters::default();
                    for c in per_epoch {
                        total.add(c);
                    }
                    ShieldSummary::of(o, &total, per_epoch)
                })
                .collect(),
            countries,
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
                .map(|(o, load)| OriginSummary {
                    id: o.id.clone(),
                    kind: match o.kind {
                        OriginKind::S3 => "s3",
                        OriginKind::Custom => "custom",
                    }
                    .into(),
                    location: o.location_name.clone(),
                    fetches: load.fetches,
                    bytes: load.bytes,
                    fetches_per_epoch: load.fetches_per_epoch.clone(),
                    bytes_per_epoch: load.bytes_per_epoch.clone(),
                    errors: load.errors,
                    throttled: load.throttled,
                    errors_per_epoch: load.errors_per_epoch.clone(),
                    served: load.served,
                    served_hits: load.served_hits,
                    utilisation_per_epoch: Vec::new(),
                    slow_down_limit_per_epoch: Vec::new(),
                    queue_wait_ms: load.queue.as_ref().map(|(h, _)| LatencyMs::of(h)),
                    queue_wait_ms_per_epoch: load
                        .queue
                        .as_ref()
                        .map_or_else(Vec::new, |(_, e)| e.clone()),
                })
                .collect(),
            lambda_quotas: s
                .behaviors
                .iter()
                .any(|b| b.triggers.iter().any(Option::is_some))
                .then_some(LambdaQuotasSummary {
                    concurrency_limit: s.lambda.concurrency_limit,
                    rate_limit_rps: s.lambda.rate_limit_rps,
                }),
            triggers: self
                .triggers
                .values()
                .map(|t| TriggerSummary {
                    behavior: s.behaviors[t.behavior].path_pattern.clone(),
                    stage: [
                        "viewer-request",
                        "origin-request",
                        "origin-response",
                        "viewer-response",
                    ][t.stage]
                        .into(),
                    invocations: t.invocations,
                    responded: t.responded,
                    invalid: t.invalid,
                    errors: t.errors,
                    timeouts: t.timeouts,
                    out_of_memory: t.out_of_memory,
                    throttled: t.throttled,
                    cold_starts: t.cold_starts,
                    log_lines: t.log_lines,
                    log_truncated: t.log_truncated,
                    mean_duration_ms: if t.invocations == 0 {
                        0.0
                    } else {
                        (t.duration_us as f64 / t.invocations as f64).round() / 1000.0
                    },
                    mean_trip_ms: if t.invocations == 0 {
                        0.0
                    } else {
                        (t.trip_us as f64 / t.invocations as f64).round() / 1000.0
                    },
                    kvs_reads: t.kvs_reads,
                    invocations_per_epoch: self
                        .trigger_epochs
                        .get(&(t.behavior, t.stage))
                        .map_or_else(Vec::new, |e| e.0.clone()),
                    failures_per_epoch: self
                        .trigger_epochs
                        .get(&(t.behavior, t.stage))
                        .map_or_else(Vec::new, |e| e.1.clone()),
                })
                .collect(),
            variants: self
                .variants
                .iter()
                .map(|(name, (requests, hits, fetches, h))| VariantSummary {
                    name: name.clone(),
                    requests: *requests,
                    edge_hits: *hits,
                    origin_fetches: *fetches,
                    hit_ratio: ratio(*hits, *requests),
                    offload_requests: 1.0 - ratio(*fetches, *requests),
                    latency_ms: LatencyMs::of(h),
                })
                .collect(),
            timeseries: self.rows.clone(),
            timeseries_by: self.timeseries_by(),
            migration: None,
            incidents: Vec::new(),
            cost: None,
            histograms: RunHistograms {
                total: self.latency.clone(),
                pops: self.pops.iter().map(|(_, h)| h.clone()).collect(),
                countries: country_histograms,
                devices: edgesim_model::Device::ALL
                    .iter()
                    .zip(&self.device_totals)
                    .filter(|(_, h)| !h.is_empty())
                    .map(|(d, h)| (d.name().to_owned(), h.clone()))
                    .collect(),
            },
            function_logs: s
                .regions
                .iter()
                .zip(&self.function_logs)
                .filter(|(_, (kept, _))| !kept.is_empty())
                .map(|(r, (kept, _))| (r.id.clone(), kept.clone()))
                .collect(),
        };
        let mut shield = ShieldCounters::default();
        for c in self.shield_epochs.iter().flatten() {
            shield.add(c);
        }
        let t = &mut summary.totals;
        t.shield_requests = shield.requests;
        t.shield_hits = shield.hits;
        t.shield_collapsed = shield.collapsed;
        t.shield_hit_ratio = shield.hit_ratio();
        t.shield_bytes = shield.bytes_served;
        summary.cost = crate::cost::run_cost(&summary, s);
        summary
    }

    /// Latency per epoch of the busiest countries and PoPs and of the
    /// variants (their indices follow the summary's lists).
    fn timeseries_by(&self) -> TimeseriesBy {
        let s = &self.scenario;
        TimeseriesBy {
            countries: busiest(
                s.viewers
                    .countries
                    .iter()
                    .map(|c| c.code.as_str())
                    .zip(&self.by_country),
            ),
            pops: busiest(s.pops.iter().map(|p| p.id.as_str()).zip(&self.by_pop)),
            variants: busiest(self.by_variant.iter().map(|(name, t)| (name.as_str(), t))),
            devices: busiest(
                edgesim_model::Device::ALL
                    .iter()
                    .map(|d| d.name())
                    .zip(&self.by_device),
            ),
            origins: busiest(s.origins.iter().map(|o| o.id.as_str()).zip(&self.by_origin)),
        }
    }

    /// Per-country summaries and histograms, each the sum of the
    /// country's routes.
    fn countries(&self) -> (Vec<CountrySummary>, Vec<LatencyHistogram>) {
        let s = &self.scenario;
        let mut histograms: Vec<LatencyHistogram> = s
            .viewers
            .countries
            .iter()
            .map(|_| new_latency_histogram())
            .collect();
        let mut requests = vec![0u64; s.viewers.countries.len()];
        let mut pops: Vec<Vec<usize>> = vec![Vec::new(); s.viewers.countries.len()];
        for (&(country, pop), (n, h)) in &self.routes {
            requests[country] += n;
            pops[country].push(pop);
            add_histogram(&mut histograms[country], h);
        }
        let summaries = s
            .viewers
            .countries
            .iter()
            .enumerate()
            .map(|(i, c)| {
                // Routes are keyed (country, pop): PoPs come out in order.
                CountrySummary {
                    code: c.code.clone(),
                    lat: c.location.lat,
                    lon: c.location.lon,
                    weight: c.weight,
                    requests: requests[i],
                    pops: pops[i].iter().map(|&p| s.pops[p].id.clone()).collect(),
                    latency_ms: LatencyMs::of(&histograms[i]),
                }
            })
            .collect();
        (summaries, histograms)
    }
}

/// part / whole, 0 when whole is 0.
fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// Adds `from` into `into`; both have edgesim's bounds, so this cannot fail.
fn add_histogram(into: &mut LatencyHistogram, from: &LatencyHistogram) {
    into.add(from).expect("latency histograms share bounds");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{self, epoch_reports, region_report};
    use edgesim_sim::metrics::decode_histogram;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn viewer_outcomes_add_up_over_regions_and_epochs() {
        let s = testkit::summary(6);
        let o = &s.viewer_outcomes;
        let t = &s.totals;
        assert_eq!(o.answers, t.requests);
        assert_eq!(o.errors, t.status_5xx);
        assert!(o.errors > 0);
        assert!(close(o.error_rate, o.errors as f64 / t.requests as f64));
        assert_eq!(o.statuses["200"] + o.statuses["503"], t.requests);
        assert_eq!(o.errors_by_cause["throttle"], o.errors);
        assert_eq!(o.errors_by_cause["origin_error"], 0);
        assert_eq!(o.errors_by_cause.len(), ErrorCause::ALL.len());
        assert_eq!(o.errors_by_source["origin_slow_down"], o.errors);
        let per_epoch = &o.errors_by_cause_per_epoch["throttle"];
        assert_eq!(per_epoch.len(), s.timeseries.len());
        for (row, n) in s.timeseries.iter().zip(per_epoch) {
            assert_eq!(row.status_5xx, *n);
            assert!(close(row.error_rate, *n as f64 / row.requests as f64));
        }
        assert_eq!(o.top_causes(), vec![("throttle", o.errors)]);
    }

    #[test]
    fn a_report_with_unknown_answer_sources_is_rejected() {
        let sc = testkit::scenario();
        let mut acc = RunAccumulator::new(Arc::clone(&sc));
        let mut reports = epoch_reports(&sc, 0);
        reports[0].outcomes.errors_by_source = vec![1; AnswerSource::ALL.len() + 1];
        assert!(matches!(
            acc.add_epoch(0, &reports),
            Err(AccumulateError::Malformed { .. })
        ));
        assert_eq!(acc.epochs_done(), 0);
    }

    #[test]
    fn summary_is_consistent() {
        let s = testkit::summary(6);
        let t = &s.totals;
        assert!(s.complete);
        assert_eq!(s.epochs, 6);
        assert_eq!(s.description, "Four PoPs, three countries, two origins.");
        assert_eq!(s.duration_secs, 6.0);
        let outcomes = |requests, eh, ec, rh, rc, of| {
            assert_eq!(requests, eh + ec + rh + rc + of, "requests = outcomes");
        };
        outcomes(
            t.requests,
            t.edge_hits,
            t.edge_collapsed,
            t.regional_hits,
            t.regional_collapsed,
            t.origin_fetches,
        );
        for p in &s.pops {
            outcomes(
                p.requests,
                p.edge_hits,
                p.edge_collapsed,
                p.regional_hits,
                p.regional_collapsed,
                p.origin_fetches,
            );
            assert!(p.latency_ms.p50 <= p.latency_ms.p99);
            let tiers = p.tiers();
            assert!(close(tiers.edge + tiers.regional + tiers.origin, 1.0));
        }
        for r in &s.timeseries {
            outcomes(
                r.requests,
                r.edge_hits,
                r.edge_collapsed,
                r.regional_hits,
                r.regional_collapsed,
                r.origin_fetches,
            );
            assert!(r.p50_ms <= r.p90_ms && r.p90_ms <= r.p99_ms && r.p99_ms <= r.p999_ms);
            assert!((0.0..=1.0).contains(&r.offload_requests));
            assert!((0.0..=1.0).contains(&r.offload_bytes));
        }
        for x in [
            t.offload_requests,
            t.offload_bytes,
            t.hit_ratio,
            t.regional_hit_ratio,
        ] {
            assert!((0.0..=1.0).contains(&x), "{x}");
        }
        assert!(t.regional_requests > 0, "the fixture has a regional cache");
        let l = &s.latency_ms;
        assert!(l.min <= l.p50 && l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.max);
        let tiers = s.tiers();
        assert!(close(tiers.edge + tiers.regional + tiers.origin, 1.0));

        // Every breakdown adds up to the totals.
        let sum = |v: &mut dyn Iterator<Item = u64>| v.sum::<u64>();
        assert_eq!(sum(&mut s.pops.iter().map(|p| p.requests)), t.requests);
        assert_eq!(
            sum(&mut s.timeseries.iter().map(|r| r.requests)),
            t.requests
        );
        assert_eq!(sum(&mut s.countries.iter().map(|c| c.requests)), t.requests);
        assert_eq!(sum(&mut s.routes.iter().map(|r| r.requests)), t.requests);
        assert_eq!(
            sum(&mut s.timeseries.iter().map(|r| r.regional_collapsed)),
            t.regional_collapsed
        );
        assert_eq!(
            sum(&mut s.origins.iter().map(|o| o.fetches)),
            t.origin_fetches
        );
        assert_eq!(sum(&mut s.origins.iter().map(|o| o.bytes)), t.origin_bytes);
        for o in &s.origins {
            assert_eq!(o.fetches_per_epoch.len(), 6);
            assert_eq!(o.bytes_per_epoch.len(), 6);
            assert_eq!(o.fetches_per_epoch.iter().sum::<u64>(), o.fetches);
            assert_eq!(o.bytes_per_epoch.iter().sum::<u64>(), o.bytes);
        }
        assert_eq!(
            (s.origins[0].kind.as_str(), s.origins[1].kind.as_str()),
            ("s3", "custom")
        );

        // Countries merge their routes' histograms.
        let de = s.countries.iter().position(|c| c.code == "DE").unwrap();
        assert_eq!(s.countries[de].pops, ["fra", "ams"]);
        assert_eq!(s.histograms.countries[de].len(), s.countries[de].requests);
        for (c, h) in s.countries.iter().zip(&s.histograms.countries) {
            assert_eq!(c.latency_ms, LatencyMs::of(h));
            assert!(c.latency_ms.p50 <= c.latency_ms.p99);
        }
        assert_eq!(s.histograms.total.len(), t.requests);
        assert_eq!(s.histograms.pops.len(), s.pops.len());
        assert!(s.histograms.devices.is_empty());
        // PoPs carry their coordinates.
        let fra = &s.pops[0];
        assert!(
            (fra.lat - 50.0).abs() < 1.0 && (fra.lon - 8.6).abs() < 1.0,
            "{fra:?}"
        );
    }

    #[test]
    fn per_epoch_breakdowns_match_each_epochs_histograms() {
        let scenario = testkit::scenario();
        let s = testkit::summary(3);
        let by = &s.timeseries_by;
        // Four PoPs, three countries (the busiest first), no variants.
        assert_eq!(by.pops.len(), 4);
        assert_eq!(by.countries.len(), 3);
        assert!(by.variants.is_empty());
        assert_eq!(by.pops[0].id, "gru", "the busiest PoP first");
        for e in 0..3u64 {
            let reports = epoch_reports(&scenario, e);
            for series in &by.pops {
                let pop = reports
                    .iter()
                    .flat_map(|r| &r.pops)
                    .find(|p| p.pop == series.index)
                    .unwrap();
                let l = LatencyMs::of(&decode_histogram(&pop.latency_v2).unwrap());
                let at = e as usize;
                assert_eq!(series.requests_per_epoch[at], pop.counters.requests);
                assert_eq!(
                    [
                        series.p50_ms[at],
                        series.p90_ms[at],
                        series.p99_ms[at],
                        series.p999_ms[at]
                    ],
                    [Some(l.p50), Some(l.p90), Some(l.p99), Some(l.p999)],
                    "{} epoch {e}",
                    series.id
                );
            }
        }
        // DE merges its two routes (fra and ams).
        let de = by.countries.iter().find(|c| c.id == "DE").unwrap();
        assert_eq!(de.requests, s.countries[de.index].requests);
        assert_eq!(
            de.requests_per_epoch.iter().sum::<u64>(),
            s.countries[de.index].requests
        );
    }

    #[test]
    fn the_order_of_region_reports_does_not_matter() {
        let scenario = testkit::scenario();
        let mut forward = RunAccumulator::new(Arc::clone(&scenario));
        let mut backward = RunAccumulator::new(Arc::clone(&scenario));
        for e in 0..4 {
            let mut reports = epoch_reports(&scenario, e);
            forward.add_epoch(e, &reports).unwrap();
            reports.reverse();
            backward.add_epoch(e, &reports).unwrap();
        }
        let (a, b) = (forward.summary(), backward.summary());
        assert_eq!(a, b);
        assert_eq!(
            crate::write::summary_json(&a),
            crate::write::summary_json(&b)
        );
        assert_eq!(a.histograms.to_json(&a), b.histograms.to_json(&b));
    }

    #[test]
    fn a_rejected_epoch_changes_nothing() {
        let scenario = testkit::scenario();
        let mut acc = RunAccumulator::new(Arc::clone(&scenario));
        acc.add_epoch(0, &epoch_reports(&scenario, 0)).unwrap();
        let before = acc.summary();
        let mut bad = epoch_reports(&scenario, 1);
        bad[1].routes[0].latency_v2 = b"garbage".to_vec();
        assert!(matches!(
            acc.add_epoch(1, &bad),
            Err(AccumulateError::Malformed { epoch: 1, .. })
        ));
        let mut twice = epoch_reports(&scenario, 1);
        twice.push(region_report(&scenario, 0, 1, 7));
        assert!(matches!(
            acc.add_epoch(1, &twice),
            Err(AccumulateError::Region { .. })
        ));
        assert_eq!(acc.summary(), before);
        acc.add_epoch(1, &epoch_reports(&scenario, 1)).unwrap();
        assert_eq!(acc.summary().origins[0].fetches_per_epoch.len(), 2);
    }
}
