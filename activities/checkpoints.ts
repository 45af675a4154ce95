import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../core/failures.js';
import { interruptsByTask } from '../core/format.js';
import { INPUT, Node, START } from '../core/engine.js';
import { hookOfNode, nextAfterHook } from '../core/middleware/edges.js';
import type { HeadTask, ThreadHead } from '../core/head.js';
import { isRecord, MessageFormatError, pendingToolCalls, toolMessage, type Message, type ToolCall } from '../core/messages.js';
import type { RunContext } from '../core/runs.js';
import { applyWrites, mergeFiles, normalizeWrites, type ChannelWrites } from '../core/state.js';
import { getCheckpoint, getPendingWrites, headOf, putPendingWrite, setCheckpointTasks, valuesAt } from '../db/checkpoints.js';
import { getRun, type RunRow } from '../db/runs.js';
import { setThreadInterrupts, type ThreadRow } from '../db/threads.js';
import { commitIn, commitStep, commitStepsIn, type CommitResult, type StepCommit } from './commit.js';
import type { Queryable } from '../db/pool.js';
import { inputGuardrailEvents } from './middleware/fired.js';
import type { ActivityDeps } from './deps.js';
import { taskIdFor } from './ids.js';

// Local activities that write checkpoints for inputs, state updates, forks and finished tool turns.
// Idempotency key of each: the checkpoint id the workflow generated for it.

const agentTask = (checkpointId: string): HeadTask => ({
  id: taskIdFor(checkpointId, Node.agent, 0),
  name: Node.agent,
  interrupts: [],
  done: false,
});

/** Tool tasks of a checkpoint; runId is the run whose model turn asked for the calls (none for a state update). */
export function toolTasks(checkpointId: string, calls: ToolCall[], runId: string | undefined): HeadTask[] {
  return calls.map((call) => ({
    id: taskIdFor(checkpointId, Node.tools, call.id),
    name: Node.tools,
    toolCall: call,
    ...(runId ? { issuedByRun: runId } : {}),
    interrupts: [],
    done: false,
  }));
}

/** The tasks a checkpoint waits on, given the nodes that run next. */
export function tasksFor(checkpointId: string, next: string[], messages: Message[], runId: string | undefined): HeadTask[] {
  if (next[0] === Node.tools) return toolTasks(checkpointId, pendingToolCalls(messages), runId);
  if (next[0] === Node.agent) return [agentTask(checkpointId)];
  return next.map((n, i) => ({ id: taskIdFor(checkpointId, n, i), name: n, interrupts: [], done: false }));
}

function invalid(err: unknown): never {
  if (err instanceof MessageFormatError) throw ApplicationFailure.nonRetryable(err.message, FailureType.invalidUpdate);
  throw err;
}

/** Tool results already recorded for a step that never completed, plus errors for calls that never ran. */
async function closeDanglingCalls(q: Queryable, threadId: string, head: string | null): Promise<Message[]> {
  if (!head) return [];
  const messages = (await valuesAt(q, threadId, head)).messages ?? [];
  const recorded = new Map((await getPendingWrites(q, threadId, head)).map((w) => [(w.value as Message).tool_call_id, w.value as Message]));
  return pendingToolCalls(messages).map(
    (c) =>
      recorded.get(c.id) ??
      toolMessage(`Tool call ${c.name} was not run: the conversation continued with new input.`, c.id, c.name, randomUUID(), 'error'),
  );
}

/** The loop step after an input checkpoint: the input, after results for tool calls it left dangling. */
async function applyInput(
  q: Queryable,
  run: RunContext,
  input: { checkpointId: string; step: number },
  writes: ChannelWrites,
  baseCheckpointId: string | null,
  checkpointId: string,
): Promise<StepCommit> {
  const closing = await closeDanglingCalls(q, run.threadId, baseCheckpointId);
  const applied = closing.length ? { ...writes, messages: [...closing, ...((writes.messages as Message[]) ?? [])] } : writes;
  return {
    threadId: run.threadId,
    run,
    expectedHead: input.checkpointId,
    parentId: input.checkpointId,
    checkpointId,
    step: input.step + 1,
    source: 'loop',
    node: null,
    writes: applied,
    metadataWrites: null,
    next: [Node.agent],
    tasks: [agentTask(checkpointId)],
    emitValues: true,
  };
}

