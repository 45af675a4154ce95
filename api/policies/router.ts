import { readFile } from 'node:fs/promises';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { Router } from 'express';
import { MiddlewareConfigError, parseMiddlewareEntries, type MiddlewareEntry } from '../../core/middleware/spec.js';
import type { MiddlewareRegistry } from '../../activities/middleware/registry.js';
import { getPolicies, setPolicies } from '../../db/guardrails.js';
import type { Db } from '../../db/pool.js';
import type { AppDeps } from '../deps.js';
import { invalid } from '../errors.js';
import { mount } from '../route.js';
import { registryOf } from '../runs/guardrails.js';
import { PolicyPermission, requirePermission } from './permission.js';
import { policiesBody, policiesResponse } from './schema.js';

// Operator policies: middleware applied outside every assistant's own list, to every run of the server. They
// start from GUARDRAILS_FILE and change at runtime through PUT /policies (permission `policies:write`).

export function policiesRouter(deps: AppDeps, registry: OpenAPIRegistry): Router {
  const router = Router();
  mount(router, registry, {
    method: 'get',
    path: '/policies',
    summary: "The operator's guardrail middleware, applied outside every assistant's own",
    tag: 'Policies',
    response: policiesResponse,
    handler: async (_input, req) => {
      requirePermission(req, PolicyPermission.read);
      return { middleware: await getPolicies(deps.db) };
    },
  });
  mount(router, registry, {
    method: 'put',
    path: '/policies',
    summary: "Replaces the operator's guardrail middleware; runs created from now on get it",
    tag: 'Policies',
    body: policiesBody,
    response: policiesResponse,
    handler: async ({ body }, req) => {
      requirePermission(req, PolicyPermission.write);
      const entries = checked(registryOf(deps), body.middleware);
      await setPolicies(deps.db, entries);
      return { middleware: entries };
    },
  });
  return router;
}

function checked(registry: MiddlewareRegistry, raw: unknown): MiddlewareEntry[] {
  try {
    const entries = parseMiddlewareEntries(raw, 'policies');
    registry.resolve(entries, []);
    return entries;
  } catch (err) {
    if (err instanceof MiddlewareConfigError) throw invalid(err.message);
    throw err;
  }
}

/** GUARDRAILS_FILE at start: a JSON list of {name, options} (or {middleware: [...]}) that replaces the stored policies. */
export async function loadGuardrailsFile(db: Db, registry: MiddlewareRegistry, file: string): Promise<void> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new Error(`GUARDRAILS_FILE ${file} cannot be read as JSON: ${(err as Error).message}`);
  }
  const list = Array.isArray(raw) ? raw : (raw as { middleware?: unknown } | null)?.middleware;
  try {
    const entries = parseMiddlewareEntries(list, 'GUARDRAILS_FILE');
    registry.resolve(entries, []);
    await setPolicies(db, entries);
  } catch (err) {
    if (err instanceof MiddlewareConfigError) throw new Error(`Invalid GUARDRAILS_FILE ${file}: ${err.message}`);
    throw err;
  }
}
