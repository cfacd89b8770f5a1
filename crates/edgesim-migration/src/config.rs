//! The `[migration]` table: raw (serde) form, validation and the validated
//! [`Migration`] with its normalised [`Schedule`].

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

/// Largest number of step points a schedule may expand to (protects against
/// e.g. `step_percent = 0.00001`).
pub const MAX_SCHEDULE_POINTS: usize = 10_000;

/// Continuous deployment (CloudFront staging distribution) sends at most this
/// percentage of traffic to staging; promotion is the way to 100%.
pub const CD_MAX_PERCENT: f64 = 15.0;

/// Tolerance used when snapping computed percentages to 100.
const PERCENT_EPS: f64 = 1e-9;

/// One validation error: a dotted path inside `[migration]` and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Dotted path inside `[migration]`, e.g. `schedule.step_percent` or
    /// `gates[1].max`.
    pub field: String,
    /// What is wrong with the field.
    pub message: String,
}

impl FieldError {
    fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for FieldError {}

/// How requests are assigned to the old or the new origin ("arm").
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum SplitKey {
    /// Every request independently at random.
    Random,
    /// By a hash of the object key: an object is served by one arm.
    #[default]
    ObjectHash,
    /// By a hash of the viewer: a viewer always sees one arm.
    ViewerSticky,
    /// By viewer cohort, with the arm part of the cache key.
    ViewerCohortKeyed,
    /// By viewer country.
    Country,
    /// CloudFront continuous deployment (staging distribution, at most 15%),
    /// with the arm part of the cache key.
    ContinuousDeployment,
}

impl SplitKey {
    /// The snake_case name used in the configuration.
    pub fn name(self) -> &'static str {
        match self {
            SplitKey::Random => "random",
            SplitKey::ObjectHash => "object_hash",
            SplitKey::ViewerSticky => "viewer_sticky",
            SplitKey::ViewerCohortKeyed => "viewer_cohort_keyed",
            SplitKey::Country => "country",
            SplitKey::ContinuousDeployment => "continuous_deployment",
        }
    }

    /// Whether the arm is part of the cache key (cached objects of the two
    /// arms are kept apart).
    pub fn keyed(self) -> bool {
        matches!(
            self,
            SplitKey::ViewerCohortKeyed | SplitKey::ContinuousDeployment
        )
    }
}

/// The metric a gate watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum GateMetric {
    /// `status_5xx / requests` over the interval.
    #[serde(rename = "error_rate")]
    ErrorRate,
    /// 99th percentile of viewer latency over the interval, in ms.
    #[serde(rename = "p99_ms")]
    P99Ms,
    /// `new_errors / new_fetches` (5xx from the new origin).
    #[serde(rename = "new_origin_error_rate")]
    NewOriginErrorRate,
    /// `new_503 / new_fetches` (503 from the new origin).
    #[serde(rename = "new_origin_503_rate")]
    NewOrigin503Rate,
    /// Baseline edge hit ratio minus the interval's edge hit ratio.
    #[serde(rename = "hit_ratio_dip")]
    HitRatioDip,
}

impl GateMetric {
    /// The snake_case name used in the configuration.
    pub fn name(self) -> &'static str {
        match self {
            GateMetric::ErrorRate => "error_rate",
            GateMetric::P99Ms => "p99_ms",
            GateMetric::NewOriginErrorRate => "new_origin_error_rate",
            GateMetric::NewOrigin503Rate => "new_origin_503_rate",
            GateMetric::HitRatioDip => "hit_ratio_dip",
        }
    }
}

impl fmt::Display for GateMetric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn default_interval_secs() -> f64 {
    60.0
}
fn default_min_samples() -> u64 {
    100
}
fn default_rollback_step_percent() -> f64 {
    10.0
}
fn default_rollback_every_secs() -> f64 {
    60.0
}

