//! Response events as CloudFront builds them, in a whole run:
//! origin-response sees the origin's headers (S3's, for an S3 origin), and
//! viewer-response the cached answer's headers plus CloudFront's own
//! (`X-Cache` says whether the edge answered).

use std::sync::Arc;

use edgesim_coordinator::{AgentSource, RunConfig, run};
use edgesim_model::Scenario;
use edgesim_report::Summary;

const SCENARIO: &str = r#"
name = "response-events"
[simulation]
duration_secs = 30
epoch_ms = 1000
seed = 4
[[pops]]
id = "fra"
city = "FRA"
cache_bytes = "64MiB"
[[origins]]
id = "site"
kind = "s3"
domain_name = "site.s3.eu-central-1.amazonaws.com"
location = "eu-central-1"
[[catalog.classes]]
name = "a"
share = 1.0
objects = 2000
zipf_alpha = 0.9
size = "4KiB"
cache_control = "public, max-age=600"
[viewers]
requests_per_sec = 100
countries = { DE = 1 }
[[behaviors]]
path = "/a/*"
origin_response = { js = "origin.js" }
viewer_response = { js = "viewer.js" }
"#;

/// Fails (throws) unless the origin's answer carries S3's headers, then
/// copies its Content-Type into a header of its own.
const ORIGIN_JS: &str = r#"
exports.handler = async (event) => {
    const response = event.Records[0].cf.response;
    const h = response.headers;
    const one = (name) => (h[name] ? h[name][0].value : undefined);
    if (one('server') !== 'AmazonS3') throw new Error('server: ' + one('server'));
    if (one('cache-control') !== 'public, max-age=600') throw new Error('cache-control');
    if (!(Number(one('content-length')) === 4096)) throw new Error('content-length');
    if (!/^"[0-9a-f]{32}"$/.test(one('etag') || '')) throw new Error('etag');
    if (!one('x-amz-request-id') || !one('date') || !one('last-modified')) throw new Error('ids');
    h['x-origin-type'] = [{ key: 'X-Origin-Type', value: one('content-type') }];
    return response;
};
"#;

/// Answers an invalid status when CloudFront's headers are missing, and
/// throws on every edge hit: its errors count the hits.
const VIEWER_JS: &str = r#"
exports.handler = async (event) => {
    const response = event.Records[0].cf.response;
    const h = response.headers;
    const one = (name) => (h[name] ? h[name][0].value : undefined);
    const complete = one('via') && one('x-amz-cf-pop') && one('x-amz-cf-id') &&
        one('content-type') && one('etag') && one('server') === 'AmazonS3';
    if (!complete) { response.status = '999'; return response; }
    if (one('x-cache') === 'Hit from cloudfront') throw new Error('a hit');
    if (one('x-cache') !== 'Miss from cloudfront') { response.status = '999'; return response; }
    return response;
};
"#;

async fn run_it() -> Summary {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("origin.js"), ORIGIN_JS).unwrap();
    std::fs::write(dir.path().join("viewer.js"), VIEWER_JS).unwrap();
    let path = dir.path().join("s.toml");
    std::fs::write(&path, SCENARIO).unwrap();
    let s = Scenario::from_toml(&path.display().to_string(), SCENARIO)
        .unwrap_or_else(|d| panic!("{d}"));
    run(
        Arc::new(s),
        SCENARIO,
        &RunConfig::new(AgentSource::InProcess { count: 1 }),
        |_| {},
    )
    .await
    .expect("run succeeds")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn response_functions_see_the_headers_cloudfront_gives_them() {
    let s = run_it().await;
    let stage = |name: &str| {
        s.triggers
            .iter()
            .find(|t| t.stage == name)
            .unwrap_or_else(|| panic!("{name} ran"))
    };
    let origin = stage("origin-response");
    assert_eq!(origin.invocations, s.totals.origin_fetches);
    assert_eq!((origin.errors, origin.invalid), (0, 0), "{origin:?}");
    let viewer = stage("viewer-response");
    assert_eq!(viewer.invalid, 0, "every header was there: {viewer:?}");
    assert!(s.totals.edge_hits > 1_000, "{}", s.totals.edge_hits);
    assert_eq!(
        viewer.errors, s.totals.edge_hits,
        "X-Cache: Hit on exactly the edge hits"
    );
    // Leaving the origin's Cache-Control alone keeps its TTL: the objects
    // stay cached (a no-store or default TTL would change the hit count).
    assert_eq!(
        viewer.invocations, s.totals.requests,
        "viewer-response ran for every (2xx) answer"
    );
}
