//! ARC (Megiddo & Modha, FAST '03) with libCacheSim's `ARC` semantics.
//!
//! Four LRU lists share the slab: T1 (seen once) and T2 (seen at least twice)
//! hold resident objects, B1 and B2 remember the keys and sizes evicted from
//! them. All list sizes are in charge units (bytes, or 1 per object), and the
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
use crate::policy::Core;
use crate::{Cache, Capacity, Entry};

/// Meta bit: the node belongs to the second list (T2/B2) rather than the first.
const SECOND_LIST: u8 = 0b01;
/// Meta bit: the node is a ghost (B1/B2).
const GHOST: u8 = 0b10;

/// The ARC cache. See the module documentation for the exact rules.
#[derive(Debug)]
pub struct Arc {
    core: Core,
    t1: Queue,
    t2: Queue,
    b1: Queue,
    b2: Queue,
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
            core: Core::new(capacity, 1.0),
            t1: Queue::default(),
            t2: Queue::default(),
            b1: Queue::default(),
            b2: Queue::default(),
            target_t1: 0.0,
            last_ghost_hit_in_b2: false,
            ghost_hit_key: None,
        }
    }

    /// Heap bytes held by the slab and the index (ghost entries included).
    pub fn heap_bytes(&self) -> usize {
        self.core.heap_bytes()
    }

    /// Resident plus ghost entries.
    pub fn tracked_objects(&self) -> usize {
        self.core.arena.tracked()
    }

    #[inline]
    fn charge_of(&self, index: u32) -> u64 {
        self.core.charge(self.core.arena.node(index).entry.size)
    }

    fn list_mut(&mut self, meta: u8) -> &mut Queue {
        match meta {
            0 => &mut self.t1,
            SECOND_LIST => &mut self.t2,
            GHOST => &mut self.b1,
            _ => &mut self.b2,
        }
    }

    /// Unlinks node `index` from whichever list holds it and frees it.
    fn drop_node(&mut self, index: u32) -> Entry {
        let meta = self.core.arena.meta(index);
        let size = self.core.arena.node(index).entry.size;
        let charge = self.core.charge(size);
        let mut list = *self.list_mut(meta);
        self.core.arena.unlink(&mut list, index, charge);
        *self.list_mut(meta) = list;
        if meta & GHOST == 0 {
            self.core.account_out(size);
        }
        self.core.arena.release(index)
    }

    /// A request found its key in B1 or B2: adapt `p` and forget the ghost.
    fn on_ghost_hit(&mut self, index: u32) {
        let in_b2 = self.core.arena.meta(index) & SECOND_LIST != 0;
        let b1 = self.b1.units as f64;
        let b2 = self.b2.units as f64;
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
        self.drop_node(index);
    }

    /// Moves the oldest object of T1 or T2 to the head of its ghost list.
    fn replace(&mut self) {
        let t1_units = self.t1.units as f64;
        let from_t1 = (!self.t1.is_empty()
            && (t1_units > self.target_t1
                || (t1_units == self.target_t1 && self.last_ghost_hit_in_b2)))
            || self.t2.is_empty();
        let (source, ghost_meta) = if from_t1 {
            (&mut self.t1, GHOST)
        } else {
            (&mut self.t2, GHOST | SECOND_LIST)
        };
        let victim = source.tail;
        let size = self.core.arena.node(victim).entry.size;
        let charge = self.core.charge(size);
        self.core.arena.unlink(source, victim, charge);
        self.core.account_out(size);
        self.core.arena.set_meta(victim, ghost_meta);
        let ghosts = if from_t1 { &mut self.b1 } else { &mut self.b2 };
        self.core.arena.push_head(ghosts, victim, charge);
    }

    /// Case IV of the paper: the key was in no list.
    fn evict_for_new_object(&mut self, charge: u64) {
        let limit = self.core.limit();
        if self.t1.units + self.b1.units + charge > limit {
            if !self.b1.is_empty() {
                let oldest = self.b1.tail;
                self.drop_node(oldest);
                self.replace();
            } else if !self.t1.is_empty() {
                let oldest = self.t1.tail;
                self.drop_node(oldest);
            } else {
                self.replace();
            }
        } else {
            let total = self.t1.units + self.b1.units + self.t2.units + self.b2.units;
            if total >= limit.saturating_mul(2) && !self.b2.is_empty() {
                let oldest = self.b2.tail;
                self.drop_node(oldest);
            }
            self.replace();
        }
    }
}

impl Cache for Arc {
    #[inline]
    fn get(&mut self, key: u64) -> Option<&mut Entry> {
        self.ghost_hit_key = None;
        let index = self.core.find_for_get(key)?;
        self.last_ghost_hit_in_b2 = false;
        let meta = self.core.arena.meta(index);
        if meta & GHOST != 0 {
            self.on_ghost_hit(index);
            self.core.mark_absent(key);
            self.ghost_hit_key = Some(key);
            return None;
        }
        if meta == 0 {
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
        if self.core.arena.meta(index) & GHOST != 0 {
            return None;
        }
        Some(&self.core.arena.node(index).entry)
    }

    fn insert(&mut self, key: u64, entry: Entry) -> bool {
        let mut ghost_hit = self.ghost_hit_key.take() == Some(key);
        if let Some(index) = self.core.find_for_insert(key) {
            let meta = self.core.arena.meta(index);
            if meta & GHOST != 0 {
                // Insert without a preceding get: treat it as the request.
                self.last_ghost_hit_in_b2 = false;
                self.on_ghost_hit(index);
                ghost_hit = true;
            } else {
                if let Some(old_charge) = self.core.refresh_in_place(index, entry) {
                    let new_charge = self.core.charge(entry.size);
                    let list = self.list_mut(meta);
                    list.units = list.units - old_charge + new_charge;
                    return true;
                }
                self.drop_node(index);
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
        let index = self.core.arena.find(key)?;
        let was_ghost = self.core.arena.meta(index) & GHOST != 0;
        let entry = self.drop_node(index);
        (!was_ghost).then_some(entry)
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
        assert_eq!(cache.b1.len, 0);
        access(&mut cache, 2); // 2 -> T2
        access(&mut cache, 4); // evicts 3 from T1 into B1
        assert_eq!(cache.b1.len, 1);
        assert!(!access(&mut cache, 3)); // ghost hit: p = 0 + max(0/1, 1)
        assert_eq!(cache.target_t1, 1.0);
        // T1 (1 unit) is not above p, so room comes from T2: 2 goes to B2.
        assert_eq!((cache.t1.len, cache.t2.len, cache.b2.len), (1, 1, 1));
        assert!(cache.peek(3).is_some());
        assert!(cache.peek(2).is_none());
    }

    #[test]
    fn remove_forgets_ghosts_and_residents() {
        let mut cache = Arc::new(Capacity::Objects(2));
        for key in [1, 2, 2, 3] {
            access(&mut cache, key);
        }
        assert_eq!(cache.b1.len, 1);
        assert_eq!(cache.remove(1), None);
        assert_eq!(cache.b1.len, 0);
        assert_eq!(cache.remove(2).map(|e| e.size), Some(1));
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.used_bytes(), 1);
    }
}
