import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  currentUpdateInfo,
  ParentClosePolicy,
  patched,
  setHandler,
  sleep,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { END, nodeNames } from '../core/engine.js';
import { allDecisions } from '../core/review.js';
import { parseDecision, pendingInterrupts, resolveResume, ResumeError, validateAnswers, type ThreadHead } from '../core/head.js';
import { FailureType } from '../core/failures.js';
import { runCheckpointId, webhookWorkflowId } from '../core/ids.js';
import { isRecord } from '../core/messages.js';
import { defaultRunTimers, type CancelAction, type RunSpec, type RunTimers, type ThreadStatus } from '../core/runs.js';
import { db, serializeBookkeeping } from './activities.js';
import { newCheckpointId } from './ids.js';
import { Patch } from './patches.js';
import {
  cancelRuns,
  submitRun,
  threadSnapshot,
  type Admission,
  updateState,
  type CancelRequest,
  type CancelResult,
  type StateUpdateRequest,
  type StateUpdateResult,
} from './messages.js';
import { legacyLoop, reconcile, recordAdmission, resumeActive } from './lifecycle.js';
import { executeRun, runContext, type QueuedRun, type ThreadCore } from './run.js';
import { AssistantIdKey, GraphIdKey, ThreadStatusKey } from './search-attributes.js';
import { webhookWorkflow } from './webhook.js';

// One long-lived workflow per thread (id `thread-<thread_id>`). Runs are admitted by the `submitRun` update,
// whose synchronous validator applies the multitask policy, so two API processes racing on one thread can
// never both start a run. A single loop executes runs in order; a thread waiting for a person holds no worker.
//
// The workflow is the only writer of run and thread lifecycle. It records an admitted run at once (and only then
// cancels what an interrupt or rollback preempts); a workflow started where runs were left by a terminated one
// adopts or ends them; a workflow whose thread was deleted ends. Histories recorded before these
// rules (no Patch.lifecycle marker) replay the older behaviour until their next continue-as-new.

export interface QueuedRunInput {
  /** Absent in entries carried before queues carried ids (they have the spec). */
  runId?: string;
  spec?: RunSpec;
  admittedAt: number;
  cancel?: CancelAction;
}

export interface ThreadWorkflowInput {
  threadId: string;
  head: ThreadHead;
  /** Carried across continue-as-new as run ids: the specs are in the database, so the input always fits. */
  queue: QueuedRunInput[];
  /** A run that was mid-way when the workflow continued as new, and the steps it has taken. */
  active?: { runId: string; steps: number; cancel?: CancelAction };
  /** Set by the API when it starts a workflow where the database holds pending or running runs. */
  reconcile?: boolean;
}

export async function threadWorkflow(input: ThreadWorkflowInput): Promise<void> {
  const ownsLifecycle = patched(Patch.lifecycle);
  if (ownsLifecycle) serializeBookkeeping();
  const thread = new Thread(input, ownsLifecycle);
  setHandler(submitRun, (spec) => thread.admit(spec), { validator: (spec) => thread.validateSubmit(spec) });
  setHandler(cancelRuns, (req) => thread.cancel(req));
  setHandler(updateState, (req) => thread.updateState(req), { validator: (_req: StateUpdateRequest) => thread.validateUpdate() });
  setHandler(threadSnapshot, () => ({
    head: thread.head,
    activeRunId: thread.active?.runId ?? null,
    queuedRunIds: thread.queue.map((e) => e.runId),
  }));
  await thread.loop();
}

class Thread implements ThreadCore {
  readonly threadId: string;
  head: ThreadHead;
  queue: QueuedRun[];
  active: QueuedRun | null = null;
  updatingState = false;
  endedInStep: ThreadStatus | null = null;
  private status: ThreadStatus | null = null;
  /** Handlers wait for this: a restarted workflow first adopts what its predecessor left. */
  ready: boolean;
  gone = false;
  private readonly resume: ThreadWorkflowInput['active'];

  constructor(
    input: ThreadWorkflowInput,
    readonly ownsLifecycle: boolean,
  ) {
    this.threadId = input.threadId;
    this.head = input.head;
    this.queue = input.queue.map((e) => ({ ...e, runId: e.runId ?? e.spec!.runId }));
    this.resume = input.active;
    this.ready = !(ownsLifecycle && input.reconcile);
  }

  private get busy(): boolean {
    return this.active !== null || this.updatingState || this.queue.some((e) => !e.cancel);
  }

