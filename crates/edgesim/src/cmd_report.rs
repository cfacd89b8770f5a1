//! `edgesim report`: redraw a saved report's plots and index.html from its
//! summary.json and histograms.json (after an upgrade, or when plots were
//! deleted), leaving the data files untouched.

use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `edgesim report`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Report directory written by `edgesim run` (holds summary.json and
    /// histograms.json).
    #[arg(value_name = "DIR")]
    dir: PathBuf,
}

/// Reads the saved report and redraws it in place.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
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
