//! Deterministic synthetic request streams (Zipf popularity) for tests and benchmarks.

use crate::trace::Request;

/// SplitMix64: a tiny, fast, seedable generator; good enough for workload
/// generation and identical on every platform.
#[derive(Clone, Debug)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform float in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A Zipf(`alpha`) workload over `objects` keys with fixed per-key sizes.
///
/// Rank `r` (1-based) is requested with probability proportional to `r^-alpha`;
/// keys are scrambled so that popularity is not correlated with key order, and
/// each key has a size drawn once, log-uniformly between `min_size` and `max_size`.
#[derive(Clone, Debug)]
pub struct ZipfWorkload {
    cumulative: Vec<f64>,
    sizes: Vec<u64>,
    rng: SplitMix64,
    time: u64,
}

impl ZipfWorkload {
    /// Builds the popularity table (O(`objects`) memory).
    ///
    /// # Panics
    /// If `objects` is 0 or `min_size > max_size`.
    pub fn new(objects: usize, alpha: f64, min_size: u64, max_size: u64, seed: u64) -> Self {
        assert!(objects > 0, "a Zipf workload needs at least one object");
        assert!(min_size <= max_size, "min_size must not exceed max_size");
        let mut cumulative = Vec::with_capacity(objects);
        let mut total = 0.0;
        for rank in 1..=objects {
            total += (rank as f64).powf(-alpha);
            cumulative.push(total);
        }
        for value in &mut cumulative {
            *value /= total;
        }
        let mut rng = SplitMix64::new(seed);
        let (low, high) = ((min_size.max(1)) as f64, (max_size.max(1)) as f64);
        let sizes = (0..objects)
            .map(|_| {
                if min_size == max_size {
                    min_size
                } else {
                    let log_size = low.ln() + rng.next_f64() * (high.ln() - low.ln());
                    (log_size.exp() as u64).clamp(min_size, max_size)
                }
            })
            .collect();
        ZipfWorkload {
            cumulative,
            sizes,
            rng,
            time: 0,
        }
    }

    /// The next request; `time` counts requests.
    pub fn next_request(&mut self) -> Request {
        let draw = self.rng.next_f64();
        let rank = self
            .cumulative
            .partition_point(|&probability| probability < draw)
            .min(self.cumulative.len() - 1);
        let key = scramble(rank as u64);
        self.time += 1;
        Request {
            time: self.time,
            key,
            size: self.sizes[rank],
        }
    }

    /// `count` requests.
    pub fn take_requests(&mut self, count: usize) -> Vec<Request> {
        (0..count).map(|_| self.next_request()).collect()
    }
}

/// A bijective scramble of ranks into keys.
fn scramble(rank: u64) -> u64 {
    let mut z = rank.wrapping_add(0x632B_E59B_D9B4_E019);
    z = (z ^ (z >> 33)).wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    z ^ (z >> 33)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_skewed() {
        let first = ZipfWorkload::new(1000, 1.0, 100, 10_000, 7).take_requests(10_000);
        let second = ZipfWorkload::new(1000, 1.0, 100, 10_000, 7).take_requests(10_000);
        assert_eq!(first, second);
        let top = scramble(0);
        let top_count = first.iter().filter(|r| r.key == top).count();
        // Rank 1 of Zipf(1) over 1000 keys has probability 1/H(1000) ~ 13%.
        assert!((1000..1700).contains(&top_count), "{top_count}");
        assert!(first.iter().all(|r| (100..=10_000).contains(&r.size)));
        let same_key_sizes: Vec<u64> = first
            .iter()
            .filter(|r| r.key == top)
            .map(|r| r.size)
            .collect();
        assert!(same_key_sizes.windows(2).all(|w| w[0] == w[1]));
    }
}
