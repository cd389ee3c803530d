//! `creditscore bench`: scoring speed on one thread, single-record and batch, plus the time to
//! load a bundle from bytes (paid by an edge worker at every cold start).
use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use creditscore_core::Bundle;

use crate::error::CliError;
use crate::input::{Validation, for_each_record};

#[derive(clap::Args)]
#[command(after_help = "Validation is done once before timing; only scoring (raw score and \
    probability) is timed.\nExample: creditscore bench --bundle model.csb --input rows.csv --seconds 3")]
pub struct Args {
    /// Model bundle (.csb).
    #[arg(long)]
    bundle: PathBuf,
    /// Rows to score (CSV with a header, or JSONL), validated against the bundle's schema.
    #[arg(long)]
    input: PathBuf,
    /// Time spent on each measurement, in seconds.
    #[arg(long, default_value_t = 2.0)]
    seconds: f64,
    /// Print one JSON object instead of text (for scripts).
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<(), CliError> {
    if !(args.seconds.is_finite() && args.seconds > 0.0 && args.seconds <= 3600.0) {
        return Err(CliError::Usage(format!("--seconds {} must be in (0, 3600]", args.seconds)));
    }
    let budget = Duration::from_secs_f64(args.seconds);
    let bytes = std::fs::read(&args.bundle).map_err(CliError::io(&args.bundle))?;
    let bundle = Bundle::from_bytes(&bytes)
        .map_err(|source| CliError::Bundle { path: args.bundle.clone(), source })?;

    // Load time: the median of repeated decodes (hash check, JSON header, trees, validation).
    let mut loads = Vec::new();
    let start = Instant::now();
    while loads.len() < 5 || (start.elapsed() < budget / 4 && loads.len() < 1000) {
        let t = Instant::now();
        black_box(Bundle::from_bytes(black_box(&bytes)).is_ok());
        loads.push(t.elapsed());
    }
    loads.sort();
    let load = loads[loads.len() / 2];

    let nf = bundle.ensemble.num_features;
    let mut features: Vec<f64> = Vec::new();
    let mut validation = Validation::new(&args.input);
    let mut rows = 0usize;
    for_each_record(&args.input, |row, record| {
        if let Some(valid) = validation.check(&bundle.schema, row, &record) {
            features.extend_from_slice(&valid.features);
            rows += 1;
        }
        Ok(())
    })?;
    validation.finish()?;
    if rows == 0 {
        return Err(CliError::Usage(format!("{}: no rows to score", args.input.display())));
    }
    let ensemble = &bundle.ensemble;

    // Single-record path: one row at a time, as a request handler scores.
    let mut sink = 0.0;
    let mut single_rows = 0u64;
    let start = Instant::now();
    while start.elapsed() < budget {
        for row in features.chunks_exact(nf.max(1)) {
            let raw = ensemble.raw_score(black_box(row));
            sink += ensemble.probability(raw);
        }
        single_rows += rows as u64;
    }
    let single = start.elapsed();

    // Batch path: all rows at once, as `predict` scores a file.
    let mut out = Vec::with_capacity(rows);
    let mut batch_rows = 0u64;
    let start = Instant::now();
    while start.elapsed() < budget {
        ensemble.raw_scores(black_box(&features), &mut out);
        for &raw in &out {
            sink += ensemble.probability(raw);
        }
        batch_rows += rows as u64;
    }
    let batch = start.elapsed();
    black_box(sink);

    let per_row = |d: Duration, n: u64| d.as_secs_f64() * 1e9 / n as f64;
    let (single_ns, batch_ns) = (per_row(single, single_rows), per_row(batch, batch_rows));
    let trees = ensemble.trees.len();
    let leaves: usize = ensemble.trees.iter().map(|t| t.leaf_values.len()).sum();
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "bundle": args.bundle.display().to_string(),
                "bundle_bytes": bytes.len(),
                "rows": rows,
                "trees": trees,
                "leaves": leaves,
                "load_ms": load.as_secs_f64() * 1e3,
                "single_ns_per_row": single_ns,
                "single_rows_per_s": 1e9 / single_ns,
                "batch_ns_per_row": batch_ns,
                "batch_rows_per_s": 1e9 / batch_ns,
            })
        );
    } else {
        println!(
            "bundle {} ({} bytes, {trees} trees, {leaves} leaves), {rows} rows, one thread",
            args.bundle.display(),
            bytes.len()
        );
        println!("load from bytes : {:10.3} ms (median of {})", load.as_secs_f64() * 1e3, loads.len());
        println!("single record   : {:10.0} rows/s {:10.1} ns/row", 1e9 / single_ns, single_ns);
        println!("batch           : {:10.0} rows/s {:10.1} ns/row", 1e9 / batch_ns, batch_ns);
    }
    Ok(())
}
