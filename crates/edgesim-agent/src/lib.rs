//! The edge agent: a gRPC server that hosts simulated regions for one run
//! at a time and advances them epoch by epoch on all its cores.
//!
//! The agent only moves data: it validates the scenario it is sent with
//! the same code as the coordinator, and hands each epoch's demand to the
//! pure region engine.
//!
//! A run is held under a lease ([`DEFAULT_LEASE`]): the coordinator renews
//! it every second; a run that hears nothing for the lease, or whose
//! coordinator closes the stream of an epoch in progress, is dropped, so a
//! coordinator killed with -9 never leaves the agent busy for good. While
//! it simulates an epoch the agent streams progress every
//! [`PROGRESS_EVERY`], so the coordinator tells a slow epoch from a dead
//! agent by silence, not by how long the work takes.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use edgesim_model::Scenario;
use edgesim_model::replay::ReplayRequest;
use edgesim_proto::pb::edge_agent_server::{EdgeAgent, EdgeAgentServer};
use edgesim_proto::{PROTOCOL_VERSION, SOFTWARE_VERSION, pb, region_report_to_pb};
use edgesim_sim::shield::ShieldReplica;
use edgesim_sim::{Demand, RegionEpochReport, RegionSim, SimError};
use tokio::net::TcpListener;
use tokio::sync::{Mutex, mpsc};
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

/// Largest gRPC message accepted or sent (scenarios and epoch reports).
pub const MAX_MESSAGE_BYTES: usize = 256 << 20;

/// How long a run is kept without hearing from its coordinator (a Renew,
/// an Advance or an AddRegions for it).
pub const DEFAULT_LEASE: Duration = Duration::from_secs(10);

/// How often an agent simulating an epoch tells the coordinator it is
/// still at work.
pub const PROGRESS_EVERY: Duration = Duration::from_millis(500);

/// The regions of the run being served.
struct ActiveRun {
    run_id: String,
    scenario: Arc<Scenario>,
    /// None while an epoch is being simulated.
    regions: Option<Vec<RegionSim>>,
    region_index: BTreeMap<String, usize>,
    /// The Origin Shields as of the last update the coordinator sent;
    /// every region reads it (see `edgesim_sim::shield`).
    shield: Arc<ShieldReplica>,
    /// When the coordinator was last heard from.
    renewed: Instant,
}

/// The run slot: the run being served, and why the last one was dropped
/// (for the messages of a coordinator that comes back too late).
#[derive(Default)]
struct Slot {
    active: Option<ActiveRun>,
    dropped: Option<(String, String)>,
}

impl Slot {
    /// Drops the active run if its lease ran out.
    fn expire(&mut self, lease: Duration) {
        if self
            .active
            .as_ref()
            .is_some_and(|a| a.renewed.elapsed() > lease)
        {
            self.drop_run(format!(
                "its coordinator was not heard from for its lease of {lease:?}"
            ));
        }
    }

    /// Drops the active run, saying why.
    fn drop_run(&mut self, why: String) {
        if let Some(active) = self.active.take() {
            eprintln!("agent: dropped run {}: {why}", active.run_id);
            self.dropped = Some((active.run_id, why));
        }
    }

    /// Drops the run `run_id` if it is the active one.
    fn drop_if(&mut self, run_id: &str, why: &str) {
        if self.active.as_ref().is_some_and(|a| a.run_id == run_id) {
            self.drop_run(why.to_owned());
        }
    }
}

/// The gRPC service.
pub struct Agent {
    threads: usize,
    lease: Duration,
    run: Arc<Mutex<Slot>>,
}

impl Agent {
    /// An idle agent that simulates regions on `threads` threads.
    pub fn new(threads: usize) -> Agent {
        Agent::with_lease(threads, DEFAULT_LEASE)
    }

    /// An idle agent whose runs' lease is `lease` instead of
    /// [`DEFAULT_LEASE`].
    pub fn with_lease(threads: usize, lease: Duration) -> Agent {
        Agent {
            threads: threads.max(1),
            lease,
            run: Arc::new(Mutex::new(Slot::default())),
        }
    }

    /// A task that drops a run whose lease ran out even when no call
    /// comes (to free its memory); runs until dropped.
    pub fn reaper(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let run = Arc::clone(&self.run);
        let lease = self.lease;
        async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tick.tick().await;
                run.lock().await.expire(lease);
            }
        }
    }

    /// The tonic service wrapping this agent.
    pub fn into_service(self) -> EdgeAgentServer<Agent> {
        EdgeAgentServer::new(self)
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES)
    }
}

