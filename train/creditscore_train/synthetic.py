"""Seeded synthetic data with the columns of Home Credit's ``application_train.csv``.

SYNTHETIC DATA: every number trained on it is a synthetic result, and is labelled as such.

How it is built (the calibration is documented in train/CALIBRATION.md and checked by
tests/test_synthetic.py):
- a latent credit quality ``z ~ N(0, 1)``, mildly correlated with age, drives the external scores,
  education, income, loan size and car ownership (Gaussian copula: each column is a monotone
  transform of a correlated normal, so its marginal is set exactly by the transform);
- marginals follow the published statistics of the real file (train/CALIBRATION.md): 8.07 % defaults,
  EXT_SOURCE_1 56 % missing, EXT_SOURCE_3 20 % missing, DAYS_EMPLOYED = 365243 on 18 % of rows
  (pensioners and unemployed), CODE_GENDER F 65.8 % / M 34.2 %, FLAG_OWN_CAR N 66 %;
- the default is drawn from a logistic model of the *true* (pre-missingness) values plus an
  unobserved heterogeneity term, so no model can be perfect; the intercept is solved so that the
  expected default rate is exactly 8.07 %. A well-fitted boosted model reaches an AUC near 0.76
  (the real data gives 0.74-0.78 on application columns), the EXT_SOURCE_* being the strongest
  signals.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

DEFAULT_RATE = 0.0807
SENTINEL_DAYS_EMPLOYED = 365243

# (level, share) marginals of the real file, rounded; the last level absorbs rounding.
CONTRACT_TYPES = [("Cash loans", 0.905), ("Revolving loans", 0.095)]
FAMILY_STATUS = [
    ("Married", 0.639),
    ("Single / not married", 0.148),
    ("Civil marriage", 0.097),
    ("Separated", 0.064),
    ("Widow", 0.052),
]
# Ordered from lowest to highest; drawn from the latent quality.
EDUCATION = [
    ("Lower secondary", 0.012),
    ("Secondary / secondary special", 0.710),
    ("Incomplete higher", 0.033),
    ("Higher education", 0.2435),
    ("Academic degree", 0.0005),
]
HOUSING = [
    ("House / apartment", 0.887),
    ("With parents", 0.048),
    ("Municipal apartment", 0.036),
    ("Rented apartment", 0.016),
    ("Office apartment", 0.009),
    ("Co-op apartment", 0.004),
]
SUITE = [
    ("Unaccompanied", 0.811),
    ("Family", 0.131),
    ("Spouse, partner", 0.037),
    ("Children", 0.011),
    ("Other_B", 0.006),
    ("Other_A", 0.003),
    ("Group of people", 0.001),
]
WORKING_INCOME = [("Working", 0.630), ("Commercial associate", 0.284), ("State servant", 0.086)]
OCCUPATIONS = [
    ("Laborers", 0.261, 0.25),
    ("Sales staff", 0.152, 0.15),
    ("Core staff", 0.131, -0.15),
    ("Managers", 0.102, -0.2),
    ("Drivers", 0.088, 0.3),
    ("High skill tech staff", 0.054, -0.2),
    ("Accountants", 0.047, -0.35),
    ("Medicine staff", 0.040, -0.1),
    ("Security staff", 0.032, 0.3),
    ("Cooking staff", 0.028, 0.25),
    ("Cleaning staff", 0.022, 0.2),
    ("Private service staff", 0.013, -0.1),
    ("Low-skill Laborers", 0.010, 0.6),
    ("Waiters/barmen staff", 0.007, 0.3),
    ("Secretaries", 0.006, 0.0),
    ("Realty agents", 0.004, 0.0),
    ("HR staff", 0.003, -0.1),
    ("IT staff", 0.003, -0.2),
]
ORGANIZATIONS = [
    ("Business Entity Type 3", 0.270),
    ("Self-employed", 0.153),
    ("Other", 0.066),
    ("Medicine", 0.044),
    ("Business Entity Type 2", 0.042),
    ("Government", 0.041),
    ("School", 0.035),
    ("Trade: type 7", 0.031),
    ("Kindergarten", 0.027),
    ("Construction", 0.027),
    ("Business Entity Type 1", 0.024),
    ("Transport: type 4", 0.022),
    ("Industry: type 9", 0.013),
    ("Security", 0.013),
    ("Housing", 0.012),
    ("Military", 0.011),
    ("Bank", 0.010),
    ("Police", 0.009),
    ("Agriculture", 0.010),
    ("Postal", 0.009),
    ("Security Ministries", 0.008),
    ("Restaurant", 0.007),
    ("University", 0.005),
    ("Services", 0.006),
    ("Electricity", 0.004),
]
WEEKDAYS = [
    ("MONDAY", 0.164),
    ("TUESDAY", 0.175),
    ("WEDNESDAY", 0.169),
    ("THURSDAY", 0.165),
    ("FRIDAY", 0.164),
    ("SATURDAY", 0.110),
    ("SUNDAY", 0.053),
]

# The id and the default model's required inputs (README.md's example request; schema.py's
# CONTRACT_REQUIRED is this list without the id).
REQUIRED_COLUMNS = [
    "SK_ID_CURR",
    "EXT_SOURCE_1",
    "EXT_SOURCE_2",
    "EXT_SOURCE_3",
    "AMT_ANNUITY",
    "AMT_CREDIT",
    "AMT_GOODS_PRICE",
    "DAYS_BIRTH",
    "DAYS_EMPLOYED",
    "CODE_GENDER",
    "FLAG_OWN_CAR",
]
OTHER_COLUMNS = [
    "NAME_CONTRACT_TYPE",
    "FLAG_OWN_REALTY",
    "CNT_CHILDREN",
    "AMT_INCOME_TOTAL",
    "NAME_TYPE_SUITE",
    "NAME_INCOME_TYPE",
    "NAME_EDUCATION_TYPE",
    "NAME_FAMILY_STATUS",
    "NAME_HOUSING_TYPE",
    "REGION_POPULATION_RELATIVE",
    "DAYS_REGISTRATION",
    "DAYS_ID_PUBLISH",
    "OWN_CAR_AGE",
    "FLAG_EMP_PHONE",
    "FLAG_WORK_PHONE",
    "FLAG_PHONE",
    "FLAG_EMAIL",
    "OCCUPATION_TYPE",
    "CNT_FAM_MEMBERS",
    "REGION_RATING_CLIENT",
    "REGION_RATING_CLIENT_W_CITY",
    "WEEKDAY_APPR_PROCESS_START",
    "HOUR_APPR_PROCESS_START",
    "REG_CITY_NOT_WORK_CITY",
    "ORGANIZATION_TYPE",
    "DAYS_LAST_PHONE_CHANGE",
    "FLAG_DOCUMENT_3",
    "AMT_REQ_CREDIT_BUREAU_YEAR",
    "DEF_30_CNT_SOCIAL_CIRCLE",
]
COLUMNS = REQUIRED_COLUMNS + OTHER_COLUMNS
TARGET = "TARGET"


def _choice(rng: np.random.Generator, table, n: int) -> np.ndarray:
    levels = np.array([t[0] for t in table], dtype=object)
    p = np.array([t[1] for t in table], dtype=float)
    return levels[rng.choice(len(levels), size=n, p=p / p.sum())]


def _ordered(latent: np.ndarray, table) -> np.ndarray:
    """Cuts a standard-normal latent at the normal quantiles of the cumulative shares, so that the
    levels keep their marginal shares exactly and follow the latent's order."""
    levels = np.array([t[0] for t in table], dtype=object)
    p = np.array([t[1] for t in table], dtype=float)
    cuts = stats.norm.ppf(np.cumsum(p / p.sum())[:-1])
    return levels[np.searchsorted(cuts, latent)]


