// One contract for every storage backend: each backend's test file calls runContract with a
// factory that opens a fresh, empty instance of it. Real databases, no mocks.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { OpenedStores } from '../../src/store/open-stores.js';
import type { ChangeTopic, CustomerRecord, DecisionRecord, HeldItemInput, MappedMessageInput } from '../../src/store/types.js';
import { StateProjection } from '../../src/state/projection.js';
import { hashRecipient, storedRecipient } from '../../src/store/recipient-key.js';
import { runRetention } from '../../src/store/retention.js';

export interface Backend {
  name: string;
  /** Opens a fresh, empty store (a new database, schema or key prefix). */
  open(): Promise<OpenedStores>;
  /** Edits one audit row behind the store's back, to check that verify() notices. */
  tamperAudit(stores: OpenedStores, seq: number): Promise<void>;
  /** Opens another instance on the same data: a restart (after close) or a second node (while open). */
  reopen(stores: OpenedStores): Promise<OpenedStores>;
}

const T0 = '2026-01-01T00:00:00.000Z';
const iso = (ms: number) => new Date(Date.parse(T0) + ms).toISOString();

function customer(id: string, extra: Partial<CustomerRecord> = {}): CustomerRecord {
  return {
    id,
    name: `Customer ${id}`,
    accountSid: `AC${id.padEnd(32, '0')}`,
    upstream: { baseUrl: 'sink:' },
    senders: ['+15550000001'],
    settings: {},
    createdAt: T0,
    ...extra,
  };
}

function decision(id: string, cust: string, at: string, body: string | null = 'hello there'): DecisionRecord {
  return {
    id,
    customer: cust,
    messageId: `m-${id}`,
    channel: 'sms',
    action: 'allow',
    score: 0.25,
    policyVersion: 'p1',
    reasons: [{ clause: 'x', rule: 'y', weight: 1, detail: 'd' }],
    to: '+15551230000',
    from: '+15550000001',
    body,
    at,
  };
}

let heldN = 0;
/** A held item as the Twilio route records it, with a repeated MediaUrl. */
export function heldItem(cust: string, extra: Partial<HeldItemInput> = {}): HeldItemInput {
  const sid = `MM${(++heldN).toString(16).padStart(8, '0')}${Math.random().toString(16).slice(2, 10).padEnd(8, '0')}${'0'.repeat(16)}`;
  const fields = {
    To: '+15551239999',
    From: '+15550000001',
    Body: 'I will find you',
    MediaUrl: ['https://x.example/a.jpg', 'https://x.example/b.jpg'],
    StatusCallback: 'https://app.example/status',
  };
  return {
    sid,
    kind: 'message',
    customer: cust,
    accountSid: `AC${cust.padEnd(32, '0')}`,
    fields,
    raw: 'To=%2B15551239999&From=%2B15550000001&Body=I+will+find+you&MediaUrl=https%3A%2F%2Fx.example%2Fa.jpg&MediaUrl=https%3A%2F%2Fx.example%2Fb.jpg&StatusCallback=https%3A%2F%2Fapp.example%2Fstatus',
    decision: {
      id: `d-${sid}`,
      messageId: sid,
      action: 'review',
      score: 0.7,
      policyVersion: 'p1',
      reasons: [{ clause: 'content.violence', rule: 'r', weight: 0.7, detail: 'threat', action: 'review' }],
    },
    statusCallback: 'https://app.example/status',
    heldAt: T0,
    ...extra,
  };
}

