//! Compares normshift-stats against scipy / statsmodels golden values.
//!
//! The values come from `tests/golden/scipy_stats.py` at the repository root (versions and
//! seed recorded at the top of `tests/golden/scipy_stats.json`).

use normshift_stats::kolmogorov::kstwo_sf;
use normshift_stats::special::chi2_sf;
use normshift_stats::{
    adjust_p_values, chi_square_2xk, ks_2samp_sorted, ks_p_value, two_proportion_z,
    wasserstein_1_sorted, wasserstein_1_weighted, Correction, KsMode, Method,
};
use serde_json::Value;

/// Statistics: relative tolerance. They are short sums/ratios of exact integers or a merge
/// over the same values scipy uses, so only summation order differs.
const STAT_RTOL: f64 = 1e-12;
/// p-values: relative tolerance.
const P_RTOL: f64 = 1e-10;
/// p-values: absolute floor. Several branches (scipy's and ours) compute a p-value as
/// `1 - CDF`, which carries an absolute error of a few ulps of 1 (~1e-16) whatever its size;
/// 1e-14 keeps a factor of ~50 above that and is far below any decision threshold.
const P_ATOL: f64 = 1e-14;

fn golden() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/golden/scipy_stats.json"
    );
    let text = std::fs::read_to_string(path).expect("golden file present");
    serde_json::from_str(&text).expect("golden file is JSON")
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

fn sorted(v: &Value) -> Vec<f64> {
    let mut x = floats(v);
    x.sort_by(f64::total_cmp);
    x
}

#[track_caller]
fn assert_close(what: &str, got: f64, want: f64, rtol: f64, atol: f64) {
    let ok = (got.is_nan() && want.is_nan()) || (got - want).abs() <= rtol * want.abs() + atol;
    assert!(
        ok,
        "{what}: got {got:e}, scipy {want:e} (diff {:e})",
        got - want
    );
}

fn mode(name: &str) -> KsMode {
    match name {
        "auto" => KsMode::Auto,
        "exact" => KsMode::Exact,
        "asymp" => KsMode::Asymptotic,
        other => panic!("unknown method {other}"),
    }
}

#[test]
fn ks_2samp_matches_scipy() {
    let g = golden();
    let cases = g["ks"].as_array().unwrap();
    assert!(cases.len() > 100);
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let (a, b) = (sorted(&c["a"]), sorted(&c["b"]));
        let r = ks_2samp_sorted(&a, &b, mode(c["method"].as_str().unwrap()));
        let want_d = c["statistic"].as_f64().unwrap_or(f64::NAN);
        assert_close(name, r.statistic, want_d, STAT_RTOL, 0.0);
        assert_close(
            name,
            r.p_value,
            c["pvalue"].as_f64().unwrap_or(f64::NAN),
            P_RTOL,
            P_ATOL,
        );
        // Swapping the samples changes nothing in a two-sided test.
        let s = ks_2samp_sorted(&b, &a, mode(c["method"].as_str().unwrap()));
        assert_eq!(s.statistic, r.statistic, "{name} swapped");
        assert_close(name, s.p_value, r.p_value, 1e-13, 1e-15);
        if c["method"] == "asymp" {
            assert_eq!(r.method, Method::Asymptotic, "{name}");
        }
        if c["method"] == "auto" && a.len().max(b.len()) > 10_000 {
            assert_eq!(r.method, Method::Asymptotic, "{name}");
        }
    }
}

#[test]
fn ks_exact_distribution_matches_scipy() {
    let g = golden();
    let cases = g["ks_exact_grid"].as_array().unwrap();
    for c in cases {
        let (n, m) = (c["n"].as_u64().unwrap(), c["m"].as_u64().unwrap());
        let d = c["d"].as_f64().unwrap_or(f64::NAN);
        let (p, method) = ks_p_value(d, n, m, KsMode::Exact);
        assert_eq!(method, Method::Exact, "n={n} m={m} d={d}");
        let what = format!("exact n={n} m={m} d={d}");
        assert_close(
            &what,
            p,
            c["pvalue"].as_f64().unwrap_or(f64::NAN),
            P_RTOL,
            P_ATOL,
        );
    }
}

