import { addMessages, coerceMessage, isRecord, MessageFormatError, type Message } from './messages.js';

// Graph state as LangGraph keeps it: `messages` merges through the messages reducer, `files` through deepagents'
// file reducer (a write names the files it changes, null deletes one), every other key is a last-value channel. Checkpoints store only the writes of their step; values are folded from the root.

export interface StateValues {
  messages?: Message[];
  [channel: string]: unknown;
}

/** Channel writes of one step: `{messages: [...], other: value}`. */
export type ChannelWrites = Record<string, unknown>;

/** Channel names are user-chosen: a channel named `__proto__` is an own key, never the object's prototype. */
function setChannel(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}

/** Turns user-supplied writes (role-style messages, a single message, a string) into canonical writes. */
export function normalizeWrites(raw: unknown, newId: () => string): ChannelWrites {
  if (raw === null || raw === undefined) return {};
  if (!isRecord(raw)) throw new MessageFormatError('state values must be an object');
  const out: ChannelWrites = {};
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'messages') {
      const list = Array.isArray(value) ? value : [value];
      out.messages = list.map((m) => coerceMessage(m, newId));
    } else {
      setChannel(out, key, value);
    }
  }
  return out;
}

/** command.update's values: LangGraph also allows a list of [key, value] pairs. */
export function commandUpdateValues(update: unknown): unknown {
  return Array.isArray(update) && update.every((p) => Array.isArray(p) && p.length === 2)
    ? Object.fromEntries(update as [string, unknown][])
    : update;
}

/** The files channel's reducer: each write carries only the files it changes, so a checkpoint holds a file once. */
export function mergeFiles(current: unknown, update: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = isRecord(current) ? { ...current } : {};
  if (!isRecord(update)) return out;
  for (const [path, file] of Object.entries(update)) {
    if (file === null) delete out[path];
    else setChannel(out, path, file);
  }
  return out;
}

export function applyWrites(values: StateValues, writes: ChannelWrites | null | undefined): StateValues {
  if (!writes) return values;
  const next: StateValues = { ...values };
  for (const [key, value] of Object.entries(writes)) {
    if (key === 'messages') next.messages = addMessages(values.messages ?? [], value as Message[]);
    else if (key === 'files') next.files = mergeFiles(next.files, value);
    else setChannel(next, key, value);
  }
  return next;
}

/**
 * Folds a chain of writes in place, so materializing a thread of N messages costs O(N) rather than the
 * O(N^2) of copying the message list at every step.
 */
export class StateBuilder {
  private messages: Message[] = [];
  private index = new Map<string, number>();
  private channels: Record<string, unknown> = {};
  private touchedMessages = false;

  apply(writes: ChannelWrites | null | undefined): this {
    if (!writes) return this;
    for (const [key, value] of Object.entries(writes)) {
      if (key === 'messages') this.applyMessages(value as Message[]);
      else if (key === 'files') this.channels.files = mergeFiles(this.channels.files, value);
      else setChannel(this.channels, key, value);
    }
    return this;
  }

  private applyMessages(list: Message[]): void {
    this.touchedMessages = true;
    const hasRemove = list.some((m) => m.type === 'remove');
    if (hasRemove) {
      this.messages = addMessages(this.messages, list);
      this.index = new Map(this.messages.map((m, i) => [m.id, i]));
      return;
    }
    for (const m of list) {
      const at = this.index.get(m.id);
      if (at === undefined) {
        this.index.set(m.id, this.messages.length);
        this.messages.push(m);
      } else {
        this.messages[at] = m;
      }
    }
  }

  snapshot(): StateValues {
    const out: StateValues = { ...this.channels };
    if (this.touchedMessages) out.messages = this.messages.slice();
    return out;
  }
}
