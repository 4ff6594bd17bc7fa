//! The HTML report: content, self-containment, escaping.

use normshift::drift::{compare, ColumnData, DriftOptions, Side};
use normshift::profile::ColumnBuilder;
use normshift_report::{drift_html, plot};

fn side(name: &str, values: &[f64], labels: &[Option<&str>]) -> Side {
    let mut x = ColumnBuilder::numeric_exact(name);
    x.add_numeric(values, None).unwrap();
    let (profile, sorted) = x.finish_with_values();
    let mut c = ColumnBuilder::categorical("<script>alert(1)</script>");
    c.add_categorical(labels).unwrap();
    Side {
        source: "a & b.csv".into(),
        rows: values.len() as u64,
        columns: vec![
            ColumnData { profile, sorted },
            ColumnData {
                profile: c.finish(),
                sorted: None,
            },
        ],
    }
}

fn report() -> String {
    let a: Vec<f64> = (0..300).map(|i| (i % 50) as f64).collect();
    let b: Vec<f64> = (0..300).map(|i| (i % 50) as f64 + 20.0).collect();
    let la: Vec<Option<&str>> = (0..300).map(|i| Some(["x", "y"][i % 2])).collect();
    let lb: Vec<Option<&str>> = (0..300).map(|i| Some(["x", "z"][i % 2])).collect();
    let options = DriftOptions {
        plot_data: true,
        ..DriftOptions::default()
    };
    drift_html(&compare(
        &side("size", &a, &la),
        &side("size", &b, &lb),
        &options,
    ))
}

#[test]
fn report_has_the_verdict_features_and_plots() {
    let html = report();
    assert!(html.starts_with("<!doctype html>"));
    assert!(html.contains(
        r#"<div class="verdict drift" id="verdict">DRIFT: 2 of 2 features drifted</div>"#
    ));
    assert!(html.contains(r#"id="f-size""#));
    // A histogram, an ECDF with the KS gap, and category bars with the new one flagged.
    assert!(html.contains("Share per bin; means solid, ±1 sd dashed"));
    assert!(html.contains("Empirical CDFs; black bar = KS distance D"));
    assert!(
        html.contains("D = 0.400"),
        "KS D of a 20-unit shift on 0..49"
    );
    assert!(html.contains("z (new)") && html.contains("y (vanished)"));
}

#[test]
fn report_is_self_contained() {
    let html = report();
    for forbidden in [
        "<link",
        "src=\"http",
        "src='http",
        "@import",
        "url(http",
        "fetch(",
        "XMLHttpRequest",
    ] {
        assert!(!html.contains(forbidden), "found {forbidden}");
    }
    // The only URLs are SVG namespace identifiers, which browsers never fetch.
    let urls = html.matches("http").count();
    assert_eq!(
        urls,
        html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count()
    );
}

#[test]
fn hostile_names_are_escaped() {
    let html = report();
    assert!(!html.contains("<script>alert(1)</script>"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("a &amp; b.csv"));
    assert_eq!(
        html.matches("<script>").count(),
        1,
        "only the report's own script"
    );
}

#[test]
fn ticks_are_round_and_cover_the_range() {
    assert_eq!(
        plot::ticks(0.0, 1.0, 5),
        [0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]
    );
    assert_eq!(
        plot::ticks(1500.0, 1900.0, 4),
        [1500.0, 1600.0, 1700.0, 1800.0, 1900.0]
    );
    assert_eq!(plot::ticks(-3.7, 12.2, 5), [-2.5, 0.0, 2.5, 5.0, 7.5, 10.0]);
    assert_eq!(plot::ticks(5.0, 5.0, 5), [5.0]);
}
