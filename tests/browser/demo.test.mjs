// The demo page in headless Debian Chromium (playwright-core): the pre-filled example client's
// probability equals the native CLI's bit for bit, typing rescores client-side, invalid values
// are shown next to their field, the threshold slider moves the decision, the page fits a phone
// and works offline once loaded. Screenshots go to $CREDITSCORE_OUT.
//
// Env: CREDITSCORE_CLI (native binary), CREDITSCORE_MODEL (the bundle the page loads),
// CREDITSCORE_OUT (output folder). Needs `make www-assets` first (mk/npm.mk: make test-browser).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import { SEED_CLIENT } from '../npm/fixtures.mjs';
import { serveStatic } from './server.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const www = resolve(here, '..', '..', 'www');
const { CREDITSCORE_CLI: cli, CREDITSCORE_MODEL: model, CREDITSCORE_OUT: out } = process.env;
assert.ok(cli && model && out, 'set CREDITSCORE_CLI, CREDITSCORE_MODEL and CREDITSCORE_OUT');
mkdirSync(out, { recursive: true });

/** The native CLI's JSONL output line for each record. */
function cliPredictions(records, extraArgs = []) {
  const input = join(out, 'records.jsonl');
  const output = join(out, 'cli.jsonl');
  writeFileSync(input, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  execFileSync(cli, ['predict', '--bundle', model, '--input', input, '--out', output, ...extraArgs]);
  return readFileSync(output, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
}

/** The native CLI's probability for each record. */
function cliProbabilities(records) {
  return cliPredictions(records).map((p) => p.probability);
}

let server;
let browser;
let context;
let page;
let url;
const pageErrors = [];
const CHANGED = { ...SEED_CLIENT, EXT_SOURCE_3: 0.2 };
let expected;

before(async () => {
  const [seed, changed] = cliProbabilities([SEED_CLIENT, CHANGED]);
  expected = { seed, changed };
  assert.notEqual(seed, changed);
  server = await serveStatic(www);
  url = `http://127.0.0.1:${server.address().port}/`;
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking'],
  });
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && pageErrors.push(m.text()));
  await page.goto(url);
  await page.waitForSelector('body[data-state="ready"]', { timeout: 30_000 });
});

after(async () => {
  await browser?.close();
  server?.close();
});

const probability = async () => Number(await page.getAttribute('#probability', 'data-value'));

test("the example client's probability equals the native CLI's", async () => {
  assert.equal(await page.inputValue('#f-SK_ID_CURR'), '100002');
  assert.equal(await page.inputValue('#f-EXT_SOURCE_2'), '0.61');
  assert.ok(Object.is(await probability(), expected.seed), `page ${await probability()}, CLI ${expected.seed}`);
  const shown = await page.textContent('#probability');
  assert.equal(shown, `${(expected.seed * 100).toFixed(1)} %`);
  assert.ok((await page.locator('#chart svg rect.bar').count()) >= 5, 'contribution bars are drawn');
  await page.screenshot({ path: join(out, 'demo-desktop.png'), fullPage: true });
});

test('typing rescores in the page, without any request', async () => {
  const requests = [];
  const onRequest = (r) => requests.push(r.url());
  page.on('request', onRequest);
  await page.fill('#f-EXT_SOURCE_3', '0.2');
  await page.waitForFunction((before) => document.querySelector('#probability').dataset.value !== before, String(expected.seed));
  assert.ok(Object.is(await probability(), expected.changed), `page ${await probability()}, CLI ${expected.changed}`);
  await page.fill('#f-EXT_SOURCE_3', '0.75');
  await page.waitForFunction((want) => document.querySelector('#probability').dataset.value === want, String(expected.seed));
  page.off('request', onRequest);
  assert.deepEqual(requests, []);
});

