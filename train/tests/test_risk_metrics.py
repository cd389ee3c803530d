"""The model card's credit-risk figures against independent peers on the same predictions:
scikit-learn (roc_auc_score, brier_score_loss, calibration_curve), scipy (ks_2samp), a plain numpy
ECE loop, and pandas groupby/qcut for the gains and fairness tables."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss, roc_auc_score

from creditscore_train import risk_metrics as rm


def cases():
    """(y, p) pairs: continuous scores, heavy ties (rounded), imbalanced like credit data, tiny."""
    rng = np.random.default_rng(11)
    out = []
    for n, rate, decimals in ((5000, 0.08, None), (3000, 0.1, 2), (997, 0.3, 3), (40, 0.25, 1)):
        y = (rng.random(n) < rate).astype(int)
        y[:2] = [0, 1]
        p = 1 / (1 + np.exp(-(-2.4 + 1.3 * y + rng.normal(0, 1, n))))
        if decimals is not None:
            p = np.round(p, decimals)
        out.append((y, p))
    return out


def numpy_ece(y, p, bins=10):
    """ECE written out bin by bin: bin b = (b/bins, (b+1)/bins], 0 in the first one."""
    total = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        m = (p > lo) & (p <= hi) if b else (p <= hi)
        if m.any():
            total += m.sum() / len(p) * abs(p[m].mean() - y[m].mean())
    return total


@pytest.mark.parametrize("case", range(4))
def test_gini_ks_brier_ece_equal_the_peers(case):
    y, p = cases()[case]
    auc = roc_auc_score(y, p)
    assert rm.auc(y, p) == pytest.approx(auc, abs=1e-12)
    assert rm.gini(y, p) == pytest.approx(2 * auc - 1, abs=1e-12)
    ks = ks_2samp(p[y == 1], p[y == 0])
    stat, at = rm.ks(y, p)
    assert stat == pytest.approx(ks.statistic, abs=1e-12)
    # Where it is reached: the distance of the two ECDFs at that probability is the statistic.
    assert abs(np.mean(p[y == 1] <= at) - np.mean(p[y == 0] <= at)) == pytest.approx(stat, abs=1e-12)
    assert rm.brier(y, p) == pytest.approx(brier_score_loss(y, p), abs=1e-12)
    table, ece = rm.reliability(y, p)
    # The rounded cases put values exactly on the bin edges 0.1, 0.2, ...
    prob_true, prob_pred = calibration_curve(y, p, n_bins=10, strategy="uniform")
    filled = table[table["clients"] > 0]
    np.testing.assert_allclose(filled["observed_default_rate"], prob_true, rtol=0, atol=1e-12)
    np.testing.assert_allclose(filled["mean_predicted"], prob_pred, rtol=0, atol=1e-12)
    assert table["clients"].sum() == len(y)
    assert ece == pytest.approx(numpy_ece(y, p), abs=1e-12)
    expected_ece = np.sum(filled["clients"] / len(y) * np.abs(prob_pred - prob_true))
    assert ece == pytest.approx(expected_ece, abs=1e-12)
    s = rm.summary(y, p, 0.2)
    assert (s["gini"], s["ks"], s["brier"], s["ece"]) == (rm.gini(y, p), stat, rm.brier(y, p), ece)


def test_edges():
    y = np.array([0, 1, 0, 1])
    assert rm.auc(y, np.full(4, 0.3)) == 0.5 and rm.ks(y, np.full(4, 0.3))[0] == 0.0
    assert rm.auc(y, np.array([0.1, 0.9, 0.2, 0.8])) == 1.0
    assert rm.ks(y, np.array([0.1, 0.9, 0.2, 0.8]))[0] == 1.0
    # 0 and 1 are in the first and last bins; an edge value belongs to the bin it closes.
    table, ece = rm.reliability(np.array([0, 1, 0, 1]), np.array([0.0, 1.0, 0.1, 0.1000001]))
    assert list(table["clients"]) == [2, 1, 0, 0, 0, 0, 0, 0, 0, 1]
    with pytest.raises(ValueError, match="both good and bad"):
        rm.auc(np.zeros(5), np.linspace(0, 1, 5))
    with pytest.raises(ValueError, match="0 .good. or 1"):
        rm.brier(np.array([0, 2]), np.array([0.1, 0.2]))


@pytest.mark.parametrize("case", range(3))
def test_gains_table_equals_pandas(case):
    y, p = cases()[case]
    points = 600 + 20 / np.log(2) * np.log((1 - p + 1e-12) / (p + 1e-12) / 50)
    got = rm.gains_table(y, p, points)
    # Riskiest first; ties keep input order; ten groups, the first N mod 10 one client larger.
    df = pd.DataFrame({"y": y, "p": p}).sort_values("p", ascending=False, kind="stable")
    df["decile"] = np.concatenate(
        [np.full(len(c), k + 1) for k, c in enumerate(np.array_split(df.index, 10))]
    )
    if len(df) % 10 == 0:  # then also pandas' own decile cut
        rank = (-df["p"]).rank(method="first")
        assert (pd.qcut(rank, 10, labels=range(1, 11)).astype(int) == df["decile"]).all()
    g = df.groupby("decile").agg(
        applications=("y", "size"), defaults=("y", "sum"), mean_predicted=("p", "mean")
    )
    g["default_rate"] = g["defaults"] / g["applications"]
    cum_n = g["applications"].cumsum()
    cum_bad = g["defaults"].cumsum()
    g["cum_approval_rate"] = 1 - cum_n / len(df)
    g["cum_default_capture"] = cum_bad / df["y"].sum()
    g["approved_default_rate"] = (df["y"].sum() - cum_bad) / (len(df) - cum_n)
    got = got.set_index("decile")
    assert list(got["applications"]) == list(g["applications"])
    assert list(got["defaults"]) == list(g["defaults"])
    for col in ("default_rate", "mean_predicted", "cum_approval_rate", "cum_default_capture"):
        np.testing.assert_allclose(got[col], g[col], rtol=0, atol=1e-12, err_msg=col)
    np.testing.assert_allclose(
        got["approved_default_rate"].iloc[:9], g["approved_default_rate"].iloc[:9], atol=1e-12
    )
    assert np.isnan(got["approved_default_rate"].iloc[9])
    # Decile 1 holds the highest probabilities and the lowest points.
    assert got["mean_predicted"].is_monotonic_decreasing
    lo1, hi1 = map(float, got.loc[1, "score_range"].split("-"))
    lo10, hi10 = map(float, got.loc[10, "score_range"].split("-"))
    assert hi1 <= lo10


def test_fairness_equals_pandas():
    y, p = cases()[0]
    rng = np.random.default_rng(3)
    days_birth = -np.round(rng.uniform(20, 69, len(y)) * 365.25)
    gender = rng.choice(["F", "M"], len(y), p=[0.6, 0.4]).astype(object)
    gender[np.argsort(p)[:40]] = "XNA"  # a tiny group, all approved: never the reference group
    thr = 0.12
    for groups in (gender, rm.age_band(days_birth)):
        got = rm.fairness(groups, y, p, thr).set_index("group")
        df = pd.DataFrame({"g": np.asarray(groups), "y": y, "refused": p >= thr})
        df["approved"] = ~df["refused"]
        g = df.groupby("g").agg(
            clients=("y", "size"), approval_rate=("approved", "mean"), default_rate=("y", "mean")
        )
        g["default_rate_among_approved"] = df[df["approved"]].groupby("g")["y"].mean()
        g["tpr"] = df[df["y"] == 1].groupby("g")["refused"].mean()
        g["good_approval_rate"] = df[df["y"] == 0].groupby("g")["approved"].mean()
        ref = g[g["clients"] >= 0.05 * len(y)]["approval_rate"].idxmax()
        assert ref != "XNA"
        g["approval_ratio"] = g["approval_rate"] / g.loc[ref, "approval_rate"]
        g["tpr_diff"] = g["tpr"] - g.loc[ref, "tpr"]
        g["good_approval_diff"] = g["good_approval_rate"] - g.loc[ref, "good_approval_rate"]
        g = g.loc[got.index]
        assert list(got["clients"]) == list(g["clients"])
        for col in got.columns.drop("clients"):
            np.testing.assert_allclose(got[col], g[col], rtol=0, atol=1e-12, err_msg=col)
    bands = rm.age_band(np.array([-29.99 * 365.25, -30 * 365.25, -45 * 365.25, -60 * 365.25, -75 * 365.25]))
    assert list(bands) == ["<30", "30-40", "40-50", "60+", "60+"]
    order = rm.fairness(rm.age_band(days_birth), y, p, thr)["group"].tolist()
    assert order == ["<30", "30-40", "40-50", "50-60", "60+"]
