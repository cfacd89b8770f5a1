//! What viewers got over simulated time: the status mix of the answers
//! (stacked to 100%) and the error rate split by cause (stacked).

use std::collections::BTreeMap;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{Figure, draw_legend, err, headroom, legend_box, time_buckets, time_panel, titled};
use crate::summary::{EpochRow, cause_label};

/// Colours of the status classes 2xx, 3xx, 4xx, 5xx.
const CLASS_COLOURS: [RGBColor; 4] = [
    RGBColor(44, 160, 44),
    RGBColor(31, 119, 180),
    RGBColor(230, 159, 0),
    RGBColor(214, 39, 40),
];

/// Colour of each cause, by its name (`edgesim_sim::ErrorCause::name`).
fn cause_colour(cause: &str) -> RGBColor {
    match cause {
        "origin_error" => RGBColor(230, 120, 20),
        "function_error" => RGBColor(214, 39, 40),
        "invalid_function_result" => RGBColor(148, 103, 189),
        "throttle" => RGBColor(140, 86, 75),
        "timeout" => RGBColor(227, 119, 194),
        "origin_unreachable" => RGBColor(60, 60, 60),
        _ => RGBColor(23, 190, 207),
    }
}

/// The status mix (top) and the error rate by cause (bottom) per epoch
/// (or bucket of epochs: counts summed).
pub struct ViewerOutcomesPlot<'a> {
    /// Figure title.
    pub title: String,
    /// The time series (status classes per epoch).
    pub rows: &'a [EpochRow],
    /// Error answers per cause per epoch, aligned with `rows`.
    pub errors_by_cause_per_epoch: &'a BTreeMap<String, Vec<u64>>,
    /// Causes in stacking order (most errors first).
    pub causes: Vec<String>,
}

/// One bucket: (start s, end s, answers, classes, errors per cause).
type Point = (f64, f64, u64, [u64; 4], Vec<u64>);

impl ViewerOutcomesPlot<'_> {
    fn points(&self) -> Vec<Point> {
        time_buckets(self.rows.len())
            .into_iter()
            .filter_map(|r| {
                let rows = &self.rows[r.clone()];
                let (first, last) = (rows.first()?, rows.last()?);
                let answers: u64 = rows.iter().map(|x| x.requests).sum();
                let mut classes = [0u64; 4];
                for x in rows {
                    for (c, n) in classes.iter_mut().zip([
                        x.status_2xx,
                        x.status_3xx,
                        x.status_4xx,
                        x.status_5xx,
                    ]) {
                        *c += n;
                    }
                }
                let causes = self
                    .causes
                    .iter()
                    .map(|c| {
                        self.errors_by_cause_per_epoch
                            .get(c)
                            .and_then(|v| v.get(r.clone()))
                            .map_or(0, |v| v.iter().sum())
                    })
                    .collect();
                (answers > 0).then_some((first.start_secs, last.end_secs, answers, classes, causes))
            })
            .collect()
    }
}

/// Draws step-shaped stacked layers: `layers[i]` gives each point's
/// value of layer i (in %), stacked in order.
fn draw_stack<DB: DrawingBackend>(
    chart: &mut ChartContext<
        '_,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    points: &[Point],
    layers: &[(String, RGBColor, Vec<f64>)],
) -> Result<(), String> {
    let mut below = vec![0.0; points.len()];
    for (name, colour, values) in layers {
        let above: Vec<f64> = below.iter().zip(values).map(|(b, v)| b + v).collect();
        let mut outline = Vec::with_capacity(points.len() * 4);
        for (p, top) in points.iter().zip(&above) {
            outline.push((p.0, *top));
            outline.push((p.1, *top));
        }
        for (p, low) in points.iter().zip(&below).rev() {
            outline.push((p.1, *low));
            outline.push((p.0, *low));
        }
        chart
            .draw_series(std::iter::once(Polygon::new(outline, colour.filled())))
            .map_err(err)?
            .label(name.as_str())
            .legend(legend_box(*colour));
        below = above;
    }
    Ok(())
}

impl Figure for ViewerOutcomesPlot<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let root = titled(root, &self.title)?;
        let (top, bottom) = root.split_vertically(root.dim_in_pixel().1 / 2);
        let points = self.points();
        let t_end = self.rows.last().map_or(1.0, |r| r.end_secs).max(1e-3);
        let answers: u64 = points.iter().map(|p| p.2).sum();
        let pct = |n: u64, of: u64| 100.0 * n as f64 / of.max(1) as f64;

        let mut chart = time_panel(
            &top,
            "Viewer answers by status class",
            t_end,
            0.0..100.0,
            "share of viewer answers (%)",
            75,
        )?;
        let layers: Vec<(String, RGBColor, Vec<f64>)> = ["2xx", "3xx", "4xx", "5xx"]
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let total: u64 = points.iter().map(|p| p.3[i]).sum();
                (
                    format!("{name} ({:.1}% of the run)", pct(total, answers)),
                    CLASS_COLOURS[i],
                    points.iter().map(|p| pct(p.3[i], p.2)).collect(),
                )
            })
            .collect();
        draw_stack(&mut chart, &points, &layers)?;
        draw_legend(&mut chart, SeriesLabelPosition::LowerLeft)?;

        let rates: Vec<f64> = points.iter().map(|p| pct(p.4.iter().sum(), p.2)).collect();
        let y_max = headroom(rates.iter().copied().fold(0.0, f64::max)).max(1.0);
        let caption = if self.causes.is_empty() {
            "Error rate (status >= 400) by cause: no errors in this run"
        } else {
            "Error rate (status >= 400) by cause"
        };
        let mut chart = time_panel(
            &bottom,
            caption,
            t_end,
            0.0..y_max,
            "errors (% of viewer answers)",
            75,
        )?;
        let layers: Vec<(String, RGBColor, Vec<f64>)> = self
            .causes
            .iter()
            .enumerate()
            .map(|(i, cause)| {
                let total: u64 = points.iter().map(|p| p.4[i]).sum();
                (
                    format!("{} ({:.2}%)", cause_label(cause), pct(total, answers)),
                    cause_colour(cause),
                    points.iter().map(|p| pct(p.4[i], p.2)).collect(),
                )
            })
            .collect();
        draw_stack(&mut chart, &points, &layers)?;
        if !layers.is_empty() {
            draw_legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        }
        Ok(())
    }
}
