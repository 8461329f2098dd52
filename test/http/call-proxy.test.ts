// A call's Url goes through Warden's TwiML proxy, and a template's variables are screened: the
// upstream (a recording server) is given the proxy's URL; the provider's fetch of it is answered
// with the app's TwiML when it screens clean and with a hang-up when it does not, the app being
// asked with a signature it validates with its own auth token. ContentVariables are screened.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import twilio from 'twilio';
import { DEFAULT_CONFIG } from '../../src/config.js';
import { createCustomer, issueCredential } from '../../src/http/admin/tenancy.js';
import { computeSignature } from '../../src/http/twilio/signature.js';
import { startGateway, type RunningGateway } from '../../src/serve.js';
import { ADMIN, ALLOW_LOOPBACK, form } from './helpers.js';

const OWNED = '+15005550077';
let gw: RunningGateway;
let recorder: Server;
let appServer: Server;
const recorded: Array<{ path: string; body: string }> = [];
const appSeen: Array<{ url: string; signature: string | undefined; body: string }> = [];
let auth: string;
let secret: string;
let sid: string;
let appBase: string;

async function listen(server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

async function freePort(): Promise<number> {
  const s = createServer();
  const port = await listen(s);
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

before(async () => {
  recorder = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      recorded.push({ path: req.url ?? '', body });
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ sid: 'CA' + 'f'.repeat(32), status: 'queued' }));
    });
  });
  const recorderPort = await listen(recorder);
  appServer = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const sig = req.headers['x-twilio-signature'];
      appSeen.push({ url: `${appBase}${req.url}`, signature: typeof sig === 'string' ? sig : undefined, body });
      const say =
        req.url === '/bad' ? 'Your bank account is locked. Verify your password at http://bit.ly/x now' : 'Your table for two is ready';
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end(`<?xml version="1.0"?><Response><Say>${say}</Say></Response>`);
    });
  });
  appBase = `http://127.0.0.1:${await listen(appServer)}`;
  const port = await freePort();
  const dataDir = join(mkdtempSync(join(tmpdir(), 'warden-proxy-')), 'data');
  gw = await startGateway({
    config: { ...DEFAULT_CONFIG, dataDir, port, pollIntervalMs: 200, adminToken: ADMIN },
    port,
    demo: true,
    logger: false,
    gateway: { defaultMetrics: false, egressAllow: ALLOW_LOOPBACK, publicUrl: `http://127.0.0.1:${port}` },
  });
  const c = await createCustomer(gw.stores, {
    id: 'caller',
    upstream: { baseUrl: `http://127.0.0.1:${recorderPort}`, authToken: 'provider-token' },
    senders: [OWNED],
  });
  const cred = await issueCredential(gw.stores, 'caller', { kind: 'auth-token' });
  sid = c.accountSid;
  secret = cred.secret;
  auth = 'Basic ' + Buffer.from(`${sid}:${secret}`).toString('base64');
});

after(async () => {
  await gw.close();
  await new Promise<void>((r) => recorder.close(() => r()));
  await new Promise<void>((r) => appServer.close(() => r()));
});

async function callThroughProxy(path: string): Promise<{ status: number; text: string }> {
  const before = recorded.length;
  const res = await fetch(`${gw.url}/2010-04-01/Accounts/${sid}/Calls.json`, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
    body: form({ To: '+14155550140', From: OWNED, Url: `${appBase}${path}` }),
  });
  assert.equal(res.status, 201, await res.text());
  assert.equal(recorded.length, before + 1);
  const proxied = new URLSearchParams(recorded[recorded.length - 1].body).get('Url') ?? '';
  assert.ok(proxied.startsWith(`${gw.url}/twilio/twiml/caller/`), `the upstream was given the proxy, not ${proxied}`);
  // The provider asks the proxied URL, signed with the customer's upstream auth token.
  const params = { CallSid: 'CA' + 'a'.repeat(32), AccountSid: sid, From: OWNED, To: '+14155550140', CallStatus: 'in-progress' };
  const answer = await fetch(proxied, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': computeSignature('provider-token', proxied, params),
    },
    body: form(params),
  });
  return { status: answer.status, text: await answer.text() };
}

describe('calls through the TwiML proxy', () => {
  it("the app's TwiML is fetched, screened and answered; the app validates the fetch with its own auth token", async () => {
    const r = await callThroughProxy('/good');
    assert.equal(r.status, 200);
    assert.match(r.text, /Your table for two is ready/);
    const seen = appSeen[appSeen.length - 1];
    const params = Object.fromEntries(new URLSearchParams(seen.body));
    assert.ok(twilio.validateRequest(secret, seen.signature ?? '', seen.url, params), "signed with the app's own auth token");
  });

  it('TwiML that screens as phishing is answered with a hang-up, not passed on', async () => {
    const r = await callThroughProxy('/bad');
    assert.equal(r.status, 200);
    assert.match(r.text, /<Hangup\/>/);
    assert.doesNotMatch(r.text, /bank/);
  });

  it('a forged or unsigned proxy request never reaches the app', async () => {
    const before = appSeen.length;
    const bad = await fetch(`${gw.url}/twilio/twiml/caller/v1.e30.AAAA`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'CallSid=CA1',
    });
    assert.equal(bad.status, 403);
    assert.equal(appSeen.length, before);
  });
});

describe('templated messages', () => {
  it('ContentVariables are screened: a phishing variable is refused and nothing is forwarded', async () => {
    const before = recorded.length;
    const res = await fetch(`${gw.url}/2010-04-01/Accounts/${sid}/Messages.json`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
      body: form({
        To: '+14155550141',
        From: OWNED,
        ContentSid: 'HX' + 'b'.repeat(32),
        ContentVariables: JSON.stringify({ 1: 'URGENT your bank account is locked, verify at http://bit.ly/x now' }),
      }),
    });
    const j = (await res.json()) as { code?: number };
    assert.equal(res.status, 400);
    assert.equal(j.code, 30007);
    assert.equal(recorded.length, before);
    const bad = await fetch(`${gw.url}/2010-04-01/Accounts/${sid}/Messages.json`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
      body: form({ To: '+14155550141', From: OWNED, ContentSid: 'HX' + 'b'.repeat(32), ContentVariables: '{not json' }),
    });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { code?: number }).code, 21656);
  });
});
