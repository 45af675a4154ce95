import { filterToContainment, type AuthFilter } from '../core/auth/filter.js';

// An authorization filter as SQL on a `metadata` jsonb column. A string equality is `metadata->>'key' = $n`, which
// is exact and which an expression index such as threads_owner_idx serves; other conditions are jsonb containment,
// which the GIN jsonb_path_ops indexes serve.

/**
 * A plain key is written into the SQL as a literal, so the planner can match an expression index on it
 * (threads_owner_idx); any other key stays a parameter.
 */
function keySql(key: string, params: unknown[]): string {
  return /^[A-Za-z0-9_:-]{1,64}$/.test(key) ? `'${key}'` : `$${params.push(key)}`;
}

export function authFilterSql(filter: AuthFilter | undefined, params: unknown[], column = 'metadata'): string[] {
  if (!filter) return [];
  const out: string[] = [];
  const rest: AuthFilter = {};
  for (const [key, raw] of Object.entries(filter)) {
    const eq = typeof raw === 'object' && raw !== null && '$eq' in raw ? (raw as { $eq: unknown }).$eq : raw;
    if (typeof eq === 'string') out.push(`${column}->>${keySql(key, params)} = $${params.push(eq)}`);
    else rest[key] = raw;
  }
  if (Object.keys(rest).length) out.push(`${column} @> $${params.push(JSON.stringify(filterToContainment(rest)))}::jsonb`);
  return out;
}
