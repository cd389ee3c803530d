# Bounded fuzzing of the core's untrusted-input entry points (bundle bytes, request records).
# cargo fuzz needs nightly: installed with rustup when missing.
TEST_TARGETS += test-fuzz
FUZZ_SECONDS ?= 20
FUZZ_TARGETS := bundle_load validate_record

.PHONY: setup-fuzz test-fuzz
setup-fuzz: setup-rust
	@rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
	@cargo fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --version 0.13.2

# Seeds: the committed JSON records and, as bundle seeds, the committed default model (format 2),
# its format-1 copy (tests/fixtures/bundle_v1/) and core/fuzz/seeds/bundle_load (written by
# core/fuzz/seeds/make_bundle_seeds.py).
test-fuzz: setup-fuzz
	@mkdir -p $(addprefix core/fuzz/corpus/,$(FUZZ_TARGETS)) core/fuzz/target
	@if [ -f models/default.csb ]; then cp models/default.csb core/fuzz/corpus/bundle_load/default.csb; fi
	@cp tests/fixtures/bundle_v1/default.csb core/fuzz/corpus/bundle_load/default_v1.csb
	@cp core/fuzz/seeds/bundle_load/*.csb core/fuzz/corpus/bundle_load/
	@cp core/fuzz/seeds/validate_record/*.json core/fuzz/corpus/validate_record/
	@# On a crash, show libFuzzer's report (the panic, the input as base64, where it was saved),
	@# not the tail, which is cargo-fuzz's own backtrace.
	cd core/fuzz && for t in $(FUZZ_TARGETS); do \
	  echo "fuzzing $$t for $(FUZZ_SECONDS) s"; \
	  if cargo +nightly fuzz run -O $$t corpus/$$t -- -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 \
	      > target/fuzz-$$t.log 2>&1; then tail -n 2 target/fuzz-$$t.log; \
	  else grep -E -A 12 "panicked|ERROR: libFuzzer|ERROR: AddressSanitizer|^error" target/fuzz-$$t.log | head -n 60; \
	    grep -E "Test unit written|^Base64" target/fuzz-$$t.log | head -n 4; \
	    echo "fuzz target $$t failed: full log in core/fuzz/target/fuzz-$$t.log"; exit 1; fi; \
	done
