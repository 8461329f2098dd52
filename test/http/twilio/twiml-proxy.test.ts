// The TwiML proxy for Url-based calls: a real Fastify app with the route, a real local app server
// serving TwiML over HTTP, provider requests signed as the provider signs them. Checks the provider
// signature, the token (tampered, another customer's, another call's), what the app receives (same
// parameters, a signature it can verify), the screening verdict (answered or <Hangup/>), and that
// the documents a call fetches next go through the proxy too.

import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseQuery } from 'node:querystring';
import Fastify, { type FastifyInstance } from 'fastify';
import formbody from '@fastify/formbody';
import { request } from 'undici';
import twilio from 'twilio';
import { RAW_BODY, type FormFields } from '../../../src/http/twilio/form.js';
import { computeSignature, verifySignature } from '../../../src/http/twilio/signature.js';
import {
  HANGUP,
  TwimlProxy,
  TwimlProxyUrlError,
  registerTwimlProxy,
  type FetchTwiml,
  type ProxiedDocument,
} from '../../../src/http/twilio/twiml-proxy.js';
import { isTwimlError, twimlContent } from '../../../src/http/twilio/twiml.js';
import type { CustomerRecord } from '../../../src/store/types.js';

const PUBLIC = 'https://warden.example';
const KEY = 'k'.repeat(48);
const UPSTREAM_TOKEN = 'provider-auth-token';
const CUSTOMER: CustomerRecord = {
  id: 'cust-1',
  name: 'one',
  accountSid: 'AC' + '1'.repeat(32),
  upstream: { baseUrl: 'https://api.twilio.com', authToken: UPSTREAM_TOKEN },
  senders: [],
  settings: {},
  createdAt: new Date().toISOString(),
};
const OTHER: CustomerRecord = { ...CUSTOMER, id: 'cust-2', upstream: { baseUrl: 'https://api.twilio.com', authToken: 'other-token' } };
const CALL = 'CA' + 'f'.repeat(32);

interface AppRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

let appServer: Server;
let appBase: string;
const appRequests: AppRequest[] = [];
/** What the app answers, by path. */
const routes = new Map<string, { status?: number; type?: string; body: string }>();

let app: FastifyInstance;
const proxy = new TwimlProxy({ key: KEY, publicUrl: PUBLIC });
const screened: ProxiedDocument[] = [];
let screenThrows = false;

const fetchTwiml: FetchTwiml = async (url, method, form, headers) => {
  const res = await request(url, { method, headers, body: method === 'POST' ? form : null });
  return {
    status: res.statusCode,
    contentType: res.headers['content-type'] as string | undefined,
    body: Buffer.from(await res.body.arrayBuffer()),
  };
};

before(async () => {
  appServer = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      appRequests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const r = routes.get((req.url ?? '').split('?')[0]);
      if (!r) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(r.status ?? 200, { 'content-type': r.type ?? 'text/xml' }).end(r.body);
    });
  });
  await new Promise<void>((r) => appServer.listen(0, '127.0.0.1', r));
  appBase = `http://127.0.0.1:${(appServer.address() as AddressInfo).port}`;

  app = Fastify({ logger: false });
  // The gateway's form parser: fields plus the raw text.
  await app.register(formbody, {
    parser: (text: string) => {
      const out = Object.create(null) as FormFields;
      for (const [k, v] of Object.entries(parseQuery(text))) out[k] = v;
      Object.defineProperty(out, RAW_BODY, { value: text, enumerable: false });
      return out;
    },
  });
  registerTwimlProxy(app, proxy, {
    getCustomer: async (id) => [CUSTOMER, OTHER].find((c) => c.id === id) ?? null,
    fetchTwiml,
    screen: async (doc) => {
      screened.push(doc);
      if (screenThrows) throw new Error('screen down');
      return { allow: !/bank/i.test(doc.content.text), decisionId: 'dec-' + screened.length };
    },
  });
  await app.ready();
});
after(async () => {
  await app.close();
  await new Promise<void>((r) => appServer.close(() => r()));
});
beforeEach(() => {
  appRequests.length = 0;
  screened.length = 0;
  screenThrows = false;
  routes.clear();
});

const PARAMS = { CallSid: CALL, AccountSid: CUSTOMER.accountSid, From: '+15005550001', To: '+15005550002', CallStatus: 'in-progress' };

