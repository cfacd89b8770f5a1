//! Viewer routing: which PoP serves which city's viewers.
//!
//! Viewers live in cities ([`edgesim_model::cities`]); each city goes to
//! the PoP with the lowest round-trip time from it; when several PoPs are
//! as close (within [`SAME_METRO_US`], e.g. several edge locations in one
//! city), its viewers are cut into as many slices, one per PoP, so each
//! viewer keeps its PoP (as a resolver hash would) and the load is spread
//! evenly. Routing is global and owned by the coordinator; regions only
//! receive their [`Demand`].

use edgesim_model::Scenario;

use crate::network::Path;

/// Requests a region must generate for one (country, city, PoP) route.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Demand {
    /// Index into the scenario's countries.
    pub country: usize,
    /// Position of the city in its country's cities
    /// ([`edgesim_model::CountryDemand::cities`]).
    pub city: usize,
    /// Index into the scenario's PoPs.
    pub pop: usize,
    /// Which slice of the city's viewers goes to this PoP (`0..slices`).
    pub slice: u32,
    /// In how many slices the city's viewers are cut (its PoPs).
    pub slices: u32,
    /// Mean request rate on the route.
    pub requests_per_sec: f64,
}

/// PoPs whose base round trip from a city is within this of the best
/// one share its traffic, µs.
pub const SAME_METRO_US: f64 = 500.0;

/// The routing table of a scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Routing {
    /// For each country (scenario order) and each of its cities, the PoPs
    /// serving it (ascending; its viewers are split evenly among them).
    pub pops_of_city: Vec<Vec<Vec<usize>>>,
}

impl Routing {
    /// Lowest-RTT routing for every city.
    pub fn nearest(scenario: &Scenario) -> Routing {
        Routing::nearest_up(scenario, &vec![true; scenario.pops.len()])
    }

    /// Lowest-RTT routing among the PoPs that are up (`up[i]`); a city
    /// with no PoP up is not served.
    pub fn nearest_up(scenario: &Scenario, up: &[bool]) -> Routing {
        let mut rtt = vec![f64::INFINITY; scenario.pops.len()];
        let pops_of_city = scenario
            .viewers
            .countries
            .iter()
            .map(|c| {
                c.cities
                    .iter()
                    .map(|city| {
                        for ((slot, p), &up) in rtt.iter_mut().zip(&scenario.pops).zip(up) {
                            *slot = if up {
                                Path::between(&scenario.network, city.location, p.location).base_us
                            } else {
                                f64::INFINITY
                            };
                        }
                        let best = rtt.iter().copied().fold(f64::INFINITY, f64::min);
                        (0..rtt.len())
                            .filter(|&i| rtt[i].is_finite() && rtt[i] <= best + SAME_METRO_US)
                            .collect()
                    })
                    .collect()
            })
            .collect();
        Routing { pops_of_city }
    }

