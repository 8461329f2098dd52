// Durable state in PostgreSQL (pg, pooled). Appends to each event table are group-committed: the
// queued events of a table are inserted by one multi-row INSERT in one transaction, and each
// caller is acknowledged after COMMIT (synchronous_commit on: the WAL is flushed).
//
// Ordering across nodes: each event append holds a transaction-level advisory lock on its table and
// numbers its rows max(seq)+1…; so seqs are gapless and commit in seq order on every node. A reader
// that has seen seq n can therefore never later find a smaller seq committed: since(n) is complete.

import pg from 'pg';
import type {
  AuditEntry, AuditEntryInput, AuditStore, ConsentEvent, ConsentEventInput, ConsentStore, CredentialRecord,
  CustomerRecord, DataExport, DataStore, DataSubject, DecisionRecord, DecisionStore, EnforcementEvent,
  EnforcementEventInput, EnforcementStore, ErasureReport, HeldItem, HeldItemInput, HeldQuery, MessageMapStore, PolicyStore,
  ReportEvent, ReportEventInput, ReportStore, ReviewStore, SchedulerStore, TenancyStore, WebhookEventStore,
} from '../types.js';
import { postgresMessageStores } from './postgres-messages.js';
import { MESSAGE_TABLES } from '../message-rows.js';
import { GroupCommit } from '../group-commit.js';
import { chain, GENESIS_HASH, verifyPaged } from '../audit-hash.js';
import { POSTGRES_MIGRATIONS } from './migrations.js';
import type { Migration } from '../sqlite/migrations.js';
import { auditRow, CALLBACK_ENDED, CALLBACK_REQUEUE, callbackColumns, consentRow, decisionRow, dueCallbackRow, enforcementRow, heldRecipient, heldRow, isoTime, NO_PENDING_CALLBACK, policyRow, reportRow, REVIEW_LIST_MAX, UNSETTLED } from '../sqlite/sqlite-stores.js';
import { hashRecipient, recipientForms } from '../recipient-key.js';

type Row = Record<string, unknown>;
type Client = pg.PoolClient;

/** The callback columns a settlement sets, numbered from $first (values: callbackColumns()). */
const CALLBACK_SET = (first: number): string => ['callback_state', 'callback_body', 'callback_signature', 'callback_attempts', 'callback_next_at']
  .map((c, i) => `${c} = $${first + i}`).join(', ');

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
  await client.query('SELECT pg_advisory_lock(hashtext(current_schema() || \'.migrations\'))');
  try {
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())');
    const current = Number((await client.query('SELECT coalesce(max(version), 0) AS v FROM schema_migrations')).rows[0].v);
    const known = migrations.reduce((m, x) => Math.max(m, x.version), 0);
    if (current > known) throw new Error(`database schema version ${current} is newer than this Warden (knows up to ${known}); refusing to start`);
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
    await client.query('SELECT pg_advisory_unlock(hashtext(current_schema() || \'.migrations\'))');
  }
}

const lock = (c: Client, table: string) => c.query('SELECT pg_advisory_xact_lock(hashtext(current_schema() || $1))', [`.${table}`]);
const nextSeq = async (c: Client, table: string) => Number((await c.query(`SELECT coalesce(max(seq), 0) AS m FROM ${table}`)).rows[0].m);

export class PostgresStores {
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
  private readonly queues: Array<GroupCommit<never, unknown>> = [];

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
    const tx = async <T>(fn: (c: Client) => Promise<T>): Promise<T> => {
      const c = await pool.connect();
      let broken: Error | undefined;
      try {
        await c.query('BEGIN');
        const out = await fn(c);
        await c.query('COMMIT');
        return out;
      } catch (e) {
        // A failed ROLLBACK means the connection itself is gone: destroy it rather than pool it.
        await c.query('ROLLBACK').catch((err: unknown) => { broken = err as Error; });
        throw e;
      } finally {
        c.release(broken);
      }
    };
    const queue = <I, O>(commit: (items: I[]) => Promise<O[]>) => {
      const g = new GroupCommit<I, O>(commit, { maxBatch: 1000 });
      this.queues.push(g as unknown as GroupCommit<never, unknown>);
      return (item: I) => g.submit(item);
    };
    const all = async (sql: string, args: unknown[] = []) => (await pool.query(sql, args)).rows as Row[];

