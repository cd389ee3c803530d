# creditscore: `make serve` runs the edge endpoint locally, `make test` runs every test.
# Each component keeps its targets in mk/<component>.mk and appends its test target to TEST_TARGETS.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export PATH := $(HOME)/.cargo/bin:$(PATH)

TEST_TARGETS :=
include $(sort $(wildcard mk/*.mk))

.PHONY: help test
help:
	@echo "make serve   start the edge endpoint on http://127.0.0.1:8787 (installs what it needs)"
	@echo "make test    install what the tests need and run every test"
	@echo "other targets: $(sort $(TEST_TARGETS)) build train npm bench"

test: $(TEST_TARGETS)
	@echo "all test suites passed: $(TEST_TARGETS)"
