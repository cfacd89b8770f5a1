//! Plots drawn with plotters, each as SVG and PNG. Fonts are bundled
//! (DejaVu Sans, from the `dejavu` crate), so no system fonts are needed.
//!
//! Every figure implements [`Figure`] and draws on any backend. Colours
//! are fixed per meaning: an entity (PoP, country, origin, device,
//! migration strategy) gets [`entity_colour`] of its index in the scenario,
//! so it has the same colour in every plot of a run; tiers and percentiles
//! have their own fixed colours.

mod by;
mod capacity;
mod cdf;
mod outcomes;
mod overlay;
mod pops;
mod shift;
mod time;
mod triggers;

use std::ops::Range;
use std::path::Path;
use std::sync::Once;

use plotters::chart::MeshStyle;
use plotters::coord::Shift;
use plotters::coord::ranged1d::Ranged;
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

pub use by::{LATENCY_BY_MAX_POINTS, LatencyBy, latency_by_epochs_per_point};
pub use capacity::OriginCapacity;
pub use cdf::{CdfCurve, LatencyCdf};
pub use outcomes::ViewerOutcomesPlot;
pub use overlay::{
    OverlayPanel, OverlayRun, RunBars, SweepLine, TimeOverlay, bucket_offload_pct,
    bucket_origin_rps, bucket_p50_ms, bucket_p99_ms,
};
pub use pops::{PopHitRatio, PopMap};
pub use shift::{ArmEpoch, MigrationArms, MigrationShift, ShiftSeries};
pub(crate) use time::bucket_note;
pub use time::{LatencyOffload, OffloadTiers, OriginLoad};
pub use triggers::{TriggerPanels, trigger_label};

/// Default size of a plot, pixels.
pub const PLOT_SIZE: (u32, u32) = (1200, 800);

/// At most this many points per time series: longer runs are drawn in
/// buckets of whole epochs (counters summed, never averaged).
pub const MAX_TIME_POINTS: usize = 1000;

/// Colours of fixed series (latency percentiles, then the two offloads),
/// from the Okabe-Ito colour-blind-safe palette.
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

/// The first entity colours (matplotlib's "tab10" cycle, which readers
/// know from countless plots); later indices get generated hues.
const ENTITY_PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// The colour of the entity with index `index` in the scenario (PoP,
/// country, origin, ...): the same in every plot of a run, and of every
/// run of the same scenario.
pub fn entity_colour(index: usize) -> RGBColor {
    if let Some(&c) = ENTITY_PALETTE.get(index) {
        return c;
    }
    // Golden-angle hue steps keep neighbours apart; alternating
    // lightness separates hues that come close again.
    let k = index - ENTITY_PALETTE.len();
    let hue = (k as f64 * 137.507_764 + 17.0) % 360.0;
    let lightness = [0.42, 0.55, 0.34][k % 3];
    hsl(hue, 0.65, lightness)
}

/// HSL (hue in degrees, saturation and lightness in 0..=1) to RGB.
fn hsl(hue: f64, saturation: f64, lightness: f64) -> RGBColor {
    let c = (1.0 - (2.0 * lightness - 1.0).abs()) * saturation;
    let h = hue / 60.0;
    let x = c * (1.0 - (h % 2.0 - 1.0).abs());
    let (r, g, b) = match h as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = lightness - c / 2.0;
    let to = |v: f64| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    RGBColor(to(r), to(g), to(b))
}

/// Tier colours: edge hit, edge collapsed, regional cache, origin.
pub const TIER_COLOURS: [RGBColor; 4] = [
    RGBColor(31, 119, 180),
    RGBColor(140, 190, 230),
    RGBColor(44, 160, 44),
    RGBColor(230, 120, 20),
];

/// Tier colour of the Origin Shield (between regional cache and origin).
pub const SHIELD_COLOUR: RGBColor = RGBColor(148, 103, 189);

/// Colour of a share in 0..=1 on the viridis scale (perceptually
/// uniform, colour-blind safe, readable in greyscale).
pub fn viridis(share: f64) -> RGBColor {
    const STOPS: [(u8, u8, u8); 9] = [
        (68, 1, 84),
        (72, 40, 120),
        (62, 74, 137),
        (49, 104, 142),
        (38, 130, 142),
        (31, 158, 137),
        (53, 183, 121),
        (109, 205, 89),
        (253, 231, 37),
    ];
    let t = if share.is_finite() {
        share.clamp(0.0, 1.0)
    } else {
        0.0
    } * (STOPS.len() - 1) as f64;
    let i = (t.floor() as usize).min(STOPS.len() - 2);
    let f = t - i as f64;
    let mix = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * f).round() as u8;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

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
    /// Size in pixels.
    fn size(&self) -> (u32, u32) {
        PLOT_SIZE
    }

    /// Draws the whole figure on `root`.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String>;
}

/// The figure as SVG text.
pub fn render_svg(figure: &impl Figure) -> Result<String, String> {
    register_fonts();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, figure.size()).into_drawing_area();
        figure.draw(&root)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// Writes `<dir>/<name>.svg` and `<dir>/<name>.png` of `figure`; returns
/// the SVG text (for inlining into index.html).
pub fn write_svg_and_png(
    dir: &Path,
    name: &str,
    figure: &impl Figure,
) -> Result<String, PlotError> {
    let err = |message: String| PlotError {
        name: name.to_owned(),
        message,
    };
    let svg = render_svg(figure).map_err(err)?;
    std::fs::write(dir.join(format!("{name}.svg")), &svg).map_err(|e| err(e.to_string()))?;
    let png = dir.join(format!("{name}.png"));
    let root = BitMapBackend::new(&png, figure.size()).into_drawing_area();
    figure.draw(&root).map_err(err)?;
    root.present().map_err(|e| err(e.to_string()))?;
    Ok(svg)
}

