import type { Decision } from '../../core/auth/roles.js';
import { ApiError, ErrorCode } from '../errors.js';

// What every authenticator yields and how the API asks for decisions, whichever authenticator is configured.

/** The authenticated user, normalised as in reference §1.2: extra fields an authenticator returns are kept. */
export interface AuthUser {
  identity: string;
  display_name: string;
  permissions: string[];
  is_authenticated: boolean;
  [extra: string]: unknown;
}

export interface AuthService {
  readonly kind: 'custom' | 'builtin';
  /** The caller of a WHATWG Request, or an ApiError (401/403, with headers such as WWW-Authenticate). */
  authenticate(request: Request): Promise<AuthUser>;
  /** The decision of the handler for (resource, action); it may change `value`, and the changes are kept. */
  decide(user: AuthUser, resource: string, action: string, value: Record<string, unknown>): Promise<Decision>;
  /** `resource:action` pairs no handler covers (allowed under AUTH_FAIL_OPEN, denied otherwise). */
  uncovered(): string[];
}

/** Every (resource, action) the server asks about (reference §1.3). */
export const AUTH_EVENTS: Record<string, readonly string[]> = {
  assistants: ['create', 'read', 'update', 'delete', 'search'],
  threads: ['create', 'read', 'update', 'delete', 'search', 'create_run'],
  crons: ['create', 'read', 'update', 'delete', 'search'],
  store: ['put', 'get', 'search', 'delete', 'list_namespaces'],
};

/** An authenticator's answer as the reference normalises it: a string is an identity; an object needs one. */
export function normalizeUser(result: unknown): AuthUser {
  if (typeof result === 'string' && result) return { identity: result, display_name: result, permissions: [], is_authenticated: true };
  if (typeof result === 'object' && result !== null) {
    const r = result as Record<string, unknown>;
    if (typeof r.identity !== 'string' || !r.identity) throw new Error('The authenticate handler returned a user without an identity');
    return {
      ...r,
      identity: r.identity,
      display_name: typeof r.display_name === 'string' ? r.display_name : r.identity,
      permissions: Array.isArray(r.permissions) ? r.permissions.filter((p): p is string => typeof p === 'string') : [],
      is_authenticated: typeof r.is_authenticated === 'boolean' ? r.is_authenticated : true,
    };
  }
  throw new Error('The authenticate handler returned neither an identity nor a user object');
}

const codeOfStatus: Record<number, ErrorCode> = {
  400: ErrorCode.badRequest,
  401: ErrorCode.unauthorized,
  403: ErrorCode.forbidden,
  404: ErrorCode.notFound,
  409: ErrorCode.conflict,
  422: ErrorCode.invalid,
  500: ErrorCode.internal,
  503: ErrorCode.unavailable,
};

/**
 * An `HTTPException` of any installed copy of `@langchain/langgraph-sdk/auth` (duck-typed: an Error with a numeric
 * status) as the API's error, with its headers. Statuses outside the API's set become 403, as the Python server
 * answers any authentication failure other than 401.
 */
export function fromHttpException(err: unknown): ApiError | null {
  if (!(err instanceof Error) || typeof (err as { status?: unknown }).status !== 'number') return null;
  const status = (err as unknown as { status: number }).status;
  const raw = (err as { headers?: unknown }).headers;
  const headers: Record<string, string> = {};
  if (raw && typeof raw === 'object')
    for (const [k, v] of raw instanceof Headers ? raw.entries() : Object.entries(raw)) if (typeof v === 'string') headers[k] = v;
  return new ApiError(codeOfStatus[status] ?? ErrorCode.forbidden, err.message, undefined, headers);
}
