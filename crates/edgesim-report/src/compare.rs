//! Comparing runs: the metrics every comparison uses ([`metrics`]), a
//! comparison of named runs ranked by one metric ([`Comparison`]:
//! `compare.json`, `compare.csv`, overlay plots, `index.html`), and a
//! sweep of one scenario value with optional limits ([`Sweep`]:
//! `sweep.json`, `sweep.csv`, plots against the swept value,
//! `index.html`). Output is deterministic: no timestamps, runs in the
//! order given, numbers in one fixed format ([`fixed`]).
//!
//! Adding a metric is one entry in `definitions` (this module): JSON,
//! CSV, the HTML tables, `--rank-by` and `--limit` pick it up.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use plotters::style::RGBColor;

use crate::html::{RenderedPlot, escape, thousands};
use crate::plot::{
    Figure, MigrationShift, OverlayPanel, OverlayRun, PlotError, RunBars, ShiftSeries, SweepLine,
    TimeOverlay, bucket_offload_pct, bucket_origin_rps, bucket_p50_ms, bucket_p99_ms,
    entity_colour, write_svg_and_png,
};
use crate::summary::{EpochRow, Summary};
use crate::write::ReportError;
use crate::write::shift_series;

/// Version of the compare.json and sweep.json schemas.
pub const COMPARE_SCHEMA_VERSION: u32 = 1;
/// The comparison as JSON.
pub const COMPARE_JSON: &str = "compare.json";
/// The comparison as CSV.
pub const COMPARE_CSV: &str = "compare.csv";
/// The sweep as JSON.
pub const SWEEP_JSON: &str = "sweep.json";
/// The sweep as CSV.
pub const SWEEP_CSV: &str = "sweep.csv";
/// The page of a comparison or sweep.
pub const INDEX_FILE: &str = "index.html";
/// The metric a comparison is ranked by unless told otherwise.
pub const DEFAULT_RANK_BY: &str = "p99_ms";
/// The metrics a sweep plots against the swept value, in page order.
pub const SWEEP_PLOTS: [&str; 4] = [
    "peak_origin_rps",
    "p99_ms",
    "error_rate",
    "offload_requests",
];

/// Which direction of a metric is the better one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    /// Smaller values are better (latency, errors, origin load).
    Lower,
    /// Larger values are better (hit ratios, offload).
    Higher,
}

impl Better {
    /// "lower" or "higher".
    pub fn name(self) -> &'static str {
        match self {
            Better::Lower => "lower",
            Better::Higher => "higher",
        }
    }

    /// `a` against `b`, the better one first (`Less` when `a` is better).
    pub fn order(self, a: f64, b: f64) -> std::cmp::Ordering {
        match self {
            Better::Lower => a.total_cmp(&b),
            Better::Higher => b.total_cmp(&a),
        }
    }
}

/// One number describing a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    /// Stable key (JSON, CSV, `--rank-by`, `--limit`).
    pub key: &'static str,
    /// Human-readable name.
    pub label: &'static str,
    /// Unit: `requests`, `bytes`, `ratio` (0..=1), `req/s` or `ms`.
    pub unit: &'static str,
    /// The value; None when the run cannot say (e.g. no requests).
    pub value: Option<f64>,
    /// Which direction is better.
    pub better: Better,
}

/// A metric's description and how to read it off a summary.
struct MetricDef {
    key: &'static str,
    label: &'static str,
    unit: &'static str,
    better: Better,
    value: fn(&Summary) -> Option<f64>,
}

/// `n / d`, None when `d` is 0.
fn ratio(n: u64, d: u64) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

/// A value that exists only when the run had requests.
fn if_requests(s: &Summary, v: f64) -> Option<f64> {
    (s.totals.requests > 0).then_some(v)
}

/// Every metric, in column order. The one place to add a metric.
fn definitions() -> Vec<MetricDef> {
    use Better::{Higher, Lower};
    let def = |key, label, unit, better, value| MetricDef {
        key,
        label,
        unit,
        better,
        value,
    };
    vec![
        def("requests", "viewer requests", "requests", Higher, |s| {
            Some(s.totals.requests as f64)
        }),
        def("hit_ratio", "edge hit ratio", "ratio", Higher, |s| {
            if_requests(s, s.totals.hit_ratio)
        }),
        def(
            "regional_hit_ratio",
            "regional hit ratio",
            "ratio",
            Higher,
            |s| ratio(s.totals.regional_hits, s.totals.regional_requests),
        ),
        def(
            "offload_requests",
            "origin offload, requests",
            "ratio",
            Higher,
            |s| if_requests(s, s.totals.offload_requests),
        ),
        def(
            "offload_bytes",
            "origin offload, bytes",
            "ratio",
            Higher,
            |s| (s.totals.viewer_bytes > 0).then_some(s.totals.offload_bytes),
        ),
        def("origin_fetches", "origin fetches", "requests", Lower, |s| {
            Some(s.totals.origin_fetches as f64)
        }),
        def("origin_bytes", "origin bytes", "bytes", Lower, |s| {
            Some(s.totals.origin_bytes as f64)
        }),
        def(
            "peak_origin_rps",
            "peak origin fetches/s",
            "req/s",
            Lower,
            |s| peak_origin_rps(&s.timeseries),
        ),
        def("error_rate", "5xx error rate", "ratio", Lower, |s| {
            ratio(s.totals.status_5xx, s.totals.requests)
        }),
        def("p50_ms", "latency p50", "ms", Lower, |s| {
            if_requests(s, s.latency_ms.p50)
        }),
        def("p90_ms", "latency p90", "ms", Lower, |s| {
            if_requests(s, s.latency_ms.p90)
        }),
        def("p99_ms", "latency p99", "ms", Lower, |s| {
            if_requests(s, s.latency_ms.p99)
        }),
        def("p999_ms", "latency p99.9", "ms", Lower, |s| {
            if_requests(s, s.latency_ms.p999)
        }),
        // Migration KPIs (empty for runs without a migration).
        def(
            "migration_time_to_full_secs",
            "migration: planned 100% at",
            "s",
            Lower,
            |s| s.migration.as_ref()?.kpis.time_to_full_secs,
        ),
        def(
            "migration_time_to_realised_full_secs",
            "migration: 99% of responses from new origin at",
            "s",
            Lower,
            |s| s.migration.as_ref()?.kpis.time_to_realised_full_secs,
        ),
        def(
            "migration_peak_new_origin_rps",
            "migration: peak new-origin fetches/s",
            "req/s",
            Lower,
            |s| Some(s.migration.as_ref()?.kpis.peak_new_origin_rps),
        ),
        def(
            "migration_peak_old_origin_rps",
            "migration: peak old-origin fetches/s after start",
            "req/s",
            Lower,
            |s| Some(s.migration.as_ref()?.kpis.peak_old_origin_rps),
        ),
        def(
            "migration_hit_ratio_dip_depth",
            "migration: hit-ratio dip, depth",
            "ratio",
            Lower,
            |s| s.migration.as_ref()?.kpis.hit_ratio_dip_depth,
        ),
        def(
            "migration_hit_ratio_dip_area",
            "migration: hit-ratio dip, area",
            "ratio·s",
            Lower,
            |s| s.migration.as_ref()?.kpis.hit_ratio_dip_area,
        ),
        def(
            "migration_error_responses",
            "migration: 5xx responses after start",
            "responses",
            Lower,
            |s| Some(s.migration.as_ref()?.kpis.error_responses as f64),
        ),
        def(
            "migration_viewers_exposed",
            "migration: viewers exposed to errors",
            "viewers",
            Lower,
            |s| Some(s.migration.as_ref()?.kpis.viewers_exposed_to_errors as f64),
        ),
        def(
            "migration_time_to_detect_secs",
            "migration: time to detect a bad origin",
            "s",
            Lower,
            |s| s.migration.as_ref()?.kpis.time_to_detect_secs,
        ),
        def(
            "migration_time_to_rollback_secs",
            "migration: time to roll back fully",
            "s",
            Lower,
            |s| s.migration.as_ref()?.kpis.time_to_rollback_secs,
        ),
        // Cost at list prices (empty for reports written before cost).
        def("cost_run_usd", "cost of the run", "USD", Lower, |s| {
            Some(s.cost.as_ref()?.run_usd.total)
        }),
        def("cost_monthly_usd", "cost per month", "USD", Lower, |s| {
            Some(s.cost.as_ref()?.monthly_usd.total)
        }),
    ]
}

