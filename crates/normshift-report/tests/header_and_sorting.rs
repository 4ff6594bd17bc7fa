//! The report's header says what sketch tests cannot see, and its feature table sorts cells
//! without a value last.

use normshift::drift::{compare, ColumnData, DriftOptions, Side};
use normshift::profile::ColumnBuilder;
use normshift_report::drift_html;
use std::process::Command;

/// A numeric column `x` (kept exactly, or sketched) and a column `empty` that has values
/// on the reference side only, so it cannot be tested.
fn side(values: &[f64], exact: bool, empty_has_values: bool) -> Side {
    let mut x = if exact {
        ColumnBuilder::numeric_exact("x")
    } else {
        ColumnBuilder::numeric("x", 200)
    };
    x.add_numeric(values, None).unwrap();
    let (profile, sorted) = x.finish_with_values();
    let mut e = ColumnBuilder::numeric_exact("empty");
    let valid = vec![empty_has_values; values.len()];
    e.add_numeric(values, Some(&valid)).unwrap();
    let (empty, empty_sorted) = e.finish_with_values();
    Side {
        source: "data.csv".into(),
        rows: values.len() as u64,
        columns: vec![
            ColumnData { profile, sorted },
            ColumnData {
                profile: empty,
                sorted: empty_sorted,
            },
        ],
    }
}

fn report(exact_reference: bool) -> String {
    let a: Vec<f64> = (0..2000).map(|i| (i % 100) as f64).collect();
    let b: Vec<f64> = (0..2000).map(|i| (i % 100) as f64 + 30.0).collect();
    drift_html(&compare(
        &side(&a, exact_reference, true),
        &side(&b, true, false),
        &DriftOptions::default(),
    ))
}

#[test]
fn a_sketch_report_states_what_the_sketch_cannot_see() {
    let html = report(false);
    let start = html
        .find(r#"<p class="meta" id="sketch-caveat">Sketch tests: D is known to ±"#)
        .expect("the sketch caveat in the header");
    let caveat = &html[start..start + html[start..].find("</p>").unwrap()];
    assert!(
        caveat.contains("so a shift with D below that cannot be seen"),
        "{caveat}"
    );
    // In the header: before the feature table.
    assert!(start < html.find(r#"id="features""#).unwrap());
    assert!(!report(true).contains("sketch-caveat"));
}

#[test]
fn cells_without_a_value_have_an_empty_sort_key() {
    let html = report(true);
    let row = html
        .split("<tr>")
        .find(|r| r.contains(r##"href="#f-empty""##))
        .expect("a row for the untested feature");
    // Its adjusted p, shown as –, must not sort as a number (it was -1e308, above every p).
    assert!(row.contains(r#"<td data-v="">–</td>"#), "{row}");
    assert!(!row.contains("1e308"), "{row}");
}

/// The table's own comparator, run in Node.js (which `.ci/run` installs when a machine lacks
/// it; the test fails without it rather than pass unchecked): keys without a value come last
/// whether the column is sorted up or down.
#[test]
fn sorting_puts_cells_without_a_value_last_in_both_directions() {
    let html = report(true);
    let script =
        &html[html.find("<script>").unwrap() + "<script>".len()..html.find("</script>").unwrap()];
    let program = format!(
        "var document = {{ getElementById: function () {{ return null; }}, querySelectorAll: function () {{ return []; }} }};\n\
         var window = {{ addEventListener: function () {{}} }};\n\
         {script}\n\
         var keys = ['0.5', '', '0.01', '1e308', '-1e308', '', '7e-9'];\n\
         console.log(JSON.stringify(keys.slice().sort(function (a, b) {{ return byKey(a, b, true); }})));\n\
         console.log(JSON.stringify(keys.slice().sort(function (a, b) {{ return byKey(a, b, false); }})));\n"
    );
    let out = Command::new("node")
        .arg("-e")
        .arg(&program)
        .output()
        .expect(
            "this test runs the report's script in Node.js: install it (apt-get install nodejs)",
        );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text,
        "[\"-1e308\",\"7e-9\",\"0.01\",\"0.5\",\"1e308\",\"\",\"\"]\n\
         [\"1e308\",\"0.5\",\"0.01\",\"7e-9\",\"-1e308\",\"\",\"\"]\n"
    );
}
