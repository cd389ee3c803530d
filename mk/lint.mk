# ruff over the Python scripts outside the two packages (bench/, tests/**: fixture generators,
# benchmark peers, end-to-end drivers), configured by the root ruff.toml. The packages are linted
# by their own suites: train/ in test-train, python/ in test-python.
TEST_TARGETS += lint-scripts

.PHONY: lint-scripts
lint-scripts: venv
	$(VENV)/bin/ruff check bench tests
