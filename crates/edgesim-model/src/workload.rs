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
        let class = self.class_of_path(path);
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

    /// The object a fetch for URI path `path` asks the origin for: the
    /// catalogue's object when `path` is one of its paths (`path_of` of
    /// it), a replayed log's object when `path` names one, and otherwise
    /// an object of its own, named by the path as [`Self::explicit_object`]
    /// names one (a URI a function rewrote outside the catalogue), in the
    /// class with the longest matching `path_prefix`, with a size drawn
    /// from that class as a pure function of the path. So faults and sizes
    /// follow the URI, never the way a request got to it.
    pub fn object_at(&self, path: &str) -> Object {
        // A replayed log's object first: its path may look like a
        // catalogue path, and it keeps its logged size.
        let named = mix64(crate::rng::hash_str(path)) | (1 << 63);
        if self.explicit.get(&named).is_some_and(|e| &*e.0 == path) {
            return Object {
                key: named,
                class: self.class_of_path(path),
                rank: 0,
            };
        }
        let catalogued = self
            .classes
            .iter()
            .enumerate()
            .filter_map(|(class, (_, c))| {
                let rest = path.strip_prefix(c.path_prefix.as_str())?;
                let rank: u64 = rest.parse().ok()?;
                // The path as `path_of` writes it: no sign, no leading zero.
                let canonical = rest.bytes().all(|b| b.is_ascii_digit()) && !rest.starts_with('0');
                (canonical && (1..=c.objects).contains(&rank)).then_some((
                    c.path_prefix.len(),
                    class,
                    rank,
                ))
            })
            .max_by_key(|&(len, class, _)| (len, usize::MAX - class));
        if let Some((_, class, rank)) = catalogued {
            return Object {
                key: ((class as u64) << RANK_BITS) | rank,
                class,
                rank,
            };
        }
        Object {
            key: named,
            class: self.class_of_path(path),
            rank: 0,
        }
    }

    /// The class whose `path_prefix` is the longest match of `path` or of
    /// `path` without its first segments (so `/mobile/images/7`, a
    /// rewritten `/images/7`, is in the class of `/images/`); of equals, the
    /// match nearer the start, then the first class; else the first class.
    fn class_of_path(&self, path: &str) -> usize {
        let tails = std::iter::once(0).chain(
            path.char_indices()
                .filter(|&(i, c)| c == '/' && i > 0)
                .map(|(i, _)| i),
        );
        tails
            .enumerate()
            .flat_map(|(level, at)| {
                let tail = &path[at..];
                self.classes
                    .iter()
                    .enumerate()
                    .filter(move |(_, c)| tail.starts_with(c.1.path_prefix.as_str()))
                    .map(move |(i, c)| (c.1.path_prefix.len(), usize::MAX - level, usize::MAX - i))
            })
            .max()
            .map_or(0, |(_, _, i)| usize::MAX - i)
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

    /// The object's size in bytes (at least 1); the same on every call. An
    /// object named by URI has its replayed size, or else (a URI outside
    /// the catalogue, see [`Self::object_at`]) one drawn from its class.
    #[inline]
    pub fn size_of(&self, object: &Object) -> u64 {
        if object.rank == 0
            && let Some(e) = self.explicit.get(&object.key)
        {
            return e.1.max(1);
        }
        let mut rng = Pcg64Mcg::seed_from_u64(mix64(self.seed ^ OBJECT_SALT ^ mix64(object.key)));
        (self.classes[object.class]
            .1
            .size_bytes
            .sample(&mut rng)
            .round() as u64)
            .max(1)
    }

    /// The `Cache-Control` the origin sends with the object, if any.
    pub fn cache_control_of(&self, object: &Object) -> Option<&str> {
        self.classes[object.class].1.cache_control.as_deref()
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

/// A synthetic viewer: a stable id, a device and the city it lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewer {
    /// Stable across the run (and across runs with the same seed).
    pub id: u64,
    /// Device class.
    pub device: Device,
    /// Its city: index into [`crate::cities::all`]. Stable like the device.
    pub city: u32,
}

/// Salt of the hash that places a replayed viewer (an id from a log) in a city.
const CITY_SALT: u64 = 0x6369_7479_5f6f_665f;

/// One country's viewers: indices `0..n`, cut into one contiguous range per city.
#[derive(Debug, Clone)]
struct CountryPool {
    /// Cumulative device mix.
    devices: [f64; 4],
    /// Per city (largest first): its table index and the first viewer index of its range.
    cities: Vec<(u32, u64)>,
    /// Cumulative city shares (for viewers known only by id).
    shares: Vec<f64>,
    /// Viewers in all.
    n: u64,
}

impl CountryPool {
    /// Viewer indices of the city at `local` (position in the country's cities).
    fn range(&self, local: usize) -> (u64, u64) {
        let start = self.cities.get(local).map_or(0, |c| c.1);
        let end = self.cities.get(local + 1).map_or(self.n, |c| c.1);
        (start, end.max(start + 1).min(self.n.max(1)))
    }
}

/// The viewer population of each country, each viewer living in one of its cities.
#[derive(Debug, Clone)]
pub struct ViewerPool {
    countries: Vec<CountryPool>,
    seed: u64,
}

impl ViewerPool {
    /// Splits `viewers.population` over countries by weight, and each country's over its
    /// cities by their shares (at least one viewer each).
    pub fn new(viewers: &Viewers, seed: u64) -> Self {
        let countries = viewers
            .countries
            .iter()
            .map(|c| {
                let total = (viewers.population as f64 * c.weight).round().max(1.0);
                let mut devices = [0.0; 4];
                let mut acc = 0.0;
                for (i, w) in c.devices.iter().enumerate() {
                    acc += w;
                    devices[i] = acc;
                }
                let mut cities = Vec::with_capacity(c.cities.len());
                let mut shares = Vec::with_capacity(c.cities.len());
                let (mut n, mut cum) = (0u64, 0.0);
                for city in &c.cities {
                    cities.push((city.city, n));
                    n += ((total * city.share).round() as u64).max(1);
                    cum += city.share;
                    shares.push(cum);
                }
                CountryPool {
                    devices,
                    cities,
                    shares,
                    n: n.max(1),
                }
            })
            .collect();
        Self { countries, seed }
    }

    /// Picks a viewer of country `country` (index into the scenario's countries) uniformly
    /// from its population.
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, country: usize, rng: &mut R) -> Viewer {
        let index = rng.random_range(0..self.countries[country].n);
        self.viewer(country, index)
    }

    /// Picks a viewer uniformly among those of the city at position `local` in `country`'s
    /// cities whose slice is `slice` of `slices`: a city's viewers are cut into `slices`
    /// contiguous parts, one per PoP it is spread over, so each viewer keeps its PoP.
    #[inline]
    pub fn sample_in<R: Rng + ?Sized>(
        &self,
        country: usize,
        local: usize,
        slice: u32,
        slices: u32,
        rng: &mut R,
    ) -> Viewer {
        let (start, end) = self.countries[country].range(local);
        let len = end - start;
        let slices = u64::from(slices.max(1));
        let slice = u64::from(slice) % slices;
        let (a, b) = (
            start + len * slice / slices,
            start + len * (slice + 1) / slices,
        );
        let index = if b > a {
            rng.random_range(a..b)
        } else {
            // Fewer viewers than slices: the slice's one viewer.
            start + slice % len.max(1)
        };
        self.viewer(country, index)
    }

    /// The `index`-th viewer of `country`.
    #[inline]
    pub fn viewer(&self, country: usize, index: u64) -> Viewer {
        let id = mix64(((country as u64) << 40) ^ index);
        let pool = &self.countries[country];
        let u = unit_f64(mix64(self.seed ^ VIEWER_SALT ^ id)) * pool.devices[3];
        let device = Device::ALL[pool.devices.iter().position(|&c| u < c).unwrap_or(3)];
        let local = pool
            .cities
            .partition_point(|c| c.1 <= index)
            .saturating_sub(1);
        let city = pool.cities.get(local).map_or(0, |c| c.0);
        Viewer { id, device, city }
    }

    /// A viewer known only by its id (a replayed log's): placed in one of `country`'s cities
    /// by a hash of the id, weighted by the cities' shares, so always the same one.
    pub fn with_id(&self, country: usize, id: u64, device: Device) -> Viewer {
        let pool = &self.countries[country];
        let u = unit_f64(mix64(self.seed ^ CITY_SALT ^ id))
            * pool.shares.last().copied().unwrap_or(1.0);
        let local = pool
            .shares
            .partition_point(|&c| c <= u)
            .min(pool.cities.len().saturating_sub(1));
        let city = pool.cities.get(local).map_or(0, |c| c.0);
        Viewer { id, device, city }
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
    fn the_object_at_a_path_is_the_one_the_path_names() {
        let cat = Catalog {
            classes: vec![class("img", 0.5, 100), class("img/big", 0.5, 100)],
        };
        let mut s = ObjectSampler::new(&cat, 1);
        let mut rng = Pcg64Mcg::seed_from_u64(3);
        for _ in 0..2_000 {
            let o = s.sample(&mut rng);
            assert_eq!(s.object_at(&s.path_of(&o)), o);
        }
        // Not catalogue paths: past the class's objects, leading zeros,
        // signs, a rewritten prefix. Each is an object of its own, the same
        // on every call, sized from the class its prefix names.
        for path in [
            "/img/101",
            "/img/07",
            "/img/+7",
            "/img/0",
            "/mobile/img/7",
            "/img/big/x",
        ] {
            let o = s.object_at(path);
            assert_eq!(o.rank, 0, "{path}");
            assert_eq!(o, s.object_at(path), "{path}");
            assert_ne!(o.key, s.object_at("/img/7").key, "{path}");
            assert!(
                s.size_of(&o) > 1,
                "{path}: drawn from the class, not 1 byte"
            );
            assert_eq!(s.size_of(&o), s.size_of(&s.object_at(path)));
        }
        assert_eq!(s.object_at("/img/big/x").class, 1, "the longest prefix");
        let two = Catalog {
            classes: vec![class("page", 0.5, 100), class("img", 0.5, 100)],
        };
        let t = ObjectSampler::new(&two, 1);
        assert_eq!(
            t.object_at("/mobile/img/7").class,
            1,
            "a prefix added in front"
        );
        assert_eq!(t.object_at("/img/7-mobile.jpg").class, 1, "a suffix");
        assert_eq!(
            t.object_at("/elsewhere/7").class,
            0,
            "no match: the first class"
        );
        // A replayed log's object is itself even at a catalogue path.
        let logged = s.explicit_object("/img/7", 99);
        assert_eq!(s.object_at("/img/7"), logged);
        assert_eq!(s.size_of(&s.object_at("/img/7")), 99);
        // A replayed log's object keeps its size.
        let replayed = s.explicit_object("/img/big/x", 1234);
        assert_eq!(s.object_at("/img/big/x"), replayed);
        assert_eq!(s.size_of(&s.object_at("/img/big/x")), 1234);
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
                cities: vec![crate::CityShare {
                    city: 0,
                    location: LatLon { lat: 0.0, lon: 0.0 },
                    share: 1.0,
                }],
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

#[cfg(test)]
mod city_tests {
    use super::*;

    const SCENARIO: &str = r#"
[simulation]
duration_secs = 10
[[pops]]
id = "iad"
city = "IAD"
cache_bytes = 1000
[[origins]]
id = "o"
kind = "s3"
location = "us-east-1"
[catalog]
objects = 100
zipf_alpha = 0.8
size = "1KiB"
ttl_secs = 60
[viewers]
requests_per_sec = 100
population = 100000
countries = { US = 1, TK = 0.01 }
"#;

    #[test]
    fn a_viewers_city_is_stable_and_follows_population() {
        let s = crate::Scenario::from_toml("c.toml", SCENARIO).unwrap();
        let us = s
            .viewers
            .countries
            .iter()
            .position(|c| c.code == "US")
            .unwrap();
        let pool = ViewerPool::new(&s.viewers, 7);
        let mut rng = Pcg64Mcg::seed_from_u64(1);
        let mut per_city = std::collections::BTreeMap::<u32, u32>::new();
        for _ in 0..20_000 {
            let v = pool.sample(us, &mut rng);
            // The same viewer, asked for again, lives in the same city.
            let again = (0..1_000_000u64)
                .map(|i| pool.viewer(us, i))
                .find(|w| w.id == v.id)
                .unwrap();
            assert_eq!(again.city, v.city);
            assert_eq!(crate::cities::city(v.city).unwrap().country, "US");
            *per_city.entry(v.city).or_default() += 1;
            if per_city.values().sum::<u32>() >= 300 {
                break;
            }
        }
        assert!(per_city.len() > 10, "{per_city:?}");
        // Shares follow population: New York City is the most sampled.
        let nyc = crate::cities::find("US", "New York City").unwrap();
        let top = per_city.iter().max_by_key(|e| *e.1).unwrap().0;
        assert_eq!(*top, nyc);
        // A city's sampled viewers are that city's.
        for local in 0..s.viewers.countries[us].cities.len() {
            let want = s.viewers.countries[us].cities[local].city;
            for slice in 0..3 {
                let v = pool.sample_in(us, local, slice, 3, &mut rng);
                assert_eq!(v.city, want);
            }
        }
        // Replayed ids land in a city of their country, always the same one.
        let tk = s
            .viewers
            .countries
            .iter()
            .position(|c| c.code == "TK")
            .unwrap();
        let a = pool.with_id(us, 42, Device::Mobile);
        assert_eq!(a, pool.with_id(us, 42, Device::Mobile));
        assert_eq!(
            crate::cities::city(pool.with_id(tk, 9, Device::Desktop).city)
                .unwrap()
                .country,
            "TK"
        );
    }

    #[test]
    fn slices_of_a_city_are_disjoint() {
        let s = crate::Scenario::from_toml("c.toml", SCENARIO).unwrap();
        let us = s
            .viewers
            .countries
            .iter()
            .position(|c| c.code == "US")
            .unwrap();
        let pool = ViewerPool::new(&s.viewers, 7);
        let mut rng = Pcg64Mcg::seed_from_u64(2);
        let ids = |slice, rng: &mut Pcg64Mcg| {
            (0..2_000)
                .map(|_| pool.sample_in(us, 0, slice, 2, rng).id)
                .collect::<std::collections::HashSet<u64>>()
        };
        let (a, b) = (ids(0, &mut rng), ids(1, &mut rng));
        assert!(a.len() > 100 && b.len() > 100);
        assert!(a.is_disjoint(&b));
    }
}
