//! A small line-chart helper over plotters' SVG backend: no system library, no font files (SVG
//! text is left to the viewer), so plots render on any machine.

use std::path::Path;

use anyhow::Context as _;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;

/// One line of a chart.
#[derive(Debug, Clone)]
pub struct Series {
    /// Its legend entry.
    pub name: String,
    /// `(x, y)` points in order; non-finite points (and, on a log axis, non-positive ones) are
    /// dropped.
    pub points: Vec<(f64, f64)>,
    /// Drawn dashed: reference lines such as a baseline.
    pub dashed: bool,
}

impl Series {
    /// A solid line.
    pub fn line(name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Self {
            name: name.into(),
            points,
            dashed: false,
        }
    }

    /// A dashed horizontal line at `y` over `[x0, x1]` (a baseline).
    pub fn hline(name: impl Into<String>, y: f64, x0: f64, x1: f64) -> Self {
        Self {
            name: name.into(),
            points: vec![(x0, y), (x1, y)],
            dashed: true,
        }
    }
}

/// What to draw.
#[derive(Debug, Clone)]
pub struct Chart {
    /// Title above the plot.
    pub title: String,
    /// Label of the x axis.
    pub x_label: String,
    /// Label of the y axis.
    pub y_label: String,
    /// Logarithmic y axis.
    pub log_y: bool,
    /// The lines.
    pub series: Vec<Series>,
    /// How many labels the x axis gets (plotters' choice if `None`).
    pub x_ticks: Option<usize>,
}

impl Chart {
    /// An empty chart with a title and axis labels.
    pub fn new(title: impl Into<String>, x_label: &str, y_label: &str, log_y: bool) -> Self {
        Self {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            log_y,
            series: Vec::new(),
            x_ticks: None,
        }
    }

    /// Adds a line.
    pub fn with(mut self, s: Series) -> Self {
        self.series.push(s);
        self
    }

    /// The points that can be drawn.
    fn kept(&self) -> Vec<Vec<(f64, f64)>> {
        self.series
            .iter()
            .map(|s| {
                s.points
                    .iter()
                    .copied()
                    .filter(|&(x, y)| x.is_finite() && y.is_finite() && (!self.log_y || y > 0.0))
                    .collect()
            })
            .collect()
    }

