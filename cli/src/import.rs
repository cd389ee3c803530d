//! `creditscore import`: a LightGBM text model, an XGBoost JSON or UBJSON model, or a
//! scikit-learn HistGradientBoostingClassifier exported by train/ becomes a bundle (what each
//! reads: docs/MODEL_IMPORT.md).
use std::path::{Path, PathBuf};

use creditscore_core::bundle::BundleSpec;
use creditscore_core::bundle::Iterations;
use creditscore_core::import::{self, ImportError, ImportOptions};

use crate::error::CliError;
use crate::input::write_bundle;

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Library {
    /// LightGBM text model (`Booster.save_model("model.txt")`), binary objective.
    Lightgbm,
    /// XGBoost JSON or UBJSON model (`Booster.save_model("model.json")` / "model.ubj"),
    /// binary:logistic.
    Xgboost,
    /// scikit-learn HistGradientBoostingClassifier exported by train/ (creditscore-sklearn-hgb JSON).
    Sklearn,
}

#[derive(clap::Args)]
#[command(after_help = "Examples:\n  creditscore import lightgbm model.txt --out model.csb\n  \
    creditscore import xgboost model.json --out model.csb --spec bundle_spec.json\n  \
    creditscore import xgboost model.ubj --out model.csb\n  \
    creditscore import sklearn model.json --out model.csb\n\
    Which versions and model kinds are read, and every refusal: docs/MODEL_IMPORT.md")]
pub struct Args {
    /// Library that saved the model.
    #[arg(value_enum)]
    library: Library,
    /// The model file: LightGBM text (.txt), XGBoost JSON (.json) or UBJSON (.ubj; told apart
    /// by content), or the scikit-learn export's JSON.
    model: PathBuf,
    /// Where to write the bundle (.csb).
    #[arg(long)]
    out: PathBuf,
    /// Training spec (JSON: meta, schema, threshold, selection, reference) from the training
    /// pipeline. Without it every model feature is an optional input and the threshold is 0.5.
    #[arg(long)]
    spec: Option<PathBuf>,
    /// Bundle name (default: the spec's, else the model file name without extension).
    #[arg(long)]
    name: Option<String>,
    /// Bundle version (default: the spec's, else "1").
    #[arg(long)]
    version: Option<String>,
    /// Keep every tree of a model trained with early stopping. By default an XGBoost model that
    /// records `best_iteration` keeps the trees up to it, as XGBClassifier.predict_proba does
    /// (Booster.predict uses all trees).
    #[arg(long)]
    all_trees: bool,
}

pub fn run(args: Args) -> Result<(), CliError> {
    let bytes = std::fs::read(&args.model).map_err(CliError::io(&args.model))?;
    let options = ImportOptions { all_trees: args.all_trees };
    let library = match args.library {
        Library::Lightgbm => import::Library::Lightgbm,
        Library::Xgboost => import::Library::Xgboost,
        Library::Sklearn => import::Library::Sklearn,
    };
    let imported =
        import::parse_model(library, &bytes, &options).map_err(|e| import_error(&args.model, e))?;
    let spec = match &args.spec {
        Some(path) => {
            let bytes = std::fs::read(path).map_err(CliError::io(path))?;
            let spec: BundleSpec = serde_json::from_slice(&bytes).map_err(|e| CliError::Parse {
                path: path.clone(),
                line: e.line() as u64,
                reason: format!("not a bundle spec (meta, schema, threshold, selection, reference): {e}"),
            })?;
            Some(spec)
        }
        None => None,
    };
    let has_spec = spec.is_some();
    let (trees, features) = (imported.ensemble.trees.len(), imported.feature_names.len());
    let categorical = imported.categorical.iter().filter(|&&c| c).count();
    let iterations = imported.iterations.clone();
    let stem = args.model.file_stem().map_or("model".into(), |s| s.to_string_lossy().into_owned());
    let mut bundle = imported
        .into_bundle(spec)
        .and_then(|b| import::complete_meta(b, args.name, args.version, &stem, &now_rfc3339()))
        .map_err(|e| {
            let file = args.spec.as_deref().unwrap_or(&args.model);
            CliError::Usage(format!("{}: {e}", file.display()))
        })?;
    let bytes = write_bundle(&mut bundle, &args.out)?;
    eprintln!(
        "{}: {} -> {} ({} trees, {}, {features} features of which {categorical} categorical, {}; \
         {} bytes, sha256 {})",
        bundle.meta().name,
        args.model.display(),
        args.out.display(),
        trees,
        describe_iterations(&iterations),
        if has_spec { "schema from the spec" } else { "every feature an optional input" },
        bytes.len(),
        bundle.sha256()
    );
    Ok(())
}

/// The import summary's account of early stopping.
fn describe_iterations(it: &Iterations) -> String {
    match (it.best_iteration, it.rule.as_str()) {
        (Some(best), "best_iteration") => format!(
            "iterations 0..={best} of {} (best_iteration {best}, as XGBClassifier.predict_proba; \
             --all-trees keeps all)",
            it.in_file
        ),
        (Some(best), _) => {
            format!("all {} iterations (--all-trees; the file's best_iteration is {best})", it.in_file)
        }
        (None, _) => format!("all {} iterations (no best iteration recorded)", it.in_file),
    }
}

fn import_error(path: &Path, e: ImportError) -> CliError {
    match e.line() {
        Some(line) => {
            CliError::Parse { path: path.into(), line: line as u64, reason: e.message_without_line() }
        }
        None => CliError::Usage(format!("{}: {e}", path.display())),
    }
}

/// Current UTC time as RFC 3339 (the bundle's `created`); the core has no clock.
fn now_rfc3339() -> String {
    let secs =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
    creditscore_core::time::rfc3339_utc_seconds(secs)
}