    const appendConsent = queue<ConsentEventInput, ConsentEvent>((items) => tx(async (c) => {
      await lock(c, 'consent_events');
      const base = await nextSeq(c, 'consent_events');
      const events = items.map((e, i) => ({ ...e, at: isoTime(e.at), seq: base + i + 1 }));
      await c.query(`INSERT INTO consent_events (seq, customer, recipient, kind, source, evidence, at)
        SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[])`,
      [events.map((e) => e.seq), events.map((e) => e.customer), events.map((e) => e.recipient), events.map((e) => e.kind), events.map((e) => e.source), events.map((e) => e.evidence ?? null), events.map((e) => e.at)]);
      return events;
    }));
    this.consent = {
      append: (e) => appendConsent(e),
      since: async (after, limit = 10_000) => (await all('SELECT * FROM consent_events WHERE seq > $1 ORDER BY seq LIMIT $2', [after, limit])).map(consentRow),
      history: async (customer, recipient) => (await all('SELECT * FROM consent_events WHERE customer = $1 AND recipient = $2 ORDER BY seq', [customer, recipient])).map(consentRow),
    };

    const appendEnforcement = queue<EnforcementEventInput, EnforcementEvent>((items) => tx(async (c) => {
      await lock(c, 'enforcement_events');
      const base = await nextSeq(c, 'enforcement_events');
      const events = items.map((e, i) => ({ ...e, at: isoTime(e.at), seq: base + i + 1 }));
      await c.query(`INSERT INTO enforcement_events (seq, customer, end_user, action, clause, reason, actor, at)
        SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::timestamptz[])`,
      [events.map((e) => e.seq), events.map((e) => e.customer), events.map((e) => e.endUser ?? null), events.map((e) => e.action), events.map((e) => e.clause ?? null), events.map((e) => e.reason), events.map((e) => e.actor), events.map((e) => e.at)]);
      return events;
    }));
    this.enforcement = {
      append: (e) => appendEnforcement(e),
      since: async (after, limit = 10_000) => (await all('SELECT * FROM enforcement_events WHERE seq > $1 ORDER BY seq LIMIT $2', [after, limit])).map(enforcementRow),
      history: async (customer) => (await all('SELECT * FROM enforcement_events WHERE customer = $1 ORDER BY seq', [customer])).map(enforcementRow),
    };

    const insertAudit = async (c: Client, inputs: AuditEntryInput[]): Promise<AuditEntry[]> => {
      await lock(c, 'audit_log');
      const last = (await c.query('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1')).rows[0] as { seq: number; hash: string } | undefined;
      const entries = chain(last?.seq ?? 0, last?.hash ?? GENESIS_HASH, inputs.map((e) => ({ ...e, at: isoTime(e.at) })));
      await c.query(`INSERT INTO audit_log (seq, actor, action, subject, detail, at, prev_hash, hash)
        SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::timestamptz[], $7::text[], $8::text[])`,
      [entries.map((e) => e.seq), entries.map((e) => e.actor), entries.map((e) => e.action), entries.map((e) => e.subject), entries.map((e) => (e.detail === undefined ? null : JSON.stringify(e.detail))), entries.map((e) => e.at), entries.map((e) => e.prevHash), entries.map((e) => e.hash)]);
      return entries;
    };
    const appendAudit = queue<AuditEntryInput, AuditEntry>((items) => tx((c) => insertAudit(c, items)));
    this.audit = {
      append: (e) => appendAudit(e),
      list: async (after, limit) => (await all('SELECT * FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2', [after, limit])).map(auditRow),
      verify: () => verifyPaged(async (after) => (await all('SELECT * FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 5000', [after])).map(auditRow)),
    };

    this.policies = {
      publish: async (p) => {
        await pool.query('INSERT INTO policy_versions (policy_version, files, effective_at, published_at, published_by) VALUES ($1, $2, $3, $4, $5)',
          [p.policyVersion, JSON.stringify(p.files), isoTime(p.effectiveAt), isoTime(p.publishedAt), p.publishedBy]);
      },
      list: async () => (await all('SELECT * FROM policy_versions ORDER BY effective_at, published_at')).map(policyRow),
    };