export interface InputCommit {
  run: RunContext;
  expectedHead: string | null;
  baseCheckpointId: string | null;
  ids: [string, string];
}

/**
 * The input checkpoint (step n, source input) and the loop checkpoint that applies it (step n+1), inside the
 * caller's transaction, so both land or neither does. Idempotency key: the loop checkpoint's id.
 */
export async function commitInputIn(q: Queryable, a: InputCommit, claimed?: ClaimedInput): Promise<ThreadHead> {
  const existing = await getCheckpoint(q, a.run.threadId, a.ids[1]);
  if (existing) return headOf(existing);
  const atHead = claimed && a.baseCheckpointId === claimed.head.checkpointId;
  const base = !a.baseCheckpointId ? undefined : atHead ? claimed.head : await getCheckpoint(q, a.run.threadId, a.baseCheckpointId);
  if (a.baseCheckpointId && !base)
    throw ApplicationFailure.nonRetryable(`Checkpoint ${a.baseCheckpointId} not found`, FailureType.checkpointNotFound);
  const run = claimed ? claimed.run : await getRun(q, a.run.runId);
  let writes: ChannelWrites;
  try {
    writes = normalizeWrites(run?.kwargs.input, randomUUID);
  } catch (err) {
    invalid(err);
  }
  const step = (base?.step ?? -2) + 1;
  // One chain: the loop step writes the head and both steps' events (commitStepsIn). Neither step exists (the loop
  // step does not, and both land together), so what the claim read under the lock is all the first one needs.
  const locked = claimed && { thread: claimed.thread, run: { status: claimed.run.status, metadata: claimed.run.metadata } };
  const [, loop] = await commitStepsIn(
    q,
    [
      {
        threadId: a.run.threadId,
        run: a.run,
        expectedHead: a.expectedHead,
        parentId: a.baseCheckpointId,
        checkpointId: a.ids[0],
        step,
        source: 'input',
        node: null,
        writes: null,
        metadataWrites: { [START]: writes },
        next: [START],
        tasks: [{ id: taskIdFor(a.ids[0], START, 0), name: START, interrupts: [], done: false }],
        emitValues: false,
        extraEvents: await inputGuardrailEvents(q, a.run, step),
      },
      await applyInput(q, a.run, { checkpointId: a.ids[0], step }, writes, a.baseCheckpointId, a.ids[1]),
    ],
    locked,
  );
  return loop!.head;
}

/** What a claim in the same transaction read under the thread's lock (the run as it stands now, after it started). */
export interface ClaimedInput {
  thread: ThreadRow;
  head: ThreadHead;
  run: RunRow;
}

