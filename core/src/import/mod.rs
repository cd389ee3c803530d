//! Model importers: LightGBM text models and XGBoost JSON models become an [`Ensemble`] plus the
//! feature names and category levels needed to build a [`Bundle`].
//!
//! Importers take the file's text (no I/O) and never panic. They only allocate in proportion to
//! the text they are given: every count read from the file is checked against what the file
//! actually holds. The file formats read (LightGBM 2.x-4.x model text, XGBoost 1.0-3.x JSON and
//! UBJSON, the scikit-learn 1.9 HistGradientBoosting export of train/) and the scoring rules
//! followed are listed in docs/MODEL_IMPORT.md.

pub mod lightgbm;
pub mod sklearn;
pub mod ubjson;
pub mod xgboost;

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::bundle::{Bundle, BundleError, BundleSpec, Iterations, Metadata};
use crate::ensemble::{Ensemble, EnsembleError};
use crate::schema::{CategoricalSpec, InputField, InputKind, NumericSpec, Schema, SchemaError, UnknownLevel};

/// Name of the client id field in a schema made without a training spec.
pub const DEFAULT_ID_FIELD: &str = "SK_ID_CURR";

/// Decision threshold of a bundle imported without a training spec.
pub const DEFAULT_THRESHOLD: f64 = 0.5;

/// A model read from a library's file, ready to become a bundle.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportedModel {
    /// The trees, with the library's decision rules, arithmetic and link (validated).
    pub ensemble: Ensemble,
    /// Model feature names, in the model's column order.
    pub feature_names: Vec<String>,
    /// For each model feature, the category labels in code order when the feature is categorical
    /// and the file records its labels (LightGBM `pandas_categorical`, XGBoost `cats`).
    pub categorical_levels: Vec<Option<Vec<String>>>,
    /// Library and format, e.g. "lightgbm text model v4" or "xgboost 3.2.0 json".
    pub source: String,
    /// For each model feature, whether the model treats it as categorical: integer-coded columns
    /// (no labels in the file) included.
    pub categorical: Vec<bool>,
    /// Which boosting iterations of the file the ensemble holds (early stopping).
    pub iterations: Iterations,
}

/// Choices the importers leave to the user.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportOptions {
    /// Keep every tree of a model trained with early stopping. By default the trees after the
    /// file's best iteration are dropped, as the scikit-learn APIs predict (XGBoost's
    /// `XGBClassifier.predict_proba` after `load_model`); `Booster.predict` uses all of them.
    pub all_trees: bool,
}

/// The library that saved a model file (what `creditscore import <library>` names).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Library {
    /// LightGBM text model (`Booster.save_model("model.txt")`), binary objective.
    Lightgbm,
    /// XGBoost JSON or UBJSON model, binary:logistic.
    Xgboost,
    /// scikit-learn HistGradientBoostingClassifier exported by train/ (creditscore-sklearn-hgb JSON).
    Sklearn,
}

impl Library {
    /// The library by its lower-case name (`lightgbm`, `xgboost`, `sklearn`).
    pub fn from_name(name: &str) -> Option<Library> {
        match name {
            "lightgbm" => Some(Library::Lightgbm),
            "xgboost" => Some(Library::Xgboost),
            "sklearn" => Some(Library::Sklearn),
            _ => None,
        }
    }
}

/// Reads a model file's bytes as saved by `library`: the one entry point of the CLI's
/// `creditscore import` and the Python package's `import_model`. A LightGBM or scikit-learn file
/// that is not text is refused with what it looks like (e.g. a binary XGBoost model).
pub fn parse_model(
    library: Library,
    bytes: &[u8],
    options: &ImportOptions,
) -> Result<ImportedModel, ImportError> {
    match library {
        Library::Xgboost => xgboost::parse_bytes(bytes, options),
        Library::Lightgbm | Library::Sklearn => match core::str::from_utf8(bytes) {
            Ok(text) if library == Library::Lightgbm => lightgbm::parse(text),
            Ok(text) => sklearn::parse(text),
            Err(_) => Err(not_text(bytes, library)),
        },
    }
}

