import sys
from pathlib import Path

import pytest

TRAIN = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TRAIN))


@pytest.fixture(scope="session")
def small_data():
    from creditscore_train import synthetic

    return synthetic.generate(2000, seed=7)


@pytest.fixture(scope="session")
def quick_config():
    """Makes the Config of a small, quick training run that writes only under `root`: models/,
    work/ and, when MLflow is on, its tracking database mlflow.db."""
    from creditscore_train.pipeline import Config

    def make(root: Path, **options):
        where = {
            "out_dir": root / "models",
            "work_dir": root / "work",
            "tracking_uri": f"sqlite:///{root / 'mlflow.db'}",
        }
        return Config(**where, quick=True, **options)

    return make
