//! One region's discrete-event engine.
//!
//! Requests arrive at PoPs as a Poisson process whose rate is fixed within
//! an epoch. Everything a request experiences is decided when it reaches
//! the PoP: its latency is known then, the regional cache is consulted as
//! it is at that moment, and a fetch from an origin with limited
//! concurrency takes its place in the region's queue for that origin
//! ([`crate::queueing`]) in the order requests reach their PoPs. Caches are filled
//! only when an answer actually arrives, as timed events; until then a
//! request for the same object at the same tier waits for the fetch in
//! flight (request collapsing) instead of fetching again.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use edgesim_cache::{AnyCache, Cache, Capacity, Entry};
use edgesim_model::Scenario;
use edgesim_model::rng::{Purpose, mix64, stream};
use edgesim_model::workload::{Object, ObjectSampler, ViewerPool};
use rand::Rng;
use rand_pcg::Pcg64Mcg;

use crate::connections::{OriginPool, ViewerConnections};
use crate::controls::EpochControls;
use crate::metrics::{
    AnswerSource, ConnectionCounts, Counters, EpochLatency, GroupEpoch, MAX_COUNTED_STATUS,
    OriginEpoch, PopEpoch, RegionEpochReport, RouteEpoch, TtfbParts, VariantEpoch, ViewerOutcomes,
};
use crate::network::{Path, sample_rtt_us};
use crate::queueing::{Admission, OriginQueue};
use crate::routing::Demand;
use crate::shield::{RegionShield, ShieldAccessKind, ShieldLookup, ShieldReplica};

mod driver;
mod edge_code;
mod function_logs;
mod quotas;

pub use function_logs::FUNCTION_LOG_CHARS_PER_REGION;
use function_logs::FunctionLogs;

use edge_code::{BehaviorRuntime, VariantState};

/// Misuse of the engine by its caller (the agent).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    /// Epochs must be advanced in order, each once.
    #[error("region {region}: asked to advance epoch {got}, expected epoch {expected}")]
    EpochOutOfOrder {
        /// Region id.
        region: String,
        /// Epoch asked for.
        got: u64,
        /// Epoch due.
        expected: u64,
    },
    /// Demand named a PoP outside the region, or an unknown country.
    #[error("region {region}: demand for {what} that is not part of this region's scenario")]
    BadDemand {
        /// Region id.
        region: String,
        /// What was wrong.
        what: String,
    },
    /// A behaviour's function could not be compiled.
    #[error("region {region}: {what}")]
    Trigger {
        /// Region id.
        region: String,
        /// Which function and why.
        what: String,
    },
    /// The epoch is past the end of the simulation.
    #[error("region {region}: epoch {epoch} is past the end of the simulation ({epochs} epochs)")]
    PastEnd {
        /// Region id.
        region: String,
        /// Epoch asked for.
        epoch: u64,
        /// Number of epochs in the run.
        epochs: u64,
    },
}

/// Hashes u64 cache keys (already well mixed or small integers) cheaply.
#[derive(Default)]
pub(crate) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        mix64(self.0)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// A fetch in flight at one tier: what will arrive, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pending {
    /// When the answer reaches the tier, µs.
    ready_us: u64,
    /// The answer's tag (status and origin, see [`response_tag`]).
    tag: u32,
    /// The answer's size, bytes.
    size: u64,
}

/// Fetches in flight at one tier, by cache key.
type InFlight = HashMap<u64, Pending, BuildHasherDefault<KeyHasher>>;

/// An origin's condition in the current epoch (events and global load).
#[derive(Debug, Clone, Copy, PartialEq)]
struct OriginNow {
    /// Status of every answer while it is out; 0 when up.
    down: u16,
    /// Service-time multiplier.
    slowdown: f64,
    /// Round trip added on the way from this region, µs.
    extra_rtt_us: f64,
}

impl Default for OriginNow {
    fn default() -> Self {
        OriginNow {
            down: 0,
            slowdown: 1.0,
            extra_rtt_us: 0.0,
        }
    }
}

/// Size of the body of an error answer (what is cached and sent), bytes.
pub(crate) const ERROR_BODY_BYTES: u64 = 512;

/// A PoP and what it saw in the current epoch.
struct PopState {
    global: usize,
    cache: AnyCache,
    in_flight: InFlight,
    counters: Counters,
    latency: EpochLatency,
    /// Round trip to each origin (scenario order).
    origin_paths: Vec<Path>,
    /// Round trip to the region's regional edge cache.
    regional_path: Path,
}

/// The region's regional edge cache.
struct RegionalState {
    cache: AnyCache,
    in_flight: InFlight,
    /// Round trip to each origin (scenario order).
    origin_paths: Vec<Path>,
}

/// Which cache a fill goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Tier {
    /// The regional edge cache.
    Regional,
    /// A PoP, by local index.
    Pop(usize),
}

/// A (country, PoP) route; kept across epochs so its histogram is reused.
struct RouteState {
    country: usize,
    pop_global: usize,
    pop_local: usize,
    /// From the city of the viewer being served to the PoP: the viewers of
    /// one route live in different cities, so the caller sets it before
    /// each request it serves on the route.
    path: Path,
    requests: u64,
    latency: EpochLatency,
}

/// One demand of the epoch: a slice of one city's viewers on a route.
struct ActiveRoute {
    /// Index into the region's routes.
    route: usize,
    /// Cumulative rate up to and including this one.
    cum: f64,
    /// Position of the city in its country's cities.
    city: usize,
    slice: u32,
    slices: u32,
    /// From the city to the PoP.
    path: Path,
}

/// A cache fill scheduled for when an answer reaches a tier.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Fill {
    at_us: u64,
    seq: u64,
    tier: Tier,
    key: u64,
    entry_size: u64,
    expires_at_us: u64,
    /// Stored with the entry: see [`response_tag`].
    tag: u32,
}

