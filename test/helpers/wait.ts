// Waiting on a condition in helpers that also run outside vitest (benchmarks, record-histories), where
// vi.waitFor and expect.poll are not available. Tests themselves use those.

export interface PollOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Appended to the error, for example a process's output. */
  context?: () => string;
}

/** Polls `check` until it holds; throws, naming what never happened, after the timeout (30 s by default). */
export async function pollUntil(what: string, check: () => boolean | Promise<boolean>, o: PollOptions = {}): Promise<void> {
  const timeoutMs = o.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() >= deadline) throw new Error(`${what}: not so after ${timeoutMs} ms${o.context ? `\n${o.context()}` : ''}`);
    await new Promise((r) => setTimeout(r, o.intervalMs ?? 50));
  }
}
