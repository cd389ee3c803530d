"""What the drift test scripts (tests/drift/run_drift_*.py) and bench/drift_bench.py share: the
check log every script prints and exits by, and the PSI recomputed with numpy (the expected
values, independent of the Rust core; the rule is docs/DRIFT.md's: right-closed bins, shares
floored at 1e-4, PSI = sum((current - reference) * ln(current / reference)))."""

import sys

import numpy as np

# The layout of the data tests/drift/gen_drift_data.py writes (its inputs, the DAYS_EMPLOYED
# "employed" sentinel that means missing, the category spellings the schema maps to a level).
NUMERIC = ["AMT_CREDIT", "AMT_ANNUITY", "EXT_SOURCE_2", "DAYS_EMPLOYED"]
CATEGORICAL = {"CODE_GENDER": ["F", "M"], "FLAG_OWN_CAR": ["N", "Y"]}
ALIASES = {"FLAG_OWN_CAR": {"Yes": "Y", "No": "N"}}
SENTINEL = 365243

failures = []


def check(cond, what):
    """Prints `ok   what` or `FAIL what`; a failure is remembered for finish()."""
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def finish(failed, passed):
    """Exits 1 after printing `failed` (a format of the failure count) when any check failed,
    else prints `passed`."""
    if failures:
        print(failed.format(len(failures)), file=sys.stderr)
        sys.exit(1)
    print(passed)


def shares_at(values, cuts):
    """Share of `values` in each of the len(cuts) + 1 bins the sorted `cuts` bound; bins are
    right-closed (a value equal to a cut falls in the bin below it)."""
    below = np.searchsorted(np.sort(values), cuts, side="right")
    return np.diff(np.concatenate([[0], below, [len(values)]])) / len(values)


def psi(ref_shares, cur_shares, eps=1e-4):
    """Population stability index of two share vectors over the same bins, shares floored at eps."""
    r, c = np.maximum(ref_shares, eps), np.maximum(cur_shares, eps)
    return float(np.sum((c - r) * np.log(c / r)))


def psi_deciles(ref, cur, eps=1e-4):
    """PSI of `cur` against the deciles of the sample `ref` (nearest-rank cuts at 10 %, ..., 90 %,
    repeated cuts and cuts at the maximum dropped)."""
    ref = np.sort(ref)
    cuts = []
    for i in range(1, 10):
        c = ref[int(np.floor(i / 10 * (len(ref) - 1)))]
        if c < ref[-1] and (not cuts or cuts[-1] != c):
            cuts.append(c)
    return psi(shares_at(ref, cuts), shares_at(cur, cuts), eps)


def psi_bundle_deciles(quantiles, cur):
    """PSI of `cur` against a bundle's reference: its percentiles 0..100 (`quantiles`), of which
    10, 20, ..., 90 cut ten bins holding 10 % of the reference each."""
    cuts = [quantiles[10 * i] for i in range(1, 10)]
    return psi(np.full(len(cuts) + 1, 0.1), shares_at(cur, cuts))


def features(summary):
    """drift_summary.json's features by name."""
    return {f["name"]: f for f in summary.get("features", [])}