/// The simulation of one region.
pub struct RegionSim {
    scenario: Arc<Scenario>,
    region: usize,
    pops: Vec<PopState>,
    regional: Option<RegionalState>,
    /// Scenario PoP index -> index into `pops`.
    local_pop: Vec<Option<usize>>,
    routes: Vec<RouteState>,
    origins: Vec<OriginEpoch>,
    objects: ObjectSampler,
    viewers: ViewerPool,
    /// Compiled functions per behaviour (None: a behaviour without any
    /// and whose cache key is the object's: its requests build no event).
    behaviors: Vec<Option<BehaviorRuntime>>,
    /// Per-variant traffic of the current epoch, by name.
    variants: BTreeMap<String, VariantState>,
    /// Named knobs functions read (set per epoch).
    controls: edgesim_triggers::Controls,
    /// The migration's plan for the epoch, when there is one.
    migration: Option<crate::controls::MigrationControl>,
    /// Per origin: share of this epoch's fetches answered 503 Slow Down
    /// (set by the coordinator from the origin's global load).
    throttle: Vec<f64>,
    /// Per origin: salt that picks which objects its faults hit.
    origin_salts: Vec<u64>,
    /// Viewers who have had a 5xx answer.
    exposed: HashSet<u64, BuildHasherDefault<KeyHasher>>,
    /// Per origin: its condition this epoch, as the coordinator set it.
    origin_now: Vec<OriginNow>,
    /// The regional edge cache is down this epoch.
    regional_down: bool,
    /// Flash crowd: number of objects, and the share of each country's
    /// requests (scenario order) that ask for them.
    flash: (u64, Vec<f64>),
    /// Requests and latency of the epoch per device class.
    device_latency: Vec<(u64, EpochLatency)>,
    /// Requests and latency of the epoch per origin of the content.
    origin_latency: Vec<(u64, EpochLatency)>,
    /// Per origin with limited concurrency: the region's queue for it (its
    /// share of the servers, state carried across epochs), and the fetches
    /// it took this epoch with their waits.
    origin_queues: Vec<Option<(OriginQueue, (u64, EpochLatency))>>,
    /// The origin of the content of the answer being counted.
    last_origin: Option<usize>,
    /// Viewer answers of the epoch by exact status (index: status).
    status_counts: Vec<u64>,
    /// Error answers of the epoch by [`AnswerSource`] index.
    errors_by_source: [u64; AnswerSource::ALL.len()],
    /// Requests seen, for functions' request ids.
    request_seq: u64,
    /// Viewers' connections to the region's PoPs.
    viewer_connections: ViewerConnections,
    /// CloudFront's kept-alive connections to origins, by (sending tier,
    /// origin): see [`origin_pool_tier`].
    origin_pools: HashMap<(u32, u32), OriginPool>,
    /// The epoch's time to first byte by part.
    ttfb: TtfbParts,
    /// The epoch's connections.
    connection_counts: ConnectionCounts,
    /// The Origin Shields, when an origin has one (see [`crate::shield`]).
    shield: Option<RegionShield>,
    /// The account's Lambda@Edge quotas in this region.
    lambda_quotas: quotas::RegionQuotas,
    /// Functions' console output kept this epoch, and what the run's budget has left.
    function_logs: FunctionLogs,
    fills: BinaryHeap<Reverse<Fill>>,
    fill_seq: u64,
    next_epoch: u64,
}

