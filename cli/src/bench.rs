//! `creditscore bench`: scoring speed on one thread, single-record and batch, batch on every
//! thread (`--threads`), plus the time to load a bundle from bytes (paid by an edge worker at every
//! cold start).
use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use creditscore_core::predict::Score;
use creditscore_core::{Bundle, CompiledModel};

use crate::error::CliError;
use crate::input::{CHUNK_ROWS, Record, Validation, for_each_record, read_bundle, thread_count, thread_pool};

#[derive(clap::Args)]
#[command(after_help = "Validation is done once before timing; only scoring (raw score and \
    probability) and explaining (the SHAP values) are timed, except in the 'from a record' figure \
    (JSONL input only): validating a parsed record, scoring it and making its decision, as one \
    request does. The single-record figure uses the model compiled once (as the endpoint \
    and the npm package do; 'compile' is that one-off cost); the batch figure compiles on every \
    pass. The parallel batch figure scores the rows in chunks as `predict` does, with the model \
    compiled once, on --threads threads (default: all cores). The explain figure is the exact \
    TreeSHAP values of one record at a time (what /explain and reason codes compute), timed on the first rows only when one pass over all would exceed a third of --seconds.\nExample: creditscore bench --bundle model.csb --input rows.csv --seconds 3")]
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
    /// Threads of the parallel batch figure ('batch, N thr': the rows in chunks as `predict`
    /// scores them, rows per second of wall-clock time over all N threads; default: every core
    /// the OS reports, or RAYON_NUM_THREADS when set). Every other figure (load, compile, single
    /// record, from a record, batch, explain) is measured on one thread whatever N is.
    #[arg(long, value_name = "N", value_parser = thread_count)]
    threads: Option<std::num::NonZeroUsize>,
}

