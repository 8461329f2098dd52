// The gateway through app.inject on the real SQLite stores: native API, tenant isolation on every
// endpoint, review hold and release with the status callback, Twilio OpenAPI conformance, ops
// endpoints, and fuzzing for 5xx.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import fc from 'fast-check';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import {
  ALLOW_LOOPBACK,
  startFixture,
  startCallbackReceiver,
  DEMO,
  ADMIN,
  BLOCKED_BODY,
  form,
  type CallbackReceiver,
  type Fixture,
} from './helpers.js';
import { TWILIO_OAI_SUBSET } from '../../src/http/twilio/oai-subset.js';
import { TWILIO_ERRORS, errorForClause } from '../../src/http/twilio/twilio-errors.js';
import { parse as parseQuery } from 'node:querystring';
import twilio from 'twilio';
import { computeSignature } from '../../src/http/twilio/signature.js';

let fx: Fixture;
// The review tests' StatusCallback receiver listens on loopback.
before(async () => {
  fx = await startFixture({ egressAllow: ALLOW_LOOPBACK });
});
after(async () => fx.gw.close());

const inject = (o: InjectOptions): Promise<LightMyRequestResponse> => fx.gw.app.inject(o);
const json = (auth: string, url: string, payload: unknown, method: 'POST' | 'PUT' = 'POST') =>
  inject({ method, url, headers: { authorization: auth, 'content-type': 'application/json' }, payload: JSON.stringify(payload) });
const twilioPost = (auth: string, sid: string, what: 'Messages' | 'Calls', params: Record<string, string | string[]>) =>
  inject({
    method: 'POST',
    url: `/2010-04-01/Accounts/${sid}/${what}.json`,
    headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
    payload: form(params),
  });

describe('native API', () => {
  it("screens one message and records the decision under the credentials' customer", async () => {
    const r = await json(fx.demoAuth, '/v1/screen', { to: '+14155550120', from: DEMO.sender, body: BLOCKED_BODY, customer: 'other' });
    assert.equal(r.statusCode, 200);
    const d = r.json();
    assert.equal(d.action, 'block');
    assert.ok(d.reasons.length > 0 && typeof d.reasons[0].clause === 'string');
    const got = await inject({ url: `/v1/decisions/${d.id}`, headers: { authorization: fx.demoAuth } });
    assert.equal(got.statusCode, 200);
    assert.equal(got.json().customer, DEMO.customer, 'the customer comes from the credentials, not the body');
    assert.equal(got.json().policyVersion, d.policyVersion);
  });

  it('screens a batch in order and refuses more than 1,000', async () => {
    const messages = [{ body: 'Lunch at noon?' }, { body: BLOCKED_BODY }, { body: 'Parcel arrives Tuesday' }];
    const r = await json(fx.demoAuth, '/v1/screen', { messages });
    assert.equal(r.statusCode, 200);
    assert.deepEqual(
      r.json().decisions.map((d: { action: string }) => d.action),
      ['allow', 'block', 'allow'],
    );
    const big = await json(fx.demoAuth, '/v1/screen', { messages: Array.from({ length: 1001 }, () => ({ body: 'x' })) });
    assert.equal(big.statusCode, 400);
    const bad = await json(fx.demoAuth, '/v1/screen', { messages: [{ body: 'ok' }, { body: 42 }] });
    assert.equal(bad.statusCode, 400);
  });

  it('concurrent requests answered in one loop turn each get their own decision', async () => {
    // Replies of /v1/screen are sent together once per event-loop turn (reply-coalescing.ts).
    const bodies = Array.from({ length: 40 }, (_, i) => (i % 3 === 0 ? BLOCKED_BODY : `Table for ${i} at eight?`));
    const rs = await Promise.all(
      bodies.map((body, i) => json(fx.demoAuth, '/v1/screen', { to: `+141555501${String(i).padStart(2, '0')}`, from: DEMO.sender, body })),
    );
    const ids = new Set<string>();
    for (let i = 0; i < rs.length; i++) {
      assert.equal(rs[i].statusCode, 200);
      const d = rs[i].json();
      assert.equal(d.action, i % 3 === 0 ? 'block' : 'allow', `request ${i}`);
      ids.add(d.id);
    }
    assert.equal(ids.size, bodies.length, 'one decision per request');
  });

  it('requires credentials', async () => {
    const r = await inject({ method: 'POST', url: '/v1/screen', headers: { 'content-type': 'application/json' }, payload: '{}' });
    assert.equal(r.statusCode, 401);
    assert.match(String(r.headers['www-authenticate']), /Basic/);
  });
});

