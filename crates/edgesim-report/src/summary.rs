//! The `summary.json` schema. Field names and meanings are stable within a
//! `schema_version`; README.md documents them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use edgesim_sim::{Counters, LatencyHistogram};

use crate::histograms::RunHistograms;

/// Version of the summary.json / timeseries.csv schema. Fields are only
/// ever added within a version (timeseries.csv columns at the end); a
/// field whose meaning changes bumps it.
pub const SCHEMA_VERSION: u32 = 1;

/// The machine-readable result of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Schema version, [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Scenario name.
    pub scenario: String,
    /// Scenario description (free text from the scenario file).
    pub description: String,
    /// Run seed.
    pub seed: u64,
    /// The scenario's simulated duration, seconds (what a complete run covers).
    pub duration_secs: f64,
    /// Simulated seconds covered.
    pub simulated_secs: f64,
    /// Epoch length, seconds.
    pub epoch_secs: f64,
    /// Epochs simulated.
    pub epochs: u64,
    /// Whether every epoch of the scenario was simulated.
    pub complete: bool,
    /// What viewers got: answers by status, the error rate and errors by
    /// cause, over the run and per epoch.
    #[serde(default)]
    pub viewer_outcomes: ViewerOutcomes,
    /// Where viewers' time to first byte went: connection set-up, TLS,
    /// the edge, functions, the regional tiers, the origin, waiting for a
    /// fetch in flight.
    #[serde(default)]
    pub latency_breakdown: LatencyBreakdown,
    /// Connections opened, resumed and reused, viewer and origin side.
    #[serde(default)]
    pub connections: ConnectionsSummary,
    /// Run totals.
    pub totals: Totals,
    /// Viewer latency over the whole run.
    pub latency_ms: LatencyMs,
    /// Per PoP, scenario order (PoPs without traffic included).
    pub pops: Vec<PopSummary>,
    /// Per region (regional edge cache tier), sorted by id.
    pub regions: Vec<RegionSummary>,
    /// Per origin with an Origin Shield (the tier between regional edge
    /// caches and the origin), scenario order; absent without shields.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shields: Vec<crate::shield::ShieldSummary>,
    /// Per viewer country, scenario order (by code), countries without
    /// traffic included.
    pub countries: Vec<CountrySummary>,
    /// Per (country, PoP) route with traffic, by country then PoP.
    pub routes: Vec<RouteSummary>,
    /// Per origin, scenario order.
    pub origins: Vec<OriginSummary>,
    /// Per (behaviour, stage) with a function that ran, in behaviour then
    /// stage order.
    #[serde(default)]
    pub triggers: Vec<TriggerSummary>,
    /// The account's Lambda@Edge quotas per region (present when the
    /// scenario has functions); usage is in `regions[].lambda`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lambda_quotas: Option<LambdaQuotasSummary>,
    /// Per A/B variant (built-in `ab_test`), by name.
    #[serde(default)]
    pub variants: Vec<VariantSummary>,
    /// Per epoch.
    pub timeseries: Vec<EpochRow>,
    /// Latency percentiles per epoch of the busiest countries and PoPs and
    /// of every A/B variant (see [`TimeseriesBy`]).
    #[serde(default)]
    pub timeseries_by: TimeseriesBy,
    /// The gradual origin migration, when the scenario has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migration: Option<MigrationSummary>,
    /// What happened to the run itself (agents that failed), in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub incidents: Vec<Incident>,
    /// What the run would cost at list prices, per run and per month
    /// (`crate::cost`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<crate::cost::CostSummary>,
    /// The latency histograms behind the percentiles, for the CDF plots.
    /// Not part of summary.json: written to histograms.json beside it.
    #[serde(skip)]
    pub histograms: RunHistograms,
    /// Functions' console output per region id (as the regions kept it), written to
    /// `function-logs/<region>.log`. Not part of summary.json.
    #[serde(skip)]
    pub function_logs: BTreeMap<String, Vec<String>>,
}