export function createCheckpointActivities({ db }: ActivityDeps) {
  /** The input an input checkpoint recorded (in its metadata), looking through a fork that copied it. */
  async function recordedInput(threadId: string, checkpointId: string | null) {
    let row = checkpointId ? await getCheckpoint(db, threadId, checkpointId) : undefined;
    if (row?.source === 'fork' && row.parent_checkpoint_id) row = await getCheckpoint(db, threadId, row.parent_checkpoint_id);
    const writes = (row?.metadata.writes as Record<string, unknown> | null | undefined)?.[START];
    if (!row || row.source !== 'input' || !isRecord(writes))
      throw ApplicationFailure.nonRetryable(`Checkpoint ${checkpointId} has no recorded input to apply`, FailureType.invalidGraphState);
    return { writes: writes as ChannelWrites, baseCheckpointId: row.parent_checkpoint_id };
  }

  return {
    /** The input checkpoint and the loop checkpoint that applies it, in one transaction (see commitInputIn). */
    async commitInput(a: InputCommit): Promise<ThreadHead> {
      return db.tx((q) => commitInputIn(q, a));
    },

    /**
     * Runs the `__start__` task of a head that waits on it, as LangGraph does when a run resumes from an input
     * checkpoint (time travel to it with no new input): the input recorded there is applied again.
     */
    async commitStart(a: { run: RunContext; head: ThreadHead; checkpointId: string }): Promise<ThreadHead> {
      const existing = await getCheckpoint(db, a.run.threadId, a.checkpointId);
      if (existing) return headOf(existing);
      const input = await recordedInput(a.run.threadId, a.head.checkpointId);
      const from = { checkpointId: a.head.checkpointId!, step: a.head.step };
      return db.tx(
        async (q) => (await commitIn(q, await applyInput(q, a.run, from, input.writes, input.baseCheckpointId, a.checkpointId))).head,
      );
    },

    /** POST /threads/{id}/state and command.update: a checkpoint with source `update`, forking when base is not the head. */
    async commitUpdate(a: {
      threadId: string;
      run: RunContext | null;
      expectedHead: string | null;
      baseCheckpointId: string | null;
      checkpointId: string;
      values: unknown;
      asNode: string | null;
      keepNext?: string[];
    }): Promise<ThreadHead> {
      const base = a.baseCheckpointId ? await getCheckpoint(db, a.threadId, a.baseCheckpointId) : undefined;
      if (a.baseCheckpointId && !base)
        throw ApplicationFailure.nonRetryable(`Checkpoint ${a.baseCheckpointId} not found`, FailureType.checkpointNotFound);
      let writes: ChannelWrites;
      try {
        writes = normalizeWrites(a.values, randomUUID);
        const asNode = a.asNode ?? lastWriter(base?.metadata.writes) ?? START;
        const values = applyWrites(await valuesAt(db, a.threadId, a.baseCheckpointId), asNode === INPUT ? {} : writes);
        // A thread waiting on a middleware hook's interrupt (a checkpoint that wrote nothing) keeps waiting on that hook,
        // as in LangGraph, where the last writer's edge leads back to it: the next run runs the hook again, which asks again.
        const hookWaits = !a.asNode && !lastWriter(base?.metadata.writes) && base?.next.length === 1 && hookOfNode(base.next[0]!);
        const next = a.keepNext ?? (hookWaits ? base.next : nextAfter(asNode, values.messages ?? []));
        const result: CommitResult = await commitStep(db, {
          threadId: a.threadId,
          run: a.run,
          expectedHead: a.expectedHead,
          parentId: a.baseCheckpointId,
          checkpointId: a.checkpointId,
          step: (base?.step ?? -2) + 1,
          source: asNode === INPUT ? 'input' : 'update',
          node: asNode,
          writes: asNode === INPUT ? null : writes,
          metadataWrites: { [asNode === INPUT ? START : asNode]: writes },
          next,
          tasks: tasksFor(a.checkpointId, next, values.messages ?? [], a.run?.runId),
          emitValues: true,
          // A run's command.update was filtered by the API, as input is: what fired streams with it.
          ...(a.run ? { extraEvents: await inputGuardrailEvents(db, a.run, (base?.step ?? -2) + 1) } : {}),
        });
        return result.head;
      } catch (err) {
        invalid(err);
      }
    },

    /** Time travel with no input: a `fork` checkpoint copying an older one, so the thread continues from there. */
    async forkFrom(a: {
      run: RunContext;
      expectedHead: string | null;
      targetCheckpointId: string;
      checkpointId: string;
    }): Promise<ThreadHead> {
      const target = await getCheckpoint(db, a.run.threadId, a.targetCheckpointId);
      if (!target) throw ApplicationFailure.nonRetryable(`Checkpoint ${a.targetCheckpointId} not found`, FailureType.checkpointNotFound);
      const values = await valuesAt(db, a.run.threadId, a.targetCheckpointId);
      const r = await commitStep(db, {
        threadId: a.run.threadId,
        run: a.run,
        expectedHead: a.expectedHead,
        parentId: target.checkpoint_id,
        checkpointId: a.checkpointId,
        step: target.step + 1,
        source: 'fork',
        node: null,
        writes: null,
        metadataWrites: null,
        next: target.next,
        tasks: tasksFor(a.checkpointId, target.next, values.messages ?? [], a.run.runId),
        emitValues: true,
      });
      return r.head;
    },

    /** Saves which tool tasks finished and which wait on a person, on the checkpoint they belong to. */
    async recordTasks(a: { threadId: string; checkpointId: string; tasks: HeadTask[] }): Promise<ThreadHead> {
      await db.tx(async (q) => {
        await setCheckpointTasks(q, a.threadId, a.checkpointId, a.tasks);
        await setThreadInterrupts(q, a.threadId, interruptsByTask(a.tasks));
      });
      const row = await getCheckpoint(db, a.threadId, a.checkpointId);
      return headOf(row!);
    },

    /** A tool result that needs no execution: a rejected or answered review, or a tool that failed for good. */
    async writeToolResult(a: {
      threadId: string;
      checkpointId: string;
      task: HeadTask;
      content: string;
      status: 'success' | 'error';
    }): Promise<void> {
      const call = a.task.toolCall!;
      await putPendingWrite(
        db,
        a.threadId,
        a.checkpointId,
        a.task.id,
        'messages',
        toolMessage(a.content, call.id, call.name, randomUUID(), a.status),
      );
    },

    /** Completes a tools turn: the recorded tool results, in call order, become one checkpoint. */
    async commitTools(a: { run: RunContext; head: ThreadHead; checkpointId: string; editedCalls: ToolCall[] }): Promise<ThreadHead> {
      const base = a.head.checkpointId!;
      const pending = await getPendingWrites(db, a.run.threadId, base);
      const writes = new Map(pending.filter((w) => w.channel === 'messages').map((w) => [w.task_id, w.value as Message]));
      const results = a.head.tasks.flatMap((t) => (writes.has(t.id) ? [writes.get(t.id)!] : []));
      const rewritten = a.editedCalls.length ? await withEditedCalls(a.run.threadId, base, a.editedCalls) : [];
      const messages = [...rewritten, ...results];
      const channels = stateWrites(a.head.tasks, pending);
      const r = await commitStep(db, {
        threadId: a.run.threadId,
        run: a.run,
        expectedHead: base,
        parentId: base,
        checkpointId: a.checkpointId,
        step: a.head.step + 1,
        source: 'loop',
        node: Node.tools,
        writes: { ...channels, messages },
        metadataWrites: { [Node.tools]: { ...channels, messages } },
        next: [Node.agent],
        tasks: [agentTask(a.checkpointId)],
        completedMessages: results,
        taskId: a.head.tasks[0]?.id ?? null,
        emitValues: true,
      });
      return r.head;
    },
  };

  /** The AI message with edited tool calls, so the model later sees the arguments that actually ran. */
  async function withEditedCalls(threadId: string, checkpointId: string, edited: ToolCall[]): Promise<Message[]> {
    const messages = (await valuesAt(db, threadId, checkpointId)).messages ?? [];
    const ai = [...messages].reverse().find((m) => m.type === 'ai');
    if (!ai) return [];
    const byId = new Map(edited.map((c) => [c.id, c]));
    return [{ ...ai, tool_calls: (ai.tool_calls ?? []).map((c) => byId.get(c.id) ?? c) }];
  }
}

