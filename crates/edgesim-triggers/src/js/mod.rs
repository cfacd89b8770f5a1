//! The JavaScript engine: QuickJS (via rquickjs) with a Node.js-like environment, running
//! unmodified AWS-style handlers deterministically.
//!
//! One runtime and context per function, reused between invocations. The event is built from
//! Rust as JS objects (no JSON text); results are read back field by field and compared with
//! what went in, so an unchanged header map costs no allocation. Work is counted with the
//! interrupt handler (see [`crate::script::CostModel`]); `Date`, `Math.random` and timers are
//! driven by simulated time and the per-request seed.

mod convert;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rquickjs::context::EvalOptions;
use rquickjs::function::Args;
use rquickjs::{
    CatchResultExt, CaughtError, Context, Ctx, Function, Module, Object, Runtime, Value,
};

use crate::config::ConfigError;
use crate::headers::Str;
use crate::pool::ExecutionModel;
use crate::script::{
    ConsoleCosts, ScriptCall, ScriptEngine, ScriptError, ScriptOutput, ScriptRun, WorkMeter,
};

const PRELUDE: &str = include_str!("prelude.js");

/// Interrupts allowed while loading a module (its top-level code).
const LOAD_INTERRUPT_BUDGET: u64 = 20_000;

/// Native stack QuickJS may use for JS recursion.
const MAX_STACK_BYTES: usize = 512 * 1024;

/// Counts interrupt-handler calls (weighted: see [`REGEX_INTERRUPT_WEIGHT`]), plus work charged
/// in the same unit by the event loop (jobs) and the prelude (console output); trips when the
/// budget is exceeded.
#[derive(Default)]
struct InterruptMeter {
    count: AtomicU64,
    charged: AtomicU64,
    budget: AtomicU64,
    /// Depth of `RegExp.prototype.exec` calls in progress: an interrupt raised meanwhile comes
    /// from the regex engine (every 10,000 backtracking steps), which takes several times longer
    /// than 10,000 bytecode ticks.
    in_regex: AtomicU64,
}

/// What one interrupt of the regex engine counts for, in interrupts of bytecode: measured here,
/// 10,000 backtracking steps of `/(a+)+$/` take about 4.5x as long as 10,000 ticks of plain
/// bytecode.
const REGEX_INTERRUPT_WEIGHT: u64 = 4;

impl InterruptMeter {
    fn reset(&self, budget: u64) {
        self.count.store(0, Ordering::Relaxed);
        self.charged.store(0, Ordering::Relaxed);
        self.in_regex.store(0, Ordering::Relaxed);
        self.budget.store(budget, Ordering::Relaxed);
    }

    fn tripped(&self) -> bool {
        self.count.load(Ordering::Relaxed) + self.charged.load(Ordering::Relaxed)
            > self.budget.load(Ordering::Relaxed)
    }
}

/// A QuickJS runtime with one loaded handler.
struct Instance {
    // Field order matters: the context must be dropped before its runtime.
    context: Context,
    _runtime: Runtime,
    meter: Arc<InterruptMeter>,
    /// The secret every internal function of the prelude asks for (see [`seal`]).
    token: f64,
    /// The console costs last given to the prelude.
    costs: Option<ConsoleCosts>,
}

/// A JavaScript handler loaded into QuickJS.
pub struct QuickJsEngine {
    path: String,
    source: String,
    export: String,
    memory_mb: u32,
    instance: Instance,
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

/// The prelude's internal object (`invoke`, `runTimer`, ...): frozen, and each of its functions
/// refuses a caller that does not pass the instance's token.
fn internals<'js>(ctx: &Ctx<'js>) -> rquickjs::Result<Object<'js>> {
    ctx.globals().get("__edgesim")
}

/// A secret for one instance: random, never part of any result (the prelude only compares it),
/// so handler code cannot guess it and results stay deterministic. An integer below 2^53, exact
/// as a JavaScript number.
fn new_token() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0x6564_6765_7369_6d00);
    (h.finish() >> 11) as f64 + 1.0
}

