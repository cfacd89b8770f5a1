//! The four classic Lambda@Edge uses, each as a built-in and as an
//! unmodified AWS-style JavaScript handler (A/B and a country redirect also
//! in Python), run through the region engine from the shipped scenario
//! files; asserts what each use must do.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use edgesim_model::Scenario;
use edgesim_sim::{Counters, RegionSim, Routing, TriggerEpoch};

/// Totals of a whole run of one shipped scenario.
struct Run {
    scenario: Arc<Scenario>,
    counters: Counters,
    origin_fetches: Vec<u64>,
    /// By (behavior, stage).
    triggers: BTreeMap<(usize, usize), TriggerEpoch>,
    /// By variant name: requests.
    variants: BTreeMap<String, u64>,
}

impl Run {
    fn stage(&self, stage: usize) -> TriggerEpoch {
        self.triggers.get(&(0, stage)).copied().unwrap_or_default()
    }

    fn origin(&self, id: &str) -> u64 {
        self.origin_fetches[self
            .scenario
            .origins
            .iter()
            .position(|o| o.id == id)
            .unwrap()]
    }
}

fn run(name: &str) -> Run {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scenarios")
        .join(format!("{name}.toml"));
    let scenario = Arc::new(Scenario::load(&path).unwrap_or_else(|e| panic!("{name}: {e}")));
    run_scenario(scenario)
}

fn run_scenario(scenario: Arc<Scenario>) -> Run {
    let demand = Routing::nearest(&scenario).demand(&scenario, scenario.viewers.requests_per_sec);
    let mut out = Run {
        counters: Counters::default(),
        origin_fetches: vec![0; scenario.origins.len()],
        triggers: BTreeMap::new(),
        variants: BTreeMap::new(),
        scenario: Arc::clone(&scenario),
    };
    for (r, d) in demand.iter().enumerate() {
        let mut sim = RegionSim::new(Arc::clone(&scenario), r).unwrap();
        for e in 0..scenario.simulation.epochs() {
            let rep = sim.advance(e, d).unwrap();
            for p in &rep.pops {
                out.counters.add(&p.counters);
            }
            for o in &rep.origins {
                out.origin_fetches[o.origin] += o.fetches;
            }
            for t in &rep.triggers {
                out.triggers
                    .entry((t.behavior, t.stage))
                    .or_insert(TriggerEpoch {
                        behavior: t.behavior,
                        stage: t.stage,
                        ..TriggerEpoch::default()
                    })
                    .add(t);
            }
            for v in &rep.variants {
                *out.variants.entry(v.name.clone()).or_default() += v.requests;
            }
        }
    }
    let c = &out.counters;
    assert_eq!(
        c.requests,
        c.outcomes(),
        "{}: every request ends one way: {c:?} {:?}",
        out.scenario.name,
        out.triggers
    );
    assert_eq!(
        c.requests,
        c.status_2xx + c.status_3xx + c.status_4xx + c.status_5xx,
        "{}: every request has a status",
        out.scenario.name
    );
    out
}

const VIEWER_REQUEST: usize = 0;
const ORIGIN_REQUEST: usize = 1;

fn share(part: u64, whole: u64) -> f64 {
    part as f64 / whole as f64
}

#[test]
fn ab_test_builtin_splits_viewers_by_weight_and_caches_variants_apart() {
    let r = run("ab-test");
    let vr = r.stage(VIEWER_REQUEST);
    assert_eq!(vr.failures(), 0);
    let (a, b) = (r.variants["A"], r.variants["B"]);
    assert_eq!(
        a + b,
        vr.invocations,
        "every experiment request gets a variant"
    );
    // 70% of requests are under /experiment/.
    assert!((share(vr.invocations, r.counters.requests) - 0.7).abs() < 0.02);
    assert!(
        (share(b, a + b) - 0.25).abs() < 0.03,
        "B got {:.3}",
        share(b, a + b)
    );
    assert_eq!(r.counters.status_2xx, r.counters.requests);
}

#[test]
fn ab_test_javascript_handler_runs_unmodified() {
    let r = run("ab-test-js");
    let vr = r.stage(VIEWER_REQUEST);
    assert_eq!(vr.failures(), 0, "{vr:?}");
    assert!((share(vr.invocations, r.counters.requests) - 0.7).abs() < 0.02);
    assert!(vr.cold_starts >= 1 && vr.cold_starts < 100, "{vr:?}");
    assert_eq!(r.counters.status_2xx, r.counters.requests);
}

#[test]
fn ab_test_python_handler_runs_unmodified() {
    let r = run("ab-test-py");
    let vr = r.stage(VIEWER_REQUEST);
    assert_eq!(vr.failures(), 0, "{vr:?}");
    assert!((share(vr.invocations, r.counters.requests) - 0.7).abs() < 0.02);
    assert!(vr.cold_starts >= 1 && vr.cold_starts < 100, "{vr:?}");
    assert_eq!(r.counters.status_2xx, r.counters.requests);
    let again = run("ab-test-py");
    assert_eq!(again.counters, r.counters, "a Python run is deterministic");
}

