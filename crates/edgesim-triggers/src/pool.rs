//! Lambda's execution environments in simulated time: warm pools per region, cold starts,
//! idle expiry, concurrency throttling and Lambda's concurrency scaling rate.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, VecDeque};

use serde::{Deserialize, Serialize};

use crate::headers::Str;
use crate::stage::Stage;

/// How a function is provisioned and what running it costs in simulated time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutionModel {
    /// Memory size; viewer stages are fixed at 128 MB.
    pub memory_mb: u32,
    /// Run-time limit.
    pub timeout_ms: u64,
    /// Extra latency when a new execution environment starts.
    pub cold_start_us: u64,
    /// An environment unused this long is reclaimed.
    pub idle_timeout_us: u64,
    /// Environments that may run at once in one region; beyond that, throttling.
    pub max_concurrency: u32,
    /// Fixed cost of every invocation (Lambda's invoke path and the runtime's own work).
    pub overhead_us: u64,
}

impl ExecutionModel {
    /// Lambda@Edge defaults for `stage`: 128 MB, the stage's timeout, a Node.js-like cold start
    /// of 150 ms, 10 min idle expiry, 1,000 concurrent executions, 1 ms per invocation.
    pub fn lambda_defaults(stage: Stage) -> Self {
        ExecutionModel {
            memory_mb: stage.default_memory_mb(),
            timeout_ms: stage.max_timeout_ms(),
            cold_start_us: 150_000,
            idle_timeout_us: 600_000_000,
            max_concurrency: 1_000,
            overhead_us: 1_000,
        }
    }
}

/// Lambda's concurrency scaling rate, per function and region: "1,000 execution environment
/// instances every 10 seconds", refilled continuously rather than once per 10 s, and never
/// banked beyond 1,000 (AWS Lambda Developer Guide, "Lambda scaling behavior",
/// <https://docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html>). A function that has
/// scaled to its limit throttles the invocations that would need a new environment.
pub const SCALING_BURST_ENVIRONMENTS: f64 = 1_000.0;

/// How fast the scaling allowance refills, environments per second (1,000 per 10 s).
pub const SCALING_ENVIRONMENTS_PER_SEC: f64 = 100.0;

/// What [`WarmPool::acquire`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// A warm environment.
    Warm,
    /// A newly started environment: pay the cold start.
    Cold,
    /// Every environment is busy and the concurrency limit is reached.
    Throttled,
    /// Every environment is busy and the function may not add one yet: it is scaling up as
    /// fast as Lambda lets it ([`SCALING_ENVIRONMENTS_PER_SEC`]).
    ScalingThrottled,
}

impl Slot {
    /// For a refused invocation, the message of Lambda's throttling error.
    pub fn throttle_message(self) -> Option<&'static str> {
        match self {
            Slot::Warm | Slot::Cold => None,
            Slot::Throttled => Some("Rate exceeded: concurrent executions at the limit"),
            Slot::ScalingThrottled => Some(
                "Rate exceeded: the function is scaling up at Lambda's scaling rate (1,000 environments per 10 s)",
            ),
        }
    }
}

/// Counters a pool keeps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PoolStats {
    /// Invocations that found a warm environment.
    pub warm_starts: u64,
    /// Invocations that started an environment.
    pub cold_starts: u64,
    /// Invocations refused for concurrency (at the limit, or scaling up: both included).
    pub throttles: u64,
    /// Of those, refused because the function could not add an environment that fast.
    pub scaling_throttles: u64,
    /// Environments reclaimed after idling.
    pub expired: u64,
}

/// One region's environments: idle ones by the time they became idle (oldest first), busy ones
/// by the time they finish.
#[derive(Debug, Clone, Default)]
struct RegionPool {
    idle_since_us: VecDeque<u64>,
    busy_until_us: BinaryHeap<Reverse<u64>>,
    /// Environments started recently that the scaling allowance has not yet refilled (at most
    /// [`SCALING_BURST_ENVIRONMENTS`]), as of `scaling_at_us`.
    scaling_used: f64,
    scaling_at_us: u64,
}

/// Execution environments of one function, per region, in simulated time.
///
/// Environments are bookkeeping only: one engine instance serves them all (so module-level
/// state is shared across a region's environments, as if one environment stayed warm).
/// Every operation is O(log n) in the number of environments.
#[derive(Debug, Clone, Default)]
pub struct WarmPool {
    regions: BTreeMap<Str, RegionPool>,
    stats: PoolStats,
}

impl WarmPool {
    /// An empty pool: the first invocation in each region is cold.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counters so far.
    pub fn stats(&self) -> PoolStats {
        self.stats
    }

    /// Environments alive in `region` (idle or busy).
    pub fn environments(&self, region: &str) -> usize {
        self.regions
            .get(region)
            .map_or(0, |r| r.idle_since_us.len() + r.busy_until_us.len())
    }

