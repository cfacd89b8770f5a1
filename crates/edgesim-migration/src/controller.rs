//! The per-epoch migration controller.

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::config::{GateMetric, Migration, Rollback};

/// A gate that has been inconclusive this many consecutive times is treated
/// as passing, so a gate that cannot judge (too little traffic) does not
/// block the schedule forever.
pub const INCONCLUSIVE_AS_PASS_AFTER: u32 = 3;

/// Weights below this are treated as 0 during a gradual rollback.
const WEIGHT_EPS: f64 = 1e-9;

/// Where the migration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Before `start_us`: weight 0.
    Pending,
    /// The schedule clock advances.
    Advancing,
    /// A gate failed or was inconclusive: the schedule clock is stopped.
    Holding,
    /// The planned weight reached 1 (or staging was promoted).
    Complete,
    /// Aborted; the weight is being decreased.
    RollingBack,
    /// Aborted; the weight is back at 0.
    RolledBack,
}

impl Phase {
    /// The snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Pending => "pending",
            Phase::Advancing => "advancing",
            Phase::Holding => "holding",
            Phase::Complete => "complete",
            Phase::RollingBack => "rolling_back",
            Phase::RolledBack => "rolled_back",
        }
    }
}

/// The controls for one epoch.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Plan {
    /// Share of traffic to send to the new origin, in `0..=1`.
    pub weight: f64,
    /// Continuous deployment: staging has been promoted to primary.
    pub promoted: bool,
    /// The phase during this epoch.
    pub phase: Phase,
}

/// What happened during one epoch (all counters per epoch).
///
/// Derives `Default` so the caller can fill it field by field from its
/// per-epoch counters.
#[derive(Debug, Clone, Default)]
pub struct Observation {
    /// Viewer requests.
    pub requests: u64,
    /// Viewer responses with a 5xx status.
    pub status_5xx: u64,
    /// Viewer requests served from an edge cache.
    pub edge_hits: u64,
    /// Viewer latency histogram in µs (`None` if the caller has none).
    pub latency: Option<Histogram<u64>>,
    /// Fetches to the old origin.
    pub old_fetches: u64,
    /// Fetches to the new origin.
    pub new_fetches: u64,
    /// 5xx responses from the new origin.
    pub new_errors: u64,
    /// 503 responses from the new origin.
    pub new_503: u64,
    /// 5xx responses from the old origin.
    pub old_errors: u64,
    /// Viewer responses whose content came from the new origin.
    pub served_from_new: u64,
    /// Viewer responses whose content came from the old origin.
    pub served_from_old: u64,
    /// Bytes served to viewers whose content came from the new origin.
    pub served_bytes_from_new: u64,
    /// Bytes served to viewers.
    pub served_bytes_total: u64,
    /// Edge hits on content from the new origin.
    pub hits_new_arm: u64,
    /// Edge hits on content from the old origin.
    pub hits_old_arm: u64,
    /// Bytes fetched from origins.
    pub origin_bytes: u64,
    /// Distinct viewers who got a 5xx for the first time this epoch.
    pub viewers_exposed_to_errors: u64,
}

/// The counters of an [`Observation`], without the latency histogram (kept
/// per epoch record).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct EpochCounters {
    /// Viewer requests.
    pub requests: u64,
    /// Viewer responses with a 5xx status.
    pub status_5xx: u64,
    /// Viewer requests served from an edge cache.
    pub edge_hits: u64,
    /// Fetches to the old origin.
    pub old_fetches: u64,
    /// Fetches to the new origin.
    pub new_fetches: u64,
    /// 5xx responses from the new origin.
    pub new_errors: u64,
    /// 503 responses from the new origin.
    pub new_503: u64,
    /// 5xx responses from the old origin.
    pub old_errors: u64,
    /// Viewer responses whose content came from the new origin.
    pub served_from_new: u64,
    /// Viewer responses whose content came from the old origin.
    pub served_from_old: u64,
    /// Bytes served to viewers whose content came from the new origin.
    pub served_bytes_from_new: u64,
    /// Bytes served to viewers.
    pub served_bytes_total: u64,
    /// Edge hits on content from the new origin.
    pub hits_new_arm: u64,
    /// Edge hits on content from the old origin.
    pub hits_old_arm: u64,
    /// Bytes fetched from origins.
    pub origin_bytes: u64,
    /// Distinct viewers who got a 5xx for the first time this epoch.
    pub viewers_exposed_to_errors: u64,
}

