// The official `twilio` package against a listening Warden: only the base URL and credentials
// change. Sends, refusals (RestException codes), calls, passthrough fetches, inbound webhooks
// signed with the package's own signature function, replays of them, and relays to an app that
// validates them with the package's `twilio.webhook()` and `validateRequest` and its own token.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import twilio from 'twilio';
import {
  ALLOW_LOOPBACK,
  startFixture,
  startTwilioApp,
  until,
  DEMO,
  ADMIN,
  BLOCKED_BODY,
  form,
  type Fixture,
  type TwilioApp,
} from './helpers.js';
import { createCustomer, updateCustomer } from '../../src/http/admin/tenancy.js';
import { hashSecret, newSid } from '../../src/http/credentials.js';
import { dirname } from 'node:path';
import { DEFAULT_CONFIG } from '../../src/config.js';
import { startGateway } from '../../src/serve.js';

let fx: Fixture;
let client: ReturnType<typeof twilio>;

before(async () => {
  fx = await startFixture({ egressAllow: ALLOW_LOOPBACK });
  client = twilio(DEMO.accountSid, DEMO.authToken);
  // The documented way to point the SDK at Warden.
  client.api.baseUrl = fx.gw.url;
});
after(async () => fx.gw.close());

describe('twilio client through Warden', () => {
  it('messages.create returns a Message resource forwarded to the sink', async () => {
    const m = await client.messages.create({
      to: '+14155550101',
      from: DEMO.sender,
      body: 'Your table for two is ready',
      mediaUrl: ['https://example.com/a.png', 'https://example.com/b.png'],
    });
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
    const res = await fetch(`${fx.gw.url}/v1/consent`, {
      method: 'POST',
      headers: { authorization: fx.demoAuth, 'content-type': 'application/json' },
      body: JSON.stringify({ recipient: '+14155550199', kind: 'opt-out' }),
    });
    assert.equal(res.status, 201);
    await assert.rejects(
      client.messages.create({ to: '+14155550199', from: DEMO.sender, body: 'Hello again' }),
      (e: { code?: number; status?: number }) => {
        assert.equal(e.code, 21610);
        assert.equal(e.status, 400);
        return true;
      },
    );
  });

  it('the opted-out number written with formatting still raises 21610; a To that is no number raises 21211', async () => {
    await assert.rejects(
      client.messages.create({ to: '+1 (415) 555-0199', from: DEMO.sender, body: 'Hello again' }),
      (e: { code?: number }) => e.code === 21610,
    );
    await assert.rejects(
      client.messages.create({ to: '+1415', from: DEMO.sender, body: 'Hello' }),
      (e: { code?: number; status?: number }) => e.code === 21211 && e.status === 400,
    );
    await assert.rejects(
      client.messages.create({ to: 'rcs:+14155550199', from: DEMO.sender, body: 'Hello again' }),
      (e: { code?: number }) => e.code === 21610,
      'an SMS opt-out stops RCS too',
    );
  });

  it('a blocked body raises RestException 30007', async () => {
    await assert.rejects(
      client.messages.create({ to: '+14155550103', from: DEMO.sender, body: BLOCKED_BODY }),
      (e: { code?: number }) => e.code === 30007,
    );
  });

  it('a sender the customer does not own raises 21606', async () => {
    await assert.rejects(
      client.messages.create({ to: '+14155550104', from: '+15005550009', body: 'hello' }),
      (e: { code?: number }) => e.code === 21606,
    );
  });

  it('wrong credentials raise 20003', async () => {
    const bad = twilio(DEMO.accountSid, 'not-the-token');
    bad.api.baseUrl = fx.gw.url;
    await assert.rejects(
      bad.messages.create({ to: '+14155550105', from: DEMO.sender, body: 'hi' }),
      (e: { code?: number; status?: number }) => e.code === 20003 && e.status === 401,
    );
  });

  it('calls.create works, and a blocked TwiML script raises 30007', async () => {
    const call = await client.calls.create({
      to: '+14155550106',
      from: DEMO.sender,
      twiml: '<Response><Say>Your appointment is tomorrow at 9</Say></Response>',
    });
    assert.match(call.sid, /^CA[0-9a-f]{32}$/);
    assert.ok(fx.gw.app.sink?.calls.has(call.sid));
    await assert.rejects(
      client.calls.create({ to: '+14155550107', from: DEMO.sender, twiml: `<Response><Say>${BLOCKED_BODY}</Say></Response>` }),
      (e: { code?: number }) => e.code === 30007,
    );
  });

  it('lists pass through to the upstream', async () => {
    const list = await client.messages.list({ limit: 5 });
    assert.ok(list.length >= 1);
    assert.ok(list.every((m) => m.accountSid === DEMO.accountSid));
  });
});

