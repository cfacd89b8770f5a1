//! Connection set-up in whole runs: a new viewer connection costs the
//! round trips its protocol's handshakes take (measured against the
//! request's own round trip), reuse and resumption cost nothing and one,
//! CloudFront's origin keep-alive saves the origin handshakes, the time to
//! first byte's parts add up to the latency, and all of it is the same for
//! any number of agents.

use std::sync::Arc;

use edgesim_coordinator::{AgentSource, RunConfig, run};
use edgesim_model::Scenario;
use edgesim_report::Summary;

/// Two PoPs in two regions, one origin far from both.
fn scenario(connections: &str, origin: &str) -> (Arc<Scenario>, String) {
    let text = format!(
        r#"
name = "connections"
[simulation]
duration_secs = 20
epoch_ms = 1000
seed = 5

[network]
jitter_ms = 0
{connections}

[[pops]]
id = "fra"
city = "FRA"
cache_bytes = "64MiB"

[[pops]]
id = "iad"
city = "IAD"
region = "us-east-1"
cache_bytes = "64MiB"

[viewers]
requests_per_sec = 400
population = 5_000
countries = {{ DE = 0.5, US = 0.5 }}

[[origins]]
id = "site"
kind = "custom"
location = "ap-southeast-2"
{origin}

[catalog]
objects = 20000
zipf_alpha = 0.7
size = "8KiB"
ttl_secs = 3600
"#
    );
    let s = Scenario::from_toml("connections.toml", &text).unwrap_or_else(|d| panic!("{d}"));
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

fn part(s: &Summary, name: &str) -> f64 {
    s.latency_breakdown.parts_mean_ms[name]
}

/// The request's own round trip to the PoP: the edge part less the edge's
/// processing time (0.3 ms by default).
fn viewer_rtt_ms(s: &Summary) -> f64 {
    part(s, "edge") - 0.3
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_new_tls12_connection_costs_three_round_trips() {
    // No page reuse, connections close at once and sessions expire: every
    // request opens a connection with a full TLS 1.2 handshake.
    let case = scenario(
        r#"[network.connections]
page_reuse_share = 0
viewer_idle_timeout_s = 0.000001
session_ticket_s = 0.000001
protocols = { tls12 = 1 }"#,
        "",
    );
    let s = run_with(&case, 1).await;
    let c = &s.connections;
    assert_eq!(c.viewer_reused + c.viewer_resumed, 0, "{c:?}");
    assert_eq!(c.viewer_new, s.totals.requests);
    let rtt = viewer_rtt_ms(&s);
    assert!(rtt > 1.0, "a real round trip: {rtt}");
    // TCP: one round trip; TLS 1.2: two (µs rounding per request).
    assert!(
        (part(&s, "connect") - rtt).abs() < 0.01,
        "{}",
        part(&s, "connect")
    );
    assert!(
        (part(&s, "tls") - 2.0 * rtt).abs() < 0.02,
        "{}",
        part(&s, "tls")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quic_resumes_with_zero_round_trips_and_tls13_with_one() {
    let h3 = scenario(
        r#"[network.connections]
page_reuse_share = 0
viewer_idle_timeout_s = 0.000001
protocols = { h3 = 1 }"#,
        "",
    );
    let s = run_with(&h3, 1).await;
    let c = &s.connections;
    assert!(c.viewer_resumed > c.viewer_new, "{c:?}");
    assert_eq!(part(&s, "tls"), 0.0, "QUIC's handshake is the connect part");
    // Only the first connection of each viewer to a PoP pays its round trip.
    let new_share = c.viewer_new as f64 / s.totals.requests as f64;
    let rtt = viewer_rtt_ms(&s);
    assert!(
        (part(&s, "connect") - new_share * rtt).abs() < 0.05 * rtt,
        "connect {} vs {new_share} x {rtt}",
        part(&s, "connect")
    );

    let tls13 = scenario(
        r#"[network.connections]
page_reuse_share = 0
viewer_idle_timeout_s = 0.000001
protocols = { tls13 = 1 }"#,
        "",
    );
    let s = run_with(&tls13, 1).await;
    let rtt = viewer_rtt_ms(&s);
    // TLS 1.3 takes one round trip whether resumed or not.
    assert!((part(&s, "tls") - rtt).abs() < 0.01, "{}", part(&s, "tls"));
    assert!((part(&s, "connect") - rtt).abs() < 0.01);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parts_add_up_and_reuse_costs_nothing() {
    let case = scenario("", "");
    let s = run_with(&case, 1).await;
    let b = &s.latency_breakdown;
    assert_eq!(b.answers, s.totals.requests);
    let sum: f64 = b.parts_mean_ms.values().sum();
    assert!((sum - b.mean_ms).abs() < 1e-6, "{sum} vs {}", b.mean_ms);
    assert!((b.mean_ms - s.latency_ms.mean).abs() < 0.01);
    let shares: f64 = b.parts_share.values().sum();
    assert!((shares - 1.0).abs() < 1e-9);
    // With the defaults most requests ride an open connection.
    let c = &s.connections;
    assert!(c.viewer_reuse_share > 0.75, "{c:?}");
    assert!(c.origin_reuse_share > 0.5, "{c:?}");
    for epoch in b.parts_mean_ms_per_epoch.values() {
        assert_eq!(epoch.len(), s.timeseries.len());
    }

    // Without the model: no set-up at all, and lower latency.
    let off = scenario("[network.connections]\nenabled = false", "");
    let o = run_with(&off, 1).await;
    for name in ["connect", "tls", "origin_connect"] {
        assert_eq!(part(&o, name), 0.0, "{name}");
    }
    assert!(o.latency_ms.mean < s.latency_ms.mean);
    assert_eq!(o.connections.viewer_new + o.connections.origin_new, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_origin_keepalive_saves_handshakes_and_http_skips_tls() {
    let short = scenario("", "keepalive_timeout_s = 1");
    let long = scenario("", "keepalive_timeout_s = 60");
    let (s, l) = (run_with(&short, 1).await, run_with(&long, 1).await);
    assert!(
        l.connections.origin_new < s.connections.origin_new,
        "{:?} vs {:?}",
        l.connections,
        s.connections
    );
    assert!(part(&l, "origin_connect") < part(&s, "origin_connect"));
    // An HTTP origin: one round trip per new connection instead of three.
    let http = scenario("", "keepalive_timeout_s = 1\nprotocol = \"http\"");
    let h = run_with(&http, 1).await;
    let per_connection = |x: &Summary| part(x, "origin_connect") / x.connections.origin_new as f64;
    let ratio = per_connection(&h) / per_connection(&s);
    assert!((ratio - 1.0 / 3.0).abs() < 0.05, "{ratio}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_are_the_same_for_any_number_of_agents() {
    let case = scenario("", "");
    let one = run_with(&case, 1).await;
    let two = run_with(&case, 2).await;
    assert_eq!(one.connections, two.connections);
    assert_eq!(one.latency_breakdown, two.latency_breakdown);
}
