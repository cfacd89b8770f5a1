//! Writing a report directory: everything goes to a staging directory
//! beside the target, which replaces it ([`replace_dir`], one atomic
//! rename on Linux) only when complete, so a failed run never leaves a
//! half-written report nor loses the previous one. Also
//! reading a saved report back ([`read_report`]) and redrawing its plots
//! and index.html in place ([`regenerate_report`]).

use std::path::{Path, PathBuf};

use crate::histograms::RunHistograms;
use crate::html::{RenderedPlot, index_html};
use crate::plot::{
    ArmEpoch, CdfCurve, Figure, LatencyBy, LatencyCdf, LatencyOffload, MigrationArms,
    MigrationShift, OffloadTiers, OriginCapacity, OriginLoad, PlotError, PopHitRatio, PopMap,
    ShiftSeries, TriggerPanels, ViewerOutcomesPlot, entity_colour, latency_by_epochs_per_point,
    write_svg_and_png,
};
use crate::summary::{EpochRow, LatencyMs, MigrationSummary, Summary};

/// Countries (and PoPs) with the most requests drawn in the CDF plots.
pub const CDF_TOP_N: usize = 8;
/// Most PoPs drawn in the hit-ratio bars (the busiest).
pub const HIT_RATIO_MAX_BARS: usize = 80;

/// The files a report holds besides its plots.
pub const SUMMARY_FILE: &str = "summary.json";
/// Latency histograms for the CDF plots (see [`crate::histograms`]).
pub const HISTOGRAMS_FILE: &str = "histograms.json";
/// The time series as CSV.
pub const TIMESERIES_FILE: &str = "timeseries.csv";
/// The report page.
pub const INDEX_FILE: &str = "index.html";

/// A report that could not be written; the target was left as it was.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// File-system trouble.
    #[error("cannot write report {path}: {source}")]
    Io {
        /// The path concerned.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A plot failed.
    #[error(transparent)]
    Plot(#[from] PlotError),
    /// The data files just written do not read back.
    #[error(transparent)]
    Reread(#[from] ReadError),
}

/// A saved report that cannot be read back.
#[derive(Debug, thiserror::Error)]
#[error("cannot read report file {path}: {problem}")]
pub struct ReadError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong with it.
    pub problem: String,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ReportError + '_ {
    move |source| ReportError::Io {
        path: path.to_owned(),
        source,
    }
}

/// summary.json text (pretty, newline-terminated), with arrays of plain
/// values (the per-epoch series) on one line each: see [`JsonLayout`].
pub fn summary_json(summary: &Summary) -> String {
    let mut out = Vec::with_capacity(256 * 1024);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, JsonLayout::default());
    serde::Serialize::serialize(summary, &mut ser).expect("summary serialises");
    String::from_utf8(out).expect("JSON is UTF-8") + "\n"
}

/// serde_json's pretty layout (two-space indent), except that an array
/// whose first element is a number, string, boolean or null is written on
/// one line (`[1, 2, null]`), with everything inside it: per-epoch series
/// then cost a line each instead of a line per epoch.
#[derive(Debug, Default)]
pub struct JsonLayout {
    /// Open containers: (is an array, written on one line, has a value).
    stack: Vec<(bool, bool, bool)>,
    /// An array element has begun (its comma written) but not its value.
    pending_element: bool,
}

impl JsonLayout {
    fn inline(&self) -> bool {
        self.stack.last().is_some_and(|f| f.1)
    }

    fn newline<W: ?Sized + std::io::Write>(&self, w: &mut W, depth: usize) -> std::io::Result<()> {
        w.write_all(b"\n")?;
        for _ in 0..depth {
            w.write_all(b"  ")?;
        }
        Ok(())
    }

    /// Called before any value: lays out a pending array element (and
    /// decides an array's layout from its first element).
    fn value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        container: bool,
    ) -> std::io::Result<()> {
        if !std::mem::take(&mut self.pending_element) {
            return Ok(());
        }
        let depth = self.stack.len();
        let frame = self.stack.last_mut().expect("inside an array");
        let first = !frame.2;
        frame.2 = true;
        if first {
            // An array inside a one-line container stays on the line.
            let parent_inline = depth >= 2 && self.stack[depth - 2].1;
            let frame = self.stack.last_mut().expect("inside an array");
            frame.1 = parent_inline || !container;
        }
        if self.inline() {
            if !first {
                w.write_all(b" ")?;
            }
            Ok(())
        } else {
            self.newline(w, depth)
        }
    }
}

