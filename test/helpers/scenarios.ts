import type { Client } from '@langchain/langgraph-sdk';
import type { Client as TemporalClient } from '@temporalio/client';
import { threadWorkflowId } from '../../workflows/messages.js';
import { human, until } from './input.js';

// Thread scenarios that together walk every path of the thread workflow. Replay tests record their histories
// as fixtures (npm run record-histories) and replay both the fixtures and fresh histories against the code.

export interface Scenario {
  name: string;
  /** Plays the scenario on a fresh thread and returns its id once the thread is at rest. */
  run(client: Client, apiUrl: string, temporal: TemporalClient): Promise<string>;
  /** Dynamic config of the dev server the fixture is recorded on (the replay test plays it on the suite's server). */
  serverConfig?: Record<string, unknown>;
  /** Which run of the workflow the fixture holds: the latest (default) or the first of the chain. */
  history?: 'first' | 'last';
}

/** The history a scenario's fixture holds. */
export async function scenarioHistory(temporal: TemporalClient, s: Scenario, threadId: string) {
  const workflowId = threadWorkflowId(threadId);
  if (s.history !== 'first') return temporal.workflow.getHandle(workflowId).fetchHistory();
  const runs: { runId: string; startTime: Date }[] = [];
  for await (const w of temporal.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push(w);
  const first = runs.sort((a, b) => a.startTime.getTime() - b.startTime.getTime())[0]!;
  return temporal.workflow.getHandle(workflowId, first.runId).fetchHistory();
}

const script = (...steps: object[]) => ({ configurable: { script: steps } });
const ticket = { tool_calls: [{ name: 'create_ticket', args: { title: 'replay' } }] };

async function thread(client: Client): Promise<string> {
  return (await client.threads.create({ graphId: 'agent' })).thread_id;
}

async function settle(client: Client, threadId: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const runs = await client.runs.list(threadId);
    if (runs.every((r) => r.status !== 'pending' && r.status !== 'running')) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const scenarios: Scenario[] = [
  {
    name: 'tool-call',
    async run(client) {
      const id = await thread(client);
      await client.runs.wait(id, 'agent', {
        input: human('2+2?'),
        config: script({ tool_calls: [{ name: 'calculator', args: { expression: '2+2' } }] }, { content: '4' }),
      });
      return id;
    },
  },
  {
    name: 'review-and-resume',
    async run(client) {
      const id = await thread(client);
      const config = { configurable: { ...script(ticket, { content: 'done' }).configurable, interrupt_on: { create_ticket: true } } };
      await client.runs.wait(id, 'agent', { input: human('ticket please'), config });
      await client.runs.wait(id, 'agent', {
        command: { resume: { decisions: [{ type: 'edit', edited_action: { name: 'create_ticket', args: { title: 'edited' } } }] } },
        config,
      });
      return id;
    },
  },
  {
    name: 'dynamic-interrupt-and-breakpoint',
    async run(client) {
      const id = await thread(client);
      const config = script({ tool_calls: [{ name: 'ask_human', args: { question: 'why?' } }] }, { content: 'ok' });
      await client.runs.wait(id, 'agent', { input: human('ask me'), config, interruptBefore: ['tools'] });
      await client.runs.wait(id, 'agent', { input: null, config });
      await client.runs.wait(id, 'agent', { command: { resume: 'because' }, config });
      return id;
    },
  },
  {
    name: 'double-texting',
    async run(client) {
      const id = await thread(client);
      const slow = script(...Array.from({ length: 6 }, () => ({ content: 'slow', delay_ms: 2000 })));
      await client.runs.create(id, 'agent', { input: human('first'), config: slow });
      await new Promise((r) => setTimeout(r, 300));
      await client.runs.create(id, 'agent', { input: human('interrupting'), config: slow, multitaskStrategy: 'interrupt' });
      await new Promise((r) => setTimeout(r, 300));
      await client.runs.create(id, 'agent', { input: human('rolling back'), multitaskStrategy: 'rollback' });
      await client.runs.create(id, 'agent', { input: human('queued'), multitaskStrategy: 'enqueue' });
      await settle(client, id);
      return id;
    },
  },
  {
    name: 'fork-update-and-error',
    async run(client) {
      const id = await thread(client);
      await client.runs.wait(id, 'agent', { input: human('one') });
      const [, earlier] = await client.threads.getHistory(id, { limit: 2 });
      await client.threads.updateState(id, { values: { messages: [{ role: 'user', content: 'edited' }] }, asNode: '__start__' });
      await client.runs.wait(id, 'agent', { input: null });
      await client.runs.wait(id, 'agent', { input: null, checkpointId: earlier!.checkpoint.checkpoint_id! });
      await client.runs.wait(id, 'agent', { input: human('boom'), config: script({ error: 'scripted failure' }), raiseError: false });
      return id;
    },
  },
  {
    name: 'webhook',
    async run(client, apiUrl) {
      const id = await thread(client);
      // The API has no route there: delivery is refused at once, and the thread must not care.
      const webhook = `${apiUrl}/no-such-webhook-receiver`;
      await client.runs.wait(id, 'agent', { input: human('hook me'), webhook });
      // The delivery starts once the run has ended; a next run puts that start inside the recorded history.
      await client.runs.wait(id, 'agent', { input: human('again') });
      return id;
    },
  },
  {
    name: 'queue-cancel-preempt-and-update',
    async run(client) {
      const id = await thread(client);
      const slow = script(...Array.from({ length: 4 }, () => ({ content: 'slow', delay_ms: 1500 })));
      const a = await client.runs.create(id, 'agent', { input: human('a'), config: slow });
      const b = await client.runs.create(id, 'agent', { input: human('b'), multitaskStrategy: 'enqueue' });
      await client.runs.cancel(id, b.run_id);
      await client.runs.join(id, a.run_id);
      await settle(client, id);
      await client.threads.updateState(id, { values: { note: 'between runs' }, asNode: 'agent' });
      await client.runs.create(id, 'agent', { input: human('c'), config: slow });
      await new Promise((r) => setTimeout(r, 300));
      await client.runs.wait(id, 'agent', { input: human('d'), multitaskStrategy: 'interrupt' });
      await settle(client, id);
      return id;
    },
  },
  {
    name: 'orphans-reconciled',
    async run(client, _apiUrl, temporal) {
      const id = await thread(client);
      const a = await client.runs.create(id, 'agent', { input: human('a'), config: script({ content: 'slow', delay_ms: 4000 }) });
      const b = await client.runs.create(id, 'agent', { input: human('b'), multitaskStrategy: 'enqueue', afterSeconds: 60 });
      await client.runs.create(id, 'agent', { input: human('c'), multitaskStrategy: 'enqueue' });
      await until(async () => (await client.runs.get(id, a.run_id)).status === 'running');
      await temporal.workflow.getHandle(threadWorkflowId(id)).terminate('scenario: an operator stops the workflow');
      await client.runs.cancel(id, b.run_id, true);
      await settle(client, id);
      return id;
    },
  },
  ...(['first', 'last'] as const).map((history): Scenario => ({
    name: history === 'first' ? 'long-run-continues-as-new' : 'long-run-resumed-after-continue-as-new',
    serverConfig: { 'limit.historyCount.suggestContinueAsNew': 40 },
    history,
    async run(client) {
      const id = await thread(client);
      const turns = Array.from({ length: 8 }, (_, i) => ({ tool_calls: [{ name: 'calculator', args: { expression: `${i}*2` } }] }));
      await client.runs.wait(id, 'agent', { input: human('count'), config: script(...turns, { content: 'done' }) });
      return id;
    },
  })),
];
