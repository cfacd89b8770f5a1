//! Per-PoP plots: sorted hit-ratio bars split by answering tier, and a map
//! of PoPs (equirectangular, a graticule, no external map data).

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{Figure, TIER_COLOURS, err, house_style, num, titled, viridis};
use crate::summary::{CountrySummary, PopSummary, RouteSummary};

/// A count in few characters: 950, 12.3k, 4.56M.
pub(crate) fn compact(n: u64) -> String {
    let v = n as f64;
    if v >= 1e9 {
        format!("{:.3}G", v / 1e9)
    } else if v >= 1e6 {
        format!("{:.3}M", v / 1e6)
    } else if v >= 1e4 {
        format!("{:.1}k", v / 1e3)
    } else {
        n.to_string()
    }
}

/// Each PoP's requests by the tier that answered them, as horizontal
/// bars sorted by edge hit ratio (highest at the top).
pub struct PopHitRatio<'a> {
    /// Figure title.
    pub title: String,
    /// All PoPs, scenario order.
    pub pops: &'a [PopSummary],
    /// At most this many bars: the busiest PoPs.
    pub max_bars: usize,
}

impl PopHitRatio<'_> {
    /// Indices of the PoPs drawn, bottom bar first.
    pub fn shown(&self) -> Vec<usize> {
        let mut busy: Vec<usize> = (0..self.pops.len())
            .filter(|&i| self.pops[i].requests > 0)
            .collect();
        busy.sort_by(|&a, &b| {
            self.pops[b]
                .requests
                .cmp(&self.pops[a].requests)
                .then(a.cmp(&b))
        });
        busy.truncate(self.max_bars);
        busy.sort_by(|&a, &b| {
            let (pa, pb) = (&self.pops[a], &self.pops[b]);
            pa.hit_ratio
                .total_cmp(&pb.hit_ratio)
                .then(pb.id.cmp(&pa.id))
        });
        busy
    }
}

const BAR_PX: u32 = 26;

impl Figure for PopHitRatio<'_> {
    fn size(&self) -> (u32, u32) {
        let n = self.shown().len() as u32;
        (1200, (170 + BAR_PX * n).clamp(420, 170 + BAR_PX * 160))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let shown = self.shown();
        let n = shown.len().max(1);
        let area = titled(root, &self.title)?;
        let (legend_strip, area) = area.split_vertically(36);
        let names = [
            "edge hit",
            "edge collapsed",
            "regional cache (hit or collapsed)",
            "origin",
        ];
        let font = ("sans-serif", 15).into_font();
        let mut x = 90;
        for (colour, name) in TIER_COLOURS.iter().zip(names) {
            legend_strip
                .draw(&Rectangle::new([(x, 10), (x + 18, 24)], colour.filled()))
                .map_err(err)?;
            legend_strip
                .draw(&Text::new(name, (x + 24, 9), font.clone()))
                .map_err(err)?;
            x += 60 + (7.6 * name.len() as f64) as i32;
        }
        let longest = shown
            .iter()
            .map(|&i| self.pops[i].id.chars().count())
            .max()
            .unwrap_or(4) as u32;
        let mut chart = ChartBuilder::on(&area)
            .margin(12)
            .margin_right(30)
            .x_label_area_size(45)
            .y_label_area_size((longest * 9 + 24).clamp(60, 240))
            .build_cartesian_2d(0.0..100.0, -0.5..(n as f64 - 0.5))
            .map_err(err)?;
        house_style(&mut chart.configure_mesh())
            .disable_y_mesh()
            .y_labels(0)
            .x_label_formatter(&num)
            .x_desc("share of the PoP's viewer requests (%); bars sorted by edge hit ratio")
            .draw()
            .map_err(err)?;
        let bar_font = ("sans-serif", 14).into_font();
        for (row, &i) in shown.iter().enumerate() {
            let p = &self.pops[i];
            let t = p.tiers();
            let hit = p.hit_ratio * 100.0;
            let bounds = [
                0.0,
                hit,
                t.edge * 100.0,
                (t.edge + t.regional) * 100.0,
                100.0,
            ];
            let y = row as f64;
            for (k, colour) in TIER_COLOURS.iter().enumerate() {
                if bounds[k + 1] > bounds[k] {
                    chart
                        .draw_series(std::iter::once(Rectangle::new(
                            [(bounds[k], y - 0.36), (bounds[k + 1], y + 0.36)],
                            colour.filled(),
                        )))
                        .map_err(err)?;
                }
            }
            // The hit ratio, inside its segment when it fits.
            let (at, colour) = if hit >= 9.0 {
                (1.0, WHITE)
            } else {
                (hit + 1.0, BLACK)
            };
            chart
                .draw_series(std::iter::once(Text::new(
                    format!("{hit:.1}%  ({} req)", compact(p.requests)),
                    (at, y),
                    bar_font
                        .clone()
                        .color(&colour)
                        .pos(Pos::new(HPos::Left, VPos::Center)),
                )))
                .map_err(err)?;
            // The PoP id left of the axis.
            let (px, py) = chart.backend_coord(&(0.0, y));
            root.draw(&Text::new(
                p.id.clone(),
                (px - 8, py),
                bar_font
                    .clone()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Right, VPos::Center)),
            ))
            .map_err(err)?;
        }
        Ok(())
    }
}

