//! Query strings: `a=1&b=x%20y`, with unknown parameters rejected (a typo such as `treshold`
//! must not silently fall back to the default).

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::{ApiError, issue};
use crate::schema::{IssueCode, closest};

pub(super) fn parse(query: &str, allowed: &[&str]) -> Result<BTreeMap<String, String>, ApiError> {
    let mut params = BTreeMap::new();
    let mut issues = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = decode(key);
        let value = decode(value);
        if allowed.contains(&key.as_str()) {
            if params.insert(key.clone(), value).is_some() {
                issues.push(issue(
                    &format!("query.{key}"),
                    IssueCode::WrongType,
                    "parameter given more than once",
                    "a single value",
                ));
            }
        } else {
            let expected = match closest(&key, allowed.iter().copied()) {
                Some(c) => format!("did you mean `{c}`?"),
                None if allowed.is_empty() => String::from("no query parameters"),
                None => format!("one of: {}", allowed.join(", ")),
            };
            issues.push(issue(
                &format!("query.{key}"),
                IssueCode::UnknownField,
                "unknown query parameter",
                expected,
            ));
        }
    }
    if issues.is_empty() { Ok(params) } else { Err(ApiError::invalid("invalid query string", issues)) }
}

pub(super) fn parse_bool(v: &str) -> Option<bool> {
    match v {
        // An empty value (`include_all=`) is not a boolean: the OpenAPI document says `boolean`.
        "true" | "1" | "yes" => Some(true),
        "false" | "0" | "no" => Some(false),
        _ => None,
    }
}

/// Percent-decoding with `+` as space; invalid escapes are kept as written, invalid UTF-8
/// becomes U+FFFD (never a failure: the value is checked by the parameter's own parser).
pub(super) fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex_digit(bytes[i + 1]), hex_digit(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}
