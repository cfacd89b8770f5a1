//! The scenario file as written: serde structs that mirror the TOML,
//! reject unknown keys, and keep spans so that validation can point at
//! the exact place of each problem. Nothing here is checked beyond types.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use toml::Spanned;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    /// Report name; defaults to the file stem.
    pub name: Option<Spanned<String>>,
    /// Free text shown in reports.
    pub description: Option<String>,
    /// Time and seed.
    pub simulation: Spanned<RawSimulation>,
    /// Edge locations.
    #[serde(default)]
    pub pops: Vec<Spanned<RawPop>>,
    /// Regional edge caches (optional, per region id).
    #[serde(default)]
    pub regions: Vec<Spanned<RawRegion>>,
    /// CloudFront cache policy TTLs.
    pub cache_policy: Option<Spanned<RawCachePolicy>>,
    /// Origins.
    #[serde(default)]
    pub origins: Vec<Spanned<RawOrigin>>,
    /// The objects viewers ask for.
    pub catalog: Spanned<RawCatalog>,
    /// The viewers.
    pub viewers: Spanned<RawViewers>,
    /// Cache behaviours, first match wins.
    #[serde(default)]
    pub behaviors: Vec<Spanned<RawBehavior>>,
    /// Network model knobs.
    pub network: Option<Spanned<RawNetwork>>,
    /// A gradual origin migration the coordinator drives.
    pub migration: Option<Spanned<edgesim_migration::RawMigration>>,
    /// Outages, slowdowns, degraded paths and flash crowds.
    #[serde(default)]
    pub events: Vec<Spanned<crate::events::RawEvent>>,
    /// How request rates change over time.
    pub traffic: Option<Spanned<crate::events::RawTraffic>>,
    /// Named variations of this scenario, for `edgesim compare`.
    #[serde(default)]
    pub variants: Vec<Spanned<RawVariant>>,
    /// The price table and price overrides for the cost estimate.
    pub cost: Option<Spanned<crate::cost::RawCost>>,
    /// The account's Lambda@Edge quotas per region.
    pub lambda: Option<Spanned<crate::lambda::RawLambda>>,
    /// Replay CloudFront standard logs request by request instead of
    /// synthesising viewers.
    pub replay: Option<Spanned<RawReplay>>,
}

/// `[replay]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReplay {
    /// Log files (gzip or plain), relative to the scenario file; `*` and
    /// `?` allowed in the file name.
    pub logs: Spanned<Vec<Spanned<String>>>,
    /// Log seconds per simulated second (default 1; 10: ten times faster).
    pub speedup: Option<Spanned<f64>>,
}

/// One `[[variants]]` entry: the scenario with some keys overridden.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVariant {
    /// Unique name (a directory name in the comparison report).
    pub name: Spanned<String>,
    /// Free text.
    pub description: Option<String>,
    /// Overrides, `"dotted.path" = value`, as `--set` takes them.
    pub set: Spanned<BTreeMap<String, toml::Value>>,
}

/// `[simulation]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSimulation {
    /// Simulated duration in seconds.
    pub duration_secs: Spanned<f64>,
    /// Epoch length in simulated milliseconds (default 1000).
    pub epoch_ms: Option<Spanned<i64>>,
    /// Run seed (default 1).
    pub seed: Option<Spanned<i64>>,
    /// What to do when an agent fails: "abort" (default) or "reassign".
    pub on_agent_failure: Option<Spanned<String>>,
}

/// One `[[pops]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPop {
    /// Unique id.
    pub id: Spanned<String>,
    /// Airport code of a built-in PoP city.
    pub city: Option<Spanned<String>>,
    /// Latitude in degrees (with `lon`, instead of `city`).
    pub lat: Option<Spanned<f64>>,
    /// Longitude in degrees.
    pub lon: Option<Spanned<f64>>,
    /// Region (regional edge cache) the PoP belongs to.
    pub region: Option<Spanned<String>>,
    /// Edge cache capacity.
    pub cache_bytes: Spanned<RawBytes>,
    /// Eviction policy (default "lru").
    pub policy: Option<Spanned<String>>,
}

