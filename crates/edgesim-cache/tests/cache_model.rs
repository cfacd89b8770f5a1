//! Model-based tests: every policy against a trivially correct Vec-based reference.
//!
//! Random sequences of get / insert / remove / access (get, then insert on a
//! miss) run against both; after every operation the results, the resident
//! set (and each entry), `len` and `used_bytes` must be identical. The
//! references are written straight from the rules in the crate documentation,
//! with linear scans and no shared code.

use edgesim_cache::{Cache, Capacity, Entry, PolicyKind, build};
use proptest::prelude::*;

/// Keys are drawn from `0..KEYS` so that operations collide often.
const KEYS: u64 = 24;

fn charge(capacity: Capacity, size: u64) -> u64 {
    match capacity {
        Capacity::Bytes(_) => size,
        Capacity::Objects(_) => 1,
    }
}

/// An object in a reference queue.
#[derive(Clone, Copy, Debug)]
struct Item {
    key: u64,
    entry: Entry,
    /// Reference bit, visited bit or frequency, depending on the policy.
    counter: u8,
}

/// A reference queue: index 0 is the oldest object.
#[derive(Clone, Debug, Default)]
struct List(Vec<Item>);

impl List {
    fn position(&self, key: u64) -> Option<usize> {
        self.0.iter().position(|item| item.key == key)
    }

    fn units(&self, capacity: Capacity) -> u64 {
        self.0
            .iter()
            .map(|item| charge(capacity, item.entry.size))
            .sum()
    }

    fn bytes(&self) -> u64 {
        self.0.iter().map(|item| item.entry.size).sum()
    }
}

/// The operations every reference supports, mirroring [`Cache`].
trait Reference {
    fn get(&mut self, key: u64) -> Option<Entry>;
    fn insert(&mut self, key: u64, entry: Entry) -> bool;
    fn remove(&mut self, key: u64) -> Option<Entry>;
    fn resident(&self, key: u64) -> Option<Entry>;
    fn len(&self) -> usize;
    fn used_bytes(&self) -> u64;
}

/// Single-queue references: LRU, FIFO, CLOCK, SIEVE.
struct SingleQueue {
    policy: PolicyKind,
    capacity: Capacity,
    queue: List,
    /// SIEVE's hand, as the key it points at.
    hand: Option<u64>,
}

impl SingleQueue {
    fn new(policy: PolicyKind, capacity: Capacity) -> Self {
        SingleQueue {
            policy,
            capacity,
            queue: List::default(),
            hand: None,
        }
    }

    fn used(&self) -> u64 {
        self.queue.units(self.capacity)
    }

    fn take(&mut self, position: usize) -> Entry {
        let item = self.queue.0.remove(position);
        if self.hand == Some(item.key) {
            // The hand moves to the next newer object, or back to "start at the oldest".
            self.hand = self.queue.0.get(position).map(|next| next.key);
        }
        item.entry
    }

    fn evict_one(&mut self) {
        match self.policy {
            PolicyKind::Lru | PolicyKind::Fifo => {
                self.take(0);
            }
            PolicyKind::Clock => loop {
                if self.queue.0[0].counter == 1 {
                    let mut item = self.queue.0.remove(0);
                    item.counter = 0;
                    self.queue.0.push(item);
                } else {
                    self.take(0);
                    break;
                }
            },
            PolicyKind::Sieve => {
                let mut position = self
                    .hand
                    .and_then(|key| self.queue.position(key))
                    .unwrap_or(0);
                while self.queue.0[position].counter == 1 {
                    self.queue.0[position].counter = 0;
                    position = (position + 1) % self.queue.0.len();
                }
                let item = self.queue.0.remove(position);
                self.hand = self.queue.0.get(position).map(|next| next.key);
                let _ = item;
            }
            _ => unreachable!("not a single-queue policy"),
        }
    }
}

impl Reference for SingleQueue {
    fn get(&mut self, key: u64) -> Option<Entry> {
        let position = self.queue.position(key)?;
        match self.policy {
            PolicyKind::Lru => {
                let item = self.queue.0.remove(position);
                self.queue.0.push(item);
                Some(item.entry)
            }
            PolicyKind::Fifo => Some(self.queue.0[position].entry),
            _ => {
                self.queue.0[position].counter = 1;
                Some(self.queue.0[position].entry)
            }
        }
    }

