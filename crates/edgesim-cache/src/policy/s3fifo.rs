//! S3-FIFO (Yang et al., SOSP '23) with libCacheSim's `S3FIFO` semantics.
//!
//! Two FIFO queues share the slab: `small` (10% of the capacity) and `main`
//! (the rest); the ghost FIFO (keys and sizes only, 90% of the capacity) is a
//! compact record ring ([`crate::ghost`]). The
//! details below were checked request by request against the `libcachesim`
//! package (defaults `small-size-ratio=0.10, ghost-size-ratio=0.90,
//! move-to-main-threshold=2`):
//!
//! * a hit increments the object's frequency (kept saturated at 3: only
//!   `>= 2` and `min(freq, 3)` are ever looked at);
//! * a miss whose key is in the ghost queue goes straight to main;
//! * otherwise the object goes to small, except that before the first eviction
//!   it goes to main once small is full;
//! * admission: the object must fit in small (`size <= small`); after the
//!   evictions, an object with `size >= small` that is not a ghost hit is not
//!   inserted (libCacheSim refuses to let one object fill the small queue);
//! * eviction takes from main when main is over its share or small is empty,
//!   else from small: small's oldest object moves to main (frequency reset to 0)
//!   if it was hit at least twice, else it leaves and its key enters the ghost
//!   queue; main's oldest object is reinserted at the head with `min(freq,3)-1`
//!   while its frequency is non-zero.

use crate::arena::Queue;
use crate::ghost::Ghosts;
use crate::policy::{Core, expected_objects};
use crate::{Cache, Capacity, Entry};

/// Share of the capacity given to the small queue.
const SMALL_RATIO: f64 = 0.10;
/// Share of the capacity given to the ghost queue.
const GHOST_RATIO: f64 = 0.90;
/// Hits in the small queue needed to move to main on eviction.
const MOVE_TO_MAIN_THRESHOLD: u8 = 2;
/// Frequency saturation: a 2-bit counter.
const MAX_FREQ: u8 = 3;

/// Queue ids stored in meta bits 2-3; bits 0-1 hold the frequency.
const IN_SMALL: u8 = 0;
const IN_MAIN: u8 = 1;

/// The only ghost ring.
const GHOST: usize = 0;

#[inline]
fn meta(queue: u8, freq: u8) -> u8 {
    (queue << 2) | freq
}

#[inline]
fn queue_of(meta: u8) -> u8 {
    meta >> 2
}

#[inline]
fn freq_of(meta: u8) -> u8 {
    meta & 0b11
}

/// The S3-FIFO cache. See the module documentation for the exact rules.
#[derive(Debug)]
pub struct S3Fifo {
    core: Core,
    small: Queue,
    main: Queue,
    /// The ghost FIFO: keys and charges only.
    ghosts: Ghosts<1>,
    small_limit: u64,
    main_limit: u64,
    ghost_limit: u64,
    has_evicted: bool,
    /// Key whose ghost entry the latest `get` consumed (libCacheSim's `hit_on_ghost`).
    ghost_hit_key: Option<u64>,
}

impl S3Fifo {
    /// An empty cache. The small and ghost shares are computed as libCacheSim
    /// does, by truncating `capacity * ratio` in floating point.
    pub fn new(capacity: Capacity) -> Self {
        let limit = capacity.limit();
        let small_limit = (limit as f64 * SMALL_RATIO) as u64;
        let ghost_limit = (limit as f64 * GHOST_RATIO) as u64;
        S3Fifo {
            core: Core::new(capacity),
            small: Queue::default(),
            main: Queue::default(),
            ghosts: Ghosts::new(
                matches!(capacity, Capacity::Objects(_)),
                expected_objects(capacity, GHOST_RATIO),
            ),
            small_limit,
            main_limit: limit - small_limit,
            ghost_limit,
            has_evicted: false,
            ghost_hit_key: None,
        }
    }

    /// Heap bytes held by the slab, the index and the ghost records.
    pub fn heap_bytes(&self) -> usize {
        self.core.heap_bytes() + self.ghosts.heap_bytes()
    }

