"""Training options a credit modeller expects: monotone constraints and excluded (protected) inputs.

Monotone constraints (``--monotone``): for each model feature whose effect on default risk has a
known direction, the boosted families are told to keep the predicted probability monotone in it
(LightGBM ``monotone_constraints``, XGBoost ``monotone_constraints``, scikit-learn
``HistGradientBoostingClassifier(monotonic_cst=...)``; +1 = risk never falls when the value grows,
-1 = risk never rises). A reviewer can then state "a higher external score never raises the
probability of default", and reason codes never blame a value for being *better*. Categorical
inputs are never constrained (LightGBM and scikit-learn refuse constraints on them). Other
families (logistic regression, random forest, ...) are compared without constraints.

Excluded inputs (``--exclude-features CODE_GENDER``): the model never reads them. The bundle still
accepts and validates them (CODE_GENDER is a required input of the contract,
``schema.CONTRACT_REQUIRED``), but they are left out of ``model_features``, and so is every derived
feature computed from them.
"""

from __future__ import annotations

# feature -> (direction, why the direction is known). Directions are those of the default
# probability; DAYS_* are negative day counts before the application, so "grows" = more recent.
MONOTONE: dict[str, tuple[int, str]] = {
    "EXT_SOURCE_1": (-1, "external credit-bureau score: a higher score means a better credit history"),
    "EXT_SOURCE_2": (-1, "external credit-bureau score: a higher score means a better credit history"),
    "EXT_SOURCE_3": (-1, "external credit-bureau score: a higher score means a better credit history"),
    "DAYS_BIRTH": (
        +1,
        "closer to 0 = younger; default rates fall with age in consumer credit, and the constraint "
        "guarantees that an older applicant is never scored riskier for age alone",
    ),
    "DAYS_EMPLOYED": (
        +1,
        "closer to 0 = shorter current employment, a less established income (the 365243 "
        "sentinel is scored as missing, not as a long employment)",
    ),
    "ANNUITY_INCOME_RATIO": (+1, "payment-to-income (debt-service) ratio: a larger share of income to repay"),
    "CREDIT_GOODS_RATIO": (+1, "loan-to-value: credit above the price of the goods financed"),
    "REGION_RATING_CLIENT": (+1, "the lender's own rating of the client's region, 1 = best, 3 = worst"),
    "REGION_RATING_CLIENT_W_CITY": (+1, "the same rating taking the city into account, 1 = best, 3 = worst"),
    "DEF_30_CNT_SOCIAL_CIRCLE": (+1, "number of the client's social circle 30 days past due"),
}

# The protected attribute the card's "excluded" variant leaves out by default.
DEFAULT_EXCLUDED = ("CODE_GENDER",)


def monotone_for(names: list[str], categorical: list[str]) -> dict[str, int]:
    """The constraints that apply to these model features (numeric ones listed in MONOTONE)."""
    return {n: MONOTONE[n][0] for n in names if n in MONOTONE and n not in categorical}


def constraint_vector(names: list[str], monotone: dict[str, int]) -> list[int]:
    """One entry per model feature, in model order (0 = unconstrained)."""
    return [int(monotone.get(n, 0)) for n in names]


def excluded_model_features(schema: dict, exclude: list[str] | tuple[str, ...]) -> list[str]:
    """Model features to drop for ``exclude`` (raw input names): each input itself and every derived
    feature computed from it. Raises ValueError for a name that is not a model input."""
    inputs = {f["name"] for f in schema["inputs"]}
    unknown = [n for n in exclude if n not in inputs or n not in schema["model_features"]]
    if unknown:
        raise ValueError(f"--exclude-features: {unknown} are not model inputs of this schema")
    drop = set(exclude)
    for d in schema["derived"]:
        sources = {d.get("numerator"), d.get("denominator"), d.get("input")} - {None}
        if sources & drop:
            drop.add(d["name"])
    return [n for n in schema["model_features"] if n in drop]


def without(schema: dict, exclude: list[str] | tuple[str, ...]) -> dict:
    """The schema whose model does not read ``exclude`` (inputs stay accepted and validated)."""
    drop = set(excluded_model_features(schema, exclude))
    out = dict(schema)
    out["model_features"] = [n for n in schema["model_features"] if n not in drop]
    return out
