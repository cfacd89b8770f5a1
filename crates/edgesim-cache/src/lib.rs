//! Cache eviction policies, CloudFront freshness rules, trace readers and trace replay for edgesim.
//!
//! The crate is pure: no async runtime and no I/O besides the trace readers.
//!
//! * [`build`] makes an [`AnyCache`] for a [`PolicyKind`] and a [`Capacity`];
//!   every policy implements [`Cache`]. The policies reproduce libCacheSim's
//!   behaviour request for request (see [`PolicyKind`] for the details that
//!   matter), so miss counts can be checked against the `libcachesim` package.
//! * [`freshness`] computes CloudFront TTLs from the cache policy and the
//!   origin's `Cache-Control` / `Expires` headers.
//! * [`trace`] reads libCacheSim oracleGeneral and csv traces and CloudFront
//!   standard access logs; [`replay`] runs one trace through many
//!   (policy, capacity) pairs in a single pass.
//! * [`size`] parses and prints byte sizes such as `128MiB`.
//! * [`input`] reads untrusted files in bounded memory (capped lines and
//!   sizes) and escapes excerpts of them for error messages.
//!
//! ```
//! use edgesim_cache::{build, Cache, Capacity, Entry, PolicyKind};
//!
//! let mut cache = build(PolicyKind::Sieve, Capacity::Bytes(1000));
//! let entry = Entry { size: 400, expires_at_us: 60_000_000, tag: 0 };
//! assert!(cache.get(7).is_none());
//! assert!(cache.insert(7, entry));
//! assert_eq!(cache.get(7).map(|e| e.size), Some(400));
//! assert_eq!(cache.used_bytes(), 400);
//! ```

mod arena;
mod calendar;
pub mod freshness;
mod ghost;
mod index;
pub mod input;
mod policy;
pub mod replay;
pub mod size;
pub mod synth;
pub mod trace;

use std::fmt;
use std::str::FromStr;

pub use policy::arc::Arc;
pub use policy::queue::{Clock, Fifo, Lru, QueueCache, Sieve};
pub use policy::s3fifo::S3Fifo;

/// What the cache stores for one key. The cache reads only `size`; `expires_at_us`
/// and `tag` belong to the caller (the simulator keeps the expiry time and e.g.
/// the origin index or status class there).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Object size in bytes. Do not change it through [`Cache::get`]'s reference:
    /// byte accounting uses it on eviction; call [`Cache::insert`] to resize.
    pub size: u64,
    /// When the object stops being fresh, in simulated microseconds.
    pub expires_at_us: u64,
    /// Opaque caller data.
    pub tag: u32,
}

/// How much a cache may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Capacity {
    /// Sum of the resident objects' sizes in bytes.
    Bytes(u64),
    /// Number of resident objects, whatever their sizes (libCacheSim's
    /// `ignore_obj_size`: every object counts as one unit).
    Objects(u64),
}

impl Capacity {
    /// The limit in its own unit (bytes or objects).
    pub fn limit(self) -> u64 {
        match self {
            Capacity::Bytes(limit) | Capacity::Objects(limit) => limit,
        }
    }
}

impl fmt::Display for Capacity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Capacity::Bytes(bytes) => f.write_str(&size::format_bytes(*bytes)),
            Capacity::Objects(objects) => write!(f, "{objects} objects"),
        }
    }
}

/// The eviction policies, with libCacheSim's semantics.
///
/// Common to all: a miss admits the object unless it is larger than the whole
/// cache; the policy evicts until the object fits; a hit never changes the
/// cached size (libCacheSim keeps the size of the first insert).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum PolicyKind {
    /// Least recently used.
    Lru,
    /// First in, first out; hits change nothing.
    Fifo,
    /// CLOCK / second chance with a 1-bit reference flag: inserted with the bit
    /// clear, a hit sets it, the hand at the oldest end clears set bits and
    /// reinserts those objects at the newest end (libCacheSim `Clock`, `n-bit-counter=1`).
    Clock,
    /// SIEVE: inserted unvisited at the head; a hit marks visited; the hand
    /// walks from the tail toward the head, clearing visited bits, evicts the
    /// first unvisited object and stays where it stopped.
    Sieve,
    /// S3-FIFO as in libCacheSim's `S3FIFO`: small FIFO of 10% of the capacity,
    /// main FIFO with a 2-bit frequency (reinserted while the counter is non-zero),
    /// ghost FIFO of 90% of the capacity; objects seen twice in the small queue
    /// move to main; ghost hits are inserted into main. Like libCacheSim, objects
    /// not smaller than the small queue are only cached after a ghost hit (in
    /// practice never), and until the first eviction new objects go to main once
    /// the small queue is full.
    S3Fifo,
    /// ARC (Megiddo & Modha) with libCacheSim's byte-sized lists T1/T2/B1/B2 and
    /// real-valued adaptation target `p`.
    Arc,
}

