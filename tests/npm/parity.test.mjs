// ES module consumer: `import ... from 'creditscore'` (the exports map's node/import entry).
// explain() and score() equal the native CLI's `predict --explain` bit for bit on every parity
// fixture, and on the README example client with the package's default model.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { CreditScorer, defaultModelPath, loadDefaultModel, loadModel } from 'creditscore';

import { SEED_CLIENT, loadCases, readJsonl } from './fixtures.mjs';

const { cases, seed } = loadCases();

/** Every value that differs from the CLI's, by bits (Object.is tells -0 from 0). */
function compareExplanation(got, want, mismatches, row) {
  const pairs = [
    ['raw_score', got.raw_score, want.raw_score],
    ['probability', got.probability, want.probability],
    ['prediction', got.prediction, want.prediction],
    ['shap_bias', got.base_value, want.shap_bias],
    ...got.contributions.map((c) => [`shap_${c.feature}`, c.contribution, want[`shap_${c.feature}`]]),
  ];
  for (const [name, a, b] of pairs) {
    if (!Object.is(a, b)) mismatches.push(`row ${row} ${name}: package ${a}, CLI ${b}`);
  }
  const shapColumns = Object.keys(want).filter((k) => k.startsWith('shap_')).length;
  if (got.contributions.length + 1 !== shapColumns) {
    mismatches.push(`row ${row}: ${got.contributions.length} contributions, CLI has ${shapColumns - 1}`);
  }
}

test('the parity fixtures are all there', () => {
  assert.ok(cases.length >= 5, `only ${cases.length} parity fixtures`);
  assert.ok(cases.every((c) => c.rows > 0 && c.explainedRows > 0));
});

for (const c of cases) {
  test(`${c.name}: explain() equals the CLI bit for bit (${c.explainedRows} rows)`, () => {
    const scorer = new CreditScorer(readFileSync(c.bundle));
    const records = readJsonl(c.explainRecords);
    const expected = readJsonl(c.explained);
    assert.equal(records.length, expected.length);
    const mismatches = [];
    // XGBoost sums its trees in f32: SHAP values (f64) add up to its raw score to f32 precision.
    const tolerance = scorer.metadata.source.toLowerCase().includes('xgboost') ? 1e-5 : 1e-9;
    records.forEach((record, i) => {
      const got = scorer.explain(record);
      compareExplanation(got, expected[i], mismatches, i);
      // The contributions add up to the raw score (TreeSHAP's local accuracy).
      const total = got.contributions.reduce((s, x) => s + x.contribution, got.base_value);
      if (Math.abs(total - got.raw_score) > tolerance * Math.max(1, Math.abs(got.raw_score))) {
        mismatches.push(`row ${i}: contributions add up to ${total}, raw score ${got.raw_score}`);
      }
    });
    assert.deepEqual(mismatches.slice(0, 10), [], `${mismatches.length} values differ`);
  });
}

test('the README example client scores as with the CLI, default model loaded asynchronously', async () => {
  const scorer = await loadDefaultModel();
  const [want] = readJsonl(seed.expected);
  const got = scorer.explain({ ...SEED_CLIENT });
  const mismatches = [];
  compareExplanation(got, want, mismatches, 0);
  assert.deepEqual(mismatches, []);
  assert.equal(got.sk_id_curr, 100002);
  const score = scorer.score(SEED_CLIENT);
  assert.ok(Object.is(score.probability, want.probability));
  assert.equal(score.prediction, want.prediction);
  assert.equal(score.threshold, scorer.threshold);
  assert.deepEqual(score.warnings, want.warnings ?? []);
});

test('models load from a path, a file URL and bytes, with the same sha256', async () => {
  const fromPath = await loadModel(defaultModelPath);
  const fromUrl = await loadModel(new URL(`file://${defaultModelPath}`));
  const bytes = readFileSync(defaultModelPath);
  const fromBytes = await loadModel(new Uint8Array(bytes));
  const fromArrayBuffer = new CreditScorer(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  const shas = [fromPath, fromUrl, fromBytes, fromArrayBuffer].map((s) => s.metadata.sha256);
  assert.equal(new Set(shas).size, 1);
  assert.match(shas[0], /^[0-9a-f]{64}$/);
});

test('the batch path gives the same bits as one record at a time', () => {
  const c = cases.find((x) => x.name === 'lgbm_large') ?? cases[0];
  const scorer = new CreditScorer(readFileSync(c.bundle));
  const records = readJsonl(c.records);
  const batch = scorer.scoreBatch(records, 0.3);
  assert.equal(batch.length, records.length);
  records.forEach((r, i) => {
    assert.deepEqual(batch[i], scorer.score(r, 0.3), `row ${i}`);
  });
});
