//! What a run would cost on AWS at list prices: CloudFront data transfer
//! out by pricing region group (volume tiers counted per group, on the
//! monthly volume), HTTPS requests, Lambda@Edge requests and GB-seconds
//! (billed per 1 ms), origin requests (S3 GETs) and origin egress (custom
//! origins; S3 to CloudFront is free), and Origin Shield requests (by the
//! group of the shield's AWS region).
//!
//! Prices come from a versioned table in `crates/edgesim-report/prices/`
//! (embedded at build time), chosen and overridden by the scenario's
//! `[cost]` ([`edgesim_model::cost::CostConfig`]).
//!
//! The run's usage is extrapolated to a month of `monthly_hours` at the
//! run's average rates; volume tiers apply to that monthly volume, and
//! `run_usd` is the run's pro-rata share of the monthly bill
//! (`monthly_usd × simulated seconds / seconds per month`).
//!
//! Approximations: every viewer request is an HTTPS GET; a Lambda@Edge
//! invocation is billed `ceil(mean run time)` ms (the summary keeps the
//! mean per behaviour and stage, not each invocation's time; CloudFront
//! rounds each invocation up to the next 1 ms), throttled invocations are
//! not billed; every origin fetch (revalidations included) is one S3 GET
//! for S3 origins; no free tier, commitments or private pricing.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use edgesim_model::Scenario;
use edgesim_model::cost::{CostConfig, PriceRegion};
use edgesim_model::geo::LatLon;

use crate::summary::Summary;

/// The built-in price tables: (version, TOML text).
const BUILTIN: &[(&str, &str)] = &[("aws-2026-11", include_str!("../prices/aws-2026-11.toml"))];

/// Bytes per GB as AWS bills data transfer (2^30).
pub const BYTES_PER_GB: f64 = 1_073_741_824.0;

