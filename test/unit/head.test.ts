import { describe, expect, it } from 'vitest';
import type { ReviewConfig } from '../../core/review.js';
import { emptyHead, parseDecision, ResumeError, reviewInterruptValue, threadStatusAfter, type ThreadHead } from '../../core/head.js';

// Review decisions, the review interrupt's payload and the thread status after a run (core/head.ts). The resume
// resolution in the same file is left to its own tests while it is being reworked.

const all: ReviewConfig = { allowedDecisions: ['approve', 'edit', 'reject', 'respond'] };
const approveOnly: ReviewConfig = { allowedDecisions: ['approve'] };

/** The error a bad decision raises, so a test checks its code, not just that something threw. */
function refusal(answer: unknown, review: ReviewConfig = all): ResumeError {
  try {
    parseDecision(answer, review, 'create_ticket');
  } catch (err) {
    if (err instanceof ResumeError) return err;
    throw err;
  }
  throw new Error(`expected ${JSON.stringify(answer)} to be refused`);
}

describe('parseDecision', () => {
  it('reads a bare decision and the {decisions: [one]} form alike', () => {
    expect(parseDecision({ type: 'approve' }, all, 'create_ticket')).toEqual({ type: 'approve' });
    expect(parseDecision({ decisions: [{ type: 'approve' }] }, all, 'create_ticket')).toEqual({ type: 'approve' });
  });

  it('keeps the edited action of an edit and drops what is not part of a decision', () => {
    const edit = { type: 'edit', edited_action: { name: 'create_ticket', args: { title: 'new' }, extra: 1 }, junk: true };
    expect(parseDecision({ decisions: [edit] }, all, 'create_ticket')).toEqual({
      type: 'edit',
      edited_action: { name: 'create_ticket', args: { title: 'new' } },
    });
  });

  it('keeps the message of a reject or a respond', () => {
    expect(parseDecision({ type: 'reject', message: 'not now' }, all, 'x')).toEqual({ type: 'reject', message: 'not now' });
    expect(parseDecision({ type: 'respond', message: 'it is 4' }, all, 'x')).toEqual({ type: 'respond', message: 'it is 4' });
    expect(parseDecision({ type: 'reject' }, all, 'x')).toEqual({ type: 'reject' });
  });

  it('refuses anything but exactly one decision', () => {
    expect(refusal({ decisions: [] }).message).toContain('got 0');
    expect(refusal({ decisions: [{ type: 'approve' }, { type: 'approve' }] }).message).toContain('got 2');
  });

  it('refuses unknown types and malformed decisions with invalid_decision', () => {
    for (const bad of [null, 'approve', {}, { type: 'accept' }, { type: 7 }, { decisions: ['approve'] }]) {
      expect(refusal(bad).code).toBe('invalid_decision');
    }
  });

  it('refuses a decision the tool does not allow, naming what is allowed', () => {
    const err = refusal({ type: 'reject' }, approveOnly);
    expect(err.code).toBe('invalid_decision');
    expect(err.message).toBe('Decision "reject" is not allowed for create_ticket (allowed: approve)');
    expect(parseDecision({ type: 'approve' }, approveOnly, 'create_ticket')).toEqual({ type: 'approve' });
  });

  it('refuses an edit without a named action and args', () => {
    for (const edited_action of [undefined, 'x', { name: 'create_ticket' }, { args: {} }, { name: 'create_ticket', args: [] }]) {
      expect(refusal({ type: 'edit', edited_action }).message).toContain('edited_action');
    }
  });

  it('refuses a respond without a message, and a message that is not a string', () => {
    expect(refusal({ type: 'respond' }).message).toContain('needs a message');
    expect(refusal({ type: 'reject', message: 42 }).message).toContain('must be a string');
  });
});

describe('reviewInterruptValue', () => {
  const call = { name: 'create_ticket', args: { title: 'x' }, id: 'c1', type: 'tool_call' as const };

  it('has the action request and review config shape agent-chat-ui renders', () => {
    expect(reviewInterruptValue([[call, { allowedDecisions: ['approve', 'reject'] }]])).toEqual({
      action_requests: [{ name: 'create_ticket', args: { title: 'x' }, description: 'Tool execution pending approval: create_ticket' }],
      review_configs: [{ action_name: 'create_ticket', allowed_decisions: ['approve', 'reject'] }],
    });
  });

  it('lists every call of the turn, in call order', () => {
    const other = { ...call, name: 'send_email', id: 'c2' };
    const value = reviewInterruptValue([
      [call, { allowedDecisions: ['approve'] }],
      [other, { allowedDecisions: ['reject'] }],
    ]);
    expect(value.action_requests.map((r) => r.name)).toEqual(['create_ticket', 'send_email']);
    expect(value.review_configs).toEqual([
      { action_name: 'create_ticket', allowed_decisions: ['approve'] },
      { action_name: 'send_email', allowed_decisions: ['reject'] },
    ]);
  });

  it('uses the configured description when there is one', () => {
    const value = reviewInterruptValue([[call, { allowedDecisions: ['approve'], description: 'Opens a real ticket' }]]);
    expect(value.action_requests[0]!.description).toBe('Opens a real ticket');
  });
});

describe('threadStatusAfter', () => {
  const at = (next: string[]): ThreadHead => ({ ...emptyHead(), checkpointId: 'cp', step: 1, next });

  it('is error after a failure, whatever else holds', () => {
    expect(threadStatusAfter(at(['tools']), 3, true)).toBe('error');
    expect(threadStatusAfter(at([]), 0, true)).toBe('error');
  });

  it('is interrupted while the head has work pending, even with runs queued', () => {
    expect(threadStatusAfter(at(['tools']), 0, false)).toBe('interrupted');
    expect(threadStatusAfter(at(['agent']), 2, false)).toBe('interrupted');
  });

  it('is busy with runs queued and idle without', () => {
    expect(threadStatusAfter(at([]), 1, false)).toBe('busy');
    expect(threadStatusAfter(at([]), 0, false)).toBe('idle');
    expect(threadStatusAfter(emptyHead(), 0, false)).toBe('idle');
  });
});