/** The provider asking a proxy URL for TwiML, signed with the customer's upstream token. */
async function provider(
  proxyUrl: string,
  opts: { method?: 'GET' | 'POST'; params?: Record<string, string>; token?: string; signature?: string | null } = {},
) {
  const m = opts.method ?? 'POST';
  const params = opts.params ?? PARAMS;
  const path = proxyUrl.slice(PUBLIC.length);
  const qs = new URLSearchParams(params).toString();
  const url = m === 'GET' ? `${path}${path.includes('?') ? '&' : '?'}${qs}` : path;
  const sig =
    opts.signature === undefined ? computeSignature(opts.token ?? UPSTREAM_TOKEN, PUBLIC + url, m === 'GET' ? {} : params) : opts.signature;
  return app.inject({
    method: m,
    url,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(sig !== null ? { 'x-twilio-signature': sig } : {}) },
    ...(m === 'POST' ? { payload: qs } : {}),
  });
}

describe('TwiML proxy', () => {
  it("fetches the app's TwiML as the provider would, screens it, and answers it", async () => {
    routes.set('/voice', {
      body: '<Response><Say>Your appointment is at 3pm</Say><Gather action="/menu" method="POST"><Say>Press 1</Say></Gather><Play>/hold.mp3</Play></Response>',
    });
    const url = proxy.rewriteCallUrl(CUSTOMER.id, 'CAwarden', `${appBase}/voice?tenant=7`, 'POST');
    assert.ok(url.startsWith(`${PUBLIC}/twilio/twiml/cust-1/v1.`));
    assert.ok(!url.includes('127.0.0.1'), 'the app URL is not readable as such in the proxy URL');
    const res = await provider(url);
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /text\/xml/);
    assert.equal(res.headers['x-warden-decision'], 'dec-1');

    // The app was asked once, with the provider's parameters, signed so the app can verify it.
    assert.equal(appRequests.length, 1);
    const got = appRequests[0];
    assert.equal(got.method, 'POST');
    assert.equal(got.url, '/voice?tenant=7');
    assert.deepEqual({ ...parseQuery(got.body) }, PARAMS);
    assert.ok(
      verifySignature(
        UPSTREAM_TOKEN,
        `${appBase}/voice?tenant=7`,
        parseQuery(got.body) as FormFields,
        got.headers['x-twilio-signature'] as string,
      ),
    );
    // ...as the official package's validator, which apps use, checks it.
    assert.ok(
      twilio.validateRequest(UPSTREAM_TOKEN, got.headers['x-twilio-signature'] as string, `${appBase}/voice?tenant=7`, {
        ...parseQuery(got.body),
      }),
    );

    // What was screened is the app's document.
    assert.equal(screened.length, 1);
    assert.equal(screened[0].content.text, 'Your appointment is at 3pm\nPress 1');
    assert.equal(screened[0].callSid, CALL);
    assert.equal(screened[0].params.To, PARAMS.To);
    assert.equal(screened[0].ref, 'CAwarden');
    assert.equal(screened[0].kind, 'twiml');

    // The answer reads the same, with relative URLs made absolute and the next document proxied.
    const answer = twimlContent(res.body, 64 * 1024);
    assert.ok(!isTwimlError(answer));
    assert.equal(answer.text, 'Your appointment is at 3pm\nPress 1');
    assert.ok(answer.urls.includes(`${appBase}/hold.mp3`));
    assert.equal(answer.documentUrls.length, 1);
    assert.ok(answer.documentUrls[0].startsWith(`${PUBLIC}/twilio/twiml/cust-1/`));
  });

  it('screens the documents the call fetches next, through the proxied URLs', async () => {
    routes.set('/voice', {
      body: '<Response><Gather action="/menu"><Say>Press 1</Say></Gather><Redirect method="GET">/loop</Redirect></Response>',
    });
    routes.set('/menu', { body: '<Response><Say>Read us your bank PIN</Say></Response>' });
    routes.set('/loop', { body: '<Response><Say>Goodbye</Say></Response>' });
    const first = await provider(proxy.rewriteCallUrl(CUSTOMER.id, 'CAwarden', `${appBase}/voice`));
    const next = twimlContent(first.body, 64 * 1024);
    assert.ok(!isTwimlError(next));
    const [menu, loop] = next.documentUrls;

    const refused = await provider(menu, { params: { ...PARAMS, Digits: '1' } });
    assert.equal(refused.body, HANGUP);
    assert.equal(appRequests.at(-1)?.url, '/menu');
    assert.equal({ ...parseQuery(appRequests.at(-1)?.body ?? '') }.Digits, '1');

    const looped = await provider(loop, { method: 'GET' });
    assert.equal(looped.statusCode, 200);
    assert.match(looped.body, /Goodbye/);
    assert.equal(appRequests.at(-1)?.method, 'GET');

    // The next documents are bound to the call the provider named: another call cannot use them.
    const other = await provider(menu, { params: { ...PARAMS, CallSid: 'CA' + '0'.repeat(32) } });
    assert.equal(other.statusCode, 403);
  });

  it('answers <Hangup/> when the screen refuses the TwiML', async () => {
    routes.set('/voice', { body: '<Response><Say>This is your b&#97;nk. Press 1 to verify your card.</Say></Response>' });
    const res = await provider(proxy.rewriteCallUrl(CUSTOMER.id, 'CAx', `${appBase}/voice`));
    assert.equal(res.statusCode, 200);
    assert.equal(res.body, HANGUP);
    assert.equal(screened[0].content.text, 'This is your bank. Press 1 to verify your card.');
  });

  it('fails closed: <Hangup/> when screening throws', async () => {
    routes.set('/voice', { body: '<Response><Say>hello</Say></Response>' });
    screenThrows = true;
    const res = await provider(proxy.rewriteCallUrl(CUSTOMER.id, 'CAx', `${appBase}/voice`));
    assert.equal(res.body, HANGUP);
  });

  it('passes GET parameters in the query, signed over the full URL', async () => {
    routes.set('/get', { body: '<Response><Say>hi</Say></Response>' });
    const res = await provider(proxy.rewriteCallUrl(CUSTOMER.id, 'CAx', `${appBase}/get?a=1`, 'GET'), { method: 'GET' });
    assert.equal(res.statusCode, 200);
    const got = appRequests[0];
    assert.equal(got.method, 'GET');
    assert.equal(got.url, `/get?a=1&${new URLSearchParams(PARAMS).toString()}`);
    assert.ok(verifySignature(UPSTREAM_TOKEN, appBase + got.url, {}, got.headers['x-twilio-signature'] as string));
    assert.ok(twilio.validateRequest(UPSTREAM_TOKEN, got.headers['x-twilio-signature'] as string, appBase + got.url, {}));
    assert.equal(screened[0].params.From, PARAMS.From);
  });

  it("accepts the provider's signature as the official package computes it", async () => {
    routes.set('/voice', { body: '<Response><Say>hi</Say></Response>' });
    const url = proxy.rewriteCallUrl(CUSTOMER.id, 'CAx', `${appBase}/voice`);
    const res = await provider(url, { signature: twilio.getExpectedTwilioSignature(UPSTREAM_TOKEN, url, PARAMS) });
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /<Say>hi<\/Say>/);
  });

  it('refuses a request without a valid provider signature, before asking the app', async () => {
    routes.set('/voice', { body: '<Response><Say>hi</Say></Response>' });
    const url = proxy.rewriteCallUrl(CUSTOMER.id, 'CAx', `${appBase}/voice`);
    assert.equal((await provider(url, { signature: null })).statusCode, 403);
    assert.equal((await provider(url, { signature: 'AAAA' })).statusCode, 403);
    assert.equal((await provider(url, { token: 'not-the-token' })).statusCode, 403);
    // Signed, but with parameters changed after signing.
    const sig = computeSignature(UPSTREAM_TOKEN, url, PARAMS);
    const tampered = await app.inject({
      method: 'POST',
      url: url.slice(PUBLIC.length),
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': sig },
      payload: new URLSearchParams({ ...PARAMS, To: '+15005559999' }).toString(),
    });
    assert.equal(tampered.statusCode, 403);
    assert.equal(appRequests.length, 0);
  });

  it("refuses tampered, forged and other customers' tokens: no open proxy", async () => {
    routes.set('/voice', { body: '<Response><Say>hi</Say></Response>' });
    const url = proxy.rewriteCallUrl(CUSTOMER.id, 'CAx', `${appBase}/voice`);
    const [, payload, mac] = url.slice(url.lastIndexOf('/') + 1).split('.');
    const evil = Buffer.from(JSON.stringify(['CAx', 'POST', 'http://169.254.169.254/latest/meta-data', 0])).toString('base64url');
    const base = `${PUBLIC}/twilio/twiml/${CUSTOMER.id}/`;
    for (const bad of [
      `v1.${evil}.${mac}`,
      `v1.${payload}x.${mac}`,
      `v1.${payload}.${mac.slice(0, -2)}AA`,
      `v2.${payload}.${mac}`,
      `v1.${payload}`,
      'x',
    ]) {
      assert.equal((await provider(base + bad)).statusCode, 403, bad);
    }
    // A token made for one customer is refused on another's path, even with that customer's signature.
    const moved = `${PUBLIC}/twilio/twiml/${OTHER.id}/${url.slice(url.lastIndexOf('/') + 1)}`;
    assert.equal((await provider(moved, { token: 'other-token' })).statusCode, 403);
    // Another installation's key does not make valid tokens.
    const foreign = new TwimlProxy({ key: 'z'.repeat(48), publicUrl: PUBLIC }).rewriteCallUrl(CUSTOMER.id, 'CAx', `${appBase}/voice`);
    assert.equal((await provider(foreign)).statusCode, 403);
    assert.equal(appRequests.length, 0);
  });

  it('a token bound to a call (UpdateCall) is refused for another call', async () => {
    routes.set('/voice', { body: '<Response><Say>hi</Say></Response>' });
    const url = proxy.rewriteCallUrl(CUSTOMER.id, CALL, `${appBase}/voice`, 'POST', { bound: true });
    assert.equal((await provider(url, { params: { ...PARAMS, CallSid: 'CA' + '0'.repeat(32) } })).statusCode, 403);
    assert.equal((await provider(url)).statusCode, 200);
  });

  it('refuses to be asked with a method other than the one the app chose', async () => {
    const url = proxy.rewriteCallUrl(CUSTOMER.id, 'CAx', `${appBase}/voice`, 'POST');
    assert.equal((await provider(url, { method: 'GET' })).statusCode, 405);
  });

  it('never passes on what it cannot read: <Hangup/> for malformed TwiML, a DOCTYPE or an unknown type', async () => {
    const cases = [
      { body: '<Response><Say>unclosed</Response>' },
      { body: '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><Response><Say>&x;</Say></Response>' },
      { body: '{"say":"hi"}', type: 'application/json' },
      { body: `<Response><Say>${'x'.repeat(70 * 1024)}</Say></Response>` },
    ];
    for (const c of cases) {
      routes.set('/voice', c);
      const res = await provider(proxy.rewriteCallUrl(CUSTOMER.id, 'CAx', `${appBase}/voice`));
      assert.equal(res.body, HANGUP, c.body.slice(0, 40));
    }
    assert.equal(screened.length, 0);
  });

  it('screens text/plain as spoken text', async () => {
    routes.set('/voice', { body: 'Call your bank now', type: 'text/plain' });
    const res = await provider(proxy.rewriteCallUrl(CUSTOMER.id, 'CAx', `${appBase}/voice`));
    assert.equal(res.body, HANGUP);
    assert.equal(screened[0].kind, 'text');
  });

  it("answers 502 when the app fails or cannot be reached, so the provider's fallback runs", async () => {
    routes.set('/voice', { status: 500, body: 'oops' });
    assert.equal((await provider(proxy.rewriteCallUrl(CUSTOMER.id, 'CAx', `${appBase}/voice`))).statusCode, 502);
    assert.equal((await provider(proxy.rewriteCallUrl(CUSTOMER.id, 'CAx', 'http://127.0.0.1:1/voice'))).statusCode, 502);
    assert.equal(screened.length, 0);
  });

  it('rewrites only absolute http(s) URLs', () => {
    assert.throws(() => proxy.rewriteCallUrl(CUSTOMER.id, 'CAx', '/relative'), TwimlProxyUrlError);
    assert.throws(() => proxy.rewriteCallUrl(CUSTOMER.id, 'CAx', 'file:///etc/passwd'), TwimlProxyUrlError);
    assert.throws(() => proxy.rewriteCallUrl(CUSTOMER.id, 'CAx', 'https://a.example/' + 'x'.repeat(3000)), TwimlProxyUrlError);
    assert.throws(() => new TwimlProxy({ key: 'short', publicUrl: PUBLIC }));
  });
});
