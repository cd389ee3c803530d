//! The scoring HTTP API without a transport: a request in, a response plus the prediction log
//! records to store out.
//!
//! The edge worker (and any other server) only adapts its own request type to [`Request`],
//! supplies what the core may not produce itself (request id, current time, secrets, which log
//! store is bound) and performs the I/O the service asks for: storing the returned log records,
//! and for `GET /logs` reading stored records ([`Outcome::ReadLogs`], then
//! [`LogTail`], [`LogPage`]). Routes, status codes and bodies are documented in docs/API.md and
//! served as OpenAPI 3.1 by `GET /openapi.json` (built in [`openapi`]).

mod cors;
mod docs;
mod log_pages;
mod logs;
mod query;

#[cfg(test)]
mod tests;

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::bundle::Bundle;
use crate::compiled::CompiledModel;
use crate::predict::{Prediction, Threshold};
use crate::reasons::DEFAULT_REASONS;
use crate::schema::{FieldIssue, IssueCode, ValidRecord, Warning, truncate};

pub use crate::time::rfc3339_utc;
pub use cors::CorsOrigins;
pub use docs::{features_document, openapi};
pub use log_pages::{
    CoalescedLogs, DEFAULT_LOG_PAGE, LOG_COALESCE_MS, LogCoalescer, LogPage, LogQuery, LogTail, MAX_LOG_PAGE,
    MAX_QUEUE_MESSAGE_BYTES, PARTITIONED_PREFIX, SortKey, batch_id, batch_objects, key_minute, key_time_ms,
    partitioned_key, record_key, send_batches, split_ndjson,
};
pub use logs::{
    InputValue, Inputs, LOG_KEY_PREFIX, LogError, LogRecord, LogWarning, Num, PendingLogs, client_id_hash,
    constant_time_eq, log_object_key, quote_non_finite, render_ndjson,
};

/// Largest request body accepted (bytes); larger bodies get 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Most records in one `POST /predict` body; more get 413.
pub const MAX_PREDICT_RECORDS: usize = 1000;
/// Most records in one `POST /explain` body (TreeSHAP costs far more than scoring); more get 413.
pub const MAX_EXPLAIN_RECORDS: usize = 100;
/// Largest `N` of `GET /logs?tail=N` (records); larger values get 422.
pub const MAX_LOG_TAIL: usize = 10_000;
/// Records `GET /logs` returns when neither `tail` nor a time window is given.
pub const DEFAULT_LOG_TAIL: usize = 200;

/// The message of a 422 for a batch with `bad` invalid records out of `total` (also raised by
/// the Python package's `ValidationError`).
pub fn invalid_records_message(bad: usize, total: usize) -> String {
    format!("{bad} of {total} records are invalid; nothing was scored")
}

/// Where prediction logs go, decided by the adapter from what is bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogStore {
    /// A Cloudflare R2 bucket (`LOGS_BUCKET`): one NDJSON object per request or queue batch.
    R2,
    /// A Workers KV namespace (`LOGS_KV`), when no bucket is bound.
    Kv,
    /// Nothing bound: predictions are not logged and `GET /logs` answers 503.
    Off,
}

impl LogStore {
    /// The name `GET /health` reports as `logs`: "r2", "kv" or "off".
    pub fn as_str(self) -> &'static str {
        match self {
            LogStore::R2 => "r2",
            LogStore::Kv => "kv",
            LogStore::Off => "off",
        }
    }
}

/// Operator configuration, read by the adapter from its environment for each request.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Which log store the adapter has bound.
    pub log_store: LogStore,
    /// `LOGS_ACCESS_TOKEN`: `None` (or empty) disables `GET /logs` (503).
    pub logs_token: Option<String>,
    /// Store `SK_ID_CURR` only as a keyed hash (the default). `false` only when the operator
    /// explicitly turned hashing off: the raw id is then logged.
    pub hash_client_ids: bool,
    /// `LOG_HASH_KEY`: the HMAC key. With hashing on and no key, ids are not logged at all.
    pub hash_key: Option<String>,
    /// `CORS_ALLOW_ORIGINS`: the origins whose pages may call the public routes (default none).
    pub cors: CorsOrigins,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            log_store: LogStore::Off,
            logs_token: None,
            hash_client_ids: true,
            hash_key: None,
            cors: CorsOrigins::None,
        }
    }
}

