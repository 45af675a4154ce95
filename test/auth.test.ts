import { Client } from '@langchain/langgraph-sdk';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCustomAuth } from '../api/auth/custom.js';
import { SECRET } from './fixtures/auth/module.js';
import { human } from './helpers/input.js';
import { startStack, type Stack } from './helpers/stack.js';

// The reference's auth cases (§1.8) against a module written like the JS server's test module, loaded the way
// AUTH_PATH loads it; and the reserved keys that carry the user to the graph.

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ auth: await loadCustomAuth('test/fixtures/auth/module.ts:auth', false) });
});
afterAll(() => stack?.stop());

async function token(sub: string, scopes: string[]): Promise<string> {
  return new SignJWT({ sub, scopes }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('60s').sign(SECRET);
}
async function clientOf(sub: string, scopes = ['me', 'read', 'write']): Promise<Client> {
  return new Client({ apiUrl: stack.url, apiKey: null, defaultHeaders: { authorization: `Bearer ${await token(sub, scopes)}` } });
}
const ownerScript = { configurable: { script: [{ content: 'ok' }] } };

describe('custom auth (reference §1.8)', () => {
  it('answers 401 with the handler status and headers; public routes need no token', async () => {
    const res = await fetch(`${stack.url}/threads/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    const stranger = await clientOf('nobody');
    await expect(stranger.assistants.search()).rejects.toThrow(/401/);
    for (const path of ['/ok', '/info', '/openapi.json']) expect((await fetch(`${stack.url}${path}`)).status).toBe(200);
  });

  it('creates assistants only with assistants:write, and lists only the caller’s', async () => {
    const none = await clientOf('johndoe', []);
    await expect(none.assistants.create({ graphId: 'agent' })).rejects.toThrow(/403/);
    const foo = await clientOf('johndoe', ['foo']);
    await expect(foo.assistants.create({ graphId: 'agent' })).rejects.toThrow(/403/);
    const writer = await clientOf('johndoe', ['assistants:write']);
    const created = await writer.assistants.create({ graphId: 'agent' });
    expect(created.metadata).toMatchObject({ owner: 'johndoe' });
    const found = await writer.assistants.search();
    expect(found.map((a) => a.assistant_id)).toEqual([created.assistant_id]);
    const alice = await clientOf('alice', ['assistants:write', 'read']);
    expect(await alice.assistants.search()).toEqual([]);
    await expect(alice.assistants.get(created.assistant_id)).rejects.toThrow(/404/);
    await expect(alice.assistants.update(created.assistant_id, { metadata: { x: 1 } })).rejects.toThrow(/404/);
    await expect(alice.assistants.delete(created.assistant_id)).rejects.toThrow(/404/);
    await expect(alice.assistants.getVersions(created.assistant_id)).rejects.toThrow(/404/);
    await expect(alice.assistants.setLatest(created.assistant_id, 1)).rejects.toThrow(/404/);
    await expect(alice.assistants.getGraph(created.assistant_id)).rejects.toThrow(/404/);
    expect((await writer.assistants.setLatest(created.assistant_id, 1)).version).toBe(1);
  });

  it('isolates threads, their state, history, runs and streams', async () => {
    const john = await clientOf('johndoe');
    const alice = await clientOf('alice');
    const thread = await john.threads.create();
    expect(thread.metadata).toMatchObject({ owner: 'johndoe' });
    expect(await john.threads.getHistory(thread.thread_id)).toEqual([]);
    await john.runs.wait(thread.thread_id, 'agent', { input: human('hi'), config: ownerScript });
    expect((await john.threads.getHistory(thread.thread_id)).length).toBeGreaterThan(0);
    const state = await john.threads.getState(thread.thread_id);

    await expect(alice.runs.wait(thread.thread_id, 'agent', { input: human('hi') })).rejects.toThrow(/404/);
    await expect(alice.threads.get(thread.thread_id)).rejects.toThrow(/404/);
    await expect(alice.threads.update(thread.thread_id, { metadata: { x: 1 } })).rejects.toThrow(/404/);
    await expect(alice.threads.getState(thread.thread_id)).rejects.toThrow(/404/);
    await expect(alice.threads.getState(thread.thread_id, state.checkpoint.checkpoint_id!)).rejects.toThrow(/404/);
    await expect(alice.threads.updateState(thread.thread_id, { values: { sleep: 432 } })).rejects.toThrow(/404/);
    await expect(alice.threads.getHistory(thread.thread_id)).rejects.toThrow(/404/);
    await expect(alice.threads.copy(thread.thread_id)).rejects.toThrow(/409/);
    await expect(alice.threads.create({ threadId: thread.thread_id })).rejects.toThrow(/409/);
    expect((await alice.threads.search()).map((t) => t.thread_id)).not.toContain(thread.thread_id);
    expect(await alice.threads.count()).toBe(0);

    const run = await john.runs.create(thread.thread_id, 'agent', { input: human('later'), afterSeconds: 100, config: ownerScript });
    expect((await john.runs.list(thread.thread_id)).map((r) => r.run_id)).toContain(run.run_id);
    expect(await john.runs.get(thread.thread_id, run.run_id)).toMatchObject({ run_id: run.run_id });
    await expect(alice.runs.list(thread.thread_id)).rejects.toThrow(/404/);
    await expect(alice.runs.get(thread.thread_id, run.run_id)).rejects.toThrow(/404/);
    await expect(alice.runs.join(thread.thread_id, run.run_id)).rejects.toThrow(/404/);
    await expect(alice.runs.cancel(thread.thread_id, run.run_id)).rejects.toThrow(/404/);
    await expect(alice.runs.delete(thread.thread_id, run.run_id)).rejects.toThrow(/404/);
    const res = await fetch(`${stack.url}/threads/${thread.thread_id}/runs/${run.run_id}/stream`, {
      headers: { authorization: `Bearer ${await token('alice', ['me'])}` },
    });
    expect(res.status).toBe(404);
    await john.runs.cancel(thread.thread_id, run.run_id);
    await expect(alice.threads.delete(thread.thread_id)).rejects.toThrow(/404/);
    expect((await john.threads.get(thread.thread_id)).thread_id).toBe(thread.thread_id);

    // Copy needs read and create: a read-only user may read but not copy.
    const reader = await clientOf('johndoe', ['read']);
    await expect(reader.threads.get(thread.thread_id)).resolves.toMatchObject({ thread_id: thread.thread_id });
    await expect(reader.threads.copy(thread.thread_id)).rejects.toThrow(/403/);
    expect((await john.threads.copy(thread.thread_id)).metadata).toMatchObject({ owner: 'johndoe' });
  });

  it('tags stateless runs and stamps the user on every run', async () => {
    const john = await clientOf('johndoe');
    // The SDK's type omits on_completion for stateless waits; the server honours it.
    await john.runs.wait(null, 'agent', { input: human('hi'), config: ownerScript, onCompletion: 'keep' } as never);
    const threads = await john.threads.search({ metadata: { owner: 'johndoe' } });
    expect(threads.length).toBeGreaterThan(0);
    const [run] = await john.runs.list(threads[0]!.thread_id);
    const configurable = (run as unknown as { kwargs: { config: { configurable: Record<string, unknown> } } }).kwargs.config.configurable;
    expect(configurable.langgraph_auth_user_id).toBe('johndoe');
    expect(configurable.langgraph_auth_permissions).toEqual(['me', 'read', 'write']);
    expect(configurable.langgraph_auth_user).toMatchObject({ identity: 'johndoe', tenant: 'acme' });
  });

  it('refuses clients that set the reserved keys, naming them', async () => {
    const john = await clientOf('johndoe');
    const thread = await john.threads.create();
    for (const payload of [
      { config: { configurable: { langgraph_auth_user: { identity: 'alice' } } } },
      { context: { langgraph_auth_user_id: 'alice' } },
      { metadata: { langgraph_auth_permissions: ['admin'] } },
    ]) {
      const err = await john.runs.wait(thread.thread_id, 'agent', { input: human('hi'), ...payload }).catch((e: Error) => e);
      expect(String(err)).toMatch(/422/);
      expect(String(err)).toMatch(/langgraph_auth_/);
    }
  });

  it('applies the store namespace rule', async () => {
    const john = await clientOf('johndoe');
    const alice = await clientOf('alice');
    await expect(john.store.putItem(['ALL'], 'k', { text: 'x' })).rejects.toThrow(/403/);
    await expect(john.store.getItem(['ALL'], 'k')).rejects.toThrow(/403/);
    await expect(john.store.deleteItem(['ALL'], 'k')).rejects.toThrow(/403/);
    await expect(john.store.searchItems(['ALL'])).rejects.toThrow(/403/);
    await john.store.putItem(['johndoe'], 'key_one', { text: 'test user A' });
    await alice.store.putItem(['alice'], 'key_one', { text: 'test user B' });
    expect((await john.store.getItem(['johndoe'], 'key_one'))?.value).toEqual({ text: 'test user A' });
    expect((await john.store.searchItems([])).items.map((i) => i.namespace)).toEqual([['johndoe']]);
    expect((await john.store.listNamespaces()).namespaces).toEqual([['johndoe']]);
    expect((await alice.store.listNamespaces()).namespaces).toEqual([['alice']]);
    await expect(alice.store.getItem(['johndoe'], 'key_one')).rejects.toThrow(/403/);
  });
});

describe('fail closed', () => {
  it('denies what no handler covers, unless AUTH_FAIL_OPEN', async () => {
    for (const failOpen of [false, true]) {
      const s = await startStack({ auth: await loadCustomAuth('test/fixtures/auth/module.ts:threadsOnly', failOpen), noWorker: true });
      try {
        const c = new Client({ apiUrl: s.url, apiKey: null, defaultHeaders: { 'x-user': 'u1' } });
        expect((await c.threads.create()).metadata).toMatchObject({ owner: 'u1' });
        const assistants = c.assistants.search();
        const store = c.store.searchItems(['u1']);
        if (failOpen) {
          await expect(assistants).resolves.toBeInstanceOf(Array);
          await expect(store).resolves.toMatchObject({ items: [] });
        } else {
          await expect(assistants).rejects.toThrow(/403/);
          await expect(store).rejects.toThrow(/403/);
        }
      } finally {
        await s.stop();
      }
    }
  });
});
