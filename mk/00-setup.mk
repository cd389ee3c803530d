# Shared, idempotent set-up steps used by several components.
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: venv setup-chromium
# One pinned Python environment for training, fixture generation and cross-checks.
venv: $(VENV)/.installed
$(VENV)/.installed: requirements.txt
	@test -x $(PY) || python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

# Debian's Chromium for headless browser tests (never a downloaded browser).
setup-chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; }

.PHONY: node-tools setup-wasm-bindgen
# Root JS tooling (wasm-opt from npm binaryen, playwright-core, wrangler, miniflare), from the lockfile.
node-tools: node_modules/.installed
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# wasm-bindgen CLI: must equal the wasm-bindgen crate version in Cargo.lock exactly.
WASM_BINDGEN_VERSION := 0.2.130
setup-wasm-bindgen: setup-rust
	@wasm-bindgen --version 2>/dev/null | grep -qx 'wasm-bindgen $(WASM_BINDGEN_VERSION)' || cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION)
