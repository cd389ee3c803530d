use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use serde_json::{Value, json};

use super::*;
// A bundle shaped like the default model: the ten required inputs, one optional, three trees.
use crate::test_support::home_credit_bundle as bundle;
use crate::test_support::{readme_clients, repo_bytes, repo_text};

fn record(overrides: Value) -> Value {
    let mut r = readme_clients().swap_remove(0);
    for (k, v) in overrides.as_object().unwrap() {
        if v == "<absent>" {
            r.as_object_mut().unwrap().remove(k);
        } else {
            r[k] = v.clone();
        }
    }
    r
}

fn settings() -> Settings {
    Settings {
        log_store: LogStore::R2,
        logs_token: Some("s3cret".into()),
        hash_client_ids: true,
        hash_key: Some("k3y".into()),
        cors: CorsOrigins::None,
    }
}

struct Call<'a> {
    method: &'a str,
    path: &'a str,
    query: &'a str,
    body: Vec<u8>,
    token: Option<&'a str>,
    authorization: Option<&'a str>,
    declared: Option<u64>,
    origin: Option<&'a str>,
}

fn call<'a>(method: &'a str, path: &'a str) -> Call<'a> {
    Call {
        method,
        path,
        query: "",
        body: Vec::new(),
        token: None,
        authorization: None,
        declared: None,
        origin: None,
    }
}

impl<'a> Call<'a> {
    fn query(mut self, q: &'a str) -> Self {
        self.query = q;
        self
    }
    fn json(mut self, v: &Value) -> Self {
        self.body = serde_json::to_vec(v).unwrap();
        self
    }
    fn raw(mut self, b: &[u8]) -> Self {
        self.body = b.to_vec();
        self
    }
    fn run(&self, service: &Service, settings: &Settings) -> Outcome {
        service.handle(
            settings,
            &Request {
                method: self.method,
                path: self.path,
                query: self.query,
                logs_token_header: self.token,
                authorization: self.authorization,
                client_source: None,
                origin: self.origin,
                body: &self.body,
                declared_body_len: self.declared,
                request_id: "req-1",
                now_ms: 1_795_000_000_123,
            },
        )
    }
    fn respond(&self, service: &Service, settings: &Settings) -> (Response, Value, Vec<LogRecord<'static>>) {
        match self.run(service, settings) {
            Outcome::Respond { response, logs } => {
                let body = if response.content_type == JSON {
                    serde_json::from_str(&response.body).unwrap()
                } else {
                    Value::Null
                };
                (response, body, logs.complete(0))
            }
            Outcome::ReadLogs { tail } => panic!("unexpected ReadLogs({tail})"),
            Outcome::ReadWindow { query } => panic!("unexpected ReadWindow({query:?})"),
        }
    }
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + libm::exp(-x))
}

#[test]
fn readme_single_record_is_scored_and_logged() {
    let s = Service::from_bundle(bundle());
    let body = json!({"data": record(json!({}))});
    let (resp, v, logs) =
        call("POST", "/predict").query("threshold=0.5").json(&body).respond(&s, &settings());
    assert_eq!(resp.status, 200, "{}", resp.body);
    let p = &v["predictions"][0];
    assert_eq!(p["sk_id_curr"], 100002);
    // Trees: EXT_SOURCE_2 0.61 > 0.5 -> -0.6; credit <= 500k -> -0.2; DAYS_BIRTH > -15000 -> 0.2.
    let expected = sigmoid(-2.0 - 0.6 - 0.2 + 0.2);
    assert!((p["probability"].as_f64().unwrap() - expected).abs() < 1e-15);
    assert_eq!(p["prediction"], 0);
    assert!(p.get("warnings").is_none());
    assert_eq!(v["threshold"], 0.5);
    assert_eq!(v["model_version"], "test-1");
    assert_eq!(v["request_id"], "req-1");

    assert_eq!(logs.len(), 1);
    let log = &logs[0];
    assert_eq!(log.record_index, Some(0));
    assert_eq!(log.endpoint.as_deref(), Some("/predict"));
    assert_eq!(log.ts.as_deref(), Some("2026-11-18T11:06:40.123Z"));
    assert_eq!(log.threshold, Some(0.5));
    assert_eq!(log.source.as_deref(), Some("api"));
    let inputs = log.inputs.as_ref().unwrap();
    assert!(inputs.get("SK_ID_CURR").is_none(), "the raw id never reaches the inputs");
    assert_eq!(inputs.0.len(), 10);
    assert_eq!(log.sk_id_curr, None);
    // HMAC-SHA256("k3y", "100002"), computed independently with Python's hmac module.
    // hmac.new(b"k3y", b"100002", hashlib.sha256).hexdigest() in Python.
    assert_eq!(
        log.client_id_hash.as_deref(),
        Some("864eec5fbf5ec43e20c19133b181a3775276e813116ad303d27bf904247bda40")
    );
    assert_eq!(log.probability.clone().and_then(Num::finite), Some(expected));
    assert_eq!(log.prediction.clone().and_then(Num::finite), Some(0.0));
}

#[test]
fn client_id_hash_is_hmac_sha256() {
    let mut st = settings();
    st.hash_key = Some("key".into());
    // hmac.new(b"key", b"100002", hashlib.sha256).hexdigest() in Python.
    assert_eq!(
        client_id_hash(&st, 100002).as_deref(),
        Some("d5d4aaa0e2caa1cbbefe2da68c9176a39dd11c3f0503161794a280a819ea1b2b")
    );
}

#[test]
fn batch_scores_every_record_with_the_bundle_threshold_by_default() {
    let s = Service::from_bundle(bundle());
    let body = json!({"data": [
        record(json!({})),
        record(json!({"SK_ID_CURR": 100003, "EXT_SOURCE_2": 0.2, "EXT_SOURCE_3": 0.1, "CODE_GENDER": "F"})),
    ]});
    let (resp, v, logs) = call("POST", "/predict").json(&body).respond(&s, &settings());
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(v["threshold"], 0.12);
    let preds = v["predictions"].as_array().unwrap();
    assert_eq!(preds.len(), 2);
    assert_eq!(preds[1]["sk_id_curr"], 100003);
    let p1 = sigmoid(-2.0 + 0.8 - 0.2 + 0.2);
    assert!((preds[1]["probability"].as_f64().unwrap() - p1).abs() < 1e-15);
    assert_eq!(preds[1]["prediction"], u8::from(p1 >= 0.12));
    assert_eq!(preds[0]["prediction"], 0);
    assert_eq!(logs.iter().map(|l| l.record_index).collect::<Vec<_>>(), [Some(0), Some(1)]);
    assert!(logs.iter().all(|l| l.request_id.as_deref() == Some("req-1") && l.threshold == Some(0.12)));
}

