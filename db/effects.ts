import type { Queryable } from './pool.js';

// Side effects of tools, one row per idempotency key.

export interface EffectRow {
  idempotency_key: string;
  thread_id: string;
  run_id: string | null;
  tool_call_id: string;
  tool_name: string;
  args: Record<string, unknown>;
  result: unknown;
  created_at: string;
}

export async function getEffect(q: Queryable, key: string): Promise<EffectRow | undefined> {
  const r = await q.query<EffectRow>('SELECT * FROM tool_effects WHERE idempotency_key = $1', [key]);
  return r.rows[0];
}

export async function insertEffect(q: Queryable, e: Omit<EffectRow, 'created_at'>): Promise<void> {
  await q.query(
    `INSERT INTO tool_effects (idempotency_key, thread_id, run_id, tool_call_id, tool_name, args, result)
     VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb) ON CONFLICT (idempotency_key) DO NOTHING`,
    [e.idempotency_key, e.thread_id, e.run_id, e.tool_call_id, e.tool_name, JSON.stringify(e.args), JSON.stringify(e.result ?? null)],
  );
}

export async function listEffects(q: Queryable, threadId: string): Promise<EffectRow[]> {
  const r = await q.query<EffectRow>('SELECT * FROM tool_effects WHERE thread_id = $1 ORDER BY created_at', [threadId]);
  return r.rows;
}
