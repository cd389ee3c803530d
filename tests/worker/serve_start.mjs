// Time from `make serve` (as a user types it) to the first 200 of GET /health and of GET / (the
// demo page), on a spare port with a scratch state folder. On a warm checkout nothing rebuilds,
// so this is the start-up a user waits for. Prints the numbers; exits 1 only if it never answers.
//
//   node tests/worker/serve_start.mjs [target=serve]      (target=dev times `make dev`)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './harness.mjs';

const target = process.argv[2] ?? 'serve';
const TIMEOUT_MS = 600000;

const port = await new Promise((resolve, reject) => {
  const srv = createServer();
  srv.once('error', reject);
  srv.listen(0, '127.0.0.1', () => {
    const { port: p } = srv.address();
    srv.close(() => resolve(p));
  });
});
const state = mkdtempSync(path.join(os.tmpdir(), 'creditscore-serve-start-'));
const base = `http://127.0.0.1:${port}`;

const t0 = performance.now();
// Own process group, so stopping it stops make, node and workerd together.
const child = spawn('make', ['-s', '--no-print-directory', target, `SERVE_PORT=${port}`], {
  cwd: ROOT,
  detached: true,
  stdio: ['ignore', 'pipe', 'pipe'],
  env: { ...process.env, WRANGLER_SEND_METRICS: 'false', SERVE_STATE: state },
});
let output = '';
child.stdout.on('data', (d) => (output += d));
child.stderr.on('data', (d) => (output += d));

async function firstOk(pathname) {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`make ${target} exited (${child.exitCode}):\n${output}`);
    if (performance.now() - t0 > TIMEOUT_MS) throw new Error(`no 200 from ${pathname} after ${TIMEOUT_MS} ms:\n${output}`);
    try {
      const res = await fetch(base + pathname);
      await res.arrayBuffer();
      if (res.status === 200) return performance.now() - t0;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

let code = 0;
try {
  const health = await firstOk('/health');
  const page = await firstOk('/');
  console.log(`make ${target}: first 200 of GET /health after ${(health / 1000).toFixed(2)} s, GET / after ${(page / 1000).toFixed(2)} s (target: within 3 s on a warm checkout)`);
  if (/cf\.json|workers\.cloudflare\.com|ENOTFOUND|EAI_AGAIN/i.test(output)) {
    console.log(`make ${target}: WARNING: network errors in its output:\n${output}`);
  }
} catch (e) {
  console.error(e.message);
  code = 1;
} finally {
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    // already gone
  }
  await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
  rmSync(state, { recursive: true, force: true });
}
process.exit(code);
