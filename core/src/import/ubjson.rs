//! Universal Binary JSON (UBJSON, Draft 12) -> `serde_json::Value`, for XGBoost's binary model
//! format (`save_model("model.ubj")`, the default for names not ending in `.json` since 2.1).
//!
//! Written here rather than taken from crates.io: the UBJSON crates there (ubjson 0.1, serde_ubj
//! 0.2, serde_ubjson 0.2) either only serialize, need std, or do not read the optimized
//! containers (`[$d#L...`) XGBoost writes for every array.
//!
//! Numbers are big-endian. Supported markers: `Z` null, `N` no-op, `T`/`F`, `i` `U` `I` `l` `L`
//! integers, `d` `D` floats, `H` high-precision number (as text), `C` char, `S` string, `[`/`{`
//! containers, plain or optimized with `$type` and/or `#count`. Object keys are strings without
//! the `S` marker. Non-finite floats become `null` (JSON has no NaN; XGBoost writes NaN only
//! where the value is unused, e.g. the condition of a categorical split).
//!
//! Every count is checked against the bytes left before anything is allocated for it, nesting is
//! limited, and malformed input is an error, never a panic.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use serde_json::{Map, Number, Value};

/// Deepest nesting accepted (XGBoost models nest 6 levels).
const MAX_DEPTH: usize = 64;

/// Why the bytes are not UBJSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UbjsonError {
    /// Byte offset where decoding stopped.
    pub offset: usize,
    /// What is wrong there (e.g. an unknown type marker, a length past the end).
    pub message: String,
}

impl core::fmt::Display for UbjsonError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "not valid UBJSON at byte {}: {}", self.offset, self.message)
    }
}

/// Decodes one UBJSON value that must span the whole input.
pub fn decode(bytes: &[u8]) -> Result<Value, UbjsonError> {
    let mut r = Reader { bytes, at: 0 };
    let marker = r.marker()?;
    let value = r.value(marker, 0)?;
    if r.at != bytes.len() {
        return Err(r.error("bytes after the end of the top-level value"));
    }
    Ok(value)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn error(&self, message: &str) -> UbjsonError {
        UbjsonError { offset: self.at, message: message.into() }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], UbjsonError> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let Some(end) = end else { return Err(self.error("unexpected end of input")) };
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn byte(&mut self) -> Result<u8, UbjsonError> {
        Ok(self.take(1)?[0])
    }

    /// Next type marker, skipping no-ops.
    fn marker(&mut self) -> Result<u8, UbjsonError> {
        loop {
            let m = self.byte()?;
            if m != b'N' {
                return Ok(m);
            }
        }
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], UbjsonError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    /// An integer of the type `marker`, or `None` when the marker is not an integer type.
    fn integer(&mut self, marker: u8) -> Result<Option<i64>, UbjsonError> {
        Ok(Some(match marker {
            b'i' => i64::from(i8::from_be_bytes(self.array()?)),
            b'U' => i64::from(self.byte()?),
            b'I' => i64::from(i16::from_be_bytes(self.array()?)),
            b'l' => i64::from(i32::from_be_bytes(self.array()?)),
            b'L' => i64::from_be_bytes(self.array()?),
            _ => return Ok(None),
        }))
    }

    /// A length or count: an integer value, not negative.
    fn length(&mut self) -> Result<usize, UbjsonError> {
        let marker = self.marker()?;
        match self.integer(marker)? {
            Some(n) if n >= 0 => usize::try_from(n).map_err(|_| self.error("length too large")),
            Some(_) => Err(self.error("negative length")),
            None => Err(self.error("a length must be an integer")),
        }
    }

    fn string(&mut self) -> Result<String, UbjsonError> {
        let n = self.length()?;
        let bytes = self.take(n)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| self.error("a string is not UTF-8"))
    }

    fn value(&mut self, marker: u8, depth: usize) -> Result<Value, UbjsonError> {
        if let Some(n) = self.integer(marker)? {
            return Ok(Value::Number(n.into()));
        }
        Ok(match marker {
            b'Z' => Value::Null,
            b'T' => Value::Bool(true),
            b'F' => Value::Bool(false),
            b'd' => float(f64::from(f32::from_be_bytes(self.array()?))),
            b'D' => float(f64::from_be_bytes(self.array()?)),
            b'H' => {
                let text = self.string()?;
                match serde_json::from_str::<Number>(&text) {
                    Ok(n) => Value::Number(n),
                    Err(_) => return Err(self.error("a high-precision number is not a number")),
                }
            }
            b'C' => Value::String(String::from(char::from(self.byte()?))),
            b'S' => Value::String(self.string()?),
            b'[' | b'{' => {
                if depth >= MAX_DEPTH {
                    return Err(self.error("nested too deeply"));
                }
                self.container(marker == b'{', depth + 1)?
            }
            other => return Err(self.error(&format!("unknown type marker 0x{other:02x}"))),
        })
    }

    /// The rest of an array or object after its `[` / `{`.
    fn container(&mut self, object: bool, depth: usize) -> Result<Value, UbjsonError> {
        // Optimized form: `$type` (then `#count` is required) and/or `#count`.
        let mut element_type = None;
        let mut count = None;
        let mut next = self.marker()?;
        if next == b'$' {
            element_type = Some(self.byte()?);
            next = self.marker()?;
            if next != b'#' {
                return Err(self.error("a typed container needs a count (`#`)"));
            }
        }
        if next == b'#' {
            let n = self.length()?;
            // Elements take at least one byte, except typed null/true/false (no payload), and an
            // object entry at least two; a larger count cannot be real.
            let zero_sized = matches!(element_type, Some(b'Z' | b'T' | b'F'));
            if (!zero_sized || object) && n > self.bytes.len() - self.at {
                return Err(self.error("count larger than the bytes left"));
            }
            if zero_sized && n > self.bytes.len() {
                return Err(self.error("count larger than the input"));
            }
            count = Some(n);
        }
        let element = |r: &mut Self, first: Option<u8>| -> Result<Value, UbjsonError> {
            match element_type {
                Some(t) => r.value(t, depth),
                None => {
                    let m = match first {
                        Some(m) => m,
                        None => r.marker()?,
                    };
                    r.value(m, depth)
                }
            }
        };
        if object {
            let mut map = Map::new();
            match count {
                Some(n) => {
                    for _ in 0..n {
                        let key = self.string()?;
                        let value = element(self, None)?;
                        map.insert(key, value);
                    }
                }
                None => {
                    let mut m = next;
                    while m != b'}' {
                        self.at -= 1; // `m` was the key's length marker
                        let key = self.string()?;
                        let value = element(self, None)?;
                        map.insert(key, value);
                        m = self.marker()?;
                    }
                }
            }
            Ok(Value::Object(map))
        } else {
            let mut list = Vec::with_capacity(count.unwrap_or(0).min(self.bytes.len() - self.at));
            match count {
                Some(n) => {
                    for _ in 0..n {
                        list.push(element(self, None)?);
                    }
                }
                None => {
                    let mut m = next;
                    while m != b']' {
                        list.push(element(self, Some(m))?);
                        m = self.marker()?;
                    }
                }
            }
            Ok(Value::Array(list))
        }
    }
}

