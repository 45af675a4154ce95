import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createAgentAuth, open } from '../activities/agent-auth.js';
import { defineTool } from '../activities/tools/types.js';
import { loadAgentAuthSettings, type AgentAuthSettings } from '../config/agent-auth.js';
import { createLogger } from '../config/logger.js';
import { getToken, type TokenRow } from '../db/agent-auth.js';
import { openPostgres } from '../db/pool.js';
import { insertThread } from '../db/threads.js';
import { authorizeInBrowser, listenOAuthServer, redirectBack, type OAuthServer } from './helpers/oauth-server.js';
import { human } from './helpers/input.js';
import { openTestDb, startStack, type Stack } from './helpers/stack.js';

// Agent Auth end to end (issue 11, test 6) against a real OAuth 2 server: the certified `oidc-provider`, on
// 127.0.0.1, with PKCE required, 6-second access tokens and rotating refresh tokens whose reuse revokes the grant.
// Its userinfo endpoint is the resource server the tool calls with the user's token. Only the provider's login
// page is scripted (a user who signs in and consents), since no person is here to fill it in.

const TTL_SECONDS = 6;
let oauth: OAuthServer;
let stack: Stack;
let settings: AgentAuthSettings;
const key = randomBytes(32);
const logs: string[] = [];
const webhookBodies: string[] = [];
const streamed: string[] = [];
let webhookUrl = '';

async function userinfo(token: string): Promise<Response> {
  return fetch(`${oauth.issuer}/me`, { headers: { authorization: `Bearer ${token}` } });
}

/** Reads the user's profile at the provider, with the token Agent Auth hands it. */
const readProfile = defineTool({
  name: 'read_profile',
  description: "Reads the user's profile at the local provider.",
  schema: z.object({}),
  auth: { provider: 'local', scopes: ['profile'] },
  attempts: 1,
  async run(_args, ctx) {
    const res = await userinfo(ctx.auth!.token);
    if (!res.ok) throw new Error(`the profile service refused the call: ${res.status}`);
    const me = (await res.json()) as { sub: string; name: string };
    return { sub: me.sub, name: me.name };
  },
});

/** Acts for the user, then asks the person to confirm: its own interrupt must not receive Agent Auth's resume. */
const postAsUser = defineTool({
  name: 'post_as_user',
  description: 'Posts a status as the user, after they confirm.',
  schema: z.object({ text: z.string() }),
  auth: { provider: 'local' },
  async run({ text }, ctx) {
    const answer = ctx.interrupt<unknown>({ question: `Post "${text}"?` });
    const me = (await (await userinfo(ctx.auth!.token)).json()) as { sub: string };
    return `${me.sub} confirmed ${JSON.stringify(answer)}`;
  },
});

/** stderr of this process (the worker and the API run here): everything the runtime and the Temporal SDK log. */
const stderrWrite = process.stderr.write.bind(process.stderr);

beforeAll(async () => {
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    logs.push(text);
    // Debug lines are only for the search; the rest shows as usual.
    return text.includes('"level":"debug"') ? true : stderrWrite(chunk, ...rest);
  }) as typeof process.stderr.write;
  const receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      webhookBodies.push(body);
      res.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  webhookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  afterAll(() => receiver.close());

  oauth = await listenOAuthServer({ accessTokenTtlSeconds: TTL_SECONDS });
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'agent-auth-')), 'providers.json');
  const provider = {
    authorization_url: `${oauth.issuer}/auth`,
    token_url: `${oauth.issuer}/token`,
    revocation_url: `${oauth.issuer}/token/revocation`,
    client_id: oauth.clientId,
    client_secret: oauth.clientSecret,
    scopes: ['openid', 'offline_access'],
    pkce: true,
  };
  writeFileSync(file, JSON.stringify({ providers: { local: provider } }));
  stack = await startStack({
    db: 'postgres',
    tools: [readProfile, postAsUser],
    log: createLogger('debug', { component: 'test' }),
    agentAuth: (apiUrl) =>
      (settings = loadAgentAuthSettings({
        AGENT_AUTH_PROVIDERS_FILE: file,
        AGENT_AUTH_CALLBACK_URL: `${apiUrl}/agent-auth/callback`,
        AGENT_AUTH_LINK_TTL_SECONDS: 600,
        SECRETS_KEY: key.toString('base64'),
        HOST: '127.0.0.1',
        PORT: 0,
      })!),
  });
  oauth.start(settings.callbackUrl);
});

