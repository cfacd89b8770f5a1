//! How much work and memory a scenario asks for, estimated before anything
//! runs, and the fixed limits a scenario must stay within unless the user
//! lifts them (`--no-limits`).
//!
//! Two stages, cheap first:
//!
//! 1. [`precheck`] counts the entries of every list in the parsed TOML
//!    document (PoPs, regions, origins, ...) before serde builds the raw
//!    structs or validation builds per-PoP state, so a file with 400,000
//!    PoPs is refused in little memory and time;
//! 2. [`check`] estimates a validated [`Scenario`] ([`estimate`]): total
//!    viewer requests (the rate integrated over the run as the coordinator
//!    applies it: per epoch, at the epoch's start, with growth, the daily
//!    curve, the hourly profile and flash crowds), epochs, and peak memory
//!    (cache metadata per cached object, per-PoP and per-region state,
//!    per-epoch latency buffers), and refuses what exceeds a limit.
//!
//! The limits are constants, the same on every machine, so a scenario is
//! accepted or refused the same everywhere. Every refusal names the
//! figure, the limit and the key of the scenario at fault with its
//! `file:line:col`.

use std::fmt;
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::events::EventKind;
use crate::scenario::Scenario;
use crate::source::{Diagnostic, Diagnostics, SourceMap};

/// Most `[[pops]]` entries (CloudFront has about 600 edge locations).
pub const MAX_POPS: usize = 5_000;
/// Most `[[regions]]` entries.
pub const MAX_REGIONS: usize = 1_000;
/// Most `[[origins]]` entries.
pub const MAX_ORIGINS: usize = 1_000;
/// Most `[[behaviors]]` entries.
pub const MAX_BEHAVIORS: usize = 1_000;
/// Most `[[events]]` entries.
pub const MAX_EVENTS: usize = 10_000;
/// Most `[[variants]]` entries (each is validated as a whole scenario).
pub const MAX_VARIANTS: usize = 256;
/// Most `[[catalog.classes]]` entries.
pub const MAX_CLASSES: usize = 1_000;
/// Most entries of `viewers.countries`.
pub const MAX_COUNTRIES: usize = 1_000;
/// Most epochs in a run (a day at 1 s epochs is 86,400): the coordinator
/// keeps a row per epoch and a track per PoP and country.
pub const MAX_EPOCHS: u64 = 100_000;
/// Most expected viewer requests in a run: 10 billion (about three hours
/// of simulation at a million requests per second).
pub const MAX_REQUESTS: f64 = 1e10;
/// Most estimated memory of the agent that holds the largest region (a
/// region is never split between agents): 16 GiB.
pub const MAX_AGENT_BYTES: u64 = 16 << 30;
/// Most estimated memory of all regions together (the agents of a run
/// between them): 64 GiB.
pub const MAX_TOTAL_BYTES: u64 = 64 << 30;
/// Most estimated memory of the coordinator: 16 GiB.
pub const MAX_COORDINATOR_BYTES: u64 = 16 << 30;

/// Cache metadata per cached object, bytes (measured 46–64 B for the
/// policies, ghost entries included; see README Performance).
pub const OBJECT_BYTES: u64 = 64;
/// Fixed state of an agent process, bytes.
pub const AGENT_BASE_BYTES: u64 = 32 << 20;
/// State of one region besides its caches, bytes.
pub const REGION_BYTES: u64 = 4 << 20;
/// State of one PoP besides its cache (routes, origin paths, counters,
/// its latency groups), bytes.
pub const POP_BYTES: u64 = 256 << 10;
/// Per request of an epoch, bytes: the raw latency values of its device
/// and origin groups, kept until the epoch's end, and in-flight fetches.
pub const EPOCH_REQUEST_BYTES: u64 = 32;
/// A JavaScript function's runtime, per region that runs it, bytes.
pub const JS_FUNCTION_BYTES: u64 = 16 << 20;
/// Fixed state of the coordinator, bytes.
pub const COORDINATOR_BASE_BYTES: u64 = 64 << 20;
/// One latency histogram the coordinator keeps per PoP, country and
/// device over the run, bytes.
pub const HISTOGRAM_BYTES: u64 = 140 << 10;
/// Per epoch and tracked entity (PoP, country, device, origin) in the
/// coordinator, bytes.
pub const EPOCH_ENTITY_BYTES: u64 = 72;
/// Per epoch in the coordinator besides its entities, bytes.
pub const EPOCH_ROW_BYTES: u64 = 256;

