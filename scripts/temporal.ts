import { loadConfig } from '../config/index.js';
import { createLogger } from '../config/logger.js';
import { onShutdown } from '../config/shutdown.js';
import { devServerDbFile, findOrInstallTemporal, startDevServer, waitForServer } from './temporal-cli.js';

// `npm run temporal`: the Temporal dev server alone, with the Web UI, persisted under DATA_DIR.
// With TEMPORAL_ADDRESS set it only checks that the server there answers.

const config = loadConfig();
const log = createLogger(config.LOG_LEVEL, { component: 'temporal' });

if (config.TEMPORAL_ADDRESS) {
  await waitForServer(config.TEMPORAL_ADDRESS, 10_000);
  log.info('using the Temporal server at TEMPORAL_ADDRESS; nothing to start', { address: config.TEMPORAL_ADDRESS });
} else {
  const binary = findOrInstallTemporal(config.TEMPORAL_CLI_PATH, log);
  const server = await startDevServer({
    binary,
    port: config.TEMPORAL_PORT,
    uiPort: config.TEMPORAL_UI_PORT,
    dbFile: devServerDbFile(config.DATA_DIR),
    namespaces: [config.TEMPORAL_NAMESPACE],
    ownProcessGroup: true,
    log,
  });
  process.stdout.write(`Temporal: ${server.address}\nWeb UI:   ${server.uiUrl}\n`);
  onShutdown(log, () => server.stop());
}
