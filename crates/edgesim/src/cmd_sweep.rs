//! `edgesim sweep`: run a scenario once per value of one parameter, plot
//! the metrics against the value, and say which limit broke first.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use edgesim_report::compare::{
    Limit, StagedDir, Sweep, SweepAxis, SweepPoint, display, metric_keys, metrics, write_sweep,
};

use crate::cmd_run::{AgentArgs, ProgressMode, load_scenario, run_and_write};

/// Arguments of `edgesim sweep`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Scenario file (TOML).
    #[arg(value_name = "SCENARIO")]
    scenario: PathBuf,
    /// The scenario value to sweep, as `--set` names it (e.g.
    /// `viewers.requests_per_sec`, `pops.cache_bytes`).
    #[arg(long, value_name = "PATH")]
    param: String,
    /// The values, in order (comma-separated; each as `--set` takes it:
    /// `1000`, `4GiB`, `s3fifo`).
    #[arg(long, value_name = "V1,V2,...", value_delimiter = ',', required = true)]
    values: Vec<String>,
    /// A limit on a metric: a maximum where lower is better (`p99_ms=250`,
    /// `error_rate=0.01`, `peak_origin_rps=5000`), a minimum where higher is
    /// better (`offload_requests=0.9`: at least 0.9); repeatable.
    #[arg(long = "limit", value_name = "METRIC=VALUE")]
    limits: Vec<String>,
    #[command(flatten)]
    agents: AgentArgs,
    /// Output directory [default: reports/<scenario name>-sweep-<last key
    /// of PATH>].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Override a scenario value for every run (before the swept one);
    /// repeatable.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
    /// Run seed for every run, instead of the scenario's `simulation.seed`.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// No progress output.
    #[arg(long, short)]
    quiet: bool,
}

/// `param=value` as a directory name (see [`safe`]).
fn dir_name(param: &str, value: &str) -> String {
    safe(&format!("{param}={value}"))
}

/// `text` as a directory name: letters, digits and `._=+-` kept,
/// anything else `_`; never hidden.
fn safe(text: &str) -> String {
    let name: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._=+-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.starts_with('.') {
        format!("_{name}")
    } else {
        name
    }
}

/// How the values lie on an axis, and each one's position: numbers when
/// all are numbers, byte counts when all are sizes, else their indices.
fn axis(values: &[String]) -> (SweepAxis, Vec<f64>) {
    let numbers: Option<Vec<f64>> = values
        .iter()
        .map(|v| v.parse::<f64>().ok().filter(|x| x.is_finite()))
        .collect();
    if let Some(xs) = numbers {
        return (SweepAxis::Numeric, xs);
    }
    let sizes: Option<Vec<f64>> = values
        .iter()
        .map(|v| {
            edgesim_cache::size::parse_bytes(v.trim_matches('"'))
                .ok()
                .map(|b| b as f64)
        })
        .collect();
    match sizes {
        Some(xs) => (SweepAxis::Bytes, xs),
        None => (
            SweepAxis::Categorical,
            (0..values.len()).map(|i| i as f64).collect(),
        ),
    }
}

/// Checks the parameter, values and limits; nothing runs when one is bad.
fn check(args: &Args) -> anyhow::Result<(Vec<Limit>, Vec<String>)> {
    let limits = args
        .limits
        .iter()
        .map(|l| Limit::parse(l).map_err(anyhow::Error::msg))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let param = args.param.trim();
    anyhow::ensure!(
        !param.is_empty() && !param.contains('=') && param.split('.').all(|k| !k.trim().is_empty()),
        "--param \"{}\": expected a dotted scenario path such as viewers.requests_per_sec",
        args.param
    );
    let values: Vec<String> = args.values.iter().map(|v| v.trim().to_owned()).collect();
    for (i, v) in values.iter().enumerate() {
        anyhow::ensure!(
            !v.is_empty(),
            "--values: value #{} is empty (values are comma-separated: --values 1000,2000)",
            i + 1
        );
        anyhow::ensure!(!values[..i].contains(v), "--values: \"{v}\" is given twice");
        let dir = dir_name(param, v);
        anyhow::ensure!(
            !values[..i].iter().any(|w| dir_name(param, w) == dir),
            "--values: \"{v}\" and an earlier value share the report directory {dir}"
        );
    }
    Ok((limits, values))
}

