"""Generate the parity fixtures: small models trained with the pinned lightgbm / xgboost on
seeded synthetic data, input rows (with edge rows), and the libraries' own outputs.

Run from the repository root after `make venv`:

    .venv/bin/python tests/parity/gen_fixtures.py

Each fixture directory holds
  model.txt | model.json   the model as the library saves it
  rows.csv                 raw inputs: header = feature names, category labels as strings,
                           empty cell = missing, floats written with repr() (exact round trip)
  expected.csv             per row: raw_score, probability, then one contrib_<feature> column
                           per model feature and contrib_bias (pred_contrib / pred_contribs)
and manifest.json lists the fixtures. The Rust parity tests (core/tests/parity.rs) read these
files; they never need Python.
"""

from __future__ import annotations

import json
import math
import shutil
import struct
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import xgboost as xgb

OUT = Path(__file__).resolve().parent
SEED = 20240607

# LightGBM's kZeroThreshold (1e-35f widened to double) and values on both sides of it.
K_ZERO = 1.0000000180025095e-35
TINY = [
    K_ZERO,
    -K_ZERO,
    math.nextafter(K_ZERO, math.inf),
    math.nextafter(K_ZERO, 0.0),
    -math.nextafter(K_ZERO, math.inf),
    -math.nextafter(K_ZERO, 0.0),
    1e-35,
    -1e-35,
    1e-36,
    2e-35,
    -2e-35,
    5e-324,
    -5e-324,
    1e-300,
]
SPECIAL = [0.0, -0.0, 1e30, -1e30, *TINY]


def f32_next(x: float, direction: float) -> float:
    """Next float32 after float32 x towards direction, as a float64."""
    bits = struct.unpack("<i", struct.pack("<f", x))[0]
    if x == 0.0:
        step = struct.unpack("<f", struct.pack("<i", 1))[0]
        return step if direction > 0 else -step
    up = (direction > x) == (x > 0)
    bits = bits + 1 if up else bits - 1
    return float(struct.unpack("<f", struct.pack("<i", bits))[0])


def lgbm_thresholds(booster: lgb.Booster) -> dict[int, list[float]]:
    """Numeric split thresholds per feature index."""
    out: dict[int, set[float]] = {}

    def walk(node: dict) -> None:
        if "split_index" not in node:
            return
        if node["decision_type"] == "<=":
            out.setdefault(node["split_feature"], set()).add(float(node["threshold"]))
        walk(node["left_child"])
        walk(node["right_child"])

    for tree in booster.dump_model()["tree_info"]:
        walk(tree["tree_structure"])
    return {f: sorted(v) for f, v in out.items()}


def xgb_thresholds(booster: xgb.Booster) -> dict[int, list[float]]:
    model = json.loads(booster.save_raw("json"))
    out: dict[int, set[float]] = {}
    for tree in model["learner"]["gradient_booster"]["model"]["trees"]:
        for i, left in enumerate(tree["left_children"]):
            if left != -1 and tree["split_type"][i] == 0:
                out.setdefault(tree["split_indices"][i], set()).add(
                    float(np.float32(tree["split_conditions"][i]))
                )
    return {f: sorted(v) for f, v in out.items()}


def threshold_rows(
    base: pd.DataFrame, numeric: list[str], thresholds: dict[int, list[float]], columns: list[str], f32: bool
) -> pd.DataFrame:
    """Rows that put every numeric feature at each of its split thresholds and their float64
    (and float32) neighbours. Features are packed: row k uses the k-th value of every feature."""
    values: dict[str, list[float]] = {}
    for f, ts in thresholds.items():
        name = columns[f]
        if name not in numeric:
            continue
        vals = []
        for t in ts:
            vals += [t, math.nextafter(t, -math.inf), math.nextafter(t, math.inf)]
            if f32:
                vals += [f32_next(t, -math.inf), f32_next(t, math.inf)]
        values[name] = vals
    n = max((len(v) for v in values.values()), default=0)
    rows = base.sample(n=n, replace=True, random_state=SEED).reset_index(drop=True)
    for name, vals in values.items():
        col = np.array([vals[k % len(vals)] for k in range(n)], dtype=np.float64)
        rows[name] = col
    # Also one feature at a time on top of a random row, for a sample of the values.
    rng = np.random.default_rng(SEED)
    singles = []
    for name, vals in values.items():
        picks = rng.choice(len(vals), size=min(len(vals), 30), replace=False)
        block = base.sample(n=len(picks), replace=True, random_state=int(rng.integers(1 << 30))).reset_index(
            drop=True
        )
        block[name] = np.array([vals[p] for p in picks], dtype=np.float64)
        singles.append(block)
    return pd.concat([rows, *singles], ignore_index=True)


