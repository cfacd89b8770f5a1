//! CloudFront Functions as CloudFront runs them: viewer-request and viewer-response only, at
//! the PoP; their own event and answer shapes; the `cloudfront-js-1.0` and `cloudfront-js-2.0`
//! language levels; KeyValueStore; the limits CloudFront enforces when a function is published
//! (10 KB of code, the runtime's syntax, the store's sizes) and when it runs (2 MB of memory,
//! the compute-utilization budget); no network, file system or timers.
//!
//! The engine is QuickJS (as for Lambda@Edge), with its own environment (`prelude.js`). Each
//! run re-executes the function's top-level code in a fresh scope, so nothing a function keeps
//! in its own variables survives from one request to the next (CloudFront Functions share no
//! state between runs).
//!
//! ## The compute-utilization budget
//!
//! AWS publishes compute utilization only as a percentage of "the maximum allowed time"; the
//! time itself is not published. edgesim takes it to be [`COMPUTE_BUDGET_US`] (1 ms: AWS
//! describes CloudFront Functions as sub-millisecond) and counts it deterministically in
//! QuickJS interrupt intervals (one per 10,000 bytecode calls and backward jumps, the unit the
//! Lambda@Edge engine uses, measured here at about [`US_PER_INTERRUPT`] µs): a run may use
//! [`COMPUTE_BUDGET_INTERRUPTS`] of them. A run over the budget fails like CloudFront's
//! (503, an execution error). QuickJS counts ticks across runs, so a run's first interval is
//! not charged (as for Lambda@Edge), and a function within one interval of the budget may pass
//! or fail depending on the runs before it; everything below that is exact.

pub mod event;
pub mod kvs;
pub mod syntax;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rquickjs::{CatchResultExt, CaughtError, Context, Ctx, Function, Object, Runtime};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::ConfigError;
use crate::event::{Request, Response};
use crate::handler::{
    Failure, FailureKind, Handler, Invocation, InvokeContext, OriginChange, StageOutcome,
};
use crate::script::{Distribution, request_id_string};
use crate::stage::Stage;
use crate::validate::{
    ResponseUpdate, ValidationRule, Violation, check_function_response_update,
    check_generated_response, check_request_update,
};

pub use kvs::KeyValueStore;

const PRELUDE: &str = include_str!("prelude.js");

/// Largest function code CloudFront accepts ("Quotas on CloudFront Functions": 10 KB).
pub const MAX_CODE_BYTES: usize = 10 * 1024;

/// Memory a run may use ("Quotas on CloudFront Functions": 2 MB), on top of what the runtime
/// itself holds before the function's code runs.
pub const MAX_MEMORY_BYTES: usize = 2 * 1024 * 1024;

/// The maximum allowed run time edgesim assumes (AWS does not publish it): 1 ms.
pub const COMPUTE_BUDGET_US: u64 = 1_000;

/// QuickJS interrupt interval (10,000 ticks) in µs on the machine edgesim was calibrated on.
pub const US_PER_INTERRUPT: u64 = 30;

/// Interrupt intervals a run may use: [`COMPUTE_BUDGET_US`] / [`US_PER_INTERRUPT`].
pub const COMPUTE_BUDGET_INTERRUPTS: u64 = COMPUTE_BUDGET_US / US_PER_INTERRUPT;

/// Fixed simulated cost of a run (CloudFront's invoke path), µs.
pub const RUN_OVERHEAD_US: u64 = 10;

/// Interrupt intervals the function's top-level code may use when it is published.
const PUBLISH_BUDGET_INTERRUPTS: u64 = COMPUTE_BUDGET_INTERRUPTS * 10;

/// Promise jobs that count as one interrupt interval (as for Lambda@Edge).
const JOBS_PER_INTERRUPT: u64 = 64;

/// Native stack for JS recursion.
const MAX_STACK_BYTES: usize = 256 * 1024;

/// A CloudFront Functions runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum CffRuntime {
    /// `cloudfront-js-1.0`: ES 5.1 and some later features, njs byte strings.
    #[serde(rename = "cloudfront-js-1.0")]
    Js1,
    /// `cloudfront-js-2.0`: const/let, async/await, Buffer, the `cloudfront` module.
    #[default]
    #[serde(rename = "cloudfront-js-2.0")]
    Js2,
}

