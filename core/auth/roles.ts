import type { AuthFilter } from './filter.js';

// Operator roles are permissions an authenticator returns (reference §1.9). The built-in authenticators (API keys,
// JWT) authorize with the rule below: every user owns what they create, and these roles widen that.

export const Permission = {
  /** Deploy and configure assistants (create, update, delete, set latest version). */
  assistantsWrite: 'assistants:write',
  /** Read any user's threads, state and history, for support and debugging. */
  threadsReadAny: 'threads:read:any',
  /** Change guardrail policies and crons for others. */
  policiesWrite: 'policies:write',
  /** Everything, and the operator routes (GET /audit). */
  admin: 'admin',
} as const;

/** Keys of `configurable` only the server sets: the authenticated user of every run. */
export const RESERVED_CONFIGURABLE_KEYS = ['langgraph_auth_user', 'langgraph_auth_user_id', 'langgraph_auth_permissions'] as const;

/** The metadata key built-in authorization tags records with. */
export const OWNER_KEY = 'owner';

export interface AuthEvent {
  resource: string;
  action: string;
  value: Record<string, unknown>;
  identity: string;
  permissions: readonly string[];
}

/**
 * What a handler decided: allowed (with a filter or none), or forbidden. `audit` marks an operator action a role
 * allowed: always (true), or when the record fails the given filter (another user's record).
 */
export type Decision = { allow: true; filter?: AuthFilter; audit?: true | AuthFilter } | { allow: false };

const readActions = new Set(['read', 'search']);

/**
 * Built-in authorization: owner isolation plus the roles. Assistants are shared and read-only without
 * assistants:write; threads, runs and crons belong to their creator; store namespaces start with the user's id.
 */
export function builtinDecision(e: AuthEvent): Decision {
  const has = (p: string) => e.permissions.includes(p) || e.permissions.includes(Permission.admin);
  const own: AuthFilter = { [OWNER_KEY]: e.identity };
  if (e.resource === 'assistants') {
    if (readActions.has(e.action)) return { allow: true };
    return has(Permission.assistantsWrite) ? { allow: true, audit: true } : { allow: false };
  }
  if (e.resource === 'store') return storeDecision(e, has(Permission.admin));
  if (e.resource === 'threads' || e.resource === 'crons') {
    if (e.action === 'create' || e.action === 'create_run') tagOwner(e.value, e.identity);
    if (e.action === 'create') return { allow: true };
    const widened =
      has(Permission.admin) ||
      (e.resource === 'threads' && readActions.has(e.action) && has(Permission.threadsReadAny)) ||
      (e.resource === 'crons' && has(Permission.policiesWrite));
    return widened ? { allow: true, audit: own } : { allow: true, filter: own };
  }
  return has(Permission.admin) ? { allow: true, audit: true } : { allow: false };
}

function tagOwner(value: Record<string, unknown>, identity: string): void {
  const md = value.metadata;
  value.metadata = { ...(typeof md === 'object' && md !== null ? md : {}), [OWNER_KEY]: identity };
}

/** Namespaces must start with the user's id (the Python server's rule, §1.5); an empty prefix becomes [id]. */
function storeDecision(e: AuthEvent, admin: boolean): Decision {
  if (admin) return { allow: true };
  const ns = e.value.namespace;
  if (!Array.isArray(ns)) return { allow: false };
  if (ns.length === 0 && (e.action === 'search' || e.action === 'list_namespaces')) {
    e.value.namespace = [e.identity];
    return { allow: true };
  }
  return ns[0] === e.identity ? { allow: true } : { allow: false };
}
