//! The scoring API on Cloudflare Workers: a thin adapter over `creditscore_core::service`.
//!
//! This crate only translates workers-rs types, reads secrets and vars, supplies what the core
//! may not produce (request ids from getrandom, the time from the JS clock) and performs the I/O
//! the service asks for (prediction logs through a Queue into R2, or one object per request in R2,
//! else KV, else none; docs/LOGS.md). Routes, validation, status codes, log record contents, key
//! layout, ordering and dedupe all live in the core and are unit-tested natively there.
//!
//! Natively the crate is empty: it only exists for `wasm32` (see Cargo.toml).
// workers-rs only builds for wasm32; compiling nothing natively lets `cargo clippy/test
// --workspace` run on the host without it (its dependencies are wasm32-only in Cargo.toml).
#![cfg(target_arch = "wasm32")]

use std::sync::OnceLock;

use creditscore_core::service::{
    self, CorsOrigins, LOG_KEY_PREFIX, LogPage, LogQuery, LogStore, LogTail, MAX_BODY_BYTES,
    MAX_QUEUE_MESSAGE_BYTES, Outcome, PARTITIONED_PREFIX, Request as ApiRequest, Response as ApiResponse,
    Service, Settings,
};
use futures_util::StreamExt;
use futures_util::future::join_all;
use worker::{
    BatchMessageBuilder, Bucket, Context, Date, Env, Headers, KvStore, MessageBatch, MessageBuilder,
    MessageExt, Queue, QueueContentType, Request, Response, ResponseBuilder, event,
};

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
const QUEUE_BINDING: &str = "LOG_QUEUE";
/// The static site (wrangler.toml `[assets]`, the demo page in www/).
const ASSETS_BINDING: &str = "ASSETS";
/// Test-only failure injection (docs/LOGS.md): the number of queue-batch writes this isolate
/// fails on purpose. Never set in wrangler.toml; `/health` reports it when set.
const FAIL_BATCH_WRITES: &str = "TEST_ONLY_FAIL_LOG_BATCH_WRITES";

/// Log objects fetched concurrently by `GET /logs`.
const FETCH_BATCH: usize = 50;
/// Keys per listing call (the R2 and KV maximum).
const LIST_PAGE: u32 = 1000;

/// Parsed once per isolate, on first use. build.rs loaded these very bytes with every check
/// (content hash included) before compiling them in, so the isolate skips hashing them again:
/// 10-13 ms less on the first request in workerd (README, cold start).
fn service() -> &'static Service {
    static SERVICE: OnceLock<Service> = OnceLock::new();
    SERVICE.get_or_init(|| Service::from_checked_bytes(BUNDLE))
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
    let url = req.url()?;
    // The method as sent: workers-rs maps methods it does not know (e.g. `QUERY`) to GET.
    let method = req.inner().method();

    // A path outside the API is the static site's. Deployed, the platform serves the site's files
    // before the worker runs, so this only sees what the site lacks; `make serve` reaches the
    // worker without the platform's asset router in front (worker/serve.mjs: ~0.3 ms of CPU per
    // request less, `make bench-worker`), so the site is served from here. Whatever the site does
    // not have gets the API's JSON 404 below, as does any failure to reach it.
    if (method == "GET" || method == "HEAD")
        && !service::is_api_path(url.path())
        && let Some(response) = from_site(&env, &req).await
    {
        return Ok(response);
    }

    let store = store(&env);
    let settings = settings(&env, &store);
    let id = request_id(started_ms);
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
                let text = service::render_ndjson(&logs.complete(latency_us));
                match matches!(store, Store::R2(_)).then(|| env.queue(QUEUE_BINDING).ok()).flatten() {
                    // Concurrent requests of this isolate share one queue send (core's LogCoalescer).
                    Some(queue) => {
                        if QUEUED.with(|q| q.borrow_mut().push(&text, started_ms, &id)) {
                            ctx.wait_until(send_queued(store, queue));
                        }
                    }
                    // Without a queue: one object per request.
                    None => {
                        let key = service::partitioned_key(started_ms, &id);
                        ctx.wait_until(async move { put_object(&store, key, text).await });
                    }
                }
            }
            to_response(response, &id)
        }
        Outcome::ReadLogs { tail } => match read_tail(&store, tail).await {
            Ok(response) => to_response(response, &id),
            Err(e) => to_response(service::storage_error(&format!("reading the log store failed: {e}")), &id),
        },
        Outcome::ReadWindow { query } => match read_window(&store, query).await {
            Ok(response) => to_response(response, &id),
            Err(e) => to_response(service::storage_error(&format!("reading the log store failed: {e}")), &id),
        },
    }
}

