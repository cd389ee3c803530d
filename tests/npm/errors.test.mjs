// Bad input gives the documented errors (README "Errors"): a CreditScoreError with the HTTP API's
// code and 422 details, never a crash of the wasm instance.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readFileSync } from 'node:fs';

import { CreditScorer, defaultModelPath, loadDefaultModelSync, loadModel } from 'creditscore';

import { SEED_CLIENT } from './fixtures.mjs';

const scorer = loadDefaultModelSync();

/** The CreditScoreError thrown by `fn`, checked for its documented shape. */
function caught(fn) {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof Error, 'an Error object');
    assert.equal(error.name, 'CreditScoreError');
    assert.equal(typeof error.message, 'string');
    assert.ok(Array.isArray(error.details));
    return error;
  }
  assert.fail('no error was thrown');
}

/** The details of a validation error as [path, code] pairs. */
function issues(fn) {
  const error = caught(fn);
  assert.equal(error.code, 'validation_error');
  for (const d of error.details) {
    assert.deepEqual(Object.keys(d).sort(), ['code', 'expected', 'path', 'reason']);
  }
  return error.details.map((d) => [d.path, d.code]);
}

test('every required field missing is reported at once', () => {
  const required = scorer.features().required_features;
  assert.ok(required.length >= 5);
  const got = issues(() => scorer.score({}));
  assert.deepEqual(
    got.map(([path]) => path).sort(),
    ['data.SK_ID_CURR', ...required.map((n) => `data.${n}`)].sort(),
  );
  assert.ok(got.every(([, code]) => code === 'missing_required'));
});

test('wrong types, impossible values, typos and unknown levels name the field', () => {
  const record = {
    ...SEED_CLIENT,
    EXT_SOURCE_2: '0.61',
    EXT_SOURCE_3: 1.5,
    DAYS_BIRTH: 120,
    DAYS_EMPLOYED: -637.5,
    CODE_GENDER: 'X',
    AMT_CREDIT: Number.NaN,
  };
  delete record.AMT_ANNUITY;
  record.AMT_ANUITY = 24700.5;
  const error = caught(() => scorer.score(record));
  const byPath = Object.fromEntries(error.details.map((d) => [d.path, d]));
  assert.equal(byPath['data.EXT_SOURCE_2'].code, 'wrong_type');
  assert.equal(byPath['data.EXT_SOURCE_3'].code, 'out_of_range');
  assert.equal(byPath['data.DAYS_BIRTH'].code, 'out_of_range');
  assert.equal(byPath['data.DAYS_EMPLOYED'].code, 'not_integer');
  assert.equal(byPath['data.CODE_GENDER'].code, 'unknown_category');
  assert.equal(byPath['data.AMT_CREDIT'].code, 'not_finite');
  assert.equal(byPath['data.AMT_ANUITY'].code, 'unknown_field');
  assert.match(byPath['data.AMT_ANUITY'].expected, /AMT_ANNUITY/, 'the closest known name is suggested');
  assert.equal(byPath['data.AMT_ANNUITY'].code, 'missing_required');
  assert.equal(error.details.length, 8);
  assert.match(error.message, /^8 invalid fields: /);
});

test('a record that is not an object', () => {
  for (const bad of [null, undefined, 42, 'text', [SEED_CLIENT], true]) {
    assert.deepEqual(issues(() => scorer.score(bad)), [['data', 'not_an_object']], String(bad));
  }
});

test('batch errors list every record with its index', () => {
  const records = [SEED_CLIENT, { ...SEED_CLIENT, EXT_SOURCE_1: -1 }, { ...SEED_CLIENT, FLAG_OWN_CAR: 1 }, 7];
  assert.deepEqual(issues(() => scorer.scoreBatch(records)), [
    ['data[1].EXT_SOURCE_1', 'out_of_range'],
    ['data[2].FLAG_OWN_CAR', 'wrong_type'],
    ['data[3]', 'not_an_object'],
  ]);
  assert.deepEqual(issues(() => scorer.explainBatch([{ ...SEED_CLIENT, SK_ID_CURR: 1.5 }])), [
    ['data[0].SK_ID_CURR', 'not_integer'],
  ]);
  assert.equal(caught(() => scorer.scoreBatch(SEED_CLIENT)).code, 'invalid_argument');
  assert.deepEqual(scorer.scoreBatch([]), []);
});

test('thresholds must be numbers in [0, 1]', () => {
  for (const bad of [-0.01, 1.01, Number.NaN, Infinity]) {
    assert.deepEqual(issues(() => scorer.score(SEED_CLIENT, bad)), [['threshold', 'out_of_range']]);
  }
  assert.deepEqual(issues(() => scorer.score(SEED_CLIENT, '0.5')), [['threshold', 'wrong_type']]);
  assert.equal(scorer.score(SEED_CLIENT, 0).prediction, 1);
  assert.equal(scorer.score(SEED_CLIENT, 1).prediction, scorer.score(SEED_CLIENT).probability >= 1 ? 1 : 0);
  assert.equal(scorer.score(SEED_CLIENT, null).threshold, scorer.threshold);
});