describe("tenant isolation: a second tenant never reads or changes the first one's data", () => {
  it('decisions', async () => {
    const d = (await json(fx.demoAuth, '/v1/screen', { body: 'hello' })).json();
    assert.equal((await inject({ url: `/v1/decisions/${d.id}`, headers: { authorization: fx.otherAuth } })).statusCode, 404);
    const list = await inject({ url: '/v1/decisions?limit=500', headers: { authorization: fx.otherAuth } });
    assert.ok(list.json().decisions.every((x: { customer: string }) => x.customer === 'other'));
  });

  it('consent', async () => {
    assert.equal((await json(fx.otherAuth, '/v1/consent', { recipient: '+14155550130', kind: 'opt-out' })).statusCode, 201);
    const mine = await inject({ url: '/v1/consent/+14155550130', headers: { authorization: fx.demoAuth } });
    assert.equal(mine.json().optedOut, false, "the other tenant's opt-out does not apply to demo");
    assert.equal(mine.json().history.length, 0);
    const theirs = await inject({ url: '/v1/consent/+14155550130', headers: { authorization: fx.otherAuth } });
    assert.equal(theirs.json().optedOut, true);
  });

  it("Twilio API: the other tenant's credentials on demo's AccountSid get 20003", async () => {
    for (const what of ['Messages', 'Calls'] as const) {
      const r = await twilioPost(fx.otherAuth, DEMO.accountSid, what, {
        To: '+14155550131',
        From: DEMO.sender,
        Body: 'hi',
        Twiml: '<Response/>',
      });
      assert.equal(r.statusCode, 401);
      assert.equal(r.json().code, 20003);
    }
    const fetchOther = await inject({
      url: `/2010-04-01/Accounts/${DEMO.accountSid}/Messages.json`,
      headers: { authorization: fx.otherAuth },
    });
    assert.equal(fetchOther.json().code, 20003);
  });

  it('a revoked API key is refused on its next request, although it was verified a moment ago', async () => {
    const admin = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
    const issued = await inject({
      method: 'POST',
      url: `/v1/admin/customers/${DEMO.customer}/credentials`,
      headers: admin,
      payload: '{"kind":"api-key"}',
    });
    assert.equal(issued.statusCode, 201);
    const key = issued.json() as { id: string; secret: string };
    const auth = 'Basic ' + Buffer.from(`${key.id}:${key.secret}`).toString('base64');
    const wrong = 'Basic ' + Buffer.from(`${key.id}:${key.secret}x`).toString('base64');
    const body = { to: '+14155550177', from: DEMO.sender, body: 'See you at 5' };
    for (let i = 0; i < 3; i++)
      assert.equal((await json(auth, '/v1/screen', body)).statusCode, 200, 'verified, then served from the cache');
    assert.equal((await json(wrong, '/v1/screen', body)).statusCode, 401, 'a cached key does not admit a different secret');
    assert.equal(
      (await inject({ method: 'DELETE', url: `/v1/admin/credentials/${key.id}`, headers: { authorization: `Bearer ${ADMIN}` } }))
        .statusCode,
      204,
    );
    assert.equal((await json(auth, '/v1/screen', body)).statusCode, 401);
  });

  it('a client guessing secrets gets 429 (Twilio 20429) with Retry-After after 30 failures; other clients are served', async () => {
    const guess = (i: number, remoteAddress: string, auth?: string) =>
      inject({
        method: 'POST',
        url: `/2010-04-01/Accounts/${DEMO.accountSid}/Messages.json`,
        remoteAddress,
        headers: {
          authorization: auth ?? 'Basic ' + Buffer.from(`${DEMO.accountSid}:guess-${i}`).toString('base64'),
          'content-type': 'application/x-www-form-urlencoded',
        },
        payload: form({ To: '+14155550150', From: DEMO.sender, Body: 'hi' }),
      });
    for (let i = 0; i < 30; i++) assert.equal((await guess(i, '203.0.113.50')).statusCode, 401);
    const refused = await guess(30, '203.0.113.50');
    assert.equal(refused.statusCode, 429);
    assert.equal(refused.json().code, 20429);
    assert.ok(Number(refused.headers['retry-after']) >= 1);
    assert.equal((await guess(31, '203.0.113.51')).statusCode, 401, 'another client is still verified');
    assert.equal((await guess(0, '203.0.113.51', fx.demoAuth)).statusCode, 201);
  });

  it('admin and review routes refuse customer credentials', async () => {
    for (const [method, url] of [
      ['GET', '/v1/admin/customers'],
      ['GET', '/v1/review'],
      ['POST', '/v1/review/SM00000000000000000000000000000000'],
    ] as const) {
      const r = await inject({
        method,
        url,
        headers: { authorization: fx.otherAuth, 'content-type': 'application/json' },
        payload: method === 'POST' ? '{"action":"release"}' : undefined,
      });
      assert.equal(r.statusCode, 401, `${method} ${url}`);
    }
  });
});

