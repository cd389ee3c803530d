"""Model card (models/MODEL_CARD.md) and its plots (PNG, next to it in models/card/)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.metrics import roc_curve  # noqa: E402

from . import core, metrics, options, risk_metrics  # noqa: E402

SHAP_SAMPLE = 2000


def _save(fig, path):
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _rel(path) -> str:
    try:
        return str(path.resolve().relative_to(core.REPO))
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


def plot_groups(path, rates: pd.DataFrame, title: str, tag):
    """Approval and observed default rates per group (a risk_metrics.fairness table)."""
    fig, ax = plt.subplots(figsize=(6, 4))
    x = np.arange(len(rates))
    ax.bar(x - 0.2, rates["approval_rate"], 0.4, label="approval rate")
    ax.bar(x + 0.2, rates["default_rate"], 0.4, label="observed default rate")
    ax.set_xticks(x)
    ax.set_xticklabels(rates["group"])
    ax.set_title(f"Held-out test by {title} ({tag})")
    ax.legend()
    return _save(fig, path)


def plot_reliability(path, table: pd.DataFrame, ece: float, tag):
    filled = table[table["clients"] > 0]
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], color="grey", ls=":", label="perfect calibration")
    ax.plot(filled["mean_predicted"], filled["observed_default_rate"], "o-", label=f"model (ECE {ece:.4f})")
    for _, r in filled.iterrows():
        ax.annotate(str(int(r["clients"])), (r["mean_predicted"], r["observed_default_rate"]), fontsize=7)
    ax.set_xlabel("mean predicted probability of default (bin)")
    ax.set_ylabel("observed default rate (bin)")
    ax.set_title(f"Reliability, 10 equal-width bins ({tag})")
    ax.legend(loc="upper left")
    return _save(fig, path)


def _md_table(df: pd.DataFrame, floatfmt: str = "{:.4f}") -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in df.iterrows():
        cells = []
        for c in cols:
            v = row[c]
            if isinstance(v, (float, np.floating)):
                cells.append("-" if np.isnan(v) else floatfmt.format(v))
            else:
                cells.append(str(v))
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
    explained = core.predict(result.bundle, sample[raw_cols], explain=True)
    shap = explained[[f"shap_{n}" for n in feat.names]]
    shap.columns = feat.names
    sample_features = core.feature_matrix(result.spec["schema"], sample[raw_cols])
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

    credit_md, credit_paths = credit_sections(cfg, result, y_test, p_test, thr, tag, plots)
    paths.extend(credit_paths)

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
    params_from = getattr(cfg, "params_from", None)
    tuning = (
        f"parameters recorded in `{_rel(Path(params_from))}` (`--params-from`: no comparison and no tuning in this run)"
        if params_from
        else f"tuned with Optuna (TPE, {cfg.trials} trials, objective = out-of-fold business score)"
    )
    comparison_note = (
        f"\nThis run trained the configuration recorded in `{_rel(Path(params_from))}` (`--params-from`) and compared"
        " nothing: its row is below. The comparison of every family that chose it is on the card written"
        " with that bundle by `make train` (the git history of models/MODEL_CARD.md).\n"
        if params_from
        else ""
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
{comparison_note}
{_md_table(table)}

## Chosen model

- **{chosen["model"]}** (imbalance: `{chosen["imbalance"]}`), {tuning}: {params}.
- Best compared candidate overall: {chosen["best_overall"]} (business score {chosen["best_overall_business_score"]:.4f});
  the bundle takes the best *exportable* family (LightGBM, XGBoost, HistGradientBoosting).
- CV (out-of-fold): AUC **{chosen["cv_auc"]:.4f}**, business score **{chosen["cv_business_score"]:.4f}**.
- Threshold: **{thr:.4f}**, chosen on the out-of-fold predictions (refusal rate {chosen["cv_refusal_rate"]:.3f}).
- Held-out test (computed once): AUC **{test["auc"]:.4f}**, business score **{test["business_score"]:.4f}**,
  refusal rate {test["refusal_rate"]:.3f}; TP {test["true_positives"]}, FP {test["false_positives"]},
  FN {test["false_negatives"]}, TN {test["true_negatives"]}.
- Parity: the bundle's probabilities equal the trained model's on every test row (max |diff| =
  {result.parity_max_abs_diff:.3g}){"; the bundle file was kept as it was (`--keep-bundle`: it already served exactly this model)" if result.kept_bundle else ""}.
{"- Probabilities are those of a model trained with " + chosen["imbalance"] + ": they rank clients but overstate the default rate; the threshold is set on that scale." if chosen["imbalance"] != "none" else "- Trained without re-weighting: probabilities estimate the default rate; the threshold is on that scale (the cost-optimal threshold of a calibrated model is 1/11 = 0.091)."}

![cost vs threshold](card/cost_vs_threshold.png)

![ROC](card/roc.png)

{credit_md}

## Explanations

Global importance and SHAP values computed by the core's TreeSHAP (`creditscore predict --explain`) on
{len(sample)} held-out rows. Largest mean |SHAP|: {", ".join(f"{k} ({v:.3f})" for k, v in top_shap.items())}.

![importance](card/importance.png)

![SHAP summary](card/shap_summary.png)

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
    return [*paths, out / "MODEL_CARD.md"]


def _pct(v: float) -> str:
    return f"{100 * v:.1f} %"


def credit_sections(cfg, result, y_test, p_test, thr, tag, plots):
    """The credit-risk part of the card: performance, calibration, gains, fairness, training options
    (risk_metrics.py for the definitions). Returns (markdown, plot paths)."""
    test = result.test
    n, bads = len(y_test), int(np.sum(y_test))
    base_rate = bads / n
    rel, ece = risk_metrics.reliability(y_test, p_test)
    gains = risk_metrics.gains_table(y_test, p_test, result.points_test)
    main = result.variants[0]
    fair_gender, fair_age = main["fairness"]["CODE_GENDER"], main["fairness"]["age_band"]
    paths = [
        plot_reliability(plots / "reliability.png", rel, ece, tag),
        plot_groups(plots / "approval_by_gender.png", fair_gender, "CODE_GENDER", tag),
        plot_groups(plots / "approval_by_age.png", fair_age, "age band", tag),
    ]
    for name, table in (("reliability", rel), ("gains", gains), ("fairness_gender", fair_gender)):
        table.to_csv(cfg.work_dir / f"card_{name}.csv", index=False)
    fair_age.to_csv(cfg.work_dir / "card_fairness_age.csv", index=False)

    options_md = _options_md(cfg, result)
    md = f"""## Credit-risk performance (held-out test, {tag})

