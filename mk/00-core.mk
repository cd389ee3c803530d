# Rust toolchain pieces and the core + CLI checks.
TEST_TARGETS += test-core

.PHONY: setup-rust build test-core fuzz

setup-rust:
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
	@rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
	@rustup component list --installed | grep -q '^clippy' || rustup component add clippy

build: setup-rust
	cargo build --release -p creditscore-cli

test-core: setup-rust
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo test --workspace
	cargo build -p creditscore-core --target wasm32-unknown-unknown --no-default-features
	@# Every public item documented (missing_docs is denied in core) and no broken doc link.
	RUSTDOCFLAGS="-D warnings" cargo doc -p creditscore-core --no-deps --quiet
