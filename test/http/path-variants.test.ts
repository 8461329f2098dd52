// Every way of writing a send's path reaches the screen or a Twilio refusal, never the upstream
// unscreened. A customer whose upstream is a recording server sends a phishing body to an
// opted-out number from a sender it does not own, through 50+ written forms of the path and
// method; the recorder must receive nothing. The canonical forms of an allowed send reach it
// on exactly the canonical path, with exactly the screened parameters.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createCustomer, issueCredential } from '../../src/http/admin/tenancy.js';
import { ADMIN, ALLOW_LOOPBACK, startFixture, form, type Fixture } from './helpers.js';

interface Recorded {
  method: string;
  path: string;
  body: string;
}

let fx: Fixture;
let recorder: Server;
const recorded: Recorded[] = [];
let sid: string;
let auth: string;
const UPSTREAM_SID = 'AC' + 'e'.repeat(32);
const OWNED = '+15005550042';
const OPTED_OUT = '+14155550199';
const PHISH = 'URGENT your bank account is locked, verify at http://bit.ly/x now';

/** A raw request: node:http sends the path exactly as written (fetch would resolve dot segments). */
function raw(
  method: string,
  path: string,
  body?: string,
  authorization = auth,
  contentType = 'application/x-www-form-urlencoded',
): Promise<{ status: number; json: Record<string, unknown> | null }> {
  const u = new URL(fx.gw.url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        method,
        path,
        headers: {
          authorization,
          ...(body !== undefined ? { 'content-type': contentType, 'content-length': Buffer.byteLength(body) } : {}),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          let json: Record<string, unknown> | null = null;
          try {
            json = JSON.parse(text) as Record<string, unknown>;
          } catch {
            /* not JSON */
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
      },
    );
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function isTwilioError(r: { status: number; json: Record<string, unknown> | null }): boolean {
  const j = r.json;
  return (
    r.status >= 400 &&
    r.status < 500 &&
    j !== null &&
    typeof j.code === 'number' &&
    typeof j.message === 'string' &&
    j.status === r.status &&
    typeof j.more_info === 'string'
  );
}

before(async () => {
  recorder = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      recorded.push({ method: req.method ?? '', path: req.url ?? '', body });
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          sid: 'SM' + 'f'.repeat(32),
          status: 'queued',
          account_sid: UPSTREAM_SID,
          next_page_uri: `/2010-04-01/Accounts/${UPSTREAM_SID}/Messages.json?Page=1`,
        }),
      );
    });
  });
  await new Promise<void>((r) => recorder.listen(0, '127.0.0.1', r));
  fx = await startFixture({ egressAllow: ALLOW_LOOPBACK });
  const port = (recorder.address() as AddressInfo).port;
  const c = await createCustomer(fx.gw.stores, {
    id: 'recorded',
    upstream: { baseUrl: `http://127.0.0.1:${port}`, accountSid: UPSTREAM_SID, authToken: 'recorder-token' },
    senders: [OWNED],
  });
  const cred = await issueCredential(fx.gw.stores, 'recorded', { kind: 'auth-token' });
  sid = c.accountSid;
  auth = fx.basic(sid, cred.secret);
  const opt = await fetch(`${fx.gw.url}/v1/consent`, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/json' },
    body: JSON.stringify({ recipient: OPTED_OUT, kind: 'opt-out' }),
  });
  assert.equal(opt.status, 201);
});
after(async () => {
  await fx.gw.close();
  await new Promise<void>((r) => recorder.close(() => r()));
});

const bad = form({ To: OPTED_OUT, From: '+15005550999', Body: PHISH });

