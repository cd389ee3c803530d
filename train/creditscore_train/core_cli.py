"""The Rust core through the `creditscore` CLI: feature matrices, model import, scoring.

Training computes its features with the same code that serves them (train/serve parity by
construction); this module is the only place that calls the binary.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[2]


class CoreError(RuntimeError):
    pass


def cli_path() -> Path:
    """The release CLI: ``$CREDITSCORE_CLI`` or target/release/creditscore (built by ``make build``)."""
    path = Path(os.environ.get("CREDITSCORE_CLI", REPO / "target" / "release" / "creditscore"))
    if not path.exists():
        raise CoreError(
            f"creditscore CLI not found at {path}: run `cargo build --release -p creditscore-cli`"
        )
    return path


def run(*args: str | os.PathLike) -> str:
    proc = subprocess.run([str(cli_path()), *map(str, args)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise CoreError(
            f"creditscore {' '.join(map(str, args[:1]))} failed ({proc.returncode}): {proc.stderr[-4000:]}"
        )
    return proc.stdout


def write_raw_csv(raw: pd.DataFrame, path: Path) -> None:
    """Raw rows as the CLI reads them: empty cell = missing, floats in round-trip precision."""
    out = raw.copy()
    for col in out.columns:
        s = out[col]
        if s.dtype.kind == "f":
            whole = s.dropna()
            # Whole-valued float columns (integers with NaN) are written without ".0".
            if len(whole) and np.all(np.mod(whole.to_numpy(), 1.0) == 0.0) and np.abs(whole).max() < 2**53:
                out[col] = s.astype("Int64")
    out.to_csv(path, index=False, na_rep="", float_format=None)


def read_matrix(path: Path) -> pd.DataFrame:
    # round_trip: the default C parser may be off by an ulp; the matrix must be read exactly.
    return pd.read_csv(
        path, dtype=np.float64, keep_default_na=False, na_values=[""], float_precision="round_trip"
    )


def feature_matrix(schema: dict, raw: pd.DataFrame, workdir: Path | None = None) -> pd.DataFrame:
    """The model feature matrix of ``raw`` (id + inputs) as the core computes it."""
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        tmp = Path(tmp)
        (tmp / "schema.json").write_text(json.dumps(schema))
        write_raw_csv(raw, tmp / "raw.csv")
        run(
            "features",
            "--schema",
            tmp / "schema.json",
            "--input",
            tmp / "raw.csv",
            "--out",
            tmp / "matrix.csv",
        )
        matrix = read_matrix(tmp / "matrix.csv")
    if list(matrix.columns) != schema["model_features"]:
        raise CoreError("feature matrix header differs from the schema's model_features")
    if len(matrix) != len(raw):
        raise CoreError(f"feature matrix has {len(matrix)} rows for {len(raw)} raw rows")
    matrix.index = raw.index
    return matrix


def import_model(kind: str, model_path: Path, spec: dict, out: Path) -> None:
    """``creditscore import <kind> MODEL --spec SPEC.json --out BUNDLE``."""
    with tempfile.TemporaryDirectory() as tmp:
        spec_path = Path(tmp) / "spec.json"
        spec_path.write_text(json.dumps(spec))
        run("import", kind, model_path, "--spec", spec_path, "--out", out)


def predict(bundle: Path, raw: pd.DataFrame, explain: bool = False) -> pd.DataFrame:
    """Scores raw rows through ``creditscore predict`` (CSV in, CSV out)."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        write_raw_csv(raw, tmp / "raw.csv")
        args = ["predict", "--bundle", bundle, "--input", tmp / "raw.csv", "--out", tmp / "scores.csv"]
        if explain:
            args.append("--explain")
        run(*args)
        return pd.read_csv(tmp / "scores.csv", float_precision="round_trip")