impl Summary {
    /// Viewer requests by the tier that answered them, over the run.
    pub fn tiers(&self) -> TierShares {
        let t = &self.totals;
        TierShares::of(
            t.requests,
            t.edge_hits + t.edge_collapsed,
            t.regional_hits + t.regional_collapsed,
            t.origin_fetches,
        )
        .with_shield(t.requests, t.shield_hits + t.shield_collapsed)
        .with_function(t.requests, t.function_answers, t.unresolved)
    }
}

/// Time to first byte by part (see `edgesim_sim::TtfbParts::NAMES`): the
/// mean per answer in ms over the run and per epoch, and each part's share
/// of the total. The parts of every answer add up to its latency, so the
/// means add up to the mean latency.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LatencyBreakdown {
    /// Answers counted.
    pub answers: u64,
    /// Mean time to first byte, ms.
    pub mean_ms: f64,
    /// Mean of each part, ms.
    pub parts_mean_ms: BTreeMap<String, f64>,
    /// Each part's share of the total time.
    pub parts_share: BTreeMap<String, f64>,
    /// Mean of each part per epoch, ms (0 for an epoch without answers).
    pub parts_mean_ms_per_epoch: BTreeMap<String, Vec<f64>>,
}

impl LatencyBreakdown {
    /// From per-epoch (answers, sums of parts).
    pub fn of(epochs: &[(u64, edgesim_sim::TtfbParts)]) -> LatencyBreakdown {
        use edgesim_sim::TtfbParts;
        let mut total = TtfbParts::default();
        let mut answers = 0;
        for (n, t) in epochs {
            answers += n;
            total.add(t);
        }
        // Mean per answer, ms.
        let mean = |us: u64, n: u64| crate::accumulate::share(us, n) / 1000.0;
        let all_us = total.total_us();
        let mut out = LatencyBreakdown {
            answers,
            mean_ms: mean(all_us, answers),
            ..LatencyBreakdown::default()
        };
        for (i, name) in TtfbParts::NAMES.iter().enumerate() {
            let name = (*name).to_owned();
            out.parts_mean_ms
                .insert(name.clone(), mean(total.us[i], answers));
            out.parts_share
                .insert(name.clone(), crate::accumulate::share(total.us[i], all_us));
            out.parts_mean_ms_per_epoch.insert(
                name,
                epochs.iter().map(|(n, t)| mean(t.us[i], *n)).collect(),
            );
        }
        out
    }
}

/// Connections over a run: on the viewer leg, per request; on the origin
/// leg, per fetch.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ConnectionsSummary {
    /// Requests that opened a viewer connection with a full handshake.
    pub viewer_new: u64,
    /// Requests that opened one resuming a TLS session.
    pub viewer_resumed: u64,
    /// Requests on an open viewer connection.
    pub viewer_reused: u64,
    /// Share of requests on an open connection.
    pub viewer_reuse_share: f64,
    /// Fetches that opened a connection to an origin.
    pub origin_new: u64,
    /// Fetches on a kept-alive connection.
    pub origin_reused: u64,
    /// Share of fetches on a kept-alive connection.
    pub origin_reuse_share: f64,
}

impl ConnectionsSummary {
    /// From the run's counts.
    pub fn of(c: &edgesim_sim::ConnectionCounts) -> ConnectionsSummary {
        use crate::accumulate::share;
        ConnectionsSummary {
            viewer_new: c.viewer_new,
            viewer_resumed: c.viewer_resumed,
            viewer_reused: c.viewer_reused,
            viewer_reuse_share: share(
                c.viewer_reused,
                c.viewer_new + c.viewer_resumed + c.viewer_reused,
            ),
            origin_new: c.origin_new,
            origin_reused: c.origin_reused,
            origin_reuse_share: share(c.origin_reused, c.origin_new + c.origin_reused),
        }
    }
}

