//! Lambda@Edge functions per behaviour and stage: invocations, failures
//! by kind, mean run time, and invocations and failures over time.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::plot::time_panel;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    Figure, PALETTE, draw_legend, entity_colour, err, headroom, house_style, legend_line, num,
    time_buckets, titled,
};
use crate::summary::{EpochRow, TriggerSummary};

/// Four panels about the run's Lambda@Edge functions (one row per
/// behaviour and stage, coloured by its index in the summary's
/// `triggers`): invocations with generated responses and cold starts;
/// failed invocations by kind; mean run time; and invocations per second
/// (solid) and failures per second (dashed) over simulated time.
pub struct TriggerPanels<'a> {
    /// Figure title.
    pub title: String,
    /// The functions, as the summary lists them.
    pub triggers: &'a [TriggerSummary],
    /// The run's time series (for epoch times).
    pub rows: &'a [EpochRow],
}

/// One counter of a function.
type Count = fn(&TriggerSummary) -> u64;

/// (time, value) points of a line.
type Line = Vec<(f64, f64)>;

/// The failure kinds, with what the viewer got.
const FAILURE_KINDS: [(&str, Count); 5] = [
    ("invalid result (502)", |t| t.invalid),
    ("error (503)", |t| t.errors),
    ("timeout (503)", |t| t.timeouts),
    ("out of memory (503)", |t| t.out_of_memory),
    ("throttled (503)", |t| t.throttled),
];

/// An axis count without needless digits: 900, 12k, 1.5M.
fn short_count(v: &f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("{}M", num(&((v / 1e5).round() / 10.0)))
    } else if a >= 1e4 {
        format!("{}k", num(&((v / 1e2).round() / 10.0)))
    } else {
        num(v)
    }
}

/// The row label of a function: stage and behaviour (shortened).
pub fn trigger_label(t: &TriggerSummary) -> String {
    let mut behaviour: String = t.behavior.chars().take(22).collect();
    if t.behavior.chars().count() > 22 {
        behaviour.push('…');
    }
    format!("{} {behaviour}", t.stage)
}

impl TriggerPanels<'_> {
    /// Horizontal grouped bars: one group per function, one bar per
    /// `(name, colour, value)` in it; value and name printed at the bar
    /// ends.
    #[allow(clippy::type_complexity)]
    fn bars<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        caption: &str,
        x_desc: &str,
        groups: &[Vec<(String, RGBColor, f64)>],
        value_text: &dyn Fn(f64) -> String,
    ) -> Result<(), String> {
        let n = self.triggers.len().max(1);
        // At least three rows' room, so that one function's bars stay slim.
        let slots = n.max(3);
        let x_max = headroom(groups.iter().flatten().map(|b| b.2).fold(0.0, f64::max) * 1.5);
        let labels: Vec<String> = self.triggers.iter().map(trigger_label).collect();
        let y_label = move |y: &f64| {
            let i = y.round();
            if (y - i).abs() > 1e-6 || i < 0.0 {
                return String::new();
            }
            // Row 0 at the top.
            let row = slots as f64 - 1.0 - i;
            if row < 0.0 {
                return String::new();
            }
            labels.get(row as usize).cloned().unwrap_or_default()
        };
        let mut chart = ChartBuilder::on(area)
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(230)
            .caption(caption, ("sans-serif", 19))
            .build_cartesian_2d(0.0..x_max, -0.5..(slots as f64 - 0.5))
            .map_err(err)?;
        house_style(&mut chart.configure_mesh())
            .disable_y_mesh()
            .y_labels(slots.min(20) * 2 + 1)
            .y_label_formatter(&y_label)
            .x_labels(6)
            .x_label_formatter(&short_count)
            .x_desc(x_desc)
            .draw()
            .map_err(err)?;
        let font = ("sans-serif", 13)
            .into_font()
            .into_text_style(area)
            .pos(Pos::new(HPos::Left, VPos::Center));
        for (row, group) in groups.iter().enumerate() {
            let k = group.len().max(1) as f64;
            let height = 0.8 / k;
            for (j, (name, colour, value)) in group.iter().enumerate() {
                let bottom = (slots - 1 - row) as f64 + 0.4 - (j + 1) as f64 * height;
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [
                            (0.0, bottom + 0.1 * height),
                            (*value, bottom + 0.9 * height),
                        ],
                        colour.filled(),
                    )))
                    .map_err(err)?;
                chart
                    .draw_series(std::iter::once(Text::new(
                        format!("{} {name}", value_text(*value))
                            .trim_end()
                            .to_owned(),
                        (*value + x_max * 0.01, bottom + 0.5 * height),
                        font.clone(),
                    )))
                    .map_err(err)?;
            }
        }
        Ok(())
    }

    /// Invocations and failures per second over time, per function.
    fn over_time<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let t_end = self.rows.last().map_or(1.0, |r| r.end_secs).max(1e-3);
        let buckets = time_buckets(self.rows.len());
        let rate = |per_epoch: &[u64]| -> Vec<(f64, f64)> {
            buckets
                .iter()
                .filter_map(|r| {
                    let rows = &self.rows[r.clone()];
                    let (first, last) = (rows.first()?, rows.last()?);
                    let secs = last.end_secs - first.start_secs;
                    let sum: u64 = per_epoch.get(r.clone())?.iter().sum();
                    (secs > 0.0).then_some((last.end_secs, sum as f64 / secs))
                })
                .collect()
        };
        let lines: Vec<(Line, Line)> = self
            .triggers
            .iter()
            .map(|t| (rate(&t.invocations_per_epoch), rate(&t.failures_per_epoch)))
            .collect();
        let y_max = headroom(
            lines
                .iter()
                .flat_map(|(a, b)| a.iter().chain(b))
                .map(|p| p.1)
                .fold(0.0, f64::max),
        );
        let mut chart = time_panel(
            area,
            "Invocations/s (solid) and failures/s (dashed)",
            t_end,
            0.0..y_max,
            "per second",
            75,
        )?;
        for (i, (t, (calls, failures))) in self.triggers.iter().zip(&lines).enumerate() {
            let colour = entity_colour(i);
            chart
                .draw_series(LineSeries::new(calls.clone(), colour.stroke_width(2)))
                .map_err(err)?
                .label(trigger_label(t))
                .legend(legend_line(colour));
            if failures.iter().any(|p| p.1 > 0.0) {
                chart
                    .draw_series(DashedLineSeries::new(
                        failures.clone(),
                        6,
                        4,
                        colour.stroke_width(2),
                    ))
                    .map_err(err)?;
            }
        }
        draw_legend(&mut chart, SeriesLabelPosition::LowerRight)
    }
}

