// Templated messages: ContentVariables parsing, template filling, and the Content API cache
// against a real local HTTP server standing in for the upstream's Content API.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import {
  CachedContentTemplates,
  contentText,
  fillTemplate,
  parseContentVariables,
  templateFromResource,
  templatedMessageText,
  twilioContentApi,
  type FetchContent,
} from '../../../src/http/twilio/content-template.js';
import type { CustomerRecord } from '../../../src/store/types.js';

const SID = 'HX' + 'a'.repeat(32);
const OTHER_SID = 'HX' + 'b'.repeat(32);
const MISSING_SID = 'HX' + 'c'.repeat(32);

const RESOURCE = {
  sid: SID,
  account_sid: 'AC' + '1'.repeat(32),
  friendly_name: 'delivery',
  language: 'en',
  variables: { 1: 'customer', 2: 'soon' },
  types: {
    'twilio/text': { body: 'Hi {{1}}, your parcel arrives {{2}}.' },
    'twilio/call-to-action': {
      body: 'Hi {{1}}, track your parcel.',
      actions: [
        { type: 'URL', title: 'Track', url: 'https://track.example/{{3}}' },
        { type: 'PHONE_NUMBER', title: 'Call us', phone: '+15005550006' },
      ],
    },
    'twilio/quick-reply': { body: 'Hi {{1}}', actions: [{ title: 'Yes', id: 'yes-id' }] },
  },
};

function customer(id: string, baseUrl: string, token = 'upstream-token'): CustomerRecord {
  return {
    id,
    name: id,
    accountSid: 'AC' + '2'.repeat(32),
    upstream: { baseUrl, accountSid: 'AC' + '3'.repeat(32), authToken: token },
    senders: [],
    settings: {},
    createdAt: new Date().toISOString(),
  };
}

describe('parseContentVariables', () => {
  it('reads a JSON object of strings; numbers and booleans become strings', () => {
    assert.deepEqual(
      { ...(parseContentVariables('{"1":"Alice","2":3,"x":true}') as { variables: object }).variables },
      { 1: 'Alice', 2: '3', x: 'true' },
    );
    assert.deepEqual({ ...(parseContentVariables(undefined) as { variables: object }).variables }, {});
  });

  it('refuses what is not a JSON object of scalars, with a reason', () => {
    for (const bad of ['{"1":', 'not json', '[1,2]', '"x"', 'null', '{"1":{"a":1}}', '{"1":null}', '{"1":["a"]}']) {
      const r = parseContentVariables(bad);
      assert.ok('error' in r, bad);
      assert.ok(r.error.length > 0);
    }
    assert.ok('error' in parseContentVariables(`{"1":"${'x'.repeat(20_000)}"}`));
  });

  it('a variable named "error" is a variable, not a refusal', () => {
    const r = parseContentVariables('{"error":"x"}');
    assert.ok('variables' in r);
    assert.equal(r.variables.error, 'x');
  });

  it('does not let "__proto__" reach an object prototype', () => {
    const r = parseContentVariables('{"__proto__":"evil","1":"a"}');
    assert.ok('variables' in r);
    assert.equal(r.variables.__proto__, 'evil');
    assert.equal(({} as Record<string, unknown>).evil, undefined);
  });
});

