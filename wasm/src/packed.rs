//! The packed form of a record that the package's JS half (`wasm/js/records.js`) writes, so that
//! a whole record crosses from JS into wasm in one call instead of several calls per field: the
//! JS side only sorts each value by JS type and puts it at its field's position in the bundle's
//! schema; every rule (types, ranges, levels, defaults, warnings) stays the core's.
//!
//! Layout, per field position `s` (0 = the id field, `1 + i` = [`Schema::inputs`]`[i]`), three
//! numbers `slots[3s..3s + 3]` = `[kind, a, b]`:
//! - [`ABSENT`]: no such key, or `undefined` (as `JSON.stringify` drops it);
//! - [`NULL`]; [`NUMBER`] (`a` = the value, a BigInt converted by `Number()`); [`BOOL`] (`a` = 0/1);
//! - [`TEXT`]: `text[a..a + b]`, the string's UTF-8 bytes (lone surrogates as U+FFFD, as
//!   `TextEncoder` writes them);
//! - [`COMPOSITE`]: an object, array, function or symbol (no field takes one).
//!
//! Records the JS side cannot pack exactly (not a plain object, a key outside the schema, a
//! getter that throws) go through [`crate::js::read_record`] instead, which reads any JS value.
//!
//! [`Schema::inputs`]: creditscore_core::schema::Schema::inputs

use creditscore_core::Warning;
use creditscore_core::reasons::Reason;
use creditscore_core::schema::RawValue;
use serde::Serialize;

use creditscore_core::predict::Prediction;

use crate::api::ApiError;
use crate::js::to_js;
use wasm_bindgen::JsValue;

/// Numbers per field position.
pub const SLOT_WIDTH: usize = 3;
/// Field kinds (the first number of a slot); the JS half uses the same values.
pub const ABSENT: f64 = 0.0;
pub const NULL: f64 = 1.0;
pub const NUMBER: f64 = 2.0;
pub const TEXT: f64 = 3.0;
pub const BOOL: f64 = 4.0;
pub const COMPOSITE: f64 = 5.0;

/// A packed record's values: the id field's, and each input's in schema order.
pub struct Unpacked<'a> {
    pub id: Option<RawValue<'a>>,
    pub inputs: Vec<Option<RawValue<'a>>>,
}

/// Reads a packed record for a schema of `n_inputs` inputs. Errors (`invalid_argument`) only
/// for a malformed packing, which the package's own JS never writes.
pub fn unpack<'a>(slots: &[f64], text: &'a [u8], n_inputs: usize) -> Result<Unpacked<'a>, ApiError> {
    let mut inputs = Vec::with_capacity(n_inputs);
    let id = unpack_into(slots, text, n_inputs, &mut inputs)?;
    Ok(Unpacked { id, inputs })
}

/// [`unpack`] into `inputs` (cleared first; a batch reuses one), returning the id field's value.
pub fn unpack_into<'a>(
    slots: &[f64],
    text: &'a [u8],
    n_inputs: usize,
    inputs: &mut Vec<Option<RawValue<'a>>>,
) -> Result<Option<RawValue<'a>>, ApiError> {
    if slots.len() != SLOT_WIDTH * (n_inputs + 1) {
        return Err(malformed());
    }
    inputs.clear();
    // Plain loops: this crate is built for size (opt-level z), where iterator adapters stay calls;
    // `None` from `read_slot` (malformed) is turned into the error once, outside the loop.
    let id = read_slot(slots[0], slots[1], slots[2], text);
    let mut ok = id.is_some();
    let mut at = SLOT_WIDTH;
    while at + SLOT_WIDTH <= slots.len() {
        let value = read_slot(slots[at], slots[at + 1], slots[at + 2], text);
        ok &= value.is_some();
        inputs.push(value.flatten());
        at += SLOT_WIDTH;
    }
    match (ok, id) {
        (true, Some(id)) => Ok(id),
        _ => Err(malformed()),
    }
}

/// The error for a packing the package's own JS never writes.
pub fn malformed() -> ApiError {
    ApiError::InvalidArgument("malformed packed record".into())
}

