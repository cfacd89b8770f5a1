//! Plots over simulated time: latency percentile bands with offload,
//! offload by tier, and load per origin.

use std::ops::Range;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::plot::time_panel;

use super::{
    Figure, PALETTE, SHIELD_COLOUR, TIER_COLOURS, byte_rate_unit, draw_legend, entity_colour, err,
    headroom, legend_box, legend_line, time_buckets, titled,
};
use crate::summary::{EpochRow, OriginSummary, Totals};

/// Sums of the counters of a bucket of epochs, with the largest
/// percentiles seen in it (percentiles cannot be added).
#[derive(Default)]
struct Bucket {
    end_secs: f64,
    secs: f64,
    requests: u64,
    edge_hits: u64,
    edge_collapsed: u64,
    regional: u64,
    shield: u64,
    origin_fetches: u64,
    function_answers: u64,
    unresolved: u64,
    viewer_bytes: u64,
    origin_bytes: u64,
    percentiles_ms: [f64; 4],
}

impl Bucket {
    fn of(rows: &[EpochRow]) -> Bucket {
        let mut b = Bucket {
            end_secs: rows.last().map_or(0.0, |r| r.end_secs),
            secs: rows
                .first()
                .zip(rows.last())
                .map_or(0.0, |(a, z)| z.end_secs - a.start_secs),
            ..Bucket::default()
        };
        for r in rows {
            b.requests += r.requests;
            b.edge_hits += r.edge_hits;
            b.edge_collapsed += r.edge_collapsed;
            b.regional += r.regional_hits + r.regional_collapsed;
            b.shield += r.shield_hits + r.shield_collapsed;
            b.origin_fetches += r.origin_fetches;
            b.function_answers += r.function_answers;
            b.unresolved += r.unresolved;
            b.viewer_bytes += r.viewer_bytes;
            b.origin_bytes += r.origin_bytes;
            for (m, v) in b
                .percentiles_ms
                .iter_mut()
                .zip([r.p50_ms, r.p90_ms, r.p99_ms, r.p999_ms])
            {
                *m = m.max(v);
            }
        }
        b
    }

    fn offload_requests(&self) -> f64 {
        1.0 - self.origin_fetches as f64 / self.requests as f64
    }

    fn offload_bytes(&self) -> f64 {
        if self.viewer_bytes == 0 {
            0.0
        } else {
            1.0 - self.origin_bytes as f64 / self.viewer_bytes as f64
        }
    }

    /// Cumulative tier boundaries (function-answered, + edge hit,
    /// + collapsed, + regional, + Origin Shield, + unresolved origin,
    /// + origin), %.
    fn tier_stack(&self) -> [f64; TIERS] {
        let pct = |n: u64| 100.0 * n as f64 / self.requests as f64;
        let mut out = [0.0; TIERS];
        let mut sum = 0.0;
        for (slot, n) in out.iter_mut().zip([
            self.function_answers,
            self.edge_hits,
            self.edge_collapsed,
            self.regional,
            self.shield,
            self.unresolved,
            self.origin_fetches,
        ]) {
            sum += pct(n);
            *slot = sum;
        }
        out
    }
}

/// Layers of the tier stack (see [`Bucket::tier_stack`]).
const TIERS: usize = 7;

/// Colour of requests a function answered (at viewer-request or
/// origin-request), in the tier stack.
const FUNCTION_COLOUR: RGBColor = RGBColor(204, 121, 167);

/// Colour of requests CloudFront answered 502 for an origin that does not
/// resolve, in the tier stack.
const UNRESOLVED_COLOUR: RGBColor = RGBColor(120, 120, 120);

/// A named line read off each bucket.
type Line = (&'static str, fn(&Bucket) -> f64);

/// Buckets with traffic (an idle epoch has no latency or offload).
fn busy_buckets(rows: &[EpochRow]) -> Vec<Bucket> {
    time_buckets(rows.len())
        .into_iter()
        .map(|r| Bucket::of(&rows[r]))
        .filter(|b| b.requests > 0)
        .collect()
}

fn time_axis_end(rows: &[EpochRow]) -> f64 {
    rows.last().map_or(1.0, |r| r.end_secs).max(1e-3)
}

/// A note for captions when epochs were bucketed.
pub(crate) fn bucket_note(rows: &[EpochRow]) -> Option<String> {
    let per = time_buckets(rows.len()).first().map_or(1, Range::len);
    (per > 1).then(|| format!("{per} epochs per point"))
}

/// Latency percentiles (top) and origin offload (bottom) over simulated time.
pub struct LatencyOffload<'a> {
    /// Figure title.
    pub title: String,
    /// The time series.
    pub rows: &'a [EpochRow],
}

