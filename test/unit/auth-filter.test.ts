import { describe, expect, it } from 'vitest';
import { filterToContainment, matchesFilter, type AuthFilter } from '../../core/auth/filter.js';
import { builtinDecision } from '../../core/auth/roles.js';

// The reference's filter-matching cases (§1.8, `auth filter matching`), and the built-in owner rule.

describe('matchesFilter', () => {
  it.each([
    ['undefined filters match', undefined, { a: 'foo' }, true],
    ['empty metadata fails a key', { a: 'foo' }, {}, false],
    ['empty filters match', {}, { a: 'foo' }, true],
    ['exact match', { a: 'foo' }, { a: 'foo' }, true],
    ['exact mismatch', { a: 'foo' }, { a: 'bar' }, false],
    ['$eq match', { a: { $eq: 'foo' } }, { a: 'foo' }, true],
    ['$eq mismatch', { a: { $eq: 'foo' } }, { a: 'bar' }, false],
    ['$contains string in array', { a: { $contains: 'x' } }, { a: ['x', 'y'] }, true],
    ['$contains string not in array', { a: { $contains: 'z' } }, { a: ['x', 'y'] }, false],
    ['$contains on a non-array', { a: { $contains: 'x' } }, { a: 'x' }, false],
    ['$contains array all present', { a: { $contains: ['x', 'y'] } }, { a: ['y', 'x', 'z'] }, true],
    ['$contains array not all present', { a: { $contains: ['x', 'q'] } }, { a: ['x', 'y'] }, false],
    ['several keys all hold', { a: 'foo', b: 'bar' }, { a: 'foo', b: 'bar', c: 1 }, true],
    ['several keys, one fails', { a: 'foo', b: 'bar' }, { a: 'foo', b: 'baz' }, false],
    ['missing key', { a: 'foo' }, { b: 'foo' }, false],
  ] as [string, AuthFilter | undefined, Record<string, unknown>, boolean][])('%s', (_name, filter, metadata, expected) => {
    expect(matchesFilter(filter, metadata)).toBe(expected);
  });

  it('becomes jsonb containment for SQL', () => {
    expect(filterToContainment({ a: 'x', b: { $eq: 1 }, c: { $contains: 'y' }, d: { $contains: ['p', 'q'] } })).toEqual({
      a: 'x',
      b: 1,
      c: ['y'],
      d: ['p', 'q'],
    });
  });
});

describe('built-in authorization', () => {
  const event = (resource: string, action: string, permissions: string[] = [], value: Record<string, unknown> = {}) => ({
    resource,
    action,
    value,
    identity: 'u1',
    permissions,
  });

  it('tags what a user creates and filters the rest by owner', () => {
    const value: Record<string, unknown> = { metadata: { a: 1 } };
    expect(builtinDecision(event('threads', 'create', [], value))).toEqual({ allow: true });
    expect(value.metadata).toEqual({ a: 1, owner: 'u1' });
    expect(builtinDecision(event('threads', 'read'))).toEqual({ allow: true, filter: { owner: 'u1' } });
    expect(builtinDecision(event('crons', 'update'))).toEqual({ allow: true, filter: { owner: 'u1' } });
  });

  it('widens by role, and marks what the audit log records', () => {
    expect(builtinDecision(event('assistants', 'create'))).toEqual({ allow: false });
    expect(builtinDecision(event('assistants', 'read'))).toEqual({ allow: true });
    expect(builtinDecision(event('assistants', 'update', ['assistants:write']))).toEqual({ allow: true, audit: true });
    expect(builtinDecision(event('threads', 'read', ['threads:read:any']))).toEqual({ allow: true, audit: { owner: 'u1' } });
    expect(builtinDecision(event('threads', 'update', ['threads:read:any']))).toEqual({ allow: true, filter: { owner: 'u1' } });
    expect(builtinDecision(event('crons', 'delete', ['policies:write']))).toEqual({ allow: true, audit: { owner: 'u1' } });
    expect(builtinDecision(event('threads', 'delete', ['admin']))).toEqual({ allow: true, audit: { owner: 'u1' } });
  });

  it('keeps store namespaces under the user', () => {
    expect(builtinDecision(event('store', 'put', [], { namespace: ['u2', 'x'] }))).toEqual({ allow: false });
    expect(builtinDecision(event('store', 'put', [], { namespace: ['u1', 'x'] }))).toEqual({ allow: true });
    const search = { namespace: [] as string[] };
    expect(builtinDecision(event('store', 'search', [], search))).toEqual({ allow: true });
    expect(search.namespace).toEqual(['u1']);
  });
});
