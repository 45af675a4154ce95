import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import pg from 'pg';
import type { Logger } from '../config/logger.js';
import { isConnectionFailure, toDbError } from './errors.js';

// One interface over two engines: a real PostgreSQL pool, or PGlite embedded in this process.
// Timestamps come back as ISO strings and bigints as numbers on both, so rows serialize the same way.

export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

export interface Queryable {
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<QueryResult<R>>;
  /** Runs a multi-statement script without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export const DbKind = { postgres: 'postgres', pglite: 'pglite' } as const;
export type DbKind = (typeof DbKind)[keyof typeof DbKind];

export interface Db extends Queryable {
  readonly kind: DbKind;
  /** Runs fn in one transaction on one connection. */
  tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T>;
  /** Subscribes to NOTIFY on a channel; resolves once listening. Returns the unsubscribe function. */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

const TIMESTAMPTZ = 1184;
const TIMESTAMP = 1114;
const INT8 = 20;
const toIso = (v: string) => new Date(v).toISOString();
const toNumber = (v: string) => Number(v);

export interface PgTimeouts {
  /** How long to wait for a new connection before the database counts as unavailable. */
  connectMs: number;
  /** Server-side limit per statement; 0 for none. */
  statementMs: number;
}

export const defaultPgTimeouts: PgTimeouts = { connectMs: 5_000, statementMs: 60_000 };

export async function openDb(opts: {
  databaseUrl?: string;
  dataDir: string;
  poolSize: number;
  log: Logger;
  timeouts?: PgTimeouts;
}): Promise<Db> {
  if (opts.databaseUrl) return openPostgres(opts.databaseUrl, opts.poolSize, opts.log, opts.timeouts);
  return openPglite(path.join(opts.dataDir, 'pglite'), opts.log);
}

// ---------------------------------------------------------------- PostgreSQL

const pgTypes = {
  getTypeParser(oid: number, format?: string) {
    if (oid === TIMESTAMPTZ || oid === TIMESTAMP) return toIso;
    if (oid === INT8) return toNumber;
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

/**
 * A pool whose connection failures surface as DatabaseUnavailableError, with a connect timeout (a stopped server
 * must not hang callers), a statement timeout, and TCP keepalive (a vanished server must not hold a connection).
 */
export function openPostgres(url: string, poolSize: number, log: Logger, timeouts: PgTimeouts = defaultPgTimeouts): Db {
  const options = {
    connectionString: url,
    connectionTimeoutMillis: timeouts.connectMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    ...(timeouts.statementMs > 0 ? { statement_timeout: timeouts.statementMs } : {}),
  };
  const pool = new pg.Pool({ ...options, max: poolSize, types: pgTypes as pg.CustomTypesConfig });
  pool.on('error', (err) => log.warn('idle postgres connection failed', { err }));
  const listener = new PgListener(options, log);
  const wrap = (c: pg.Pool | pg.PoolClient): Queryable => ({
    async query<R>(text: string, params?: unknown[]) {
      try {
        const r = await c.query(text, params);
        return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
      } catch (err) {
        throw toDbError(err);
      }
    },
    async exec(sql: string) {
      await c.query(sql).catch((err: unknown) => {
        throw toDbError(err);
      });
    },
  });
  return {
    kind: DbKind.postgres,
    ...wrap(pool),
    async tx(fn) {
      const client = await pool.connect().catch((err: unknown) => {
        throw toDbError(err);
      });
      let broken = false;
      try {
        await client.query('BEGIN');
        const out = await fn(wrap(client));
        await client.query('COMMIT');
        return out;
      } catch (err) {
        broken = isConnectionFailure(err) || isConnectionFailure((err as { cause?: unknown }).cause);
        if (!broken) await client.query('ROLLBACK').catch(() => undefined);
        throw toDbError(err);
      } finally {
        // A connection that failed is dropped rather than handed to the next caller.
        client.release(broken);
      }
    },
    listen: (channel, cb) => listener.listen(channel, cb),
    async close() {
      await listener.close();
      await pool.end();
    },
  };
}

/** One dedicated connection per process for LISTEN, reconnecting with backoff and re-subscribing. */
class PgListener {
  private client: pg.Client | null = null;
  private connecting: Promise<pg.Client> | null = null;
  private readonly subs = new Map<string, Set<(p: string) => void>>();
  private closed = false;

  constructor(
    private readonly options: pg.ClientConfig,
    private readonly log: Logger,
  ) {}

  async listen(channel: string, cb: (p: string) => void): Promise<() => Promise<void>> {
    let set = this.subs.get(channel);
    const first = !set;
    if (!set) this.subs.set(channel, (set = new Set()));
    set.add(cb);
    const client = await this.connect();
    if (first) await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    return async () => {
      set.delete(cb);
      if (set.size === 0 && this.subs.get(channel) === set) {
        this.subs.delete(channel);
        await this.client?.query(`UNLISTEN ${pg.escapeIdentifier(channel)}`).catch(() => undefined);
      }
    };
  }

  private connect(): Promise<pg.Client> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= (async () => {
      const client = new pg.Client(this.options);
      client.on('notification', (n) => {
        for (const cb of this.subs.get(n.channel) ?? []) cb(n.payload ?? '');
      });
      client.on('error', (err) => this.onError(client, err));
      await client.connect();
      for (const channel of this.subs.keys()) await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      this.client = client;
      return client;
    })().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private onError(client: pg.Client, err: Error): void {
    if (this.client !== client || this.closed) return;
    this.log.warn('LISTEN connection lost; reconnecting', { err });
    this.client = null;
    void client.end().catch(() => undefined);
    const retry = (delay: number) =>
      setTimeout(() => {
        if (this.closed) return;
        this.connect().catch(() => retry(Math.min(delay * 2, 5000)));
      }, delay);
    retry(100);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.client?.end().catch(() => undefined);
    this.client = null;
  }
}

// ---------------------------------------------------------------- PGlite

/** In-memory PGlite (tests) when dir is undefined; otherwise a data directory guarded by a lock file. */
export async function openPglite(dir: string | undefined, log: Logger): Promise<Db> {
  let release = () => {};
  if (dir) {
    mkdirSync(dir, { recursive: true });
    release = acquireLock(dir);
  }
  const db = await PGlite.create({
    ...(dir ? { dataDir: dir } : {}),
    extensions: { vector },
    parsers: { [TIMESTAMPTZ]: toIso, [TIMESTAMP]: toIso, [INT8]: toNumber },
  });
  log.debug('PGlite open', { dir: dir ?? 'memory' });
  return {
    kind: DbKind.pglite,
    async query<R>(text: string, params?: unknown[]) {
      return pgliteResult(await db.query<R>(text, params));
    },
    tx: (fn) =>
      db.transaction(async (t) =>
        fn({
          async query<R>(text: string, params?: unknown[]) {
            return pgliteResult(await t.query<R>(text, params));
          },
          async exec(sql: string) {
            await t.exec(sql);
          },
        }),
      ),
    async exec(sql) {
      await db.exec(sql);
    },
    listen: (channel, cb) => db.listen(channel, cb),
    async close() {
      await db.close();
      release();
    },
  };
}

// PGlite reports affectedRows 0 for a SELECT, so count returned rows when there are any, as pg does.
function pgliteResult<R>(r: { rows: R[]; affectedRows?: number }): QueryResult<R> {
  return { rows: r.rows, rowCount: r.rows.length || (r.affectedRows ?? 0) };
}

// PGlite is one process's database: a second process opening the same folder would corrupt it.
function acquireLock(dir: string): () => void {
  const file = path.join(dir, 'runtime.lock');
  try {
    const pid = Number(readFileSync(file, 'utf8'));
    if (pid && pid !== process.pid && processAlive(pid)) {
      throw new Error(
        `The embedded database in ${dir} is in use by process ${pid}. ` +
          'Embedded mode runs API and worker in one process (npm start); set DATABASE_URL to run several processes.',
      );
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  writeFileSync(file, String(process.pid));
  return () => rmSync(file, { force: true });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
