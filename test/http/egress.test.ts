// SSRF: outbound requests aimed at Warden's own network. A receiver listens on loopback; status
// callbacks, the customer's upstream, relays of provider events and of the sink's callbacks (which
// the sink posts to Warden's own /twilio/status URL) aimed at it (in every notation of the
// address, and by names that resolve to it) are refused by default, nothing reaches it, and the
// app sees one coarse outcome; with the range allowed they arrive. Warden's own listening socket
// stays refused even then, except the mounted sink under /sink (and, for the sink's own client,
// /twilio). Real gateway on SQLite, real sockets.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import { lookup } from 'node:dns/promises';
import { EgressClient, EgressError } from '../../src/http/egress/egress-client.js';
import { EgressPolicy } from '../../src/http/egress/egress-policy.js';
import { computeSignature } from '../../src/http/twilio/signature.js';
import { newSid } from '../../src/http/credentials.js';
import { ADMIN, ALLOW_LOOPBACK, DEMO, form, startFixture, type Fixture } from './helpers.js';

// A body the default pack holds for review (examples/sample-messages.jsonl).
const REVIEW_BODY = "I know where you live. I'll f.i.n.d you and hurt you";

interface Receiver {
  port: number;
  hits: Array<{ method: string; url: string; body: string; authorization?: string }>;
  dualStack: boolean;
  server: Server;
  close(): Promise<void>;
}

/** An HTTP endpoint on loopback (IPv4 and, where the host has it, IPv6) that records every request. */
async function startReceiver(
  answer: (url: string) => { status: number; headers?: Record<string, string> } = () => ({ status: 200 }),
): Promise<Receiver> {
  const hits: Receiver['hits'] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      hits.push({
        method: req.method ?? '',
        url: req.url ?? '',
        body,
        ...(req.headers.authorization !== undefined ? { authorization: req.headers.authorization } : {}),
      });
      const a = answer(req.url ?? '');
      res.writeHead(a.status, a.headers ?? {});
      res.end('ok');
    });
  });
  // '::' takes IPv4 too (dual stack); a host without IPv6 falls back to 127.0.0.1.
  const dualStack = await new Promise<boolean>((resolve, reject) => {
    server.once('error', () => server.listen(0, '127.0.0.1', () => resolve(false)));
    server.listen(0, '::', () => resolve(true));
    setTimeout(() => reject(new Error('receiver did not start')), 5_000).unref();
  });
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr ? addr.port : 0,
    hits,
    dualStack,
    server,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** The hosts that all mean this machine's loopback; the machine's own name where it resolves to loopback. */
async function loopbackTargets(r: Receiver): Promise<string[]> {
  const p = r.port;
  const list = [
    `http://127.0.0.1:${p}/cb`,
    `http://2130706433:${p}/cb`,
    `http://0x7f.1:${p}/cb`,
    `http://0177.0.0.1:${p}/cb`,
    `http://127.1:${p}/cb`,
    `http://localhost:${p}/cb`,
    `http://LocalHost:${p}/cb`,
    `http://[::ffff:127.0.0.1]:${p}/cb`,
    `http://0.0.0.0:${p}/cb`,
    `https://user:secret@127.0.0.1:${p}/cb`,
  ];
  if (r.dualStack) list.push(`http://[::1]:${p}/cb`, `http://[::]:${p}/cb`);
  const own = hostname();
  try {
    const addrs = await lookup(own, { all: true });
    if (addrs.length > 0 && addrs.every((a) => a.address.startsWith('127.') || a.address === '::1')) list.push(`http://${own}:${p}/cb`);
  } catch {
    /* no name for this host: left out */
  }
  return list;
}

