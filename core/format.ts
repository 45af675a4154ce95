import type { HeadTask, Interrupt } from './head.js';
import type { RunContext } from './runs.js';
import type { StateValues } from './state.js';

// Wire shapes of the Agent Server API that both the API and the activities (for stream events) produce.

export interface CheckpointRef {
  thread_id: string;
  checkpoint_ns: string;
  checkpoint_id: string;
  checkpoint_map: Record<string, unknown> | null;
}

export const checkpointRef = (threadId: string, checkpointId: string): CheckpointRef => ({
  thread_id: threadId,
  checkpoint_ns: '',
  checkpoint_id: checkpointId,
  checkpoint_map: null,
});

export const checkpointConfig = (threadId: string, checkpointId: string) => ({
  configurable: { thread_id: threadId, checkpoint_ns: '', checkpoint_id: checkpointId },
});

/** A task in `ThreadState.tasks`, as the production server's state_snapshot_to_thread_state builds it. */
export interface ThreadTask {
  id: string;
  name: string;
  path: string[];
  error: string | null;
  interrupts: Interrupt[];
  checkpoint: null;
  state: null;
  /** The SDK types require the key; a task still pending has no result. */
  result: unknown;
}

export function formatTasks(tasks: HeadTask[]): ThreadTask[] {
  return tasks
    .filter((t) => !t.done)
    .map((t) => ({
      id: t.id,
      name: t.name,
      path: ['__pregel_pull', t.name],
      error: null,
      interrupts: t.interrupts,
      checkpoint: null,
      state: null,
      result: null,
    }));
}

/**
 * A task in a `checkpoints` or debug checkpoint event: LangGraph's CheckpointTask, `{id, name, interrupts, state}`
 * while pending. (`error` appears only on a failed task and `result` only on a finished one; a checkpoint's
 * pending tasks have neither.)
 */
export interface StreamTask {
  id: string;
  name: string;
  interrupts: Interrupt[];
  state: null;
}

export function streamTasks(tasks: HeadTask[]): StreamTask[] {
  return tasks.filter((t) => !t.done).map((t) => ({ id: t.id, name: t.name, interrupts: t.interrupts, state: null }));
}

/** `thread.interrupts`: pending interrupts keyed by task id. */
export function interruptsByTask(tasks: HeadTask[]): Record<string, Interrupt[]> {
  const out: Record<string, Interrupt[]> = {};
  for (const t of tasks) if (!t.done && t.interrupts.length) out[t.id] = t.interrupts;
  return out;
}

export interface CheckpointLike {
  thread_id: string;
  checkpoint_id: string;
  parent_checkpoint_id: string | null;
  next: string[];
  tasks: HeadTask[];
  metadata: Record<string, unknown>;
  created_at: string;
}

export function threadState(c: CheckpointLike, values: StateValues) {
  const tasks = formatTasks(c.tasks);
  return {
    values,
    next: c.next,
    tasks,
    checkpoint: checkpointRef(c.thread_id, c.checkpoint_id),
    parent_checkpoint: c.parent_checkpoint_id ? checkpointRef(c.thread_id, c.parent_checkpoint_id) : null,
    metadata: c.metadata,
    created_at: c.created_at,
    interrupts: tasks.flatMap((t) => t.interrupts),
  };
}

/** The state of a thread with no checkpoint yet. */
export const emptyThreadState = () => ({
  values: {},
  next: [] as string[],
  tasks: [] as ThreadTask[],
  checkpoint: null,
  parent_checkpoint: null,
  metadata: {},
  created_at: null,
  interrupts: [] as Interrupt[],
});

/** Metadata attached to `messages` (messages-tuple) events, as LangGraph's stream handler builds it. */
export function messageStreamMetadata(run: RunContext, node: string, step: number, taskId: string, extra: Record<string, unknown> = {}) {
  const ns = `${node}:${taskId}`;
  return {
    ...extra,
    run_id: run.runId,
    thread_id: run.threadId,
    graph_id: run.graphId,
    assistant_id: run.assistantId,
    langgraph_step: step,
    langgraph_node: node,
    langgraph_triggers: [`branch:to:${node}`],
    langgraph_path: ['__pregel_pull', node],
    langgraph_checkpoint_ns: ns,
    checkpoint_ns: ns,
    tags: [],
  };
}
