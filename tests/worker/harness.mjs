// Runs the built worker (worker/build/, from `make worker-build`) in workerd through Miniflare,
// with chosen bindings, and offers small HTTP helpers. Each instance has its own in-memory R2/KV.
import { createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { Miniflare } from 'miniflare';

import { SEED_CLIENT } from '../npm/fixtures.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SCRIPT = path.join(ROOT, 'worker', 'build', 'index.js');

/** The seed README's example record (README-original.md), shared with the npm and browser tests. */
export const README_RECORD = SEED_CLIENT;

export const TOKEN = 'test-logs-token';
export const HASH_KEY = 'test-hash-key';

/** Queue names and consumer settings of wrangler.toml (the test uses a short batch timeout). */
export const LOG_QUEUE = 'creditscore-logs';

/**
 * Starts the worker. `store`: 'r2' | 'kv' | 'both' | 'none'; `queue`: bind the LOG_QUEUE producer
 * and run the worker's queue consumer (as wrangler.toml declares); `vars`: plain-text bindings
 * (secrets and vars, as wrangler passes them); `onOutput`: receives the worker's console output.
 */
export async function startWorker({
  store = 'r2',
  queue = false,
  vars = { LOGS_ACCESS_TOKEN: TOKEN, LOG_HASH_KEY: HASH_KEY },
  onOutput,
} = {}) {
  if (!existsSync(SCRIPT)) throw new Error(`${SCRIPT} is missing: run \`make worker-build\` first`);
  const mf = new Miniflare({
    modules: true,
    scriptPath: SCRIPT,
    modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
    compatibilityDate: '2026-04-20',
    host: '127.0.0.1',
    port: 0,
    r2Buckets: store === 'r2' || store === 'both' ? ['LOGS_BUCKET'] : [],
    kvNamespaces: store === 'kv' || store === 'both' ? ['LOGS_KV'] : [],
    bindings: vars,
    ...(queue
      ? {
          queueProducers: { LOG_QUEUE: { queueName: LOG_QUEUE } },
          queueConsumers: { [LOG_QUEUE]: { maxBatchSize: 100, maxBatchTimeout: 1, maxRetries: 10 } },
        }
      : {}),
    ...(onOutput
      ? {
          handleRuntimeStdio(stdout, stderr) {
            stdout.on('data', (d) => onOutput(String(d)));
            stderr.on('data', (d) => onOutput(String(d)));
          },
        }
      : {}),
  });
  const url = await mf.ready;
  const base = url.href.replace(/\/$/, '');
  return { mf, base, stop: () => mf.dispose() };
}

/** fetch() returning {status, headers, text, json}. */
export async function request(base, pathAndQuery, { method = 'GET', body, headers = {} } = {}) {
  const init = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body);
    init.headers['content-type'] ??= 'application/json';
  }
  let res;
  try {
    res = await fetch(base + pathAndQuery, init);
  } catch (e) {
    // A pooled keep-alive socket that the local server closed while idle fails the next fetch
    // ('fetch failed', cause UND_ERR_SOCKET 'other side closed'): the request never reached the
    // worker, so it is sent once more on a new connection, whatever its method. Any other
    // failure (refused, reset mid-response, timeout) is the test's to see.
    const staleSocket = e?.cause?.code === 'UND_ERR_SOCKET' && /other side closed/.test(e.cause.message ?? '');
    if (!(method === 'GET' || staleSocket)) throw e;
    res = await fetch(base + pathAndQuery, { ...init, headers: { ...init.headers, connection: 'close' } });
  }
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export const predict = (base, data, query = '', headers = {}) =>
  request(base, `/predict${query}`, { method: 'POST', body: { data }, headers });

/** Reads /logs, parsed; waits until at least `atLeast` records are there (writes happen after the response). */
export async function readLogs(base, { tail = 10000, atLeast = 0, timeoutMs = 20000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await request(base, `/logs?tail=${tail}`, { headers: { 'X-Logs-Token': TOKEN } });
    if (res.status !== 200) throw new Error(`/logs: ${res.status} ${res.text}`);
    const records = res.text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
    if (records.length >= atLeast || Date.now() > deadline) return records;
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const hmacHex = (key, id) => createHmac('sha256', key).update(String(id)).digest('hex');

/** Runs `limit` of `tasks` (functions returning promises) at a time; results in task order. */
export async function pool(tasks, limit) {
  const results = new Array(tasks.length);
  let next = 0;
  async function lane() {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]();
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, lane));
  return results;
}

/**
 * Every record of `GET /logs?since&until` followed page by page through X-Next-Cursor:
 * {records, pages, duplicates, cursors}.
 */
export async function readWindow(base, { since, until, limit = 10000 } = {}) {
  const records = [];
  let pages = 0;
  let duplicates = 0;
  let cursor;
  do {
    const q = new URLSearchParams({ limit: String(limit) });
    if (since) q.set('since', since);
    if (until) q.set('until', until);
    if (cursor) q.set('cursor', cursor);
    const res = await request(base, `/logs?${q}`, { headers: { 'X-Logs-Token': TOKEN } });
    if (res.status !== 200) throw new Error(`/logs?${q}: ${res.status} ${res.text}`);
    for (const l of res.text.split('\n')) if (l.trim()) records.push(JSON.parse(l));
    duplicates += Number(res.headers.get('x-log-duplicates') ?? 0);
    cursor = res.headers.get('x-next-cursor') ?? undefined;
    pages += 1;
  } while (cursor);
  return { records, pages, duplicates };
}

/** Waits until the time window holds at least `count` records (queue batches land later). */
export async function waitForRecords(base, count, { since, timeoutMs = 60000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { records } = await readWindow(base, { since });
    if (records.length >= count || Date.now() > deadline) return records;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Number of log objects in the R2 bucket (every page of the listing). */
export async function countLogObjects(mf) {
  const bucket = await mf.getR2Bucket('LOGS_BUCKET');
  let objects = 0;
  let cursor;
  do {
    const page = await bucket.list({ prefix: 'logs/', cursor });
    objects += page.objects.length;
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return objects;
}