afterAll(async () => {
  await stack?.stop();
  await oauth?.close();
  process.stderr.write = stderrWrite;
});

type Msg = { type: string; content: unknown; status?: string };
type Values = { messages: Msg[]; __interrupt__?: { id: string; value: Record<string, unknown> }[] };

const profileScript = (calls = 1) => [
  { tool_calls: Array.from({ length: calls }, () => ({ name: 'read_profile', args: {} })) },
  { content: 'done' },
];
const config = (userId: string, script: object[]) => ({ configurable: { user_id: userId, script } });

async function runOnNewThread(userId: string, script: object[]): Promise<{ threadId: string; values: Values }> {
  const threadId = (await stack.client.threads.create()).thread_id;
  const values = (await stack.client.runs.wait(threadId, 'agent', {
    input: human('who am I?'),
    config: config(userId, script),
    webhook: webhookUrl,
  })) as Values;
  return { threadId, values };
}

function authInterrupt(values: Values): { type: string; provider: string; auth_url: string; scopes: string[] } {
  expect(values.__interrupt__).toHaveLength(1);
  return values.__interrupt__![0]!.value as never;
}

/** The provider's redirect back to the runtime, as the user's browser follows it; returns the callback's answer. */
async function authorize(authUrl: string): Promise<{ status: number; body: Record<string, unknown>; callbackUrl: string }> {
  const { callback, callbackUrl } = await authorizeInBrowser(authUrl, settings.callbackUrl);
  return { status: callback.status, body: (await callback.json()) as Record<string, unknown>, callbackUrl };
}

const toolResults = async (threadId: string): Promise<Msg[]> =>
  ((await stack.client.threads.getState(threadId)).values as Values).messages.filter((m) => m.type === 'tool');

const tokenRow = async (userId: string): Promise<TokenRow | undefined> => getToken(stack.db, userId, 'local');
const openRow = (row: TokenRow) =>
  JSON.parse(open(key, row.secret, `agent-auth-token\0${row.user_id}\0local`)) as { access_token: string; refresh_token?: string };
const connections = async (userId: string) => (await fetch(`${stack.url}/agent-auth/connections?user_id=${userId}`)).json();