impl RegionSim {
    /// A region with cold caches, ready for epoch 0. Fails only if a
    /// behaviour's function does not compile, which validation rules out
    /// for scenarios built by [`Scenario::from_toml`].
    pub fn new(scenario: Arc<Scenario>, region: usize) -> Result<RegionSim, SimError> {
        let seed = scenario.simulation.seed;
        let behaviors = scenario
            .behaviors
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let needs_event = b.has_triggers()
                    || !(b.cache_key_headers.is_empty()
                        && b.cache_key_cookies.is_empty()
                        && b.cache_key_query_strings.is_empty());
                needs_event
                    .then(|| BehaviorRuntime::compile(i, b, &scenario.trigger_sources))
                    .transpose()
            })
            .collect::<Result<Vec<_>, String>>()
            .map_err(|what| SimError::Trigger {
                region: scenario.regions[region].id.clone(),
                what,
            })?;
        let region_location = scenario.regions[region].location;
        let regional = scenario.regions[region].cache.map(|c| RegionalState {
            cache: edgesim_cache::build(c.policy, Capacity::Bytes(c.cache_bytes)),
            in_flight: InFlight::default(),
            origin_paths: scenario
                .origins
                .iter()
                .map(|o| Path::between(&scenario.network, region_location, o.location))
                .collect(),
        });
        let mut local_pop = vec![None; scenario.pops.len()];
        let pops = scenario.regions[region]
            .pops
            .iter()
            .enumerate()
            .map(|(local, &global)| {
                local_pop[global] = Some(local);
                let p = &scenario.pops[global];
                PopState {
                    global,
                    cache: edgesim_cache::build(p.policy, Capacity::Bytes(p.cache_bytes)),
                    in_flight: InFlight::default(),
                    counters: Counters::default(),
                    latency: EpochLatency::default(),
                    origin_paths: scenario
                        .origins
                        .iter()
                        .map(|o| Path::between(&scenario.network, p.location, o.location))
                        .collect(),
                    regional_path: Path::between(&scenario.network, p.location, region_location),
                }
            })
            .collect();
        Ok(RegionSim {
            behaviors,
            variants: BTreeMap::new(),
            controls: edgesim_triggers::Controls::new(),
            migration: None,
            throttle: vec![0.0; scenario.origins.len()],
            origin_salts: scenario
                .origins
                .iter()
                .map(|o| edgesim_model::rng::hash_str(&o.id))
                .collect(),
            exposed: HashSet::default(),
            shield: RegionShield::new(&scenario, region),
            origin_now: vec![OriginNow::default(); scenario.origins.len()],
            regional_down: false,
            flash: (0, vec![0.0; scenario.viewers.countries.len()]),
            device_latency: (0..4).map(|_| (0, EpochLatency::default())).collect(),
            origin_latency: scenario
                .origins
                .iter()
                .map(|_| (0, EpochLatency::default()))
                .collect(),
            origin_queues: scenario
                .origins
                .iter()
                .map(|o| {
                    o.concurrency
                        .map(|c| (OriginQueue::new(c), (0, EpochLatency::default())))
                })
                .collect(),
            last_origin: None,
            status_counts: vec![0; usize::from(MAX_COUNTED_STATUS) + 1],
            errors_by_source: [0; AnswerSource::ALL.len()],
            request_seq: 0,
            viewer_connections: ViewerConnections::default(),
            origin_pools: HashMap::new(),
            ttfb: TtfbParts::default(),
            connection_counts: ConnectionCounts::default(),
            lambda_quotas: quotas::RegionQuotas::new(scenario.lambda),
            function_logs: FunctionLogs::default(),
            objects: ObjectSampler::new(&scenario.catalog, seed),
            viewers: ViewerPool::new(&scenario.viewers, seed),
            origins: (0..scenario.origins.len())
                .map(|origin| OriginEpoch {
                    origin,
                    ..OriginEpoch::default()
                })
                .collect(),
            scenario,
            region,
            pops,
            regional,
            local_pop,
            routes: Vec::new(),
            fills: BinaryHeap::new(),
            fill_seq: 0,
            next_epoch: 0,
        })
    }

    /// Index of the region in the scenario.
    pub fn region(&self) -> usize {
        self.region
    }

    /// The region's id.
    pub fn region_id(&self) -> &str {
        &self.scenario.regions[self.region].id
    }

    /// Sets the controls for the coming epochs (see [`crate::controls`]):
    /// the migration's plan, origins' condition and load, outages, flash
    /// crowds.
    pub fn set_controls(&mut self, controls: &EpochControls) {
        let scenario = Arc::clone(&self.scenario);
        for i in 0..scenario.origins.len() {
            let c = controls.origins.get(i).cloned().unwrap_or_default();
            self.throttle[i] = c.throttle_share.clamp(0.0, 1.0);
            self.origin_now[i] = OriginNow {
                down: c.down_status.unwrap_or(0),
                slowdown: c.slowdown.max(0.0),
                extra_rtt_us: controls.extra_rtt_ms(self.region, i).max(0.0) * 1000.0,
            };
            if let (Some((q, _)), Some(all)) =
                (&mut self.origin_queues[i], scenario.origins[i].concurrency)
            {
                let share = c.servers_by_region.get(self.region).copied().unwrap_or(all);
                q.set_servers(share.clamp(1, all));
            }
        }
        self.regional_down = controls.regional_down.contains(&self.region);
        for (local, p) in self.pops.iter_mut().enumerate() {
            if controls.pops_flushed.contains(&p.global) {
                let pop = &scenario.pops[p.global];
                p.cache = edgesim_cache::build(pop.policy, Capacity::Bytes(pop.cache_bytes));
                p.in_flight.clear();
                // Its outage broke every connection on it, both ways.
                self.viewer_connections.break_pop(local);
                self.origin_pools
                    .retain(|&(tier, _), _| tier != origin_pool_tier(Some(local), false));
            }
        }
        let flash = controls.flash.clone().unwrap_or_default();
        self.flash.0 = flash.objects;
        for (i, share) in self.flash.1.iter_mut().enumerate() {
            *share = flash
                .share_by_country
                .get(i)
                .copied()
                .unwrap_or(0.0)
                .clamp(0.0, 1.0);
        }
        self.migration = controls.migration;
        self.controls = controls.function_knobs();
    }

    /// Sets the read-only copy of the Origin Shields the coming epochs
    /// consult (with this region's own fetches since then on top); returns
    /// the one it replaces. No-op (returns it back) without shields.
    pub fn set_shield_replica(&mut self, replica: Arc<ShieldReplica>) -> Arc<ShieldReplica> {
        match &mut self.shield {
            Some(s) => s.set_replica(replica),
            None => replica,
        }
    }

    /// Makes a fresh region (cold caches) start at `epoch` instead of 0:
    /// how a region taken over from a failed agent resumes.
    pub fn start_at(&mut self, epoch: u64) -> Result<(), SimError> {
        let epochs = self.scenario.simulation.epochs();
        if self.next_epoch != 0 || epoch >= epochs {
            return Err(SimError::EpochOutOfOrder {
                region: self.region_id().to_owned(),
                got: epoch,
                expected: self.next_epoch,
            });
        }
        self.next_epoch = epoch;
        Ok(())
    }

    /// `epoch` is the one this region simulates next, and in the run.
    fn check_epoch(&self, epoch: u64) -> Result<(), SimError> {
        if epoch != self.next_epoch {
            return Err(SimError::EpochOutOfOrder {
                region: self.region_id().to_owned(),
                got: epoch,
                expected: self.next_epoch,
            });
        }
        let epochs = self.scenario.simulation.epochs();
        if epoch >= epochs {
            return Err(SimError::PastEnd {
                region: self.region_id().to_owned(),
                epoch,
                epochs,
            });
        }
        Ok(())
    }

    /// The region's random streams for `epoch`.
    fn epoch_rngs(&self, epoch: u64) -> EpochRngs {
        let (seed, owner) = (self.scenario.simulation.seed, self.region_id());
        EpochRngs {
            arrivals: stream(seed, owner, Purpose::Arrivals, epoch),
            requests: stream(seed, owner, Purpose::Requests, epoch),
            network: stream(seed, owner, Purpose::Network, epoch),
            origin: stream(seed, owner, Purpose::Origin, epoch),
            triggers: stream(seed, owner, Purpose::Triggers, epoch),
        }
    }

    /// Simulates epoch `epoch` with the given demand and reports it.
    pub fn advance(
        &mut self,
        epoch: u64,
        demand: &[Demand],
    ) -> Result<RegionEpochReport, SimError> {
        let sim = self.scenario.simulation;
        self.check_epoch(epoch)?;
        let active = self.activate_routes(demand)?;
        self.next_epoch += 1;

        let mut rngs = self.epoch_rngs(epoch);
        let span = sim.epoch_span(epoch);
        let total_rate = active.last().map_or(0.0, |a| a.cum);
        if total_rate > 0.0 {
            // Mean gap between arrivals in µs; the process restarts at each
            // epoch boundary, which is exact for a Poisson process.
            let mean_gap_us = 1e6 / total_rate;
            let mut t = span.start as f64;
            loop {
                t += -(1.0 - rngs.arrivals.random::<f64>()).ln() * mean_gap_us;
                let at_us = t as u64;
                if at_us >= span.end {
                    break;
                }
                self.apply_fills_until(at_us);
                let pick = rngs.arrivals.random::<f64>() * total_rate;
                let i = active
                    .partition_point(|a| a.cum <= pick)
                    .min(active.len() - 1);
                self.handle_request(&active[i], at_us, &mut rngs);
            }
        }
        self.apply_fills_until(span.end.saturating_sub(1));
        self.viewer_connections.forget_before(span.end);
        Ok(self.take_report(epoch))
    }

    /// Makes routes for this epoch's demand; returns the demands with
    /// their route index and cumulative rate for picking one per arrival.
    fn activate_routes(&mut self, demand: &[Demand]) -> Result<Vec<ActiveRoute>, SimError> {
        let mut active: Vec<ActiveRoute> = Vec::with_capacity(demand.len());
        let mut cum = 0.0;
        for d in demand {
            let bad = |what: String| SimError::BadDemand {
                region: self.region_id().to_owned(),
                what,
            };
            let Some(pop_local) = self.local_pop.get(d.pop).copied().flatten() else {
                return Err(bad(format!("PoP #{}", d.pop)));
            };
            let Some(city) = self
                .scenario
                .viewers
                .countries
                .get(d.country)
                .and_then(|c| c.cities.get(d.city))
            else {
                return Err(bad(format!("country #{} city #{}", d.country, d.city)));
            };
            let path = Path::between(
                &self.scenario.network,
                city.location,
                self.scenario.pops[d.pop].location,
            );
            if !(d.requests_per_sec.is_finite() && d.requests_per_sec >= 0.0) {
                return Err(bad(format!("a rate of {} requests/s", d.requests_per_sec)));
            }
            let (idx, inserted) = self.route_for(d.country, d.pop, pop_local);
            if inserted {
                // Indices from idx on moved: fix those already picked.
                for a in &mut active {
                    if a.route >= idx {
                        a.route += 1;
                    }
                }
            }
            if d.requests_per_sec > 0.0 {
                cum += d.requests_per_sec;
                active.push(ActiveRoute {
                    route: idx,
                    cum,
                    city: d.city,
                    slice: d.slice,
                    slices: d.slices,
                    path,
                });
            }
        }
        Ok(active)
    }

    /// One viewer request of the Poisson process at its PoP: who asks for
    /// what (a viewer of the demand's city and slice), then the request
    /// driver ([`driver`]) serves it.
    fn handle_request(&mut self, active: &ActiveRoute, now_us: u64, rngs: &mut EpochRngs) {
        let route_index = active.route;
        let route = &self.routes[route_index];
        let viewer = self.viewers.sample_in(
            route.country,
            active.city,
            active.slice,
            active.slices,
            &mut rngs.requests,
        );
        let flash_share = self.flash.1[route.country];
        let object = if flash_share > 0.0 && rngs.requests.random::<f64>() < flash_share {
            // A flash crowd: the least popular objects of the first class,
            // which nobody had cached.
            let n = self.flash.0.max(1);
            let first = self.objects.class_objects(0).saturating_sub(n) + 1;
            self.objects
                .object(0, first + rngs.requests.random_range(0..n))
        } else {
            self.objects.sample(&mut rngs.requests)
        };
        self.routes[route_index].path = active.path;
        self.serve(route_index, viewer, object, now_us, rngs);
    }

    /// Simulates epoch `epoch` serving exactly `requests` (a replayed log:
    /// in time order, each at its PoP) instead of Poisson arrivals.
    pub fn advance_replay(
        &mut self,
        epoch: u64,
        requests: &[edgesim_model::replay::ReplayRequest],
    ) -> Result<RegionEpochReport, SimError> {
        let sim = self.scenario.simulation;
        self.check_epoch(epoch)?;
        let span = sim.epoch_span(epoch);
        let mut routes = Vec::with_capacity(requests.len());
        for r in requests {
            let bad = |what: String| SimError::BadDemand {
                region: self.region_id().to_owned(),
                what,
            };
            if !span.contains(&r.at_us) {
                return Err(bad(format!(
                    "a replayed request at {} µs, outside the epoch",
                    r.at_us
                )));
            }
            if self.scenario.viewers.countries.get(r.country).is_none() {
                return Err(bad(format!("country #{}", r.country)));
            }
            let Some(pop_local) = self.local_pop.get(r.pop).copied().flatten() else {
                return Err(bad(format!("PoP #{}", r.pop)));
            };
            self.route_for(r.country, r.pop, pop_local);
            routes.push((r.country, r.pop));
        }
        self.next_epoch += 1;
        let mut rngs = self.epoch_rngs(epoch);
        for (r, route) in requests.iter().zip(routes) {
            // Route indices shift as routes are added: look it up again.
            let route_index = self
                .routes
                .binary_search_by_key(&route, |x| (x.country, x.pop_global))
                .unwrap_or(0);
            self.apply_fills_until(r.at_us);
            let object = self.objects.explicit_object(&r.path, r.size);
            let viewer = self.viewers.with_id(r.country, r.viewer_id, r.device);
            let from = edgesim_model::cities::city(viewer.city)
                .map_or(self.scenario.viewers.countries[r.country].location, |c| {
                    c.location
                });
            let path = Path::between(
                &self.scenario.network,
                from,
                self.scenario.pops[r.pop].location,
            );
            self.routes[route_index].path = path;
            self.serve(route_index, viewer, object, r.at_us, &mut rngs);
        }
        self.apply_fills_until(span.end.saturating_sub(1));
        self.viewer_connections.forget_before(span.end);
        Ok(self.take_report(epoch))
    }

    /// The index of route (country, PoP) and whether it was just made
    /// (routes are kept sorted, so the ones after it moved).
    fn route_for(&mut self, country: usize, pop: usize, pop_local: usize) -> (usize, bool) {
        match self
            .routes
            .binary_search_by_key(&(country, pop), |r| (r.country, r.pop_global))
        {
            Ok(i) => (i, false),
            Err(i) => {
                // Replaced by each request's own (see the field).
                let path = Path::between(
                    &self.scenario.network,
                    self.scenario.viewers.countries[country].location,
                    self.scenario.pops[pop].location,
                );
                self.routes.insert(
                    i,
                    RouteState {
                        country,
                        pop_global: pop,
                        pop_local,
                        path,
                        requests: 0,
                        latency: EpochLatency::default(),
                    },
                );
                (i, true)
            }
        }
    }

    /// How long the edge keeps an answer of `status` for `object`, µs
    /// (None: not stored): the object's TTL for 200, CloudFront's
    /// error-caching rules otherwise.
    fn ttl_us(&self, object: &Object, status: u16) -> Option<u64> {
        if status == 200 {
            return self.objects.ttl_secs(object).map(|s| s * 1_000_000);
        }
        let cache_control = self.scenario.catalog.classes[object.class]
            .cache_control
            .as_deref();
        edgesim_cache::freshness::ttl_secs(
            &self.scenario.cache_policy,
            status,
            cache_control,
            None,
            0,
        )
        .map(|s| s * 1_000_000)
    }

    /// Counts one answer to a viewer at its PoP: its status, the bytes
    /// sent (whatever its status: an object, an error page, a generated
    /// body), its cause when it is an error, and the origin whose content
    /// it carries, if any (`origin`: the origin the answer is tagged with).
    fn count_answer(
        &mut self,
        pop_local: usize,
        viewer_id: u64,
        status: u16,
        bytes: u64,
        (source, origin): (AnswerSource, Option<usize>),
        edge_hit: bool,
    ) {
        let counters = &mut self.pops[pop_local].counters;
        counters.count_status(status);
        counters.viewer_bytes += bytes;
        self.status_counts[usize::from(status.min(MAX_COUNTED_STATUS))] += 1;
        if status >= 400 {
            self.errors_by_source[source as usize] += 1;
        }
        if status >= 500 && self.exposed.insert(viewer_id) {
            counters.viewers_exposed += 1;
        }
        let origin = origin.filter(|&o| o < self.origins.len());
        // Latency by origin: every answer an origin took part in (its
        // throttles and timeouts included), not functions' answers.
        self.last_origin = origin.filter(|_| {
            matches!(
                source,
                AnswerSource::Origin | AnswerSource::OriginSlowDown | AnswerSource::OriginTimeout
            )
        });
        if let Some(o) = origin
            .filter(|_| source.is_origin_content())
            .map(|o| &mut self.origins[o])
        {
            o.served += 1;
            o.served_bytes += bytes;
            o.served_hits += u64::from(edge_hit);
        }
    }

    /// Records a request's latency for its PoP and route.
    fn record_latency(&mut self, route_index: usize, device: usize, latency_us: u64) {
        let route = &mut self.routes[route_index];
        self.pops[route.pop_local].latency.record(latency_us);
        route.requests += 1;
        route.latency.record(latency_us);
        let d = &mut self.device_latency[device];
        d.0 += 1;
        d.1.record(latency_us);
        if let Some(o) = self.last_origin.take() {
            let o = &mut self.origin_latency[o];
            o.0 += 1;
            o.1.record(latency_us);
        }
    }

    /// Index of the behaviour that applies to the object's path, if any.
    fn behavior_of(&self, object: &Object) -> Option<usize> {
        if self.scenario.behaviors.is_empty() {
            return None;
        }
        let path = self.objects.path_of(object);
        self.scenario
            .behaviors
            .iter()
            .position(|b| b.matches(&path))
    }

    /// Asks the regional cache (when the region has one), then the Origin
    /// Shield of `origin` (when it has one) for an object the PoP does not
    /// have fresh: one answers, or the request must go on to the origin
    /// from the shield, the regional cache or straight from the PoP.
    fn upstream_lookup(
        &mut self,
        pop_local: usize,
        key: u64,
        origin: usize,
        pop_has_stale: bool,
        now_us: u64,
        rngs: &mut EpochRngs,
    ) -> Upstream {
        let net = self.scenario.network;
        let pop = &mut self.pops[pop_local];
        let regional = if self.regional_down {
            None
        } else {
            self.regional.as_mut()
        };
        let Some(regional) = regional else {
            let trip = OriginTrip {
                at_us: now_us,
                back_us: 0,
                via_regional: false,
                revalidate: pop_has_stale,
                shield: None,
            };
            return self.shield_lookup(pop_local, origin, key, trip, rngs);
        };
        pop.counters.regional_requests += 1;
        let half_rtt_us =
            (sample_rtt_us(&net, &pop.regional_path, None, &mut rngs.network) / 2.0).round() as u64;
        let at_regional_us = now_us + half_rtt_us;
        match lookup(
            &mut regional.cache,
            &regional.in_flight,
            key,
            at_regional_us,
        ) {
            Lookup::Fresh { tag, size } => {
                pop.counters.regional_hits += 1;
                Upstream::Answered {
                    ready_at_pop_us: at_regional_us + half_rtt_us,
                    tag,
                    size,
                }
            }
            Lookup::InFlight(p) => {
                pop.counters.regional_collapsed += 1;
                Upstream::Answered {
                    ready_at_pop_us: p.ready_us + half_rtt_us,
                    tag: p.tag,
                    size: p.size,
                }
            }
            Lookup::Miss { stale } => {
                let trip = OriginTrip {
                    at_us: at_regional_us,
                    back_us: half_rtt_us,
                    via_regional: true,
                    revalidate: stale,
                    shield: None,
                };
                self.shield_lookup(pop_local, origin, key, trip, rngs)
            }
        }
    }

    /// Past the regional cache (or from a PoP without one): the Origin
    /// Shield of `origin`, when it has one, answers (a hit, or a fetch of
    /// this region's in flight) or sends the fetch on to the origin.
    fn shield_lookup(
        &mut self,
        pop_local: usize,
        origin: usize,
        key: u64,
        trip: OriginTrip,
        rngs: &mut EpochRngs,
    ) -> Upstream {
        let net = self.scenario.network;
        let Some(shield) = self.shield.as_mut() else {
            return Upstream::Origin(trip);
        };
        let path = if trip.via_regional {
            shield.from_regional[origin].as_ref()
        } else {
            shield.from_pop[pop_local][origin].as_ref()
        };
        let Some(path) = path else {
            return Upstream::Origin(trip);
        };
        let half_us = (sample_rtt_us(&net, path, None, &mut rngs.network) / 2.0).round() as u64;
        let at_shield_us = trip.at_us + half_us;
        let back_us = trip.back_us + half_us;
        let (ready_us, tag, size, expires_at_us) = match shield.lookup(origin, key, at_shield_us) {
            ShieldLookup::Fresh(tag, size, expires) => {
                self.pops[pop_local].counters.shield_answers += 1;
                shield.record(origin, key, at_shield_us, size, ShieldAccessKind::Hit);
                (at_shield_us, tag, size, expires)
            }
            ShieldLookup::InFlight(ready_us, tag, size, expires) => {
                self.pops[pop_local].counters.shield_answers += 1;
                shield.record(origin, key, at_shield_us, size, ShieldAccessKind::Collapsed);
                (ready_us, tag, size, expires)
            }
            ShieldLookup::Miss(stale) => {
                shield.record(origin, key, at_shield_us, 0, ShieldAccessKind::Miss);
                return Upstream::Origin(OriginTrip {
                    at_us: at_shield_us,
                    back_us,
                    via_regional: trip.via_regional,
                    // The origin sees the shield's request: conditional
                    // when the shield has a stale copy.
                    revalidate: stale,
                    shield: Some(ShieldHop {
                        origin,
                        back_us: half_us,
                    }),
                });
            }
        };
        if trip.via_regional {
            // The regional cache keeps what is left of the shield's TTL.
            let at_regional_us = ready_us + half_us;
            self.schedule_fill(
                Tier::Regional,
                key,
                size,
                at_regional_us,
                expires_at_us.saturating_sub(at_regional_us),
                tag,
            );
        }
        Upstream::Answered {
            ready_at_pop_us: ready_us + back_us,
            tag,
            size,
        }
    }

    /// Stores the answer to a fetch sent for `trip`, which reached the
    /// sending tier at `at_us`, at the tiers it passes on its way back to
    /// the PoP: the Origin Shield, then the regional cache.
    fn fill_upstream(
        &mut self,
        trip: &OriginTrip,
        key: u64,
        size: u64,
        at_us: u64,
        ttl_us: u64,
        tag: u32,
    ) {
        let mut at_us = at_us;
        if let Some(hop) = &trip.shield {
            // The shield's copy goes to the region's overlay and log, not
            // to the fill queue (the coordinator owns the shield).
            if let Some(s) = &mut self.shield {
                let entry = Entry {
                    size,
                    expires_at_us: at_us + ttl_us,
                    tag,
                };
                s.store(
                    self.next_epoch.saturating_sub(1),
                    hop.origin,
                    key,
                    at_us,
                    entry,
                );
            }
            at_us += hop.back_us;
        }
        if trip.via_regional {
            self.schedule_fill(Tier::Regional, key, size, at_us, ttl_us, tag);
        }
    }

    /// Schedules storing an object at `tier` when its answer arrives, and
    /// marks the fetch in flight so that later requests collapse onto it.
    fn schedule_fill(
        &mut self,
        tier: Tier,
        key: u64,
        size: u64,
        at_us: u64,
        ttl_us: u64,
        tag: u32,
    ) {
        let in_flight = match tier {
            Tier::Pop(i) => &mut self.pops[i].in_flight,
            Tier::Regional => {
                &mut self
                    .regional
                    .as_mut()
                    .expect("regional tier exists")
                    .in_flight
            }
        };
        in_flight.insert(
            key,
            Pending {
                ready_us: at_us,
                tag,
                size,
            },
        );
        self.fill_seq += 1;
        self.fills.push(Reverse(Fill {
            at_us,
            seq: self.fill_seq,
            tier,
            key,
            entry_size: size,
            expires_at_us: at_us + ttl_us,
            tag,
        }));
    }

    /// Stores every fetched object whose answer has reached its tier by `t_us`.
    fn apply_fills_until(&mut self, t_us: u64) {
        while let Some(Reverse(fill)) = self.fills.peek() {
            if fill.at_us > t_us {
                break;
            }
            let Reverse(fill) = self.fills.pop().expect("peeked");
            let (cache, in_flight) = match fill.tier {
                Tier::Pop(i) => {
                    let p = &mut self.pops[i];
                    (&mut p.cache, &mut p.in_flight)
                }
                Tier::Regional => {
                    let r = self.regional.as_mut().expect("regional tier exists");
                    (&mut r.cache, &mut r.in_flight)
                }
            };
            cache.insert(
                fill.key,
                Entry {
                    size: fill.entry_size,
                    expires_at_us: fill.expires_at_us,
                    tag: fill.tag,
                },
            );
            if in_flight
                .get(&fill.key)
                .is_some_and(|p| p.ready_us == fill.at_us)
            {
                in_flight.remove(&fill.key);
            }
        }
    }

    /// Collects the epoch's metrics and resets them for the next epoch.
    fn take_report(&mut self, epoch: u64) -> RegionEpochReport {
        let mut report = RegionEpochReport {
            region: self.region,
            epoch,
            ..RegionEpochReport::default()
        };
        for p in &mut self.pops {
            if p.counters != Counters::default() {
                report.pops.push(PopEpoch {
                    pop: p.global,
                    counters: std::mem::take(&mut p.counters),
                    latency_v2: p.latency.take_encoded(),
                });
            }
        }
        report.pops.sort_by_key(|p| p.pop);
        for r in &mut self.routes {
            if r.requests > 0 {
                report.routes.push(RouteEpoch {
                    country: r.country,
                    pop: r.pop_global,
                    requests: std::mem::take(&mut r.requests),
                    latency_v2: r.latency.take_encoded(),
                });
            }
        }
        for o in &mut self.origins {
            if !o.is_idle() {
                report.origins.push(*o);
                *o = OriginEpoch {
                    origin: o.origin,
                    ..OriginEpoch::default()
                };
            }
        }
        for b in self.behaviors.iter_mut().flatten() {
            report.triggers.extend(b.take_stats());
        }
        report.function_logs = std::mem::take(&mut self.function_logs.lines);
        report.function_logs_dropped = std::mem::take(&mut self.function_logs.dropped);
        for (origin, q) in self.origin_queues.iter_mut().enumerate() {
            if let Some((_, (queued, waits))) = q
                && *queued > 0
            {
                report.queue_waits.push(GroupEpoch {
                    index: origin,
                    requests: std::mem::take(queued),
                    latency_v2: waits.take_encoded(),
                });
            }
        }
        for (groups, out) in [
            (&mut self.device_latency, &mut report.devices),
            (&mut self.origin_latency, &mut report.content_origins),
        ] {
            for (index, (requests, h)) in groups.iter_mut().enumerate() {
                if *requests > 0 {
                    out.push(GroupEpoch {
                        index,
                        requests: std::mem::take(requests),
                        latency_v2: h.take_encoded(),
                    });
                }
            }
        }
        for (name, v) in std::mem::take(&mut self.variants) {
            report.variants.push(VariantEpoch {
                name,
                requests: v.requests,
                edge_hits: v.edge_hits,
                origin_fetches: v.origin_fetches,
                latency_v2: v.latency.map(|mut h| h.take_encoded()).unwrap_or_default(),
            });
        }
        report.lambda = self.lambda_quotas.take_epoch();
        report.ttfb = std::mem::take(&mut self.ttfb);
        report.connections = std::mem::take(&mut self.connection_counts);
        report.outcomes = ViewerOutcomes {
            statuses: self
                .status_counts
                .iter_mut()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .map(|(status, n)| (status as u16, std::mem::take(n)))
                .collect(),
            errors_by_source: if self.errors_by_source.iter().any(|&n| n > 0) {
                std::mem::take(&mut self.errors_by_source).to_vec()
            } else {
                Vec::new()
            },
        };
        if let Some(s) = &mut self.shield {
            report.shield = std::mem::take(&mut s.log);
        }
        report
    }
}