/// PoPs on a map: at their longitude and latitude (equirectangular), the
/// marker colour is the edge hit ratio and its area is proportional to the
/// PoP's requests; grey lines are routes from viewer countries (their
/// population centres, grey crosses) to PoPs, wider for more traffic.
pub struct PopMap<'a> {
    /// Figure title.
    pub title: String,
    /// All PoPs, scenario order.
    pub pops: &'a [PopSummary],
    /// All countries, scenario order.
    pub countries: &'a [CountrySummary],
    /// Routes with traffic.
    pub routes: &'a [RouteSummary],
}

/// The points' longitude and latitude bounds with a margin, degrees.
fn padded_bounds(points: &[(f64, f64)]) -> (f64, f64, f64, f64) {
    if points.is_empty() {
        return (-180.0, 180.0, -60.0, 75.0);
    }
    let (mut lon0, mut lon1, mut lat0, mut lat1) = (180.0f64, -180.0f64, 90.0f64, -90.0f64);
    for &(lon, lat) in points {
        lon0 = lon0.min(lon);
        lon1 = lon1.max(lon);
        lat0 = lat0.min(lat);
        lat1 = lat1.max(lat);
    }
    let pad = 12.0;
    (lon0 - pad, lon1 + pad, lat0 - pad, lat1 + pad)
}

/// Longitude and latitude ranges showing every point with a margin, with
/// equal scale on both axes for a `w` x `h` pixel area.
fn map_extent(points: &[(f64, f64)], w: f64, h: f64) -> ((f64, f64), (f64, f64)) {
    let (mut lon0, mut lon1, mut lat0, mut lat1) = padded_bounds(points);
    let deg_per_px = ((lon1 - lon0) / w).max((lat1 - lat0) / h).max(50.0 / w);
    let fit = |lo: &mut f64, hi: &mut f64, span: f64, min: f64, max: f64| {
        let span = span.min(max - min);
        let mid = (*lo + *hi) / 2.0;
        *lo = (mid - span / 2.0).max(min);
        *hi = (*lo + span).min(max);
        *lo = *hi - span;
    };
    fit(&mut lon0, &mut lon1, deg_per_px * w, -180.0, 180.0);
    fit(&mut lat0, &mut lat1, deg_per_px * h, -90.0, 90.0);
    ((lon0, lon1), (lat0, lat1))
}

fn degrees(v: f64, positive: char, negative: char) -> String {
    let hemisphere = if v > 0.0 {
        positive.to_string()
    } else if v < 0.0 {
        negative.to_string()
    } else {
        String::new()
    };
    format!("{:.0}°{hemisphere}", v.abs())
}

const MAP_W: u32 = 1200;
const TITLE_PX: u32 = 40;
const SIDE_PX: u32 = 190;
const LABEL_W: u32 = 60;
const LABEL_H: u32 = 40;
const MARGIN: u32 = 12;
const R_MIN: f64 = 5.0;
const R_MAX: f64 = 30.0;

impl PopMap<'_> {
    /// What the map must show: every PoP and every country with traffic.
    fn points(&self) -> Vec<(f64, f64)> {
        let mut points: Vec<(f64, f64)> = self.pops.iter().map(|p| (p.lon, p.lat)).collect();
        points.extend(
            self.countries
                .iter()
                .filter(|c| c.requests > 0)
                .map(|c| (c.lon, c.lat)),
        );
        points
    }
}

