//! The exact distribution of the two-sided one-sample Kolmogorov–Smirnov statistic `D_n`
//! (scipy's `kstwo`), used for the asymptotic two-sample p-value.
//!
//! The method choice follows Simard & L'Ecuyer (2011), as scipy's `_kolmogn` does:
//! Ruben–Gambino closed forms at the ends of the support, the Durbin matrix algorithm
//! (Marsaglia–Tsang–Wang) and the Pomeranz recursion for small `n·d²`, the Smirnov
//! (Birnbaum–Tingey) one-sided sum doubled in the upper tail, and the Pelz–Good asymptotic
//! series for large `n`.

use crate::special::{polyval, STIRLING};

/// Intermediate results are rescaled by `2^±128` to keep them in range.
const E128: i32 = 128;
const EP128: f64 = 3.402_823_669_209_385e38; // 2^128
const EM128: f64 = 2.938_735_877_055_719e-39; // 2^-128
const SQRT2PI: f64 = 2.506_628_274_631_000_7;
const LOG_2PI: f64 = 1.837_877_066_409_345_5;
const MIN_LOG: f64 = -708.0;
const PI: f64 = std::f64::consts::PI;

fn clip(p: f64) -> f64 {
    p.clamp(0.0, 1.0)
}

/// `2^e · x` (like C's `ldexp`), applied in steps so intermediate factors stay finite.
fn ldexp(mut x: f64, mut e: i32) -> f64 {
    while e > 1000 {
        x *= 2f64.powi(1000);
        e -= 1000;
    }
    while e < -1000 {
        x *= 2f64.powi(-1000);
        e += 1000;
    }
    x * 2f64.powi(e)
}

/// Survival function `P(D_n >= d)` of scipy's `kstwo` distribution with shape `n`.
///
/// `n` must be a positive integer (NaN otherwise). Like scipy, `d <= 1/(2n)` gives 1 and
/// `d >= 1` gives 0.
pub fn kstwo_sf(d: f64, n: f64) -> f64 {
    if d.is_nan() || n.is_nan() || n < 1.0 || n != n.round() || n.is_infinite() {
        return f64::NAN;
    }
    if d <= 0.5 / n {
        return 1.0;
    }
    if d >= 1.0 {
        return 0.0;
    }
    kolmogn_sf(n, d)
}

/// `ln(n! / n^n)` by Stirling's series with `n ln n` removed up front.
fn log_nfactorial_div_n_pow_n(n: f64) -> f64 {
    let rn = 1.0 / n;
    n.ln() / 2.0 - n + LOG_2PI / 2.0 + rn * polyval(&STIRLING, rn / n)
}

/// `P(D_n >= x)` for `0 < x < 1`, `n >= 1` (scipy's `_kolmogn(n, x, cdf=False)`).
fn kolmogn_sf(n: f64, x: f64) -> f64 {
    let t = n * x;
    if t <= 1.0 {
        // Ruben–Gambino: 1/(2n) <= x <= 1/n.
        if t <= 0.5 {
            return 1.0;
        }
        let prob = if n <= 140.0 {
            let mut p = 1.0;
            for i in 1..=(n as u64) {
                p *= (i as f64) * (1.0 / n) * (2.0 * t - 1.0);
            }
            p
        } else {
            (log_nfactorial_div_n_pow_n(n) + n * (2.0 * t - 1.0).ln()).exp()
        };
        return clip(1.0 - prob);
    }
    if t >= n - 1.0 {
        // Ruben–Gambino upper end.
        return clip(2.0 * (1.0 - x).powf(n));
    }
    if x >= 0.5 {
        // D+ >= x and D- >= x cannot both happen: exactly twice the one-sided tail.
        return clip(2.0 * smirnov_sf(n as u64, x));
    }
    let nxsquared = t * x;
    let ni = n as u64;
    if n <= 140.0 {
        if nxsquared <= 0.754693 {
            return clip(1.0 - durbin_matrix_cdf(ni, x));
        }
        if nxsquared <= 4.0 {
            return clip(1.0 - pomeranz_cdf(ni, x));
        }
        return clip(2.0 * smirnov_sf(ni, x));
    }
    if nxsquared >= 370.0 {
        return 0.0;
    }
    if nxsquared >= 2.2 {
        return clip(2.0 * smirnov_sf(ni, x));
    }
    let cdf = if n <= 100_000.0 && n * x.powf(1.5) <= 1.4 {
        durbin_matrix_cdf(ni, x)
    } else {
        pelz_good_cdf(n, x)
    };
    clip(1.0 - cdf)
}