/// Serves an agent on an already bound listener until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    threads: usize,
    token: Option<String>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), tonic::transport::Error> {
    serve_with_tls(listener, threads, token, None, shutdown).await
}

/// [`serve`], speaking TLS with `identity` (certificate chain and key)
/// when one is given.
pub async fn serve_with_tls(
    listener: TcpListener,
    threads: usize,
    token: Option<String>,
    identity: Option<tonic::transport::Identity>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), tonic::transport::Error> {
    // One small request and answer per epoch: Nagle's algorithm with
    // delayed ACKs would add ~40 ms to each, so disable it.
    let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener).map(|conn| {
        if let Ok(stream) = &conn {
            let _ = stream.set_nodelay(true);
        }
        conn
    });
    let agent = Agent::new(threads);
    let reaper = tokio::spawn(agent.reaper());
    let mut builder = tonic::transport::Server::builder()
        // A coordinator that is cut off (no FIN) is noticed and its
        // connection dropped.
        .http2_keepalive_interval(Some(std::time::Duration::from_secs(10)))
        .http2_keepalive_timeout(Some(std::time::Duration::from_secs(20)));
    if let Some(identity) = identity {
        builder =
            builder.tls_config(tonic::transport::ServerTlsConfig::new().identity(identity))?;
    }
    let served = builder
        .add_service(tonic::service::interceptor::InterceptedService::new(
            agent.into_service(),
            edgesim_proto::auth::RequireToken(token),
        ))
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await;
    reaper.abort();
    served
}

/// The error a coordinator of another protocol version gets.
fn version_refused(theirs: u32, their_software: &str) -> Status {
    Status::failed_precondition(format!(
        "this agent speaks protocol version {PROTOCOL_VERSION} (edgesim {SOFTWARE_VERSION}), the coordinator speaks version {theirs} (edgesim {}); run the same edgesim on both sides",
        if their_software.is_empty() {
            "unknown"
        } else {
            their_software
        }
    ))
}

/// Why an agent may not listen where it was asked to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "agent: refusing to listen on {addr} without a token: agents run user-supplied scenarios and handler code, so any address beyond loopback requires --token or EDGESIM_TOKEN"
)]
pub struct TokenRequired {
    /// The address asked for.
    pub addr: SocketAddr,
}

/// An agent may listen without a token only on loopback.
pub fn check_listen_policy(addr: SocketAddr, token: Option<&str>) -> Result<(), TokenRequired> {
    if addr.ip().is_loopback() || token.is_some_and(|t| !t.is_empty()) {
        Ok(())
    } else {
        Err(TokenRequired { addr })
    }
}

/// Binds `addr` (port 0 for any free port) and returns the listener and
/// the address actually bound.
pub async fn bind(addr: SocketAddr) -> std::io::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    Ok((listener, local))
}

#[tonic::async_trait]
impl EdgeAgent for Agent {
    async fn hello(
        &self,
        req: Request<pb::HelloRequest>,
    ) -> Result<Response<pb::HelloResponse>, Status> {
        let req = req.into_inner();
        if req.protocol_version != PROTOCOL_VERSION {
            return Err(version_refused(
                req.protocol_version,
                &req.coordinator_version,
            ));
        }
        let busy = {
            let mut slot = self.run.lock().await;
            slot.expire(self.lease);
            slot.active
                .as_ref()
                .map(|r| r.run_id.clone())
                .unwrap_or_default()
        };
        Ok(Response::new(pb::HelloResponse {
            protocol_version: PROTOCOL_VERSION,
            agent_version: SOFTWARE_VERSION.to_owned(),
            cores: self.threads as u32,
            busy_with_run: busy,
        }))
    }