impl Figure for PopMap<'_> {
    /// As tall as the points' latitudes need at the width's scale.
    fn size(&self) -> (u32, u32) {
        let (lon0, lon1, lat0, lat1) = padded_bounds(&self.points());
        let plot_w = f64::from(MAP_W - SIDE_PX - 2 * MARGIN - LABEL_W);
        let deg_per_px = ((lon1 - lon0) / plot_w).max(50.0 / plot_w);
        let plot_h = ((lat1 - lat0) / deg_per_px).ceil() as u32;
        (
            MAP_W,
            (plot_h + 2 * MARGIN + LABEL_H + TITLE_PX).clamp(480, 900),
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let area = titled(root, &self.title)?;
        let (w, h) = area.dim_in_pixel();
        let (map, side) = area.split_horizontally(w - SIDE_PX);
        let points = self.points();
        let plot_w = f64::from(w - SIDE_PX - 2 * MARGIN - LABEL_W);
        let plot_h = f64::from(h - 2 * MARGIN - LABEL_H);
        let ((lon0, lon1), (lat0, lat1)) = map_extent(&points, plot_w, plot_h);
        let mut chart = ChartBuilder::on(&map)
            .margin(MARGIN)
            .x_label_area_size(LABEL_H)
            .y_label_area_size(LABEL_W)
            .build_cartesian_2d(lon0..lon1, lat0..lat1)
            .map_err(err)?;
        chart
            .plotting_area()
            .fill(&RGBColor(248, 250, 252))
            .map_err(err)?;
        house_style(&mut chart.configure_mesh())
            .bold_line_style(RGBColor(214, 220, 228))
            .light_line_style(RGBColor(236, 240, 244))
            .x_labels(12)
            .y_labels(8)
            .x_label_formatter(&|v| degrees(*v, 'E', 'W'))
            .y_label_formatter(&|v| degrees(*v, 'N', 'S'))
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(err)?;
        if lat0 < 0.0 && lat1 > 0.0 {
            chart
                .draw_series(LineSeries::new(
                    [(lon0, 0.0), (lon1, 0.0)],
                    RGBColor(180, 190, 200).stroke_width(1),
                ))
                .map_err(err)?;
        }

        let max_route = self
            .routes
            .iter()
            .map(|r| r.requests)
            .max()
            .unwrap_or(1)
            .max(1);
        let pop_at = |id: &str| self.pops.iter().find(|p| p.id == id);
        let country_at = |code: &str| self.countries.iter().find(|c| c.code == code);
        for r in self.routes {
            let (Some(p), Some(c)) = (pop_at(&r.pop), country_at(&r.country)) else {
                continue;
            };
            let width = 1.0 + 5.0 * (r.requests as f64 / max_route as f64).sqrt();
            chart
                .draw_series(LineSeries::new(
                    [(c.lon, c.lat), (p.lon, p.lat)],
                    RGBColor(120, 130, 140)
                        .mix(0.45)
                        .stroke_width(width.round() as u32),
                ))
                .map_err(err)?;
        }
        let grey = RGBColor(110, 110, 110);
        for c in self.countries.iter().filter(|c| c.requests > 0) {
            chart
                .draw_series(std::iter::once(Cross::new(
                    (c.lon, c.lat),
                    4,
                    grey.stroke_width(2),
                )))
                .map_err(err)?;
        }

        let max_requests = self.pops.iter().map(|p| p.requests).max().unwrap_or(0);
        let radius = |requests: u64| {
            if max_requests == 0 {
                R_MIN
            } else {
                R_MIN.max(R_MAX * (requests as f64 / max_requests as f64).sqrt())
            }
        };
        // Largest first, so small markers stay visible on top.
        let mut order: Vec<usize> = (0..self.pops.len()).collect();
        order.sort_by(|&a, &b| {
            self.pops[b]
                .requests
                .cmp(&self.pops[a].requests)
                .then(a.cmp(&b))
        });
        for &i in &order {
            let p = &self.pops[i];
            let r = radius(p.requests).round() as i32;
            let fill: ShapeStyle = if p.requests == 0 {
                WHITE.filled()
            } else {
                viridis(p.hit_ratio).filled()
            };
            chart
                .draw_series(std::iter::once(
                    EmptyElement::at((p.lon, p.lat))
                        + Circle::new((0, 0), r, fill)
                        + Circle::new((0, 0), r, RGBColor(40, 40, 40).stroke_width(1)),
                ))
                .map_err(err)?;
        }

        // Labels: PoPs (busiest first), then countries where room is left.
        let (xs, ys) = chart.plotting_area().get_pixel_range();
        let mut labels = Labeller::new((xs.start, ys.start, xs.end, ys.end));
        let markers: Vec<((i32, i32), i32)> = order
            .iter()
            .map(|&i| {
                let p = &self.pops[i];
                (
                    chart.backend_coord(&(p.lon, p.lat)),
                    radius(p.requests).round() as i32,
                )
            })
            .collect();
        for &(at, r) in &markers {
            labels.block(at, r);
        }
        for c in self.countries.iter().filter(|c| c.requests > 0) {
            labels.block(chart.backend_coord(&(c.lon, c.lat)), 4);
        }
        let pop_font = ("sans-serif", 15).into_font().style(FontStyle::Bold);
        for (&i, &(at, r)) in order.iter().zip(&markers) {
            let id = &self.pops[i].id;
            let placed = labels.place(at, r, label_size(id, 9.2, 15), true);
            if let Some((x, y, leader)) = placed {
                if let Some(from) = leader {
                    root.draw(&PathElement::new(
                        vec![from, leader_end((x, y), label_size(id, 9.2, 15), at)],
                        RGBColor(60, 60, 60).stroke_width(1),
                    ))
                    .map_err(err)?;
                }
                root.draw(&Text::new(id.clone(), (x, y), pop_font.clone()))
                    .map_err(err)?;
            }
        }
        let country_font = ("sans-serif", 12).into_font().color(&grey);
        for c in self.countries.iter().filter(|c| c.requests > 0) {
            let at = chart.backend_coord(&(c.lon, c.lat));
            if let Some((x, y, _)) = labels.place(at, 4, label_size(&c.code, 8.0, 12), false) {
                root.draw(&Text::new(c.code.clone(), (x, y), country_font.clone()))
                    .map_err(err)?;
            }
        }
        draw_map_key(&side, max_requests, radius)
    }
}

