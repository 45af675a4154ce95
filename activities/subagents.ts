import { v5 as uuidv5 } from 'uuid';
import { parseInterruptOn } from '../core/agent-config.js';
import { findGraph } from '../core/graphs.js';
import type { HeadTask } from '../core/head.js';
import { isRecord, messageText } from '../core/messages.js';
import type { RunAgent, RunContext, RunSpec } from '../core/runs.js';
import { getRun, getRunInternals, insertRunRequest } from '../db/runs.js';
import { getThread, insertThread } from '../db/threads.js';
import type { ActivityDeps } from './deps.js';

// Subagents (`task` calls) run as child workflows of the thread workflow (workflows/subagent.ts), each on a thread
// of its own, so their messages, checkpoints and crash recovery are a run's like any other. These activities make
// that thread and run, and read the answer back. Idempotency key: the child's thread and run ids, derived from the
// parent's thread, run and task ids, so a retry finds what the first attempt made.

const NAMESPACE = '0b5c2a8e-6a51-4d0e-9a8c-5d6f4f3b9d21';

export interface SubagentRequest {
  parent: RunContext;
  parentAgent: RunAgent;
  task: HeadTask;
  /** The parent thread's answer to the subagent's interrupt: the child goes on with a resume run. */
  resume?: { value: unknown };
}

export type Prepared = { kind: 'ready'; spec: RunSpec } | { kind: 'invalid'; message: string };
export type SubagentAnswer = { status: 'success' | 'error'; content: string } | { status: 'interrupt'; value: unknown };

export function createSubagentActivities(deps: ActivityDeps) {
  const { db } = deps;
  return {
    async prepareSubagent(a: SubagentRequest): Promise<Prepared> {
      const args = a.task.toolCall?.args ?? {};
      const subagents = findGraph(a.parent.graphId)?.subagents ?? [];
      const sub = subagents.find((s) => s.name === args.subagent_type);
      if (typeof args.description !== 'string' || !args.description.trim())
        return { kind: 'invalid', message: 'Error: task needs a description of the work for the subagent.' };
      if (!sub)
        return {
          kind: 'invalid',
          message: `Error: unknown subagent_type ${JSON.stringify(args.subagent_type)}; available: ${subagents.map((s) => s.name).join(', ') || 'none'}.`,
        };
      const key = `${a.parent.threadId}/${a.task.issuedByRun ?? a.parent.runId}/${a.task.id}`;
      const threadId = uuidv5(key, NAMESPACE);
      // A resume is another run of the child's thread, one per parent run that answers it.
      const runId = uuidv5(a.resume ? `${key}/run/${a.parent.runId}` : `${key}/run`, NAMESPACE);
      const parentRun = await getRun(db, a.parent.runId);
      const configurable =
        isRecord(parentRun?.kwargs.config) && isRecord(parentRun.kwargs.config.configurable) ? parentRun.kwargs.config.configurable : {};
      // Tests and demos script a subagent's model like the parent's: configurable.subagent_scripts[<type>].
      const scripts = isRecord(configurable.subagent_scripts) ? configurable.subagent_scripts : {};
      const script = scripts[sub.name];
      const userId = a.parentAgent.userId;
      await insertThread(db, {
        thread_id: threadId,
        metadata: {
          graph_id: a.parent.graphId,
          assistant_id: a.parent.assistantId,
          subagent_of: { thread_id: a.parent.threadId, run_id: a.parent.runId, tool_call_id: a.task.toolCall!.id, subagent_type: sub.name },
        },
        ...(userId ? { config: { configurable: { user_id: userId } } } : {}),
      });
      const spec: RunSpec = {
        runId,
        threadId,
        assistantId: a.parent.assistantId,
        graphId: a.parent.graphId,
        multitaskStrategy: 'reject',
        hasInput: !a.resume,
        command: a.resume ? { resume: a.resume.value } : null,
        checkpointId: null,
        interruptBefore: [],
        interruptAfter: [],
        streamModes: a.parent.streamModes,
        afterSeconds: 0,
        strictResume: false,
        onCompletion: 'keep',
        agent: {
          model: sub.model ?? a.parentAgent.model,
          tools: sub.tools,
          maxSteps: a.parentAgent.maxSteps,
          interruptOn: parseInterruptOn(sub.interruptOn),
          ...(userId ? { userId } : {}),
        },
        ...(parentRun?.kwargs.subgraphs === true ? { parent: { runId: a.parent.runId, namespace: `tools:${a.task.id}` } } : {}),
      };
      await insertRunRequest(db, {
        run_id: runId,
        thread_id: threadId,
        assistant_id: a.parent.assistantId,
        metadata: { subagent_type: sub.name, parent_run_id: a.parent.runId },
        kwargs: {
          input: a.resume ? null : { messages: [{ role: 'user', content: args.description }] },
          command: a.resume ? { resume: a.resume.value } : null,
          config: { configurable: { system_prompt: sub.systemPrompt, ...(script !== undefined ? { script } : {}) } },
          stream_mode: a.parent.streamModes,
        },
        multitask_strategy: 'reject',
        spec,
      });
      return { kind: 'ready', spec };
    },

    /** The subagent's final answer (its last AI message), the interrupt it waits on, or why it has neither. */
    async subagentResult(a: { threadId: string; runId: string }): Promise<SubagentAnswer> {
      const thread = await getThread(db, a.threadId);
      // The child waits for a person: the parent thread asks them instead, and its resume reaches the child.
      const waiting = Object.values(thread?.interrupts ?? {}).flat()[0];
      if (thread?.status === 'interrupted' && waiting) return { status: 'interrupt', value: waiting.value };
      const run = await getRunInternals(db, a.runId);
      if (run?.status !== 'success') {
        const why = run?.error ? `${run.error.error}: ${run.error.message}` : (run?.status ?? 'no run');
        return { status: 'error', content: `Error: the subagent did not finish (${why}).` };
      }
      const messages = thread?.values?.messages ?? [];
      const last = [...messages].reverse().find((m) => m.type === 'ai');
      return { status: 'success', content: last ? messageText(last.content) : '' };
    },
  };
}
