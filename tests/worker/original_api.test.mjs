// The original system's API test scenarios (seed repository stephmnt/credit-scoring-mlops,
// tests/test_api.py), ported as black-box HTTP tests
// against the built worker in workerd, plus what real clients send: forgiving categories, the
// dataset's codes, the whole Home Credit record, CORS. Deliberate differences from the original
// are named in each test and listed in docs/API.md ("Differences from the original API").
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { csvToRecords, parseCsv } from '../npm/fixtures.mjs';
import { README_RECORD, ROOT, predict, request, startWorker } from './harness.mjs';

const APP_ORIGIN = 'http://127.0.0.1:5173';
let worker;
let base;
let features;

before(async () => {
  worker = await startWorker({ store: 'none', vars: { CORS_ALLOW_ORIGINS: `${APP_ORIGIN}, https://other.example` } });
  base = worker.base;
  features = (await request(base, '/features?include_all=true')).json;
});
after(() => worker?.stop());

/** Every required input at its typical value (the example /features gives), plus the id. */
function typicalRecord() {
  const r = { SK_ID_CURR: 100002 };
  for (const f of features.required) r[f.name] = f.example;
  return r;
}

const scored = async (record, query = '') => {
  const r = await predict(base, record, query);
  assert.equal(r.status, 200, r.text);
  return r.json.predictions[0];
};

describe('the original API scenarios', () => {
  test('health: 200 with status ok', async () => {
    const r = await request(base, '/health');
    assert.equal(r.status, 200);
    assert.equal(r.json.status, 'ok');
  });

  test('features: the input features (SK_ID_CURR among them), the required ones, the selection method', async () => {
    const r = await request(base, '/features');
    assert.equal(r.status, 200);
    assert.equal(r.json.id_field.name, 'SK_ID_CURR');
    assert.ok(r.json.required_features.includes('EXT_SOURCE_2'));
    assert.deepEqual(r.json.required.map((f) => f.name), r.json.required_features);
    // Difference: the selection method and the full input list come with ?include_all=true.
    assert.equal(features.feature_selection.method, 'correlation');
    const all = [...features.required, ...features.optional, ...features.known_not_used].map((f) => f.name);
    assert.equal(all.length, 120, 'every column of application_train.csv but the id and TARGET');
  });

  test('predict: every required input at a typical value gives one prediction', async () => {
    const r = await predict(base, typicalRecord());
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.predictions.length, 1);
    const p = r.json.predictions[0];
    assert.equal(p.sk_id_curr, 100002);
    assert.ok(p.prediction === 0 || p.prediction === 1);
    assert.ok(p.probability >= 0 && p.probability <= 1);
  });

  test('missing required field: 422 naming it', async () => {
    const rec = typicalRecord();
    delete rec.EXT_SOURCE_2;
    const r = await predict(base, rec);
    assert.equal(r.status, 422);
    // Difference: {"error": {code, message, details: [{path, code, reason, expected}]}}, not a
    // FastAPI detail string; the detail names the missing input.
    assert.equal(r.json.error.code, 'validation_error');
    assert.deepEqual(
      r.json.error.details.map((d) => [d.path, d.code]),
      [['data.EXT_SOURCE_2', 'missing_required']],
    );
  });

  test('invalid type: "not_a_number" for a numeric input is 422', async () => {
    const r = await predict(base, { ...typicalRecord(), AMT_CREDIT: 'not_a_number' });
    assert.equal(r.status, 422);
    assert.deepEqual(r.json.error.details.map((d) => [d.path, d.code]), [['data.AMT_CREDIT', 'wrong_type']]);
  });

  test('out of range: a value above its allowed maximum is 422', async () => {
    const r = await predict(base, { ...typicalRecord(), EXT_SOURCE_2: 1.5 });
    assert.equal(r.status, 422);
    const [d] = r.json.error.details;
    assert.deepEqual([d.path, d.code], ['data.EXT_SOURCE_2', 'out_of_range']);
    assert.match(d.expected, /\[0, 1\]/);
  });

  test('categorical normalisation: CODE_GENDER "female", FLAG_OWN_CAR "true" score as F and Y', async () => {
    const canonical = await scored({ ...typicalRecord(), CODE_GENDER: 'F', FLAG_OWN_CAR: 'Y' });
    for (const [gender, car] of [
      ['female', 'true'],
      [' Female ', true],
      ['WOMAN', 'yes'],
      ['w', '1'],
      ['f', 'T'],
    ]) {
      const p = await scored({ ...typicalRecord(), CODE_GENDER: gender, FLAG_OWN_CAR: car });
      assert.equal(p.probability, canonical.probability, `${gender} ${car}`);
      assert.equal(p.warnings, undefined);
    }
    const male = await scored({ ...typicalRecord(), CODE_GENDER: 'M', FLAG_OWN_CAR: 'N' });
    for (const [gender, car] of [['male', false], ['MAN', 'no'], ['m', '0'], ['Male', 'F']]) {
      assert.equal((await scored({ ...typicalRecord(), CODE_GENDER: gender, FLAG_OWN_CAR: car })).probability, male.probability);
    }
    // Difference: what the original turned into "Unknown" is rejected for a required category,
    // and 0/1 (or booleans) are no gender.
    for (const gender of ['0', '1', true, 'femme']) {
      const r = await predict(base, { ...typicalRecord(), CODE_GENDER: gender });
      assert.equal(r.status, 422, String(gender));
      assert.equal(r.json.error.details[0].path, 'data.CODE_GENDER');
    }
  });

  test('employment sentinel: DAYS_EMPLOYED 365243 is scored, with a warning', async () => {
    const p = await scored({ ...typicalRecord(), DAYS_EMPLOYED: 365243 });
    assert.deepEqual(p.warnings.map((w) => [w.field, w.code]), [['DAYS_EMPLOYED', 'sentinel_value']]);
  });
});

