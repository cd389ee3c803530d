//! Reading [`LogRecord`]s back: forgiving, borrowing deserialisation (see the type's docs).

use alloc::borrow::{Cow, ToOwned};
use alloc::vec::Vec;
use core::fmt;
use core::marker::PhantomData;
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Number, Value};

use super::{InputValue, Inputs, LogError, LogRecord, Num};

/// Marks a token that [`quote_non_finite`] turned into a string; no JSON text can produce this
/// character in a string without an escape, and real clients do not send it.
const NON_FINITE_MARK: char = '\u{0}';

impl<'a> LogRecord<'a> {
    /// Parses one log line (a JSON object). When serde_json rejects the line and it holds
    /// non-finite number tokens, they are rewritten into `scratch` ([`quote_non_finite`]) and
    /// the line is parsed again, so that only those values are lost. `Err` is serde_json's
    /// message for the line as given.
    pub fn from_json_line(
        line: &'a [u8],
        scratch: &'a mut Vec<u8>,
    ) -> Result<LogRecord<'a>, serde_json::Error> {
        match serde_json::from_slice(line) {
            Ok(r) => Ok(r),
            Err(e) => {
                if !quote_non_finite(line, scratch) {
                    return Err(e);
                }
                let fixed: &'a Vec<u8> = scratch;
                serde_json::from_slice(fixed).map_err(|_| e)
            }
        }
    }
}

/// Rewrites the tokens JSON forbids but Python's `json.dumps` writes (`NaN`, `Infinity`,
/// `-Infinity`) and number literals beyond the f64 range (`1e400`, which serde_json rejects) as
/// marked strings, so that the record parses and only that value is invalid. Returns `false` when
/// there was nothing to rewrite. Strings are copied untouched (escapes respected).
pub fn quote_non_finite(line: &[u8], out: &mut Vec<u8>) -> bool {
    out.clear();
    let mut changed = false;
    let mut i = 0;
    while i < line.len() {
        let b = line[i];
        if b == b'"' {
            // Copy the whole string, escapes included.
            let start = i;
            i += 1;
            while i < line.len() && line[i] != b'"' {
                i += if line[i] == b'\\' { 2 } else { 1 };
            }
            i = (i + 1).min(line.len());
            out.extend_from_slice(&line[start..i]);
            continue;
        }
        if matches!(b, b'-' | b'+' | b'0'..=b'9' | b'N' | b'I') {
            let start = i;
            while i < line.len()
                && !matches!(line[i], b',' | b'}' | b']' | b':' | b' ' | b'\t' | b'\r' | b'\n')
            {
                i += 1;
            }
            let token = &line[start..i];
            let non_finite = matches!(token, b"NaN" | b"-NaN" | b"Infinity" | b"-Infinity" | b"+Infinity")
                || core::str::from_utf8(token)
                    .ok()
                    .and_then(|t| t.parse::<f64>().ok())
                    .is_some_and(|v| v.is_infinite());
            if non_finite {
                out.extend_from_slice(b"\"\\u0000");
                out.extend_from_slice(token);
                out.push(b'"');
                changed = true;
            } else {
                out.extend_from_slice(token);
            }
            continue;
        }
        out.push(b);
        i += 1;
    }
    changed
}

