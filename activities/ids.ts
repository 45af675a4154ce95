import { createHash } from 'node:crypto';

/**
 * A task id derived from the checkpoint it runs on, as LangGraph derives them: the same task on the same
 * checkpoint always has the same id, so retried activities and later reads agree on it.
 */
export function taskIdFor(checkpointId: string, node: string, key: string | number): string {
  const h = createHash('sha1').update(`${checkpointId}|${node}|${key}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${h.slice(18, 20)}-${h.slice(20, 32)}`;
}
