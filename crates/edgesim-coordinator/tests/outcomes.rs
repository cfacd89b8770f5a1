//! What viewers got, end to end: the report's status mix, error rate and
//! errors by cause match what the origin and the functions did; answers
//! a function gave are their own tier and their generated bodies are the
//! bytes sent; origins are credited only with their own content; a 502
//! for an origin that does not resolve is "origin unreachable".

use std::collections::BTreeMap;
use std::sync::Arc;

use edgesim_coordinator::{AgentSource, RunConfig, run};
use edgesim_model::Scenario;
use edgesim_report::Summary;

/// Three PoPs in three regions (so that three agents split the work).
const TOPOLOGY: &str = r#"
[simulation]
duration_secs = 20
epoch_ms = 1000
seed = 11

[[pops]]
id = "fra"
city = "FRA"
cache_bytes = "64MiB"

[[pops]]
id = "iad"
city = "IAD"
region = "us-east-1"
cache_bytes = "64MiB"

[[pops]]
id = "nrt"
city = "NRT"
region = "ap-northeast-1"
cache_bytes = "64MiB"

[viewers]
requests_per_sec = 300
population = 20_000
countries = { DE = 0.4, US = 0.4, JP = 0.2 }
"#;

fn scenario(extra: &str, sources: &[(&str, &str)]) -> (Arc<Scenario>, String) {
    let text = format!("name = \"outcomes\"\n{TOPOLOGY}\n{extra}");
    let sources: BTreeMap<String, String> = sources
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let s = Scenario::from_toml_with_sources("outcomes.toml", &text, &sources)
        .unwrap_or_else(|d| panic!("{d}"));
    (Arc::new(s), text)
}

async fn run_with((s, text): &(Arc<Scenario>, String), agents: usize) -> Summary {
    run(
        Arc::clone(s),
        text,
        &RunConfig::new(AgentSource::InProcess { count: agents }),
        |_| {},
    )
    .await
    .expect("run succeeds")
}

fn cause(s: &Summary, name: &str) -> u64 {
    *s.viewer_outcomes
        .errors_by_cause
        .get(name)
        .unwrap_or_else(|| panic!("cause {name} listed"))
}

