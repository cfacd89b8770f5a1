//! The epoch log: the coordinator's append-only record of a run, written
//! to the report directory as it goes (`epochs.log`). A header (the
//! scenario text and handler sources), then one record per completed epoch
//! (every region's report and the incidents handled), each in a frame of
//! its own (log version 3):
//!
//! ```text
//! len: u32 LE | epoch: u64 LE | head crc: u32 LE   (CRC-32 of len and epoch)
//! payload: len bytes                               (header: protobuf;
//!                                                   record: deflate of protobuf)
//! crc: u32 LE                                      (CRC-32 of the 16 bytes above and the payload)
//! ```
//!
//! The messages are in proto/edgesim/v1/agent.proto (a 450-PoP epoch is a
//! few hundred kB raw, mostly histograms that compress well). Each record
//! is written and flushed before the next epoch starts, so a killed
//! coordinator loses at most the epoch in flight; [`rebuild`] turns what
//! was saved back into a summary. Reading tells a torn tail (the final
//! record cut short, as a killed coordinator leaves it: the epochs before
//! it are all there) from corruption (a record that fails its checksum or
//! does not decode, anywhere: reported with its epoch and byte offset).
//! Records are at most [`MAX_RECORD_BYTES`] framed and
//! [`MAX_RAW_RECORD_BYTES`] decompressed, so no length read from a damaged
//! file makes the reader allocate more. Version 2 logs (no checksums) are
//! still read; in them any damage looks like a torn tail.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use edgesim_model::Scenario;
use edgesim_proto::{PROTOCOL_VERSION, SOFTWARE_VERSION, pb, region_report_from_pb};
use edgesim_report::{Incident, Summary};
use edgesim_sim::RegionEpochReport;
use prost::Message;

use edgesim_run::RunFold;

/// The log's file name inside a report directory.
pub const EPOCH_LOG_FILE: &str = "epochs.log";

/// First bytes of every epoch log this edgesim writes.
const MAGIC: &[u8] = b"edgesim epoch log 3\n";
/// First bytes of a version 2 log (no frames, no checksums).
const MAGIC_V2: &[u8] = b"edgesim epoch log 2\n";

/// Protocol versions whose region reports the log may hold (the messages
/// of the log changed only by fields added in version 4, the time to first
/// byte by part and connection counts, which read as 0 from older logs).
const READABLE_PROTOCOLS: [u32; 3] = [2, 3, 4];

/// Largest payload of one frame (compressed record or header).
pub const MAX_RECORD_BYTES: usize = 256 << 20;
/// Largest decompressed record.
pub const MAX_RAW_RECORD_BYTES: usize = 1 << 30;

/// The epoch field of the header's frame.
const HEADER_EPOCH: u64 = u64::MAX;
/// Bytes of a frame before its payload.
const FRAME_HEAD: usize = 16;

/// Why an epoch log could not be written or read back.
#[derive(Debug, thiserror::Error)]
#[error("{}: {problem}", path.display())]
pub struct EpochLogError {
    /// The log file.
    pub path: PathBuf,
    /// What is wrong.
    pub problem: String,
    /// Where the log is damaged, when it is.
    pub corrupt: Option<(u64, u64)>,
}

/// Appends a run's epochs to its log.
pub(crate) struct EpochLogWriter {
    path: PathBuf,
    file: BufWriter<File>,
}

/// `payload` in a frame tagged `epoch`.
fn frame(epoch: u64, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(FRAME_HEAD + payload.len() + 4);
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&epoch.to_le_bytes());
    let head_crc = crc32fast::hash(&out);
    out.extend_from_slice(&head_crc.to_le_bytes());
    out.extend_from_slice(payload);
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

