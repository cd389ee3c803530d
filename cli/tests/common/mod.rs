//! What every CLI integration test needs, written once: the repository root, a fresh scratch
//! directory, and the real `creditscore` binary run with arguments. Each file of cli/tests is its
//! own test crate and includes this module with `mod common;`.
// Not every test crate uses every helper.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::fmt::Debug;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root (the parent of cli/).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("cli/ has a parent").to_path_buf()
}

/// An empty directory `<cargo target tmp>/<suite>/<name>`, cleared first so that a test never
/// reads a previous run's output.
pub fn scratch(suite: &str, name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(suite).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Runs the `creditscore` binary built for this test run.
pub fn run<S: AsRef<OsStr>>(args: &[S]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_creditscore")).args(args).output().expect("binary runs")
}

/// Runs and asserts success (the message quotes stderr).
pub fn succeeds<S: AsRef<OsStr> + Debug>(args: &[S]) -> Output {
    let out = run(args);
    assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    out
}

/// Runs, asserts the exit code, returns stderr (where the error message is).
pub fn fails_with<S: AsRef<OsStr> + Debug>(args: &[S], code: i32) -> String {
    let out = run(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
    stderr
}

/// A path as a `&str` argument (test paths are UTF-8).
pub fn path(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}