pub fn run(args: Args) -> Result<(), CliError> {
    if !(args.seconds.is_finite() && args.seconds > 0.0 && args.seconds <= 3600.0) {
        return Err(CliError::Usage(format!("--seconds {} must be in (0, 3600]", args.seconds)));
    }
    let budget = Duration::from_secs_f64(args.seconds);
    let (bytes, bundle) = read_bundle(&args.bundle)?;

    // Load time: decoding (hash check, header, trees, validation). Compile time: the batch
    // layout a server builds once after loading (the worker, the page).
    let (load, loads) = median_time(budget / 4, || Bundle::from_bytes(black_box(&bytes)).is_ok());
    let (compile, compiles) = median_time(budget / 4, || bundle.ensemble().flatten().is_some());
    let model = CompiledModel::new(bundle);
    let (bundle, compiled) = (model.bundle(), model.flat_forest());

    let nf = bundle.ensemble().num_features;
    let mut features: Vec<f64> = Vec::new();
    // The valid JSONL records as parsed, for the from-a-record figure (none for CSV input).
    let mut parsed: Vec<serde_json::Value> = Vec::new();
    let mut validation = Validation::new(&args.input);
    let mut rows = 0usize;
    for_each_record(&args.input, |row, record| {
        if let Some(valid) = validation.check(bundle.schema(), row, &record) {
            features.extend_from_slice(&valid.features);
            rows += 1;
            match record {
                Record::Json(value) => parsed.push(value.clone()),
                Record::Owned(value) => parsed.push(value),
                Record::Fields(_) => {}
            }
        }
        Ok(())
    })?;
    validation.finish()?;
    if rows == 0 {
        return Err(CliError::Usage(format!("{}: no rows to score", args.input.display())));
    }
    let ensemble = &bundle.ensemble();

    // Each measurement repeats whole passes over the rows for the time budget and keeps the
    // fastest pass (least disturbed by other processes), in wall-clock and in this thread's CPU
    // time, like the LightGBM side of bench/bench_vs_lightgbm.py.
    let mut sink = 0.0;
    // Single-record path: one row at a time, as a request handler scores (with the model
    // compiled once, as the service and the wasm package do).
    let single = measure(budget, rows, || {
        for row in features.chunks_exact(nf.max(1)) {
            let raw = match compiled {
                Some(flat) => flat.raw_score(black_box(row)),
                None => ensemble.raw_score(black_box(row)),
            };
            sink += ensemble.probability(raw);
        }
    });
    // From a record: what one request costs the core once its body is parsed (the npm package's
    // `score` of a JS object, the endpoint's /predict of one record): validation, derived
    // features, scoring and the prediction (decision, score points; no reason codes). JSONL only.
    let threshold = bundle.threshold().get();
    let from_record = (parsed.len() == rows).then(|| {
        measure(budget, rows, || {
            for value in &parsed {
                if let Ok(record) = bundle.schema().validate_json(black_box(value), "") {
                    let score = model.score(&record);
                    sink += model.prediction(record, score, threshold, Some(0)).probability;
                }
            }
        })
    });
    // Batch path: all rows at once, as `predict` scores a file.
    let mut out = Vec::with_capacity(rows);
    let batch = measure(budget, rows, || {
        ensemble.raw_scores(black_box(&features), &mut out);
        for &raw in &out {
            sink += ensemble.probability(raw);
        }
    });
    // Parallel batch path: the rows in chunks as `predict` hands them to its workers, with the
    // model compiled once, on every thread of the pool.
    let pool = thread_pool(args.threads)?;
    let threads = pool.current_num_threads();
    let mut outs: Vec<Vec<Score>> = features.chunks(CHUNK_ROWS * nf.max(1)).map(|_| Vec::new()).collect();
    let parallel = measure(budget, rows, || {
        use rayon::prelude::*;
        pool.install(|| {
            features.par_chunks(CHUNK_ROWS * nf.max(1)).zip(outs.par_iter_mut()).for_each(|(chunk, out)| {
                model.score_rows(black_box(chunk), out);
            });
        });
    });
    sink += outs.iter().flatten().map(|s| s.probability).sum::<f64>();
    // Explain path: exact TreeSHAP of one row at a time, as `/explain`, reason codes and the npm
    // package's `explain` compute it (SHAP values only; no names or sorting).
    // With the path data precomputed once (as `predict --explain`, the endpoint and the npm
    // package do).
    model.shap_forest();
    let mut phi = Vec::new();
    // Explaining costs up to ~60 ms a row (1000 trees x 255 leaves), where three passes over every
    // row would take an hour: its passes cover the first rows only, as many as one row's time
    // fits into a third of the budget (at least one row).
    let first = Instant::now();
    model.row_shap_values(&features[..nf], &mut phi);
    let per_row = first.elapsed().as_secs_f64().max(1e-9);
    let explain_rows = ((budget.as_secs_f64() / 3.0 / per_row) as usize).clamp(1, rows);
    let explain = measure(budget, explain_rows, || {
        for row in features.chunks_exact(nf.max(1)).take(explain_rows) {
            model.row_shap_values(black_box(row), &mut phi);
            sink += phi[0];
        }
    });
    black_box(sink);
    let (single_ns, batch_ns) = (single.wall_ns, batch.wall_ns);
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
                "compile_ms": compile.as_secs_f64() * 1e3,
                "single_ns_per_row": single_ns,
                "single_rows_per_s": 1e9 / single_ns,
                "single_cpu_ns_per_row": single.cpu_ns,
                "record_ns_per_row": from_record.as_ref().map(|m| m.wall_ns),
                "record_cpu_ns_per_row": from_record.as_ref().and_then(|m| m.cpu_ns),
                "batch_ns_per_row": batch_ns,
                "batch_rows_per_s": 1e9 / batch_ns,
                "batch_cpu_ns_per_row": batch.cpu_ns,
                "threads": threads,
                "parallel_ns_per_row": parallel.wall_ns,
                "parallel_rows_per_s": 1e9 / parallel.wall_ns,
                "explain_ns_per_row": explain.wall_ns,
                "explain_cpu_ns_per_row": explain.cpu_ns,
            })
        );
    } else {
        println!(
            "bundle {} ({} bytes, {trees} trees, {leaves} leaves), {rows} rows, one thread",
            args.bundle.display(),
            bytes.len()
        );
        println!("load from bytes : {:10.3} ms (median of {})", load.as_secs_f64() * 1e3, loads);
        println!("compile         : {:10.3} ms (median of {})", compile.as_secs_f64() * 1e3, compiles);
        let cpu = |m: &Measure| m.cpu_ns.map_or(String::new(), |c| format!(" ({c:.1} ns/row CPU time)"));
        println!(
            "single record   : {:10.0} rows/s {:10.1} ns/row{}",
            1e9 / single_ns,
            single_ns,
            cpu(&single)
        );
        if let Some(m) = &from_record {
            println!(
                "from a record   : {:10.0} rows/s {:10.1} ns/row{} (validate + score + decision)",
                1e9 / m.wall_ns,
                m.wall_ns,
                cpu(m)
            );
        }
        println!("batch           : {:10.0} rows/s {:10.1} ns/row{}", 1e9 / batch_ns, batch_ns, cpu(&batch));
        println!(
            "batch, {threads:2} thr   : {:10.0} rows/s {:10.1} ns/row (wall-clock)",
            1e9 / parallel.wall_ns,
            parallel.wall_ns
        );
        println!(
            "explain (SHAP)  : {:10.0} rows/s {:10.1} ns/row{}",
            1e9 / explain.wall_ns,
            explain.wall_ns,
            cpu(&explain)
        );
    }
    Ok(())
}

