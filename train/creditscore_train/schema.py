"""The input schema of a model, in the core's serde format (core/src/schema.rs).

Built from the raw *training* rows only (ranges, defaults); category level names may come from all
rows (names carry no label information) so that the held-out rows validate.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .synthetic import REQUIRED_COLUMNS, SENTINEL_DAYS_EMPLOYED

ID_FIELD = "SK_ID_CURR"

# The default model's required inputs: the contract README.md's example request follows (stored in
# the bundle, never recomputed at serving time); the columns of that request but the id.
CONTRACT_REQUIRED = [c for c in REQUIRED_COLUMNS if c != ID_FIELD]

SENTINELS = {"DAYS_EMPLOYED": float(SENTINEL_DAYS_EMPLOYED)}

# Physically possible ranges: values outside are rejected.
VALID_RANGES: dict[str, tuple[float | None, float | None]] = {
    "EXT_SOURCE_1": (0.0, 1.0),
    "EXT_SOURCE_2": (0.0, 1.0),
    "EXT_SOURCE_3": (0.0, 1.0),
    "REGION_POPULATION_RELATIVE": (0.0, 1.0),
    "HOUR_APPR_PROCESS_START": (0.0, 23.0),
    "REGION_RATING_CLIENT": (1.0, 3.0),
    "REGION_RATING_CLIENT_W_CITY": (1.0, 3.0),
}
DESCRIPTIONS = {
    "EXT_SOURCE_1": "normalised score from external data source 1",
    "EXT_SOURCE_2": "normalised score from external data source 2",
    "EXT_SOURCE_3": "normalised score from external data source 3",
    "AMT_ANNUITY": "loan annuity",
    "AMT_CREDIT": "credit amount of the loan",
    "AMT_GOODS_PRICE": "price of the goods the loan is for",
    "AMT_INCOME_TOTAL": "income of the client",
    "DAYS_BIRTH": "client's age in days at application (negative)",
    "DAYS_EMPLOYED": "days employed before application (negative); 365243 = not employed",
    "CODE_GENDER": "gender of the client",
    "FLAG_OWN_CAR": "client owns a car",
}
ALIASES = {
    "FLAG_OWN_CAR": {"Yes": "Y", "No": "N", "yes": "Y", "no": "N"},
    "FLAG_OWN_REALTY": {"Yes": "Y", "No": "N", "yes": "Y", "no": "N"},
    "CODE_GENDER": {"Female": "F", "Male": "M"},
}

# Derived features, declared in the bundle and computed by the core.
DERIVED = [
    {
        "name": "CREDIT_INCOME_RATIO",
        "op": "ratio",
        "numerator": "AMT_CREDIT",
        "denominator": "AMT_INCOME_TOTAL",
    },
    {
        "name": "ANNUITY_INCOME_RATIO",
        "op": "ratio",
        "numerator": "AMT_ANNUITY",
        "denominator": "AMT_INCOME_TOTAL",
    },
    {"name": "ANNUITY_CREDIT_RATIO", "op": "ratio", "numerator": "AMT_ANNUITY", "denominator": "AMT_CREDIT"},
    {
        "name": "CREDIT_GOODS_RATIO",
        "op": "ratio",
        "numerator": "AMT_CREDIT",
        "denominator": "AMT_GOODS_PRICE",
    },
    {"name": "EMPLOYED_AGE_RATIO", "op": "ratio", "numerator": "DAYS_EMPLOYED", "denominator": "DAYS_BIRTH"},
    {"name": "DAYS_EMPLOYED_ANOM", "op": "sentinel_flag", "input": "DAYS_EMPLOYED"},
]


def _unit(name: str) -> str:
    if name.startswith("AMT_"):
        return "currency units"
    if name.startswith("DAYS_"):
        return "days relative to the application (negative = before)"
    if name.startswith("EXT_SOURCE"):
        return "score in [0, 1]"
    return ""


def _valid_range(name: str) -> tuple[float | None, float | None]:
    if name in VALID_RANGES:
        return VALID_RANGES[name]
    if name.startswith("DAYS_"):
        return (None, 0.0)
    if name.startswith(("AMT_", "CNT_", "OWN_CAR_AGE", "DEF_")):
        return (0.0, None)
    if name.startswith(("FLAG_", "REG_")):
        return (0.0, 1.0)
    return (None, None)


def _py(v) -> float:
    f = float(v)
    return int(f) if f.is_integer() and abs(f) < 2**53 else f


def is_categorical(series: pd.Series) -> bool:
    return series.dtype == object or isinstance(series.dtype, pd.CategoricalDtype) or series.dtype == "string"


def numeric_field(name: str, train: pd.Series, required: bool) -> dict:
    sentinel = SENTINELS.get(name)
    values = train.astype(float)
    observed = values[values.notna() & (values != sentinel if sentinel is not None else True)]
    has_missing = bool(values.isna().any())
    # Counts, days and flags are whole numbers; money amounts and scores never are by type.
    countable = not name.startswith(("AMT_", "EXT_SOURCE", "REGION_POPULATION")) or name.startswith("AMT_REQ")
    integer = bool(countable and len(observed) and np.all(np.mod(observed.to_numpy(), 1.0) == 0.0))
    lo, hi = _valid_range(name)
    spec: dict = {
        "name": name,
        "required": required,
        # A required field with missing values in training may be sent as null.
        "nullable": bool(required and has_missing),
        "description": DESCRIPTIONS.get(name, ""),
        "type": "numeric",
        "integer": integer,
        "valid_min": lo,
        "valid_max": hi,
        "train_min": _py(observed.min()) if len(observed) else None,
        "train_max": _py(observed.max()) if len(observed) else None,
        # Absent optional fields: the training median when training never lacked the value,
        # otherwise missing (as the model was trained).
        "default": None if (required or has_missing or not len(observed)) else _py(observed.median()),
        "sentinel": sentinel,
        "unit": _unit(name),
        "example": _py(observed.median()) if len(observed) else None,
    }
    if spec["default"] is not None and integer:
        spec["default"] = _py(math.floor(spec["default"]))
    return spec


def categorical_field(name: str, train: pd.Series, levels: list[str], required: bool) -> dict:
    has_missing = bool(train.isna().any())
    mode = train.mode(dropna=True)
    return {
        "name": name,
        "required": required,
        "nullable": bool(required and has_missing),
        "description": DESCRIPTIONS.get(name, ""),
        "type": "categorical",
        "levels": levels,
        "aliases": ALIASES.get(name, {}),
        "default": None if (required or has_missing or mode.empty) else str(mode.iloc[0]),
        # Required categories must be known; an unknown optional one is scored as missing.
        "unknown": "reject" if required else "missing",
        "example": str(mode.iloc[0]) if not mode.empty else None,
    }


def build_schema(
    train: pd.DataFrame,
    all_rows: pd.DataFrame,
    inputs: list[str],
    required: set[str],
) -> dict:
    """Schema over ``inputs`` (raw columns, without the id). ``train`` gives ranges and defaults;
    ``all_rows`` only the category level names (sorted, so codes are stable)."""
    fields = []
    numeric, categorical = [], []
    for name in inputs:
        if is_categorical(all_rows[name]):
            levels = sorted(str(v) for v in all_rows[name].dropna().unique())
            fields.append(categorical_field(name, train[name], levels, name in required))
            categorical.append(name)
        else:
            fields.append(numeric_field(name, train[name], name in required))
            numeric.append(name)
    present = set(inputs)
    derived = [
        d
        for d in DERIVED
        if all(a in present for a in (d.get("numerator"), d.get("denominator"), d.get("input")) if a)
    ]
    return {
        "id_field": ID_FIELD,
        "id_required": True,
        "inputs": fields,
        "derived": derived,
        # Numeric inputs, then categorical inputs (level codes), then derived features.
        "model_features": numeric + categorical + [d["name"] for d in derived],
    }


def with_required(schema: dict, required: set[str], train: pd.DataFrame) -> dict:
    """The same schema with another set of required inputs (features are unchanged: an absent
    optional field and a missing required one give the same value only if its default is missing,
    so required fields are rebuilt from the training rows)."""
    out = dict(schema)
    fields = []
    for f in schema["inputs"]:
        if f["type"] == "numeric":
            fields.append(numeric_field(f["name"], train[f["name"]], f["name"] in required))
        else:
            fields.append(categorical_field(f["name"], train[f["name"]], f["levels"], f["name"] in required))
    out["inputs"] = fields
    return out


def categorical_inputs(schema: dict) -> list[str]:
    return [f["name"] for f in schema["inputs"] if f["type"] == "categorical"]


def numeric_inputs(schema: dict) -> list[str]:
    return [f["name"] for f in schema["inputs"] if f["type"] == "numeric"]


def levels_of(schema: dict) -> dict[str, list[str]]:
    return {f["name"]: f["levels"] for f in schema["inputs"] if f["type"] == "categorical"}
