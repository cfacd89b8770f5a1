//! Single-queue policies: LRU, FIFO, CLOCK (1-bit second chance) and SIEVE.
//!
//! All four keep one queue with the newest object at the head and evict from
//! the tail side; they differ only in what a hit does and how the victim is
//! chosen. Semantics follow libCacheSim's `LRU.c`, `FIFO.c`, `Clock.c` and
//! `Sieve.c` (checked request by request against the `libcachesim` package).

use crate::arena::{NIL, Queue};
use crate::policy::Core;
use crate::{Cache, Capacity, Entry, PolicyKind};

/// Rule number of [`Lru`].
const LRU: u8 = 0;
/// Rule number of [`Fifo`].
const FIFO: u8 = 1;
/// Rule number of [`Clock`].
const CLOCK: u8 = 2;
/// Rule number of [`Sieve`].
const SIEVE: u8 = 3;

/// Meta value of a node whose reference (CLOCK) or visited (SIEVE) bit is set.
const REFERENCED: u8 = 1;

/// A single-queue policy; the rule is a compile-time constant, so each alias
/// ([`Lru`], [`Fifo`], [`Clock`], [`Sieve`]) gets its own monomorphic code.
#[derive(Debug)]
pub struct QueueCache<const RULE: u8> {
    core: Core,
    queue: Queue,
    /// SIEVE's hand: the next node to examine, or `NIL` to start at the tail.
    hand: u32,
}

/// Least recently used: a hit moves the object to the head.
pub type Lru = QueueCache<LRU>;
/// First in, first out: a hit changes nothing.
pub type Fifo = QueueCache<FIFO>;
/// CLOCK with a 1-bit reference flag (libCacheSim `Clock`, `n-bit-counter=1`,
/// `init-freq=0`).
pub type Clock = QueueCache<CLOCK>;
/// SIEVE (Zhang et al., NSDI '24), as in libCacheSim `Sieve`.
pub type Sieve = QueueCache<SIEVE>;

impl<const RULE: u8> QueueCache<RULE> {
    /// An empty cache of the given capacity.
    pub fn new(capacity: Capacity) -> Self {
        QueueCache {
            core: Core::new(capacity),
            queue: Queue::default(),
            hand: NIL,
        }
    }

    /// The policy this rule implements.
    pub fn kind(&self) -> PolicyKind {
        match RULE {
            LRU => PolicyKind::Lru,
            FIFO => PolicyKind::Fifo,
            CLOCK => PolicyKind::Clock,
            _ => PolicyKind::Sieve,
        }
    }

    /// Heap bytes held by the slab and the index.
    pub fn heap_bytes(&self) -> usize {
        self.core.heap_bytes()
    }

    /// Objects tracked (all resident: these policies keep no ghosts).
    pub fn tracked_objects(&self) -> usize {
        self.core.arena.tracked()
    }

    #[inline]
    fn on_hit(&mut self, index: u32) {
        match RULE {
            LRU => self.core.arena.move_to_head(&mut self.queue, index),
            FIFO => {}
            _ => self.core.arena.set_meta(index, REFERENCED),
        }
    }

    /// Picks the next victim (still linked), updating reference bits and the hand.
    #[inline]
    fn select_victim(&mut self) -> u32 {
        let arena = &mut self.core.arena;
        match RULE {
            CLOCK => loop {
                // Second chance: a referenced tail object loses its bit and
                // goes back to the head.
                let tail = self.queue.tail;
                if arena.meta(tail) == REFERENCED {
                    arena.set_meta(tail, 0);
                    arena.move_to_head(&mut self.queue, tail);
                } else {
                    break tail;
                }
            },
            SIEVE => {
                let mut cursor = if self.hand == NIL {
                    self.queue.tail
                } else {
                    self.hand
                };
                while arena.meta(cursor) == REFERENCED {
                    arena.set_meta(cursor, 0);
                    cursor = arena.node(cursor).newer();
                    if cursor == NIL {
                        cursor = self.queue.tail;
                    }
                }
                // The hand stays just past the victim (toward the head).
                self.hand = arena.node(cursor).newer();
                cursor
            }
            _ => self.queue.tail,
        }
    }

    /// Unlinks and frees a resident node.
    #[inline]
    fn drop_node(&mut self, index: u32) -> Entry {
        if RULE == SIEVE && index == self.hand {
            self.hand = self.core.arena.node(index).newer();
        }
        let size = self.core.arena.node(index).entry.size;
        let charge = self.core.charge(size);
        self.core.arena.unlink(&mut self.queue, index, charge);
        self.core.account_out(size);
        self.core.arena.release(index)
    }
}

impl<const RULE: u8> Cache for QueueCache<RULE> {
    #[inline]
    fn get(&mut self, key: u64) -> Option<&mut Entry> {
        let index = self.core.find_for_get(key)?;
        self.on_hit(index);
        Some(&mut self.core.arena.node_mut(index).entry)
    }

    fn peek(&self, key: u64) -> Option<&Entry> {
        let index = self.core.arena.find(key)?;
        Some(&self.core.arena.node(index).entry)
    }

