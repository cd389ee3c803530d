// Score, scoreBatch and explain latency of the same model and records: native CLI (`creditscore
// bench`), the npm package in Node, and the package in headless Chromium (the demo page's www/pkg).
// Like for like: `score` and `scoreBatch` without reason codes (as native scores), explain = the
// SHAP values of one record. Prints a table with the ratios to native measured in the same run,
// the wasm and package sizes, bundle load times and the package's cold start in a fresh Node.
//
// Usage: node tests/npm/bench.mjs --tgz PACKAGE.tgz --cli CREDITSCORE --model BUNDLE.csb --out DIR
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';

import { chromium } from 'playwright-core';

import { serveStatic } from '../browser/server.mjs';
import { SEED_CLIENT } from './fixtures.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    tgz: { type: 'string' },
    cli: { type: 'string' },
    model: { type: 'string' },
    out: { type: 'string' },
    seconds: { type: 'string', default: '2' },
  },
});
const seconds = Number(args.seconds);
const out = join(resolve(args.out), 'bench');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

// 1000 clients around the README example (deterministic), valid for the default model.
let seed = 42;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const records = Array.from({ length: 1000 }, (_, i) => ({
  ...SEED_CLIENT,
  SK_ID_CURR: 100000 + i,
  EXT_SOURCE_1: rand() < 0.5 ? null : Number(rand().toFixed(4)),
  EXT_SOURCE_2: Number(rand().toFixed(4)),
  EXT_SOURCE_3: Number(rand().toFixed(4)),
  AMT_CREDIT: Math.round(50_000 + rand() * 1_500_000),
  AMT_ANNUITY: Math.round(5_000 + rand() * 60_000),
  AMT_GOODS_PRICE: Math.round(40_000 + rand() * 1_400_000),
  DAYS_BIRTH: -Math.round(7_000 + rand() * 18_000),
  DAYS_EMPLOYED: rand() < 0.18 ? 365243 : -Math.round(rand() * 10_000),
  CODE_GENDER: rand() < 0.658 ? 'F' : 'M',
  FLAG_OWN_CAR: rand() < 0.66 ? 'N' : 'Y',
}));
const recordsFile = join(out, 'records.jsonl');
writeFileSync(recordsFile, records.map((r) => JSON.stringify(r)).join('\n') + '\n');

/** Median and p99 of per-call times (microseconds), calls per second and CPU time per call
 * (this process, all threads) of `fn` over the records, for `budgetSeconds`. */
function measure(fn, budgetSeconds) {
  const times = [];
  const deadline = performance.now() + budgetSeconds * 1000;
  const cpu0 = process.cpuUsage();
  let i = 0;
  while (performance.now() < deadline) {
    const t0 = performance.now();
    for (let k = 0; k < 50; k++) fn(records[(i + k) % records.length]);
    times.push(((performance.now() - t0) * 1000) / 50);
    i += 50;
  }
  const cpu = process.cpuUsage(cpu0);
  times.sort((a, b) => a - b);
  return {
    p50_us: times[Math.floor(times.length / 2)],
    p99_us: times[Math.floor(times.length * 0.99)],
    calls: i,
    cpu_us: (cpu.user + cpu.system) / i,
  };
}

/** scoreBatch over all the records: median time per record over passes. */
function measureBatch(scorer, budgetSeconds) {
  const times = [];
  const deadline = performance.now() + budgetSeconds * 1000;
  const cpu0 = process.cpuUsage();
  let rows = 0;
  while (performance.now() < deadline) {
    const t0 = performance.now();
    scorer.scoreBatch(records, null, 0);
    times.push(((performance.now() - t0) * 1000) / records.length);
    rows += records.length;
  }
  const cpu = process.cpuUsage(cpu0);
  times.sort((a, b) => a - b);
  return { p50_us: times[Math.floor(times.length / 2)], rows, cpu_us: (cpu.user + cpu.system) / rows };
}

// Native.
const native = JSON.parse(
  execFileSync(args.cli, ['bench', '--bundle', args.model, '--input', recordsFile, '--json', '--seconds', String(seconds)], {
    encoding: 'utf8',
  }),
);