/// A price table file, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PriceFile {
    version: String,
    as_of: String,
    currency: String,
    source: Vec<String>,
    data_transfer: DataTransferFile,
    https_per_10k: BTreeMap<String, f64>,
    origin_shield_per_10k: BTreeMap<String, f64>,
    lambda_edge: LambdaFile,
    cloudfront_functions: CloudFrontFunctionsFile,
    s3: S3File,
    custom_origin: CustomOriginFile,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DataTransferFile {
    tier_widths_gb: Vec<f64>,
    tier_names: Vec<String>,
    per_gb: BTreeMap<String, Vec<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LambdaFile {
    per_million_requests: f64,
    per_gb_second: f64,
    billing_granularity_ms: u32,
    default_memory_mb: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CloudFrontFunctionsFile {
    per_million_invocations: f64,
    kvs_per_million_reads: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct S3File {
    get_per_1k: f64,
    to_cloudfront_per_gb: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomOriginFile {
    egress_per_gb: f64,
}

/// The prices a run is priced with: a table with the scenario's overrides
/// applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Prices {
    /// Table version, e.g. `aws-2026-11`.
    pub version: String,
    /// The date the table's prices were taken.
    pub as_of: String,
    /// Where they were taken from (URLs).
    pub source: Vec<String>,
    /// Widths of the data-transfer volume tiers, GB; the tier after the
    /// last has no bound.
    pub tier_widths_gb: Vec<f64>,
    /// Data transfer out, USD per GB per tier, by group. One price: flat.
    pub data_transfer_per_gb: BTreeMap<PriceRegion, Vec<f64>>,
    /// HTTPS requests, USD per 10,000, by group.
    pub https_per_10k: BTreeMap<PriceRegion, f64>,
    /// Origin Shield requests, USD per 10,000, by group.
    pub origin_shield_per_10k: BTreeMap<PriceRegion, f64>,
    /// Lambda@Edge, USD per million requests.
    pub lambda_per_million: f64,
    /// Lambda@Edge, USD per GB-second.
    pub lambda_gb_second: f64,
    /// Lambda@Edge billing granularity, ms.
    pub lambda_granularity_ms: u32,
    /// Memory of a function that does not set `memory_mb`, MB.
    pub lambda_default_memory_mb: u32,
    /// CloudFront Functions, USD per million invocations.
    pub cff_per_million: f64,
    /// CloudFront KeyValueStore, USD per million reads from functions.
    pub kvs_per_million_reads: f64,
    /// S3, USD per 1,000 GET requests.
    pub s3_get_per_1k: f64,
    /// S3 to CloudFront transfer, USD per GB.
    pub s3_to_cloudfront_per_gb: f64,
    /// Custom origins' egress to CloudFront, USD per GB.
    pub custom_origin_egress_per_gb: f64,
    /// Egress USD per GB for particular origins, by id.
    pub origin_egress_per_gb: BTreeMap<String, f64>,
    /// Hours in the month runs are extrapolated to.
    pub monthly_hours: f64,
    /// The scenario's overrides, `key = value`.
    pub overrides: Vec<String>,
}

impl Prices {
    /// The built-in table `version`, unmodified (730-hour month).
    pub fn builtin(version: &str) -> Option<Prices> {
        let (_, text) = BUILTIN.iter().find(|(v, _)| *v == version)?;
        Some(Prices::parse(text).unwrap_or_else(|e| panic!("built-in price table {version}: {e}")))
    }

    /// The table `config` names, with its overrides.
    pub fn for_config(config: &CostConfig) -> Option<Prices> {
        let mut p = Prices::builtin(&config.prices)?;
        for (r, v) in &config.data_transfer_per_gb {
            p.data_transfer_per_gb.insert(*r, vec![*v]);
        }
        p.https_per_10k.extend(&config.https_per_10k);
        p.origin_shield_per_10k
            .extend(&config.origin_shield_per_10k);
        if let Some(v) = config.lambda_per_million {
            p.lambda_per_million = v;
        }
        if let Some(v) = config.lambda_gb_second {
            p.lambda_gb_second = v;
        }
        if let Some(v) = config.s3_get_per_1k {
            p.s3_get_per_1k = v;
        }
        if let Some(v) = config.cloudfront_functions_per_million {
            p.cff_per_million = v;
        }
        if let Some(v) = config.kvs_per_million_reads {
            p.kvs_per_million_reads = v;
        }
        if let Some(v) = config.custom_origin_egress_per_gb {
            p.custom_origin_egress_per_gb = v;
        }
        p.origin_egress_per_gb = config.origin_egress_per_gb.clone();
        p.monthly_hours = config.monthly_hours;
        p.overrides = config.overrides();
        Some(p)
    }

    /// Parses and checks a price table file.
    pub fn parse(text: &str) -> Result<Prices, String> {
        let f: PriceFile = toml::from_str(text).map_err(|e| e.to_string())?;
        if f.currency != "USD" {
            return Err(format!("currency must be USD, got {}", f.currency));
        }
        let tiers = f.data_transfer.tier_widths_gb.len() + 1;
        if f.data_transfer.tier_names.len() != tiers {
            return Err(format!("{tiers} tier_names expected"));
        }
        let by_region = |m: &BTreeMap<String, f64>, what: &str| {
            let mut out = BTreeMap::new();
            for (k, v) in m {
                let r = PriceRegion::from_key(k)
                    .ok_or_else(|| format!("{what}: unknown region group {k}"))?;
                out.insert(r, *v);
            }
            if out.len() != PriceRegion::ALL.len() {
                return Err(format!("{what}: every region group needs a price"));
            }
            Ok(out)
        };
        let mut data_transfer_per_gb = BTreeMap::new();
        for (k, v) in &f.data_transfer.per_gb {
            let r = PriceRegion::from_key(k)
                .ok_or_else(|| format!("data_transfer.per_gb: unknown region group {k}"))?;
            if v.len() != tiers {
                return Err(format!("data_transfer.per_gb.{k}: {tiers} prices expected"));
            }
            data_transfer_per_gb.insert(r, v.clone());
        }
        if data_transfer_per_gb.len() != PriceRegion::ALL.len() {
            return Err("data_transfer.per_gb: every region group needs prices".into());
        }
        Ok(Prices {
            version: f.version,
            as_of: f.as_of,
            source: f.source,
            tier_widths_gb: f.data_transfer.tier_widths_gb,
            data_transfer_per_gb,
            https_per_10k: by_region(&f.https_per_10k, "https_per_10k")?,
            origin_shield_per_10k: by_region(&f.origin_shield_per_10k, "origin_shield_per_10k")?,
            lambda_per_million: f.lambda_edge.per_million_requests,
            lambda_gb_second: f.lambda_edge.per_gb_second,
            lambda_granularity_ms: f.lambda_edge.billing_granularity_ms.max(1),
            lambda_default_memory_mb: f.lambda_edge.default_memory_mb,
            cff_per_million: f.cloudfront_functions.per_million_invocations,
            kvs_per_million_reads: f.cloudfront_functions.kvs_per_million_reads,
            s3_get_per_1k: f.s3.get_per_1k,
            s3_to_cloudfront_per_gb: f.s3.to_cloudfront_per_gb,
            custom_origin_egress_per_gb: f.custom_origin.egress_per_gb,
            origin_egress_per_gb: BTreeMap::new(),
            monthly_hours: edgesim_model::cost::DEFAULT_MONTHLY_HOURS,
            overrides: Vec::new(),
        })
    }

    /// USD for `gb` of data transfer in a month in `region`, volume tiers
    /// applied.
    pub fn data_transfer_usd(&self, region: PriceRegion, gb: f64) -> f64 {
        let prices = &self.data_transfer_per_gb[&region];
        let mut left = gb.max(0.0);
        let mut usd = 0.0;
        for (i, price) in prices.iter().enumerate() {
            let width = if i + 1 == prices.len() {
                f64::INFINITY
            } else {
                self.tier_widths_gb.get(i).copied().unwrap_or(f64::INFINITY)
            };
            let here = left.min(width);
            usd += here * price;
            left -= here;
            if left <= 0.0 {
                break;
            }
        }
        usd
    }
}

/// Names the price table a cost was computed with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriceSource {
    /// Table version, e.g. `aws-2026-11`.
    pub version: String,
    /// The date its prices were taken.
    pub as_of: String,
    /// Where they were taken from (URLs).
    pub source: Vec<String>,
}

/// Cost by item, USD.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct CostItems {
    /// Sum of the items below.
    pub total: f64,
    /// CloudFront data transfer out to viewers.
    pub data_transfer: f64,
    /// CloudFront HTTPS requests.
    pub https_requests: f64,
    /// Lambda@Edge requests.
    pub lambda_requests: f64,
    /// Lambda@Edge duration (GB-seconds).
    pub lambda_duration: f64,
    /// CloudFront Functions invocations.
    #[serde(default, skip_serializing_if = "is_zero_usd")]
    pub cloudfront_functions: f64,
    /// CloudFront KeyValueStore reads.
    #[serde(default, skip_serializing_if = "is_zero_usd")]
    pub kvs_reads: f64,
    /// Requests to origins (S3 GETs).
    pub origin_requests: f64,
    /// Origin egress to CloudFront.
    pub origin_egress: f64,
    /// Origin Shield requests (0 without Origin Shield).
    pub origin_shield: f64,
}

impl CostItems {
    fn with_total(mut self) -> CostItems {
        self.total = usd(self.data_transfer
            + self.https_requests
            + self.lambda_requests
            + self.lambda_duration
            + self.cloudfront_functions
            + self.kvs_reads
            + self.origin_requests
            + self.origin_egress
            + self.origin_shield);
        self
    }

    /// The items as (key, USD), in field order, total excluded.
    pub fn items(&self) -> [(&'static str, f64); 9] {
        [
            ("data_transfer", self.data_transfer),
            ("https_requests", self.https_requests),
            ("lambda_requests", self.lambda_requests),
            ("lambda_duration", self.lambda_duration),
            ("cloudfront_functions", self.cloudfront_functions),
            ("kvs_reads", self.kvs_reads),
            ("origin_requests", self.origin_requests),
            ("origin_egress", self.origin_egress),
            ("origin_shield", self.origin_shield),
        ]
    }
}

/// What the run used that is billed, over the simulated time.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct CostUsage {
    /// GB sent to viewers.
    pub viewer_gb: f64,
    /// Viewer (HTTPS) requests.
    pub https_requests: u64,
    /// Billed Lambda@Edge invocations (throttled ones are not billed).
    pub lambda_requests: u64,
    /// Billed Lambda@Edge GB-seconds.
    pub lambda_gb_seconds: f64,
    /// CloudFront Functions invocations (every one is billed).
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub cloudfront_functions_invocations: u64,
    /// KeyValueStore reads from CloudFront Functions.
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub kvs_reads: u64,
    /// GET requests to S3 origins.
    pub s3_get_requests: u64,
    /// GB from origins whose egress is priced (custom origins, and any
    /// origin given its own price).
    pub priced_origin_gb: f64,
}

/// One pricing region group's data transfer and requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegionCost {
    /// Group key, e.g. `europe`.
    pub region: String,
    /// The group as AWS names it.
    pub label: String,
    /// PoPs billed in it, scenario order.
    pub pops: Vec<String>,
    /// Viewer requests at those PoPs.
    pub requests: u64,
    /// GB sent to viewers in the run.
    pub viewer_gb: f64,
    /// GB per month, extrapolated (what the volume tiers apply to).
    pub monthly_viewer_gb: f64,
    /// Data transfer USD, run.
    pub data_transfer_run_usd: f64,
    /// Data transfer USD, month.
    pub data_transfer_monthly_usd: f64,
    /// HTTPS requests USD, run.
    pub https_requests_run_usd: f64,
    /// HTTPS requests USD, month.
    pub https_requests_monthly_usd: f64,
}

