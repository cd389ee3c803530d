// `make bench-logs`: the two log paths side by side, in workerd (Miniflare) on this machine.
// Prints /predict p50/p99 with the queue path vs the direct path (1,000 one-record requests, 16 in
// flight), R2 objects written per 1,000 predictions on each path, and records/s pulled by
// `creditscore logs pull` (20,000 records: 200 requests of 100).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { README_RECORD, ROOT, TOKEN, countLogObjects, pool, predict, startWorker, waitForRecords } from './harness.mjs';

const CLI = path.join(ROOT, 'target', 'release', 'creditscore');
const pct = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

async function run(queue) {
  const { base, mf, stop } = await startWorker({ store: 'r2', queue });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'creditscore-bench-logs-'));
  try {
    const since = new Date(Date.now() - 1000).toISOString();
    await pool(Array.from({ length: 50 }, (_, i) => () => predict(base, { ...README_RECORD, SK_ID_CURR: i })), 16); // warm-up
    const times = [];
    await pool(
      Array.from({ length: 1000 }, (_, i) => async () => {
        const t = performance.now();
        const r = await predict(base, { ...README_RECORD, SK_ID_CURR: 1000 + i });
        times.push(performance.now() - t);
        if (r.status !== 200) throw new Error(r.text);
      }),
      16,
    );
    await waitForRecords(base, 1050, { since });
    const objects = await countLogObjects(mf);
    await pool(
      Array.from({ length: 200 }, (_, i) => () =>
        predict(base, Array.from({ length: 100 }, (_, j) => ({ ...README_RECORD, SK_ID_CURR: 10000 + i * 100 + j })))),
      16,
    );
    const total = 1050 + 20000;
    await waitForRecords(base, total, { since });
    const out = path.join(dir, 'pulled.jsonl');
    const t = performance.now();
    const pulled = spawnSync(CLI, ['logs', 'pull', '--url', base, '--token', TOKEN, '--since', since, '--out', out], { encoding: 'utf8' });
    const secs = (performance.now() - t) / 1000;
    if (pulled.status !== 0) throw new Error(pulled.stderr);
    times.sort((a, b) => a - b);
    return { p50: pct(times, 0.5), p99: pct(times, 0.99), objectsPer1000: (objects * 1000) / 1050, pullRate: total / secs, total, secs };
  } finally {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// The machine may be shared: the load average goes with the numbers.
const load = () => os.loadavg().map((l) => l.toFixed(2)).join(', ');
console.log(`${new Date().toISOString()} ${os.cpus().length} CPUs, load average before: ${load()}`);
const direct = await run(false);
const queued = await run(true);
for (const [name, r] of [['direct', direct], ['queue', queued]]) {
  console.log(
    `${name.padEnd(6)} path: /predict p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms (1,000 one-record requests, 16 in flight); ` +
      `R2 objects per 1,000 one-record predictions: ${r.objectsPer1000.toFixed(1)}; ` +
      `logs pull: ${r.total} records in ${r.secs.toFixed(2)} s = ${Math.round(r.pullRate)} records/s`,
  );
}
console.log(
  `queue vs direct: p50 x${(queued.p50 / direct.p50).toFixed(2)}, p99 x${(queued.p99 / direct.p99).toFixed(2)}, ` +
    `R2 objects x${(queued.objectsPer1000 / direct.objectsPer1000).toFixed(3)}`,
);
console.log(`load average after: ${load()}`);
