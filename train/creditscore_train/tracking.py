"""MLflow tracking: a local backend by default (SQLite + artifacts under ./mlruns, no server), or
``MLFLOW_TRACKING_URI``. One parent run per training, a nested run per compared candidate and one
for the tuning; the chosen model is registered as ``credit_scoring_model`` with alias ``champion``.
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")

import mlflow  # noqa: E402
import pandas as pd  # noqa: E402

from .core import REPO  # noqa: E402

MODEL_NAME = "credit_scoring_model"
ALIAS = "champion"


def default_tracking_uri(root: Path = REPO) -> str:
    store = root / "mlruns"
    store.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{store / 'mlflow.db'}"


def setup(tracking_uri: str | None, experiment: str, root: Path = REPO) -> str:
    uri = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or default_tracking_uri(root)
    mlflow.set_tracking_uri(uri)
    if mlflow.get_experiment_by_name(experiment) is None:
        location = None
        if uri.startswith("sqlite:///"):
            # Artifacts next to the database, never in ./mlruns of whatever the current directory is.
            location = (Path(uri.removeprefix("sqlite:///")).parent / "artifacts").resolve().as_uri()
        mlflow.create_experiment(experiment, artifact_location=location)
    mlflow.set_experiment(experiment)
    return uri


def _clean(params: dict) -> dict:
    return {k: (v if isinstance(v, (int, float, str, bool)) else str(v)) for k, v in params.items()}


def log_model(final, family: str, model_path: Path):
    """Logs the fitted model with its library's flavor; returns the model info."""
    if family == "lightgbm":
        import mlflow.lightgbm

        return mlflow.lightgbm.log_model(final.booster_, name="model")
    if family == "xgboost":
        import mlflow.xgboost

        return mlflow.xgboost.log_model(final.get_booster(), name="model")
    import mlflow.sklearn

    return mlflow.sklearn.log_model(final, name="model", serialization_format="cloudpickle")


def log_run(cfg, result, results, trials, final, family: str, model_path: Path, artifacts: list[Path]):
    uri = setup(cfg.tracking_uri, cfg.experiment)
    meta = result.spec["meta"]
    data_label = meta["training"]["data"]
    with mlflow.start_run(run_name=f"train-{meta['version']}") as run:
        mlflow.set_tags(
            {
                "data": data_label,
                "synthetic": str(data_label == "synthetic").lower(),
                "quick": str(cfg.quick).lower(),
                "model_family": family,
            }
        )
        mlflow.log_params(
            _clean(
                {
                    "rows": cfg.rows if data_label == "synthetic" else "real",
                    "seed": cfg.seed,
                    "folds": cfg.folds,
                    "trials": cfg.trials,
                    "selection_method": cfg.selection_method,
                    "top_n": cfg.top_n,
                    "min_corr": cfg.min_corr,
                    "required_policy": cfg.required_policy,
                    "model": family,
                    "imbalance": result.chosen["imbalance"],
                    "threshold": result.chosen["threshold"],
                    **{f"param_{k}": v for k, v in result.chosen["params"].items()},
                }
            )
        )
        mlflow.log_metrics({k: float(v) for k, v in meta["metrics"].items()})
        mlflow.log_metric("threshold", result.chosen["threshold"])
        mlflow.log_metric("test_refusal_rate", result.test["refusal_rate"])
        mlflow.log_metric("parity_max_abs_diff", result.parity_max_abs_diff)
        for r in results:
            with mlflow.start_run(run_name=f"cv-{r.family}-{r.strategy}", nested=True):
                mlflow.set_tags({"stage": "comparison", "data": data_label})
                mlflow.log_params(_clean({"model": r.family, "imbalance": r.strategy, **r.params}))
                row = r.row()
                mlflow.log_metrics(
                    {
                        "cv_auc": row["auc"],
                        "cv_business_score": row["business_score"],
                        "best_threshold": row["best_threshold"],
                        "fit_seconds": row["fit_seconds"],
                    }
                )
        if trials:
            with mlflow.start_run(run_name=f"tuning-{family}", nested=True):
                mlflow.set_tags({"stage": "tuning", "data": data_label})
                for tr in trials:
                    mlflow.log_metric("trial_business_score", tr["business_score"], step=tr["number"])
                    mlflow.log_metric("trial_auc", tr["auc"], step=tr["number"])
                mlflow.log_table(pd.DataFrame(trials), "tuning_trials.json")
        mlflow.log_artifact(str(result.bundle), artifact_path="bundle")
        work = cfg.work_dir
        for name in ("spec.json", "comparison.csv"):
            if (work / name).exists():
                mlflow.log_artifact(str(work / name))
        mlflow.log_artifact(str(model_path), artifact_path="native_model")
        for path in artifacts:
            mlflow.log_artifact(str(path), artifact_path="card")
        info = log_model(final, family, model_path)
        run_id = run.info.run_id
    version = mlflow.register_model(info.model_uri, MODEL_NAME)
    client = mlflow.MlflowClient()
    client.set_registered_model_alias(MODEL_NAME, ALIAS, version.version)
    client.set_model_version_tag(MODEL_NAME, version.version, "source_run", run_id)
    client.set_model_version_tag(MODEL_NAME, version.version, "data", data_label)
    print(
        f"mlflow: run {run_id} at {uri}; registered {MODEL_NAME} v{version.version} as @{ALIAS}", flush=True
    )
    return run_id, str(version.version)