impl Observation {
    /// The counters, without the histogram.
    pub fn counters(&self) -> EpochCounters {
        EpochCounters {
            requests: self.requests,
            status_5xx: self.status_5xx,
            edge_hits: self.edge_hits,
            old_fetches: self.old_fetches,
            new_fetches: self.new_fetches,
            new_errors: self.new_errors,
            new_503: self.new_503,
            old_errors: self.old_errors,
            served_from_new: self.served_from_new,
            served_from_old: self.served_from_old,
            served_bytes_from_new: self.served_bytes_from_new,
            served_bytes_total: self.served_bytes_total,
            hits_new_arm: self.hits_new_arm,
            hits_old_arm: self.hits_old_arm,
            origin_bytes: self.origin_bytes,
            viewers_exposed_to_errors: self.viewers_exposed_to_errors,
        }
    }
}

/// `num / den`, 0 when `den` is 0.
pub(crate) fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

/// Result of one gate evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GateOutcome {
    /// The value was `<= max`.
    Pass,
    /// The value was `> max`.
    Fail,
    /// Too few samples (or no latency data) to judge.
    Inconclusive,
}

/// One gate evaluation, recorded in the epoch at whose end it happened.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GateEvaluation {
    /// Index of the gate in `[[migration.gates]]`.
    pub gate: usize,
    /// The gate's metric.
    pub metric: GateMetric,
    /// The outcome.
    pub outcome: GateOutcome,
    /// The measured value (`None` when inconclusive).
    pub value: Option<f64>,
    /// The threshold.
    pub max: f64,
    /// Samples in the interval (requests, or new-origin fetches for
    /// `new_origin_*`).
    pub samples: u64,
    /// Whether this evaluation holds the schedule until the gate's next
    /// evaluation (Fail, or Inconclusive fewer than
    /// [`INCONCLUSIVE_AS_PASS_AFTER`] consecutive times).
    pub holds: bool,
}

/// What the controller decided at the end of an epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Decision {
    /// Before start: nothing to decide.
    Wait,
    /// No gate holds: the schedule clock runs in the next epoch.
    Advance,
    /// Some gate holds: the schedule clock stops in the next epoch.
    Hold,
    /// A gate exhausted its failure budget: abort and roll back.
    Abort {
        /// Index of the gate that aborted.
        gate: usize,
    },
    /// Already aborted: rolling back.
    RollBack,
}

/// Details of an abort.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AbortInfo {
    /// The epoch at whose end the abort was decided.
    pub epoch: u64,
    /// End of that epoch (µs of run time).
    pub at_us: u64,
    /// Index of the gate that aborted.
    pub gate: usize,
    /// Its metric.
    pub metric: GateMetric,
    /// The failing value.
    pub value: f64,
    /// The threshold.
    pub max: f64,
    /// The planned weight of the aborting epoch.
    pub weight: f64,
}

/// One epoch: its plan, its counters and derived shares, gate evaluations
/// and the decision taken at its end.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EpochRecord {
    /// Epoch index.
    pub epoch: u64,
    /// Start (µs of run time, inclusive).
    pub start_us: u64,
    /// End (µs of run time, exclusive).
    pub end_us: u64,
    /// The plan the epoch ran with.
    pub plan: Plan,
    /// The observed counters.
    pub counters: EpochCounters,
    /// `new_fetches / (old_fetches + new_fetches)`, 0 if no fetches.
    pub realised_fetch_share: f64,
    /// `served_from_new / (served_from_new + served_from_old)`, 0 if none.
    pub realised_served_share: f64,
    /// `edge_hits / requests`, 0 if no requests.
    pub hit_ratio: f64,
    /// `hits_new_arm / served_from_new`, 0 if none.
    pub hit_ratio_new_arm: f64,
    /// `hits_old_arm / served_from_old`, 0 if none.
    pub hit_ratio_old_arm: f64,
    /// Gate evaluations at the end of this epoch.
    pub evaluations: Vec<GateEvaluation>,
    /// The decision taken at the end of this epoch.
    pub decision: Decision,
}

