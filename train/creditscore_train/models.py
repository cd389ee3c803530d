"""Model zoo, StratifiedKFold comparison and tuning on the business score.

Every candidate is a (family, imbalance strategy) pair:
- ``class_weight``: the minority class weighted by n_neg / n_pos (sample weights when the estimator
  has no class_weight);
- ``undersample``: each training fold keeps every default and as many randomly drawn non-defaults;
- ``none`` (boosted families only): plain fit, whose probabilities stay calibrated.
All candidates see the same folds. Each gets its out-of-fold (OOF) predictions over the whole
training set, the AUC of those, its own best threshold on them and the business score there.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import lightgbm as lgb
import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.compose import ColumnTransformer
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier

from . import metrics, options

BOOSTED = ("hist_gradient_boosting", "lightgbm", "xgboost")
FAMILIES = (
    "dummy",
    "logistic_regression",
    "naive_bayes",
    "decision_tree",
    "random_forest",
    "hist_gradient_boosting",
    "lightgbm",
    "xgboost",
)
# Families the bundle importers can take (tree ensembles with a Rust importer).
EXPORTABLE = ("lightgbm", "xgboost", "hist_gradient_boosting")


@dataclass
class Features:
    """Column roles of the model matrix (in model order)."""

    names: list[str]
    categorical: list[str]
    # Monotone constraints of the boosted families: feature -> +1 / -1 (options.MONOTONE).
    monotone: dict[str, int] = field(default_factory=dict)

    @property
    def categorical_idx(self) -> list[int]:
        return [self.names.index(c) for c in self.categorical]

    @property
    def numeric(self) -> list[str]:
        return [n for n in self.names if n not in self.categorical]


def _linear_preprocessor(feat: Features, scale: bool) -> ColumnTransformer:
    num_steps = [("impute", SimpleImputer(strategy="median", add_indicator=True))]
    if scale:
        num_steps.append(("scale", StandardScaler()))
    return ColumnTransformer(
        [
            ("num", Pipeline(num_steps), feat.numeric),
            (
                "cat",
                Pipeline(
                    [
                        ("impute", SimpleImputer(strategy="constant", fill_value=-1.0)),
                        ("onehot", OneHotEncoder(handle_unknown="ignore", min_frequency=20)),
                    ]
                ),
                feat.categorical,
            ),
        ]
    )


DEFAULT_PARAMS: dict[str, dict] = {
    "dummy": {},
    "logistic_regression": {"C": 0.1, "max_iter": 500},
    "naive_bayes": {},
    "decision_tree": {"max_depth": 6, "min_samples_leaf": 100},
    "random_forest": {
        "n_estimators": 100,
        "max_depth": 10,
        "min_samples_leaf": 20,
        "max_features": 0.3,
        "max_samples": 0.5,
    },
    "hist_gradient_boosting": {
        "max_iter": 250,
        "learning_rate": 0.05,
        "max_leaf_nodes": 15,
        "min_samples_leaf": 80,
        "l2_regularization": 1.0,
    },
    "lightgbm": {
        "n_estimators": 400,
        "learning_rate": 0.03,
        "num_leaves": 15,
        "min_child_samples": 100,
        "subsample": 0.8,
        "subsample_freq": 1,
        "colsample_bytree": 0.5,
        "reg_lambda": 5.0,
    },
    "xgboost": {
        "n_estimators": 300,
        "learning_rate": 0.05,
        "max_depth": 4,
        "subsample": 0.8,
        "colsample_bytree": 0.7,
    },
}


def make_estimator(family: str, params: dict, feat: Features, weighted: bool, pos_weight: float, seed: int):
    """An unfitted estimator taking the model matrix (DataFrame in model order)."""
    cw = "balanced" if weighted else None
    if family == "dummy":
        return DummyClassifier(strategy="prior")
    if family == "logistic_regression":
        return Pipeline(
            [
                ("prep", _linear_preprocessor(feat, True)),
                ("model", LogisticRegression(class_weight=cw, **params)),
            ]
        )
    if family == "naive_bayes":
        return Pipeline([("prep", _linear_preprocessor(feat, True)), ("model", GaussianNB(**params))])
    if family == "decision_tree":
        return Pipeline(
            [
                ("prep", _linear_preprocessor(feat, False)),
                ("model", DecisionTreeClassifier(class_weight=cw, random_state=seed, **params)),
            ]
        )
    if family == "random_forest":
        return Pipeline(
            [
                ("prep", _linear_preprocessor(feat, False)),
                ("model", RandomForestClassifier(class_weight=cw, random_state=seed, n_jobs=2, **params)),
            ]
        )
    # Constraints are passed only when there are some, so an unconstrained fit is the same call
    # (and the same trees) as before the option existed.
    cst = options.constraint_vector(feat.names, feat.monotone) if feat.monotone else None
    if family == "hist_gradient_boosting":
        mask = [n in feat.categorical for n in feat.names]
        extra = {"monotonic_cst": cst} if cst else {}
        return HistGradientBoostingClassifier(
            categorical_features=mask,
            class_weight=cw,
            random_state=seed,
            early_stopping=False,
            **extra,
            **params,
        )
    if family == "lightgbm":
        extra = {"monotone_constraints": cst} if cst else {}
        return lgb.LGBMClassifier(
            objective="binary",
            scale_pos_weight=pos_weight if weighted else 1.0,
            random_state=seed,
            n_jobs=2,
            verbose=-1,
            **extra,
            **params,
        )
    if family == "xgboost":
        extra = {"monotone_constraints": "(" + ",".join(map(str, cst)) + ")"} if cst else {}
        return xgb.XGBClassifier(
            objective="binary:logistic",
            tree_method="hist",
            scale_pos_weight=pos_weight if weighted else 1.0,
            random_state=seed,
            n_jobs=2,
            **extra,
            **params,
        )
    raise ValueError(f"unknown model family {family!r}")


def fit(
    family: str,
    params: dict,
    strategy: str,
    X: pd.DataFrame,
    y: np.ndarray,
    feat: Features,
    seed: int,
):
    """Fits one candidate with its imbalance strategy; returns the fitted estimator."""
    y = np.asarray(y)
    if strategy == "undersample":
        rng = np.random.default_rng(seed)
        pos = np.flatnonzero(y == 1)
        neg = np.flatnonzero(y == 0)
        keep = np.sort(np.r_[pos, rng.choice(neg, size=min(len(pos), len(neg)), replace=False)])
        X, y = X.iloc[keep], y[keep]
    weighted = strategy == "class_weight"
    pos_weight = float((y == 0).sum() / max((y == 1).sum(), 1))
    est = make_estimator(family, params, feat, weighted, pos_weight, seed)
    kwargs: dict = {}
    if weighted and family == "naive_bayes":
        kwargs["model__sample_weight"] = np.where(y == 1, pos_weight, 1.0)
    if family == "lightgbm":
        kwargs["categorical_feature"] = feat.categorical_idx
        kwargs["feature_name"] = list(feat.names)
        X = X.to_numpy()
    elif family == "xgboost":
        X = X.to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y, **kwargs)
    return est


def predict_proba(est, family: str, X: pd.DataFrame) -> np.ndarray:
    data = X.to_numpy() if family in ("lightgbm", "xgboost") else X
    with warnings.catch_warnings():
        # LightGBM was given the feature names, the matrix is positional: same order by construction.
        warnings.simplefilter("ignore", UserWarning)
        return est.predict_proba(data)[:, 1]


@dataclass
class CvResult:
    family: str
    strategy: str
    params: dict
    oof: np.ndarray
    fold_auc: list[float]
    fit_seconds: list[float]
    auc: float = 0.0
    threshold: metrics.ThresholdResult | None = None
    extra: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.family}/{self.strategy}"

    def row(self) -> dict:
        t = self.threshold
        return {
            "model": self.family,
            "imbalance": self.strategy,
            "auc": self.auc,
            "auc_fold_std": float(np.std(self.fold_auc)),
            "business_score": t.score,
            "best_threshold": t.threshold,
            "refusal_rate": t.refusal_rate,
            "fit_seconds": float(np.mean(self.fit_seconds)),
        }


def cross_validate(
    family: str,
    params: dict,
    strategy: str,
    X: pd.DataFrame,
    y: np.ndarray,
    feat: Features,
    folds: list[tuple[np.ndarray, np.ndarray]],
    seed: int,
) -> CvResult:
    y = np.asarray(y)
    oof = np.zeros(len(y))
    fold_auc, fit_seconds = [], []
    for k, (tr, va) in enumerate(folds):
        start = time.perf_counter()
        est = fit(family, params, strategy, X.iloc[tr], y[tr], feat, seed + k)
        fit_seconds.append(time.perf_counter() - start)
        oof[va] = predict_proba(est, family, X.iloc[va])
        fold_auc.append(metrics.auc(y[va], oof[va]))
    res = CvResult(family, strategy, dict(params), oof, fold_auc, fit_seconds)
    res.auc = metrics.auc(y, oof)
    res.threshold = metrics.best_threshold(y, oof)
    return res


def make_folds(y: np.ndarray, n_splits: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    skf = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return list(skf.split(np.zeros(len(y)), y))


def strategies_for(family: str) -> list[str]:
    if family == "dummy":
        return ["none"]
    if family in BOOSTED:
        return ["none", "class_weight", "undersample"]
    return ["class_weight", "undersample"]


def compare(
    X: pd.DataFrame,
    y: np.ndarray,
    feat: Features,
    folds,
    seed: int,
    families=FAMILIES,
    log: Callable[[str], None] = print,
) -> list[CvResult]:
    results = []
    for family in families:
        for strategy in strategies_for(family):
            res = cross_validate(family, DEFAULT_PARAMS[family], strategy, X, y, feat, folds, seed)
            log(
                f"  {res.name:40s} AUC {res.auc:.4f}  business {res.threshold.score:+.4f} "
                f"@ {res.threshold.threshold:.4f}  fit {np.mean(res.fit_seconds):.2f}s"
            )
            results.append(res)
    return results


# Optuna ranges shared by the boosted families, by what a parameter does (each library names it
# its own way): rounds, step size, tree size (leaves), leaf size, row and column sampling, L2.
_ROUNDS = ("int", 150, 700, {"step": 50})
_LEARNING_RATE = ("float", 0.015, 0.12, {"log": True})
_LEAVES = ("int", 7, 63, {})
_LEAF_SAMPLES = ("int", 20, 400, {"log": True})
_ROW_SAMPLE = ("float", 0.6, 1.0, {})
_COLUMN_SAMPLE = ("float", 0.4, 1.0, {})
_L2 = ("float", 1e-3, 30.0, {"log": True})

# Each family's parameters in the order they are suggested (the order is part of what TPE draws
# from its seed, so it stays fixed); a plain value is passed as is.
SEARCH_SPACES = {
    "lightgbm": {
        "n_estimators": _ROUNDS,
        "learning_rate": _LEARNING_RATE,
        "num_leaves": _LEAVES,
        "min_child_samples": _LEAF_SAMPLES,
        "subsample": _ROW_SAMPLE,
        "subsample_freq": 1,
        "colsample_bytree": _COLUMN_SAMPLE,
        "reg_lambda": _L2,
    },
    "xgboost": {
        "n_estimators": _ROUNDS,
        "learning_rate": _LEARNING_RATE,
        "max_depth": ("int", 2, 7, {}),
        "min_child_weight": ("float", 1.0, 50.0, {"log": True}),
        "subsample": _ROW_SAMPLE,
        "colsample_bytree": _COLUMN_SAMPLE,
        "reg_lambda": _L2,
    },
    "hist_gradient_boosting": {
        "max_iter": _ROUNDS,
        "learning_rate": _LEARNING_RATE,
        "max_leaf_nodes": _LEAVES,
        "min_samples_leaf": _LEAF_SAMPLES,
        "l2_regularization": _L2,
    },
}


def search_space(family: str, trial) -> dict:
    """One trial's parameters for `family`, drawn from SEARCH_SPACES."""
    if family not in SEARCH_SPACES:
        raise ValueError(f"no search space for {family!r}")
    params = {}
    for name, spec in SEARCH_SPACES[family].items():
        if not isinstance(spec, tuple):
            params[name] = spec
            continue
        kind, low, high, options = spec
        suggest = trial.suggest_int if kind == "int" else trial.suggest_float
        params[name] = suggest(name, low, high, **options)
    return params


def tune(
    family: str,
    strategy: str,
    X: pd.DataFrame,
    y: np.ndarray,
    feat: Features,
    folds,
    seed: int,
    n_trials: int,
    baseline: CvResult,
    log: Callable[[str], None] = print,
) -> tuple[CvResult, list[dict]]:
    """Optuna TPE on the OOF business score (at each trial's own best threshold). The compared
    candidate (default parameters) stays the answer unless a trial beats it."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    trials: list[dict] = []
    best: dict = {"result": baseline}

    def objective(trial):
        params = search_space(family, trial)
        res = cross_validate(family, params, strategy, X, y, feat, folds, seed)
        trials.append(
            {"number": trial.number, **params, "auc": res.auc, "business_score": res.threshold.score}
        )
        log(f"  trial {trial.number:3d}: business {res.threshold.score:+.4f}  AUC {res.auc:.4f}")
        if res.threshold.score > best["result"].threshold.score:
            best["result"] = res
        return res.threshold.score

    sampler = optuna.samplers.TPESampler(seed=seed)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(objective, n_trials=n_trials)
    return best["result"], trials