/// One slot `[kind, a, b]` as the value it stands for (`Some(None)` = absent; `None` =
/// malformed).
#[inline(always)]
fn read_slot(kind: f64, a: f64, b: f64, text: &[u8]) -> Option<Option<RawValue<'_>>> {
    Some(if kind == NUMBER {
        Some(RawValue::Number(a))
    } else if kind == ABSENT {
        None
    } else if kind == TEXT {
        let bytes = text.get(a as usize..(a + b) as usize)?;
        Some(RawValue::String(core::str::from_utf8(bytes).ok()?))
    } else if kind == NULL {
        Some(RawValue::Null)
    } else if kind == BOOL {
        Some(RawValue::Bool(a != 0.0))
    } else if kind == COMPOSITE {
        Some(RawValue::Composite)
    } else {
        return None;
    })
}

/// Numbers per prediction written by [`write_prediction`].
pub const PREDICTION_WIDTH: usize = 6;

/// A prediction's numbers, for the JS half to build the result object:
/// `[sk_id_curr (-1 = null), probability, score, prediction, raw_score, threshold]` (the package
/// always sends the raw score and the threshold).
pub fn write_prediction(p: &Prediction, out: &mut [f64]) {
    // Ids are whole numbers in [0, 2^53 - 1]: exact as f64, and never negative.
    let id = p.sk_id_curr.map_or(-1.0, |id| id as f64);
    let raw = p.raw_score.unwrap_or(f64::NAN);
    let numbers = [id, p.probability, p.score, f64::from(p.prediction), raw, p.threshold.unwrap_or(f64::NAN)];
    for (o, n) in out.iter_mut().zip(numbers) {
        *o = n;
    }
}

/// The parts of a prediction that are not numbers; only sent when there are any.
#[derive(Serialize)]
pub struct Extras<'a> {
    /// Which record of a batch (absent for a single record).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
    pub warnings: &'a [Warning],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasons: Option<&'a [Reason]>,
}

impl<'a> Extras<'a> {
    /// `None` when the prediction has no warnings and no reasons (the JS half then uses `[]`).
    pub fn of(p: &'a Prediction, index: Option<usize>) -> Option<Extras<'a>> {
        let warnings = p.warnings.as_deref().unwrap_or_default();
        (!warnings.is_empty() || p.reasons.is_some()).then_some(Extras {
            index,
            warnings,
            reasons: p.reasons.as_deref(),
        })
    }
}

/// Extras for JS: JSON text (which the JS half parses) when they hold only warnings (text, which
/// JSON carries exactly; one string crosses instead of a call per field), else JS objects
/// (reasons hold numbers, and JSON would turn a non-finite one into null).
pub fn extras_to_js<T: Serialize + ?Sized>(extras: &T, with_reasons: bool) -> Result<JsValue, JsValue> {
    if with_reasons {
        return to_js(extras);
    }
    serde_json::to_string(extras)
        .map(|json| JsValue::from_str(&json))
        .map_err(|e| js_sys::Error::new(&format!("cannot convert the result to JS: {e}")).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unpacks_every_kind() {
        let text = "Fé".as_bytes();
        let slots = [
            NUMBER, 7.0, 0.0, // id
            ABSENT, 0.0, 0.0, NULL, 0.0, 0.0, NUMBER, -0.0, 0.0, TEXT, 0.0, 3.0, BOOL, 1.0, 0.0, COMPOSITE,
            0.0, 0.0,
        ];
        let u = unpack(&slots, text, 6).unwrap();
        assert_eq!(u.id, Some(RawValue::Number(7.0)));
        assert_eq!(
            u.inputs,
            vec![
                None,
                Some(RawValue::Null),
                Some(RawValue::Number(-0.0)),
                Some(RawValue::String("Fé")),
                Some(RawValue::Bool(true)),
                Some(RawValue::Composite)
            ]
        );
        let RawValue::Number(z) = u.inputs[2].unwrap() else { unreachable!() };
        assert!(z.is_sign_negative(), "-0 kept");
    }

    #[test]
    fn malformed_packing_is_an_error_not_a_panic() {
        for (slots, text) in [
            (vec![ABSENT; 5], &b""[..]),                           // wrong length
            (vec![9.0, 0.0, 0.0, ABSENT, 0.0, 0.0], &b""[..]),     // unknown kind
            (vec![TEXT, 1.0, 5.0, ABSENT, 0.0, 0.0], &b"ab"[..]),  // text out of bounds
            (vec![TEXT, 0.0, 1.0, ABSENT, 0.0, 0.0], &[0xff][..]), // not UTF-8
        ] {
            assert_eq!(unpack(&slots, text, 1).err().unwrap().code(), "invalid_argument");
        }
    }
}
