/// <reference types="vitest/config" />
// The dashboard's build (embedded by crates/herald-web) and its dev server, which proxies the
// API paths to a running Herald: HERALD_URL, default http://127.0.0.1:8080 (`herald serve`).
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const herald = process.env.HERALD_URL ?? 'http://127.0.0.1:8080';
const proxied = ['/api', '/v1', '/metrics', '/healthz', '/openapi.json'];

export default defineConfig({
  plugins: [react()],
  build: { target: 'es2022', sourcemap: false, chunkSizeWarningLimit: 700 },
  server: {
    proxy: {
      // The Host header is kept: Herald accepts a GraphQL WebSocket only from a page whose
      // Origin matches the Host it was sent to.
      ...Object.fromEntries(proxied.map((path) => [path, { target: herald }])),
      '/graphql': { target: herald, ws: true },
    },
  },
  test: { environment: 'node', include: ['src/**/*.test.ts'] },
});