/// Summed observations since a gate's previous evaluation.
#[derive(Debug, Clone, Default)]
struct Acc {
    requests: u64,
    status_5xx: u64,
    edge_hits: u64,
    new_fetches: u64,
    new_errors: u64,
    new_503: u64,
    latency: Option<Histogram<u64>>,
}

impl Acc {
    fn add(&mut self, o: &Observation, want_latency: bool) {
        self.requests = self.requests.saturating_add(o.requests);
        self.status_5xx = self.status_5xx.saturating_add(o.status_5xx);
        self.edge_hits = self.edge_hits.saturating_add(o.edge_hits);
        self.new_fetches = self.new_fetches.saturating_add(o.new_fetches);
        self.new_errors = self.new_errors.saturating_add(o.new_errors);
        self.new_503 = self.new_503.saturating_add(o.new_503);
        if let (true, Some(h)) = (want_latency, &o.latency) {
            if self.latency.is_none() {
                self.latency = Histogram::<u64>::new(3).ok();
            }
            if let Some(acc) = &mut self.latency
                && acc.add(h).is_err()
            {
                for v in h.iter_recorded() {
                    let _ = acc.record_n(v.value_iterated_to(), v.count_at_value());
                }
            }
        }
    }
}

#[derive(Debug, Clone, Default)]
struct GateState {
    acc: Acc,
    failures: u32,
    consecutive_inconclusive: u32,
    /// Number of interval boundaries (since start) already evaluated.
    boundaries: u64,
    holding: bool,
}

/// The migration controller: plans each epoch's weight and reacts to gates.
#[derive(Debug, Clone)]
pub struct Controller {
    pub(crate) migration: Migration,
    pub(crate) epoch_us: u64,
    gates: Vec<GateState>,
    held_us: u64,
    holding: bool,
    last_weight: f64,
    pub(crate) abort: Option<AbortInfo>,
    phase: Phase,
    pending: Option<(u64, Plan)>,
    pub(crate) records: Vec<EpochRecord>,
    pub(crate) pre_requests: u64,
    pub(crate) pre_hits: u64,
    pub(crate) dip_baseline: Option<f64>,
}

impl Controller {
    /// A controller for `migration` with epochs of `epoch_us` µs (0 is
    /// treated as 1).
    pub fn new(migration: &Migration, epoch_us: u64) -> Controller {
        Controller {
            migration: migration.clone(),
            epoch_us: epoch_us.max(1),
            gates: vec![GateState::default(); migration.gates.len()],
            held_us: 0,
            holding: false,
            last_weight: 0.0,
            abort: None,
            phase: Phase::Pending,
            pending: None,
            records: Vec::new(),
            pre_requests: 0,
            pre_hits: 0,
            dip_baseline: None,
        }
    }