describe('egress client', () => {
  let r: Receiver;
  before(async () => {
    r = await startReceiver((url) =>
      url === '/redirect' ? { status: 302, headers: { location: `http://127.0.0.1:${r.port}/elsewhere` } } : { status: 200 },
    );
  });
  after(async () => r.close());

  it('refuses every notation of loopback by default, and nothing reaches the receiver', async () => {
    const client = new EgressClient({ policy: new EgressPolicy() });
    try {
      for (const url of await loopbackTargets(r)) {
        await assert.rejects(
          client.request(url, { method: 'POST', body: 'x=1', operation: 'test' }),
          (e: unknown) => e instanceof EgressError && e.outcome === 'refused-by-policy',
          url,
        );
      }
      assert.equal(r.hits.length, 0);
    } finally {
      await client.close();
    }
  });

  it('connects when loopback is allowed', async () => {
    const client = new EgressClient({ policy: new EgressPolicy({ allow: ALLOW_LOOPBACK.concat(r.dualStack ? ['::1/128'] : []) }) });
    try {
      const before = r.hits.length;
      const targets = (await loopbackTargets(r)).filter((u) => !u.includes('0.0.0.0') && !u.includes('[::]') && !u.startsWith('https:'));
      for (const url of targets) {
        const res = await client.request(url, { method: 'POST', body: 'x=1', operation: 'test' });
        assert.equal(res.status, 200, url);
        assert.equal(res.outcome, 'delivered');
      }
      assert.equal(r.hits.length - before, targets.length);
    } finally {
      await client.close();
    }
  });

  it('userinfo in a callback URL is sent as HTTP Basic, not in the request line', async () => {
    const client = new EgressClient({ policy: new EgressPolicy({ allow: ALLOW_LOOPBACK }) });
    try {
      const before = r.hits.length;
      const res = await client.request(`http://app%20user:p%40ss@127.0.0.1:${r.port}/auth`, {
        method: 'POST',
        body: 'x=1',
        operation: 'test',
      });
      assert.equal(res.status, 200);
      const hit = r.hits.slice(before).find((h) => h.url === '/auth');
      assert.equal(hit?.authorization, 'Basic ' + Buffer.from('app user:p@ss').toString('base64'));
    } finally {
      await client.close();
    }
  });

  it('checks the addresses a name resolves to and connects to a checked one, resolving once', async () => {
    let lookups = 0;
    const rebinding = async () => {
      lookups++;
      return [{ address: '169.254.169.254' }, { address: '127.0.0.1' }];
    };
    const denied = new EgressClient({ policy: new EgressPolicy(), lookup: rebinding });
    const allowed = new EgressClient({ policy: new EgressPolicy({ allow: ['127.0.0.1/32'] }), lookup: rebinding });
    try {
      await assert.rejects(
        denied.request(`http://metadata.example:${r.port}/cb`, { operation: 'test' }),
        (e: unknown) => (e as EgressError).outcome === 'refused-by-policy',
      );
      const before = r.hits.length;
      lookups = 0;
      // 169.254.169.254 is skipped (denied); the socket opens to 127.0.0.1, the one allowed.
      const res = await allowed.request(`http://metadata.example:${r.port}/cb`, { operation: 'test' });
      assert.equal(res.status, 200);
      assert.equal(lookups, 1);
      assert.equal(r.hits.length - before, 1);
    } finally {
      await denied.close();
      await allowed.close();
    }
  });

  it('never follows a redirect: a 3xx is the answer', async () => {
    const client = new EgressClient({ policy: new EgressPolicy({ allow: ALLOW_LOOPBACK }) });
    try {
      const before = r.hits.length;
      const res = await client.request(`http://127.0.0.1:${r.port}/redirect`, { operation: 'test' });
      assert.equal(res.status, 302);
      assert.equal(res.outcome, 'http-3xx');
      assert.deepEqual(
        r.hits.slice(before).map((h) => h.url),
        ['/redirect'],
      );
    } finally {
      await client.close();
    }
  });

  it('an unreachable port and a refusal by policy are told apart only for the operator', async () => {
    const closed = await startReceiver();
    const port = closed.port;
    await closed.close();
    const client = new EgressClient({ policy: new EgressPolicy({ allow: ['127.0.0.1/32'] }) });
    try {
      await assert.rejects(
        client.request(`http://127.0.0.1:${port}/`, { operation: 'test' }),
        (e: unknown) => (e as EgressError).outcome === 'unreachable',
      );
      await assert.rejects(
        client.request(`http://127.0.0.2:${port}/`, { operation: 'test' }),
        (e: unknown) => (e as EgressError).outcome === 'refused-by-policy',
      );
      await assert.rejects(
        client.request('ftp://example.com/', { operation: 'test' }),
        (e: unknown) => (e as EgressError).outcome === 'invalid-url',
      );
    } finally {
      await client.close();
    }
  });

  it('the own socket is reached only under ownPrefix, and no path escapes it', async () => {
    const self = () => ({ address: '::', port: r.port });
    const client = new EgressClient({ policy: new EgressPolicy({ allow: ALLOW_LOOPBACK, self }), ownPrefix: '/sink' });
    try {
      const before = r.hits.length;
      const ok = await client.request(`http://127.0.0.1:${r.port}/sink/2010-04-01/x`, { operation: 'test' });
      assert.equal(ok.status, 200);
      for (const path of [
        '/v1/admin/customers',
        '/sink/../v1/admin/customers',
        '/sink/%2e%2e/v1/admin',
        '/sink%2f..%2fv1/admin',
        '/sink/..%2fv1/admin',
        '/sinkhole/x',
        '/sink',
      ]) {
        await assert.rejects(
          client.request(`http://127.0.0.1:${r.port}${path}`, { operation: 'test' }),
          (e: unknown) => (e as EgressError).outcome === 'refused-by-policy',
          path,
        );
      }
      assert.deepEqual(
        r.hits.slice(before).map((h) => h.url),
        ['/sink/2010-04-01/x'],
      );
    } finally {
      await client.close();
    }
  });
});

