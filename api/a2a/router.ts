import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { AgentCard, formatSSEEvent, SSE_HEADERS } from '@a2a-js/sdk';
import { isLegacyJsonRpcMethod } from '@a2a-js/sdk/compat/v0_3';
import { LegacyJsonRpcTransportHandler } from '@a2a-js/sdk/compat/v0_3/server';
import { JsonRpcTransportHandler, ServerCallContext, STATE_HEADERS_KEY, UnauthenticatedUser } from '@a2a-js/sdk/server';
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { getAssistant, type AssistantRow } from '../../db/assistants.js';
import type { AppDeps } from '../deps.js';
import { notFound } from '../errors.js';
import { writeWithBackpressure } from '../events/sse.js';
import { mount } from '../route.js';
import { uuid } from '../schemas.js';
import { AssistantA2AHandler } from './handler.js';
import { agentCard, legacyCardFields } from './mapping.js';

// `/a2a/{assistant_id}` (reference §3.2): the agent card, and JSON-RPC for message/send, message/stream, tasks/get
// and tasks/cancel. The method's name picks the protocol version: v0.3 names (`message/send`) are answered in
// v0.3's shapes, v1.0 names (`SendMessage`) in v1.0's, both by @a2a-js/sdk's own transport handlers.

const params = z.object({ assistant_id: uuid });

export function a2aRouter(deps: AppDeps, registry: OpenAPIRegistry): Router {
  const router = Router();
  const tag = 'A2A';
  const baseUrl = (req: Request) => `${req.get('x-forwarded-proto') ?? req.protocol}://${req.get('host')}`;
  const assistantOf = async (id: string): Promise<AssistantRow> => {
    const a = await getAssistant(deps.db, id.toLowerCase());
    if (!a) throw notFound(`Assistant ${id} not found`);
    return a;
  };
  const card = async (req: Request, id: string) => {
    const url = `${baseUrl(req)}/a2a/${id}`;
    const v1 = AgentCard.toJSON(agentCard(await assistantOf(id), url, deps.settings.version)) as Record<string, unknown>;
    return { ...v1, ...legacyCardFields(url) };
  };

  for (const path of [
    '/a2a/:assistant_id/.well-known/agent-card.json',
    '/a2a/:assistant_id/.well-known/agent.json',
    '/a2a/:assistant_id',
  ]) {
    mount(router, registry, {
      method: 'get',
      path,
      summary: "The assistant's A2A agent card",
      tag,
      params,
      response: z.record(z.string(), z.unknown()),
      handler: ({ params: p }, req) => card(req, p.assistant_id),
    });
  }
  mount(router, registry, {
    method: 'post',
    path: '/a2a/:assistant_id',
    summary: 'A2A JSON-RPC: message/send, message/stream, tasks/get, tasks/cancel (and their v1.0 names)',
    tag,
    params,
    body: z.unknown(),
    handler: async ({ params: p, body }, req, res) => {
      const assistant = await assistantOf(p.assistant_id);
      const handler = new AssistantA2AHandler(deps, assistant, `${baseUrl(req)}/a2a/${assistant.assistant_id}`, req.headers);
      const method = (body as { method?: unknown } | null)?.method;
      const legacy = isLegacyJsonRpcMethod(method);
      const context = new ServerCallContext({
        user: new UnauthenticatedUser(),
        requestedVersion: legacy ? '0.3' : '1.0',
        state: new Map([[STATE_HEADERS_KEY, req.headers]]),
      });
      const transport = legacy ? new LegacyJsonRpcTransportHandler(handler) : new JsonRpcTransportHandler(handler);
      const out = await transport.handle(body as Record<string, unknown>, context);
      const toError = legacy ? LegacyJsonRpcTransportHandler.mapToLegacyJSONRPCError : JsonRpcTransportHandler.mapToJSONRPCError;
      const id = (body as { id?: unknown } | null)?.id ?? null;
      if (isAsyncIterable(out)) await sendStream(res, out, (err) => ({ jsonrpc: '2.0', id, error: toError(err) }));
      else res.json(out);
    },
  });
  mount(router, registry, {
    method: 'delete',
    path: '/a2a/:assistant_id',
    summary: 'Not supported (405)',
    tag,
    params,
    handler: (_input, _req, res) => void res.status(405).setHeader('Allow', 'GET, POST').json({ error: 'method_not_allowed' }),
  });
  return router;
}

function isAsyncIterable(v: unknown): v is AsyncIterable<unknown> {
  return typeof (v as { [Symbol.asyncIterator]?: unknown } | null)?.[Symbol.asyncIterator] === 'function';
}

/**
 * SSE where each event's data is one JSON-RPC response. A refusal before the first event (bad params, unknown
 * task) is a plain JSON-RPC error answer; a failure later is sent as a last event.
 */
async function sendStream(res: Response, stream: AsyncIterable<unknown>, errorOf: (err: unknown) => unknown): Promise<void> {
  const iterator = stream[Symbol.asyncIterator]();
  let first: IteratorResult<unknown>;
  try {
    first = await iterator.next();
  } catch (err) {
    res.json(errorOf(err));
    return;
  }
  res.status(200);
  for (const [k, v] of Object.entries(SSE_HEADERS)) res.setHeader(k, v);
  res.flushHeaders();
  try {
    if (!first.done) await writeWithBackpressure(res, formatSSEEvent(first.value));
    for (let next = await iterator.next(); !next.done; next = await iterator.next())
      await writeWithBackpressure(res, formatSSEEvent(next.value));
  } catch (err) {
    res.write(formatSSEEvent(errorOf(err)));
  } finally {
    res.end();
  }
}
