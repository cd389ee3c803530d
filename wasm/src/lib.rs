//! WebAssembly bindings over creditscore-core: the `creditscore` npm package.
//!
//! A thin adapter: records are validated by the core's schema and scored and explained by the
//! core's bundle. This crate converts between JS values and core types and turns every problem
//! into a JS `Error` carrying the HTTP API's `code` and `details`. No input reaches a panic: a
//! panic would abort the wasm instance.

mod api;
mod js;
mod packed;

pub use api::{ApiError, Scorer, Validation};
pub use creditscore_core::Prediction;

use std::cell::RefCell;

use creditscore_core::ValidRecord;
use creditscore_core::schema::FieldIssue;
use creditscore_core::service::features_document;
use wasm_bindgen::prelude::*;

use crate::js::{
    JsRecord, read_array, read_bytes, read_reasons, read_record, read_threshold, to_js, to_js_error,
};
use crate::packed::{Extras, PREDICTION_WIDTH, extras_to_js, unpack, unpack_into, write_prediction};

// The types the methods below name (`unchecked_return_type`), added to the generated `.d.ts`; in
// their own file so that a test (api/ts_types.rs) checks them against what the core's types send.
#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = include_str!("types.d.ts");

/// A loaded model bundle. Methods take and return plain JS objects.
#[wasm_bindgen]
pub struct CreditScorer {
    scorer: Scorer,
    /// The records of the batch being passed in by the JS half (`_batch*` methods).
    batch: RefCell<Batch>,
    /// The buffers the JS half writes packed records into and reads predictions from.
    io: RefCell<Io>,
}

/// Buffers in wasm memory that the JS half reads and writes through typed-array views over the
/// module's memory (`_memory`, `_io`): packed records (one, or a run of a batch), their text, and
/// one prediction's numbers. A slice argument would cost an allocation, a copy and a free per
/// call (and a call back into JS to copy an output back). Only `_io` resizes them, so the
/// addresses it returns hold until its next call.
#[derive(Default)]
struct Io {
    slots: Vec<f64>,
    text: Vec<u8>,
    out: Vec<f64>,
}