/// What viewers got over a run (see README's summary.json table).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ViewerOutcomes {
    /// Viewer answers (every request is answered once).
    pub answers: u64,
    /// Answers with a status >= 400.
    pub errors: u64,
    /// errors / answers (0 without answers).
    pub error_rate: f64,
    /// Share of answers with a status >= 500.
    pub server_error_rate: f64,
    /// Answers per status class: `2xx`, `3xx`, `4xx`, `5xx`.
    pub status_classes: BTreeMap<String, u64>,
    /// Answers per exact status (`"200"`, `"302"`, `"404"`, `"502"`, ...).
    pub statuses: BTreeMap<String, u64>,
    /// Error answers by cause, every cause listed: `origin_error`,
    /// `function_error`, `invalid_function_result`, `throttle`, `timeout`,
    /// `origin_unreachable`, `function_generated`.
    pub errors_by_cause: BTreeMap<String, u64>,
    /// Error answers by finer source (throttles and timeouts split into
    /// Lambda's and the origin's), sources with errors only.
    pub errors_by_source: BTreeMap<String, u64>,
    /// Error answers per cause in each epoch (aligned with `timeseries`),
    /// causes with errors only.
    pub errors_by_cause_per_epoch: BTreeMap<String, Vec<u64>>,
}

impl ViewerOutcomes {
    /// The causes with errors, most errors first (ties: report order).
    pub fn top_causes(&self) -> Vec<(&str, u64)> {
        let mut causes: Vec<(usize, &str, u64)> = edgesim_sim::ErrorCause::ALL
            .iter()
            .enumerate()
            .map(|(i, c)| {
                (
                    i,
                    c.name(),
                    self.errors_by_cause.get(c.name()).copied().unwrap_or(0),
                )
            })
            .filter(|c| c.2 > 0)
            .collect();
        causes.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
        causes.into_iter().map(|(_, n, e)| (n, e)).collect()
    }
}

/// A cause's name for people: `origin_error` -> "origin error".
pub fn cause_label(cause: &str) -> &'static str {
    match cause {
        "origin_error" => "origin error (the origin's own 4xx/5xx)",
        "function_error" => "function error (threw or failed: 503)",
        "invalid_function_result" => "invalid function result (502)",
        "throttle" => "throttle (Lambda quota 503, origin 503 Slow Down)",
        "timeout" => "timeout (function 503, origin 504)",
        "origin_unreachable" => "origin unreachable (origin down, domain does not resolve)",
        "function_generated" => "generated by a function (its own 4xx/5xx)",
        _ => "other",
    }
}

/// Shares of viewer requests by the tier that answered them; they sum to
/// 1 (all 0 when there were no requests).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TierShares {
    /// Answered at the PoP: edge hits and requests collapsed onto a fetch
    /// in flight there.
    pub edge: f64,
    /// Answered by the regional edge cache: regional hits and collapsed.
    pub regional: f64,
    /// Answered by an Origin Shield: shield hits and collapsed.
    pub shield: f64,
    /// Sent to an origin.
    pub origin: f64,
    /// Answered by a function at viewer-request or origin-request
    /// (generated responses and failures).
    pub function: f64,
    /// Answered 502 by CloudFront: the origin a function chose does not
    /// resolve.
    pub unresolved: f64,
}

impl TierShares {
    /// Shares of `requests` answered at each tier.
    pub fn of(requests: u64, edge: u64, regional: u64, origin: u64) -> TierShares {
        if requests == 0 {
            return TierShares::default();
        }
        let share = |n: u64| n as f64 / requests as f64;
        TierShares {
            edge: share(edge),
            regional: share(regional),
            shield: 0.0,
            origin: share(origin),
            function: 0.0,
            unresolved: 0.0,
        }
    }

    /// The same with `function` of `requests` answered by functions and
    /// `unresolved` answered 502 for an origin that does not resolve.
    pub fn with_function(self, requests: u64, function: u64, unresolved: u64) -> TierShares {
        if requests == 0 {
            return self;
        }
        TierShares {
            function: function as f64 / requests as f64,
            unresolved: unresolved as f64 / requests as f64,
            ..self
        }
    }