    fn insert(&mut self, key: u64, entry: Entry) -> bool {
        let limit = self.capacity.limit();
        if let Some(position) = self.queue.position(key) {
            let old = self.queue.0[position].entry;
            let used =
                self.used() - charge(self.capacity, old.size) + charge(self.capacity, entry.size);
            if used <= limit {
                self.queue.0[position].entry = entry;
                return true;
            }
            self.take(position);
        }
        let needed = charge(self.capacity, entry.size);
        if needed > limit {
            return false;
        }
        while self.used() + needed > limit {
            self.evict_one();
        }
        self.queue.0.push(Item {
            key,
            entry,
            counter: 0,
        });
        true
    }

    fn remove(&mut self, key: u64) -> Option<Entry> {
        let position = self.queue.position(key)?;
        Some(self.take(position))
    }

    fn resident(&self, key: u64) -> Option<Entry> {
        self.queue.position(key).map(|p| self.queue.0[p].entry)
    }

    fn len(&self) -> usize {
        self.queue.0.len()
    }

    fn used_bytes(&self) -> u64 {
        self.queue.bytes()
    }
}

/// S3-FIFO reference (libCacheSim `S3FIFO` rules).
struct S3FifoReference {
    capacity: Capacity,
    small: List,
    main: List,
    ghost: List,
    small_limit: u64,
    main_limit: u64,
    ghost_limit: u64,
    has_evicted: bool,
    ghost_hit_key: Option<u64>,
}

impl S3FifoReference {
    fn new(capacity: Capacity) -> Self {
        let limit = capacity.limit();
        let small_limit = (limit as f64 * 0.1) as u64;
        S3FifoReference {
            capacity,
            small: List::default(),
            main: List::default(),
            ghost: List::default(),
            small_limit,
            main_limit: limit - small_limit,
            ghost_limit: (limit as f64 * 0.9) as u64,
            has_evicted: false,
            ghost_hit_key: None,
        }
    }

    fn used(&self) -> u64 {
        self.small.units(self.capacity) + self.main.units(self.capacity)
    }

    fn evict(&mut self) {
        self.has_evicted = true;
        if self.main.units(self.capacity) > self.main_limit || self.small.0.is_empty() {
            while !self.main.0.is_empty() {
                let mut item = self.main.0.remove(0);
                if item.counter >= 1 {
                    item.counter = item.counter.min(3) - 1;
                    self.main.0.push(item);
                } else {
                    break;
                }
            }
        } else {
            while !self.small.0.is_empty() {
                let mut item = self.small.0.remove(0);
                if item.counter >= 2 {
                    item.counter = 0;
                    self.main.0.push(item);
                } else {
                    let needed = charge(self.capacity, item.entry.size);
                    if needed <= self.ghost_limit {
                        while self.ghost.units(self.capacity) + needed > self.ghost_limit {
                            self.ghost.0.remove(0);
                        }
                        item.counter = 0;
                        self.ghost.0.push(item);
                    }
                    break;
                }
            }
        }
    }
}

impl Reference for S3FifoReference {
    fn get(&mut self, key: u64) -> Option<Entry> {
        self.ghost_hit_key = None;
        for queue in [&mut self.small, &mut self.main] {
            if let Some(position) = queue.position(key) {
                let item = &mut queue.0[position];
                item.counter = (item.counter + 1).min(3);
                return Some(item.entry);
            }
        }
        if let Some(position) = self.ghost.position(key) {
            self.ghost.0.remove(position);
            self.ghost_hit_key = Some(key);
        }
        None
    }

    fn insert(&mut self, key: u64, entry: Entry) -> bool {
        let mut ghost_hit = self.ghost_hit_key.take() == Some(key);
        if let Some(position) = self.ghost.position(key) {
            self.ghost.0.remove(position);
            ghost_hit = true;
        }
        let limit = self.capacity.limit();
        let used_now = self.used();
        for queue in [&mut self.small, &mut self.main] {
            if let Some(position) = queue.position(key) {
                let old = queue.0[position].entry;
                let used =
                    used_now - charge(self.capacity, old.size) + charge(self.capacity, entry.size);
                if used <= limit {
                    queue.0[position].entry = entry;
                    return true;
                }
                queue.0.remove(position);
            }
        }
        let needed = charge(self.capacity, entry.size);
        if needed > self.small_limit || needed > limit {
            return false;
        }
        while self.used() + needed > limit {
            self.evict();
        }
        let item = Item {
            key,
            entry,
            counter: 0,
        };
        if ghost_hit {
            self.main.0.push(item);
        } else if needed >= self.small_limit {
            return false;
        } else if !self.has_evicted && self.small.units(self.capacity) >= self.small_limit {
            self.main.0.push(item);
        } else {
            self.small.0.push(item);
        }
        true
    }

