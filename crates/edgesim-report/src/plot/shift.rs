//! Migration-shift curves: the planned weight of the migration target
//! against the share it really received, over time, per strategy.
//! Drawn for whatever series the migration feature hands over.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::plot::time_panel;

use super::{Figure, draw_legend, entity_colour, err, legend_line, titled};

/// One strategy's migration over time.
#[derive(Debug, Clone, PartialEq)]
pub struct ShiftSeries {
    /// Strategy name (legend text).
    pub strategy: String,
    /// Index of the strategy in the scenario (picks its colour).
    pub index: usize,
    /// Planned weight of the target: (simulated s, weight in 0..=1), a
    /// step function holding each value until the next point.
    pub planned: Vec<(f64, f64)>,
    /// Realised share of the target: (simulated s at the end of an
    /// epoch, share in 0..=1).
    pub realised: Vec<(f64, f64)>,
    /// Share of viewer responses whose content came from the target
    /// (drawn dotted; lags `realised` by cache residence); may be empty.
    pub served: Vec<(f64, f64)>,
}

impl ShiftSeries {
    /// The planned weight in force at `t` (0 before the first step).
    pub fn planned_at(&self, t: f64) -> f64 {
        self.planned
            .iter()
            .take_while(|p| p.0 <= t)
            .last()
            .map_or(0.0, |p| p.1)
    }
}

/// Planned (dashed) and realised (solid) share over time per strategy
/// (top), and how far realised runs from planned (bottom).
pub struct MigrationShift<'a> {
    /// Figure title.
    pub title: String,
    /// What the share is of, for the axis (e.g. "origin fetches to new-origin").
    pub share_of: String,
    /// The strategies.
    pub series: &'a [ShiftSeries],
}

impl Figure for MigrationShift<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let root = titled(root, &self.title)?;
        let (top, bottom) = root.split_vertically(root.dim_in_pixel().1 * 3 / 5);
        let t_end = self
            .series
            .iter()
            .flat_map(|s| s.planned.iter().chain(&s.realised).map(|p| p.0))
            .fold(1e-3, f64::max);
        let mut chart = time_panel(
            &top,
            "Planned weight (dashed), share of origin fetches (solid) and of viewer responses (dotted)",
            t_end,
            0.0..100.0,
            format!("share of {} (%)", self.share_of),
            75,
        )?;
        for s in self.series {
            let colour = entity_colour(s.index);
            let mut steps: Vec<(f64, f64)> = Vec::with_capacity(s.planned.len() * 2 + 1);
            for (k, &(t, w)) in s.planned.iter().enumerate() {
                if k > 0 {
                    steps.push((t, s.planned[k - 1].1 * 100.0));
                }
                steps.push((t, w * 100.0));
            }
            if let Some(&(_, w)) = s.planned.last() {
                steps.push((t_end, w * 100.0));
            }
            chart
                .draw_series(DashedLineSeries::new(steps, 10, 6, colour.stroke_width(2)))
                .map_err(err)?;
            chart
                .draw_series(LineSeries::new(
                    s.realised.iter().map(|&(t, v)| (t, v * 100.0)),
                    colour.stroke_width(2),
                ))
                .map_err(err)?
                .label(s.strategy.as_str())
                .legend(legend_line(colour));
            if !s.served.is_empty() {
                chart
                    .draw_series(DashedLineSeries::new(
                        s.served.iter().map(|&(t, v)| (t, v * 100.0)),
                        2,
                        4,
                        colour.stroke_width(2),
                    ))
                    .map_err(err)?;
            }
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)?;

        let gaps: Vec<Vec<(f64, f64)>> = self
            .series
            .iter()
            .map(|s| {
                s.realised
                    .iter()
                    // A realised point is at its epoch's end; compare it with
                    // the weight planned for that epoch, not the next.
                    .map(|&(t, v)| (t, (v - s.planned_at(t - 1e-6)) * 100.0))
                    .collect()
            })
            .collect();
        let worst = gaps.iter().flatten().map(|p| p.1.abs()).fold(1.0, f64::max) * 1.15;
        let mut chart = time_panel(
            &bottom,
            "Realised minus planned",
            t_end,
            -worst..worst,
            "difference (percentage points)",
            75,
        )?;
        chart
            .draw_series(LineSeries::new(
                [(0.0, 0.0), (t_end, 0.0)],
                RGBColor(90, 90, 90).stroke_width(1),
            ))
            .map_err(err)?;
        for (s, gap) in self.series.iter().zip(gaps) {
            chart
                .draw_series(LineSeries::new(gap, entity_colour(s.index).stroke_width(2)))
                .map_err(err)?;
        }
        Ok(())
    }
}

/// One migration's two arms over time: edge hit ratio of the responses
/// each origin's content served (top) and fetches per second each origin
/// received (bottom), on the time axis of the shift plot.
pub struct MigrationArms<'a> {
    /// Figure title.
    pub title: String,
    /// The origin traffic leaves (dashed).
    pub from: String,
    /// The origin traffic moves to (solid).
    pub to: String,
    /// Per epoch.
    pub epochs: &'a [ArmEpoch],
}

/// One epoch of [`MigrationArms`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ArmEpoch {
    /// End of the epoch, simulated s.
    pub end_secs: f64,
    /// Edge hit ratio of responses with the old origin's content.
    pub hit_ratio_old: f64,
    /// Edge hit ratio of responses with the new origin's content.
    pub hit_ratio_new: f64,
    /// Old-origin fetches per second.
    pub old_rps: f64,
    /// New-origin fetches per second.
    pub new_rps: f64,
    /// New-origin 5xx answers per second.
    pub new_errors_per_sec: f64,
}