/// The cost of a run, in `summary.json` as `cost`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostSummary {
    /// The price table.
    pub prices: PriceSource,
    /// Prices the scenario set itself (`key = value`; empty: none).
    #[serde(default)]
    pub overrides: Vec<String>,
    /// Hours in the month `monthly_usd` covers.
    pub monthly_hours: f64,
    /// Simulated seconds `run_usd` covers.
    pub run_secs: f64,
    /// Cost of the simulated time (pro-rata share of the monthly bill).
    pub run_usd: CostItems,
    /// Cost of a month at the run's average rates.
    pub monthly_usd: CostItems,
    /// What the run used.
    pub usage: CostUsage,
    /// Per pricing region group with at least one PoP, in AWS's order.
    pub regions: Vec<RegionCost>,
}

fn is_zero_usd(v: &f64) -> bool {
    *v == 0.0
}

fn is_zero_u64(v: &u64) -> bool {
    *v == 0
}

/// Rounds dollars (or GB) to 6 decimals, so that summary.json stays short
/// and exact sums compare equal.
fn usd(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

/// The configuration of the function behind each of `summary.triggers`,
/// from the scenario's behaviours (None when the scenario has none there).
fn trigger_configs<'s>(
    summary: &Summary,
    scenario: &'s Scenario,
) -> impl Iterator<Item = Option<&'s edgesim_triggers::TriggerConfig>> {
    summary.triggers.iter().map(move |t| {
        let stage = edgesim_triggers::Stage::ALL
            .iter()
            .position(|s| s.as_str() == t.stage)?;
        scenario
            .behaviors
            .iter()
            .filter(|b| b.path_pattern == t.behavior)
            .find_map(|b| b.triggers[stage].as_ref())
    })
}

