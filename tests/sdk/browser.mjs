// Real browser SDKs, unmodified, in headless Chromium, on a page of ANOTHER origin than Herald.
//
// Usage: node browser.mjs HERALD_URL WRITE_KEY PREFIX
//
// A small static server (a free port on `localhost`, so the page's origin differs from Herald's
// `127.0.0.1:<port>`) serves the SDKs' own npm build files from node_modules; each scenario
// loads one the way its docs tell self-hosters to (analytics.js: `cdnURL`; RudderStack:
// `configUrl` + `dataPlaneUrl`), sends a session, and leaves the page so the SDK's unload path
// (keepalive fetch, sendBeacon) runs. A wrong write key must be reported by each SDK.
//
// Prints one JSON line: {"scenarios": {name: {"responses": [...], "errors": [...], ...}}}, then
// keeps the browser open until its standard input closes: what a page sends as it is left
// (keepalive fetch, sendBeacon) is still on its way when the scenario ends, and closing the
// browser would abort it. The Rust test `crates/herald/tests/browser.rs` asserts what arrived
// through the admin API, then closes our input. Every wait has a deadline; nothing sleeps a
// fixed time.

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const [herald, writeKey, prefix] = process.argv.slice(2);
const here = path.dirname(fileURLToPath(import.meta.url));
const DEADLINE_MS = 20000;

const files = {
  '/vendor/analytics-next.js': 'node_modules/@segment/analytics-next/dist/umd/index.js',
  '/vendor/rudder-analytics.js':
    'node_modules/@rudderstack/analytics-js/dist/npm/modern/bundled/umd/index.js',
};
const pages = {
  '/segment.html': '/vendor/analytics-next.js',
  '/rudder.html': '/vendor/rudder-analytics.js',
  '/plain.html': null,
};

const site = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  if (files[url.pathname]) {
    res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8' });
    fs.createReadStream(path.join(here, files[url.pathname])).pipe(res);
  } else if (url.pathname in pages) {
    const script = pages[url.pathname];
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html><head><meta charset="utf-8"><title>Shop</title>
${script ? `<script src="${script}"></script>` : ''}</head><body><h1>Shop</h1></body></html>`);
  } else {
    res.writeHead(404);
    res.end();
  }
});
await new Promise((resolve) => site.listen(0, '127.0.0.1', resolve));
const origin = `http://localhost:${site.address().port}`;

const browser = await chromium.launch({
  executablePath: process.env.HERALD_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});

const report = { origin, scenarios: {} };

/// A fresh browser profile for one scenario, recording every answer Herald gave the page, the
/// requests that failed, and the page's console errors.
async function scenario(name, run) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const out = { responses: [], failed: [], console: [], errors: [] };
  report.scenarios[name] = out;
  page.on('response', (r) => {
    if (r.url().startsWith(herald)) {
      const u = new URL(r.url());
      const headers = r.headers();
      out.responses.push({
        method: r.request().method(),
        path: u.pathname,
        query: u.search,
        status: r.status(),
        cors: headers['access-control-allow-origin'] ?? null,
      });
    }
  });
  page.on('requestfailed', (r) => {
    if (r.url().startsWith(herald)) out.failed.push(`${r.method()} ${r.url()}: ${r.failure()?.errorText}`);
  });
  page.on('console', (m) => {
    if (m.type() === 'error') out.console.push(m.text());
  });
  page.on('pageerror', (e) => out.errors.push(`page error: ${e.message}`));
  try {
    await run(page, out);
  } catch (err) {
    out.errors.push(String((err && err.stack) || err));
  }
  // The context stays open (see the top): the browser is closed once the test has read.
}

