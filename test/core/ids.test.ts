import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomHexId, uuidv7, uuidv7Time } from '../../src/core/ids.js';

const UUIDV7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('uuidv7: RFC 9562 layout, the timestamp it was given, unique', () => {
  const now = Date.UTC(2026, 10, 27, 9, 30);
  const id = uuidv7(now);
  assert.match(id, UUIDV7);
  assert.equal(uuidv7Time(id), now);
  const many = new Set(Array.from({ length: 50_000 }, () => uuidv7()));
  assert.equal(many.size, 50_000);
  assert.equal(uuidv7Time('6d5f56e7-10b2-4a48-bdb0-b40a9ffbcca1'), null, 'a v4 UUID has no timestamp');
});

test('uuidv7: IDs sort in the order they were minted, also within one millisecond and when the clock steps back', () => {
  const t = Date.UTC(2030, 0, 1);
  const ids = [
    ...Array.from({ length: 5_000 }, () => uuidv7(t)), // more than the 12-bit counter holds from its start
    ...Array.from({ length: 10 }, () => uuidv7(t - 5)), // clock stepped back
    ...Array.from({ length: 10 }, () => uuidv7(t + 10)),
  ];
  for (const id of ids) assert.match(id, UUIDV7);
  const sorted = [...ids].sort();
  assert.deepEqual(sorted, ids);
});

test('randomHexId: prefix and 32 hex digits, no repeats across pool refills', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const sid = randomHexId('SM');
    assert.match(sid, /^SM[0-9a-f]{32}$/);
    seen.add(sid);
  }
  assert.equal(seen.size, 2000);
});
