//! CloudFront Functions in whole runs: they run at the PoP (no trip to the
//! Lambda@Edge region, unlike the same code as Lambda@Edge), their
//! KeyValueStore reads are counted, and the origin helpers of runtime 2.0
//! send the request's fetch to the origin they name, failover groups
//! included.

use std::collections::BTreeMap;
use std::sync::Arc;

use edgesim_coordinator::{AgentSource, RunConfig, run};
use edgesim_model::Scenario;
use edgesim_report::Summary;

const BASE: &str = r#"
name = "cff"
[simulation]
duration_secs = 10
epoch_ms = 1000
seed = 9

[[pops]]
id = "fra"
city = "FRA"
cache_bytes = "64MiB"

[[origins]]
id = "a"
kind = "s3"
location = "us-east-1"

[[origins]]
id = "b"
kind = "s3"
location = "eu-west-1"

[catalog]
objects = 5000
zipf_alpha = 0.8
size = "8KiB"
ttl_secs = 3600
origin = "a"

[viewers]
requests_per_sec = 300
countries = { DE = 1 }
"#;

async fn run_case(behavior: &str, sources: &[(&str, &str)]) -> Summary {
    let text = format!("{BASE}\n[[behaviors]]\npath = \"/*\"\n{behavior}\n");
    let sources: BTreeMap<String, String> = sources
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let s = Scenario::from_toml_with_sources("cff.toml", &text, &sources)
        .unwrap_or_else(|d| panic!("{d}"));
    run(
        Arc::new(s),
        &text,
        &RunConfig::new(AgentSource::InProcess { count: 1 }),
        |_| {},
    )
    .await
    .expect("run succeeds")
}

fn fetches(s: &Summary, origin: &str) -> u64 {
    s.origins
        .iter()
        .find(|o| o.id == origin)
        .map_or(0, |o| o.fetches)
}

const PASS_CFF: &str = "async function handler(event) { return event.request; }";
const PASS_LAE: &str = "exports.handler = async (event) => event.Records[0].cf.request;";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cloudfront_function_runs_at_the_pop_and_lambda_at_edge_does_not() {
    let cff = run_case(
        r#"viewer_request = { cff = "f.js" }"#,
        &[("f.js", PASS_CFF)],
    )
    .await;
    let lae = run_case(r#"viewer_request = { js = "f.js" }"#, &[("f.js", PASS_LAE)]).await;
    let trip = |s: &Summary| s.triggers[0].mean_trip_ms;
    assert_eq!(trip(&cff), 0.0, "at the PoP");
    assert!(trip(&lae) > 1.0, "to the region and back: {}", trip(&lae));
    assert!(cff.latency_ms.p50 < lae.latency_ms.p50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_origin_helpers_send_fetches_where_they_say() {
    let select = run_case(
        r#"viewer_request = { cff = "f.js", runtime = "cloudfront-js-2.0" }"#,
        &[(
            "f.js",
            "import cf from 'cloudfront';\n\
             async function handler(event) { cf.selectRequestOriginById('b'); return event.request; }",
        )],
    )
    .await;
    assert_eq!(fetches(&select, "a"), 0);
    assert!(fetches(&select, "b") > 0);

    // updateRequestOrigin to a domain that is none of the scenario's
    // origins: it does not resolve, so no origin is fetched and misses are
    // 502s.
    let unknown = run_case(
        r#"viewer_request = { cff = "f.js" }"#,
        &[(
            "f.js",
            "import cf from 'cloudfront';\n\
             async function handler(event) { cf.updateRequestOrigin({ domainName: 'nowhere.example.com' }); return event.request; }",
        )],
    )
    .await;
    assert_eq!(fetches(&unknown, "a") + fetches(&unknown, "b"), 0);
    assert!(
        unknown
            .viewer_outcomes
            .statuses
            .get("502")
            .copied()
            .unwrap_or(0)
            > 0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyvaluestore_reads_are_counted() {
    let s = run_case(
        r#"viewer_request = { cff = "f.js", kvs = "store.json" }"#,
        &[
            (
                "f.js",
                "import cf from 'cloudfront';\nconst kvs = cf.kvs();\n\
                 async function handler(event) { try { await kvs.get(event.request.uri); } catch (e) {} return event.request; }",
            ),
            ("store.json", r#"{"data":[{"key":"/a","value":"1"}]}"#),
        ],
    )
    .await;
    let t = &s.triggers[0];
    assert_eq!(t.kvs_reads, t.invocations, "one read per invocation");
    assert!(t.invocations > 0);
}
