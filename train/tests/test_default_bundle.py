"""The committed default bundle (models/default.csb) serves the SPEC's contract."""

import json
from pathlib import Path

import creditscore
import pytest

from bundle_io import read_header
from creditscore_train import core
from creditscore_train.schema import CONTRACT_REQUIRED

BUNDLE = core.REPO / "models" / "default.csb"

# The seed README's example clients, with exactly the fields shown there (shared fixture).
README_CLIENT, README_SECOND = json.loads(
    (Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "readme_clients.json").read_text()
)["clients"]


def score(records, explain=False):
    """Records as an API client sends them (dicts of JSON values), scored one by one through the
    package: a field a record leaves out is absent, not null."""
    bundle = creditscore.Bundle.load(BUNDLE)
    return [bundle.score(r, explain=explain).to_frame().iloc[0].to_dict() for r in records]


def test_readme_example_client_is_scored():
    header = read_header(BUNDLE)
    scored = score([README_CLIENT, README_SECOND])
    assert len(scored) == 2
    for line in scored:
        p = line["probability"]
        assert 0.0 < p < 1.0
        assert line["prediction"] == int(p >= header["threshold"])
    # The safer-looking second client is not riskier than the first (older, car owner, female).
    assert scored[0]["probability"] != scored[1]["probability"]


def test_missing_required_field_is_rejected():
    client = dict(README_CLIENT)
    del client["EXT_SOURCE_2"]
    with pytest.raises(core.CoreError, match="EXT_SOURCE_2"):
        score([client])


def test_bundle_records_the_contract():
    h = read_header(BUNDLE)
    fields = {f["name"]: f for f in h["schema"]["inputs"]}
    required = [f["name"] for f in h["schema"]["inputs"] if f["required"]]
    assert sorted(required) == sorted(CONTRACT_REQUIRED)
    assert fields["EXT_SOURCE_1"]["nullable"] and fields["EXT_SOURCE_3"]["nullable"]
    sel = h["selection"]
    assert (sel["method"], sel["top_n"], sel["min_corr"]) == ("correlation", 8, 0.02)
    assert sorted(sel["selected"]) == sorted(CONTRACT_REQUIRED), "synthetic data: selection = contract"
    assert h["meta"]["name"] == "credit_scoring_model"
    assert h["meta"]["training"]["data"] == "synthetic"
    assert 0.0 < h["threshold"] < 1.0
    ref = h["reference"]
    numeric = [f for f in ref["features"] if f["type"] == "numeric"]
    assert numeric and all(len(f["quantiles"]) == 101 for f in numeric)
    assert {f["name"] for f in ref["features"]} >= set(CONTRACT_REQUIRED)
    assert len(ref["score"]["quantiles"]) == 101
    assert 0.0 < ref["score"]["refusal_rate"] < 1.0


def test_bundle_knows_the_column_dictionary():
    """Rewritten by `python -m creditscore_train.rebundle models/default.csb` (trees untouched)."""
    from creditscore_train import dictionary, rebundle

    data = BUNDLE.read_bytes()
    assert rebundle.rebundle(data) == data, "run: python -m creditscore_train.rebundle models/default.csb"
    h = read_header(BUNDLE)
    names = [f["name"] for f in h["schema"]["inputs"]]
    expected = [c.name for c in dictionary.columns() if c.kind not in ("id", "label")]
    assert sorted(names) == sorted(expected) and len(names) == 120
    assert h["schema"]["labels"] == ["TARGET"]
    fields = {f["name"]: f for f in h["schema"]["inputs"]}
    assert fields["CODE_GENDER"]["codes"] == ["XNA"]
    assert fields["NAME_FAMILY_STATUS"]["codes"] == ["Unknown"]
    assert "0" not in fields["CODE_GENDER"]["aliases"] and "1" not in fields["CODE_GENDER"]["aliases"]
    assert fields["FLAG_OWN_CAR"]["aliases"]["true"] == "Y" and fields["FLAG_OWN_CAR"]["aliases"]["f"] == "N"


def test_full_dictionary_record_scores_like_the_model_inputs_alone():
    """Every column of the dictionary is accepted; those the model does not read change nothing."""
    full = dict(README_CLIENT, APARTMENTS_AVG=0.0876, FLAG_DOCUMENT_2=0)
    full["FONDKAPREMONT_MODE"] = "reg oper account"
    full.update(CODE_GENDER="male", FLAG_OWN_CAR=False)
    a, b = score([README_CLIENT, full])
    assert a["raw_score"] == b["raw_score"]
    with pytest.raises(core.CoreError, match="TARGET"):
        score([dict(README_CLIENT, TARGET=1)])
