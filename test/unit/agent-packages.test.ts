import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { builtinToolNames } from '../../activities/tools/builtin.js';
import { loadAgentPackages } from '../../agent-packages/index.js';

// Agent packages (core/agents/): a folder per agent loads into a graph definition, and each way a package can be
// wrong is reported with the file and field named, without keeping the other packages from loading.

const fixtures = fileURLToPath(new URL('../fixtures/agents', import.meta.url));
const projectAgents = fileURLToPath(new URL('../../agents', import.meta.url));
const load = (dir: string) => loadAgentPackages(dir, { builtinTools: builtinToolNames() });
const temp = mkdtempSync(path.join(tmpdir(), 'agents-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe('agent packages', () => {
  it('loads a package with skills, a subagent, its own tools and a filesystem', async () => {
    const { agents, tools } = await load(fixtures);
    const shop = agents.find((a) => a.graphId === 'shop')!;
    expect(shop).toBeDefined();
    expect(shop.systemPrompt).toContain('You are the shop assistant.');
    // Progressive disclosure: the prompt lists each skill's name and description and where to read it.
    expect(shop.systemPrompt).toContain('- pricing: How to price an order with discounts. (read /skills/pricing/SKILL.md');
    expect(shop.skills!.map((s) => s.name)).toEqual(['pricing', 'returns']);
    expect(shop.systemPrompt).toContain('## Subagents\nHand self-contained work to a subagent with the task tool');
    expect(shop.systemPrompt).toContain('- researcher: Looks things up and writes notes.');
    expect(shop.tools).toEqual([
      'calculator',
      'discount',
      'refund',
      'ls',
      'read_file',
      'write_file',
      'edit_file',
      'glob',
      'grep',
      'write_todos',
      'task',
    ]);
    expect(Object.keys(shop.files!).sort()).toEqual([
      '/AGENTS.md',
      '/skills/pricing/SKILL.md',
      '/skills/pricing/table.md',
      '/skills/returns/SKILL.md',
    ]);
    expect(shop.subagents).toEqual([
      {
        name: 'researcher',
        description: 'Looks things up and writes notes.',
        systemPrompt: 'You research questions and answer briefly.',
        tools: ['calculator', 'write_file', 'read_file', 'create_ticket', 'ask_human'],
      },
    ]);
    expect(shop).toMatchObject({ model: 'scripted', interruptOn: { refund: true }, backend: { type: 'composite' } });
    expect(shop.middleware).toEqual([{ name: 'model_call_limit', options: { runLimit: 20 } }]);
    expect(tools.map((t) => t.name)).toEqual(['discount', 'refund']);
  });

  it('reports each bad package with the reason, and loads the others', async () => {
    const { agents, problems } = await load(fixtures);
    expect(agents.map((a) => a.graphId)).toEqual(['shop']);
    expect(Object.fromEntries(problems.map((p) => [p.agent, p.error]))).toEqual({
      'bad-json': expect.stringMatching(/^agent\.json: field tools\.1: .*expected string/),
      collides: 'tools/: the tool name "calculator" collides with a built-in tool',
      'no-frontmatter': expect.stringContaining('skills/broken/SKILL.md has no frontmatter'),
      'no-prompt': 'AGENTS.md is missing (it holds the system prompt)',
    });
  });

  it('rejects a path that leads out of the package', async () => {
    const dir = path.join(temp, 'escape');
    cpSync(path.join(fixtures, 'bad-json'), path.join(dir, 'leaky'), { recursive: true });
    writeFileSync(path.join(dir, 'leaky', 'agent.json'), '{"name": "leaky"}');
    rmSync(path.join(dir, 'leaky', 'AGENTS.md'));
    writeFileSync(path.join(temp, 'secret.md'), 'outside');
    symlinkSync(path.join(temp, 'secret.md'), path.join(dir, 'leaky', 'AGENTS.md'));
    const { agents, problems } = await load(dir);
    expect(agents).toEqual([]);
    expect(problems).toEqual([{ agent: 'leaky', error: expect.stringMatching(/^AGENTS\.md leads outside the package/) }]);
  });

  it('names an unknown agent.json key and an unknown tool', async () => {
    const dir = path.join(temp, 'keys');
    for (const [name, json] of [
      ['typo', '{"name": "typo", "modle": "x"}'],
      ['unknown-tool', '{"name": "unknown-tool", "tools": ["nope"]}'],
    ] as const) {
      cpSync(path.join(fixtures, 'bad-json'), path.join(dir, name), { recursive: true });
      writeFileSync(path.join(dir, name, 'agent.json'), json);
    }
    const { problems } = await load(dir);
    expect(problems).toEqual([
      { agent: 'typo', error: expect.stringMatching(/^agent\.json: field \(root\): Unrecognized key: "modle"/) },
      { agent: 'unknown-tool', error: expect.stringMatching(/^agent\.json: field tools\.0: unknown tool "nope"/) },
    ]);
  });

  it('ships the built-in agent as a package', async () => {
    const { agents, problems } = await load(projectAgents);
    expect(problems).toEqual([]);
    expect(agents.find((a) => a.graphId === 'agent')).toMatchObject({
      tools: ['calculator', 'current_time', 'save_memory', 'search_memories', 'forget_memory'],
      systemPrompt: expect.stringContaining('save_memory'),
    });
  });
});
