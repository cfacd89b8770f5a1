//! `edgesim compare`: run a scenario's baseline and `[[variants]]` one
//! after another (or read existing reports) and compare them: metrics,
//! a ranking, overlay plots and a page, all written at once.

use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use edgesim_model::Scenario;
use edgesim_report::compare::{
    ComparedRun, Comparison, DEFAULT_RANK_BY, StagedDir, display, metric_info, metrics,
    write_comparison,
};

use crate::cmd_run::{AgentArgs, ProgressMode, load_scenario, run_and_write};

/// The name of the run of the scenario itself.
const BASELINE: &str = "baseline";

/// Arguments of `edgesim compare`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Scenario file (TOML): its baseline and each of its `[[variants]]`
    /// are run.
    #[arg(
        value_name = "SCENARIO",
        required_unless_present = "reports",
        conflicts_with = "reports"
    )]
    scenario: Option<PathBuf>,
    /// Compare these existing report directories (at least two) instead
    /// of running a scenario.
    #[arg(
        long,
        value_name = "DIR",
        num_args = 2..,
        conflicts_with_all = ["only", "no_baseline", "set", "seed", "agents", "connect"]
    )]
    reports: Vec<PathBuf>,
    /// Run only these variants (comma-separated names).
    #[arg(long, value_name = "NAME,...", value_delimiter = ',')]
    only: Vec<String>,
    /// Do not run the scenario itself (as "baseline"), only its variants.
    #[arg(long)]
    no_baseline: bool,
    #[command(flatten)]
    agents: AgentArgs,
    /// Output directory [default: reports/<scenario name>-compare, or
    /// reports/compare with --reports].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Override a scenario value for every run, before each variant's own
    /// overrides (as for `run`); repeatable.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
    /// Run seed for every run, instead of the scenario's `simulation.seed`.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Metric to rank by (p99_ms, hit_ratio, offload_requests,
    /// peak_origin_rps, error_rate, ...).
    #[arg(long, value_name = "METRIC", default_value = DEFAULT_RANK_BY)]
    rank_by: String,
    /// No progress output.
    #[arg(long, short)]
    quiet: bool,
}

/// Runs the comparison and writes it.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    metric_info(&args.rank_by).map_err(|e| anyhow::anyhow!("--rank-by: {e}"))?;
    let (out, comparison) = if args.reports.is_empty() {
        run_variants(&args)?
    } else {
        compare_reports(&args)?
    };
    print_ranking(&comparison);
    println!("comparison: {}", out.join("index.html").display());
    Ok(ExitCode::SUCCESS)
}

/// The runs a comparison of `scenario` makes: (name, validated scenario,
/// its text), checked before anything runs.
fn plan(
    args: &Args,
    path: &Path,
    source_name: &str,
    text: &str,
    scenario: &Scenario,
) -> anyhow::Result<Vec<(String, Arc<Scenario>, String)>> {
    let known: Vec<&str> = scenario.variants.iter().map(|v| v.name.as_str()).collect();
    let listed = || {
        if known.is_empty() {
            "it has no [[variants]]".to_owned()
        } else {
            format!("its variants are: {}", known.join(", "))
        }
    };
    let mut chosen = Vec::new();
    for name in &args.only {
        let name = name.trim();
        let Some(v) = scenario.variants.iter().find(|v| v.name == name) else {
            anyhow::bail!(
                "--only: {} has no variant named \"{name}\"; {}",
                path.display(),
                listed()
            );
        };
        if !chosen
            .iter()
            .any(|c: &&edgesim_model::Variant| c.name == v.name)
        {
            chosen.push(v);
        }
    }
    if args.only.is_empty() {
        chosen = scenario.variants.iter().collect();
    }
    let mut texts: Vec<(String, String)> = Vec::new();
    if !args.no_baseline {
        anyhow::ensure!(
            !known.contains(&BASELINE),
            "{}: a variant is named \"{BASELINE}\", the name of the scenario's own run; rename it or use --no-baseline",
            path.display()
        );
        texts.push((BASELINE.to_owned(), text.to_owned()));
    }
    for v in chosen {
        let t = v
            .scenario_text(&scenario.name, text)
            .with_context(|| format!("{}: variant \"{}\"", path.display(), v.name))?;
        texts.push((v.name.clone(), t));
    }
    anyhow::ensure!(
        !texts.is_empty(),
        "{} has no [[variants]], and --no-baseline leaves nothing to compare",
        path.display()
    );
    texts
        .into_iter()
        .map(|(name, t)| {
            let source = if name == BASELINE {
                source_name.to_owned()
            } else {
                format!("{} (variant {name})", path.display())
            };
            let s = load_scenario(path, &source, &t)?;
            Ok((name, s, t))
        })
        .collect()
}

