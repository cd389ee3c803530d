//! Native time of the same work the worker does for one `POST /predict` (the seed README record):
//! the core service's `handle` plus rendering the log object, with the bundle the worker embeds.
//! Compare with `node tests/worker/bench.mjs` (the worker under load in workerd).
//!
//! cargo run --release -p creditscore-worker --example native_bench

use std::time::Instant;

use creditscore_core::service::{self, LogStore, Outcome, Request, Service, Settings};

const BUNDLE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/bundle.csb"));
const RUNS: usize = 20_000;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let start = Instant::now();
    let svc = Service::new(BUNDLE);
    let load_us = start.elapsed().as_secs_f64() * 1e6;
    let Some(bundle) = svc.bundle() else {
        eprintln!("the embedded bundle does not load");
        std::process::exit(1);
    };
    let settings = Settings {
        log_store: LogStore::R2,
        logs_token: Some("token".into()),
        hash_client_ids: true,
        hash_key: Some("key".into()),
        cors: Default::default(),
    };
    // The seed README's single-client request.
    let client = creditscore_core::test_support::readme_clients().swap_remove(0);
    let body = serde_json::json!({ "data": client }).to_string();
    let mut times = Vec::with_capacity(RUNS);
    for i in 0..RUNS + 1000 {
        let id = format!("{i:032x}");
        let t = Instant::now();
        let outcome = svc.handle(
            &settings,
            &Request {
                method: "POST",
                path: "/predict",
                query: "",
                logs_token_header: None,
                authorization: None,
                client_source: None,
                origin: None,
                body: body.as_bytes(),
                declared_body_len: None,
                request_id: &id,
                now_ms: 1_795_000_000_000 + i as u64,
            },
        );
        let Outcome::Respond { response, logs } = outcome else { unreachable!("predict never reads logs") };
        let object = service::render_ndjson(&logs.complete(0));
        std::hint::black_box((response, object));
        if i >= 1000 {
            times.push(t.elapsed().as_secs_f64() * 1e6);
        }
    }
    times.sort_by(f64::total_cmp);
    println!(
        "native core, model {} {} ({} trees): bundle load {load_us:.0} us; POST /predict handle+log over {RUNS} runs: \
         p50 {:.1} us, p99 {:.1} us, mean {:.1} us",
        bundle.meta().name,
        bundle.meta().version,
        bundle.ensemble().trees.len(),
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        times.iter().sum::<f64>() / times.len() as f64
    );
}
