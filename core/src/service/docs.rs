//! Self-description: `GET /features` and `GET /openapi.json`, both generated from the bundle's
//! schema so they cannot drift from what validation does.

use alloc::vec::Vec;
use serde_json::{Map, Value, json};

use super::{
    DEFAULT_LOG_PAGE, DEFAULT_LOG_TAIL, ErrorCode, MAX_BODY_BYTES, MAX_EXPLAIN_RECORDS, MAX_LOG_PAGE,
    MAX_LOG_TAIL, MAX_PREDICT_RECORDS,
};
use crate::bundle::Bundle;
use crate::schema::{InputField, InputKind, MAX_ID, UnknownLevel, folded_pattern};

fn range(min: Option<f64>, max: Option<f64>) -> Value {
    json!({"min": min, "max": max})
}

/// One input as `/features` describes it.
fn field_json(field: &InputField, with_default: bool) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), Value::from(field.name.as_str()));
    match &field.kind {
        InputKind::Numeric(n) => {
            m.insert("type".into(), Value::from(if n.integer { "integer" } else { "number" }));
            if !n.unit.is_empty() {
                m.insert("unit".into(), Value::from(n.unit.as_str()));
            }
            m.insert("valid_range".into(), range(n.valid_min, n.valid_max));
            m.insert("training_range".into(), range(n.train_min, n.train_max));
            if let Some(s) = n.sentinel {
                m.insert(
                    "sentinel".into(),
                    json!({"value": s, "meaning": "not available: scored as missing"}),
                );
            }
            m.insert("example".into(), json!(n.example));
            if with_default {
                m.insert("default".into(), json!(n.default));
            }
        }
        InputKind::Categorical(c) => {
            m.insert("type".into(), Value::from("category"));
            m.insert("levels".into(), json!(c.levels));
            if !c.aliases.is_empty() {
                m.insert("aliases".into(), json!(c.aliases));
            }
            if !c.codes.is_empty() {
                m.insert(
                    "codes".into(),
                    json!({"values": c.codes, "meaning": "the dataset's \"not available\" code: scored as missing (as the level when the model was trained with it), with a warning"}),
                );
            }
            let booleans = c.accepted_booleans();
            if !booleans.is_empty() {
                m.insert("accepts_booleans".into(), json!(booleans));
            }
            m.insert("example".into(), json!(c.example));
            if with_default {
                m.insert("default".into(), json!(c.default));
            }
        }
    }
    m.insert("nullable".into(), Value::from(field.nullable));
    m.insert("expected".into(), Value::from(field.kind.expected()));
    if !field.description.is_empty() {
        m.insert("description".into(), Value::from(field.description.as_str()));
    }
    Value::Object(m)
}

/// The body of `GET /features[?include_all=true]`.
pub fn features_document(bundle: &Bundle, include_all: bool) -> Value {
    let schema = &bundle.schema();
    let required: Vec<&InputField> = schema.inputs.iter().filter(|f| f.required).collect();
    let mut doc = Map::new();
    doc.insert("model_version".into(), Value::from(bundle.meta().version.as_str()));
    doc.insert(
        "id_field".into(),
        json!({"name": schema.id_field, "type": "integer", "required": schema.id_required, "example": 100002}),
    );
    doc.insert(
        "required_features".into(),
        json!(required.iter().map(|f| f.name.as_str()).collect::<Vec<_>>()),
    );
    doc.insert("required".into(), Value::Array(required.iter().map(|f| field_json(f, false)).collect()));
    if include_all {
        let optional = schema
            .inputs
            .iter()
            .filter(|f| !f.required && schema.is_used(&f.name))
            .map(|f| field_json(f, true))
            .collect();
        doc.insert("optional".into(), Value::Array(optional));
        // The rest of the dataset's column dictionary: accepted and checked, never scored.
        let known: Vec<Value> = schema
            .inputs
            .iter()
            .filter(|f| !schema.is_used(&f.name))
            .map(|f| {
                let mut v = field_json(f, false);
                v["status"] = Value::from("known, not used by this model");
                v
            })
            .collect();
        doc.insert("known_not_used".into(), Value::Array(known));
        doc.insert("labels".into(), json!(schema.labels));
        doc.insert("derived".into(), json!(schema.derived));
        doc.insert("model_features".into(), json!(schema.model_features));
        doc.insert("threshold".into(), json!(bundle.threshold()));
        doc.insert("feature_selection".into(), json!(bundle.selection()));
    }
    Value::Object(doc)
}

