"""The stand-in for application_train.csv: the real file's shape, and `make train DATA=...` on it."""

import csv
import io

import creditscore
import numpy as np
import pandas as pd
import pytest

from creditscore_train import dictionary, standin
from creditscore_train.pipeline import run


@pytest.fixture(scope="module")
def standin_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("standin") / "application_train.csv"
    standin.write(standin.generate(2500, seed=11), path)
    return path


def test_columns_levels_codes_and_missing_rates(standin_csv):
    text = standin_csv.read_text()
    frame = pd.read_csv(io.StringIO(text), keep_default_na=False, na_values=[""])
    cols = dictionary.columns()
    assert list(frame.columns) == [c.name for c in cols] and len(cols) == 122
    for c in cols:
        if c.kind == "categorical":
            seen = set(frame[c.name].dropna())
            assert seen <= set(c.levels) | set(c.codes), (c.name, seen - set(c.levels))
    assert (frame["CODE_GENDER"] == "XNA").sum() >= 1
    assert (frame["NAME_FAMILY_STATUS"] == "Unknown").sum() >= 1
    assert abs((frame["ORGANIZATION_TYPE"] == "XNA").mean() - 0.18) < 0.03
    assert ((frame["ORGANIZATION_TYPE"] == "XNA") == (frame["DAYS_EMPLOYED"] == 365243)).all()
    for name, rate in [
        ("EXT_SOURCE_1", 0.56),
        ("EXT_SOURCE_3", 0.20),
        ("OCCUPATION_TYPE", 0.31),
        ("APARTMENTS_AVG", 0.51),
        ("FONDKAPREMONT_MODE", 0.68),
        ("AMT_REQ_CREDIT_BUREAU_DAY", 0.135),
    ]:
        assert abs(frame[name].isna().mean() - rate) < 0.04, name
    assert abs(frame["TARGET"].mean() - 0.0807) < 0.02
    # Levels with commas are quoted, as pandas (and the real file) write them.
    rows = list(csv.reader(io.StringIO(text)))
    assert all(len(r) == 122 for r in rows)
    assert '"Stone, brick"' in text and '"Spouse, partner"' in text


def test_pipeline_trains_on_it_and_the_package_batch_scores_it(standin_csv, tmp_path, quick_config):
    cfg = quick_config(
        tmp_path,
        data=str(standin_csv),
        folds=2,
        trials=1,
        families=("dummy", "lightgbm"),
        mlflow=False,
        card=False,
    )
    result = run(cfg)
    assert result.parity_max_abs_diff <= 1e-12
    spec = result.spec
    assert spec["meta"]["training"]["data"] == "real", "a file given with --data is read as the real one"
    fields = {f["name"]: f for f in spec["schema"]["inputs"]}
    assert len(fields) == 120 and spec["schema"]["labels"] == ["TARGET"]
    # The rows as application_test.csv has them (no TARGET), read by pandas as a risk team would
    # (categorical inputs as text, empty cell = missing): every one scores, codes and all.
    bundle = creditscore.Bundle.load(result.bundle)
    text = {name: str for name, kind in bundle.inputs if kind == "categorical"}
    rows = pd.read_csv(standin_csv, dtype=text, keep_default_na=False, na_values=[""])
    scores = bundle.score(rows.drop(columns=["TARGET"]))
    assert len(scores) == len(rows)
    assert np.all((scores.probability > 0) & (scores.probability < 1))
