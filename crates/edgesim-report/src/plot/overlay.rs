//! Figures that overlay several runs (the variants of a comparison, the
//! values of a sweep): a quantity over simulated time with one line per
//! run, one bar per run, and a metric against a swept value.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::plot::time_panel;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    Figure, draw_legend, entity_colour, err, headroom, house_style, legend_line, num, time_buckets,
    titled,
};
use crate::summary::EpochRow;

/// One run's time series, drawn in [`entity_colour`] of its index.
#[derive(Debug, Clone, Copy)]
pub struct OverlayRun<'a> {
    /// Legend text.
    pub name: &'a str,
    /// Its epochs.
    pub rows: &'a [EpochRow],
}

/// One panel of a [`TimeOverlay`]: a quantity read off a bucket of
/// consecutive epochs (None: nothing to show, e.g. no requests).
#[derive(Debug, Clone)]
pub struct OverlayPanel {
    /// Panel caption.
    pub caption: String,
    /// Y axis description.
    pub y_desc: String,
    /// The value of a bucket of epochs.
    pub value: fn(&[EpochRow]) -> Option<f64>,
}

/// Largest p99 latency (ms) of the busy epochs of a bucket.
pub fn bucket_p99_ms(rows: &[EpochRow]) -> Option<f64> {
    busy_max(rows, |r| r.p99_ms)
}

/// Largest median latency (ms) of the busy epochs of a bucket.
pub fn bucket_p50_ms(rows: &[EpochRow]) -> Option<f64> {
    busy_max(rows, |r| r.p50_ms)
}

fn busy_max(rows: &[EpochRow], f: fn(&EpochRow) -> f64) -> Option<f64> {
    rows.iter()
        .filter(|r| r.requests > 0)
        .map(f)
        .reduce(f64::max)
}

/// Origin offload by requests of a bucket, %.
pub fn bucket_offload_pct(rows: &[EpochRow]) -> Option<f64> {
    let requests: u64 = rows.iter().map(|r| r.requests).sum();
    let fetches: u64 = rows.iter().map(|r| r.origin_fetches).sum();
    (requests > 0).then(|| 100.0 * (1.0 - fetches as f64 / requests as f64))
}

/// Origin fetches per second over a bucket.
pub fn bucket_origin_rps(rows: &[EpochRow]) -> Option<f64> {
    let (first, last) = (rows.first()?, rows.last()?);
    let secs = last.end_secs - first.start_secs;
    let fetches: u64 = rows.iter().map(|r| r.origin_fetches).sum();
    (secs > 0.0).then(|| fetches as f64 / secs)
}

/// Stacked panels of quantities over simulated time, one line per run.
pub struct TimeOverlay<'a> {
    /// Figure title.
    pub title: String,
    /// The runs, in legend order (the index picks the colour).
    pub runs: &'a [OverlayRun<'a>],
    /// The panels, top first.
    pub panels: Vec<OverlayPanel>,
}

impl TimeOverlay<'_> {
    /// (end time, value) per bucket of run `run` for `panel`.
    fn points(&self, run: &OverlayRun<'_>, panel: &OverlayPanel) -> Vec<(f64, f64)> {
        time_buckets(run.rows.len())
            .into_iter()
            .filter_map(|r| {
                let rows = &run.rows[r];
                Some((rows.last()?.end_secs, (panel.value)(rows)?))
            })
            .collect()
    }
}

impl Figure for TimeOverlay<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let root = titled(root, &self.title)?;
        let n = self.panels.len().max(1);
        let areas = root.split_evenly((n, 1));
        let t_end = self
            .runs
            .iter()
            .filter_map(|r| r.rows.last().map(|l| l.end_secs))
            .fold(1e-3, f64::max);
        for (panel, area) in self.panels.iter().zip(areas.iter()) {
            let series: Vec<Vec<(f64, f64)>> =
                self.runs.iter().map(|r| self.points(r, panel)).collect();
            let y_max = headroom(series.iter().flatten().map(|p| p.1).fold(0.0, f64::max));
            let mut chart = time_panel(
                area,
                panel.caption.as_str(),
                t_end,
                0.0..y_max,
                panel.y_desc.as_str(),
                80,
            )?;
            for (i, (run, points)) in self.runs.iter().zip(series).enumerate() {
                let colour = entity_colour(i);
                chart
                    .draw_series(LineSeries::new(points, colour.stroke_width(2)))
                    .map_err(err)?
                    .label(run.name)
                    .legend(legend_line(colour));
            }
            draw_legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        }
        Ok(())
    }
}