  validateSubmit(spec: RunSpec): void {
    if (this.gone) fail(FailureType.threadNotFound, `Thread ${this.threadId} no longer exists`);
    if (spec.multitaskStrategy === 'reject' && this.busy)
      fail(FailureType.threadBusy, 'Thread is already running a task. Wait for it to finish or choose a different multitask strategy.');
    const goto = spec.command?.goto ?? [];
    const targets = [...nodeNames, END];
    const badNode = goto.find((n) => !targets.includes(n));
    if (badNode) fail(FailureType.invalidCommand, `command.goto names an unknown node "${badNode}" (nodes: ${targets.join(', ')})`);
    if (!spec.command || !('resume' in spec.command)) return;
    try {
      // With nothing ahead of it, a resume is checked against the interrupts it answers; behind other runs, only its shape.
      if (this.busy && spec.multitaskStrategy === 'enqueue') checkDecisionShapes(spec.command.resume);
      else if (pendingInterrupts(this.head).length || !this.head.next.length)
        validateAnswers(this.head, resolveResume(this.head, spec.command.resume, { strictResume: spec.strictResume, exact: true }));
    } catch (err) {
      if (!(err instanceof ResumeError)) throw err;
      const type = {
        not_interrupted: FailureType.notInterrupted,
        unknown_interrupt: FailureType.unknownInterrupt,
        ambiguous_resume: FailureType.unknownInterrupt,
        invalid_decision: FailureType.invalidDecision,
      }[err.code];
      fail(type, err.message);
    }
  }

  admit(spec: RunSpec): Admission {
    const preempts = spec.multitaskStrategy === 'interrupt' || spec.multitaskStrategy === 'rollback' ? spec.multitaskStrategy : null;
    if (!this.ownsLifecycle) {
      if (preempts) this.cancelEntries(this.inFlight('all'), preempts);
      this.queue.push({ runId: spec.runId, spec, admittedAt: Date.now() });
      return { runId: spec.runId };
    }
    // Admitting a run twice (a request sent again) changes nothing.
    if ([this.active, ...this.queue].some((e) => e?.runId === spec.runId)) return { runId: spec.runId };
    // The loop leaves an entry alone until it is recorded, so nothing runs or cancels a run unrecorded.
    const preempted = preempts ? this.inFlight('all') : [];
    const entry: QueuedRun = { runId: spec.runId, spec, admittedAt: Date.now(), claiming: true };
    const begins = this.startsAtOnce(spec) && patched(Patch.admitBegin);
    this.queue.push(entry);
    void recordAdmission(this, entry, preempted, preempts, begins);
    return { runId: spec.runId };
  }

  /** Nothing ahead of it, nothing to wait for, and input to commit: the run can begin as it is recorded. */
  private startsAtOnce(spec: RunSpec): boolean {
    return this.ready && !this.busy && spec.afterSeconds === 0 && spec.hasInput && !spec.command?.update;
  }

  cancel(req: CancelRequest): CancelResult | Promise<CancelResult> {
    if (!this.ownsLifecycle) return { cancelled: this.cancelEntries(this.inFlight(req.runIds), req.action) };
    return condition(() => this.ready).then(() => ({ cancelled: this.cancelEntries(this.inFlight(req.runIds), req.action) }));
  }

  private inFlight(runIds: string[] | 'all'): QueuedRun[] {
    return [this.active, ...this.queue].filter((e): e is QueuedRun => !!e && !e.cancel && (runIds === 'all' || runIds.includes(e.runId)));
  }

  cancelEntries(targets: QueuedRun[], action: CancelAction): CancelResult['cancelled'] {
    const cancelled = targets.filter((e) => !e.cancel);
    for (const e of cancelled) {
      e.cancel = action;
      e.scope?.cancel();
    }
    return cancelled.map((e) => ({ runId: e.runId, status: action === 'rollback' ? 'deleted' : 'interrupted' }));
  }

  drop(entry: QueuedRun): void {
    const at = this.queue.indexOf(entry);
    if (at >= 0) this.queue.splice(at, 1);
  }

  validateUpdate(): void {
    if (this.gone) fail(FailureType.threadNotFound, `Thread ${this.threadId} no longer exists`);
    if (this.busy) fail(FailureType.threadBusy, 'Thread has a pending or running run; its state can be updated once it finishes.');
  }

  async updateState(req: StateUpdateRequest): Promise<StateUpdateResult> {
    this.updatingState = true;
    try {
      // Keyed on the update id, so a retried workflow task finds the checkpoint it already wrote.
      const updateId = currentUpdateInfo()?.id;
      const checkpointId = updateId ? runCheckpointId(updateId, 0) : newCheckpointId();
      this.head = await db.commitUpdate({
        threadId: this.threadId,
        run: null,
        expectedHead: this.head.checkpointId,
        baseCheckpointId: req.checkpointId ?? this.head.checkpointId,
        checkpointId,
        values: req.values,
        asNode: req.asNode,
      });
      return { checkpointId };
    } catch (err) {
      if (this.ownsLifecycle && failureType(err) === FailureType.threadNotFound) this.gone = true;
      throw err;
    } finally {
      this.updatingState = false;
    }
  }

  get liveQueued(): number {
    return this.queue.filter((e) => !e.cancel).length;
  }

  setStatus(status: ThreadStatus): void {
    if (status === this.status) return;
    this.status = status;
    upsertSearchAttributes([{ key: ThreadStatusKey, value: status }]);
  }

