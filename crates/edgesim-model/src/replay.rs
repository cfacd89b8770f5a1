//! `[replay]`: CloudFront standard logs replayed request by request.
//!
//! The coordinator reads the logs ([`ReplayStream`]: once to check them
//! and gather sizes, then again as the run goes, never whole), orders the
//! lines deterministically (by time, then file order as listed —
//! patterns expanded in name order — then line), turns each into a
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

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::path::{Path, PathBuf};

use edgesim_cache::trace::key_for;

use crate::cflog::{AirportCode, CfLogError, CfLogReader};
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
    /// A log changed between the first reading and the replay.
    #[error("[replay] {0}: changed while the run was replaying it ({1})")]
    Changed(String, String),
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

/// The requests of a replay, read from its logs as the run goes.
///
/// Opening reads every log once ([`ReplayStream::open`]): every line is
/// checked (a bad line is an error before anything starts), and it
/// gathers what the replay needs in advance, which is small: the largest
/// `sc-bytes` of each URI (16 bytes per distinct URI, keyed by
/// [`edgesim_cache::trace::key_for`] of the URI: two URIs sharing a key,
/// a chance of about n² / 2⁶⁵ for n distinct URIs, would share the
/// larger size), the lines without a PoP, and per file its first second
/// and how far back in time any of its lines goes (its *lag*: CloudFront
/// does not promise lines in time order). Then [`ReplayStream::take_until`]
/// hands out the requests epoch by epoch, merging the files again in
/// (time, file, line) order: each file through a buffer of the lines
/// within its lag of the newest (one line for a file in time order), files
/// opened only once the replay reaches their first second. So memory
/// is the distinct URIs, one second of requests and those buffers, not
/// the log; the order is the same as sorting every line.
#[derive(Debug)]
pub struct ReplayStream {
    files: Vec<PathBuf>,
    lines: u64,
    unmapped: std::collections::BTreeMap<String, u64>,
    /// Lines with a PoP.
    mapped: u64,
    /// Requests handed out.
    emitted: u64,
    first: i64,
    speedup: f64,
    duration_us: u64,
    size_of: HashMap<u64, u64, crate::from_logs::KeyHash>,
    pop_of: HashMap<AirportCode, Option<usize>>,
    country_of: Vec<usize>,
    merge: Merge,
    /// The current second's requests, in time order.
    group: VecDeque<ReplayRequest>,
    /// No more requests before the end of the run.
    done: bool,
}

/// One log line read in the replay pass, ordered by (second, line).
#[derive(Debug)]
struct Pending {
    secs: i64,
    line: u64,
    pop: Option<usize>,
    device: Device,
    viewer_id: u64,
    key: u64,
    path: String,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        (self.secs, self.line) == (other.secs, other.line)
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.secs, self.line).cmp(&(other.secs, other.line))
    }
}

/// A file of the merge.
#[derive(Debug)]
struct FileState {
    path: PathBuf,
    /// Its earliest second (i64::MAX: no lines).
    min_secs: i64,
    /// Most seconds any line is earlier than a line before it.
    lag: i64,
    lines: u64,
    reader: Option<CfLogReader>,
    buffer: BinaryHeap<Reverse<Pending>>,
    max_seen: i64,
    read: u64,
    eof: bool,
}

/// The k-way merge of the files in (second, file, line) order.
#[derive(Debug)]
struct Merge {
    files: Vec<FileState>,
    /// Files not opened yet, by (first second, index), next first.
    unopened: VecDeque<usize>,
    /// The next line of each open file, keyed (second, file, line).
    heads: BinaryHeap<Reverse<(i64, usize, u64)>>,
    head_of: Vec<Option<Pending>>,
}

impl ReplayStream {
    /// Reads the scenario's `[replay]` logs (relative to the directory of
    /// `scenario.source_name`) once, checking every line. `None` without
    /// `[replay]`.
    pub fn open(scenario: &Scenario) -> Result<Option<Self>, ReplayError> {
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
        Self::from_files(scenario, files, replay.speedup).map(Some)
    }

