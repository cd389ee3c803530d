# npm package (wasm/) and client-side demo page (www/).
#
#   make npm           build the package (wasm-opt -Oz), pack it; prints the .tgz path last
#   make www-assets    the package's files the demo page loads, into www/pkg/ (gitignored)
#   make test-npm      install the packed .tgz into a scratch project; node:test (CJS and ESM)
#                      checks scores and SHAP against the native CLI bit for bit, and the errors
#   make test-browser  headless Debian Chromium (playwright-core) drives the demo page
#   make bench-npm     score latency: native CLI, the package in Node, the page in Chromium
#
# www/ is a standalone static site once `make www-assets` has run: serve it with any static server
# that sends .wasm as application/wasm, e.g. `node tests/browser/server.mjs www 8080`.

.PHONY: npm npm-package www-assets test-npm test-browser bench-npm

TEST_TARGETS += test-npm test-browser

NPM_OUT := target/npm
NPM_PKG := $(NPM_OUT)/package
NPM_VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
NPM_TGZ := $(NPM_OUT)/creditscore-$(NPM_VERSION).tgz
# The model shipped as the package's default (`loadDefaultModel()`) and used by the demo page.
NPM_MODEL ?= models/default.csb
# Size-optimised profile (root Cargo.toml); wasm-bindgen's output is then shrunk by wasm-opt.
WASM_PROFILE := wasm-release
WASM_RAW := target/wasm32-unknown-unknown/$(WASM_PROFILE)/creditscore_wasm.wasm
WASM_OPT := node_modules/.bin/wasm-opt
CREDITSCORE := target/release/creditscore
# Where the tests install the package and write what they produce (gitignored).
NPM_TEST_OUT := tests/out/npm
BROWSER_TEST_OUT := tests/out/browser

# A real file target: `make serve`, `make npm` and the tests rebuild the package (cargo, two
# wasm-bindgen runs and wasm-opt: ~12 s) only when a source it is made from changed.
NPM_STAMP := $(NPM_PKG)/.built
NPM_SOURCES = $(shell find core/src wasm/src wasm/js -type f) core/Cargo.toml wasm/Cargo.toml \
	Cargo.toml Cargo.lock wasm/build-package.mjs wasm/README.md $(wildcard $(NPM_MODEL))

npm-package: setup-wasm-bindgen node-tools
	@$(MAKE) --no-print-directory $(NPM_STAMP)

$(NPM_STAMP): $(NPM_SOURCES) node_modules/.installed
	cargo build --profile $(WASM_PROFILE) -p creditscore-wasm --target wasm32-unknown-unknown
	rm -rf $(NPM_OUT)/glue-node $(NPM_OUT)/glue-web
	wasm-bindgen --target nodejs --out-dir $(NPM_OUT)/glue-node --out-name creditscore $(WASM_RAW)
	wasm-bindgen --target web --out-dir $(NPM_OUT)/glue-web --out-name creditscore $(WASM_RAW)
	$(WASM_OPT) -Oz --converge $(NPM_OUT)/glue-web/creditscore_bg.wasm -o $(NPM_OUT)/glue-web/creditscore_bg.wasm
	cp $(NPM_OUT)/glue-web/creditscore_bg.wasm $(NPM_OUT)/glue-node/creditscore_bg.wasm
	node wasm/build-package.mjs $(NPM_PKG) $(NPM_OUT)/glue-node $(NPM_OUT)/glue-web $(NPM_VERSION) $(NPM_MODEL)
	@touch $@

npm: npm-package
	@test -f $(NPM_MODEL) || { echo "npm: the default model $(NPM_MODEL) is missing (make train, or NPM_MODEL=bundle.csb)" >&2; exit 1; }
	@rm -f $(NPM_TGZ)
	@cd $(NPM_OUT) && npm pack ./package --pack-destination . --silent >/dev/null
	@w=$(NPM_PKG)/dist/creditscore_bg.wasm; \
		echo "wasm (without the model): $$(wc -c < $$w) bytes raw, $$(gzip -9c $$w | wc -c) bytes gzip -9 (GNU gzip)"; \
		echo "default model: $$(wc -c < $(NPM_PKG)/model/default.csb) bytes raw, $$(gzip -9c $(NPM_PKG)/model/default.csb | wc -c) bytes gzip -9 (GNU gzip)"; \
		echo "package: $$(wc -c < $(NPM_TGZ)) bytes (.tgz), $$(du -sb $(NPM_PKG) | cut -f1) bytes unpacked"
	@echo $(abspath $(NPM_TGZ))

# The demo page loads the package's browser entry, wasm and default model from www/pkg/.
# The last file copied stands for the set (no stamp file inside www/: it would be served).
WWW_STAMP := www/pkg/model/default.csb
www-assets: npm-package
	@$(MAKE) --no-print-directory $(WWW_STAMP)

$(WWW_STAMP): $(NPM_STAMP)
	rm -rf www/pkg
	mkdir -p www/pkg/dist
	cp $(NPM_PKG)/dist/index.js $(NPM_PKG)/dist/creditscore.js $(NPM_PKG)/dist/records.js $(NPM_PKG)/dist/creditscore_bg.wasm www/pkg/dist/
	cp -r $(NPM_PKG)/model www/pkg/
	@touch $@

SERVE_DEPS += www-assets

test-npm: npm build
	node tests/npm/run.mjs --tgz $(abspath $(NPM_TGZ)) --cli $(abspath $(CREDITSCORE)) --out $(abspath $(NPM_TEST_OUT))

test-browser: www-assets build setup-chromium node-tools
	CREDITSCORE_CLI=$(abspath $(CREDITSCORE)) CREDITSCORE_MODEL=$(abspath $(NPM_MODEL)) \
		CREDITSCORE_OUT=$(abspath $(BROWSER_TEST_OUT)) node --test --test-concurrency=1 tests/browser/demo.test.mjs

bench-npm: npm www-assets build setup-chromium node-tools
	node tests/npm/bench.mjs --tgz $(abspath $(NPM_TGZ)) --cli $(abspath $(CREDITSCORE)) --model $(abspath $(NPM_MODEL)) --out $(abspath $(NPM_TEST_OUT))