/** Holds a message with this StatusCallback, refuses it, and returns the callback record once it settles. */
async function heldCallback(
  fx: Fixture,
  to: string,
  callbackUrl: string,
): Promise<{ state: string; attempts: number; lastError?: string } | undefined> {
  const created = await fx.gw.app.inject({
    method: 'POST',
    url: `/2010-04-01/Accounts/${DEMO.accountSid}/Messages.json`,
    headers: { authorization: fx.demoAuth, 'content-type': 'application/x-www-form-urlencoded' },
    payload: form({ To: to, From: DEMO.sender, Body: REVIEW_BODY, StatusCallback: callbackUrl }),
  });
  assert.equal(created.statusCode, 201, created.body);
  const sid = created.json().sid as string;
  const settled = await fx.gw.app.inject({
    method: 'POST',
    url: `/v1/review/${sid}`,
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    payload: JSON.stringify({ action: 'refuse' }),
  });
  assert.equal(settled.statusCode, 200, settled.body);
  const end = Date.now() + 3_000;
  for (;;) {
    const listed = (await fx.gw.app.inject({ url: '/v1/review?state=all', headers: { authorization: `Bearer ${ADMIN}` } })).json() as {
      held: Array<{ sid: string; callback?: { state: string; attempts: number; lastError?: string } }>;
    };
    const callback = listed.held.find((h) => h.sid === sid)?.callback;
    if ((callback !== undefined && callback.state !== 'pending') || Date.now() > end) return callback;
    await new Promise((res) => setTimeout(res, 10));
  }
}

/**
 * A provider event for the tenant `other` (an incoming message), signed as the provider signs it;
 * relayed to its webhookUrl. Returns the event's MessageSid.
 */
