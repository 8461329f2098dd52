// The store contract against PostgreSQL + Redis, plus PostgreSQL migrations and Redis-specific
// behaviour (counters shared between nodes, the change channel crossing nodes, failing open).

import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { heldItem, runContract } from './contract.js';
import { openStores, type OpenedStores } from '../../src/store/open-stores.js';
import { StateProjection } from '../../src/state/projection.js';
import { migratePostgres } from '../../src/store/postgres/postgres-stores.js';
import { POSTGRES_MIGRATIONS } from '../../src/store/postgres/migrations.js';
import { RedisShared } from '../../src/store/redis/redis-shared.js';
import { HOW_TO, dropSchema, isolatedConfig, testServices } from './services.js';
import type { WardenConfig } from '../../src/config.js';

const services = await testServices();
const quiet = { log: () => undefined };
const schemas: string[] = [];

if (services === null) {
  describe('store contract: postgres+redis', () => {
    it('needs PostgreSQL and Redis', { skip: HOW_TO }, () => undefined);
  });
} else {
  const svc = services;
  after(async () => {
    for (const s of schemas) await dropSchema(svc, s);
  });

  const configs = new WeakMap<OpenedStores, WardenConfig>();
  const open = (tag: string) => {
    const config = isolatedConfig(svc, tag);
    schemas.push(config.databaseSchema);
    return {
      config,
      stores: openStores(config, quiet).then((s) => {
        configs.set(s, config);
        return s;
      }),
    };
  };

  runContract({
    name: 'postgres+redis',
    open: () => open('contract').stores,
    tamperAudit: async (stores, seq) => {
      const schema = /schema (\w+)/.exec(stores.location)?.[1] ?? 'public';
      const c = new pg.Client({ connectionString: svc.databaseUrl });
      await c.connect();
      await c.query(`UPDATE ${schema}.audit_log SET subject = 'edited' WHERE seq = $1`, [seq]);
      await c.end();
    },
    reopen: async (stores) => {
      const config = configs.get(stores);
      if (config === undefined) throw new Error('not opened by this backend');
      return openStores(config, quiet);
    },
  });

  describe('postgres+redis specifics', () => {
    /** A fresh schema migrated only up to `version`, with `seedSql` run in it: the database an older Warden left. */
    const olderDatabase = async (tag: string, version: number, seedSql: string): Promise<WardenConfig> => {
      const config = isolatedConfig(svc, tag);
      schemas.push(config.databaseSchema);
      const c = new pg.Client({ connectionString: svc.databaseUrl });
      await c.connect();
      try {
        await c.query(`CREATE SCHEMA ${config.databaseSchema}`);
        await c.query(`SET search_path = ${config.databaseSchema}`);
        assert.equal(await migratePostgres(c as unknown as pg.PoolClient, POSTGRES_MIGRATIONS, version), version);
        await c.query(seedSql);
      } finally {
        await c.end();
      }
      return config;
    };

    it('migrates a version-1 database forward and keeps its data', async () => {
      const config = await olderDatabase(
        'migrate',
        1,
        "INSERT INTO consent_events (seq, customer, recipient, kind, source, evidence, at) VALUES (1, 'c', '+15550000000', 'opt-out', 'keyword', 'STOP', '2025-01-01T00:00:00Z')",
      );
      const s = await openStores(config, quiet);
      assert.deepEqual(
        (await s.consent.history('c', '+15550000000')).map((e) => [e.seq, e.evidence, e.at]),
        [[1, 'STOP', '2025-01-01T00:00:00.000Z']],
      );
      const next = await s.consent.append({
        customer: 'c',
        recipient: '+15550000000',
        kind: 'opt-in',
        source: 'api',
        at: '2025-02-01T00:00:00Z',
      });
      assert.equal(next.seq, 2);
      assert.ok(s.recipientSecret.length >= 32);
      await s.close();
    });

    it('migrates a version-2 database (before the review queue) forward: old data kept, items can be held', async () => {
      const config = await olderDatabase(
        'migrate2',
        2,
        "INSERT INTO consent_events (seq, customer, recipient, kind, source, at) VALUES (1, 'c', '+15550000000', 'opt-out', 'api', '2025-01-01T00:00:00Z')",
      );
      const s = await openStores(config, quiet);
      assert.equal((await s.consent.history('c', '+15550000000')).length, 1);
      const h = heldItem('c');
      await s.review.hold(h);
      assert.deepEqual(await s.review.get(h.sid, 'c'), { ...h, state: 'held' });
      await s.close();
    });

    it("two nodes: appends from both get one gapless order; a change on A reaches B's projection within 1 s", async () => {
      const config = isolatedConfig(svc, 'twonode');
      schemas.push(config.databaseSchema);
      const a: OpenedStores = await openStores(config, quiet);
      const b: OpenedStores = await openStores(config, quiet);
      try {
        const pb = new StateProjection(b, { pollIntervalMs: 0 });
        await pb.ready;
        const acks = await Promise.all(
          Array.from({ length: 200 }, (_, i) =>
            (i % 2 === 0 ? a : b).consent.append({
              customer: 'n',
              recipient: `+1555100${String(i).padStart(4, '0')}`,
              kind: 'opt-out',
              source: 'api',
              at: new Date().toISOString(),
            }),
          ),
        );
        assert.deepEqual(
          acks.map((e) => e.seq).sort((x, y) => x - y),
          Array.from({ length: 200 }, (_, i) => i + 1),
        );
        const t0 = Date.now();
        await a.enforcement.append({ customer: 'n', action: 'suspend', reason: 'test', actor: 'ops', at: new Date().toISOString() });
        await a.consent.append({
          customer: 'n',
          recipient: '+15559999999',
          kind: 'opt-out',
          source: 'keyword',
          at: new Date().toISOString(),
        });
        while (
          Date.now() - t0 < 1000 &&
          (pb.snapshot().suspension?.('n', undefined) === null || !pb.snapshot().optedOut?.('n', '+15559999999'))
        )
          await new Promise((r) => setTimeout(r, 5));
        const took = Date.now() - t0;
        assert.notEqual(pb.snapshot().suspension?.('n', undefined), null, 'suspension reached node B');
        assert.equal(pb.snapshot().optedOut?.('n', '+15559999999'), true, 'opt-out reached node B');
        assert.ok(took < 1000, `took ${took} ms`);
        await pb.close();
      } finally {
        await a.close();
        await b.close();
      }
    });

    it('a limit is shared by nodes, not multiplied by them', async () => {
      const config = isolatedConfig(svc, 'shared');
      schemas.push(config.databaseSchema);
      const a = await RedisShared.open(svc.redisUrl, { prefix: config.redisPrefix });
      const b = await RedisShared.open(svc.redisUrl, { prefix: config.redisPrefix });
      try {
        const now = Date.now();
        const rs = await Promise.all(
          Array.from({ length: 400 }, (_, i) => (i % 2 === 0 ? a : b).counters.take('sender:x', 150, 60_000, now)),
        );
        assert.equal(rs.filter((r) => r.allowed).length, 150);
        assert.ok(rs.every((r) => r.failedOpen !== true));
        const counts: number[] = [];
        for (let i = 0; i < 500; i++) counts.push(await (i % 2 === 0 ? a : b).sketches.addDistinct('recips', `+1555${i}`, 60_000));
        const last = counts[counts.length - 1];
        assert.ok(Math.abs(last - 500) <= 10, `HyperLogLog distinct count ${last} ~ 500`);
      } finally {
        await a.close();
        await b.close();
      }
    });

    it('without Redis notifications, another node still catches up by polling', async () => {
      const config = isolatedConfig(svc, 'nopubsub');
      schemas.push(config.databaseSchema);
      const a = await openStores({ ...config, redisUrl: 'redis://127.0.0.1:1' }, quiet);
      const b = await openStores(config, quiet);
      try {
        const pb = new StateProjection(b, { pollIntervalMs: 100 });
        await pb.ready;
        const ev = await a.consent.append({
          customer: 'q',
          recipient: '+15550009999',
          kind: 'opt-out',
          source: 'api',
          at: new Date().toISOString(),
        });
        assert.ok(ev.seq > 0, 'the write is durable and acknowledged although Redis is down');
        const t0 = Date.now();
        while (!pb.snapshot().optedOut?.('q', '+15550009999') && Date.now() - t0 < 2000) await new Promise((r) => setTimeout(r, 10));
        assert.equal(pb.snapshot().optedOut?.('q', '+15550009999'), true);
        assert.ok(Date.now() - t0 < 1000, 'within one poll');
        await pb.close();
      } finally {
        await a.close();
        await b.close();
      }
    });

    it('counters fail open (and say so) when Redis is unreachable', async () => {
      const lines: string[] = [];
      const dead = await RedisShared.open('redis://127.0.0.1:1', { log: (m) => lines.push(m), commandTimeoutMs: 200 });
      try {
        const r = await dead.counters.take('k', 1, 1000, Date.now());
        assert.deepEqual([r.allowed, r.failedOpen], [true, true]);
        const many = await dead.counters.takeMany([{ key: 'a', limit: 1, windowMs: 1000 }], Date.now());
        assert.equal(many[0].failedOpen, true);
        assert.ok(lines.some((l) => /unreachable|failed open/.test(l)));
      } finally {
        await dead.close();
      }
    });
  });
}
