import type { Client } from '@langchain/langgraph-sdk';
import type { Client as TemporalClient } from '@temporalio/client';
import { threadWorkflowId } from '../../core/ids.js';
import { askPerson } from './ask-middleware.js';
import { human } from './input.js';
import { pollUntil } from './wait.js';

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

/** Waits until the run is in flight; fails loudly if it never gets there. */
async function running(client: Client, threadId: string, runId: string): Promise<void> {
  await pollUntil(`run ${runId} running`, async () => (await client.runs.get(threadId, runId)).status === 'running');
}

/** Waits until none of the thread's runs is pending or running; fails loudly if they never settle. */
async function settle(client: Client, threadId: string): Promise<void> {
  await pollUntil(`runs of ${threadId} settled`, async () =>
    (await client.runs.list(threadId)).every((r) => r.status !== 'pending' && r.status !== 'running'),
  );
}

/** Fails unless the thread's runs ended as the scenario meant them to (a deleted run is absent). */
async function expectRuns(client: Client, threadId: string, want: Record<string, string>): Promise<void> {
  const listed = new Map((await client.runs.list(threadId)).map((r) => [r.run_id, r.status as string]));
  const got = Object.fromEntries(Object.keys(want).map((id) => [id, listed.get(id) ?? 'deleted']));
  const extra = [...listed.keys()].filter((id) => !(id in want));
  if (extra.length || JSON.stringify(got) !== JSON.stringify(want))
    throw new Error(
      `the runs ended otherwise than the scenario meant: ${JSON.stringify(got)}, extra ${extra}; meant ${JSON.stringify(want)}`,
    );
}

/** The thread's first run, as expectRuns wants it (id -> success). */
async function firstRun(client: Client, threadId: string): Promise<Record<string, string>> {
  const runs = await client.runs.list(threadId);
  const first = runs.sort((a, b) => a.created_at.localeCompare(b.created_at))[0]!;
  return { [first.run_id]: 'success' };
}

/** Custom middleware the scenarios use: the stacks that play them register these. */
export const scenarioMiddleware = [askPerson];

