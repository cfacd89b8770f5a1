//! CloudFront standard (access) log reader, streaming: full records, not just the
//! key and size the cache replayer needs (that lighter reader lives in
//! `edgesim_cache::trace`).
//!
//! A standard log is tab-separated text, gzip-compressed as CloudFront
//! delivers it (plain text and zstd are accepted too: the reader looks at
//! the magic bytes, not the name). [`CfLogReader::next_line`] hands out
//! each line borrowed from the reader's buffers, so reading allocates
//! nothing per line. `#Version:` and `#Fields:` comment lines come
//! first; the `#Fields:` line names the columns, and this reader takes the
//! column of every field from it, so files with fields reordered, missing
//! (older logs have fewer) or added read the same. A file may carry
//! several `#Fields:` lines (concatenated logs); each applies to the
//! records after it.
//!
//! Required fields: `date`, `time`, `x-edge-location`, `cs-uri-stem` and
//! `sc-bytes`. Every other field is optional and read as "-" when absent.
//! `cs(User-Agent)` is URL-encoded in the logs (spaces as `%20`); the
//! reader decodes it once. Errors name the file and the line; a line
//! longer than [`MAX_LINE_BYTES`] (64 KiB) is an error, so a file without
//! line breaks or a gzip bomb is refused in bounded memory, and values
//! quoted in errors are escaped and cut ([`excerpt`]).

use std::fs::File;
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};

use edgesim_cache::input::{Line, MAX_LINE_BYTES, excerpt, read_line_capped};

use crate::scenario::Device;

/// Log records the input-limit estimate assumes for a `[replay]` (it
/// does not read the logs). The readers themselves have no cap: every
/// user of them streams.
pub const MAX_RECORDS: usize = 4_000_000;

/// One log line.
#[derive(Debug, Clone, PartialEq)]
pub struct LogRecord {
    /// Seconds since the Unix epoch (UTC), from `date` and `time`.
    pub unix_secs: i64,
    /// `x-edge-location`, e.g. `FRA56-C1`.
    pub edge_location: String,
    /// `sc-bytes`: bytes sent to the viewer, headers included.
    pub sc_bytes: u64,
    /// `c-ip`.
    pub client_ip: String,
    /// `cs-method`.
    pub method: String,
    /// `cs(Host)`: the distribution's domain.
    pub host: String,
    /// `cs-uri-stem`: the path, without the query string.
    pub uri_stem: String,
    /// `sc-status` (0 when "-", e.g. a dropped connection).
    pub status: u16,
    /// `cs(Referer)`.
    pub referer: String,
    /// `cs(User-Agent)`, URL-decoded.
    pub user_agent: String,
    /// `cs-uri-query` ("-" when none).
    pub uri_query: String,
    /// `x-edge-result-type`: Hit, RefreshHit, Miss, Error, ...
    pub result_type: String,
    /// `x-edge-response-result-type`.
    pub response_result_type: String,
    /// `cs-protocol`: http, https, ws, wss.
    pub protocol: String,
    /// `time-taken`, seconds, if given.
    pub time_taken_secs: Option<f64>,
    /// `time-to-first-byte`, seconds, if given.
    pub time_to_first_byte_secs: Option<f64>,
    /// `sc-content-type` ("-" when none).
    pub content_type: String,
    /// `sc-content-len`, if given.
    pub content_len: Option<u64>,
    /// Line number in its file (1-based).
    pub line: u64,
}