/// One `[[origins]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOrigin {
    /// Unique id.
    pub id: Spanned<String>,
    /// `s3` or `custom`.
    pub kind: Spanned<String>,
    /// AWS region code (`us-east-1`) or PoP city airport code.
    pub location: Option<Spanned<String>>,
    /// Latitude (with `lon`, instead of `location`).
    pub lat: Option<Spanned<f64>>,
    /// Longitude.
    pub lon: Option<Spanned<f64>>,
    /// Time the origin takes to serve one request, in ms.
    pub service_ms: Option<Spanned<RawDist<f64>>>,
    /// Domain name triggers use to name this origin (default derived from
    /// the id, kind and location).
    pub domain_name: Option<Spanned<String>>,
    /// Share of objects the origin answers with `error_status` (a broken
    /// deployment), in [0, 1].
    pub error_share: Option<Spanned<f64>>,
    /// Status of those answers (default 500).
    pub error_status: Option<Spanned<i64>>,
    /// Share of objects the origin does not have (404), in [0, 1].
    pub missing_share: Option<Spanned<f64>>,
    /// Request rate above which the origin answers the excess with 503
    /// Slow Down, as S3 does.
    pub throttle_rps: Option<Spanned<f64>>,
    /// While the offered rate stays above the throttling limit, the limit
    /// doubles every this many seconds (S3 scaling a prefix up); without
    /// it the limit is fixed.
    pub throttle_doubling_secs: Option<Spanned<f64>>,
    /// Requests it serves at once (servers); with it, fetches wait for a
    /// server in a simulated first-come-first-served queue.
    pub concurrency: Option<Spanned<i64>>,
    /// CloudFront's origin response timeout, ms (default 30,000): a fetch
    /// that would take longer is answered 504 then.
    pub timeout_ms: Option<Spanned<f64>>,
    /// Origin group: the origin CloudFront fails over to.
    pub failover_to: Option<Spanned<String>>,
    /// Statuses that make CloudFront fail over (default 500, 502, 503, 504).
    pub failover_on: Option<Spanned<Vec<i64>>>,
    /// Origin Shield: the AWS region (code) of the extra cache tier every
    /// regional edge cache goes through to this origin.
    pub shield_region: Option<Spanned<String>>,
    /// Origin Shield capacity (default 1TiB).
    pub shield_cache_bytes: Option<Spanned<RawBytes>>,
    /// Origin Shield eviction policy (default lru).
    pub shield_policy: Option<Spanned<String>>,
    /// How long CloudFront keeps an idle connection to the origin open, s
    /// (default 5, CloudFront's; 1 to 180).
    pub keepalive_timeout_s: Option<Spanned<f64>>,
    /// `https` (default: TLS on every new connection) or `http`.
    pub protocol: Option<Spanned<String>>,
}

/// One `[[behaviors]]` entry: a CloudFront cache behaviour.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBehavior {
    /// Path pattern (`*` any characters, `?` one), e.g. "/images/*".
    pub path: Spanned<String>,
    /// Origin the behaviour sends misses to (default: the object class's).
    pub origin: Option<Spanned<String>>,
    /// Request headers in the cache key (and forwarded to the origin).
    #[serde(default)]
    pub cache_key_headers: Vec<Spanned<String>>,
    /// Cookies in the cache key.
    #[serde(default)]
    pub cache_key_cookies: Vec<Spanned<String>>,
    /// Headers forwarded to the origin (and visible to origin-facing
    /// functions) without being in the cache key: the origin request policy.
    #[serde(default)]
    pub origin_request_headers: Vec<Spanned<String>>,
    /// Query-string parameters in the cache key.
    #[serde(default)]
    pub cache_key_query_strings: Vec<Spanned<String>>,
    /// Lambda@Edge function at viewer-request.
    pub viewer_request: Option<Spanned<edgesim_triggers::TriggerConfig>>,
    /// Lambda@Edge function at origin-request.
    pub origin_request: Option<Spanned<edgesim_triggers::TriggerConfig>>,
    /// Lambda@Edge function at origin-response.
    pub origin_response: Option<Spanned<edgesim_triggers::TriggerConfig>>,
    /// Lambda@Edge function at viewer-response.
    pub viewer_response: Option<Spanned<edgesim_triggers::TriggerConfig>>,
}

