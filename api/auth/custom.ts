import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Decision } from '../../core/auth/roles.js';
import { ApiError, ErrorCode } from '../errors.js';
import { AUTH_EVENTS, fromHttpException, normalizeUser, type AuthService, type AuthUser } from './types.js';

// Custom auth: the `Auth` object of `@langchain/langgraph-sdk/auth` that LangGraph users deploy, loaded from
// AUTH_PATH. It is duck-typed by its `~handlerCache`, as the reference server does, so a copy of the SDK other
// than ours works. Unlike the reference, a (resource, action) without a handler is denied unless failOpen.

type Handler = (input: Record<string, unknown>) => unknown;
interface HandlerCache {
  authenticate?: (request: Request) => unknown;
  callbacks?: Record<string, Handler>;
}

export async function loadCustomAuth(authPath: string, failOpen: boolean, cwd = process.cwd()): Promise<AuthService> {
  const cut = authPath.lastIndexOf(':');
  // A Windows drive letter or a path without `:` names the default export.
  const [file, exportName] = cut > 1 ? [authPath.slice(0, cut), authPath.slice(cut + 1)] : [authPath, 'default'];
  const mod = (await import(pathToFileURL(path.resolve(cwd, file)).href)) as Record<string, unknown>;
  const auth = mod[exportName || 'default'];
  const cache = (auth as { '~handlerCache'?: HandlerCache } | null | undefined)?.['~handlerCache'];
  if (!cache || typeof cache !== 'object') throw new Error(`AUTH_PATH ${authPath}: the export "${exportName}" is not an Auth object`);
  if (typeof cache.authenticate !== 'function') throw new Error(`AUTH_PATH ${authPath}: the Auth object has no authenticate handler`);
  return customAuth(cache, failOpen);
}

export function customAuth(cache: HandlerCache, failOpen: boolean): AuthService {
  const callbacks = (): Record<string, Handler> => cache.callbacks ?? {};
  const handlerFor = (resource: string, action: string): Handler | undefined => {
    const cbs = callbacks();
    // Most specific first; only one handler runs (reference §1.3).
    for (const key of [`${resource}:${action}`, `${resource}:*`, resource, `*:${action}`, '*']) if (cbs[key]) return cbs[key];
    return undefined;
  };
  return {
    kind: 'custom',
    async authenticate(request) {
      try {
        return normalizeUser(await cache.authenticate!(request));
      } catch (err) {
        throw fromHttpException(err) ?? err;
      }
    },
    async decide(user: AuthUser, resource, action, value): Promise<Decision> {
      const handler = handlerFor(resource, action);
      if (!handler) return failOpen ? { allow: true } : { allow: false };
      let result: unknown;
      try {
        result = await handler({ event: `${resource}:${action}`, resource, action, value, user, permissions: user.permissions });
      } catch (err) {
        throw fromHttpException(err) ?? err;
      }
      if (result === undefined || result === null || result === true) return { allow: true };
      if (result === false) return { allow: false };
      if (typeof result === 'object' && !Array.isArray(result)) return { allow: true, filter: result as Record<string, unknown> };
      throw new ApiError(ErrorCode.internal, 'Auth handler returned invalid result');
    },
    uncovered: () =>
      Object.entries(AUTH_EVENTS).flatMap(([resource, actions]) =>
        actions.filter((a) => !handlerFor(resource, a)).map((a) => `${resource}:${a}`),
      ),
  };
}
