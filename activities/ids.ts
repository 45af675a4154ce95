import { v5 } from 'uuid';

/** The namespace of task ids (a random UUID, fixed once): v5 ids are names hashed within a namespace. */
const TASK_IDS = 'a5ed0f3c-58b7-4f0e-9a3c-6f1d2b7e4c91';

/**
 * A task id derived from the checkpoint it runs on, as LangGraph derives them: the same task on the same
 * checkpoint always has the same id, so retried activities and later reads agree on it.
 */
export function taskIdFor(checkpointId: string, node: string, key: string | number): string {
  return v5(`${checkpointId}|${node}|${key}`, TASK_IDS);
}
