//! Whole runs against the cache models of the literature, computed here
//! from their formulas and nothing of edgesim's:
//!
//! - an LRU PoP cache under independent Zipf requests has the hit ratio of
//!   Che's approximation (Che, Tung, Wang 2002; Fricker, Robert, Roberts
//!   2012): object i, asked for with probability p_i, is in the cache with
//!   probability 1 - exp(-p_i T), where the characteristic time T (in
//!   requests) solves sum_i (1 - exp(-p_i T)) = C;
//! - a PoP cache large enough to keep everything, with a TTL, is a renewal
//!   process per object: a miss at rate λ_i is followed by the fetch (d,
//!   requests in it collapse onto it) and TTL seconds of hits, so the share
//!   of requests answered without a fetch is λ_i (TTL + d) / (1 + λ_i (TTL + d)).
//!
//! The measured differences are quoted in docs/model.md.

use std::sync::Arc;

use edgesim_coordinator::{AgentSource, RunConfig, run};
use edgesim_model::Scenario;
use edgesim_report::Summary;

/// One PoP (FRA), no regional cache, one origin, one class of 8 KiB objects.
fn scenario(objects: u64, alpha: f64, cache_objects: u64, ttl_secs: u64, rate: u64) -> String {
    format!(
        r#"
name = "model-reference"
[simulation]
duration_secs = 900
epoch_ms = 1000
seed = 23
[[pops]]
id = "fra"
city = "FRA"
cache_bytes = "{cache_kib}KiB"
[[origins]]
id = "o"
kind = "custom"
location = "eu-west-1"
[catalog]
objects = {objects}
zipf_alpha = {alpha}
size = "8KiB"
ttl_secs = {ttl_secs}
[viewers]
requests_per_sec = {rate}
countries = {{ DE = 1 }}
"#,
        cache_kib = cache_objects * 8
    )
}

async fn run_one(text: &str) -> Summary {
    let s = Scenario::from_toml("model-reference.toml", text).unwrap_or_else(|d| panic!("{d}"));
    run(
        Arc::new(s),
        text,
        &RunConfig::new(AgentSource::InProcess { count: 1 }),
        |_| {},
    )
    .await
    .expect("run succeeds")
}

/// Zipf popularity: p_i ∝ i^-alpha over 1..=n.
fn zipf(n: u64, alpha: f64) -> Vec<f64> {
    let w: Vec<f64> = (1..=n).map(|i| (i as f64).powf(-alpha)).collect();
    let sum: f64 = w.iter().sum();
    w.into_iter().map(|x| x / sum).collect()
}

/// Che's approximation of an LRU cache of `c` objects.
fn che_hit_ratio(p: &[f64], c: f64) -> f64 {
    let occupancy = |t: f64| p.iter().map(|&pi| 1.0 - (-pi * t).exp()).sum::<f64>();
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    while occupancy(hi) < c {
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if occupancy(mid) < c {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let t = 0.5 * (lo + hi);
    p.iter().map(|&pi| pi * (1.0 - (-pi * t).exp())).sum()
}

/// The share of requests answered from the PoP (hits and collapsed) over
/// the epochs after the first third (the warm-up).
fn steady_answered_at_edge(s: &Summary) -> f64 {
    let rows = &s.timeseries[s.timeseries.len() / 3..];
    let requests: u64 = rows.iter().map(|r| r.requests).sum();
    let at_edge: u64 = rows.iter().map(|r| r.edge_hits + r.edge_collapsed).sum();
    at_edge as f64 / requests as f64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_lru_pop_has_the_hit_ratio_of_ches_approximation() {
    let (objects, cache) = (10_000, 1_000);
    for alpha in [0.6, 0.8, 1.0] {
        // A TTL far beyond the run: only capacity evicts.
        let s = run_one(&scenario(objects, alpha, cache, 86_400, 200)).await;
        let measured = steady_answered_at_edge(&s);
        let che = che_hit_ratio(&zipf(objects, alpha), cache as f64);
        eprintln!("LRU alpha {alpha}: measured {measured:.4}, Che {che:.4}");
        assert!(
            (measured - che).abs() < 0.005,
            "alpha {alpha}: measured {measured:.4}, Che's approximation {che:.4}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ttl_cache_has_the_hit_ratio_of_the_renewal_model() {
    let (objects, rate) = (2_000u64, 200.0);
    for (alpha, ttl) in [(0.8, 10u64), (0.8, 60), (1.1, 30)] {
        // Room for every object: only the TTL evicts.
        let s = run_one(&scenario(objects, alpha, objects + 100, ttl, rate as u64)).await;
        let measured = steady_answered_at_edge(&s);
        // d: the fetch, FRA to eu-west-1 and back plus the origin's
        // service (median 20 ms): about 50 ms, small beside the TTL.
        let d = 0.05;
        let model: f64 = zipf(objects, alpha)
            .iter()
            .map(|&pi| {
                let x = pi * rate * (ttl as f64 + d);
                pi * x / (1.0 + x)
            })
            .sum();
        eprintln!("TTL {ttl} s alpha {alpha}: measured {measured:.4}, renewal model {model:.4}");
        assert!(
            (measured - model).abs() < 0.005,
            "TTL {ttl} s, alpha {alpha}: measured {measured:.4}, model {model:.4}"
        );
    }
}