describe('inbound webhook signed with the twilio package', () => {
  const inboundUrl = () => `${fx.gw.url}/twilio/inbound/${DEMO.customer}`;
  const post = (params: Record<string, string>, signature?: string) =>
    fetch(inboundUrl(), {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(signature !== undefined ? { 'x-twilio-signature': signature } : {}),
      },
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
    await assert.rejects(
      client.messages.create({ to: '+14155550150', from: DEMO.sender, body: 'Still there?' }),
      (e: { code?: number }) => e.code === 21610,
    );
    // START opts back in.
    const start = { ...params, Body: 'START', MessageSid: newSid('SM') };
    assert.equal((await post(start, twilio.getExpectedTwilioSignature(fx.sinkToken, inboundUrl(), start))).status, 200);
    const m = await client.messages.create({ to: '+14155550150', from: DEMO.sender, body: 'Welcome back' });
    assert.equal(m.status, 'queued');
  });

  it('a bad or missing signature gets 403 and changes nothing', async () => {
    const params = { From: '+14155550151', To: DEMO.sender, Body: 'STOP', MessageSid: newSid('SM') };
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
      const params = { From: `+1415555016${i}`, To: DEMO.sender, Body: bodies[i], MessageSid: newSid('SM') };
      assert.equal((await post(params, twilio.getExpectedTwilioSignature(fx.sinkToken, inboundUrl(), params))).status, 200);
      await assert.rejects(
        client.messages.create({ to: params.From, from: DEMO.sender, body: 'Still there?' }),
        (e: { code?: number }) => e.code === 21610,
        JSON.stringify(bodies[i]),
      );
    }
    const chat = { From: '+14155550169', To: DEMO.sender, Body: 'please stop by later', MessageSid: newSid('SM') };
    assert.equal((await post(chat, twilio.getExpectedTwilioSignature(fx.sinkToken, inboundUrl(), chat))).status, 200);
    const m = await client.messages.create({ to: chat.From, from: DEMO.sender, body: 'See you' });
    assert.equal(m.status, 'queued', 'a sentence holding the word is no keyword');
  });

  it('HELP answers the configured help text', async () => {
    const params = { From: '+14155550152', To: DEMO.sender, Body: 'HELP', MessageSid: newSid('SM') };
    const res = await post(params, twilio.getExpectedTwilioSignature(fx.sinkToken, inboundUrl(), params));
    assert.match(await res.text(), /reply STOP to unsubscribe/);
  });
});

/** Posts a provider webhook to Warden, signed as the provider signs it (with the upstream token). */
async function provider(path: string, params: Record<string, string>, token: string = fx.sinkToken): Promise<Response> {
  const url = `${fx.gw.url}${path}`;
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': twilio.getExpectedTwilioSignature(token, url, params),
    },
    body: form(params),
  });
}

const optedOut = async (to: string) => {
  try {
    await client.messages.create({ to, from: DEMO.sender, body: 'Your order shipped' });
    return false;
  } catch (e) {
    if ((e as { code?: number }).code === 21610) return true;
    throw e;
  }
};