#[test]
fn large_batch_gives_the_single_record_bits() {
    // 40 records: groups of eight rows walk the compiled model together.
    let s = Service::from_bundle(bundle());
    let records: Vec<Value> = (0..40)
        .map(|i| {
            let gender = ["M", "F"][i as usize % 2];
            record(json!({
                "SK_ID_CURR": 200000 + i,
                "EXT_SOURCE_2": f64::from(i) / 40.0,
                "EXT_SOURCE_3": f64::from(i % 5) / 5.0,
                "AMT_CREDIT": 20000.0 * f64::from(i),
                "CODE_GENDER": gender,
            }))
        })
        .collect();
    let (resp, v, _) = call("POST", "/predict").json(&json!({"data": records})).respond(&s, &settings());
    assert_eq!(resp.status, 200, "{}", resp.body);
    let batch = v["predictions"].as_array().unwrap();
    assert_eq!(batch.len(), 40);
    let mut distinct = Vec::new();
    for (r, from_batch) in records.iter().zip(batch) {
        let (_, one, _) = call("POST", "/predict").json(&json!({"data": r})).respond(&s, &settings());
        let single = one["predictions"][0]["probability"].as_f64().unwrap();
        assert_eq!(from_batch["probability"].as_f64().unwrap().to_bits(), single.to_bits());
        assert_eq!(from_batch["sk_id_curr"], r["SK_ID_CURR"]);
        if !distinct.contains(&single.to_bits()) {
            distinct.push(single.to_bits());
        }
    }
    assert!(distinct.len() >= 3, "the records reach different leaves");
}

#[test]
fn threshold_decides_and_is_checked() {
    let s = Service::from_bundle(bundle());
    let body = json!({"data": record(json!({}))});
    let (_, v, _) = call("POST", "/predict").query("threshold=0").json(&body).respond(&s, &settings());
    assert_eq!(v["predictions"][0]["prediction"], 1, "probability >= 0 always refuses");
    let (_, v, _) = call("POST", "/predict").query("threshold=1").json(&body).respond(&s, &settings());
    assert_eq!(v["predictions"][0]["prediction"], 0);
    for bad in
        ["threshold=1.5", "threshold=-0.1", "threshold=abc", "threshold=NaN", "threshold=", "threshold=inf"]
    {
        let (resp, v, logs) = call("POST", "/predict").query(bad).json(&body).respond(&s, &settings());
        assert_eq!(resp.status, 422, "{bad}");
        assert_eq!(v["error"]["details"][0]["path"], "query.threshold");
        assert!(
            logs[0].inputs.is_none() && logs[0].error.is_some(),
            "failed requests are logged without inputs"
        );
    }
    let (resp, v, _) = call("POST", "/predict").query("treshold=0.3").json(&body).respond(&s, &settings());
    assert_eq!(resp.status, 422);
    assert_eq!(v["error"]["details"][0]["path"], "query.treshold");
    assert!(v["error"]["details"][0]["expected"].as_str().unwrap().contains("`threshold`"));
}

#[test]
fn readme_missing_field_example_lists_every_problem() {
    let s = Service::from_bundle(bundle());
    let body: Value = serde_json::from_str(r#"{"data": {"EXT_SOURCE_2": 0.61}}"#).unwrap();
    let (resp, v, logs) = call("POST", "/predict").json(&body).respond(&s, &settings());
    assert_eq!(resp.status, 422);
    assert_eq!(v["error"]["code"], "validation_error");
    let paths: Vec<&str> =
        v["error"]["details"].as_array().unwrap().iter().map(|d| d["path"].as_str().unwrap()).collect();
    assert!(paths.contains(&"data.SK_ID_CURR"));
    assert!(paths.contains(&"data.AMT_CREDIT"));
    assert_eq!(paths.len(), 10, "the id and the nine other required inputs: {paths:?}");
    for d in v["error"]["details"].as_array().unwrap() {
        assert!(d["reason"].is_string() && d["expected"].is_string());
    }
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].status, Some(422));
    assert_eq!(logs[0].record_index, None);
    assert_eq!(logs[0].error.as_ref().unwrap().issues, Some(10));
    assert!(logs[0].inputs.is_none() && logs[0].client_id_hash.is_none());
}

#[test]
fn batch_issue_paths_are_indexed() {
    let s = Service::from_bundle(bundle());
    let body = json!({"data": [
        record(json!({})),
        record(json!({})),
        record(json!({"SK_ID_CURR": "<absent>"})),
        record(json!({"AMT_CREDIT": "lots", "EXT_SOURCE_2": 1.5, "AMT_CREDITT": 1})),
        "not a record",
    ]});
    let (resp, v, _) = call("POST", "/predict").json(&body).respond(&s, &settings());
    assert_eq!(resp.status, 422);
    let details = v["error"]["details"].as_array().unwrap();
    let paths: Vec<&str> = details.iter().map(|d| d["path"].as_str().unwrap()).collect();
    assert_eq!(
        paths,
        [
            "data[2].SK_ID_CURR",
            "data[3].AMT_CREDITT",
            "data[3].EXT_SOURCE_2",
            "data[3].AMT_CREDIT",
            "data[4]"
        ]
    );
    assert!(details[1]["expected"].as_str().unwrap().contains("AMT_CREDIT"), "typo hint");
    assert!(v["error"]["message"].as_str().unwrap().starts_with("3 of 5 records"));
}

#[test]
fn malformed_json_and_bad_envelopes() {
    let s = Service::from_bundle(bundle());
    for raw in [&b"{\"data\": "[..], b"", b"\xff\xfe", b"{\"data\": {}} trailing"] {
        let (resp, v, logs) = call("POST", "/predict").raw(raw).respond(&s, &settings());
        assert_eq!(resp.status, 400, "{raw:?}");
        assert_eq!(v["error"]["code"], "invalid_json");
        assert_eq!(logs[0].status, Some(400));
    }
    for (body, path) in [
        (json!([1, 2]), ""),
        (json!({}), "data"),
        (json!({"data": 3}), "data"),
        (json!({"data": []}), "data"),
        (json!({"data": {}, "extra": 1}), "extra"),
    ] {
        let (resp, v, _) = call("POST", "/explain").json(&body).respond(&s, &settings());
        assert_eq!(resp.status, 422, "{body}");
        assert_eq!(v["error"]["details"][0]["path"], path, "{body}");
    }
}

#[test]
fn limits_give_413() {
    let s = Service::from_bundle(bundle());
    let big = vec![b' '; MAX_BODY_BYTES + 1];
    let (resp, v, _) = call("POST", "/predict").raw(&big).respond(&s, &settings());
    assert_eq!(resp.status, 413);
    assert_eq!(v["error"]["code"], "payload_too_large");
    let mut declared = call("POST", "/predict");
    declared.declared = Some(MAX_BODY_BYTES as u64 + 1);
    let (resp, _, logs) = declared.respond(&s, &settings());
    assert_eq!(resp.status, 413, "a declared length over the limit is refused unread");
    assert_eq!(logs[0].status, Some(413));
    let many = json!({"data": vec![record(json!({})); MAX_PREDICT_RECORDS + 1]});
    let (resp, v, _) = call("POST", "/predict").json(&many).respond(&s, &settings());
    assert_eq!(resp.status, 413);
    assert_eq!(v["error"]["code"], "too_many_records");
    let at_limit = json!({"data": vec![record(json!({})); MAX_PREDICT_RECORDS]});
    let (resp, _, logs) = call("POST", "/predict").json(&at_limit).respond(&s, &settings());
    assert_eq!(resp.status, 200);
    assert_eq!(logs.len(), MAX_PREDICT_RECORDS);
    let explain_many = json!({"data": vec![record(json!({})); MAX_EXPLAIN_RECORDS + 1]});
    let (resp, _, _) = call("POST", "/explain").json(&explain_many).respond(&s, &settings());
    assert_eq!(resp.status, 413);
}

