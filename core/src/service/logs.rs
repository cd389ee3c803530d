//! Prediction log records (docs/API.md, "Prediction log records"), their storage keys, client-id hashing and the
//! `GET /logs` token check.

use alloc::borrow::Cow;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};
use sha2::{Digest, Sha256};

use super::{
    ApiError, DEFAULT_LOG_TAIL, ErrorCode, LogQuery, LogStore, MAX_LOG_TAIL, Outcome, Request, Settings,
    log_pages, query,
};
use crate::schema::{IssueCode, Warning};

mod read;
pub use read::quote_non_finite;

/// Every log object's key starts with this.
pub const LOG_KEY_PREFIX: &str = "logs/";

/// One line of the prediction log: one scored record, or one failed request. The one definition
/// of the record: the service writes it ([`PendingLogs::complete`], [`render_ndjson`]) and the
/// readers parse it back ([`LogRecord::from_json_line`]: `creditscore drift`).
///
/// Strings borrow from the parsed line when they have no escapes (`Cow`), so reading millions
/// of lines allocates little. Fields are `Option` because logs written by older versions or by
/// other systems may lack them; the service always fills `ts`, `request_id`, `endpoint`,
/// `model_version`, `source`, `status` and `latency_us`.
///
/// Reading is forgiving (a log line is evidence, not a request): members of an unexpected type
/// are read as absent rather than failing the record (except `inputs`, `warnings` and
/// `probability`, which the drift report relies on), unknown members are skipped, a member
/// given twice keeps its last value (as Python's `json` and `JSON.parse` do) and is counted in
/// `duplicate_keys`, and Python's `NaN`/`Infinity`/`-Infinity` and out-of-range literals such as
/// `1e400` spoil only their own value ([`Num::NonFinite`], [`InputValue::NonFinite`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LogRecord<'a> {
    /// RFC 3339 UTC time the request was received.
    pub ts: Option<Cow<'a, str>>,
    /// With `record_index`, the record's identity: at-least-once delivery may store copies of a
    /// record, and readers keep one per (`request_id`, `record_index`).
    pub request_id: Option<Cow<'a, str>>,
    /// Position in the request's `data` list (0 for a single record); `null` for a failed request.
    pub record_index: Option<u64>,
    /// Route: `/predict` or `/explain`.
    pub endpoint: Option<Cow<'a, str>>,
    /// The bundle's `meta.version` (empty when no bundle could be loaded).
    pub model_version: Option<Cow<'a, str>>,
    /// Decision threshold applied; `null` for a failed request.
    pub threshold: Option<f64>,
    /// `X-Client-Source` header, or "api".
    pub source: Option<Cow<'a, str>>,
    /// HTTP status of the request.
    pub status: Option<u16>,
    /// HMAC-SHA256 (key `LOG_HASH_KEY`) of the decimal `SK_ID_CURR`, hex.
    pub client_id_hash: Option<Cow<'a, str>>,
    /// The raw id, only when hashing was explicitly turned off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sk_id_curr: Option<i64>,
    /// The record's fields as sent, without the client id; absent for a failed request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inputs: Option<Inputs<'a>>,
    /// Validation warnings returned with the prediction; empty for a failed request.
    pub warnings: Vec<LogWarning<'a>>,
    /// Predicted probability of default, in [0, 1].
    pub probability: Option<Num>,
    /// Score points of `probability` on the bundle's scorecard scale; absent for a failed request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// 1 = refused (probability at or above the threshold), 0 = accepted.
    pub prediction: Option<Num>,
    /// Codes of the reasons returned with the prediction (refused records, or `?reasons=N`),
    /// strongest first; absent when none were returned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasons: Option<Vec<Cow<'a, str>>>,
    /// What failed; absent for a scored record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<LogError<'a>>,
    /// Time from receiving the request to the response, measured by the adapter (microseconds).
    pub latency_us: Option<Num>,
    /// Reading only: top-level members given more than once (the last value is kept).
    #[serde(skip)]
    pub duplicate_keys: u32,
}

