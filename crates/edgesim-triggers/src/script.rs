//! The seam between the trigger pipeline and script languages: a [`ScriptEngine`] runs one event
//! and reports deterministic work counts; [`ScriptHandler`] adds execution environments, limits,
//! simulated duration and CloudFront's validation. A new language implements [`ScriptEngine`]
//! and one arm of [`ScriptLanguage`]; nothing else changes.

use crate::config::ConfigError;
use crate::event::{Request, Response};
use crate::handler::{Failure, FailureKind, Handler, Invocation, InvokeContext, StageOutcome};
use crate::headers::Str;
use crate::pool::{ExecutionModel, PoolStats, Slot, WarmPool};
use crate::stage::Stage;
use crate::util::mix64;
use crate::validate::{Accepted, HandlerResult, Violation, accept};

/// Languages a script trigger may be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScriptLanguage {
    /// Node.js-style JavaScript, run by QuickJS.
    JavaScript,
    /// Python (`def lambda_handler(event, context)`), run by CPython in a worker process.
    Python,
}

impl ScriptLanguage {
    /// The configuration key that selects this language (`js`, `py`).
    pub fn config_key(self) -> &'static str {
        match self {
            ScriptLanguage::JavaScript => "js",
            ScriptLanguage::Python => "py",
        }
    }
}

/// Work one run did, counted without reading any clock.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkMeter {
    /// Calls of the engine's interrupt handler (QuickJS: one per 10,000 calls and backward
    /// jumps of bytecode).
    pub interrupts: u64,
    /// Bytes of strings moved into the event and read back from the result.
    pub marshal_bytes: u64,
    /// Console lines written (kept or not).
    pub log_lines: u64,
    /// Characters of console output written (kept or not).
    pub log_bytes: u64,
    /// Console lines dropped or cut by the per-invocation cap.
    pub log_dropped: u64,
    /// Simulated time spent waiting for timers (`setTimeout`).
    pub timer_wait_us: u64,
    /// Jobs (promise reactions, `queueMicrotask`) the event loop ran.
    pub jobs: u64,
}

/// Jobs of the event loop that count as one interrupt of work: a job (a promise reaction with its
/// bookkeeping) takes about 1/70 of an interrupt interval here. A handler's few awaits cost
/// nothing; an endless chain of microtasks runs out of budget as a loop does.
pub const JOBS_PER_INTERRUPT: u64 = 64;

/// The ids CloudFront puts in `event.Records[0].cf.config`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Distribution {
    /// `d111111abcdef8.cloudfront.net`.
    pub domain_name: Str,
    /// `EDFDVBD6EXAMPLE`.
    pub id: Str,
}

impl Default for Distribution {
    fn default() -> Self {
        Distribution {
            domain_name: Str::const_new("d111111abcdef8.cloudfront.net"),
            id: Str::const_new("EDFDVBD6EXAMPLE"),
        }
    }
}

/// One event for an engine to run.
#[derive(Debug, Clone, Copy)]
pub struct ScriptCall<'a> {
    /// The stage (`config.eventType`).
    pub stage: Stage,
    /// `event.Records[0].cf.request`.
    pub request: &'a Request,
    /// `event.Records[0].cf.response` at the response stages.
    pub response: Option<&'a Response>,
    /// Distribution ids for `config`.
    pub distribution: &'a Distribution,
    /// `config.requestId`.
    pub request_id: &'a str,
    /// Simulated wall time for `Date`.
    pub now_us: u64,
    /// Seed for `Math.random` and `crypto.randomBytes`.
    pub seed: u64,
    /// Interrupts allowed before the run counts as timed out.
    pub interrupt_budget: u64,
    /// The function's timeout (timers past it time the run out).
    pub timeout_us: u64,
    /// CloudFront's "include body": the event carries the (exposed) request body and the
    /// function may replace it.
    pub include_body: bool,
    /// What console output costs, so an engine can charge it to the budget as it is written.
    pub console: ConsoleCosts,
}

/// The console part of a [`CostModel`], in the budget's unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsoleCosts {
    /// Simulated µs per line.
    pub us_per_line: u64,
    /// Simulated ns per character.
    pub ns_per_char: u64,
    /// Simulated µs per unit of the interrupt budget.
    pub us_per_interrupt: u64,
}

/// How a script run failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScriptError {
    /// Thrown error, `callback(err)` or rejected promise; the text is `Name: message`.
    Exception(String),
    /// Ran past the interrupt budget or the timeout.
    Timeout,
    /// Hit the memory limit.
    OutOfMemory,
}

