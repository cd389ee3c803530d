"""Batch scoring with the creditscore core from Python: the same validation, the same scores (bit
for bit) and the same error codes as the `creditscore` CLI and the HTTP API.

    import creditscore
    bundle = creditscore.Bundle.load("models/default.csb")
    scores = bundle.score(df)          # pandas DataFrame, pyarrow Table, or dict of columns
    scores.probability, scores.prediction, scores.warnings, scores.to_frame()

    schema = creditscore.Schema.from_json(text)    # the model feature matrix, as served
    matrix = schema.features(df)                   # float64 (rows x model features)
    creditscore.import_model("lightgbm", "model.txt", "model.csb", spec=spec_dict)

Inputs are passed column by column (numeric columns as float64 buffers, others as lists of
values read like JSON values), never row by row in Python; rows are validated and scored in Rust,
without the GIL, on every core (`threads=`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from os import PathLike
from pathlib import Path
from typing import Any, NamedTuple, Union

import numpy as np

from . import _native
from ._errors import BundleError, CreditscoreError, Issue, ModelImportError, ValidationError

__all__ = [
    "Bundle",
    "BundleError",
    "CreditscoreError",
    "Issue",
    "ModelImportError",
    "Schema",
    "Scores",
    "ValidationError",
    "RowReason",
    "RowWarning",
    "import_model",
]


class RowWarning(NamedTuple):
    """A value outside what training saw: the row was scored, and this is reported."""

    row: int
    """0-based row in input order."""
    field: str
    code: str
    """`outside_training_range`, `sentinel_value` or `unknown_category_as_missing`."""
    message: str


class RowReason(NamedTuple):
    """A reason code: a feature that pushed the row's score towards refusal (exact TreeSHAP)."""

    row: int
    """0-based row in input order."""
    rank: int
    """1 = strongest."""
    code: str
    """Stable code `<FEATURE>.<direction>` (low, high, value, level, missing, flag)."""
    feature: str
    contribution: float
    """SHAP value, raw-score (log-odds) units, > 0."""
    sentence: str


@dataclass(frozen=True)
class Scores:
    """Scores of n rows, in input order."""

    raw_score: np.ndarray
    """float64[n]: margin (log-odds) before the link function."""
    probability: np.ndarray
    """float64[n]: probability of default."""
    prediction: np.ndarray
    """uint8[n]: 1 = predicted default (refuse) when probability >= threshold."""
    score: np.ndarray
    """float64[n]: score points on the bundle's scorecard scale (higher = safer)."""
    warnings: list[RowWarning]
    reasons: list[RowReason]
    """With `reasons=N`: up to N per refused row (every row with `reasons_for="all"`)."""
    threshold: float
    shap: np.ndarray | None = None
    """With `explain=True`: float64[n, model features + 1], SHAP values (log-odds units) of each
    model feature in model order, then the bias (as `creditscore predict --explain`)."""
    model_features: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.probability)

    def to_frame(self) -> Any:
        """A pandas DataFrame with columns raw_score, probability, prediction, score, and with
        `explain=True` shap_<feature>... shap_bias (as the CLI's CSV output)."""
        import pandas as pd

        columns = {
            "raw_score": self.raw_score,
            "probability": self.probability,
            "prediction": self.prediction,
            "score": self.score,
        }
        if self.shap is not None:
            names = [*(f"shap_{n}" for n in self.model_features), "shap_bias"]
            columns.update({name: self.shap[:, j] for j, name in enumerate(names)})
        return pd.DataFrame(columns)


Columns = tuple[list[str], list[Union[bytes, list]], int]


def _numeric(values: Any) -> bytes:
    return np.ascontiguousarray(values, dtype=np.float64).tobytes()


def _from_pandas(df: Any) -> Columns:
    import pandas as pd

    names, cols = [], []
    for name in df.columns:
        col = df[name]
        names.append(str(name))
        dtype = col.dtype
        if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype):
            # Strings, categories, objects, booleans: values as JSON would carry them.
            cols.append(col.astype(object).where(col.notna(), None).tolist())
        else:
            cols.append(_numeric(col.to_numpy(dtype=np.float64, na_value=np.nan)))
    return names, cols, len(df)


def _from_arrow(table: Any) -> Columns:
    import pyarrow as pa
    import pyarrow.compute as pc

    names, cols = [], []
    for name, col in zip(table.column_names, table.columns):
        names.append(str(name))
        t = col.type
        if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
            cols.append(_numeric(pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False)))
        else:
            cols.append(col.to_pylist())
    return names, cols, table.num_rows


