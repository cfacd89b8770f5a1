//! `edgesim report`: redraw a saved report's plots and index.html from its
//! summary.json and histograms.json (after an upgrade, or when plots were
//! deleted), leaving the data files untouched; or rebuild the whole report
//! from the coordinator's epoch log (a run whose coordinator was killed or
//! interrupted: `edgesim report DIR.partial --rebuild`).
//!
//! A rebuild never replaces a report with a less complete one (fewer
//! epochs, or a complete one by an incomplete one) without `--force`, and
//! refuses a log with a corrupt record (naming its epoch and offset)
//! unless `--force` is given, which rebuilds the epochs before it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

/// Arguments of `edgesim report`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Report directory written by `edgesim run` (holds summary.json and
    /// histograms.json), or the `DIR.partial` an unfinished run left.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// Rebuild summary.json, histograms.json, timeseries.csv, the plots and
    /// index.html from the epoch log (epochs.log) instead of redrawing from
    /// summary.json; the default when summary.json is missing.
    #[arg(long)]
    rebuild: bool,
    /// With --rebuild: replace the report even with a less complete one
    /// (fewer epochs, or incomplete where it was complete), and rebuild the
    /// epochs before a corrupt record of the log.
    #[arg(long, requires = "rebuild")]
    force: bool,
}

/// Reads the saved report and redraws it in place.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let log = args.dir.join(edgesim_coordinator::EPOCH_LOG_FILE);
    if args.rebuild || (!args.dir.join("summary.json").exists() && log.exists()) {
        return rebuild(&args.dir, &log, args.force);
    }
    let partial_log =
        crate::dirlock::partial_of(&args.dir).join(edgesim_coordinator::EPOCH_LOG_FILE);
    if !args.dir.join("summary.json").exists() && partial_log.exists() {
        anyhow::bail!(
            "{} holds no report; an unfinished run's epochs are in {}: `edgesim report {} --rebuild` makes a report of them",
            args.dir.display(),
            partial_log.display(),
            crate::dirlock::partial_of(&args.dir).display()
        );
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

/// How complete the report already in a directory is: its epochs and
/// whether it is complete (`None` without a readable summary.json).
fn existing(dir: &Path) -> Option<(u64, bool)> {
    let text = std::fs::read_to_string(dir.join("summary.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    Some((v["epochs"].as_u64()?, v["complete"].as_bool()?))
}

fn describe((epochs, complete): (u64, bool)) -> String {
    format!(
        "{epochs} epochs, {}",
        if complete { "complete" } else { "incomplete" }
    )
}

/// Rebuilds the report in `dir` from its epoch log.
fn rebuild(dir: &Path, log: &Path, force: bool) -> anyhow::Result<ExitCode> {
    let _lock = crate::dirlock::DirLock::acquire(dir)?;
    let rebuilt = if force {
        edgesim_coordinator::rebuild_salvaging(log)?
    } else {
        edgesim_coordinator::rebuild(log).map_err(|e| {
            let hint = if e.corrupt.is_some() {
                format!(
                    "; `edgesim report {} --rebuild --force` rebuilds the epochs before it, marked incomplete",
                    dir.display()
                )
            } else {
                String::new()
            };
            anyhow::Error::new(e).context(format!("cannot rebuild {}{hint}", dir.display()))
        })?
    };
    let s = &rebuilt.summary;
    let new = (s.epochs, s.complete);
    if let Some(old) = existing(dir) {
        let worse = new.0 < old.0 || (old.1 && !new.1);
        if worse && !force {
            anyhow::bail!(
                "refusing to replace the report in {} ({}) with one rebuilt from {} ({}); --force replaces it anyway",
                dir.display(),
                describe(old),
                log.display(),
                describe(new)
            );
        }
    }
    edgesim_report::write_report_keeping(dir, s, &[edgesim_coordinator::EPOCH_LOG_FILE])
        .with_context(|| format!("cannot write the rebuilt report to {}", dir.display()))?;
    let ignored = match &rebuilt.end {
        edgesim_coordinator::LogEnd::Clean => String::new(),
        edgesim_coordinator::LogEnd::TornTail { bytes, .. } => {
            format!("; {bytes} bytes of an epoch being written when the log stopped were ignored")
        }
        edgesim_coordinator::LogEnd::Corrupt {
            epoch,
            offset,
            problem,
        } => format!(
            "; the log is corrupt from the record of epoch {epoch} at byte {offset} ({problem}): it and what follows were ignored"
        ),
    };
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
        ignored
    );
    println!("report: {}", dir.join("index.html").display());
    Ok(ExitCode::SUCCESS)
}
