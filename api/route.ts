import type { OpenAPIRegistry, RouteConfig } from '@asteasolutions/zod-to-openapi';
import type { Request, Response, Router } from 'express';
import type { z } from 'zod';
import { authorizeRoute, type PolicyInput } from './auth/policies.js';
import { rejectReservedKeys } from './auth/reserved.js';
import { fromZod } from './errors.js';

// One definition per route: Express gets a handler that only ever sees zod-parsed input, and the OpenAPI
// document gets the same schemas, so the docs cannot drift from what the server accepts.

type Schema = z.ZodType;
type Infer<S> = S extends Schema ? z.infer<S> : undefined;

export interface RouteInput<P, Q, B> {
  params: Infer<P>;
  query: Infer<Q>;
  body: Infer<B>;
}

export interface RouteDef<P extends Schema | undefined, Q extends Schema | undefined, B extends Schema | undefined> {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Express path, e.g. `/threads/:thread_id`. */
  path: string;
  summary: string;
  tag: string;
  params?: P;
  query?: Q;
  body?: B;
  /** Response schema for the docs; `sse` routes answer text/event-stream. */
  response?: Schema;
  sse?: boolean;
  /** Status of a successful answer that has no body (204 by default). */
  emptyStatus?: 202 | 204;
  /**
   * Returns the JSON body, or undefined for an empty answer. Handlers that write the response themselves
   * (streams) return nothing and leave `res.headersSent` true.
   */
  handler: (input: RouteInput<P, Q, B>, req: Request, res: Response) => unknown;
}

export function mount<P extends Schema | undefined, Q extends Schema | undefined, B extends Schema | undefined>(
  router: Router,
  registry: OpenAPIRegistry,
  def: RouteDef<P, Q, B>,
): void {
  router[def.method](def.path, async (req, res) => {
    const input = {
      params: parse('path', def.params, req.params),
      query: parse('query', def.query, withoutEmpty(req.query)),
      body: parse('body', def.body, req.body ?? {}),
    } as RouteInput<P, Q, B>;
    rejectReservedKeys(input.body);
    // Authorization sees the parsed input and may change it (owner tags, a rewritten store namespace).
    await authorizeRoute(req, def.method, def.path, input as unknown as PolicyInput);
    const result = await def.handler(input, req, res);
    if (res.headersSent) return;
    if (result === undefined) res.status(def.emptyStatus ?? 204).end();
    else res.json(result);
  });
  registry.registerPath(openApiRoute(def));
}

/**
 * An empty query value means "not given", on every parameter: the Python SDK sends `?stream_mode=` when the
 * caller passes none, and a repeated key may carry empty entries among real ones.
 */
export function withoutEmpty(query: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(query)) {
    const kept = Array.isArray(value) ? value.filter((v) => v !== '') : value;
    if (kept === '' || (Array.isArray(kept) && kept.length === 0)) continue;
    out[key] = kept;
  }
  return out;
}

function parse(where: string, schema: Schema | undefined, value: unknown): unknown {
  if (!schema) return undefined;
  const r = schema.safeParse(value);
  if (!r.success) throw fromZod(where, r.error);
  return r.data;
}

function openApiRoute(def: RouteDef<Schema | undefined, Schema | undefined, Schema | undefined>): RouteConfig {
  const request: RouteConfig['request'] = {};
  if (def.params) request.params = def.params as never;
  if (def.query) request.query = def.query as never;
  if (def.body) request.body = { content: { 'application/json': { schema: def.body } } };
  const ok = def.sse
    ? { description: 'Server-sent events', content: { 'text/event-stream': { schema: { type: 'string' as const } } } }
    : def.response
      ? { description: 'OK', content: { 'application/json': { schema: def.response } } }
      : undefined;
  return {
    method: def.method,
    path: def.path.replace(/:(\w+)/g, '{$1}'),
    summary: def.summary,
    tags: [def.tag],
    request,
    responses: {
      ...(ok ? { 200: ok } : { [def.emptyStatus ?? 204]: { description: 'No content' } }),
      404: { description: 'Not found' },
      422: { description: 'Invalid input; the body names each bad field' },
    },
  };
}