impl Figure for TriggerPanels<'_> {
    fn size(&self) -> (u32, u32) {
        (1200, 900)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let root = titled(root, &self.title)?;
        let areas = root.split_evenly((2, 2));
        let count = |v: f64| crate::html::thousands(v.round() as u64);
        let calls: Vec<Vec<(String, RGBColor, f64)>> = self
            .triggers
            .iter()
            .map(|t| {
                vec![
                    ("invocations".to_owned(), PALETTE[0], t.invocations as f64),
                    (
                        "generated responses".to_owned(),
                        PALETTE[2],
                        t.responded as f64,
                    ),
                    ("cold starts".to_owned(), PALETTE[5], t.cold_starts as f64),
                ]
            })
            .collect();
        self.bars(&areas[0], "Invocations", "count", &calls, &count)?;

        let kinds: Vec<usize> = (0..FAILURE_KINDS.len())
            .filter(|&k| self.triggers.iter().any(|t| FAILURE_KINDS[k].1(t) > 0))
            .collect();
        if kinds.is_empty() {
            let area = &areas[1];
            let (w, h) = area.dim_in_pixel();
            area.draw(&Text::new(
                "Failed invocations: none",
                (w as i32 / 2, h as i32 / 2),
                ("sans-serif", 19)
                    .into_font()
                    .into_text_style(area)
                    .pos(Pos::new(HPos::Center, VPos::Center)),
            ))
            .map_err(err)?;
        } else {
            let colours = [
                PALETTE[1],
                RGBColor(200, 40, 40),
                PALETTE[4],
                PALETTE[3],
                PALETTE[6],
            ];
            let failures: Vec<Vec<(String, RGBColor, f64)>> = self
                .triggers
                .iter()
                .map(|t| {
                    kinds
                        .iter()
                        .map(|&k| {
                            (
                                FAILURE_KINDS[k].0.to_owned(),
                                colours[k],
                                FAILURE_KINDS[k].1(t) as f64,
                            )
                        })
                        .collect()
                })
                .collect();
            self.bars(
                &areas[1],
                "Failed invocations by kind",
                "count",
                &failures,
                &count,
            )?;
        }

        let durations: Vec<Vec<(String, RGBColor, f64)>> = self
            .triggers
            .iter()
            .enumerate()
            .map(|(i, t)| vec![(String::new(), entity_colour(i), t.mean_duration_ms)])
            .collect();
        self.bars(
            &areas[2],
            "Mean run time per invocation (cold starts included)",
            "ms",
            &durations,
            &|v| format!("{} ms", num(&((v * 1000.0).round() / 1000.0))),
        )?;
        self.over_time(&areas[3])
    }
}
