import { isRecord } from '../core/messages.js';
import type { FilterCondition, FilterOp } from '../db/store.js';
import { StoreInputError } from './errors.js';

// Input rules of the store, checked before anything is written, whoever the caller is (API or tools).
// Each failure names the field it is about.

export type IndexSpec = false | string[] | null | undefined;

/** A namespace path. Labels are joined with `.` on the wire, so a label may neither contain one nor be empty. */
export function checkNamespace(ns: unknown, field: string, opts: { allowEmpty?: boolean } = {}): string[] {
  if (!Array.isArray(ns)) throw new StoreInputError(field, 'must be a list of strings');
  if (ns.length === 0 && !opts.allowEmpty) throw new StoreInputError(field, 'must not be empty', 400);
  ns.forEach((label: unknown, i) => {
    if (typeof label !== 'string') throw new StoreInputError(`${field}.${i}`, 'must be a string');
    if (label === '') throw new StoreInputError(`${field}.${i}`, 'namespace labels must not be empty');
    if (label.includes('.')) throw new StoreInputError(`${field}.${i}`, `namespace labels must not contain periods ('.'): "${label}"`);
  });
  return ns as string[];
}

export function checkKey(key: unknown): string {
  if (typeof key !== 'string' || key === '') throw new StoreInputError('key', 'must be a non-empty string');
  return key;
}

export function checkValue(value: unknown): Record<string, unknown> {
  if (!isRecord(value)) throw new StoreInputError('value', 'must be a JSON object');
  return value;
}

/** Minutes until an unread item expires; null or undefined: never. */
export function checkTtl(ttl: unknown): number | null {
  if (ttl === null || ttl === undefined) return null;
  if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl <= 0)
    throw new StoreInputError('ttl', 'must be a positive number of minutes or null');
  return ttl;
}

/** The fields to embed: none (false), the ones listed, or the store's defaults (null/undefined). */
export function checkIndex(index: unknown, defaults: string[]): string[] {
  if (index === false) return [];
  if (index === null || index === undefined) return defaults;
  if (!Array.isArray(index)) throw new StoreInputError('index', 'must be false, null or a list of field paths');
  index.forEach((p: unknown, i) => fieldPath(p, `index.${i}`));
  return [...new Set(index as string[])];
}

/** A dotted path into a value (`a.b.0`), or `$` for the whole value. */
export function fieldPath(path: unknown, field: string): string[] {
  if (path === '$') return [];
  if (typeof path !== 'string' || path.split('.').some((s) => s === ''))
    throw new StoreInputError(field, 'must be "$" or a dotted field path such as "a.b"');
  return path.split('.');
}

export function checkPage(limit: unknown, offset: unknown, maxLimit: number): { limit: number; offset: number } {
  if (!Number.isInteger(limit) || (limit as number) < 1 || (limit as number) > maxLimit)
    throw new StoreInputError('limit', `must be an integer from 1 to ${maxLimit}`);
  if (!Number.isInteger(offset) || (offset as number) < 0) throw new StoreInputError('offset', 'must be a non-negative integer');
  return { limit: limit as number, offset: offset as number };
}

// ---------------------------------------------------------------- filters

const OPERATORS: readonly FilterOp[] = ['$eq', '$ne', '$gt', '$gte', '$lt', '$lte'];
const RANGE: readonly FilterOp[] = ['$gt', '$gte', '$lt', '$lte'];

/**
 * `{"status": "active"}` is equality; `{"score": {"$gte": 3}}` applies operators. An object whose keys start
 * with `$` is read as operators (all of them must be known); any other object is compared whole.
 */
export function parseFilter(filter: unknown): FilterCondition[] {
  if (filter === null || filter === undefined) return [];
  if (!isRecord(filter)) throw new StoreInputError('filter', 'must be an object');
  const out: FilterCondition[] = [];
  for (const [name, spec] of Object.entries(filter)) {
    const path = fieldPath(name, `filter.${name}`);
    if (path.length === 0) throw new StoreInputError(`filter.${name}`, 'filters apply to fields of the value, not "$"');
    if (!isOperatorObject(spec)) {
      out.push({ path, op: '$eq', value: spec });
      continue;
    }
    for (const [op, value] of Object.entries(spec)) out.push(condition(path, op, value, `filter.${name}.${op}`));
  }
  return out;
}

function isOperatorObject(v: unknown): v is Record<string, unknown> {
  return isRecord(v) && Object.keys(v).some((k) => k.startsWith('$'));
}

function condition(path: string[], op: string, value: unknown, field: string): FilterCondition {
  if (!(OPERATORS as readonly string[]).includes(op))
    throw new StoreInputError(field, `unknown filter operator; use one of ${OPERATORS.join(', ')}`);
  const known = op as FilterOp;
  if (RANGE.includes(known) && typeof value !== 'number' && typeof value !== 'string')
    throw new StoreInputError(field, `${op} compares numbers or strings`);
  return { path, op: known, value };
}

// ---------------------------------------------------------------- texts to embed

/** The text of each indexed field that the value has; `$` is the whole value as JSON. Blank texts are skipped. */
export function textsToEmbed(value: Record<string, unknown>, fields: string[]): { field: string; text: string }[] {
  const out: { field: string; text: string }[] = [];
  for (const field of fields) {
    const v = at(value, fieldPath(field, 'index'));
    if (v === undefined || v === null) continue;
    const text = typeof v === 'string' ? v : JSON.stringify(v);
    if (text.trim()) out.push({ field, text });
  }
  return out;
}

function at(value: unknown, path: string[]): unknown {
  let cur = value;
  for (const seg of path) {
    if (Array.isArray(cur) && /^\d+$/.test(seg)) cur = cur[Number(seg)];
    // Own keys only: a path like `constructor` must not reach into Object.prototype.
    else if (isRecord(cur) && Object.hasOwn(cur, seg)) cur = cur[seg];
    else return undefined;
  }
  return cur;
}
