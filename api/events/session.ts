import type { Response } from 'express';
import { runsAfter, type RunRow } from '../../db/runs.js';
import { getThread } from '../../db/threads.js';
import type { AppDeps } from '../deps.js';
import { FollowerGone, readPatiently } from './patience.js';
import { SseStream } from './sse.js';
import { Wakeup } from './wakeup.js';

/** An open SSE response: heartbeats every few seconds, and a signal that fires when the client goes away. */
export interface SseSession {
  sse: SseStream;
  signal: AbortSignal;
  close(): void;
}

export function openSession(deps: Pick<AppDeps, 'settings'>, res: Response, headers: Record<string, string>): SseSession {
  const sse = SseStream.open(res, headers);
  const gone = new AbortController();
  res.on('close', () => gone.abort());
  const beat = setInterval(() => sse.heartbeat(), deps.settings.heartbeatSeconds * 1000);
  return {
    sse,
    signal: gone.signal,
    close() {
      clearInterval(beat);
      sse.end();
    },
  };
}

/** Where to follow a thread from: `inclusive` visits runId itself again (resuming inside it), else starts after it. */
export interface ThreadCursor {
  runId: string | null;
  inclusive: boolean;
}

/**
 * Visits a thread's runs in creation order from the cursor, then each run as it is admitted (woken by the
 * database notification, re-checking every heartbeat interval in case one was missed), until the signal fires
 * or the thread is deleted. `visit` follows one run to its end; `resumeInside` marks the first visit.
 */
export async function followThreadRuns(
  deps: Pick<AppDeps, 'db' | 'hub' | 'settings' | 'log'>,
  threadId: string,
  start: ThreadCursor,
  signal: AbortSignal,
  visit: (run: RunRow, resumeInside: boolean) => Promise<void>,
): Promise<void> {
  let cursor = start;
  const wakeup = new Wakeup();
  const unsubscribe = deps.hub.subscribeThread(threadId, wakeup.notify);
  const read = <T>(fn: () => Promise<T>) => readPatiently(deps.log, signal, fn);
  try {
    while (!signal.aborted) {
      await wakeup.wait(deps.settings.heartbeatSeconds * 1000, signal);
      const runs = await read(() => runsAfter(deps.db, threadId, cursor.runId, cursor.inclusive));
      if (runs.length === 0 && !(await read(() => getThread(deps.db, threadId)))) return;
      for (const run of runs) {
        if (signal.aborted) return;
        await visit(run, cursor.inclusive && cursor.runId === run.run_id);
        cursor = { runId: run.run_id, inclusive: false };
        wakeup.notify();
      }
    }
  } catch (err) {
    if (!(err instanceof FollowerGone)) throw err;
  } finally {
    unsubscribe();
  }
}
