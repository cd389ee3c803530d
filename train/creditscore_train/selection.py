"""Correlation-based selection of the required inputs (method ``correlation``).

Every numeric input is scored by |Pearson correlation| with the target, computed on the model
feature matrix the core produces (sentinels already missing; pairwise-complete rows). The
``top_n`` best with a score of at least ``min_corr`` are selected, then the configured categorical
inputs are added (their score is the largest |correlation| of one of their level indicators).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

DEFAULT_METHOD = "correlation"
DEFAULT_TOP_N = 8
DEFAULT_MIN_CORR = 0.02
DEFAULT_CATEGORICAL = ("CODE_GENDER", "FLAG_OWN_CAR")


@dataclass
class Selection:
    method: str
    top_n: int
    min_corr: float
    scores: list[dict] = field(default_factory=list)
    selected: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "method": self.method,
            "top_n": self.top_n,
            "min_corr": self.min_corr,
            "scores": self.scores,
            "selected": self.selected,
        }


def _abs_corr(x: pd.Series, y: pd.Series) -> float:
    mask = x.notna().to_numpy()
    xv = x.to_numpy(dtype=float)[mask]
    yv = y.to_numpy(dtype=float)[mask]
    if len(xv) < 3 or np.std(xv) == 0 or np.std(yv) == 0:
        return 0.0
    return float(abs(np.corrcoef(xv, yv)[0, 1]))


def select(
    matrix: pd.DataFrame,
    target: pd.Series,
    numeric: list[str],
    categorical: list[str],
    levels: dict[str, list[str]],
    method: str = DEFAULT_METHOD,
    top_n: int = DEFAULT_TOP_N,
    min_corr: float = DEFAULT_MIN_CORR,
) -> Selection:
    if method != "correlation":
        raise ValueError(f"unknown feature selection method {method!r} (supported: correlation)")
    if top_n < 1:
        raise ValueError("top_n must be at least 1")
    scores = [(name, _abs_corr(matrix[name], target)) for name in numeric]
    scores.sort(key=lambda s: (-s[1], s[0]))
    chosen = [name for name, s in scores if s >= min_corr][:top_n]
    cat_scores = []
    for name in categorical:
        codes = matrix[name]
        best = 0.0
        for code in range(len(levels[name])):
            indicator = (codes == code).astype(float).where(codes.notna())
            best = max(best, _abs_corr(indicator, target))
        cat_scores.append((name, best))
    ranked = sorted(scores + cat_scores, key=lambda s: (-s[1], s[0]))
    all_scores = [{"feature": n, "score": round(s, 6)} for n, s in ranked]
    return Selection(
        method=method,
        top_n=top_n,
        min_corr=min_corr,
        scores=all_scores,
        selected=chosen + list(categorical),
    )
