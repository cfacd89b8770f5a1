//! CloudFront Origin Shield: one more cache tier, per origin, in one AWS
//! region, that every regional edge cache (or PoP without one) goes
//! through before the origin.
//!
//! The shield is shared by all regions, but regions are simulated apart
//! (on different agents). So:
//!
//! * the coordinator holds the authoritative shield caches
//!   ([`ShieldCaches`], real eviction policies and byte capacities);
//! * during epoch k every region reads a [`ShieldReplica`], the
//!   authoritative state as of the end of the last epoch the coordinator
//!   folded in, plus its own overlay of what it fetched through the shield
//!   since then (so a region is exact for itself; what other regions
//!   fetched reaches it one epoch later);
//! * every region reports its shield accesses ([`ShieldAccess`]); the
//!   coordinator applies all regions' accesses in the order (time, region,
//!   sequence) and sends the change ([`ShieldUpdate`]) to every agent with
//!   the next epoch's controls.
//!
//! The result depends only on the reports of whole epochs, never on which
//! agent simulated which region.

use std::collections::{BTreeMap, HashMap, HashSet};

pub use edgesim_cache::Entry;
use edgesim_cache::{AnyCache, Cache, Capacity};
use edgesim_model::Scenario;

use crate::metrics::RegionEpochReport;
use crate::network::Path;

type KeyMap<V> = HashMap<u64, V>;

/// What one shield access was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, PartialOrd, Ord, Hash)]
pub enum ShieldAccessKind {
    /// A request the shield answered from its cache.
    #[default]
    Hit,
    /// A request that waited for a fetch of the same object already in
    /// flight from the shield (this region's own).
    Collapsed,
    /// A request the shield sent on to the origin (a miss or a
    /// revalidation of a stale copy).
    Miss,
    /// Not a request: the answer to a miss reaching the shield and being
    /// stored (`expires_at_us`, `tag`).
    Store,
}

impl ShieldAccessKind {
    /// Wire code.
    pub fn code(self) -> u32 {
        match self {
            ShieldAccessKind::Hit => 0,
            ShieldAccessKind::Collapsed => 1,
            ShieldAccessKind::Miss => 2,
            ShieldAccessKind::Store => 3,
        }
    }

    /// From a wire code (unknown codes read as a miss).
    pub fn from_code(code: u32) -> ShieldAccessKind {
        match code {
            0 => ShieldAccessKind::Hit,
            1 => ShieldAccessKind::Collapsed,
            3 => ShieldAccessKind::Store,
            _ => ShieldAccessKind::Miss,
        }
    }
}

/// One access of a region to an origin's shield during an epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ShieldAccess {
    /// When the request reached the shield (for `Store`: when the answer
    /// did), µs.
    pub at_us: u64,
    /// The origin whose shield it is (scenario order).
    pub origin: usize,
    /// Cache key.
    pub key: u64,
    /// Bytes the shield answered with (hits, collapsed) or stored.
    pub size: u64,
    /// `Store`: when the stored answer stops being fresh, µs.
    pub expires_at_us: u64,
    /// `Store`: the answer's tag (status and origin).
    pub tag: u32,
    /// What it was.
    pub kind: ShieldAccessKind,
}

/// A shield entry as shipped to the agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShieldEntry {
    /// The origin whose shield holds it.
    pub origin: usize,
    /// Cache key.
    pub key: u64,
    /// The cached entry.
    pub entry: Entry,
}

/// The change of the authoritative shields over one epoch.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ShieldUpdate {
    /// The epoch whose accesses it folds in.
    pub epoch: u64,
    /// Entries stored (or replaced), by (origin, key).
    pub stored: Vec<ShieldEntry>,
    /// Entries evicted, by (origin, key); disjoint from `stored`.
    pub evicted: Vec<(usize, u64)>,
}

/// A read-only copy of the authoritative shields, as of the end of
/// epoch `through_epoch`.
#[derive(Debug, Clone, Default)]
pub struct ShieldReplica {
    /// Per origin (scenario order): the shield's entries.
    entries: Vec<KeyMap<Entry>>,
    /// The last epoch folded in, if any.
    through_epoch: Option<u64>,
}