#[test]
fn geo_redirect_python_handler_redirects_japan_and_caches_it() {
    let r = run("geo-redirect-py");
    let or = r.stage(ORIGIN_REQUEST);
    assert_eq!(or.failures(), 0, "{or:?}");
    let redirected = share(r.counters.status_3xx, r.counters.requests);
    assert!(
        (redirected - 0.15).abs() < 0.02,
        "{redirected:.3} redirected: {:?} {or:?}",
        r.counters
    );
    // Generated at origin-request, so cached: later Japanese viewers are answered from cache.
    assert!(
        or.responded > 0 && or.responded < r.counters.status_3xx,
        "{or:?}"
    );
    assert_eq!(
        r.counters.status_2xx + r.counters.status_3xx,
        r.counters.requests
    );
}

fn assert_migration_split(name: &str) {
    let r = run(name);
    let or = r.stage(ORIGIN_REQUEST);
    assert_eq!(or.failures(), 0, "{name}: {or:?}");
    // origin-request runs exactly on the way to the origin.
    assert_eq!(or.invocations, r.counters.origin_fetches, "{name}");
    let new = share(r.origin("new-bucket"), r.counters.origin_fetches);
    assert!(
        (new - 0.2).abs() < 0.02,
        "{name}: new bucket got {new:.3} of fetches"
    );
}

#[test]
fn s3_migration_sends_a_fifth_of_fetches_to_the_new_bucket() {
    assert_migration_split("s3-migration");
    assert_migration_split("s3-migration-js");
}

fn assert_device_content(name: &str) {
    let r = run(name);
    let or = r.stage(ORIGIN_REQUEST);
    assert_eq!(or.failures(), 0, "{name}: {or:?}");
    assert_eq!(or.invocations, r.counters.origin_fetches, "{name}");
    assert_eq!(r.counters.status_2xx, r.counters.requests, "{name}");
}

#[test]
fn device_content_runs_on_misses_only_and_keeps_variants_apart() {
    assert_device_content("device-content");
    assert_device_content("device-content-js");
    // The device headers in the cache key split the cache: fewer hits
    // than the same scenario without them.
    let split = run("device-content");
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/device-content.toml"),
    )
    .unwrap();
    let start = text.find("cache_key_headers").unwrap();
    let end = start + text[start..].find('\n').unwrap();
    let shared_text = format!("{}{}", &text[..start], &text[end..]);
    let shared =
        Arc::new(Scenario::from_toml("scenarios/device-content.toml", &shared_text).unwrap());
    let demand = Routing::nearest(&shared).demand(&shared, shared.viewers.requests_per_sec);
    let mut c = Counters::default();
    for (i, d) in demand.iter().enumerate() {
        let mut sim = RegionSim::new(Arc::clone(&shared), i).unwrap();
        for e in 0..shared.simulation.epochs() {
            for p in sim.advance(e, d).unwrap().pops {
                c.add(&p.counters);
            }
        }
    }
    assert!(
        c.hit_ratio() > split.counters.hit_ratio() + 0.02,
        "{} vs {}",
        c.hit_ratio(),
        split.counters.hit_ratio()
    );
}

fn assert_geo(name: &str) {
    let r = run(name);
    let or = r.stage(ORIGIN_REQUEST);
    assert_eq!(or.failures(), 0, "{name}: {or:?}");
    // Japanese viewers (15%) are redirected; the redirect is generated at
    // origin-request and cached, so later ones are answered from cache.
    let redirected = share(r.counters.status_3xx, r.counters.requests);
    assert!(
        (redirected - 0.15).abs() < 0.02,
        "{name}: {redirected:.3} redirected: {:?} {or:?}",
        r.counters
    );
    assert!(
        or.responded > 0 && or.responded < r.counters.status_3xx,
        "{name}: {or:?}"
    );
    // German viewers' misses reach the EU bucket, Americans' the US one.
    assert!(r.origin("content-eu") > 0, "{name}");
    assert!(r.origin("content-us") > 0, "{name}");
}

#[test]
fn geo_content_routes_by_country_and_redirects() {
    assert_geo("geo-content");
    assert_geo("geo-content-js");
}

