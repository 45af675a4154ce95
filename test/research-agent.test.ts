import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectAgentsDir, startStack, type Stack } from './helpers/stack.js';

// The example that ships, agents/research, driven by the scripted model as the README walks through it: a plan in
// todos, a skill read on demand, a fact in the knowledge graph (MCP memory server over stdio), a fact check by the
// subagent (a child workflow that writes a file and calls an MCP tool), and a report kept in the store.

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ agentsDir: projectAgentsDir, workerEnv: { DATA_DIR: mkdtempSync(`${tmpdir()}/research-`) } });
});
afterAll(() => stack?.stop());

type Values = {
  messages: { type: string; content: string }[];
  todos?: { content: string; status: string }[];
  files?: Record<string, { content: string }>;
};
const call = (name: string, args: Record<string, unknown>) => ({ tool_calls: [{ name, args }] });
const fact = { name: 'Temporal', entityType: 'project', observations: ['first release in 2020'] };

export const researchScript = [
  call('write_todos', {
    todos: [
      { content: 'look it up', status: 'in_progress' },
      { content: 'check facts', status: 'pending' },
    ],
  }),
  call('read_file', { file_path: '/skills/web-research/SKILL.md' }),
  call('create_entities', { entities: [fact] }),
  call('task', { description: 'Check the claim: Temporal was first released in 2020.', subagent_type: 'fact-checker' }),
  call('write_file', { file_path: '/memories/reports/temporal.md', content: '# Temporal\nFirst release: 2020 (confirmed).' }),
  { content: 'Temporal was first released in 2020 (confirmed by the fact-checker).' },
];
export const factCheckerScript = [
  call('search_nodes', { query: 'Temporal' }),
  call('write_file', { file_path: '/notes/checks.md', content: 'Temporal 2020: found in the knowledge graph' }),
  { content: 'confirmed: the knowledge graph says first release in 2020.' },
];

describe('agents/research', () => {
  it('plans, reads a skill, records a fact over MCP, has it checked by its subagent and keeps the report', async () => {
    const { thread_id } = await stack.client.threads.create();
    const values = (await stack.client.runs.wait(thread_id, 'research', {
      input: { messages: [{ role: 'user', content: 'When was Temporal first released?' }] },
      config: { configurable: { script: researchScript, subagent_scripts: { 'fact-checker': factCheckerScript }, user_id: 'ann' } },
    })) as Values;
    const tools = values.messages.filter((m) => m.type === 'tool').map((m) => m.content);
    expect(tools[1]).toContain('name: web-research');
    expect(JSON.parse(tools[2]!)).toEqual([fact]);
    expect(tools[3]).toBe('confirmed: the knowledge graph says first release in 2020.');
    expect(values.messages.at(-1)!.content).toBe('Temporal was first released in 2020 (confirmed by the fact-checker).');
    expect(values.todos?.map((t) => t.content)).toEqual(['look it up', 'check facts']);
    // The report is under /memories/: in the store, for this user, not in the thread's state.
    expect(values.files ?? {}).toEqual({});
    const report = await stack.deps.store.get(
      ['filesystem', (await stack.client.assistants.get('research')).assistant_id, 'ann'],
      '/memories/reports/temporal.md',
    );
    expect(report?.value.content).toContain('First release: 2020');
    // The subagent found the fact over MCP and kept its notes in its own thread.
    const [child] = await stack.client.threads.search({ metadata: { subagent_of: { thread_id } } });
    const childValues = child!.values as Values;
    expect(JSON.parse(childValues.messages.filter((m) => m.type === 'tool')[0]!.content).entities).toEqual([fact]);
    expect(childValues.files!['/notes/checks.md']!.content).toContain('found in the knowledge graph');
  });
});