impl EpochLogWriter {
    /// Creates (truncates) the log at `path` and writes its header.
    pub(crate) fn create(
        path: &Path,
        scenario: &Scenario,
        scenario_toml: &str,
    ) -> Result<EpochLogWriter, EpochLogError> {
        let err = |e: std::io::Error| EpochLogError {
            path: path.to_owned(),
            problem: e.to_string(),
            corrupt: None,
        };
        let mut file = BufWriter::new(File::create(path).map_err(err)?);
        file.write_all(MAGIC).map_err(err)?;
        let header = pb::EpochLogHeader {
            protocol_version: PROTOCOL_VERSION,
            software_version: SOFTWARE_VERSION.to_owned(),
            scenario_name: scenario.source_name.clone(),
            scenario_toml: scenario_toml.to_owned(),
            handler_sources: scenario.trigger_sources.clone().into_iter().collect(),
            epochs: scenario.simulation.epochs(),
        };
        let header = header.encode_to_vec();
        if header.len() > MAX_RECORD_BYTES {
            return Err(EpochLogError {
                path: path.to_owned(),
                problem: format!(
                    "the scenario and its handlers take {} bytes, more than a log record may ({MAX_RECORD_BYTES})",
                    header.len()
                ),
                corrupt: None,
            });
        }
        file.write_all(&frame(HEADER_EPOCH, &header)).map_err(err)?;
        file.flush().map_err(err)?;
        Ok(EpochLogWriter {
            path: path.to_owned(),
            file,
        })
    }

    /// Appends one epoch (or, with `completed` false, the incidents of an
    /// epoch the run stopped in) and flushes it to the operating system.
    pub(crate) fn append(
        &mut self,
        epoch: u64,
        reports: &[RegionEpochReport],
        incidents: &[Incident],
        completed: bool,
    ) -> Result<(), EpochLogError> {
        let record = pb::EpochLogRecord {
            epoch,
            regions: reports
                .iter()
                .cloned()
                .map(edgesim_proto::region_report_to_pb)
                .collect(),
            incidents: incidents.iter().map(incident_to_pb).collect(),
            aborted: !completed,
        };
        let err = |e: std::io::Error| EpochLogError {
            path: self.path.clone(),
            problem: e.to_string(),
            corrupt: None,
        };
        let raw = record.encode_to_vec();
        let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(&raw).map_err(err)?;
        let z = z.finish().map_err(err)?;
        if z.len() > MAX_RECORD_BYTES || raw.len() > MAX_RAW_RECORD_BYTES {
            return Err(EpochLogError {
                path: self.path.clone(),
                problem: format!(
                    "epoch {epoch}'s record takes {} bytes ({} compressed), more than a log record may",
                    raw.len(),
                    z.len()
                ),
                corrupt: None,
            });
        }
        self.file.write_all(&frame(epoch, &z)).map_err(err)?;
        self.file.flush().map_err(err)
    }

    /// Flushes and syncs the log to disk at the end of a run.
    pub(crate) fn finish(mut self) -> Result<(), EpochLogError> {
        let path = self.path.clone();
        let err = |e: std::io::Error| EpochLogError {
            path: path.clone(),
            problem: e.to_string(),
            corrupt: None,
        };
        self.file.flush().map_err(err)?;
        self.file.get_ref().sync_all().map_err(err)
    }
}

fn incident_to_pb(i: &Incident) -> pb::Incident {
    pb::Incident {
        epoch: i.epoch,
        kind: i.kind.clone(),
        agent: i.agent.clone(),
        regions: i.regions.clone(),
        reason: i.reason.clone(),
        action: i.action.clone(),
        to: i.to.clone(),
    }
}

fn incident_from_pb(i: pb::Incident, scenario: &Scenario) -> Incident {
    Incident {
        epoch: i.epoch,
        at_secs: scenario.simulation.epoch_span(i.epoch).start as f64 / 1e6,
        kind: i.kind,
        agent: i.agent,
        regions: i.regions,
        reason: i.reason,
        action: i.action,
        to: i.to,
    }
}

/// How a log ends after its last good record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogEnd {
    /// Nothing after the last record.
    Clean,
    /// The final record was cut short (a coordinator killed while writing
    /// it, or zeros a crash left at the end): every record before it is
    /// whole.
    TornTail {
        /// Where the torn record starts.
        offset: u64,
        /// Its bytes.
        bytes: u64,
    },
    /// A record that fails its checksum, does not decode or is out of
    /// order; what follows it is not read.
    Corrupt {
        /// The epoch of the record (the one expected there when its own
        /// framing is damaged).
        epoch: u64,
        /// Where the record starts in the file.
        offset: u64,
        /// What is wrong.
        problem: String,
    },
}