/// The memory (MB) of the function behind each of `summary.triggers`,
/// from the scenario's behaviours (CloudFront's default 128 MB when unset).
pub fn trigger_memory_mb(summary: &Summary, scenario: &Scenario) -> Vec<u32> {
    trigger_configs(summary, scenario)
        .map(|cfg| cfg.and_then(|c| c.execution.memory_mb).unwrap_or(128))
        .collect()
}

/// Whether each of `summary.triggers` is a CloudFront Function (billed per
/// invocation) rather than a Lambda@Edge function, from the scenario.
pub fn trigger_is_cloudfront_function(summary: &Summary, scenario: &Scenario) -> Vec<bool> {
    trigger_configs(summary, scenario)
        .map(|cfg| cfg.is_some_and(|c| c.is_cloudfront_function()))
        .collect()
}

/// The cost of the run `summary` describes, priced as `scenario`'s
/// `[cost]` says (None only if it names a table that is not built in,
/// which validation refuses).
pub fn run_cost(summary: &Summary, scenario: &Scenario) -> Option<CostSummary> {
    let prices = Prices::for_config(&scenario.cost)?;
    Some(estimate_functions(
        summary,
        &prices,
        &trigger_memory_mb(summary, scenario),
        &trigger_is_cloudfront_function(summary, scenario),
    ))
}

/// Prices `summary` with `prices`, every function as Lambda@Edge;
/// `trigger_memory_mb[i]` is the memory of `summary.triggers[i]`'s function
/// (missing: the table's default).
pub fn estimate(summary: &Summary, prices: &Prices, trigger_memory_mb: &[u32]) -> CostSummary {
    estimate_functions(summary, prices, trigger_memory_mb, &[])
}