impl serde_json::ser::Formatter for JsonLayout {
    fn write_null<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.value(w, false)?;
        w.write_all(b"null")
    }

    fn write_bool<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        v: bool,
    ) -> std::io::Result<()> {
        self.value(w, false)?;
        serde_json::ser::CompactFormatter.write_bool(w, v)
    }

    fn write_i64<W: ?Sized + std::io::Write>(&mut self, w: &mut W, v: i64) -> std::io::Result<()> {
        self.value(w, false)?;
        serde_json::ser::CompactFormatter.write_i64(w, v)
    }

    fn write_u64<W: ?Sized + std::io::Write>(&mut self, w: &mut W, v: u64) -> std::io::Result<()> {
        self.value(w, false)?;
        serde_json::ser::CompactFormatter.write_u64(w, v)
    }

    fn write_i32<W: ?Sized + std::io::Write>(&mut self, w: &mut W, v: i32) -> std::io::Result<()> {
        self.value(w, false)?;
        serde_json::ser::CompactFormatter.write_i32(w, v)
    }

    fn write_u32<W: ?Sized + std::io::Write>(&mut self, w: &mut W, v: u32) -> std::io::Result<()> {
        self.value(w, false)?;
        serde_json::ser::CompactFormatter.write_u32(w, v)
    }

    fn write_i8<W: ?Sized + std::io::Write>(&mut self, w: &mut W, v: i8) -> std::io::Result<()> {
        self.value(w, false)?;
        serde_json::ser::CompactFormatter.write_i8(w, v)
    }

    fn write_u8<W: ?Sized + std::io::Write>(&mut self, w: &mut W, v: u8) -> std::io::Result<()> {
        self.value(w, false)?;
        serde_json::ser::CompactFormatter.write_u8(w, v)
    }

    fn write_i16<W: ?Sized + std::io::Write>(&mut self, w: &mut W, v: i16) -> std::io::Result<()> {
        self.value(w, false)?;
        serde_json::ser::CompactFormatter.write_i16(w, v)
    }

    fn write_u16<W: ?Sized + std::io::Write>(&mut self, w: &mut W, v: u16) -> std::io::Result<()> {
        self.value(w, false)?;
        serde_json::ser::CompactFormatter.write_u16(w, v)
    }

    fn write_i128<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        v: i128,
    ) -> std::io::Result<()> {
        self.value(w, false)?;
        serde_json::ser::CompactFormatter.write_i128(w, v)
    }

    fn write_u128<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        v: u128,
    ) -> std::io::Result<()> {
        self.value(w, false)?;
        serde_json::ser::CompactFormatter.write_u128(w, v)
    }

    fn write_f32<W: ?Sized + std::io::Write>(&mut self, w: &mut W, v: f32) -> std::io::Result<()> {
        self.value(w, false)?;
        serde_json::ser::CompactFormatter.write_f32(w, v)
    }

    fn write_f64<W: ?Sized + std::io::Write>(&mut self, w: &mut W, v: f64) -> std::io::Result<()> {
        self.value(w, false)?;
        serde_json::ser::CompactFormatter.write_f64(w, v)
    }

    fn write_number_str<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        v: &str,
    ) -> std::io::Result<()> {
        self.value(w, false)?;
        w.write_all(v.as_bytes())
    }

    fn begin_string<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.value(w, false)?;
        w.write_all(b"\"")
    }

    fn write_raw_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        self.value(w, false)?;
        w.write_all(fragment.as_bytes())
    }

    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.value(w, true)?;
        let inline = self.inline();
        self.stack.push((true, inline, false));
        w.write_all(b"[")
    }

    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        let (_, inline, any) = self.stack.pop().expect("an open array");
        if any && !inline {
            self.newline(w, self.stack.len())?;
        }
        w.write_all(b"]")
    }

    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if !first {
            w.write_all(b",")?;
        }
        self.pending_element = true;
        Ok(())
    }

    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, _w: &mut W) -> std::io::Result<()> {
        Ok(())
    }

    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.value(w, true)?;
        let inline = self.inline();
        self.stack.push((false, inline, false));
        w.write_all(b"{")
    }

    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        let (_, inline, any) = self.stack.pop().expect("an open object");
        if any && !inline {
            self.newline(w, self.stack.len())?;
        }
        w.write_all(b"}")
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if !first {
            w.write_all(b",")?;
        }
        let depth = self.stack.len();
        let frame = self.stack.last_mut().expect("an open object");
        frame.2 = true;
        if frame.1 {
            if !first {
                w.write_all(b" ")?;
            }
            Ok(())
        } else {
            self.newline(w, depth)
        }
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }
}

/// The files of a report, written into `dir` (which must exist).
fn write_files(dir: &Path, summary: &Summary) -> Result<(), ReportError> {
    let path = dir.join(SUMMARY_FILE);
    std::fs::write(&path, summary_json(summary)).map_err(io(&path))?;
    let path = dir.join(HISTOGRAMS_FILE);
    std::fs::write(&path, summary.histograms.to_json(summary)).map_err(io(&path))?;
    let path = dir.join(TIMESERIES_FILE);
    std::fs::write(&path, timeseries_csv(&summary.timeseries)).map_err(io(&path))?;
    write_function_logs(dir, summary)?;
    // Draw from the files as saved, exactly as `edgesim report` will read
    // them, so a redrawn report is identical to the original.
    let saved = read_report(dir)?;
    write_plots_and_index(dir, &saved)?;
    Ok(())
}

/// Directory of a report that holds functions' console output, one file per region.
pub const FUNCTION_LOGS_DIR: &str = "function-logs";

