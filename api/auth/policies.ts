import type { Request } from 'express';
import { matchesFilter, type AuthFilter } from '../../core/auth/filter.js';
import { Permission } from '../../core/auth/roles.js';
import { getCron } from '../../db/crons.js';
import { getRun } from '../../db/runs.js';
import { getThread } from '../../db/threads.js';
import { findAssistant, isSystemAssistant } from '../assistants/lookup.js';
import { conflict, forbidden, notFound } from '../errors.js';
import { requestAuth, setSearchFilter } from './context.js';
import { Guard } from './guard.js';
import { checkStore } from './store-policy.js';

// Which handler each route asks (reference §1.3 and its mapping of operations to events), keyed by
// `METHOD path` exactly as mounted. A route with no entry is refused (403) when auth is on, and the tenant test
// fails for it: every new route must say here who may call it. Run creation is authorized in the run service
// (api/runs/run-auth.ts), which every entry point shares; those routes only need the caller authenticated.

type Loose = Record<string, unknown>;
export interface PolicyInput {
  params: Loose;
  query: Loose;
  body: Loose;
}
type Policy = (g: Guard, input: PolicyInput) => Promise<void>;

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const obj = (v: unknown): Loose => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Loose) : {});
const threadGone = (id: string) => () => notFound(`Thread with ID ${id} not found`);

async function threadCheck(g: Guard, action: string, id: string, extra: Loose = {}): Promise<void> {
  const thread = await getThread(g.deps.db, id);
  await g.record('threads', action, { thread_id: id, ...extra }, id, thread?.metadata, threadGone(id));
}

const thread =
  (action: string): Policy =>
  (g, i) =>
    threadCheck(g, action, str(i.params.thread_id), i.params.run_id ? { run_id: i.params.run_id } : {});

const assistant =
  (action: string, persist = false): Policy =>
  async (g, i) => {
    const a = await findAssistant(g.deps.db, str(i.params.assistant_id));
    const value: Loose = { assistant_id: a?.assistant_id ?? i.params.assistant_id, ...i.body, metadata: obj(i.body.metadata) };
    await g.record('assistants', action, value, str(value.assistant_id), a?.metadata, () => notFound('Assistant not found'));
    if (persist) i.body.metadata = value.metadata;
  };

const cron =
  (action: string, persist = false): Policy =>
  async (g, i) => {
    const id = str(i.params.cron_id);
    const c = await getCron(g.deps.db, id);
    const value: Loose = { cron_id: id, ...(persist ? { ...i.body, metadata: obj(i.body.metadata) } : {}) };
    await g.record('crons', action, value, id, c?.metadata, () => notFound(`Cron ${id} not found`));
    if (persist && i.body.metadata !== undefined) i.body.metadata = value.metadata;
  };

const search =
  (resource: string): Policy =>
  async (g, i) => {
    setSearchFilter(g.req, await g.decide(resource, 'search', { ...i.body, metadata: obj(i.body.metadata) }));
  };

/** Run creation: the run service asks `threads:create_run`; the route only needs a caller. */
const viaRunService: Policy = () => Promise.resolve();
const anyCaller: Policy = () => Promise.resolve();

const adminOnly: Policy = (g) => {
  if (!g.auth.user.permissions.includes(Permission.admin)) throw forbidden('This operator route requires the admin permission');
  return Promise.resolve();
};

async function createThread(g: Guard, i: PolicyInput): Promise<void> {
  const value: Loose = { thread_id: i.body.thread_id, metadata: obj(i.body.metadata), if_exists: i.body.if_exists };
  const filter = await g.decide('threads', 'create', value);
  i.body.metadata = value.metadata;
  const existing = typeof i.body.thread_id === 'string' ? await getThread(g.deps.db, i.body.thread_id) : undefined;
  if (existing && !matchesFilter(filter, existing.metadata)) throw conflict('Thread already exists');
}

async function createAssistant(g: Guard, i: PolicyInput): Promise<void> {
  const value: Loose = { ...i.body, metadata: obj(i.body.metadata) };
  const filter = await g.decide('assistants', 'create', value, str(i.body.assistant_id) || null);
  i.body.metadata = value.metadata;
  const existing = typeof i.body.assistant_id === 'string' ? await findAssistant(g.deps.db, i.body.assistant_id) : undefined;
  if (existing && !matchesFilter(filter, existing.metadata)) throw conflict('Assistant already exists');
}