/// One log line, borrowed from the reader's buffers (valid until the next
/// call): what [`CfLogReader::next_line`] returns without allocating.
/// [`LogLine::to_record`] makes the owned [`LogRecord`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogLine<'a> {
    /// Seconds since the Unix epoch (UTC), from `date` and `time`.
    pub unix_secs: i64,
    /// `x-edge-location`.
    pub edge_location: &'a str,
    /// `sc-bytes`.
    pub sc_bytes: u64,
    /// `c-ip`.
    pub client_ip: &'a str,
    /// `cs-method`.
    pub method: &'a str,
    /// `cs(Host)`.
    pub host: &'a str,
    /// `cs-uri-stem`.
    pub uri_stem: &'a str,
    /// `sc-status` (0 when "-").
    pub status: u16,
    /// `cs(Referer)`.
    pub referer: &'a str,
    /// `cs(User-Agent)`, URL-decoded.
    pub user_agent: &'a str,
    /// `cs-uri-query`.
    pub uri_query: &'a str,
    /// `x-edge-result-type`.
    pub result_type: &'a str,
    /// `x-edge-response-result-type`.
    pub response_result_type: &'a str,
    /// `cs-protocol`.
    pub protocol: &'a str,
    /// `time-taken`, seconds.
    pub time_taken_secs: Option<f64>,
    /// `time-to-first-byte`, seconds.
    pub time_to_first_byte_secs: Option<f64>,
    /// `sc-content-type`.
    pub content_type: &'a str,
    /// `sc-content-len`.
    pub content_len: Option<u64>,
    /// Line number in its file (1-based).
    pub line: u64,
}

impl LogLine<'_> {
    /// The owned record.
    pub fn to_record(&self) -> LogRecord {
        LogRecord {
            unix_secs: self.unix_secs,
            edge_location: self.edge_location.to_owned(),
            sc_bytes: self.sc_bytes,
            client_ip: self.client_ip.to_owned(),
            method: self.method.to_owned(),
            host: self.host.to_owned(),
            uri_stem: self.uri_stem.to_owned(),
            status: self.status,
            referer: self.referer.to_owned(),
            user_agent: self.user_agent.to_owned(),
            uri_query: self.uri_query.to_owned(),
            result_type: self.result_type.to_owned(),
            response_result_type: self.response_result_type.to_owned(),
            protocol: self.protocol.to_owned(),
            time_taken_secs: self.time_taken_secs,
            time_to_first_byte_secs: self.time_to_first_byte_secs,
            content_type: self.content_type.to_owned(),
            content_len: self.content_len,
            line: self.line,
        }
    }

    /// The viewer's device class, from the User-Agent.
    pub fn device(&self) -> Device {
        device_of_user_agent(self.user_agent)
    }

    /// The airport code of the edge location, without allocating
    /// ([`AirportCode`]).
    pub fn airport(&self) -> AirportCode {
        AirportCode::of(self.edge_location)
    }
}

/// The IATA code of an `x-edge-location` (its leading letters, three at
/// most, uppercase) held inline: what [`airport_code`] returns, as a key
/// that costs no allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AirportCode {
    bytes: [u8; 3],
    len: u8,
}

impl AirportCode {
    /// The code of `edge_location`.
    pub fn of(edge_location: &str) -> Self {
        let mut bytes = [0u8; 3];
        let mut len = 0;
        for b in edge_location.bytes().take(3) {
            if !b.is_ascii_alphabetic() {
                break;
            }
            bytes[len] = b.to_ascii_uppercase();
            len += 1;
        }
        AirportCode {
            bytes,
            len: len as u8,
        }
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        // Only ASCII letters are stored.
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }
}

impl LogRecord {
    /// The record as a borrowed [`LogLine`].
    pub fn as_line(&self) -> LogLine<'_> {
        LogLine {
            unix_secs: self.unix_secs,
            edge_location: &self.edge_location,
            sc_bytes: self.sc_bytes,
            client_ip: &self.client_ip,
            method: &self.method,
            host: &self.host,
            uri_stem: &self.uri_stem,
            status: self.status,
            referer: &self.referer,
            user_agent: &self.user_agent,
            uri_query: &self.uri_query,
            result_type: &self.result_type,
            response_result_type: &self.response_result_type,
            protocol: &self.protocol,
            time_taken_secs: self.time_taken_secs,
            time_to_first_byte_secs: self.time_to_first_byte_secs,
            content_type: &self.content_type,
            content_len: self.content_len,
            line: self.line,
        }
    }

    /// The IATA airport code of the edge location: its first three letters,
    /// uppercase (`FRA56-C1` -> `FRA`).
    pub fn airport_code(&self) -> String {
        airport_code(&self.edge_location)
    }

    /// The viewer's device class, from the User-Agent.
    pub fn device(&self) -> Device {
        device_of_user_agent(&self.user_agent)
    }
}

