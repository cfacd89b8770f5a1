//! Plots drawn with plotters, each as SVG and PNG. Fonts are bundled
//! (DejaVu Sans, from the `dejavu` crate), so no system fonts are needed.

use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

use crate::summary::EpochRow;

/// A named series read off each epoch row.
type Series = (&'static str, fn(&EpochRow) -> f64);

/// Size of every plot, pixels.
pub const PLOT_SIZE: (u32, u32) = (1200, 800);

/// Series colours, in a fixed order so an entity keeps its colour across
/// the plots of a run (colour-blind-safe palette).
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(120, 120, 120),
    RGBColor(240, 228, 66),
];

/// A plot that could not be drawn or written.
#[derive(Debug, thiserror::Error)]
#[error("cannot draw plot {name}: {message}")]
pub struct PlotError {
    /// File stem of the plot.
    pub name: String,
    /// What went wrong.
    pub message: String,
}

fn register_fonts() {
    static FONTS: Once = Once::new();
    FONTS.call_once(|| {
        // The bundled fonts are valid TrueType; failure would be a build defect.
        for (style, bytes) in [
            (FontStyle::Normal, dejavu::sans::regular()),
            (FontStyle::Bold, dejavu::sans::bold()),
        ] {
            assert!(
                register_font("sans-serif", style, bytes).is_ok(),
                "bundled DejaVu Sans loads"
            );
        }
    });
}

/// Something that can draw itself on any plotters backend.
pub trait Figure {
    /// Draws the whole figure on `root`.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String>;
}

/// Writes `<dir>/<name>.svg` and `<dir>/<name>.png` of `figure`.
pub fn write_svg_and_png(dir: &Path, name: &str, figure: &impl Figure) -> Result<(), PlotError> {
    register_fonts();
    let err = |message: String| PlotError {
        name: name.to_owned(),
        message,
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, PLOT_SIZE).into_drawing_area();
        figure.draw(&root).map_err(err)?;
        root.present().map_err(|e| err(e.to_string()))?;
    }
    std::fs::write(dir.join(format!("{name}.svg")), svg).map_err(|e| err(e.to_string()))?;
    let png = dir.join(format!("{name}.png"));
    let root = BitMapBackend::new(&png, PLOT_SIZE).into_drawing_area();
    figure.draw(&root).map_err(err)?;
    root.present().map_err(|e| err(e.to_string()))?;
    Ok(())
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
        latency_and_offload(root, &self.title, self.rows)
    }
}

fn latency_and_offload<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    rows: &[EpochRow],
) -> Result<(), String> {
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| x.to_string();
    root.fill(&WHITE).map_err(e)?;
    let root = root
        .titled(title, ("sans-serif", 26).into_font().style(FontStyle::Bold))
        .map_err(e)?;
    let (top, bottom) = root.split_vertically(PLOT_SIZE.1 / 2 + 10);
    let t_end = rows.last().map_or(1.0, |r| r.end_secs).max(1e-3);

    let series: [Series; 4] = [
        ("p50", |r| r.p50_ms),
        ("p90", |r| r.p90_ms),
        ("p99", |r| r.p99_ms),
        ("p99.9", |r| r.p999_ms),
    ];
    let y_max = rows.iter().map(|r| r.p999_ms).fold(1.0f64, f64::max) * 1.1;
    let mut chart = ChartBuilder::on(&top)
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .caption("Viewer latency percentiles per epoch", ("sans-serif", 18))
        .build_cartesian_2d(0.0..t_end, 0.0..y_max)
        .map_err(e)?;
    chart
        .configure_mesh()
        .x_desc("simulated time (s)")
        .y_desc("latency (ms)")
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(e)?;
    for (i, (name, f)) in series.iter().enumerate() {
        let color = PALETTE[i];
        chart
            .draw_series(LineSeries::new(
                rows.iter()
                    .filter(|r| r.requests > 0)
                    .map(|r| (r.end_secs, f(r))),
                color.stroke_width(2),
            ))
            .map_err(e)?
            .label(*name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(3))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(e)?;

    let mut chart = ChartBuilder::on(&bottom)
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .caption("Origin offload per epoch", ("sans-serif", 18))
        .build_cartesian_2d(0.0..t_end, 0.0..100.0)
        .map_err(e)?;
    chart
        .configure_mesh()
        .x_desc("simulated time (s)")
        .y_desc("offload (%)")
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(e)?;
    let offload: [Series; 2] = [
        ("requests", |r| r.offload_requests),
        ("bytes", |r| r.offload_bytes),
    ];
    for (i, (name, f)) in offload.iter().enumerate() {
        let color = PALETTE[4 + i];
        chart
            .draw_series(LineSeries::new(
                rows.iter()
                    .filter(|r| r.requests > 0)
                    .map(|r| (r.end_secs, f(r) * 100.0)),
                color.stroke_width(2),
            ))
            .map_err(e)?
            .label(format!("by {name}"))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(3))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(e)?;
    Ok(())
}