    fn remove(&mut self, key: u64) -> Option<Entry> {
        if let Some(position) = self.ghost.position(key) {
            self.ghost.0.remove(position);
            return None;
        }
        for queue in [&mut self.small, &mut self.main] {
            if let Some(position) = queue.position(key) {
                return Some(queue.0.remove(position).entry);
            }
        }
        None
    }

    fn resident(&self, key: u64) -> Option<Entry> {
        [&self.small, &self.main]
            .into_iter()
            .find_map(|queue| queue.position(key).map(|p| queue.0[p].entry))
    }

    fn len(&self) -> usize {
        self.small.0.len() + self.main.0.len()
    }

    fn used_bytes(&self) -> u64 {
        self.small.bytes() + self.main.bytes()
    }
}

/// ARC reference (libCacheSim `ARC` rules); lists are LRU with index 0 oldest.
struct ArcReference {
    capacity: Capacity,
    t1: List,
    t2: List,
    b1: List,
    b2: List,
    p: f64,
    last_ghost_hit_in_b2: bool,
    ghost_hit_key: Option<u64>,
}

impl ArcReference {
    fn new(capacity: Capacity) -> Self {
        ArcReference {
            capacity,
            t1: List::default(),
            t2: List::default(),
            b1: List::default(),
            b2: List::default(),
            p: 0.0,
            last_ghost_hit_in_b2: false,
            ghost_hit_key: None,
        }
    }

    fn units(&self, list: &List) -> u64 {
        list.units(self.capacity)
    }

    fn tracked(&self, key: u64) -> bool {
        [&self.t1, &self.t2, &self.b1, &self.b2]
            .iter()
            .any(|list| list.position(key).is_some())
    }

    /// Consumes a ghost entry for `key`, adapting p. Returns whether there was one.
    fn ghost_hit(&mut self, key: u64) -> bool {
        if let Some(position) = self.b1.position(key) {
            let delta = (self.units(&self.b2) as f64 / self.units(&self.b1) as f64).max(1.0);
            self.p = (self.p + delta).min(self.capacity.limit() as f64);
            self.b1.0.remove(position);
            self.last_ghost_hit_in_b2 = false;
            return true;
        }
        if let Some(position) = self.b2.position(key) {
            let delta = (self.units(&self.b1) as f64 / self.units(&self.b2) as f64).max(1.0);
            self.p = (self.p - delta).max(0.0);
            self.b2.0.remove(position);
            self.last_ghost_hit_in_b2 = true;
            return true;
        }
        false
    }

    fn replace(&mut self) {
        let t1 = self.units(&self.t1) as f64;
        if (!self.t1.0.is_empty() && (t1 > self.p || (t1 == self.p && self.last_ghost_hit_in_b2)))
            || self.t2.0.is_empty()
        {
            let item = self.t1.0.remove(0);
            self.b1.0.push(item);
        } else {
            let item = self.t2.0.remove(0);
            self.b2.0.push(item);
        }
    }

    fn evict_for_new(&mut self, needed: u64) {
        let limit = self.capacity.limit();
        if self.units(&self.t1) + self.units(&self.b1) + needed > limit {
            if !self.b1.0.is_empty() {
                self.b1.0.remove(0);
                self.replace();
            } else {
                self.t1.0.remove(0);
            }
        } else {
            let total = self.units(&self.t1)
                + self.units(&self.b1)
                + self.units(&self.t2)
                + self.units(&self.b2);
            if total >= 2 * limit && !self.b2.0.is_empty() {
                self.b2.0.remove(0);
            }
            self.replace();
        }
    }
}

impl Reference for ArcReference {
    fn get(&mut self, key: u64) -> Option<Entry> {
        self.ghost_hit_key = None;
        if !self.tracked(key) {
            return None;
        }
        self.last_ghost_hit_in_b2 = false;
        if let Some(position) = self.t1.position(key) {
            let item = self.t1.0.remove(position);
            self.t2.0.push(item);
            return Some(item.entry);
        }
        if let Some(position) = self.t2.position(key) {
            let item = self.t2.0.remove(position);
            self.t2.0.push(item);
            return Some(item.entry);
        }
        self.ghost_hit(key);
        self.ghost_hit_key = Some(key);
        None
    }