test('an invalid value is shown next to its field, and clears when fixed', async () => {
  await page.fill('#f-EXT_SOURCE_2', '1.5');
  const error = page.locator('#f-EXT_SOURCE_2-error');
  await error.waitFor({ state: 'visible' });
  assert.match(await error.textContent(), /physically impossible.*\[0, 1\]/);
  assert.equal(await page.getAttribute('#f-EXT_SOURCE_2', 'aria-invalid'), 'true');
  assert.equal(await page.getAttribute('body', 'data-scored'), 'invalid');
  assert.match(await page.textContent('#status'), /1 field to fix/);
  await page.screenshot({ path: join(out, 'demo-invalid.png'), fullPage: true });

  await page.fill('#f-EXT_SOURCE_2', 'abc');
  await page.waitForFunction(() => document.querySelector('#f-EXT_SOURCE_2-error').textContent.includes('abc'));
  assert.match(await error.textContent(), /“abc” is not a number/);

  await page.fill('#f-DAYS_BIRTH', '');
  await page.locator('#f-DAYS_BIRTH-error').waitFor({ state: 'visible' });
  assert.match(await page.textContent('#f-DAYS_BIRTH-error'), /required field is missing/i);

  await page.fill('#f-EXT_SOURCE_2', '0.61');
  await page.fill('#f-DAYS_BIRTH', '-9461');
  await page.waitForSelector('body[data-scored="valid"]');
  assert.equal(await error.textContent(), '');
  assert.equal(await page.getAttribute('#f-EXT_SOURCE_2', 'aria-invalid'), null);
  assert.ok(Object.is(await probability(), expected.seed));
});

test('the threshold slider moves the decision', async () => {
  const modelThreshold = await page.evaluate(() => Number(document.querySelector('#threshold').value));
  await page.fill('#threshold', '0');
  await page.waitForSelector('#decision[data-prediction="1"]');
  assert.match(await page.textContent('#decision'), /Refuse/);
  await page.fill('#threshold', '1');
  await page.waitForSelector('#decision[data-prediction="0"]');
  assert.match(await page.textContent('#decision'), /Accept/);
  await page.click('#threshold-reset');
  const decision = expected.seed >= modelThreshold ? '1' : '0';
  await page.waitForSelector(`#decision[data-prediction="${decision}"]`);
});

test("score points and a refusal's reason codes equal the native CLI's", async () => {
  const [cliSeed] = cliPredictions([SEED_CLIENT], ['--threshold', '0', '--reasons', '4']);
  assert.ok(Object.is(Number(await page.getAttribute('#score', 'data-value')), cliSeed.score));
  assert.equal(await page.textContent('#score'), `${Math.round(cliSeed.score)} points`);
  if ((await page.getAttribute('#decision', 'data-prediction')) === '0') {
    assert.ok(await page.isHidden('#reasons-box'), 'an accepted client shows no reasons');
  }
  await page.fill('#threshold', '0');
  await page.waitForSelector('#decision[data-prediction="1"]');
  await page.locator('#reasons-box').waitFor({ state: 'visible' });
  const shown = await page.$$eval('#reasons li', (items) => items.map((li) => [li.dataset.code, li.textContent]));
  assert.equal(shown.length, 4);
  assert.deepEqual(
    shown.map(([code]) => code),
    cliSeed.reasons.map((r) => r.code),
  );
  for (const [i, [, text]] of shown.entries()) assert.ok(text.startsWith(cliSeed.reasons[i].sentence), text);
  await page.screenshot({ path: join(out, 'demo-reasons.png'), fullPage: true });
  await page.click('#threshold-reset');
});

test('every control has a label, and the page fits a phone screen', async () => {
  const unlabelled = await page.evaluate(() =>
    [...document.querySelectorAll('input, select')].filter((el) => el.labels.length === 0).map((el) => el.id),
  );
  assert.deepEqual(unlabelled, []);
  await page.setViewportSize({ width: 375, height: 812 });
  await page.waitForTimeout(200);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than a phone`);
  await page.click('#optional summary');
  await page.screenshot({ path: join(out, 'demo-phone.png'), fullPage: true });
  await page.click('#optional summary');
  await page.setViewportSize({ width: 1280, height: 900 });
});

test('works offline once loaded', async () => {
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.reload();
  await page.waitForSelector('body[data-state="ready"]');
  await context.setOffline(true);
  try {
    await page.reload();
    await page.waitForSelector('body[data-state="ready"]', { timeout: 15_000 });
    assert.ok(Object.is(await probability(), expected.seed));
  } finally {
    await context.setOffline(false);
  }
});

test('no errors in the console', () => {
  assert.deepEqual(pageErrors, []);
});