impl Figure for MigrationArms<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let root = titled(root, &self.title)?;
        let (top, bottom) = root.split_vertically(root.dim_in_pixel().1 / 2);
        let t_end = self.epochs.iter().map(|e| e.end_secs).fold(1e-3, f64::max);
        let (old, new, bad) = (entity_colour(0), entity_colour(1), RGBColor(214, 39, 40));
        let mut chart = time_panel(
            &top,
            "Edge hit ratio per arm",
            t_end,
            0.0..100.0,
            "hit ratio (%)",
            75,
        )?;
        // An arm without responses in an epoch has no hit ratio: gaps are
        // left out rather than drawn as 0.
        let arm = |pick: fn(&ArmEpoch) -> (f64, f64)| {
            self.epochs
                .iter()
                .map(pick)
                .filter(|p| p.1 > 0.0)
                .map(|(t, r)| (t, r * 100.0))
                .collect::<Vec<_>>()
        };
        chart
            .draw_series(DashedLineSeries::new(
                arm(|e| (e.end_secs, e.hit_ratio_old)),
                8,
                5,
                old.stroke_width(2),
            ))
            .map_err(err)?
            .label(format!("{} (old)", self.from))
            .legend(legend_line(old));
        chart
            .draw_series(LineSeries::new(
                arm(|e| (e.end_secs, e.hit_ratio_new)),
                new.stroke_width(2),
            ))
            .map_err(err)?
            .label(format!("{} (new)", self.to))
            .legend(legend_line(new));
        draw_legend(&mut chart, SeriesLabelPosition::LowerRight)?;

        let peak = self
            .epochs
            .iter()
            .map(|e| e.old_rps.max(e.new_rps).max(e.new_errors_per_sec))
            .fold(1.0, f64::max)
            * 1.1;
        let mut chart = time_panel(
            &bottom,
            "Origin fetches per second",
            t_end,
            0.0..peak,
            "fetches/s",
            75,
        )?;
        chart
            .draw_series(DashedLineSeries::new(
                self.epochs.iter().map(|e| (e.end_secs, e.old_rps)),
                8,
                5,
                old.stroke_width(2),
            ))
            .map_err(err)?
            .label(format!("{} fetches/s", self.from))
            .legend(legend_line(old));
        chart
            .draw_series(LineSeries::new(
                self.epochs.iter().map(|e| (e.end_secs, e.new_rps)),
                new.stroke_width(2),
            ))
            .map_err(err)?
            .label(format!("{} fetches/s", self.to))
            .legend(legend_line(new));
        chart
            .draw_series(LineSeries::new(
                self.epochs
                    .iter()
                    .map(|e| (e.end_secs, e.new_errors_per_sec)),
                bad.stroke_width(2),
            ))
            .map_err(err)?
            .label(format!("{} 5xx/s", self.to))
            .legend(legend_line(bad));
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::write_svg_and_png;

    fn synthetic() -> Vec<ShiftSeries> {
        let planned = vec![(0.0, 0.0), (60.0, 0.1), (120.0, 0.5), (180.0, 1.0)];
        let realised = |lag: f64, noise: f64| -> Vec<(f64, f64)> {
            (1..=240)
                .map(|t| {
                    let t = f64::from(t);
                    let target = ShiftSeries {
                        strategy: String::new(),
                        index: 0,
                        planned: planned.clone(),
                        realised: Vec::new(),
                        served: Vec::new(),
                    }
                    .planned_at(t - lag);
                    let wobble = noise * ((t * 0.7).sin());
                    (t, (target + wobble).clamp(0.0, 1.0))
                })
                .collect()
        };
        vec![
            ShiftSeries {
                strategy: "random split".into(),
                index: 0,
                planned: planned.clone(),
                realised: realised(0.0, 0.03),
                served: realised(30.0, 0.0),
            },
            ShiftSeries {
                strategy: "sticky by viewer".into(),
                index: 1,
                planned: planned.clone(),
                realised: realised(20.0, 0.01),
                served: Vec::new(),
            },
        ]
    }

    #[test]
    fn planned_weight_is_a_step_function() {
        let s = &synthetic()[0];
        assert_eq!(s.planned_at(-1.0), 0.0);
        assert_eq!(s.planned_at(59.9), 0.0);
        assert_eq!(s.planned_at(60.0), 0.1);
        assert_eq!(s.planned_at(1e9), 1.0);
    }

    #[test]
    fn draws_synthetic_strategies_as_svg_and_png() {
        let dir = tempfile::tempdir().unwrap();
        let series = synthetic();
        let figure = MigrationShift {
            title: "Migration to <new> origin".into(),
            share_of: "origin fetches to new-origin".into(),
            series: &series,
        };
        let svg = write_svg_and_png(dir.path(), "migration_shift", &figure).unwrap();
        assert!(svg.contains("sticky by viewer") && svg.contains("random split"));
        assert!(svg.contains("&lt;new&gt;"), "title is escaped in SVG");
        // Both strategies' colours are used.
        for i in 0..2 {
            let RGBColor(r, g, b) = entity_colour(i);
            assert!(
                svg.contains(&format!("#{r:02X}{g:02X}{b:02X}")),
                "colour {i}"
            );
        }
        let png = std::fs::metadata(dir.path().join("migration_shift.png")).unwrap();
        assert!(png.len() > 10_000);
    }
}
