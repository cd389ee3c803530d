# Training pipeline (train/): `make train` rewrites models/default.csb and models/MODEL_CARD.md;
# `make train QUICK=1` is a smaller, faster run; DATA=path/to/application_train.csv trains on the
# real Home Credit file instead of the seeded synthetic data. MLflow: local SQLite store under
# mlruns/ unless MLFLOW_TRACKING_URI is set. The pipeline reaches the Rust core through the
# `creditscore` Python package (mk/python.mk builds and installs the wheel), not the CLI.
TEST_TARGETS += test-train

TRAIN_ARGS := $(if $(QUICK),--quick,) $(if $(DATA),--data $(DATA),) $(TRAIN_FLAGS)
# Where `make train` writes the bundle and card (models/ = the committed default model).
TRAIN_OUT ?= models

.PHONY: train test-train train-fixtures standin

# A realistic stand-in for application_train.csv (122 columns, real levels, codes, TARGET):
# `make standin` then `make train DATA=out/standin/application_train.csv`.
STANDIN_ROWS ?= 20000
standin: venv
	@mkdir -p out/standin
	cd train && ../$(PY) -m creditscore_train.standin ../out/standin/application_train.csv --rows $(STANDIN_ROWS)

train: venv python-package
	cd train && PYTHONPATH=. ../$(PY) -m creditscore_train \
		--out-dir ../$(TRAIN_OUT) --work-dir ../out/train $(TRAIN_ARGS)

# The scikit-learn importer's parity fixtures (committed; rerun only to regenerate them).
train-fixtures: venv
	$(PY) train/fixtures/gen_sklearn_fixtures.py

test-train: venv python-package
	$(VENV)/bin/ruff check train
	$(VENV)/bin/ruff format --check train
	cd train && ../$(PY) -m pytest -q -p no:cacheprovider tests