test('validate() reports instead of throwing', () => {
  const ok = scorer.validate(SEED_CLIENT);
  assert.deepEqual(ok, { valid: true, sk_id_curr: 100002, errors: [], warnings: ok.warnings });
  const bad = scorer.validate({ ...SEED_CLIENT, EXT_SOURCE_2: 2 });
  assert.equal(bad.valid, false);
  assert.deepEqual(
    bad.errors.map((e) => [e.path, e.code]),
    [['data.EXT_SOURCE_2', 'out_of_range']],
  );
  assert.match(bad.errors[0].expected, /\[0, 1\]/);
});

test('warnings: a sentinel and values outside the training range are scored and reported', () => {
  const p = scorer.score({ ...SEED_CLIENT, DAYS_EMPLOYED: 365243 });
  assert.deepEqual(
    p.warnings.map((w) => [w.field, w.code]),
    [['DAYS_EMPLOYED', 'sentinel_value']],
  );
});

test('bad bundles and bad arguments', async () => {
  const notBundle = caught(() => new CreditScorer(new Uint8Array([1, 2, 3])));
  assert.equal(notBundle.code, 'invalid_bundle');
  assert.match(notBundle.message, /not a creditscore bundle/);
  const bytes = new Uint8Array(readFileSync(defaultModelPath));
  const corrupt = bytes.slice();
  corrupt[corrupt.length - 3] ^= 0xff;
  assert.match(caught(() => new CreditScorer(corrupt)).message, /sha256|corrupt/);
  assert.equal(caught(() => new CreditScorer(bytes.subarray(0, 100))).code, 'invalid_bundle');
  for (const notBytes of ['model.csb', 42, null, {}, [1, 2]]) {
    assert.equal(caught(() => new CreditScorer(notBytes)).code, 'invalid_argument');
  }
  await assert.rejects(loadModel('/nonexistent/model.csb'), { code: 'ENOENT' });
  // Bundle format 1 (JSON header) is not read by the package: the message names the conversion.
  const v1 = readFileSync(new URL('../fixtures/default_v1.csb', import.meta.url));
  assert.equal(v1.readUInt32LE(8), 1);
  assert.equal(bytes[8], 2, 'the packaged default model is format 2');
  const old = caught(() => new CreditScorer(v1));
  assert.equal(old.code, 'invalid_bundle');
  assert.match(old.message, /format version 1 .*creditscore convert OLD\.csb NEW\.csb/);
});

test('metadata carries the training provenance, parsed', () => {
  const { training, metrics, sha256 } = scorer.metadata;
  assert.equal(typeof training, 'object');
  assert.equal(training.data, 'synthetic');
  assert.equal(training.params.n_estimators, 250);
  assert.equal(typeof metrics.test_auc, 'number');
  assert.equal(sha256.length, 64);
});

test('hostile values never crash the instance', () => {
  const throwing = new Proxy({}, {
    ownKeys() {
      throw new Error('no keys for you');
    },
  });
  const getterThrows = {
    get EXT_SOURCE_2() {
      throw new TypeError('getter failed');
    },
  };
  const strange = [
    { ...SEED_CLIENT, EXT_SOURCE_2: Symbol('x') },
    { ...SEED_CLIENT, EXT_SOURCE_2: () => 1 },
    { ...SEED_CLIENT, EXT_SOURCE_2: 10n },
    { ...SEED_CLIENT, EXT_SOURCE_2: { value: 0.5 } },
    { ...SEED_CLIENT, CODE_GENDER: 'M'.repeat(1_000_000) },
    { ...SEED_CLIENT, ['x'.repeat(100_000)]: 1 },
    { ...SEED_CLIENT, [Symbol('s')]: 1, EXT_SOURCE_1: undefined },
    Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`F${i}`, i])),
    throwing,
    getterThrows,
    new Map(Object.entries(SEED_CLIENT)),
    new Date(),
  ];
  for (const record of strange) {
    assert.throws(() => scorer.explain(record), (e) => e.name === 'CreditScoreError');
    try {
      assert.equal(scorer.validate(record).valid, false);
    } catch (e) {
      assert.equal(e.code, 'invalid_argument', 'only an unreadable record makes validate() throw');
    }
  }
  // Many issues are capped, with a final count.
  const many = caught(() => scorer.score(strange[7]));
  assert.equal(many.details.at(-1).code, 'too_many_issues');
  // The instance is still alive and gives the same answer as before.
  assert.equal(scorer.score(SEED_CLIENT).probability, loadDefaultModelSync().score(SEED_CLIENT).probability);
});
