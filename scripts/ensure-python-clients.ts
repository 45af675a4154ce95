import { loadConfig } from '../config/index.js';
import { createLogger } from '../config/logger.js';
import { ensurePythonClients } from './python-clients.js';

// Builds (or finds) the pinned Python client virtualenv and prints its python (CI runs this before the tests).
const config = loadConfig();
process.stdout.write(`${await ensurePythonClients(createLogger(config.LOG_LEVEL))}\n`);
