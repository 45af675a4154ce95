import type { MiddlewareEntry } from '../core/middleware/spec.js';
import type { Queryable } from './pool.js';

// Guardrail records of runs and the operator's policies (017_guardrails.sql).

export interface GuardrailEventRow {
  run_id: string;
  thread_id: string;
  middleware: string;
  hook: string;
  action: string;
  message_id: string | null;
  detail: Record<string, unknown>;
  dedupe_key: string;
  created_at?: string;
}

/** Inserts what is new; rows whose dedupe key is known (a retried attempt) are skipped, as are threads that are gone. */
export async function insertGuardrailEvents(q: Queryable, rows: GuardrailEventRow[]): Promise<void> {
  if (!rows.length) return;
  await q.query(
    `INSERT INTO guardrail_events (run_id, thread_id, middleware, hook, action, message_id, detail, dedupe_key)
     SELECT (x->>'run_id')::uuid, (x->>'thread_id')::uuid, x->>'middleware', x->>'hook', x->>'action', x->>'message_id',
            coalesce(x->'detail', '{}'::jsonb), x->>'dedupe_key'
     FROM jsonb_array_elements($1::jsonb) AS x
     WHERE EXISTS (SELECT 1 FROM threads WHERE thread_id = (x->>'thread_id')::uuid)
     ON CONFLICT (dedupe_key) DO NOTHING`,
    [JSON.stringify(rows)],
  );
}

export async function listGuardrailEvents(q: Queryable, runId: string): Promise<GuardrailEventRow[]> {
  const r = await q.query<GuardrailEventRow>(
    `SELECT run_id, thread_id, middleware, hook, action, message_id, detail, dedupe_key, created_at
     FROM guardrail_events WHERE run_id = $1 ORDER BY id`,
    [runId],
  );
  return r.rows;
}

export async function getPolicies(q: Queryable): Promise<MiddlewareEntry[]> {
  const r = await q.query<{ middleware: MiddlewareEntry[] }>('SELECT middleware FROM guardrail_policies WHERE id = 1');
  return r.rows[0]?.middleware ?? [];
}

export async function setPolicies(q: Queryable, entries: MiddlewareEntry[]): Promise<void> {
  await q.query(
    `INSERT INTO guardrail_policies (id, middleware) VALUES (1, $1::jsonb)
     ON CONFLICT (id) DO UPDATE SET middleware = excluded.middleware, updated_at = now()`,
    [JSON.stringify(entries)],
  );
}
