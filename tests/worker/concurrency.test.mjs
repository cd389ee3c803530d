// Concurrent requests lose no log records: each request writes its own object, nothing is
// read-modify-written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { README_RECORD, pool, predict, readLogs, startWorker } from './harness.mjs';

test('500 predictions with 50 in flight give exactly 500 log records, none duplicated', async () => {
  const { base, mf, stop } = await startWorker({ store: 'r2' });
  try {
    const tasks = Array.from({ length: 500 }, (_, i) => () => predict(base, { ...README_RECORD, SK_ID_CURR: 200000 + i }));
    const responses = await pool(tasks, 50);
    assert.ok(responses.every((r) => r.status === 200));
    const requestIds = new Set(responses.map((r) => r.json.request_id));
    assert.equal(requestIds.size, 500, 'request ids are unique');

    const logs = await readLogs(base, { tail: 10000, atLeast: 500, timeoutMs: 30000 });
    assert.equal(logs.length, 500);
    assert.equal(new Set(logs.map((l) => l.request_id)).size, 500, 'no duplicates');
    for (const l of logs) assert.ok(requestIds.has(l.request_id));
    assert.equal(new Set(logs.map((l) => l.client_id_hash)).size, 500, 'every client logged once');

    const bucket = await mf.getR2Bucket('LOGS_BUCKET');
    let objects = 0;
    let cursor;
    do {
      const page = await bucket.list({ prefix: 'logs/', cursor });
      objects += page.objects.length;
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
    assert.equal(objects, 500, 'one object per request');
  } finally {
    await stop();
  }
});
