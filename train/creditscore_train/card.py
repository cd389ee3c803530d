"""Model card (models/MODEL_CARD.md) and its plots (PNG, next to it in models/card/)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.metrics import roc_curve  # noqa: E402

from . import core_cli, metrics  # noqa: E402

SHAP_SAMPLE = 2000


def _save(fig, path):
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _rel(path) -> str:
    try:
        return str(path.resolve().relative_to(core_cli.REPO))
    except ValueError:
        return str(path)


def _tag(dataset) -> str:
    return "SYNTHETIC data" if dataset.synthetic else "real data"


def plot_cost_curve(path, y_oof, p_oof, threshold, tag):
    thresholds, cost = metrics.cost_curve(y_oof, p_oof)
    base = metrics.constant_cost(y_oof)
    grid = np.linspace(0.0, 1.0, 401)
    idx = np.clip(np.searchsorted(thresholds, grid, side="left"), 0, len(cost) - 1)
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(grid, 1.0 - cost[idx] / base, color="tab:blue", label="business score (OOF)")
    ax.axvline(threshold, color="tab:red", ls="--", label=f"chosen threshold {threshold:.3f}")
    ax.axhline(0.0, color="grey", lw=0.8)
    ax.set_xlabel("decision threshold (refuse when probability >= threshold)")
    ax.set_ylabel("normalised business score\n(0 = best constant decision, 1 = perfect)")
    ax.set_title(f"Cost vs threshold, FN = 10 x FP ({tag})")
    ax.set_ylim(-0.6, max(0.6, float(np.max(1.0 - cost / base)) + 0.05))
    ax.legend(loc="lower right")
    return _save(fig, path)


def plot_roc(path, y_oof, p_oof, y_test, p_test, tag):
    fig, ax = plt.subplots(figsize=(5, 5))
    for y, p, label in ((y_oof, p_oof, "CV out-of-fold"), (y_test, p_test, "held-out test")):
        fpr, tpr, _ = roc_curve(y, p)
        ax.plot(fpr, tpr, label=f"{label} (AUC {metrics.auc(y, p):.3f})")
    ax.plot([0, 1], [0, 1], color="grey", ls=":")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title(f"ROC ({tag})")
    ax.legend(loc="lower right")
    return _save(fig, path)


def plot_importance(path, names, values, title):
    order = np.argsort(values)[-20:]
    fig, ax = plt.subplots(figsize=(7, 6))
    ax.barh([names[i] for i in order], [values[i] for i in order], color="tab:green")
    ax.set_title(title)
    return _save(fig, path)


def plot_shap_summary(path, shap: pd.DataFrame, features: pd.DataFrame, tag):
    mean_abs = shap.abs().mean().sort_values(ascending=True).tail(15)
    fig, ax = plt.subplots(figsize=(8, 6))
    rng = np.random.default_rng(0)
    for row, name in enumerate(mean_abs.index):
        vals = shap[name].to_numpy()
        x = features[name].to_numpy(dtype=float)
        finite = np.isfinite(x)
        color = np.full(len(x), 0.5)
        if finite.any():
            lo, hi = np.nanpercentile(x[finite], [5, 95])
            color[finite] = np.clip((x[finite] - lo) / (hi - lo if hi > lo else 1.0), 0, 1)
        jitter = rng.uniform(-0.3, 0.3, len(vals))
        ax.scatter(vals[finite], row + jitter[finite], c=color[finite], cmap="coolwarm", s=4, alpha=0.6)
        ax.scatter(vals[~finite], row + jitter[~finite], c="lightgrey", s=4, alpha=0.6)
    ax.set_yticks(range(len(mean_abs)))
    ax.set_yticklabels(mean_abs.index)
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_xlabel("SHAP value (log-odds of default; > 0 pushes towards refusal)")
    ax.set_title(
        f"SHAP summary, core TreeSHAP ({tag})\ncolour: feature value low (blue) to high (red), grey = missing"
    )
    return _save(fig, path)


def group_rates(
    test_df: pd.DataFrame, y: np.ndarray, p: np.ndarray, threshold: float, column: str
) -> pd.DataFrame:
    refused = p >= threshold
    rows = []
    for level, idx in test_df.groupby(column).indices.items():
        approved = ~refused[idx]
        rows.append(
            {
                column: level,
                "clients": len(idx),
                "approval_rate": float(approved.mean()),
                "observed_default_rate": float(y[idx].mean()),
                "default_rate_among_approved": float(y[idx][approved].mean())
                if approved.any()
                else float("nan"),
                "mean_probability": float(p[idx].mean()),
            }
        )
    return pd.DataFrame(rows)


def plot_groups(path, rates: pd.DataFrame, column: str, tag):
    fig, ax = plt.subplots(figsize=(6, 4))
    x = np.arange(len(rates))
    ax.bar(x - 0.2, rates["approval_rate"], 0.4, label="approval rate")
    ax.bar(x + 0.2, rates["observed_default_rate"], 0.4, label="observed default rate")
    ax.set_xticks(x)
    ax.set_xticklabels(rates[column])
    ax.set_title(f"Held-out test by {column} ({tag})")
    ax.legend()
    return _save(fig, path)


def _md_table(df: pd.DataFrame, floatfmt: str = "{:.4f}") -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in df.iterrows():
        cells = []
        for c in cols:
            v = row[c]
            cells.append(floatfmt.format(v) if isinstance(v, (float, np.floating)) else str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write(cfg, dataset, result, tuned, final, feat, y_oof, test_df, y_test, p_test, required, sel, raw_cols):
    out = cfg.out_dir
    plots = out / "card"
    plots.mkdir(parents=True, exist_ok=True)
    tag = _tag(dataset)
    thr = result.chosen["threshold"]
    paths = [
        plot_cost_curve(plots / "cost_vs_threshold.png", y_oof, tuned.oof, thr, tag),
        plot_roc(plots / "roc.png", y_oof, tuned.oof, y_test, p_test, tag),
    ]

    # SHAP through the core (the same TreeSHAP the API serves), on a sample of test rows.
    sample = test_df.sample(n=min(SHAP_SAMPLE, len(test_df)), random_state=cfg.seed)
    explained = core_cli.predict(result.bundle, sample[raw_cols], explain=True)
    shap = explained[[f"shap_{n}" for n in feat.names]]
    shap.columns = feat.names
    sample_features = core_cli.feature_matrix(result.spec["schema"], sample[raw_cols], cfg.work_dir)
    mean_abs_shap = shap.abs().mean()
    paths.append(plot_shap_summary(plots / "shap_summary.png", shap, sample_features, tag))

    if tuned.family == "lightgbm":
        gain = final.booster_.feature_importance(importance_type="gain")
        importance = pd.Series(gain / gain.sum(), index=feat.names)
        imp_title = f"LightGBM gain importance, share of total ({tag})"
    else:
        importance = mean_abs_shap / mean_abs_shap.sum()
        imp_title = f"mean |SHAP| importance, share of total ({tag})"
    paths.append(plot_importance(plots / "importance.png", feat.names, importance.to_numpy(), imp_title))

    rates = group_rates(test_df, y_test, p_test, thr, "CODE_GENDER")
    paths.append(plot_groups(plots / "approval_by_gender.png", rates, "CODE_GENDER", tag))

    table = result.comparison.copy()
    table = table[
        ["model", "imbalance", "auc", "business_score", "best_threshold", "refusal_rate", "fit_seconds"]
    ]
    sel_table = pd.DataFrame(sel.scores)
    sel_table["selected"] = sel_table["feature"].isin(sel.selected).map({True: "yes", False: ""})
    meta = result.spec["meta"]
    chosen = result.chosen
    test = result.test
    top_shap = mean_abs_shap.sort_values(ascending=False).head(8)
    banner = (
        "> **SYNTHETIC DATA.** Every number on this card comes from the seeded synthetic generator "
        "(train/creditscore_train/synthetic.py, calibration in train/CALIBRATION.md), not from real "
        "clients. Retrain with `make train DATA=path/to/application_train.csv` for real results."
        if dataset.synthetic
        else "> Trained on the real Home Credit application_train.csv."
    )
    params = ", ".join(
        f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in chosen["params"].items()
    )
    md = f"""# Model card: {meta["name"]} {meta["version"]}