/// The IATA code in an `x-edge-location` value: its leading letters (three,
/// normally), uppercase.
pub fn airport_code(edge_location: &str) -> String {
    edge_location
        .chars()
        .take_while(char::is_ascii_alphabetic)
        .take(3)
        .collect::<String>()
        .to_ascii_uppercase()
}

/// Device class of a User-Agent string: smart TVs and streaming sticks
/// first (their strings often also say "Android" or "Mobile"), then
/// tablets (iPad, Android without "Mobile", Kindle), then phones, and
/// everything else (browsers on computers, bots, "-") as desktop.
pub fn device_of_user_agent(ua: &str) -> Device {
    let has = |s: &str| ua.contains(s);
    if has("SMART-TV")
        || has("SmartTV")
        || has("Smart-TV")
        || has("Web0S")
        || has("Tizen")
        || has("Roku")
        || has("AppleTV")
        || has("; AFT")
        || has("CrKey")
        || has("BRAVIA")
        || has("HbbTV")
    {
        Device::SmartTv
    } else if has("iPad")
        || has("Tablet")
        || has("Silk/")
        || has("; KF")
        || (has("Android") && !has("Mobile"))
    {
        Device::Tablet
    } else if has("Mobile") || has("iPhone") || has("Android") {
        Device::Mobile
    } else {
        Device::Desktop
    }
}

/// A problem reading a log file.
#[derive(Debug, thiserror::Error)]
#[error("{}:{line}: {message}", path.display())]
pub struct CfLogError {
    /// The file.
    pub path: PathBuf,
    /// The line (0: the file as a whole, e.g. it cannot be opened).
    pub line: u64,
    /// What is wrong.
    pub message: String,
}

#[derive(Debug, Clone, Copy, Default)]
struct Columns {
    date: usize,
    time: usize,
    edge: usize,
    bytes: usize,
    uri_stem: usize,
    ip: Option<usize>,
    method: Option<usize>,
    host: Option<usize>,
    status: Option<usize>,
    referer: Option<usize>,
    user_agent: Option<usize>,
    query: Option<usize>,
    result: Option<usize>,
    response_result: Option<usize>,
    protocol: Option<usize>,
    time_taken: Option<usize>,
    ttfb: Option<usize>,
    content_type: Option<usize>,
    content_len: Option<usize>,
    /// Columns a record must have: one more than the largest required index.
    needed: usize,
}

/// Reads one log file record by record, streaming: memory is the read
/// buffers and one line, whatever the file's length.
pub struct CfLogReader {
    path: PathBuf,
    source: Box<dyn BufRead + Send>,
    line: u64,
    columns: Option<Columns>,
    buffer: Vec<u8>,
    /// The current line as text (the read buffer moved in, or a lossy
    /// copy when it is not UTF-8).
    text: String,
    /// Field ranges of the current line.
    fields: Vec<(usize, usize)>,
    /// The URL-decoded User-Agent of the current line.
    user_agent: String,
    /// The last `date` field and its day number (most lines repeat it).
    last_date: Vec<u8>,
    last_days: i64,
}

impl std::fmt::Debug for CfLogReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CfLogReader")
            .field("path", &self.path)
            .field("line", &self.line)
            .finish_non_exhaustive()
    }
}