/// A plotters error as text.
pub(crate) fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Fills `root` white and draws the figure title; returns the area below.
pub(crate) fn titled<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
) -> Result<DrawingArea<DB, Shift>, String> {
    root.fill(&WHITE).map_err(err)?;
    root.titled(title, ("sans-serif", 26).into_font().style(FontStyle::Bold))
        .map_err(err)
}

/// The short line a legend shows for a line series.
pub(crate) fn legend_line(
    colour: RGBColor,
) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> + 'static {
    move |(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], colour.stroke_width(3))
}

/// The swatch a legend shows for an area.
pub(crate) fn legend_box(
    colour: RGBColor,
) -> impl Fn((i32, i32)) -> Rectangle<(i32, i32)> + 'static {
    move |(x, y)| Rectangle::new([(x, y - 6), (x + 18, y + 6)], colour.filled())
}

/// Draws the series legend of `chart` at `position`.
pub(crate) fn draw_legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> Result<(), String> {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.9))
        .border_style(RGBColor(160, 160, 160))
        .label_font(("sans-serif", 15))
        .margin(10)
        .draw()
        .map_err(err)
}

/// Epoch index ranges of at most [`MAX_TIME_POINTS`] buckets covering
/// `epochs` epochs (one epoch each when few enough).
pub(crate) fn time_buckets(epochs: usize) -> Vec<Range<usize>> {
    let per = epochs.div_ceil(MAX_TIME_POINTS).max(1);
    (0..epochs)
        .step_by(per)
        .map(|start| start..(start + per).min(epochs))
        .collect()
}

/// A divisor and unit name that keep `max` readable: bytes/s in binary
/// units, like the byte counts in the report's tables.
pub(crate) fn byte_rate_unit(max: f64) -> (f64, &'static str) {
    const UNITS: [(f64, &str); 5] = [
        (1_099_511_627_776.0, "TiB/s"),
        (1_073_741_824.0, "GiB/s"),
        (1_048_576.0, "MiB/s"),
        (1024.0, "KiB/s"),
        (1.0, "B/s"),
    ];
    UNITS
        .iter()
        .copied()
        .find(|&(d, _)| max >= d * 2.0)
        .unwrap_or((1.0, "B/s"))
}

/// The mesh (grid, labels) every chart shares: light grid, readable labels.
pub(crate) fn house_style<'m, 'a, 'b, X: Ranged, Y: Ranged, DB: DrawingBackend>(
    mesh: &'m mut MeshStyle<'a, 'b, X, Y, DB>,
) -> &'m mut MeshStyle<'a, 'b, X, Y, DB> {
    mesh.label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .bold_line_style(RGBColor(205, 205, 205))
        .light_line_style(RGBColor(240, 240, 240))
        .max_light_lines(4)
}

/// A panel over simulated time: `caption` above, simulated seconds
/// `0..t_end` on x, `y` on y (described by `y_desc`, labels in a margin of
/// `y_label_area` pixels), the house mesh drawn.
pub(crate) fn time_panel<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    caption: impl AsRef<str>,
    t_end: f64,
    y: std::ops::Range<f64>,
    y_desc: impl Into<String>,
    y_label_area: u32,
) -> Result<
    ChartContext<
        'a,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    String,
> {
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(y_label_area)
        .caption(caption, ("sans-serif", 19))
        .build_cartesian_2d(0.0..t_end, y)
        .map_err(err)?;
    house_style(&mut chart.configure_mesh())
        .x_desc("simulated time (s)")
        .x_label_formatter(&num)
        .y_label_formatter(&num)
        .y_desc(y_desc)
        .draw()
        .map_err(err)?;
    Ok(chart)
}

/// An axis number without needless decimals: 100, 2.5, 0.125.
pub(crate) fn num(v: &f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        // + 0.0 turns -0 into 0.
        format!("{:.0}", v.round() + 0.0)
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

/// Upper end of an axis showing values up to `max`: 10% headroom, never 0.
pub(crate) fn headroom(max: f64) -> f64 {
    if max.is_finite() && max > 0.0 {
        max * 1.1
    } else {
        1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_colours_are_stable_and_distinct() {
        assert_eq!(entity_colour(0), RGBColor(31, 119, 180));
        assert_eq!(entity_colour(57), entity_colour(57));
        let colours: Vec<_> = (0..60).map(entity_colour).collect();
        for (i, a) in colours.iter().enumerate() {
            for b in &colours[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn viridis_ends_and_buckets() {
        assert_eq!(viridis(0.0), RGBColor(68, 1, 84));
        assert_eq!(viridis(1.0), RGBColor(253, 231, 37));
        assert_eq!(viridis(f64::NAN), viridis(0.0));
        assert_eq!(time_buckets(3), vec![0..1, 1..2, 2..3]);
        let b = time_buckets(2 * MAX_TIME_POINTS + 1);
        assert!(b.len() <= MAX_TIME_POINTS);
        assert_eq!(b.last().unwrap().end, 2 * MAX_TIME_POINTS + 1);
        assert_eq!(byte_rate_unit(5e6), (1_048_576.0, "MiB/s"));
        assert_eq!(byte_rate_unit(0.0), (1.0, "B/s"));
        assert_eq!(num(&100.0), "100");
        assert_eq!(num(&-0.0), "0");
        assert_eq!(num(&2.5), "2.5");
        assert_eq!(num(&0.125), "0.125");
    }
}
