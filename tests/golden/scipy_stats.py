#!/usr/bin/env python3
"""Generate scipy / statsmodels golden values for the normshift-stats crate.

Writes tests/golden/scipy_stats.json (next to this script). Seeded, so re-running with the
same scipy / statsmodels / numpy versions reproduces the file. See tests/golden/README.md.

JSON layout
-----------
top level: generator, scipy_version, statsmodels_version, numpy_version, python_version,
           seed, ks, ks_exact_grid, kstwo, wasserstein, chi2_contingency, chi2_sf,
           multipletests, proportions_ztest
ks:               name, a, b (unsorted samples), method ("auto"|"exact"|"asymp"),
                  statistic, pvalue
ks_exact_grid:    n, m, d, statistic, pvalue (scipy's exact two-sided computation for a given
                  D = h / lcm, through ks_2samp's private helper, as ks_2samp uses it)
kstwo:            n, d, sf (scipy.stats.kstwo.sf)
wasserstein:      name, a, b, a_weights, b_weights (null = unweighted), distance
chi2_contingency: name, a, b (the two rows), statistic, pvalue, dof
chi2_sf:          x, dof, sf
multipletests:    p, bonferroni, holm, fdr_bh
proportions_ztest: x1, n1, x2, n2, statistic, pvalue
A NaN result is written as null.
"""

import json
import math
import os
import platform

import numpy as np
import scipy
import scipy.stats as st
import statsmodels
from scipy.stats import _stats_py
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportions_ztest

SEED = 20261124
rng = np.random.default_rng(SEED)


def f(x):
    """A JSON number; NaN (scipy's answer for kstwo with n = 0) is written as null."""
    x = float(x)
    return None if math.isnan(x) else x


def ks_case(name, a, b, methods=("auto", "exact", "asymp")):
    out = []
    for method in methods:
        r = st.ks_2samp(a, b, method=method)
        out.append(
            {
                "name": f"{name}/{method}",
                "a": [f(v) for v in a],
                "b": [f(v) for v in b],
                "method": method,
                "statistic": f(r.statistic),
                "pvalue": f(r.pvalue),
            }
        )
    return out


ks = []
# Tiny samples, n, m = 1..5, continuous and with ties.
for n in range(1, 6):
    for m in range(1, 6):
        a = rng.normal(size=n)
        b = rng.normal(0.5, 1.0, size=m)
        ks += ks_case(f"tiny_{n}_{m}", a, b, methods=("auto", "asymp"))
        a = rng.integers(0, 3, size=n).astype(float)
        b = rng.integers(0, 3, size=m).astype(float)
        ks += ks_case(f"tiny_ties_{n}_{m}", a, b, methods=("auto", "asymp"))
# Equal and unequal sizes, with and without ties.
for n, m, shift in [(20, 20, 0.5), (30, 45, 0.3), (100, 100, 0.2), (57, 91, 0.0),
                    (200, 300, 0.25), (500, 500, 0.1), (1000, 1500, 0.05)]:
    a = rng.normal(size=n)
    b = rng.normal(shift, 1.0, size=m)
    ks += ks_case(f"normal_{n}_{m}", a, b)
    ks += ks_case(f"ties_{n}_{m}", np.round(a, 1), np.round(b, 1))
# Larger: 2000 vs 3000.
a = rng.normal(size=2000)
b = rng.normal(0.08, 1.0, size=3000)
ks += ks_case("normal_2000_3000", a, b)
ks += ks_case("ties_2000_3000", np.round(a, 1), np.round(b, 1))
# Identical and disjoint samples.
a = rng.normal(size=40)
ks += ks_case("identical_40", a, a.copy())
ks += ks_case("disjoint_10_15", rng.uniform(0, 1, 10), rng.uniform(2, 3, 15))
ks += ks_case("disjoint_25_25", rng.uniform(0, 1, 25), rng.uniform(2, 3, 25))
# auto above MAX_AUTO_N goes asymptotic.
a = np.round(rng.normal(size=12000), 3)  # 3 decimals keep the JSON small
b = np.round(rng.normal(0.02, 1.0, size=11000), 3)
ks += ks_case("normal_12000_11000", a, b, methods=("auto",))