/// What a run returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptOutput {
    /// The result read into CloudFront's types, or the shape rule it broke.
    pub result: Result<HandlerResult, Violation>,
    /// At response stages: the event's query string as the handler left it.
    pub querystring_after: Option<Str>,
}

/// Everything one run produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptRun {
    /// The result or the failure.
    pub outcome: Result<ScriptOutput, ScriptError>,
    /// Deterministic work counts.
    pub work: WorkMeter,
    /// Console output, one entry per line.
    pub logs: Vec<String>,
}

/// A loaded function in some language.
pub trait ScriptEngine: Send {
    /// Run the handler once on `call`'s event.
    fn run(&mut self, call: &ScriptCall<'_>) -> ScriptRun;

    /// Drop all state and load the source again, as Lambda does after a timeout or running out
    /// of memory.
    fn restart(&mut self) -> Result<(), String>;
}

/// How work counts become simulated time.
///
/// - every invocation costs `overhead_us` (Lambda's invoke path, the runtime's event decoding);
/// - each byte moved in or out costs `marshal_ns_per_byte` (Node's JSON parse of the event and
///   stringify of the result, at a 128 MB CPU share);
/// - each interrupt after the first costs `us_per_interrupt`. QuickJS calls the interrupt handler
///   every 10,000 ticks (calls and backward jumps), continuing its countdown across runs, so the
///   first interrupt of a run lands at a point that depends on earlier runs. Not charging it
///   makes every handler shorter than 10,000 ticks cost exactly the same each time, and longer
///   ones are charged in whole 10,000-tick units;
/// - console lines and timer waits add their own cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CostModel {
    /// Fixed cost per invocation.
    pub overhead_us: u64,
    /// Cost of one interrupt interval (10,000 QuickJS ticks).
    pub us_per_interrupt: u64,
    /// Cost of one byte of event or result.
    pub marshal_ns_per_byte: u64,
    /// Cost of one console line.
    pub us_per_log_line: u64,
    /// Cost of one character of console output.
    pub log_ns_per_byte: u64,
}

/// Console output kept per invocation: lines, and characters over all lines. What is written
/// beyond is counted (and costs time) but not kept; a last line says how much was dropped.
pub const LOG_MAX_LINES: u64 = 1_000;
/// See [`LOG_MAX_LINES`].
pub const LOG_MAX_CHARS: u64 = 256 * 1024;

/// The line that ends an invocation's console output when the cap dropped some of it.
pub(crate) fn truncation_line(work: &WorkMeter) -> String {
    format!(
        "EDGESIM\tconsole output truncated: {} line(s) of {} written were dropped or cut ({} characters in all; at most {} lines and {} KiB are kept per invocation)",
        work.log_dropped,
        work.log_lines,
        work.log_bytes,
        LOG_MAX_LINES,
        LOG_MAX_CHARS / 1024
    )
}

/// Upper bound on interrupts per run whatever the timeout: about six seconds of real CPU here.
/// A handler that would need more is reported as timed out.
pub const MAX_INTERRUPTS_PER_RUN: u64 = 200_000;

impl CostModel {
    /// Calibrated defaults: one interrupt interval (~30 µs of QuickJS here) counts as 50 µs of
    /// a 128 MB Lambda's CPU share.
    pub fn new(overhead_us: u64) -> Self {
        CostModel {
            overhead_us,
            us_per_interrupt: 50,
            marshal_ns_per_byte: 20,
            us_per_log_line: 5,
            log_ns_per_byte: 1,
        }
    }

    /// Simulated run time of `work` (without a cold start).
    pub fn run_us(&self, work: &WorkMeter) -> u64 {
        self.overhead_us
            + work.interrupts.saturating_sub(1) * self.us_per_interrupt
            + work.jobs / JOBS_PER_INTERRUPT * self.us_per_interrupt
            + work.marshal_bytes * self.marshal_ns_per_byte / 1_000
            + work.log_lines * self.us_per_log_line
            + work.log_bytes * self.log_ns_per_byte / 1_000
            + work.timer_wait_us
    }

    /// The console costs, for [`ScriptCall::console`].
    pub fn console(&self) -> ConsoleCosts {
        ConsoleCosts {
            us_per_line: self.us_per_log_line,
            ns_per_char: self.log_ns_per_byte,
            us_per_interrupt: self.us_per_interrupt,
        }
    }

