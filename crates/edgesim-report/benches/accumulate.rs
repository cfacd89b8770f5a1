//! Report cost at scale: folding one epoch of region reports for 300 PoPs
//! (30 regions, 900 routes, 4 origins) into the run, then the summary and
//! the whole report directory (data files, 7 plots as SVG and PNG, page).
//!
//! Run: `cargo bench -p edgesim-report --bench accumulate`

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant;

use edgesim_model::Scenario;
use edgesim_report::RunAccumulator;
use edgesim_sim::metrics::{encode_histogram, new_latency_histogram, record_latency};
use edgesim_sim::{Counters, OriginEpoch, PopEpoch, RegionEpochReport, RouteEpoch};

const REGIONS: usize = 30;
const POPS_PER_REGION: usize = 10;
const EPOCHS: u64 = 60;
const COUNTRIES: [&str; 20] = [
    "US", "CA", "BR", "MX", "DE", "FR", "GB", "NL", "PL", "ES", "IT", "SE", "JP", "KR", "IN", "SG",
    "ID", "AU", "ZA", "AR",
];

fn scenario() -> Arc<Scenario> {
    let mut toml =
        String::from("name = \"bench\"\n[simulation]\nduration_secs = 60\nepoch_ms = 1000\n");
    for r in 0..REGIONS {
        for p in 0..POPS_PER_REGION {
            let lat = -40.0 + (r * 3) as f64 + p as f64 * 0.3;
            let lon = -170.0 + (r * 11) as f64 + p as f64 * 0.5;
            let _ = write!(
                toml,
                "[[pops]]\nid = \"p{r:02}{p}\"\nlat = {lat}\nlon = {lon}\nregion = \"r{r:02}\"\ncache_bytes = \"1GiB\"\n"
            );
        }
    }
    for o in 0..4 {
        let _ = write!(
            toml,
            "[[origins]]\nid = \"o{o}\"\nkind = \"custom\"\nlocation = \"us-east-1\"\n"
        );
    }
    toml.push_str("[catalog]\nobjects = 1000\nzipf_alpha = 1.0\nsize = \"10KiB\"\n");
    toml.push_str("[viewers]\nrequests_per_sec = 100000\ncountries = { ");
    let weights: Vec<String> = COUNTRIES.iter().map(|c| format!("{c} = 1")).collect();
    toml.push_str(&weights.join(", "));
    toml.push_str(" }\n");
    Arc::new(Scenario::from_toml("bench.toml", &toml).expect("bench scenario is valid"))
}

/// One region's report: ~3,000 requests per PoP over 1 ms..1 s.
// The `..default()`s keep this compiling as fields are added to the
// engine's report types.
#[allow(clippy::needless_update)]
fn report(s: &Scenario, region: usize, epoch: u64) -> RegionEpochReport {
    let mut pops = Vec::new();
    let mut routes = Vec::new();
    let mut fetches = 0;
    for &p in &s.regions[region].pops {
        let requests = 3_000;
        let mut h = new_latency_histogram();
        for k in 0..requests {
            record_latency(&mut h, 1_000 + (k * 7_919 + p as u64 * 104_729) % 1_000_000);
        }
        let v2 = encode_histogram(&h);
        fetches += 600;
        pops.push(PopEpoch {
            pop: p,
            counters: Counters {
                requests,
                edge_hits: 2_400,
                origin_fetches: 600,
                viewer_bytes: requests * 10_000,
                origin_bytes: 600 * 10_000,
                ..Counters::default()
            },
            latency_v2: v2.clone(),
        });
        for k in 0..3 {
            routes.push(RouteEpoch {
                country: (p + 7 * k) % COUNTRIES.len(),
                pop: p,
                requests: requests / 3,
                latency_v2: v2.clone(),
            });
        }
    }
    routes.sort_by_key(|r| (r.country, r.pop));
    let origins = (0..4)
        .map(|o| OriginEpoch {
            origin: o,
            fetches: fetches / 4,
            bytes: fetches / 4 * 10_000,
            ..OriginEpoch::default()
        })
        .collect();
    RegionEpochReport {
        region,
        epoch,
        pops,
        routes,
        origins,
        ..RegionEpochReport::default()
    }
}

fn main() {
    let s = scenario();
    let first: Vec<RegionEpochReport> = (0..s.regions.len()).map(|r| report(&s, r, 0)).collect();
    let epochs: Vec<Vec<RegionEpochReport>> = (0..EPOCHS)
        .map(|e| {
            let mut reports = first.clone();
            reports.iter_mut().for_each(|r| r.epoch = e);
            reports
        })
        .collect();
    let mut acc = RunAccumulator::new(Arc::clone(&s));
    let started = Instant::now();
    for (e, reports) in epochs.iter().enumerate() {
        acc.add_epoch(e as u64, reports).expect("bench reports fit");
    }
    let per_epoch = started.elapsed().as_secs_f64() / EPOCHS as f64;
    println!(
        "accumulate/add_epoch ({} PoPs, {} routes, {} regions): {:.2} ms per epoch",
        s.pops.len(),
        epochs[0].iter().map(|r| r.routes.len()).sum::<usize>(),
        s.regions.len(),
        per_epoch * 1e3
    );
    let started = Instant::now();
    let summary = acc.summary();
    println!(
        "accumulate/summary ({EPOCHS} epochs): {:.1} ms",
        started.elapsed().as_secs_f64() * 1e3
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let started = Instant::now();
    edgesim_report::write_report(&dir.path().join("bench"), &summary).expect("report");
    println!(
        "accumulate/write_report (data, 7 plots as SVG+PNG, index.html): {:.2} s",
        started.elapsed().as_secs_f64()
    );
}
