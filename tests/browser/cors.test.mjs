// CORS in a real browser: a page served from a second local origin calls the worker (in workerd,
// through Miniflare) with fetch(), as a browser app on another origin would. Chromium sends the
// preflight itself and enforces the answer, so this checks what docs/API.md promises: the allowed
// origin (CORS_ALLOW_ORIGINS) can score and read X-Request-Id; another origin is blocked; /logs is
// never reachable from a page, even with the token.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { chromium } from 'playwright-core';

import { README_RECORD, TOKEN, startWorker } from '../worker/harness.mjs';
import { serveStatic } from './server.mjs';

let browser;
let worker;
let app;
let other;

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cors-app-'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>lender app</title><p>app</p>');
  app = await serveStatic(dir);
  other = await serveStatic(dir);
  const appOrigin = `http://127.0.0.1:${app.address().port}`;
  worker = await startWorker({
    store: 'r2',
    vars: { LOGS_ACCESS_TOKEN: TOKEN, LOG_HASH_KEY: 'k', CORS_ALLOW_ORIGINS: appOrigin },
  });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
});

after(async () => {
  await browser?.close();
  await worker?.stop();
  app?.close();
  other?.close();
});

/** Opens a page on `server`'s origin and runs fetch(url, init) there; returns what the page saw. */
async function fetchFrom(server, url, init) {
  const page = await browser.newPage();
  try {
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    return await page.evaluate(
      async ({ url, init }) => {
        try {
          const r = await fetch(url, init);
          return { ok: true, status: r.status, requestId: r.headers.get('x-request-id'), body: await r.json() };
        } catch (e) {
          return { ok: false, error: String(e) };
        }
      },
      { url, init },
    );
  } finally {
    await page.close();
  }
}

const predictInit = {
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({ data: { ...README_RECORD, CODE_GENDER: 'male', FLAG_OWN_CAR: false } }),
};

test('a page on the allowed origin scores a client (preflighted POST) and reads X-Request-Id', async () => {
  const r = await fetchFrom(app, `${worker.base}/predict`, predictInit);
  assert.equal(r.ok, true, r.error);
  assert.equal(r.status, 200);
  const p = r.body.predictions[0];
  assert.ok(p.probability > 0 && p.probability < 1);
  assert.equal(r.requestId, r.body.request_id, 'X-Request-Id is exposed to the page');
  const f = await fetchFrom(app, `${worker.base}/features`, {});
  assert.equal(f.status, 200);
  assert.ok(f.body.required_features.includes('EXT_SOURCE_2'));
});

test('a page on another origin is blocked by the browser', async () => {
  const r = await fetchFrom(other, `${worker.base}/predict`, predictInit);
  assert.equal(r.ok, false);
  assert.match(r.error, /Failed to fetch/);
});

test('/logs is never reachable from a page, even on the allowed origin with the token', async () => {
  const r = await fetchFrom(app, `${worker.base}/logs?tail=5`, { headers: { 'X-Logs-Token': TOKEN } });
  assert.equal(r.ok, false);
});
