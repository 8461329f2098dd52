// The official `twilio` package against a listening Warden: only the base URL and credentials
// change. Sends, refusals (RestException codes), calls, passthrough fetches, and inbound webhooks
// signed with the package's own signature function.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import twilio from 'twilio';
import { startFixture, DEMO, BLOCKED_BODY, form, type Fixture } from './helpers.js';

let fx: Fixture;
let client: ReturnType<typeof twilio>;

before(async () => {
  fx = await startFixture();
  client = twilio(DEMO.accountSid, DEMO.authToken);
  // The documented way to point the SDK at Warden.
  client.api.baseUrl = fx.gw.url;
});
after(async () => fx.gw.close());

describe('twilio client through Warden', () => {
  it('messages.create returns a Message resource forwarded to the sink', async () => {
    const m = await client.messages.create({ to: '+14155550101', from: DEMO.sender, body: 'Your table for two is ready', mediaUrl: ['https://example.com/a.png', 'https://example.com/b.png'] });
    assert.match(m.sid, /^MM[0-9a-f]{32}$/, 'a message with media is named MM..., as on Twilio');
    assert.equal(m.status, 'queued');
    assert.equal(m.to, '+14155550101');
    assert.equal(m.numMedia, '2');
    assert.ok(fx.gw.app.sink?.messages.has(m.sid), 'the sink upstream received the message');
    const fetched = await client.messages(m.sid).fetch();
    assert.equal(fetched.sid, m.sid, 'fetch passes through to the upstream');
  });

  it('an API key credential works too', async () => {
    const k = twilio(DEMO.apiKeySid, DEMO.apiKeySecret, { accountSid: DEMO.accountSid });
    k.api.baseUrl = fx.gw.url;
    const m = await k.messages.create({ to: '+14155550102', from: DEMO.sender, body: 'See you at 7' });
    assert.equal(m.status, 'queued');
  });

  it('a send to an opted-out number raises RestException 21610', async () => {
    const res = await fetch(`${fx.gw.url}/v1/consent`, { method: 'POST', headers: { authorization: fx.demoAuth, 'content-type': 'application/json' }, body: JSON.stringify({ recipient: '+14155550199', kind: 'opt-out' }) });
    assert.equal(res.status, 201);
    await assert.rejects(client.messages.create({ to: '+14155550199', from: DEMO.sender, body: 'Hello again' }), (e: { code?: number; status?: number }) => {
      assert.equal(e.code, 21610);
      assert.equal(e.status, 400);
      return true;
    });
  });

  it('the opted-out number written with formatting still raises 21610; a To that is no number raises 21211', async () => {
    await assert.rejects(client.messages.create({ to: '+1 (415) 555-0199', from: DEMO.sender, body: 'Hello again' }), (e: { code?: number }) => e.code === 21610);
    await assert.rejects(client.messages.create({ to: '+1415', from: DEMO.sender, body: 'Hello' }), (e: { code?: number; status?: number }) => e.code === 21211 && e.status === 400);
    await assert.rejects(client.messages.create({ to: 'rcs:+14155550199', from: DEMO.sender, body: 'Hello again' }), (e: { code?: number }) => e.code === 21610, 'an SMS opt-out stops RCS too');
  });

  it('a blocked body raises RestException 30007', async () => {
    await assert.rejects(client.messages.create({ to: '+14155550103', from: DEMO.sender, body: BLOCKED_BODY }), (e: { code?: number }) => e.code === 30007);
  });

  it('a sender the customer does not own raises 21606', async () => {
    await assert.rejects(client.messages.create({ to: '+14155550104', from: '+15005550009', body: 'hello' }), (e: { code?: number }) => e.code === 21606);
  });

  it('wrong credentials raise 20003', async () => {
    const bad = twilio(DEMO.accountSid, 'not-the-token');
    bad.api.baseUrl = fx.gw.url;
    await assert.rejects(bad.messages.create({ to: '+14155550105', from: DEMO.sender, body: 'hi' }), (e: { code?: number; status?: number }) => e.code === 20003 && e.status === 401);
  });

  it('calls.create works, and a blocked TwiML script raises 30007', async () => {
    const call = await client.calls.create({ to: '+14155550106', from: DEMO.sender, twiml: '<Response><Say>Your appointment is tomorrow at 9</Say></Response>' });
    assert.match(call.sid, /^CA[0-9a-f]{32}$/);
    assert.ok(fx.gw.app.sink?.calls.has(call.sid));
    await assert.rejects(client.calls.create({ to: '+14155550107', from: DEMO.sender, twiml: `<Response><Say>${BLOCKED_BODY}</Say></Response>` }), (e: { code?: number }) => e.code === 30007);
  });

  it('lists pass through to the upstream', async () => {
    const list = await client.messages.list({ limit: 5 });
    assert.ok(list.length >= 1);
    assert.ok(list.every((m) => m.accountSid === DEMO.accountSid));
  });
});