/// What one tier has for a key at some moment.
enum Lookup {
    /// A fresh copy.
    Fresh {
        /// Its tag (see [`response_tag`]).
        tag: u32,
        /// Its size, bytes.
        size: u64,
    },
    /// No fresh copy, but a fetch for it is in flight to this tier.
    InFlight(Pending),
    /// Neither; `stale` when an expired copy is there to revalidate.
    Miss {
        /// An expired copy is cached.
        stale: bool,
    },
}

/// Looks `key` up in a tier's cache (a request: recency is updated) and,
/// failing a fresh copy, among its fetches in flight.
fn lookup(cache: &mut AnyCache, in_flight: &InFlight, key: u64, now_us: u64) -> Lookup {
    let cached = cache
        .get(key)
        .map(|e| (e.expires_at_us > now_us, e.tag, e.size));
    if let Some((true, tag, size)) = cached {
        return Lookup::Fresh { tag, size };
    }
    match in_flight.get(&key).filter(|p| p.ready_us > now_us) {
        Some(p) => Lookup::InFlight(*p),
        None => Lookup::Miss {
            stale: cached.is_some(),
        },
    }
}

/// Where a request the PoP could not answer gets its answer.
enum Upstream {
    /// The regional cache answered (hit or collapsed).
    Answered {
        /// When the answer reaches the PoP, µs.
        ready_at_pop_us: u64,
        /// The answer's tag (see [`response_tag`]).
        tag: u32,
        /// The answer's size, bytes.
        size: u64,
    },
    /// It must be fetched from an origin.
    Origin(OriginTrip),
}