def _from_mapping(data: Mapping[str, Any]) -> Columns:
    def is_column(v: Any) -> bool:
        # Sequences, arrays, Series; not strings or numpy scalars (ndim 0).
        return isinstance(v, (list, tuple)) or getattr(v, "ndim", 0) > 0

    if data and not any(is_column(v) for v in data.values()):
        data = {k: [v] for k, v in data.items()}  # one record
    names, cols, lengths = [], [], set()
    for name, v in data.items():
        names.append(str(name))
        arr = np.asarray(v)
        lengths.add(len(arr))
        if arr.dtype.kind in "iuf":
            cols.append(_numeric(arr))
        else:
            cols.append(list(v) if not isinstance(v, np.ndarray) else v.tolist())
    if len(lengths) > 1:
        raise ValueError(f"columns have different lengths: {sorted(lengths)}")
    return names, cols, lengths.pop() if lengths else 0


def _columns(data: Any) -> Columns:
    kind = type(data).__module__.split(".")[0]
    if kind == "pandas":
        return _from_pandas(data)
    if kind == "pyarrow":
        if hasattr(data, "to_batches") and not hasattr(data, "columns"):
            data = data.read_all() if hasattr(data, "read_all") else data
        if type(data).__name__ == "RecordBatch":
            import pyarrow as pa

            data = pa.Table.from_batches([data])
        return _from_arrow(data)
    if isinstance(data, Mapping):
        return _from_mapping(data)
    raise TypeError(
        f"cannot score a {type(data).__name__}: pass a pandas DataFrame, a pyarrow Table or "
        "RecordBatch, or a dict of columns (or of one record's values)"
    )


def _known_only(columns: Columns, id_field: str, inputs: list[tuple[str, str]]) -> Columns:
    """Leaves out columns that are neither the id nor an input (e.g. TARGET)."""
    names, cols, n = columns
    known = {id_field, *(name for name, _ in inputs)}
    kept = [i for i, name in enumerate(names) if name in known]
    return [names[i] for i in kept], [cols[i] for i in kept], n


def _check_threads(threads: int | None) -> None:
    if threads is not None and threads < 1:
        raise ValueError("threads must be >= 1")


class _SchemaFields:
    """The schema's fields that a Schema and a Bundle both expose (read from the native object)."""

    _native: _native.Schema | _native.Bundle

    @property
    def id_field(self) -> str:
        return self._native.id_field

    @property
    def inputs(self) -> list[tuple[str, str]]:
        """(name, "numeric" | "categorical") of every input field, in schema order."""
        return self._native.inputs

    @property
    def model_features(self) -> list[str]:
        return self._native.model_features


class Schema(_SchemaFields):
    """A schema (the `schema` of a bundle spec): raw rows to the model feature matrix, computed by
    the core exactly as at serving time (so a model trains on what it will be served)."""

    def __init__(self, native: _native.Schema) -> None:
        self._native = native

    @classmethod
    def from_json(cls, schema: str | Mapping[str, Any]) -> Schema:
        """From JSON text or the parsed dict. Raises ValueError for an unusable schema."""
        text = schema if isinstance(schema, str) else json.dumps(schema)
        return cls(_native.Schema.from_json(text))

    def to_json(self) -> str:
        """JSON text, as a bundle spec's `schema`."""
        return self._native.to_json()

    def features(
        self, data: Any, *, threads: int | None = None, ignore_unknown_columns: bool = False
    ) -> np.ndarray:
        """float64[n, model features] in model order (NaN = missing, categories as level codes),
        as `creditscore features`. `data` as for `Bundle.score`; raises ValidationError (nothing
        computed) when any row is invalid."""
        _check_threads(threads)
        columns = _columns(data)
        if ignore_unknown_columns:
            columns = _known_only(columns, self.id_field, self.inputs)
        names, cols, n = columns
        matrix = self._native.features_columns(names, cols, n, threads)
        return np.frombuffer(matrix, dtype=np.float64).reshape(n, len(self.model_features))


