// What `make serve` runs (worker/serve.mjs: workerd through Miniflare with wrangler.toml's
// bindings) and what `make dev` runs (`wrangler dev`, with its [build] command), checked on a spare
// port: the demo page, the seed README request verbatim, and prediction logs kept on disk, read
// back by `wrangler dev` from the same state folder (restart, and one state for both commands).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ROOT, request } from './harness.mjs';

const WRANGLER = path.join(ROOT, 'node_modules', 'wrangler', 'bin', 'wrangler.js');
const TOKEN = 'serve-test-token';

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** `kind`: 'serve' (worker/serve.mjs, as `make serve`) or 'dev' (`wrangler dev`, as `make dev`). */
async function startServer(kind, stateDir) {
  const [port, inspector] = [await freePort(), await freePort()];
  const vars = ['--var', `LOGS_ACCESS_TOKEN:${TOKEN}`, '--var', 'LOG_HASH_KEY:serve-key'];
  const args =
    kind === 'serve'
      ? [path.join(ROOT, 'worker', 'serve.mjs'), '--port', String(port), '--persist-to', stateDir, ...vars]
      : [WRANGLER, 'dev', '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(inspector),
          '--persist-to', stateDir, ...vars];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: '1', CLOUDFLARE_CF_FETCH_ENABLED: 'false' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const base = `http://127.0.0.1:${port}`;
  // Generous: when sources changed since `make worker-build`, wrangler rebuilds first (wasm-opt is slow).
  const deadline = Date.now() + 600000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${kind} exited: ${output}`);
    try {
      const r = await request(base, '/health');
      if (r.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error(`${kind} not ready after 600 s: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', resolve);
      child.kill('SIGTERM');
    });
  return { base, stop };
}

test('make serve serves the demo page and the API; make dev reads its logs from disk after a restart', { timeout: 1500000 }, async () => {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'creditscore-serve-'));
  let server = await startServer('serve', stateDir);
  try {
    const page = await request(server.base, '/');
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type'), /text\/html/);
    assert.match(page.text, /creditscore/i);

    // The rest of the site, from the worker's ASSETS binding (no asset router in front under
    // `make serve`): files with their types, HEAD without a body, and the API's JSON 404 for a
    // path the site lacks.
    const css = await request(server.base, '/style.css');
    assert.equal(css.status, 200);
    assert.match(css.headers.get('content-type'), /text\/css/);
    const js = await request(server.base, '/app.js', { method: 'HEAD' });
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type'), /javascript/);
    assert.equal(js.text, '');
    const missing = await request(server.base, '/no-such-page');
    assert.equal(missing.status, 404);
    assert.equal(missing.json.error.code, 'not_found');
    const wrongMethod = await request(server.base, '/style.css', { method: 'POST', body: '{}' });
    assert.equal(wrongMethod.json.error.code, 'not_found');

    const health = await request(server.base, '/health');
    assert.equal(health.json.logs, 'r2');

    const script = path.join(ROOT, 'tests', 'worker', 'seed_examples.sh');
    const out = execFileSync('bash', ['-c', `source "${script}" && example_single`], {
      env: { ...process.env, BASE_URL: server.base },
      encoding: 'utf8',
    });
    const v = JSON.parse(out);
    assert.equal(v.predictions[0].sk_id_curr, 100002);

    const logsFor = async (base) => {
      for (let i = 0; i < 100; i++) {
        const r = await request(base, '/logs?tail=50', { headers: { Authorization: `Bearer ${TOKEN}` } });
        const mine = r.text.split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((l) => l.request_id === v.request_id);
        if (mine.length) return mine;
        await new Promise((res) => setTimeout(res, 100));
      }
      return [];
    };
    assert.equal((await logsFor(server.base)).length, 1);

    await server.stop();
    server = await startServer('dev', stateDir);
    const again = await logsFor(server.base);
    assert.equal(again.length, 1, 'the log record survived the restart (R2 state on disk, shared by serve and dev)');
  } finally {
    await server.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
});