describe('Twilio-compatible API', () => {
  const ajv = new Ajv({ strict: false, validateFormats: false });
  const messageSchema = ajv.compile(TWILIO_OAI_SUBSET.CreateMessage.response201 as object);
  const callSchema = ajv.compile(TWILIO_OAI_SUBSET.CreateCall.response201 as object);

  it("responses validate against Twilio's CreateMessage and CreateCall schemas", async () => {
    const m = await twilioPost(fx.demoAuth, DEMO.accountSid, 'Messages', {
      To: '+14155550140',
      From: DEMO.sender,
      Body: 'Appointment confirmed',
      MediaUrl: ['https://example.com/1.png', 'https://example.com/2.png'],
    });
    assert.equal(m.statusCode, 201);
    assert.ok(messageSchema(m.json()), JSON.stringify(messageSchema.errors));
    assert.equal(m.json().num_media, '2', 'repeated MediaUrl reaches the upstream unchanged');
    const c = await twilioPost(fx.demoAuth, DEMO.accountSid, 'Calls', {
      To: '+14155550141',
      From: DEMO.sender,
      Url: 'https://example.com/twiml',
    });
    assert.equal(c.statusCode, 201);
    assert.ok(callSchema(c.json()), JSON.stringify(callSchema.errors));
  });

  it("the committed schema subset matches Twilio's document (when ../shared is present)", (t) => {
    const spec = '../shared/specs/twilio-oai/twilio_api_v2010.json';
    if (!existsSync(spec)) return t.skip('Twilio OpenAPI document not present');
    const doc = JSON.parse(readFileSync(spec, 'utf8'));
    const op = doc.paths['/2010-04-01/Accounts/{AccountSid}/Messages.json'].post;
    assert.equal(op.operationId, 'CreateMessage');
    const props = Object.keys(doc.components.schemas['api.v2010.account.message'].properties).sort();
    assert.deepEqual(Object.keys((TWILIO_OAI_SUBSET.CreateMessage.response201 as { properties: object }).properties).sort(), props);
    const callProps = Object.keys(doc.components.schemas['api.v2010.account.call'].properties).sort();
    assert.deepEqual(Object.keys((TWILIO_OAI_SUBSET.CreateCall.response201 as { properties: object }).properties).sort(), callProps);
  });

  it('missing parameters get Twilio codes', async () => {
    assert.equal((await twilioPost(fx.demoAuth, DEMO.accountSid, 'Messages', { From: DEMO.sender, Body: 'x' })).json().code, 21604);
    assert.equal((await twilioPost(fx.demoAuth, DEMO.accountSid, 'Messages', { To: '+14155550142', Body: 'x' })).json().code, 21603);
    assert.equal(
      (await twilioPost(fx.demoAuth, DEMO.accountSid, 'Messages', { To: '+14155550142', From: DEMO.sender })).json().code,
      21602,
    );
    assert.equal((await twilioPost(fx.demoAuth, DEMO.accountSid, 'Calls', { To: '+14155550142', From: DEMO.sender })).json().code, 21205);
  });

  it('a destination outside allowedCountries gets 21408; suspension gets 30002', async () => {
    const put = await json(`Bearer ${ADMIN}`, '/v1/admin/customers/other', { settings: { allowedCountries: ['GB'] } }, 'PUT');
    assert.equal(put.statusCode, 200);
    const r = await twilioPost(fx.otherAuth, fx.other.accountSid, 'Messages', { To: '+14155550143', From: '+15005550009', Body: 'hello' });
    assert.equal(r.json().code, 21408);
    const ok = await twilioPost(fx.otherAuth, fx.other.accountSid, 'Messages', {
      To: '+447700900123',
      From: '+15005550009',
      Body: 'hello',
    });
    assert.equal(ok.statusCode, 201);
    const s = await json(`Bearer ${ADMIN}`, '/v1/admin/customers/other/enforcement', { action: 'suspend', reason: 'test' });
    assert.equal(s.statusCode, 201);
    const sus = await twilioPost(fx.otherAuth, fx.other.accountSid, 'Messages', {
      To: '+447700900123',
      From: '+15005550009',
      Body: 'hello',
    });
    assert.equal(sus.json().code, 30002);
    const demoStill = await twilioPost(fx.demoAuth, DEMO.accountSid, 'Messages', { To: '+14155550144', From: DEMO.sender, Body: 'hello' });
    assert.equal(demoStill.statusCode, 201, 'suspending one tenant leaves the other sending');
    await json(`Bearer ${ADMIN}`, '/v1/admin/customers/other/enforcement', { action: 'reinstate', reason: 'test over' });
  });

  it('the error table maps clauses to codes', () => {
    assert.equal(TWILIO_ERRORS[errorForClause('law.opt-out')].code, 21610);
    assert.equal(TWILIO_ERRORS[errorForClause('account.suspended')].code, 30002);
    assert.equal(TWILIO_ERRORS[errorForClause('identity.falsification.sender')].code, 21606);
    assert.equal(TWILIO_ERRORS[errorForClause('country.requirements')].code, 21408);
    assert.equal(TWILIO_ERRORS[errorForClause('content.false.phishing')].code, 30007);
  });
});

