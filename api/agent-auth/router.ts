import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { Router } from 'express';
import { z } from 'zod';
import { AgentAuthError, type AgentAuth } from '../../activities/agent-auth.js';
import { OAuthError } from '../../activities/oauth.js';
import type { AppDeps } from '../deps.js';
import { ApiError, ErrorCode, notFound } from '../errors.js';
import { mount } from '../route.js';
import { resumeWaitingCall } from './resume.js';
import * as s from './schema.js';
import { requestUser } from './user.js';

// Agent Auth (acting on behalf of users): the OAuth callback that completes an authorization a tool asked for and
// resumes the waiting call, and each user's connections. The callback is reached by the user's browser coming
// back from the provider: the single-use, expiring `state` it carries is what identifies the user.

export function agentAuthRouter(deps: AppDeps, registry: OpenAPIRegistry): Router {
  const router = Router();
  const tag = 'Agent Auth';
  const vault = (): AgentAuth => {
    if (!deps.agentAuth) throw notFound('Agent Auth is not configured on this server (AGENT_AUTH_PROVIDERS_FILE).');
    return deps.agentAuth;
  };

  mount(router, registry, {
    method: 'get',
    path: '/agent-auth/callback',
    summary: "Complete an authorization (the providers' redirect URI) and resume the tool call that waits for it",
    tag,
    query: s.callbackQuery,
    response: s.callbackResponse,
    handler: async ({ query }) => {
      const agentAuth = vault();
      const params = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => typeof e[1] === 'string'));
      const request = await agentAuth.completeAuthorization(query.state, params).catch((err: unknown) => Promise.reject(asApiError(err)));
      const runId = await resumeWaitingCall(deps, request).catch((err: unknown) => {
        // The connection is stored; the thread can still be resumed by hand, and the call then finds the token.
        deps.log.warn('agent auth: could not resume the waiting tool call', { threadId: request.thread_id, err });
        return null;
      });
      return { status: 'connected' as const, provider: request.provider, thread_id: request.thread_id, run_id: runId };
    },
  });

  mount(router, registry, {
    method: 'get',
    path: '/agent-auth/connections',
    summary: "List the user's connections to providers (never their tokens)",
    tag,
    query: s.connectionsQuery,
    response: z.array(s.connection),
    handler: (_input, req) => vault().connections(requestUser(req)),
  });

  mount(router, registry, {
    method: 'delete',
    path: '/agent-auth/connections',
    summary: "Revoke the user's connection to a provider (or all): deleted here and revoked at the provider",
    tag,
    query: s.revokeQuery,
    handler: async ({ query }, req) => {
      const agentAuth = vault();
      const user = requestUser(req);
      const providers = query.provider ? [query.provider] : (await agentAuth.connections(user)).map((c) => c.provider);
      const revoked = await Promise.all(providers.map((p) => agentAuth.revoke(user, p)));
      if (query.provider && !revoked[0]) throw notFound(`No connection to ${query.provider} for this user`);
      return undefined;
    },
  });

  return router;
}

/** A link that is unknown, used or expired, or a provider that refused, is the request's fault; an unreachable provider is not. */
function asApiError(err: unknown): unknown {
  if (err instanceof AgentAuthError) return new ApiError(ErrorCode.badRequest, err.message);
  if (err instanceof OAuthError && err.code === 'unreachable') return new ApiError(ErrorCode.badGateway, `${err.message}; try again.`);
  if (err instanceof OAuthError) return new ApiError(ErrorCode.badRequest, `The authorization was not completed: ${err.message}.`);
  return err;
}
