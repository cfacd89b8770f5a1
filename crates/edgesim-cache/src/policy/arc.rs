//! ARC (Megiddo & Modha, FAST '03) with libCacheSim's `ARC` semantics.
//!
//! Two LRU lists share the slab: T1 (seen once) and T2 (seen at least twice)
//! hold resident objects; the ghost lists B1 and B2 remember the keys and
//! sizes evicted from them, as compact record rings ([`crate::ghost`]) since a
//! ghost is only ever added at the newest end and leaves from the oldest end
//! or on a hit. All list sizes are in charge units (bytes, or 1 per object), and the
//! target size `p` of T1 is a real number, as in libCacheSim. Checked request
//! by request against the `libcachesim` package, including its quirks:
//!
//! * a ghost hit changes `p` by `max(|B2|/|B1|, 1)` (or the reverse), drops the
//!   ghost entry and inserts the object at the head of T2;
//! * `replace` evicts from T1 when `T1 > 0 && (T1 > p || (T1 == p && the last
//!   ghost hit was in B2))`, or when T2 is empty; otherwise from T2;
//! * a miss on all lists drops B1's oldest entry and replaces when
//!   `T1 + B1 + size > c` (or evicts T1's oldest without a ghost if B1 is
//!   empty), else drops B2's oldest entry when `T1 + B1 + T2 + B2 >= 2c` and
//!   replaces;
//! * the "last ghost hit was in B2" flag is cleared only when a later request
//!   finds its key in some list, so it can outlive a ghost hit that was not
//!   admitted (libCacheSim's `curr_obj_in_L2_ghost`).

use crate::arena::Queue;
use crate::ghost::Ghosts;
use crate::policy::{Core, expected_objects};
use crate::{Cache, Capacity, Entry};

/// Meta bit: the node belongs to T2 rather than T1.
const SECOND_LIST: u8 = 0b01;
/// Ghost ring of B1.
const B1: usize = 0;
/// Ghost ring of B2.
const B2: usize = 1;

/// The ARC cache. See the module documentation for the exact rules.
#[derive(Debug)]
pub struct Arc {
    core: Core,
    t1: Queue,
    t2: Queue,
    /// B1 and B2: keys and charges only.
    ghosts: Ghosts<2>,
    /// Target size of T1, in charge units.
    target_t1: f64,
    /// libCacheSim's `curr_obj_in_L2_ghost` (see the module documentation).
    last_ghost_hit_in_b2: bool,
    /// Key whose ghost entry the latest `get` consumed.
    ghost_hit_key: Option<u64>,
}