/// Reads a log record by record (see the module's documentation).
pub struct LogReader<'a> {
    bytes: &'a [u8],
    pos: usize,
    version: u32,
    next_epoch: u64,
    end: Option<LogEnd>,
}

impl<'a> LogReader<'a> {
    /// Reads the magic and header of the log `bytes`; an error says why it
    /// is not a readable log.
    pub fn open(bytes: &'a [u8]) -> Result<(LogReader<'a>, pb::EpochLogHeader), String> {
        let (version, header, pos) = if let Some(rest) = bytes.strip_prefix(MAGIC) {
            let pos = MAGIC.len();
            let (payload, next) = match read_frame(bytes, pos) {
                Frame::Whole {
                    epoch: HEADER_EPOCH,
                    payload,
                    next,
                } => (payload, next),
                Frame::Whole { .. } => return Err("the header's frame is not a header".into()),
                Frame::Torn => {
                    return Err(format!(
                        "the header is cut short ({} bytes after the magic line)",
                        rest.len()
                    ));
                }
                Frame::Bad(problem) => return Err(format!("unreadable header: {problem}")),
            };
            let header = pb::EpochLogHeader::decode(payload)
                .map_err(|e| format!("unreadable header: {e}"))?;
            (3, header, next)
        } else if let Some(mut rest) = bytes.strip_prefix(MAGIC_V2) {
            let header = pb::EpochLogHeader::decode_length_delimited(&mut rest)
                .map_err(|e| format!("unreadable header: {e}"))?;
            (2, header, bytes.len() - rest.len())
        } else if bytes.starts_with(b"edgesim epoch log ") {
            let line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
            return Err(format!(
                "an epoch log of another version ({:?}); this edgesim reads versions 2 and 3",
                String::from_utf8_lossy(line)
            ));
        } else {
            return Err("not an edgesim epoch log".into());
        };
        if !READABLE_PROTOCOLS.contains(&header.protocol_version) {
            return Err(format!(
                "written by edgesim {} (protocol version {}); this edgesim reads logs of versions {READABLE_PROTOCOLS:?}",
                header.software_version, header.protocol_version
            ));
        }
        Ok((
            LogReader {
                bytes,
                pos,
                version,
                next_epoch: 0,
                end: None,
            },
            header,
        ))
    }

    /// The next whole record, `None` at the end (then see [`Self::end`]).
    pub fn next_record(&mut self) -> Option<pb::EpochLogRecord> {
        if self.end.is_some() {
            return None;
        }
        let offset = self.pos;
        let rest = &self.bytes[offset..];
        if rest.is_empty() {
            self.end = Some(LogEnd::Clean);
            return None;
        }
        let torn = LogEnd::TornTail {
            offset: offset as u64,
            bytes: rest.len() as u64,
        };
        let corrupt = |epoch: u64, problem: String| LogEnd::Corrupt {
            epoch,
            offset: offset as u64,
            problem,
        };
        let expected = self.next_epoch;
        let (epoch, payload, next) = if self.version == 2 {
            let mut cursor = rest;
            match next_v2_record(&mut cursor) {
                Some(z) => (expected, z, self.bytes.len() - cursor.len()),
                None => {
                    self.end = Some(torn);
                    return None;
                }
            }
        } else {
            match read_frame(self.bytes, offset) {
                Frame::Whole {
                    epoch,
                    payload,
                    next,
                } => (epoch, payload, next),
                Frame::Torn => {
                    self.end = Some(torn);
                    return None;
                }
                // Zeros to the end are what a crash can leave of the last
                // write.
                Frame::Bad(_) if rest.iter().all(|&b| b == 0) => {
                    self.end = Some(torn);
                    return None;
                }
                Frame::Bad(problem) => {
                    self.end = Some(corrupt(expected, problem));
                    return None;
                }
            }
        };
        let record = match inflate(payload) {
            Ok(raw) => pb::EpochLogRecord::decode(raw.as_slice())
                .map_err(|e| format!("the record does not decode: {e}")),
            Err(problem) => Err(problem),
        };
        let record = match record {
            Ok(r) => r,
            Err(problem) if self.version == 2 => {
                let _ = problem;
                self.end = Some(torn);
                return None;
            }
            Err(problem) => {
                self.end = Some(corrupt(epoch, problem));
                return None;
            }
        };
        if record.epoch != expected || (self.version == 3 && epoch != expected) {
            self.end = Some(corrupt(
                expected,
                format!(
                    "a record for epoch {} where epoch {expected} was expected",
                    record.epoch
                ),
            ));
            return None;
        }
        self.pos = next;
        self.next_epoch += 1;
        if record.aborted && self.pos < self.bytes.len() {
            // The run's last record: nothing may follow it.
            self.end = Some(LogEnd::Corrupt {
                epoch: self.next_epoch,
                offset: self.pos as u64,
                problem: format!(
                    "{} bytes after the record of the epoch the run stopped in",
                    self.bytes.len() - self.pos
                ),
            });
        }
        Some(record)
    }

