//! `edgesim sweep`: run a scenario once per value of one parameter (or
//! per combination of the values of several: a grid), plot the metrics
//! against the value, and say which limit broke first.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use edgesim_report::compare::{
    Limit, StagedDir, Sweep, SweepAxis, SweepDim, SweepPoint, display, metric_keys, metrics,
    write_sweep,
};

use crate::cmd_compare::RunsProgress;
use crate::cmd_run::{AgentArgs, load_scenario, run_and_write};

/// Arguments of `edgesim sweep`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Scenario file (TOML).
    #[arg(value_name = "SCENARIO")]
    scenario: PathBuf,
    /// The scenario value to sweep, as `--set` names it (e.g.
    /// `viewers.requests_per_sec`, `pops.cache_bytes`); with --values, the
    /// same as one `--vary PATH=V1,V2,...` (given first).
    #[arg(long, value_name = "PATH", requires = "values")]
    param: Option<String>,
    /// The values of --param, in order (comma-separated; each as `--set`
    /// takes it: `1000`, `4GiB`, `s3fifo`).
    #[arg(
        long,
        value_name = "V1,V2,...",
        value_delimiter = ',',
        requires = "param"
    )]
    values: Vec<String>,
    /// A scenario value and its values, in order: `--vary
    /// pops.cache_bytes=1GiB,4GiB`; repeatable: the runs are every
    /// combination of the values (the first given varies slowest).
    #[arg(long = "vary", value_name = "PATH=V1,V2,...")]
    vary: Vec<String>,
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
    #[command(flatten)]
    input_limits: crate::input_limits::LimitArgs,
}

/// `param=value` as a directory name (see [`safe`]).
fn dir_name(param: &str, value: &str) -> String {
    safe(&format!("{param}={value}"))
}

/// `text` as a directory name: letters, digits and `._=+-` kept,
/// anything else `_`; never hidden.
pub(crate) fn safe(text: &str) -> String {
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

/// One swept path and its values, as given.
struct Dim {
    /// How the user gave it, for messages: `--values` or `--vary PATH`.
    flag: String,
    path: String,
    values: Vec<String>,
}

/// The swept dimensions from `--param/--values` (first) and each
/// `--vary`, checked.
fn dims(args: &Args) -> anyhow::Result<Vec<Dim>> {
    let mut dims = Vec::new();
    if let Some(param) = &args.param {
        dims.push(Dim {
            flag: "--values".into(),
            path: param.trim().to_owned(),
            values: args.values.iter().map(|v| v.trim().to_owned()).collect(),
        });
    }
    for spec in &args.vary {
        let Some((path, values)) = spec.split_once('=') else {
            anyhow::bail!(
                "--vary \"{spec}\": expected PATH=V1,V2,... such as viewers.requests_per_sec=1000,2000"
            );
        };
        dims.push(Dim {
            flag: format!("--vary {}", path.trim()),
            path: path.trim().to_owned(),
            values: values.split(',').map(|v| v.trim().to_owned()).collect(),
        });
    }
    anyhow::ensure!(
        !dims.is_empty(),
        "nothing to sweep: give --vary PATH=V1,V2,... (repeatable) or --param PATH --values V1,V2,..."
    );
    for (k, d) in dims.iter().enumerate() {
        anyhow::ensure!(
            !d.path.is_empty()
                && !d.path.contains('=')
                && d.path.split('.').all(|key| !key.trim().is_empty()),
            "{} \"{}\": expected a dotted scenario path such as viewers.requests_per_sec",
            if d.flag == "--values" {
                "--param"
            } else {
                "--vary"
            },
            d.path
        );
        anyhow::ensure!(
            !dims[..k].iter().any(|e| e.path == d.path),
            "{} is swept twice",
            d.path
        );
        for (i, v) in d.values.iter().enumerate() {
            anyhow::ensure!(
                !v.is_empty(),
                "{}: value #{} is empty (values are comma-separated: 1000,2000)",
                d.flag,
                i + 1
            );
            anyhow::ensure!(
                !d.values[..i].contains(v),
                "{}: \"{v}\" is given twice",
                d.flag
            );
            let dir = dir_name(&d.path, v);
            anyhow::ensure!(
                !d.values[..i].iter().any(|w| dir_name(&d.path, w) == dir),
                "{}: \"{v}\" and an earlier value share the report directory {dir}",
                d.flag
            );
        }
    }
    Ok(dims)
}

/// Every combination of one value per dimension, as value indices; the
/// last dimension varies fastest.
fn grid(sizes: &[usize]) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = vec![Vec::new()];
    for &n in sizes {
        out = out
            .into_iter()
            .flat_map(|prefix| {
                (0..n).map(move |k| {
                    let mut p = prefix.clone();
                    p.push(k);
                    p
                })
            })
            .collect();
    }
    out
}