describe('Agent Auth', () => {
  it('interrupts for authorization, completes the code exchange, resumes the call, and the tool uses the token', async () => {
    const { threadId, values } = await runOnNewThread('alice', profileScript());
    const asked = authInterrupt(values);
    expect(asked).toMatchObject({ type: 'auth_required', provider: 'local', scopes: ['openid', 'offline_access', 'profile'] });
    const link = new URL(asked.auth_url);
    expect(`${link.origin}${link.pathname}`).toBe(`${oauth.issuer}/auth`);
    expect(link.searchParams.get('redirect_uri')).toBe(settings.callbackUrl);
    expect(link.searchParams.get('code_challenge_method')).toBe('S256');
    expect((await stack.client.threads.get(threadId)).status).toBe('interrupted');
    expect(await connections('alice')).toEqual([]);

    const callback = await authorize(asked.auth_url);
    expect(callback.status).toBe(200);
    expect(callback.body).toMatchObject({ status: 'connected', provider: 'local', thread_id: threadId });
    await stack.client.runs.join(threadId, callback.body.run_id as string);
    const [result] = await toolResults(threadId);
    expect(result).toMatchObject({ status: 'success' });
    expect(JSON.parse(result!.content as string)).toEqual({ sub: 'alice', name: 'User alice' });
    expect((await stack.client.threads.get(threadId)).status).toBe('idle');

    expect(await connections('alice')).toEqual([
      expect.objectContaining({ provider: 'local', scopes: ['openid', 'offline_access', 'profile'], refreshable: true }),
    ]);
    // The link worked once: the same redirect again is refused, and so is a state nobody handed out.
    expect((await fetch(callback.callbackUrl)).status).toBe(400);
    expect((await fetch(`${settings.callbackUrl}?state=made-up&code=x`)).status).toBe(400);
  });

  it('stores the token sealed: neither the access nor the refresh token is in its row', async () => {
    const row = (await tokenRow('alice'))!;
    const tokens = openRow(row);
    expect(tokens.access_token.length).toBeGreaterThan(10);
    expect(JSON.stringify(row)).not.toContain(tokens.access_token);
    expect(JSON.stringify(row)).not.toContain(tokens.refresh_token);
    // Bound to its (user, provider): the same sealed value does not open as another user's.
    expect(() => open(key, row.secret, 'agent-auth-token\0mallory\0local')).toThrow(/cannot be opened/);
  });

  it('refreshes an expired token once, even for two calls that need it at the same time', async () => {
    const before = openRow((await tokenRow('alice'))!);
    await expect.poll(async () => Date.parse((await tokenRow('alice'))!.expires_at!) <= Date.now(), { timeout: 30_000 }).toBe(true);
    expect((await userinfo(before.access_token)).status).toBe(401);
    const refreshes = oauth.refreshGrants;

    const threadId = (await stack.client.threads.create()).thread_id;
    for await (const chunk of stack.client.runs.stream(threadId, 'agent', {
      input: human('who am I, twice?'),
      config: config('alice', profileScript(2)),
      streamMode: ['values', 'updates', 'messages-tuple', 'messages', 'events', 'debug', 'tasks', 'checkpoints', 'tools', 'custom'],
      webhook: webhookUrl,
    }))
      streamed.push(JSON.stringify(chunk));
    const results = await toolResults(threadId);
    expect(results.map((m) => [m.status, JSON.parse(m.content as string).sub])).toEqual([
      ['success', 'alice'],
      ['success', 'alice'],
    ]);
    // With rotation, a second refresh with the same refresh token would have revoked the grant (and interrupted).
    expect(oauth.refreshGrants).toBe(refreshes + 1);
    const after = openRow((await tokenRow('alice'))!);
    expect(after.access_token).not.toBe(before.access_token);
    expect(after.refresh_token).not.toBe(before.refresh_token);
    expect((await userinfo(after.access_token)).status).toBe(200);
  });

  it('refreshes once across processes: two vaults on their own pools race for one expired token', async () => {
    await expect.poll(async () => Date.parse((await tokenRow('alice'))!.expires_at!) <= Date.now(), { timeout: 30_000 }).toBe(true);
    const refreshes = oauth.refreshGrants;
    const pools = [openPostgres(stack.dbUrl!, 4, stack.log), openPostgres(stack.dbUrl!, 4, stack.log)];
    try {
      const vaults = pools.map((db) => createAgentAuth({ db, log: stack.log, settings }));
      const call = { userId: 'alice', threadId: '00000000-0000-0000-0000-000000000000', runId: 'r', taskId: 't' };
      const access = await Promise.all(vaults.flatMap((v) => [1, 2, 3].map(() => v.toolAccess(call, { provider: 'local' }))));
      const tokens = new Set(access.map((a) => (a.status === 'ready' ? a.auth.token : 'interrupted')));
      expect([...tokens]).toHaveLength(1);
      expect((await userinfo([...tokens][0]!)).status).toBe(200);
      expect(oauth.refreshGrants).toBe(refreshes + 1);
    } finally {
      await Promise.all(pools.map((p) => p.close()));
    }
  });

  it('acts only for the run’s user, and a link that expired is refused', async () => {
    const { threadId, values } = await runOnNewThread('bob', profileScript());
    const asked = authInterrupt(values);
    expect(asked.type).toBe('auth_required');
    expect(await connections('bob')).toEqual([]);
    await stack.db.query("UPDATE agent_auth_requests SET expires_at = now() - interval '1 second' WHERE user_id = 'bob'");
    oauth.accountId = 'bob';
    const callback = await authorize(asked.auth_url);
    expect(callback.status).toBe(400);
    expect(String(callback.body.message)).toMatch(/expired/);
    expect(await tokenRow('bob')).toBeUndefined();
    expect((await stack.client.threads.get(threadId)).status).toBe('interrupted');
  });

  it("hands the tool's own interrupt the person's answer, not the authorization's", async () => {
    oauth.accountId = 'carol';
    const threadId = (await stack.client.threads.create()).thread_id;
    const cfg = config('carol', [{ tool_calls: [{ name: 'post_as_user', args: { text: 'hi' } }] }, { content: 'posted' }]);
    const first = (await stack.client.runs.wait(threadId, 'agent', { input: human('post hi'), config: cfg })) as Values;
    const callback = await authorize(authInterrupt(first).auth_url);
    expect(callback.status).toBe(200);
    await stack.client.runs.join(threadId, callback.body.run_id as string);
    const state = await stack.client.threads.getState(threadId);
    const question = state.tasks[0]!.interrupts[0]!;
    expect(question.value).toEqual({ question: 'Post "hi"?' });
    await stack.client.runs.wait(threadId, 'agent', { command: { resume: 'yes' }, config: cfg });
    const [result] = await toolResults(threadId);
    expect(result!.content).toBe('carol confirmed "yes"');
  });

  it('revokes a connection here and at the provider; the next call asks again', async () => {
    const tokens = openRow((await tokenRow('alice'))!);
    const res = await fetch(`${stack.url}/agent-auth/connections?user_id=alice&provider=local`, { method: 'DELETE' });
    expect(res.status).toBe(204);
    expect(await connections('alice')).toEqual([]);
    expect((await userinfo(tokens.access_token)).status).toBe(401);
    expect((await fetch(`${stack.url}/agent-auth/connections?user_id=alice&provider=local`, { method: 'DELETE' })).status).toBe(404);
    const { values } = await runOnNewThread('alice', profileScript());
    expect(authInterrupt(values).type).toBe('auth_required');
  });

  it('asks again when the provider refuses the refresh token (the grant was revoked there)', async () => {
    oauth.accountId = 'carol';
    const row = (await tokenRow('carol'))!;
    // Revoked at the provider, behind the runtime's back: the refresh token no longer works.
    const revoke = await fetch(`${oauth.issuer}/token/revocation`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${oauth.clientId}:${oauth.clientSecret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ token: openRow(row).refresh_token!, token_type_hint: 'refresh_token' }),
    });
    expect(revoke.status).toBe(200);
    await expect.poll(async () => Date.parse((await tokenRow('carol'))!.expires_at!) <= Date.now(), { timeout: 30_000 }).toBe(true);
    const refreshes = oauth.refreshGrants;
    // post_as_user needs no scope beyond carol's: only the refused refresh can make it ask for authorization.
    const { values } = await runOnNewThread('carol', [{ tool_calls: [{ name: 'post_as_user', args: { text: 'again' } }] }]);
    expect(authInterrupt(values).type).toBe('auth_required');
    expect(oauth.refreshGrants).toBe(refreshes + 1);
    expect(await tokenRow('carol')).toBeUndefined();
  });

  it('never lets a token reach state, checkpoints, run events, logs, webhooks or errors', async () => {
    const tokens = [...oauth.issued];
    // Precondition: the scenarios above issued access and refresh tokens, and each place searched has content.
    expect(tokens.length).toBeGreaterThanOrEqual(6);
    const database = await everyRow();
    const api = await everyApiAnswer();
    const histories = await everyWorkflowHistory();
    await expect.poll(() => webhookBodies.length).toBeGreaterThanOrEqual(4);
    const places: Record<string, string> = {
      database,
      api,
      histories,
      streamed: streamed.join('\n'),
      logs: logs.join(''),
      webhooks: webhookBodies.join('\n'),
    };
    const mentions: [string, string][] = [
      ['database', 'auth_required'],
      ['histories', 'auth_required'],
      ['histories', 'read_profile'],
      ['streamed', 'read_profile'],
      ['logs', 'agent auth: token refreshed'],
      ['webhooks', 'read_profile'],
    ];
    for (const [place, word] of mentions) expect(places[place]!.includes(word), `${place} mention ${word}`).toBe(true);
    for (const [place, text] of Object.entries(places)) {
      const found = tokens.filter((t) => text.includes(t));
      expect(found, `tokens found in ${place}`).toEqual([]);
    }
  });
});

