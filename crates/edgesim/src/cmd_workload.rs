//! `edgesim workload`: workloads from CloudFront standard logs
//! (`from-logs`), and synthetic logs to try it on (`sample-log`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use edgesim_model::Scenario;
use edgesim_model::from_logs::{self, ClassBy, Options, SampleOptions};

/// `edgesim workload ...`.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Infer a synthetic workload (a runnable scenario) from CloudFront
    /// standard logs (gzip or plain): PoPs from edge locations, countries,
    /// devices, rate, time-of-day curve, object classes with Zipf
    /// popularity and sizes.
    FromLogs(FromLogsArgs),
    /// Write a synthetic CloudFront standard log (for trying from-logs and
    /// [replay]).
    SampleLog(SampleLogArgs),
}

/// Arguments of `edgesim workload from-logs`.
#[derive(clap::Args, Debug)]
pub struct FromLogsArgs {
    /// CloudFront standard log files (`.gz` or plain text).
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Scenario file to write [default: print to standard output].
    #[arg(short, long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Scenario name [default: the output file's stem, or "from-logs"].
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// How URIs are grouped into object classes.
    #[arg(
        long,
        value_name = "content-type|extension|none",
        default_value = "content-type"
    )]
    classes: ClassBy,
    /// Origin location (not in the logs): an AWS region code.
    #[arg(long, value_name = "REGION", default_value = "us-east-1")]
    origin_location: String,
    /// Cache TTL of every class, seconds (not in the logs).
    #[arg(long, value_name = "SECS", default_value_t = 86_400)]
    ttl_secs: u64,
}

/// Arguments of `edgesim workload sample-log`.
#[derive(clap::Args, Debug)]
pub struct SampleLogArgs {
    /// File to write (gzip-compressed when it ends in `.gz`, zstd when it
    /// ends in `.zst`). Written line by line: any number of lines.
    #[arg(short, long, value_name = "FILE")]
    out: PathBuf,
    /// Number of lines.
    #[arg(long, default_value_t = 4000)]
    lines: u64,
    /// Mean request rate, per second.
    #[arg(long, default_value_t = 1.0)]
    rate: f64,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Leave out the lines of an unknown edge location (XYZ).
    #[arg(long)]
    no_unknown: bool,
    /// Multiply the objects of every class (1: 3,350 objects), for big
    /// benchmark logs with many distinct objects.
    #[arg(long, default_value_t = 1, value_name = "N")]
    objects_scale: u64,
}

/// Runs a `workload` subcommand.
pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::FromLogs(args) => from_logs_cmd(args),
        Command::SampleLog(args) => sample_log_cmd(args),
    }
}

fn from_logs_cmd(args: FromLogsArgs) -> anyhow::Result<ExitCode> {
    let name = args.name.clone().unwrap_or_else(|| {
        args.out.as_deref().and_then(Path::file_stem).map_or_else(
            || "from-logs".to_owned(),
            |s| s.to_string_lossy().into_owned(),
        )
    });
    let base = args
        .out
        .as_deref()
        .and_then(Path::parent)
        .unwrap_or(Path::new(""));
    let replay_logs = args.files.iter().map(|f| relative_to(f, base)).collect();
    let options = Options {
        name,
        classes: args.classes,
        origin_location: args.origin_location.clone(),
        ttl_secs: args.ttl_secs,
        replay_logs,
    };
    // The logs are streamed through the fit, never held.
    let mut fit = from_logs::LogFit::new(options.classes);
    fit.add_files(&args.files)?;
    let inferred = fit.finish()?;
    let text = from_logs::scenario_text(&inferred, &options);
    let source_name = args
        .out
        .as_ref()
        .map_or_else(|| "<from-logs>".to_owned(), |p| p.display().to_string());
    if let Err(d) = Scenario::from_toml(&source_name, &text) {
        anyhow::bail!("the inferred scenario does not validate (a bug):\n{d}\n{text}");
    }
    eprint!("{}", from_logs::summary(&inferred));
    match &args.out {
        Some(path) => {
            std::fs::write(path, &text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("wrote {}", path.display());
        }
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// `path` relative to directory `base` when both are relative or both
/// absolute; else `path` as given.
fn relative_to(path: &Path, base: &Path) -> String {
    let (Ok(p), Ok(b)) = (
        std::path::absolute(path),
        std::path::absolute(if base.as_os_str().is_empty() {
            Path::new(".")
        } else {
            base
        }),
    ) else {
        return path.display().to_string();
    };
    let pc: Vec<_> = p.components().collect();
    let bc: Vec<_> = b
        .components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect();
    let common = pc.iter().zip(&bc).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..bc.len() {
        out.push("..");
    }
    for c in &pc[common..] {
        out.push(c);
    }
    out.display().to_string()
}

fn sample_log_cmd(args: SampleLogArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.rate.is_finite() && args.rate > 0.0,
        "--rate must be > 0"
    );
    anyhow::ensure!(
        (1..=10_000).contains(&args.objects_scale),
        "--objects-scale must be from 1 to 10000"
    );
    let options = SampleOptions {
        lines: args.lines,
        requests_per_sec: args.rate,
        seed: args.seed,
        unknown_location: !args.no_unknown,
        objects_scale: args.objects_scale,
        ..SampleOptions::default()
    };
    from_logs::write_log_with(&args.out, |w| from_logs::write_sample_log(&options, w))
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    eprintln!("wrote {} lines to {}", args.lines, args.out.display());
    Ok(ExitCode::SUCCESS)
}
