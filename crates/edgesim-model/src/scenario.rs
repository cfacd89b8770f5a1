//! The validated scenario: index-based, unit-normalised types built from
//! [`crate::raw`], with every problem collected before giving up.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use edgesim_cache::PolicyKind;
use edgesim_cache::freshness::{self, TtlPolicy};
use toml::Spanned;

use crate::dist::Dist;
use crate::geo::LatLon;
use crate::geo_tables;
use crate::overrides::{OverrideError, apply_overrides};
use crate::raw::{self, RawBytes, RawDevices, RawDist, RawDistTable};
use crate::source::{Diagnostic, Diagnostics, SourceMap};
use edgesim_triggers::builtin::{
    OriginKind as SplitOriginKind, OriginSplitConfig, SplitKey, WeightSpec,
};

/// A device class; its index orders per-device arrays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Device {
    /// Desktop browser.
    Desktop = 0,
    /// Phone.
    Mobile = 1,
    /// Tablet.
    Tablet = 2,
    /// Smart TV.
    SmartTv = 3,
}

impl Device {
    /// All classes in index order.
    pub const ALL: [Device; 4] = [
        Device::Desktop,
        Device::Mobile,
        Device::Tablet,
        Device::SmartTv,
    ];

    /// The name used in scenario files and reports.
    pub fn name(self) -> &'static str {
        match self {
            Device::Desktop => "desktop",
            Device::Mobile => "mobile",
            Device::Tablet => "tablet",
            Device::SmartTv => "smarttv",
        }
    }
}

/// A complete, validated scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Report name (file stem unless set).
    pub name: String,
    /// Free text.
    pub description: String,
    /// The file the scenario came from, as the user named it.
    pub source_name: String,
    /// Time and seed.
    pub simulation: Simulation,
    /// Edge locations, in file order.
    pub pops: Vec<Pop>,
    /// Regions, sorted by id; each owns its PoPs.
    pub regions: Vec<Region>,
    /// CloudFront cache policy TTLs.
    pub cache_policy: TtlPolicy,
    /// Origins, in file order.
    pub origins: Vec<Origin>,
    /// The objects.
    pub catalog: Catalog,
    /// The viewers.
    pub viewers: Viewers,
    /// The network model.
    pub network: Network,
    /// Cache behaviours, in file order; the first whose pattern matches a
    /// request's path applies (none: the default behaviour, no triggers).
    pub behaviors: Vec<Behavior>,
    /// Source text of every handler file the behaviours name, by the path
    /// as written (relative to the scenario file). Shipped to agents.
    pub trigger_sources: BTreeMap<String, String>,
    /// Named variations for `edgesim compare`, in file order.
    pub variants: Vec<Variant>,
    /// The gradual origin migration, if any.
    pub migration: Option<MigrationPlan>,
    /// Outages, slowdowns, degraded paths and flash crowds, in file order.
    pub events: Vec<crate::events::Event>,
    /// How request rates change over time.
    pub traffic: crate::events::Traffic,
    /// The price table and the scenario's price overrides (`[cost]`).
    pub cost: crate::cost::CostConfig,
    /// The account's Lambda@Edge quotas per region (`[lambda]`).
    pub lambda: crate::lambda::LambdaQuotas,
    /// Logs to replay request by request instead of synthetic viewers.
    pub replay: Option<Replay>,
    /// Values that are allowed but probably not meant (e.g. light faster
    /// than in fibre), in file order: `edgesim validate` and `run` print
    /// them (see [`crate::Warning`]) and go on.
    pub warnings: Vec<Diagnostic>,
}

/// `[replay]`: CloudFront standard logs the coordinator reads and replays
/// line by line (the agents never see the files).
#[derive(Debug, Clone, PartialEq)]
pub struct Replay {
    /// Log file patterns as written, relative to the scenario file.
    pub logs: Vec<String>,
    /// Log seconds per simulated second.
    pub speedup: f64,
}

/// A validated `[migration]`: the controller's configuration and the
/// origins it moves traffic between.
#[derive(Debug, Clone, PartialEq)]
pub struct MigrationPlan {
    /// Schedule, split, gates and rollback.
    pub spec: edgesim_migration::Migration,
    /// Index into [`Scenario::origins`] of the origin traffic leaves.
    pub from: usize,
    /// Index into [`Scenario::origins`] of the origin traffic moves to.
    pub to: usize,
    /// With `split = "country"`: the countries in the order they move (a
    /// permutation fixed by the seed, each with its `viewers.countries`
    /// share), so that the moved share of traffic follows the weight.
    pub countries: Option<edgesim_migration::CountryOrder>,
}

/// A named variation of a scenario: the same file with some keys set
/// otherwise (the `--set` mechanism), e.g. another migration strategy.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// Unique name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// `path=value` overrides, in the order written.
    pub overrides: Vec<String>,
}

impl Variant {
    /// The text of the scenario this variant describes: `text` (the
    /// scenario it belongs to) with its overrides applied, named after the
    /// variant, and without the `[[variants]]` list.
    pub fn scenario_text(&self, scenario_name: &str, text: &str) -> Result<String, OverrideError> {
        let mut table: toml::Table = text.parse().map_err(|e: toml::de::Error| OverrideError {
            spec: self.overrides.join(" "),
            problem: format!("the scenario is not valid TOML: {}", e.message()),
        })?;
        table.remove("variants");
        table.insert(
            "name".into(),
            toml::Value::String(format!("{scenario_name}-{}", self.name)),
        );
        let base = toml::to_string(&table).map_err(|e| OverrideError {
            spec: self.overrides.join(" "),
            problem: e.to_string(),
        })?;
        apply_overrides(&base, &self.overrides)
    }
}

/// A CloudFront cache behaviour.
#[derive(Debug, Clone, PartialEq)]
pub struct Behavior {
    /// Path pattern: `*` matches any characters, `?` exactly one.
    pub path_pattern: String,
    /// Index into [`Scenario::origins`] of the origin misses go to
    /// (None: the object class's origin).
    pub origin: Option<usize>,
    /// Request headers in the cache key, lowercase.
    pub cache_key_headers: Vec<String>,
    /// Cookie names in the cache key.
    pub cache_key_cookies: Vec<String>,
    /// Headers forwarded to the origin but not in the cache key, lowercase.
    pub origin_request_headers: Vec<String>,
    /// Query-string parameters in the cache key.
    pub cache_key_query_strings: Vec<String>,
    /// The function at each stage, indexed by `Stage as usize`
    /// (viewer-request, origin-request, origin-response, viewer-response).
    pub triggers: [Option<edgesim_triggers::TriggerConfig>; 4],
    /// Whether the origin-request function is the `[migration]`'s split
    /// (installed by the scenario, reading the `migration` control).
    pub migration_split: bool,
}

impl Behavior {
    /// Whether the behaviour applies to `path`.
    pub fn matches(&self, path: &str) -> bool {
        path_matches(self.path_pattern.as_bytes(), path.as_bytes())
    }

    /// Whether any stage has a function.
    pub fn has_triggers(&self) -> bool {
        self.triggers.iter().any(Option::is_some)
    }

    /// Whether the origin (and origin-facing functions) see header `name`
    /// (lowercase): it is in the cache key or the origin request policy.
    pub fn forwards_header(&self, name: &str) -> bool {
        self.cache_key_headers
            .iter()
            .chain(&self.origin_request_headers)
            .any(|h| h == name)
    }
}

/// CloudFront path-pattern matching: `*` any run of characters, `?` one
/// (see [`edgesim_triggers::util::glob_matches`]).
pub fn path_matches(pattern: &[u8], path: &[u8]) -> bool {
    edgesim_triggers::util::glob_matches(pattern, path)
}

/// Simulated time and the run seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Simulation {
    /// Simulated duration, µs.
    pub duration_us: u64,
    /// Epoch length, µs.
    pub epoch_us: u64,
    /// Run seed.
    pub seed: u64,
    /// What the coordinator does when an agent fails mid-run.
    pub on_agent_failure: AgentFailurePolicy,
}

/// What the coordinator does when an agent dies, hangs or is cut off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AgentFailurePolicy {
    /// Stop; the report keeps every completed epoch and is marked incomplete.
    #[default]
    Abort,
    /// Restart the agent's regions on the surviving agents from the failed
    /// epoch, with cold caches; the report marks when and where.
    Reassign,
}

impl Simulation {
    /// Number of epochs (the last one may be shorter).
    pub fn epochs(&self) -> u64 {
        self.duration_us.div_ceil(self.epoch_us)
    }

    /// Simulated time span of epoch `k`, µs.
    pub fn epoch_span(&self, k: u64) -> Range<u64> {
        let start = k * self.epoch_us;
        start..(start + self.epoch_us).min(self.duration_us)
    }
}

/// An edge location.
#[derive(Debug, Clone, PartialEq)]
pub struct Pop {
    /// Unique id.
    pub id: String,
    /// Airport code when placed by city.
    pub city: Option<String>,
    /// Where it is.
    pub location: LatLon,
    /// Index into [`Scenario::regions`].
    pub region: usize,
    /// Edge cache capacity, bytes.
    pub cache_bytes: u64,
    /// Eviction policy.
    pub policy: PolicyKind,
}

/// A region: the unit of sequential simulation. Its PoPs share one event
/// queue and, when configured, a regional edge cache.
#[derive(Debug, Clone, PartialEq)]
pub struct Region {
    /// Id, e.g. "eu-central-1".
    pub id: String,
    /// Indices into [`Scenario::pops`], ascending.
    pub pops: Vec<usize>,
    /// Where the regional edge cache is (the AWS region's city, the
    /// configured lat/lon, or else the centroid of the PoPs).
    pub location: LatLon,
    /// The regional edge cache, if any.
    pub cache: Option<RegionalCache>,
}

/// A regional edge cache (mid tier between PoPs and origins).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegionalCache {
    /// Capacity, bytes.
    pub cache_bytes: u64,
    /// Eviction policy.
    pub policy: PolicyKind,
}

/// The kind of origin, as CloudFront distinguishes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OriginKind {
    /// An S3 bucket.
    S3,
    /// Any HTTP server.
    Custom,
}

/// An origin.
#[derive(Debug, Clone, PartialEq)]
pub struct Origin {
    /// Unique id.
    pub id: String,
    /// S3 or custom.
    pub kind: OriginKind,
    /// Where it is, as written (region code, city code, or "lat,lon").
    pub location_name: String,
    /// Where it is.
    pub location: LatLon,
    /// Service time per request, ms.
    pub service_ms: Dist,
    /// Domain name by which triggers address it.
    pub domain_name: String,
    /// What it gets wrong.
    pub faults: OriginFaults,
    /// Requests served at once (servers of a simulated FCFS queue), if limited.
    pub concurrency: Option<u32>,
    /// Origin response timeout, µs.
    pub timeout_us: u64,
    /// Origin group: (the origin to fail over to, the statuses that do).
    pub failover: Option<(usize, Vec<u16>)>,
    /// How long CloudFront keeps an idle connection to it open, µs.
    pub keepalive_us: u64,
    /// New connections to it pay a TLS handshake (HTTPS).
    pub tls: bool,
    /// CloudFront Origin Shield for this origin, when enabled.
    pub shield: Option<OriginShield>,
}

