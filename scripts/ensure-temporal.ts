import { loadConfig } from '../config/index.js';
import { createLogger } from '../config/logger.js';
import { findOrInstallTemporal } from './temporal-cli.js';

// Finds or installs the Temporal CLI and prints its path (CI runs this before the tests).
const config = loadConfig();
process.stdout.write(`${findOrInstallTemporal(config.TEMPORAL_CLI_PATH, createLogger(config.LOG_LEVEL))}\n`);
