import { describe, expect, it } from 'vitest';
import { createModelResolver } from '../../activities/models/index.js';
import type { ModelChunk, ModelRequest } from '../../activities/models/types.js';
import { humanMessage } from '../../core/messages.js';
import { ModelGate } from '../helpers/gate.js';

// The integration tests lean on ModelGate to keep runs in flight; here it is checked on the scripted model alone.

const models = () => createModelResolver({ openaiBaseUrl: 'http://127.0.0.1:9/v1', anthropicBaseUrl: 'http://127.0.0.1:9' });
const request = (text: string): ModelRequest => ({
  model: 'scripted',
  system: '',
  messages: [humanMessage(text, 'h1')],
  tools: [],
  script: [{ content: 'one two three four' }],
});
const settledSoon = async (p: Promise<unknown>) => {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  return done;
};

describe('ModelGate', () => {
  it('holds a matching turn after the chosen number of chunks, then delivers the rest and the same answer', async () => {
    const gate = new ModelGate();
    const hold = gate.hold('go', 2);
    const { provider } = gate.wrap(models())('scripted');
    const chunks: ModelChunk[] = [];
    const answer = provider.generate(request('go'), (c) => chunks.push(c), new AbortController().signal);
    expect(await settledSoon(answer)).toBe(false);
    expect(hold.entered).toBe(1);
    expect(chunks.map((c) => c.content)).toEqual(['one ', 'two ']);
    hold.release();
    expect((await answer).content).toBe('one two three four');
    expect(chunks.map((c) => c.content)).toEqual(['one ', 'two ', 'three ', 'four']);
  });

  it('lets other turns through, and every turn once released', async () => {
    const gate = new ModelGate();
    gate.hold('go');
    const { provider } = gate.wrap(models())('scripted');
    const signal = new AbortController().signal;
    expect((await provider.generate(request('other'), () => undefined, signal)).content).toBe('one two three four');
    const held = provider.generate(request('go'), () => undefined, signal);
    expect(await settledSoon(held)).toBe(false);
    gate.releaseAll();
    expect((await held).content).toBe('one two three four');
    expect((await provider.generate(request('go'), () => undefined, signal)).content).toBe('one two three four');
  });

  it('gives up a held turn when the call is cancelled', async () => {
    const gate = new ModelGate();
    const hold = gate.hold('*');
    const { provider } = gate.wrap(models())('scripted');
    const cancel = new AbortController();
    const held = provider.generate(request('anything'), () => undefined, cancel.signal);
    await expect.poll(() => hold.entered).toBe(1);
    cancel.abort();
    await expect(held).rejects.toMatchObject({ name: 'AbortError' });
  });
});
