//! WebAssembly bindings over creditscore-core: the `creditscore` npm package.
//!
//! A thin adapter: records are validated by the core's schema and scored and explained by the
//! core's bundle. This crate converts between JS values and core types and turns every problem
//! into a JS `Error` carrying the HTTP API's `code` and `details`. No input reaches a panic: a
//! panic would abort the wasm instance.

mod api;
mod js;

pub use api::{ApiError, Scorer, Validation};
pub use creditscore_core::Prediction;

use creditscore_core::ValidRecord;
use creditscore_core::schema::FieldIssue;
use creditscore_core::service::features_document;
use wasm_bindgen::prelude::*;

use crate::js::{
    JsRecord, read_array, read_bytes, read_reasons, read_record, read_threshold, to_js, to_js_error,
};

// The types the methods below name (`unchecked_return_type`), added to the generated `.d.ts`; in
// their own file so that a test (api/ts_types.rs) checks them against what the core's types send.
#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = include_str!("types.d.ts");

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
        let explained: Vec<Prediction> =
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
