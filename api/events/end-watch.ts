import type { AppDeps } from '../deps.js';
import { FollowerGone, readPatiently } from './patience.js';
import { Wakeup } from './wakeup.js';

/**
 * What a follower of a run's end (wait, join) waits on: the announcement of the end (EventHub.subscribeEnd), or,
 * until workers announce ends, every append. It reads the end marker when woken, and after every quiet period,
 * which covers a notification lost while LISTEN was reconnecting (and a run deleted meanwhile).
 *
 * The first read is at once, for an end announced before the watch began; except when the watch began before the
 * API submitted the run (`beforeSubmit`) and workers announce ends: then no end can have gone unseen, and a read
 * before the announcement would find nothing. Until an announcement arrives (an older worker during a rolling
 * deploy), the first read stays.
 */
export class EndWatch {
  private readonly wakeup: Wakeup;
  private readonly unsubscribe: (() => void)[];

  constructor(
    private readonly deps: Pick<AppDeps, 'hub' | 'log' | 'settings'>,
    runId: string,
    beforeSubmit = false,
  ) {
    this.wakeup = new Wakeup(!(beforeSubmit && deps.hub.endsAnnounced));
    this.unsubscribe = [
      deps.hub.subscribeEnd(runId, this.wakeup.notify),
      deps.hub.subscribe(runId, () => deps.hub.endsAnnounced || this.wakeup.notify()),
    ];
  }

  /** What `read` returns once it names an end; null when the run is gone or the caller left. */
  async marker<M extends { exists: boolean; end: unknown }>(signal: AbortSignal, read: () => Promise<M>): Promise<M | null> {
    try {
      while (!signal.aborted) {
        await this.wakeup.wait(this.deps.settings.heartbeatSeconds * 1000, signal);
        if (signal.aborted) break;
        const marker = await readPatiently(this.deps.log, signal, read);
        if (!marker.exists) return null;
        if (marker.end) return marker;
      }
      return null;
    } catch (err) {
      if (err instanceof FollowerGone) return null;
      throw err;
    }
  }

  close(): void {
    for (const unsubscribe of this.unsubscribe.splice(0)) unsubscribe();
  }
}
