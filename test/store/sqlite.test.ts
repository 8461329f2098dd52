// The store contract against the embedded SQLite backend, plus its migrations.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { heldItem, runContract } from './contract.js';
import { openStores } from '../../src/store/open-stores.js';
import { DEFAULT_CONFIG } from '../../src/config.js';
import { migrateSqlite, openSqliteDatabase, SQLITE_FILE } from '../../src/store/sqlite/sqlite-stores.js';
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite/migrations.js';

const quiet = { log: () => undefined };
const freshDir = () => join(mkdtempSync(join(tmpdir(), 'warden-sqlite-')), 'data');

runContract({
  name: 'sqlite',
  open: () => openStores({ ...DEFAULT_CONFIG, dataDir: freshDir() }, quiet),
  tamperAudit: async (stores, seq) => {
    // A second connection, as an attacker with file access would have.
    const db = new Database(stores.location);
    db.prepare("UPDATE audit_log SET subject = 'edited' WHERE seq = ?").run(seq);
    db.close();
  },
  reopen: (stores) => openStores({ ...DEFAULT_CONFIG, dataDir: dirname(stores.location) }, quiet),
});

describe('sqlite data directory and migrations', () => {
  it('creates the data directory on first start, in WAL mode', async () => {
    const dir = freshDir();
    assert.equal(existsSync(dir), false);
    const s = await openStores({ ...DEFAULT_CONFIG, dataDir: dir }, quiet);
    assert.equal(s.kind, 'sqlite');
    await s.close();
    assert.ok(existsSync(join(dir, SQLITE_FILE)));
    const db = new Database(join(dir, SQLITE_FILE));
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    db.close();
  });

  it('migrates a version-1 database forward and keeps its data', async () => {
    const dir = freshDir();
    const old = openSqliteDatabase(dir);
    assert.equal(migrateSqlite(old, SQLITE_MIGRATIONS, 1), 1);
    old
      .prepare(
        "INSERT INTO consent_events (customer, recipient, kind, source, evidence, at) VALUES ('c', '+15550000000', 'opt-out', 'keyword', 'STOP', '2025-01-01T00:00:00.000Z')",
      )
      .run();
    old
      .prepare(
        "INSERT INTO enforcement_events (customer, action, reason, actor, at) VALUES ('c', 'suspend', 'old case', 'ops', '2025-01-01T00:00:00.000Z')",
      )
      .run();
    old.close();
    const s = await openStores({ ...DEFAULT_CONFIG, dataDir: dir }, quiet);
    assert.deepEqual(
      (await s.consent.history('c', '+15550000000')).map((e) => e.evidence),
      ['STOP'],
    );
    assert.equal((await s.enforcement.history('c'))[0].reason, 'old case');
    await s.consent.append({ customer: 'c', recipient: '+15550000000', kind: 'opt-in', source: 'api', at: '2025-02-01T00:00:00Z' });
    assert.ok(s.recipientSecret.length >= 32, 'version 2 adds the meta table holding the generated recipient key');
    await s.close();
    const db = new Database(join(dir, SQLITE_FILE));
    const versions = db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as Array<{ version: number }>;
    assert.deepEqual(
      versions.map((v) => v.version),
      SQLITE_MIGRATIONS.map((m) => m.version),
    );
    db.close();
  });

  it('migrates a version-2 database (before the review queue) forward: old data kept, items can be held', async () => {
    const dir = freshDir();
    const old = openSqliteDatabase(dir);
    assert.equal(migrateSqlite(old, SQLITE_MIGRATIONS, 2), 2);
    old.prepare("INSERT INTO meta (key, value) VALUES ('recipient-key', ?)").run('k'.repeat(40));
    old
      .prepare(
        "INSERT INTO consent_events (customer, recipient, kind, source, at) VALUES ('c', '+15550000000', 'opt-out', 'api', '2025-01-01T00:00:00.000Z')",
      )
      .run();
    old.close();
    const s = await openStores({ ...DEFAULT_CONFIG, dataDir: dir }, quiet);
    assert.equal((await s.consent.history('c', '+15550000000')).length, 1);
    assert.equal(s.recipientSecret, 'k'.repeat(40));
    const h = heldItem('c');
    await s.review.hold(h);
    assert.equal((await s.review.list({ customer: 'c' }))[0]?.sid, h.sid);
    await s.close();
  });

  it('refuses a database newer than the code (migrations are forward-only)', () => {
    const db = openSqliteDatabase(freshDir());
    migrateSqlite(db);
    db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 'x')").run();
    assert.throws(() => migrateSqlite(db), /newer than this Warden/);
    db.close();
  });

  it('keeps the generated recipient key across restarts', async () => {
    const dir = freshDir();
    const a = await openStores({ ...DEFAULT_CONFIG, dataDir: dir }, quiet);
    const key = a.recipientSecret;
    await a.close();
    const b = await openStores({ ...DEFAULT_CONFIG, dataDir: dir }, quiet);
    assert.equal(b.recipientSecret, key);
    await b.close();
    const c = await openStores({ ...DEFAULT_CONFIG, dataDir: dir, recipientKeySecret: 'configured' }, quiet);
    assert.equal(c.recipientSecret, 'configured');
    await c.close();
  });
});
