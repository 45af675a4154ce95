import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { setRequestAuth } from './context.js';
import type { AppDeps } from '../deps.js';

// Authentication in front of every route but the public ones: health, info and the API's own docs, and the OAuth
// callback of Agent Auth, which the user's browser reaches from the provider (its single-use `state` proves it).

const publicPaths = new Set(['/ok', '/info', '/openapi.json']);

export function isPublic(method: string, path: string): boolean {
  if (publicPaths.has(path) || path === '/docs' || path.startsWith('/docs/')) return true;
  return method === 'GET' && path === '/agent-auth/callback';
}

export function authenticateRequests(deps: AppDeps) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const service = deps.auth;
    if (!service || req.method === 'OPTIONS' || isPublic(req.method, req.path)) return next();
    const requestId = (typeof req.headers['x-request-id'] === 'string' && req.headers['x-request-id']) || randomUUID();
    res.setHeader('x-request-id', requestId);
    const user = await service.authenticate(toWhatwgRequest(req));
    setRequestAuth(req, { user, service, requestId, deps });
    next();
  };
}

/** The request as the `authenticate` handler of an `Auth` expects it (reference §1.2): a WHATWG Request. */
function toWhatwgRequest(req: Request): globalThis.Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else if (typeof value === 'string') headers.set(name, value);
  }
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD' && req.body !== undefined;
  return new Request(`http://${req.headers.host ?? 'localhost'}${req.originalUrl}`, {
    method: req.method,
    headers,
    ...(hasBody ? { body: JSON.stringify(req.body) } : {}),
  });
}
