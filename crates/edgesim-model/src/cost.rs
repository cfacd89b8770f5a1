//! `[cost]`: which price table prices a run, and the scenario's overrides
//! of its prices; CloudFront's pricing region groups and which group a PoP
//! bills in.
//!
//! ```toml
//! [cost]
//! prices = "aws-2026-11"                       # the built-in table (default)
//! data_transfer_per_gb = { europe = 0.08 }     # flat per GB, every volume tier
//! https_per_10k = 0.012                        # a number: every region group
//! origin_shield_per_10k = { japan = 0.009 }
//! lambda_per_million = 0.6
//! lambda_gb_second = 0.00005001
//! s3_get_per_1k = 0.0004
//! cloudfront_functions_per_million = 0.1
//! kvs_per_million_reads = 0.03
//! origin_egress_per_gb = { "my-origin" = 0.09 } # or a number: every custom origin
//! monthly_hours = 730
//! ```
//!
//! The prices themselves live in the report crate
//! (`crates/edgesim-report/prices/<version>.toml`); this module only knows
//! their names, so that a scenario naming another table is refused here.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use toml::Spanned;

use crate::geo::LatLon;
use crate::geo_tables;
use crate::scenario::Origin;
use crate::source::{Diagnostic, SourceMap};

/// The price tables built into edgesim, by version; the first is the default.
pub const BUILTIN_PRICE_TABLES: &[&str] = &["aws-2026-11"];

/// Hours in the month runs are extrapolated to by default (AWS's own
/// convention: 365 × 24 / 12 = 730).
pub const DEFAULT_MONTHLY_HOURS: f64 = 730.0;

/// A CloudFront pricing region group: data transfer out, HTTPS requests and
/// Origin Shield requests are priced per group (and data-transfer volume
/// tiers are counted per group).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PriceRegion {
    /// United States, Mexico and Canada.
    NorthAmerica,
    /// Europe, Israel and Türkiye.
    Europe,
    /// South Africa, Kenya, Nigeria and the Middle East.
    MiddleEastAfrica,
    /// South America.
    SouthAmerica,
    /// Japan.
    Japan,
    /// Australia and New Zealand.
    Australia,
    /// Hong Kong, Indonesia, Malaysia, the Philippines, Singapore, South
    /// Korea, Taiwan, Thailand and Vietnam.
    AsiaPacific,
    /// India.
    India,
}

impl PriceRegion {
    /// Every group, in the order of AWS's pricing page.
    pub const ALL: [PriceRegion; 8] = [
        PriceRegion::NorthAmerica,
        PriceRegion::Europe,
        PriceRegion::MiddleEastAfrica,
        PriceRegion::SouthAmerica,
        PriceRegion::Japan,
        PriceRegion::Australia,
        PriceRegion::AsiaPacific,
        PriceRegion::India,
    ];

