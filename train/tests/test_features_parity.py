"""Train/serve parity: the training matrix (CSV through `creditscore features`) equals what the
core computes for the same clients sent as API JSON records, and what the schema's documented
rules give when recomputed independently here."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from creditscore_train import core_cli
from creditscore_train.schema import CONTRACT_REQUIRED, ID_FIELD, build_schema
from creditscore_train.synthetic import COLUMNS


@pytest.fixture(scope="module")
def setup(small_data):
    inputs = [c for c in COLUMNS if c != ID_FIELD]
    schema = build_schema(small_data, small_data, inputs, set(CONTRACT_REQUIRED))
    raw = small_data[[ID_FIELD, *inputs]]
    return schema, raw, core_cli.feature_matrix(schema, raw)


def json_records(raw: pd.DataFrame) -> str:
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
    return "\n".join(lines) + "\n"


def test_matrix_equals_core_on_json_records(setup, tmp_path):
    schema, raw, matrix = setup
    (tmp_path / "schema.json").write_text(json.dumps(schema))
    (tmp_path / "rows.jsonl").write_text(json_records(raw))
    core_cli.run(
        "features",
        "--schema",
        tmp_path / "schema.json",
        "--input",
        tmp_path / "rows.jsonl",
        "--out",
        tmp_path / "m.csv",
    )
    served = core_cli.read_matrix(tmp_path / "m.csv")
    assert list(served.columns) == schema["model_features"]
    np.testing.assert_array_equal(served.to_numpy(), matrix.to_numpy())


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


def test_invalid_raw_rows_are_reported(setup, tmp_path):
    schema, raw, _ = setup
    bad = raw.head(5).copy()
    bad.loc[bad.index[1], "EXT_SOURCE_2"] = 1.5
    with pytest.raises(core_cli.CoreError, match="EXT_SOURCE_2"):
        core_cli.feature_matrix(schema, bad)