    /// How the log ended (`None` until [`Self::next_record`] returned
    /// `None`).
    pub fn end(&self) -> Option<&LogEnd> {
        self.end.as_ref()
    }

    /// Bytes read so far (the offset of the next record).
    pub fn offset(&self) -> u64 {
        self.pos as u64
    }
}

/// One frame read at an offset.
enum Frame<'a> {
    /// A frame whose checksums match.
    Whole {
        epoch: u64,
        payload: &'a [u8],
        next: usize,
    },
    /// The file ends inside a frame whose head is intact (or inside its
    /// head).
    Torn,
    /// A damaged frame.
    Bad(String),
}

fn read_frame(bytes: &[u8], at: usize) -> Frame<'_> {
    let rest = &bytes[at..];
    let Some(head) = rest.get(..FRAME_HEAD) else {
        return Frame::Torn;
    };
    let word = |i: usize| u32::from_le_bytes([head[i], head[i + 1], head[i + 2], head[i + 3]]);
    let len = word(0) as usize;
    let epoch = u64::from(word(4)) | (u64::from(word(8)) << 32);
    if crc32fast::hash(&head[..12]) != word(12) {
        return Frame::Bad("checksum mismatch in the record's length and epoch".into());
    }
    if len > MAX_RECORD_BYTES {
        return Frame::Bad(format!(
            "a record of {len} bytes, more than a record may be ({MAX_RECORD_BYTES})"
        ));
    }
    let Some(body) = rest.get(..FRAME_HEAD + len + 4) else {
        return Frame::Torn;
    };
    let (framed, crc) = body.split_at(FRAME_HEAD + len);
    if crc32fast::hash(framed) != u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]) {
        return Frame::Bad(format!(
            "checksum mismatch in the record of epoch {epoch} ({len} bytes)"
        ));
    }
    Frame::Whole {
        epoch,
        payload: &framed[FRAME_HEAD..],
        next: at + body.len(),
    }
}

/// A version 2 record's compressed bytes (`None` at a truncated or
/// damaged end).
fn next_v2_record<'a>(rest: &mut &'a [u8]) -> Option<&'a [u8]> {
    let len = usize::try_from(prost::encoding::decode_varint(rest).ok()?).ok()?;
    if rest.len() < len || len > MAX_RECORD_BYTES {
        return None;
    }
    let (z, after) = rest.split_at(len);
    *rest = after;
    Some(z)
}

/// Decompresses a record, at most [`MAX_RAW_RECORD_BYTES`].
fn inflate(z: &[u8]) -> Result<Vec<u8>, String> {
    let mut raw = Vec::with_capacity(z.len().saturating_mul(4).min(64 << 20));
    flate2::read::DeflateDecoder::new(z)
        .take(MAX_RAW_RECORD_BYTES as u64 + 1)
        .read_to_end(&mut raw)
        .map_err(|e| format!("the record does not decompress: {e}"))?;
    if raw.len() > MAX_RAW_RECORD_BYTES {
        return Err(format!(
            "the record decompresses to more than {MAX_RAW_RECORD_BYTES} bytes"
        ));
    }
    Ok(raw)
}