impl ShieldReplica {
    /// An empty replica (no epoch folded in yet).
    pub fn new() -> ShieldReplica {
        ShieldReplica::default()
    }

    /// The last epoch whose accesses this replica includes.
    pub fn through_epoch(&self) -> Option<u64> {
        self.through_epoch
    }

    /// Applies `update` unless an update for that epoch (or a later one)
    /// was already applied; returns whether it did.
    pub fn apply(&mut self, update: &ShieldUpdate) -> bool {
        if self.through_epoch.is_some_and(|e| e >= update.epoch) {
            return false;
        }
        for &(origin, key) in &update.evicted {
            if let Some(map) = self.entries.get_mut(origin) {
                map.remove(&key);
            }
        }
        for s in &update.stored {
            if self.entries.len() <= s.origin {
                self.entries.resize_with(s.origin + 1, KeyMap::default);
            }
            self.entries[s.origin].insert(s.key, s.entry);
        }
        self.through_epoch = Some(update.epoch);
        true
    }

    /// The entry of `origin`'s shield for `key`, fresh or not.
    pub fn get(&self, origin: usize, key: u64) -> Option<&Entry> {
        self.entries.get(origin)?.get(&key)
    }

    /// Number of entries over all shields.
    pub fn len(&self) -> usize {
        self.entries.iter().map(|m| m.len()).sum()
    }

    /// Whether no shield holds anything.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The coordinator's authoritative shields.
pub struct ShieldCaches {
    /// Per origin with a shield: its cache and the keys the agents were
    /// told it holds.
    caches: Vec<Option<(AnyCache, HashSet<u64>)>>,
}

impl ShieldCaches {
    /// Cold shields for every origin of `scenario` that has one.
    pub fn new(scenario: &Scenario) -> ShieldCaches {
        ShieldCaches {
            caches: scenario
                .origins
                .iter()
                .map(|o| {
                    o.shield.as_ref().map(|s| {
                        (
                            edgesim_cache::build(s.policy, Capacity::Bytes(s.cache_bytes)),
                            HashSet::new(),
                        )
                    })
                })
                .collect(),
        }
    }

    /// Whether any origin has a shield.
    pub fn enabled(&self) -> bool {
        self.caches.iter().any(Option::is_some)
    }

    /// Objects and bytes held by `origin`'s shield.
    pub fn occupancy(&self, origin: usize) -> Option<(usize, u64)> {
        let (c, _) = self.caches.get(origin)?.as_ref()?;
        Some((c.len(), c.used_bytes()))
    }