/// The error of a failed request.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LogError<'a> {
    /// The error code of the response (`validation_error`, `payload_too_large`, ...; docs/API.md
    /// "Errors"); read from a bare string too.
    pub code: Option<Cow<'a, str>>,
    /// The error message returned to the client.
    pub message: Option<Cow<'a, str>>,
    /// Number of field issues reported to the client (the details themselves may contain input
    /// values, so they are not logged).
    pub issues: Option<u64>,
}

/// A validation warning returned with a prediction ([`Warning`], its code as text so that
/// readers accept codes of other versions).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogWarning<'a> {
    /// Input name.
    #[serde(borrow)]
    pub field: Cow<'a, str>,
    /// The warning code in snake_case (`outside_training_range`, `sentinel_value`, ...).
    #[serde(borrow)]
    pub code: Cow<'a, str>,
    /// The warning text for people (empty when the line has none).
    #[serde(borrow, default)]
    pub message: Cow<'a, str>,
}

impl From<Warning> for LogWarning<'static> {
    fn from(w: Warning) -> Self {
        let code = match serde_json::to_value(w.code) {
            Ok(Value::String(s)) => s,
            _ => String::new(),
        };
        LogWarning { field: Cow::Owned(w.field), code: Cow::Owned(code), message: Cow::Owned(w.message) }
    }
}

/// A JSON number as written (integers stay integers), or one of the non-finite values Python's
/// `json` writes (`NaN`, `Infinity`, `-Infinity`) or a literal beyond the f64 range (`1e400`):
/// JSON has none of them, so they are kept apart instead of failing the whole record. Written,
/// `NonFinite` is `null`.
#[derive(Clone, Debug, PartialEq)]
pub enum Num {
    /// A number JSON can carry, as written (integer or float).
    Finite(Number),
    /// `NaN`, `Infinity`, `-Infinity` or a literal beyond the f64 range.
    NonFinite,
}

impl Num {
    /// The value as f64; `None` for a non-finite one.
    pub fn finite(self) -> Option<f64> {
        match self {
            Num::Finite(n) => n.as_f64().filter(|v| v.is_finite()),
            Num::NonFinite => None,
        }
    }
}

impl From<f64> for Num {
    fn from(v: f64) -> Num {
        Number::from_f64(v).map_or(Num::NonFinite, Num::Finite)
    }
}

impl From<u64> for Num {
    fn from(v: u64) -> Num {
        Num::Finite(Number::from(v))
    }
}

impl Serialize for Num {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Num::Finite(n) => n.serialize(s),
            Num::NonFinite => s.serialize_unit(),
        }
    }
}

/// The `inputs` object, as (name, value) pairs in line order: a name given twice appears twice
/// (readers keep the last and count the others).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Inputs<'a>(pub Vec<(Cow<'a, str>, InputValue<'a>)>);

/// One input value as the client sent it.
#[derive(Clone, Debug, PartialEq)]
pub enum InputValue<'a> {
    /// A finite JSON number, as written.
    Number(Number),
    /// `NaN`, `Infinity`, `-Infinity` or an out-of-range literal such as `1e400` (written `null`).
    NonFinite,
    /// A JSON string.
    Text(Cow<'a, str>),
    /// A JSON boolean.
    Bool(bool),
    /// JSON `null` (sent as missing).
    Null,
    /// An array or object: no input takes one, it is kept as sent.
    Other(Value),
}

impl<'a> Inputs<'a> {
    /// The value of `name` (the last one when the name is given twice, as Python's `json` reads it).
    pub fn get(&self, name: &str) -> Option<&InputValue<'a>> {
        self.0.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v)
    }
}

impl From<Map<String, Value>> for Inputs<'static> {
    fn from(map: Map<String, Value>) -> Self {
        Inputs(
            map.into_iter()
                .map(|(k, v)| {
                    let value = match v {
                        Value::Number(n) => InputValue::Number(n),
                        Value::String(s) => InputValue::Text(Cow::Owned(s)),
                        Value::Bool(b) => InputValue::Bool(b),
                        Value::Null => InputValue::Null,
                        other => InputValue::Other(other),
                    };
                    (Cow::Owned(k), value)
                })
                .collect(),
        )
    }
}

