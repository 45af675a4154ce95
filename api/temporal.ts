import {
  isGrpcServiceError,
  WithStartWorkflowOperation,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { readHead } from '../db/checkpoints.js';
import { threadWorkflowId, ThreadErrorType } from '../workflows/messages.js';
import type { threadWorkflow } from '../workflows/thread.js';
import { ApiError, ErrorCode } from './errors.js';
import type { RunDeps } from './deps.js';

// Calls into thread workflows. A workflow is started on first use with the head stored in the database, so
// threads that never ran (or were copied, or whose workflow an operator terminated) need no workflow at rest.

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

export async function startOperation(deps: RunDeps, threadId: string) {
  const head = await readHead(deps.db, threadId);
  return new WithStartWorkflowOperation<typeof threadWorkflow>('threadWorkflow', {
    workflowId: threadWorkflowId(threadId),
    taskQueue: deps.taskQueue,
    args: [{ threadId, head, queue: [] }],
    workflowIdConflictPolicy: 'USE_EXISTING',
    memo: { thread_id: threadId },
  });
}

/** Runs a Temporal call with a deadline and turns its failures into API errors. */
export async function callThread<T>(deps: RunDeps, fn: () => Promise<T>, overrides: Partial<Record<string, ErrorCode>> = {}): Promise<T> {
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