    const appendReport = queue<ReportEventInput, ReportEvent>((items) => tx(async (c) => {
      await lock(c, 'report_events');
      const base = await nextSeq(c, 'report_events');
      const events = items.map((e, i) => ({ ...e, at: isoTime(e.at), seq: base + i + 1 }));
      await c.query(`INSERT INTO report_events (seq, report_id, customer, kind, detail, actor, at)
        SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::text[], $7::timestamptz[])`,
      [events.map((e) => e.seq), events.map((e) => e.reportId), events.map((e) => e.customer), events.map((e) => e.kind), events.map((e) => JSON.stringify(e.detail)), events.map((e) => e.actor), events.map((e) => e.at)]);
      return events;
    }));
    this.reports = {
      append: (e) => appendReport(e),
      byReport: async (id) => (await all('SELECT * FROM report_events WHERE report_id = $1 ORDER BY seq', [id])).map(reportRow),
      byCustomer: async (c) => (await all('SELECT * FROM report_events WHERE customer = $1 ORDER BY seq', [c])).map(reportRow),
    };

    const doc = <T>(rows: Row[]): T | null => (rows.length === 0 ? null : (rows[0].doc as T));
    this.tenancy = {
      upsertCustomer: async (c: CustomerRecord) => {
        await pool.query('INSERT INTO customers (id, account_sid, doc) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET account_sid = excluded.account_sid, doc = excluded.doc', [c.id, c.accountSid, JSON.stringify(c)]);
      },
      getCustomer: async (id) => doc<CustomerRecord>(await all('SELECT doc FROM customers WHERE id = $1', [id])),
      customerByAccountSid: async (sid) => doc<CustomerRecord>(await all('SELECT doc FROM customers WHERE account_sid = $1', [sid])),
      listCustomers: async () => (await all('SELECT doc FROM customers ORDER BY id')).map((r) => r.doc as CustomerRecord),
      addCredential: async (c: CredentialRecord) => {
        await pool.query('INSERT INTO credentials (id, customer, doc) VALUES ($1, $2, $3)', [c.id, c.customer, JSON.stringify(c)]);
      },
      getCredential: async (id) => doc<CredentialRecord>(await all('SELECT doc FROM credentials WHERE id = $1', [id])),
      revokeCredential: async (id, at) => {
        const r = await pool.query("UPDATE credentials SET doc = jsonb_set(doc, '{revokedAt}', to_jsonb($2::text)) WHERE id = $1", [id, isoTime(at)]);
        if (r.rowCount === 0) throw new Error(`no credential ${id}`);
      },
    };

    const recordDecision = queue<DecisionRecord, void>(async (items) => {
      const cols = ['customer', 'id', 'end_user', 'message_id', 'channel', 'action', 'score', 'policy_version', 'reasons', 'recipient', 'sender', 'body', 'at'];
      const typesOf = ['text', 'text', 'text', 'text', 'text', 'text', 'float8', 'text', 'jsonb', 'text', 'text', 'text', 'timestamptz'];
      const values: unknown[][] = [
        items.map((d) => d.customer), items.map((d) => d.id), items.map((d) => d.endUser ?? null), items.map((d) => d.messageId),
        items.map((d) => d.channel), items.map((d) => d.action), items.map((d) => d.score), items.map((d) => d.policyVersion),
        items.map((d) => JSON.stringify(d.reasons)), items.map((d) => d.to), items.map((d) => d.from), items.map((d) => d.body), items.map((d) => isoTime(d.at)),
      ];
      await pool.query(`INSERT INTO decisions (${cols.join(', ')}) SELECT * FROM unnest(${typesOf.map((t, i) => `$${i + 1}::${t}[]`).join(', ')})`, values);
      return items.map(() => undefined);
    });
    this.decisions = {
      record: (d) => recordDecision(d),
      recordMany: (ds) => Promise.all(ds.map((d) => recordDecision(d).then(() => null, (e: unknown) => (e instanceof Error ? e : new Error(String(e)))))),
      get: async (customer, id) => {
        const rows = await all('SELECT * FROM decisions WHERE customer = $1 AND id = $2', [customer, id]);
        return rows.length === 0 ? null : decisionRow(rows[0]);
      },
      list: async (customer, limit, before) => (await all("SELECT * FROM decisions WHERE customer = $1 AND at < coalesce($2::timestamptz, 'infinity') ORDER BY at DESC, id DESC LIMIT $3",
        [customer, before !== undefined ? isoTime(before) : null, limit])).map(decisionRow),
      purgeBodies: async (customer, olderThan) => (await pool.query('UPDATE decisions SET body = NULL WHERE customer = $1 AND at < $2 AND body IS NOT NULL', [customer, isoTime(olderThan)])).rowCount ?? 0,
      purgeDecisions: async (customer, olderThan) => (await pool.query('DELETE FROM decisions WHERE customer = $1 AND at < $2', [customer, isoTime(olderThan)])).rowCount ?? 0,
    };