    async fn start_run(
        &self,
        req: Request<pb::StartRunRequest>,
    ) -> Result<Response<pb::StartRunResponse>, Status> {
        let req = req.into_inner();
        if req.protocol_version != PROTOCOL_VERSION {
            return Err(version_refused(req.protocol_version, ""));
        }
        if req.run_id.is_empty() {
            return Err(Status::invalid_argument("run_id must not be empty"));
        }
        let mut slot = self.run.lock().await;
        slot.expire(self.lease);
        if let Some(active) = slot.active.as_ref() {
            return Err(Status::failed_precondition(format!(
                "agent is already serving run {} (heard from its coordinator {:.1?} ago; a run is dropped after {:?} without word); stop it first",
                active.run_id,
                active.renewed.elapsed(),
                self.lease
            )));
        }
        let sources = req.handler_sources.into_iter().collect();
        let scenario =
            Scenario::from_toml_with_sources(&req.scenario_name, &req.scenario_toml, &sources)
                .map_err(|d| {
                    Status::invalid_argument(format!("scenario rejected by agent:\n{d}"))
                })?;
        let scenario = Arc::new(scenario);
        let mut regions = Vec::new();
        let mut region_index = BTreeMap::new();
        for id in &req.regions {
            let Some(r) = scenario.region_index(id) else {
                return Err(Status::invalid_argument(format!(
                    "scenario has no region \"{id}\""
                )));
            };
            if region_index.insert(id.clone(), regions.len()).is_some() {
                return Err(Status::invalid_argument(format!(
                    "region \"{id}\" assigned twice"
                )));
            }
            regions.push(
                RegionSim::new(Arc::clone(&scenario), r)
                    .map_err(|e| Status::invalid_argument(e.to_string()))?,
            );
        }
        slot.active = Some(ActiveRun {
            scenario: Arc::clone(&scenario),
            run_id: req.run_id.clone(),
            regions: Some(regions),
            region_index,
            shield: Arc::new(ShieldReplica::new()),
            renewed: Instant::now(),
        });
        Ok(Response::new(pb::StartRunResponse {
            run_id: req.run_id,
            lease_millis: self.lease.as_millis() as u64,
        }))
    }

    type AdvanceStream = ReceiverStream<Result<pb::AdvanceEvent, Status>>;

