//! Viewer routing: which PoP serves which country's viewers.
//!
//! Each country goes to the PoP with the lowest round-trip time from its
//! population centre (ties to the PoP listed first). Routing is global
//! and owned by the coordinator; regions only receive their [`Demand`].

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

/// The routing table of a scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Routing {
    /// For each country (scenario order), the PoP serving it.
    pub pop_of_country: Vec<usize>,
}

impl Routing {
    /// Lowest-RTT routing for every country.
    pub fn nearest(scenario: &Scenario) -> Routing {
        let pop_of_country = scenario
            .viewers
            .countries
            .iter()
            .map(|c| {
                let mut best = 0;
                let mut best_us = f64::INFINITY;
                for (i, p) in scenario.pops.iter().enumerate() {
                    let us = Path::between(&scenario.network, c.location, p.location).base_us;
                    if us < best_us {
                        best = i;
                        best_us = us;
                    }
                }
                best
            })
            .collect();
        Routing { pop_of_country }
    }

    /// The demand per region (index = region) at total rate `requests_per_sec`.
    pub fn demand(&self, scenario: &Scenario, requests_per_sec: f64) -> Vec<Vec<Demand>> {
        let mut out = vec![Vec::new(); scenario.regions.len()];
        for (country, c) in scenario.viewers.countries.iter().enumerate() {
            let pop = self.pop_of_country[country];
            out[scenario.pops[pop].region].push(Demand {
                country,
                pop,
                requests_per_sec: requests_per_sec * c.weight,
            });
        }
        out
    }
}
