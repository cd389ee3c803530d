# Drift report (`creditscore drift`, issue 6): end-to-end test through the CLI, benchmark, demo.
# The scipy parity unit tests of core/src/drift run with the workspace tests (test-core).
TEST_TARGETS += test-drift

.PHONY: test-drift bench-drift demo-drift

DRIFT_FIXTURE_BIN := target/debug/examples/drift_fixture_bundle

# Reference + logs (no drift, drift, malformed lines), a bundle built from the reference, the
# report through the CLI, every statistic recomputed with pandas + scipy, the HTML in Chromium;
# then the verdict cases (tests/drift/gen_drift_cases.py; plus the external reproductions kept
# outside the repository, when a shared/cases/drift folder sits beside the checkout).
test-drift: venv setup-chromium setup-rust node-tools
	cargo build -p creditscore-cli --bin creditscore --example drift_fixture_bundle
	$(PY) tests/drift/run_drift_test.py --bin target/debug/creditscore --fixture-bin $(DRIFT_FIXTURE_BIN)
	$(PY) tests/drift/run_drift_cases.py --bin target/debug/creditscore
	$(PY) tests/drift/run_drift_inputs.py --bin target/debug/creditscore

# 10 million log lines: creditscore drift vs pandas + scipy on the same data (lines/s, peak RSS).
DRIFT_BENCH_LINES ?= 10000000
bench-drift: venv setup-rust
	cargo build --release -p creditscore-cli --bin creditscore --example drift_fixture_bundle
	$(PY) bench/drift_bench.py --lines $(DRIFT_BENCH_LINES) --bin target/release/creditscore \
		--fixture-bin target/release/examples/drift_fixture_bundle

# Shifted synthetic traffic to the local endpoint (`make serve` in another terminal), logs pulled
# back with the CLI, then the report: out/demo-drift/drift_report.html.
DEMO_URL ?= http://$(or $(SERVE_HOST),127.0.0.1):$(or $(SERVE_PORT),8787)
DEMO_BUNDLE ?= models/default.csb
DEMO_RECORDS ?= 4000
DEMO_TOKEN ?= $(shell sed -n 's/^LOGS_ACCESS_TOKEN=//p' .dev.vars 2>/dev/null)
demo-drift: venv setup-rust
	cargo build --release -p creditscore-cli --bin creditscore
	@curl -fsS $(DEMO_URL)/health >/dev/null || { echo "no endpoint at $(DEMO_URL): run 'make serve' first"; exit 1; }
	$(PY) tests/drift/demo_traffic.py --url $(DEMO_URL) --bundle $(DEMO_BUNDLE) --records $(DEMO_RECORDS)
	@mkdir -p out/demo-drift
	@echo "target/release/creditscore logs pull --url $(DEMO_URL) --out out/demo-drift/logs.jsonl (token from .dev.vars)"
	@LOGS_ACCESS_TOKEN="$(DEMO_TOKEN)" target/release/creditscore logs pull --url $(DEMO_URL) --out out/demo-drift/logs.jsonl
	target/release/creditscore drift --logs out/demo-drift/logs.jsonl --bundle $(DEMO_BUNDLE) --out out/demo-drift
	@echo "report: out/demo-drift/drift_report.html"