/// A LightGBM or scikit-learn model file that is not text: say what it looks like.
fn not_text(bytes: &[u8], library: Library) -> ImportError {
    let what = match xgboost::detect(bytes) {
        xgboost::FileFormat::Ubjson | xgboost::FileFormat::LegacyBinary => {
            "this is a binary XGBoost model: import it with `creditscore import xgboost`"
        }
        _ => match library {
            Library::Lightgbm => {
                "binary content; a LightGBM model is the text of Booster.save_model('model.txt')"
            }
            _ => "binary content; export the model with train/creditscore_train/sklearn_export.py",
        },
    };
    ImportError::Syntax { line: None, tree: None, message: format!("not a text model file ({what})") }
}

/// Fills the metadata a spec may leave out, as `creditscore import` does: `name` (else the spec's,
/// else `fallback_name`, e.g. the model file's stem), `version` (else the spec's, else "1") and
/// `created` (RFC 3339, from the caller's clock: the core has none) when the spec has none.
/// Errors: none in practice (the scorecard scale is left as it is), but the bundle is rebuilt
/// through [`Bundle::with_meta`], which checks.
pub fn complete_meta(
    bundle: Bundle,
    name: Option<String>,
    version: Option<String>,
    fallback_name: &str,
    created: &str,
) -> Result<Bundle, ImportError> {
    let mut meta = bundle.meta().clone();
    if let Some(name) = name {
        meta.name = name;
    } else if meta.name.is_empty() {
        meta.name = fallback_name.to_string();
    }
    if let Some(version) = version {
        meta.version = version;
    } else if meta.version.is_empty() {
        meta.version = "1".to_string();
    }
    if meta.created.is_empty() {
        meta.created = created.to_string();
    }
    bundle.with_meta(meta).map_err(ImportError::Bundle)
}

/// Why a model file cannot be imported. Positions are 1-based lines (LightGBM text) and 0-based
/// tree indices, as the libraries number their trees.
#[derive(Debug, PartialEq)]
#[non_exhaustive]
pub enum ImportError {
    /// The text is not a well-formed model file.
    Syntax {
        /// 1-based line: of the LightGBM model text, or where serde_json stopped parsing an
        /// XGBoost JSON file; `None` otherwise.
        line: Option<usize>,
        /// 0-based tree index, when the problem is inside a tree.
        tree: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// A well-formed model that uses something the scorer does not implement (e.g. a
    /// multiclass objective, a random forest); the message says what to do instead.
    Unsupported {
        /// 1-based line of the LightGBM model text; `None` for the other formats.
        line: Option<usize>,
        /// 0-based tree index, when the problem is inside a tree.
        tree: Option<usize>,
        /// The unsupported part.
        what: String,
    },
    /// The trees do not form a valid ensemble.
    Ensemble(EnsembleError),
    /// The schema (default or from the spec) is unusable.
    Schema(SchemaError),
    /// The spec's `schema.model_features` differ from the model's features.
    SpecFeatures {
        /// 0-based position of the first difference.
        position: usize,
        /// The spec's name there; `None` when the spec's list is shorter.
        spec: Option<String>,
        /// The model's name there; `None` when the model has fewer features.
        model: Option<String>,
    },
    /// A categorical input of the spec lists its levels in another order than the model's codes.
    SpecLevels {
        /// The input.
        feature: String,
        /// The spec's levels.
        spec: Vec<String>,
        /// The model file's category labels, in code order.
        model: Vec<String>,
    },
    /// The assembled bundle fails [`Bundle::new`]'s checks for another reason (e.g. a threshold outside
    /// [0, 1], a bad scorecard scale in the spec's metadata).
    Bundle(BundleError),
}

impl ImportError {
    /// The 1-based line of the model text the error is at, when known.
    pub fn line(&self) -> Option<usize> {
        match self {
            Self::Syntax { line, .. } | Self::Unsupported { line, .. } => *line,
            _ => None,
        }
    }

