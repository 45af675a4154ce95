import { setTimeout as sleep } from 'node:timers/promises';
import {
  isGrpcServiceError,
  WithStartWorkflowOperation,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, type UpdateDefinition } from '@temporalio/common';
import { FailureType, isFailureType, UNPROCESSED_UPDATE } from '../core/failures.js';
import { threadWorkflowId } from '../core/ids.js';
import { readHeadAndActivity, type ThreadStart } from '../db/checkpoints.js';
import { countActiveRuns } from '../db/runs.js';
import type { threadWorkflow } from '../workflows/thread.js';
import { ApiError, ErrorCode } from './errors.js';
import type { RunDeps } from './deps.js';

// Calls into thread workflows. A workflow is started on first use with the head stored in the database, so
// threads that never ran (or were copied, or whose workflow an operator terminated) need no workflow at rest.
// The API only reads here: a workflow started where runs are still pending or running adopts or ends them itself.

// gRPC DEADLINE_EXCEEDED and UNAVAILABLE.
const unreachable = new Set([4, 14]);

type FailureCodes = Partial<Record<FailureType, ErrorCode>>;

/** The API's answer to each failure a thread workflow may raise; undefined: not a refusal but a fault (500). */
function codeOfFailure(type: FailureType): ErrorCode | undefined {
  switch (type) {
    case FailureType.threadBusy:
      return ErrorCode.threadBusy;
    case FailureType.notInterrupted:
      return ErrorCode.conflict;
    case FailureType.unknownInterrupt:
    case FailureType.invalidDecision:
    case FailureType.invalidCommand:
    case FailureType.invalidUpdate:
      return ErrorCode.invalid;
    case FailureType.checkpointNotFound:
    case FailureType.threadNotFound:
      return ErrorCode.notFound;
    case FailureType.staleHead:
    case FailureType.runNotActive:
    case FailureType.invalidGraphState:
    case FailureType.recursionLimit:
    case FailureType.modelError:
    case FailureType.modelUnavailable:
    case FailureType.fatalTool:
    case FailureType.toolFailed:
    case FailureType.webhookRefused:
    case FailureType.webhookUnavailable:
    case FailureType.middlewareNotRegistered:
    case FailureType.piiDetected:
    case FailureType.modelCallLimit:
    case FailureType.toolCallLimit:
    case FailureType.moderation:
    case FailureType.spendCap:
      return undefined;
    default:
      return unhandled(type);
  }
}

// A new failure type fails to compile until codeOfFailure decides what the API answers to it.
function unhandled(type: never): never {
  throw new Error(`Unhandled failure type ${String(type)}`);
}

/**
 * Starts the thread's workflow if none runs. It reconciles (adopts or ends runs left by a terminated predecessor,
 * and ends at once if the thread is gone) when runs are pending or running, or when the caller asks: a cancel has
 * no run of its own through which the workflow would learn that the thread was deleted meanwhile.
 */
async function startOperation(deps: RunDeps, threadId: string, alwaysReconcile: boolean, known?: ThreadStart) {
  const { head, active } = known ?? (await readHeadAndActivity(deps.db, threadId));
  return new WithStartWorkflowOperation<typeof threadWorkflow>('threadWorkflow', {
    workflowId: threadWorkflowId(threadId),
    taskQueue: deps.taskQueue,
    // Used only if no workflow runs: then pending or running runs were left by one that was terminated.
    args: [{ threadId, head, queue: [], ...(active || alwaysReconcile ? { reconcile: true } : {}) }],
    workflowIdConflictPolicy: 'USE_EXISTING',
    memo: { thread_id: threadId },
  });
}

/**
 * An update to a thread's workflow, starting it if it is not running. It is sent again (under a new id, since the
 * server keeps the outcome under the old) when the workflow never saw it: the server rejects an update as
 * unprocessed when it met a workflow task that ended without it (a burst of updates meeting a long task), and
 * aborts it when the workflow closed first (terminated by a thread delete, say: the next attempt starts a new one).
 */
export async function updateThread<Ret, Args extends unknown[]>(
  deps: RunDeps,
  threadId: string,
  update: UpdateDefinition<Ret, Args>,
  args: Args,
  o: {
    updateId: (attempt: number) => string | undefined;
    alwaysReconcile?: boolean;
    overrides?: FailureCodes;
    /** Read with the thread just before (a run's submission): the first attempt starts from it. */
    start?: ThreadStart | undefined;
  },
): Promise<Ret> {
  return callThread(
    deps,
    async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          const id = o.updateId(attempt);
          return await deps.temporal.workflow.executeUpdateWithStart(update, {
            args,
            ...(id ? { updateId: id } : {}),
            startWorkflowOperation: await startOperation(deps, threadId, o.alwaysReconcile ?? false, attempt ? undefined : o.start),
          });
        } catch (err) {
          const behind = busy(err) && (await catchingUp(deps, threadId));
          if (attempt >= 5 || !(unprocessed(err) || closedUnder(err) || behind)) throw err;
          if (behind) deps.log.debug('thread workflow refused as busy while it catches up with an ended run; sending again', { threadId });
          await sleep(50 * 2 ** attempt);
        }
      }
    },
    o.overrides,
  );
}

// With update-with-start, "not found" can only mean that the workflow closed under the update.
const closedUnder = (err: unknown) =>
  err instanceof WorkflowNotFoundError || (err instanceof Error && err.message.includes('update was aborted by closing workflow'));

const busy = (err: unknown) =>
  err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure && err.cause.type === FailureType.threadBusy;

/**
 * A workflow that refused as busy while the database holds no pending or running run is catching up: a run's last
 * model turn ends the run in its activity (Patch.finishInModel), so a client answered by that end may act before the
 * workflow has heard of it. It hears within a workflow task, so the update is sent again shortly.
 */
const catchingUp = async (deps: RunDeps, threadId: string) => (await countActiveRuns(deps.db, threadId)) === 0;

const unprocessed = (err: unknown) =>
  err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure && err.cause.type === UNPROCESSED_UPDATE;

/** Runs a Temporal call with a deadline and turns its failures into API errors. */
export async function callThread<T>(deps: RunDeps, fn: () => Promise<T>, overrides: FailureCodes = {}): Promise<T> {
  try {
    return await deps.temporal.connection.withDeadline(Date.now() + deps.settings.workerTimeoutMs, fn);
  } catch (err) {
    throw toApiError(err, overrides);
  }
}

function toApiError(err: unknown, overrides: FailureCodes): unknown {
  const failure = err instanceof WorkflowUpdateFailedError ? err.cause : err;
  const app = failure instanceof ActivityFailure ? failure.cause : failure;
  if (app instanceof ApplicationFailure && isFailureType(app.type)) {
    const code = overrides[app.type] ?? codeOfFailure(app.type);
    if (code) return new ApiError(code, app.message);
  }
  const timedOut = err instanceof WorkflowUpdateRPCTimeoutOrCancelledError || (isGrpcServiceError(err) && unreachable.has(err.code));
  if (timedOut) {
    return new ApiError(ErrorCode.unavailable, 'No worker answered in time; check that a worker is running for this task queue.');
  }
  return err;
}
