//! Python handler invocations per second (CPython worker, step counting on), beside the
//! JavaScript bench (`benches/js.rs`). The worker and this process take turns; on a shared
//! machine the wall time mostly measures how fast the scheduler hands the core back, so the
//! bench also reports the CPU time both processes spent (Linux `/proc`): invocations per
//! second of one core's CPU.
//!
//! `cargo bench -p edgesim-triggers --bench python` (needs python3, or EDGESIM_PYTHON)

use std::hint::black_box;
use std::time::Instant;

use edgesim_triggers::{
    Controls, Device, InvokeContext, Os, Request, Stage, StageOutcome, TriggerConfig, Viewer,
    compile,
};

/// The typical viewer-request handler of `benches/js.rs`, written in Python.
const HANDLER: &str = r#"import random

def lambda_handler(event, context):
    request = event['Records'][0]['cf']['request']
    headers = request['headers']
    experiment_uri = None
    for cookie in headers.get('cookie', []):
        if 'X-Experiment-Name=A' in cookie['value']:
            experiment_uri = '/experiment-group/control-pixel.jpg'
            break
        if 'X-Experiment-Name=B' in cookie['value']:
            experiment_uri = '/experiment-group/treatment-pixel.jpg'
            break
    if experiment_uri is None:
        experiment_uri = '/experiment-group/control-pixel.jpg' if random.random() < 0.75 else '/experiment-group/treatment-pixel.jpg'
    request['uri'] = experiment_uri
    return request
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

/// CPU time (µs) of this process and of its children (the workers) so far: `/proc` ticks.
fn cpu_us() -> Option<(u64, u64)> {
    let ticks = |pid: &str| -> Option<u64> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
    };
    let own = ticks("self")?;
    let mut workers = 0;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let children = std::fs::read_to_string(task.ok()?.path().join("children")).ok()?;
        for child in children.split_whitespace() {
            workers += ticks(child).unwrap_or(0);
        }
    }
    // USER_HZ is 100 on Linux.
    Some((own * 10_000, workers * 10_000))
}

fn report(name: &str, n: u64, elapsed_ns: u128) {
    let ns = elapsed_ns as f64 / n as f64;
    println!(
        "{name:<44} {:>9.0} ns/op {:>10.0} invocations/s",
        ns,
        1e9 / ns
    );
}

/// Run `source` `n` times (compile once, invoke repeatedly); prints the mean and the median
/// batch of 1,000.
fn edgesim_with(n: u64, source: &'static str, label: &str) {
    let config = TriggerConfig::py("ab.py");
    let mut h = match compile(&config, Stage::ViewerRequest, &|_| Ok(source.to_string())) {
        Ok(h) => h,
        Err(errors) => {
            println!("{label}: cannot load: {errors:?}");
            return;
        }
    };
    let controls = Controls::new();
    let template = request();
    let mut requests: Vec<Request> = (0..1_000).map(|_| template.clone()).collect();
    let mut elapsed = 0u128;
    let mut batches = Vec::new();
    let mut k = 0u64;
    let cpu_start = cpu_us();
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
            assert!(
                !matches!(inv.outcome, StageOutcome::Failed(_)),
                "{:?}",
                inv.outcome
            );
            black_box(inv.duration_us);
        }
        let batch = start.elapsed().as_nanos();
        elapsed += batch;
        batches.push(batch);
    }
    let cpu_end = cpu_us();
    report(label, k, elapsed);
    if let (Some(start), Some(end)) = (cpu_start, cpu_end) {
        let own = (end.0 - start.0) as f64 * 1_000.0 / k as f64;
        let worker = (end.1 - start.1) as f64 * 1_000.0 / k as f64;
        let ns = own + worker;
        println!(
            "{:<44} {ns:>9.0} ns/op {:>10.0} invocations/s per core (edgesim {own:.0} + worker {worker:.0} ns)",
            "  (CPU time of both processes)",
            1e9 / ns
        );
    }
    batches.sort_unstable();
    let median = batches[batches.len() / 2] as f64 / requests.len() as f64;
    println!(
        "{:<44} {median:>9.0} ns/op {:>10.0} invocations/s",
        "  (median batch)",
        1e9 / median
    );
}

fn main() {
    let n = std::env::var("EDGESIM_BENCH_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50_000);
    println!("viewer-request A/B handler in Python, {n} invocations, one core");
    edgesim_with(n, HANDLER, "edgesim python: A/B handler (typical)");
    edgesim_with(
        n,
        "def lambda_handler(event, context):\n    return event['Records'][0]['cf']['request']\n",
        "edgesim python: pass-through handler",
    );
    edgesim_with(
        n,
        "def lambda_handler(event, context):\n    return {'status': '204'}\n",
        "edgesim python: generated response",
    );
}
