//! Prediction log records (SPEC section 6), their storage keys, client-id hashing and the
//! `GET /logs` token check.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use hmac::{Hmac, Mac};
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::{
    ApiError, DEFAULT_LOG_TAIL, LogQuery, LogStore, MAX_LOG_TAIL, Outcome, Request, Settings, issue,
    log_pages, query,
};
use crate::schema::{IssueCode, Warning};

/// Every log object's key starts with this.
pub const LOG_KEY_PREFIX: &str = "logs/";

/// One line of the prediction log: one scored record, or one failed request.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LogRecord {
    /// RFC 3339 UTC time the request was received.
    pub ts: String,
    pub request_id: String,
    /// Position in the request's `data` list (0 for a single record); `null` for a failed request.
    pub record_index: Option<usize>,
    pub endpoint: &'static str,
    pub model_version: String,
    /// Decision threshold applied; `null` for a failed request.
    pub threshold: Option<f64>,
    /// `X-Client-Source` header, or "api".
    pub source: String,
    /// HTTP status of the request.
    pub status: u16,
    /// HMAC-SHA256 (key `LOG_HASH_KEY`) of the decimal `SK_ID_CURR`, hex.
    pub client_id_hash: Option<String>,
    /// The raw id, only when hashing was explicitly turned off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sk_id_curr: Option<i64>,
    /// The record's fields as sent, without the client id; absent for a failed request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inputs: Option<Map<String, Value>>,
    pub warnings: Vec<Warning>,
    pub probability: Option<f64>,
    /// Score points of `probability` on the bundle's scorecard scale; absent for a failed request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    pub prediction: Option<u8>,
    /// Codes of the reasons returned with the prediction (refused records, or `?reasons=N`),
    /// strongest first; absent when none were returned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasons: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<LogError>,
    /// Time from receiving the request to the response, measured by the adapter.
    pub latency_us: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LogError {
    pub code: &'static str,
    pub message: String,
    /// Number of field issues reported to the client (the details themselves may contain input
    /// values, so they are not logged).
    pub issues: usize,
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
        error: LogError,
    },
}

impl PendingLogs {
    pub(super) fn new(request: RequestContext, entries: Vec<Entry>) -> PendingLogs {
        PendingLogs { request: Some(request), entries }
    }

    pub fn is_empty(&self) -> bool {
        self.request.is_none() || self.entries.is_empty()
    }

    pub fn len(&self) -> usize {
        if self.request.is_some() { self.entries.len() } else { 0 }
    }

    /// The final records, stamped with `latency_us`: the time from receiving the request to
    /// having its response, measured by the adapter (microseconds).
    pub fn complete(self, latency_us: u64) -> Vec<LogRecord> {
        let Some(req) = self.request else { return Vec::new() };
        self.entries
            .into_iter()
            .enumerate()
            .map(|(i, entry)| {
                let base = |status: u16, record_index: Option<usize>| LogRecord {
                    ts: req.ts.clone(),
                    request_id: req.request_id.clone(),
                    record_index,
                    endpoint: req.endpoint,
                    model_version: req.model_version.clone(),
                    threshold: None,
                    source: req.source.clone(),
                    status,
                    client_id_hash: None,
                    sk_id_curr: None,
                    inputs: None,
                    warnings: Vec::new(),
                    probability: None,
                    score: None,
                    prediction: None,
                    reasons: None,
                    error: None,
                    latency_us,
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
                        client_id_hash,
                        sk_id_curr,
                        inputs: Some(inputs),
                        warnings,
                        probability: Some(probability),
                        score,
                        prediction: Some(prediction),
                        reasons,
                        ..base(200, Some(i))
                    },
                    Entry::Failed { status, error } => LogRecord { error: Some(error), ..base(status, None) },
                }
            })
            .collect()
    }
}

/// Records as NDJSON: one JSON object per line, each line ending in `\n`.
pub fn render_ndjson(records: &[LogRecord]) -> String {
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
            if e.status == 401 {
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
            503,
            "logs_token_not_configured",
            "GET /logs is disabled: the operator has not set the LOGS_ACCESS_TOKEN secret",
        ));
    };
    let presented =
        req.logs_token_header.map(str::trim).filter(|t| !t.is_empty()).or_else(|| bearer(req.authorization));
    let Some(presented) = presented else {
        return Err(ApiError::new(
            401,
            "missing_token",
            "send the logs token in the X-Logs-Token header or as Authorization: Bearer <token>",
        ));
    };
    if !constant_time_eq(presented.as_bytes(), secret.as_bytes()) {
        return Err(ApiError::new(403, "invalid_token", "the logs token is wrong"));
    }
    if settings.log_store == LogStore::Off {
        return Err(ApiError::new(
            503,
            "logging_off",
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
            _ => Err(ApiError::invalid(
                "invalid query parameter",
                alloc::vec![issue(
                    "query.tail",
                    IssueCode::OutOfRange,
                    format!("`{}` is not an integer in [1, {MAX_LOG_TAIL}]", super::truncate(raw, 40)),
                    format!("an integer in [1, {MAX_LOG_TAIL}] (default {DEFAULT_LOG_TAIL})"),
                )],
            )),
        },
    }
}
