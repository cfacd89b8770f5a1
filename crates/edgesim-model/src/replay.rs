//! `[replay]`: CloudFront standard logs replayed request by request.
//!
//! The coordinator reads the logs ([`load`]), sorts the lines
//! deterministically (by time, then file order as listed — patterns
//! expanded in name order — then line), turns each into a
//! [`ReplayRequest`] at its edge location's PoP, and ships each epoch's
//! requests of a region to the agent that owns it, packed with
//! [`encode`] (the agents never need the files). The region engine serves
//! exactly those requests instead of Poisson arrivals.
//!
//! Per line: time = its second in the log minus the first line's second,
//! divided by `speedup` (lines of one second are spread evenly over it, in
//! line order, so they do not all arrive in the same microsecond); PoP =
//! the first `[[pops]]` entry whose `city` is the edge location's airport
//! code; country = that PoP city's country (standard logs have no viewer
//! country; the nearest listed viewer country if it is not listed); device
//! from the User-Agent; viewer id = a hash of `c-ip`; the object is the URI
//! (`cs-uri-stem`), its size the **largest** `sc-bytes` of any line for
//! that URI (so a cache entry has one size whatever line fetched it).
//! Lines whose edge location has no PoP, or that fall after
//! `duration_secs`, are dropped and counted.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::cflog::{self, CfLogError};
use crate::geo::LatLon;
use crate::geo_tables;
use crate::rng::hash_str;
use crate::scenario::{Device, Scenario};

/// One request to replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayRequest {
    /// Simulated time, µs from the start of the run.
    pub at_us: u64,
    /// Index into the scenario's PoPs.
    pub pop: usize,
    /// Index into the scenario's viewer countries.
    pub country: usize,
    /// Device class.
    pub device: Device,
    /// Viewer id (hash of the client IP).
    pub viewer_id: u64,
    /// Object size, bytes.
    pub size: u64,
    /// URI path.
    pub path: String,
}

/// The requests of a replay, and what was left out.
#[derive(Debug, Clone, Default)]
pub struct ReplayPlan {
    /// Every request, in time order.
    pub requests: Vec<ReplayRequest>,
    /// Log lines read.
    pub lines: u64,
    /// Dropped lines per edge-location airport code without a PoP.
    pub unmapped: std::collections::BTreeMap<String, u64>,
    /// Lines after the end of the run.
    pub after_end: u64,
    /// The files read, in order.
    pub files: Vec<PathBuf>,
}

/// Why a replay cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// A log file is bad.
    #[error(transparent)]
    Log(#[from] CfLogError),
    /// A pattern names no file.
    #[error("[replay] logs: \"{0}\" matches no file")]
    NoMatch(String),
    /// A directory cannot be listed.
    #[error("[replay] logs: cannot list {0}: {1}")]
    List(String, std::io::Error),
}

/// Expands one `logs` entry (relative to `dir`): `*` and `?` in the file
/// name; matches in name order.
pub fn expand(dir: &Path, pattern: &str) -> Result<Vec<PathBuf>, ReplayError> {
    let full = dir.join(pattern);
    let name = full
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !name.contains(['*', '?']) {
        return if full.is_file() {
            Ok(vec![full])
        } else {
            Err(ReplayError::NoMatch(pattern.to_owned()))
        };
    }
    let parent = full.parent().map_or_else(PathBuf::new, Path::to_path_buf);
    let listing = if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        &parent
    };
    let entries = std::fs::read_dir(listing)
        .map_err(|e| ReplayError::List(listing.display().to_string(), e))?;
    let mut out: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().is_file())
        .filter(|e| {
            crate::scenario::path_matches(name.as_bytes(), e.file_name().as_encoded_bytes())
        })
        .map(|e| parent.join(e.file_name()))
        .collect();
    out.sort();
    if out.is_empty() {
        return Err(ReplayError::NoMatch(pattern.to_owned()));
    }
    Ok(out)
}

/// Reads the scenario's `[replay]` logs (relative to the directory of
/// `scenario.source_name`). `None` without `[replay]`.
pub fn load(scenario: &Scenario) -> Result<Option<ReplayPlan>, ReplayError> {
    let Some(replay) = &scenario.replay else {
        return Ok(None);
    };
    let dir = Path::new(&scenario.source_name)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut files = Vec::new();
    for pattern in &replay.logs {
        files.extend(expand(&dir, pattern)?);
    }
    let records = cflog::read_files(&files)?;
    let mut plan = plan(scenario, records, replay.speedup);
    plan.files = files;
    Ok(Some(plan))
}

