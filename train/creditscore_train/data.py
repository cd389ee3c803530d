"""Training data: the real Home Credit ``application_train.csv`` when given, else synthetic rows."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import synthetic
from .synthetic import COLUMNS, TARGET


@dataclass
class Dataset:
    frame: pd.DataFrame
    synthetic: bool
    description: str

    @property
    def label(self) -> str:
        return "SYNTHETIC" if self.synthetic else "REAL"


def load_real(path: str | Path, rows: int | None = None) -> Dataset:
    """The columns this pipeline uses from Home Credit's application_train.csv (122 columns)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist (the real data is not in the repository)")
    header = pd.read_csv(path, nrows=0).columns
    missing = [c for c in [*COLUMNS, TARGET] if c not in header]
    if missing:
        raise ValueError(f"{path} lacks columns {missing}: is it Home Credit's application_train.csv?")
    frame = pd.read_csv(path, usecols=[*COLUMNS, TARGET], nrows=rows)
    frame = frame[[*COLUMNS, TARGET]]
    return Dataset(frame, False, f"Home Credit application_train.csv ({len(frame)} rows, {path.name})")


def load_synthetic(rows: int, seed: int) -> Dataset:
    frame = synthetic.generate(rows, seed=seed)
    return Dataset(
        frame,
        True,
        f"SYNTHETIC Home-Credit-shaped data ({rows} rows, seed {seed}; train/creditscore_train/synthetic.py)",
    )


def load(path: str | None, rows: int, seed: int) -> Dataset:
    return load_real(path) if path else load_synthetic(rows, seed)