  async loop(): Promise<void> {
    if (!this.ownsLifecycle) return legacyLoop(this);
    if (!this.ready) await reconcile(this);
    this.ready = true;
    if (this.resume) await resumeActive(this, this.resume);
    for (;;) {
      await condition(() => (this.queue.length > 0 && !this.updatingState) || this.gone || workflowInfo().continueAsNewSuggested);
      if (this.gone) return this.end();
      if (this.queue.length === 0 || this.updatingState) return this.continueAsNew();
      const entry = this.queue[0]!;
      if (entry.claiming) {
        await condition(() => !entry.claiming);
        continue;
      }
      // Runs carried across continue-as-new or adopted are recorded (and their specs loaded) here.
      if (!entry.recorded) {
        const claim = await db.claimRun({ threadId: this.threadId, runId: entry.runId, spec: entry.spec ?? null });
        if (claim.outcome !== 'recorded') {
          this.drop(entry);
          this.gone ||= claim.outcome === 'thread-gone';
          continue;
        }
        entry.spec ??= claim.spec;
        this.head = claim.head;
      }
      const wait = entry.admittedAt + entry.spec!.afterSeconds * 1000 - Date.now();
      if (wait > 0) await condition(() => entry.cancel !== undefined, wait);
      this.drop(entry);
      // A begun run is running: a cancel ends it through execute, as it would a run cancelled mid-step.
      if (entry.cancel && !entry.begun) {
        const ended = await db.cancelQueuedRun({ run: runContext(entry.spec!), action: entry.cancel, queued: this.liveQueued });
        if (ended) this.setStatus(ended.threadStatus);
        continue;
      }
      await this.execute(entry);
      if (workflowInfo().continueAsNewSuggested) return this.continueAsNew();
    }
  }

  /** Runs one entry (from its first step, or from `steps` when it crossed a continue-as-new). */
  async execute(entry: QueuedRun, steps?: number): Promise<void> {
    const spec = entry.spec!;
    this.active = entry;
    upsertSearchAttributes([
      { key: GraphIdKey, value: spec.graphId },
      { key: AssistantIdKey, value: spec.assistantId },
    ]);
    const outcome = await executeRun(this, entry, steps);
    this.active = null;
    if (outcome.continueAt !== undefined)
      return this.continueAsNew({ runId: entry.runId, steps: outcome.continueAt, cancel: entry.cancel });
    if (outcome.threadGone) {
      this.gone = true;
      return;
    }
    const timers = spec.timers ?? defaultRunTimers;
    if (spec.webhook && (entry.cancel !== 'rollback' || outcome.kept))
      await this.sendWebhook(spec.runId, spec.webhook, timers.webhookRetry);
    if (spec.onCompletion === 'delete' && this.queue.length === 0) {
      // The temporary thread lingers, so waiting clients can read its result first.
      await sleep(timers.statelessGraceMs);
      if (this.queue.length === 0) {
        await db.deleteThreadData({ threadId: this.threadId });
        this.gone = true;
      }
    }
  }

  private settled(): boolean {
    return allHandlersFinished() && !this.queue.some((e) => e.claiming);
  }

  /** The thread was deleted: answer what is in flight, then end (a new workflow starts if it is made again). */
  private async end(): Promise<void> {
    await condition(() => this.settled());
  }

  /** Delivery runs in an abandoned child: the next run starts now, however long the receiver takes. */
  private async sendWebhook(runId: string, url: string, retry: RunTimers['webhookRetry']): Promise<void> {
    try {
      await startChild(webhookWorkflow, {
        workflowId: webhookWorkflowId(runId),
        args: [{ runId, threadId: this.threadId, url, checkpointId: this.head.checkpointId, retry }],
        parentClosePolicy: ParentClosePolicy.ABANDON,
      });
    } catch (err) {
      // Already started for this run: one delivery per run is the point.
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }

  /** History stays bounded: drain the handlers, then carry the head, the queue and any run mid-way into a fresh run. */
  async continueAsNew(active?: ThreadWorkflowInput['active']): Promise<never> {
    await condition(() => (this.ownsLifecycle ? this.settled() : allHandlersFinished()));
    const queue = this.queue.map(({ runId, spec, admittedAt, cancel }) => ({
      // Older workflows carry specs: their runs may have none stored.
      ...(this.ownsLifecycle ? { runId } : { spec: spec! }),
      admittedAt,
      ...(cancel ? { cancel } : {}),
    }));
    return continueAsNew<typeof threadWorkflow>({ threadId: this.threadId, head: this.head, queue, ...(active ? { active } : {}) });
  }
}

function fail(type: FailureType, message: string): never {
  throw ApplicationFailure.create({ type, message, nonRetryable: true });
}

function failureType(err: unknown): string | undefined {
  const cause = err instanceof Error && 'cause' in err ? err.cause : undefined;
  const failure = cause instanceof ApplicationFailure ? cause : err instanceof ApplicationFailure ? err : undefined;
  return failure?.type ?? undefined;
}

/** Behind other runs the interrupts a resume will meet are unknown, but a malformed decision is malformed anywhere. */
function checkDecisionShapes(resume: unknown): void {
  if (!isRecord(resume) || !Array.isArray(resume.decisions)) return;
  for (const d of resume.decisions) parseDecision({ decisions: [d] }, { allowedDecisions: [...allDecisions] }, 'the tool');
}