/// CloudFront Origin Shield: one more cache tier, in one AWS region,
/// between every regional edge cache (or PoP without one) and an origin.
#[derive(Debug, Clone, PartialEq)]
pub struct OriginShield {
    /// AWS region code, e.g. "us-east-1".
    pub region: String,
    /// Where it is (the AWS region's city).
    pub location: LatLon,
    /// Capacity, bytes.
    pub cache_bytes: u64,
    /// Eviction policy.
    pub policy: PolicyKind,
}

/// How an origin misbehaves (all off by default).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct OriginFaults {
    /// Share of objects answered with `error_status` (chosen per object:
    /// the same objects fail every time).
    pub error_share: f64,
    /// Status of those answers.
    pub error_status: u16,
    /// Share of objects answered 404 (chosen per object, apart from the
    /// failing ones).
    pub missing_share: f64,
    /// Request rate above which the excess is answered 503 Slow Down (at
    /// the start of the run).
    pub throttle_rps: Option<f64>,
    /// While the offered rate exceeds the limit, the limit doubles every
    /// this many seconds, as S3 scales up a busy prefix (None: fixed).
    pub throttle_doubling_secs: Option<f64>,
}

impl OriginFaults {
    /// The status the origin gives object `key` (before throttling).
    pub fn status_for(&self, origin_salt: u64, key: u64) -> u16 {
        if self.error_share <= 0.0 && self.missing_share <= 0.0 {
            return 200;
        }
        let u = crate::rng::unit_f64(crate::rng::mix64(key ^ origin_salt));
        if u < self.error_share {
            self.error_status
        } else if u < self.error_share + self.missing_share {
            404
        } else {
            200
        }
    }
}

/// The objects viewers ask for, in classes.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalog {
    /// Object classes, in file order; shares sum to 1.
    pub classes: Vec<ObjectClass>,
}

/// A class of objects with its own popularity, sizes and freshness.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectClass {
    /// Unique name.
    pub name: String,
    /// Share of requests (sums to 1 over classes).
    pub share: f64,
    /// Number of distinct objects; object ids are popularity ranks 1..=objects.
    pub objects: u64,
    /// Zipf exponent.
    pub zipf_alpha: f64,
    /// Object size distribution, bytes.
    pub size_bytes: Dist,
    /// The origin's `Cache-Control` header, if it sends one.
    pub cache_control: Option<String>,
    /// How long the edge keeps an object, from the cache policy and
    /// `cache_control`; `None`: not stored at all.
    pub ttl_secs: Option<u64>,
    /// URI prefix of the class's objects.
    pub path_prefix: String,
    /// Index into [`Scenario::origins`].
    pub origin: usize,
}

/// The viewers.
#[derive(Debug, Clone, PartialEq)]
pub struct Viewers {
    /// Mean total request rate.
    pub requests_per_sec: f64,
    /// Countries sorted by code, weights normalised to sum to 1.
    pub countries: Vec<CountryDemand>,
    /// Distinct viewers in all.
    pub population: u64,
}

/// One country's share of the viewers.
#[derive(Debug, Clone, PartialEq)]
pub struct CountryDemand {
    /// ISO 3166-1 alpha-2 code.
    pub code: String,
    /// Where its viewers are (population centre).
    pub location: LatLon,
    /// Share of all requests (sums to 1 over countries).
    pub weight: f64,
    /// Device mix, by [`Device`] index, summing to 1.
    pub devices: [f64; 4],
    /// Its cities (see [`crate::cities`]), largest first; shares sum to 1.
    pub cities: Vec<CityShare>,
}

/// One city's share of its country's viewers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CityShare {
    /// Index into [`crate::cities::all`].
    pub city: u32,
    /// The city's coordinates: where its viewers are routed from.
    pub location: LatLon,
    /// Share of the country's viewers and requests (its share of the
    /// population of the country's cities in the table).
    pub share: f64,
}

/// The cities of a country of the table, with their shares of its viewers.
fn city_shares(code: &str) -> Vec<CityShare> {
    let range = crate::cities::of_country(code);
    let cities = &crate::cities::all()[range.clone()];
    let total: f64 = cities.iter().map(|c| c.population as f64).sum();
    range
        .zip(cities)
        .filter_map(|(i, c)| {
            Some(CityShare {
                city: u32::try_from(i).ok()?,
                location: c.location,
                share: c.population as f64 / total,
            })
        })
        .collect()
}

/// Largest delay `[network]` accepts for jitter, edge processing and a
/// last mile, ms: 10 s. Beyond it a viewer's request would have timed out
/// (CloudFront's default origin response timeout is 30 s for the whole
/// fetch); what is meant is an outage, which `[[events]]` model.
pub const MAX_NETWORK_DELAY_MS: f64 = 10_000.0;

/// The network model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Network {
    /// Speed of light in fibre, km/ms: at most
    /// [`crate::geo::LIGHT_IN_VACUUM_KM_PER_MS`] (299.792458, the SI value
    /// of c), normally at most [`crate::geo::LIGHT_IN_FIBRE_KM_PER_MS`]
    /// (about 204, c over silica's refractive index 1.468).
    pub fibre_km_per_ms: f64,
    /// Path length over great-circle length (>= 1).
    pub path_inflation: f64,
    /// Mean exponential jitter per round trip, ms.
    pub jitter_ms: f64,
    /// Edge processing time per request, ms.
    pub edge_processing_ms: f64,
    /// Last-mile round trip by [`Device`] index, ms.
    pub last_mile_ms: [f64; 4],
    /// Connection set-up on the viewer leg.
    pub connections: Connections,
}

impl Default for Network {
    fn default() -> Self {
        Self {
            fibre_km_per_ms: 200.0,
            path_inflation: 1.5,
            jitter_ms: 2.0,
            edge_processing_ms: 0.3,
            last_mile_ms: [4.0, 20.0, 12.0, 6.0],
            connections: Connections::default(),
        }
    }
}

/// How viewers' connections to their PoP are set up and reused (see
/// docs/model.md, "Connections").
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Connections {
    /// Connection set-up is modelled; without it every request costs one
    /// round trip, as on a connection that is always open.
    pub enabled: bool,
    /// Share of requests that follow an earlier request of the same page
    /// on the connection that request opened. HTTP Archive's crawl saw
    /// about four requests per connection on the median page, so 0.75.
    pub page_reuse_share: f64,
    /// An idle viewer connection stays open this long, µs.
    pub viewer_idle_timeout_us: u64,
    /// A viewer resumes its TLS session within this long of its last
    /// connection to the PoP, µs.
    pub session_ticket_us: u64,
    /// Viewer protocol shares, summing to 1: HTTP/3, TLS 1.3, TLS 1.2.
    pub protocols: [f64; 3],
}

impl Default for Connections {
    fn default() -> Self {
        Connections {
            enabled: true,
            page_reuse_share: 0.75,
            viewer_idle_timeout_us: 60_000_000,
            session_ticket_us: 3_600_000_000,
            protocols: [0.3, 0.6, 0.1],
        }
    }
}

/// CloudFront's default origin keep-alive timeout (5 s), µs.
pub const DEFAULT_ORIGIN_KEEPALIVE_US: u64 = 5_000_000;

/// Why a scenario could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read scenario {path}: {source}")]
    Io {
        /// The path as given.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The file has problems; all of them are listed.
    #[error("{0}")]
    Invalid(Diagnostics),
}

impl Scenario {
    /// Reads and validates a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, LoadError> {
        let text = crate::input::read_scenario(path).map_err(|e| LoadError::Io {
            path: e.path,
            source: std::io::Error::other(e.cause.to_string()),
        })?;
        Scenario::from_toml(&path.display().to_string(), &text).map_err(LoadError::Invalid)
    }

    /// Parses and validates scenario text known to the user as
    /// `source_name`; handler files are read relative to its directory.
    pub fn from_toml(source_name: &str, text: &str) -> Result<Scenario, Diagnostics> {
        let dir = Path::new(source_name)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        Scenario::parse(source_name, text, &|path: &str| {
            crate::input::read_handler(&dir.join(path))
                .map_err(|e| std::io::Error::other(e.cause.to_string()))
        })
    }

    /// Like [`Scenario::from_toml`], with handler files taken from
    /// `sources` (as shipped to agents) instead of the file system.
    pub fn from_toml_with_sources(
        source_name: &str,
        text: &str,
        sources: &BTreeMap<String, String>,
    ) -> Result<Scenario, Diagnostics> {
        Scenario::parse(source_name, text, &|path: &str| {
            sources.get(path).cloned().ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!("{path} was not shipped with the scenario"),
                )
            })
        })
    }

    fn parse(
        source_name: &str,
        text: &str,
        load_source: &dyn Fn(&str) -> std::io::Result<String>,
    ) -> Result<Scenario, Diagnostics> {
        let map = SourceMap::new(source_name, text);
        let raw = crate::schema::deserialize(&map, text)?;
        let mut v = Validator {
            map,
            text: text.to_owned(),
            diags: Vec::new(),
            warnings: Vec::new(),
        };
        let mut scenario = v.scenario(raw, load_source);
        if v.diags.is_empty() {
            v.warnings.sort_by_key(|d| (d.line, d.col));
            scenario.warnings = v.warnings;
            Ok(scenario)
        } else {
            v.diags.sort_by_key(|d| (d.line, d.col));
            Err(Diagnostics(v.diags))
        }
    }

    /// Index of the region with this id.
    pub fn region_index(&self, id: &str) -> Option<usize> {
        self.regions.iter().position(|r| r.id == id)
    }
}

/// Names the table that holds byte `offset`, as the user wrote it:
/// `simulation`, `pops #2` (1-based among `[[pops]]`), or "" at top level.
/// Used for errors from the first (serde) stage, which know only a span.
pub(crate) fn enclosing_table(text: &str, offset: usize) -> String {
    let mut name = String::new();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        if pos > offset {
            break;
        }
        pos += line.len();
        let t = line.trim();
        if let Some(inner) = t.strip_prefix("[[").and_then(|r| r.split("]]").next()) {
            let key = inner.trim().to_owned();
            let n = counts.entry(key.clone()).or_default();
            *n += 1;
            name = format!("{key} #{n}");
        } else if let Some(inner) = t.strip_prefix('[').and_then(|r| r.split(']').next()) {
            name = inner.trim().to_owned();
        }
    }
    name
}

/// Largest number of objects in one class (object ids fit in 40 bits of
/// the cache key, next to the class index).
pub const MAX_OBJECTS: u64 = (1 << 40) - 1;

