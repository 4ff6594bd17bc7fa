//! The binary's wording and number formats, black-box: what `explain` shows for small and huge
//! numbers, messages that name the value or column at fault, help texts that say what is
//! accepted, option values checked with their range, and counts written for people.

mod common;

use common::*;

/// Every `x̂ = (x - mean) / sd = r` line of an `explain` output, as the four numbers shown.
fn normalize_lines(text: &str) -> Vec<[f64; 4]> {
    text.lines()
        .filter(|line| line.starts_with("  x = "))
        .filter_map(|line| line.split_once("x̂ = (").map(|(_, rest)| rest))
        .map(|rest| {
            let (x, rest) = rest.split_once(" - ").unwrap();
            let (m, rest) = rest.split_once(") / ").unwrap();
            let (sd, r) = rest.split_once(" = ").unwrap();
            [x, m, sd, r].map(|t| t.trim().parse::<f64>().unwrap_or_else(|_| panic!("{t}")))
        })
        .collect()
}

#[test]
fn explain_shows_arithmetic_that_adds_up_for_small_and_huge_numbers() {
    let batches: [&[&str]; 6] = [
        &["0.0001", "0.0002", "0.0003"],
        &["1e-9", "2e-9", "4e-9"],
        &["123456.789", "123456.790", "123456.792"],
        &["1e20", "3e20", "4e20"],
        &["0.01", "0.02", "0.04", "--eps", "1e-9"],
        &["1", "2", "3", "4", "5"],
    ];
    for batch in batches {
        let mut args = vec!["explain"];
        args.extend_from_slice(batch);
        let o = normshift(&args);
        assert!(o.status.success(), "{batch:?}: {}", stderr(&o));
        let text = stdout(&o);
        let lines = normalize_lines(&text);
        let values = batch.iter().take_while(|a| !a.starts_with("--")).count();
        assert_eq!(lines.len(), values, "{text}");
        let largest = lines.iter().map(|l| l[3].abs()).fold(0.0, f64::max);
        assert!(largest > 0.0, "{batch:?}: every value shown as 0\n{text}");
        for [x, m, sd, shown] in lines {
            // The numbers as printed give the result as printed, to its last digit or so.
            let computed = (x - m) / sd;
            assert!(
                (computed - shown).abs() <= 0.005 * largest,
                "{batch:?}: ({x} - {m}) / {sd} = {computed}, shown {shown}\n{text}"
            );
        }
    }
}

#[test]
fn explain_writes_small_numbers_with_significant_digits() {
    let o = normshift(&["explain", "0.0001", "0.0002", "0.0003"]);
    let text = stdout(&o);
    for line in [
        "  mean = (0.0001 + 0.0002 + 0.0003) / 3 = 0.00020000",
        "  sqrt(6.667e-9 + 0.00001) = 0.003163",
        "  x = 0.0001     x̂ = (0.0001 - 0.00020000) / 0.003163 = -0.03161",
        "  x = 0.0002     x̂ = (0.0002 - 0.00020000) / 0.003163 = 0.000",
        "Normalized: [-0.03161, 0.000, 0.03161]",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "no line {line:?} in\n{text}"
        );
    }
    let text = stdout(&normshift(&["explain", "1e20", "3e20"]));
    assert!(text.contains("/ 2 = 2.000e20"), "{text}");
    assert!(text.contains("Normalized: [-1.000, 1.000]"), "{text}");
}

