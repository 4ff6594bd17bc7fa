//! Inline SVG charts: small, dependency-free, readable in print.

use crate::escape;
use std::fmt::Write;

/// Series colours (colour-blind-safe pair first: blue for reference, orange for current).
pub const PALETTE: [&str; 6] = [
    "#3b6fb6", "#e07b28", "#3a9a5b", "#b5465a", "#7c5cb0", "#777777",
];

/// Size and labels of a chart.
#[derive(Clone, Debug)]
pub struct Chart {
    /// Title above the plot.
    pub title: String,
    /// Label under the x axis.
    pub x_label: String,
    /// Label beside the y axis.
    pub y_label: String,
    /// Width in pixels.
    pub width: f64,
    /// Height in pixels.
    pub height: f64,
}

impl Chart {
    /// A 420×260 chart.
    pub fn new(title: &str, x_label: &str, y_label: &str) -> Self {
        Self {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            width: 420.0,
            height: 260.0,
        }
    }
}

/// One line of a line chart.
#[derive(Clone, Debug)]
pub struct Series<'a> {
    /// Legend name.
    pub name: &'a str,
    /// x values.
    pub x: &'a [f64],
    /// y values (NaN breaks the line).
    pub y: &'a [f64],
    /// Index into [`PALETTE`].
    pub color: usize,
}

impl<'a> Series<'a> {
    /// A series in palette colour `color`.
    pub fn new(name: &'a str, x: &'a [f64], y: &'a [f64], color: usize) -> Self {
        Self { name, x, y, color }
    }
}

/// Something drawn on top of the data.
#[derive(Clone, Debug)]
pub enum Marker {
    /// A vertical line across the plot at `x` (a mean), in palette colour `color`.
    VLine {
        /// Position.
        x: f64,
        /// Label.
        label: String,
        /// Colour index.
        color: usize,
        /// Dashed.
        dashed: bool,
    },
    /// A vertical segment from `y0` to `y1` at `x` (the KS distance), labelled.
    Gap {
        /// Position.
        x: f64,
        /// From.
        y0: f64,
        /// To.
        y1: f64,
        /// Label.
        label: String,
    },
}

const MARGIN_LEFT: f64 = 52.0;
const MARGIN_RIGHT: f64 = 12.0;
/// Title on the first line, legend on the second.
const MARGIN_TOP: f64 = 40.0;
const MARGIN_BOTTOM: f64 = 40.0;

/// "Nice" tick positions covering `[lo, hi]`.
pub fn ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return vec![lo];
    }
    let raw = (hi - lo) / target.max(1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    // The round step nearest (in ratio) to the raw one.
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .min_by(|a, b| (a / raw).ln().abs().total_cmp(&(b / raw).ln().abs()))
        .unwrap_or(magnitude);
    let first = (lo / step).ceil() * step;
    (0..)
        .map(|i| first + i as f64 * step)
        .take_while(|v| *v <= hi + step * 1e-9)
        .collect()
}

fn label(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e6).contains(&a) {
        format!("{v:.1e}")
    } else if a >= 100.0 || v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

struct Frame {
    chart: Chart,
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
}