async function relayInbound(fx: Fixture, webhookUrl: string): Promise<string> {
  const admin = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
  const put = await fx.gw.app.inject({
    method: 'PUT',
    url: '/v1/admin/customers/other',
    headers: admin,
    payload: JSON.stringify({ webhookUrl }),
  });
  assert.equal(put.statusCode, 200, put.body);
  const fields = {
    MessageSid: newSid('SM'),
    From: '+14155559000',
    To: '+15005550009',
    Body: 'Is the shop open today?',
    AccountSid: fx.other.accountSid,
  };
  const url = `${fx.gw.url}/twilio/inbound/other`;
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': computeSignature(fx.sinkToken, url, fields) },
    body: form(fields),
  });
  assert.equal(res.status, 200);
  return fields.MessageSid;
}

/**
 * Sends through the gateway's listening socket (the sink is given Warden's status URL on the host
 * the app called, as a provider would be), with the app's StatusCallback; returns the SID.
 */
async function sendWithCallback(fx: Fixture, to: string, statusCallback: string): Promise<string> {
  const res = await fetch(`${fx.gw.url}/2010-04-01/Accounts/${DEMO.accountSid}/Messages.json`, {
    method: 'POST',
    headers: { authorization: fx.demoAuth, 'content-type': 'application/x-www-form-urlencoded' },
    body: form({ To: to, From: DEMO.sender, Body: 'Your code is 123456', StatusCallback: statusCallback }),
  });
  const text = await res.text();
  assert.equal(res.status, 201, text);
  const sid = (JSON.parse(text) as { sid: string }).sid;
  assert.match(sid, /^SM/);
  return sid;
}

/** Warden's status-callback URL for one of the demo tenant's messages (`ws`: the SID Warden keeps it under). */
const wardenStatusUrl = (fx: Fixture) =>
  new RegExp(`^${fx.gw.url.replace(/[.]/g, '\\.')}/twilio/status/${DEMO.customer}\\?ws=SM[0-9a-f]{32}$`);

/** The sink's callbacks for one message: where it posted them and what Warden answered. */
function sinkCallbacks(fx: Fixture, sid: string): Array<{ url: string; status: string | undefined; answer: number | null }> {
  return (fx.gw.app.sink?.callbacks ?? [])
    .filter((c) => c.fields.MessageSid === sid)
    .map((c) => ({ url: c.url, status: c.fields.MessageStatus as string | undefined, answer: c.status }));
}

