// The package reads records through two paths: the packed one (wasm/js/records.js: the record
// is packed in JS and crosses into wasm in one call) and the generic one (the wasm class reads
// any JS value through Reflect), which the packed one falls back to for records it cannot pack.
// Both must give the same values, warnings and errors, bit for bit, and scoreBatch /
// explainBatch must equal score / explain one by one (errors: every record's issues, in order,
// with `data[i].` paths). The generic path is the wasm-bindgen class's own method, reached
// through the prototype chain of the exported class.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { CreditScorer, loadDefaultModelSync } from 'creditscore';

import { SEED_CLIENT, loadCases, readJsonl } from './fixtures.mjs';

const { cases } = loadCases();
const scorer = loadDefaultModelSync();
const generic = Object.getPrototypeOf(CreditScorer.prototype);

/** What a call gives: its value, or the error's name, code, message and details. */
function outcome(fn) {
  try {
    const value = fn();
    // JSON text too: deepStrictEqual ignores key order, which JSON.stringify of a result shows.
    return { value, json: JSON.stringify(value) };
  } catch (e) {
    return { error: { name: e.name, code: e.code, message: e.message, details: e.details } };
  }
}

/** The packed and the generic path agree on `method(record, ...args)`. */
function samePaths(s, method, record, args, label) {
  const fast = outcome(() => s[method](record, ...args));
  const slow = outcome(() => generic[method].call(s, record, ...args));
  // deepStrictEqual compares numbers with Object.is: -0 is not 0, NaN is NaN.
  assert.deepStrictEqual(fast, slow, `${method}(${label}, ${args.map(String).join(', ')})`);
  return fast;
}

// Values of every JS type, including the ones no field takes.
const VALUES = [
  null, undefined, Number.NaN, Infinity, -Infinity, -0, 0, 1, -1, 0.5, 1e308, 365243, 2 ** 53, 2 ** 53 + 2,
  1.5, -9461.5, '0.5', '', ' ', 'F', 'f', ' m ', 'Y', 'yes', 'XNA', 'é', 'Ünknown', '\uD800', 'x\uDFFF',
  '\uD83D\uDE00', 'a\u0000b', 'Cash loans', true, false, 10n, -5n, 2n ** 70n, {}, [], [1], () => 1,
  Symbol('s'), new Number(1), new String('F'), Object(true),
];

test('the exported class is the packed path over the generic wasm class', () => {
  assert.notEqual(generic, Object.prototype);
  assert.equal(typeof generic.score, 'function');
  assert.notEqual(generic.score, CreditScorer.prototype.score);
  assert.ok(scorer instanceof CreditScorer);
});

test('ordinary records take the packed path; the others the generic one', () => {
  const calls = { score: 0, scoreBatch: 0, explain: 0, validate: 0, explainBatch: 0 };
  const saved = {};
  for (const name of Object.keys(calls)) {
    saved[name] = generic[name];
    generic[name] = function (...args) {
      calls[name]++;
      return saved[name].apply(this, args);
    };
  }
  try {
    scorer.score(SEED_CLIENT);
    scorer.score({ ...SEED_CLIENT, EXT_SOURCE_1: null, CODE_GENDER: 'F' }, 0.5, 2);
    scorer.scoreBatch([SEED_CLIENT, { ...SEED_CLIENT, SK_ID_CURR: 1 }]);
    scorer.explain(SEED_CLIENT);
    scorer.explainBatch([SEED_CLIENT]);
    scorer.validate({ ...SEED_CLIENT, EXT_SOURCE_2: 'x' });
    assert.deepEqual(calls, { score: 0, scoreBatch: 0, explain: 0, validate: 0, explainBatch: 0 });
    assert.throws(() => scorer.score({ ...SEED_CLIENT, EXTRA: 1 }), { code: 'validation_error' });
    assert.throws(() => scorer.score(SEED_CLIENT, '0.5'), { code: 'validation_error' });
    assert.equal(scorer.validate([SEED_CLIENT]).valid, false);
    assert.throws(() => scorer.scoreBatch({ length: 0 }), { code: 'invalid_argument' });
    assert.deepEqual(calls, { score: 2, scoreBatch: 1, explain: 0, validate: 1, explainBatch: 0 });
  } finally {
    Object.assign(generic, saved);
  }
});

