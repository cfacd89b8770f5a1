//! The handler trait every trigger implements, its per-request context and what an invocation returns.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::event::{Request, Response};
use crate::headers::Str;
use crate::stage::Stage;
use crate::validate::ValidationRule;

/// Named knobs the coordinator sets per epoch (e.g. `migration` weight in [0, 1]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Controls {
    values: BTreeMap<Str, f64>,
}

impl Controls {
    /// No controls set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Value of `name`, if set.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.values.get(name).copied()
    }

    /// Set `name` to `value`.
    pub fn set(&mut self, name: &str, value: f64) {
        self.values.insert(Str::from(name), value);
    }

    /// Builder form of [`Controls::set`].
    pub fn with(mut self, name: &str, value: f64) -> Self {
        self.set(name, value);
        self
    }
}

/// Everything a handler may know about the invocation besides the event.
#[derive(Debug, Clone, Copy)]
pub struct InvokeContext<'a> {
    /// Simulated time, microseconds since the start of the run.
    pub now_us: u64,
    /// Region whose execution environments run the function (the REC's, or Origin Shield's).
    pub region: &'a str,
    /// PoP that received the request.
    pub pop: &'a str,
    /// Simulator-wide request id.
    pub request_id: u64,
    /// Per-request random draw from the simulator's seeded stream.
    pub rand: u64,
    /// Stable id of the viewer (what a cookie would identify).
    pub viewer_id: u64,
    /// Per-epoch controls.
    pub controls: &'a Controls,
    /// The viewer's country (ISO code), as CloudFront geolocates it.
    pub viewer_country: &'a str,
    /// The migration arm the simulator chose before the cache lookup when
    /// the arm is part of the cache key (`Some(true)`: the new origin).
    pub migration_arm: Option<bool>,
}

impl<'a> InvokeContext<'a> {
    /// A context for tests and one-off runs: time 0, region `us-east-1`, no controls.
    pub fn simple(controls: &'a Controls, rand: u64) -> Self {
        InvokeContext {
            now_us: 0,
            region: "us-east-1",
            pop: "IAD89-C1",
            request_id: 1,
            rand,
            viewer_id: 1,
            controls,
            viewer_country: "US",
            migration_arm: None,
        }
    }
}

/// Why an invocation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum FailureKind {
    /// The function returned something CloudFront rejects (502).
    Invalid {
        /// Which rule it broke.
        rule: ValidationRule,
    },
    /// Unhandled exception, `callback(err)` or a rejected promise (503).
    Exception,
    /// The function ran past its timeout (503).
    Timeout,
    /// The function ran out of memory (503).
    OutOfMemory,
    /// Lambda refused the invocation: concurrency or rate limit reached (503).
    Throttled,
}

impl FailureKind {
    /// The status CloudFront returns to the viewer for this failure.
    pub fn viewer_status(self) -> u16 {
        match self {
            FailureKind::Invalid { .. } => 502,
            _ => 503,
        }
    }

    /// Short name used by reports and `edgesim trigger test`.
    pub fn name(self) -> &'static str {
        match self {
            FailureKind::Invalid { .. } => "invalid",
            FailureKind::Exception => "error",
            FailureKind::Timeout => "timeout",
            FailureKind::OutOfMemory => "out_of_memory",
            FailureKind::Throttled => "throttled",
        }
    }
}

/// A failed invocation and what the viewer gets for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// What went wrong.
    pub kind: FailureKind,
    /// 502 for invalid results, 503 for execution errors.
    pub viewer_status: u16,
    /// Human-readable detail.
    pub message: String,
}

impl Failure {
    /// A failure of `kind` with the matching viewer status.
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        Failure {
            kind,
            viewer_status: kind.viewer_status(),
            message: message.into(),
        }
    }

    /// CloudFront's `X-Cache` value for this failure.
    pub fn x_cache(&self) -> &'static str {
        if self.viewer_status == 502 {
            "LambdaValidationError from cloudfront"
        } else {
            "LambdaExecutionError from cloudfront"
        }
    }

    /// The error response CloudFront sends the viewer.
    pub fn viewer_response(&self) -> Response {
        let mut response = Response::new(self.viewer_status);
        response
            .headers
            .set_static("x-cache", "X-Cache", self.x_cache());
        response
    }
}

/// How a stage ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StageOutcome {
    /// Go on; the request (or response) may have been modified in place.
    Continue,
    /// A generated response (request stages only).
    Respond(Response),
    /// The invocation failed; the viewer gets `viewer_status`.
    Failed(Failure),
}

impl StageOutcome {
    /// `continue`, `respond`, or the failure's name.
    pub fn name(&self) -> &'static str {
        match self {
            StageOutcome::Continue => "continue",
            StageOutcome::Respond(_) => "respond",
            StageOutcome::Failed(f) => f.kind.name(),
        }
    }
}