impl Settings {
    /// How client ids end up in the logs: "hmac-sha256", "raw" or "dropped" (hashing on, no key).
    pub fn client_id_logging(&self) -> &'static str {
        match (self.hash_client_ids, self.hash_key.as_deref().is_some_and(|k| !k.is_empty())) {
            (false, _) => "raw",
            (true, true) => "hmac-sha256",
            (true, false) => "dropped",
        }
    }
}

/// One HTTP request as the service needs it.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// HTTP method, upper case as sent (`GET`, `POST`, `OPTIONS`).
    pub method: &'a str,
    /// Path without the query string, e.g. `/predict`.
    pub path: &'a str,
    /// Raw query string without the `?` (may be empty).
    pub query: &'a str,
    /// `X-Logs-Token` header.
    pub logs_token_header: Option<&'a str>,
    /// `Authorization` header.
    pub authorization: Option<&'a str>,
    /// `X-Client-Source` header (logged as `source`, default "api").
    pub client_source: Option<&'a str>,
    /// `Origin` header (browsers send it on cross-origin requests; see [`CorsOrigins`]).
    pub origin: Option<&'a str>,
    /// The request body as received (JSON for `POST /predict` and `POST /explain`).
    pub body: &'a [u8],
    /// `Content-Length` as declared; an adapter that refuses to read a body declared larger than
    /// [`MAX_BODY_BYTES`] passes an empty `body` and this length, and gets the 413.
    pub declared_body_len: Option<u64>,
    /// Unique id of this request, from the adapter's randomness.
    pub request_id: &'a str,
    /// Current time (milliseconds since the Unix epoch), from the adapter's clock.
    pub now_ms: u64,
}

/// What the adapter sends back.
#[derive(Clone, Debug, PartialEq)]
pub struct Response {
    /// HTTP status code.
    pub status: u16,
    /// `Content-Type` header value ([`JSON`] or [`NDJSON`]).
    pub content_type: &'static str,
    /// The body, UTF-8 (a JSON document, or NDJSON lines for `GET /logs`).
    pub body: String,
    /// Extra headers (`Allow` on 405, `WWW-Authenticate` on 401, `Cache-Control` on logs).
    pub headers: Vec<(&'static str, String)>,
}

/// `Content-Type` of JSON responses.
pub const JSON: &str = "application/json";
/// `Content-Type` of `GET /logs` responses: one JSON log record per line (docs/LOGS.md).
pub const NDJSON: &str = "application/x-ndjson";

/// What the adapter does next.
#[derive(Debug)]
pub enum Outcome {
    /// Send `response`; then complete `logs` with the measured latency
    /// ([`PendingLogs::complete`]) and store them off the response path (body from
    /// [`render_ndjson`]; one object per request keyed by [`partitioned_key`], or queue messages
    /// from [`split_ndjson`]; docs/LOGS.md).
    Respond {
        /// The HTTP response.
        response: Response,
        /// Prediction log records of this request (empty for other routes and for failures
        /// before scoring).
        logs: PendingLogs,
    },
    /// An authorised `GET /logs?tail=N`: feed stored objects, whole minutes newest first, to a
    /// [`LogTail`] until it is full (or none are left), then send [`LogTail::finish`].
    ReadLogs {
        /// Records wanted, in 1..=[`MAX_LOG_TAIL`].
        tail: usize,
    },
    /// An authorised `GET /logs?since&until&limit&cursor`: fill a [`LogPage`] (see there) and
    /// send [`LogPage::finish`].
    ReadWindow {
        /// The parsed window, page size and cursor.
        query: LogQuery,
    },
}

impl Outcome {
    fn plain(response: Response) -> Outcome {
        Outcome::Respond { response, logs: PendingLogs::default() }
    }
}

/// The API over one model bundle.
pub struct Service {
    /// The model, compiled once for the whole life of the service, or why it did not load.
    model: Result<CompiledModel, String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Predict,
    Explain,
}

impl Endpoint {
    fn path(self) -> &'static str {
        match self {
            Endpoint::Predict => "/predict",
            Endpoint::Explain => "/explain",
        }
    }
    fn max_records(self) -> usize {
        match self {
            Endpoint::Predict => MAX_PREDICT_RECORDS,
            Endpoint::Explain => MAX_EXPLAIN_RECORDS,
        }
    }
}

