import { END_EVENT, readEvents, type RunEvent } from '../../db/events.js';
import type { AppDeps } from '../deps.js';
import { FollowerGone, readPatiently } from './patience.js';
import { Wakeup } from './wakeup.js';

export interface TailEnd {
  status: string;
  error?: { error: string; message: string } | null;
  checkpoint_id?: string | null;
  interrupts?: unknown[] | null;
}

export type TailItem = { kind: 'event'; event: RunEvent } | { kind: 'idle' } | { kind: 'end'; end: TailEnd | null };

/**
 * Follows a run's event log from after `afterSeq`: every stored event in order, then new ones as workers
 * append them. It waits on notifications, not a poll interval; `idle` comes every `idleMs` of silence, so
 * the caller can send heartbeats. It ends with the run's end marker, or `end: null` if the run was deleted.
 */
export async function* tailRun(
  deps: Pick<AppDeps, 'db' | 'hub' | 'log'>,
  runId: string,
  afterSeq: number,
  idleMs: number,
  signal: AbortSignal,
): AsyncGenerator<TailItem> {
  let cursor = afterSeq;
  const wakeup = new Wakeup();
  const unsubscribe = deps.hub.subscribe(runId, wakeup.notify);
  // While the database is away the reads wait for it (patience.ts); the caller keeps its heartbeats going.
  const read = <T>(fn: () => Promise<T>) => readPatiently(deps.log, signal, fn);
  try {
    while (!signal.aborted) {
      // A quiet period re-reads the log too: it covers a notification lost while LISTEN was reconnecting.
      if (!(await wakeup.wait(idleMs, signal))) yield { kind: 'idle' };
      if (signal.aborted) return;
      const batch = await read(() => readEvents(deps.db, runId, cursor));
      for (const event of batch) {
        if (event.event === END_EVENT) return yield { kind: 'end', end: event.data as TailEnd };
        cursor = event.seq;
        yield { kind: 'event', event };
      }
      if (batch.length > 0) wakeup.notify();
      else if (!(await read(() => runExists(deps, runId)))) return yield { kind: 'end', end: null };
    }
  } catch (err) {
    if (!(err instanceof FollowerGone)) throw err;
  } finally {
    unsubscribe();
  }
}

async function runExists(deps: Pick<AppDeps, 'db'>, runId: string): Promise<boolean> {
  const r = await deps.db.query('SELECT 1 FROM runs WHERE run_id = $1', [runId]);
  return r.rowCount > 0;
}