def edge_rows(base: pd.DataFrame, numeric: list[str], categorical: dict[str, list]) -> pd.DataFrame:
    """All missing, +-1e30, signed zeros, tiny values, unseen and missing categories."""
    template = base.iloc[[0]].copy()
    rows = []
    empty = template.copy()
    for c in template.columns:
        empty[c] = np.nan if c in numeric else None
    rows.append(empty)
    for v in SPECIAL:
        r = template.copy()
        for c in numeric:
            r[c] = v
        rows.append(r)
    rng = np.random.default_rng(SEED + 1)
    for _ in range(60):
        r = base.iloc[[int(rng.integers(len(base)))]].copy()
        for c in numeric:
            u = rng.random()
            if u < 0.25:
                r[c] = SPECIAL[int(rng.integers(len(SPECIAL)))]
            elif u < 0.35:
                r[c] = np.nan
        for c in categorical:
            u = rng.random()
            if u < 0.2:
                r[c] = "zz_unseen"
            elif u < 0.3:
                r[c] = None
        rows.append(r)
    for c, levels in categorical.items():
        for label in ["zz_unseen", None, *levels]:
            r = template.copy()
            r[c] = label
            rows.append(r)
    return pd.concat(rows, ignore_index=True)


def as_model_frame(raw: pd.DataFrame, categorical: dict[str, pd.CategoricalDtype]) -> pd.DataFrame:
    """The raw rows with category columns cast to the training dtype (unseen labels -> NaN)."""
    df = raw.copy()
    for c, dtype in categorical.items():
        df[c] = pd.Categorical(df[c].astype(object).where(df[c].notna(), None), dtype=dtype)
    for c in df.columns:
        if c not in categorical:
            df[c] = df[c].astype(np.float64)
    return df