/// A string that borrows from the line when it has no escapes (no allocation per key or value).
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Text<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(V(PhantomData))
    }
}

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Num;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Num, E> {
                Ok(Num::from(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Num, E> {
                Ok(Num::Finite(Number::from(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Num, E> {
                Ok(Num::Finite(Number::from(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Num, E> {
                if v.starts_with(NON_FINITE_MARK) {
                    Ok(Num::NonFinite)
                } else {
                    Err(E::invalid_type(de::Unexpected::Str(v), &self))
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// A member read for what it is when it is a string, a number or an array, and skipped (without
/// failing the record) when it is of a type the field does not take.
enum Loose<'a> {
    Text(Cow<'a, str>),
    Number(Number),
    /// The strings of an array (other elements dropped).
    Texts(Vec<Cow<'a, str>>),
    Other,
}

impl<'a> Loose<'a> {
    fn text(self) -> Option<Cow<'a, str>> {
        match self {
            Loose::Text(t) => Some(t),
            _ => None,
        }
    }

    fn number(&self) -> Option<&Number> {
        match self {
            Loose::Number(n) => Some(n),
            _ => None,
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Loose<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Loose<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(if v.starts_with(NON_FINITE_MARK) { Loose::Other } else { Loose::Text(Cow::Borrowed(v)) })
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(if v.starts_with(NON_FINITE_MARK) {
                    Loose::Other
                } else {
                    Loose::Text(Cow::Owned(v.to_owned()))
                })
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Loose::Number(Number::from(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Loose::Number(Number::from(v)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Number::from_f64(v).map_or(Loose::Other, Loose::Number))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Loose::Other)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Loose::Other)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut texts = Vec::new();
                while let Some(item) = seq.next_element::<Loose<'de>>()? {
                    if let Loose::Text(t) = item {
                        texts.push(t);
                    }
                }
                Ok(Loose::Texts(texts))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Loose::Other)
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for LogError<'a> {
    /// An object (its `code`, `message` and `issues` when of the right type), or a bare string
    /// taken as the code; any other value is an error without code.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = LogError<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an error")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut e = LogError::default();
                while let Some(k) = map.next_key::<Text<'de>>()? {
                    let v = map.next_value::<Loose<'de>>()?;
                    match k.0.as_ref() {
                        "code" => e.code = v.text(),
                        "message" => e.message = v.text(),
                        "issues" => e.issues = v.number().and_then(Number::as_u64),
                        _ => {}
                    }
                }
                Ok(e)
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(LogError { code: Some(Cow::Borrowed(v)), ..LogError::default() })
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(LogError { code: Some(Cow::Owned(v.to_owned())), ..LogError::default() })
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(LogError::default())
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(LogError::default())
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(LogError::default())
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(LogError::default())
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(LogError::default())
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// The members of a log record; every other key is skipped without being copied.
#[derive(serde::Deserialize, Clone, Copy)]
#[serde(field_identifier, rename_all = "snake_case")]
enum Key {
    Ts,
    RequestId,
    RecordIndex,
    Endpoint,
    ModelVersion,
    Threshold,
    Source,
    Status,
    ClientIdHash,
    SkIdCurr,
    Inputs,
    Warnings,
    Probability,
    Score,
    Prediction,
    Reasons,
    Error,
    LatencyUs,
    #[serde(other)]
    Other,
}

impl<'de: 'a, 'a> Deserialize<'de> for LogRecord<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = LogRecord<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a log record object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut r = LogRecord::default();
                let mut seen = 0u32;
                while let Some(key) = map.next_key::<Key>()? {
                    let bit = 1u32 << (key as u32);
                    if !matches!(key, Key::Other) && seen & bit != 0 {
                        r.duplicate_keys += 1;
                    }
                    seen |= bit;
                    // The members the drift report relies on are strict (a record whose
                    // probability is text is malformed); the others are read when of their type.
                    match key {
                        Key::Ts => r.ts = map.next_value::<Option<Text<'de>>>()?.map(|t| t.0),
                        Key::ModelVersion => {
                            r.model_version = map.next_value::<Option<Text<'de>>>()?.map(|t| t.0)
                        }
                        Key::Probability => r.probability = map.next_value()?,
                        Key::Prediction => r.prediction = map.next_value()?,
                        Key::LatencyUs => r.latency_us = map.next_value()?,
                        Key::Inputs => r.inputs = map.next_value()?,
                        Key::Warnings => r.warnings = map.next_value::<Option<Vec<_>>>()?.unwrap_or_default(),
                        Key::Error => r.error = map.next_value()?,
                        Key::RequestId => r.request_id = map.next_value::<Loose<'de>>()?.text(),
                        Key::Endpoint => r.endpoint = map.next_value::<Loose<'de>>()?.text(),
                        Key::Source => r.source = map.next_value::<Loose<'de>>()?.text(),
                        Key::ClientIdHash => r.client_id_hash = map.next_value::<Loose<'de>>()?.text(),
                        Key::RecordIndex => {
                            r.record_index = map.next_value::<Loose<'de>>()?.number().and_then(Number::as_u64)
                        }
                        Key::Threshold => {
                            r.threshold = map.next_value::<Loose<'de>>()?.number().and_then(Number::as_f64)
                        }
                        Key::Score => {
                            r.score = map.next_value::<Loose<'de>>()?.number().and_then(Number::as_f64)
                        }
                        Key::Status => {
                            r.status = map
                                .next_value::<Loose<'de>>()?
                                .number()
                                .and_then(Number::as_u64)
                                .and_then(|s| u16::try_from(s).ok())
                        }
                        Key::SkIdCurr => {
                            r.sk_id_curr = map.next_value::<Loose<'de>>()?.number().and_then(Number::as_i64)
                        }
                        Key::Reasons => {
                            r.reasons = match map.next_value::<Loose<'de>>()? {
                                Loose::Texts(t) => Some(t),
                                _ => None,
                            }
                        }
                        Key::Other => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(r)
            }
        }
        d.deserialize_map(V(PhantomData))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Inputs<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Inputs<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of input fields")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut out = Vec::new();
                while let Some(key) = map.next_key::<Text<'de>>()? {
                    let value = map.next_value::<InputValue<'de>>()?;
                    out.push((key.0, value));
                }
                Ok(Inputs(out))
            }
        }
        d.deserialize_map(V(PhantomData))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for InputValue<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = InputValue<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Number::from_f64(v).map_or(InputValue::NonFinite, InputValue::Number))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(InputValue::Number(Number::from(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(InputValue::Number(Number::from(v)))
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                if v.starts_with(NON_FINITE_MARK) {
                    return Ok(InputValue::NonFinite);
                }
                Ok(InputValue::Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                if v.starts_with(NON_FINITE_MARK) {
                    return Ok(InputValue::NonFinite);
                }
                Ok(InputValue::Text(Cow::Owned(v.to_owned())))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(InputValue::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(InputValue::Null)
            }
            fn visit_bool<E: de::Error>(self, b: bool) -> Result<Self::Value, E> {
                Ok(InputValue::Bool(b))
            }
            // Arrays and objects are rare (no input takes one): kept whole, as sent.
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                Value::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(InputValue::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                Value::deserialize(de::value::MapAccessDeserializer::new(map)).map(InputValue::Other)
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}
