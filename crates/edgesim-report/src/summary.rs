//! The `summary.json` schema. Field names and meanings are stable within a
//! `schema_version`; README.md documents them.

use serde::{Deserialize, Serialize};

use edgesim_sim::{Counters, LatencyHistogram};

/// Version of the summary.json / timeseries.csv schema.
pub const SCHEMA_VERSION: u32 = 1;

/// The machine-readable result of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Schema version, [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Scenario name.
    pub scenario: String,
    /// Run seed.
    pub seed: u64,
    /// Simulated seconds covered.
    pub simulated_secs: f64,
    /// Epoch length, seconds.
    pub epoch_secs: f64,
    /// Epochs simulated.
    pub epochs: u64,
    /// Whether every epoch of the scenario was simulated.
    pub complete: bool,
    /// Run totals.
    pub totals: Totals,
    /// Viewer latency over the whole run.
    pub latency_ms: LatencyMs,
    /// Per PoP, scenario order (PoPs without traffic included).
    pub pops: Vec<PopSummary>,
    /// Per region (regional edge cache tier), sorted by id.
    pub regions: Vec<RegionSummary>,
    /// Per (country, PoP) route with traffic, by country then PoP.
    pub routes: Vec<RouteSummary>,
    /// Per origin, scenario order.
    pub origins: Vec<OriginSummary>,
    /// Per epoch.
    pub timeseries: Vec<EpochRow>,
}

/// Run totals and the ratios derived from them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    /// Viewer requests.
    pub requests: u64,
    /// Requests answered from an edge cache.
    pub edge_hits: u64,
    /// Requests that waited for a fetch already in flight at their PoP.
    pub edge_collapsed: u64,
    /// Requests PoPs sent to regional edge caches.
    pub regional_requests: u64,
    /// Of those, answered by the regional cache.
    pub regional_hits: u64,
    /// Of those, collapsed onto a fetch in flight from the regional cache.
    pub regional_collapsed: u64,
    /// Requests sent to origins (full fetches and revalidations).
    pub origin_fetches: u64,
    /// Of those, revalidations of stale copies (304, no body).
    pub origin_revalidations: u64,
    /// Bytes sent to viewers.
    pub viewer_bytes: u64,
    /// Bytes fetched from origins.
    pub origin_bytes: u64,
    /// 1 - origin_fetches / requests.
    pub offload_requests: f64,
    /// 1 - origin_bytes / viewer_bytes.
    pub offload_bytes: f64,
    /// edge_hits / requests.
    pub hit_ratio: f64,
    /// regional_hits / regional_requests.
    pub regional_hit_ratio: f64,
}

impl From<&Counters> for Totals {
    fn from(c: &Counters) -> Self {
        Totals {
            requests: c.requests,
            edge_hits: c.edge_hits,
            edge_collapsed: c.edge_collapsed,
            regional_requests: c.regional_requests,
            regional_hits: c.regional_hits,
            regional_collapsed: c.regional_collapsed,
            origin_fetches: c.origin_fetches,
            origin_revalidations: c.origin_revalidations,
            viewer_bytes: c.viewer_bytes,
            origin_bytes: c.origin_bytes,
            offload_requests: c.offload_requests(),
            offload_bytes: c.offload_bytes(),
            hit_ratio: c.hit_ratio(),
            regional_hit_ratio: c.regional_hit_ratio(),
        }
    }
}

/// Latency statistics in milliseconds (microsecond resolution, 3
/// significant digits). All zero when there were no requests.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct LatencyMs {
    /// Smallest.
    pub min: f64,
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Largest.
    pub max: f64,
}

/// Microseconds to milliseconds, rounded to the microsecond.
fn ms(us: f64) -> f64 {
    (us).round() / 1000.0
}

impl LatencyMs {
    /// Statistics of a µs histogram.
    pub fn of(h: &LatencyHistogram) -> LatencyMs {
        if h.is_empty() {
            return LatencyMs::default();
        }
        let q = |q: f64| ms(h.value_at_quantile(q) as f64);
        LatencyMs {
            min: ms(h.min() as f64),
            mean: ms(h.mean()),
            p50: q(0.50),
            p90: q(0.90),
            p99: q(0.99),
            p999: q(0.999),
            max: ms(h.max() as f64),
        }
    }
}