def _correlated(rng: np.random.Generator, base: np.ndarray, rho: float) -> np.ndarray:
    """Standard normal with correlation ``rho`` to the standard normal ``base``."""
    return rho * base + np.sqrt(1.0 - rho**2) * rng.standard_normal(base.shape[0])


def _beta_from_normal(g: np.ndarray, mean: float, std: float, upper: float) -> np.ndarray:
    """Maps a standard normal onto a scaled Beta on [0, upper] with the given mean and std."""
    m, s = mean / upper, std / upper
    total = m * (1 - m) / s**2 - 1
    u = np.clip(stats.norm.cdf(g), 1e-9, 1 - 1e-9)
    return upper * stats.beta.ppf(u, m * total, (1 - m) * total)


def _standardise(x: np.ndarray) -> np.ndarray:
    return (x - np.nanmean(x)) / np.nanstd(x)


def generate(n: int, seed: int = 42) -> pd.DataFrame:
    """``n`` synthetic applications with a ``TARGET`` column (1 = default). Deterministic in ``seed``."""
    if n < 100:
        raise ValueError("the synthetic generator needs at least 100 rows")
    rng = np.random.default_rng(seed)

    # Client and latent quality.
    male = rng.random(n) < 0.342
    age = 20.5 + 48.6 * rng.beta(1.52, 1.64, n)
    age_z = _standardise(age)
    z = _correlated(rng, age_z, 0.25)

    # Employment: pensioners (and a few unemployed) carry the DAYS_EMPLOYED sentinel on 18 % of rows.
    def pension_share(offset: float) -> float:
        return float(special.expit((age - offset) / 2.5).mean() - 0.18)

    offset = optimize.brentq(pension_share, 30.0, 90.0)
    pensioner = rng.random(n) < special.expit((age - offset) / 2.5)
    unemployed = ~pensioner & (rng.random(n) < 0.0002)
    not_employed = pensioner | unemployed
    income_type = _choice(rng, WORKING_INCOME, n)
    income_type[pensioner] = "Pensioner"
    income_type[unemployed] = "Unemployed"
    years_employed = np.minimum(rng.exponential(6.3, n) + 0.05, np.maximum(age - 18.0, 0.1))
    years_employed *= np.exp(0.1 * z)  # steadier jobs for better clients
    days_employed = -np.round(np.minimum(years_employed, age - 18.0) * 365.25)
    days_employed = np.where(not_employed, SENTINEL_DAYS_EMPLOYED, days_employed)

    # Education, family, housing.
    education = _ordered(_correlated(rng, z, 0.45), EDUCATION)
    higher = np.isin(education, ["Higher education", "Academic degree"])
    family = _choice(rng, FAMILY_STATUS, n)
    married = np.isin(family, ["Married", "Civil marriage"])
    children = rng.choice([0, 1, 2, 3, 4], size=n, p=[0.70, 0.199, 0.087, 0.012, 0.002])
    children = np.where(age > 55, np.minimum(children, rng.integers(0, 2, n)), children)
    fam_members = 1 + married.astype(int) + children
    housing = _choice(rng, HOUSING, n)
    young = age < 30
    housing = np.where(young & (rng.random(n) < 0.12), "With parents", housing)

    # Income (lognormal, paid in round amounts) and loan.
    log_income = (
        np.log(147150.0)
        + 0.05 * z
        + 0.15 * male
        + 0.25 * higher
        - 0.30 * pensioner
        + 0.50 * rng.standard_normal(n)
    )
    income = np.maximum(np.round(np.exp(log_income) / 2250.0) * 2250.0, 25650.0)
    contract = _choice(rng, CONTRACT_TYPES, n)
    revolving = contract == "Revolving loans"
    log_goods = (
        np.log(430000.0)
        + 0.25 * (log_income - np.log(147150.0))
        + 0.12 * z
        + 0.50 * rng.standard_normal(n)
        - 0.9 * revolving
    )
    goods = np.clip(np.round(np.exp(log_goods) / 4500.0) * 4500.0, 40500.0, 4050000.0)
    # Credit = goods price plus financed insurance/fees on most loans (mean ratio about 1.12).
    markup = np.where(rng.random(n) < 0.3, 0.0, rng.gamma(2.0, 0.085, n))
    credit = np.round(goods * (1.0 + markup) * 2.0) / 2.0
    # Monthly annuity of an amortised loan: term 6..60 months, monthly rate 0.8 %..2.2 %.
    term = rng.choice(
        [6, 10, 12, 18, 24, 30, 36, 48, 60], size=n, p=[0.03, 0.07, 0.14, 0.14, 0.2, 0.12, 0.14, 0.1, 0.06]
    )
    term = np.where(revolving, 20, term)
    monthly_rate = rng.uniform(0.008, 0.022, n) + 0.002 * np.clip(-z, 0, None)
    annuity = credit * monthly_rate / (1.0 - (1.0 + monthly_rate) ** (-term.astype(float)))
    annuity = np.round(annuity * 2.0) / 2.0

    # External scores: Gaussian copula on the latent quality; EXT_SOURCE_1 also tracks age.
    base1 = (0.75 * z + 0.45 * age_z) / np.sqrt(0.75**2 + 0.45**2 + 2 * 0.75 * 0.45 * 0.25)
    g1 = _correlated(rng, base1, 0.72)
    g2 = _correlated(rng, z, 0.70)
    g3 = _correlated(rng, z, 0.72)
    ext1 = _beta_from_normal(g1, 0.502, 0.211, 0.963)
    ext2 = _beta_from_normal(g2, 0.514, 0.191, 0.855)
    ext3 = _beta_from_normal(g3, 0.511, 0.195, 0.896)

    # Car.
    car = rng.random(n) < special.expit(-1.02 + 0.95 * male + 0.25 * z + 0.2 * (log_income - 11.9))
    own_car_age = np.where(car, np.minimum(np.round(rng.gamma(2.2, 5.5, n)), 65.0), np.nan)

    occ_levels = np.array([o[0] for o in OCCUPATIONS], dtype=object)
    occ_p = np.array([o[1] for o in OCCUPATIONS])
    occ_effect = dict((o[0], o[2]) for o in OCCUPATIONS)
    occupation = occ_levels[rng.choice(len(occ_levels), size=n, p=occ_p / occ_p.sum())]
    occupation_missing = not_employed | (rng.random(n) < 0.16)
    organization = _choice(rng, ORGANIZATIONS, n)
    organization[not_employed] = "XNA"

    region_rating = _ordered(_correlated(rng, -z, 0.12), [(1, 0.105), (2, 0.738), (3, 0.157)]).astype(int)
    region_rating_city = np.where(
        rng.random(n) < 0.9, region_rating, np.clip(region_rating + rng.choice([-1, 1], n), 1, 3)
    )
    region_pop = np.round(
        np.clip(np.exp(rng.normal(np.log(0.018), 0.6, n) - 0.25 * (region_rating - 2)), 0.00029, 0.0725), 6
    )
    days_registration = -np.round(np.minimum(rng.gamma(1.6, 3100.0, n), (age - 16) * 365.25))
    days_id_publish = -np.round(np.minimum(rng.uniform(0, 6000, n), (age - 14) * 365.25))
    days_phone = -np.round(rng.gamma(1.1, 880.0, n))
    emp_phone = (rng.random(n) < 0.82).astype(int)
    work_phone = ((rng.random(n) < 0.24) & ~not_employed).astype(int)
    phone = (rng.random(n) < 0.28 + 0.05 * (age > 50)).astype(int)
    email = (rng.random(n) < 0.057 + 0.03 * higher).astype(int)
    reg_city_not_work = ((rng.random(n) < 0.27) & ~not_employed).astype(int)
    hour = np.clip(np.round(rng.normal(12.06, 3.27, n)), 0, 23).astype(int)
    weekday = _choice(rng, WEEKDAYS, n)
    doc3 = (rng.random(n) < 0.71 + 0.12 * ~not_employed - 0.1).astype(int)
    realty = np.where(rng.random(n) < 0.694, "Y", "N")
    suite = _choice(rng, SUITE, n)
    suite[rng.random(n) < 0.0042] = None
    bureau_year = rng.poisson(1.9 * np.exp(-0.04 * z), n).astype(float)
    bureau_year[rng.random(n) < 0.135] = np.nan
    social_def = rng.choice([0, 1, 2, 3], size=n, p=[0.885, 0.1, 0.012, 0.003]).astype(float)
    social_def[rng.random(n) < 0.0033] = np.nan

    # Default mechanism: logistic in the true (pre-missingness) values + unobserved heterogeneity.
    payment_rate = _standardise(np.log(annuity / credit))
    over_goods = _standardise(credit / goods)
    occ_risk = np.array([occ_effect[o] for o in occupation])
    occ_risk = np.where(occupation_missing, 0.0, occ_risk)
    log_odds = (
        -0.37 * _standardise(g1)
        - 0.40 * _standardise(g2)
        - 0.44 * _standardise(g3)
        - 0.14 * age_z
        + 0.32 * male
        - 0.25 * car
        - 0.10 * _standardise(np.log(goods))
        - 0.08 * payment_rate
        + 0.10 * over_goods
        - 0.14 * np.where(not_employed, 0.0, np.log1p(years_employed) - 1.7)
        - 0.20 * pensioner
        - 0.20 * higher
        + 0.35 * (education == "Lower secondary")
        + 0.6 * occ_risk
        + 0.03 * (region_rating_city - 2)
        + 0.12 * social_def_filled(social_def)
        + 0.03 * reg_city_not_work
        - 0.1 * (revolving)
        + 0.50 * rng.standard_normal(n)
    )

    def rate_gap(intercept: float) -> float:
        return float(special.expit(intercept + log_odds).mean() - DEFAULT_RATE)

    intercept = optimize.brentq(rate_gap, -20.0, 5.0)
    target = (rng.random(n) < special.expit(intercept + log_odds)).astype(int)

    # Missingness (after the outcome: the true values exist, the lender just does not see them).
    ext1 = np.where(rng.random(n) < 0.564, np.nan, ext1)
    ext3 = np.where(rng.random(n) < 0.198, np.nan, ext3)

    ids = 100002 + np.sort(rng.choice(np.arange(n * 1.16, dtype=np.int64), size=n, replace=False))
    df = pd.DataFrame(
        {
            "SK_ID_CURR": ids,
            "EXT_SOURCE_1": ext1,
            "EXT_SOURCE_2": ext2,
            "EXT_SOURCE_3": ext3,
            "AMT_ANNUITY": annuity,
            "AMT_CREDIT": credit,
            "AMT_GOODS_PRICE": goods,
            "DAYS_BIRTH": -np.round(age * 365.25).astype(np.int64),
            "DAYS_EMPLOYED": days_employed.astype(np.int64),
            "CODE_GENDER": np.where(male, "M", "F"),
            "FLAG_OWN_CAR": np.where(car, "Y", "N"),
            "NAME_CONTRACT_TYPE": contract,
            "FLAG_OWN_REALTY": realty,
            "CNT_CHILDREN": children.astype(np.int64),
            "AMT_INCOME_TOTAL": income,
            "NAME_TYPE_SUITE": suite,
            "NAME_INCOME_TYPE": income_type,
            "NAME_EDUCATION_TYPE": education,
            "NAME_FAMILY_STATUS": family,
            "NAME_HOUSING_TYPE": housing,
            "REGION_POPULATION_RELATIVE": region_pop,
            "DAYS_REGISTRATION": days_registration.astype(np.int64),
            "DAYS_ID_PUBLISH": days_id_publish.astype(np.int64),
            "OWN_CAR_AGE": own_car_age,
            "FLAG_EMP_PHONE": emp_phone,
            "FLAG_WORK_PHONE": work_phone,
            "FLAG_PHONE": phone,
            "FLAG_EMAIL": email,
            "OCCUPATION_TYPE": np.where(occupation_missing, None, occupation),
            "CNT_FAM_MEMBERS": fam_members.astype(np.int64),
            "REGION_RATING_CLIENT": region_rating,
            "REGION_RATING_CLIENT_W_CITY": region_rating_city.astype(np.int64),
            "WEEKDAY_APPR_PROCESS_START": weekday,
            "HOUR_APPR_PROCESS_START": hour,
            "REG_CITY_NOT_WORK_CITY": reg_city_not_work,
            "ORGANIZATION_TYPE": organization,
            "DAYS_LAST_PHONE_CHANGE": days_phone.astype(np.int64),
            "FLAG_DOCUMENT_3": doc3,
            "AMT_REQ_CREDIT_BUREAU_YEAR": bureau_year,
            "DEF_30_CNT_SOCIAL_CIRCLE": social_def,
            TARGET: target,
        }
    )
    return df[[*COLUMNS, TARGET]]


def social_def_filled(x: np.ndarray) -> np.ndarray:
    return np.nan_to_num(x, nan=0.0)