/// [`estimate`], with `cloudfront_function[i]` true when
/// `summary.triggers[i]` is a CloudFront Function: billed per invocation
/// (and per KeyValueStore read), with no duration charge.
pub fn estimate_functions(
    summary: &Summary,
    prices: &Prices,
    trigger_memory_mb: &[u32],
    cloudfront_function: &[bool],
) -> CostSummary {
    let run_secs = summary.simulated_secs.max(0.0);
    let month_secs = prices.monthly_hours * 3600.0;
    // Run -> month.
    let scale = if run_secs > 0.0 {
        month_secs / run_secs
    } else {
        0.0
    };
    let mut run = CostItems::default();
    let mut monthly = CostItems::default();
    let mut usage = CostUsage::default();

    // CloudFront: data transfer and HTTPS requests per region group.
    let mut groups: BTreeMap<PriceRegion, (Vec<String>, u64, u64)> = BTreeMap::new();
    for p in &summary.pops {
        let r = PriceRegion::of_pop(
            p.city.as_deref(),
            LatLon {
                lat: p.lat,
                lon: p.lon,
            },
        );
        let g = groups.entry(r).or_default();
        g.0.push(p.id.clone());
        g.1 += p.requests;
        g.2 += p.viewer_bytes;
    }
    let mut regions = Vec::new();
    for (r, (pops, requests, bytes)) in groups {
        let gb = bytes as f64 / BYTES_PER_GB;
        let monthly_gb = gb * scale;
        let (dt_month, dt_run) = if scale > 0.0 {
            let m = prices.data_transfer_usd(r, monthly_gb);
            (m, m / scale)
        } else {
            (0.0, prices.data_transfer_usd(r, gb))
        };
        let https_run = requests as f64 * prices.https_per_10k[&r] / 10_000.0;
        let https_month = https_run * scale;
        run.data_transfer += dt_run;
        monthly.data_transfer += dt_month;
        run.https_requests += https_run;
        monthly.https_requests += https_month;
        usage.viewer_gb += gb;
        usage.https_requests += requests;
        regions.push(RegionCost {
            region: r.key().to_owned(),
            label: r.label().to_owned(),
            pops,
            requests,
            viewer_gb: usd(gb),
            monthly_viewer_gb: usd(monthly_gb),
            data_transfer_run_usd: usd(dt_run),
            data_transfer_monthly_usd: usd(dt_month),
            https_requests_run_usd: usd(https_run),
            https_requests_monthly_usd: usd(https_month),
        });
    }

    // Lambda@Edge: requests and GB-seconds, each invocation billed
    // ceil(mean run time) at the billing granularity.
    let granularity = f64::from(prices.lambda_granularity_ms);
    for (i, t) in summary.triggers.iter().enumerate() {
        if cloudfront_function.get(i).copied().unwrap_or(false) {
            usage.cloudfront_functions_invocations += t.invocations;
            usage.kvs_reads += t.kvs_reads;
            continue;
        }
        let billed = t.invocations.saturating_sub(t.throttled);
        if billed == 0 {
            continue;
        }
        let memory_mb = trigger_memory_mb
            .get(i)
            .copied()
            .unwrap_or(prices.lambda_default_memory_mb);
        // The mean is rounded to the µs: shave float noise before ceil.
        let billed_ms =
            (((t.mean_duration_ms - 1e-9) / granularity).ceil() * granularity).max(granularity);
        let gb_seconds = billed as f64 * billed_ms / 1000.0 * f64::from(memory_mb) / 1024.0;
        usage.lambda_requests += billed;
        usage.lambda_gb_seconds += gb_seconds;
    }
    run.lambda_requests = usage.lambda_requests as f64 * prices.lambda_per_million / 1e6;
    run.lambda_duration = usage.lambda_gb_seconds * prices.lambda_gb_second;
    run.cloudfront_functions =
        usage.cloudfront_functions_invocations as f64 * prices.cff_per_million / 1e6;
    run.kvs_reads = usage.kvs_reads as f64 * prices.kvs_per_million_reads / 1e6;

    // Origins: S3 GETs; egress of custom origins (S3 -> CloudFront free).
    for o in &summary.origins {
        let s3 = o.kind == "s3";
        if s3 {
            usage.s3_get_requests += o.fetches;
            run.origin_requests += o.fetches as f64 * prices.s3_get_per_1k / 1000.0;
        }
        let price = prices
            .origin_egress_per_gb
            .get(&o.id)
            .copied()
            .unwrap_or(if s3 {
                prices.s3_to_cloudfront_per_gb
            } else {
                prices.custom_origin_egress_per_gb
            });
        if price > 0.0 {
            let gb = o.bytes as f64 / BYTES_PER_GB;
            usage.priced_origin_gb += gb;
            run.origin_egress += gb * price;
        }
    }
    // Origin Shield: requests into each shield, priced by the group of
    // its AWS region.
    for sh in &summary.shields {
        let Some(aws) = edgesim_model::geo_tables::aws_region(&sh.region) else {
            continue;
        };
        let group = PriceRegion::of_pop(
            None,
            LatLon {
                lat: aws.lat,
                lon: aws.lon,
            },
        );
        let price = prices
            .origin_shield_per_10k
            .get(&group)
            .copied()
            .unwrap_or(0.0);
        run.origin_shield += sh.requests as f64 * price / 10_000.0;
    }
    monthly.origin_shield = run.origin_shield * scale;
    monthly.lambda_requests = run.lambda_requests * scale;
    monthly.lambda_duration = run.lambda_duration * scale;
    monthly.cloudfront_functions = run.cloudfront_functions * scale;
    monthly.kvs_reads = run.kvs_reads * scale;
    monthly.origin_requests = run.origin_requests * scale;
    monthly.origin_egress = run.origin_egress * scale;

    let round = |c: CostItems| {
        CostItems {
            total: 0.0,
            data_transfer: usd(c.data_transfer),
            https_requests: usd(c.https_requests),
            lambda_requests: usd(c.lambda_requests),
            lambda_duration: usd(c.lambda_duration),
            cloudfront_functions: usd(c.cloudfront_functions),
            kvs_reads: usd(c.kvs_reads),
            origin_requests: usd(c.origin_requests),
            origin_egress: usd(c.origin_egress),
            origin_shield: usd(c.origin_shield),
        }
        .with_total()
    };
    usage.viewer_gb = usd(usage.viewer_gb);
    usage.lambda_gb_seconds = usd(usage.lambda_gb_seconds);
    usage.priced_origin_gb = usd(usage.priced_origin_gb);
    CostSummary {
        prices: PriceSource {
            version: prices.version.clone(),
            as_of: prices.as_of.clone(),
            source: prices.source.clone(),
        },
        overrides: prices.overrides.clone(),
        monthly_hours: prices.monthly_hours,
        run_secs,
        run_usd: round(run),
        monthly_usd: round(monthly),
        usage,
        regions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::TriggerSummary;
    use crate::testkit;

    const GB: u64 = 1 << 30;

    /// The fixture's summary (FRA, AMS in Europe; IAD in North America;
    /// GRU in South America; origins `media` (S3) and `api` (custom)),
    /// with hand-set traffic over exactly one hour.
    fn hand_built() -> Summary {
        let mut s = testkit::summary(1);
        s.simulated_secs = 3600.0;
        for p in &mut s.pops {
            (p.requests, p.viewer_bytes) = match p.id.as_str() {
                "fra" => (6_000_000, 20 * GB),
                "ams" => (4_000_000, 10 * GB),
                "iad" => (10_000_000, 0),
                "gru" => (0, 0),
                other => panic!("unexpected PoP {other}"),
            };
        }
        for o in &mut s.origins {
            (o.fetches, o.bytes) = match o.kind.as_str() {
                "s3" => (1_000_000, 50 * GB),
                _ => (200_000, 10 * GB),
            };
        }
        s.triggers.clear();
        s
    }

    /// A trigger row (built from JSON so that fields added later with
    /// defaults do not break the test).
    fn trigger(invocations: u64, throttled: u64, mean_duration_ms: f64) -> TriggerSummary {
        serde_json::from_value(serde_json::json!({
            "behavior": "/*",
            "stage": "viewer-request",
            "invocations": invocations,
            "responded": 0,
            "invalid": 0,
            "errors": 0,
            "timeouts": 0,
            "out_of_memory": 0,
            "throttled": throttled,
            "cold_starts": 0,
            "mean_duration_ms": mean_duration_ms,
        }))
        .expect("a trigger row")
    }

    fn table() -> Prices {
        Prices::builtin("aws-2026-11").expect("built in")
    }

    #[test]
    fn every_builtin_table_named_by_the_model_parses() {
        for v in edgesim_model::cost::BUILTIN_PRICE_TABLES {
            let p = Prices::builtin(v).expect("embedded");
            assert_eq!(&p.version, v);
            assert!(!p.as_of.is_empty() && !p.source.is_empty());
        }
        assert_eq!(
            BUILTIN.len(),
            edgesim_model::cost::BUILTIN_PRICE_TABLES.len()
        );
    }

    #[test]
    fn volume_tiers_cross_a_boundary() {
        let p = table();
        // 10 TB at 0.085, then 2,048 GB at 0.080.
        let usd = p.data_transfer_usd(PriceRegion::Europe, 12_288.0);
        assert!(
            (usd - (10_240.0 * 0.085 + 2_048.0 * 0.080)).abs() < 1e-9,
            "{usd}"
        );
        assert!((usd - 1034.24).abs() < 1e-9);
        // Past 5 PB: every tier, then the last price without bound.
        let five_pb = 5.0 * 1024.0 * 1024.0;
        let all = p.data_transfer_usd(PriceRegion::India, five_pb + 1000.0);
        let tiers = [10240.0, 40960.0, 102400.0, 358400.0, 536576.0, 4194304.0];
        let prices = [0.109, 0.085, 0.082, 0.080, 0.078, 0.075];
        let expected: f64 = tiers.iter().zip(prices).map(|(w, p)| w * p).sum::<f64>() + 72.0;
        assert!((all - expected).abs() < 1e-6, "{all} vs {expected}");
    }

    #[test]
    fn hand_built_run_in_exact_dollars() {
        let s = hand_built();
        let c = estimate(&s, &table(), &[]);
        // A month of 730 h is 730 runs of one hour.
        assert_eq!(c.run_secs, 3600.0);
        assert_eq!(c.monthly_hours, 730.0);
        // Europe: 30 GB/h -> 21,900 GB/month: 10,240 at 0.085 + 11,660 at 0.080.
        let europe = &c.regions[1];
        assert_eq!(europe.region, "europe");
        assert_eq!(europe.pops, ["fra", "ams"]);
        assert_eq!(europe.monthly_viewer_gb, 21_900.0);
        assert_eq!(europe.data_transfer_monthly_usd, 1803.2);
        assert_eq!(europe.data_transfer_run_usd, 2.470137);
        // HTTPS: Europe 10 M at 0.012/10k = $12, North America 10 M at
        // 0.010/10k = $10 per run; South America: no traffic.
        assert_eq!(c.regions[0].https_requests_run_usd, 10.0);
        assert_eq!(europe.https_requests_run_usd, 12.0);
        assert_eq!(c.regions[2].region, "south_america");
        assert_eq!(c.regions[2].https_requests_run_usd, 0.0);
        assert_eq!(c.run_usd.https_requests, 22.0);
        assert_eq!(c.monthly_usd.https_requests, 16_060.0);
        // S3: 1 M GETs at 0.0004/1k = $0.40; its 50 GB to CloudFront free.
        // Custom origin: 10 GB at the assumed 0.09 = $0.90.
        assert_eq!(c.run_usd.origin_requests, 0.4);
        assert_eq!(c.run_usd.origin_egress, 0.9);
        assert_eq!(c.usage.priced_origin_gb, 10.0);
        assert_eq!(c.run_usd.lambda_requests, 0.0);
        assert_eq!(c.run_usd.origin_shield, 0.0);
        assert_eq!(c.monthly_usd.origin_requests, 292.0);
        assert_eq!(c.monthly_usd.origin_egress, 657.0);
        assert_eq!(c.monthly_usd.data_transfer, 1803.2);
        assert_eq!(c.monthly_usd.total, 18_812.2);
        assert_eq!(c.run_usd.total, 25.770137);
    }

    #[test]
    fn lambda_duration_is_billed_per_started_millisecond() {
        let mut s = hand_built();
        s.triggers = vec![
            // 1.2 ms -> 2 ms at 128 MB.
            trigger(1_000_000, 0, 1.2),
            // Exactly 3 ms stays 3 ms; 10,000 throttled are not billed; 1,024 MB.
            trigger(1_010_000, 10_000, 3.0),
            // Under a millisecond: the minimum, 1 ms.
            trigger(500_000, 0, 0.3),
        ];
        let c = estimate(&s, &table(), &[128, 1024]);
        // GB-s: 1e6 × 0.002 × 0.125 = 250; 1e6 × 0.003 × 1 = 3,000;
        // 5e5 × 0.001 × 0.125 = 62.5 (default 128 MB).
        assert_eq!(c.usage.lambda_gb_seconds, 3312.5);
        assert_eq!(c.usage.lambda_requests, 2_500_000);
        assert_eq!(c.run_usd.lambda_requests, 1.5);
        assert_eq!(c.run_usd.lambda_duration, usd(3312.5 * 0.00005001));
        assert_eq!(c.run_usd.lambda_duration, 0.165658);
        assert_eq!(c.monthly_usd.lambda_requests, 1095.0);
    }

    #[test]
    fn cloudfront_functions_are_billed_per_invocation_and_kvs_read() {
        let mut s = hand_built();
        let mut cff = trigger(2_000_000, 0, 0.05);
        cff.kvs_reads = 3_000_000;
        s.triggers = vec![cff, trigger(1_000_000, 0, 1.0)];
        let c = estimate_functions(&s, &table(), &[128, 128], &[true, false]);
        assert_eq!(c.usage.cloudfront_functions_invocations, 2_000_000);
        assert_eq!(c.usage.kvs_reads, 3_000_000);
        // $0.10 per million invocations, $0.03 per million reads, no duration charge.
        assert_eq!(c.run_usd.cloudfront_functions, 0.2);
        assert_eq!(c.run_usd.kvs_reads, 0.09);
        // Only the Lambda@Edge trigger pays Lambda's prices: 1e6 × 1 ms × 0.125 GB.
        assert_eq!(c.usage.lambda_requests, 1_000_000);
        assert_eq!(c.usage.lambda_gb_seconds, 125.0);
        assert_eq!(c.run_usd.lambda_requests, 0.6);
        // Priced as Lambda@Edge, the same function would cost six times as much per request.
        let as_lambda = estimate(&s, &table(), &[128, 128]);
        assert_eq!(as_lambda.run_usd.cloudfront_functions, 0.0);
        assert_eq!(as_lambda.run_usd.lambda_requests, 1.8);
        // A run without CloudFront Functions shows no such lines.
        let json = serde_json::to_string(&as_lambda).unwrap();
        assert!(
            !json.contains("cloudfront_functions") && !json.contains("kvs_reads"),
            "{json}"
        );
    }

    #[test]
    fn overrides_replace_table_prices() {
        let s = hand_built();
        let scenario = testkit::scenario();
        let config = CostConfig {
            data_transfer_per_gb: [(PriceRegion::Europe, 0.05)].into(),
            origin_egress_per_gb: [("media".to_owned(), 0.02)].into(),
            s3_get_per_1k: Some(0.001),
            monthly_hours: 1.0,
            ..CostConfig::default()
        };
        let p = Prices::for_config(&config).expect("built in");
        let c = estimate(&s, &p, &trigger_memory_mb(&s, &scenario));
        // One hour month = the run itself; flat 0.05 for Europe's 30 GB.
        assert_eq!(c.regions[1].data_transfer_monthly_usd, 1.5);
        assert_eq!(c.run_usd, c.monthly_usd);
        // S3 GETs at 0.001/1k; the S3 origin's own egress price (50 GB at
        // 0.02) plus the custom origin's default (10 GB at 0.09).
        assert_eq!(c.run_usd.origin_requests, 1.0);
        assert_eq!(c.run_usd.origin_egress, 1.9);
        assert_eq!(
            c.overrides,
            [
                "data_transfer_per_gb.europe = 0.05",
                "s3_get_per_1k = 0.001",
                "origin_egress_per_gb.media = 0.02",
                "monthly_hours = 1"
            ]
        );
    }

    #[test]
    fn the_fixture_run_has_a_cost() {
        let s = testkit::summary(6);
        let c = s.cost.as_ref().expect("priced");
        assert_eq!(c.prices.version, "aws-2026-11");
        assert!(c.run_usd.total > 0.0);
        assert_eq!(c.usage.https_requests, s.totals.requests);
        let json = serde_json::to_string(&s).expect("serialises");
        let back: Summary = serde_json::from_str(&json).expect("reads back");
        assert_eq!(back.cost, s.cost);
    }
}