describe('path variants of a send', () => {
  const A = () => `/2010-04-01/Accounts/${sid}`;
  const variants: Array<[string, () => string, string?]> = [
    ['canonical', () => `${A()}/Messages.json`],
    ['dot segment', () => `${A()}/./Messages.json`],
    ['dot-dot segment', () => `${A()}/x/../Messages.json`],
    ['encoded dot', () => `${A()}/%2e/Messages.json`],
    ['encoded dot-dot', () => `${A()}/x/%2e%2e/Messages.json`],
    ['mixed encoded dot-dot', () => `${A()}/x/.%2E/Messages.json`],
    ['double slash', () => `${A()}//Messages.json`],
    ['leading double slash', () => `/${A()}/Messages.json`],
    ['trailing slash', () => `${A()}/Messages.json/`],
    ['lower case', () => `${A()}/messages.json`],
    ['upper case', () => `${A()}/MESSAGES.JSON`],
    ['lower-case prefix words', () => `/2010-04-01/accounts/${sid}/messages.json`],
    ['no extension', () => `${A()}/Messages`],
    ['xml extension', () => `${A()}/Messages.xml`],
    ['csv extension', () => `${A()}/Messages.csv`],
    ['legacy SMS resource', () => `${A()}/SMS/Messages.json`],
    ['encoded letter', () => `${A()}/%4Dessages.json`],
    ['encoded dot before extension', () => `${A()}/Messages%2ejson`],
    ['encoded slash', () => `${A()}/x%2f..%2fMessages.json`],
    ['encoded backslash', () => `${A()}/x%5c..%5cMessages.json`],
    ['double-encoded dot-dot', () => `${A()}/x/%252e%252e/Messages.json`],
    ['NUL byte', () => `${A()}/Messages.json%00`],
    ['semicolon parameter', () => `${A()}/Messages.json;x=1`],
    ['trailing dot', () => `${A()}/Messages.json.`],
    ['trailing space', () => `${A()}/Messages.json%20`],
    ['query string', () => `${A()}/Messages.json?Body=hi`],
    ['encoded Accounts', () => `/2010-04-01/%41ccounts/${sid}/Messages.json`],
    ['lower-case account SID', () => `/2010-04-01/Accounts/${sid.toLowerCase()}/Messages.json`],
    ['prefix escaped', () => `/2010-04-01/../2010-04-01/Accounts/${sid}/Messages.json`],
    ['escape above the root', () => `/2010-04-01/../../2010-04-01/Accounts/${sid}/Messages.json`],
    ['encoded prefix', () => `/%32010-04-01/Accounts/${sid}/Messages.json`],
    ['calls canonical', () => `${A()}/Calls.json`],
    ['calls dot segment', () => `${A()}/./Calls.json`],
    ['calls lower case', () => `${A()}/calls.json`],
    ['calls no extension', () => `${A()}/Calls`],
    ['calls double slash', () => `${A()}//Calls.json`],
    ['conference participants', () => `${A()}/Conferences/CF${'a'.repeat(32)}/Participants.json`],
    ['message update with a body', () => `${A()}/Messages/SM${'a'.repeat(32)}.json`],
    ['message feedback with a body', () => `${A()}/Messages/SM${'a'.repeat(32)}/Feedback.json`],
    ['incoming numbers', () => `${A()}/IncomingPhoneNumbers.json`],
    ['account itself', () => `${A()}.json`],
    ['accounts list', () => '/2010-04-01/Accounts.json'],
    ['unknown resource', () => `${A()}/Anything.json`],
    ['above the API', () => `${A()}/../../../internal/anything`],
  ];
  const methods: Array<[string, () => string]> = [
    ['PUT', () => `${A()}/Messages.json`],
    ['PATCH', () => `${A()}/Messages.json`],
    ['DELETE', () => `${A()}/Messages.json`],
    ['PUT', () => `${A()}/Calls.json`],
    ['POST', () => `${A()}/Messages/SM${'a'.repeat(32)}/Media.json`],
  ];

  for (const [name, path] of variants) {
    it(`${name}: screened like the canonical send or refused, never forwarded`, async () => {
      const before = recorded.length;
      const r = await raw('POST', path(), bad);
      assert.ok(isTwilioError(r), `${path()} answered ${r.status} ${JSON.stringify(r.json)}`);
      assert.equal(recorded.length, before, `${path()} reached the upstream`);
    });
  }
  for (const [method, path] of methods) {
    it(`${method} ${path().split('/').slice(-1)[0]}: refused with Twilio's error JSON`, async () => {
      const before = recorded.length;
      const r = await raw(method, path(), bad);
      assert.ok(isTwilioError(r), `${method} answered ${r.status} ${JSON.stringify(r.json)}`);
      assert.equal(recorded.length, before);
    });
  }

  it('repeated or case-variant parameters are refused, not forwarded for the upstream to read its own way', async () => {
    const before = recorded.length;
    for (const body of [
      `To=%2B14155550123&From=${encodeURIComponent(OWNED)}&Body=hello&Body=${encodeURIComponent(PHISH)}`,
      `To=%2B14155550123&To=%2B14155550124&From=${encodeURIComponent(OWNED)}&Body=hello`,
      `To=%2B14155550123&From=${encodeURIComponent(OWNED)}&Body=hello&body=${encodeURIComponent(PHISH)}`,
    ]) {
      const r = await raw('POST', `${A()}/Messages.json`, body);
      assert.ok(isTwilioError(r) && r.status === 400 && r.json?.code === 20001, JSON.stringify(r.json));
    }
    assert.equal(recorded.length, before);
  });

  it('JSON or other bodies on a screened write are refused', async () => {
    const before = recorded.length;
    const r = await raw(
      'POST',
      `${A()}/Messages.json`,
      JSON.stringify({ To: '+14155550123', From: OWNED, Body: PHISH }),
      auth,
      'application/json',
    );
    assert.ok(isTwilioError(r) && r.status === 400, JSON.stringify(r.json));
    assert.equal(recorded.length, before);
  });

  it('the written forms of an allowed send are forwarded on exactly the canonical path with the screened parameters', async () => {
    for (const path of [`${A()}/Messages.json`, `${A()}/./Messages.json`, `${A()}/messages.json`, `/${A()}//Messages.json/`]) {
      const before = recorded.length;
      const r = await raw('POST', path, form({ To: '+1 (415) 555-0123', From: OWNED, Body: 'Your table for two is ready' }));
      assert.equal(r.status, 201, JSON.stringify(r.json));
      assert.equal(recorded.length, before + 1);
      const got = recorded[recorded.length - 1];
      assert.equal(got.method, 'POST');
      assert.equal(got.path, `/2010-04-01/Accounts/${UPSTREAM_SID}/Messages.json`);
      assert.deepEqual(Object.fromEntries(new URLSearchParams(got.body)), {
        To: '+1 (415) 555-0123',
        From: OWNED,
        Body: 'Your table for two is ready',
      });
    }
  });

  it('reads in the table pass through on their canonical path; the same read under another account is refused', async () => {
    const before = recorded.length;
    const r = await raw('GET', `${A()}/./messages.json?PageSize=5`);
    assert.equal(r.status, 201);
    assert.equal(recorded[recorded.length - 1].path, `/2010-04-01/Accounts/${UPSTREAM_SID}/Messages.json?PageSize=5`);
    assert.equal(r.json?.next_page_uri, `/2010-04-01/Accounts/${sid}/Messages.json?Page=1`, "page URIs name the app's own account");
    assert.equal(r.json?.account_sid, sid);
    for (const path of [
      `/2010-04-01/Accounts/${fx.other.accountSid}/Messages.json`,
      `/2010-04-01/%41ccounts/${fx.other.accountSid}/Messages.json`,
      `${A()}/../${fx.other.accountSid}/Messages.json`,
      `/2010-04-01/Accounts/${fx.other.accountSid.toLowerCase()}/Messages.json`,
      `${A()}/Messages/..%2f..%2f${fx.other.accountSid}%2fMessages.json`,
    ]) {
      const x = await raw('GET', path);
      assert.ok(isTwilioError(x) && (x.status === 401 || x.status === 404), `${path}: ${x.status}`);
    }
    for (const path of ['/2010-04-01/../../metrics', '/2010-04-01/../docs/json', `${A()}/../../../../openapi.json`]) {
      const x = await raw('GET', path);
      assert.ok(isTwilioError(x), `${path}: ${x.status}`);
    }
    assert.equal(recorded.length, before + 1, 'only the one read in the table reached the upstream');
  });
});