describe('Agent Auth on the embedded database (PGlite), as npm start runs it', () => {
  it('connects, refreshes once for concurrent calls without a row lock, and revokes', async () => {
    const { db, drop } = await openTestDb('pglite', stack.log);
    try {
      const threadId = '01900000-0000-7000-8000-000000000001';
      await insertThread(db, { thread_id: threadId, metadata: {} });
      const vault = createAgentAuth({ db, log: stack.log, settings });
      const call = { userId: 'erin', threadId, runId: '01900000-0000-7000-8000-000000000002', taskId: 'task' };
      const first = await vault.toolAccess(call, { provider: 'local' });
      if (first.status !== 'required') throw new Error('erin has no token yet: the call must ask her to authorize');
      oauth.accountId = 'erin';
      const back = new URL(await redirectBack(first.interrupt.auth_url, settings.callbackUrl));
      await vault.completeAuthorization(back.searchParams.get('state')!, back.searchParams);

      const row = async () => (await getToken(db, 'erin', 'local'))!;
      await expect.poll(async () => Date.parse((await row()).expires_at!) <= Date.now(), { timeout: 30_000 }).toBe(true);
      const refreshes = oauth.refreshGrants;
      const access = await Promise.all([1, 2, 3].map(() => vault.toolAccess(call, { provider: 'local' })));
      const tokens = new Set(access.map((a) => (a.status === 'ready' ? a.auth.token : 'interrupted')));
      expect(tokens.size).toBe(1);
      expect((await userinfo([...tokens][0]!)).status).toBe(200);
      expect(oauth.refreshGrants).toBe(refreshes + 1);

      expect(await vault.revoke('erin', 'local')).toBe(true);
      expect(await vault.connections('erin')).toEqual([]);
      expect((await userinfo([...tokens][0]!)).status).toBe(401);
    } finally {
      await drop();
    }
  });
});