impl CffRuntime {
    /// CloudFront's name for the runtime.
    pub fn as_str(self) -> &'static str {
        match self {
            CffRuntime::Js1 => "cloudfront-js-1.0",
            CffRuntime::Js2 => "cloudfront-js-2.0",
        }
    }
}

impl fmt::Display for CffRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CffRuntime {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "cloudfront-js-1.0" => Ok(CffRuntime::Js1),
            "cloudfront-js-2.0" => Ok(CffRuntime::Js2),
            other => Err(format!(
                "`{other}` is not a CloudFront Functions runtime: expected cloudfront-js-1.0 or cloudfront-js-2.0"
            )),
        }
    }
}

/// A CloudFront Function as a scenario names it:
/// `viewer_request = { cff = "triggers/redirect.js", runtime = "cloudfront-js-2.0", kvs = "triggers/redirects.json" }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CffConfig {
    /// The function's code (a `function handler(event)` at the top level).
    pub path: String,
    /// The runtime (default `cloudfront-js-2.0`).
    #[serde(default)]
    pub runtime: CffRuntime,
    /// A JSON file holding the associated KeyValueStore (runtime 2.0 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kvs: Option<String>,
}

/// Counts interrupts (and charged promise jobs) against the run's budget.
#[derive(Default)]
struct Meter {
    count: AtomicU64,
    budget: AtomicU64,
}

impl Meter {
    fn reset(&self, budget: u64) {
        self.count.store(0, Ordering::Relaxed);
        self.budget.store(budget, Ordering::Relaxed);
    }

    fn used(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    fn tripped(&self) -> bool {
        self.used() > self.budget.load(Ordering::Relaxed)
    }
}

/// The function loaded into QuickJS.
struct Engine {
    // Field order matters: the context goes before its runtime.
    context: Context,
    runtime: Runtime,
    meter: Arc<Meter>,
    /// The secret the prelude's entry points ask for: random, never part of a result.
    token: f64,
}

/// A secret for one engine (an integer below 2^53, exact as a JavaScript number).
fn new_token() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0x6366_6673_696d_0001);
    (h.finish() >> 11) as f64 + 1.0
}

fn api<'js>(ctx: &Ctx<'js>) -> rquickjs::Result<Object<'js>> {
    ctx.globals().get("__edgesim_cff")
}

fn host_hash(algorithm: String, key: Option<String>, data: String) -> rquickjs::Result<String> {
    let bytes = |s: &str| s.chars().map(|c| c as u32 as u8).collect::<Vec<u8>>();
    let data = bytes(&data);
    let digest = match key {
        None => crate::digest::hash(&algorithm, &data),
        Some(key) => crate::digest::hmac(&algorithm, &bytes(&key), &data),
    };
    digest
        .map(|d| d.iter().map(|b| format!("{b:02x}")).collect())
        .ok_or_else(|| {
            rquickjs::Error::new_from_js_message(
                "string",
                "digest",
                format!("Digest method not supported: {algorithm}"),
            )
        })
}

/// `import x from 'cloudfront'` (and the other importable modules) as the wrapper's variables,
/// on the same line so that line numbers match.
fn rewrite_imports(source: &str) -> String {
    let mut out = String::with_capacity(source.len() + 64);
    for line in source.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let rewritten = trimmed.strip_prefix("import ").and_then(|rest| {
            let (name, rest) = rest.trim_start().split_once(char::is_whitespace)?;
            let rest = rest.trim_start().strip_prefix("from")?.trim_start();
            let quote = rest.chars().next().filter(|q| *q == '\'' || *q == '"')?;
            let (module, tail) = rest[1..].split_once(quote)?;
            let tail = tail.trim_start().strip_prefix(';').unwrap_or(tail);
            Some(if module == "cloudfront" {
                format!("var {name} = __cloudfront;{tail}")
            } else {
                format!("var {name} = require('{module}');{tail}")
            })
        });
        match rewritten {
            Some(r) => {
                out.push_str(&line[..line.len() - trimmed.len()]);
                out.push_str(&r);
                if line.ends_with('\n') && !r.ends_with('\n') {
                    out.push('\n');
                }
            }
            None => out.push_str(line),
        }
    }
    out
}

