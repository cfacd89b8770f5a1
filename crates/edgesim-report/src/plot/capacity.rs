//! Origin capacity over simulated time: the utilisation and mean wait for
//! a server of origins with limited `concurrency` (from their simulated
//! queues), and the fetch rate of S3-style origins against their 503 Slow
//! Down limit.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{
    Figure, draw_legend, entity_colour, err, headroom, legend_line, time_buckets, time_panel,
    titled,
};
use crate::summary::{EpochRow, OriginSummary};

/// Panels for whichever capacity models the run's origins use.
pub struct OriginCapacity<'a> {
    /// Figure title.
    pub title: String,
    /// The time series (for epoch times).
    pub rows: &'a [EpochRow],
    /// The origins, scenario order (the index picks the colour).
    pub origins: &'a [OriginSummary],
}

impl OriginCapacity<'_> {
    /// Whether any origin has a capacity model to show.
    pub fn applies(origins: &[OriginSummary]) -> bool {
        origins
            .iter()
            .any(|o| !o.utilisation_per_epoch.is_empty() || !o.slow_down_limit_per_epoch.is_empty())
    }

    fn queued(&self) -> Vec<(usize, &OriginSummary)> {
        self.origins
            .iter()
            .enumerate()
            .filter(|(_, o)| !o.utilisation_per_epoch.is_empty())
            .collect()
    }

    fn limited(&self) -> Vec<(usize, &OriginSummary)> {
        self.origins
            .iter()
            .enumerate()
            .filter(|(_, o)| !o.slow_down_limit_per_epoch.is_empty())
            .collect()
    }

    /// (bucket end time, reduce(values of the bucket's epochs)) per bucket.
    fn series(&self, values: &[f64], reduce: fn(&[f64]) -> f64) -> Vec<(f64, f64)> {
        time_buckets(self.rows.len())
            .into_iter()
            .filter_map(|r| {
                let end = self.rows.get(r.end.checked_sub(1)?)?.end_secs;
                let v = values.get(r)?;
                (!v.is_empty()).then(|| (end, reduce(v)))
            })
            .collect()
    }
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

fn max(v: &[f64]) -> f64 {
    v.iter().copied().fold(0.0, f64::max)
}

impl Figure for OriginCapacity<'_> {
    fn size(&self) -> (u32, u32) {
        let panels =
            2 * usize::from(!self.queued().is_empty()) + usize::from(!self.limited().is_empty());
        (1200, 350 * panels.max(1) as u32 + 50)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let root = titled(root, &self.title)?;
        let queued = self.queued();
        let limited = self.limited();
        let panels = 2 * usize::from(!queued.is_empty()) + usize::from(!limited.is_empty());
        let areas = root.split_evenly((panels.max(1), 1));
        let t_end = self.rows.last().map_or(1.0, |r| r.end_secs).max(1e-9);
        let mut next = areas.iter();
        type Lines = Vec<(usize, String, Vec<(f64, f64)>, bool)>;
        let mut panel = |caption: &str, y_desc: &str, lines: Lines, floor: f64| {
            let area = next.next().expect("one area per panel");
            let top = lines
                .iter()
                .flat_map(|l| l.2.iter().map(|p| p.1))
                .fold(floor, f64::max);
            let mut chart = time_panel(area, caption, t_end, 0.0..headroom(top), y_desc, 80)?;
            for (i, label, points, dashed) in lines {
                let colour = entity_colour(i);
                let style = colour.stroke_width(2);
                if dashed {
                    chart
                        .draw_series(DashedLineSeries::new(points, 8, 5, style))
                        .map_err(err)?
                        .label(label)
                        .legend(legend_line(colour));
                } else {
                    chart
                        .draw_series(LineSeries::new(points, style))
                        .map_err(err)?
                        .label(label)
                        .legend(legend_line(colour));
                }
            }
            draw_legend(&mut chart, SeriesLabelPosition::UpperRight)
        };
        if !queued.is_empty() {
            panel(
                "Origin utilisation (offered load / capacity; above 1 a backlog builds)",
                "utilisation",
                queued
                    .iter()
                    .map(|&(i, o)| {
                        let s = self.series(&o.utilisation_per_epoch, mean);
                        (i, o.id.clone(), s, false)
                    })
                    .collect(),
                1.0,
            )?;
            panel(
                "Mean wait for a server per origin fetch",
                "wait (ms)",
                queued
                    .iter()
                    .map(|&(i, o)| {
                        let s = self.series(&o.queue_wait_ms_per_epoch, mean);
                        (i, o.id.clone(), s, false)
                    })
                    .collect(),
                1.0,
            )?;
        }
        if !limited.is_empty() {
            let mut lines = Vec::new();
            for &(i, o) in &limited {
                let fetches: Vec<f64> = o
                    .fetches_per_epoch
                    .iter()
                    .zip(self.rows)
                    .map(|(&f, r)| f as f64 / (r.end_secs - r.start_secs).max(1e-9))
                    .collect();
                lines.push((
                    i,
                    format!("{} fetches/s", o.id),
                    self.series(&fetches, mean),
                    false,
                ));
                lines.push((
                    i,
                    format!("{} Slow Down limit", o.id),
                    self.series(&o.slow_down_limit_per_epoch, max),
                    true,
                ));
            }
            panel(
                "Fetches per second (solid) against the 503 Slow Down limit (dashed)",
                "requests/s",
                lines,
                1.0,
            )?;
        }
        Ok(())
    }
}