/// Runs the sweep and writes it.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let limits = args
        .limits
        .iter()
        .map(|l| Limit::parse(l).map_err(anyhow::Error::msg))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let dims = dims(&args)?;
    let path = args.scenario.as_path();
    let (source_name, text) = crate::cmd_validate::read_with_overrides(path, &args.set, args.seed)?;
    let base = load_scenario(path, &source_name, &text, &args.input_limits)?;
    // Every combination's scenario is validated before the first run.
    let combinations = grid(&dims.iter().map(|d| d.values.len()).collect::<Vec<_>>());
    let mut planned = Vec::with_capacity(combinations.len());
    for at in combinations {
        let specs: Vec<String> = dims
            .iter()
            .zip(&at)
            .map(|(d, &k)| format!("{}={}", d.path, d.values[k]))
            .collect();
        let mut overrides = args.set.clone();
        overrides.extend(specs.iter().cloned());
        let (_, t) = crate::cmd_validate::read_with_overrides(path, &overrides, args.seed)?;
        let shown = specs
            .iter()
            .map(|s| format!("--set {s}"))
            .collect::<Vec<_>>()
            .join(" ");
        let s = load_scenario(
            path,
            &format!("{} ({shown})", path.display()),
            &t,
            &args.input_limits,
        )?;
        planned.push((at, s, t));
    }
    let param = dims
        .iter()
        .map(|d| d.path.as_str())
        .collect::<Vec<_>>()
        .join(" × ");
    let last_keys: Vec<&str> = dims
        .iter()
        .map(|d| d.path.rsplit('.').next().unwrap_or(&d.path))
        .collect();
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("reports").join(safe(&format!(
            "{}-sweep-{}",
            base.name,
            last_keys.join("-")
        )))
    });
    let sweep_dims: Vec<SweepDim> = dims
        .iter()
        .map(|d| {
            let (axis, xs) = axis(&d.values);
            SweepDim {
                path: d.path.clone(),
                values: d.values.clone(),
                axis,
                xs,
            }
        })
        .collect();
    let staged = StagedDir::new(&out)?;
    let progress = RunsProgress::new(args.quiet, planned.len());
    let mut points = Vec::with_capacity(planned.len());
    for (k, (at, s, t)) in planned.into_iter().enumerate() {
        let name = at
            .iter()
            .zip(&dims)
            .map(|(&i, d)| dir_name(&d.path, &d.values[i]))
            .collect::<Vec<_>>()
            .join("+");
        let value = at
            .iter()
            .zip(&dims)
            .map(|(&i, d)| d.values[i].as_str())
            .collect::<Vec<_>>()
            .join(" × ");
        let shown = at
            .iter()
            .zip(&dims)
            .map(|(&i, d)| format!("{} = {}", d.path, d.values[i]))
            .collect::<Vec<_>>()
            .join(", ");
        let dir = staged.path().join(&name);
        let started = Instant::now();
        progress.start(k, &shown);
        run_and_write(s, &t, &args.agents, progress.run_mode(), &dir)
            .with_context(|| shown.clone())?;
        let summary = edgesim_report::read_report(&dir)?;
        progress.done(
            k,
            &format!(
                "{shown}: {}",
                crate::cmd_compare::one_line(&summary, started.elapsed().as_secs_f64())
            ),
        );
        points.push(SweepPoint {
            value,
            x: sweep_dims[0].xs[at[0]],
            at,
            report: name,
            summary,
        });
    }
    progress.finish();
    let sweep = Sweep {
        scenario: base.name.clone(),
        param,
        axis: sweep_dims[0].axis,
        dims: sweep_dims,
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
    for (i, p) in s.points.iter().enumerate() {
        let ms = metrics(&p.summary);
        let cells: Vec<String> = keys
            .iter()
            .filter_map(|k| ms.iter().find(|m| m.key == *k))
            .map(|m| format!("{} {}", m.key, display(m)))
            .collect();
        println!("  {}: {}", s.at(i), cells.join(", "));
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

    #[test]
    fn a_grid_is_every_combination_last_fastest() {
        assert_eq!(
            grid(&[2, 3]),
            vec![
                vec![0, 0],
                vec![0, 1],
                vec![0, 2],
                vec![1, 0],
                vec![1, 1],
                vec![1, 2]
            ]
        );
        assert_eq!(grid(&[3]), vec![vec![0], vec![1], vec![2]]);
    }
}
