//! The account's Lambda@Edge quotas in one region: concurrent executions
//! and invocations per second, shared by every function of every behaviour
//! (see `edgesim_model::lambda`). Each function's own warm pool (and its
//! reserved concurrency) lives with the function; this is the account-wide
//! ceiling above them.
//!
//! The engine serves a request from its arrival to its answer before the
//! next arrival, so a request's origin-facing stages are invoked at times
//! later than the next request's arrival. The quotas therefore age their
//! bookkeeping by the arrival time of the current request (which never
//! goes back): an execution counts as running until the arrival of the first
//! request after its end, and an invocation counts towards the rate until
//! the first arrival one second after it started. Both err towards
//! throttling slightly early, never late.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use edgesim_model::lambda::LambdaQuotas;

use crate::metrics::LambdaEpoch;

/// Why an invocation was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Throttle {
    /// The region's concurrent executions are at the limit.
    Concurrency,
    /// The region started its limit of invocations in the last second.
    Rate,
}

impl Throttle {
    /// The message Lambda's error carries.
    pub(super) fn message(self) -> &'static str {
        match self {
            Throttle::Concurrency => {
                "Rate exceeded: the account's concurrent executions in this region are at the limit"
            }
            Throttle::Rate => {
                "Rate exceeded: the account's requests per second in this region are at the limit"
            }
        }
    }
}

/// One region's running executions and recent invocations.
#[derive(Debug)]
pub(super) struct RegionQuotas {
    concurrency_limit: usize,
    rate_limit: usize,
    /// End times of executions that may still run.
    running: BinaryHeap<Reverse<u64>>,
    /// Start times of invocations in the last second, in call order.
    started: VecDeque<u64>,
    /// The arrival time the bookkeeping has been aged to.
    watermark_us: u64,
    /// Refusals this epoch, by reason.
    throttled_concurrency: u64,
    throttled_rate: u64,
    /// Most executions seen running at once this epoch.
    peak_concurrency: usize,
}

impl RegionQuotas {
    pub(super) fn new(quotas: LambdaQuotas) -> Self {
        RegionQuotas {
            concurrency_limit: quotas.concurrency_limit as usize,
            // "10,000 requests per second": at most that many starts in any
            // one-second window (a fractional limit rounds down, but never
            // below one).
            rate_limit: (quotas.rate_limit_rps.floor() as usize).max(1),
            running: BinaryHeap::new(),
            started: VecDeque::new(),
            watermark_us: 0,
            throttled_concurrency: 0,
            throttled_rate: 0,
            peak_concurrency: 0,
        }
    }

    /// Ages the bookkeeping to a request arriving at `arrival_us`.
    pub(super) fn arrive(&mut self, arrival_us: u64) {
        if arrival_us <= self.watermark_us {
            return;
        }
        self.watermark_us = arrival_us;
        while let Some(&Reverse(end)) = self.running.peek() {
            if end > arrival_us {
                break;
            }
            self.running.pop();
        }
        let window_start = arrival_us.saturating_sub(1_000_000);
        while let Some(&start) = self.started.front() {
            if start > window_start {
                break;
            }
            self.started.pop_front();
        }
    }

    /// Asks to start an invocation at `now_us`; on success it counts
    /// towards the rate and must be followed by [`RegionQuotas::finish`].
    pub(super) fn admit(&mut self, now_us: u64) -> Result<(), Throttle> {
        if self.running.len() >= self.concurrency_limit {
            self.throttled_concurrency += 1;
            return Err(Throttle::Concurrency);
        }
        if self.started.len() >= self.rate_limit {
            self.throttled_rate += 1;
            return Err(Throttle::Rate);
        }
        self.started.push_back(now_us);
        Ok(())
    }

    /// The epoch's peak and refusals, restarting the count.
    pub(super) fn take_epoch(&mut self) -> LambdaEpoch {
        let out = LambdaEpoch {
            peak_concurrency: self.peak_concurrency as u64,
            throttled_concurrency: self.throttled_concurrency,
            throttled_rate: self.throttled_rate,
        };
        self.throttled_concurrency = 0;
        self.throttled_rate = 0;
        self.peak_concurrency = 0;
        out
    }

    /// The admitted invocation started at `now_us` ran for `duration_us`.
    pub(super) fn finish(&mut self, now_us: u64, duration_us: u64) {
        self.running.push(Reverse(now_us + duration_us.max(1)));
        self.peak_concurrency = self.peak_concurrency.max(self.running.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quotas(concurrency_limit: u32, rate_limit_rps: f64) -> RegionQuotas {
        RegionQuotas::new(LambdaQuotas {
            concurrency_limit,
            rate_limit_rps,
        })
    }

    #[test]
    fn concurrency_is_refused_while_executions_run_and_freed_when_they_end() {
        let mut q = quotas(2, 1e9);
        q.arrive(10);
        for _ in 0..2 {
            q.admit(10).unwrap();
            q.finish(10, 100);
        }
        assert_eq!(q.admit(10), Err(Throttle::Concurrency));
        q.arrive(109);
        assert_eq!(q.admit(109), Err(Throttle::Concurrency));
        q.arrive(110);
        assert_eq!(q.admit(110), Ok(()));
        assert_eq!(q.throttled_concurrency, 2);
        assert_eq!(q.peak_concurrency, 2);
    }

    #[test]
    fn the_rate_counts_starts_in_the_last_second() {
        let mut q = quotas(1_000_000, 3.7);
        q.arrive(1);
        for t in [1, 2, 3] {
            q.admit(t).unwrap();
            q.finish(t, 1);
        }
        assert_eq!(q.admit(4), Err(Throttle::Rate));
        // One second after the first start it leaves the window.
        q.arrive(1_000_001);
        assert_eq!(q.admit(1_000_001), Ok(()));
        assert_eq!(q.admit(1_000_001), Err(Throttle::Rate));
        assert_eq!(q.throttled_rate, 2);
    }

    #[test]
    fn a_steady_load_over_the_rate_is_throttled_to_the_rate() {
        // 15,000 invocations/s of 1 ms against the default 10,000/s: two
        // thirds get through, every second.
        let mut q = RegionQuotas::new(LambdaQuotas::default());
        let mut admitted = 0u64;
        for i in 0..45_000u64 {
            let t = i * 1_000_000 / 15_000;
            q.arrive(t);
            if q.admit(t).is_ok() {
                q.finish(t, 1_000);
                admitted += 1;
            }
        }
        // (Arrival times are whole microseconds: a window can hold one more.)
        assert!(admitted.abs_diff(30_000) <= 3, "{admitted}");
        assert_eq!(q.throttled_rate, 45_000 - admitted);
        assert_eq!(q.throttled_concurrency, 0);
        assert!(q.peak_concurrency <= 20, "{}", q.peak_concurrency);
    }
}