    /// The same with `shield` of `requests` answered by Origin Shields.
    pub fn with_shield(self, requests: u64, shield: u64) -> TierShares {
        if requests == 0 {
            return self;
        }
        TierShares {
            shield: shield as f64 / requests as f64,
            ..self
        }
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn is_zero_f64(x: &f64) -> bool {
    *x == 0.0
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
    /// Requests regional edge caches (or PoPs without one) sent to Origin
    /// Shields (absent without shields).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub shield_requests: u64,
    /// Of those, answered from the shield's cache.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub shield_hits: u64,
    /// Of those, collapsed onto a fetch already in flight from the shield.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub shield_collapsed: u64,
    /// shield_hits / shield_requests.
    #[serde(default, skip_serializing_if = "is_zero_f64")]
    pub shield_hit_ratio: f64,
    /// Bytes Origin Shields answered from their caches.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub shield_bytes: u64,
    /// Requests a Lambda@Edge function answered (generated response or
    /// failure) at viewer-request or origin-request, instead of the cache
    /// or the origin.
    #[serde(default)]
    pub function_answers: u64,
    /// Requests answered 502 because the origin an origin-request function
    /// chose does not resolve.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unresolved: u64,
    /// Answers with a 2xx status.
    #[serde(default)]
    pub status_2xx: u64,
    /// Answers with a 3xx status.
    #[serde(default)]
    pub status_3xx: u64,
    /// Answers with a 4xx status.
    #[serde(default)]
    pub status_4xx: u64,
    /// Answers with a 5xx status (Lambda@Edge 502/503 included).
    #[serde(default)]
    pub status_5xx: u64,
}

/// One behaviour's Lambda@Edge function at one stage, over the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TriggerSummary {
    /// The behaviour's path pattern.
    pub behavior: String,
    /// `viewer-request`, `origin-request`, `origin-response` or `viewer-response`.
    pub stage: String,
    /// Invocations.
    pub invocations: u64,
    /// Invocations that generated a response.
    pub responded: u64,
    /// Invalid results: the viewer got 502.
    pub invalid: u64,
    /// Exceptions: 503.
    pub errors: u64,
    /// Timeouts: 503.
    pub timeouts: u64,
    /// Out of memory: 503.
    pub out_of_memory: u64,
    /// Throttled: 503.
    pub throttled: u64,
    /// Cold starts.
    pub cold_starts: u64,
    /// Console lines the function wrote.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub log_lines: u64,
    /// Invocations whose console output the per-invocation cap (1,000 lines, 256 KiB) cut.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub log_truncated: u64,
    /// Mean simulated run time per invocation, ms (cold starts included).
    pub mean_duration_ms: f64,
    /// Mean round trip per invocation between the PoP and the regional
    /// edge cache's region, where Lambda@Edge runs, ms (0 for origin
    /// functions of fetches that leave from the regional cache or Origin
    /// Shield).
    #[serde(default)]
    pub mean_trip_ms: f64,
    /// KeyValueStore reads (CloudFront Functions), billed per million.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub kvs_reads: u64,
    /// Invocations in each epoch (aligned with `timeseries`).
    #[serde(default)]
    pub invocations_per_epoch: Vec<u64>,
    /// Failed invocations (invalid, errors, timeouts, out of memory,
    /// throttled) in each epoch (aligned with `timeseries`).
    #[serde(default)]
    pub failures_per_epoch: Vec<u64>,
}

impl TriggerSummary {
    /// Failed invocations: invalid results (502) and errors, timeouts,
    /// out of memory and throttles (503).
    pub fn failures(&self) -> u64 {
        self.invalid + self.errors + self.timeouts + self.out_of_memory + self.throttled
    }
}

/// Most entities per dimension in [`TimeseriesBy`].
pub const TIMESERIES_BY_TOP_N: usize = 6;

/// Viewer latency per epoch broken down by dimension: the
/// [`TIMESERIES_BY_TOP_N`] countries and PoPs with the most requests over
/// the run (busiest first) and the A/B variants (by name, at most as
/// many). Devices and origins are missing: the engine reports no latency
/// histogram per device or per origin per epoch.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TimeseriesBy {
    /// The busiest viewer countries (all their routes merged).
    #[serde(default)]
    pub countries: Vec<EntitySeries>,
    /// The busiest PoPs.
    #[serde(default)]
    pub pops: Vec<EntitySeries>,
    /// The A/B variants of built-in `ab_test` functions.
    #[serde(default)]
    pub variants: Vec<EntitySeries>,
    /// Device classes (index: desktop, mobile, tablet, smarttv).
    #[serde(default)]
    pub devices: Vec<EntitySeries>,
    /// Origins, by the origin the response's content came from (cached or
    /// fetched); index into `origins`.
    #[serde(default)]
    pub origins: Vec<EntitySeries>,
}