def cell(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    return str(v)


def write_rows(path: Path, raw: pd.DataFrame) -> None:
    lines = [",".join(raw.columns)]
    for row in raw.itertuples(index=False):
        lines.append(",".join(cell(v) for v in row))
    path.write_text("\n".join(lines) + "\n")


def write_expected(
    path: Path, names: list[str], raw: np.ndarray, prob: np.ndarray, contrib: np.ndarray
) -> None:
    header = ["raw_score", "probability", *[f"contrib_{n}" for n in names], "contrib_bias"]
    lines = [",".join(header)]
    for r, p, c in zip(raw, prob, contrib, strict=True):
        lines.append(",".join(repr(float(x)) for x in [r, p, *c]))
    path.write_text("\n".join(lines) + "\n")


def write_lgbm_expected(path: Path, booster: lgb.Booster, frame: pd.DataFrame) -> None:
    """expected.csv of a LightGBM booster on `frame`: raw score, probability and pred_contrib, all
    on one thread."""
    write_expected(
        path,
        booster.feature_name(),
        booster.predict(frame, raw_score=True, num_threads=1),
        booster.predict(frame, num_threads=1),
        booster.predict(frame, pred_contrib=True, num_threads=1),
    )


def write_xgb_expected(path: Path, names: list[str], booster: xgb.Booster, dm: xgb.DMatrix) -> None:
    """expected.csv of an XGBoost booster on `dm`: output margin, probability and pred_contribs."""
    write_expected(
        path,
        names,
        booster.predict(dm, output_margin=True),
        booster.predict(dm),
        booster.predict(dm, pred_contribs=True),
    )


def synthetic(n: int, n_numeric: int, rng: np.random.Generator, missing: float = 0.0) -> pd.DataFrame:
    data = {}
    for i in range(n_numeric):
        kind = i % 4
        if kind == 0:
            col = rng.normal(size=n)
        elif kind == 1:
            col = rng.exponential(scale=1000.0, size=n)
        elif kind == 2:
            col = rng.integers(-20000, 0, size=n).astype(np.float64)
        else:
            col = rng.uniform(0, 1, size=n)
        if missing:
            col[rng.random(n) < missing * (0.5 + (i % 3) / 2)] = np.nan
        data[f"x{i}"] = col
    return pd.DataFrame(data)


def label(df: pd.DataFrame, rng: np.random.Generator, cats: dict[str, list] | None = None) -> np.ndarray:
    z = np.zeros(len(df))
    for i, c in enumerate([c for c in df.columns if c.startswith("x")]):
        v = df[c].to_numpy(dtype=np.float64)
        if np.all(np.isnan(v)):
            continue
        std = np.nanstd(v) or 1.0
        filled = np.where(np.isnan(v), np.nanmean(v) if not np.all(np.isnan(v)) else 0.0, v)
        z += ((-1) ** i) * np.tanh((filled - np.nanmean(filled)) / std) * (1.0 / (1 + i % 3))
        z += np.isnan(v) * 0.4 * ((-1) ** i)
    for c, levels in (cats or {}).items():
        effect = {lv: rng.normal() for lv in levels}
        z += df[c].astype(object).map(effect).fillna(0.0).to_numpy(dtype=np.float64)
    z += rng.normal(size=len(df)) * 0.8
    return (z > np.quantile(z, 0.7)).astype(int)


# Lines of model.txt that only inform (gains, hessian sums, internal values): removed from the
# 500-tree fixture to keep the repository lean. LightGBM loads the file without them, and its
# expected outputs are computed from the stripped file itself (tree_sizes goes too: the byte
# lengths change, and LightGBM then finds the trees by their `Tree=` lines).
INFORMATIONAL = ("split_gain=", "leaf_weight=", "internal_value=", "internal_weight=", "tree_sizes=")


def probe_rows(
    raw: pd.DataFrame, cats: dict[str, list], thresholds: dict[int, list[float]], f32: bool
) -> pd.DataFrame:
    """A fixture's rows: 200 training rows, the edge rows, and rows on and beside every split
    threshold of the trained model (`thresholds` as lgbm_thresholds / xgb_thresholds give them)."""
    numeric = [c for c in raw.columns if c not in cats]
    return pd.concat(
        [
            raw.sample(n=200, random_state=SEED).reset_index(drop=True),
            edge_rows(raw, numeric, cats),
            threshold_rows(raw, numeric, thresholds, list(raw.columns), f32=f32),
        ],
        ignore_index=True,
    )


def lgbm_fixture(
    name: str,
    raw: pd.DataFrame,
    y: np.ndarray,
    cats: dict[str, list],
    params: dict,
    rounds: int,
    strip: bool = False,
):
    dtypes = {c: pd.CategoricalDtype(levels) for c, levels in cats.items()}
    train = as_model_frame(raw, dtypes)
    base = {"objective": "binary", "verbose": -1, "seed": SEED, "deterministic": True, "num_threads": 1}
    booster = lgb.train({**base, **params}, lgb.Dataset(train, label=y), num_boost_round=rounds)
    rows = probe_rows(raw, cats, lgbm_thresholds(booster), f32=False)
    frame = as_model_frame(rows, dtypes)
    out = OUT / name
    out.mkdir(parents=True, exist_ok=True)
    booster.save_model(out / "model.txt")
    if strip:
        full = booster
        text = (out / "model.txt").read_text()
        kept = [line for line in text.split("\n") if not line.startswith(INFORMATIONAL)]
        (out / "model.txt").write_text("\n".join(kept))
        booster = lgb.Booster(model_file=out / "model.txt")
        assert np.array_equal(booster.predict(frame, raw_score=True), full.predict(frame, raw_score=True))
    write_rows(out / "rows.csv", rows)
    write_lgbm_expected(out / "expected.csv", booster, frame)
    return {
        "name": name,
        "library": "lightgbm",
        "model": "model.txt",
        "rows": len(rows),
        "trees": booster.num_trees(),
    }


def xgb_fixture(
    name: str, raw: pd.DataFrame, y: np.ndarray, cats: dict[str, list], params: dict, rounds: int
):
    dtypes = {c: pd.CategoricalDtype(levels) for c, levels in cats.items()}
    train = as_model_frame(raw, dtypes)
    base = {"objective": "binary:logistic", "seed": SEED, "nthread": 1, "tree_method": "hist"}
    dtrain = xgb.DMatrix(train, label=y, enable_categorical=True)
    booster = xgb.train({**base, **params}, dtrain, num_boost_round=rounds)
    rows = probe_rows(raw, cats, xgb_thresholds(booster), f32=True)
    frame = as_model_frame(rows, dtypes)
    dm = xgb.DMatrix(frame, enable_categorical=True, missing=np.nan)
    out = OUT / name
    out.mkdir(parents=True, exist_ok=True)
    booster.save_model(out / "model.json")
    write_rows(out / "rows.csv", rows)
    write_xgb_expected(out / "expected.csv", list(raw.columns), booster, dm)
    return {"name": name, "library": "xgboost", "model": "model.json", "rows": len(rows), "trees": rounds}


def with_categories(raw: pd.DataFrame, rng: np.random.Generator) -> tuple[pd.DataFrame, dict[str, list]]:
    n = len(raw)
    cats = {
        "cat_small": list("abcde"),
        "cat_big": [f"L{i:02d}" for i in range(45)],
        "cat_two": ["N", "Y"],
        "cat_int": [10, 20, 30, 40],
    }
    df = raw.copy()
    for c, levels in cats.items():
        p = rng.dirichlet(np.ones(len(levels)))
        col = pd.Series(rng.choice(np.array(levels, dtype=object), size=n, p=p), dtype=object)
        col[rng.random(n) < 0.05] = None
        df[c] = col
    return df, cats


def main() -> None:
    for child in OUT.iterdir():
        if child.is_dir() and (child / "expected.csv").exists():
            shutil.rmtree(child)
    rng = np.random.default_rng(SEED)
    manifest = []

    raw = synthetic(4000, 8, rng)
    y = label(raw, rng)
    manifest.append(lgbm_fixture("lgbm_numeric", raw, y, {}, {"num_leaves": 31, "learning_rate": 0.1}, 60))

    raw = synthetic(4000, 5, rng)
    raw, cats = with_categories(raw, rng)
    y = label(raw, rng, cats)
    params = {
        "num_leaves": 31,
        "learning_rate": 0.1,
        "min_data_per_group": 5,
        "cat_smooth": 1.0,
        "cat_l2": 1.0,
    }
    manifest.append(lgbm_fixture("lgbm_categorical", raw, y, cats, params, 60))

    raw = synthetic(4000, 8, rng, missing=0.5)
    raw["x_all_nan"] = np.nan
    y = label(raw, rng)
    manifest.append(lgbm_fixture("lgbm_missing", raw, y, {}, {"num_leaves": 31, "learning_rate": 0.1}, 60))

    raw = synthetic(4000, 6, rng, missing=0.2)
    for c in raw.columns[::2]:
        raw.loc[rng.random(len(raw)) < 0.3, c] = 0.0
    y = label(raw, rng)
    params = {"num_leaves": 15, "learning_rate": 0.1, "zero_as_missing": True}
    manifest.append(lgbm_fixture("lgbm_zero_as_missing", raw, y, {}, params, 40))

    raw = synthetic(30000, 12, rng, missing=0.1)
    # Whole-number features (day counts, amounts) keep the 500 x 255 model file small: their
    # thresholds print short (e.g. -12327.5).
    for c in raw.columns[1:]:
        raw[c] = np.round(raw[c] * (100 if c in ("x3", "x7", "x11") else 1))
    y = label(raw, rng)
    params = {
        "num_leaves": 255,
        "learning_rate": 0.05,
        "min_data_in_leaf": 5,
        "feature_fraction": 0.8,
        "bagging_seed": SEED,
    }
    manifest.append(lgbm_fixture("lgbm_large", raw, y, {}, params, 500, strip=True))

    raw = synthetic(4000, 8, rng, missing=0.15)
    y = label(raw, rng)
    manifest.append(xgb_fixture("xgb_numeric", raw, y, {}, {"max_depth": 5, "eta": 0.2}, 60))

    raw = synthetic(4000, 5, rng, missing=0.1)
    raw, cats = with_categories(raw, rng)
    y = label(raw, rng, cats)
    manifest.append(
        xgb_fixture("xgb_categorical", raw, y, cats, {"max_depth": 5, "eta": 0.2, "max_cat_to_onehot": 4}, 60)
    )

    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    for m in manifest:
        size = sum(p.stat().st_size for p in (OUT / m["name"]).iterdir())
        print(f"{m['name']:24s} {m['trees']:4d} trees {m['rows']:5d} rows {size / 1e6:6.2f} MB")


if __name__ == "__main__":
    main()
