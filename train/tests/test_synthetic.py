"""The synthetic generator: columns, the real file's published marginals, determinism, signal strength."""

import numpy as np
import pytest

from creditscore_train import synthetic


@pytest.fixture(scope="module")
def frame():
    return synthetic.generate(30000, seed=3)


def test_columns_are_home_credit_ones(frame):
    assert list(frame.columns) == [*synthetic.COLUMNS, "TARGET"]
    assert len(synthetic.OTHER_COLUMNS) >= 20
    assert frame["SK_ID_CURR"].is_unique


@pytest.mark.parametrize(
    "what, value, target, tol",
    [
        ("default rate", lambda f: f.TARGET.mean(), 0.0807, 0.006),
        ("EXT_SOURCE_1 missing", lambda f: f.EXT_SOURCE_1.isna().mean(), 0.56, 0.01),
        ("EXT_SOURCE_3 missing", lambda f: f.EXT_SOURCE_3.isna().mean(), 0.20, 0.01),
        ("DAYS_EMPLOYED sentinel", lambda f: (f.DAYS_EMPLOYED == 365243).mean(), 0.18, 0.01),
        ("CODE_GENDER F", lambda f: (f.CODE_GENDER == "F").mean(), 0.658, 0.01),
        ("FLAG_OWN_CAR N", lambda f: (f.FLAG_OWN_CAR == "N").mean(), 0.66, 0.01),
    ],
)
def test_marginals_match_spec(frame, what, value, target, tol):
    assert abs(value(frame) - target) <= tol, what


def test_physical_ranges(frame):
    for c in ("EXT_SOURCE_1", "EXT_SOURCE_2", "EXT_SOURCE_3"):
        v = frame[c].dropna()
        assert v.between(0, 1).all()
    assert (frame.DAYS_BIRTH < 0).all()
    employed = frame.DAYS_EMPLOYED[frame.DAYS_EMPLOYED != 365243]
    assert (employed <= 0).all()
    for c in ("AMT_ANNUITY", "AMT_CREDIT", "AMT_GOODS_PRICE", "AMT_INCOME_TOTAL"):
        assert (frame[c] > 0).all()


def test_seeded_and_deterministic():
    a = synthetic.generate(500, seed=11)
    b = synthetic.generate(500, seed=11)
    c = synthetic.generate(500, seed=12)
    assert a.equals(b)
    assert not a.equals(c)


def test_ext_sources_are_the_strongest_signals(frame):
    num = frame.select_dtypes("number").drop(columns=["TARGET", "SK_ID_CURR"]).copy()
    num.loc[num.DAYS_EMPLOYED == 365243, "DAYS_EMPLOYED"] = np.nan
    corr = num.corrwith(frame.TARGET).abs().sort_values(ascending=False)
    assert set(corr.index[:3]) == {"EXT_SOURCE_1", "EXT_SOURCE_2", "EXT_SOURCE_3"}
    assert 0.12 < corr.iloc[0] < 0.3
