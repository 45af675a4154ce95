import { executeChild } from '@temporalio/workflow';
import type { SubagentAnswer } from '../activities/subagents.js';
import type { ToolOutcome } from '../activities/tools/index.js';
import type { HeadTask } from '../core/head.js';
import type { RunContext, RunSpec } from '../core/runs.js';
import { db } from './activities.js';
import { threadWorkflowId } from './messages.js';
import { executeRun, type ThreadCore } from './run.js';

// A subagent as a child workflow: deepagents' `task(description, subagent_type)` tool. The child runs the subagent
// as a run of a thread of its own (made by prepareSubagent), through the same run loop as a thread workflow, so
// every model turn and tool call is a checkpointed activity: a crashed worker resumes inside the child, and
// cancelling the parent's run cancels the child with it. Its last AI message is the parent's tool result.

export interface SubagentInput {
  parent: RunContext;
  parentAgent: RunSpec['agent'];
  task: HeadTask;
}

export async function subagentWorkflow(input: SubagentInput): Promise<SubagentAnswer> {
  const prepared = await db.prepareSubagent(input);
  if (prepared.kind === 'invalid') return { status: 'error', content: prepared.message };
  const { spec } = prepared;
  const claim = await db.claimRun({ threadId: spec.threadId, runId: spec.runId, spec });
  if (claim.outcome === 'recorded') {
    const core: ThreadCore = {
      threadId: spec.threadId,
      head: claim.head,
      queue: [],
      liveQueued: 0,
      // One run, start to end: no continue-as-new mid-run and no lifecycle to own beyond it.
      ownsLifecycle: false,
      setStatus: () => undefined,
    };
    await executeRun(core, { runId: spec.runId, spec, admittedAt: 0, recorded: true });
  }
  return db.subagentResult({ threadId: spec.threadId, runId: spec.runId });
}

/** The tools step's way to execute a `task` call: the child's answer becomes the call's recorded result. */
export async function runSubagent(run: RunContext, agent: RunSpec['agent'], checkpointId: string, task: HeadTask): Promise<ToolOutcome> {
  const answer = await executeChild(subagentWorkflow, {
    // Unique per task of a step: a replayed or retried parent finds the same child. From the input, not
    // workflowInfo(), so a history replays under any workflow id (the replayer uses a fake one).
    workflowId: `${threadWorkflowId(run.threadId)}/task/${task.id}`,
    args: [{ parent: run, parentAgent: agent, task }],
  });
  await db.writeToolResult({ threadId: run.threadId, checkpointId, task, content: answer.content, status: answer.status });
  return { status: 'done' };
}
