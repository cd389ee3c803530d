"""Credit-risk figures of the model card, all on held-out predictions.

Convention: ``y`` is the label (1 = default, the dataset's ``TARGET``), ``p`` the predicted
probability of default, and the decision refuses when ``p >= threshold`` (as the core does).

- Gini = 2 AUC - 1 (the accuracy ratio of the CAP curve), AUC with tied scores counted one half
  (Mann-Whitney U / (n_bad n_good), as ``sklearn.metrics.roc_auc_score``).
- KS = max_t |F_bad(t) - F_good(t)| between the empirical distributions of the scores of bad and
  good clients (the two-sample Kolmogorov-Smirnov statistic, as ``scipy.stats.ks_2samp``).
- Brier score = mean((p - y)^2) (``sklearn.metrics.brier_score_loss``).
- Reliability diagram on ``bins`` equal-width bins of [0, 1]: bin b holds the p in
  (b/bins, (b+1)/bins] (the first bin also holds 0), the binning of
  ``sklearn.calibration.calibration_curve(strategy="uniform")``; expected calibration error
  ECE = sum_b n_b / N |mean_pred_b - rate_b| over the non-empty bins (Naeini et al. 2015; Guo et al.
  2017).

These are computed here in numpy from one pass per figure rather than by calling the libraries
above, so that train/tests/test_risk_metrics.py can check the card's numbers against those
libraries as independent peers on the same predictions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

RELIABILITY_BINS = 10
# Age bands of the fairness table, in years (left-closed: [30, 40) is "30-40").
AGE_BANDS = ((0, 30, "<30"), (30, 40, "30-40"), (40, 50, "40-50"), (50, 60, "50-60"), (60, 200, "60+"))
DAYS_PER_YEAR = 365.25


def _arrays(y, p) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    if y.shape != p.shape or y.ndim != 1:
        raise ValueError(f"labels {y.shape} and probabilities {p.shape} must be 1-D of one length")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("labels must be 0 (good) or 1 (default)")
    return y, p


def auc(y, p) -> float:
    """ROC AUC = P(score of a random bad > score of a random good) + 0.5 P(tie), from midranks."""
    y, p = _arrays(y, p)
    n_bad = y.sum()
    n_good = len(y) - n_bad
    if n_bad == 0 or n_good == 0:
        raise ValueError("AUC needs both good and bad clients")
    order = np.argsort(p, kind="mergesort")
    sorted_p = p[order]
    # Midranks (1-based) of each run of equal scores.
    starts = np.r_[0, np.flatnonzero(sorted_p[1:] != sorted_p[:-1]) + 1]
    ends = np.r_[starts[1:], len(p)]
    ranks = np.empty(len(p))
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    u = ranks[y == 1].sum() - n_bad * (n_bad + 1) / 2.0
    return float(u / (n_bad * n_good))


def gini(y, p) -> float:
    return 2.0 * auc(y, p) - 1.0


def ks(y, p) -> tuple[float, float]:
    """(KS statistic, the probability where it is reached): max |F_bad - F_good| over all cuts."""
    y, p = _arrays(y, p)
    bad = np.sort(p[y == 1])
    good = np.sort(p[y == 0])
    if len(bad) == 0 or len(good) == 0:
        raise ValueError("KS needs both good and bad clients")
    cuts = np.unique(p)
    cdf_bad = np.searchsorted(bad, cuts, side="right") / len(bad)
    cdf_good = np.searchsorted(good, cuts, side="right") / len(good)
    diff = np.abs(cdf_bad - cdf_good)
    best = int(np.argmax(diff))
    return float(diff[best]), float(cuts[best])


def brier(y, p) -> float:
    y, p = _arrays(y, p)
    return float(np.mean((p - y) ** 2))


def reliability(y, p, bins: int = RELIABILITY_BINS) -> tuple[pd.DataFrame, float]:
    """(table of every bin: range, count, mean predicted, observed default rate; ECE)."""
    y, p = _arrays(y, p)
    edges = np.linspace(0.0, 1.0, bins + 1)
    ids = np.searchsorted(edges[1:-1], p, side="left")
    count = np.bincount(ids, minlength=bins)
    sum_p = np.bincount(ids, weights=p, minlength=bins)
    sum_y = np.bincount(ids, weights=y, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_p = np.where(count > 0, sum_p / count, np.nan)
        rate = np.where(count > 0, sum_y / count, np.nan)
    nonempty = count > 0
    ece = float(np.sum(count[nonempty] / len(p) * np.abs(mean_p[nonempty] - rate[nonempty])))
    table = pd.DataFrame(
        {
            "bin": [f"({edges[b]:.1f}, {edges[b + 1]:.1f}]" for b in range(bins)],
            "clients": count,
            "mean_predicted": mean_p,
            "observed_default_rate": rate,
            "gap": np.abs(mean_p - rate),
        }
    )
    return table, ece


def score_deciles(p) -> np.ndarray:
    """Decile 1..10 of each client, 1 = the riskiest tenth (highest probability, lowest score
    points). Clients are ordered by probability descending (ties keep their input order) and cut
    into ten groups of equal size; when N is not a multiple of 10 the first N mod 10 groups hold one
    client more (the split of ``numpy.array_split``)."""
    p = np.asarray(p, dtype=float)
    order = np.argsort(-p, kind="mergesort")
    sizes = np.full(10, len(p) // 10)
    sizes[: len(p) % 10] += 1
    decile = np.empty(len(p), dtype=int)
    decile[order] = np.repeat(np.arange(1, 11), sizes)
    return decile


def gains_table(y, p, points=None) -> pd.DataFrame:
    """Gains table by score decile, riskiest decile first.

    Per decile: applications, defaults, default rate, mean predicted probability, probability range
    (and score-point range when ``points`` is given). Cumulative columns describe the policy that
    refuses this decile and every riskier one: ``cum_approval_rate`` = share of applications still
    approved, ``cum_default_capture`` = share of all defaults refused (captured),
    ``approved_default_rate`` = default rate among the approved.
    """
    y, p = _arrays(y, p)
    d = score_deciles(p)
    rows = []
    n, total_bad = len(y), y.sum()
    cum_n = cum_bad = 0.0
    for k in range(1, 11):
        m = d == k
        apps, bads = int(m.sum()), float(y[m].sum())
        cum_n += apps
        cum_bad += bads
        row = {
            "decile": k,
            "applications": apps,
            "defaults": int(bads),
            "default_rate": bads / apps if apps else float("nan"),
            "mean_predicted": float(p[m].mean()) if apps else float("nan"),
            "probability_range": f"{p[m].min():.4f}-{p[m].max():.4f}" if apps else "",
        }
        if points is not None:
            pts = np.asarray(points, dtype=float)[m]
            row["score_range"] = f"{pts.min():.0f}-{pts.max():.0f}" if apps else ""
        approved = n - cum_n
        row.update(
            {
                "cum_approval_rate": approved / n,
                "cum_default_capture": cum_bad / total_bad if total_bad else float("nan"),
                "approved_default_rate": (total_bad - cum_bad) / approved if approved else float("nan"),
            }
        )
        rows.append(row)
    return pd.DataFrame(rows)


def age_band(days_birth) -> pd.Series:
    """Age band label of each DAYS_BIRTH (days before the application, negative)."""
    years = -np.asarray(days_birth, dtype=float) / DAYS_PER_YEAR
    labels = np.full(len(years), "missing", dtype=object)
    for lo, hi, name in AGE_BANDS:
        labels[(years >= lo) & (years < hi)] = name
    return pd.Series(labels, name="age_band")


# Groups smaller than this share of the clients are reported but never the reference group (the
# dataset's CODE_GENDER "XNA" has a handful of rows: a 100 % approval of 2 clients is no yardstick).
REFERENCE_MIN_SHARE = 0.05


def fairness(groups, y, p, threshold: float) -> pd.DataFrame:
    """Decisions by group at ``threshold`` (refuse when p >= threshold).

    Per group: clients, approval rate, observed default rate, default rate among the approved,
    approval-rate ratio to the most-approved group (the reference: the most-approved among groups
    holding at least REFERENCE_MIN_SHARE of the clients; the adverse impact ratio, the "four-fifths
    rule" flags < 0.8), true-positive rate (share of the group's defaulters refused: the model's
    positive class is a default) and its difference to the most-approved group's, and the approval
    rate of the group's good clients (equal opportunity on the favourable outcome) with its
    difference.
    """
    y, p = _arrays(y, p)
    groups = pd.Series(np.asarray(groups, dtype=object)).fillna("missing").astype(str).to_numpy()
    refused = p >= threshold
    rows = []
    for level in sorted(set(groups), key=_band_order):
        m = groups == level
        approved = m & ~refused
        bad = m & (y == 1)
        good = m & (y == 0)
        rows.append(
            {
                "group": level,
                "clients": int(m.sum()),
                "approval_rate": approved.sum() / m.sum(),
                "default_rate": y[m].mean(),
                "default_rate_among_approved": y[approved].mean() if approved.any() else float("nan"),
                "tpr": (bad & refused).sum() / bad.sum() if bad.any() else float("nan"),
                "good_approval_rate": (good & ~refused).sum() / good.sum() if good.any() else float("nan"),
            }
        )
    table = pd.DataFrame(rows)
    large = table[table["clients"] >= REFERENCE_MIN_SHARE * len(y)]
    candidates = large if len(large) else table
    ref = candidates.sort_values("approval_rate", ascending=False, kind="stable").iloc[0]
    table["approval_ratio"] = table["approval_rate"] / ref["approval_rate"]
    table["tpr_diff"] = table["tpr"] - ref["tpr"]
    table["good_approval_diff"] = table["good_approval_rate"] - ref["good_approval_rate"]
    cols = [
        "group",
        "clients",
        "approval_rate",
        "approval_ratio",
        "default_rate",
        "default_rate_among_approved",
        "tpr",
        "tpr_diff",
        "good_approval_rate",
        "good_approval_diff",
    ]
    return table[cols]


def _band_order(level: str):
    names = [b[2] for b in AGE_BANDS]
    return (0, names.index(level), "") if level in names else (1, 0, level)


def summary(y, p, threshold: float) -> dict:
    """The headline figures of one model on one labelled set."""
    _, ece = reliability(y, p)
    ks_stat, ks_at = ks(y, p)
    a = auc(y, p)
    return {
        "auc": a,
        "gini": 2.0 * a - 1.0,
        "ks": ks_stat,
        "ks_probability": ks_at,
        "brier": brier(y, p),
        "ece": ece,
        "refusal_rate": float(np.mean(np.asarray(p) >= threshold)),
    }
