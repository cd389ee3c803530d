"""Training options: monotone constraints hold on the trained models (every boosted family, and
through the bundle the core serves), and --exclude-features gives a model that does not read the
excluded input; the pipeline's card compares the variants."""

import json

import creditscore
import numpy as np
import pandas as pd
import pytest

from bundle_io import read_header
from creditscore_train import core, models, options
from creditscore_train.pipeline import Config, parse_args, run
from creditscore_train.schema import CONTRACT_REQUIRED, ID_FIELD, build_schema, categorical_inputs
from creditscore_train.synthetic import COLUMNS, TARGET, generate

INPUTS = [c for c in COLUMNS if c != ID_FIELD]
FAST = {
    "lightgbm": {"n_estimators": 60, "learning_rate": 0.1, "num_leaves": 15, "min_child_samples": 20},
    "xgboost": {"n_estimators": 60, "learning_rate": 0.1, "max_depth": 4},
    "hist_gradient_boosting": {"max_iter": 60, "learning_rate": 0.1, "max_leaf_nodes": 15},
}


@pytest.fixture(scope="module")
def matrix(tmp_path_factory):
    frame = generate(2500, seed=21)
    schema = build_schema(frame, frame, INPUTS, set(CONTRACT_REQUIRED))
    X = core.feature_matrix(schema, frame[[ID_FIELD, *INPUTS]])
    return schema, X, frame[TARGET].to_numpy()


def grid_violations(predict, X: pd.DataFrame, feature: str, direction: int, rows: int = 25) -> float:
    """Largest move against ``direction`` of the probability when ``feature`` runs over a grid of
    its observed range, other columns fixed at those of ``rows`` real rows (0 = monotone)."""
    values = X[feature].dropna()
    grid = np.linspace(values.min(), values.max(), 25)
    probe = X.iloc[np.repeat(np.arange(rows), len(grid))].reset_index(drop=True)
    probe[feature] = np.tile(grid, rows)
    p = predict(probe).reshape(rows, len(grid))
    return float(np.max(-direction * np.diff(p, axis=1), initial=0.0))


@pytest.mark.parametrize("family", ["lightgbm", "xgboost", "hist_gradient_boosting"])
def test_monotone_constraints_hold_on_the_trained_model(matrix, family):
    schema, X, y = matrix
    cats = categorical_inputs(schema)
    names = list(schema["model_features"])
    mono = options.monotone_for(names, cats)
    assert {"EXT_SOURCE_1", "EXT_SOURCE_2", "EXT_SOURCE_3"} <= set(mono)
    assert all(mono[f"EXT_SOURCE_{i}"] == -1 for i in (1, 2, 3))
    constrained = models.Features(names, cats, mono)
    free = models.Features(names, cats)
    est = models.fit(family, FAST[family], "none", X, y, constrained, 0)

    def predict(frame):
        return models.predict_proba(est, family, frame)

    for feature, direction in mono.items():
        assert grid_violations(predict, X, feature, direction) == 0.0, (family, feature)
    # The same fit without constraints breaks at least one of them: the check can fail.
    loose = models.fit(family, FAST[family], "none", X, y, free, 0)
    worst = max(
        grid_violations(lambda f: models.predict_proba(loose, family, f), X, feature, direction)
        for feature, direction in mono.items()
    )
    assert worst > 0.0


def test_excluded_features_take_their_derived_features_along(matrix):
    schema, _, _ = matrix
    assert options.excluded_model_features(schema, ["CODE_GENDER"]) == ["CODE_GENDER"]
    assert options.excluded_model_features(schema, ["DAYS_BIRTH"]) == ["DAYS_BIRTH", "EMPLOYED_AGE_RATIO"]
    out = options.without(schema, ["CODE_GENDER"])
    assert "CODE_GENDER" not in out["model_features"] and len(out["model_features"]) == 44
    assert "CODE_GENDER" in {f["name"] for f in out["inputs"]}
    with pytest.raises(ValueError, match="NOT_A_COLUMN"):
        options.without(schema, ["NOT_A_COLUMN"])
    cfg = parse_args(["--monotone", "--exclude-features", "CODE_GENDER, FLAG_OWN_CAR", "--keep-bundle"])
    assert cfg.monotone and cfg.keep_bundle and cfg.exclude_features == ("CODE_GENDER", "FLAG_OWN_CAR")