/// `path:LINE: what: Name: message` for an exception while loading.
fn load_error(error: CaughtError<'_>, path: &str, what: &str) -> String {
    match error {
        CaughtError::Exception(e) => {
            let line: Option<i32> = e.as_object().get("lineNumber").ok();
            let name: String = e
                .as_object()
                .get("name")
                .unwrap_or_else(|_| "Error".to_string());
            let message = e.message().unwrap_or_default();
            match line {
                Some(l) if l > 0 => format!("{path}:{l}: {what}: {name}: {message}"),
                _ => format!("{path}: {what}: {name}: {message}"),
            }
        }
        CaughtError::Value(v) => format!("{path}: {what}: thrown {v:?}"),
        CaughtError::Error(e) => format!("{path}: {what}: {e}"),
    }
}

impl Engine {
    fn load(
        path: &str,
        source: &str,
        runtime_level: CffRuntime,
        store: Option<&KeyValueStore>,
    ) -> Result<Engine, String> {
        let runtime = Runtime::new().map_err(|e| format!("cannot start QuickJS: {e}"))?;
        runtime.set_max_stack_size(MAX_STACK_BYTES);
        let meter = Arc::new(Meter::default());
        meter.reset(PUBLISH_BUDGET_INTERRUPTS);
        let counter = Arc::clone(&meter);
        runtime.set_interrupt_handler(Some(Box::new(move || {
            counter.count.fetch_add(1, Ordering::Relaxed);
            counter.tripped()
        })));
        let context =
            Context::full(&runtime).map_err(|e| format!("cannot create a QuickJS context: {e}"))?;
        let token = new_token();
        let loaded = context.with(|ctx| -> Result<_, String> {
            let js = |e: rquickjs::Error| e.to_string();
            let prelude: Function = ctx
                .eval(PRELUDE)
                .catch(&ctx)
                .map_err(|e| load_error(e, "edgesim:cff-prelude", "prelude failed"))?;
            let (get, exists, meta) = {
                let s1 = store.cloned();
                let s2 = store.cloned();
                let s3 = store.cloned();
                (
                    Function::new(ctx.clone(), move |key: String| {
                        s1.as_ref().and_then(|s| s.get(&key).map(str::to_string))
                    })
                    .map_err(js)?,
                    Function::new(ctx.clone(), move |key: String| {
                        s2.as_ref().is_some_and(|s| s.exists(&key))
                    })
                    .map_err(js)?,
                    Function::new(ctx.clone(), move || {
                        let keys = s3.as_ref().map_or(0, |s| {
                            s.count_read();
                            s.len()
                        });
                        serde_json::json!({
                            "creationDateTime": "1970-01-01T00:00:00.000Z",
                            "lastUpdatedDateTime": "1970-01-01T00:00:00.000Z",
                            "keyCount": keys,
                        })
                        .to_string()
                    })
                    .map_err(js)?,
                )
            };
            let hash = Function::new(ctx.clone(), host_hash).map_err(js)?;
            prelude
                .call::<_, ()>((
                    ctx.globals(),
                    hash,
                    get,
                    exists,
                    meta,
                    store.is_some(),
                    runtime_level == CffRuntime::Js2,
                ))
                .catch(&ctx)
                .map_err(|e| load_error(e, "edgesim:cff-prelude", "prelude failed"))?;
            let api = api(&ctx).map_err(js)?;
            api.get::<_, Function>("seal")
                .and_then(|f| f.call::<_, ()>((token,)))
                .map_err(js)?;
            let wrapped = format!(
                "(function (require, __cloudfront) {{ 'use strict'; {}\n; return typeof handler === 'function' ? handler : undefined; }})",
                rewrite_imports(source)
            );
            let mut options = rquickjs::context::EvalOptions::default();
            options.strict = true;
            options.filename = Some(path.to_string());
            let wrapper: Function = ctx
                .eval_with_options(wrapped, options)
                .catch(&ctx)
                .map_err(|e| load_error(e, path, "cannot load"))?;
            let require: Function = api.get("require").map_err(js)?;
            let cloudfront: rquickjs::Value = api.get("cloudfront").map_err(js)?;
            let handler: rquickjs::Value = wrapper
                .call((require, cloudfront))
                .catch(&ctx)
                .map_err(|e| load_error(e, path, "top-level code failed"))?;
            if !handler.is_function() {
                return Err(format!(
                    "{path}: does not define `function handler(event)` at the top level (CloudFront Functions call `handler`)"
                ));
            }
            api.get::<_, Function>("setWrapper")
                .and_then(|f| f.call::<_, ()>((token, wrapper)))
                .map_err(js)?;
            Ok(())
        });
        if meter.tripped() {
            return Err(format!(
                "{path}: the function's top-level code did not finish within {PUBLISH_BUDGET_INTERRUPTS} interrupt intervals"
            ));
        }
        loaded?;
        runtime.run_gc();
        let baseline = usize::try_from(runtime.memory_usage().malloc_size).unwrap_or(0);
        runtime.set_memory_limit(baseline + MAX_MEMORY_BYTES);
        Ok(Engine {
            token,
            context,
            runtime,
            meter,
        })
    }
}

