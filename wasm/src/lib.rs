//! WebAssembly bindings over creditscore-core: the `creditscore` npm package.
//!
//! A thin adapter: records are validated by the core's schema and scored and explained by the
//! core's bundle. This crate converts between JS values and core types and turns every problem
//! into a JS `Error` carrying the HTTP API's `code` and `details`. No input reaches a panic: a
//! panic would abort the wasm instance.

mod api;
mod js;

pub use api::{ApiError, Prediction, RecordExplanation, Scorer, Validation};

use creditscore_core::ValidRecord;
use creditscore_core::schema::FieldIssue;
use creditscore_core::service::features_document;
use wasm_bindgen::prelude::*;

use crate::js::{
    JsRecord, read_array, read_bytes, read_reasons, read_record, read_threshold, to_js, to_js_error,
};

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** A client record: feature name -> value (numbers as numbers, categories as strings). */
export type ClientRecord = Record<string, number | string | boolean | null | undefined>;

/** What is wrong with one field: an entry of the HTTP API's 422 `details`. */
export interface FieldIssue {
  /** `data.AMT_CREDIT` for a single record, `data[3].AMT_CREDIT` in a batch. */
  path: string;
  code: "not_an_object" | "missing_required" | "wrong_type" | "not_integer" | "not_finite"
    | "out_of_range" | "unknown_category" | "unknown_field" | "too_many_issues";
  reason: string;
  expected: string;
}

/** A plausible value outside what training saw: scored, and reported. */
export interface Warning {
  field: string;
  code: "outside_training_range" | "sentinel_value" | "unknown_category_as_missing";
  message: string;
}

/** A feature that pushed the score towards refusal (largest positive SHAP contributions). */
export interface Reason {
  /** Stable code `<FEATURE>.<direction>`, direction one of low, high, value, level, missing, flag. */
  code: string;
  /** Model feature. */
  feature: string;
  /** The value the model saw: a number, a category level, or null when missing. */
  value: number | string | null;
  /** Training median or most frequent level (a ratio: ratio of its inputs' typical values). */
  typical: number | string | null;
  /** The inputs a derived feature comes from (empty for an input). */
  inputs: Array<{ name: string; value: number | string | null; typical: number | string | null }>;
  /** SHAP value in raw-score (log-odds) units, > 0. */
  contribution: number;
  /** e.g. "EXT_SOURCE_3 is low: 0.21, typical 0.51". */
  sentence: string;
}

export interface Prediction {
  sk_id_curr: number | null;
  /** Probability of default. */
  probability: number;
  /** Score points on the bundle's scorecard scale (default 600 at 50:1 good:bad odds, 20 points
   * to double the odds): higher = safer. */
  score: number;
  /** 1 = predicted default = refuse (probability >= threshold), 0 = accept. */
  prediction: 0 | 1;
  /** Margin (log-odds) before the link function. */
  raw_score: number;
  /** The threshold the decision used. */
  threshold: number;
  warnings: Warning[];
  /** Present for a refused record (4 reasons), or for every record when `reasons` was given. */
  reasons?: Reason[];
}

export interface Contribution {
  feature: string;
  /** The value the model saw: a number, a category level, or null when missing. */
  value: number | string | null;
  /** SHAP value in raw-score (log-odds) units. */
  contribution: number;
}

export interface Explanation {
  sk_id_curr: number | null;
  /** Decision at `threshold`, as in `Prediction`. */
  prediction: 0 | 1;
  threshold: number;
  /** Expected raw score over the training data (SHAP bias). */
  base_value: number;
  raw_score: number;
  probability: number;
  /** Score points, as in `Prediction`. */
  score: number;
  /** One per model feature, largest |contribution| first; base_value + sum = raw_score. */
  contributions: Contribution[];
  warnings: Warning[];
}

export interface ValidationResult {
  valid: boolean;
  sk_id_curr: number | null;
  errors: FieldIssue[];
  warnings: Warning[];
}

export interface ModelMetadata {
  name: string;
  version: string;
  created: string;
  source: string;
  sha256: string;
  /** Business-optimal decision threshold chosen in training. */
  threshold: number;
  num_features: number;
  num_trees: number;
  metrics: Record<string, number>;
  training: unknown;
}

