//! Built-in triggers per request per stage: prints ns/op and invocations/s.
//!
//! `cargo bench -p edgesim-triggers --bench builtins`

use std::hint::black_box;
use std::time::Instant;

use edgesim_triggers::{
    Controls, Device, Handler, InvokeContext, Origin, Os, Response, Stage, TriggerConfig, Viewer,
    compile,
};

fn handler(json: serde_json::Value, stage: Stage) -> Box<dyn Handler + Send> {
    let config: TriggerConfig = serde_json::from_value(json).expect("valid config");
    compile(&config, stage, &|_| unreachable!()).expect("compiles")
}

fn measure(name: &str, stage: Stage, mut h: Box<dyn Handler + Send>, with_cf_headers: bool) {
    // `EDGESIM_BENCH_ONLY=ab_test` runs one built-in (for profiling).
    if std::env::var("EDGESIM_BENCH_ONLY").is_ok_and(|only| only != name) {
        return;
    }
    let viewer = Viewer {
        country: "DE".into(),
        device: Device::Mobile,
        os: Os::Android,
        viewer_id: 9,
        client_ip: "198.51.100.7".into(),
        location: None,
    };
    let mut template = viewer.request("GET", "/img/cat.jpg", "d111111abcdef8.cloudfront.net");
    template
        .headers
        .set("Cookie", "session=abc; X-Experiment-Name=B");
    if with_cf_headers {
        viewer.add_cloudfront_headers(&mut template.headers);
    }
    if stage.is_origin() {
        template.origin = Some(Origin::s3("old-bucket.s3.amazonaws.com", "us-east-1"));
    }
    let controls = Controls::new().with("migration", 0.3);
    let n: u64 = 2_000_000;
    let mut elapsed_ns = 0u128;
    let mut batches_ns: Vec<u128> = Vec::with_capacity(2_000);
    let mut sink = 0usize;
    // Clone the request outside the timed region: the simulator owns it already.
    let batch = 1_000;
    let mut requests: Vec<_> = (0..batch).map(|_| template.clone()).collect();
    let mut response = Response::new(200);
    for round in 0..n / batch {
        for (i, r) in requests.iter_mut().enumerate() {
            r.clone_from(&template);
            let _ = i;
        }
        let start = Instant::now();
        for (i, request) in requests.iter_mut().enumerate() {
            let k = round * batch + i as u64;
            let ctx = InvokeContext {
                now_us: k * 1_000,
                region: "eu-central-1",
                pop: "FRA56-C1",
                request_id: k,
                rand: k.wrapping_mul(0x9E37_79B9_7F4A_7C15),
                viewer_id: k % 1000,
                controls: &controls,
                viewer_country: "US",
                migration_arm: None,
            };
            let resp = if stage.is_request() {
                None
            } else {
                Some(&mut response)
            };
            let inv = h.invoke(stage, request, resp, &ctx);
            sink += black_box(inv.duration_us) as usize;
        }
        let batch_ns = start.elapsed().as_nanos();
        elapsed_ns += batch_ns;
        batches_ns.push(batch_ns);
    }
    let ns = elapsed_ns as f64 / n as f64;
    // The median batch is what the code costs; the mean also carries whatever else the (shared)
    // machine was doing.
    batches_ns.sort_unstable();
    let median = batches_ns[batches_ns.len() / 2] as f64 / batch as f64;
    println!(
        "{name:<16} {stage:<16} {median:>8.1} ns/op median {ns:>8.1} mean {:>14.0} invocations/s   (sink {})",
        1e9 / median,
        sink % 10
    );
}

fn main() {
    println!(
        "built-in triggers, one invocation each (pool bookkeeping included, request clone excluded;\n\
         median and mean over batches of 1,000)"
    );
    measure(
        "ab_test",
        Stage::ViewerRequest,
        handler(
            serde_json::json!({"builtin": "ab_test", "variants": [{"name": "A", "weight": 0.5}, {"name": "B", "weight": 0.5, "uri_prefix": "/b"}]}),
            Stage::ViewerRequest,
        ),
        false,
    );
    measure(
        "origin_split",
        Stage::OriginRequest,
        handler(
            serde_json::json!({"builtin": "origin_split", "to": "new-bucket.s3.eu-central-1.amazonaws.com", "to_region": "eu-central-1", "weight": "migration", "split": "uri_hash"}),
            Stage::OriginRequest,
        ),
        true,
    );
    measure(
        "device_content",
        Stage::OriginRequest,
        handler(
            serde_json::json!({"builtin": "device_content", "prefix": {"mobile": "/m", "tablet": "/t"}, "suffix": {"mobile": "@2x"}}),
            Stage::OriginRequest,
        ),
        true,
    );
    measure(
        "geo_content",
        Stage::OriginRequest,
        handler(
            serde_json::json!({"builtin": "geo_content", "countries": {"DE": {"origin": "eu.example.com", "uri_prefix": "/de"}, "CN": {"redirect": "https://example.cn"}}}),
            Stage::OriginRequest,
        ),
        true,
    );
    measure(
        "add_headers",
        Stage::OriginResponse,
        handler(
            serde_json::json!({"builtin": "add_headers", "headers": {"Strict-Transport-Security": "max-age=63072000; includeSubdomains; preload", "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY"}}),
            Stage::OriginResponse,
        ),
        false,
    );
    measure(
        "redirect",
        Stage::ViewerRequest,
        handler(
            serde_json::json!({"builtin": "redirect", "rules": [{"path": "/old/*", "location": "https://example.com/new/*"}]}),
            Stage::ViewerRequest,
        ),
        false,
    );
}