impl Serialize for Inputs<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl Serialize for InputValue<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            InputValue::Number(n) => n.serialize(s),
            InputValue::NonFinite | InputValue::Null => s.serialize_unit(),
            InputValue::Text(t) => s.serialize_str(t),
            InputValue::Bool(b) => s.serialize_bool(*b),
            InputValue::Other(v) => v.serialize(s),
        }
    }
}

/// Key of the object holding one request's records: `logs/<inverted ms>_<RFC 3339>_<request id>.ndjson`.
/// The inverted time (9999999999999 - ms, 13 digits) makes a plain ascending listing return the
/// newest objects first, which is what `GET /logs?tail=N` needs; the readable time follows.
pub fn log_object_key(now_ms: u64, request_id: &str) -> String {
    const MAX_MS: u64 = 9_999_999_999_999;
    let inverted = MAX_MS.saturating_sub(now_ms);
    format!("{LOG_KEY_PREFIX}{inverted:013}_{}_{request_id}.ndjson", super::rfc3339_utc(now_ms))
}

/// What is known about one request when the service answers it: everything a log record holds
/// except the latency, which only the adapter can measure (after the response is built).
/// [`PendingLogs::complete`] makes the final records.
#[derive(Clone, Debug, Default)]
pub struct PendingLogs {
    /// `None` when the request writes no log (e.g. `GET /health`).
    request: Option<RequestContext>,
    entries: Vec<Entry>,
}

#[derive(Clone, Debug)]
pub(super) struct RequestContext {
    pub ts: String,
    pub request_id: String,
    pub endpoint: &'static str,
    pub model_version: String,
    pub source: String,
}

#[derive(Clone, Debug)]
pub(super) enum Entry {
    Scored {
        threshold: f64,
        client_id_hash: Option<String>,
        sk_id_curr: Option<i64>,
        inputs: Map<String, Value>,
        warnings: Vec<Warning>,
        probability: f64,
        /// Score points; `None` when not finite.
        score: Option<f64>,
        prediction: u8,
        reasons: Option<Vec<String>>,
    },
    Failed {
        status: u16,
        error: LogError<'static>,
    },
}

impl PendingLogs {
    pub(super) fn new(request: RequestContext, entries: Vec<Entry>) -> PendingLogs {
        PendingLogs { request: Some(request), entries }
    }

    /// Whether the request writes no log record.
    pub fn is_empty(&self) -> bool {
        self.request.is_none() || self.entries.is_empty()
    }

    /// Log records the request writes (one per scored record, or one for a failure).
    pub fn len(&self) -> usize {
        if self.request.is_some() { self.entries.len() } else { 0 }
    }

    /// The final records, stamped with `latency_us`: the time from receiving the request to
    /// having its response, measured by the adapter (microseconds).
    pub fn complete(self, latency_us: u64) -> Vec<LogRecord<'static>> {
        let Some(req) = self.request else { return Vec::new() };
        self.entries
            .into_iter()
            .enumerate()
            .map(|(i, entry)| {
                let base = |status: u16, record_index: Option<u64>| LogRecord {
                    ts: Some(Cow::Owned(req.ts.clone())),
                    request_id: Some(Cow::Owned(req.request_id.clone())),
                    record_index,
                    endpoint: Some(Cow::Borrowed(req.endpoint)),
                    model_version: Some(Cow::Owned(req.model_version.clone())),
                    source: Some(Cow::Owned(req.source.clone())),
                    status: Some(status),
                    latency_us: Some(Num::from(latency_us)),
                    ..LogRecord::default()
                };
                match entry {
                    Entry::Scored {
                        threshold,
                        client_id_hash,
                        sk_id_curr,
                        inputs,
                        warnings,
                        probability,
                        score,
                        prediction,
                        reasons,
                    } => LogRecord {
                        threshold: Some(threshold),
                        client_id_hash: client_id_hash.map(Cow::Owned),
                        sk_id_curr,
                        inputs: Some(Inputs::from(inputs)),
                        warnings: warnings.into_iter().map(LogWarning::from).collect(),
                        probability: Some(Num::from(probability)),
                        score,
                        prediction: Some(Num::from(u64::from(prediction))),
                        reasons: reasons.map(|r| r.into_iter().map(Cow::Owned).collect()),
                        ..base(200, Some(i as u64))
                    },
                    Entry::Failed { status, error } => LogRecord { error: Some(error), ..base(status, None) },
                }
            })
            .collect()
    }
}

