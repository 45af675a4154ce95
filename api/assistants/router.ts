import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { Router } from 'express';
import { z } from 'zod';
import { graphJson, graphSchemas } from './graph.js';
import {
  countAssistants,
  deleteAssistant,
  insertAssistant,
  listVersions,
  lockAssistant,
  searchAssistants,
  setLatestVersion,
  threadIdsOfAssistant,
  updateAssistant,
  type AssistantFilter,
  type AssistantRow,
} from '../../db/assistants.js';
import type { AppDeps } from '../deps.js';
import { conflict, notFound } from '../errors.js';
import { uuid7 } from '../ids.js';
import { mount } from '../route.js';
import { assistantMiddleware } from '../runs/guardrails.js';
import { jsonObject } from '../schemas.js';
import { deleteCronsOf } from '../crons/service.js';
import { deleteThread } from '../threads/lifecycle.js';
import { assistantIdOf, isSystemAssistant, requireAssistant } from './lookup.js';
import * as s from './schema.js';
import { searchFilterOf } from '../auth/context.js';

// Assistants: versioned agent configurations bound to a registered graph. Every route takes a graph id in place
// of an assistant id (it names that graph's system assistant).

export function assistantsRouter(deps: AppDeps, registry: OpenAPIRegistry): Router {
  const router = Router();
  const tag = 'Assistants';
  const params = s.assistantParams;
  const find = (p: { assistant_id: string }) => requireAssistant(deps.db, p.assistant_id);

  mount(router, registry, {
    method: 'post',
    path: '/assistants',
    summary: 'Create an assistant',
    tag,
    body: s.assistantCreate,
    response: s.assistantResponse,
    handler: async ({ body }) => {
      const id = body.assistant_id ?? uuid7();
      const created = await deps.db.tx((q) =>
        insertAssistant(q, {
          assistant_id: id,
          graph_id: body.graph_id,
          config: body.config ?? {},
          context: body.context ?? {},
          metadata: body.metadata ?? {},
          name: body.name ?? 'Untitled',
          description: body.description ?? null,
        }),
      );
      if (created) return created;
      if ((body.if_exists ?? 'raise') === 'raise') throw conflict('Assistant already exists');
      return requireAssistant(deps.db, id);
    },
  });
  mount(router, registry, {
    method: 'post',
    path: '/assistants/search',
    summary: 'Search assistants',
    tag,
    body: s.assistantSearch,
    response: z.array(s.assistantResponse.partial()),
    handler: async ({ body }, req, res) => {
      const { rows, total } = await searchAssistants(deps.db, {
        ...filterOf(body),
        authFilter: searchFilterOf(req),
        limit: body.limit,
        offset: body.offset,
        sort_by: body.sort_by ?? 'created_at',
        sort_order: body.sort_order ?? 'desc',
      });
      res.setHeader('X-Pagination-Total', String(total));
      const next = body.offset + body.limit;
      if (next < total) res.setHeader('X-Pagination-Next', String(next));
      return body.select ? rows.map((r) => pick(r, body.select!)) : rows;
    },
  });
  mount(router, registry, {
    method: 'post',
    path: '/assistants/count',
    summary: 'Count assistants',
    tag,
    body: s.assistantCount,
    response: z.number().int(),
    handler: ({ body }, req) => countAssistants(deps.db, { ...filterOf(body), authFilter: searchFilterOf(req) }),
  });
  mount(router, registry, {
    method: 'get',
    path: '/assistants/:assistant_id',
    summary: 'Get an assistant',
    tag,
    params,
    response: s.assistantResponse,
    handler: ({ params: p }) => find(p),
  });
  mount(router, registry, {
    method: 'patch',
    path: '/assistants/:assistant_id',
    summary: 'Update an assistant (every update is a new version)',
    tag,
    params,
    body: s.assistantPatch,
    response: s.assistantResponse,
    handler: ({ params: p, body }) =>
      deps.db.tx(async (q) => {
        const id = assistantIdOf(p.assistant_id);
        const cur = id ? await lockAssistant(q, id) : undefined;
        if (!cur) throw notFound('Assistant not found');
        return (await updateAssistant(q, cur.assistant_id, {
          graph_id: body.graph_id ?? cur.graph_id,
          config: body.config ?? cur.config,
          context: body.context ?? cur.context,
          metadata: { ...cur.metadata, ...body.metadata },
          name: body.name ?? cur.name,
          description: body.description ?? cur.description,
        }))!;
      }),
  });
  mount(router, registry, {
    method: 'delete',
    path: '/assistants/:assistant_id',
    summary: 'Delete an assistant, optionally with its threads',
    tag,
    params,
    query: s.deleteQuery,
    handler: async ({ params: p, query }) => {
      const a = await find(p);
      // Every run naming a graph id resolves to its system assistant: deleting it would break them all.
      if (isSystemAssistant(a)) throw conflict(`The system assistant of graph "${a.graph_id}" cannot be deleted.`);
      // Threads go first: if this fails part way the assistant is still there, and the (retried) DELETE finishes the job.
      if (query.delete_threads) for (const t of await threadIdsOfAssistant(deps.db, a.assistant_id)) await deleteThread(deps, t);
      // Its crons and their Schedules go too (the rows would cascade, but the Schedules must not outlive them).
      await deleteCronsOf(deps, { assistantId: a.assistant_id });
      await deleteAssistant(deps.db, a.assistant_id);
    },
  });
  mount(router, registry, {
    method: 'get',
    path: '/assistants/:assistant_id/graph',
    summary: "The assistant's graph (nodes and edges)",
    tag,
    params,
    query: s.graphQuery,
    response: jsonObject,
    handler: async ({ params: p }) => {
      const assistant = await find(p);
      return graphJson(assistant.graph_id, await assistantMiddleware(deps, assistant));
    },
  });
  mount(router, registry, {
    method: 'get',
    path: '/assistants/:assistant_id/schemas',
    summary: "The JSON schemas of the assistant's graph",
    tag,
    params,
    response: jsonObject,
    handler: async ({ params: p }) => graphSchemas((await find(p)).graph_id),
  });
  // Every registered graph is the flat ReAct engine, so there are never subgraphs to describe.
  for (const path of ['/assistants/:assistant_id/subgraphs', '/assistants/:assistant_id/subgraphs/:namespace']) {
    mount(router, registry, {
      method: 'get',
      path,
      summary: "The graph's subgraphs (none for this engine)",
      tag,
      params: s.subgraphParams.partial({ namespace: true }),
      query: s.subgraphsQuery,
      response: jsonObject,
      handler: async ({ params: p }) => {
        await find(p);
        return {};
      },
    });
  }
  mount(router, registry, {
    method: 'post',
    path: '/assistants/:assistant_id/versions',
    summary: 'List versions, newest first',
    tag,
    params,
    body: s.versionsBody,
    response: z.array(s.versionResponse),
    handler: async ({ params: p, body }) => {
      const a = await find(p);
      return listVersions(deps.db, a.assistant_id, { metadata: body.metadata ?? undefined, limit: body.limit, offset: body.offset });
    },
  });
  mount(router, registry, {
    method: 'post',
    path: '/assistants/:assistant_id/latest',
    summary: 'Make a stored version the current one',
    tag,
    params,
    body: s.latestBody,
    response: s.assistantResponse,
    handler: async ({ params: p, body }) => {
      const a = await find(p);
      const updated = await setLatestVersion(deps.db, a.assistant_id, body.version);
      if (!updated) throw notFound('Assistant version not found');
      return updated;
    },
  });
  return router;
}

function filterOf(b: { graph_id?: string | null; name?: string | null; metadata?: Record<string, unknown> | null }): AssistantFilter {
  return {
    ...(b.graph_id ? { graph_id: b.graph_id } : {}),
    ...(b.name ? { name: b.name } : {}),
    ...(b.metadata ? { metadata: b.metadata } : {}),
  };
}

function pick(row: AssistantRow, keys: readonly string[]): Partial<AssistantRow> {
  return Object.fromEntries(Object.entries(row).filter(([k]) => keys.includes(k)));
}