/// One entity's viewer latency per epoch; every list is aligned with
/// `timeseries` (percentiles are null in epochs without its requests).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntitySeries {
    /// Country code, PoP id or variant name.
    pub id: String,
    /// Its index in the summary's `countries`, `pops` or `variants` (and
    /// so its colour in the plots).
    pub index: usize,
    /// Its requests over the run.
    pub requests: u64,
    /// Its requests in each epoch.
    pub requests_per_epoch: Vec<u64>,
    /// Median latency per epoch, ms.
    pub p50_ms: Vec<Option<f64>>,
    /// 90th percentile per epoch, ms.
    pub p90_ms: Vec<Option<f64>>,
    /// 99th percentile per epoch, ms.
    pub p99_ms: Vec<Option<f64>>,
    /// 99.9th percentile per epoch, ms.
    pub p999_ms: Vec<Option<f64>>,
}

/// One A/B variant over the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariantSummary {
    /// Variant name.
    pub name: String,
    /// Viewer requests in the variant.
    pub requests: u64,
    /// Of those, answered from the edge cache.
    pub edge_hits: u64,
    /// Of those, sent to an origin.
    pub origin_fetches: u64,
    /// edge_hits / requests.
    pub hit_ratio: f64,
    /// 1 - origin_fetches / requests.
    pub offload_requests: f64,
    /// Viewer latency of the variant's requests.
    pub latency_ms: LatencyMs,
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
            shield_requests: 0,
            shield_hits: 0,
            shield_collapsed: 0,
            shield_hit_ratio: 0.0,
            shield_bytes: 0,
            function_answers: c.function_answers,
            unresolved: c.unresolved,
            status_2xx: c.status_2xx,
            status_3xx: c.status_3xx,
            status_4xx: c.status_4xx,
            status_5xx: c.status_5xx,
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
    /// Latitude, degrees north.
    pub lat: f64,
    /// Longitude, degrees east.
    pub lon: f64,
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
    /// Of those, collapsed onto a fetch in flight from the regional cache.
    pub regional_collapsed: u64,
    /// Origin fetches caused by this PoP's requests.
    pub origin_fetches: u64,
    /// Of this PoP's requests, answered by an Origin Shield.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub shield_answers: u64,
    /// Bytes sent to viewers.
    pub viewer_bytes: u64,
    /// Bytes fetched from origins for this PoP's requests.
    pub origin_bytes: u64,
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
    /// Lambda@Edge in the region against the account's quotas (absent
    /// when no function ran there).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lambda: Option<RegionLambda>,
    /// Console lines of functions kept for `function-logs/<region>.log`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub function_log_lines: u64,
    /// Console lines beyond the region's budget for the run (1 MiB), counted, not kept.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub function_log_lines_dropped: u64,
}

/// The account's Lambda@Edge quotas in every region.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LambdaQuotasSummary {
    /// Concurrent executions per region across all functions.
    pub concurrency_limit: u32,
    /// Invocations per second per region across all functions.
    pub rate_limit_rps: f64,
}

/// One region's Lambda@Edge executions against the account's quotas.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegionLambda {
    /// Most executions running at once.
    pub peak_concurrency: u64,
    /// Invocations refused at the concurrency limit (503).
    pub throttled_concurrency: u64,
    /// Invocations refused at the requests-per-second limit (503).
    pub throttled_rate: u64,
    /// Peak concurrency of every epoch.
    pub peak_concurrency_per_epoch: Vec<u64>,
}