export const scenarios: Scenario[] = [
  {
    // Middleware hook steps (Patch.middleware): before/after_model steps, a tool limit answering a call, a model
    // limit ending the run with a jump, after_agent resetting run counters; then a review and resume.
    name: 'middleware-steps',
    async run(client) {
      const id = await thread(client);
      const calc = (e: string) => ({ name: 'calculator', args: { expression: e } });
      const middleware = [
        { name: 'pii', options: { piiType: 'email', applyToOutput: true, applyToToolResults: true } },
        { name: 'model_call_limit', options: { runLimit: 2 } },
        { name: 'tool_call_limit', options: { toolName: 'calculator', runLimit: 1 } },
      ];
      await client.runs.wait(id, 'agent', {
        input: human('I am ann@example.com'),
        config: {
          configurable: {
            middleware,
            script: [{ tool_calls: [calc('1+1'), calc('2+2')] }, { tool_calls: [calc('3+3')] }, { content: 'x' }],
          },
        },
      });
      const reviewed = [{ name: 'human_in_the_loop', options: { interruptOn: { create_ticket: true } } }];
      const config = { configurable: { middleware: reviewed, script: [{}, {}, {}, ticket, { content: 'filed' }] } }; // the script goes by AI messages so far: 3
      await client.runs.wait(id, 'agent', { input: human('file it'), config });
      await client.runs.wait(id, 'agent', { command: { resume: { decisions: [{ type: 'approve' }] } }, config });
      return id;
    },
  },
  {
    // Patch.hooksInModel: the model activity runs before_model (a limit jumping to end), the turn, after_model (a tool
    // limit answering a call, spend_cap charging) and after_agent; then a run that pauses after the model, which
    // keeps the hook phases as local activities.
    name: 'hook-phases-in-model-activity',
    async run(client) {
      const id = await thread(client);
      const calc = (e: string) => ({ name: 'calculator', args: { expression: e } });
      const middleware = [
        { name: 'pii', options: { piiType: 'email', applyToInput: true, applyToOutput: true, applyToToolResults: true } },
        { name: 'model_call_limit', options: { runLimit: 2 } },
        { name: 'tool_call_limit', options: { toolName: 'calculator', runLimit: 1 } },
        { name: 'spend_cap', options: { runUsd: 100 } },
      ];
      const script = [{ tool_calls: [calc('1+1'), calc('2+2')] }, { tool_calls: [calc('3+3')] }, { content: 'x' }];
      await client.runs.wait(id, 'agent', { input: human('I am ann@example.com'), config: { configurable: { middleware, script } } });
      // The script goes by AI messages so far: 3.
      const next = { configurable: { middleware, script: [{}, {}, {}, { content: 'y' }] } };
      await client.runs.wait(id, 'agent', { input: human('again'), config: next });
      await client.runs.wait(id, 'agent', { input: human('once more'), config: next, interruptAfter: ['agent'] });
      return id;
    },
  },
  {
    // Patch.hookInterrupts: step hooks pause the thread (the test middleware ask_person of scenarioMiddleware):
    // before_agent asking twice (a phase activity of its own), before_model and after_model inside the model
    // activity, then a before_model phase of a run that pauses after the model (a local activity); each resume
    // goes on from the hook that asked.
    name: 'hook-interrupts',
    async run(client) {
      const id = await thread(client);
      const ask = (mid: string, at: string, questions = 1) => ({ name: 'ask_person', id: mid, options: { at, questions } });
      const middleware = [ask('S', 'before_agent', 2), ask('Q', 'before_model'), ask('R', 'after_model')];
      const first = { configurable: { middleware, script: [{ content: 'one' }] } };
      await client.runs.wait(id, 'agent', { input: human('hi'), config: first });
      for (const answer of ['s1', 's2', 'q', 'r']) await client.runs.wait(id, 'agent', { command: { resume: answer }, config: first });
      const second = { configurable: { middleware: [ask('T', 'before_model')], script: [{}, { content: 'two' }] } };
      await client.runs.wait(id, 'agent', { input: human('again'), config: second, interruptAfter: ['agent'] });
      await client.runs.wait(id, 'agent', { command: { resume: 't' }, config: second, interruptAfter: ['agent'] });
      const values = (await client.threads.getState(id)).values as Record<string, unknown>;
      const got = ['S', 'Q', 'R', 'T'].map((k) => values[`answers_${k}`]);
      if (JSON.stringify(got) !== JSON.stringify([['s1', 's2'], ['q'], ['r'], ['t']]))
        throw new Error(`the hooks got other answers than the scenario gave: ${JSON.stringify(got)}`);
      return id;
    },
  },
  {
    // Patch.beginRun: runs with input start in one local activity, on the head and on an earlier checkpoint.
    name: 'begin-run-one-activity',
    async run(client) {
      const id = await thread(client);
      await client.runs.wait(id, 'agent', {
        input: human('2+2?'),
        config: script({ tool_calls: [{ name: 'calculator', args: { expression: '2+2' } }] }, { content: '4' }),
      });
      const [, earlier] = await client.threads.getHistory(id, { limit: 2 });
      await client.runs.wait(id, 'agent', { input: human('again'), checkpointId: earlier!.checkpoint.checkpoint_id! });
      await client.runs.wait(id, 'agent', { input: human('boom'), config: script({ error: 'scripted failure' }), raiseError: false });
      return id;
    },
  },
  {
    // Patch.finishInModel: the model turn that ends the graph ends the run in its activity; a run queued behind a
    // slow one keeps the thread busy until it has run too.
    name: 'finish-run-in-model-activity',
    async run(client) {
      const id = await thread(client);
      await client.runs.wait(id, 'agent', {
        input: human('2+2?'),
        config: script({ tool_calls: [{ name: 'calculator', args: { expression: '2+2' } }] }, { content: '4' }),
      });
      // The script answers by turn: the thread has two AI messages already.
      const late = script({}, {}, { content: 'late', delay_ms: 1500 });
      const slow = await client.runs.create(id, 'agent', { input: human('slow'), config: late });
      await running(client, id, slow.run_id);
      const queued = await client.runs.create(id, 'agent', { input: human('next'), multitaskStrategy: 'enqueue' });
      await client.runs.join(id, queued.run_id);
      await expectRuns(client, id, { [slow.run_id]: 'success', [queued.run_id]: 'success', ...(await firstRun(client, id)) });
      const status = (await client.threads.get(id)).status;
      if (status !== 'idle') throw new Error(`the thread should be idle once its runs ended, not ${status}`);
      return id;
    },
  },
  {
    // Patch.admitBegin: a run admitted on an idle thread is recorded and begun in one local activity, on the head
    // and on an earlier checkpoint; one rolled back by the next run right after it was begun ends through its run.
    name: 'admit-begin-one-activity',
    async run(client) {
      const id = await thread(client);
      const tool = await client.runs.create(id, 'agent', {
        input: human('2+2?'),
        config: script({ tool_calls: [{ name: 'calculator', args: { expression: '2+2' } }] }, { content: '4' }),
      });
      await client.runs.join(id, tool.run_id);
      const [, earlier] = await client.threads.getHistory(id, { limit: 2 });
      const travel = await client.runs.create(id, 'agent', { input: human('again'), checkpointId: earlier!.checkpoint.checkpoint_id! });
      await client.runs.join(id, travel.run_id);
      // The scripted model answers by turn: every turn of this thread is slow, so only the rollback ends it.
      const slow = script(...Array.from({ length: 8 }, () => ({ content: 'slow', delay_ms: 60_000 })));
      const first = await client.runs.create(id, 'agent', { input: human('first'), config: slow });
      const second = await client.runs.create(id, 'agent', { input: human('instead'), multitaskStrategy: 'rollback' });
      await client.runs.join(id, second.run_id);
      await expectRuns(client, id, {
        [tool.run_id]: 'success',
        [travel.run_id]: 'success',
        [first.run_id]: 'deleted',
        [second.run_id]: 'success',
      });
      return id;
    },
  },
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
    // One interrupt lists both reviewed calls; agent-chat-ui's "Mark as Resolved" (goto __end__) leaves it
    // waiting; its resume, an empty input beside the command, answers both calls in order.
    name: 'review-batch',
    async run(client) {
      const id = await thread(client);
      const calls = [
        { name: 'create_ticket', args: { title: 'first' } },
        { name: 'calculator', args: { expression: '1+1' } },
        { name: 'create_ticket', args: { title: 'second' } },
      ];
      const config = {
        configurable: { ...script({ tool_calls: calls }, { content: 'done' }).configurable, interrupt_on: { create_ticket: true } },
      };
      await client.runs.wait(id, 'agent', { input: human('two tickets'), config });
      await client.runs.wait(id, 'agent', { input: {}, command: { goto: '__end__' }, config });
      const decisions = [{ type: 'approve' }, { type: 'reject', message: 'one is enough' }];
      await client.runs.wait(id, 'agent', { input: {}, command: { resume: { decisions } }, config });
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
      // Far longer than the scenario: the interrupt and the rollback end these turns, never the clock.
      const slow = script(...Array.from({ length: 6 }, () => ({ content: 'slow', delay_ms: 60_000 })));
      const first = await client.runs.create(id, 'agent', { input: human('first'), config: slow });
      await running(client, id, first.run_id);
      const second = await client.runs.create(id, 'agent', { input: human('interrupting'), config: slow, multitaskStrategy: 'interrupt' });
      await running(client, id, second.run_id);
      const third = await client.runs.create(id, 'agent', { input: human('rolling back'), multitaskStrategy: 'rollback' });
      const fourth = await client.runs.create(id, 'agent', { input: human('queued'), multitaskStrategy: 'enqueue' });
      await client.runs.join(id, fourth.run_id);
      await expectRuns(client, id, {
        [first.run_id]: 'interrupted',
        [second.run_id]: 'deleted',
        [third.run_id]: 'success',
        [fourth.run_id]: 'success',
      });
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
    // Time travel to an input checkpoint (next: __start__) with no new input applies the recorded input again.
    name: 'replay-input-checkpoint',
    async run(client) {
      const id = await thread(client);
      await client.runs.wait(id, 'agent', { input: human('first') });
      const history = await client.threads.getHistory(id, { limit: 10 });
      const input = history.find((h) => h.metadata?.source === 'input')!;
      await client.runs.wait(id, 'agent', { input: null, checkpointId: input.checkpoint.checkpoint_id! });
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
    name: 'continue-as-new-with-queue',
    serverConfig: { 'limit.historyCount.suggestContinueAsNew': 40 },
    history: 'first',
    async run(client) {
      const id = await thread(client);
      const slow = script(...Array.from({ length: 6 }, (_, i) => ({ content: `answer ${i}`, delay_ms: i === 0 ? 1500 : 50 })));
      const runs = [];
      for (const text of ['q1', 'q2', 'q3', 'q4']) {
        runs.push(await client.runs.create(id, 'agent', { input: human(text), config: slow, multitaskStrategy: 'enqueue' }));
      }
      await client.runs.join(id, runs.at(-1)!.run_id);
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
      const c = await client.runs.create(id, 'agent', { input: human('c'), config: slow });
      await running(client, id, c.run_id);
      await client.runs.wait(id, 'agent', { input: human('d'), multitaskStrategy: 'interrupt' });
      await settle(client, id);
      return id;
    },
  },
  {
    name: 'stateless-delete',
    async run(client) {
      // The temporary thread lingers for a grace period before it is deleted: the history ends inside that wait.
      const run = await client.runs.create(null, 'agent', { input: human('no thread needed') });
      await client.runs.join(run.thread_id, run.run_id);
      return run.thread_id;
    },
  },
  {
    name: 'after-seconds',
    async run(client) {
      const id = await thread(client);
      const run = await client.runs.create(id, 'agent', { input: human('later'), afterSeconds: 1 });
      await client.runs.join(id, run.run_id);
      return id;
    },
  },
  {
    name: 'command-update-and-goto',
    async run(client) {
      const id = await thread(client);
      await client.runs.wait(id, 'agent', { input: human('first') });
      await client.runs.wait(id, 'agent', { command: { update: { messages: [{ role: 'user', content: 'added' }] }, goto: 'agent' } });
      return id;
    },
  },
  {
    name: 'recursion-limit',
    async run(client) {
      const id = await thread(client);
      const loop = { tool_calls: [{ name: 'calculator', args: { expression: '1+1' } }] };
      await client.runs.wait(id, 'agent', {
        input: human('loop forever'),
        config: { recursion_limit: 3, ...script(loop, loop, loop, loop) },
        raiseError: false,
      });
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
      await running(client, id, a.run_id);
      await temporal.workflow.getHandle(threadWorkflowId(id)).terminate('scenario: an operator stops the workflow');
      await client.runs.cancel(id, b.run_id, true);
      await settle(client, id);
      return id;
    },
  },
  {
    // The tools step hands a `task` call to a subagent child workflow (the built-in agent has no subagents, so the
    // child answers with an error, which is the tool result) next to a file write that lands in thread state.
    name: 'subagent-task-and-files',
    async run(client) {
      const id = await thread(client);
      const calls = [
        { name: 'task', args: { description: 'look it up', subagent_type: 'researcher' } },
        { name: 'write_file', args: { file_path: '/notes.md', content: 'n' } },
      ];
      await client.runs.wait(id, 'agent', {
        input: human('delegate'),
        config: { configurable: { script: [{ tool_calls: calls }, { content: 'done' }], tools: ['task', 'write_file'] } },
      });
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
