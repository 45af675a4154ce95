import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineTool } from '../activities/tools/types.js';
import { loadTestConfig } from '../config/test.js';
import { listEffects } from '../db/effects.js';
import { human, isAiChunk } from './helpers/input.js';
import { startPrivatePostgres, type PrivatePostgres } from './helpers/private-postgres.js';
import { startStack, type Stack } from './helpers/stack.js';

// A real PostgreSQL outage: the test's own cluster is stopped (pg_ctl stop -m fast, which also cuts every open
// connection) for TEST_DB_OUTAGE_SECONDS (default 35), once in the middle of a model call and once in the middle
// of a tool call that itself writes to the database. The run completes with one ticket and no duplicate message;
// a stream that stayed open sees exactly what an uninterrupted run shows; a stream that left during the outage
// and rejoined with Last-Event-ID misses nothing; wait and join answer the final state; /ok?check_db=1 reports it.

const outageMs = loadTestConfig().TEST_DB_OUTAGE_SECONDS * 1000;

/** Holds a tool call until the test lets it go, so the database can be stopped while the call is in flight. */
class Gate {
  hold = false;
  started!: Promise<void>;
  go!: () => void;
  private opened!: Promise<void>;
  private markStarted!: () => void;
  constructor() {
    this.reset();
  }
  reset(): void {
    this.started = new Promise((r) => (this.markStarted = r));
    this.opened = new Promise((r) => (this.go = r));
  }
  async pass(): Promise<void> {
    this.markStarted();
    if (this.hold) await this.opened;
  }
}
const gate = new Gate();

/** A side-effect tool that also uses the database itself (the store), as real tools do. */
const fileTicket = defineTool({
  name: 'file_ticket',
  description: 'Files a ticket and keeps a copy in the store.',
  schema: z.object({ title: z.string() }),
  sideEffects: true,
  async run({ title }, ctx) {
    await gate.pass();
    const ticket = { ticket_id: `T-${ctx.idempotencyKey.slice(-8)}`, title };
    await ctx.store!.put(['tickets', ctx.threadId], ticket.ticket_id, ticket);
    return ticket;
  },
});

const planning = Array.from({ length: 16 }, (_, i) => `plan${i}`).join(' ');
const answer = Array.from({ length: 10 }, (_, i) => `filed${i}`).join(' ');
const config = {
  configurable: {
    script: [
      { content: planning, delay_ms: 8000, tool_calls: [{ name: 'file_ticket', args: { title: 'Disk full' } }] },
      { content: answer, delay_ms: 1500 },
    ],
  },
};
const streamMode = ['values', 'updates', 'messages-tuple'] as ('values' | 'updates' | 'messages-tuple')[];

type Part = { event: string; data: unknown; id?: string };
type Msg = { id: string; type: string; content: string; status?: string };

let pgServer: PrivatePostgres;
let stack: Stack;
beforeAll(async () => {
  pgServer = await startPrivatePostgres();
  stack = await startStack({ db: 'postgres', postgresAdminUrl: pgServer.url, tools: [fileTicket] });
}, 120_000);
afterAll(async () => {
  gate.go();
  await pgServer?.start(); // a failed test may have left it stopped
  await stack?.stop();
  await pgServer?.destroy();
});

async function collect(stream: AsyncIterable<unknown>, into: Part[]): Promise<Part[]> {
  for await (const p of stream) into.push(p as Part);
  return into;
}

const tokens = (parts: Part[]) => parts.filter((p) => p.event === 'messages' && isAiChunk((p.data as [Msg])[0].type));
/** What a client sees, without the ids that differ from run to run. */
const shape = (parts: Part[]) =>
  parts.map((p) => (p.event === 'messages' ? `messages:${(p.data as [Msg])[0].type}:${(p.data as [Msg])[0].content}` : p.event));

