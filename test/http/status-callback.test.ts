// Status callbacks Warden sends for a held message it releases or refuses: an app endpoint that
// fails (5xx, 429, unreachable) is tried again on the configured schedule with the same signed
// body; an answer the app chose (a 4xx) is final; after the last retry the callback is given up;
// a callback still owed when the gateway stops is sent by the next one on the same database.
// Real gateway on SQLite, real HTTP to a callback receiver.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CONFIG } from '../../src/config.js';
import type { GatewayOptions } from '../../src/http/gateway.js';
import { startGateway } from '../../src/serve.js';
import twilio from 'twilio';
import { ADMIN, ALLOW_LOOPBACK, DEMO, form, startCallbackReceiver, startFixture, type CallbackReceiver, type Fixture } from './helpers.js';

// A body the default pack holds for review (examples/sample-messages.jsonl).
const REVIEW_BODY = "I know where you live. I'll f.i.n.d you and hurt you";
const RETRY_MS = [40, 40];
const POLL_MS = 10;

let fx: Fixture;
before(async () => {
  fx = await startFixture({ statusCallbackRetryMs: RETRY_MS, statusCallbackPollMs: POLL_MS, egressAllow: ALLOW_LOOPBACK });
});
after(async () => fx.gw.close());

/** Holds a message with `callbackUrl` as its StatusCallback, then refuses it through the admin API. */
async function holdAndRefuse(to: string, callbackUrl: string, gw: Pick<Fixture['gw'], 'app'> = fx.gw): Promise<string> {
  const created = await gw.app.inject({
    method: 'POST',
    url: `/2010-04-01/Accounts/${DEMO.accountSid}/Messages.json`,
    headers: { authorization: fx.demoAuth, 'content-type': 'application/x-www-form-urlencoded' },
    payload: form({ To: to, From: DEMO.sender, Body: REVIEW_BODY, StatusCallback: callbackUrl }),
  });
  assert.equal(created.json().status, 'accepted');
  const sid = created.json().sid as string;
  const settled = await gw.app.inject({
    method: 'POST',
    url: `/v1/review/${sid}`,
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    payload: JSON.stringify({ action: 'refuse' }),
  });
  assert.equal(settled.statusCode, 200, settled.body);
  return sid;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean, ms = 3_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await sleep(10);
}

/** The value of `read()` once `done` holds for it, or the last one read after `ms`. */
async function eventually<T>(read: () => Promise<T>, done: (v: T) => boolean, ms = 3_000): Promise<T> {
  const end = Date.now() + ms;
  let v = await read();
  while (!done(v) && Date.now() < end) {
    await sleep(10);
    v = await read();
  }
  return v;
}

async function counter(outcome: string): Promise<number> {
  const text = (await fx.gw.app.inject({ url: '/metrics' })).body;
  const m = new RegExp(`^warden_status_callbacks_total\\{outcome="${outcome}"\\} (\\d+)`, 'm').exec(text);
  return m === null ? 0 : Number(m[1]);
}