    /// The key used in scenario files, price tables and summary.json.
    pub fn key(self) -> &'static str {
        match self {
            PriceRegion::NorthAmerica => "north_america",
            PriceRegion::Europe => "europe",
            PriceRegion::MiddleEastAfrica => "middle_east_africa",
            PriceRegion::SouthAmerica => "south_america",
            PriceRegion::Japan => "japan",
            PriceRegion::Australia => "australia",
            PriceRegion::AsiaPacific => "asia_pacific",
            PriceRegion::India => "india",
        }
    }

    /// The group as AWS's pricing page names it.
    pub fn label(self) -> &'static str {
        match self {
            PriceRegion::NorthAmerica => "United States, Mexico and Canada",
            PriceRegion::Europe => "Europe, Israel and Türkiye",
            PriceRegion::MiddleEastAfrica => "South Africa, Kenya, Nigeria and Middle East",
            PriceRegion::SouthAmerica => "South America",
            PriceRegion::Japan => "Japan",
            PriceRegion::Australia => "Australia and New Zealand",
            PriceRegion::AsiaPacific => {
                "Hong Kong, Indonesia, Malaysia, Philippines, Singapore, South Korea, Taiwan, Thailand and Vietnam"
            }
            PriceRegion::India => "India",
        }
    }

    /// The group with this [`PriceRegion::key`].
    pub fn from_key(key: &str) -> Option<PriceRegion> {
        PriceRegion::ALL.into_iter().find(|r| r.key() == key)
    }

    /// The group edge locations in this country (ISO 3166-1 alpha-2,
    /// uppercase) bill in, for every country that has a built-in PoP city
    /// and their neighbours; `None` for countries AWS prices in no group
    /// edgesim knows.
    pub fn of_country(code: &str) -> Option<PriceRegion> {
        use PriceRegion::*;
        Some(match code {
            "US" | "CA" | "MX" | "PR" => NorthAmerica,
            "AT" | "BE" | "BG" | "CH" | "CY" | "CZ" | "DE" | "DK" | "EE" | "ES" | "FI" | "FR"
            | "GB" | "GR" | "HR" | "HU" | "IE" | "IL" | "IS" | "IT" | "LT" | "LU" | "LV" | "MT"
            | "NL" | "NO" | "PL" | "PT" | "RO" | "RS" | "SE" | "SI" | "SK" | "TR" | "UA" => Europe,
            "ZA" | "KE" | "NG" | "EG" | "AE" | "BH" | "SA" | "QA" | "OM" | "KW" | "JO" => {
                MiddleEastAfrica
            }
            "AR" | "BR" | "CL" | "CO" | "PE" | "UY" | "EC" | "VE" | "BO" | "PY" => SouthAmerica,
            "JP" => Japan,
            "AU" | "NZ" => Australia,
            "HK" | "ID" | "MY" | "PH" | "SG" | "KR" | "TW" | "TH" | "VN" => AsiaPacific,
            "IN" => India,
            _ => return None,
        })
    }

    /// The group a PoP bills in. The rule: a PoP placed by `city` bills in
    /// the group of that city's country (built-in table); a PoP placed by
    /// lat/lon bills in the group of the nearest built-in PoP city. (Every
    /// built-in city's country has a group; a test checks it.)
    pub fn of_pop(city: Option<&str>, location: LatLon) -> PriceRegion {
        if let Some(region) = city
            .and_then(geo_tables::pop_city)
            .and_then(|c| PriceRegion::of_country(c.country))
        {
            return region;
        }
        geo_tables::POP_CITIES
            .iter()
            .filter_map(|c| {
                let d = location.distance_km(LatLon {
                    lat: c.lat,
                    lon: c.lon,
                });
                PriceRegion::of_country(c.country).map(|r| (d, r))
            })
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .map_or(PriceRegion::NorthAmerica, |(_, r)| r)
    }
}

impl fmt::Display for PriceRegion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// `[cost]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCost {
    /// Price table version (default: the first of [`BUILTIN_PRICE_TABLES`]).
    pub prices: Option<Spanned<String>>,
    /// CloudFront data transfer out, USD per GB, flat (replaces every
    /// volume tier): a number (every region group) or `{ group = price }`.
    pub data_transfer_per_gb: Option<Spanned<RawPrices>>,
    /// CloudFront HTTPS requests, USD per 10,000: a number or by group.
    pub https_per_10k: Option<Spanned<RawPrices>>,
    /// Origin Shield requests, USD per 10,000: a number or by group.
    pub origin_shield_per_10k: Option<Spanned<RawPrices>>,
    /// Lambda@Edge requests, USD per million.
    pub lambda_per_million: Option<Spanned<f64>>,
    /// Lambda@Edge duration, USD per GB-second.
    pub lambda_gb_second: Option<Spanned<f64>>,
    /// S3 GET requests, USD per 1,000.
    pub s3_get_per_1k: Option<Spanned<f64>>,
    /// CloudFront Functions invocations, USD per million.
    pub cloudfront_functions_per_million: Option<Spanned<f64>>,
    /// CloudFront KeyValueStore reads, USD per million.
    pub kvs_per_million_reads: Option<Spanned<f64>>,
    /// Origin egress to CloudFront, USD per GB: a number (every custom
    /// origin) or `{ origin-id = price }` (any origin, S3 included).
    pub origin_egress_per_gb: Option<Spanned<RawPrices>>,
    /// Hours in the month the run is extrapolated to (default 730).
    pub monthly_hours: Option<Spanned<f64>>,
}

