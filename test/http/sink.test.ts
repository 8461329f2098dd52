// The built-in sink upstream on the gateway's port: no side door (its own token, the path's
// account as username, nothing of another account listed or fetched, no callback for a request it
// refused, nothing of another tenant through the passthrough), and Twilio's behaviour for what
// apps call next (MM SIDs, `to` in E.164, list filters and paging), checked over HTTP against the
// sink and with the official `twilio` package through Warden.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import twilio from 'twilio';
import { DEFAULT_CONFIG, loadConfig, type WardenConfig } from '../../src/config.js';
import { startGateway } from '../../src/serve.js';
import { freePort } from '../multinode/harness.js';
import { messageFilter } from '../../src/http/sink/filters.js';
import { ALLOW_LOOPBACK, DEMO, form, startCallbackReceiver, startFixture, type CallbackReceiver, type Fixture } from './helpers.js';

let fx: Fixture;
let receiver: CallbackReceiver;
before(async () => {
  fx = await startFixture({ egressAllow: ALLOW_LOOPBACK });
  receiver = await startCallbackReceiver();
});
after(async () => {
  await receiver.close();
  await fx.gw.close();
});

/** An account only these tests use on the sink directly. */
const ACCT = 'AC' + '5'.repeat(32);
const sinkUrl = (path: string) => `${fx.gw.url}/sink${path}`;
const sinkAuth = (user = ACCT, token = fx.sinkToken) => fx.basic(user, token);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface ListPage {
  end: number;
  first_page_uri: string;
  next_page_uri: string | null;
  page: number;
  page_size: number;
  previous_page_uri: string | null;
  start: number;
  uri: string;
  messages?: Array<{ sid: string; to: string; from: string; body: string; account_sid: string; status: string; date_sent: string | null }>;
  calls?: Array<{ sid: string; to: string; status: string; account_sid: string }>;
  code?: number;
}

async function sinkGet(path: string, auth = sinkAuth()): Promise<{ status: number; json: ListPage }> {
  const r = await fetch(sinkUrl(path), { headers: { authorization: auth } });
  return { status: r.status, json: (await r.json()) as ListPage };
}

async function sinkPost(what: 'Messages' | 'Calls', fields: Record<string, string | string[]>, auth = sinkAuth(), account = ACCT) {
  const r = await fetch(sinkUrl(`/2010-04-01/Accounts/${account}/${what}.json`), {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
    body: form(fields),
  });
  return { status: r.status, json: (await r.json()) as { sid: string; to: string; code?: number; status: number | string } };
}

async function until(check: () => boolean, ms = 2000): Promise<void> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await sleep(10);
  }
}

