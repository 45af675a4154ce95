import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { ThreadHead } from '../core/head.js';
import type { CancelAction, RunSpec, RunStatus } from '../core/runs.js';

// Every signal, query and update of the thread workflow, defined once: the workflow sets handlers on these
// and the API calls them, so names and payload types cannot drift apart.

export interface Admission {
  runId: string;
}
/**
 * Admits a run: the synchronous validator makes the multitask decision; the handler queues the run and the workflow
 * records it (claimRun) in the same workflow task, so the API reads the stored run and never writes it. Runs an
 * interrupt or rollback preempts are cancelled only once the new run is recorded.
 */
export const submitRun = defineUpdate<Admission, [RunSpec]>('submitRun');

export interface CancelRequest {
  runIds: string[] | 'all';
  action: CancelAction;
}
export interface CancelResult {
  /** Runs this call cancelled, with the status each will end in. */
  cancelled: { runId: string; status: RunStatus | 'deleted' }[];
}
export const cancelRuns = defineUpdate<CancelResult, [CancelRequest]>('cancelRuns');

export interface StateUpdateRequest {
  /** Writes as the API received them (normalized by the activity). */
  values: unknown;
  asNode: string | null;
  /** Fork point; null updates the current head. */
  checkpointId: string | null;
}
export interface StateUpdateResult {
  checkpointId: string;
}
/** POST /threads/{id}/state: answered with a rejection while a run is pending or running. */
export const updateState = defineUpdate<StateUpdateResult, [StateUpdateRequest]>('updateState');

export interface ThreadSnapshot {
  head: ThreadHead;
  activeRunId: string | null;
  queuedRunIds: string[];
}
export const threadSnapshot = defineQuery<ThreadSnapshot>('snapshot');
