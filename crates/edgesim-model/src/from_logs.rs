//! A synthetic workload inferred from CloudFront standard logs
//! (`edgesim workload from-logs`): the scenario text and a summary of what
//! was inferred.
//!
//! What is taken from the logs, and how:
//!
//! * **PoPs**: one per edge-location airport code (`FRA56-C1` -> `FRA`)
//!   found in the built-in PoP table. Lines of unknown codes cannot be
//!   placed (no coordinates), so they are **dropped and counted** (the
//!   summary lists them per code). Each PoP cache is sized to hold every
//!   distinct object that PoP served (rounded up to a power of two MiB,
//!   at least 64 MiB): misses are then cold or TTL misses, as in a
//!   well-provisioned CDN; lower it to study capacity.
//! * **Countries**: standard logs carry no viewer country, so each line
//!   counts for the country of its edge location (written as a comment in
//!   the scenario). Countries missing from the viewer table are dropped
//!   from the mix (their requests still count in the rate).
//! * **Devices**: the User-Agent of each line, classified by
//!   [`crate::cflog::device_of_user_agent`]; one mix for all countries.
//! * **Rate**: `requests_per_sec` is the base rate that, multiplied by the
//!   hourly profile over the simulated span, gives as many requests as the
//!   log has (kept) lines. **Time of day**: `[traffic] hourly_profile`,
//!   by UTC hour: requests in each hour of the day divided by the seconds
//!   of that hour the log covers; hours the log does not cover get the
//!   mean of the covered ones. `start_utc_hour` is the log's first second.
//! * **Objects**: grouped into classes (by content type, by extension, or
//!   one class). Per class: `objects` = distinct URIs (`cs-uri-stem`),
//!   `share` = share of requests, `zipf_alpha` = minus the slope of a
//!   least-squares line through (ln rank, ln count) over the head (ranks
//!   whose count is at least 2, at most the first 1,000; singletons are
//!   the sampling floor, not popularity), clamped to [0, 3], 0 when fewer
//!   than 3 such ranks; `size` = lognormal fitted to ln of each URI's
//!   largest `sc-bytes` (p50 = e^mean, p99 = e^(mean + 2.326 sd)), or
//!   fixed when every URI has the same size.
//! * **Duration**: the log's span (last second - first second + 1).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;

use crate::cflog::{AirportCode, CfLogError, CfLogReader, LogLine, LogRecord};
use crate::geo_tables;
use crate::scenario::Device;

/// How URIs are grouped into object classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClassBy {
    /// By `sc-content-type` (images, video, html, static, api, fonts,
    /// other), falling back to the extension when the type is "-".
    #[default]
    ContentType,
    /// By file extension of the URI (`none` without one).
    Extension,
    /// One class for everything.
    None,
}

impl std::str::FromStr for ClassBy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "content-type" => Ok(ClassBy::ContentType),
            "extension" => Ok(ClassBy::Extension),
            "none" => Ok(ClassBy::None),
            other => Err(format!(
                "unknown class grouping \"{other}\" (content-type, extension or none)"
            )),
        }
    }
}

/// Options of the inference.
#[derive(Debug, Clone)]
pub struct Options {
    /// Scenario name.
    pub name: String,
    /// Class grouping.
    pub classes: ClassBy,
    /// Origin location (AWS region code).
    pub origin_location: String,
    /// Cache TTL of every class (not in the logs), seconds.
    pub ttl_secs: u64,
    /// A `[replay]` table naming these log files (relative to the
    /// scenario file), to replay them line by line instead.
    pub replay_logs: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            name: "from-logs".to_owned(),
            classes: ClassBy::ContentType,
            origin_location: "us-east-1".to_owned(),
            ttl_secs: 86_400,
            replay_logs: Vec::new(),
        }
    }
}

/// One inferred object class.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassFit {
    /// Class name.
    pub name: String,
    /// Requests of the class.
    pub requests: u64,
    /// Distinct URIs.
    pub objects: u64,
    /// Fitted Zipf exponent.
    pub zipf_alpha: f64,
    /// Ranks used by the fit.
    pub fit_ranks: usize,
    /// Median size, bytes.
    pub size_p50: u64,
    /// 99th percentile size, bytes (== p50: fixed).
    pub size_p99: u64,
}

/// What was inferred.
#[derive(Debug, Clone, PartialEq)]
pub struct Inferred {
    /// Lines read.
    pub lines: u64,
    /// Lines kept (edge location known).
    pub kept: u64,
    /// Dropped lines per unknown airport code.
    pub unknown_codes: BTreeMap<String, u64>,
    /// First and last second (Unix).
    pub span: (i64, i64),
    /// Duration, seconds.
    pub duration_secs: u64,
    /// Base rate.
    pub requests_per_sec: f64,
    /// Kept lines per PoP airport code.
    pub pops: BTreeMap<String, u64>,
    /// Kept lines per country.
    pub countries: BTreeMap<String, u64>,
    /// Lines per device.
    pub devices: [u64; 4],
    /// Distinct client IPs.
    pub viewers: u64,
    /// Relative rate per UTC hour (mean 1).
    pub hourly_profile: [f64; 24],
    /// Object classes, by name.
    pub classes: Vec<ClassFit>,
    /// Cache size per PoP airport code: room for every distinct object
    /// that PoP served (its largest sc-bytes there), rounded up to a power
    /// of two MiB, at least 64 MiB.
    pub pop_cache_bytes: BTreeMap<String, u64>,
}