export interface ValueRange {
  min: number | null;
  max: number | null;
}

/** One input as the HTTP API's `GET /features` describes it. */
export interface InputDescription {
  name: string;
  type: "number" | "integer" | "category";
  unit?: string;
  /** Physically possible values: outside is rejected. */
  valid_range?: ValueRange;
  /** Values seen in training: outside is scored with a warning. */
  training_range?: ValueRange;
  sentinel?: { value: number; meaning: string };
  levels?: string[];
  aliases?: Record<string, string>;
  example: number | string | null;
  /** Value used when the input is absent (optional inputs; null = missing). */
  default?: number | string | null;
  nullable: boolean;
  /** Human description of accepted values. */
  expected: string;
  description?: string;
}

/** The HTTP API's `GET /features[?include_all=true]` body. */
export interface FeaturesDocument {
  model_version: string;
  id_field: { name: string; type: "integer"; required: boolean; example: number };
  required_features: string[];
  required: InputDescription[];
  optional?: InputDescription[];
  derived?: Array<{ name: string; op: string; [argument: string]: string }>;
  model_features?: string[];
  threshold?: number;
  feature_selection?: {
    method: string;
    top_n: number;
    min_corr: number;
    scores: Array<{ feature: string; score: number }>;
    selected: string[];
  } | null;
}

/** Thrown for a bad bundle, a bad argument or an invalid record. */
export interface CreditScoreError extends Error {
  name: "CreditScoreError";
  code: "invalid_bundle" | "invalid_argument" | "validation_error";
  /** Every field problem (empty unless code is "validation_error"). */
  details: FieldIssue[];
}
"#;

/// A loaded model bundle. Methods take and return plain JS objects.
#[wasm_bindgen]
pub struct CreditScorer {
    scorer: Scorer,
}

