import type { Logger } from '../../config/logger.js';
import { EVENTS_CHANNEL, RUN_ENDS_CHANNEL, THREAD_RUNS_CHANNEL } from '../../db/events.js';
import type { Db } from '../../db/pool.js';

/**
 * Fans the database's run-event notifications out to the streams of this process. Workers NOTIFY on every
 * append; the payload is the run id, and each waiting stream reads what is new from the event log.
 */
export class EventHub {
  private readonly subs = new Map<string, Set<() => void>>();
  private readonly unlisten: (() => Promise<void>)[] = [];

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
  ) {}

  /**
   * Whether workers announce run ends (RUN_ENDS_CHANNEL): until one does, waits read the end marker after every
   * append, as they did before workers sent it (an older worker during a rolling deploy).
   */
  endsAnnounced = false;

  async start(): Promise<void> {
    this.unlisten.push(await this.db.listen(EVENTS_CHANNEL, (runId) => this.wake(runId)));
    this.unlisten.push(
      await this.db.listen(RUN_ENDS_CHANNEL, (runId) => {
        this.endsAnnounced = true;
        this.wake(`end:${runId}`);
      }),
    );
    this.unlisten.push(await this.db.listen(THREAD_RUNS_CHANNEL, (threadId) => this.wake(`thread:${threadId}`)));
    this.log.debug('listening for run events');
  }

  /** Wakes onEvent whenever events are appended to the run. */
  subscribe(runId: string, onEvent: () => void): () => void {
    return this.add(runId, onEvent);
  }

  /** Wakes onEnd when the run's end marker is appended. */
  subscribeEnd(runId: string, onEnd: () => void): () => void {
    return this.add(`end:${runId}`, onEnd);
  }

  /** Wakes onRun whenever a run is admitted on the thread. */
  subscribeThread(threadId: string, onRun: () => void): () => void {
    return this.add(`thread:${threadId}`, onRun);
  }

  private add(key: string, cb: () => void): () => void {
    let set = this.subs.get(key);
    if (!set) this.subs.set(key, (set = new Set()));
    set.add(cb);
    return () => {
      set.delete(cb);
      if (set.size === 0) this.subs.delete(key);
    };
  }

  private wake(key: string): void {
    for (const cb of this.subs.get(key) ?? []) cb();
  }

  async stop(): Promise<void> {
    for (const stop of this.unlisten.splice(0)) await stop();
  }
}
