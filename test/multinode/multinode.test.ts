// Two `warden serve` processes on different ports sharing one PostgreSQL and one Redis:
// an opt-out received on A blocks a send on B; a suspension on A refuses traffic on B within 1 s;
// a message held for review on A is listed and released on B, and a double release racing on
// both nodes forwards once; a shared limit of N per minute admits N across both nodes together,
// and so does the per-client HTTP rate limit (two more nodes configured with a low one).
// The nodes poll only every 5 s here, so propagation within 1 s is the change channel's doing.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { HOW_TO, dropSchema, isolatedConfig, testServices } from '../store/services.js';
import {
  ADMIN_TOKEN,
  DEMO_AUTH,
  DEMO_SENDER,
  DEMO_SID,
  enforce,
  optOut,
  post,
  screenOn,
  startNode,
  stopNode,
  tempDataDir,
  twilioSend,
  type Node,
} from './harness.js';

const services = await testServices();
const LIMIT = 200;
const SINK_TOKEN = 'multinode-sink-token';

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
      WARDEN_DATABASE_URL: svc.databaseUrl,
      WARDEN_REDIS_URL: svc.redisUrl,
      WARDEN_DATABASE_SCHEMA: config.databaseSchema,
      WARDEN_REDIS_PREFIX: config.redisPrefix,
      WARDEN_SEND_LIMIT: `${LIMIT}/1m`,
      WARDEN_POLL_INTERVAL_MS: '5000',
      WARDEN_SINK_TOKEN: SINK_TOKEN,
      // The demo customer's upstream is node A's sink on loopback (node B reaches it as any other
      // address, which the egress policy refuses unless allowed), as is the test's callback receiver.
      WARDEN_EGRESS_ALLOW: '127.0.0.1/32',
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

    it('a message held on node A is listed and released on node B; a double release on both nodes forwards once', async () => {
      const callbacks: Array<Record<string, string>> = [];
      const server: Server = createServer((req, res) => {
        let body = '';
        req.on('data', (c) => {
          body += c;
        });
        req.on('end', () => {
          callbacks.push(Object.fromEntries(new URLSearchParams(body)));
          res.end('ok');
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      const addr = server.address();
      const cbUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/status`;
      const admin = `Bearer ${ADMIN_TOKEN}`;
      // A body the default pack holds for review (examples/sample-messages.jsonl).
      const hold = async (n: Node, to: string) => {
        const r = await fetch(`${n.url}/2010-04-01/Accounts/${DEMO_SID}/Messages.json`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: DEMO_AUTH },
          body: new URLSearchParams({
            To: to,
            From: DEMO_SENDER,
            Body: "I know where you live. I'll f.i.n.d you and hurt you",
            StatusCallback: cbUrl,
          }).toString(),
        });
        const json = (await r.json()) as { sid: string; status: string };
        assert.deepEqual([r.status, json.status], [201, 'accepted']);
        return json.sid;
      };
      const listed = async (n: Node) =>
        (
          (await (await fetch(`${n.url}/v1/review`, { headers: { authorization: admin } })).json()) as { held: Array<{ sid: string }> }
        ).held.map((h) => h.sid);
      // The demo customer's upstream is node A's sink: count what reached it.
      const forwarded = async (to: string) => {
        const r = await fetch(`${a.url}/sink/2010-04-01/Accounts/${DEMO_SID}/Messages.json`, {
          headers: { authorization: 'Basic ' + Buffer.from(`${DEMO_SID}:${SINK_TOKEN}`).toString('base64') },
        });
        return ((await r.json()) as { messages: Array<{ to: string }> }).messages.filter((m) => m.to === to).length;
      };
      try {
        const sid = await hold(a, '+15556660001');
        assert.ok((await listed(b)).includes(sid), 'node B lists what node A held');
        const got = await fetch(`${b.url}/2010-04-01/Accounts/${DEMO_SID}/Messages/${sid}.json`, { headers: { authorization: DEMO_AUTH } });
        assert.equal(((await got.json()) as { status: string }).status, 'accepted', 'node B serves the held resource');
        const rel = await post(`${b.url}/v1/review/${sid}`, { action: 'release' }, admin);
        assert.deepEqual([rel.status, rel.json.status], [200, 'queued']);
        assert.equal(await forwarded('+15556660001'), 1);
        assert.equal(callbacks.filter((c) => c.MessageSid === sid && c.MessageStatus === 'queued').length, 1, 'the app heard once');
        assert.equal((await listed(a)).includes(sid), false, "settled on B, gone from A's list");

        const raced = await hold(b, '+15556660002');
        const results = await Promise.all([a, b, a, b].map((n) => post(`${n.url}/v1/review/${raced}`, { action: 'release' }, admin)));
        assert.deepEqual(results.map((r) => r.status).sort(), [200, 409, 409, 409], 'one release wins across both nodes');
        assert.equal(await forwarded('+15556660002'), 1, 'forwarded exactly once');
        // The provider's own later statuses (sent, delivered) are relayed under the same SID too.
        assert.equal(callbacks.filter((c) => c.MessageSid === raced && c.MessageStatus === 'queued').length, 1, 'one release callback');
      } finally {
        await new Promise<void>((r) => server.close(() => r()));
      }
    });

    it(`a shared limit of ${LIMIT} per minute admits ${LIMIT} (within 5%) across both nodes`, async (t) => {
      const total = LIMIT * 2;
      const statuses: number[] = [];
      let next = 0;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next < total) {
            const i = next++;
            statuses.push(await twilioSend(i % 2 === 0 ? a : b, `+1555444${String(i).padStart(4, '0')}`));
          }
        }),
      );
      const admitted = statuses.filter((s) => s === 201).length;
      const refused = statuses.filter((s) => s === 429).length;
      assert.equal(admitted + refused, total, `unexpected statuses: ${[...new Set(statuses)].join(', ')}`);
      t.diagnostic(`shared limit ${LIMIT}/min: admitted ${admitted} of ${total} sends spread over two nodes`);
      assert.ok(Math.abs(admitted - LIMIT) <= LIMIT * 0.05, `admitted ${admitted} of ${total} against a shared limit of ${LIMIT}`);
    });
  });

  describe('multi-node: the per-client HTTP rate limit counts across nodes (Redis)', () => {
    const HTTP_LIMIT = 40;
    const config = isolatedConfig(svc, 'httplimit');
    let a: Node;
    let b: Node;
    before(async () => {
      const env = {
        WARDEN_DATABASE_URL: svc.databaseUrl,
        WARDEN_REDIS_URL: svc.redisUrl,
        WARDEN_DATABASE_SCHEMA: config.databaseSchema,
        WARDEN_REDIS_PREFIX: config.redisPrefix,
        WARDEN_HTTP_RATE_LIMIT: `${HTTP_LIMIT}/1m`,
      };
      a = await startNode({ ...env, WARDEN_DATA_DIR: tempDataDir('http-a') });
      b = await startNode({ ...env, WARDEN_DATA_DIR: tempDataDir('http-b') });
    });
    after(async () => {
      await Promise.all([a && stopNode(a), b && stopNode(b)]);
      await dropSchema(svc, config.databaseSchema);
    });

    it(`a client limited to ${HTTP_LIMIT} requests a minute gets ${HTTP_LIMIT} from both nodes together, then 429 from either`, async () => {
      // A fresh credential: the nodes' start-up probes already spent some of the demo credential's count.
      const key = await post(`${a.url}/v1/admin/customers/demo/credentials`, { kind: 'api-key' }, `Bearer ${ADMIN_TOKEN}`);
      assert.equal(key.status, 201, JSON.stringify(key.json));
      const auth = 'Basic ' + Buffer.from(`${key.json.id as string}:${key.json.secret as string}`).toString('base64');
      const statuses: Array<[string, number]> = [];
      for (let i = 0; i < HTTP_LIMIT + 10; i++) {
        const node = i % 2 === 0 ? a : b;
        const r = await post(
          `${node.url}/v1/screen`,
          { channel: 'sms', from: DEMO_SENDER, to: `+1555447${String(i).padStart(4, '0')}`, body: 'Table for two at 7pm.' },
          auth,
        );
        statuses.push([node === a ? 'a' : 'b', r.status]);
      }
      const admitted = statuses.filter(([, s]) => s === 200);
      assert.equal(admitted.length, HTTP_LIMIT, `statuses ${statuses.map(([n, s]) => n + s).join(',')}`);
      assert.deepEqual(
        statuses.slice(HTTP_LIMIT).map(([, s]) => s),
        Array(10).fill(429),
        'refused by both nodes once the shared count is spent',
      );
      assert.equal(new Set(admitted.map(([n]) => n)).size, 2, 'both nodes admitted some');
      const refused = await fetch(`${b.url}/2010-04-01/Accounts/${DEMO_SID}/Messages.json`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ To: '+15554479999', From: DEMO_SENDER, Body: 'hi' }).toString(),
      });
      assert.equal(refused.status, 429);
      assert.equal(((await refused.json()) as { code: number }).code, 20429);
      assert.ok(Number(refused.headers.get('retry-after')) >= 1);
      // Another client (the demo credential) is counted on its own.
      assert.equal((await screenOn(b, '+15554479998')).status, 200);
    });
  });
}