    async fn advance(
        &self,
        req: Request<pb::AdvanceRequest>,
    ) -> Result<Response<Self::AdvanceStream>, Status> {
        let req = req.into_inner();
        let (mut regions, demand, replay) = {
            let mut slot = self.run.lock().await;
            let active = checked_run(&mut slot, &req.run_id, self.lease)?;
            // Only the regions the request lists advance (a catch-up call
            // for regions taken over from a failed agent lists only those).
            let mut demand: Vec<Option<Vec<Demand>>> = vec![None; active.region_index.len()];
            // With [replay], each region's requests of the epoch instead.
            let replaying = active.scenario.replay.is_some();
            let mut replay: Vec<Option<Vec<ReplayRequest>>> = vec![None; demand.len()];
            let base_us = active.scenario.simulation.epoch_span(req.epoch).start;
            for rc in &req.regions {
                let Some(&i) = active.region_index.get(&rc.region) else {
                    return Err(Status::invalid_argument(format!(
                        "region \"{}\" is not assigned to this agent",
                        rc.region
                    )));
                };
                demand[i] = Some(rc.demand.iter().map(Demand::from).collect::<Vec<_>>());
                if replaying {
                    let batch =
                        edgesim_model::replay::decode(&rc.replay, base_us).map_err(|e| {
                            Status::invalid_argument(format!("region \"{}\": {e}", rc.region))
                        })?;
                    replay[i] = Some(batch);
                }
            }
            let mut regions = active.regions.take().ok_or_else(|| {
                Status::failed_precondition("an epoch is already being simulated")
            })?;
            if let Some(update) = &req.shield {
                apply_shield_update(&mut active.shield, &mut regions, update);
            }
            (regions, demand, replay)
        };
        let threads = self.threads;
        let epoch = req.epoch;
        let run_id = req.run_id;
        let controls = edgesim_proto::controls_from_pb(req.controls.as_ref());
        let (tx, rx) = mpsc::channel(4);
        let slot = Arc::clone(&self.run);
        tokio::spawn(async move {
            let started = Instant::now();
            let mut work = tokio::task::spawn_blocking(move || {
                for r in &mut regions {
                    r.set_controls(&controls);
                }
                let result = advance_all_replay(&mut regions, &demand, &replay, epoch, threads);
                (regions, result)
            });
            let mut tick = tokio::time::interval_at(
                tokio::time::Instant::now() + PROGRESS_EVERY,
                PROGRESS_EVERY,
            );
            let joined = loop {
                tokio::select! {
                    joined = &mut work => break Some(joined),
                    _ = tick.tick() => {
                        let progress = pb::AdvanceEvent {
                            event: Some(pb::advance_event::Event::Progress(pb::AdvanceProgress {
                                busy_micros: started.elapsed().as_micros() as u64,
                            })),
                        };
                        // A full channel is a coordinator not reading yet:
                        // it hears from us with the next message.
                        if let Err(mpsc::error::TrySendError::Closed(_)) = tx.try_send(Ok(progress)) {
                            break None;
                        }
                    }
                    () = tx.closed() => break None,
                }
            };
            let gone = "its coordinator closed the stream of an epoch in progress";
            // The coordinator is gone: its run goes now (the epoch's
            // threads finish on their own and their work is dropped).
            let Some(joined) = joined else {
                slot.lock().await.drop_if(&run_id, gone);
                return;
            };
            let (regions_back, result) = match joined {
                Ok(out) => out,
                Err(e) => {
                    // The regions are lost with the worker: so is the run.
                    slot.lock().await.drop_if(&run_id, "a region worker failed");
                    let _ = tx
                        .send(Err(Status::internal(format!("region worker failed: {e}"))))
                        .await;
                    return;
                }
            };
            let busy_micros = started.elapsed().as_micros() as u64;
            {
                let mut slot = slot.lock().await;
                if let Some(active) = slot.active.as_mut().filter(|a| a.run_id == run_id) {
                    active.regions = Some(regions_back);
                }
            }
            let event = match result {
                Ok(reports) => Ok(pb::AdvanceEvent {
                    event: Some(pb::advance_event::Event::Report(pb::AdvanceResponse {
                        run_id: run_id.clone(),
                        epoch,
                        regions: reports.into_iter().map(region_report_to_pb).collect(),
                        busy_micros,
                    })),
                }),
                Err(e) => Err(Status::invalid_argument(e.to_string())),
            };
            if tx.send(event).await.is_err() {
                slot.lock().await.drop_if(&run_id, gone);
            }
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }

    async fn renew(
        &self,
        req: Request<pb::RenewRequest>,
    ) -> Result<Response<pb::RenewResponse>, Status> {
        let req = req.into_inner();
        let mut slot = self.run.lock().await;
        checked_run(&mut slot, &req.run_id, self.lease)?;
        Ok(Response::new(pb::RenewResponse {
            lease_millis: self.lease.as_millis() as u64,
        }))
    }

    async fn add_regions(
        &self,
        req: Request<pb::AddRegionsRequest>,
    ) -> Result<Response<pb::AddRegionsResponse>, Status> {
        let req = req.into_inner();
        let mut slot = self.run.lock().await;
        let active = checked_run(&mut slot, &req.run_id, self.lease)?;
        let scenario = Arc::clone(&active.scenario);
        let mut added = Vec::new();
        for id in &req.regions {
            let Some(r) = scenario.region_index(id) else {
                return Err(Status::invalid_argument(format!(
                    "scenario has no region \"{id}\""
                )));
            };
            if active.region_index.contains_key(id) || added.iter().any(|(i, _)| i == id) {
                return Err(Status::invalid_argument(format!(
                    "region \"{id}\" is already simulated here"
                )));
            }
            let mut sim = RegionSim::new(Arc::clone(&scenario), r)
                .map_err(|e| Status::invalid_argument(e.to_string()))?;
            sim.start_at(req.start_epoch)
                .map_err(|e| Status::invalid_argument(e.to_string()))?;
            sim.set_shield_replica(Arc::clone(&active.shield));
            added.push((id.clone(), sim));
        }
        let regions = active
            .regions
            .as_mut()
            .ok_or_else(|| Status::failed_precondition("an epoch is being simulated"))?;
        for (id, sim) in added {
            active.region_index.insert(id, regions.len());
            regions.push(sim);
        }
        Ok(Response::new(pb::AddRegionsResponse {}))
    }

    async fn stop_run(
        &self,
        req: Request<pb::StopRunRequest>,
    ) -> Result<Response<pb::StopRunResponse>, Status> {
        let req = req.into_inner();
        let mut slot = self.run.lock().await;
        checked_run(&mut slot, &req.run_id, self.lease)?;
        slot.active = None;
        Ok(Response::new(pb::StopRunResponse {}))
    }
}

/// Applies the coordinator's shield update (once per epoch: a catch-up
/// call for regions taken over repeats it) to the agent's replica, which
/// every region then reads.
fn apply_shield_update(
    shield: &mut Arc<ShieldReplica>,
    regions: &mut [RegionSim],
    update: &pb::ShieldUpdate,
) {
    if shield.through_epoch().is_some_and(|e| e >= update.epoch) {
        return;
    }
    let update = edgesim_proto::shield_update_from_pb(update);
    // Take the regions' references first so the replica is updated in
    // place rather than copied.
    let empty = Arc::new(ShieldReplica::new());
    for r in regions.iter_mut() {
        r.set_shield_replica(Arc::clone(&empty));
    }
    Arc::make_mut(shield).apply(&update);
    for r in regions.iter_mut() {
        r.set_shield_replica(Arc::clone(shield));
    }
}

/// The active run if it is `run_id` (and its lease has not run out),
/// its lease renewed: every call of the coordinator for its run renews it.
fn checked_run<'a>(
    slot: &'a mut Slot,
    run_id: &str,
    lease: Duration,
) -> Result<&'a mut ActiveRun, Status> {
    slot.expire(lease);
    let dropped = match &slot.dropped {
        Some((id, why)) if id == run_id => format!(" (run {run_id} was dropped: {why})"),
        _ => String::new(),
    };
    match slot.active.as_mut() {
        Some(active) if active.run_id == run_id => {
            active.renewed = Instant::now();
            Ok(active)
        }
        Some(active) => Err(Status::not_found(format!(
            "unknown run id {run_id}: this agent is serving run {}{dropped}",
            active.run_id
        ))),
        None => Err(Status::not_found(format!(
            "unknown run id {run_id}: this agent has no run{dropped}"
        ))),
    }
}

