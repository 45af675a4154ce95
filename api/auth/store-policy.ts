import type { Request } from 'express';
import { matchesFilter, type AuthFilter } from '../../core/auth/filter.js';
import { forbidden } from '../errors.js';
import { searchFilterOf, setSearchFilter } from './context.js';
import type { Guard } from './guard.js';
import type { PolicyInput } from './policies.js';

// The store's rule (reference §1.5), both servers' forms: a handler may rewrite `value.namespace` (Python; the
// server then uses the rewritten one) or return a filter evaluated on `{...item.value, namespace, key}` (JS).
// Point operations on an item that fails the filter are forbidden; searches and listings apply it in SQL.

type StoreAction = 'put' | 'get' | 'delete' | 'search' | 'list_namespaces';

const where: Record<StoreAction, { from: 'body' | 'query'; field: string }> = {
  put: { from: 'body', field: 'namespace' },
  get: { from: 'query', field: 'namespace' },
  delete: { from: 'body', field: 'namespace' },
  search: { from: 'body', field: 'namespace_prefix' },
  list_namespaces: { from: 'body', field: 'prefix' },
};

export async function checkStore(g: Guard, action: StoreAction, i: PolicyInput): Promise<void> {
  const at = where[action];
  const source = at.from === 'body' ? i.body : i.query;
  const raw = source[at.field];
  const namespace = typeof raw === 'string' ? (raw ? raw.split('.') : []) : Array.isArray(raw) ? [...(raw as string[])] : [];
  const value: Record<string, unknown> = { ...i.body, ...i.query, namespace };
  const filter = await g.decide('store', action, value);
  if (Array.isArray(value.namespace)) {
    const rewritten = value.namespace as string[];
    source[at.field] = typeof raw === 'string' ? rewritten.join('.') : rewritten;
  }
  if (!filter) return;
  if (action === 'search' || action === 'list_namespaces') {
    setSearchFilter(g.req, filter);
    const { namespace: _ns, ...onValue } = filter;
    if (action === 'search' && Object.keys(onValue).length) i.body.filter = { ...(i.body.filter as object | undefined), ...onValue };
    return;
  }
  const item = { ...(action === 'put' ? (i.body.value as object) : {}), namespace: value.namespace, key: value.key };
  if (!matchesFilter(filter, item)) throw forbidden();
}

/** Labels a search's namespaces must hold, from a filter on `namespace` ($contains or equality). */
export function namespaceContainsOf(req: Request): string[] | undefined {
  const filter: AuthFilter | undefined = searchFilterOf(req);
  const cond = filter?.namespace;
  if (cond === undefined) return undefined;
  const v =
    typeof cond === 'object' && cond !== null && !Array.isArray(cond)
      ? ((cond as Record<string, unknown>).$contains ?? (cond as Record<string, unknown>).$eq)
      : cond;
  return (Array.isArray(v) ? v : [v]).map(String);
}
