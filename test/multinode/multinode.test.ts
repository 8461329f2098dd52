// Two `warden serve` processes on different ports sharing one PostgreSQL and one Redis:
// an opt-out received on A blocks a send on B; a suspension on A refuses traffic on B within 1 s;
// a shared limit of N per minute admits N across both nodes together.
// The nodes poll only every 5 s here, so propagation within 1 s is the change channel's doing.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { HOW_TO, dropSchema, isolatedConfig, testServices } from '../store/services.js';
import { enforce, optOut, screenOn, startNode, stopNode, tempDataDir, twilioSend, type Node } from './harness.js';

const services = await testServices();
const LIMIT = 200;

async function within(ms: number, check: () => Promise<boolean>): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (await check()) return Date.now() - t0;
    if (Date.now() - t0 > ms) return Infinity;
    await new Promise((r) => setTimeout(r, 10));
  }
}

if (services === null) {
  describe('multi-node (two warden serve, PostgreSQL + Redis)', () => {
    it('needs PostgreSQL and Redis', { skip: HOW_TO }, () => undefined);
  });
} else {
  const svc = services;
  describe('multi-node (two warden serve, PostgreSQL + Redis)', () => {
    const config = isolatedConfig(svc, 'multinode');
    const env = {
      WARDEN_DATABASE_URL: svc.databaseUrl, WARDEN_REDIS_URL: svc.redisUrl,
      WARDEN_DATABASE_SCHEMA: config.databaseSchema, WARDEN_REDIS_PREFIX: config.redisPrefix,
      WARDEN_SEND_LIMIT: `${LIMIT}/1m`, WARDEN_POLL_INTERVAL_MS: '5000',
    };
    let a: Node;
    let b: Node;
    before(async () => {
      a = await startNode({ ...env, WARDEN_DATA_DIR: tempDataDir('node-a') });
      b = await startNode({ ...env, WARDEN_DATA_DIR: tempDataDir('node-b') });
    });
    after(async () => {
      await Promise.all([a && stopNode(a), b && stopNode(b)]);
      await dropSchema(svc, config.databaseSchema);
    });

    it('an opt-out received on node A blocks a send on node B', async (t) => {
      const to = '+15553330001';
      assert.equal((await screenOn(b, to)).json.action, 'allow', 'allowed before the opt-out');
      assert.equal((await optOut(a, to)).status, 201);
      const took = await within(1000, async () => (await screenOn(b, to)).json.action === 'block');
      assert.ok(took < 1000, `node B blocked the send after ${took} ms`);
      t.diagnostic(`opt-out on A blocked on B after ${took} ms`);
      const d = (await screenOn(b, to)).json as { reasons: Array<{ rule: string }> };
      assert.ok(d.reasons.some((r) => r.rule === 'state.opted-out'));
      assert.notEqual(await twilioSend(b, to), 201, 'the Twilio-compatible send on B is refused too');
    });

    it('a suspension on node A refuses traffic on node B within 1 s, and a reinstatement lifts it', async (t) => {
      const to = '+15553330002';
      assert.equal((await enforce(a, 'suspend', 'multi-node test')).status, 201);
      const took = await within(1000, async () => {
        const d = (await screenOn(b, to)).json as { action: string; reasons: Array<{ rule: string }> };
        return d.action === 'block' && d.reasons.some((r) => r.rule === 'state.suspended');
      });
      assert.ok(took < 1000, `node B refused traffic ${took} ms after the suspension on A`);
      t.diagnostic(`suspension on A refused on B after ${took} ms`);
      assert.equal((await enforce(b, 'reinstate', 'appeal upheld')).status, 201);
      const back = await within(1000, async () => (await screenOn(a, to)).json.action === 'allow');
      assert.ok(back < 1000, `node A allowed traffic ${back} ms after the reinstatement on B`);
    });

    it(`a shared limit of ${LIMIT} per minute admits ${LIMIT} (within 5%) across both nodes`, async (t) => {
      const total = LIMIT * 2;
      const statuses: number[] = [];
      let next = 0;
      await Promise.all(Array.from({ length: 16 }, async () => {
        while (next < total) {
          const i = next++;
          statuses.push(await twilioSend(i % 2 === 0 ? a : b, `+1555444${String(i).padStart(4, '0')}`));
        }
      }));
      const admitted = statuses.filter((s) => s === 201).length;
      const refused = statuses.filter((s) => s === 429).length;
      assert.equal(admitted + refused, total, `unexpected statuses: ${[...new Set(statuses)].join(', ')}`);
      t.diagnostic(`shared limit ${LIMIT}/min: admitted ${admitted} of ${total} sends spread over two nodes`);
      assert.ok(Math.abs(admitted - LIMIT) <= LIMIT * 0.05, `admitted ${admitted} of ${total} against a shared limit of ${LIMIT}`);
    });
  });
}
