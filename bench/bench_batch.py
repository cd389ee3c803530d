"""Batch scoring throughput on one 1M-row file, every way the product offers, against LightGBM on
the same rows and the same model, in one run (issue 17):

  - `creditscore predict` (CLI, CSV in -> CSV out) on 1 thread and on every thread: wall-clock,
    peak RSS of the process (getrusage of that child), and the sha256 of both outputs (they must
    be byte-identical);
  - the Python package: `Bundle.score(DataFrame)` on the rows already read by pandas;
  - Dask: python/examples/dask_score.py's `score_parquet` on a dask.distributed LocalCluster of
    2 worker processes (1 thread each), partitioned Parquet in -> Parquet with scores out;
  - LightGBM `Booster.predict` (the model the bundle was imported from) on the rows' model
    feature matrix (float64, computed by the core beforehand), num_threads=1 and 0 (all cores).

    make bench-batch                    # builds the CLI and the wheel, then runs this script
    .venv/bin/python bench/bench_batch.py [--rows 1000000] [--cli PATH]

The rows are the training stand-in's (train/creditscore_train/standin.py: the 122 columns of
Home Credit's application_train.csv in its real format, codes and quoting included), without
TARGET, as application_test.csv has them; generated once, seeded, under target/bench/batch/
(not committed). The model: LightGBM (300 trees x 31 leaves) trained on 50,000 other stand-in
rows on the default bundle's model features, imported with the default bundle's schema and
threshold, so every input goes through the same validation as in production.

What each figure includes: the CLI, reading and parsing the CSV, validation, features, scoring
and writing the CSV; the package, converting the pandas columns, validation, features, scoring
(not read_csv, timed apart); Dask, reading the Parquet partitions, scoring and writing Parquet
(not the cluster's start-up); LightGBM, only `predict` on a ready float64 matrix (its fastest
input). Each is run once: the machine may be shared, see the uptime printed with the numbers.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import creditscore
import lightgbm as lgb
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "target" / "bench" / "batch"
DEFAULT_BUNDLE = ROOT / "models" / "default.csb"
SEED = 2026
TRAIN_ROWS = 50_000
TREES, LEAVES = 300, 31
DASK_PARTITIONS = 16


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def standin(n: int, seed: int) -> pd.DataFrame:
    sys.path.insert(0, str(ROOT / "train"))
    from creditscore_train import standin as gen

    return gen.generate(n, seed=seed)


def rows_file(n: int) -> Path:
    """The n-row input file (application_test.csv format), generated once."""
    path = WORK / f"rows_{n}.csv"
    if not path.exists():
        log(f"generating {n} stand-in rows -> {path}")
        frame = standin(n, SEED).drop(columns=["TARGET"])
        tmp = path.with_suffix(".tmp")
        frame.to_csv(tmp, index=False, na_rep="")
        tmp.rename(path)
    return path


def model(default: creditscore.Bundle) -> tuple[Path, Path]:
    """LightGBM model text and the bundle imported from it (default bundle's schema), built once."""
    model_txt, bundle_path = WORK / "model.txt", WORK / "model.csb"
    if model_txt.exists() and bundle_path.exists():
        return model_txt, bundle_path
    log(f"training LightGBM {TREES}x{LEAVES} on {TRAIN_ROWS} stand-in rows")
    train = standin(TRAIN_ROWS, SEED + 1)
    schema = default.schema
    x = schema.features(train, ignore_unknown_columns=True)
    kinds = dict(schema.inputs)
    categorical = [i for i, f in enumerate(schema.model_features) if kinds.get(f) == "categorical"]
    data = lgb.Dataset(
        x,
        train["TARGET"].to_numpy(),
        feature_name=schema.model_features,
        categorical_feature=categorical,
    )
    params = {
        "objective": "binary",
        "num_leaves": LEAVES,
        "learning_rate": 0.05,
        "min_data_in_leaf": 20,
        "seed": SEED,
        "num_threads": 2,
        "verbose": -1,
    }
    booster = lgb.train(params, data, num_boost_round=TREES)
    booster.save_model(str(model_txt))
    spec = {
        "meta": {
            "name": "bench_batch",
            "version": "1",
            "created": "",
            "source": "",
            "training": {"data": "synthetic stand-in rows (bench/bench_batch.py)"},
        },
        "schema": json.loads(schema.to_json()),
        "threshold": default.threshold,
    }
    creditscore.import_model("lightgbm", model_txt, bundle_path, spec=spec)
    return model_txt, bundle_path


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def run_cli(cli: Path, bundle: Path, rows: Path, out: Path, threads: int | None) -> tuple[float, int]:
    """Wall-clock seconds and peak RSS (bytes) of one `creditscore predict` process.

    The peak is the process's own VmHWM (/proc/PID/status), read until it exits: getrusage's
    ru_maxrss of a child would also count this Python process's RSS at fork time."""
    args = [str(cli), "predict", "--bundle", str(bundle), "--input", str(rows), "--out", str(out)]
    if threads is not None:
        args += ["--threads", str(threads)]
    t = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    status = Path(f"/proc/{proc.pid}/status")
    while proc.poll() is None:
        try:
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) * 1024)
        except (FileNotFoundError, ProcessLookupError):
            pass
        time.sleep(0.05)
    seconds = time.perf_counter() - t
    stderr = proc.stderr.read().decode()
    if proc.returncode != 0:
        raise SystemExit(f"creditscore predict failed ({proc.returncode}): {stderr[-2000:]}")
    return seconds, peak


