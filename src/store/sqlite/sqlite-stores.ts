// Durable state in one embedded SQLite database (better-sqlite3, WAL, synchronous=FULL): opens and
// migrates the file, and assembles one store per concern (each in its own file in this directory)
// over one durable writer (writer.ts). Decisions have their own writer thread (decisions.ts).

import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type {
  AuditStore,
  ConsentStore,
  DataStore,
  DecisionStore,
  DurableStores,
  EnforcementStore,
  MessageMapStore,
  PolicyStore,
  ReportStore,
  ReviewStore,
  SchedulerStore,
  TenancyStore,
  WebhookEventStore,
} from '../types.js';
import { sqliteAudit, sqliteAuditInTx } from './audit.js';
import { sqliteConsent } from './consent.js';
import { sqliteData } from './data.js';
import { sqliteDecisions, type SqliteDecisions } from './decisions.js';
import { sqliteEnforcement } from './enforcement.js';
import { sqliteMessageStores } from './messages.js';
import { SQLITE_MIGRATIONS, type Migration } from './migrations.js';
import { sqlitePolicies } from './policy.js';
import { sqliteReports } from './reports.js';
import { sqliteReview } from './review.js';
import { sqliteTenancy } from './tenancy.js';
import { sqliteWebhookEvents } from './webhook-events.js';
import { durableWriter, type DurableWriter } from './writer.js';

type DB = Database.Database;

export const SQLITE_FILE = 'warden.db';

/**
 * Applies pending migrations (up to `upTo`, default all). Refuses a database newer than the code.
 * Safe when several processes open a fresh database at once (`warden serve --workers N`): each
 * migration runs in a BEGIN IMMEDIATE transaction that re-reads the version under the write lock,
 * so exactly one process applies it and the others see it applied.
 */
export function migrateSqlite(db: DB, migrations: Migration[] = SQLITE_MIGRATIONS, upTo = Infinity): number {
  const version = () => (db.prepare('SELECT coalesce(max(version), 0) AS v FROM schema_migrations').get() as { v: number }).v;
  db.transaction(() =>
    db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)'),
  ).immediate();
  const known = migrations.reduce((m, x) => Math.max(m, x.version), 0);
  const check = (current: number) => {
    if (current > known)
      throw new Error(`database schema version ${current} is newer than this Warden (knows up to ${known}); refusing to start`);
  };
  check(version());
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (m.version > upTo) continue;
    db.transaction(() => {
      const current = version();
      check(current);
      if (m.version <= current) return;
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        m.version,
        m.name,
        new Date().toISOString(),
      );
    }).immediate();
  }
  return version();
}

export function openSqliteDatabase(dataDir: string): DB {
  const dir = resolve(dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const db = new Database(join(dir, SQLITE_FILE));
  // Before anything that locks: several processes (cluster workers, the CLI) may open the file at
  // once, and switching a fresh database to WAL takes an exclusive lock.
  db.pragma('busy_timeout = 5000');
  db.pragma('journal_mode = WAL');
  // FULL: a commit is on disk (WAL fsynced) before it returns, so an acknowledged write survives a crash.
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  return db;
}

export class SqliteStores implements DurableStores {
  readonly consent: ConsentStore;
  readonly enforcement: EnforcementStore;
  readonly audit: AuditStore;
  readonly policies: PolicyStore;
  readonly reports: ReportStore;
  readonly tenancy: TenancyStore;
  readonly decisions: DecisionStore;
  readonly review: ReviewStore;
  readonly webhookEvents: WebhookEventStore;
  readonly messages: MessageMapStore;
  readonly scheduler: SchedulerStore;
  readonly data: DataStore;
  recipientSecret = '';
  private readonly writer: DurableWriter;
  private readonly decisionLog: SqliteDecisions;
  private closed = false;

  constructor(
    readonly db: DB,
    opts: { decisionThread?: boolean } = {},
  ) {
    migrateSqlite(db);
    const isClosed = () => this.closed;
    this.writer = durableWriter(db, isClosed);
    const write = this.writer.write;
    // Review settlements and erasures append their audit entry inside their own write.
    const auditInTx = sqliteAuditInTx(db);
    this.consent = sqliteConsent(db, write);
    this.enforcement = sqliteEnforcement(db, write);
    this.audit = sqliteAudit(db, write, auditInTx);
    this.policies = sqlitePolicies(db, write);
    this.reports = sqliteReports(db, write);
    this.tenancy = sqliteTenancy(db, write);
    this.decisionLog = sqliteDecisions(db, write, isClosed, { thread: opts.decisionThread });
    this.decisions = this.decisionLog.store;
    this.review = sqliteReview(db, write, auditInTx);
    this.webhookEvents = sqliteWebhookEvents(db, write);
    ({ messages: this.messages, scheduler: this.scheduler } = sqliteMessageStores(db, write));
    this.data = sqliteData(db, write, auditInTx, () => this.recipientSecret);
  }

  /** Meta values (e.g. the generated recipient key), created once. */
  metaGetOrSet(key: string, make: () => string): string {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    if (row !== undefined) return row.value;
    this.db.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)').run(key, make());
    return (this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string }).value;
  }

  async close(): Promise<void> {
    await this.writer.drain();
    await this.decisionLog.drain();
    this.closed = true;
    await this.decisionLog.close();
    if (this.db.open) this.db.close();
  }
}