def import_model(
    library: str,
    model: str | PathLike[str],
    out: str | PathLike[str] | None = None,
    *,
    spec: Mapping[str, Any] | str | None = None,
    name: str | None = None,
    version: str | None = None,
    all_trees: bool = False,
) -> Bundle:
    """A model file becomes a bundle, as `creditscore import LIBRARY MODEL --out OUT --spec SPEC`.

    `library`: "lightgbm" (text model), "xgboost" (JSON or UBJSON) or "sklearn" (the JSON of
    train/creditscore_train/sklearn_export.py). `spec`: the training spec (meta, schema,
    threshold, selection, reference) as a dict or JSON text; without it every model feature is an
    optional input and the threshold is 0.5. The bundle is written to `out` when given, and
    returned. Raises ModelImportError for a model or spec that cannot become a bundle, OSError
    when a file cannot be read or written.
    """
    path = Path(model)
    spec_text = spec if spec is None or isinstance(spec, str) else json.dumps(spec)
    created = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    data = _native.import_model(
        library, path.read_bytes(), spec_text, name, version, path.stem, created, all_trees
    )
    if out is not None:
        Path(out).write_bytes(data)
    return Bundle.from_bytes(data)


class Bundle(_SchemaFields):
    """A model bundle (.csb) compiled for scoring. Thread-safe; cheap to share."""

    def __init__(self, native: _native.Bundle) -> None:
        self._native = native

    @classmethod
    def load(cls, path: str | PathLike[str]) -> Bundle:
        """Raises BundleError (code `model_unavailable`) for a file that is not a valid bundle."""
        return cls(_native.Bundle.load(str(path)))

    @classmethod
    def from_bytes(cls, data: bytes) -> Bundle:
        return cls(_native.Bundle.from_bytes(data))

    @property
    def threshold(self) -> float:
        return self._native.threshold

    @property
    def name(self) -> str:
        return self._native.name

    @property
    def version(self) -> str:
        return self._native.version

    @property
    def schema(self) -> Schema:
        """The bundle's schema: `bundle.schema.features(df)` is the model feature matrix."""
        return Schema(self._native.schema)

    def header(self) -> dict[str, Any]:
        """The bundle's header, whatever its file format: `meta`, `schema`, `threshold`,
        `selection`, `reference` (the spec `import_model` takes) and `model` (the trees'
        parameters), as docs/BUNDLE_FORMAT.md lists them."""
        return json.loads(self._native.header_json())

    def to_bytes(self, spec: dict[str, Any] | None = None) -> bytes:
        """The bundle's bytes in the current format (format 2); with `spec` (meta, schema,
        threshold, selection, reference), its trees with that spec instead (trees untouched, so
        the scores keep their bits). Raises ValueError when the spec does not fit the trees."""
        text = None if spec is None else json.dumps(spec, allow_nan=False)
        return self._native.to_bytes(text)

    def score(
        self,
        data: Any,
        *,
        threshold: float | None = None,
        threads: int | None = None,
        reasons: int = 0,
        reasons_for: str = "refused",
        explain: bool = False,
        ignore_unknown_columns: bool = False,
    ) -> Scores:
        """Validates every row, then scores them all; raises ValidationError (nothing scored)
        when any row is invalid, with the HTTP API's codes and `data[i].FIELD` paths.

        `data`: a pandas DataFrame, a pyarrow Table or RecordBatch, a dict of equal-length
        columns, or a dict of one record's values. Numeric columns: NaN / null = missing.
        Other columns are read like JSON values (strings for categories; None = missing).
        `threshold`: defaults to the bundle's. `threads`: default every core. `reasons`: reason
        codes per refused row (`reasons_for="all"`: every row), as `creditscore predict --reasons`.
        `explain`: the SHAP values of every row in `Scores.shap` (`creditscore predict --explain`).
        `ignore_unknown_columns`: leave out columns that are neither the id nor an input (e.g.
        TARGET) instead of reporting them as `unknown_field`.
        """
        _check_threads(threads)
        if reasons_for not in ("refused", "all"):
            raise ValueError("reasons_for must be 'refused' or 'all'")
        columns = _columns(data)
        if ignore_unknown_columns:
            columns = _known_only(columns, self.id_field, self.inputs)
        names, cols, n = columns
        raw, prob, pred, points, warnings, found, shap = self._native.score_columns(
            names, cols, n, threshold, threads, reasons, reasons_for == "all", explain
        )
        features = self.model_features
        return Scores(
            raw_score=np.frombuffer(raw, dtype=np.float64),
            probability=np.frombuffer(prob, dtype=np.float64),
            prediction=np.frombuffer(pred, dtype=np.uint8),
            score=np.frombuffer(points, dtype=np.float64),
            warnings=[RowWarning(*w) for w in warnings],
            reasons=[RowReason(*r) for r in found],
            threshold=self.threshold if threshold is None else threshold,
            shap=np.frombuffer(shap, dtype=np.float64).reshape(n, len(features) + 1) if explain else None,
            model_features=tuple(features),
        )
