// Drop-in fidelity through the official `twilio` package: what an app does after a send. A held
// message keeps one SID through release (fetch, list, every status callback); scheduled messages
// are scheduled, canceled, and sent at SendAt under their SID; MMS; Messaging Service and WhatsApp
// senders; refusals Twilio's way (accepted, then failed 30007); decisions name the app's SID.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import twilio from 'twilio';
import type { Gateway } from '../../src/http/gateway.js';
import { JobScheduler } from '../../src/http/scheduler.js';
import { sendScheduledMessage, SEND_MESSAGE_TOPIC } from '../../src/http/twilio/scheduled-send.js';
import { verifySignature } from '../../src/http/twilio/signature.js';
import {
  ADMIN,
  ALLOW_LOOPBACK,
  BLOCKED_BODY,
  DEMO,
  form,
  startCallbackReceiver,
  startFixture,
  type CallbackReceiver,
  type Fixture,
} from './helpers.js';

const REVIEW_BODY = "I know where you live. I'll f.i.n.d you and hurt you";
const SERVICE = 'MG' + 'a1'.repeat(16);
const admin = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };

let fx: Fixture;
let client: ReturnType<typeof twilio>;
let receiver: CallbackReceiver;
let gateway: Gateway;

const params = (body: string) => Object.fromEntries(new URLSearchParams(body));
const callbacksFor = (sid: string) =>
  receiver.callbacks.map((c) => ({ ...c, p: params(c.body) })).filter((c) => c.p.MessageSid === sid || c.body.includes(sid));
async function until<T>(what: string, probe: () => T | undefined | false, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
const patchDemo = (body: unknown) =>
  fetch(`${fx.gw.url}/v1/admin/customers/${DEMO.customer}`, { method: 'PUT', headers: admin, body: JSON.stringify(body) });

before(async () => {
  fx = await startFixture({ egressAllow: ALLOW_LOOPBACK });
  gateway = (fx.gw.app as unknown as { gateway: Gateway }).gateway;
  receiver = await startCallbackReceiver();
  client = twilio(DEMO.accountSid, DEMO.authToken);
  client.api.baseUrl = fx.gw.url;
  const put = await patchDemo({ senders: [DEMO.sender, SERVICE.toUpperCase().replace(/^MG/, 'MG'), 'whatsapp:+1 415 555 0142'] });
  assert.equal(put.status, 200);
});
after(async () => {
  await fx.gw.close();
  await receiver.close();
});

describe('a held message keeps its SID', () => {
  it('through fetch, list, release and every status callback; date_created fixed at acceptance; MMS', async () => {
    const m = await client.messages.create({
      to: '+14155550180',
      from: DEMO.sender,
      body: REVIEW_BODY,
      mediaUrl: ['https://example.com/a.png'],
      statusCallback: receiver.url,
    });
    assert.equal(m.status, 'accepted');
    assert.match(m.sid, /^MM[0-9a-f]{32}$/, 'an MMS SID');
    const before1 = await client.messages(m.sid).fetch();
    await new Promise((r) => setTimeout(r, 1100));
    const before2 = await client.messages(m.sid).fetch();
    assert.equal(before2.status, 'accepted');
    assert.equal(before2.dateCreated.getTime(), before1.dateCreated.getTime(), 'date_created does not move between fetches');
    assert.equal(before2.dateCreated.getTime(), m.dateCreated.getTime(), 'date_created is the acceptance instant');
    assert.ok(
      (await client.messages.list({ limit: 50 })).some((x) => x.sid === m.sid && x.status === 'accepted'),
      'held messages are listed',
    );

    const rel = await fetch(`${fx.gw.url}/v1/review/${m.sid}`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ action: 'release' }),
    });
    assert.equal(rel.status, 200);
    const upstreamSid = ((await rel.json()) as { upstreamSid: string }).upstreamSid;
    assert.notEqual(upstreamSid, m.sid);
    assert.ok(fx.gw.app.sink?.messages.has(upstreamSid), 'forwarded to the upstream');

    // The upstream's status from here on: the sink moves its record on every few ms (queued, sent, delivered).
    const upstreamStatus = (status: string) => ['queued', 'sent', 'delivered'].includes(status);
    const after1 = await client.messages(m.sid).fetch();
    assert.equal(after1.sid, m.sid, 'fetch after release answers under the same SID');
    assert.ok(upstreamStatus(after1.status), `the upstream's status, not Warden's (${after1.status})`);
    assert.equal(after1.numMedia, '1');
    assert.equal(after1.dateCreated.getTime(), m.dateCreated.getTime());
    assert.ok(!after1.uri.includes(upstreamSid));
    const listed = await client.messages.list({ limit: 50 });
    assert.ok(
      listed.some((x) => x.sid === m.sid && upstreamStatus(x.status)),
      "listed under its SID after release, with the upstream's status",
    );
    assert.ok(!listed.some((x) => x.sid === upstreamSid), "the upstream's SID is never shown");
    assert.equal(listed.filter((x) => x.sid === m.sid).length, 1, 'listed once');

    // Warden's release callback, then the provider's own (sent, delivered) relayed through Warden.
    const cbs = await until('queued, sent and delivered callbacks', () => {
      const c = callbacksFor(m.sid);
      return c.length >= 3 ? c : undefined;
    });
    assert.deepEqual(
      cbs.map((c) => c.p.MessageStatus),
      ['queued', 'sent', 'delivered'],
    );
    for (const c of cbs) {
      assert.equal(c.p.MessageSid, m.sid);
      assert.equal(c.p.AccountSid, DEMO.accountSid);
      assert.ok(!c.body.includes(upstreamSid), 'no callback carries the upstream SID');
      assert.ok(verifySignature(DEMO.authToken, receiver.url, c.p, c.signature), 'signed for the app URL');
    }
  });
});

