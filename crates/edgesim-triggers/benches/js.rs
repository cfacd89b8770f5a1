//! JavaScript handler invocations per second, against the naive JSON round trip.
//!
//! `cargo bench -p edgesim-triggers --bench js`

use std::hint::black_box;
use std::time::Instant;

use edgesim_triggers::{
    Controls, Device, InvokeContext, Os, Request, Stage, StageOutcome, TriggerConfig, Viewer,
    compile,
};
use rquickjs::{Context, Function, Object, Runtime};

/// A typical viewer-request handler: AWS's cookie A/B example shape.
const HANDLER: &str = r#"'use strict';
exports.handler = (event, context, callback) => {
    const request = event.Records[0].cf.request;
    const headers = request.headers;
    let experimentUri;
    if (headers.cookie) {
        for (let i = 0; i < headers.cookie.length; i++) {
            if (headers.cookie[i].value.indexOf('X-Experiment-Name=A') >= 0) { experimentUri = '/experiment-group/control-pixel.jpg'; break; }
            else if (headers.cookie[i].value.indexOf('X-Experiment-Name=B') >= 0) { experimentUri = '/experiment-group/treatment-pixel.jpg'; break; }
        }
    }
    if (!experimentUri) experimentUri = Math.random() < 0.75 ? '/experiment-group/control-pixel.jpg' : '/experiment-group/treatment-pixel.jpg';
    request.uri = experimentUri;
    callback(null, request);
};
"#;

fn request() -> Request {
    let viewer = Viewer {
        country: "DE".into(),
        device: Device::Desktop,
        os: Os::Other,
        viewer_id: 3,
        client_ip: "198.51.100.7".into(),
        location: None,
    };
    let mut r = viewer.request(
        "GET",
        "/experiment-pixel.jpg",
        "d111111abcdef8.cloudfront.net",
    );
    r.headers.set("Accept-Language", "en-US,en;q=0.9");
    r.headers
        .set("Cookie", "session=abc123; X-Experiment-Name=B");
    r
}

/// `EDGESIM_BENCH_ONLY=typical` (any part of a label) runs only the matching runs, for profiling.
fn skip(label: &str) -> bool {
    std::env::var("EDGESIM_BENCH_ONLY").is_ok_and(|only| !label.contains(only.as_str()))
}

fn report(name: &str, n: u64, elapsed_ns: u128) {
    let ns = elapsed_ns as f64 / n as f64;
    println!(
        "{name:<44} {:>9.0} ns/op {:>10.0} invocations/s",
        ns,
        1e9 / ns
    );
}

/// Run `source` `n` times through edgesim's runtime (compile once, invoke repeatedly).
fn edgesim_with(n: u64, source: &'static str, label: &str) {
    if skip(label) {
        return;
    }
    let config = TriggerConfig::js("ab.js");
    let mut h =
        compile(&config, Stage::ViewerRequest, &|_| Ok(source.to_string())).expect("compiles");
    let controls = Controls::new();
    let template = request();
    let mut requests: Vec<Request> = (0..1_000).map(|_| template.clone()).collect();
    let mut elapsed = 0u128;
    let mut batches = Vec::new();
    let mut k = 0u64;
    while k < n {
        for r in requests.iter_mut() {
            r.clone_from(&template);
        }
        let start = Instant::now();
        for r in requests.iter_mut() {
            k += 1;
            let ctx = InvokeContext {
                now_us: k * 1_000,
                region: "eu-central-1",
                pop: "FRA56-C1",
                request_id: k,
                rand: k,
                viewer_id: k,
                controls: &controls,
                viewer_country: "US",
                migration_arm: None,
            };
            let inv = h.invoke(Stage::ViewerRequest, r, None, &ctx);
            assert!(!matches!(inv.outcome, StageOutcome::Failed(_)));
            black_box(inv.duration_us);
        }
        let batch = start.elapsed().as_nanos();
        elapsed += batch;
        batches.push(batch);
    }
    report(label, k, elapsed);
    // The median batch of 1,000: what a call costs when the (shared) machine leaves us alone.
    batches.sort_unstable();
    let median = batches[batches.len() / 2] as f64 / requests.len() as f64;
    println!(
        "{:<44} {median:>9.0} ns/op {:>10.0} invocations/s",
        "  (median batch)",
        1e9 / median
    );
}

/// The approach DESIGN.md measured: event as JSON text parsed in JS, result stringified.
fn naive_json(n: u64) {
    if skip("naive") {
        return;
    }
    let runtime = Runtime::new().unwrap();
    let context = Context::full(&runtime).unwrap();
    context.with(|ctx| {
        let wrapped = format!("(function (exports) {{{HANDLER}\n}})");
        let f: Function = ctx.eval(wrapped).unwrap();
        let exports = Object::new(ctx.clone()).unwrap();
        f.call::<_, ()>((exports.clone(),)).unwrap();
        let h: Function = exports.get("handler").unwrap();
        ctx.globals().set("__h", h).unwrap();
        ctx.eval::<(), _>("globalThis.__call = (ev) => { let out; __h(JSON.parse(ev), {}, (e, r) => { out = r; }); return JSON.stringify(out); };").unwrap();
    });
    let event = edgesim_triggers::CfEvent {
        config: edgesim_triggers::EventConfig::example(Stage::ViewerRequest),
        request: request(),
        response: None,
    };
    let text = event.to_records_json().to_string();
    let start = Instant::now();
    for _ in 0..n {
        context.with(|ctx| {
            let call: Function = ctx.globals().get("__call").unwrap();
            let out: String = call.call((text.as_str(),)).unwrap();
            let back: Request = serde_json::from_str(&out).unwrap();
            black_box(back);
        });
    }
    report(
        "naive JSON text round trip (baseline)",
        n,
        start.elapsed().as_nanos(),
    );
}

fn main() {
    let n = std::env::var("EDGESIM_BENCH_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200_000);
    println!("viewer-request A/B handler, {n} invocations, one core");
    naive_json(n);
    edgesim_with(n, HANDLER, "edgesim: A/B handler (the typical case)");
    edgesim_with(
        n,
        "exports.handler = (e, c, cb) => cb(null, e.Records[0].cf.request);",
        "edgesim: pass-through handler",
    );
    edgesim_with(
        n,
        "exports.handler = (e, c, cb) => cb(null, { status: '204' });",
        "edgesim: generated response (no read-back)",
    );
}
