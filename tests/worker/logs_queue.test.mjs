// Prediction logs at volume (docs/LOGS.md), against the worker in workerd: the queue path
// (LOG_QUEUE producer + the worker's own consumer writing batches to R2), reading by time with
// cursors, `creditscore logs pull` (complete, interrupted and resumed), an injected consumer write
// failure, and objects written before the partitioned layout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  README_RECORD,
  ROOT,
  countLogObjects,
  TOKEN,
  pool,
  predict,
  readLogs,
  readWindow,
  request,
  startWorker,
  waitForRecords,
} from './harness.mjs';

const CLI = path.join(ROOT, 'target', 'release', 'creditscore');
const key = (r) => `${r.request_id}/${r.record_index}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** `n` requests of `size` records each (distinct clients and amounts), `inFlight` at a time. */
async function score(base, n, size, inFlight, offset = 0) {
  const tasks = Array.from({ length: n }, (_, i) => () =>
    predict(
      base,
      Array.from({ length: size }, (_, j) => ({
        ...README_RECORD,
        SK_ID_CURR: 300000 + (offset + i) * size + j,
        AMT_CREDIT: 100000 + ((i * size + j) % 997) * 1000,
      })),
    ),
  );
  const responses = await pool(tasks, inFlight);
  for (const r of responses) assert.equal(r.status, 200, r.text);
  return responses;
}

/** Map "request_id/record_index" -> the prediction the client received. */
function answers(responses) {
  const m = new Map();
  for (const r of responses) r.json.predictions.forEach((p, i) => m.set(`${r.json.request_id}/${i}`, p));
  return m;
}

function assertMatches(records, expected) {
  assert.equal(records.length, expected.size);
  assert.equal(new Set(records.map(key)).size, expected.size, 'no duplicate');
  for (const r of records) {
    const p = expected.get(key(r));
    assert.ok(p, `unexpected record ${key(r)}`);
    assert.equal(r.probability, p.probability);
    assert.equal(r.prediction, p.prediction);
  }
}

function assertTimeOrder(records) {
  const cmp = (a, b) =>
    a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : a.request_id < b.request_id ? -1 : a.request_id > b.request_id ? 1 : (a.record_index ?? -1) - (b.record_index ?? -1);
  for (let i = 1; i < records.length; i++) assert.ok(cmp(records[i - 1], records[i]) < 0, `order at ${i}`);
}

const pull = (base, out, ...args) =>
  spawnSync(CLI, ['logs', 'pull', '--url', base, '--token', TOKEN, '--out', out, ...args], { encoding: 'utf8' });
const readJsonl = (file) => readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));

test('queue path: 200 requests x 100 records, 16 in flight, pulled, paged and windowed exactly', async () => {
  assert.ok(existsSync(CLI), `${CLI} is missing: run \`make build\``);
  const { base, mf, stop } = await startWorker({ store: 'r2', queue: true });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'creditscore-queue-'));
  try {
    // workerd's clock only advances on I/O: allow it a second behind the test's.
    const since = new Date(Date.now() - 1000).toISOString();
    const responses = await score(base, 200, 100, 16);
    const expected = answers(responses);
    const landed = await waitForRecords(base, 20000, { since });
    assert.equal(landed.length, 20000);
    const objects = await countLogObjects(mf);
    assert.ok(objects < 200, `${objects} objects for 200 requests: the consumer writes batches`);

    // logs pull --since: every record once, equal to what the clients got.
    const out = path.join(dir, 'pulled.jsonl');
    const full = pull(base, out, '--since', since);
    assert.equal(full.status, 0, full.stderr);
    assert.match(full.stderr, /20000 log records written .*\(0 duplicates dropped\)/);
    const pulled = readJsonl(out);
    assertMatches(pulled, expected);
    assertTimeOrder(pulled);

    // Interrupted midway (killed after its first pages), then re-run: same records, no dup, no gap.
    const resumed = path.join(dir, 'resumed.jsonl');
    const state = `${resumed}.pull-state`;
    const child = spawn(CLI, ['logs', 'pull', '--url', base, '--token', TOKEN, '--out', resumed, '--since', since, '--page-size', '200']);
    const exited = new Promise((r) => child.on('exit', r));
    const deadline = Date.now() + 30000;
    while (!existsSync(state) && Date.now() < deadline) await sleep(5);
    await sleep(100);
    child.kill('SIGKILL');
    await exited;
    assert.ok(!existsSync(resumed), 'the interrupted pull left no finished file');
    const before = JSON.parse(readFileSync(state, 'utf8')).records;
    assert.ok(before > 0 && before < 20000, `interrupted after ${before} records`);
    const again = pull(base, resumed, '--since', since, '--page-size', '200');
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /resuming: \d+ records already/);
    const resumedRecords = readJsonl(resumed);
    assertMatches(resumedRecords, expected);
    assert.deepEqual(resumedRecords.map(key), pulled.map(key));
    assert.ok(!existsSync(state), 'the state file is removed when done');

    // Paging with limit=1000: every record once, in time order, 20 pages.
    const paged = await readWindow(base, { since, limit: 1000 });
    assertMatches(paged.records, expected);
    assertTimeOrder(paged.records);
    assert.ok(paged.pages >= 20 && paged.pages <= 21, `${paged.pages} pages`);

    // since/until select exactly the records inside [since, until).
    const times = [...new Set(pulled.map((r) => r.ts))].sort();
    const [from, to] = [times[Math.floor(times.length / 4)], times[Math.floor((3 * times.length) / 4)]];
    const inside = pulled.filter((r) => r.ts >= from && r.ts < to);
    assert.ok(inside.length > 0 && inside.length < 20000);
    const windowed = await readWindow(base, { since: from, until: to, limit: 1000 });
    assert.deepEqual(windowed.records.map(key), inside.map(key));
    const cut = path.join(dir, 'window.jsonl');
    const cutRun = pull(base, cut, '--since', from, '--until', to);
    assert.equal(cutRun.status, 0, cutRun.stderr);
    assert.deepEqual(readJsonl(cut).map(key), inside.map(key));
    assert.equal((await readWindow(base, { since: to, until: to })).records.length, 0);

    // tail=N still answers with the newest records.
    const tail = await readLogs(base, { tail: 150 });
    assert.deepEqual(tail.map(key), pulled.slice(-150).map(key));
  } finally {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('GET /logs: bad since, until, limit and cursor get 422 with the field path', async () => {
  const { base, stop } = await startWorker({ store: 'r2' });
  try {
    for (const [query, field] of [
      ['since=yesterday', 'query.since'],
      ['until=2026-02-30T00:00:00Z', 'query.until'],
      ['since=2026-11-30T15:00:00Z&until=2026-11-30T14:00:00Z', 'query.since'],
      ['limit=0', 'query.limit'],
      ['limit=10001', 'query.limit'],
      ['cursor=not-a-cursor', 'query.cursor'],
      ['tail=5&since=2026-11-30T14:00:00Z', 'query.tail'],
    ]) {
      const r = await request(base, `/logs?${query}`, { headers: { 'X-Logs-Token': TOKEN } });
      assert.equal(r.status, 422, `${query}: ${r.text}`);
      assert.equal(r.json.error.details[0].path, field, query);
    }
  } finally {
    await stop();
  }
});

test('a consumer write that fails once is retried: nothing lost, nothing doubled; big requests split', async () => {
  let output = '';
  const { base, stop } = await startWorker({
    store: 'r2',
    queue: true,
    vars: { LOGS_ACCESS_TOKEN: TOKEN, LOG_HASH_KEY: 'k', TEST_ONLY_FAIL_LOG_BATCH_WRITES: '1' },
    onOutput: (text) => (output += text),
  });
  try {
    const since = new Date(Date.now() - 1000).toISOString();
    // 1000 records (the most one request takes) are several queue messages.
    const responses = [...(await score(base, 20, 10, 4)), ...(await score(base, 1, 1000, 1, 1000))];
    const expected = answers(responses);
    const records = await waitForRecords(base, expected.size, { since });
    assertMatches(records, expected);
    assert.match(output, /failing this batch write on purpose/);
    const { records: again, duplicates } = await readWindow(base, { since, limit: 500 });
    assertMatches(again, expected);
    // The injected failure comes before any write, and the retried batch keeps its id (its keys):
    // no record is stored twice, so the reader has none to drop.
    assert.equal(duplicates, 0);
  } finally {
    await stop();
  }
});

test('objects written before the partitioned layout stay readable by tail', async () => {
  const { base, mf, stop } = await startWorker({ store: 'r2' });
  try {
    const bucket = await mf.getR2Bucket('LOGS_BUCKET');
    const ms = Date.parse('2026-11-01T10:00:00.000Z');
    const old = { ts: '2026-11-01T10:00:00.000Z', request_id: 'legacy', record_index: 0, endpoint: '/predict', probability: 0.1, prediction: 0 };
    await bucket.put(`logs/${String(9999999999999 - ms).padStart(13, '0')}_${old.ts}_legacy.ndjson`, `${JSON.stringify(old)}\n`);
    const r = await predict(base, README_RECORD);
    const tail = await readLogs(base, { tail: 10, atLeast: 2 });
    assert.deepEqual(tail.map((l) => l.request_id), ['legacy', r.json.request_id]);
  } finally {
    await stop();
  }
});
