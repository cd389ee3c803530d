"""Generate scipy reference values for the Rust drift statistics (core/src/drift).

Run with the project venv: `.venv/bin/python tests/drift/gen_ks_fixtures.py`. Writes
tests/drift/fixtures/scipy_drift.json, which the Rust tests read (no Python needed there).

Covers: ks_2samp (two-sided, method="auto") in the exact regime (equal and unequal sizes, ties,
up to n = 10000) and the asymptotic regime (every branch of kstwo.sf: Ruben-Gambino tails,
Durbin matrix, Pomeranz, Pelz-Good, Smirnov), kstwo.sf on a grid of (n, x), chisquare, and
false_discovery_control (Benjamini-Hochberg).
"""

import json
import math
from pathlib import Path

import numpy as np
import scipy
from scipy import stats

OUT = Path(__file__).parent / "fixtures" / "scipy_drift.json"
rng = np.random.default_rng(20261127)


def sample(kind, n, shift=0.0, scale=1.0):
    if kind == "normal":
        x = rng.normal(shift, scale, n)
    elif kind == "ties":
        x = np.floor(rng.normal(shift, scale, n) * 3)  # many equal values
    elif kind == "uniform":
        x = rng.uniform(shift, shift + scale, n)
    else:
        raise ValueError(kind)
    return [float(v) for v in np.round(x, 4)]


def ks_case(name, a, b):
    r = stats.ks_2samp(a, b, alternative="two-sided", method="auto")
    method = "exact" if max(len(a), len(b)) <= 10000 else "asymptotic"
    return {
        "name": name,
        "a": a,
        "b": b,
        "statistic": float(r.statistic),
        "pvalue": float(r.pvalue),
        "method": method,
    }


cases = []
# Exact regime.
cases.append(ks_case("exact_equal_n_small", sample("normal", 20), sample("normal", 20, 0.5)))
cases.append(ks_case("exact_equal_n_ties", sample("ties", 300), sample("ties", 300, 0.2)))
cases.append(ks_case("exact_unequal", sample("normal", 137), sample("normal", 59, 0.3)))
cases.append(ks_case("exact_unequal_ties", sample("ties", 800), sample("ties", 450, 0.1)))
cases.append(ks_case("exact_no_shift", sample("uniform", 2000), sample("uniform", 1500)))
cases.append(ks_case("exact_large_shift", sample("normal", 400), sample("normal", 300, 1.5)))
cases.append(ks_case("exact_max_n", sample("normal", 10000), sample("normal", 3000, 0.05)))
cases.append(ks_case("exact_tiny", [1.0, 2.0], [1.5]))
# Asymptotic regime: en = n1*n2/(n1+n2) picks the kstwo branch.
cases.append(ks_case("asymp_en_small_pomeranz", sample("normal", 12000), sample("normal", 60, 0.3)))
cases.append(ks_case("asymp_en_small_durbin", sample("normal", 12000), sample("normal", 100, 0.0)))
cases.append(ks_case("asymp_en_small_smirnov", sample("normal", 12000), sample("normal", 80, 1.2)))
cases.append(ks_case("asymp_durbin", sample("normal", 15000), sample("normal", 4000, 0.0)))
cases.append(ks_case("asymp_pelz_good", sample("normal", 15000), sample("normal", 5000, 0.06)))
cases.append(ks_case("asymp_smirnov", sample("normal", 12000), sample("normal", 6000, 0.1)))
cases.append(ks_case("asymp_zero", sample("normal", 12000), sample("normal", 6000, 2.0)))
cases.append(ks_case("asymp_ties", sample("ties", 20000), sample("ties", 9000, 0.05)))

kstwo = []
for n in [1, 2, 3, 5, 10, 50, 100, 140, 141, 500, 1000, 5000, 20000, 100000, 100001, 300000, 2000000]:
    xs = set()
    for t in [0.3, 0.75, 1.0, 1.5]:
        xs.add(t / n)
    for nx2 in [0.1, 0.3, 0.7, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 10.0, 17.0, 20.0, 100.0, 400.0]:
        xs.add(math.sqrt(nx2 / n))
    for x in [0.5, 0.55, 0.7, 0.9, 1 - 1.5 / n]:
        xs.add(x)
    for x in sorted(xs):
        if 0 < x < 1:
            kstwo.append({"n": n, "x": x, "sf": float(stats.kstwo.sf(x, n))})

chisq = []
for obs, shares in [
    ([10, 20, 30], [1 / 3, 1 / 3, 1 / 3]),
    ([658, 342], [0.658, 0.342]),
    ([300, 700], [0.658, 0.342]),
    ([5, 7, 9, 11, 13, 200], [0.1, 0.1, 0.1, 0.1, 0.1, 0.5]),
    ([1000, 1010, 990, 1005], [0.25, 0.25, 0.25, 0.25]),
]:
    total = sum(obs)
    exp = [s * total / sum(shares) for s in shares]
    r = stats.chisquare(obs, exp)
    chisq.append({"observed": obs, "expected_share": shares, "statistic": float(r.statistic),
                  "pvalue": float(r.pvalue)})

bh = []
for p in [[0.01, 0.04, 0.03, 0.2], list(rng.uniform(0, 0.1, 12)), [1e-12, 0.5, 0.049, 0.051, 0.9]]:
    p = [float(v) for v in p]
    bh.append({"p": p, "adjusted": [float(v) for v in stats.false_discovery_control(p, method="bh")]})

OUT.parent.mkdir(parents=True, exist_ok=True)
OUT.write_text(json.dumps({
    "generator": "tests/drift/gen_ks_fixtures.py",
    "scipy_version": scipy.__version__,
    "numpy_version": np.__version__,
    "ks_2samp": cases,
    "kstwo_sf": kstwo,
    "chisquare": chisq,
    "bh": bh,
}, separators=(",", ":")) + "\n")
print(f"wrote {OUT}: {len(cases)} ks_2samp cases, {len(kstwo)} kstwo.sf points, "
      f"{len(chisq)} chisquare, {len(bh)} BH")