#[test]
fn outliers_and_sentinels_are_scored_with_warnings() {
    let s = Service::from_bundle(bundle());
    let body = json!({"data": record(json!({"AMT_CREDIT": 9_000_000.0, "DAYS_EMPLOYED": 365243}))});
    let (resp, v, logs) = call("POST", "/predict").json(&body).respond(&s, &settings());
    assert_eq!(resp.status, 200, "{}", resp.body);
    let warnings = v["predictions"][0]["warnings"].as_array().unwrap();
    let codes: Vec<&str> = warnings.iter().map(|w| w["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["outside_training_range", "sentinel_value"]);
    assert_eq!(warnings[0]["field"], "AMT_CREDIT");
    assert_eq!(logs[0].warnings.len(), 2);
    // Physically impossible values are rejected, not flagged.
    let body = json!({"data": record(json!({"EXT_SOURCE_2": 1.2, "DAYS_BIRTH": 10}))});
    let (resp, v, _) = call("POST", "/predict").json(&body).respond(&s, &settings());
    assert_eq!(resp.status, 422);
    assert_eq!(v["error"]["details"].as_array().unwrap().len(), 2);
}

#[test]
fn explanations_add_up_to_the_raw_score() {
    let s = Service::from_bundle(bundle());
    let body =
        json!({"data": [record(json!({})), record(json!({"EXT_SOURCE_1": null, "CODE_GENDER": "F"}))]});
    let (resp, v, logs) = call("POST", "/explain").json(&body).respond(&s, &settings());
    assert_eq!(resp.status, 200, "{}", resp.body);
    for e in v["explanations"].as_array().unwrap() {
        let contributions = e["contributions"].as_array().unwrap();
        assert_eq!(contributions.len(), 11);
        let sum: f64 = contributions.iter().map(|c| c["contribution"].as_f64().unwrap()).sum();
        let raw = e["raw_score"].as_f64().unwrap();
        assert!((e["base_value"].as_f64().unwrap() + sum - raw).abs() < 1e-9);
        assert!((sigmoid(raw) - e["probability"].as_f64().unwrap()).abs() < 1e-15);
        let mags: Vec<f64> =
            contributions.iter().map(|c| c["contribution"].as_f64().unwrap().abs()).collect();
        assert!(mags.windows(2).all(|w| w[0] >= w[1]), "sorted by magnitude");
    }
    let gender = v["explanations"][1]["contributions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["feature"] == "CODE_GENDER")
        .unwrap()
        .clone();
    assert_eq!(gender["value"], "F");
    let ext1 = v["explanations"][1]["contributions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["feature"] == "EXT_SOURCE_1")
        .unwrap()
        .clone();
    assert_eq!(ext1["value"], Value::Null, "missing");
    assert_eq!(logs.len(), 2);
    assert!(logs.iter().all(|l| l.endpoint.as_deref() == Some("/explain")));
}

#[test]
fn hashing_off_logs_the_raw_id_and_no_key_drops_it() {
    let s = Service::from_bundle(bundle());
    let body = json!({"data": record(json!({}))});
    let mut off = settings();
    off.hash_client_ids = false;
    let (_, _, logs) = call("POST", "/predict").json(&body).respond(&s, &off);
    assert_eq!(logs[0].sk_id_curr, Some(100002));
    assert_eq!(logs[0].client_id_hash, None);
    let mut keyless = settings();
    keyless.hash_key = None;
    let (_, _, logs) = call("POST", "/predict").json(&body).respond(&s, &keyless);
    assert_eq!((logs[0].sk_id_curr, logs[0].client_id_hash.as_deref()), (None, None));
    assert_eq!(keyless.client_id_logging(), "dropped");
    assert_eq!(off.client_id_logging(), "raw");
    assert_eq!(settings().client_id_logging(), "hmac-sha256");
    let json = render_ndjson(&logs);
    assert!(!json.contains("100002"), "{json}");
}

/// Near-miss paths are 404s: the dispatch has no fall-through arm to land them in a handler.
#[test]
fn near_miss_paths_are_not_found() {
    let s = Service::from_bundle(bundle());
    for path in ["/explain/", "/Explain", "/predict/x", "/", "", "/logs/", "/openapi"] {
        let (resp, v, _) = call("POST", path).respond(&s, &settings());
        assert_eq!((resp.status, v["error"]["code"].as_str()), (404, Some("not_found")), "{path:?}");
    }
}

/// The API's paths, and only they, are API paths: the worker serves every other GET from the
/// static site, so a route missing here would be shadowed by the demo page.
#[test]
fn api_paths_are_the_routes() {
    let doc = openapi(None);
    let documented: Vec<&String> = doc["paths"].as_object().unwrap().keys().collect();
    assert_eq!(documented.len(), ROUTES.len());
    for path in documented {
        assert!(is_api_path(path), "{path}");
    }
    for path in
        ["/", "/index.html", "/app.js", "/pkg/creditscore_bg.wasm", "/explain/", "/Health", "/health?x=1", ""]
    {
        assert!(!is_api_path(path), "{path}");
    }
}

#[test]
fn unknown_routes_and_wrong_methods() {
    let s = Service::from_bundle(bundle());
    let (resp, v, _) = call("GET", "/nope").respond(&s, &settings());
    assert_eq!((resp.status, v["error"]["code"].as_str()), (404, Some("not_found")));
    let (resp, _, _) = call("GET", "/predict").respond(&s, &settings());
    assert_eq!(resp.status, 405);
    assert_eq!(resp.headers, vec![("Allow", "POST, OPTIONS".to_string())]);
    // Any method the route does not take, known to HTTP or not (schemathesis sends `QUERY`).
    for method in ["QUERY", "PUT", "HEAD", "get"] {
        let (resp, v, _) = call(method, "/health").respond(&s, &settings());
        assert_eq!((resp.status, v["error"]["code"].as_str()), (405, Some("method_not_allowed")), "{method}");
    }
    let (resp, _, _) = call("POST", "/health").respond(&s, &settings());
    assert_eq!(resp.status, 405);
    let (resp, _, _) = call("DELETE", "/logs").respond(&s, &settings());
    assert_eq!(resp.status, 405);
}

#[test]
fn health_features_and_openapi() {
    let b = bundle();
    let sha = b.sha256().to_string();
    let s = Service::from_bundle(b);
    let (resp, v, _) = call("GET", "/health").respond(&s, &settings());
    assert_eq!(resp.status, 200);
    assert_eq!(
        v,
        json!({"status": "ok", "model": {"name": "service-test", "version": "test-1", "sha256": sha}, "logs": "r2", "client_id_logging": "hmac-sha256"})
    );

    let (_, v, _) = call("GET", "/features").respond(&s, &settings());
    assert_eq!(v["required_features"].as_array().unwrap().len(), 10);
    assert_eq!(v["required"][4]["name"], "AMT_CREDIT");
    assert_eq!(v["required"][4]["example"], 406_597.5);
    assert_eq!(v["required"][4]["valid_range"], json!({"min": 0.0, "max": null}));
    assert!(v.get("optional").is_none());
    let (_, v, _) = call("GET", "/features").query("include_all=true").respond(&s, &settings());
    assert_eq!(v["optional"][0]["name"], "NAME_CONTRACT_TYPE");
    assert_eq!(v["optional"][0]["default"], "Cash loans");
    assert_eq!(v["threshold"], 0.12);
    assert_eq!(v["feature_selection"]["method"], "correlation");
    assert_eq!(v["feature_selection"]["top_n"], 8);
    for bad in ["include_all=maybe", "include_all=", "include_all"] {
        let (resp, _, _) = call("GET", "/features").query(bad).respond(&s, &settings());
        assert_eq!(resp.status, 422, "{bad}");
    }

    let (resp, v, _) = call("GET", "/openapi.json").respond(&s, &settings());
    assert_eq!(resp.status, 200);
    assert_eq!(v["openapi"], "3.1.0");
    for route in ROUTES {
        assert!(v["paths"][route.path][route.method.to_ascii_lowercase()].is_object(), "{}", route.path);
    }
    let record = &v["components"]["schemas"]["Record"];
    assert_eq!(record["required"].as_array().unwrap().len(), 11);
    let pattern = record["properties"]["FLAG_OWN_CAR"]["pattern"].as_str().unwrap();
    assert!(pattern.contains("([Nn]|[Yy])"), "{pattern}");
    assert_eq!(record["properties"]["SK_ID_CURR"]["maximum"], crate::schema::MAX_ID);
    assert_eq!(record["additionalProperties"], false);
    assert_eq!(
        v["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]["schema"]["properties"]
            ["data"]["oneOf"][1]["maxItems"],
        MAX_PREDICT_RECORDS
    );
}

#[test]
fn unloadable_bundle_gives_503() {
    let s = Service::new(b"not a bundle");
    let (resp, v, _) = call("GET", "/health").respond(&s, &settings());
    assert_eq!(resp.status, 503);
    assert_eq!(v["error"]["code"], "model_unavailable");
    let (resp, _, logs) = call("POST", "/predict").json(&json!({"data": {}})).respond(&s, &settings());
    assert_eq!(resp.status, 503);
    assert_eq!(logs[0].status, Some(503));
    let (resp, _, _) = call("GET", "/openapi.json").respond(&s, &settings());
    assert_eq!(resp.status, 200);
}

#[test]
fn logs_token_matrix() {
    let s = Service::from_bundle(bundle());
    let plan = |st: &Settings, c: Call<'_>| match c.run(&s, st) {
        Outcome::ReadLogs { tail } => Ok(tail),
        Outcome::ReadWindow { query } => panic!("unexpected window {query:?}"),
        Outcome::Respond { response, .. } => Err((response.status, response.headers)),
    };
    let st = settings();
    let mut unset = settings();
    unset.logs_token = None;
    assert_eq!(plan(&unset, call("GET", "/logs").query("tail=5")).unwrap_err().0, 503);
    let mut empty = settings();
    empty.logs_token = Some(String::new());
    assert_eq!(plan(&empty, call("GET", "/logs")).unwrap_err().0, 503);
    let absent = plan(&st, call("GET", "/logs")).unwrap_err();
    assert_eq!(absent.0, 401);
    assert_eq!(absent.1[0].0, "WWW-Authenticate");
    let mut c = call("GET", "/logs");
    c.token = Some("wrong");
    assert_eq!(plan(&st, c).unwrap_err().0, 403);
    let mut c = call("GET", "/logs");
    c.authorization = Some("Bearer s3cre");
    assert_eq!(plan(&st, c).unwrap_err().0, 403);
    let mut c = call("GET", "/logs");
    c.authorization = Some("Basic s3cret");
    assert_eq!(plan(&st, c).unwrap_err().0, 401);
    let mut c = call("GET", "/logs");
    c.token = Some("s3cret");
    assert_eq!(plan(&st, c), Ok(DEFAULT_LOG_TAIL));
    let mut c = call("GET", "/logs").query("tail=7");
    c.authorization = Some("bearer s3cret");
    assert_eq!(plan(&st, c), Ok(7));
    for bad in ["tail=0", "tail=10001", "tail=x", "tail=-1"] {
        let mut c = call("GET", "/logs").query(bad);
        c.token = Some("s3cret");
        assert_eq!(plan(&st, c).unwrap_err().0, 422, "{bad}");
    }
    let mut off = settings();
    off.log_store = LogStore::Off;
    let mut c = call("GET", "/logs");
    c.token = Some("s3cret");
    assert_eq!(plan(&off, c).unwrap_err().0, 503);
}

/// A log line as the service writes it (only the fields readers sort and dedupe by matter).
fn line(ms: u64, request_id: &str, index: Option<u64>) -> String {
    let index = index.map_or(String::from("null"), |i| i.to_string());
    format!("{{\"ts\":\"{}\",\"request_id\":\"{request_id}\",\"record_index\":{index}}}", rfc3339_utc(ms))
}

fn keys_of(body: &str) -> Vec<SortKey> {
    body.lines().map(|l| record_key(l).unwrap()).collect()
}

#[test]
fn logs_tail_takes_the_newest_records_oldest_first_without_duplicates() {
    let t0 = 1_795_000_000_000;
    let newest = [line(t0 + 61_000, "e", Some(0)), line(t0 + 61_000, "e", Some(1))].join("\n");
    let dup = line(t0 + 61_000, "e", Some(1));
    let older = [line(t0, "a", Some(0)), line(t0 + 1, "b", None), line(t0 + 2, "c", Some(0))].join("\n");
    let mut tail = LogTail::new(3);
    tail.add_minute(&[newest.as_str(), dup.as_str(), "not json"]);
    assert!(!tail.is_full());
    tail.add_minute(&[older.as_str()]);
    assert!(tail.is_full());
    let r = tail.finish();
    assert_eq!(r.content_type, NDJSON);
    let got: Vec<(u64, String)> = keys_of(&r.body).into_iter().map(|k| (k.ms, k.request_id)).collect();
    assert_eq!(got, vec![(t0 + 2, "c".into()), (t0 + 61_000, "e".into()), (t0 + 61_000, "e".into())]);
    let header = |name: &str| r.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone());
    assert_eq!(header("X-Log-Duplicates").as_deref(), Some("1"));
    assert_eq!(header("X-Log-Skipped").as_deref(), Some("1"));
    assert_eq!(LogTail::new(5).finish().body, "");
}

#[test]
fn log_keys_partition_by_date_and_hour_and_sort_by_time() {
    let k = partitioned_key(1_795_000_000_123, "abc");
    assert_eq!(k, "logs/date=2026-11-18/hour=11/2026-11-18T11:06:40.123Z_abc.ndjson");
    assert_eq!(key_time_ms(&k), Some(1_795_000_000_123));
    let legacy = log_object_key(1_795_000_000_000, "aa");
    assert_eq!(legacy, "logs/8204999999999_2026-11-18T11:06:40.000Z_aa.ndjson");
    assert_eq!(key_time_ms(&legacy), Some(1_795_000_000_000));
    assert_eq!(key_time_ms("logs/readme.txt"), None);
    assert_eq!(key_time_ms("other/x"), None);
    // Lexicographic key order is time order, across hours, days and years.
    let times =
        [0u64, 59_999, 60_000, 3_599_999, 3_600_000, 86_399_999, 1_795_000_000_000, 1_830_000_000_000];
    let keys: Vec<String> = times.iter().map(|&t| partitioned_key(t, "zz")).collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "{keys:?}");
    // A listing that starts after a minute's position sees every key of that minute and later.
    let page = LogPage::new(LogQuery { since_ms: Some(60_500), until_ms: None, limit: 10, after: None });
    let start = page.start_after();
    assert!(start < partitioned_key(60_000, "0") && start > partitioned_key(59_999, "z"), "{start}");
}

#[test]
fn log_pages_follow_cursors_in_time_order_inside_the_window() {
    // Three minutes of objects; records overlap between objects of a minute and repeat.
    let t0 = 1_795_000_020_000; // 20 s into a minute
    let mut minutes: Vec<Vec<String>> = Vec::new();
    let mut expected: Vec<SortKey> = Vec::new();
    for m in 0..3u64 {
        let base = t0 + m * 60_000 - 20_000;
        let a: Vec<String> = (0..5).map(|i| line(base + i * 7, &format!("r{m}"), Some(i))).collect();
        let b: Vec<String> = (0..5).map(|i| line(base + i * 7 + 3, &format!("q{m}"), Some(i))).collect();
        for (x, y) in a.iter().zip(&b) {
            expected.push(record_key(x).unwrap());
            expected.push(record_key(y).unwrap());
        }
        let again = a[2].clone();
        minutes.push(vec![b.join("\n"), a.join("\n"), again]);
    }
    expected.sort();
    let read_all = |since: Option<u64>, until: Option<u64>, limit: usize| {
        let mut out = Vec::new();
        let mut duplicates = 0;
        let mut after = None;
        for _ in 0..100 {
            let mut page =
                LogPage::new(LogQuery { since_ms: since, until_ms: until, limit, after: after.clone() });
            let mut stopped = false;
            for (m, objects) in minutes.iter().enumerate() {
                let minute = (t0 - 20_000) / 60_000 + m as u64;
                if page.past_window(minute) {
                    break;
                }
                if page.is_full() {
                    stopped = true;
                    break;
                }
                page.add_minute(objects);
            }
            let r = page.finish(stopped);
            let header = |name: &str| r.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone());
            duplicates += header("X-Log-Duplicates").unwrap().parse::<usize>().unwrap();
            out.extend(keys_of(&r.body));
            match header("X-Next-Cursor") {
                Some(c) => after = Some(log_pages::decode_cursor(&c).unwrap()),
                None => return (out, duplicates),
            }
        }
        panic!("paging does not end");
    };
    for limit in [1, 4, 10, 30, 1000] {
        let (got, duplicates) = read_all(None, None, limit);
        assert_eq!(got, expected, "limit {limit}");
        assert_eq!(duplicates, 3, "limit {limit}");
    }
    let (since, until) = (expected[7].ms, expected[22].ms);
    let inside: Vec<SortKey> = expected.iter().filter(|k| k.ms >= since && k.ms < until).cloned().collect();
    assert_eq!(read_all(Some(since), Some(until), 4).0, inside);
    assert_eq!(read_all(Some(since), Some(since), 4).0, vec![]);
}

#[test]
fn log_window_queries_are_checked() {
    let s = Service::from_bundle(bundle());
    let plan = |q: &str| {
        let mut c = call("GET", "/logs").query(q);
        c.token = Some("s3cret");
        match c.run(&s, &settings()) {
            Outcome::ReadWindow { query } => Ok(query),
            Outcome::ReadLogs { tail } => Err((0, format!("tail {tail}"))),
            Outcome::Respond { response, .. } => Err((response.status, response.body)),
        }
    };
    let q = plan("since=2026-11-30T14:00:00Z&until=2026-11-30T15:00:00%2B01:00&limit=1000").unwrap();
    assert_eq!(q.since_ms, Some(1_796_047_200_000));
    assert_eq!(q.until_ms, Some(1_796_047_200_000));
    assert_eq!(q.limit, 1000);
    assert_eq!(plan("limit=5").unwrap(), LogQuery { since_ms: None, until_ms: None, limit: 5, after: None });
    assert_eq!(plan("tail=5"), Err((0, "tail 5".into())));
    let key = SortKey { ms: 5, request_id: "ab-c".into(), index: None };
    assert_eq!(plan(&format!("cursor={}", log_pages::encode_cursor(&key))).unwrap().after, Some(key));
    for (bad, path) in [
        ("since=yesterday", "query.since"),
        ("until=2026-13-01T00:00:00Z", "query.until"),
        ("since=2026-11-30T15:00:00Z&until=2026-11-30T14:00:00Z", "query.since"),
        ("limit=0", "query.limit"),
        ("limit=10001", "query.limit"),
        ("cursor=abc", "query.cursor"),
        ("cursor=v1.5.n.a%2Fb", "query.cursor"),
        ("tail=5&limit=5", "query.tail"),
        ("since=1969-12-31T23:59:59Z", "query.since"),
    ] {
        let (status, body) = plan(bad).unwrap_err();
        assert_eq!(status, 422, "{bad}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["error"]["details"][0]["path"], path, "{bad}: {body}");
    }
}

#[test]
fn queue_messages_stay_under_the_size_limit_and_batches_group_by_minute() {
    let lines: Vec<String> = (0..50).map(|i| line(1_795_000_000_000 + i, "r", Some(i))).collect();
    let text = lines.join("\n") + "\n";
    let messages = split_ndjson(&text, 500);
    assert!(messages.iter().all(|(m, big)| m.len() <= 500 && !big));
    assert_eq!(messages.iter().map(|(m, _)| m.as_str()).collect::<String>(), text);
    let huge = format!("{}\n", "x".repeat(600));
    let parts = split_ndjson(&format!("{}\n{huge}{}\n", lines[0], lines[1]), 500);
    assert_eq!(parts.iter().filter(|(_, big)| *big).count(), 1);
    assert_eq!(parts.len(), 2, "the small lines share one message");
    let batches = send_batches((0..250).map(|_| "y".repeat(2000)).collect());
    assert_eq!(batches.iter().map(Vec::len).collect::<Vec<_>>(), vec![100, 100, 50]);
    let batches = send_batches((0..5).map(|_| "y".repeat(100_000)).collect());
    assert_eq!(batches.iter().map(Vec::len).collect::<Vec<_>>(), vec![2, 2, 1]);

    // A batch spanning a minute boundary becomes one object per minute, each sorted.
    let t = 1_795_000_019_990; // 10 ms before a minute ends
    let bodies =
        [format!("{}\n{}\n", line(t + 20, "b", Some(0)), line(t, "a", Some(1))), line(t, "a", Some(0))];
    let objects = batch_objects(&bodies, "batch1", 0);
    assert_eq!(objects.len(), 2);
    assert_eq!(objects[0].0, partitioned_key(t, "batch1"));
    assert_eq!(keys_of(&objects[0].1).iter().map(|k| k.index).collect::<Vec<_>>(), vec![Some(0), Some(1)]);
    assert_eq!(objects[1].0, partitioned_key(t + 20, "batch1"));
    assert_eq!(key_minute(&objects[1].0), Some((t + 20) / 60_000));
}

#[test]
fn concurrent_requests_share_one_queue_send() {
    let mut buffer = LogCoalescer::default();
    assert_eq!(buffer.take(), None, "nothing waiting: nothing to send");
    let (a, b) = (line(1_795_000_000_000, "a", Some(0)), line(1_795_000_000_005, "b", Some(0)));
    assert!(buffer.push(&format!("{a}\n"), 1_795_000_000_000, "a"), "the first request schedules the send");
    assert!(!buffer.push(&b, 1_795_000_000_005, "b"), "later ones only append");
    let sent = buffer.take().expect("two requests waiting");
    assert_eq!((sent.first_ms, sent.first_id.as_str()), (1_795_000_000_000, "a"));
    assert_eq!(sent.ndjson, format!("{a}\n{b}\n"), "whole lines, in arrival order");
    assert_eq!(buffer.take(), None, "taking empties the buffer");
    assert!(buffer.push(&b, 1_795_000_000_009, "c"), "after a send, the next request schedules again");
    // What the consumer receives is unchanged: the messages of the shared send hold every line.
    let messages = split_ndjson(&buffer.take().unwrap().ndjson, MAX_QUEUE_MESSAGE_BYTES);
    assert_eq!(messages, vec![(format!("{b}\n"), false)]);
}

#[test]
fn log_records_leave_core_complete_as_ndjson() {
    let s = Service::from_bundle(bundle());
    let body = json!({"data": [record(json!({})), record(json!({}))]});
    let Outcome::Respond { logs, .. } = call("POST", "/predict").json(&body).run(&s, &settings()) else {
        panic!("predict answers")
    };
    assert_eq!(logs.len(), 2);
    let text = render_ndjson(&logs.complete(1234));
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["record_index"], 1);
    assert_eq!(lines[0]["latency_us"], 1234);
    assert_eq!(lines[1]["latency_us"], 1234);
    assert_eq!(lines[0]["inputs"]["CODE_GENDER"], "M");
    for key in [
        "ts",
        "request_id",
        "record_index",
        "endpoint",
        "model_version",
        "threshold",
        "source",
        "client_id_hash",
        "inputs",
        "warnings",
        "probability",
        "prediction",
        "latency_us",
    ] {
        assert!(lines[0].get(key).is_some(), "{key}");
    }
    assert!(PendingLogs::default().is_empty());
    assert_eq!(PendingLogs::default().complete(5), vec![]);
}

#[test]
fn rfc3339_formatting() {
    assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00.000Z");
    assert_eq!(rfc3339_utc(951_782_400_000), "2000-02-29T00:00:00.000Z");
    assert_eq!(rfc3339_utc(4_102_444_799_999), "2099-12-31T23:59:59.999Z");
}

#[test]
fn constant_time_eq_compares_contents() {
    assert!(constant_time_eq(b"abc", b"abc"));
    assert!(!constant_time_eq(b"abc", b"abd"));
    assert!(!constant_time_eq(b"abc", b"abcd"));
    assert!(!constant_time_eq(b"", b"a"));
}

#[test]
fn client_source_header_is_logged() {
    let s = Service::from_bundle(bundle());
    let body = serde_json::to_vec(&json!({"data": record(json!({}))})).unwrap();
    let req = Request {
        method: "POST",
        path: "/predict",
        query: "",
        logs_token_header: None,
        authorization: None,
        client_source: Some("batch-job"),
        origin: None,
        body: &body,
        declared_body_len: None,
        request_id: "r",
        now_ms: 0,
    };
    let Outcome::Respond { logs, .. } = s.handle(&settings(), &req) else { panic!() };
    assert_eq!(logs.complete(7)[0].source.as_deref(), Some("batch-job"));
}

/// The committed default model (derived ratios, categories, reference statistics).
fn default_model() -> Service {
    Service::new(&repo_bytes("models/default.csb"))
}

#[test]
fn predict_gives_score_points_and_reasons_equal_to_explain() {
    let s = default_model();
    let b = s.bundle().unwrap();
    // A risky record (low external scores, high credit for the income) and the README's.
    let risky = record(json!({"EXT_SOURCE_2": 0.05, "EXT_SOURCE_3": 0.08, "EXT_SOURCE_1": null,
        "AMT_CREDIT": 1_800_000.0, "AMT_ANNUITY": 90_000.0, "DAYS_EMPLOYED": -30}));
    let body = json!({"data": [risky.clone(), record(json!({}))]});
    let (resp, v, logs) = call("POST", "/predict").json(&body).respond(&s, &settings());
    assert_eq!(resp.status, 200, "{}", resp.body);
    let preds = v["predictions"].as_array().unwrap();
    assert_eq!(preds[0]["prediction"], 1, "the risky record is refused: {}", preds[0]);
    for p in preds {
        // score = 600 - 20/ln2 * ln 50 + 20/ln2 * ln((1 - p) / p), by hand.
        let prob = p["probability"].as_f64().unwrap();
        let factor = 20.0 / core::f64::consts::LN_2;
        let hand = 600.0 - factor * libm::log(50.0) + factor * libm::log((1.0 - prob) / prob);
        assert!((p["score"].as_f64().unwrap() - hand).abs() < 1e-9, "{p}");
    }
    assert!(preds[0]["score"].as_f64() < preds[1]["score"].as_f64());
    // Refused: 4 reasons by default; accepted: none unless asked.
    let reasons = preds[0]["reasons"].as_array().unwrap();
    assert_eq!(reasons.len(), 4);
    assert_eq!(preds[1]["prediction"], 0);
    assert!(preds[1].get("reasons").is_none());
    assert_eq!(logs[0].score, preds[0]["score"].as_f64());
    let codes: Vec<&str> = reasons.iter().map(|r| r["code"].as_str().unwrap()).collect();
    assert_eq!(logs[0].reasons.as_ref().unwrap(), &codes);
    assert!(logs[1].reasons.is_none());
    // Log lines carry them too.
    let line = render_ndjson(&logs);
    assert!(line.contains("\"score\":") && line.contains(codes[0]), "{line}");

    // Equal to the largest positive contributions of /explain for the same record.
    let (_, e, _) = call("POST", "/explain").json(&json!({"data": risky})).respond(&s, &settings());
    let contributions = e["explanations"][0]["contributions"].as_array().unwrap();
    let top: Vec<(&str, f64)> = contributions
        .iter()
        .map(|c| (c["feature"].as_str().unwrap(), c["contribution"].as_f64().unwrap()))
        .filter(|(_, c)| *c > 0.0)
        .take(4)
        .collect();
    let got: Vec<(&str, f64)> = reasons
        .iter()
        .map(|r| (r["feature"].as_str().unwrap(), r["contribution"].as_f64().unwrap()))
        .collect();
    assert_eq!(got, top);
    assert_eq!(e["explanations"][0]["score"], preds[0]["score"]);
    for r in reasons {
        let sentence = r["sentence"].as_str().unwrap();
        let feature = r["feature"].as_str().unwrap();
        match b.schema().derived.iter().find(|d| d.name == feature) {
            // A derived feature is named through its inputs.
            Some(d) => {
                for input in d.op.arguments() {
                    assert!(sentence.contains(input), "{sentence} should name {input}");
                }
                assert_eq!(r["inputs"].as_array().unwrap().len(), d.op.arguments().len());
            }
            None => assert!(sentence.starts_with(feature), "{sentence}"),
        }
        assert!(r["code"].as_str().unwrap().starts_with(feature));
    }

    // ?reasons=N for an accepted record; 0 turns them off; bad values are 422.
    let one = json!({"data": record(json!({}))});
    let (_, v, _) = call("POST", "/predict").query("reasons=2").json(&one).respond(&s, &settings());
    assert!(v["predictions"][0]["reasons"].as_array().unwrap().len() <= 2);
    let (_, v, _) = call("POST", "/predict").query("reasons=0").json(&body).respond(&s, &settings());
    assert!(v["predictions"][0].get("reasons").is_none());
    for bad in ["reasons=-1", "reasons=x", "reasons=1000", "reasons=1.5"] {
        let (resp, v, _) = call("POST", "/predict").query(bad).json(&one).respond(&s, &settings());
        assert_eq!(resp.status, 422, "{bad}");
        assert_eq!(v["error"]["details"][0]["path"], "query.reasons");
    }
}

#[test]
fn derived_reasons_name_both_inputs_of_a_ratio() {
    let s = default_model();
    let b = s.bundle().unwrap();
    let rec = b
        .schema()
        .validate_json(&record(json!({"AMT_CREDIT": 2_000_000.0, "AMT_INCOME_TOTAL": 100_000.0})), "data.")
        .unwrap();
    let i = b.schema().model_features.iter().position(|f| f == "CREDIT_INCOME_RATIO").unwrap();
    let mut phi = vec![0.0; b.schema().model_features.len()];
    phi[i] = 0.5;
    let r = &b.reasons_from_shap(&rec, &phi, 4)[0];
    assert_eq!(r.code, "CREDIT_INCOME_RATIO.high");
    assert!(
        r.sentence.starts_with("AMT_CREDIT / AMT_INCOME_TOTAL is high: ")
            && r.sentence.contains("(AMT_CREDIT 2000000, typical ")
            && r.sentence.contains("; AMT_INCOME_TOTAL "),
        "{}",
        r.sentence
    );
}

/// A reason's `value` (and each `inputs` entry's) is the value scored: for a field the request
/// left out, the schema's default, which docs/API.md and the OpenAPI document say. Checked on
/// the default model with every positive reason of the README record, which sends 10 of the
/// inputs and leaves the others to their defaults.
#[test]
fn reasons_give_the_default_scored_for_a_field_left_out() {
    let s = default_model();
    let b = s.bundle().unwrap();
    let sent = record(json!({}));
    // The default of each optional input the record leaves out, as the bundle declares it.
    let defaults: alloc::collections::BTreeMap<String, Value> = b
        .schema()
        .spec()
        .inputs
        .iter()
        .filter(|f| sent.get(&f.name).is_none())
        .map(|f| (f.name.clone(), serde_json::to_value(f).unwrap()["default"].clone()))
        .filter(|(_, d)| !d.is_null())
        .collect();
    let all = alloc::format!("reasons={}", b.schema().model_features.len());
    let (resp, v, _) =
        call("POST", "/predict").query(&all).json(&json!({"data": sent})).respond(&s, &settings());
    assert_eq!(resp.status, 200, "{}", resp.body);
    let mut checked = Vec::new();
    for r in v["predictions"][0]["reasons"].as_array().unwrap() {
        let feature = r["feature"].as_str().unwrap();
        if let Some(default) = defaults.get(feature) {
            assert_eq!(&r["value"], default, "{r}");
            checked.push(feature);
        }
        for input in r["inputs"].as_array().unwrap() {
            if let Some(default) = defaults.get(input["name"].as_str().unwrap()) {
                assert_eq!(&input["value"], default, "{r}");
                checked.push(feature);
            }
        }
    }
    assert!(!checked.is_empty(), "no reason named a field left out: {v}");
}

#[test]
fn cors_origins_parse() {
    assert_eq!(CorsOrigins::parse(""), CorsOrigins::None);
    assert_eq!(CorsOrigins::parse(" , "), CorsOrigins::None);
    assert_eq!(CorsOrigins::parse("https://a.example, *"), CorsOrigins::Any);
    assert_eq!(
        CorsOrigins::parse("https://a.example/ http://127.0.0.1:8080"),
        CorsOrigins::List(vec!["https://a.example".into(), "http://127.0.0.1:8080".into()])
    );
}

#[test]
fn cors_preflight_and_headers_on_public_routes_only() {
    let s = Service::from_bundle(bundle());
    let header =
        |r: &Response, name: &str| r.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone());
    let app = "http://127.0.0.1:5173";
    let mut allowed = settings();
    allowed.cors = CorsOrigins::parse(app);
    for (path, method) in
        [("/predict", "POST"), ("/explain", "POST"), ("/features", "GET"), ("/health", "GET")]
    {
        let mut c = call("OPTIONS", path);
        c.origin = Some(app);
        let (resp, _, logs) = c.respond(&s, &allowed);
        assert_eq!(resp.status, 204, "{path}");
        assert!(logs.is_empty());
        assert_eq!(header(&resp, "Access-Control-Allow-Origin").as_deref(), Some(app));
        assert_eq!(header(&resp, "Access-Control-Allow-Methods"), Some(format!("{method}, OPTIONS")));
        assert!(header(&resp, "Access-Control-Allow-Headers").unwrap().contains("Content-Type"));
        // Another origin, or no configuration: 204 without permission (the browser then blocks).
        c.origin = Some("http://evil.example");
        let (resp, _, _) = c.respond(&s, &allowed);
        assert_eq!((resp.status, header(&resp, "Access-Control-Allow-Origin")), (204, None));
        c.origin = Some(app);
        let (resp, _, _) = c.respond(&s, &settings());
        assert_eq!((resp.status, header(&resp, "Access-Control-Allow-Origin")), (204, None));
    }
    // The actual request carries the permission and exposes the request id.
    let mut c = call("POST", "/predict").json(&json!({"data": record(json!({}))}));
    c.origin = Some(app);
    let (resp, _, _) = c.respond(&s, &allowed);
    assert_eq!(resp.status, 200);
    assert_eq!(header(&resp, "Access-Control-Allow-Origin").as_deref(), Some(app));
    assert_eq!(header(&resp, "Access-Control-Expose-Headers").as_deref(), Some("X-Request-Id"));
    let mut any = settings();
    any.cors = CorsOrigins::Any;
    let (resp, _, _) = c.respond(&s, &any);
    assert_eq!(header(&resp, "Access-Control-Allow-Origin").as_deref(), Some("*"));
    // Never /logs: no preflight, no headers.
    let mut c = call("OPTIONS", "/logs");
    c.origin = Some(app);
    let (resp, _, _) = c.respond(&s, &any);
    assert_eq!((resp.status, header(&resp, "Allow").as_deref()), (405, Some("GET")));
    let mut c = call("GET", "/logs");
    c.origin = Some(app);
    c.token = Some("s3cret");
    assert!(matches!(c.run(&s, &any), Outcome::ReadLogs { .. }));
    let mut c = call("GET", "/logs");
    c.origin = Some(app);
    let (resp, _, _) = c.respond(&s, &any);
    assert_eq!((resp.status, header(&resp, "Access-Control-Allow-Origin")), (401, None));
}