describe("relays to the app validate with the app's own auth token (twilio.webhook, validateRequest)", () => {
  let app: TwilioApp;
  const hookUrl = () => `${app.url}/sms?tenant=demo`;
  const statusUrl = () => `${app.url}/status?tenant=demo`;
  /** The first `n` status callbacks the app received for a message (the provider sends them a few ms apart). */
  const statuses = async (sid: string, n: number) => {
    await until(() => app.requests.filter((r) => r.params.MessageSid === sid).length >= n);
    return app.requests.filter((r) => r.params.MessageSid === sid);
  };
  before(async () => {
    app = await startTwilioApp(
      DEMO.authToken,
      '<?xml version="1.0" encoding="UTF-8"?><Response><Message>Thanks, a person will answer</Message></Response>',
    );
    await updateCustomer(fx.gw.stores, DEMO.customer, { webhookUrl: hookUrl() });
  });
  after(async () => {
    await app.close();
  });

  it("an incoming message is relayed signed with the customer's auth token over the app's URL, and the app's TwiML is answered", async () => {
    const params = {
      From: '+14155550170',
      To: DEMO.sender,
      Body: 'Is the shop open today?',
      MessageSid: newSid('SM'),
      AccountSid: DEMO.accountSid,
      NumMedia: '0',
    };
    const res = await provider(`/twilio/inbound/${DEMO.customer}`, params);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /a person will answer/, 'the app validated the relay and its TwiML came back');
    const got = app.requests.at(-1)!;
    assert.equal(got.status, 200, "twilio.webhook() with the app's token let it through");
    assert.equal(got.path, '/sms?tenant=demo');
    assert.deepEqual(got.params, params, 'relayed unchanged (no OptOutType on a conversational message)');
    assert.ok(twilio.validateRequest(DEMO.authToken, got.signature!, hookUrl(), got.params));
    assert.equal(twilio.validateRequest(fx.sinkToken, got.signature!, hookUrl(), got.params), false, 'not signed with the upstream token');
  });

  it('STOP, START and HELP carry OptOutType, inside the signature', async () => {
    for (const [body, type] of [
      ['stop', 'STOP'],
      ['Start', 'START'],
      ['HELP', 'HELP'],
    ] as const) {
      const n = app.requests.length;
      assert.equal(
        (
          await provider(`/twilio/inbound/${DEMO.customer}`, {
            From: '+14155550171',
            To: DEMO.sender,
            Body: body,
            MessageSid: newSid('SM'),
          })
        ).status,
        200,
      );
      await until(() => app.requests.length > n);
      const got = app.requests.at(-1)!;
      assert.equal(got.params.OptOutType, type, body);
      assert.equal(got.status, 200, `${body}: the app validated the relay`);
    }
  });

  it('a status callback is relayed signed for the app', async () => {
    // The provider (the sink) posts each status to Warden's URL for the message; Warden relays it to the app's StatusCallback.
    const m = await client.messages.create({
      to: '+14155550172',
      from: DEMO.sender,
      body: 'Your order has shipped',
      statusCallback: statusUrl(),
    });
    const got = await statuses(m.sid, 2);
    assert.deepEqual(
      got.map((r) => r.params.MessageStatus),
      ['sent', 'delivered'],
    );
    const sunk = fx.gw.app.sink!.callbacks.filter((c) => c.fields.MessageSid === m.sid);
    assert.equal(sunk.length, 2);
    for (const [i, r] of got.entries()) {
      assert.deepEqual(r.params, { ...sunk[i]!.fields, AccountSid: DEMO.accountSid }, "the provider's fields, under the app's AccountSid");
      assert.equal(r.path, '/status?tenant=demo');
      assert.equal(r.status, 200, "twilio.webhook() with the app's token let it through");
      assert.ok(twilio.validateRequest(DEMO.authToken, r.signature!, statusUrl(), r.params));
      assert.equal(twilio.validateRequest(fx.sinkToken, r.signature!, statusUrl(), r.params), false, 'not signed with the upstream token');
    }
  });

  it('an explicit signing secret replaces the auth token; it is never shown; an empty one restores the auth token', async () => {
    const admin = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
    const put = (settings: Record<string, string>) =>
      fetch(`${fx.gw.url}/v1/admin/customers/${DEMO.customer}`, { method: 'PUT', headers: admin, body: JSON.stringify({ settings }) });
    const set = await put({ signingSecret: 'app-specific-signing-secret' });
    assert.equal(set.status, 200);
    const shown = await set.text();
    assert.doesNotMatch(shown, /app-specific-signing-secret/);
    assert.match(shown, /"signingSecret":"\*{8}"/);
    const stored = JSON.stringify(await fx.gw.stores.tenancy.getCustomer(DEMO.customer));
    assert.doesNotMatch(stored, /app-specific-signing-secret/, 'sealed at rest');
    assert.equal((await put({ signingSecret: 'short' })).status, 400);
    const m = await client.messages.create({
      to: '+14155550173',
      from: DEMO.sender,
      body: 'Your order has shipped',
      statusCallback: statusUrl(),
    });
    for (const got of await statuses(m.sid, 2)) {
      assert.equal(got.status, 403, 'the app validating with its auth token now refuses');
      assert.ok(twilio.validateRequest('app-specific-signing-secret', got.signature!, statusUrl(), got.params));
    }
    // An inbound message relayed to the webhook is signed with it too.
    const inbound = { From: '+14155550174', To: DEMO.sender, Body: 'Are you open?', MessageSid: newSid('SM') };
    assert.equal((await provider(`/twilio/inbound/${DEMO.customer}`, inbound)).status, 200);
    const hook = app.requests.find((r) => r.params.MessageSid === inbound.MessageSid)!;
    assert.equal(hook.status, 403);
    assert.ok(twilio.validateRequest('app-specific-signing-secret', hook.signature!, hookUrl(), hook.params));
    assert.equal((await put({ signingSecret: '' })).status, 200);
    const again = await client.messages.create({
      to: '+14155550175',
      from: DEMO.sender,
      body: 'Your order has shipped',
      statusCallback: statusUrl(),
    });
    for (const got of await statuses(again.sid, 2)) assert.equal(got.status, 200, 'signed with the auth token again');
  });

  it('a customer whose auth token was issued before tokens were kept sealed is signed with the upstream token', async () => {
    // Its upstream is the sink, so its upstream token is the sink's.
    const legacy = await createCustomer(fx.gw.stores, {
      id: 'legacy',
      upstream: { baseUrl: `${fx.gw.url}/sink`, authToken: fx.sinkToken },
      senders: ['+15005550010'],
      webhookUrl: `${app.url}/legacy`,
    });
    // As an older Warden wrote it: the hash only.
    await fx.gw.stores.tenancy.addCredential({
      id: legacy.accountSid,
      customer: 'legacy',
      secretHash: await hashSecret('legacy-app-token'),
      createdAt: new Date().toISOString(),
    });
    const legacyClient = twilio(legacy.accountSid, 'legacy-app-token');
    legacyClient.api.baseUrl = fx.gw.url;
    const m = await legacyClient.messages.create({
      to: '+14155550176',
      from: '+15005550010',
      body: 'Your order has shipped',
      statusCallback: `${app.url}/legacy-status`,
    });
    const got = await statuses(m.sid, 2);
    for (const r of got) {
      assert.equal(r.path, '/legacy-status');
      assert.ok(twilio.validateRequest(fx.sinkToken, r.signature!, `${app.url}/legacy-status`, r.params), 'signed with the upstream token');
      assert.equal(twilio.validateRequest('legacy-app-token', r.signature!, `${app.url}/legacy-status`, r.params), false);
    }
  });
});

