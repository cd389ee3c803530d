# Python package (python/): the core as an abi3 wheel (PyO3, built by maturin), installed into the
# project venv; `test-python` checks it against the CLI on every parity fixture and runs the Dask
# example on a 2-worker LocalCluster.
TEST_TARGETS += test-python

.PHONY: python-package test-python bench-batch

CLI_BIN := target/release/creditscore
WHEEL_DIR := target/wheels
WHEEL_STAMP := $(WHEEL_DIR)/.installed
PY_PACKAGE_SOURCES := $(shell find core/src python/src python/creditscore -type f) \
	python/Cargo.toml python/pyproject.toml core/Cargo.toml Cargo.lock

# Rebuilt (release, about 1-2 min) only when the core or the package changed.
python-package: $(WHEEL_STAMP)
$(WHEEL_STAMP): $(VENV)/.installed $(PY_PACKAGE_SOURCES) | setup-rust
	rm -f $(WHEEL_DIR)/creditscore-*.whl
	$(VENV)/bin/maturin build --release --manifest-path python/Cargo.toml --out $(WHEEL_DIR) --interpreter $(PY)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --force-reinstall --no-deps $(WHEEL_DIR)/creditscore-*.whl
	@touch $@

test-python: python-package build
	$(VENV)/bin/ruff check python
	$(VENV)/bin/ruff format --check python
	CREDITSCORE_CLI=$(CURDIR)/$(CLI_BIN) $(PY) -m pytest -q -p no:cacheprovider python/tests

# Throughput on one 1M-row file: CLI 1 / all threads (peak RSS, output sha256 of both), the
# package, Dask (2-worker LocalCluster) and LightGBM 1 / all threads, same rows and model.
# BENCH_BATCH_ROWS=N for another size (the rows are generated once under target/bench/batch/).
BENCH_BATCH_ROWS ?= 1000000
bench-batch: venv build python-package
	$(PY) bench/bench_batch.py --rows $(BENCH_BATCH_ROWS) --cli $(CLI_BIN)
