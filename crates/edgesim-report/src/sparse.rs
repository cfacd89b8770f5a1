//! Latency histograms as regions ship them (HdrHistogram V2), decoded to
//! their non-zero buckets only. Adding one to a run total then costs what
//! it holds instead of a full bucket array (17,408 buckets at edgesim's
//! bounds) plus an allocation, which is what dominates folding an epoch of
//! hundreds of PoPs and routes.
//!
//! The V2 layout (big-endian): cookie `0x1c849313` (u32), payload length
//! (u32), normalizing index offset (u32, 0), significant digits (u32),
//! lowest discernible value (u64), highest trackable value (u64), integer
//! to double ratio (f64, 1.0), then the counts by bucket index as
//! zig-zag LEB128 numbers (at most 9 bytes, the 9th taken whole): a
//! positive number is the next bucket's count, a negative one skips that
//! many empty buckets. Anything else (another cookie, other bounds) goes
//! through hdrhistogram's own decoder.

use edgesim_sim::LatencyHistogram;
use edgesim_sim::metrics::{LATENCY_MAX_US, LATENCY_SIGFIG, decode_histogram};

const V2_COOKIE: u32 = 0x1c84_9313;
const HEADER_LEN: usize = 40;

/// The non-zero buckets of a latency histogram.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SparseHistogram {
    /// (lowest value of the bucket, count), ascending.
    buckets: Vec<(u64, u64)>,
}

/// log2 of half the sub-buckets per bucket for `sigfig` significant
/// digits, as HdrHistogram lays them out (lowest discernible value 1).
fn half_sub_bucket_magnitude(sigfig: u8) -> u32 {
    let single_unit_resolution = 2 * 10u64.pow(u32::from(sigfig));
    // ceil(log2(x)) - 1
    64 - (single_unit_resolution - 1).leading_zeros() - 1
}

/// The lowest value that falls in bucket `index` (lowest discernible
/// value 1); `None` past the range of u64.
fn lowest_value_of(index: usize, half_magnitude: u32) -> Option<u64> {
    let half = 1u64 << half_magnitude;
    let index = index as u64;
    let bucket = index >> half_magnitude;
    let sub = (index & (half - 1)) + half;
    if bucket == 0 {
        Some(sub - half)
    } else {
        let shift = u32::try_from(bucket - 1).ok().filter(|&s| s < 64)?;
        sub.checked_mul(1u64 << shift)
    }
}