impl Figure for LatencyOffload<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let root = titled(root, &self.title)?;
        let (top, bottom) = root.split_vertically(root.dim_in_pixel().1 / 2);
        let buckets = busy_buckets(self.rows);
        let t_end = time_axis_end(self.rows);
        let y_max = headroom(
            buckets
                .iter()
                .map(|b| b.percentiles_ms[3])
                .fold(0.0, f64::max),
        );
        let mut chart = time_panel(
            &top,
            "Viewer latency percentile bands",
            t_end,
            0.0..y_max,
            "latency (ms)",
            75,
        )?;
        // Bands between consecutive percentiles, so that a median flipping
        // between the hit and the miss mode reads as the band it moves in.
        let bands = [
            ("up to p50", None, 0, 0.55),
            ("p50–p90", Some(0), 1, 0.40),
            ("p90–p99", Some(1), 2, 0.28),
            ("p99–p99.9", Some(2), 3, 0.16),
        ];
        for (name, lower, upper, alpha) in bands {
            let colour = PALETTE[0];
            let mut outline: Vec<(f64, f64)> = buckets
                .iter()
                .map(|b| (b.end_secs, b.percentiles_ms[upper]))
                .collect();
            outline.extend(
                buckets
                    .iter()
                    .rev()
                    .map(|b| (b.end_secs, lower.map_or(0.0, |l| b.percentiles_ms[l]))),
            );
            chart
                .draw_series(std::iter::once(Polygon::new(
                    outline,
                    colour.mix(alpha).filled(),
                )))
                .map_err(err)?
                .label(name)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 6), (x + 18, y + 6)], colour.mix(alpha).filled())
                });
        }
        let median = PALETTE[1];
        chart
            .draw_series(LineSeries::new(
                buckets.iter().map(|b| (b.end_secs, b.percentiles_ms[0])),
                median.stroke_width(2),
            ))
            .map_err(err)?
            .label("p50")
            .legend(legend_line(median));
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        draw_offload(&bottom, &buckets, t_end, "Origin offload")
    }
}

/// The offload lines (by requests and by bytes) on `area`.
fn draw_offload<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    buckets: &[Bucket],
    t_end: f64,
    caption: &str,
) -> Result<(), String> {
    let lowest = buckets
        .iter()
        .flat_map(|b| [b.offload_requests(), b.offload_bytes()])
        .fold(1.0f64, f64::min);
    // Zoom in on high offloads, in whole tens, but show the whole story.
    let y_min = ((lowest * 100.0 - 5.0) / 10.0).floor().clamp(0.0, 9.0) * 10.0;
    let mut chart = time_panel(
        area,
        caption,
        t_end,
        y_min..100.5,
        "offload (% not sent to origins)",
        75,
    )?;
    let series: [Line; 2] = [
        ("by requests", Bucket::offload_requests),
        ("by bytes", Bucket::offload_bytes),
    ];
    for (i, (name, f)) in series.into_iter().enumerate() {
        let colour = PALETTE[4 + i];
        chart
            .draw_series(LineSeries::new(
                buckets.iter().map(|b| (b.end_secs, f(b) * 100.0)),
                colour.stroke_width(2),
            ))
            .map_err(err)?
            .label(name)
            .legend(legend_line(colour));
    }
    draw_legend(&mut chart, SeriesLabelPosition::LowerRight)
}

/// Origin offload over time by requests and by bytes (top) and the share
/// of requests answered by each tier (bottom, stacked).
pub struct OffloadTiers<'a> {
    /// Figure title.
    pub title: String,
    /// The time series.
    pub rows: &'a [EpochRow],
    /// Run totals, for the shares in the legend.
    pub totals: &'a Totals,
}