/// The `[migration]` table as written in the scenario file.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawMigration {
    /// Origin id traffic moves away from.
    pub from: String,
    /// Origin id traffic moves to.
    pub to: String,
    /// How requests are split between the arms (default `object_hash`).
    #[serde(default)]
    pub split: SplitKey,
    /// Continuous deployment only: per-viewer sticky instead of per request
    /// (`true` with another split is an error; `false` is accepted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sticky: Option<bool>,
    /// When the schedule starts, in seconds of simulated time (default 0).
    #[serde(default)]
    pub start_secs: f64,
    /// Continuous deployment only: when staging is promoted to primary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promote_at_secs: Option<f64>,
    /// The weight schedule: a `kind`-tagged table or a preset name.
    pub schedule: RawSchedule,
    /// What happens after an abort (default `"instant"`).
    #[serde(default)]
    pub rollback: RawRollback,
    /// Metric gates evaluated while the migration is active.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gates: Vec<RawGate>,
}

/// A schedule as written: a preset name (or `"all_at_once"`) or a table.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum RawSchedule {
    /// `"all_at_once"` or an AWS CodeDeploy preset name.
    Named(String),
    /// A `kind`-tagged table.
    Table(RawScheduleKind),
}

/// The `kind`-tagged schedule tables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum RawScheduleKind {
    /// 100% at start.
    AllAtOnce,
    /// `step_percent` at start, `+step_percent` every `every_secs`.
    Linear {
        /// Increment in percent, in (0, 100].
        step_percent: f64,
        /// Seconds between increments (> 0).
        every_secs: f64,
    },
    /// `percent` at start, 100% after `hold_secs`.
    Canary {
        /// Canary share in percent, in (0, 100].
        percent: f64,
        /// Seconds the canary share is held (> 0).
        hold_secs: f64,
    },
    /// `start_percent`, multiplied by `factor` every `every_secs`.
    Exponential {
        /// First share in percent, in (0, 100].
        start_percent: f64,
        /// Growth factor (> 1).
        factor: f64,
        /// Seconds between increments (> 0).
        every_secs: f64,
    },
    /// An explicit list of steps.
    Steps {
        /// The steps, percents non-decreasing.
        steps: Vec<RawStep>,
    },
}

/// One step of a `steps` schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    /// Share in percent, in [0, 100].
    pub percent: f64,
    /// How long the step holds (required except on the last step).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_secs: Option<f64>,
}

/// A rollback policy as written: `"instant"`, `"gradual"` or a table.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum RawRollback {
    /// `"instant"` or `"gradual"` (10% every 60 s).
    Named(String),
    /// A `kind`-tagged table.
    Table(RawRollbackKind),
}

impl Default for RawRollback {
    fn default() -> Self {
        RawRollback::Named("instant".to_owned())
    }
}

/// The `kind`-tagged rollback tables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum RawRollbackKind {
    /// Weight 0 from the epoch after the abort.
    Instant,
    /// Decrease the weight step by step.
    Gradual {
        /// Decrease in percent per step, in (0, 100] (default 10).
        #[serde(default = "default_rollback_step_percent")]
        step_percent: f64,
        /// Seconds between decreases (> 0, default 60).
        #[serde(default = "default_rollback_every_secs")]
        every_secs: f64,
    },
}

/// One `[[migration.gates]]` entry as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGate {
    /// The metric watched.
    pub metric: GateMetric,
    /// Threshold: the gate fails when the measured value is `> max`.
    pub max: f64,
    /// Evaluation interval in seconds (default 60).
    #[serde(default = "default_interval_secs")]
    pub interval_secs: f64,
    /// Fewer samples than this in an interval make it inconclusive
    /// (default 100).
    #[serde(default = "default_min_samples")]
    pub min_samples: u64,
    /// Failed evaluations tolerated; the `(budget+1)`-th failure aborts
    /// (default 0).
    #[serde(default)]
    pub budget: u32,
}

/// Deserialises "a string or a map" into either variant, keeping the map's
/// own (precise) error messages.
macro_rules! string_or_table {
    ($ty:ident, $kind:ident, $expecting:literal) => {
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<$ty, E> {
                        Ok($ty::Named(v.to_owned()))
                    }
                    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<$ty, A::Error> {
                        $kind::deserialize(de::value::MapAccessDeserializer::new(map))
                            .map($ty::Table)
                    }
                }
                deserializer.deserialize_any(V)
            }
        }
    };
}

string_or_table!(
    RawSchedule,
    RawScheduleKind,
    "a schedule table with a `kind` key, \"all_at_once\" or a CodeDeploy preset name"
);
string_or_table!(
    RawRollback,
    RawRollbackKind,
    "\"instant\", \"gradual\" or a rollback table with a `kind` key"
);