/// A batch staged record by record: each one validated as it arrives.
#[derive(Default)]
struct Batch {
    threshold: f64,
    reasons: Option<usize>,
    /// Records added so far (valid or not): the next one's index.
    count: usize,
    valid: Vec<ValidRecord>,
    issues: Vec<FieldIssue>,
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
        Scorer::from_bytes(&bytes)
            .map(|scorer| CreditScorer { scorer, batch: RefCell::default(), io: RefCell::default() })
            .map_err(to_js_error)
    }

    /// The bundle's business-optimal decision threshold.
    #[wasm_bindgen(getter)]
    pub fn threshold(&self) -> f64 {
        self.scorer.bundle().threshold().get()
    }

    /// Name, version, sha256, source, metrics and threshold of the bundle.
    #[wasm_bindgen(getter, unchecked_return_type = "ModelMetadata")]
    pub fn metadata(&self) -> Result<JsValue, JsValue> {
        let info = self.scorer.info();
        let js = to_js(&info)?;
        // JavaScript parses the free-form `training` text (the wasm has no JSON parser); text
        // that is not JSON (only from a foreign writer) is given as it is, a string.
        let training = js_sys::JSON::parse(info.training).unwrap_or_else(|_| info.training.into());
        js_sys::Reflect::set(&js, &"training".into(), &training)?;
        Ok(js)
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

/// The record path of the package's JS half (`wasm/js/records.js`): records packed by field
/// position ([`packed`]), results as numbers. Hidden from the TypeScript types: the public
/// methods of the JS class call these, and fall back to the methods above for any record they
/// cannot pack, so both paths give the same values and the same errors.
#[wasm_bindgen]
impl CreditScorer {
    /// The field names in packing order: the id field, then every input in schema order.
    #[wasm_bindgen(js_name = _fieldNames, skip_typescript)]
    pub fn field_names(&self) -> Vec<String> {
        let schema = self.scorer.bundle().schema();
        std::iter::once(&schema.id_field).chain(schema.inputs.iter().map(|f| &f.name)).cloned().collect()
    }

    /// The module's `WebAssembly.Memory`, over which the JS half views the [`Io`] buffers.
    #[wasm_bindgen(js_name = _memory, skip_typescript)]
    pub fn memory(&self) -> JsValue {
        wasm_bindgen::memory()
    }

    /// Makes the [`Io`] buffers at least `slots` numbers, `text` bytes and `out` numbers long and
    /// returns their addresses in wasm memory (bytes), valid until the next call.
    #[wasm_bindgen(js_name = _io, skip_typescript)]
    pub fn io(&self, slots: usize, text: usize, out: usize) -> Vec<u32> {
        let mut io = self.io.borrow_mut();
        let io = &mut *io;
        io.slots.resize(slots.max(io.slots.len()), 0.0);
        io.text.resize(text.max(io.text.len()), 0);
        io.out.resize(out.max(io.out.len()), 0.0);
        // wasm32 addresses are 32 bits.
        [io.slots.as_ptr() as usize, io.text.as_ptr() as usize, io.out.as_ptr() as usize]
            .map(|a| a as u32)
            .to_vec()
    }

    /// `score` of the packed record in the first `slots` numbers and `text` bytes of the [`Io`]
    /// buffers: writes [`write_prediction`]'s numbers at the start of its `out` and returns the
    /// warnings and reasons (`undefined` when there are none; see [`extras_to_js`]).
    #[wasm_bindgen(js_name = _scorePacked, skip_typescript)]
    pub fn score_packed(
        &self,
        slots: usize,
        text: usize,
        threshold: Option<f64>,
        reasons: Option<f64>,
    ) -> Result<JsValue, JsValue> {
        let threshold = self.scorer.threshold(threshold).map_err(to_js_error)?;
        let reasons = self.scorer.reasons(reasons).map_err(to_js_error)?;
        let record = self.packed_record(slots, text).map_err(to_js_error)?;
        let prediction = self.scorer.predict(record, threshold, reasons);
        write_prediction(&prediction, &mut self.io.borrow_mut().out);
        match Extras::of(&prediction, None) {
            Some(extras) => extras_to_js(&[extras], true),
            None => Ok(JsValue::UNDEFINED),
        }
    }

    /// `explain` of a packed record (as `_scorePacked`).
    #[wasm_bindgen(js_name = _explainPacked, skip_typescript)]
    pub fn explain_packed(
        &self,
        slots: usize,
        text: usize,
        threshold: Option<f64>,
    ) -> Result<JsValue, JsValue> {
        let threshold = self.scorer.threshold(threshold).map_err(to_js_error)?;
        let record = self.packed_record(slots, text).map_err(to_js_error)?;
        to_js(&self.scorer.explain(record, threshold))
    }

    /// `validate` of a packed record (as `_scorePacked`).
    #[wasm_bindgen(js_name = _validatePacked, skip_typescript)]
    pub fn validate_packed(&self, slots: usize, text: usize) -> Result<JsValue, JsValue> {
        let outcome = self.packed_outcome(slots, text).map_err(to_js_error)?;
        to_js(&self.scorer.validation(outcome))
    }

    /// Starts a batch: checks the arguments (first, as `scoreBatch` does) and forgets any
    /// unfinished batch.
    #[wasm_bindgen(js_name = _batchStart, skip_typescript)]
    pub fn batch_start(&self, threshold: Option<f64>, reasons: Option<f64>) -> Result<(), JsValue> {
        let threshold = self.scorer.threshold(threshold).map_err(to_js_error)?;
        let reasons = self.scorer.reasons(reasons).map_err(to_js_error)?;
        *self.batch.borrow_mut() = Batch { threshold, reasons, ..Batch::default() };
        Ok(())
    }

    /// Adds packed records to the batch (their issues are kept for `_batchScore`): the first
    /// `slots` numbers of the [`Io`] buffer hold one or more records one after the other, all of
    /// whose text is in its first `text` bytes.
    #[wasm_bindgen(js_name = _batchAdd, skip_typescript)]
    pub fn batch_add(&self, slots: usize, text: usize) -> Result<(), JsValue> {
        let n_inputs = self.scorer.bundle().schema().inputs.len();
        let io = self.io.borrow();
        let (Some(slots), Some(text)) = (io.slots.get(..slots), io.text.get(..text)) else {
            return Err(to_js_error(packed::malformed()));
        };
        let mut batch = self.batch.borrow_mut();
        let mut inputs = Vec::with_capacity(n_inputs);
        let mut rest = slots;
        while !rest.is_empty() {
            let (id, used) = unpack_into(rest, text, n_inputs, &mut inputs).map_err(to_js_error)?;
            // Issue paths need the record's index: the prefix is only built for an invalid record
            // (validation is pure, so the second pass gives the same issues with the right paths).
            let outcome = self.scorer.check_inputs(id, &inputs, api::SINGLE_PREFIX).map_err(|_| {
                let prefix = api::batch_prefix(batch.count);
                self.scorer.check_inputs(id, &inputs, &prefix).err().unwrap_or_default()
            });
            batch.push(outcome);
            rest = rest.get(used..).unwrap_or_default();
        }
        Ok(())
    }

    /// Adds any JS value as a record of the batch (what the JS half cannot pack); throws as
    /// `scoreBatch` does when the record cannot be read.
    #[wasm_bindgen(js_name = _batchAddValue, skip_typescript)]
    pub fn batch_add_value(&self, record: JsValue) -> Result<(), JsValue> {
        let index = self.batch.borrow().count;
        // No borrow across the read: a getter may call back into this scorer.
        let outcome = self.check(&record, &api::batch_prefix(index)).map_err(to_js_error)?;
        self.batch.borrow_mut().push(outcome);
        Ok(())
    }

    /// Scores the batch: [`PREDICTION_WIDTH`] numbers per record into `out`, and the extras of
    /// the records that have any (each with its `index`; `undefined` when none has). Throws one
    /// error listing every issue of every record when any is invalid.
    #[wasm_bindgen(js_name = _batchScore, skip_typescript)]
    pub fn batch_score(&self, out: &mut [f64]) -> Result<JsValue, JsValue> {
        let batch = self.batch.take();
        if !batch.issues.is_empty() {
            return Err(to_js_error(api::ApiError::Validation(batch.issues)));
        }
        let predictions = self.scorer.predict_many(batch.valid, batch.threshold, batch.reasons);
        for (p, o) in predictions.iter().zip(out.chunks_exact_mut(PREDICTION_WIDTH)) {
            write_prediction(p, o);
        }
        let extras: Vec<Extras<'_>> =
            predictions.iter().enumerate().filter_map(|(i, p)| Extras::of(p, Some(i))).collect();
        if extras.is_empty() { Ok(JsValue::UNDEFINED) } else { extras_to_js(&extras, false) }
    }

    /// Explains the batch (as `explainBatch`).
    #[wasm_bindgen(js_name = _batchExplain, skip_typescript)]
    pub fn batch_explain(&self) -> Result<JsValue, JsValue> {
        let batch = self.batch.take();
        if !batch.issues.is_empty() {
            return Err(to_js_error(api::ApiError::Validation(batch.issues)));
        }
        let explained: Vec<Prediction> =
            batch.valid.into_iter().map(|r| self.scorer.explain(r, batch.threshold)).collect();
        to_js(&explained)
    }
}

impl Batch {
    fn push(&mut self, outcome: Result<ValidRecord, Vec<FieldIssue>>) {
        self.count += 1;
        match outcome {
            Ok(r) => self.valid.push(r),
            Err(mut e) => self.issues.append(&mut e),
        }
    }
}

impl CreditScorer {
    /// The core's verdict on the packed record in the first `slots` numbers and `text` bytes of
    /// the [`Io`] buffers.
    fn packed_outcome(
        &self,
        slots: usize,
        text: usize,
    ) -> Result<Result<ValidRecord, Vec<FieldIssue>>, ApiError> {
        let io = self.io.borrow();
        let (Some(slots), Some(text)) = (io.slots.get(..slots), io.text.get(..text)) else {
            return Err(packed::malformed());
        };
        let u = unpack(slots, text, self.scorer.bundle().schema().inputs.len())?;
        Ok(self.scorer.check_inputs(u.id, &u.inputs, api::SINGLE_PREFIX))
    }

    fn packed_record(&self, slots: usize, text: usize) -> Result<ValidRecord, ApiError> {
        self.packed_outcome(slots, text)?.map_err(ApiError::Validation)
    }

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
            JsRecord::NotAnObject(same_kind) => {
                self.scorer.bundle().schema().validate_json(&same_kind, prefix)
            }
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
