//! The scoring API on Cloudflare Workers: a thin adapter over `creditscore_core::service`.
//!
//! This crate only translates workers-rs types, reads secrets and vars, supplies what the core
//! may not produce (request ids from getrandom, the time from the JS clock) and performs the I/O
//! the service asks for (prediction logs in R2, else KV, else none). Routes, validation, status
//! codes and log record contents all live in the core and are unit-tested natively there.
//!
//! Natively the crate is empty: it only exists for `wasm32` (see Cargo.toml).
#![cfg(target_arch = "wasm32")]

use std::sync::OnceLock;

use creditscore_core::service::{
    self, CorsOrigins, LOG_KEY_PREFIX, LogStore, MAX_BODY_BYTES, Outcome, Request as ApiRequest,
    Response as ApiResponse, Service, Settings,
};
use futures_util::StreamExt;
use futures_util::future::join_all;
use worker::{Bucket, Context, Date, Env, Headers, KvStore, Request, Response, ResponseBuilder, event};

/// The model bundle compiled into the worker (chosen by build.rs).
static BUNDLE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/bundle.csb"));

/// Bindings and variables (see wrangler.toml).
const R2_BINDING: &str = "LOGS_BUCKET";
const KV_BINDING: &str = "LOGS_KV";
const LOGS_TOKEN: &str = "LOGS_ACCESS_TOKEN";
const HASH_KEY: &str = "LOG_HASH_KEY";
const HASH_SWITCH: &str = "LOG_HASH_SK_ID";
const LOGGING_SWITCH: &str = "LOG_PREDICTIONS";
const CORS_ORIGINS: &str = "CORS_ALLOW_ORIGINS";

/// Log objects fetched concurrently by `GET /logs`.
const FETCH_BATCH: usize = 50;

/// Parsed once per isolate: the bundle is checked (sha256, structure) on first use only.
fn service() -> &'static Service {
    static SERVICE: OnceLock<Service> = OnceLock::new();
    SERVICE.get_or_init(|| Service::new(BUNDLE))
}

enum Store {
    R2(Bucket),
    Kv(KvStore),
    Off,
}

impl Store {
    fn kind(&self) -> LogStore {
        match self {
            Store::R2(_) => LogStore::R2,
            Store::Kv(_) => LogStore::Kv,
            Store::Off => LogStore::Off,
        }
    }
}

/// A secret or plain variable, empty treated as unset.
fn text_binding(env: &Env, name: &str) -> Option<String> {
    env.secret(name).ok().map(|s| s.to_string()).filter(|s| !s.is_empty())
}

/// An explicit "off" switch: "0", "false", "off" or "no" (case-insensitive).
fn switched_off(env: &Env, name: &str) -> bool {
    text_binding(env, name)
        .is_some_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "0" | "false" | "off" | "no"))
}

fn store(env: &Env) -> Store {
    if switched_off(env, LOGGING_SWITCH) {
        return Store::Off;
    }
    if let Ok(bucket) = env.bucket(R2_BINDING) {
        return Store::R2(bucket);
    }
    if let Ok(kv) = env.kv(KV_BINDING) {
        return Store::Kv(kv);
    }
    Store::Off
}

fn settings(env: &Env, store: &Store) -> Settings {
    Settings {
        log_store: store.kind(),
        logs_token: text_binding(env, LOGS_TOKEN),
        hash_client_ids: !switched_off(env, HASH_SWITCH),
        hash_key: text_binding(env, HASH_KEY),
        cors: text_binding(env, CORS_ORIGINS).map(|v| CorsOrigins::parse(&v)).unwrap_or_default(),
    }
}

