// The API against its own OpenAPI document: schemathesis (pinned in requirements.txt) generates
// valid and invalid requests from GET /openapi.json and runs every check (`--checks all`: status
// codes and response schemas as documented, negative data rejected, unsupported methods 405,
// auth enforced, no 5xx) against the built worker in workerd. Bounded examples per operation
// keep the run short; deterministic generation makes a failure reproducible.
//
//   node tests/worker/schemathesis.mjs [--examples N]     (make test-schemathesis)
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ROOT, TOKEN, startWorker } from './harness.mjs';

const examples = process.argv.includes('--examples') ? process.argv[process.argv.indexOf('--examples') + 1] : '40';
const bin = path.join(ROOT, '.venv', 'bin', 'schemathesis');
const worker = await startWorker({ store: 'r2' });
let status = 1;
try {
  const args = [
    '--config-file',
    path.join(ROOT, 'tests', 'worker', 'schemathesis.toml'),
    'run',
    `${worker.base}/openapi.json`,
    '--checks',
    'all',
    '--max-examples',
    examples,
    '--generation-deterministic',
    '--header',
    `X-Logs-Token: ${TOKEN}`,
    '--no-color',
  ];
  console.log(`schemathesis ${args.join(' ')}`);
  const run = spawnSync(bin, args, { stdio: 'inherit', env: { ...process.env, SCHEMATHESIS_HOOKS: '' } });
  status = run.status ?? 1;
} finally {
  await worker.stop();
}
process.exit(status);