// Node, through the installed package.
const consumer = join(out, 'consumer');
mkdirSync(consumer);
writeFileSync(join(consumer, 'package.json'), '{"name":"bench","version":"0.0.0","private":true}');
execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', args.tgz], { cwd: consumer, stdio: 'inherit' });
const require = createRequire(join(consumer, 'package.json'));

// Cold start in fresh processes (median of 5): loading the package (wasm compiled and
// instantiated), loading the default bundle, then the first score and the first explain.
const coldScript = `
const t0 = performance.now();
const { loadDefaultModelSync } = require('creditscore');
const t1 = performance.now();
const scorer = loadDefaultModelSync();
const t2 = performance.now();
const record = ${JSON.stringify(records[0])};
scorer.score(record, null, 0);
const t3 = performance.now();
scorer.explain(record);
const t4 = performance.now();
console.log(JSON.stringify({ require_ms: t1 - t0, load_ms: t2 - t1, first_score_ms: t3 - t2, first_explain_ms: t4 - t3 }));`;
const colds = Array.from({ length: 5 }, () => {
  const t0 = performance.now();
  const inner = JSON.parse(execFileSync(process.execPath, ['-e', coldScript], { cwd: consumer, encoding: 'utf8' }));
  return { ...inner, process_ms: performance.now() - t0 };
});
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const nodeCold = Object.fromEntries(Object.keys(colds[0]).map((k) => [k, median(colds.map((c) => c[k]))]));

const { loadModelSync } = require('creditscore');
const scorer = loadModelSync(args.model);
for (const r of records.slice(0, 200)) scorer.score(r, null, 0); // warm-up
// Like for like with native: scoring only, no reason codes (`reasons` 0).
const nodeScore = measure((r) => scorer.score(r, null, 0), seconds);
const nodeBatch = measureBatch(scorer, seconds);
const nodeExplain = measure((r) => scorer.explain(r), seconds);
// Score points plus 4 reason codes for every record (a refusal's full answer).
const nodeReasons = measure((r) => scorer.score(r, null, 4), seconds);
const t0 = performance.now();
loadModelSync(args.model).free();
const nodeLoadMs = performance.now() - t0;

// Chromium, through the demo page's copy of the package.
const server = await serveStatic(resolve(here, '..', '..', 'www'));
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking'],
});
const page = await browser.newPage();
await page.goto(`http://127.0.0.1:${server.address().port}/`);
await page.waitForSelector('body[data-state="ready"]', { timeout: 30_000 });
const chromiumResult = await page.evaluate(
  async ({ records, seconds, modelBytes }) => {
    const { CreditScorer, init } = await import('./pkg/dist/index.js');
    await init();
    const t0 = performance.now();
    const scorer = new CreditScorer(new Uint8Array(modelBytes));
    const loadMs = performance.now() - t0;
    const measure = (fn) => {
      const times = [];
      const deadline = performance.now() + seconds * 1000;
      let i = 0;
      while (performance.now() < deadline) {
        const s = performance.now();
        for (let k = 0; k < 50; k++) fn(records[(i + k) % records.length]);
        times.push(((performance.now() - s) * 1000) / 50);
        i += 50;
      }
      times.sort((a, b) => a - b);
      return { p50_us: times[Math.floor(times.length / 2)], p99_us: times[Math.floor(times.length * 0.99)], calls: i };
    };
    const t1 = performance.now();
    scorer.score(records[0], null, 0);
    const firstScoreMs = performance.now() - t1;
    const t2 = performance.now();
    scorer.explain(records[0]);
    const firstExplainMs = performance.now() - t2;
    for (const r of records.slice(0, 200)) scorer.score(r, null, 0);
    const score = measure((r) => scorer.score(r, null, 0));
    const times = [];
    const b0 = performance.now();
    while (performance.now() - b0 < seconds * 1000) {
      const s = performance.now();
      scorer.scoreBatch(records, null, 0);
      times.push(((performance.now() - s) * 1000) / records.length);
    }
    times.sort((a, b) => a - b);
    const batch = { p50_us: times[Math.floor(times.length / 2)] };
    const explain = measure((r) => scorer.explain(r));
    const reasons = measure((r) => scorer.score(r, null, 4));
    return { score, batch, explain, reasons, loadMs, firstScoreMs, firstExplainMs };
  },
  { records, seconds, modelBytes: [...readFileSync(args.model)] },
);
await browser.close();
server.close();

