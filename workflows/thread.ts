import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  ParentClosePolicy,
  setHandler,
  sleep,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { allDecisions, END, nodeNames } from '../core/graphs.js';
import { parseDecision, pendingInterrupts, resolveResume, ResumeError, validateAnswers, type ThreadHead } from '../core/head.js';
import { isRecord } from '../core/messages.js';
import type { CancelAction, RunSpec, ThreadStatus } from '../core/runs.js';
import { db } from './activities.js';
import { newCheckpointId } from './ids.js';
import {
  cancelRuns,
  submitRun,
  threadSnapshot,
  type Admission,
  ThreadErrorType,
  updateState,
  webhookWorkflowId,
  type CancelRequest,
  type CancelResult,
  type StateUpdateRequest,
  type StateUpdateResult,
} from './messages.js';
import { executeRun, runContext, type QueuedRun, type ThreadCore } from './run.js';
import { AssistantIdKey, GraphIdKey, ThreadStatusKey } from './search-attributes.js';
import { webhookWorkflow } from './webhook.js';

// One long-lived workflow per thread (id `thread-<thread_id>`). Runs are admitted by the `submitRun` update,
// whose synchronous validator applies the multitask policy, so two API processes racing on one thread can
// never both start a run. A single loop executes runs in order; a thread waiting for a person holds no worker.

export interface ThreadWorkflowInput {
  threadId: string;
  head: ThreadHead;
  queue: { spec: RunSpec; admittedAt: number; cancel?: CancelAction }[];
}

/** A stateless run's temporary thread lingers this long, so waiting clients can read its result first. */
const STATELESS_GRACE_MS = 60_000;

export async function threadWorkflow(input: ThreadWorkflowInput): Promise<void> {
  const thread = new Thread(input);
  setHandler(submitRun, (spec) => thread.admit(spec), { validator: (spec) => thread.validateSubmit(spec) });
  setHandler(cancelRuns, (req) => thread.cancel(req));
  setHandler(updateState, (req) => thread.updateState(req), { validator: (_req: StateUpdateRequest) => thread.validateUpdate() });
  setHandler(threadSnapshot, () => ({
    head: thread.head,
    activeRunId: thread.active?.spec.runId ?? null,
    queuedRunIds: thread.queue.map((e) => e.spec.runId),
  }));
  await thread.loop();
}

class Thread implements ThreadCore {
  readonly threadId: string;
  head: ThreadHead;
  queue: QueuedRun[];
  active: QueuedRun | null = null;
  private updatingState = false;
  private status: ThreadStatus | null = null;

  constructor(input: ThreadWorkflowInput) {
    this.threadId = input.threadId;
    this.head = input.head;
    this.queue = input.queue.map((e) => ({ ...e }));
  }

  private get busy(): boolean {
    return this.active !== null || this.updatingState || this.queue.some((e) => !e.cancel);
  }

  validateSubmit(spec: RunSpec): void {
    if (spec.multitaskStrategy === 'reject' && this.busy)
      fail(ThreadErrorType.busy, 'Thread is already running a task. Wait for it to finish or choose a different multitask strategy.');
    const goto = spec.command?.goto ?? [];
    const targets = [...nodeNames, END];
    const badNode = goto.find((n) => !targets.includes(n));
    if (badNode) fail(ThreadErrorType.invalidCommand, `command.goto names an unknown node "${badNode}" (nodes: ${targets.join(', ')})`);
    if (!spec.command || !('resume' in spec.command)) return;
    try {
      // With nothing ahead of it, a resume is checked against the interrupts it answers; behind other runs, only its shape.
      if (this.busy && spec.multitaskStrategy === 'enqueue') checkDecisionShapes(spec.command.resume);
      else if (pendingInterrupts(this.head).length || !this.head.next.length)
        validateAnswers(this.head, resolveResume(this.head, spec.command.resume, { strictResume: spec.strictResume, exact: true }));
    } catch (err) {
      if (!(err instanceof ResumeError)) throw err;
      const type = {
        not_interrupted: ThreadErrorType.notInterrupted,
        unknown_interrupt: ThreadErrorType.unknownInterrupt,
        ambiguous_resume: ThreadErrorType.unknownInterrupt,
        invalid_decision: ThreadErrorType.invalidDecision,
      }[err.code];
      fail(type, err.message);
    }
  }

  admit(spec: RunSpec): Admission {
    if (spec.multitaskStrategy === 'interrupt' || spec.multitaskStrategy === 'rollback') this.cancelInFlight('all', spec.multitaskStrategy);
    this.queue.push({ spec, admittedAt: Date.now() });
    return { runId: spec.runId };
  }

