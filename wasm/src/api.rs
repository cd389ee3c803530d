//! The package's operations over a loaded bundle, in plain Rust (no JS types), so they are unit
//! tested natively. Validation, scoring and explanation are core's; this module only shapes the
//! answers like the HTTP API's and names what went wrong.

use std::collections::BTreeMap;
use std::fmt;

use creditscore_core::predict::{Prediction, valid_threshold};
use creditscore_core::schema::{FieldIssue, IssueCode, RawValue};
use creditscore_core::{Bundle, BundleError, CompiledModel, ValidRecord, Warning};
use serde::Serialize;

/// Path prefix of a single record's fields, as in the HTTP body `{"data": record}`.
pub const SINGLE_PREFIX: &str = "data.";

/// Everything the package can refuse, with the HTTP API's error codes.
#[derive(Debug)]
pub enum ApiError {
    /// The bytes are not a usable bundle.
    InvalidBundle(BundleError),
    /// An argument of the wrong kind (e.g. the bundle is not bytes, the batch is not an array).
    InvalidArgument(String),
    /// One or more fields (or the threshold) are invalid; every problem is listed.
    Validation(Vec<FieldIssue>),
}

impl ApiError {
    /// Machine-readable code, the `error.code` of the HTTP API.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::InvalidBundle(_) => "invalid_bundle",
            ApiError::InvalidArgument(_) => "invalid_argument",
            ApiError::Validation(_) => "validation_error",
        }
    }

    pub fn details(&self) -> &[FieldIssue] {
        match self {
            ApiError::Validation(issues) => issues,
            _ => &[],
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::InvalidBundle(e) => write!(f, "cannot load the model bundle: {e}"),
            ApiError::InvalidArgument(what) => f.write_str(what),
            ApiError::Validation(issues) => {
                // The first few issues in the message; all of them are in `details`.
                const SHOWN: usize = 3;
                let n = issues.len();
                write!(f, "{n} invalid field{}: ", if n == 1 { "" } else { "s" })?;
                for (i, issue) in issues.iter().take(SHOWN).enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{}: {} (expected {})", issue.path, issue.reason, issue.expected)?;
                }
                if n > SHOWN {
                    write!(f, "; and {} more", n - SHOWN)?;
                }
                Ok(())
            }
        }
    }
}

/// Outcome of `validate`: never an exception for a bad record.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Validation {
    pub valid: bool,
    pub sk_id_curr: Option<i64>,
    pub errors: Vec<FieldIssue>,
    pub warnings: Vec<Warning>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelInfo<'a> {
    pub name: &'a str,
    pub version: &'a str,
    pub created: &'a str,
    pub source: &'a str,
    pub sha256: &'a str,
    pub threshold: f64,
    pub num_features: usize,
    pub num_trees: usize,
    pub metrics: &'a BTreeMap<String, f64>,
    /// The free-form `training` metadata as JSON text: the JS half of `metadata` parses it
    /// (JSON.parse), so that the wasm carries no JSON parser.
    #[serde(skip)]
    pub training: &'a str,
}

/// A loaded bundle and the operations of the package. Scored and explained records are the
/// core's [`Prediction`] with every part set (threshold, raw score, warnings even when empty).
pub struct Scorer {
    /// The bundle with its compiled trees, for every call of the page or process (the TreeSHAP
    /// path data is built on the first call that explains or gives reasons).
    model: CompiledModel,
}

impl Scorer {
    pub fn from_bytes(bytes: &[u8]) -> Result<Scorer, ApiError> {
        CompiledModel::from_bytes(bytes).map(|model| Scorer { model }).map_err(ApiError::InvalidBundle)
    }

    /// The loaded bundle.
    pub fn bundle(&self) -> &Bundle {
        self.model.bundle()
    }