#[test]
fn kstwo_matches_scipy() {
    let g = golden();
    for c in g["kstwo"].as_array().unwrap() {
        let (n, d) = (
            c["n"].as_f64().unwrap_or(f64::NAN),
            c["d"].as_f64().unwrap_or(f64::NAN),
        );
        let want = c["sf"].as_f64().unwrap_or(f64::NAN);
        assert_close(
            &format!("kstwo n={n} d={d}"),
            kstwo_sf(d, n),
            want,
            P_RTOL,
            P_ATOL,
        );
    }
}

#[test]
fn wasserstein_matches_scipy() {
    let g = golden();
    for c in g["wasserstein"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let want = c["distance"].as_f64().unwrap_or(f64::NAN);
        let got = if c["a_weights"].is_null() {
            wasserstein_1_sorted(&sorted(&c["a"]), &sorted(&c["b"]))
        } else {
            let sort_with = |x: &Value, w: &Value| {
                let mut pairs: Vec<(f64, f64)> = floats(x).into_iter().zip(floats(w)).collect();
                pairs.sort_by(|p, q| p.0.total_cmp(&q.0));
                pairs.into_iter().unzip::<f64, f64, Vec<f64>, Vec<f64>>()
            };
            let (a, wa) = sort_with(&c["a"], &c["a_weights"]);
            let (b, wb) = sort_with(&c["b"], &c["b_weights"]);
            wasserstein_1_weighted(&a, &wa, &b, &wb)
        };
        assert_close(name, got, want, STAT_RTOL, 0.0);
    }
}

#[test]
fn chi2_contingency_matches_scipy() {
    let g = golden();
    for c in g["chi2_contingency"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let r = chi_square_2xk(&floats(&c["a"]), &floats(&c["b"]));
        assert_close(
            name,
            r.statistic,
            c["statistic"].as_f64().unwrap_or(f64::NAN),
            STAT_RTOL,
            0.0,
        );
        assert_close(
            name,
            r.p_value,
            c["pvalue"].as_f64().unwrap_or(f64::NAN),
            P_RTOL,
            1e-300,
        );
    }
    for c in g["chi2_sf"].as_array().unwrap() {
        let (x, dof) = (
            c["x"].as_f64().unwrap_or(f64::NAN),
            c["dof"].as_f64().unwrap_or(f64::NAN),
        );
        let what = format!("chi2.sf({x}, {dof})");
        assert_close(
            &what,
            chi2_sf(x, dof),
            c["sf"].as_f64().unwrap_or(f64::NAN),
            P_RTOL,
            P_ATOL,
        );
    }
}

#[test]
fn multipletests_matches_statsmodels() {
    let g = golden();
    for c in g["multipletests"].as_array().unwrap() {
        let p = floats(&c["p"]);
        for (key, correction) in [
            ("bonferroni", Correction::Bonferroni),
            ("holm", Correction::Holm),
            ("fdr_bh", Correction::BenjaminiHochberg),
        ] {
            let got = adjust_p_values(&p, correction);
            for (g, w) in got.iter().zip(floats(&c[key])) {
                assert_close(key, *g, w, 1e-15, 0.0);
            }
        }
        assert_eq!(adjust_p_values(&p, Correction::None), p);
    }
}

#[test]
fn proportions_ztest_matches_statsmodels() {
    let g = golden();
    for c in g["proportions_ztest"].as_array().unwrap() {
        let [x1, n1, x2, n2] = ["x1", "n1", "x2", "n2"].map(|k| c[k].as_u64().unwrap());
        let r = two_proportion_z(x1, n1, x2, n2);
        let what = format!("z-test {x1}/{n1} vs {x2}/{n2}");
        assert_close(
            &what,
            r.statistic,
            c["statistic"].as_f64().unwrap_or(f64::NAN),
            STAT_RTOL,
            0.0,
        );
        assert_close(
            &what,
            r.p_value,
            c["pvalue"].as_f64().unwrap_or(f64::NAN),
            P_RTOL,
            1e-300,
        );
    }
}