{n} held-out applications, {bads} defaults (rate {base_rate:.4f}); every figure below is computed
once on them, from the probabilities the bundle serves (train/creditscore_train/risk_metrics.py;
train/tests/test_risk_metrics.py checks each against scikit-learn, scipy and pandas).

| figure | value | definition |
|---|---|---|
| AUC | {test["auc"]:.4f} | ROC area, ties count one half |
| Gini | **{test["gini"]:.4f}** | 2 AUC - 1 |
| KS | **{test["ks"]:.4f}** | max distance between the score distributions (ECDFs) of good and bad clients; reached at probability {test["ks_probability"]:.4f} |
| Brier score | **{test["brier"]:.5f}** | mean (p - y)^2; a constant prediction of the default rate scores {base_rate * (1 - base_rate):.5f} |
| ECE | **{test["ece"]:.5f}** | expected calibration error, 10 equal-width bins: sum_b n_b/N abs(mean predicted_b - default rate_b) |

### Reliability diagram

Bins (0, 0.1], (0.1, 0.2], ..., (0.9, 1.0] of the predicted probability (the first also holds 0), as
`sklearn.calibration.calibration_curve(strategy="uniform")`; `gap` = abs(mean predicted - observed).
Most clients fall in the first bins: the default rate is about {base_rate:.0%}; the gains table below
shows calibration per decile as well.

{_md_table(rel)}

![reliability](card/reliability.png)

### Gains table by score decile

Clients sorted by probability of default, riskiest first, cut into ten equal groups (decile 1 = the
highest probabilities = the lowest score points{"" if result.points_test is None else ", score points as served: 600 at 50:1 good:bad odds, 20 points to double the odds unless the bundle sets another scale"}).
Cumulative columns are for the policy "refuse this decile and every riskier one":
`cum_approval_rate` = share of applications approved, `cum_default_capture` = share of all
defaults refused, `approved_default_rate` = default rate among the approved. The bundle's
threshold {thr:.4f} refuses {_pct(test["refusal_rate"])} of these applications.