    // The review queue: each change is one statement (or one transaction with its audit entry),
    // acknowledged after COMMIT. The claim is UPDATE ... WHERE state = 'held' RETURNING: of two
    // nodes claiming at once, the second waits for the first's row lock, re-checks the condition
    // and gets no row, so an item is forwarded at most once.
    const settledAudit = (c: Client, h: HeldItem, action: string) => {
      const detail: Record<string, unknown> = { customer: h.customer, kind: h.kind, decision: h.decision.id };
      if (h.upstreamStatus !== undefined) detail.upstreamStatus = h.upstreamStatus;
      if (h.upstreamSid !== undefined) detail.upstreamSid = h.upstreamSid;
      if (h.errorCode !== undefined) detail.errorCode = h.errorCode;
      return insertAudit(c, [{ actor: h.settledBy ?? 'unknown', action, subject: `held:${h.sid}`, detail, at: h.settledAt ?? new Date().toISOString() }]);
    };
    this.review = {
      hold: async (h: HeldItemInput) => heldRow((await pool.query(`INSERT INTO review_queue (sid, kind, customer, end_user, account_sid, recipient, fields, raw, decision, status_callback, held_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING *`,
      [h.sid, h.kind, h.customer, h.endUser ?? null, h.accountSid, heldRecipient(h), JSON.stringify(h.fields), h.raw, JSON.stringify(h.decision), h.statusCallback ?? null, isoTime(h.heldAt)])).rows[0] as Row),
      get: async (sid, customer) => {
        const rows = await all('SELECT * FROM review_queue WHERE sid = $1 AND ($2::text IS NULL OR customer = $2)', [sid, customer ?? null]);
        return rows.length === 0 ? null : heldRow(rows[0]);
      },
      list: async (query: HeldQuery = {}) => {
        const limit = Math.min(Math.max(1, query.limit ?? 1000), REVIEW_LIST_MAX);
        return (await all('SELECT * FROM review_queue WHERE state = ANY($1::text[]) AND ($2::text IS NULL OR customer = $2) ORDER BY held_at, sid LIMIT $3',
          [query.states ?? UNSETTLED, query.customer ?? null, limit])).map(heldRow);
      },
      claim: async (sid, by, at) => {
        const rows = await all("UPDATE review_queue SET state = 'releasing', claimed_at = $1, claimed_by = $2 WHERE sid = $3 AND state = 'held' RETURNING *", [isoTime(at), by, sid]);
        return rows.length === 0 ? null : heldRow(rows[0]);
      },
      released: (sid, o) => tx(async (c) => {
        const rows = (await c.query(`UPDATE review_queue SET state = 'released', settled_at = $1, settled_by = $2, upstream_status = $3, upstream_sid = $4, error_code = $5,
          ${CALLBACK_SET(6)} WHERE sid = $11 AND state = 'releasing' RETURNING *`,
        [isoTime(o.at), o.by, o.upstreamStatus, o.upstreamSid ?? null, o.errorCode ?? null, ...callbackColumns(o.callback), sid])).rows as Row[];
        if (rows.length === 0) throw new Error(`held item ${sid} is not being released`);
        const h = heldRow(rows[0]);
        await settledAudit(c, h, 'review.release');
        return h;
      }),
      unclaim: async (sid) => {
        await pool.query("UPDATE review_queue SET state = 'held', claimed_at = NULL, claimed_by = NULL WHERE sid = $1 AND state = 'releasing'", [sid]);
      },
      refuse: (sid, by, at, errorCode, callback) => tx(async (c) => {
        const rows = (await c.query(`UPDATE review_queue SET state = 'refused', settled_at = $1, settled_by = $2, error_code = $3, ${CALLBACK_SET(4)} WHERE sid = $9 AND state = 'held' RETURNING *`,
          [isoTime(at), by, errorCode, ...callbackColumns(callback), sid])).rows as Row[];
        if (rows.length === 0) return null;
        const h = heldRow(rows[0]);
        await settledAudit(c, h, 'review.refuse');
        return h;
      }),
      purgeSettled: async (customer, olderThan) => (await pool.query(`DELETE FROM review_queue WHERE customer = $1 AND state IN ('released', 'refused') AND settled_at < $2 AND ${NO_PENDING_CALLBACK}`,
        [customer, isoTime(olderThan)])).rowCount ?? 0,
      // SKIP LOCKED: nodes polling at once take disjoint callbacks instead of queueing on each other's rows.
      takeDueCallbacks: async (now, leaseUntil, limit) => (await all(`UPDATE review_queue SET callback_attempts = callback_attempts + 1, callback_next_at = $1
        WHERE sid IN (SELECT sid FROM review_queue WHERE callback_state = 'pending' AND callback_next_at <= $2 ORDER BY callback_next_at LIMIT $3 FOR UPDATE SKIP LOCKED)
        RETURNING sid, customer, status_callback, callback_body, callback_signature, callback_attempts`, [isoTime(leaseUntil), isoTime(now), limit])).map(dueCallbackRow),
      callbackAttempted: async (sid, o) => {
        await pool.query(`UPDATE review_queue SET callback_state = $1, callback_next_at = $2, callback_error = coalesce($3, callback_error)
          WHERE sid = $4 AND callback_state = 'pending'`, [o.state, o.state === 'pending' && o.nextAt !== undefined ? isoTime(o.nextAt) : null, o.lastError ?? null, sid]);
      },
      requeueCallback: (sid, by, at) => tx(async (c) => {
        const rows = (await c.query(`UPDATE review_queue SET ${CALLBACK_REQUEUE}, callback_next_at = $1 WHERE sid = $2 AND ${CALLBACK_ENDED} RETURNING *`, [isoTime(at), sid])).rows as Row[];
        if (rows.length === 0) return null;
        const h = heldRow(rows[0]);
        await insertAudit(c, [{ actor: by, action: 'review.callback-requeue', subject: `held:${sid}`, detail: { customer: h.customer }, at: isoTime(at) }]);
        return h;
      }),
    };

