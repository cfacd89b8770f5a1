//! The Origin Shield tier in reports: counters folded from the regions'
//! shield accesses (see `edgesim_sim::shield`) and the summary's
//! per-shield entries.

use edgesim_sim::shield::{ShieldAccess, ShieldAccessKind};
use serde::{Deserialize, Serialize};

/// Requests to an Origin Shield and what became of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ShieldCounters {
    /// Requests regional edge caches (or PoPs without one) sent to it.
    pub requests: u64,
    /// Of those, answered from its cache.
    pub hits: u64,
    /// Of those, collapsed onto a fetch already in flight from it.
    pub collapsed: u64,
    /// Of those, sent on to the origin (misses and revalidations).
    pub misses: u64,
    /// Bytes it answered from its cache (hits and collapsed).
    pub bytes_served: u64,
    /// Bytes of the origin's answers it stored.
    pub bytes_stored: u64,
}

impl ShieldCounters {
    /// Counts one access.
    pub fn count(&mut self, a: &ShieldAccess) {
        match a.kind {
            ShieldAccessKind::Hit => {
                self.requests += 1;
                self.hits += 1;
                self.bytes_served += a.size;
            }
            ShieldAccessKind::Collapsed => {
                self.requests += 1;
                self.collapsed += 1;
                self.bytes_served += a.size;
            }
            ShieldAccessKind::Miss => {
                self.requests += 1;
                self.misses += 1;
            }
            ShieldAccessKind::Store => self.bytes_stored += a.size,
        }
    }

    /// Adds `other`.
    pub fn add(&mut self, other: &ShieldCounters) {
        self.requests += other.requests;
        self.hits += other.hits;
        self.collapsed += other.collapsed;
        self.misses += other.misses;
        self.bytes_served += other.bytes_served;
        self.bytes_stored += other.bytes_stored;
    }

    /// hits / requests (0 without requests).
    pub fn hit_ratio(&self) -> f64 {
        ratio(self.hits, self.requests)
    }

    /// 1 - misses / requests: the share of the requests it kept from the
    /// origin (0 without requests).
    pub fn offload_requests(&self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            1.0 - ratio(self.misses, self.requests)
        }
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// One origin's Origin Shield over the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShieldSummary {
    /// The origin it shields.
    pub origin: String,
    /// The AWS region it is in.
    pub region: String,
    /// Capacity, bytes.
    pub cache_bytes: u64,
    /// Requests regional edge caches (or PoPs without one) sent to it.
    pub requests: u64,
    /// Of those, answered from its cache.
    pub hits: u64,
    /// Of those, collapsed onto a fetch of the same region in flight.
    pub collapsed: u64,
    /// Of those, sent on to the origin (misses and revalidations).
    pub misses: u64,
    /// hits / requests.
    pub hit_ratio: f64,
    /// 1 - misses / requests.
    pub offload_requests: f64,
    /// Bytes answered from its cache.
    pub bytes_served: u64,
    /// Bytes of the origin's answers it stored.
    pub bytes_stored: u64,
    /// Requests per epoch (aligned with `timeseries`).
    pub requests_per_epoch: Vec<u64>,
    /// Hits per epoch (aligned with `timeseries`).
    pub hits_per_epoch: Vec<u64>,
}

impl ShieldSummary {
    /// The summary of `counters` for `origin`'s shield.
    pub fn of(
        origin: &edgesim_model::Origin,
        counters: &ShieldCounters,
        per_epoch: &[ShieldCounters],
    ) -> Option<ShieldSummary> {
        let shield = origin.shield.as_ref()?;
        Some(ShieldSummary {
            origin: origin.id.clone(),
            region: shield.region.clone(),
            cache_bytes: shield.cache_bytes,
            requests: counters.requests,
            hits: counters.hits,
            collapsed: counters.collapsed,
            misses: counters.misses,
            hit_ratio: counters.hit_ratio(),
            offload_requests: counters.offload_requests(),
            bytes_served: counters.bytes_served,
            bytes_stored: counters.bytes_stored,
            requests_per_epoch: per_epoch.iter().map(|c| c.requests).collect(),
            hits_per_epoch: per_epoch.iter().map(|c| c.hits).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_requests_by_outcome_and_stores_apart() {
        let mut c = ShieldCounters::default();
        for (kind, size) in [
            (ShieldAccessKind::Hit, 10),
            (ShieldAccessKind::Collapsed, 10),
            (ShieldAccessKind::Miss, 0),
            (ShieldAccessKind::Store, 30),
            (ShieldAccessKind::Miss, 0),
        ] {
            c.count(&ShieldAccess {
                kind,
                size,
                ..ShieldAccess::default()
            });
        }
        assert_eq!((c.requests, c.hits, c.collapsed, c.misses), (4, 1, 1, 2));
        assert_eq!((c.bytes_served, c.bytes_stored), (20, 30));
        assert!((c.hit_ratio() - 0.25).abs() < 1e-12);
        assert!((c.offload_requests() - 0.5).abs() < 1e-12);
    }
}