    /// The message without its `line N` place, for callers that show the line their own way
    /// (the CLI's `path:line: message`); a tree stays as `(tree N): `.
    pub fn message_without_line(&self) -> String {
        struct WithoutLine<'a>(&'a ImportError);
        impl core::fmt::Display for WithoutLine<'_> {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                self.0.write(f, false)
            }
        }
        WithoutLine(self).to_string()
    }

    fn write(&self, f: &mut core::fmt::Formatter<'_>, with_line: bool) -> core::fmt::Result {
        // With the line left out, a tree keeps the parenthesised form it has after a line.
        let place =
            |f: &mut core::fmt::Formatter<'_>, line: &Option<usize>, tree: &Option<usize>| match (line, tree)
            {
                (Some(l), Some(t)) if with_line => write!(f, "line {l} (tree {t}): "),
                (Some(l), None) if with_line => write!(f, "line {l}: "),
                (Some(_), Some(t)) => write!(f, "(tree {t}): "),
                (None, Some(t)) => write!(f, "tree {t}: "),
                (_, None) => Ok(()),
            };
        match self {
            Self::Syntax { line, tree, message } => {
                place(f, line, tree)?;
                write!(f, "{message}")
            }
            Self::Unsupported { line, tree, what } => {
                place(f, line, tree)?;
                write!(f, "unsupported: {what}")
            }
            Self::Ensemble(e) => write!(f, "invalid model: {e}"),
            Self::Schema(e) => write!(f, "{e}"),
            Self::SpecFeatures { position, spec, model } => write!(
                f,
                "spec schema.model_features differs from the model's features at position {position}: \
                 spec has {}, model has {}",
                spec.as_deref().map_or("nothing".to_string(), |s| format!("`{s}`")),
                model.as_deref().map_or("nothing".to_string(), |s| format!("`{s}`")),
            ),
            Self::SpecLevels { feature, spec, model } => write!(
                f,
                "spec categorical `{feature}` has levels {spec:?} but the model's category codes are {model:?} \
                 (same levels in the same order are required)"
            ),
            Self::Bundle(e) => write!(f, "{e}"),
        }
    }
}

impl core::fmt::Display for ImportError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.write(f, true)
    }
}

impl core::error::Error for ImportError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Ensemble(e) => Some(e),
            Self::Schema(e) => Some(e),
            Self::Bundle(e) => Some(e),
            _ => None,
        }
    }
}

impl ImportedModel {
    /// A schema that accepts every model feature as an optional input: numeric, or categorical
    /// with the model's string levels (unknown levels scored as missing), and an optional id.
    pub fn default_schema(&self) -> Result<Schema, ImportError> {
        let inputs = self
            .feature_names
            .iter()
            .zip(&self.categorical_levels)
            .map(|(name, levels)| InputField {
                name: name.clone(),
                required: false,
                nullable: false,
                description: String::new(),
                kind: match levels {
                    Some(levels) => InputKind::Categorical(CategoricalSpec {
                        levels: levels.clone(),
                        unknown: UnknownLevel::Missing,
                        ..Default::default()
                    }),
                    None => InputKind::Numeric(NumericSpec::default()),
                },
            })
            .collect();
        // A model feature may itself be called SK_ID_CURR: the id then takes another name.
        let mut id_field = String::from(DEFAULT_ID_FIELD);
        while self.feature_names.contains(&id_field) {
            id_field.insert(0, '_');
        }
        Schema::new(id_field, false, inputs, Vec::new(), self.feature_names.clone())
            .map_err(ImportError::Schema)
    }

