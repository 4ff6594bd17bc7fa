//! Multiple-testing corrections with `statsmodels.stats.multitest.multipletests` semantics.

/// A multiple-testing correction across features.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Correction {
    /// No adjustment: the raw p-values.
    None,
    /// Bonferroni: `min(1, m · p)`. Controls the family-wise error rate under any dependence.
    Bonferroni,
    /// Holm's step-down: sorted ascending, `max_{j <= i} (m - j) · p_(j)`, clipped to 1.
    /// Controls the family-wise error rate like Bonferroni and is never less powerful.
    Holm,
    /// Benjamini–Hochberg step-up: sorted ascending, `min_{j >= i} m · p_(j) / j`, clipped to
    /// 1. Controls the false discovery rate (independent or positively dependent tests).
    BenjaminiHochberg,
}

/// Adjusted p-values in the input order, as `multipletests(p, method=…)[1]` (`bonferroni`,
/// `holm`, `fdr_bh`), each clipped to 1.
///
/// NaN entries stay NaN and do not count in the family size `m` (statsmodels has no NaN
/// policy; dropping them is what a caller would do first).
pub fn adjust_p_values(p: &[f64], correction: Correction) -> Vec<f64> {
    let mut out = p.to_vec();
    let mut order: Vec<usize> = (0..p.len()).filter(|&i| !p[i].is_nan()).collect();
    let m = order.len();
    if m == 0 {
        return out;
    }
    let mf = m as f64;
    match correction {
        Correction::None => {}
        Correction::Bonferroni => {
            for &i in &order {
                out[i] = (p[i] * mf).min(1.0);
            }
        }
        Correction::Holm => {
            order.sort_by(|&x, &y| p[x].total_cmp(&p[y]));
            let mut running = f64::NEG_INFINITY;
            for (rank, &i) in order.iter().enumerate() {
                running = running.max(p[i] * (m - rank) as f64);
                out[i] = running.min(1.0);
            }
        }
        Correction::BenjaminiHochberg => {
            order.sort_by(|&x, &y| p[x].total_cmp(&p[y]));
            let mut running = f64::INFINITY;
            for (rank, &i) in order.iter().enumerate().rev() {
                let factor = (rank + 1) as f64 / mf;
                running = running.min(p[i] / factor);
                out[i] = running.min(1.0);
            }
        }
    }
    out
}
