// Subscribes to Herald's live events over GraphQL with the real `graphql-ws` client, and
// prints each event received as a JSON line. Usage:
//   node graphql-subscribe.mjs <herald url> <admin key> <count> [variables JSON]
// Prints `{"ready":true}` once the subscription is acknowledged (the Rust test then sends
// events), then one line per event, then exits after <count> events (or 20 s).
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [url, key, countText, variablesText] = process.argv.slice(2);
const count = Number(countText);
const variables = variablesText ? JSON.parse(variablesText) : {};
const client = createClient({
  url: url.replace(/^http/, 'ws') + '/graphql',
  webSocketImpl: WebSocket,
  connectionParams: { authorization: `Bearer ${key}` },
  lazy: false,
  retryAttempts: 0,
  on: {
    connected: () => console.log(JSON.stringify({ connected: true })),
    closed: (event) => console.log(JSON.stringify({ closed: event.code, reason: event.reason })),
  },
});
const timer = setTimeout(() => {
  console.log(JSON.stringify({ timeout: true }));
  process.exit(2);
}, 20000);
const query = `subscription Live($type: String, $event: String, $identifier: String) {
  events(type: $type, event: $event, identifier: $identifier) { seq type event userId messageId json }
}`;
let received = 0;
const subscription = client.iterate({ query, variables });
// graphql-ws has no "subscribed" acknowledgement: the first `next` proves it; the test
// sends a probe event until one arrives, so `ready` comes once the client is connected.
console.log(JSON.stringify({ ready: true }));
try {
  for await (const result of subscription) {
    if (result.errors) {
      console.log(JSON.stringify({ errors: result.errors }));
      process.exit(1);
    }
    console.log(JSON.stringify(result.data.events));
    received += 1;
    if (received >= count) break;
  }
} catch (error) {
  console.log(JSON.stringify({ error: String(error?.reason ?? error?.message ?? error) }));
  process.exit(1);
}
clearTimeout(timer);
await client.dispose();
process.exit(0);