    /// Builds the bundle (through [`Bundle::new`], the checked constructor). Without a spec: the default schema, threshold 0.5, and metadata holding
    /// only the source (the caller names the bundle). With a spec: its metadata, schema, threshold,
    /// selection and reference statistics, after checking that the schema feeds this model.
    pub fn into_bundle(self, spec: Option<BundleSpec>) -> Result<Bundle, ImportError> {
        let spec = match spec {
            None => BundleSpec {
                schema: self.default_schema()?.spec().clone(),
                meta: Metadata {
                    source: self.source,
                    iterations: Some(self.iterations),
                    ..Default::default()
                },
                threshold: DEFAULT_THRESHOLD,
                selection: None,
                reference: None,
            },
            Some(mut spec) => {
                let schema = Schema::try_from(spec.schema).map_err(ImportError::Schema)?;
                check_spec_features(&schema.model_features, &self.feature_names)?;
                check_spec_levels(&schema, &self.feature_names, &self.categorical_levels)?;
                spec.schema = schema.spec().clone();
                if spec.meta.source.is_empty() {
                    spec.meta.source = self.source;
                }
                spec.meta.iterations = Some(self.iterations);
                spec
            }
        };
        Bundle::new(spec, self.ensemble).map_err(|e| match e {
            BundleError::Ensemble(e) => ImportError::Ensemble(e),
            BundleError::Schema(e) => ImportError::Schema(e),
            other => ImportError::Bundle(other),
        })
    }
}

fn check_spec_features(spec: &[String], model: &[String]) -> Result<(), ImportError> {
    for position in 0..spec.len().max(model.len()) {
        let (s, m) = (spec.get(position), model.get(position));
        if s != m {
            return Err(ImportError::SpecFeatures { position, spec: s.cloned(), model: m.cloned() });
        }
    }
    Ok(())
}

/// A categorical model feature fed directly by a categorical input must see the same codes the
/// model was trained with.
fn check_spec_levels(
    schema: &Schema,
    names: &[String],
    levels: &[Option<Vec<String>>],
) -> Result<(), ImportError> {
    for (name, model_levels) in names.iter().zip(levels) {
        let (Some(model_levels), Some(input)) = (model_levels, schema.input(name)) else {
            continue;
        };
        if let InputKind::Categorical(c) = &input.kind
            && &c.levels != model_levels
        {
            return Err(ImportError::SpecLevels {
                feature: name.clone(),
                spec: c.levels.clone(),
                model: model_levels.clone(),
            });
        }
    }
    Ok(())
}

/// Test helper shared by the importers: 3000 seeded random edits of a valid model text, each
/// parsed by `parse`, which must return (an error or a model) and never panic.
#[cfg(test)]
pub(crate) fn random_byte_edits(example: &str, parse: impl Fn(&str)) {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let alphabet = b"0123456789-=.,:[]{}\" \nabcdefTrex";
    for _ in 0..3000 {
        let mut bytes = example.as_bytes().to_vec();
        for _ in 0..1 + next() % 4 {
            let at = (next() % bytes.len() as u64) as usize;
            bytes[at] = alphabet[(next() % alphabet.len() as u64) as usize];
        }
        if let Ok(text) = core::str::from_utf8(&bytes) {
            parse(text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The CLI prints `path:line: message`: the message then leaves the line out, once.
    #[test]
    fn message_without_line_leaves_out_the_line_only() {
        let e = ImportError::Syntax { line: Some(12), tree: Some(3), message: "bad".into() };
        assert_eq!((e.to_string().as_str(), e.line()), ("line 12 (tree 3): bad", Some(12)));
        assert_eq!(e.message_without_line(), "(tree 3): bad");
        let e = ImportError::Unsupported { line: Some(4), tree: None, what: "x".into() };
        assert_eq!(e.message_without_line(), "unsupported: x");
        let e = ImportError::Syntax { line: None, tree: Some(2), message: "x".into() };
        assert_eq!((e.message_without_line().as_str(), e.line()), ("tree 2: x", None));
        assert_eq!(e.to_string(), "tree 2: x");
    }
}