/// One-sided Smirnov tail `P(D_n^+ >= x)` by the Smirnov / Birnbaum–Tingey sum
///
/// `x · Σ_{v=0}^{⌊n(1-x)⌋} C(n, v) (x + v/n)^(v-1) (1 - x - v/n)^(n-v)`,
///
/// whose terms are all positive (no cancellation). Each term is `x / e_v` times the binomial
/// probability `b(v; n, e_v)` with `e_v = x + v/n`, evaluated in log space with Loader's
/// saddle-point form (`stirlerr`, `bd0`), so each term is accurate to a few ulps even for
/// `n` in the millions (a naive running `ln C(n, v)` loses ~1e-9). Cost: `O(n(1-x))`.
pub fn smirnov_sf(n: u64, x: f64) -> f64 {
    if n == 0 || x.is_nan() || !(0.0..=1.0).contains(&x) {
        return f64::NAN;
    }
    if x == 0.0 {
        return 1.0;
    }
    if x == 1.0 {
        return 0.0;
    }
    if n == 1 {
        return 1.0 - x;
    }
    let nf = n as f64;
    let nx = nf * x;
    let last = ((nf * (1.0 - x)).floor() as u64).min(n - 1);
    // v = 0: x · x^-1 · (1 - x)^n.
    let mut sum = (nf * (-x).ln_1p()).exp();
    let log_norm = stirlerr(nf);
    for v in 1..=last {
        let vf = v as f64;
        let n_minus_v = nf - vf;
        // n·e_v and n·(1 - e_v), formed without cancellation against 1.
        let np = nx + vf;
        let nq = n_minus_v - nx;
        if nq <= 0.0 {
            continue;
        }
        let log_pmf =
            log_norm - stirlerr(vf) - stirlerr(n_minus_v) - bd0(vf, np) - bd0(n_minus_v, nq)
                + 0.5 * (nf / (2.0 * PI * vf * n_minus_v)).ln();
        // x / e_v = n x / (n x + v).
        let log_term = log_pmf + (nx / np).ln();
        if log_term > -745.0 {
            sum += log_term.exp();
        }
    }
    sum.clamp(0.0, 1.0)
}

/// `ln Γ(n + 1) - (n + ½) ln n + n - ln √(2π)`, the error of Stirling's formula for `n!`.
fn stirlerr(n: f64) -> f64 {
    const S0: f64 = 1.0 / 12.0;
    const S1: f64 = 1.0 / 360.0;
    const S2: f64 = 1.0 / 1260.0;
    const S3: f64 = 1.0 / 1680.0;
    const S4: f64 = 1.0 / 1188.0;
    if n <= 15.0 {
        return crate::special::ln_gamma(n + 1.0) - (n + 0.5) * n.ln() + n - LOG_2PI / 2.0;
    }
    let nn = n * n;
    (S0 - (S1 - (S2 - (S3 - S4 / nn) / nn) / nn) / nn) / n
}

/// `x ln(x / np) + np - x`, the deviance term, without cancellation when `x ≈ np`.
fn bd0(x: f64, np: f64) -> f64 {
    if (x - np).abs() < 0.1 * (x + np) {
        let v = (x - np) / (x + np);
        let mut s = (x - np) * v;
        let mut ej = 2.0 * x * v;
        let v2 = v * v;
        for j in 1..1000 {
            ej *= v2;
            let s1 = s + ej / f64::from(2 * j + 1);
            if s1 == s {
                return s1;
            }
            s = s1;
        }
        return s;
    }
    x * (x / np).ln() + np - x
}