    /// Find an environment for an invocation starting at `now_us`.
    ///
    /// Calls must come in non-decreasing `now_us` per region, as a discrete-event simulation
    /// makes them. Every acquired slot that is not refused must be passed to
    /// [`WarmPool::release`].
    pub fn acquire(&mut self, region: &str, now_us: u64, model: &ExecutionModel) -> Slot {
        let pool = match self.regions.get_mut(region) {
            Some(pool) => pool,
            None => self.regions.entry(Str::from(region)).or_default(),
        };
        while let Some(&Reverse(until)) = pool.busy_until_us.peek() {
            if until > now_us {
                break;
            }
            pool.busy_until_us.pop();
            pool.idle_since_us.push_back(until);
        }
        while let Some(&since) = pool.idle_since_us.front() {
            if now_us.saturating_sub(since) < model.idle_timeout_us {
                break;
            }
            pool.idle_since_us.pop_front();
            self.stats.expired += 1;
        }
        // Lambda reuses the most recently used idle environment.
        if pool.idle_since_us.pop_back().is_some() {
            self.stats.warm_starts += 1;
            return Slot::Warm;
        }
        if pool.busy_until_us.len() >= model.max_concurrency as usize {
            self.stats.throttles += 1;
            return Slot::Throttled;
        }
        let refilled =
            now_us.saturating_sub(pool.scaling_at_us) as f64 / 1e6 * SCALING_ENVIRONMENTS_PER_SEC;
        pool.scaling_used = (pool.scaling_used - refilled).max(0.0);
        pool.scaling_at_us = pool.scaling_at_us.max(now_us);
        if pool.scaling_used + 1.0 > SCALING_BURST_ENVIRONMENTS {
            self.stats.throttles += 1;
            self.stats.scaling_throttles += 1;
            return Slot::ScalingThrottled;
        }
        pool.scaling_used += 1.0;
        self.stats.cold_starts += 1;
        Slot::Cold
    }

    /// The environment runs until `now_us + duration_us`; with `keep` false it is discarded
    /// afterwards (Lambda restarts the runtime after a timeout or running out of memory).
    pub fn release(&mut self, region: &str, slot: Slot, now_us: u64, duration_us: u64, keep: bool) {
        if slot.throttle_message().is_some() || !keep {
            return;
        }
        if let Some(pool) = self.regions.get_mut(region) {
            pool.busy_until_us.push(Reverse(now_us + duration_us));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> ExecutionModel {
        ExecutionModel {
            max_concurrency: 2,
            idle_timeout_us: 1_000,
            ..ExecutionModel::lambda_defaults(Stage::ViewerRequest)
        }
    }

    #[test]
    fn first_call_is_cold_then_warm() {
        let mut pool = WarmPool::new();
        let m = model();
        assert_eq!(pool.acquire("eu", 0, &m), Slot::Cold);
        pool.release("eu", Slot::Cold, 0, 10, true);
        assert_eq!(pool.acquire("eu", 20, &m), Slot::Warm);
        // Another region has its own pool.
        assert_eq!(pool.acquire("us", 20, &m), Slot::Cold);
    }

    #[test]
    fn concurrent_calls_start_more_environments_then_throttle() {
        let mut pool = WarmPool::new();
        let m = model();
        assert_eq!(pool.acquire("eu", 0, &m), Slot::Cold);
        pool.release("eu", Slot::Cold, 0, 100, true);
        assert_eq!(pool.acquire("eu", 10, &m), Slot::Cold);
        pool.release("eu", Slot::Cold, 10, 100, true);
        assert_eq!(pool.acquire("eu", 20, &m), Slot::Throttled);
        assert_eq!(pool.stats().throttles, 1);
        assert_eq!(pool.environments("eu"), 2);
        assert_eq!(pool.acquire("eu", 200, &m), Slot::Warm);
    }

    #[test]
    fn a_function_scales_by_1000_environments_at_once_then_100_per_second() {
        let mut pool = WarmPool::new();
        let m = ExecutionModel {
            max_concurrency: 10_000,
            ..ExecutionModel::lambda_defaults(Stage::OriginRequest)
        };
        // Invocations that all overlap (each runs 100 s): every one needs a new environment.
        let started = |pool: &mut WarmPool, at_us: u64| {
            let slot = pool.acquire("eu", at_us, &m);
            pool.release("eu", slot, at_us, 100_000_000, true);
            slot
        };
        for i in 0..1_000 {
            assert_eq!(started(&mut pool, i), Slot::Cold, "invocation {i}");
        }
        assert_eq!(started(&mut pool, 1_000), Slot::ScalingThrottled);
        // One second later the allowance has refilled by 100, no more.
        let cold = (0..150)
            .filter(|&i| started(&mut pool, 1_001_000 + i) == Slot::Cold)
            .count();
        assert_eq!(cold, 100);
        assert_eq!(pool.environments("eu"), 1_100);
        let stats = pool.stats();
        assert_eq!((stats.throttles, stats.scaling_throttles), (51, 51));
        // Unused allowance is not banked beyond 1,000: after an idle minute, 1,000 again.
        let cold = (0..1_500)
            .filter(|&i| started(&mut pool, 70_000_000 + i) == Slot::Cold)
            .count();
        assert_eq!(cold, 1_000);
        // Another region scales on its own.
        assert_eq!(pool.acquire("us", 70_000_000, &m), Slot::Cold);
    }

    #[test]
    fn idle_environments_expire() {
        let mut pool = WarmPool::new();
        let m = model();
        let slot = pool.acquire("eu", 0, &m);
        pool.release("eu", slot, 0, 10, true);
        assert_eq!(pool.acquire("eu", 5_000, &m), Slot::Cold);
        assert_eq!(pool.stats().expired, 1);
    }

    #[test]
    fn discarded_environment_makes_the_next_call_cold() {
        let mut pool = WarmPool::new();
        let m = model();
        let slot = pool.acquire("eu", 0, &m);
        pool.release("eu", slot, 0, 10, false);
        assert_eq!(pool.acquire("eu", 20, &m), Slot::Cold);
    }
}
