// End-to-end tests of every route against the built worker in workerd (Miniflare, R2 bound,
// logs token and hash key set): the real HTTP interface, the real storage binding.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import {
  HASH_KEY,
  README_RECORD,
  ROOT,
  TOKEN,
  hmacHex,
  predict,
  readLogs,
  request,
  startWorker,
} from './harness.mjs';

let worker;
let base;
let features;

before(async () => {
  worker = await startWorker({ store: 'r2' });
  base = worker.base;
  features = (await request(base, '/features?include_all=true')).json;
});
after(() => worker?.stop());

const record = (overrides = {}) => {
  const r = { ...README_RECORD, ...overrides };
  for (const [k, v] of Object.entries(overrides)) if (v === undefined) delete r[k];
  return r;
};

/** Runs one of the seed README's curl commands verbatim (tests/worker/seed_examples.sh). */
function seedExample(name) {
  const script = path.join(ROOT, 'tests', 'worker', 'seed_examples.sh');
  const out = execFileSync('bash', ['-c', `source "${script}" && example_${name}`], {
    env: { ...process.env, BASE_URL: base },
    encoding: 'utf8',
  });
  return JSON.parse(out);
}

describe('seed README examples, verbatim', () => {
  test('single client with threshold=0.5', () => {
    const v = seedExample('single');
    assert.equal(v.predictions.length, 1);
    const p = v.predictions[0];
    assert.equal(p.sk_id_curr, 100002);
    assert.ok(p.probability > 0 && p.probability < 1);
    assert.equal(p.prediction, p.probability >= 0.5 ? 1 : 0);
    assert.equal(v.threshold, 0.5);
    assert.equal(typeof v.model_version, 'string');
    assert.match(v.request_id, /^[0-9a-f]{32}$/);
  });

  test('batch of two with threshold=0.45', () => {
    const v = seedExample('batch');
    assert.deepEqual(v.predictions.map((p) => p.sk_id_curr), [100002, 100003]);
    assert.equal(v.threshold, 0.45);
    for (const p of v.predictions) assert.equal(p.prediction, p.probability >= 0.45 ? 1 : 0);
  });

  test('missing required fields: every problem listed', () => {
    const v = seedExample('missing_field');
    assert.equal(v.error.code, 'validation_error');
    const paths = v.error.details.map((d) => d.path);
    assert.ok(paths.includes('data.SK_ID_CURR'), paths.join());
    for (const name of features.required_features) {
      if (name !== 'EXT_SOURCE_2') assert.ok(paths.includes(`data.${name}`), `${name} reported`);
    }
    for (const d of v.error.details) {
      assert.equal(typeof d.reason, 'string');
      assert.equal(typeof d.expected, 'string');
    }
  });
});

describe('routes', () => {
  test('GET /health names the model and the log store', async () => {
    const r = await request(base, '/health');
    assert.equal(r.status, 200);
    assert.equal(r.json.status, 'ok');
    assert.equal(r.json.logs, 'r2');
    assert.equal(r.json.client_id_logging, 'hmac-sha256');
    assert.match(r.json.model.sha256, /^[0-9a-f]{64}$/);
    assert.equal(typeof r.json.model.name, 'string');
    assert.equal(r.json.model.version, features.model_version);
    assert.match(r.headers.get('x-request-id'), /^[0-9a-f]{32}$/);
  });

  test('GET /features lists required inputs; include_all adds the rest', async () => {
    const r = await request(base, '/features');
    assert.equal(r.status, 200);
    for (const name of Object.keys(README_RECORD).filter((k) => k !== 'SK_ID_CURR')) {
      assert.ok(r.json.required_features.includes(name), name);
    }
    assert.equal(r.json.id_field.name, 'SK_ID_CURR');
    for (const f of r.json.required) {
      assert.ok(['number', 'integer', 'category'].includes(f.type));
      assert.ok('example' in f && 'expected' in f);
    }
    assert.equal(r.json.optional, undefined);
    assert.ok(Array.isArray(features.optional));
    assert.ok(features.threshold >= 0 && features.threshold <= 1);
    assert.ok('feature_selection' in features && Array.isArray(features.model_features));
    const bad = await request(base, '/features?include_all=perhaps');
    assert.equal(bad.status, 422);
  });

  test('GET /openapi.json is OpenAPI 3.1 covering every route', async () => {
    const r = await request(base, '/openapi.json');
    assert.equal(r.status, 200);
    assert.equal(r.json.openapi, '3.1.0');
    for (const [p, m] of [['/health', 'get'], ['/features', 'get'], ['/predict', 'post'], ['/explain', 'post'], ['/logs', 'get'], ['/openapi.json', 'get']]) {
      assert.ok(r.json.paths[p]?.[m], `${m} ${p}`);
    }
    const recordSchema = r.json.components.schemas.Record;
    for (const name of features.required_features) assert.ok(recordSchema.required.includes(name), name);
  });

  test('unknown route 404, wrong method 405 with Allow', async () => {
    const r = await request(base, '/nope');
    assert.equal(r.status, 404);
    assert.equal(r.json.error.code, 'not_found');
    const m = await request(base, '/predict');
    assert.equal(m.status, 405);
    assert.equal(m.headers.get('allow'), 'POST, OPTIONS');
    const h = await request(base, '/health', { method: 'POST', body: {} });
    assert.equal(h.status, 405);
  });
});

