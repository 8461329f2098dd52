import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startRetentionJob } from '../../src/store/retention.js';
import type { Stores } from '../../src/store/types.js';

/** Stores that count retention passes (one listCustomers call per pass) and hold no customers. */
function countingStores(): { stores: Pick<Stores, 'tenancy' | 'decisions' | 'review'>; passes: () => number } {
  let n = 0;
  const stores = {
    tenancy: {
      listCustomers: async () => {
        n++;
        return [];
      },
    },
    decisions: {},
    review: {},
  } as unknown as Pick<Stores, 'tenancy' | 'decisions' | 'review'>;
  return { stores, passes: () => n };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('retention job', () => {
  it('alone: runs at once, then every interval', async () => {
    const c = countingStores();
    const stop = startRetentionJob(c.stores, 30, () => undefined);
    assert.equal(c.passes(), 1);
    await sleep(100);
    stop();
    const seen = c.passes();
    assert.ok(seen >= 2, `${seen} passes in 100 ms at 30 ms`);
    await sleep(70);
    assert.equal(c.passes(), seen, 'stopped');
  });

  it('shared by N workers: each runs every N intervals from a random start, not all at once', async () => {
    const c = countingStores();
    const stop = startRetentionJob(c.stores, 30, () => undefined, { of: 4 });
    assert.equal(c.passes(), 0, 'no pass at start: N workers starting together would all purge at once');
    await sleep(300);
    stop();
    const seen = c.passes();
    // First pass within 120 ms, then one per 120 ms: 2 or 3 passes in 300 ms (7 or more if unshared).
    assert.ok(seen >= 1 && seen <= 3, `${seen} passes in 300 ms`);
    await sleep(150);
    assert.equal(c.passes(), seen, 'stopped');
  });
});
