"""Shared helpers: the release CLI (the reference the package must equal) and parity fixtures."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]
PARITY = REPO / "tests" / "parity"
FIXTURES = json.loads((PARITY / "manifest.json").read_text())


def cli_path() -> Path:
    path = Path(os.environ.get("CREDITSCORE_CLI", REPO / "target" / "release" / "creditscore"))
    assert path.exists(), f"{path}: build it with `make build`"
    return path


def cli(*args: object) -> None:
    proc = subprocess.run([str(cli_path()), *map(str, args)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def cli_scores(bundle: Path, rows_csv: Path, out: Path, *extra: str) -> pd.DataFrame:
    """`creditscore predict` on a CSV file: raw_score, probability, prediction, score, ..."""
    cli("predict", "--bundle", bundle, "--input", rows_csv, "--out", out, *extra)
    return pd.read_csv(out, float_precision="round_trip", keep_default_na=False, na_values=[""])


def read_rows(path: Path, bundle) -> pd.DataFrame:
    """A CSV as the CLI reads it: empty cell = missing, exact floats, categories as text."""
    categorical = {name: str for name, kind in bundle.inputs if kind == "categorical"}
    return pd.read_csv(
        path,
        dtype=categorical,
        keep_default_na=False,
        na_values=[""],
        float_precision="round_trip",
    )


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and bool(np.all(a.view(np.uint64) == b.view(np.uint64)))


@pytest.fixture(scope="session")
def bundles(tmp_path_factory) -> dict[str, Path]:
    """Every parity fixture's model imported by the CLI into a bundle."""
    out = tmp_path_factory.mktemp("bundles")
    paths = {}
    for f in FIXTURES:
        path = out / f"{f['name']}.csb"
        cli("import", f["library"], PARITY / f["name"] / f["model"], "--out", path)
        paths[f["name"]] = path
    return paths