/// The first form: run the baseline and the variants into a staged
/// output directory, then compare them.
fn run_variants(args: &Args) -> anyhow::Result<(PathBuf, Comparison)> {
    let path = args
        .scenario
        .as_deref()
        .context("give a SCENARIO or --reports DIR DIR...")?;
    let (source_name, text) = crate::cmd_validate::read_with_overrides(path, &args.set, args.seed)?;
    let scenario = load_scenario(path, &source_name, &text)?;
    let runs = plan(args, path, &source_name, &text, &scenario)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("reports").join(format!("{}-compare", scenario.name)));
    let staged = StagedDir::new(&out)?;
    let mut compared = Vec::with_capacity(runs.len());
    let total = runs.len();
    for (k, (name, s, t)) in runs.into_iter().enumerate() {
        let dir = staged.path().join(&name);
        let started = Instant::now();
        run_and_write(
            s,
            &t,
            &args.agents,
            ProgressMode::new(args.quiet, false),
            &dir,
        )
        .with_context(|| format!("variant \"{name}\""))?;
        // Compare what was saved, exactly as `compare --reports` would.
        let summary = edgesim_report::read_report(&dir)?;
        if !args.quiet {
            eprintln!(
                "[{}/{total}] {name}: {}",
                k + 1,
                one_line(&summary, started.elapsed().as_secs_f64())
            );
        }
        compared.push(ComparedRun {
            report: name.clone(),
            name,
            summary,
        });
    }
    let comparison = Comparison::new(scenario.name.clone(), compared, &args.rank_by)?;
    write_comparison(staged.path(), &comparison)?;
    staged.commit()?;
    Ok((out, comparison))
}

/// A run in one line for progress output.
pub(crate) fn one_line(summary: &edgesim_report::Summary, wall_secs: f64) -> String {
    let ms = metrics(summary);
    let show = |key: &str| {
        ms.iter()
            .find(|m| m.key == key)
            .map_or_else(|| "–".into(), display)
    };
    format!(
        "{} requests, hit ratio {}, offload {}, p99 {}, peak origin {} ({wall_secs:.1} s)",
        show("requests"),
        show("hit_ratio"),
        show("offload_requests"),
        show("p99_ms"),
        show("peak_origin_rps"),
    )
}

/// `path` made absolute without requiring it to exist (its parent must,
/// for symbolic links to be resolved).
fn absolute(path: &Path) -> PathBuf {
    if let Ok(p) = std::fs::canonicalize(path) {
        return p;
    }
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    match (std::fs::canonicalize(parent), path.file_name()) {
        (Ok(p), Some(name)) => p.join(name),
        _ => std::env::current_dir().unwrap_or_default().join(path),
    }
}

/// The relative path from directory `from` to `to` (both absolute), with `/`.
fn relative(from: &Path, to: &Path) -> String {
    let f: Vec<Component<'_>> = from.components().collect();
    let t: Vec<Component<'_>> = to.components().collect();
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".into(); f.len() - common];
    parts.extend(
        t[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

/// The second form: compare saved reports; every one is read before
/// anything is written.
fn compare_reports(args: &Args) -> anyhow::Result<(PathBuf, Comparison)> {
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("reports").join("compare"));
    let out_abs = absolute(&out);
    let mut found = Vec::with_capacity(args.reports.len());
    for dir in &args.reports {
        anyhow::ensure!(
            dir.is_dir(),
            "report directory {} does not exist; nothing was written",
            dir.display()
        );
        let summary = edgesim_report::read_report(dir).with_context(|| {
            format!(
                "report directory {} is not a readable edgesim report; nothing was written",
                dir.display()
            )
        })?;
        let abs = std::fs::canonicalize(dir)
            .with_context(|| format!("cannot resolve report directory {}", dir.display()))?;
        anyhow::ensure!(
            !abs.starts_with(&out_abs),
            "report directory {} is inside the output directory {}, which is replaced; choose another --out",
            dir.display(),
            out.display()
        );
        let base = abs.file_name().map_or_else(
            || dir.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        found.push((dir, abs, base, summary));
    }
    let mut runs = Vec::with_capacity(found.len());
    for (i, (dir, abs, base, _)) in found.iter().enumerate() {
        let clash = found
            .iter()
            .enumerate()
            .any(|(j, other)| j != i && other.2 == *base);
        let name = if clash {
            dir.display().to_string()
        } else {
            base.clone()
        };
        anyhow::ensure!(
            !runs.iter().any(|r: &ComparedRun| r.name == name),
            "report directory {} is given twice",
            dir.display()
        );
        runs.push(ComparedRun {
            name,
            report: relative(&out_abs, abs),
            summary: found[i].3.clone(),
        });
    }
    let first = &runs[0].summary.scenario;
    let title = if runs.iter().all(|r| &r.summary.scenario == first) {
        first.clone()
    } else {
        "reports".to_owned()
    };
    let comparison = Comparison::new(title, runs, &args.rank_by)?;
    let staged = StagedDir::new(&out)?;
    write_comparison(staged.path(), &comparison)?;
    staged.commit()?;
    Ok((out, comparison))
}

/// The ranking on stdout.
fn print_ranking(c: &Comparison) {
    let m = c.rank_by();
    println!(
        "{}: ranked by {} ({}, {} is better)",
        c.title,
        m.key,
        m.label,
        m.better.name()
    );
    let width = c.runs.iter().map(|r| r.name.len()).max().unwrap_or(0);
    for (rank, &i) in c.ranking().iter().enumerate() {
        let shown = edgesim_report::compare::Metric {
            value: c.value(i, m.key),
            ..m.clone()
        };
        println!(
            "{:>3}. {:<width$}  {}",
            rank + 1,
            c.runs[i].name,
            display(&shown)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_climb_and_descend() {
        assert_eq!(relative(Path::new("/a/b/out"), Path::new("/a/b/x")), "../x");
        assert_eq!(relative(Path::new("/a/out"), Path::new("/a/out/x")), "x");
        assert_eq!(relative(Path::new("/r/o"), Path::new("/s/t")), "../../s/t");
    }
}