/// One `[[regions]]` entry: the regional edge cache of a region.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRegion {
    /// Region id, as the PoPs name it.
    pub id: Spanned<String>,
    /// Regional edge cache capacity (0: no regional cache).
    pub cache_bytes: Spanned<RawBytes>,
    /// Eviction policy (default "lru").
    pub policy: Option<Spanned<String>>,
    /// Latitude of the cache (default: the AWS region's city).
    pub lat: Option<Spanned<f64>>,
    /// Longitude.
    pub lon: Option<Spanned<f64>>,
}

/// `[cache_policy]`: CloudFront's cache policy TTLs.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCachePolicy {
    /// Minimum TTL (default 0).
    pub min_ttl_secs: Option<Spanned<i64>>,
    /// Default TTL when the origin sends no freshness headers (default 86,400).
    pub default_ttl_secs: Option<Spanned<i64>>,
    /// Maximum TTL (default 31,536,000).
    pub max_ttl_secs: Option<Spanned<i64>>,
    /// Error-caching minimum TTL (default 10).
    pub error_caching_min_ttl_secs: Option<Spanned<i64>>,
}

/// `[catalog]`: either one class given inline, or `[[catalog.classes]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCatalog {
    /// Number of distinct objects.
    pub objects: Option<Spanned<i64>>,
    /// Zipf exponent of object popularity.
    pub zipf_alpha: Option<Spanned<f64>>,
    /// Object size distribution.
    pub size: Option<Spanned<RawDist<RawBytes>>>,
    /// The origin's `Cache-Control: max-age`, seconds.
    pub ttl_secs: Option<Spanned<i64>>,
    /// The origin's `Cache-Control` header, verbatim.
    pub cache_control: Option<Spanned<String>>,
    /// Origin serving the catalog (default: the first origin).
    pub origin: Option<Spanned<String>>,
    /// Object classes, instead of the keys above.
    #[serde(default)]
    pub classes: Vec<Spanned<RawClass>>,
}

/// One `[[catalog.classes]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClass {
    /// Unique name, e.g. "images".
    pub name: Spanned<String>,
    /// Share of requests for this class (normalised over classes).
    pub share: Spanned<f64>,
    /// Number of distinct objects.
    pub objects: Spanned<i64>,
    /// Zipf exponent of popularity within the class.
    pub zipf_alpha: Spanned<f64>,
    /// Object size distribution.
    pub size: Spanned<RawDist<RawBytes>>,
    /// The origin's `Cache-Control: max-age`, seconds.
    pub ttl_secs: Option<Spanned<i64>>,
    /// The origin's `Cache-Control` header, verbatim.
    pub cache_control: Option<Spanned<String>>,
    /// URI prefix of the class's objects (default "/<name>/").
    pub path_prefix: Option<Spanned<String>>,
    /// Origin serving the class (default: the first origin).
    pub origin: Option<Spanned<String>>,
}

/// `[viewers]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawViewers {
    /// Mean total request rate.
    pub requests_per_sec: Spanned<f64>,
    /// ISO country code -> weight.
    pub countries: Spanned<BTreeMap<Spanned<String>, Spanned<f64>>>,
    /// Device mix for all countries (default: each country's own mix).
    pub devices: Option<Spanned<RawDevices>>,
    /// Distinct viewers in all (default 100,000).
    pub population: Option<Spanned<i64>>,
}

/// A value per device class.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawDevices {
    /// Desktop browsers.
    pub desktop: Option<Spanned<f64>>,
    /// Phones.
    pub mobile: Option<Spanned<f64>>,
    /// Tablets.
    pub tablet: Option<Spanned<f64>>,
    /// Smart TVs.
    pub smarttv: Option<Spanned<f64>>,
}

/// `[network]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNetwork {
    /// Speed of light in fibre, km per ms (default 200): refused above
    /// c = 299.792458 km/ms, a warning above light in silica fibre (about
    /// 204 km/ms; see `geo::LIGHT_IN_FIBRE_KM_PER_MS`).
    pub fibre_km_per_ms: Option<Spanned<f64>>,
    /// Real path length over great-circle length (default 1.5).
    pub path_inflation: Option<Spanned<f64>>,
    /// Mean of the exponential jitter added to each round trip, ms (default
    /// 2; 0 to 10 000).
    pub jitter_ms: Option<Spanned<f64>>,
    /// Time the edge spends on a request, ms (default 0.3).
    pub edge_processing_ms: Option<Spanned<f64>>,
    /// Last-mile round trip per device class, ms.
    pub last_mile_ms: Option<Spanned<RawDevices>>,
    /// `[network.connections]`: connection set-up on the viewer leg.
    pub connections: Option<Spanned<RawConnections>>,
}

