// Durable state in PostgreSQL (pg, pooled): opens the pool, migrates the schema, and assembles one
// store per concern (each in its own file in this directory) over one shared context (context.ts).
// Appends to each event table are group-committed: the queued events of a table are inserted by
// one multi-row INSERT in one transaction, and each caller is acknowledged after COMMIT
// (synchronous_commit on: the WAL is flushed).

import pg from 'pg';
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
import type { Migration } from '../sqlite/migrations.js';
import { postgresAudit } from './audit.js';
import { postgresConsent } from './consent.js';
import { pgContext, type Client, type PgContext } from './context.js';
import { postgresData } from './data.js';
import { postgresDecisions } from './decisions.js';
import { postgresEnforcement } from './enforcement.js';
import { postgresMessageStores } from './messages.js';
import { POSTGRES_MIGRATIONS } from './migrations.js';
import { postgresPolicies } from './policy.js';
import { postgresReports } from './reports.js';
import { postgresReview } from './review.js';
import { postgresTenancy } from './tenancy.js';
import { postgresWebhookEvents } from './webhook-events.js';

const TIMESTAMPTZ = 1184;
const INT8 = 20;
const types = {
  getTypeParser: ((oid: number, format?: string) => {
    if (oid === TIMESTAMPTZ) return (v: string) => new Date(v).toISOString();
    if (oid === INT8) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as 'text');
  }) as typeof pg.types.getTypeParser,
};

export interface PostgresOptions {
  poolSize?: number;
  schema?: string;
  /** Apply migrations only up to this version (tests of old databases). */
  migrateUpTo?: number;
}

export async function migratePostgres(client: Client, migrations: Migration[] = POSTGRES_MIGRATIONS, upTo = Infinity): Promise<number> {
  await client.query("SELECT pg_advisory_lock(hashtext(current_schema() || '.migrations'))");
  try {
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())',
    );
    const current = Number((await client.query('SELECT coalesce(max(version), 0) AS v FROM schema_migrations')).rows[0].v);
    const known = migrations.reduce((m, x) => Math.max(m, x.version), 0);
    if (current > known)
      throw new Error(`database schema version ${current} is newer than this Warden (knows up to ${known}); refusing to start`);
    for (const m of migrations) {
      if (m.version <= current || m.version > upTo) continue;
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK');
        throw e;
      }
    }
    return Number((await client.query('SELECT coalesce(max(version), 0) AS v FROM schema_migrations')).rows[0].v);
  } finally {
    await client.query("SELECT pg_advisory_unlock(hashtext(current_schema() || '.migrations'))");
  }
}

export class PostgresStores implements DurableStores {
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
  private readonly ctx: PgContext;

  static async open(url: string, opts: PostgresOptions = {}): Promise<PostgresStores> {
    const schema = opts.schema ?? 'public';
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`invalid schema name ${schema}`);
    const pool = new pg.Pool({
      connectionString: url,
      max: opts.poolSize ?? 10,
      types,
      options: `-c search_path=${schema}`,
      connectionTimeoutMillis: 5000,
      application_name: 'warden',
    });
    pool.on('error', (e) => process.stderr.write(`warden store: idle PostgreSQL connection failed: ${e.message}\n`));
    const c = await pool.connect();
    try {
      if (schema !== 'public') await c.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await migratePostgres(c, POSTGRES_MIGRATIONS, opts.migrateUpTo);
    } finally {
      c.release();
    }
    return new PostgresStores(pool);
  }

  constructor(readonly pool: pg.Pool) {
    const ctx = pgContext(pool);
    this.ctx = ctx;
    this.consent = postgresConsent(ctx);
    this.enforcement = postgresEnforcement(ctx);
    this.audit = postgresAudit(ctx);
    this.policies = postgresPolicies(ctx);
    this.reports = postgresReports(ctx);
    this.tenancy = postgresTenancy(ctx);
    this.decisions = postgresDecisions(ctx);
    this.review = postgresReview(ctx);
    this.webhookEvents = postgresWebhookEvents(ctx);
    ({ messages: this.messages, scheduler: this.scheduler } = postgresMessageStores(pool));
    this.data = postgresData(ctx, () => this.recipientSecret);
  }

  async metaGetOrSet(key: string, make: () => string): Promise<string> {
    await this.pool.query('INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [key, make()]);
    return (await this.pool.query('SELECT value FROM meta WHERE key = $1', [key])).rows[0].value as string;
  }

  async close(): Promise<void> {
    await this.ctx.drain();
    await this.pool.end();
  }
}
