//! Lambda@Edge runs in the region of the PoP's regional edge cache, not at
//! the PoP: a viewer function costs the PoP-to-region round trip on every
//! request, hits included, and origin functions run where the fetch leaves.

use std::sync::Arc;

use edgesim_coordinator::{AgentSource, RunConfig, run};
use edgesim_model::Scenario;
use edgesim_report::Summary;

/// One PoP in Singapore whose regional edge cache is in us-east-1 (far on
/// purpose), a regional cache there or not (`{rec}`), and `{trigger}`.
const SCENARIO: &str = r#"
name = "function-region"
[simulation]
duration_secs = 20
epoch_ms = 1000
seed = 8
[network]
jitter_ms = 0
[[pops]]
id = "sin"
city = "SIN"
region = "us-east-1"
cache_bytes = "64MiB"
[[regions]]
id = "us-east-1"
cache_bytes = "{rec}"
[[origins]]
id = "o"
kind = "s3"
location = "us-east-1"
[catalog]
objects = 500
zipf_alpha = 1.0
size = "4KiB"
ttl_secs = 3600
[viewers]
requests_per_sec = 100
countries = { SG = 1 }
[[behaviors]]
path = "/*"
{trigger}
"#;

async fn run_with(rec: &str, trigger: &str) -> Summary {
    let text = SCENARIO.replace("{rec}", rec).replace("{trigger}", trigger);
    let s = Scenario::from_toml("function-region.toml", &text).unwrap_or_else(|d| panic!("{d}"));
    run(
        Arc::new(s),
        &text,
        &RunConfig::new(AgentSource::InProcess { count: 1 }),
        |_| {},
    )
    .await
    .expect("run succeeds")
}

const INSTANT: &str = "cold_start_ms = 0, overhead_us = 0";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_function_pays_the_round_trip_to_its_region_on_hits_too() {
    let base = run_with("0", "").await;
    let with = run_with(
        "0",
        &format!(r#"viewer_request = {{ builtin = "add_headers", headers = {{ "x-a" = "1" }}, {INSTANT} }}"#),
    )
    .await;
    let t = &with.triggers[0];
    // Singapore to northern Virginia: some 15,500 km, so at 200 km/ms with
    // the default path inflation of 1.5 well over 200 ms there and back.
    assert!(t.mean_trip_ms > 200.0, "{t:?}");
    assert!(
        base.totals.edge_hits > base.totals.requests / 2,
        "mostly hits"
    );
    // Every request pays it, so even the median (a hit) moves by the trip.
    let moved = with.latency_ms.p50 - base.latency_ms.p50;
    assert!(
        (moved - t.mean_trip_ms).abs() < 0.05 * t.mean_trip_ms,
        "p50 moved {moved} ms, trip {} ms",
        t.mean_trip_ms
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn origin_functions_run_where_the_fetch_leaves() {
    let trigger = format!(
        r#"origin_request = {{ builtin = "add_headers", headers = {{ "x-a" = "1" }}, {INSTANT} }}"#
    );
    // With a regional cache the fetch leaves from the region: no trip.
    let via_rec = run_with("1GiB", &trigger).await;
    assert!(via_rec.triggers[0].invocations > 0);
    assert_eq!(
        via_rec.triggers[0].mean_trip_ms, 0.0,
        "{:?}",
        via_rec.triggers[0]
    );
    // Without one the PoP fetches, and the function still runs in the
    // region: a round trip per invocation.
    let direct = run_with("0", &trigger).await;
    assert!(
        direct.triggers[0].mean_trip_ms > 200.0,
        "{:?}",
        direct.triggers[0]
    );
}
