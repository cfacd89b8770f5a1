//! Slab of cache nodes, index-linked queues over it, and the key index shared by every policy.
//!
//! Every resident object lives in one `Node` of a `Vec`; queues link nodes by
//! `u32` index, and a [`CompactIndex`] maps a key to its node. The index stores
//! only the 4-byte node index (plus a tag byte) and compares keys through the
//! slab, so an object costs 40 bytes of node plus 5.7 to 7.3 bytes of index,
//! with no per-object allocation. Ghost entries (S3-FIFO, ARC) are not nodes:
//! they live in the much smaller records of [`crate::ghost`].

use crate::index::CompactIndex;

use crate::Entry;

/// Sentinel index meaning "no node" (30 bits of ones).
pub(crate) const NIL: u32 = 0x3FFF_FFFF;
/// Mask of the index bits in a link word; the top two bits hold policy metadata.
const INDEX_MASK: u32 = NIL;
/// Largest number of nodes the 30-bit links can address.
const MAX_NODES: usize = NIL as usize;
/// Smallest growth step of the slab, in nodes.
const MIN_GROWTH: usize = 1024;

/// Index room to reserve for `items` objects.
pub(crate) fn index_room_for(items: usize) -> usize {
    items
}

/// Hash for `u64` keys: a folded 64x64->128 multiply, cheap and good in both the
/// high bits (the index's home group) and the low bits (its tag byte).
#[inline]
pub(crate) fn hash_key(key: u64) -> u64 {
    let product = u128::from(key ^ 0x243F_6A88_85A3_08D3) * 0x9E37_79B9_7F4A_7C15_u128;
    (product as u64) ^ ((product >> 64) as u64)
}

/// One tracked object. 40 bytes: the key, two links whose top bits carry four
/// bits of policy metadata (reference bit, frequency, queue id), and the
/// caller's entry. `repr(C)` keeps the key and links, which eviction and
/// relinking touch, together in the first 16 bytes: with a 40-byte stride they
/// then share a cache line for 7 nodes out of 8.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub(crate) struct Node {
    pub(crate) key: u64,
    /// Neighbour toward the queue head (the newer side); bits 30-31 = meta bits 0-1.
    newer: u32,
    /// Neighbour toward the queue tail (the older side); bits 30-31 = meta bits 2-3.
    older: u32,
    pub(crate) entry: Entry,
}

const _: () = assert!(std::mem::size_of::<Node>() == 40);

impl Node {
    #[inline]
    pub(crate) fn newer(&self) -> u32 {
        self.newer & INDEX_MASK
    }

    #[inline]
    pub(crate) fn older(&self) -> u32 {
        self.older & INDEX_MASK
    }

    #[inline]
    fn set_newer(&mut self, index: u32) {
        self.newer = (self.newer & !INDEX_MASK) | index;
    }

    #[inline]
    fn set_older(&mut self, index: u32) {
        self.older = (self.older & !INDEX_MASK) | index;
    }

    /// Four bits of policy-owned metadata.
    #[inline]
    pub(crate) fn meta(&self) -> u8 {
        ((self.newer >> 30) | ((self.older >> 30) << 2)) as u8
    }

    #[inline]
    pub(crate) fn set_meta(&mut self, meta: u8) {
        debug_assert!(meta < 16, "node metadata is four bits");
        let meta = u32::from(meta);
        self.newer = (self.newer & INDEX_MASK) | ((meta & 0b11) << 30);
        self.older = (self.older & INDEX_MASK) | ((meta >> 2) << 30);
    }
}

/// A doubly linked queue of nodes: `head` is the newest end, `tail` the oldest.
/// `units` is the sum of the members' charges (bytes or 1 per object).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Queue {
    pub(crate) head: u32,
    pub(crate) tail: u32,
    pub(crate) len: usize,
    pub(crate) units: u64,
}

impl Default for Queue {
    fn default() -> Self {
        Queue {
            head: NIL,
            tail: NIL,
            len: 0,
            units: 0,
        }
    }
}

impl Queue {
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// The slab plus the key index.
#[derive(Debug)]
pub(crate) struct Arena {
    nodes: Vec<Node>,
    /// Head of the free-node list, linked through `older`.
    free_head: u32,
    index: CompactIndex,
}

impl Arena {
    /// An arena with room for `expected_nodes` before it has to grow.
    pub(crate) fn with_capacity(expected_nodes: usize) -> Self {
        let expected = expected_nodes.min(MAX_NODES);
        Arena {
            nodes: Vec::with_capacity(expected),
            free_head: NIL,
            index: CompactIndex::with_capacity(index_room_for(expected)),
        }
    }

    /// The node index holding `key`, if tracked.
    #[inline]
    pub(crate) fn find(&self, key: u64) -> Option<u32> {
        let nodes = &self.nodes;
        self.index
            .find(hash_key(key), |index| nodes[index as usize].key == key)
    }

    #[inline]
    pub(crate) fn node(&self, index: u32) -> &Node {
        &self.nodes[index as usize]
    }

    #[inline]
    pub(crate) fn node_mut(&mut self, index: u32) -> &mut Node {
        &mut self.nodes[index as usize]
    }

    #[inline]
    pub(crate) fn meta(&self, index: u32) -> u8 {
        self.nodes[index as usize].meta()
    }

    #[inline]
    pub(crate) fn set_meta(&mut self, index: u32, meta: u8) {
        self.nodes[index as usize].set_meta(meta);
    }

