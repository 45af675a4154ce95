import { allDecisions, type ReviewConfig, type ReviewDecisionType } from './review.js';
import { isRecord, type ToolCall } from './messages.js';

// The thread head as the workflow sees it: the current checkpoint and the tasks waiting on it. It is small on
// purpose (no messages), so it can live in workflow state and travel through continue-as-new.

export interface Interrupt {
  id: string;
  value: unknown;
}

export const InterruptKind = { review: 'review', dynamic: 'dynamic' } as const;
export type InterruptKind = (typeof InterruptKind)[keyof typeof InterruptKind];

export interface HeadTask {
  id: string;
  name: string;
  /** For `tools` tasks: the call this task executes, and the run whose model turn asked for it. */
  toolCall?: ToolCall;
  issuedByRun?: string;
  interrupts: Interrupt[];
  interruptKind?: InterruptKind;
  review?: ReviewConfig;
  /**
   * The review interrupt that lists this call. One model turn raises one review interrupt for all its reviewed
   * calls, as LangChain's human-in-the-loop middleware does; the last of them holds it in `interrupts`.
   * Absent on calls reviewed one interrupt each, as threads recorded before that did.
   */
  batch?: string;
  /**
   * For a middleware hook node waiting on a person: the answers its hook was given before, in the order it asked
   * (a hook that asks again after an answer raises a new interrupt; rerun, it gets these back first, as in LangGraph).
   */
  resumes?: unknown[];
  /** The task's result is already recorded as a pending write; it never runs again. */
  done: boolean;
}

export interface ThreadHead {
  checkpointId: string | null;
  /** Step of the head checkpoint; -2 for an empty thread, so that the first input checkpoint is step -1. */
  step: number;
  next: string[];
  tasks: HeadTask[];
}

export const emptyHead = (): ThreadHead => ({ checkpointId: null, step: -2, next: [], tasks: [] });

export function pendingInterrupts(head: ThreadHead): (Interrupt & { taskId: string })[] {
  return head.tasks.flatMap((t) => (t.done ? [] : t.interrupts.map((i) => ({ ...i, taskId: t.id }))));
}

export class ResumeError extends Error {
  override name = 'ResumeError';
  constructor(
    readonly code: 'not_interrupted' | 'unknown_interrupt' | 'ambiguous_resume' | 'invalid_decision',
    message: string,
  ) {
    super(message);
  }
}

export interface ReviewDecision {
  type: ReviewDecisionType;
  edited_action?: { name: string; args: Record<string, unknown> };
  message?: string;
}

/** A pending interrupt with what answers it: one decision per listed call for a review, any value otherwise. */
interface PendingTarget {
  id: string;
  kind: InterruptKind | undefined;
  /** For a review: the calls it lists, in call order. */
  calls: HeadTask[];
}

function pendingTargets(head: ThreadHead): PendingTarget[] {
  return head.tasks.flatMap((t) =>
    t.done
      ? []
      : t.interrupts.map((i) => ({
          id: i.id,
          kind: t.interruptKind,
          calls: t.interruptKind !== 'review' ? [] : t.batch ? reviewBatch(head.tasks, t.batch) : [t],
        })),
  );
}

/** The calls one review interrupt lists, in call order. */
export function reviewBatch(tasks: HeadTask[], interruptId: string): HeadTask[] {
  return tasks.filter((t) => !t.done && t.batch === interruptId);
}

export interface ResumeOptions {
  /** strict_resume: answers to interrupt ids that are not pending are refused rather than ignored. */
  strictResume: boolean;
  /**
   * Never guess: a value that is not keyed by interrupt ids answers the only pending interrupt, or is split
   * over several pending reviews only when it has exactly one decision per listed call. Off only when
   * replaying runs recorded before this rule, which answered the first pending interrupt.
   */
  exact: boolean;
}

/**
 * Maps a `command.resume` value onto pending interrupts. A map keyed by interrupt ids answers those ids. Any
 * other value answers the only pending interrupt; with several pending, a `{decisions: [...]}` holding one
 * decision per reviewed call answers them in call order, and anything else is refused: a decision must never
 * land on a call it was not meant for. (LangGraph likewise asks for interrupt ids when several are pending.)
 */
export function resolveResume(head: ThreadHead, resume: unknown, opts: ResumeOptions): Record<string, unknown> {
  const pending = pendingTargets(head);
  if (pending.length === 0) throw new ResumeError('not_interrupted', 'Thread is not waiting on an interrupt; there is nothing to resume.');
  const ids = new Set(pending.map((p) => p.id));
  if (isRecord(resume) && Object.keys(resume).length > 0 && Object.keys(resume).every((k) => ids.has(k))) {
    return { ...resume };
  }
  if (isRecord(resume) && looksLikeIdMap(resume)) {
    const unknown = Object.keys(resume).filter((k) => !ids.has(k));
    if (opts.strictResume) throw new ResumeError('unknown_interrupt', `Unknown interrupt id(s): ${unknown.join(', ')}`);
    // Without strict_resume, answers to ids that are not pending are ignored, as LangGraph does.
    return Object.fromEntries(Object.entries(resume).filter(([k]) => ids.has(k)));
  }
  if (pending.length === 1) return { [pending[0]!.id]: resume };
  const decisions = isRecord(resume) && Array.isArray(resume.decisions) ? resume.decisions : undefined;
  if (!opts.exact) return legacyResolve(pending, resume, decisions);
  const expected = pending.every((p) => p.kind === 'review') ? pending.reduce((n, p) => n + p.calls.length, 0) : -1;
  if (decisions && decisions.length === expected) return splitDecisions(pending, decisions);
  throw new ResumeError(
    'ambiguous_resume',
    `${pending.length} interrupts are pending (${pending.map((p) => p.id).join(', ')}); answer them by id ` +
      `({"<interrupt id>": <answer>})${expected > 0 ? `, or send ${expected} decisions, one per reviewed call in call order` : ''}.`,
  );
}