/// Writes `function-logs/<region>.log` for every region whose functions wrote to the console.
fn write_function_logs(dir: &Path, summary: &Summary) -> Result<(), ReportError> {
    if summary.function_logs.is_empty() {
        return Ok(());
    }
    let logs = dir.join(FUNCTION_LOGS_DIR);
    std::fs::create_dir_all(&logs).map_err(io(&logs))?;
    for (region, lines) in &summary.function_logs {
        // Region ids are AWS region codes; anything else is kept out of the path.
        let name: String = region
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let path = logs.join(format!("{name}.log"));
        let mut text = String::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
        for line in lines {
            text.push_str(line);
            text.push('\n');
        }
        std::fs::write(&path, text).map_err(io(&path))?;
    }
    Ok(())
}

/// Draws every plot of `summary` into `dir` and writes index.html;
/// returns the file names written.
fn write_plots_and_index(dir: &Path, summary: &Summary) -> Result<Vec<String>, ReportError> {
    let plots = draw_plots(dir, summary)?;
    let path = dir.join(INDEX_FILE);
    std::fs::write(&path, index_html(summary, &plots)).map_err(io(&path))?;
    let mut names: Vec<String> = plots
        .iter()
        .flat_map(|p| [format!("{}.svg", p.name), format!("{}.png", p.name)])
        .collect();
    names.push(INDEX_FILE.into());
    Ok(names)
}

