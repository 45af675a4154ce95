import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '@langchain/langgraph-sdk';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { builtinAuth, sha256Hex } from '../api/auth/builtin.js';
import { policies } from '../api/auth/policies.js';
import { isPublic } from '../api/auth/middleware.js';
import { startStack, type Stack } from './helpers/stack.js';

// The built-in authenticators: JWTs verified against a JWKS this test serves, and API keys kept only as SHA-256
// digests. Authorization is owner isolation plus the operator roles, and operator actions are audited.

let jwks: Server;
let stack: Stack;
let keys: Awaited<ReturnType<typeof generateKeyPair>>;
let keysFile = '';
const ISSUER = 'https://issuer.test';
const AUDIENCE = 'agent-runtime';

beforeAll(async () => {
  keys = await generateKeyPair('RS256');
  const jwk: JWK = { ...(await exportJWK(keys.publicKey)), kid: 'k1', alg: 'RS256' };
  jwks = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
  await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
  const dir = mkdtempSync(path.join(tmpdir(), 'auth-keys-'));
  keysFile = path.join(dir, 'keys.json');
  writeFileSync(
    keysFile,
    JSON.stringify({
      [sha256Hex('key-of-carol')]: { identity: 'carol', permissions: [] },
      [sha256Hex('key-of-support')]: { identity: 'support', permissions: ['threads:read:any'] },
      [sha256Hex('key-of-admin')]: { identity: 'root', permissions: ['admin'] },
    }),
  );
  const auth = builtinAuth({
    apiKeysFile: keysFile,
    jwt: {
      jwksUrl: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`,
      issuer: ISSUER,
      audience: AUDIENCE,
      permissionsClaim: 'permissions',
    },
  });
  stack = await startStack({ auth });
});
afterAll(async () => {
  await stack?.stop();
  await new Promise<void>((r) => jwks?.close(() => r()));
});

async function jwt(
  sub: string,
  o: { exp?: string | number; aud?: string; key?: Awaited<ReturnType<typeof generateKeyPair>>['privateKey']; scope?: string } = {},
): Promise<string> {
  return new SignJWT({ ...(o.scope ? { scope: o.scope } : {}) })
    .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
    .setSubject(sub)
    .setIssuer(ISSUER)
    .setAudience(o.aud ?? AUDIENCE)
    .setExpirationTime(o.exp ?? '5m')
    .sign(o.key ?? keys.privateKey);
}
const bearer = (token: string) => new Client({ apiUrl: stack.url, apiKey: null, defaultHeaders: { authorization: `Bearer ${token}` } });
const keyed = (key: string) => new Client({ apiUrl: stack.url, apiKey: null, defaultHeaders: { 'x-api-key': key } });

describe('built-in authentication', () => {
  it('accepts valid JWTs and refuses expired, badly signed and wrong-audience ones with 401', async () => {
    expect(await bearer(await jwt('dave')).threads.search()).toEqual([]);
    const other = await generateKeyPair('RS256');
    for (const token of [
      await jwt('dave', { exp: Math.floor(Date.now() / 1000) - 60 }),
      await jwt('dave', { key: other.privateKey }),
      await jwt('dave', { aud: 'someone-else' }),
    ])
      await expect(bearer(token).threads.search()).rejects.toThrow(/401/);
    await expect(new Client({ apiUrl: stack.url, apiKey: null }).threads.search()).rejects.toThrow(/401/);
  });

  it('accepts API keys, stored only as digests', async () => {
    expect(await keyed('key-of-carol').threads.search()).toEqual([]);
    await expect(keyed('not-a-key').threads.search()).rejects.toThrow(/401/);
    expect(readFileSync(keysFile, 'utf8')).not.toContain('key-of-carol');
  });
});

describe('built-in authorization', () => {
  it('isolates owners, lets threads:read:any read (audited) but not write, and keeps assistants read-only', async () => {
    const dave = bearer(await jwt('dave'));
    const carol = keyed('key-of-carol');
    const support = keyed('key-of-support');
    const admin = keyed('key-of-admin');
    const thread = await dave.threads.create({ metadata: { topic: 'x' } });
    expect(thread.metadata).toMatchObject({ owner: 'dave' });
    await expect(carol.threads.get(thread.thread_id)).rejects.toThrow(/404/);
    expect(await carol.threads.count()).toBe(0);
    await expect(carol.threads.create({ threadId: thread.thread_id })).rejects.toThrow(/409/);
    expect((await support.threads.get(thread.thread_id)).thread_id).toBe(thread.thread_id);
    await expect(support.threads.update(thread.thread_id, { metadata: { y: 1 } })).rejects.toThrow(/404/);
    await expect(carol.assistants.create({ graphId: 'agent' })).rejects.toThrow(/403/);
    expect((await carol.assistants.search()).length).toBeGreaterThan(0);
    await expect(carol.store.putItem(['dave'], 'k', { v: 1 })).rejects.toThrow(/403/);
    await carol.store.putItem(['carol'], 'k', { v: 1 });
    expect((await dave.store.searchItems([])).items).toEqual([]);

    const audit = await fetch(`${stack.url}/audit`, { headers: { 'x-api-key': 'key-of-admin' } });
    expect(audit.status).toBe(200);
    const rows = (await audit.json()) as { actor: string; action: string; resource_id: string }[];
    expect(rows).toContainEqual(expect.objectContaining({ actor: 'support', action: 'read', resource_id: thread.thread_id }));
    expect((await fetch(`${stack.url}/audit`, { headers: { 'x-api-key': 'key-of-support' } })).status).toBe(403);
    expect((await admin.assistants.create({ graphId: 'agent' })).graph_id).toBe('agent');
  });
});

describe('acting as the user', () => {
  it('runs a cron as the user who created it, and leaves the Agent Auth callback unauthenticated', async () => {
    const dave = bearer(await jwt('dave'));
    const thread = await dave.threads.create();
    const cron = await dave.crons.createForThread(thread.thread_id, 'agent', {
      schedule: '* * * * * * *',
      input: { messages: [{ role: 'user', content: 'tick' }] },
      config: { configurable: { script: [{ content: 'scheduled' }] } },
    });
    expect((cron as unknown as { user_id: string }).user_id).toBe('dave');
    const [fired] = await vi.waitFor(
      async () => {
        const runs = await dave.runs.list(thread.thread_id);
        expect(runs.length).toBeGreaterThan(0);
        return runs;
      },
      { timeout: 30_000, interval: 200 },
    );
    await dave.crons.delete(cron.cron_id);
    const configurable = (fired as unknown as { kwargs: { config: { configurable: Record<string, unknown> } } }).kwargs.config.configurable;
    expect(configurable.langgraph_auth_user_id).toBe('dave');
    // The browser returning from the provider carries no credentials: the callback answers on its own terms (no
    // providers here: 404), never 401.
    const callback = await fetch(`${stack.url}/agent-auth/callback?state=s&code=c`);
    expect(callback.status).not.toBe(401);
    expect((await fetch(`${stack.url}/agent-auth/connections`)).status).toBe(401);
  });
});

describe('route coverage', () => {
  it('names an authorization policy for every route of /openapi.json', async () => {
    const doc = (await (await fetch(`${stack.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const missing: string[] = [];
    for (const [p, ops] of Object.entries(doc.paths))
      for (const method of Object.keys(ops)) {
        const expressPath = p.replace(/\{(\w+)\}/g, ':$1');
        if (isPublic(method.toUpperCase(), expressPath)) continue;
        if (!policies[`${method.toUpperCase()} ${expressPath}`]) missing.push(`${method.toUpperCase()} ${p}`);
      }
    expect(missing).toEqual([]);
    expect(Object.keys(doc.paths).length).toBeGreaterThan(50);
  });
});
