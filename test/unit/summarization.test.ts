import { describe, expect, it } from 'vitest';
import { aiMessage, humanMessage, toolMessage, type Message } from '../../core/messages.js';
import { summaryCut } from '../../activities/middleware/summarization.js';

// Where summarization cuts the history: the kept tail never starts with a tool result whose AI call was cut off.

const call = (id: string) => ({ name: 'calculator', args: {}, id, type: 'tool_call' as const });
const history: Message[] = [
  humanMessage('q', 'h1'),
  aiMessage('', 'a1', [call('c1'), call('c2')]),
  toolMessage('1', 'c1', 'calculator', 't1'),
  toolMessage('2', 'c2', 'calculator', 't2'),
  aiMessage('answer', 'a2'),
  humanMessage('q2', 'h2'),
];

describe('summaryCut', () => {
  it('keeps the last N messages when the cut falls between whole exchanges', () => {
    expect(summaryCut(history, 2)).toBe(4);
    expect(summaryCut(history, 0)).toBe(6);
  });

  it('moves the cut back to the AI message when it would fall among its tool results', () => {
    expect(summaryCut(history, 3)).toBe(1);
    expect(summaryCut(history, 4)).toBe(1);
  });

  it('keeps everything (nothing to summarize) when only the first message would go', () => {
    expect(summaryCut(history, 6)).toBe(0);
    expect(summaryCut(history, 60)).toBe(0);
  });
});
