//! An agent's run lease and its version check, over gRPC on loopback: a
//! run whose coordinator goes silent is dropped after the lease (renewals
//! keep it), an Advance streams progress then its report, and a
//! coordinator of another protocol version is refused naming both.

use std::time::Duration;

use edgesim_agent::Agent;
use edgesim_proto::pb;
use edgesim_proto::pb::edge_agent_client::EdgeAgentClient;
use tonic::transport::Channel;

const TINY: &str = r#"
name = "lease"
[simulation]
duration_secs = 4
epoch_ms = 1000
seed = 3
[[pops]]
id = "fra"
city = "FRA"
cache_bytes = "1MiB"
[[origins]]
id = "o"
kind = "custom"
location = "eu-west-1"
[catalog]
objects = 50
zipf_alpha = 1.0
size = "1KiB"
ttl_secs = 60
[viewers]
requests_per_sec = 20
countries = { DE = 1 }
"#;

async fn agent(lease: Duration) -> EdgeAgentClient<Channel> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(Agent::with_lease(1, lease).into_service())
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    EdgeAgentClient::connect(format!("http://{addr}"))
        .await
        .unwrap()
}

fn start(run_id: &str) -> pb::StartRunRequest {
    pb::StartRunRequest {
        run_id: run_id.into(),
        scenario_name: "lease.toml".into(),
        scenario_toml: TINY.into(),
        regions: vec!["eu-central-1".into()],
        handler_sources: Default::default(),
        protocol_version: edgesim_proto::PROTOCOL_VERSION,
    }
}

async fn busy(client: &mut EdgeAgentClient<Channel>) -> String {
    client
        .hello(pb::HelloRequest {
            protocol_version: edgesim_proto::PROTOCOL_VERSION,
            coordinator_version: "test".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .busy_with_run
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_whose_coordinator_goes_silent_is_dropped_after_its_lease() {
    let lease = Duration::from_millis(600);
    let mut client = agent(lease).await;
    let started = client.start_run(start("one")).await.unwrap().into_inner();
    assert_eq!(started.lease_millis, 600);
    // Renewed, it stays past the lease.
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        client
            .renew(pb::RenewRequest {
                run_id: "one".into(),
            })
            .await
            .unwrap();
    }
    assert_eq!(busy(&mut client).await, "one");
    let refused = client.start_run(start("two")).await.unwrap_err();
    assert!(
        refused.message().contains("already serving run one"),
        "{refused:?}"
    );
    // Silent, it goes, and the next coordinator is served.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(busy(&mut client).await, "");
    let late = client
        .renew(pb::RenewRequest {
            run_id: "one".into(),
        })
        .await
        .unwrap_err();
    assert!(late.message().contains("was dropped"), "{late:?}");
    client.start_run(start("two")).await.unwrap();
    assert_eq!(busy(&mut client).await, "two");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_epoch_streams_its_report_and_a_closed_stream_drops_the_run() {
    let mut client = agent(Duration::from_secs(30)).await;
    client.start_run(start("r")).await.unwrap();
    let advance = |epoch, requests_per_sec| pb::AdvanceRequest {
        run_id: "r".into(),
        epoch,
        regions: vec![pb::RegionControls {
            region: "eu-central-1".into(),
            demand: vec![pb::Demand {
                country: 0,
                pop: 0,
                requests_per_sec,
                city: 0,
                slice: 0,
                slices: 1,
            }],
            replay: Vec::new(),
        }],
        controls: Default::default(),
        shield: None,
    };
    let mut stream = client.advance(advance(0, 20.0)).await.unwrap().into_inner();
    let mut last = None;
    while let Some(event) = stream.message().await.unwrap() {
        last = event.event;
    }
    let Some(pb::advance_event::Event::Report(report)) = last else {
        panic!("the last message is the report: {last:?}");
    };
    assert_eq!((report.run_id.as_str(), report.epoch), ("r", 0));
    assert_eq!(report.regions.len(), 1);
    assert_eq!(busy(&mut client).await, "r");
    // A coordinator that goes away mid-epoch: its run goes with it. The
    // epoch is made long (a million requests) so that it is still running
    // when the stream closes; an epoch that ends first is left to the lease.
    let stream = client
        .advance(advance(1, 1_000_000.0))
        .await
        .unwrap()
        .into_inner();
    drop(stream);
    let mut freed = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if busy(&mut client).await.is_empty() {
            freed = true;
            break;
        }
    }
    assert!(freed, "the run outlived its coordinator's stream");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coordinator_of_another_protocol_version_is_refused_naming_both() {
    let mut client = agent(Duration::from_secs(30)).await;
    let old = edgesim_proto::PROTOCOL_VERSION - 1;
    let e = client
        .hello(pb::HelloRequest {
            protocol_version: old,
            coordinator_version: "0.0.9".into(),
        })
        .await
        .unwrap_err();
    let text = e.message();
    assert!(
        text.contains(&format!(
            "this agent speaks protocol version {}",
            edgesim_proto::PROTOCOL_VERSION
        )) && text.contains(&format!(
            "the coordinator speaks version {old} (edgesim 0.0.9)"
        )),
        "{text}"
    );
    let mut req = start("x");
    req.protocol_version = old;
    let e = client.start_run(req).await.unwrap_err();
    assert!(e.message().contains(&format!("version {old}")), "{e:?}");
    assert_eq!(busy(&mut client).await, "");
}
