import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { randomPKCECodeVerifier, randomState } from 'openid-client';
import type { AgentAuthSettings } from '../config/agent-auth.js';
import type { Logger } from '../config/logger.js';
import { authRequired, scopeUnion, tokenNeed, type AuthRequired, type StoredGrant, type ToolAuth } from '../core/agent-auth.js';
import {
  deleteToken,
  getToken,
  insertAuthRequest,
  listConnections,
  lockToken,
  replaceToken,
  takeAuthRequest,
  upsertToken,
  type AuthRequestRow,
  type Connection,
  type TokenRow,
} from '../db/agent-auth.js';
import type { Db, Queryable } from '../db/pool.js';
import { createOAuthClient, OAuthError, type OAuthClient, type TokenSet } from './oauth.js';

// Agent Auth's vault: tokens per (user, provider), sealed with AES-256-GCM under SECRETS_KEY, refreshed when they
// expire under a per-(user, provider) lock, handed to a tool's activity and to nothing else. Tokens are never
// logged, returned by the API, or put in an error. The tool activity and the API's callback share this service.

/** A token for one tool call, or the interrupt asking the user to authorize first. */
export type ToolAccess =
  { status: 'ready'; auth: { provider: string; token: string; scopes: string[] } } | { status: 'required'; interrupt: AuthRequired };

export interface ToolCallRef {
  userId: string;
  threadId: string;
  runId: string;
  taskId: string;
}

export class AgentAuthError extends Error {
  override name = 'AgentAuthError';
}

export type AgentAuth = ReturnType<typeof createAgentAuth>;