/// The metrics of a run, in column order.
pub fn metrics(summary: &Summary) -> Vec<Metric> {
    definitions()
        .into_iter()
        .map(|d| Metric {
            key: d.key,
            label: d.label,
            unit: d.unit,
            value: (d.value)(summary),
            better: d.better,
        })
        .collect()
}

/// Every metric key, in column order.
pub fn metric_keys() -> Vec<&'static str> {
    definitions().iter().map(|d| d.key).collect()
}

/// The metric named `key` (without a value), or an error listing the
/// known keys.
pub fn metric_info(key: &str) -> Result<Metric, UnknownMetric> {
    definitions()
        .into_iter()
        .find(|d| d.key == key)
        .map(|d| Metric {
            key: d.key,
            label: d.label,
            unit: d.unit,
            value: None,
            better: d.better,
        })
        .ok_or_else(|| UnknownMetric {
            key: key.to_owned(),
            known: metric_keys(),
        })
}

/// The largest origin fetch rate of any epoch, fetches per second (None
/// without epochs).
pub fn peak_origin_rps(rows: &[EpochRow]) -> Option<f64> {
    rows.iter()
        .filter(|r| r.end_secs > r.start_secs)
        .map(|r| r.origin_fetches as f64 / (r.end_secs - r.start_secs))
        .reduce(f64::max)
}

/// A metric key that is not one of [`metric_keys`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("unknown metric \"{key}\"; known metrics: {}", known.join(", "))]
pub struct UnknownMetric {
    /// The key as given.
    pub key: String,
    /// The known keys.
    pub known: Vec<&'static str>,
}

/// A number in the fixed format of compare/sweep JSON and CSV: whole
/// numbers without a fraction, others rounded to 6 decimals with
/// trailing zeros dropped.
pub fn fixed(v: f64) -> String {
    if !v.is_finite() {
        return "null".into();
    }
    if v.fract() == 0.0 && v.abs() < 1e15 {
        return format!("{:.0}", v + 0.0);
    }
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.to_owned() }
}

/// A number for people: whole numbers as they are, others to 1 decimal
/// from 100 up and 4 below, trailing zeros dropped.
pub fn short(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        return format!("{:.0}", v + 0.0);
    }
    let s = if v.abs() >= 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.4}")
    };
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// A metric's value as a page shows it, by unit ("–" without a value).
pub fn display(m: &Metric) -> String {
    let Some(v) = m.value else {
        return "–".into();
    };
    match m.unit {
        "ratio" => format!("{:.2}%", v * 100.0),
        "requests" => thousands(v.round().max(0.0) as u64),
        "bytes" => {
            const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
            let (mut x, mut unit) = (v, 0);
            while x >= 1024.0 && unit + 1 < UNITS.len() {
                x /= 1024.0;
                unit += 1;
            }
            if unit == 0 {
                format!("{v:.0} B")
            } else {
                format!("{x:.2} {}", UNITS[unit])
            }
        }
        "ms" if v < 10.0 => format!("{v:.2} ms"),
        "ms" if v < 100.0 => format!("{v:.1} ms"),
        "ms" => format!("{v:.0} ms"),
        "req/s" => format!("{v:.1}/s"),
        _ => short(v),
    }
}

/// One run of a comparison.
#[derive(Debug, Clone)]
pub struct ComparedRun {
    /// Its name (variant name, or report directory).
    pub name: String,
    /// Its report directory relative to the comparison's, with `/`.
    pub report: String,
    /// Its summary.
    pub summary: Summary,
}

/// Named runs, their metrics and a ranking by one metric.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// What is compared (the scenario name), for titles.
    pub title: String,
    /// The runs, in the order given (baseline first, then variants).
    pub runs: Vec<ComparedRun>,
    rank_by: Metric,
    table: Vec<Vec<Metric>>,
}

impl Comparison {
    /// A comparison of `runs` ranked by metric `rank_by`.
    pub fn new(
        title: impl Into<String>,
        runs: Vec<ComparedRun>,
        rank_by: &str,
    ) -> Result<Comparison, UnknownMetric> {
        let rank_by = metric_info(rank_by)?;
        let table = runs.iter().map(|r| metrics(&r.summary)).collect();
        Ok(Comparison {
            title: title.into(),
            runs,
            rank_by,
            table,
        })
    }

    /// The metric the ranking uses.
    pub fn rank_by(&self) -> &Metric {
        &self.rank_by
    }

    /// The metrics of run `i`, in column order.
    pub fn metrics_of(&self, i: usize) -> &[Metric] {
        &self.table[i]
    }

    /// The metric columns: every key any run has, in order of first
    /// appearance (values None).
    pub fn columns(&self) -> Vec<Metric> {
        columns(&self.table)
    }

    /// Run `i`'s value of metric `key`.
    pub fn value(&self, i: usize, key: &str) -> Option<f64> {
        value_of(&self.table[i], key)
    }

