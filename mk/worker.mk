# Edge endpoint (worker/): build with worker-build, serve locally with wrangler dev, end-to-end
# tests in workerd (Miniflare) and a local load benchmark.
#
#   make serve         build if needed and run on http://127.0.0.1:8787 in workerd (Miniflare; R2/KV
#                      state on disk in .wrangler/state)
#   make dev           the same through `wrangler dev` (live reload on source changes)
#   make serve-check   time from `make serve` to the first 200
#   make test-worker   node:test end-to-end tests against the built worker
#   make bench-worker  wasm size; req/s, p50/p99, CPU per request and cold start of the worker in
#                      workerd and behind wrangler dev against FastAPI and mlflow peers; native core time
#   make bench-logs    queue vs direct log path: /predict p50/p99, R2 objects per 1,000, pull records/s

TEST_TARGETS += test-worker test-schemathesis test-browser-cors

.PHONY: setup-worker-build worker-tools worker-build serve dev serve-check test-worker test-schemathesis test-browser-cors setup-wrk bench-worker bench-logs

WORKER_BUILD_VERSION := 0.8.7
WORKER_JS := worker/build/index.js
WORKER_WASM := worker/build/index_bg.wasm
WORKER_SOURCES = $(shell find core/src worker/src -name '*.rs') worker/build.rs worker/Cargo.toml Cargo.toml \
	core/Cargo.toml Cargo.lock $(wildcard models/default.csb)
WRANGLER := ./node_modules/.bin/wrangler
# `make serve SERVE_PORT=8790` or `SERVE_PORT=8790 make serve`.
SERVE_HOST ?= 127.0.0.1
SERVE_PORT ?= 8787
# Where local R2/KV/Queue state lives (wrangler's --persist-to layout: $(SERVE_STATE)/v3).
SERVE_STATE ?= .wrangler/state
# Other components add the steps `make serve` needs before starting (e.g. the demo's assets:
# `SERVE_DEPS += www-assets`). Expanded in the recipe, so fragments read after this one count.
SERVE_DEPS ?=

# worker-build 0.8.7 (about 5 min to compile once).
setup-worker-build: setup-rust
	@worker-build --version 2>/dev/null | grep -qx '$(WORKER_BUILD_VERSION)' || \
		cargo install worker-build --version $(WORKER_BUILD_VERSION) --locked

worker-tools: setup-worker-build setup-wasm-bindgen node-tools

# worker-build would download wasm-bindgen, wasm-opt and esbuild from GitHub (unreachable):
# point it at the pinned local ones. `make -s worker-build` is also wrangler's [build] command.
worker-build: worker-tools
	@$(MAKE) --no-print-directory $(WORKER_JS)

$(WORKER_JS): $(WORKER_SOURCES)
	cd worker && WASM_BINDGEN_BIN="$$(command -v wasm-bindgen)" \
		WASM_OPT_BIN="$(CURDIR)/node_modules/.bin/wasm-opt" \
		ESBUILD_BIN="$(CURDIR)/node_modules/.bin/esbuild" \
		worker-build --release
	@touch $@

# Local secrets for wrangler dev, random per checkout (never committed: .gitignore).
.dev.vars:
	@umask 077; printf 'LOGS_ACCESS_TOKEN=%s\nLOG_HASH_KEY=%s\n' \
		"$$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
		"$$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" > $@
	@echo "created .dev.vars (LOGS_ACCESS_TOKEN and LOG_HASH_KEY for local serving)"

# `make serve`: workerd through Miniflare with wrangler.toml's bindings (worker/serve.mjs), no
# proxy in front (the socket is the worker's own: no Miniflare entry, no asset router)
# and no rebuild when nothing changed. `make dev`: `wrangler dev` on the same state,
# with live reload (its [build] command and file watcher), slower per request.
serve: worker-build .dev.vars
	@$(if $(strip $(SERVE_DEPS)),$(MAKE) --no-print-directory $(SERVE_DEPS))
	@# serve.mjs prints where it serves, the logs token and the state folder once workerd answers.
	@exec node worker/serve.mjs --host $(SERVE_HOST) --port $(SERVE_PORT) --persist-to $(SERVE_STATE)

dev: worker-build .dev.vars
	@$(if $(strip $(SERVE_DEPS)),$(MAKE) --no-print-directory $(SERVE_DEPS))
	@# wrangler would fetch Request.cf data from the internet at start: Miniflare's built-in one.
	CLOUDFLARE_CF_FETCH_ENABLED=false $(WRANGLER) dev --ip $(SERVE_HOST) --port $(SERVE_PORT) --persist-to $(SERVE_STATE)

# Time from `make serve` to the first 200 of GET /health and of GET / on a spare port (warm
# checkout: nothing to rebuild). Prints the numbers; fails only if it never answers.
serve-check: worker-build .dev.vars
	node tests/worker/serve_start.mjs

test-worker: worker-build build
	node --test --test-concurrency=1 tests/worker/*.test.mjs

# wrk (Debian) is the one load generator for every system `make bench-worker` compares.
setup-wrk:
	@command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null; }

# The product (workerd), the dev stack (wrangler dev) and the peers (FastAPI + LightGBM, mlflow
# models serve) under the same load, interleaved: bench/bench_worker.py. BENCH_WORKER_ARGS=--help.
bench-worker: worker-build build venv setup-wrk
	@w=$(WORKER_WASM); echo "worker wasm: $$(wc -c < $$w) bytes raw, $$(gzip -9c $$w | wc -c) bytes gzip -9 (GNU gzip)"
	$(PY) bench/bench_worker.py $(BENCH_WORKER_ARGS)
	cargo run --release --quiet -p creditscore-worker --example native_bench

bench-logs: worker-build build
	node tests/worker/bench_logs.mjs

# The API against its OpenAPI document: schemathesis --checks all, bounded examples (about a minute).
SCHEMATHESIS_EXAMPLES ?= 40
test-schemathesis: worker-build venv
	node tests/worker/schemathesis.mjs --examples $(SCHEMATHESIS_EXAMPLES)

# CORS in Chromium: a page on a second local origin calls the worker (tests/browser/cors.test.mjs).
test-browser-cors: worker-build setup-chromium
	node --test --test-concurrency=1 tests/browser/cors.test.mjs