impl PolicyKind {
    /// Every policy, in declaration order.
    pub const ALL: [PolicyKind; 6] = [
        PolicyKind::Lru,
        PolicyKind::Fifo,
        PolicyKind::Clock,
        PolicyKind::Sieve,
        PolicyKind::S3Fifo,
        PolicyKind::Arc,
    ];

    /// The canonical lowercase name (`"s3fifo"` for S3-FIFO).
    pub fn name(self) -> &'static str {
        match self {
            PolicyKind::Lru => "lru",
            PolicyKind::Fifo => "fifo",
            PolicyKind::Clock => "clock",
            PolicyKind::Sieve => "sieve",
            PolicyKind::S3Fifo => "s3fifo",
            PolicyKind::Arc => "arc",
        }
    }
}

impl fmt::Display for PolicyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Error for an unknown policy name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown cache policy {name:?}; valid policies: lru, fifo, clock, sieve, s3fifo (or s3-fifo), arc"
)]
pub struct UnknownPolicy {
    /// The name that was given.
    pub name: String,
}

impl FromStr for PolicyKind {
    type Err = UnknownPolicy;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let kind = match text.trim().to_ascii_lowercase().as_str() {
            "lru" => PolicyKind::Lru,
            "fifo" => PolicyKind::Fifo,
            "clock" => PolicyKind::Clock,
            "sieve" => PolicyKind::Sieve,
            "s3fifo" | "s3-fifo" => PolicyKind::S3Fifo,
            "arc" => PolicyKind::Arc,
            _ => {
                return Err(UnknownPolicy {
                    name: text.to_owned(),
                });
            }
        };
        Ok(kind)
    }
}

/// A cache of [`Entry`]s keyed by `u64`.
///
/// A request is `get`; on `None` the caller fetches the object and calls
/// `insert`. That pair reproduces one libCacheSim `get`.
pub trait Cache {
    /// A request for `key`: on a hit, updates the policy state and returns the entry.
    fn get(&mut self, key: u64) -> Option<&mut Entry>;
    /// Looks `key` up without changing any policy state.
    fn peek(&self, key: u64) -> Option<&Entry>;
    /// Admits `key` after a miss, evicting as needed. For a key that is already
    /// cached the entry is replaced in place (policy position kept) when the new
    /// size still fits; otherwise the old copy is dropped and the key is admitted
    /// like a new object. Returns false if the object was not admitted (larger
    /// than the cache, or refused by the policy's admission rule).
    fn insert(&mut self, key: u64, entry: Entry) -> bool;
    /// Drops `key` (e.g. an invalidation) and returns its entry if it was cached.
    /// Ghost history for the key (S3-FIFO, ARC) is dropped too, as in libCacheSim.
    fn remove(&mut self, key: u64) -> Option<Entry>;
    /// Number of cached objects (ghost entries not included).
    fn len(&self) -> usize;
    /// Sum of the cached objects' sizes in bytes.
    fn used_bytes(&self) -> u64;
    /// The configured capacity.
    fn capacity(&self) -> Capacity;
    /// True when nothing is cached.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Any policy, dispatched statically by `match`.
#[derive(Debug)]
pub enum AnyCache {
    /// See [`PolicyKind::Lru`].
    Lru(Lru),
    /// See [`PolicyKind::Fifo`].
    Fifo(Fifo),
    /// See [`PolicyKind::Clock`].
    Clock(Clock),
    /// See [`PolicyKind::Sieve`].
    Sieve(Sieve),
    /// See [`PolicyKind::S3Fifo`].
    S3Fifo(S3Fifo),
    /// See [`PolicyKind::Arc`].
    Arc(Arc),
}

/// Makes an empty cache of the given policy and capacity.
pub fn build(kind: PolicyKind, capacity: Capacity) -> AnyCache {
    match kind {
        PolicyKind::Lru => AnyCache::Lru(Lru::new(capacity)),
        PolicyKind::Fifo => AnyCache::Fifo(Fifo::new(capacity)),
        PolicyKind::Clock => AnyCache::Clock(Clock::new(capacity)),
        PolicyKind::Sieve => AnyCache::Sieve(Sieve::new(capacity)),
        PolicyKind::S3Fifo => AnyCache::S3Fifo(S3Fifo::new(capacity)),
        PolicyKind::Arc => AnyCache::Arc(Arc::new(capacity)),
    }
}

/// Runs `$body` with `$inner` bound to the concrete cache inside an [`AnyCache`].
macro_rules! dispatch {
    ($any:expr, $inner:ident => $body:expr) => {
        match $any {
            AnyCache::Lru($inner) => $body,
            AnyCache::Fifo($inner) => $body,
            AnyCache::Clock($inner) => $body,
            AnyCache::Sieve($inner) => $body,
            AnyCache::S3Fifo($inner) => $body,
            AnyCache::Arc($inner) => $body,
        }
    };
}
pub(crate) use dispatch;

impl AnyCache {
    /// The policy of this cache.
    pub fn kind(&self) -> PolicyKind {
        match self {
            AnyCache::Lru(_) => PolicyKind::Lru,
            AnyCache::Fifo(_) => PolicyKind::Fifo,
            AnyCache::Clock(_) => PolicyKind::Clock,
            AnyCache::Sieve(_) => PolicyKind::Sieve,
            AnyCache::S3Fifo(_) => PolicyKind::S3Fifo,
            AnyCache::Arc(_) => PolicyKind::Arc,
        }
    }