/// The static site's answer to `req`, unless the site has no such file (404) or cannot be reached
/// (no `ASSETS` binding, a failed fetch: logged).
async fn from_site(env: &Env, req: &Request) -> Option<Response> {
    let site = env.assets(ASSETS_BINDING).ok()?;
    let forwarded = req.clone().ok()?;
    match site.fetch_request(forwarded).await {
        Ok(response) if response.status_code() != 404 => Some(response),
        Ok(_) => None,
        Err(e) => {
            worker::console_error!("the static site did not answer ({e}); answering from the API");
            None
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

thread_local! {
    /// This isolate's log records waiting for their shared queue send.
    static QUEUED: std::cell::RefCell<service::LogCoalescer> = Default::default();
}

/// Sends the records of every request that arrived in the last [`service::LOG_COALESCE_MS`]
/// (scheduled by the first of them, under its `waitUntil`) to the queue, as text messages of at
/// most [`MAX_QUEUE_MESSAGE_BYTES`] (the consumer below writes them to R2 in batches). A record too
/// large for a message, or a failed send, is written directly instead, so nothing is lost.
async fn send_queued(store: Store, queue: Queue) {
    worker::Delay::from(std::time::Duration::from_millis(service::LOG_COALESCE_MS)).await;
    let Some(pending) = QUEUED.with(|q| q.borrow_mut().take()) else { return };
    let mut direct = String::new();
    let mut messages = Vec::new();
    for (body, oversized) in service::split_ndjson(&pending.ndjson, MAX_QUEUE_MESSAGE_BYTES) {
        if oversized { direct.push_str(&body) } else { messages.push(body) }
    }
    for batch in service::send_batches(messages) {
        let send = BatchMessageBuilder::new()
            .messages(
                batch
                    .iter()
                    .map(|m| MessageBuilder::new(m.clone()).content_type(QueueContentType::Text).build()),
            )
            .build();
        if let Err(e) = queue.send_batch(send).await {
            worker::console_error!("log send to the queue failed ({e}); writing directly");
            batch.iter().for_each(|m| direct.push_str(m));
        }
    }
    // Records of several requests may span a minute boundary: one object per minute, as the
    // consumer writes them (the layout's rule, core's `batch_objects`).
    for (key, text) in service::batch_objects(&[direct], &pending.first_id, pending.first_ms) {
        put_object(&store, key, text).await;
    }
}

async fn put_object(store: &Store, key: String, text: String) {
    match store {
        Store::R2(bucket) => {
            if let Err(e) = bucket.put(key, text.into_bytes()).execute().await {
                worker::console_error!("log write to R2 failed: {e}");
            }
        }
        Store::Kv(kv) => match kv.put(&key, text) {
            Ok(put) => {
                if let Err(e) = put.execute().await {
                    worker::console_error!("log write to KV failed: {e}");
                }
            }
            Err(e) => worker::console_error!("log write to KV failed: {e}"),
        },
        Store::Off => {}
    }
}

/// The queue consumer: writes each delivered batch of log messages as NDJSON objects in R2 (one
/// per minute the batch spans, see `service::batch_objects`) and acknowledges the batch only
/// when every write succeeded; otherwise the whole batch is retried by the queue (readers drop
/// the duplicates a partial write leaves). Never returns `Err`: workers-rs turns that into a
/// panic, which would abort the instance.
#[event(queue)]
async fn consume(batch: MessageBatch<String>, env: Env, _ctx: Context) -> worker::Result<()> {
    let messages: Vec<_> = batch.raw_iter().collect();
    let ids: Vec<String> = messages.iter().map(MessageExt::id).collect();
    let bodies: Vec<String> = messages.iter().filter_map(|m| m.body().as_string()).collect();
    if bodies.len() != messages.len() {
        worker::console_error!(
            "{} queue messages are not text; they are not log records",
            messages.len() - bodies.len()
        );
    }
    let Ok(bucket) = env.bucket(R2_BINDING) else {
        worker::console_error!("queue batch not written: no R2 bucket bound as {R2_BINDING}; retrying");
        batch.retry_all();
        return Ok(());
    };
    let objects = service::batch_objects(&bodies, &service::batch_id(&ids), Date::now().as_millis());
    let mut failed = inject_write_failure(&env);
    for (key, text) in objects {
        if failed {
            break;
        }
        if let Err(e) = bucket.put(key, text.into_bytes()).execute().await {
            worker::console_error!("log batch write to R2 failed: {e}; retrying the batch");
            failed = true;
        }
    }
    if failed {
        batch.retry_all()
    } else {
        batch.ack_all()
    }
    Ok(())
}

/// Test-only: `TEST_ONLY_FAIL_LOG_BATCH_WRITES=N` fails the first N batch writes of this isolate.
fn inject_write_failure(env: &Env) -> bool {
    use std::sync::atomic::{AtomicU64, Ordering};
    static FAILED: AtomicU64 = AtomicU64::new(0);
    let limit = text_binding(env, FAIL_BATCH_WRITES).and_then(|v| v.trim().parse::<u64>().ok()).unwrap_or(0);
    if limit == 0 || FAILED.fetch_add(1, Ordering::Relaxed) >= limit {
        return false;
    }
    worker::console_error!("{FAIL_BATCH_WRITES} is set: failing this batch write on purpose (tests only)");
    true
}

/// `GET /logs?tail=N`: whole minutes of objects, newest first, until the tail is full.
async fn read_tail(store: &Store, tail: usize) -> Result<ApiResponse, String> {
    let mut out = LogTail::new(tail);
    let mut keys = newest_partitioned_keys(store, tail).await?;
    if keys.len() < tail {
        // Objects written before the partitioned layout: listed newest first already.
        let mut cursor = None;
        loop {
            let (page, next) = list_page(store, LOG_KEY_PREFIX, None, cursor.take()).await?;
            // Old keys (`logs/<digits>_...`) sort before every `logs/date=` key: stop at the first.
            let past_old = page.iter().any(|k| k.starts_with(PARTITIONED_PREFIX));
            keys.extend(page.into_iter().filter(|k| !k.starts_with(PARTITIONED_PREFIX)));
            match next {
                Some(c) if keys.len() < tail && !past_old => cursor = Some(c),
                _ => break,
            }
        }
    }
    let mut start = 0;
    while start < keys.len() && !out.is_full() {
        let minute = service::key_minute(&keys[start]);
        let end = keys[start..]
            .iter()
            .position(|k| service::key_minute(k) != minute)
            .map_or(keys.len(), |n| start + n);
        out.add_minute(&read_objects(store, &keys[start..end]).await?);
        start = end;
    }
    Ok(out.finish())
}

/// Partitioned keys, newest first, enough to hold `tail` records (each object holds at least one),
/// whole hours at a time. R2 walks date and hour prefixes newest first with delimiter listings;
/// KV (no delimiter) lists every partitioned key.
async fn newest_partitioned_keys(store: &Store, tail: usize) -> Result<Vec<String>, String> {
    let mut newest_first: Vec<String> = Vec::new();
    let Store::R2(bucket) = store else {
        let mut all = list_all(store, PARTITIONED_PREFIX).await?;
        all.reverse();
        return Ok(all);
    };
    for day in delimited(bucket, PARTITIONED_PREFIX).await?.into_iter().rev() {
        for hour in delimited(bucket, &day).await?.into_iter().rev() {
            let keys = list_all(store, &hour).await?;
            newest_first.extend(keys.into_iter().rev());
            if newest_first.len() >= tail {
                return Ok(newest_first);
            }
        }
    }
    Ok(newest_first)
}

async fn list_all(store: &Store, prefix: &str) -> Result<Vec<String>, String> {
    let mut keys = Vec::new();
    let mut cursor = None;
    loop {
        let (page, next) = list_page(store, prefix, None, cursor.take()).await?;
        keys.extend(page);
        match next {
            Some(c) => cursor = Some(c),
            None => return Ok(keys),
        }
    }
}

/// The common prefixes one level below `prefix` (R2 delimiter listing), ascending.
async fn delimited(bucket: &Bucket, prefix: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut list = bucket.list().prefix(prefix).delimiter("/").limit(LIST_PAGE);
        if let Some(c) = cursor.take() {
            list = list.cursor(c);
        }
        let page = list.execute().await.map_err(|e| e.to_string())?;
        out.extend(page.delimited_prefixes());
        match page.truncated().then(|| page.cursor()).flatten() {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    out.sort();
    Ok(out)
}

/// `GET /logs?since&until&limit&cursor`: lists partitioned keys in time order from the page's
/// first minute and feeds whole minutes to the page until it is full or the window ends.
async fn read_window(store: &Store, query: LogQuery) -> Result<ApiResponse, String> {
    let mut page = LogPage::new(query);
    let start_after = page.start_after();
    let mut minute_keys: Vec<String> = Vec::new();
    let mut minute = None;
    let mut cursor = None;
    let mut stopped = false;
    'listing: loop {
        let (keys, next) = list_page(store, PARTITIONED_PREFIX, Some(&start_after), cursor.take()).await?;
        for key in keys {
            let Some(m) = service::key_minute(&key) else { continue };
            if page.past_window(m) {
                break 'listing;
            }
            if minute != Some(m) {
                if !minute_keys.is_empty() {
                    page.add_minute(&read_objects(store, &minute_keys).await?);
                    minute_keys.clear();
                }
                if page.is_full() {
                    stopped = true;
                    break 'listing;
                }
                minute = Some(m);
            }
            minute_keys.push(key);
        }
        match next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    if !minute_keys.is_empty() && !page.is_full() {
        page.add_minute(&read_objects(store, &minute_keys).await?);
    } else if !minute_keys.is_empty() {
        stopped = true;
    }
    Ok(page.finish(stopped))
}

async fn read_objects(store: &Store, keys: &[String]) -> Result<Vec<String>, String> {
    let mut texts = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(FETCH_BATCH) {
        for text in join_all(chunk.iter().map(|k| read_object(store, k))).await {
            texts.push(text?);
        }
    }
    Ok(texts)
}

/// One page of keys under `prefix` in ascending order (after `start_after` when given) and the
/// cursor of the next page. KV has no `startAfter`: earlier keys are listed and skipped.
async fn list_page(
    store: &Store,
    prefix: &str,
    start_after: Option<&str>,
    cursor: Option<String>,
) -> Result<(Vec<String>, Option<String>), String> {
    match store {
        Store::R2(bucket) => {
            let mut list = bucket.list().prefix(prefix).limit(LIST_PAGE);
            if let Some(c) = cursor {
                list = list.cursor(c);
            } else if let Some(s) = start_after {
                list = list.start_after(s);
            }
            let page = list.execute().await.map_err(|e| e.to_string())?;
            let keys = page.objects().iter().map(|o| o.key()).collect();
            Ok((keys, if page.truncated() { page.cursor() } else { None }))
        }
        Store::Kv(kv) => {
            let mut list = kv.list().prefix(prefix.to_string()).limit(u64::from(LIST_PAGE));
            if let Some(c) = cursor {
                list = list.cursor(c);
            }
            let page = list.execute().await.map_err(|e| e.to_string())?;
            let keys = page
                .keys
                .into_iter()
                .map(|k| k.name)
                .filter(|k| start_after.is_none_or(|s| k.as_str() > s))
                .collect();
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
