//! Deterministic workload generators: which object a request is for, how
//! large each object is, and who the viewers are. Object and viewer
//! properties are pure functions of (seed, id), so every region and every
//! agent agrees on them without coordination.

use rand::Rng;
use rand::SeedableRng;
use rand_distr::{Distribution, Zipf};
use rand_pcg::Pcg64Mcg;

use crate::rng::{mix64, unit_f64};
use crate::scenario::{Catalog, Device, Viewers};

/// Salt separating per-object draws from other uses of the seed.
const OBJECT_SALT: u64 = 0x6f62_6a65_6374_5f5f;
/// Salt separating per-viewer draws.
const VIEWER_SALT: u64 = 0x7669_6577_6572_5f5f;

/// Samples objects by Zipf popularity and knows each object's size.
#[derive(Debug, Clone)]
pub struct ObjectSampler {
    zipf: Zipf<f64>,
    catalog: Catalog,
    seed: u64,
}

impl ObjectSampler {
    /// A sampler for `catalog` under run seed `seed`.
    pub fn new(catalog: &Catalog, seed: u64) -> Self {
        let zipf = Zipf::new(catalog.objects as f64, catalog.zipf_alpha)
            .expect("validated catalog: objects >= 1, zipf_alpha >= 0");
        Self {
            zipf,
            catalog: catalog.clone(),
            seed,
        }
    }

    /// An object id (its popularity rank, 1 = most popular).
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> u64 {
        self.zipf.sample(rng) as u64
    }

    /// The object's size in bytes (at least 1); the same on every call.
    #[inline]
    pub fn size_of(&self, object: u64) -> u64 {
        let mut rng = Pcg64Mcg::seed_from_u64(mix64(self.seed ^ OBJECT_SALT ^ mix64(object)));
        (self.catalog.size_bytes.sample(&mut rng).round() as u64).max(1)
    }

    /// The object's time to live in seconds.
    #[inline]
    pub fn ttl_secs(&self, _object: u64) -> u64 {
        self.catalog.ttl_secs
    }

    /// Index of the origin serving the object.
    #[inline]
    pub fn origin_of(&self, _object: u64) -> usize {
        self.catalog.origin
    }
}

/// A synthetic viewer: a stable id and a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewer {
    /// Stable across the run (and across runs with the same seed).
    pub id: u64,
    /// Device class.
    pub device: Device,
}

/// The viewer population of each country.
#[derive(Debug, Clone)]
pub struct ViewerPool {
    /// Per country: (population, cumulative device mix).
    countries: Vec<(u64, [f64; 4])>,
    seed: u64,
}

impl ViewerPool {
    /// Splits `viewers.population` over countries by weight (at least one
    /// viewer each).
    pub fn new(viewers: &Viewers, seed: u64) -> Self {
        let countries = viewers
            .countries
            .iter()
            .map(|c| {
                let n = ((viewers.population as f64 * c.weight).round() as u64).max(1);
                let mut cum = [0.0; 4];
                let mut acc = 0.0;
                for (i, w) in c.devices.iter().enumerate() {
                    acc += w;
                    cum[i] = acc;
                }
                (n, cum)
            })
            .collect();
        Self { countries, seed }
    }

    /// Picks a viewer of country `country` (index into the scenario's
    /// countries) uniformly from its population.
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, country: usize, rng: &mut R) -> Viewer {
        let (n, _) = self.countries[country];
        let index = rng.random_range(0..n);
        self.viewer(country, index)
    }

    /// The `index`-th viewer of `country`.
    #[inline]
    pub fn viewer(&self, country: usize, index: u64) -> Viewer {
        let id = mix64(((country as u64) << 40) ^ index);
        let (_, cum) = &self.countries[country];
        let u = unit_f64(mix64(self.seed ^ VIEWER_SALT ^ id)) * cum[3];
        let device = Device::ALL[cum.iter().position(|&c| u < c).unwrap_or(3)];
        Viewer { id, device }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::Dist;
    use crate::geo::LatLon;
    use crate::scenario::CountryDemand;

    fn catalog() -> Catalog {
        Catalog {
            objects: 1000,
            zipf_alpha: 0.9,
            size_bytes: Dist::LogNormal {
                p50: 40_000.0,
                p99: 400_000.0,
            },
            ttl_secs: 60,
            origin: 0,
        }
    }

    #[test]
    fn object_sizes_are_stable_and_seeded() {
        let a = ObjectSampler::new(&catalog(), 1);
        let b = ObjectSampler::new(&catalog(), 1);
        let c = ObjectSampler::new(&catalog(), 2);
        assert_eq!(a.size_of(17), b.size_of(17));
        assert!((1..100).any(|o| a.size_of(o) != c.size_of(o)));
    }

    #[test]
    fn popular_objects_are_sampled_more() {
        let s = ObjectSampler::new(&catalog(), 1);
        let mut rng = Pcg64Mcg::seed_from_u64(3);
        let mut counts = vec![0u32; 1001];
        for _ in 0..100_000 {
            let o = s.sample(&mut rng);
            assert!((1..=1000).contains(&o));
            counts[o as usize] += 1;
        }
        assert!(counts[1] > counts[10] && counts[10] > counts[500]);
    }

    #[test]
    fn viewer_devices_follow_the_mix() {
        let viewers = Viewers {
            requests_per_sec: 1.0,
            countries: vec![CountryDemand {
                code: "DE".into(),
                location: LatLon { lat: 0.0, lon: 0.0 },
                weight: 1.0,
                devices: [0.5, 0.3, 0.2, 0.0],
                utc_offset_hours: 1.0,
            }],
            population: 100_000,
        };
        let pool = ViewerPool::new(&viewers, 9);
        let mut n = [0u32; 4];
        for i in 0..100_000 {
            n[pool.viewer(0, i).device as usize] += 1;
        }
        assert!((n[0] as f64 / 1e5 - 0.5).abs() < 0.01);
        assert!((n[1] as f64 / 1e5 - 0.3).abs() < 0.01);
        assert_eq!(n[3], 0);
        assert_eq!(pool.viewer(0, 5), pool.viewer(0, 5));
    }
}
