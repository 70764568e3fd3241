// The dashboard's first load in headless Chromium: gzip bytes fetched and time until the
// sign-in page is rendered, then time from "Sign in" to the rendered overview.
//
// Usage: node bench-dashboard.mjs HERALD_URL EMAIL PASSWORD RUNS
//
// Each run uses a fresh browser context (empty cache). Prints one JSON line:
// {"runs": [...], "median": {...}}. Run by scripts/bench-dashboard.sh.

import { chromium } from 'playwright-core';

const [herald, email, password, runsArg] = process.argv.slice(2);
const runs = Number(runsArg || 5);
const browser = await chromium.launch({
  executablePath: process.env.HERALD_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

async function once() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(20000);
  const assets = [];
  page.on('response', async (r) => {
    const url = new URL(r.url());
    if (url.pathname === '/' || url.pathname.startsWith('/assets/')) {
      const body = await r.body().catch(() => Buffer.alloc(0));
      const sizes = await r.request().sizes().catch(() => null);
      assets.push({
        path: url.pathname,
        encoding: r.headers()['content-encoding'] ?? 'identity',
        bytes: body.length,
        transferred: sizes ? sizes.responseBodySize : body.length,
      });
    }
  });
  const started = Date.now();
  await page.goto(`${herald}/`);
  await page.getByRole('heading', { name: 'Sign in to Herald' }).waitFor();
  const signInMs = Date.now() - started;
  const firstLoad = [...assets];
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  const clicked = Date.now();
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('Events stored').waitFor();
  const overviewMs = Date.now() - clicked;
  await context.close();
  return {
    signInMs,
    overviewMs,
    firstLoadFiles: firstLoad.length,
    firstLoadGzipBytes: firstLoad.reduce((n, a) => n + a.transferred, 0),
    firstLoadBytes: firstLoad.reduce((n, a) => n + a.bytes, 0),
    firstLoadAllGzip: firstLoad.every((a) => a.encoding === 'gzip' || a.path === '/'),
    overviewExtraGzipBytes: assets.slice(firstLoad.length).reduce((n, a) => n + a.transferred, 0),
  };
}

const results = [];
for (let i = 0; i < runs; i++) results.push(await once());
await browser.close();
const median = (key) => results.map((r) => r[key]).sort((a, b) => a - b)[Math.floor(results.length / 2)];
console.log(
  JSON.stringify({
    runs: results,
    median: Object.fromEntries(['signInMs', 'overviewMs', 'firstLoadGzipBytes', 'firstLoadBytes', 'overviewExtraGzipBytes'].map((k) => [k, median(k)])),
  }),
);
