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
}

export type Prepared = { kind: 'ready'; spec: RunSpec } | { kind: 'invalid'; message: string };
export interface SubagentAnswer {
  status: 'success' | 'error';
  content: string;
}

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
      const runId = uuidv5(`${key}/run`, NAMESPACE);
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
        hasInput: true,
        command: null,
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
          input: { messages: [{ role: 'user', content: args.description }] },
          config: { configurable: { system_prompt: sub.systemPrompt, ...(script !== undefined ? { script } : {}) } },
          stream_mode: a.parent.streamModes,
        },
        multitask_strategy: 'reject',
        spec,
      });
      return { kind: 'ready', spec };
    },

    /** The subagent's final answer (its last AI message), or why it has none. */
    async subagentResult(a: { threadId: string; runId: string }): Promise<SubagentAnswer> {
      const run = await getRunInternals(db, a.runId);
      if (run?.status !== 'success') {
        const why = run?.error ? `${run.error.error}: ${run.error.message}` : (run?.status ?? 'no run');
        return { status: 'error', content: `Error: the subagent did not finish (${why}).` };
      }
      const thread = await getThread(db, a.threadId);
      // Interrupts inside a subagent do not surface on the parent thread yet (README "Subagents").
      if (thread?.status === 'interrupted')
        return { status: 'error', content: 'Error: the subagent stopped to wait for a person, which subagents cannot do yet.' };
      const messages = thread?.values?.messages ?? [];
      const last = [...messages].reverse().find((m) => m.type === 'ai');
      return { status: 'success', content: last ? messageText(last.content) : '' };
    },
  };
}