/// A fetch from an origin, from the tier that sends it.
struct OriginTrip {
    /// When the tier sends it, µs.
    at_us: u64,
    /// Time from that tier back to the PoP, µs (0 when sent by the PoP).
    back_us: u64,
    /// Sent by the regional cache (which then stores the answer).
    via_regional: bool,
    /// The sending tier has a stale copy: a conditional request (304).
    revalidate: bool,
    /// Sent by an Origin Shield (which then stores the answer).
    shield: Option<ShieldHop>,
}

/// The Origin Shield hop of a fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ShieldHop {
    /// The origin whose shield it is.
    origin: usize,
    /// Time from the shield back to the tier that asked it, µs.
    back_us: u64,
}

/// The tag stored with a cached answer of `status` for a request to
/// `origin` from `source`: the status in the low 16 bits, the origin index
/// in the next 12 (at most 1,000 origins), the source in the top 4.
pub(crate) fn response_tag(status: u16, origin: usize, source: AnswerSource) -> u32 {
    u32::from(status) | ((origin as u32 & TAG_ORIGIN_MASK) << 16) | ((source as u32) << 28)
}

/// Bits of the origin index in a tag.
const TAG_ORIGIN_MASK: u32 = 0xfff;
const _: () = assert!(edgesim_model::limits::MAX_ORIGINS <= TAG_ORIGIN_MASK as usize + 1);