/// A gate after validation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Gate {
    /// The metric watched.
    pub metric: GateMetric,
    /// Threshold: the gate fails when the value is `> max`.
    pub max: f64,
    /// Evaluation interval in µs (>= 1).
    pub interval_us: u64,
    /// Minimum samples for a conclusive evaluation.
    pub min_samples: u64,
    /// Failed evaluations tolerated before aborting.
    pub budget: u32,
}

/// A rollback policy after validation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Rollback {
    /// Weight 0 from the epoch after the abort.
    Instant,
    /// From the weight at abort, minus `step_weight` every `every_us`
    /// (first decrease at the epoch after the abort), down to 0.
    Gradual {
        /// Decrease per step as a weight (fraction of traffic, in (0, 1]).
        step_weight: f64,
        /// µs between decreases (>= 1).
        every_us: u64,
    },
}

/// A normalised weight schedule: step points relative to the schedule start.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Schedule {
    /// `(at_us, weight)` step points, `at_us` strictly increasing from 0
    /// (schedule clock, relative to start), weight in `0..=1`, non-decreasing.
    /// The weight holds from its point until the next one.
    pub points: Vec<(u64, f64)>,
    /// Human description, e.g. `"linear 10% every 60 s"`.
    pub description: String,
}

impl Schedule {
    /// The planned weight at schedule clock `clock_us` (µs since start, not
    /// counting held time): the weight of the last point at or before it,
    /// 0 if there is none.
    pub fn weight_at(&self, clock_us: u64) -> f64 {
        let n = self.points.partition_point(|&(at, _)| at <= clock_us);
        match n.checked_sub(1).and_then(|i| self.points.get(i)) {
            Some(&(_, w)) => w.clamp(0.0, 1.0),
            None => 0.0,
        }
    }

    /// The schedule clock at which the weight first reaches 1, `None` if it
    /// never does.
    pub fn full_at_us(&self) -> Option<u64> {
        self.points
            .iter()
            .find(|&&(_, w)| w >= 1.0)
            .map(|&(at, _)| at)
    }

    /// The largest weight the schedule ever plans.
    pub fn max_weight(&self) -> f64 {
        self.points.iter().fold(0.0_f64, |m, &(_, w)| m.max(w))
    }
}

/// A validated migration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Migration {
    /// Origin id traffic moves away from.
    pub from: String,
    /// Origin id traffic moves to.
    pub to: String,
    /// How requests are split between the arms.
    pub split: SplitKey,
    /// Continuous deployment only: per-viewer sticky sessions.
    pub sticky: bool,
    /// When the schedule starts (µs of simulated time).
    pub start_us: u64,
    /// Continuous deployment only: when staging is promoted (µs).
    pub promote_at_us: Option<u64>,
    /// The weight schedule.
    pub schedule: Schedule,
    /// Metric gates.
    pub gates: Vec<Gate>,
    /// Rollback policy after an abort.
    pub rollback: Rollback,
}

/// Shape of an AWS CodeDeploy predefined configuration.
#[derive(Debug, Clone, Copy)]
enum PresetShape {
    AllAtOnce,
    /// percent, then 100% after minutes.
    Canary(u32, u32),
    /// +percent every minutes.
    Linear(u32, u32),
}