/// The plots of a report, in page order; each written as SVG and PNG.
pub fn draw_plots(dir: &Path, summary: &Summary) -> Result<Vec<RenderedPlot>, PlotError> {
    let s = summary;
    let name = &s.scenario;
    let mut plots = Vec::new();
    let mut add = |file: &str, title: &str, caption: String, figure: &dyn DrawAny| {
        let svg = figure.write(dir, file)?;
        plots.push(RenderedPlot {
            name: file.into(),
            title: title.into(),
            caption,
            svg,
        });
        Ok::<(), PlotError>(())
    };
    let bucketed = crate::plot::bucket_note(&s.timeseries).map_or(String::new(), |n| {
        format!(" ({n}; percentiles are the largest in each)")
    });

    let outcomes = &s.viewer_outcomes;
    let causes: Vec<String> = outcomes
        .top_causes()
        .into_iter()
        .map(|(c, _)| c.to_owned())
        .collect();
    add(
        "viewer_outcomes",
        "Viewer outcomes: status mix and error rate",
        format!(
            "Top: every viewer answer by status class, stacked to 100% per epoch. Bottom: the error rate (answers with status >= 400, % of the epoch's answers) stacked by cause: the origin's own errors, functions that failed (503) or returned an invalid result (502), throttles (Lambda's quota 503, the origin's 503 Slow Down), timeouts (a function's 503, the origin's 504), an origin that is out or does not resolve, and 4xx/5xx a function generated itself{bucketed}. Cached errors count under the cause that produced them. summary.json: viewer_outcomes."
        ),
        &ViewerOutcomesPlot {
            title: format!("{name}: what viewers got"),
            rows: &s.timeseries,
            errors_by_cause_per_epoch: &outcomes.errors_by_cause_per_epoch,
            causes,
        },
    )?;

    add(
        "latency_offload",
        "Latency percentiles and origin offload",
        format!(
            "Viewer latency per epoch as percentile bands (top: shaded up to p50, p50–p90, p90–p99, p99–p99.9, with the median as a line; a median that jumps between the hit and the miss mode stays inside its band) and the share of requests and bytes not sent to origins (bottom){bucketed}. The first epochs start with cold caches."
        ),
        &LatencyOffload {
            title: format!("{name}: latency and offload over time"),
            rows: &s.timeseries,
        },
    )?;

    let by = &s.timeseries_by;
    let dimensions = [
        (
            "country",
            "country",
            "countries",
            &by.countries,
            s.countries.len(),
        ),
        ("pop", "PoP", "PoPs", &by.pops, s.pops.len()),
        ("device", "device", "device classes", &by.devices, 4),
        (
            "origin",
            "origin of the content",
            "origins",
            &by.origins,
            s.origins.len(),
        ),
        (
            "variant",
            "A/B variant",
            "A/B variants",
            &by.variants,
            s.variants.len(),
        ),
    ];
    for (key, singular, plural, series, all) in dimensions {
        if series.is_empty() {
            continue;
        }
        let which = if series.len() < all {
            format!(
                "the {} of {all} {plural} with the most requests",
                series.len()
            )
        } else {
            format!("every one of the {all} {plural}")
        };
        let per = latency_by_epochs_per_point(s.timeseries.len());
        let bucket_note = if per > 1 {
            format!(" ({per} epochs per point; each the largest of its epochs)")
        } else {
            String::new()
        };
        add(
            &format!("latency_by_{key}"),
            &format!("Latency over time by {singular}"),
            format!(
                "Viewer latency per epoch for {which}: p99 (top, solid) and p50 (bottom, dashed) on the same time axis, one colour per entity (as in the tables and the other plots){bucket_note}. A gap means no requests in that epoch. summary.json's timeseries_by has p50, p90, p99 and p99.9 of every epoch."
            ),
            &LatencyBy {
                title: format!("{name}: viewer latency over time by {singular}"),
                rows: &s.timeseries,
                series,
                total_requests: s.totals.requests,
            },
        )?;
    }

    let countries = top_by_requests(s.countries.iter().map(|c| c.requests));
    let total = s.totals.requests.max(1) as f64;
    let country_curves = countries
        .iter()
        .filter_map(|&i| {
            let c = &s.countries[i];
            let h = s.histograms.countries.get(i)?;
            Some(CdfCurve::from_histogram(
                cdf_label(&c.code, &c.latency_ms, c.requests as f64 / total),
                entity_colour(i),
                h,
            ))
        })
        .collect();
    add(
        "latency_cdf_countries",
        "Latency CDF by country",
        format!(
            "Distribution of viewer latency for the {} of {} viewer countries with the most requests (legend: median, 99th percentile, share of all requests). Each country merges the histograms of all its routes. Top: share of requests answered within x ms; bottom: the tail, share slower than x ms, on a log scale.",
            countries.len(),
            s.countries.len()
        ),
        &LatencyCdf {
            title: format!("{name}: viewer latency by country"),
            curves: country_curves,
        },
    )?;

    let pops = top_by_requests(s.pops.iter().map(|p| p.requests));
    let pop_curves = pops
        .iter()
        .filter_map(|&i| {
            let p = &s.pops[i];
            let h = s.histograms.pops.get(i)?;
            Some(CdfCurve::from_histogram(
                cdf_label(&p.id, &p.latency_ms, p.requests as f64 / total),
                entity_colour(i),
                h,
            ))
        })
        .collect();
    add(
        "latency_cdf_pops",
        "Latency CDF by PoP",
        format!(
            "Distribution of viewer latency at the {} of {} PoPs with the most requests, read like the country CDF.",
            pops.len(),
            s.pops.len()
        ),
        &LatencyCdf {
            title: format!("{name}: viewer latency by PoP"),
            curves: pop_curves,
        },
    )?;

    if !s.histograms.devices.is_empty() {
        let all = s.histograms.total.len().max(1) as f64;
        let curves = s
            .histograms
            .devices
            .iter()
            .enumerate()
            .map(|(i, (device, h))| {
                let l = LatencyMs::of(h);
                CdfCurve::from_histogram(
                    cdf_label(device, &l, h.len() as f64 / all),
                    entity_colour(i),
                    h,
                )
            })
            .collect();
        add(
            "latency_cdf_devices",
            "Latency CDF by device",
            "Distribution of viewer latency per device class, read like the country CDF.".into(),
            &LatencyCdf {
                title: format!("{name}: viewer latency by device"),
                curves,
            },
        )?;
    }

    add(
        "offload_tiers",
        "Offload by tier",
        format!(
            "Top: origin offload by requests and by bytes over time. Bottom: every viewer request by the tier that answered it, stacked to 100%: a function at viewer-request or origin-request (a generated response or a failure; shown when there is one), the PoP's cache (hit, or collapsed onto a fetch already in flight), the regional edge cache, the Origin Shield (when there is one), CloudFront's 502 for an origin that does not resolve (when there is one), or an origin{bucketed}."
        ),
        &OffloadTiers {
            title: format!("{name}: who answered the requests"),
            rows: &s.timeseries,
            totals: &s.totals,
        },
    )?;

    let bars = PopHitRatio {
        title: format!("{name}: hit ratio per PoP"),
        pops: &s.pops,
        max_bars: HIT_RATIO_MAX_BARS,
    };
    let shown = bars.shown().len();
    let idle = s.pops.iter().filter(|p| p.requests == 0).count();
    let mut caption = "Each PoP's viewer requests by the tier that answered them, sorted by edge hit ratio (printed on the bar with the PoP's requests).".to_owned();
    if shown < s.pops.len() - idle {
        caption += &format!(" Only the {shown} busiest PoPs are shown.");
    }
    if idle > 0 {
        caption += &format!(" {idle} PoPs without traffic are left out.");
    }
    add("pop_hit_ratio", "Hit ratio per PoP", caption, &bars)?;

    add(
        "pop_map",
        "PoP map",
        "PoPs at their coordinates (equirectangular projection, 1° of longitude = 1° of latitude; no coastlines). Marker colour: edge hit ratio; marker area: requests. Grey crosses are viewer countries' population centres and grey lines their routes to PoPs, wider for more requests.".into(),
        &PopMap {
            title: format!("{name}: PoPs, edge hit ratio and traffic"),
            pops: &s.pops,
            countries: &s.countries,
            routes: &s.routes,
        },
    )?;

    add(
        "origin_load",
        "Origin load",
        format!(
            "Requests (top), bytes (middle) and 5xx answers including 503 Slow Down (bottom) per second each origin received, per epoch{bucketed}; colours match the origins table."
        ),
        &OriginLoad {
            title: format!("{name}: load on each origin"),
            rows: &s.timeseries,
            origins: &s.origins,
        },
    )?;

    if OriginCapacity::applies(&s.origins) {
        add(
            "origin_capacity",
            "Origin capacity",
            format!(
                "For origins with limited concurrency: the utilisation of their servers (fetches offered x mean service time over servers x epoch length) and the mean wait for a server per fetch, from the first-come-first-served queues simulated for them; for origins with a 503 Slow Down limit: fetches per second against the limit (which grows under pressure with throttle_doubling_secs). Per epoch{bucketed}; colours match the origins table."
            ),
            &OriginCapacity {
                title: format!("{name}: origin capacity"),
                rows: &s.timeseries,
                origins: &s.origins,
            },
        )?;
    }

    if !s.triggers.is_empty() {
        let failed: u64 = s.triggers.iter().map(|t| t.failures()).sum();
        add(
            "triggers",
            "Lambda@Edge functions",
            format!(
                "Per behaviour and stage with a function: invocations, generated responses and cold starts (top left); failed invocations by kind, 502 for an invalid result and 503 otherwise ({} in all; top right); mean simulated run time per invocation (bottom left); invocations per second (solid) and failures per second (dashed) over simulated time{bucketed} (bottom right). Colours in the bottom panels match across them.",
                crate::html::thousands(failed)
            ),
            &TriggerPanels {
                title: format!("{name}: Lambda@Edge functions"),
                triggers: &s.triggers,
                rows: &s.timeseries,
            },
        )?;
    }

    if let Some(m) = &s.migration {
        let series = [shift_series(m, &m.kpis.strategy, 0)];
        add(
            "migration_shift",
            "Migration shift",
            format!(
                "Planned weight of {to} (dashed) against the share of origin fetches that went to {to} (solid) and the share of viewer responses whose content came from {to} (dotted), per epoch. Responses lag fetches by how long objects stay cached. Bottom: realised fetch share minus planned.",
                to = m.to
            ),
            &MigrationShift {
                title: format!("{name}: migration from {} to {}", m.from, m.to),
                share_of: format!("traffic to {}", m.to),
                series: &series,
            },
        )?;
        let epoch_secs = s.epoch_secs.max(1e-9);
        let arms: Vec<ArmEpoch> = m
            .epochs
            .iter()
            .map(|e| ArmEpoch {
                end_secs: e.end_secs,
                hit_ratio_old: e.hit_ratio_old_arm,
                hit_ratio_new: e.hit_ratio_new_arm,
                old_rps: e.old_origin_rps,
                new_rps: e.new_origin_rps,
                new_errors_per_sec: e.new_origin_errors as f64 / epoch_secs,
            })
            .collect();
        add(
            "migration_arms",
            "Migration arms",
            format!(
                "Top: edge hit ratio of the responses whose content came from {} (dashed) and from {} (solid); the new arm starts cold. Bottom: fetches per second each origin received, and 5xx answers per second from {}.",
                m.from, m.to, m.to
            ),
            &MigrationArms {
                title: format!("{name}: {} → {} per arm", m.from, m.to),
                from: m.from.clone(),
                to: m.to.clone(),
                epochs: &arms,
            },
        )?;
    }
    Ok(plots)
}