test('every field set to a value of every JS type: same outcome on both paths', () => {
  const fields = [scorer.features().id_field.name, ...scorer.features(true).required.map((f) => f.name),
    ...scorer.features(true).optional.map((f) => f.name)];
  let n = 0;
  for (const field of fields) {
    const without = { ...SEED_CLIENT };
    delete without[field];
    samePaths(scorer, 'score', without, [], `without ${field}`);
    for (const v of VALUES) {
      const record = { ...SEED_CLIENT, [field]: v };
      const label = `${field}: ${typeof v === 'symbol' ? 'symbol' : String(v)}`;
      samePaths(scorer, 'score', record, [], label);
      samePaths(scorer, 'score', record, [0.3, 2], label);
      samePaths(scorer, 'validate', record, [], label);
      if (n++ % 7 === 0) samePaths(scorer, 'explain', record, [], label);
    }
  }
});

test('odd records and arguments: same outcome on both paths', () => {
  const proto = { EXT_SOURCE_2: 0.5 };
  const inherited = Object.assign(Object.create(proto), SEED_CLIENT);
  delete inherited.EXT_SOURCE_2;
  const hidden = { ...SEED_CLIENT };
  Object.defineProperty(hidden, 'EXT_SOURCE_3', { value: 0.9, enumerable: false });
  const bare = Object.assign(Object.create(null), SEED_CLIENT);
  const { proxy: revoked, revoke } = Proxy.revocable({ ...SEED_CLIENT }, {});
  revoke();
  let calls = 0;
  const records = {
    inherited,
    hidden,
    bare,
    revoked,
    proxy: new Proxy({ ...SEED_CLIENT }, {}),
    getter: { ...SEED_CLIENT, get AMT_CREDIT() { return 500000; } },
    throwingGetter: { ...SEED_CLIENT, get AMT_CREDIT() { throw new RangeError('no credit'); } },
    reentrant: { ...SEED_CLIENT, get AMT_CREDIT() { calls += scorer.score(SEED_CLIENT).prediction + scorer.scoreBatch([SEED_CLIENT]).length; return 300000; } },
    unknownField: { ...SEED_CLIENT, AMT_CREDITT: 1, EXT_SOURCE_2: 'high' },
    label: { ...SEED_CLIENT, TARGET: 1 },
    protoKey: { ...JSON.parse('{"__proto__": 1}'), ...SEED_CLIENT },
    symbolKey: { ...SEED_CLIENT, [Symbol('k')]: 1 },
    empty: {},
    array: [SEED_CLIENT],
    map: new Map(Object.entries(SEED_CLIENT)),
    date: new Date(0),
    nul: null,
    undef: undefined,
    number: 42,
    string: 'SK_ID_CURR',
    bigint: 7n,
    fn: () => SEED_CLIENT,
    longText: { ...SEED_CLIENT, CODE_GENDER: 'é'.repeat(100_000) },
  };
  for (const [label, record] of Object.entries(records)) {
    for (const args of [[], [null, null], [undefined, 0], [0.5, 45], ['0.5'], [0.5, '2'], [Number.NaN], [2], [0.5, -1], [0.5, 1.5], [0.5, 1e9]]) {
      samePaths(scorer, 'score', record, args, label);
    }
    samePaths(scorer, 'validate', record, [], label);
    samePaths(scorer, 'explain', record, [], label);
    samePaths(scorer, 'explain', record, [1.5], label);
  }
  assert.ok(calls > 0, 'the re-entrant getter ran');
});

for (const c of cases) {
  test(`${c.name}: the fixture's records give the same outcome on both paths`, () => {
    const s = new CreditScorer(readFileSync(c.bundle));
    const records = readJsonl(c.records).slice(0, 400);
    for (const [i, r] of records.entries()) {
      samePaths(s, 'score', r, [null, 0], `row ${i}`);
      samePaths(s, 'validate', r, [], `row ${i}`);
    }
    // Reason codes and SHAP values cost up to tens of ms per row (lgbm_large): fewer rows.
    for (const [i, r] of records.slice(0, 20).entries()) {
      samePaths(s, 'score', r, [], `row ${i}`);
      samePaths(s, 'score', r, [0.5, 3], `row ${i}`);
      samePaths(s, 'explain', r, [], `row ${i}`);
    }
  });
}

