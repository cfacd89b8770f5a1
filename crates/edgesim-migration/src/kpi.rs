//! Key performance indicators computed from the per-epoch records.

use serde::{Deserialize, Serialize};

use crate::config::GateMetric;
use crate::controller::{Controller, Phase, ratio};

/// Served-from-new share at or above which the migration counts as
/// realised in full.
const REALISED_FULL_SHARE: f64 = 0.99;
/// Served-from-new share at or below which a rollback counts as done.
const ROLLED_BACK_SHARE: f64 = 0.001;

const US_PER_SEC: f64 = 1_000_000.0;

fn secs(us: u64) -> f64 {
    us as f64 / US_PER_SEC
}

/// The abort, in KPI form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AbortKpi {
    /// Run time of the abort (end of the aborting epoch), in seconds.
    pub at_secs: f64,
    /// Index of the aborting gate.
    pub gate: usize,
    /// Its metric.
    pub metric: GateMetric,
    /// The failing value.
    pub value: f64,
    /// The threshold.
    pub max: f64,
}

/// Migration KPIs. Times are seconds since the start of the run; `None`
/// serialises as `null`. "After start" means epochs whose start is at or
/// after `start_us`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Kpis {
    /// Schedule description and split name.
    pub strategy: String,
    /// `"completed"` (planned weight reached 1 or promoted, no abort),
    /// `"aborted"` (aborted, planned weight not yet back at 0),
    /// `"rolled_back"` (aborted, planned weight back at 0) or
    /// `"in_progress"`.
    pub outcome: String,
    /// Start of the first epoch whose planned weight is 1 (run time).
    pub time_to_full_secs: Option<f64>,
    /// End of the first epoch whose served-from-new share is >= 0.99.
    pub time_to_realised_full_secs: Option<f64>,
    /// Largest new-origin fetch rate over epochs after start (fetches per second).
    pub peak_new_origin_rps: f64,
    /// Largest old-origin fetch rate over epochs after start (fetches per second).
    pub peak_old_origin_rps: f64,
    /// Bytes fetched from origins over the run.
    pub total_origin_bytes: u64,
    /// Edge hit ratio over the epochs before start (if none, the baseline
    /// established by the first conclusive `hit_ratio_dip` evaluation).
    pub baseline_hit_ratio: Option<f64>,
    /// Baseline minus the lowest epoch hit ratio after start (>= 0).
    pub hit_ratio_dip_depth: Option<f64>,
    /// Σ max(0, baseline − epoch hit ratio) × epoch seconds after start,
    /// in ratio·seconds.
    pub hit_ratio_dip_area: Option<f64>,
    /// Σ viewer 5xx responses after start.
    pub error_responses: u64,
    /// Σ viewers exposed to errors (for the first time) after start.
    pub viewers_exposed_to_errors: u64,
    /// The abort, if any.
    pub abort: Option<AbortKpi>,
    /// Abort time minus the end of the first epoch (ending no later than the
    /// abort) with new-origin errors or 503s; `None` without an abort or such
    /// an epoch.
    pub time_to_detect_secs: Option<f64>,
    /// Abort time to the end of the first epoch after which the
    /// served-from-new share stays <= 0.001 until the end of the run
    /// (including cache TTL tails); `None` without an abort or if not
    /// reached.
    pub time_to_rollback_secs: Option<f64>,
    /// Planned weight of the last epoch.
    pub final_planned_weight: f64,
    /// Realised new-origin fetch share of the last epoch.
    pub final_realised_fetch_share: f64,
    /// Realised served-from-new share of the last epoch.
    pub final_realised_served_share: f64,
}

