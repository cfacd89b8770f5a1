//! Compact ghost entries for S3-FIFO and ARC.
//!
//! A ghost remembers only a key and its charge (bytes, or nothing for an
//! object-count capacity, where every charge is 1). Each ghost queue is a
//! ring buffer of such records in insertion order (oldest first); one
//! [`CompactIndex`] maps a key to its record, as a handle `ring << 31 | seq`
//! where `seq` numbers the records of a ring (wrapping at 2^31).
//!
//! A ghost leaves its queue either from the oldest end or, on a ghost hit or
//! a removal, from anywhere: then only its index handle is removed and the
//! record stays in the ring as a dead slot. A record is live exactly when the
//! index maps its key to its handle, so popping the oldest record checks the
//! index and skips dead ones. When a ring is full it is compacted if at least
//! an eighth of its slots are dead (renumbering the live records and updating
//! their handles), else grown (doubled while small, then by a sixteenth).
//!
//! A ghost costs 8 bytes of key (plus 4 of charge for a byte capacity; charges
//! of 2^32 - 1 bytes or more go to a side table) and about 6.5 bytes of index,
//! instead of a 40-byte slab node.

use std::collections::HashMap;

use crate::arena::{hash_key, index_room_for};
use crate::index::CompactIndex;

/// Bits of a handle that hold the sequence number.
const SEQ_BITS: u32 = 31;
const SEQ_MASK: u32 = (1 << SEQ_BITS) - 1;
/// Stored charge meaning "see the side table".
const BIG_CHARGE: u32 = u32::MAX;
/// Smallest ring, in records.
const MIN_CAPACITY: usize = 256;
/// Rings this large grow by a sixteenth instead of doubling.
const LARGE_RING: usize = 1 << 16;

/// One ghost FIFO: a ring buffer of records, oldest at `start`.
#[derive(Debug, Default)]
struct Ring {
    keys: Vec<u64>,
    /// Parallel to `keys`; empty when every charge is 1.
    charges: Vec<u32>,
    /// Slot of the oldest record.
    start: usize,
    /// Records from the oldest to the newest, dead ones included.
    span: usize,
    /// Sequence number of the oldest record.
    first_seq: u32,
    /// Live records.
    live: usize,
    /// Sum of the live records' charges.
    units: u64,
}

impl Ring {
    #[inline]
    fn slot_of(&self, offset: usize) -> usize {
        let slot = self.start + offset;
        if slot >= self.keys.len() {
            slot - self.keys.len()
        } else {
            slot
        }
    }

    /// Slot of the record numbered `seq` (which must be in the span).
    #[inline]
    fn slot_of_seq(&self, seq: u32) -> usize {
        self.slot_of((seq.wrapping_sub(self.first_seq) & SEQ_MASK) as usize)
    }
}

/// `RINGS` ghost FIFOs sharing one key index. A key is in at most one ring.
#[derive(Debug)]
pub(crate) struct Ghosts<const RINGS: usize> {
    rings: [Ring; RINGS],
    index: CompactIndex,
    /// Whether every charge is 1 (object-count capacity): no charges stored.
    unit_charges: bool,
    /// Charges too large for a `u32`, by handle.
    big_charges: HashMap<u32, u64>,
}

#[inline]
fn handle(ring: usize, seq: u32) -> u32 {
    ((ring as u32) << SEQ_BITS) | (seq & SEQ_MASK)
}

#[inline]
fn split(handle: u32) -> (usize, u32) {
    ((handle >> SEQ_BITS) as usize, handle & SEQ_MASK)
}

