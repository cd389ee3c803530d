"""Rows of the application_train.csv stand-in (train/creditscore_train/standin.py) for the
endpoint tests: all 122 columns, one row per special case (CODE_GENDER = XNA,
NAME_FAMILY_STATUS = Unknown, DAYS_EMPLOYED = 365243 with ORGANIZATION_TYPE = XNA, a quoted level
with a comma) plus ordinary rows.

    .venv/bin/python tests/worker/gen_standin_rows.py   # writes tests/worker/fixtures/standin_rows.csv
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "train"))

from creditscore_train import standin  # noqa: E402

frame = standin.generate(2000, seed=2026)
picks = [
    frame.index[frame["CODE_GENDER"] == "XNA"][0],
    frame.index[frame["NAME_FAMILY_STATUS"] == "Unknown"][0],
    frame.index[frame["DAYS_EMPLOYED"] == 365243][0],
    frame.index[frame["WALLSMATERIAL_MODE"] == "Stone, brick"][0],
    frame.index[frame["NAME_TYPE_SUITE"] == "Spouse, partner"][0],
    *range(5),
]
standin.write(frame.loc[sorted(set(picks))], ROOT / "tests" / "worker" / "fixtures" / "standin_rows.csv")