describe('recipients in one canonical form', () => {
  it('an opted-out number written another way is still opted out, on both APIs; the consent API keys numbers alike', async () => {
    const opt = await json(fx.demoAuth, '/v1/consent', { recipient: '+1 415-555-0171', kind: 'opt-out' });
    assert.equal(opt.statusCode, 201);
    assert.equal(opt.json().recipient, '+14155550171', 'recorded in E.164');
    for (const written of ['+14155550171', '+1 (415) 555-0171', '+1.415.555.0171', '(415) 555-0171', '415-555-0171']) {
      const r = await twilioPost(fx.demoAuth, DEMO.accountSid, 'Messages', { To: written, From: DEMO.sender, Body: 'hello again' });
      assert.equal(r.json().code, 21610, `To=${written}`);
    }
    const wa = await twilioPost(fx.demoAuth, DEMO.accountSid, 'Messages', {
      To: 'whatsapp:+1 415 555 0171',
      From: `whatsapp:${DEMO.sender}`,
      Body: 'hi',
    });
    assert.notEqual(wa.json().code, 21211, 'a channel address is a valid To');
    for (const written of ['+1 (415) 555-0171', '+1-415-555-0171']) {
      const d = (await json(fx.demoAuth, '/v1/screen', { to: written, from: DEMO.sender, body: 'hello again' })).json();
      assert.equal(d.action, 'block', `to=${written}`);
      assert.ok(d.reasons.some((r: { clause: string }) => r.clause === 'law.opt-out'));
    }
    const got = await inject({ url: `/v1/consent/${encodeURIComponent('+1 (415) 555-0171')}`, headers: { authorization: fx.demoAuth } });
    assert.equal(got.statusCode, 200);
    assert.deepEqual([got.json().recipient, got.json().optedOut, got.json().history.length], ['+14155550171', true, 1]);
  });

  it('an opt-out recorded with formatting before numbers were kept canonical still holds', async () => {
    await fx.gw.stores.consent.append({
      customer: DEMO.customer,
      recipient: '+1-415-555-0175',
      kind: 'opt-out',
      source: 'api',
      at: new Date().toISOString(),
    });
    await fx.gw.projection.refresh();
    const r = await twilioPost(fx.demoAuth, DEMO.accountSid, 'Messages', { To: '+14155550175', From: DEMO.sender, Body: 'hello' });
    assert.equal(r.json().code, 21610);
  });

  it('a batch with one message that is no message is refused whole, before any is screened', async () => {
    const count = async () => {
      const text = (await inject({ url: '/metrics' })).body;
      return [...text.matchAll(/^warden_decisions_total\{[^}]*api="native"[^}]*\} (\d+)/gm)].reduce((a, m) => a + Number(m[1]), 0);
    };
    const before = await count();
    const r = await json(fx.demoAuth, '/v1/screen', {
      messages: [
        { to: '+14155550174', body: 'one' },
        { to: 'nobody', body: 'two' },
      ],
    });
    assert.equal(r.statusCode, 400);
    assert.match(r.json().error, /^messages\[1\]: field "to"/);
    assert.equal(await count(), before, 'no decision counted for a refused batch');
    assert.equal((await json(fx.demoAuth, '/v1/screen', { messages: [{ to: '+14155550174', body: 'one' }] })).statusCode, 200);
    assert.equal(await count(), before + 1, 'the counter is the one read');
  });

  it('a To that is no phone number gets 21211 (native API: 400); calls may go to sip: and client: addresses', async () => {
    for (const to of ['+1415', 'hello', '+1 415 555 01', '12']) {
      const r = await twilioPost(fx.demoAuth, DEMO.accountSid, 'Messages', { To: to, From: DEMO.sender, Body: 'hello' });
      assert.deepEqual([r.statusCode, r.json().code], [400, 21211], `To=${to}`);
      const n = await json(fx.demoAuth, '/v1/screen', { to, from: DEMO.sender, body: 'hello' });
      assert.equal(n.statusCode, 400, `to=${to}`);
      assert.match(n.json().error, /"to" is not a phone number/);
    }
    assert.equal((await json(fx.demoAuth, '/v1/consent', { recipient: 'hello', kind: 'opt-out' })).statusCode, 400);
    for (const to of ['client:alice', 'sip:alice@example.com']) {
      const r = await twilioPost(fx.demoAuth, DEMO.accountSid, 'Calls', { To: to, From: DEMO.sender, Url: 'https://example.com/twiml' });
      assert.equal(r.statusCode, 201, `To=${to}`);
    }
    const chat = await json(fx.demoAuth, '/v1/screen', { to: 'user-42', from: 'bot', body: 'hello', channel: 'chat' });
    assert.equal(chat.statusCode, 200, "a chat recipient is the platform's identifier");
  });

  it("a customer's own number written with formatting is still its own (From and the admin API's senders)", async () => {
    assert.equal(
      (await json(`Bearer ${ADMIN}`, '/v1/admin/customers/other', { settings: { allowedCountries: [] } }, 'PUT')).statusCode,
      200,
    );
    const r = await twilioPost(fx.otherAuth, fx.other.accountSid, 'Messages', {
      To: '+14155550173',
      From: '+1 (500) 555-0009',
      Body: 'hello',
    });
    assert.equal(r.statusCode, 201, JSON.stringify(r.json()));
    const put = await json(
      `Bearer ${ADMIN}`,
      '/v1/admin/customers/other',
      { senders: ['+1 500-555-0009', 'ACME', 'MG' + '0'.repeat(32)] },
      'PUT',
    );
    assert.equal(put.statusCode, 200);
    assert.deepEqual(put.json().senders, ['+15005550009', 'ACME', 'MG' + '0'.repeat(32)]);
    assert.equal(
      (await twilioPost(fx.otherAuth, fx.other.accountSid, 'Messages', { To: '+14155550173', From: '+15005550009', Body: 'hello' }))
        .statusCode,
      201,
    );
    assert.equal(
      (await twilioPost(fx.otherAuth, fx.other.accountSid, 'Messages', { To: '+14155550173', From: '+15005550010', Body: 'hello' })).json()
        .code,
      21606,
    );
  });

  it('allowedCountries tells the countries of a shared calling code apart (+1 613 is Canada)', async () => {
    const put = await json(`Bearer ${ADMIN}`, '/v1/admin/customers/other', { settings: { allowedCountries: ['US'] } }, 'PUT');
    assert.equal(put.statusCode, 200);
    try {
      const us = await twilioPost(fx.otherAuth, fx.other.accountSid, 'Messages', {
        To: '+14155550172',
        From: '+15005550009',
        Body: 'hello',
      });
      assert.equal(us.statusCode, 201);
      const ca = await twilioPost(fx.otherAuth, fx.other.accountSid, 'Messages', {
        To: '+16135550172',
        From: '+15005550009',
        Body: 'hello',
      });
      assert.equal(ca.json().code, 21408);
    } finally {
      await json(`Bearer ${ADMIN}`, '/v1/admin/customers/other', { settings: { allowedCountries: [] } }, 'PUT');
    }
  });
});