describe('inbound webhook signed with the twilio package', () => {
  const inboundUrl = () => `${fx.gw.url}/twilio/inbound/${DEMO.customer}`;
  const post = (params: Record<string, string>, signature?: string) => fetch(inboundUrl(), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(signature !== undefined ? { 'x-twilio-signature': signature } : {}) },
    body: form(params),
  });

  it('STOP with a valid signature opts the sender out and answers TwiML', async () => {
    const params = { From: '+14155550150', To: DEMO.sender, Body: 'stop', MessageSid: 'SM' + 'a'.repeat(32), AccountSid: DEMO.accountSid };
    const sig = twilio.getExpectedTwilioSignature(fx.sinkToken, inboundUrl(), params);
    assert.ok(twilio.validateRequest(fx.sinkToken, sig, inboundUrl(), params));
    const res = await post(params, sig);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /xml/);
    assert.match(await res.text(), /<Response><Message>You are unsubscribed/);
    await assert.rejects(client.messages.create({ to: '+14155550150', from: DEMO.sender, body: 'Still there?' }), (e: { code?: number }) => e.code === 21610);
    // START opts back in.
    const start = { ...params, Body: 'START' };
    assert.equal((await post(start, twilio.getExpectedTwilioSignature(fx.sinkToken, inboundUrl(), start))).status, 200);
    const m = await client.messages.create({ to: '+14155550150', from: DEMO.sender, body: 'Welcome back' });
    assert.equal(m.status, 'queued');
  });

  it('a bad or missing signature gets 403 and changes nothing', async () => {
    const params = { From: '+14155550151', To: DEMO.sender, Body: 'STOP' };
    const forged = twilio.getExpectedTwilioSignature('wrong-token', inboundUrl(), params);
    assert.equal((await post(params, forged)).status, 403);
    assert.equal((await post(params)).status, 403);
    assert.equal((await fx.gw.stores.consent.history(DEMO.customer, '+14155550151')).length, 0);
    const m = await client.messages.create({ to: '+14155550151', from: DEMO.sender, body: 'Not opted out' });
    assert.equal(m.status, 'queued');
  });

  it('opt-out keywords are read as people write them: any case, full-width, quoted, with punctuation, OPT OUT and REVOKE', async () => {
    const bodies = ['Opt out', 'revoke', '\uff33\uff34\uff2f\uff30', '"Stop!"', ' unsubscribe. ', 'STOP ALL'];
    for (let i = 0; i < bodies.length; i++) {
      const params = { From: `+1415555016${i}`, To: DEMO.sender, Body: bodies[i] };
      assert.equal((await post(params, twilio.getExpectedTwilioSignature(fx.sinkToken, inboundUrl(), params))).status, 200);
      await assert.rejects(client.messages.create({ to: params.From, from: DEMO.sender, body: 'Still there?' }), (e: { code?: number }) => e.code === 21610, JSON.stringify(bodies[i]));
    }
    const chat = { From: '+14155550169', To: DEMO.sender, Body: 'please stop by later' };
    assert.equal((await post(chat, twilio.getExpectedTwilioSignature(fx.sinkToken, inboundUrl(), chat))).status, 200);
    const m = await client.messages.create({ to: chat.From, from: DEMO.sender, body: 'See you' });
    assert.equal(m.status, 'queued', 'a sentence holding the word is no keyword');
  });

  it('HELP answers the configured help text', async () => {
    const params = { From: '+14155550152', To: DEMO.sender, Body: 'HELP' };
    const res = await post(params, twilio.getExpectedTwilioSignature(fx.sinkToken, inboundUrl(), params));
    assert.match(await res.text(), /reply STOP to unsubscribe/);
  });
});
