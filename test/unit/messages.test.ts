import { describe, expect, it } from 'vitest';
import {
  addMessages,
  aiMessage,
  coerceMessage,
  humanMessage,
  messageText,
  MessageFormatError,
  pendingToolCalls,
  REMOVE_ALL_MESSAGES,
  toolMessage,
  type Message,
} from '../../core/messages.js';

// The message coercion and the messages reducer of core/messages.ts, as LangGraph defines them.

/** Deterministic ids: id-1, id-2, ... */
const ids = () => {
  let n = 0;
  return () => `id-${++n}`;
};
const remove = (id: string): Message => ({ type: 'remove', id, content: '', additional_kwargs: {}, response_metadata: {} });
const contents = (ms: Message[]) => ms.map((m) => m.content);

describe('coerceMessage', () => {
  it('turns a plain string into a human message with a fresh id', () => {
    expect(coerceMessage('hello', ids())).toEqual(humanMessage('hello', 'id-1'));
  });

  it('reads role-style, type-style, tuple and class-name spellings alike', () => {
    const spellings: [unknown, string][] = [
      [{ role: 'user', content: 'a' }, 'human'],
      [{ role: 'assistant', content: 'a' }, 'ai'],
      [{ type: 'human', content: 'a' }, 'human'],
      [{ type: 'AIMessageChunk', content: 'a' }, 'ai'],
      [{ type: 'SystemMessage', content: 'a' }, 'system'],
      [['user', 'a'], 'human'],
      [['assistant', 'a'], 'ai'],
    ];
    for (const [raw, type] of spellings) expect(coerceMessage(raw, ids())).toMatchObject({ type, content: 'a', id: 'id-1' });
  });

  it('keeps a given id and draws a new one only when it is missing or empty', () => {
    expect(coerceMessage({ role: 'user', content: 'a', id: 'mine' }, ids()).id).toBe('mine');
    expect(coerceMessage({ role: 'user', content: 'a', id: '' }, ids()).id).toBe('id-1');
  });

  it('gives an AI message tool calls with ids and type, and empty lists by default', () => {
    const m = coerceMessage(
      {
        role: 'ai',
        content: '',
        id: 'm1',
        tool_calls: [
          { name: 'calc', args: { x: 1 } },
          { name: 'now', id: 'c2' },
        ],
      },
      ids(),
    );
    expect(m.tool_calls).toEqual([
      { name: 'calc', args: { x: 1 }, id: 'call_m1_0', type: 'tool_call' },
      { name: 'now', args: {}, id: 'c2', type: 'tool_call' },
    ]);
    expect(m.invalid_tool_calls).toEqual([]);
    expect(coerceMessage({ role: 'ai', content: 'x' }, ids())).toMatchObject({ tool_calls: [], invalid_tool_calls: [] });
  });

  it('keeps the tool message fields and requires tool_call_id', () => {
    const m = coerceMessage({ type: 'tool', content: '4', tool_call_id: 'c1', status: 'error', artifact: { raw: 4 }, name: 'calc' }, ids());
    expect(m).toMatchObject({ type: 'tool', tool_call_id: 'c1', status: 'error', artifact: { raw: 4 }, name: 'calc' });
    expect(() => coerceMessage({ type: 'tool', content: '4' }, ids())).toThrow(MessageFormatError);
  });

  it('drops a status that is not success or error, and fields that are not objects', () => {
    const m = coerceMessage({ type: 'tool', content: '', tool_call_id: 'c', status: 'maybe', additional_kwargs: 'x' }, ids());
    expect(m.status).toBeUndefined();
    expect(m.additional_kwargs).toEqual({});
  });

  it('accepts content blocks and a missing content', () => {
    const blocks = [{ type: 'text', text: 'hi' }];
    expect(coerceMessage({ role: 'user', content: blocks }, ids()).content).toEqual(blocks);
    expect(coerceMessage({ role: 'user' }, ids()).content).toBe('');
  });

  it('refuses what is not a message', () => {
    for (const bad of [null, 42, { content: 'no type' }, { role: 'wizard', content: 'x' }, { role: 'user', content: 7 }]) {
      expect(() => coerceMessage(bad, ids())).toThrow(MessageFormatError);
    }
    expect(() => coerceMessage({ role: 'ai', content: '', tool_calls: [{ args: {} }] }, ids())).toThrow('a tool call needs a name');
  });
});

describe('addMessages', () => {
  const a = humanMessage('a', '1');
  const b = aiMessage('b', '2');
  const c = humanMessage('c', '3');

  it('appends new messages and replaces by id in place', () => {
    const b2 = aiMessage('b edited', '2');
    expect(addMessages([a, b], [c, b2])).toEqual([a, b2, c]);
  });

  it('leaves its inputs untouched', () => {
    const left = [a, b];
    addMessages(left, [aiMessage('x', '2'), c]);
    expect(left).toEqual([a, b]);
  });

  it('removes by id, and a removal refers only to existing messages', () => {
    expect(addMessages([a, b, c], [remove('2')])).toEqual([a, c]);
    expect(() => addMessages([a], [remove('nope')])).toThrow(MessageFormatError);
  });

  it('removes everything before a remove-all, keeping what comes after it', () => {
    expect(addMessages([a, b], [c, remove(REMOVE_ALL_MESSAGES), humanMessage('d', '4')])).toEqual([humanMessage('d', '4')]);
  });

  it('brings a removed id back when a later message in the same update reuses it', () => {
    const again = aiMessage('b again', '2');
    expect(contents(addMessages([a, b], [remove('2'), again]))).toEqual(['a', 'b again']);
  });
});

describe('messageText', () => {
  it('joins the text blocks and skips the others', () => {
    expect(messageText('plain')).toBe('plain');
    expect(
      messageText([
        { type: 'text', text: 'one' },
        { type: 'image_url', image_url: 'x' },
        { type: 'text', text: 'two' },
      ]),
    ).toBe('one\ntwo');
  });
});

describe('pendingToolCalls', () => {
  const call = (id: string) => ({ name: 'calc', args: {}, id, type: 'tool_call' as const });

  it('lists the calls of the last AI message that no tool message answers', () => {
    const ai = aiMessage('', 'm', [call('c1'), call('c2')]);
    expect(pendingToolCalls([humanMessage('q', 'h'), ai]).map((c) => c.id)).toEqual(['c1', 'c2']);
    expect(pendingToolCalls([ai, toolMessage('4', 'c1', 'calc', 't1')]).map((c) => c.id)).toEqual(['c2']);
  });

  it('looks only at the last AI message', () => {
    const older = aiMessage('', 'm1', [call('c1')]);
    expect(pendingToolCalls([older, aiMessage('answer', 'm2')])).toEqual([]);
    expect(pendingToolCalls([humanMessage('q', 'h')])).toEqual([]);
  });
});
