//! Gradual origin migrations end to end (coordinator, agents, controller):
//! the behaviours the migration strategies are compared by.

use std::sync::Arc;

use edgesim_coordinator::{AgentSource, RunConfig, run};
use edgesim_model::Scenario;
use edgesim_report::Summary;

/// Two buckets, one PoP per region, a catalogue that turns over within
/// the run (TTL 120 s); `migration` is the `[migration]` table's body.
fn scenario_text(new_origin: &str, migration: &str) -> String {
    format!(
        r#"
name = "m"
[simulation]
duration_secs = 900
epoch_ms = 5000
seed = 11
[[pops]]
id = "fra"
city = "FRA"
cache_bytes = "512MiB"
[[pops]]
id = "iad"
city = "IAD"
region = "us-east-1"
cache_bytes = "512MiB"
[[origins]]
id = "old"
kind = "s3"
location = "us-east-1"
[[origins]]
id = "new"
kind = "s3"
location = "eu-central-1"
{new_origin}
[catalog]
objects = 20000
zipf_alpha = 0.8
size = "20KiB"
ttl_secs = 120
origin = "old"
[viewers]
requests_per_sec = 400
population = 20000
countries = {{ DE = 0.5, US = 0.5 }}
[migration]
from = "old"
to = "new"
{migration}
"#
    )
}

async fn run_text(text: &str) -> Summary {
    run_with_agents(text, 2).await
}

