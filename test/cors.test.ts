import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../api/app.js';
import { startStack, type Stack } from './helpers/stack.js';

// Browser preflights against the API under the default policy (its own origin and localhost dev servers) and
// under an allowlist (CORS_ORIGINS). A denied origin must get no Access-Control-Allow-Origin at all: that absence
// is what makes the browser withhold the answer.

let stack: Stack;
const servers: Server[] = [];
beforeAll(async () => {
  stack = await startStack({ noWorker: true });
}, 120_000);
afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
  await stack?.stop();
});

/** The stack's API again, under another CORS_ORIGINS. */
async function apiWith(corsOrigins: string[]): Promise<string> {
  const server = createServer(createApp({ ...stack.deps, settings: { ...stack.deps.settings, corsOrigins } }));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const preflight = (url: string, origin: string) =>
  fetch(`${url}/threads/search`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-api-key' },
  });

describe('CORS, default policy', () => {
  it('allows a localhost dev server, with credentials and the requested headers', async () => {
    const res = await preflight(stack.url, 'http://localhost:3000');
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:3000');
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    expect(res.headers.get('access-control-allow-headers')).toBe('content-type,x-api-key');
    expect(res.headers.get('vary')).toMatch(/origin/i);
  });

  it("allows the API's own origin", async () => {
    const origin = new URL(stack.url).origin;
    const res = await fetch(`${stack.url}/ok`, { headers: { origin } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(origin);
  });

  it('gives any other origin no CORS headers, on preflights and on requests', async () => {
    const pre = await preflight(stack.url, 'https://evil.example');
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
    expect(pre.headers.get('access-control-allow-credentials')).toBeNull();
    const res = await fetch(`${stack.url}/ok`, { headers: { origin: 'http://localhost.evil.example:3000' } });
    expect(res.status).toBe(200); // not a browser: it may read the answer, a browser page would not be given it
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('CORS, CORS_ORIGINS allowlist', () => {
  it('allows the listed origins only, and exposes the pagination headers to them', async () => {
    const url = await apiWith(['https://ui.example.com']);
    const allowed = await preflight(url, 'https://ui.example.com');
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://ui.example.com');
    const res = await fetch(`${url}/ok`, { headers: { origin: 'https://ui.example.com' } });
    expect(res.headers.get('access-control-allow-origin')).toBe('https://ui.example.com');
    expect(res.headers.get('access-control-expose-headers')).toContain('X-Pagination-Total');
    // The list replaces the localhost default.
    expect((await preflight(url, 'http://localhost:3000')).headers.get('access-control-allow-origin')).toBeNull();
  });

  it('`*` allows any origin', async () => {
    const url = await apiWith(['*']);
    const res = await preflight(url, 'https://anything.example');
    expect(res.headers.get('access-control-allow-origin')).toBe('https://anything.example');
  });
});