    /// The controls for epoch `epoch` (called once per epoch, in order,
    /// before the epoch is simulated; epoch k spans
    /// `[k*epoch_us, (k+1)*epoch_us)`).
    ///
    /// The planned weight is the schedule's weight at the schedule clock at
    /// the epoch's *start*: a schedule step takes effect at the first epoch
    /// boundary at or after it. The schedule clock starts at `start_us` and
    /// does not run during epochs planned as [`Phase::Holding`]; while
    /// holding, the weight of the last planned epoch is kept (a step falling
    /// due at the boundary where the hold begins waits for the hold to end).
    /// Once the schedule resumes, its clock continues where it stopped.
    pub fn plan(&mut self, epoch: u64) -> Plan {
        let start = epoch.saturating_mul(self.epoch_us);
        let m = &self.migration;
        let plan = if let Some(a) = &self.abort {
            let weight = self.rollback_weight(a, start);
            Plan {
                weight,
                promoted: false,
                phase: if weight > 0.0 {
                    Phase::RollingBack
                } else {
                    Phase::RolledBack
                },
            }
        } else if m.promote_at_us.is_some_and(|p| start >= p) {
            Plan {
                weight: 1.0,
                promoted: true,
                phase: Phase::Complete,
            }
        } else if start < m.start_us {
            Plan {
                weight: 0.0,
                promoted: false,
                phase: Phase::Pending,
            }
        } else {
            let clock = (start - m.start_us).saturating_sub(self.held_us);
            let scheduled = m.schedule.weight_at(clock);
            // While holding, keep the weight of the last planned epoch: a
            // step due at the boundary where the hold begins is not taken.
            let weight = if self.holding {
                scheduled.min(self.last_weight)
            } else {
                scheduled
            };
            let phase = if weight >= 1.0 {
                Phase::Complete
            } else if self.holding {
                Phase::Holding
            } else {
                Phase::Advancing
            };
            Plan {
                weight,
                promoted: false,
                phase,
            }
        };
        if self.abort.is_none() {
            self.last_weight = plan.weight;
        }
        self.phase = plan.phase;
        self.pending = Some((epoch, plan));
        plan
    }

    fn rollback_weight(&self, a: &AbortInfo, start: u64) -> f64 {
        match self.migration.rollback {
            Rollback::Instant => 0.0,
            Rollback::Gradual {
                step_weight,
                every_us,
            } => {
                let steps = start.saturating_sub(a.at_us) / every_us.max(1) + 1;
                let w = a.weight - step_weight * steps as f64;
                if w <= WEIGHT_EPS { 0.0 } else { w }
            }
        }
    }

    /// What happened in epoch `epoch` (called once per epoch, after it is
    /// simulated, in order). Evaluates the gates that are due and decides.
    pub fn observe(&mut self, epoch: u64, obs: &Observation) {
        let plan = match self.pending.take() {
            Some((e, p)) if e == epoch => p,
            _ => {
                let p = self.plan(epoch);
                self.pending = None;
                p
            }
        };
        let start_us = epoch.saturating_mul(self.epoch_us);
        let end_us = start_us.saturating_add(self.epoch_us);
        let mut evaluations = Vec::new();
        let decision = if plan.phase == Phase::Pending {
            self.pre_requests = self.pre_requests.saturating_add(obs.requests);
            self.pre_hits = self.pre_hits.saturating_add(obs.edge_hits);
            Decision::Wait
        } else if self.abort.is_some() {
            Decision::RollBack
        } else {
            if plan.phase == Phase::Holding {
                self.held_us = self.held_us.saturating_add(self.epoch_us);
            }
            let since = end_us.saturating_sub(self.migration.start_us);
            for i in 0..self.gates.len() {
                let (metric, interval_us) = {
                    let g = &self.migration.gates[i];
                    (g.metric, g.interval_us.max(1))
                };
                self.gates[i].acc.add(obs, metric == GateMetric::P99Ms);
                let b = since / interval_us;
                if b > self.gates[i].boundaries {
                    self.gates[i].boundaries = b;
                    evaluations.push(self.evaluate(i));
                }
            }
            let aborting = self
                .migration
                .gates
                .iter()
                .zip(&self.gates)
                .position(|(g, s)| s.failures > g.budget);
            if let Some(i) = aborting {
                let g = &self.migration.gates[i];
                let value = evaluations
                    .iter()
                    .rev()
                    .find(|e: &&GateEvaluation| e.gate == i)
                    .and_then(|e| e.value)
                    .unwrap_or(f64::NAN);
                self.abort = Some(AbortInfo {
                    epoch,
                    at_us: end_us,
                    gate: i,
                    metric: g.metric,
                    value,
                    max: g.max,
                    weight: plan.weight,
                });
                self.phase = Phase::RollingBack;
                Decision::Abort { gate: i }
            } else {
                self.holding = self.gates.iter().any(|g| g.holding);
                if self.holding {
                    Decision::Hold
                } else {
                    Decision::Advance
                }
            }
        };
        let c = obs.counters();
        self.records.push(EpochRecord {
            epoch,
            start_us,
            end_us,
            plan,
            counters: c,
            realised_fetch_share: ratio(c.new_fetches, c.new_fetches.saturating_add(c.old_fetches)),
            realised_served_share: ratio(
                c.served_from_new,
                c.served_from_new.saturating_add(c.served_from_old),
            ),
            hit_ratio: ratio(c.edge_hits, c.requests),
            hit_ratio_new_arm: ratio(c.hits_new_arm, c.served_from_new),
            hit_ratio_old_arm: ratio(c.hits_old_arm, c.served_from_old),
            evaluations,
            decision,
        });
    }