/// The fields of one object class, from either catalog form.
struct ClassFields<'a> {
    entity: String,
    name: String,
    share: f64,
    objects: &'a Spanned<i64>,
    zipf_alpha: &'a Spanned<f64>,
    size: &'a Spanned<RawDist<RawBytes>>,
    ttl_secs: &'a Option<Spanned<i64>>,
    cache_control: &'a Option<Spanned<String>>,
    path_prefix: Option<&'a Spanned<String>>,
    origin: &'a Option<Spanned<String>>,
}

/// Collects diagnostics while building the validated scenario.
struct Validator {
    map: SourceMap,
    /// The text being validated (variants are validated from it).
    text: String,
    diags: Vec<Diagnostic>,
    /// Allowed but suspicious values.
    warnings: Vec<Diagnostic>,
}

/// Where a value was written, for fields that may be absent.
fn span_of<T>(v: &Option<Spanned<T>>, fallback: &Range<usize>) -> Range<usize> {
    v.as_ref().map_or(fallback.clone(), |s| s.span())
}

impl Validator {
    fn err(&mut self, span: Range<usize>, entity: &str, message: impl Into<String>) {
        self.diags.push(self.map.diagnostic(span, entity, message));
    }

    fn warn(&mut self, span: Range<usize>, entity: &str, message: impl Into<String>) {
        self.warnings
            .push(self.map.diagnostic(span, entity, message));
    }

    fn scenario(
        &mut self,
        raw: raw::RawScenario,
        load_source: &dyn Fn(&str) -> std::io::Result<String>,
    ) -> Scenario {
        let name = match &raw.name {
            Some(n) => {
                if let Err(problem) = crate::names::check(n.get_ref()) {
                    self.err(
                        n.span(),
                        "",
                        format!(
                            "name \"{}\" {problem}: the report goes to reports/<name>/, so the name must be one directory name ({})",
                            n.get_ref(),
                            crate::names::NAME_RULE
                        ),
                    );
                }
                n.get_ref().clone()
            }
            None => Path::new(self.map.name()).file_stem().map_or_else(
                || "scenario".to_owned(),
                |s| crate::names::from_stem(&s.to_string_lossy()),
            ),
        };
        let simulation = self.simulation(&raw.simulation);
        let (pops, mut regions) = self.pops(&raw.pops);
        self.regional_caches(&raw.regions, &mut regions);
        let cache_policy = raw
            .cache_policy
            .as_ref()
            .map_or_else(TtlPolicy::default, |p| self.cache_policy(p));
        let mut origins = self.origins(&raw.origins);
        self.failover(&raw.origins, &mut origins);
        let catalog = self.catalog(&raw.catalog, &origins, &cache_policy);
        let viewers = self.viewers(&raw.viewers);
        let network = raw
            .network
            .as_ref()
            .map_or_else(Network::default, |n| self.network(n));
        let mut trigger_sources = BTreeMap::new();
        let behaviors = self.behaviors(&raw.behaviors, &origins, load_source, &mut trigger_sources);
        let mut behaviors = behaviors;
        let migration = raw
            .migration
            .as_ref()
            .and_then(|m| self.migration(m, &origins, &mut behaviors, &viewers, simulation.seed));
        let events = self.events(
            &raw.events,
            &simulation,
            &pops,
            &regions,
            &origins,
            &viewers,
        );
        let traffic = raw
            .traffic
            .as_ref()
            .map_or_else(crate::events::Traffic::default, |t| self.traffic(t));
        let variants = self.variants(&raw.variants, &name, load_source);
        let cost = raw.cost.as_ref().map_or_else(Default::default, |c| {
            crate::cost::validate(c, &origins, &self.map, &mut self.diags)
        });
        let lambda = raw.lambda.as_ref().map_or_else(Default::default, |l| {
            crate::lambda::validate(l, &self.map, &mut self.diags)
        });
        let replay = raw.replay.as_ref().map(|r| self.replay(r));
        Scenario {
            replay,
            name,
            description: raw.description.unwrap_or_default(),
            source_name: self.map.name().to_owned(),
            simulation,
            pops,
            regions,
            cache_policy,
            origins,
            catalog,
            viewers,
            network,
            behaviors,
            trigger_sources,
            variants,
            migration,
            events,
            traffic,
            cost,
            lambda,
            warnings: Vec::new(),
        }
    }

    /// Validates `[migration]` and installs its split: an `origin_split`
    /// at origin-request, reading the `migration` control, in every
    /// behaviour without an origin-request function of its own (and in a
    /// catch-all behaviour appended when none matches every path). A split
    /// by country gets the thresholds of the seeded [`edgesim_migration::CountryOrder`]
    /// of the scenario's countries.
    fn migration(
        &mut self,
        raw: &Spanned<edgesim_migration::RawMigration>,
        origins: &[Origin],
        behaviors: &mut Vec<Behavior>,
        viewers: &Viewers,
        seed: u64,
    ) -> Option<MigrationPlan> {
        let span = raw.span();
        let m = raw.get_ref();
        let spec = match edgesim_migration::Migration::from_raw(m) {
            Ok(spec) => Some(spec),
            Err(errors) => {
                for e in errors {
                    self.err(span.clone(), "migration", e.to_string());
                }
                None
            }
        };
        let mut origin = |id: &str, field: &str| {
            let found = origins.iter().position(|o| o.id == id);
            if found.is_none() {
                let known: Vec<&str> = origins.iter().map(|o| o.id.as_str()).collect();
                self.err(
                    span.clone(),
                    "migration",
                    format!(
                        "{field}: no origin \"{id}\" (origins: {})",
                        known.join(", ")
                    ),
                );
            }
            found
        };
        let from = origin(&m.from, "from");
        let to = origin(&m.to, "to");
        let (spec, from, to) = (spec?, from?, to?);
        let target = &origins[to];
        let split = match spec.split {
            edgesim_migration::SplitKey::Random => SplitKey::Random,
            edgesim_migration::SplitKey::ObjectHash => SplitKey::UriHash,
            edgesim_migration::SplitKey::ViewerSticky => SplitKey::Viewer,
            edgesim_migration::SplitKey::Country => SplitKey::Country,
            edgesim_migration::SplitKey::ViewerCohortKeyed
            | edgesim_migration::SplitKey::ContinuousDeployment => SplitKey::Arm,
        };
        let countries = (spec.split == edgesim_migration::SplitKey::Country).then(|| {
            let shares: Vec<(String, f64)> = viewers
                .countries
                .iter()
                .map(|c| (c.code.clone(), c.weight))
                .collect();
            edgesim_migration::CountryOrder::new(seed, &shares)
        });
        let country_thresholds = countries
            .iter()
            .flat_map(|o| o.countries())
            .map(|c| (c.code.clone(), c.moves_at_weight))
            .collect();
        let config = edgesim_triggers::TriggerConfig {
            kind: edgesim_triggers::TriggerKind::Builtin(
                edgesim_triggers::BuiltinConfig::OriginSplit(OriginSplitConfig {
                    to: target.domain_name.clone(),
                    from: Some(origins[from].domain_name.clone()),
                    to_region: (target.kind == OriginKind::S3
                        && geo_tables::aws_region(&target.location_name).is_some())
                    .then(|| target.location_name.clone()),
                    to_kind: Some(match target.kind {
                        OriginKind::S3 => SplitOriginKind::S3,
                        OriginKind::Custom => SplitOriginKind::Custom,
                    }),
                    weight: WeightSpec::Control("migration".to_owned()),
                    split,
                    country_thresholds,
                }),
            ),
            execution: edgesim_triggers::ExecutionConfig::default(),
        };
        let origin_request = edgesim_triggers::Stage::OriginRequest as usize;
        for b in behaviors.iter_mut() {
            if b.triggers[origin_request].is_none() {
                b.triggers[origin_request] = Some(config.clone());
                b.migration_split = true;
            }
        }
        if !behaviors
            .iter()
            .any(|b| b.path_pattern.trim_start_matches('/') == "*")
        {
            let mut triggers: [Option<edgesim_triggers::TriggerConfig>; 4] = Default::default();
            triggers[origin_request] = Some(config);
            behaviors.push(Behavior {
                path_pattern: "*".into(),
                origin: None,
                cache_key_headers: Vec::new(),
                cache_key_cookies: Vec::new(),
                origin_request_headers: Vec::new(),
                cache_key_query_strings: Vec::new(),
                triggers,
                migration_split: true,
            });
        }
        Some(MigrationPlan {
            spec,
            from,
            to,
            countries,
        })
    }

    /// Checks each variant by validating the scenario it describes; a
    /// problem there is reported at the variant, with the inner message.
    fn variants(
        &mut self,
        raw: &[Spanned<raw::RawVariant>],
        scenario_name: &str,
        load_source: &dyn Fn(&str) -> std::io::Result<String>,
    ) -> Vec<Variant> {
        let mut out: Vec<Variant> = Vec::new();
        for (i, v) in raw.iter().enumerate() {
            let name = v.get_ref().name.get_ref().trim().to_owned();
            let entity = format!("variants #{} ({name})", i + 1);
            let name_span = v.get_ref().name.span();
            if let Err(problem) = crate::names::check(&name) {
                self.err(
                    name_span.clone(),
                    &format!("variants #{}", i + 1),
                    format!(
                        "name \"{name}\" {problem}: it names the variant's report directory ({})",
                        crate::names::NAME_RULE
                    ),
                );
                continue;
            }
            if out.iter().any(|o| o.name == name) {
                self.err(
                    name_span,
                    &entity,
                    format!("a variant named \"{name}\" is already defined"),
                );
                continue;
            }
            let overrides: Vec<String> = v
                .get_ref()
                .set
                .get_ref()
                .iter()
                .map(|(k, val)| format!("{k}={val}"))
                .collect();
            let variant = Variant {
                name,
                description: v.get_ref().description.clone().unwrap_or_default(),
                overrides,
            };
            let set_span = v.get_ref().set.span();
            match variant.scenario_text(scenario_name, &self.text) {
                Err(e) => self.err(set_span, &entity, e.problem),
                Ok(text) => {
                    if let Err(diags) = Scenario::parse(self.map.name(), &text, load_source) {
                        for d in diags.0 {
                            let inner = if d.entity.is_empty() {
                                d.message
                            } else {
                                format!("{}: {}", d.entity, d.message)
                            };
                            self.err(set_span.clone(), &entity, inner);
                        }
                    }
                }
            }
            out.push(variant);
        }
        out
    }

