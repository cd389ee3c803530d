"""The training pipeline, end to end (SPEC section 8).

data -> stratified train/test split -> schema -> feature matrix computed by the Rust core ->
correlation selection of the required inputs -> StratifiedKFold comparison of every model family
and imbalance strategy on AUC and the business score -> Optuna tuning of the best exportable
family -> threshold from out-of-fold predictions -> final refit -> held-out test metrics (once) ->
bundle through the core's importer (+ parity check) -> reference statistics, plots, model card ->
MLflow run, registered model with alias ``champion``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from . import (
    core,
    dictionary,
    metrics,
    models,
    options,
    reference,
    risk_metrics,
    selection,
    sklearn_export,
)
from .data import Dataset, load
from .schema import CONTRACT_REQUIRED, ID_FIELD, build_schema, categorical_inputs, levels_of, with_required
from .synthetic import COLUMNS, TARGET

MODEL_NAME = "credit_scoring_model"


@dataclass
class Config:
    data: str | None = None
    rows: int = 60000
    seed: int = 42
    test_size: float = 0.2
    folds: int = 5
    trials: int = 20
    families: tuple[str, ...] = models.FAMILIES
    selection_method: str = selection.DEFAULT_METHOD
    top_n: int = selection.DEFAULT_TOP_N
    min_corr: float = selection.DEFAULT_MIN_CORR
    required_policy: str = "contract"
    out_dir: Path = Path("models")
    work_dir: Path = Path("out/train")
    bundle_name: str = "default.csb"
    mlflow: bool = True
    tracking_uri: str | None = None
    experiment: str = "creditscore"
    card: bool = True
    quick: bool = False
    version: str = ""
    # Training options (options.py): monotone constraints on the boosted families, inputs the
    # model must not read; the card compares the four combinations unless option_variants is off.
    monotone: bool = False
    exclude_features: tuple[str, ...] = ()
    option_variants: bool = True
    # Keep an existing out_dir bundle that serves exactly this model (see _export).
    keep_bundle: bool = False
    # Train the family/strategy/parameters recorded in this bundle instead of comparing and tuning.
    params_from: str | None = None
    extra: dict = field(default_factory=dict)


@dataclass
class Result:
    bundle: Path
    spec: dict
    comparison: pd.DataFrame
    chosen: dict
    test: dict
    parity_max_abs_diff: float
    run_id: str | None = None
    model_version: str | None = None
    timings: dict = field(default_factory=dict)
    # Score points of the test rows as the core serves them (scorecard scale of the bundle).
    points_test: np.ndarray | None = None
    # The training-option variants compared on the test set (compare_options), main one first.
    variants: list[dict] = field(default_factory=list)
    kept_bundle: bool = False
    # Held-out labels and the bundled model's probabilities (what the card's figures are computed on).
    y_test: np.ndarray | None = None
    p_test: np.ndarray | None = None


def log(msg: str) -> None:
    print(msg, flush=True)


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def run(cfg: Config) -> Result:
    timings: dict[str, float] = {}
    t_start = time.perf_counter()
    cfg.work_dir.mkdir(parents=True, exist_ok=True)
    cfg.out_dir.mkdir(parents=True, exist_ok=True)

    def lap(name: str, since: float) -> float:
        now = time.perf_counter()
        timings[name] = round(now - since, 2)
        return now

    # 1. Data and held-out split.
    t = time.perf_counter()
    dataset: Dataset = load(cfg.data, cfg.rows, cfg.seed)
    frame = dataset.frame
    log(f"data: {dataset.description}; default rate {frame[TARGET].mean():.4f}")
    train_df, test_df = train_test_split(
        frame, test_size=cfg.test_size, stratify=frame[TARGET], random_state=cfg.seed
    )
    train_df = train_df.reset_index(drop=True)
    test_df = test_df.reset_index(drop=True)
    y_train = train_df[TARGET].to_numpy()
    y_test = test_df[TARGET].to_numpy()
    inputs = [c for c in COLUMNS if c != ID_FIELD]
    t = lap("data", t)

    # 2. Schema and the core's feature matrix.
    full_schema = build_schema(train_df, frame, inputs, set(CONTRACT_REQUIRED))
    raw_cols = [ID_FIELD, *inputs]
    X_train_full = core.feature_matrix(full_schema, train_df[raw_cols])
    X_test_full = core.feature_matrix(full_schema, test_df[raw_cols])
    # --exclude-features: the model's columns without the excluded inputs (and what derives from them).
    schema = options.without(full_schema, cfg.exclude_features) if cfg.exclude_features else full_schema
    X_train = X_train_full[schema["model_features"]]
    X_test = X_test_full[schema["model_features"]]
    if cfg.exclude_features:
        log(f"excluded from the model: {options.excluded_model_features(full_schema, cfg.exclude_features)}")
    log(
        f"features: {X_train.shape[1]} model features computed by the core "
        f"for {len(X_train)}+{len(X_test)} rows"
    )
    t = lap("features", t)

    # 3. Correlation-based selection of the required inputs.
    cats = categorical_inputs(schema)
    numeric_candidates = [n for n in inputs if n not in cats]
    sel = selection.select(
        X_train_full,
        pd.Series(y_train),
        numeric_candidates,
        [c for c in selection.DEFAULT_CATEGORICAL if c in cats],
        levels_of(schema),
        method=cfg.selection_method,
        top_n=cfg.top_n,
        min_corr=cfg.min_corr,
    )
    agrees = sorted(sel.selected) == sorted(CONTRACT_REQUIRED)
    log(f"selection ({sel.method}, top_n {sel.top_n}, min_corr {sel.min_corr}): {sel.selected}")
    if not agrees:
        log(f"  NOTE: differs from the SPEC section 4 contract list {CONTRACT_REQUIRED}")
    if cfg.required_policy == "selection" and not agrees:
        schema = with_required(schema, set(sel.selected), train_df)
    required = [f["name"] for f in schema["inputs"] if f["required"]]
    t = lap("selection", t)

    # 4. Model comparison (StratifiedKFold, same folds for all).
    feat = _features(schema, cats, cfg.monotone)
    if feat.monotone:
        log(f"monotone constraints (boosted families): {feat.monotone}")
    folds = models.make_folds(y_train, cfg.folds, cfg.seed)
    if cfg.params_from:
        # --params-from: the family, strategy and parameters recorded in a bundle, no comparison or
        # tuning (the same cross-validation as a tuning trial, so the same OOF threshold).
        family, strategy, params = _recorded_params(Path(cfg.params_from))
        log(f"parameters from {cfg.params_from}: {family}/{strategy} {params} (no comparison, no tuning)")
        tuned = models.cross_validate(family, params, strategy, X_train, y_train, feat, folds, cfg.seed)
        results, trials = [tuned], []
        best_overall = base = tuned
        table = pd.DataFrame([tuned.row()])
        t = lap("comparison", t)
    else:
        log(f"comparison: {cfg.folds}-fold StratifiedKFold on {len(y_train)} rows")
        results = models.compare(X_train, y_train, feat, folds, cfg.seed, families=cfg.families, log=log)
        table = pd.DataFrame([r.row() for r in results]).sort_values("business_score", ascending=False)
        t = lap("comparison", t)

        # 5. Tune the best exportable family (with its best imbalance strategy) on the business score.
        exportable = [r for r in results if r.family in models.EXPORTABLE]
        if not exportable:
            raise ValueError("no exportable family (lightgbm, xgboost, hist_gradient_boosting) was compared")
        best_overall = max(results, key=lambda r: r.threshold.score)
        base = max(exportable, key=lambda r: r.threshold.score)
        log(f"tuning {base.name} ({cfg.trials} Optuna trials; best overall: {best_overall.name})")
        tuned, trials = models.tune(
            base.family, base.strategy, X_train, y_train, feat, folds, cfg.seed, cfg.trials, base, log=log
        )
    threshold = tuned.threshold
    log(
        f"chosen: {tuned.name} CV AUC {tuned.auc:.4f}, business score {threshold.score:.4f} "
        f"at threshold {threshold.threshold:.4f} (from out-of-fold predictions)"
    )
    t = lap("tuning", t)

    # 6. Final refit on the whole training set; held-out test metrics, computed once.
    final = models.fit(tuned.family, tuned.params, tuned.strategy, X_train, y_train, feat, cfg.seed)
    p_test = models.predict_proba(final, tuned.family, X_test)
    test = {
        "auc": metrics.auc(y_test, p_test),
        "business_score": metrics.business_score(y_test, p_test, threshold.threshold),
        "refusal_rate": float(np.mean(p_test >= threshold.threshold)),
        "rows": len(y_test),
    }
    pred = p_test >= threshold.threshold
    test.update(
        {
            "true_positives": int(np.sum(pred & (y_test == 1))),
            "false_positives": int(np.sum(pred & (y_test == 0))),
            "false_negatives": int(np.sum(~pred & (y_test == 1))),
            "true_negatives": int(np.sum(~pred & (y_test == 0))),
        }
    )
    log(f"held-out test: AUC {test['auc']:.4f}, business score {test['business_score']:.4f}")
    t = lap("final_fit", t)

    # 7. Bundle through the core's importer, then a parity check through `creditscore predict`.
    created = _now()
    version = cfg.version or created.replace(":", "").replace("-", "")
    kind, model_path = _save_model(final, tuned.family, feat, cfg.work_dir)
    data_label = "synthetic" if dataset.synthetic else "real"
    spec = {
        "meta": {
            "name": MODEL_NAME,
            "version": version,
            "created": created,
            "source": "",
            "metrics": {
                "cv_auc": tuned.auc,
                "cv_business_score": threshold.score,
                "test_auc": test["auc"],
                "test_business_score": test["business_score"],
                "train_default_rate": float(y_train.mean()),
            },
            "training": {
                "data": data_label,
                "data_description": dataset.description,
                "rows_train": len(y_train),
                "rows_test": len(y_test),
                "model": tuned.family,
                "imbalance": tuned.strategy,
                "params": _jsonable(tuned.params),
                "cv_folds": cfg.folds,
                "tuning_trials": cfg.trials,
                "business_cost": {"false_negative": metrics.FN_COST, "false_positive": metrics.FP_COST},
                "seed": cfg.seed,
                "required_policy": cfg.required_policy,
                "selection_agrees_with_contract": agrees,
                "quick": cfg.quick,
                "monotone_constraints": feat.monotone,
                "excluded_features": list(cfg.exclude_features),
            },
        },
        # The served schema also knows the rest of the column dictionary, the accepted spellings
        # and the dataset's codes (none of which changes a feature the model was trained on).
        "schema": dictionary.complete_schema(schema),
        "threshold": threshold.threshold,
        "selection": sel.to_json(),
        "reference": reference.reference_stats(schema, train_df[inputs], tuned.oof, threshold.threshold),
    }
    bundle_path = cfg.out_dir / cfg.bundle_name
    kept = _export(cfg, kind, model_path, spec, bundle_path, test_df[raw_cols], p_test, threshold.threshold)
    served = core.predict(bundle_path, test_df[raw_cols])
    parity = float(np.max(np.abs(served["probability"].to_numpy() - p_test)))
    log(
        f"bundle: {bundle_path} ({bundle_path.stat().st_size} bytes); "
        f"max |core - {tuned.family}| = {parity:.3g}"
    )
    tolerance = 1e-6 if tuned.family == "xgboost" else 1e-12
    if not parity <= tolerance:
        raise RuntimeError(f"bundle predictions differ from the trained model by {parity} (> {tolerance})")
    # A few rows with what the bundle serves for them, to check the registered model against.
    check = min(50, len(X_test))
    (cfg.work_dir / "check_rows.json").write_text(json.dumps(X_test.head(check).to_numpy().tolist()))
    (cfg.work_dir / "check_proba.json").write_text(json.dumps(served["probability"].head(check).tolist()))
    t = lap("export", t)

    chosen = {
        "model": tuned.family,
        "imbalance": tuned.strategy,
        "params": _jsonable(tuned.params),
        "cv_auc": tuned.auc,
        "cv_business_score": threshold.score,
        "threshold": threshold.threshold,
        "cv_refusal_rate": threshold.refusal_rate,
        "baseline_business_score": base.threshold.score,
        "best_overall": best_overall.name,
        "best_overall_business_score": best_overall.threshold.score,
    }
    test.update(risk_metrics.summary(y_test, p_test, threshold.threshold))
    result = Result(bundle_path, spec, table, chosen, test, parity, timings=timings, kept_bundle=kept)
    result.points_test = served["score"].to_numpy() if "score" in served else None
    result.y_test, result.p_test = y_test, p_test

    # 7b. The training options side by side (same tuned parameters, same folds, same test rows).
    main_key = (feat.monotone != {}, tuple(cfg.exclude_features))
    main = {"key": main_key, "cv": tuned, "p_test": p_test}
    if cfg.option_variants:
        result.variants = compare_options(
            cfg, tuned, full_schema, cats, X_train_full, X_test_full, y_train, y_test, test_df, folds, main
        )
    else:
        result.variants = [_variant_row(main_key, tuned, p_test, y_test, test_df)]
    t = lap("options", t)

    # 8. Plots and model card.
    artifacts: list[Path] = []
    if cfg.card:
        from . import card

        artifacts = card.write(
            cfg,
            dataset,
            result,
            tuned,
            final,
            feat,
            y_train,
            test_df,
            y_test,
            p_test,
            required,
            sel,
            raw_cols,
        )
        t = lap("card", t)

    # 9. MLflow.
    table.to_csv(cfg.work_dir / "comparison.csv", index=False)
    (cfg.work_dir / "spec.json").write_text(json.dumps(spec, indent=1))
    if cfg.mlflow:
        from . import tracking

        result.run_id, result.model_version = tracking.log_run(
            cfg, result, results, trials, final, tuned.family, model_path, artifacts
        )
        t = lap("mlflow", t)
    timings["total"] = round(time.perf_counter() - t_start, 2)
    log(f"timings (s): {timings}")
    (cfg.work_dir / "summary.json").write_text(
        json.dumps(
            {"chosen": chosen, "test": test, "timings": timings, "parity": parity, "run_id": result.run_id},
            indent=1,
        )
    )
    return result


def _features(schema: dict, cats: list[str], monotone: bool) -> models.Features:
    names = list(schema["model_features"])
    categorical = [c for c in cats if c in names]
    return models.Features(names, categorical, options.monotone_for(names, categorical) if monotone else {})


def variant_name(key: tuple[bool, tuple[str, ...]]) -> str:
    monotone, excluded = key
    parts = (["monotone"] if monotone else []) + ([f"without {', '.join(excluded)}"] if excluded else [])
    return " + ".join(parts) or "default"


def _variant_row(key, cv: models.CvResult, p_test, y_test, test_df) -> dict:
    thr = cv.threshold.threshold
    row = {
        "variant": variant_name(key),
        "key": key,
        "cv_auc": cv.auc,
        "cv_business_score": cv.threshold.score,
        "threshold": thr,
        "business_score": metrics.business_score(y_test, p_test, thr),
        **risk_metrics.summary(y_test, p_test, thr),
    }
    row["fairness"] = {
        "CODE_GENDER": risk_metrics.fairness(test_df["CODE_GENDER"], y_test, p_test, thr),
        "age_band": risk_metrics.fairness(risk_metrics.age_band(test_df["DAYS_BIRTH"]), y_test, p_test, thr),
    }
    for name, table in row["fairness"].items():
        row[f"{name}_min_approval_ratio"] = float(table["approval_ratio"].min())
        row[f"{name}_max_abs_tpr_diff"] = float(table["tpr_diff"].abs().max())
    row["p_test"] = p_test
    return row


def compare_options(
    cfg: Config,
    tuned: models.CvResult,
    full_schema: dict,
    cats: list[str],
    X_train_full: pd.DataFrame,
    X_test_full: pd.DataFrame,
    y_train: np.ndarray,
    y_test: np.ndarray,
    test_df: pd.DataFrame,
    folds,
    main: dict,
) -> list[dict]:
    """Default vs monotone vs without the excluded inputs (vs both): each with the chosen family,
    imbalance strategy and tuned parameters (not re-tuned, so the difference is the option's), its
    own out-of-fold threshold on the same folds, a refit on the whole training part, and the test
    figures at that threshold. The pipeline's own model is one of them (reused, not refitted)."""
    excluded = tuple(cfg.exclude_features) or options.DEFAULT_EXCLUDED
    keys = [(False, ()), (True, ()), (False, excluded), (True, excluded)]
    keys = [main["key"], *[k for k in keys if k != main["key"]]]
    rows = []
    for key in keys:
        if key == main["key"]:
            rows.append(_variant_row(key, main["cv"], main["p_test"], y_test, test_df))
            continue
        monotone, excl = key
        schema = options.without(full_schema, excl) if excl else full_schema
        feat = _features(schema, cats, monotone)
        X_tr = X_train_full[feat.names]
        cv = models.cross_validate(
            tuned.family, tuned.params, tuned.strategy, X_tr, y_train, feat, folds, cfg.seed
        )
        est = models.fit(tuned.family, tuned.params, tuned.strategy, X_tr, y_train, feat, cfg.seed)
        p = models.predict_proba(est, tuned.family, X_test_full[feat.names])
        row = _variant_row(key, cv, p, y_test, test_df)
        log(
            f"option {row['variant']}: CV business {row['cv_business_score']:.4f}, "
            f"test AUC {row['auc']:.4f}, business {row['business_score']:.4f}"
        )
        rows.append(row)
    return rows


def _export(cfg: Config, kind, model_path, spec, bundle_path: Path, raw_test, p_test, threshold) -> bool:
    """Imports the model into ``bundle_path``; returns True when an existing bundle was kept.

    With ``keep_bundle``, an existing bundle with the same threshold whose probabilities equal the
    trained model's on every test row (so the same trees: this is a re-run of the training that
    produced it) is left as it is, header and creation time included; the card then describes
    that file. Any difference and the bundle is replaced as usual."""
    if cfg.keep_bundle and bundle_path.exists():
        candidate = cfg.work_dir / f"candidate-{cfg.bundle_name}"
        core.import_model(kind, model_path, spec, candidate)
        header = core.bundle_header(bundle_path)
        served = core.predict(bundle_path, raw_test)["probability"].to_numpy()
        if header.get("threshold") == spec["threshold"] and np.array_equal(served, p_test):
            log(f"bundle: keeping {bundle_path} (created {header['meta']['created']}): it serves this model")
            spec["meta"].update({k: header["meta"][k] for k in ("version", "created")})
            return True
        log(f"bundle: {bundle_path} serves another model: replacing it")
        candidate.replace(bundle_path)
        return False
    core.import_model(kind, model_path, spec, bundle_path)
    return False


def _recorded_params(bundle: Path) -> tuple[str, str, dict]:
    training = core.bundle_header(bundle)["meta"].get("training", {})
    try:
        return training["model"], training["imbalance"], dict(training["params"])
    except KeyError as e:
        raise ValueError(f"{bundle} records no training {e} (not made by this pipeline?)") from None


def _jsonable(params: dict) -> dict:
    return {k: (v.item() if hasattr(v, "item") else v) for k, v in params.items()}


def _save_model(est, family: str, feat: models.Features, work: Path) -> tuple[str, Path]:
    """Writes the fitted model in its library's own format; returns (importer kind, path)."""
    if family == "lightgbm":
        path = work / "model.txt"
        est.booster_.save_model(str(path))
        return "lightgbm", path
    if family == "xgboost":
        path = work / "model.json"
        booster = est.get_booster()
        booster.feature_names = list(feat.names)
        booster.save_model(str(path))
        return "xgboost", path
    if family == "hist_gradient_boosting":
        path = work / "model.sklearn.json"
        sklearn_export.save(est, path, feature_names=list(feat.names))
        return "sklearn", path
    raise ValueError(f"no importer for {family}")


def parse_args(argv=None) -> Config:
    env = os.environ
    p = argparse.ArgumentParser(prog="python -m creditscore_train", description=__doc__.splitlines()[0])
    p.add_argument("--data", help="path to Home Credit application_train.csv (default: synthetic data)")
    p.add_argument("--rows", type=int, help="synthetic rows (default 60000; QUICK 20000)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--quick", action="store_true", default=env.get("QUICK", "") not in ("", "0"))
    p.add_argument("--folds", type=int)
    p.add_argument("--trials", type=int)
    p.add_argument("--families", help="comma-separated model families to compare (default: all)")
    p.add_argument(
        "--selection-method", default=env.get("FEATURE_SELECTION_METHOD", selection.DEFAULT_METHOD)
    )
    p.add_argument(
        "--top-n", type=int, default=int(env.get("FEATURE_SELECTION_TOP_N", selection.DEFAULT_TOP_N))
    )
    p.add_argument(
        "--min-corr",
        type=float,
        default=float(env.get("FEATURE_SELECTION_MIN_CORR", selection.DEFAULT_MIN_CORR)),
    )
    p.add_argument(
        "--required-policy",
        choices=["contract", "selection"],
        default="contract",
        help="required inputs: SPEC section 4's list (contract) or the selection's result",
    )
    p.add_argument("--out-dir", default="models")
    p.add_argument("--work-dir", default="out/train")
    p.add_argument("--no-mlflow", action="store_true")
    p.add_argument("--no-card", action="store_true")
    p.add_argument("--experiment", default="creditscore")
    p.add_argument(
        "--monotone",
        action="store_true",
        help="monotone constraints on the boosted families where the direction is known (options.MONOTONE)",
    )
    p.add_argument(
        "--exclude-features",
        default="",
        help="comma-separated inputs the model must not read (e.g. CODE_GENDER); still accepted, validated",
    )
    p.add_argument(
        "--no-option-comparison",
        action="store_true",
        help="skip the card's default / monotone / excluded comparison",
    )
    p.add_argument(
        "--params-from",
        metavar="BUNDLE",
        help="train the family, imbalance strategy and parameters recorded in BUNDLE (no comparison/tuning)",
    )
    p.add_argument(
        "--keep-bundle",
        action="store_true",
        help="keep an existing OUT_DIR bundle that serves exactly the trained model (header and date)",
    )
    p.add_argument("--version", default="")
    a = p.parse_args(argv)
    quick = a.quick
    return Config(
        data=a.data,
        rows=a.rows or (20000 if quick else 60000),
        seed=a.seed,
        folds=a.folds or (3 if quick else 5),
        trials=a.trials if a.trials is not None else (5 if quick else 20),
        families=tuple(a.families.split(",")) if a.families else models.FAMILIES,
        selection_method=a.selection_method,
        top_n=a.top_n,
        min_corr=a.min_corr,
        required_policy=a.required_policy,
        out_dir=Path(a.out_dir),
        work_dir=Path(a.work_dir),
        mlflow=not a.no_mlflow,
        tracking_uri=env.get("MLFLOW_TRACKING_URI"),
        experiment=a.experiment,
        card=not a.no_card,
        quick=quick,
        version=a.version,
        monotone=a.monotone,
        exclude_features=tuple(n.strip() for n in a.exclude_features.split(",") if n.strip()),
        option_variants=not a.no_option_comparison,
        keep_bundle=a.keep_bundle,
        params_from=a.params_from,
    )


def main(argv=None) -> int:
    cfg = parse_args(argv)
    result = run(cfg)
    log(result.comparison.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    log(json.dumps({"chosen": result.chosen, "test": result.test}, indent=1, default=str))
    return 0


__all__ = ["Config", "Result", "run", "main", "asdict"]