/// One bar per run (vertical), labelled with its value; a run without a
/// value has no bar and shows "n/a".
pub struct RunBars<'a> {
    /// Figure title.
    pub title: String,
    /// Y axis description.
    pub y_desc: String,
    /// (run name, value) in run order (the index picks the colour).
    pub bars: &'a [(String, Option<f64>)],
    /// Upper end of the y axis (e.g. 100 for percentages); None: fit.
    pub y_max: Option<f64>,
}

impl Figure for RunBars<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let root = titled(root, &self.title)?;
        let n = self.bars.len().max(1);
        let fit = headroom(self.bars.iter().filter_map(|b| b.1).fold(0.0, f64::max));
        let y_max = self.y_max.unwrap_or(fit);
        let names: Vec<String> = self.bars.iter().map(|b| b.0.clone()).collect();
        let label = move |x: &f64| category_label(&names, *x);
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .margin_top(20)
            .x_label_area_size(45)
            .y_label_area_size(80)
            .build_cartesian_2d(-0.5..(n as f64 - 0.5), 0.0..y_max)
            .map_err(err)?;
        house_style(&mut chart.configure_mesh())
            .disable_x_mesh()
            .x_labels(n.min(40) * 2 + 1)
            .x_label_formatter(&label)
            .y_label_formatter(&num)
            .y_desc(self.y_desc.as_str())
            .draw()
            .map_err(err)?;
        let font = ("sans-serif", 15)
            .into_font()
            .into_text_style(&root)
            .pos(Pos::new(HPos::Center, VPos::Bottom));
        for (i, (_, value)) in self.bars.iter().enumerate() {
            let x = i as f64;
            let text = match value {
                Some(v) => {
                    chart
                        .draw_series(std::iter::once(Rectangle::new(
                            [(x - 0.35, 0.0), (x + 0.35, *v)],
                            entity_colour(i).filled(),
                        )))
                        .map_err(err)?;
                    (num(&((v * 100.0).round() / 100.0)), *v)
                }
                None => ("n/a".to_owned(), 0.0),
            };
            chart
                .draw_series(std::iter::once(Text::new(
                    text.0,
                    (x, text.1 + y_max * 0.01),
                    font.clone(),
                )))
                .map_err(err)?;
        }
        Ok(())
    }
}

/// The name of the category at axis position `x`, "" between categories.
fn category_label(names: &[String], x: f64) -> String {
    let i = x.round();
    if (x - i).abs() > 1e-6 || i < 0.0 {
        return String::new();
    }
    names.get(i as usize).cloned().unwrap_or_default()
}

/// A metric against a swept value: one point per value, joined by a line,
/// each labelled with the value as given; an optional limit is drawn as a
/// dashed line and points beyond it in red.
pub struct SweepLine<'a> {
    /// Figure title.
    pub title: String,
    /// X axis description (the swept parameter).
    pub x_desc: String,
    /// Y axis description.
    pub y_desc: String,
    /// (x position, value as given, metric value) per swept value, in
    /// sweep order. For a categorical sweep x is the index.
    pub points: &'a [(f64, String, Option<f64>)],
    /// Whether x positions are indices of categories (label them by name).
    pub categorical: bool,
    /// Whether numeric x positions are byte sizes (label in binary units).
    pub x_bytes: bool,
    /// The limit on the metric (same scale as the values) and whether a
    /// higher value breaks it (a maximum) rather than a lower one.
    pub limit: Option<(f64, bool)>,
    /// Lines through subsets of the points (a grid sweep: one line per
    /// combination of the other swept values), each a legend label and
    /// indices into `points`, drawn in [`entity_colour`] of its position;
    /// empty: one unlabelled line through every point.
    pub series: &'a [(String, Vec<usize>)],
}

/// Bytes in binary units for an axis: 256 MiB, 1.5 GiB.
fn axis_bytes(v: &f64) -> String {
    const UNITS: [(f64, &str); 5] = [
        (1_099_511_627_776.0, "TiB"),
        (1_073_741_824.0, "GiB"),
        (1_048_576.0, "MiB"),
        (1024.0, "KiB"),
        (1.0, "B"),
    ];
    let (d, unit) = UNITS
        .iter()
        .copied()
        .find(|&(d, _)| v.abs() >= d)
        .unwrap_or((1.0, "B"));
    format!("{} {unit}", num(&((v / d * 100.0).round() / 100.0)))
}