/// Why no workload could be inferred.
#[derive(Debug, thiserror::Error)]
pub enum InferError {
    /// Nothing to work with.
    #[error("no usable log lines: {0}")]
    Empty(String),
}

/// The class of a URI under `by`.
pub fn class_of(by: ClassBy, uri: &str, content_type: &str) -> String {
    let ext = extension(uri);
    match by {
        ClassBy::None => "all".to_owned(),
        ClassBy::Extension => ext.unwrap_or_else(|| "none".to_owned()),
        ClassBy::ContentType => {
            let ct = content_type
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            let by_type = if ct.is_empty() || ct == "-" {
                None
            } else if ct.starts_with("image/") {
                Some("images")
            } else if ct.starts_with("video/")
                || ct.starts_with("audio/")
                || ct.contains("mpegurl")
                || ct.contains("dash+xml")
            {
                Some("video")
            } else if ct == "text/html" {
                Some("html")
            } else if ct == "text/css" || ct.contains("javascript") {
                Some("static")
            } else if ct.contains("json") || ct.contains("xml") {
                Some("api")
            } else if ct.starts_with("font/") || ct.contains("font") {
                Some("fonts")
            } else {
                Some("other")
            };
            let by_ext = || match ext.as_deref() {
                Some("jpg" | "jpeg" | "png" | "gif" | "webp" | "avif" | "svg" | "ico") => "images",
                Some("mp4" | "m4s" | "ts" | "m3u8" | "mpd" | "webm" | "mp3" | "aac") => "video",
                Some("html" | "htm") | None => "html",
                Some("css" | "js" | "mjs" | "map") => "static",
                Some("json" | "xml") => "api",
                Some("woff" | "woff2" | "ttf" | "otf") => "fonts",
                Some(_) => "other",
            };
            by_type.unwrap_or_else(by_ext).to_owned()
        }
    }
}

fn extension(uri: &str) -> Option<String> {
    let last = uri.rsplit('/').next().unwrap_or("");
    let (_, ext) = last.rsplit_once('.')?;
    let ext: String = ext
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    (!ext.is_empty() && ext.len() <= 8).then_some(ext)
}

/// Least-squares Zipf exponent over the head of `counts` (sorted
/// descending): minus the slope of ln count against ln rank, over ranks
/// with count >= 2 among the first 1,000. Returns (alpha, ranks used).
pub fn fit_zipf(counts: &[u64]) -> (f64, usize) {
    let head: Vec<(f64, f64)> = counts
        .iter()
        .take(1000)
        .take_while(|&&c| c >= 2)
        .enumerate()
        .map(|(i, &c)| (((i + 1) as f64).ln(), (c as f64).ln()))
        .collect();
    if head.len() < 3 {
        return (0.0, head.len());
    }
    let n = head.len() as f64;
    let mx = head.iter().map(|p| p.0).sum::<f64>() / n;
    let my = head.iter().map(|p| p.1).sum::<f64>() / n;
    let sxy: f64 = head.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sxx: f64 = head.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let alpha = if sxx > 0.0 { -sxy / sxx } else { 0.0 };
    (
        (alpha.clamp(0.0, 3.0) * 1000.0).round() / 1000.0,
        head.len(),
    )
}

/// Lognormal fit of `sizes` (bytes): (p50, p99); equal when all sizes are.
pub fn fit_sizes(sizes: &[u64]) -> (u64, u64) {
    let logs: Vec<f64> = sizes.iter().map(|&s| (s.max(1) as f64).ln()).collect();
    if logs.is_empty() {
        return (1, 1);
    }
    if sizes.iter().all(|&s| s == sizes[0]) {
        return (sizes[0].max(1), sizes[0].max(1));
    }
    let n = logs.len() as f64;
    let mean = logs.iter().sum::<f64>() / n;
    let var = logs.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / n;
    let p50 = mean.exp().round().max(1.0) as u64;
    let p99 = (mean + 2.326_348 * var.sqrt()).exp().round() as u64;
    (p50, p99.max(p50 + 1))
}