describe('review: held, then released or refused with a status callback', () => {
  let receiver: CallbackReceiver;
  let cbUrl = '';
  let callbacks: CallbackReceiver['callbacks'] = [];
  before(async () => {
    receiver = await startCallbackReceiver();
    ({ url: cbUrl, callbacks } = receiver);
  });
  after(() => receiver.close());

  it('a message the policy sends to review is accepted, then released through the admin API', async () => {
    // A body the default pack holds for review (examples/sample-messages.jsonl).
    const body = "I know where you live. I'll f.i.n.d you and hurt you";
    assert.equal((await json(fx.demoAuth, '/v1/screen', { body, to: '+14155550160', from: DEMO.sender })).json().action, 'review');
    const r = await twilioPost(fx.demoAuth, DEMO.accountSid, 'Messages', {
      To: '+14155550160',
      From: DEMO.sender,
      Body: body,
      StatusCallback: cbUrl,
    });
    assert.equal(r.statusCode, 201);
    assert.equal(r.json().status, 'accepted');
    const sid = r.json().sid;
    const held = await inject({ url: '/v1/review', headers: { authorization: `Bearer ${ADMIN}` } });
    assert.ok(held.json().held.some((h: { sid: string }) => h.sid === sid));
    const rel = await json(`Bearer ${ADMIN}`, `/v1/review/${sid}`, { action: 'release' });
    assert.equal(rel.statusCode, 200);
    assert.equal(rel.json().status, 'queued');
    const cb = callbacks.find((c) => c.body.includes(sid));
    assert.ok(cb, 'the app heard through its StatusCallback');
    const params = Object.fromEntries(new URLSearchParams(cb.body));
    assert.equal(params.MessageStatus, 'queued');
    assert.ok(
      twilio.validateRequest(DEMO.authToken, cb.signature ?? '', cbUrl, params),
      "the callback is signed with the app's own auth token",
    );
    assert.equal(
      (await json(`Bearer ${ADMIN}`, `/v1/review/${sid}`, { action: 'release' })).statusCode,
      409,
      'settled once: a second release is a conflict',
    );
    assert.ok(fx.gw.app.sink?.messages.has(rel.json().upstreamSid), 'released to the upstream');
  });

  it("a refused message fails through its StatusCallback with the clause's code", async () => {
    const r = await twilioPost(fx.demoAuth, DEMO.accountSid, 'Messages', {
      To: '+14155550161',
      From: DEMO.sender,
      Body: "I know where you live. I'll f.i.n.d you and hurt you",
      StatusCallback: cbUrl,
    });
    const sid = r.json().sid;
    const ref = await json(`Bearer ${ADMIN}`, `/v1/review/${sid}`, { action: 'refuse' });
    assert.equal(ref.json().status, 'failed');
    const params = Object.fromEntries(new URLSearchParams(callbacks.find((c) => c.body.includes(sid))?.body ?? ''));
    assert.equal(params.MessageStatus, 'failed');
    assert.equal(params.ErrorCode, '30007');
  });
});

