//! The eviction policies and the bookkeeping they share.

pub(crate) mod arc;
pub(crate) mod queue;
pub(crate) mod s3fifo;

use crate::arena::Arena;
use crate::{Capacity, Entry};

/// Objects to size the slab or ghost index for: only an object-count capacity
/// says how many to expect; byte capacities start small and grow.
pub(crate) fn expected_objects(capacity: Capacity, fraction: f64) -> usize {
    match capacity {
        Capacity::Objects(objects) => ((objects as f64 * fraction) as usize).min(1 << 24),
        Capacity::Bytes(_) => 0,
    }
}

/// Slab, index and resident-set accounting common to every policy.
#[derive(Debug)]
pub(crate) struct Core {
    pub(crate) arena: Arena,
    pub(crate) capacity: Capacity,
    /// Number of resident (non-ghost) objects.
    pub(crate) resident: usize,
    /// Sum of the resident objects' sizes.
    pub(crate) used_bytes: u64,
    /// A key the latest `get` found absent (not even as a ghost): the usual
    /// `insert` right after such a miss can skip its own lookup.
    known_absent: Option<u64>,
}

impl Core {
    /// Slab and index sized for `capacity` (ghosts live elsewhere, see [`crate::ghost`]).
    pub(crate) fn new(capacity: Capacity) -> Self {
        let expected = expected_objects(capacity, 1.0);
        Core {
            arena: Arena::with_capacity(expected),
            capacity,
            resident: 0,
            used_bytes: 0,
            known_absent: None,
        }
    }

    /// True (once) when the previous `get` found `key` absent, resident or ghost.
    #[inline]
    pub(crate) fn take_known_absent(&mut self, key: u64) -> bool {
        self.known_absent.take() == Some(key)
    }

    /// Lookup for a request: remembers a miss for the following `insert`.
    #[inline]
    pub(crate) fn find_for_get(&mut self, key: u64) -> Option<u32> {
        let found = self.arena.find(key);
        self.known_absent = if found.is_none() { Some(key) } else { None };
        found
    }

    /// Lookup for an insert, skipped when the previous `get` missed on `key`.
    #[inline]
    pub(crate) fn find_for_insert(&mut self, key: u64) -> Option<u32> {
        if self.known_absent.take() == Some(key) {
            debug_assert!(self.arena.find(key).is_none());
            return None;
        }
        self.arena.find(key)
    }

    /// The capacity in charge units.
    #[inline]
    pub(crate) fn limit(&self) -> u64 {
        self.capacity.limit()
    }

    /// What an object of `size` bytes costs against the capacity.
    #[inline]
    pub(crate) fn charge(&self, size: u64) -> u64 {
        match self.capacity {
            Capacity::Bytes(_) => size,
            Capacity::Objects(_) => 1,
        }
    }

    /// Capacity used by the resident objects, in charge units.
    #[inline]
    pub(crate) fn used_units(&self) -> u64 {
        match self.capacity {
            Capacity::Bytes(_) => self.used_bytes,
            Capacity::Objects(_) => self.resident as u64,
        }
    }

    /// Records that an object of `size` bytes became resident.
    #[inline]
    pub(crate) fn account_in(&mut self, size: u64) {
        self.resident += 1;
        self.used_bytes += size;
    }

    /// Records that an object of `size` bytes stopped being resident.
    #[inline]
    pub(crate) fn account_out(&mut self, size: u64) {
        self.resident -= 1;
        self.used_bytes -= size;
    }

    /// Tries to replace the entry of resident node `index` in place. Succeeds
    /// (and fixes the accounting) when the new size fits without evicting
    /// anything; the caller owns the per-queue unit bookkeeping via the
    /// returned old charge.
    pub(crate) fn refresh_in_place(&mut self, index: u32, entry: Entry) -> Option<u64> {
        let old_size = self.arena.node(index).entry.size;
        let old_charge = self.charge(old_size);
        let new_charge = self.charge(entry.size);
        let fits = self.used_units() - old_charge + new_charge <= self.limit();
        if !fits {
            return None;
        }
        self.arena.node_mut(index).entry = entry;
        self.used_bytes = self.used_bytes - old_size + entry.size;
        Some(old_charge)
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.arena.heap_bytes()
    }
}
