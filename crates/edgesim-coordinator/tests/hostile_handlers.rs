//! Runaway handlers inside a whole run (tests/hostile/runaway.toml): microtask loops, a
//! catastrophic regex, a busy loop, a console flood and an interval each end as a timeout for
//! their behaviour and stage (503 to the viewer), the run goes on to its last epoch, and the
//! cut-off, counted in work and not in time, gives the same summary for any number of agents.

use std::sync::Arc;

use edgesim_coordinator::{AgentSource, RunConfig, run};
use edgesim_model::Scenario;
use edgesim_report::Summary;

async fn runaway(agents: usize) -> Summary {
    let path = format!("{}/tests/hostile/runaway.toml", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    let s = Scenario::from_toml(&path, &text).unwrap_or_else(|d| panic!("{d}"));
    run(
        Arc::new(s),
        &text,
        &RunConfig::new(AgentSource::InProcess { count: agents }),
        |_| {},
    )
    .await
    .expect("the run goes on through runaway handlers")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runaway_handlers_time_out_and_the_run_goes_on() {
    let one = runaway(1).await;
    assert!(one.complete);
    assert_eq!(one.epochs, 8);
    let t = &one.triggers[0];
    assert_eq!(t.stage, "viewer-request");
    assert_eq!(
        t.invocations, one.totals.requests,
        "every request runs the function"
    );
    assert!(
        t.timeouts * 4 > t.invocations && t.timeouts * 4 < t.invocations * 3,
        "about half of the objects meet a runaway: {t:?}"
    );
    assert_eq!(
        t.errors + t.invalid + t.out_of_memory + t.throttled,
        0,
        "{t:?}"
    );
    // A timed-out viewer-request function answers 503 and nothing else fails.
    assert_eq!(one.totals.status_5xx, t.timeouts);
    // The floods' output: counted per behaviour and stage, cut per invocation, and kept per
    // region within the region's budget.
    assert!(t.log_lines > 0 && t.log_truncated > 0, "{t:?}");
    let budget = edgesim_sim::FUNCTION_LOG_CHARS_PER_REGION;
    for (region, lines) in &one.function_logs {
        let kept: usize = lines.iter().map(String::len).sum();
        assert!(kept <= budget, "{region} kept {kept} characters");
        let r = one.regions.iter().find(|r| &r.id == region).unwrap();
        assert_eq!(r.function_log_lines, lines.len() as u64);
        assert!(r.function_log_lines_dropped > 0, "{r:?}");
    }
    assert!(!one.function_logs.is_empty());
    // Counted work, not time: the same summary and logs with two agents.
    let two = runaway(2).await;
    assert_eq!(
        serde_json::to_string_pretty(&one).unwrap(),
        serde_json::to_string_pretty(&two).unwrap()
    );
    assert_eq!(one.function_logs, two.function_logs);
}