/// The source part of a tag.
pub(crate) fn tag_source(tag: u32) -> AnswerSource {
    AnswerSource::from_index((tag >> 28) as usize)
}

/// The status part of a tag.
pub(crate) fn tag_status(tag: u32) -> u16 {
    (tag & 0xffff) as u16
}

/// The origin part of a tag.
pub(crate) fn tag_origin(tag: u32) -> usize {
    ((tag >> 16) & TAG_ORIGIN_MASK) as usize
}

/// The sending tier of an origin pool: a PoP by local index, the regional
/// edge cache, or the region's side of an Origin Shield.
fn origin_pool_tier(pop: Option<usize>, shield: bool) -> u32 {
    match (shield, pop) {
        (true, _) => u32::MAX,
        (false, None) => u32::MAX - 1,
        (false, Some(p)) => p as u32,
    }
}

/// Bytes of an answer of `status` for an object of `size`.
pub(crate) fn body_bytes(status: u16, size: u64) -> u64 {
    if status == 200 {
        size
    } else {
        ERROR_BODY_BYTES
    }
}

/// Counts one request to an origin: a revalidation of a stale copy
/// (answered 304, no body: objects do not change) or a full fetch.
fn count_origin_fetch(
    counters: &mut Counters,
    origin: &mut OriginEpoch,
    size: u64,
    revalidation: bool,
) {
    counters.origin_fetches += 1;
    origin.fetches += 1;
    if revalidation {
        counters.origin_revalidations += 1;
    } else {
        counters.origin_bytes += size;
        origin.bytes += size;
    }
}

