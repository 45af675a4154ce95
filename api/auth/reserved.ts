import { RESERVED_CONFIGURABLE_KEYS } from '../../core/auth/roles.js';
import { invalid } from '../errors.js';

// The authenticated user reaches runs in `configurable.langgraph_auth_*`; only the server sets those keys. A client
// that sends them (in config, context or metadata, where they would be merged into what the graph sees) is refused.

const reserved = new Set<string>(RESERVED_CONFIGURABLE_KEYS);
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function rejectReservedKeys(body: unknown): void {
  const found: string[] = [];
  for (const [i, item] of (Array.isArray(body) ? body : [body]).entries()) {
    if (!isRecord(item)) continue;
    const at = Array.isArray(body) ? `body.${i}` : 'body';
    const places: [string, unknown][] = [
      [`${at}.config.configurable`, isRecord(item.config) ? item.config.configurable : undefined],
      [`${at}.context`, item.context],
      [`${at}.metadata`, item.metadata],
    ];
    for (const [path, value] of places)
      if (isRecord(value)) for (const key of Object.keys(value)) if (reserved.has(key)) found.push(`${path}.${key}`);
  }
  if (found.length)
    throw invalid(
      `Reserved keys are set by the server only: ${found.join(', ')}`,
      found.map((path) => ({ path, message: 'reserved for the authenticated user' })),
    );
}
