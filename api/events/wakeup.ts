/**
 * Turns notifications into something a loop can wait on without losing any: a notification that arrives while
 * the loop is busy is remembered, so the next wait() returns at once. Starts notified, so a loop's first pass
 * reads without waiting, unless told that nothing can be there to read yet.
 */
export class Wakeup {
  private resolve: (() => void) | null = null;

  constructor(private notified = true) {}

  readonly notify = (): void => {
    this.notified = true;
    this.resolve?.();
  };

  /** Consumes a pending notification and returns true; otherwise waits up to ms (or the abort) and says which. */
  async wait(ms: number, signal: AbortSignal): Promise<boolean> {
    if (!this.notified && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, ms);
        const onAbort = () => done();
        signal.addEventListener('abort', onAbort, { once: true });
        this.resolve = done;
        function done() {
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          resolve();
        }
      });
      this.resolve = null;
    }
    const woken = this.notified;
    this.notified = false;
    return woken;
  }
}
