"""The Dask example (python/examples/dask_score.py) on a 2-worker LocalCluster: a partitioned
Parquet dataset in, Parquet with scores out, every score equal to the CLI's, bit for bit."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
from conftest import PARITY, REPO, cli_scores, read_rows, same_bits

import creditscore


def test_dask_example_scores_a_partitioned_parquet_dataset_like_the_cli(bundles, tmp_path):
    import dask.dataframe as dd

    fixture = "lgbm_categorical"
    rows = PARITY / fixture / "rows.csv"
    expected = cli_scores(bundles[fixture], rows, tmp_path / "cli.csv")
    df = read_rows(rows, creditscore.Bundle.load(bundles[fixture]))
    dd.from_pandas(df, npartitions=4).to_parquet(tmp_path / "in", write_index=False)

    subprocess.run(
        [
            sys.executable,
            REPO / "python" / "examples" / "dask_score.py",
            "--bundle",
            bundles[fixture],
            "--input",
            tmp_path / "in",
            "--out",
            tmp_path / "out",
            "--workers",
            "2",
        ],
        check=True,
        timeout=300,
    )
    parts = sorted((tmp_path / "out").glob("*.parquet"), key=lambda p: int(p.stem.split(".")[-1]))
    assert len(parts) == 4
    got = pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
    assert len(got) == len(expected)
    assert same_bits(got["raw_score"], expected["raw_score"])
    assert same_bits(got["probability"], expected["probability"])
    assert np.array_equal(got["prediction"], expected["prediction"])
    # The inputs are carried through unchanged.
    assert np.array_equal(got["x0"].to_numpy(), df["x0"].to_numpy(), equal_nan=True)
