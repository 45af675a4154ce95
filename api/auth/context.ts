import type { IncomingHttpHeaders } from 'node:http';
import type { Request } from 'express';
import type { AuthFilter } from '../../core/auth/filter.js';
import type { Decision } from '../../core/auth/roles.js';
import type { AppDeps } from '../deps.js';
import type { AuthService, AuthUser } from './types.js';

// Who a request acts as. The authentication middleware records it per request; the run service finds it through
// the request's headers object, which every entry point that creates runs (runs routes, MCP, A2A, protocol v2)
// already hands it, so none of them can forget the user.

export interface RequestAuth {
  user: AuthUser;
  service: AuthService;
  requestId: string;
  deps: AppDeps;
}

/** Who a run acts as, and (for a live request) the handler that decides `threads:create_run`. */
export interface RunActor {
  user: AuthUser;
  decide?: (value: Record<string, unknown>) => Promise<Decision>;
  /** Any handler's decision, for checks outside the routes (the run's assistant, A2A tasks). */
  decideOn?: (resource: string, action: string, value: Record<string, unknown>) => Promise<Decision>;
}

const byRequest = new WeakMap<Request, RequestAuth>();
const byHeaders = new WeakMap<IncomingHttpHeaders, RunActor>();
const filters = new WeakMap<Request, AuthFilter>();

export function setRequestAuth(req: Request, auth: RequestAuth): void {
  byRequest.set(req, auth);
  byHeaders.set(req.headers, {
    user: auth.user,
    decide: (value) => auth.service.decide(auth.user, 'threads', 'create_run', value),
    decideOn: (resource, action, value) => auth.service.decide(auth.user, resource, action, value),
  });
}

/** The authenticated caller; undefined when authentication is off (or on a public route). */
export const requestAuth = (req: Request): RequestAuth | undefined => byRequest.get(req);

export const runActorOf = (headers: IncomingHttpHeaders): RunActor | undefined => byHeaders.get(headers);

/** Headers standing for a request made on a user's behalf (a cron fire, a resumed call): runs act as that user. */
export function actingAs(user: AuthUser): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = {};
  byHeaders.set(headers, { user });
  return headers;
}

/** The authorization filter a search route applies in SQL (set by the route's policy). */
export function setSearchFilter(req: Request, filter: AuthFilter | undefined): void {
  if (filter) filters.set(req, filter);
}
export const searchFilterOf = (req: Request): AuthFilter | undefined => filters.get(req);

/** The user the stored `langgraph_auth_user` of a run or cron names, or a bare one for an identity. */
export function storedUser(raw: unknown, identity: string): AuthUser {
  if (typeof raw === 'object' && raw !== null && (raw as { identity?: unknown }).identity === identity) return raw as AuthUser;
  return { identity, display_name: identity, permissions: [], is_authenticated: true };
}