describe('ops endpoints', () => {
  it('health, readiness, metrics, OpenAPI and docs', async () => {
    assert.equal((await inject({ url: '/healthz' })).json().status, 'ok');
    assert.equal((await inject({ url: '/readyz' })).json().status, 'ready');
    const metrics = (await inject({ url: '/metrics' })).body;
    assert.match(metrics, /warden_decisions_total\{action="block"/);
    assert.match(metrics, /warden_decision_reasons_total\{clause="/);
    assert.match(metrics, /warden_http_request_duration_seconds_bucket/);
    const doc = (await inject({ url: '/openapi.json' })).json();
    assert.ok(doc.paths['/v1/screen'].post);
    assert.ok(doc.paths['/2010-04-01/Accounts/{AccountSid}/Messages.json'].post);
    const docs = await inject({ url: '/docs/' });
    assert.equal(docs.statusCode, 200);
    assert.match(String(docs.headers['content-type']), /html/);
    assert.ok(docs.headers['x-content-type-options'], 'security headers on console routes');
  });

  it('CORS is closed unless origins are configured', async () => {
    const r = await inject({
      method: 'OPTIONS',
      url: '/v1/screen',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(r.headers['access-control-allow-origin'], undefined);
  });
  it('CORS opens to the configured origins only; API replies carry no browser headers', async () => {
    const open = await startFixture({ corsOrigins: ['https://console.example'] });
    try {
      const pre = (origin: string) =>
        open.gw.app.inject({ method: 'OPTIONS', url: '/v1/screen', headers: { origin, 'access-control-request-method': 'POST' } });
      assert.equal((await pre('https://console.example')).headers['access-control-allow-origin'], 'https://console.example');
      assert.equal((await pre('https://evil.example')).headers['access-control-allow-origin'], undefined);
      const api = await open.gw.app.inject({
        method: 'POST',
        url: '/v1/screen',
        headers: { authorization: open.demoAuth, 'content-type': 'application/json' },
        payload: JSON.stringify({ body: 'hello' }),
      });
      assert.equal(api.statusCode, 200);
      assert.equal(api.headers['content-security-policy'], undefined, 'helmet stays in the docs scope');
    } finally {
      await open.gw.close();
    }
  });
});

describe('no 5xx for any client input (fast-check)', () => {
  const paths = [
    '/v1/screen',
    '/v1/consent',
    `/2010-04-01/Accounts/${DEMO.accountSid}/Messages.json`,
    `/2010-04-01/Accounts/${DEMO.accountSid}/Calls.json`,
    `/twilio/inbound/${DEMO.customer}`,
    '/v1/admin/customers',
    '/v1/review/x',
  ];
  const auths = [undefined, 'garbage', 'Basic', 'Basic !!!', 'Bearer x'];
  it('random bodies, content types and credentials', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...paths),
        fc.oneof(
          fc.json(),
          fc.string(),
          fc
            .dictionary(fc.string({ maxLength: 12 }), fc.oneof(fc.string(), fc.array(fc.string(), { maxLength: 3 })))
            .map((d) => form(d as Record<string, string | string[]>)),
        ),
        fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/plain', 'application/octet-stream'),
        fc.integer({ min: 0, max: 6 }),
        async (url, payload, ct, authIdx) => {
          const authorization = authIdx === 5 ? fx.demoAuth : authIdx === 6 ? `Bearer ${ADMIN}` : auths[authIdx];
          const r = await inject({
            method: 'POST',
            url,
            headers: { 'content-type': ct, ...(authorization ? { authorization } : {}) },
            payload,
          });
          assert.ok(r.statusCode < 500, `${url} ${ct} -> ${r.statusCode} ${r.body}`);
        },
      ),
      { numRuns: 300 },
    );
  });

  // The provider webhooks read only signed forms; to reach past the signature check the generated
  // forms are signed (most of them) with the upstream token over the URL Warden reconstructs.
  const hookPaths = [
    `/twilio/inbound/${DEMO.customer}`,
    `/twilio/status/${DEMO.customer}`,
    '/twilio/inbound/other',
    '/twilio/status/nobody',
    `/twilio/inbound/${'x'.repeat(300)}`,
  ];
  const leaf = fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null));
  const nested = fc.letrec((tie) => ({
    node: fc.oneof(
      { depthSize: 'small' },
      leaf,
      fc.array(tie('node'), { maxLength: 4 }),
      fc.dictionary(fc.constantFrom('MessageSid', 'Body', 'From', 'MessageStatus', '__proto__', 'constructor', 'a'), tie('node'), {
        maxKeys: 4,
      }),
    ),
  })).node;
  const deep = fc.integer({ min: 1, max: 20_000 }).map((n) => '['.repeat(n) + ']'.repeat(n));
  const wide = fc.integer({ min: 1, max: 20_000 }).map((n) => JSON.stringify({ MessageSid: Array.from({ length: n }, (_, i) => i) }));
  const jsonBody = fc.oneof(
    nested.map((v) => JSON.stringify(v)),
    deep,
    wide,
    fc.json(),
  );
  const names = fc.oneof(
    fc.constantFrom(
      'MessageSid',
      'SmsSid',
      'CallSid',
      'MessageStatus',
      'CallStatus',
      'Body',
      'From',
      'To',
      'Timestamp',
      'OptOutType',
      'AccountSid',
      '__proto__',
      'constructor',
      'hasOwnProperty',
      '',
      'a[b]',
      'a.b',
      'Body[]',
    ),
    fc.string({ maxLength: 12 }),
  );
  const values = fc.oneof(
    fc.constantFrom(
      'STOP',
      'start',
      'HELP',
      'SM' + 'a'.repeat(32),
      'delivered',
      'Tue, 01 Dec 2026 10:00:00 +0000',
      '9999-12-31T00:00:00Z',
      '-1',
      '+14155550100',
      '\u0000',
      '%zz',
    ),
    fc.string({ maxLength: 40 }),
  );
  const formBody = fc
    .array(fc.tuple(names, values), { maxLength: 12 })
    .map((pairs) => pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&'));
  // A provider-shaped event (its own SID, a keyword or a status) with random and repeated extras.
  const eventForm = fc
    .tuple(
      fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 32, maxLength: 32 }),
      fc.constantFrom('STOP', 'START', 'HELP', 'hello'),
      fc.constantFrom('sent', 'delivered'),
      formBody,
    )
    .map(
      ([hex, body, status, extra]) =>
        `MessageSid=SM${hex}&Body=${body}&MessageStatus=${status}&From=%2B14155550199${extra ? '&' + extra : ''}`,
    );
  const oddForm = fc.constantFrom(
    'a=1&a=2&a=3&MessageSid=SM1&MessageSid=SM2',
    '&&&=&==',
    'MessageSid',
    '%',
    'Body=%E0%A4%A',
    '__proto__[x]=1&MessageSid=SMx',
    'a=' + 'b'.repeat(70_000),
  );
  it('provider webhooks: JSON, nested and deep bodies, odd and repeated form keys, signed or not: never a 5xx', async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...hookPaths),
        fc.oneof(
          jsonBody.map((b) => ['application/json', b] as const),
          fc.oneof(formBody, eventForm, oddForm).map((b) => ['application/x-www-form-urlencoded', b] as const),
          fc.string().map((b) => ['text/plain', b] as const),
        ),
        fc.boolean(),
        async (url, [ct, payload], signed) => {
          const headers: Record<string, string> = { 'content-type': ct };
          if (signed)
            headers['x-twilio-signature'] = computeSignature(
              fx.sinkToken,
              `http://localhost${url}`,
              parseQuery(payload) as Record<string, string | string[]>,
            );
          const r = await inject({ method: 'POST', url, headers, payload });
          statuses.set(r.statusCode, (statuses.get(r.statusCode) ?? 0) + 1);
          assert.ok(r.statusCode < 500, `${url} ${ct} ${payload.slice(0, 200)} -> ${r.statusCode} ${r.body.slice(0, 200)}`);
        },
      ),
      { numRuns: 400 },
    );
    // The property reached the handlers, not only the signature check.
    assert.ok((statuses.get(200) ?? 0) + (statuses.get(204) ?? 0) > 0, JSON.stringify([...statuses]));
    assert.ok((statuses.get(400) ?? 0) > 0, JSON.stringify([...statuses]));
  });
});