export function createAgentAuth(deps: { db: Db; log: Logger; settings: AgentAuthSettings }) {
  const { db, log, settings } = deps;
  const clients = new Map<string, OAuthClient>();
  const refreshing = new Map<string, Promise<string | null>>();

  function client(provider: string): OAuthClient {
    const p = settings.providers[provider];
    if (!p) throw new AgentAuthError(`No Agent Auth provider is named "${provider}" in AGENT_AUTH_PROVIDERS_FILE.`);
    if (!clients.has(provider)) clients.set(provider, createOAuthClient(provider, p));
    return clients.get(provider)!;
  }

  const tokenAad = (userId: string, provider: string) => `agent-auth-token\0${userId}\0${provider}`;
  const openToken = (row: TokenRow) => JSON.parse(open(settings.key, row.secret, tokenAad(row.user_id, row.provider))) as TokenSet;

  function tokenWrite(userId: string, provider: string, t: TokenSet, scopes: string[]) {
    const now = Date.now();
    return {
      user_id: userId,
      provider,
      secret: seal(settings.key, JSON.stringify(t), tokenAad(userId, provider)),
      scopes,
      granted_scopes: t.scope ? t.scope.split(' ').filter(Boolean) : null,
      refreshable: Boolean(t.refresh_token),
      expires_at: t.expires_in !== undefined ? new Date(now + t.expires_in * 1000).toISOString() : null,
      issued_at: new Date(now).toISOString(),
    };
  }

  /** The user's access token covering `scopes`, refreshed if it expired; null when the user must authorize. */
  async function tokenFor(userId: string, provider: string, scopes: string[]): Promise<string | null> {
    const row = await getToken(db, userId, provider);
    const need = tokenNeed(grantOf(row), scopes, Date.now());
    if (need === 'valid') return openToken(row!).access_token;
    if (need === 'authorize') return null;
    // Calls in this process share one refresh; the row lock keeps other processes out of it.
    const key = `${userId}\0${provider}`;
    let pending = refreshing.get(key);
    if (!pending) {
      pending = exclusively((q) => refresh(q, userId, provider, scopes)).finally(() => refreshing.delete(key));
      refreshing.set(key, pending);
    }
    return pending;
  }

  /**
   * Idempotency key: (user, provider). Under the row lock the need is decided again: whoever waited on the lock
   * finds the token another process just refreshed. A refresh token the provider refuses ends the connection.
   */
  async function refresh(q: Queryable, userId: string, provider: string, scopes: string[]): Promise<string | null> {
    const row = await lockToken(q, userId, provider);
    const need = tokenNeed(grantOf(row), scopes, Date.now());
    if (need !== 'refresh') return need === 'valid' ? openToken(row!).access_token : null;
    const current = openToken(row!);
    let fresh: TokenSet;
    try {
      fresh = await client(provider).refresh(current.refresh_token!);
    } catch (err) {
      if (!(err instanceof OAuthError) || err.code !== 'invalid_grant') throw err;
      await deleteToken(q, userId, provider);
      log.info('agent auth: the provider refused the refresh token; the user must authorize again', { provider, userId });
      return null;
    }
    // A provider that does not rotate refresh tokens answers without one: the old one stays valid.
    const kept = { ...fresh, ...(fresh.refresh_token || !current.refresh_token ? {} : { refresh_token: current.refresh_token }) };
    // Revoked meanwhile (PGlite has no row lock to hold a revocation back): the fresh token is dropped too.
    if (!(await replaceToken(q, tokenWrite(userId, provider, kept, row!.scopes)))) return null;
    log.debug('agent auth: token refreshed', { provider, userId });
    return fresh.access_token;
  }

  /** PGlite is one process's database (its lock file says so): the in-process single flight is the whole lock. */
  const exclusively = <T>(fn: (q: Queryable) => Promise<T>): Promise<T> => (db.kind === 'postgres' ? db.tx(fn) : fn(db));

  /**
   * Hands out an authorization link. Idempotency key: none needed, each attempt draws a new random state; a link
   * whose interrupt was never recorded (a retried attempt) expires unused.
   */
  async function authorizationLink(call: ToolCallRef, provider: string, scopes: string[]): Promise<string> {
    const p = settings.providers[provider]!;
    const state = randomState();
    const verifier = p.pkce ? randomPKCECodeVerifier() : null;
    const stateHash = hashState(state);
    await insertAuthRequest(
      db,
      {
        state_hash: stateHash,
        user_id: call.userId,
        provider,
        scopes,
        verifier: verifier ? seal(settings.key, verifier, `agent-auth-verifier\0${stateHash}`) : null,
        thread_id: call.threadId,
        run_id: call.runId,
        task_id: call.taskId,
      },
      settings.linkTtlSeconds,
    );
    return client(provider).authorizationUrl({ redirectUri: settings.callbackUrl, scopes, state, verifier });
  }

  return {
    settings,

    /** What a tool that declares `auth` gets for one call. */
    async toolAccess(call: ToolCallRef, need: ToolAuth): Promise<ToolAccess> {
      const scopes = scopeUnion(settings.providers[need.provider]?.scopes, need.scopes);
      const token = await tokenFor(call.userId, need.provider, scopes);
      if (token !== null) return { status: 'ready', auth: { provider: need.provider, token, scopes } };
      // Ask again for what the user granted before too, so one tool's new scope does not cost another its own.
      const held = (await getToken(db, call.userId, need.provider))?.scopes;
      const ask = scopeUnion(scopes, held);
      return { status: 'required', interrupt: authRequired(need.provider, await authorizationLink(call, need.provider, ask), ask) };
    },

    /**
     * The callback: takes the link's row (once, unexpired), exchanges the code and stores the token. Returns the
     * row, which names the tool call waiting for it.
     */
    async completeAuthorization(state: string, callbackQuery: URLSearchParams): Promise<AuthRequestRow> {
      const request = await takeAuthRequest(db, hashState(state));
      if (!request)
        throw new AgentAuthError('This authorization link is unknown, already used or expired. Ask the agent again for a new one.');
      const error = callbackQuery.get('error');
      if (error) throw new OAuthError(request.provider, error);
      const verifier = request.verifier ? open(settings.key, request.verifier, `agent-auth-verifier\0${request.state_hash}`) : null;
      const url = new URL(settings.callbackUrl);
      url.search = callbackQuery.toString();
      const tokens = await client(request.provider).exchange(url, { state, verifier });
      await upsertToken(db, tokenWrite(request.user_id, request.provider, tokens, request.scopes));
      log.info('agent auth: user connected', { provider: request.provider, userId: request.user_id });
      return request;
    },

    connections: (userId: string): Promise<Connection[]> => listConnections(db, userId),

    /** Deletes the connection, then revokes its tokens at the provider if it can; false when there was none. */
    async revoke(userId: string, provider: string): Promise<boolean> {
      const row = await deleteToken(db, userId, provider);
      if (!row) return false;
      const tokens = openToken(row);
      try {
        if (tokens.refresh_token) await client(provider).revoke(tokens.refresh_token, 'refresh_token');
        await client(provider).revoke(tokens.access_token, 'access_token');
      } catch (err) {
        // The connection is gone here either way; the provider's copy expires on its own.
        log.warn('agent auth: the provider did not confirm the revocation', { provider, userId, err });
      }
      return true;
    },
  };
}

function grantOf(row: TokenRow | undefined): StoredGrant | undefined {
  if (!row) return undefined;
  return {
    scopes: row.scopes,
    expiresAt: row.expires_at ? Date.parse(row.expires_at) : null,
    issuedAt: Date.parse(row.updated_at),
    refreshable: row.refreshable,
  };
}

/** The state is stored hashed: a database reader cannot complete someone's authorization with it. */
const hashState = (state: string) => createHash('sha256').update(state).digest('base64url');

/** AES-256-GCM with a random 96-bit IV; `aad` binds the ciphertext to its row, so it cannot be moved to another. */
export function seal(key: Buffer, plaintext: string, aad: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(aad));
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', iv, cipher.getAuthTag(), data].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
}

export function open(key: Buffer, sealed: string, aad: string): string {
  const [version, iv, tag, data] = sealed.split('.');
  if (version !== 'v1' || !iv || !tag || data === undefined) throw new AgentAuthError('A sealed secret has an unknown format.');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url')).setAAD(Buffer.from(aad));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  try {
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    throw new AgentAuthError('A sealed secret cannot be opened: SECRETS_KEY changed, or the row was altered.');
  }
}
