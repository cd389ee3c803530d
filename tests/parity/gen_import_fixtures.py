"""Generate the import-rule fixtures: one small model per rule of docs/MODEL_IMPORT.md whose edge
values the importers must treat as the library does, the rows that probe the rule, and the
library's own outputs for them.

Run from the repository root after `make venv` (about 20 seconds):

    .venv/bin/python tests/parity/gen_import_fixtures.py

Fixtures (tests/parity/import/<name>/, same layout as gen_fixtures.py: model file, rows.csv,
expected.csv with raw_score, probability, contrib_<feature>..., contrib_bias):
  xgb_category_codes   categorical feature trained on integer codes (no labels in the file):
                       XGBoost rounds every input to float32 before it compares, so codes such
                       as 0.999999999999 are category 1, 16777217 is 2^24 (out of range: left)
  xgb_early_stopping   XGBClassifier with early stopping: expected = predict_proba after
                       load_model (iterations up to best_iteration); expected_all.csv = Booster
                       .predict (every tree). model.ubj is the same model as UBJSON.
  xgb_nan_literals     a categorical model whose categorical split_conditions are written as the
                       NaN literal, as XGBoost 1.x-2.0 wrote them; XGBoost 3.2 loads the file
  lgbm_v2_single_level LightGBM text model with a `version=v2` header, a single-level pandas
                       category (feature_infos `none`) and a 4-level one
  xgb_gblinear         a gblinear model (model.json only): must be refused by name
The Rust tests (core/tests/parity.rs) read these files; they never need Python.
"""

from __future__ import annotations

import json
import math
import re
import sys
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import xgboost as xgb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gen_fixtures import (  # noqa: E402
    f32_next,
    threshold_rows,
    write_expected,
    write_lgbm_expected,
    write_rows,
    write_xgb_expected,
    xgb_thresholds,
)

OUT = Path(__file__).resolve().parent / "import"
SEED = 20261130

# Category-code probes: every value around each code, and the float32 / range edges.
CODE_EDGES = [
    0.999999999999,
    1.0000000001,
    1.00000001,
    2.9999999,
    -0.0,
    -1e-10,
    -1e-300,
    -0.5,
    -1.0,
    float(2**24 - 1),
    float(2**24),
    float(2**24 + 1),
    16777216.5,
    1e10,
    -1e10,
    3.4028235e38,
    float("nan"),
]


def code_probes(n_codes: int) -> list[float]:
    out = list(CODE_EDGES)
    for k in range(n_codes + 2):
        for d in (0.0, 1e-12, -1e-12, 1e-7, -1e-7, 0.5, -0.5, 0.25):
            out.append(k + d)
        out += [f32_next(float(k), math.inf), f32_next(float(k), -math.inf)] if k else []
    return out


def code_probe_rows(X: np.ndarray, names: list[str], n_codes: int) -> pd.DataFrame:
    """The first row of X once per code probe, in the `code` column."""
    probes = code_probes(n_codes)
    edge = pd.DataFrame(np.repeat(X[:1], len(probes), axis=0), columns=names)
    edge["code"] = probes
    return edge


def train_on_codes(X, y, names, types, depth: int, rounds: int) -> xgb.Booster:
    """XGBoost on a matrix whose `c` columns are category codes (partition splits)."""
    dtrain = xgb.DMatrix(X, label=y, feature_names=names, feature_types=types, enable_categorical=True)
    params = {
        "objective": "binary:logistic",
        "seed": SEED,
        "nthread": 1,
        "tree_method": "hist",
        "max_depth": depth,
        "max_cat_to_onehot": 1,
    }
    return xgb.train(params, dtrain, num_boost_round=rounds)


