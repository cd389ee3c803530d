// The operator's choices, each on its own worker instance: KV instead of R2, no store, logs token
// unset, hashing explicitly off, hashing on without a key.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { HASH_KEY, README_RECORD, TOKEN, hmacHex, predict, readLogs, request, startWorker } from './harness.mjs';

async function withWorker(options, fn) {
  const w = await startWorker(options);
  try {
    await fn(w);
  } finally {
    await w.stop();
  }
}

describe('log store chosen by the bindings', () => {
  test('KV when only KV is bound: one key per request, /logs reads them', () =>
    withWorker({ store: 'kv' }, async ({ base, mf }) => {
      assert.equal((await request(base, '/health')).json.logs, 'kv');
      const r = await predict(base, [README_RECORD, { ...README_RECORD, SK_ID_CURR: 100003 }]);
      assert.equal(r.status, 200);
      const logs = await readLogs(base, { atLeast: 2 });
      assert.equal(logs.length, 2);
      assert.equal(logs[1].client_id_hash, hmacHex(HASH_KEY, 100003));
      const kv = await mf.getKVNamespace('LOGS_KV');
      const keys = (await kv.list({ prefix: 'logs/' })).keys;
      assert.equal(keys.length, 1, 'one object for the request, holding both records');
    }));

  test('R2 wins when both are bound', () =>
    withWorker({ store: 'both' }, async ({ base }) => {
      assert.equal((await request(base, '/health')).json.logs, 'r2');
    }));

  test('no store: logging off, /health says so, /logs 503, scoring still works', () =>
    withWorker({ store: 'none' }, async ({ base }) => {
      assert.equal((await request(base, '/health')).json.logs, 'off');
      assert.equal((await predict(base, README_RECORD)).status, 200);
      const r = await request(base, '/logs', { headers: { 'X-Logs-Token': TOKEN } });
      assert.equal(r.status, 503);
      assert.equal(r.json.error.code, 'logging_off');
    }));

  test('LOG_PREDICTIONS=0 turns logging off even with R2 bound', () =>
    withWorker({ store: 'r2', vars: { LOGS_ACCESS_TOKEN: TOKEN, LOG_HASH_KEY: HASH_KEY, LOG_PREDICTIONS: '0' } }, async ({ base }) => {
      assert.equal((await request(base, '/health')).json.logs, 'off');
    }));
});

describe('GET /logs token', () => {
  test('unset token: 503 whatever is sent', () =>
    withWorker({ store: 'r2', vars: { LOG_HASH_KEY: HASH_KEY } }, async ({ base }) => {
      for (const headers of [{}, { 'X-Logs-Token': TOKEN }, { Authorization: `Bearer ${TOKEN}` }]) {
        const r = await request(base, '/logs', { headers });
        assert.equal(r.status, 503);
        assert.equal(r.json.error.code, 'logs_token_not_configured');
      }
    }));
});

describe('client id hashing', () => {
  test('explicitly off: the raw id is logged, no hash', () =>
    withWorker({ store: 'r2', vars: { LOGS_ACCESS_TOKEN: TOKEN, LOG_HASH_KEY: HASH_KEY, LOG_HASH_SK_ID: '0' } }, async ({ base }) => {
      assert.equal((await request(base, '/health')).json.client_id_logging, 'raw');
      await predict(base, README_RECORD);
      const [log] = await readLogs(base, { atLeast: 1 });
      assert.equal(log.sk_id_curr, 100002);
      assert.equal(log.client_id_hash, null);
      assert.equal(log.inputs.SK_ID_CURR, undefined);
    }));

  test('on by default: HMAC-SHA256 with LOG_HASH_KEY, raw id nowhere in the log', () =>
    withWorker({ store: 'r2' }, async ({ base, mf }) => {
      await predict(base, README_RECORD);
      const [log] = await readLogs(base, { atLeast: 1 });
      assert.equal(log.client_id_hash, hmacHex(HASH_KEY, 100002));
      const bucket = await mf.getR2Bucket('LOGS_BUCKET');
      const [object] = (await bucket.list({ prefix: 'logs/' })).objects;
      const stored = await (await bucket.get(object.key)).text();
      assert.ok(!stored.includes('100002'), stored);
    }));

  test('on without a key: ids are dropped, never stored raw', () =>
    withWorker({ store: 'r2', vars: { LOGS_ACCESS_TOKEN: TOKEN } }, async ({ base }) => {
      assert.equal((await request(base, '/health')).json.client_id_logging, 'dropped');
      await predict(base, README_RECORD);
      const [log] = await readLogs(base, { atLeast: 1 });
      assert.equal(log.client_id_hash, null);
      assert.equal(log.sk_id_curr, undefined);
    }));
});