describe('status callbacks of forwarded messages', () => {
  it("are relayed to the message's own StatusCallback, under the SID the app got; none without one", async () => {
    const m = await client.messages.create({
      to: '+14155550181',
      from: DEMO.sender,
      body: 'Your order has shipped',
      statusCallback: receiver.url,
    });
    assert.equal(m.status, 'queued');
    const forwarded = fx.gw.app.sink?.messages.get(m.sid);
    assert.ok(forwarded, "a forwarded message keeps the upstream's SID");
    const cbs = await until('sent and delivered', () => {
      const c = callbacksFor(m.sid);
      return c.length >= 2 ? c : undefined;
    });
    assert.deepEqual(
      cbs.map((c) => c.p.MessageStatus),
      ['sent', 'delivered'],
    );
    assert.ok(
      fx.gw.app.sink?.callbacks.some((c) => c.url.includes('/twilio/status/demo?ws=') && c.status === 204),
      "the upstream was given Warden's URL",
    );
    const n = receiver.callbacks.length;
    const quiet = await client.messages.create({ to: '+14155550182', from: DEMO.sender, body: 'No callback wanted' });
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(receiver.callbacks.length, n);
    assert.ok(!receiver.callbacks.some((c) => c.body.includes(quiet.sid)));
  });
});

