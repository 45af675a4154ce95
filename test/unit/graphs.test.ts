import { describe, expect, it } from 'vitest';
import { resolveAgentConfig } from '../../api/runs/agent-config.js';
import { AgentConfigError, defaultModel } from '../../core/agent-config.js';
import type { AgentDefinition } from '../../core/graphs.js';
import { allDecisions } from '../../core/review.js';

// Agent config parsing (api/runs/agent-config.ts, core/agent-config.ts): what a run's merged configurable/context becomes, and the clear errors
// a bad one gets (the API turns them into 422s).

const graph: AgentDefinition = {
  graphId: 'agent',
  description: 'test',
  systemPrompt: 'You are a test.',
  tools: ['calculator', 'current_time'],
};
const scripted = { provider: 'scripted' } as const;
const resolve = (settings: Record<string, unknown>, recursionLimit?: number) =>
  resolveAgentConfig(graph, settings, recursionLimit, scripted);

describe('defaultModel', () => {
  it('names the server default, with a model per provider unless one is set', () => {
    expect(defaultModel(scripted)).toBe('scripted');
    expect(defaultModel({ provider: 'openai' })).toBe('openai:gpt-4o-mini');
    expect(defaultModel({ provider: 'anthropic' })).toBe('anthropic:claude-sonnet-4-5');
    expect(defaultModel({ provider: 'openai', modelName: 'gpt-5' })).toBe('openai:gpt-5');
  });
});

describe('resolveAgentConfig', () => {
  it('falls back to the graph and server defaults', () => {
    expect(resolve({})).toEqual({
      model: 'scripted',
      systemPrompt: graph.systemPrompt,
      tools: graph.tools,
      maxSteps: 25,
      interruptOn: {},
    });
    expect(resolveAgentConfig(graph, {}, undefined, { provider: 'anthropic' }).model).toBe('anthropic:claude-sonnet-4-5');
  });

  it('takes every setting it knows, and the recursion limit as the step budget', () => {
    const config = resolve(
      { model: 'openai:gpt-4o', system_prompt: 'Be brief.', tools: ['calculator'], temperature: 0.2, max_tokens: 100, user_id: 'u1' },
      7,
    );
    expect(config).toEqual({
      model: 'openai:gpt-4o',
      systemPrompt: 'Be brief.',
      tools: ['calculator'],
      maxSteps: 7,
      interruptOn: {},
      temperature: 0.2,
      maxTokens: 100,
      userId: 'u1',
    });
  });

  it('ignores settings of the wrong type rather than passing them on', () => {
    const config = resolve({ model: 5, temperature: 'hot', max_tokens: '10', user_id: '' });
    expect(config.model).toBe('scripted');
    expect(config).not.toHaveProperty('temperature');
    expect(config).not.toHaveProperty('maxTokens');
    expect(config).not.toHaveProperty('userId');
  });

  it('refuses tools that are not a list of names', () => {
    expect(() => resolve({ tools: 'calculator' })).toThrow(AgentConfigError);
    expect(() => resolve({ tools: ['calculator', 3] })).toThrow('configurable.tools must be a list of tool names');
  });

  describe('interrupt_on', () => {
    it('reads true as every decision, an object as its own list, false as no review', () => {
      const config = resolve({
        interrupt_on: {
          create_ticket: true,
          send_email: { allowed_decisions: ['approve', 'reject'], description: 'Sends mail' },
          calculator: false,
        },
      });
      expect(config.interruptOn).toEqual({
        create_ticket: { allowedDecisions: [...allDecisions] },
        send_email: { allowedDecisions: ['approve', 'reject'], description: 'Sends mail' },
      });
    });

    it('gives an object without allowed_decisions every decision', () => {
      expect(resolve({ interrupt_on: { create_ticket: {} } }).interruptOn).toEqual({
        create_ticket: { allowedDecisions: [...allDecisions] },
      });
    });

    it('reads null as no review', () => {
      expect(resolve({ interrupt_on: null }).interruptOn).toEqual({});
    });

    it('refuses shapes and decisions it does not know', () => {
      for (const bad of [[], 'create_ticket', { create_ticket: 'yes' }, { create_ticket: { allowed_decisions: [] } }]) {
        expect(() => resolve({ interrupt_on: bad })).toThrow(AgentConfigError);
      }
      expect(() => resolve({ interrupt_on: { create_ticket: { allowed_decisions: ['approve', 'ignore'] } } })).toThrow(
        'configurable.interrupt_on.create_ticket.allowed_decisions must list some of approve, edit, reject, respond',
      );
    });
  });

  describe('script', () => {
    it('reads strings as answers and keeps the fields of each step', () => {
      const script = [
        'plain answer',
        { content: 'slow', delay_ms: 250 },
        { tool_calls: [{ name: 'calculator', args: { expression: '1+1' } }] },
        { error: 'boom' },
      ];
      expect(resolve({ script }).script).toEqual([
        { content: 'plain answer' },
        { content: 'slow', delay_ms: 250 },
        { tool_calls: [{ name: 'calculator', args: { expression: '1+1' } }] },
        { error: 'boom' },
      ]);
    });

    it('refuses malformed steps, naming the step', () => {
      const cases: [unknown, string][] = [
        ['not a list', 'configurable.script must be a list'],
        [[42], 'configurable.script[0] must be an object or a string'],
        [['ok', { content: 3 }], 'configurable.script[1].content must be a string'],
        [[{ tool_calls: [{ args: {} }] }], 'configurable.script[0].tool_calls must be a list of {name, args}'],
        [[{ tool_calls: {} }], 'configurable.script[0].tool_calls'],
        [[{ delay_ms: -1 }], 'configurable.script[0].delay_ms must be a non-negative number'],
        [[{ delay_ms: '10' }], 'configurable.script[0].delay_ms'],
      ];
      for (const [script, message] of cases) expect(() => resolve({ script })).toThrow(message);
    });
  });
});
