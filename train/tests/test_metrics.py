"""Business cost, normalised score and the cost-minimising threshold."""

import numpy as np

from creditscore_train import metrics


def brute_force(y, p):
    best = None
    for t in np.r_[np.unique(p), 1.0 + 1e-9]:
        cost = metrics.decision_cost(y, p, t)
        if best is None or cost < best[1] or (cost == best[1] and t > best[0]):
            best = (t, cost)
    return best


def test_normalisation_anchors():
    y = np.array([0] * 90 + [1] * 10)
    # Accepting everybody costs 10 * 10 = 100 < refusing everybody (90): refuse-all is best here.
    assert metrics.constant_cost(y) == 90
    perfect = y.astype(float)
    assert metrics.business_score(y, perfect, 0.5) == 1.0
    assert metrics.business_score(y, np.zeros(100), 0.5) == 1.0 - 100 / 90
    assert metrics.business_score(y, np.ones(100), 0.5) == 0.0


def test_best_threshold_matches_brute_force():
    rng = np.random.default_rng(0)
    for _ in range(20):
        y = (rng.random(300) < 0.1).astype(int)
        p = np.round(np.clip(0.1 + 0.3 * y + rng.normal(0, 0.2, 300), 0, 1), 2)
        got = metrics.best_threshold(y, p)
        t, cost = brute_force(y, p)
        assert got.cost == cost
        assert metrics.decision_cost(y, p, got.threshold) == cost
        assert 0.0 <= got.threshold <= 1.0


def test_cost_curve_is_exact():
    rng = np.random.default_rng(1)
    y = (rng.random(200) < 0.2).astype(int)
    p = rng.random(200)
    thresholds, cost = metrics.cost_curve(y, p)
    for t, c in zip(thresholds[::17], cost[::17], strict=True):
        assert metrics.decision_cost(y, p, t) == c