    /// Resident plus ghost entries.
    pub fn tracked_objects(&self) -> usize {
        self.core.arena.tracked() + self.ghosts.tracked()
    }

    #[inline]
    fn charge_of(&self, index: u32) -> u64 {
        self.core.charge(self.core.arena.node(index).entry.size)
    }

    /// Unlinks and frees a resident node.
    fn drop_resident(&mut self, index: u32) -> Entry {
        let size = self.core.arena.node(index).entry.size;
        let charge = self.core.charge(size);
        let queue = if queue_of(self.core.arena.meta(index)) == IN_SMALL {
            &mut self.small
        } else {
            &mut self.main
        };
        self.core.arena.unlink(queue, index, charge);
        self.core.account_out(size);
        self.core.arena.release(index)
    }

    fn evict(&mut self) {
        self.has_evicted = true;
        if self.main.units > self.main_limit || self.small.is_empty() {
            self.evict_main();
        } else {
            self.evict_small();
        }
    }

    fn evict_small(&mut self) {
        while !self.small.is_empty() {
            let tail = self.small.tail;
            let charge = self.charge_of(tail);
            let freq = freq_of(self.core.arena.meta(tail));
            if freq >= MOVE_TO_MAIN_THRESHOLD {
                self.core.arena.unlink(&mut self.small, tail, charge);
                self.core.arena.set_meta(tail, meta(IN_MAIN, 0));
                self.core.arena.push_head(&mut self.main, tail, charge);
            } else {
                let key = self.core.arena.node(tail).key;
                self.drop_resident(tail);
                self.remember_as_ghost(key, charge);
                return;
            }
        }
    }

    /// Records an object evicted from the small queue in the ghost FIFO,
    /// making room there; objects larger than the ghost queue are forgotten.
    fn remember_as_ghost(&mut self, key: u64, charge: u64) {
        if charge > self.ghost_limit {
            return;
        }
        while self.ghosts.units(GHOST) + charge > self.ghost_limit && !self.ghosts.is_empty(GHOST) {
            self.ghosts.pop_oldest(GHOST);
        }
        self.ghosts.push(GHOST, key, charge);
    }

    fn evict_main(&mut self) {
        while !self.main.is_empty() {
            let tail = self.main.tail;
            let freq = freq_of(self.core.arena.meta(tail));
            if freq >= 1 {
                self.core.arena.set_meta(tail, meta(IN_MAIN, freq - 1));
                self.core.arena.move_to_head(&mut self.main, tail);
            } else {
                self.drop_resident(tail);
                return;
            }
        }
    }
}

impl Cache for S3Fifo {
    #[inline]
    fn get(&mut self, key: u64) -> Option<&mut Entry> {
        self.ghost_hit_key = None;
        let Some(index) = self.core.find_for_get(key) else {
            // Not resident (remembered as absent for `insert`); a ghost entry
            // is consumed by the request.
            if self.ghosts.take(key).is_some() {
                self.ghost_hit_key = Some(key);
            }
            return None;
        };
        let node_meta = self.core.arena.meta(index);
        let freq = (freq_of(node_meta) + 1).min(MAX_FREQ);
        self.core
            .arena
            .set_meta(index, meta(queue_of(node_meta), freq));
        Some(&mut self.core.arena.node_mut(index).entry)
    }

    fn peek(&self, key: u64) -> Option<&Entry> {
        let index = self.core.arena.find(key)?;
        Some(&self.core.arena.node(index).entry)
    }

