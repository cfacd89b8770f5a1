//! A compact open-addressing hash index from a key hash to a `u32` handle.
//!
//! The index stores only the handle (a slab node index or a ghost-ring
//! position); keys are compared through a caller closure. Slots come in groups
//! of eight: one `u64` of tag bytes (a 7-bit hash fragment with the top bit
//! set for a full slot, 0 for an empty one) followed by eight `u32` handles,
//! 40 bytes per group, so a probe usually touches one cache line of the index
//! and then the candidate's key. Unlike `hashbrown`, the number of groups is
//! not a power of two (the home group is chosen by a multiply-shift of the
//! hash), so the table can be sized to the number of objects: 5 bytes per
//! slot at a load of up to 7/8, plus one byte per group.
//!
//! There are no tombstones: each group counts the stored handles whose probe
//! went past it because it was full (saturating at 255, after which it never
//! decreases until the next rebuild). A lookup stops at the first group whose
//! count is zero, and a removal empties its slot and decrements the counts
//! along its probe path. Caches remove and insert on every miss, so this keeps
//! probe sequences short without periodic rebuilds.

/// Slots per group.
const GROUP: usize = 8;
/// Most stored handles per group on average (load factor 7/8).
const MAX_PER_GROUP: usize = 7;
const LO_BITS: u64 = 0x0101_0101_0101_0101;
const HI_BITS: u64 = 0x8080_8080_8080_8080;
const LOW_SEVEN: u64 = 0x7F7F_7F7F_7F7F_7F7F;
const EMPTY: u8 = 0;
/// Below this many handles the table grows fast (see `grow`).
const SMALL_TABLE: usize = 1 << 16;
/// A saturated overflow count: never decremented.
const STUCK: u8 = u8::MAX;

#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
struct Group {
    /// Tag byte `i` is bits `8i..8i+8`.
    tags: u64,
    slots: [u32; GROUP],
}

const _: () = assert!(std::mem::size_of::<Group>() == 40);

/// High bit of every byte of `word` that is zero (exact, no false positives).
#[inline]
fn zero_bytes(word: u64) -> u64 {
    !(((word & LOW_SEVEN) + LOW_SEVEN) | word) & HI_BITS
}

/// The tag of a full slot: the low seven hash bits (the home group comes from
/// the high bits) with the top bit set.
#[inline]
fn tag_of(hash: u64) -> u8 {
    0x80 | (hash as u8 & 0x7F)
}

/// Index of the lowest byte flagged in `mask`.
#[inline]
fn first_byte(mask: u64) -> usize {
    (mask.trailing_zeros() / 8) as usize
}

#[inline]
fn set_tag(group: &mut Group, slot: usize, tag: u8) {
    let shift = 8 * slot;
    group.tags = (group.tags & !(0xFF << shift)) | (u64::from(tag) << shift);
}

/// Groups needed to hold `items` with the load at most `MAX_PER_GROUP / GROUP`.
fn groups_for(items: usize) -> usize {
    items.div_ceil(MAX_PER_GROUP).max(1)
}

/// See the module documentation.
#[derive(Clone, Debug)]
pub(crate) struct CompactIndex {
    groups: Vec<Group>,
    /// Per group: stored handles whose probe passed this group.
    overflow: Vec<u8>,
    len: usize,
    /// Handles that fit before the table grows.
    max_len: usize,
}

impl CompactIndex {
    /// An index that holds `items` handles without growing.
    pub(crate) fn with_capacity(items: usize) -> Self {
        let groups = groups_for(items);
        CompactIndex {
            groups: vec![Group::default(); groups],
            overflow: vec![0; groups],
            len: 0,
            max_len: groups * MAX_PER_GROUP,
        }
    }

    /// Number of handles stored.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Bytes of the group and overflow arrays.
    pub(crate) fn allocation_size(&self) -> usize {
        self.groups.capacity() * std::mem::size_of::<Group>() + self.overflow.capacity()
    }

    #[inline]
    fn home(&self, hash: u64) -> usize {
        ((u128::from(hash) * self.groups.len() as u128) >> 64) as usize
    }

    #[inline]
    fn next(&self, at: usize) -> usize {
        if at + 1 == self.groups.len() {
            0
        } else {
            at + 1
        }
    }

    /// Group and slot of the first handle with this hash that `eq` accepts.
    #[inline]
    fn find_slot(&self, hash: u64, mut eq: impl FnMut(u32) -> bool) -> Option<(usize, usize)> {
        let pattern = LO_BITS * u64::from(tag_of(hash));
        let mut at = self.home(hash);
        for _ in 0..self.groups.len() {
            let group = &self.groups[at];
            let mut matches = zero_bytes(group.tags ^ pattern);
            while matches != 0 {
                let slot = first_byte(matches);
                if eq(group.slots[slot]) {
                    return Some((at, slot));
                }
                matches &= matches - 1;
            }
            if self.overflow[at] == 0 {
                return None;
            }
            at = self.next(at);
        }
        None
    }

    /// The first handle with this hash that `eq` accepts.
    #[inline]
    pub(crate) fn find(&self, hash: u64, eq: impl FnMut(u32) -> bool) -> Option<u32> {
        self.find_slot(hash, eq)
            .map(|(group, slot)| self.groups[group].slots[slot])
    }