impl<const RINGS: usize> Ghosts<RINGS> {
    /// Empty queues. `expected` ghosts fit in the index without growing (and
    /// in ring 0 too, which is sized for them when charges are units).
    pub(crate) fn new(unit_charges: bool, expected: usize) -> Self {
        assert!(RINGS <= 2, "handles have one ring bit");
        let mut rings: [Ring; RINGS] = std::array::from_fn(|_| Ring::default());
        if unit_charges && RINGS == 1 && expected > 0 {
            rings[0].keys = vec![0; expected + expected / 8];
        }
        Ghosts {
            rings,
            index: CompactIndex::with_capacity(index_room_for(expected)),
            unit_charges,
            big_charges: HashMap::new(),
        }
    }

    /// Live ghosts in `ring`.
    #[cfg(test)]
    pub(crate) fn len(&self, ring: usize) -> usize {
        self.rings[ring].live
    }

    /// Whether `ring` holds no live ghost.
    #[inline]
    pub(crate) fn is_empty(&self, ring: usize) -> bool {
        self.rings[ring].live == 0
    }

    /// Sum of the charges of the live ghosts in `ring`.
    #[inline]
    pub(crate) fn units(&self, ring: usize) -> u64 {
        self.rings[ring].units
    }

    /// Live ghosts in all rings.
    pub(crate) fn tracked(&self) -> usize {
        self.index.len()
    }

    /// Heap bytes of the rings, the index and the side table.
    pub(crate) fn heap_bytes(&self) -> usize {
        let rings: usize = self
            .rings
            .iter()
            .map(|ring| ring.keys.capacity() * 8 + ring.charges.capacity() * 4)
            .sum();
        let big = self.big_charges.capacity()
            * (std::mem::size_of::<(u32, u64)>() + std::mem::size_of::<u64>());
        rings + self.index.allocation_size() + big
    }

    #[inline]
    fn key_at(&self, handle: u32) -> u64 {
        let (ring, seq) = split(handle);
        let ring = &self.rings[ring];
        ring.keys[ring.slot_of_seq(seq)]
    }

    fn charge_at(&self, handle: u32) -> u64 {
        if self.unit_charges {
            return 1;
        }
        let (ring_id, seq) = split(handle);
        let ring = &self.rings[ring_id];
        match ring.charges[ring.slot_of_seq(seq)] {
            BIG_CHARGE => self.big_charges[&handle],
            charge => u64::from(charge),
        }
    }

    /// The ring holding `key`, if it is a ghost.
    #[inline]
    pub(crate) fn find(&self, key: u64) -> Option<usize> {
        self.index
            .find(hash_key(key), |handle| self.key_at(handle) == key)
            .map(|handle| split(handle).0)
    }

    /// Forgets the ghost of `key`; returns its ring and charge.
    #[inline]
    pub(crate) fn take(&mut self, key: u64) -> Option<(usize, u64)> {
        let rings = &self.rings;
        let handle = self.index.remove(hash_key(key), |handle| {
            let (ring, seq) = split(handle);
            let ring = &rings[ring];
            ring.keys[ring.slot_of_seq(seq)] == key
        })?;
        let charge = self.charge_at(handle);
        if charge >= u64::from(BIG_CHARGE) {
            self.big_charges.remove(&handle);
        }
        let ring_id = split(handle).0;
        let ring = &mut self.rings[ring_id];
        ring.live -= 1;
        ring.units -= charge;
        Some((ring_id, charge))
    }

    /// Forgets the oldest live ghost of `ring`; returns its key and charge.
    pub(crate) fn pop_oldest(&mut self, ring_id: usize) -> Option<(u64, u64)> {
        while self.rings[ring_id].span > 0 {
            let ring = &self.rings[ring_id];
            let seq = ring.first_seq;
            let key = ring.keys[ring.start];
            let code = handle(ring_id, seq);
            let charge = self.charge_at_slot(ring_id, ring.start, code);
            let ring = &mut self.rings[ring_id];
            ring.start = ring.slot_of(1);
            ring.span -= 1;
            ring.first_seq = seq.wrapping_add(1) & SEQ_MASK;
            if self
                .index
                .remove(hash_key(key), |candidate| candidate == code)
                .is_some()
            {
                ring.live -= 1;
                ring.units -= charge;
                if charge >= u64::from(BIG_CHARGE) {
                    self.big_charges.remove(&code);
                }
                return Some((key, charge));
            }
        }
        None
    }

