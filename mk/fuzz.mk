# Bounded fuzzing of the core's untrusted-input entry points (bundle bytes, request records).
# cargo fuzz needs nightly: installed with rustup when missing.
TEST_TARGETS += test-fuzz
FUZZ_SECONDS ?= 20
FUZZ_TARGETS := bundle_load validate_record

.PHONY: setup-fuzz test-fuzz
setup-fuzz: setup-rust
	@rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
	@cargo fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --version 0.13.2

# Seeds: the committed JSON records and, as bundle seeds, the committed default model (format 2)
# and its format-1 copy (tests/fixtures/bundle_v1/).
test-fuzz: setup-fuzz
	@mkdir -p $(addprefix core/fuzz/corpus/,$(FUZZ_TARGETS))
	@if [ -f models/default.csb ]; then cp models/default.csb core/fuzz/corpus/bundle_load/default.csb; fi
	@cp tests/fixtures/bundle_v1/default.csb core/fuzz/corpus/bundle_load/default_v1.csb
	@cp core/fuzz/seeds/validate_record/*.json core/fuzz/corpus/validate_record/
	cd core/fuzz && set -o pipefail && for t in $(FUZZ_TARGETS); do \
	  echo "fuzzing $$t for $(FUZZ_SECONDS) s"; \
	  cargo +nightly fuzz run -O $$t corpus/$$t -- -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 2>&1 | tail -n 4 || exit 1; \
	done