/// JSON Schema of one input: exactly the values validation accepts (so that an OpenAPI-driven
/// fuzzer finds no value the schema forbids but the API takes, or the reverse).
fn input_schema(f: &InputField) -> Value {
    let mut accepted: Vec<Value> = Vec::new();
    match &f.kind {
        InputKind::Numeric(n) => {
            let mut p = Map::new();
            p.insert("type".into(), Value::from(if n.integer { "integer" } else { "number" }));
            if let Some(lo) = n.valid_min {
                p.insert("minimum".into(), json!(lo));
            }
            if let Some(hi) = n.valid_max {
                p.insert("maximum".into(), json!(hi));
            }
            accepted.push(Value::Object(p));
            // The dataset code (DAYS_EMPLOYED = 365243) is accepted outside the valid range.
            if let Some(code) = n.sentinel {
                accepted.push(json!({"const": code}));
            }
        }
        InputKind::Categorical(c) => {
            match c.unknown {
                // Any text: an unknown level is scored as missing, with a warning.
                UnknownLevel::Missing => accepted.push(json!({"type": "string"})),
                UnknownLevel::Reject => {
                    accepted.push(json!({"type": "string", "pattern": folded_pattern(c.spellings())}))
                }
            }
            let booleans = c.accepted_booleans();
            if !booleans.is_empty() {
                accepted.push(json!({"enum": booleans}));
            }
        }
    }
    if f.nullable || !f.required {
        accepted.push(json!({"type": "null"}));
    }
    let mut p = Map::new();
    if accepted.len() == 1 {
        p = match accepted.pop() {
            Some(Value::Object(m)) => m,
            _ => Map::new(),
        };
    } else {
        p.insert("anyOf".into(), Value::Array(accepted));
    }
    let example = match &f.kind {
        InputKind::Numeric(n) => n.example.map(Value::from),
        InputKind::Categorical(c) => c.example.clone().map(Value::from),
    };
    if let Some(e) = example {
        p.insert("examples".into(), json!([e]));
    }
    p.insert("description".into(), Value::from(f.kind.expected()));
    Value::Object(p)
}