impl Frame {
    fn new(chart: &Chart, (x0, x1): (f64, f64), (y0, y1): (f64, f64)) -> Self {
        let widen = |a: f64, b: f64| if b > a { (a, b) } else { (a - 0.5, a + 0.5) };
        let (x0, x1) = widen(x0, x1);
        let (y0, y1) = widen(y0, y1);
        Self {
            chart: chart.clone(),
            x0,
            x1,
            y0,
            y1,
        }
    }
    fn px(&self, x: f64) -> f64 {
        MARGIN_LEFT
            + (x - self.x0) / (self.x1 - self.x0) * (self.chart.width - MARGIN_LEFT - MARGIN_RIGHT)
    }
    fn py(&self, y: f64) -> f64 {
        self.chart.height
            - MARGIN_BOTTOM
            - (y - self.y0) / (self.y1 - self.y0) * (self.chart.height - MARGIN_TOP - MARGIN_BOTTOM)
    }
    fn open(&self, out: &mut String) {
        let c = &self.chart;
        let _ = write!(
            out,
            r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{t}" class="chart"><title>{t}</title><text x="{tx}" y="13" class="chart-title">{t}</text>"#,
            w = c.width,
            h = c.height,
            t = escape(&c.title),
            tx = MARGIN_LEFT,
        );
        let (left, right, top, bottom) = (
            MARGIN_LEFT,
            c.width - MARGIN_RIGHT,
            MARGIN_TOP,
            c.height - MARGIN_BOTTOM,
        );
        for t in ticks(self.x0, self.x1, 5) {
            let x = self.px(t);
            let _ = write!(
                out,
                r#"<line x1="{x:.1}" y1="{bottom}" x2="{x:.1}" y2="{b2}" class="tick"/><text x="{x:.1}" y="{ty}" class="tick-label" text-anchor="middle">{}</text>"#,
                label(t),
                b2 = bottom + 4.0,
                ty = bottom + 16.0
            );
        }
        for t in ticks(self.y0, self.y1, 4) {
            let y = self.py(t);
            let _ = write!(
                out,
                r#"<line x1="{left}" y1="{y:.1}" x2="{right}" y2="{y:.1}" class="grid"/><text x="{lx}" y="{ly:.1}" class="tick-label" text-anchor="end">{}</text>"#,
                label(t),
                lx = left - 6.0,
                ly = y + 4.0
            );
        }
        let _ = write!(
            out,
            r#"<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" class="axis"/><line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" class="axis"/><text x="{cx}" y="{xy}" class="axis-label" text-anchor="middle">{xl}</text><text x="12" y="{cy}" class="axis-label" text-anchor="middle" transform="rotate(-90 12 {cy})">{yl}</text>"#,
            cx = (left + right) / 2.0,
            xy = c.height - 6.0,
            cy = (top + bottom) / 2.0,
            xl = escape(&c.x_label),
            yl = escape(&c.y_label),
        );
    }
    fn markers(&self, out: &mut String, markers: &[Marker]) {
        for m in markers {
            match m {
                Marker::VLine {
                    x,
                    label: text,
                    color,
                    dashed,
                } => {
                    if !(self.x0..=self.x1).contains(x) {
                        continue;
                    }
                    let px = self.px(*x);
                    let dash = if *dashed {
                        r#" stroke-dasharray="5 3""#
                    } else {
                        ""
                    };
                    let _ = write!(
                        out,
                        r#"<line x1="{px:.1}" y1="{t}" x2="{px:.1}" y2="{b}" stroke="{c}" stroke-width="1.5"{dash}><title>{l}</title></line>"#,
                        t = MARGIN_TOP,
                        b = self.chart.height - MARGIN_BOTTOM,
                        c = PALETTE[color % PALETTE.len()],
                        l = escape(text)
                    );
                }
                Marker::Gap {
                    x,
                    y0,
                    y1,
                    label: text,
                } => {
                    let (px, a, b) = (self.px(*x), self.py(*y0), self.py(*y1));
                    let _ = write!(
                        out,
                        r##"<line x1="{px:.1}" y1="{a:.1}" x2="{px:.1}" y2="{b:.1}" stroke="#111" stroke-width="2.5"/><text x="{tx:.1}" y="{ty:.1}" class="marker-label">{l}</text>"##,
                        tx = px + 5.0,
                        ty = (a + b) / 2.0 + 4.0,
                        l = escape(text)
                    );
                }
            }
        }
    }
    fn legend(&self, out: &mut String, names: &[(&str, usize)]) {
        let mut x = self.chart.width - MARGIN_RIGHT;
        for (name, color) in names.iter().rev() {
            x -= 14.0 + 7.0 * name.chars().count() as f64;
            let _ = write!(
                out,
                r#"<rect x="{x:.1}" y="19" width="10" height="10" fill="{c}"/><text x="{tx:.1}" y="28" class="legend">{n}</text>"#,
                c = PALETTE[color % PALETTE.len()],
                tx = x + 13.0,
                n = escape(name)
            );
        }
    }
}

fn finite_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        })
}