impl RegionLambda {
    /// The run's figures from each epoch's; None when nothing ran.
    pub fn of(epochs: &[edgesim_sim::LambdaEpoch]) -> Option<RegionLambda> {
        if epochs
            .iter()
            .all(|e| *e == edgesim_sim::LambdaEpoch::default())
        {
            return None;
        }
        Some(RegionLambda {
            peak_concurrency: epochs.iter().map(|e| e.peak_concurrency).max().unwrap_or(0),
            throttled_concurrency: epochs.iter().map(|e| e.throttled_concurrency).sum(),
            throttled_rate: epochs.iter().map(|e| e.throttled_rate).sum(),
            peak_concurrency_per_epoch: epochs.iter().map(|e| e.peak_concurrency).collect(),
        })
    }
}

impl PopSummary {
    /// The PoP's requests by the tier that answered them.
    pub fn tiers(&self) -> TierShares {
        TierShares::of(
            self.requests,
            self.edge_hits + self.edge_collapsed,
            self.regional_hits + self.regional_collapsed,
            self.origin_fetches,
        )
        .with_shield(self.requests, self.shield_answers)
    }
}

/// One viewer country over the run; its latency merges the histograms of
/// all its routes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CountrySummary {
    /// ISO 3166-1 alpha-2 code.
    pub code: String,
    /// Latitude of its population centre, degrees north.
    pub lat: f64,
    /// Longitude of its population centre, degrees east.
    pub lon: f64,
    /// Share of all requests in the scenario (weights sum to 1).
    pub weight: f64,
    /// Viewer requests.
    pub requests: u64,
    /// PoPs that served it, by PoP scenario order.
    pub pops: Vec<String>,
    /// Viewer latency.
    pub latency_ms: LatencyMs,
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
    /// `s3` or `custom`.
    pub kind: String,
    /// Where it is, as the scenario names it.
    pub location: String,
    /// Fetches received.
    pub fetches: u64,
    /// Bytes served.
    pub bytes: u64,
    /// Fetches received in each epoch (aligned with `timeseries`).
    pub fetches_per_epoch: Vec<u64>,
    /// Bytes served in each epoch (aligned with `timeseries`).
    pub bytes_per_epoch: Vec<u64>,
    /// Fetches answered with a 5xx status (503 Slow Down included).
    #[serde(default)]
    pub errors: u64,
    /// Fetches answered 503 Slow Down (over its request rate).
    #[serde(default)]
    pub throttled: u64,
    /// Errors in each epoch (aligned with `timeseries`).
    #[serde(default)]
    pub errors_per_epoch: Vec<u64>,
    /// Viewer responses whose content came from this origin.
    #[serde(default)]
    pub served: u64,
    /// Of those, answered from a PoP's cache.
    #[serde(default)]
    pub served_hits: u64,
    /// With limited `concurrency`: the load offered to its servers in each
    /// epoch (fetches that reached its queues x mean service time, slowdown
    /// included, / (servers x epoch length); above 1 a backlog builds).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub utilisation_per_epoch: Vec<f64>,
    /// With limited `concurrency`: the mean wait for a server per fetch
    /// that reached its queues in each epoch, ms (a fetch that gave up at
    /// CloudFront's timeout counts as waiting that long).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub queue_wait_ms_per_epoch: Vec<f64>,
    /// With limited `concurrency`: the waits for a server of all the
    /// fetches that reached its queues over the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_wait_ms: Option<LatencyMs>,
    /// With `throttle_rps`: the request rate above which the origin
    /// answered 503 Slow Down in each epoch (growing under pressure with
    /// `throttle_doubling_secs`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slow_down_limit_per_epoch: Vec<f64>,
}

