//! creditscore core: everything deterministic about scoring a loan application.
//!
//! `no_std + alloc`, no I/O, no clock, no randomness: the same code runs in the native CLI, the
//! browser (wasm), the npm package and the Cloudflare Worker.
// No std: the same crate builds for wasm32-unknown-unknown (npm package, Worker) and for fuzzing,
// and cannot reach files, clocks or randomness by accident; collections come from `alloc`.
#![no_std]
// Also set for every crate in Cargo.toml's `[workspace.lints]`; stated here too so that the
// guarantee is visible where the crate begins.
#![forbid(unsafe_code)]
// Every public item documented (shapes, units, errors, the source of each formula): the core is
// the library every adapter and the Python package build on. Here rather than in Cargo.toml's
// `[lints]`, which cannot add a crate-level lint to the workspace ones it inherits.
#![deny(missing_docs)]
// The OpenAPI document (service/docs.rs) is one large `json!` literal.
#![recursion_limit = "256"]

extern crate alloc;
// The `std` feature (default; off in the wasm adapters) adds `std::error::Error` impls on the error
// types, the fixture file access of `test_support` and the test that compares the glibc `exp` port
// with the platform's `exp`.
#[cfg(feature = "std")]
extern crate std;

pub mod ensemble;

pub use ensemble::{Arithmetic, Ensemble, EnsembleError, Link, MissingType, Node, Split, Tree};
pub mod bundle;
pub mod compiled;
pub mod drift;
pub mod import;
mod order;
pub mod predict;
pub mod reasons;
pub mod schema;
pub mod scorecard;
pub mod service;
pub mod shap;
pub mod time;
// Test builders and fixture access, for this crate's tests and other crates' dev-dependencies.
#[cfg(any(test, feature = "test-support"))]
pub mod test_support;

pub use bundle::{Bundle, BundleError, BundleSpec, Metadata};
pub use compiled::CompiledModel;
pub use predict::{Contribution, Explanation, FeatureValue, Prediction, Score, Threshold};
pub use reasons::{DEFAULT_REASONS, Reason};
pub use schema::{FieldIssue, RawValue, Schema, ValidRecord, Warning};
pub use scorecard::ScoreScale;