/// 128 random bits as hex. getrandom reads `crypto.getRandomValues`, which cannot fail in
/// workerd; should it ever, the id falls back to the time plus a per-isolate counter.
fn request_id(now_ms: u64) -> String {
    let mut bytes = [0u8; 16];
    if getrandom::getrandom(&mut bytes).is_err() {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        bytes[..8].copy_from_slice(&now_ms.to_le_bytes());
        bytes[8..].copy_from_slice(&COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn to_response(api: ApiResponse, request_id: &str) -> worker::Result<Response> {
    let headers = Headers::new();
    headers.set("Content-Type", api.content_type)?;
    headers.set("X-Request-Id", request_id)?;
    for (name, value) in &api.headers {
        headers.set(name, value)?;
    }
    Ok(ResponseBuilder::new().with_status(api.status).with_headers(headers).fixed(api.body.into_bytes()))
}

#[event(fetch)]
async fn fetch(mut req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    let started_ms = Date::now().as_millis();
    let store = store(&env);
    let settings = settings(&env, &store);
    let id = request_id(started_ms);
    let url = req.url()?;
    // The method as sent: workers-rs maps methods it does not know (e.g. `QUERY`) to GET.
    let method = req.inner().method();
    let header = |name: &str| req.headers().get(name).ok().flatten();
    let (logs_token, authorization, source, origin) =
        (header("X-Logs-Token"), header("Authorization"), header("X-Client-Source"), header("Origin"));

    // Bodies are read in chunks and kept up to the limit; the rest is drained unread, so an
    // oversized request still gets its 413 (closing early makes many clients fail to read it).
    let (body, body_len) = if method == "POST" { read_body(&mut req).await } else { (Vec::new(), 0) };
    let api_request = ApiRequest {
        method: &method,
        path: url.path(),
        query: url.query().unwrap_or(""),
        logs_token_header: logs_token.as_deref(),
        authorization: authorization.as_deref(),
        client_source: source.as_deref(),
        origin: origin.as_deref(),
        body: &body,
        declared_body_len: Some(body_len),
        request_id: &id,
        now_ms: started_ms,
    };
    match service().handle(&settings, &api_request) {
        Outcome::Respond { response, logs } => {
            if !logs.is_empty() {
                let latency_us = Date::now().as_millis().saturating_sub(started_ms) * 1000;
                let key = service::log_object_key(started_ms, &id);
                let text = service::render_ndjson(&logs.complete(latency_us));
                store_log(&ctx, store, key, text);
            }
            to_response(response, &id)
        }
        Outcome::ReadLogs { tail } => {
            let objects = match read_newest(&store, tail).await {
                Ok(objects) => objects,
                Err(e) => {
                    let message = format!("reading the log store failed: {e}");
                    return to_response(service::storage_error(&message), &id);
                }
            };
            to_response(service().logs_response(&objects, tail), &id)
        }
    }
}

/// The body up to `MAX_BODY_BYTES + 1` bytes, and its full length.
async fn read_body(req: &mut Request) -> (Vec<u8>, u64) {
    let Ok(mut stream) = req.stream() else {
        return (Vec::new(), 0);
    };
    let mut body = Vec::new();
    let mut total = 0u64;
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else { break };
        total += chunk.len() as u64;
        let room = (MAX_BODY_BYTES + 1).saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
    (body, total)
}

/// Writes one request's log object after the response is sent.
fn store_log(ctx: &Context, store: Store, key: String, text: String) {
    match store {
        Store::R2(bucket) => ctx.wait_until(async move {
            if let Err(e) = bucket.put(key, text.into_bytes()).execute().await {
                worker::console_error!("log write to R2 failed: {e}");
            }
        }),
        Store::Kv(kv) => ctx.wait_until(async move {
            match kv.put(&key, text) {
                Ok(put) => {
                    if let Err(e) = put.execute().await {
                        worker::console_error!("log write to KV failed: {e}");
                    }
                }
                Err(e) => worker::console_error!("log write to KV failed: {e}"),
            }
        }),
        Store::Off => {}
    }
}

/// Log objects, newest first, until they hold at least `tail` lines. Keys sort newest first
/// (see `log_object_key`), so listing stops as soon as enough objects are found.
async fn read_newest(store: &Store, tail: usize) -> Result<Vec<String>, String> {
    let mut objects: Vec<String> = Vec::new();
    let mut lines = 0usize;
    let mut cursor: Option<String> = None;
    loop {
        let (keys, next) = list_page(store, cursor.take()).await?;
        for chunk in keys.chunks(FETCH_BATCH) {
            let texts = join_all(chunk.iter().map(|k| read_object(store, k))).await;
            for text in texts {
                let text = text?;
                lines += text.lines().filter(|l| !l.trim().is_empty()).count();
                objects.push(text);
            }
            if lines >= tail {
                return Ok(objects);
            }
        }
        match next {
            Some(c) => cursor = Some(c),
            None => return Ok(objects),
        }
    }
}

/// One page of log keys in ascending (newest-first) order and the cursor of the next page.
async fn list_page(store: &Store, cursor: Option<String>) -> Result<(Vec<String>, Option<String>), String> {
    match store {
        Store::R2(bucket) => {
            let mut list = bucket.list().prefix(LOG_KEY_PREFIX).limit(1000);
            if let Some(c) = cursor {
                list = list.cursor(c);
            }
            let page = list.execute().await.map_err(|e| e.to_string())?;
            let keys = page.objects().iter().map(|o| o.key()).collect();
            Ok((keys, if page.truncated() { page.cursor() } else { None }))
        }
        Store::Kv(kv) => {
            let mut list = kv.list().prefix(LOG_KEY_PREFIX.to_string()).limit(1000);
            if let Some(c) = cursor {
                list = list.cursor(c);
            }
            let page = list.execute().await.map_err(|e| e.to_string())?;
            let keys = page.keys.into_iter().map(|k| k.name).collect();
            Ok((keys, if page.list_complete { None } else { page.cursor }))
        }
        Store::Off => Ok((Vec::new(), None)),
    }
}

async fn read_object(store: &Store, key: &str) -> Result<String, String> {
    match store {
        Store::R2(bucket) => match bucket.get(key).execute().await.map_err(|e| e.to_string())? {
            Some(object) => match object.body() {
                Some(body) => body.text().await.map_err(|e| e.to_string()),
                None => Ok(String::new()),
            },
            // Listed, then gone (deleted by an operator): nothing to return.
            None => Ok(String::new()),
        },
        Store::Kv(kv) => Ok(kv.get(key).text().await.map_err(|e| e.to_string())?.unwrap_or_default()),
        Store::Off => Ok(String::new()),
    }
}
