"""End to end on a small synthetic sample: comparison, tuning, threshold, bundle through the core's
importer (parity checked inside the pipeline), model card, MLflow run and registry read-back."""

import hashlib
import json

import mlflow
import numpy as np
import pytest

from bundle_io import read_header
from creditscore_train import core, models, tracking
from creditscore_train.pipeline import run
from creditscore_train.schema import CONTRACT_REQUIRED, ID_FIELD
from creditscore_train.synthetic import COLUMNS, generate


@pytest.fixture(scope="module")
def trained(tmp_path_factory, quick_config):
    cfg = quick_config(
        tmp_path_factory.mktemp("train"), rows=3000, seed=5, folds=3, trials=2, experiment="creditscore-test"
    )
    return cfg, run(cfg)


def test_every_family_and_imbalance_strategy_is_compared(trained):
    _, result = trained
    table = result.comparison
    assert set(table["model"]) == set(models.FAMILIES)
    for family in models.FAMILIES:
        strategies = set(table.loc[table["model"] == family, "imbalance"])
        assert strategies == set(models.strategies_for(family)), family
    assert {"class_weight", "undersample"} <= set(table["imbalance"])
    dummy = table[table["model"] == "dummy"].iloc[0]
    assert abs(dummy["auc"] - 0.5) < 0.05, "a constant per fold ranks nothing"
    assert abs(dummy["business_score"]) < 0.02, "a constant decision scores about 0"
    best = table.iloc[0]
    assert best["auc"] > 0.62 and best["business_score"] > 0.0
    assert (table["fit_seconds"] > 0).all()


def test_threshold_comes_from_out_of_fold_predictions(trained):
    _, result = trained
    chosen = result.chosen
    assert chosen["model"] in models.EXPORTABLE
    assert 0.0 < chosen["threshold"] < 1.0
    assert result.spec["threshold"] == chosen["threshold"]
    assert result.spec["meta"]["metrics"]["cv_business_score"] == chosen["cv_business_score"]
    assert result.parity_max_abs_diff <= 1e-12 or chosen["model"] == "xgboost"


def test_bundle_serves_the_trained_model(trained, tmp_path):
    cfg, result = trained
    header = read_header(result.bundle)
    assert header["meta"]["training"]["data"] == "synthetic"
    required = [f["name"] for f in header["schema"]["inputs"] if f["required"]]
    assert sorted(required) == sorted(CONTRACT_REQUIRED)
    assert header["selection"]["method"] == "correlation"
    # Fresh rows scored by the CLI and by the bundle's own reference: probabilities in (0, 1).
    fresh = generate(200, seed=99)
    scores = core.predict(result.bundle, fresh[[ID_FIELD, *[c for c in COLUMNS if c != ID_FIELD]]])
    assert scores["probability"].between(0, 1).all()
    assert set(scores["prediction"]) <= {0, 1}
    card = (cfg.out_dir / "MODEL_CARD.md").read_text()
    assert "SYNTHETIC" in card
    for png in ("cost_vs_threshold", "roc", "importance", "shap_summary", "approval_by_gender"):
        assert (cfg.out_dir / "card" / f"{png}.png").stat().st_size > 5000


def test_mlflow_registry_reads_back_the_champion(trained):
    cfg, result = trained
    mlflow.set_tracking_uri(cfg.tracking_uri)
    client = mlflow.MlflowClient()
    version = client.get_model_version_by_alias(tracking.MODEL_NAME, tracking.ALIAS)
    assert version.run_id == result.run_id
    assert str(version.version) == result.model_version
    run_data = client.get_run(result.run_id).data
    assert run_data.tags["synthetic"] == "true"
    assert run_data.metrics["cv_business_score"] == pytest.approx(result.chosen["cv_business_score"])
    assert run_data.params["model"] == result.chosen["model"]
    # The bundle artifact is the bundle the pipeline wrote.
    local = mlflow.artifacts.download_artifacts(
        run_id=result.run_id, artifact_path=f"bundle/{result.bundle.name}"
    )
    digest = hashlib.sha256(open(local, "rb").read()).hexdigest()
    assert digest == hashlib.sha256(result.bundle.read_bytes()).hexdigest()
    # The registered model predicts what the bundle serves.
    X = np.array(json.loads((cfg.work_dir / "check_rows.json").read_text()))
    expected = json.loads((cfg.work_dir / "check_proba.json").read_text())
    family = result.chosen["model"]
    uri = f"models:/{tracking.MODEL_NAME}@{tracking.ALIAS}"
    if family == "lightgbm":
        proba = mlflow.lightgbm.load_model(uri).predict(X)
    elif family == "xgboost":
        import xgboost as xgb

        proba = mlflow.xgboost.load_model(uri).predict(xgb.DMatrix(X))
    else:
        proba = mlflow.sklearn.load_model(uri).predict_proba(X)[:, 1]
    np.testing.assert_allclose(proba, expected, rtol=0, atol=1e-12 if family != "xgboost" else 1e-6)


def test_card_figures_equal_sklearn_and_scipy_on_the_test_predictions(trained):
    """The numbers printed on the card are those of scikit-learn/scipy on the held-out predictions."""
    import re

    from scipy.stats import ks_2samp
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import brier_score_loss, roc_auc_score

    cfg, result = trained
    y, p = result.y_test, result.p_test
    card = (cfg.out_dir / "MODEL_CARD.md").read_text()

    def on_card(name):
        return re.search(rf"^\| {name} \| \**([0-9.]+)\**", card, re.M).group(1)

    auc = roc_auc_score(y, p)
    ks = ks_2samp(p[y == 1], p[y == 0]).statistic
    brier = brier_score_loss(y, p)
    prob_true, prob_pred = calibration_curve(y, p, n_bins=10, strategy="uniform")
    counts = np.bincount(np.searchsorted(np.linspace(0, 1, 11)[1:-1], p), minlength=10)
    ece = float(np.sum(counts[counts > 0] / len(p) * np.abs(prob_true - prob_pred)))
    expected = {"gini": 2 * auc - 1, "ks": ks, "brier": brier, "ece": ece}
    for key, value in expected.items():
        assert result.test[key] == pytest.approx(value, abs=1e-12), key
    assert on_card("Gini") == f"{expected['gini']:.4f}"
    assert on_card("KS") == f"{expected['ks']:.4f}"
    assert on_card("Brier score") == f"{expected['brier']:.5f}"
    assert on_card("ECE") == f"{expected['ece']:.5f}"
    # The bundled model's row of the options table is this model.
    assert result.variants[0]["variant"] == "default" and result.variants[0]["gini"] == result.test["gini"]
