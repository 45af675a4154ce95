import { describe, expect, it } from 'vitest';
import { uuid7 } from '../../api/ids.js';
import { taskIdFor } from '../../activities/ids.js';
import { uuid7From } from '../../core/ids.js';

// UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, version 7, variant 10, then randomness. Ids sort by creation
// time, which list endpoints and LangGraph clients rely on.

const shape = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const millis = (id: string) => parseInt(id.replace(/-/g, '').slice(0, 12), 16);

describe('uuid7From', () => {
  it('puts the milliseconds first and the version and variant bits where RFC 9562 has them', () => {
    const ms = Date.UTC(2025, 0, 2, 3, 4, 5, 678);
    const id = uuid7From(ms, 'ffffffff-ffff-ffff-ffff-ffffffffffff');
    expect(id).toMatch(shape);
    expect(millis(id)).toBe(ms);
    expect(id.endsWith('-ffffffffffff')).toBe(true);
  });

  it('sets the version and variant whatever the random bytes are', () => {
    for (const nibble of '0123456789abcdef') {
      const random = `${nibble.repeat(8)}-${nibble.repeat(4)}-4${nibble.repeat(3)}-a${nibble.repeat(3)}-${nibble.repeat(12)}`;
      expect(uuid7From(0, random)).toMatch(shape);
    }
  });

  it('is a function of its inputs, so workflow code can derive ids deterministically', () => {
    const random = '01234567-89ab-4def-8123-456789abcdef';
    expect(uuid7From(1234, random)).toBe(uuid7From(1234, random));
    expect(uuid7From(1234, random)).not.toBe(uuid7From(1235, random));
  });

  it('sorts by time as strings do', () => {
    const random = 'ffffffff-ffff-ffff-ffff-ffffffffffff';
    const times = [0, 1, 255, 256, 1_700_000_000_000, 1_700_000_000_001, 2 ** 47];
    const ids = times.map((t) => uuid7From(t, random));
    expect([...ids].sort()).toEqual(ids);
  });
});

describe('uuid7', () => {
  it('stamps the current time and differs on every call', () => {
    const before = Date.now();
    const made = Array.from({ length: 100 }, () => uuid7());
    const after = Date.now();
    for (const id of made) {
      expect(id).toMatch(shape);
      expect(millis(id)).toBeGreaterThanOrEqual(before);
      expect(millis(id)).toBeLessThanOrEqual(after);
    }
    expect(new Set(made).size).toBe(made.length);
  });
});

describe('taskIdFor', () => {
  it('is a UUIDv5 of the checkpoint, node and key: the same task always gets the same id, others another', () => {
    const checkpoint = '01a22199-0000-7000-8000-000000000000';
    const id = taskIdFor(checkpoint, 'tools', 'call_1');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(taskIdFor(checkpoint, 'tools', 'call_1')).toBe(id);
    expect(new Set([id, taskIdFor(checkpoint, 'tools', 'call_2'), taskIdFor(checkpoint, 'agent', 0)]).size).toBe(3);
  });
});

describe('uuid7 made in one millisecond', () => {
  it('sorts in the order the ids were made', () => {
    const made = Array.from({ length: 1000 }, () => uuid7());
    expect([...made].sort()).toEqual(made);
  });
});