async fn run_with_agents(text: &str, agents: usize) -> Summary {
    let scenario = Arc::new(Scenario::from_toml("m.toml", text).expect("valid scenario"));
    let config = RunConfig::new(AgentSource::InProcess { count: agents });
    run(scenario, text, &config, |_| {})
        .await
        .expect("run succeeds")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn realised_share_converges_to_the_weight_once_caches_turn_over() {
    let s = run_text(&scenario_text(
        "",
        "split = \"object_hash\"\nstart_secs = 100\nschedule = { kind = \"steps\", steps = [ { percent = 30 } ] }",
    ))
    .await;
    let m = s.migration.expect("migration summary");
    assert_eq!(m.kpis.outcome, "in_progress");
    let first = &m.epochs[20]; // the first epoch at 30%
    assert_eq!(first.planned_weight, 0.3);
    assert!(
        first.realised_served_share < 0.2,
        "responses lag: cached copies of moved objects still come from the old bucket ({})",
        first.realised_served_share
    );
    // After two TTLs every cached copy was fetched under the split.
    let late: Vec<_> = m.epochs.iter().filter(|e| e.end_secs > 400.0).collect();
    let mean = |f: fn(&&edgesim_report::MigrationEpoch) -> f64| {
        late.iter().map(f).sum::<f64>() / late.len() as f64
    };
    let fetch = mean(|e| e.realised_fetch_share);
    let served = mean(|e| e.realised_served_share);
    // Per-object hashing moves 30% of objects, not of traffic: with Zipf
    // popularity the shares are near but not at the weight.
    assert!((fetch - 0.3).abs() < 0.08, "fetch share {fetch}");
    assert!((served - 0.3).abs() < 0.08, "served share {served}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_new_origin_is_aborted_within_the_budget_and_the_share_returns_to_zero() {
    let s = run_text(&scenario_text(
        "error_share = 0.2",
        "start_secs = 100\nschedule = { kind = \"linear\", step_percent = 10, every_secs = 30 }\n\
         [[migration.gates]]\nmetric = \"new_origin_error_rate\"\nmax = 0.05\ninterval_secs = 30\nmin_samples = 50\nbudget = 1",
    ))
    .await;
    let m = s.migration.expect("migration summary");
    let abort = m.kpis.abort.as_ref().expect("aborted");
    // Two failed evaluations (budget 1), 30 s apart, from the start.
    assert!(
        abort.at_secs <= 100.0 + 2.0 * 30.0 + 5.0,
        "aborted at {}",
        abort.at_secs
    );
    assert_eq!(m.kpis.outcome, "rolled_back");
    assert!(m.kpis.viewers_exposed_to_errors > 0);
    let last = m.epochs.last().unwrap();
    assert_eq!(last.planned_weight, 0.0);
    assert_eq!(last.realised_fetch_share, 0.0);
    assert!(
        last.realised_served_share <= 0.001,
        "cached copies from the new bucket expired: {}",
        last.realised_served_share
    );
    let rollback = m.kpis.time_to_rollback_secs.expect("rolled back");
    assert!(rollback > 0.0 && rollback <= 120.0 + 30.0, "{rollback}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gradual_rollback_lowers_the_old_origins_peak_compared_with_instant() {
    // Viewer cohorts in the cache key: moving a cohort back finds the old
    // arm's copies expired, so an instant rollback sends every such miss
    // to the old bucket at once.
    let migration = |rollback: &str| {
        format!(
            "split = \"viewer_cohort_keyed\"\nstart_secs = 100\nrollback = {rollback}\n\
             schedule = {{ kind = \"linear\", step_percent = 20, every_secs = 30 }}\n\
             [[migration.gates]]\nmetric = \"error_rate\"\nmax = 0.035\ninterval_secs = 30\nmin_samples = 100\nbudget = 0"
        )
    };
    let instant = run_text(&scenario_text(
        "error_share = 0.05",
        &migration("\"instant\""),
    ))
    .await;
    let gradual = run_text(&scenario_text(
        "error_share = 0.05",
        &migration("{ kind = \"gradual\", step_percent = 10, every_secs = 20 }"),
    ))
    .await;
    let (i, g) = (
        instant.migration.expect("instant"),
        gradual.migration.expect("gradual"),
    );
    let (ai, ag) = (i.kpis.abort.clone().unwrap(), g.kpis.abort.clone().unwrap());
    assert_eq!(ai.at_secs, ag.at_secs, "same run up to the abort");
    assert!(
        g.kpis.peak_old_origin_rps < i.kpis.peak_old_origin_rps * 0.9,
        "gradual {} vs instant {}",
        g.kpis.peak_old_origin_rps,
        i.kpis.peak_old_origin_rps
    );
    assert!(
        g.kpis.error_responses > i.kpis.error_responses,
        "the price: viewers stay longer on the bad origin"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn continuous_deployment_keeps_staging_in_its_own_cold_cache_then_promotes() {
    let s = run_text(&scenario_text(
        "",
        "split = \"continuous_deployment\"\nsticky = true\nstart_secs = 100\npromote_at_secs = 500\n\
         schedule = { kind = \"steps\", steps = [ { percent = 15 } ] }",
    ))
    .await;
    let m = s.migration.expect("migration summary");
    let staging: Vec<_> = m
        .epochs
        .iter()
        .filter(|e| e.end_secs > 300.0 && e.end_secs <= 500.0)
        .collect();
    let served =
        staging.iter().map(|e| e.realised_served_share).sum::<f64>() / staging.len() as f64;
    let fetched =
        staging.iter().map(|e| e.realised_fetch_share).sum::<f64>() / staging.len() as f64;
    assert!((served - 0.15).abs() < 0.04, "15% of viewers: {served}");
    assert!(
        fetched > served + 0.02,
        "staging's own cache is colder, so it fetches more: {fetched} vs {served}"
    );
    assert_eq!(m.kpis.time_to_full_secs, Some(500.0));
    assert_eq!(m.kpis.outcome, "completed");
    assert!(m.epochs.last().unwrap().realised_served_share > 0.99);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_migration_with_gates_is_byte_identical_for_1_and_3_agents() {
    let text = scenario_text(
        "error_share = 0.1",
        "split = \"viewer_sticky\"\nstart_secs = 100\nschedule = \"LambdaLinear10PercentEvery1Minute\"\n\
         rollback = { kind = \"gradual\", step_percent = 10, every_secs = 20 }\n\
         [[migration.gates]]\nmetric = \"p99_ms\"\nmax = 2000\ninterval_secs = 30\n\
         [[migration.gates]]\nmetric = \"new_origin_error_rate\"\nmax = 0.05\ninterval_secs = 60\nbudget = 1",
    );
    let one = edgesim_report::write::summary_json(&run_with_agents(&text, 1).await);
    let three = edgesim_report::write::summary_json(&run_with_agents(&text, 3).await);
    assert!(one.contains("\"migration\""));
    assert_eq!(one, three);
}

#[test]
fn shipped_migration_scenarios_parse_with_their_variants() {
    for name in ["migration", "migration-bad-origin", "continuous-deployment"] {
        let path = format!("{}/../../scenarios/{name}.toml", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap();
        let s = Scenario::from_toml(&path, &text).unwrap_or_else(|d| panic!("{d}"));
        assert!(s.migration.is_some(), "{name}");
        assert!(!s.variants.is_empty(), "{name}");
    }
}

/// Eight countries (largest share 0.2) on two PoPs, short TTLs so caches
/// turn over quickly, and a country split held at `percent` from 60 s.
fn country_split_text(percent: f64) -> String {
    format!(
        r#"
name = "country"
[simulation]
duration_secs = 480
epoch_ms = 5000
seed = 23
[[pops]]
id = "fra"
city = "FRA"
cache_bytes = "512MiB"
[[pops]]
id = "iad"
city = "IAD"
region = "us-east-1"
cache_bytes = "512MiB"
[[origins]]
id = "old"
kind = "s3"
location = "us-east-1"
[[origins]]
id = "new"
kind = "s3"
location = "eu-central-1"
[catalog]
objects = 20000
zipf_alpha = 0.8
size = "20KiB"
ttl_secs = 60
origin = "old"
[viewers]
requests_per_sec = 600
population = 20000
countries = {{ DE = 0.2, US = 0.2, GB = 0.15, FR = 0.12, CA = 0.1, NL = 0.09, ES = 0.08, IT = 0.06 }}
[migration]
from = "old"
to = "new"
split = "country"
start_secs = 60
schedule = {{ kind = "steps", steps = [ {{ percent = {percent} }} ] }}
"#
    )
}

/// The largest country's share in [`country_split_text`].
const LARGEST_COUNTRY: f64 = 0.2;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_country_split_moves_whole_countries_up_to_the_planned_share_of_traffic() {
    for percent in [10.0, 40.0, 80.0] {
        let planned = percent / 100.0;
        let s = run_text(&country_split_text(percent)).await;
        let m = s.migration.as_ref().expect("migration summary");
        let order = m.country_order.as_ref().expect("a country split's order");
        assert_eq!(order.len(), 8);
        let largest = order.iter().map(|c| c.share).fold(0.0, f64::max);
        assert!((largest - LARGEST_COUNTRY).abs() < 1e-12);
        // The moved countries are reported per epoch: none before the
        // start, then the same prefix of the order throughout.
        let moved = m.epochs.last().and_then(|e| e.moved_countries.clone());
        let moved = moved.expect("moved countries per epoch");
        assert!(
            m.epochs[0]
                .moved_countries
                .as_ref()
                .is_some_and(Vec::is_empty)
        );
        let prefix: Vec<String> = order
            .iter()
            .take(moved.len())
            .map(|c| c.code.clone())
            .collect();
        assert_eq!(moved, prefix, "countries move in the seeded order");
        // Viewer requests of the moved countries: their share of traffic.
        let requests = |code: &str| {
            s.countries
                .iter()
                .find(|c| c.code == code)
                .map_or(0, |c| c.requests) as f64
        };
        let all: f64 = s.countries.iter().map(|c| c.requests as f64).sum();
        let routed = moved.iter().map(|c| requests(c)).sum::<f64>() / all;
        // Once every cached copy was fetched under the split (two TTLs).
        let late: Vec<_> = m.epochs.iter().filter(|e| e.end_secs > 200.0).collect();
        assert!(late.iter().all(|e| e.planned_weight == planned));
        let fetches: f64 = late
            .iter()
            .map(|e| e.new_origin_rps + e.old_origin_rps)
            .sum();
        let fetch = late.iter().map(|e| e.new_origin_rps).sum::<f64>() / fetches;
        let served = late.iter().map(|e| e.realised_served_share).sum::<f64>() / late.len() as f64;
        eprintln!(
            "planned {planned}: moved {moved:?}, their requests {routed:.3}, fetch share {fetch:.3}, served share {served:.3}"
        );
        // The moved countries' traffic is the nearest prefix: within half
        // the largest share (plus sampling noise).
        assert!(
            (routed - planned).abs() <= LARGEST_COUNTRY / 2.0 + 0.01,
            "planned {planned}: requests of moved countries {routed}"
        );
        for (what, share) in [("fetch", fetch), ("served", served)] {
            assert!(
                (share - planned).abs() <= LARGEST_COUNTRY,
                "planned {planned}: {what} share {share}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_country_split_is_byte_identical_for_1_and_3_agents() {
    let text = country_split_text(40.0);
    let one = edgesim_report::write::summary_json(&run_with_agents(&text, 1).await);
    let three = edgesim_report::write::summary_json(&run_with_agents(&text, 3).await);
    assert!(one.contains("\"moved_countries\""));
    assert!(one.contains("\"country_order\""));
    assert_eq!(one, three);
}
