// The decision log in front of a real SQLite decision store: batches, reads of records still in
// flight (they wait for the commit), and backpressure when the writer falls behind (a stalled disk must slow the gateway down,
// not grow its memory without bound).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { DecisionLog } from '../../src/http/decision-log.js';
import { GatewayMetrics } from '../../src/http/metrics.js';
import { openStores } from '../../src/store/open-stores.js';
import { DEFAULT_CONFIG } from '../../src/config.js';
import { DEMO, startGateway } from '../../src/serve.js';
import { hashNumber } from '../../src/http/decision-log.js';
import type { Decision, Message } from '../../src/core/types.js';
import type { CustomerRecord, DecisionStore } from '../../src/store/types.js';

const customer: CustomerRecord = { id: 'dl', accountSid: 'AC' + '1'.repeat(32) } as CustomerRecord;
const decision = (i: number): Decision => ({ id: `d${i}`, messageId: `m${i}`, action: 'allow', score: 0, reasons: [], policyVersion: 'p' });
const message = (i: number): Message =>
  ({ id: `m${i}`, customer: 'dl', channel: 'sms', from: '+15005550006', to: '+14155550100', body: 'hello' }) as Message;

/**
 * A decision log over the real SQLite store behind a gate: batches reach SQLite only once the test
 * calls open() (a stalled disk until then).
 */
async function stalledLog(): Promise<{
  log: DecisionLog;
  metrics: GatewayMetrics;
  open: () => void;
  stores: Awaited<ReturnType<typeof openStores>>;
}> {
  const stores = await openStores(
    { ...DEFAULT_CONFIG, dataDir: join(mkdtempSync(join(tmpdir(), 'warden-dl-')), 'data') },
    { log: () => undefined },
  );
  let open!: () => void;
  const gate = new Promise<void>((r) => {
    open = r;
  });
  const gated: DecisionStore = {
    ...stores.decisions,
    recordMany: async (ds) => {
      await gate;
      return stores.decisions.recordMany(ds);
    },
  };
  const metrics = new GatewayMetrics({ defaultMetrics: false });
  const log = new DecisionLog(
    gated,
    pino({ level: 'silent' }),
    { recipients: 'mask', bodies: false, hashKey: 'k' },
    metrics,
    (_h, to) => to,
  );
  return { log, metrics, open, stores };
}

describe('decision log', () => {
  it('waits for the commit once the backlog is full, and only then', async () => {
    const { log, metrics, open, stores } = await stalledLog();
    log.maxBacklog = 5;
    log.flushIntervalMs = 1;
    for (let i = 0; i < 5; i++) assert.equal(log.record(decision(i), message(i), customer), null, `record ${i} is queued without waiting`);
    // A read of a record still in flight waits for its commit (here: until the disk comes back).
    let read: string | undefined | null = null;
    const reading = log.get('dl', 'd3').then((r) => {
      read = r?.messageId;
    });
    const waiting = log.record(decision(5), message(5), customer);
    assert.ok(waiting instanceof Promise, 'over the backlog the caller gets something to wait for');
    let settled = false;
    void waiting.then(() => {
      settled = true;
    });
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(settled, false, 'it does not settle while the store is stalled');
    assert.equal(read, null, 'nor does the read');
    open();
    await reading;
    assert.equal(read, 'm3', 'a record in flight is read once committed');
    await waiting;
    await log.flush();
    assert.equal((await stores.decisions.list('dl', 10)).length, 6);
    assert.equal(log.record(decision(6), message(6), customer), null, 'the backlog drained: no more waiting');
    await log.flush();
    assert.equal((await metrics.decisionLogBackpressure.get()).values[0].value, 1);
    await stores.close();
  });
});

describe('decision log reads', () => {
  it('a read waits for the writes in flight, but not longer than readWaitMs on a stalled disk', async () => {
    const { log, open, stores } = await stalledLog();
    log.readWaitMs = 50;
    log.record(decision(1), message(1), customer);
    const started = Date.now();
    assert.equal(await log.get('dl', 'd1'), null, 'not found while the disk is stalled');
    const waited = Date.now() - started;
    assert.ok(waited >= 45 && waited < 1_000, `waited ${waited} ms`);
    open();
    await log.flush();
    assert.equal((await log.get('dl', 'd1'))?.messageId, 'm1');
    assert.equal(await log.get('dl', 'd2'), null, 'an unknown ID with nothing in flight is answered at once');
    await stores.close();
  });
});

