//! Viewer latency over simulated time broken down by one dimension
//! (country, PoP, A/B variant): p99 (solid, top) and p50 (dashed, bottom)
//! per entity on a shared time axis.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::plot::time_panel;

use std::ops::Range;

use super::{Figure, draw_legend, entity_colour, err, headroom, legend_line, titled};

/// At most this many points per line: per-epoch percentiles of single
/// entities are noisy, so longer runs are drawn in buckets of whole epochs
/// (the largest percentile of each).
pub const LATENCY_BY_MAX_POINTS: usize = 200;

/// Epochs per point of a [`LatencyBy`] figure of a run of `epochs` epochs.
pub fn latency_by_epochs_per_point(epochs: usize) -> usize {
    epochs.div_ceil(LATENCY_BY_MAX_POINTS).max(1)
}

fn buckets(epochs: usize) -> Vec<Range<usize>> {
    let per = latency_by_epochs_per_point(epochs);
    (0..epochs)
        .step_by(per)
        .map(|start| start..(start + per).min(epochs))
        .collect()
}
use crate::summary::{EntitySeries, EpochRow};

/// p99 (solid, top panel) and p50 (dashed, bottom panel) latency per
/// epoch of a few entities of one dimension, each in [`entity_colour`] of
/// its index in the summary. Epochs without the entity's requests leave a
/// gap; runs with more than [`LATENCY_BY_MAX_POINTS`] epochs are drawn in
/// buckets (the largest percentile of each).
pub struct LatencyBy<'a> {
    /// Figure title.
    pub title: String,
    /// The run's time series (for epoch times).
    pub rows: &'a [EpochRow],
    /// The entities, in legend order.
    pub series: &'a [EntitySeries],
    /// All requests of the run, for the shares in the legend.
    pub total_requests: u64,
}

/// (time, value) points; None: no value there.
type Gappy = Vec<(f64, Option<f64>)>;

/// Runs of consecutive (time, value) points with a value; a missing value
/// ends a run.
fn segments(points: impl Iterator<Item = (f64, Option<f64>)>) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut current = Vec::new();
    for (t, v) in points {
        match v {
            Some(v) => current.push((t, v)),
            None if !current.is_empty() => out.push(std::mem::take(&mut current)),
            None => {}
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

impl LatencyBy<'_> {
    /// (bucket end, largest value in the bucket) of one percentile list.
    fn bucketed(&self, values: &[Option<f64>]) -> Vec<(f64, Option<f64>)> {
        buckets(self.rows.len().min(values.len()))
            .into_iter()
            .map(|r| {
                let end = self.rows[r.end - 1].end_secs;
                let v = values[r].iter().flatten().copied().reduce(f64::max);
                (end, v)
            })
            .collect()
    }
}

impl Figure for LatencyBy<'_> {
    fn size(&self) -> (u32, u32) {
        (1200, 950)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let root = titled(root, &self.title)?;
        let (top, bottom) = root.split_vertically(root.dim_in_pixel().1 * 11 / 20);
        let t_end = self.rows.last().map_or(1.0, |r| r.end_secs).max(1e-3);
        let total = self.total_requests.max(1) as f64;
        let panels: [(&DrawingArea<DB, Shift>, &str, bool); 2] = [
            (&top, "p99 per epoch (solid)", true),
            (&bottom, "p50 per epoch (dashed)", false),
        ];
        for (area, caption, p99) in panels {
            let lines: Vec<Gappy> = self
                .series
                .iter()
                .map(|s| self.bucketed(if p99 { &s.p99_ms } else { &s.p50_ms }))
                .collect();
            // Room above the lines for the legend (top panel).
            let legend_room = if p99 {
                1.0 + 0.05 * self.series.len() as f64
            } else {
                1.0
            };
            let y_max = headroom(
                lines
                    .iter()
                    .flat_map(|l| l.iter().filter_map(|p| p.1))
                    .fold(0.0, f64::max),
            ) * legend_room;
            let mut chart =
                time_panel(area, caption, t_end, 0.0..y_max, "viewer latency (ms)", 75)?;
            for (s, line) in self.series.iter().zip(&lines) {
                let colour = entity_colour(s.index);
                let mut first = true;
                for segment in segments(line.iter().copied()) {
                    let drawn = if p99 {
                        chart
                            .draw_series(LineSeries::new(segment, colour.stroke_width(2)))
                            .map_err(err)?
                    } else {
                        chart
                            .draw_series(DashedLineSeries::new(
                                segment,
                                6,
                                4,
                                colour.stroke_width(2),
                            ))
                            .map_err(err)?
                    };
                    if p99 && std::mem::take(&mut first) {
                        drawn
                            .label(format!(
                                "{} ({:.1}% of requests)",
                                s.id,
                                100.0 * s.requests as f64 / total
                            ))
                            .legend(legend_line(colour));
                    }
                }
            }
            if p99 {
                draw_legend(&mut chart, SeriesLabelPosition::UpperRight)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_values_split_lines() {
        let s = segments(
            [
                (1.0, Some(1.0)),
                (2.0, None),
                (3.0, Some(3.0)),
                (4.0, Some(4.0)),
                (5.0, None),
            ]
            .into_iter(),
        );
        assert_eq!(s, vec![vec![(1.0, 1.0)], vec![(3.0, 3.0), (4.0, 4.0)]]);
    }
}