function splitDecisions(pending: PendingTarget[], decisions: unknown[]): Record<string, unknown> {
  let at = 0;
  return Object.fromEntries(pending.map((p) => [p.id, { decisions: decisions.slice(at, (at += p.calls.length)) }]));
}

/** How runs admitted before exact matching resolved a value: one decision per interrupt, else the first one. */
function legacyResolve(pending: PendingTarget[], resume: unknown, decisions: unknown[] | undefined): Record<string, unknown> {
  if (decisions && decisions.length > 1 && decisions.length === pending.length) {
    return Object.fromEntries(pending.map((p, i) => [p.id, { decisions: [decisions[i]] }]));
  }
  return { [pending[0]!.id]: resume };
}

// Interrupt ids are UUIDs; a map whose keys all look like ids is an attempt to answer by id.
function looksLikeIdMap(v: Record<string, unknown>): boolean {
  const keys = Object.keys(v);
  return keys.length > 0 && keys.every((k) => /^[0-9a-f-]{32,36}$/i.test(k));
}

/** Checks every answer aimed at a review interrupt against the calls it lists and the decisions each allows. */
export function validateAnswers(head: ThreadHead, answers: Record<string, unknown>): void {
  for (const target of pendingTargets(head)) {
    if (target.id in answers && target.kind === 'review') parseDecisions(answers[target.id], target.calls);
  }
}

/** The decisions answering one review interrupt: `{decisions: [...]}` with one per listed call, in call order. */
export function parseDecisions(answer: unknown, calls: HeadTask[]): ReviewDecision[] {
  const raw = isRecord(answer) && Array.isArray(answer.decisions) ? answer.decisions : [answer];
  if (raw.length !== calls.length) {
    const names = calls.map((c) => c.toolCall?.name ?? c.name).join(', ');
    throw new ResumeError(
      'invalid_decision',
      `Expected ${calls.length} decision${calls.length === 1 ? '' : 's'}, one per reviewed call in call order (${names}); got ${raw.length}`,
    );
  }
  return raw.map((d, i) => checkDecision(d, calls[i]!.review ?? { allowedDecisions: [...allDecisions] }, calls[i]!.toolCall?.name ?? ''));
}

/** One decision for one call, given bare or as `{decisions: [decision]}`. */
export function parseDecision(answer: unknown, review: ReviewConfig, toolName: string): ReviewDecision {
  const raw = isRecord(answer) && Array.isArray(answer.decisions) ? answer.decisions : [answer];
  if (raw.length !== 1) throw new ResumeError('invalid_decision', `Expected one decision for ${toolName}, got ${raw.length}`);
  return checkDecision(raw[0], review, toolName);
}

function checkDecision(d: unknown, review: ReviewConfig, toolName: string): ReviewDecision {
  if (!isRecord(d) || typeof d.type !== 'string' || !allDecisions.includes(d.type as ReviewDecisionType)) {
    throw new ResumeError('invalid_decision', `A decision needs type ${allDecisions.join('|')}`);
  }
  const type = d.type as ReviewDecisionType;
  if (!review.allowedDecisions.includes(type)) {
    throw new ResumeError(
      'invalid_decision',
      `Decision "${type}" is not allowed for ${toolName} (allowed: ${review.allowedDecisions.join(', ')})`,
    );
  }
  if (type === 'edit') {
    const e = d.edited_action;
    if (!isRecord(e) || typeof e.name !== 'string' || !isRecord(e.args)) {
      throw new ResumeError('invalid_decision', 'An edit decision needs edited_action: {name, args}');
    }
    return { type, edited_action: { name: e.name, args: e.args } };
  }
  if (type === 'respond' && typeof d.message !== 'string') throw new ResumeError('invalid_decision', 'A respond decision needs a message');
  if (d.message !== undefined && typeof d.message !== 'string')
    throw new ResumeError('invalid_decision', 'A decision message must be a string');
  return { type, ...(typeof d.message === 'string' ? { message: d.message } : {}) };
}

/**
 * The interrupt payload of LangChain's human-in-the-loop middleware (`HITLRequest`), which agent-chat-ui
 * renders: one action request and one review config per reviewed call, in call order.
 */
export function reviewInterruptValue(calls: [ToolCall, ReviewConfig][]) {
  return {
    action_requests: calls.map(([call, review]) => ({
      name: call.name,
      args: call.args,
      description: review.description ?? `Tool execution pending approval: ${call.name}`,
    })),
    review_configs: calls.map(([call, review]) => ({ action_name: call.name, allowed_decisions: review.allowedDecisions })),
  };
}

/** Thread status after a run, by the reference's rules: error, else interrupted while work is pending, else busy or idle. */
export function threadStatusAfter(head: ThreadHead, queued: number, failed: boolean): 'error' | 'interrupted' | 'busy' | 'idle' {
  if (failed) return 'error';
  if (head.next.length) return 'interrupted';
  return queued ? 'busy' : 'idle';
}
