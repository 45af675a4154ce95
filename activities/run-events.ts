import { appendEvents, END_EVENT, type NewEvent } from '../db/events.js';
import type { Queryable } from '../db/pool.js';
import type { RunContext } from '../core/runs.js';

// A run's stream events, appended to its log and, for a subagent's run, copied to its parent's log under the
// subgraph namespace (`messages|tools:<task id>`), as LangGraph streams subgraphs with stream_subgraphs. Lifecycle
// events (metadata, end, error) stay the child's own: the parent's clients follow the parent run.

const ownOnly = new Set(['metadata', 'error', END_EVENT]);

export async function appendRunEvents(q: Queryable, run: Pick<RunContext, 'runId' | 'parent'>, events: NewEvent[]): Promise<void> {
  await appendEvents(q, run.runId, events);
  if (!run.parent) return;
  const copies = events.filter((e) => !ownOnly.has(e.event)).map((e) => ({ event: `${e.event}|${run.parent!.namespace}`, data: e.data }));
  await appendEvents(q, run.parent.runId, copies);
}