/// `file.js:LINE: Name: message` for an exception raised while loading `path`.
fn load_error(ctx: &Ctx<'_>, error: CaughtError<'_>, path: &str, what: &str) -> String {
    match error {
        CaughtError::Exception(e) => {
            let message = e.message().unwrap_or_default();
            let name: String = e
                .as_object()
                .get("name")
                .unwrap_or_else(|_| "Error".to_string());
            let stack = e.stack().unwrap_or_default();
            let line = stack
                .lines()
                .filter_map(|l| l.trim().strip_prefix("at "))
                .filter_map(|l| {
                    l.rsplit_once(&format!("{path}:"))
                        .map(|(_, rest)| rest.to_string())
                })
                .next()
                .or_else(|| {
                    let file: Option<String> = e.as_object().get("fileName").ok();
                    let line: Option<i32> = e.as_object().get("lineNumber").ok();
                    match (file, line) {
                        (Some(f), Some(l)) if f == path => Some(l.to_string()),
                        _ => None,
                    }
                })
                .map(|l| {
                    l.trim_end_matches(')')
                        .split(':')
                        .next()
                        .unwrap_or("")
                        .to_string()
                });
            let _ = ctx;
            match line {
                Some(line) if !line.is_empty() => {
                    format!("{path}:{line}: {what}: {name}: {message}")
                }
                _ => format!("{path}: {what}: {name}: {message}"),
            }
        }
        CaughtError::Value(v) => format!("{path}: {what}: thrown {}", describe_value(&v)),
        CaughtError::Error(e) => format!("{path}: {what}: {e}"),
    }
}

fn describe_value(v: &Value<'_>) -> String {
    v.as_string()
        .and_then(|s| s.to_string().ok())
        .unwrap_or_else(|| format!("{v:?}"))
}

/// Does the source use ES module syntax (`export const handler = ...`)?
fn looks_like_es_module(source: &str) -> bool {
    source.lines().any(|line| {
        let l = line.trim_start();
        l.starts_with("export ")
            || l.starts_with("export{")
            || (l.starts_with("import ") && l.contains(" from "))
    })
}

