//! Trace readers: libCacheSim oracleGeneral binary, libCacheSim-style csv, and
//! CloudFront standard access logs; any of them may be gzip- or
//! zstd-compressed (libCacheSim's traces are distributed as `.zst`), and
//! every one is read streaming: memory does not grow with the trace.
//!
//! A [`TraceReader`] yields `Result<Request, TraceError>`; every error names the
//! file and the record (binary) or line (text) where it happened.
//!
//! * **oracleGeneral**: 24-byte little-endian records `u32 time, u64 id, u32 size,
//!   i64 next_access_vtime` (the last field is ignored). A file ending in the
//!   middle of a record is an error.
//! * **csv**: one request per line, fields numbered from 1 as in libCacheSim's
//!   `time-col` / `obj-id-col` / `obj-size-col`. Defaults: time in column 1,
//!   id in column 2, size in column 3. Like libCacheSim, the delimiter (one of
//!   tab, `,`, `|`, `:`) and the presence of a header line are detected from the
//!   first line unless given; a line without a size column has size 1; ids must
//!   be numbers unless [`CsvOptions::hash_ids`] is set, in which case any text
//!   is hashed. A time may have a fraction, which is dropped.
//! * **CloudFront standard logs**: W3C extended format, tab-separated, with
//!   `#Version:` and `#Fields:` header lines; the key is [`key_for`] of
//!   `cs-uri-stem`, the size is `sc-bytes`, the time is `date` + `time` (UTC)
//!   in Unix seconds.

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::calendar;

/// One request of a trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Request {
    /// Timestamp in the trace's own unit (seconds for all supported formats).
    pub time: u64,
    /// Object key.
    pub key: u64,
    /// Object size in bytes.
    pub size: u64,
}

/// Options of the csv reader. Column numbers start at 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvOptions {
    /// Column of the timestamp; `None` sets every time to 0.
    pub time_column: Option<usize>,
    /// Column of the object id.
    pub id_column: usize,
    /// Column of the object size; `None` gives every request size 1.
    pub size_column: Option<usize>,
    /// Field delimiter; `None` detects one of tab, `,`, `|`, `:` from the first line.
    pub delimiter: Option<u8>,
    /// Whether the first line is a header; `None` detects it from the first line
    /// (more letters than digits means a header, as in libCacheSim).
    pub has_header: Option<bool>,
    /// Hash non-numeric ids with [`key_for`] instead of rejecting them.
    pub hash_ids: bool,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            time_column: Some(1),
            id_column: 2,
            size_column: Some(3),
            delimiter: None,
            has_header: None,
            hash_ids: false,
        }
    }
}

/// A supported trace format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TraceFormat {
    /// libCacheSim oracleGeneral binary.
    OracleGeneral,
    /// Delimited text, libCacheSim csv conventions.
    Csv(CsvOptions),
    /// CloudFront standard (W3C) access log.
    CloudFrontLog,
}

impl TraceFormat {
    /// The name used on the command line.
    pub fn name(&self) -> &'static str {
        match self {
            TraceFormat::OracleGeneral => "oracle-general",
            TraceFormat::Csv(_) => "csv",
            TraceFormat::CloudFrontLog => "cloudfront-log",
        }
    }
}

impl fmt::Display for TraceFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Error for an unknown trace format name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown trace format {name:?}; valid formats: oracle-general, csv, cloudfront-log")]
pub struct UnknownFormat {
    /// The name that was given.
    pub name: String,
}

impl FromStr for TraceFormat {
    type Err = UnknownFormat;

    /// Accepts `oracle-general` (or `oraclegeneral`), `csv` (default options)
    /// and `cloudfront-log` (or `cloudfront`), case-insensitively.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "oracle-general" | "oraclegeneral" | "oracle_general" => Ok(TraceFormat::OracleGeneral),
            "csv" => Ok(TraceFormat::Csv(CsvOptions::default())),
            "cloudfront-log" | "cloudfront" => Ok(TraceFormat::CloudFrontLog),
            _ => Err(UnknownFormat {
                name: text.to_owned(),
            }),
        }
    }
}

