//! The coordinator with in-process agents on loopback: determinism across
//! agent counts, region assignment, and failures that name the agent.

use std::sync::Arc;

use edgesim_coordinator::{AgentSource, CoordinatorError, RunConfig, assign_regions, run};
use edgesim_model::Scenario;
use edgesim_sim::Routing;

const SCENARIO: &str = r#"
name = "det"
[simulation]
duration_secs = 8
epoch_ms = 1000
seed = 11
[[pops]]
id = "fra"
city = "FRA"
cache_bytes = "32MiB"
[[pops]]
id = "lhr"
city = "LHR"
cache_bytes = "32MiB"
[[pops]]
id = "iad"
city = "IAD"
cache_bytes = "32MiB"
[[pops]]
id = "nrt"
city = "NRT"
cache_bytes = "16MiB"
[[origins]]
id = "o"
kind = "s3"
location = "us-east-1"
# Three regions queue for their shares of these servers.
concurrency = 40
[catalog]
objects = 20000
zipf_alpha = 0.9
size = { dist = "lognormal", p50 = "20KiB", p99 = "400KiB" }
ttl_secs = 300
[viewers]
requests_per_sec = 1500
countries = { DE = 0.3, GB = 0.2, US = 0.35, JP = 0.15 }
"#;

fn scenario() -> Arc<Scenario> {
    Arc::new(Scenario::from_toml("det.toml", SCENARIO).expect("valid"))
}

