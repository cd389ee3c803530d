//! Any bytes given to the bundle loader give a bundle or an error: never a panic, never an
//! unbounded allocation. Inputs that start with the magic get their checksum fixed up, so the
//! fuzzer explores the parser behind the hash check, and every bundle that loads is scored and
//! explained on a few rows (a loaded bundle must be safe to use), and batch-scored on enough rows
//! to take the compiled batch layout, which must give the single-record bits.
// libfuzzer-sys supplies `main` (it drives the `fuzz_target!` body).
#![no_main]
use creditscore_core::{Bundle, BundleError};
use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};

/// A load's outcome as comparable bits: the bundle's encoding, or the error.
fn encode(loaded: &Result<Bundle, BundleError>) -> Result<Result<Vec<u8>, BundleError>, &BundleError> {
    loaded.as_ref().map(|b| b.clone().to_bytes())
}

fuzz_target!(|data: &[u8]| {
    let mut bytes = data.to_vec();
    if bytes.len() >= 44 && bytes.starts_with(b"CSBUNDLE") {
        let digest = Sha256::digest(&bytes[44..]);
        bytes[12..44].copy_from_slice(&digest);
    }
    let loaded = Bundle::from_bytes(&bytes);
    // With the checksum right, skipping it (the worker's compiled-in bundle) changes nothing.
    // Compared through the encoding, bit for bit: a bundle may hold NaN leaf values, which
    // `PartialEq` never finds equal to themselves.
    assert_eq!(encode(&Bundle::from_checked_bytes(&bytes)), encode(&loaded), "from_checked_bytes disagrees");
    if let Ok(bundle) = loaded {
        let n = bundle.ensemble().num_features;
        for fill in [f64::NAN, 0.0, -1e30, 1e30, 0.5, 1e-36] {
            let row = vec![fill; n];
            let raw = bundle.ensemble().raw_score(&row);
            let _ = bundle.ensemble().probability(raw);
            let mut phi = Vec::new();
            creditscore_core::shap::tree_shap(bundle.ensemble(), &row, &mut phi);
        }
        // Values around split thresholds and category codes, mixed across rows and features.
        let values =
            [f64::NAN, 0.0, -0.0, 1.0, 2.0, 3.0, 31.0, 32.0, 57.0, 63.5, 64.0, -1.0, 1e9, 0.37, -1e30, 1e-36];
        let rows = creditscore_core::ensemble::FLAT_MIN_ROWS + 3;
        let batch: Vec<f64> =
            (0..rows * n).map(|i| values[(i * 7 + i / n.max(1) * 3) % values.len()]).collect();
        let mut raw = Vec::new();
        bundle.ensemble().raw_scores(&batch, &mut raw);
        for (r, row) in batch.chunks_exact(n.max(1)).enumerate().take(raw.len()) {
            assert_eq!(raw[r].to_bits(), bundle.ensemble().raw_score(row).to_bits(), "batch row {r} differs");
        }
    }
});