    /// Run indices, best first by the ranking metric; runs without a
    /// value last; ties by name.
    pub fn ranking(&self) -> Vec<usize> {
        let key = self.rank_by.key;
        let better = self.rank_by.better;
        let mut order: Vec<usize> = (0..self.runs.len()).collect();
        order.sort_by(|&a, &b| {
            let by_value = match (self.value(a, key), self.value(b, key)) {
                (Some(x), Some(y)) => better.order(x, y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            };
            by_value
                .then_with(|| self.runs[a].name.cmp(&self.runs[b].name))
                .then(a.cmp(&b))
        });
        order
    }

    /// The best value of metric `key` over the runs.
    pub fn best(&self, key: &str) -> Option<f64> {
        best_of(&self.table, key)
    }
}

fn columns(table: &[Vec<Metric>]) -> Vec<Metric> {
    let mut out: Vec<Metric> = Vec::new();
    for m in table.iter().flatten() {
        if !out.iter().any(|o| o.key == m.key) {
            out.push(Metric {
                value: None,
                ..m.clone()
            });
        }
    }
    out
}

fn value_of(row: &[Metric], key: &str) -> Option<f64> {
    row.iter().find(|m| m.key == key).and_then(|m| m.value)
}

fn best_of(table: &[Vec<Metric>], key: &str) -> Option<f64> {
    let better = table.iter().flatten().find(|m| m.key == key)?.better;
    table
        .iter()
        .filter_map(|row| value_of(row, key))
        .min_by(|a, b| better.order(*a, *b))
}

/// A JSON string literal.
fn json_str(s: &str) -> String {
    serde_json::to_string(s).expect("strings serialise")
}

fn json_opt(v: Option<f64>) -> String {
    v.map_or_else(|| "null".into(), fixed)
}

/// The metric descriptions as a JSON array (one line per metric).
fn json_metric_list(out: &mut String, cols: &[Metric]) {
    out.push_str("  \"metrics\": [\n");
    for (k, m) in cols.iter().enumerate() {
        let _ = write!(
            out,
            "    {{\"key\": {}, \"label\": {}, \"unit\": {}, \"better\": {}}}",
            json_str(m.key),
            json_str(m.label),
            json_str(m.unit),
            json_str(m.better.name())
        );
        out.push_str(if k + 1 < cols.len() { ",\n" } else { "\n" });
    }
    out.push_str("  ],\n");
}

/// A run's metrics as a JSON object at `indent`, in column order.
fn json_metric_values(out: &mut String, cols: &[Metric], row: &[Metric], indent: &str) {
    out.push_str("{\n");
    for (k, m) in cols.iter().enumerate() {
        let _ = write!(
            out,
            "{indent}  {}: {}",
            json_str(m.key),
            json_opt(value_of(row, m.key))
        );
        out.push_str(if k + 1 < cols.len() { ",\n" } else { "\n" });
    }
    let _ = write!(out, "{indent}}}");
}

/// compare.json: the metrics, each run with its report directory and
/// values, then the ranking.
pub fn compare_json(c: &Comparison) -> String {
    let cols = c.columns();
    let mut out = String::from("{\n");
    let _ = writeln!(out, "  \"schema_version\": {COMPARE_SCHEMA_VERSION},");
    let _ = writeln!(out, "  \"title\": {},", json_str(&c.title));
    let _ = writeln!(out, "  \"rank_by\": {},", json_str(c.rank_by.key));
    json_metric_list(&mut out, &cols);
    out.push_str("  \"variants\": [\n");
    for (i, r) in c.runs.iter().enumerate() {
        let _ = write!(
            out,
            "    {{\n      \"name\": {},\n      \"report\": {},\n      \"scenario\": {},\n      \"seed\": {},\n      \"complete\": {},\n      \"metrics\": ",
            json_str(&r.name),
            json_str(&r.report),
            json_str(&r.summary.scenario),
            r.summary.seed,
            r.summary.complete
        );
        json_metric_values(&mut out, &cols, c.metrics_of(i), "      ");
        out.push_str("\n    }");
        out.push_str(if i + 1 < c.runs.len() { ",\n" } else { "\n" });
    }
    out.push_str("  ],\n  \"ranking\": [\n");
    let ranking = c.ranking();
    for (rank, &i) in ranking.iter().enumerate() {
        let _ = write!(
            out,
            "    {{\"rank\": {}, \"name\": {}, \"value\": {}}}",
            rank + 1,
            json_str(&c.runs[i].name),
            json_opt(c.value(i, c.rank_by.key))
        );
        out.push_str(if rank + 1 < ranking.len() {
            ",\n"
        } else {
            "\n"
        });
    }
    out.push_str("  ]\n}\n");
    out
}

/// A CSV field, quoted when it needs to be.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// compare.csv: one row per run (in the order given) with its rank, one
/// column per metric; an empty cell is a missing value.
pub fn compare_csv(c: &Comparison) -> String {
    let cols = c.columns();
    let mut out = String::from("name,report,rank");
    for m in &cols {
        out.push(',');
        out.push_str(m.key);
    }
    out.push('\n');
    let ranking = c.ranking();
    for (i, r) in c.runs.iter().enumerate() {
        let rank = ranking.iter().position(|&k| k == i).unwrap_or(0) + 1;
        let _ = write!(
            out,
            "{},{},{rank}",
            csv_field(&r.name),
            csv_field(&r.report)
        );
        for m in &cols {
            out.push(',');
            if let Some(v) = c.value(i, m.key) {
                out.push_str(&fixed(v));
            }
        }
        out.push('\n');
    }
    out
}

/// A directory written in a hidden staging directory beside it and
/// renamed into place by [`StagedDir::commit`]; dropped uncommitted, the
/// staging directory is removed and the target left as it was.
#[derive(Debug)]
pub struct StagedDir {
    target: PathBuf,
    staging: PathBuf,
    committed: bool,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ReportError + '_ {
    move |source| ReportError::Io {
        path: path.to_owned(),
        source,
    }
}

impl StagedDir {
    /// Creates a fresh staging directory for `target` (and its parent).
    pub fn new(target: &Path) -> Result<StagedDir, ReportError> {
        let parent = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent).map_err(io(parent))?;
        let name = target
            .file_name()
            .map_or_else(|| "compare".into(), |n| n.to_string_lossy().into_owned());
        let staging = parent.join(format!(".{name}.staging-{}", std::process::id()));
        if staging.exists() {
            std::fs::remove_dir_all(&staging).map_err(io(&staging))?;
        }
        std::fs::create_dir(&staging).map_err(io(&staging))?;
        Ok(StagedDir {
            target: target.to_owned(),
            staging,
            committed: false,
        })
    }