impl Controller {
    /// Computes the KPIs from the records so far.
    pub fn kpis(&self) -> Kpis {
        let m = &self.migration;
        let recs = &self.records;
        let epoch_secs = secs(self.epoch_us);
        let after: Vec<_> = recs.iter().filter(|r| r.start_us >= m.start_us).collect();

        let reached_full = recs
            .iter()
            .find(|r| r.plan.weight >= 1.0 || r.plan.promoted);
        let last = recs.last();
        let outcome = match (&self.abort, last) {
            (Some(_), Some(l)) if l.plan.phase == Phase::RolledBack => "rolled_back",
            (Some(_), _) => "aborted",
            (None, _) if reached_full.is_some() => "completed",
            (None, _) => "in_progress",
        };

        let baseline = if self.pre_requests > 0 {
            Some(ratio(self.pre_hits, self.pre_requests))
        } else {
            self.dip_baseline
        };
        let (dip_depth, dip_area) = match baseline {
            Some(b) => {
                let with_traffic = after.iter().filter(|r| r.counters.requests > 0);
                let min = with_traffic
                    .clone()
                    .map(|r| r.hit_ratio)
                    .fold(None, |m: Option<f64>, h| Some(m.map_or(h, |m| m.min(h))));
                let area: f64 = with_traffic
                    .map(|r| (b - r.hit_ratio).max(0.0) * epoch_secs)
                    .sum();
                (Some(min.map_or(0.0, |mn| (b - mn).max(0.0))), Some(area))
            }
            None => (None, None),
        };

        let abort = self.abort.as_ref().map(|a| AbortKpi {
            at_secs: secs(a.at_us),
            gate: a.gate,
            metric: a.metric,
            value: a.value,
            max: a.max,
        });
        let time_to_detect_secs = self.abort.as_ref().and_then(|a| {
            recs.iter()
                .find(|r| {
                    r.end_us <= a.at_us && (r.counters.new_errors > 0 || r.counters.new_503 > 0)
                })
                .map(|r| secs(a.at_us) - secs(r.end_us))
        });
        let time_to_rollback_secs = self.abort.as_ref().and_then(|a| {
            let post: Vec<_> = recs.iter().filter(|r| r.start_us >= a.at_us).collect();
            let last_post = post.last()?;
            if last_post.realised_served_share > ROLLED_BACK_SHARE {
                return None;
            }
            // The last epoch (from the aborting one on) still above the
            // threshold; the share stays low after its end.
            let settled_end = recs
                .iter()
                .filter(|r| r.end_us >= a.at_us)
                .rev()
                .find(|r| r.realised_served_share > ROLLED_BACK_SHARE)
                .map_or(a.at_us, |r| r.end_us);
            Some(secs(settled_end) - secs(a.at_us))
        });

        // Peaks after the start: the cold caches of the first epochs are
        // not the migration's doing.
        let peak = |f: fn(&crate::controller::EpochRecord) -> u64| {
            recs.iter()
                .filter(|r| r.start_us >= m.start_us)
                .map(|r| f(r) as f64 / epoch_secs)
                .fold(0.0_f64, f64::max)
        };

        Kpis {
            strategy: format!("{}, split {}", m.schedule.description, m.split.name()),
            outcome: outcome.to_owned(),
            time_to_full_secs: reached_full.map(|r| secs(r.start_us)),
            time_to_realised_full_secs: recs
                .iter()
                .find(|r| {
                    r.counters.served_from_new + r.counters.served_from_old > 0
                        && r.realised_served_share >= REALISED_FULL_SHARE
                })
                .map(|r| secs(r.end_us)),
            peak_new_origin_rps: peak(|r| r.counters.new_fetches),
            peak_old_origin_rps: peak(|r| r.counters.old_fetches),
            total_origin_bytes: recs
                .iter()
                .fold(0u64, |s, r| s.saturating_add(r.counters.origin_bytes)),
            baseline_hit_ratio: baseline,
            hit_ratio_dip_depth: dip_depth,
            hit_ratio_dip_area: dip_area,
            error_responses: after
                .iter()
                .fold(0u64, |s, r| s.saturating_add(r.counters.status_5xx)),
            viewers_exposed_to_errors: after.iter().fold(0u64, |s, r| {
                s.saturating_add(r.counters.viewers_exposed_to_errors)
            }),
            abort,
            time_to_detect_secs,
            time_to_rollback_secs,
            final_planned_weight: last.map_or(0.0, |r| r.plan.weight),
            final_realised_fetch_share: last.map_or(0.0, |r| r.realised_fetch_share),
            final_realised_served_share: last.map_or(0.0, |r| r.realised_served_share),
        }
    }
}