/// What one run of the engine produced.
struct RawRun {
    /// The answer (`finish`'s JSON), or a failure.
    answer: Result<Value, FailureKind>,
    /// Message for a failure.
    message: String,
    interrupts: u64,
    jobs: u64,
}

impl Engine {
    fn run(&mut self, event: &str, now_ms: f64, seed: u64, stage: Stage) -> RawRun {
        self.meter.reset(COMPUTE_BUDGET_INTERRUPTS);
        let meter = Arc::clone(&self.meter);
        let mut jobs = 0u64;
        let token = self.token;
        let result = self
            .context
            .with(|ctx| -> Result<Value, (FailureKind, String)> {
                let fail = |ctx: &Ctx<'_>, e: rquickjs::Error| -> (FailureKind, String) {
                    if meter.tripped() {
                        return (FailureKind::Timeout, String::new());
                    }
                    match e {
                        rquickjs::Error::Allocation => (FailureKind::OutOfMemory, String::new()),
                        rquickjs::Error::Exception => {
                            let thrown = ctx.catch();
                            let text = thrown
                                .as_exception()
                                .map(|x| {
                                    format!(
                                        "{}: {}",
                                        x.as_object()
                                            .get::<_, String>("name")
                                            .unwrap_or_else(|_| "Error".into()),
                                        x.message().unwrap_or_default()
                                    )
                                })
                                .unwrap_or_else(|| format!("{thrown:?}"));
                            if text.contains("out of memory") {
                                (FailureKind::OutOfMemory, text)
                            } else {
                                (FailureKind::Exception, text)
                            }
                        }
                        other => (FailureKind::Exception, other.to_string()),
                    }
                };
                let api = api(&ctx).map_err(|e| fail(&ctx, e))?;
                let run: Function = api.get("run").map_err(|e| fail(&ctx, e))?;
                let (hi, lo) = ((seed >> 32) as u32 as i32, seed as u32 as i32);
                let state: Object = run
                    .call((token, event, now_ms, hi, lo, stage.as_str()))
                    .map_err(|e| fail(&ctx, e))?;
                while ctx.execute_pending_job() {
                    jobs += 1;
                    if jobs.is_multiple_of(JOBS_PER_INTERRUPT) {
                        meter.count.fetch_add(1, Ordering::Relaxed);
                    }
                    if meter.tripped() {
                        return Err((FailureKind::Timeout, String::new()));
                    }
                }
                let finish: Function = api.get("finish").map_err(|e| fail(&ctx, e))?;
                let text: String = finish.call((token, state)).map_err(|e| fail(&ctx, e))?;
                serde_json::from_str(&text)
                    .map_err(|e| (FailureKind::Exception, format!("edgesim: bad answer: {e}")))
            });
        // Whatever the run left behind is garbage now: collect it so the next run starts
        // from the same heap (memory failures must not depend on earlier runs).
        self.runtime.run_gc();
        let interrupts = self.meter.used();
        match result {
            _ if self.meter.tripped() => RawRun {
                answer: Err(FailureKind::Timeout),
                message: String::new(),
                interrupts,
                jobs,
            },
            Ok(v) => RawRun {
                answer: Ok(v),
                message: String::new(),
                interrupts,
                jobs,
            },
            Err((kind, message)) => RawRun {
                answer: Err(kind),
                message,
                interrupts,
                jobs,
            },
        }
    }
}

