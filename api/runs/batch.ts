import { fromZod } from '../errors.js';
import { runCreate, type RunCreate } from './schema.js';

// SDK createBatch sends each payload in the caller's camelCase, adding only assistant_id; accept both spellings.
const aliases: Record<string, string> = {
  assistantId: 'assistant_id',
  streamMode: 'stream_mode',
  streamSubgraphs: 'stream_subgraphs',
  streamResumable: 'stream_resumable',
  feedbackKeys: 'feedback_keys',
  interruptBefore: 'interrupt_before',
  interruptAfter: 'interrupt_after',
  checkpointId: 'checkpoint_id',
  multitaskStrategy: 'multitask_strategy',
  onCompletion: 'on_completion',
  onDisconnect: 'on_disconnect',
  afterSeconds: 'after_seconds',
  ifNotExists: 'if_not_exists',
  strictResume: 'strict_resume',
  langsmithTracer: 'langsmith_tracer',
};

export function batchPayloads(items: unknown[]): RunCreate[] {
  return items.map((item, i) => {
    const raw = item && typeof item === 'object' && !Array.isArray(item) ? (item as Record<string, unknown>) : {};
    const snake = Object.fromEntries(Object.entries(raw).map(([k, v]) => [aliases[k] ?? k, v]));
    const parsed = runCreate.safeParse(snake);
    if (!parsed.success) throw fromZod(`body.${i}`, parsed.error);
    return parsed.data;
  });
}