/// The A/B variant an invocation chose, for per-variant reporting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VariantChoice {
    /// Variant name.
    pub name: Str,
    /// True when the viewer had no variant cookie and was assigned now: a real setup's
    /// viewer-response function would send `Set-Cookie` so later requests stick.
    pub newly_assigned: bool,
}

/// The result of one invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// How the stage ended.
    pub outcome: StageOutcome,
    /// Simulated run time, including a cold start; deterministic.
    pub duration_us: u64,
    /// Captured console output (capped per invocation: see `script::LOG_MAX_LINES`).
    pub logs: Vec<String>,
    /// Console lines the function wrote, kept or not.
    pub log_lines: u64,
    /// The cap dropped or cut some of the output (`logs` ends with a line saying so).
    pub log_truncated: bool,
    /// True when a new execution environment had to be started.
    pub cold_start: bool,
    /// Set by A/B triggers.
    pub variant: Option<VariantChoice>,
    /// KeyValueStore reads (`get`, `exists`, `meta`) the run made: CloudFront Functions only.
    pub kvs_reads: u32,
    /// The origin a CloudFront Function chose for this request at viewer-request
    /// (`cf.updateRequestOrigin`, `cf.selectRequestOriginById`, `cf.createRequestOriginGroup`);
    /// the driver sends the miss there.
    pub origin_change: Option<OriginChange>,
    /// CloudFront Functions' compute utilization of the run, 0-100 (over 100 fails the run).
    pub compute_utilization: Option<u8>,
}

/// An origin a CloudFront Function selected at viewer-request (runtime 2.0's origin helpers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum OriginChange {
    /// `cf.updateRequestOrigin(params)`: the fields given replace the behaviour's origin's.
    Update {
        /// `domainName`, when given (absent: the assigned origin's host).
        domain_name: Option<String>,
        /// `originPath`, when given.
        origin_path: Option<String>,
        /// Every parameter as the function passed it (customHeaders, timeouts, originShield...).
        params: serde_json::Value,
    },
    /// `cf.selectRequestOriginById(id)`: another origin of the distribution, by its id.
    Select {
        /// The origin id.
        origin_id: String,
    },
    /// `cf.createRequestOriginGroup(params)`: a failover group of two of the distribution's
    /// origins.
    Group {
        /// Primary origin id.
        primary: String,
        /// Failover origin id.
        secondary: String,
        /// Statuses of the primary that fail over.
        failover_status_codes: Vec<u16>,
    },
}

impl Invocation {
    /// A successful continue with the given duration.
    pub fn continued(duration_us: u64) -> Self {
        Invocation {
            outcome: StageOutcome::Continue,
            duration_us,
            logs: Vec::new(),
            log_lines: 0,
            log_truncated: false,
            cold_start: false,
            variant: None,
            kvs_reads: 0,
            origin_change: None,
            compute_utilization: None,
        }
    }

    /// An invocation that ended with `outcome`.
    pub fn with_outcome(outcome: StageOutcome, duration_us: u64) -> Self {
        Invocation {
            outcome,
            duration_us,
            logs: Vec::new(),
            log_lines: 0,
            log_truncated: false,
            cold_start: false,
            variant: None,
            kvs_reads: 0,
            origin_change: None,
            compute_utilization: None,
        }
    }
}

/// A trigger attached to one stage of one cache behaviour.
///
/// `invoke` receives the request (and, at response stages, the response) and modifies it in
/// place on `Continue`. It never leaves a half-applied change behind on failure. Results are
/// already validated against the stage's rules.
pub trait Handler: Send {
    /// Run the trigger once.
    fn invoke(
        &mut self,
        stage: Stage,
        request: &mut Request,
        response: Option<&mut Response>,
        ctx: &InvokeContext<'_>,
    ) -> Invocation;

    /// A short description for reports (`builtin ab_test`, `js triggers/ab.js`).
    fn describe(&self) -> String;

    /// True when the function runs at the PoP that received the request (CloudFront
    /// Functions), false when it runs in a regional edge cache's AWS region (Lambda@Edge: the
    /// request pays the trip there and back).
    fn runs_at_pop(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_statuses_and_x_cache() {
        let invalid = Failure::new(
            FailureKind::Invalid {
                rule: ValidationRule::BadShape,
            },
            "x",
        );
        assert_eq!(invalid.viewer_status, 502);
        assert_eq!(
            invalid.viewer_response().headers.get("x-cache"),
            Some("LambdaValidationError from cloudfront")
        );
        for kind in [
            FailureKind::Exception,
            FailureKind::Timeout,
            FailureKind::OutOfMemory,
            FailureKind::Throttled,
        ] {
            let f = Failure::new(kind, "x");
            assert_eq!(f.viewer_status, 503);
            assert_eq!(f.x_cache(), "LambdaExecutionError from cloudfront");
        }
    }

    #[test]
    fn controls_round_trip() {
        let c = Controls::new().with("migration", 0.25);
        assert_eq!(c.get("migration"), Some(0.25));
        assert_eq!(c.get("other"), None);
    }
}
