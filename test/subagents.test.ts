import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { threadWorkflowId } from '../core/ids.js';
import { startStack, type Stack } from './helpers/stack.js';

// Subagents: the shop package's `researcher`, run by a `task` call as a child workflow of the thread workflow.

const agentsDir = fileURLToPath(new URL('./fixtures/agents', import.meta.url));
let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ agentsDir });
});
afterAll(() => stack?.stop());

type Values = { messages: { type: string; content: string; tool_call_id?: string }[]; files?: Record<string, { content: string }> };
const task = (subagent_type: string) => ({
  tool_calls: [{ name: 'task', args: { description: 'What is 6*7? Keep notes.', subagent_type } }],
});
const researcher = [
  { tool_calls: [{ name: 'write_file', args: { file_path: '/notes.md', content: 'asked for 6*7' } }] },
  { tool_calls: [{ name: 'calculator', args: { expression: '6*7' } }] },
  { content: 'It is 42.' },
];
const configurable = (parent: object[], child: object[] = researcher) => ({ script: parent, subagent_scripts: { researcher: child } });

describe('subagents', () => {
  it("runs a task as a child workflow whose answer is the tool result, streaming the child's events namespaced", async () => {
    const { thread_id } = await stack.client.threads.create();
    const events: string[] = [];
    for await (const e of stack.client.runs.stream(thread_id, 'shop', {
      input: { messages: [{ role: 'user', content: 'ask the researcher' }] },
      config: { configurable: configurable([task('researcher'), { content: 'The researcher says 42.' }]) },
      streamMode: ['values', 'updates'],
      streamSubgraphs: true,
    })) {
      events.push(e.event);
    }
    const values = (await stack.client.threads.getState(thread_id)).values as Values;
    expect(values.messages.map((m) => m.type)).toEqual(['human', 'ai', 'tool', 'ai']);
    expect(values.messages[2]!.content).toBe('It is 42.');
    // The child's steps reach the parent's client under the task's namespace; the parent's own stay at the root.
    const namespaced = events.filter((e) => e.includes('|tools:'));
    expect(namespaced.some((e) => e.startsWith('updates|tools:'))).toBe(true);
    expect(namespaced.some((e) => e.startsWith('values|tools:'))).toBe(true);
    expect(events).toContain('values');

    // The child is a workflow of the thread workflow, on a thread of its own that holds its files and messages.
    const children = await stack.client.threads.search({ metadata: { subagent_of: { thread_id } } });
    expect(children).toHaveLength(1);
    const child = children[0]!.values as Values;
    expect(child.files!['/notes.md']!.content).toBe('asked for 6*7');
    expect(child.messages.map((m) => m.type)).toEqual(['human', 'ai', 'tool', 'ai', 'tool', 'ai']);
    expect(child.messages[4]!.content).toBe('42');
    const listed: string[] = [];
    for await (const w of stack.temporal.workflow.list({ query: `WorkflowType = 'subagentWorkflow'` })) {
      if (w.parentExecution?.workflowId === threadWorkflowId(thread_id)) listed.push(w.workflowId);
    }
    expect(listed).toHaveLength(1);
    const described = await stack.temporal.workflow.getHandle(listed[0]!).describe();
    expect(described.searchAttributes.GraphId).toEqual(['shop']);
  });

  it('answers a task for an unknown subagent with a tool error', async () => {
    const { thread_id } = await stack.client.threads.create();
    const values = (await stack.client.runs.wait(thread_id, 'shop', {
      input: { messages: [{ role: 'user', content: 'go' }] },
      config: { configurable: configurable([task('nobody'), { content: 'no luck' }]) },
    })) as Values;
    expect(values.messages[2]!.content).toBe('Error: unknown subagent_type "nobody"; available: researcher.');
  });

  it('cancels the child when the parent run is cancelled', async () => {
    const { thread_id } = await stack.client.threads.create();
    const run = await stack.client.runs.create(thread_id, 'shop', {
      input: { messages: [{ role: 'user', content: 'go' }] },
      config: { configurable: configurable([task('researcher'), { content: 'done' }], [{ content: 'slow', delay_ms: 60_000 }]) },
    });
    const childId = `${threadWorkflowId(thread_id)}/task/`;
    let child: string | undefined;
    await expect
      .poll(async () => {
        for await (const w of stack.temporal.workflow.list({ query: `WorkflowType = 'subagentWorkflow' AND ExecutionStatus = 'Running'` }))
          if (w.workflowId.startsWith(childId)) child = w.workflowId;
        return child;
      })
      .toBeDefined();
    await stack.client.runs.cancel(thread_id, run.run_id, true, 'interrupt');
    expect((await stack.client.runs.get(thread_id, run.run_id)).status).toBe('interrupted');
    await expect.poll(async () => (await stack.temporal.workflow.getHandle(child!).describe()).status.name).toBe('CANCELLED');
  });

  it("surfaces an interrupt inside the child on the parent thread, and the parent's resume reaches the child", async () => {
    const { thread_id } = await stack.client.threads.create();
    const child = [{ tool_calls: [{ name: 'ask_human', args: { question: 'Which rack?' } }] }, { content: 'Rack 7 it is.' }];
    const config = { configurable: configurable([task('researcher'), { content: 'The researcher chose.' }], child) };
    await stack.client.runs.wait(thread_id, 'shop', { input: { messages: [{ role: 'user', content: 'go' }] }, config });
    const waiting = await stack.client.threads.getState(thread_id);
    expect(waiting.next).toEqual(['tools']);
    expect(waiting.tasks[0]!.interrupts.map((i) => i.value)).toEqual([{ question: 'Which rack?' }]);

    const values = (await stack.client.runs.wait(thread_id, 'shop', { command: { resume: 'rack 7' }, config })) as Values;
    expect(values.messages.map((m) => m.type)).toEqual(['human', 'ai', 'tool', 'ai']);
    expect(values.messages[2]!.content).toBe('Rack 7 it is.');
    const [sub] = await stack.client.threads.search({ metadata: { subagent_of: { thread_id } } });
    expect((sub!.values as Values).messages.filter((m) => m.type === 'tool').map((m) => m.content)).toEqual(['rack 7']);
  });
});
