//! A run stepped in process (`edgesim_run::SteppedRun`: no tokio, gRPC or
//! agent) gives the summary a coordinator gives with agents, byte for
//! byte: the coordinator adds transport, not behaviour. Checked on the
//! shipped scenarios with a migration, an Origin Shield, a PoP outage, a
//! flash crowd, an origin group (at a lower rate) and a replayed log.

use std::sync::Arc;

use edgesim_coordinator::{AgentSource, RunConfig, run};
use edgesim_model::Scenario;
use edgesim_run::SteppedRun;

fn shipped(name: &str, overrides: &[&str]) -> (Arc<Scenario>, String) {
    let path = format!("{}/../../scenarios/{name}.toml", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let overrides: Vec<String> = overrides.iter().map(|s| (*s).to_owned()).collect();
    let text = edgesim_model::overrides::apply_overrides(&text, &overrides)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let s = Scenario::from_toml(&path, &text).unwrap_or_else(|d| panic!("{d}"));
    (Arc::new(s), text)
}

async fn same_summary(name: &str, overrides: &[&str]) {
    let (s, text) = shipped(name, overrides);
    let replay = edgesim_model::replay::ReplayStream::open(&s).expect("logs open");
    let stepped = SteppedRun::new(Arc::clone(&s), replay)
        .expect("builds")
        .run_to_end()
        .expect("runs");
    let agents = run(
        Arc::clone(&s),
        &text,
        &RunConfig::new(AgentSource::InProcess { count: 2 }),
        |_| {},
    )
    .await
    .expect("run succeeds");
    assert!(stepped.totals.requests > 0, "{name}: traffic");
    assert_eq!(
        serde_json::to_string(&stepped).expect("serialises"),
        serde_json::to_string(&agents).expect("serialises"),
        "{name}: stepped in process vs two agents"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stepped_run_gives_the_coordinators_summary() {
    let short = ["viewers.requests_per_sec=300"];
    same_summary("migration", &short).await;
    same_summary("origin-shield", &short).await;
    same_summary("pop-outage", &short).await;
    same_summary("flash-crowd", &short).await;
    same_summary("origin-failover", &short).await;
    same_summary("from-logs/replay", &[]).await;
}
