import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../config/index.js';
import { createLogger } from '../config/logger.js';
import { onShutdown } from '../config/shutdown.js';
import { temporalAddress, temporalConnectionOptions } from '../config/temporal.js';
import { openDatabase } from '../db/index.js';
import { serveApi } from './server.js';

// `npm run api`: one API process. Run several against one Temporal and one PostgreSQL to scale out.

const config = loadConfig();
const log = createLogger(config.LOG_LEVEL, { component: 'api' });
const db = await openDatabase(config, log);
const connection = await Connection.connect(temporalConnectionOptions(config, temporalAddress(config)));
const api = await serveApi({ config, db, temporal: new Client({ connection, namespace: config.TEMPORAL_NAMESPACE }), log });
log.info('API listening', { url: api.url });
onShutdown(log, async () => {
  await api.close();
  await connection.close();
  await db.close();
});
