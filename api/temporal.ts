import {
  isGrpcServiceError,
  WithStartWorkflowOperation,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, type UpdateDefinition } from '@temporalio/common';
import { readHead } from '../db/checkpoints.js';
import { countActiveRuns } from '../db/runs.js';
import { threadWorkflowId, ThreadErrorType } from '../workflows/messages.js';
import type { threadWorkflow } from '../workflows/thread.js';
import { ApiError, ErrorCode } from './errors.js';
import type { AppDeps } from './deps.js';

// Calls into thread workflows. A workflow is started on first use with the head stored in the database, so
// threads that never ran (or were copied, or whose workflow an operator terminated) need no workflow at rest.
// The API only reads here: a workflow started where runs are still pending or running adopts or ends them itself.

// gRPC DEADLINE_EXCEEDED and UNAVAILABLE.
const unreachable = new Set([4, 14]);

const statusOfFailure: Record<string, ErrorCode> = {
  [ThreadErrorType.busy]: ErrorCode.threadBusy,
  [ThreadErrorType.notInterrupted]: ErrorCode.conflict,
  [ThreadErrorType.unknownInterrupt]: ErrorCode.invalid,
  [ThreadErrorType.invalidDecision]: ErrorCode.invalid,
  [ThreadErrorType.invalidCommand]: ErrorCode.invalid,
  InvalidUpdate: ErrorCode.invalid,
  CheckpointNotFound: ErrorCode.notFound,
  ThreadNotFound: ErrorCode.notFound,
};

async function startOperation(deps: AppDeps, threadId: string) {
  const [head, active] = await Promise.all([readHead(deps.db, threadId), countActiveRuns(deps.db, threadId)]);
  return new WithStartWorkflowOperation<typeof threadWorkflow>('threadWorkflow', {
    workflowId: threadWorkflowId(threadId),
    taskQueue: deps.taskQueue,
    // Used only if no workflow runs: then pending or running runs were left by one that was terminated.
    args: [{ threadId, head, queue: [], ...(active > 0 ? { reconcile: true } : {}) }],
    workflowIdConflictPolicy: 'USE_EXISTING',
    memo: { thread_id: threadId },
  });
}

/**
 * An update to a thread's workflow, starting it if it is not running. The server rejects an update as unprocessed
 * when it reached a workflow task that ended without seeing it (a burst of updates meeting a long task); the
 * workflow never ran its validator, so it is sent again, under a new id since the rejection is kept under the old.
 */
export async function updateThread<Ret, Args extends unknown[]>(
  deps: AppDeps,
  threadId: string,
  update: UpdateDefinition<Ret, Args>,
  args: Args,
  updateId: (attempt: number) => string | undefined,
  overrides: Partial<Record<string, ErrorCode>> = {},
): Promise<Ret> {
  return callThread(
    deps,
    async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          const id = updateId(attempt);
          return await deps.temporal.workflow.executeUpdateWithStart(update, {
            args,
            ...(id ? { updateId: id } : {}),
            startWorkflowOperation: await startOperation(deps, threadId),
          });
        } catch (err) {
          if (attempt >= 5 || !unprocessed(err)) throw err;
          await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
        }
      }
    },
    overrides,
  );
}

const unprocessed = (err: unknown) =>
  err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure && err.cause.type === 'UnprocessedUpdate';

/** Runs a Temporal call with a deadline and turns its failures into API errors. */
export async function callThread<T>(deps: AppDeps, fn: () => Promise<T>, overrides: Partial<Record<string, ErrorCode>> = {}): Promise<T> {
  try {
    return await deps.temporal.connection.withDeadline(Date.now() + deps.settings.workerTimeoutMs, fn);
  } catch (err) {
    throw toApiError(err, overrides);
  }
}

function toApiError(err: unknown, overrides: Partial<Record<string, ErrorCode>>): unknown {
  const failure = err instanceof WorkflowUpdateFailedError ? err.cause : err;
  const app = failure instanceof ActivityFailure ? failure.cause : failure;
  if (app instanceof ApplicationFailure && app.type) {
    const code = overrides[app.type] ?? statusOfFailure[app.type];
    if (code) return new ApiError(code, app.message);
  }
  const timedOut = err instanceof WorkflowUpdateRPCTimeoutOrCancelledError || (isGrpcServiceError(err) && unreachable.has(err.code));
  if (timedOut) {
    return new ApiError(ErrorCode.unavailable, 'No worker answered in time; check that a worker is running for this task queue.');
  }
  return err;
}