describe('scheduled messages', () => {
  const sendAt = () => new Date(Date.now() + 3_600_000);

  it('ScheduleType=fixed returns scheduled; fetch and list show it; update canceled cancels it once', async () => {
    const m = await client.messages.create({
      to: '+14155550183',
      messagingServiceSid: SERVICE,
      body: 'Your appointment is tomorrow at 9',
      scheduleType: 'fixed',
      sendAt: sendAt(),
    });
    assert.equal(m.status, 'scheduled');
    assert.equal(m.messagingServiceSid, SERVICE);
    assert.equal((await client.messages(m.sid).fetch()).status, 'scheduled');
    assert.ok((await client.messages.list({ limit: 50 })).some((x) => x.sid === m.sid && x.status === 'scheduled'));
    const canceled = await client.messages(m.sid).update({ status: 'canceled' });
    assert.equal(canceled.status, 'canceled');
    assert.equal(canceled.sid, m.sid);
    assert.equal((await client.messages(m.sid).fetch()).status, 'canceled');
    await assert.rejects(client.messages(m.sid).update({ status: 'canceled' }), (e: { code?: number }) => e.code === 30409);
    await gateway.scheduler.poll(Date.now() + 2 * 3_600_000);
    assert.ok(![...(fx.gw.app.sink?.messages.values() ?? [])].some((x) => x.to === '+14155550183'), 'a canceled message is never sent');
  });

  it('is forwarded at SendAt, once, and keeps its SID', async () => {
    const m = await client.messages.create({
      to: '+14155550184',
      messagingServiceSid: SERVICE,
      body: 'Reminder: dentist at 10',
      scheduleType: 'fixed',
      sendAt: sendAt(),
      statusCallback: receiver.url,
    });
    await gateway.scheduler.poll(Date.now());
    assert.equal((await client.messages(m.sid).fetch()).status, 'scheduled', 'not before SendAt');
    // Two nodes on one store poll at once: the job is taken by one of them.
    const nodes = [
      gateway.scheduler,
      new JobScheduler(gateway.deps.stores.scheduler, fx.gw.app.log, { pollMs: 60_000, leaseMs: 60_000, batch: 20 }),
    ];
    nodes[1]?.on(SEND_MESSAGE_TOPIC, sendScheduledMessage(gateway, fx.gw.app.log));
    await Promise.all(nodes.map((n) => n.poll(Date.now() + 2 * 3_600_000)));
    const sent = [...(fx.gw.app.sink?.messages.values() ?? [])].filter((x) => x.to === '+14155550184');
    assert.equal(sent.length, 1, 'sent once');
    const fetched = await client.messages(m.sid).fetch();
    assert.equal(fetched.sid, m.sid);
    // The upstream's own status: the sink moves it on every 20 ms (queued, sent, delivered).
    assert.ok(['queued', 'sent', 'delivered'].includes(fetched.status), fetched.status);
    await assert.rejects(
      client.messages(m.sid).update({ status: 'canceled' }),
      (e: { code?: number }) => e.code === 30409,
      'too late to cancel',
    );
    const cbs = await until('relayed callbacks', () => {
      const c = callbacksFor(m.sid);
      return c.length >= 2 ? c : undefined;
    });
    assert.ok(cbs.every((c) => c.p.MessageSid === m.sid));
  });

  it('a job taken again after its node died mid-forward does not send twice', async () => {
    const m = await client.messages.create({
      to: '+14155550193',
      messagingServiceSid: SERVICE,
      body: 'Reminder: pick-up at 5',
      scheduleType: 'fixed',
      sendAt: sendAt(),
    });
    // The node that took it moved it to sending and stopped before the upstream answered.
    assert.ok(await gateway.deps.stores.messages.transition(m.sid, ['scheduled'], { status: 'sending', at: new Date().toISOString() }));
    await gateway.scheduler.poll(Date.now() + 2 * 3_600_000);
    assert.ok(![...(fx.gw.app.sink?.messages.values() ?? [])].some((x) => x.to === '+14155550193'), 'not sent again');
    assert.equal((await client.messages(m.sid).fetch()).status, 'sending', 'left for an operator to check');
    assert.equal((await gateway.deps.stores.scheduler.get(m.sid))?.state, 'done');
  });

  it('refuses what Twilio refuses: SendAt too soon or too far (35114), no Messaging Service (35111), another ScheduleType', async () => {
    await assert.rejects(
      client.messages.create({
        to: '+14155550185',
        messagingServiceSid: SERVICE,
        body: 'x',
        scheduleType: 'fixed',
        sendAt: new Date(Date.now() + 60_000),
      }),
      (e: { code?: number }) => e.code === 35114,
    );
    await assert.rejects(
      client.messages.create({
        to: '+14155550185',
        messagingServiceSid: SERVICE,
        body: 'x',
        scheduleType: 'fixed',
        sendAt: new Date(Date.now() + 40 * 86_400_000),
      }),
      (e: { code?: number }) => e.code === 35114,
    );
    await assert.rejects(
      client.messages.create({ to: '+14155550185', from: DEMO.sender, body: 'x', scheduleType: 'fixed', sendAt: sendAt() }),
      (e: { code?: number }) => e.code === 35111,
    );
    const res = await fetch(`${fx.gw.url}/2010-04-01/Accounts/${DEMO.accountSid}/Messages.json`, {
      method: 'POST',
      headers: { authorization: fx.demoAuth, 'content-type': 'application/x-www-form-urlencoded' },
      body: form({ To: '+14155550185', MessagingServiceSid: SERVICE, Body: 'x', ScheduleType: 'fixed', SendAt: 'tomorrow' }),
    });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { code: number }).code, 35114);
  });
});