describe('status callbacks for held messages', () => {
  const receivers: CallbackReceiver[] = [];
  after(async () => {
    await Promise.all(receivers.map((r) => r.close()));
  });
  const receiver = async (statusFor: (n: number) => number) => {
    const r = await startCallbackReceiver(statusFor);
    receivers.push(r);
    return r;
  };

  it('an endpoint that fails twice hears the same signed callback a third time, and no more', async () => {
    const r = await receiver((n) => (n <= 2 ? 503 : 200));
    const sid = await holdAndRefuse('+14155550170', r.url);
    await until(() => r.callbacks.length >= 3);
    await sleep(RETRY_MS[0] * 3);
    assert.equal(r.callbacks.length, 3);
    assert.ok(
      r.callbacks.every((c) => c.body === r.callbacks[0].body),
      'every attempt carries the same body',
    );
    const params = Object.fromEntries(new URLSearchParams(r.callbacks[2].body));
    assert.equal(params.MessageSid, sid);
    assert.equal(params.MessageStatus, 'failed');
    assert.ok(
      twilio.validateRequest(DEMO.authToken, r.callbacks[2].signature ?? '', r.url, params),
      "the retry is signed with the app's own auth token",
    );
    assert.ok((await counter('delivered')) >= 1);
  });

  it('an endpoint that keeps failing is tried once plus once per configured wait, then given up', async () => {
    const failedBefore = await counter('failed');
    const r = await receiver(() => 429);
    // Refused, not released: a released message reaches the sink upstream, which posts its own
    // delivery callbacks to the same URL.
    await holdAndRefuse('+14155550171', r.url);
    await until(() => r.callbacks.length >= 1 + RETRY_MS.length);
    await sleep(RETRY_MS[0] * 4);
    assert.equal(r.callbacks.length, 1 + RETRY_MS.length);
    assert.equal((await counter('failed')) - failedBefore, 1 + RETRY_MS.length);
  });

  it('an answer the app chose (404) is not retried', async () => {
    const r = await receiver(() => 404);
    await holdAndRefuse('+14155550172', r.url);
    await until(() => r.callbacks.length >= 1);
    await sleep(RETRY_MS[0] * 4);
    assert.equal(r.callbacks.length, 1);
    assert.ok((await counter('refused')) >= 1);
  });

  it('a callback given up is sent again when an operator asks, and only an ended one', async () => {
    let healthy = false;
    const r = await receiver(() => (healthy ? 200 : 503));
    const sid = await holdAndRefuse('+14155550174', r.url);
    await until(() => r.callbacks.length >= 1 + RETRY_MS.length);
    const admin = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
    const listed = async () =>
      (
        (await fx.gw.app.inject({ url: '/v1/review?state=all', headers: admin })).json().held as Array<{
          sid: string;
          callback?: { state: string; attempts: number };
        }>
      ).find((h) => h.sid === sid)?.callback;
    assert.deepEqual(await eventually(listed, (c) => c?.state === 'given_up'), { state: 'given_up', attempts: 3, lastError: 'http-5xx' });
    healthy = true;
    const again = await fx.gw.app.inject({
      method: 'POST',
      url: `/v1/review/${sid}/callback`,
      headers: admin,
      payload: JSON.stringify({ actor: 'ops@example.com' }),
    });
    assert.equal(again.statusCode, 200, again.body);
    assert.equal(again.json().callback.state, 'pending');
    await until(() => r.callbacks.length >= 4);
    assert.equal(r.callbacks.length, 4);
    assert.deepEqual(r.callbacks[3], r.callbacks[0], 'the same signed request');
    assert.deepEqual(await eventually(listed, (c) => c?.state === 'delivered'), { state: 'delivered', attempts: 1, lastError: 'http-5xx' });
    const twice = await fx.gw.app.inject({ method: 'POST', url: `/v1/review/${sid}/callback`, headers: admin, payload: '{}' });
    assert.equal(twice.statusCode, 409, 'a delivered callback is not sent again');
    const unknown = await fx.gw.app.inject({ method: 'POST', url: '/v1/review/SMnope/callback', headers: admin, payload: '{}' });
    assert.equal(unknown.statusCode, 404);
    const tenant = await fx.gw.app.inject({
      method: 'POST',
      url: `/v1/review/${sid}/callback`,
      headers: { authorization: fx.demoAuth, 'content-type': 'application/json' },
      payload: '{}',
    });
    assert.equal(tenant.statusCode, 401, 'customers cannot re-send callbacks');
  });

  it('a callback still owed when the gateway stops is sent by the next gateway on the same database', async () => {
    const r = await receiver((n) => (n === 1 ? 503 : 200));
    const dataDir = join(mkdtempSync(join(tmpdir(), 'warden-callback-')), 'data');
    const start = (gateway: Partial<GatewayOptions>) =>
      startGateway({
        config: { ...DEFAULT_CONFIG, dataDir, port: 0, pollIntervalMs: 200, adminToken: ADMIN },
        port: 0,
        demo: true,
        logger: false,
        gateway: { defaultMetrics: false, statusCallbackPollMs: POLL_MS, egressAllow: ALLOW_LOOPBACK, ...gateway },
      });
    const first = await start({ statusCallbackRetryMs: [400] });
    let sid: string;
    try {
      sid = await holdAndRefuse('+14155550173', r.url, first);
      assert.equal(r.callbacks.length, 1, 'the first attempt is made before the settlement answers');
    } finally {
      await first.close();
    }
    const second = await start({});
    try {
      await until(() => r.callbacks.length >= 2, 5_000);
      assert.equal(r.callbacks.length, 2);
      assert.deepEqual(r.callbacks[1], r.callbacks[0], 'the same signed request');
      // The receiver has the request before the node has recorded its answer.
      const callbackOf = async () => {
        const listed = await second.app.inject({ url: '/v1/review?state=all', headers: { authorization: `Bearer ${ADMIN}` } });
        return (listed.json().held as Array<{ sid: string; callback?: { state?: string } }>).find((h) => h.sid === sid)?.callback;
      };
      assert.deepEqual(await eventually(callbackOf, (c) => c?.state === 'delivered'), {
        state: 'delivered',
        attempts: 2,
        lastError: 'http-5xx',
      });
    } finally {
      await second.close();
    }
  });
});