/// AWS CodeDeploy predefined deployment configurations for the AWS Lambda and
/// Amazon ECS compute platforms.
///
/// Semantics, as documented by AWS in the CodeDeploy User Guide, "Working
/// with deployment configurations in CodeDeploy"
/// (<https://docs.aws.amazon.com/codedeploy/latest/userguide/deployment-configurations.html>)
/// and the API reference for `TimeBasedCanary` / `TimeBasedLinear`
/// (<https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_TimeBasedLinear.html>):
///
/// * *Canary* shifts traffic in two increments: `percent` first, the
///   remaining traffic `minutes` later (e.g. `LambdaCanary10Percent5Minutes`:
///   10% at start, 100% at 5 min).
/// * *Linear* shifts traffic in equal increments with an equal number of
///   minutes between them; `linearPercentage` is "the percentage of traffic
///   that is shifted at the start of each increment" and `linearInterval`
///   "the number of minutes between each incremental traffic shift". So the
///   first 10% moves at start and 100% is reached after 9 intervals
///   (`LambdaLinear10PercentEvery1Minute`: 10% at 0, 20% at 1 min, …, 100% at
///   9 min).
/// * *AllAtOnce* shifts all traffic at once.
///
/// Note the ECS linear names are plural (`ECSLinear10PercentEvery1Minutes`),
/// as AWS spells them.
const PRESETS: &[(&str, PresetShape)] = &[
    ("LambdaAllAtOnce", PresetShape::AllAtOnce),
    ("LambdaCanary10Percent5Minutes", PresetShape::Canary(10, 5)),
    (
        "LambdaCanary10Percent10Minutes",
        PresetShape::Canary(10, 10),
    ),
    (
        "LambdaCanary10Percent15Minutes",
        PresetShape::Canary(10, 15),
    ),
    (
        "LambdaCanary10Percent30Minutes",
        PresetShape::Canary(10, 30),
    ),
    (
        "LambdaLinear10PercentEvery1Minute",
        PresetShape::Linear(10, 1),
    ),
    (
        "LambdaLinear10PercentEvery2Minutes",
        PresetShape::Linear(10, 2),
    ),
    (
        "LambdaLinear10PercentEvery3Minutes",
        PresetShape::Linear(10, 3),
    ),
    (
        "LambdaLinear10PercentEvery10Minutes",
        PresetShape::Linear(10, 10),
    ),
    ("ECSAllAtOnce", PresetShape::AllAtOnce),
    ("ECSCanary10Percent5Minutes", PresetShape::Canary(10, 5)),
    ("ECSCanary10Percent15Minutes", PresetShape::Canary(10, 15)),
    (
        "ECSLinear10PercentEvery1Minutes",
        PresetShape::Linear(10, 1),
    ),
    (
        "ECSLinear10PercentEvery3Minutes",
        PresetShape::Linear(10, 3),
    ),
];

/// The CodeDeploy preset names accepted as `schedule = "<name>"` (each may be
/// prefixed with `CodeDeployDefault.`, and the `Lambda`/`ECS` platform prefix
/// may be omitted, e.g. `Canary10Percent5Minutes`).
pub fn preset_names() -> Vec<&'static str> {
    PRESETS.iter().map(|&(n, _)| n).collect()
}

fn find_preset(name: &str) -> Option<PresetShape> {
    let bare = name.strip_prefix("CodeDeployDefault.").unwrap_or(name);
    if let Some(&(_, shape)) = PRESETS.iter().find(|(n, _)| n.eq_ignore_ascii_case(bare)) {
        return Some(shape);
    }
    PRESETS.iter().find_map(|&(n, shape)| {
        let short = n
            .strip_prefix("Lambda")
            .or_else(|| n.strip_prefix("ECS"))
            .unwrap_or(n);
        short.eq_ignore_ascii_case(bare).then_some(shape)
    })
}

fn secs_to_us(secs: f64) -> u64 {
    // `as` saturates; inputs are validated finite and >= 0.
    (secs * 1_000_000.0).round() as u64
}

/// Error collector with small validation helpers.
struct Check {
    errors: Vec<FieldError>,
}