impl CfLogReader {
    /// Opens a log file, gzip- or zstd-compressed or plain.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, CfLogError> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|e| CfLogError {
            path: path.to_path_buf(),
            line: 0,
            message: format!("cannot open: {e}"),
        })?;
        Self::from_reader(path, file)
    }

    /// Reads a log from any byte source; `path` names it in errors.
    pub fn from_reader(
        path: impl AsRef<Path>,
        reader: impl Read + Send + 'static,
    ) -> Result<Self, CfLogError> {
        let path = path.as_ref().to_path_buf();
        let (source, _) =
            edgesim_cache::input::decompressed(reader, 1 << 16).map_err(|e| CfLogError {
                path: path.clone(),
                line: 0,
                message: format!("cannot read: {e}"),
            })?;
        Ok(CfLogReader {
            path,
            source,
            line: 0,
            columns: None,
            buffer: Vec::new(),
            text: String::new(),
            fields: Vec::new(),
            user_agent: String::new(),
            last_date: Vec::new(),
            last_days: 0,
        })
    }

    /// The file being read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn error(&self, message: impl Into<String>) -> CfLogError {
        CfLogError {
            path: self.path.clone(),
            line: self.line,
            message: message.into(),
        }
    }

    /// The next record, or `None` at the end of the file.
    pub fn next_record(&mut self) -> Result<Option<LogRecord>, CfLogError> {
        Ok(self.next_line()?.map(|l| l.to_record()))
    }

    /// The next record, borrowed from the reader (no allocation per line),
    /// or `None` at the end of the file.
    pub fn next_line(&mut self) -> Result<Option<LogLine<'_>>, CfLogError> {
        if self.buffer.capacity() == 0 {
            // The last line's text buffer becomes the read buffer again.
            self.buffer = std::mem::take(&mut self.text).into_bytes();
        }
        loop {
            self.line += 1;
            let read = read_line_capped(&mut self.source, &mut self.buffer, MAX_LINE_BYTES);
            match read {
                Ok(Line::Read) => {}
                Ok(Line::End) => {
                    self.line -= 1;
                    return Ok(None);
                }
                Ok(Line::TooLong) => {
                    return Err(self.error(format!(
                        "line is longer than {MAX_LINE_BYTES} bytes (not a CloudFront log, or no line breaks?)"
                    )));
                }
                Err(e) => {
                    let what = if e.kind() == std::io::ErrorKind::UnexpectedEof {
                        "truncated (compressed data ends early)".to_owned()
                    } else {
                        format!("cannot read (corrupt or truncated?): {e}")
                    };
                    return Err(self.error(what));
                }
            }
            if let Some(directive) = self.buffer.strip_prefix(b"#") {
                if let Some(names) = directive.strip_prefix(b"Fields:") {
                    let names = String::from_utf8_lossy(names).into_owned();
                    self.columns = Some(self.parse_fields(&names)?);
                }
                continue;
            }
            if self.buffer.trim_ascii().is_empty() {
                continue;
            }
            let Some(columns) = self.columns else {
                return Err(self.error(
                    "log record before any #Fields: header line (not a CloudFront standard log?)",
                ));
            };
            self.prepare(&columns);
            return self.view(&columns).map(Some);
        }
    }

    /// Splits the current line into fields, and decodes its User-Agent
    /// and date: the mutable part of reading a line, before [`Self::view`].
    fn prepare(&mut self, c: &Columns) {
        match String::from_utf8(std::mem::take(&mut self.buffer)) {
            Ok(text) => self.text = text,
            Err(e) => {
                self.text = String::from_utf8_lossy(e.as_bytes()).into_owned();
                self.buffer = e.into_bytes();
            }
        }
        let text = &self.text;
        self.fields.clear();
        let mut start = 0;
        for (i, b) in text.bytes().enumerate() {
            if b == b'\t' {
                self.fields.push((start, i));
                start = i + 1;
            }
        }
        self.fields.push((start, text.len()));
        let field = |i: Option<usize>| {
            i.and_then(|i| self.fields.get(i))
                .map_or("-", |&(a, b)| &text[a..b])
        };
        let ua = field(c.user_agent);
        self.user_agent.clear();
        url_decode_into(ua, &mut self.user_agent);
        if let Some(&(a, b)) = self.fields.get(c.date) {
            let date = &text.as_bytes()[a..b];
            if date != self.last_date.as_slice() {
                self.last_days = parse_date(&text[a..b]).unwrap_or(i64::MIN);
                self.last_date.clear();
                self.last_date.extend_from_slice(date);
            }
        }
    }

    fn parse_fields(&self, names: &str) -> Result<Columns, CfLogError> {
        let names: Vec<&str> = names.split_ascii_whitespace().collect();
        let find = |name: &str| names.iter().position(|&n| n == name);
        let need = |name: &'static str| {
            find(name).ok_or_else(|| self.error(format!("#Fields: header has no {name} field")))
        };
        let date = need("date")?;
        let time = need("time")?;
        let edge = need("x-edge-location")?;
        let bytes = need("sc-bytes")?;
        let uri_stem = need("cs-uri-stem")?;
        let mut c = Columns {
            date,
            time,
            edge,
            bytes,
            uri_stem,
            ip: find("c-ip"),
            method: find("cs-method"),
            host: find("cs(Host)"),
            status: find("sc-status"),
            referer: find("cs(Referer)"),
            user_agent: find("cs(User-Agent)"),
            query: find("cs-uri-query"),
            result: find("x-edge-result-type"),
            response_result: find("x-edge-response-result-type"),
            protocol: find("cs-protocol"),
            time_taken: find("time-taken"),
            ttfb: find("time-to-first-byte"),
            content_type: find("sc-content-type"),
            content_len: find("sc-content-len"),
            needed: 0,
        };
        c.needed = [date, time, edge, bytes, uri_stem]
            .into_iter()
            .max()
            .unwrap_or(0)
            + 1;
        Ok(c)
    }

    fn view(&self, c: &Columns) -> Result<LogLine<'_>, CfLogError> {
        let line = self.text.as_str();
        if self.fields.len() < c.needed {
            return Err(self.error(format!(
                "expected at least {} tab-separated fields, found {} (truncated line?)",
                c.needed,
                self.fields.len()
            )));
        }
        let fields = |i: usize| {
            let (a, b) = self.fields[i];
            &line[a..b]
        };
        let opt = |i: Option<usize>| {
            i.and_then(|i| self.fields.get(i))
                .map_or("-", |&(a, b)| &line[a..b])
        };
        let date = fields(c.date);
        let time = fields(c.time);
        let unix_secs = (self.last_days != i64::MIN)
            .then(|| parse_time_of_day(time))
            .flatten()
            .map(|t| self.last_days * 86_400 + t)
            .ok_or_else(|| {
                self.error(format!(
                    "bad date/time \"{}\"",
                    excerpt(&format!("{date} {time}"))
                ))
            })?;
        let bytes = fields(c.bytes);
        let sc_bytes = bytes
            .parse::<u64>()
            .map_err(|_| self.error(format!("sc-bytes is not a number: \"{}\"", excerpt(bytes))))?;
        // One response of a terabyte or more is a corrupt field, and sums
        // of such sizes would overflow.
        if sc_bytes >= 1 << 40 {
            return Err(self.error(format!("sc-bytes is implausibly large: {sc_bytes}")));
        }
        let status = match opt(c.status) {
            "-" | "000" => 0,
            s => s.parse::<u16>().map_err(|_| {
                self.error(format!(
                    "sc-status is not a status code: \"{}\"",
                    excerpt(s)
                ))
            })?,
        };
        let float = |i: Option<usize>, name: &str| -> Result<Option<f64>, CfLogError> {
            match opt(i) {
                "-" => Ok(None),
                s => s
                    .parse::<f64>()
                    .map(Some)
                    .map_err(|_| self.error(format!("{name} is not a number: \"{}\"", excerpt(s)))),
            }
        };
        let time_taken_secs = float(c.time_taken, "time-taken")?;
        let time_to_first_byte_secs = float(c.ttfb, "time-to-first-byte")?;
        let content_len = match opt(c.content_len) {
            "-" => None,
            s => Some(s.parse::<u64>().map_err(|_| {
                self.error(format!(
                    "sc-content-len is not a number: \"{}\"",
                    excerpt(s)
                ))
            })?),
        };
        let edge_location = fields(c.edge);
        if edge_location.is_empty() || edge_location == "-" {
            return Err(self.error("x-edge-location is empty"));
        }
        let uri_stem = fields(c.uri_stem);
        if !uri_stem.starts_with('/') {
            return Err(self.error(format!(
                "cs-uri-stem does not start with '/': \"{}\"",
                excerpt(uri_stem)
            )));
        }
        Ok(LogLine {
            unix_secs,
            edge_location,
            sc_bytes,
            client_ip: opt(c.ip),
            method: opt(c.method),
            host: opt(c.host),
            uri_stem,
            status,
            referer: opt(c.referer),
            user_agent: &self.user_agent,
            uri_query: opt(c.query),
            result_type: opt(c.result),
            response_result_type: opt(c.response_result),
            protocol: opt(c.protocol),
            time_taken_secs,
            time_to_first_byte_secs,
            content_type: opt(c.content_type),
            content_len,
            line: self.line,
        })
    }
}

