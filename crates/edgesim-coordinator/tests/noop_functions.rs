//! A function that changes nothing changes nothing: faults and sizes belong
//! to the origin's object (the origin and URI the fetch asks for), never to
//! the path a request took through the pipeline. For every built-in in a
//! configuration that leaves the request alone, and for a JavaScript no-op
//! at each of the four stages:
//!
//! - with nothing cached (every request is a fetch), the origin fails and
//!   sizes exactly the same objects as without a function: the same 404s,
//!   5xx answers and bytes;
//! - a built-in that takes no time (no cold start, no overhead, and its
//!   Lambda@Edge region at its PoP, so no round trip) leaves the whole run
//!   as it was: hits, collapses, bytes, statuses and latency.

use std::sync::Arc;

use edgesim_coordinator::{AgentSource, RunConfig, run};
use edgesim_model::Scenario;
use edgesim_report::Summary;

/// Two PoPs, one origin that fails 5% of its objects (503) and lacks 10%
/// (404), sizes drawn per object; `{cache}` is the class's freshness and
/// `{trigger}` the behaviour's function (or nothing).
const SCENARIO: &str = r#"
name = "noop"
[simulation]
duration_secs = 60
epoch_ms = 1000
seed = 17
{network}
[[pops]]
id = "fra"
lat = 50.03
lon = 8.57
region = "eu-central-1"
cache_bytes = "256MiB"
[[pops]]
id = "iad"
lat = 38.95
lon = -77.45
region = "us-east-1"
cache_bytes = "256MiB"
{regions}
[[origins]]
id = "site"
kind = "s3"
domain_name = "site.s3.us-east-1.amazonaws.com"
location = "us-east-1"
error_share = 0.05
error_status = 503
missing_share = 0.10
[[catalog.classes]]
name = "files"
share = 1.0
objects = {objects}
zipf_alpha = {alpha}
size = { dist = "lognormal", p50 = 20000, p99 = 400000 }
{cache}
path_prefix = "/f/"
[viewers]
requests_per_sec = {rate}
population = 50000
countries = { DE = 0.5, US = 0.5 }
[[behaviors]]
path = "/f/*"
{trigger}
"#;

/// A JavaScript handler that hands back what it was given, at any stage.
const NOOP_JS: &str = r#"
exports.handler = async (event) => {
    const cf = event.Records[0].cf;
    return cf.response !== undefined ? cf.response : cf.request;
};
"#;

/// Built-ins in configurations that change nothing for this workload
/// (`{x}` is replaced by the execution settings).
const BUILTINS: &[&str] = &[
    r#"viewer_request = { builtin = "ab_test", assign = "viewer", variants = [ { name = "only", weight = 1.0 } ]{x} }"#,
    r#"viewer_request = { builtin = "redirect", rules = [ { path = "/never/*", location = "https://example.com/" } ]{x} }"#,
    r#"origin_request = { builtin = "redirect", rules = [ { path = "/never/*", location = "https://example.com/" } ]{x} }"#,
    r#"origin_request = { builtin = "origin_split", to = "site.s3.us-east-1.amazonaws.com", weight = 0.0{x} }"#,
    r#"origin_request = { builtin = "geo_content", countries = { JP = { uri_prefix = "/jp" } }{x} }"#,
    r#"origin_request = { builtin = "device_content", prefix = { mobile = "/m" }, extensions = ["never"]{x} }"#,
    r#"viewer_request = { builtin = "add_headers", headers = { "x-noop" = "1" }{x} }"#,
    r#"origin_request = { builtin = "add_headers", headers = { "x-noop" = "1" }{x} }"#,
    r#"origin_response = { builtin = "add_headers", headers = { "x-noop" = "1" }{x} }"#,
    r#"viewer_response = { builtin = "add_headers", headers = { "x-noop" = "1" }{x} }"#,
];

/// The class's freshness line, its number of objects and Zipf exponent,
/// the request rate, and whether Lambda@Edge's regions sit at their PoPs
/// with no jitter (a function that takes no time then adds no round trip).
#[derive(Clone, Copy)]
struct Workload {
    cache: &'static str,
    objects: u64,
    alpha: f64,
    rate: u64,
    regions_at_pops: bool,
}

/// Regions at their PoPs' coordinates, and no jitter.
const REGIONS_AT_POPS: (&str, &str) = (
    "[network]\njitter_ms = 0",
    r#"[[regions]]
id = "eu-central-1"
cache_bytes = 0
lat = 50.03
lon = 8.57
[[regions]]
id = "us-east-1"
cache_bytes = 0
lat = 38.95
lon = -77.45"#,
);

