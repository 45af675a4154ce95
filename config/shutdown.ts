import type { Logger } from './logger.js';

// One shutdown per process, whatever the signals. SIGTERM to a process group (systemd, Docker, `kill -- -pgid`)
// reaches node directly and again through npm, and Ctrl-C arrives twice too (the terminal and npm): those
// copies are the same request. A signal well after the first one is a person insisting, and exits at once.

/** Copies of one request arrive within milliseconds; a person pressing Ctrl-C again takes longer than this. */
const SAME_REQUEST_MS = 2_000;
/** A shutdown that hangs (a dependency that never answers) still ends the process. */
const DEADLINE_MS = 60_000;

/** Runs stop() once on SIGINT or SIGTERM, then exits 0 (1 if it failed or hung). */
export function onShutdown(log: Logger, stop: () => Promise<void>, o: { deadlineMs?: number } = {}): void {
  let startedAt: number | null = null;
  const handler = (signal: NodeJS.Signals) => {
    if (startedAt !== null) {
      if (Date.now() - startedAt < SAME_REQUEST_MS) return log.info('already shutting down', { signal });
      log.warn('signal during shutdown: exiting now', { signal });
      process.exit(1);
    }
    startedAt = Date.now();
    log.info('shutting down', { signal });
    setTimeout(() => {
      log.error('shutdown did not finish in time: exiting', { deadlineMs: o.deadlineMs ?? DEADLINE_MS });
      process.exit(1);
    }, o.deadlineMs ?? DEADLINE_MS).unref();
    stop().then(
      () => {
        log.info('shutdown complete');
        process.exit(0);
      },
      (err: unknown) => {
        log.error('shutdown failed', { err });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
