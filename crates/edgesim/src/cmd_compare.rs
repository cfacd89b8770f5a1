//! `edgesim compare`: run a scenario's baseline and `[[variants]]` one
//! after another, or several scenario files, or read existing reports,
//! and compare them: metrics, a ranking, overlay plots and a page, all
//! written at once.

use std::io::IsTerminal;
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

use indicatif::{ProgressBar, ProgressStyle};

use crate::cmd_run::{AgentArgs, ProgressMode, load_scenario, run_and_write};

/// The name of the run of the scenario itself.
const BASELINE: &str = "baseline";

/// Arguments of `edgesim compare`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Scenario file (TOML): its baseline and each of its `[[variants]]`
    /// are run. Several files: each is run once, as a variant named after
    /// its file stem.
    #[arg(
        value_name = "SCENARIO",
        required_unless_present = "reports",
        conflicts_with = "reports"
    )]
    scenarios: Vec<PathBuf>,
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
    #[command(flatten)]
    limits: crate::input_limits::LimitArgs,
}

/// Runs the comparison and writes it.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    metric_info(&args.rank_by).map_err(|e| anyhow::anyhow!("--rank-by: {e}"))?;
    let (out, comparison) = if !args.reports.is_empty() {
        compare_reports(&args)?
    } else if args.scenarios.len() > 1 {
        run_files(&args)?
    } else {
        run_variants(&args)?
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
            let s = load_scenario(path, &source, &t, &args.limits)?;
            Ok((name, s, t))
        })
        .collect()
}

/// The first form: run the baseline and the variants into a staged
/// output directory, then compare them.
fn run_variants(args: &Args) -> anyhow::Result<(PathBuf, Comparison)> {
    let path = args
        .scenarios
        .first()
        .context("give a SCENARIO or --reports DIR DIR...")?;
    let (source_name, text) = crate::cmd_validate::read_with_overrides(path, &args.set, args.seed)?;
    let scenario = load_scenario(path, &source_name, &text, &args.limits)?;
    let runs = plan(args, path, &source_name, &text, &scenario)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("reports").join(format!("{}-compare", scenario.name)));
    run_all(args, scenario.name.clone(), &out, runs)
}

/// Runs `runs` (name, scenario, its text) one after another into a staged
/// `out`, then compares them and writes the comparison.
fn run_all(
    args: &Args,
    title: String,
    out: &Path,
    runs: Vec<(String, Arc<Scenario>, String)>,
) -> anyhow::Result<(PathBuf, Comparison)> {
    let staged = StagedDir::new(out)?;
    let mut compared = Vec::with_capacity(runs.len());
    let progress = RunsProgress::new(args.quiet, runs.len());
    for (k, (name, s, t)) in runs.into_iter().enumerate() {
        let dir = staged.path().join(&name);
        let started = Instant::now();
        progress.start(k, &name);
        run_and_write(s, &t, &args.agents, progress.run_mode(), &dir)
            .with_context(|| format!("variant \"{name}\""))?;
        // Compare what was saved, exactly as `compare --reports` would.
        let summary = edgesim_report::read_report(&dir)?;
        progress.done(
            k,
            &format!(
                "{name}: {}",
                one_line(&summary, started.elapsed().as_secs_f64())
            ),
        );
        compared.push(ComparedRun {
            report: name.clone(),
            name,
            summary,
        });
    }
    progress.finish();
    let comparison = Comparison::new(title, compared, &args.rank_by)?;
    write_comparison(staged.path(), &comparison)?;
    staged.commit()?;
    Ok((out.to_owned(), comparison))
}

/// The third form: several scenario files, each run once as a variant
/// named after its file stem; all are validated before the first run.
fn run_files(args: &Args) -> anyhow::Result<(PathBuf, Comparison)> {
    anyhow::ensure!(
        args.only.is_empty() && !args.no_baseline,
        "--only and --no-baseline choose among one scenario's [[variants]]; with several scenario files each file is one run"
    );
    let mut runs: Vec<(String, Arc<Scenario>, String)> = Vec::with_capacity(args.scenarios.len());
    for path in &args.scenarios {
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .filter(|s| !s.is_empty())
            .with_context(|| format!("{}: cannot name a run after this path", path.display()))?;
        let name = crate::cmd_sweep::safe(&stem);
        anyhow::ensure!(
            !runs.iter().any(|r| r.0 == name),
            "two scenario files are named \"{name}\" (the run's name is the file stem); rename or copy one"
        );
        let (source_name, text) =
            crate::cmd_validate::read_with_overrides(path, &args.set, args.seed)?;
        let scenario = load_scenario(path, &source_name, &text, &args.limits)?;
        runs.push((name, scenario, text));
    }
    let names: Vec<&str> = runs.iter().map(|r| r.0.as_str()).collect();
    let title = names.join(" vs ");
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("reports").join(crate::cmd_sweep::safe(&names.join("-vs-")))
    });
    run_all(args, title, &out, runs)
}

/// Progress over the runs of a comparison or sweep on stderr: a bar on a
/// terminal (each run's result printed above it), otherwise one plain line
/// per finished run (`[k/n] name: ...`); nothing when quiet.
pub(crate) struct RunsProgress {
    bar: Option<ProgressBar>,
    quiet: bool,
    total: usize,
}

impl RunsProgress {
    /// Progress over `total` runs.
    pub(crate) fn new(quiet: bool, total: usize) -> Self {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(total as u64);
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:30.cyan/blue} {pos}/{len} runs  {msg}",
                )
                .expect("static template")
                .progress_chars("=> "),
            );
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        });
        RunsProgress { bar, quiet, total }
    }

    /// How each run shows its own progress: not at all under our bar.
    pub(crate) fn run_mode(&self) -> ProgressMode {
        ProgressMode::new(self.quiet || self.bar.is_some(), false)
    }

    /// Run `k` (from 0), described by `what`, starts.
    pub(crate) fn start(&self, k: usize, what: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!("run {}: {what}", k + 1));
        }
    }

    /// Run `k` finished; `line` says how it went.
    pub(crate) fn done(&self, k: usize, line: &str) {
        let line = format!("[{}/{}] {line}", k + 1, self.total);
        if let Some(bar) = &self.bar {
            bar.println(line);
            bar.inc(1);
        } else if !self.quiet {
            eprintln!("{line}");
        }
    }

    /// All runs are done.
    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
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