/// What a whole log holds, without folding it (see [`parse_log`]).
#[derive(Debug)]
pub struct ParsedLog {
    /// The header.
    pub header: pb::EpochLogHeader,
    /// The epochs of the readable records, in order.
    pub epochs: Vec<u64>,
    /// The last record is of an epoch the run stopped in.
    pub aborted: bool,
    /// How the log ends.
    pub end: LogEnd,
}

/// Reads every record of the log `bytes` (decoding each, keeping none).
pub fn parse_log(bytes: &[u8]) -> Result<ParsedLog, String> {
    let (mut reader, header) = LogReader::open(bytes)?;
    let mut epochs = Vec::new();
    let mut aborted = false;
    while let Some(record) = reader.next_record() {
        epochs.push(record.epoch);
        aborted = record.aborted;
    }
    Ok(ParsedLog {
        header,
        epochs,
        aborted,
        end: reader.end().cloned().unwrap_or(LogEnd::Clean),
    })
}

/// What [`rebuild`] found.
#[derive(Debug)]
pub struct Rebuilt {
    /// The summary of every epoch saved.
    pub summary: Summary,
    /// Bytes at the end that did not form a whole record (an epoch the
    /// coordinator was writing when it died); 0 normally.
    pub trailing_bytes: usize,
    /// How the log ended.
    pub end: LogEnd,
}

/// Rebuilds the summary of the run whose log is at `path`: the scenario
/// comes from the log's header, every saved epoch is folded exactly as
/// the coordinator folded it. A torn final record is left out (the
/// summary is then incomplete); a corrupt record anywhere is an error
/// naming its epoch and offset.
pub fn rebuild(path: &Path) -> Result<Rebuilt, EpochLogError> {
    rebuild_with(path, false)
}

/// [`rebuild`], but a corrupt record ends the log instead of failing it:
/// the epochs before it make an incomplete summary.
pub fn rebuild_salvaging(path: &Path) -> Result<Rebuilt, EpochLogError> {
    rebuild_with(path, true)
}

fn rebuild_with(path: &Path, salvage: bool) -> Result<Rebuilt, EpochLogError> {
    let bad = |problem: String| EpochLogError {
        path: path.to_owned(),
        problem,
        corrupt: None,
    };
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(|e| bad(e.to_string()))?;
    let (mut reader, header) = LogReader::open(&bytes).map_err(bad)?;
    let sources = header.handler_sources.into_iter().collect();
    let scenario =
        Scenario::from_toml_with_sources(&header.scenario_name, &header.scenario_toml, &sources)
            .map_err(|d| bad(format!("the saved scenario does not validate:\n{d}")))?;
    let scenario = Arc::new(scenario);
    let mut fold = RunFold::new(Arc::clone(&scenario));
    while let Some(record) = reader.next_record() {
        let incidents = record
            .incidents
            .into_iter()
            .map(|i| incident_from_pb(i, &scenario))
            .collect();
        fold.controls(record.epoch);
        if record.aborted {
            fold.abort(incidents);
            break;
        }
        let reports: Vec<RegionEpochReport> = record
            .regions
            .into_iter()
            .map(|r| region_report_from_pb(record.epoch, r))
            .collect();
        fold.add_epoch(record.epoch, &reports, incidents)
            .map_err(|e| bad(format!("epoch {}: {e}", record.epoch)))?;
    }
    let end = reader.end().cloned().unwrap_or(LogEnd::Clean);
    let trailing_bytes = match &end {
        LogEnd::TornTail { bytes, .. } => *bytes as usize,
        LogEnd::Clean => 0,
        LogEnd::Corrupt {
            epoch,
            offset,
            problem,
        } => {
            if !salvage {
                return Err(EpochLogError {
                    path: path.to_owned(),
                    problem: format!(
                        "the record of epoch {epoch} at byte {offset} is corrupt ({problem}); the {epoch} epochs before it are intact"
                    ),
                    corrupt: Some((*epoch, *offset)),
                });
            }
            bytes.len() - *offset as usize
        }
    };
    Ok(Rebuilt {
        summary: fold.finish(),
        trailing_bytes,
        end,
    })
}