    /// The decision threshold to use: the bundle's when none is given.
    pub fn threshold(&self, requested: Option<f64>) -> Result<f64, ApiError> {
        match requested {
            None => Ok(self.bundle().threshold().get()),
            Some(t) if valid_threshold(t) => Ok(t),
            Some(t) => Err(ApiError::Validation(vec![FieldIssue {
                path: "threshold".into(),
                code: IssueCode::OutOfRange,
                reason: format!("{t} is not a probability"),
                expected: "a number in [0, 1]".into(),
            }])),
        }
    }

    /// Validates one record given as (field, value) pairs; `prefix` goes before issue paths.
    pub fn check<'a, I>(&self, fields: I, prefix: &str) -> Result<ValidRecord, Vec<FieldIssue>>
    where
        I: IntoIterator<Item = (&'a str, RawValue<'a>)>,
    {
        self.bundle().schema().validate(fields, prefix)
    }

    /// Validates one record whose values are already at their schema positions (the id field's,
    /// then each input's): the same outcome as [`Scorer::check`] given them by name.
    pub fn check_inputs(
        &self,
        id: Option<RawValue<'_>>,
        inputs: &[Option<RawValue<'_>>],
        prefix: &str,
    ) -> Result<ValidRecord, Vec<FieldIssue>> {
        self.bundle().schema().validate_inputs(id, inputs, prefix)
    }

    /// `reasons`: how many reason codes for every record; `None` = the default (4 for a
    /// refused record, none for an accepted one), as the HTTP API's `?reasons=N`.
    pub fn predict(&self, record: ValidRecord, threshold: f64, reasons: Option<usize>) -> Prediction {
        let score = self.model.score(&record);
        self.model.prediction(record, score, threshold, reasons)
    }

    /// Scores validated records together (trees walked over blocks of rows; same bits as one
    /// by one).
    pub fn predict_many(
        &self,
        records: Vec<ValidRecord>,
        threshold: f64,
        reasons: Option<usize>,
    ) -> Vec<Prediction> {
        let scores = self.model.score_records(&records);
        records
            .into_iter()
            .zip(scores)
            .map(|(record, score)| self.model.prediction(record, score, threshold, reasons))
            .collect()
    }

    /// A requested number of reason codes, checked like the HTTP API's `?reasons=N`.
    pub fn reasons(&self, requested: Option<f64>) -> Result<Option<usize>, ApiError> {
        let max = self.bundle().schema().num_model_features();
        match requested {
            None => Ok(None),
            Some(n) if n >= 0.0 && n <= max as f64 && n.fract() == 0.0 => Ok(Some(n as usize)),
            Some(n) => Err(ApiError::Validation(vec![FieldIssue {
                path: "reasons".into(),
                code: IssueCode::OutOfRange,
                reason: format!("{n} is not a whole number from 0 to {max}"),
                expected: format!("how many reason codes to return, 0 to {max}"),
            }])),
        }
    }

    /// One explained record: the entry of the HTTP API's `explanations` array, with the
    /// threshold and (possibly empty) warnings.
    pub fn explain(&self, record: ValidRecord, threshold: f64) -> Prediction {
        self.model.explained(record, threshold)
    }

    pub fn validation(&self, outcome: Result<ValidRecord, Vec<FieldIssue>>) -> Validation {
        match outcome {
            Ok(r) => Validation { valid: true, sk_id_curr: r.id, errors: Vec::new(), warnings: r.warnings },
            Err(errors) => Validation { valid: false, sk_id_curr: None, errors, warnings: Vec::new() },
        }
    }

    pub fn info(&self) -> ModelInfo<'_> {
        let b = self.bundle();
        ModelInfo {
            name: &b.meta().name,
            version: &b.meta().version,
            created: &b.meta().created,
            source: &b.meta().source,
            sha256: b.sha256(),
            threshold: b.threshold().get(),
            num_features: b.ensemble().num_features,
            num_trees: b.ensemble().trees.len(),
            metrics: &b.meta().metrics,
            training: b.meta().training.as_str(),
        }
    }
}

/// Path prefix of record `index` of a batch, as in the HTTP body `{"data": [records]}`.
pub fn batch_prefix(index: usize) -> String {
    format!("data[{index}].")
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod ts_types;