impl Instance {
    fn new(path: &str, source: &str, export: &str, memory_mb: u32) -> Result<Instance, String> {
        let runtime = Runtime::new().map_err(|e| format!("cannot start QuickJS: {e}"))?;
        runtime.set_memory_limit(memory_mb as usize * 1024 * 1024);
        runtime.set_max_stack_size(MAX_STACK_BYTES);
        let meter = Arc::new(InterruptMeter::default());
        meter.reset(LOAD_INTERRUPT_BUDGET);
        let counter = Arc::clone(&meter);
        runtime.set_interrupt_handler(Some(Box::new(move || {
            let weight = if counter.in_regex.load(Ordering::Relaxed) > 0 {
                REGEX_INTERRUPT_WEIGHT
            } else {
                1
            };
            counter.count.fetch_add(weight, Ordering::Relaxed);
            counter.tripped()
        })));
        let context =
            Context::full(&runtime).map_err(|e| format!("cannot create a QuickJS context: {e}"))?;
        let token = new_token();
        let loaded = context.with(|ctx| -> Result<(), String> {
            let globals = ctx.globals();
            let hash = Function::new(ctx.clone(), host_hash).map_err(|e| e.to_string())?;
            globals.set("__edgesim_hash", hash).map_err(|e| e.to_string())?;
            let charged = Arc::clone(&meter);
            let charge = Function::new(ctx.clone(), move |units: f64| {
                charged.charged.fetch_add(units as u64, Ordering::Relaxed);
                charged.tripped()
            })
            .map_err(|e| e.to_string())?;
            globals.set("__edgesim_charge", charge).map_err(|e| e.to_string())?;
            let regex = Arc::clone(&meter);
            let in_regex = Function::new(ctx.clone(), move |entering: bool| {
                if entering {
                    regex.in_regex.fetch_add(1, Ordering::Relaxed);
                } else {
                    let _ = regex.in_regex.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |d| {
                        d.checked_sub(1)
                    });
                }
            })
            .map_err(|e| e.to_string())?;
            globals.set("__edgesim_regex", in_regex).map_err(|e| e.to_string())?;
            let mut options = EvalOptions::default();
            options.strict = false;
            options.filename = Some("edgesim:prelude".to_string());
            ctx.eval_with_options::<(), _>(PRELUDE, options)
                .catch(&ctx)
                .map_err(|e| load_error(&ctx, e, "edgesim:prelude", "prelude failed"))?;
            globals.remove("__edgesim_hash").map_err(|e| e.to_string())?;
            globals.remove("__edgesim_charge").map_err(|e| e.to_string())?;
            globals.remove("__edgesim_regex").map_err(|e| e.to_string())?;
            let es = internals(&ctx).map_err(|e| e.to_string())?;
            es.get::<_, Function>("seal")
                .and_then(|f| f.call::<_, ()>((token,)))
                .map_err(|e| e.to_string())?;
            let name = path.rsplit('/').next().unwrap_or(path).trim_end_matches(".js").trim_end_matches(".mjs");
            let set_function: Function = es.get("setFunction").map_err(|e| e.to_string())?;
            set_function.call::<_, ()>((token, name, memory_mb, "us-east-1")).map_err(|e| e.to_string())?;

            let exports: Value = if looks_like_es_module(source) {
                let declared = Module::declare(ctx.clone(), path, source)
                    .catch(&ctx)
                    .map_err(|e| load_error(&ctx, e, path, "cannot load"))?;
                let (module, promise) = declared.eval().catch(&ctx).map_err(|e| load_error(&ctx, e, path, "cannot load"))?;
                promise.finish::<()>().catch(&ctx).map_err(|e| load_error(&ctx, e, path, "module initialization failed"))?;
                module.namespace().map_err(|e| e.to_string())?.into_value()
            } else {
                // CommonJS as Node wraps it: the prefix sits on the first line so line numbers match.
                let wrapped = format!("(function (exports, require, module, __filename, __dirname) {{{source}\n}})");
                let mut options = EvalOptions::default();
                options.strict = false;
                options.filename = Some(path.to_string());
                let wrapper: Function =
                    ctx.eval_with_options(wrapped, options).catch(&ctx).map_err(|e| load_error(&ctx, e, path, "cannot load"))?;
                let module = Object::new(ctx.clone()).map_err(|e| e.to_string())?;
                let exports = Object::new(ctx.clone()).map_err(|e| e.to_string())?;
                module.set("exports", exports.clone()).map_err(|e| e.to_string())?;
                let require: Function = es.get("require").map_err(|e| e.to_string())?;
                let dir = path.rsplit_once('/').map_or(".", |(d, _)| d);
                wrapper
                    .call::<_, ()>((exports, require, module.clone(), path, dir))
                    .catch(&ctx)
                    .map_err(|e| load_error(&ctx, e, path, "module initialization failed"))?;
                module.get("exports").map_err(|e| e.to_string())?
            };
            let handler: Value = exports.as_object().and_then(|o| o.get(export).ok()).unwrap_or_else(|| Value::new_undefined(ctx.clone()));
            if !handler.is_function() {
                return Err(format!(
                    "{path}: does not export a function `{export}` (write `exports.{export} = (event, context, callback) => {{ ... }}`)"
                ));
            }
            es.get::<_, Function>("setHandler")
                .and_then(|f| f.call::<_, ()>((token, handler)))
                .map_err(|e| e.to_string())?;
            Ok(())
        });
        if meter.tripped() {
            return Err(format!(
                "{path}: module initialization did not finish within its budget of {LOAD_INTERRUPT_BUDGET} interrupts (infinite loop?)"
            ));
        }
        loaded?;
        Ok(Instance {
            token,
            costs: None,
            context,
            _runtime: runtime,
            meter,
        })
    }
}

impl QuickJsEngine {
    /// Load `source` (shown as `path` in messages) and check that it exports `export`.
    pub fn load(
        path: &str,
        source: &str,
        export: &str,
        model: &ExecutionModel,
    ) -> Result<Self, Vec<ConfigError>> {
        let instance = Instance::new(path, source, export, model.memory_mb)
            .map_err(|m| vec![ConfigError::new("js", m)])?;
        Ok(QuickJsEngine {
            path: path.to_string(),
            source: source.to_string(),
            export: export.to_string(),
            memory_mb: model.memory_mb,
            instance,
        })
    }
}