impl Figure for OffloadTiers<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let root = titled(root, &self.title)?;
        let (top, bottom) = root.split_vertically(root.dim_in_pixel().1 * 2 / 5);
        let buckets = busy_buckets(self.rows);
        let t_end = time_axis_end(self.rows);
        draw_offload(&top, &buckets, t_end, "Origin offload")?;

        let mut chart = time_panel(
            &bottom,
            "Requests by the tier that answered them",
            t_end,
            0.0..100.0,
            "share of viewer requests (%)",
            75,
        )?;
        let t = self.totals;
        let share = |n: u64| 100.0 * n as f64 / t.requests.max(1) as f64;
        let mut names = Vec::new();
        if t.function_answers > 0 {
            names.push((
                0,
                format!(
                    "function-answered ({:.1}% of the run)",
                    share(t.function_answers)
                ),
            ));
        }
        names.extend([
            (1, format!("edge hit ({:.1}%)", share(t.edge_hits))),
            (
                2,
                format!("edge collapsed ({:.1}%)", share(t.edge_collapsed)),
            ),
            (
                3,
                format!(
                    "regional cache, hit or collapsed ({:.1}%)",
                    share(t.regional_hits + t.regional_collapsed)
                ),
            ),
        ]);
        if t.shield_requests > 0 {
            names.push((
                4,
                format!(
                    "Origin Shield, hit or collapsed ({:.1}%)",
                    share(t.shield_hits + t.shield_collapsed)
                ),
            ));
        }
        if t.unresolved > 0 {
            names.push((
                5,
                format!("origin does not resolve, 502 ({:.1}%)", share(t.unresolved)),
            ));
        }
        names.push((6, format!("origin ({:.1}%)", share(t.origin_fetches))));
        let stacks: Vec<(f64, [f64; TIERS])> = buckets
            .iter()
            .map(|b| (b.end_secs, b.tier_stack()))
            .collect();
        // Step-shaped bands: each bucket holds its value over its span.
        let starts: Vec<f64> = buckets.iter().map(|b| b.end_secs - b.secs).collect();
        for (layer, name) in names {
            let colour = match layer {
                0 => FUNCTION_COLOUR,
                4 => SHIELD_COLOUR,
                5 => UNRESOLVED_COLOUR,
                6 => TIER_COLOURS[3],
                _ => TIER_COLOURS[layer - 1],
            };
            let lower = |s: &[f64; TIERS]| if layer == 0 { 0.0 } else { s[layer - 1] };
            let mut outline: Vec<(f64, f64)> = Vec::with_capacity(stacks.len() * 4);
            for ((end, s), start) in stacks.iter().zip(&starts) {
                outline.push((*start, s[layer]));
                outline.push((*end, s[layer]));
            }
            for ((end, s), start) in stacks.iter().zip(&starts).rev() {
                outline.push((*end, lower(s)));
                outline.push((*start, lower(s)));
            }
            chart
                .draw_series(std::iter::once(Polygon::new(outline, colour.filled())))
                .map_err(err)?
                .label(name)
                .legend(legend_box(colour));
        }
        draw_legend(&mut chart, SeriesLabelPosition::LowerLeft)
    }
}

/// Requests per second (top), bytes per second (middle) and errors (5xx
/// answers, 503 Slow Down included) per second (bottom) each origin
/// served over simulated time.
pub struct OriginLoad<'a> {
    /// Figure title.
    pub title: String,
    /// The time series (for epoch times).
    pub rows: &'a [EpochRow],
    /// The origins, scenario order (the index picks the colour).
    pub origins: &'a [OriginSummary],
}

impl Figure for OriginLoad<'_> {
    fn size(&self) -> (u32, u32) {
        (1200, 1050)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let root = titled(root, &self.title)?;
        let areas = root.split_evenly((3, 1));
        let t_end = time_axis_end(self.rows);
        let buckets = time_buckets(self.rows.len());
        // (time, rate) per origin and bucket.
        let rates = |per_epoch: fn(&OriginSummary) -> &[u64]| -> Vec<Vec<(f64, f64)>> {
            self.origins
                .iter()
                .map(|o| {
                    buckets
                        .iter()
                        .filter_map(|r| {
                            let rows = &self.rows[r.clone()];
                            let (first, last) = (rows.first()?, rows.last()?);
                            let secs = last.end_secs - first.start_secs;
                            let sum: u64 = per_epoch(o).get(r.clone())?.iter().sum();
                            (secs > 0.0).then_some((last.end_secs, sum as f64 / secs))
                        })
                        .collect()
                })
                .collect()
        };
        let fetches = rates(|o| &o.fetches_per_epoch);
        let bytes = rates(|o| &o.bytes_per_epoch);
        let errors = rates(|o| &o.errors_per_epoch);
        let any_errors = self.origins.iter().any(|o| o.errors > 0);
        let max = |v: &[Vec<(f64, f64)>]| v.iter().flatten().map(|p| p.1).fold(0.0, f64::max);
        let (divisor, unit) = byte_rate_unit(max(&bytes));
        let panels = [
            (
                &areas[0],
                "Origin fetches per second",
                "origin fetches (req/s)".to_owned(),
                &fetches,
                1.0,
            ),
            (
                &areas[1],
                "Origin bytes per second",
                format!("origin bytes ({unit})"),
                &bytes,
                divisor,
            ),
            (
                &areas[2],
                if any_errors {
                    "Origin errors per second (5xx, 503 Slow Down included)"
                } else {
                    "Origin errors per second (5xx): none in this run"
                },
                "origin errors (/s)".to_owned(),
                &errors,
                1.0,
            ),
        ];
        for (area, caption, y_desc, series, divisor) in panels {
            let mut chart = time_panel(
                area,
                caption,
                t_end,
                0.0..headroom(max(series) / divisor),
                y_desc,
                80,
            )?;
            for (i, (o, points)) in self.origins.iter().zip(series.iter()).enumerate() {
                let colour = entity_colour(i);
                chart
                    .draw_series(LineSeries::new(
                        points.iter().map(|&(t, v)| (t, v / divisor)),
                        colour.stroke_width(2),
                    ))
                    .map_err(err)?
                    .label(o.id.as_str())
                    .legend(legend_line(colour));
            }
            draw_legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        }
        Ok(())
    }
}