    #[inline]
    fn insert(&mut self, key: u64, entry: Entry) -> bool {
        if let Some(index) = self.core.find_for_insert(key) {
            if let Some(old_charge) = self.core.refresh_in_place(index, entry) {
                self.queue.units = self.queue.units - old_charge + self.core.charge(entry.size);
                return true;
            }
            self.drop_node(index);
        }
        let charge = self.core.charge(entry.size);
        if charge > self.core.limit() {
            return false;
        }
        while self.core.used_units() + charge > self.core.limit() {
            let victim = self.select_victim();
            self.drop_node(victim);
        }
        let index = self.core.arena.alloc(key, entry, 0);
        self.core.arena.push_head(&mut self.queue, index, charge);
        self.core.account_in(entry.size);
        true
    }

    fn remove(&mut self, key: u64) -> Option<Entry> {
        let index = self.core.arena.find(key)?;
        Some(self.drop_node(index))
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

    /// Replays keys (size 1) and returns the hit pattern.
    fn hits<C: Cache>(cache: &mut C, keys: &[u64]) -> String {
        keys.iter()
            .map(|&key| {
                if cache.get(key).is_some() {
                    'H'
                } else {
                    cache.insert(key, entry(1));
                    '.'
                }
            })
            .collect()
    }

    #[test]
    fn lru_keeps_recently_used() {
        let mut cache = Lru::new(Capacity::Objects(2));
        // 1 2 1 3 (evicts 2) 1 2 (miss, evicts 3)
        assert_eq!(hits(&mut cache, &[1, 2, 1, 3, 1, 2, 3]), "..H.H..");
    }

    #[test]
    fn fifo_ignores_hits() {
        let mut cache = Fifo::new(Capacity::Objects(2));
        // 1 2 1(hit) 3 evicts 1 (oldest) despite the hit.
        assert_eq!(hits(&mut cache, &[1, 2, 1, 3, 1]), "..H..");
    }

    #[test]
    fn clock_gives_referenced_objects_a_second_chance() {
        let mut cache = Clock::new(Capacity::Objects(2));
        // 1 2 1(hit: ref) 3: tail 1 is referenced -> moves to head; evict 2.
        assert_eq!(hits(&mut cache, &[1, 2, 1, 3, 1, 2]), "..H.H.");
    }

    #[test]
    fn sieve_hand_stays_in_place() {
        let mut cache = Sieve::new(Capacity::Objects(3));
        // Queue head..tail after 1 2 3: [3 2 1]; hit 1 marks it.
        // 4: hand from tail: 1 visited -> clear, move to 2 -> evict 2; hand -> 3.
        // 5: hand at 3 (unvisited) -> evict 3. Queue: [5 4 1].
        assert_eq!(hits(&mut cache, &[1, 2, 3, 1, 4, 5, 1, 2, 3]), "...H..H..");
        assert!(cache.peek(1).is_some() && cache.peek(4).is_none());
    }

    #[test]
    fn oversized_objects_are_not_admitted() {
        let mut cache = Lru::new(Capacity::Bytes(100));
        assert!(cache.insert(1, entry(60)));
        assert!(!cache.insert(2, entry(101)));
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.used_bytes(), 60);
        assert!(cache.insert(3, entry(100)));
        assert_eq!(cache.len(), 1);
        assert!(cache.peek(1).is_none());
    }

    #[test]
    fn refresh_in_place_or_readmit() {
        let mut cache = Fifo::new(Capacity::Bytes(100));
        cache.insert(1, entry(30));
        cache.insert(2, entry(30));
        // Fits in place: FIFO order unchanged (1 is still oldest).
        assert!(cache.insert(1, entry(60)));
        assert_eq!(cache.used_bytes(), 90);
        cache.insert(3, entry(10));
        assert_eq!(cache.used_bytes(), 100);
        cache.insert(4, entry(10));
        assert!(cache.peek(1).is_none(), "1 was oldest and is evicted first");
        // Does not fit in place (50 - 30 + 90 > 100): dropped and readmitted as
        // the newest object, which evicts the oldest (3).
        assert!(cache.insert(2, entry(90)));
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.used_bytes(), 100);
        assert!(cache.peek(3).is_none());
        // Too large now: the stale copy is dropped, 4 stays.
        assert!(!cache.insert(2, entry(101)));
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.used_bytes(), 10);
        assert!(cache.peek(2).is_none());
    }

    #[test]
    fn remove_moves_sieve_hand() {
        let mut cache = Sieve::new(Capacity::Objects(3));
        // After 1 2 3, hit 1, miss 4: 2 is evicted and the hand rests on 3.
        assert_eq!(hits(&mut cache, &[1, 2, 3, 1, 4]), "...H.");
        // Removing the node under the hand moves the hand toward the head (to 4).
        assert_eq!(cache.remove(3).map(|e| e.size), Some(1));
        assert!(cache.insert(5, entry(1)));
        assert!(cache.insert(6, entry(1)));
        // 6 needed room: the hand at 4 (unvisited) evicted it; 1 survives.
        assert!(cache.peek(4).is_none());
        assert!(cache.peek(1).is_some());
        assert_eq!(cache.len(), 3);
        assert_eq!(cache.remove(42), None);
    }
}