/// `P(D_n <= d)` by Durbin's matrix algorithm as organised by Marsaglia, Tsang & Wang:
/// the `k`-th diagonal element of `(n!/n^n) H^n`, with `H` of size `2k-1`, `k = ⌈nd⌉`.
/// Cost `O(k³ log n)`; used only where `k` is small.
fn durbin_matrix_cdf(n: u64, d: f64) -> f64 {
    let nf = n as f64;
    if d >= 1.0 {
        return 1.0;
    }
    let nd = nf * d;
    if nd <= 0.5 {
        return 0.0;
    }
    let k = nd.ceil() as usize;
    let h = k as f64 - nd;
    let m = 2 * k - 1;
    let mut hm = vec![0.0f64; m * m];
    let mut v: Vec<f64> = (1..=m).map(|j| 1.0 - h.powi(j as i32)).collect();
    let mut w = vec![0.0f64; m];
    let mut fac = 1.0f64;
    for j in 1..=m {
        w[j - 1] = fac;
        fac /= j as f64;
        v[j - 1] *= fac;
    }
    let tt = (2.0 * h - 1.0).max(0.0).powi(m as i32) - 2.0 * h.powi(m as i32);
    v[m - 1] = (1.0 + tt) * fac;
    for i in 1..m {
        for r in (i - 1)..m {
            hm[r * m + i] = w[r - (i - 1)];
        }
    }
    for r in 0..m {
        hm[r * m] = v[r];
    }
    for c in 0..m {
        hm[(m - 1) * m + c] = v[m - 1 - c];
    }
    let mut pwr = vec![0.0f64; m * m];
    for i in 0..m {
        pwr[i * m + i] = 1.0;
    }
    let mut nn = n;
    let mut expnt: i32 = 0;
    let mut h_expnt: i32 = 0;
    let mut scratch = vec![0.0f64; m * m];
    while nn > 0 {
        if nn % 2 == 1 {
            matmul(&pwr, &hm, &mut scratch, m);
            std::mem::swap(&mut pwr, &mut scratch);
            expnt += h_expnt;
        }
        matmul(&hm, &hm, &mut scratch, m);
        std::mem::swap(&mut hm, &mut scratch);
        h_expnt *= 2;
        if hm[(k - 1) * m + (k - 1)].abs() > EP128 {
            for x in hm.iter_mut() {
                *x /= EP128;
            }
            h_expnt += E128;
        }
        nn /= 2;
    }
    let mut p = pwr[(k - 1) * m + (k - 1)];
    for i in 1..=n {
        p = (i as f64) * p / nf;
        if p.abs() < EM128 {
            p *= EP128;
            expnt -= E128;
        }
    }
    if expnt != 0 {
        p = ldexp(p, expnt);
    }
    clip(p)
}

/// `out = a · b` for `m × m` row-major matrices.
fn matmul(a: &[f64], b: &[f64], out: &mut [f64], m: usize) {
    out.iter_mut().for_each(|x| *x = 0.0);
    for i in 0..m {
        let row = &mut out[i * m..(i + 1) * m];
        for (kk, &aik) in a[i * m..(i + 1) * m].iter().enumerate() {
            if aik == 0.0 {
                continue;
            }
            for (o, &bkj) in row.iter_mut().zip(&b[kk * m..(kk + 1) * m]) {
                *o += aik * bkj;
            }
        }
    }
}

