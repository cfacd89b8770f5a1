//! Round-trip times: great-circle distance stretched by path inflation,
//! plus last mile and jitter, never below the physical floor.

use edgesim_model::geo::{LatLon, rtt_floor_us};
use edgesim_model::{Device, Network};
use rand::Rng;

/// A precomputed path between two points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Path {
    /// Light-in-fibre round trip along the great circle, µs.
    pub floor_us: f64,
    /// Typical round trip without last mile and jitter, µs.
    pub base_us: f64,
}

impl Path {
    /// The path between `a` and `b` under `net`.
    pub fn between(net: &Network, a: LatLon, b: LatLon) -> Path {
        let floor_us = rtt_floor_us(a.distance_km(b), net.fibre_km_per_ms);
        Path {
            floor_us,
            base_us: floor_us * net.path_inflation,
        }
    }
}

/// Draws one round trip over `path` for `device` (None: data-centre to
/// data-centre, no last mile), in µs.
#[inline]
pub fn sample_rtt_us<R: Rng + ?Sized>(
    net: &Network,
    path: &Path,
    device: Option<Device>,
    rng: &mut R,
) -> f64 {
    let last_mile = device.map_or(0.0, |d| net.last_mile_ms[d as usize] * 1000.0);
    let jitter = if net.jitter_ms > 0.0 {
        // Exponential by inversion; 1 - u avoids ln(0).
        -(1.0 - rng.random::<f64>()).ln() * net.jitter_ms * 1000.0
    } else {
        0.0
    };
    (path.base_us + last_mile + jitter).max(path.floor_us)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand_pcg::Pcg64Mcg;

    proptest! {
        #[test]
        fn rtt_never_beats_light(lat1 in -90.0..90.0f64, lon1 in -180.0..180.0f64,
                                 lat2 in -90.0..90.0f64, lon2 in -180.0..180.0f64,
                                 inflation in 1.0..2.0f64, seed in any::<u64>()) {
            let net = Network { path_inflation: inflation, ..Network::default() };
            let a = LatLon { lat: lat1, lon: lon1 };
            let b = LatLon { lat: lat2, lon: lon2 };
            let path = Path::between(&net, a, b);
            let mut rng = Pcg64Mcg::seed_from_u64(seed);
            let rtt = sample_rtt_us(&net, &path, Some(Device::Desktop), &mut rng);
            prop_assert!(rtt >= path.floor_us);
            prop_assert!(rtt >= 2.0 * a.distance_km(b) / 200.0 * 1000.0 - 1e-6);
        }
    }

    #[test]
    fn mobile_is_slower_than_desktop_on_average() {
        let net = Network::default();
        let path = Path::between(
            &net,
            LatLon {
                lat: 50.0,
                lon: 8.0,
            },
            LatLon {
                lat: 52.0,
                lon: 13.0,
            },
        );
        let mut rng = Pcg64Mcg::seed_from_u64(1);
        let mean = |d, rng: &mut Pcg64Mcg| {
            (0..10_000)
                .map(|_| sample_rtt_us(&net, &path, Some(d), rng))
                .sum::<f64>()
                / 1e4
        };
        let desk = mean(Device::Desktop, &mut rng);
        let mob = mean(Device::Mobile, &mut rng);
        assert!(mob > desk + 10_000.0, "{mob} vs {desk}");
    }
}
