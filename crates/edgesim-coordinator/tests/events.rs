//! Capacity and failure scenarios end to end: the shipped flash-crowd,
//! PoP-outage and origin-failover scenarios do what their descriptions say.

use std::sync::Arc;

use edgesim_coordinator::{AgentSource, RunConfig, run};
use edgesim_model::Scenario;
use edgesim_model::overrides::apply_overrides;
use edgesim_report::Summary;

fn shipped(name: &str, overrides: &[&str]) -> (Arc<Scenario>, String) {
    let path = format!("{}/../../scenarios/{name}.toml", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    let text = apply_overrides(&text, &overrides).unwrap();
    let s = Scenario::from_toml(&path, &text).unwrap_or_else(|d| panic!("{d}"));
    (Arc::new(s), text)
}

async fn run_it(name: &str, overrides: &[&str]) -> Summary {
    let (s, text) = shipped(name, overrides);
    run(
        s,
        &text,
        &RunConfig::new(AgentSource::InProcess { count: 2 }),
        |_| {},
    )
    .await
    .expect("run succeeds")
}

fn epochs(s: &Summary, from: f64, to: f64) -> impl Iterator<Item = &edgesim_report::EpochRow> {
    s.timeseries
        .iter()
        .filter(move |r| r.start_secs >= from && r.end_secs <= to)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_3x_flash_crowd_overloads_the_origin_queue_and_times_out() {
    let s = run_it("flash-crowd", &["simulation.duration_secs=480"]).await;
    let before: Vec<_> = epochs(&s, 200.0, 300.0).collect();
    let during: Vec<_> = epochs(&s, 300.0, 420.0).collect();
    let mean = |rows: &[&edgesim_report::EpochRow], f: fn(&edgesim_report::EpochRow) -> f64| {
        rows.iter().map(|r| f(r)).sum::<f64>() / rows.len() as f64
    };
    let req_ratio = mean(&during, |r| r.requests as f64) / mean(&before, |r| r.requests as f64);
    assert!(
        (req_ratio - 3.0).abs() < 0.25,
        "viewer traffic x{req_ratio}"
    );
    let fetch_ratio =
        mean(&during, |r| r.origin_fetches as f64) / mean(&before, |r| r.origin_fetches as f64);
    assert!(
        fetch_ratio > 3.0,
        "new content misses: origin fetches x{fetch_ratio}"
    );
    let origin = &s.origins[0];
    let errors_before: u64 = origin.errors_per_epoch[..300].iter().sum();
    let errors_during: u64 = origin.errors_per_epoch[300..420].iter().sum();
    assert_eq!(errors_before, 0, "no queueing below capacity");
    let (u, wait) = (
        &origin.utilisation_per_epoch,
        &origin.queue_wait_ms_per_epoch,
    );
    assert_eq!(u.len(), s.timeseries.len());
    assert!(u[250] < 0.7 && u[350] > 1.0, "{} {}", u[250], u[350]);
    assert!(
        wait[250] < 50.0 && wait[350] > 1000.0,
        "{} {}",
        wait[250],
        wait[350]
    );
    assert!(errors_during > 1000, "504s once the queue passes 30 s");
    assert!(
        mean(&during[during.len() / 2..], |r| r.p99_ms) > 25_000.0,
        "p99 at the origin timeout"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pop_outage_moves_its_viewers_and_the_pop_comes_back_cold() {
    let with = run_it("pop-outage", &["simulation.duration_secs=500"]).await;
    let without = run_it(
        "pop-outage",
        &[
            "simulation.duration_secs=500",
            "events.0.at_secs=499",
            "events.0.for_secs=1",
        ],
    )
    .await;
    let pop = |s: &Summary, id: &str| s.pops.iter().find(|p| p.id == id).unwrap().clone();
    let (fra_with, fra_without) = (pop(&with, "fra"), pop(&without, "fra"));
    // Down for 200 of 500 s.
    let share = fra_with.requests as f64 / fra_without.requests as f64;
    assert!(
        (share - 0.6).abs() < 0.03,
        "fra kept {share} of its traffic"
    );
    let lost = 1.0 - with.totals.requests as f64 / without.totals.requests as f64;
    assert!(lost.abs() < 0.005, "nobody lost: {lost}");
    // Its viewers went elsewhere, to caches cold for them: more origin
    // fetches overall.
    assert!(with.totals.origin_fetches > without.totals.origin_fetches);
    assert!(
        fra_with.hit_ratio < fra_without.hit_ratio,
        "fra restarted empty"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_origin_group_fails_over_to_its_secondary_during_an_outage() {
    let s = run_it("origin-failover", &["simulation.duration_secs=400"]).await;
    assert_eq!(
        s.totals.status_5xx, 0,
        "viewers never see the outage's 502s"
    );
    let (primary, backup) = (&s.origins[0], &s.origins[1]);
    assert!(primary.errors_per_epoch[200..320].iter().all(|&e| e > 0));
    assert!(primary.errors_per_epoch[..200].iter().all(|&e| e == 0));
    assert!(backup.fetches_per_epoch[..200].iter().all(|&f| f == 0));
    assert!(backup.fetches_per_epoch[200..320].iter().all(|&f| f > 0));
    assert!(backup.fetches_per_epoch[320..].iter().all(|&f| f == 0));
    let p99 = |from, to| epochs(&s, from, to).map(|r| r.p99_ms).sum::<f64>() / (to - from);
    assert!(
        p99(200.0, 320.0) > p99(100.0, 200.0) + 50.0,
        "the failed try and the farther secondary cost time"
    );
}

#[test]
fn bad_events_are_reported_with_their_place() {
    let text = r#"
[simulation]
duration_secs = 60
[[pops]]
id = "fra"
city = "FRA"
cache_bytes = "1GiB"
[[origins]]
id = "o"
kind = "s3"
location = "us-east-1"
failover_to = "o"
[catalog]
objects = 10
zipf_alpha = 1
size = 100
ttl_secs = 10
[viewers]
requests_per_sec = 10
countries = { DE = 1 }
[traffic]
diurnal_amplitude = 1.5
[[events]]
kind = "pop_outage"
pop = "nowhere"
at_secs = 10
[[events]]
kind = "meteor"
at_secs = 5
[[events]]
kind = "origin_slowdown"
origin = "o"
at_secs = -1
"#;
    let errs: Vec<String> = Scenario::from_toml("e.toml", text)
        .unwrap_err()
        .0
        .iter()
        .map(ToString::to_string)
        .collect();
    let expect = [
        "e.toml:12:15: origin \"o\": an origin cannot fail over to itself",
        "e.toml:22:21: traffic: diurnal_amplitude must be in [0, 1), got 1.5",
        "e.toml:25:7: events #1 (pop_outage): no PoP \"nowhere\"",
        "e.toml:28:8: events #2: unknown kind \"meteor\"; kinds: pop_outage, regional_outage, origin_outage, origin_slowdown, network_degradation, flash_crowd",
        "e.toml:33:11: events #3 (origin_slowdown): at_secs must be >= 0, got -1",
    ];
    for e in expect {
        assert!(errs.iter().any(|x| x == e), "missing {e:?} in {errs:#?}");
    }
    assert!(
        errs.iter()
            .any(|x| x.ends_with("events #3 (origin_slowdown): factor is required for this kind")),
        "{errs:#?}"
    );
}

/// An S3 origin at 400 fetches/s behind a cache that keeps nothing.
fn slow_down_scenario(extra: &str) -> (Arc<Scenario>, String) {
    let text = format!(
        r#"
[simulation]
duration_secs = 90
seed = 5
[[pops]]
id = "fra"
city = "FRA"
cache_bytes = "1GiB"
[[origins]]
id = "bucket"
kind = "s3"
location = "eu-central-1"
throttle_rps = 100
{extra}
[catalog]
objects = 100000
zipf_alpha = 0.6
size = 1000
ttl_secs = 0
[viewers]
requests_per_sec = 400
countries = {{ DE = 1 }}
"#
    );
    let s = Scenario::from_toml("slow.toml", &text).unwrap_or_else(|d| panic!("{d}"));
    (Arc::new(s), text)
}

async fn run_inline((s, text): (Arc<Scenario>, String)) -> Summary {
    run(
        s,
        &text,
        &RunConfig::new(AgentSource::InProcess { count: 1 }),
        |_| {},
    )
    .await
    .expect("run succeeds")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_slow_down_limits_ramp_up_under_sustained_pressure() {
    let fixed = run_inline(slow_down_scenario("")).await;
    let ramp = run_inline(slow_down_scenario("throttle_doubling_secs = 15")).await;
    let (f, r) = (&fixed.origins[0], &ramp.origins[0]);
    // A fixed limit: 100 of 400 fetches/s get through, the whole run long.
    assert!(f.slow_down_limit_per_epoch.iter().all(|&l| l == 100.0));
    let late_share = |o: &edgesim_report::summary::OriginSummary| {
        let errors: u64 = o.errors_per_epoch[60..].iter().sum();
        let fetches: u64 = o.fetches_per_epoch[60..].iter().sum();
        errors as f64 / fetches as f64
    };
    assert!((late_share(f) - 0.75).abs() < 0.03, "{}", late_share(f));
    // Ramping: the limit doubles every 15 s while pressed, 100 -> 400 in
    // two doublings (30 s plus the one-epoch lag), then the 503s stop.
    let limits = &r.slow_down_limit_per_epoch;
    assert_eq!(limits.len(), ramp.timeseries.len());
    assert_eq!(limits[0], 100.0);
    assert!(limits.windows(2).all(|w| w[1] >= w[0]), "never shrinks");
    assert!(
        (limits[16] / 200.0 - 1.0).abs() < 0.05,
        "doubled after 15 s of pressure: {}",
        limits[16]
    );
    assert!(limits[45] > 380.0, "{}", limits[45]);
    assert!(late_share(r) < 0.02, "{}", late_share(r));
    let early: u64 = r.errors_per_epoch[..30].iter().sum();
    assert!(early > 2_000, "503s while S3 scales: {early}");
    assert!(r.throttled < f.throttled / 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn origin_request_functions_run_again_for_the_secondary_on_failover() {
    let path = format!(
        "{}/../../scenarios/origin-failover.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap()
        + r#"
[[behaviors]]
path = "*"
origin_request = { builtin = "add_headers", headers = { "X-Origin-Group" = "assets" } }
"#;
    let text = apply_overrides(&text, &["simulation.duration_secs=250".to_owned()]).unwrap();
    let s = Arc::new(Scenario::from_toml(&path, &text).unwrap_or_else(|d| panic!("{d}")));
    let s = run(
        s,
        &text,
        &RunConfig::new(AgentSource::InProcess { count: 2 }),
        |_| {},
    )
    .await
    .expect("run succeeds");
    assert_eq!(s.totals.status_5xx, 0, "the secondary answers");
    let (primary, backup) = (&s.origins[0], &s.origins[1]);
    assert!(backup.fetches > 1_000, "{}", backup.fetches);
    let origin_request = s
        .triggers
        .iter()
        .find(|t| t.stage == "origin-request")
        .expect("the function ran");
    // Once per fetch from the primary, and once more for each retry on
    // the secondary.
    assert_eq!(origin_request.invocations, primary.fetches + backup.fetches);
    assert_eq!(
        s.totals.origin_fetches, primary.fetches,
        "a viewer request counts one origin fetch, retries only at the origin"
    );
}