/// Estimated pixel size of `text` in a font `height` px high whose
/// characters are about `char_w` px wide.
fn label_size(text: &str, char_w: f64, height: i32) -> (i32, i32) {
    ((text.chars().count() as f64 * char_w).ceil() as i32, height)
}

/// The point of a label's box nearest to `to`, where a leader line ends.
fn leader_end((x, y): (i32, i32), (w, h): (i32, i32), to: (i32, i32)) -> (i32, i32) {
    (to.0.clamp(x, x + w), to.1.clamp(y, y + h))
}

/// Greedy label placement: each label takes the first candidate position
/// around its point that overlaps nothing placed before (markers and
/// labels), else the least overlapping one (PoPs) or none (countries).
struct Labeller {
    bounds: (i32, i32, i32, i32),
    taken: Vec<(i32, i32, i32, i32)>,
}

impl Labeller {
    fn new(bounds: (i32, i32, i32, i32)) -> Labeller {
        Labeller {
            bounds,
            taken: Vec::new(),
        }
    }

    /// Reserves a marker of radius `r` at `at`.
    fn block(&mut self, at: (i32, i32), r: i32) {
        self.taken.push((at.0 - r, at.1 - r, at.0 + r, at.1 + r));
    }

    fn overlap(&self, rect: (i32, i32, i32, i32)) -> i64 {
        let (x0, y0, x1, y1) = rect;
        let (bx0, by0, bx1, by1) = self.bounds;
        let outside = i64::from(
            (bx0 - x0).max(0) + (x1 - bx1).max(0) + (by0 - y0).max(0) + (y1 - by1).max(0),
        );
        let covered: i64 = self
            .taken
            .iter()
            .map(|t| {
                let w = (x1.min(t.2) - x0.max(t.0)).max(0);
                let h = (y1.min(t.3) - y0.max(t.1)).max(0);
                i64::from(w) * i64::from(h)
            })
            .sum();
        covered + 1000 * outside
    }