/// The response when the log store cannot be read (`GET /logs` after [`Outcome::ReadLogs`]).
pub fn storage_error(message: &str) -> Response {
    ApiError::new(ErrorCode::LogStoreUnavailable, message).response()
}

/// The machine-readable code of a failed request (`error.code` in the body), a closed list: each
/// code has exactly one HTTP status, so the two can never disagree. docs/API.md lists them and the
/// OpenAPI document's `Error.code` enum is generated from [`ErrorCode::ALL`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// 400: the body is not JSON.
    InvalidJson,
    /// 401: `GET /logs` without a token.
    MissingToken,
    /// 403: `GET /logs` with a wrong token.
    InvalidToken,
    /// 404: no such path.
    NotFound,
    /// 405: the path exists with another method (the `Allow` header says which).
    MethodNotAllowed,
    /// 413: the body is over the byte limit.
    PayloadTooLarge,
    /// 413: more records than the endpoint accepts in one request.
    TooManyRecords,
    /// 422: a record, the envelope or a query parameter is invalid (`details` lists each issue).
    ValidationError,
    /// 503: the worker's model bundle does not load.
    ModelUnavailable,
    /// 503: the log store could not be read.
    LogStoreUnavailable,
    /// 503: `GET /logs` is disabled (no `LOGS_ACCESS_TOKEN` secret).
    LogsTokenNotConfigured,
    /// 503: prediction logging is off (no store bound).
    LoggingOff,
}

impl ErrorCode {
    /// Every code, in the order of docs/API.md.
    pub const ALL: [ErrorCode; 12] = [
        ErrorCode::InvalidJson,
        ErrorCode::MissingToken,
        ErrorCode::InvalidToken,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::PayloadTooLarge,
        ErrorCode::TooManyRecords,
        ErrorCode::ValidationError,
        ErrorCode::ModelUnavailable,
        ErrorCode::LogStoreUnavailable,
        ErrorCode::LogsTokenNotConfigured,
        ErrorCode::LoggingOff,
    ];

    /// The HTTP status this code is always sent with.
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::InvalidJson => 400,
            ErrorCode::MissingToken => 401,
            ErrorCode::InvalidToken => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::PayloadTooLarge | ErrorCode::TooManyRecords => 413,
            ErrorCode::ValidationError => 422,
            ErrorCode::ModelUnavailable
            | ErrorCode::LogStoreUnavailable
            | ErrorCode::LogsTokenNotConfigured
            | ErrorCode::LoggingOff => 503,
        }
    }

    /// The code as sent, e.g. `"validation_error"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidJson => "invalid_json",
            ErrorCode::MissingToken => "missing_token",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::TooManyRecords => "too_many_records",
            ErrorCode::ValidationError => "validation_error",
            ErrorCode::ModelUnavailable => "model_unavailable",
            ErrorCode::LogStoreUnavailable => "log_store_unavailable",
            ErrorCode::LogsTokenNotConfigured => "logs_token_not_configured",
            ErrorCode::LoggingOff => "logging_off",
        }
    }
}

/// A failed request: machine code (which fixes the status), message and per-field details.
#[derive(Debug)]
struct ApiError {
    code: ErrorCode,
    message: String,
    details: Vec<FieldIssue>,
}

impl ApiError {
    fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError { code, message: message.into(), details: Vec::new() }
    }

    fn invalid(message: impl Into<String>, details: Vec<FieldIssue>) -> Self {
        ApiError { code: ErrorCode::ValidationError, message: message.into(), details }
    }

    /// The 422 for one bad query parameter `name` (its issue's path is `query.<name>`).
    fn invalid_query(name: &str, code: IssueCode, reason: String, expected: impl Into<String>) -> Self {
        let path = format!("query.{name}");
        ApiError::invalid("invalid query parameter", alloc::vec![issue(&path, code, reason, expected)])
    }

    fn response(&self) -> Response {
        #[derive(Serialize)]
        struct Body<'a> {
            error: Inner<'a>,
        }
        #[derive(Serialize)]
        struct Inner<'a> {
            code: &'a str,
            message: &'a str,
            details: &'a [FieldIssue],
        }
        let body = Body {
            error: Inner { code: self.code.as_str(), message: &self.message, details: &self.details },
        };
        json_response(self.code.status(), &body)
    }
}

