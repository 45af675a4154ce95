import { z } from 'zod';

// Building blocks shared by the resource schemas.

export const uuid = z.string().uuid();
export const jsonObject = z.record(z.string(), z.unknown());
export const metadata = jsonObject;

/** Query arrays arrive as repeated keys (SDK 1.15), a JSON array string (older SDKs) or one value. */
export function queryArray<T extends z.ZodType>(item: T) {
  return z.preprocess((v) => {
    if (v === undefined) return undefined;
    if (Array.isArray(v)) return v;
    if (typeof v === 'string' && v.startsWith('[')) {
      try {
        return JSON.parse(v);
      } catch {
        return v;
      }
    }
    return [v];
  }, z.array(item).optional());
}

/** Booleans in query strings: 1/0, true/false. */
const boolWords: Record<string, boolean> = { '1': true, true: true, '0': false, false: false };
export const queryBool = z.preprocess((v) => (typeof v === 'string' && v in boolWords ? boolWords[v] : v), z.boolean().optional());

export const limit = (max: number, def: number) => z.coerce.number().int().min(1).max(max).default(def);
export const offset = z.coerce.number().int().min(0).default(0);
export const sortOrder = z.enum(['asc', 'desc']).default('desc');