    /// Writes the chart as an SVG file.
    ///
    /// # Errors
    ///
    /// A chart with nothing to draw, or a file that cannot be written.
    pub fn write_svg(&self, path: &Path) -> anyhow::Result<()> {
        let kept = self.kept();
        let all: Vec<(f64, f64)> = kept.iter().flatten().copied().collect();
        anyhow::ensure!(
            !all.is_empty(),
            "chart `{}` has no point to draw",
            self.title
        );
        let (mut x0, mut x1) = bounds(all.iter().map(|p| p.0));
        if x0 == x1 {
            (x0, x1) = (x0 - 0.5, x1 + 0.5);
        }
        let (y0, y1) = bounds(all.iter().map(|p| p.1));
        // Tall enough for the legend's rows (22 px each below a 50 px margin) with many lines.
        let height = 500.max(70 + 22 * self.series.len() as u32);
        let root = SVGBackend::new(path, (WIDTH + LEGEND, height)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        // The legend gets its own panel on the right, so it never hides a line.
        let (plot, legend) = root.split_horizontally(WIDTH);
        if self.log_y {
            let (lo, hi) = decades(y0, y1);
            let ticks = decade_ticks(lo, hi);
            self.draw_on(
                &plot,
                x0..x1,
                (lo..hi).log_scale().with_key_points(ticks),
                &kept,
            )?;
        } else {
            let pad = ((y1 - y0) * 0.05).max(1e-9);
            self.draw_on(&plot, x0..x1, (y0 - pad)..(y1 + pad), &kept)?;
        }
        for (k, s) in self.series.iter().enumerate() {
            let y = 50 + 22 * k as i32;
            let style = Palette99::pick(k).to_rgba().stroke_width(2);
            let line = vec![(8, y), (36, y)];
            if s.dashed {
                for seg in [(8, 15), (20, 27), (32, 36)] {
                    legend
                        .draw(&PathElement::new(vec![(seg.0, y), (seg.1, y)], style))
                        .map_err(err)?;
                }
            } else {
                legend.draw(&PathElement::new(line, style)).map_err(err)?;
            }
            legend
                .draw(&Text::new(s.name.as_str(), (44, y - 7), ("sans-serif", 13)))
                .map_err(err)?;
        }
        root.present()
            .map_err(err)
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(())
    }

    fn draw_on<Y>(
        &self,
        root: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
        x: std::ops::Range<f64>,
        y: Y,
        kept: &[Vec<(f64, f64)>],
    ) -> anyhow::Result<()>
    where
        Y: AsRangedCoord<Value = f64>,
        Y::CoordDescType: ValueFormatter<f64>,
    {
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(x, y)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(self.x_label.as_str())
            .y_desc(self.y_label.as_str())
            .x_labels(self.x_ticks.unwrap_or(10))
            .x_label_formatter(&|v| short(*v))
            .y_label_formatter(&|v| short(*v))
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(err)?;
        for (k, (s, pts)) in self.series.iter().zip(kept).enumerate() {
            let style = Palette99::pick(k).to_rgba().stroke_width(2);
            if s.dashed {
                chart
                    .draw_series(DashedLineSeries::new(pts.iter().copied(), 6, 4, style))
                    .map_err(err)?;
            } else {
                chart
                    .draw_series(LineSeries::new(pts.iter().copied(), style))
                    .map_err(err)?;
            }
        }
        Ok(())
    }
}

/// Width of the plot panel and of the legend panel, in pixels.
const WIDTH: u32 = 700;
const LEGEND: u32 = 280;

/// An axis label: integers as integers, powers of ten as `1e-6`, other values with 3 significant
/// digits.
fn short(v: f64) -> String {
    let a = v.abs();
    if v == 0.0 {
        "0".into()
    } else if (1.0..1e4).contains(&a) && (a - a.round()).abs() < 1e-9 * a {
        format!("{}", v.round() as i64)
    } else if !(1e-3..1e4).contains(&a) {
        let e = a.log10().round();
        if (a / 10f64.powf(e) - 1.0).abs() < 1e-6 {
            format!("{}1e{}", if v < 0.0 { "-" } else { "" }, e as i32)
        } else {
            format!("{v:.2e}")
        }
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// A log axis from whole decade to whole decade around `[y0, y1]`, with at least a factor 3 of
/// room on each side so no line sits on the frame (curves that end at 1 get a tick at 1 inside
/// the frame, not on it).
pub fn decades(y0: f64, y1: f64) -> (f64, f64) {
    let mut lo = 10f64.powi((y0 / 3.0).log10().floor() as i32);
    let mut hi = 10f64.powi((y1 * 3.0).log10().ceil() as i32);
    if hi <= lo * 10.0 {
        (lo, hi) = (lo / 10.0, hi * 10.0);
    }
    (lo.max(f64::MIN_POSITIVE), hi)
}

/// Ticks at powers of ten from `lo` to `hi` (both powers of ten): every decade when there are at
/// most 12, else every 2nd, 5th or 10th, always on exponents that are multiples of the stride so
/// that 1 (exponent 0) is a tick whenever it is on the axis.
pub fn decade_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let (e0, e1) = (lo.log10().round() as i32, hi.log10().round() as i32);
    let stride = [1, 2, 5, 10, 20, 50]
        .into_iter()
        .find(|s| (e1 - e0) / s <= 12)
        .unwrap_or(100);
    (e0..=e1)
        .filter(|e| e.rem_euclid(stride) == 0)
        .map(|e| 10f64.powi(e))
        .collect()
}

fn bounds(v: impl Iterator<Item = f64>) -> (f64, f64) {
    v.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
        (lo.min(x), hi.max(x))
    })
}

fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow::anyhow!("plotting: {e:?}")
}
