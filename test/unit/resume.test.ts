import { describe, expect, it } from 'vitest';
import { allDecisions } from '../../core/review.js';
import { parseDecisions, resolveResume, ResumeError, validateAnswers, type HeadTask, type ThreadHead } from '../../core/head.js';

// Resume resolution is pure: these check its rules without a stack, so a logic error fails in milliseconds.

const review = { allowedDecisions: [...allDecisions] };
const call = (id: string, name = 'create_ticket'): HeadTask => ({
  id: `task-${id}`,
  name: 'tools',
  toolCall: { id, name, args: {}, type: 'tool_call' },
  interrupts: [],
  done: false,
});
/** A turn whose reviewed calls share one interrupt, as the thread workflow now records it. */
const batch = (interruptId: string, ...ids: string[]): HeadTask[] =>
  ids.map((id, i) => ({
    ...call(id),
    interrupts: i === ids.length - 1 ? [{ id: interruptId, value: {} }] : [],
    interruptKind: 'review' as const,
    review,
    batch: interruptId,
  }));
/** A reviewed call with an interrupt of its own, as threads recorded before batching have them. */
const single = (interruptId: string, id: string): HeadTask => ({
  ...call(id),
  interrupts: [{ id: interruptId, value: {} }],
  interruptKind: 'review',
  review,
});
const head = (...tasks: HeadTask[]): ThreadHead => ({ checkpointId: 'c', step: 1, next: ['tools'], tasks });
const exact = { strictResume: false, exact: true };
const approve = { type: 'approve' };
const reject = { type: 'reject', message: 'no' };

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof ResumeError) return err.code;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('resolveResume', () => {
  it('gives an unkeyed value to the only pending interrupt, even one listing several calls', () => {
    const h = head(...batch('i1', 'a', 'b'));
    expect(resolveResume(h, { decisions: [approve, reject] }, exact)).toEqual({ i1: { decisions: [approve, reject] } });
  });

  it('splits decisions over several pending reviews in call order when there is one per call', () => {
    const h = head(single('i1', 'a'), ...batch('i2', 'b', 'c'));
    expect(resolveResume(h, { decisions: [approve, reject, approve] }, exact)).toEqual({
      i1: { decisions: [approve] },
      i2: { decisions: [reject, approve] },
    });
  });

  it('refuses an unkeyed value that does not match the pending calls one to one', () => {
    const h = head(single('i1', 'a'), single('i2', 'b'));
    expect(refusal(() => resolveResume(h, { decisions: [reject] }, exact))).toBe('ambiguous_resume');
    expect(refusal(() => resolveResume(h, 'yes', exact))).toBe('ambiguous_resume');
  });

  it('replays runs admitted before exact matching as they ran: an unmatched value went to the first interrupt', () => {
    const h = head(single('i1', 'a'), single('i2', 'b'));
    expect(resolveResume(h, { decisions: [reject] }, { strictResume: false, exact: false })).toEqual({ i1: { decisions: [reject] } });
  });

  it('answers by interrupt id, and refuses unknown ids only under strict_resume', () => {
    const h = head(...batch('0b0e2ff1-7fa1-4c5e-9b1f-d0a9f1b9b0c1', 'a'));
    const other = '1b0e2ff1-7fa1-4c5e-9b1f-d0a9f1b9b0c1';
    expect(resolveResume(h, { [other]: approve }, exact)).toEqual({});
    expect(refusal(() => resolveResume(h, { [other]: approve }, { strictResume: true, exact: true }))).toBe('unknown_interrupt');
  });

  it('refuses a resume when nothing is pending', () => {
    expect(refusal(() => resolveResume(head(call('a')), approve, exact))).toBe('not_interrupted');
  });
});

describe('decisions', () => {
  it('need one decision per listed call, each allowed for its call', () => {
    const calls = batch('i1', 'a', 'b');
    expect(parseDecisions({ decisions: [approve, reject] }, calls)).toEqual([{ type: 'approve' }, { type: 'reject', message: 'no' }]);
    expect(refusal(() => parseDecisions({ decisions: [approve] }, calls))).toBe('invalid_decision');
    const strict = [{ ...calls[0]!, review: { allowedDecisions: ['approve' as const] } }, calls[1]!];
    expect(refusal(() => validateAnswers(head(...strict), { i1: { decisions: [reject, approve] } }))).toBe('invalid_decision');
  });
});
