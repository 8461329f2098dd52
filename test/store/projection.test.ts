// The in-memory projections on their own: the opt-out table and failing closed.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OptOutTable } from '../../src/state/opt-out-table.js';
import { StateProjection } from '../../src/state/projection.js';
import { MemoryChangeChannel } from '../../src/store/memory/memory-counters.js';
import type { ConsentEvent, EnforcementEvent } from '../../src/store/types.js';

describe('opt-out table', () => {
  it('grows, keeps every key, and lets the highest seq win whatever the arrival order', () => {
    const t = new OptOutTable(16);
    for (let i = 0; i < 50_000; i++) t.apply(`c${i % 7}`, `+1555${i}`, true, i + 1);
    assert.equal(t.size, 50_000);
    assert.ok(t.capacity >= 50_000 / 0.75);
    for (let i = 0; i < 50_000; i += 997) assert.equal(t.has(`c${i % 7}`, `+1555${i}`), true);
    assert.equal(t.has('c0', '+15550000000000'), false);
    assert.equal(t.has('c1', '+15550'), false, 'same number, other customer');
    t.apply('x', '+1', false, 10); // opt-in at seq 10
    t.apply('x', '+1', true, 5); // a late, older opt-out changes nothing
    assert.equal(t.has('x', '+1'), false);
    t.apply('x', '+1', true, 11);
    assert.equal(t.has('x', '+1'), true);
    t.apply('x', '+1', true, 11); // applied twice: harmless
    assert.equal(t.optedOut, 50_001);
  });

  it('orders by instant before seq: an older event with a higher seq changes nothing, also after growing', () => {
    const t = new OptOutTable(16);
    t.apply('x', '+1', true, 1, 2_000); // STOP sent at 2000 s
    t.apply('x', '+1', false, 2, 1_000); // a START sent at 1000 s, recorded later
    assert.equal(t.has('x', '+1'), true);
    t.apply('x', '+1', false, 3, 2_000); // same second: the later seq wins
    assert.equal(t.has('x', '+1'), false);
    t.apply('x', '+1', true, 2, 2_000); // same second, lower seq: no change
    assert.equal(t.has('x', '+1'), false);
    for (let i = 0; i < 5_000; i++) t.apply('g', `+1${i}`, true, i + 10, 3_000);
    t.apply('x', '+1', true, 9, 1_500); // the instant survived the table growing
    assert.equal(t.has('x', '+1'), false);
    assert.equal(t.optedOut, 5_000);
  });
});

describe('state projection fails closed', () => {
  const ev = (seq: number): ConsentEvent => ({
    seq,
    customer: 'c',
    recipient: '+1',
    kind: 'opt-out',
    source: 'api',
    at: '2026-01-01T00:00:00.000Z',
  });

  it('refuses while loading and when the stores cannot be read, recovers when they can', async () => {
    let broken = false;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const src = {
      changes: new MemoryChangeChannel(),
      consent: {
        append: async () => {
          throw new Error('unused');
        },
        history: async () => [],
        since: async (after: number) => {
          await gate;
          if (broken) throw new Error('database unreachable');
          return after === 0 ? [ev(1)] : [];
        },
      },
      enforcement: {
        append: async () => {
          throw new Error('unused');
        },
        history: async () => [],
        since: async (): Promise<EnforcementEvent[]> => [],
      },
    };
    const p = new StateProjection(src, { pollIntervalMs: 10, maxStalenessMs: 60, log: () => undefined });
    assert.notEqual(p.snapshot().suspension?.('other', undefined), null, 'not loaded yet: every sender reads as suspended');
    assert.equal(p.snapshot().optedOut?.('other', '+2'), true);
    release();
    await p.ready;
    assert.equal(p.snapshot().suspension?.('other', undefined), null);
    assert.equal(p.snapshot().optedOut?.('other', '+2'), false);
    assert.equal(p.snapshot().optedOut?.('c', '+1'), true);
    broken = true;
    await new Promise((r) => setTimeout(r, 150));
    assert.match(p.snapshot().suspension?.('other', undefined)?.detail ?? '', /failing closed/);
    broken = false;
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(p.snapshot().suspension?.('other', undefined), null, 'recovered');
    await p.close();
  });
});