{banner}

Bundle: `{_rel(result.bundle)}` (created {meta["created"]}), scored by the Rust core
everywhere (CLI, npm package, browser, edge endpoint). Regenerate with `make train`
(`make train QUICK=1` for a fast, smaller run{"; this card comes from a QUICK run" if cfg.quick else ""}).

## Data

- {dataset.description}
- Held-out test set: {int(cfg.test_size * 100)} % stratified ({test["rows"]} rows), used once at the end and
  never to choose anything. Training rows: {meta["training"]["rows_train"]}, default rate
  {meta["metrics"]["train_default_rate"]:.4f}.
- Features: computed by the core (`creditscore features`) from the raw columns, exactly as at serving
  time: {len(feat.names)} model features = numeric inputs, categorical inputs as level codes, and the
  derived features {", ".join(d["name"] for d in result.spec["schema"]["derived"])}.
  `DAYS_EMPLOYED = 365243` is scored as missing and flagged by `DAYS_EMPLOYED_ANOM`.

## Required inputs (feature selection)

Method `{sel.method}`, top_n {sel.top_n}, min_corr {sel.min_corr}: |Pearson correlation| of each
numeric input with the target on the training matrix (categorical inputs: best level indicator),
the top {sel.top_n} numeric inputs plus the categorical set {", ".join(f for f in sel.selected if f in feat.categorical)}.
Selected: {", ".join(sel.selected)}.
Required inputs of the bundle ({cfg.required_policy} policy): {", ".join(required)}.
{"The selection agrees with the SPEC section 4 contract." if meta["training"]["selection_agrees_with_contract"] else "**The selection differs from the SPEC section 4 contract list; the bundle keeps the contract list (policy `contract`).**"}