fn issue(path: &str, code: IssueCode, reason: impl Into<String>, expected: impl Into<String>) -> FieldIssue {
    FieldIssue { path: path.into(), code, reason: reason.into(), expected: expected.into() }
}

fn json_response<T: Serialize>(status: u16, body: &T) -> Response {
    // Serializing plain structs, maps and finite-or-null floats cannot fail.
    let body = serde_json::to_string(body).unwrap_or_else(|_| String::from("{}"));
    Response { status, content_type: JSON, body, headers: Vec::new() }
}

/// What a route does. The dispatch matches on it exhaustively, so a path can only reach its own
/// handler (an unlisted path is a 404, never another route's handler).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Handler {
    Health,
    Features,
    Predict,
    Explain,
    Logs,
    OpenApi,
}

/// One route of the API.
struct Route {
    path: &'static str,
    method: &'static str,
    handler: Handler,
    /// A page on an allowed origin may call it (CORS); `/logs` is for the operator's tools only.
    cors: bool,
}

/// The route table: the one definition of paths, methods, handlers and CORS participation.
const ROUTES: &[Route] = &[
    Route { path: "/health", method: "GET", handler: Handler::Health, cors: true },
    Route { path: "/features", method: "GET", handler: Handler::Features, cors: true },
    Route { path: "/predict", method: "POST", handler: Handler::Predict, cors: true },
    Route { path: "/explain", method: "POST", handler: Handler::Explain, cors: true },
    Route { path: "/logs", method: "GET", handler: Handler::Logs, cors: false },
    Route { path: "/openapi.json", method: "GET", handler: Handler::OpenApi, cors: true },
];

fn find_route(path: &str) -> Option<&'static Route> {
    ROUTES.iter().find(|r| r.path == path)
}

/// Whether `path` (a URL path, e.g. `/predict`, no query) is one of the API's routes, whatever the
/// method. Every other path belongs to the static site (the demo page): an adapter that has static
/// assets serves such a path from them first, and answers with [`Service::handle`] (a JSON 404)
/// only when the site lacks it.
pub fn is_api_path(path: &str) -> bool {
    find_route(path).is_some()
}

impl Service {
    /// Loads the bundle; a bundle that cannot be loaded still gives a service whose `/health`
    /// reports 503 with the reason.
    pub fn new(bundle_bytes: &[u8]) -> Service {
        Service::from_loaded(Bundle::from_bytes(bundle_bytes))
    }

    /// [`Service::new`] over bytes already checked when the program was built, loaded with
    /// [`Bundle::from_checked_bytes`] (every check but the content hash): the worker's compiled-in
    /// model, which its `build.rs` loaded with `Bundle::from_bytes`.
    pub fn from_checked_bytes(bundle_bytes: &[u8]) -> Service {
        Service::from_loaded(Bundle::from_checked_bytes(bundle_bytes))
    }

    /// The service over a load's outcome: the compiled model, or the reason /health reports.
    fn from_loaded(loaded: Result<Bundle, crate::bundle::BundleError>) -> Service {
        match loaded {
            Ok(bundle) => Service::from_bundle(bundle),
            Err(e) => Service { model: Err(e.to_string()) },
        }
    }

    /// A service over an already decoded (and checked) bundle; compiles its trees once.
    pub fn from_bundle(bundle: Bundle) -> Service {
        Service { model: Ok(CompiledModel::new(bundle)) }
    }

    /// The bundle, or `None` when it could not be loaded (every scoring route then answers 503).
    pub fn bundle(&self) -> Option<&Bundle> {
        self.model.as_ref().ok().map(CompiledModel::bundle)
    }