/// Interval of possibly non-zero entries of row `i` in the Pomeranz recursion.
fn pomeranz_j1j2(i: i64, n: i64, ll: i64, ceilf: i64, roundf: i64) -> (i64, i64) {
    let (j1, j2) = if i == 0 {
        (-ll - ceilf - 1, ll + ceilf - 1)
    } else {
        let (ip1div2, ip1mod2) = ((i + 1) / 2, (i + 1) % 2);
        if ip1mod2 == 0 {
            if ip1div2 == n + 1 {
                (n - ll - ceilf - 1, n + ll + ceilf - 1)
            } else {
                (ip1div2 - 1 - ll - roundf - 1, ip1div2 + ll - 1 + ceilf - 1)
            }
        } else {
            (ip1div2 - 1 - ll - 1, ip1div2 + ll + roundf - 1)
        }
    };
    ((j1 + 2).max(0), j2.min(n))
}

/// `P(D_n <= x)` by the Pomeranz (1974) recursion: rows are convolutions of the previous
/// row with (unnormalised) Poisson probabilities; only a sliding window is non-zero.
fn pomeranz_cdf(n: u64, x: f64) -> f64 {
    let ni = n as i64;
    let nf = n as f64;
    let t = nf * x;
    let ll = t.floor() as i64;
    let f = t - ll as f64;
    let g = f.min(1.0 - f);
    let ceilf = i64::from(f > 0.0);
    let roundf = i64::from(f > 0.5);
    let npwrs = (2 * (ll + 1)) as usize;
    let mut gpower = vec![1.0f64; npwrs];
    let mut twogpower = vec![1.0f64; npwrs];
    let mut onem2gpower = vec![1.0f64; npwrs];
    let (g_n, two_g_n, one_m2g_n) = (g / nf, 2.0 * g / nf, (1.0 - 2.0 * g) / nf);
    for m in 1..npwrs {
        let mf = m as f64;
        gpower[m] = gpower[m - 1] * g_n / mf;
        twogpower[m] = twogpower[m - 1] * two_g_n / mf;
        onem2gpower[m] = onem2gpower[m - 1] * one_m2g_n / mf;
    }
    let mut v0 = vec![0.0f64; npwrs];
    let mut v1 = vec![0.0f64; npwrs];
    v1[0] = 1.0;
    let (mut v0s, mut v1s) = (0i64, 0i64);
    let mut expnt: i32 = 0;
    let (mut j1, mut _j2) = pomeranz_j1j2(0, ni, ll, ceilf, roundf);
    for i in 1..(2 * ni + 2) {
        let k1 = j1;
        std::mem::swap(&mut v0, &mut v1);
        std::mem::swap(&mut v0s, &mut v1s);
        v1.iter_mut().for_each(|x| *x = 0.0);
        let (nj1, nj2) = pomeranz_j1j2(i, ni, ll, ceilf, roundf);
        j1 = nj1;
        _j2 = nj2;
        let pwrs: &[f64] = if i == 1 || i == 2 * ni + 1 {
            &gpower
        } else if i % 2 == 1 {
            &twogpower
        } else {
            &onem2gpower
        };
        let ln2 = nj2 - k1 + 1;
        if ln2 > 0 {
            let ln2 = ln2 as usize;
            let a = &v0[(k1 - v0s) as usize..(k1 - v0s) as usize + ln2];
            let b = &pwrs[..ln2];
            let conv_start = (nj1 - k1) as usize;
            let conv_len = (nj2 - nj1 + 1).max(0) as usize;
            // Entries conv_start .. conv_start + conv_len of the full convolution a * b.
            for (o, idx) in (conv_start..conv_start + conv_len).enumerate() {
                let lo = idx.saturating_sub(ln2 - 1);
                let hi = idx.min(ln2 - 1);
                let mut s = 0.0;
                for jj in lo..=hi {
                    s += a[jj] * b[idx - jj];
                }
                v1[o] = s;
            }
            let vmax = v1.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            if 0.0 < vmax && vmax < EM128 {
                v1.iter_mut().for_each(|x| *x *= EP128);
                expnt -= E128;
            }
            v1s = v0s + nj1 - k1;
        }
    }
    let mut ans = v1[(ni - v1s) as usize];
    for m in 1..=n {
        if ans.abs() > EP128 {
            ans *= EM128;
            expnt += E128;
        }
        ans *= m as f64;
    }
    if expnt != 0 {
        ans = ldexp(ans, expnt);
    }
    clip(ans)
}