describe('the sink is no side door', () => {
  it("refuses a missing, wrong or other tenant's credential with 401 (20003), and posts no callback for it", async () => {
    const before = { messages: fx.gw.app.sink?.messages.size, calls: fx.gw.app.sink?.calls.size };
    const bad: Array<[string, string | undefined]> = [
      ['no credentials', undefined],
      ['any non-empty password (x:x)', fx.basic('x', 'x')],
      ["the path's account with a wrong token", sinkAuth(ACCT, 'not-the-sink-token')],
      ["the sink token under another account's name", sinkAuth(DEMO.accountSid)],
      ["the demo tenant's Warden credentials", fx.demoAuth],
      ["the other tenant's Warden credentials", fx.otherAuth],
      ['the token with a byte more', sinkAuth(ACCT, fx.sinkToken + 'x')],
    ];
    for (const [what, auth] of bad) {
      const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
      if (auth !== undefined) headers.authorization = auth;
      const requests = [
        fetch(sinkUrl(`/2010-04-01/Accounts/${ACCT}/Messages.json`), {
          method: 'POST',
          headers,
          body: form({ To: '+14155550130', From: DEMO.sender, Body: 'hi', StatusCallback: receiver.url }),
        }),
        fetch(sinkUrl(`/2010-04-01/Accounts/${ACCT}/Calls.json`), {
          method: 'POST',
          headers,
          body: form({ To: '+14155550130', From: DEMO.sender, Twiml: '<Response/>', StatusCallback: receiver.url }),
        }),
        fetch(sinkUrl(`/2010-04-01/Accounts/${ACCT}/Messages.json`), { headers }),
        fetch(sinkUrl(`/2010-04-01/Accounts/${ACCT}/Calls.json`), { headers }),
        fetch(sinkUrl(`/2010-04-01/Accounts/${ACCT}/Messages/SM${'0'.repeat(32)}.json`), { headers }),
      ];
      for (const r of await Promise.all(requests)) {
        assert.equal(r.status, 401, what);
        const body = (await r.json()) as { code: number; status: number; more_info: string };
        assert.deepEqual([body.code, body.status], [20003, 401], what);
      }
    }
    await sleep(150);
    assert.equal(receiver.callbacks.length, 0, 'no refused request made the sink post anything');
    assert.deepEqual(
      { messages: fx.gw.app.sink?.messages.size, calls: fx.gw.app.sink?.calls.size },
      before,
      'nothing refused was recorded',
    );
  });

  it("accepts the sink token with the path's account, and signs its callbacks with that token", async () => {
    const r = await sinkPost('Messages', { To: '+14155550131', From: DEMO.sender, Body: 'hello', StatusCallback: receiver.url });
    assert.equal(r.status, 201);
    await until(() => receiver.callbacks.filter((c) => c.body.includes(r.json.sid)).length === 2);
    const cb = receiver.callbacks.find((c) => c.body.includes(r.json.sid));
    const params = Object.fromEntries(new URLSearchParams(cb?.body));
    assert.equal(twilio.validateRequest(fx.sinkToken, cb?.signature ?? '', receiver.url, params), true);
  });

  it("lists and fetches only the path's account", async () => {
    const demoSend = await fetch(`${fx.gw.url}/2010-04-01/Accounts/${DEMO.accountSid}/Messages.json`, {
      method: 'POST',
      headers: { authorization: fx.demoAuth, 'content-type': 'application/x-www-form-urlencoded' },
      body: form({ To: '+14155550132', From: DEMO.sender, Body: 'Demo tenant: your order shipped' }),
    });
    assert.equal(demoSend.status, 201);
    const demoSid = ((await demoSend.json()) as { sid: string }).sid;
    const otherSend = await fetch(`${fx.gw.url}/2010-04-01/Accounts/${fx.other.accountSid}/Messages.json`, {
      method: 'POST',
      headers: { authorization: fx.otherAuth, 'content-type': 'application/x-www-form-urlencoded' },
      body: form({ To: '+14155550133', From: '+15005550009', Body: 'Other tenant: see you soon' }),
    });
    assert.equal(otherSend.status, 201);
    const otherSid = ((await otherSend.json()) as { sid: string }).sid;

    const asOther = sinkAuth(fx.other.accountSid);
    const listed = await sinkGet(`/2010-04-01/Accounts/${fx.other.accountSid}/Messages.json?PageSize=1000`, asOther);
    assert.equal(listed.status, 200);
    const sids = (listed.json.messages ?? []).map((m) => m.sid);
    assert.ok(sids.includes(otherSid));
    assert.ok(!sids.includes(demoSid), "the other account lists none of the demo tenant's messages");
    assert.ok((listed.json.messages ?? []).every((m) => m.account_sid === fx.other.accountSid));
    assert.equal(
      (await sinkGet(`/2010-04-01/Accounts/${fx.other.accountSid}/Messages/${demoSid}.json`, asOther)).status,
      404,
      'nor fetches one',
    );
    assert.equal(
      (await sinkGet(`/2010-04-01/Accounts/${DEMO.accountSid}/Messages/${demoSid}.json`, sinkAuth(DEMO.accountSid))).status,
      200,
    );

    // Through Warden's passthrough each tenant reaches its own account only.
    const otherClient = twilio(fx.other.accountSid, fx.other.secret);
    otherClient.api.baseUrl = fx.gw.url;
    const viaWarden = await otherClient.messages.list({ limit: 1000 });
    assert.ok(viaWarden.some((m) => m.sid === otherSid));
    assert.ok(viaWarden.every((m) => m.accountSid === fx.other.accountSid && m.sid !== demoSid));
  });

  it("a path that climbs out of the tenant's account through the passthrough gets none of another's data", async () => {
    const marker = 'Demo tenant only: gate code 4411';
    const sent = await fetch(`${fx.gw.url}/2010-04-01/Accounts/${DEMO.accountSid}/Messages.json`, {
      method: 'POST',
      headers: { authorization: fx.demoAuth, 'content-type': 'application/x-www-form-urlencoded' },
      body: form({ To: '+14155550134', From: DEMO.sender, Body: marker }),
    });
    assert.equal(sent.status, 201);
    const url = new URL(fx.gw.url);
    // node:http sends the path as written (fetch would resolve the dot segments itself).
    const paths = [
      `/2010-04-01/Accounts/${fx.other.accountSid}/../${DEMO.accountSid}/Messages.json`,
      `/2010-04-01/Accounts/${fx.other.accountSid}/%2e%2e/${DEMO.accountSid}/Messages.json`,
      `/2010-04-01/Accounts/${fx.other.accountSid}/../../../sink/2010-04-01/Accounts/${DEMO.accountSid}/Messages.json`,
    ];
    for (const path of paths) {
      const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest({ host: url.hostname, port: url.port, path, headers: { authorization: fx.otherAuth } }, (r) => {
          let body = '';
          r.on('data', (c) => {
            body += c;
          });
          r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
      assert.ok(res.status >= 400 && res.status < 500, `${path}: ${res.status}`);
      assert.ok(
        !res.body.includes(marker) && !res.body.includes(DEMO.accountSid + '/Messages/'),
        `${path} leaked the demo tenant's messages`,
      );
    }
  });
});

describe('the sink answers like Twilio', () => {
  it('names a message with media MM..., one without SM...', async () => {
    const mms = await sinkPost('Messages', {
      To: '+14155550135',
      From: DEMO.sender,
      Body: 'a picture',
      MediaUrl: ['https://example.com/a.png'],
    });
    const sms = await sinkPost('Messages', { To: '+14155550135', From: DEMO.sender, Body: 'words' });
    assert.match(mms.json.sid, /^MM[0-9a-f]{32}$/);
    assert.match(sms.json.sid, /^SM[0-9a-f]{32}$/);
  });

  it('returns `to` in E.164 however the app wrote it; a channel address keeps its channel', async () => {
    const cases: Array<[string, string]> = [
      ['(415) 555-0136', '+14155550136'],
      ['+1 415.555.0136', '+14155550136'],
      ['whatsapp:+1 (415) 555-0136', 'whatsapp:+14155550136'],
      ['rcs:+1 415 555 0136', 'rcs:+14155550136'],
    ];
    for (const [written, e164] of cases) {
      const r = await sinkPost('Messages', { To: written, From: DEMO.sender, Body: 'hi' });
      assert.equal(r.json.to, e164, written);
      assert.equal(fx.gw.app.sink?.messages.get(r.json.sid)?.to, e164, `${written}: as stored and listed`);
    }
    const call = await sinkPost('Calls', { To: '415-555-0137', From: DEMO.sender, Twiml: '<Response/>' });
    assert.equal(call.json.to, '+14155550137');
    assert.equal((await sinkPost('Calls', { To: 'client:alice', From: DEMO.sender, Twiml: '<Response/>' })).json.to, 'client:alice');
  });

  it('a message Warden holds for review shows `to` in E.164 too', async () => {
    const held = await fetch(`${fx.gw.url}/2010-04-01/Accounts/${DEMO.accountSid}/Messages.json`, {
      method: 'POST',
      headers: { authorization: fx.demoAuth, 'content-type': 'application/x-www-form-urlencoded' },
      body: form({ To: '+1 (415) 555-0138', From: DEMO.sender, Body: "I know where you live. I'll f.i.n.d you and hurt you" }),
    });
    const json = (await held.json()) as { status: string; to: string; sid: string };
    assert.deepEqual([held.status, json.status, json.to], [201, 'accepted', '+14155550138']);
    const fetched = await fetch(`${fx.gw.url}/2010-04-01/Accounts/${DEMO.accountSid}/Messages/${json.sid}.json`, {
      headers: { authorization: fx.demoAuth },
    });
    assert.equal(((await fetched.json()) as { to: string }).to, '+14155550138');
  });

  it("pages newest first with PageSize, Page and PageToken, and Twilio's page URIs", async () => {
    const acct = 'AC' + '6'.repeat(32);
    const auth = sinkAuth(acct);
    const created: string[] = [];
    for (let i = 0; i < 7; i++)
      created.push((await sinkPost('Messages', { To: '+14155550140', From: DEMO.sender, Body: `n${i}` }, auth, acct)).json.sid);
    const newestFirst = [...created].reverse();
    const list = `/2010-04-01/Accounts/${acct}/Messages.json`;

    const p0 = await sinkGet(`${list}?PageSize=3`, auth);
    assert.equal(p0.status, 200);
    assert.deepEqual(
      p0.json.messages?.map((m) => m.sid),
      newestFirst.slice(0, 3),
    );
    assert.deepEqual([p0.json.page, p0.json.page_size, p0.json.start, p0.json.end, p0.json.previous_page_uri], [0, 3, 0, 2, null]);
    assert.equal(p0.json.first_page_uri, `${list}?PageSize=3&Page=0`);
    assert.equal(p0.json.uri, `${list}?PageSize=3&Page=0`);
    assert.equal(
      p0.json.next_page_uri,
      `${list}?PageSize=3&Page=1&PageToken=PA${newestFirst[2]}`,
      "relative, so it resolves against the client's base URL",
    );

    // A message sent between two pages neither repeats nor hides one: the token is a cursor.
    await sinkPost('Messages', { To: '+14155550140', From: DEMO.sender, Body: 'late' }, auth, acct);
    const p1 = await sinkGet(p0.json.next_page_uri ?? '', auth);
    assert.deepEqual(
      p1.json.messages?.map((m) => m.sid),
      newestFirst.slice(3, 6),
    );
    assert.deepEqual([p1.json.page, p1.json.start, p1.json.end], [1, 3, 5]);
    assert.ok(p1.json.previous_page_uri?.startsWith(`${list}?PageSize=3&Page=0&PageToken=PB`));
    const p2 = await sinkGet(p1.json.next_page_uri ?? '', auth);
    assert.deepEqual(
      p2.json.messages?.map((m) => m.sid),
      newestFirst.slice(6),
    );
    assert.deepEqual([p2.json.page, p2.json.start, p2.json.end, p2.json.next_page_uri], [2, 6, 6, null]);
    const back = await sinkGet(p2.json.previous_page_uri ?? '', auth);
    assert.deepEqual(
      back.json.messages?.map((m) => m.sid),
      newestFirst.slice(3, 6),
      'previous_page_uri leads back to the page before',
    );

    const offset = await sinkGet(`${list}?PageSize=2&Page=1`, auth);
    assert.equal(offset.json.messages?.length, 2, 'Page without a token is an offset');
    assert.equal((await sinkGet(list, auth)).json.page_size, 50, 'PageSize defaults to 50');
    assert.equal((await sinkGet(`${list}?PageSize=5000`, auth)).json.page_size, 1000, 'and is at most 1000');
    for (const q of [
      'PageSize=0',
      'PageSize=abc',
      'PageSize=-1',
      'Page=-1',
      'PageToken=nonsense',
      'DateSent=yesterday',
      'DateSent%3E=2024-13',
    ]) {
      const r = await sinkGet(`${list}?${q}`, auth);
      assert.deepEqual([r.status, r.json.code], [400, 20400], q);
    }
  });

  it('filters messages by To, From and DateSent (on, on or before, on or after)', async () => {
    const acct = 'AC' + '7'.repeat(32);
    const auth = sinkAuth(acct);
    const sids: string[] = [];
    sids.push((await sinkPost('Messages', { To: '+14155550141', From: DEMO.sender, Body: 'a' }, auth, acct)).json.sid);
    sids.push((await sinkPost('Messages', { To: '(415) 555-0141', From: DEMO.sender, Body: 'b' }, auth, acct)).json.sid);
    sids.push((await sinkPost('Messages', { To: '+14155550142', From: '+15005550009', Body: 'c' }, auth, acct)).json.sid);
    const list = `/2010-04-01/Accounts/${acct}/Messages.json`;
    const q = (p: Record<string, string>) =>
      sinkGet(`${list}?${new URLSearchParams(p).toString()}`, auth).then((r) => (r.json.messages ?? []).map((m) => m.sid));

    assert.deepEqual(await q({ To: '+14155550141' }), [sids[1], sids[0]]);
    assert.deepEqual(await q({ To: '+1 (415) 555-0141' }), [sids[1], sids[0]], 'the filter number is read in its canonical form too');
    assert.deepEqual(await q({ From: '+15005550009' }), [sids[2]]);
    assert.deepEqual(await q({ To: '+14155550141', From: '+15005550009' }), [], 'filters combine');

    const today = new Date().toISOString().slice(0, 10);
    const queued = fx.gw.app.sink?.messages.get(sids[0]);
    assert.ok(queued);
    const onToday = messageFilter([['DateSent', today]]);
    assert.ok(typeof onToday === 'function');
    assert.equal(onToday({ ...queued, date_sent: null }), false, 'a message not sent yet has no sent date');
    await until(() => sids.every((s) => fx.gw.app.sink?.messages.get(s)?.date_sent !== null));
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const all = [...sids].reverse();
    assert.deepEqual(await q({ DateSent: today }), all);
    assert.deepEqual(await q({ DateSent: yesterday }), []);
    assert.deepEqual(await q({ 'DateSent<': today }), all, 'DateSent< a day includes that day');
    assert.deepEqual(await q({ 'DateSent<': yesterday }), []);
    assert.deepEqual(await q({ 'DateSent>': today }), all, 'DateSent> a day includes that day');
    assert.deepEqual(await q({ 'DateSent>': tomorrow }), []);
    assert.deepEqual(await q({ 'DateSent>': new Date(Date.now() - 60_000).toISOString() }), all, 'or a date-time');
    assert.deepEqual(await q({ 'DateSent<': new Date(Date.now() - 60_000).toISOString() }), []);
  });

  it('filters calls by To, From and Status, and pages them', async () => {
    const acct = 'AC' + '8'.repeat(32);
    const auth = sinkAuth(acct);
    const sids: string[] = [];
    for (const to of ['+14155550143', '+14155550143', '+14155550144'])
      sids.push((await sinkPost('Calls', { To: to, From: DEMO.sender, Twiml: '<Response/>' }, auth, acct)).json.sid);
    const list = `/2010-04-01/Accounts/${acct}/Calls.json`;
    const q = (p: string) => sinkGet(`${list}?${p}`, auth);
    assert.deepEqual(
      ((await q('To=%2B14155550143')).json.calls ?? []).map((c) => c.sid),
      [sids[1], sids[0]],
    );
    assert.deepEqual(
      ((await q(`From=${encodeURIComponent(DEMO.sender)}&To=%2B14155550144`)).json.calls ?? []).map((c) => c.sid),
      [sids[2]],
    );
    await until(() => sids.every((s) => fx.gw.app.sink?.calls.get(s)?.status === 'completed'));
    assert.equal(((await q('Status=completed')).json.calls ?? []).length, 3);
    assert.equal(((await q('Status=queued')).json.calls ?? []).length, 0);
    const p0 = await q('PageSize=2');
    assert.deepEqual(
      (p0.json.calls ?? []).map((c) => c.sid),
      [sids[2], sids[1]],
    );
    const p1 = await sinkGet(p0.json.next_page_uri ?? '', auth);
    assert.deepEqual([(p1.json.calls ?? []).map((c) => c.sid), p1.json.next_page_uri], [[sids[0]], null]);
  });
});

describe('the twilio package lists and pages through Warden', () => {
  let client: ReturnType<typeof twilio>;
  const to = '+14155550150';
  const sent: string[] = [];
  before(async () => {
    client = twilio(DEMO.accountSid, DEMO.authToken);
    client.api.baseUrl = fx.gw.url;
    for (let i = 0; i < 5; i++)
      sent.push((await client.messages.create({ to, from: DEMO.sender, body: `Reminder ${i}: your appointment is on Tuesday` })).sid);
    await client.messages.create({ to: '+14155550151', from: DEMO.sender, body: 'Someone else' });
  });

  it('messages.list({to, pageSize}) follows next_page_uri through Warden and gets every match, newest first', async () => {
    const all = await client.messages.list({ to, pageSize: 2 });
    assert.deepEqual(
      all.map((m) => m.sid),
      [...sent].reverse(),
    );
    assert.ok(all.every((m) => m.to === to));
    const limited = await client.messages.list({ to, limit: 3, pageSize: 2 });
    assert.deepEqual(
      limited.map((m) => m.sid),
      [...sent].reverse().slice(0, 3),
    );
  });

  it('page() and nextPage() / previousPage(), and each()', async () => {
    const p0 = await client.messages.page({ to, pageSize: 2 });
    assert.deepEqual(
      p0.instances.map((m) => m.sid),
      [sent[4], sent[3]],
    );
    const p1 = await p0.nextPage();
    assert.deepEqual(
      p1?.instances.map((m) => m.sid),
      [sent[2], sent[1]],
    );
    const back = await p1?.previousPage();
    assert.deepEqual(
      back?.instances.map((m) => m.sid),
      [sent[4], sent[3]],
    );
    const seen: string[] = [];
    await client.messages.each({ to, pageSize: 2 }, (m) => {
      seen.push(m.sid);
    });
    assert.deepEqual(seen, [...sent].reverse());
  });

  it('dateSentAfter and calls.list({to, pageSize})', async () => {
    await until(() => sent.every((s) => fx.gw.app.sink?.messages.get(s)?.status === 'delivered'));
    const recent = await client.messages.list({ to, dateSentAfter: new Date(Date.now() - 3_600_000) });
    assert.deepEqual(
      recent.map((m) => m.sid),
      [...sent].reverse(),
    );
    assert.equal((await client.messages.list({ to, dateSentBefore: new Date(Date.now() - 3_600_000) })).length, 0);

    const callTo = '+14155550152';
    const calls: string[] = [];
    for (let i = 0; i < 3; i++)
      calls.push(
        (await client.calls.create({ to: callTo, from: DEMO.sender, twiml: '<Response><Say>Your table is ready</Say></Response>' })).sid,
      );
    const listed = await client.calls.list({ to: callTo, pageSize: 1 });
    assert.deepEqual(
      listed.map((c) => c.sid),
      [...calls].reverse(),
    );
  });
});

describe('warden serve and the sink token', () => {
  it('keeps one token per data directory, takes WARDEN_SINK_TOKEN, and gives it to the demo customer whose upstream is this sink', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'warden-sink-')), 'data');
    // One port for all three starts: the demo customer's upstream is the sink at this URL.
    const port = await freePort();
    const start = (extra: Partial<WardenConfig> = {}) =>
      startGateway({
        config: { ...DEFAULT_CONFIG, dataDir, port, pollIntervalMs: 200, ...extra },
        port,
        demo: true,
        logger: false,
        gateway: { defaultMetrics: false },
      });
    const send = async (url: string) =>
      (
        await fetch(`${url}/2010-04-01/Accounts/${DEMO.accountSid}/Messages.json`, {
          method: 'POST',
          headers: { authorization: fx.demoAuth, 'content-type': 'application/x-www-form-urlencoded' },
          body: form({ To: '+14155550160', From: DEMO.sender, Body: 'Your table is ready' }),
        })
      ).status;
    const first = await start();
    const token = first.sinkToken;
    assert.ok(token !== null && token.length >= 32 && token !== fx.sinkToken, 'a random token of its own');
    assert.equal(await send(first.url), 201);
    await first.close();
    const again = await start();
    assert.equal(again.sinkToken, token, 'the same data directory, the same token');
    await again.close();
    // WARDEN_SINK_TOKEN, read by the one reader of configuration.
    const configured = await start({ sinkToken: loadConfig({ WARDEN_SINK_TOKEN: 'configured-sink-token-for-this-test' }).sinkToken });
    try {
      assert.equal(configured.sinkToken, 'configured-sink-token-for-this-test');
      assert.equal(
        (await configured.stores.tenancy.getCustomer(DEMO.customer))?.upstream.authToken,
        'configured-sink-token-for-this-test',
        'the demo customer seeded earlier now uses it',
      );
      assert.equal(await send(configured.url), 201, 'and still reaches the sink');
    } finally {
      await configured.close();
    }
  });
});