/// A migration's planned and realised shares, as the shift plot draws them.
pub fn shift_series(m: &MigrationSummary, label: &str, index: usize) -> ShiftSeries {
    ShiftSeries {
        strategy: label.to_owned(),
        index,
        planned: m
            .epochs
            .iter()
            .map(|e| (e.end_secs - epoch_len(m), e.planned_weight))
            .collect(),
        realised: m
            .epochs
            .iter()
            .map(|e| (e.end_secs, e.realised_fetch_share))
            .collect(),
        served: m
            .epochs
            .iter()
            .map(|e| (e.end_secs, e.realised_served_share))
            .collect(),
    }
}

/// Length of a (full) epoch of the migration's run, seconds.
fn epoch_len(m: &MigrationSummary) -> f64 {
    match m.epochs.as_slice() {
        [first, ..] => first.end_secs,
        [] => 0.0,
    }
}

/// Lets [`draw_plots`] treat its figures alike ([`Figure`] is generic over
/// backends, so it cannot be a trait object itself).
trait DrawAny {
    fn write(&self, dir: &Path, name: &str) -> Result<String, PlotError>;
}

impl<F: Figure> DrawAny for F {
    fn write(&self, dir: &Path, name: &str) -> Result<String, PlotError> {
        write_svg_and_png(dir, name, self)
    }
}

/// Indices of the (at most [`CDF_TOP_N`]) entities with most requests,
/// busiest first; ties keep scenario order. Entities without traffic are
/// left out.
fn top_by_requests(requests: impl Iterator<Item = u64>) -> Vec<usize> {
    let mut busy: Vec<(usize, u64)> = requests.enumerate().filter(|&(_, n)| n > 0).collect();
    busy.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    busy.into_iter().take(CDF_TOP_N).map(|(i, _)| i).collect()
}

fn cdf_label(id: &str, l: &LatencyMs, share: f64) -> String {
    format!(
        "{id}: p50 {:.1}, p99 {:.1} ms ({:.1}% of requests)",
        l.p50,
        l.p99,
        share * 100.0
    )
}

/// The time series as CSV text with a header line.
pub fn timeseries_csv(rows: &[EpochRow]) -> String {
    let mut out = String::with_capacity(64 * (rows.len() + 1));
    out.push_str(EpochRow::CSV_HEADER);
    out.push('\n');
    for r in rows {
        out.push_str(&r.csv_line());
        out.push('\n');
    }
    out
}

/// The parent directory and a hidden staging directory beside `dir`.
fn staging_for(dir: &Path, purpose: &str) -> (PathBuf, PathBuf) {
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_owned();
    let name = dir
        .file_name()
        .map_or_else(|| "report".into(), |n| n.to_string_lossy().into_owned());
    let staging = parent.join(format!(".{name}.{purpose}-{}", std::process::id()));
    (parent, staging)
}

