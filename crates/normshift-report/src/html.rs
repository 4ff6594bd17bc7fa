//! The drift report as one self-contained HTML file.

use crate::escape;
use crate::plot::{bar_pairs, histogram_overlay, line_chart, Chart, Marker, Series};
use normshift::drift::{DriftReport, FeatureDrift};
use std::fmt::Write;

const STYLE: &str = r#"
:root { --ref: #3b6fb6; --cur: #e07b28; --bad: #b3261e; --ok: #2e7d32; --muted: #666; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto; max-width: 1100px; padding: 24px; color: #1d1d1f; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 19px; margin: 28px 0 8px; }
.verdict { font-size: 20px; font-weight: 700; padding: 10px 14px; border-radius: 6px; display: inline-block; margin: 8px 0; }
.verdict.drift { background: #fde8e6; color: var(--bad); } .verdict.clean { background: #e6f4ea; color: var(--ok); }
.meta { color: var(--muted); } .meta td { padding: 1px 12px 1px 0; }
table.features { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
table.features th, table.features td { padding: 5px 8px; border-bottom: 1px solid #ddd; text-align: right; }
table.features th:first-child, table.features td:first-child, table.features td.text, table.features th.text { text-align: left; }
table.features th { cursor: pointer; user-select: none; background: #f6f6f6; position: sticky; top: 0; }
table.features th[aria-sort]::after { content: " ▾"; } table.features th[aria-sort="ascending"]::after { content: " ▴"; }
.badge { font-weight: 700; font-size: 12px; padding: 1px 6px; border-radius: 4px; }
.badge.drift { background: var(--bad); color: #fff; } .badge.ok { background: #e6f4ea; color: var(--ok); }
details.feature { border: 1px solid #ddd; border-radius: 6px; margin: 10px 0; padding: 0 12px; }
details.feature > summary { cursor: pointer; padding: 10px 0; font-weight: 600; }
details.feature > summary .reasons { font-weight: 400; color: var(--muted); margin-left: 8px; }
.plots { display: flex; flex-wrap: wrap; gap: 12px; } .stats { font-size: 13px; color: #333; margin: 6px 0 12px; }
.stats td { padding: 1px 14px 1px 0; } .new { color: var(--bad); font-weight: 600; }
svg.chart { background: #fff; } .chart-title { font: 600 13px system-ui, sans-serif; }
.tick-label, .legend, .bar-label, .marker-label { font: 11px system-ui, sans-serif; fill: #333; } .flagged { fill: var(--bad); font-weight: 700; }
.axis-label { font: 11px system-ui, sans-serif; fill: #555; } .axis { stroke: #444; } .tick { stroke: #444; } .grid { stroke: #eee; }
footer { margin-top: 32px; color: var(--muted); font-size: 13px; }
@media print { body { max-width: none; padding: 0; } details.feature { break-inside: avoid; } table.features th { position: static; } }
"#;

/// Sorting the feature table and opening every feature for print; no network, no libraries.
/// `byKey` orders two cells' `data-v` keys: numbers as numbers, text as text, and an empty key
/// (a cell without a value, shown as `–`) last in both directions.
const SCRIPT: &str = r#"
function byKey(x, y, asc) {
  if (x === '' || y === '') { return (x === '') - (y === ''); }
  var nx = parseFloat(x), ny = parseFloat(y);
  var c = (isNaN(nx) || isNaN(ny)) ? String(x).localeCompare(String(y)) : nx - ny;
  return asc ? c : -c;
}
(function () {
  var table = document.getElementById('features');
  if (table) {
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (th, col) {
      th.addEventListener('click', function () {
        var asc = th.getAttribute('aria-sort') === 'descending';
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
        var rows = Array.prototype.slice.call(table.tBodies[0].rows);
        rows.sort(function (a, b) {
          return byKey(a.cells[col].getAttribute('data-v'), b.cells[col].getAttribute('data-v'), asc);
        });
        rows.forEach(function (r) { table.tBodies[0].appendChild(r); });
      });
    });
  }
  window.addEventListener('beforeprint', function () {
    document.querySelectorAll('details').forEach(function (d) { d.open = true; });
  });
})();
"#;

fn num(v: Option<f64>, digits: usize) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{v:.digits$}"),
        Some(v) if v.is_infinite() => "∞".into(),
        _ => "–".into(),
    }
}

fn p_value(v: Option<f64>) -> String {
    match v {
        Some(v) if v.is_nan() => "–".into(),
        Some(v) if v < 1e-4 => format!("{v:.1e}"),
        Some(v) => format!("{v:.4}"),
        None => "–".into(),
    }
}

/// A `<td>` whose sort key is `key` and text `text`. A cell without a value (no key, or NaN)
/// has an empty key, which the script sorts last in both directions; infinities sort as
/// ±1e308.
fn cell(out: &mut String, key: Option<f64>, text: &str) {
    let k = match key {
        Some(v) if v.is_nan() => String::new(),
        Some(v) if v.is_infinite() => if v > 0.0 { "1e308" } else { "-1e308" }.to_string(),
        Some(v) => v.to_string(),
        None => String::new(),
    };
    let _ = write!(out, r#"<td data-v="{k}">{}</td>"#, escape(text));
}

/// The largest error bound of a sketch-based KS statistic in `report`: a shift whose D is
/// below it cannot be seen. 0 when no test is sketch-based.
fn sketch_error(report: &DriftReport) -> f64 {
    report
        .features
        .iter()
        .flat_map(|f| &f.tests)
        .filter_map(|t| t.statistic_error)
        .fold(0.0, f64::max)
}

fn main_test(f: &FeatureDrift) -> Option<&normshift::drift::TestOutcome> {
    f.tests
        .iter()
        .find(|t| t.name == "ks" || t.name == "chi_square")
}

fn feature_row(out: &mut String, f: &FeatureDrift) {
    let e = &f.effect_sizes;
    let effect = e.wasserstein_std.or(e.total_variation);
    let _ = write!(
        out,
        r##"<tr><td data-v="{n}" class="text"><a href="#f-{id}">{n}</a></td><td data-v="{k}" class="text">{k}</td><td data-v="{d}" class="text"><span class="badge {cls}">{label}</span></td>"##,
        n = escape(&f.name),
        id = anchor(&f.name),
        k = f.kind,
        d = u8::from(f.drift),
        cls = if f.drift { "drift" } else { "ok" },
        label = if f.drift { "DRIFT" } else { "ok" }
    );
    cell(out, Some(f.severity), &num(Some(f.severity), 2));
    let adjusted = main_test(f).map(|t| t.p_value_adjusted);
    cell(out, adjusted, &p_value(adjusted));
    cell(out, effect, &num(effect, 3));
    cell(
        out,
        e.standardized_mean_difference,
        &num(e.standardized_mean_difference, 3),
    );
    cell(out, e.psi, &num(e.psi, 3));
    cell(out, e.js_divergence, &num(e.js_divergence, 3));
    cell(
        out,
        Some(e.missing_rate_change * 100.0),
        &format!("{:+.1}", e.missing_rate_change * 100.0),
    );
    out.push_str("</tr>");
}

/// A fragment id for a feature, distinct for distinct names (`a b`, `a_b` and `a-b` once all
/// became `a_b`): ASCII letters and digits stay, every other byte becomes `_` and two hex digits.
fn anchor(name: &str) -> String {
    let mut id = String::with_capacity(name.len());
    for &b in name.as_bytes() {
        if b.is_ascii_alphanumeric() {
            id.push(char::from(b));
        } else {
            let _ = write!(id, "_{b:02x}");
        }
    }
    id
}

fn feature_detail(out: &mut String, f: &FeatureDrift) {
    let _ = write!(
        out,
        r#"<details class="feature" id="f-{}"{}><summary>{} <span class="badge {}">{}</span><span class="reasons">{}</span></summary>"#,
        anchor(&f.name),
        if f.drift { " open" } else { "" },
        escape(&f.name),
        if f.drift { "drift" } else { "ok" },
        if f.drift { "DRIFT" } else { "ok" },
        escape(&f.reasons.join("; "))
    );
    out.push_str(r#"<div class="plots">"#);
    let (r, c) = (&f.reference, &f.current);
    if let Some(d) = &f.distribution {
        let mut markers = Vec::new();
        for (side, color, name) in [(r, 0usize, "reference"), (c, 1, "current")] {
            if let (Some(m), Some(s)) = (side.mean, side.std) {
                markers.push(Marker::VLine {
                    x: m,
                    label: format!("{name} mean {m:.4}"),
                    color,
                    dashed: false,
                });
                for x in [m - s, m + s] {
                    markers.push(Marker::VLine {
                        x,
                        label: format!("{name} mean ± 1 sd"),
                        color,
                        dashed: true,
                    });
                }
            }
        }
        out.push_str(&histogram_overlay(
            &Chart::new("Share per bin; means solid, ±1 sd dashed", &f.name, "share"),
            &d.edges,
            &[
                ("reference", &d.reference_hist, 0),
                ("current", &d.current_hist, 1),
            ],
            &markers,
        ));
        let i = d.ecdf_x.iter().position(|&x| x == d.ks_at).unwrap_or(0);
        let ks = main_test(f).map_or(f64::NAN, |t| t.statistic);
        out.push_str(&line_chart(
            &Chart::new(
                "Empirical CDFs; black bar = KS distance D",
                &f.name,
                "share ≤ x",
            ),
            &[
                Series::new("reference", &d.ecdf_x, &d.reference_ecdf, 0),
                Series::new("current", &d.ecdf_x, &d.current_ecdf, 1),
            ],
            &[Marker::Gap {
                x: d.ks_at,
                y0: d.reference_ecdf[i],
                y1: d.current_ecdf[i],
                label: format!("D = {ks:.3}"),
            }],
        ));
    }
    if let (Some(rs), Some(cs)) = (&r.shares, &c.shares) {
        let mut labels: Vec<String> = rs.keys().chain(cs.keys()).cloned().collect();
        labels.sort();
        labels.dedup();
        // Largest shares first, at most 25 categories drawn.
        labels.sort_by(|a, b| {
            let v = |k: &String| {
                rs.get(k)
                    .copied()
                    .unwrap_or(0.0)
                    .max(cs.get(k).copied().unwrap_or(0.0))
            };
            v(b).total_cmp(&v(a))
        });
        labels.truncate(25);
        let a: Vec<f64> = labels
            .iter()
            .map(|l| rs.get(l).copied().unwrap_or(0.0))
            .collect();
        let b: Vec<f64> = labels
            .iter()
            .map(|l| cs.get(l).copied().unwrap_or(0.0))
            .collect();
        let flags: Vec<&str> = labels
            .iter()
            .map(|l| {
                if f.unseen_categories.contains(l) {
                    "new"
                } else if f.vanished_categories.contains(l) {
                    "vanished"
                } else {
                    ""
                }
            })
            .collect();
        out.push_str(&bar_pairs(
            "Category shares",
            &labels,
            ("reference", &a),
            ("current", &b),
            &flags,
        ));
    }
    out.push_str("</div>");
    let e = &f.effect_sizes;
    out.push_str(r#"<table class="stats">"#);
    let _ = write!(
        out,
        "<tr><td></td><td><b>reference</b></td><td><b>current</b></td></tr>"
    );
    let _ = write!(
        out,
        "<tr><td>values</td><td>{}</td><td>{}</td></tr>",
        r.count, c.count
    );
    let _ = write!(
        out,
        "<tr><td>missing</td><td>{:.2}%</td><td>{:.2}%</td></tr>",
        r.missing_rate * 100.0,
        c.missing_rate * 100.0
    );
    if r.mean.is_some() || c.mean.is_some() {
        let _ = write!(out, "<tr><td>mean</td><td>{}</td><td>{}</td></tr><tr><td>std</td><td>{}</td><td>{}</td></tr>", num(r.mean, 4), num(c.mean, 4), num(r.std, 4), num(c.std, 4));
    }
    out.push_str("</table><table class=\"stats\">");
    for t in &f.tests {
        let _ = write!(
            out,
            "<tr><td>{} ({})</td><td>statistic {}</td><td>p {}</td><td>adjusted p {}</td></tr>",
            t.name,
            t.method,
            num(Some(t.statistic), 4),
            p_value(Some(t.p_value)),
            p_value(Some(t.p_value_adjusted))
        );
    }
    let _ = write!(out, "<tr><td>effect sizes</td><td colspan=\"3\">mean shift {} σ · variance ratio {} · W1 {} ({} σ) · PSI {} · JS {} · total variation {}</td></tr>",
        num(e.standardized_mean_difference, 3), num(e.variance_ratio, 3), num(e.wasserstein, 4), num(e.wasserstein_std, 3), num(e.psi, 3), num(e.js_divergence, 3), num(e.total_variation, 3));
    if !f.unseen_categories.is_empty() {
        let _ = write!(
            out,
            r#"<tr><td>new categories</td><td colspan="3" class="new">{}</td></tr>"#,
            escape(&f.unseen_categories.join(", "))
        );
    }
    for note in &f.notes {
        let _ = write!(
            out,
            r#"<tr><td>note</td><td colspan="3">{}</td></tr>"#,
            escape(note)
        );
    }
    if !f.vanished_categories.is_empty() {
        let _ = write!(
            out,
            r#"<tr><td>vanished categories</td><td colspan="3" class="new">{}</td></tr>"#,
            escape(&f.vanished_categories.join(", "))
        );
    }
    out.push_str("</table></details>");
}

/// Renders `report` as a self-contained HTML page (inline CSS, SVG and script; no network).
pub fn drift_html(report: &DriftReport) -> String {
    let r = report;
    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>normshift drift report</title><style>{STYLE}</style></head><body>"#
    );
    let _ = write!(out, "<h1>Drift report</h1>");
    let (cls, verdict) = if r.dataset_drift {
        ("drift", "DRIFT")
    } else {
        ("clean", "No drift")
    };
    let _ = write!(
        out,
        r#"<div class="verdict {cls}" id="verdict">{verdict}: {} of {} features drifted</div>"#,
        r.features_drifted, r.features_compared
    );
    let s = &r.settings;
    let _ = write!(
        out,
        r#"<table class="meta"><tr><td>reference</td><td>{}</td><td>{} rows</td></tr><tr><td>current</td><td>{}</td><td>{} rows</td></tr><tr><td>tests</td><td colspan="2">{}</td></tr><tr><td>rule</td><td colspan="2">{}</td></tr><tr><td>a feature drifts when</td><td colspan="2">its test is significant at {} after {:?} correction and W1 ≥ {} reference sd (numeric) or total variation ≥ {} (categorical); a missing or non-finite rate change counts from {} points</td></tr></table>"#,
        escape(&r.reference.source),
        r.reference.rows,
        escape(&r.current.source),
        r.current.rows,
        if r.mode == "exact" {
            "exact (raw data on both sides)"
        } else {
            "from quantile sketches (reference is a profile)"
        },
        escape(&r.rule),
        s.alpha,
        s.correction,
        s.min_wasserstein_std,
        s.min_total_variation,
        s.min_rate_change * 100.0
    );
    let error = sketch_error(r);
    if error > 0.0 {
        // The caveat the terminal view prints: what a sketch cannot see.
        let _ = write!(
            out,
            r#"<p class="meta" id="sketch-caveat">Sketch tests: D is known to ±{error:.3} and p allows for it, so a shift with D below that cannot be seen; compare two data files for exact tests.</p>"#
        );
    }
    for (what, names) in [
        ("Columns only in the reference", &r.schema.only_in_reference),
        (
            "Columns only in the current data",
            &r.schema.only_in_current,
        ),
        ("Columns whose kind changed", &r.schema.kind_changed),
    ] {
        if !names.is_empty() {
            let _ = write!(
                out,
                r#"<p class="new">{what}: {}</p>"#,
                escape(&names.join(", "))
            );
        }
    }
    out.push_str(r#"<h2>Features</h2><p class="meta">Click a column to sort. Effect: W1 in reference standard deviations (numeric) or total variation (categorical); severity is the largest effect relative to its threshold.</p><table class="features" id="features"><thead><tr><th class="text">feature</th><th class="text">kind</th><th class="text">verdict</th><th aria-sort="descending">severity</th><th>adjusted p</th><th>effect</th><th>mean shift (sd)</th><th>PSI</th><th>JS</th><th>missing Δ (pts)</th></tr></thead><tbody>"#);
    for f in &r.features {
        feature_row(&mut out, f);
    }
    out.push_str("</tbody></table>");
    let (drifted, rest): (Vec<&FeatureDrift>, Vec<&FeatureDrift>) =
        r.features.iter().partition(|f| f.drift);
    if !drifted.is_empty() {
        out.push_str("<h2>Drifted features</h2>");
        for f in drifted {
            feature_detail(&mut out, f);
        }
    }
    if !rest.is_empty() {
        let _ = write!(out, "<h2>Features without drift ({})</h2>", rest.len());
        for f in rest {
            feature_detail(&mut out, f);
        }
    }
    let _ = write!(
        out,
        r#"<footer>Generated by normshift {}. Self-contained: this file makes no network requests.</footer><script>{SCRIPT}</script></body></html>"#,
        env!("CARGO_PKG_VERSION")
    );
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::anchor;

    #[test]
    fn anchors_differ_when_names_differ() {
        let names = ["a b", "a_b", "a-b", "ab", "a__b", "é", "<x>", ""];
        let ids: std::collections::HashSet<String> = names.iter().map(|n| anchor(n)).collect();
        assert_eq!(ids.len(), names.len(), "{ids:?}");
        assert_eq!(anchor("a b"), "a_20b");
        assert!(ids
            .iter()
            .all(|id| id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')));
    }
}