    /// Applies the shield accesses of every region in `epoch` (`reports`
    /// in any order: they are merged by time, region, then sequence) and
    /// returns the change to ship to the agents.
    pub fn apply_epoch(&mut self, epoch: u64, reports: &[RegionEpochReport]) -> ShieldUpdate {
        let mut order: Vec<(u64, usize, usize, &ShieldAccess)> = reports
            .iter()
            .flat_map(|r| {
                r.shield
                    .iter()
                    .enumerate()
                    .map(move |(seq, a)| (a.at_us, r.region, seq, a))
            })
            .collect();
        order.sort_unstable_by_key(|x| (x.0, x.1, x.2));
        let mut touched: BTreeMap<(usize, u64), ()> = BTreeMap::new();
        for (_, _, _, a) in order {
            let Some(Some((cache, resident))) = self.caches.get_mut(a.origin) else {
                continue;
            };
            match a.kind {
                ShieldAccessKind::Hit | ShieldAccessKind::Collapsed => {
                    // Recency only; an entry already evicted stays out.
                    let _ = cache.get(a.key);
                }
                ShieldAccessKind::Miss => {}
                ShieldAccessKind::Store => {
                    let admitted = cache.insert(
                        a.key,
                        Entry {
                            size: a.size,
                            expires_at_us: a.expires_at_us,
                            tag: a.tag,
                        },
                    );
                    if admitted {
                        resident.insert(a.key);
                    }
                    touched.insert((a.origin, a.key), ());
                }
            }
        }
        let mut update = ShieldUpdate {
            epoch,
            ..ShieldUpdate::default()
        };
        for (origin, slot) in self.caches.iter_mut().enumerate() {
            let Some((cache, resident)) = slot else {
                continue;
            };
            // `resident` holds every key the cache holds (and those
            // evicted since): only when it is larger did anything leave.
            if resident.len() > cache.len() {
                let mut gone: Vec<u64> = resident
                    .iter()
                    .copied()
                    .filter(|&k| cache.peek(k).is_none())
                    .collect();
                gone.sort_unstable();
                for k in gone {
                    resident.remove(&k);
                    touched.remove(&(origin, k));
                    update.evicted.push((origin, k));
                }
            }
        }
        for &(origin, key) in touched.keys() {
            let Some(Some((cache, _))) = self.caches.get(origin) else {
                continue;
            };
            match cache.peek(key) {
                Some(e) => update.stored.push(ShieldEntry {
                    origin,
                    key,
                    entry: *e,
                }),
                None => update.evicted.push((origin, key)),
            }
        }
        update.evicted.sort_unstable();
        update.evicted.dedup();
        update
    }
}

/// What a region's shield lookup found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ShieldLookup {
    /// A fresh copy: (tag, size, expires_at_us).
    Fresh(u32, u64, u64),
    /// A fetch of this region is in flight: (ready_us, tag, size, expires_at_us).
    InFlight(u64, u32, u64, u64),
    /// Neither; true when an expired copy is there to revalidate.
    Miss(bool),
}

/// A region's view of the shields: the replica, its own overlay, its
/// access log for the epoch and the network paths to the shields.
pub(crate) struct RegionShield {
    replica: std::sync::Arc<ShieldReplica>,
    /// Per origin: what this region fetched through the shield and the
    /// replica does not include yet: (epoch, ready_us, entry).
    overlay: Vec<KeyMap<(u64, u64, Entry)>>,
    /// Accesses of the current epoch, in order.
    pub(crate) log: Vec<ShieldAccess>,
    /// Per origin with a shield: path from the regional edge cache to it.
    pub(crate) from_regional: Vec<Option<Path>>,
    /// Per local PoP, per origin with a shield: path from the PoP to it.
    pub(crate) from_pop: Vec<Vec<Option<Path>>>,
    /// Per origin with a shield, per origin: path from the shield to that
    /// origin (a failover or a function may pick another origin).
    pub(crate) to_origin: Vec<Vec<Path>>,
}

impl RegionShield {
    /// The shields of `scenario` seen from `region`; None when no origin
    /// has one.
    pub(crate) fn new(scenario: &Scenario, region: usize) -> Option<RegionShield> {
        if scenario.origins.iter().all(|o| o.shield.is_none()) {
            return None;
        }
        let net = &scenario.network;
        let at = |o: &edgesim_model::Origin| o.shield.as_ref().map(|s| s.location);
        let r = &scenario.regions[region];
        Some(RegionShield {
            replica: std::sync::Arc::new(ShieldReplica::new()),
            overlay: scenario.origins.iter().map(|_| KeyMap::default()).collect(),
            log: Vec::new(),
            from_regional: scenario
                .origins
                .iter()
                .map(|o| at(o).map(|s| Path::between(net, r.location, s)))
                .collect(),
            from_pop: r
                .pops
                .iter()
                .map(|&p| {
                    let loc = scenario.pops[p].location;
                    scenario
                        .origins
                        .iter()
                        .map(|o| at(o).map(|s| Path::between(net, loc, s)))
                        .collect()
                })
                .collect(),
            to_origin: scenario
                .origins
                .iter()
                .map(|o| match at(o) {
                    Some(s) => scenario
                        .origins
                        .iter()
                        .map(|t| Path::between(net, s, t.location))
                        .collect(),
                    None => Vec::new(),
                })
                .collect(),
        })
    }