/// `[network.connections]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConnections {
    /// Model connection set-up at all (default true).
    pub enabled: Option<Spanned<bool>>,
    /// Share of requests that follow an earlier request of the same page
    /// on the connection it opened (default 0.75), in [0, 1).
    pub page_reuse_share: Option<Spanned<f64>>,
    /// How long an idle viewer connection stays open, s (default 60).
    pub viewer_idle_timeout_s: Option<Spanned<f64>>,
    /// How long a viewer can resume its TLS session, s (default 3600).
    pub session_ticket_s: Option<Spanned<f64>>,
    /// Viewer protocol mix (shares, normalised): `h3`, `tls13`, `tls12`.
    pub protocols: Option<Spanned<RawProtocols>>,
}

/// The viewer protocol mix.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProtocols {
    /// HTTP/3 over QUIC.
    pub h3: Option<Spanned<f64>>,
    /// HTTP/1.1 or HTTP/2 over TCP and TLS 1.3.
    pub tls13: Option<Spanned<f64>>,
    /// HTTP/1.1 or HTTP/2 over TCP and TLS 1.2.
    pub tls12: Option<Spanned<f64>>,
}

/// A byte count as written: an integer or a string with a unit ("40KiB").
#[derive(Debug, Clone, PartialEq)]
pub enum RawBytes {
    /// A plain integer (may be negative: validation says so).
    Int(i64),
    /// A string such as "2TiB", parsed during validation.
    Text(String),
}

impl<'de> Deserialize<'de> for RawBytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct BytesVisitor;
        impl Visitor<'_> for BytesVisitor {
            type Value = RawBytes;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a byte size: an integer or a string like \"40KiB\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawBytes, E> {
                Ok(RawBytes::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawBytes, E> {
                i64::try_from(v)
                    .map(RawBytes::Int)
                    .map_err(|_| E::custom("byte size too large"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawBytes, E> {
                Ok(RawBytes::Text(v.to_owned()))
            }
        }
        deserializer.deserialize_any(BytesVisitor)
    }
}

/// A distribution as written: a bare value (fixed) or a table with a
/// `dist` tag.
#[derive(Debug, Clone, PartialEq)]
pub enum RawDist<V> {
    /// A bare value: always that.
    Value(V),
    /// A tagged table.
    Table(RawDistTable<V>),
}

/// The tagged forms of [`RawDist`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "dist", rename_all = "lowercase", deny_unknown_fields)]
pub enum RawDistTable<V> {
    /// `{ dist = "fixed", value = V }`
    Fixed {
        /// The value.
        value: V,
    },
    /// `{ dist = "lognormal", p50 = V, p99 = V }`
    Lognormal {
        /// Median.
        p50: V,
        /// 99th percentile.
        p99: V,
    },
    /// `{ dist = "pareto", min = V, alpha = 1.2, max = V }`
    Pareto {
        /// Scale.
        min: V,
        /// Tail index.
        alpha: f64,
        /// Optional clamp.
        max: Option<V>,
    },
    /// `{ dist = "exponential", mean = V }`
    Exponential {
        /// Mean.
        mean: V,
    },
    /// `{ dist = "uniform", min = V, max = V }`
    Uniform {
        /// Lower bound.
        min: V,
        /// Upper bound.
        max: V,
    },
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for RawDist<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DistVisitor<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for DistVisitor<V> {
            type Value = RawDist<V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a value or a table like { dist = \"lognormal\", p50 = .., p99 = .. }")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                V::deserialize(de::value::I64Deserializer::new(v)).map(RawDist::Value)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                V::deserialize(de::value::U64Deserializer::new(v)).map(RawDist::Value)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                V::deserialize(de::value::F64Deserializer::new(v)).map(RawDist::Value)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                V::deserialize(de::value::StrDeserializer::new(v)).map(RawDist::Value)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                RawDistTable::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawDist::Table)
            }
        }
        deserializer.deserialize_any(DistVisitor(PhantomData))
    }
}