/// What a scenario asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// Expected viewer requests over the run.
    pub requests: f64,
    /// Expected requests of the busiest epoch.
    pub peak_epoch_requests: f64,
    /// Epochs.
    pub epochs: u64,
    /// PoPs.
    pub pops: usize,
    /// Regions.
    pub regions: usize,
    /// Distinct objects viewers can ask for (catalog and flash crowds).
    pub objects: u64,
    /// Estimated peak memory of an agent holding only the largest region.
    pub agent_bytes: u64,
    /// Estimated peak memory of all regions together.
    pub total_bytes: u64,
    /// Estimated peak memory of the coordinator.
    pub coordinator_bytes: u64,
    /// Whether `requests` is an upper bound rather than the sum over epochs
    /// (a run with too many epochs to sum, or a replay of logs).
    pub requests_bound: bool,
    /// Index of the largest region (by estimated memory).
    largest_region: usize,
    /// Whether the largest region's memory is mostly cache metadata (else
    /// per-epoch buffers).
    caches_dominate: bool,
}

impl fmt::Display for Estimate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "estimate: {}{} requests (busiest epoch {}), {} epochs, {} PoPs in {} regions, {} objects; memory: agent with the largest region {}, all regions {}, coordinator {}",
            if self.requests_bound { "at most " } else { "" },
            count(self.requests),
            count(self.peak_epoch_requests),
            self.epochs,
            self.pops,
            self.regions,
            count(self.objects as f64),
            bytes(self.agent_bytes),
            bytes(self.total_bytes),
            bytes(self.coordinator_bytes)
        )
    }
}

/// A count for people: `950`, `12.3 k`, `1.2 M`, `3.4 G`, `5.6e15`.
fn count(n: f64) -> String {
    if !n.is_finite() {
        return "more than 1e308".to_owned();
    }
    match n {
        n if n < 1e3 => format!("{n:.0}"),
        n if n < 1e6 => format!("{:.1} k", n / 1e3),
        n if n < 1e9 => format!("{:.1} M", n / 1e6),
        n if n < 1e12 => format!("{:.1} G", n / 1e9),
        n => format!("{n:.1e}"),
    }
}

/// Bytes for people, in binary units.
fn bytes(n: u64) -> String {
    if n == u64::MAX {
        return "16 EiB or more".to_owned();
    }
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", units[unit])
    }
}

const LIFT: &str = "--no-limits lifts the limits";

/// The cheap checks, on the TOML document before anything is built from
/// it: the number of entries of every list. A document that does not
/// parse passes (validation reports its syntax errors).
pub fn precheck(source_name: &str, text: &str) -> Result<(), Diagnostics> {
    let map = SourceMap::new(source_name, text);
    let (root, _) = DeTable::parse_recoverable(text);
    let root = root.get_ref();
    let mut diags = Vec::new();
    let mut count_of = |path: &[&str], entity: &str, max: usize| {
        if let Some((span, n)) = entries(root, path)
            && n > max
        {
            diags.push(map.diagnostic(
                span,
                entity,
                format!(
                    "{} has {n} entries, more than the limit of {max} ({LIFT})",
                    path.join(".")
                ),
            ));
        }
    };
    count_of(&["pops"], "pops", MAX_POPS);
    count_of(&["regions"], "regions", MAX_REGIONS);
    count_of(&["origins"], "origins", MAX_ORIGINS);
    count_of(&["behaviors"], "behaviors", MAX_BEHAVIORS);
    count_of(&["events"], "events", MAX_EVENTS);
    count_of(&["variants"], "variants", MAX_VARIANTS);
    count_of(&["catalog", "classes"], "catalog", MAX_CLASSES);
    count_of(&["viewers", "countries"], "viewers", MAX_COUNTRIES);
    if diags.is_empty() {
        Ok(())
    } else {
        Err(Diagnostics(diags))
    }
}

/// The value at a dotted path of tables.
fn lookup<'a, 'i>(root: &'a DeTable<'i>, path: &[&str]) -> Option<&'a Spanned<DeValue<'i>>> {
    let (first, rest) = path.split_first()?;
    let (_, value) = root.iter().find(|(k, _)| k.get_ref() == first)?;
    if rest.is_empty() {
        return Some(value);
    }
    match value.get_ref() {
        DeValue::Table(t) => lookup(t, rest),
        _ => None,
    }
}