/// Runs the sweep and writes it.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (limits, values) = check(&args)?;
    let param = args.param.trim().to_owned();
    let path = args.scenario.as_path();
    let (source_name, text) = crate::cmd_validate::read_with_overrides(path, &args.set, args.seed)?;
    let base = load_scenario(path, &source_name, &text)?;
    // Every value's scenario is validated before the first run.
    let mut planned = Vec::with_capacity(values.len());
    for v in &values {
        let spec = format!("{param}={v}");
        let mut overrides = args.set.clone();
        overrides.push(spec.clone());
        let (_, t) = crate::cmd_validate::read_with_overrides(path, &overrides, args.seed)?;
        let s = load_scenario(path, &format!("{} (--set {spec})", path.display()), &t)?;
        planned.push((v.clone(), s, t));
    }
    let last_key = param.rsplit('.').next().unwrap_or(&param);
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("reports").join(safe(&format!("{}-sweep-{last_key}", base.name)))
    });
    let (axis, xs) = axis(&values);
    let staged = StagedDir::new(&out)?;
    let total = planned.len();
    let mut points = Vec::with_capacity(total);
    for (k, ((value, s, t), x)) in planned.into_iter().zip(xs).enumerate() {
        let name = dir_name(&param, &value);
        let dir = staged.path().join(&name);
        let started = Instant::now();
        run_and_write(
            s,
            &t,
            &args.agents,
            ProgressMode::new(args.quiet, false),
            &dir,
        )
        .with_context(|| format!("{param} = {value}"))?;
        let summary = edgesim_report::read_report(&dir)?;
        if !args.quiet {
            eprintln!(
                "[{}/{total}] {param} = {value}: {}",
                k + 1,
                crate::cmd_compare::one_line(&summary, started.elapsed().as_secs_f64())
            );
        }
        points.push(SweepPoint {
            value,
            x,
            report: name,
            summary,
        });
    }
    let sweep = Sweep {
        scenario: base.name.clone(),
        param,
        axis,
        points,
        limits,
    };
    write_sweep(staged.path(), &sweep)?;
    staged.commit()?;
    print_table(&sweep);
    println!("{}", sweep.verdict());
    println!("sweep: {}", out.join("index.html").display());
    Ok(ExitCode::SUCCESS)
}

/// The plotted metrics per value on stdout.
fn print_table(s: &Sweep) {
    let keys: Vec<&str> = edgesim_report::compare::SWEEP_PLOTS
        .iter()
        .copied()
        .filter(|k| metric_keys().contains(k))
        .collect();
    println!("{}: {}", s.scenario, s.param);
    for p in &s.points {
        let ms = metrics(&p.summary);
        let cells: Vec<String> = keys
            .iter()
            .filter_map(|k| ms.iter().find(|m| m.key == *k))
            .map(|m| format!("{} {}", m.key, display(m)))
            .collect();
        println!("  {} = {}: {}", s.param, p.value, cells.join(", "));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_become_safe_directory_names_and_axes() {
        assert_eq!(
            dir_name("pops.cache_bytes", "1GiB"),
            "pops.cache_bytes=1GiB"
        );
        assert_eq!(dir_name("a", "\"x y\"/z"), "a=_x_y__z");
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            axis(&v(&["1000", "2e3"])),
            (SweepAxis::Numeric, vec![1000.0, 2000.0])
        );
        assert_eq!(
            axis(&v(&["1KiB", "2048"])),
            (SweepAxis::Bytes, vec![1024.0, 2048.0])
        );
        assert_eq!(
            axis(&v(&["lru", "sieve"])),
            (SweepAxis::Categorical, vec![0.0, 1.0])
        );
    }
}
