import { parse, v7 } from 'uuid';

// Ids derived from others, pure so that workflows, activities and the API compute the same ones.

export const threadWorkflowId = (threadId: string) => `thread-${threadId}`;
export const webhookWorkflowId = (runId: string) => `webhook-${runId}`;

/**
 * A UUIDv7 (48 bits of milliseconds, then randomness: ids sort by creation time, as LangGraph's do) from a given
 * time and the bytes of a random UUID. Workflow code passes its own clock and its seeded uuid4(), so a replay
 * derives the same id.
 */
export function uuid7From(ms: number, randomUuid: string): string {
  return v7({ msecs: ms, random: parse(randomUuid) });
}

/** Where in a run a checkpoint is written: the writes that position the head come first, then one per step. */
export const RunSlot = { fork: 0, update: 1, input: 2, inputLoop: 3 } as const;
const firstStepSlot = 16;
export const stepSlot = (step: number): number => step + 2 + firstStepSlot;

/** The id of the AI message a run's model turn at `step` writes (its first attempt's). */
export const modelMessageId = (runId: string, step: number): string => `run-${runId}-${step}`;

/**
 * The id of a checkpoint a run writes, derived from the run id (a UUIDv7) and the slot: a retried workflow task
 * asks for the same id again, so a write that already committed is found instead of made twice. It keeps the
 * run's timestamp and puts the slot (24 bits) where v7 ids keep a counter, so a run's checkpoints sort by
 * creation, after those of runs created before it; the last 48 bits are the run id's own random bits.
 */
export function runCheckpointId(runId: string, slot: number): string {
  const id = runId.replace(/-/g, '').toLowerCase();
  const s = (slot % 0x1000000).toString(16).padStart(6, '0');
  return `${id.slice(0, 8)}-${id.slice(8, 12)}-7${s.slice(0, 3)}-${id[16]}${s.slice(3, 6)}-${id.slice(20, 32)}`;
}