async function check(url: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${stack.url}${url}`);
  return { status: res.status, body: await res.json() };
}

describe('a PostgreSQL outage', () => {
  it(
    'during a model call and then a tool call loses nothing and repeats nothing',
    async () => {
      const client = stack.client;

      // The same run without an outage, for comparison.
      const reference = (await client.threads.create()).thread_id;
      const calm = await collect(client.runs.stream(reference, 'agent', { input: human('disk'), config, streamMode }), []);
      expect(calm.at(-1)!.event).toBe('values');

      const threadId = (await client.threads.create()).thread_id;
      const waiter = (await client.threads.create()).thread_id;
      let runId = '';
      const live: Part[] = [];
      gate.reset();
      gate.hold = true;
      const liveDone = collect(
        client.runs.stream(threadId, 'agent', {
          input: human('disk'),
          config,
          streamMode,
          streamResumable: true,
          onRunCreated: (r) => void (runId = r.run_id),
        }),
        live,
      );
      await expect.poll(() => tokens(live).length, { message: 'the model streams', timeout: 120_000 }).toBeGreaterThanOrEqual(3);
      // A second follower that will leave during the outage and rejoin afterwards.
      const leaving = new AbortController();
      const before: Part[] = [];
      const leavingDone = collect(client.runs.joinStream(threadId, runId, { lastEventId: '-1', signal: leaving.signal }), before).catch(
        () => before,
      );
      await expect.poll(() => tokens(before).length, { message: 'the second follower', timeout: 120_000 }).toBeGreaterThanOrEqual(3);
      const join = client.runs.join(threadId, runId);
      join.catch(() => undefined); // awaited below; a failure must not count as unhandled meanwhile
      // A run followed with /wait on another thread: its 200 goes out at once, its body only at the end.
      const waited = fetch(`${stack.url}/threads/${waiter}/runs/wait`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          assistant_id: 'agent',
          input: human('patience'),
          config: { configurable: { script: [{ content: 'still here', delay_ms: 3000 }] } },
        }),
      });
      // fetch resolves with the headers, which go out once the run is created; the body comes only at the end.
      const waitedRes = await waited;
      expect(waitedRes.status).toBe(200);

      // Outage 1: in the middle of the model call.
      await pgServer.stop();
      expect(await check('/ok?check_db=1')).toEqual({ status: 500, body: { ok: false, services: { database: 'unhealthy' } } });
      expect((await check('/ok')).status).toBe(200);
      await new Promise((r) => setTimeout(r, outageMs / 2));
      leaving.abort();
      await leavingDone;
      await new Promise((r) => setTimeout(r, outageMs / 2));
      await pgServer.start();
      expect(await check('/ok?check_db=1')).toEqual({ status: 200, body: { ok: true, services: { database: 'healthy' } } });

      // Outage 2: in the middle of the tool call, which then writes to the store while the database is away.
      let toolStarted = false;
      void gate.started.then(() => (toolStarted = true));
      const running = async () => (await client.runs.get(threadId, runId)).status === 'running';
      await expect.poll(async () => toolStarted || !(await running()), { message: 'the tool call starts', timeout: 120_000 }).toBe(true);
      expect(await running()).toBe(true);
      await pgServer.stop();
      gate.go();
      await new Promise((r) => setTimeout(r, outageMs));
      await pgServer.start();

      await liveDone;
      const joined = (await join) as { messages: Msg[] };
      const waitedBody = (await waitedRes.text()).trim();
      expect((JSON.parse(waitedBody) as { messages: Msg[] }).messages.at(-1)!.content).toBe('still here');

      // The run and the thread are fine, with one ticket and each message once.
      expect((await client.runs.get(threadId, runId)).status).toBe('success');
      expect((await client.threads.get(threadId)).status).toBe('idle');
      const state = (await client.threads.getState<{ messages: Msg[] }>(threadId)).values.messages;
      expect(state.map((m) => m.type)).toEqual(['human', 'ai', 'tool', 'ai']);
      expect(new Set(state.map((m) => m.id)).size).toBe(4);
      expect(state[1]!.content).toBe(planning);
      expect(state[2]!.status).toBe('success');
      expect(JSON.parse(state[2]!.content)).toEqual({ ticket_id: expect.stringMatching(/^T-/), title: 'Disk full' });
      expect(state[3]!.content).toBe(answer);
      expect(joined.messages).toEqual(state);
      const effects = await listEffects(stack.db, threadId);
      expect(effects).toHaveLength(1);
      expect(await stack.deps.store.search(['tickets', threadId], { limit: 10, offset: 0 })).toHaveLength(1);

      // The stream that stayed open saw what an uninterrupted run shows, each event once, in order.
      const whole = await collect(client.runs.joinStream(threadId, runId, { lastEventId: '-1' }), []);
      expect(live.map((p) => p.id)).toEqual(whole.map((p) => p.id));
      expect(live.map((p) => p.id).slice(1)).toEqual(whole.slice(1).map((_, i) => String(i + 1)));
      expect(shape(live)).toEqual(shape(calm));
      expect(
        tokens(live)
          .map((p) => (p.data as [Msg])[0].content)
          .join(''),
      ).toBe(planning + answer);

      // The follower that left during the outage rejoins with Last-Event-ID and misses nothing.
      const lastId = before.at(-1)!.id!;
      const after = await collect(client.runs.joinStream(threadId, runId, { lastEventId: lastId }), []);
      expect([...before, ...after].map((p) => [p.id, p.event, p.data])).toEqual(whole.map((p) => [p.id, p.event, p.data]));
    },
    120_000 + outageMs * 2 + 60_000,
  );
});
