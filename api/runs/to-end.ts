import type { IncomingHttpHeaders } from 'node:http';
import type { AppDeps } from '../deps.js';
import { EndWatch } from '../events/end-watch.js';
import { uuid7 } from '../ids.js';
import type { TailEnd } from '../events/tail.js';
import { createRun, type CreatedRun } from './create.js';
import { awaitOutcome, runResult } from './follow.js';
import type { RunCreate } from './schema.js';

// Create a run and wait for its end, for protocol endpoints (MCP tools/call, A2A message/send) that answer with
// the final state rather than a stream. The run is created by the one run service, as every run is.

export interface FinishedRun {
  created: CreatedRun;
  /** The end marker; null when the run was deleted (rolled back) before it ended. */
  end: TailEnd | null;
  /** The final values, with `__interrupt__` or `__error__` as wait answers them. */
  values: Record<string, unknown>;
}

export async function runToEnd(
  deps: AppDeps,
  threadId: string | null,
  body: RunCreate,
  headers: IncomingHttpHeaders,
  signal: AbortSignal = new AbortController().signal,
): Promise<FinishedRun> {
  // Watched from before it is submitted, the run's end cannot go unseen: the wait reads once it is announced.
  const runId = uuid7();
  const watch = new EndWatch(deps, runId, true);
  try {
    const created = await createRun(deps, threadId, body, headers, undefined, { runId });
    const { end, atEnd } = await awaitOutcome(deps, created.threadId, created.run.run_id, signal, watch);
    return { created, end, values: await runResult(deps, created.threadId, end, undefined, atEnd) };
  } finally {
    watch.close();
  }
}