/** Every row of every table, as JSON: state, checkpoints and their writes, runs and their errors, run events. */
async function everyRow(): Promise<string> {
  const tables = await stack.db.query<{ table_name: string }>(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
  );
  const out: string[] = [];
  for (const { table_name } of tables.rows) {
    const rows = await stack.db.query<{ row: string }>(`SELECT row_to_json(t)::text AS row FROM "${table_name}" t`);
    out.push(...rows.rows.map((r) => r.row));
  }
  return out.join('\n');
}

/** What clients read: threads, their state and history, and their runs. */
async function everyApiAnswer(): Promise<string> {
  const threads = await stack.client.threads.search({ limit: 100 });
  const out = [JSON.stringify(threads)];
  for (const t of threads) {
    out.push(JSON.stringify(await stack.client.threads.getState(t.thread_id)));
    out.push(JSON.stringify(await stack.client.threads.getHistory(t.thread_id, { limit: 100 })));
    out.push(JSON.stringify(await stack.client.runs.list(t.thread_id)));
  }
  return out.join('\n');
}

/** Every workflow of this stack's task queue, with payloads decoded: activity inputs, results and failures. */
async function everyWorkflowHistory(): Promise<string> {
  const out: string[] = [];
  for await (const wf of stack.temporal.workflow.list({ query: `TaskQueue = "${stack.taskQueue}"` })) {
    const history = await stack.temporal.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
    // Payloads serialize as base64: decoded, so a token in any of them would show as itself.
    const decoded = (k: string, v: unknown) => (k === 'data' && typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : v);
    out.push(JSON.stringify(JSON.parse(JSON.stringify(history)), decoded));
  }
  return out.join('\n');
}