const pkgDir = join(consumer, 'node_modules', 'creditscore');
const wasm = readFileSync(join(pkgDir, 'dist', 'creditscore_bg.wasm'));
const report = {
  model: { path: args.model, bytes: statSync(args.model).size, gzip: gzipSync(readFileSync(args.model), { level: 9 }).length },
  wasm: { bytes: wasm.length, gzip: gzipSync(wasm, { level: 9 }).length },
  tgz_bytes: statSync(args.tgz).size,
  native,
  node: { score: nodeScore, batch: nodeBatch, explain: nodeExplain, reasons: nodeReasons, load_ms: nodeLoadMs, cold: nodeCold },
  chromium: chromiumResult,
};
writeFileSync(join(out, 'report.json'), JSON.stringify(report, null, 2));
const f = (x, d = 2) => (typeof x === 'number' ? x.toFixed(d) : String(x));
const c = chromiumResult;
const nat = {
  score: native.single_ns_per_row / 1000,
  record: native.record_ns_per_row / 1000,
  batch: native.batch_ns_per_row / 1000,
  explain: native.explain_ns_per_row / 1000,
};
// zlib's deflate at level 9 (what Node and most web servers compress with): a few KB more than
// GNU `gzip -9`, which `make npm` prints.
console.log(`wasm: ${report.wasm.bytes} bytes raw, ${report.wasm.gzip} bytes zlib gzip level 9; model ${report.model.bytes} bytes (${report.model.gzip} zlib gzip); package .tgz ${report.tgz_bytes} bytes`);
console.log(`${records.length} records; per record, median (p50) wall-clock microseconds; ratios to native measured in this run`);
console.log('(the machine may be shared: compare the ratios rather than absolute times; Node CPU us = this process, all threads)');
const row = (name, n, node, chromium, extra = '') =>
  console.log(
    `${name.padEnd(26)} ${n === undefined ? '      -' : f(n).padStart(7)} | node ${f(node).padStart(8)}` +
      `${n === undefined ? '' : ` (${f(node / n)}x)`} | chromium ${f(chromium).padStart(8)}` +
      `${n === undefined ? '' : ` (${f(chromium / n)}x)`}${extra}`,
  );
console.log(`${''.padEnd(26)}  native |`);
row('score (no reasons)', nat.score, nodeScore.p50_us, c.score.p50_us, ` | node CPU ${f(nodeScore.cpu_us)}`);
// The same calls against the native core's whole path from a parsed record (validation, derived
// features, scoring, decision), which `score` also runs; the row above compares to the tree walk.
row('  vs native from a record', nat.record, nodeScore.p50_us, c.score.p50_us);
row('scoreBatch (no reasons)', nat.batch, nodeBatch.p50_us, c.batch.p50_us, ` | node CPU ${f(nodeBatch.cpu_us)}`);
row('explain (SHAP values)', nat.explain, nodeExplain.p50_us, c.explain.p50_us);
row('score + 4 reasons', undefined, nodeReasons.p50_us, c.reasons.p50_us);
console.log(
  `scoreBatch vs score one by one, per record: node ${f(nodeScore.p50_us / nodeBatch.p50_us)}x faster, ` +
    `chromium ${f(c.score.p50_us / c.batch.p50_us)}x faster (native batch vs single: ${f(nat.score / nat.batch)}x)`,
);
console.log(
  `load: node new CreditScorer ${f(nodeLoadMs)} ms, chromium ${f(c.loadMs)} ms (native ${f(native.load_ms, 3)} ms + compile ${f(native.compile_ms, 3)} ms); ` +
    `first score ${f(c.firstScoreMs)} ms, first explain ${f(c.firstExplainMs)} ms (chromium)`,
);
console.log(
  `node cold start (fresh process, median of 5): require ${f(nodeCold.require_ms)} ms, load bundle ${f(nodeCold.load_ms)} ms, ` +
    `first score ${f(nodeCold.first_score_ms)} ms, first explain ${f(nodeCold.first_explain_ms)} ms; whole process ${f(nodeCold.process_ms)} ms`,
);
console.log(`report: ${join(out, 'report.json')}`);