impl Check {
    fn err(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    /// A duration that must be finite and > 0; returns µs (at least 1).
    fn positive_secs(&mut self, field: &str, v: f64) -> Option<u64> {
        if v.is_finite() && v > 0.0 {
            Some(secs_to_us(v).max(1))
        } else {
            self.err(
                field,
                format!("must be a finite number of seconds > 0, got {v}"),
            );
            None
        }
    }

    /// A time that must be finite and >= 0; returns µs.
    fn nonneg_secs(&mut self, field: &str, v: f64) -> Option<u64> {
        if v.is_finite() && v >= 0.0 {
            Some(secs_to_us(v))
        } else {
            self.err(
                field,
                format!("must be a finite number of seconds >= 0, got {v}"),
            );
            None
        }
    }

    /// A percentage in (0, 100].
    fn percent(&mut self, field: &str, v: f64) -> Option<f64> {
        if v.is_finite() && v > 0.0 && v <= 100.0 {
            Some(v)
        } else {
            self.err(field, format!("must be a percentage in (0, 100], got {v}"));
            None
        }
    }
}

fn linear_points(step: f64, every_us: u64) -> Vec<(u64, f64)> {
    let mut points = Vec::new();
    let mut i: u64 = 0;
    loop {
        let raw = step * (i + 1) as f64;
        let pct = if raw >= 100.0 - PERCENT_EPS {
            100.0
        } else {
            raw
        };
        points.push((every_us.saturating_mul(i), pct / 100.0));
        if pct >= 100.0 || points.len() >= MAX_SCHEDULE_POINTS {
            break;
        }
        i += 1;
    }
    points
}

fn exponential_points(start: f64, factor: f64, every_us: u64) -> Vec<(u64, f64)> {
    let mut points = Vec::new();
    let mut pct = start;
    let mut i: u64 = 0;
    loop {
        let p = if pct >= 100.0 - PERCENT_EPS {
            100.0
        } else {
            pct
        };
        points.push((every_us.saturating_mul(i), p / 100.0));
        if p >= 100.0 || points.len() >= MAX_SCHEDULE_POINTS {
            break;
        }
        pct *= factor;
        i += 1;
    }
    points
}

fn too_many(count: f64) -> bool {
    !(count.is_finite() && count <= MAX_SCHEDULE_POINTS as f64)
}

fn build_schedule(raw: &RawSchedule, c: &mut Check) -> Option<Schedule> {
    let kind = match raw {
        RawSchedule::Table(k) => k.clone(),
        RawSchedule::Named(name) => {
            if name == "all_at_once" {
                RawScheduleKind::AllAtOnce
            } else if let Some(shape) = find_preset(name) {
                let display = name.strip_prefix("CodeDeployDefault.").unwrap_or(name);
                let (points, what) = match shape {
                    PresetShape::AllAtOnce => (vec![(0, 1.0)], "all at once".to_owned()),
                    PresetShape::Canary(p, m) => {
                        let hold = u64::from(m) * 60;
                        (
                            vec![(0, f64::from(p) / 100.0), (hold * 1_000_000, 1.0)],
                            format!("canary {p}% for {hold} s"),
                        )
                    }
                    PresetShape::Linear(p, m) => {
                        let every = u64::from(m) * 60;
                        (
                            linear_points(f64::from(p), every * 1_000_000),
                            format!("linear {p}% every {every} s"),
                        )
                    }
                };
                return Some(Schedule {
                    points,
                    description: format!("{display} ({what})"),
                });
            } else {
                c.err(
                    "schedule",
                    format!(
                        "unknown schedule preset {name:?}; known: all_at_once, {} \
                         (optionally prefixed with `CodeDeployDefault.`; the `Lambda`/`ECS` \
                         prefix may be omitted), or use a table with `kind` = all_at_once | \
                         linear | canary | exponential | steps",
                        preset_names().join(", ")
                    ),
                );
                return None;
            }
        }
    };
    match kind {
        RawScheduleKind::AllAtOnce => Some(Schedule {
            points: vec![(0, 1.0)],
            description: "all at once".to_owned(),
        }),
        RawScheduleKind::Linear {
            step_percent,
            every_secs,
        } => {
            let step = c.percent("schedule.step_percent", step_percent);
            let every = c.positive_secs("schedule.every_secs", every_secs);
            let (step, every) = (step?, every?);
            if too_many((100.0 / step).ceil()) {
                c.err(
                    "schedule.step_percent",
                    format!("needs more than {MAX_SCHEDULE_POINTS} steps to reach 100%"),
                );
                return None;
            }
            Some(Schedule {
                points: linear_points(step, every),
                description: format!("linear {step_percent}% every {every_secs} s"),
            })
        }
        RawScheduleKind::Canary { percent, hold_secs } => {
            let p = c.percent("schedule.percent", percent);
            let hold = c.positive_secs("schedule.hold_secs", hold_secs);
            let (p, hold) = (p?, hold?);
            let points = if p >= 100.0 {
                vec![(0, 1.0)]
            } else {
                vec![(0, p / 100.0), (hold, 1.0)]
            };
            Some(Schedule {
                points,
                description: format!("canary {percent}% for {hold_secs} s"),
            })
        }
        RawScheduleKind::Exponential {
            start_percent,
            factor,
            every_secs,
        } => {
            let start = c.percent("schedule.start_percent", start_percent);
            let every = c.positive_secs("schedule.every_secs", every_secs);
            let factor_ok = factor.is_finite() && factor > 1.0;
            if !factor_ok {
                c.err(
                    "schedule.factor",
                    format!("must be a finite number > 1, got {factor}"),
                );
            }
            let (start, every) = (start?, every?);
            if !factor_ok {
                return None;
            }
            if too_many((100.0 / start).ln() / factor.ln() + 1.0) {
                c.err(
                    "schedule.factor",
                    format!("needs more than {MAX_SCHEDULE_POINTS} steps to reach 100%"),
                );
                return None;
            }
            Some(Schedule {
                points: exponential_points(start, factor, every),
                description: format!("exponential {start_percent}% x{factor} every {every_secs} s"),
            })
        }
        RawScheduleKind::Steps { steps } => steps_schedule(&steps, c),
    }
}

fn steps_schedule(steps: &[RawStep], c: &mut Check) -> Option<Schedule> {
    if steps.is_empty() {
        c.err("schedule.steps", "must list at least one step");
        return None;
    }
    if steps.len() > MAX_SCHEDULE_POINTS {
        c.err(
            "schedule.steps",
            format!("at most {MAX_SCHEDULE_POINTS} steps are allowed"),
        );
        return None;
    }
    let before = c.errors.len();
    let mut points = Vec::with_capacity(steps.len());
    let mut at: u64 = 0;
    let mut prev = 0.0_f64;
    let mut parts = Vec::with_capacity(steps.len());
    for (i, s) in steps.iter().enumerate() {
        let last = i + 1 == steps.len();
        if !(s.percent.is_finite() && (0.0..=100.0).contains(&s.percent)) {
            c.err(
                format!("schedule.steps[{i}].percent"),
                format!("must be a percentage in [0, 100], got {}", s.percent),
            );
        } else if s.percent < prev {
            c.err(
                format!("schedule.steps[{i}].percent"),
                format!(
                    "percents must be non-decreasing ({} after {prev})",
                    s.percent
                ),
            );
        } else {
            prev = s.percent;
        }
        let hold = match s.hold_secs {
            Some(h) => c.positive_secs(&format!("schedule.steps[{i}].hold_secs"), h),
            None if last => None,
            None => {
                c.err(
                    format!("schedule.steps[{i}].hold_secs"),
                    "is required on every step but the last",
                );
                None
            }
        };
        points.push((at, s.percent / 100.0));
        match s.hold_secs {
            Some(h) if !last => parts.push(format!("{}% ({h} s)", s.percent)),
            _ => parts.push(format!("{}%", s.percent)),
        }
        at = at.saturating_add(hold.unwrap_or(0));
    }
    if c.errors.len() > before {
        return None;
    }
    Some(Schedule {
        points,
        description: format!("steps {}", parts.join(" -> ")),
    })
}

fn build_rollback(raw: &RawRollback, c: &mut Check) -> Option<Rollback> {
    let kind = match raw {
        RawRollback::Table(k) => k.clone(),
        RawRollback::Named(n) if n == "instant" => RawRollbackKind::Instant,
        RawRollback::Named(n) if n == "gradual" => RawRollbackKind::Gradual {
            step_percent: default_rollback_step_percent(),
            every_secs: default_rollback_every_secs(),
        },
        RawRollback::Named(n) => {
            c.err(
                "rollback",
                format!("unknown rollback {n:?}; known: instant, gradual"),
            );
            return None;
        }
    };
    match kind {
        RawRollbackKind::Instant => Some(Rollback::Instant),
        RawRollbackKind::Gradual {
            step_percent,
            every_secs,
        } => {
            let step = c.percent("rollback.step_percent", step_percent);
            let every = c.positive_secs("rollback.every_secs", every_secs);
            Some(Rollback::Gradual {
                step_weight: step? / 100.0,
                every_us: every?,
            })
        }
    }
}

fn build_gate(i: usize, g: &RawGate, c: &mut Check) -> Option<Gate> {
    let before = c.errors.len();
    if !(g.max.is_finite() && g.max >= 0.0) {
        c.err(
            format!("gates[{i}].max"),
            format!("must be a finite number >= 0, got {}", g.max),
        );
    } else if g.metric == GateMetric::P99Ms && g.max <= 0.0 {
        c.err(
            format!("gates[{i}].max"),
            format!("p99_ms threshold must be > 0 ms, got {}", g.max),
        );
    }
    let interval = c.positive_secs(&format!("gates[{i}].interval_secs"), g.interval_secs);
    if c.errors.len() > before {
        return None;
    }
    Some(Gate {
        metric: g.metric,
        max: g.max,
        interval_us: interval?,
        min_samples: g.min_samples,
        budget: g.budget,
    })
}

impl Migration {
    /// Validates a raw `[migration]` table, collecting every error.
    pub fn from_raw(raw: &RawMigration) -> Result<Migration, Vec<FieldError>> {
        let mut c = Check { errors: Vec::new() };
        let cd = raw.split == SplitKey::ContinuousDeployment;
        if raw.from == raw.to {
            c.err(
                "to",
                format!("must differ from `from` (both are {:?})", raw.from),
            );
        }
        if raw.sticky == Some(true) && !cd {
            c.err(
                "sticky",
                format!(
                    "only applies to split = \"continuous_deployment\" (split is {:?})",
                    raw.split.name()
                ),
            );
        }
        let start_us = c.nonneg_secs("start_secs", raw.start_secs);
        let promote_at_us = match raw.promote_at_secs {
            None => None,
            Some(_) if !cd => {
                c.err(
                    "promote_at_secs",
                    format!(
                        "only applies to split = \"continuous_deployment\" (split is {:?})",
                        raw.split.name()
                    ),
                );
                None
            }
            Some(p) => {
                let us = c.nonneg_secs("promote_at_secs", p);
                if us.is_some() && raw.start_secs.is_finite() && p < raw.start_secs {
                    c.err(
                        "promote_at_secs",
                        format!("must not be before start_secs ({})", raw.start_secs),
                    );
                }
                us
            }
        };
        let schedule = build_schedule(&raw.schedule, &mut c);
        if let Some(s) = &schedule {
            let max_pct = s.max_weight() * 100.0;
            if cd && max_pct > CD_MAX_PERCENT + PERCENT_EPS {
                c.err(
                    "schedule",
                    format!(
                        "continuous deployment sends at most 15% of traffic to staging; \
                         schedule reaches {max_pct}%"
                    ),
                );
            }
        }
        let rollback = build_rollback(&raw.rollback, &mut c);
        let gates: Vec<Option<Gate>> = raw
            .gates
            .iter()
            .enumerate()
            .map(|(i, g)| build_gate(i, g, &mut c))
            .collect();
        match (start_us, schedule, rollback) {
            (Some(start_us), Some(schedule), Some(rollback)) if c.errors.is_empty() => {
                Ok(Migration {
                    from: raw.from.clone(),
                    to: raw.to.clone(),
                    split: raw.split,
                    sticky: raw.sticky.unwrap_or(false),
                    start_us,
                    promote_at_us,
                    schedule,
                    gates: gates.into_iter().flatten().collect(),
                    rollback,
                })
            }
            _ => {
                if c.errors.is_empty() {
                    c.err("migration", "invalid configuration");
                }
                Err(c.errors)
            }
        }
    }

    /// Parses and validates a TOML document that contains a `[migration]`
    /// table (other tables are ignored), or just the body of that table.
    /// TOML syntax and shape errors (unknown keys, unknown metric names, wrong
    /// types) are reported as one error with field `migration` and a message
    /// starting with the line number; validation errors as in
    /// [`Migration::from_raw`].
    pub fn from_toml_str(text: &str) -> Result<Migration, Vec<FieldError>> {
        #[derive(Deserialize)]
        struct Doc {
            migration: RawMigration,
        }
        let to_err = |e: toml::de::Error| {
            let line = e
                .span()
                .map(|s| text.get(..s.start).unwrap_or("").matches('\n').count() + 1);
            let message = match line {
                Some(l) => format!("line {l}: {}", e.message()),
                None => e.message().to_owned(),
            };
            vec![FieldError::new("migration", message)]
        };
        let table: toml::Table = toml::from_str(text).map_err(to_err)?;
        let raw = if table.contains_key("migration") {
            toml::from_str::<Doc>(text).map_err(to_err)?.migration
        } else {
            toml::from_str::<RawMigration>(text).map_err(to_err)?
        };
        Migration::from_raw(&raw)
    }
}