/// Why a trace could not be read. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// The file could not be opened.
    #[error("{}: cannot open trace: {cause}", path.display())]
    Open {
        /// The trace file.
        path: PathBuf,
        /// The underlying error (part of the message, so not also a `source`).
        cause: io::Error,
    },
    /// Reading (or decompressing) failed.
    #[error("{}: read error at {position}: {cause}", path.display())]
    Read {
        /// The trace file.
        path: PathBuf,
        /// Where it failed, e.g. `record 12` or `line 3`.
        position: String,
        /// The underlying error (part of the message, so not also a `source`).
        cause: io::Error,
    },
    /// An oracleGeneral file ends in the middle of a record.
    #[error("{}: truncated oracleGeneral trace: record {record} has only {bytes} of 24 bytes", path.display())]
    Truncated {
        /// The trace file.
        path: PathBuf,
        /// 1-based number of the incomplete record.
        record: u64,
        /// Bytes present of that record.
        bytes: usize,
    },
    /// A field that must be a number is not.
    #[error("{}:{line}: {field} field \"{value}\" is not a number{hint}", path.display())]
    NotANumber {
        /// The trace file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// Which field.
        field: &'static str,
        /// The offending text, as an escaped excerpt.
        value: String,
        /// Extra advice, possibly empty.
        hint: &'static str,
    },
    /// A line has fewer fields than the configured columns need.
    #[error("{}:{line}: expected at least {expected} fields separated by {delimiter:?}, found {found}", path.display())]
    MissingField {
        /// The trace file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// Fields needed.
        expected: usize,
        /// Fields found.
        found: usize,
        /// The delimiter in use.
        delimiter: char,
    },
    /// A CloudFront log record appears before any `#Fields:` line.
    #[error("{}:{line}: log record before any #Fields: header line (not a CloudFront standard log?)", path.display())]
    MissingFieldsHeader {
        /// The trace file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
    },
    /// The `#Fields:` line lacks a field the reader needs.
    #[error("{}:{line}: #Fields: header has no {field} field", path.display())]
    MissingLogField {
        /// The trace file.
        path: PathBuf,
        /// 1-based line number of the header.
        line: u64,
        /// The missing field name.
        field: &'static str,
    },
    /// A field has a malformed value (e.g. a date).
    #[error("{}:{line}: invalid {field} \"{value}\"", path.display())]
    InvalidValue {
        /// The trace file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// Which field.
        field: &'static str,
        /// The offending text, as an escaped excerpt.
        value: String,
    },
    /// A line is longer than [`crate::input::MAX_LINE_BYTES`] (no real
    /// trace has one: a binary file, or data without line breaks).
    #[error("{}:{line}: line is longer than {max} bytes (not a text trace, or no line breaks?)", path.display())]
    LineTooLong {
        /// The trace file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// The cap, bytes.
        max: usize,
    },
    /// The content does not look like the requested format at all.
    #[error("{}: does not look like a {format} trace: {reason}", path.display())]
    WrongFormat {
        /// The trace file.
        path: PathBuf,
        /// The requested format.
        format: &'static str,
        /// What gave it away.
        reason: String,
    },
}