# Exact p-values over whole ranges of D for small sizes (every branch of both algorithms).
ks_exact_grid = []
for n, m in [(1, 1), (1, 2), (2, 3), (3, 3), (4, 6), (5, 7), (8, 8), (7, 13), (10, 25),
             (16, 24), (30, 31), (50, 50), (40, 100), (99, 100)]:
    g = math.gcd(n, m)
    lcm = n // g * m
    step = max(1, lcm // 40)
    for h in list(range(1, lcm + 1, step)) + [lcm]:
        d = h / lcm
        ok, d2, p = _stats_py._attempt_exact_2kssamp(n, m, g, d, "two-sided")
        if ok:
            ks_exact_grid.append({"n": n, "m": m, "d": d, "statistic": f(d2), "pvalue": f(p)})

# kstwo.sf over every branch of _kolmogn.
kstwo = []
for n in [1, 2, 3, 5, 10, 37, 100, 140, 141, 500, 1000, 5000, 20000, 100000, 100001, 500000]:
    for z in [0.3, 0.5, 0.7, 0.8, 0.9, 1.0, 1.2, 1.36, 1.5, 1.8, 2.0, 2.5, 3.0, 4.0, 6.0, 10.0]:
        d = z / math.sqrt(n)
        if d >= 1.0:
            continue
        kstwo.append({"n": n, "d": d, "sf": f(st.kstwo.sf(d, n))})
    for d in [0.6 / n, 0.9 / n, 1.5 / n, 0.45, 0.5, 0.7, 1 - 1.5 / n]:
        if 0 < d < 1:
            kstwo.append({"n": n, "d": d, "sf": f(st.kstwo.sf(d, n))})

wasserstein = []


def w_case(name, a, b, wa=None, wb=None):
    wasserstein.append(
        {
            "name": name,
            "a": [f(v) for v in a],
            "b": [f(v) for v in b],
            "a_weights": None if wa is None else [f(v) for v in wa],
            "b_weights": None if wb is None else [f(v) for v in wb],
            "distance": f(st.wasserstein_distance(a, b, wa, wb)),
        }
    )


w_case("tiny", [0.0, 1.0, 3.0], [5.0, 6.0, 8.0])
w_case("single", [1.5], [-2.0])
w_case("ties", [0.0, 0.0, 1.0, 1.0, 2.0], [1.0, 1.0, 1.0, 3.0])
w_case("normal_300_500", rng.normal(size=300), rng.normal(0.4, 1.3, size=500))
w_case("normal_2000_3000", rng.normal(size=2000), rng.normal(0.1, 1.0, size=3000))
w_case("weighted_tiny", [0.0, 1.0, 3.0], [5.0, 6.0, 8.0], [1.0, 2.0, 3.0], [3.0, 2.0, 1.0])
w_case("weighted_zero_weight", [0.0, 1.0, 3.0, 4.0], [1.0, 2.0], [1.0, 0.0, 2.0, 1.0], [0.5, 0.5])
w_case("weighted_random", rng.normal(size=200), rng.normal(0.2, 1.0, size=150),
       rng.uniform(0, 5, 200), rng.uniform(0, 1, 150))

chi2_contingency = []


def c_case(name, a, b):
    r = st.chi2_contingency(np.array([a, b], dtype=float))
    chi2_contingency.append(
        {"name": name, "a": [f(v) for v in a], "b": [f(v) for v in b],
         "statistic": f(r.statistic), "pvalue": f(r.pvalue), "dof": int(r.dof)}
    )


c_case("k2_yates", [12, 5], [7, 9])
c_case("k2_yates_small_diff", [10, 10], [10, 11])
c_case("k2_large", [4800, 5200], [5100, 4900])
c_case("k3", [30, 20, 50], [25, 35, 40])
c_case("k5", [100, 80, 60, 40, 20], [90, 85, 70, 30, 25])
c_case("k6_skewed", [1000, 1, 2, 500, 30, 7], [900, 10, 0, 600, 25, 9])
c_case("k4_big_shift", [10000, 200, 300, 5000], [2000, 9000, 300, 4000])
# A zero column is dropped before the test (scipy itself refuses zero expected counts),
# so the golden value is computed on the table without it.
a_zero, b_zero = [30, 0, 20, 50], [25, 0, 35, 40]
r = st.chi2_contingency(np.array([[30, 20, 50], [25, 35, 40]], dtype=float))
chi2_contingency.append(
    {"name": "k4_zero_column", "a": a_zero, "b": b_zero,
     "statistic": f(r.statistic), "pvalue": f(r.pvalue), "dof": int(r.dof)}
)
a_zero, b_zero = [12, 0, 5], [7, 0, 9]
r = st.chi2_contingency(np.array([[12, 5], [7, 9]], dtype=float))
chi2_contingency.append(
    {"name": "k3_zero_column_becomes_yates", "a": a_zero, "b": b_zero,
     "statistic": f(r.statistic), "pvalue": f(r.pvalue), "dof": int(r.dof)}
)

chi2_sf = []
for dof in [1, 2, 3, 5, 10, 50, 200]:
    for x in [1e-3, 0.1, 0.5, 1.0, 2.0, 5.0, dof * 1.0, dof + 3 * math.sqrt(2 * dof), 50.0,
              200.0, 1000.0]:
        chi2_sf.append({"x": x, "dof": dof, "sf": f(st.chi2.sf(x, dof))})

multi = []
for p in [
    [0.01, 0.04, 0.03, 0.005, 0.2],
    [0.5],
    [0.01, 0.01, 0.02, 0.9, 0.9],
    [1e-10, 0.3, 0.049, 0.051, 0.7, 0.0, 1.0],
    list(rng.uniform(0, 0.1, 20)),
    list(rng.uniform(0, 1, 33)),
]:
    entry = {"p": [f(v) for v in p]}
    for method in ["bonferroni", "holm", "fdr_bh"]:
        entry[method] = [f(v) for v in multipletests(p, method=method)[1]]
    multi.append(entry)

ztests = []
for x1, n1, x2, n2 in [(10, 100, 20, 100), (5, 1000, 6, 1200), (0, 50, 3, 60), (50, 50, 49, 50),
                       (300, 10000, 420, 10000), (1, 3, 2, 3), (12000, 1000000, 9000, 1000000)]:
    z, p = proportions_ztest([x1, x2], [n1, n2])
    ztests.append({"x1": x1, "n1": n1, "x2": x2, "n2": n2, "statistic": f(z), "pvalue": f(p)})

out = {
    "generator": "tests/golden/scipy_stats.py",
    "scipy_version": scipy.__version__,
    "statsmodels_version": statsmodels.__version__,
    "numpy_version": np.__version__,
    "python_version": platform.python_version(),
    "seed": SEED,
    "ks": ks,
    "ks_exact_grid": ks_exact_grid,
    "kstwo": kstwo,
    "wasserstein": wasserstein,
    "chi2_contingency": chi2_contingency,
    "chi2_sf": chi2_sf,
    "multipletests": multi,
    "proportions_ztest": ztests,
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scipy_stats.json")
with open(path, "w") as fh:
    json.dump(out, fh, separators=(",", ":"), allow_nan=False)
    fh.write("\n")
print(f"wrote {path}: {len(ks)} ks, {len(ks_exact_grid)} exact grid, {len(kstwo)} kstwo")