fn status(s: &Summary, code: &str) -> u64 {
    s.viewer_outcomes.statuses.get(code).copied().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_origin_that_fails_most_objects_shows_as_origin_errors() {
    let case = scenario(
        r#"
[[origins]]
id = "broken"
kind = "s3"
location = "us-east-1"
error_share = 0.7
error_status = 500
missing_share = 0.1

[catalog]
objects = 5000
zipf_alpha = 0.8
size = "8KiB"
ttl_secs = 3600
"#,
        &[],
    );
    let s = run_with(&case, 1).await;
    let o = &s.viewer_outcomes;
    let t = &s.totals;
    assert_eq!(o.answers, t.requests);
    assert_eq!(o.errors, t.status_4xx + t.status_5xx);
    assert_eq!(o.errors, status(&s, "500") + status(&s, "404"));
    assert!(
        o.error_rate > 0.6 && o.error_rate < 0.95,
        "about 80% of objects fail: {}",
        o.error_rate
    );
    assert!((o.error_rate - o.errors as f64 / o.answers as f64).abs() < 1e-12);
    // Every error is the origin's own, cached or fetched.
    assert_eq!(cause(&s, "origin_error"), o.errors);
    assert_eq!(o.top_causes(), vec![("origin_error", o.errors)]);
    // Per epoch, aligned with the time series, summing to the totals.
    let per_epoch = &o.errors_by_cause_per_epoch["origin_error"];
    assert_eq!(per_epoch.len(), s.timeseries.len());
    assert_eq!(per_epoch.iter().sum::<u64>(), o.errors);
    for (row, errors) in s.timeseries.iter().zip(per_epoch) {
        assert_eq!(row.status_4xx + row.status_5xx, *errors);
    }
    // Error pages are bytes sent too.
    assert!(t.viewer_bytes >= o.errors * 512);
    // The origin's own error answers are its content.
    assert_eq!(s.origins[0].served, t.requests);
    // The same summary from three agents.
    let three = run_with(&case, 3).await;
    assert_eq!(
        edgesim_report::write::summary_json(&s),
        edgesim_report::write::summary_json(&three)
    );
}

/// A 302 with a body of exactly 100 bytes for every request.
const REDIRECT_JS: &str = r#"
exports.handler = async (event) => ({
    status: '302',
    statusDescription: 'Found',
    headers: { location: [{ key: 'Location', value: 'https://example.com/moved' }] },
    body: 'x'.repeat(100),
});
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_only_run_is_answered_by_the_function() {
    let case = scenario(
        r#"
[[origins]]
id = "site"
kind = "s3"
location = "us-east-1"

[catalog]
objects = 1000
zipf_alpha = 0.8
size = "8KiB"
ttl_secs = 3600

[[behaviors]]
path = "/*"
viewer_request = { js = "redirect.js" }
"#,
        &[("redirect.js", REDIRECT_JS)],
    );
    let s = run_with(&case, 1).await;
    let t = &s.totals;
    assert!(t.requests > 3000, "{}", t.requests);
    assert_eq!(t.function_answers, t.requests);
    let tiers = s.tiers();
    assert_eq!(tiers.function, 1.0);
    assert_eq!(tiers.edge + tiers.regional + tiers.origin, 0.0);
    for row in &s.timeseries {
        assert_eq!(
            row.tiers().function,
            if row.requests > 0 { 1.0 } else { 0.0 }
        );
    }
    // The bytes sent are the generated bodies.
    assert_eq!(t.viewer_bytes, 100 * t.requests);
    assert_eq!(status(&s, "302"), t.requests);
    assert_eq!(s.viewer_outcomes.errors, 0);
    assert_eq!(s.viewer_outcomes.error_rate, 0.0);
    // Nothing came from the origin.
    assert_eq!(s.origins[0].served, 0);
    assert_eq!(s.origins[0].fetches, 0);
}

/// Origin-request: /gone/ objects are sent to a bucket that does not
/// exist; /made/ objects are answered by the function (203, cached).
const ORIGIN_REQUEST_JS: &str = r#"
exports.handler = async (event) => {
    const request = event.Records[0].cf.request;
    if (request.uri.startsWith('/gone/')) {
        request.origin.s3.domainName = 'no-such-bucket.s3.eu-west-3.amazonaws.com';
        request.headers['host'] = [{ key: 'host', value: 'no-such-bucket.s3.eu-west-3.amazonaws.com' }];
        return request;
    }
    if (request.uri.startsWith('/made/')) {
        return { status: '203', headers: { 'cache-control': [{ value: 'max-age=3600' }] }, body: 'made' };
    }
    return request;
};
"#;

/// Viewer-request: throws for every request.
const THROWING_JS: &str = r#"
exports.handler = async (event) => { throw new Error('broken deployment'); };
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unresolvable_origins_and_function_answers_are_not_the_origins() {
    let case = scenario(
        r#"
[[origins]]
id = "site"
kind = "s3"
location = "us-east-1"

[[catalog.classes]]
name = "fine"
share = 0.4
objects = 500
zipf_alpha = 0.8
size = "4KiB"
ttl_secs = 3600
path_prefix = "/fine/"

[[catalog.classes]]
name = "gone"
share = 0.2
objects = 500
zipf_alpha = 0.8
size = "4KiB"
ttl_secs = 3600
path_prefix = "/gone/"

[[catalog.classes]]
name = "made"
share = 0.3
objects = 500
zipf_alpha = 0.8
size = "4KiB"
ttl_secs = 3600
path_prefix = "/made/"

[[catalog.classes]]
name = "broken"
share = 0.1
objects = 500
zipf_alpha = 0.8
size = "4KiB"
ttl_secs = 3600
path_prefix = "/broken/"

[[behaviors]]
path = "/broken/*"
viewer_request = { js = "throwing.js" }

[[behaviors]]
path = "/*"
origin_request = { js = "origin-request.js" }
"#,
        &[
            ("origin-request.js", ORIGIN_REQUEST_JS),
            ("throwing.js", THROWING_JS),
        ],
    );
    let s = run_with(&case, 1).await;
    let t = &s.totals;
    let o = &s.viewer_outcomes;
    // Every /gone/ request: 502 from CloudFront, never cached, origin
    // unreachable, not a function's answer.
    let unreachable = cause(&s, "origin_unreachable");
    assert!(unreachable > 500, "{unreachable}");
    assert_eq!(t.unresolved, unreachable);
    assert_eq!(status(&s, "502"), unreachable);
    assert_eq!(
        o.errors_by_source.get("origin_unreachable").copied(),
        Some(unreachable)
    );
    // The throwing viewer-request function: 503s of cause function error,
    // one per invocation; its answers and /made/ misses are the function's.
    let thrower = s
        .triggers
        .iter()
        .find(|x| x.behavior == "/broken/*")
        .expect("ran");
    assert_eq!(thrower.errors, thrower.invocations);
    assert_eq!(cause(&s, "function_error"), thrower.errors);
    assert_eq!(status(&s, "503"), thrower.errors);
    let origin_request = s
        .triggers
        .iter()
        .find(|x| x.behavior == "/*" && x.stage == "origin-request")
        .expect("ran");
    assert_eq!(
        t.function_answers,
        thrower.errors + origin_request.responded
    );
    // The generated 203s are cached: hits answer most of them.
    let made = status(&s, "203");
    assert!(
        made > origin_request.responded * 2,
        "{made} vs {origin_request:?}"
    );
    assert_eq!(o.errors, unreachable + thrower.errors);
    let mut expected = vec![
        ("origin_unreachable", unreachable),
        ("function_error", thrower.errors),
    ];
    expected.sort_by_key(|c| std::cmp::Reverse(c.1));
    assert_eq!(o.top_causes(), expected);
    // The origin is credited with its own objects only: the 200s, not the
    // function's 203s (fetched or cached), the 502s or the 503s.
    assert_eq!(s.origins[0].served, status(&s, "200"));
    assert_eq!(
        status(&s, "200") + made + unreachable + thrower.errors,
        t.requests
    );
    // Bytes sent: objects, generated bodies, error pages.
    let origin_bytes_served = s.origins[0].served * 4096;
    assert_eq!(
        t.viewer_bytes,
        origin_bytes_served + made * 4 + (unreachable + thrower.errors) * 512
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failover_credits_the_secondary_with_what_it_served() {
    let path = format!(
        "{}/../../scenarios/origin-failover.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let text = edgesim_model::overrides::apply_overrides(
        &text,
        &["simulation.duration_secs=260".to_owned()],
    )
    .unwrap();
    let s = Scenario::from_toml(&path, &text).unwrap_or_else(|d| panic!("{d}"));
    let s = run_with(&(Arc::new(s), text), 1).await;
    let (primary, backup) = (&s.origins[0], &s.origins[1]);
    assert_eq!(backup.id, "backup-bucket");
    // The outage (from 200 s) sends misses to the backup: its objects are
    // its own, on the fetch and on every later hit.
    assert!(backup.fetches > 0);
    assert!(backup.served >= backup.fetches, "{backup:?}");
    assert_eq!(s.viewer_outcomes.errors, 0, "the failover hides the outage");
    assert_eq!(primary.served + backup.served, s.totals.requests);
}