/// The workload inference, fed one log line at a time ([`LogFit::add`])
/// and finished with [`LogFit::finish`]: the logs are streamed, never
/// held. Memory grows with the distinct objects, not with the lines: per
/// distinct URI of a class 24 bytes, per distinct (PoP, URI) 16 bytes, per
/// distinct client IP 8 bytes (hash tables, about twice that allocated),
/// so a 10-million-line log of a million objects fits in a few hundred MB.
///
/// URIs and client IPs are kept as 64-bit keys, not as text: an IPv4
/// address is its own key (exact); a URI (or an IPv6 or other address) is
/// [`edgesim_cache::trace::key_for`] of its text. Two distinct URIs
/// sharing a key would count as one object (with the larger size): for n
/// distinct URIs the chance that any pair does is about n² / 2⁶⁵, 3·10⁻⁸
/// for a million and 3·10⁻⁶ for ten million. Every other figure is exact.
#[derive(Debug)]
pub struct LogFit {
    classes: ClassBy,
    lines: u64,
    kept: u64,
    unknown_codes: BTreeMap<String, u64>,
    pops: BTreeMap<String, u64>,
    countries: BTreeMap<String, u64>,
    devices: [u64; 4],
    ips: HashSet<u64, KeyHash>,
    per_class: BTreeMap<String, HashMap<u64, (u64, u64), KeyHash>>,
    /// Per airport code of a kept line, per URI key: its largest sc-bytes.
    pop_objects: BTreeMap<String, HashMap<u64, u64, KeyHash>>,
    hour_counts: [u64; 24],
    first: i64,
    last: i64,
    /// Airport codes looked up in the PoP table so far.
    cities: HashMap<AirportCode, Option<&'static geo_tables::PopCity>>,
}

/// A hasher for keys that are already well-mixed 64-bit hashes (or IPv4
/// addresses, mixed here): the key, multiplied once.
#[derive(Debug, Clone, Copy, Default)]
pub struct KeyHash;

