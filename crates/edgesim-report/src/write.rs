//! Writing a report directory: everything goes to a hidden staging
//! directory beside the target, which is renamed into place only when
//! complete, so a failed run never leaves a half-written report.

use std::path::{Path, PathBuf};

use crate::plot::{LatencyOffload, PlotError, write_svg_and_png};
use crate::summary::{EpochRow, Summary};

/// A report that could not be written; the target was left as it was.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// File-system trouble.
    #[error("cannot write report {path}: {source}")]
    Io {
        /// The path concerned.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A plot failed.
    #[error(transparent)]
    Plot(#[from] PlotError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ReportError + '_ {
    move |source| ReportError::Io {
        path: path.to_owned(),
        source,
    }
}

/// The files of a report, written into `dir` (which must exist).
fn write_files(dir: &Path, summary: &Summary) -> Result<(), ReportError> {
    let json = serde_json::to_string_pretty(summary).expect("summary serialises");
    let path = dir.join("summary.json");
    std::fs::write(&path, json + "\n").map_err(io(&path))?;
    let path = dir.join("timeseries.csv");
    std::fs::write(&path, timeseries_csv(&summary.timeseries)).map_err(io(&path))?;
    let figure = LatencyOffload {
        title: format!("{} (seed {})", summary.scenario, summary.seed),
        rows: &summary.timeseries,
    };
    write_svg_and_png(dir, "latency_offload", &figure)?;
    Ok(())
}

/// The time series as CSV text with a header line.
pub fn timeseries_csv(rows: &[EpochRow]) -> String {
    let mut out = String::with_capacity(64 * (rows.len() + 1));
    out.push_str(EpochRow::CSV_HEADER);
    out.push('\n');
    for r in rows {
        out.push_str(&r.csv_line());
        out.push('\n');
    }
    out
}

/// Writes the report for `summary` to `dir`, replacing any previous
/// report there only once the new one is complete.
pub fn write_report(dir: &Path, summary: &Summary) -> Result<(), ReportError> {
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(io(parent))?;
    let name = dir
        .file_name()
        .map_or_else(|| "report".into(), |n| n.to_string_lossy().into_owned());
    let staging = parent.join(format!(".{name}.partial-{}", std::process::id()));
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(io(&staging))?;
    }
    std::fs::create_dir(&staging).map_err(io(&staging))?;
    if let Err(e) = write_files(&staging, summary) {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e);
    }
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(io(dir))?;
    }
    std::fs::rename(&staging, dir).map_err(io(dir))?;
    Ok(())
}