fn be_u32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn be_u64(b: &[u8], at: usize) -> u64 {
    u64::from_be_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// One LEB128-64b9B number from the front of `bytes`, and its length.
fn read_varint(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, &b) in bytes.iter().enumerate().take(9) {
        if i == 8 {
            return Some((value | u64::from(b) << 56, 9));
        }
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

impl SparseHistogram {
    /// Decodes a V2 histogram (or anything hdrhistogram's decoder reads);
    /// the error says what is wrong with the bytes.
    pub fn decode(bytes: &[u8]) -> Result<SparseHistogram, String> {
        let ours = bytes.len() >= HEADER_LEN
            && be_u32(bytes, 0) == V2_COOKIE
            && be_u32(bytes, 8) == 0
            && be_u32(bytes, 12) == u32::from(LATENCY_SIGFIG)
            && be_u64(bytes, 16) == 1
            && be_u64(bytes, 24) == LATENCY_MAX_US
            && f64::from_be_bytes(bytes[32..40].try_into().expect("8 bytes")) == 1.0;
        if !ours {
            return Self::decode_generic(bytes);
        }
        let payload_len = be_u32(bytes, 4) as usize;
        let payload = bytes
            .get(HEADER_LEN..HEADER_LEN.saturating_add(payload_len))
            .ok_or_else(|| {
                format!(
                    "bad latency histogram: payload of {payload_len} bytes, {} present",
                    bytes.len() - HEADER_LEN
                )
            })?;
        let half_magnitude = half_sub_bucket_magnitude(LATENCY_SIGFIG);
        // Each number ends in a byte without the high bit: an upper bound
        // on the buckets, so the list is allocated once.
        let numbers = payload.iter().filter(|&&b| b & 0x80 == 0).count();
        let mut buckets = Vec::with_capacity(numbers);
        let (mut at, mut index) = (0usize, 0usize);
        while at < payload.len() {
            let (raw, used) = read_varint(&payload[at..])
                .ok_or_else(|| "bad latency histogram: truncated count".to_owned())?;
            at += used;
            // Zig-zag: even numbers are >= 0, odd ones negative.
            let skip_or_count = (raw >> 1) as i64 ^ -((raw & 1) as i64);
            if skip_or_count < 0 {
                index = index.saturating_add(skip_or_count.unsigned_abs() as usize);
                continue;
            }
            if skip_or_count > 0 {
                let value = lowest_value_of(index, half_magnitude)
                    .filter(|&v| v <= LATENCY_MAX_US)
                    .ok_or_else(|| format!("bad latency histogram: bucket {index} out of range"))?;
                buckets.push((value, skip_or_count as u64));
            }
            index += 1;
        }
        Ok(SparseHistogram { buckets })
    }

    /// Any histogram hdrhistogram reads, via a full decode.
    fn decode_generic(bytes: &[u8]) -> Result<SparseHistogram, String> {
        let h = decode_histogram(bytes)?;
        Ok(SparseHistogram {
            buckets: h
                .iter_recorded()
                .map(|v| (v.value_iterated_to(), v.count_at_value()))
                .collect(),
        })
    }

    /// Requests recorded.
    pub fn len(&self) -> u64 {
        self.buckets.iter().map(|b| b.1).sum()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    /// Adds every count into `into` (edgesim's bounds, so values fit).
    pub fn add_to(&self, into: &mut LatencyHistogram) {
        for &(value, count) in &self.buckets {
            into.saturating_record_n(value, count);
        }
    }

    /// Adds every count of `other` into this one (buckets stay ascending).
    pub fn merge(&mut self, other: &SparseHistogram) {
        if other.buckets.is_empty() {
            return;
        }
        if self.buckets.is_empty() {
            self.buckets.clone_from(&other.buckets);
            return;
        }
        let mut merged = Vec::with_capacity(self.buckets.len() + other.buckets.len());
        let (mut a, mut b) = (
            self.buckets.iter().peekable(),
            other.buckets.iter().peekable(),
        );
        loop {
            let next = match (a.peek(), b.peek()) {
                (Some(&&x), Some(&&y)) => {
                    if x.0 < y.0 {
                        a.next();
                        x
                    } else if y.0 < x.0 {
                        b.next();
                        y
                    } else {
                        a.next();
                        b.next();
                        (x.0, x.1 + y.1)
                    }
                }
                (Some(&&x), None) => {
                    a.next();
                    x
                }
                (None, Some(&&y)) => {
                    b.next();
                    y
                }
                (None, None) => break,
            };
            merged.push(next);
        }
        self.buckets = merged;
    }

    /// The values at `quantiles` (ascending, each in 0..=1), µs, exactly
    /// as [`LatencyHistogram::value_at_quantile`] gives them for the same
    /// counts (the highest value equivalent to the bucket reached; the
    /// lowest for quantile 0); all 0 when empty. `shape` is any histogram
    /// with edgesim's latency bounds (only its bucket layout is used).
    pub fn values_at_quantiles<const N: usize>(
        &self,
        quantiles: [f64; N],
        shape: &LatencyHistogram,
    ) -> [u64; N] {
        let total = self.len();
        let mut out = [0u64; N];
        if total == 0 {
            return out;
        }
        let mut buckets = self.buckets.iter();
        let (mut seen, mut at) = (0u64, 0u64);
        for (slot, &q) in out.iter_mut().zip(&quantiles) {
            let target = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).max(1);
            while seen < target {
                let Some(&(value, count)) = buckets.next() else {
                    break;
                };
                seen += count;
                at = value;
            }
            *slot = if q == 0.0 {
                shape.lowest_equivalent(at)
            } else {
                shape.highest_equivalent(at)
            };
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgesim_sim::metrics::{encode_histogram, new_latency_histogram, record_latency};
    use hdrhistogram::serialization::{Serializer, V2DeflateSerializer};

    #[test]
    fn bucket_layout_matches_hdrhistogram() {
        let h = new_latency_histogram();
        let half = half_sub_bucket_magnitude(LATENCY_SIGFIG);
        assert_eq!(half, 10);
        let mut previous: Option<u64> = None;
        for index in 0.. {
            let v = lowest_value_of(index, half).unwrap();
            if v > LATENCY_MAX_US {
                break;
            }
            assert_eq!(h.lowest_equivalent(v), v, "bucket {index} starts at {v}");
            if let Some(p) = previous {
                assert_eq!(h.highest_equivalent(p) + 1, v, "bucket {index} follows");
            }
            previous = Some(v);
        }
        assert!(lowest_value_of(usize::MAX, half).is_none());
    }

    fn sample(seed: u64, n: u64) -> LatencyHistogram {
        let mut h = new_latency_histogram();
        let mut x = seed;
        for _ in 0..n {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            // Log-uniform over 1 µs .. ~70 s, so clamped values occur too.
            let exp = (x >> 58) as u32 % 27;
            record_latency(&mut h, 1 + (x >> 20) % (1u64 << exp));
        }
        h
    }

    #[test]
    fn adds_exactly_what_the_full_decoder_adds() {
        for (seed, n) in [(1, 0), (2, 1), (3, 17), (4, 5_000), (5, 100_000)] {
            let h = sample(seed, n);
            let bytes = encode_histogram(&h);
            let sparse = SparseHistogram::decode(&bytes).unwrap();
            assert_eq!(sparse.len(), n);
            let mut fast = new_latency_histogram();
            sparse.add_to(&mut fast);
            sparse.add_to(&mut fast);
            let mut full = new_latency_histogram();
            let decoded = decode_histogram(&bytes).unwrap();
            full.add(&decoded).unwrap();
            full.add(&decoded).unwrap();
            assert_eq!(fast, full, "seed {seed}");
            assert_eq!(fast.max(), full.max());
            assert_eq!(fast.len(), 2 * n);
        }
        // The compressed form takes the generic path to the same result.
        let h = sample(6, 1_000);
        let mut deflated = Vec::new();
        V2DeflateSerializer::new()
            .serialize(&h, &mut deflated)
            .unwrap();
        let mut via_generic = new_latency_histogram();
        SparseHistogram::decode(&deflated)
            .unwrap()
            .add_to(&mut via_generic);
        assert_eq!(via_generic, h);
    }

    #[test]
    fn quantiles_and_merges_match_hdrhistogram() {
        let shape = new_latency_histogram();
        let qs = [0.0, 0.5, 0.9, 0.99, 0.999, 1.0];
        for (a, b) in [(1, 2), (3, 4), (5, 6)] {
            let (ha, hb) = (sample(a, 3_000), sample(b, 500 * a));
            let mut sparse = SparseHistogram::decode(&encode_histogram(&ha)).unwrap();
            let got = sparse.values_at_quantiles(qs, &shape);
            for (q, v) in qs.iter().zip(got) {
                assert_eq!(v, ha.value_at_quantile(*q), "q {q}");
            }
            sparse.merge(&SparseHistogram::decode(&encode_histogram(&hb)).unwrap());
            let mut both = ha.clone();
            both.add(&hb).unwrap();
            assert_eq!(sparse.len(), both.len());
            let got = sparse.values_at_quantiles(qs, &shape);
            for (q, v) in qs.iter().zip(got) {
                assert_eq!(v, both.value_at_quantile(*q), "merged, q {q}");
            }
        }
        assert_eq!(
            SparseHistogram::default().values_at_quantiles([0.5], &shape),
            [0]
        );
    }

    #[test]
    fn rejects_damaged_bytes() {
        let bytes = encode_histogram(&sample(7, 1_000));
        assert!(SparseHistogram::decode(b"garbage").is_err());
        assert!(SparseHistogram::decode(&bytes[..bytes.len() - 3]).is_err());
        let mut far = bytes[..HEADER_LEN].to_vec();
        // Skip 40,000 empty buckets, then count one: past 60 s.
        far.extend_from_slice(&[0xff, 0xf0, 0x04, 0x02]);
        far[4..8].copy_from_slice(&4u32.to_be_bytes());
        let e = SparseHistogram::decode(&far).unwrap_err();
        assert!(e.contains("out of range"), "{e}");
        let mut cut = bytes[..HEADER_LEN].to_vec();
        cut.push(0x80);
        cut[4..8].copy_from_slice(&1u32.to_be_bytes());
        assert!(
            SparseHistogram::decode(&cut)
                .unwrap_err()
                .contains("truncated")
        );
    }
}