/// Setting a TTL at origin-response (a classic use: the origin sends no
/// Cache-Control, a function adds one): CloudFront reads the function's
/// Cache-Control like an origin's, within the cache policy's TTLs.
#[test]
fn a_cache_control_set_at_origin_response_decides_the_ttl() {
    let with = |origin_response: &str| {
        let text = format!(
            r#"
[simulation]
duration_secs = 60
seed = 3
[[pops]]
id = "fra"
city = "FRA"
cache_bytes = "1GiB"
[[origins]]
id = "o"
kind = "s3"
location = "eu-central-1"
[catalog]
objects = 200
zipf_alpha = 0.8
size = "10KiB"
ttl_secs = 3600
[viewers]
requests_per_sec = 200
countries = {{ DE = 1 }}
[[behaviors]]
path = "*"
{origin_response}
"#
        );
        run_scenario(Arc::new(
            Scenario::from_toml("ttl.toml", &text).unwrap_or_else(|d| panic!("{d}")),
        ))
    };
    let class_ttl =
        with(r#"origin_response = { builtin = "add_headers", headers = { "X-Seen" = "1" } }"#);
    let short = with(
        r#"origin_response = { builtin = "add_headers", headers = { "Cache-Control" = "max-age=5" } }"#,
    );
    let no_store = with(
        r#"origin_response = { builtin = "add_headers", headers = { "Cache-Control" = "no-store" } }"#,
    );
    // 200 objects under a 1-hour TTL: each is fetched about once.
    assert!(
        class_ttl.counters.origin_fetches <= 200,
        "{:?}",
        class_ttl.counters
    );
    // max-age=5: refetched (revalidated) every 5 s while requested.
    let refreshes = short.counters.origin_fetches + short.counters.origin_revalidations;
    assert!(
        refreshes > 5 * class_ttl.counters.origin_fetches,
        "{:?}",
        short.counters
    );
    // no-store: every request goes to the origin.
    assert_eq!(no_store.counters.origin_fetches, no_store.counters.requests);
}

/// An origin group whose retry finds the origin-request function failing
/// (here: throttled by the account's quota) still ends each request one
/// way (`run_scenario` checks it) and answers with the function's 503.
#[test]
fn a_failing_function_on_the_failover_retry_answers_once() {
    let text = r#"
[simulation]
duration_secs = 30
seed = 4
[[pops]]
id = "fra"
city = "FRA"
cache_bytes = "1GiB"
[[origins]]
id = "primary"
kind = "s3"
location = "eu-central-1"
error_share = 1.0
failover_to = "backup"
failover_on = [500]
[[origins]]
id = "backup"
kind = "s3"
location = "eu-west-1"
[catalog]
objects = 100000
zipf_alpha = 0.5
size = "10KiB"
ttl_secs = 3600
[viewers]
requests_per_sec = 100
countries = { DE = 1 }
[lambda]
rate_limit_rps = 3
[[behaviors]]
path = "*"
origin_request = { builtin = "add_headers", headers = { "X-Group" = "1" } }
"#;
    let run = run_scenario(Arc::new(
        Scenario::from_toml("retry.toml", text).unwrap_or_else(|d| panic!("{d}")),
    ));
    let origin_request = run.stage(1);
    // About 3 admitted per second; some of them are retries.
    assert!(origin_request.throttled > 2_000, "{origin_request:?}");
    assert!(run.origin("primary") > 0 && run.origin("backup") > 0);
    assert!(run.counters.status_5xx > 2_000);
}

/// Each viewer's geolocation headers are its own city's: `geo_content` keyed on one city sends
/// exactly that city's share of the viewers to another origin.
#[test]
fn geo_content_sees_each_viewers_own_city() {
    let text = r#"
[simulation]
duration_secs = 20
seed = 5
[[pops]]
id = "iad"
city = "IAD"
cache_bytes = "1GiB"
[[pops]]
id = "lax"
city = "LAX"
cache_bytes = "1GiB"
[[origins]]
id = "content-us"
kind = "s3"
location = "us-east-1"
domain_name = "content-us.s3.us-east-1.amazonaws.com"
[[origins]]
id = "content-la"
kind = "s3"
location = "us-west-1"
domain_name = "content-la.s3.us-west-1.amazonaws.com"
[catalog]
objects = 1_000_000
zipf_alpha = 0.1
size = "1KiB"
ttl_secs = 0
origin = "content-us"
[viewers]
requests_per_sec = 1000
population = 50_000
countries = { US = 1 }
[[behaviors]]
path = "/*"
cache_key_headers = ["CloudFront-Viewer-Country", "CloudFront-Viewer-Country-Region", "CloudFront-Viewer-City"]
origin_request = { builtin = "geo_content", regions = { "US-WA" = { origin = "content-la.s3.us-west-1.amazonaws.com", origin_region = "us-west-1" } }, cities = { "US/Los Angeles" = { origin = "content-la.s3.us-west-1.amazonaws.com", origin_region = "us-west-1" } } }
"#;
    let scenario = Arc::new(Scenario::from_toml("city.toml", text).unwrap());
    let us = &scenario.viewers.countries[0];
    let expected: f64 = us
        .cities
        .iter()
        .filter(|c| {
            let city = edgesim_model::cities::city(c.city).unwrap();
            city.name == "Los Angeles" || city.region_code == "WA"
        })
        .map(|c| c.share)
        .sum();
    assert!(expected > 0.05, "{expected}");
    let r = run_scenario(Arc::clone(&scenario));
    let or = r.stage(ORIGIN_REQUEST);
    assert_eq!(or.failures(), 0, "{or:?}");
    let la = share(r.origin("content-la"), r.counters.origin_fetches);
    assert!(
        (la - expected).abs() < 0.015,
        "{la:.3} of fetches to the LA bucket, {expected:.3} expected"
    );
}