/// Something that happened to the run itself rather than to the simulated
/// CDN: an agent that died, hung or was cut off, and what the coordinator
/// did about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// The epoch during which it was detected.
    pub epoch: u64,
    /// Start of that epoch, simulated seconds.
    pub at_secs: f64,
    /// `agent_failed`.
    pub kind: String,
    /// The agent (index and address).
    pub agent: String,
    /// The regions it was simulating.
    pub regions: Vec<String>,
    /// Why it was declared failed.
    pub reason: String,
    /// `aborted` (the run stopped; the report covers the epochs before)
    /// or `reassigned` (its regions restarted cold on `to` from this epoch).
    pub action: String,
    /// Agents that took the regions over.
    pub to: Vec<String>,
}

/// A gradual origin migration: what was planned, what happened, and the
/// KPIs strategies are compared by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MigrationSummary {
    /// Origin traffic leaves.
    pub from: String,
    /// Origin traffic moves to.
    pub to: String,
    /// How requests are assigned (`object_hash`, `random`, ...).
    pub split: String,
    /// The schedule, in words.
    pub schedule: String,
    /// The KPIs.
    pub kpis: edgesim_migration::Kpis,
    /// Per epoch, aligned with `timeseries`.
    pub epochs: Vec<MigrationEpoch>,
    /// Every gate evaluation, in time order.
    pub gate_evaluations: Vec<GateEvaluationRow>,
    /// A split by country: the countries in the order they move (fixed by
    /// the seed), each with its traffic share and the weight from which it
    /// moves (see `edgesim_migration::CountryOrder`); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_order: Option<Vec<edgesim_migration::OrderedCountry>>,
}

/// One epoch of a migration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MigrationEpoch {
    /// Epoch number.
    pub epoch: u64,
    /// End of the epoch, simulated seconds.
    pub end_secs: f64,
    /// `pending`, `advancing`, `holding`, `complete`, `rolling_back`, `rolled_back`.
    pub phase: String,
    /// The planned weight of the new origin.
    pub planned_weight: f64,
    /// Share of origin fetches (of the two origins) that went to the new one.
    pub realised_fetch_share: f64,
    /// Share of viewer responses (with content of the two origins) whose
    /// content came from the new one: lags the fetch share by cache residence.
    pub realised_served_share: f64,
    /// Edge hit ratio of responses with the new origin's content.
    pub hit_ratio_new_arm: f64,
    /// Edge hit ratio of responses with the old origin's content.
    pub hit_ratio_old_arm: f64,
    /// Fetches per second at the new origin.
    pub new_origin_rps: f64,
    /// Fetches per second at the old origin.
    pub old_origin_rps: f64,
    /// 5xx answers from the new origin.
    pub new_origin_errors: u64,
    /// A split by country: the countries whose viewers went to the new
    /// origin during the epoch, in the order they moved; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved_countries: Option<Vec<String>>,
}

/// One evaluation of a gate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateEvaluationRow {
    /// When (end of the epoch), simulated seconds.
    pub at_secs: f64,
    /// The gate's metric.
    pub metric: String,
    /// `pass`, `fail` or `inconclusive`.
    pub outcome: String,
    /// The measured value (none when inconclusive).
    pub value: Option<f64>,
    /// The threshold.
    pub max: f64,
    /// Samples the value is based on.
    pub samples: u64,
}

impl MigrationSummary {
    /// The summary of a controller's run.
    pub fn of(controller: &edgesim_migration::Controller, from: &str, to: &str) -> Self {
        let m = controller.migration();
        let epochs = controller
            .records()
            .iter()
            .map(|r| {
                let span_secs = ((r.end_us - r.start_us) as f64 / 1e6).max(1e-9);
                MigrationEpoch {
                    epoch: r.epoch,
                    end_secs: r.end_us as f64 / 1e6,
                    phase: r.plan.phase.name().to_owned(),
                    planned_weight: r.plan.weight,
                    realised_fetch_share: r.realised_fetch_share,
                    realised_served_share: r.realised_served_share,
                    hit_ratio_new_arm: r.hit_ratio_new_arm,
                    hit_ratio_old_arm: r.hit_ratio_old_arm,
                    new_origin_rps: r.counters.new_fetches as f64 / span_secs,
                    old_origin_rps: r.counters.old_fetches as f64 / span_secs,
                    new_origin_errors: r.counters.new_errors,
                    moved_countries: None,
                }
            })
            .collect();
        let gate_evaluations = controller
            .records()
            .iter()
            .flat_map(|r| {
                r.evaluations.iter().map(move |e| GateEvaluationRow {
                    at_secs: r.end_us as f64 / 1e6,
                    metric: e.metric.name().to_owned(),
                    outcome: match e.outcome {
                        edgesim_migration::GateOutcome::Pass => "pass",
                        edgesim_migration::GateOutcome::Fail => "fail",
                        edgesim_migration::GateOutcome::Inconclusive => "inconclusive",
                    }
                    .to_owned(),
                    value: e.value,
                    max: e.max,
                    samples: e.samples,
                })
            })
            .collect();
        MigrationSummary {
            from: from.to_owned(),
            to: to.to_owned(),
            split: m.split.name().to_owned(),
            schedule: m.schedule.description.clone(),
            kpis: controller.kpis(),
            epochs,
            gate_evaluations,
            country_order: None,
        }
    }