/** Bench-like clients around the README example (deterministic), some with warnings. */
function clients(n) {
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  return Array.from({ length: n }, (_, i) => ({
    ...SEED_CLIENT,
    SK_ID_CURR: 200000 + i,
    EXT_SOURCE_1: rand() < 0.5 ? null : rand(),
    EXT_SOURCE_2: rand(),
    AMT_CREDIT: Math.round(50_000 + rand() * 4_000_000),
    DAYS_EMPLOYED: rand() < 0.2 ? 365243 : -Math.round(rand() * 10_000),
    CODE_GENDER: rand() < 0.5 ? 'F' : 'M',
  }));
}

test('scoreBatch equals score one by one, bit for bit', () => {
  const all = clients(1000);
  for (const args of [[], [0.2], [null, 0], [0.5, 3], [undefined, 45]]) {
    // Every record with reasons: fewer records.
    const records = args[1] > 0 ? all.slice(0, 150) : all;
    const batch = outcome(() => scorer.scoreBatch(records, ...args));
    const one = outcome(() => records.map((r) => scorer.score(r, ...args)));
    assert.deepStrictEqual(batch, one, `scoreBatch(records, ${args.join(', ')})`);
    assert.deepStrictEqual(batch, outcome(() => generic.scoreBatch.call(scorer, records, ...args)));
  }
  const records = all;
  const some = records.slice(0, 30);
  assert.deepStrictEqual(outcome(() => scorer.explainBatch(some, 0.3)), outcome(() => some.map((r) => scorer.explain(r, 0.3))));
  assert.ok(scorer.scoreBatch(records).some((p) => p.warnings.length > 0), 'some records have warnings');
  assert.ok(scorer.scoreBatch(records).some((p) => p.reasons), 'some records are refused (reasons)');
});

test('scoreBatch with bad rows: every row\'s issues in order, as score gives them', () => {
  const good = clients(50);
  const bad = [
    { ...SEED_CLIENT, EXT_SOURCE_2: 'x' },
    { ...SEED_CLIENT, AMT_CREDITT: 1 },
    null,
    { ...SEED_CLIENT, get AMT_CREDIT() { return -1; } },
    { ...SEED_CLIENT, CODE_GENDER: 'Q', DAYS_BIRTH: 5 },
    [],
  ];
  const records = [...good];
  bad.forEach((r, k) => records.splice(5 + 9 * k, 0, r));
  const expected = [];
  records.forEach((r, i) => {
    const single = outcome(() => scorer.score(r));
    if (single.error) {
      expected.push(...single.error.details.map((d) => ({ ...d, path: d.path.replace(/^data/, `data[${i}]`) })));
    }
  });
  for (const method of ['scoreBatch', 'explainBatch']) {
    const fast = outcome(() => scorer[method](records));
    assert.deepStrictEqual(fast, outcome(() => generic[method].call(scorer, records)), method);
    assert.equal(fast.error.code, 'validation_error');
    assert.deepStrictEqual(fast.error.details, expected, method);
  }
  // Arguments are checked before the records, as the generic path does.
  for (const args of [[2], [0.5, -1], ['x']]) {
    assert.deepStrictEqual(outcome(() => scorer.scoreBatch(records, ...args)), outcome(() => generic.scoreBatch.call(scorer, records, ...args)));
  }
});

test('odd batches: same outcome on both paths', () => {
  const throwingElement = [SEED_CLIENT, SEED_CLIENT];
  Object.defineProperty(throwingElement, 1, { get() { throw new Error('element'); } });
  const { proxy: revoked, revoke } = Proxy.revocable([SEED_CLIENT], {});
  revoke();
  const batches = {
    empty: [],
    holes: [SEED_CLIENT, , SEED_CLIENT], // eslint-disable-line no-sparse-arrays
    throwingElement,
    throwingRecord: [SEED_CLIENT, { ...SEED_CLIENT, get AMT_CREDIT() { throw new Error('record'); } }],
    proxy: new Proxy([SEED_CLIENT, SEED_CLIENT], {}),
    revoked,
    notArray: SEED_CLIENT,
    arrayLike: { length: 1, 0: SEED_CLIENT },
    nul: null,
    number: 3,
  };
  for (const [label, batch] of Object.entries(batches)) {
    for (const method of ['scoreBatch', 'explainBatch']) {
      assert.deepStrictEqual(
        outcome(() => scorer[method](batch)),
        outcome(() => generic[method].call(scorer, batch)),
        `${method}(${label})`,
      );
    }
  }
});