    /// Top-left corner for a `size` label beside a marker of radius `r`
    /// at `at`, and where a leader line starts when the label sits apart.
    #[allow(clippy::type_complexity)]
    fn place(
        &mut self,
        at: (i32, i32),
        r: i32,
        size: (i32, i32),
        must: bool,
    ) -> Option<(i32, i32, Option<(i32, i32)>)> {
        let (w, h) = size;
        let d = r * 7 / 10;
        let mut best: Option<(i64, (i32, i32), bool)> = None;
        let rings: &[(i64, i32)] = if must { &[(0, 3), (1, 24)] } else { &[(0, 2)] };
        for &(ring, gap) in rings {
            let (rr, dd) = (r + gap, d + gap);
            let candidates = [
                (dd, -dd - h),
                (rr, -h / 2),
                (dd, dd),
                (-w / 2, rr),
                (-w / 2, -rr - h),
                (-rr - w, -h / 2),
                (-dd - w, -dd - h),
                (-dd - w, dd),
            ];
            for (dx, dy) in candidates {
                let (x, y) = (at.0 + dx, at.1 + dy);
                let cost = self.overlap((x, y, x + w, y + h)) + ring * 50;
                if best.is_none_or(|b| cost < b.0) {
                    best = Some((cost, (x, y), ring == 1));
                }
                if cost == ring * 50 {
                    break;
                }
            }
            if best.is_some_and(|b| b.0 == ring * 50) {
                break;
            }
        }
        let (cost, (x, y), apart) = best?;
        if !must && cost > 0 {
            return None;
        }
        self.taken.push((x, y, x + w, y + h));
        // The leader starts on the marker's edge, towards the label.
        let (cx, cy) = (f64::from(x + w / 2 - at.0), f64::from(y + h / 2 - at.1));
        let len = cx.hypot(cy).max(1.0);
        let edge = (
            at.0 + (cx / len * f64::from(r)).round() as i32,
            at.1 + (cy / len * f64::from(r)).round() as i32,
        );
        Some((x, y, apart.then_some(edge)))
    }
}

/// The colour bar (edge hit ratio) and marker sizes, beside the map.
fn draw_map_key<DB: DrawingBackend>(
    side: &DrawingArea<DB, Shift>,
    max_requests: u64,
    radius: impl Fn(u64) -> f64,
) -> Result<(), String> {
    let (_, h) = side.dim_in_pixel();
    let (bar_area, sizes) = side.split_vertically(h * 11 / 20);
    let title = ("sans-serif", 15).into_font();
    bar_area
        .draw(&Text::new("edge hit ratio (%)", (10, 16), title.clone()))
        .map_err(err)?;
    let mut bar = ChartBuilder::on(&bar_area.margin(40, 10, 10, 110))
        .y_label_area_size(0)
        .right_y_label_area_size(40)
        .build_cartesian_2d(0.0..1.0, 0.0..100.0)
        .map_err(err)?;
    bar.configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_labels(6)
        .y_label_formatter(&num)
        .label_style(("sans-serif", 13))
        .draw()
        .map_err(err)?;
    bar.draw_series((0..100).map(|k| {
        let y = f64::from(k);
        Rectangle::new(
            [(0.0, y), (1.0, y + 1.0)],
            viridis(y / 100.0 + 0.005).filled(),
        )
    }))
    .map_err(err)?;
    bar.draw_series(std::iter::once(Rectangle::new(
        [(0.0, 0.0), (1.0, 100.0)],
        RGBColor(60, 60, 60).stroke_width(1),
    )))
    .map_err(err)?;

    sizes
        .draw(&Text::new("requests (area)", (10, 10), title))
        .map_err(err)?;
    let mut y = 40;
    for share in [1.0, 0.25, 0.05] {
        let n = (max_requests as f64 * share).round() as u64;
        let r = radius(n).round() as i32;
        y += r;
        sizes
            .draw(&Circle::new(
                (45, y),
                r,
                RGBColor(60, 60, 60).stroke_width(1),
            ))
            .map_err(err)?;
        sizes
            .draw(&Text::new(
                compact(n),
                (85, y),
                ("sans-serif", 14)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Left, VPos::Center)),
            ))
            .map_err(err)?;
        y += r + 12;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_extent_keeps_equal_scale_and_stays_on_earth() {
        let ((lon0, lon1), (lat0, lat1)) = map_extent(&[(8.7, 50.0), (-77.0, 38.9)], 800.0, 400.0);
        assert!(lon0 <= -77.0 - 12.0 && lon1 >= 8.7 + 12.0);
        assert!(lat0 <= 38.9 - 12.0 && lat1 >= 50.0 + 12.0);
        assert!(((lon1 - lon0) / 800.0 - (lat1 - lat0) / 400.0).abs() < 1e-9);
        let ((lon0, lon1), (lat0, lat1)) =
            map_extent(&[(-179.0, -80.0), (179.0, 85.0)], 800.0, 400.0);
        assert!(lon0 >= -180.0 && lon1 <= 180.0 && lat0 >= -90.0 && lat1 <= 90.0);
        assert_eq!(compact(950), "950");
        assert_eq!(compact(12_345), "12.3k");
        assert_eq!(compact(4_560_000), "4.560M");
    }
}
