//! `edgesim validate`: every problem of every file at once, and for a
//! valid file what it asks for (the estimate of `edgesim_model::limits`).

use std::path::{Path, PathBuf};

use anyhow::Context;
use std::process::ExitCode;

use crate::input_limits::LimitArgs;

/// Arguments of `edgesim validate`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Scenario files (TOML).
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Override a scenario value before validating (as for `run`); repeatable.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
    #[command(flatten)]
    limits: LimitArgs,
}

/// Reads a scenario file (at most `edgesim_model::input::MAX_SCENARIO_BYTES`,
/// UTF-8) and applies `--set` overrides (and `--seed`).
/// Returns the name diagnostics will use and the text to validate: with
/// overrides, positions refer to the rewritten text, and the name says so.
pub fn read_with_overrides(
    path: &Path,
    set: &[String],
    seed: Option<u64>,
) -> anyhow::Result<(String, String)> {
    let text = edgesim_model::input::read_scenario(path)
        .map_err(|e| anyhow::anyhow!("cannot read scenario {e}"))?;
    let mut overrides = set.to_vec();
    if let Some(seed) = seed {
        overrides.push(format!("simulation.seed={seed}"));
    }
    if overrides.is_empty() {
        return Ok((path.display().to_string(), text));
    }
    let name = path.display().to_string();
    let rewritten = match edgesim_model::overrides::apply_overrides(&text, &overrides) {
        Ok(rewritten) => rewritten,
        Err(e) => {
            // A file that is not TOML: its own problems, with their places.
            if e.problem.starts_with("the scenario is not valid TOML")
                && let Err(d) = edgesim_model::Scenario::from_toml(&name, &text)
            {
                anyhow::bail!("{d}\n{name} is not valid TOML; cannot apply --set");
            }
            return Err(e).with_context(|| format!("cannot apply overrides to {name}"));
        }
    };
    Ok((format!("{name} (after --set)"), rewritten))
}

/// Validates each file; exit 1 if any has a problem (warnings, printed
/// to stderr, do not fail).
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut failed = false;
    for path in &args.files {
        let (name, text) = match read_with_overrides(path, &args.set, None) {
            Ok(loaded) => loaded,
            Err(e) => {
                failed = true;
                eprintln!("error: {e:#}");
                continue;
            }
        };
        match crate::input_limits::validate(&name, &text, &args.limits) {
            Ok((s, estimate)) => {
                crate::input_limits::print_warnings(&s);
                println!(
                    "{}: ok ({} PoPs in {} regions, {} origins, {} countries, {} behaviors, {} epochs)",
                    path.display(),
                    s.pops.len(),
                    s.regions.len(),
                    s.origins.len(),
                    s.viewers.countries.len(),
                    s.behaviors.len(),
                    s.simulation.epochs()
                );
                println!("{}: {estimate}", path.display());
            }
            Err(d) => {
                failed = true;
                eprintln!("{d}");
            }
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
