"""scikit-learn HistGradientBoosting -> JSON -> `creditscore import sklearn` -> bundle: the bundle
serves the classifier's probabilities (1e-12), with the schema's categorical codes."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from creditscore_train import core, models, sklearn_export
from creditscore_train.schema import CONTRACT_REQUIRED, ID_FIELD, build_schema, categorical_inputs
from creditscore_train.synthetic import COLUMNS


def test_hgb_bundle_matches_sklearn(small_data, tmp_path):
    inputs = [c for c in COLUMNS if c != ID_FIELD]
    schema = build_schema(small_data, small_data, inputs, set(CONTRACT_REQUIRED))
    raw = small_data[[ID_FIELD, *inputs]]
    X = core.feature_matrix(schema, raw)
    y = small_data["TARGET"].to_numpy()
    feat = models.Features(list(schema["model_features"]), categorical_inputs(schema))
    clf = models.fit("hist_gradient_boosting", {"max_iter": 60, "max_leaf_nodes": 15}, "none", X, y, feat, 0)
    model_path = tmp_path / "model.json"
    sklearn_export.save(clf, model_path, feature_names=feat.names)
    doc = json.loads(model_path.read_text())
    assert doc["format"] == "creditscore-sklearn-hgb"
    assert any(c is not None for c in doc["categories"]), "categorical features are exported"
    spec = {
        "meta": {"name": "hgb", "version": "test", "created": "2026-01-01T00:00:00Z", "source": ""},
        "schema": schema,
        "threshold": 0.2,
    }
    bundle = tmp_path / "hgb.csb"
    core.import_model("sklearn", model_path, spec, bundle)
    served = core.predict(bundle, raw)
    expected = clf.predict_proba(X)[:, 1]
    np.testing.assert_allclose(served["probability"].to_numpy(), expected, rtol=0, atol=1e-12)
    assert (served["prediction"] == (served["probability"] >= 0.2).astype(int)).all()


def test_exporter_refuses_what_it_cannot_represent():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    y3 = rng.integers(0, 3, 200)
    multi = HistGradientBoostingClassifier(max_iter=3).fit(X, y3)
    with pytest.raises(sklearn_export.ExportError):
        sklearn_export.export(multi)
    with pytest.raises(sklearn_export.ExportError):
        sklearn_export.export(HistGradientBoostingClassifier())
    frame = pd.DataFrame(X, columns=["a", "b"])
    fitted = HistGradientBoostingClassifier(max_iter=3).fit(frame, (X[:, 0] > 0).astype(int))
    assert sklearn_export.export(fitted)["feature_names"] == ["a", "b"]