    /// Stores a new node for `key` (which must not be tracked yet), unlinked.
    pub(crate) fn alloc(&mut self, key: u64, entry: Entry, meta: u8) -> u32 {
        debug_assert!(self.find(key).is_none(), "key {key} is already tracked");
        let mut node = Node {
            key,
            newer: NIL,
            older: NIL,
            entry,
        };
        node.set_meta(meta);
        let index = if self.free_head != NIL {
            let index = self.free_head;
            self.free_head = self.nodes[index as usize].older();
            self.nodes[index as usize] = node;
            index
        } else {
            let len = self.nodes.len();
            assert!(
                len < MAX_NODES,
                "cache arena is limited to {MAX_NODES} objects"
            );
            if len == self.nodes.capacity() {
                // Grow by a thirty-second rather than doubling: the slab is most
                // of the per-object memory, and realloc of a large Vec is cheap
                // on Linux (pages are remapped, not copied).
                self.nodes
                    .reserve_exact((len / 32).max(MIN_GROWTH).min(MAX_NODES - len));
            }
            self.nodes.push(node);
            len as u32
        };
        let nodes = &self.nodes;
        self.index
            .insert(hash_key(key), index, |i| hash_key(nodes[i as usize].key));
        index
    }

    /// Forgets the (already unlinked) node and returns its entry.
    pub(crate) fn release(&mut self, index: u32) -> Entry {
        let free_head = self.free_head;
        let slot = &mut self.nodes[index as usize];
        let key = slot.key;
        slot.newer = NIL;
        slot.older = free_head;
        let entry = slot.entry;
        let removed = self
            .index
            .remove(hash_key(key), |candidate| candidate == index);
        assert!(
            removed.is_some(),
            "node {index} (key {key}) missing from the index"
        );
        self.free_head = index;
        entry
    }

    /// Links an unlinked node at the head (newest end) of `queue`.
    #[inline]
    pub(crate) fn push_head(&mut self, queue: &mut Queue, index: u32, charge: u64) {
        let old_head = queue.head;
        {
            let node = &mut self.nodes[index as usize];
            node.set_newer(NIL);
            node.set_older(old_head);
        }
        if old_head == NIL {
            queue.tail = index;
        } else {
            self.nodes[old_head as usize].set_newer(index);
        }
        queue.head = index;
        queue.len += 1;
        queue.units += charge;
    }

    /// Unlinks a member of `queue`.
    #[inline]
    pub(crate) fn unlink(&mut self, queue: &mut Queue, index: u32, charge: u64) {
        let (newer, older) = {
            let node = &self.nodes[index as usize];
            (node.newer(), node.older())
        };
        if newer == NIL {
            queue.head = older;
        } else {
            self.nodes[newer as usize].set_older(older);
        }
        if older == NIL {
            queue.tail = newer;
        } else {
            self.nodes[older as usize].set_newer(newer);
        }
        let node = &mut self.nodes[index as usize];
        node.set_newer(NIL);
        node.set_older(NIL);
        queue.len -= 1;
        queue.units -= charge;
    }

    /// Moves a member of `queue` to its head.
    #[inline]
    pub(crate) fn move_to_head(&mut self, queue: &mut Queue, index: u32) {
        if queue.head == index {
            return;
        }
        self.unlink(queue, index, 0);
        self.push_head(queue, index, 0);
    }

    /// Heap bytes held by the slab and the index.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node>() + self.index.allocation_size()
    }

    /// Number of nodes in use.
    pub(crate) fn tracked(&self) -> usize {
        self.index.len()
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

    fn keys_head_to_tail(arena: &Arena, queue: &Queue) -> Vec<u64> {
        let mut keys = Vec::new();
        let mut cursor = queue.head;
        while cursor != NIL {
            keys.push(arena.node(cursor).key);
            cursor = arena.node(cursor).older();
        }
        keys
    }

    #[test]
    fn meta_bits_survive_relinking() {
        let mut arena = Arena::with_capacity(4);
        let mut queue = Queue::default();
        let a = arena.alloc(1, entry(1), 0b1010);
        let b = arena.alloc(2, entry(1), 0b0101);
        arena.push_head(&mut queue, a, 1);
        arena.push_head(&mut queue, b, 1);
        arena.move_to_head(&mut queue, a);
        assert_eq!(arena.meta(a), 0b1010);
        assert_eq!(arena.meta(b), 0b0101);
        assert_eq!(keys_head_to_tail(&arena, &queue), vec![1, 2]);
        arena.set_meta(a, 0b0011);
        assert_eq!(arena.node(a).older(), b);
        assert_eq!(arena.meta(a), 0b0011);
    }

    #[test]
    fn queue_links_and_free_list() {
        let mut arena = Arena::with_capacity(0);
        let mut queue = Queue::default();
        let indices: Vec<u32> = (0..5).map(|k| arena.alloc(k, entry(k + 1), 0)).collect();
        for &index in &indices {
            arena.push_head(&mut queue, index, arena.node(index).entry.size);
        }
        assert_eq!(keys_head_to_tail(&arena, &queue), vec![4, 3, 2, 1, 0]);
        assert_eq!(queue.units, 15);
        arena.unlink(&mut queue, indices[2], 3);
        assert_eq!(arena.release(indices[2]).size, 3);
        assert_eq!(arena.find(2), None);
        assert_eq!(keys_head_to_tail(&arena, &queue), vec![4, 3, 1, 0]);
        // The freed slot is reused.
        let reused = arena.alloc(9, entry(1), 0);
        assert_eq!(reused, indices[2]);
        assert_eq!(arena.find(9), Some(reused));
        assert_eq!(arena.tracked(), 5);
        arena.move_to_head(&mut queue, indices[0]);
        assert_eq!(keys_head_to_tail(&arena, &queue), vec![0, 4, 3, 1]);
        assert_eq!(queue.tail, indices[1]);
    }
}