/// Stable 64-bit key of a text id (FNV-1a followed by a SplitMix64 finaliser),
/// identical across platforms and versions of this crate.
pub fn key_for(text: &[u8]) -> u64 {
    // The finaliser without SplitMix64's increment (unlike
    // `edgesim_hash::mix64`): trace keys stay what they have always been.
    let mut hash = edgesim_hash::fnv1a(text);
    hash = (hash ^ (hash >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    hash = (hash ^ (hash >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    hash ^ (hash >> 31)
}

/// Size of the read buffer.
const BUFFER_BYTES: usize = 1 << 20;
/// Requests decoded per refill of the iterator buffer.
const ITER_BATCH: usize = 4096;
/// Bytes of one oracleGeneral record.
const ORACLE_RECORD_BYTES: usize = 24;

/// A streaming reader over one trace file.
pub struct TraceReader {
    path: PathBuf,
    source: Box<dyn BufRead + Send>,
    decoder: Decoder,
    /// Requests decoded ahead for the iterator.
    pending: Vec<Request>,
    pending_pos: usize,
    finished: bool,
    /// An error met after some requests of a batch were decoded; reported by
    /// the next call so that those requests are not lost.
    deferred_error: Option<TraceError>,
}

impl fmt::Debug for TraceReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TraceReader")
            .field("path", &self.path)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

enum Decoder {
    Oracle { records: u64 },
    Csv(CsvState),
    CloudFront(CloudFrontState),
}

struct CsvState {
    options: CsvOptions,
    delimiter: u8,
    line: u64,
    skip_first_line: bool,
    buffer: Vec<u8>,
}

struct CloudFrontState {
    line: u64,
    columns: Option<CloudFrontColumns>,
    buffer: Vec<u8>,
}

#[derive(Clone, Copy)]
struct CloudFrontColumns {
    date: usize,
    time: usize,
    uri_stem: usize,
    bytes: usize,
    count: usize,
}

impl TraceReader {
    /// Opens `path` (gzip and zstd are detected from the content) for
    /// reading in `format`.
    pub fn open(path: impl AsRef<Path>, format: &TraceFormat) -> Result<Self, TraceError> {
        let path = path.as_ref().to_path_buf();
        let file = File::open(&path).map_err(|cause| TraceError::Open {
            path: path.clone(),
            cause,
        })?;
        Self::from_reader(path, file, format)
    }

    /// Reads a trace from any byte stream; `name` is used in error messages.
    pub fn from_reader(
        name: impl Into<PathBuf>,
        reader: impl Read + Send + 'static,
        format: &TraceFormat,
    ) -> Result<Self, TraceError> {
        let path = name.into();
        let (mut source, _) =
            crate::input::decompressed(reader, BUFFER_BYTES).map_err(|cause| TraceError::Read {
                path: path.clone(),
                position: "start of file".into(),
                cause,
            })?;
        let head = peek_head(&mut source, &path)?;
        let first_line = first_line_of(&head);
        let decoder = match format {
            TraceFormat::OracleGeneral => {
                check_binary(&path, &head)?;
                Decoder::Oracle { records: 0 }
            }
            TraceFormat::Csv(options) => {
                check_text(&path, "csv", &first_line)?;
                let delimiter = options
                    .delimiter
                    .unwrap_or_else(|| detect_delimiter(&first_line));
                let skip_first_line = options
                    .has_header
                    .unwrap_or_else(|| !first_line.is_empty() && detect_header(&first_line));
                if options.id_column == 0
                    || options.time_column == Some(0)
                    || options.size_column == Some(0)
                {
                    return Err(TraceError::WrongFormat {
                        path,
                        format: "csv",
                        reason: "csv column numbers start at 1".into(),
                    });
                }
                Decoder::Csv(CsvState {
                    options: options.clone(),
                    delimiter,
                    line: 0,
                    skip_first_line,
                    buffer: Vec::new(),
                })
            }
            TraceFormat::CloudFrontLog => {
                check_text(&path, "cloudfront-log", &first_line)?;
                Decoder::CloudFront(CloudFrontState {
                    line: 0,
                    columns: None,
                    buffer: Vec::new(),
                })
            }
        };
        Ok(TraceReader {
            path,
            source,
            decoder,
            pending: Vec::new(),
            pending_pos: 0,
            finished: false,
            deferred_error: None,
        })
    }

    /// The file this reader reads.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends up to `max` requests to `out`; returns how many were appended
    /// (0 at the end of the trace). Faster than the iterator for bulk reads.
    /// A malformed record ends the trace: the requests before it are returned
    /// first, and the error comes from the following call.
    pub fn read_batch(&mut self, out: &mut Vec<Request>, max: usize) -> Result<usize, TraceError> {
        if let Some(error) = self.deferred_error.take() {
            return Err(error);
        }
        let start = out.len();
        // Hand out anything the iterator decoded ahead first.
        while self.pending_pos < self.pending.len() && out.len() - start < max {
            out.push(self.pending[self.pending_pos]);
            self.pending_pos += 1;
        }
        if self.finished {
            return Ok(out.len() - start);
        }
        let wanted = max - (out.len() - start);
        let result = match &mut self.decoder {
            Decoder::Oracle { records } => {
                read_oracle(&mut self.source, &self.path, records, out, wanted)
            }
            Decoder::Csv(state) => read_csv(&mut self.source, &self.path, state, out, wanted),
            Decoder::CloudFront(state) => {
                read_cloudfront(&mut self.source, &self.path, state, out, wanted)
            }
        };
        match result {
            Ok(read) => {
                if read < wanted {
                    self.finished = true;
                }
                Ok(out.len() - start)
            }
            Err(error) => {
                self.finished = true;
                if out.len() > start {
                    self.deferred_error = Some(error);
                    Ok(out.len() - start)
                } else {
                    Err(error)
                }
            }
        }
    }
}

impl Iterator for TraceReader {
    type Item = Result<Request, TraceError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.pending_pos == self.pending.len() {
            if self.finished && self.deferred_error.is_none() {
                return None;
            }
            let mut batch = std::mem::take(&mut self.pending);
            batch.clear();
            self.pending_pos = 0;
            let result = self.read_batch(&mut batch, ITER_BATCH);
            self.pending = batch;
            if let Err(error) = result {
                return Some(Err(error));
            }
            if self.pending.is_empty() {
                return None;
            }
        }
        let request = self.pending[self.pending_pos];
        self.pending_pos += 1;
        Some(Ok(request))
    }
}

/// The first bytes (at most 4 KiB) of the stream, without consuming them.
fn peek_head(source: &mut Box<dyn BufRead + Send>, path: &Path) -> Result<Vec<u8>, TraceError> {
    let head = source.fill_buf().map_err(|cause| TraceError::Read {
        path: path.to_path_buf(),
        position: "start of file".into(),
        cause,
    })?;
    Ok(head[..head.len().min(4096)].to_vec())
}

/// The first line of `head`, without its line ending.
fn first_line_of(head: &[u8]) -> Vec<u8> {
    let end = head.iter().position(|&b| b == b'\n').unwrap_or(head.len());
    let line = &head[..end];
    line.strip_suffix(b"\r").unwrap_or(line).to_vec()
}

/// Rejects text files given as oracleGeneral: real records carry zero and
/// 0xFF bytes, so a first record made only of printable text is not one.
fn check_binary(path: &Path, head: &[u8]) -> Result<(), TraceError> {
    let prefix = &head[..head.len().min(ORACLE_RECORD_BYTES)];
    let looks_textual = prefix.len() == ORACLE_RECORD_BYTES
        && prefix
            .iter()
            .all(|&b| b.is_ascii_graphic() || b.is_ascii_whitespace());
    if looks_textual {
        return Err(TraceError::WrongFormat {
            path: path.to_path_buf(),
            format: "oracle-general",
            reason: format!(
                "the first record is text ({:?}...); use --format csv or cloudfront-log",
                String::from_utf8_lossy(prefix)
            ),
        });
    }
    Ok(())
}

/// Rejects binary files given as a text format.
fn check_text(path: &Path, format: &'static str, first_line: &[u8]) -> Result<(), TraceError> {
    if first_line.contains(&0) || std::str::from_utf8(first_line).is_err() {
        return Err(TraceError::WrongFormat {
            path: path.to_path_buf(),
            format,
            reason: "the first line contains binary data; use --format oracle-general for libCacheSim binary traces"
                .into(),
        });
    }
    Ok(())
}

fn read_oracle(
    source: &mut Box<dyn BufRead + Send>,
    path: &Path,
    records: &mut u64,
    out: &mut Vec<Request>,
    wanted: usize,
) -> Result<usize, TraceError> {
    let mut read = 0;
    let mut partial = [0u8; ORACLE_RECORD_BYTES];
    let mut partial_len = 0;
    while read < wanted {
        let buffer = source.fill_buf().map_err(|cause| TraceError::Read {
            path: path.to_path_buf(),
            position: format!("record {}", *records + 1),
            cause,
        })?;
        if buffer.is_empty() {
            if partial_len > 0 {
                return Err(TraceError::Truncated {
                    path: path.to_path_buf(),
                    record: *records + 1,
                    bytes: partial_len,
                });
            }
            break;
        }
        let mut consumed = 0;
        if partial_len > 0 {
            // Finish a record split across buffer refills.
            let take = (ORACLE_RECORD_BYTES - partial_len).min(buffer.len());
            partial[partial_len..partial_len + take].copy_from_slice(&buffer[..take]);
            partial_len += take;
            consumed = take;
            if partial_len == ORACLE_RECORD_BYTES {
                out.push(decode_oracle(&partial));
                *records += 1;
                read += 1;
                partial_len = 0;
            }
        }
        let whole = ((buffer.len() - consumed) / ORACLE_RECORD_BYTES).min(wanted - read);
        for chunk in buffer[consumed..consumed + whole * ORACLE_RECORD_BYTES]
            .chunks_exact(ORACLE_RECORD_BYTES)
        {
            out.push(decode_oracle(chunk));
        }
        consumed += whole * ORACLE_RECORD_BYTES;
        read += whole;
        *records += whole as u64;
        if read < wanted && partial_len == 0 {
            let rest = buffer.len() - consumed;
            if rest > 0 && rest < ORACLE_RECORD_BYTES {
                partial[..rest].copy_from_slice(&buffer[consumed..]);
                partial_len = rest;
                consumed += rest;
            }
        }
        source.consume(consumed);
    }
    Ok(read)
}

#[inline]
fn decode_oracle(record: &[u8]) -> Request {
    let time = u32::from_le_bytes([record[0], record[1], record[2], record[3]]);
    let key = u64::from_le_bytes([
        record[4], record[5], record[6], record[7], record[8], record[9], record[10], record[11],
    ]);
    let size = u32::from_le_bytes([record[12], record[13], record[14], record[15]]);
    Request {
        time: u64::from(time),
        key,
        size: u64::from(size),
    }
}

/// Reads one line into `buffer` (without the line ending), at most
/// [`crate::input::MAX_LINE_BYTES`] long; false at end of file.
fn read_line(
    source: &mut Box<dyn BufRead + Send>,
    path: &Path,
    line_number: u64,
    buffer: &mut Vec<u8>,
) -> Result<bool, TraceError> {
    use crate::input::{Line, MAX_LINE_BYTES, read_line_capped};
    let read =
        read_line_capped(source, buffer, MAX_LINE_BYTES).map_err(|cause| TraceError::Read {
            path: path.to_path_buf(),
            position: format!("line {line_number}"),
            cause,
        })?;
    match read {
        Line::Read => Ok(true),
        Line::End => Ok(false),
        Line::TooLong => Err(TraceError::LineTooLong {
            path: path.to_path_buf(),
            line: line_number,
            max: MAX_LINE_BYTES,
        }),
    }
}

/// libCacheSim's delimiter detection: the most frequent of tab, `,`, `|`, `:`
/// in the first line, weighted 4/3/2/1 in that order.
fn detect_delimiter(first_line: &[u8]) -> u8 {
    let candidates = [b'\t', b',', b'|', b':'];
    let mut best = (0, b',');
    for (rank, &candidate) in candidates.iter().enumerate() {
        let score = first_line.iter().filter(|&&b| b == candidate).count() * (4 - rank);
        if score > best.0 {
            best = (score, candidate);
        }
    }
    best.1
}

/// libCacheSim's header detection: a first line with more digits than
/// letters is data, anything else is a header.
fn detect_header(first_line: &[u8]) -> bool {
    let digits = first_line.iter().filter(|b| b.is_ascii_digit()).count();
    let letters = first_line
        .iter()
        .filter(|b| b.is_ascii_alphabetic())
        .count();
    digits <= letters
}

/// Splits a delimited line into field ranges, honouring double quotes when
/// `quoting` is on (csv) and not otherwise (CloudFront logs URL-encode fields).
fn split_fields(line: &[u8], delimiter: u8, quoting: bool, fields: &mut Vec<(usize, usize)>) {
    fields.clear();
    let mut start = 0;
    let mut in_quotes = false;
    for (position, &byte) in line.iter().enumerate() {
        if quoting && byte == b'"' {
            in_quotes = !in_quotes;
        } else if byte == delimiter && !in_quotes {
            fields.push((start, position));
            start = position + 1;
        }
    }
    fields.push((start, line.len()));
}

/// The text of field `range` of `line`, trimmed and without surrounding quotes.
fn field_text(line: &[u8], range: (usize, usize)) -> &[u8] {
    unquote(&line[range.0..range.1])
}

fn unquote(field: &[u8]) -> &[u8] {
    let field = field.trim_ascii();
    if field.len() >= 2 && field[0] == b'"' && field[field.len() - 1] == b'"' {
        &field[1..field.len() - 1]
    } else {
        field
    }
}

/// Parses an unsigned integer, decimal or `0x` hexadecimal.
fn parse_unsigned(text: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(text).ok()?;
    if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        u64::from_str_radix(hex, 16).ok()
    } else {
        text.parse().ok()
    }
}

/// Parses a timestamp: an unsigned integer, or a non-negative decimal whose
/// fraction is dropped (libCacheSim reads times with `strtod`).
fn parse_time(text: &[u8]) -> Option<u64> {
    parse_unsigned(text).or_else(|| {
        let value: f64 = std::str::from_utf8(text).ok()?.parse().ok()?;
        (value.is_finite() && value >= 0.0).then_some(value as u64)
    })
}

fn read_csv(
    source: &mut Box<dyn BufRead + Send>,
    path: &Path,
    state: &mut CsvState,
    out: &mut Vec<Request>,
    wanted: usize,
) -> Result<usize, TraceError> {
    let mut read = 0;
    let mut fields: Vec<(usize, usize)> = Vec::new();
    let mut buffer = std::mem::take(&mut state.buffer);
    let needed = state
        .options
        .id_column
        .max(state.options.time_column.unwrap_or(0))
        .max(state.options.size_column.unwrap_or(0));
    let result = loop {
        if read >= wanted {
            break Ok(read);
        }
        let line_number = state.line + 1;
        match read_line(source, path, line_number, &mut buffer) {
            Ok(true) => {}
            Ok(false) => break Ok(read),
            Err(error) => break Err(error),
        }
        state.line = line_number;
        if state.skip_first_line {
            state.skip_first_line = false;
            continue;
        }
        if buffer.trim_ascii().is_empty() {
            continue;
        }
        split_fields(&buffer, state.delimiter, true, &mut fields);
        if fields.len() < needed {
            break Err(TraceError::MissingField {
                path: path.to_path_buf(),
                line: line_number,
                expected: needed,
                found: fields.len(),
                delimiter: char::from(state.delimiter),
            });
        }
        let not_a_number =
            |field: &'static str, value: &[u8], hint: &'static str| TraceError::NotANumber {
                path: path.to_path_buf(),
                line: line_number,
                field,
                value: crate::input::excerpt_bytes(value),
                hint,
            };
        let time = match state.options.time_column {
            Some(column) => {
                let text = field_text(&buffer, fields[column - 1]);
                match parse_time(text) {
                    Some(time) => time,
                    None => break Err(not_a_number("time", text, "")),
                }
            }
            None => 0,
        };
        let id_text = field_text(&buffer, fields[state.options.id_column - 1]);
        let key = if state.options.hash_ids {
            key_for(id_text)
        } else {
            match parse_unsigned(id_text) {
                Some(key) => key,
                None => {
                    break Err(not_a_number(
                        "id",
                        id_text,
                        " (hash text ids with the csv hash-ids option)",
                    ));
                }
            }
        };
        let size = match state.options.size_column {
            Some(column) => {
                let text = field_text(&buffer, fields[column - 1]);
                match parse_unsigned(text) {
                    Some(size) => size,
                    None => break Err(not_a_number("size", text, "")),
                }
            }
            None => 1,
        };
        out.push(Request { time, key, size });
        read += 1;
    };
    state.buffer = buffer;
    result
}

fn read_cloudfront(
    source: &mut Box<dyn BufRead + Send>,
    path: &Path,
    state: &mut CloudFrontState,
    out: &mut Vec<Request>,
    wanted: usize,
) -> Result<usize, TraceError> {
    let mut read = 0;
    let mut fields: Vec<(usize, usize)> = Vec::new();
    let mut buffer = std::mem::take(&mut state.buffer);
    let result = loop {
        if read >= wanted {
            break Ok(read);
        }
        let line_number = state.line + 1;
        match read_line(source, path, line_number, &mut buffer) {
            Ok(true) => {}
            Ok(false) => break Ok(read),
            Err(error) => break Err(error),
        }
        state.line = line_number;
        if let Some(directive) = buffer.strip_prefix(b"#") {
            if let Some(names) = directive.strip_prefix(b"Fields:") {
                match parse_fields_header(path, line_number, names) {
                    Ok(columns) => state.columns = Some(columns),
                    Err(error) => break Err(error),
                }
            }
            continue;
        }
        if buffer.trim_ascii().is_empty() {
            continue;
        }
        let Some(columns) = state.columns else {
            break Err(TraceError::MissingFieldsHeader {
                path: path.to_path_buf(),
                line: line_number,
            });
        };
        split_fields(&buffer, b'\t', false, &mut fields);
        if fields.len() < columns.count {
            break Err(TraceError::MissingField {
                path: path.to_path_buf(),
                line: line_number,
                expected: columns.count,
                found: fields.len(),
                delimiter: '\t',
            });
        }
        let date = String::from_utf8_lossy(field_text(&buffer, fields[columns.date]));
        let clock = String::from_utf8_lossy(field_text(&buffer, fields[columns.time]));
        let Some(time) = calendar::parse_iso_date_time(&date, &clock) else {
            break Err(TraceError::InvalidValue {
                path: path.to_path_buf(),
                line: line_number,
                field: "date/time",
                value: crate::input::excerpt(&format!("{date} {clock}")),
            });
        };
        let bytes_text = field_text(&buffer, fields[columns.bytes]);
        let Some(size) = parse_unsigned(bytes_text) else {
            break Err(TraceError::NotANumber {
                path: path.to_path_buf(),
                line: line_number,
                field: "sc-bytes",
                value: crate::input::excerpt_bytes(bytes_text),
                hint: "",
            });
        };
        out.push(Request {
            time,
            key: key_for(field_text(&buffer, fields[columns.uri_stem])),
            size,
        });
        read += 1;
    };
    state.buffer = buffer;
    result
}

fn parse_fields_header(
    path: &Path,
    line: u64,
    names: &[u8],
) -> Result<CloudFrontColumns, TraceError> {
    let names: Vec<&[u8]> = names
        .split(|b| b.is_ascii_whitespace())
        .filter(|name| !name.is_empty())
        .collect();
    let find = |field: &'static str| {
        names
            .iter()
            .position(|&name| name == field.as_bytes())
            .ok_or_else(|| TraceError::MissingLogField {
                path: path.to_path_buf(),
                line,
                field,
            })
    };
    let date = find("date")?;
    let time = find("time")?;
    let uri_stem = find("cs-uri-stem")?;
    let bytes = find("sc-bytes")?;
    Ok(CloudFrontColumns {
        date,
        time,
        uri_stem,
        bytes,
        count: date.max(time).max(uri_stem).max(bytes) + 1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn oracle_bytes(records: &[(u32, u64, u32)]) -> Vec<u8> {
        let mut bytes = Vec::new();
        for &(time, id, size) in records {
            bytes.extend_from_slice(&time.to_le_bytes());
            bytes.extend_from_slice(&id.to_le_bytes());
            bytes.extend_from_slice(&size.to_le_bytes());
            bytes.extend_from_slice(&(-1i64).to_le_bytes());
        }
        bytes
    }

    fn read_all(bytes: Vec<u8>, format: &TraceFormat) -> Result<Vec<Request>, TraceError> {
        TraceReader::from_reader("test.trace", io::Cursor::new(bytes), format)?.collect()
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn oracle_general_records() {
        let bytes = oracle_bytes(&[(1, 10, 512), (2, 11, 4096), (3, u64::MAX, 1)]);
        let requests = read_all(bytes, &TraceFormat::OracleGeneral).unwrap();
        assert_eq!(
            requests,
            vec![
                Request {
                    time: 1,
                    key: 10,
                    size: 512
                },
                Request {
                    time: 2,
                    key: 11,
                    size: 4096
                },
                Request {
                    time: 3,
                    key: u64::MAX,
                    size: 1
                },
            ]
        );
    }

    #[test]
    fn oracle_general_gzip_and_batches() {
        let records: Vec<(u32, u64, u32)> = (0..10_000)
            .map(|i| (i, u64::from(i) * 7, 100 + i))
            .collect();
        let bytes = gzip(&oracle_bytes(&records));
        let mut reader = TraceReader::from_reader(
            "t.bin.gz",
            io::Cursor::new(bytes),
            &TraceFormat::OracleGeneral,
        )
        .unwrap();
        let mut all = Vec::new();
        // Mix the iterator and batches.
        assert_eq!(reader.next().unwrap().unwrap().key, 0);
        while reader.read_batch(&mut all, 777).unwrap() > 0 {}
        assert_eq!(all.len(), 9_999);
        assert_eq!(all[0].key, 7);
        assert_eq!(
            all[9_998],
            Request {
                time: 9_999,
                key: 69_993,
                size: 10_099
            }
        );
        assert!(reader.next().is_none());
    }

    #[test]
    fn zstd_traces_read_like_plain_ones() {
        let records: Vec<(u32, u64, u32)> = (0..50_000)
            .map(|i| (i / 10, u64::from(i % 777), 100 + i % 5))
            .collect();
        let plain = oracle_bytes(&records);
        let want = read_all(plain.clone(), &TraceFormat::OracleGeneral).unwrap();
        // Two frames back to back read as one stream.
        let half = plain.len() / 48 * 24;
        let mut zst = zstd::encode_all(&plain[..half], 3).unwrap();
        zst.extend(zstd::encode_all(&plain[half..], 3).unwrap());
        assert_ne!(zst[..4], plain[..4]);
        assert_eq!(read_all(zst, &TraceFormat::OracleGeneral).unwrap(), want);
        assert_eq!(want.len(), 50_000);
        let csv = "1,10,100\n2,11,5\n";
        let zst = zstd::encode_all(csv.as_bytes(), 1).unwrap();
        assert_eq!(
            read_all(zst, &TraceFormat::Csv(CsvOptions::default())).unwrap(),
            read_all(csv.into(), &TraceFormat::Csv(CsvOptions::default())).unwrap()
        );
        // A truncated zstd stream is an error naming the file, not a panic.
        let zst = zstd::encode_all(&plain[..], 3).unwrap();
        let error =
            read_all(zst[..zst.len() / 2].to_vec(), &TraceFormat::OracleGeneral).unwrap_err();
        assert!(error.to_string().starts_with("test.trace:"), "{error}");
    }

    #[test]
    fn truncated_oracle_general_names_the_record() {
        let mut bytes = oracle_bytes(&[(1, 10, 512), (2, 11, 512)]);
        bytes.truncate(24 + 10);
        let results: Vec<_> = TraceReader::from_reader(
            "cut.oracleGeneral.bin",
            io::Cursor::new(bytes),
            &TraceFormat::OracleGeneral,
        )
        .unwrap()
        .collect();
        assert_eq!(results.len(), 2);
        assert!(results[0].is_ok());
        let message = results[1].as_ref().unwrap_err().to_string();
        assert_eq!(
            message,
            "cut.oracleGeneral.bin: truncated oracleGeneral trace: record 2 has only 10 of 24 bytes"
        );
    }

    #[test]
    fn text_given_as_oracle_general_is_rejected() {
        let error = read_all(
            b"#Version: 1.0\n#Fields: date time sc-bytes\n".to_vec(),
            &TraceFormat::OracleGeneral,
        )
        .unwrap_err();
        assert!(matches!(error, TraceError::WrongFormat { .. }), "{error}");
        assert!(error.to_string().contains("test.trace"));
    }

    #[test]
    fn csv_defaults_detect_header_and_delimiter() {
        let text = "time,obj_id,size\n1,10,100\n2.7,11,5\n\n3,0x10,7\n";
        let requests = read_all(text.into(), &TraceFormat::Csv(CsvOptions::default())).unwrap();
        assert_eq!(
            requests,
            vec![
                Request {
                    time: 1,
                    key: 10,
                    size: 100
                },
                Request {
                    time: 2,
                    key: 11,
                    size: 5
                },
                Request {
                    time: 3,
                    key: 16,
                    size: 7
                },
            ]
        );
        let tabs = "5\t1\t9\n6\t2\t8\n";
        let requests = read_all(tabs.into(), &TraceFormat::Csv(CsvOptions::default())).unwrap();
        assert_eq!(
            requests[1],
            Request {
                time: 6,
                key: 2,
                size: 8
            }
        );
    }

    #[test]
    fn csv_custom_columns_and_hashed_ids() {
        let options = CsvOptions {
            time_column: None,
            id_column: 1,
            size_column: None,
            delimiter: Some(b'|'),
            has_header: Some(false),
            hash_ids: true,
        };
        let requests = read_all("\"/a b\"|x\n/c|y\n".into(), &TraceFormat::Csv(options)).unwrap();
        assert_eq!(
            requests[0],
            Request {
                time: 0,
                key: key_for(b"/a b"),
                size: 1
            }
        );
        assert_eq!(requests[1].key, key_for(b"/c"));
    }

    #[test]
    fn csv_errors_name_the_line() {
        let error = read_all(
            "1,10,100\n2,11,abc\n".into(),
            &TraceFormat::Csv(CsvOptions::default()),
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "test.trace:2: size field \"abc\" is not a number"
        );
        let error = read_all(
            "1,10,100\n2,11\n".into(),
            &TraceFormat::Csv(CsvOptions::default()),
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "test.trace:2: expected at least 3 fields separated by ',', found 2"
        );
        let error = read_all(
            "1,x,100\n".into(),
            &TraceFormat::Csv(CsvOptions {
                has_header: Some(false),
                ..CsvOptions::default()
            }),
        )
        .unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("test.trace:1: id field \"x\" is not a number")
        );
        let error = read_all(
            oracle_bytes(&[(1, 2, 3)]),
            &TraceFormat::Csv(CsvOptions::default()),
        )
        .unwrap_err();
        assert!(matches!(error, TraceError::WrongFormat { .. }), "{error}");
    }

    const LOG: &str = "#Version: 1.0\n\
#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status\n\
2019-12-04\t21:02:31\tLAX1\t392\t192.0.2.100\tGET\td111111abcdef8.cloudfront.net\t/index.html\t200\n\
2019-12-04\t21:02:32\tLAX1\t1024\t192.0.2.100\tGET\td111111abcdef8.cloudfront.net\t/img/a.png\t200\n";

    #[test]
    fn cloudfront_log_records() {
        let requests = read_all(LOG.into(), &TraceFormat::CloudFrontLog).unwrap();
        assert_eq!(
            requests,
            vec![
                Request {
                    time: 1_575_493_351,
                    key: key_for(b"/index.html"),
                    size: 392
                },
                Request {
                    time: 1_575_493_352,
                    key: key_for(b"/img/a.png"),
                    size: 1024
                },
            ]
        );
        let zipped = read_all(gzip(LOG.as_bytes()), &TraceFormat::CloudFrontLog).unwrap();
        assert_eq!(zipped, requests);
    }

    #[test]
    fn cloudfront_log_errors() {
        let no_header = LOG.lines().skip(2).collect::<Vec<_>>().join("\n");
        let error = read_all(no_header.into(), &TraceFormat::CloudFrontLog).unwrap_err();
        assert_eq!(
            error.to_string(),
            "test.trace:1: log record before any #Fields: header line (not a CloudFront standard log?)"
        );
        let error = read_all(
            "#Version: 1.0\n#Fields: date time cs-uri-stem\n".into(),
            &TraceFormat::CloudFrontLog,
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "test.trace:2: #Fields: header has no sc-bytes field"
        );
        let bad_bytes = LOG.replace("\t392\t", "\t-\t");
        let error = read_all(bad_bytes.into(), &TraceFormat::CloudFrontLog).unwrap_err();
        assert_eq!(
            error.to_string(),
            "test.trace:3: sc-bytes field \"-\" is not a number"
        );
        let bad_date = LOG.replace("2019-12-04\t21:02:31", "2019-13-04\t21:02:31");
        let error = read_all(bad_date.into(), &TraceFormat::CloudFrontLog).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("test.trace:3: invalid date/time"),
            "{error}"
        );
    }

    #[test]
    fn missing_file_names_the_path() {
        let error =
            TraceReader::open("/nonexistent/trace.bin", &TraceFormat::OracleGeneral).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("/nonexistent/trace.bin: cannot open trace")
        );
    }

    #[test]
    fn format_names_parse() {
        assert_eq!("oracle-general".parse(), Ok(TraceFormat::OracleGeneral));
        assert_eq!("CSV".parse(), Ok(TraceFormat::Csv(CsvOptions::default())));
        assert_eq!("cloudfront-log".parse(), Ok(TraceFormat::CloudFrontLog));
        let error = "parquet".parse::<TraceFormat>().unwrap_err().to_string();
        assert!(
            error.contains("oracle-general, csv, cloudfront-log"),
            "{error}"
        );
    }

    #[test]
    fn key_for_is_stable() {
        assert_eq!(key_for(b"/index.html"), key_for(b"/index.html"));
        assert_ne!(key_for(b"/a"), key_for(b"/b"));
        // Pinned so that keys stay comparable across versions.
        assert_eq!(key_for(b""), 17_665_956_581_633_026_203);
    }
}