/** Tools' writes to other channels (files, todos), folded in call order: files merge, the rest keep the last value. */
function stateWrites(tasks: HeadTask[], pending: { task_id: string; channel: string; value: unknown }[]): ChannelWrites {
  const order = new Map(tasks.map((t, i) => [t.id, i]));
  const rest = pending.filter((w) => w.channel !== 'messages' && order.has(w.task_id));
  rest.sort((x, y) => order.get(x.task_id)! - order.get(y.task_id)!);
  const out: ChannelWrites = {};
  for (const w of rest) out[w.channel] = w.channel === 'files' ? mergeFiles(out.files, w.value) : w.value;
  return out;
}

function lastWriter(writes: unknown): string | undefined {
  if (!writes || typeof writes !== 'object') return undefined;
  const keys = Object.keys(writes).filter((k) => k !== START);
  return keys.length === 1 ? keys[0] : undefined;
}

/** The ReAct graph's edges: after `agent` come tools if it asked for any; after anything else, `agent`. */
export function nextAfter(node: string, messages: Message[]): string[] {
  if (node === INPUT) return [START];
  if (node === Node.agent) return pendingToolCalls(messages).length ? [Node.tools] : [];
  if (node === Node.tools || node === START) return [Node.agent];
  const hook = hookOfNode(node);
  if (hook) return nextAfterHook(hook, undefined, messages);
  throw new MessageFormatError(`as_node must be one of ${INPUT}, ${START}, ${Node.agent}, ${Node.tools}; got "${node}"`);
}
