// CommonJS consumer: `require('creditscore')` (the exports map's node/require entry).
// scoreBatch() equals the native CLI's `predict` bit for bit on every parity fixture; the CommonJS
// and ES module entries share one wasm instance.
'use strict';
const assert = require('node:assert/strict');
const { readFileSync } = require('node:fs');
const { test } = require('node:test');

const creditscore = require('creditscore');

test('the CommonJS entry exposes the documented API', () => {
  const names = [
    'CreditScorer',
    'init',
    'loadModel',
    'loadModelSync',
    'loadDefaultModel',
    'loadDefaultModelSync',
    'defaultModelPath',
  ];
  for (const name of names) assert.ok(name in creditscore, name);
  assert.throws(() => require('creditscore/dist/creditscore.cjs'), { code: 'ERR_PACKAGE_PATH_NOT_EXPORTED' });
});

test('scoreBatch() equals the CLI bit for bit on every parity fixture', async () => {
  const { loadCases, readJsonl } = await import('./fixtures.mjs');
  const { cases } = loadCases();
  assert.ok(cases.length > 0);
  for (const c of cases) {
    const scorer = creditscore.loadModelSync(c.bundle);
    const records = readJsonl(c.records);
    const expected = readJsonl(c.scores);
    const got = scorer.scoreBatch(records);
    assert.equal(got.length, expected.length, c.name);
    const mismatches = [];
    got.forEach((p, i) => {
      const want = expected[i];
      for (const key of ['raw_score', 'probability', 'prediction']) {
        if (!Object.is(p[key], want[key])) mismatches.push(`${c.name} row ${i} ${key}: ${p[key]} vs CLI ${want[key]}`);
      }
      try {
        assert.deepEqual(p.warnings, want.warnings ?? []);
      } catch {
        mismatches.push(`${c.name} row ${i} warnings: ${JSON.stringify(p.warnings)} vs CLI ${JSON.stringify(want.warnings)}`);
      }
      if (p.threshold !== scorer.threshold) mismatches.push(`${c.name} row ${i}: threshold ${p.threshold}`);
    });
    assert.deepEqual(mismatches.slice(0, 10), [], `${mismatches.length} values differ`);
  }
});

test('the default model loads synchronously; require and import share one instance', async () => {
  const scorer = creditscore.loadDefaultModelSync();
  assert.equal(typeof scorer.threshold, 'number');
  assert.ok(scorer.threshold >= 0 && scorer.threshold <= 1);
  const esm = await import('creditscore');
  assert.deepEqual(Object.keys(esm).sort(), Object.keys(creditscore).sort(), 'import and require give one API');
  assert.equal(esm.CreditScorer, creditscore.CreditScorer);
  assert.ok(scorer instanceof esm.CreditScorer);
  await creditscore.init();
});

test('metadata and features describe the bundle', () => {
  const scorer = creditscore.loadDefaultModelSync();
  const meta = scorer.metadata;
  assert.equal(meta.sha256.length, 64);
  assert.equal(meta.threshold, scorer.threshold);
  assert.ok(meta.num_trees > 0 && meta.num_features > 0);
  const brief = scorer.features();
  assert.ok(Array.isArray(brief.required) && !('optional' in brief));
  assert.deepEqual(brief.required_features, brief.required.map((f) => f.name));
  const all = scorer.features(true);
  assert.ok(Array.isArray(all.optional));
  assert.equal(all.threshold, scorer.threshold);
  assert.equal(all.model_features.length, meta.num_features);
});