/// A published CloudFront Function, ready to run at its stage.
pub struct CloudFrontFunction {
    path: String,
    runtime: CffRuntime,
    store: Option<KeyValueStore>,
    engine: Engine,
    distribution: Distribution,
}

/// The stages CloudFront Functions can be associated with.
pub fn check_stage(stage: Stage) -> Result<(), String> {
    if stage.is_viewer() {
        Ok(())
    } else {
        Err(format!(
            "CloudFront Functions run at viewer-request and viewer-response only, not {stage} (use Lambda@Edge there)"
        ))
    }
}

impl CloudFrontFunction {
    /// Publish `source` (named `path`) for `stage` as CloudFront does, reporting every problem:
    /// the stage, the code size, the runtime's syntax, the store (`kvs`: its name and text) and
    /// whether the code loads and defines `handler`.
    pub fn publish(
        path: &str,
        source: &str,
        runtime: CffRuntime,
        kvs: Option<(&str, &str)>,
        stage: Stage,
    ) -> Result<CloudFrontFunction, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let err = |m: String| ConfigError::new("cff", m);
        if let Err(m) = check_stage(stage) {
            errors.push(err(m));
        }
        if source.len() > MAX_CODE_BYTES {
            errors.push(err(format!(
                "`{path}` is {} bytes; a CloudFront Function may be at most {MAX_CODE_BYTES} bytes (10 KB)",
                source.len()
            )));
        }
        for problem in syntax::check(source, runtime) {
            errors.push(err(format!("{path}: {problem}")));
        }
        let store = match kvs {
            None => None,
            Some(_) if runtime == CffRuntime::Js1 => {
                errors.push(ConfigError::new(
                    "kvs",
                    "a KeyValueStore needs runtime cloudfront-js-2.0",
                ));
                None
            }
            Some((name, text)) => match KeyValueStore::parse(name, text) {
                Ok(store) => Some(store),
                Err(problems) => {
                    errors.extend(problems.into_iter().map(|m| ConfigError::new("kvs", m)));
                    None
                }
            },
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        let engine =
            Engine::load(path, source, runtime, store.as_ref()).map_err(|m| vec![err(m)])?;
        Ok(CloudFrontFunction {
            path: path.to_string(),
            runtime,
            store,
            engine,
            distribution: Distribution::default(),
        })
    }

    /// The runtime it was published for.
    pub fn runtime(&self) -> CffRuntime {
        self.runtime
    }

    /// KeyValueStore reads over every run so far.
    pub fn kvs_reads(&self) -> u64 {
        self.store.as_ref().map_or(0, KeyValueStore::reads)
    }
}

fn invalid(violation: Violation) -> StageOutcome {
    StageOutcome::Failed(Failure::new(
        FailureKind::Invalid {
            rule: violation.rule,
        },
        format!("FunctionValidationError: {violation}"),
    ))
}

fn shape(message: impl Into<String>) -> Violation {
    Violation::new(ValidationRule::BadShape, message)
}

fn u16_list(value: Option<&Value>) -> Vec<u16> {
    value
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_u64().and_then(|n| u16::try_from(n).ok()))
                .collect()
        })
        .unwrap_or_default()
}

