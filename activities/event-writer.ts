import type { RunContext } from '../core/runs.js';
import type { NewEvent } from '../db/events.js';
import type { Db } from '../db/pool.js';
import type { Patience } from './db-wait.js';
import { appendRunEvents } from './run-events.js';

/**
 * Appends a run's events in order while a call is in flight. There is no timer: an event goes out at once
 * when no append is running, and events that arrive during an append go out together in the next one, so
 * batching grows only as the database slows down. While the database is away, the pending batch waits (with
 * `patience`) and later events queue behind it, so the log keeps their order.
 */
export class EventWriter {
  private queue: NewEvent[] = [];
  private draining: Promise<void> | null = null;
  private failure: unknown = null;

  constructor(
    private readonly db: Db,
    private readonly run: Pick<RunContext, 'runId' | 'parent'>,
    private readonly patience: Patience = (fn) => fn(),
  ) {}

  push(events: NewEvent[]): void {
    if (events.length === 0) return;
    this.queue.push(...events);
    this.draining ??= this.drain();
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length) {
        const batch = this.queue.splice(0);
        await this.patience(() => appendRunEvents(this.db, this.run, batch));
      }
    } catch (err) {
      this.failure ??= err;
    } finally {
      this.draining = null;
    }
  }

  /** Waits for every pushed event to be stored. */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
    if (this.failure) throw this.failure;
  }
}