    this.webhookEvents = {
      claim: async (customer, id, at) => (await pool.query('INSERT INTO webhook_events (customer, event_id, seen_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [customer, id, isoTime(at)])).rowCount === 1,
      release: async (customer, id) => { await pool.query('DELETE FROM webhook_events WHERE customer = $1 AND event_id = $2', [customer, id]); },
      purge: async (olderThan) => (await pool.query('DELETE FROM webhook_events WHERE seen_at < $1', [isoTime(olderThan)])).rowCount ?? 0,
    };
    ({ messages: this.messages, scheduler: this.scheduler } = postgresMessageStores(pool, isoTime));

    this.data = {
      export: (s) => this.exportSubject(s),
      erase: (s, actor) => tx((c) => this.eraseSubject(c, s, actor, insertAudit)),
    };
  }

  async metaGetOrSet(key: string, make: () => string): Promise<string> {
    await this.pool.query('INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [key, make()]);
    return (await this.pool.query('SELECT value FROM meta WHERE key = $1', [key])).rows[0].value as string;
  }

  private where(s: DataSubject, recipientColumn: string, first = 1): { sql: string; args: unknown[] } {
    const parts: string[] = [];
    const args: unknown[] = [];
    if (s.customer !== undefined) { args.push(s.customer); parts.push(`customer = $${first + args.length - 1}`); }
    if (s.recipient !== undefined) { args.push(recipientForms(this.recipientSecret, s.recipient)); parts.push(`${recipientColumn} = ANY($${first + args.length - 1}::text[])`); }
    if (parts.length === 0) throw new Error('a data subject needs a customer or a recipient');
    return { sql: parts.join(' AND '), args };
  }

  private async exportSubject(s: DataSubject): Promise<DataExport> {
    const q = async (sql: string, args: unknown[]) => (await this.pool.query(sql, args)).rows as Row[];
    const w = this.where(s, 'recipient');
    const out: DataExport = {
      subject: s, generatedAt: new Date().toISOString(), customer: null, credentials: [],
      consent: (await q(`SELECT * FROM consent_events WHERE ${w.sql} ORDER BY seq`, w.args)).map(consentRow),
      enforcement: [], reports: [],
      decisions: (await q(`SELECT * FROM decisions WHERE ${w.sql} ORDER BY at`, w.args)).map(decisionRow),
      held: (await q(`SELECT * FROM review_queue WHERE ${w.sql} ORDER BY held_at, sid`, w.args)).map(heldRow),
    };
    if (s.recipient === undefined && s.customer !== undefined) {
      const cust = await q('SELECT doc FROM customers WHERE id = $1', [s.customer]);
      out.customer = cust.length === 0 ? null : (cust[0].doc as CustomerRecord);
      out.credentials = (await q('SELECT doc FROM credentials WHERE customer = $1 ORDER BY id', [s.customer]))
        .map((r) => { const { secretHash: _s, secretSealed: _x, ...rest } = r.doc as CredentialRecord; return rest; });
      out.enforcement = (await q('SELECT * FROM enforcement_events WHERE customer = $1 ORDER BY seq', [s.customer])).map(enforcementRow);
      out.reports = (await q('SELECT * FROM report_events WHERE customer = $1 ORDER BY seq', [s.customer])).map(reportRow);
    } else if (s.recipient !== undefined) {
      const forms = recipientForms(this.recipientSecret, s.recipient).map((f) => `%${f}%`);
      const args: unknown[] = [forms];
      if (s.customer !== undefined) args.push(s.customer);
      out.reports = (await q(`SELECT * FROM report_events WHERE detail::text LIKE ANY($1::text[])${s.customer !== undefined ? ' AND customer = $2' : ''} ORDER BY seq`, args)).map(reportRow);
    }
    return out;
  }

  private async eraseSubject(c: Client, s: DataSubject, actor: string, insertAudit: (c: Client, e: AuditEntryInput[]) => Promise<AuditEntry[]>): Promise<ErasureReport> {
    const deleted: Record<string, number> = {};
    let suppressionsKept = 0;
    const at = new Date().toISOString();
    const count = (r: pg.QueryResult) => r.rowCount ?? 0;
    if (s.recipient !== undefined) {
      await lock(c, 'consent_events');
      const w = this.where(s, 'recipient');
      const latest = (await c.query(`SELECT DISTINCT ON (customer) customer, kind FROM consent_events WHERE ${w.sql} ORDER BY customer, date_trunc('second', at) DESC, seq DESC`, w.args)).rows as Array<{ customer: string; kind: string }>;
      deleted.consent = count(await c.query(`DELETE FROM consent_events WHERE ${w.sql}`, w.args));
      deleted.decisions = count(await c.query(`DELETE FROM decisions WHERE ${w.sql}`, w.args));
      deleted.held = count(await c.query(`DELETE FROM review_queue WHERE ${w.sql}`, w.args));
      deleted.scheduled = count(await c.query(`DELETE FROM scheduled_jobs WHERE id IN (SELECT sid FROM message_map WHERE ${w.sql})`, w.args));
      deleted.messages = count(await c.query(`DELETE FROM message_map WHERE ${w.sql}`, w.args));
      const hashed = hashRecipient(this.recipientSecret, s.recipient);
      let seq = await nextSeq(c, 'consent_events');
      for (const l of latest) {
        if (l.kind !== 'opt-out') continue;
        await c.query('INSERT INTO consent_events (seq, customer, recipient, kind, source, evidence, at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
          [++seq, l.customer, hashed, 'opt-out', 'admin', 'kept as a keyed-hash suppression entry after erasure', at]);
        suppressionsKept++;
      }
      let redacted = 0;
      for (const f of recipientForms(this.recipientSecret, s.recipient).filter((x) => x !== hashed)) {
        const args: unknown[] = [f, hashed, `%${f}%`];
        if (s.customer !== undefined) args.push(s.customer);
        redacted += count(await c.query(`UPDATE report_events SET detail = replace(detail::text, $1, $2)::jsonb WHERE detail::text LIKE $3${s.customer !== undefined ? ' AND customer = $4' : ''}`, args));
      }
      deleted.reportsRedacted = redacted;
    } else if (s.customer !== undefined) {
      for (const [name, table] of [['consent', 'consent_events'], ['enforcement', 'enforcement_events'], ['reports', 'report_events'], ['decisions', 'decisions'], ['held', 'review_queue'], ['credentials', 'credentials'], ['webhookEvents', 'webhook_events'], ...MESSAGE_TABLES] as const) {
        deleted[name] = count(await c.query(`DELETE FROM ${table} WHERE customer = $1`, [s.customer]));
      }
      deleted.customer = count(await c.query('DELETE FROM customers WHERE id = $1', [s.customer]));
    } else {
      throw new Error('a data subject needs a customer or a recipient');
    }
    const subject = s.recipient !== undefined ? `recipient:${hashRecipient(this.recipientSecret, s.recipient)}` : `customer:${s.customer}`;
    await insertAudit(c, [{ actor, action: 'data.erase', subject, detail: { customer: s.customer ?? null, deleted, suppressionsKept }, at }]);
    return { subject: s.recipient !== undefined ? { ...s, recipient: hashRecipient(this.recipientSecret, s.recipient) } : s, deleted, suppressionsKept };
  }

  async close(): Promise<void> {
    for (const q of this.queues) await q.drain();
    await this.pool.end();
  }
}