impl Figure for SweepLine<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let root = titled(root, &self.title)?;
        let xs = self.points.iter().map(|p| p.0);
        let (lo, hi) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
            (a.min(x), b.max(x))
        });
        let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (0.0, 1.0) };
        let pad = if hi > lo { (hi - lo) * 0.06 } else { 0.5 };
        let (x0, x1) = if self.categorical {
            (-0.5, hi + 0.5)
        } else {
            (lo - pad, hi + pad)
        };
        let values = self.points.iter().filter_map(|p| p.2);
        let top = values.chain(self.limit.map(|l| l.0)).fold(0.0, f64::max);
        let y_max = headroom(top);
        // Category names by position (several points share one in a grid).
        let mut names: Vec<String> = Vec::new();
        for p in self.points {
            let i = p.0.round().max(0.0) as usize;
            if self.categorical && i < 10_000 {
                if names.len() <= i {
                    names.resize(i + 1, String::new());
                }
                if names[i].is_empty() {
                    names[i] = p.1.clone();
                }
            }
        }
        let categories = names.len();
        let bytes = self.x_bytes;
        let categorical = self.categorical;
        let x_label = move |x: &f64| {
            if categorical {
                category_label(&names, *x)
            } else if bytes {
                axis_bytes(x)
            } else {
                num(x)
            }
        };
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .margin_right(30)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d(x0..x1, 0.0..y_max)
            .map_err(err)?;
        let mut mesh = chart.configure_mesh();
        house_style(&mut mesh)
            .x_label_formatter(&x_label)
            .y_label_formatter(&num)
            .x_desc(self.x_desc.as_str())
            .y_desc(self.y_desc.as_str());
        if categorical {
            mesh.disable_x_mesh().x_labels(categories.min(40) * 2 + 1);
        }
        mesh.draw().map_err(err)?;
        let over = |v: f64| {
            self.limit
                .is_some_and(|(l, max)| if max { v > l } else { v < l })
        };
        let red = RGBColor(213, 39, 40);
        let all: Vec<(String, Vec<usize>)>;
        let series = if self.series.is_empty() {
            all = vec![(String::new(), (0..self.points.len()).collect())];
            &all
        } else {
            self.series
        };
        for (k, (label, indices)) in series.iter().enumerate() {
            let colour = entity_colour(k);
            let shown: Vec<(f64, f64)> = indices
                .iter()
                .filter_map(|&i| self.points.get(i))
                .filter_map(|p| p.2.map(|v| (p.0, v)))
                .collect();
            let line = chart
                .draw_series(LineSeries::new(shown.clone(), colour.stroke_width(2)))
                .map_err(err)?;
            if !label.is_empty() {
                line.label(label.as_str()).legend(legend_line(colour));
            }
            chart
                .draw_series(shown.iter().map(|&(x, v)| {
                    let c = if over(v) { red } else { colour };
                    Circle::new((x, v), 6, c.filled())
                }))
                .map_err(err)?;
        }
        let font = ("sans-serif", 14)
            .into_font()
            .into_text_style(&root)
            .pos(Pos::new(HPos::Center, VPos::Bottom));
        // On a grid the x axis and the legend name the values.
        let grid = !self.series.is_empty();
        for p in self.points {
            let (y, text) = match p.2 {
                Some(v) if grid => (v, num(&((v * 100.0).round() / 100.0))),
                Some(v) => (
                    v,
                    format!("{}: {}", p.1, num(&((v * 100.0).round() / 100.0))),
                ),
                None => (0.0, format!("{}: n/a", p.1)),
            };
            chart
                .draw_series(std::iter::once(Text::new(
                    text,
                    (p.0, y + y_max * 0.02),
                    font.clone(),
                )))
                .map_err(err)?;
        }
        if let Some((limit, max)) = self.limit {
            let word = if max { "limit (max)" } else { "limit (min)" };
            chart
                .draw_series(DashedLineSeries::new(
                    [(x0, limit), (x1, limit)],
                    10,
                    6,
                    red.stroke_width(2),
                ))
                .map_err(err)?
                .label(format!("{word} {}", num(&limit)))
                .legend(legend_line(red));
        }
        if self.limit.is_some() || !self.series.is_empty() {
            draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_and_byte_axes_are_labelled() {
        let names = vec!["a".to_owned(), "b".to_owned()];
        assert_eq!(category_label(&names, 1.0), "b");
        assert_eq!(category_label(&names, 0.5), "");
        assert_eq!(category_label(&names, 2.0), "");
        assert_eq!(axis_bytes(&1_073_741_824.0), "1 GiB");
        assert_eq!(axis_bytes(&(256.0 * 1_048_576.0)), "256 MiB");
    }
}
