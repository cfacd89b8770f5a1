//! Latency distribution plots: the CDF of a set of groups (countries,
//! PoPs, devices, ...) on a log latency axis, with the tail below it.

use plotters::coord::Shift;
use plotters::prelude::*;

use edgesim_sim::LatencyHistogram;

use super::{Figure, draw_legend, err, house_style, legend_line, num, titled};

/// One group's latency distribution, ready to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct CdfCurve {
    /// Legend text.
    pub label: String,
    /// Line colour (the group's entity colour).
    pub colour: RGBColor,
    /// (latency ms, share of requests at or below it), ascending in both.
    pub points: Vec<(f64, f64)>,
}

impl CdfCurve {
    /// The curve of a µs latency histogram. Points closer than 2% in
    /// latency are merged (keeping the higher share), which is below what
    /// a plot can show and keeps the SVG small.
    pub fn from_histogram(label: String, colour: RGBColor, h: &LatencyHistogram) -> CdfCurve {
        let mut points: Vec<(f64, f64)> = Vec::new();
        if !h.is_empty() {
            for v in h.iter_recorded() {
                let ms = v.value_iterated_to() as f64 / 1000.0;
                let share = v.quantile_iterated_to();
                match points.last_mut() {
                    Some(last) if ms < last.0 * 1.02 => last.1 = share,
                    _ => points.push((ms, share)),
                }
            }
        }
        CdfCurve {
            label,
            colour,
            points,
        }
    }
}

/// Latency CDF per group: the share of requests at most x ms (top) and,
/// for the tail, the share slower than x ms on a log scale (bottom).
pub struct LatencyCdf {
    /// Figure title.
    pub title: String,
    /// One curve per group, in legend order.
    pub curves: Vec<CdfCurve>,
}

/// A round axis bound at or below (`up` false) or above `v`: 1, 2 or 5
/// times a power of ten.
fn nice_bound(v: f64, up: bool) -> f64 {
    let p = 10f64.powf(v.log10().floor());
    let steps = [1.0, 2.0, 5.0, 10.0];
    if up {
        steps
            .iter()
            .map(|s| s * p)
            .find(|&b| b >= v)
            .unwrap_or(10.0 * p)
    } else {
        steps
            .iter()
            .rev()
            .map(|s| s * p)
            .find(|&b| b <= v)
            .unwrap_or(p)
    }
}

/// Log-axis labels with each value named once: plotters 0.3.7 lists a
/// decade's first key point twice (as the previous decade's 10x too),
/// which would print it twice, looking bold.
fn once(label: impl Fn(&f64) -> String) -> impl Fn(&f64) -> String {
    let last = std::cell::Cell::new(f64::NAN);
    move |v| {
        if last.replace(*v) == *v {
            String::new()
        } else {
            label(v)
        }
    }
}

/// A log-axis label: only 1, 2 and 5 times a power of ten are named (the
/// grid has a line at every integer multiple).
fn log_label(v: &f64) -> String {
    let mantissa = v / 10f64.powf(v.log10().floor());
    if [1.0, 2.0, 5.0, 10.0]
        .iter()
        .any(|m| (mantissa - m).abs() < 1e-6)
    {
        num(v)
    } else {
        String::new()
    }
}

impl Figure for LatencyCdf {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let root = titled(root, &self.title)?;
        let (top, bottom) = root.split_vertically(root.dim_in_pixel().1 * 11 / 20);
        let xs = || {
            self.curves
                .iter()
                .flat_map(|c| c.points.iter().map(|p| p.0))
        };
        // A whole decade at the left so its 1-2-5 labels show.
        let x_lo = 10f64.powf(
            xs().fold(f64::INFINITY, f64::min)
                .clamp(0.01, 1e5)
                .log10()
                .floor(),
        );
        let x_hi = nice_bound(xs().fold(0.0, f64::max).max(x_lo * 10.0), true);

        let mut chart = ChartBuilder::on(&top)
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(105)
            .caption(
                "Share of requests answered within a latency",
                ("sans-serif", 19),
            )
            .build_cartesian_2d((x_lo..x_hi).log_scale(), 0.0..100.0)
            .map_err(err)?;
        house_style(&mut chart.configure_mesh())
            .x_desc("viewer latency (ms, log scale)")
            .y_desc("requests at or below (%)")
            .x_labels(40)
            .x_label_formatter(&once(log_label))
            .y_label_formatter(&num)
            .draw()
            .map_err(err)?;
        for (share, name) in [(50.0, "p50"), (99.0, "p99")] {
            guide(&mut chart, x_lo, x_hi, share, name)?;
        }
        for c in &self.curves {
            chart
                .draw_series(LineSeries::new(
                    c.points.iter().map(|&(x, y)| (x, y * 100.0)),
                    c.colour.stroke_width(2),
                ))
                .map_err(err)?;
        }

