//! Chooses the model bundle compiled into the worker and checks that it loads:
//! `CREDITSCORE_BUNDLE=path` if set, else `models/default.csb` (the trained default model,
//! committed by the training pipeline: `make train`).

use std::path::{Path, PathBuf};

use creditscore_core::bundle::Bundle;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = manifest.parent().expect("worker/ sits in the workspace root").to_path_buf();
    let default = root.join("models").join("default.csb");
    println!("cargo:rerun-if-env-changed=CREDITSCORE_BUNDLE");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed={}", default.display());

    let (bytes, origin) = match std::env::var_os("CREDITSCORE_BUNDLE") {
        Some(path) => {
            let path = PathBuf::from(path);
            println!("cargo:rerun-if-changed={}", path.display());
            (read(&path), path.display().to_string())
        }
        None => (read(&default), default.display().to_string()),
    };
    if let Err(e) = Bundle::from_bytes(&bytes) {
        panic!("the bundle from {origin} does not load: {e}");
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("bundle.csb");
    std::fs::write(&out, &bytes).unwrap_or_else(|e| panic!("writing {}: {e}", out.display()));
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("reading the bundle {}: {e}", path.display()))
}