    /// Adds a country split's order and, per epoch, the countries moved at
    /// its planned weight.
    pub fn with_countries(mut self, order: &edgesim_migration::CountryOrder) -> Self {
        for e in &mut self.epochs {
            e.moved_countries = Some(
                order
                    .moved(e.planned_weight)
                    .map(|c| c.code.clone())
                    .collect(),
            );
        }
        self.country_order = Some(order.countries().to_vec());
        self
    }
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
    /// Requests PoPs sent to regional edge caches.
    pub regional_requests: u64,
    /// Of those, collapsed onto a fetch in flight from the regional cache.
    pub regional_collapsed: u64,
    /// Requests sent to Origin Shields (absent without shields).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub shield_requests: u64,
    /// Of those, shield hits.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub shield_hits: u64,
    /// Of those, collapsed onto a fetch in flight from the shield.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub shield_collapsed: u64,
    /// Requests a function answered at viewer-request or origin-request.
    #[serde(default)]
    pub function_answers: u64,
    /// Requests answered 502 for an origin that does not resolve.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unresolved: u64,
    /// Answers with a 2xx status.
    #[serde(default)]
    pub status_2xx: u64,
    /// Answers with a 3xx status.
    #[serde(default)]
    pub status_3xx: u64,
    /// Answers with a 4xx status.
    #[serde(default)]
    pub status_4xx: u64,
    /// Answers with a 5xx status.
    #[serde(default)]
    pub status_5xx: u64,
    /// Share of the epoch's answers with a status >= 400.
    #[serde(default)]
    pub error_rate: f64,
}

impl EpochRow {
    /// The epoch's requests by the tier that answered them.
    pub fn tiers(&self) -> TierShares {
        TierShares::of(
            self.requests,
            self.edge_hits + self.edge_collapsed,
            self.regional_hits + self.regional_collapsed,
            self.origin_fetches,
        )
        .with_shield(self.requests, self.shield_hits + self.shield_collapsed)
        .with_function(self.requests, self.function_answers, self.unresolved)
    }

    /// The CSV header, matching [`EpochRow::csv_line`]. Columns added
    /// later go at the end so readers by position keep working.
    pub const CSV_HEADER: &'static str = "epoch,start_secs,end_secs,requests,edge_hits,edge_collapsed,regional_hits,origin_fetches,viewer_bytes,origin_bytes,offload_requests,offload_bytes,p50_ms,p90_ms,p99_ms,p999_ms,regional_requests,regional_collapsed,function_answers,status_2xx,status_3xx,status_4xx,status_5xx,error_rate";

    /// The row as one CSV line (no newline).
    pub fn csv_line(&self) -> String {
        format!(
            "{},{},{},{},{},{},{},{},{},{},{:.6},{:.6},{},{},{},{},{},{},{},{},{},{},{},{:.6}",
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
            self.p999_ms,
            self.regional_requests,
            self.regional_collapsed,
            self.function_answers,
            self.status_2xx,
            self.status_3xx,
            self.status_4xx,
            self.status_5xx,
            self.error_rate
        )
    }
}