{_md_table(sel_table.head(20), "{:.4f}")}

## Model comparison ({cfg.folds}-fold StratifiedKFold, {tag})

Business cost: a false negative (a defaulter accepted) costs 10, a false positive (a good client
refused) costs 1. Business score = 1 - cost / cost of the best constant decision (0 = accept or
refuse everybody, 1 = perfect). Each row uses its own best threshold on its out-of-fold
predictions. `class_weight` weights defaults by n_neg/n_pos; `undersample` keeps every default and as
many random non-defaults in each training fold; `none` is a plain fit. fit_seconds = mean per fold.

{_md_table(table)}

## Chosen model

- **{chosen["model"]}** (imbalance: `{chosen["imbalance"]}`), tuned with Optuna (TPE, {cfg.trials} trials,
  objective = out-of-fold business score): {params}.
- Best compared candidate overall: {chosen["best_overall"]} (business score {chosen["best_overall_business_score"]:.4f});
  the bundle takes the best *exportable* family (LightGBM, XGBoost, HistGradientBoosting).
- CV (out-of-fold): AUC **{chosen["cv_auc"]:.4f}**, business score **{chosen["cv_business_score"]:.4f}**.
- Threshold: **{thr:.4f}**, chosen on the out-of-fold predictions (refusal rate {chosen["cv_refusal_rate"]:.3f}).
- Held-out test (computed once): AUC **{test["auc"]:.4f}**, business score **{test["business_score"]:.4f}**,
  refusal rate {test["refusal_rate"]:.3f}; TP {test["true_positives"]}, FP {test["false_positives"]},
  FN {test["false_negatives"]}, TN {test["true_negatives"]}.
- Parity: the bundle's probabilities equal the trained model's on every test row (max |diff| =
  {result.parity_max_abs_diff:.3g}).
{"- Probabilities are those of a model trained with " + chosen["imbalance"] + ": they rank clients but overstate the default rate; the threshold is set on that scale." if chosen["imbalance"] != "none" else "- Trained without re-weighting: probabilities estimate the default rate; the threshold is on that scale (the cost-optimal threshold of a calibrated model is 1/11 = 0.091)."}

![cost vs threshold](card/cost_vs_threshold.png)

![ROC](card/roc.png)

## Explanations

Global importance and SHAP values computed by the core's TreeSHAP (`creditscore predict --explain`) on
{len(sample)} held-out rows. Largest mean |SHAP|: {", ".join(f"{k} ({v:.3f})" for k, v in top_shap.items())}.

![importance](card/importance.png)

![SHAP summary](card/shap_summary.png)

## Approval and default rates by CODE_GENDER (held-out test, {tag})

{_md_table(rates)}

![approval by gender](card/approval_by_gender.png)

CODE_GENDER is a model input (SPEC section 4 requires it). Using a protected attribute in credit
decisions is restricted in many jurisdictions: check the legal basis before any real use, and
monitor approval rates by group.

## Limitations

- {"Synthetic data: the default mechanism is a designed logistic model (see train/CALIBRATION.md). Metrics say the pipeline works, not how the model would do on real clients." if dataset.synthetic else "Trained on the application table only (no bureau or previous-application history)."}
- Only the application table's columns are used; AUC on real Home Credit data with these columns
  is typically 0.74-0.77, lower than with the bureau and history tables.
- The threshold is optimal for the 10:1 cost ratio; another cost ratio needs another threshold
  (`?threshold=` per request or a retrained bundle).
- Optional inputs absent at serving take the training median (or missing): a client who omits them is
  scored as a typical client on those fields.
- The training distribution is fixed at training time: monitor drift with the reference statistics
  stored in the bundle (`creditscore drift`).
"""
    (out / "MODEL_CARD.md").write_text(md)
    rates.to_csv(cfg.work_dir / "approval_by_gender.csv", index=False)
    return [*paths, out / "MODEL_CARD.md"]
