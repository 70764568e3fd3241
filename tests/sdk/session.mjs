// Replay a realistic customer session through an unmodified Node SDK.
//
// Usage: node session.mjs segment|rudder HOST WRITE_KEY PREFIX
//
// Prints one JSON line: {"sdk": ..., "sent": N, "errors": [...]}; exits non-zero if the SDK
// reported any delivery error. The Rust test `crates/herald/tests/sdks.rs` asserts the resulting
// profile through Herald's admin API.

const [sdk, host, writeKey, prefix] = process.argv.slice(2);
const errors = [];
let sent = 0;

async function makeClient() {
  if (sdk === 'segment') {
    const { Analytics } = await import('@segment/analytics-node');
    const analytics = new Analytics({ writeKey, host, flushAt: 100, flushInterval: 200, maxRetries: 1 });
    analytics.on('error', (err) => errors.push(String(err && (err.reason || err.message || err.code) || err)));
    const call = (method, message) =>
      new Promise((resolve) => {
        analytics[method](message, (err) => {
          if (err) errors.push(`${method}: ${err.reason || err.message || err}`);
          resolve();
        });
      });
    return { call, close: () => analytics.closeAndFlush({ timeout: 10000 }), pending: [] };
  }
  if (sdk === 'rudder') {
    const { default: Analytics } = await import('@rudderstack/rudder-sdk-node');
    const analytics = new Analytics(writeKey, {
      dataPlaneUrl: host,
      flushAt: 100,
      flushInterval: 200,
      retryCount: 0,
      gzip: true,
      logLevel: 'error',
      errorHandler: (err) => errors.push(String(err && err.message || err)),
    });
    const call = (method, message) => {
      analytics[method](message);
      return Promise.resolve();
    };
    return { call, close: () => analytics.flush() };
  }
  throw new Error(`unknown sdk ${sdk}`);
}

const client = await makeClient();
const user = `${prefix}-user`;
const laptop = `${prefix}-anon-laptop`;
const phone = `${prefix}-anon-phone`;
const account = `${prefix}-acme`;
const web = { timezone: 'Europe/Lisbon', locale: 'pt-PT', page: { path: '/' } };
const start = Date.now() - 10 * 60 * 1000;
const at = (minute) => new Date(start + minute * 60 * 1000);

const calls = [
  // Anonymous browsing on the laptop.
  ['page', { anonymousId: laptop, name: 'Home', properties: { path: '/' }, context: web, timestamp: at(0) }],
  ['page', { anonymousId: laptop, name: 'Pricing', properties: { path: '/pricing' }, context: web, timestamp: at(1) }],
  ['track', { anonymousId: laptop, event: 'Plan Viewed', properties: { plan: 'pro' }, context: web, timestamp: at(2) }],
  // Sign-up: identify ties the laptop to the user.
  ['identify', {
    userId: user, anonymousId: laptop, context: web, timestamp: at(3),
    traits: { email: `${prefix}@example.com`, name: 'Ana Silva', plan: 'trial' },
  }],
  ['track', { userId: user, event: 'Signed Up', properties: { source: 'pricing' }, context: web, timestamp: at(4) }],
  ['group', { userId: user, groupId: account, traits: { name: 'Acme Lda', employees: 42 }, context: web, timestamp: at(5) }],
  ['identify', { userId: user, traits: { plan: 'pro' }, context: web, timestamp: at(6) }],
  // Later, on the phone, still anonymous; then the app aliases the device to the user.
  ['screen', { anonymousId: phone, name: 'Dashboard', properties: { tab: 'home' }, timestamp: at(7) }],
  ['alias', { previousId: phone, userId: user, timestamp: at(8) }],
  ['track', { userId: user, event: 'Order Completed', properties: { revenue: 49.9, currency: 'EUR' }, timestamp: at(9) }],
];

const pending = [];
for (const [method, message] of calls) {
  pending.push(client.call(method, message));
  sent += 1;
}
try {
  await client.close();
} catch (err) {
  errors.push(String(err && err.message || err));
}
await Promise.all(pending);
console.log(JSON.stringify({ sdk, sent, errors }));
process.exit(errors.length ? 1 : 0);