/// JSON Schema of one client record, from the bundle's schema.
fn record_schema(bundle: &Bundle) -> Value {
    let schema = &bundle.schema();
    let mut properties = Map::new();
    properties.insert(
        schema.id_field.clone(),
        json!({"type": "integer", "minimum": 0, "maximum": MAX_ID, "description": "client id (echoed, never a model input); at most 2^53 - 1, the largest integer every JSON client keeps exact", "examples": [100002]}),
    );
    let mut required: Vec<&str> = Vec::new();
    if schema.id_required {
        required.push(&schema.id_field);
    }
    for f in &schema.inputs {
        if f.required {
            required.push(&f.name);
        }
        properties.insert(f.name.clone(), input_schema(f));
    }
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

fn error_response(description: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
}

/// The OpenAPI 3.1 document of the API (record schema from the bundle when it is loaded).
pub fn openapi(bundle: Option<&Bundle>) -> Value {
    let record = bundle.map(record_schema).unwrap_or_else(|| json!({"type": "object"}));
    let version = bundle.map(|b| b.meta().version.as_str()).unwrap_or("unavailable");
    // `?reasons=N` goes up to the number of model features.
    let num_features = bundle.map_or(0, |b| b.schema().num_model_features());
    // Reason codes, referenced from Prediction.
    let error_codes: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    let reason = json!({"type": "object", "required": ["code", "feature", "value", "typical", "inputs", "contribution", "sentence"], "properties": {
        "code": {"type": "string", "description": "stable code <FEATURE>.<direction>, direction one of low, high, value, level, missing, flag", "examples": ["EXT_SOURCE_3.low"]},
        "feature": {"type": "string", "description": "model feature"},
        "value": {"type": ["number", "string", "null"], "description": "the value scored, as the model saw it: the one sent, or the field's schema default when the field was left out; number, category level, or null for missing"},
        "typical": {"type": ["number", "string", "null"], "description": "training median or most frequent level; for a ratio/difference/product, the operation on its inputs' typical values; null when unknown"},
        "inputs": {"type": "array", "description": "the inputs a derived feature comes from (empty for an input)", "items": {"type": "object", "required": ["name", "value", "typical"], "properties": {
            "name": {"type": "string"},
            "value": {"type": ["number", "string", "null"], "description": "the value scored: the one sent, or the input's schema default when it was left out; null for missing"},
            "typical": {"type": ["number", "string", "null"]}
        }}},
        "contribution": {"type": "number", "description": "TreeSHAP value (log-odds), > 0: towards default"},
        "sentence": {"type": "string", "examples": ["EXT_SOURCE_3 is low: 0.21, typical 0.51"]}
    }});
    let body_limit = alloc::format!(
        "Body limit {MAX_BODY_BYTES} bytes and at most {{N}} records per request, else 413. Malformed JSON: 400. \
         Every validation problem of every record at once: 422."
    );
    let scoring_body = |max: usize| {
        json!({
            "required": true,
            "content": {"application/json": {"schema": {
                "type": "object",
                "required": ["data"],
                "additionalProperties": false,
                "properties": {"data": {"oneOf": [
                    {"$ref": "#/components/schemas/Record"},
                    {"type": "array", "minItems": 1, "maxItems": max, "items": {"$ref": "#/components/schemas/Record"}}
                ]}}
            }}}
        })
    };
    let scoring_errors = |ok: Value, max: usize| {
        json!({
            "200": ok,
            "400": error_response("malformed JSON"),
            "405": error_response("wrong method"),
            "413": error_response(&body_limit.replace("{N}", &alloc::format!("{max}"))),
            "422": error_response("validation failed: `details` lists every problem, with paths such as data[3].AMT_CREDIT"),
            "503": error_response("model bundle unavailable"),
        })
    };
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "creditscore",
            "version": version,
            "description": "Credit-default scoring: probability of default, decision at a business-optimal threshold, per-feature explanations. Every scored record is logged (client id as a keyed hash)."
        },
        "paths": {
            "/health": {"get": {
                "summary": "Liveness, model identity and where logs go",
                "responses": {
                    "200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}},
                    "503": {"description": "the model bundle cannot be loaded", "content": {"application/json": {"schema": {"type": "object"}}}}
                }
            }},
            "/features": {"get": {
                "summary": "Required inputs (type, range, example); with include_all also optional inputs with defaults, derived features, the default threshold and the feature-selection result",
                "parameters": [{"name": "include_all", "in": "query", "required": false, "schema": {"type": "boolean", "default": false}}],
                "responses": {"200": {"description": "feature description", "content": {"application/json": {"schema": {"type": "object", "required": ["model_version", "id_field", "required_features", "required"]}}}}, "422": error_response("invalid query parameter")}
            }},
            "/predict": {"post": {
                "summary": "Probability of default and decision for one record or a batch",
                "parameters": [
                    {"name": "threshold", "in": "query", "required": false, "description": "decision threshold in [0, 1]; default: the bundle's business-optimal threshold", "schema": {"type": "number", "minimum": 0, "maximum": 1}},
                    {"name": "reasons", "in": "query", "required": false, "description": "number of reason codes for every record (0 = none); default: 4 for refused records, none for accepted ones", "schema": {"type": "integer", "minimum": 0, "maximum": num_features}}
                ],
                "description": "prediction is 1 (predicted default: refuse) when probability >= threshold; score is the probability on the bundle's scorecard scale (default 600 points at 50:1 good:bad odds, 20 points to double the odds; higher = safer); reasons are the features that pushed furthest towards refusal (largest positive TreeSHAP contributions)",
                "requestBody": scoring_body(MAX_PREDICT_RECORDS),
                "responses": scoring_errors(json!({"description": "scores, in request order", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PredictResponse"}}}}), MAX_PREDICT_RECORDS)
            }},
            "/explain": {"post": {
                "summary": "TreeSHAP contributions per record (base_value + sum of contributions = raw_score)",
                "requestBody": scoring_body(MAX_EXPLAIN_RECORDS),
                "responses": scoring_errors(json!({"description": "explanations, in request order", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ExplainResponse"}}}}), MAX_EXPLAIN_RECORDS)
            }},
            "/logs": {"get": {
                "summary": "Prediction log records, one JSON object per line: the newest `tail` (oldest first), or a time window in time order, paged",
                "security": [{"logsToken": []}, {"bearer": []}],
                "parameters": [
                    {"name": "tail", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LOG_TAIL, "default": DEFAULT_LOG_TAIL}},
                    {"name": "since", "in": "query", "required": false, "description": "inclusive; RFC 3339", "schema": {"type": "string", "format": "date-time"}},
                    {"name": "until", "in": "query", "required": false, "description": "exclusive; RFC 3339", "schema": {"type": "string", "format": "date-time"}},
                    {"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LOG_PAGE, "default": DEFAULT_LOG_PAGE}},
                    {"name": "cursor", "in": "query", "required": false, "description": "X-Next-Cursor of the previous page", "schema": {"type": "string"}}
                ],
                "responses": {
                    "200": {
                        "description": "NDJSON log records, duplicates dropped",
                        "headers": {
                            "X-Next-Cursor": {"description": "present while more records remain in the window", "schema": {"type": "string"}},
                            "X-Log-Records": {"schema": {"type": "integer"}},
                            "X-Log-Duplicates": {"description": "copies of records dropped (at-least-once delivery)", "schema": {"type": "integer"}},
                            "X-Log-Skipped": {"description": "stored lines that are not log records", "schema": {"type": "integer"}}
                        },
                        "content": {"application/x-ndjson": {"schema": {"$ref": "#/components/schemas/LogRecord"}}}
                    },
                    "401": error_response("no token sent"),
                    "403": error_response("wrong token"),
                    "422": error_response("invalid tail, since, until, limit or cursor"),
                    "503": error_response("LOGS_ACCESS_TOKEN not set, or logging off")
                }
            }},
            "/openapi.json": {"get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}}}}}
        },
        "components": {
            "securitySchemes": {
                "logsToken": {"type": "apiKey", "in": "header", "name": "X-Logs-Token"},
                "bearer": {"type": "http", "scheme": "bearer"}
            },
            "schemas": {
                "Record": record,
                "Warning": {"type": "object", "required": ["field", "code", "message"], "properties": {
                    "field": {"type": "string"},
                    "code": {"enum": ["outside_training_range", "sentinel_value", "unknown_category_as_missing"]},
                    "message": {"type": "string"}
                }},
                "Prediction": {"type": "object", "required": ["sk_id_curr", "probability", "score", "prediction"], "properties": {
                    "sk_id_curr": {"type": ["integer", "null"]},
                    "probability": {"type": "number", "minimum": 0, "maximum": 1},
                    "score": {"type": "number", "description": "score points: offset + factor * ln((1 - p) / p), factor = pdo / ln 2, offset = base_points - factor * ln(base_odds); p clamped to [1e-9, 1 - 1e-9]"},
                    "prediction": {"enum": [0, 1], "description": "1 = predicted default = refuse"},
                    "reasons": {"type": "array", "items": {"$ref": "#/components/schemas/Reason"}, "description": "present for refused records (4), or for every record with ?reasons=N; strongest first"},
                    "warnings": {"type": "array", "items": {"$ref": "#/components/schemas/Warning"}, "description": "present only when the record has at least one warning (a value outside the training range, a dataset's not-available code, an unknown level scored as missing); left out, not [], when there is none"}
                }},
                "Reason": reason,
                "PredictResponse": {"type": "object", "required": ["predictions", "threshold", "model_version", "request_id"], "properties": {
                    "predictions": {"type": "array", "items": {"$ref": "#/components/schemas/Prediction"}},
                    "threshold": {"type": "number"},
                    "model_version": {"type": "string"},
                    "request_id": {"type": "string"}
                }},
                "Explanation": {"allOf": [{"$ref": "#/components/schemas/Prediction"}, {"type": "object", "required": ["raw_score", "base_value", "contributions"], "properties": {
                    "raw_score": {"type": "number", "description": "log-odds"},
                    "base_value": {"type": "number", "description": "expected raw score over the training data"},
                    "contributions": {"type": "array", "description": "one per model feature, largest |contribution| first", "items": {"type": "object", "required": ["feature", "value", "contribution"], "properties": {
                        "feature": {"type": "string"},
                        "value": {"type": ["number", "string", "null"], "description": "as the model saw it: number, category level, or null for missing"},
                        "contribution": {"type": "number"}
                    }}}
                }}]},
                "ExplainResponse": {"type": "object", "required": ["explanations", "threshold", "model_version", "request_id"], "properties": {
                    "explanations": {"type": "array", "items": {"$ref": "#/components/schemas/Explanation"}},
                    "threshold": {"type": "number"},
                    "model_version": {"type": "string"},
                    "request_id": {"type": "string"}
                }},
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["code", "message", "details"], "properties": {
                    "code": {"type": "string", "enum": error_codes},
                    "message": {"type": "string"},
                    "details": {"type": "array", "items": {"type": "object", "required": ["path", "reason", "expected"], "properties": {
                        "path": {"type": "string", "examples": ["data[3].AMT_CREDIT"]},
                        "code": {"type": "string"},
                        "reason": {"type": "string"},
                        "expected": {"type": "string"}
                    }}}
                }}}},
                "Health": {"type": "object", "required": ["status", "model", "logs"], "properties": {
                    "status": {"const": "ok"},
                    "model": {"type": "object", "required": ["name", "version", "sha256"]},
                    "logs": {"enum": ["r2", "kv", "off"]},
                    "client_id_logging": {"enum": ["hmac-sha256", "raw", "dropped"]}
                }},
                "LogRecord": {"type": "object", "required": ["ts", "request_id", "record_index", "endpoint", "model_version", "threshold", "source", "status", "client_id_hash", "warnings", "probability", "prediction", "latency_us"], "properties": {
                    "ts": {"type": "string", "format": "date-time"},
                    "request_id": {"type": "string"},
                    "record_index": {"type": ["integer", "null"]},
                    "endpoint": {"enum": ["/predict", "/explain"]},
                    "model_version": {"type": "string"},
                    "threshold": {"type": ["number", "null"]},
                    "source": {"type": "string"},
                    "status": {"type": "integer"},
                    "client_id_hash": {"type": ["string", "null"], "description": "HMAC-SHA256 hex of SK_ID_CURR with LOG_HASH_KEY"},
                    "sk_id_curr": {"type": "integer", "description": "only when hashing is turned off"},
                    "inputs": {"type": "object", "description": "the record as sent, without SK_ID_CURR; absent for failed requests"},
                    "warnings": {"type": "array", "items": {"$ref": "#/components/schemas/Warning"}},
                    "probability": {"type": ["number", "null"]},
                    "score": {"type": "number", "description": "score points; absent for failed requests"},
                    "prediction": {"type": ["integer", "null"]},
                    "reasons": {"type": "array", "items": {"type": "string"}, "description": "codes of the reasons returned, strongest first; absent when none"},
                    "error": {"type": "object", "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "issues": {"type": "integer"}}},
                    "latency_us": {"type": "integer"}
                }}
            }
        }
    })
}
