import { authCompleted, pendingAuthInterrupt } from '../../core/agent-auth.js';
import type { AuthRequestRow } from '../../db/agent-auth.js';
import { readHead } from '../../db/checkpoints.js';
import { getRun } from '../../db/runs.js';
import type { AppDeps } from '../deps.js';
import { actingAs, storedUser } from '../auth/context.js';
import { createRun } from '../runs/create.js';
import { runCreate } from '../runs/schema.js';

// After the callback: the tool call that asked for the authorization runs again, through the same run-creation
// path as any resume. The new run answers that call's interrupt, with the interrupted run's assistant, config and
// context, as a person resuming the thread would.

/** Keys each run gets anew; the `langgraph_auth_` ones are reserved to the server. */
const perRunKey = (k: string) => ['run_id', 'thread_id', 'graph_id', 'assistant_id'].includes(k) || k.startsWith('langgraph_auth_');

/** The run id of the resume, or null when the thread no longer waits on this authorization (resumed already). */
export async function resumeWaitingCall(deps: AppDeps, request: AuthRequestRow): Promise<string | null> {
  const interrupt = pendingAuthInterrupt(await readHead(deps.db, request.thread_id), request.task_id, request.provider);
  const run = interrupt ? await getRun(deps.db, request.run_id) : undefined;
  if (!interrupt || !run) return null;
  const kwargs = run.kwargs as {
    config?: { configurable?: Record<string, unknown> };
    context?: unknown;
    stream_mode?: unknown;
    webhook?: unknown;
  };
  const configurable = Object.fromEntries(Object.entries(kwargs.config?.configurable ?? {}).filter(([k]) => !perRunKey(k)));
  const body = runCreate.parse({
    assistant_id: run.assistant_id,
    command: { resume: { [interrupt.id]: authCompleted(request.provider) } },
    config: { ...kwargs.config, configurable },
    context: kwargs.context ?? null,
    stream_mode: kwargs.stream_mode ?? null,
    webhook: kwargs.webhook ?? null,
    // Behind a run already under way, the resume waits its turn rather than being refused.
    multitask_strategy: 'enqueue',
  });
  // The run acts as the user who authorized (with authentication on; the interrupted run carries their user).
  const headers = deps.auth ? actingAs(storedUser(kwargs.config?.configurable?.langgraph_auth_user, request.user_id)) : {};
  const created = await createRun(deps, request.thread_id, body, headers);
  return created.run.run_id;
}
