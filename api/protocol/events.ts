import { isRecord } from '../../core/messages.js';
import type { RunEvent } from '../../db/events.js';
import type { RunRow } from '../../db/runs.js';
import type { TailEnd } from '../events/tail.js';
import { MessageAssembler } from './messages.js';

// One run's event log, as protocol events. The mapping is stateful (messages are assembled across records), so
// a mapper serves one run and is fed its log in order; replaying the same log yields the same events, which
// is what lets a reconnecting client de-duplicate by event id.

/** A protocol event before it gets its place in the thread's sequence. */
export interface Mapped {
  method: string;
  data: unknown;
  node?: string;
}

export class RunEventMapper {
  private readonly messages = new MessageAssembler();
  private readonly graphName: string;

  constructor(run: RunRow) {
    const configurable = (run.kwargs.config as { configurable?: Record<string, unknown> } | undefined)?.configurable;
    this.graphName = typeof configurable?.graph_id === 'string' ? configurable.graph_id : run.assistant_id;
  }

  event(e: RunEvent): Mapped[] {
    switch (e.event) {
      // Written when the run is admitted: the first record of every run.
      case 'metadata':
        return [this.lifecycle('running')];
      case 'values':
        return [...this.messages.close(), ...values(e.data)];
      case 'updates':
        return [...this.messages.close(), ...updates(e.data)];
      case 'messages':
        return this.messages.push(e.data);
      case 'custom':
        return [{ method: 'custom', data: { payload: e.data } }];
      case 'tools':
        return tools(e.data);
      default:
        // `error` is reported by the terminal lifecycle; other modes are not requested by run.start.
        return [];
    }
  }

  /** The run's end marker; null when the run was deleted (rolled back) while followed. */
  end(end: TailEnd | null): Mapped[] {
    const out = this.messages.close();
    if (!end) return [...out, this.lifecycle('failed', 'Run was deleted')];
    const pending = end.status === 'success' ? (end.interrupts ?? []).filter(isRecord) : [];
    // The JS SDK reads the interrupt's value from `payload`, the Python SDK from `value`: send both.
    for (const i of pending)
      out.push({ method: 'input.requested', data: { interrupt_id: String(i.id), payload: i.value, value: i.value } });
    if (end.status === 'success') return [...out, this.lifecycle(pending.length ? 'interrupted' : 'completed')];
    return [...out, this.lifecycle('failed', failure(end))];
  }

  private lifecycle(event: string, error?: string): Mapped {
    return { method: 'lifecycle', data: { event, graph_name: this.graphName, ...(error ? { error } : {}) } };
  }
}

function failure(end: TailEnd): string {
  if (end.error?.message) return end.error.message;
  // Our `interrupted` status is a cancellation, not a wait for input: the protocol's `interrupted` would
  // tell the client there is something to respond to.
  if (end.status === 'interrupted') return 'Run was cancelled';
  return `Run ended with status ${end.status}`;
}

/** Full state; the interrupt chunk a run writes when it stops goes out as input.requested instead. */
function values(data: unknown): Mapped[] {
  if (!isRecord(data) || !('__interrupt__' in data)) return [{ method: 'values', data }];
  const { __interrupt__: _, ...rest } = data;
  return Object.keys(rest).length ? [{ method: 'values', data: rest }] : [];
}

function updates(data: unknown): Mapped[] {
  if (!isRecord(data)) return [];
  return Object.entries(data)
    .filter(([node]) => node !== '__interrupt__')
    .map(([node, update]) => ({ method: 'updates', data: { node, values: update }, node }));
}

function tools(data: unknown): Mapped[] {
  if (!isRecord(data) || typeof data.toolCallId !== 'string') return [];
  const base = { tool_call_id: data.toolCallId };
  if (data.event === 'on_tool_start')
    return [
      {
        method: 'tools',
        node: 'tools',
        data: { event: 'tool-started', ...base, tool_name: String(data.name ?? 'tool'), input: data.input },
      },
    ];
  if (data.event === 'on_tool_end')
    return [{ method: 'tools', node: 'tools', data: { event: 'tool-finished', ...base, output: data.output } }];
  return [];
}
