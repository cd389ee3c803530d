"""A realistic stand-in for Home Credit's ``application_train.csv`` (the real file is not available
on the project's machines): all 122 columns in file order, the real level sets, the published
missing rates and special codes, ``TARGET``, and CSV quoting as pandas writes it (levels with
commas such as ``Spouse, partner`` and ``Stone, brick`` are quoted).

SYNTHETIC DATA. The 40 columns the pipeline models come from ``synthetic.generate`` (calibrated,
see CALIBRATION.md); the other columns follow the column dictionary's notes
(``data/home_credit_application_columns.csv``): building statistics missing together on about
half the rows, AMT_REQ_CREDIT_BUREAU_* missing together on 13.5 %, rare FLAG_DOCUMENT_* flags. The
dataset's codes appear as in the real file: DAYS_EMPLOYED = 365243 and ORGANIZATION_TYPE = XNA on
the not-employed rows (18 %), CODE_GENDER = XNA and NAME_FAMILY_STATUS = Unknown on a handful of
rows (at least one each from 1,000 rows on, so that small samples exercise them).

    python -m creditscore_train.standin OUT.csv [--rows 20000] [--seed 42]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from . import dictionary, synthetic

BUILDING_STATS = [
    "APARTMENTS",
    "BASEMENTAREA",
    "YEARS_BEGINEXPLUATATION",
    "YEARS_BUILD",
    "COMMONAREA",
    "ELEVATORS",
    "ENTRANCES",
    "FLOORSMAX",
    "FLOORSMIN",
    "LANDAREA",
    "LIVINGAPARTMENTS",
    "LIVINGAREA",
    "NONLIVINGAPARTMENTS",
    "NONLIVINGAREA",
]
# (mean, extra missing share among rows with building data) per statistic, from published EDA.
BUILDING_SHAPE = {
    "APARTMENTS": (0.117, 0.01),
    "BASEMENTAREA": (0.088, 0.17),
    "YEARS_BEGINEXPLUATATION": (0.978, 0.0),
    "YEARS_BUILD": (0.752, 0.29),
    "COMMONAREA": (0.045, 0.40),
    "ELEVATORS": (0.079, 0.09),
    "ENTRANCES": (0.150, 0.01),
    "FLOORSMAX": (0.226, 0.0),
    "FLOORSMIN": (0.232, 0.32),
    "LANDAREA": (0.066, 0.19),
    "LIVINGAPARTMENTS": (0.101, 0.35),
    "LIVINGAREA": (0.107, 0.03),
    "NONLIVINGAPARTMENTS": (0.009, 0.38),
    "NONLIVINGAREA": (0.028, 0.07),
}
# Shares of the real file (rounded).
FONDKAPREMONT = [
    ("reg oper account", 0.752),
    ("reg oper spec account", 0.122),
    ("not specified", 0.058),
    ("org spec account", 0.058),
]
HOUSETYPE = [("block of flats", 0.983), ("specific housing", 0.010), ("terraced house", 0.007)]
WALLS = [
    ("Panel", 0.430),
    ("Stone, brick", 0.421),
    ("Block", 0.060),
    ("Wooden", 0.035),
    ("Mixed", 0.015),
    ("Monolithic", 0.011),
    ("Others", 0.028),
]
# Share of 1 per FLAG_DOCUMENT_k (k = 2..21; 3 comes from the synthetic generator).
DOCUMENT_RATES = {2: 4e-5, 4: 8e-5, 5: 0.015, 6: 0.088, 7: 2e-4, 8: 0.081, 9: 0.004, 10: 2e-5, 11: 0.004}
DOCUMENT_RATES |= {12: 1e-5, 13: 0.0035, 14: 0.0029, 15: 0.0012, 16: 0.0099, 17: 3e-4, 18: 0.0081}
DOCUMENT_RATES |= {19: 6e-4, 20: 5e-4, 21: 3e-4}
# AMT_REQ_CREDIT_BUREAU_*: Poisson means of the real counts.
BUREAU_MEANS = {"HOUR": 0.0064, "DAY": 0.007, "WEEK": 0.034, "MON": 0.27, "QRT": 0.27}


def _choice(rng, table, n):
    return synthetic._choice(rng, table, n)


def generate(n: int, seed: int = 42) -> pd.DataFrame:
    """``n`` rows with the 122 columns of ``application_train.csv`` in file order."""
    base = synthetic.generate(n, seed=seed)
    rng = np.random.default_rng(seed + 1_000_003)
    cols: dict[str, object] = {c: base[c] for c in base.columns}

    # The dataset's rare codes: XNA in CODE_GENDER (4 of 307,511 rows), Unknown in
    # NAME_FAMILY_STATUS (2 rows); at least one each from 1,000 rows on.
    for name, code, rate in (
        ("CODE_GENDER", "XNA", 4 / 307511),
        ("NAME_FAMILY_STATUS", "Unknown", 2 / 307511),
    ):
        k = max(int(rng.binomial(n, rate)), 1 if n >= 1000 else 0)
        values = cols[name].to_numpy(dtype=object).copy()
        values[rng.choice(n, size=k, replace=False)] = code
        cols[name] = values

    not_employed = base["DAYS_EMPLOYED"].to_numpy() == synthetic.SENTINEL_DAYS_EMPLOYED
    cols["FLAG_MOBIL"] = np.where(rng.random(n) < 0.999997, 1, 0)
    cols["FLAG_CONT_MOBILE"] = (rng.random(n) < 0.998).astype(int)
    cols["REG_REGION_NOT_LIVE_REGION"] = (rng.random(n) < 0.015).astype(int)
    cols["REG_REGION_NOT_WORK_REGION"] = ((rng.random(n) < 0.051) & ~not_employed).astype(int)
    cols["LIVE_REGION_NOT_WORK_REGION"] = ((rng.random(n) < 0.041) & ~not_employed).astype(int)
    cols["REG_CITY_NOT_LIVE_CITY"] = (rng.random(n) < 0.078).astype(int)
    cols["LIVE_CITY_NOT_WORK_CITY"] = ((rng.random(n) < 0.18) & ~not_employed).astype(int)
    # Stored as float in the real file.
    cols["DAYS_REGISTRATION"] = base["DAYS_REGISTRATION"].astype(float)

    # Building statistics: known for about half the rows (apartment dwellers), each AVG with its
    # MODE and MEDI close to it.
    building = rng.random(n) < 0.51
    for stat in BUILDING_STATS:
        mean, extra_missing = BUILDING_SHAPE[stat]
        concentration = 8.0
        avg = rng.beta(mean * concentration, (1 - mean) * concentration, n)
        missing = ~building | (rng.random(n) < extra_missing)
        for suffix, noise in (("AVG", 0.0), ("MODE", 0.02), ("MEDI", 0.005)):
            v = np.clip(avg + noise * rng.standard_normal(n), 0.0, 1.0).round(4)
            cols[f"{stat}_{suffix}"] = np.where(missing, np.nan, v)
    cols["FONDKAPREMONT_MODE"] = np.where(
        building & (rng.random(n) < 0.63), _choice(rng, FONDKAPREMONT, n), None
    )
    cols["HOUSETYPE_MODE"] = np.where(building & (rng.random(n) < 0.98), _choice(rng, HOUSETYPE, n), None)
    cols["TOTALAREA_MODE"] = np.where(
        building & (rng.random(n) < 0.99), rng.beta(0.8, 6.0, n).round(4), np.nan
    )
    cols["WALLSMATERIAL_MODE"] = np.where(building & (rng.random(n) < 0.96), _choice(rng, WALLS, n), None)
    cols["EMERGENCYSTATE_MODE"] = np.where(
        building & (rng.random(n) < 0.99), np.where(rng.random(n) < 0.985, "No", "Yes"), None
    )

    # Social circle: DEF_30 comes from the synthetic generator; the others share its missingness.
    social_missing = base["DEF_30_CNT_SOCIAL_CIRCLE"].isna().to_numpy()
    obs30 = rng.poisson(1.42, n).astype(float)
    cols["OBS_30_CNT_SOCIAL_CIRCLE"] = np.where(social_missing, np.nan, obs30)
    cols["OBS_60_CNT_SOCIAL_CIRCLE"] = np.where(social_missing, np.nan, obs30 + rng.binomial(1, 0.05, n))
    def30 = base["DEF_30_CNT_SOCIAL_CIRCLE"].to_numpy()
    cols["DEF_60_CNT_SOCIAL_CIRCLE"] = np.where(
        social_missing, np.nan, np.maximum(def30 - rng.binomial(1, 0.1, n), 0)
    )

    for k, rate in DOCUMENT_RATES.items():
        cols[f"FLAG_DOCUMENT_{k}"] = (rng.random(n) < rate).astype(int)
    bureau_missing = base["AMT_REQ_CREDIT_BUREAU_YEAR"].isna().to_numpy()
    for period, mean in BUREAU_MEANS.items():
        cols[f"AMT_REQ_CREDIT_BUREAU_{period}"] = np.where(
            bureau_missing, np.nan, rng.poisson(mean, n).astype(float)
        )

    order = [c.name for c in dictionary.columns()]
    frame = pd.DataFrame({name: cols[name] for name in order})
    return frame


def write(frame: pd.DataFrame, path: Path) -> None:
    """As the real file: comma-separated, header, empty cells for missing values, levels with
    commas quoted (pandas' minimal quoting)."""
    frame.to_csv(path, index=False, na_rep="")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Write a realistic stand-in for application_train.csv.")
    ap.add_argument("out", type=Path)
    ap.add_argument("--rows", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args(argv)
    write(generate(args.rows, args.seed), args.out)
    print(f"{args.out}: {args.rows} rows x 122 columns (SYNTHETIC stand-in for application_train.csv)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