/// Where the list (array or table) at `path` is, and how many entries it has.
fn entries(root: &DeTable<'_>, path: &[&str]) -> Option<(Range<usize>, usize)> {
    let value = lookup(root, path)?;
    let n = match value.get_ref() {
        DeValue::Array(a) => a.len(),
        DeValue::Table(t) => t.len(),
        _ => return None,
    };
    Some((value.span(), n))
}

/// The span of the key at `path` (array elements by index), or of the
/// deepest part of it that exists; the start of the file if none does.
fn key_span(text: &str, path: &[&str]) -> Range<usize> {
    let (root, _) = DeTable::parse_recoverable(text);
    let mut table = root.get_ref();
    let mut best = 0..0;
    let mut rest = path;
    while let Some((first, tail)) = rest.split_first() {
        let Some((k, v)) = table.iter().find(|(k, _)| k.get_ref() == first) else {
            break;
        };
        best = k.span();
        let mut value = v.get_ref();
        rest = tail;
        if let (DeValue::Array(a), Some((index, after))) = (value, rest.split_first()) {
            let Some(item) = index.parse::<usize>().ok().and_then(|i| a.get(i)) else {
                break;
            };
            best = item.span();
            value = item.get_ref();
            rest = after;
        }
        match value {
            DeValue::Table(t) => table = t,
            _ => break,
        }
    }
    best
}

/// Objects a cache of `cache_bytes` holds at most: what fits at the
/// smallest class's mean size, and no more than are asked for.
fn cached_objects(cache_bytes: u64, object_bytes: f64, asked: u64) -> u64 {
    let fit = (cache_bytes as f64 / object_bytes.max(1.0)).min(u64::MAX as f64) as u64;
    fit.min(asked)
}

/// `a * b + c`, saturating.
fn mul_add(a: u64, b: u64, c: u64) -> u64 {
    a.saturating_mul(b).saturating_add(c)
}

/// Expected requests over the run and in its busiest epoch: exactly as
/// the coordinator shapes the rate when the run has few enough epochs to
/// sum (at most [`MAX_EPOCHS`], and at most 20 million epoch × city
/// terms), else an upper bound (`true`).
fn requests(s: &Scenario) -> (f64, f64, bool) {
    let sim = &s.simulation;
    let rate = s.viewers.requests_per_sec;
    let epochs = sim.epochs();
    let countries = &s.viewers.countries;
    let flashes: Vec<(&crate::events::Event, f64, &Vec<usize>)> = s
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::FlashCrowd {
                factor, countries, ..
            } => Some((e, *factor, countries)),
            _ => None,
        })
        .collect();
    let cities: usize = countries.iter().map(|c| c.cities.len()).sum();
    let terms = epochs.saturating_mul(cities.max(1) as u64);
    if epochs <= MAX_EPOCHS && terms <= 20_000_000 {
        let (mut total, mut peak) = (0.0f64, 0.0f64);
        for k in 0..epochs {
            let span = sim.epoch_span(k);
            let secs = (span.end - span.start) as f64 / 1e6;
            let flash = flashes.iter().find(|(e, _, _)| e.active_at(span.start));
            let per_sec: f64 = countries
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let mut m = s.traffic.country_multiplier(span.start, c);
                    if let Some((_, factor, only)) = flash
                        && (only.is_empty() || only.contains(&i))
                    {
                        m *= factor;
                    }
                    rate * c.weight * m
                })
                .sum();
            total += per_sec * secs;
            peak = peak.max(per_sec * secs);
        }
        return (total, peak, false);
    }
    // Upper bound: growth integrated in closed form, the daily swing and
    // hourly profile at their highest, every flash crowd at its factor.
    let t = &s.traffic;
    let hours = sim.duration_us as f64 / 3.6e9;
    let g = t.growth_per_hour;
    let growth_end = (1.0 + g).powf(hours).max(1.0);
    let growth_integral_secs = if g.abs() < 1e-12 {
        hours * 3600.0
    } else {
        (((1.0 + g).powf(hours) - 1.0) / (1.0 + g).ln() * 3600.0).max(hours * 3600.0)
    };
    let shape = (1.0 + t.diurnal_amplitude)
        * t.hourly_profile
            .map_or(1.0, |p| p.iter().copied().fold(1.0, f64::max));
    let mut total = rate * growth_integral_secs * shape;
    let mut max_factor = 1.0f64;
    for (e, factor, _) in &flashes {
        let secs = (e.end_us.min(sim.duration_us).saturating_sub(e.start_us)) as f64 / 1e6;
        total += rate * (factor - 1.0).max(0.0) * secs * growth_end * shape;
        max_factor = max_factor.max(*factor);
    }
    let epoch_secs = sim.epoch_us as f64 / 1e6;
    let peak = rate * growth_end * shape * max_factor * epoch_secs;
    (total, peak.min(total), true)
}

