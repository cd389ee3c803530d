//! Conversions between JS values and the core's types. Every JS call that can throw (getters,
//! proxies) is caught, so no exception unwinds through Rust frames.

use creditscore_core::schema::{FieldIssue, IssueCode, RawValue};
use js_sys::{Array, ArrayBuffer, Reflect, Uint8Array};
use serde::Serialize;
use wasm_bindgen::{JsCast, JsValue};

use crate::api::ApiError;

/// One field of a JS record, owned so that the core's schema can borrow it as a [`RawValue`].
pub enum JsField {
    Null,
    Number(f64),
    Text(String),
    Bool(bool),
    /// An array, object, function or symbol: no field accepts one.
    Composite,
}

impl JsField {
    /// `None` for `undefined`: the field counts as absent, as `JSON.stringify` would drop it.
    fn read(v: &JsValue) -> Option<JsField> {
        if v.is_undefined() {
            return None;
        }
        Some(if v.is_null() {
            JsField::Null
        } else if let Some(n) = v.as_f64() {
            // NaN and infinities stay numbers so the schema reports them as not finite.
            JsField::Number(n)
        } else if let Some(s) = v.as_string() {
            JsField::Text(s)
        } else if let Some(b) = v.as_bool() {
            JsField::Bool(b)
        } else if let Some(big) = v.dyn_ref::<js_sys::BigInt>() {
            // 10n is the number 10 (what a JSON encoder that accepts BigInt would write).
            let digits = big.to_string(10).map(String::from).unwrap_or_default();
            JsField::Number(digits.parse().unwrap_or(f64::NAN))
        } else {
            JsField::Composite
        })
    }

    pub fn raw(&self) -> RawValue<'_> {
        match self {
            JsField::Null => RawValue::Null,
            JsField::Number(n) => RawValue::Number(*n),
            JsField::Text(s) => RawValue::String(s),
            JsField::Bool(b) => RawValue::Bool(*b),
            JsField::Composite => RawValue::Composite,
        }
    }
}

/// A JS record read for validation.
pub enum JsRecord {
    Fields(Vec<(String, JsField)>),
    /// Not a plain object: the JSON value of the same kind, so that the core's
    /// `Schema::validate_json` reports it exactly as the HTTP API does.
    NotAnObject(serde_json::Value),
}

pub fn read_record(v: &JsValue) -> Result<JsRecord, ApiError> {
    let unreadable =
        |e: JsValue| ApiError::InvalidArgument(format!("the record cannot be read: {}", describe(&e)));
    // Keys first: a revoked proxy throws here (caught) rather than in `Array.isArray`.
    let keys = if v.is_object() { Some(Reflect::own_keys(v).map_err(unreadable)?) } else { None };
    let Some(keys) = keys.filter(|_| !Array::is_array(v)) else {
        let same_kind = if v.is_null() || v.is_undefined() {
            serde_json::Value::Null
        } else if v.as_f64().is_some() || v.is_bigint() {
            serde_json::Value::from(0)
        } else if v.as_string().is_some() {
            serde_json::Value::from("")
        } else if let Some(b) = v.as_bool() {
            serde_json::Value::Bool(b)
        } else {
            serde_json::Value::Array(Vec::new())
        };
        return Ok(JsRecord::NotAnObject(same_kind));
    };
    let mut fields = Vec::with_capacity(keys.length() as usize);
    for key in keys.iter() {
        // Symbol keys are not field names.
        let Some(name) = key.as_string() else { continue };
        let value = Reflect::get(v, &key).map_err(unreadable)?;
        if let Some(field) = JsField::read(&value) {
            fields.push((name, field));
        }
    }
    Ok(JsRecord::Fields(fields))
}

/// The elements of a JS array (read through `Reflect`, so a throwing proxy is an error).
pub fn read_array(v: &JsValue) -> Result<Vec<JsValue>, ApiError> {
    let not_array = || ApiError::InvalidArgument("expected an array of records".into());
    if !v.is_object() {
        return Err(not_array());
    }
    let unreadable =
        |e: JsValue| ApiError::InvalidArgument(format!("the records cannot be read: {}", describe(&e)));
    Reflect::own_keys(v).map_err(unreadable)?;
    if !Array::is_array(v) {
        return Err(not_array());
    }
    let length = Reflect::get(v, &"length".into()).map_err(unreadable)?.as_f64().unwrap_or(0.0) as u32;
    (0..length).map(|i| Reflect::get_u32(v, i).map_err(unreadable)).collect()
}

/// A bundle's bytes from a Uint8Array (Node's Buffer is one) or an ArrayBuffer.
pub fn read_bytes(v: &JsValue) -> Result<Vec<u8>, ApiError> {
    if let Some(array) = v.dyn_ref::<Uint8Array>() {
        Ok(array.to_vec())
    } else if let Some(buffer) = v.dyn_ref::<ArrayBuffer>() {
        Ok(Uint8Array::new(buffer).to_vec())
    } else {
        Err(ApiError::InvalidArgument(
            "expected the model bundle's bytes as a Uint8Array, Buffer or ArrayBuffer".into(),
        ))
    }
}

/// An optional decision threshold argument: `undefined` or `null` means the bundle's own.
pub fn read_threshold(v: &JsValue) -> Result<Option<f64>, ApiError> {
    read_optional_number(v, "threshold", "a number in [0, 1]")
}

/// The optional `reasons` argument: how many reason codes (range checked by the scorer).
pub fn read_reasons(v: &JsValue) -> Result<Option<f64>, ApiError> {
    read_optional_number(v, "reasons", "a whole number of reason codes, e.g. 4")
}

/// An optional number argument: `undefined` / `null` = not given.
fn read_optional_number(v: &JsValue, name: &str, expected: &str) -> Result<Option<f64>, ApiError> {
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    match v.as_f64() {
        Some(t) => Ok(Some(t)),
        None => Err(ApiError::Validation(vec![FieldIssue {
            path: name.into(),
            code: IssueCode::WrongType,
            reason: format!("the {name} must be a number"),
            expected: expected.into(),
        }])),
    }
}

/// Plain JS objects (not Maps), `null` for `None`, numbers for integers: what `JSON.parse` of the
/// HTTP API's response would give.
pub fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, JsValue> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| js_sys::Error::new(&format!("cannot convert the result to JS: {e}")).into())
}

/// A JS `Error` with `name` "CreditScoreError", `code` (the HTTP API's `error.code`) and
/// `details` (the HTTP API's 422 `details`: path, code, reason, expected).
pub fn to_js_error(e: ApiError) -> JsValue {
    let error = js_sys::Error::new(&e.to_string());
    error.set_name("CreditScoreError");
    let details = to_js(e.details()).unwrap_or_else(|_| Array::new().into());
    // Setting properties on a fresh Error cannot fail.
    let _ = Reflect::set(&error, &"code".into(), &e.code().into());
    let _ = Reflect::set(&error, &"details".into(), &details);
    error.into()
}

fn describe(e: &JsValue) -> String {
    match e.dyn_ref::<js_sys::Error>() {
        Some(error) => String::from(error.message()),
        None => e.as_string().unwrap_or_else(|| "a non-Error value was thrown".into()),
    }
}
