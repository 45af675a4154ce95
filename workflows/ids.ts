import { uuid4 } from '@temporalio/workflow';
import { uuid7From } from '../core/ids.js';

/** A checkpoint id from workflow time and the workflow's seeded randomness: deterministic on replay, time-ordered. */
export function newCheckpointId(): string {
  return uuid7From(Date.now(), uuid4());
}
