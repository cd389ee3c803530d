// Concurrent requests lose no log records, on both log paths: one object per request (nothing is
// read-modify-written), and through the queue (the consumer writes batches; readers drop the
// duplicates at-least-once delivery may leave).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { README_RECORD, countLogObjects, pool, predict, readLogs, startWorker } from './harness.mjs';

for (const queue of [false, true]) {
  const path = queue ? 'queue path' : 'direct path';
  test(`${path}: 500 predictions with 50 in flight give exactly 500 log records, none duplicated`, async () => {
    const { base, mf, stop } = await startWorker({ store: 'r2', queue });
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

      const objects = await countLogObjects(mf);
      if (queue) assert.ok(objects < 100, `${objects} objects: batches, not one per request`);
      else assert.equal(objects, 500, 'one object per request');
    } finally {
      await stop();
    }
  });
}