impl Iterator for CfLogReader {
    type Item = Result<LogRecord, CfLogError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_record().transpose()
    }
}

/// `%XX` decoding (invalid escapes are kept as written); `+` stays `+`.
pub fn url_decode(text: &str) -> String {
    let mut out = String::new();
    url_decode_into(text, &mut out);
    out
}

/// [`url_decode`] appending to `out` (which keeps its allocation).
pub fn url_decode_into(text: &str, out: &mut String) {
    if !text.contains('%') {
        out.push_str(text);
        return;
    }
    let bytes = text.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16);
    // Fast path: escapes of ASCII characters (what logs hold) decode in
    // place; a non-ASCII byte falls back to decoding the whole as bytes.
    let start = out.len();
    let mut i = 0;
    let mut plain = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            let b = (h * 16 + l) as u8;
            if !b.is_ascii() {
                out.truncate(start);
                break;
            }
            out.push_str(&text[plain..i]);
            out.push(char::from(b));
            i += 3;
            plain = i;
            continue;
        }
        i += 1;
    }
    if i >= bytes.len() {
        out.push_str(&text[plain..]);
        return;
    }
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            decoded.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        decoded.push(bytes[i]);
        i += 1;
    }
    out.push_str(&String::from_utf8_lossy(&decoded));
}

