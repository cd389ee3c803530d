// `creditscore logs pull` (native CLI, target/release/creditscore from `make build`) against the
// worker in workerd: downloads /logs into a JSONL file; token errors are reported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { README_RECORD, ROOT, TOKEN, pool, predict, readLogs, startWorker } from './harness.mjs';

const CLI = path.join(ROOT, 'target', 'release', 'creditscore');

test('logs pull writes the newest records as JSONL; wrong token fails', async () => {
  assert.ok(existsSync(CLI), `${CLI} is missing: run \`make build\``);
  const { base, stop } = await startWorker({ store: 'r2' });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'creditscore-pull-'));
  try {
    await pool(Array.from({ length: 30 }, (_, i) => () => predict(base, [README_RECORD, { ...README_RECORD, SK_ID_CURR: i }])), 10);
    await readLogs(base, { atLeast: 60 });
    const out = path.join(dir, 'logs.jsonl');
    const run = (...args) => spawnSync(CLI, ['logs', 'pull', '--url', base, ...args], { encoding: 'utf8', env: { ...process.env, LOGS_ACCESS_TOKEN: '' } });

    const ok = run('--token', TOKEN, '--out', out);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stderr, /60 log records written/);
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 60);
    assert.ok(lines.every((l) => l.endpoint === '/predict' && typeof l.probability === 'number'));

    const tail = run('--token', TOKEN, '--out', out, '--tail', '5');
    assert.equal(tail.status, 0, tail.stderr);
    assert.equal(readFileSync(out, 'utf8').trim().split('\n').length, 5);

    const wrong = run('--token', 'nope', '--out', path.join(dir, 'x.jsonl'));
    assert.notEqual(wrong.status, 0);
    assert.match(wrong.stderr, /HTTP 403/);
    assert.ok(!existsSync(path.join(dir, 'x.jsonl')), 'nothing written on failure');
    assert.ok(!existsSync(path.join(dir, 'x.jsonl.partial')), 'no empty .partial left on a failed first page');
    assert.ok(!existsSync(path.join(dir, 'x.jsonl.pull-state')), 'no .pull-state left on a failed first page');

    // --since/--until take what `drift` takes: a date is its midnight UTC.
    const day = (offset) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
    const byDate = path.join(dir, 'by-date.jsonl');
    const dated = run('--token', TOKEN, '--out', byDate, '--since', day(-1), '--until', day(1));
    assert.equal(dated.status, 0, dated.stderr);
    assert.equal(readFileSync(byDate, 'utf8').trim().split('\n').length, 60);
    const bad = run('--token', TOKEN, '--out', byDate, '--since', 'yesterday');
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, /not an RFC 3339 time or a date/);
  } finally {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
