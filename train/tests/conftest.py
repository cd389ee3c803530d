import sys
from pathlib import Path

import pytest

TRAIN = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TRAIN))

from creditscore_train import core_cli  # noqa: E402


@pytest.fixture(scope="session")
def cli():
    """The release CLI (make test builds it first)."""
    return core_cli.cli_path()


@pytest.fixture(scope="session")
def small_data():
    from creditscore_train import synthetic

    return synthetic.generate(2000, seed=7)