/// The origin change the run recorded, checked against the helpers' documented ranges.
fn origin_change(recorded: &Value) -> Result<Option<OriginChange>, Violation> {
    let Some(kind) = recorded.get("kind").and_then(Value::as_str) else {
        return Ok(None);
    };
    let params = recorded.get("params").cloned().unwrap_or(Value::Null);
    let text = |k: &str| params.get(k).and_then(Value::as_str).map(str::to_string);
    match kind {
        "select" => Ok(Some(OriginChange::Select {
            origin_id: recorded
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
        })),
        "group" => {
            let ids: Vec<String> = params
                .get("originIds")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            let [primary, secondary] = ids.as_slice() else {
                return Err(shape(
                    "createRequestOriginGroup: originIds must be two origin ids",
                ));
            };
            Ok(Some(OriginChange::Group {
                primary: primary.clone(),
                secondary: secondary.clone(),
                failover_status_codes: u16_list(
                    params
                        .get("failoverCriteria")
                        .and_then(|f| f.get("statusCodes")),
                ),
            }))
        }
        _ => {
            if let Some(path) = text("originPath")
                && !path.is_empty()
                && !path.starts_with('/')
            {
                return Err(shape(format!(
                    "updateRequestOrigin: originPath `{path}` must start with `/`"
                )));
            }
            if params.get("domainName").is_some_and(|d| !d.is_string()) {
                return Err(shape("updateRequestOrigin: domainName must be a string"));
            }
            let in_range = |v: Option<&Value>, lo: u64, hi: u64| {
                v.is_none_or(|v| v.as_u64().is_some_and(|n| (lo..=hi).contains(&n)))
            };
            if !in_range(params.get("connectionAttempts"), 1, 3) {
                return Err(shape("updateRequestOrigin: connectionAttempts must be 1-3"));
            }
            let timeouts = params.get("timeouts");
            for (name, hi) in [
                ("readTimeout", 60),
                ("keepAliveTimeout", 60),
                ("connectionTimeout", 10),
            ] {
                if !in_range(timeouts.and_then(|t| t.get(name)), 1, hi) {
                    return Err(shape(format!(
                        "updateRequestOrigin: timeouts.{name} must be 1-{hi} seconds"
                    )));
                }
            }
            Ok(Some(OriginChange::Update {
                domain_name: text("domainName"),
                origin_path: text("originPath"),
                params,
            }))
        }
    }
}

impl CloudFrontFunction {
    /// Read the function's answer and apply it as CloudFront would.
    fn accept(
        &self,
        stage: Stage,
        answer: &Value,
        request: &mut Request,
        response: Option<&mut Response>,
    ) -> Result<(StageOutcome, Option<OriginChange>), Violation> {
        if answer.get("thenable") == Some(&Value::Bool(true)) && self.runtime == CffRuntime::Js1 {
            return Err(shape(
                "the handler returned a promise: cloudfront-js-1.0 functions must return synchronously (async needs cloudfront-js-2.0)",
            ));
        }
        let result: Value = match answer.get("result").and_then(Value::as_str) {
            Some(text) => serde_json::from_str(text).map_err(|e| shape(format!("result: {e}")))?,
            None => {
                return Err(shape(format!(
                    "the {stage} function returned undefined: return the request or a response"
                )));
            }
        };
        let change = answer
            .get("origin")
            .map(origin_change)
            .transpose()?
            .flatten();
        match stage {
            Stage::ViewerRequest if result.get("statusCode").is_some() => {
                let generated = event::read_response(None, &result)?;
                check_generated_response(stage, &generated)?;
                Ok((StageOutcome::Respond(generated), None))
            }
            Stage::ViewerRequest => {
                let update = event::read_request(request, &result)?;
                check_request_update(stage, request, &update)?;
                update.apply(request);
                Ok((StageOutcome::Continue, change))
            }
            _ => {
                let Some(response) = response else {
                    return Err(shape(format!("no response to update at {stage}")));
                };
                if result.get("statusCode").is_none() {
                    return Err(shape(
                        "a viewer-response function must return the response (an object with statusCode)",
                    ));
                }
                let after = event::read_response(Some(response), &result)?;
                let update = ResponseUpdate::diff(response, &after);
                check_function_response_update(response, &update)?;
                update.apply(response);
                Ok((StageOutcome::Continue, None))
            }
        }
    }
}