    /// The charge stored in `slot` of `ring` (live or dead; a dead big charge
    /// may be gone from the side table, which does not matter for dead slots).
    fn charge_at_slot(&self, ring: usize, slot: usize, code: u32) -> u64 {
        if self.unit_charges {
            return 1;
        }
        match self.rings[ring].charges[slot] {
            BIG_CHARGE => self.big_charges.get(&code).copied().unwrap_or(0),
            charge => u64::from(charge),
        }
    }

    /// Adds `key` (which must not be a ghost) as the newest record of `ring`.
    pub(crate) fn push(&mut self, ring_id: usize, key: u64, charge: u64) {
        debug_assert!(self.find(key).is_none(), "key {key} is already a ghost");
        debug_assert!(!self.unit_charges || charge == 1);
        if self.rings[ring_id].span == self.rings[ring_id].keys.len() {
            self.make_room(ring_id);
        }
        let ring = &mut self.rings[ring_id];
        assert!(ring.span < SEQ_MASK as usize, "ghost ring is full");
        let slot = ring.slot_of(ring.span);
        let seq = ring.first_seq.wrapping_add(ring.span as u32) & SEQ_MASK;
        let code = handle(ring_id, seq);
        ring.keys[slot] = key;
        if !self.unit_charges {
            ring.charges[slot] = match u32::try_from(charge) {
                Ok(small) if small != BIG_CHARGE => small,
                _ => {
                    self.big_charges.insert(code, charge);
                    BIG_CHARGE
                }
            };
        }
        ring.span += 1;
        ring.live += 1;
        ring.units += charge;
        let rings = &self.rings;
        self.index.insert(hash_key(key), code, |handle| {
            hash_key(key_of(rings, handle))
        });
    }

    /// Makes room for one more record in a full ring.
    #[cold]
    fn make_room(&mut self, ring_id: usize) {
        let ring = &self.rings[ring_id];
        let capacity = ring.keys.len();
        let dead = ring.span - ring.live;
        if capacity > 0 && dead * 8 >= capacity {
            self.compact(ring_id);
            return;
        }
        // Grow: double while small, then by a sixteenth (the keys are most of
        // a ghost's bytes). Records keep their slots' order and numbers.
        let new_capacity = if capacity < LARGE_RING {
            (capacity * 2).max(MIN_CAPACITY)
        } else {
            capacity + capacity / 16
        };
        let ring = &mut self.rings[ring_id];
        let mut keys = Vec::with_capacity(new_capacity);
        let (tail, head) = ring.keys.split_at(ring.start);
        keys.extend_from_slice(head);
        keys.extend_from_slice(tail);
        keys.resize(new_capacity, 0);
        ring.keys = keys;
        if !self.unit_charges {
            let mut charges = Vec::with_capacity(new_capacity);
            let (tail, head) = ring.charges.split_at(ring.start);
            charges.extend_from_slice(head);
            charges.extend_from_slice(tail);
            charges.resize(new_capacity, 0);
            ring.charges = charges;
        }
        ring.start = 0;
    }

