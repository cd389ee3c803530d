# Model import parity (fixtures made by tests/parity/gen_fixtures.py, checked by
# core/tests/parity.rs, which `cargo test --workspace` runs) and the speed benchmark.
.PHONY: bench parity-fixtures

# Batch scoring vs LightGBM's Booster.predict on the same models and rows, one thread and every
# thread (the all-threads ratio next to the one-thread figures); bench-batch (mk/python.mk) is the
# 1M-row file through every way to batch-score.
bench: venv build
	$(PY) bench/bench_vs_lightgbm.py

# Regenerate the committed parity fixtures (deterministic on the pinned library versions), and
# the import-rule fixtures of tests/parity/import (checked by core/tests/parity.rs and
# cli/tests/import_cli.rs).
parity-fixtures: venv
	$(PY) tests/parity/gen_fixtures.py
	$(PY) tests/parity/gen_import_fixtures.py