    /// The replay of `files` (in this order) for `scenario`.
    pub fn from_files(
        scenario: &Scenario,
        files: Vec<PathBuf>,
        speedup: f64,
    ) -> Result<Self, ReplayError> {
        // PoP per airport code (the first [[pops]] entry of that city),
        // and the viewer country of each PoP.
        let mut city_pop: HashMap<&str, usize> = HashMap::new();
        for (i, p) in scenario.pops.iter().enumerate().rev() {
            if let Some(city) = &p.city {
                city_pop.insert(city.as_str(), i);
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
        let mut stream = ReplayStream {
            files: files.clone(),
            lines: 0,
            unmapped: std::collections::BTreeMap::new(),
            mapped: 0,
            emitted: 0,
            first: i64::MAX,
            speedup,
            duration_us: scenario.simulation.duration_us,
            size_of: HashMap::with_hasher(crate::from_logs::KeyHash),
            pop_of: HashMap::new(),
            country_of,
            merge: Merge {
                files: Vec::new(),
                unopened: VecDeque::new(),
                heads: BinaryHeap::new(),
                head_of: Vec::new(),
            },
            group: VecDeque::new(),
            done: false,
        };
        // The first pass: checks, sizes, PoPs, and each file's order.
        for path in files {
            let mut reader = CfLogReader::open(&path)?;
            let mut state = FileState {
                path: path.clone(),
                min_secs: i64::MAX,
                lag: 0,
                lines: 0,
                reader: None,
                buffer: BinaryHeap::new(),
                max_seen: i64::MIN,
                read: 0,
                eof: false,
            };
            while let Some(line) = reader.next_line()? {
                state.lines += 1;
                state.min_secs = state.min_secs.min(line.unix_secs);
                if line.unix_secs < state.max_seen {
                    state.lag = state.lag.max(state.max_seen - line.unix_secs);
                }
                state.max_seen = state.max_seen.max(line.unix_secs);
                let key = key_for(line.uri_stem.as_bytes());
                let size = stream.size_of.entry(key).or_default();
                *size = (*size).max(line.sc_bytes);
                let code = line.airport();
                let pop = *stream
                    .pop_of
                    .entry(code)
                    .or_insert_with(|| city_pop.get(code.as_str()).copied());
                match pop {
                    Some(_) => stream.mapped += 1,
                    None => {
                        *stream.unmapped.entry(code.as_str().to_owned()).or_default() += 1;
                    }
                }
            }
            stream.lines += state.lines;
            stream.first = stream.first.min(state.min_secs);
            state.max_seen = i64::MIN;
            stream.merge.files.push(state);
        }
        let mut order: Vec<usize> = (0..stream.merge.files.len())
            .filter(|&i| stream.merge.files[i].lines > 0)
            .collect();
        order.sort_by_key(|&i| (stream.merge.files[i].min_secs, i));
        stream.merge.unopened = order.into();
        stream.merge.head_of = (0..stream.merge.files.len()).map(|_| None).collect();
        stream.done = stream.lines == 0;
        Ok(stream)
    }

    /// Log lines read.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Dropped lines per edge-location airport code without a PoP.
    pub fn unmapped(&self) -> &std::collections::BTreeMap<String, u64> {
        &self.unmapped
    }

    /// Lines with a PoP that were not handed out: once the run has taken
    /// every epoch's requests, the lines after its end.
    pub fn not_replayed(&self) -> u64 {
        self.mapped - self.emitted
    }

    /// The files read, in order.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// The requests due before `end_us` that were not handed out yet, in
    /// time order. Calls go forward in time (each epoch's end in turn).
    pub fn take_until(&mut self, end_us: u64) -> Result<Vec<ReplayRequest>, ReplayError> {
        let mut out = Vec::new();
        loop {
            while let Some(r) = self.group.front() {
                if r.at_us >= end_us {
                    return Ok(out);
                }
                out.extend(self.group.pop_front());
            }
            if self.done {
                return Ok(out);
            }
            self.next_second()?;
        }
    }

    /// Reads the next second of the logs into `group` (its lines spread
    /// evenly over it, in order); sets `done` at the end of the logs or
    /// of the run.
    fn next_second(&mut self) -> Result<(), ReplayError> {
        let Some(first) = self.merge_next()? else {
            self.done = true;
            return Ok(());
        };
        let second = first.secs;
        let mut lines = vec![first];
        while self.merge_peek_secs()? == Some(second) {
            lines.extend(self.merge_next()?);
        }
        let n = lines.len() as u64;
        for (k, line) in lines.into_iter().enumerate() {
            let log_us = (second - self.first) as u64 * 1_000_000 + k as u64 * 1_000_000 / n;
            let at_us = (log_us as f64 / self.speedup) as u64;
            let Some(pop) = line.pop else {
                continue;
            };
            if at_us >= self.duration_us {
                // Times only grow from here: the rest is after the end.
                self.done = true;
                break;
            }
            self.emitted += 1;
            self.group.push_back(ReplayRequest {
                at_us,
                pop,
                country: self.country_of[pop],
                device: line.device,
                viewer_id: line.viewer_id,
                size: self.size_of.get(&line.key).copied().unwrap_or(0).max(1),
                path: line.path,
            });
        }
        Ok(())
    }
}

impl Merge {
    /// Opens the files whose first second is due: before the current
    /// head, or any when nothing is open.
    fn open_due(
        &mut self,
        pop_of: &HashMap<AirportCode, Option<usize>>,
    ) -> Result<(), ReplayError> {
        while let Some(&f) = self.unopened.front() {
            let due = match self.heads.peek() {
                None => true,
                Some(Reverse((secs, _, _))) => self.files[f].min_secs <= *secs,
            };
            if !due {
                break;
            }
            self.unopened.pop_front();
            let state = &mut self.files[f];
            state.reader = Some(CfLogReader::open(&state.path)?);
            self.advance(f, pop_of)?;
        }
        Ok(())
    }

    /// Moves file `f`'s next line (in (second, line) order) into the heads.
    fn advance(
        &mut self,
        f: usize,
        pop_of: &HashMap<AirportCode, Option<usize>>,
    ) -> Result<(), ReplayError> {
        let state = &mut self.files[f];
        loop {
            if let Some(Reverse(top)) = state.buffer.peek()
                && (state.eof || top.secs <= state.max_seen.saturating_sub(state.lag))
            {
                let Some(Reverse(next)) = state.buffer.pop() else {
                    break;
                };
                self.heads.push(Reverse((next.secs, f, next.line)));
                self.head_of[f] = Some(next);
                return Ok(());
            }
            if state.eof {
                break;
            }
            let Some(reader) = state.reader.as_mut() else {
                break;
            };
            match reader.next_line()? {
                None => {
                    state.eof = true;
                    state.reader = None;
                    if state.read != state.lines {
                        return Err(ReplayError::Changed(
                            state.path.display().to_string(),
                            format!("{} lines at first, {} now", state.lines, state.read),
                        ));
                    }
                }
                Some(line) => {
                    state.read += 1;
                    state.max_seen = state.max_seen.max(line.unix_secs);
                    let pop = pop_of.get(&line.airport()).copied().flatten();
                    state.buffer.push(Reverse(Pending {
                        secs: line.unix_secs,
                        line: line.line,
                        pop,
                        device: line.device(),
                        viewer_id: hash_str(line.client_ip),
                        key: key_for(line.uri_stem.as_bytes()),
                        path: line.uri_stem.to_owned(),
                    }));
                }
            }
        }
        Ok(())
    }
}

impl ReplayStream {
    /// Not an iterator: the merge needs the PoP table of the stream.
    fn merge_next(&mut self) -> Result<Option<Pending>, ReplayError> {
        self.merge.open_due(&self.pop_of)?;
        let Some(Reverse((_, f, _))) = self.merge.heads.pop() else {
            return Ok(None);
        };
        let line = self.merge.head_of[f].take();
        self.merge.advance(f, &self.pop_of)?;
        Ok(line)
    }

    fn merge_peek_secs(&mut self) -> Result<Option<i64>, ReplayError> {
        self.merge.open_due(&self.pop_of)?;
        Ok(self.merge.heads.peek().map(|Reverse((secs, _, _))| *secs))
    }
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
    use crate::cflog::{STANDARD_FIELDS, standard_header};

    fn log_line(secs: u32, edge: &str, uri: &str, bytes: u64, ip: &str) -> String {
        let mut f = vec!["-".to_owned(); STANDARD_FIELDS.len()];
        f[0] = "2024-03-01".into();
        f[1] = format!("10:{:02}:{:02}", secs / 60, secs % 60);
        f[2] = edge.into();
        f[3] = bytes.to_string();
        f[4] = ip.into();
        f[7] = uri.into();
        f[10] = "Mozilla/5.0%20(iPad;%20CPU%20OS%2017_4)".into();
        f.join("\t") + "\n"
    }

    /// What the replay must give: every line sorted by (time, file,
    /// line), spread over its second, as a whole-log sort does.
    fn reference(scenario: &Scenario, files: &[PathBuf], speedup: f64) -> Vec<ReplayRequest> {
        let mut records = Vec::new();
        for (i, f) in files.iter().enumerate() {
            for r in CfLogReader::open(f).unwrap() {
                records.push((i, r.unwrap()));
            }
        }
        records.sort_by_key(|(file, r)| (r.unix_secs, *file, r.line));
        let first = records[0].1.unix_secs;
        let mut size: HashMap<&str, u64> = HashMap::new();
        for (_, r) in &records {
            let s = size.entry(r.uri_stem.as_str()).or_default();
            *s = (*s).max(r.sc_bytes);
        }
        let mut out = Vec::new();
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
                let Some(pop) = scenario
                    .pops
                    .iter()
                    .position(|p| p.city.as_deref() == Some(r.airport_code().as_str()))
                else {
                    continue;
                };
                if at_us >= scenario.simulation.duration_us {
                    continue;
                }
                out.push(ReplayRequest {
                    at_us,
                    pop,
                    country: 0,
                    device: r.device(),
                    viewer_id: hash_str(&r.client_ip),
                    size: size[r.uri_stem.as_str()].max(1),
                    path: r.uri_stem.clone(),
                });
            }
            i = j;
        }
        out
    }