/// What went wrong, from an rquickjs error raised while running the handler.
fn classify<'js>(
    ctx: &Ctx<'js>,
    es: &Object<'js>,
    meter: &InterruptMeter,
    error: rquickjs::Error,
) -> ScriptError {
    if meter.tripped() {
        return ScriptError::Timeout;
    }
    match error {
        rquickjs::Error::Exception => {
            let thrown = ctx.catch();
            if thrown.is_uncatchable_error() && meter.tripped() {
                return ScriptError::Timeout;
            }
            classify_value(es, thrown)
        }
        rquickjs::Error::Allocation => ScriptError::OutOfMemory,
        other => ScriptError::Exception(other.to_string()),
    }
}

fn classify_value<'js>(es: &Object<'js>, value: Value<'js>) -> ScriptError {
    let text = es
        .get::<_, Function>("describe")
        .and_then(|f| f.call::<_, String>((value,)))
        .unwrap_or_else(|_| "InternalError: out of memory".to_string());
    if text == "InternalError: out of memory" {
        ScriptError::OutOfMemory
    } else {
        ScriptError::Exception(text)
    }
}

impl ScriptEngine for QuickJsEngine {
    fn run(&mut self, call: &ScriptCall<'_>) -> ScriptRun {
        let meter = Arc::clone(&self.instance.meter);
        meter.reset(call.interrupt_budget);
        let mut work = WorkMeter::default();
        let mut logs = Vec::new();
        let timers_ran = std::cell::Cell::new(false);
        let token = self.instance.token;
        let costs = &mut self.instance.costs;
        let outcome = self.instance.context.with(|ctx| {
            let es: Object = match internals(&ctx) {
                Ok(es) => es,
                Err(e) => {
                    return Err(ScriptError::Exception(format!(
                        "edgesim runtime missing: {e}"
                    )));
                }
            };
            if *costs != Some(call.console) {
                let c = call.console;
                es.get::<_, Function>("setCosts")
                    .and_then(|f| {
                        f.call::<_, ()>((
                            token,
                            c.us_per_line as f64,
                            c.ns_per_char as f64,
                            c.us_per_interrupt.max(1) as f64,
                        ))
                    })
                    .map_err(|e| ScriptError::Exception(format!("edgesim runtime: {e}")))?;
                *costs = Some(c);
            }
            let sink = match rquickjs::Array::new(ctx.clone()) {
                Ok(sink) => sink,
                Err(e) => return Err(ScriptError::Exception(format!("edgesim runtime: {e}"))),
            };
            let result = run_in(
                &ctx,
                &es,
                token,
                &sink,
                call,
                &meter,
                &mut work,
                &timers_ran,
            );
            if !sink.is_empty() {
                logs = sink.iter::<String>().filter_map(Result::ok).collect();
                if let Ok(stats) = es
                    .get::<_, Function>("logStats")
                    .and_then(|f| f.call::<_, Vec<f64>>((token,)))
                    && let [written, chars, dropped] = stats[..]
                {
                    work.log_lines = written as u64;
                    work.log_bytes = chars as u64;
                    work.log_dropped = dropped as u64;
                }
            }
            // Simulated time only moves when a timer runs.
            if timers_ran.get()
                && let Ok(virtual_ms) = es
                    .get::<_, Function>("virtualMs")
                    .and_then(|f| f.call::<_, f64>((token,)))
            {
                work.timer_wait_us = (virtual_ms * 1_000.0) as u64;
            }
            result
        });
        work.interrupts = meter.count.load(Ordering::Relaxed);
        if work.log_dropped > 0 {
            logs.push(crate::script::truncation_line(&work));
        }
        ScriptRun {
            outcome,
            work,
            logs,
        }
    }

    fn restart(&mut self) -> Result<(), String> {
        self.instance = Instance::new(&self.path, &self.source, &self.export, self.memory_mb)?;
        Ok(())
    }
}