    fn insert(&mut self, key: u64, entry: Entry) -> bool {
        let mut ghost_hit = self.ghost_hit_key.take() == Some(key);
        if self.b1.position(key).is_some() || self.b2.position(key).is_some() {
            self.last_ghost_hit_in_b2 = false;
            self.ghost_hit(key);
            ghost_hit = true;
        }
        let limit = self.capacity.limit();
        let used_now = self.units(&self.t1) + self.units(&self.t2);
        let capacity = self.capacity;
        for list in [&mut self.t1, &mut self.t2] {
            if let Some(position) = list.position(key) {
                let old = list.0[position].entry;
                if used_now - charge(capacity, old.size) + charge(capacity, entry.size) <= limit {
                    list.0[position].entry = entry;
                    return true;
                }
                list.0.remove(position);
            }
        }
        let needed = charge(self.capacity, entry.size);
        if needed > limit {
            return false;
        }
        while self.units(&self.t1) + self.units(&self.t2) + needed > limit {
            if ghost_hit {
                self.replace();
            } else {
                self.evict_for_new(needed);
            }
        }
        let item = Item {
            key,
            entry,
            counter: 0,
        };
        if ghost_hit {
            self.last_ghost_hit_in_b2 = false;
            self.t2.0.push(item);
        } else {
            self.t1.0.push(item);
        }
        true
    }

    fn remove(&mut self, key: u64) -> Option<Entry> {
        for list in [&mut self.b1, &mut self.b2] {
            if let Some(position) = list.position(key) {
                list.0.remove(position);
                return None;
            }
        }
        for list in [&mut self.t1, &mut self.t2] {
            if let Some(position) = list.position(key) {
                return Some(list.0.remove(position).entry);
            }
        }
        None
    }

    fn resident(&self, key: u64) -> Option<Entry> {
        [&self.t1, &self.t2]
            .into_iter()
            .find_map(|list| list.position(key).map(|p| list.0[p].entry))
    }

    fn len(&self) -> usize {
        self.t1.0.len() + self.t2.0.len()
    }

    fn used_bytes(&self) -> u64 {
        self.t1.bytes() + self.t2.bytes()
    }
}

fn reference_for(policy: PolicyKind, capacity: Capacity) -> Box<dyn Reference> {
    match policy {
        PolicyKind::S3Fifo => Box::new(S3FifoReference::new(capacity)),
        PolicyKind::Arc => Box::new(ArcReference::new(capacity)),
        _ => Box::new(SingleQueue::new(policy, capacity)),
    }
}

#[derive(Clone, Copy, Debug)]
enum Op {
    Get(u64),
    Insert(u64, Entry),
    Remove(u64),
    /// A request: get, then insert on a miss (what a replay does).
    Access(u64, Entry),
}

fn entry_strategy(max_size: u64) -> impl Strategy<Value = Entry> {
    (0..=max_size, any::<u64>(), any::<u32>()).prop_map(|(size, expires_at_us, tag)| Entry {
        size,
        expires_at_us,
        tag,
    })
}

fn op_strategy(max_size: u64) -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..KEYS).prop_map(Op::Get),
        2 => (0..KEYS, entry_strategy(max_size)).prop_map(|(k, e)| Op::Insert(k, e)),
        1 => (0..KEYS).prop_map(Op::Remove),
        6 => (0..KEYS, entry_strategy(max_size)).prop_map(|(k, e)| Op::Access(k, e)),
    ]
}

fn capacity_strategy() -> impl Strategy<Value = Capacity> {
    prop_oneof![
        (0u64..=400).prop_map(Capacity::Bytes),
        (0u64..=30).prop_map(Capacity::Objects),
    ]
}

fn policy_strategy() -> impl Strategy<Value = PolicyKind> {
    prop::sample::select(PolicyKind::ALL.to_vec())
}