/// The random streams of one region in one epoch.
struct EpochRngs {
    arrivals: Pcg64Mcg,
    requests: Pcg64Mcg,
    network: Pcg64Mcg,
    origin: Pcg64Mcg,
    triggers: Pcg64Mcg,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::decode_histogram;
    use crate::routing::Routing;

    fn scenario(cache: &str, ttl: u64, rps: f64) -> Arc<Scenario> {
        let text = format!(
            r#"
[simulation]
duration_secs = 20
epoch_ms = 1000
seed = 3
[[pops]]
id = "fra"
city = "FRA"
cache_bytes = "{cache}"
[[pops]]
id = "lhr"
city = "LHR"
region = "eu-central-1"
cache_bytes = "{cache}"
[[origins]]
id = "o"
kind = "s3"
location = "us-east-1"
[catalog]
objects = 5000
zipf_alpha = 0.9
size = {{ dist = "lognormal", p50 = "20KiB", p99 = "200KiB" }}
ttl_secs = {ttl}
[viewers]
requests_per_sec = {rps}
countries = {{ DE = 0.6, GB = 0.4 }}
"#
        );
        Arc::new(Scenario::from_toml("t.toml", &text).expect("valid test scenario"))
    }

    /// Runs every epoch of the (single-region) scenario.
    fn run_all(s: &Arc<Scenario>) -> Vec<RegionEpochReport> {
        let demand = Routing::nearest(s).demand(s, s.viewers.requests_per_sec);
        let mut sim = RegionSim::new(Arc::clone(s), 0).unwrap();
        (0..s.simulation.epochs())
            .map(|e| sim.advance(e, &demand[0]).unwrap())
            .collect()
    }

    fn totals(reports: &[RegionEpochReport]) -> Counters {
        let mut c = Counters::default();
        for r in reports {
            for p in &r.pops {
                c.add(&p.counters);
            }
        }
        c
    }

    #[test]
    fn tags_carry_status_origin_and_source() {
        for source in AnswerSource::ALL {
            for (status, origin) in [(200, 0), (503, 999), (404, 17), (302, 1)] {
                let tag = response_tag(status, origin, source);
                assert_eq!(tag_status(tag), status);
                assert_eq!(tag_origin(tag), origin);
                assert_eq!(tag_source(tag), source);
            }
        }
        // An origin's answer with origin 0 is the tag the shield tests use.
        assert_eq!(response_tag(200, 0, AnswerSource::Origin), 200);
    }

    #[test]
    fn a_plain_region_counts_every_answer_by_status_and_no_errors() {
        let s = scenario("64MiB", 3600, 500.0);
        let reports = run_all(&s);
        let c = totals(&reports);
        let statuses: u64 = reports
            .iter()
            .flat_map(|r| &r.outcomes.statuses)
            .map(|&(status, n)| {
                assert_eq!(status, 200);
                n
            })
            .sum();
        assert_eq!(statuses, c.requests);
        assert!(
            reports
                .iter()
                .all(|r| r.outcomes.errors_by_source.is_empty()),
            "nothing failed"
        );
        let served: u64 = reports
            .iter()
            .flat_map(|r| &r.origins)
            .map(|o| o.served)
            .sum();
        assert_eq!(served, c.requests, "every answer is the origin's content");
    }

    #[test]
    fn same_inputs_give_the_same_reports() {
        let s = scenario("64MiB", 3600, 2000.0);
        assert_eq!(run_all(&s), run_all(&s));
    }

    #[test]
    fn counters_are_consistent_with_each_other_and_the_histograms() {
        let s = scenario("64MiB", 3600, 2000.0);
        let reports = run_all(&s);
        let c = totals(&reports);
        assert_eq!(c.requests, c.outcomes());
        assert!(c.edge_collapsed > 0, "misses of popular objects collapse");
        assert!(c.origin_bytes <= c.viewer_bytes);
        let mut hist_total = 0;
        let mut route_total = 0;
        for r in &reports {
            for p in &r.pops {
                assert_eq!(
                    decode_histogram(&p.latency_v2).unwrap().len(),
                    p.counters.requests
                );
                hist_total += p.counters.requests;
            }
            route_total += r.routes.iter().map(|x| x.requests).sum::<u64>();
            let fetches: u64 = r.origins.iter().map(|o| o.fetches).sum();
            assert_eq!(
                fetches,
                r.pops
                    .iter()
                    .map(|p| p.counters.origin_fetches)
                    .sum::<u64>()
            );
        }
        assert_eq!(hist_total, c.requests);
        assert_eq!(route_total, c.requests);
    }

    #[test]
    fn arrivals_follow_the_requested_rate() {
        let s = scenario("64MiB", 3600, 2000.0);
        let c = totals(&run_all(&s));
        // 40,000 expected; Poisson sd = 200.
        assert!(
            (c.requests as f64 - 40_000.0).abs() < 1_000.0,
            "{}",
            c.requests
        );
    }