    /// Heap bytes held by the cache's metadata (slab, index and queues),
    /// including ghost entries.
    pub fn heap_bytes(&self) -> usize {
        dispatch!(self, cache => cache.heap_bytes())
    }

    /// Objects the cache tracks: resident plus ghost entries.
    pub fn tracked_objects(&self) -> usize {
        dispatch!(self, cache => cache.tracked_objects())
    }
}

impl Cache for AnyCache {
    #[inline]
    fn get(&mut self, key: u64) -> Option<&mut Entry> {
        dispatch!(self, cache => cache.get(key))
    }

    #[inline]
    fn peek(&self, key: u64) -> Option<&Entry> {
        dispatch!(self, cache => cache.peek(key))
    }

    #[inline]
    fn insert(&mut self, key: u64, entry: Entry) -> bool {
        dispatch!(self, cache => cache.insert(key, entry))
    }

    #[inline]
    fn remove(&mut self, key: u64) -> Option<Entry> {
        dispatch!(self, cache => cache.remove(key))
    }

    fn len(&self) -> usize {
        dispatch!(self, cache => cache.len())
    }

    fn used_bytes(&self) -> u64 {
        dispatch!(self, cache => cache.used_bytes())
    }

    fn capacity(&self) -> Capacity {
        dispatch!(self, cache => cache.capacity())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_names_round_trip() {
        for kind in PolicyKind::ALL {
            assert_eq!(kind.to_string().parse::<PolicyKind>(), Ok(kind));
            assert_eq!(
                serde_json::to_string(&kind).unwrap(),
                format!("\"{}\"", kind.name())
            );
        }
        assert_eq!("S3-FIFO".parse::<PolicyKind>(), Ok(PolicyKind::S3Fifo));
        assert_eq!(" Lru ".parse::<PolicyKind>(), Ok(PolicyKind::Lru));
    }

    #[test]
    fn unknown_policy_lists_valid_names() {
        let error = "lfu".parse::<PolicyKind>().unwrap_err();
        let message = error.to_string();
        assert!(message.contains("\"lfu\""), "{message}");
        for kind in PolicyKind::ALL {
            assert!(message.contains(kind.name()), "{message}");
        }
    }

    #[test]
    fn any_cache_is_send() {
        fn assert_send<T: Send>() {}
        assert_send::<AnyCache>();
    }

    #[test]
    fn build_reports_kind_and_capacity() {
        for kind in PolicyKind::ALL {
            let cache = build(kind, Capacity::Objects(5));
            assert_eq!(cache.kind(), kind);
            assert_eq!(cache.capacity(), Capacity::Objects(5));
            assert!(cache.is_empty());
        }
    }
}