    fn behaviors(
        &mut self,
        raw: &[Spanned<raw::RawBehavior>],
        origins: &[Origin],
        load_source: &dyn Fn(&str) -> std::io::Result<String>,
        sources: &mut BTreeMap<String, String>,
    ) -> Vec<Behavior> {
        use edgesim_triggers::Stage;
        let mut out = Vec::new();
        for b in raw {
            let b = b.get_ref();
            let entity = format!("behavior \"{}\"", b.path.get_ref());
            if !b.path.get_ref().starts_with('/') && b.path.get_ref() != "*" {
                self.err(
                    b.path.span(),
                    &entity,
                    "path must start with '/' (or be \"*\")",
                );
            }
            let origin = b.origin.as_ref().map(|name| {
                origins
                    .iter()
                    .position(|o| &o.id == name.get_ref())
                    .unwrap_or_else(|| {
                        self.err(
                            name.span(),
                            &entity,
                            format!(
                                "origin \"{}\" is not defined in [[origins]]",
                                name.get_ref()
                            ),
                        );
                        0
                    })
            });
            let mut triggers: [Option<edgesim_triggers::TriggerConfig>; 4] = Default::default();
            for (stage, cfg) in [
                (Stage::ViewerRequest, &b.viewer_request),
                (Stage::OriginRequest, &b.origin_request),
                (Stage::OriginResponse, &b.origin_response),
                (Stage::ViewerResponse, &b.viewer_response),
            ] {
                let Some(cfg) = cfg else { continue };
                let loaded = std::cell::RefCell::new(Vec::new());
                let recording = |path: &str| {
                    let text = load_source(path)?;
                    loaded.borrow_mut().push((path.to_owned(), text.clone()));
                    Ok(text)
                };
                let compiled = edgesim_triggers::compile(cfg.get_ref(), stage, &recording);
                sources.extend(loaded.into_inner());
                match compiled {
                    Ok(_) => triggers[stage as usize] = Some(cfg.get_ref().clone()),
                    Err(errors) => {
                        for e in errors {
                            self.err(
                                cfg.span(),
                                &format!("{entity} {}", stage.as_str()),
                                e.to_string(),
                            );
                        }
                    }
                }
            }
            // CloudFront refuses a CloudFront Function and a Lambda@Edge function on the
            // viewer events of one behaviour ("Restrictions on edge functions").
            let viewer = [Stage::ViewerRequest, Stage::ViewerResponse];
            let kinds: Vec<(Stage, bool)> = viewer
                .iter()
                .filter_map(|s| {
                    triggers[*s as usize]
                        .as_ref()
                        .map(|t| (*s, t.is_cloudfront_function()))
                })
                .collect();
            if let [(first, a), (second, b_kind)] = kinds.as_slice()
                && a != b_kind
            {
                let name = |cff: bool| {
                    if cff {
                        "a CloudFront Function"
                    } else {
                        "a Lambda@Edge function"
                    }
                };
                let span = b
                    .viewer_response
                    .as_ref()
                    .or(b.viewer_request.as_ref())
                    .map_or_else(|| b.path.span(), |c| c.span());
                self.err(
                    span,
                    &entity,
                    format!(
                        "{first} has {} and {second} {}: CloudFront cannot combine CloudFront Functions and Lambda@Edge on the viewer events of one behaviour",
                        name(*a),
                        name(*b_kind)
                    ),
                );
            }
            out.push(Behavior {
                path_pattern: b.path.get_ref().clone(),
                origin,
                cache_key_headers: b
                    .cache_key_headers
                    .iter()
                    .map(|h| h.get_ref().to_ascii_lowercase())
                    .collect(),
                cache_key_cookies: b
                    .cache_key_cookies
                    .iter()
                    .map(|c| c.get_ref().clone())
                    .collect(),
                origin_request_headers: b
                    .origin_request_headers
                    .iter()
                    .map(|h| h.get_ref().to_ascii_lowercase())
                    .collect(),
                cache_key_query_strings: b
                    .cache_key_query_strings
                    .iter()
                    .map(|q| q.get_ref().clone())
                    .collect(),
                triggers,
                migration_split: false,
            });
        }
        out
    }

    fn simulation(&mut self, raw: &Spanned<raw::RawSimulation>) -> Simulation {
        let entity = "simulation";
        let sim = raw.get_ref();
        let secs = *sim.duration_secs.get_ref();
        let mut duration_us = 0;
        if !(secs.is_finite() && secs > 0.0) {
            self.err(
                sim.duration_secs.span(),
                entity,
                format!("duration_secs must be > 0, got {secs}"),
            );
        } else if secs > 366.0 * 86_400.0 {
            self.err(
                sim.duration_secs.span(),
                entity,
                "duration_secs must be at most a year",
            );
        } else {
            duration_us = (secs * 1e6).round() as u64;
        }
        let mut epoch_us = 1_000_000;
        if let Some(ms) = &sim.epoch_ms {
            let v = *ms.get_ref();
            if v <= 0 {
                self.err(ms.span(), entity, format!("epoch_ms must be > 0, got {v}"));
            } else {
                epoch_us = v as u64 * 1000;
                if duration_us > 0 && epoch_us > duration_us {
                    self.err(ms.span(), entity, "epoch_ms must not exceed duration_secs");
                }
            }
        }
        let seed = match &sim.seed {
            Some(s) if *s.get_ref() < 0 => {
                self.err(s.span(), entity, "seed must be >= 0");
                0
            }
            Some(s) => *s.get_ref() as u64,
            None => 1,
        };
        let on_agent_failure = match sim
            .on_agent_failure
            .as_ref()
            .map(|s| (s, s.get_ref().as_str()))
        {
            None | Some((_, "abort")) => AgentFailurePolicy::Abort,
            Some((_, "reassign")) => AgentFailurePolicy::Reassign,
            Some((s, other)) => {
                self.err(
                    s.span(),
                    entity,
                    format!("on_agent_failure must be \"abort\" or \"reassign\", got \"{other}\""),
                );
                AgentFailurePolicy::Abort
            }
        };
        Simulation {
            duration_us,
            epoch_us,
            seed,
            on_agent_failure,
        }
    }

