import { checkpointConfig, checkpointRef, messageStreamMetadata, streamTasks } from '../core/format.js';
import type { HeadTask, Interrupt } from '../core/head.js';
import type { Message } from '../core/messages.js';
import type { RunContext } from '../core/runs.js';
import type { StateValues } from '../core/state.js';
import type { NewEvent } from '../db/events.js';

// Which events a committed step produces, per requested stream mode. Only requested modes are written to
// the run's event log, so a run that streams `messages-tuple` alone does not store full state per step.

export interface CommittedStep {
  run: RunContext;
  /** The node whose output this step records (agent, tools, __start__, or the as_node of an update). */
  node: string | null;
  step: number;
  checkpointId: string;
  parentId: string | null;
  values: StateValues;
  /** The node's output, for `updates` and `tasks`. */
  update: Record<string, unknown> | null;
  metadata: Record<string, unknown>;
  next: string[];
  tasks: HeadTask[];
  /** Messages completed by this step that were not streamed token by token (tool results, inputs). */
  completedMessages: Message[];
  /** The id of the task that produced the update (for message metadata and `tasks` results). */
  taskId: string | null;
  emitValues: boolean;
}

export function stepEvents(s: CommittedStep): NewEvent[] {
  const modes = new Set<string>(s.run.streamModes);
  const events: NewEvent[] = [];
  const config = checkpointConfig(s.run.threadId, s.checkpointId);
  const parentConfig = s.parentId ? checkpointConfig(s.run.threadId, s.parentId) : null;
  const tasks = streamTasks(s.tasks);
  if (s.node && s.taskId) {
    // LangGraph's debug mode wraps the `tasks` mode: a finished task is a `task_result` there.
    const result = { id: s.taskId, name: s.node, result: s.update ?? {}, error: null, interrupts: [] };
    if (modes.has('tasks')) events.push({ event: 'tasks', data: result });
    if (modes.has('debug')) events.push({ event: 'debug', data: debugChunk('task_result', s.step, result) });
  }
  if (s.node && s.update) {
    const meta = messageStreamMetadata(s.run, s.node, s.step, s.taskId ?? s.checkpointId);
    for (const m of s.completedMessages) {
      if (modes.has('messages-tuple')) events.push({ event: 'messages', data: [m, meta] });
      if (modes.has('messages')) {
        events.push({ event: 'messages/metadata', data: { [m.id]: { metadata: meta } } });
        events.push({ event: 'messages/complete', data: [m] });
      }
    }
    if (modes.has('updates')) events.push({ event: 'updates', data: { [s.node]: s.update } });
    if (modes.has('events')) {
      events.push({ event: 'events', data: chainEvent('on_chain_end', s.node, s.run, { output: s.update }) });
    }
  }
  if (s.emitValues && modes.has('values')) events.push({ event: 'values', data: s.values });
  if (modes.has('checkpoints') || modes.has('debug')) {
    const payload = { config, parent_config: parentConfig, values: s.values, metadata: s.metadata, next: s.next, tasks };
    if (modes.has('checkpoints')) events.push({ event: 'checkpoints', data: payload });
    // The production server adds the checkpoint references to the debug payload (not to `checkpoints`).
    const refs = {
      checkpoint: checkpointRef(s.run.threadId, s.checkpointId),
      parent_checkpoint: s.parentId ? checkpointRef(s.run.threadId, s.parentId) : null,
    };
    if (modes.has('debug')) events.push({ event: 'debug', data: debugChunk('checkpoint', s.step, { ...payload, ...refs }) });
  }
  return events;
}

/** The extra chunk LangGraph streams when a run stops at an interrupt. */
export function interruptEvents(run: RunContext, interrupts: Interrupt[]): NewEvent[] {
  const modes = new Set<string>(run.streamModes);
  const events: NewEvent[] = [];
  if (modes.has('values')) events.push({ event: 'values', data: { __interrupt__: interrupts } });
  if (modes.has('updates')) events.push({ event: 'updates', data: { __interrupt__: interrupts } });
  return events;
}

export function taskStartEvents(run: RunContext, taskId: string, node: string, input: unknown, step: number): NewEvent[] {
  const modes = new Set<string>(run.streamModes);
  const events: NewEvent[] = [];
  if (modes.has('tasks'))
    events.push({ event: 'tasks', data: { id: taskId, name: node, input, triggers: [`branch:to:${node}`], interrupts: [] } });
  if (modes.has('debug')) {
    events.push({ event: 'debug', data: debugChunk('task', step, { id: taskId, name: node, input, triggers: [`branch:to:${node}`] }) });
  }
  if (modes.has('events')) events.push({ event: 'events', data: chainEvent('on_chain_start', node, run, { input }) });
  return events;
}

/** LangGraph's debug stream: `checkpoints` and `tasks` records wrapped with their type, step and time. */
function debugChunk(type: 'checkpoint' | 'task' | 'task_result', step: number, payload: unknown) {
  return { type, timestamp: new Date().toISOString(), step, payload };
}

/** A LangChain streamEvents v2 record. */
export function chainEvent(event: string, name: string, run: RunContext, data: Record<string, unknown>) {
  return {
    event,
    name,
    run_id: run.runId,
    tags: [],
    metadata: { thread_id: run.threadId, graph_id: run.graphId, assistant_id: run.assistantId },
    data,
    parent_ids: [],
  };
}
