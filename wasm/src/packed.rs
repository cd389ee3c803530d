//! The packed form of a record that the package's JS half (`wasm/js/records.js`) writes, so that
//! a whole record crosses from JS into wasm in one call instead of several calls per field: the
//! JS side only sorts each value by JS type and tags it with its field's position in the bundle's
//! schema; every rule (types, ranges, levels, defaults, warnings) stays the core's.
//!
//! Layout: a record is `[n, field 1, ..., field n]`: `n` the number of fields given, then
//! [`FIELD_WIDTH`] numbers per field, `[position, kind, a, b]`. Only the fields a record has are
//! sent (a record names a few of a schema's inputs: 11 of the default model's 120), so the size
//! follows the record, not the schema. `position` is the field's place in the schema (0 = the id
//! field, `1 + i` = [`Schema::inputs`]`[i]`); `kind` and `a`, `b`:
//! - [`NULL`]; [`NUMBER`] (`a` = the value, a BigInt converted by `Number()`); [`BOOL`] (`a` = 0/1);
//! - [`TEXT`]: `text[a..a + b]`, the string's UTF-8 bytes (lone surrogates as U+FFFD, as
//!   `TextEncoder` writes them);
//! - [`COMPOSITE`]: an object, array, function or symbol (no field takes one).
//!
//! A key whose value is `undefined` is not sent (absent, as `JSON.stringify` drops it). A batch
//! is its records one after the other.
//!
//! Records the JS side cannot pack exactly (not a plain object, a key outside the schema, a
//! getter that throws) go through [`crate::js::read_record`] instead, which reads any JS value.
//!
//! [`Schema::inputs`]: creditscore_core::schema::Schema::inputs

use creditscore_core::Warning;
use creditscore_core::reasons::Reason;
use creditscore_core::schema::RawValue;
use creditscore_core::schema::WarningCode;
use serde::Serialize;

use creditscore_core::predict::Prediction;

use crate::api::ApiError;
use crate::js::to_js;
use wasm_bindgen::JsValue;

/// Numbers per field given: position, kind, a, b.
pub const FIELD_WIDTH: usize = 4;
/// Field kinds (the second number of a field); the JS half uses the same values.
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

/// Reads one packed record (all of `slots`) for a schema of `n_inputs` inputs. Errors
/// (`invalid_argument`) only for a malformed packing, which the package's own JS never writes.
pub fn unpack<'a>(slots: &[f64], text: &'a [u8], n_inputs: usize) -> Result<Unpacked<'a>, ApiError> {
    let mut inputs = Vec::new();
    let (id, used) = unpack_into(slots, text, n_inputs, &mut inputs)?;
    if used != slots.len() {
        return Err(malformed());
    }
    Ok(Unpacked { id, inputs })
}

/// Reads the packed record at the start of `slots` into `inputs` (`n_inputs` values, `None` =
/// absent; a batch reuses one vector), returning the id field's value and how many numbers of
/// `slots` the record took.
pub fn unpack_into<'a>(
    slots: &[f64],
    text: &'a [u8],
    n_inputs: usize,
    inputs: &mut Vec<Option<RawValue<'a>>>,
) -> Result<(Option<RawValue<'a>>, usize), ApiError> {
    let n = slots.first().copied().unwrap_or(-1.0);
    // At most one field per position.
    if !(n >= 0.0 && n <= (n_inputs + 1) as f64 && n.fract() == 0.0) {
        return Err(malformed());
    }
    let used = 1 + FIELD_WIDTH * n as usize;
    let fields = slots.get(1..used).ok_or_else(malformed)?;
    inputs.clear();
    inputs.resize(n_inputs, None);
    let mut id = None;
    // Plain loops: this crate is built for size (opt-level z), where iterator adapters stay calls.
    let mut at = 0;
    while at + FIELD_WIDTH <= fields.len() {
        let position = fields[at];
        let value = read_field(fields[at + 1], fields[at + 2], fields[at + 3], text).ok_or_else(malformed)?;
        let target = if position == 0.0 {
            &mut id
        } else if position >= 1.0 && position.fract() == 0.0 {
            inputs.get_mut(position as usize - 1).ok_or_else(malformed)?
        } else {
            return Err(malformed());
        };
        *target = Some(value);
        at += FIELD_WIDTH;
    }
    Ok((id, used))
}

