import { allDecisions, type ReviewConfig, type ReviewDecisionType } from './graphs.js';
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
    readonly code: 'not_interrupted' | 'unknown_interrupt' | 'invalid_decision',
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

/**
 * Maps a `command.resume` value onto pending interrupts. A map keyed by interrupt ids answers those ids; a
 * `{decisions: [...]}` with one decision per pending review answers all of them in order; any other value
 * answers the first pending interrupt, so interrupts can also be resumed one at a time.
 */
export function resolveResume(head: ThreadHead, resume: unknown, strict: boolean): Record<string, unknown> {
  const pending = pendingInterrupts(head);
  if (pending.length === 0) throw new ResumeError('not_interrupted', 'Thread is not waiting on an interrupt; there is nothing to resume.');
  const ids = new Set(pending.map((p) => p.id));
  if (isRecord(resume) && Object.keys(resume).length > 0 && Object.keys(resume).every((k) => ids.has(k))) {
    return { ...resume };
  }
  if (isRecord(resume) && looksLikeIdMap(resume)) {
    const unknown = Object.keys(resume).filter((k) => !ids.has(k));
    if (strict) throw new ResumeError('unknown_interrupt', `Unknown interrupt id(s): ${unknown.join(', ')}`);
    // Without strict_resume, answers to ids that are not pending are ignored, as LangGraph does.
    return Object.fromEntries(Object.entries(resume).filter(([k]) => ids.has(k)));
  }
  const decisions = isRecord(resume) && Array.isArray(resume.decisions) ? resume.decisions : undefined;
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

/** Checks every answer aimed at a review interrupt against the decisions that tool allows. */
export function validateAnswers(head: ThreadHead, answers: Record<string, unknown>): void {
  for (const task of head.tasks) {
    for (const intr of task.interrupts) {
      if (!(intr.id in answers) || task.interruptKind !== 'review' || !task.review) continue;
      parseDecision(answers[intr.id], task.review, task.toolCall?.name ?? task.name);
    }
  }
}

export function parseDecision(answer: unknown, review: ReviewConfig, toolName: string): ReviewDecision {
  const raw = isRecord(answer) && Array.isArray(answer.decisions) ? answer.decisions : [answer];
  if (raw.length !== 1) throw new ResumeError('invalid_decision', `Expected one decision for ${toolName}, got ${raw.length}`);
  const d = raw[0];
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

/** The interrupt payload agent-chat-ui renders for a reviewed tool call. */
export function reviewInterruptValue(call: ToolCall, review: ReviewConfig) {
  return {
    action_requests: [
      { name: call.name, args: call.args, description: review.description ?? `Tool execution pending approval: ${call.name}` },
    ],
    review_configs: [{ action_name: call.name, allowed_decisions: review.allowedDecisions }],
  };
}

/** Thread status after a run, by the reference's rules: error, else interrupted while work is pending, else busy or idle. */
export function threadStatusAfter(head: ThreadHead, queued: number, failed: boolean): 'error' | 'interrupted' | 'busy' | 'idle' {
  if (failed) return 'error';
  if (head.next.length) return 'interrupted';
  return queued ? 'busy' : 'idle';
}