@pytest.fixture(scope="module")
def constrained_run(tmp_path_factory, quick_config):
    root = tmp_path_factory.mktemp("options")
    cfg = quick_config(
        root,
        rows=2500,
        seed=9,
        folds=2,
        trials=1,
        families=("lightgbm",),
        mlflow=False,
        monotone=True,
        exclude_features=("CODE_GENDER",),
    )
    return cfg, run(cfg)


def score(bundle, records, tmp_path):
    """Records as API JSON values (a JSON round trip), scored through the package."""
    records = json.loads(json.dumps(records))
    columns = {name: [r.get(name) for r in records] for name in records[0]}
    return creditscore.Bundle.load(bundle).score(columns).probability


def test_served_bundle_is_monotone_and_blind_to_the_excluded_input(constrained_run, tmp_path):
    cfg, result = constrained_run
    header = read_header(result.bundle)
    assert "CODE_GENDER" not in header["schema"]["model_features"]
    required = [f["name"] for f in header["schema"]["inputs"] if f["required"]]
    assert "CODE_GENDER" in required, "still a required, validated input of the contract"
    training = header["meta"]["training"]
    assert training["excluded_features"] == ["CODE_GENDER"]
    assert training["monotone_constraints"]["EXT_SOURCE_2"] == -1
    clients = generate(100, seed=4).head(30)
    records = []
    for _, r in clients.iterrows():
        base = {k: (None if pd.isna(v) else v.item() if hasattr(v, "item") else v) for k, v in r.items()}
        base.pop(TARGET)
        for gender in ("F", "M"):
            for ext in np.linspace(0.02, 0.95, 12):
                records.append(dict(base, CODE_GENDER=gender, EXT_SOURCE_2=float(ext)))
    p = score(result.bundle, records, tmp_path).reshape(len(clients), 2, 12)
    assert np.array_equal(p[:, 0, :], p[:, 1, :]), "CODE_GENDER changes nothing"
    assert (np.diff(p, axis=2) <= 0).all(), "probability never rises with EXT_SOURCE_2"
    assert np.diff(p, axis=2).min() < 0


def test_card_compares_the_options(constrained_run):
    cfg, result = constrained_run
    names = [v["variant"] for v in result.variants]
    assert names == ["monotone + without CODE_GENDER", "default", "monotone", "without CODE_GENDER"]
    card = (cfg.out_dir / "MODEL_CARD.md").read_text()
    for text in (
        "## Training options",
        "monotone + without CODE_GENDER",
        "| EXT_SOURCE_2 | -1",
        "## Fairness",
    ):
        assert text in card
    assert "CODE_GENDER is not read by this model" in card
    options_part = card[card.index("## Training options") :]
    table = options_part[options_part.index("| variant | CV business |") :].split("\n\n")[0].splitlines()
    assert [line.split(" | ")[0].lstrip("| ") for line in table[2:]] == names
    for r, line in zip(result.variants, table[2:], strict=True):
        assert f"| {r['business_score']:.4f} | {r['auc']:.4f} | {r['gini']:.4f} |" in line
    for png in ("reliability", "approval_by_gender", "approval_by_age"):
        assert (cfg.out_dir / "card" / f"{png}.png").stat().st_size > 5000


def test_params_from_reproduces_the_bundle_and_keep_bundle_keeps_it(constrained_run):
    """Training again with the parameters a bundle records (--params-from) gives the same model, so
    --keep-bundle leaves the file untouched; another model replaces it."""
    cfg, result = constrained_run
    before = result.bundle.read_bytes()
    again = Config(
        **{
            **cfg.__dict__,
            "params_from": str(result.bundle),
            "keep_bundle": True,
            "option_variants": False,
            "card": False,
        }
    )
    rerun = run(again)
    assert rerun.kept_bundle and result.bundle.read_bytes() == before
    assert rerun.chosen["threshold"] == result.chosen["threshold"]
    assert list(rerun.comparison["model"]) == ["lightgbm"]
    # Without the constraints it is another model: the file is replaced.
    other = run(Config(**{**again.__dict__, "monotone": False}))
    assert not other.kept_bundle and result.bundle.read_bytes() != before
    assert "monotone_constraints" in read_header(result.bundle)["meta"]["training"]
    assert read_header(result.bundle)["meta"]["training"]["monotone_constraints"] == {}
