//! Reports: folding per-epoch region reports into run totals
//! ([`RunAccumulator`]), the stable `summary.json` schema ([`Summary`]),
//! `timeseries.csv`, the latency histograms (`histograms.json`), plots,
//! `index.html`, and writing a report directory so that it is either
//! complete or absent; reading one back to redraw it.

pub mod accumulate;
mod base64;
pub mod compare;
pub mod cost;
pub mod histograms;
pub mod html;
pub mod plot;
pub mod shield;
pub mod sparse;
pub mod summary;
pub mod write;

pub use accumulate::{AccumulateError, RunAccumulator};
pub use histograms::RunHistograms;
pub use summary::{
    EpochRow, GateEvaluationRow, Incident, LatencyMs, MigrationEpoch, MigrationSummary,
    SCHEMA_VERSION, Summary, TierShares,
};
pub use write::{
    ReadError, ReportError, read_report, regenerate_report, replace_dir, write_report,
    write_report_in, write_report_keeping,
};

#[cfg(test)]
mod testkit;
