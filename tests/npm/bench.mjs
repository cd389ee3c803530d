// Score and explain latency of the same model and records: native CLI (`creditscore bench`), the
// npm package in Node, and the package in headless Chromium (the demo page's www/pkg). Prints a
// table, the ratios to native measured in the same run, and the sizes of the package files.
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

/** Median and p99 of per-call times (microseconds), and calls per second, of `fn` over the records. */
function measure(fn, budgetSeconds) {
  const times = [];
  const deadline = performance.now() + budgetSeconds * 1000;
  let i = 0;
  while (performance.now() < deadline) {
    const t0 = performance.now();
    for (let k = 0; k < 50; k++) fn(records[(i + k) % records.length]);
    times.push(((performance.now() - t0) * 1000) / 50);
    i += 50;
  }
  times.sort((a, b) => a - b);
  return { p50_us: times[Math.floor(times.length / 2)], p99_us: times[Math.floor(times.length * 0.99)], calls: i };
}

function measureBatch(scorer, budgetSeconds) {
  let rows = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < budgetSeconds * 1000) {
    scorer.scoreBatch(records);
    rows += records.length;
  }
  return { us_per_row: ((performance.now() - t0) * 1000) / rows };
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
const { loadModelSync } = require('creditscore');
const scorer = loadModelSync(args.model);
for (const r of records.slice(0, 200)) scorer.score(r); // warm-up
const nodeScore = measure((r) => scorer.score(r), seconds);
const nodeExplain = measure((r) => scorer.explain(r), seconds);
// Score points plus 4 reason codes for every record (a refusal's full answer).
const nodeReasons = measure((r) => scorer.score(r, null, 4), seconds);
const nodeBatch = measureBatch(scorer, seconds);
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
    for (const r of records.slice(0, 200)) scorer.score(r);
    const score = measure((r) => scorer.score(r));
    const explain = measure((r) => scorer.explain(r));
    const reasons = measure((r) => scorer.score(r, null, 4));
    let rows = 0;
    const b0 = performance.now();
    while (performance.now() - b0 < seconds * 1000) {
      scorer.scoreBatch(records);
      rows += records.length;
    }
    return { score, explain, reasons, batch: { us_per_row: ((performance.now() - b0) * 1000) / rows }, loadMs };
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
  node: { score: nodeScore, explain: nodeExplain, reasons: nodeReasons, batch: nodeBatch, load_ms: nodeLoadMs },
  chromium: chromiumResult,
};
writeFileSync(join(out, 'report.json'), JSON.stringify(report, null, 2));
const f = (x) => (typeof x === 'number' ? x.toFixed(2) : String(x));
console.log(`wasm: ${report.wasm.bytes} bytes raw, ${report.wasm.gzip} gzip; model ${report.model.bytes} bytes (${report.model.gzip} gzip); package .tgz ${report.tgz_bytes} bytes`);
console.log('native (creditscore bench):', JSON.stringify(native));
console.log(`node     score p50 ${f(nodeScore.p50_us)} us  p99 ${f(nodeScore.p99_us)} us | explain p50 ${f(nodeExplain.p50_us)} us | score+4 reasons p50 ${f(nodeReasons.p50_us)} us | batch ${f(nodeBatch.us_per_row)} us/row | load ${f(nodeLoadMs)} ms`);
const c = chromiumResult;
console.log(`chromium score p50 ${f(c.score.p50_us)} us  p99 ${f(c.score.p99_us)} us | explain p50 ${f(c.explain.p50_us)} us | score+4 reasons p50 ${f(c.reasons.p50_us)} us | batch ${f(c.batch.us_per_row)} us/row | load ${f(c.loadMs)} ms`);
// Ratios measured in this run (the machine may be shared: compare these rather than absolute times).
const nativeScoreUs = native.single_ns_per_row / 1000;
const nativeExplainUs = native.explain_ns_per_row / 1000;
console.log(`native   score ${f(nativeScoreUs)} us/row | explain (SHAP values) ${f(nativeExplainUs)} us/row`);
for (const [name, r] of [['node', report.node], ['chromium', c]]) {
  console.log(
    `${name.padEnd(8)} vs native: score ${f(r.score.p50_us / nativeScoreUs)}x | explain ${f(r.explain.p50_us / nativeExplainUs)}x | ` +
      `scoreBatch ${f(r.batch.us_per_row / nativeScoreUs)}x, ${f(r.score.p50_us / r.batch.us_per_row)}x faster per record than score`,
  );
}
console.log(`report: ${join(out, 'report.json')}`);