    /// Evaluates gate `i` over its accumulated observations and resets them.
    fn evaluate(&mut self, i: usize) -> GateEvaluation {
        let gate = self.migration.gates[i].clone();
        let acc = std::mem::take(&mut self.gates[i].acc);
        let samples = match gate.metric {
            GateMetric::ErrorRate | GateMetric::P99Ms | GateMetric::HitRatioDip => acc.requests,
            GateMetric::NewOriginErrorRate | GateMetric::NewOrigin503Rate => acc.new_fetches,
        };
        let value = if samples == 0 || samples < gate.min_samples {
            None
        } else {
            match gate.metric {
                GateMetric::ErrorRate => Some(ratio(acc.status_5xx, acc.requests)),
                GateMetric::P99Ms => acc
                    .latency
                    .as_ref()
                    .filter(|h| !h.is_empty())
                    .map(|h| h.value_at_quantile(0.99) as f64 / 1000.0),
                GateMetric::NewOriginErrorRate => Some(ratio(acc.new_errors, acc.new_fetches)),
                GateMetric::NewOrigin503Rate => Some(ratio(acc.new_503, acc.new_fetches)),
                GateMetric::HitRatioDip => {
                    let hr = ratio(acc.edge_hits, acc.requests);
                    let baseline = if self.pre_requests > 0 {
                        ratio(self.pre_hits, self.pre_requests)
                    } else {
                        *self.dip_baseline.get_or_insert(hr)
                    };
                    Some(baseline - hr)
                }
            }
        };
        let st = &mut self.gates[i];
        let (outcome, holds) = match value {
            None => {
                st.consecutive_inconclusive = st.consecutive_inconclusive.saturating_add(1);
                (
                    GateOutcome::Inconclusive,
                    st.consecutive_inconclusive < INCONCLUSIVE_AS_PASS_AFTER,
                )
            }
            Some(v) => {
                st.consecutive_inconclusive = 0;
                if v > gate.max {
                    st.failures = st.failures.saturating_add(1);
                    (GateOutcome::Fail, true)
                } else {
                    (GateOutcome::Pass, false)
                }
            }
        };
        st.holding = holds;
        GateEvaluation {
            gate: i,
            metric: gate.metric,
            outcome,
            value,
            max: gate.max,
            samples,
            holds,
        }
    }

    /// Every epoch observed so far.
    pub fn records(&self) -> &[EpochRecord] {
        &self.records
    }

    /// The current phase (of the last plan; after an abort, rolling back).
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The abort, if one happened.
    pub fn abort_info(&self) -> Option<&AbortInfo> {
        self.abort.as_ref()
    }

    /// The validated migration this controller runs.
    pub fn migration(&self) -> &Migration {
        &self.migration
    }

    /// The epoch length in µs.
    pub fn epoch_us(&self) -> u64 {
        self.epoch_us
    }
}
