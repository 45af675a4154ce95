import type { Config } from '../config/index.js';
import type { Logger } from '../config/logger.js';
import { migrate } from './migrate.js';
import { openDb, type Db } from './pool.js';

/** The database an entrypoint uses: PostgreSQL when DATABASE_URL is set, else PGlite under DATA_DIR; migrated. */
export async function openDatabase(config: Pick<Config, 'DATABASE_URL' | 'DATA_DIR' | 'DATABASE_POOL_SIZE'>, log: Logger): Promise<Db> {
  const db = await openDb({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, poolSize: config.DATABASE_POOL_SIZE, log });
  await migrate(db, log);
  log.info('database ready', { kind: db.kind });
  return db;
}