    /// Replaces the replica; drops overlay entries it now includes.
    pub(crate) fn set_replica(
        &mut self,
        replica: std::sync::Arc<ShieldReplica>,
    ) -> std::sync::Arc<ShieldReplica> {
        if let Some(through) = replica.through_epoch() {
            for map in &mut self.overlay {
                map.retain(|_, (epoch, _, _)| *epoch > through);
            }
        }
        std::mem::replace(&mut self.replica, replica)
    }

    /// Looks `key` up in `origin`'s shield at `now_us` (the overlay first).
    pub(crate) fn lookup(&self, origin: usize, key: u64, now_us: u64) -> ShieldLookup {
        if let Some(&(_, ready_us, e)) = self.overlay.get(origin).and_then(|m| m.get(&key)) {
            if ready_us > now_us {
                return ShieldLookup::InFlight(ready_us, e.tag, e.size, e.expires_at_us);
            }
            if e.expires_at_us > now_us {
                return ShieldLookup::Fresh(e.tag, e.size, e.expires_at_us);
            }
            return ShieldLookup::Miss(true);
        }
        match self.replica.get(origin, key) {
            Some(e) if e.expires_at_us > now_us => {
                ShieldLookup::Fresh(e.tag, e.size, e.expires_at_us)
            }
            Some(_) => ShieldLookup::Miss(true),
            None => ShieldLookup::Miss(false),
        }
    }

    /// Records that an answer reaches `origin`'s shield at `at_us` and is
    /// stored there (epoch `epoch`).
    pub(crate) fn store(&mut self, epoch: u64, origin: usize, key: u64, at_us: u64, entry: Entry) {
        if let Some(map) = self.overlay.get_mut(origin) {
            map.insert(key, (epoch, at_us, entry));
        }
        self.log.push(ShieldAccess {
            at_us,
            origin,
            key,
            size: entry.size,
            expires_at_us: entry.expires_at_us,
            tag: entry.tag,
            kind: ShieldAccessKind::Store,
        });
    }

