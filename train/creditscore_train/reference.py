"""Reference statistics of the training data, for the drift report (ReferenceStats in
core/src/bundle.rs): per model input, 101 percentiles / mean / std / missing rate (numeric) or
level proportions (categorical); the score's percentiles and the refusal rate at the threshold."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .schema import SENTINELS

QUANTILE_POINTS = 101


def _f(v: float) -> float:
    return float(v)


def feature_reference(schema: dict, raw: pd.DataFrame) -> list[dict]:
    """Statistics of the raw inputs as clients send them (sentinels count as missing, as the core
    scores them)."""
    out = []
    for field in schema["inputs"]:
        name = field["name"]
        col = raw[name]
        if field["type"] == "numeric":
            values = col.astype(float)
            sentinel = SENTINELS.get(name)
            if sentinel is not None:
                values = values.mask(values == sentinel)
            observed = values.dropna().to_numpy()
            missing = float(1.0 - len(observed) / len(values)) if len(values) else 0.0
            if len(observed) == 0:
                continue
            q = np.quantile(observed, np.linspace(0.0, 1.0, QUANTILE_POINTS))
            out.append(
                {
                    "name": name,
                    "missing_rate": missing,
                    "type": "numeric",
                    "quantiles": [_f(v) for v in q],
                    "mean": _f(observed.mean()),
                    "std": _f(observed.std()),
                }
            )
        else:
            levels = field["levels"]
            observed = col.dropna().astype(str)
            counts = observed.value_counts()
            total = max(len(observed), 1)
            out.append(
                {
                    "name": name,
                    "missing_rate": float(1.0 - len(observed) / len(col)) if len(col) else 0.0,
                    "type": "categorical",
                    "levels": levels,
                    "proportions": [float(counts.get(level, 0) / total) for level in levels],
                }
            )
    return out


def score_reference(proba: np.ndarray, threshold: float) -> dict:
    q = np.quantile(np.asarray(proba, dtype=float), np.linspace(0.0, 1.0, QUANTILE_POINTS))
    return {"quantiles": [_f(v) for v in q], "refusal_rate": float(np.mean(proba >= threshold))}


def reference_stats(schema: dict, raw: pd.DataFrame, proba: np.ndarray, threshold: float) -> dict:
    return {
        "rows": len(raw),
        "features": feature_reference(schema, raw),
        "score": score_reference(proba, threshold),
    }