describe('replayed provider webhooks change nothing', () => {
  let app: TwilioApp;
  before(async () => {
    app = await startTwilioApp(DEMO.authToken);
    await updateCustomer(fx.gw.stores, DEMO.customer, { webhookUrl: `${app.url}/hook` });
  });
  after(async () => app.close());

  it('an exact replay of a signed STOP: 200 with empty TwiML, no second auto-reply, no second relay, one consent event', async () => {
    const params = { From: '+14155550180', To: DEMO.sender, Body: 'STOP', MessageSid: newSid('SM'), AccountSid: DEMO.accountSid };
    const first = await provider(`/twilio/inbound/${DEMO.customer}`, params);
    assert.match(await first.text(), /You are unsubscribed/);
    await until(() => app.requests.some((r) => r.params.MessageSid === params.MessageSid));
    const replay = await provider(`/twilio/inbound/${DEMO.customer}`, params);
    assert.equal(replay.status, 200);
    assert.equal(await replay.text(), '<?xml version="1.0" encoding="UTF-8"?><Response/>');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(app.requests.filter((r) => r.params.MessageSid === params.MessageSid).length, 1, 'relayed once');
    assert.equal((await fx.gw.stores.consent.history(DEMO.customer, params.From)).length, 1);
  });

  it('replaying an old signed START after a newer STOP leaves the number opted out', async () => {
    const from = '+14155550181';
    const start = { From: from, To: DEMO.sender, Body: 'START', MessageSid: newSid('SM') };
    const stop = { From: from, To: DEMO.sender, Body: 'STOP', MessageSid: newSid('SM') };
    assert.equal((await provider(`/twilio/inbound/${DEMO.customer}`, start)).status, 200);
    assert.equal((await provider(`/twilio/inbound/${DEMO.customer}`, stop)).status, 200);
    assert.equal(await optedOut(from), true);
    assert.equal((await provider(`/twilio/inbound/${DEMO.customer}`, start)).status, 200);
    assert.equal(await optedOut(from), true, 'the replayed START changed nothing');
    assert.deepEqual(
      (await fx.gw.stores.consent.history(DEMO.customer, from)).map((e) => e.kind),
      ['opt-in', 'opt-out'],
    );
  });

  it('a START the provider stamped before the recorded STOP does not opt back in (events ordered by their own instant)', async () => {
    const from = '+14155550182';
    assert.equal(
      (await provider(`/twilio/inbound/${DEMO.customer}`, { From: from, To: DEMO.sender, Body: 'STOP', MessageSid: newSid('SM') })).status,
      200,
    );
    const sentEarlier = new Date(Date.now() - 3_600_000).toUTCString();
    assert.equal(
      (
        await provider(`/twilio/inbound/${DEMO.customer}`, {
          From: from,
          To: DEMO.sender,
          Body: 'START',
          MessageSid: newSid('SM'),
          Timestamp: sentEarlier,
        })
      ).status,
      200,
    );
    assert.equal(await optedOut(from), true);
    const hist = await fx.gw.stores.consent.history(DEMO.customer, from);
    assert.equal(hist[1].at, new Date(sentEarlier).toISOString(), "recorded with the provider's instant");
    // A START stamped later than the STOP does opt back in.
    assert.equal(
      (await provider(`/twilio/inbound/${DEMO.customer}`, { From: from, To: DEMO.sender, Body: 'START', MessageSid: newSid('SM') })).status,
      200,
    );
    assert.equal(await optedOut(from), false);
  });

  it('a status callback replay is not relayed twice; the next status of the same message is', async () => {
    const m = await client.messages.create({
      to: '+14155550185',
      from: DEMO.sender,
      body: 'Your order has shipped',
      statusCallback: `${app.url}/status`,
    });
    const relayedTo = () => app.requests.filter((r) => r.params.MessageSid === m.sid).map((r) => r.params.MessageStatus);
    await until(() => relayedTo().length >= 2);
    assert.deepEqual(relayedTo(), ['sent', 'delivered']);
    // The provider's own callbacks again, exactly as it sent them (same URL, fields and signature).
    const sent = fx.gw.app.sink!.callbacks.filter((c) => c.fields.MessageSid === m.sid);
    assert.deepEqual(
      sent.map((c) => c.fields.MessageStatus),
      ['sent', 'delivered'],
    );
    for (const c of sent) {
      const fields = c.fields as Record<string, string>;
      const res = await fetch(c.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': twilio.getExpectedTwilioSignature(fx.sinkToken, c.url, fields),
        },
        body: form(fields),
      });
      assert.equal(res.status, 204);
    }
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(relayedTo(), ['sent', 'delivered'], 'each status relayed once');
  });

  it('a replay sent to another node sharing the stores is recognised there too', async () => {
    const second = await startGateway({
      config: { ...DEFAULT_CONFIG, dataDir: dirname(fx.gw.stores.location), port: 0, pollIntervalMs: 200 },
      port: 0,
      demo: true,
      logger: false,
      gateway: { defaultMetrics: false },
    });
    try {
      const from = '+14155550184';
      const stop = { From: from, To: DEMO.sender, Body: 'STOP', MessageSid: newSid('SM') };
      assert.match(await (await provider(`/twilio/inbound/${DEMO.customer}`, stop)).text(), /You are unsubscribed/);
      const url = `${second.url}/twilio/inbound/${DEMO.customer}`;
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': twilio.getExpectedTwilioSignature(fx.sinkToken, url, stop),
        },
        body: form(stop),
      });
      assert.equal(res.status, 200);
      assert.equal(await res.text(), '<?xml version="1.0" encoding="UTF-8"?><Response/>', 'no second auto-reply from the other node');
      assert.equal((await fx.gw.stores.consent.history(DEMO.customer, from)).length, 1);
    } finally {
      await second.close();
    }
  });

  it('a provider event without its SID is refused with 400 and changes nothing', async () => {
    const res = await provider(`/twilio/inbound/${DEMO.customer}`, { From: '+14155550183', To: DEMO.sender, Body: 'STOP' });
    assert.equal(res.status, 400);
    assert.equal((await fx.gw.stores.consent.history(DEMO.customer, '+14155550183')).length, 0);
    assert.equal((await provider(`/twilio/status/${DEMO.customer}`, { MessageStatus: 'sent' })).status, 400);
  });
});