    /// Drops the dead records of a ring, renumbering the live ones (oldest
    /// first, from `first_seq` on) and updating their index handles.
    fn compact(&mut self, ring_id: usize) {
        let ring = &self.rings[ring_id];
        let capacity = ring.keys.len();
        let mut keys = vec![0u64; capacity];
        let mut charges = if self.unit_charges {
            Vec::new()
        } else {
            vec![0u32; capacity]
        };
        let first_seq = ring.first_seq;
        let mut kept = 0;
        for offset in 0..ring.span {
            let slot = ring.slot_of(offset);
            let key = ring.keys[slot];
            let old = handle(ring_id, first_seq.wrapping_add(offset as u32));
            let new = handle(ring_id, first_seq.wrapping_add(kept as u32));
            // Renumbering only lowers sequence numbers, below every record
            // not yet visited, so `new` cannot collide with a live handle.
            if !self
                .index
                .replace(hash_key(key), |candidate| candidate == old, new)
            {
                continue;
            }
            keys[kept] = key;
            if !self.unit_charges {
                let charge = ring.charges[slot];
                charges[kept] = charge;
                if charge == BIG_CHARGE && old != new {
                    let big = self.big_charges.remove(&old).expect("big charge recorded");
                    self.big_charges.insert(new, big);
                }
            }
            kept += 1;
        }
        let ring = &mut self.rings[ring_id];
        debug_assert_eq!(kept, ring.live);
        ring.keys = keys;
        ring.charges = charges;
        ring.start = 0;
        ring.span = kept;
    }

    /// Keys of the live ghosts of `ring`, oldest first (for tests).
    #[cfg(test)]
    pub(crate) fn keys(&self, ring_id: usize) -> Vec<u64> {
        let ring = &self.rings[ring_id];
        (0..ring.span)
            .filter_map(|offset| {
                let key = ring.keys[ring.slot_of(offset)];
                let code = handle(
                    ring_id,
                    ring.first_seq.wrapping_add(offset as u32) & SEQ_MASK,
                );
                self.index
                    .find(hash_key(key), |candidate| candidate == code)
                    .map(|_| key)
            })
            .collect()
    }
}

fn key_of<const RINGS: usize>(rings: &[Ring; RINGS], handle: u32) -> u64 {
    let (ring, seq) = split(handle);
    let ring = &rings[ring];
    ring.keys[ring.slot_of_seq(seq)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    /// Random pushes, pops, hits and removals against a VecDeque model, with
    /// byte charges including ones too large for a `u32`.
    #[test]
    fn matches_a_deque_model() {
        for unit in [true, false] {
            let mut ghosts = Ghosts::<2>::new(unit, 0);
            let mut model: [VecDeque<(u64, u64)>; 2] = [VecDeque::new(), VecDeque::new()];
            let mut state = 99_u64;
            let mut next_key = 0;
            for round in 0..100_000 {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let choice = (state >> 33) % 10;
                let ring = ((state >> 40) % 2) as usize;
                match choice {
                    0..=4 => {
                        let charge = if unit {
                            1
                        } else if (state >> 20).is_multiple_of(50) {
                            u64::from(u32::MAX) + (state >> 50)
                        } else {
                            (state >> 44) % 1000 + 1
                        };
                        // Keys repeat after leaving, like real ghosts.
                        let key = next_key % 3000;
                        next_key += 1;
                        if ghosts.find(key).is_none() {
                            ghosts.push(ring, key, charge);
                            model[ring].push_back((key, charge));
                        }
                    }
                    5..=6 => {
                        let expected = model[ring].pop_front();
                        assert_eq!(ghosts.pop_oldest(ring), expected, "round {round}");
                    }
                    _ => {
                        let key = (state >> 24) % 3000;
                        let expected = (0..2).find_map(|r| {
                            let position = model[r].iter().position(|&(k, _)| k == key)?;
                            Some((r, model[r].remove(position).unwrap().1))
                        });
                        assert_eq!(ghosts.find(key), expected.map(|(r, _)| r));
                        assert_eq!(ghosts.take(key), expected, "round {round}");
                    }
                }
                for (r, ring) in model.iter().enumerate() {
                    assert_eq!(ghosts.len(r), ring.len());
                    assert_eq!(ghosts.units(r), ring.iter().map(|&(_, c)| c).sum::<u64>());
                }
            }
            for (r, ring) in model.iter().enumerate() {
                let keys: Vec<u64> = ring.iter().map(|&(k, _)| k).collect();
                assert_eq!(ghosts.keys(r), keys);
            }
        }
    }
}