/// Wait until `count` answers from Herald match `pred` (deadline: DEADLINE_MS).
async function answers(out, count, pred, what) {
  const start = Date.now();
  for (;;) {
    const found = out.responses.filter(pred);
    if (found.length >= count) return found;
    if (Date.now() - start > DEADLINE_MS) {
      throw new Error(`timed out waiting for ${count} x ${what}; got ${JSON.stringify(out.responses)}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

const posts = (p) => (r) => r.method === 'POST' && r.path === p;

// analytics.js (analytics-next), standard delivery: one request per event to the short forms,
// the first attempt of the track answered 503 (after Herald stored it) so the SDK retries it
// with the same messageId. Then, on a second page view, batching mode and leaving the page: the
// batch goes out on unload with `keepalive`.
await scenario('segment', async (page, out) => {
  const user = `${prefix}-seg-user`;
  let failedOnce = false;
  await page.route(`${herald}/v1/t`, async (route) => {
    const response = await route.fetch();
    if (!failedOnce && route.request().method() === 'POST') {
      failedOnce = true;
      await route.fulfill({ response, status: 503 });
    } else {
      await route.fulfill({ response });
    }
  });
  await page.goto(`${origin}/segment.html`);
  await page.evaluate(
    async ({ herald, writeKey, user }) => {
      const [analytics] = await window.AnalyticsNext.AnalyticsBrowser.load(
        { writeKey, cdnURL: herald },
        { integrations: { 'Segment.io': { httpConfig: { backoffConfig: { baseBackoffInterval: 100 } } } } },
      );
      window.heraldAnalytics = analytics;
      await analytics.page('Docs', 'Home', { path: '/' });
      await analytics.track('Plan Viewed', { plan: 'pro' }, {
        context: { consent: { categoryPreferences: { analytics: true, advertising: false } } },
      });
      await analytics.identify(user, { email: `${user}@example.com`, plan: 'trial' });
    },
    { herald, writeKey, user },
  );
  await answers(out, 1, posts('/v1/p'), 'page');
  await answers(out, 1, posts('/v1/i'), 'identify');
  await answers(out, 2, posts('/v1/t'), 'track and its retry');

  await page.unroute(`${herald}/v1/t`);
  await page.goto(`${origin}/segment.html?second`);
  await page.evaluate(
    async ({ herald, writeKey }) => {
      const [analytics] = await window.AnalyticsNext.AnalyticsBrowser.load(
        { writeKey, cdnURL: herald },
        {
          integrations: {
            'Segment.io': { deliveryStrategy: { strategy: 'batching', config: { size: 100, timeout: 600000 } } },
          },
        },
      );
      // Buffered until the page is left (size and timeout are far away).
      analytics.page('Shop', 'Checkout');
      analytics.track('Checkout Started', { items: 2 });
    },
    { herald, writeKey },
  );
  await page.goto('about:blank');
});

await scenario('segment-wrong-key', async (page, out) => {
  await page.goto(`${origin}/segment.html`);
  out.loadError = await page.evaluate(async ({ herald }) => {
    try {
      await window.AnalyticsNext.AnalyticsBrowser.load({ writeKey: 'hwk_wrong', cdnURL: herald });
      return null;
    } catch (err) {
      return String((err && err.message) || err);
    }
  }, { herald });
});

// RudderStack JS SDK v3 (the bundled npm build: no plugins from its CDN): batches over XHR to
// /v1/batch; then with `useBeacon`, the batch leaves with sendBeacon when the page is left.
const rudderLoad = async (page, options) =>
  page.evaluate(
    async ({ herald, writeKey, options }) => {
      const analytics = new window.rudderanalytics.RudderAnalytics();
      window.heraldAnalytics = analytics;
      await new Promise((resolve, reject) => {
        setTimeout(() => reject(new Error('onLoaded was not called')), 15000);
        analytics.load(writeKey, herald, {
          configUrl: herald,
          logLevel: 'ERROR',
          ...options,
          onLoaded: () => resolve(),
        });
      });
    },
    { herald, writeKey, options },
  );

await scenario('rudder', async (page, out) => {
  const user = `${prefix}-rudder-user`;
  await page.goto(`${origin}/rudder.html`);
  await rudderLoad(page, { queueOptions: { batch: { enabled: true, maxItems: 3, flushInterval: 60000 } } });
  await page.evaluate(({ user }) => {
    const a = window.heraldAnalytics;
    a.page('Docs', 'Home', { path: '/' });
    a.track('Plan Viewed', { plan: 'pro' });
    a.identify(user, { email: `${user}@example.com`, plan: 'trial' });
  }, { user });
  await answers(out, 1, (r) => posts('/v1/batch')(r) && r.status === 200, 'a batch');

  await page.goto(`${origin}/rudder.html?second`);
  await rudderLoad(page, { useBeacon: true });
  await page.evaluate(() => {
    const a = window.heraldAnalytics;
    a.page('Shop', 'Checkout');
    a.track('Checkout Started', { items: 2 });
  });
  await page.goto('about:blank');
});

await scenario('rudder-wrong-key', async (page, out) => {
  await page.goto(`${origin}/rudder.html`);
  out.loadError = await page
    .evaluate(async ({ herald }) => {
      const analytics = new window.rudderanalytics.RudderAnalytics();
      analytics.load('hwk_wrong', herald, { configUrl: herald, logLevel: 'ERROR' });
    }, { herald })
    .then(() => null);
  await answers(out, 1, (r) => r.method === 'GET' && r.path.startsWith('/sourceConfig'), 'source config');
  // The SDK logs its failure to the console.
  const start = Date.now();
  while (!out.console.some((m) => m.includes('source config')) && Date.now() - start < DEADLINE_MS) {
    await new Promise((r) => setTimeout(r, 25));
  }
});

// What a hand-written page sends on unload: `navigator.sendBeacon` (a text/plain body, the
// write key in it, no headers) and a keepalive fetch of the same message (a retry: one event).
await scenario('beacon', async (page) => {
  await page.goto(`${origin}/plain.html`);
  await page.evaluate(({ herald, writeKey, prefix }) => {
    const message = {
      writeKey,
      anonymousId: `${prefix}-beacon-anon`,
      event: 'Page Left',
      messageId: `${prefix}-beacon-1`,
      properties: { seconds: 42 },
      context: { consent: { categoryPreferences: { analytics: true } } },
    };
    addEventListener('pagehide', () => {
      navigator.sendBeacon(`${herald}/v1/t`, JSON.stringify(message));
      fetch(`${herald}/v1/t`, {
        method: 'POST', keepalive: true, body: JSON.stringify(message),
        headers: { 'Content-Type': 'text/plain' },
      });
    });
  }, { herald, writeKey, prefix });
  await page.goto('about:blank');
});

console.log(JSON.stringify(report));
process.stdin.resume();
await new Promise((resolve) => process.stdin.on('end', resolve).on('close', resolve));
await browser.close();
site.close();
