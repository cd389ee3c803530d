"""Score a partitioned Parquet dataset with Dask and the creditscore package, and write Parquet
with the scores (one output partition per input partition, rows in input order).

    python python/examples/dask_score.py --bundle models/default.csb \\
        --input applications/ --out scored/ [--workers 2] [--scheduler tcp://host:8786]

Without --scheduler, a dask.distributed LocalCluster of --workers processes (one thread each)
runs on this machine; with it, the same code runs on a multi-machine cluster (every worker needs
the `creditscore` wheel installed and the bundle file at the same path, or on shared storage).
Each worker loads the bundle once and scores whole partitions with `Bundle.score` (columns in
Rust, no per-row Python): the scores are the CLI's, bit for bit. Any invalid row fails its
partition with `creditscore.ValidationError` (paths `data[i].FIELD`, i within the partition).
"""

from __future__ import annotations

import argparse
import functools

import pandas as pd

import creditscore

SCORE_COLUMNS = {"raw_score": "float64", "probability": "float64", "prediction": "uint8"}


@functools.lru_cache(maxsize=4)
def load(bundle_path: str) -> creditscore.Bundle:
    """One bundle per worker process, loaded at its first partition."""
    return creditscore.Bundle.load(bundle_path)


def score_partition(part: pd.DataFrame, bundle_path: str, threads: int | None) -> pd.DataFrame:
    """The partition's columns plus raw_score, probability and prediction."""
    scores = load(bundle_path).score(part, threads=threads)
    out = part.copy()
    out["raw_score"] = scores.raw_score
    out["probability"] = scores.probability
    out["prediction"] = scores.prediction
    return out


def score_parquet(bundle_path: str, input_dir: str, out_dir: str, threads: int | None = 1) -> None:
    """Runs on the current dask.distributed client (or Dask's default scheduler)."""
    import dask.dataframe as dd

    frame = dd.read_parquet(input_dir)
    meta = frame._meta.assign(**{c: pd.Series(dtype=t) for c, t in SCORE_COLUMNS.items()})
    scored = frame.map_partitions(score_partition, bundle_path, threads, meta=meta)
    scored.to_parquet(out_dir, write_index=False)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bundle", required=True)
    parser.add_argument("--input", required=True, help="Parquet dataset (directory or glob)")
    parser.add_argument("--out", required=True, help="output Parquet directory")
    parser.add_argument("--workers", type=int, default=2, help="LocalCluster worker processes")
    parser.add_argument("--scheduler", help="address of an existing Dask scheduler")
    args = parser.parse_args()

    from dask.distributed import Client, LocalCluster

    if args.scheduler:
        with Client(args.scheduler):
            score_parquet(args.bundle, args.input, args.out)
        return
    # One scoring thread per worker process: the workers are the parallelism.
    with (
        # ":0": the scheduler's HTTP server (dashboard, /health) on a free port. With None it still
        # serves /health on Dask's default :8787, the port `make serve` uses for the worker.
        LocalCluster(
            n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster),
    ):
        score_parquet(args.bundle, args.input, args.out)


if __name__ == "__main__":
    main()