/// A price as written: one number for everything, or a table of prices by
/// key (region group or origin id).
#[derive(Debug, Clone, PartialEq)]
pub enum RawPrices {
    /// One price for every key.
    All(f64),
    /// A price per key, in key order.
    By(BTreeMap<String, f64>),
}

impl<'de> Deserialize<'de> for RawPrices {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PricesVisitor;
        impl<'de> Visitor<'de> for PricesVisitor {
            type Value = RawPrices;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a price (number) or a table of prices like { europe = 0.08 }")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawPrices, E> {
                Ok(RawPrices::All(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawPrices, E> {
                Ok(RawPrices::All(v as f64))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawPrices, E> {
                Ok(RawPrices::All(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawPrices, A::Error> {
                let mut out = BTreeMap::new();
                while let Some((k, v)) = map.next_entry::<String, f64>()? {
                    out.insert(k, v);
                }
                Ok(RawPrices::By(out))
            }
        }
        deserializer.deserialize_any(PricesVisitor)
    }
}

/// A validated `[cost]`: the price table to use and the prices the
/// scenario sets itself (absent: the table's).
#[derive(Debug, Clone, PartialEq)]
pub struct CostConfig {
    /// Price table version, one of [`BUILTIN_PRICE_TABLES`].
    pub prices: String,
    /// Flat data-transfer prices (USD per GB) by group, replacing the
    /// table's tiers for those groups.
    pub data_transfer_per_gb: BTreeMap<PriceRegion, f64>,
    /// HTTPS request prices (USD per 10,000) by group.
    pub https_per_10k: BTreeMap<PriceRegion, f64>,
    /// Origin Shield request prices (USD per 10,000) by group.
    pub origin_shield_per_10k: BTreeMap<PriceRegion, f64>,
    /// Lambda@Edge USD per million requests.
    pub lambda_per_million: Option<f64>,
    /// Lambda@Edge USD per GB-second.
    pub lambda_gb_second: Option<f64>,
    /// S3 USD per 1,000 GET requests.
    pub s3_get_per_1k: Option<f64>,
    /// CloudFront Functions USD per million invocations.
    pub cloudfront_functions_per_million: Option<f64>,
    /// CloudFront KeyValueStore USD per million reads.
    pub kvs_per_million_reads: Option<f64>,
    /// Egress USD per GB for every custom origin without its own price.
    pub custom_origin_egress_per_gb: Option<f64>,
    /// Egress USD per GB by origin id.
    pub origin_egress_per_gb: BTreeMap<String, f64>,
    /// Hours in the month the run is extrapolated to.
    pub monthly_hours: f64,
}

impl Default for CostConfig {
    fn default() -> Self {
        CostConfig {
            prices: BUILTIN_PRICE_TABLES[0].to_owned(),
            data_transfer_per_gb: BTreeMap::new(),
            https_per_10k: BTreeMap::new(),
            origin_shield_per_10k: BTreeMap::new(),
            lambda_per_million: None,
            lambda_gb_second: None,
            s3_get_per_1k: None,
            cloudfront_functions_per_million: None,
            kvs_per_million_reads: None,
            custom_origin_egress_per_gb: None,
            origin_egress_per_gb: BTreeMap::new(),
            monthly_hours: DEFAULT_MONTHLY_HOURS,
        }
    }
}

impl CostConfig {
    /// The prices this scenario sets itself, as `key = value` lines in a
    /// fixed order (empty: the table as it is). For reports.
    pub fn overrides(&self) -> Vec<String> {
        let mut out = Vec::new();
        let by_region = |out: &mut Vec<String>, name: &str, m: &BTreeMap<PriceRegion, f64>| {
            for (r, v) in m {
                out.push(format!("{name}.{r} = {v}"));
            }
        };
        by_region(&mut out, "data_transfer_per_gb", &self.data_transfer_per_gb);
        by_region(&mut out, "https_per_10k", &self.https_per_10k);
        by_region(
            &mut out,
            "origin_shield_per_10k",
            &self.origin_shield_per_10k,
        );
        for (name, v) in [
            ("lambda_per_million", self.lambda_per_million),
            ("lambda_gb_second", self.lambda_gb_second),
            ("s3_get_per_1k", self.s3_get_per_1k),
            (
                "cloudfront_functions_per_million",
                self.cloudfront_functions_per_million,
            ),
            ("kvs_per_million_reads", self.kvs_per_million_reads),
            (
                "origin_egress_per_gb (custom origins)",
                self.custom_origin_egress_per_gb,
            ),
        ] {
            if let Some(v) = v {
                out.push(format!("{name} = {v}"));
            }
        }
        for (id, v) in &self.origin_egress_per_gb {
            out.push(format!("origin_egress_per_gb.{id} = {v}"));
        }
        if self.monthly_hours != DEFAULT_MONTHLY_HOURS {
            out.push(format!("monthly_hours = {}", self.monthly_hours));
        }
        out
    }
}

/// Validates `[cost]` against the scenario's origins, adding a diagnostic
/// (entity `cost`) for every problem; what is wrong falls back to the table.
pub(crate) fn validate(
    raw: &Spanned<RawCost>,
    origins: &[Origin],
    map: &SourceMap,
    diags: &mut Vec<Diagnostic>,
) -> CostConfig {
    const ENTITY: &str = "cost";
    let c = raw.get_ref();
    let mut err = |span: std::ops::Range<usize>, message: String| {
        diags.push(map.diagnostic(span, ENTITY, message));
    };
    let mut out = CostConfig::default();
    if let Some(p) = &c.prices {
        if BUILTIN_PRICE_TABLES.contains(&p.get_ref().as_str()) {
            out.prices = p.get_ref().clone();
        } else {
            err(
                p.span(),
                format!(
                    "prices: unknown price table \"{}\" (built-in: {})",
                    p.get_ref(),
                    BUILTIN_PRICE_TABLES.join(", ")
                ),
            );
        }
    }
    let valid = |v: f64| v.is_finite() && v >= 0.0;
    let bad_price = |name: &str, v: f64| format!("{name} must be a price >= 0, got {v}");
    let mut by_region =
        |field: &Option<Spanned<RawPrices>>, name: &str, out: &mut BTreeMap<PriceRegion, f64>| {
            let Some(field) = field else { return };
            match field.get_ref() {
                RawPrices::All(v) if !valid(*v) => err(field.span(), bad_price(name, *v)),
                RawPrices::All(v) => {
                    for r in PriceRegion::ALL {
                        out.insert(r, *v);
                    }
                }
                RawPrices::By(m) => {
                    for (k, v) in m {
                        match PriceRegion::from_key(k) {
                            None => err(
                                field.span(),
                                format!(
                                    "{name}: unknown region group \"{k}\" (groups: {})",
                                    PriceRegion::ALL.map(PriceRegion::key).join(", ")
                                ),
                            ),
                            Some(_) if !valid(*v) => {
                                err(field.span(), bad_price(&format!("{name}.{k}"), *v))
                            }
                            Some(r) => {
                                out.insert(r, *v);
                            }
                        }
                    }
                }
            }
        };
    by_region(
        &c.data_transfer_per_gb,
        "data_transfer_per_gb",
        &mut out.data_transfer_per_gb,
    );
    by_region(&c.https_per_10k, "https_per_10k", &mut out.https_per_10k);
    by_region(
        &c.origin_shield_per_10k,
        "origin_shield_per_10k",
        &mut out.origin_shield_per_10k,
    );
    let mut single = |field: &Option<Spanned<f64>>, name: &str| -> Option<f64> {
        let f = field.as_ref()?;
        let v = *f.get_ref();
        if valid(v) {
            Some(v)
        } else {
            err(f.span(), bad_price(name, v));
            None
        }
    };
    out.lambda_per_million = single(&c.lambda_per_million, "lambda_per_million");
    out.lambda_gb_second = single(&c.lambda_gb_second, "lambda_gb_second");
    out.s3_get_per_1k = single(&c.s3_get_per_1k, "s3_get_per_1k");
    out.cloudfront_functions_per_million = single(
        &c.cloudfront_functions_per_million,
        "cloudfront_functions_per_million",
    );
    out.kvs_per_million_reads = single(&c.kvs_per_million_reads, "kvs_per_million_reads");
    if let Some(field) = &c.origin_egress_per_gb {
        let name = "origin_egress_per_gb";
        match field.get_ref() {
            RawPrices::All(v) if !valid(*v) => err(field.span(), bad_price(name, *v)),
            RawPrices::All(v) => out.custom_origin_egress_per_gb = Some(*v),
            RawPrices::By(m) => {
                for (id, v) in m {
                    if !origins.iter().any(|o| &o.id == id) {
                        let known: Vec<&str> = origins.iter().map(|o| o.id.as_str()).collect();
                        err(
                            field.span(),
                            format!("{name}: no origin \"{id}\" (origins: {})", known.join(", ")),
                        );
                    } else if !valid(*v) {
                        err(field.span(), bad_price(&format!("{name}.{id}"), *v));
                    } else {
                        out.origin_egress_per_gb.insert(id.clone(), *v);
                    }
                }
            }
        }
    }
    if let Some(h) = &c.monthly_hours {
        let v = *h.get_ref();
        if v.is_finite() && v > 0.0 && v <= 744.0 {
            out.monthly_hours = v;
        } else {
            err(
                h.span(),
                format!("monthly_hours must be > 0 and at most 744 (31 days), got {v}"),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_pop_city_has_a_price_region() {
        for c in geo_tables::POP_CITIES {
            assert!(
                PriceRegion::of_country(c.country).is_some(),
                "{} ({})",
                c.code,
                c.country
            );
        }
    }

    #[test]
    fn pops_bill_in_their_city_country_or_nearest_city_group() {
        let at = |lat, lon| LatLon { lat, lon };
        let p = |city: &str| PriceRegion::of_pop(Some(city), at(0.0, 0.0));
        assert_eq!(p("FRA"), PriceRegion::Europe);
        assert_eq!(p("IAD"), PriceRegion::NorthAmerica);
        assert_eq!(p("GRU"), PriceRegion::SouthAmerica);
        assert_eq!(p("NRT"), PriceRegion::Japan);
        assert_eq!(p("SIN"), PriceRegion::AsiaPacific);
        assert_eq!(p("SYD"), PriceRegion::Australia);
        assert_eq!(p("BOM"), PriceRegion::India);
        assert_eq!(p("JNB"), PriceRegion::MiddleEastAfrica);
        // By lat/lon: the nearest built-in city's group.
        assert_eq!(
            PriceRegion::of_pop(None, at(48.1, 11.6)),
            PriceRegion::Europe
        );
        assert_eq!(
            PriceRegion::of_pop(None, at(-33.0, -70.0)),
            PriceRegion::SouthAmerica
        );
        assert_eq!(
            PriceRegion::of_pop(None, at(35.0, 135.0)),
            PriceRegion::Japan
        );
    }

    #[test]
    fn keys_round_trip() {
        for r in PriceRegion::ALL {
            assert_eq!(PriceRegion::from_key(r.key()), Some(r));
        }
        assert_eq!(PriceRegion::from_key("mars"), None);
    }
}