  cancel(req: CancelRequest): CancelResult {
    return { cancelled: this.cancelInFlight(req.runIds, req.action) };
  }

  private cancelInFlight(runIds: string[] | 'all', action: CancelAction): CancelResult['cancelled'] {
    const targets = [this.active, ...this.queue].filter(
      (e): e is QueuedRun => !!e && !e.cancel && (runIds === 'all' || runIds.includes(e.spec.runId)),
    );
    for (const e of targets) {
      e.cancel = action;
      e.scope?.cancel();
    }
    return targets.map((e) => ({ runId: e.spec.runId, status: action === 'rollback' ? 'deleted' : 'interrupted' }));
  }

  validateUpdate(): void {
    if (this.busy) fail(ThreadErrorType.busy, 'Thread has a pending or running run; its state can be updated once it finishes.');
  }

  async updateState(req: StateUpdateRequest): Promise<StateUpdateResult> {
    this.updatingState = true;
    try {
      const checkpointId = newCheckpointId();
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
    } finally {
      this.updatingState = false;
    }
  }

  setStatus(status: ThreadStatus): void {
    if (status === this.status) return;
    this.status = status;
    upsertSearchAttributes([{ key: ThreadStatusKey, value: status }]);
  }

  async loop(): Promise<void> {
    for (;;) {
      await condition(() => (this.queue.length > 0 && !this.updatingState) || workflowInfo().continueAsNewSuggested);
      if (this.queue.length === 0 || this.updatingState) return this.continueAsNew();
      const entry = this.queue[0]!;
      // Normally the API has stored the run already; if it died first, this does it. A request that is gone
      // (the API gave up on it, or the thread was deleted) is dropped.
      if (!(await db.recordRun({ spec: entry.spec }))) {
        this.queue.splice(this.queue.indexOf(entry), 1);
        continue;
      }
      const wait = entry.admittedAt + entry.spec.afterSeconds * 1000 - Date.now();
      if (wait > 0) await condition(() => entry.cancel !== undefined, wait);
      this.queue.shift();
      if (entry.cancel) {
        await db.cancelQueuedRun({ run: runContext(entry.spec), action: entry.cancel });
        continue;
      }
      this.active = entry;
      upsertSearchAttributes([
        { key: GraphIdKey, value: entry.spec.graphId },
        { key: AssistantIdKey, value: entry.spec.assistantId },
      ]);
      await executeRun(this, entry);
      this.active = null;
      if (entry.spec.webhook && entry.cancel !== 'rollback') await this.sendWebhook(entry.spec.runId, entry.spec.webhook);
      if (entry.spec.onCompletion === 'delete' && this.queue.length === 0) {
        await sleep(STATELESS_GRACE_MS);
        if (this.queue.length === 0) return db.deleteThreadData({ threadId: this.threadId });
      }
      if (workflowInfo().continueAsNewSuggested) return this.continueAsNew();
    }
  }

  /** Delivery runs in an abandoned child: the next run starts now, however long the receiver takes. */
  private async sendWebhook(runId: string, url: string): Promise<void> {
    try {
      await startChild(webhookWorkflow, {
        workflowId: webhookWorkflowId(runId),
        args: [{ runId, threadId: this.threadId, url, checkpointId: this.head.checkpointId }],
        parentClosePolicy: ParentClosePolicy.ABANDON,
      });
    } catch (err) {
      // Already started for this run: one delivery per run is the point.
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }

  /** History stays bounded: drain the handlers, then carry the head and the queue into a fresh run. */
  private async continueAsNew(): Promise<void> {
    await condition(allHandlersFinished);
    await continueAsNew<typeof threadWorkflow>({
      threadId: this.threadId,
      head: this.head,
      queue: this.queue.map(({ spec, admittedAt, cancel }) => ({ spec, admittedAt, ...(cancel ? { cancel } : {}) })),
    });
  }
}

function fail(type: string, message: string): never {
  throw ApplicationFailure.create({ type, message, nonRetryable: true });
}

/** Behind other runs the interrupts a resume will meet are unknown, but a malformed decision is malformed anywhere. */
function checkDecisionShapes(resume: unknown): void {
  if (!isRecord(resume) || !Array.isArray(resume.decisions)) return;
  for (const d of resume.decisions) parseDecision({ decisions: [d] }, { allowedDecisions: [...allDecisions] }, 'the tool');
}
