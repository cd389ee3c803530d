//! Streaming the prediction logs (SPEC section 6): one JSON object per line, read line by line in
//! bounded memory; a line that is not a usable log record is counted and sampled, never fatal.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::io::{BufRead, ErrorKind};

use creditscore_core::drift::monitor::parse_rfc3339;
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// Longest log line accepted; longer ones are skipped (and counted as malformed) without being
/// held in memory.
pub const MAX_LINE_BYTES: usize = 4 << 20;

/// The fields of a log record the report uses; anything else is ignored.
#[derive(Deserialize)]
pub struct LogRecord<'a> {
    #[serde(default, borrow)]
    pub ts: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub model_version: Option<Cow<'a, str>>,
    #[serde(default)]
    pub probability: Option<f64>,
    #[serde(default)]
    pub prediction: Option<f64>,
    #[serde(default)]
    pub latency_us: Option<f64>,
    #[serde(default)]
    pub error: Option<IgnoredAny>,
    #[serde(default, borrow)]
    pub inputs: Option<Inputs<'a>>,
    #[serde(default, borrow)]
    pub warnings: Option<Vec<LogWarning<'a>>>,
}

#[derive(Deserialize)]
pub struct LogWarning<'a> {
    #[serde(borrow)]
    pub field: Cow<'a, str>,
    #[serde(borrow)]
    pub code: Cow<'a, str>,
}

/// The `inputs` object, kept as (name, value) pairs in file order.
pub struct Inputs<'a>(pub Vec<(Cow<'a, str>, InputValue<'a>)>);

pub enum InputValue<'a> {
    Number(f64),
    Text(Cow<'a, str>),
    Null,
    /// A boolean, array or object: no feature takes it.
    Other,
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
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    let value = map.next_value::<InputValue<'de>>()?;
                    out.push((key, value));
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
                Ok(InputValue::Number(v))
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
                Ok(InputValue::Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(InputValue::Text(Cow::Owned(v)))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(InputValue::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(InputValue::Null)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(InputValue::Other)
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

/// Parses one line. `Err` carries the reason it is malformed.
pub fn parse_line(line: &[u8]) -> Result<LogRecord<'_>, String> {
    if line.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(String::from("not a JSON object"));
    }
    let record: LogRecord<'_> = serde_json::from_slice(line).map_err(|e| e.to_string())?;
    if let Some(ts) = &record.ts
        && parse_rfc3339(ts).is_none()
    {
        return Err(format!("ts `{}` is not an RFC 3339 timestamp", truncate(ts, 40)));
    }
    if let Some(p) = record.probability
        && !(0.0..=1.0).contains(&p)
    {
        return Err(format!("probability {p} is not in [0, 1]"));
    }
    if record.error.is_none() && record.probability.is_none() && record.inputs.is_none() {
        return Err(String::from("neither a scored record (probability, inputs) nor an error"));
    }
    Ok(record)
}

pub fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

/// Longest key a [`CappedCounter`] keeps (bytes): hostile logs cannot make the report large.
pub const MAX_KEY_BYTES: usize = 128;

fn floor_char_boundary(s: &str, max: usize) -> usize {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    end
}

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
        let key = &key[..floor_char_boundary(key, MAX_KEY_BYTES)];
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
        let r = parse_line(line).unwrap();
        let inputs = r.inputs.unwrap().0;
        assert_eq!(inputs.len(), 4);
        assert!(matches!(inputs[0].1, InputValue::Number(v) if v == 1000.5));
        assert!(matches!(&inputs[1].1, InputValue::Text(t) if t == "F"));
        assert!(matches!(inputs[2].1, InputValue::Null));
        assert!(matches!(inputs[3].1, InputValue::Other));
        assert_eq!(r.warnings.unwrap()[0].field, "AMT_CREDIT");
    }

    #[test]
    fn error_records_and_malformed_lines() {
        assert!(
            parse_line(br#"{"ts":"2026-11-27T01:00:00Z","error":{"code":"invalid"},"latency_us":5}"#).is_ok()
        );
        for bad in [&b"{not json"[..], b"[1,2]", b"{}", br#"{"probability":"high"}"#, br#"{"probability":3}"#]
        {
            assert!(parse_line(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
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
