// Consumer test of the packed npm package: installs the .tgz into a scratch project, prepares the
// native CLI's answers for the parity fixtures (tests/parity/) and the README example client, then
// runs the node:test files of this folder from inside the scratch project, so that
// `require('creditscore')` and `import 'creditscore'` resolve through the package's exports map.
//
// Usage: node tests/npm/run.mjs --tgz creditscore-X.tgz --cli target/release/creditscore --out DIR
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { csvToRecords, parseCsv, SEED_CLIENT } from './fixtures.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const { values: args } = parseArgs({
  options: { tgz: { type: 'string' }, cli: { type: 'string' }, out: { type: 'string' } },
});
if (!args.tgz || !args.cli || !args.out) {
  console.error('usage: node tests/npm/run.mjs --tgz PACKAGE.tgz --cli CREDITSCORE --out DIR');
  process.exit(2);
}

const out = resolve(args.out);
const scratch = join(out, 'consumer');
rmSync(out, { recursive: true, force: true });
mkdirSync(scratch, { recursive: true });

// 1. A fresh consumer project with the packed package (and TypeScript, to check its types).
const TYPESCRIPT = 'typescript@5.9.3';
writeFileSync(
  join(scratch, 'package.json'),
  JSON.stringify({ name: 'creditscore-consumer', version: '0.0.0', private: true }, null, 2),
);
execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', args.tgz, TYPESCRIPT], {
  cwd: scratch,
  stdio: 'inherit',
});
const require = createRequire(join(scratch, 'package.json'));
const { CreditScorer } = require('creditscore');

// 2. The native CLI's scores (every row) and SHAP values (every row of the small models, an even
// sample of the large one: TreeSHAP over 500 deep trees costs tens of ms per row) on the same
// JSON records.
const EXPLAIN_BUDGET = 40_000; // rows x trees explained per fixture
const cli = (...argv) => execFileSync(args.cli, argv, { stdio: ['ignore', 'ignore', 'inherit'] });
const manifest = JSON.parse(readFileSync(join(root, 'tests/parity/manifest.json'), 'utf8'));
const cases = [];
for (const fixture of manifest) {
  const dir = join(root, 'tests/parity', fixture.name);
  const bundle = join(out, `${fixture.name}.csb`);
  cli('import', fixture.library, join(dir, fixture.model), '--out', bundle);
  const doc = new CreditScorer(readFileSync(bundle)).features(true);
  const lines = csvToRecords(readFileSync(join(dir, 'rows.csv'), 'utf8'), doc);
  const records = join(out, `${fixture.name}.records.jsonl`);
  writeFileSync(records, lines.join('\n') + '\n');
  const scores = join(out, `${fixture.name}.scores.jsonl`);
  cli('predict', '--bundle', bundle, '--input', records, '--out', scores);
  const stride = Math.max(1, Math.ceil((lines.length * fixture.trees) / EXPLAIN_BUDGET));
  const explainLines = lines.filter((_, i) => i % stride === 0);
  const explainRecords = join(out, `${fixture.name}.explain-records.jsonl`);
  writeFileSync(explainRecords, explainLines.join('\n') + '\n');
  const explained = join(out, `${fixture.name}.explained.jsonl`);
  cli('predict', '--bundle', bundle, '--input', explainRecords, '--out', explained, '--explain');
  cases.push({ name: fixture.name, bundle, records, scores, explainRecords, explained, rows: lines.length, explainedRows: explainLines.length });
}

// The README example client, scored by the CLI with the package's default model.
const defaultModel = require.resolve('creditscore/model/default.csb');

// Rows of the application_train.csv stand-in with all their columns (tests/worker/gen_standin_rows.py),
// TARGET left out (it is the label): scored and explained like the parity fixtures.
{
  const doc = new CreditScorer(readFileSync(defaultModel)).features(true);
  const text = readFileSync(join(root, 'tests/worker/fixtures/standin_rows.csv'), 'utf8');
  const [header, ...rows] = parseCsv(text);
  const keep = header.map((h) => h !== 'TARGET');
  const quote = (c) => (/[",]/.test(c) ? `"${c.replaceAll('"', '""')}"` : c);
  const csv = [header, ...rows].map((r) => r.filter((_, i) => keep[i]).map(quote).join(',')).join('\n');
  // An empty cell of a required nullable input (EXT_SOURCE_1/3) is sent as null, as the API wants.
  const nullable = doc.required.filter((f) => f.nullable).map((f) => f.name);
  const lines = csvToRecords(csv, doc).map((line) => {
    const r = JSON.parse(line);
    for (const name of nullable) r[name] ??= null;
    return JSON.stringify(r);
  });
  const records = join(out, 'standin.records.jsonl');
  writeFileSync(records, lines.join('\n') + '\n');
  const scores = join(out, 'standin.scores.jsonl');
  cli('predict', '--bundle', defaultModel, '--input', records, '--out', scores);
  const explained = join(out, 'standin.explained.jsonl');
  cli('predict', '--bundle', defaultModel, '--input', records, '--out', explained, '--explain');
  cases.push({ name: 'standin-121-columns', bundle: defaultModel, records, scores, explainRecords: records, explained, rows: lines.length, explainedRows: lines.length });
}

const seedRecords = join(out, 'seed.records.jsonl');
writeFileSync(seedRecords, JSON.stringify(SEED_CLIENT) + '\n');
const seedExpected = join(out, 'seed.cli.jsonl');
cli('predict', '--bundle', defaultModel, '--input', seedRecords, '--out', seedExpected, '--explain');

const casesFile = join(out, 'cases.json');
writeFileSync(
  casesFile,
  JSON.stringify({ cases, seed: { records: seedRecords, expected: seedExpected }, tgz: args.tgz }, null, 2),
);
const total = (key) => cases.reduce((n, c) => n + c[key], 0);
console.log(`prepared ${cases.length} parity fixtures: ${total('rows')} rows scored, ${total('explainedRows')} explained; and the seed client`);

// 3. The tests run from inside the consumer project.
const testDir = join(scratch, 'test');
mkdirSync(testDir);
const testFiles = readdirSync(here).filter((f) => /\.test\.(cjs|mjs)$/.test(f));
for (const f of [...testFiles, 'fixtures.mjs']) {
  copyFileSync(join(here, f), join(testDir, f));
}
// fixtures.mjs reads ../fixtures/readme_clients.json (tests/fixtures/, shared with Rust and Python).
mkdirSync(join(scratch, 'fixtures'));
copyFileSync(join(here, '..', 'fixtures', 'readme_clients.json'), join(scratch, 'fixtures', 'readme_clients.json'));
// A format-1 bundle (tests/fixtures/bundle_v1/), which the package refuses with the conversion to run.
copyFileSync(join(here, '..', 'fixtures', 'bundle_v1', 'default.csb'), join(scratch, 'fixtures', 'default_v1.csb'));
mkdirSync(join(testDir, 'types'));
for (const f of readdirSync(join(here, 'types'))) {
  copyFileSync(join(here, 'types', f), join(testDir, 'types', f));
}
const result = spawnSync(process.execPath, ['--test', ...testFiles.map((f) => join(testDir, f))], {
  cwd: scratch,
  stdio: 'inherit',
  env: { ...process.env, CREDITSCORE_CASES: casesFile },
});
if (!existsSync(casesFile) || result.status !== 0) {
  process.exit(result.status ?? 1);
}
