// Durability: several concurrent clients stream opt-outs, enforcement actions and messages the
// policy holds for review at `warden serve`; the server is killed with SIGKILL at a random moment,
// restarted, and every write it had acknowledged must be there (same seq; every message answered
// 201 accepted still held). 10 kills per backend. A status callback owed for a settled message
// survives a SIGKILL in the middle of its first attempt. Then graceful shutdown: SIGTERM
// while requests are in flight answers every one of them and exits 0.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, createServer, request } from 'node:http';
import { openStores } from '../../src/store/open-stores.js';
import { DEFAULT_CONFIG, type WardenConfig } from '../../src/config.js';
import { HOW_TO, dropSchema, isolatedConfig, testServices } from '../store/services.js';
import { ADMIN_TOKEN, DEMO_AUTH, DEMO_SENDER, DEMO_SID, enforce, optOut, startNode, stopNode, tempDataDir, type Node } from './harness.js';

const KILLS = 10;
const CLIENTS = 8;
const services = await testServices();

interface Backend {
  name: string;
  config: WardenConfig;
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

function backends(): Array<Backend | { name: string; skip: string }> {
  const dataDir = tempDataDir('crash-sqlite');
  const list: Array<Backend | { name: string; skip: string }> = [
    { name: 'sqlite', config: { ...DEFAULT_CONFIG, dataDir }, env: { WARDEN_DATA_DIR: dataDir }, cleanup: async () => undefined },
  ];
  if (services === null) {
    list.push({ name: 'postgres+redis', skip: HOW_TO });
  } else {
    const svc = services;
    const config = isolatedConfig(svc, 'crash');
    list.push({
      name: 'postgres+redis',
      config,
      env: {
        WARDEN_DATA_DIR: tempDataDir('crash-pg'),
        WARDEN_DATABASE_URL: svc.databaseUrl,
        WARDEN_REDIS_URL: svc.redisUrl,
        WARDEN_DATABASE_SCHEMA: config.databaseSchema,
        WARDEN_REDIS_PREFIX: config.redisPrefix,
      },
      cleanup: () => dropSchema(svc, config.databaseSchema),
    });
  }
  return list;
}

/** A message the default pack holds for review; resolves to its SID once answered 201 accepted. */
async function hold(node: Node, to: string): Promise<string | null> {
  const r = await fetch(`${node.url}/2010-04-01/Accounts/${DEMO_SID}/Messages.json`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: DEMO_AUTH },
    body: new URLSearchParams({ To: to, From: DEMO_SENDER, Body: "I know where you live. I'll f.i.n.d you and hurt you" }).toString(),
  });
  const json = (await r.json()) as { sid?: string; status?: string };
  return r.status === 201 && json.status === 'accepted' && json.sid !== undefined ? json.sid : null;
}

async function verify(
  config: WardenConfig,
  consent: Map<string, number>,
  enforcement: Map<string, number>,
  held: Set<string>,
): Promise<void> {
  const s = await openStores(config, { log: () => undefined });
  try {
    const storedConsent = new Map((await s.consent.since(0, 10_000_000)).map((e) => [e.recipient, e.seq]));
    const storedEnforcement = new Map((await s.enforcement.since(0, 10_000_000)).map((e) => [e.reason, e.seq]));
    for (const [recipient, seq] of consent)
      assert.equal(storedConsent.get(recipient), seq, `acknowledged opt-out ${recipient} (seq ${seq}) lost`);
    for (const [reason, seq] of enforcement)
      assert.equal(storedEnforcement.get(reason), seq, `acknowledged enforcement "${reason}" (seq ${seq}) lost`);
    const storedHeld = new Set((await s.review.list({ customer: 'demo', limit: 10_000 })).map((h) => h.sid));
    for (const sid of held) assert.ok(storedHeld.has(sid), `message ${sid} answered 201 accepted but no longer held`);
  } finally {
    await s.close();
  }
}