/** Copy: the source must pass `threads:read` (409 "Thread not found" otherwise, as the reference), then `threads:create`. */
async function copyThread(g: Guard, i: PolicyInput): Promise<void> {
  const id = str(i.params.thread_id);
  const source = await getThread(g.deps.db, id);
  await g.record('threads', 'read', { thread_id: id }, id, source?.metadata, () => conflict('Thread not found'));
  await g.decide('threads', 'create', { thread_id: null, metadata: { ...source?.metadata }, if_exists: 'raise' });
}

async function createCron(g: Guard, i: PolicyInput): Promise<void> {
  if (i.params.thread_id) await threadCheck(g, 'create_run', str(i.params.thread_id));
  // The cron's runs will use the assistant: it must be one the caller may run (as the run service checks).
  const a = await findAssistant(g.deps.db, str(i.body.assistant_id));
  if (a && !isSystemAssistant(a))
    await g.record('assistants', 'read', { assistant_id: a.assistant_id, metadata: { ...a.metadata } }, a.assistant_id, a.metadata, () =>
      notFound('Assistant not found'),
    );
  const value: Loose = {
    payload: i.body,
    schedule: i.body.schedule,
    cron_id: null,
    thread_id: i.params.thread_id ?? null,
    user_id: g.auth.user.identity,
    end_time: i.body.end_time ?? null,
    metadata: obj(i.body.metadata),
  };
  await g.decide('crons', 'create', value);
  i.body.metadata = value.metadata;
}

/** Prune: threads the caller may not delete are left out, as if they did not exist. */
async function prune(g: Guard, i: PolicyInput): Promise<void> {
  const ids = Array.isArray(i.body.thread_ids) ? (i.body.thread_ids as string[]) : [];
  const kept: string[] = [];
  for (const id of ids) {
    const t = await getThread(g.deps.db, id);
    const filter = await g.decide('threads', 'delete', { thread_id: id, run_id: null });
    if (t && matchesFilter(filter, t.metadata)) kept.push(id);
  }
  i.body.thread_ids = kept;
}

async function runThreadCheck(g: Guard, runId: string, action: string): Promise<void> {
  const run = await getRun(g.deps.db, runId);
  if (run) await threadCheck(g, action, run.thread_id, { run_id: runId });
}

async function cancelMany(g: Guard, i: PolicyInput): Promise<void> {
  if (typeof i.body.thread_id === 'string') await threadCheck(g, 'update', i.body.thread_id);
  if (Array.isArray(i.body.run_ids)) for (const id of i.body.run_ids as string[]) await runThreadCheck(g, id, 'update');
  if (i.body.thread_id === undefined && i.body.run_ids === undefined) {
    const filter: AuthFilter | undefined = await g.decide('threads', 'update', { thread_id: null });
    // Cancelling by status alone reaches every user's runs: only a caller with no filter may.
    if (filter) throw forbidden('Name the thread or the runs to cancel');
  }
}

