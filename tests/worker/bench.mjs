// Local benchmark of the built worker in workerd (Miniflare, R2 bound, logging on as deployed):
// wasm size, cold start, /predict latency under load. Prints numbers; asserts nothing.
//
//   node tests/worker/bench.mjs [requests=2000] [in_flight=32]
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { README_RECORD, ROOT, pool, startWorker } from './harness.mjs';

const requests = Number(process.argv[2] ?? 2000);
const inFlight = Number(process.argv[3] ?? 32);
// 'r2' (as deployed), 'kv' or 'none' (logging off: the worker's own cost).
const store = process.argv[4] ?? 'r2';

const wasm = readFileSync(path.join(ROOT, 'worker', 'build', 'index_bg.wasm'));
const js = readFileSync(path.join(ROOT, 'worker', 'build', 'index.js'));
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
console.log(`wasm: ${kib(wasm.length)} raw, ${kib(gzipSync(wasm, { level: 9 }).length)} gzip; JS shim ${kib(js.length)}`);

const body = JSON.stringify({ data: README_RECORD });
const post = async (base) => {
  const t = performance.now();
  const res = await fetch(`${base}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`status ${res.status}`);
  return performance.now() - t;
};

const t0 = performance.now();
const worker = await startWorker({ store });
console.log(`log store: ${store}`);
const ready = performance.now() - t0;
try {
  const first = await post(worker.base);
  const second = await post(worker.base);
  console.log(`cold start: workerd ready in ${ready.toFixed(0)} ms; first POST /predict ${first.toFixed(1)} ms (wasm instantiation + bundle check), second ${second.toFixed(1)} ms`);

  await pool(Array.from({ length: 200 }, () => () => post(worker.base)), inFlight); // warm-up
  const serial = [];
  for (let i = 0; i < 300; i++) serial.push(await post(worker.base));
  serial.sort((a, b) => a - b);
  console.log(`POST /predict, one at a time (300): p50 ${serial[150].toFixed(2)} ms, p99 ${serial[297].toFixed(2)} ms`);
  const started = performance.now();
  const times = await pool(Array.from({ length: requests }, () => () => post(worker.base)), inFlight);
  const wall = (performance.now() - started) / 1000;
  times.sort((a, b) => a - b);
  const pct = (p) => times[Math.round((times.length - 1) * p)].toFixed(2);
  console.log(
    `POST /predict, ${requests} requests, ${inFlight} in flight: p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms, max ${pct(1)} ms, ${(requests / wall).toFixed(0)} req/s (client, server and R2 writes on one machine)`,
  );
} finally {
  await worker.stop();
}