{_md_table(gains)}

## Fairness (held-out test, {tag})

Decisions at the bundle's business-optimal threshold {thr:.4f} (refuse when probability >= threshold).
Per group: approval rate; `approval_ratio` = approval rate / that of the reference group, the
most-approved group among those holding at least 5 % of the clients (adverse impact ratio; the US
"four-fifths rule" flags values below 0.8); observed default rate and default rate among the
approved; `tpr` = true-positive rate, the share of the group's defaulters refused (the model's
positive class is a default) and `tpr_diff` = tpr - that of the reference group (equal opportunity); `good_approval_rate` = share of the group's good clients approved and its
difference `good_approval_diff` (equal opportunity on the favourable outcome).

### By CODE_GENDER

{_md_table(fair_gender)}

![approval by gender](card/approval_by_gender.png)

### By age band

Age = -DAYS_BIRTH / 365.25 years at application, bands [0, 30), [30, 40), [40, 50), [50, 60), 60+.

{_md_table(fair_age)}

![approval by age band](card/approval_by_age.png)

{"CODE_GENDER is not read by this model (`--exclude-features`); it is still a required, validated input of the contract (README.md's example request)." if "CODE_GENDER" in cfg.exclude_features else "CODE_GENDER is a model input (a required input of the contract, README.md's example request)."}
Using a protected attribute (sex, age) in credit decisions is restricted in many jurisdictions
(e.g. the EU's gender-neutral pricing rules, the US Equal Credit Opportunity Act): check the legal
basis before any real use, and monitor approval rates by group. Age stays a model input in every
variant below; the monotone variant guarantees that a higher age never raises the score for age alone.

{options_md}"""
    return md, paths


def _options_md(cfg, result) -> str:
    rows = result.variants
    if len(rows) < 2:
        return "## Training options\n\nNot compared in this run (`--no-option-comparison`).\n"
    cols = {
        "variant": "variant",
        "cv_business_score": "CV business",
        "threshold": "threshold",
        "business_score": "test business",
        "auc": "AUC",
        "gini": "Gini",
        "ks": "KS",
        "brier": "Brier",
        "ece": "ECE",
        "refusal_rate": "refusal rate",
        "CODE_GENDER_min_approval_ratio": "gender: min approval ratio",
        "CODE_GENDER_max_abs_tpr_diff": "gender: max abs TPR diff",
        "age_band_min_approval_ratio": "age: min approval ratio",
        "age_band_max_abs_tpr_diff": "age: max abs TPR diff",
    }
    table = pd.DataFrame([{v: r[k] for k, v in cols.items()} for r in rows])
    by_group = []
    for axis in ("CODE_GENDER", "age_band"):
        for level in rows[0]["fairness"][axis]["group"]:
            for r in rows:
                groups = r["fairness"][axis]
                g = groups[groups["group"] == level].iloc[0]
                by_group.append(
                    {
                        "variant": r["variant"],
                        "group": f"{axis}={g['group']}",
                        "approval_rate": g["approval_rate"],
                        "approval_ratio": g["approval_ratio"],
                        "default_rate_among_approved": g["default_rate_among_approved"],
                        "tpr": g["tpr"],
                        "tpr_diff": g["tpr_diff"],
                    }
                )
    by_group = pd.DataFrame(by_group)
    names = set(result.spec["schema"]["model_features"]) | set(
        n for r in rows for n in options.MONOTONE if r["key"][0]
    )
    cst = pd.DataFrame(
        [
            {"feature": f, "direction": "+1 (risk rises)" if d > 0 else "-1 (risk falls)", "why": why}
            for f, (d, why) in options.MONOTONE.items()
            if f in names
        ]
    )
    by_name = {r["variant"]: r for r in rows}
    default, mono = by_name.get("default"), by_name.get("monotone")
    excl = next((r for r in rows if r["key"] == (False, r["key"][1]) and r["key"][1]), None)
    deltas = []
    if default and mono:
        deltas.append(
            f"monotone constraints: test business score {mono['business_score'] - default['business_score']:+.4f}, "
            f"AUC {mono['auc'] - default['auc']:+.4f}, CV business score "
            f"{mono['cv_business_score'] - default['cv_business_score']:+.4f}"
        )
    if default and excl:
        deltas.append(
            f"{excl['variant']}: test business score {excl['business_score'] - default['business_score']:+.4f}, "
            f"AUC {excl['auc'] - default['auc']:+.4f}, CV business score "
            f"{excl['cv_business_score'] - default['cv_business_score']:+.4f}; approval ratio by CODE_GENDER "
            f"{default['CODE_GENDER_min_approval_ratio']:.3f} -> {excl['CODE_GENDER_min_approval_ratio']:.3f}, "
            f"max abs TPR difference {default['CODE_GENDER_max_abs_tpr_diff']:.3f} -> "
            f"{excl['CODE_GENDER_max_abs_tpr_diff']:.3f}"
        )
    return f"""## Training options (held-out test)

Every variant uses this run's family, imbalance strategy and tuned parameters (not re-tuned, so
a difference is the option's), the same {cfg.folds} folds for its own out-of-fold business-optimal
threshold, a refit on the whole training part, and the same held-out rows. `monotone` =
`--monotone`; `without ...` = `--exclude-features`. The first row is the model this run bundled
(`{rows[0]["variant"]}`). CV business = out-of-fold business score at the variant's threshold;
test business = held-out business score at that threshold (FN = 10 x FP, 0 = best constant decision).

{_md_table(table)}

Differences to the default model: {"; ".join(deltas) if deltas else "-"}.

{_shipping_md(result, rows)}

Approval and true-positive rates by group, per variant (at each variant's own threshold):

{_md_table(by_group)}

### Monotone constraints (`--monotone`)

LightGBM `monotone_constraints` (XGBoost `monotone_constraints`, scikit-learn `monotonic_cst` for the
other boosted families); `+1` = the probability of default never falls when the value grows,
`-1` = it never rises. Only numeric features with a direction known from credit practice are
constrained; categorical inputs never are. train/tests/test_options.py checks the constraints on
the trained models (probabilities on a grid of each constrained feature).

{_md_table(cst)}
"""


def _shipping_md(result, rows) -> str:
    """Which configuration the bundle ships and why (the numbers from this run's table)."""
    y = result.y_test
    base = metrics.constant_cost(y) if y is not None else float("nan")
    spread = max(r["business_score"] for r in rows) - min(r["business_score"] for r in rows)
    units = spread * base
    both = next((r for r in rows if r["key"][0] and r["key"][1]), None)
    default = next((r for r in rows if r["variant"] == "default"), None)
    recommended = ""
    if both and default:
        recommended = (
            f" on this run `{both['variant']}` scores {both['business_score']:.4f} on the test set "
            f"(default {default['business_score']:.4f}), AUC {both['auc']:.4f} ({default['auc']:.4f}), "
            f"approval ratio by CODE_GENDER {both['CODE_GENDER_min_approval_ratio']:.3f} "
            f"({default['CODE_GENDER_min_approval_ratio']:.3f}), max abs TPR difference by CODE_GENDER "
            f"{both['CODE_GENDER_max_abs_tpr_diff']:.3f} ({default['CODE_GENDER_max_abs_tpr_diff']:.3f})."
        )
    synthetic = result.spec["meta"]["training"].get("data") == "synthetic"
    why = ""
    if rows[0]["variant"] == "default" and synthetic:
        why = (
            " The committed default bundle keeps the default configuration: differences of this size do"
            " not justify a change, the reason codes, score points and parity fixtures of every adapter"
            " are tested against its trees, and on SYNTHETIC data CODE_GENDER's effect is the one the"
            " generator was told to have (train/CALIBRATION.md), so the fairness gain measured here says"
            " nothing about real clients."
        )
    return f"""### Which configuration ships

The bundle holds the first row, `{rows[0]["variant"]}` (`make train` bundles what its options ask
for; with none, the default). The four variants' held-out business scores lie within {spread:.4f}
of each other, that is {units:.0f} cost units of {base:.0f} (the best constant decision's cost),
about {units / metrics.FN_COST:.0f} defaulters accepted or {units / metrics.FP_COST:.0f} good
clients refused among {len(y) if y is not None else "-"} applications.{why}
For real clients, and wherever the use of sex in credit decisions is restricted, train with
`--monotone --exclude-features CODE_GENDER`:{recommended or " see the table above."} Age stays in
every variant; with `--monotone` an older applicant is never scored riskier for age alone."""
