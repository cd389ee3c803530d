"""What the training pipeline (train/) needs from the package, checked against the CLI on every
parity fixture: the model feature matrix (`creditscore features`), model import (`creditscore
import`) and SHAP values (`creditscore predict --explain`), bit for bit, and their errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import FIXTURES, PARITY, cli, cli_scores, read_rows, same_bits

import creditscore

NAMES = [f["name"] for f in FIXTURES]
BY_NAME = {f["name"]: f for f in FIXTURES}
EXPLAIN_ROWS = 60


@pytest.mark.parametrize("fixture", NAMES)
def test_feature_matrix_equals_the_cli(fixture, bundles, tmp_path):
    rows = PARITY / fixture / "rows.csv"
    cli("features", "--schema", bundles[fixture], "--input", rows, "--out", tmp_path / "m.csv")
    expected = pd.read_csv(
        tmp_path / "m.csv",
        dtype=np.float64,
        keep_default_na=False,
        na_values=[""],
        float_precision="round_trip",
    )
    bundle = creditscore.Bundle.load(bundles[fixture])
    schema = bundle.schema
    got = schema.features(read_rows(rows, bundle))
    assert list(expected.columns) == schema.model_features
    assert got.shape == expected.shape
    assert same_bits(got, expected.to_numpy())
    # The same schema from its JSON (as train/ passes it) gives the same matrix.
    again = creditscore.Schema.from_json(json.loads(schema.to_json()))
    assert same_bits(again.features(read_rows(rows, bundle), threads=1), got)


@pytest.mark.parametrize("fixture", NAMES)
def test_import_and_explain_equal_the_cli(fixture, bundles, tmp_path):
    f = BY_NAME[fixture]
    # Exact TreeSHAP costs trees x leaves x depth^2 per row: the first rows are enough here (the
    # scores of every row are compared in test_package.py).
    rows = tmp_path / "rows.csv"
    lines = (PARITY / fixture / "rows.csv").read_text().splitlines(keepends=True)
    rows.write_text("".join(lines[: EXPLAIN_ROWS + 1]))
    out = tmp_path / "package.csb"
    imported = creditscore.import_model(f["library"], PARITY / fixture / f["model"], out)
    assert (
        out.exists() and imported.model_features == creditscore.Bundle.load(bundles[fixture]).model_features
    )
    expected = cli_scores(bundles[fixture], rows, tmp_path / "scores.csv", "--explain")
    got = creditscore.Bundle.load(out).score(read_rows(rows, imported), explain=True).to_frame()
    shap = [c for c in expected.columns if c.startswith("shap_")]
    assert shap and shap[-1] == "shap_bias"
    assert list(got.columns) == ["raw_score", "probability", "prediction", "score", *shap]
    for column in ["raw_score", "probability", *shap]:
        assert same_bits(got[column], expected[column]), column


def test_import_with_a_spec_and_import_errors(bundles, tmp_path):
    lgbm = next(f for f in FIXTURES if f["library"] == "lightgbm")
    model = PARITY / lgbm["name"] / lgbm["model"]
    plain = creditscore.import_model("lightgbm", model)
    assert (plain.name, plain.version, plain.threshold) == (model.stem, "1", 0.5)
    schema = json.loads(creditscore.Bundle.load(bundles[lgbm["name"]]).schema.to_json())
    spec = {
        "meta": {"name": "m", "version": "7", "created": "", "source": ""},
        "schema": schema,
        "threshold": 0.25,
    }
    named = creditscore.import_model("lightgbm", model, spec=spec, name="other")
    assert (named.name, named.version, named.threshold) == ("other", "7", 0.25)

    with pytest.raises(creditscore.ModelImportError, match="binary XGBoost model") as err:
        creditscore.import_model("lightgbm", PARITY / "import" / "xgb_early_stopping" / "model.ubj")
    assert err.value.code == "model_import_failed"
    bad = dict(spec, schema=dict(schema, model_features=list(reversed(schema["model_features"]))))
    with pytest.raises(creditscore.ModelImportError, match="model_features"):
        creditscore.import_model("lightgbm", model, spec=bad)
    with pytest.raises(creditscore.ModelImportError, match="not a bundle spec"):
        creditscore.import_model("lightgbm", model, spec="{}")
    with pytest.raises(ValueError, match="unknown library"):
        creditscore.import_model("catboost", model)
    with pytest.raises(OSError):
        creditscore.import_model("lightgbm", tmp_path / "missing.txt")


def test_feature_errors_carry_http_codes_and_paths(bundles):
    bundle = creditscore.Bundle.load(bundles["lgbm_categorical"])
    numeric = next(name for name, kind in bundle.inputs if kind == "numeric")
    with pytest.raises(creditscore.ValidationError) as err:
        bundle.schema.features({numeric: [0.5, "x"]})
    assert err.value.code == "validation_error" and err.value.invalid_rows == 1
    assert (err.value.details[0].path, err.value.details[0].code) == (f"data[1].{numeric}", "wrong_type")
    with pytest.raises(ValueError, match="not a schema"):
        creditscore.Schema.from_json("{}")
