//! `creditscore`: the native command line over the scoring core.
mod bench;
mod convert;
mod drift;
mod error;
mod features;
mod import;
mod input;
mod logs;
mod predict;
mod progress;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use error::CliError;

#[derive(Parser)]
#[command(
    name = "creditscore",
    version,
    about = "Credit-default scoring: import models, score, explain, monitor"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Turn a LightGBM text model, an XGBoost JSON or UBJSON model, or a scikit-learn
    /// HistGradientBoostingClassifier (exported by train/) into a bundle.
    Import(import::Args),
    /// Rewrite a bundle in the current format (format 2; reads 1 and 2); --force to replace a file.
    Convert(convert::Args),
    /// Print a bundle's format version and header (meta, schema, threshold, selection, reference,
    /// model) as JSON.
    Header(convert::HeaderArgs),
    /// Measure scoring speed (single-record and batch on one thread, batch on every thread) and bundle load time.
    Bench(bench::Args),
    /// Score rows (CSV or JSONL) with a bundle; optionally explain each score (SHAP).
    Predict(predict::Args),
    /// Compute the model feature matrix of raw rows (what training and serving both feed the model).
    Features(features::Args),
    /// Data-drift report from prediction logs: DIR/drift_report.html and DIR/drift_summary.json.
    Drift(drift::Args),
    /// Prediction logs of the edge endpoint: `logs pull` downloads them (GET /logs) into a JSONL file.
    Logs(logs::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Import(args) => import::run(args).map(|()| 0),
        Command::Convert(args) => convert::run(args).map(|()| 0),
        Command::Header(args) => convert::header(args).map(|()| 0),
        Command::Bench(args) => bench::run(args).map(|()| 0),
        Command::Predict(args) => predict::run(args).map(|()| 0),
        Command::Features(args) => features::run(args).map(|()| 0),
        Command::Drift(args) => drift::run(args).map(|ending| ending.exit_code()),
        Command::Logs(args) => logs::run(args).map(|()| 0),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