describe('crash safety: SIGKILL during concurrent writes', () => {
  for (const b of backends()) {
    if ('skip' in b) {
      it(`${b.name}: needs PostgreSQL and Redis`, { skip: b.skip }, () => undefined);
      continue;
    }
    it(`${b.name}: every acknowledged write survives ${KILLS} kills`, { timeout: 180_000 }, async (t) => {
      const ackedConsent = new Map<string, number>();
      const ackedEnforcement = new Map<string, number>();
      const ackedHeld = new Set<string>();
      let failedInFlight = 0;
      let n = 0;
      try {
        for (let kill = 0; kill < KILLS; kill++) {
          const node: Node = await startNode(b.env);
          let running = true;
          let firstAck: () => void = () => undefined;
          const started = new Promise<void>((r) => {
            firstAck = r;
          });
          const client = async (c: number) => {
            while (running) {
              const i = n++;
              try {
                if (i % 5 === 2) {
                  const sid = await hold(node, `+1667${String(i).padStart(7, '0')}`);
                  if (sid !== null) ackedHeld.add(sid);
                } else if (i % 5 === 4) {
                  const reason = `crash ${b.name} ${kill}.${c}.${i}`;
                  const r = await enforce(node, 'warn', reason);
                  if (r.status === 201) ackedEnforcement.set(reason, r.json.seq as number);
                } else {
                  const recipient = `+1666${String(i).padStart(7, '0')}`;
                  const r = await optOut(node, recipient);
                  if (r.status === 201) ackedConsent.set(recipient, r.json.seq as number);
                }
                firstAck();
              } catch {
                failedInFlight++; // the server died under this request: not acknowledged
                return;
              }
            }
          };
          const clients = Array.from({ length: CLIENTS }, (_, c) => client(c));
          await started;
          await new Promise((r) => setTimeout(r, 50 + Math.random() * 400));
          node.proc.kill('SIGKILL');
          const exit = await node.exited;
          running = false;
          await Promise.all(clients);
          assert.equal(exit.signal, 'SIGKILL');
          await verify(b.config, ackedConsent, ackedEnforcement, ackedHeld);
        }
        // A final restart serves the surviving state: a killed-and-restarted node still blocks.
        const node = await startNode(b.env);
        const [someone] = ackedConsent.keys();
        const r = await fetch(`${node.url}/v1/consent/${encodeURIComponent(someone)}`, { headers: { authorization: DEMO_AUTH } });
        assert.equal(((await r.json()) as { optedOut: boolean }).optedOut, true);
        await stopNode(node);
      } finally {
        await b.cleanup();
      }
      t.diagnostic(
        `${KILLS} kills; ${ackedConsent.size} opt-outs, ${ackedEnforcement.size} enforcement actions and ${ackedHeld.size} held messages acknowledged, all present after restart; ${failedInFlight} requests cut off in flight`,
      );
      assert.ok(ackedConsent.size > KILLS && ackedEnforcement.size > 0 && ackedHeld.size > 0);
      assert.ok(failedInFlight > 0, 'the kills landed while requests were in flight');
    });
  }
});

describe('crash safety: a status callback owed by a node killed in the middle of its attempt', () => {
  for (const b of backends()) {
    if ('skip' in b) {
      it(`${b.name}: needs PostgreSQL and Redis`, { skip: b.skip }, () => undefined);
      continue;
    }
    it(`${b.name}: the next node sends it once the dead node's lease ran out, signed the same`, { timeout: 60_000 }, async () => {
      // The app's endpoint leaves the first callback unanswered (the node dies waiting) and answers later ones.
      const received: Array<{ body: string; signature: string | undefined }> = [];
      const app = createServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => {
          body += c.toString();
        });
        req.on('end', () => {
          received.push({ body, signature: req.headers['x-twilio-signature'] as string | undefined });
          if (received.length > 1) res.end('ok');
        });
      });
      await new Promise<void>((r) => app.listen(0, '127.0.0.1', () => r()));
      const callbackUrl = `http://127.0.0.1:${(app.address() as { port: number }).port}/status`;
      const until = async (check: () => boolean | Promise<boolean>, ms: number) => {
        for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) if (await check()) return true;
        return false;
      };
      // The app's callback endpoint is on loopback, which the egress policy refuses unless allowed.
      const env = {
        ...b.env,
        WARDEN_STATUS_CALLBACK_LEASE_MS: '1500',
        WARDEN_STATUS_CALLBACK_RETRY: '200ms',
        WARDEN_EGRESS_ALLOW: '127.0.0.1/32',
      };
      const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
      let second: Node | null = null;
      try {
        const first = await startNode(env);
        const held = await fetch(`${first.url}/2010-04-01/Accounts/${DEMO_SID}/Messages.json`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: DEMO_AUTH },
          body: new URLSearchParams({
            To: '+16685550100',
            From: DEMO_SENDER,
            Body: "I know where you live. I'll f.i.n.d you and hurt you",
            StatusCallback: callbackUrl,
          }).toString(),
        });
        const sid = ((await held.json()) as { sid: string }).sid;
        // The refusal commits, then the node waits on the app for its first attempt: kill it there.
        const refusing = fetch(`${first.url}/v1/review/${sid}`, {
          method: 'POST',
          headers: admin,
          body: JSON.stringify({ action: 'refuse' }),
        }).catch(() => null);
        assert.ok(await until(() => received.length === 1, 10_000), 'the first attempt reached the app');
        first.proc.kill('SIGKILL');
        await first.exited;
        assert.equal(await refusing, null, 'the admin never got an answer from the killed node');
        second = await startNode(env);
        assert.ok(await until(() => received.length >= 2, 15_000), 'the callback is sent again after the lease');
        assert.deepEqual(received[1], received[0], 'the same signed request');
        assert.equal(new URLSearchParams(received[1].body).get('MessageStatus'), 'failed');
        const node = second;
        const delivered = await until(async () => {
          const r = await fetch(`${node.url}/v1/review?state=all`, { headers: admin });
          const item = (
            (await r.json()) as { held: Array<{ sid: string; state: string; callback?: { state: string; attempts: number } }> }
          ).held.find((h) => h.sid === sid);
          return item?.state === 'refused' && item.callback?.state === 'delivered' && item.callback.attempts === 2;
        }, 5_000);
        assert.ok(delivered, 'recorded as refused, callback delivered on the second attempt');
        await new Promise((r) => setTimeout(r, 500));
        assert.equal(received.length, 2, 'and not sent a third time');
      } finally {
        if (second !== null) await stopNode(second);
        app.closeAllConnections();
        await new Promise((r) => app.close(r));
        await b.cleanup();
      }
    });
  }
});