    /// The staging directory to write into.
    pub fn path(&self) -> &Path {
        &self.staging
    }

    /// Replaces the target with the staged directory.
    pub fn commit(mut self) -> Result<(), ReportError> {
        if self.target.exists() {
            std::fs::remove_dir_all(&self.target).map_err(io(&self.target))?;
        }
        std::fs::rename(&self.staging, &self.target).map_err(io(&self.target))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for StagedDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.staging);
        }
    }
}

/// Writes `text` to `dir/name`, recording the name.
fn put(dir: &Path, name: &str, text: &str, names: &mut Vec<String>) -> Result<(), ReportError> {
    let path = dir.join(name);
    std::fs::write(&path, text).map_err(io(&path))?;
    names.push(name.to_owned());
    Ok(())
}

/// Draws `figure` as `dir/name.{svg,png}` and records it for the page.
fn draw(
    dir: &Path,
    name: &str,
    title: String,
    caption: String,
    figure: &impl Figure,
    plots: &mut Vec<RenderedPlot>,
) -> Result<(), PlotError> {
    let svg = write_svg_and_png(dir, name, figure)?;
    plots.push(RenderedPlot {
        name: name.into(),
        title,
        caption,
        svg,
    });
    Ok(())
}

/// The overlay plots of a comparison, in page order.
fn comparison_plots(dir: &Path, c: &Comparison) -> Result<Vec<RenderedPlot>, PlotError> {
    let runs: Vec<OverlayRun<'_>> = c
        .runs
        .iter()
        .map(|r| OverlayRun {
            name: &r.name,
            rows: &r.summary.timeseries,
        })
        .collect();
    let t = &c.title;
    let mut plots = Vec::new();
    let panel = |caption: &str, y_desc: &str, value| OverlayPanel {
        caption: caption.into(),
        y_desc: y_desc.into(),
        value,
    };
    draw(
        dir,
        "latency",
        "Latency over time".into(),
        "Viewer latency p99 (top) and p50 (bottom) per epoch, one line per variant (epochs without requests are left out).".into(),
        &TimeOverlay {
            title: format!("{t}: viewer latency per variant"),
            runs: &runs,
            panels: vec![
                panel("p99 latency", "p99 latency (ms)", bucket_p99_ms),
                panel("p50 latency", "p50 latency (ms)", bucket_p50_ms),
            ],
        },
        &mut plots,
    )?;
    draw(
        dir,
        "offload",
        "Origin offload over time".into(),
        "Origin offload by requests (1 − origin fetches / viewer requests) per epoch, one line per variant.".into(),
        &TimeOverlay {
            title: format!("{t}: origin offload per variant"),
            runs: &runs,
            panels: vec![panel(
                "Origin offload, requests",
                "offload (% not sent to origins)",
                bucket_offload_pct,
            )],
        },
        &mut plots,
    )?;
    draw(
        dir,
        "origin_rps",
        "Origin fetches per second".into(),
        "Requests per second all origins received, per epoch, one line per variant.".into(),
        &TimeOverlay {
            title: format!("{t}: origin load per variant"),
            runs: &runs,
            panels: vec![panel(
                "Origin fetches per second",
                "origin fetches (req/s)",
                bucket_origin_rps,
            )],
        },
        &mut plots,
    )?;
    let bars: Vec<(String, Option<f64>)> = c
        .runs
        .iter()
        .enumerate()
        .map(|(i, r)| (r.name.clone(), c.value(i, "hit_ratio").map(|v| v * 100.0)))
        .collect();
    draw(
        dir,
        "hit_ratio",
        "Edge hit ratio".into(),
        "Edge hit ratio of each variant over the whole run (requests answered from the PoP's cache).".into(),
        &RunBars {
            title: format!("{t}: edge hit ratio per variant"),
            y_desc: "edge hit ratio (%)".into(),
            bars: &bars,
            y_max: Some(100.0),
        },
        &mut plots,
    )?;
    let shifts: Vec<ShiftSeries> = c
        .runs
        .iter()
        .enumerate()
        .filter_map(|(i, r)| Some(shift_series(r.summary.migration.as_ref()?, &r.name, i)))
        .collect();
    if !shifts.is_empty() {
        draw(
            dir,
            "migration_shift",
            "Migration shift".into(),
            "Per variant: planned weight of the new origin (dashed), share of origin fetches sent to it (solid) and share of viewer responses whose content came from it (dotted). Bottom: realised fetch share minus planned.".into(),
            &MigrationShift {
                title: format!("{t}: migration shift per variant"),
                share_of: "traffic to the new origin".into(),
                series: &shifts,
            },
            &mut plots,
        )?;
    }
    Ok(plots)
}