    /// The PoPs serving any city of `country`, ascending.
    pub fn pops_of_country(&self, country: usize) -> Vec<usize> {
        let mut out: Vec<usize> = self.pops_of_city[country]
            .iter()
            .flatten()
            .copied()
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The demand per region (index = region) at total rate `requests_per_sec`.
    pub fn demand(&self, scenario: &Scenario, requests_per_sec: f64) -> Vec<Vec<Demand>> {
        let mut out = vec![Vec::new(); scenario.regions.len()];
        for (country, c) in scenario.viewers.countries.iter().enumerate() {
            for (city, (share, pops)) in c
                .cities
                .iter()
                .map(|x| x.share)
                .zip(&self.pops_of_city[country])
                .enumerate()
            {
                let slices = u32::try_from(pops.len()).unwrap_or(u32::MAX);
                for (slice, &pop) in (0u32..).zip(pops) {
                    out[scenario.pops[pop].region].push(Demand {
                        country,
                        city,
                        pop,
                        slice,
                        slices,
                        requests_per_sec: requests_per_sec * c.weight * share / pops.len() as f64,
                    });
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(pops: &str) -> Scenario {
        let text = format!(
            r#"
[simulation]
duration_secs = 10
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
requests_per_sec = 900
countries = {{ DE = 2, US = 1 }}
{pops}
"#
        );
        Scenario::from_toml("r.toml", &text).expect("valid")
    }

    #[test]
    fn each_country_goes_to_its_nearest_pop() {
        let s = scenario(
            "[[pops]]\nid = \"fra\"\ncity = \"FRA\"\ncache_bytes = 1000\n\
             [[pops]]\nid = \"iad\"\ncity = \"IAD\"\ncache_bytes = 1000\n",
        );
        let r = Routing::nearest(&s);
        // Countries sorted by code: DE, US; every city of each goes to its side.
        assert_eq!(r.pops_of_country(0), vec![0]);
        assert_eq!(r.pops_of_country(1), vec![1]);
    }

    #[test]
    fn co_located_pops_share_their_countrys_traffic_evenly() {
        let s = scenario(
            "[[pops]]\nid = \"fra1\"\ncity = \"FRA\"\ncache_bytes = 1000\n\
             [[pops]]\nid = \"iad\"\ncity = \"IAD\"\ncache_bytes = 1000\n\
             [[pops]]\nid = \"fra2\"\ncity = \"FRA\"\ncache_bytes = 1000\n",
        );
        let r = Routing::nearest(&s);
        // Berlin (DE's first city) is served by both Frankfurt PoPs.
        assert_eq!(r.pops_of_city[0][0], vec![0, 2]);
        let demand: Vec<Demand> = r.demand(&s, 900.0).into_iter().flatten().collect();
        let de: Vec<f64> = [0, 2]
            .iter()
            .map(|&p| {
                demand
                    .iter()
                    .filter(|d| d.country == 0 && d.pop == p)
                    .map(|d| d.requests_per_sec)
                    .sum()
            })
            .collect();
        assert!(
            (de[0] - 300.0).abs() < 1e-9 && (de[1] - 300.0).abs() < 1e-9,
            "{de:?}"
        );
        assert!(
            demand
                .iter()
                .filter(|d| d.country == 0)
                .all(|d| d.slices == 2)
        );
        let total: f64 = demand.iter().map(|d| d.requests_per_sec).sum();
        assert!((total - 900.0).abs() < 1e-9);
    }
}

#[cfg(test)]
mod city_tests {
    use super::*;

    #[test]
    fn us_viewers_spread_over_several_pops_by_city() {
        let text = r#"
[simulation]
duration_secs = 10
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
requests_per_sec = 1000
countries = { US = 1 }
[[pops]]
id = "ord"
city = "ORD"
cache_bytes = 1000
[[pops]]
id = "sfo"
city = "SFO"
cache_bytes = 1000
[[pops]]
id = "jfk"
city = "JFK"
cache_bytes = 1000
"#;
        let s = Scenario::from_toml("r.toml", text).expect("valid");
        let r = Routing::nearest(&s);
        assert_eq!(r.pops_of_country(0), vec![0, 1, 2]);
        let la = s.viewers.countries[0]
            .cities
            .iter()
            .position(|c| edgesim_model::cities::city(c.city).unwrap().name == "Los Angeles")
            .unwrap();
        assert_eq!(r.pops_of_city[0][la], vec![1]);
        assert_eq!(r.pops_of_city[0][0], vec![2], "New York City goes to JFK");
        let demand: Vec<Demand> = r.demand(&s, 1000.0).into_iter().flatten().collect();
        for pop in 0..3 {
            let rate: f64 = demand
                .iter()
                .filter(|d| d.pop == pop)
                .map(|d| d.requests_per_sec)
                .sum();
            assert!(rate > 100.0, "PoP {pop} gets {rate}");
        }
        let total: f64 = demand.iter().map(|d| d.requests_per_sec).sum();
        assert!((total - 1000.0).abs() < 1e-6);
    }
}