describe('real clients, real rows', () => {
  test('rows of the application_train.csv stand-in (122 columns) score with the bits of creditscore predict', async () => {
    // tests/worker/gen_standin_rows.py; TARGET is the label, so it is left out, as in application_test.csv.
    const text = readFileSync(path.join(ROOT, 'tests', 'worker', 'fixtures', 'standin_rows.csv'), 'utf8');
    const [header, ...rows] = parseCsv(text);
    assert.equal(header.length, 122);
    const keep = header.map((h) => h !== 'TARGET');
    const csv = [header, ...rows].map((r) => r.filter((_, i) => keep[i]).map((c) => (/[",]/.test(c) ? `"${c.replaceAll('"', '""')}"` : c)).join(',')).join('\n');
    // An empty cell of a required nullable input (EXT_SOURCE_1/3) is sent as null, as the API
    // wants (the CLI reads an empty CSV cell as missing); the npm test does the same.
    const nullable = features.required.filter((f) => f.nullable).map((f) => f.name);
    const records = csvToRecords(csv, features).map((line) => {
      const rec = JSON.parse(line);
      for (const name of nullable) rec[name] ??= null;
      return rec;
    });
    const r = await predict(base, records);
    assert.equal(r.status, 200, r.text);
    const dir = mkdtempSync(path.join(tmpdir(), 'standin-'));
    writeFileSync(path.join(dir, 'rows.csv'), csv + '\n');
    const cli = process.env.CREDITSCORE_CLI ?? path.join(ROOT, 'target', 'release', 'creditscore');
    execFileSync(cli, ['predict', '--bundle', path.join(ROOT, 'models', 'default.csb'), '--input', path.join(dir, 'rows.csv'), '--out', path.join(dir, 'out.csv')]);
    const [outHeader, ...out] = parseCsv(readFileSync(path.join(dir, 'out.csv'), 'utf8'));
    const col = outHeader.indexOf('probability');
    assert.deepEqual(r.json.predictions.map((p) => p.probability), out.map((o) => Number(o[col])));
    // Every special code is a warning, never an error.
    const warned = r.json.predictions.flatMap((p) => (p.warnings ?? []).filter((w) => w.code === 'sentinel_value').map((w) => w.field));
    for (const field of ['CODE_GENDER', 'NAME_FAMILY_STATUS', 'DAYS_EMPLOYED', 'ORGANIZATION_TYPE']) assert.ok(warned.includes(field), field);
    // A typo in any column name is a 422 naming the column and the closest name.
    for (const name of header.filter((h) => h !== 'TARGET' && h !== 'SK_ID_CURR')) {
      const typo = name.replace('_', ''); // e.g. FLAGDOCUMENT_2: one edit from its column only
      const rec = { ...records[0] };
      rec[typo] = rec[name] ?? null;
      delete rec[name];
      const bad = await predict(base, rec);
      assert.equal(bad.status, 422, typo);
      const d = bad.json.error.details.find((x) => x.path === `data.${typo}`);
      assert.equal(d?.code, 'unknown_field', typo);
      assert.ok(d.expected.includes(`\`${name}\``), `${typo}: ${d.expected}`);
    }
  });

  test('the dataset codes XNA and Unknown are scored as missing with a warning, not rejected', async () => {
    const p = await scored({ ...README_RECORD, CODE_GENDER: 'XNA', NAME_FAMILY_STATUS: 'Unknown', ORGANIZATION_TYPE: 'XNA' });
    assert.deepEqual(
      p.warnings.map((w) => [w.field, w.code]).sort(),
      [['CODE_GENDER', 'sentinel_value'], ['NAME_FAMILY_STATUS', 'sentinel_value'], ['ORGANIZATION_TYPE', 'sentinel_value']],
    );
  });

  test('columns the model does not read are accepted and change nothing; TARGET and typos are not', async () => {
    const plain = await scored(README_RECORD);
    const full = await scored({ ...README_RECORD, APARTMENTS_AVG: 0.0876, FLAG_MOBIL: 1, WALLSMATERIAL_MODE: 'Stone, brick' });
    assert.equal(full.probability, plain.probability);
    const label = await predict(base, { ...README_RECORD, TARGET: 1 });
    assert.equal(label.status, 422);
    assert.deepEqual(label.json.error.details.map((d) => [d.path, d.code]), [['data.TARGET', 'label_not_input']]);
    const typo = await predict(base, { ...README_RECORD, APARTMENTS_AVGG: 0.1 });
    assert.equal(typo.status, 422);
    assert.match(typo.json.error.details[0].expected, /APARTMENTS_AVG/);
    const wrong = await predict(base, { ...README_RECORD, APARTMENTS_AVG: 'high' });
    assert.equal(wrong.status, 422);
    assert.equal(wrong.json.error.details[0].code, 'wrong_type');
    assert.ok(features.known_not_used.some((f) => f.name === 'APARTMENTS_AVG' && f.status === 'known, not used by this model'));
  });

  test('client ids are whole numbers up to 2^53 - 1, said so in the schema and the message', async () => {
    assert.equal((await scored({ ...README_RECORD, SK_ID_CURR: 9007199254740991 })).sk_id_curr, 9007199254740991);
    const r = await request(base, '/predict', { method: 'POST', body: '{"data": {"SK_ID_CURR": 9007199254740993}}' });
    assert.equal(r.status, 422);
    const id = r.json.error.details.find((d) => d.path === 'data.SK_ID_CURR');
    assert.equal(id.code, 'out_of_range');
    assert.match(id.expected, /9007199254740991/);
    const doc = (await request(base, '/openapi.json')).json;
    assert.equal(doc.components.schemas.Record.properties.SK_ID_CURR.maximum, 9007199254740991);
  });

  test('an unknown method is 405, an empty boolean is 422', async () => {
    const q = await request(base, '/health', { method: 'QUERY' });
    assert.equal(q.status, 405);
    assert.equal(q.headers.get('allow'), 'GET, OPTIONS');
    assert.equal((await request(base, '/features?include_all=')).status, 422);
  });
});

describe('CORS (CORS_ALLOW_ORIGINS)', () => {
  test('preflight on the public routes: 204 with the headers for an allowed origin only', async () => {
    for (const [route, method] of [['/predict', 'POST'], ['/explain', 'POST'], ['/features', 'GET'], ['/health', 'GET']]) {
      const headers = { Origin: APP_ORIGIN, 'Access-Control-Request-Method': method, 'Access-Control-Request-Headers': 'content-type' };
      const r = await request(base, route, { method: 'OPTIONS', headers });
      assert.equal(r.status, 204, route);
      assert.equal(r.headers.get('access-control-allow-origin'), APP_ORIGIN);
      assert.equal(r.headers.get('access-control-allow-methods'), `${method}, OPTIONS`);
      assert.match(r.headers.get('access-control-allow-headers'), /Content-Type/);
      const other = await request(base, route, { method: 'OPTIONS', headers: { ...headers, Origin: 'http://evil.example' } });
      assert.equal(other.status, 204);
      assert.equal(other.headers.get('access-control-allow-origin'), null);
    }
    const r = await predict(base, README_RECORD, '', { Origin: APP_ORIGIN });
    assert.equal(r.headers.get('access-control-allow-origin'), APP_ORIGIN);
    assert.equal(r.headers.get('access-control-expose-headers'), 'X-Request-Id');
  });

  test('never /logs', async () => {
    const r = await request(base, '/logs', { method: 'OPTIONS', headers: { Origin: APP_ORIGIN } });
    assert.equal(r.status, 405);
    assert.equal(r.headers.get('access-control-allow-origin'), null);
    const g = await request(base, '/logs', { headers: { Origin: APP_ORIGIN } });
    assert.equal(g.headers.get('access-control-allow-origin'), null);
  });

  test('default: no origin is allowed', async () => {
    const plain = await startWorker({ store: 'none', vars: {} });
    try {
      const r = await request(plain.base, '/predict', { method: 'OPTIONS', headers: { Origin: APP_ORIGIN } });
      assert.equal(r.status, 204);
      assert.equal(r.headers.get('access-control-allow-origin'), null);
    } finally {
      await plain.stop();
    }
  });
});