#[wasm_bindgen]
impl CreditScorer {
    /// Loads a bundle (`.csb` bytes); throws a CreditScoreError (code "invalid_bundle") when
    /// the bytes are not a usable bundle.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "Uint8Array | ArrayBuffer")] bytes: JsValue,
    ) -> Result<CreditScorer, JsValue> {
        let bytes = read_bytes(&bytes).map_err(to_js_error)?;
        Scorer::from_bytes(&bytes).map(|scorer| CreditScorer { scorer }).map_err(to_js_error)
    }

    /// The bundle's business-optimal decision threshold.
    #[wasm_bindgen(getter)]
    pub fn threshold(&self) -> f64 {
        self.scorer.bundle().threshold
    }

    /// Name, version, sha256, source, metrics and threshold of the bundle.
    #[wasm_bindgen(getter, unchecked_return_type = "ModelMetadata")]
    pub fn metadata(&self) -> Result<JsValue, JsValue> {
        to_js(&self.scorer.info())
    }

    /// Probability of default, score points and decision for one record (at `threshold`,
    /// default the bundle's), with reason codes for a refused record (or `reasons` of them for
    /// any record; 0 = none). Throws a CreditScoreError listing every invalid field.
    #[wasm_bindgen(unchecked_return_type = "Prediction")]
    pub fn score(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ClientRecord")] record: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "number | null")] threshold: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "number | null")] reasons: JsValue,
    ) -> Result<JsValue, JsValue> {
        let threshold = self.threshold_arg(threshold).map_err(to_js_error)?;
        let reasons = self.reasons_arg(reasons).map_err(to_js_error)?;
        let record = self.valid_record(&record, api::SINGLE_PREFIX).map_err(to_js_error)?;
        to_js(&self.scorer.predict(record, threshold, reasons))
    }

    /// Scores an array of records. Throws one CreditScoreError listing the problems of every
    /// record (paths `data[i].FIELD`) when any is invalid.
    #[wasm_bindgen(js_name = scoreBatch, unchecked_return_type = "Prediction[]")]
    pub fn score_batch(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ClientRecord[]")] records: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "number | null")] threshold: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "number | null")] reasons: JsValue,
    ) -> Result<JsValue, JsValue> {
        let threshold = self.threshold_arg(threshold).map_err(to_js_error)?;
        let reasons = self.reasons_arg(reasons).map_err(to_js_error)?;
        let records = self.valid_records(&records).map_err(to_js_error)?;
        to_js(&self.scorer.predict_many(records, threshold, reasons))
    }

    /// Probability, decision and each feature's SHAP contribution, largest first.
    #[wasm_bindgen(unchecked_return_type = "Explanation")]
    pub fn explain(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ClientRecord")] record: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "number | null")] threshold: JsValue,
    ) -> Result<JsValue, JsValue> {
        let threshold = self.threshold_arg(threshold).map_err(to_js_error)?;
        let record = self.valid_record(&record, api::SINGLE_PREFIX).map_err(to_js_error)?;
        to_js(&self.scorer.explain(record, threshold))
    }

    /// Explains an array of records (errors as `scoreBatch`).
    #[wasm_bindgen(js_name = explainBatch, unchecked_return_type = "Explanation[]")]
    pub fn explain_batch(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ClientRecord[]")] records: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "number | null")] threshold: JsValue,
    ) -> Result<JsValue, JsValue> {
        let threshold = self.threshold_arg(threshold).map_err(to_js_error)?;
        let records = self.valid_records(&records).map_err(to_js_error)?;
        let explained: Vec<RecordExplanation> =
            records.into_iter().map(|r| self.scorer.explain(r, threshold)).collect();
        to_js(&explained)
    }

    /// The inputs the model takes, as the HTTP API's `GET /features`: required inputs with
    /// type, range, unit and example; with `includeAll`, also optional inputs and their
    /// defaults, derived features, category levels, the threshold and the feature selection.
    #[wasm_bindgen(unchecked_return_type = "FeaturesDocument")]
    pub fn features(
        &self,
        #[wasm_bindgen(js_name = includeAll)] include_all: Option<bool>,
    ) -> Result<JsValue, JsValue> {
        to_js(&features_document(self.scorer.bundle(), include_all.unwrap_or(false)))
    }

    /// Checks a record without scoring it; never throws for a bad record.
    #[wasm_bindgen(unchecked_return_type = "ValidationResult")]
    pub fn validate(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ClientRecord")] record: JsValue,
    ) -> Result<JsValue, JsValue> {
        let outcome = match self.check(&record, api::SINGLE_PREFIX) {
            Ok(outcome) => outcome,
            Err(e) => return Err(to_js_error(e)),
        };
        to_js(&self.scorer.validation(outcome))
    }
}

impl CreditScorer {
    fn threshold_arg(&self, threshold: JsValue) -> Result<f64, ApiError> {
        self.scorer.threshold(read_threshold(&threshold)?)
    }

    fn reasons_arg(&self, reasons: JsValue) -> Result<Option<usize>, ApiError> {
        self.scorer.reasons(read_reasons(&reasons)?)
    }

    /// The core's verdict on one JS record.
    fn check(
        &self,
        record: &JsValue,
        prefix: &str,
    ) -> Result<Result<ValidRecord, Vec<FieldIssue>>, ApiError> {
        Ok(match read_record(record)? {
            JsRecord::Fields(fields) => {
                self.scorer.check(fields.iter().map(|(name, value)| (name.as_str(), value.raw())), prefix)
            }
            JsRecord::NotAnObject(same_kind) => self.scorer.bundle().schema.validate_json(&same_kind, prefix),
        })
    }

    fn valid_record(&self, record: &JsValue, prefix: &str) -> Result<ValidRecord, ApiError> {
        self.check(record, prefix)?.map_err(ApiError::Validation)
    }

    /// Every record of a batch validated, or every problem of all of them.
    fn valid_records(&self, records: &JsValue) -> Result<Vec<ValidRecord>, ApiError> {
        let records = read_array(records)?;
        let mut valid = Vec::with_capacity(records.len());
        let mut issues = Vec::new();
        for (i, record) in records.iter().enumerate() {
            match self.check(record, &api::batch_prefix(i))? {
                Ok(r) => valid.push(r),
                Err(mut e) => issues.append(&mut e),
            }
        }
        if issues.is_empty() { Ok(valid) } else { Err(ApiError::Validation(issues)) }
    }
}