    /// Interrupts a run may use before `timeout_us` is reached.
    pub fn interrupt_budget(&self, timeout_us: u64) -> u64 {
        (timeout_us.saturating_sub(self.overhead_us) / self.us_per_interrupt.max(1) + 1)
            .min(MAX_INTERRUPTS_PER_RUN)
    }
}

/// Create the engine for `language`; `entry` is the JavaScript export or the Python
/// `module.function`, `runtime` the Lambda runtime asked for (Python only).
fn load_engine(
    language: ScriptLanguage,
    path: &str,
    source: &str,
    entry: &str,
    runtime: Option<&str>,
    model: &ExecutionModel,
) -> Result<Box<dyn ScriptEngine>, Vec<ConfigError>> {
    match language {
        ScriptLanguage::JavaScript => crate::js::QuickJsEngine::load(path, source, entry, model)
            .map(|engine| Box::new(engine) as Box<dyn ScriptEngine>),
        ScriptLanguage::Python => {
            crate::python::CPythonEngine::load(path, source, entry, runtime, model)
                .map(|engine| Box::new(engine) as Box<dyn ScriptEngine>)
        }
    }
}

/// A script trigger: engine + execution environments + limits + validation.
pub struct ScriptHandler {
    language: ScriptLanguage,
    path: String,
    model: ExecutionModel,
    cost: CostModel,
    engine: Box<dyn ScriptEngine>,
    pool: WarmPool,
    distribution: Distribution,
    include_body: bool,
}

impl ScriptHandler {
    /// Load `source` (named `path` in messages) and find its `entry` (the JavaScript export,
    /// or the Python `module.function`); `runtime` picks the Python version.
    pub fn load(
        language: ScriptLanguage,
        path: &str,
        source: &str,
        entry: &str,
        runtime: Option<&str>,
        _stage: Stage,
        model: ExecutionModel,
    ) -> Result<Self, Vec<ConfigError>> {
        let engine = load_engine(language, path, source, entry, runtime, &model)?;
        Ok(ScriptHandler {
            language,
            path: path.to_string(),
            cost: CostModel::new(model.overhead_us),
            model,
            engine,
            pool: WarmPool::new(),
            distribution: Distribution::default(),
            include_body: false,
        })
    }

    /// Use other distribution ids in events.
    pub fn set_distribution(&mut self, distribution: Distribution) {
        self.distribution = distribution;
    }

    /// Expose the request body to the function (CloudFront's "include body" option).
    pub fn set_include_body(&mut self, include_body: bool) {
        self.include_body = include_body;
    }

    /// Override how work becomes simulated time.
    pub fn set_cost_model(&mut self, cost: CostModel) {
        self.cost = cost;
    }

    /// Cold starts, warm starts and throttles so far.
    pub fn pool_stats(&self) -> PoolStats {
        self.pool.stats()
    }
}

/// `config.requestId` for a simulator request id: 16 hex digits, inline (no allocation).
pub(crate) fn request_id_string(request_id: u64) -> Str {
    use std::fmt::Write;
    let mut s = Str::with_capacity(16);
    let _ = write!(s, "{:016x}", mix64(request_id));
    s
}

