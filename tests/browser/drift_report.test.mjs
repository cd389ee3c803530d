// The drift report in headless Debian Chromium (playwright-core), as a risk analyst opens it:
// plain-language reasons and overlaid histograms are there, p-values read as 0.97 (never
// 9.70e-1), and the page fits a 375 px phone without horizontal page scroll. Screenshots at
// 1280 px and 375 px go to $CREDITSCORE_OUT (gitignored tests/out/).
//
// Env: DRIFT_REPORT (a drift_report.html whose EXT_SOURCE_2 drifts, written by
// tests/drift/run_drift_test.py), CREDITSCORE_OUT (output folder). Run by `make test-drift`.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';

import { chromium } from 'playwright-core';

const { DRIFT_REPORT: report, CREDITSCORE_OUT: out } = process.env;
assert.ok(report && out, 'set DRIFT_REPORT and CREDITSCORE_OUT');
mkdirSync(out, { recursive: true });

let browser;
let page;

before(async () => {
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(pathToFileURL(report).href);
});

after(async () => {
  await browser?.close();
});

test('reasons in plain language, overlaid histograms, readable p-values', async () => {
  const reasons = await page.locator('p.reason').allTextContents();
  assert.ok(
    reasons.some((r) => /^The share of applicants with EXT_SOURCE_2 at or below [\d.]+ went from \d+ % to \d+ %\.$/.test(r)),
    `EXT_SOURCE_2 reason in words: ${reasons.join(' | ')}`,
  );
  assert.ok(
    reasons.some((r) => /AMT_CREDIT at or below [\d,]+ went from/.test(r)),
    `money in its unit (thousands separators): ${reasons.join(' | ')}`,
  );
  const histograms = await page.locator('svg.histogram').count();
  assert.ok(histograms >= 4, `an overlaid histogram per numeric input (${histograms})`);
  const bars = await page.locator('svg.histogram').first().locator('rect[fill-opacity]').count();
  assert.ok(bars >= 2 * 10, `reference and current bars overlaid (${bars})`);
  assert.ok((await page.locator('details svg[aria-label="cumulative distribution"]').count()) >= 4, 'ECDF kept');
  const text = await page.locator('body').innerText();
  assert.doesNotMatch(text, /\b\d\.\d+e-1\b/, 'p-values between 0.1 and 1 are not in e-notation');
  assert.match(text, /latency p50 \/ p99 \(ms\)/);
  assert.match(text, /Median score points: reference \d+, current \d+/);
  await page.screenshot({ path: join(out, 'drift_report_1280.png'), fullPage: true });
});

test('fits a 375 px phone without horizontal page scroll', async () => {
  await page.setViewportSize({ width: 375, height: 812 });
  await page.reload();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `horizontal overflow at 375 px: ${overflow} px`);
  await page.screenshot({ path: join(out, 'drift_report_375.png'), fullPage: true });
});