    /// Records a request to `origin`'s shield.
    pub(crate) fn record(
        &mut self,
        origin: usize,
        key: u64,
        at_us: u64,
        size: u64,
        kind: ShieldAccessKind,
    ) {
        self.log.push(ShieldAccess {
            at_us,
            origin,
            key,
            size,
            kind,
            ..ShieldAccess::default()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(at_us: u64, key: u64, size: u64, kind: ShieldAccessKind) -> ShieldAccess {
        ShieldAccess {
            at_us,
            origin: 0,
            key,
            size,
            expires_at_us: 1_000_000_000,
            tag: 200,
            kind,
        }
    }

    fn scenario() -> Scenario {
        let text = r#"
[simulation]
duration_secs = 5
[[pops]]
id = "fra"
city = "FRA"
cache_bytes = "1MiB"
[[origins]]
id = "o"
kind = "s3"
location = "us-east-1"
shield_region = "us-east-1"
shield_cache_bytes = "300B"
[catalog]
objects = 10
zipf_alpha = 0.8
size = "100B"
ttl_secs = 60
[viewers]
requests_per_sec = 1
countries = { DE = 1 }
"#;
        Scenario::from_toml("t.toml", text).expect("valid")
    }

    /// One PoP in Tokyo without a regional cache, an origin in us-east-1,
    /// nothing cacheable: every request goes to the origin.
    fn detour(shield: &str) -> std::sync::Arc<Scenario> {
        let text = format!(
            r#"
[simulation]
duration_secs = 4
seed = 5
[[pops]]
id = "nrt"
city = "NRT"
cache_bytes = "1MiB"
[[origins]]
id = "o"
kind = "s3"
location = "us-east-1"
{shield}
[catalog]
objects = 1_000_000_000
zipf_alpha = 0
size = "1KiB"
ttl_secs = 0
[viewers]
requests_per_sec = 300
countries = {{ JP = 1 }}
"#
        );
        std::sync::Arc::new(Scenario::from_toml("t.toml", &text).expect("valid"))
    }

    fn min_latency_us(s: &std::sync::Arc<Scenario>) -> (u64, u64) {
        let demand = crate::Routing::nearest(s).demand(s, s.viewers.requests_per_sec);
        let mut sim = crate::RegionSim::new(std::sync::Arc::clone(s), 0).unwrap();
        let (mut min, mut misses) = (u64::MAX, 0);
        for e in 0..s.simulation.epochs() {
            let r = sim.advance(e, &demand[0]).unwrap();
            misses += r
                .shield
                .iter()
                .filter(|a| a.kind == ShieldAccessKind::Miss)
                .count() as u64;
            for route in &r.routes {
                let h = crate::metrics::decode_histogram(&route.latency_v2).unwrap();
                min = min.min(h.min());
            }
        }
        (min, misses)
    }

    #[test]
    fn shield_misses_pay_the_hop_to_the_shield_region() {
        let direct = detour("");
        let shielded = detour("shield_region = \"eu-west-1\"");
        let net = &shielded.network;
        let pop = shielded.pops[0].location;
        let origin = shielded.origins[0].location;
        let at = shielded.origins[0].shield.as_ref().unwrap().location;
        let country = shielded.viewers.countries[0].location;
        let floor = Path::between(net, country, pop).floor_us
            + Path::between(net, pop, at).floor_us
            + Path::between(net, at, origin).floor_us;
        let (with, misses) = min_latency_us(&shielded);
        let (without, none) = min_latency_us(&direct);
        assert_eq!(none, 0);
        assert!(misses > 500, "{misses}");
        assert!(with as f64 >= floor * 0.999, "{with} < {floor}");
        // The detour (Tokyo -> Dublin -> Virginia instead of Tokyo ->
        // Virginia) shows in the fastest answers too.
        let extra = floor
            - Path::between(net, country, pop).floor_us
            - Path::between(net, pop, origin).floor_us;
        assert!(extra > 20_000.0, "{extra}");
        assert!(
            with as f64 > without as f64 + 0.5 * extra,
            "{with} vs {without} (+{extra})"
        );
    }

    #[test]
    fn updates_follow_the_authoritative_cache_and_replicas_apply_them_once() {
        let s = scenario();
        let mut shields = ShieldCaches::new(&s);
        assert!(shields.enabled());
        let r0 = RegionEpochReport {
            region: 0,
            shield: vec![
                access(10, 1, 100, ShieldAccessKind::Store),
                access(30, 3, 100, ShieldAccessKind::Store),
            ],
            ..RegionEpochReport::default()
        };
        let r1 = RegionEpochReport {
            region: 1,
            shield: vec![
                access(20, 2, 100, ShieldAccessKind::Store),
                access(25, 1, 100, ShieldAccessKind::Hit),
                access(40, 4, 100, ShieldAccessKind::Store),
            ],
            ..RegionEpochReport::default()
        };
        // LRU, 3 objects: 1, 2, hit 1, 3, then 4 evicts 2.
        let u = shields.apply_epoch(0, &[r1, r0]);
        let stored: Vec<u64> = u.stored.iter().map(|e| e.key).collect();
        assert_eq!(stored, vec![1, 3, 4]);
        assert_eq!(u.evicted, vec![(0, 2)]);
        let mut replica = ShieldReplica::new();
        assert!(replica.apply(&u));
        assert!(!replica.apply(&u), "applied once");
        assert_eq!(replica.len(), 3);
        assert!(replica.get(0, 2).is_none());
        let r = RegionEpochReport {
            region: 0,
            shield: vec![access(1_000_010, 5, 100, ShieldAccessKind::Store)],
            ..RegionEpochReport::default()
        };
        let u = shields.apply_epoch(1, &[r]);
        assert_eq!(u.evicted, vec![(0, 1)]);
        assert!(replica.apply(&u));
        assert_eq!(replica.len(), 3);
        assert_eq!(shields.occupancy(0), Some((3, 300)));
    }
}
