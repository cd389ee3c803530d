"""Train/serve parity: the training matrix (pandas columns through the `creditscore` package)
equals what the core computes for the same clients sent as API JSON records, and what the
schema's documented rules give when recomputed independently here."""

import json
import math

import creditscore
import numpy as np
import pandas as pd
import pytest

from creditscore_train import core
from creditscore_train.schema import CONTRACT_REQUIRED, ID_FIELD, build_schema
from creditscore_train.synthetic import COLUMNS


@pytest.fixture(scope="module")
def setup(small_data):
    inputs = [c for c in COLUMNS if c != ID_FIELD]
    schema = build_schema(small_data, small_data, inputs, set(CONTRACT_REQUIRED))
    raw = small_data[[ID_FIELD, *inputs]]
    return schema, raw, core.feature_matrix(schema, raw)


def json_records(raw: pd.DataFrame) -> list[dict]:
    """Records as an API client sends them: JSON numbers and strings, null when missing."""
    lines = []
    for rec in raw.to_dict(orient="records"):
        out = {}
        for k, v in rec.items():
            if v is None or (isinstance(v, float) and math.isnan(v)):
                out[k] = None
            elif isinstance(v, (np.integer, int)):
                out[k] = int(v)
            elif isinstance(v, (np.floating, float)):
                out[k] = float(v)
            else:
                out[k] = v
        lines.append(json.dumps(out))
    # Parsed back as a JSON body is: Python values, not float64 buffers.
    return [json.loads(line) for line in lines]


def test_matrix_equals_core_on_json_records(setup):
    schema, raw, matrix = setup
    records = json_records(raw)
    columns = {name: [r[name] for r in records] for name in raw.columns}
    served = creditscore.Schema.from_json(schema).features(columns)
    np.testing.assert_array_equal(served, matrix.to_numpy())


def reference_matrix(schema: dict, raw: pd.DataFrame) -> pd.DataFrame:
    """The schema's rules, recomputed independently of the core."""
    values = {}
    sentinel_hit = {}
    for f in schema["inputs"]:
        col = raw[f["name"]]
        if f["type"] == "numeric":
            v = col.astype(float)
            hit = v == f["sentinel"] if f["sentinel"] is not None else pd.Series(False, index=v.index)
            default = np.nan if f["default"] is None else float(f["default"])
            v = v.where(~hit, np.nan)
            v = v.where(col.notna() | hit, default)
            values[f["name"]] = v
            sentinel_hit[f["name"]] = hit
        else:
            codes = col.map({lvl: float(i) for i, lvl in enumerate(f["levels"])})
            default = np.nan if f["default"] is None else float(f["levels"].index(f["default"]))
            values[f["name"]] = codes.where(col.notna(), default)
    for d in schema["derived"]:
        if d["op"] == "ratio":
            a, b = values[d["numerator"]], values[d["denominator"]]
            values[d["name"]] = (a / b).where((b != 0) & a.notna() & b.notna(), np.nan)
        elif d["op"] == "sentinel_flag":
            values[d["name"]] = sentinel_hit[d["input"]].astype(float)
        else:
            raise AssertionError(f"unexpected derived op {d['op']}")
    return pd.DataFrame({n: values[n] for n in schema["model_features"]})


def test_matrix_follows_the_schema_rules(setup):
    schema, raw, matrix = setup
    expected = reference_matrix(schema, raw)
    np.testing.assert_array_equal(matrix.to_numpy(), expected.to_numpy())
    # The sentinel is missing in the matrix and flagged by the derived feature.
    sentinel = raw["DAYS_EMPLOYED"] == 365243
    assert sentinel.any()
    assert matrix.loc[sentinel, "DAYS_EMPLOYED"].isna().all()
    assert (matrix.loc[sentinel, "DAYS_EMPLOYED_ANOM"] == 1).all()
    assert (matrix.loc[~sentinel, "DAYS_EMPLOYED_ANOM"] == 0).all()


def test_schema_contract(setup):
    schema, _, _ = setup
    fields = {f["name"]: f for f in schema["inputs"]}
    required = [f["name"] for f in schema["inputs"] if f["required"]]
    assert sorted(required) == sorted(CONTRACT_REQUIRED)
    assert fields["EXT_SOURCE_1"]["nullable"] and fields["EXT_SOURCE_3"]["nullable"]
    assert not fields["EXT_SOURCE_2"]["nullable"]
    for c in ("EXT_SOURCE_1", "EXT_SOURCE_2", "EXT_SOURCE_3"):
        assert (fields[c]["valid_min"], fields[c]["valid_max"]) == (0.0, 1.0)
    assert fields["DAYS_BIRTH"]["valid_max"] == 0.0
    assert fields["AMT_CREDIT"]["valid_min"] == 0.0
    assert fields["DAYS_EMPLOYED"]["sentinel"] == 365243
    assert fields["FLAG_OWN_CAR"]["aliases"]["Yes"] == "Y"
    assert fields["AMT_INCOME_TOTAL"]["default"] is not None, "optional inputs have a training default"
    assert {d["name"] for d in schema["derived"]} >= {
        "CREDIT_INCOME_RATIO",
        "ANNUITY_INCOME_RATIO",
        "ANNUITY_CREDIT_RATIO",
        "EMPLOYED_AGE_RATIO",
        "DAYS_EMPLOYED_ANOM",
    }


def test_invalid_raw_rows_are_reported(setup):
    schema, raw, _ = setup
    bad = raw.head(5).copy()
    bad.loc[bad.index[1], "EXT_SOURCE_2"] = 1.5
    with pytest.raises(core.CoreError, match="1 of 5") as err:
        core.feature_matrix(schema, bad)
    assert [(d.path, d.code) for d in err.value.details] == [("data[1].EXT_SOURCE_2", "out_of_range")]