/// Turns log records (with their file index) into the replay.
pub fn plan(
    scenario: &Scenario,
    mut records: Vec<(usize, cflog::LogRecord)>,
    speedup: f64,
) -> ReplayPlan {
    let mut out = ReplayPlan {
        lines: records.len() as u64,
        ..ReplayPlan::default()
    };
    records.sort_by_key(|(file, r)| (r.unix_secs, *file, r.line));
    let Some(first) = records.first().map(|r| r.1.unix_secs) else {
        return out;
    };
    // PoP per airport code, and the viewer country of each PoP.
    let mut pop_of: HashMap<&str, usize> = HashMap::new();
    for (i, p) in scenario.pops.iter().enumerate().rev() {
        if let Some(city) = &p.city {
            pop_of.insert(city.as_str(), i);
        }
    }
    let countries = &scenario.viewers.countries;
    let country_of: Vec<usize> = scenario
        .pops
        .iter()
        .map(|p| {
            let code = p
                .city
                .as_deref()
                .and_then(geo_tables::pop_city)
                .map(|c| c.country);
            code.and_then(|code| countries.iter().position(|c| c.code == code))
                .unwrap_or_else(|| nearest_country(scenario, p.location))
        })
        .collect();
    let mut size_of: HashMap<&str, u64> = HashMap::new();
    for (_, r) in &records {
        let s = size_of.entry(r.uri_stem.as_str()).or_default();
        *s = (*s).max(r.sc_bytes);
    }
    let duration = scenario.simulation.duration_us;
    // Lines per second, to spread each second's lines over it.
    let mut i = 0;
    while i < records.len() {
        let second = records[i].1.unix_secs;
        let j = records[i..]
            .iter()
            .position(|r| r.1.unix_secs != second)
            .map_or(records.len(), |k| i + k);
        let n = (j - i) as u64;
        for (k, (_, r)) in records[i..j].iter().enumerate() {
            let log_us = (second - first) as u64 * 1_000_000 + k as u64 * 1_000_000 / n;
            let at_us = (log_us as f64 / speedup) as u64;
            let code = r.airport_code();
            let Some(&pop) = pop_of.get(code.as_str()) else {
                *out.unmapped.entry(code).or_default() += 1;
                continue;
            };
            if at_us >= duration {
                out.after_end += 1;
                continue;
            }
            out.requests.push(ReplayRequest {
                at_us,
                pop,
                country: country_of[pop],
                device: r.device(),
                viewer_id: hash_str(&r.client_ip),
                size: size_of[r.uri_stem.as_str()].max(1),
                path: r.uri_stem.clone(),
            });
        }
        i = j;
    }
    out
}

fn nearest_country(scenario: &Scenario, at: LatLon) -> usize {
    scenario
        .viewers
        .countries
        .iter()
        .enumerate()
        .map(|(i, c)| (c.location.distance_km(at), i))
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map_or(0, |(_, i)| i)
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(bytes: &[u8], at: &mut usize) -> Result<u64, String> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *bytes
            .get(*at)
            .ok_or_else(|| format!("replay batch truncated at byte {}", *at))?;
        *at += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(format!("replay batch: bad varint before byte {}", *at))
}

/// Packs requests (in time order) for the wire: per request the varints
/// of (time since the previous one, or since `base_us` for the first), PoP,
/// country, device, viewer id, size, path length, then the path bytes.
pub fn encode<'a>(requests: impl IntoIterator<Item = &'a ReplayRequest>, base_us: u64) -> Vec<u8> {
    let mut out = Vec::new();
    let mut prev = base_us;
    for r in requests {
        put_varint(&mut out, r.at_us.saturating_sub(prev));
        prev = r.at_us.max(prev);
        put_varint(&mut out, r.pop as u64);
        put_varint(&mut out, r.country as u64);
        put_varint(&mut out, r.device as u64);
        put_varint(&mut out, r.viewer_id);
        put_varint(&mut out, r.size);
        put_varint(&mut out, r.path.len() as u64);
        out.extend_from_slice(r.path.as_bytes());
    }
    out
}

/// Unpacks [`encode`]'s bytes.
pub fn decode(bytes: &[u8], base_us: u64) -> Result<Vec<ReplayRequest>, String> {
    let mut out = Vec::new();
    let mut at = 0;
    let mut prev = base_us;
    while at < bytes.len() {
        let gap = get_varint(bytes, &mut at)?;
        let at_us = prev
            .checked_add(gap)
            .ok_or("replay batch: time overflows")?;
        prev = at_us;
        let pop = get_varint(bytes, &mut at)? as usize;
        let country = get_varint(bytes, &mut at)? as usize;
        let device = *Device::ALL
            .get(get_varint(bytes, &mut at)? as usize)
            .ok_or("replay batch: bad device")?;
        let viewer_id = get_varint(bytes, &mut at)?;
        let size = get_varint(bytes, &mut at)?;
        let len = get_varint(bytes, &mut at)? as usize;
        let end = at
            .checked_add(len)
            .filter(|&e| e <= bytes.len())
            .ok_or("replay batch: path runs past the end")?;
        let path = std::str::from_utf8(&bytes[at..end])
            .map_err(|_| "replay batch: path is not UTF-8")?
            .to_owned();
        at = end;
        out.push(ReplayRequest {
            at_us,
            pop,
            country,
            device,
            viewer_id,
            size,
            path,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_round_trips_and_rejects_garbage() {
        let reqs = vec![
            ReplayRequest {
                at_us: 1_000_005,
                pop: 2,
                country: 1,
                device: Device::Tablet,
                viewer_id: u64::MAX,
                size: 12345,
                path: "/a/b.jpg".into(),
            },
            ReplayRequest {
                at_us: 1_500_000,
                pop: 0,
                country: 0,
                device: Device::Desktop,
                viewer_id: 7,
                size: 1,
                path: "/é".into(),
            },
        ];
        let bytes = encode(&reqs, 1_000_000);
        assert_eq!(decode(&bytes, 1_000_000).unwrap(), reqs);
        assert!(decode(&bytes[..bytes.len() - 1], 1_000_000).is_err());
        assert!(decode(&[0xff; 11], 0).is_err());
        assert_eq!(decode(&[], 0).unwrap(), vec![]);
    }
}
