"""The business cost of decisions and the threshold that minimises it.

A false negative (a defaulter who is granted the loan) costs ``FN_COST`` times a false positive (a
good client who is refused). The normalised business score is

    score = 1 - cost(threshold) / cost(best constant decision)

so 0 is what refusing everybody or accepting everybody (whichever is cheaper) achieves and 1 is a
perfect classifier; a negative score is worse than not using a model at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import roc_auc_score

FN_COST = 10.0
FP_COST = 1.0


@dataclass(frozen=True)
class ThresholdResult:
    threshold: float
    cost: float
    score: float
    false_negatives: int
    false_positives: int
    refusal_rate: float


def constant_cost(y: np.ndarray) -> float:
    """Cost of the best constant decision: accept all (every default is a FN) or refuse all."""
    positives = float(np.sum(y))
    negatives = float(len(y) - positives)
    return min(FN_COST * positives, FP_COST * negatives)


def decision_cost(y: np.ndarray, proba: np.ndarray, threshold: float) -> float:
    pred = proba >= threshold
    fn = np.sum((y == 1) & ~pred)
    fp = np.sum((y == 0) & pred)
    return float(FN_COST * fn + FP_COST * fp)


def business_score(y: np.ndarray, proba: np.ndarray, threshold: float) -> float:
    base = constant_cost(y)
    return 1.0 - decision_cost(y, proba, threshold) / base if base > 0 else 0.0


def cost_curve(y: np.ndarray, proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact cost at every distinct threshold: (thresholds ascending, cost of ``proba >= t``).

    One pass over the sorted scores: refusing every row with score >= t.
    """
    y = np.asarray(y, dtype=float)
    proba = np.asarray(proba, dtype=float)
    order = np.argsort(-proba, kind="mergesort")
    p_sorted = proba[order]
    y_sorted = y[order]
    # Cut after the last row of each run of equal scores.
    last_of_run = np.r_[p_sorted[1:] != p_sorted[:-1], True]
    refused_pos = np.cumsum(y_sorted)[last_of_run]
    refused_neg = np.cumsum(1.0 - y_sorted)[last_of_run]
    total_pos = y.sum()
    fn = total_pos - refused_pos
    fp = refused_neg
    thresholds = p_sorted[last_of_run]
    cost = FN_COST * fn + FP_COST * fp
    # Also the threshold above every score (refuse nobody).
    thresholds = np.r_[thresholds, np.nextafter(p_sorted[0], np.inf)]
    cost = np.r_[cost, FN_COST * total_pos]
    return thresholds[::-1], cost[::-1]


def best_threshold(y: np.ndarray, proba: np.ndarray) -> ThresholdResult:
    """Threshold with the lowest business cost on these (out-of-fold) predictions.

    Among equal costs the highest threshold wins (fewest refusals). The threshold is kept inside
    [0, 1] so it is a valid bundle threshold.
    """
    y = np.asarray(y)
    thresholds, cost = cost_curve(y, proba)
    best = np.flatnonzero(cost == cost.min())[-1]
    t = float(min(max(thresholds[best], 0.0), 1.0))
    pred = proba >= t
    fn = int(np.sum((y == 1) & ~pred))
    fp = int(np.sum((y == 0) & pred))
    base = constant_cost(y)
    return ThresholdResult(
        threshold=t,
        cost=float(cost[best]),
        score=1.0 - float(cost[best]) / base if base > 0 else 0.0,
        false_negatives=fn,
        false_positives=fp,
        refusal_rate=float(pred.mean()),
    )


def auc(y: np.ndarray, proba: np.ndarray) -> float:
    return float(roc_auc_score(y, proba))