export function runContract(backend: Backend): void {
  describe(`review queue: ${backend.name}`, () => {
    let s: OpenedStores;
    before(async () => {
      s = await backend.open();
    });
    after(async () => {
      await s.close();
    });

    it('hold, get and list: everything round-trips; a customer sees only its own items', async () => {
      const a = heldItem('rq-a', { endUser: 'u1' });
      const b = heldItem('rq-a', {
        kind: 'call',
        heldAt: iso(1000),
        fields: { To: '+15551230001', From: '+15550000001', Twiml: '<Response><Say>hi</Say></Response>' },
        raw: 'To=x',
      });
      delete b.statusCallback;
      const other = heldItem('rq-b', { heldAt: iso(500) });
      const ack = await s.review.hold(a);
      assert.deepEqual(ack, { ...a, state: 'held' });
      await s.review.hold(b);
      await s.review.hold(other);
      assert.deepEqual(await s.review.get(a.sid), { ...a, state: 'held' });
      assert.deepEqual(
        (await s.review.get(a.sid))?.fields.MediaUrl,
        ['https://x.example/a.jpg', 'https://x.example/b.jpg'],
        'a repeated MediaUrl stays a list',
      );
      assert.equal((await s.review.get(b.sid))?.statusCallback, undefined);
      assert.equal(await s.review.get(a.sid, 'rq-b'), null, 'another customer does not see it');
      assert.equal((await s.review.get(a.sid, 'rq-a'))?.sid, a.sid);
      assert.equal(await s.review.get('MMnope'), null);
      assert.deepEqual(
        (await s.review.list({ customer: 'rq-a' })).map((h) => h.sid),
        [a.sid, b.sid],
      );
      assert.deepEqual(
        (await s.review.list({ customer: 'rq-b' })).map((h) => h.sid),
        [other.sid],
      );
      const everyone = (await s.review.list()).map((h) => h.sid);
      assert.deepEqual(
        everyone.filter((x) => [a.sid, b.sid, other.sid].includes(x)),
        [a.sid, other.sid, b.sid],
        'oldest first',
      );
      assert.equal((await s.review.list({ customer: 'rq-a', limit: 1 })).length, 1);
      await assert.rejects(s.review.hold(a), 'a SID is held once');
    });

    it('claim: of 25 concurrent claims exactly one wins; release is recorded and audited', async () => {
      const h = heldItem('rq-c');
      await s.review.hold(h);
      const claims = await Promise.all(Array.from({ length: 25 }, (_, i) => s.review.claim(h.sid, `admin${i}`, iso(2000))));
      const won = claims.filter((c) => c !== null);
      assert.equal(won.length, 1);
      assert.equal(won[0]?.state, 'releasing');
      assert.equal(won[0]?.claimedAt, iso(2000));
      assert.equal(await s.review.refuse(h.sid, 'late', iso(2001), 30007), null, 'a claimed item cannot be refused');
      assert.deepEqual(
        (await s.review.list({ customer: 'rq-c' })).map((x) => x.state),
        ['releasing'],
        'listed as releasing until settled',
      );
      const done = await s.review.released(h.sid, {
        by: won[0]?.claimedBy ?? '',
        at: iso(3000),
        upstreamStatus: 201,
        upstreamSid: 'SMupstream',
      });
      assert.deepEqual(
        [done.state, done.settledAt, done.upstreamStatus, done.upstreamSid, done.errorCode],
        ['released', iso(3000), 201, 'SMupstream', undefined],
      );
      await assert.rejects(s.review.released(h.sid, { by: 'x', at: iso(3001), upstreamStatus: 201 }), 'released once');
      assert.equal(await s.review.claim(h.sid, 'again', iso(4000)), null);
      assert.deepEqual(await s.review.list({ customer: 'rq-c' }), [], 'settled items leave the default list');
      assert.equal((await s.review.list({ customer: 'rq-c', states: ['released'] }))[0]?.sid, h.sid);
      const audit = (await s.audit.list(0, 10_000)).find((e) => e.subject === `held:${h.sid}`);
      assert.equal(audit?.action, 'review.release');
      assert.equal(audit?.actor, won[0]?.claimedBy);
      assert.deepEqual(audit?.detail, {
        customer: 'rq-c',
        kind: 'message',
        decision: h.decision.id,
        upstreamStatus: 201,
        upstreamSid: 'SMupstream',
      });
    });

    it('refuse races release: one wins; unclaim puts a claimed item back to held', async () => {
      const h = heldItem('rq-d');
      await s.review.hold(h);
      const [claim, refusal] = await Promise.all([s.review.claim(h.sid, 'a', iso(1)), s.review.refuse(h.sid, 'b', iso(1), 30007)]);
      assert.equal((claim === null) !== (refusal === null), true, 'exactly one of claim and refuse wins');
      const g = heldItem('rq-d');
      await s.review.hold(g);
      assert.notEqual(await s.review.claim(g.sid, 'a', iso(1)), null);
      await s.review.unclaim(g.sid);
      const back = await s.review.get(g.sid);
      assert.deepEqual([back?.state, back?.claimedAt, back?.claimedBy], ['held', undefined, undefined]);
      const refused = await s.review.refuse(g.sid, 'ops@x', iso(5), 30007);
      assert.deepEqual([refused?.state, refused?.settledBy, refused?.settledAt, refused?.errorCode], ['refused', 'ops@x', iso(5), 30007]);
      assert.equal((await s.audit.list(0, 10_000)).find((e) => e.subject === `held:${g.sid}`)?.action, 'review.refuse');
      assert.equal(await s.audit.verify(), null, 'settlements extend the audit chain');
    });

    it('retention deletes settled items only; erasure and export include held items', async () => {
      const settled = heldItem('rq-e');
      const pending = heldItem('rq-e');
      await s.review.hold(settled);
      await s.review.hold(pending);
      await s.review.refuse(settled.sid, 'ops', iso(10), 30007);
      assert.equal(await s.review.purgeSettled('rq-e', iso(5)), 0);
      assert.equal(await s.review.purgeSettled('rq-e', iso(86_400_000)), 1);
      assert.equal(await s.review.get(settled.sid), null);
      assert.notEqual(await s.review.get(pending.sid), null, 'an item still held is never purged');
      const n = '+15554443333';
      await s.review.hold(heldItem('rq-f', { fields: { To: n, From: '+15550000001', Body: 'x' } }));
      assert.equal((await s.data.export({ recipient: n })).held.length, 1);
      assert.equal((await s.data.erase({ recipient: n }, 'dpo')).deleted.held, 1);
      assert.equal((await s.data.export({ customer: 'rq-e' })).held.length, 1);
      assert.equal((await s.data.erase({ customer: 'rq-e' }, 'dpo')).deleted.held, 1);
      assert.equal(await s.review.get(pending.sid), null);
    });

    it('a held item survives a restart; two instances on the same data settle it once', async () => {
      const first = await backend.open();
      const h = heldItem('rq-r');
      await first.review.hold(h);
      await first.close();
      const a = await backend.reopen(first);
      const b = await backend.reopen(first);
      try {
        assert.deepEqual(await a.review.get(h.sid), { ...h, state: 'held' }, 'still held after the restart');
        assert.deepEqual(
          (await b.review.list({ customer: 'rq-r' })).map((x) => x.sid),
          [h.sid],
        );
        const claims = await Promise.all(
          Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).review.claim(h.sid, `node${i % 2}`, iso(1))),
        );
        assert.equal(claims.filter((c) => c !== null).length, 1, 'one claim across both instances');
      } finally {
        await a.close();
        await b.close();
      }
    });

    it('a status callback is committed with the settlement, leased per attempt, rescheduled and ended', async () => {
      const post = (n: number) => ({ body: `MessageSid=x&MessageStatus=failed&n=${n}`, signature: `sig${n}`, leaseUntil: iso(10_000) });
      const refusedItem = heldItem('rq-cb');
      const releasedItem = heldItem('rq-cb');
      await s.review.hold(refusedItem);
      await s.review.hold(releasedItem);
      const refused = await s.review.refuse(refusedItem.sid, 'ops', iso(5_000), 30007, post(1));
      assert.deepEqual(
        refused?.callback,
        { state: 'pending', attempts: 1, nextAt: iso(10_000) },
        'the settling node holds its first attempt',
      );
      await s.review.claim(releasedItem.sid, 'ops', iso(5_000));
      const released = await s.review.released(releasedItem.sid, { by: 'ops', at: iso(5_000), upstreamStatus: 201, callback: post(2) });
      assert.equal(released.callback?.state, 'pending');

      assert.deepEqual(
        await s.review.takeDueCallbacks(iso(9_999), iso(40_000), 10),
        [],
        'nothing is due while the first attempts are held',
      );
      // The settling node died mid-attempt: after its lease another node takes both, once.
      const taken = await s.review.takeDueCallbacks(iso(10_000), iso(40_000), 10);
      assert.deepEqual(taken.map((c) => c.sid).sort(), [refusedItem.sid, releasedItem.sid].sort());
      const one = taken.find((c) => c.sid === refusedItem.sid);
      assert.deepEqual(one, {
        sid: refusedItem.sid,
        customer: 'rq-cb',
        url: 'https://app.example/status',
        body: post(1).body,
        signature: 'sig1',
        attempts: 2,
      });
      assert.deepEqual(
        await s.review.takeDueCallbacks(iso(20_000), iso(50_000), 10),
        [],
        'a taken callback is not taken again within its lease',
      );
      assert.equal(await s.review.purgeSettled('rq-cb', iso(86_400_000)), 0, 'retention keeps items whose callback is owed');

      await s.review.callbackAttempted(refusedItem.sid, { state: 'pending', nextAt: iso(60_000), lastError: 'HTTP 503' });
      await s.review.callbackAttempted(releasedItem.sid, { state: 'delivered' });
      assert.deepEqual((await s.review.get(refusedItem.sid))?.callback, {
        state: 'pending',
        attempts: 2,
        nextAt: iso(60_000),
        lastError: 'HTTP 503',
      });
      assert.deepEqual((await s.review.get(releasedItem.sid))?.callback, { state: 'delivered', attempts: 2 });
      assert.deepEqual(await s.review.takeDueCallbacks(iso(59_999), iso(90_000), 10), []);
      assert.deepEqual(
        (await s.review.takeDueCallbacks(iso(60_000), iso(90_000), 10)).map((c) => [c.sid, c.attempts]),
        [[refusedItem.sid, 3]],
      );
      await s.review.callbackAttempted(refusedItem.sid, { state: 'given_up', lastError: 'HTTP 429' });
      await s.review.callbackAttempted(refusedItem.sid, { state: 'pending', nextAt: iso(1) });
      assert.deepEqual(
        (await s.review.get(refusedItem.sid))?.callback,
        { state: 'given_up', attempts: 3, lastError: 'HTTP 429' },
        'an ended callback stays ended',
      );
      assert.deepEqual(await s.review.takeDueCallbacks(iso(86_400_000), iso(86_500_000), 10), []);
      assert.equal(await s.review.requeueCallback(releasedItem.sid, 'ops', iso(90_000)), null, 'a delivered callback is not sent again');
      const again = await s.review.requeueCallback(refusedItem.sid, 'ops@x', iso(90_000));
      assert.deepEqual(
        again?.callback,
        { state: 'pending', attempts: 0, nextAt: iso(90_000), lastError: 'HTTP 429' },
        'a given-up callback is due again, attempts afresh',
      );
      assert.equal(
        (await s.audit.list(0, 10_000))
          .filter((e) => e.subject === `held:${refusedItem.sid}`)
          .map((e) => `${e.action} ${e.actor}`)
          .pop(),
        'review.callback-requeue ops@x',
      );
      assert.equal(await s.review.requeueCallback(refusedItem.sid, 'ops', iso(90_000)), null, 'a pending callback is not queued twice');
      assert.deepEqual(
        (await s.review.takeDueCallbacks(iso(90_000), iso(120_000), 10)).map((c) => [c.sid, c.attempts]),
        [[refusedItem.sid, 1]],
      );
      await s.review.callbackAttempted(refusedItem.sid, { state: 'refused', lastError: 'HTTP 410' });
      assert.equal(await s.audit.verify(), null);
      assert.equal(await s.review.purgeSettled('rq-cb', iso(86_400_000)), 2, 'ended callbacks no longer keep their items');
    });

    it('two instances polling at once take disjoint callbacks', async () => {
      const a = await backend.reopen(s);
      try {
        const sids: string[] = [];
        for (let i = 0; i < 12; i++) {
          const h = heldItem('rq-cb2');
          await s.review.hold(h);
          await s.review.refuse(h.sid, 'ops', iso(1), 30007, { body: `n=${i}`, leaseUntil: iso(2) });
          sids.push(h.sid);
        }
        const polls = await Promise.all(
          Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? a : s).review.takeDueCallbacks(iso(3), iso(100_000), 4)),
        );
        const taken = polls.flat().map((c) => c.sid);
        assert.equal(taken.length, 12, 'every due callback is taken');
        assert.equal(new Set(taken).size, 12, 'and none twice');
        assert.deepEqual([...taken].sort(), [...sids].sort());
      } finally {
        await a.close();
      }
    });
  });

  describe(`message map and scheduler: ${backend.name}`, () => {
    let s: OpenedStores;
    before(async () => {
      s = await backend.open();
    });
    after(async () => {
      await s.close();
    });
    const mapped = (sid: string, extra: Partial<MappedMessageInput> = {}): MappedMessageInput => ({
      sid,
      customer: 'mm-a',
      accountSid: 'ACmma',
      kind: 'message',
      origin: 'held',
      createdAt: iso(0),
      status: 'accepted',
      fields: { To: '+15551230000', Body: 'hi', MediaUrl: ['https://x.example/a.jpg'] },
      statusCallback: 'https://app.example/s',
      ...extra,
    });

    it('put and get round-trip; another customer sees nothing; a SID is recorded once', async () => {
      const m = mapped('SMmap1', { sendAt: iso(3_600_000), origin: 'scheduled', status: 'scheduled' });
      const put = await s.messages.put(m);
      assert.deepEqual(put, { ...m, updatedAt: iso(0) });
      assert.deepEqual(await s.messages.get('SMmap1'), put);
      assert.deepEqual((await s.messages.get('SMmap1', 'mm-a'))?.fields.MediaUrl, ['https://x.example/a.jpg']);
      assert.equal(await s.messages.get('SMmap1', 'mm-b'), null);
      assert.equal(await s.messages.get('SMnone'), null);
      await assert.rejects(s.messages.put(m));
    });

    it('transition is a compare-and-set: of concurrent sends and cancels exactly one wins', async () => {
      await s.messages.put(mapped('SMmap2', { origin: 'scheduled', status: 'scheduled' }));
      const racers = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          s.messages.transition('SMmap2', ['scheduled'], { status: i % 2 ? 'canceled' : 'sending', at: iso(10) }),
        ),
      );
      const won = racers.filter((r) => r !== null);
      assert.equal(won.length, 1);
      const after1 = await s.messages.transition('SMmap2', null, { status: 'queued', upstreamSid: 'SMupstream2', at: iso(20) });
      assert.equal(after1?.upstreamSid, 'SMupstream2');
      assert.equal(after1?.updatedAt, iso(20));
      assert.equal(after1?.createdAt, iso(0), 'created stays fixed');
      const failed = await s.messages.transition('SMmap2', null, { status: 'failed', errorCode: 30007, at: iso(30) });
      assert.equal(failed?.upstreamSid, 'SMupstream2', 'an absent upstream SID keeps the one recorded');
      assert.equal(failed?.errorCode, 30007);
      assert.equal(await s.messages.transition('SMnope', null, { status: 'x', at: iso(1) }), null);
    });

    it('byUpstream finds mapped messages of one customer; owned lists what Warden answers for, newest first', async () => {
      await s.messages.put(mapped('SMown1', { customer: 'mm-c', createdAt: iso(100) }));
      await s.messages.put(
        mapped('SMown2', { customer: 'mm-c', createdAt: iso(200), origin: 'refused', status: 'failed', errorCode: 30007 }),
      );
      await s.messages.put(mapped('SMfwd1', { customer: 'mm-c', origin: 'forwarded', status: 'sent', upstreamSid: 'SMfwd1', fields: {} }));
      await s.messages.put(mapped('SMrel1', { customer: 'mm-c', createdAt: iso(300) }));
      await s.messages.put(mapped('SMother', { customer: 'mm-c', accountSid: 'ACsub', createdAt: iso(400) }));
      await s.messages.transition('SMrel1', null, { status: 'queued', upstreamSid: 'SMupRel1', at: iso(301) });
      assert.deepEqual(
        (await s.messages.owned('mm-c', 'ACmma', 10)).map((m) => m.sid),
        ['SMown2', 'SMown1'],
      );
      assert.deepEqual(
        (await s.messages.owned('mm-c', 'ACmma', 1)).map((m) => m.sid),
        ['SMown2'],
      );
      assert.deepEqual((await s.messages.byUpstream('mm-c', ['SMupRel1', 'SMfwd1', 'SMnone'])).map((m) => m.sid).sort(), [
        'SMfwd1',
        'SMrel1',
      ]);
      assert.deepEqual(await s.messages.byUpstream('mm-a', ['SMupRel1']), [], 'another customer sees none');
      assert.deepEqual(await s.messages.byUpstream('mm-c', []), []);
    });

    it('scheduler: due jobs are taken once, leased, completed; a pending job can be canceled; a lapsed lease is taken again', async () => {
      await s.scheduler.schedule({ id: 'job-late', topic: 't', customer: 'mm-a', dueAt: iso(5000), payload: '{"a":1}' });
      await s.scheduler.schedule({ id: 'job-due', topic: 't', customer: 'mm-a', dueAt: iso(1000), payload: '{"b":2}' });
      await s.scheduler.schedule({ id: 'job-cancel', topic: 't', customer: 'mm-a', dueAt: iso(1000), payload: '{}' });
      assert.equal(await s.scheduler.cancel('job-cancel'), true);
      assert.equal(await s.scheduler.cancel('job-cancel'), false, 'canceled once');
      assert.deepEqual(await s.scheduler.takeDue(iso(999), iso(2000), 10), [], 'nothing due yet');
      const takes = await Promise.all(Array.from({ length: 6 }, () => s.scheduler.takeDue(iso(1500), iso(2500), 10)));
      const taken = takes.flat();
      assert.deepEqual(
        taken.map((j) => j.id),
        ['job-due'],
        'one node takes it',
      );
      assert.deepEqual(
        { ...taken[0] },
        {
          id: 'job-due',
          topic: 't',
          customer: 'mm-a',
          dueAt: iso(1000),
          payload: '{"b":2}',
          state: 'running',
          attempts: 1,
          leaseUntil: iso(2500),
        },
      );
      assert.equal(await s.scheduler.cancel('job-due'), false, 'a running job is not canceled');
      assert.deepEqual(await s.scheduler.takeDue(iso(2400), iso(3000), 10), [], 'leased');
      const again = await s.scheduler.takeDue(iso(2600), iso(9000), 10);
      assert.deepEqual(
        again.map((j) => [j.id, j.attempts]),
        [['job-due', 2]],
        'its node died: taken again',
      );
      await s.scheduler.complete('job-due');
      assert.equal((await s.scheduler.get('job-due'))?.state, 'done');
      assert.deepEqual(
        (await s.scheduler.takeDue(iso(99_999), iso(100_000), 10)).map((j) => j.id),
        ['job-late'],
      );
      assert.equal((await s.scheduler.get('job-cancel'))?.state, 'canceled');
      assert.equal(await s.scheduler.get('job-none'), null);
    });

    it("erasure removes a recipient's mapped messages and their jobs, and a customer's", async () => {
      await s.messages.put(
        mapped('SMerase1', { customer: 'mm-e', fields: { To: '+15557770001', Body: 'x' }, origin: 'scheduled', status: 'scheduled' }),
      );
      await s.scheduler.schedule({ id: 'SMerase1', topic: 't', customer: 'mm-e', dueAt: iso(0), payload: '{}' });
      await s.messages.put(mapped('SMerase2', { customer: 'mm-e', fields: { To: '+15557770002', Body: 'y' } }));
      const r = await s.data.erase({ recipient: '+15557770001' }, 'dpo');
      assert.deepEqual([r.deleted.messages, r.deleted.scheduled], [1, 1]);
      assert.equal(await s.messages.get('SMerase1'), null);
      assert.equal(await s.scheduler.get('SMerase1'), null);
      assert.equal((await s.data.erase({ customer: 'mm-e' }, 'dpo')).deleted.messages, 1);
      assert.equal(await s.messages.get('SMerase2'), null);
    });

    it('survives a restart', async () => {
      await s.scheduler.schedule({ id: 'job-restart', topic: 't', customer: 'mm-a', dueAt: iso(0), payload: '{}' });
      await s.messages.put(mapped('SMrestart'));
      const other = await backend.reopen(s);
      try {
        assert.equal((await other.scheduler.get('job-restart'))?.state, 'pending');
        assert.equal((await other.messages.get('SMrestart'))?.status, 'accepted');
      } finally {
        await other.close();
      }
    });
  });

  describe(`store contract: ${backend.name}`, () => {
    let s: OpenedStores;
    before(async () => {
      s = await backend.open();
    });
    after(async () => {
      await s.close();
    });

    it('consent: appends get increasing seqs; since and history return them in order', async () => {
      const a = await s.consent.append({
        customer: 'c1',
        recipient: '+15551110001',
        kind: 'opt-out',
        source: 'keyword',
        evidence: 'STOP',
        at: '2026-01-01T00:00:00Z',
      });
      const b = await s.consent.append({ customer: 'c1', recipient: '+15551110001', kind: 'opt-in', source: 'api', at: iso(1000) });
      const c = await s.consent.append({ customer: 'c2', recipient: '+15551110001', kind: 'opt-out', source: 'api', at: iso(2000) });
      assert.ok(a.seq > 0 && b.seq > a.seq && c.seq > b.seq);
      assert.equal(a.at, T0, 'instants are stored as normalised ISO-8601 UTC');
      const hist = await s.consent.history('c1', '+15551110001');
      assert.deepEqual(
        hist.map((e) => [e.seq, e.kind, e.evidence]),
        [
          [a.seq, 'opt-out', 'STOP'],
          [b.seq, 'opt-in', undefined],
        ],
      );
      assert.equal('evidence' in hist[1], false, 'absent optional fields stay absent');
      const since = await s.consent.since(a.seq);
      assert.deepEqual(
        since.map((e) => e.seq),
        [b.seq, c.seq],
      );
      assert.deepEqual(
        (await s.consent.since(0, 2)).map((e) => e.seq),
        [a.seq, b.seq],
      );
    });

    it('consent: 300 concurrent appends are all acknowledged with distinct seqs, all readable', async () => {
      const start = (await s.consent.since(0)).length;
      const acks = await Promise.all(
        Array.from({ length: 300 }, (_, i) =>
          s.consent.append({
            customer: 'bulk',
            recipient: `+1555200${String(i).padStart(4, '0')}`,
            kind: 'opt-out',
            source: 'api',
            at: iso(i),
          }),
        ),
      );
      assert.equal(new Set(acks.map((e) => e.seq)).size, 300);
      const all = await s.consent.since(0);
      assert.equal(all.length, start + 300);
      for (let i = 1; i < all.length; i++) assert.ok(all[i].seq > all[i - 1].seq);
      for (const ack of acks) {
        const [h] = await s.consent.history('bulk', ack.recipient);
        assert.equal(h.seq, ack.seq);
      }
    });

    it('enforcement: append, since, history with and without end user', async () => {
      const a = await s.enforcement.append({
        customer: 'e1',
        action: 'suspend',
        clause: 'fraud.phishing',
        reason: 'phishing campaign',
        actor: 'ops@x',
        at: T0,
      });
      const b = await s.enforcement.append({
        customer: 'e1',
        endUser: 'u9',
        action: 'warn',
        reason: 'spam report',
        actor: 'ops@x',
        at: iso(5),
      });
      const h = await s.enforcement.history('e1');
      assert.deepEqual(h, [{ ...a }, { ...b }]);
      assert.equal(h[0].endUser, undefined);
      assert.equal(h[1].clause, undefined);
      assert.deepEqual(
        (await s.enforcement.since(a.seq)).map((e) => e.seq),
        [b.seq],
      );
    });

    it('audit: entries chain, verify passes, and a tampered row is found', async () => {
      const entries = await Promise.all(
        [1, 2, 3, 4, 5].map((i) =>
          s.audit.append({
            actor: 'admin',
            action: 'policy.publish',
            subject: `p${i}`,
            detail: { n: i, nested: { b: 1, a: [1, 2] } },
            at: iso(i),
          }),
        ),
      );
      const list = await s.audit.list(0, 100);
      assert.ok(list.length >= 5);
      for (let i = 1; i < list.length; i++) assert.equal(list[i].prevHash, list[i - 1].hash);
      assert.deepEqual(list.find((e) => e.seq === entries[2].seq)?.detail, { n: 3, nested: { b: 1, a: [1, 2] } });
      assert.equal(await s.audit.verify(), null);
      await backend.tamperAudit(s, entries[2].seq);
      assert.equal(await s.audit.verify(), entries[2].seq);
    });

    it('policies: publish and list; a version cannot be published twice', async () => {
      await s.policies.publish({
        policyVersion: 'v1',
        files: { 'pack.yaml': 'a: 1' },
        effectiveAt: iso(10),
        publishedAt: T0,
        publishedBy: 'lead',
      });
      await s.policies.publish({
        policyVersion: 'v2',
        files: { 'pack.yaml': 'a: 2', 'rules/x.yaml': 'r' },
        effectiveAt: iso(20),
        publishedAt: iso(1),
        publishedBy: 'lead',
      });
      await assert.rejects(
        s.policies.publish({ policyVersion: 'v1', files: {}, effectiveAt: iso(30), publishedAt: iso(2), publishedBy: 'x' }),
      );
      const list = await s.policies.list();
      assert.deepEqual(
        list.map((p) => p.policyVersion),
        ['v1', 'v2'],
      );
      assert.deepEqual(list[1].files, { 'pack.yaml': 'a: 2', 'rules/x.yaml': 'r' });
    });

    it('reports: by report and by customer', async () => {
      await s.reports.append({
        reportId: 'r1',
        customer: 'c1',
        kind: 'received',
        detail: { from: '+15559990000', text: 'spam' },
        actor: 'carrier',
        at: T0,
      });
      await s.reports.append({ reportId: 'r2', customer: 'c1', kind: 'received', detail: {}, actor: 'carrier', at: iso(1) });
      await s.reports.append({ reportId: 'r1', customer: 'c1', kind: 'linked-to-case', detail: { case: 'k1' }, actor: 'ops', at: iso(2) });
      assert.deepEqual(
        (await s.reports.byReport('r1')).map((r) => r.kind),
        ['received', 'linked-to-case'],
      );
      assert.equal((await s.reports.byCustomer('c1')).length, 3);
      assert.deepEqual((await s.reports.byReport('r1'))[0].detail, { from: '+15559990000', text: 'spam' });
    });

    it('tenancy: customers and credentials', async () => {
      await s.tenancy.upsertCustomer(customer('t1'));
      await s.tenancy.upsertCustomer(customer('t1', { name: 'Renamed', settings: { hashRecipients: true } }));
      await s.tenancy.upsertCustomer(customer('t2'));
      assert.equal((await s.tenancy.getCustomer('t1'))?.name, 'Renamed');
      assert.equal((await s.tenancy.customerByAccountSid(customer('t2').accountSid))?.id, 't2');
      assert.equal(await s.tenancy.getCustomer('nope'), null);
      assert.deepEqual(
        (await s.tenancy.listCustomers()).map((c) => c.id),
        ['t1', 't2'],
      );
      await s.tenancy.addCredential({ id: 'SK1', customer: 't1', secretHash: 'scrypt$x', createdAt: T0 });
      await assert.rejects(s.tenancy.addCredential({ id: 'SK1', customer: 't1', secretHash: 'scrypt$y', createdAt: T0 }));
      await s.tenancy.revokeCredential('SK1', iso(9));
      assert.equal((await s.tenancy.getCredential('SK1'))?.revokedAt, iso(9));
    });

    it('a failing write in a group commit fails alone', async () => {
      const results = await Promise.allSettled([
        s.tenancy.addCredential({ id: 'SKdup', customer: 't1', secretHash: 'scrypt$a', createdAt: T0 }),
        s.tenancy.addCredential({ id: 'SKdup', customer: 't1', secretHash: 'scrypt$b', createdAt: T0 }),
        s.consent.append({ customer: 'gc', recipient: '+15550101010', kind: 'opt-out', source: 'api', at: T0 }),
        s.decisions.record(decision('gc1', 'gc', T0)),
        s.decisions.record(decision('gc1', 'gc', T0)),
        s.decisions.record(decision('gc2', 'gc', T0)),
      ]);
      assert.deepEqual(
        results.map((r) => r.status),
        ['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled'],
      );
      assert.equal((await s.consent.history('gc', '+15550101010')).length, 1);
      assert.equal((await s.decisions.list('gc', 10)).length, 2);
    });

    it('decisions: a batch commits together, a bad row fails alone, every good row is readable at once', async () => {
      const batch = Array.from({ length: 300 }, (_, i) => decision(`rm${i}`, 'rm', iso(i)));
      batch[7] = decision('rm3', 'rm', iso(7)); // duplicate key
      batch[11] = decision('rm11', 'rm', 'not a time');
      const errors = await s.decisions.recordMany(batch);
      assert.equal(errors.length, 300);
      assert.deepEqual(
        errors.flatMap((e, i) => (e === null ? [] : [i])),
        [7, 11],
      );
      assert.ok(errors[7] instanceof Error && errors[11] instanceof Error);
      assert.equal((await s.decisions.list('rm', 500)).length, 298);
      assert.equal((await s.decisions.get('rm', 'rm299'))?.messageId, 'm-rm299');
      assert.deepEqual(await s.decisions.recordMany([]), []);
    });

    it('decisions: record, get, list, and retention purges', async () => {
      const day = 86_400_000;
      await s.decisions.record(decision('d1', 'k1', iso(0)));
      await s.decisions.record(decision('d2', 'k1', iso(10 * day)));
      await s.decisions.record(decision('d3', 'k1', iso(40 * day)));
      await s.decisions.record({ ...decision('d4', 'k1', iso(41 * day)), endUser: 'u1' });
      assert.deepEqual(await s.decisions.get('k1', 'd1'), decision('d1', 'k1', iso(0)));
      assert.equal((await s.decisions.get('k1', 'd4'))?.endUser, 'u1');
      assert.deepEqual(
        (await s.decisions.list('k1', 10)).map((d) => d.id),
        ['d4', 'd3', 'd2', 'd1'],
      );
      assert.deepEqual(
        (await s.decisions.list('k1', 2, iso(40 * day))).map((d) => d.id),
        ['d2', 'd1'],
      );
      assert.equal(await s.decisions.purgeBodies('k1', iso(20 * day)), 2);
      assert.equal((await s.decisions.get('k1', 'd2'))?.body, null);
      assert.equal((await s.decisions.get('k1', 'd3'))?.body, 'hello there');
      assert.equal(await s.decisions.purgeDecisions('k1', iso(5 * day)), 1);
      assert.equal(await s.decisions.get('k1', 'd1'), null);
    });

    it("retention job applies each customer's settings", async () => {
      const day = 86_400_000;
      const now = Date.parse(T0) + 100 * day;
      await s.tenancy.upsertCustomer(customer('ret', { settings: { bodyRetentionDays: 30, decisionRetentionDays: 90 } }));
      await s.decisions.record(decision('old', 'ret', iso(1 * day)));
      await s.decisions.record(decision('mid', 'ret', iso(50 * day)));
      await s.decisions.record(decision('new', 'ret', iso(90 * day)));
      const r = await runRetention(s, now);
      assert.equal(r.find((x) => x.customer === 'ret')?.decisionsDeleted, 1);
      assert.equal(await s.decisions.get('ret', 'old'), null);
      assert.equal((await s.decisions.get('ret', 'mid'))?.body, null);
      assert.equal((await s.decisions.get('ret', 'new'))?.body, 'hello there');
    });

    it('counters: a limit of N admits exactly N, including under concurrency and takeMany', async () => {
      const now = Date.now();
      const key = `rl:${Math.random()}`;
      const results = await Promise.all(Array.from({ length: 50 }, () => s.counters.take(key, 20, 60_000, now)));
      assert.equal(results.filter((r) => r.allowed).length, 20);
      const refused = results.find((r) => !r.allowed);
      assert.ok(refused !== undefined && refused.retryAfterMs > 0 && refused.retryAfterMs <= 60_000);
      const many = await s.counters.takeMany(
        [
          { key: `${key}:a`, limit: 1, windowMs: 1000 },
          { key: `${key}:a`, limit: 1, windowMs: 1000 },
          { key: `${key}:b`, limit: 5, windowMs: 1000 },
        ],
        now,
      );
      assert.deepEqual(
        many.map((r) => r.allowed),
        [true, false, true],
      );
      assert.equal(many[2].remaining, 4);
      // Several units at once (batched reports of a locally counted limit).
      const four = await s.counters.take(`${key}:u`, 10, 60_000, now, 4);
      assert.deepEqual([four.allowed, four.remaining], [true, 6]);
      assert.equal((await s.counters.take(`${key}:u`, 10, 60_000, now, 7)).allowed, false, '4 + 7 > 10');
      const batch = await s.counters.takeMany(
        [
          { key: `${key}:v`, limit: 10, windowMs: 60_000, units: 10 },
          { key: `${key}:v`, limit: 10, windowMs: 60_000 },
        ],
        now,
      );
      assert.deepEqual(
        batch.map((r) => r.allowed),
        [true, false],
      );
    });

    it('sketches: distinct members per window', async () => {
      const key = `sk:${Math.random()}`;
      let n = 0;
      for (const m of ['a', 'b', 'a', 'c', 'b']) n = await s.sketches.addDistinct(key, m, 60_000);
      assert.equal(n, 3);
      assert.equal(await s.sketches.addDistinct(`${key}:other`, 'a', 60_000), 1);
    });

    it('change channel delivers to subscribers on this node', async () => {
      const got: Array<[ChangeTopic, number]> = [];
      s.changes.subscribe((t, n) => got.push([t, n]));
      await s.changes.publish('policy', 42);
      for (let i = 0; i < 100 && !got.some(([t, n]) => t === 'policy' && n === 42); i++) await new Promise((r) => setTimeout(r, 10));
      assert.ok(got.some(([t, n]) => t === 'policy' && n === 42));
    });

    it('projection: opt-outs and suspensions apply before the write is acknowledged', async () => {
      const p = new StateProjection(s, { pollIntervalMs: 0 });
      await p.ready;
      const snap = p.snapshot();
      assert.equal(snap.optedOut?.('c2', '+15551110001'), true, 'built from history');
      assert.equal(snap.optedOut?.('c1', '+15551110001'), false, 'opt-in after opt-out');
      await s.consent.append({ customer: 'p1', recipient: '+15553334444', kind: 'opt-out', source: 'keyword', evidence: 'STOP', at: T0 });
      assert.equal(snap.optedOut?.('p1', '+15553334444'), true);
      assert.equal(snap.optedOut?.('p1', '+15553334445'), false);
      await s.enforcement.append({ customer: 'p1', endUser: 'bad', action: 'suspend', reason: 'fraud', actor: 'ops', at: T0 });
      assert.match(snap.suspension?.('p1', 'bad')?.detail ?? '', /suspended.*fraud/);
      assert.equal(snap.suspension?.('p1', 'good'), null);
      assert.equal(snap.suspension?.('p1', undefined), null);
      await s.enforcement.append({ customer: 'p1', action: 'suspend', reason: 'all of it', actor: 'ops', at: T0 });
      assert.notEqual(snap.suspension?.('p1', 'good'), null);
      await s.enforcement.append({ customer: 'p1', action: 'reinstate', reason: 'appeal', actor: 'ops', at: T0 });
      assert.equal(snap.suspension?.('p1', 'good'), null);
      assert.notEqual(snap.suspension?.('p1', 'bad'), null, 'end-user suspension outlives a customer reinstatement');
      // A second projection (another node, or a restart) rebuilds the same state from the events.
      const q = new StateProjection(s, { pollIntervalMs: 0 });
      await q.ready;
      assert.equal(q.snapshot().optedOut?.('p1', '+15553334444'), true);
      assert.notEqual(q.snapshot().suspension?.('p1', 'bad'), null);
      await p.close();
      await q.close();
    });

    it('hashed recipients: stored as keyed hashes, still matched by number', async () => {
      const p = new StateProjection(s, { pollIntervalMs: 0 });
      await p.ready;
      const stored = storedRecipient(s.recipientSecret, true, '+15557778888');
      assert.equal(stored, hashRecipient(s.recipientSecret, '+15557778888'));
      assert.doesNotMatch(stored, /5557778888/);
      await s.consent.append({ customer: 'h1', recipient: stored, kind: 'opt-out', source: 'keyword', at: T0 });
      assert.equal(p.snapshot().optedOut?.('h1', '+15557778888'), true);
      assert.equal(p.snapshot().optedOut?.('h1', '+15557778889'), false);
      await p.close();
    });

    it('data: export and erase one recipient; the opt-out is kept as a hashed suppression', async () => {
      const n = '+15556660000';
      await s.consent.append({ customer: 'x1', recipient: n, kind: 'opt-out', source: 'keyword', evidence: 'STOP', at: T0 });
      await s.consent.append({ customer: 'x2', recipient: n, kind: 'opt-in', source: 'api', at: T0 });
      await s.decisions.record({ ...decision('dx', 'x1', T0), to: n });
      await s.reports.append({ reportId: 'rx', customer: 'x1', kind: 'received', detail: { reporter: n }, actor: 'carrier', at: T0 });
      const exp = await s.data.export({ recipient: n });
      assert.equal(exp.consent.length, 2);
      assert.equal(exp.decisions.length, 1);
      assert.equal(exp.reports.length, 1);
      const p = new StateProjection(s, { pollIntervalMs: 0 });
      await p.ready;
      const r = await s.data.erase({ recipient: n }, 'dpo');
      assert.equal(r.deleted.consent, 2);
      assert.equal(r.deleted.decisions, 1);
      assert.equal(r.suppressionsKept, 1);
      const after = await s.data.export({ recipient: n });
      assert.equal(after.decisions.length, 0);
      assert.deepEqual(
        after.consent.map((e) => [e.customer, e.kind, e.recipient]),
        [['x1', 'opt-out', hashRecipient(s.recipientSecret, n)]],
      );
      assert.doesNotMatch(JSON.stringify(await s.reports.byReport('rx')), /5556660000/);
      await p.refresh();
      assert.equal(p.snapshot().optedOut?.('x1', n), true, 'still blocked after erasure');
      assert.equal(p.snapshot().optedOut?.('x2', n), false);
      assert.equal(
        await s.audit.list(0, 1000).then((l) => l.some((e) => e.action === 'data.erase' && !JSON.stringify(e).includes('5556660000'))),
        true,
      );
      await p.close();
    });

    it('data: export and erase one customer', async () => {
      await s.tenancy.upsertCustomer(customer('gone'));
      await s.tenancy.addCredential({ id: 'SKgone', customer: 'gone', secretHash: 'scrypt$secret', createdAt: T0 });
      await s.consent.append({ customer: 'gone', recipient: '+15550001111', kind: 'opt-out', source: 'api', at: T0 });
      await s.enforcement.append({ customer: 'gone', action: 'warn', reason: 'r', actor: 'ops', at: T0 });
      await s.decisions.record(decision('dg', 'gone', T0));
      const exp = await s.data.export({ customer: 'gone' });
      assert.equal(exp.customer?.id, 'gone');
      assert.equal(exp.credentials.length, 1);
      assert.equal(JSON.stringify(exp).includes('scrypt$secret'), false, 'no secret hashes in exports');
      assert.equal(exp.consent.length + exp.enforcement.length + exp.decisions.length, 3);
      const r = await s.data.erase({ customer: 'gone' }, 'dpo');
      assert.equal(r.deleted.customer, 1);
      const after = await s.data.export({ customer: 'gone' });
      assert.equal(after.customer, null);
      assert.equal(after.credentials.length + after.consent.length + after.enforcement.length + after.decisions.length, 0);
      assert.equal((await s.audit.verify()) !== null, true, 'chain was tampered earlier in this suite and stays broken');
    });
  });

  describe(`webhook events, consent order and sealed secrets: ${backend.name}`, () => {
    let s: OpenedStores;
    before(async () => {
      s = await backend.open();
    });
    after(async () => {
      await s.close();
    });

    it('webhook events: a claim succeeds once per customer and id, even under concurrency and from a second node', async () => {
      assert.equal(await s.webhookEvents.claim('w1', 'inbound:SM1', T0), true);
      assert.equal(await s.webhookEvents.claim('w1', 'inbound:SM1', iso(5)), false, 'a replay is not new');
      assert.equal(await s.webhookEvents.claim('w2', 'inbound:SM1', T0), true, "another tenant's ids are its own");
      const racing = await Promise.all(Array.from({ length: 25 }, () => s.webhookEvents.claim('w1', 'status:SM2:delivered', T0)));
      assert.equal(racing.filter(Boolean).length, 1, 'of 25 concurrent claims exactly one wins');
      const other = await backend.reopen(s);
      try {
        assert.equal(
          await other.webhookEvents.claim('w1', 'inbound:SM1', iso(9)),
          false,
          'durable and shared: another node sees the claim',
        );
        assert.equal(await other.webhookEvents.claim('w1', 'inbound:SM3', iso(9)), true);
      } finally {
        await other.close();
      }
      assert.equal(await s.webhookEvents.claim('w1', 'inbound:SM3', iso(10)), false);
    });

    it('webhook events: a released claim can be taken again; retention purges old ids only; erasing a customer removes its ids', async () => {
      assert.equal(await s.webhookEvents.claim('w3', 'inbound:SMr', T0), true);
      await s.webhookEvents.release('w3', 'inbound:SMr');
      assert.equal(await s.webhookEvents.claim('w3', 'inbound:SMr', T0), true, "processing failed: the provider's retry is processed");
      assert.equal(await s.webhookEvents.claim('w3', 'inbound:SMnew', iso(40 * 86_400_000)), true);
      const purged = await s.webhookEvents.purge(iso(30 * 86_400_000));
      assert.ok(purged >= 1);
      assert.equal(await s.webhookEvents.claim('w3', 'inbound:SMr', iso(41 * 86_400_000)), true, 'a purged id is new again');
      assert.equal(await s.webhookEvents.claim('w3', 'inbound:SMnew', iso(41 * 86_400_000)), false, 'a recent id is kept');
      await s.tenancy.upsertCustomer(customer('w3'));
      const r = await s.data.erase({ customer: 'w3' }, 'dpo');
      assert.equal(r.deleted.webhookEvents, 2);
      assert.equal(await s.webhookEvents.claim('w3', 'inbound:SMnew', iso(41 * 86_400_000)), true);
    });

    it('consent: an older event applied after a newer one changes nothing, live and after a rebuild', async () => {
      const p = new StateProjection(s, { pollIntervalMs: 0 });
      await p.ready;
      const n = '+15554440000';
      await s.consent.append({ customer: 'o1', recipient: n, kind: 'opt-out', source: 'keyword', evidence: 'STOP', at: iso(20_000) });
      // A START sent before the STOP, recorded after it (a delayed or replayed event).
      await s.consent.append({ customer: 'o1', recipient: n, kind: 'opt-in', source: 'keyword', evidence: 'START', at: iso(10_000) });
      assert.equal(p.snapshot().optedOut?.('o1', n), true, 'the newer STOP stands');
      const q = new StateProjection(s, { pollIntervalMs: 0 });
      await q.ready;
      assert.equal(q.snapshot().optedOut?.('o1', n), true, 'a rebuild orders by instant too');
      await s.consent.append({ customer: 'o1', recipient: n, kind: 'opt-in', source: 'keyword', evidence: 'START', at: iso(30_000) });
      assert.equal(p.snapshot().optedOut?.('o1', n), false, 'a newer START opts back in');
      // Two events in one second: the later appended wins.
      await s.consent.append({ customer: 'o1', recipient: n, kind: 'opt-out', source: 'keyword', at: iso(30_400) });
      assert.equal(p.snapshot().optedOut?.('o1', n), true);
      // Erasure keeps a suppression when the latest event by instant is an opt-out, whatever the seq order.
      const m = '+15554440001';
      await s.consent.append({ customer: 'o2', recipient: m, kind: 'opt-out', source: 'keyword', at: iso(20_000) });
      await s.consent.append({ customer: 'o2', recipient: m, kind: 'opt-in', source: 'keyword', at: iso(10_000) });
      assert.equal((await s.data.erase({ recipient: m }, 'dpo')).suppressionsKept, 1);
      await p.close();
      await q.close();
    });

    it('sealed secrets: another node opens what one sealed (the generated key is kept in the store); credentials keep them; exports never show them', async () => {
      const sealed = s.secrets.seal('app-auth-token-1234', 'credential:AC1');
      assert.doesNotMatch(sealed, /app-auth-token/);
      assert.notEqual(s.secrets.seal('app-auth-token-1234', 'credential:AC1'), sealed, 'a fresh nonce each time');
      assert.equal(s.secrets.open(sealed, 'credential:AC1'), 'app-auth-token-1234');
      assert.throws(() => s.secrets.open(sealed, 'credential:AC2'), 'bound to its record');
      const other = await backend.reopen(s);
      try {
        assert.equal(other.secrets.open(sealed, 'credential:AC1'), 'app-auth-token-1234');
      } finally {
        await other.close();
      }
      await s.tenancy.upsertCustomer(customer('sealed'));
      await s.tenancy.addCredential({ id: 'ACsealed', customer: 'sealed', secretHash: 'scrypt$h', secretSealed: sealed, createdAt: T0 });
      assert.equal((await s.tenancy.getCredential('ACsealed'))?.secretSealed, sealed);
      const exp = await s.data.export({ customer: 'sealed' });
      assert.equal(exp.credentials.length, 1);
      assert.equal(JSON.stringify(exp).includes(sealed), false, 'no sealed secrets in exports');
    });
  });
}