/// Estimates what `s` asks for.
pub fn estimate(s: &Scenario) -> Estimate {
    let (mut requests, mut peak, mut bound) = requests(s);
    if s.replay.is_some() {
        // A replay's requests are its log lines, at most this many.
        let most = crate::cflog::MAX_RECORDS as f64;
        requests = most;
        peak = peak.min(most);
        bound = true;
    }
    let flash_objects = s
        .events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::FlashCrowd { objects, .. } => Some(objects),
            _ => None,
        })
        .max()
        .unwrap_or(0);
    let objects = s
        .catalog
        .classes
        .iter()
        .fold(flash_objects, |acc, c| acc.saturating_add(c.objects));
    let asked = objects.min(requests.min(u64::MAX as f64) as u64);
    let object_bytes = s
        .catalog
        .classes
        .iter()
        .map(|c| c.size_bytes.mean())
        .filter(|m| m.is_finite() && *m > 0.0)
        .fold(f64::INFINITY, f64::min);
    let object_bytes = if object_bytes.is_finite() {
        object_bytes
    } else {
        1.0
    };
    let cache = |cache_bytes: u64| {
        OBJECT_BYTES.saturating_mul(cached_objects(cache_bytes, object_bytes, asked))
    };
    let shields: u64 = s
        .origins
        .iter()
        .filter_map(|o| o.shield.as_ref())
        .map(|sh| cache(sh.cache_bytes))
        .fold(0, u64::saturating_add);
    let js_functions = s.behaviors.iter().filter(|b| b.has_triggers()).count() as u64;
    // Every region may get the whole epoch's traffic (viewers go to the
    // nearest PoP), so its per-epoch buffers are sized for all of it.
    let epoch_buffers = (peak * EPOCH_REQUEST_BYTES as f64).min(u64::MAX as f64) as u64;
    let mut largest = (0usize, 0u64, true);
    let mut total: u64 = 0;
    for (i, r) in s.regions.iter().enumerate() {
        let caches = r
            .pops
            .iter()
            .map(|&p| cache(s.pops[p].cache_bytes))
            .fold(
                r.cache.map_or(0, |c| cache(c.cache_bytes)),
                u64::saturating_add,
            )
            .saturating_add(shields);
        let fixed = mul_add(r.pops.len() as u64, POP_BYTES, REGION_BYTES)
            .saturating_add(js_functions.saturating_mul(JS_FUNCTION_BYTES));
        let region = caches.saturating_add(fixed).saturating_add(epoch_buffers);
        total = total.saturating_add(region);
        if region > largest.1 {
            largest = (i, region, caches >= epoch_buffers);
        }
    }
    let epochs = s.simulation.epochs();
    let entities = (s.pops.len() + s.viewers.countries.len() + 4 + s.origins.len()) as u64;
    let coordinator_bytes = mul_add(
        (s.pops.len() + s.viewers.countries.len() + 4) as u64,
        HISTOGRAM_BYTES,
        COORDINATOR_BASE_BYTES,
    )
    .saturating_add(epochs.saturating_mul(mul_add(
        entities,
        EPOCH_ENTITY_BYTES,
        EPOCH_ROW_BYTES,
    )));
    Estimate {
        requests,
        peak_epoch_requests: peak,
        epochs,
        pops: s.pops.len(),
        regions: s.regions.len(),
        objects,
        agent_bytes: largest.1.saturating_add(AGENT_BASE_BYTES),
        total_bytes: total.saturating_add(AGENT_BASE_BYTES),
        coordinator_bytes,
        requests_bound: bound,
        largest_region: largest.0,
        caches_dominate: largest.2,
    }
}