describe('graceful shutdown', () => {
  it('SIGTERM finishes the requests in flight, answers each of them, and exits 0', { timeout: 60_000 }, async (t) => {
    const dataDir = tempDataDir('sigterm');
    const node = await startNode({ WARDEN_DATA_DIR: dataDir });
    const agent = new Agent({ keepAlive: true, maxSockets: 64 });
    const send = (path: string, body: unknown, auth: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const data = JSON.stringify(body);
        const req = request(
          `${node.url}${path}`,
          {
            method: 'POST',
            agent,
            headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), authorization: auth },
          },
          (res) => {
            let text = '';
            res.on('data', (d: Buffer) => {
              text += d.toString();
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(data);
      });
    // Open the connections first, so the requests below are on sockets the server has accepted.
    await Promise.all(
      Array.from({ length: 64 }, (_, i) =>
        send('/v1/consent', { recipient: `+1777000${String(i).padStart(4, '0')}`, kind: 'opt-out' }, DEMO_AUTH),
      ),
    );
    const inFlight = Array.from({ length: 64 }, (_, i) =>
      send('/v1/consent', { recipient: `+1777100${String(i).padStart(4, '0')}`, kind: 'opt-out' }, DEMO_AUTH).then(
        (r) => ({ i, ...r }),
        (e: Error) => ({ i, status: -1, body: e.message }),
      ),
    );
    await new Promise((r) => setTimeout(r, 5));
    node.proc.kill('SIGTERM');
    const results = await Promise.all(inFlight);
    const exit = await node.exited;
    agent.destroy();
    assert.equal(exit.code, 0, `exit ${JSON.stringify(exit)}: ${node.output()}`);
    const cut = results.filter((r) => r.status === -1);
    assert.deepEqual(cut, [], 'no request was cut off');
    const done = results.filter((r) => r.status === 201);
    assert.ok(
      results.every((r) => r.status === 201 || r.status === 503),
      `statuses ${results.map((r) => r.status).join(',')}`,
    );
    assert.ok(done.length > 0, 'some requests were finished during shutdown');
    const s = await openStores({ ...DEFAULT_CONFIG, dataDir }, { log: () => undefined });
    const stored = new Set((await s.consent.since(0, 100_000)).map((e) => e.recipient));
    await s.close();
    for (const r of done) assert.ok(stored.has((JSON.parse(r.body) as { recipient: string }).recipient));
    t.diagnostic(
      `SIGTERM with 64 requests in flight: ${done.length} finished (201), ${results.length - done.length} refused with 503, none cut off; exit 0`,
    );
    void ADMIN_TOKEN;
  });
});