/// Runs `ops` on the real cache and its reference, checking after every step.
fn check(policy: PolicyKind, capacity: Capacity, ops: &[Op]) -> Result<(), TestCaseError> {
    let mut cache = build(policy, capacity);
    let mut reference = reference_for(policy, capacity);
    for (step, &op) in ops.iter().enumerate() {
        match op {
            Op::Get(key) => {
                let actual = cache.get(key).copied();
                prop_assert_eq!(actual, reference.get(key), "step {} {:?}", step, op);
            }
            Op::Insert(key, entry) => {
                let actual = cache.insert(key, entry);
                prop_assert_eq!(
                    actual,
                    reference.insert(key, entry),
                    "step {} {:?}",
                    step,
                    op
                );
            }
            Op::Remove(key) => {
                let actual = cache.remove(key);
                prop_assert_eq!(actual, reference.remove(key), "step {} {:?}", step, op);
            }
            Op::Access(key, entry) => {
                let hit = cache.get(key).copied();
                prop_assert_eq!(hit, reference.get(key), "step {} {:?}", step, op);
                if hit.is_none() {
                    let actual = cache.insert(key, entry);
                    prop_assert_eq!(
                        actual,
                        reference.insert(key, entry),
                        "step {} {:?}",
                        step,
                        op
                    );
                }
            }
        }
        for key in 0..KEYS {
            prop_assert_eq!(
                cache.peek(key).copied(),
                reference.resident(key),
                "resident set differs for key {} after step {} {:?}",
                key,
                step,
                op
            );
        }
        prop_assert_eq!(cache.len(), reference.len(), "len after step {}", step);
        prop_assert_eq!(
            cache.used_bytes(),
            reference.used_bytes(),
            "bytes after step {}",
            step
        );
        prop_assert!(
            cache.used_bytes() <= capacity.limit() || matches!(capacity, Capacity::Objects(_)),
            "over capacity"
        );
        prop_assert!(
            cache.len() as u64 <= capacity.limit() || matches!(capacity, Capacity::Bytes(_))
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    fn every_policy_matches_its_reference(
        policy in policy_strategy(),
        capacity in capacity_strategy(),
        ops in prop::collection::vec(op_strategy(60), 0..250),
    ) {
        check(policy, capacity, &ops)?;
    }

    #[test]
    fn ghost_policies_match_with_larger_capacities(
        policy in prop::sample::select(vec![PolicyKind::S3Fifo, PolicyKind::Arc]),
        capacity in prop_oneof![(100u64..=2000).prop_map(Capacity::Bytes), (10u64..=60).prop_map(Capacity::Objects)],
        ops in prop::collection::vec(op_strategy(150), 0..400),
    ) {
        check(policy, capacity, &ops)?;
    }
}

/// Miss counts reported by the `libcachesim` 0.3.5 Python package (default
/// parameters) for a generated Zipf trace; see `bench/replay_vs_libcachesim.py
/// --golden`. Anchors libCacheSim parity without needing the package here.
#[test]
fn miss_counts_match_libcachesim_on_zipf_trace() {
    use edgesim_cache::replay::{ReplayOptions, ReplaySpec, replay_requests};
    use edgesim_cache::synth::ZipfWorkload;

    let requests = ZipfWorkload::new(5_000, 0.8, 100, 100_000, 42).take_requests(100_000);
    let capacities = [
        Capacity::Bytes(8_000_000),
        Capacity::Bytes(32_000_000),
        Capacity::Objects(500),
    ];
    let expected: &[(PolicyKind, [u64; 3])] = GOLDEN;
    let mut specs = Vec::new();
    for &(policy, _) in expected {
        for capacity in capacities {
            specs.push(ReplaySpec { policy, capacity });
        }
    }
    let results = replay_requests(&requests, &specs, &ReplayOptions::default());
    let mut mismatches = Vec::new();
    for (result, spec) in results.iter().zip(&specs) {
        let row = expected
            .iter()
            .find(|(policy, _)| *policy == spec.policy)
            .unwrap();
        let column = capacities.iter().position(|c| *c == spec.capacity).unwrap();
        if result.misses != row.1[column] {
            mismatches.push(format!(
                "{} {:?}: ours {} libcachesim {}",
                spec.policy, spec.capacity, result.misses, row.1[column]
            ));
        }
    }
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}

/// Output of `python3 bench/replay_vs_libcachesim.py --golden` (libcachesim 0.3.5):
/// misses for Bytes(8_000_000), Bytes(32_000_000), Objects(500).
const GOLDEN: &[(PolicyKind, [u64; 3])] = &[
    (PolicyKind::Lru, [55750, 25407, 57543]),
    (PolicyKind::Fifo, [60038, 29445, 61822]),
    (PolicyKind::Clock, [54520, 24686, 56279]),
    (PolicyKind::Sieve, [46568, 22652, 48530]),
    (PolicyKind::S3Fifo, [47606, 22974, 48752]),
    (PolicyKind::Arc, [48635, 24563, 50168]),
];