/// Records as NDJSON: one JSON object per line, each line ending in `\n`.
pub fn render_ndjson(records: &[LogRecord<'_>]) -> String {
    let mut out = String::new();
    for r in records {
        // A record holds only strings, integers, finite-or-null floats and JSON values.
        if let Ok(line) = serde_json::to_string(r) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

/// What the log stores about a client id, per the settings.
pub fn client_id_hash(settings: &Settings, id: i64) -> Option<String> {
    if !settings.hash_client_ids {
        return None;
    }
    let key = settings.hash_key.as_deref().filter(|k| !k.is_empty())?;
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).ok()?;
    mac.update(format!("{id}").as_bytes());
    Some(hex::encode(mac.finalize().into_bytes()))
}

/// Compares secrets in time independent of where they differ and of their lengths (both are
/// hashed to 32 bytes first, then every byte is compared).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let (ha, hb) = (Sha256::digest(a), Sha256::digest(b));
    let mut diff = 0u8;
    for (x, y) in ha.iter().zip(hb.iter()) {
        diff |= x ^ y;
    }
    core::hint::black_box(diff) == 0
}

fn bearer(authorization: Option<&str>) -> Option<&str> {
    let value = authorization?.trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

/// Token check, then the query: `tail=N`, or a time window (`since`, `until`, `limit`, `cursor`).
pub(super) fn authorize_and_plan(settings: &Settings, req: &Request<'_>) -> Outcome {
    match plan(settings, req) {
        Ok(Err(query)) => Outcome::ReadWindow { query },
        Ok(Ok(tail)) => Outcome::ReadLogs { tail },
        Err(e) => {
            let mut response = e.response();
            if e.code == ErrorCode::MissingToken {
                response.headers.push(("WWW-Authenticate", String::from("Bearer realm=\"logs\"")));
            }
            Outcome::plain(response)
        }
    }
}

/// `Ok(Ok(tail))` or `Ok(Err(window query))`.
fn plan(settings: &Settings, req: &Request<'_>) -> Result<Result<usize, LogQuery>, ApiError> {
    let Some(secret) = settings.logs_token.as_deref().filter(|t| !t.is_empty()) else {
        return Err(ApiError::new(
            ErrorCode::LogsTokenNotConfigured,
            "GET /logs is disabled: the operator has not set the LOGS_ACCESS_TOKEN secret",
        ));
    };
    let presented =
        req.logs_token_header.map(str::trim).filter(|t| !t.is_empty()).or_else(|| bearer(req.authorization));
    let Some(presented) = presented else {
        return Err(ApiError::new(
            ErrorCode::MissingToken,
            "send the logs token in the X-Logs-Token header or as Authorization: Bearer <token>",
        ));
    };
    if !constant_time_eq(presented.as_bytes(), secret.as_bytes()) {
        return Err(ApiError::new(ErrorCode::InvalidToken, "the logs token is wrong"));
    }
    if settings.log_store == LogStore::Off {
        return Err(ApiError::new(
            ErrorCode::LoggingOff,
            "prediction logging is off: bind an R2 bucket (LOGS_BUCKET) or a KV namespace (LOGS_KV)",
        ));
    }
    let params = query::parse(req.query, &["tail", "since", "until", "limit", "cursor"])?;
    if let Some(window) = log_pages::parse_query(&params)? {
        return Ok(Err(window));
    }
    match params.get("tail") {
        None => Ok(Ok(DEFAULT_LOG_TAIL)),
        Some(raw) => match raw.trim().parse::<usize>() {
            Ok(n) if (1..=MAX_LOG_TAIL).contains(&n) => Ok(Ok(n)),
            _ => Err(ApiError::invalid_query(
                "tail",
                IssueCode::OutOfRange,
                format!("`{}` is not an integer in [1, {MAX_LOG_TAIL}]", super::truncate(raw, 40)),
                format!("an integer in [1, {MAX_LOG_TAIL}] (default {DEFAULT_LOG_TAIL})"),
            )),
        },
    }
}