describe('Messaging Service and WhatsApp senders', () => {
  it('a registered MG sender or whatsapp: address is accepted; an unregistered one raises 21606', async () => {
    const viaService = await client.messages.create({ to: '+14155550186', messagingServiceSid: SERVICE, body: 'Your code is 123456' });
    assert.equal(viaService.status, 'queued');
    const wa = await client.messages.create({ to: 'whatsapp:+14155550187', from: 'whatsapp:+14155550142', body: 'Your order is ready' });
    assert.equal(wa.status, 'queued');
    await assert.rejects(
      client.messages.create({ to: '+14155550188', messagingServiceSid: 'MG' + 'b2'.repeat(16), body: 'hi' }),
      (e: { code?: number }) => e.code === 21606,
    );
    await assert.rejects(
      client.messages.create({ to: '+14155550188', from: DEMO.sender, messagingServiceSid: 'MG' + 'b2'.repeat(16), body: 'hi' }),
      (e: { code?: number }) => e.code === 21606,
      'every sender named must be registered',
    );
    await assert.rejects(
      client.messages.create({ to: 'whatsapp:+14155550188', from: 'whatsapp:+14155550999', body: 'hi' }),
      (e: { code?: number }) => e.code === 21606,
    );
  });

  it('the admin API stores senders canonically and refuses malformed ones', async () => {
    const shown = (await (await fetch(`${fx.gw.url}/v1/admin/customers/${DEMO.customer}`, { headers: admin })).json()) as {
      senders: string[];
    };
    assert.deepEqual(shown.senders, [DEMO.sender, SERVICE, 'whatsapp:+14155550142']);
    for (const bad of ['MG123', 'whatsapp:hello', '+1', 'not a sender id!']) {
      const res = await fetch(`${fx.gw.url}/v1/admin/customers/other`, {
        method: 'PUT',
        headers: admin,
        body: JSON.stringify({ senders: [bad] }),
      });
      assert.equal(res.status, 400, bad);
    }
  });
});

describe('refusal mode and decisions', () => {
  it('async: a content refusal is accepted, then failed with 30007 on fetch and in the status callback', async () => {
    assert.equal((await patchDemo({ settings: { refusalMode: 'async' } })).status, 200);
    try {
      const m = await client.messages.create({ to: '+14155550189', from: DEMO.sender, body: BLOCKED_BODY, statusCallback: receiver.url });
      assert.equal(m.status, 'accepted');
      const fetched = await client.messages(m.sid).fetch();
      assert.deepEqual([fetched.status, fetched.errorCode], ['failed', 30007]);
      const [cb] = await until('failed callback', () => {
        const c = callbacksFor(m.sid);
        return c.length >= 1 ? c : undefined;
      });
      assert.deepEqual([cb?.p.MessageStatus, cb?.p.ErrorCode], ['failed', '30007']);
      assert.ok(verifySignature(DEMO.authToken, receiver.url, cb?.p ?? {}, cb?.signature));
      assert.ok((await client.messages.list({ limit: 50 })).some((x) => x.sid === m.sid && x.status === 'failed'));
      assert.ok(![...(fx.gw.app.sink?.messages.values() ?? [])].some((x) => x.to === '+14155550189'), 'never forwarded');
      await assert.rejects(
        client.messages.create({ to: '+14155550190', from: '+15005550009', body: 'hi' }),
        (e: { code?: number }) => e.code === 21606,
        'only content refusals are asynchronous',
      );
      const bad = await patchDemo({ settings: { refusalMode: 'later' } });
      assert.equal(bad.status, 400);
    } finally {
      await patchDemo({ settings: { refusalMode: 'sync' } });
    }
    await assert.rejects(
      client.messages.create({ to: '+14155550191', from: DEMO.sender, body: BLOCKED_BODY }),
      (e: { code?: number }) => e.code === 30007,
      'sync again',
    );
  });

  it('GET /v1/decisions/{id} names the SID the app was given', async () => {
    const post = (fields: Record<string, string>) =>
      fetch(`${fx.gw.url}/2010-04-01/Accounts/${DEMO.accountSid}/Messages.json`, {
        method: 'POST',
        headers: { authorization: fx.demoAuth, 'content-type': 'application/x-www-form-urlencoded' },
        body: form(fields),
      });
    for (const body of ['Your table is ready', REVIEW_BODY]) {
      const res = await post({ To: '+14155550192', From: DEMO.sender, Body: body });
      assert.equal(res.status, 201);
      const sid = ((await res.json()) as { sid: string }).sid;
      const id = res.headers.get('x-warden-decision');
      const d = (await (await fetch(`${fx.gw.url}/v1/decisions/${id}`, { headers: { authorization: fx.demoAuth } })).json()) as {
        messageSid?: string;
      };
      assert.equal(d.messageSid, sid, body);
    }
  });
});