def load_dask_example():
    """python/examples/dask_score.py as an importable module, in this process and the workers'
    (which unpickle score_partition by reference)."""
    examples = str(ROOT / "python" / "examples")
    sys.path.insert(0, examples)
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [examples, os.environ.get("PYTHONPATH")]))
    import dask_score

    return dask_score


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--cli", type=Path, default=ROOT / "target" / "release" / "creditscore")
    args = ap.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)

    default = creditscore.Bundle.load(DEFAULT_BUNDLE)
    rows = rows_file(args.rows)
    model_txt, bundle_path = model(default)
    bundle = creditscore.Bundle.load(bundle_path)
    n = args.rows
    cores = os.cpu_count()
    results: list[tuple[str, float, str]] = []

    def record(name: str, seconds: float, note: str = "") -> None:
        results.append((name, seconds, note))
        log(f"  {name}: {seconds:.2f} s, {n / seconds:,.0f} rows/s {note}")

    # CLI, one thread then every thread.
    out1, out_all = WORK / "scores_1thread.csv", WORK / "scores_all.csv"
    log("creditscore predict --threads 1")
    t1, rss1 = run_cli(args.cli, bundle_path, rows, out1, 1)
    log("creditscore predict (all threads)")
    t_all, rss_all = run_cli(args.cli, bundle_path, rows, out_all, None)
    sha1, sha_all = sha256(out1), sha256(out_all)
    record("CLI predict, 1 thread (CSV in/out)", t1, f"peak RSS {rss1 / 2**20:.0f} MiB")
    record(
        f"CLI predict, all threads ({cores})",
        t_all,
        f"peak RSS {rss_all / 2**20:.0f} MiB",
    )

    # Python package on a pandas DataFrame (read_csv timed apart).
    log("pandas read_csv + Bundle.score")
    text = {name: str for name, kind in bundle.inputs if kind == "categorical"}
    t = time.perf_counter()
    df = pd.read_csv(rows, dtype=text, keep_default_na=False, na_values=[""])
    t_read = time.perf_counter() - t
    t = time.perf_counter()
    scores = bundle.score(df)
    t_pkg = time.perf_counter() - t
    record(
        f"Python package Bundle.score(DataFrame), all threads ({cores})",
        t_pkg,
        f"read_csv {t_read:.1f} s apart",
    )
    cli_scores = pd.read_csv(out1, float_precision="round_trip")
    pkg_same = bool(
        np.array_equal(
            scores.probability.view(np.uint64),
            cli_scores["probability"].to_numpy().view(np.uint64),
        )
    )

    # Dask LocalCluster, 2 workers x 1 thread, partitioned Parquet in and out.
    log(f"Dask: {DASK_PARTITIONS} Parquet partitions, LocalCluster 2 workers")
    import dask.dataframe as dd
    from dask.distributed import Client, LocalCluster

    parquet_in, parquet_out = WORK / "parquet_in", WORK / "parquet_out"
    for d in (parquet_in, parquet_out):
        if d.exists():
            for p in d.glob("*"):
                p.unlink()
    dd.from_pandas(df, npartitions=DASK_PARTITIONS).to_parquet(parquet_in, write_index=False)
    example = load_dask_example()  # before the workers start: they inherit PYTHONPATH
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster),
    ):
        t = time.perf_counter()
        example.score_parquet(str(bundle_path), str(parquet_in), str(parquet_out))
        t_dask = time.perf_counter() - t
    parts = sorted(parquet_out.glob("*.parquet"), key=lambda p: int(p.stem.split(".")[-1]))
    dask_p = pd.concat([pd.read_parquet(p, columns=["probability"]) for p in parts])["probability"].to_numpy()
    dask_same = bool(np.array_equal(dask_p.view(np.uint64), cli_scores["probability"].to_numpy().view(np.uint64)))
    record(
        "Dask map_partitions, LocalCluster 2 workers x 1 thread (Parquet in/out)",
        t_dask,
        "",
    )

    # LightGBM on the same rows' model feature matrix.
    log("LightGBM Booster.predict")
    x = bundle.schema.features(df)
    booster = lgb.Booster(model_file=str(model_txt))
    booster.predict(x[:1000], num_threads=1)  # warm-up
    t = time.perf_counter()
    p_lgb = booster.predict(x, num_threads=1)
    t_lgb1 = time.perf_counter() - t
    t = time.perf_counter()
    booster.predict(x, num_threads=0)
    t_lgb_all = time.perf_counter() - t
    lgb_diff = float(np.max(np.abs(p_lgb - cli_scores["probability"].to_numpy())))
    record("LightGBM Booster.predict(float64 matrix), num_threads=1", t_lgb1, "")
    record(
        f"LightGBM Booster.predict(float64 matrix), num_threads=0 ({cores} cores)",
        t_lgb_all,
        "",
    )

    uptime = subprocess.run(["uptime"], check=False, capture_output=True, text=True).stdout.strip()
    print(
        f"bench-batch {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: {n} rows x {df.shape[1]} columns "
        f"({rows.stat().st_size / 2**20:.0f} MiB CSV), model {TREES} trees x {LEAVES} leaves, "
        f"{len(bundle.model_features)} model features, {cores} cores"
    )
    print(f"uptime: {uptime}  (machine shared with other jobs; each figure is one run)")
    print()
    width = max(len(r[0]) for r in results)
    print(f"{'way':<{width}}  {'seconds':>8}  {'rows/s':>11}  note")
    for name, seconds, note in results:
        print(f"{name:<{width}}  {seconds:8.2f}  {n / seconds:11,.0f}  {note}")
    print()
    print(f"CLI output sha256, 1 thread:    {sha1}")
    print(f"CLI output sha256, all threads: {sha_all}")
    print(f"byte-identical: {'yes' if sha1 == sha_all else 'NO'}")
    print(
        f"package probabilities == CLI (bits): {pkg_same}; Dask == CLI (bits): {dask_same}; "
        f"max |LightGBM - CLI| = {lgb_diff:.3g}"
    )
    print(
        f"CLI all threads / LightGBM all threads: {t_lgb_all / t_all:.2f}x rows/s "
        f"(1 thread: {t_lgb1 / t1:.2f}x); the CLI figure includes CSV parsing, validation and writing"
    )
    if sha1 != sha_all or not pkg_same or not dask_same or lgb_diff > 1e-12:
        raise SystemExit("outputs differ")


if __name__ == "__main__":
    main()
