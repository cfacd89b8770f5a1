//! Deterministic workload generators: which object a request is for, how
//! large each object is, and who the viewers are. Object and viewer
//! properties are pure functions of (seed, id), so every region and every
//! agent agrees on them without coordination.

use rand::Rng;
use rand::SeedableRng;
use rand_distr::{Distribution, Zipf};
use rand_pcg::Pcg64Mcg;

use crate::rng::{mix64, unit_f64};
use crate::scenario::{Catalog, Device, ObjectClass, Viewers};

/// Salt separating per-object draws from other uses of the seed.
const OBJECT_SALT: u64 = 0x6f62_6a65_6374_5f5f;
/// Salt separating per-viewer draws.
const VIEWER_SALT: u64 = 0x7669_6577_6572_5f5f;

/// Bits of a cache key that hold the object's rank within its class.
const RANK_BITS: u32 = 40;

/// One requested object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Object {
    /// Cache key: class index and rank, unique across the catalog.
    pub key: u64,
    /// Index into the catalog's classes.
    pub class: usize,
    /// Popularity rank within the class, 1 = most popular; 0: an object
    /// named by its URI (a replayed log line, see `explicit_object`).
    pub rank: u64,
}

/// Samples objects by class share and Zipf popularity, and knows each
/// object's size, freshness and origin.
#[derive(Debug, Clone)]
pub struct ObjectSampler {
    classes: Vec<(Zipf<f64>, ObjectClass)>,
    /// Cumulative class shares.
    cum_share: Vec<f64>,
    seed: u64,
    /// Objects named by URI (replayed logs, rank 0): key -> (path, size).
    explicit: std::collections::HashMap<u64, (std::sync::Arc<str>, u64)>,
}

impl ObjectSampler {
    /// A sampler for `catalog` under run seed `seed`.
    pub fn new(catalog: &Catalog, seed: u64) -> Self {
        let mut acc = 0.0;
        let cum_share = catalog
            .classes
            .iter()
            .map(|c| {
                acc += c.share;
                acc
            })
            .collect();
        let classes = catalog
            .classes
            .iter()
            .map(|c| {
                let zipf = Zipf::new(c.objects as f64, c.zipf_alpha)
                    .expect("validated class: objects >= 1, zipf_alpha >= 0");
                (zipf, c.clone())
            })
            .collect();
        Self {
            classes,
            cum_share,
            seed,
            explicit: std::collections::HashMap::new(),
        }
    }

    /// The object with URI path `path` and size `size` (a replayed log
    /// line): its key is a hash of the path (top bit set, apart from every
    /// synthetic key), its class the one with the longest matching
    /// `path_prefix` (else the first), its rank 0; [`Self::size_of`] and
    /// [`Self::path_of`] give `size` and `path` back. A later call with
    /// another size for the same path replaces it.
    pub fn explicit_object(&mut self, path: &str, size: u64) -> Object {
        let key = mix64(crate::rng::hash_str(path)) | (1 << 63);
        let class = self
            .classes
            .iter()
            .enumerate()
            .filter(|(_, c)| path.starts_with(c.1.path_prefix.as_str()))
            .max_by_key(|(i, c)| (c.1.path_prefix.len(), usize::MAX - i))
            .map_or(0, |(i, _)| i);
        match self.explicit.get_mut(&key) {
            Some(e) if &*e.0 == path => e.1 = size,
            _ => {
                self.explicit.insert(key, (path.into(), size));
            }
        }
        Object {
            key,
            class,
            rank: 0,
        }
    }

    /// Draws the object of one request.
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Object {
        let class = if self.classes.len() == 1 {
            0
        } else {
            let u = rng.random::<f64>() * self.cum_share[self.cum_share.len() - 1];
            self.cum_share
                .partition_point(|&c| c <= u)
                .min(self.classes.len() - 1)
        };
        let rank = self.classes[class].0.sample(rng) as u64;
        Object {
            key: ((class as u64) << RANK_BITS) | rank,
            class,
            rank,
        }
    }

