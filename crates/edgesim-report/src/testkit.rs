//! Test fixtures: a small scenario (two regions, one with a regional edge
//! cache; four PoPs; three countries; two origins) and synthetic region
//! reports for it that obey the counters' identities.

use std::sync::Arc;

use edgesim_model::Scenario;
use edgesim_sim::metrics::{encode_histogram, new_latency_histogram, record_latency};
use edgesim_sim::{Counters, OriginEpoch, PopEpoch, RegionEpochReport, RouteEpoch};

use crate::{RunAccumulator, Summary};

pub const SCENARIO: &str = r#"
name = "tiny"
description = "Four PoPs, three countries, two origins."
[simulation]
duration_secs = 6
epoch_ms = 1000
seed = 3
[[regions]]
id = "eu-central-1"
cache_bytes = "1GiB"
[[pops]]
id = "fra"
city = "FRA"
region = "eu-central-1"
cache_bytes = "64MiB"
[[pops]]
id = "ams"
city = "AMS"
region = "eu-central-1"
cache_bytes = "64MiB"
[[pops]]
id = "iad"
city = "IAD"
region = "us-east-1"
cache_bytes = "64MiB"
[[pops]]
id = "gru"
city = "GRU"
region = "us-east-1"
cache_bytes = "64MiB"
[[origins]]
id = "media"
kind = "s3"
location = "us-east-1"
[[origins]]
id = "api"
kind = "custom"
location = "eu-west-1"
[[catalog.classes]]
name = "media"
share = 0.7
objects = 1000
zipf_alpha = 1.0
size = "10KiB"
origin = "media"
[[catalog.classes]]
name = "api"
share = 0.3
objects = 100
zipf_alpha = 1.0
size = "1KiB"
origin = "api"
[viewers]
requests_per_sec = 1000
countries = { DE = 0.4, US = 0.4, BR = 0.2 }
"#;

/// The fixture scenario.
pub fn scenario() -> Arc<Scenario> {
    Arc::new(Scenario::from_toml("tiny.toml", SCENARIO).expect("fixture scenario is valid"))
}

/// The one country each fixture PoP serves.
fn country_of(pop: &str) -> &'static str {
    match pop {
        "fra" | "ams" => "DE",
        "iad" => "US",
        _ => "BR",
    }
}

/// One region's synthetic report for `epoch`; `salt` varies the numbers.
// The `..default()`s keep this compiling as fields are added to the
// engine's report types.
#[allow(clippy::needless_update)]
pub fn region_report(s: &Scenario, region: usize, epoch: u64, salt: u64) -> RegionEpochReport {
    let regional_cache = s.regions[region].cache.is_some();
    let mut pops = Vec::new();
    let mut routes = Vec::new();
    let mut origin_fetches = 0;
    let (mut ok, mut slow_down) = (0, 0);
    for &p in &s.regions[region].pops {
        let requests = 200 + 40 * p as u64 + 25 * epoch + salt;
        let edge_hits = requests * 6 / 10;
        let edge_collapsed = requests / 20;
        let upstream = requests - edge_hits - edge_collapsed;
        let (regional_requests, regional_hits, regional_collapsed) = if regional_cache {
            (upstream, upstream / 2, upstream / 10)
        } else {
            (0, 0, 0)
        };
        let fetches = upstream - regional_hits - regional_collapsed;
        origin_fetches += fetches;
        let counters = Counters {
            requests,
            edge_hits,
            edge_collapsed,
            regional_requests,
            regional_hits,
            regional_collapsed,
            origin_fetches: fetches,
            origin_revalidations: fetches / 10,
            viewer_bytes: requests * 8_000,
            origin_bytes: fetches * 8_000,
            // A few 503 Slow Down answers among the fetches.
            status_2xx: requests - fetches / 8,
            status_5xx: fetches / 8,
            ..Counters::default()
        };
        ok += counters.status_2xx;
        slow_down += counters.status_5xx;
        let mut h = new_latency_histogram();
        for k in 0..requests {
            // A network floor per PoP plus a spread, with misses slower.
            let slow = if k < fetches { 80_000 } else { 0 };
            record_latency(&mut h, 5_000 + 9_000 * p as u64 + (k % 97) * 400 + slow);
        }
        let latency_v2 = encode_histogram(&h);
        let country = s
            .viewers
            .countries
            .iter()
            .position(|c| c.code == country_of(&s.pops[p].id))
            .expect("fixture country");
        pops.push(PopEpoch {
            pop: p,
            counters,
            latency_v2: latency_v2.clone(),
        });
        routes.push(RouteEpoch {
            country,
            pop: p,
            requests,
            latency_v2,
        });
    }
    routes.sort_by_key(|r| (r.country, r.pop));
    let to_api = origin_fetches * 3 / 10;
    let origins = vec![
        OriginEpoch {
            origin: 0,
            fetches: origin_fetches - to_api,
            bytes: (origin_fetches - to_api) * 8_000,
            ..OriginEpoch::default()
        },
        OriginEpoch {
            origin: 1,
            fetches: to_api,
            bytes: to_api * 8_000,
            ..OriginEpoch::default()
        },
    ]
    .into_iter()
    .filter(|o| o.fetches > 0)
    .collect();
    RegionEpochReport {
        region,
        epoch,
        pops,
        routes,
        origins,
        outcomes: edgesim_sim::ViewerOutcomes {
            statuses: [(200, ok), (503, slow_down)]
                .into_iter()
                .filter(|x| x.1 > 0)
                .collect(),
            errors_by_source: {
                let mut v = vec![0; edgesim_sim::AnswerSource::ALL.len()];
                v[edgesim_sim::AnswerSource::OriginSlowDown as usize] = slow_down;
                v
            },
        },
        ..RegionEpochReport::default()
    }
}

/// Every region's report for `epoch`, in region order.
pub fn epoch_reports(s: &Scenario, epoch: u64) -> Vec<RegionEpochReport> {
    (0..s.regions.len())
        .map(|r| region_report(s, r, epoch, 0))
        .collect()
}

/// The summary of the fixture run over its first `epochs` epochs.
pub fn summary(epochs: u64) -> Summary {
    let s = scenario();
    let mut acc = RunAccumulator::new(Arc::clone(&s));
    for e in 0..epochs {
        acc.add_epoch(e, &epoch_reports(&s, e))
            .expect("fixture reports fit");
    }
    acc.summary()
}
