//! Viewer routing: which PoP serves which country's viewers.
//!
//! Each country goes to the PoP with the lowest round-trip time from its
//! population centre; when several PoPs are as close (within
//! [`SAME_METRO_US`], e.g. several edge locations in one city), its traffic
//! is split evenly among them, as DNS spreads a metro's resolvers over
//! them. Routing is global and owned by the coordinator; regions only
//! receive their [`Demand`].

use edgesim_model::Scenario;

use crate::network::Path;

/// Requests a region must generate for one (country, PoP) route.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Demand {
    /// Index into the scenario's countries.
    pub country: usize,
    /// Index into the scenario's PoPs.
    pub pop: usize,
    /// Mean request rate on the route.
    pub requests_per_sec: f64,
}

/// PoPs whose base round trip from a country is within this of the best
/// one share its traffic, µs.
pub const SAME_METRO_US: f64 = 500.0;

/// The routing table of a scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Routing {
    /// For each country (scenario order), the PoPs serving it (ascending;
    /// the traffic is split evenly among them).
    pub pops_of_country: Vec<Vec<usize>>,
}

impl Routing {
    /// Lowest-RTT routing for every country.
    pub fn nearest(scenario: &Scenario) -> Routing {
        Routing::nearest_up(scenario, &vec![true; scenario.pops.len()])
    }

    /// Lowest-RTT routing among the PoPs that are up (`up[i]`); a country
    /// with no PoP up is not served.
    pub fn nearest_up(scenario: &Scenario, up: &[bool]) -> Routing {
        let pops_of_country = scenario
            .viewers
            .countries
            .iter()
            .map(|c| {
                let rtt: Vec<f64> = scenario
                    .pops
                    .iter()
                    .zip(up)
                    .map(|(p, &up)| {
                        if up {
                            Path::between(&scenario.network, c.location, p.location).base_us
                        } else {
                            f64::INFINITY
                        }
                    })
                    .collect();
                let best = rtt.iter().copied().fold(f64::INFINITY, f64::min);
                (0..rtt.len())
                    .filter(|&i| rtt[i].is_finite() && rtt[i] <= best + SAME_METRO_US)
                    .collect()
            })
            .collect();
        Routing { pops_of_country }
    }

    /// The demand per region (index = region) at total rate `requests_per_sec`.
    pub fn demand(&self, scenario: &Scenario, requests_per_sec: f64) -> Vec<Vec<Demand>> {
        let mut out = vec![Vec::new(); scenario.regions.len()];
        for (country, c) in scenario.viewers.countries.iter().enumerate() {
            let pops = &self.pops_of_country[country];
            for &pop in pops {
                out[scenario.pops[pop].region].push(Demand {
                    country,
                    pop,
                    requests_per_sec: requests_per_sec * c.weight / pops.len() as f64,
                });
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
        // Countries sorted by code: DE, US.
        assert_eq!(r.pops_of_country, vec![vec![0], vec![1]]);
    }

    #[test]
    fn co_located_pops_share_their_countrys_traffic_evenly() {
        let s = scenario(
            "[[pops]]\nid = \"fra1\"\ncity = \"FRA\"\ncache_bytes = 1000\n\
             [[pops]]\nid = \"iad\"\ncity = \"IAD\"\ncache_bytes = 1000\n\
             [[pops]]\nid = \"fra2\"\ncity = \"FRA\"\ncache_bytes = 1000\n",
        );
        let r = Routing::nearest(&s);
        assert_eq!(r.pops_of_country[0], vec![0, 2]);
        let demand: Vec<Demand> = r.demand(&s, 900.0).into_iter().flatten().collect();
        let de: Vec<f64> = demand
            .iter()
            .filter(|d| d.country == 0)
            .map(|d| d.requests_per_sec)
            .collect();
        assert_eq!(de, vec![300.0, 300.0]);
        let total: f64 = demand.iter().map(|d| d.requests_per_sec).sum();
        assert!((total - 900.0).abs() < 1e-9);
    }
}