/// Estimates `s` (whose text is `text`, known as `source_name`) and
/// refuses it if it exceeds a limit; every figure over its limit is one
/// diagnostic at the key that sets it.
pub fn check(source_name: &str, text: &str, s: &Scenario) -> Result<Estimate, Diagnostics> {
    let e = estimate(s);
    let map = SourceMap::new(source_name, text);
    let mut diags: Vec<Diagnostic> = Vec::new();
    let mut refuse = |path: &[&str], entity: &str, message: String| {
        diags.push(map.diagnostic(key_span(text, path), entity, format!("{message} ({LIFT})")));
    };
    if e.epochs > MAX_EPOCHS {
        refuse(
            &["simulation", "duration_secs"],
            "simulation",
            format!(
                "{} epochs ({} s in epochs of {} ms), more than the limit of {MAX_EPOCHS}",
                e.epochs,
                s.simulation.duration_us as f64 / 1e6,
                s.simulation.epoch_us as f64 / 1e3
            ),
        );
    }
    if e.requests.is_nan() || e.requests > MAX_REQUESTS {
        refuse(
            &["viewers", "requests_per_sec"],
            "viewers",
            format!(
                "{}{} expected requests over the run, more than the limit of {}",
                if e.requests_bound { "up to " } else { "" },
                count(e.requests),
                count(MAX_REQUESTS)
            ),
        );
    }
    let memory_key = |e: &Estimate| -> Vec<String> {
        if !e.caches_dominate {
            return vec!["viewers".into(), "requests_per_sec".into()];
        }
        // The PoP of the largest region with the largest cache.
        let region = &s.regions[e.largest_region];
        region
            .pops
            .iter()
            .max_by_key(|&&p| s.pops[p].cache_bytes)
            .map_or_else(
                || vec!["catalog".into()],
                |&p| vec!["pops".into(), p.to_string(), "cache_bytes".into()],
            )
    };
    if e.agent_bytes > MAX_AGENT_BYTES || e.total_bytes > MAX_TOTAL_BYTES {
        let key = memory_key(&e);
        let path: Vec<&str> = key.iter().map(String::as_str).collect();
        let what = if e.caches_dominate {
            format!(
                "mostly cache metadata, up to {} objects per cache at {OBJECT_BYTES} B each",
                count((e.objects as f64).min(e.requests))
            )
        } else {
            format!(
                "mostly per-epoch buffers, {} requests in the busiest epoch at {EPOCH_REQUEST_BYTES} B each",
                count(e.peak_epoch_requests)
            )
        };
        let message = if e.agent_bytes > MAX_AGENT_BYTES {
            format!(
                "an agent holding region \"{}\" needs about {} ({what}), more than the limit of {}",
                s.regions[e.largest_region].id,
                bytes(e.agent_bytes),
                bytes(MAX_AGENT_BYTES)
            )
        } else {
            format!(
                "all regions together need about {} ({what}), more than the limit of {}",
                bytes(e.total_bytes),
                bytes(MAX_TOTAL_BYTES)
            )
        };
        refuse(&path, "memory", message);
    }
    if e.coordinator_bytes > MAX_COORDINATOR_BYTES {
        refuse(
            &["simulation", "duration_secs"],
            "memory",
            format!(
                "the coordinator needs about {} ({} epochs x {} PoPs, countries and origins tracked), more than the limit of {}",
                bytes(e.coordinator_bytes),
                e.epochs,
                s.pops.len() + s.viewers.countries.len() + s.origins.len(),
                bytes(MAX_COORDINATOR_BYTES)
            ),
        );
    }
    if diags.is_empty() {
        Ok(e)
    } else {
        diags.sort_by_key(|d| (d.line, d.col));
        Err(Diagnostics(diags))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
[simulation]
duration_secs = 600

[[pops]]
id = "fra"
city = "FRA"
cache_bytes = "1GiB"

[[origins]]
id = "o"
kind = "s3"
location = "eu-central-1"

[catalog]
objects = 100000
zipf_alpha = 0.8
size = 10000

[viewers]
requests_per_sec = 2000
countries = { DE = 1 }
"#;

    fn scenario(text: &str) -> Scenario {
        Scenario::from_toml("s.toml", text).unwrap()
    }

    fn refusals(text: &str) -> Vec<String> {
        let s = scenario(text);
        match check("s.toml", text, &s) {
            Ok(_) => Vec::new(),
            Err(d) => d.0.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn a_plain_scenario_is_estimated_exactly_and_passes() {
        let e = check("s.toml", BASE, &scenario(BASE)).unwrap();
        assert_eq!(e.epochs, 600);
        assert!((e.requests - 1.2e6).abs() < 1.0, "{}", e.requests);
        assert!(!e.requests_bound);
        assert_eq!(e.objects, 100_000);
        // 100,000 objects fit in 1 GiB: 6.4 MB of metadata.
        assert!(e.agent_bytes < 200 << 20, "{e}");
        assert!(e.to_string().starts_with("estimate: 1.2 M requests"), "{e}");
    }

    #[test]
    fn growth_diurnal_and_flash_crowds_are_integrated() {
        let text = format!(
            "{BASE}\n[traffic]\ngrowth_per_hour = 1.0\n\n[[events]]\nkind = \"flash_crowd\"\nat_secs = 0\nfor_secs = 300\nfactor = 3\nobjects = 10\n"
        );
        let e = estimate(&scenario(&text));
        // 600 s at 2000/s, doubling per hour (about +6%), 300 s tripled.
        let plain = 1.2e6;
        assert!(
            e.requests > plain * 2.0 && e.requests < plain * 2.2,
            "{}",
            e.requests
        );
        assert_eq!(e.objects, 100_010);
    }

    #[test]
    fn a_huge_rate_is_refused_at_its_key() {
        let text = BASE.replace("requests_per_sec = 2000", "requests_per_sec = 1e12");
        let found = refusals(&text);
        assert!(
            found[0].starts_with("s.toml:21:1: viewers: 6.0e14 expected requests over the run, more than the limit of 10.0 G"),
            "{found:#?}"
        );
        assert!(
            found[0].ends_with("(--no-limits lifts the limits)"),
            "{found:#?}"
        );
        // The per-epoch buffers of 1e12 requests are refused too.
        assert!(
            found
                .iter()
                .any(|f| f.contains("memory: an agent holding region")),
            "{found:#?}"
        );
    }

    #[test]
    fn too_many_epochs_are_refused_without_summing_them() {
        let text = BASE.replace(
            "duration_secs = 600",
            "duration_secs = 31536000\nepoch_ms = 1",
        );
        let started = std::time::Instant::now();
        let found = refusals(&text);
        assert!(started.elapsed().as_secs() < 5);
        assert!(
            found
                .iter()
                .any(|f| f.starts_with("s.toml:3:1: simulation: 31536000000 epochs")),
            "{found:#?}"
        );
    }

    #[test]
    fn huge_caches_of_many_objects_are_refused_at_the_pop() {
        let text = BASE
            .replace("cache_bytes = \"1GiB\"", "cache_bytes = \"100TiB\"")
            .replace("objects = 100000", "objects = 1000000000000")
            .replace("requests_per_sec = 2000", "requests_per_sec = 2000000");
        let found = refusals(&text);
        assert!(
            found.iter().any(|f| f.starts_with(
                "s.toml:8:1: memory: an agent holding region \"eu-central-1\" needs about"
            )),
            "{found:#?}"
        );
    }

    #[test]
    fn long_lists_are_refused_before_parsing_them_further() {
        let mut text = BASE.to_owned();
        text.push_str("\n[[behaviors]]\npath = \"/a\"\n");
        let pops: String = (0..MAX_POPS + 1)
            .map(|i| format!("{{ id = \"p{i}\", city = \"FRA\", cache_bytes = 1 }},"))
            .collect();
        let text = text
            .replace(
                "[[pops]]\nid = \"fra\"\ncity = \"FRA\"\ncache_bytes = \"1GiB\"\n",
                "",
            )
            .replacen("[simulation]", &format!("pops = [{pops}]\n[simulation]"), 1);
        let e = precheck("s.toml", &text).unwrap_err().to_string();
        assert_eq!(
            e,
            "s.toml:2:8: pops: pops has 5001 entries, more than the limit of 5000 (--no-limits lifts the limits)"
        );
        assert!(precheck("s.toml", BASE).is_ok());
        assert!(precheck("s.toml", "not [ toml").is_ok());
    }

    #[test]
    fn figures_print_for_people() {
        assert_eq!(count(950.0), "950");
        assert_eq!(count(12_345.0), "12.3 k");
        assert_eq!(count(3.2e16), "3.2e16");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(3 << 30), "3.0 GiB");
    }
}
