//! Reports: folding per-epoch region reports into run totals
//! ([`RunAccumulator`]), the stable `summary.json` schema ([`Summary`]),
//! `timeseries.csv`, plots, and writing a report directory so that it is
//! either complete or absent.

pub mod accumulate;
pub mod plot;
pub mod summary;
pub mod write;

pub use accumulate::{AccumulateError, RunAccumulator};
pub use summary::{EpochRow, LatencyMs, SCHEMA_VERSION, Summary};
pub use write::{ReportError, write_report};