        // The tail: 1 - CDF, down to the smallest share any curve reaches.
        let tail_lo = self
            .curves
            .iter()
            .flat_map(|c| c.points.iter().map(|p| (1.0 - p.1) * 100.0))
            .filter(|&s| s > 1e-9)
            .fold(100.0f64, f64::min);
        let y_lo = 10f64.powf(tail_lo.log10().floor()).min(1.0);
        let mut chart = ChartBuilder::on(&bottom)
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(105)
            .caption(
                "Tail: share of requests slower than a latency",
                ("sans-serif", 19),
            )
            .build_cartesian_2d((x_lo..x_hi).log_scale(), (y_lo..100.0).log_scale())
            .map_err(err)?;
        house_style(&mut chart.configure_mesh())
            .x_desc("viewer latency (ms, log scale)")
            .y_desc("requests slower (%, log scale)")
            .x_labels(40)
            .x_label_formatter(&once(log_label))
            .y_label_formatter(&once(|v| match log_label(v).as_str() {
                "1" => "(p99) 1".into(),
                "0.1" => "(p99.9) 0.1".into(),
                label => label.to_owned(),
            }))
            .draw()
            .map_err(err)?;
        // Named on the axis: the legend sits where a name would go.
        for share in [1.0, 0.1] {
            if share >= y_lo {
                guide(&mut chart, x_lo, x_hi, share, "")?;
            }
        }
        for c in &self.curves {
            chart
                .draw_series(LineSeries::new(
                    c.points
                        .iter()
                        .map(|&(x, y)| (x, (1.0 - y) * 100.0))
                        .filter(|&(_, s)| s > 1e-9),
                    c.colour.stroke_width(2),
                ))
                .map_err(err)?
                .label(c.label.as_str())
                .legend(legend_line(c.colour));
        }
        // A falling tail leaves the lower left empty: the legend's place.
        draw_legend(&mut chart, SeriesLabelPosition::LowerLeft)?;
        Ok(())
    }
}

/// A dashed horizontal reference line at `y`, named at its left end.
fn guide<DB: DrawingBackend, X, Y>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<X, Y>>,
    x_lo: f64,
    x_hi: f64,
    y: f64,
    name: &str,
) -> Result<(), String>
where
    X: plotters::coord::ranged1d::Ranged<ValueType = f64>,
    Y: plotters::coord::ranged1d::Ranged<ValueType = f64>,
{
    let grey = RGBColor(110, 110, 110);
    chart
        .draw_series(DashedLineSeries::new(
            [(x_lo, y), (x_hi, y)],
            6,
            4,
            grey.stroke_width(1),
        ))
        .map_err(err)?;
    chart
        .draw_series(std::iter::once(Text::new(
            name.to_owned(),
            (x_lo * 1.05, y),
            ("sans-serif", 13).into_font().color(&grey),
        )))
        .map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgesim_sim::metrics::{new_latency_histogram, record_latency};

    #[test]
    fn curve_is_monotone_ends_at_one_and_is_thinned() {
        let mut h = new_latency_histogram();
        for v in 1..=100_000u64 {
            record_latency(&mut h, 1_000 + v * 3);
        }
        let c = CdfCurve::from_histogram("x".into(), RGBColor(0, 0, 0), &h);
        assert!(c.points.len() < 300, "{} points", c.points.len());
        assert!(
            c.points
                .windows(2)
                .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1)
        );
        assert!((c.points.last().unwrap().1 - 1.0).abs() < 1e-12);
        assert!((c.points[0].0 - 1.0).abs() < 0.01);
        let empty =
            CdfCurve::from_histogram("e".into(), RGBColor(0, 0, 0), &new_latency_histogram());
        assert!(empty.points.is_empty());
    }

    #[test]
    fn nice_bounds() {
        assert_eq!(nice_bound(3.7, false), 2.0);
        assert_eq!(nice_bound(3.7, true), 5.0);
        assert_eq!(nice_bound(0.6, true), 1.0);
        assert_eq!(nice_bound(120.0, true), 200.0);
        assert_eq!(nice_bound(10.0, false), 10.0);
        assert_eq!(log_label(&20.0), "20");
        assert_eq!(log_label(&0.5), "0.5");
        assert_eq!(log_label(&30.0), "");
        let label = once(log_label);
        assert_eq!(
            [label(&5.0), label(&10.0), label(&10.0), label(&20.0)],
            ["5", "10", "", "20"]
        );
    }
}
