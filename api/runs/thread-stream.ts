import type { Request, Response } from 'express';
import { getRun, listRuns, type RunRow } from '../../db/runs.js';
import { getThread } from '../../db/threads.js';
import type { AppDeps } from '../deps.js';
import { followThreadRuns, openSession, type ThreadCursor } from '../events/session.js';
import type { SseStream } from '../events/sse.js';
import { readPatiently } from '../events/patience.js';
import { tailRun } from '../events/tail.js';

// GET /threads/{id}/stream: follows a thread rather than one run. It streams the events of each run on the
// thread in order (`run_modes`), run start and end (`lifecycle`), and the state after each run (`state_update`),
// and stays open for later runs. Event ids are `<run_id>:<seq>`, so Last-Event-ID resumes across runs.

/** Where a stream resumes: inside `runId` after `seq` when inclusive, otherwise after that run. */
interface Cursor extends ThreadCursor {
  seq: number;
}

export async function streamThread(deps: AppDeps, req: Request, res: Response, threadId: string, modes: Set<string>): Promise<void> {
  const session = openSession(deps, res, { 'Content-Location': `/threads/${threadId}/stream` });
  const start = await startCursor(deps, threadId, req.header('last-event-id'));
  try {
    await followThreadRuns(deps, threadId, start, session.signal, async (run, resumeInside) => {
      await followRun(deps, session.sse, run, resumeInside ? start.seq : -1, modes, session.signal);
    });
  } finally {
    session.close();
  }
}

/** Streams one run until it ends. */
async function followRun(
  deps: AppDeps,
  sse: SseStream,
  run: RunRow,
  afterSeq: number,
  modes: Set<string>,
  signal: AbortSignal,
): Promise<void> {
  let seq = afterSeq;
  if (modes.has('lifecycle') && afterSeq < 0) await sse.send('lifecycle', { event: 'started', run_id: run.run_id }, `${run.run_id}:-1`);
  for await (const item of tailRun(deps, run.run_id, afterSeq, deps.settings.heartbeatSeconds * 1000, signal)) {
    if (item.kind === 'end') {
      const id = `${run.run_id}:${seq}`;
      if (modes.has('lifecycle')) await sse.send('lifecycle', { event: item.end?.status ?? 'deleted', run_id: run.run_id }, id);
      if (modes.has('state_update')) {
        const thread = await readPatiently(deps.log, signal, () => getThread(deps.db, run.thread_id));
        await sse.send('state_update', { values: thread?.values ?? {} }, id);
      }
      break;
    }
    if (item.kind !== 'event') continue;
    seq = item.event.seq;
    if (modes.has('run_modes')) await sse.send(item.event.event, item.event.data, `${run.run_id}:${seq}`);
  }
}

/**
 * With Last-Event-ID `<run>:<seq>` the stream resumes there. Otherwise it begins with the oldest run still
 * pending or running (from its first event), or after the newest run.
 */
async function startCursor(deps: AppDeps, threadId: string, lastEventId: string | undefined): Promise<Cursor> {
  const [runId, seqText] = (lastEventId ?? '').split(':');
  if (runId && seqText !== undefined) {
    const run = await getRun(deps.db, runId).catch(() => undefined);
    const seq = Number(seqText);
    if (run && run.thread_id === threadId) return { runId: run.run_id, inclusive: true, seq: Number.isInteger(seq) ? seq : -1 };
  }
  const active = await listRuns(deps.db, { threadId, statuses: ['pending', 'running'], limit: 1000, offset: 0 });
  const oldestActive = active.at(-1);
  if (oldestActive) return { runId: oldestActive.run_id, inclusive: true, seq: -1 };
  const [latest] = await listRuns(deps.db, { threadId, limit: 1, offset: 0 });
  return { runId: latest?.run_id ?? null, inclusive: false, seq: -1 };
}
