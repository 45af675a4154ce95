import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../config/logger.js';
import { isDatabaseUnavailable } from '../../db/errors.js';

// Followers of a run (SSE streams, wait, join) outlast a database outage: their reads are retried until the
// database answers again or the client goes away, while the stream keeps sending heartbeats. A client never
// sees its stream end silently, or a partial body, because the database was away for a while.

const firstDelayMs = 250;
const maxDelayMs = 2_000;

/** The client went away while a read was waiting for the database. */
export class FollowerGone extends Error {
  override name = 'FollowerGone';
}

/** Runs fn, retrying while the database is unavailable; rejects with FollowerGone once the signal fires. */
export async function readPatiently<T>(log: Logger, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
  let delay = firstDelayMs;
  let warned = false;
  for (;;) {
    if (signal.aborted) throw new FollowerGone('the client went away');
    try {
      return await fn();
    } catch (err) {
      if (!isDatabaseUnavailable(err)) throw err;
      if (!warned) log.debug('database unavailable; a follower waits for it', { err });
      warned = true;
    }
    // An abort ends the pause early; the loop's check above turns it into FollowerGone.
    await sleep(delay, undefined, { signal }).catch(() => undefined);
    delay = Math.min(delay * 2, maxDelayMs);
  }
}
