"""creditscore training pipeline: data, feature selection, model comparison, threshold, MLflow, export.

Run with ``python -m creditscore_train`` (``make train``); see train/README.md.
"""

__version__ = "0.1.0"
