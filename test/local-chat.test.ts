import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { toChatHistory, toGbnfSchema } from '../activities/models/local-chat.js';
import { builtinTools } from '../activities/tools/builtin.js';
import { ToolRegistry } from '../activities/tools/types.js';
import { aiMessage, humanMessage, toolMessage } from '../core/messages.js';

// The local provider's translation of LangChain messages and tool schemas into node-llama-cpp's terms.

const call = (name: string, args: Record<string, unknown>, id: string) => ({ name, args, id, type: 'tool_call' as const });

describe('toChatHistory', () => {
  it('ends with an empty model turn after a person speaks', () => {
    expect(toChatHistory('Be brief.', [humanMessage('hi', 'h1')])).toEqual([
      { type: 'system', text: 'Be brief.' },
      { type: 'user', text: 'hi' },
      { type: 'model', response: [] },
    ]);
  });

  it('keeps calls, their results and the answer after them in one model turn', () => {
    const history = toChatHistory('', [
      humanMessage('what is 2+2?', 'h1'),
      aiMessage('Let me add.', 'a1', [call('calculator', { expression: '2+2' }, 'c1')]),
      toolMessage('4', 'c1', 'calculator', 't1'),
      aiMessage('It is 4.', 'a2'),
      humanMessage('and the weather?', 'h2'),
    ]);
    expect(history).toEqual([
      { type: 'user', text: 'what is 2+2?' },
      {
        type: 'model',
        response: ['Let me add.', { type: 'functionCall', name: 'calculator', params: { expression: '2+2' }, result: '4' }, 'It is 4.'],
      },
      { type: 'user', text: 'and the weather?' },
      { type: 'model', response: [] },
    ]);
  });

  it('leaves the turn open when tool results are the last messages, so the model continues it', () => {
    const history = toChatHistory('', [
      humanMessage('look it up', 'h1'),
      aiMessage('', 'a1', [call('lookup', { q: 'x' }, 'c1'), call('lookup', { q: 'y' }, 'c2')]),
      toolMessage('{"found": "x"}', 'c1', 'lookup', 't1'),
      toolMessage('not found', 'c2', 'lookup', 't2'),
    ]);
    expect(history.at(-1)).toEqual({
      type: 'model',
      response: [
        { type: 'functionCall', name: 'lookup', params: { q: 'x' }, result: { found: 'x' } },
        { type: 'functionCall', name: 'lookup', params: { q: 'y' }, result: 'not found' },
      ],
    });
  });

  it('shows a result whose call is not in the history as text', () => {
    const history = toChatHistory('', [humanMessage('hi', 'h1'), toolMessage('42', 'gone', 'calculator', 't1')]);
    expect(history.slice(1)).toEqual([
      { type: 'user', text: 'Result of calculator: 42' },
      { type: 'model', response: [] },
    ]);
  });
});

describe('toGbnfSchema', () => {
  it('turns anyOf into oneOf and a schema with no type into any scalar', () => {
    const schema = z.toJSONSchema(
      z.object({ when: z.union([z.string(), z.object({ at: z.string() })]), note: z.any(), tags: z.array(z.string()).max(3) }),
    );
    expect(toGbnfSchema(schema)).toEqual({
      type: 'object',
      properties: {
        when: {
          oneOf: [
            { type: 'string' },
            { type: 'object', properties: { at: { type: 'string' } }, required: ['at'], additionalProperties: false },
          ],
        },
        note: { type: ['string', 'number', 'boolean', 'null'] },
        tags: { type: 'array', items: { type: 'string' }, maxItems: 3 },
      },
      required: ['when', 'note', 'tags'],
      additionalProperties: false,
    });
  });

  it('builds a grammar for every built-in tool', async () => {
    const { getLlama } = await import('node-llama-cpp');
    const llama = await getLlama({ gpu: false, build: 'never' });
    const registry = new ToolRegistry(builtinTools);
    for (const spec of registry.specs(registry.names())) {
      const grammar = await llama.createGrammarForJsonSchema(toGbnfSchema(spec.parameters) as never);
      expect(grammar.grammar.length, spec.name).toBeGreaterThan(0);
    }
  });
});