    /// The object of `rank` (1 = most popular) in class `class`, clamped to
    /// the class's objects.
    pub fn object(&self, class: usize, rank: u64) -> Object {
        let class = class.min(self.classes.len() - 1);
        let rank = rank.clamp(1, self.classes[class].1.objects);
        Object {
            key: ((class as u64) << RANK_BITS) | rank,
            class,
            rank,
        }
    }

    /// Number of objects in class `class`.
    pub fn class_objects(&self, class: usize) -> u64 {
        self.classes.get(class).map_or(0, |c| c.1.objects)
    }

    /// The object's size in bytes (at least 1); the same on every call.
    #[inline]
    pub fn size_of(&self, object: &Object) -> u64 {
        if object.rank == 0 {
            return self.explicit.get(&object.key).map_or(1, |e| e.1.max(1));
        }
        let mut rng = Pcg64Mcg::seed_from_u64(mix64(self.seed ^ OBJECT_SALT ^ mix64(object.key)));
        (self.classes[object.class]
            .1
            .size_bytes
            .sample(&mut rng)
            .round() as u64)
            .max(1)
    }

    /// How long caches keep the object, seconds; `None`: not stored.
    #[inline]
    pub fn ttl_secs(&self, object: &Object) -> Option<u64> {
        self.classes[object.class].1.ttl_secs
    }

    /// Index of the origin serving the object.
    #[inline]
    pub fn origin_of(&self, object: &Object) -> usize {
        self.classes[object.class].1.origin
    }

    /// The object's URI path, e.g. `/images/42`.
    pub fn path_of(&self, object: &Object) -> String {
        if object.rank == 0
            && let Some(e) = self.explicit.get(&object.key)
        {
            return e.0.to_string();
        }
        format!(
            "{}{}",
            self.classes[object.class].1.path_prefix, object.rank
        )
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

    fn class(name: &str, share: f64, objects: u64) -> ObjectClass {
        ObjectClass {
            name: name.into(),
            share,
            objects,
            zipf_alpha: 0.9,
            size_bytes: Dist::LogNormal {
                p50: 40_000.0,
                p99: 400_000.0,
            },
            cache_control: None,
            ttl_secs: Some(60),
            path_prefix: format!("/{name}/"),
            origin: 0,
        }
    }

    fn catalog() -> Catalog {
        Catalog {
            classes: vec![class("a", 1.0, 1000)],
        }
    }

    #[test]
    fn classes_get_their_share_and_distinct_keys() {
        let cat = Catalog {
            classes: vec![class("img", 0.75, 100), class("api", 0.25, 100)],
        };
        let s = ObjectSampler::new(&cat, 1);
        let mut rng = Pcg64Mcg::seed_from_u64(3);
        let mut n = [0u32; 2];
        for _ in 0..40_000 {
            let o = s.sample(&mut rng);
            n[o.class] += 1;
            assert_eq!(o.key >> RANK_BITS, o.class as u64);
            assert!((1..=100).contains(&o.rank));
        }
        assert!((n[0] as f64 / 40_000.0 - 0.75).abs() < 0.01, "{n:?}");
        let o = Object {
            key: 5,
            class: 0,
            rank: 5,
        };
        assert_eq!(s.path_of(&o), "/img/5");
    }

    #[test]
    fn object_sizes_are_stable_and_seeded() {
        let a = ObjectSampler::new(&catalog(), 1);
        let b = ObjectSampler::new(&catalog(), 1);
        let c = ObjectSampler::new(&catalog(), 2);
        let o = |rank| Object {
            key: rank,
            class: 0,
            rank,
        };
        assert_eq!(a.size_of(&o(17)), b.size_of(&o(17)));
        assert!((1..100).any(|r| a.size_of(&o(r)) != c.size_of(&o(r))));
    }

    #[test]
    fn popular_objects_are_sampled_more() {
        let s = ObjectSampler::new(&catalog(), 1);
        let mut rng = Pcg64Mcg::seed_from_u64(3);
        let mut counts = vec![0u32; 1001];
        for _ in 0..100_000 {
            let o = s.sample(&mut rng).rank;
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