const CSS: &str = r#"
:root { color-scheme: light; }
body { font: 15px/1.45 -apple-system, "Segoe UI", "DejaVu Sans", Helvetica, Arial, sans-serif; color: #1d2329; margin: 0; background: #f4f6f8; }
main { max-width: 1240px; margin: 0 auto; padding: 24px 28px 48px; background: #fff; }
h1 { font-size: 28px; margin: 0 0 4px; }
h2 { font-size: 21px; margin: 36px 0 10px; padding-top: 8px; border-top: 2px solid #e3e8ee; }
p.meta { color: #56616c; margin: 0 0 14px; }
p.verdict { font-size: 17px; padding: 8px 12px; border-radius: 4px; }
p.hit { background: #fdecea; border: 1px solid #d62728; }
p.ok { background: #eaf6ea; border: 1px solid #2ca02c; }
a { color: #1f63a6; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: 6px 0 8px; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 10px; border-bottom: 1px solid #e3e8ee; text-align: left; vertical-align: top; }
th { background: #eef2f6; font-weight: 600; }
td.n, th.n { text-align: right; white-space: nowrap; }
th.key { background: #dde6f0; }
td.best { background: #e1f3e1; font-weight: 700; }
td.over { background: #fdecea; color: #a51d1d; font-weight: 700; }
.sw { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 6px; }
figure { margin: 18px 0 26px; }
figure svg { display: block; width: 100%; height: auto; border: 1px solid #e3e8ee; }
figcaption { color: #37414b; font-size: 14px; margin-top: 6px; max-width: 1000px; }
footer { margin-top: 40px; color: #56616c; font-size: 13px; }
"#;

fn page_start(h: &mut String, title: &str) {
    let title = escape(title);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n<h1>{title}</h1>\n"
    );
}

fn page_figures(h: &mut String, plots: &[RenderedPlot]) {
    h.push_str("<h2 id=\"plots\">Plots</h2>\n");
    for p in plots {
        let svg = p.svg.find("<svg").map_or("", |at| &p.svg[at..]);
        let _ = writeln!(
            h,
            "<figure id=\"{name}\">\n{svg}\n<figcaption><b>{title}.</b> {caption} <a href=\"{name}.png\">PNG</a> · <a href=\"{name}.svg\">SVG</a></figcaption>\n</figure>",
            name = p.name,
            title = escape(&p.title),
            caption = escape(&p.caption),
        );
    }
}

/// A relative path as an href: `/` kept, characters a URL would misread
/// percent-encoded.
fn href(path: &str) -> String {
    let mut out = String::with_capacity(path.len() + 12);
    for c in path.chars() {
        match c {
            ' ' => out.push_str("%20"),
            '#' => out.push_str("%23"),
            '?' => out.push_str("%3F"),
            '%' => out.push_str("%25"),
            _ => out.push(c),
        }
    }
    escape(&out)
}

fn swatch(i: usize) -> String {
    let RGBColor(r, g, b) = entity_colour(i);
    format!(r#"<span class="sw" style="background:#{r:02x}{g:02x}{b:02x}"></span>"#)
}

fn metric_header(h: &mut String, cols: &[Metric], key: Option<&str>) {
    for m in cols {
        let class = if Some(m.key) == key { "n key" } else { "n" };
        let _ = write!(
            h,
            "<th class=\"{class}\" title=\"{} is better\">{}<br><code>{}</code></th>",
            m.better.name(),
            escape(m.label),
            m.key
        );
    }
}

/// index.html of a comparison.
pub fn comparison_html(c: &Comparison, plots: &[RenderedPlot]) -> String {
    let mut h = String::with_capacity(64 * 1024 + plots.iter().map(|p| p.svg.len()).sum::<usize>());
    page_start(&mut h, &format!("edgesim comparison: {}", c.title));
    let _ = writeln!(
        h,
        "<p class=\"meta\">{} runs, ranked by {} ({} is better). The best value of each metric is highlighted.</p>",
        c.runs.len(),
        escape(c.rank_by.label),
        c.rank_by.better.name()
    );
    let cols = c.columns();
    h.push_str("<h2 id=\"ranking\">Ranking</h2>\n<div class=\"scroll\"><table>\n<thead><tr><th class=\"n\">rank</th><th>variant</th>");
    metric_header(&mut h, &cols, Some(c.rank_by.key));
    h.push_str("</tr></thead>\n<tbody>\n");
    for (rank, &i) in c.ranking().iter().enumerate() {
        let r = &c.runs[i];
        let _ = write!(
            h,
            "<tr><td class=\"n\">{}</td><td>{}<a href=\"{}/index.html\">{}</a></td>",
            rank + 1,
            swatch(i),
            href(&r.report),
            escape(&r.name)
        );
        for col in &cols {
            let m = Metric {
                value: c.value(i, col.key),
                ..col.clone()
            };
            let best = m.value.is_some() && m.value == c.best(col.key);
            let class = if best { "n best" } else { "n" };
            let _ = write!(h, "<td class=\"{class}\">{}</td>", display(&m));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody>\n</table></div>\n");
    page_figures(&mut h, plots);
    let _ = writeln!(
        h,
        "<footer>Machine-readable: <a href=\"{COMPARE_JSON}\">{COMPARE_JSON}</a>, <a href=\"{COMPARE_CSV}\">{COMPARE_CSV}</a>. Each variant's own report: the links in the table. Written by edgesim {}.</footer>",
        env!("CARGO_PKG_VERSION")
    );
    h.push_str("</main>\n</body>\n</html>\n");
    h
}

/// Writes compare.json, compare.csv, the overlay plots and index.html
/// into `dir` (which must exist); returns the file names written.
pub fn write_comparison(dir: &Path, c: &Comparison) -> Result<Vec<String>, ReportError> {
    let mut names = Vec::new();
    put(dir, COMPARE_JSON, &compare_json(c), &mut names)?;
    put(dir, COMPARE_CSV, &compare_csv(c), &mut names)?;
    let plots = comparison_plots(dir, c)?;
    names.extend(
        plots
            .iter()
            .flat_map(|p| [format!("{}.svg", p.name), format!("{}.png", p.name)]),
    );
    put(dir, INDEX_FILE, &comparison_html(c, &plots), &mut names)?;
    Ok(names)
}

/// A bound on a metric for a sweep: a maximum for metrics where lower is
/// better, a minimum where higher is better.
#[derive(Debug, Clone, PartialEq)]
pub struct Limit {
    /// The metric (value None).
    pub metric: Metric,
    /// The bound.
    pub bound: f64,
}

impl Limit {
    /// Parses `METRIC=VALUE` as `--limit` takes it.
    pub fn parse(spec: &str) -> Result<Limit, String> {
        let (key, value) = spec
            .split_once('=')
            .ok_or_else(|| format!("--limit {spec}: expected METRIC=VALUE"))?;
        let metric = metric_info(key.trim()).map_err(|e| format!("--limit {spec}: {e}"))?;
        let bound: f64 = value
            .trim()
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| format!("--limit {spec}: \"{}\" is not a number", value.trim()))?;
        Ok(Limit { metric, bound })
    }

    /// "max" or "min".
    pub fn kind(&self) -> &'static str {
        match self.metric.better {
            Better::Lower => "max",
            Better::Higher => "min",
        }
    }

    /// How a value that breaks the limit compares to it: ">" or "<".
    pub fn relation(&self) -> &'static str {
        match self.metric.better {
            Better::Lower => ">",
            Better::Higher => "<",
        }
    }

    /// Whether `value` breaks the limit.
    pub fn is_broken_by(&self, value: f64) -> bool {
        match self.metric.better {
            Better::Lower => value > self.bound,
            Better::Higher => value < self.bound,
        }
    }
}

/// How the swept values lie on an axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SweepAxis {
    /// Numbers.
    Numeric,
    /// Byte sizes (numbers of bytes).
    Bytes,
    /// Anything else: categories in the order given.
    Categorical,
}

impl SweepAxis {
    /// "numeric", "bytes" or "categorical".
    pub fn name(self) -> &'static str {
        match self {
            SweepAxis::Numeric => "numeric",
            SweepAxis::Bytes => "bytes",
            SweepAxis::Categorical => "categorical",
        }
    }
}

/// One swept scenario value (`--vary PATH=V1,V2,...`).
#[derive(Debug, Clone, PartialEq)]
pub struct SweepDim {
    /// The scenario path, as `--set` names it.
    pub path: String,
    /// The values, in the order given.
    pub values: Vec<String>,
    /// How the values lie on an axis.
    pub axis: SweepAxis,
    /// Each value's position on that axis (the index when categorical).
    pub xs: Vec<f64>,
}

/// One value of a sweep (one combination of a grid) and its run.
#[derive(Debug, Clone)]
pub struct SweepPoint {
    /// The value as given; on a grid the values of every dimension,
    /// joined by " × ".
    pub value: String,
    /// Index of its value in each of [`Sweep::dims`] (one per dimension).
    pub at: Vec<usize>,
    /// Its position on the axis (the index for a categorical axis).
    pub x: f64,
    /// Its report directory relative to the sweep's, with `/`.
    pub report: String,
    /// Its summary.
    pub summary: Summary,
}

/// Where a limit was broken.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LimitHit {
    /// Index of the point.
    pub point: usize,
    /// Index of the limit.
    pub limit: usize,
    /// The metric's value there.
    pub value: f64,
}

/// One scenario run at several values of one parameter, or at every
/// combination of the values of several (a grid).
#[derive(Debug, Clone)]
pub struct Sweep {
    /// Scenario name.
    pub scenario: String,
    /// The swept path, e.g. `viewers.requests_per_sec`; on a grid the
    /// paths joined by " × ".
    pub param: String,
    /// How the values lie on an axis (of the first dimension on a grid).
    pub axis: SweepAxis,
    /// The swept dimensions, in the order given (one for a plain sweep).
    pub dims: Vec<SweepDim>,
    /// The runs, in the order of the values.
    pub points: Vec<SweepPoint>,
    /// The limits, in the order given.
    pub limits: Vec<Limit>,
}

impl Sweep {
    /// Where point `i` is: `path = value`, for every dimension.
    pub fn at(&self, i: usize) -> String {
        let p = &self.points[i];
        if self.dims.len() <= 1 {
            return format!("{} = {}", self.param, p.value);
        }
        self.dims
            .iter()
            .zip(&p.at)
            .map(|(d, &k)| format!("{} = {}", d.path, d.values[k]))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Limits broken at point `i`, in limit order.
    pub fn hits_at(&self, i: usize) -> Vec<LimitHit> {
        let ms = metrics(&self.points[i].summary);
        self.limits
            .iter()
            .enumerate()
            .filter_map(|(k, l)| {
                let v = value_of(&ms, l.metric.key)?;
                l.is_broken_by(v).then_some(LimitHit {
                    point: i,
                    limit: k,
                    value: v,
                })
            })
            .collect()
    }

    /// The first limit broken, scanning the values in order (and the
    /// limits in order at each value).
    pub fn first_limit_hit(&self) -> Option<LimitHit> {
        (0..self.points.len()).find_map(|i| self.hits_at(i).into_iter().next())
    }

    /// One line saying which limit was hit first, and where, or that
    /// none was.
    pub fn verdict(&self) -> String {
        if self.limits.is_empty() {
            return "no limits given".into();
        }
        match self.first_limit_hit() {
            Some(hit) => {
                let l = &self.limits[hit.limit];
                format!(
                    "first limit hit: {} = {} {} {} at {}",
                    l.metric.key,
                    short(hit.value),
                    l.relation(),
                    short(l.bound),
                    self.at(hit.point)
                )
            }
            None => {
                let all: Vec<String> = self
                    .limits
                    .iter()
                    .map(|l| {
                        let rel = if l.relation() == ">" { "<=" } else { ">=" };
                        format!("{} {rel} {}", l.metric.key, short(l.bound))
                    })
                    .collect();
                format!(
                    "no limit hit: {} at every value of {}",
                    all.join(", "),
                    self.param
                )
            }
        }
    }
}

/// sweep.json: the parameter, metrics and limits, each value with its
/// report and metrics and the limits it breaks, and the first limit hit.
pub fn sweep_json(s: &Sweep) -> String {
    let table: Vec<Vec<Metric>> = s.points.iter().map(|p| metrics(&p.summary)).collect();
    let cols = columns(&table);
    let mut out = String::from("{\n");
    let _ = writeln!(out, "  \"schema_version\": {COMPARE_SCHEMA_VERSION},");
    let _ = writeln!(out, "  \"scenario\": {},", json_str(&s.scenario));
    let _ = writeln!(out, "  \"param\": {},", json_str(&s.param));
    let _ = writeln!(out, "  \"axis\": {},", json_str(s.axis.name()));
    out.push_str("  \"vary\": [");
    for (k, d) in s.dims.iter().enumerate() {
        let values: Vec<String> = d.values.iter().map(|v| json_str(v)).collect();
        let _ = write!(
            out,
            "{}\n    {{\"path\": {}, \"axis\": {}, \"values\": [{}]}}",
            if k > 0 { "," } else { "" },
            json_str(&d.path),
            json_str(d.axis.name()),
            values.join(", ")
        );
    }
    out.push_str(if s.dims.is_empty() {
        "],\n"
    } else {
        "\n  ],\n"
    });
    json_metric_list(&mut out, &cols);
    out.push_str("  \"limits\": [");
    for (k, l) in s.limits.iter().enumerate() {
        let _ = write!(
            out,
            "{}\n    {{\"metric\": {}, \"kind\": {}, \"bound\": {}}}",
            if k > 0 { "," } else { "" },
            json_str(l.metric.key),
            json_str(l.kind()),
            fixed(l.bound)
        );
    }
    out.push_str(if s.limits.is_empty() {
        "],\n"
    } else {
        "\n  ],\n"
    });
    out.push_str("  \"points\": [\n");
    for (i, p) in s.points.iter().enumerate() {
        let hits: Vec<String> = s
            .hits_at(i)
            .iter()
            .map(|h| json_str(s.limits[h.limit].metric.key))
            .collect();
        let values: Vec<String> = s
            .dims
            .iter()
            .zip(&p.at)
            .map(|(d, &k)| format!("{}: {}", json_str(&d.path), json_str(&d.values[k])))
            .collect();
        let _ = write!(
            out,
            "    {{\n      \"value\": {},\n      \"values\": {{{}}},\n      \"x\": {},\n      \"report\": {},\n      \"limits_hit\": [{}],\n      \"metrics\": ",
            json_str(&p.value),
            values.join(", "),
            fixed(p.x),
            json_str(&p.report),
            hits.join(", ")
        );
        json_metric_values(&mut out, &cols, &table[i], "      ");
        out.push_str("\n    }");
        out.push_str(if i + 1 < s.points.len() { ",\n" } else { "\n" });
    }
    out.push_str("  ],\n  \"first_limit_hit\": ");
    match s.first_limit_hit() {
        Some(h) => {
            let l = &s.limits[h.limit];
            let _ = write!(
                out,
                "{{\"metric\": {}, \"value\": {}, \"relation\": {}, \"bound\": {}, \"at\": {}, \"index\": {}}}",
                json_str(l.metric.key),
                fixed(h.value),
                json_str(l.relation()),
                fixed(l.bound),
                json_str(&s.points[h.point].value),
                h.point
            );
        }
        None => out.push_str("null"),
    }
    let _ = write!(out, ",\n  \"verdict\": {}\n}}\n", json_str(&s.verdict()));
    out
}

/// sweep.csv: one row per value, one column per metric, then the keys of
/// the limits it breaks (`;`-separated).
pub fn sweep_csv(s: &Sweep) -> String {
    let table: Vec<Vec<Metric>> = s.points.iter().map(|p| metrics(&p.summary)).collect();
    let cols = columns(&table);
    let grid = s.dims.len() > 1;
    let mut out = if grid {
        let paths: Vec<String> = s.dims.iter().map(|d| csv_field(&d.path)).collect();
        format!("{},report", paths.join(","))
    } else {
        format!("{},report", csv_field(&s.param))
    };
    for m in &cols {
        out.push(',');
        out.push_str(m.key);
    }
    out.push_str(",limits_hit\n");
    for (i, p) in s.points.iter().enumerate() {
        if grid {
            let values: Vec<String> = s
                .dims
                .iter()
                .zip(&p.at)
                .map(|(d, &k)| csv_field(&d.values[k]))
                .collect();
            let _ = write!(out, "{},{}", values.join(","), csv_field(&p.report));
        } else {
            let _ = write!(out, "{},{}", csv_field(&p.value), csv_field(&p.report));
        }
        for m in &cols {
            out.push(',');
            if let Some(v) = value_of(&table[i], m.key) {
                out.push_str(&fixed(v));
            }
        }
        let hits: Vec<&str> = s
            .hits_at(i)
            .iter()
            .map(|h| s.limits[h.limit].metric.key)
            .collect();
        let _ = writeln!(out, ",{}", hits.join(";"));
    }
    out
}

/// The plots of a sweep: each of [`SWEEP_PLOTS`] against the value.
fn sweep_plots(dir: &Path, s: &Sweep) -> Result<Vec<RenderedPlot>, PlotError> {
    let table: Vec<Vec<Metric>> = s.points.iter().map(|p| metrics(&p.summary)).collect();
    let mut plots = Vec::new();
    // A grid: x is the first dimension, one line per combination of the
    // others (in the order the points ran).
    let mut series: Vec<(String, Vec<usize>)> = Vec::new();
    type LabelOf = Box<dyn Fn(&SweepPoint) -> String>;
    let (x_param, label_of): (String, LabelOf) = if s.dims.len() > 1 {
        for (i, p) in s.points.iter().enumerate() {
            let label = s.dims[1..]
                .iter()
                .zip(&p.at[1..])
                .map(|(d, &k)| format!("{} = {}", d.path, d.values[k]))
                .collect::<Vec<_>>()
                .join(", ");
            match series.iter_mut().find(|(l, _)| *l == label) {
                Some((_, indices)) => indices.push(i),
                None => series.push((label, vec![i])),
            }
        }
        let first = s.dims[0].clone();
        (
            first.path.clone(),
            Box::new(move |p: &SweepPoint| first.values[p.at[0]].clone()),
        )
    } else {
        (s.param.clone(), Box::new(|p: &SweepPoint| p.value.clone()))
    };
    for key in SWEEP_PLOTS {
        let Ok(info) = metric_info(key) else { continue };
        let scale = if info.unit == "ratio" { 100.0 } else { 1.0 };
        let unit = if info.unit == "ratio" { "%" } else { info.unit };
        let points: Vec<(f64, String, Option<f64>)> = s
            .points
            .iter()
            .zip(&table)
            .map(|(p, row)| (p.x, label_of(p), value_of(row, key).map(|v| v * scale)))
            .collect();
        let limit = s
            .limits
            .iter()
            .rfind(|l| l.metric.key == key)
            .map(|l| (l.bound * scale, l.metric.better == Better::Lower));
        let mut caption = format!(
            "{} ({}; {} is better) of each run against {}",
            info.label,
            unit,
            info.better.name(),
            x_param
        );
        if s.dims.len() > 1 {
            let others: Vec<&str> = s.dims[1..].iter().map(|d| d.path.as_str()).collect();
            caption += &format!(", one line per value of {}", others.join(" × "));
        }
        if let Some((bound, max)) = limit {
            caption += &format!(
                "; the dashed line is the limit ({} {}), points beyond it are red",
                if max { "at most" } else { "at least" },
                short(bound)
            );
        }
        caption.push('.');
        draw(
            dir,
            &format!("sweep_{key}"),
            format!("{} against {}", info.label, s.param),
            caption,
            &SweepLine {
                title: format!("{}: {} against {}", s.scenario, info.label, s.param),
                x_desc: x_param.clone(),
                y_desc: format!("{} ({unit})", info.label),
                points: &points,
                categorical: s.axis == SweepAxis::Categorical,
                x_bytes: s.axis == SweepAxis::Bytes,
                limit,
                series: &series,
            },
            &mut plots,
        )?;
    }
    Ok(plots)
}

/// index.html of a sweep.
pub fn sweep_html(s: &Sweep, plots: &[RenderedPlot]) -> String {
    let table: Vec<Vec<Metric>> = s.points.iter().map(|p| metrics(&p.summary)).collect();
    let cols = columns(&table);
    let mut h = String::with_capacity(64 * 1024 + plots.iter().map(|p| p.svg.len()).sum::<usize>());
    page_start(
        &mut h,
        &format!("edgesim sweep: {} over {}", s.scenario, s.param),
    );
    let limits: Vec<String> = s
        .limits
        .iter()
        .map(|l| {
            format!(
                "{} {} {}",
                l.metric.key,
                if l.kind() == "max" { "≤" } else { "≥" },
                short(l.bound)
            )
        })
        .collect();
    let _ = writeln!(
        h,
        "<p class=\"meta\">{} {} of <code>{}</code> ({} axis). Limits: {}.</p>",
        s.points.len(),
        if s.dims.len() > 1 {
            "combinations of the values"
        } else {
            "values"
        },
        escape(&s.param),
        s.axis.name(),
        if limits.is_empty() {
            "none".into()
        } else {
            escape(&limits.join(", "))
        }
    );
    if !s.limits.is_empty() {
        let class = if s.first_limit_hit().is_some() {
            "hit"
        } else {
            "ok"
        };
        let _ = writeln!(
            h,
            "<p class=\"verdict {class}\">{}</p>",
            escape(&s.verdict())
        );
    }
    let _ = write!(
        h,
        "<h2 id=\"values\">Values</h2>\n<div class=\"scroll\"><table>\n<thead><tr><th>{}</th>",
        escape(&s.param)
    );
    metric_header(&mut h, &cols, None);
    h.push_str("</tr></thead>\n<tbody>\n");
    for (i, p) in s.points.iter().enumerate() {
        let hits = s.hits_at(i);
        let _ = write!(
            h,
            "<tr><td><a href=\"{}/index.html\">{}</a></td>",
            href(&p.report),
            escape(&p.value)
        );
        for col in &cols {
            let m = Metric {
                value: value_of(&table[i], col.key),
                ..col.clone()
            };
            let over = hits
                .iter()
                .any(|hit| s.limits[hit.limit].metric.key == col.key);
            let class = if over { "n over" } else { "n" };
            let _ = write!(h, "<td class=\"{class}\">{}</td>", display(&m));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody>\n</table></div>\n");
    page_figures(&mut h, plots);
    let _ = writeln!(
        h,
        "<footer>Machine-readable: <a href=\"{SWEEP_JSON}\">{SWEEP_JSON}</a>, <a href=\"{SWEEP_CSV}\">{SWEEP_CSV}</a>. Each value's own report: the links in the table. Written by edgesim {}.</footer>",
        env!("CARGO_PKG_VERSION")
    );
    h.push_str("</main>\n</body>\n</html>\n");
    h
}

/// Writes sweep.json, sweep.csv, the plots and index.html into `dir`
/// (which must exist); returns the file names written.
pub fn write_sweep(dir: &Path, s: &Sweep) -> Result<Vec<String>, ReportError> {
    let mut names = Vec::new();
    put(dir, SWEEP_JSON, &sweep_json(s), &mut names)?;
    put(dir, SWEEP_CSV, &sweep_csv(s), &mut names)?;
    let plots = sweep_plots(dir, s)?;
    names.extend(
        plots
            .iter()
            .flat_map(|p| [format!("{}.svg", p.name), format!("{}.png", p.name)]),
    );
    put(dir, INDEX_FILE, &sweep_html(s, &plots), &mut names)?;
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit;

    fn run(name: &str, hit_ratio: f64, p99: f64) -> ComparedRun {
        let mut summary = testkit::summary(4);
        summary.totals.hit_ratio = hit_ratio;
        summary.latency_ms.p99 = p99;
        ComparedRun {
            name: name.into(),
            report: name.into(),
            summary,
        }
    }

    #[test]
    fn numbers_have_one_fixed_format() {
        assert_eq!(fixed(1200.0), "1200");
        assert_eq!(fixed(0.5), "0.5");
        assert_eq!(fixed(1.0 / 3.0), "0.333333");
        assert_eq!(fixed(-0.0), "0");
        assert_eq!(fixed(-1e-9), "0");
        assert_eq!(short(312.43), "312.4");
        assert_eq!(short(0.012345), "0.0123");
        assert_eq!(short(250.0), "250");
    }

    #[test]
    fn ranking_follows_the_better_direction_and_ties_by_name() {
        let runs = vec![
            run("b", 0.5, 20.0),
            run("a", 0.9, 20.0),
            run("c", 0.7, 10.0),
        ];
        let c = Comparison::new("t", runs.clone(), "p99_ms").unwrap();
        assert_eq!(c.ranking(), vec![2, 1, 0]);
        let c = Comparison::new("t", runs, "hit_ratio").unwrap();
        assert_eq!(c.ranking(), vec![1, 2, 0]);
        assert_eq!(c.best("hit_ratio"), Some(0.9));
        assert_eq!(c.best("p99_ms"), Some(10.0));
        let e = Comparison::new("t", vec![], "p98").unwrap_err();
        assert!(e.to_string().contains("p99_ms, p999_ms"), "{e}");
    }

    #[test]
    fn every_metric_key_is_unique_and_metrics_follow_the_keys() {
        let keys = metric_keys();
        for (i, k) in keys.iter().enumerate() {
            assert!(!keys[i + 1..].contains(k), "{k} twice");
        }
        let ms = metrics(&testkit::summary(3));
        assert_eq!(ms.iter().map(|m| m.key).collect::<Vec<_>>(), keys);
    }

    #[test]
    fn limits_are_maxima_or_minima_by_direction() {
        let l = Limit::parse("p99_ms=250").unwrap();
        assert_eq!((l.kind(), l.relation()), ("max", ">"));
        assert!(l.is_broken_by(250.1) && !l.is_broken_by(250.0));
        let l = Limit::parse("offload_requests=0.9").unwrap();
        assert_eq!((l.kind(), l.relation()), ("min", "<"));
        assert!(l.is_broken_by(0.89) && !l.is_broken_by(0.9));
        assert!(Limit::parse("p99_ms").unwrap_err().contains("METRIC=VALUE"));
        assert!(Limit::parse("p99=1").unwrap_err().contains("known metrics"));
        assert!(
            Limit::parse("p99_ms=abc")
                .unwrap_err()
                .contains("not a number")
        );
    }

    #[test]
    fn a_comparison_writes_every_file() {
        let tmp = tempfile::tempdir().unwrap();
        let c =
            Comparison::new("t", vec![run("a", 0.5, 20.0), run("b", 0.9, 9.0)], "p99_ms").unwrap();
        let names = write_comparison(tmp.path(), &c).unwrap();
        assert!(names.contains(&"hit_ratio.png".to_owned()));
        let html = std::fs::read_to_string(tmp.path().join(INDEX_FILE)).unwrap();
        assert_eq!(html.matches("<svg").count(), 4);
        assert!(html.contains("href=\"b/index.html\""));
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(tmp.path().join(COMPARE_JSON)).unwrap())
                .unwrap();
        assert_eq!(json["ranking"][0]["name"], "b");
    }

    #[test]
    fn cost_metrics_come_from_the_summary_and_lower_is_better() {
        let s = testkit::summary(3);
        let cost = s.cost.clone().expect("priced");
        let value = |s: &Summary, key: &str| metrics(s).into_iter().find(|m| m.key == key);
        let run = value(&s, "cost_run_usd").unwrap();
        assert_eq!(run.value, Some(cost.run_usd.total));
        assert_eq!(run.better, Better::Lower);
        let month = value(&s, "cost_monthly_usd").unwrap();
        assert_eq!(month.value, Some(cost.monthly_usd.total));
        assert_eq!(month.unit, "USD");
        let mut old = s;
        old.cost = None;
        assert_eq!(value(&old, "cost_monthly_usd").unwrap().value, None);
    }
}
