//! Streaming the prediction logs (SPEC section 6): one JSON object per line, read line by line in
//! bounded memory; a line that is not a usable log record is counted and sampled, never fatal.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::io::{BufRead, ErrorKind};

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// Longest log line accepted; longer ones are skipped (and counted as malformed) without being
/// held in memory.
pub const MAX_LINE_BYTES: usize = 4 << 20;

/// The fields of a log record the report uses; anything else is ignored.
///
/// A key given twice keeps its last value, as Python's `json` module and `JSON.parse` do; each
/// repetition is counted in `duplicate_keys` (top level here, `inputs` by the caller).
#[derive(Default)]
pub struct LogRecord<'a> {
    pub ts: Option<Cow<'a, str>>,
    pub model_version: Option<Cow<'a, str>>,
    pub probability: Option<Num>,
    pub prediction: Option<Num>,
    pub latency_us: Option<Num>,
    /// The record holds an `error` (a failed request), whatever its shape; `null` is no error.
    pub error: bool,
    /// The error's `code` when it has one (errors are broken down by code).
    pub error_code: Option<Cow<'a, str>>,
    pub inputs: Option<Inputs<'a>>,
    pub warnings: Option<Vec<LogWarning<'a>>>,
    /// Top-level keys given more than once.
    pub duplicate_keys: u32,
}

/// A JSON number, or one of the non-finite values Python's `json` writes (`NaN`, `Infinity`,
/// `-Infinity`) or a literal beyond the f64 range (`1e400`): JSON has none of them, so they are
/// kept apart instead of failing the whole record.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Num {
    Finite(f64),
    NonFinite,
}

impl Num {
    pub fn finite(self) -> Option<f64> {
        match self {
            Num::Finite(v) => Some(v),
            Num::NonFinite => None,
        }
    }
}

#[derive(Deserialize)]
pub struct LogWarning<'a> {
    #[serde(borrow)]
    pub field: Cow<'a, str>,
    #[serde(borrow)]
    pub code: Cow<'a, str>,
}

/// The `inputs` object, kept as (name, value) pairs in file order (repeated keys included: the
/// caller keeps the last and counts the others).
pub struct Inputs<'a>(pub Vec<(Cow<'a, str>, InputValue<'a>)>);

pub enum InputValue<'a> {
    Number(f64),
    /// `NaN`, `Infinity`, `-Infinity` or an out-of-range literal such as `1e400`.
    NonFinite,
    Text(Cow<'a, str>),
    Bool(bool),
    Null,
    /// An array or object: no feature takes it.
    Other,
}

/// Marks a token that [`quote_non_finite`] turned into a string; no JSON text can produce this
/// character in a string without an escape, and real clients do not send it.
const NON_FINITE_MARK: char = '\u{0}';

