"""Batch scoring speed: LightGBM's own `Booster.predict` against `creditscore bench` on the same
models and rows, in one run: on one thread, and on every thread (LightGBM `num_threads=0`, its
default: OpenMP on all cores; creditscore `bench --threads` default: all cores).

    make bench                       # builds the release CLI, then runs this script
    .venv/bin/python bench/bench_vs_lightgbm.py [--rows N] [--seconds S] [--cli PATH]

Models (trained once on seeded synthetic data, cached under target/bench/):
  300 trees x 31 leaves and 1000 trees x 255 leaves, 20 features with some missing values;
  and 300 trees x 31 leaves where 4 of the 20 features are pandas categoricals (3 to 58 levels,
  like Home Credit's), so most trees have categorical splits.
Targets: creditscore batch throughput >= 4x LightGBM on 300x31 and >= 2x on 1000x255 (none is
set for the categorical model; it is reported for information).
LightGBM is timed on a float64 numpy matrix (its fastest input, no pandas conversion; category
codes for the categorical model); the creditscore figure excludes CSV parsing and validation
(done once before timing) but includes everything `predict` does per batch: scoring and the
sigmoid.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import lightgbm as lgb
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "target" / "bench"
SEED = 7
# Feature names of the models (LightGBM's own default for a bare matrix) = the CSV header.
NAMES = [f"Column_{i}" for i in range(20)]

MODELS = [
    {"name": "lgbm_300x31", "trees": 300, "leaves": 31, "target": 4.0},
    {"name": "lgbm_1000x255", "trees": 1000, "leaves": 255, "target": 2.0},
    {
        "name": "lgbm_cat_300x31",
        "trees": 300,
        "leaves": 31,
        "target": None,
        "categorical": True,
    },
]
# Categorical columns of the categorical model and their number of levels.
CATEGORIES = {10: 3, 11: 8, 12: 20, 13: 58}


def data(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    x = rng.normal(size=(n, 20))
    x[:, 5:10] = np.round(np.abs(x[:, 5:10]) * 1000)
    x[rng.random((n, 20)) < 0.1] = np.nan
    z = np.nan_to_num(
        x[:, 0] - 0.5 * x[:, 1] + np.sin(x[:, 2] * 3) + 0.001 * x[:, 5]
    ) + rng.normal(size=n)
    return x, (z > 0.8).astype(int)


def with_categories(
    x: np.ndarray, y: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Columns of CATEGORIES become category codes (NaN stays missing) that move the label."""
    x = x.copy()
    z = y * 2.0 - 1.0
    for j, levels in CATEGORIES.items():
        missing = np.isnan(x[:, j])
        codes = rng.integers(0, levels, size=len(x)).astype(float)
        effect = rng.normal(size=levels)
        z = z + np.where(missing, 0.0, effect[codes.astype(int)])
        x[:, j] = np.where(missing, np.nan, codes)
    return x, (z + rng.normal(size=len(x)) > 0.5).astype(int)


def frame(x: np.ndarray):
    """The matrix as pandas, the categorical columns with string levels (pandas_categorical)."""
    import pandas as pd

    df = pd.DataFrame(x, columns=NAMES)
    for j, levels in CATEGORIES.items():
        names = [f"L{i}" for i in range(levels)]
        df[NAMES[j]] = pd.Categorical.from_codes(
            np.nan_to_num(x[:, j], nan=-1).astype(int), names
        )
    return df


def model(spec: dict, x: np.ndarray, y: np.ndarray) -> Path:
    path = WORK / f"{spec['name']}.txt"
    if not path.exists():
        params = {
            "objective": "binary",
            "num_leaves": spec["leaves"],
            "min_data_in_leaf": 5,
            "learning_rate": 0.05,
            "verbose": -1,
            "seed": SEED,
            "num_threads": 2,
        }
        print(f"training {spec['name']} ...", file=sys.stderr)
        train = (
            lgb.Dataset(frame(x), label=y)
            if spec.get("categorical")
            else lgb.Dataset(x, label=y, feature_name=NAMES)
        )
        booster = lgb.train(params, train, num_boost_round=spec["trees"])
        booster.save_model(path)
    return path


def write_rows(path: Path, x: np.ndarray, categorical: bool = False) -> None:
    def cell(j: int, v: float) -> str:
        if np.isnan(v):
            return ""
        return f"L{int(v)}" if categorical and j in CATEGORIES else repr(float(v))

    lines = [",".join(NAMES[: x.shape[1]])]
    for row in x:
        lines.append(",".join(cell(j, v) for j, v in enumerate(row)))
    path.write_text("\n".join(lines) + "\n")