    /// Replaces the handle `eq` accepts by `value`; false if there is none.
    pub(crate) fn replace(&mut self, hash: u64, eq: impl FnMut(u32) -> bool, value: u32) -> bool {
        match self.find_slot(hash, eq) {
            Some((group, slot)) => {
                self.groups[group].slots[slot] = value;
                true
            }
            None => false,
        }
    }

    /// Removes the handle `eq` accepts and returns it.
    #[inline]
    pub(crate) fn remove(&mut self, hash: u64, eq: impl FnMut(u32) -> bool) -> Option<u32> {
        let (found, slot) = self.find_slot(hash, eq)?;
        let group = &mut self.groups[found];
        let value = group.slots[slot];
        set_tag(group, slot, EMPTY);
        self.len -= 1;
        // Undo the overflow counts of the groups this handle's probe passed.
        let mut at = self.home(hash);
        while at != found {
            let count = &mut self.overflow[at];
            if *count != STUCK {
                *count -= 1;
            }
            at = self.next(at);
        }
        Some(value)
    }

    /// Adds a handle (the caller guarantees its key is not present yet).
    /// `hash_of` gives the hash of any stored handle, for growing.
    #[inline]
    pub(crate) fn insert(&mut self, hash: u64, value: u32, hash_of: impl Fn(u32) -> u64) {
        if self.len == self.max_len {
            self.grow(&hash_of);
        }
        self.place(hash, value);
        self.len += 1;
    }

    /// Stores `value` in the first group on its probe path with an empty slot.
    #[inline]
    fn place(&mut self, hash: u64, value: u32) {
        let mut at = self.home(hash);
        loop {
            let group = &mut self.groups[at];
            let free = !group.tags & HI_BITS;
            if free != 0 {
                let slot = first_byte(free);
                set_tag(group, slot, tag_of(hash));
                group.slots[slot] = value;
                return;
            }
            let count = &mut self.overflow[at];
            if *count != STUCK {
                *count += 1;
            }
            at = self.next(at);
        }
    }

    /// Rebuilds the table larger: four times what is needed while small and
    /// twice up to `SMALL_TABLE` handles (where memory hardly matters and
    /// rebuilds would dominate), then an eighth larger (78% full) to keep
    /// the bytes per object low.
    #[cold]
    fn grow(&mut self, hash_of: &impl Fn(u32) -> u64) {
        let needed = self.len + 1;
        let target = if needed < SMALL_TABLE / 4 {
            needed * 4
        } else if needed < SMALL_TABLE {
            needed * 2
        } else {
            needed + needed / 8
        };
        let groups = groups_for(target);
        let old = std::mem::replace(&mut self.groups, vec![Group::default(); groups]);
        self.overflow = vec![0; groups];
        self.max_len = groups * MAX_PER_GROUP;
        for group in &old {
            let mut full = group.tags & HI_BITS;
            while full != 0 {
                let value = group.slots[first_byte(full)];
                self.place(hash_of(value), value);
                full &= full - 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(value: u32) -> u64 {
        crate::arena::hash_key(u64::from(value) / 3)
    }

    #[test]
    fn zero_bytes_is_exact() {
        let word = 0x0100_8000_0001_FF00_u64;
        let flags = zero_bytes(word);
        let zero: Vec<usize> = (0..8).filter(|i| (flags >> (8 * i + 7)) & 1 == 1).collect();
        assert_eq!(zero, vec![0, 3, 4, 6]);
    }

    #[test]
    fn insert_find_remove_with_collisions_and_rebuilds() {
        let mut index = CompactIndex::with_capacity(0);
        let mut model = std::collections::HashSet::new();
        // Values v and w share a hash when v / 3 == w / 3.
        let mut state = 12345_u64;
        for round in 0..200_000_u32 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let value = ((state >> 33) % 5000) as u32;
            let present = index.find(hash(value), |v| v == value).is_some();
            assert_eq!(present, model.contains(&value), "round {round}");
            if present {
                assert_eq!(index.remove(hash(value), |v| v == value), Some(value));
                model.remove(&value);
            } else {
                index.insert(hash(value), value, hash);
                model.insert(value);
            }
            assert_eq!(index.len(), model.len());
        }
        for &value in &model {
            assert_eq!(index.find(hash(value), |v| v == value), Some(value));
        }
        assert!(index.overflow.iter().all(|&count| count < STUCK));
        assert!(index.replace(hash(7), |v| v == 7, 7) == model.contains(&7));
    }

    #[test]
    fn large_tables_grow_by_an_eighth_and_stay_consistent() {
        let hash = |value: u32| crate::arena::hash_key(u64::from(value));
        let mut index = CompactIndex::with_capacity(0);
        for value in 0..200_000 {
            index.insert(hash(value), value, hash);
        }
        let load = index.len() as f64 / (index.groups.len() * GROUP) as f64;
        assert!(load > 0.7, "load {load}");
        for value in (0..200_000).step_by(2) {
            assert_eq!(index.remove(hash(value), |v| v == value), Some(value));
        }
        for value in 0..200_000 {
            let expected = (value % 2 == 1).then_some(value);
            assert_eq!(index.find(hash(value), |v| v == value), expected);
        }
        assert!(
            index
                .overflow
                .iter()
                .all(|&count| count == 0 || count < STUCK)
        );
    }
}
