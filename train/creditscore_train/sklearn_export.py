"""Export a fitted scikit-learn ``HistGradientBoostingClassifier`` (binary) to JSON for
``creditscore import sklearn`` (core/src/import/sklearn.rs).

Format ``creditscore-sklearn-hgb`` version 1 (one JSON object):

    format, format_version, sklearn_version, loss ("log_loss")
    feature_names: [str]              input features in the order the estimator was fitted on
    baseline: "f64"                   raw-score intercept (_baseline_prediction, log-odds)
    categories: [null | [value]]      per feature: null (numeric) or the known categories in the
                                      encoder's order (numbers for integer-coded columns, strings
                                      for pandas categories); category *index* e refers to entry e
    trees: [{                         one per iteration (binary: one tree per iteration), nodes as
      value: ["f64"], count: [int],   sklearn's predictor node array, root at 0
      feature: [int],                 index into feature_names (the ColumnTransformer reordering
                                      of categorical columns is undone here)
      threshold: ["f64"],             numeric split: x <= threshold goes left
      missing_left: [bool], left: [int], right: [int], is_leaf: [bool], is_categorical: [bool],
      left_categories: [null | [int]] categorical split: category indices that go left
    }]

Floats are written as shortest round-trip decimal strings, so every reader parses them exactly.
Scoring rules (scikit-learn 1.9.1 ``_predict_one_from_raw_data``): NaN takes ``missing_left``;
a categorical value goes left when its category is in ``left_categories``, right when it is
another known category, and an unknown category follows ``missing_left``; raw = baseline + the
leaf values of every tree in order; probability = sigmoid(raw).
"""

from __future__ import annotations

import json

import numpy as np
import sklearn
from sklearn.ensemble import HistGradientBoostingClassifier

FORMAT = "creditscore-sklearn-hgb"
FORMAT_VERSION = 1


class ExportError(ValueError):
    pass


def _f(v) -> str:
    return repr(float(v))


def _bitset_members(words: np.ndarray) -> list[int]:
    out = []
    for w, word in enumerate(words):
        word = int(word)
        for b in range(32):
            if (word >> b) & 1:
                out.append(32 * w + b)
    return out


def _category_value(v):
    if isinstance(v, str):
        return v
    if isinstance(v, (np.floating, float)):
        f = float(v)
        return int(f) if f.is_integer() else f
    if isinstance(v, (np.integer, int)):
        return int(v)
    return str(v)


def export(clf: HistGradientBoostingClassifier, feature_names: list[str] | None = None) -> dict:
    if not isinstance(clf, HistGradientBoostingClassifier):
        raise ExportError("only HistGradientBoostingClassifier is supported")
    if not hasattr(clf, "_predictors"):
        raise ExportError("the classifier is not fitted")
    if clf.n_trees_per_iteration_ != 1:
        raise ExportError("only binary classification is supported (one tree per iteration)")
    n_features = int(clf.n_features_in_)
    if feature_names is None:
        names = getattr(clf, "feature_names_in_", None)
        feature_names = [str(n) for n in names] if names is not None else [f"f{i}" for i in range(n_features)]
    if len(feature_names) != n_features:
        raise ExportError(f"{len(feature_names)} feature names for {n_features} features")

    # The fitted matrix puts the categorical columns first when a preprocessor is used.
    categories: list = [None] * n_features
    if getattr(clf, "_preprocessor", None) is not None:
        is_cat = np.asarray(clf.is_categorical_, dtype=bool)
        original = np.r_[np.flatnonzero(is_cat), np.flatnonzero(~is_cat)]
        encoder = clf._preprocessor.named_transformers_["encoder"]
        for col, cats in zip(np.flatnonzero(is_cat), encoder.categories_, strict=True):
            categories[col] = [_category_value(c) for c in cats if not _is_nan(c)]
    else:
        original = np.arange(n_features)

    trees = []
    for iteration in clf._predictors:
        predictor = iteration[0]
        nodes = predictor.nodes
        bitsets = predictor.raw_left_cat_bitsets
        left_categories = []
        for node in nodes:
            if node["is_leaf"] or not node["is_categorical"]:
                left_categories.append(None)
            else:
                left_categories.append(_bitset_members(bitsets[node["bitset_idx"]]))
        trees.append(
            {
                "value": [_f(v) for v in nodes["value"]],
                "count": [int(c) for c in nodes["count"]],
                "feature": [int(original[f]) for f in nodes["feature_idx"]],
                "threshold": [_f(v) for v in nodes["num_threshold"]],
                "missing_left": [bool(v) for v in nodes["missing_go_to_left"]],
                "left": [int(v) for v in nodes["left"]],
                "right": [int(v) for v in nodes["right"]],
                "is_leaf": [bool(v) for v in nodes["is_leaf"]],
                "is_categorical": [bool(v) for v in nodes["is_categorical"]],
                "left_categories": left_categories,
            }
        )
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "sklearn_version": sklearn.__version__,
        "loss": "log_loss",
        "feature_names": list(feature_names),
        "baseline": _f(np.asarray(clf._baseline_prediction).ravel()[0]),
        "categories": categories,
        "trees": trees,
    }


def _is_nan(v) -> bool:
    try:
        return bool(np.isnan(v))
    except TypeError:
        return False


def save(clf: HistGradientBoostingClassifier, path, feature_names: list[str] | None = None) -> None:
    with open(path, "w") as fh:
        json.dump(export(clf, feature_names), fh, separators=(",", ":"))