    fn pops(&mut self, raw: &[Spanned<raw::RawPop>]) -> (Vec<Pop>, Vec<Region>) {
        if raw.is_empty() {
            self.err(0..0, "", "at least one [[pops]] entry is required");
        }
        let mut seen = BTreeMap::new();
        let mut region_of = Vec::new();
        let mut pops = Vec::new();
        for p in raw {
            let span = p.span();
            let p = p.get_ref();
            let id = p.id.get_ref().clone();
            let entity = format!("pop \"{id}\"");
            self.check_id(&p.id, &entity, &mut seen);
            let city = p.city.as_ref().and_then(|c| {
                let found = geo_tables::pop_city(c.get_ref());
                if found.is_none() {
                    self.err(c.span(), &entity, format!("unknown city \"{}\" (use an airport code from the built-in PoP table, or lat/lon)", c.get_ref()));
                }
                found
            });
            let location = self.location(
                &entity,
                &span,
                city.map(|c| LatLon {
                    lat: c.lat,
                    lon: c.lon,
                }),
                p.city.is_some(),
                &p.lat,
                &p.lon,
                "city",
            );
            let region = match (&p.region, city) {
                (Some(r), _) if r.get_ref().trim().is_empty() => {
                    self.err(r.span(), &entity, "region must not be empty");
                    String::new()
                }
                (Some(r), _) => r.get_ref().clone(),
                (None, Some(c)) => c.region.to_owned(),
                (None, None) => {
                    if p.city.is_none() {
                        self.err(
                            span.clone(),
                            &entity,
                            "region is required when the PoP is placed by lat/lon",
                        );
                    }
                    String::new()
                }
            };
            let cache_bytes = self.bytes(&p.cache_bytes, &entity, "cache_bytes", false);
            let policy = self.policy(&p.policy, &entity);
            region_of.push(region);
            pops.push(Pop {
                id,
                city: city.map(|c| c.code.to_owned()),
                location,
                region: 0,
                cache_bytes,
                policy,
            });
        }
        let mut by_region: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, r) in region_of.iter().enumerate() {
            by_region.entry(r.clone()).or_default().push(i);
        }
        let regions: Vec<Region> = by_region
            .into_iter()
            .map(|(id, members)| {
                let location = geo_tables::aws_region(&id).map_or_else(
                    || {
                        let n = members.len() as f64;
                        LatLon {
                            lat: members.iter().map(|&i| pops[i].location.lat).sum::<f64>() / n,
                            lon: members.iter().map(|&i| pops[i].location.lon).sum::<f64>() / n,
                        }
                    },
                    |r| LatLon {
                        lat: r.lat,
                        lon: r.lon,
                    },
                );
                Region {
                    id,
                    pops: members,
                    location,
                    cache: None,
                }
            })
            .collect();
        for (ri, r) in regions.iter().enumerate() {
            for &pi in &r.pops {
                pops[pi].region = ri;
            }
        }
        (pops, regions)
    }

    fn origins(&mut self, raw: &[Spanned<raw::RawOrigin>]) -> Vec<Origin> {
        if raw.is_empty() {
            self.err(0..0, "", "at least one [[origins]] entry is required");
        }
        let mut seen = BTreeMap::new();
        let mut out = Vec::new();
        for o in raw {
            let span = o.span();
            let o = o.get_ref();
            let id = o.id.get_ref().clone();
            let entity = format!("origin \"{id}\"");
            self.check_id(&o.id, &entity, &mut seen);
            let kind = match o.kind.get_ref().as_str() {
                "s3" => OriginKind::S3,
                "custom" => OriginKind::Custom,
                other => {
                    self.err(
                        o.kind.span(),
                        &entity,
                        format!("kind must be \"s3\" or \"custom\", got \"{other}\""),
                    );
                    OriginKind::Custom
                }
            };
            let known = o.location.as_ref().and_then(|l| {
                let name = l.get_ref();
                let found = geo_tables::aws_region(name)
                    .map(|r| LatLon { lat: r.lat, lon: r.lon })
                    .or_else(|| geo_tables::pop_city(name).map(|c| LatLon { lat: c.lat, lon: c.lon }));
                if found.is_none() {
                    self.err(l.span(), &entity, format!("unknown location \"{name}\" (use an AWS region code like \"us-east-1\", a PoP airport code, or lat/lon)"));
                }
                found
            });
            let location = self.location(
                &entity,
                &span,
                known,
                o.location.is_some(),
                &o.lat,
                &o.lon,
                "location",
            );
            let location_name = match (&o.location, &o.lat, &o.lon) {
                (Some(l), _, _) => l.get_ref().clone(),
                (None, Some(a), Some(b)) => format!("{},{}", a.get_ref(), b.get_ref()),
                _ => String::new(),
            };
            let service_ms = match &o.service_ms {
                None => Dist::LogNormal {
                    p50: 20.0,
                    p99: 120.0,
                },
                Some(d) => self.dist_ms(d, &entity, "service_ms"),
            };
            let domain_name = match &o.domain_name {
                Some(d) if d.get_ref().is_empty() || d.get_ref().contains(['/', ' ']) => {
                    self.err(
                        d.span(),
                        &entity,
                        format!("domain_name must be a host name, got \"{}\"", d.get_ref()),
                    );
                    String::new()
                }
                Some(d) => d.get_ref().clone(),
                None => match kind {
                    OriginKind::S3 if geo_tables::aws_region(&location_name).is_some() => {
                        format!("{id}.s3.{location_name}.amazonaws.com")
                    }
                    OriginKind::S3 => format!("{id}.s3.amazonaws.com"),
                    OriginKind::Custom => format!("{id}.origin.example"),
                },
            };
            let share = |v: &mut Self, f: &Option<Spanned<f64>>, what: &str| -> f64 {
                match f {
                    None => 0.0,
                    Some(x) if !(0.0..=1.0).contains(x.get_ref()) => {
                        v.err(
                            x.span(),
                            &entity,
                            format!("{what} must be in [0, 1], got {}", x.get_ref()),
                        );
                        0.0
                    }
                    Some(x) => *x.get_ref(),
                }
            };
            let error_share = share(self, &o.error_share, "error_share");
            let missing_share = share(self, &o.missing_share, "missing_share");
            if error_share + missing_share > 1.0 {
                self.err(
                    span.clone(),
                    &entity,
                    "error_share + missing_share must not exceed 1",
                );
            }
            let error_status = match &o.error_status {
                None => 500,
                Some(s) if !(400..=599).contains(s.get_ref()) => {
                    self.err(
                        s.span(),
                        &entity,
                        format!("error_status must be in 400..=599, got {}", s.get_ref()),
                    );
                    500
                }
                Some(s) => *s.get_ref() as u16,
            };
            let throttle_rps = match &o.throttle_rps {
                Some(t) if !(t.get_ref().is_finite() && *t.get_ref() > 0.0) => {
                    self.err(
                        t.span(),
                        &entity,
                        format!("throttle_rps must be a positive rate, got {}", t.get_ref()),
                    );
                    None
                }
                t => t.as_ref().map(|t| *t.get_ref()),
            };
            let throttle_doubling_secs = match &o.throttle_doubling_secs {
                Some(t) if !(t.get_ref().is_finite() && *t.get_ref() > 0.0) => {
                    self.err(
                        t.span(),
                        &entity,
                        format!(
                            "throttle_doubling_secs must be a positive number of seconds, got {}",
                            t.get_ref()
                        ),
                    );
                    None
                }
                Some(t) if throttle_rps.is_none() && o.throttle_rps.is_none() => {
                    self.err(
                        t.span(),
                        &entity,
                        "throttle_doubling_secs needs throttle_rps (the limit it starts from)",
                    );
                    None
                }
                t => t.as_ref().map(|t| *t.get_ref()),
            };
            out.push(Origin {
                id,
                kind,
                location_name,
                location,
                service_ms,
                domain_name,
                faults: OriginFaults {
                    error_share,
                    error_status,
                    missing_share,
                    throttle_rps,
                    throttle_doubling_secs,
                },
                concurrency: match &o.concurrency {
                    Some(c) if !(1..=1_000_000).contains(c.get_ref()) => {
                        self.err(
                            c.span(),
                            &entity,
                            format!("concurrency must be in 1..=1000000, got {}", c.get_ref()),
                        );
                        None
                    }
                    c => c.as_ref().map(|c| *c.get_ref() as u32),
                },
                timeout_us: match &o.timeout_ms {
                    Some(t) if !(t.get_ref().is_finite() && *t.get_ref() > 0.0) => {
                        self.err(
                            t.span(),
                            &entity,
                            format!("timeout_ms must be > 0, got {}", t.get_ref()),
                        );
                        30_000_000
                    }
                    Some(t) => (t.get_ref() * 1000.0).round() as u64,
                    None => 30_000_000,
                },
                failover: None,
                keepalive_us: match &o.keepalive_timeout_s {
                    Some(k)
                        if !(k.get_ref().is_finite() && (1.0..=180.0).contains(k.get_ref())) =>
                    {
                        self.err(
                            k.span(),
                            &entity,
                            format!(
                                "keepalive_timeout_s must be in 1..=180 (CloudFront's range, \
                                 with a quota increase above 60), got {}",
                                k.get_ref()
                            ),
                        );
                        DEFAULT_ORIGIN_KEEPALIVE_US
                    }
                    Some(k) => (k.get_ref() * 1e6).round() as u64,
                    None => DEFAULT_ORIGIN_KEEPALIVE_US,
                },
                tls: match o.protocol.as_ref().map(|p| (p, p.get_ref().as_str())) {
                    None | Some((_, "https")) => true,
                    Some((_, "http")) => false,
                    Some((p, other)) => {
                        self.err(
                            p.span(),
                            &entity,
                            format!("protocol must be \"https\" or \"http\", got \"{other}\""),
                        );
                        true
                    }
                },
                shield: self.origin_shield(o, &entity),
            });
        }
        out
    }

    /// `shield_region`, `shield_cache_bytes`, `shield_policy` of an origin.
    fn origin_shield(&mut self, o: &raw::RawOrigin, entity: &str) -> Option<OriginShield> {
        let Some(region) = &o.shield_region else {
            for (span, field) in [
                (
                    o.shield_cache_bytes.as_ref().map(|x| x.span()),
                    "shield_cache_bytes",
                ),
                (o.shield_policy.as_ref().map(|x| x.span()), "shield_policy"),
            ] {
                if let Some(span) = span {
                    self.err(
                        span,
                        entity,
                        format!(
                            "{field} needs shield_region (the AWS region of the Origin Shield)"
                        ),
                    );
                }
            }
            return None;
        };
        let Some(aws) = geo_tables::aws_region(region.get_ref()) else {
            self.err(
                region.span(),
                entity,
                format!(
                    "shield_region: unknown AWS region \"{}\" (Origin Shield sits in an AWS region, e.g. \"us-east-1\")",
                    region.get_ref()
                ),
            );
            return None;
        };
        let cache_bytes = match &o.shield_cache_bytes {
            Some(b) => self.bytes(b, entity, "shield_cache_bytes", false),
            None => 1 << 40,
        };
        let policy = self.policy(&o.shield_policy, entity);
        (cache_bytes > 0).then(|| OriginShield {
            region: aws.code.to_owned(),
            location: LatLon {
                lat: aws.lat,
                lon: aws.lon,
            },
            cache_bytes,
            policy,
        })
    }

    /// Origin groups: `failover_to` names another origin.
    fn failover(&mut self, raw: &[Spanned<raw::RawOrigin>], origins: &mut [Origin]) {
        for (i, o) in raw.iter().enumerate() {
            let o = o.get_ref();
            let Some(to) = &o.failover_to else {
                if let Some(on) = &o.failover_on {
                    self.err(
                        on.span(),
                        &format!("origin \"{}\"", o.id.get_ref()),
                        "failover_on needs failover_to",
                    );
                }
                continue;
            };
            let entity = format!("origin \"{}\"", o.id.get_ref());
            let Some(target) = origins.iter().position(|x| &x.id == to.get_ref()) else {
                self.err(
                    to.span(),
                    &entity,
                    format!("failover_to: no origin \"{}\"", to.get_ref()),
                );
                continue;
            };
            if target == i {
                self.err(to.span(), &entity, "an origin cannot fail over to itself");
                continue;
            }
            let on = match &o.failover_on {
                None => vec![500, 502, 503, 504],
                Some(list) => {
                    let allowed = [400, 403, 404, 416, 500, 502, 503, 504];
                    let mut out = Vec::new();
                    for s in list.get_ref() {
                        if allowed.contains(s) {
                            out.push(*s as u16);
                        } else {
                            self.err(list.span(), &entity, format!("failover_on: CloudFront fails over on 400, 403, 404, 416, 500, 502, 503 or 504, not {s}"));
                        }
                    }
                    out
                }
            };
            if let Some(origin) = origins.get_mut(i) {
                origin.failover = Some((target, on));
            }
        }
    }

    /// `[[events]]`.
    fn events(
        &mut self,
        raw: &[Spanned<crate::events::RawEvent>],
        simulation: &Simulation,
        pops: &[Pop],
        regions: &[Region],
        origins: &[Origin],
        viewers: &Viewers,
    ) -> Vec<crate::events::Event> {
        use crate::events::{Event, EventKind};
        let mut out = Vec::new();
        for (n, e) in raw.iter().enumerate() {
            let span = e.span();
            let e = e.get_ref();
            let entity = format!("events #{} ({})", n + 1, e.kind.get_ref());
            let at = *e.at_secs.get_ref();
            let start_us = if at.is_finite() && at >= 0.0 {
                (at * 1e6).round() as u64
            } else {
                self.err(
                    e.at_secs.span(),
                    &entity,
                    format!("at_secs must be >= 0, got {at}"),
                );
                0
            };
            let end_us = match &e.for_secs {
                None => simulation.duration_us.max(start_us + 1),
                Some(f) if !(f.get_ref().is_finite() && *f.get_ref() > 0.0) => {
                    self.err(
                        f.span(),
                        &entity,
                        format!("for_secs must be > 0, got {}", f.get_ref()),
                    );
                    start_us + 1
                }
                Some(f) => start_us + (f.get_ref() * 1e6).round() as u64,
            };
            let need = |v: &mut Self, field: &str, present: bool| {
                if !present {
                    v.err(
                        span.clone(),
                        &entity,
                        format!("{field} is required for this kind"),
                    );
                }
                present
            };
            let find_pop = |v: &mut Self, s: &Spanned<String>| {
                let i = pops.iter().position(|p| &p.id == s.get_ref());
                if i.is_none() {
                    v.err(s.span(), &entity, format!("no PoP \"{}\"", s.get_ref()));
                }
                i
            };
            let find_region = |v: &mut Self, s: &Spanned<String>| {
                let i = regions.iter().position(|r| &r.id == s.get_ref());
                if i.is_none() {
                    v.err(s.span(), &entity, format!("no region \"{}\"", s.get_ref()));
                }
                i
            };
            let find_origin = |v: &mut Self, s: &Spanned<String>| {
                let i = origins.iter().position(|o| &o.id == s.get_ref());
                if i.is_none() {
                    v.err(s.span(), &entity, format!("no origin \"{}\"", s.get_ref()));
                }
                i
            };
            let factor = |v: &mut Self, min: f64| -> Option<f64> {
                let f = e.factor.as_ref()?;
                if f.get_ref().is_finite() && *f.get_ref() >= min && *f.get_ref() > 0.0 {
                    Some(*f.get_ref())
                } else {
                    v.err(
                        f.span(),
                        &entity,
                        format!(
                            "factor must be a number >= {min} and > 0, got {}",
                            f.get_ref()
                        ),
                    );
                    None
                }
            };
            let kind = match e.kind.get_ref().as_str() {
                "pop_outage" => {
                    need(self, "pop", e.pop.is_some());
                    e.pop
                        .as_ref()
                        .and_then(|p| find_pop(self, p))
                        .map(|pop| EventKind::PopOutage { pop })
                }
                "regional_outage" => {
                    need(self, "region", e.region.is_some());
                    e.region
                        .as_ref()
                        .and_then(|r| find_region(self, r))
                        .map(|region| EventKind::RegionalOutage { region })
                }
                "origin_outage" => {
                    need(self, "origin", e.origin.is_some());
                    let status = match &e.status {
                        None => 502,
                        Some(s) if (500..=599).contains(s.get_ref()) => *s.get_ref() as u16,
                        Some(s) => {
                            self.err(
                                s.span(),
                                &entity,
                                format!("status must be a 5xx status, got {}", s.get_ref()),
                            );
                            502
                        }
                    };
                    e.origin
                        .as_ref()
                        .and_then(|o| find_origin(self, o))
                        .map(|origin| EventKind::OriginOutage { origin, status })
                }
                "origin_slowdown" => {
                    need(self, "origin", e.origin.is_some());
                    need(self, "factor", e.factor.is_some());
                    let f = factor(self, 0.0);
                    match (e.origin.as_ref().and_then(|o| find_origin(self, o)), f) {
                        (Some(origin), Some(factor)) => {
                            Some(EventKind::OriginSlowdown { origin, factor })
                        }
                        _ => None,
                    }
                }
                "network_degradation" => {
                    need(self, "region", e.region.is_some());
                    need(self, "extra_ms", e.extra_ms.is_some());
                    let region = e.region.as_ref().and_then(|r| find_region(self, r));
                    let origin = e.origin.as_ref().map(|o| find_origin(self, o));
                    let extra = e.extra_ms.as_ref().and_then(|x| {
                        if x.get_ref().is_finite() && *x.get_ref() >= 0.0 {
                            Some(*x.get_ref())
                        } else {
                            self.err(
                                x.span(),
                                &entity,
                                format!("extra_ms must be >= 0, got {}", x.get_ref()),
                            );
                            None
                        }
                    });
                    match (region, origin, extra) {
                        (Some(region), None, Some(extra_ms)) => {
                            Some(EventKind::NetworkDegradation {
                                region,
                                origin: None,
                                extra_ms,
                            })
                        }
                        (Some(region), Some(Some(o)), Some(extra_ms)) => {
                            Some(EventKind::NetworkDegradation {
                                region,
                                origin: Some(o),
                                extra_ms,
                            })
                        }
                        _ => None,
                    }
                }
                "flash_crowd" => {
                    need(self, "factor", e.factor.is_some());
                    let f = factor(self, 1.0);

                    let objects = match &e.objects {
                        None => Some(100),
                        Some(o) if *o.get_ref() >= 1 => Some(*o.get_ref() as u64),
                        Some(o) => {
                            self.err(
                                o.span(),
                                &entity,
                                format!("objects must be >= 1, got {}", o.get_ref()),
                            );
                            None
                        }
                    };
                    let mut countries = Vec::new();
                    for c in e.countries.iter().flatten() {
                        match viewers
                            .countries
                            .iter()
                            .position(|x| x.code.eq_ignore_ascii_case(c.get_ref()))
                        {
                            Some(i) => countries.push(i),
                            None => self.err(
                                c.span(),
                                &entity,
                                format!(
                                    "country \"{}\" is not among [viewers] countries",
                                    c.get_ref()
                                ),
                            ),
                        }
                    }
                    countries.sort_unstable();
                    countries.dedup();
                    match (f, objects) {
                        (Some(factor), Some(objects)) => Some(EventKind::FlashCrowd {
                            factor,
                            objects,
                            countries,
                        }),
                        _ => None,
                    }
                }
                other => {
                    self.err(e.kind.span(), &format!("events #{}", n + 1), format!("unknown kind \"{other}\"; kinds: pop_outage, regional_outage, origin_outage, origin_slowdown, network_degradation, flash_crowd"));
                    None
                }
            };
            if let Some(kind) = kind {
                out.push(Event {
                    kind,
                    start_us,
                    end_us,
                });
            }
        }
        out
    }

    /// `[replay]`.
    fn replay(&mut self, raw: &Spanned<raw::RawReplay>) -> Replay {
        let r = raw.get_ref();
        if r.logs.get_ref().is_empty() {
            self.err(r.logs.span(), "replay", "logs must name at least one file");
        }
        let mut speedup = 1.0;
        if let Some(s) = &r.speedup {
            let v = *s.get_ref();
            if v.is_finite() && v > 0.0 {
                speedup = v;
            } else {
                self.err(s.span(), "replay", format!("speedup must be > 0, got {v}"));
            }
        }
        Replay {
            logs: r
                .logs
                .get_ref()
                .iter()
                .map(|l| l.get_ref().clone())
                .collect(),
            speedup,
        }
    }

    /// `[traffic]`.
    fn traffic(&mut self, raw: &Spanned<crate::events::RawTraffic>) -> crate::events::Traffic {
        let t = raw.get_ref();
        let mut out = crate::events::Traffic::default();
        let num = |v: &mut Self,
                   f: &Option<Spanned<f64>>,
                   name: &str,
                   ok: &dyn Fn(f64) -> bool,
                   rule: &str,
                   slot: &mut f64| {
            if let Some(x) = f {
                if x.get_ref().is_finite() && ok(*x.get_ref()) {
                    *slot = *x.get_ref();
                } else {
                    v.err(
                        x.span(),
                        "traffic",
                        format!("{name} must be {rule}, got {}", x.get_ref()),
                    );
                }
            }
        };
        num(
            self,
            &t.diurnal_amplitude,
            "diurnal_amplitude",
            &|x| (0.0..1.0).contains(&x),
            "in [0, 1)",
            &mut out.diurnal_amplitude,
        );
        num(
            self,
            &t.peak_local_hour,
            "peak_local_hour",
            &|x| (0.0..24.0).contains(&x),
            "in [0, 24)",
            &mut out.peak_local_hour,
        );
        num(
            self,
            &t.growth_per_hour,
            "growth_per_hour",
            &|x| x > -1.0,
            "> -1",
            &mut out.growth_per_hour,
        );
        num(
            self,
            &t.start_utc_hour,
            "start_utc_hour",
            &|x| (0.0..24.0).contains(&x),
            "in [0, 24)",
            &mut out.start_utc_hour,
        );
        out.start_unix_secs =
            crate::events::DEFAULT_START_DATE_UNIX + (out.start_utc_hour * 3600.0).round() as i64;
        if let Some(start) = &t.start {
            match start.get_ref().parse::<jiff::Timestamp>() {
                Err(e) => self.err(
                    start.span(),
                    "traffic",
                    format!(
                        "start must be an RFC 3339 date-time with an offset, e.g. \
                         \"2026-07-01T18:00:00Z\", got {:?}: {e}",
                        start.get_ref()
                    ),
                ),
                Ok(_) if t.start_utc_hour.is_some() => self.err(
                    start.span(),
                    "traffic",
                    "give either start or start_utc_hour, not both (start supersedes it)",
                ),
                Ok(at) => {
                    let secs = at.as_second();
                    out.start_unix_secs = secs;
                    out.start_utc_hour = secs.rem_euclid(86_400) as f64 / 3600.0;
                }
            }
        }
        if let Some(p) = &t.hourly_profile {
            let values = p.get_ref();
            let sum: f64 = values.iter().sum();
            if values.len() != 24 {
                self.err(
                    p.span(),
                    "traffic",
                    format!(
                        "hourly_profile must have 24 values (UTC hours 0..23), got {}",
                        values.len()
                    ),
                );
            } else if values.iter().any(|v| !(v.is_finite() && *v >= 0.0)) || sum <= 0.0 {
                self.err(
                    p.span(),
                    "traffic",
                    "hourly_profile values must be >= 0 and not all 0",
                );
            } else if out.diurnal_amplitude > 0.0 {
                self.err(
                    p.span(),
                    "traffic",
                    "give either hourly_profile or diurnal_amplitude, not both",
                );
            } else {
                let mut profile = [0.0; 24];
                for (slot, v) in profile.iter_mut().zip(values) {
                    *slot = v * 24.0 / sum;
                }
                out.hourly_profile = Some(profile);
            }
        }
        out
    }

    fn regional_caches(&mut self, raw: &[Spanned<raw::RawRegion>], regions: &mut [Region]) {
        let mut seen = BTreeMap::new();
        for r in raw {
            let span = r.span();
            let r = r.get_ref();
            let entity = format!("region \"{}\"", r.id.get_ref());
            if seen.insert(r.id.get_ref().clone(), ()).is_some() {
                self.err(r.id.span(), &entity, "region is configured twice");
                continue;
            }
            let Some(region) = regions.iter_mut().find(|x| &x.id == r.id.get_ref()) else {
                // A regional cache of a real AWS region that no PoP uses
                // (e.g. with `--set pops.count=N`) is simply idle; an id
                // that is no AWS region at all is a mistake.
                if crate::geo_tables::aws_region(r.id.get_ref()).is_none() {
                    self.err(r.id.span(), &entity, "no PoP belongs to this region");
                }
                continue;
            };
            let cache_bytes = self.bytes(&r.cache_bytes, &entity, "cache_bytes", true);
            let policy = self.policy(&r.policy, &entity);
            match (&r.lat, &r.lon) {
                (None, None) => {
                    if geo_tables::aws_region(&region.id).is_none() {
                        self.err(
                            span.clone(),
                            &entity,
                            "lat/lon are required for a region whose id is not an AWS region code",
                        );
                    }
                }
                _ => {
                    region.location =
                        self.location(&entity, &span, None, false, &r.lat, &r.lon, "lat/lon")
                }
            }
            region.cache = (cache_bytes > 0).then_some(RegionalCache {
                cache_bytes,
                policy,
            });
        }
    }

    fn policy(&mut self, raw: &Option<Spanned<String>>, entity: &str) -> PolicyKind {
        match raw {
            None => PolicyKind::Lru,
            Some(s) => s.get_ref().parse::<PolicyKind>().unwrap_or_else(|e| {
                self.err(s.span(), entity, e.to_string());
                PolicyKind::Lru
            }),
        }
    }

    fn cache_policy(&mut self, raw: &Spanned<raw::RawCachePolicy>) -> TtlPolicy {
        let entity = "cache_policy";
        let p = raw.get_ref();
        let d = TtlPolicy::default();
        let mut secs = |v: &Option<Spanned<i64>>, name: &str, default: u64| match v {
            None => default,
            Some(x) if *x.get_ref() < 0 => {
                self.err(
                    x.span(),
                    entity,
                    format!("{name} must be >= 0, got {}", x.get_ref()),
                );
                default
            }
            Some(x) => *x.get_ref() as u64,
        };
        let min = secs(&p.min_ttl_secs, "min_ttl_secs", d.min_ttl_secs);
        let default = secs(&p.default_ttl_secs, "default_ttl_secs", d.default_ttl_secs);
        let max = secs(&p.max_ttl_secs, "max_ttl_secs", d.max_ttl_secs);
        let error_min = secs(
            &p.error_caching_min_ttl_secs,
            "error_caching_min_ttl_secs",
            d.error_caching_min_ttl_secs,
        );
        match TtlPolicy::try_new(min, default, max) {
            Ok(policy) => TtlPolicy {
                error_caching_min_ttl_secs: error_min,
                ..policy
            },
            Err(e) => {
                self.err(raw.span(), entity, e.to_string());
                d
            }
        }
    }

    fn catalog(
        &mut self,
        raw: &Spanned<raw::RawCatalog>,
        origins: &[Origin],
        policy: &TtlPolicy,
    ) -> Catalog {
        let c = raw.get_ref();
        let mut classes = Vec::new();
        if c.classes.is_empty() {
            let entity = "catalog";
            let span = raw.span();
            let required = |v: bool, name: &str, this: &mut Self| {
                if !v {
                    this.err(
                        span.clone(),
                        entity,
                        format!("{name} is required (or describe [[catalog.classes]])"),
                    );
                }
            };
            required(c.objects.is_some(), "objects", self);
            required(c.zipf_alpha.is_some(), "zipf_alpha", self);
            required(c.size.is_some(), "size", self);
            if let (Some(objects), Some(alpha), Some(size)) = (&c.objects, &c.zipf_alpha, &c.size) {
                let class = ClassFields {
                    entity: entity.to_owned(),
                    name: "default".to_owned(),
                    share: 1.0,
                    objects,
                    zipf_alpha: alpha,
                    size,
                    ttl_secs: &c.ttl_secs,
                    cache_control: &c.cache_control,
                    path_prefix: None,
                    origin: &c.origin,
                };
                classes.push(self.class(class, origins, policy));
            }
        } else {
            for (given, name) in [
                (c.objects.as_ref().map(|x| x.span()), "objects"),
                (c.zipf_alpha.as_ref().map(|x| x.span()), "zipf_alpha"),
                (c.size.as_ref().map(|x| x.span()), "size"),
                (c.ttl_secs.as_ref().map(|x| x.span()), "ttl_secs"),
                (c.cache_control.as_ref().map(|x| x.span()), "cache_control"),
                (c.origin.as_ref().map(|x| x.span()), "origin"),
            ] {
                if let Some(span) = given {
                    self.err(span, "catalog", format!("{name} belongs in each [[catalog.classes]] entry when classes are given"));
                }
            }
            let mut seen = BTreeMap::new();
            for k in &c.classes {
                let k = k.get_ref();
                let entity = format!("class \"{}\"", k.name.get_ref());
                self.check_id(&k.name, &entity, &mut seen);
                let share = *k.share.get_ref();
                if !(share.is_finite() && share > 0.0) {
                    self.err(
                        k.share.span(),
                        &entity,
                        format!("share must be > 0, got {share}"),
                    );
                }
                let class = ClassFields {
                    entity,
                    name: k.name.get_ref().clone(),
                    share,
                    objects: &k.objects,
                    zipf_alpha: &k.zipf_alpha,
                    size: &k.size,
                    ttl_secs: &k.ttl_secs,
                    cache_control: &k.cache_control,
                    path_prefix: k.path_prefix.as_ref(),
                    origin: &k.origin,
                };
                classes.push(self.class(class, origins, policy));
            }
            let mut prefixes = BTreeMap::new();
            for (k, raw) in classes.iter().zip(&c.classes) {
                if let Some(other) = prefixes.insert(k.path_prefix.clone(), k.name.clone()) {
                    let span = raw
                        .get_ref()
                        .path_prefix
                        .as_ref()
                        .map_or(raw.span(), |p| p.span());
                    self.err(
                        span,
                        &format!("class \"{}\"", k.name),
                        format!(
                            "path_prefix \"{}\" is also used by class \"{other}\"",
                            k.path_prefix
                        ),
                    );
                }
            }
        }
        let total: f64 = classes.iter().map(|k| k.share).sum();
        if total > 0.0 {
            for k in &mut classes {
                k.share /= total;
            }
        }
        Catalog { classes }
    }

    fn class(&mut self, f: ClassFields<'_>, origins: &[Origin], policy: &TtlPolicy) -> ObjectClass {
        let entity = f.entity.as_str();
        let objects = *f.objects.get_ref();
        if objects <= 0 || objects > MAX_OBJECTS as i64 {
            self.err(
                f.objects.span(),
                entity,
                format!("objects must be between 1 and {MAX_OBJECTS}, got {objects}"),
            );
        }
        let alpha = *f.zipf_alpha.get_ref();
        if !(alpha.is_finite() && alpha >= 0.0) {
            self.err(
                f.zipf_alpha.span(),
                entity,
                format!("zipf_alpha must be >= 0, got {alpha}"),
            );
        }
        let size_bytes = self.dist_bytes(f.size, entity, "size");
        let cache_control = match (f.ttl_secs, f.cache_control) {
            (Some(t), Some(_)) => {
                self.err(
                    t.span(),
                    entity,
                    "give either ttl_secs or cache_control, not both",
                );
                None
            }
            (Some(t), None) if *t.get_ref() < 0 => {
                self.err(
                    t.span(),
                    entity,
                    format!("ttl_secs must be >= 0, got {}", t.get_ref()),
                );
                None
            }
            (Some(t), None) => Some(format!("max-age={}", t.get_ref())),
            (None, Some(cc)) => Some(cc.get_ref().clone()),
            (None, None) => None,
        };
        let ttl_secs = freshness::ttl_secs(policy, 200, cache_control.as_deref(), None, 0);
        let path_prefix = match f.path_prefix {
            None if f.name == "default" => "/".to_owned(),
            None => format!("/{}/", f.name),
            Some(p) if !p.get_ref().starts_with('/') => {
                self.err(
                    p.span(),
                    entity,
                    format!("path_prefix must start with '/', got \"{}\"", p.get_ref()),
                );
                p.get_ref().clone()
            }
            Some(p) => p.get_ref().clone(),
        };
        let origin = match f.origin {
            None => 0,
            Some(name) => origins
                .iter()
                .position(|o| &o.id == name.get_ref())
                .unwrap_or_else(|| {
                    self.err(
                        name.span(),
                        entity,
                        format!(
                            "origin \"{}\" is not defined in [[origins]]",
                            name.get_ref()
                        ),
                    );
                    0
                }),
        };
        ObjectClass {
            name: f.name,
            share: f.share,
            objects: objects.clamp(1, MAX_OBJECTS as i64) as u64,
            zipf_alpha: alpha,
            size_bytes,
            cache_control,
            ttl_secs,
            path_prefix,
            origin,
        }
    }

    fn viewers(&mut self, raw: &Spanned<raw::RawViewers>) -> Viewers {
        let entity = "viewers";
        let v = raw.get_ref();
        let rps = *v.requests_per_sec.get_ref();
        if !(rps.is_finite() && rps > 0.0) {
            self.err(
                v.requests_per_sec.span(),
                entity,
                format!("requests_per_sec must be > 0, got {rps}"),
            );
        }
        let mix = v
            .devices
            .as_ref()
            .map(|d| self.devices(d, entity, "devices", true));
        let mut countries = Vec::new();
        if v.countries.get_ref().is_empty() {
            self.err(
                v.countries.span(),
                entity,
                "countries must list at least one country",
            );
        }
        for (code, weight) in v.countries.get_ref() {
            let centity = format!("country \"{}\"", code.get_ref());
            let Some(info) = geo_tables::country(code.get_ref()) else {
                self.err(
                    code.span(),
                    &centity,
                    "unknown country code (use ISO 3166-1 alpha-2, e.g. \"DE\")",
                );
                continue;
            };
            let w = *weight.get_ref();
            if !(w.is_finite() && w > 0.0) {
                self.err(
                    weight.span(),
                    &centity,
                    format!("weight must be > 0, got {w}"),
                );
                continue;
            }
            countries.push(CountryDemand {
                code: info.code.to_owned(),
                location: LatLon {
                    lat: info.lat,
                    lon: info.lon,
                },
                weight: w,
                devices: mix.unwrap_or(info.devices),
                cities: city_shares(info.code),
            });
        }
        countries.sort_by(|a, b| a.code.cmp(&b.code));
        for pair in countries.windows(2) {
            if pair[0].code == pair[1].code {
                self.err(
                    v.countries.span(),
                    entity,
                    format!("country \"{}\" is listed twice", pair[0].code),
                );
            }
        }
        let total: f64 = countries.iter().map(|c| c.weight).sum();
        for c in &mut countries {
            c.weight /= total;
        }
        let population = match &v.population {
            None => 100_000,
            Some(p) if *p.get_ref() <= 0 => {
                self.err(
                    p.span(),
                    entity,
                    format!("population must be > 0, got {}", p.get_ref()),
                );
                1
            }
            Some(p) => *p.get_ref() as u64,
        };
        Viewers {
            requests_per_sec: rps,
            countries,
            population,
        }
    }

    /// Validates `[network]` against physics: light is no faster than in
    /// vacuum (an error) and normally no faster than in silica fibre (a
    /// warning; see [`crate::geo::LIGHT_IN_FIBRE_KM_PER_MS`]), paths are
    /// no shorter than the great circle, and delays are between 0 and
    /// [`MAX_NETWORK_DELAY_MS`].
    fn network(&mut self, raw: &Spanned<raw::RawNetwork>) -> Network {
        use crate::geo::{FIBRE_GROUP_INDEX, LIGHT_IN_FIBRE_KM_PER_MS, LIGHT_IN_VACUUM_KM_PER_MS};
        let entity = "network";
        let n = raw.get_ref();
        let d = Network::default();
        let mut num = |v: &Option<Spanned<f64>>,
                       name: &str,
                       default: f64,
                       min: f64,
                       strict: bool,
                       max: Option<(f64, &str)>| match v {
            None => default,
            Some(s) => {
                let x = *s.get_ref();
                let ok = x.is_finite() && if strict { x > min } else { x >= min };
                if !ok {
                    let op = if strict { ">" } else { ">=" };
                    self.err(
                        s.span(),
                        entity,
                        format!("{name} must be {op} {min}, got {x}"),
                    );
                    default
                } else if let Some((max, why)) = max.filter(|(max, _)| x > *max) {
                    self.err(
                        s.span(),
                        entity,
                        format!("{name} must be <= {max} ({why}), got {x}"),
                    );
                    default
                } else {
                    x
                }
            }
        };
        let fibre_km_per_ms = num(
            &n.fibre_km_per_ms,
            "fibre_km_per_ms",
            d.fibre_km_per_ms,
            0.0,
            true,
            Some((LIGHT_IN_VACUUM_KM_PER_MS, "the speed of light in vacuum")),
        );
        let path_inflation = num(
            &n.path_inflation,
            "path_inflation",
            d.path_inflation,
            1.0,
            false,
            None,
        );
        let delay = Some((MAX_NETWORK_DELAY_MS, "10 s: a delay, not an outage"));
        let jitter_ms = num(&n.jitter_ms, "jitter_ms", d.jitter_ms, 0.0, false, delay);
        let edge_processing_ms = num(
            &n.edge_processing_ms,
            "edge_processing_ms",
            d.edge_processing_ms,
            0.0,
            false,
            delay,
        );
        if let Some(s) = &n.fibre_km_per_ms
            && fibre_km_per_ms > LIGHT_IN_FIBRE_KM_PER_MS
        {
            self.warn(
                s.span(),
                entity,
                format!(
                    "fibre_km_per_ms = {fibre_km_per_ms} is faster than light in silica fibre \
                     ({LIGHT_IN_FIBRE_KM_PER_MS:.1} km/ms: {LIGHT_IN_VACUUM_KM_PER_MS} km/ms in \
                     vacuum over a refractive index of {FIBRE_GROUP_INDEX}); latencies will \
                     be below what fibre can carry"
                ),
            );
        }
        let last_mile_ms = match &n.last_mile_ms {
            None => d.last_mile_ms,
            Some(lm) => {
                let mut out = d.last_mile_ms;
                let given = self.devices(lm, entity, "last_mile_ms", false);
                let raw = lm.get_ref();
                for (i, (v, device)) in [
                    (&raw.desktop, "desktop"),
                    (&raw.mobile, "mobile"),
                    (&raw.tablet, "tablet"),
                    (&raw.smarttv, "smarttv"),
                ]
                .iter()
                .enumerate()
                {
                    if let Some(s) = v {
                        if given[i] > MAX_NETWORK_DELAY_MS {
                            self.err(
                                s.span(),
                                entity,
                                format!(
                                    "last_mile_ms.{device} must be <= {MAX_NETWORK_DELAY_MS} \
                                     (10 s: a delay, not an outage), got {}",
                                    given[i]
                                ),
                            );
                        } else {
                            out[i] = given[i];
                        }
                    }
                }
                out
            }
        };
        let connections = match &n.connections {
            None => d.connections,
            Some(c) => self.connections(c),
        };
        Network {
            fibre_km_per_ms,
            path_inflation,
            jitter_ms,
            edge_processing_ms,
            last_mile_ms,
            connections,
        }
    }

    /// `[network.connections]`: shares in [0, 1], timeouts positive and at
    /// most a day, a protocol mix with a positive sum.
    fn connections(&mut self, raw: &Spanned<raw::RawConnections>) -> Connections {
        let entity = "network.connections";
        let c = raw.get_ref();
        let d = Connections::default();
        let mut out = d;
        if let Some(e) = &c.enabled {
            out.enabled = *e.get_ref();
        }
        if let Some(s) = &c.page_reuse_share {
            let x = *s.get_ref();
            if (0.0..1.0).contains(&x) {
                out.page_reuse_share = x;
            } else {
                self.err(
                    s.span(),
                    entity,
                    format!("page_reuse_share must be in [0, 1), got {x}"),
                );
            }
        }
        const DAY_S: f64 = 86_400.0;
        for (v, name, slot) in [
            (
                &c.viewer_idle_timeout_s,
                "viewer_idle_timeout_s",
                &mut out.viewer_idle_timeout_us,
            ),
            (
                &c.session_ticket_s,
                "session_ticket_s",
                &mut out.session_ticket_us,
            ),
        ] {
            if let Some(s) = v {
                let x = *s.get_ref();
                if x.is_finite() && x > 0.0 && x <= DAY_S {
                    *slot = (x * 1e6).round() as u64;
                } else {
                    self.err(
                        s.span(),
                        entity,
                        format!("{name} must be > 0 and <= {DAY_S} (a day), got {x}"),
                    );
                }
            }
        }
        if let Some(p) = &c.protocols {
            let r = p.get_ref();
            let mut shares = [0.0; 3];
            let mut ok = true;
            for (i, (v, name)) in [(&r.h3, "h3"), (&r.tls13, "tls13"), (&r.tls12, "tls12")]
                .into_iter()
                .enumerate()
            {
                if let Some(s) = v {
                    let x = *s.get_ref();
                    if x.is_finite() && x >= 0.0 {
                        shares[i] = x;
                    } else {
                        ok = false;
                        self.err(
                            s.span(),
                            entity,
                            format!("protocols.{name} must be a share >= 0, got {x}"),
                        );
                    }
                }
            }
            let sum: f64 = shares.iter().sum();
            if ok && sum > 0.0 {
                out.protocols = shares.map(|x| x / sum);
            } else if ok {
                self.err(
                    p.span(),
                    entity,
                    "protocols must give at least one protocol a share > 0".to_owned(),
                );
            }
        }
        out
    }

    /// Reads a per-device table; with `normalise`, it is a mix that must
    /// have a positive sum and is scaled to sum to 1.
    fn devices(
        &mut self,
        raw: &Spanned<RawDevices>,
        entity: &str,
        field: &str,
        normalise: bool,
    ) -> [f64; 4] {
        let d = raw.get_ref();
        let mut out = [0.0; 4];
        for (i, (v, name)) in [
            (&d.desktop, "desktop"),
            (&d.mobile, "mobile"),
            (&d.tablet, "tablet"),
            (&d.smarttv, "smarttv"),
        ]
        .into_iter()
        .enumerate()
        {
            if let Some(s) = v {
                let x = *s.get_ref();
                if !(x.is_finite() && x >= 0.0) {
                    self.err(
                        s.span(),
                        entity,
                        format!("{field}.{name} must be >= 0, got {x}"),
                    );
                } else {
                    out[i] = x;
                }
            }
        }
        if normalise {
            let sum: f64 = out.iter().sum();
            if sum <= 0.0 {
                self.err(
                    raw.span(),
                    entity,
                    format!("{field} must give at least one device a weight > 0"),
                );
                return [1.0, 0.0, 0.0, 0.0];
            }
            for x in &mut out {
                *x /= sum;
            }
        }
        out
    }

    fn check_id(&mut self, id: &Spanned<String>, entity: &str, seen: &mut BTreeMap<String, ()>) {
        let s = id.get_ref();
        if s.is_empty() {
            self.err(id.span(), entity, "id must not be empty");
        } else if !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        {
            self.err(
                id.span(),
                entity,
                "id may only contain letters, digits, '-', '_' and '.'",
            );
        } else if seen.insert(s.clone(), ()).is_some() {
            self.err(id.span(), entity, "id is used twice");
        }
    }

    /// A location from a named place or from lat/lon, exactly one of them.
    #[allow(clippy::too_many_arguments)]
    fn location(
        &mut self,
        entity: &str,
        span: &Range<usize>,
        named: Option<LatLon>,
        named_given: bool,
        lat: &Option<Spanned<f64>>,
        lon: &Option<Spanned<f64>>,
        named_field: &str,
    ) -> LatLon {
        match (named_given, lat, lon) {
            (true, None, None) => named.unwrap_or(LatLon { lat: 0.0, lon: 0.0 }),
            (true, _, _) => {
                self.err(
                    span_of(lat, span).start.min(span_of(lon, span).start)..span.end,
                    entity,
                    format!("give either {named_field} or lat/lon, not both"),
                );
                LatLon { lat: 0.0, lon: 0.0 }
            }
            (false, Some(a), Some(b)) => {
                let (la, lo) = (*a.get_ref(), *b.get_ref());
                if !(-90.0..=90.0).contains(&la) {
                    self.err(
                        a.span(),
                        entity,
                        format!("lat must be within [-90, 90], got {la}"),
                    );
                }
                if !(-180.0..=180.0).contains(&lo) {
                    self.err(
                        b.span(),
                        entity,
                        format!("lon must be within [-180, 180], got {lo}"),
                    );
                }
                LatLon { lat: la, lon: lo }
            }
            (false, Some(_), None) | (false, None, Some(_)) => {
                self.err(
                    span_of(lat, span).start.min(span_of(lon, span).start)..span.end,
                    entity,
                    "lat and lon must be given together",
                );
                LatLon { lat: 0.0, lon: 0.0 }
            }
            (false, None, None) => {
                self.err(
                    span.clone(),
                    entity,
                    format!("{named_field} (or lat/lon) is required"),
                );
                LatLon { lat: 0.0, lon: 0.0 }
            }
        }
    }

    /// A byte count; `allow_zero` for sizes where zero makes sense.
    fn bytes(
        &mut self,
        raw: &Spanned<RawBytes>,
        entity: &str,
        field: &str,
        allow_zero: bool,
    ) -> u64 {
        match parse_bytes_value(raw.get_ref()) {
            Err(msg) => {
                self.err(raw.span(), entity, format!("{field}: {msg}"));
                0
            }
            Ok(0) if !allow_zero => {
                self.err(raw.span(), entity, format!("{field} must be > 0"));
                0
            }
            Ok(v) => v,
        }
    }

    fn dist_ms(&mut self, raw: &Spanned<RawDist<f64>>, entity: &str, field: &str) -> Dist {
        let d = raw_dist(raw.get_ref(), |v| Ok(*v));
        self.checked_dist(raw.span(), d, entity, field)
    }

    fn dist_bytes(&mut self, raw: &Spanned<RawDist<RawBytes>>, entity: &str, field: &str) -> Dist {
        let d = raw_dist(raw.get_ref(), |v| parse_bytes_value(v).map(|b| b as f64));
        let d = self.checked_dist(raw.span(), d, entity, field);
        if d.median() < 1.0 {
            self.err(
                raw.span(),
                entity,
                format!("{field} must describe objects of at least 1 byte"),
            );
        }
        d
    }

    fn checked_dist(
        &mut self,
        span: Range<usize>,
        d: Result<Dist, String>,
        entity: &str,
        field: &str,
    ) -> Dist {
        match d.and_then(|d| d.check().map(|()| d)) {
            Ok(d) => d,
            Err(msg) => {
                self.err(span, entity, format!("{field}: {msg}"));
                Dist::Fixed(1.0)
            }
        }
    }
}