/// Median duration of `step` repeated for `budget` (at least 5, at most 1000 times), and the count.
fn median_time(budget: Duration, mut step: impl FnMut() -> bool) -> (Duration, usize) {
    let mut times = Vec::new();
    let start = Instant::now();
    while times.len() < 5 || (start.elapsed() < budget && times.len() < 1000) {
        let t = Instant::now();
        black_box(step());
        times.push(t.elapsed());
    }
    times.sort();
    (times[times.len() / 2], times.len())
}

struct Measure {
    /// Fastest pass, wall-clock, per row.
    wall_ns: f64,
    /// Fastest pass in this thread's CPU time, per row (where the platform has a thread CPU clock).
    cpu_ns: Option<f64>,
}

/// Runs `pass` (one pass over `rows` rows) repeatedly for `budget` (at least 3 times).
fn measure(budget: Duration, rows: usize, mut pass: impl FnMut()) -> Measure {
    let (mut wall, mut cpu) = (f64::INFINITY, f64::INFINITY);
    let start = Instant::now();
    let mut passes = 0;
    while passes < 3 || start.elapsed() < budget {
        let (t, c) = (Instant::now(), thread_cpu_ns());
        pass();
        wall = wall.min(t.elapsed().as_secs_f64() * 1e9);
        if let (Some(c0), Some(c1)) = (c, thread_cpu_ns()) {
            cpu = cpu.min(c1.saturating_sub(c0) as f64);
        }
        passes += 1;
    }
    let n = rows.max(1) as f64;
    Measure { wall_ns: wall / n, cpu_ns: cpu.is_finite().then_some(cpu / n) }
}

/// CPU time of the calling thread in ns: `clock_gettime(CLOCK_THREAD_CPUTIME_ID)` through the
/// cpu-time crate (exact at any moment; /proc/thread-self/schedstat, read before, only advances at
/// scheduler events and so read 0 for a busy thread). `None` where the platform has no such clock.
fn thread_cpu_ns() -> Option<u64> {
    let time = cpu_time::ThreadTime::try_now().ok()?;
    u64::try_from(time.as_duration().as_nanos()).ok()
}
