import sys
from pathlib import Path

import pytest

TRAIN = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TRAIN))


@pytest.fixture(scope="session")
def small_data():
    from creditscore_train import synthetic

    return synthetic.generate(2000, seed=7)