    #[test]
    fn the_stream_orders_lines_as_a_whole_sort_does() {
        let dir =
            std::env::temp_dir().join(format!("edgesim-replay-stream-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // a: in time order; b: out of order by up to 30 s (lag), gzip;
        // c: starts late (opened late), zstd; d: no lines.
        let mut a = standard_header();
        let mut b = standard_header();
        let mut c = standard_header();
        for i in 0..400u32 {
            a.push_str(&log_line(
                i / 4,
                "FRA56-C1",
                &format!("/a/{}", i % 37),
                100 + u64::from(i),
                "192.0.2.1",
            ));
            let t = (i * 37) % 120; // a shuffle of 0..120 s
            b.push_str(&log_line(
                t / 4 + (i / 4),
                "LHR61-P2",
                &format!("/a/{}", i % 23),
                5 + u64::from(i % 3),
                "192.0.2.2",
            ));
            if i >= 300 {
                c.push_str(&log_line(
                    i / 3,
                    if i % 5 == 0 { "XYZ1" } else { "FRA2" },
                    "/c",
                    9,
                    "::1",
                ));
            }
        }
        let files: Vec<PathBuf> = ["a.log", "b.log.gz", "c.log.zst", "d.log"]
            .iter()
            .map(|n| dir.join(n))
            .collect();
        for (path, text) in files.iter().zip([a, b, c, standard_header()]) {
            crate::from_logs::write_log_with(path, |w| w.write_all(text.as_bytes())).unwrap();
        }
        let toml = "[simulation]\nduration_secs = 100\nepoch_ms = 7000\n[[pops]]\nid = \"f\"\ncity = \"FRA\"\ncache_bytes = 1000\n[[pops]]\nid = \"l\"\ncity = \"LHR\"\ncache_bytes = 1000\n[[origins]]\nid = \"o\"\nkind = \"s3\"\nlocation = \"us-east-1\"\n[catalog]\nobjects = 1\nzipf_alpha = 1.0\nsize = 1\n[viewers]\nrequests_per_sec = 1\ncountries = { DE = 1 }\n";
        let scenario = Scenario::from_toml("x.toml", toml).unwrap();
        for speedup in [1.0, 2.5] {
            let mut stream = ReplayStream::from_files(&scenario, files.clone(), speedup).unwrap();
            assert!(
                stream.merge.files[1].lag > 20,
                "{}",
                stream.merge.files[1].lag
            );
            assert_eq!(stream.merge.files[0].lag, 0);
            let mut got = Vec::new();
            for epoch in 0..scenario.simulation.epochs() {
                let span = scenario.simulation.epoch_span(epoch);
                let batch = stream.take_until(span.end).unwrap();
                assert!(
                    batch
                        .iter()
                        .all(|r| r.at_us >= span.start && r.at_us < span.end)
                );
                got.extend(batch);
            }
            let want = reference(&scenario, &files, speedup);
            assert_eq!(got.len(), want.len());
            for (g, w) in got.iter().zip(&want) {
                assert_eq!(
                    (g.at_us, g.pop, g.device, g.viewer_id, g.size, &g.path),
                    (w.at_us, w.pop, w.device, w.viewer_id, w.size, &w.path)
                );
            }
            assert_eq!(stream.lines(), 900);
            assert_eq!(stream.unmapped()["XYZ"], 20);
            assert_eq!(stream.not_replayed() + got.len() as u64, 880);
            assert_eq!(speedup > 1.0, stream.not_replayed() == 0);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

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
