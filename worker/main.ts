import { loadConfig } from '../config/index.js';
import { createLogger } from '../config/logger.js';
import { onShutdown } from '../config/shutdown.js';
import { temporalAddress } from '../config/temporal.js';
import { openDatabase } from '../db/index.js';
import { runWorker } from './run.js';

// `npm run worker`: one worker process. Add your own tools by passing them to runWorker({ tools }).

const config = loadConfig();
const log = createLogger(config.LOG_LEVEL, { component: 'worker' });
const db = await openDatabase(config, log);
const worker = await runWorker({ config, db, address: temporalAddress(config), log });
onShutdown(log, async () => {
  await worker.stop();
  await db.close();
});