/// A line chart of several series, with optional markers.
pub fn line_chart(chart: &Chart, series: &[Series<'_>], markers: &[Marker]) -> String {
    let xr = finite_range(series.iter().flat_map(|s| s.x.iter().copied()));
    let yr = finite_range(series.iter().flat_map(|s| s.y.iter().copied()));
    let frame = Frame::new(
        chart,
        xr,
        (
            yr.0.min(0.0).max(if yr.0 >= 0.0 { 0.0 } else { yr.0 }),
            yr.1,
        ),
    );
    let mut out = String::new();
    frame.open(&mut out);
    for s in series {
        let mut path = String::new();
        let mut pen_down = false;
        for (&x, &y) in s.x.iter().zip(s.y) {
            if !(x.is_finite() && y.is_finite()) {
                pen_down = false;
                continue;
            }
            let _ = write!(
                path,
                "{}{:.1},{:.1} ",
                if pen_down { "L" } else { "M" },
                frame.px(x),
                frame.py(y)
            );
            pen_down = true;
        }
        let _ = write!(
            out,
            r#"<path d="{path}" fill="none" stroke="{}" stroke-width="2"><title>{}</title></path>"#,
            PALETTE[s.color % PALETTE.len()],
            escape(s.name)
        );
    }
    frame.markers(&mut out, markers);
    frame.legend(
        &mut out,
        &series.iter().map(|s| (s.name, s.color)).collect::<Vec<_>>(),
    );
    out.push_str("</svg>");
    out
}

/// Overlaid histograms on shared bin `edges` (`heights[i].len() == edges.len() - 1`), drawn as
/// translucent steps so both stay visible.
pub fn histogram_overlay(
    chart: &Chart,
    edges: &[f64],
    heights: &[(&str, &[f64], usize)],
    markers: &[Marker],
) -> String {
    let xr = finite_range(edges.iter().copied());
    let ymax = finite_range(heights.iter().flat_map(|h| h.1.iter().copied()))
        .1
        .max(0.0);
    let frame = Frame::new(chart, xr, (0.0, ymax * 1.08));
    let mut out = String::new();
    frame.open(&mut out);
    for (name, h, color) in heights {
        let mut path = format!("M{:.1},{:.1} ", frame.px(edges[0]), frame.py(0.0));
        for (i, &v) in h.iter().enumerate() {
            let _ = write!(
                path,
                "L{:.1},{:.1} L{:.1},{:.1} ",
                frame.px(edges[i]),
                frame.py(v),
                frame.px(edges[i + 1]),
                frame.py(v)
            );
        }
        let _ = write!(
            path,
            "L{:.1},{:.1} Z",
            frame.px(edges[h.len()]),
            frame.py(0.0)
        );
        let c = PALETTE[color % PALETTE.len()];
        let _ = write!(
            out,
            r#"<path d="{path}" fill="{c}" fill-opacity="0.35" stroke="{c}" stroke-width="1.5"><title>{}</title></path>"#,
            escape(name)
        );
    }
    frame.markers(&mut out, markers);
    frame.legend(
        &mut out,
        &heights.iter().map(|h| (h.0, h.2)).collect::<Vec<_>>(),
    );
    out.push_str("</svg>");
    out
}

/// Paired horizontal bars per label (category shares), `flags[i]` adds a note after the label.
pub fn bar_pairs(
    title: &str,
    labels: &[String],
    a: (&str, &[f64]),
    b: (&str, &[f64]),
    flags: &[&str],
) -> String {
    let row = 26.0;
    let (width, left, right) = (420.0, 120.0, 60.0);
    let height = MARGIN_TOP + row * labels.len() as f64 + 24.0;
    let max = finite_range(a.1.iter().chain(b.1).copied()).1.max(1e-12);
    let scale = |v: f64| (width - left - right) * v / max;
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="{t}" class="chart"><title>{t}</title><text x="8" y="16" class="chart-title">{t}</text>"#,
        t = escape(title)
    );
    for (i, name) in labels.iter().enumerate() {
        let y = MARGIN_TOP + row * i as f64;
        let flag = flags.get(i).copied().unwrap_or("");
        let _ = write!(
            out,
            r#"<text x="{lx}" y="{ty:.1}" class="tick-label{cls}" text-anchor="end">{n}{f}</text>"#,
            lx = left - 6.0,
            ty = y + 15.0,
            n = escape(name),
            f = if flag.is_empty() {
                String::new()
            } else {
                format!(" ({flag})")
            },
            cls = if flag.is_empty() { "" } else { " flagged" }
        );
        for (k, (_, values)) in [a, b].iter().enumerate() {
            let v = values.get(i).copied().unwrap_or(0.0);
            let _ = write!(
                out,
                r#"<rect x="{left}" y="{ry:.1}" width="{w:.1}" height="10" fill="{c}"><title>{p:.1}%</title></rect><text x="{tx:.1}" y="{ty:.1}" class="bar-label">{p:.1}%</text>"#,
                ry = y + 2.0 + 11.0 * k as f64,
                w = scale(v),
                c = PALETTE[k],
                tx = left + scale(v) + 4.0,
                ty = y + 11.0 + 11.0 * k as f64,
                p = v * 100.0
            );
        }
    }
    let ly = height - 8.0;
    let _ = write!(
        out,
        r#"<rect x="{left}" y="{ry}" width="10" height="10" fill="{c0}"/><text x="{t0}" y="{ly}" class="legend">{a}</text><rect x="{x1}" y="{ry}" width="10" height="10" fill="{c1}"/><text x="{t1}" y="{ly}" class="legend">{b}</text></svg>"#,
        ry = ly - 9.0,
        c0 = PALETTE[0],
        c1 = PALETTE[1],
        t0 = left + 13.0,
        x1 = left + 110.0,
        t1 = left + 123.0,
        a = escape(a.0),
        b = escape(b.0)
    );
    out
}