describe('filling templates', () => {
  const template = templateFromResource(RESOURCE);

  it('reads every string a recipient sees, not identifiers', () => {
    assert.ok(template);
    assert.match(template.text, /Hi \{\{1\}\}, your parcel arrives \{\{2\}\}\./);
    assert.match(template.text, /https:\/\/track\.example\/\{\{3\}\}/);
    assert.match(template.text, /Call us/);
    assert.doesNotMatch(template.text, /yes-id|PHONE_NUMBER/);
  });

  it('fills placeholders with the variables, else the sample values', () => {
    assert.ok(template);
    const text = fillTemplate(template, { 1: 'Alice', 3: 'evil.example' });
    assert.match(text, /Hi Alice, your parcel arrives soon\./);
    assert.match(text, /https:\/\/track\.example\/evil\.example/);
    assert.doesNotMatch(text, /\{\{/);
  });

  it('without a template, screens the variable values one per line', () => {
    assert.equal(contentText(null, { 1: 'Alice', 2: 'verify at http://bit.ly/x', 3: ' ' }), 'Alice\nverify at http://bit.ly/x');
  });

  it('is not a template when the resource is not a Content resource', () => {
    assert.equal(templateFromResource({ message: 'not found' }), null);
    assert.equal(templateFromResource('x'), null);
  });

  it("knows Twilio's Content API for an upstream on twilio.com only", () => {
    assert.equal(twilioContentApi(customer('a', 'https://api.twilio.com')), 'https://content.twilio.com');
    assert.equal(twilioContentApi(customer('a', 'http://127.0.0.1:8080/sink')), null);
    assert.equal(twilioContentApi(customer('a', 'https://api.twilio.com.evil.example')), null);
    assert.equal(twilioContentApi(customer('a', 'not a url')), null);
  });
});

describe('CachedContentTemplates against a local Content API', () => {
  let server: Server;
  let base: string;
  const seen: { url: string; auth: string | undefined }[] = [];
  let failing = false;

  const fetchContent: FetchContent = async (url, headers) => {
    const res = await request(url, { headers });
    return { status: res.statusCode, body: await res.body.text() };
  };

  before(async () => {
    server = createServer((req: IncomingMessage, res) => {
      seen.push({ url: req.url ?? '', auth: req.headers.authorization });
      if (failing) {
        res.writeHead(500).end('down');
        return;
      }
      if (req.url === `/v1/Content/${SID}`) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(RESOURCE));
        return;
      }
      if (req.url === `/v1/Content/${OTHER_SID}`) {
        setTimeout(
          () => res.writeHead(200).end(JSON.stringify({ ...RESOURCE, sid: OTHER_SID, types: { 'twilio/text': { body: 'Other {{1}}' } } })),
          30,
        );
        return;
      }
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"code":20404}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const templates = (opts: Partial<ConstructorParameters<typeof CachedContentTemplates>[0]> = {}) =>
    new CachedContentTemplates({ fetch: fetchContent, contentApi: () => base, ...opts });

  it("fetches with the customer's upstream credentials and fills the template", async () => {
    seen.length = 0;
    const t = templates();
    const c = customer('cust-a', 'https://api.twilio.com');
    const r = await templatedMessageText(t, c, SID, '{"1":"Alice"}');
    assert.ok('text' in r);
    assert.equal(r.templateKnown, true);
    assert.match(r.text, /Hi Alice, your parcel arrives soon\./);
    assert.equal(seen.length, 1);
    assert.equal(seen[0].url, `/v1/Content/${SID}`);
    assert.equal(seen[0].auth, 'Basic ' + Buffer.from(`${'AC' + '3'.repeat(32)}:upstream-token`).toString('base64'));
  });

  it('serves repeats from the cache, and shares one fetch among concurrent misses', async () => {
    seen.length = 0;
    const t = templates();
    const c = customer('cust-b', 'https://api.twilio.com');
    const all = await Promise.all([1, 2, 3, 4, 5].map(() => t.get(c, OTHER_SID)));
    assert.ok(all.every((x) => x?.text === 'Other {{1}}'));
    await t.get(c, OTHER_SID);
    assert.equal(seen.length, 1);
  });

  it("keeps tenants apart: the same SID is fetched per customer, with each one's credentials", async () => {
    seen.length = 0;
    const t = templates();
    await t.get(customer('cust-c', 'https://api.twilio.com', 'token-c'), SID);
    await t.get(customer('cust-d', 'https://api.twilio.com', 'token-d'), SID);
    assert.equal(seen.length, 2);
    assert.notEqual(seen[0].auth, seen[1].auth);
  });

  it('an unknown template screens the variables; the miss is cached', async () => {
    seen.length = 0;
    const t = templates();
    const c = customer('cust-e', 'https://api.twilio.com');
    const r = await templatedMessageText(t, c, MISSING_SID, '{"1":"Alice","2":"verify your account"}');
    assert.deepEqual(r, { text: 'Alice\nverify your account', templateKnown: false });
    await t.get(c, MISSING_SID);
    assert.equal(seen.length, 1);
  });

  it('an upstream with no Content API (the sink) is never asked', async () => {
    seen.length = 0;
    const t = new CachedContentTemplates({ fetch: fetchContent });
    assert.equal(await t.get(customer('cust-f', 'http://127.0.0.1:1/sink'), SID), null);
    assert.equal(seen.length, 0);
  });

  it('a SID that is not a Content SID is never put in a URL', async () => {
    seen.length = 0;
    const t = templates();
    assert.equal(await t.get(customer('cust-g', 'https://api.twilio.com'), '../../2010-04-01/Accounts'), null);
    assert.equal(seen.length, 0);
  });

  it('an unavailable Content API fails open to the variables, reports the error, and is retried later', async () => {
    seen.length = 0;
    failing = true;
    const errors: unknown[] = [];
    try {
      const t = templates({ errorTtlMs: 20, onError: (e) => errors.push(e) });
      const c = customer('cust-h', 'https://api.twilio.com');
      assert.equal(await t.get(c, SID), null);
      assert.equal(await t.get(c, SID), null);
      assert.equal(seen.length, 1);
      assert.equal(errors.length, 1);
      failing = false;
      await new Promise((r) => setTimeout(r, 40));
      assert.ok(await t.get(c, SID));
      assert.equal(seen.length, 2);
    } finally {
      failing = false;
    }
  });

  it('a malformed ContentVariables is an error for a 400', async () => {
    const r = await templatedMessageText(templates(), customer('cust-i', 'https://api.twilio.com'), SID, '{"1":');
    assert.ok('error' in r);
  });
});
