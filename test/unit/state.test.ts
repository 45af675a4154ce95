import { describe, expect, it } from 'vitest';
import { aiMessage, humanMessage, MessageFormatError, REMOVE_ALL_MESSAGES, type Message } from '../../core/messages.js';
import { applyWrites, normalizeWrites, StateBuilder, type ChannelWrites } from '../../core/state.js';

// State building in core/state.ts: `messages` goes through the messages reducer, every other key keeps its
// last value, and the in-place StateBuilder folds a chain of writes to the same values as applyWrites.

const ids = () => {
  let n = 0;
  return () => `id-${++n}`;
};
const remove = (id: string): Message => ({ type: 'remove', id, content: '', additional_kwargs: {}, response_metadata: {} });

describe('normalizeWrites', () => {
  it('coerces messages (a list or a single one) and passes other channels through', () => {
    expect(normalizeWrites({ messages: [{ role: 'user', content: 'hi' }], topic: 'cats' }, ids())).toEqual({
      messages: [humanMessage('hi', 'id-1')],
      topic: 'cats',
    });
    expect(normalizeWrites({ messages: 'just text' }, ids())).toEqual({ messages: [humanMessage('just text', 'id-1')] });
  });

  it('reads null and undefined as no writes, and refuses a value that is not an object', () => {
    expect(normalizeWrites(null, ids())).toEqual({});
    expect(normalizeWrites(undefined, ids())).toEqual({});
    expect(() => normalizeWrites([{ role: 'user', content: 'x' }], ids())).toThrow(MessageFormatError);
    expect(() => normalizeWrites('text', ids())).toThrow(MessageFormatError);
  });
});

describe('applyWrites', () => {
  it('merges messages by id and overwrites other channels', () => {
    const start = { messages: [humanMessage('a', '1')], topic: 'old', kept: 1 };
    const next = applyWrites(start, { messages: [aiMessage('b', '2'), humanMessage('a edited', '1')], topic: 'new' });
    expect(next).toEqual({ messages: [humanMessage('a edited', '1'), aiMessage('b', '2')], topic: 'new', kept: 1 });
    expect(start.messages).toHaveLength(1);
    expect(start.topic).toBe('old');
  });

  it('returns the same values for no writes', () => {
    const values = { messages: [humanMessage('a', '1')] };
    expect(applyWrites(values, null)).toBe(values);
    expect(applyWrites(values, undefined)).toBe(values);
  });

  it('starts the messages channel when there was none', () => {
    expect(applyWrites({}, { messages: [humanMessage('a', '1')] })).toEqual({ messages: [humanMessage('a', '1')] });
  });
});

describe('StateBuilder', () => {
  const chain: ChannelWrites[] = [
    { messages: [humanMessage('q1', 'h1')], topic: 'a' },
    { messages: [aiMessage('draft', 'a1')] },
    { messages: [aiMessage('final', 'a1'), humanMessage('q2', 'h2')], topic: 'b' },
    { messages: [remove('h1'), aiMessage('r2', 'a2')] },
    { count: 3 },
    { messages: [humanMessage('q1 again', 'h1')] },
  ];

  it('folds a chain of writes to what applying them one by one gives', () => {
    const folded = chain.reduce((b, w) => b.apply(w), new StateBuilder()).snapshot();
    const stepwise = chain.reduce((v, w) => applyWrites(v, w), {});
    expect(folded).toEqual(stepwise);
    expect(folded.messages!.map((m) => m.content)).toEqual(['final', 'q2', 'r2', 'q1 again']);
    expect(folded).toMatchObject({ topic: 'b', count: 3 });
  });

  it('clears everything at a remove-all and keeps indexing the messages after it', () => {
    const b = new StateBuilder()
      .apply({ messages: [humanMessage('a', '1'), aiMessage('b', '2')] })
      .apply({ messages: [remove(REMOVE_ALL_MESSAGES), humanMessage('c', '3')] })
      .apply({ messages: [humanMessage('c edited', '3'), aiMessage('d', '4')] });
    expect(b.snapshot().messages!.map((m) => m.content)).toEqual(['c edited', 'd']);
  });

  it('has no messages key until messages are written, and snapshots do not share the list', () => {
    const b = new StateBuilder().apply({ topic: 'x' }).apply(null);
    expect(b.snapshot()).toEqual({ topic: 'x' });
    b.apply({ messages: [humanMessage('a', '1')] });
    const first = b.snapshot();
    b.apply({ messages: [humanMessage('b', '2')] });
    expect(first.messages).toHaveLength(1);
    expect(b.snapshot().messages).toHaveLength(2);
  });

  it('refuses to remove a message that is not there, as the reducer does', () => {
    expect(() => new StateBuilder().apply({ messages: [humanMessage('a', '1')] }).apply({ messages: [remove('2')] })).toThrow(
      MessageFormatError,
    );
  });
});

describe('files channel', () => {
  const f = (content: string) => ({ content, created_at: 't', modified_at: 't' });
  it('merges per file and deletes on null, folded or applied alike', () => {
    const steps: ChannelWrites[] = [{ files: { '/a': f('1'), '/b': f('2') } }, { files: { '/a': f('3') } }, { files: { '/b': null } }];
    const folded = steps.reduce((b, w) => b.apply(w), new StateBuilder()).snapshot();
    const applied = steps.reduce((v, w) => applyWrites(v, w), {});
    expect(folded.files).toEqual({ '/a': f('3') });
    expect(applied.files).toEqual({ '/a': f('3') });
  });
});
