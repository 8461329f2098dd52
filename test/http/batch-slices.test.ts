// A large native batch is bounded by characters as well as by count, and is screened in time
// slices: while the largest batch of hostile bodies is being screened, /healthz still answers
// within 50 ms over real HTTP (it once waited 33 s behind such a batch).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startFixture, type Fixture } from './helpers.js';
import { MAX_BATCH_CHARS } from '../../src/http/native/routes.js';
import { inSlices } from '../../src/http/native/batch.js';
import { ADVERSARIAL } from '../../bench/adversarial.js';

let fx: Fixture;
before(async () => {
  fx = await startFixture();
});
after(async () => fx.gw.close());

const BODY_MAX = 10_000;
/** The largest batch the limits allow, of the costliest bodies, every family in turn. */
function worstBatch(count: number): Array<{ body: string }> {
  return Array.from({ length: count }, (_, i) => ({ body: ADVERSARIAL[i % ADVERSARIAL.length].make(BODY_MAX) }));
}
const post = (payload: unknown) =>
  fetch(`${fx.gw.url}/v1/screen`, {
    method: 'POST',
    headers: { authorization: fx.demoAuth, 'content-type': 'application/json' },
    body: JSON.stringify(payload),
  });

/**
 * Sends the largest batch of hostile bodies and probes /healthz one request after another for as
 * long as it runs. Each probe's wait is the CPU time this process (the gateway and this client)
 * spent between sending it and reading the answer: the work that stood in front of it. Wall time
 * on a shared machine also counts other processes holding the CPU, which no gateway can help; it
 * is reported alongside.
 */
async function probeDuringBatch(): Promise<{ slowest: number; probes: number; summary: string }> {
  const messages = worstBatch(MAX_BATCH_CHARS / BODY_MAX);
  const waits: Array<{ cpu: number; wall: number }> = [];
  let done = false;
  const t0 = performance.now();
  const batch = post({ messages }).then(async (r) => {
    const body = (await r.json()) as { decisions: unknown[] };
    done = true;
    return { status: r.status, body, elapsed: performance.now() - t0 };
  });
  while (!done) {
    const c = process.cpuUsage();
    const s = performance.now();
    const h = await fetch(`${fx.gw.url}/healthz`);
    await h.arrayBuffer();
    const used = process.cpuUsage(c);
    if (!done) waits.push({ cpu: (used.user + used.system) / 1000, wall: performance.now() - s });
    assert.equal(h.status, 200);
  }
  const result = await batch;
  assert.equal(result.status, 200);
  assert.equal(result.body.decisions.length, messages.length);
  const cpu = waits.map((w) => w.cpu).sort((a, b) => a - b);
  const wall = waits.map((w) => w.wall).sort((a, b) => a - b);
  const summary =
    `${waits.length} probes during a batch of ${result.elapsed.toFixed(0)} ms; wait (CPU) median ${cpu[cpu.length >> 1]?.toFixed(1)} ms, ` +
    `slowest ${cpu[cpu.length - 1]?.toFixed(1)} ms; wall median ${wall[wall.length >> 1]?.toFixed(1)} ms, slowest ${wall[wall.length - 1]?.toFixed(1)} ms`;
  return { slowest: cpu[cpu.length - 1] ?? Infinity, probes: waits.length, summary };
}

describe('native batches', () => {
  it('refuses a batch with more characters than the limit with a 413 that says so', async () => {
    const r = await post({ messages: worstBatch(MAX_BATCH_CHARS / BODY_MAX + 1) });
    assert.equal(r.status, 413);
    const body = (await r.json()) as { error: string };
    assert.match(body.error, /1,010,000 characters.*limit is 1,000,000/);
    // Media URLs count too.
    const media = await post({
      messages: [
        ...worstBatch(MAX_BATCH_CHARS / BODY_MAX - 1),
        { body: 'see', mediaUrls: [`https://example.com/${'x'.repeat(BODY_MAX)}`] },
      ],
    });
    assert.equal(media.status, 413);
  });

  it('answers /healthz within 50 ms while the largest batch of hostile bodies is screened', async () => {
    // A node in service has run this code before: warm it up on one body of each family, so the
    // measurement is of screening, not of the first compilation of each code path.
    for (let round = 0; round < 3; round++) assert.equal((await post({ messages: worstBatch(ADVERSARIAL.length) })).status, 200);
    // Up to three attempts, and the best must pass: other processes on a shared machine only ever
    // add to a wait (cache misses, parallel GC threads counted in this process's CPU time), while a
    // gateway that screens a batch in one piece fails every attempt by the length of the batch.
    const summaries: string[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const { slowest, probes, summary } = await probeDuringBatch();
      summaries.push(summary);
      // The batch must have kept the node busy long enough for the probes to mean something.
      assert.ok(probes >= 5, summary);
      if (slowest <= 50) break;
      assert.ok(attempt < 2, `/healthz waited more than 50 ms in every attempt:\n${summaries.join('\n')}`);
    }
    if (process.env.WARDEN_TEST_VERBOSE) console.log(summaries.join('\n'));
  });
});

describe('inSlices', () => {
  it('keeps order and lets waiting callbacks run between slices', async () => {
    const ran: string[] = [];
    setImmediate(() => ran.push('other'));
    const spin = (ms: number) => {
      const end = performance.now() + ms;
      while (performance.now() < end);
    };
    const out = await inSlices(
      [1, 2, 3, 4],
      (x) => {
        spin(3);
        ran.push(`item ${x}`);
        return x * 2;
      },
      5,
    );
    assert.deepEqual(out, [2, 4, 6, 8]);
    assert.deepEqual(
      ran.filter((r) => r !== 'other'),
      ['item 1', 'item 2', 'item 3', 'item 4'],
    );
    // An item always runs first; two items of 3 ms fill a 5 ms slice (one, on a busy machine), and
    // then the callback waiting since before the batch runs.
    const other = ran.indexOf('other');
    assert.ok(other === 1 || other === 2, ran.join(', '));
  });
});