def xgb_category_codes(rng: np.random.Generator) -> None:
    n = 3000
    codes = rng.integers(0, 7, n).astype(np.float64)
    codes[rng.random(n) < 0.08] = np.nan
    x0, x1 = rng.normal(size=n), rng.exponential(100.0, size=n)
    effect = np.array([0.9, -0.7, 0.2, 1.1, -1.2, 0.0, 0.6])
    z = x0 + np.where(np.isnan(codes), 0.5, effect[np.nan_to_num(codes).astype(int)]) - x1 / 300
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)
    X = np.c_[x0, x1, codes]
    names, types = ["x0", "x1", "code"], ["q", "q", "c"]
    booster = train_on_codes(X, y, names, types, depth=4, rounds=30)
    base = pd.DataFrame(X[rng.choice(n, 200, replace=False)], columns=names)
    edge = code_probe_rows(X, names, 7)
    numeric = threshold_rows(
        pd.DataFrame(X, columns=names), ["x0", "x1"], xgb_thresholds(booster), names, f32=True
    )
    rows = pd.concat([base, edge, numeric], ignore_index=True)
    write_xgb("xgb_category_codes", booster, rows, names, types)


def write_xgb(name: str, booster: xgb.Booster, rows: pd.DataFrame, names, types, model=None) -> Path:
    out = OUT / name
    out.mkdir(parents=True, exist_ok=True)
    if model is None:
        booster.save_model(out / "model.json")
    dm = xgb.DMatrix(rows.to_numpy(), feature_names=names, feature_types=types, enable_categorical=True)
    write_rows(out / "rows.csv", rows)
    write_xgb_expected(out / "expected.csv", names, booster, dm)
    print(f"{name}: {len(rows)} rows")
    return out


def xgb_early_stopping(rng: np.random.Generator) -> None:
    n = 1500
    X = rng.normal(size=(n, 4))
    X[rng.random((n, 4)) < 0.05] = np.nan
    z = np.nan_to_num(X[:, 0]) - 0.5 * np.nan_to_num(X[:, 1]) + rng.normal(size=n) * 1.5
    y = (z > 0).astype(int)
    names = [f"f{i}" for i in range(4)]
    clf = xgb.XGBClassifier(
        n_estimators=300,
        max_depth=3,
        learning_rate=0.3,
        early_stopping_rounds=10,
        eval_metric="logloss",
        random_state=SEED,
        n_jobs=1,
    )
    clf.fit(X[:1000], y[:1000], eval_set=[(X[1000:], y[1000:])], verbose=False)
    out = OUT / "xgb_early_stopping"
    out.mkdir(parents=True, exist_ok=True)
    clf.save_model(out / "model.json")
    clf.save_model(out / "model.ubj")
    loaded = xgb.XGBClassifier()
    loaded.load_model(out / "model.json")
    booster = xgb.Booster()
    booster.load_model(out / "model.json")
    assert booster.num_boosted_rounds() > loaded.best_iteration + 1, "early stopping must stop early"
    rows = pd.DataFrame(
        np.r_[
            X[1000:1200],
            threshold_rows(
                pd.DataFrame(X, columns=names), names, xgb_thresholds(booster), names, f32=True
            ).to_numpy(),
        ],
        columns=names,
    )
    dm = xgb.DMatrix(rows.to_numpy(), feature_names=names)
    best = (0, loaded.best_iteration + 1)
    write_rows(out / "rows.csv", rows)
    write_expected(
        out / "expected.csv",
        names,
        booster.predict(dm, output_margin=True, iteration_range=best),
        loaded.predict_proba(rows.to_numpy())[:, 1],
        booster.predict(dm, pred_contribs=True, iteration_range=best),
    )
    write_xgb_expected(out / "expected_all.csv", names, booster, dm)
    ubj = xgb.Booster()
    ubj.load_model(out / "model.ubj")
    assert np.array_equal(ubj.predict(dm), booster.predict(dm))
    print(f"xgb_early_stopping: best_iteration {loaded.best_iteration} of {booster.num_boosted_rounds()}")