/// A region's work for one epoch: its demand, or the requests to replay.
type Work<'a> = (&'a mut RegionSim, &'a [Demand], Option<&'a [ReplayRequest]>);

/// One region's epoch: its replayed requests when it has them, else its
/// demand.
fn advance_one(
    (region, demand, replay): &mut Work<'_>,
    epoch: u64,
) -> Result<RegionEpochReport, SimError> {
    match replay {
        Some(requests) => region.advance_replay(epoch, requests),
        None => region.advance(epoch, demand),
    }
}

/// Advances by one epoch every region with demand (`Some`, possibly
/// empty) on up to `threads` threads. Results are in region order
/// whatever thread simulated them.
pub fn advance_all(
    regions: &mut [RegionSim],
    demand: &[Option<Vec<Demand>>],
    epoch: u64,
    threads: usize,
) -> Result<Vec<RegionEpochReport>, SimError> {
    advance_all_replay(regions, demand, &[], epoch, threads)
}

/// Like [`advance_all`]; a region with `Some` replay requests serves
/// exactly those (a `[replay]` run) instead of its demand.
pub fn advance_all_replay(
    regions: &mut [RegionSim],
    demand: &[Option<Vec<Demand>>],
    replay: &[Option<Vec<ReplayRequest>>],
    epoch: u64,
    threads: usize,
) -> Result<Vec<RegionEpochReport>, SimError> {
    let mut chosen: Vec<Work<'_>> = regions
        .iter_mut()
        .zip(demand)
        .enumerate()
        .filter_map(|(i, (r, d))| {
            let rep = replay.get(i).and_then(Option::as_deref);
            Some((r, d.as_deref()?, rep))
        })
        .collect();
    let n = chosen.len();
    let workers = threads.min(n).max(1);
    let slots: Vec<std::sync::Mutex<Option<Result<RegionEpochReport, SimError>>>> =
        (0..n).map(|_| std::sync::Mutex::new(None)).collect();
    if workers == 1 {
        for (i, work) in chosen.iter_mut().enumerate() {
            *slots[i].lock().expect("unpoisoned") = Some(advance_one(work, epoch));
        }
    } else {
        let cells: Vec<std::sync::Mutex<&mut Work<'_>>> =
            chosen.iter_mut().map(std::sync::Mutex::new).collect();
        let next = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= n {
                            break;
                        }
                        let mut cell = cells[i].lock().expect("unpoisoned");
                        let out = advance_one(&mut cell, epoch);
                        *slots[i].lock().expect("unpoisoned") = Some(out);
                    }
                });
            }
        });
    }
    slots
        .into_iter()
        .map(|s| {
            s.into_inner()
                .expect("unpoisoned")
                .expect("every region ran")
        })
        .collect()
}
