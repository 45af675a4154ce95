import { executeChild, upsertSearchAttributes } from '@temporalio/workflow';
import type { SubagentAnswer } from '../activities/subagents.js';
import type { ToolOutcome } from '../activities/tools/index.js';
import type { HeadTask } from '../core/head.js';
import type { RunContext, RunSpec } from '../core/runs.js';
import { db } from './activities.js';
import { threadWorkflowId } from '../core/ids.js';
import { executeRun, type ThreadCore } from './run.js';
import { AssistantIdKey, GraphIdKey } from './search-attributes.js';

// A subagent as a child workflow: deepagents' `task(description, subagent_type)` tool. The child runs the subagent
// as a run of a thread of its own (made by prepareSubagent), through the same run loop as a thread workflow, so
// every model turn and tool call is a checkpointed activity: a crashed worker resumes inside the child, and
// cancelling the parent's run cancels the child with it. Its last AI message is the parent's tool result.

export interface SubagentInput {
  parent: RunContext;
  parentAgent: RunSpec['agent'];
  task: HeadTask;
  resume?: { value: unknown };
}

export async function subagentWorkflow(input: SubagentInput): Promise<SubagentAnswer> {
  const prepared = await db.prepareSubagent(input);
  if (prepared.kind === 'invalid') return { status: 'error', content: prepared.message };
  const { spec } = prepared;
  // Operators find a package's subagents in the Web UI as they find its threads (the parent link shows there too).
  upsertSearchAttributes([
    { key: GraphIdKey, value: spec.graphId },
    { key: AssistantIdKey, value: spec.assistantId },
  ]);
  const claim = await db.claimRun({ threadId: spec.threadId, runId: spec.runId, spec });
  if (claim.outcome === 'recorded') {
    const core: ThreadCore = {
      threadId: spec.threadId,
      head: claim.head,
      queue: [],
      liveQueued: 0,
      // One run, start to end: no continue-as-new mid-run and no lifecycle to own beyond it.
      ownsLifecycle: false,
      endedInStep: null,
      setStatus: () => undefined,
    };
    await executeRun(core, { runId: spec.runId, spec, admittedAt: 0, recorded: true });
  }
  return db.subagentResult({ threadId: spec.threadId, runId: spec.runId });
}

/**
 * The tools step's way to execute a `task` call: the child's answer becomes the call's recorded result. A child
 * that waits on a person makes the call a dynamic interrupt of the parent thread; the parent's resume runs the
 * child again (a resume run of its thread) with the answer.
 */
export async function runSubagent(
  run: RunContext,
  agent: RunSpec['agent'],
  checkpointId: string,
  task: HeadTask,
  resume?: { value: unknown },
): Promise<ToolOutcome> {
  // Unique per task of a step (and per parent run that resumes it): a replayed or retried parent finds the same
  // child. From the input, not workflowInfo(), so a history replays under any workflow id (the replayer's is fake).
  const base = `${threadWorkflowId(run.threadId)}/task/${task.id}`;
  const answer = await executeChild(subagentWorkflow, {
    workflowId: resume ? `${base}/${run.runId}` : base,
    args: [{ parent: run, parentAgent: agent, task, ...(resume ? { resume } : {}) }],
  });
  if (answer.status === 'interrupt') return { status: 'interrupt', value: answer.value };
  await db.writeToolResult({ threadId: run.threadId, checkpointId, task, content: answer.content, status: answer.status });
  return { status: 'done' };
}
