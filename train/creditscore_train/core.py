"""The Rust core through the `creditscore` Python package (python/, built and installed by
`make python-package`): feature matrices, model import, scoring.

Training computes its features with the same code that serves them (train/serve parity by
construction); this module is the only place that calls the core.
"""

from __future__ import annotations

from pathlib import Path

import creditscore
import pandas as pd

REPO = Path(__file__).resolve().parents[2]

# Bad input to the core (invalid rows, a model or spec that cannot become a bundle).
CoreError = creditscore.CreditscoreError


def feature_matrix(schema: dict, raw: pd.DataFrame) -> pd.DataFrame:
    """The model feature matrix of ``raw`` (id + inputs) as the core computes it: float64, NaN =
    missing, categories as level codes, columns = the schema's model_features."""
    core_schema = creditscore.Schema.from_json(schema)
    matrix = core_schema.features(raw)
    return pd.DataFrame(matrix, columns=core_schema.model_features, index=raw.index)


def import_model(kind: str, model_path: Path, spec: dict, out: Path) -> None:
    """The model file saved by ``kind`` (lightgbm, xgboost, sklearn) as a bundle at ``out``."""
    creditscore.import_model(kind, model_path, out, spec=spec)


def bundle_header(bundle: Path | bytes) -> dict:
    """The header of a bundle (a file, or its bytes), whatever its format: meta, schema,
    threshold, selection, reference (the spec) and model (the trees' parameters),
    docs/BUNDLE_FORMAT.md."""
    if isinstance(bundle, bytes):
        return creditscore.Bundle.from_bytes(bundle).header()
    return creditscore.Bundle.load(bundle).header()


def with_spec(data: bytes, spec: dict) -> bytes:
    """The bundle ``data`` with ``spec`` (meta, schema, threshold, selection, reference) instead
    of its own, in the current format; the trees are untouched."""
    return creditscore.Bundle.from_bytes(data).to_bytes(spec)


def predict(bundle: Path, raw: pd.DataFrame, explain: bool = False) -> pd.DataFrame:
    """Scores raw rows: raw_score, probability, prediction, score (and shap_<feature>...,
    shap_bias with ``explain``), one row per raw row, as ``creditscore predict`` writes them."""
    scores = creditscore.Bundle.load(bundle).score(raw, explain=explain)
    frame = scores.to_frame()
    frame.index = raw.index
    return frame
