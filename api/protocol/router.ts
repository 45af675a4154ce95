import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { Router } from 'express';
import type { AppDeps } from '../deps.js';
import { mount } from '../route.js';
import { threadParams } from '../threads/schema.js';
import { runCommand } from './commands.js';
import { commandEnvelope, commandResponse, eventStreamRequest } from './schema.js';
import { streamEvents } from './stream.js';

// The thread-centric streaming protocol over HTTP + SSE, as `client.threads.stream(...)` of the SDK speaks it.

export function protocolRouter(deps: AppDeps, registry: OpenAPIRegistry): Router {
  const router = Router();
  const tag = 'Thread stream (protocol v2)';

  mount(router, registry, {
    method: 'post',
    path: '/threads/:thread_id/commands',
    summary: 'Run a protocol command: run.start, input.respond, state.get',
    tag,
    params: threadParams,
    body: commandEnvelope,
    response: commandResponse,
    handler: ({ params: p, body }, req) => runCommand(deps, p.thread_id, body, req.headers),
  });
  mount(router, registry, {
    method: 'post',
    path: '/threads/:thread_id/stream/events',
    summary: "Follow the thread's runs as protocol events (SSE), filtered by channel",
    tag,
    params: threadParams,
    body: eventStreamRequest,
    sse: true,
    handler: ({ params: p, body }, _req, res) => streamEvents(deps, res, p.thread_id, body),
  });
  return router;
}