fn fresh_dir(path: &Path) -> Result<(), ReportError> {
    if path.exists() {
        std::fs::remove_dir_all(path).map_err(io(path))?;
    }
    std::fs::create_dir(path).map_err(io(path))
}

/// Writes the report for `summary` to `dir`, replacing any previous
/// report there only once the new one is complete.
pub fn write_report(dir: &Path, summary: &Summary) -> Result<(), ReportError> {
    write_report_keeping(dir, summary, &[])
}

/// Like [`write_report`], but files of `dir` named in `keep` (such as the
/// coordinator's epoch log) are carried over into the new report (hard
/// linked, or copied: the old report keeps them until it is replaced).
pub fn write_report_keeping(
    dir: &Path,
    summary: &Summary,
    keep: &[&str],
) -> Result<(), ReportError> {
    let (parent, staging) = staging_for(dir, "staging");
    std::fs::create_dir_all(&parent).map_err(io(&parent))?;
    fresh_dir(&staging)?;
    let staged = write_files(&staging, summary).and_then(|()| {
        for name in keep {
            let (from, to) = (dir.join(name), staging.join(name));
            if from.exists() && std::fs::hard_link(&from, &to).is_err() {
                std::fs::copy(&from, &to).map_err(io(&from))?;
            }
        }
        replace_dir(&staging, dir)
    });
    if staged.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    staged
}

/// Writes the report files for `summary` into the existing directory
/// `dir` (a run's staging directory), leaving its other files alone.
pub fn write_report_in(dir: &Path, summary: &Summary) -> Result<(), ReportError> {
    write_files(dir, summary)
}

/// Puts the directory `staged` in place of `dir`, atomically where the
/// system can (Linux: the two are exchanged in one rename, then the old
/// one is removed); elsewhere by renames that never lose the old
/// directory before the new one is in place. `dir` need not exist.
pub fn replace_dir(staged: &Path, dir: &Path) -> Result<(), ReportError> {
    if !dir.exists() {
        return std::fs::rename(staged, dir).map_err(io(dir));
    }
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{CWD, RenameFlags, renameat_with};
        if renameat_with(CWD, staged, CWD, dir, RenameFlags::EXCHANGE).is_ok() {
            // `staged` now holds the old directory.
            return std::fs::remove_dir_all(staged).map_err(io(staged));
        }
    }
    let (_, old) = staging_for(dir, "old");
    if old.exists() {
        std::fs::remove_dir_all(&old).map_err(io(&old))?;
    }
    std::fs::rename(dir, &old).map_err(io(dir))?;
    if let Err(e) = std::fs::rename(staged, dir) {
        let _ = std::fs::rename(&old, dir);
        return Err(io(dir)(e));
    }
    std::fs::remove_dir_all(&old).map_err(io(&old))
}

/// Reads summary.json and histograms.json of the report in `dir`.
pub fn read_report(dir: &Path) -> Result<Summary, ReadError> {
    let read = |file: &str| {
        let path = dir.join(file);
        std::fs::read_to_string(&path).map_err(|e| ReadError {
            path: path.clone(),
            problem: e.to_string(),
        })
    };
    let path = dir.join(SUMMARY_FILE);
    let mut summary: Summary =
        serde_json::from_str(&read(SUMMARY_FILE)?).map_err(|e| ReadError {
            path: path.clone(),
            problem: format!("not an edgesim summary: {e}"),
        })?;
    if summary.schema_version != crate::SCHEMA_VERSION {
        return Err(ReadError {
            path,
            problem: format!(
                "schema_version {} is not {}; re-run the scenario with this edgesim",
                summary.schema_version,
                crate::SCHEMA_VERSION
            ),
        });
    }
    let text = read(HISTOGRAMS_FILE)?;
    summary.histograms =
        RunHistograms::from_json(&text, &summary).map_err(|problem| ReadError {
            path: dir.join(HISTOGRAMS_FILE),
            problem,
        })?;
    Ok(summary)
}

