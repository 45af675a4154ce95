import type { Request, Response } from 'express';
import type { StateValues } from '../../core/state.js';
import { valuesAt } from '../../db/checkpoints.js';
import { liveJoinPoint, modeOfEvent, runEndMarker, runOutcome } from '../../db/events.js';
import { getThread } from '../../db/threads.js';
import type { AppDeps } from '../deps.js';
import { openSession } from '../events/session.js';
import { EndWatch } from '../events/end-watch.js';
import { readPatiently } from '../events/patience.js';
import { tailRun, type TailEnd } from '../events/tail.js';
import { cancelRuns } from './cancel.js';

// Following a run: as SSE (stream, join stream) or as one JSON answer when it ends (wait, join).

export function runLocation(threadId: string, runId: string, stateless: boolean): string {
  return stateless ? `/runs/${runId}` : `/threads/${threadId}/runs/${runId}`;
}

export interface StreamOptions {
  threadId: string;
  runId: string;
  stateless: boolean;
  /** Replay starts after this event id; -1 replays everything. */
  afterSeq: number;
  /** Only these stream modes (metadata and error always pass); undefined passes all. */
  modes?: Set<string>;
  cancelOnDisconnect: boolean;
}

export async function streamRun(deps: AppDeps, req: Request, res: Response, o: StreamOptions): Promise<void> {
  const location = runLocation(o.threadId, o.runId, o.stateless);
  const { sse, signal, close } = openSession(deps, res, { 'Content-Location': location, Location: `${location}/stream` });
  let ended = false;
  try {
    for await (const item of tailRun(deps, o.runId, o.afterSeq, deps.settings.heartbeatSeconds * 1000, signal)) {
      if (item.kind === 'end') {
        ended = true;
        break;
      }
      if (item.kind !== 'event') continue;
      const { event, data, seq } = item.event;
      if (!o.modes || event === 'metadata' || event === 'error' || o.modes.has(modeOfEvent(event))) await sse.send(event, data, seq);
    }
  } catch (err) {
    // Never a silent end: the client learns why (the SDK raises it as a StreamError) and can rejoin with Last-Event-ID.
    deps.log.error('run stream failed', { runId: o.runId, err });
    await sse.send('error', { error: 'StreamError', message: `The stream failed: ${(err as Error).message}; rejoin to resume.` });
  } finally {
    close();
  }
  if (!ended && signal.aborted && o.cancelOnDisconnect) {
    await cancelRuns(deps, o.threadId, [o.runId], 'interrupt').catch((err) => deps.log.warn('cancel on disconnect failed', { err }));
  }
}

/**
 * Where a join starts: resumable runs replay from Last-Event-ID (or from the start); others stream live, or,
 * when the run has already ended, its final events, so that a late joiner's stream closes instead of idling.
 */
export async function joinStart(deps: AppDeps, req: Request, runId: string, resumable: boolean): Promise<number> {
  const header = req.header('last-event-id');
  if (resumable) {
    const n = header === undefined ? -1 : Number(header);
    return Number.isInteger(n) && n >= -1 ? n : -1;
  }
  return (await liveJoinPoint(deps.db, runId)) ?? -1;
}

/**
 * Resolves with the run's end marker, or null when the run was deleted (rolled back) meanwhile or the caller left.
 * It reads only the marker, when the end is announced (EndWatch), not the events in between (token and values
 * events, which can be large).
 */
export async function awaitEnd(deps: AppDeps, runId: string, signal: AbortSignal): Promise<TailEnd | null> {
  const watch = new EndWatch(deps, runId);
  try {
    return ((await watch.marker(signal, () => runEndMarker(deps.db, runId)))?.end as TailEnd | undefined) ?? null;
  } finally {
    watch.close();
  }
}

/**
 * awaitEnd for wait and join, whose answer needs the final values too: the end marker, with the values at its
 * checkpoint when that is still the thread's head (as it usually is), read in the same statement. runResult takes
 * both. `watch`: one the caller opened before it submitted the run (and closes).
 */
export async function awaitOutcome(
  deps: AppDeps,
  threadId: string,
  runId: string,
  signal: AbortSignal,
  watch?: EndWatch,
): Promise<{ end: TailEnd | null; atEnd?: StateValues }> {
  const w = watch ?? new EndWatch(deps, runId);
  try {
    const outcome = await w.marker(signal, () => runOutcome(deps.db, runId, threadId));
    return { end: (outcome?.end as TailEnd | undefined) ?? null, ...(outcome?.values ? { atEnd: outcome.values } : {}) };
  } finally {
    if (w !== watch) w.close();
  }
}

/**
 * What wait and join answer: the final values, with `__interrupt__` when it stopped at one, or `__error__`.
 * `atEnd`: the values at the end's checkpoint when the caller has them already (runOutcome).
 */
export async function runResult(
  deps: AppDeps,
  threadId: string,
  end: TailEnd | null,
  signal: AbortSignal = new AbortController().signal,
  atEnd?: StateValues,
): Promise<Record<string, unknown>> {
  if (end?.error) return { __error__: end.error };
  const values =
    atEnd ??
    (await readPatiently(deps.log, signal, async () =>
      end?.checkpoint_id ? valuesAt(deps.db, threadId, end.checkpoint_id) : ((await getThread(deps.db, threadId))?.values ?? {}),
    ));
  return end?.interrupts ? { ...values, __interrupt__: end.interrupts } : values;
}

/**
 * POST .../wait: 200 at once, a newline every few seconds to keep proxies from timing out, then the JSON. The
 * status is sent before the outcome is known, so every way out writes a complete JSON body: the final values,
 * or `__error__` as the Python Agent Server writes it when waiting fails.
 */
export async function waitAndAnswer(
  deps: AppDeps,
  res: Response,
  o: Omit<StreamOptions, 'afterSeq' | 'modes'> & { watch?: EndWatch },
): Promise<void> {
  res.status(200).setHeader('Content-Type', 'application/json');
  res.setHeader('Content-Location', runLocation(o.threadId, o.runId, o.stateless));
  res.flushHeaders();
  const gone = new AbortController();
  res.on('close', () => gone.abort());
  const keepAlive = setInterval(() => res.writableNeedDrain || res.write('\n'), deps.settings.heartbeatSeconds * 1000);
  try {
    const { end, atEnd } = await awaitOutcome(deps, o.threadId, o.runId, gone.signal, o.watch);
    if (gone.signal.aborted) {
      if (o.cancelOnDisconnect && !end) await cancelRuns(deps, o.threadId, [o.runId], 'interrupt').catch(() => undefined);
      return;
    }
    res.end(JSON.stringify(await runResult(deps, o.threadId, end, gone.signal, atEnd)));
  } catch (err) {
    if (gone.signal.aborted || res.writableEnded) return;
    deps.log.error('waiting for a run failed', { runId: o.runId, err });
    res.end(JSON.stringify({ __error__: { error: 'WaitError', message: `Waiting for the run failed: ${(err as Error).message}` } }));
  } finally {
    clearInterval(keepAlive);
  }
}