/// One PoP over the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PopSummary {
    /// PoP id.
    pub id: String,
    /// Airport code, when placed by city.
    pub city: Option<String>,
    /// Region id.
    pub region: String,
    /// Viewer requests.
    pub requests: u64,
    /// Edge hits.
    pub edge_hits: u64,
    /// Requests collapsed onto a fetch in flight at the PoP.
    pub edge_collapsed: u64,
    /// Requests sent to the regional edge cache.
    pub regional_requests: u64,
    /// Of those, regional hits.
    pub regional_hits: u64,
    /// Origin fetches caused by this PoP's requests.
    pub origin_fetches: u64,
    /// edge_hits / requests.
    pub hit_ratio: f64,
    /// Viewer latency.
    pub latency_ms: LatencyMs,
}

/// One region's regional edge cache over the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegionSummary {
    /// Region id.
    pub id: String,
    /// Regional edge cache capacity, bytes (0: none).
    pub cache_bytes: u64,
    /// Viewer requests at the region's PoPs.
    pub requests: u64,
    /// Requests its PoPs sent to the regional cache.
    pub regional_requests: u64,
    /// Of those, answered by the regional cache.
    pub regional_hits: u64,
    /// Of those, collapsed onto a fetch in flight.
    pub regional_collapsed: u64,
    /// regional_hits / regional_requests.
    pub regional_hit_ratio: f64,
    /// Origin fetches from the region.
    pub origin_fetches: u64,
    /// 1 - origin_fetches / requests, over the region's viewer requests.
    pub offload_requests: f64,
}

/// One (country, PoP) route over the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteSummary {
    /// ISO country code.
    pub country: String,
    /// PoP id.
    pub pop: String,
    /// Viewer requests.
    pub requests: u64,
    /// Viewer latency (min shows the network floor of the route).
    pub latency_ms: LatencyMs,
}

/// One origin over the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OriginSummary {
    /// Origin id.
    pub id: String,
    /// Fetches received.
    pub fetches: u64,
    /// Bytes served.
    pub bytes: u64,
}

/// One epoch of the time series (also a row of timeseries.csv).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRow {
    /// Epoch number.
    pub epoch: u64,
    /// Simulated start, seconds.
    pub start_secs: f64,
    /// Simulated end, seconds.
    pub end_secs: f64,
    /// Viewer requests.
    pub requests: u64,
    /// Edge hits.
    pub edge_hits: u64,
    /// Requests collapsed at PoPs.
    pub edge_collapsed: u64,
    /// Regional cache hits.
    pub regional_hits: u64,
    /// Origin fetches.
    pub origin_fetches: u64,
    /// Bytes to viewers.
    pub viewer_bytes: u64,
    /// Bytes from origins.
    pub origin_bytes: u64,
    /// Request offload.
    pub offload_requests: f64,
    /// Byte offload.
    pub offload_bytes: f64,
    /// Median latency, ms.
    pub p50_ms: f64,
    /// 90th percentile latency, ms.
    pub p90_ms: f64,
    /// 99th percentile latency, ms.
    pub p99_ms: f64,
    /// 99.9th percentile latency, ms.
    pub p999_ms: f64,
}

impl EpochRow {
    /// The CSV header, matching [`EpochRow::csv_line`].
    pub const CSV_HEADER: &'static str = "epoch,start_secs,end_secs,requests,edge_hits,edge_collapsed,regional_hits,origin_fetches,viewer_bytes,origin_bytes,offload_requests,offload_bytes,p50_ms,p90_ms,p99_ms,p999_ms";

    /// The row as one CSV line (no newline).
    pub fn csv_line(&self) -> String {
        format!(
            "{},{},{},{},{},{},{},{},{},{},{:.6},{:.6},{},{},{},{}",
            self.epoch,
            self.start_secs,
            self.end_secs,
            self.requests,
            self.edge_hits,
            self.edge_collapsed,
            self.regional_hits,
            self.origin_fetches,
            self.viewer_bytes,
            self.origin_bytes,
            self.offload_requests,
            self.offload_bytes,
            self.p50_ms,
            self.p90_ms,
            self.p99_ms,
            self.p999_ms
        )
    }
}
