//! `edgesim report`: redraw a saved report's plots and index.html from its
//! summary.json and histograms.json (after an upgrade, or when plots were
//! deleted), leaving the data files untouched; or rebuild the whole report
//! from the coordinator's epoch log (a run whose coordinator was killed).

use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `edgesim report`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Report directory written by `edgesim run` (holds summary.json and
    /// histograms.json).
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// Rebuild summary.json, histograms.json, timeseries.csv, the plots and
    /// index.html from the epoch log (epochs.log) instead of redrawing from
    /// summary.json; the default when summary.json is missing.
    #[arg(long)]
    rebuild: bool,
}

/// Reads the saved report and redraws it in place.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let log = args.dir.join(edgesim_coordinator::EPOCH_LOG_FILE);
    if args.rebuild || (!args.dir.join("summary.json").exists() && log.exists()) {
        return rebuild(&args.dir, &log);
    }
    // Any problem with the saved files is one error naming the file; it
    // is found before anything is written.
    let summary = edgesim_report::read_report(&args.dir)?;
    let written = edgesim_report::regenerate_report(&args.dir, &summary)?;
    println!(
        "{}: {} files redrawn from {}",
        summary.scenario,
        written.len(),
        args.dir.join("summary.json").display()
    );
    println!("report: {}", args.dir.join("index.html").display());
    Ok(ExitCode::SUCCESS)
}

/// Rebuilds the report in `dir` from its epoch log.
fn rebuild(dir: &std::path::Path, log: &std::path::Path) -> anyhow::Result<ExitCode> {
    let rebuilt = edgesim_coordinator::rebuild(log)?;
    let s = &rebuilt.summary;
    edgesim_report::write_report_keeping(dir, s, &[edgesim_coordinator::EPOCH_LOG_FILE])?;
    println!(
        "{}: rebuilt from {}: {} of {} epochs ({} simulated s){}{}",
        s.scenario,
        log.display(),
        s.epochs,
        (s.duration_secs / s.epoch_secs).ceil(),
        s.simulated_secs,
        if s.complete {
            ""
        } else {
            "; the report is marked incomplete"
        },
        if rebuilt.trailing_bytes > 0 {
            format!(
                "; {} bytes of an epoch being written when the log stopped were ignored",
                rebuilt.trailing_bytes
            )
        } else {
            String::new()
        }
    );
    println!("report: {}", dir.join("index.html").display());
    Ok(ExitCode::SUCCESS)
}
