"""creditscore training pipeline: data, feature selection, model comparison, threshold, MLflow, export.

Run with ``python -m creditscore_train`` (``make train``); see train/README.md.
"""

__version__ = "0.1.0"

import os as _os

# OpenMP threads sleep instead of spinning while they wait: on a shared 2-core machine spinning
# threads (scikit-learn HistGradientBoosting, LightGBM) slowed fits by an order of magnitude.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