/// Runs the scenario with `trigger` (a behaviour line, or "") on one
/// in-process agent; `dir` holds the handler files it names.
async fn run_with(dir: &std::path::Path, workload: Workload, trigger: &str) -> Summary {
    let Workload {
        cache,
        objects,
        alpha,
        rate,
        regions_at_pops,
    } = workload;
    let (network, regions) = if regions_at_pops {
        REGIONS_AT_POPS
    } else {
        ("", "")
    };
    let text = SCENARIO
        .replace("{network}", network)
        .replace("{regions}", regions)
        .replace("{cache}", cache)
        .replace("{alpha}", &alpha.to_string())
        .replace("{objects}", &objects.to_string())
        .replace("{rate}", &rate.to_string())
        .replace("{trigger}", trigger);
    let path = dir.join("noop.toml");
    std::fs::write(&path, &text).unwrap();
    let s = Scenario::from_toml(&path.display().to_string(), &text)
        .unwrap_or_else(|d| panic!("{trigger}: {d}"));
    run(
        Arc::new(s),
        &text,
        &RunConfig::new(AgentSource::InProcess { count: 1 }),
        |_| {},
    )
    .await
    .unwrap_or_else(|e| panic!("{trigger}: {e}"))
}

/// What the origin did: (fetches, 404s, 5xx, origin bytes).
fn origin_side(s: &Summary) -> (u64, u64, u64, u64) {
    (
        s.totals.origin_fetches,
        s.totals.status_4xx,
        s.totals.status_5xx,
        s.totals.origin_bytes,
    )
}

fn handler_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("noop.js"), NOOP_JS).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_op_functions_fail_and_size_the_same_objects() {
    // Nothing is stored and requests are far apart, so every request is
    // one fetch whatever time a function adds: the origin's answers can
    // only differ if a function changed which object was asked for.
    let dir = handler_dir();
    let workload = Workload {
        cache: r#"cache_control = "no-store""#,
        objects: 1_000_000,
        alpha: 0.3,
        rate: 20,
        regions_at_pops: false,
    };
    let base = run_with(dir.path(), workload, "").await;
    let (fetches, missing, failed, bytes) = origin_side(&base);
    assert_eq!(fetches, base.totals.requests, "every request is a fetch");
    assert!(
        missing > 50 && failed > 20,
        "the workload meets faults: {missing} 404s, {failed} 5xx"
    );
    let mut triggers: Vec<String> = BUILTINS.iter().map(|b| b.replace("{x}", "")).collect();
    for stage in [
        "viewer_request",
        "origin_request",
        "origin_response",
        "viewer_response",
    ] {
        triggers.push(format!(r#"{stage} = {{ js = "noop.js" }}"#));
    }
    for trigger in &triggers {
        let s = run_with(dir.path(), workload, trigger).await;
        assert!(
            s.triggers.iter().map(|t| t.invocations).sum::<u64>() > 0,
            "{trigger}: the function ran"
        );
        assert_eq!(s.totals.requests, base.totals.requests, "{trigger}");
        assert_eq!(
            origin_side(&s),
            (fetches, missing, failed, bytes),
            "{trigger}: (fetches, 404s, 5xx, origin bytes) differ from the run without a function"
        );
        assert_eq!(s.totals.viewer_bytes, base.totals.viewer_bytes, "{trigger}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_no_op_built_in_that_takes_no_time_changes_nothing() {
    // Cached, busy, with collapsing: a function that adds no time must
    // leave every count and the latency distribution as they were.
    let dir = handler_dir();
    let workload = Workload {
        cache: "ttl_secs = 30",
        objects: 20_000,
        alpha: 0.8,
        rate: 400,
        regions_at_pops: true,
    };
    let base = run_with(dir.path(), workload, "").await;
    assert!(base.totals.edge_hits > 0 && base.totals.origin_fetches > 0);
    let instant = ", cold_start_ms = 0, overhead_us = 0";
    for builtin in BUILTINS {
        let trigger = builtin.replace("{x}", instant);
        let s = run_with(dir.path(), workload, &trigger).await;
        let t = (&s.totals, &base.totals);
        assert_eq!(
            (t.0.requests, t.0.edge_hits, t.0.edge_collapsed),
            (t.1.requests, t.1.edge_hits, t.1.edge_collapsed),
            "{trigger}: (requests, edge hits, collapsed)"
        );
        assert_eq!(origin_side(&s), origin_side(&base), "{trigger}");
        assert_eq!(t.0.viewer_bytes, t.1.viewer_bytes, "{trigger}");
        assert_eq!(
            serde_json::to_string(&s.latency_ms).unwrap(),
            serde_json::to_string(&base.latency_ms).unwrap(),
            "{trigger}: latency"
        );
    }
}