describe('POST /predict', () => {
  test('default threshold is the bundle one', async () => {
    const r = await predict(base, record());
    assert.equal(r.status, 200);
    assert.equal(r.json.threshold, features.threshold);
    const p = r.json.predictions[0];
    assert.equal(p.prediction, p.probability >= features.threshold ? 1 : 0);
  });

  test('threshold parameter decides, and is validated', async () => {
    const zero = await predict(base, record(), '?threshold=0');
    assert.equal(zero.json.predictions[0].prediction, 1);
    const one = await predict(base, record(), '?threshold=1');
    assert.equal(one.json.predictions[0].prediction, 0);
    const same = await predict(base, record(), '?threshold=0.37');
    assert.equal(same.json.predictions[0].probability, zero.json.predictions[0].probability);
    for (const q of ['?threshold=1.5', '?threshold=-1', '?threshold=abc', '?treshold=0.3']) {
      const r = await predict(base, record(), q);
      assert.equal(r.status, 422, q);
      assert.match(r.json.error.details[0].path, /^query\./);
    }
  });

  test('batch keeps order and ids; invalid records reported with indexed paths', async () => {
    const ids = [1, 2, 3, 4, 5];
    const r = await predict(base, ids.map((id, i) => record({ SK_ID_CURR: id, EXT_SOURCE_2: 0.1 + i * 0.15 })));
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.predictions.map((p) => p.sk_id_curr), ids);
    const bad = await predict(base, [record(), record({ SK_ID_CURR: undefined }), record(), record({ AMT_CREDIT: 'x', CODE_GENDER: 'Q' })]);
    assert.equal(bad.status, 422);
    assert.deepEqual(
      bad.json.error.details.map((d) => d.path).sort(),
      ['data[1].SK_ID_CURR', 'data[3].AMT_CREDIT', 'data[3].CODE_GENDER'],
    );
  });

  test('missing SK_ID_CURR is a 422 naming it', async () => {
    const r = await predict(base, record({ SK_ID_CURR: undefined }));
    assert.equal(r.status, 422);
    assert.deepEqual(r.json.error.details.map((d) => d.path), ['data.SK_ID_CURR']);
    assert.equal(r.json.error.details[0].code, 'missing_required');
  });

  test('outliers are scored and flagged; impossible values rejected', async () => {
    const credit = [...features.required, ...features.optional].find((f) => f.name === 'AMT_CREDIT');
    assert.ok(credit.training_range.max, 'AMT_CREDIT has a training range');
    const r = await predict(base, record({ AMT_CREDIT: credit.training_range.max * 3 }));
    assert.equal(r.status, 200);
    const w = r.json.predictions[0].warnings.find((x) => x.field === 'AMT_CREDIT');
    assert.equal(w.code, 'outside_training_range');
    let logged;
    for (let i = 0; i < 100 && !logged; i++) {
      logged = (await readLogs(base, { tail: 50 })).find((l) => l.request_id === r.json.request_id);
      if (!logged) await new Promise((res) => setTimeout(res, 100));
    }
    assert.deepEqual(logged.warnings, r.json.predictions[0].warnings, 'the flag is in the log too');
    const sentinel = await predict(base, record({ DAYS_EMPLOYED: 365243 }));
    assert.equal(sentinel.status, 200);
    assert.ok(sentinel.json.predictions[0].warnings.some((x) => x.field === 'DAYS_EMPLOYED' && x.code === 'sentinel_value'));
    const impossible = await predict(base, record({ EXT_SOURCE_2: 1.7, AMT_CREDIT: -5 }));
    assert.equal(impossible.status, 422);
    assert.equal(impossible.json.error.details.length, 2);
  });

  test('unknown field is rejected with the closest name', async () => {
    const r = await predict(base, { ...record(), AMT_CREDT: 5 });
    assert.equal(r.status, 422);
    assert.equal(r.json.error.details[0].code, 'unknown_field');
    assert.match(r.json.error.details[0].expected, /AMT_CREDIT/);
  });

  test('malformed JSON 400, bad envelope 422', async () => {
    for (const body of ['{"data": ', 'not json', '']) {
      const r = await request(base, '/predict', { method: 'POST', body });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.json.error.code, 'invalid_json');
    }
    for (const body of [[], {}, { data: 5 }, { data: [] }, { data: {}, x: 1 }]) {
      const r = await request(base, '/predict', { method: 'POST', body });
      assert.equal(r.status, 422, JSON.stringify(body));
    }
  });

  test('body over 1 MiB and batches over the limit get 413', async () => {
    const big = JSON.stringify({ data: record(), pad: 'x'.repeat(1024 * 1024) });
    const r = await request(base, '/predict', { method: 'POST', body: big });
    assert.equal(r.status, 413);
    assert.equal(r.json.error.code, 'payload_too_large');
    const many = await predict(base, Array.from({ length: 1001 }, () => record()));
    assert.equal(many.status, 413);
    assert.equal(many.json.error.code, 'too_many_records');
    const atLimit = await predict(base, Array.from({ length: 1000 }, (_, i) => record({ SK_ID_CURR: i })));
    assert.equal(atLimit.status, 200);
    assert.equal(atLimit.json.predictions.length, 1000);
    const explainMany = await request(base, '/explain', { method: 'POST', body: { data: Array.from({ length: 101 }, () => record()) } });
    assert.equal(explainMany.status, 413);
  });
});

