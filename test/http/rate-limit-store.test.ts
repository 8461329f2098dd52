// The shared per-client HTTP rate limit: two stores over one set of in-process Counters stand for
// two gateway processes. Small limits are exact; large ones are reported in batches and overshoot
// by at most about a batch per process, while the Counters see a fraction of the requests.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countersRateLimitStore, EXACT_BELOW } from '../../src/http/rate-limit-store.js';
import { MemoryCounters } from '../../src/store/memory/memory-counters.js';
import type { Counters } from '../../src/store/types.js';
import { WorkerIpc } from '../../src/cluster/ipc.js';

type Res = { current: number; ttl: number };

function incr(
  store: { incr(key: string, cb: (err: Error | null, res?: Res) => void, timeWindow: number, max: number): void },
  key: string,
  max: number,
): Promise<Res> {
  return new Promise((resolve, reject) => store.incr(key, (err, res) => (err ? reject(err) : resolve(res!)), 60_000, max));
}

/** Counters that count the calls made to them. */
function counted(inner: Counters): { counters: Counters; calls: () => number } {
  let n = 0;
  return {
    counters: {
      take: (...a) => {
        n++;
        return inner.take(...a);
      },
      takeMany: (...a) => {
        n++;
        return inner.takeMany(...a);
      },
    },
    calls: () => n,
  };
}

test(`a limit under ${EXACT_BELOW} per window is exact across processes`, async () => {
  const shared = new MemoryCounters();
  const a = countersRateLimitStore(shared),
    b = countersRateLimitStore(shared);
  const sa = new a.Store(),
    sb = new b.Store();
  const admitted: string[] = [];
  for (let i = 0; i < 30; i++) {
    const r = await incr(i % 2 === 0 ? sa : sb, 'cred:x', 20);
    if (r.current <= 20) admitted.push(i % 2 === 0 ? 'a' : 'b');
  }
  assert.equal(admitted.length, 20);
  assert.ok(admitted.includes('a') && admitted.includes('b'));
  assert.ok((await incr(sb, 'cred:other', 20)).current <= 20, 'another client is counted on its own');
  a.close();
  b.close();
});

test('a large limit is reported in batches: about the limit admitted across processes, a fraction of the calls', async (t) => {
  const max = 10_000;
  const c = counted(new MemoryCounters());
  const a = countersRateLimitStore(c.counters, { reportEveryMs: 5 }),
    b = countersRateLimitStore(c.counters, { reportEveryMs: 5 });
  const sa = new a.Store(),
    sb = new b.Store();
  let admitted = 0;
  for (let i = 0; i < 2 * max; i++) {
    const r = await incr(i % 2 === 0 ? sa : sb, 'cred:y', max);
    if (r.current <= max) admitted++;
    if (i % 500 === 0) await new Promise((res) => setTimeout(res, 6)); // let reports come back, as they would between requests
  }
  const batch = Math.floor(max / 1000);
  t.diagnostic(`admitted ${admitted} of ${2 * max} against ${max}; ${c.calls()} Counters calls`);
  assert.ok(admitted >= max && admitted <= max + 4 * batch + 100, `admitted ${admitted} against a limit of ${max}`);
  assert.ok(c.calls() < (2 * max) / 5, `${c.calls()} Counters calls for ${2 * max} requests`);
  // Refused requests say when to come back.
  const refused = await incr(sa, 'cred:y', max);
  assert.ok(refused.current > max && refused.ttl > 0 && refused.ttl <= 60_000);
  a.close();
  b.close();
});

test('many clients at once: the oldest are reported and dropped, so memory stays bounded and no count is lost', async () => {
  const inner = new MemoryCounters();
  const c = counted(inner);
  const s = countersRateLimitStore(c.counters, { maxClients: 10, reportEveryMs: 60_000 });
  const store = new s.Store();
  for (let i = 0; i < 15; i++) await incr(store, `ip:10.0.0.${i}`, 5000);
  assert.equal(c.calls(), 5, 'the five oldest clients were reported when evicted');
  await new Promise((res) => setTimeout(res, 0));
  // Their one request each reached the shared count.
  assert.equal((await inner.take('http:ip:10.0.0.0', 5000, 60_000, Date.now())).remaining, 5000 - 2);
  s.close();
});

test('counters that cannot answer (a worker cut off from the primary) do not turn the flood limit into refusals', async () => {
  const cutOff = new WorkerIpc({ connected: false, send: () => false, on: () => undefined, off: () => undefined });
  const s = countersRateLimitStore(cutOff.counters, { reportEveryMs: 1 });
  const store = new s.Store();
  assert.ok((await incr(store, 'cred:exact', 10)).current <= 10, 'exact mode admits');
  for (let i = 0; i < 50; i++) assert.ok((await incr(store, 'cred:batched', 5000)).current <= 5000, 'batched mode admits');
  await new Promise((res) => setTimeout(res, 10)); // failed reports come back
  assert.ok((await incr(store, 'cred:batched', 5000)).current <= 5000, 'and keeps admitting after the failed reports');
  s.close();
  await cutOff.close();
});
