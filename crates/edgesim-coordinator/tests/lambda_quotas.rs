//! The account's Lambda@Edge quotas per region (`[lambda]`): every
//! function in a region shares 1,000 concurrent executions and 10,000
//! requests/s by default, and beyond them invocations are throttled (503).

use std::sync::Arc;

use edgesim_coordinator::{AgentSource, RunConfig, run};
use edgesim_model::Scenario;
use edgesim_model::overrides::apply_overrides;
use edgesim_report::Summary;

async fn ab_test(overrides: &[&str], agents: usize) -> Summary {
    let path = format!(
        "{}/../../scenarios/ab-test.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let mut all = vec!["simulation.duration_secs=30".to_owned()];
    all.extend(overrides.iter().map(|s| s.to_string()));
    let text = apply_overrides(&text, &all).unwrap();
    let s = Scenario::from_toml(&path, &text).unwrap_or_else(|d| panic!("{d}"));
    run(
        Arc::new(s),
        &text,
        &RunConfig::new(AgentSource::InProcess { count: agents }),
        |_| {},
    )
    .await
    .expect("run succeeds")
}

fn throttled_by_functions(s: &Summary) -> u64 {
    s.triggers.iter().map(|t| t.throttled).sum()
}

fn region<'a>(s: &'a Summary, id: &str) -> &'a edgesim_report::summary::RegionLambda {
    s.regions
        .iter()
        .find(|r| r.id == id)
        .and_then(|r| r.lambda.as_ref())
        .unwrap_or_else(|| panic!("region {id} ran functions"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_quotas_leave_a_small_site_alone() {
    let s = ab_test(&[], 2).await;
    assert_eq!(throttled_by_functions(&s), 0);
    assert_eq!(s.totals.status_5xx, 0);
    let q = s.lambda_quotas.expect("the scenario has functions");
    assert_eq!((q.concurrency_limit, q.rate_limit_rps), (1_000, 10_000.0));
    // 1,000 requests/s of 1 ms functions (plus cold starts) over 3
    // regions: a handful of executions at once.
    let eu = region(&s, "eu-central-1");
    assert!(
        eu.peak_concurrency >= 1 && eu.peak_concurrency < 200,
        "{eu:?}"
    );
    assert_eq!(eu.peak_concurrency_per_epoch.len(), s.timeseries.len());
    assert_eq!(eu.throttled_rate + eu.throttled_concurrency, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_over_the_quota_is_throttled_to_the_quota() {
    // 1,000 viewer requests/s, 70% through the A/B behaviour: US viewers
    // (35%) make about 245 invocations/s in us-east-1; a quota of 150/s
    // refuses about 40% of them, and each refusal is a 503.
    let s = ab_test(&["lambda.rate_limit_rps=150"], 2).await;
    let us = region(&s, "us-east-1");
    assert_eq!(us.throttled_concurrency, 0);
    let invocations: u64 = s.triggers.iter().map(|t| t.invocations).sum();
    let throttled = throttled_by_functions(&s);
    let all_regions: u64 = s
        .regions
        .iter()
        .filter_map(|r| r.lambda.as_ref())
        .map(|l| l.throttled_rate + l.throttled_concurrency)
        .sum();
    assert_eq!(throttled, all_regions, "every refusal is counted once");
    // Over 30 s a region admits at most 150 per second.
    let us_invocations = 0.7 * 0.35 * 1_000.0 * 30.0;
    let expected = us_invocations - 150.0 * 30.0;
    assert!(
        (us.throttled_rate as f64 - expected).abs() < 0.1 * expected,
        "us-east-1 throttled {} of about {us_invocations}; expected about {expected}",
        us.throttled_rate
    );
    assert!(throttled > 0 && throttled < invocations);
    assert!(
        s.totals.status_5xx >= throttled,
        "a throttled viewer gets a 503"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_concurrency_quota_is_shared_by_the_regions_functions() {
    // One execution at a time, 1 ms each plus 150 ms cold starts: at
    // hundreds of invocations per second some find the slot taken.
    let s = ab_test(&["lambda.concurrency_limit=1"], 1).await;
    let us = region(&s, "us-east-1");
    assert!(us.throttled_concurrency > 0, "{us:?}");
    assert_eq!(us.peak_concurrency, 1);
    assert_eq!(us.throttled_rate, 0);
    // The same run on three agents gives the same summary.
    let again = ab_test(&["lambda.concurrency_limit=1"], 3).await;
    assert_eq!(
        serde_json::to_string(&s).unwrap(),
        serde_json::to_string(&again).unwrap()
    );
}