async function egressCount(fx: Fixture, operation: string, outcome: string): Promise<number> {
  const text = (await fx.gw.app.inject({ url: '/metrics' })).body;
  const m = new RegExp(`^warden_egress_requests_total\\{operation="${operation}",outcome="${outcome}"\\} (\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

describe('gateway egress: refused by default', () => {
  let fx: Fixture;
  let r: Receiver;
  // One attempt per callback: what is refused is refused at once.
  before(async () => {
    fx = await startFixture({ statusCallbackRetryMs: [], statusCallbackPollMs: 10 });
    r = await startReceiver();
  });
  after(async () => {
    await fx.gw.close();
    await r.close();
  });

  it('status callbacks to loopback in any notation reach nothing; the record says only "unreachable"', async () => {
    const targets = await loopbackTargets(r);
    for (const [i, url] of targets.entries()) {
      const cb = await heldCallback(fx, `+1415555${String(1000 + i)}`, url);
      assert.deepEqual(cb, { state: 'given_up', attempts: 1, lastError: 'unreachable' }, url);
    }
    assert.equal(r.hits.length, 0);
    assert.equal(await egressCount(fx, 'status-callback', 'refused-by-policy'), targets.length);
  });

  it("a status callback to the gateway's own admin API is refused", async () => {
    const before = await egressCount(fx, 'status-callback', 'refused-by-policy');
    const cb = await heldCallback(fx, '+14155552000', `${fx.gw.url}/v1/admin/customers`);
    assert.deepEqual(cb, { state: 'given_up', attempts: 1, lastError: 'unreachable' });
    assert.equal(await egressCount(fx, 'status-callback', 'refused-by-policy'), before + 1);
  });

  it('a StatusCallback that is no http(s) URL is refused at create with 21609', async () => {
    for (const bad of ['ftp://example.com/cb', 'file:///etc/passwd', 'not a url']) {
      const res = await fx.gw.app.inject({
        method: 'POST',
        url: `/2010-04-01/Accounts/${DEMO.accountSid}/Messages.json`,
        headers: { authorization: fx.demoAuth, 'content-type': 'application/x-www-form-urlencoded' },
        payload: form({ To: '+14155552001', From: DEMO.sender, Body: 'Your code is 123456', StatusCallback: bad }),
      });
      assert.equal(res.statusCode, 400, bad);
      assert.equal(res.json().code, 21609);
    }
  });

  it("the demo sink upstream on the gateway's own port still works; its callbacks reach Warden, whose relays to loopback are refused", async () => {
    const refusedBefore = await egressCount(fx, 'webhook-status', 'refused-by-policy');
    const deliveredBefore = await egressCount(fx, 'sink-callback', 'delivered');
    const sid = await sendWithCallback(fx, '+14155552002', `http://127.0.0.1:${r.port}/sink-cb`);
    const end = Date.now() + 2_000;
    while (
      (sinkCallbacks(fx, sid).filter((c) => c.answer !== null).length < 2 ||
        (await egressCount(fx, 'webhook-status', 'refused-by-policy')) < refusedBefore + 2) &&
      Date.now() < end
    ) {
      await new Promise((res) => setTimeout(res, 10));
    }
    // The sink's own client reaches this process's /twilio prefix (and Warden accepts the callbacks)...
    const cbs = sinkCallbacks(fx, sid);
    assert.deepEqual(
      cbs.map((c) => [c.status, c.answer]),
      [
        ['sent', 204],
        ['delivered', 204],
      ],
    );
    for (const c of cbs) assert.match(c.url, wardenStatusUrl(fx), "the sink was given Warden's status URL");
    assert.equal(await egressCount(fx, 'sink-callback', 'delivered'), deliveredBefore + 2);
    // ...and Warden's relay of each to the app's StatusCallback on loopback is refused.
    assert.equal(await egressCount(fx, 'webhook-status', 'refused-by-policy'), refusedBefore + 2, 'sent and delivered, both refused');
    assert.equal(r.hits.length, 0);
  });

  it('a provider event relayed to a webhookUrl on loopback reaches nothing', async () => {
    const before = await egressCount(fx, 'webhook-inbound', 'refused-by-policy');
    await relayInbound(fx, `http://127.0.0.1:${r.port}/hook`);
    assert.equal(await egressCount(fx, 'webhook-inbound', 'refused-by-policy'), before + 1);
    assert.equal(r.hits.length, 0);
  });

  it('a customer upstream on a private address is refused: 20503, nothing reaches it', async () => {
    const admin = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
    const put = await fx.gw.app.inject({
      method: 'PUT',
      url: '/v1/admin/customers/other',
      headers: admin,
      payload: JSON.stringify({ upstream: { baseUrl: `http://127.0.0.1:${r.port}` } }),
    });
    assert.equal(put.statusCode, 200, put.body);
    try {
      const res = await fx.gw.app.inject({
        method: 'POST',
        url: `/2010-04-01/Accounts/${fx.other.accountSid}/Messages.json`,
        headers: { authorization: fx.otherAuth, 'content-type': 'application/x-www-form-urlencoded' },
        payload: form({ To: '+14155552003', From: '+15005550009', Body: 'Your code is 123456' }),
      });
      assert.equal(res.statusCode, 503);
      assert.equal(res.json().code, 20503);
      assert.doesNotMatch(res.body, /127\.0\.0\.1|ECONNREFUSED|refused/);
      assert.equal(r.hits.length, 0);
    } finally {
      await fx.gw.app.inject({
        method: 'PUT',
        url: '/v1/admin/customers/other',
        headers: admin,
        payload: JSON.stringify({ upstream: { baseUrl: `${fx.gw.url}/sink` } }),
      });
    }
  });
});