impl Arc {
    /// An empty cache.
    pub fn new(capacity: Capacity) -> Self {
        Arc {
            core: Core::new(capacity),
            t1: Queue::default(),
            t2: Queue::default(),
            ghosts: Ghosts::new(
                matches!(capacity, Capacity::Objects(_)),
                expected_objects(capacity, 1.0),
            ),
            target_t1: 0.0,
            last_ghost_hit_in_b2: false,
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

    fn list_mut(&mut self, meta: u8) -> &mut Queue {
        if meta == SECOND_LIST {
            &mut self.t2
        } else {
            &mut self.t1
        }
    }

    /// Unlinks resident node `index` from T1 or T2 and frees it.
    fn drop_node(&mut self, index: u32) -> Entry {
        let meta = self.core.arena.meta(index);
        let size = self.core.arena.node(index).entry.size;
        let charge = self.core.charge(size);
        let mut list = *self.list_mut(meta);
        self.core.arena.unlink(&mut list, index, charge);
        *self.list_mut(meta) = list;
        self.core.account_out(size);
        self.core.arena.release(index)
    }

    /// A request found its key in B1 or B2 (`ring`), whose ghost of `charge`
    /// units was just taken out: adapt `p` from the lists' sizes before that.
    fn on_ghost_hit(&mut self, ring: usize, charge: u64) {
        let in_b2 = ring == B2;
        let (b1_units, b2_units) = if in_b2 {
            (self.ghosts.units(B1), self.ghosts.units(B2) + charge)
        } else {
            (self.ghosts.units(B1) + charge, self.ghosts.units(B2))
        };
        let b1 = b1_units as f64;
        let b2 = b2_units as f64;
        let limit = self.core.limit() as f64;
        // C's MIN/MAX macros on doubles, spelled out.
        if in_b2 {
            let ratio = b1 / b2;
            let delta = if ratio > 1.0 { ratio } else { 1.0 };
            let lowered = self.target_t1 - delta;
            self.target_t1 = if lowered > 0.0 { lowered } else { 0.0 };
        } else {
            let ratio = b2 / b1;
            let delta = if ratio > 1.0 { ratio } else { 1.0 };
            let raised = self.target_t1 + delta;
            self.target_t1 = if raised < limit { raised } else { limit };
        }
        self.last_ghost_hit_in_b2 = in_b2;
    }

    /// Moves the oldest object of T1 or T2 to the newest end of its ghost list.
    fn replace(&mut self) {
        let t1_units = self.t1.units as f64;
        let from_t1 = (!self.t1.is_empty()
            && (t1_units > self.target_t1
                || (t1_units == self.target_t1 && self.last_ghost_hit_in_b2)))
            || self.t2.is_empty();
        let (victim, ring) = if from_t1 {
            (self.t1.tail, B1)
        } else {
            (self.t2.tail, B2)
        };
        let key = self.core.arena.node(victim).key;
        let charge = self.charge_of(victim);
        self.drop_node(victim);
        self.ghosts.push(ring, key, charge);
    }

    /// Case IV of the paper: the key was in no list.
    fn evict_for_new_object(&mut self, charge: u64) {
        let limit = self.core.limit();
        if self.t1.units + self.ghosts.units(B1) + charge > limit {
            if !self.ghosts.is_empty(B1) {
                self.ghosts.pop_oldest(B1);
                self.replace();
            } else if !self.t1.is_empty() {
                let oldest = self.t1.tail;
                self.drop_node(oldest);
            } else {
                self.replace();
            }
        } else {
            let total =
                self.t1.units + self.ghosts.units(B1) + self.t2.units + self.ghosts.units(B2);
            if total >= limit.saturating_mul(2) && !self.ghosts.is_empty(B2) {
                self.ghosts.pop_oldest(B2);
            }
            self.replace();
        }
    }
}

impl Cache for Arc {
    #[inline]
    fn get(&mut self, key: u64) -> Option<&mut Entry> {
        self.ghost_hit_key = None;
        let Some(index) = self.core.find_for_get(key) else {
            // Not resident (remembered as absent for `insert`); a ghost entry
            // is consumed by the request.
            if let Some((ring, charge)) = self.ghosts.take(key) {
                self.on_ghost_hit(ring, charge);
                self.ghost_hit_key = Some(key);
            }
            return None;
        };
        self.last_ghost_hit_in_b2 = false;
        if self.core.arena.meta(index) == 0 {
            let charge = self.charge_of(index);
            self.core.arena.unlink(&mut self.t1, index, charge);
            self.core.arena.set_meta(index, SECOND_LIST);
            self.core.arena.push_head(&mut self.t2, index, charge);
        } else {
            self.core.arena.move_to_head(&mut self.t2, index);
        }
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
                let meta = self.core.arena.meta(index);
                if let Some(old_charge) = self.core.refresh_in_place(index, entry) {
                    let new_charge = self.core.charge(entry.size);
                    let list = self.list_mut(meta);
                    list.units = list.units - old_charge + new_charge;
                    return true;
                }
                self.drop_node(index);
            } else if let Some((ring, charge)) = self.ghosts.take(key) {
                // Insert without a preceding get: treat it as the request.
                self.on_ghost_hit(ring, charge);
                ghost_hit = true;
            }
        }
        let charge = self.core.charge(entry.size);
        if charge > self.core.limit() {
            return false;
        }
        while self.core.used_units() + charge > self.core.limit() {
            if ghost_hit {
                self.replace();
            } else {
                self.evict_for_new_object(charge);
            }
        }
        let (list_meta, list) = if ghost_hit {
            self.last_ghost_hit_in_b2 = false;
            (SECOND_LIST, &mut self.t2)
        } else {
            (0, &mut self.t1)
        };
        let index = self.core.arena.alloc(key, entry, list_meta);
        self.core.arena.push_head(list, index, charge);
        self.core.account_in(entry.size);
        true
    }

    fn remove(&mut self, key: u64) -> Option<Entry> {
        match self.core.arena.find(key) {
            Some(index) => Some(self.drop_node(index)),
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

    fn access(cache: &mut Arc, key: u64) -> bool {
        if cache.get(key).is_some() {
            return true;
        }
        cache.insert(key, entry(1));
        false
    }

    #[test]
    fn second_hit_promotes_to_t2() {
        let mut cache = Arc::new(Capacity::Objects(4));
        access(&mut cache, 1);
        access(&mut cache, 2);
        assert_eq!(cache.t1.len, 2);
        assert!(access(&mut cache, 1));
        assert_eq!((cache.t1.len, cache.t2.len), (1, 1));
    }

    #[test]
    fn ghost_hit_raises_target_and_lands_in_t2() {
        let mut cache = Arc::new(Capacity::Objects(2));
        for key in [1, 2, 3] {
            access(&mut cache, key);
        }
        // T1 + B1 + 1 > c with B1 empty: 1 was evicted without a ghost.
        assert!(cache.peek(1).is_none());
        assert_eq!(cache.ghosts.len(B1), 0);
        access(&mut cache, 2); // 2 -> T2
        access(&mut cache, 4); // evicts 3 from T1 into B1
        assert_eq!(cache.ghosts.len(B1), 1);
        assert!(!access(&mut cache, 3)); // ghost hit: p = 0 + max(0/1, 1)
        assert_eq!(cache.target_t1, 1.0);
        // T1 (1 unit) is not above p, so room comes from T2: 2 goes to B2.
        assert_eq!(
            (cache.t1.len, cache.t2.len, cache.ghosts.len(B2)),
            (1, 1, 1)
        );
        assert!(cache.peek(3).is_some());
        assert!(cache.peek(2).is_none());
    }

    #[test]
    fn remove_forgets_ghosts_and_residents() {
        let mut cache = Arc::new(Capacity::Objects(2));
        for key in [1, 2, 2, 3] {
            access(&mut cache, key);
        }
        assert_eq!(cache.ghosts.len(B1), 1);
        assert_eq!(cache.remove(1), None);
        assert_eq!(cache.ghosts.len(B1), 0);
        assert_eq!(cache.remove(2).map(|e| e.size), Some(1));
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.used_bytes(), 1);
    }
}
