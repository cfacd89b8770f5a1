//! The epoch log: the coordinator's append-only record of a run, written
//! to the report directory as it goes (`epochs.log`). A header (the
//! scenario text and handler sources), then one record per completed epoch
//! (every region's report and the incidents handled): the header a
//! length-delimited protobuf message (proto/edgesim/v1/agent.proto), each
//! record a length-delimited deflate stream of one such message (a 450-PoP
//! epoch is a few hundred kB raw, mostly histograms that compress well). Each
//! record is written and flushed before the next epoch starts, so a killed
//! coordinator loses at most the epoch in flight; [`rebuild`] turns what
//! was saved back into a summary.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use edgesim_model::Scenario;
use edgesim_proto::{PROTOCOL_VERSION, SOFTWARE_VERSION, pb, region_report_from_pb};
use edgesim_report::{Incident, Summary};
use edgesim_sim::RegionEpochReport;
use prost::Message;

use crate::fold::RunFold;

/// The log's file name inside a report directory.
pub const EPOCH_LOG_FILE: &str = "epochs.log";

/// First bytes of every epoch log.
const MAGIC: &[u8] = b"edgesim epoch log 2\n";

/// Why an epoch log could not be written or read back.
#[derive(Debug, thiserror::Error)]
#[error("{}: {problem}", path.display())]
pub struct EpochLogError {
    /// The log file.
    pub path: PathBuf,
    /// What is wrong.
    pub problem: String,
}

/// Appends a run's epochs to its log.
pub(crate) struct EpochLogWriter {
    path: PathBuf,
    file: BufWriter<File>,
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
        file.write_all(&header.encode_length_delimited_to_vec())
            .map_err(err)?;
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
        };
        let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(&record.encode_to_vec()).map_err(err)?;
        let z = z.finish().map_err(err)?;
        let mut framed = Vec::with_capacity(z.len() + 10);
        prost::encoding::encode_varint(z.len() as u64, &mut framed);
        framed.extend_from_slice(&z);
        self.file.write_all(&framed).map_err(err)?;
        self.file.flush().map_err(err)
    }

    /// Flushes and syncs the log to disk at the end of a run.
    pub(crate) fn finish(mut self) -> Result<(), EpochLogError> {
        let path = self.path.clone();
        let err = |e: std::io::Error| EpochLogError {
            path: path.clone(),
            problem: e.to_string(),
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

/// What [`rebuild`] found.
#[derive(Debug)]
pub struct Rebuilt {
    /// The summary of every epoch saved.
    pub summary: Summary,
    /// Bytes at the end that did not form a whole record (an epoch the
    /// coordinator was writing when it died); 0 normally.
    pub trailing_bytes: usize,
}

/// Rebuilds the summary of the run whose log is at `path`: the scenario
/// comes from the log's header, every saved epoch is folded exactly as
/// the coordinator folded it.
pub fn rebuild(path: &Path) -> Result<Rebuilt, EpochLogError> {
    let bad = |problem: String| EpochLogError {
        path: path.to_owned(),
        problem,
    };
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(|e| bad(e.to_string()))?;
    let mut rest = bytes
        .strip_prefix(MAGIC)
        .ok_or_else(|| bad("not an edgesim epoch log".into()))?;
    let header = pb::EpochLogHeader::decode_length_delimited(&mut rest)
        .map_err(|e| bad(format!("unreadable header: {e}")))?;
    if header.protocol_version != PROTOCOL_VERSION {
        return Err(bad(format!(
            "written by edgesim {} (log version {}); this edgesim reads version {PROTOCOL_VERSION}",
            header.software_version, header.protocol_version
        )));
    }
    let sources = header.handler_sources.into_iter().collect();
    let scenario =
        Scenario::from_toml_with_sources(&header.scenario_name, &header.scenario_toml, &sources)
            .map_err(|d| bad(format!("the saved scenario does not validate:\n{d}")))?;
    let scenario = Arc::new(scenario);
    let mut fold = RunFold::new(Arc::clone(&scenario));
    let mut next = 0u64;
    let mut trailing_bytes = 0;
    while !rest.is_empty() {
        let before = rest;
        let Some(record) = next_record(&mut rest) else {
            trailing_bytes = before.len();
            break;
        };
        if record.epoch != next {
            return Err(bad(format!(
                "record for epoch {} where epoch {next} was expected",
                record.epoch
            )));
        }
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
        next += 1;
    }
    Ok(Rebuilt {
        summary: fold.finish(),
        trailing_bytes,
    })
}

/// The next whole record of a log (`None` at a truncated or damaged end).
fn next_record(rest: &mut &[u8]) -> Option<pb::EpochLogRecord> {
    let len = usize::try_from(prost::encoding::decode_varint(rest).ok()?).ok()?;
    if rest.len() < len {
        return None;
    }
    let (z, after) = rest.split_at(len);
    let mut raw = Vec::new();
    flate2::read::DeflateDecoder::new(z)
        .read_to_end(&mut raw)
        .ok()?;
    let record = pb::EpochLogRecord::decode(raw.as_slice()).ok()?;
    *rest = after;
    Some(record)
}
