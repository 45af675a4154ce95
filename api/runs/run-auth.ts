import type { IncomingHttpHeaders } from 'node:http';
import { matchesFilter, type AuthFilter } from '../../core/auth/filter.js';
import type { AssistantRow } from '../../db/assistants.js';
import { isSystemAssistant } from '../assistants/lookup.js';
import type { Queryable } from '../../db/pool.js';
import { getThread, type ThreadRow } from '../../db/threads.js';
import { runActorOf, type RunActor } from '../auth/context.js';
import { forbidden, notFound } from '../errors.js';
import type { RunCreate } from './schema.js';

// Authorization of run creation, for every entry point (runs routes, MCP, A2A, protocol v2, cron fires, resumed
// calls): `threads:create_run` decides, its changes to metadata are kept (owner tags reach a thread the run
// creates), its filter is checked against an existing thread (404), and the run carries its user.

export interface RunAuthorization {
  actor: RunActor | undefined;
  body: RunCreate;
  filter: AuthFilter | undefined;
}

export async function authorizeRun(headers: IncomingHttpHeaders, threadId: string | null, body: RunCreate): Promise<RunAuthorization> {
  const actor = runActorOf(headers);
  if (!actor?.decide) return { actor, body, filter: undefined };
  const value: Record<string, unknown> = {
    thread_id: threadId,
    assistant_id: body.assistant_id,
    run_id: null,
    status: 'pending',
    metadata: { ...(body.metadata ?? {}) },
    prevent_insert_if_inflight: body.multitask_strategy === 'reject',
    multitask_strategy: body.multitask_strategy ?? null,
    if_not_exists: body.if_not_exists ?? null,
    after_seconds: body.after_seconds ?? null,
    kwargs: { input: body.input ?? null, command: body.command ?? null, config: body.config ?? null, context: body.context ?? null },
  };
  const d = await actor.decide(value);
  if (!d.allow) throw forbidden();
  const metadata = (typeof value.metadata === 'object' && value.metadata !== null ? value.metadata : {}) as Record<string, unknown>;
  return { actor, body: { ...body, metadata }, filter: d.filter };
}

/**
 * The run's assistant must be one the caller may read (`assistants:read`): a hidden one is not found. The
 * assistants of the deployment's graphs (a graph id) run for everyone, as on the reference server.
 */
export async function checkRunAssistant(headers: IncomingHttpHeaders, assistant: AssistantRow): Promise<void> {
  const decide = runActorOf(headers)?.decideOn;
  if (!decide || isSystemAssistant(assistant)) return;
  const d = await decide('assistants', 'read', { assistant_id: assistant.assistant_id, metadata: { ...assistant.metadata } });
  if (!d.allow) throw forbidden();
  if (!matchesFilter(d.filter, assistant.metadata)) throw notFound(`No assistant found for "${assistant.assistant_id}".`);
}

/** A thread the filter hides is not found, as the reference answers runs on another user's thread. */
export function checkRunThread(thread: ThreadRow, filter: AuthFilter | undefined): void {
  if (!matchesFilter(filter, thread.metadata)) throw notFound(`Thread with ID ${thread.thread_id} not found`);
}

/** Whether the caller behind these headers may read the thread (always, when authentication is off). */
export async function mayReadThread(headers: IncomingHttpHeaders, db: Queryable, threadId: string): Promise<boolean> {
  const decide = runActorOf(headers)?.decideOn;
  if (!decide) return true;
  const d = await decide('threads', 'read', { thread_id: threadId });
  if (!d.allow) return false;
  const thread = await getThread(db, threadId);
  return thread !== undefined && matchesFilter(d.filter, thread.metadata);
}

/** The configurable keys that carry the user to the graph (reference §1.7). */
export function userConfigurable(actor: RunActor | undefined): Record<string, unknown> {
  if (!actor) return {};
  return {
    langgraph_auth_user: actor.user,
    langgraph_auth_user_id: actor.user.identity,
    langgraph_auth_permissions: actor.user.permissions,
  };
}
