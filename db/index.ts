import type { Config } from '../config/index.js';
import type { Logger } from '../config/logger.js';
import { migrate } from './migrate.js';
import { openDb, type Db } from './pool.js';

/** The database an entrypoint uses: PostgreSQL when DATABASE_URL is set, else PGlite under DATA_DIR; migrated. */
export async function openDatabase(
  config: Pick<
    Config,
    'DATABASE_URL' | 'DATA_DIR' | 'DATABASE_POOL_SIZE' | 'DATABASE_CONNECT_TIMEOUT_SECONDS' | 'DATABASE_STATEMENT_TIMEOUT_SECONDS'
  >,
  log: Logger,
): Promise<Db> {
  const db = await openDb({
    databaseUrl: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    poolSize: config.DATABASE_POOL_SIZE,
    log,
    timeouts: { connectMs: config.DATABASE_CONNECT_TIMEOUT_SECONDS * 1000, statementMs: config.DATABASE_STATEMENT_TIMEOUT_SECONDS * 1000 },
  });
  await migrate(db, log);
  log.info('database ready', { kind: db.kind });
  return db;
}