    /// Answers one request: routes it (404 for an unknown path, 405 with `Allow` for a wrong
    /// method), answers CORS preflights and adds CORS headers as `settings.cors` allows, and
    /// says what the adapter must do next. Never panics; every failure is a JSON error body
    /// (`{"error": {"code", "message", "details"}}`, docs/API.md).
    pub fn handle(&self, settings: &Settings, req: &Request<'_>) -> Outcome {
        if req.method == "OPTIONS"
            && let Some(response) = cors::preflight(settings, req.path, req.origin)
        {
            return Outcome::plain(response);
        }
        let mut outcome = self.route(settings, req);
        if let Outcome::Respond { response, .. } = &mut outcome {
            cors::decorate(settings, req.path, req.origin, response);
        }
        outcome
    }

    fn route(&self, settings: &Settings, req: &Request<'_>) -> Outcome {
        let Some(route) = find_route(req.path) else {
            return Outcome::plain(
                ApiError::new(ErrorCode::NotFound, format!("no route {}; see GET /openapi.json", req.path))
                    .response(),
            );
        };
        let allowed = route.method;
        if req.method != allowed {
            let mut response = ApiError::new(
                ErrorCode::MethodNotAllowed,
                format!("{} {} is not supported; use {allowed}", req.method, req.path),
            )
            .response();
            let allow = if route.cors { format!("{allowed}, OPTIONS") } else { allowed.to_owned() };
            response.headers.push(("Allow", allow));
            return Outcome::plain(response);
        }
        match route.handler {
            Handler::Health => Outcome::plain(self.health(settings)),
            Handler::OpenApi => Outcome::plain(json_response(200, &openapi(self.bundle()))),
            Handler::Features => Outcome::plain(self.features(req)),
            Handler::Logs => logs::authorize_and_plan(settings, req),
            Handler::Predict => self.score(Endpoint::Predict, settings, req),
            Handler::Explain => self.score(Endpoint::Explain, settings, req),
        }
    }

    fn health(&self, settings: &Settings) -> Response {
        match self.model.as_ref().map(CompiledModel::bundle) {
            Ok(b) => json_response(
                200,
                &serde_json::json!({
                    "status": "ok",
                    "model": {"name": b.meta().name, "version": b.meta().version, "sha256": b.sha256()},
                    "logs": settings.log_store.as_str(),
                    "client_id_logging": settings.client_id_logging(),
                }),
            ),
            Err(reason) => json_response(
                503,
                &serde_json::json!({
                    "status": "error",
                    "error": {"code": ErrorCode::ModelUnavailable.as_str(), "message": reason},
                    "logs": settings.log_store.as_str(),
                }),
            ),
        }
    }

    fn model(&self) -> Result<&CompiledModel, ApiError> {
        self.model.as_ref().map_err(|reason| {
            ApiError::new(ErrorCode::ModelUnavailable, format!("the model bundle cannot be loaded: {reason}"))
        })
    }

    fn features(&self, req: &Request<'_>) -> Response {
        let result = (|| {
            let bundle = self.model()?.bundle();
            let params = query::parse(req.query, &["include_all"])?;
            let include_all = match params.get("include_all") {
                None => false,
                Some(v) => query::parse_bool(v).ok_or_else(|| {
                    ApiError::invalid_query(
                        "include_all",
                        IssueCode::WrongType,
                        format!("`{v}` is not a boolean"),
                        "true or false",
                    )
                })?,
            };
            Ok(json_response(200, &features_document(bundle, include_all)))
        })();
        result.unwrap_or_else(|e: ApiError| e.response())
    }