fn float(v: f64) -> Value {
    Number::from_f64(v).map_or(Value::Null, Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decodes_plain_and_optimized_containers() {
        // {"a": [1, -2, 3.5f32], "b": "xy", "c": [$d#i2 1.5 NaN], "d": {#U1 "e" T}}
        let mut b = Vec::new();
        b.extend_from_slice(b"{");
        b.extend_from_slice(b"U\x01a[U\x01i\xfed\x40\x60\x00\x00]");
        b.extend_from_slice(b"U\x01bSU\x02xy");
        b.extend_from_slice(b"U\x01c[$d#i\x02\x3f\xc0\x00\x00\x7f\xc0\x00\x00");
        b.extend_from_slice(b"U\x01d{#U\x01U\x01eT");
        b.extend_from_slice(b"}");
        let v = decode(&b).unwrap();
        assert_eq!(v, json!({"a": [1, -2, 3.5], "b": "xy", "c": [1.5, null], "d": {"e": true}}));
    }

    #[test]
    fn hostile_input_is_an_error() {
        for bad in [
            &b""[..],
            b"[",
            b"[#L\x7f\xff\xff\xff\xff\xff\xff\xff",
            b"[$i#L\x00\x00\x00\x00\x00\x00\x10\x00",
            b"[$Z#L\x7f\xff\xff\xff\xff\xff\xff\xff",
            b"{U\x05ab",
            b"SU\x02\xff\xfe",
            b"X",
            b"[]]",
            b"[$d]",
        ] {
            assert!(decode(bad).is_err(), "{bad:?}");
        }
        let deep = [b'['; 1000];
        assert!(decode(&deep).is_err());
        // Random edits of a valid document never panic.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let doc = b"{U\x01a[$d#i\x02\x3f\xc0\x00\x00\x7f\xc0\x00\x00U\x01b[U\x01SU\x01x]}".to_vec();
        for _ in 0..5000 {
            let mut bytes = doc.clone();
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let at = (state % bytes.len() as u64) as usize;
            bytes[at] = (state >> 32) as u8;
            let _ = decode(&bytes);
        }
    }
}