describe('gateway egress: loopback allowed by the operator', () => {
  let fx: Fixture;
  let r: Receiver;
  before(async () => {
    fx = await startFixture({ statusCallbackRetryMs: [], statusCallbackPollMs: 10, egressAllow: ALLOW_LOOPBACK });
    r = await startReceiver();
  });
  after(async () => {
    await fx.gw.close();
    await r.close();
  });

  it('a status callback to an allowed loopback receiver arrives', async () => {
    const cb = await heldCallback(fx, '+14155553000', `http://127.0.0.1:${r.port}/cb`);
    assert.deepEqual(cb, { state: 'delivered', attempts: 1 });
    assert.equal(r.hits.filter((h) => h.url === '/cb').length, 1);
    assert.match(r.hits[0]!.body, /MessageStatus=failed/);
  });

  it("the gateway's own socket stays refused inside the allowed range", async () => {
    const before = r.hits.length;
    const cb = await heldCallback(fx, '+14155553001', `${fx.gw.url}/v1/admin/customers`);
    assert.deepEqual(cb, { state: 'given_up', attempts: 1, lastError: 'unreachable' });
    assert.equal(r.hits.length, before);
  });

  it("the sink's callbacks, relayed by Warden, reach an allowed receiver", async () => {
    const sid = await sendWithCallback(fx, '+14155553002', `http://127.0.0.1:${r.port}/sink-cb`);
    const end = Date.now() + 2_000;
    while (r.hits.filter((h) => h.url === '/sink-cb').length < 2 && Date.now() < end) await new Promise((res) => setTimeout(res, 10));
    const got = r.hits.filter((h) => h.url === '/sink-cb').map((h) => new URLSearchParams(h.body));
    assert.deepEqual(
      got.map((p) => [p.get('MessageSid'), p.get('MessageStatus')]),
      [
        [sid, 'sent'],
        [sid, 'delivered'],
      ],
    );
    const cbs = sinkCallbacks(fx, sid);
    assert.equal(cbs.length, 2);
    for (const c of cbs) assert.match(c.url, wardenStatusUrl(fx), 'the sink posted to Warden, not to the app');
  });

  it('a provider event is relayed to a webhookUrl in the allowed range', async () => {
    const sid = await relayInbound(fx, `http://127.0.0.1:${r.port}/hook`);
    assert.deepEqual(
      r.hits.filter((h) => h.url === '/hook').map((h) => new URLSearchParams(h.body).get('MessageSid')),
      [sid],
    );
  });

  it('a customer upstream in the allowed range is reached', async () => {
    const admin = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
    await fx.gw.app.inject({
      method: 'PUT',
      url: '/v1/admin/customers/other',
      headers: admin,
      payload: JSON.stringify({ upstream: { baseUrl: `http://127.0.0.1:${r.port}/up` } }),
    });
    try {
      const res = await fx.gw.app.inject({
        method: 'POST',
        url: `/2010-04-01/Accounts/${fx.other.accountSid}/Messages.json`,
        headers: { authorization: fx.otherAuth, 'content-type': 'application/x-www-form-urlencoded' },
        payload: form({ To: '+14155553003', From: '+15005550009', Body: 'Your code is 123456' }),
      });
      assert.equal(res.statusCode, 200);
      assert.ok(r.hits.some((h) => h.url === `/up/2010-04-01/Accounts/${fx.other.accountSid}/Messages.json`));
    } finally {
      await fx.gw.app.inject({
        method: 'PUT',
        url: '/v1/admin/customers/other',
        headers: admin,
        payload: JSON.stringify({ upstream: { baseUrl: `${fx.gw.url}/sink` } }),
      });
    }
  });
});
