//! Region engine throughput: simulated requests per second of wall time on
//! one core, for the quickstart workload (LRU PoP caches, no triggers) and
//! the tiers workload (SIEVE PoPs behind S3-FIFO regional caches, three
//! object classes, revalidations, collapsing).
//!
//! Run: `cargo bench -p edgesim-sim --bench region_engine`

use std::sync::Arc;
use std::time::Instant;

use edgesim_model::Scenario;
use edgesim_sim::{RegionSim, Routing};

fn main() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
    let text = |name: &str| std::fs::read_to_string(dir.join(name)).expect("shipped scenario");
    let (quickstart, tiers) = (text("quickstart.toml"), text("tiers.toml"));
    // The scenarios as shipped, and at a higher rate.
    for (label, text, rate_scale) in [
        ("quickstart (2k req/s, 600 s)", &quickstart, 1.0),
        ("quickstart x10 (20k req/s, 600 s)", &quickstart, 10.0),
        ("tiers (5k req/s, 600 s)", &tiers, 1.0),
        ("tiers x4 (20k req/s, 600 s)", &tiers, 4.0),
    ] {
        let mut s = Scenario::from_toml("bench.toml", text).expect("valid");
        s.viewers.requests_per_sec *= rate_scale;
        let s = Arc::new(s);
        let demand = Routing::nearest(&s).demand(&s, s.viewers.requests_per_sec);
        let mut requests = 0u64;
        let started = Instant::now();
        for (r, region_demand) in demand.iter().enumerate() {
            let mut sim = RegionSim::new(Arc::clone(&s), r).expect("region compiles");
            for e in 0..s.simulation.epochs() {
                let rep = sim.advance(e, region_demand).expect("advance");
                requests += rep.pops.iter().map(|p| p.counters.requests).sum::<u64>();
            }
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "region_engine/{label}: {requests} requests in {secs:.3} s on one core = {:.2} M simulated req/s",
            requests as f64 / secs / 1e6
        );
    }
}
