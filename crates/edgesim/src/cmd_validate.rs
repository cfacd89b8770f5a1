//! `edgesim validate`: every problem of every file at once.

use std::path::PathBuf;
use std::process::ExitCode;

use edgesim_model::Scenario;
use edgesim_model::scenario::LoadError;

/// Arguments of `edgesim validate`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Scenario files (TOML).
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

/// Validates each file; exit 1 if any has a problem.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut failed = false;
    for path in &args.files {
        match Scenario::load(path) {
            Ok(s) => println!(
                "{}: ok ({} PoPs in {} regions, {} origins, {} countries, {} epochs)",
                path.display(),
                s.pops.len(),
                s.regions.len(),
                s.origins.len(),
                s.viewers.countries.len(),
                s.simulation.epochs()
            ),
            Err(LoadError::Invalid(d)) => {
                failed = true;
                eprintln!("{d}");
            }
            Err(e) => {
                failed = true;
                eprintln!("error: {e}");
            }
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