export const policies: Record<string, Policy> = {
  'POST /assistants': createAssistant,
  'POST /assistants/search': search('assistants'),
  'POST /assistants/count': search('assistants'),
  'GET /assistants/:assistant_id': assistant('read'),
  'PATCH /assistants/:assistant_id': assistant('update', true),
  'DELETE /assistants/:assistant_id': assistant('delete'),
  'GET /assistants/:assistant_id/graph': assistant('read'),
  'GET /assistants/:assistant_id/schemas': assistant('read'),
  'GET /assistants/:assistant_id/subgraphs': assistant('read'),
  'GET /assistants/:assistant_id/subgraphs/:namespace': assistant('read'),
  'POST /assistants/:assistant_id/versions': assistant('read'),
  'POST /assistants/:assistant_id/latest': assistant('update'),
  'POST /threads': createThread,
  'POST /threads/search': search('threads'),
  'POST /threads/count': search('threads'),
  'POST /threads/prune': prune,
  'GET /threads/:thread_id': thread('read'),
  'PATCH /threads/:thread_id': thread('update'),
  'DELETE /threads/:thread_id': thread('delete'),
  'POST /threads/:thread_id/copy': copyThread,
  'GET /threads/:thread_id/state': thread('read'),
  'POST /threads/:thread_id/state': thread('update'),
  'PATCH /threads/:thread_id/state': thread('update'),
  'GET /threads/:thread_id/state/:checkpoint_id': thread('read'),
  'POST /threads/:thread_id/state/checkpoint': thread('read'),
  'POST /threads/:thread_id/history': thread('read'),
  'GET /threads/:thread_id/history': thread('read'),
  'GET /threads/:thread_id/stream': thread('read'),
  'POST /threads/:thread_id/commands': thread('update'),
  'POST /threads/:thread_id/stream/events': thread('read'),
  'POST /runs/crons': createCron,
  'POST /threads/:thread_id/runs/crons': createCron,
  'POST /runs/crons/search': search('crons'),
  'POST /runs/crons/count': search('crons'),
  'GET /runs/crons/:cron_id': cron('read'),
  'PATCH /runs/crons/:cron_id': cron('update', true),
  'DELETE /runs/crons/:cron_id': cron('delete'),
  'POST /threads/:thread_id/runs': viaRunService,
  'POST /threads/:thread_id/runs/stream': viaRunService,
  'POST /threads/:thread_id/runs/wait': viaRunService,
  'POST /runs': viaRunService,
  'POST /runs/stream': viaRunService,
  'POST /runs/wait': viaRunService,
  'POST /runs/batch': viaRunService,
  'GET /runs/:run_id/stream': (g, i) => runThreadCheck(g, str(i.params.run_id), 'read'),
  'POST /runs/cancel': cancelMany,
  'GET /threads/:thread_id/runs': thread('search'),
  'GET /threads/:thread_id/runs/:run_id': thread('read'),
  'DELETE /threads/:thread_id/runs/:run_id': thread('delete'),
  'GET /threads/:thread_id/runs/:run_id/join': thread('read'),
  'GET /threads/:thread_id/runs/:run_id/stream': thread('read'),
  'POST /threads/:thread_id/runs/:run_id/cancel': thread('update'),
  'PUT /store/items': (g, i) => checkStore(g, 'put', i),
  'GET /store/items': (g, i) => checkStore(g, 'get', i),
  'DELETE /store/items': (g, i) => checkStore(g, 'delete', i),
  'POST /store/items/search': (g, i) => checkStore(g, 'search', i),
  'POST /store/namespaces': (g, i) => checkStore(g, 'list_namespaces', i),
  // MCP and A2A create runs through the run service; their listings read assistants, which are shared.
  'POST /mcp': async (g) => setSearchFilter(g.req, await g.decide('assistants', 'search', { metadata: {} })),
  'GET /mcp': anyCaller,
  'DELETE /mcp': anyCaller,
  'GET /a2a/:assistant_id/.well-known/agent-card.json': assistant('read'),
  'GET /a2a/:assistant_id/.well-known/agent.json': assistant('read'),
  'GET /a2a/:assistant_id': assistant('read'),
  'POST /a2a/:assistant_id': assistant('read'),
  'DELETE /a2a/:assistant_id': assistant('read'),
  // A user's own connections only: the routes read the identity, never a parameter.
  'GET /agent-auth/connections': anyCaller,
  'DELETE /agent-auth/connections': anyCaller,
  'GET /audit': adminOnly,
  // Guardrail policies check policies:write (or admin) themselves, in api/policies/permission.ts.
  'GET /policies': anyCaller,
  'PUT /policies': anyCaller,
};

/** Applies the route's policy to its parsed input when authentication is on. */
export async function authorizeRoute(req: Request, method: string, path: string, input: PolicyInput): Promise<void> {
  const auth = requestAuth(req);
  if (!auth) return;
  const policy = policies[`${method.toUpperCase()} ${path}`];
  if (!policy) throw forbidden(`No authorization policy covers ${method.toUpperCase()} ${path}`);
  // Routes without a body or query schema parse them as undefined; a policy's changes matter only where they exist.
  const loose = { params: input.params ?? {}, query: input.query ?? {}, body: input.body ?? {} };
  await policy(new Guard(req, auth), loose);
}