async fn summary_json(agents: usize) -> String {
    let config = RunConfig::new(AgentSource::InProcess { count: agents });
    let summary = run(scenario(), SCENARIO, &config, |_| {})
        .await
        .expect("run succeeds");
    serde_json::to_string_pretty(&summary).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn summary_is_byte_identical_for_1_2_3_and_7_agents() {
    let one = summary_json(1).await;
    assert!(one.contains("\"requests\""));
    assert!(one.contains("\"queue_wait_ms\""), "the origin's queue ran");
    for n in [2, 3, 7] {
        assert!(
            one == summary_json(n).await,
            "summary differs with {n} agents"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_is_reported_every_epoch_and_totals_add_up() {
    let config = RunConfig::new(AgentSource::InProcess { count: 2 });
    let mut seen = Vec::new();
    let s = run(scenario(), SCENARIO, &config, |p| seen.push(p.epochs_done))
        .await
        .unwrap();
    assert_eq!(seen, (1..=8).collect::<Vec<_>>());
    assert!(s.complete);
    assert_eq!(s.epochs, 8);
    let t = &s.totals;
    assert_eq!(
        t.requests,
        t.edge_hits + t.edge_collapsed + t.regional_hits + t.regional_collapsed + t.origin_fetches
    );
    assert_eq!(t.requests, s.pops.iter().map(|p| p.requests).sum::<u64>());
    assert_eq!(t.requests, s.routes.iter().map(|r| r.requests).sum::<u64>());
    assert_eq!(
        t.requests,
        s.timeseries.iter().map(|r| r.requests).sum::<u64>()
    );
    assert_eq!(
        t.origin_fetches,
        s.origins.iter().map(|o| o.fetches).sum::<u64>()
    );
    assert!((0.0..=1.0).contains(&t.offload_requests));
    assert!(s.latency_ms.min <= s.latency_ms.p50 && s.latency_ms.p50 <= s.latency_ms.p99);
    // German viewers go to Frankfurt, Japanese to Tokyo.
    let route = |c: &str| {
        s.routes
            .iter()
            .find(|r| r.country == c)
            .unwrap()
            .pop
            .clone()
    };
    assert_eq!(route("DE"), "fra");
    assert_eq!(route("JP"), "nrt");
}

#[test]
fn regions_are_balanced_by_expected_load() {
    let s = scenario();
    let demand = Routing::nearest(&s).demand(&s, s.viewers.requests_per_sec);
    let a = assign_regions(&s, &demand, 2);
    assert_eq!(a.iter().map(Vec::len).sum::<usize>(), s.regions.len());
    assert!(a.iter().all(|r| !r.is_empty()));
    // More agents than regions: the extra agents stay idle.
    let a = assign_regions(&s, &demand, 7);
    assert_eq!(a.iter().filter(|r| !r.is_empty()).count(), s.regions.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_agent_is_named() {
    // Bind then drop a listener so that the port is closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut config = RunConfig::new(AgentSource::Connect(vec![addr.clone()]));
    config.startup_deadline = std::time::Duration::from_secs(2);
    let err = run(scenario(), SCENARIO, &config, |_| {})
        .await
        .unwrap_err();
    assert!(matches!(err, CoordinatorError::AgentStart { .. }), "{err}");
    assert!(err.to_string().contains(&addr), "{err}");
}

/// The shipped quickstart, end to end through in-process agents.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quickstart_scenario_behaves_as_documented() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/quickstart.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let scenario = Arc::new(Scenario::from_toml("quickstart.toml", &text).unwrap());
    let config = RunConfig::new(AgentSource::InProcess { count: 2 });
    let s = run(Arc::clone(&scenario), &text, &config, |_| {})
        .await
        .unwrap();
    assert!(s.complete);
    assert_eq!(s.simulated_secs, 600.0);
    // 2,000 req/s for 600 s: 1.2 M requests (Poisson, sd ~1,100).
    assert!(
        (s.totals.requests as f64 - 1.2e6).abs() < 10_000.0,
        "{}",
        s.totals.requests
    );
    // Caches warm up: offload in the last minute is well above the first seconds'.
    let first = &s.timeseries[0];
    let last = s.timeseries.last().unwrap();
    assert!(
        last.offload_requests > first.offload_requests + 0.3,
        "{} vs {}",
        first.offload_requests,
        last.offload_requests
    );
    assert!(
        (0.3..0.9).contains(&s.totals.offload_requests),
        "{}",
        s.totals.offload_requests
    );
    // Viewers are served by the PoP nearest their city: most of a country's
    // requests go to the PoP of its largest cities.
    for (country, pop) in [
        ("DE", "fra"),
        ("GB", "lhr"),
        ("FR", "cdg"),
        ("JP", "nrt"),
        ("AU", "syd"),
        ("BR", "gru"),
    ] {
        let r = s
            .routes
            .iter()
            .filter(|r| r.country == country)
            .max_by_key(|r| r.requests)
            .unwrap_or_else(|| panic!("no route for {country}"));
        assert_eq!(r.pop, pop, "{country}");
    }
    // The United States spreads over its three PoPs, each taking a real share.
    let us: Vec<(&str, u64)> = s
        .routes
        .iter()
        .filter(|r| r.country == "US")
        .map(|r| (r.pop.as_str(), r.requests))
        .collect();
    let total: u64 = us.iter().map(|r| r.1).sum();
    for pop in ["iad", "ord", "sfo"] {
        let n = us.iter().find(|r| r.0 == pop).map_or(0, |r| r.1);
        assert!(
            n as f64 > 0.1 * total as f64,
            "{pop}: {n} of {total} ({us:?})"
        );
    }
    // Every PoP of the quickstart serves someone.
    assert!(
        s.pops.iter().all(|p| p.requests > 0),
        "{:?}",
        s.pops
            .iter()
            .map(|p| (&p.id, p.requests))
            .collect::<Vec<_>>()
    );
    // Far from the single us-east-1 origin means slower misses: Sydney's
    // p99 exceeds Washington's.
    let pop = |id: &str| s.pops.iter().find(|p| p.id == id).unwrap();
    assert!(pop("syd").latency_ms.p99 > pop("iad").latency_ms.p99 + 100.0);
    assert!(s.latency_ms.p50 < s.latency_ms.p90 && s.latency_ms.p90 < s.latency_ms.p99);
}

/// Functions' and variants' metrics reach the summary, the same for any
/// number of agents (JavaScript handlers included).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trigger_and_variant_metrics_are_summarised_deterministically() {
    for name in ["ab-test", "ab-test-js"] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("../../scenarios/{name}.toml"));
        let text = std::fs::read_to_string(&path).unwrap();
        let text = edgesim_model::overrides::apply_overrides(
            &text,
            &["simulation.duration_secs=20".into()],
        )
        .unwrap();
        let scenario = Arc::new(Scenario::from_toml(&path.display().to_string(), &text).unwrap());
        let mut summaries = Vec::new();
        for agents in [1, 3] {
            let config = RunConfig::new(AgentSource::InProcess { count: agents });
            summaries.push(
                run(Arc::clone(&scenario), &text, &config, |_| {})
                    .await
                    .unwrap(),
            );
        }
        let s = &summaries[0];
        assert_eq!(
            serde_json::to_string(s).unwrap(),
            serde_json::to_string(&summaries[1]).unwrap(),
            "{name}"
        );
        assert_eq!(s.triggers.len(), 1, "{name}");
        let t = &s.triggers[0];
        assert_eq!(
            (t.behavior.as_str(), t.stage.as_str()),
            ("/experiment/*", "viewer-request")
        );
        assert!(
            t.invocations > 0 && t.invalid + t.errors + t.timeouts == 0,
            "{name}: {t:?}"
        );
        assert!(t.mean_duration_ms >= 1.0, "{name}: billed at least 1 ms");
        assert_eq!(s.totals.status_2xx, s.totals.requests, "{name}");
        if name == "ab-test" {
            let names: Vec<_> = s.variants.iter().map(|v| v.name.as_str()).collect();
            assert_eq!(names, ["A", "B"]);
            assert_eq!(
                s.variants.iter().map(|v| v.requests).sum::<u64>(),
                t.invocations
            );
        } else {
            assert!(
                s.variants.is_empty(),
                "JavaScript handlers do not report variants"
            );
        }
    }
}

/// An agent that speaks another protocol version, for the handshake test.
struct FutureAgent;

#[tonic::async_trait]
impl edgesim_proto::pb::edge_agent_server::EdgeAgent for FutureAgent {
    async fn hello(
        &self,
        _: tonic::Request<edgesim_proto::pb::HelloRequest>,
    ) -> Result<tonic::Response<edgesim_proto::pb::HelloResponse>, tonic::Status> {
        Ok(tonic::Response::new(edgesim_proto::pb::HelloResponse {
            protocol_version: 99,
            agent_version: "9.9.9".into(),
            cores: 1,
            busy_with_run: String::new(),
        }))
    }
    async fn start_run(
        &self,
        _: tonic::Request<edgesim_proto::pb::StartRunRequest>,
    ) -> Result<tonic::Response<edgesim_proto::pb::StartRunResponse>, tonic::Status> {
        Err(tonic::Status::unimplemented("not in this test"))
    }
    type AdvanceStream =
        tokio_stream::Empty<Result<edgesim_proto::pb::AdvanceEvent, tonic::Status>>;
    async fn advance(
        &self,
        _: tonic::Request<edgesim_proto::pb::AdvanceRequest>,
    ) -> Result<tonic::Response<Self::AdvanceStream>, tonic::Status> {
        Err(tonic::Status::unimplemented("not in this test"))
    }
    async fn renew(
        &self,
        _: tonic::Request<edgesim_proto::pb::RenewRequest>,
    ) -> Result<tonic::Response<edgesim_proto::pb::RenewResponse>, tonic::Status> {
        Err(tonic::Status::unimplemented("not in this test"))
    }
    async fn add_regions(
        &self,
        _: tonic::Request<edgesim_proto::pb::AddRegionsRequest>,
    ) -> Result<tonic::Response<edgesim_proto::pb::AddRegionsResponse>, tonic::Status> {
        Err(tonic::Status::unimplemented("not in this test"))
    }
    async fn stop_run(
        &self,
        _: tonic::Request<edgesim_proto::pb::StopRunRequest>,
    ) -> Result<tonic::Response<edgesim_proto::pb::StopRunResponse>, tonic::Status> {
        Err(tonic::Status::unimplemented("not in this test"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_of_another_protocol_version_is_refused_naming_both() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let server = tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(edgesim_proto::pb::edge_agent_server::EdgeAgentServer::new(
                FutureAgent,
            ))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    let config = RunConfig::new(AgentSource::Connect(vec![addr.clone()]));
    let err = run(scenario(), SCENARIO, &config, |_| {})
        .await
        .unwrap_err();
    server.abort();
    let text = err.to_string();
    assert!(
        matches!(
            err,
            CoordinatorError::VersionMismatch {
                agent_version: 99,
                ..
            }
        ),
        "{text}"
    );
    assert!(
        text.contains(&addr)
            && text.contains("protocol version 99 (edgesim 9.9.9)")
            && text.contains(&format!("version {}", edgesim_proto::PROTOCOL_VERSION)),
        "{text}"
    );
}

/// An agent of this version that says hello and refuses every run.
struct RefusingAgent;

#[tonic::async_trait]
impl edgesim_proto::pb::edge_agent_server::EdgeAgent for RefusingAgent {
    async fn hello(
        &self,
        _: tonic::Request<edgesim_proto::pb::HelloRequest>,
    ) -> Result<tonic::Response<edgesim_proto::pb::HelloResponse>, tonic::Status> {
        Ok(tonic::Response::new(edgesim_proto::pb::HelloResponse {
            protocol_version: edgesim_proto::PROTOCOL_VERSION,
            agent_version: edgesim_proto::SOFTWARE_VERSION.into(),
            cores: 1,
            busy_with_run: String::new(),
        }))
    }
    async fn start_run(
        &self,
        _: tonic::Request<edgesim_proto::pb::StartRunRequest>,
    ) -> Result<tonic::Response<edgesim_proto::pb::StartRunResponse>, tonic::Status> {
        Err(tonic::Status::resource_exhausted("out of memory, say"))
    }
    type AdvanceStream =
        tokio_stream::Empty<Result<edgesim_proto::pb::AdvanceEvent, tonic::Status>>;
    async fn advance(
        &self,
        _: tonic::Request<edgesim_proto::pb::AdvanceRequest>,
    ) -> Result<tonic::Response<Self::AdvanceStream>, tonic::Status> {
        Err(tonic::Status::unimplemented("not in this test"))
    }
    async fn renew(
        &self,
        _: tonic::Request<edgesim_proto::pb::RenewRequest>,
    ) -> Result<tonic::Response<edgesim_proto::pb::RenewResponse>, tonic::Status> {
        Err(tonic::Status::unimplemented("not in this test"))
    }
    async fn add_regions(
        &self,
        _: tonic::Request<edgesim_proto::pb::AddRegionsRequest>,
    ) -> Result<tonic::Response<edgesim_proto::pb::AddRegionsResponse>, tonic::Status> {
        Err(tonic::Status::unimplemented("not in this test"))
    }
    async fn stop_run(
        &self,
        _: tonic::Request<edgesim_proto::pb::StopRunRequest>,
    ) -> Result<tonic::Response<edgesim_proto::pb::StopRunResponse>, tonic::Status> {
        Err(tonic::Status::unimplemented("not in this test"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_start_leaves_no_run_on_the_healthy_agents() {
    let (listener, good) = edgesim_agent::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let good_server = tokio::spawn(edgesim_agent::serve(
        listener,
        1,
        None,
        std::future::pending(),
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let bad = listener.local_addr().unwrap().to_string();
    let bad_server = tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(edgesim_proto::pb::edge_agent_server::EdgeAgentServer::new(
                RefusingAgent,
            ))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    // The healthy agent starts its part first, then the other refuses.
    let config = RunConfig::new(AgentSource::Connect(vec![good.to_string(), bad.clone()]));
    let err = run(scenario(), SCENARIO, &config, |_| {})
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains(&bad) && err.to_string().contains("out of memory, say"),
        "{err}"
    );
    let mut client =
        edgesim_proto::pb::edge_agent_client::EdgeAgentClient::connect(format!("http://{good}"))
            .await
            .unwrap();
    let hello = client
        .hello(edgesim_proto::pb::HelloRequest {
            protocol_version: edgesim_proto::PROTOCOL_VERSION,
            coordinator_version: "test".into(),
        })
        .await
        .unwrap()
        .into_inner();
    good_server.abort();
    bad_server.abort();
    assert_eq!(hello.busy_with_run, "", "the healthy agent was freed");
}
