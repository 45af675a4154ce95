// Authorization filters (reference §1.4): what an `on(...)` handler returns to narrow what a caller may see.
// `{key: v}` and `{key: {$eq: v}}` ask metadata[key] to equal v; `{key: {$contains: v}}` asks the array
// metadata[key] to hold v (or every element of v, when v is an array). Several keys must all hold.

export type FilterValue = unknown;
export type AuthFilter = Record<string, FilterValue>;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function condition(v: FilterValue): { op: '$eq' | '$contains'; value: unknown } {
  if (isRecord(v) && '$contains' in v) return { op: '$contains', value: v.$contains };
  if (isRecord(v) && '$eq' in v) return { op: '$eq', value: v.$eq };
  return { op: '$eq', value: v };
}

/** Whether a record's metadata passes a filter (undefined or empty filter: everything passes). */
export function matchesFilter(filter: AuthFilter | undefined, metadata: Record<string, unknown> | null | undefined): boolean {
  if (!filter) return true;
  const md = metadata ?? {};
  return Object.entries(filter).every(([key, raw]) => {
    if (!(key in md)) return false;
    const { op, value } = condition(raw);
    const actual = md[key];
    if (op === '$eq') return sameJson(actual, value);
    if (!Array.isArray(actual)) return false;
    const wanted = Array.isArray(value) ? value : [value];
    return wanted.every((w) => actual.some((a) => sameJson(a, w)));
  });
}

/**
 * The filter as a jsonb containment object for SQL (`metadata @> $1`), which a GIN jsonb_path_ops index serves:
 * `{k: v}` for equality, `{k: [v...]}` for $contains. Containment is equality for strings, numbers and booleans,
 * which is what filters compare in practice (owner ids, tenant ids).
 */
export function filterToContainment(filter: AuthFilter): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(filter)) {
    const { op, value } = condition(raw);
    out[key] = op === '$contains' ? (Array.isArray(value) ? value : [value]) : value;
  }
  return out;
}