/// Converts a raw distribution whose values need conversion.
fn raw_dist<V>(
    raw: &RawDist<V>,
    value: impl Fn(&V) -> Result<f64, String>,
) -> Result<Dist, String> {
    Ok(match raw {
        RawDist::Value(v) => Dist::Fixed(value(v)?),
        RawDist::Table(RawDistTable::Fixed { value: v }) => Dist::Fixed(value(v)?),
        RawDist::Table(RawDistTable::Lognormal { p50, p99 }) => Dist::LogNormal {
            p50: value(p50)?,
            p99: value(p99)?,
        },
        RawDist::Table(RawDistTable::Pareto { min, alpha, max }) => Dist::Pareto {
            min: value(min)?,
            alpha: *alpha,
            max: max.as_ref().map(&value).transpose()?,
        },
        RawDist::Table(RawDistTable::Exponential { mean }) => {
            Dist::Exponential { mean: value(mean)? }
        }
        RawDist::Table(RawDistTable::Uniform { min, max }) => Dist::Uniform {
            min: value(min)?,
            max: value(max)?,
        },
    })
}

/// A byte count from its raw form, with a message on failure.
fn parse_bytes_value(raw: &RawBytes) -> Result<u64, String> {
    match raw {
        RawBytes::Int(v) if *v < 0 => Err(format!("must not be negative, got {v}")),
        RawBytes::Int(v) => Ok(*v as u64),
        RawBytes::Text(s) => edgesim_cache::size::parse_bytes(s).map_err(|e| e.to_string()),
    }
}