/// `YYYY-MM-DD` and `HH:MM:SS` (UTC) as seconds since the Unix epoch.
pub fn parse_date_time(date: &str, time: &str) -> Option<i64> {
    Some(parse_date(date)? * 86_400 + parse_time_of_day(time)?)
}

/// `YYYY-MM-DD` as days since 1970-01-01.
fn parse_date(date: &str) -> Option<i64> {
    let mut d = date.split('-');
    let year: i64 = d.next()?.parse().ok()?;
    let month: i64 = d.next()?.parse().ok()?;
    let day: i64 = d.next()?.parse().ok()?;
    // CloudFront logs exist from 2008; anything outside 1970-9999 is
    // corrupt (and would overflow the arithmetic below).
    if d.next().is_some()
        || !(1970..=9999).contains(&year)
        || !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
    {
        return None;
    }
    Some(days_from_civil(year, month, day))
}

/// `HH:MM:SS` (seconds may have a fraction, dropped) as seconds of the day.
fn parse_time_of_day(time: &str) -> Option<i64> {
    let mut t = time.split(':');
    let h: i64 = t.next()?.parse().ok()?;
    let m: i64 = t.next()?.parse().ok()?;
    let s: f64 = t.next()?.parse().ok()?;
    if t.next().is_some()
        || !(0..24).contains(&h)
        || !(0..60).contains(&m)
        || !(0.0..61.0).contains(&s)
    {
        return None;
    }
    Some(h * 3600 + m * 60 + s as i64)
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The 33 fields of a current standard log, in CloudFront's order (for
/// writing sample logs).
pub const STANDARD_FIELDS: &[&str] = &[
    "date",
    "time",
    "x-edge-location",
    "sc-bytes",
    "c-ip",
    "cs-method",
    "cs(Host)",
    "cs-uri-stem",
    "sc-status",
    "cs(Referer)",
    "cs(User-Agent)",
    "cs-uri-query",
    "cs(Cookie)",
    "x-edge-result-type",
    "x-edge-request-id",
    "x-host-header",
    "cs-protocol",
    "cs-bytes",
    "time-taken",
    "x-forwarded-for",
    "ssl-protocol",
    "ssl-cipher",
    "x-edge-response-result-type",
    "cs-protocol-version",
    "fle-status",
    "fle-encrypted-fields",
    "c-port",
    "time-to-first-byte",
    "x-edge-detailed-result-type",
    "sc-content-type",
    "sc-content-len",
    "sc-range-start",
    "sc-range-end",
];

/// The `#Version:` and `#Fields:` header of a standard log.
pub fn standard_header() -> String {
    format!("#Version: 1.0\n#Fields: {}\n", STANDARD_FIELDS.join(" "))
}

/// URL-encodes a User-Agent as CloudFront logs it (space and the
/// characters that would break the tab-separated line).
pub fn url_encode_user_agent(ua: &str) -> String {
    let mut out = String::with_capacity(ua.len() + 16);
    for ch in ua.chars() {
        match ch {
            ' ' => out.push_str("%20"),
            '\t' => out.push_str("%09"),
            '"' => out.push_str("%22"),
            '%' => out.push_str("%25"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn line(date_time: (&str, &str), edge: &str, bytes: u64, uri: &str, ua: &str) -> String {
        let mut f = vec!["-".to_owned(); STANDARD_FIELDS.len()];
        f[0] = date_time.0.into();
        f[1] = date_time.1.into();
        f[2] = edge.into();
        f[3] = bytes.to_string();
        f[4] = "192.0.2.1".into();
        f[5] = "GET".into();
        f[6] = "d111111abcdef8.cloudfront.net".into();
        f[7] = uri.into();
        f[8] = "200".into();
        f[10] = url_encode_user_agent(ua);
        f[13] = "Hit".into();
        f[18] = "0.002".into();
        f[29] = "image/jpeg".into();
        f.join("\t")
    }

    fn sample() -> String {
        let mut s = standard_header();
        s.push_str(&line(
            ("2019-12-04", "21:02:31"),
            "LAX1",
            392,
            "/index.html",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) Mobile/15E148",
        ));
        s.push('\n');
        s.push_str(&line(
            ("2019-12-04", "21:02:32"),
            "FRA56-C1",
            1024,
            "/img/a.jpg",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
        ));
        s.push('\n');
        s
    }

    fn read(bytes: Vec<u8>) -> Result<Vec<LogRecord>, CfLogError> {
        CfLogReader::from_reader("x.log", std::io::Cursor::new(bytes))?.collect()
    }

    #[test]
    fn plain_and_gzip_read_the_same() {
        let plain = read(sample().into_bytes()).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(sample().as_bytes()).unwrap();
        let zipped = read(gz.finish().unwrap()).unwrap();
        assert_eq!(plain, zipped);
        assert_eq!(plain.len(), 2);
        let r = &plain[1];
        assert_eq!(r.edge_location, "FRA56-C1");
        assert_eq!(r.airport_code(), "FRA");
        assert_eq!(r.sc_bytes, 1024);
        assert_eq!(r.uri_stem, "/img/a.jpg");
        assert_eq!(r.status, 200);
        assert_eq!(r.method, "GET");
        assert_eq!(r.client_ip, "192.0.2.1");
        assert_eq!(r.user_agent, "Mozilla/5.0 (Windows NT 10.0; Win64; x64)");
        assert_eq!(r.device(), Device::Desktop);
        assert_eq!(plain[0].device(), Device::Mobile);
        assert_eq!(r.result_type, "Hit");
        assert_eq!(r.time_taken_secs, Some(0.002));
        assert_eq!(r.content_type, "image/jpeg");
        assert_eq!(r.line, 4);
        assert_eq!(r.unix_secs - plain[0].unix_secs, 1);
        // 2019-12-04T21:02:31Z
        assert_eq!(plain[0].unix_secs, 1_575_493_351);
    }

    #[test]
    fn columns_follow_the_fields_header() {
        let text = "#Fields: cs-uri-stem sc-bytes x-edge-location time date\n/a\t5\tNRT12\t00:00:01\t2020-01-01\n";
        let r = read(text.as_bytes().to_vec()).unwrap();
        assert_eq!(r[0].uri_stem, "/a");
        assert_eq!(r[0].sc_bytes, 5);
        assert_eq!(r[0].airport_code(), "NRT");
        assert_eq!(r[0].user_agent, "-");
        assert_eq!(r[0].unix_secs, 1_577_836_801);
    }

    #[test]
    fn errors_name_file_and_line() {
        let mut text = sample();
        text.push_str("2019-12-04\t21:02:33\tFRA56\n");
        let e = read(text.into_bytes()).unwrap_err();
        assert_eq!(e.line, 5);
        assert!(
            e.to_string().starts_with("x.log:5: expected at least"),
            "{e}"
        );

        let mut text = sample();
        text.push_str(
            &line(("2019-12-04", "21:02:31"), "LAX1", 1, "/x", "-").replace("\t1\t", "\tlots\t"),
        );
        let e = read(text.into_bytes()).unwrap_err();
        assert!(
            e.to_string().contains("x.log:5: sc-bytes is not a number"),
            "{e}"
        );

        let e = read(b"2019-12-04\t21:02:31\n".to_vec()).unwrap_err();
        assert!(
            e.to_string()
                .contains("x.log:1: log record before any #Fields:"),
            "{e}"
        );

        let e = read(b"#Fields: date time sc-bytes\n".to_vec()).unwrap_err();
        assert!(
            e.to_string()
                .contains("x.log:1: #Fields: header has no x-edge-location"),
            "{e}"
        );
    }

    #[test]
    fn truncated_gzip_is_an_error_not_a_panic() {
        let mut big = standard_header();
        for i in 0..2000 {
            big.push_str(&line(
                ("2019-12-04", "21:02:31"),
                "LAX1",
                i,
                &format!("/o/{i}"),
                "-",
            ));
            big.push('\n');
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(big.as_bytes()).unwrap();
        let mut bytes = gz.finish().unwrap();
        bytes.truncate(bytes.len() / 2);
        let e = read(bytes).unwrap_err();
        assert!(e.to_string().starts_with("x.log:"), "{e}");
        assert!(e.line > 1);
    }

    #[test]
    fn dates_and_devices() {
        assert_eq!(parse_date_time("1970-01-01", "00:00:00"), Some(0));
        assert_eq!(parse_date_time("2000-03-01", "00:00:00"), Some(951_868_800));
        assert_eq!(parse_date_time("2000-13-01", "00:00:00"), None);
        assert_eq!(parse_date_time("2000-01-01", "24:00:00"), None);
        assert_eq!(
            device_of_user_agent("Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X)"),
            Device::Tablet
        );
        assert_eq!(device_of_user_agent("Roku/DVP-12.5"), Device::SmartTv);
        assert_eq!(
            device_of_user_agent("Mozilla/5.0 (Linux; Android 14; Pixel 8) Mobile Safari"),
            Device::Mobile
        );
        assert_eq!(url_decode("a%20b%2"), "a b%2");
        assert_eq!(url_decode("%41%42c%2G%"), "ABc%2G%");
        assert_eq!(url_decode("caf%C3%A9%20ok"), "café ok");
        assert_eq!(url_decode("bad%FF!"), "bad\u{fffd}!");
        assert_eq!(airport_code("fra56-c1"), "FRA");
    }
}