def time_lightgbm(
    booster: lgb.Booster, x: np.ndarray, seconds: float, num_threads: int = 1
) -> tuple[float, float]:
    """Fastest full-batch prediction, ns/row: (wall-clock, thread CPU time). The CPU time is only
    meaningful on one thread (`num_threads=1`; 0 = LightGBM's default, every core)."""
    booster.predict(x[:100], num_threads=num_threads)
    wall = cpu = float("inf")
    start = time.perf_counter()
    runs = 0
    while runs < 3 or time.perf_counter() - start < seconds:
        t, c = time.perf_counter(), time.thread_time()
        booster.predict(x, num_threads=num_threads)
        cpu = min(cpu, (time.thread_time() - c) / len(x) * 1e9)
        wall = min(wall, (time.perf_counter() - t) / len(x) * 1e9)
        runs += 1
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=20000, help="rows scored per batch")
    parser.add_argument(
        "--seconds", type=float, default=3.0, help="time per measurement"
    )
    parser.add_argument(
        "--cli", default=str(ROOT / "target" / "release" / "creditscore")
    )
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    x_train, y_train = data(60000, rng)
    x, _ = data(args.rows, rng)
    cat_rng = np.random.default_rng(SEED + 1)
    x_train_cat, y_train_cat = with_categories(x_train, y_train, cat_rng)
    x_cat, _ = with_categories(x, np.zeros(len(x)), cat_rng)

    results = []
    for spec in MODELS:
        categorical = spec.get("categorical", False)
        if categorical:
            path = model(spec, x_train_cat, y_train_cat)
            x_spec = x_cat
            rows_csv = WORK / f"rows_cat_{args.rows}.csv"
        else:
            path = model(spec, x_train, y_train)
            x_spec = x
            rows_csv = WORK / f"rows_{args.rows}.csv"
        if not rows_csv.exists():
            write_rows(rows_csv, x_spec, categorical)
        booster = lgb.Booster(model_file=path)
        bundle = WORK / f"{spec['name']}.csb"
        subprocess.run(
            [args.cli, "import", "lightgbm", str(path), "--out", str(bundle)],
            check=True,
        )
        lgb_ns = time_lightgbm(booster, x_spec, args.seconds)
        lgb_all_ns, _ = time_lightgbm(booster, x_spec, args.seconds, num_threads=0)
        out = subprocess.run(
            [
                args.cli,
                "bench",
                "--bundle",
                str(bundle),
                "--input",
                str(rows_csv),
                "--seconds",
                str(args.seconds),
                "--json",
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        ours = json.loads(out.stdout)
        # Same model, same rows: the probabilities must agree before speed means anything.
        scores = WORK / f"{spec['name']}_scores.csv"
        subprocess.run(
            [
                args.cli,
                "predict",
                "--bundle",
                str(bundle),
                "--input",
                str(rows_csv),
                "--out",
                str(scores),
            ],
            check=True,
            capture_output=True,
        )
        ours_p = np.loadtxt(scores, delimiter=",", skiprows=1, usecols=1)
        diff = float(np.max(np.abs(ours_p - booster.predict(x_spec, num_threads=1))))
        ours["max_abs_diff"] = diff
        results.append((spec, lgb_ns, ours, lgb_all_ns))

    print()
    print(
        f"{args.rows} rows, one thread, batch scoring (probabilities), fastest of repeated passes; "
        "CPU = the thread's CPU time (robust when other processes share the machine)"
    )
    print(
        f"{'model':16s} {'LightGBM ns/row':>16s} {'creditscore ns/row':>19s} {'ratio':>7s}"
        f" {'LightGBM CPU':>13s} {'ours CPU':>9s} {'CPU ratio':>9s} {'target':>6s}"
        f" {'single ns/row':>14s} {'load ms':>8s} {'max |p diff|':>12s}"
    )
    for spec, (lgb_wall, lgb_cpu), ours, _ in results:
        target = spec["target"]
        wall_ratio = lgb_wall / ours["batch_ns_per_row"]
        our_cpu = ours.get("batch_cpu_ns_per_row")
        cpu_ratio = lgb_cpu / our_cpu if our_cpu else float("nan")
        print(
            f"{spec['name']:16s} {lgb_wall:16.1f} {ours['batch_ns_per_row']:19.1f} {wall_ratio:6.2f}x"
            f" {lgb_cpu:13.1f} {our_cpu or float('nan'):9.1f} {cpu_ratio:8.2f}x"
            + (f" {target:5.1f}x" if target else f" {'-':>6s}")
            + f" {ours['single_ns_per_row']:14.1f} {ours['load_ms']:8.2f} {ours['max_abs_diff']:12.1e}"
            + (
                ""
                if target is None or max(wall_ratio, cpu_ratio) >= target
                else "   (below target)"
            )
        )

    threads = results[0][2]["threads"]
    print()
    print(
        f"{args.rows} rows, every thread (creditscore {threads} threads, `predict`'s chunks; "
        f"LightGBM num_threads=0 on {os.cpu_count()} cores), wall-clock, fastest pass"
    )
    print(
        f"{'model':16s} {'LightGBM ns/row':>16s} {'creditscore ns/row':>19s} {'ratio':>7s}"
        f" {'ours 1 thr':>11s} {'ours scaling':>12s}"
    )
    for spec, _, ours, lgb_all in results:
        par = ours["parallel_ns_per_row"]
        print(
            f"{spec['name']:16s} {lgb_all:16.1f} {par:19.1f} {lgb_all / par:6.2f}x"
            f" {ours['batch_ns_per_row']:11.1f} {ours['batch_ns_per_row'] / par:11.2f}x"
        )


if __name__ == "__main__":
    main()