describe('decision log lines', () => {
  it('mask numbers and bodies as configured; flagged decisions at info, allowed ones at debug', async () => {
    const stores = await openStores(
      { ...DEFAULT_CONFIG, dataDir: join(mkdtempSync(join(tmpdir(), 'warden-dl-')), 'data') },
      { log: () => undefined },
    );
    const lines: Array<Record<string, unknown>> = [];
    const sink = {
      write: (s: string) => {
        lines.push(JSON.parse(s) as Record<string, unknown>);
      },
    };
    const run = async (level: string, masking: { recipients: 'mask' | 'hash' | 'full'; bodies: boolean }) => {
      lines.length = 0;
      const log = new DecisionLog(
        stores.decisions,
        pino({ level }, sink),
        { ...masking, hashKey: 'k' },
        new GatewayMetrics({ defaultMetrics: false }),
        (_h, to) => to,
      );
      const blocked: Decision = {
        ...decision(1),
        id: `b-${level}-${masking.recipients}`,
        action: 'block',
        score: 12,
        reasons: [{ clause: 'content.false.phishing', rule: 'r', weight: 12, detail: 'd' }],
      };
      log.record(blocked, message(1), customer);
      log.record({ ...decision(2), id: `a-${level}-${masking.recipients}` }, message(2), customer);
      await log.flush();
      return lines.filter((l) => l.msg === 'decision').map((l) => ({ level: l.level, d: l.decision as Record<string, unknown> }));
    };
    const info = await run('info', { recipients: 'mask', bodies: false });
    assert.equal(info.length, 1, 'the allowed decision is not logged at info');
    assert.equal(info[0].level, 30);
    assert.equal(info[0].d.action, 'block');
    assert.equal(info[0].d.to, '+14*******00');
    assert.equal(info[0].d.body, '[5 chars]');
    assert.equal((info[0].d.reasons as unknown[]).length, 1);
    assert.equal((info[0].d.reasons as Array<Record<string, unknown>>)[0].detail, undefined, 'free-text details stay out of masked lines');
    const debug = await run('debug', { recipients: 'hash', bodies: true });
    assert.deepEqual(
      debug.map((l) => [l.level, l.d.action]),
      [
        [30, 'block'],
        [20, 'allow'],
      ],
    );
    assert.match(String(debug[0].d.to), /^h:/);
    assert.equal(debug[0].d.body, 'hello');
    const full = await run('info', { recipients: 'full', bodies: true });
    assert.equal(
      (full[0].d.reasons as Array<Record<string, unknown>>)[0].detail,
      'd',
      'details where numbers and bodies are logged in full',
    );
    await stores.close();
  });

  it("keep the recipient and the message's words out of masked lines, including reasons that quote them", async () => {
    const stores = await openStores(
      { ...DEFAULT_CONFIG, dataDir: join(mkdtempSync(join(tmpdir(), 'warden-dl-')), 'data') },
      { log: () => undefined },
    );
    const raw: string[] = [];
    const log = new DecisionLog(
      stores.decisions,
      pino(
        { level: 'info' },
        {
          write: (s: string) => {
            raw.push(s);
          },
        },
      ),
      { recipients: 'mask', bodies: false, hashKey: 'k' },
      new GatewayMetrics({ defaultMetrics: false }),
      (_h, to) => to,
    );
    const m: Message = { ...message(1), to: '+14155550123', body: 'claim your zanzibarprize now' };
    log.record(
      {
        ...decision(1),
        action: 'block',
        score: 9,
        reasons: [
          { clause: 'law.opt-out', rule: 'state.opted-out', weight: 0, detail: `recipient ${m.to} has opted out` },
          {
            clause: 'content.unwanted.spam',
            rule: 'model.content-v1.spam',
            weight: 9,
            detail: 'content-v1 rates spam at p=0.990; strongest features: zanzibarprize (+1.20)',
          },
        ],
      },
      m,
      customer,
    );
    await log.flush();
    const line = raw.find((l) => l.includes('"decision"')) ?? '';
    assert.match(line, /"rule":"state\.opted-out"/);
    assert.match(line, /"rule":"model\.content-v1\.spam"/);
    assert.doesNotMatch(line, /4155550123/, 'no full number');
    assert.doesNotMatch(line, /zanzibarprize/, 'no word of the body');
    await stores.close();
  });

  it('follow the configuration of `warden serve` (WARDEN_LOG_RECIPIENTS, WARDEN_LOG_BODIES), hashes keyed with the recipient key', async () => {
    const raw: string[] = [];
    const dataDir = join(mkdtempSync(join(tmpdir(), 'warden-dl-')), 'data');
    const gw = await startGateway({
      config: { ...DEFAULT_CONFIG, dataDir, port: 0, logRecipients: 'hash', logBodies: true },
      port: 0,
      demo: true,
      logger: pino(
        { level: 'info' },
        {
          write: (s: string) => {
            raw.push(s);
          },
        },
      ),
      gateway: { defaultMetrics: false },
    });
    try {
      const body = 'URGENT! You have won a £2000 cash prize. To claim call 09061701234 now! 150ppm';
      const res = await gw.app.inject({
        method: 'POST',
        url: '/v1/screen',
        payload: { to: '+14155550142', from: DEMO.sender, body },
        headers: { authorization: 'Basic ' + Buffer.from(`${DEMO.accountSid}:${DEMO.authToken}`).toString('base64') },
      });
      assert.equal(res.statusCode, 200);
      assert.equal(res.json().action, 'block');
      await gw.app.gateway.decisions.flush();
      const line = raw.map((l) => JSON.parse(l) as { msg: string; decision?: Record<string, unknown> }).find((l) => l.msg === 'decision');
      assert.ok(line?.decision, 'the blocked decision is logged');
      assert.equal(line.decision.to, hashNumber('+14155550142', gw.stores.recipientSecret));
      assert.notEqual(line.decision.to, hashNumber('+14155550142', 'warden-default-hash-key'));
      assert.equal(line.decision.body, body);
    } finally {
      await gw.close();
    }
  });
});