    #[test]
    fn bigger_caches_hit_more_and_nothing_is_cached_without_ttl() {
        let small = totals(&run_all(&scenario("8MiB", 3600, 2000.0)));
        let big = totals(&run_all(&scenario("512MiB", 3600, 2000.0)));
        assert!(
            big.hit_ratio() > small.hit_ratio() + 0.05,
            "{} vs {}",
            big.hit_ratio(),
            small.hit_ratio()
        );
        let uncached = totals(&run_all(&scenario("512MiB", 0, 2000.0)));
        assert_eq!(uncached.edge_hits, 0);
    }

    #[test]
    fn short_ttls_expire_objects() {
        let long = totals(&run_all(&scenario("512MiB", 3600, 2000.0)));
        let short = totals(&run_all(&scenario("512MiB", 1, 2000.0)));
        assert!(short.hit_ratio() < long.hit_ratio() - 0.05);
    }

    #[test]
    fn latency_never_beats_the_network_floor() {
        let s = scenario("64MiB", 3600, 500.0);
        for r in run_all(&s) {
            for route in &r.routes {
                // From the country's city nearest the PoP.
                let c = &s.viewers.countries[route.country];
                let floor = c
                    .cities
                    .iter()
                    .map(|city| {
                        Path::between(&s.network, city.location, s.pops[route.pop].location)
                            .floor_us
                    })
                    .fold(f64::INFINITY, f64::min);
                let h = decode_histogram(&route.latency_v2).unwrap();
                assert!(h.min() as f64 >= floor * 0.999, "{} < {floor}", h.min());
            }
        }
    }

    #[test]
    fn misuse_is_an_error_not_a_panic() {
        let s = scenario("64MiB", 3600, 100.0);
        let mut sim = RegionSim::new(Arc::clone(&s), 0).unwrap();
        assert!(matches!(
            sim.advance(1, &[]),
            Err(SimError::EpochOutOfOrder {
                got: 1,
                expected: 0,
                ..
            })
        ));
        let bad = [Demand {
            country: 0,
            city: 0,
            slice: 0,
            slices: 1,
            pop: 99,
            requests_per_sec: 1.0,
        }];
        assert!(matches!(
            sim.advance(0, &bad),
            Err(SimError::BadDemand { .. })
        ));
        let nan = [Demand {
            country: 0,
            city: 0,
            slice: 0,
            slices: 1,
            pop: 0,
            requests_per_sec: f64::NAN,
        }];
        assert!(matches!(
            sim.advance(0, &nan),
            Err(SimError::BadDemand { .. })
        ));
        for e in 0..s.simulation.epochs() {
            sim.advance(e, &[]).unwrap();
        }
        assert!(matches!(
            sim.advance(s.simulation.epochs(), &[]),
            Err(SimError::PastEnd { .. })
        ));
    }

    /// Three PoPs in one region, optionally behind a regional edge cache.
    fn tiered(regional_cache: &str, extra: &str) -> Arc<Scenario> {
        let text = format!(
            r#"
[simulation]
duration_secs = 30
seed = 9
[[regions]]
id = "eu-central-1"
cache_bytes = "{regional_cache}"
[[pops]]
id = "fra"
city = "FRA"
cache_bytes = "16MiB"
[[pops]]
id = "ams"
city = "AMS"
region = "eu-central-1"
cache_bytes = "16MiB"
[[pops]]
id = "waw"
city = "WAW"
cache_bytes = "16MiB"
[[origins]]
id = "o"
kind = "s3"
location = "us-east-1"
{extra}
[viewers]
requests_per_sec = 3000
countries = {{ DE = 0.4, NL = 0.3, PL = 0.3 }}
"#
        );
        Arc::new(Scenario::from_toml("t.toml", &text).expect("valid tiered scenario"))
    }

    const CATALOG: &str = r#"
[catalog]
objects = 20000
zipf_alpha = 0.8
size = "16KiB"
ttl_secs = 3600
"#;

    #[test]
    fn a_regional_cache_absorbs_misses_that_pops_would_send_to_the_origin() {
        let flat = totals(&run_all(&tiered("0", CATALOG)));
        let tiered = totals(&run_all(&tiered("1GiB", CATALOG)));
        assert_eq!(flat.regional_requests, 0);
        assert_eq!(flat.requests, flat.outcomes());
        assert_eq!(tiered.requests, tiered.outcomes());
        assert_eq!(
            tiered.regional_requests,
            tiered.regional_hits + tiered.regional_collapsed + tiered.origin_fetches
        );
        assert!(tiered.regional_hits > 0);
        // The same requests arrive either way (their streams do not depend
        // on the tiers); only where they are answered changes.
        assert_eq!(flat.requests, tiered.requests);
        assert_eq!(flat.viewer_bytes, tiered.viewer_bytes);
        assert!(
            tiered.offload_requests() > flat.offload_requests() + 0.1,
            "{} vs {}",
            tiered.offload_requests(),
            flat.offload_requests()
        );
    }

    #[test]
    fn short_ttls_cause_revalidations_without_body_bytes() {
        let catalog = r#"
[[catalog.classes]]
name = "api"
share = 1
objects = 50
zipf_alpha = 0.5
size = "1KiB"
cache_control = "max-age=2"
"#;
        let c = totals(&run_all(&tiered("0", catalog)));
        assert!(c.origin_revalidations > 0);
        let full_fetches = c.origin_fetches - c.origin_revalidations;
        assert_eq!(
            c.origin_bytes,
            full_fetches * 1024,
            "revalidations carry no body"
        );
        let uncacheable = r#"
[[catalog.classes]]
name = "api"
share = 1
objects = 50
zipf_alpha = 0.5
size = "1KiB"
cache_control = "no-store"
"#;
        let c = totals(&run_all(&tiered("1GiB", uncacheable)));
        assert_eq!(
            c.edge_hits + c.edge_collapsed + c.regional_hits + c.regional_collapsed,
            0
        );
        assert_eq!(c.origin_fetches, c.requests);
    }

    #[test]
    fn concurrent_misses_collapse_onto_one_fetch() {
        // One object and a slow origin: while the first fetch is in flight,
        // every other request for it waits instead of fetching again.
        let slow = r#"
[catalog]
objects = 1
zipf_alpha = 0
size = "1KiB"
ttl_secs = 1
"#
        .replace("[catalog]", "[catalog]\norigin = \"o\"");
        let s = tiered("0", &slow);
        let mut s = (*s).clone();
        s.origins[0].service_ms = edgesim_model::Dist::Fixed(800.0);
        let s = Arc::new(s);
        let c = totals(&run_all(&s));
        assert!(c.edge_collapsed > c.origin_fetches * 10, "{c:?}");
        // A fetch every TTL (1 s) + fetch time (~0.9 s) per PoP at most.
        assert!(c.origin_fetches <= 3 * 30, "{c:?}");
    }
}