def xgb_nan_literals(rng: np.random.Generator) -> None:
    n = 2000
    codes = rng.integers(0, 5, n).astype(np.float64)
    x0 = rng.normal(size=n)
    z = x0 + np.array([1.0, -1.0, 0.3, 0.8, -0.4])[codes.astype(int)]
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)
    X = np.c_[x0, codes]
    names, types = ["x0", "code"], ["q", "c"]
    booster = train_on_codes(X, y, names, types, depth=3, rounds=10)
    model = json.loads(booster.save_raw("json"))
    replaced = 0
    for tree in model["learner"]["gradient_booster"]["model"]["trees"]:
        for node in tree["categories_nodes"]:
            tree["split_conditions"][node] = float("nan")
            replaced += 1
    assert replaced, "the model must have categorical splits"
    out = OUT / "xgb_nan_literals"
    out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(model, separators=(",", ":"))  # writes the bare NaN literal
    assert "NaN" in text
    (out / "model.json").write_text(text)
    old = xgb.Booster()
    old.load_model(out / "model.json")
    edge = code_probe_rows(X, names, 5)
    rows = pd.concat([pd.DataFrame(X[:150], columns=names), edge], ignore_index=True)
    write_xgb("xgb_nan_literals", old, rows, names, types, model=True)


def lgbm_v2_single_level(rng: np.random.Generator) -> None:
    n = 2000
    grade = pd.Categorical(rng.choice(list("abcd"), n), categories=list("abcd"))
    df = pd.DataFrame(
        {
            "x0": rng.normal(size=n),
            "country": pd.Categorical(["FR"] * n, categories=["FR"]),
            "grade": grade,
            "x1": rng.uniform(size=n),
        }
    )
    z = df["x0"] + pd.Series(grade).map({"a": 1.0, "b": -1.0, "c": 0.2, "d": 0.6}).astype(float) - df["x1"]
    y = (rng.random(n) < 1 / (1 + np.exp(-z.to_numpy()))).astype(int)
    params = {
        "objective": "binary",
        "verbose": -1,
        "seed": SEED,
        "deterministic": True,
        "num_threads": 1,
        "min_data_per_group": 5,
        "cat_smooth": 1.0,
        "num_leaves": 8,
    }
    booster = lgb.train(params, lgb.Dataset(df, label=y), num_boost_round=20)
    out = OUT / "lgbm_v2_single_level"
    out.mkdir(parents=True, exist_ok=True)
    text = booster.model_to_string()
    assert re.search(r"^feature_infos=\S+ none ", text, re.M), "single-level category: feature_infos none"
    text = text.replace("version=v4", "version=v2", 1)
    (out / "model.txt").write_text(text)
    v2 = lgb.Booster(model_file=out / "model.txt")
    raw = pd.DataFrame(
        {
            "x0": np.r_[df["x0"].to_numpy()[:150], [0.0, np.nan, -1e30, 1e30]],
            "country": ["FR"] * 150 + ["FR", "DE", None, "FR"],
            "grade": list(df["grade"].astype(object)[:150]) + ["a", "z", None, "d"],
            "x1": np.r_[df["x1"].to_numpy()[:150], [0.5, 0.5, np.nan, 1e-36]],
        }
    )
    frame = raw.copy()
    frame["country"] = pd.Categorical(raw["country"], categories=["FR"])
    frame["grade"] = pd.Categorical(raw["grade"], categories=list("abcd"))
    write_rows(out / "rows.csv", raw)
    write_lgbm_expected(out / "expected.csv", v2, frame)
    print(f"lgbm_v2_single_level: {len(raw)} rows")


def xgb_gblinear(rng: np.random.Generator) -> None:
    X = rng.normal(size=(300, 3))
    y = (X[:, 0] > 0).astype(int)
    booster = xgb.train(
        {"objective": "binary:logistic", "booster": "gblinear", "nthread": 1, "seed": SEED},
        xgb.DMatrix(X, label=y),
        num_boost_round=3,
    )
    out = OUT / "xgb_gblinear"
    out.mkdir(parents=True, exist_ok=True)
    booster.save_model(out / "model.json")
    print("xgb_gblinear: model only (refusal)")


def main() -> None:
    rng = np.random.default_rng(SEED)
    xgb_category_codes(rng)
    xgb_early_stopping(rng)
    xgb_nan_literals(rng)
    lgbm_v2_single_level(rng)
    xgb_gblinear(rng)


if __name__ == "__main__":
    main()