describe('POST /explain', () => {
  test('contributions add up to the raw score, sorted by magnitude', async () => {
    const r = await request(base, '/explain', { method: 'POST', body: { data: [record(), record({ EXT_SOURCE_2: 0.05 })] } });
    assert.equal(r.status, 200);
    const p = await predict(base, [record(), record({ EXT_SOURCE_2: 0.05 })]);
    r.json.explanations.forEach((e, i) => {
      const sum = e.contributions.reduce((s, c) => s + c.contribution, 0);
      assert.ok(Math.abs(e.base_value + sum - e.raw_score) < 1e-9);
      assert.ok(Math.abs(1 / (1 + Math.exp(-e.raw_score)) - e.probability) < 1e-12);
      assert.equal(e.probability, p.json.predictions[i].probability, 'same score as /predict');
      const mags = e.contributions.map((c) => Math.abs(c.contribution));
      assert.deepEqual(mags, [...mags].sort((a, b) => b - a));
      assert.equal(e.contributions.length, features.model_features.length);
    });
  });
});

describe('GET /logs and the prediction log', () => {
  test('token absent 401, wrong 403, right 200 (header or bearer)', async () => {
    const absent = await request(base, '/logs');
    assert.equal(absent.status, 401);
    assert.match(absent.headers.get('www-authenticate'), /Bearer/);
    const wrong = await request(base, '/logs', { headers: { 'X-Logs-Token': 'nope' } });
    assert.equal(wrong.status, 403);
    const wrongBearer = await request(base, '/logs', { headers: { Authorization: `Bearer ${TOKEN}x` } });
    assert.equal(wrongBearer.status, 403);
    const right = await request(base, '/logs?tail=5', { headers: { 'X-Logs-Token': TOKEN } });
    assert.equal(right.status, 200);
    assert.equal(right.headers.get('content-type'), 'application/x-ndjson');
    const bearer = await request(base, '/logs?tail=5', { headers: { Authorization: `Bearer ${TOKEN}` } });
    assert.equal(bearer.status, 200);
    const badTail = await request(base, '/logs?tail=0', { headers: { 'X-Logs-Token': TOKEN } });
    assert.equal(badTail.status, 422);
  });

  test('each scored record is logged with a hashed id and its inputs; failures without inputs', async () => {
    const source = `test-${Date.now()}`;
    const ok = await predict(base, [record({ SK_ID_CURR: 424242 }), record({ SK_ID_CURR: 424243 })], '?threshold=0.3', {
      'X-Client-Source': source,
    });
    assert.equal(ok.status, 200);
    const failed = await predict(base, record({ SK_ID_CURR: undefined }), '', { 'X-Client-Source': source });
    assert.equal(failed.status, 422);
    let mine = [];
    const deadline = Date.now() + 20000;
    while (mine.length < 3 && Date.now() < deadline) {
      mine = (await readLogs(base, { tail: 10000 })).filter((r) => r.source === source);
      if (mine.length < 3) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(mine.length, 3);
    const scored = mine.filter((r) => r.request_id === ok.json.request_id);
    assert.deepEqual(scored.map((r) => r.record_index), [0, 1]);
    for (const [i, r] of scored.entries()) {
      assert.equal(r.endpoint, '/predict');
      assert.equal(r.threshold, 0.3);
      assert.equal(r.status, 200);
      assert.equal(r.model_version, ok.json.model_version);
      assert.equal(r.client_id_hash, hmacHex(HASH_KEY, 424242 + i));
      assert.equal(r.sk_id_curr, undefined, 'no raw id while hashing is on');
      assert.equal(r.inputs.SK_ID_CURR, undefined);
      assert.equal(r.inputs.AMT_CREDIT, README_RECORD.AMT_CREDIT);
      assert.equal(r.probability, ok.json.predictions[i].probability);
      assert.equal(r.prediction, ok.json.predictions[i].prediction);
      assert.match(r.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.ok(Number.isInteger(r.latency_us));
      assert.deepEqual(r.warnings, ok.json.predictions[i].warnings ?? []);
    }
    const fail = mine.find((r) => r.request_id !== ok.json.request_id);
    assert.equal(fail.status, 422);
    assert.equal(fail.error.code, 'validation_error');
    assert.equal(fail.inputs, undefined);
    assert.equal(fail.probability, null);
  });

  test('tail returns the newest N records, oldest first', async () => {
    const ids = [];
    for (let i = 0; i < 4; i++) {
      const r = await predict(base, record({ SK_ID_CURR: 9000 + i }));
      ids.push(r.json.request_id);
      await new Promise((res) => setTimeout(res, 5));
    }
    await readLogs(base, { atLeast: 1 });
    let last = [];
    const deadline = Date.now() + 20000;
    while (Date.now() < deadline) {
      last = await readLogs(base, { tail: 3 });
      if (last.at(-1)?.request_id === ids[3]) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(last.length, 3);
    assert.deepEqual(last.map((r) => r.request_id), ids.slice(1));
  });

  test('one R2 object per request, under its date and hour', async () => {
    const bucket = await worker.mf.getR2Bucket('LOGS_BUCKET');
    const listed = await bucket.list({ prefix: 'logs/' });
    assert.ok(listed.objects.length > 0);
    for (const o of listed.objects) {
      const m = o.key.match(/^logs\/date=(\d{4}-\d\d-\d\d)\/hour=(\d\d)\/(\d{4}-\d\d-\d\dT[\d:.]+Z)_[0-9a-f]{32}\.ndjson$/);
      assert.ok(m, o.key);
      assert.equal(`${m[1]}T${m[2]}`, m[3].slice(0, 13));
    }
  });
});
