// Screening is linear in the body's length: for every adversarial family (bench/adversarial.ts),
// a body ten times longer costs at most about twelve times as much through screen() with the
// default pack and its classifier. A stage that is quadratic in some shape of input (host-suffix
// lists over thousands of labels, a regex restarted from every quote, prefix look-ups of a long
// word) costs ~100 times as much at ten times the length and fails here.
//
// Timing on a shared machine: each sample screens a few bodies (fresh letters each time, so no
// cache answers for a repeated body) and is read as the smaller of its CPU time and wall time;
// the minimum over samples is kept, since other processes only ever add to a sample.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { screen } from '../../src/core/screen.js';
import { loadPack } from '../../src/policy/load-pack.js';
import type { Message } from '../../src/core/types.js';
import { ADVERSARIAL, ORDINARY_SMS, type AdversarialFamily } from '../../bench/adversarial.js';
import { msg } from '../helpers.js';

const { policy } = loadPack();
const N = 1_000;
const RATIO = 12;
/** Fixed costs (a decision, the classifier's heads) that a longer body does not multiply. */
const SLACK_MS = 0.5;

let variant = 1;
function cost(make: (n: number, v: number) => string, n: number, samples: number): number {
  let best = Infinity;
  for (let s = 0; s < samples; s++) {
    const batch: Message[] = [msg(make(n, variant++)), msg(make(n, variant++)), msg(make(n, variant++))];
    const c = process.cpuUsage();
    const t = process.hrtime.bigint();
    for (const m of batch) screen(m, { policy });
    const wall = Number(process.hrtime.bigint() - t) / 1e6;
    const used = process.cpuUsage(c);
    best = Math.min(best, Math.min(wall, (used.user + used.system) / 1000) / batch.length);
  }
  return best;
}

for (let i = 0; i < 2000; i++) screen(msg(ORDINARY_SMS), { policy }); // the ordinary paths warm

for (const family of ADVERSARIAL) {
  test(`${family.name} (${family.stage}): ten times the length costs at most ${RATIO} times as much`, () => {
    const make = (n: number, v: number) => (family as AdversarialFamily).make(n, v);
    // Warm the family's own paths at both lengths before timing.
    cost(make, N, 3);
    cost(make, 10 * N, 3);
    const short = cost(make, N, 9);
    const long = cost(make, 10 * N, 9);
    assert.ok(
      long <= RATIO * short + SLACK_MS,
      `${N} chars ${short.toFixed(3)} ms, ${10 * N} chars ${long.toFixed(3)} ms: ${(long / short).toFixed(1)} times`,
    );
  });
}