    fn insert(&mut self, key: u64, entry: Entry) -> bool {
        let mut ghost_hit = self.ghost_hit_key.take() == Some(key);
        if !self.core.take_known_absent(key) {
            if let Some(index) = self.core.arena.find(key) {
                let queue_id = queue_of(self.core.arena.meta(index));
                if let Some(old_charge) = self.core.refresh_in_place(index, entry) {
                    let new_charge = self.core.charge(entry.size);
                    let queue = if queue_id == IN_SMALL {
                        &mut self.small
                    } else {
                        &mut self.main
                    };
                    queue.units = queue.units - old_charge + new_charge;
                    return true;
                }
                self.drop_resident(index);
            } else if self.ghosts.take(key).is_some() {
                // Insert without a preceding get: the ghost entry counts as hit.
                ghost_hit = true;
            }
        }
        let charge = self.core.charge(entry.size);
        // libCacheSim S3FIFO_can_insert: must fit in the small queue and the cache.
        if charge > self.small_limit || charge > self.core.limit() {
            return false;
        }
        while self.core.used_units() + charge > self.core.limit() {
            self.evict();
        }
        let target = if ghost_hit {
            IN_MAIN
        } else if charge >= self.small_limit {
            return false;
        } else if !self.has_evicted && self.small.units >= self.small_limit {
            IN_MAIN
        } else {
            IN_SMALL
        };
        let index = self.core.arena.alloc(key, entry, meta(target, 0));
        let queue = if target == IN_SMALL {
            &mut self.small
        } else {
            &mut self.main
        };
        self.core.arena.push_head(queue, index, charge);
        self.core.account_in(entry.size);
        true
    }

    fn remove(&mut self, key: u64) -> Option<Entry> {
        match self.core.arena.find(key) {
            Some(index) => Some(self.drop_resident(index)),
            None => {
                self.ghosts.take(key);
                None
            }
        }
    }

    fn len(&self) -> usize {
        self.core.resident
    }

    fn used_bytes(&self) -> u64 {
        self.core.used_bytes
    }

    fn capacity(&self) -> Capacity {
        self.core.capacity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(size: u64) -> Entry {
        Entry {
            size,
            expires_at_us: 0,
            tag: 0,
        }
    }

    fn access(cache: &mut S3Fifo, key: u64) -> bool {
        if cache.get(key).is_some() {
            return true;
        }
        cache.insert(key, entry(1));
        false
    }

    #[test]
    fn one_hit_wonders_leave_through_the_ghost() {
        // 20 objects: small holds 2, main 18, ghost 18.
        let mut cache = S3Fifo::new(Capacity::Objects(20));
        for key in 0..20 {
            assert!(!access(&mut cache, key));
        }
        // Before the first eviction, new objects went to main once small was full.
        assert_eq!(cache.small.len, 2);
        assert_eq!(cache.main.len, 18);
        // main is at its share, small is not empty: evict from small (key 0 or 1).
        assert!(!access(&mut cache, 100));
        assert_eq!(cache.ghosts.len(GHOST), 1);
        assert_eq!(cache.len(), 20);
        // The ghost key (0, the oldest) comes back: it goes to main, and making
        // room pushes the next small object (1) into the ghost queue.
        assert_eq!(cache.ghosts.keys(GHOST), vec![0]);
        assert!(!access(&mut cache, 0));
        assert_eq!(cache.ghosts.keys(GHOST), vec![1]);
        let ghost_key = 0;
        let index = cache.core.arena.find(ghost_key).unwrap();
        assert_eq!(queue_of(cache.core.arena.meta(index)), IN_MAIN);
    }

    #[test]
    fn objects_as_large_as_small_queue_are_refused() {
        let mut cache = S3Fifo::new(Capacity::Bytes(1000));
        assert!(!cache.insert(1, entry(101)));
        assert!(!cache.insert(2, entry(100)));
        assert!(cache.insert(3, entry(99)));
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.used_bytes(), 99);
    }

    #[test]
    fn remove_drops_resident_and_ghost_entries() {
        let mut cache = S3Fifo::new(Capacity::Objects(20));
        for key in 0..21 {
            access(&mut cache, key);
        }
        let ghost_key = cache.ghosts.keys(GHOST)[0];
        assert_eq!(cache.remove(ghost_key), None);
        assert_eq!(cache.ghosts.len(GHOST), 0);
        assert_eq!(cache.remove(20).map(|e| e.size), Some(1));
        assert_eq!(cache.len(), 19);
        assert_eq!(cache.tracked_objects(), 19);
    }
}