describe('no 5xx for the bodies that used to fail', () => {
  const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
  it('JSON and nested bodies on the webhooks, the pass-through and the screened writes get a 4xx', async () => {
    const paths = [
      '/twilio/inbound/demo',
      '/twilio/status/demo',
      `/2010-04-01/Accounts/${sid}/Messages.json`,
      `/2010-04-01/Accounts/${sid}/Messages/SM${'a'.repeat(32)}/Feedback.json`,
      `/2010-04-01/Accounts/${sid}/Calls.json`,
    ];
    const bodies = [
      '{"x":{"toString":1}}',
      deep(5_000),
      deep(100_000),
      '{"Body":5,"From":"+14155550100"}',
      '{"Body":{"length":-1}}',
      'null',
      '[]',
      '"STOP"',
    ];
    for (const path of paths) {
      for (const body of bodies) {
        const r = await raw('POST', path, body, auth, 'application/json');
        assert.ok(r.status >= 400 && r.status < 500, `${path} with ${body.slice(0, 30)}: ${r.status}`);
      }
    }
  });

  it('a query string is read by the route schema: GET /v1/review?limit=5 answers 200', async () => {
    const r = await fetch(`${fx.gw.url}/v1/review?limit=5&state=all`, { headers: { authorization: `Bearer ${ADMIN}` } });
    assert.equal(r.status, 200, await r.text());
    const bad = await fetch(`${fx.gw.url}/v1/review?limit=five`, { headers: { authorization: `Bearer ${ADMIN}` } });
    assert.equal(bad.status, 400);
  });
});