impl Handler for CloudFrontFunction {
    fn invoke(
        &mut self,
        stage: Stage,
        request: &mut Request,
        response: Option<&mut Response>,
        ctx: &InvokeContext<'_>,
    ) -> Invocation {
        if let Err(message) = check_stage(stage) {
            let failure = Failure::new(FailureKind::Exception, message);
            return Invocation::with_outcome(StageOutcome::Failed(failure), 0);
        }
        let reads_before = self.kvs_reads();
        let request_id = request_id_string(ctx.request_id);
        let event = event::event_json(
            stage,
            request,
            response.as_deref(),
            &self.distribution,
            &request_id,
        )
        .to_string();
        let raw = self
            .engine
            .run(&event, (ctx.now_us / 1_000) as f64, ctx.rand, stage);
        let charged = raw.interrupts.saturating_sub(1) + raw.jobs / JOBS_PER_INTERRUPT;
        let utilization = (charged * 100).div_ceil(COMPUTE_BUDGET_INTERRUPTS).min(100) as u8;
        let mut logs = Vec::new();
        let (outcome, change) = match raw.answer {
            Err(FailureKind::Timeout) => (
                StageOutcome::Failed(Failure::new(
                    FailureKind::Timeout,
                    format!(
                        "FunctionExecutionError: the function exceeded the maximum allowed compute utilization (over {COMPUTE_BUDGET_INTERRUPTS} interrupt intervals, edgesim's model of {COMPUTE_BUDGET_US} µs)"
                    ),
                )),
                None,
            ),
            Err(FailureKind::OutOfMemory) => (
                StageOutcome::Failed(Failure::new(
                    FailureKind::OutOfMemory,
                    "FunctionExecutionError: the function exceeded its 2 MB of memory",
                )),
                None,
            ),
            Err(kind) => (
                StageOutcome::Failed(Failure::new(
                    kind,
                    format!("FunctionExecutionError: {}", raw.message),
                )),
                None,
            ),
            Ok(answer) => {
                if let Some(lines) = answer.get("logs").and_then(Value::as_array) {
                    logs = lines
                        .iter()
                        .filter_map(|l| l.as_str().map(str::to_string))
                        .collect();
                }
                if answer.get("logTruncated") == Some(&Value::Bool(true)) {
                    logs.push(
                        "EDGESIM\tlogs truncated at 10 KB, as CloudFront truncates them"
                            .to_string(),
                    );
                }
                if answer.get("done") != Some(&Value::Bool(true)) {
                    (
                        StageOutcome::Failed(Failure::new(
                            FailureKind::Exception,
                            "FunctionExecutionError: the handler's promise never settled",
                        )),
                        None,
                    )
                } else if answer.get("failed") == Some(&Value::Bool(true)) {
                    let message = answer
                        .get("error")
                        .and_then(Value::as_str)
                        .unwrap_or("error")
                        .to_string();
                    // QuickJS throws `null` when it cannot even allocate the out-of-memory error.
                    let failure =
                        if message == "InternalError: out of memory" || message == "thrown null" {
                            Failure::new(
                                FailureKind::OutOfMemory,
                                "FunctionExecutionError: the function exceeded its 2 MB of memory",
                            )
                        } else {
                            Failure::new(
                                FailureKind::Exception,
                                format!("FunctionExecutionError: {message}"),
                            )
                        };
                    (StageOutcome::Failed(failure), None)
                } else {
                    match self.accept(stage, &answer, request, response) {
                        Ok(done) => done,
                        Err(violation) => (invalid(violation), None),
                    }
                }
            }
        };
        let duration_us = RUN_OVERHEAD_US
            + charged.min(COMPUTE_BUDGET_INTERRUPTS) * US_PER_INTERRUPT
            + event.len() as u64 / 1_000;
        let log_lines = logs.len() as u64;
        Invocation {
            outcome,
            duration_us,
            logs,
            log_lines,
            log_truncated: false,
            cold_start: false,
            variant: None,
            kvs_reads: u32::try_from(self.kvs_reads() - reads_before).unwrap_or(u32::MAX),
            origin_change: change,
            compute_utilization: Some(utilization),
        }
    }

    fn describe(&self) -> String {
        format!("cff {}", self.path)
    }

    fn runs_at_pop(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests;