/// Writer output -> reader -> the same records: every kind of record the service logs (scored
/// with warnings, reasons and a raw id; every kind of input value; a failed request; /explain)
/// is parsed back by `LogRecord::from_json_line` into a value equal to the one written.
#[test]
fn log_records_round_trip_through_the_reader() {
    let s = default_model();
    let mut raw_ids = settings();
    raw_ids.hash_client_ids = false;
    let risky = record(json!({"EXT_SOURCE_2": 0.05, "EXT_SOURCE_3": 0.08, "EXT_SOURCE_1": null,
        "AMT_CREDIT": 9_000_000.0, "DAYS_EMPLOYED": 365243, "AMT_ANNUITY": 12_345.678_901_234_567,
        "CODE_GENDER": "female"}));
    let mut written: Vec<LogRecord<'static>> = Vec::new();
    for (method, path, query, body, cfg) in [
        ("POST", "/predict", "reasons=3", json!({"data": [risky.clone(), record(json!({}))]}), settings()),
        ("POST", "/predict", "", json!({"data": record(json!({}))}), raw_ids),
        ("POST", "/explain", "", json!({"data": risky.clone()}), settings()),
        ("POST", "/predict", "", json!({"data": record(json!({"DAYS_BIRTH": 10}))}), settings()),
    ] {
        let (_, _, logs) = call(method, path).query(query).json(&body).respond(&s, &cfg);
        written.extend(logs);
    }
    // A source header with characters JSON escapes (the writer's own serialisation).
    let mut escaped = written[0].clone();
    escaped.source = Some("caf\u{e9} \"quoted\"\n\u{1}".into());
    written.push(escaped);
    assert!(written.iter().any(|r| r.error.is_some()) && written.iter().any(|r| r.sk_id_curr.is_some()));
    assert!(written.iter().any(|r| !r.warnings.is_empty() && r.reasons.is_some()));
    let text = render_ndjson(&written);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), written.len());
    for (line, record) in lines.iter().zip(&written) {
        let mut scratch = Vec::new();
        let read = LogRecord::from_json_line(line.as_bytes(), &mut scratch).unwrap();
        assert_eq!(&read, record, "{line}");
        assert_eq!(read.duplicate_keys, 0);
        // And written again, byte for byte.
        assert_eq!(serde_json::to_string(&read).unwrap(), *line);
    }
    // Integers stay integers, floats keep every bit, escapes survive.
    let first: Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(first["inputs"]["DAYS_EMPLOYED"], json!(365243));
    assert_eq!(first["inputs"]["AMT_ANNUITY"], json!(12_345.678_901_234_567));
    assert_eq!(first["inputs"]["CODE_GENDER"], "female");
    assert!(lines.last().unwrap().contains(r#""source":"café \"quoted\"\n\u0001""#));
    assert!(first["latency_us"].is_u64() && first["prediction"].is_u64() && first["record_index"].is_u64());
}

/// The reader is forgiving: non-finite numbers spoil only their value, repeated members keep
/// the last value and are counted, members of an unexpected type read as absent.
#[test]
fn log_reader_keeps_what_it_can() {
    let mut scratch = Vec::new();
    let line = br#"{"probability":0.2,"probability":0.3,"status":"ok","threshold":"x","record_index":-1,"reasons":["a",2,"b"],"error":"boom","inputs":{"A":NaN,"B":Infinity,"C":-Infinity,"D":1e400,"E":"NaN, x","F":-1.5e3,"G":true,"A":1}}"#;
    let r = LogRecord::from_json_line(line, &mut scratch).unwrap();
    assert_eq!(r.probability.clone().and_then(Num::finite), Some(0.3));
    assert_eq!(r.duplicate_keys, 1);
    assert_eq!((r.status, r.threshold, r.record_index), (None, None, None));
    assert_eq!(r.reasons.as_ref().unwrap(), &["a", "b"]);
    assert_eq!(r.error.as_ref().unwrap().code.as_deref(), Some("boom"));
    let inputs = r.inputs.as_ref().unwrap();
    assert!(inputs.0[..4].iter().all(|(_, v)| *v == InputValue::NonFinite));
    assert_eq!(inputs.0[4].1, InputValue::Text("NaN, x".into()));
    assert_eq!(inputs.get("A"), Some(&InputValue::Number(1.into())));
    assert!(LogRecord::from_json_line(br#"{"probability":"high"}"#, &mut scratch).is_err());
    assert!(LogRecord::from_json_line(br#"{"inputs":{"A":NaN}"#, &mut scratch).is_err());
}

/// Every API error code is documented in docs/API.md with its status, and is the OpenAPI enum.
#[test]
fn error_codes_are_a_closed_documented_list() {
    let api = repo_text("docs/API.md");
    for code in ErrorCode::ALL {
        let name = code.as_str();
        assert!(api.contains(&format!("`{name}`")), "docs/API.md does not list `{name}`");
    }
    let doc = openapi(None);
    let listed = &doc["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"];
    let expected: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(listed, &json!(expected));
    let statuses: Vec<u16> = ErrorCode::ALL.iter().map(|c| c.status()).collect();
    assert_eq!(statuses, [400, 401, 403, 404, 405, 413, 413, 422, 503, 503, 503, 503]);
}
