// The review hold is durable: a message held through the Twilio-compatible endpoint is in the
// review queue before the app is told `accepted`, survives a restart of the gateway on the same
// data directory, and is released from there (forwarded to the sink upstream, status callback
// posted), once. Real SQLite stores, real HTTP between the gateway and its sink.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InjectOptions } from 'fastify';
import { DEFAULT_CONFIG } from '../../src/config.js';
import { startGateway, type RunningGateway } from '../../src/serve.js';
import { createCustomer, issueCredential } from '../../src/http/admin/tenancy.js';
import twilio from 'twilio';
import { ADMIN, ALLOW_LOOPBACK, DEMO, form, sinkTokenOf, startCallbackReceiver, type CallbackReceiver } from './helpers.js';

// A body the default pack holds for review (examples/sample-messages.jsonl).
const REVIEW_BODY = "I know where you live. I'll f.i.n.d you and hurt you";
const admin = { authorization: `Bearer ${ADMIN}` };
const demoAuth = 'Basic ' + Buffer.from(`${DEMO.accountSid}:${DEMO.authToken}`).toString('base64');

describe('review hold survives a restart of the gateway', () => {
  const dataDir = join(mkdtempSync(join(tmpdir(), 'warden-review-')), 'data');
  const start = () =>
    startGateway({
      config: { ...DEFAULT_CONFIG, dataDir, port: 0, pollIntervalMs: 200, adminToken: ADMIN },
      port: 0,
      demo: true,
      logger: false,
      gateway: { defaultMetrics: false, egressAllow: ALLOW_LOOPBACK },
    });
  let gw: RunningGateway | undefined;
  let receiver: CallbackReceiver;
  let cbUrl = '';
  let callbacks: CallbackReceiver['callbacks'] = [];

  before(async () => {
    receiver = await startCallbackReceiver();
    ({ url: cbUrl, callbacks } = receiver);
  });
  after(async () => {
    await gw?.close();
    await receiver.close();
  });

  const inject = (o: InjectOptions) => {
    if (gw === undefined) throw new Error('gateway not running');
    return gw.app.inject(o);
  };
  const settle = (sid: string, action: 'release' | 'refuse', actor?: string) =>
    inject({
      method: 'POST',
      url: `/v1/review/${sid}`,
      headers: { ...admin, 'content-type': 'application/json' },
      payload: JSON.stringify({ action, ...(actor !== undefined ? { actor } : {}) }),
    });
  const send = (auth: string, accountSid: string, what: 'Messages' | 'Calls', params: Record<string, string | string[]>) =>
    inject({
      method: 'POST',
      url: `/2010-04-01/Accounts/${accountSid}/${what}.json`,
      headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
      payload: form(params),
    });

  it('held before the restart, listed and released after it; settled exactly once', async () => {
    gw = await start();
    const other = await createCustomer(gw.stores, {
      id: 'other',
      upstream: { baseUrl: `${gw.url}/sink`, authToken: sinkTokenOf(gw) },
      senders: ['+15005550009'],
    });
    const otherCred = await issueCredential(gw.stores, 'other', { kind: 'auth-token' });
    const otherAuth = 'Basic ' + Buffer.from(`${other.accountSid}:${otherCred.secret}`).toString('base64');

    const media = ['https://media.example/1.jpg', 'https://media.example/2.jpg'];
    const r = await send(demoAuth, DEMO.accountSid, 'Messages', {
      To: '+14155550170',
      From: DEMO.sender,
      Body: REVIEW_BODY,
      MediaUrl: media,
      StatusCallback: cbUrl,
    });
    assert.equal(r.statusCode, 201);
    assert.equal(r.json().status, 'accepted');
    const sid: string = r.json().sid;
    const toRefuse = (
      await send(demoAuth, DEMO.accountSid, 'Calls', {
        To: '+14155550171',
        From: DEMO.sender,
        Twiml: `<Response><Say>${REVIEW_BODY}</Say></Response>`,
        StatusCallback: cbUrl,
      })
    ).json().sid as string;
    const othersHeld = (
      await send(otherAuth, other.accountSid, 'Messages', { To: '+14155550172', From: '+15005550009', Body: REVIEW_BODY })
    ).json().sid as string;
    // Acknowledged means committed: the row is in the store the moment the app hears `accepted`.
    assert.equal((await gw.stores.review.get(sid))?.state, 'held');

    // Restart on the same data directory. The new process listens on another port, so the demo
    // customer's upstream (the first process's sink) is unreachable until it is updated.
    await gw.close();
    gw = await start();

    const listed = await inject({ url: '/v1/review', headers: admin });
    assert.equal(listed.statusCode, 200);
    assert.deepEqual(
      listed
        .json()
        .held.map((h: { sid: string }) => h.sid)
        .sort(),
      [sid, toRefuse, othersHeld].sort(),
    );
    const mine = await inject({ url: `/v1/review?customer=${DEMO.customer}`, headers: admin });
    assert.deepEqual(
      mine
        .json()
        .held.map((h: { sid: string }) => h.sid)
        .sort(),
      [sid, toRefuse].sort(),
      'filtered by customer',
    );
    assert.equal(mine.json().held[0].state, 'held');

    // The app can still fetch its held message; another tenant cannot.
    const got = await inject({ url: `/2010-04-01/Accounts/${DEMO.accountSid}/Messages/${sid}.json`, headers: { authorization: demoAuth } });
    assert.equal(got.statusCode, 200);
    assert.deepEqual([got.json().sid, got.json().status, got.json().num_media], [sid, 'accepted', '2']);
    const peek = await inject({
      url: `/2010-04-01/Accounts/${other.accountSid}/Messages/${sid}.json`,
      headers: { authorization: otherAuth },
    });
    assert.notEqual(peek.json().status, 'accepted', 'the other tenant never sees the held message');

    const unreachable = await settle(sid, 'release');
    assert.equal(unreachable.statusCode, 503, 'the old upstream is gone');
    assert.equal((await gw.stores.review.get(sid))?.state, 'held', 'an unreachable upstream leaves the item held');

    const put = await inject({
      method: 'PUT',
      url: `/v1/admin/customers/${DEMO.customer}`,
      headers: { ...admin, 'content-type': 'application/json' },
      payload: JSON.stringify({ upstream: { baseUrl: `${gw.url}/sink`, accountSid: DEMO.accountSid, authToken: sinkTokenOf(gw) } }),
    });
    assert.equal(put.statusCode, 200);

    const [one, two] = await Promise.all([settle(sid, 'release', 'alice'), settle(sid, 'release', 'bob')]);
    const statuses = [one.statusCode, two.statusCode].sort();
    assert.deepEqual(statuses, [200, 409], 'a concurrent double release forwards once');
    const rel = one.statusCode === 200 ? one : two;
    assert.equal(rel.json().status, 'queued');
    const upstreamSid: string = rel.json().upstreamSid;
    const forwarded = gw.app.sink?.messages.get(upstreamSid);
    assert.ok(forwarded, 'released to the sink upstream');
    assert.equal(forwarded.body, REVIEW_BODY);
    assert.equal(forwarded.num_media, '2', 'the repeated MediaUrl was forwarded as received');
    assert.equal([...(gw.app.sink?.messages.values() ?? [])].filter((m) => m.to === '+14155550170').length, 1, 'forwarded exactly once');

    // The provider's own later callbacks (sent, delivered) come through Warden under the same SID.
    const cbs = callbacks.filter((c) => c.body.includes(sid) && c.body.includes('MessageStatus=queued'));
    assert.equal(cbs.length, 1, 'one release callback');
    const params = Object.fromEntries(new URLSearchParams(cbs[0].body));
    assert.deepEqual([params.MessageSid, params.MessageStatus], [sid, 'queued']);
    assert.ok(!cbs[0].body.includes(upstreamSid), 'the app only ever sees its own SID');
    assert.ok(
      twilio.validateRequest(DEMO.authToken, cbs[0].signature ?? '', cbUrl, params),
      "the callback is signed with the app's own auth token, also after a restart",
    );
    assert.equal(twilio.validateRequest(sinkTokenOf(gw), cbs[0].signature ?? '', cbUrl, params), false, 'not with the upstream token');
    assert.equal((await settle(sid, 'refuse')).statusCode, 409, 'settled: no second settlement');

    const stored = await gw.stores.review.get(sid);
    assert.deepEqual([stored?.state, stored?.upstreamStatus, stored?.upstreamSid], ['released', 201, upstreamSid]);
    assert.ok(stored?.settledBy === 'alice' || stored?.settledBy === 'bob');

    const refused = await settle(toRefuse, 'refuse', 'carol');
    assert.equal(refused.statusCode, 200);
    assert.equal(refused.json().status, 'canceled');
    assert.equal(
      Object.fromEntries(new URLSearchParams(callbacks.find((c) => c.body.includes(toRefuse))?.body ?? '')).CallStatus,
      'canceled',
    );
    const call = await inject({
      url: `/2010-04-01/Accounts/${DEMO.accountSid}/Calls/${toRefuse}.json`,
      headers: { authorization: demoAuth },
    });
    assert.equal(call.json().status, 'canceled', 'a refused call reads as canceled');

    const audit = await gw.stores.audit.list(0, 1000);
    assert.deepEqual(
      audit.filter((e) => e.subject === `held:${sid}` || e.subject === `held:${toRefuse}`).map((e) => [e.action, e.actor]),
      [
        ['review.release', stored?.settledBy],
        ['review.refuse', 'carol'],
      ],
    );
    const remaining = await inject({ url: '/v1/review', headers: admin });
    assert.deepEqual(
      remaining.json().held.map((h: { sid: string }) => h.sid),
      [othersHeld],
    );
    const all = await inject({ url: `/v1/review?customer=${DEMO.customer}&state=all`, headers: admin });
    assert.deepEqual(
      all
        .json()
        .held.map((h: { state: string }) => h.state)
        .sort(),
      ['refused', 'released'],
    );
    assert.equal((await settle('SM00000000000000000000000000000000', 'release')).statusCode, 404);
  });

  it('an item left releasing by a dead node is reconciled from what the upstream shows, never re-forwarded by itself', async () => {
    assert.ok(gw);
    const reconcile = (sid: string, body: Record<string, unknown>) =>
      inject({
        method: 'POST',
        url: `/v1/review/${sid}/reconcile`,
        headers: { ...admin, 'content-type': 'application/json' },
        payload: JSON.stringify(body),
      });
    const hold = async (to: string) =>
      (await send(demoAuth, DEMO.accountSid, 'Messages', { To: to, From: DEMO.sender, Body: REVIEW_BODY })).json().sid as string;
    const [notSent, sent, fresh] = [await hold('+14155550180'), await hold('+14155550181'), await hold('+14155550182')];
    // Claims taken by a node that then died: two minutes ago, and one just now (maybe still running).
    const longAgo = new Date(Date.now() - 120_000).toISOString();
    for (const sid of [notSent, sent]) assert.ok(await gw.stores.review.claim(sid, 'node-b', longAgo));
    assert.ok(await gw.stores.review.claim(fresh, 'node-c', new Date().toISOString()));

    assert.equal((await reconcile(fresh, { forwarded: false })).statusCode, 409, 'a fresh claim may be a release in progress');
    assert.equal((await settle(notSent, 'release')).statusCode, 409, 'a releasing item is not released again');
    const back = await reconcile(notSent, { forwarded: false, actor: 'dave' });
    assert.deepEqual([back.statusCode, back.json().state], [200, 'held']);
    assert.equal((await settle(notSent, 'release')).statusCode, 200, 'held again, it is released as usual');
    const done = await reconcile(sent, { forwarded: true, upstreamSid: 'SMfeedfacefeedfacefeedfacefeedface' });
    assert.deepEqual([done.statusCode, done.json().state], [200, 'released']);
    assert.equal((await gw.stores.review.get(sent))?.upstreamSid, 'SMfeedfacefeedfacefeedfacefeedface');
    assert.equal((await reconcile(sent, { forwarded: true })).statusCode, 409, 'settled items are not reconciled');
    assert.equal((await reconcile('SM00000000000000000000000000000000', { forwarded: false })).statusCode, 404);
    const audit = await gw.stores.audit.list(0, 10_000);
    assert.ok(audit.some((e) => e.action === 'review.reconcile' && e.subject === `held:${notSent}` && e.actor === 'dave'));
    assert.equal(await gw.stores.audit.verify(), null);
  });

  it("a refused message reads as failed with the refusal's error code", async () => {
    assert.ok(gw);
    const r = await send(demoAuth, DEMO.accountSid, 'Messages', { To: '+14155550173', From: DEMO.sender, Body: REVIEW_BODY });
    const sid = r.json().sid as string;
    assert.equal((await settle(sid, 'refuse')).json().errorCode, 30007);
    const got = await inject({ url: `/2010-04-01/Accounts/${DEMO.accountSid}/Messages/${sid}.json`, headers: { authorization: demoAuth } });
    assert.deepEqual([got.json().status, got.json().error_code], ['failed', 30007]);
  });
});