/// [`KeyHash`]'s hasher.
#[derive(Debug, Clone, Copy, Default)]
pub struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (v ^ (v >> 32)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

impl std::hash::BuildHasher for KeyHash {
    type Hasher = KeyHasher;
    fn build_hasher(&self) -> KeyHasher {
        KeyHasher(0)
    }
}

/// The 64-bit key of a client IP: an IPv4 address itself (exact, below
/// 2³²), anything else a hash of its text with the top bit set.
fn ip_key(ip: &str) -> u64 {
    match ip.parse::<std::net::Ipv4Addr>() {
        Ok(v4) => u64::from(u32::from(v4)),
        Err(_) => edgesim_cache::trace::key_for(ip.as_bytes()) | 1 << 63,
    }
}

impl LogFit {
    /// An empty fit grouping URIs by `classes`.
    pub fn new(classes: ClassBy) -> Self {
        LogFit {
            classes,
            lines: 0,
            kept: 0,
            unknown_codes: BTreeMap::new(),
            pops: BTreeMap::new(),
            countries: BTreeMap::new(),
            devices: [0; 4],
            ips: HashSet::with_hasher(KeyHash),
            per_class: BTreeMap::new(),
            pop_objects: BTreeMap::new(),
            hour_counts: [0; 24],
            first: i64::MAX,
            last: i64::MIN,
            cities: HashMap::new(),
        }
    }

    /// Counts one log line.
    pub fn add(&mut self, r: &LogLine<'_>) {
        self.lines += 1;
        let code = r.airport();
        let city = *self
            .cities
            .entry(code)
            .or_insert_with(|| geo_tables::pop_city(code.as_str()));
        let Some(city) = city else {
            *self
                .unknown_codes
                .entry(code.as_str().to_owned())
                .or_default() += 1;
            return;
        };
        self.kept += 1;
        self.first = self.first.min(r.unix_secs);
        self.last = self.last.max(r.unix_secs);
        count(&mut self.pops, city.code);
        if geo_tables::country(city.country).is_some() {
            count(&mut self.countries, city.country);
        }
        self.devices[r.device() as usize] += 1;
        self.ips.insert(ip_key(r.client_ip));
        self.hour_counts[(r.unix_secs.rem_euclid(86_400) / 3600) as usize] += 1;
        let key = edgesim_cache::trace::key_for(r.uri_stem.as_bytes());
        let class = class_of(self.classes, r.uri_stem, r.content_type);
        let uris = match self.per_class.get_mut(&class) {
            Some(uris) => uris,
            None => self
                .per_class
                .entry(class)
                .or_insert_with(|| HashMap::with_hasher(KeyHash)),
        };
        let entry = uris.entry(key).or_default();
        entry.0 += 1;
        entry.1 = entry.1.max(r.sc_bytes);
        let objects = match self.pop_objects.get_mut(code.as_str()) {
            Some(objects) => objects,
            None => self
                .pop_objects
                .entry(code.as_str().to_owned())
                .or_insert_with(|| HashMap::with_hasher(KeyHash)),
        };
        let size = objects.entry(key).or_default();
        *size = (*size).max(r.sc_bytes);
    }

    /// Adds every line of the log files `paths`, in order; a bad line is
    /// an error naming its file and line.
    pub fn add_files(&mut self, paths: &[std::path::PathBuf]) -> Result<(), CfLogError> {
        for path in paths {
            let mut reader = CfLogReader::open(path)?;
            while let Some(line) = reader.next_line()? {
                self.add(&line);
            }
        }
        Ok(())
    }

    /// The inferred workload.
    pub fn finish(self) -> Result<Inferred, InferError> {
        let LogFit {
            lines,
            kept,
            unknown_codes,
            pops,
            countries,
            devices,
            ips,
            per_class,
            pop_objects,
            hour_counts,
            first,
            last,
            ..
        } = self;
        if lines == 0 {
            return Err(InferError::Empty("the logs have no records".to_owned()));
        }
        if kept == 0 {
            return Err(InferError::Empty(format!(
                "no edge location is in the built-in PoP table (codes seen: {})",
                unknown_codes.keys().cloned().collect::<Vec<_>>().join(", ")
            )));
        }
        if countries.is_empty() {
            return Err(InferError::Empty(
                "no edge location's country is in the viewer country table".to_owned(),
            ));
        }
        let duration_secs = (last - first + 1) as u64;
        // Seconds of each UTC hour of the day that [first, last] covers.
        let mut cover = [0u64; 24];
        let day_start = first - first.rem_euclid(86_400);
        let mut t = first;
        while t <= last {
            let hour_end = day_start + (t - day_start) / 3600 * 3600 + 3600;
            let upto = hour_end.min(last + 1);
            cover[(t.rem_euclid(86_400) / 3600) as usize] += (upto - t) as u64;
            t = upto;
        }
        let mut rate = [0.0f64; 24];
        let mut covered = Vec::new();
        for h in 0..24 {
            if cover[h] > 0 {
                rate[h] = hour_counts[h] as f64 / cover[h] as f64;
                covered.push(rate[h]);
            }
        }
        let covered_mean = covered.iter().sum::<f64>() / covered.len() as f64;
        for h in 0..24 {
            if cover[h] == 0 {
                rate[h] = covered_mean;
            }
        }
        let day_mean = rate.iter().sum::<f64>() / 24.0;
        let mut hourly_profile = [1.0; 24];
        if day_mean > 0.0 {
            for h in 0..24 {
                hourly_profile[h] = (rate[h] / day_mean * 10_000.0).round() / 10_000.0;
            }
        }
        // Base rate: the profile over the covered seconds gives `kept` requests.
        let weighted: f64 = (0..24).map(|h| cover[h] as f64 * hourly_profile[h]).sum();
        let requests_per_sec = if weighted > 0.0 {
            kept as f64 / weighted
        } else {
            kept as f64 / duration_secs as f64
        };
        let classes = per_class
            .into_iter()
            .map(|(name, uris)| {
                let requests = uris.values().map(|v| v.0).sum();
                let mut counts: Vec<u64> = uris.values().map(|v| v.0).collect();
                counts.sort_unstable_by(|a, b| b.cmp(a));
                let (zipf_alpha, fit_ranks) = fit_zipf(&counts);
                let mut sizes: Vec<u64> = uris.values().map(|v| v.1).collect();
                sizes.sort_unstable();
                let (size_p50, size_p99) = fit_sizes(&sizes);
                ClassFit {
                    name,
                    requests,
                    objects: uris.len() as u64,
                    zipf_alpha,
                    fit_ranks,
                    size_p50,
                    size_p99,
                }
            })
            .collect();
        let pop_cache_bytes = pops
            .keys()
            .map(|code| {
                let bytes: u64 = pop_objects.get(code).map_or(0, |o| o.values().sum());
                let mib = bytes.div_ceil(1 << 20).max(64).next_power_of_two();
                (code.clone(), mib << 20)
            })
            .collect();
        Ok(Inferred {
            lines,
            kept,
            unknown_codes,
            span: (first, last),
            duration_secs,
            requests_per_sec,
            pops,
            countries,
            devices,
            viewers: ips.len() as u64,
            hourly_profile,
            classes,
            pop_cache_bytes,
        })
    }
}

/// Adds one to `map[key]`, allocating the key only the first time.
fn count(map: &mut BTreeMap<String, u64>, key: &str) {
    match map.get_mut(key) {
        Some(n) => *n += 1,
        None => {
            map.insert(key.to_owned(), 1);
        }
    }
}

/// Infers the workload of `records` (with the index of their file): a
/// [`LogFit`] fed every record.
pub fn infer(records: &[(usize, LogRecord)], options: &Options) -> Result<Inferred, InferError> {
    let mut fit = LogFit::new(options.classes);
    for (_, r) in records {
        fit.add(&r.as_line());
    }
    fit.finish()
}

fn utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // civil_from_days
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// The scenario text for `inferred` (a TOML file with comments).
pub fn scenario_text(inferred: &Inferred, options: &Options) -> String {
    let mut s = String::new();
    let w = &mut s;
    let _ = writeln!(
        w,
        "# Inferred by `edgesim workload from-logs` from {} CloudFront log lines ({} kept) \
         spanning {} .. {}.",
        inferred.lines,
        inferred.kept,
        utc(inferred.span.0),
        utc(inferred.span.1)
    );
    if !inferred.unknown_codes.is_empty() {
        let list: Vec<String> = inferred
            .unknown_codes
            .iter()
            .map(|(c, n)| format!("{c} ({n})"))
            .collect();
        let _ = writeln!(
            w,
            "# Dropped lines of edge locations not in the PoP table: {}.",
            list.join(", ")
        );
    }
    let _ = writeln!(w, "name = {:?}", options.name);
    let _ = writeln!(
        w,
        "description = \"Workload inferred from CloudFront standard logs: {} requests over {} s.\"",
        inferred.kept, inferred.duration_secs
    );
    let _ = writeln!(w, "\n[simulation]");
    let _ = writeln!(
        w,
        "duration_secs = {}  # the log's time span",
        inferred.duration_secs
    );
    // About 600 epochs at most: whole seconds between 1 s and 60 s.
    let epoch_ms = (inferred.duration_secs / 600).clamp(1, 60) * 1000;
    let _ = writeln!(w, "epoch_ms = {epoch_ms}\nseed = 1");
    for code in inferred.pops.keys() {
        let _ = writeln!(
            w,
            "\n[[pops]]  # {} log lines\nid = \"{}\"\ncity = \"{code}\"\ncache_bytes = \"{}MiB\"  # holds every distinct object this PoP served",
            inferred.pops[code],
            code.to_ascii_lowercase(),
            inferred
                .pop_cache_bytes
                .get(code)
                .copied()
                .unwrap_or(64 << 20)
                >> 20
        );
    }
    let _ = writeln!(
        w,
        "\n[[origins]]\nid = \"origin\"\nkind = \"custom\"\nlocation = {:?}  # not in the logs: set it",
        options.origin_location
    );
    let _ = writeln!(
        w,
        "\n# Object classes by {}: objects = distinct URIs, share = share of requests,\n\
         # zipf_alpha = least-squares slope of ln(count) over ln(rank) on the head\n\
         # (ranks requested at least twice, first 1000), size = lognormal fitted to\n\
         # ln(largest sc-bytes per URI) (fixed when all equal). TTLs are not in the logs.",
        match options.classes {
            ClassBy::ContentType => "content type (extension when '-')",
            ClassBy::Extension => "extension",
            ClassBy::None => "nothing (one class)",
        }
    );
    let total = inferred.kept as f64;
    for c in &inferred.classes {
        let size = if c.size_p50 == c.size_p99 {
            format!("{}", c.size_p50)
        } else {
            format!(
                "{{ dist = \"lognormal\", p50 = {}, p99 = {} }}",
                c.size_p50, c.size_p99
            )
        };
        let _ = writeln!(
            w,
            "\n[[catalog.classes]]  # {} requests; alpha fitted on {} ranks\nname = \"{}\"\nshare = {:.6}\nobjects = {}\nzipf_alpha = {}\nsize = {size}\nttl_secs = {}\npath_prefix = \"/{}/\"",
            c.requests,
            c.fit_ranks,
            c.name,
            c.requests as f64 / total,
            c.objects,
            c.zipf_alpha,
            options.ttl_secs,
            c.name
        );
    }
    let _ = writeln!(
        w,
        "\n[viewers]\n# Standard logs carry no viewer country: each request counts for the\n\
         # country of the edge location that served it. Devices from User-Agents.\n\
         requests_per_sec = {:.6}  # base rate; x hourly_profile gives the log's {} requests\n\
         population = {}  # distinct client IPs",
        inferred.requests_per_sec,
        inferred.kept,
        inferred.viewers.max(1)
    );
    let countries: Vec<String> = inferred
        .countries
        .iter()
        .map(|(c, n)| format!("{c} = {:.6}", *n as f64 / total))
        .collect();
    let _ = writeln!(w, "countries = {{ {} }}", countries.join(", "));
    let dev_total: u64 = inferred.devices.iter().sum();
    let devs: Vec<String> = Device::ALL
        .iter()
        .filter(|d| inferred.devices[**d as usize] > 0)
        .map(|d| {
            format!(
                "{} = {:.6}",
                d.name(),
                inferred.devices[*d as usize] as f64 / dev_total as f64
            )
        })
        .collect();
    let _ = writeln!(w, "devices = {{ {} }}", devs.join(", "));
    let start_hour = inferred.span.0.rem_euclid(86_400) as f64 / 3600.0;
    let profile: Vec<String> = inferred
        .hourly_profile
        .iter()
        .map(|v| format!("{v}"))
        .collect();
    let _ = writeln!(
        w,
        "\n[traffic]\nstart_utc_hour = {:.4}  # the log's first request\n\
         # Relative rate per UTC hour 0..23 (mean 1); hours the log does not cover\n\
         # get the mean of those it does.\nhourly_profile = [{}]",
        start_hour,
        profile.join(", ")
    );
    if !options.replay_logs.is_empty() {
        let logs: Vec<String> = options
            .replay_logs
            .iter()
            .map(|l| format!("{l:?}"))
            .collect();
        let _ = writeln!(
            w,
            "\n# Uncomment to replay the log line by line instead of the synthetic viewers:\n\
             # [replay]\n# logs = [{}]",
            logs.join(", ")
        );
    }
    s
}

/// A short human summary of `inferred`.
pub fn summary(inferred: &Inferred) -> String {
    let mut s = String::new();
    let w = &mut s;
    let _ = writeln!(
        w,
        "{} lines, {} kept, span {} .. {} ({} s), {:.3} requests/s on average",
        inferred.lines,
        inferred.kept,
        utc(inferred.span.0),
        utc(inferred.span.1),
        inferred.duration_secs,
        inferred.kept as f64 / inferred.duration_secs as f64
    );
    for (code, n) in &inferred.unknown_codes {
        let _ = writeln!(
            w,
            "warning: edge location code {code} is not in the PoP table: {n} lines dropped"
        );
    }
    let pops: Vec<String> = inferred
        .pops
        .iter()
        .map(|(c, n)| format!("{c} {n}"))
        .collect();
    let _ = writeln!(w, "PoPs: {}", pops.join(", "));
    let total = inferred.kept as f64;
    let countries: Vec<String> = inferred
        .countries
        .iter()
        .map(|(c, n)| format!("{c} {:.1}%", *n as f64 / total * 100.0))
        .collect();
    let _ = writeln!(
        w,
        "countries (of the edge locations): {}",
        countries.join(", ")
    );
    let devs: Vec<String> = Device::ALL
        .iter()
        .map(|d| {
            format!(
                "{} {:.1}%",
                d.name(),
                inferred.devices[*d as usize] as f64 / total * 100.0
            )
        })
        .collect();
    let _ = writeln!(
        w,
        "devices: {}; {} distinct client IPs",
        devs.join(", "),
        inferred.viewers
    );
    let (peak, _) = inferred
        .hourly_profile
        .iter()
        .enumerate()
        .fold((0, f64::MIN), |b, (h, &v)| if v > b.1 { (h, v) } else { b });
    let _ = writeln!(
        w,
        "time of day: peak at {peak:02}:00 UTC ({:.2}x the daily mean)",
        inferred.hourly_profile[peak]
    );
    let _ = writeln!(w, "classes:");
    for c in &inferred.classes {
        let size = if c.size_p50 == c.size_p99 {
            format!("{} B fixed", c.size_p50)
        } else {
            format!("lognormal p50 {} B p99 {} B", c.size_p50, c.size_p99)
        };
        let _ = writeln!(
            w,
            "  {:<8} {:>5.1}% of requests, {} objects, zipf {} ({} ranks), {size}",
            c.name,
            c.requests as f64 / total * 100.0,
            c.objects,
            c.zipf_alpha,
            c.fit_ranks
        );
    }
    s
}

/// Options of [`sample_log`].
#[derive(Debug, Clone)]
pub struct SampleOptions {
    /// Lines to write.
    pub lines: u64,
    /// Mean request rate, per second (the span is lines / rate).
    pub requests_per_sec: f64,
    /// First second (Unix).
    pub start_unix_secs: i64,
    /// Seed.
    pub seed: u64,
    /// Also write a few lines of an edge location not in the PoP table.
    pub unknown_location: bool,
    /// Multiplies the objects of every class (1: 3,350 objects in all);
    /// for big benchmark logs with many distinct objects.
    pub objects_scale: u64,
}

impl Default for SampleOptions {
    fn default() -> Self {
        SampleOptions {
            lines: 4000,
            requests_per_sec: 1.0,
            start_unix_secs: 1_709_251_200, // 2024-03-01T00:00:00Z
            seed: 1,
            unknown_location: true,
            objects_scale: 1,
        }
    }
}

/// A synthetic CloudFront standard log (plain text, with the header): five
/// edge locations (FRA, LHR, IAD, NRT, CDG; and XYZ, unknown, if asked),
/// four content classes with Zipf popularity and per-URI sizes, a
/// diurnal rate (peak 20:00 UTC, swing 0.5), User-Agents of every device
/// class. Deterministic for given options. For tests and demos.
pub fn sample_log(options: &SampleOptions) -> String {
    let mut out = Vec::new();
    // Writing to memory cannot fail.
    let _ = write_sample_log(options, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// [`sample_log`] written line by line to `out` (any number of lines in
/// constant memory, apart from the Zipf tables of the classes).
pub fn write_sample_log<W: std::io::Write + ?Sized>(
    options: &SampleOptions,
    out: &mut W,
) -> std::io::Result<()> {
    use rand::{Rng, SeedableRng};
    const EDGES: &[(&str, f64)] = &[
        ("FRA56-C1", 0.3),
        ("LHR61-P2", 0.2),
        ("IAD89-C3", 0.25),
        ("NRT57-C2", 0.1),
        ("CDG50-C1", 0.15),
    ];
    // (prefix, extension, content type, objects, zipf, median size, share)
    const CLASSES: &[(&str, &str, &str, u64, f64, f64, f64)] = &[
        (
            "/images/img-",
            "jpg",
            "image/jpeg",
            2000,
            0.9,
            40_000.0,
            0.55,
        ),
        (
            "/static/app-",
            "js",
            "application/javascript",
            50,
            1.1,
            120_000.0,
            0.2,
        ),
        (
            "/video/seg-",
            "ts",
            "video/mp2t",
            800,
            0.7,
            1_000_000.0,
            0.1,
        ),
        (
            "/api/item-",
            "json",
            "application/json",
            500,
            0.8,
            2_000.0,
            0.15,
        ),
    ];
    const UAS: &[&str] = &[
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36",
        "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (SMART-TV; LINUX; Tizen 6.5) AppleWebKit/537.36 (KHTML, like Gecko) TV Safari/537.36",
    ];
    const UA_WEIGHTS: &[f64] = &[0.3, 0.15, 0.2, 0.2, 0.1, 0.05];
    let pick = |weights: &mut dyn Iterator<Item = f64>, u: f64| -> usize {
        let mut acc = 0.0;
        let mut last = 0;
        for (i, w) in weights.enumerate() {
            acc += w;
            last = i;
            if u < acc {
                return i;
            }
        }
        last
    };
    let cdfs: Vec<Vec<f64>> = CLASSES
        .iter()
        .map(|c| {
            let mut acc = 0.0;
            let mut v: Vec<f64> = (1..=c.3 * options.objects_scale.max(1))
                .map(|r| {
                    acc += 1.0 / (r as f64).powf(c.4);
                    acc
                })
                .collect();
            let total = acc;
            v.iter_mut().for_each(|x| *x /= total);
            v
        })
        .collect();
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(options.seed);
    out.write_all(crate::cflog::standard_header().as_bytes())?;
    let mut line = String::new();
    let mut t = 0.0f64;
    for i in 0..options.lines {
        let now = options.start_unix_secs as f64 + t;
        let hour = now.rem_euclid(86_400.0) / 3600.0;
        let rate = options.requests_per_sec
            * (1.0 + 0.5 * ((hour - 20.0) / 24.0 * std::f64::consts::TAU).cos());
        let u: f64 = rng.random::<f64>();
        t += -(1.0 - u).ln() / rate.max(1e-9);
        let secs = options.start_unix_secs + t as i64;
        let edge = if options.unknown_location && i % 97 == 13 {
            "XYZ1-C1"
        } else {
            EDGES[pick(&mut EDGES.iter().map(|e| e.1), rng.random())].0
        };
        let class = pick(&mut CLASSES.iter().map(|c| c.6), rng.random());
        let c = &CLASSES[class];
        let u: f64 = rng.random();
        let rank = cdfs[class].partition_point(|&x| x < u) as u64 + 1;
        let uri = format!("{}{rank}.{}", c.0, c.1);
        // A stable size per URI: lognormal around the class median.
        let h = crate::rng::mix64(crate::rng::mix64(class as u64) ^ rank);
        let z = (crate::rng::unit_f64(h) - 0.5) * 3.0;
        let size = (c.5 * z.exp()).round() as u64 + 300;
        let ua = UAS[pick(&mut UA_WEIGHTS.iter().copied(), rng.random())];
        let ip = format!(
            "198.51.{}.{}",
            rng.random_range(0..4u32),
            rng.random_range(1..255u32)
        );
        let hit = if rng.random::<f64>() < 0.8 {
            "Hit"
        } else {
            "Miss"
        };
        let (date, clock) = {
            let s = utc(secs);
            (s[..10].to_owned(), s[11..19].to_owned())
        };
        let f: [&str; 33] = [
            &date,
            &clock,
            edge,
            &size.to_string(),
            &ip,
            "GET",
            "d111111abcdef8.cloudfront.net",
            &uri,
            "200",
            "-",
            &crate::cflog::url_encode_user_agent(ua),
            "-",
            "-",
            hit,
            "SOX4xwn4XV6Q4rgb7XiVGOHms_BGlTAC4KyHmureZmBNrjGdRLiNIQ==",
            "d111111abcdef8.cloudfront.net",
            "https",
            "180",
            "0.004",
            "-",
            "TLSv1.3",
            "TLS_AES_128_GCM_SHA256",
            hit,
            "HTTP/2.0",
            "-",
            "-",
            "50000",
            "0.003",
            hit,
            c.2,
            &(size - 300).to_string(),
            "-",
            "-",
        ];
        line.clear();
        for (i, field) in f.iter().enumerate() {
            if i > 0 {
                line.push('\t');
            }
            line.push_str(field);
        }
        line.push('\n');
        out.write_all(line.as_bytes())?;
    }
    Ok(())
}

/// Writes a log to `path` with `write`, gzip-compressed when the name ends
/// in `.gz` and zstd-compressed when it ends in `.zst` (both at a fast
/// level), buffered.
pub fn write_log_with(
    path: &std::path::Path,
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    use std::io::Write;
    let file = std::io::BufWriter::with_capacity(1 << 16, std::fs::File::create(path)?);
    match path.extension().and_then(|e| e.to_str()) {
        Some("gz") => {
            let mut enc = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
            write(&mut enc)?;
            enc.finish()?.flush()
        }
        Some("zst") => {
            let mut enc = zstd::stream::write::Encoder::new(file, 1)?;
            write(&mut enc)?;
            enc.finish()?.flush()
        }
        _ => {
            let mut file = file;
            write(&mut file)?;
            file.flush()
        }
    }
}

/// Writes log text to `path`, gzip-compressed when the name ends in `.gz`.
pub fn write_log(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let file = std::fs::File::create(path)?;
    if path.extension().is_some_and(|e| e == "gz") {
        let mut enc = flate2::write::GzEncoder::new(file, flate2::Compression::default());
        enc.write_all(text.as_bytes())?;
        enc.finish()?;
        Ok(())
    } else {
        let mut file = file;
        file.write_all(text.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(text: &str) -> Vec<(usize, LogRecord)> {
        crate::cflog::CfLogReader::from_reader("s.log", std::io::Cursor::new(text.to_owned()))
            .unwrap()
            .map(|r| (0, r.unwrap()))
            .collect()
    }

    #[test]
    fn a_sample_log_gives_a_valid_scenario_with_its_day_curve() {
        // 12 h of a curve peaking at 20:00 UTC, from midnight.
        let text = sample_log(&SampleOptions {
            lines: 3000,
            requests_per_sec: 0.1,
            ..SampleOptions::default()
        });
        let recs = records(&text);
        let options = Options::default();
        let inferred = infer(&recs, &options).unwrap();
        assert_eq!(inferred.lines, 3000);
        assert_eq!(inferred.kept + inferred.unknown_codes["XYZ"], 3000);
        assert_eq!(inferred.pops.len(), 5);
        // Falling from midnight to noon.
        let p = inferred.hourly_profile;
        assert!(p[0] > 1.3 * p[8], "{p:?}");
        let scenario =
            crate::Scenario::from_toml("x.toml", &scenario_text(&inferred, &options)).unwrap();
        let t = scenario.traffic;
        assert!(t.hourly_profile.is_some());
        // The expected number of requests equals the log's.
        let epochs = scenario.simulation.epochs();
        let expected: f64 = (0..epochs)
            .map(|k| {
                let span = scenario.simulation.epoch_span(k);
                scenario.viewers.requests_per_sec
                    * t.multiplier(span.start, 0.0)
                    * (span.end - span.start) as f64
                    / 1e6
            })
            .sum();
        assert!(
            (expected - inferred.kept as f64).abs() < 0.02 * inferred.kept as f64,
            "{expected} vs {}",
            inferred.kept
        );
        let names: Vec<&str> = inferred.classes.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["api", "images", "static", "video"]);
    }

    #[test]
    fn hourly_profile_is_checked_and_applied_by_utc_hour() {
        let base = "[simulation]\nduration_secs = 10\n[[pops]]\nid = \"f\"\ncity = \"FRA\"\ncache_bytes = 1000\n[[origins]]\nid = \"o\"\nkind = \"s3\"\nlocation = \"us-east-1\"\n[catalog]\nobjects = 1\nzipf_alpha = 1.0\nsize = 1\n[viewers]\nrequests_per_sec = 1\ncountries = { DE = 1 }\n[traffic]\nstart_utc_hour = 1.5\n";
        let mut profile = vec![1.0; 24];
        profile[1] = 2.0;
        profile[2] = 0.0;
        let ok = format!("{base}hourly_profile = {profile:?}\n");
        let s = crate::Scenario::from_toml("x.toml", &ok).unwrap();
        let m = |h: f64| s.traffic.multiplier((h * 3.6e9) as u64, 5.0);
        // Mean 1 over the day: 24 / 24.
        assert!((m(0.0) - 2.0).abs() < 1e-9);
        assert!((m(0.6) - 0.0).abs() < 1e-9);
        assert!((m(1.6) - 1.0).abs() < 1e-9);
        let short = format!("{base}hourly_profile = [1.0, 2.0]\n");
        let e = crate::Scenario::from_toml("x.toml", &short)
            .unwrap_err()
            .to_string();
        assert!(e.contains("hourly_profile must have 24 values"), "{e}");
        let both = format!("{base}diurnal_amplitude = 0.5\nhourly_profile = {profile:?}\n");
        let e = crate::Scenario::from_toml("x.toml", &both)
            .unwrap_err()
            .to_string();
        assert!(e.contains("not both"), "{e}");
    }

    #[test]
    fn zipf_fit_recovers_the_exponent() {
        let counts: Vec<u64> = (1..=500)
            .map(|r| (100_000.0 / (r as f64).powf(0.8)).round() as u64)
            .collect();
        let (alpha, n) = fit_zipf(&counts);
        assert!((alpha - 0.8).abs() < 0.01, "{alpha}");
        assert_eq!(n, 500);
        assert_eq!(fit_zipf(&[1, 1, 1]), (0.0, 0));
    }

    #[test]
    fn size_fit() {
        assert_eq!(fit_sizes(&[100, 100]), (100, 100));
        let (p50, p99) = fit_sizes(&[100, 1000, 10_000]);
        assert_eq!(p50, 1000);
        assert!(p99 > 10_000);
    }

    #[test]
    fn classes_and_dates() {
        assert_eq!(class_of(ClassBy::ContentType, "/a/b.JPG", "-"), "images");
        assert_eq!(
            class_of(
                ClassBy::ContentType,
                "/a/b",
                "application/json; charset=utf-8"
            ),
            "api"
        );
        assert_eq!(class_of(ClassBy::Extension, "/a/b.JPG", "-"), "jpg");
        assert_eq!(class_of(ClassBy::Extension, "/a.b/c", "-"), "none");
        assert_eq!(utc(1_575_493_351), "2019-12-04T21:02:31Z");
    }
}
