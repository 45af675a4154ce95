import { filterToContainment, type AuthFilter } from '../core/auth/filter.js';

// An authorization filter as SQL on a `metadata` jsonb column. A string equality is `metadata->>'key' = $n`, which
// is exact and which an expression index such as threads_owner_idx serves; other conditions are jsonb containment,
// which the GIN jsonb_path_ops indexes serve.

export function authFilterSql(filter: AuthFilter | undefined, params: unknown[], column = 'metadata'): string[] {
  if (!filter) return [];
  const out: string[] = [];
  const rest: AuthFilter = {};
  for (const [key, raw] of Object.entries(filter)) {
    const eq = typeof raw === 'object' && raw !== null && '$eq' in raw ? (raw as { $eq: unknown }).$eq : raw;
    if (typeof eq === 'string') out.push(`${column}->>$${params.push(key)} = $${params.push(eq)}`);
    else rest[key] = raw;
  }
  if (Object.keys(rest).length) out.push(`${column} @> $${params.push(JSON.stringify(filterToContainment(rest)))}::jsonb`);
  return out;
}
