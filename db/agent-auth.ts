import type { Queryable } from './pool.js';

// Agent Auth's tables (015_agent_auth.sql): sealed tokens per (user, provider), and pending authorizations.

export interface TokenRow {
  user_id: string;
  provider: string;
  /** The sealed token set; only activities/agent-auth.ts opens it. */
  secret: string;
  scopes: string[];
  granted_scopes: string[] | null;
  refreshable: boolean;
  expires_at: string | null;
  created_at: string;
  updated_at: string;
}

export type Connection = Omit<TokenRow, 'secret' | 'user_id'>;

const connectionColumns = 'provider, scopes, granted_scopes, refreshable, expires_at, created_at, updated_at';

export async function getToken(q: Queryable, userId: string, provider: string): Promise<TokenRow | undefined> {
  const r = await q.query<TokenRow>('SELECT * FROM agent_auth_tokens WHERE user_id = $1 AND provider = $2', [userId, provider]);
  return r.rows[0];
}

/** The row, locked until the transaction ends: the one refresh of a token holds it. */
export async function lockToken(q: Queryable, userId: string, provider: string): Promise<TokenRow | undefined> {
  const r = await q.query<TokenRow>('SELECT * FROM agent_auth_tokens WHERE user_id = $1 AND provider = $2 FOR UPDATE', [userId, provider]);
  return r.rows[0];
}

export type TokenWrite = Pick<TokenRow, 'user_id' | 'provider' | 'secret' | 'scopes' | 'granted_scopes' | 'refreshable' | 'expires_at'> & {
  /** When the access token was issued, on the same clock as expires_at. */
  issued_at: string;
};

export async function upsertToken(q: Queryable, t: TokenWrite): Promise<void> {
  await q.query(
    `INSERT INTO agent_auth_tokens (user_id, provider, secret, scopes, granted_scopes, refreshable, expires_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (user_id, provider) DO UPDATE SET secret = EXCLUDED.secret, scopes = EXCLUDED.scopes,
       granted_scopes = EXCLUDED.granted_scopes, refreshable = EXCLUDED.refreshable, expires_at = EXCLUDED.expires_at,
       updated_at = EXCLUDED.updated_at`,
    [t.user_id, t.provider, t.secret, t.scopes, t.granted_scopes, t.refreshable, t.expires_at, t.issued_at],
  );
}

/** Replaces the token set of a connection that still exists: a refresh never brings back a revoked connection. */
export async function replaceToken(q: Queryable, t: TokenWrite): Promise<boolean> {
  const r = await q.query(
    `UPDATE agent_auth_tokens SET secret = $3, scopes = $4, granted_scopes = $5, refreshable = $6, expires_at = $7, updated_at = $8
     WHERE user_id = $1 AND provider = $2`,
    [t.user_id, t.provider, t.secret, t.scopes, t.granted_scopes, t.refreshable, t.expires_at, t.issued_at],
  );
  return r.rowCount > 0;
}

export async function deleteToken(q: Queryable, userId: string, provider: string): Promise<TokenRow | undefined> {
  const r = await q.query<TokenRow>('DELETE FROM agent_auth_tokens WHERE user_id = $1 AND provider = $2 RETURNING *', [userId, provider]);
  return r.rows[0];
}

export async function listConnections(q: Queryable, userId: string): Promise<Connection[]> {
  const r = await q.query<Connection>(`SELECT ${connectionColumns} FROM agent_auth_tokens WHERE user_id = $1 ORDER BY provider`, [userId]);
  return r.rows;
}

export interface AuthRequestRow {
  state_hash: string;
  user_id: string;
  provider: string;
  scopes: string[];
  verifier: string | null;
  thread_id: string;
  run_id: string;
  task_id: string;
  expires_at: string;
}

/** Stores a handed-out link; links that expired unused are cleared on the way. */
export async function insertAuthRequest(q: Queryable, r: Omit<AuthRequestRow, 'expires_at'>, ttlSeconds: number): Promise<void> {
  await q.query('DELETE FROM agent_auth_requests WHERE expires_at < now()');
  await q.query(
    `INSERT INTO agent_auth_requests (state_hash, user_id, provider, scopes, verifier, thread_id, run_id, task_id, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now() + make_interval(secs => $9))`,
    [r.state_hash, r.user_id, r.provider, r.scopes, r.verifier, r.thread_id, r.run_id, r.task_id, ttlSeconds],
  );
}

/** Takes a link's row: a link works once, and not after it expired. */
export async function takeAuthRequest(q: Queryable, stateHash: string): Promise<AuthRequestRow | undefined> {
  const r = await q.query<AuthRequestRow & { live: boolean }>(
    'DELETE FROM agent_auth_requests WHERE state_hash = $1 RETURNING *, expires_at > now() AS live',
    [stateHash],
  );
  const row = r.rows[0];
  if (!row?.live) return undefined;
  const { live: _live, ...request } = row;
  return request;
}
