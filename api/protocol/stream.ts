import type { Response } from 'express';
import { listRuns, runOrdinal, type RunRow } from '../../db/runs.js';
import { getThread } from '../../db/threads.js';
import type { AppDeps } from '../deps.js';
import { notFound } from '../errors.js';
import { followThreadRuns, openSession, type ThreadCursor } from '../events/session.js';
import type { SseStream } from '../events/sse.js';
import { readPatiently } from '../events/patience.js';
import { tailRun } from '../events/tail.js';
import { RunEventMapper, type Mapped } from './events.js';
import type { EventStreamRequest } from './schema.js';

// POST /threads/{id}/stream/events: one filtered SSE subscription to a thread. It follows the thread's runs in
// creation order and stays open for later runs until the client goes away.
//
// Sequence numbers are derived, not stored: a run's ordinal on the thread, the record's seq in the run's log,
// and the event's position among those the record maps to. So every connection numbers the same event the
// same way and the SDK can de-duplicate replays by event_id.
//
// Without `since`, a connection starts at the thread's latest run. The SDK opens streams right after
// run.start, so that is the run it started; replaying older runs would hand it their terminal lifecycle
// events, which end its iterators before its own run has produced anything. `since` replays from any point
// of the whole history.

const RUN_STRIDE = 2 ** 32;
const EVENT_STRIDE = 2 ** 8;

interface Filter {
  channels: Set<string>;
  rootVisible: boolean;
  since: number | undefined;
}

export async function streamEvents(deps: AppDeps, res: Response, threadId: string, body: EventStreamRequest): Promise<void> {
  if (!(await getThread(deps.db, threadId))) throw notFound(`Thread with ID ${threadId} not found`);
  const start = await startCursor(deps, threadId, body.since);
  const filter = toFilter(body);
  const session = openSession(deps, res, {});
  try {
    // A deleted thread gets no more runs; the follower returns and hanging up lets the client's reconnect see the 404.
    await followThreadRuns(deps, threadId, start, session.signal, (run) => followRun(deps, session.sse, run, filter, session.signal));
  } finally {
    session.close();
  }
}

async function startCursor(deps: AppDeps, threadId: string, since: number | undefined): Promise<ThreadCursor> {
  if (since !== undefined) return { runId: null, inclusive: false };
  const [latest] = await listRuns(deps.db, { threadId, limit: 1, offset: 0 });
  return latest ? { runId: latest.run_id, inclusive: true } : { runId: null, inclusive: false };
}

/** Sends one run's events, from its first record, until the run ends. */
async function followRun(deps: AppDeps, sse: SseStream, run: RunRow, filter: Filter, signal: AbortSignal): Promise<void> {
  const ordinal = await readPatiently(deps.log, signal, () => runOrdinal(deps.db, run.run_id));
  // Gone (rolled back) before we got to it: there is nothing to replay and no place for it in the sequence.
  if (ordinal === null) return;
  const base = ordinal * RUN_STRIDE;
  // Everything of this run is at or before `since`: the client has it already.
  if (filter.since !== undefined && base + RUN_STRIDE - 1 <= filter.since) return;
  const mapper = new RunEventMapper(run);
  const send = async (logSeq: number, events: Mapped[]) => {
    if (events.length > EVENT_STRIDE)
      deps.log.warn('protocol stream: too many events for one record; the rest are dropped', { run_id: run.run_id, seq: logSeq });
    for (const [i, e] of events.slice(0, EVENT_STRIDE).entries()) await deliver(sse, filter, base + logSeq * EVENT_STRIDE + i, e);
  };
  let last = -1;
  for await (const item of tailRun(deps, run.run_id, -1, deps.settings.heartbeatSeconds * 1000, signal)) {
    if (item.kind === 'idle') continue;
    // The end marker is the record right after the last one the tail yielded.
    if (item.kind === 'end') return send(last + 1, mapper.end(item.end));
    last = item.event.seq;
    await send(last, mapper.event(item.event));
  }
}

async function deliver(sse: SseStream, filter: Filter, seq: number, e: Mapped): Promise<void> {
  if (filter.since !== undefined && seq <= filter.since) return;
  if (!filter.rootVisible || !filter.channels.has(channelOf(e.method))) return;
  const params = { namespace: [], timestamp: Date.now(), ...(e.node ? { node: e.node } : {}), data: e.data };
  await sse.send(e.method, { type: 'event', event_id: String(seq), seq, method: e.method, params }, String(seq));
}

const channelOf = (method: string) => (method === 'input.requested' ? 'input' : method);

function toFilter(body: EventStreamRequest): Filter {
  // Every event of ours is at the root namespace (no subgraphs), so a namespace filter either admits all or none.
  const rootVisible = !body.namespaces?.length || body.namespaces.some((ns) => ns.length === 0);
  return { channels: new Set(body.channels.map(channelOf)), rootVisible, since: body.since };
}

/** The run's position among the thread's runs, oldest first (ties broken by id, as runsAfter orders them). */
