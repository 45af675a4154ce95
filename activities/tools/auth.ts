import { isAuthRequired } from '../../core/agent-auth.js';
import type { HeadTask } from '../../core/head.js';
import type { AgentAuth } from '../agent-auth.js';
import { InterruptSignal, type ToolAuthContext, type ToolDefinition } from './types.js';

// Agent Auth in a tool call: the token of the run's user, or the interrupt that asks them to authorize. The
// interrupt is a tool interrupt like ctx.interrupt's, so the thread waits and the call runs again on resume.

export interface AuthCall {
  userId?: string;
  threadId: string;
  runId: string;
  task: HeadTask;
}

/** The token for a tool that declares `auth`; throws InterruptSignal when the run's user must authorize first. */
export async function toolAuth(
  agentAuth: AgentAuth | undefined,
  tool: ToolDefinition,
  call: AuthCall,
): Promise<ToolAuthContext | undefined> {
  if (!tool.auth) return undefined;
  if (!agentAuth) throw new Error(`${tool.name} acts on behalf of users, and Agent Auth is not configured (AGENT_AUTH_PROVIDERS_FILE).`);
  if (!call.userId) throw new Error(`${tool.name} acts on behalf of the run's user, and this run has none (configurable.user_id).`);
  const access = await agentAuth.toolAccess(
    { userId: call.userId, threadId: call.threadId, runId: call.runId, taskId: call.task.id },
    tool.auth,
  );
  if (access.status === 'required') throw new InterruptSignal(access.interrupt);
  return access.auth;
}

/**
 * A resume that answers an auth interrupt is for Agent Auth, not for the tool: the tool's own ctx.interrupt must
 * not receive it as its answer.
 */
export const answersAuth = (task: HeadTask): boolean => isAuthRequired(task.interrupts[0]?.value);
