import { ActivityFailure, condition, workflowInfo } from '@temporalio/workflow';
import type { Claim } from '../db/admission.js';
import { runCheckpointId, RunSlot } from '../core/ids.js';
import type { ThreadHead } from '../core/head.js';
import type { CancelAction, ThreadStatus } from '../core/runs.js';
import { db } from './activities.js';
import { runContext, type QueuedRun } from './run.js';

// The parts of a thread workflow's run lifecycle that go beyond its loop: recording admitted runs, adopting what
// a terminated predecessor left, resuming a run across continue-as-new, and the loop of older histories.

export interface LifecycleThread {
  readonly threadId: string;
  head: ThreadHead;
  queue: QueuedRun[];
  active: QueuedRun | null;
  ready: boolean;
  gone: boolean;
  updatingState: boolean;
  setStatus(status: ThreadStatus): void;
  drop(entry: QueuedRun): void;
  cancelEntries(targets: QueuedRun[], action: CancelAction): unknown;
  execute(entry: QueuedRun, steps?: number): Promise<void>;
  continueAsNew(): Promise<never>;
}

/**
 * Records an admitted run, then cancels what it preempts. It runs beside the handler, which answers at once:
 * Temporal rejects updates beyond 10 in flight, and the record still commits before the answer leaves, since a
 * workflow task completes only once its local activities have.
 */
export async function recordAdmission(
  t: LifecycleThread,
  entry: QueuedRun,
  preempted: QueuedRun[],
  preempts: CancelAction | null,
  begins = false,
): Promise<void> {
  await condition(() => t.ready);
  const claim = begins ? await claimAndBegin(entry) : await db.claimRun({ threadId: t.threadId, runId: entry.runId, spec: entry.spec! });
  entry.claiming = false;
  if (claim.outcome === 'unrecorded') return;
  if (claim.outcome !== 'recorded') {
    t.drop(entry);
    t.gone ||= claim.outcome === 'thread-gone';
    return;
  }
  entry.recorded = true;
  if (preempts) t.cancelEntries(preempted, preempts);
}

/**
 * Records the run and begins it (Patch.admitBegin). When beginning fails for good (its checkpoint is gone, say), the
 * transaction recorded nothing: the entry is left unrecorded, so the loop claims it alone and the run ends in the
 * error that starting it meets.
 */
async function claimAndBegin(entry: QueuedRun): Promise<Claim | { outcome: 'unrecorded' }> {
  const spec = entry.spec!;
  const id = (slot: number) => runCheckpointId(spec.runId, slot);
  try {
    const r = await db.claimAndBeginRun({
      run: runContext(spec),
      spec,
      checkpointId: spec.checkpointId,
      ids: [id(RunSlot.input), id(RunSlot.inputLoop)],
    });
    if (r.head) entry.begun = r.head;
    return r.claim;
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    return { outcome: 'unrecorded' };
  }
}

/** The run that was mid-way at the last continue-as-new goes on from the step it reached. */
export async function resumeActive(t: LifecycleThread, active: { runId: string; steps: number; cancel?: CancelAction }): Promise<void> {
  // Active from the start, so a cancel that arrives while its spec loads finds it.
  const entry: QueuedRun = { runId: active.runId, admittedAt: 0, ...(active.cancel ? { cancel: active.cancel } : {}) };
  t.active = entry;
  const claim = await db.claimRun({ threadId: t.threadId, runId: active.runId, spec: null });
  t.active = null;
  if (claim.outcome !== 'recorded') {
    t.gone ||= claim.outcome === 'thread-gone';
    return;
  }
  entry.spec = claim.spec!;
  t.head = claim.head;
  await t.execute(entry, active.steps);
}

/** Adopts the pending runs a terminated predecessor left (ahead of newer ones) and ends its running one. */
export async function reconcile(t: LifecycleThread): Promise<void> {
  const r = await db.reconcileThread({ threadId: t.threadId, known: t.queue.map((e) => e.runId) });
  if (r.threadStatus === null) {
    t.gone = true;
    return;
  }
  const adopted = r.adopt.filter((id) => !t.queue.some((e) => e.runId === id));
  t.queue.unshift(...adopted.map((runId) => ({ runId, admittedAt: Date.now() })));
  t.setStatus(r.threadStatus);
}

/** The loop of workflows whose history predates Patch.lifecycle, unchanged so that they replay. */
export async function legacyLoop(t: LifecycleThread): Promise<void> {
  for (;;) {
    await condition(() => (t.queue.length > 0 && !t.updatingState) || workflowInfo().continueAsNewSuggested);
    if (t.queue.length === 0 || t.updatingState) return t.continueAsNew();
    const entry = t.queue[0]!;
    const spec = entry.spec!;
    if (!(await db.recordRun({ spec }))) {
      t.drop(entry);
      continue;
    }
    const wait = entry.admittedAt + spec.afterSeconds * 1000 - Date.now();
    if (wait > 0) await condition(() => entry.cancel !== undefined, wait);
    t.queue.shift();
    if (entry.cancel) {
      await db.cancelQueuedRun({ run: runContext(spec), action: entry.cancel });
      continue;
    }
    await t.execute(entry);
    if (t.gone) return;
    if (workflowInfo().continueAsNewSuggested) return t.continueAsNew();
  }
}
