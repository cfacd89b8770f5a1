//! Region engine throughput: simulated requests per second of wall time on
//! one core, for the quickstart workload (LRU, no triggers).
//!
//! Run: `cargo bench -p edgesim-sim --bench region_engine`

use std::sync::Arc;
use std::time::Instant;

use edgesim_model::Scenario;
use edgesim_sim::{RegionSim, Routing};

fn main() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/quickstart.toml");
    let text = std::fs::read_to_string(&path).expect("scenarios/quickstart.toml");
    // The quickstart as shipped, and the same workload at 10x the rate.
    for (label, rate_scale) in [
        ("quickstart (2k req/s, 600 s)", 1.0),
        ("quickstart x10 (20k req/s, 600 s)", 10.0),
    ] {
        let mut s = Scenario::from_toml("quickstart.toml", &text).expect("valid");
        s.viewers.requests_per_sec *= rate_scale;
        let s = Arc::new(s);
        let demand = Routing::nearest(&s).demand(&s, s.viewers.requests_per_sec);
        let mut requests = 0u64;
        let started = Instant::now();
        for (r, region_demand) in demand.iter().enumerate() {
            let mut sim = RegionSim::new(Arc::clone(&s), r);
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