/// Runs one invocation; its console lines go to `sink`, whatever the outcome.
#[allow(clippy::too_many_arguments)]
fn run_in<'js>(
    ctx: &Ctx<'js>,
    es: &Object<'js>,
    token: f64,
    sink: &rquickjs::Array<'js>,
    call: &ScriptCall<'_>,
    meter: &InterruptMeter,
    work: &mut WorkMeter,
    timers_ran: &std::cell::Cell<bool>,
) -> Result<ScriptOutput, ScriptError> {
    let fail = |e: rquickjs::Error| classify(ctx, es, meter, e);
    let invoke: Function = es.get("invoke").map_err(fail)?;
    let now_ms = (call.now_us / 1_000) as f64;
    let (hi, lo) = ((call.seed >> 32) as u32 as i32, call.seed as u32 as i32);
    let timeout_ms = (call.timeout_us / 1_000) as f64;
    let header_args = convert::header_args(&call.request.headers)
        + call
            .response
            .map_or(0, |r| convert::header_args(&r.headers));
    let mut args = Args::new(ctx.clone(), 19 + header_args);
    args.push_arg(token).map_err(fail)?;
    args.push_arg(sink.clone()).map_err(fail)?;
    args.push_arg(now_ms).map_err(fail)?;
    args.push_arg(hi).map_err(fail)?;
    args.push_arg(lo).map_err(fail)?;
    args.push_arg(timeout_ms).map_err(fail)?;
    args.push_arg(call.request_id).map_err(fail)?;
    let made =
        convert::push_event_args(ctx, &mut args, call, &mut work.marshal_bytes).map_err(fail)?;
    let state: Object = args.apply(&invoke).map_err(fail)?;
    // Node's event loop: all microtasks first, then the earliest timer. An answer is delivered
    // only once the microtask queue is empty (a handler that answers but keeps queueing
    // microtasks runs out of budget), and an answer given through the callback also waits for
    // pending timers unless the handler opted out (see `mustWait` in the prelude). Every job and
    // timer runs inside the interrupt budget.
    let mut run_timer: Option<Function> = None;
    loop {
        while ctx.execute_pending_job() {
            work.jobs += 1;
            if work.jobs.is_multiple_of(crate::script::JOBS_PER_INTERRUPT) {
                meter.charged.fetch_add(1, Ordering::Relaxed);
            }
            if meter.tripped() {
                return Err(ScriptError::Timeout);
            }
        }
        if meter.tripped() {
            return Err(ScriptError::Timeout);
        }
        if state.get::<_, bool>("done").map_err(fail)? {
            // Only an answer through the callback with timers pending may have to wait.
            if !state.get::<_, bool>("wait").map_err(fail)?
                || !es
                    .get::<_, Function>("mustWait")
                    .and_then(|f| f.call::<_, bool>((token,)))
                    .map_err(fail)?
            {
                break;
            }
        }
        let run_timer = match &run_timer {
            Some(f) => f,
            None => run_timer.insert(es.get("runTimer").map_err(fail)?),
        };
        timers_ran.set(true);
        let ran: bool = run_timer.call((token,)).map_err(fail)?;
        let virtual_ms: f64 = es
            .get::<_, Function>("virtualMs")
            .and_then(|f| f.call((token,)))
            .map_err(fail)?;
        if virtual_ms * 1_000.0 > call.timeout_us as f64 {
            return Err(ScriptError::Timeout);
        }
        if !ran {
            break;
        }
    }
    if meter.tripped() {
        return Err(ScriptError::Timeout);
    }
    let value: Value = state.get("value").map_err(fail)?;
    if state.get::<_, bool>("failed").map_err(fail)? {
        return Err(classify_value(es, value));
    }
    let done: bool = state.get("done").map_err(fail)?;
    let result = if done {
        convert::read_result(ctx, call, value, &made, &mut work.marshal_bytes)
    } else {
        Err(crate::validate::Violation::new(
            crate::validate::ValidationRule::BadShape,
            "the handler returned without calling the callback or resolving a promise (result: null)",
        ))
    };
    let querystring_after = if call.stage.is_request() {
        None
    } else {
        state
            .get::<_, Object>("request")
            .and_then(|request| request.get::<_, rquickjs::Coerced<String>>("querystring"))
            .ok()
            .map(|s| Str::from(s.0))
    };
    Ok(ScriptOutput {
        result,
        querystring_after,
    })
}

#[cfg(test)]
mod tests;
