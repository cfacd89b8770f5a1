//! Origin Shield end to end (coordinator + in-process agents): it takes
//! origin fetches off the origin, and the result does not depend on how
//! many agents simulate the regions.

use std::sync::Arc;

use edgesim_coordinator::{AgentSource, RunConfig, run};
use edgesim_model::Scenario;
use edgesim_report::Summary;

const SCENARIO: &str = include_str!("../../../scenarios/origin-shield.toml");

/// The shipped scenario, shortened (and lighter) for a test.
fn text(with_shield: bool) -> String {
    let mut t = SCENARIO
        .replace("duration_secs = 120", "duration_secs = 20")
        .replace("requests_per_sec = 4000", "requests_per_sec = 1500")
        .replace("objects = 200_000", "objects = 40_000");
    if !with_shield {
        t = t
            .lines()
            .filter(|l| !l.starts_with("shield_"))
            .collect::<Vec<_>>()
            .join("\n");
    }
    t
}

async fn summary(with_shield: bool, agents: usize) -> Summary {
    summary_logged(with_shield, agents, None).await
}

async fn summary_logged(
    with_shield: bool,
    agents: usize,
    log: Option<std::path::PathBuf>,
) -> Summary {
    let t = text(with_shield);
    let s = Arc::new(Scenario::from_toml("origin-shield.toml", &t).expect("valid"));
    let mut config = RunConfig::new(AgentSource::InProcess { count: agents });
    config.epoch_log = log;
    run(s, &t, &config, |_| {}).await.expect("run succeeds")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shield_takes_fetches_off_the_origin_and_reports_its_tier() {
    let without = summary(false, 2).await;
    let with = summary(true, 2).await;
    let (a, b) = (&without.totals, &with.totals);
    eprintln!(
        "origin fetches: {} without the shield, {} with it; shield hit ratio {:.3}; offload {:.3} -> {:.3}",
        a.origin_fetches,
        b.origin_fetches,
        b.shield_hit_ratio,
        a.offload_requests,
        b.offload_requests
    );
    // The viewers and what they ask for do not depend on the tiers.
    assert_eq!(a.requests, b.requests);
    assert_eq!(a.viewer_bytes, b.viewer_bytes);
    assert!(without.shields.is_empty());
    assert_eq!(a.shield_requests, 0);
    assert_eq!(with.shields.len(), 1);
    let shield = &with.shields[0];
    assert_eq!(
        (shield.origin.as_str(), shield.region.as_str()),
        ("site", "us-east-1")
    );
    assert!(shield.hit_ratio > 0.0, "{shield:?}");
    assert_eq!(
        shield.requests,
        shield.hits + shield.collapsed + shield.misses
    );
    // Every origin fetch now leaves from the shield.
    assert_eq!(shield.misses, b.origin_fetches);
    assert_eq!(b.shield_requests, shield.requests);
    assert!(
        (b.origin_fetches as f64) < 0.8 * a.origin_fetches as f64,
        "origin fetches with the shield {} vs {} without",
        b.origin_fetches,
        a.origin_fetches
    );
    let tiers = with.tiers();
    assert!(tiers.shield > 0.0);
    assert!((tiers.edge + tiers.regional + tiers.shield + tiers.origin - 1.0).abs() < 1e-9);
    let per_epoch: u64 = with.timeseries.iter().map(|r| r.shield_requests).sum();
    assert_eq!(per_epoch, shield.requests);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn summary_with_a_shield_is_byte_identical_for_1_and_3_agents_and_rebuilt() {
    let log = std::env::temp_dir().join(format!("edgesim-shield-{}.log", std::process::id()));
    let one = serde_json::to_string_pretty(&summary(true, 1).await).unwrap();
    let three =
        serde_json::to_string_pretty(&summary_logged(true, 3, Some(log.clone())).await).unwrap();
    assert!(one.contains("\"shields\""));
    assert!(one == three, "summary differs with 3 agents");
    // The epoch log holds the shield accesses: a rebuild gives the same bytes.
    let rebuilt = edgesim_coordinator::rebuild(&log).expect("log readable");
    let _ = std::fs::remove_file(&log);
    let rebuilt = serde_json::to_string_pretty(&rebuilt.summary).unwrap();
    assert!(one == rebuilt, "rebuilt summary differs");
}
