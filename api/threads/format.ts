import { isRecord } from '../../core/messages.js';
import type { ThreadRow } from '../../db/threads.js';

// Wire shapes of threads: the row without its internals, field selection, and `extract` paths.

export type ThreadJson = Omit<ThreadRow, 'head_checkpoint_id'>;

/** The head checkpoint id is the workflow's business; clients address checkpoints through state and history. */
export function threadJson(row: ThreadRow): ThreadJson {
  const { head_checkpoint_id: _head, ...rest } = row;
  return { ...rest, values: rest.values ?? null, interrupts: rest.interrupts ?? {}, config: rest.config ?? {}, error: rest.error ?? null };
}

export function pickKeys<T extends object>(obj: T, keys: readonly string[]): Partial<T> {
  return Object.fromEntries(Object.entries(obj).filter(([k]) => keys.includes(k))) as Partial<T>;
}

/** `values.messages[-1].content` or `values.messages.-1.content`: keys, and array indices that may count from the end. */
export function extractPath(root: unknown, path: string): unknown {
  const parts = path
    .replace(/\[(-?\d+)\]/g, '.$1')
    .split('.')
    .filter(Boolean);
  let at: unknown = root;
  for (const part of parts) {
    if (Array.isArray(at) && /^-?\d+$/.test(part)) at = at.at(Number(part));
    else if (isRecord(at) && Object.hasOwn(at, part)) at = at[part];
    else return null;
    if (at === undefined) return null;
  }
  return at;
}

/**
 * ThreadState field selection: top-level fields by name, and `values.<key>` to keep single state keys (which
 * implies a `values` object holding only those keys).
 */
export function selectState<T extends { values: unknown }>(state: T, select: readonly string[] | null | undefined): Partial<T> | T {
  if (!select?.length) return state;
  const out: Record<string, unknown> = pickKeys(state, select);
  const valueKeys = select.filter((f) => f.startsWith('values.')).map((f) => f.slice('values.'.length));
  if (valueKeys.length && !select.includes('values')) {
    const values = isRecord(state.values) ? state.values : {};
    out.values = Object.fromEntries(valueKeys.filter((k) => Object.hasOwn(values, k)).map((k) => [k, values[k]]));
  }
  return out as Partial<T>;
}