#[test]
fn explain_names_the_bad_value_counting_from_one() {
    for (args, message) in [
        (&["explain", "1", "nan"][..], "the 2nd value is NaN"),
        (&["explain", "nan"], "the 1st value is NaN"),
        (
            &["explain", "1", "2", "--", "-inf"],
            "the 3rd value is -inf",
        ),
        (
            &[
                "explain", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "inf",
            ],
            "the 11th value is inf",
        ),
    ] {
        let o = normshift(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert_eq!(
            stderr(&o),
            format!("error: {message}: only finite numbers can be normalized\n"),
            "{args:?}"
        );
    }
}

#[test]
fn explain_says_what_overflows_without_speaking_of_a_layer() {
    let o = normshift(&["explain", "1e300", "-1e300"]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.starts_with("error: the variance of these values overflows f64"),
        "{e}"
    );
    assert!(e.contains("divide them by a power of ten"), "{e}");
    assert!(!e.contains("channel") && !e.contains("layer"), "{e}");
}

#[test]
fn explain_json_names_the_divisor_for_what_it_is() {
    let o = normshift(&["explain", "--json", "1", "2"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["variance"], 0.25);
    assert_eq!(v["std_with_eps"].as_f64().unwrap(), (0.25f64 + 1e-5).sqrt());
    assert!(v.get("std").is_none(), "{v}");
}

#[test]
fn merge_names_the_columns_only_one_profile_has() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let a = write(d, "a.csv", "x,y,w\n1,2,3\n4,5,6\n");
    let b = write(d, "b.csv", "x,z,w\n1,2,3\n4,5,6\n");
    let (pa, pb) = (d.join("a.json"), d.join("b.json"));
    for (data, profile) in [(&a, &pa), (&b, &pb)] {
        let o = normshift(&["fit", s(data), "-o", s(profile)]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let o = normshift(&["merge", s(&pa), s(&pb), "-o", s(&d.join("m.json"))]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains(&format!(
            "the profiles have different columns: 'y' is only in {}; 'z' is only in {}",
            s(&pa),
            s(&pb)
        )),
        "{e}"
    );
    assert!(!e.contains("\"w\""), "the full lists again: {e}");
}

#[test]
fn merging_a_profile_twice_warns_but_merges() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let a = write(d, "a.csv", "x,k\n1,u\n2,v\n");
    let b = write(d, "b.csv", "x,k\n5,u\n7,w\n");
    let (pa, pb, copy) = (d.join("a.json"), d.join("b.json"), d.join("copy.json"));
    for (data, profile) in [(&a, &pa), (&b, &pb)] {
        let o = normshift(&["fit", s(data), "-o", s(profile)]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    std::fs::copy(&pa, &copy).unwrap();
    let m = d.join("m.json");

    let o = normshift(&["merge", s(&pa), s(&pa), "-o", s(&m)]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stderr(&o),
        format!(
            "warning: {} is given more than once: its rows are counted once for each time\n",
            s(&pa)
        )
    );
    assert!(
        stdout(&o).starts_with("profile of 4 rows"),
        "{}",
        stdout(&o)
    );

    let o = normshift(&["merge", s(&pa), s(&pb), s(&copy), "-o", s(&m)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.starts_with(&format!(
            "warning: {} and {} summarize the same data (",
            s(&pa),
            s(&copy)
        )),
        "{e}"
    );
    assert_eq!(e.lines().count(), 1, "{e}");

    let o = normshift(&["merge", s(&pa), s(&pb), "-o", s(&m)]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stderr(&o), "", "distinct profiles merge without a warning");
}

#[test]
fn bench_help_lists_the_cases_it_accepts() {
    let o = normshift(&["bench", "--case", "1x2x3x4", "--quiet"]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    let known = e
        .split_once("cases: ")
        .map(|(_, list)| list.trim())
        .unwrap_or_else(|| panic!("{e}"));
    let help = stdout(&normshift(&["bench", "--help"]));
    for case in known.split(", ") {
        assert!(help.contains(case), "{case} not in\n{help}");
    }
    assert!(help.contains("no other shapes are accepted"), "{help}");
    assert!(!help.contains("a logical shape"), "{help}");
}

#[test]
fn demo_and_drift_help_say_what_they_do() {
    let help = stdout(&normshift(&["demo", "--help"]));
    assert!(help.contains("Examples:\n"), "{help}");
    assert!(!help.contains("Example:\n"), "{help}");
    assert!(help.contains("Auto MPG"), "{help}");
    assert!(help.contains("training"), "{help}");
    let short = stdout(&normshift(&["--help"]));
    let line = short
        .lines()
        .find(|l| l.trim_start().starts_with("demo"))
        .unwrap();
    assert!(line.contains("Auto MPG"), "{line}");
    let help = stdout(&normshift(&["drift", "--help"]));
    assert!(
        help.contains("Exit codes: 0 no drift, 1 drift found, 2 error, 130 interrupted."),
        "{help}"
    );
}

#[test]
fn a_tab_delimiter_can_be_named() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let tabbed = write(d, "t.csv", "a\tb\n1\t2\n3\t4\n");
    let semi = write(d, "s.csv", "a;b\n1;2\n3;4\n");
    for (data, delimiter) in [
        (&tabbed, "\\t"),
        (&tabbed, "tab"),
        (&tabbed, "TAB"),
        (&semi, ";"),
    ] {
        let o = normshift(&[
            "fit",
            s(data),
            "-o",
            s(&d.join("p.json")),
            "--delimiter",
            delimiter,
            "--json",
        ]);
        assert!(o.status.success(), "{delimiter}: {}", stderr(&o));
        let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        let names: Vec<&str> = v["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["a", "b"], "{delimiter}");
    }
    let o = normshift(&[
        "fit",
        s(&tabbed),
        "-o",
        s(&d.join("p.json")),
        "--delimiter",
        "ab",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("or `tab` or `\\t` for a tab"),
        "{}",
        stderr(&o)
    );
    let help = stdout(&normshift(&["fit", "--help"]));
    assert!(help.contains("`tab` or `\\t`"), "{help}");
}

#[test]
fn option_values_out_of_range_are_refused_with_their_range() {
    for (args, message) in [
        (
            &["drift", "a.csv", "b.csv", "--alpha", "0"][..],
            "error: --alpha is out of range: 0 (it must be greater than 0 and less than 1)\n",
        ),
        (
            &["drift", "a.csv", "b.csv", "--min-effect", "-1"],
            "error: --min-effect is out of range: -1 (it must be 0 or more)\n",
        ),
        (
            &["drift", "a.csv", "b.csv", "--dataset-share", "1.5"],
            "error: --dataset-share is out of range: 1.5 (it must be from 0 to 1)\n",
        ),
        (
            &["drift", "a.csv", "b.csv", "--bins", "-3"],
            "error: --bins is out of range: -3 (it must be a whole number, 2 or more)\n",
        ),
        (
            &["fit", "a.csv", "-o", "p.json", "--sketch-k", "-5"],
            "error: --sketch-k is out of range: -5 (it must be a whole number from 8 to 1,000,000)\n",
        ),
        (
            &["fit", "a.csv", "-o", "p.json", "--batch-rows", "0"],
            "error: --batch-rows is out of range: 0 (it must be a whole number, 1 or more)\n",
        ),
        (
            &["bench", "--threads", "-1"],
            "error: --threads is out of range: -1 (it must be a whole number, 0 or more)\n",
        ),
    ] {
        let o = normshift(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert_eq!(stderr(&o), message, "{args:?}");
    }
    // A negative value where one is meaningful is read as a value, not as an option.
    let o = normshift(&["explain", "1", "2", "--eps", "-1"]);
    assert_eq!(
        stderr(&o),
        "error: eps must be finite and greater than 0, got -1\n"
    );
}

#[test]
fn fit_writes_counts_for_people() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut text = String::from("x,k\n");
    for i in 0..1500 {
        text.push_str(&format!("{i},{}\n", if i == 0 { "only" } else { "" }));
    }
    let many = write(d, "many.csv", &text);
    let o = normshift(&["fit", s(&many), "-o", s(&d.join("m.json"))]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with("profile of 1,500 rows written to "),
        "{out}"
    );
    let k = out.lines().find(|l| l.starts_with("k ")).unwrap();
    assert!(k.contains(" 1 category ") && k.contains("1,499"), "{k}");

    let one = write(d, "one.csv", "x\n7\n");
    let o = normshift(&["fit", s(&one), "-o", s(&d.join("o.json"))]);
    assert!(
        stdout(&o).starts_with("profile of 1 row written to "),
        "{}",
        stdout(&o)
    );
}

/// `explain 1 -inf 2` failed in clap with "unexpected argument '-i'" (it takes `-inf` for
/// options); `-inf`, `-Infinity` and `-nan` now reach explain, which names the value.
#[test]
fn explain_reads_negative_infinity_and_nan_as_values() {
    for (args, value) in [
        (vec!["explain", "1", "-inf", "2"], "-inf"),
        (vec!["explain", "--gamma", "2", "1", "-Infinity"], "-inf"),
        (vec!["--json", "explain", "1", "-NaN"], "NaN"),
        (vec!["explain", "--", "1", "-inf"], "-inf"),
    ] {
        let o = normshift(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&o).contains(&format!("the 2nd value is {value}: only finite numbers")),
            "{args:?}: {}",
            stderr(&o)
        );
    }
    let o = normshift(&["explain", "1", "-3", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}
