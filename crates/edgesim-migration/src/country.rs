//! Country splits that move traffic, not hash space.
//!
//! `split = "country"` moves whole countries. Hashing country codes onto
//! `[0, 1)` and moving those below the weight moves a share of *codes*: with
//! a handful of countries of unequal traffic the realised share can be far
//! from the plan (0.4 planned gave 0.61 of fetches, 0.1 and 0.2 gave 0).
//!
//! A [`CountryOrder`] instead lays the countries out in an order fixed by
//! the run seed (a seeded permutation), each taking an interval of `[0, 1]`
//! as long as its traffic share (its scenario weight, `viewers.countries`).
//! At weight `w` the moved countries are the longest prefix of that order
//! whose cumulative share is nearest to `w`: a country moves once the
//! *midpoint* of its interval is at most `w` ([`moves`]). Of all prefixes of
//! the order this one minimises `|realised - planned|`, so the moved share
//! is within half the largest country's share of the plan (the plain rule
//! "cumulative share <= w" is only within one whole share, and never
//! overshoots; the midpoint rule may overshoot by up to half a share).
//! Raising the weight only moves more countries; weight 0 moves none and
//! weight 1 moves all.
//!
//! The order is a pure function of the seed and the country codes, so every
//! agent, whatever the number of agents, computes the same one.

use serde::{Deserialize, Serialize};

/// One country in a [`CountryOrder`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderedCountry {
    /// ISO 3166-1 alpha-2 code.
    pub code: String,
    /// Its share of viewer requests (the order's shares sum to 1).
    pub share: f64,
    /// The weight from which it moves: the midpoint of its interval, the
    /// shares of the countries before it plus half its own.
    pub moves_at_weight: f64,
}

/// The countries of a country split in the order they move.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CountryOrder {
    countries: Vec<OrderedCountry>,
}

/// Whether a country whose interval midpoint is `moves_at_weight` is on
/// the new origin at `weight`: `0 < weight` and `moves_at_weight <= weight`.
/// The built-in `origin_split` (crate edgesim-triggers) applies the same
/// rule to the thresholds it is given.
pub fn moves(moves_at_weight: f64, weight: f64) -> bool {
    weight > 0.0 && moves_at_weight <= weight
}

use edgesim_hash::mix64;

/// FNV-1a of a string, mixed: stable across platforms and releases.
fn hash_str(s: &str) -> u64 {
    edgesim_hash::hash_bytes(s.as_bytes())
}

/// Seed material of the country order ("country\0" in ASCII), so the order
/// shares no values with other streams of the same run seed.
const ORDER_PURPOSE: u64 = 0x636f_756e_7472_7900;

impl CountryOrder {
    /// The order for run seed `seed` of `countries` (code, share): sorted
    /// by a seeded hash of the code (a permutation fixed by the seed; ties,
    /// which need equal 64-bit hashes, by code). Shares are normalised to
    /// sum to 1; negative or non-finite shares count as 0.
    pub fn new(seed: u64, countries: &[(String, f64)]) -> CountryOrder {
        let key = mix64(seed ^ ORDER_PURPOSE);
        let mut ordered: Vec<(u64, &str, f64)> = countries
            .iter()
            .map(|(code, share)| {
                let share = if share.is_finite() && *share > 0.0 {
                    *share
                } else {
                    0.0
                };
                (mix64(key ^ hash_str(code)), code.as_str(), share)
            })
            .collect();
        ordered.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        let total: f64 = ordered.iter().map(|c| c.2).sum();
        let mut before = 0.0;
        let countries = ordered
            .into_iter()
            .map(|(_, code, share)| {
                let share = if total > 0.0 { share / total } else { 0.0 };
                let c = OrderedCountry {
                    code: code.to_owned(),
                    share,
                    moves_at_weight: (before + share / 2.0).min(1.0),
                };
                before += share;
                c
            })
            .collect();
        CountryOrder { countries }
    }

    /// The countries, in the order they move.
    pub fn countries(&self) -> &[OrderedCountry] {
        &self.countries
    }

    /// The countries on the new origin at `weight`, in order.
    pub fn moved(&self, weight: f64) -> impl Iterator<Item = &OrderedCountry> {
        self.countries
            .iter()
            .filter(move |c| moves(c.moves_at_weight, weight))
    }

