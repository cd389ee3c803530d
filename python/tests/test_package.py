"""The Python package scores exactly like the CLI (bit for bit) on every parity fixture, from
pandas, pyarrow and dict inputs, and reports bad input with the HTTP API's codes and paths."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from conftest import FIXTURES, PARITY, REPO, cli_scores, read_rows, same_bits

import creditscore

DEFAULT_BUNDLE = REPO / "models" / "default.csb"
# The README's example application (every required input of the default model), shared fixture.
RECORD = json.loads((REPO / "tests" / "fixtures" / "readme_clients.json").read_text())["clients"][0]


@pytest.mark.parametrize("fixture", [f["name"] for f in FIXTURES])
def test_every_parity_fixture_scores_like_the_cli(fixture, bundles, tmp_path):
    rows = PARITY / fixture / "rows.csv"
    reasons = ("--reasons", "2", "--reasons-for", "all")
    expected = cli_scores(bundles[fixture], rows, tmp_path / "scores.csv", *reasons)
    bundle = creditscore.Bundle.load(bundles[fixture])
    df = read_rows(rows, bundle)
    for data in (df, pa.Table.from_pandas(df, preserve_index=False)):
        got = bundle.score(data, reasons=2, reasons_for="all")
        assert len(got) == len(expected)
        assert same_bits(got.raw_score, expected["raw_score"])
        assert same_bits(got.probability, expected["probability"])
        assert same_bits(got.score, expected["score"])
        assert np.array_equal(got.prediction, expected["prediction"].to_numpy())
        codes = [["", ""] for _ in range(len(got))]
        for r in got.reasons:
            codes[r.row][r.rank - 1] = r.code
        assert codes == expected[["reason_1", "reason_2"]].fillna("").to_numpy().tolist()
    # Categorical columns as pandas categories (and arrow dictionaries) give the same scores.
    cats = [name for name, kind in bundle.inputs if kind == "categorical"]
    if cats:
        as_category = df.astype(dict.fromkeys(cats, "category"))
        for data in (as_category, pa.Table.from_pandas(as_category, preserve_index=False)):
            assert same_bits(bundle.score(data).probability, expected["probability"])


def test_thread_counts_and_chunks_give_the_same_bits(bundles):
    bundle = creditscore.Bundle.load(bundles["lgbm_categorical"])
    df = read_rows(PARITY / "lgbm_categorical" / "rows.csv", bundle)
    big = pd.concat([df] * 6, ignore_index=True)  # > one chunk of 4096 rows
    one = bundle.score(big, threads=1)
    for threads in (None, 2, 3):
        many = bundle.score(big, threads=threads)
        assert same_bits(many.raw_score, one.raw_score)
    assert same_bits(one.probability[: len(df)], bundle.score(df).probability)


def test_dict_inputs_one_record_or_columns(bundles):
    bundle = creditscore.Bundle.load(bundles["lgbm_categorical"])
    df = read_rows(PARITY / "lgbm_categorical" / "rows.csv", bundle).head(20)
    expected = bundle.score(df)
    columns = {c: df[c].tolist() for c in df.columns}
    assert same_bits(bundle.score(columns).probability, expected.probability)
    first = {c: v for c, v in df.iloc[0].items() if not (isinstance(v, float) and math.isnan(v))}
    single = bundle.score(first)
    assert len(single) == 1 and same_bits(single.probability, expected.probability[:1])


def test_threshold_and_result_frame():
    bundle = creditscore.Bundle.load(DEFAULT_BUNDLE)
    assert 0.0 <= bundle.threshold <= 1.0
    record = dict(RECORD)
    scored = bundle.score(record)
    p = scored.probability[0]
    assert scored.prediction[0] == int(p >= bundle.threshold)
    assert bundle.score(record, threshold=0.0).prediction[0] == 1
    assert bundle.score(record, threshold=1.0).prediction[0] == int(p >= 1.0)
    assert scored.warnings == []
    warned = bundle.score(pd.DataFrame([RECORD, {**RECORD, "DAYS_EMPLOYED": 365243, "AMT_CREDIT": 9e7}]))
    assert [(w.row, w.field, w.code) for w in warned.warnings] == [
        (1, "AMT_CREDIT", "outside_training_range"),
        (1, "DAYS_EMPLOYED", "sentinel_value"),
    ]
    frame = scored.to_frame()
    assert list(frame.columns) == ["raw_score", "probability", "prediction", "score"]
    refused = {**RECORD, "EXT_SOURCE_2": 0.01, "EXT_SOURCE_3": 0.01, "EXT_SOURCE_1": 0.01}
    explained = bundle.score(pd.DataFrame([RECORD, refused]), reasons=3, threshold=0.01)
    assert {r.row for r in explained.reasons} <= {i for i in (0, 1) if explained.prediction[i] == 1}
    assert all(r.contribution > 0 and r.sentence for r in explained.reasons)
    with_target = bundle.score(pd.DataFrame([{**RECORD, "TARGET": 1}]), ignore_unknown_columns=True)
    assert same_bits(with_target.probability, scored.probability)
    with pytest.raises(creditscore.ValidationError, match="1 of 1"):
        bundle.score(pd.DataFrame([{**RECORD, "TARGET": 1}]))
    with pytest.raises(ValueError, match="threshold"):
        bundle.score(record, threshold=1.5)


def test_invalid_rows_raise_with_http_codes_and_paths():
    bundle = creditscore.Bundle.load(DEFAULT_BUNDLE)
    df = pd.DataFrame([RECORD] * 3)
    df.loc[1, "AMT_CREDIT"] = -5.0
    df.loc[2, "CODE_GENDER"] = "nonsense-level"
    with pytest.raises(creditscore.ValidationError) as err:
        bundle.score(df)
    e = err.value
    assert e.code == "validation_error"
    assert e.invalid_rows == 2
    assert e.message == "2 of 3 records are invalid; nothing was scored"
    codes = {d.path: d.code for d in e.details}
    assert codes == {"data[1].AMT_CREDIT": "out_of_range", "data[2].CODE_GENDER": "unknown_category"}
    assert isinstance(e, ValueError)

    with pytest.raises(creditscore.ValidationError) as err:
        bundle.score({**RECORD, "AMT_CREDT": 1.0})
    (issue,) = [d for d in err.value.details if d.code == "unknown_field"]
    assert issue.path == "data[0].AMT_CREDT" and "AMT_CREDIT" in issue.expected

    with pytest.raises(creditscore.ValidationError) as err:
        bundle.score({**RECORD, "EXT_SOURCE_2": "0.5"})
    assert [(d.path, d.code) for d in err.value.details] == [("data[0].EXT_SOURCE_2", "wrong_type")]


def test_bad_bundles_and_inputs(tmp_path):
    junk = tmp_path / "junk.csb"
    junk.write_bytes(b"not a bundle")
    with pytest.raises(creditscore.BundleError) as err:
        creditscore.Bundle.load(junk)
    assert err.value.code == "model_unavailable"
    with pytest.raises(OSError):
        creditscore.Bundle.load(tmp_path / "missing.csb")
    bundle = creditscore.Bundle.load(DEFAULT_BUNDLE)
    with pytest.raises(TypeError, match="DataFrame"):
        bundle.score([1, 2, 3])
    with pytest.raises(ValueError, match="different lengths"):
        bundle.score({"EXT_SOURCE_2": [0.1, 0.2], "EXT_SOURCE_3": [0.1]})
    with pytest.raises(ValueError, match="threads"):
        bundle.score({"EXT_SOURCE_2": 0.1}, threads=0)