    /// `POST /predict` and `POST /explain`.
    fn score(&self, endpoint: Endpoint, settings: &Settings, req: &Request<'_>) -> Outcome {
        let ts = rfc3339_utc(req.now_ms);
        let source = match req.client_source {
            Some(s) if !s.trim().is_empty() => truncate(s.trim(), 100),
            _ => "api",
        };
        let request = logs::RequestContext {
            ts,
            request_id: req.request_id.to_owned(),
            endpoint: endpoint.path(),
            model_version: self.bundle().map(|b| b.meta().version.clone()).unwrap_or_default(),
            source: source.to_owned(),
        };
        match self.score_inner(endpoint, req) {
            Ok(Scored { response, records }) => {
                let entries = records
                    .into_iter()
                    .map(|r| logs::Entry::Scored {
                        threshold: r.threshold,
                        client_id_hash: r.id.and_then(|id| logs::client_id_hash(settings, id)),
                        sk_id_curr: if settings.hash_client_ids { None } else { r.id },
                        inputs: r.inputs,
                        warnings: r.warnings,
                        probability: r.probability,
                        score: Some(r.score).filter(|s| s.is_finite()),
                        prediction: r.prediction,
                        reasons: r.reasons,
                    })
                    .collect();
                Outcome::Respond { response, logs: PendingLogs::new(request, entries) }
            }
            Err(e) => {
                let entry = logs::Entry::Failed {
                    status: e.code.status(),
                    error: LogError {
                        code: Some(alloc::borrow::Cow::Borrowed(e.code.as_str())),
                        message: Some(alloc::borrow::Cow::Owned(e.message.clone())),
                        issues: Some(e.details.len() as u64),
                    },
                };
                Outcome::Respond {
                    response: e.response(),
                    logs: PendingLogs::new(request, alloc::vec![entry]),
                }
            }
        }
    }

    fn score_inner(&self, endpoint: Endpoint, req: &Request<'_>) -> Result<Scored, ApiError> {
        let model = self.model()?;
        let bundle = model.bundle();
        let body_len = req.declared_body_len.unwrap_or(0).max(req.body.len() as u64);
        if body_len > MAX_BODY_BYTES as u64 {
            return Err(ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!("request body is {body_len} bytes; the limit is {MAX_BODY_BYTES}"),
            ));
        }
        // `reasons`: None = the default (reasons for refused records only).
        let (threshold, reasons_asked) = match endpoint {
            Endpoint::Predict => {
                let params = query::parse(req.query, &["threshold", "reasons"])?;
                let threshold = match params.get("threshold") {
                    None => bundle.threshold().get(),
                    Some(raw) => parse_threshold(raw)?,
                };
                let reasons = params.get("reasons").map(|raw| parse_reasons(raw, bundle)).transpose()?;
                (threshold, reasons)
            }
            Endpoint::Explain => {
                query::parse(req.query, &[])?;
                (bundle.threshold().get(), Some(0))
            }
        };
        let body: Value = serde_json::from_slice(req.body).map_err(|e| {
            ApiError::new(ErrorCode::InvalidJson, format!("request body is not valid JSON: {e}"))
        })?;
        let (records, batch) = split_records(body, endpoint)?;

        let id_field = bundle.schema().id_field.as_str();
        let mut valid: Vec<ValidRecord> = Vec::with_capacity(records.len());
        let mut issues: Vec<FieldIssue> = Vec::new();
        for (i, record) in records.iter().enumerate() {
            let prefix = if batch { format!("data[{i}].") } else { String::from("data.") };
            match bundle.schema().validate_json(record, &prefix) {
                Ok(v) => valid.push(v),
                Err(mut found) => issues.append(&mut found),
            }
        }
        if !issues.is_empty() {
            let bad = records.len() - valid.len();
            let message = if batch {
                invalid_records_message(bad, records.len())
            } else {
                String::from("the record is invalid; nothing was scored")
            };
            return Err(ApiError::invalid(message, issues));
        }

        // Per record, the item: predictions are scored together with the compiled model (same
        // bits as one by one).
        let items: Vec<Prediction> = match endpoint {
            Endpoint::Predict => {
                let scores = model.score_records(&valid);
                valid
                    .into_iter()
                    .zip(scores)
                    .map(|(record, score)| model.prediction(record, score, threshold, reasons_asked))
                    .collect()
            }
            Endpoint::Explain => valid.into_iter().map(|r| model.explained(r, threshold)).collect(),
        };
        let mut out_records = Vec::with_capacity(items.len());
        let items: Vec<Prediction> = items.into_iter().map(Prediction::for_http).collect();
        for (item, raw) in items.iter().zip(records) {
            let mut inputs = match raw {
                Value::Object(m) => m,
                _ => Map::new(),
            };
            inputs.remove(id_field);
            out_records.push(ScoredRecord {
                id: item.sk_id_curr,
                threshold,
                inputs,
                warnings: item.warnings.clone().unwrap_or_default(),
                probability: item.probability,
                score: item.score,
                prediction: item.prediction,
                reasons: item.reasons.as_ref().map(|list| list.iter().map(|r| r.code.clone()).collect()),
            });
        }
        let (predictions, explanations) = match endpoint {
            Endpoint::Predict => (Some(items), None),
            Endpoint::Explain => (None, Some(items)),
        };
        let body = ScoreResponse {
            explanations,
            model_version: &bundle.meta().version,
            predictions,
            request_id: req.request_id,
            threshold,
        };
        Ok(Scored { response: json_response(200, &body), records: out_records })
    }
}

