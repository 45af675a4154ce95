import type { Queryable } from './pool.js';

// The audit log of operator actions (migration 016).

export interface AuditEntry {
  actor: string;
  permissions: string[];
  action: string;
  resource: string;
  resource_id: string | null;
  method: string;
  path: string;
  request_id: string | null;
}

export interface AuditRow extends AuditEntry {
  id: string;
  at: string;
}

export async function insertAudit(q: Queryable, e: AuditEntry): Promise<void> {
  await q.query(
    `INSERT INTO audit_log (actor, permissions, action, resource, resource_id, method, path, request_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [e.actor, e.permissions, e.action, e.resource, e.resource_id, e.method, e.path, e.request_id],
  );
}

export async function listAudit(q: Queryable, f: { actor?: string; limit: number; offset: number }): Promise<AuditRow[]> {
  const params: unknown[] = [];
  const where = f.actor ? `WHERE actor = $${params.push(f.actor)}` : '';
  const r = await q.query<AuditRow>(
    `SELECT id::text, at, actor, permissions, action, resource, resource_id, method, path, request_id FROM audit_log ${where}
     ORDER BY at DESC, id DESC LIMIT $${params.push(f.limit)} OFFSET $${params.push(f.offset)}`,
    params,
  );
  return r.rows;
}