/// The error for a packing the package's own JS never writes.
pub fn malformed() -> ApiError {
    ApiError::InvalidArgument("malformed packed record".into())
}

/// One field's `[kind, a, b]` as the value it stands for (`None` = malformed).
#[inline(always)]
fn read_field(kind: f64, a: f64, b: f64, text: &[u8]) -> Option<RawValue<'_>> {
    Some(if kind == NUMBER {
        RawValue::Number(a)
    } else if kind == TEXT {
        let bytes = text.get(a as usize..(a + b) as usize)?;
        RawValue::String(core::str::from_utf8(bytes).ok()?)
    } else if kind == NULL {
        RawValue::Null
    } else if kind == BOOL {
        RawValue::Bool(a != 0.0)
    } else if kind == COMPOSITE {
        RawValue::Composite
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

impl<'a> Extras<'a> {
    /// The warnings as [`WarningRow`]s.
    fn rows(&self) -> Vec<WarningRow<'a>> {
        self.warnings.iter().map(|w| WarningRow(&w.field, w.code, &w.message)).collect()
    }
}

/// A warning as the JSON array `[field, code, message]`: JSON.parse makes an array about twice as
/// fast as an object (no property map to build); the JS half builds the object.
#[derive(Serialize)]
struct WarningRow<'a>(&'a str, WarningCode, &'a str);

/// Extras for JS (`single`: one record's, else a batch's). When they hold only warnings (text,
/// which JSON carries exactly; one string crosses instead of a call per field), JSON text that
/// the JS half parses: a record's warnings `[[field, code, message], ...]`, a batch's
/// `[[index, warnings], ...]`. Else JS objects, [`Extras`] (reasons hold numbers, and JSON would
/// turn a non-finite one into null).
pub fn extras_to_js(extras: &[Extras<'_>], single: bool) -> Result<JsValue, JsValue> {
    let json = match (extras.iter().any(|e| e.reasons.is_some()), single, extras.first()) {
        (true, true, Some(first)) => return to_js(first),
        (true, _, _) => return to_js(extras),
        (false, true, Some(first)) => serde_json::to_string(&first.rows()),
        (false, _, _) => serde_json::to_string(
            &extras.iter().map(|e| (e.index.unwrap_or_default(), e.rows())).collect::<Vec<_>>(),
        ),
    };
    json.map(|json| JsValue::from_str(&json))
        .map_err(|e| js_sys::Error::new(&format!("cannot convert the result to JS: {e}")).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unpacks_every_kind() {
        let text = "Fé".as_bytes();
        let slots = [
            6.0, // fields
            0.0, NUMBER, 7.0, 0.0, // id
            3.0, NUMBER, -0.0, 0.0, 2.0, NULL, 0.0, 0.0, 4.0, TEXT, 0.0, 3.0, 6.0, COMPOSITE, 0.0, 0.0, 5.0,
            BOOL, 1.0, 0.0,
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
        let (id, used) = unpack_into(&[0.0, 1.0, 0.0, NULL, 0.0, 0.0], b"", 1, &mut Vec::new()).unwrap();
        assert_eq!((id, used), (None, 1), "a record without fields, then the next one's");
    }

    #[test]
    fn malformed_packing_is_an_error_not_a_panic() {
        for (slots, text) in [
            (vec![], &b""[..]),                            // no count
            (vec![1.0, 0.0, NUMBER, 1.0], &b""[..]),       // shorter than its count
            (vec![0.0, 0.0], &b""[..]),                    // longer than its count
            (vec![3.0; 13], &b""[..]),                     // more fields than positions
            (vec![0.5], &b""[..]),                         // count not whole
            (vec![1.0, 0.0, 9.0, 0.0, 0.0], &b""[..]),     // unknown kind
            (vec![1.0, 2.0, NULL, 0.0, 0.0], &b""[..]),    // position past the inputs
            (vec![1.0, 0.5, NULL, 0.0, 0.0], &b""[..]),    // position not whole
            (vec![1.0, -1.0, NULL, 0.0, 0.0], &b""[..]),   // negative position
            (vec![1.0, 1.0, TEXT, 1.0, 5.0], &b"ab"[..]),  // text out of bounds
            (vec![1.0, 1.0, TEXT, 0.0, 1.0], &[0xff][..]), // not UTF-8
        ] {
            assert_eq!(unpack(&slots, text, 1).err().unwrap().code(), "invalid_argument", "{slots:?}");
        }
    }
}