impl Handler for ScriptHandler {
    fn invoke(
        &mut self,
        stage: Stage,
        request: &mut Request,
        response: Option<&mut Response>,
        ctx: &InvokeContext<'_>,
    ) -> Invocation {
        let slot = self.pool.acquire(ctx.region, ctx.now_us, &self.model);
        if let Some(message) = slot.throttle_message() {
            let failure = Failure::new(FailureKind::Throttled, message);
            return Invocation::with_outcome(StageOutcome::Failed(failure), 0);
        }
        let cold_start = slot == Slot::Cold;
        let timeout_us = self.model.timeout_ms * 1_000;
        let request_id = request_id_string(ctx.request_id);
        let run = self.engine.run(&ScriptCall {
            stage,
            request,
            response: response.as_deref(),
            distribution: &self.distribution,
            request_id: &request_id,
            now_us: ctx.now_us,
            seed: ctx.rand,
            interrupt_budget: self.cost.interrupt_budget(timeout_us),
            timeout_us,
            include_body: self.include_body,
            console: self.cost.console(),
        });
        let mut run_us = self.cost.run_us(&run.work);
        let outcome = match run.outcome {
            Ok(_) | Err(ScriptError::Exception(_)) if run_us > timeout_us => {
                StageOutcome::Failed(Failure::new(
                    FailureKind::Timeout,
                    format!("Task timed out after {} ms", self.model.timeout_ms),
                ))
            }
            Ok(output) => match output.result.and_then(|result| {
                accept(
                    stage,
                    result,
                    request,
                    response,
                    output.querystring_after.as_deref(),
                )
            }) {
                Ok(Accepted::Continue) => StageOutcome::Continue,
                Ok(Accepted::Respond(generated)) => StageOutcome::Respond(generated),
                Err(violation) => StageOutcome::Failed(Failure::new(
                    FailureKind::Invalid {
                        rule: violation.rule,
                    },
                    format!("The Lambda function returned an invalid result: {violation}"),
                )),
            },
            Err(ScriptError::Exception(message)) => {
                StageOutcome::Failed(Failure::new(FailureKind::Exception, message))
            }
            Err(ScriptError::Timeout) => StageOutcome::Failed(Failure::new(
                FailureKind::Timeout,
                format!("Task timed out after {} ms", self.model.timeout_ms),
            )),
            Err(ScriptError::OutOfMemory) => StageOutcome::Failed(Failure::new(
                FailureKind::OutOfMemory,
                format!(
                    "Runtime exited: out of memory ({} MB)",
                    self.model.memory_mb
                ),
            )),
        };
        let fatal = matches!(&outcome, StageOutcome::Failed(f) if matches!(f.kind, FailureKind::Timeout | FailureKind::OutOfMemory));
        if fatal {
            if matches!(&outcome, StageOutcome::Failed(f) if f.kind == FailureKind::Timeout) {
                run_us = timeout_us;
            }
            // Lambda replaces the environment; so do we, to drop whatever state filled it.
            if let Err(message) = self.engine.restart() {
                debug_assert!(
                    false,
                    "restarting a script that loaded before failed: {message}"
                );
            }
        }
        let duration_us = run_us
            + if cold_start {
                self.model.cold_start_us
            } else {
                0
            };
        self.pool
            .release(ctx.region, slot, ctx.now_us, duration_us, !fatal);
        Invocation {
            outcome,
            duration_us,
            logs: run.logs,
            log_lines: run.work.log_lines,
            log_truncated: run.work.log_dropped > 0,
            cold_start,
            variant: None,
            kvs_reads: 0,
            origin_change: None,
            compute_utilization: None,
        }
    }

    fn describe(&self) -> String {
        format!("{} {}", self.language.config_key(), self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_runs_cost_the_same_whatever_the_interrupt_phase() {
        let cost = CostModel::new(1_000);
        let zero = WorkMeter {
            interrupts: 0,
            marshal_bytes: 500,
            ..Default::default()
        };
        let one = WorkMeter {
            interrupts: 1,
            ..zero
        };
        assert_eq!(cost.run_us(&zero), cost.run_us(&one));
        assert_eq!(cost.run_us(&zero), 1_010);
        let long = WorkMeter {
            interrupts: 11,
            ..zero
        };
        assert_eq!(cost.run_us(&long), 1_010 + 500);
    }

    #[test]
    fn budget_matches_timeout_and_is_capped() {
        let cost = CostModel::new(1_000);
        assert_eq!(cost.interrupt_budget(5_000_000), 99_981);
        assert_eq!(cost.interrupt_budget(30_000_000), MAX_INTERRUPTS_PER_RUN);
    }

    #[test]
    fn request_ids_are_inline() {
        let id = request_id_string(42);
        assert_eq!(id.len(), 16);
        assert!(!id.is_heap_allocated());
    }

    #[test]
    fn python_without_an_interpreter_is_a_clear_config_error() {
        // What a machine without Python sees (EDGESIM_PYTHON pointing nowhere does the same).
        let errors = crate::python::CPythonEngine::load_with_interpreter(
            "h.py",
            "def lambda_handler(e, c): return e",
            crate::python::DEFAULT_HANDLER,
            None,
            &ExecutionModel::lambda_defaults(Stage::ViewerRequest),
            std::path::Path::new("/nonexistent/python3"),
        )
        .err()
        .unwrap();
        assert!(
            errors[0]
                .message
                .contains("cannot start the Python interpreter `/nonexistent/python3`"),
            "{errors:?}"
        );
        assert!(errors[0].message.contains("EDGESIM_PYTHON"), "{errors:?}");
    }
}