/// A string that borrows from the line when it has no escapes (no allocation per key or value).
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
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
        d.deserialize_str(V(std::marker::PhantomData))
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
                Ok(if v.is_finite() { Num::Finite(v) } else { Num::NonFinite })
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Num, E> {
                Ok(Num::Finite(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Num, E> {
                Ok(Num::Finite(v as f64))
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

/// The top-level keys the report reads; every other key is skipped without being copied.
#[derive(Deserialize, Clone, Copy)]
#[serde(field_identifier, rename_all = "snake_case")]
enum Key {
    Ts,
    ModelVersion,
    Probability,
    Prediction,
    LatencyUs,
    Error,
    Inputs,
    Warnings,
    #[serde(other)]
    Other,
}

/// The `error` member: only whether it is there and its `code`.
struct ErrorCode<'a>(Option<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for ErrorCode<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = ErrorCode<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an error")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut code = None;
                while let Some(k) = map.next_key::<Text<'de>>()? {
                    if k.0 == "code" {
                        code = map.next_value::<Option<Text<'de>>>().ok().flatten().map(|t| t.0);
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(ErrorCode(code))
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(ErrorCode(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(ErrorCode(Some(Cow::Owned(v.to_owned()))))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(ErrorCode(None))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(ErrorCode(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(ErrorCode(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(ErrorCode(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(ErrorCode(None))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for LogRecord<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = LogRecord<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a log record object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut r = LogRecord::default();
                let mut seen = 0u16;
                while let Some(key) = map.next_key::<Key>()? {
                    let bit = 1u16 << (key as u16);
                    if !matches!(key, Key::Other) && seen & bit != 0 {
                        r.duplicate_keys += 1;
                    }
                    seen |= bit;
                    match key {
                        Key::Ts => r.ts = map.next_value::<Option<Text<'de>>>()?.map(|t| t.0),
                        Key::ModelVersion => {
                            r.model_version = map.next_value::<Option<Text<'de>>>()?.map(|t| t.0)
                        }
                        Key::Probability => r.probability = map.next_value()?,
                        Key::Prediction => r.prediction = map.next_value()?,
                        Key::LatencyUs => r.latency_us = map.next_value()?,
                        Key::Error => {
                            let e = map.next_value::<Option<ErrorCode<'de>>>()?;
                            r.error = e.is_some();
                            r.error_code = e.and_then(|e| e.0);
                        }
                        Key::Inputs => r.inputs = map.next_value()?,
                        Key::Warnings => r.warnings = map.next_value()?,
                        Key::Other => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(r)
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Inputs<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
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
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for InputValue<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = InputValue<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(if v.is_finite() { InputValue::Number(v) } else { InputValue::NonFinite })
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(InputValue::Number(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(InputValue::Number(v as f64))
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
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
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(InputValue::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(InputValue::Other)
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
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
                || std::str::from_utf8(token)
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

/// Why a line was not used, with its 1-based number.
#[derive(Clone, Debug, serde::Serialize)]
pub struct MalformedLine {
    pub line: u64,
    pub reason: String,
}

/// Most malformed lines quoted in the report (all are counted).
pub const MAX_MALFORMED_EXAMPLES: usize = 10;

/// Reads lines into a reused buffer, never holding more than [`MAX_LINE_BYTES`] of one line.
pub struct LineReader<R> {
    inner: R,
    pub bytes_read: u64,
}

pub enum Line {
    Complete,
    TooLong(u64),
    End,
}

impl<R: BufRead> LineReader<R> {
    pub fn new(inner: R) -> Self {
        LineReader { inner, bytes_read: 0 }
    }

    /// Fills `buf` with the next line (without its newline).
    pub fn next_line(&mut self, buf: &mut Vec<u8>) -> std::io::Result<Line> {
        buf.clear();
        let mut too_long: u64 = 0;
        let mut any = false;
        loop {
            let chunk = match self.inner.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                if !any {
                    return Ok(Line::End);
                }
                break;
            }
            any = true;
            let (part, used, done) = match memchr(chunk) {
                Some(i) => (&chunk[..i], i + 1, true),
                None => (chunk, chunk.len(), false),
            };
            if too_long > 0 || buf.len() + part.len() > MAX_LINE_BYTES {
                too_long += (buf.len() + part.len()) as u64;
                buf.clear();
            } else {
                buf.extend_from_slice(part);
            }
            self.inner.consume(used);
            self.bytes_read += used as u64;
            if done {
                break;
            }
        }
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
        Ok(if too_long > 0 { Line::TooLong(too_long) } else { Line::Complete })
    }
}

fn memchr(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n')
}

/// Parses one line; `scratch` holds a rewritten copy when the line has non-finite numbers (see
/// [`quote_non_finite`]). `Err` carries the reason it is malformed. The timestamp is read by the
/// caller (an unreadable one keeps the record, without a time).
pub fn parse_line<'a>(line: &'a [u8], scratch: &'a mut Vec<u8>) -> Result<LogRecord<'a>, String> {
    if line.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(String::from("not a JSON object"));
    }
    let record: LogRecord<'a> = match serde_json::from_slice(line) {
        Ok(r) => r,
        Err(e) => {
            if !quote_non_finite(line, scratch) {
                return Err(e.to_string());
            }
            let fixed: &'a Vec<u8> = scratch;
            serde_json::from_slice(fixed).map_err(|_| e.to_string())?
        }
    };
    match record.probability {
        Some(Num::Finite(p)) if !(0.0..=1.0).contains(&p) => {
            return Err(format!("probability {p} is not in [0, 1]"));
        }
        Some(Num::NonFinite) => return Err(String::from("probability is not a finite number")),
        _ => {}
    }
    if !record.error && record.probability.is_none() && record.inputs.is_none() {
        return Err(String::from("neither a scored record (probability, inputs) nor an error"));
    }
    Ok(record)
}

/// How a log timestamp was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TsForm {
    /// RFC 3339 / ISO 8601 with a zone (`Z`, `+01:00`, `+0100`).
    Zoned,
    /// Without a zone (`2025-01-10T08:00:00.000000`, Python's `datetime.isoformat()` of a naive
    /// time): taken as UTC, and counted so the report can say so.
    Naive,
}

/// Epoch seconds of a log timestamp or of a `--since`/`--until` bound: RFC 3339 (fast path), ISO
/// 8601 with `+hhmm` offsets, a `T` or a space, optional fractional seconds, no zone (UTC), or a
/// bare date (midnight UTC). Parsing beyond the fast path is chrono's.
pub fn parse_timestamp(s: &str) -> Option<(i64, TsForm)> {
    use chrono::{DateTime, NaiveDate, NaiveDateTime};
    if let Some(t) = creditscore_core::drift::monitor::parse_rfc3339(s) {
        return Some((t, TsForm::Zoned));
    }
    let s = s.trim();
    for format in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%.f%:z"] {
        if let Ok(t) = DateTime::parse_from_str(s, format) {
            return Some((t.timestamp(), TsForm::Zoned));
        }
    }
    let naive = s.strip_suffix(['Z', 'z']).unwrap_or(s);
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(naive, format) {
            let form = if naive.len() < s.len() { TsForm::Zoned } else { TsForm::Naive };
            return Some((t.and_utc().timestamp(), form));
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| (t.and_utc().timestamp(), TsForm::Naive))
}

/// At most `max` bytes of `s` (cut on a character boundary by the core's one helper), with `...`
/// when something was cut.
pub fn truncate(s: &str, max: usize) -> String {
    let kept = creditscore_core::schema::truncate(s, max);
    if kept.len() == s.len() { kept.to_owned() } else { format!("{kept}...") }
}

/// Longest key a [`CappedCounter`] keeps (bytes): hostile logs cannot make the report large.
pub const MAX_KEY_BYTES: usize = 128;

/// Counts with a cap on distinct keys (the rest pooled), so hostile logs cannot grow memory.
pub struct CappedCounter {
    pub counts: HashMap<String, u64>,
    pub other: u64,
    cap: usize,
}

impl CappedCounter {
    pub fn new(cap: usize) -> Self {
        CappedCounter { counts: HashMap::new(), other: 0, cap }
    }

    pub fn add(&mut self, key: &str) {
        let key = creditscore_core::schema::truncate(key, MAX_KEY_BYTES);
        if let Some(c) = self.counts.get_mut(key) {
            *c += 1;
        } else if self.counts.len() < self.cap {
            self.counts.insert(key.to_owned(), 1);
        } else {
            self.other += 1;
        }
    }

    /// Sorted by count, largest first.
    pub fn sorted(&self) -> Vec<(String, u64)> {
        let mut v: Vec<(String, u64)> = self.counts.iter().map(|(k, v)| (k.clone(), *v)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_record_and_ignores_extra_fields() {
        let line = br#"{"ts":"2026-11-27T01:00:00Z","request_id":"r","record_index":0,"endpoint":"/predict","model_version":"1","threshold":0.4,"source":"api","client_id_hash":"ab","inputs":{"AMT_CREDIT":1000.5,"CODE_GENDER":"F","X":null,"Y":[1]},"warnings":[{"field":"AMT_CREDIT","code":"outside_training_range","message":"m"}],"probability":0.3,"prediction":0,"latency_us":120,"new_field":{"a":1}}"#;
        let mut scratch = Vec::new();
        let r = parse_line(line, &mut scratch).unwrap();
        let inputs = r.inputs.unwrap().0;
        assert_eq!(inputs.len(), 4);
        assert!(matches!(inputs[0].1, InputValue::Number(v) if v == 1000.5));
        assert!(matches!(&inputs[1].1, InputValue::Text(t) if t == "F"));
        assert!(matches!(inputs[2].1, InputValue::Null));
        assert!(matches!(inputs[3].1, InputValue::Other));
        assert_eq!(r.duplicate_keys, 0);
        assert_eq!(r.warnings.unwrap()[0].field, "AMT_CREDIT");
    }

    #[test]
    fn error_records_and_malformed_lines() {
        let mut scratch = Vec::new();
        let r = parse_line(
            br#"{"ts":"2026-11-27T01:00:00Z","error":{"code":"invalid"},"latency_us":5}"#,
            &mut scratch,
        )
        .unwrap();
        assert!(r.error);
        assert_eq!(r.error_code.as_deref(), Some("invalid"));
        for bad in [&b"{not json"[..], b"[1,2]", b"{}", br#"{"probability":"high"}"#, br#"{"probability":3}"#]
        {
            assert!(parse_line(bad, &mut scratch).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn non_finite_values_spoil_only_themselves() {
        // Python's json.dumps writes NaN, Infinity, -Infinity; 1e400 overflows f64.
        let line = br#"{"probability":0.2,"inputs":{"A":NaN,"B":Infinity,"C":-Infinity,"D":1e400,"E":"NaN, x","F":-1.5e3,"G":true}}"#;
        let mut scratch = Vec::new();
        let r = parse_line(line, &mut scratch).unwrap();
        let inputs = r.inputs.unwrap().0;
        for (name, value) in &inputs[..4] {
            assert!(matches!(value, InputValue::NonFinite), "{name}");
        }
        assert!(matches!(&inputs[4].1, InputValue::Text(t) if t == "NaN, x"));
        assert!(matches!(inputs[5].1, InputValue::Number(v) if v == -1500.0));
        assert!(matches!(inputs[6].1, InputValue::Bool(true)));
        assert!(parse_line(br#"{"probability":NaN,"inputs":{}}"#, &mut scratch).is_err());
        // A line that is broken for another reason stays malformed, with serde_json's first message.
        let Err(e) = parse_line(br#"{"probability":0.2,"inputs":{"A":NaN}"#, &mut scratch) else {
            panic!("an unterminated line is malformed")
        };
        assert!(e.contains("line 1"), "{e}");
    }

    #[test]
    fn repeated_keys_keep_the_last_value_and_are_counted() {
        let mut scratch = Vec::new();
        let r = parse_line(
            br#"{"probability":0.9,"probability":0.2,"ts":"a","ts":"b","inputs":{}}"#,
            &mut scratch,
        )
        .unwrap();
        assert_eq!(r.probability, Some(Num::Finite(0.2)));
        assert_eq!(r.ts.as_deref(), Some("b"));
        assert_eq!(r.duplicate_keys, 2);
    }

    #[test]
    fn timestamps_with_and_without_zone() {
        let utc = 1_736_496_000; // 2025-01-10T08:00:00Z
        assert_eq!(parse_timestamp("2025-01-10T08:00:00Z"), Some((utc, TsForm::Zoned)));
        assert_eq!(parse_timestamp("2025-01-10T08:00:00.000000"), Some((utc, TsForm::Naive)));
        assert_eq!(parse_timestamp("2025-01-10 08:00:00"), Some((utc, TsForm::Naive)));
        assert_eq!(parse_timestamp("2025-01-10T09:00:00+0100"), Some((utc, TsForm::Zoned)));
        assert_eq!(parse_timestamp("2025-01-10T08:00:00.5+0000"), Some((utc, TsForm::Zoned)));
        assert_eq!(parse_timestamp("2025-01-10T03:00:00.123-05:00"), Some((utc, TsForm::Zoned)));
        assert_eq!(parse_timestamp("2025-01-10"), Some((utc - 8 * 3600, TsForm::Naive)));
        assert_eq!(parse_timestamp("2025-01-10T08:00:00ZZ"), None);
        assert_eq!(parse_timestamp("yesterday"), None);
    }

    #[test]
    fn line_reader_bounds_long_lines() {
        let mut data = Vec::new();
        data.extend_from_slice(b"first\r\n");
        data.extend(std::iter::repeat_n(b'x', MAX_LINE_BYTES + 10));
        data.extend_from_slice(b"\nlast");
        let mut r = LineReader::new(std::io::BufReader::with_capacity(1024, &data[..]));
        let mut buf = Vec::new();
        assert!(matches!(r.next_line(&mut buf).unwrap(), Line::Complete));
        assert_eq!(buf, b"first");
        assert!(matches!(r.next_line(&mut buf).unwrap(), Line::TooLong(_)));
        // Bounded: the buffer never holds more than one (capped) line, growth at most doubles it.
        assert!(buf.capacity() <= 2 * MAX_LINE_BYTES);
        assert!(matches!(r.next_line(&mut buf).unwrap(), Line::Complete));
        assert_eq!(buf, b"last");
        assert!(matches!(r.next_line(&mut buf).unwrap(), Line::End));
    }
}