/// Redraws the plots and index.html of the report in `dir` from
/// `summary` (as [`read_report`] returned it), leaving summary.json,
/// histograms.json and timeseries.csv as they are. Everything is drawn in
/// a staging directory first, so a failure changes nothing. Returns the
/// paths written.
pub fn regenerate_report(dir: &Path, summary: &Summary) -> Result<Vec<PathBuf>, ReportError> {
    let dir = &std::fs::canonicalize(dir).map_err(io(dir))?;
    let (_, staging) = staging_for(dir, "regenerate");
    fresh_dir(&staging)?;
    let names = match write_plots_and_index(&staging, summary) {
        Ok(names) => names,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e);
        }
    };
    let mut written = Vec::with_capacity(names.len());
    for name in names {
        let to = dir.join(&name);
        std::fs::rename(staging.join(&name), &to).map_err(io(&to))?;
        written.push(to);
    }
    std::fs::remove_dir_all(&staging).map_err(io(&staging))?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit;

    const PLOTS: [&str; 10] = [
        "latency_offload",
        "latency_by_country",
        "latency_by_pop",
        "latency_cdf_countries",
        "latency_cdf_pops",
        "offload_tiers",
        "pop_hit_ratio",
        "pop_map",
        "origin_load",
        "viewer_outcomes",
    ];

    fn listing(dir: &Path) -> Vec<(String, Vec<u8>)> {
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect();
        files.sort();
        files
    }

    #[test]
    fn a_report_has_every_file_and_index_inlines_every_plot() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("tiny");
        let summary = testkit::summary(6);
        write_report(&dir, &summary).unwrap();
        for name in PLOTS {
            let svg = std::fs::metadata(dir.join(format!("{name}.svg")))
                .unwrap()
                .len();
            let png = std::fs::metadata(dir.join(format!("{name}.png")))
                .unwrap()
                .len();
            assert!(svg > 5_000, "{name}.svg is {svg} bytes");
            assert!(png > 10_000, "{name}.png is {png} bytes");
        }
        let csv = std::fs::read_to_string(dir.join(TIMESERIES_FILE)).unwrap();
        assert_eq!(csv.lines().count(), 1 + 6);
        assert!(csv.starts_with(EpochRow::CSV_HEADER));

        let html = std::fs::read_to_string(dir.join(INDEX_FILE)).unwrap();
        assert_eq!(
            html.matches("<svg").count(),
            PLOTS.len(),
            "one inline SVG per plot"
        );
        assert_eq!(html.matches("</svg>").count(), PLOTS.len());
        for name in PLOTS {
            assert!(html.contains(&format!("<figure id=\"{name}\">")), "{name}");
            assert!(html.contains(&format!("href=\"{name}.png\"")), "{name}");
            assert!(
                html.contains(&format!("href=\"#{name}\"")),
                "{name} in the contents"
            );
        }
        // What viewers got comes first: its table, figure and causes
        // before the headline and the other plots.
        let at = |needle: &str| html.find(needle).unwrap_or_else(|| panic!("{needle}"));
        assert!(at("<h2 id=\"outcomes\">") < at("<figure id=\"viewer_outcomes\">"));
        assert!(at("<figure id=\"viewer_outcomes\">") < at("<h2 id=\"errors\">"));
        assert!(at("<h2 id=\"errors\">") < at("<h2 id=\"headline\">"));
        assert!(at("<h2 id=\"headline\">") < at("<figure id=\"latency_offload\">"));
        assert!(html.contains("throttle (Lambda quota 503, origin 503 Slow Down)"));
        assert!(html.contains("origin_slow_down"));
        for needle in [
            "<h2 id=\"headline\">",
            "<h2 id=\"pops\">",
            "<h2 id=\"countries\">",
            "<h2 id=\"regions\">",
            "<h2 id=\"origins\">",
            "Four PoPs, three countries, two origins.",
            "seed 3",
            ">fra</td>",
            ">DE</td>",
            ">eu-central-1</td>",
            ">media</td>",
        ] {
            assert!(html.contains(needle), "index.html lacks {needle:?}");
        }
        // Nothing is fetched (xmlns="http://www.w3.org/2000/svg" is only a
        // name; <a href="https://..."> links, such as the cost section's
        // price sources, are only followed by a reader).
        for banned in ["<script", "src=", "<link", "@import", "url("] {
            assert!(!html.contains(banned), "index.html has {banned:?}");
        }
        // Nothing but the report is left beside it.
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
    }

    #[test]
    fn summary_json_is_pretty_with_series_on_one_line() {
        let s = testkit::summary(4);
        let text = summary_json(&s);
        let ours: serde_json::Value = serde_json::from_str(&text).unwrap();
        let plain: serde_json::Value =
            serde_json::from_str(&serde_json::to_string_pretty(&s).unwrap()).unwrap();
        assert_eq!(ours, plain, "the same document");
        assert!(text.starts_with("{\n  \"schema_version\": 1,\n"), "{text}");
        assert!(text.ends_with("\n}\n"));
        let line = text
            .lines()
            .find(|l| l.contains("\"fetches_per_epoch\""))
            .unwrap();
        assert!(
            line.starts_with("      \"fetches_per_epoch\": [") && line.ends_with("],"),
            "{line}"
        );
        assert_eq!(line.matches(", ").count(), 3, "{line}");
        assert!(text.contains("  \"pops\": [\n    {\n      \"id\": \"fra\",\n"));
        assert!(text.contains("\"pops\": [\"fra\", \"ams\"],"));
        assert!(text.contains("\"p99_ms\": ["));
        assert!(text.contains("\"triggers\": [],"));
    }

    #[test]
    fn scenario_text_is_escaped_everywhere() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("evil");
        let mut summary = testkit::summary(2);
        summary.scenario = "<script>alert(1)</script>".into();
        summary.description = "Tom & \"Jerry\" <img src=x onerror=alert(2)>".into();
        summary.pops[0].city = Some("<b>FRA</b>".into());
        summary.origins[1].location = "eu-west-1'><i>".into();
        write_report(&dir, &summary).unwrap();
        let html = std::fs::read_to_string(dir.join(INDEX_FILE)).unwrap();
        for raw in ["<script>", "<img", "<b>FRA", "'><i>"] {
            assert!(!html.contains(raw), "raw {raw:?} in index.html");
        }
        for escaped in [
            "&lt;script&gt;alert(1)&lt;/script&gt;",
            "Tom &amp; &quot;Jerry&quot; &lt;img src=x onerror=alert(2)&gt;",
            "&lt;b&gt;FRA&lt;/b&gt;",
            "eu-west-1&#39;&gt;&lt;i&gt;",
        ] {
            assert!(html.contains(escaped), "{escaped:?} missing");
        }
    }

    #[test]
    fn a_saved_report_reads_back_and_regenerates_in_place() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("tiny");
        let summary = testkit::summary(6);
        write_report(&dir, &summary).unwrap();
        let saved = std::fs::read(dir.join(SUMMARY_FILE)).unwrap();

        let back = read_report(&dir).unwrap();
        assert_eq!(back.histograms, summary.histograms);
        assert_eq!(back.totals, summary.totals);
        assert_eq!(back.countries, summary.countries);

        for name in PLOTS {
            std::fs::remove_file(dir.join(format!("{name}.svg"))).unwrap();
            std::fs::remove_file(dir.join(format!("{name}.png"))).unwrap();
        }
        std::fs::remove_file(dir.join(INDEX_FILE)).unwrap();
        let written = regenerate_report(&dir, &back).unwrap();
        assert_eq!(written.len(), 2 * PLOTS.len() + 1);
        for name in PLOTS {
            assert!(dir.join(format!("{name}.svg")).exists());
            assert!(dir.join(format!("{name}.png")).exists());
        }
        let html = std::fs::read_to_string(dir.join(INDEX_FILE)).unwrap();
        assert_eq!(html.matches("<svg").count(), PLOTS.len());
        assert_eq!(std::fs::read(dir.join(SUMMARY_FILE)).unwrap(), saved);
        assert_eq!(
            std::fs::read_dir(tmp.path()).unwrap().count(),
            1,
            "no staging left"
        );
    }

    #[test]
    fn a_missing_or_corrupt_file_is_named_and_nothing_changes() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("tiny");
        write_report(&dir, &testkit::summary(3)).unwrap();

        std::fs::write(dir.join(SUMMARY_FILE), "{ \"schema_version\": 1, ").unwrap();
        let before = listing(&dir);
        let e = read_report(&dir).unwrap_err();
        assert_eq!(e.path, dir.join(SUMMARY_FILE));
        assert!(
            e.to_string()
                .contains("summary.json: not an edgesim summary"),
            "{e}"
        );
        assert_eq!(listing(&dir), before);

        std::fs::remove_file(dir.join(SUMMARY_FILE)).unwrap();
        let e = read_report(&dir).unwrap_err();
        assert_eq!(e.path, dir.join(SUMMARY_FILE));

        let other = tmp.path().join("other");
        let mut summary = testkit::summary(3);
        write_report(&other, &summary).unwrap();
        summary.pops.swap(0, 1);
        std::fs::write(other.join(SUMMARY_FILE), summary_json(&summary)).unwrap();
        let e = read_report(&other).unwrap_err();
        assert_eq!(e.path, other.join(HISTOGRAMS_FILE));
        assert!(
            e.problem.contains("\"fra\" where summary.json has \"ams\""),
            "{e}"
        );
    }

    #[test]
    fn replacing_a_report_swaps_it_whole_and_keeps_the_named_files() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("tiny");
        write_report(&dir, &testkit::summary(3)).unwrap();
        std::fs::write(dir.join("epochs.log"), "the log").unwrap();
        std::fs::write(dir.join("stale.svg"), "old").unwrap();
        write_report_keeping(&dir, &testkit::summary(5), &["epochs.log"]).unwrap();
        assert_eq!(read_report(&dir).unwrap().epochs, 5);
        assert_eq!(std::fs::read(dir.join("epochs.log")).unwrap(), b"the log");
        assert!(
            !dir.join("stale.svg").exists(),
            "a new directory, not a merge"
        );
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);

        // A staged directory replaces an existing one, and one that
        // does not exist.
        let staged = tmp.path().join("tiny.partial");
        std::fs::create_dir(&staged).unwrap();
        std::fs::write(staged.join("new"), "new").unwrap();
        replace_dir(&staged, &dir).unwrap();
        assert_eq!(std::fs::read(dir.join("new")).unwrap(), b"new");
        assert!(!staged.exists());
        std::fs::create_dir(&staged).unwrap();
        replace_dir(&staged, &tmp.path().join("fresh")).unwrap();
        assert!(tmp.path().join("fresh").is_dir());
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 2);
    }

    #[test]
    fn an_empty_or_idle_run_still_draws() {
        let tmp = tempfile::tempdir().unwrap();
        let empty = testkit::summary(0);
        assert!(!empty.complete);
        write_report(&tmp.path().join("empty"), &empty).unwrap();
        let html = std::fs::read_to_string(tmp.path().join("empty").join(INDEX_FILE)).unwrap();
        assert!(html.contains("Incomplete run"));

        let scenario = testkit::scenario();
        let mut acc = crate::RunAccumulator::new(std::sync::Arc::clone(&scenario));
        let idle: Vec<_> = (0..scenario.regions.len())
            .map(|region| edgesim_sim::RegionEpochReport {
                region,
                epoch: 0,
                ..Default::default()
            })
            .collect();
        acc.add_epoch(0, &idle).unwrap();
        write_report(&tmp.path().join("idle"), &acc.summary()).unwrap();
    }
}
