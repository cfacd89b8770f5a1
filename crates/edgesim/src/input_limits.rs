//! The `--no-limits` flag of `validate`, `run`, `compare` and `sweep`, and
//! loading a scenario within the limits of `edgesim_model::limits`: the
//! cheap list-length checks before validation, the estimate after it.

use std::path::Path;
use std::sync::Arc;

use edgesim_model::limits::{self, Estimate};
use edgesim_model::{Diagnostics, Scenario};

/// Whether the work and memory limits apply.
#[derive(clap::Args, Debug, Clone, Default)]
pub(crate) struct LimitArgs {
    /// Lift the work and memory limits (requests, epochs, list lengths,
    /// estimated memory; see README "Limits and safety: input"), for
    /// scenarios meant to be that large.
    #[arg(long)]
    pub(crate) no_limits: bool,
}

/// Validates scenario text (named `source_name` in diagnostics) within the
/// limits unless lifted, and estimates it. The diagnostics are every
/// problem found: list lengths over their limits (validation is then not
/// attempted), else validation problems, else figures over their limits.
pub(crate) fn validate(
    source_name: &str,
    text: &str,
    limits: &LimitArgs,
) -> Result<(Scenario, Estimate), Diagnostics> {
    if !limits.no_limits {
        limits::precheck(source_name, text)?;
    }
    let scenario = Scenario::from_toml(source_name, text)?;
    let estimate = if limits.no_limits {
        limits::estimate(&scenario)
    } else {
        limits::check(source_name, text, &scenario)?
    };
    Ok((scenario, estimate))
}

/// Prints a valid scenario's warnings to stderr, one line each
/// (`file:line:col: warning: ...`).
pub(crate) fn print_warnings(scenario: &Scenario) {
    for w in &scenario.warnings {
        eprintln!("{}", edgesim_model::Warning(w));
    }
}

/// [`validate`] for commands that go on to run the scenario: prints every
/// problem and fails naming `path` when there is any, and a valid
/// scenario's warnings once.
pub(crate) fn load(
    path: &Path,
    source_name: &str,
    text: &str,
    limits: &LimitArgs,
) -> anyhow::Result<Arc<Scenario>> {
    match validate(source_name, text, limits) {
        Ok((s, _)) => {
            print_warnings(&s);
            Ok(Arc::new(s))
        }
        Err(d) => {
            eprintln!("{d}");
            anyhow::bail!(
                "{} has {} problem(s); nothing was run",
                path.display(),
                d.0.len()
            );
        }
    }
}
