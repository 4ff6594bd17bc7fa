//! Self-contained HTML reports and the SVG plots in them.
//!
//! [`plot`] draws line charts, overlaid histograms and paired bar charts as inline SVG
//! strings (no JavaScript, no external files); [`drift_html`] renders a
//! [`DriftReport`](normshift::drift::DriftReport) as one HTML file that opens offline in any
//! browser and prints.
//!
//! ```
//! use normshift_report::plot::{line_chart, Chart, Series};
//! let svg = line_chart(&Chart::new("loss", "step", "loss"), &[Series::new("train", &[0.0, 1.0, 2.0], &[1.0, 0.5, 0.2], 0)], &[]);
//! assert!(svg.starts_with("<svg"));
//! ```
#![deny(missing_docs)]

mod html;
pub mod plot;

pub use html::drift_html;

/// Escapes text for HTML and SVG.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