/// The body of a `POST /predict` (`predictions`) or `POST /explain` (`explanations`) answer;
/// fields in alphabetical order, the order the API has always sent.
#[derive(Serialize)]
struct ScoreResponse<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    explanations: Option<Vec<Prediction>>,
    model_version: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    predictions: Option<Vec<Prediction>>,
    request_id: &'a str,
    threshold: f64,
}

struct Scored {
    response: Response,
    records: Vec<ScoredRecord>,
}

struct ScoredRecord {
    id: Option<i64>,
    threshold: f64,
    inputs: Map<String, Value>,
    warnings: Vec<Warning>,
    probability: f64,
    score: f64,
    prediction: u8,
    reasons: Option<Vec<String>>,
}

/// `?reasons=N`: how many reason codes to return for every record (0 = none, even if refused).
fn parse_reasons(raw: &str, bundle: &Bundle) -> Result<usize, ApiError> {
    let max = bundle.schema().num_model_features();
    match raw.trim().parse::<usize>() {
        Ok(n) if n <= max => Ok(n),
        _ => Err(ApiError::invalid_query(
            "reasons",
            IssueCode::OutOfRange,
            format!("`{}` is not a whole number from 0 to {max}", truncate(raw, 40)),
            format!(
                "how many reason codes to return, 0 to {max} (default {DEFAULT_REASONS} for refused applications)"
            ),
        )),
    }
}

fn parse_threshold(raw: &str) -> Result<f64, ApiError> {
    match raw.trim().parse::<f64>().ok().and_then(Threshold::new) {
        Some(t) => Ok(t.get()),
        _ => Err(ApiError::invalid_query(
            "threshold",
            IssueCode::OutOfRange,
            format!("`{}` is not a number in [0, 1]", truncate(raw, 40)),
            "a probability threshold in [0, 1], e.g. 0.5",
        )),
    }
}

/// Takes `{"data": record}` or `{"data": [records]}` apart, checking the envelope and the
/// record count.
fn split_records(body: Value, endpoint: Endpoint) -> Result<(Vec<Value>, bool), ApiError> {
    let envelope = "a JSON object {\"data\": record} or {\"data\": [records]}";
    let Value::Object(mut top) = body else {
        return Err(ApiError::invalid(
            "request body must be a JSON object with a `data` key",
            alloc::vec![issue("", IssueCode::NotAnObject, "the body is not a JSON object", envelope)],
        ));
    };
    let mut issues = Vec::new();
    for key in top.keys() {
        if key != "data" {
            issues.push(issue(key, IssueCode::UnknownField, "unknown top-level field", envelope));
        }
    }
    let data = top.remove("data");
    let result = match data {
        None => {
            issues.push(issue("data", IssueCode::MissingRequired, "required field is missing", envelope));
            None
        }
        Some(Value::Object(m)) => Some((alloc::vec![Value::Object(m)], false)),
        Some(Value::Array(list)) => {
            if list.len() > endpoint.max_records() {
                return Err(ApiError::new(
                    ErrorCode::TooManyRecords,
                    format!(
                        "{} records in one request; {} accepts at most {}",
                        list.len(),
                        endpoint.path(),
                        endpoint.max_records()
                    ),
                ));
            }
            if list.is_empty() {
                issues.push(issue(
                    "data",
                    IssueCode::MissingRequired,
                    "the list of records is empty",
                    envelope,
                ));
            }
            Some((list, true))
        }
        Some(_) => {
            issues.push(issue(
                "data",
                IssueCode::WrongType,
                "`data` is neither an object nor a list",
                envelope,
            ));
            None
        }
    };
    match result {
        Some(ok) if issues.is_empty() => Ok(ok),
        _ => Err(ApiError::invalid("request body does not have the expected shape", issues)),
    }
}