/// Pelz–Good (1976) asymptotic expansion of `P(D_n <= x)` (four terms in `1/√n`).
fn pelz_good_cdf(n: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let z = n.sqrt() * x;
    let (zsquared, zthree, zfour, zsix) = (z * z, z.powi(3), z.powi(4), z.powi(6));
    let qlog = -PI * PI / 8.0 / zsquared;
    if qlog < MIN_LOG {
        return 0.0;
    }
    let q = qlog.exp();
    let pi2 = PI * PI;
    let pi4 = pi2 * pi2;
    let pi6 = pi4 * pi2;
    let k1a = -zsquared;
    let k1b = pi2 / 4.0;
    let k2a = 6.0 * zsix + 2.0 * zfour;
    let k2b = (2.0 * zfour - 5.0 * zsquared) * pi2 / 4.0;
    let k2c = pi4 * (1.0 - 2.0 * zsquared) / 16.0;
    let k3d = pi6 * (5.0 - 30.0 * zsquared) / 64.0;
    let k3c = pi4 * (-60.0 * zsquared + 212.0 * zfour) / 16.0;
    let k3b = pi2 * (135.0 * zfour - 96.0 * zsix) / 4.0;
    let k3a = -30.0 * zsix - 90.0 * z.powi(8);
    let mut kk = [0.0f64; 4];
    let maxk = (16.0 * z / PI).ceil() as i64;
    for k in (1..=maxk).rev() {
        let m = (2 * k - 1) as f64;
        let (m2, m4, m6) = (m * m, m.powi(4), m.powi(6));
        let qpower = q.powf(8.0 * k as f64);
        let coeffs = [
            1.0,
            k1a + k1b * m2,
            k2a + k2b * m2 + k2c * m4,
            k3a + k3b * m2 + k3c * m4 + k3d * m6,
        ];
        for (acc, c) in kk.iter_mut().zip(coeffs) {
            *acc = *acc * qpower + c;
        }
    }
    let divisors = [z, 6.0 * zfour, 72.0 * z.powi(7), 6480.0 * z.powi(10)];
    for (acc, dv) in kk.iter_mut().zip(divisors) {
        *acc = *acc * q * SQRT2PI / dv;
    }
    let q2 = (-pi2 / 2.0 / zsquared).exp();
    let sqrt3z = 3f64.sqrt() * z;
    let mut k2extra = 0.0;
    let mut k3extra = 0.0;
    for k in (1..=maxk).rev() {
        let kf = k as f64;
        let ksq = kf * kf;
        let qp = q2.powf(ksq);
        k2extra += ksq * qp;
        let kspi = PI * kf;
        k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * ksq * qp;
    }
    kk[2] += k2extra * pi2 * SQRT2PI / (-36.0 * zthree);
    kk[3] += k3extra * pi2 * SQRT2PI / (216.0 * zsix);
    let mut sum = 0.0;
    for (i, acc) in kk.iter().enumerate() {
        sum += acc / n.powf(i as f64 / 2.0);
    }
    clip(sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn support_edges() {
        assert_eq!(kstwo_sf(0.01, 10.0), 1.0);
        assert_eq!(kstwo_sf(1.0, 10.0), 0.0);
        assert!(kstwo_sf(0.3, 0.0).is_nan());
        assert!(kstwo_sf(0.3, 2.5).is_nan());
    }

    #[test]
    fn n_equals_one() {
        // D_1 = max(U, 1-U): P(D_1 >= x) = 2(1 - x) for 1/2 <= x <= 1.
        assert!((kstwo_sf(0.75, 1.0) - 0.5).abs() < 1e-15);
    }
}