    /// The share of traffic on the new origin at `weight`.
    pub fn moved_share(&self, weight: f64) -> f64 {
        self.moved(weight).map(|c| c.share).sum()
    }

    /// The largest country's share: twice the bound on
    /// `|moved_share(w) - w|`.
    pub fn largest_share(&self) -> f64 {
        self.countries.iter().map(|c| c.share).fold(0.0, f64::max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn countries(list: &[(&str, f64)]) -> Vec<(String, f64)> {
        list.iter().map(|(c, w)| ((*c).to_owned(), *w)).collect()
    }

    const EIGHT: &[(&str, f64)] = &[
        ("DE", 0.2),
        ("US", 0.2),
        ("GB", 0.15),
        ("FR", 0.12),
        ("CA", 0.1),
        ("NL", 0.09),
        ("ES", 0.08),
        ("IT", 0.06),
    ];

    fn codes(order: &CountryOrder) -> Vec<&str> {
        order.countries().iter().map(|c| c.code.as_str()).collect()
    }

    #[test]
    fn the_order_is_a_permutation_fixed_by_the_seed() {
        let a = CountryOrder::new(23, &countries(EIGHT));
        let mut reversed = countries(EIGHT);
        reversed.reverse();
        let b = CountryOrder::new(23, &reversed);
        assert_eq!(a, b, "the input order does not matter");
        let mut sorted = codes(&a);
        sorted.sort_unstable();
        let mut want: Vec<&str> = EIGHT.iter().map(|c| c.0).collect();
        want.sort_unstable();
        assert_eq!(sorted, want);
        let orders: std::collections::BTreeSet<Vec<String>> = (0..20u64)
            .map(|seed| {
                let o = CountryOrder::new(seed, &countries(EIGHT));
                codes(&o).into_iter().map(str::to_owned).collect()
            })
            .collect();
        assert!(orders.len() > 10, "seeds give different orders: {orders:?}");
    }

    #[test]
    fn the_moved_share_is_within_half_the_largest_share_of_any_weight() {
        for seed in 0..50u64 {
            let order = CountryOrder::new(seed, &countries(EIGHT));
            let bound = order.largest_share() / 2.0 + 1e-12;
            let mut before: Vec<String> = Vec::new();
            for step in 0..=1000 {
                let w = f64::from(step) / 1000.0;
                let share = order.moved_share(w);
                assert!(
                    (share - w).abs() <= bound,
                    "seed {seed}, weight {w}: moved {share}"
                );
                let now: Vec<String> = order.moved(w).map(|c| c.code.clone()).collect();
                assert!(now.starts_with(&before), "monotone, a prefix of the order");
                before = now;
            }
        }
    }

    #[test]
    fn weight_zero_moves_none_and_weight_one_moves_all() {
        let order = CountryOrder::new(1, &countries(&[("DE", 0.0), ("US", 3.0), ("JP", 1.0)]));
        assert_eq!(order.moved(0.0).count(), 0);
        assert_eq!(order.moved(1.0).count(), 3);
        assert!((order.moved_share(1.0) - 1.0).abs() < 1e-12);
        assert_eq!(order.largest_share(), 0.75);
    }

    #[test]
    fn the_moved_countries_are_the_prefix_nearest_to_the_weight() {
        for seed in 0..20u64 {
            let order =
                CountryOrder::new(seed, &countries(&[("US", 0.9), ("CA", 0.07), ("MX", 0.03)]));
            let mut prefixes = vec![0.0];
            for c in order.countries() {
                prefixes.push(prefixes.last().copied().unwrap_or(0.0) + c.share);
            }
            for step in 1..=100 {
                let w = f64::from(step) / 100.0;
                let best = prefixes
                    .iter()
                    .map(|p| (p - w).abs())
                    .fold(f64::INFINITY, f64::min);
                let got = order.moved_share(w);
                assert!(
                    ((got - w).abs() - best).abs() < 1e-9,
                    "seed {seed}, weight {w}: moved {got}, nearest prefix is {best} away"
                );
            }
        }
    }
}
