// Durable state in one embedded SQLite database (better-sqlite3, WAL, synchronous=FULL).
// All writes go through one group-commit queue: writes queued in the same turn of the event loop
// share a transaction and one fsync, and each is acknowledged only after that commit.

import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type {
  AuditEntry, AuditEntryInput, AuditStore, CallbackPost, CallbackState, ConsentEvent, ConsentEventInput, ConsentStore, CredentialRecord,
  CustomerRecord, DataExport, DataStore, DataSubject, DecisionRecord, DecisionStore, EnforcementEvent,
  DueCallback, EnforcementEventInput, EnforcementStore, ErasureReport, HeldCallback, HeldItem, HeldItemInput, HeldQuery, HeldState,
  MessageMapStore, PolicyStore, PolicyVersionRecord, ReportEvent, ReportEventInput, ReportStore, ReviewStore, SchedulerStore, TenancyStore, WebhookEventStore,
} from '../types.js';
import { sqliteMessageStores } from './sqlite-messages.js';
import { MESSAGE_TABLES } from '../message-rows.js';
import { GroupCommit } from '../group-commit.js';
import { DecisionWriter } from './decision-writer.js';
import { chain, GENESIS_HASH, verifyPaged } from '../audit-hash.js';
import { SQLITE_MIGRATIONS, type Migration } from './migrations.js';
import { hashRecipient, recipientForms } from '../recipient-key.js';

type DB = Database.Database;
type Row = Record<string, unknown>;

export const SQLITE_FILE = 'warden.db';

/**
 * Applies pending migrations (up to `upTo`, default all). Refuses a database newer than the code.
 * Safe when several processes open a fresh database at once (`warden serve --workers N`): each
 * migration runs in a BEGIN IMMEDIATE transaction that re-reads the version under the write lock,
 * so exactly one process applies it and the others see it applied.
 */
export function migrateSqlite(db: DB, migrations: Migration[] = SQLITE_MIGRATIONS, upTo = Infinity): number {
  const version = () => (db.prepare('SELECT coalesce(max(version), 0) AS v FROM schema_migrations').get() as { v: number }).v;
  db.transaction(() => db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)')).immediate();
  const known = migrations.reduce((m, x) => Math.max(m, x.version), 0);
  const check = (current: number) => {
    if (current > known) throw new Error(`database schema version ${current} is newer than this Warden (knows up to ${known}); refusing to start`);
  };
  check(version());
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (m.version > upTo) continue;
    db.transaction(() => {
      const current = version();
      check(current);
      if (m.version <= current) return;
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, new Date().toISOString());
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

const opt = <T>(v: unknown): T | undefined => (v === null || v === undefined ? undefined : (v as T));

function consentRow(r: Row): ConsentEvent {
  const e: ConsentEvent = { seq: Number(r.seq), customer: r.customer as string, recipient: r.recipient as string, kind: r.kind as ConsentEvent['kind'], source: r.source as ConsentEvent['source'], at: r.at as string };
  const evidence = opt<string>(r.evidence);
  if (evidence !== undefined) e.evidence = evidence;
  return e;
}

function enforcementRow(r: Row): EnforcementEvent {
  const e: EnforcementEvent = { seq: Number(r.seq), customer: r.customer as string, action: r.action as EnforcementEvent['action'], reason: r.reason as string, actor: r.actor as string, at: r.at as string };
  const endUser = opt<string>(r.end_user);
  if (endUser !== undefined) e.endUser = endUser;
  const clause = opt<string>(r.clause);
  if (clause !== undefined) e.clause = clause;
  return e;
}

function auditRow(r: Row): AuditEntry {
  const e: AuditEntry = { seq: Number(r.seq), actor: r.actor as string, action: r.action as string, subject: r.subject as string, at: r.at as string, prevHash: r.prev_hash as string, hash: r.hash as string };
  if (r.detail !== null && r.detail !== undefined) e.detail = typeof r.detail === 'string' ? JSON.parse(r.detail) : (r.detail as Record<string, unknown>);
  return e;
}

function reportRow(r: Row): ReportEvent {
  return { seq: Number(r.seq), reportId: r.report_id as string, customer: r.customer as string, kind: r.kind as ReportEvent['kind'], detail: typeof r.detail === 'string' ? JSON.parse(r.detail) : (r.detail as Record<string, unknown>), actor: r.actor as string, at: r.at as string };
}

function policyRow(r: Row): PolicyVersionRecord {
  return { policyVersion: r.policy_version as string, files: typeof r.files === 'string' ? JSON.parse(r.files) : (r.files as Record<string, string>), effectiveAt: r.effective_at as string, publishedAt: r.published_at as string, publishedBy: r.published_by as string };
}

function decisionRow(r: Row): DecisionRecord {
  const d: DecisionRecord = {
    id: r.id as string, customer: r.customer as string, messageId: r.message_id as string, channel: r.channel as string,
    action: r.action as string, score: Number(r.score), policyVersion: r.policy_version as string,
    reasons: typeof r.reasons === 'string' ? JSON.parse(r.reasons) : (r.reasons as unknown[]),
    to: r.recipient as string, from: r.sender as string, body: (r.body as string | null) ?? null, at: r.at as string,
  };
  const endUser = opt<string>(r.end_user);
  if (endUser !== undefined) d.endUser = endUser;
  return d;
}

function heldRow(r: Row): HeldItem {
  const json = <T>(v: unknown): T => (typeof v === 'string' ? JSON.parse(v) : v) as T;
  const h: HeldItem = {
    sid: r.sid as string, kind: r.kind as HeldItem['kind'], customer: r.customer as string, accountSid: r.account_sid as string,
    fields: json<HeldItem['fields']>(r.fields), raw: r.raw as string, decision: json<HeldItem['decision']>(r.decision),
    heldAt: r.held_at as string, state: r.state as HeldState,
  };
  const optional: Array<[keyof HeldItem, unknown]> = [
    ['endUser', r.end_user], ['statusCallback', r.status_callback], ['claimedAt', r.claimed_at], ['claimedBy', r.claimed_by],
    ['settledAt', r.settled_at], ['settledBy', r.settled_by], ['upstreamSid', r.upstream_sid],
  ];
  for (const [k, v] of optional) if (v !== null && v !== undefined) (h as unknown as Record<string, unknown>)[k] = v;
  if (r.upstream_status !== null && r.upstream_status !== undefined) h.upstreamStatus = Number(r.upstream_status);
  if (r.error_code !== null && r.error_code !== undefined) h.errorCode = Number(r.error_code);
  if (r.callback_state !== null && r.callback_state !== undefined) {
    const cb: HeldCallback = { state: r.callback_state as CallbackState, attempts: Number(r.callback_attempts) };
    if (cb.state === 'pending' && r.callback_next_at !== null && r.callback_next_at !== undefined) cb.nextAt = r.callback_next_at as string;
    if (r.callback_error !== null && r.callback_error !== undefined) cb.lastError = r.callback_error as string;
    h.callback = cb;
  }
  return h;
}

/** A pending callback row as taken for an attempt. */
export function dueCallbackRow(r: Row): DueCallback {
  const d: DueCallback = {
    sid: r.sid as string, customer: r.customer as string, url: r.status_callback as string,
    body: r.callback_body as string, attempts: Number(r.callback_attempts),
  };
  if (r.callback_signature !== null && r.callback_signature !== undefined) d.signature = r.callback_signature as string;
  return d;
}

/** The callback columns a settlement sets: state, body, signature, attempts, next_at. */
export function callbackColumns(cb: CallbackPost | undefined): [string | null, string | null, string | null, number, string | null] {
  return cb === undefined ? [null, null, null, 0, null] : ['pending', cb.body, cb.signature ?? null, 1, isoTime(cb.leaseUntil)];
}

/** The recipient a held item is indexed by (erasure of one number finds it). */
export function heldRecipient(item: HeldItemInput): string {
  const to = item.fields.To;
  return (Array.isArray(to) ? to[0] : to) ?? '';
}

export const UNSETTLED: HeldState[] = ['held', 'releasing'];
export const REVIEW_LIST_MAX = 10_000;
/** The callback columns a settlement sets, in callbackColumns() order (PostgreSQL numbers its own). */
const CALLBACK_SET = 'callback_state = ?, callback_body = ?, callback_signature = ?, callback_attempts = ?, callback_next_at = ?';
/** An ended callback sent again: pending, attempts counted afresh (each backend sets callback_next_at). */
export const CALLBACK_REQUEUE = "callback_state = 'pending', callback_attempts = 0";
export const CALLBACK_ENDED = "callback_state IN ('given_up', 'refused')";
/** Retention keeps a settled item whose status callback is still owed. */
export const NO_PENDING_CALLBACK = "(callback_state IS NULL OR callback_state <> 'pending')";

const isoTime = (at: string): string => {
  const t = Date.parse(at);
  if (Number.isNaN(t)) throw new Error(`invalid instant "${at}"`);
  return new Date(t).toISOString();
};

export { consentRow, enforcementRow, auditRow, reportRow, policyRow, decisionRow, heldRow, isoTime };

export class SqliteStores {
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
  private readonly writer: GroupCommit<() => unknown, { ok: unknown } | { err: unknown }>;
  private readonly decisionWriter: DecisionWriter;
  private readonly decisionQueue: GroupCommit<DecisionRecord, { ok: unknown } | { err: unknown }>;
  private closed = false;

  constructor(readonly db: DB, opts: { decisionThread?: boolean } = {}) {
    migrateSqlite(db);
    // One transaction (one fsync) per batch; each op in its own savepoint, so a failing op is
    // rolled back and reported alone while the rest of the batch commits. BEGIN IMMEDIATE: the
    // write lock is taken before the first read, so the read-then-write ops (the audit chain reads
    // its last entry, revocation reads the credential, erasure reads the latest consent) cannot
    // interleave with another process's commit (`warden serve --workers N` shares this file);
    // a busy lock is waited for (busy_timeout) instead of failing with SQLITE_BUSY_SNAPSHOT.
    const tx = db.transaction((ops: Array<() => unknown>) => ops.map((op) => {
      try {
        return { ok: db.transaction(op)() };
      } catch (err) {
        return { err };
      }
    }));
    this.writer = new GroupCommit((ops) => tx.immediate(ops), { maxBatch: 2000 });
    const write = async <T>(op: () => T): Promise<T> => {
      if (this.closed) throw new Error('store closed');
      const r = await this.writer.submit(op);
      if ('err' in r) throw r.err;
      return r.ok as T;
    };

    const q = {
      consentInsert: db.prepare('INSERT INTO consent_events (customer, recipient, kind, source, evidence, at) VALUES (?, ?, ?, ?, ?, ?)'),
      consentSince: db.prepare('SELECT * FROM consent_events WHERE seq > ? ORDER BY seq LIMIT ?'),
      consentHistory: db.prepare('SELECT * FROM consent_events WHERE customer = ? AND recipient = ? ORDER BY seq'),
      enfInsert: db.prepare('INSERT INTO enforcement_events (customer, end_user, action, clause, reason, actor, at) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      enfSince: db.prepare('SELECT * FROM enforcement_events WHERE seq > ? ORDER BY seq LIMIT ?'),
      enfHistory: db.prepare('SELECT * FROM enforcement_events WHERE customer = ? ORDER BY seq'),
      auditLast: db.prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1'),
      auditInsert: db.prepare('INSERT INTO audit_log (seq, actor, action, subject, detail, at, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      auditList: db.prepare('SELECT * FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?'),
      policyInsert: db.prepare('INSERT INTO policy_versions (policy_version, files, effective_at, published_at, published_by) VALUES (?, ?, ?, ?, ?)'),
      policyList: db.prepare('SELECT * FROM policy_versions ORDER BY effective_at, published_at'),
      reportInsert: db.prepare('INSERT INTO report_events (report_id, customer, kind, detail, actor, at) VALUES (?, ?, ?, ?, ?, ?)'),
      reportByReport: db.prepare('SELECT * FROM report_events WHERE report_id = ? ORDER BY seq'),
      reportByCustomer: db.prepare('SELECT * FROM report_events WHERE customer = ? ORDER BY seq'),
      customerUpsert: db.prepare('INSERT INTO customers (id, account_sid, doc) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET account_sid = excluded.account_sid, doc = excluded.doc'),
      customerGet: db.prepare('SELECT doc FROM customers WHERE id = ?'),
      customerBySid: db.prepare('SELECT doc FROM customers WHERE account_sid = ?'),
      customerList: db.prepare('SELECT doc FROM customers ORDER BY id'),
      credInsert: db.prepare('INSERT INTO credentials (id, customer, doc) VALUES (?, ?, ?)'),
      credGet: db.prepare('SELECT doc FROM credentials WHERE id = ?'),
      credUpdate: db.prepare('UPDATE credentials SET doc = ? WHERE id = ?'),
      decisionGet: db.prepare('SELECT * FROM decisions WHERE customer = ? AND id = ?'),
      decisionList: db.prepare('SELECT * FROM decisions WHERE customer = ? AND at < ? ORDER BY at DESC, id DESC LIMIT ?'),
      purgeBodies: db.prepare('UPDATE decisions SET body = NULL WHERE customer = ? AND at < ? AND body IS NOT NULL'),
      purgeDecisions: db.prepare('DELETE FROM decisions WHERE customer = ? AND at < ?'),
    };

    this.consent = {
      append: (e: ConsentEventInput) => write(() => {
        const at = isoTime(e.at);
        const r = q.consentInsert.run(e.customer, e.recipient, e.kind, e.source, e.evidence ?? null, at);
        return { ...e, at, seq: Number(r.lastInsertRowid) };
      }),
      since: async (after, limit = 10_000) => (q.consentSince.all(after, limit) as Row[]).map(consentRow),
      history: async (customer, recipient) => (q.consentHistory.all(customer, recipient) as Row[]).map(consentRow),
    };

    this.enforcement = {
      append: (e: EnforcementEventInput) => write(() => {
        const at = isoTime(e.at);
        const r = q.enfInsert.run(e.customer, e.endUser ?? null, e.action, e.clause ?? null, e.reason, e.actor, at);
        return { ...e, at, seq: Number(r.lastInsertRowid) };
      }),
      since: async (after, limit = 10_000) => (q.enfSince.all(after, limit) as Row[]).map(enforcementRow),
      history: async (customer) => (q.enfHistory.all(customer) as Row[]).map(enforcementRow),
    };

    // Inside a write: appends one audit entry to the chain in the caller's transaction.
    const auditInTx = (input: AuditEntryInput): AuditEntry => {
      const last = q.auditLast.get() as { seq: number; hash: string } | undefined;
      const [entry] = chain(last?.seq ?? 0, last?.hash ?? GENESIS_HASH, [{ ...input, at: isoTime(input.at) }]);
      q.auditInsert.run(entry.seq, entry.actor, entry.action, entry.subject, entry.detail === undefined ? null : JSON.stringify(entry.detail), entry.at, entry.prevHash, entry.hash);
      return entry;
    };
    this.audit = {
      append: (input: AuditEntryInput) => write(() => auditInTx(input)),
      list: async (after, limit) => (q.auditList.all(after, limit) as Row[]).map(auditRow),
      verify: () => verifyPaged((after) => (q.auditList.all(after, 5000) as Row[]).map(auditRow)),
    };

    this.policies = {
      publish: (p) => write(() => { q.policyInsert.run(p.policyVersion, JSON.stringify(p.files), isoTime(p.effectiveAt), isoTime(p.publishedAt), p.publishedBy); }),
      list: async () => (q.policyList.all() as Row[]).map(policyRow),
    };

    this.reports = {
      append: (e: ReportEventInput) => write(() => {
        const at = isoTime(e.at);
        const r = q.reportInsert.run(e.reportId, e.customer, e.kind, JSON.stringify(e.detail), e.actor, at);
        return { ...e, at, seq: Number(r.lastInsertRowid) };
      }),
      byReport: async (id) => (q.reportByReport.all(id) as Row[]).map(reportRow),
      byCustomer: async (c) => (q.reportByCustomer.all(c) as Row[]).map(reportRow),
    };

    const doc = <T>(r: unknown): T | null => (r === undefined ? null : (JSON.parse((r as { doc: string }).doc) as T));
    this.tenancy = {
      upsertCustomer: (c: CustomerRecord) => write(() => { q.customerUpsert.run(c.id, c.accountSid, JSON.stringify(c)); }),
      getCustomer: async (id) => doc<CustomerRecord>(q.customerGet.get(id)),
      customerByAccountSid: async (sid) => doc<CustomerRecord>(q.customerBySid.get(sid)),
      listCustomers: async () => (q.customerList.all() as Array<{ doc: string }>).map((r) => JSON.parse(r.doc) as CustomerRecord),
      addCredential: (c: CredentialRecord) => write(() => { q.credInsert.run(c.id, c.customer, JSON.stringify(c)); }),
      getCredential: async (id) => doc<CredentialRecord>(q.credGet.get(id)),
      revokeCredential: (id, at) => write(() => {
        const c = doc<CredentialRecord>(q.credGet.get(id));
        if (c === null) throw new Error(`no credential ${id}`);
        q.credUpdate.run(JSON.stringify({ ...c, revokedAt: isoTime(at) }), id);
      }),
    };

    // Decisions are the log of what happened, written at the rate messages arrive; they gate no
    // send (consent and enforcement do). They go through their own connection with
    // synchronous=NORMAL on a worker thread (decision-writer.ts): in WAL mode a commit survives a
    // crash of the process (kill -9) but may be lost with the machine's power, commits do not wait
    // for a disk sync, and the inserts do not take the request thread's CPU.
    this.decisionWriter = new DecisionWriter(db.name, opts.decisionThread === false ? { thread: false } : {});
    this.decisionQueue = new GroupCommit<DecisionRecord, { ok: unknown } | { err: unknown }>(async (ds: DecisionRecord[]) =>
      (await this.decisionWriter.write(ds)).map((e) => (e === null ? { ok: undefined } : { err: new Error(e) })), { maxBatch: 5000 });

    this.decisions = {
      record: async (d: DecisionRecord) => {
        if (this.closed) throw new Error('store closed');
        const r = await this.decisionQueue.submit(d);
        if ('err' in r) throw r.err;
      },
      recordMany: async (ds: DecisionRecord[]) => {
        if (this.closed) throw new Error('store closed');
        return (await this.decisionWriter.write(ds)).map((e) => (e === null ? null : new Error(e)));
      },
      get: async (customer, id) => {
        const r = q.decisionGet.get(customer, id) as Row | undefined;
        return r === undefined ? null : decisionRow(r);
      },
      list: async (customer, limit, before) => (q.decisionList.all(customer, before !== undefined ? isoTime(before) : '9999', limit) as Row[]).map(decisionRow),
      purgeBodies: (customer, olderThan) => write(() => q.purgeBodies.run(customer, isoTime(olderThan)).changes),
      purgeDecisions: (customer, olderThan) => write(() => q.purgeDecisions.run(customer, isoTime(olderThan)).changes),
    };

    ({ messages: this.messages, scheduler: this.scheduler } = sqliteMessageStores(db, write, isoTime));

    // The review queue gates what reaches the upstream: every change goes through the durable
    // writer (synchronous=FULL, group commit) and is acknowledged after commit. The claim is one
    // UPDATE ... WHERE state = 'held' RETURNING, so only one caller ever gets the row.
    const r = {
      insert: db.prepare(`INSERT INTO review_queue (sid, kind, customer, end_user, account_sid, recipient, fields, raw, decision, status_callback, held_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`),
      get: db.prepare('SELECT * FROM review_queue WHERE sid = ?'),
      claim: db.prepare("UPDATE review_queue SET state = 'releasing', claimed_at = ?, claimed_by = ? WHERE sid = ? AND state = 'held' RETURNING *"),
      released: db.prepare(`UPDATE review_queue SET state = 'released', settled_at = ?, settled_by = ?, upstream_status = ?, upstream_sid = ?, error_code = ?,
        ${CALLBACK_SET} WHERE sid = ? AND state = 'releasing' RETURNING *`),
      unclaim: db.prepare("UPDATE review_queue SET state = 'held', claimed_at = NULL, claimed_by = NULL WHERE sid = ? AND state = 'releasing'"),
      refuse: db.prepare(`UPDATE review_queue SET state = 'refused', settled_at = ?, settled_by = ?, error_code = ?, ${CALLBACK_SET} WHERE sid = ? AND state = 'held' RETURNING *`),
      purge: db.prepare(`DELETE FROM review_queue WHERE customer = ? AND state IN ('released', 'refused') AND settled_at < ? AND ${NO_PENDING_CALLBACK}`),
      anyDue: db.prepare("SELECT 1 FROM review_queue WHERE callback_state = 'pending' AND callback_next_at <= ? LIMIT 1"),
      takeDue: db.prepare(`UPDATE review_queue SET callback_attempts = callback_attempts + 1, callback_next_at = ?
        WHERE sid IN (SELECT sid FROM review_queue WHERE callback_state = 'pending' AND callback_next_at <= ? ORDER BY callback_next_at LIMIT ?)
        RETURNING sid, customer, status_callback, callback_body, callback_signature, callback_attempts`),
      attempted: db.prepare(`UPDATE review_queue SET callback_state = ?, callback_next_at = ?, callback_error = coalesce(?, callback_error)
        WHERE sid = ? AND callback_state = 'pending'`),
      requeue: db.prepare(`UPDATE review_queue SET ${CALLBACK_REQUEUE}, callback_next_at = ? WHERE sid = ? AND ${CALLBACK_ENDED} RETURNING *`),
    };
    const settledAudit = (h: HeldItem, action: string): void => {
      const detail: Record<string, unknown> = { customer: h.customer, kind: h.kind, decision: h.decision.id };
      if (h.upstreamStatus !== undefined) detail.upstreamStatus = h.upstreamStatus;
      if (h.upstreamSid !== undefined) detail.upstreamSid = h.upstreamSid;
      if (h.errorCode !== undefined) detail.errorCode = h.errorCode;
      auditInTx({ actor: h.settledBy ?? 'unknown', action, subject: `held:${h.sid}`, detail, at: h.settledAt ?? new Date().toISOString() });
    };
    this.review = {
      hold: (h: HeldItemInput) => write(() => heldRow(r.insert.get(h.sid, h.kind, h.customer, h.endUser ?? null, h.accountSid, heldRecipient(h),
        JSON.stringify(h.fields), h.raw, JSON.stringify(h.decision), h.statusCallback ?? null, isoTime(h.heldAt)) as Row)),
      get: async (sid, customer) => {
        const row = r.get.get(sid) as Row | undefined;
        if (row === undefined || (customer !== undefined && row.customer !== customer)) return null;
        return heldRow(row);
      },
      list: async (query: HeldQuery = {}) => {
        const states = query.states ?? UNSETTLED;
        const limit = Math.min(Math.max(1, query.limit ?? 1000), REVIEW_LIST_MAX);
        if (states.length === 0) return [];
        const args: unknown[] = [...states];
        let sql = `SELECT * FROM review_queue WHERE state IN (${states.map(() => '?').join(', ')})`;
        if (query.customer !== undefined) { sql += ' AND customer = ?'; args.push(query.customer); }
        return (db.prepare(`${sql} ORDER BY held_at, sid LIMIT ?`).all(...args, limit) as Row[]).map(heldRow);
      },
      claim: (sid, by, at) => write(() => {
        const row = r.claim.get(isoTime(at), by, sid) as Row | undefined;
        return row === undefined ? null : heldRow(row);
      }),
      released: (sid, o) => write(() => {
        const row = r.released.get(isoTime(o.at), o.by, o.upstreamStatus, o.upstreamSid ?? null, o.errorCode ?? null, ...callbackColumns(o.callback), sid) as Row | undefined;
        if (row === undefined) throw new Error(`held item ${sid} is not being released`);
        const h = heldRow(row);
        settledAudit(h, 'review.release');
        return h;
      }),
      unclaim: (sid) => write(() => { r.unclaim.run(sid); }),
      refuse: (sid, by, at, errorCode, callback) => write(() => {
        const row = r.refuse.get(isoTime(at), by, errorCode, ...callbackColumns(callback), sid) as Row | undefined;
        if (row === undefined) return null;
        const h = heldRow(row);
        settledAudit(h, 'review.refuse');
        return h;
      }),
      purgeSettled: (customer, olderThan) => write(() => r.purge.run(customer, isoTime(olderThan)).changes),
      takeDueCallbacks: async (now, leaseUntil, limit) => {
        // Every node polls; a read finds out whether there is anything to take without queueing a
        // write behind the durable writer (most polls find nothing).
        if (r.anyDue.get(isoTime(now)) === undefined) return [];
        return write(() => (r.takeDue.all(isoTime(leaseUntil), isoTime(now), limit) as Row[]).map(dueCallbackRow));
      },
      callbackAttempted: (sid, o) => write(() => {
        r.attempted.run(o.state, o.state === 'pending' && o.nextAt !== undefined ? isoTime(o.nextAt) : null, o.lastError ?? null, sid);
      }),
      requeueCallback: (sid, by, at) => write(() => {
        const row = r.requeue.get(isoTime(at), sid) as Row | undefined;
        if (row === undefined) return null;
        const h = heldRow(row);
        auditInTx({ actor: by, action: 'review.callback-requeue', subject: `held:${sid}`, detail: { customer: h.customer }, at: isoTime(at) });
        return h;
      }),
    };

    const ev = {
      claim: db.prepare('INSERT INTO webhook_events (customer, event_id, seen_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING'),
      release: db.prepare('DELETE FROM webhook_events WHERE customer = ? AND event_id = ?'),
      purge: db.prepare('DELETE FROM webhook_events WHERE seen_at < ?'),
    };
    this.webhookEvents = {
      claim: (customer, id, at) => write(() => ev.claim.run(customer, id, isoTime(at)).changes === 1),
      release: (customer, id) => write(() => { ev.release.run(customer, id); }),
      purge: (olderThan) => write(() => ev.purge.run(isoTime(olderThan)).changes),
    };

    this.data = { export: (s) => this.exportSubject(s), erase: (s, actor) => write(() => this.eraseSubject(s, actor)) };
  }

  /** Meta values (e.g. the generated recipient key), created once. */
  metaGetOrSet(key: string, make: () => string): string {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    if (row !== undefined) return row.value;
    this.db.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)').run(key, make());
    return (this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string }).value;
  }

  recipientSecret = '';

  private where(s: DataSubject, recipientColumn: string): { sql: string; args: unknown[] } {
    const parts: string[] = [];
    const args: unknown[] = [];
    if (s.customer !== undefined) { parts.push('customer = ?'); args.push(s.customer); }
    if (s.recipient !== undefined) {
      const forms = recipientForms(this.recipientSecret, s.recipient);
      parts.push(`${recipientColumn} IN (${forms.map(() => '?').join(', ')})`);
      args.push(...forms);
    }
    if (parts.length === 0) throw new Error('a data subject needs a customer or a recipient');
    return { sql: parts.join(' AND '), args };
  }

  private async exportSubject(s: DataSubject): Promise<DataExport> {
    const db = this.db;
    const c = this.where(s, 'recipient');
    const out: DataExport = {
      subject: s, generatedAt: new Date().toISOString(), customer: null, credentials: [],
      consent: (db.prepare(`SELECT * FROM consent_events WHERE ${c.sql} ORDER BY seq`).all(...c.args) as Row[]).map(consentRow),
      enforcement: [], reports: [],
      decisions: (db.prepare(`SELECT * FROM decisions WHERE ${c.sql} ORDER BY at`).all(...c.args) as Row[]).map(decisionRow),
      held: (db.prepare(`SELECT * FROM review_queue WHERE ${c.sql} ORDER BY held_at, sid`).all(...c.args) as Row[]).map(heldRow),
    };
    if (s.recipient === undefined && s.customer !== undefined) {
      const cust = db.prepare('SELECT doc FROM customers WHERE id = ?').get(s.customer) as { doc: string } | undefined;
      out.customer = cust === undefined ? null : (JSON.parse(cust.doc) as CustomerRecord);
      out.credentials = (db.prepare('SELECT doc FROM credentials WHERE customer = ? ORDER BY id').all(s.customer) as Array<{ doc: string }>)
        .map((r) => { const { secretHash: _s, secretSealed: _x, ...rest } = JSON.parse(r.doc) as CredentialRecord; return rest; });
      out.enforcement = (db.prepare('SELECT * FROM enforcement_events WHERE customer = ? ORDER BY seq').all(s.customer) as Row[]).map(enforcementRow);
      out.reports = (db.prepare('SELECT * FROM report_events WHERE customer = ? ORDER BY seq').all(s.customer) as Row[]).map(reportRow);
    } else if (s.recipient !== undefined) {
      const forms = recipientForms(this.recipientSecret, s.recipient);
      const like = forms.map(() => 'detail LIKE ?').join(' OR ');
      const cust = s.customer !== undefined ? ' AND customer = ?' : '';
      out.reports = (db.prepare(`SELECT * FROM report_events WHERE (${like})${cust} ORDER BY seq`).all(...forms.map((f) => `%${f}%`), ...(s.customer !== undefined ? [s.customer] : [])) as Row[]).map(reportRow);
    }
    return out;
  }

  private eraseSubject(s: DataSubject, actor: string): ErasureReport {
    const db = this.db;
    const deleted: Record<string, number> = {};
    let suppressionsKept = 0;
    const at = new Date().toISOString();
    if (s.recipient !== undefined) {
      const c = this.where(s, 'recipient');
      // Customers for whom this number is currently opted out keep a hashed suppression entry. The
      // current state is the latest event by instant (to the second), then seq, as the projection orders them.
      const latest = db.prepare(`SELECT customer, kind FROM (SELECT customer, kind, row_number() OVER (PARTITION BY customer ORDER BY substr(at, 1, 19) DESC, seq DESC) AS n
        FROM consent_events WHERE ${c.sql}) WHERE n = 1`).all(...c.args) as Array<{ customer: string; kind: string }>;
      deleted.consent = db.prepare(`DELETE FROM consent_events WHERE ${c.sql}`).run(...c.args).changes;
      deleted.decisions = db.prepare(`DELETE FROM decisions WHERE ${c.sql}`).run(...c.args).changes;
      deleted.held = db.prepare(`DELETE FROM review_queue WHERE ${c.sql}`).run(...c.args).changes;
      deleted.scheduled = db.prepare(`DELETE FROM scheduled_jobs WHERE id IN (SELECT sid FROM message_map WHERE ${c.sql})`).run(...c.args).changes;
      deleted.messages = db.prepare(`DELETE FROM message_map WHERE ${c.sql}`).run(...c.args).changes;
      const hashed = hashRecipient(this.recipientSecret, s.recipient);
      for (const l of latest) {
        if (l.kind !== 'opt-out') continue;
        db.prepare('INSERT INTO consent_events (customer, recipient, kind, source, evidence, at) VALUES (?, ?, ?, ?, ?, ?)')
          .run(l.customer, hashed, 'opt-out', 'admin', 'kept as a keyed-hash suppression entry after erasure', at);
        suppressionsKept++;
      }
      const forms = recipientForms(this.recipientSecret, s.recipient).filter((f) => f !== hashed);
      let redacted = 0;
      for (const f of forms) {
        redacted += db.prepare(`UPDATE report_events SET detail = replace(detail, ?, ?) WHERE detail LIKE ?${s.customer !== undefined ? ' AND customer = ?' : ''}`)
          .run(f, hashed, `%${f}%`, ...(s.customer !== undefined ? [s.customer] : [])).changes;
      }
      deleted.reportsRedacted = redacted;
    } else if (s.customer !== undefined) {
      const id = s.customer;
      for (const [name, table] of [['consent', 'consent_events'], ['enforcement', 'enforcement_events'], ['reports', 'report_events'], ['decisions', 'decisions'], ['held', 'review_queue'], ['credentials', 'credentials'], ['webhookEvents', 'webhook_events'], ...MESSAGE_TABLES] as const) {
        deleted[name] = db.prepare(`DELETE FROM ${table} WHERE customer = ?`).run(id).changes;
      }
      deleted.customer = db.prepare('DELETE FROM customers WHERE id = ?').run(id).changes;
    } else {
      throw new Error('a data subject needs a customer or a recipient');
    }
    // The erasure itself is audited, without the erased number.
    const last = db.prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined;
    const subject = s.recipient !== undefined ? `recipient:${hashRecipient(this.recipientSecret, s.recipient)}` : `customer:${s.customer}`;
    const [entry] = chain(last?.seq ?? 0, last?.hash ?? GENESIS_HASH, [{ actor, action: 'data.erase', subject, detail: { customer: s.customer ?? null, deleted, suppressionsKept }, at }]);
    db.prepare('INSERT INTO audit_log (seq, actor, action, subject, detail, at, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(entry.seq, entry.actor, entry.action, entry.subject, JSON.stringify(entry.detail), entry.at, entry.prevHash, entry.hash);
    return { subject: s.recipient !== undefined ? { ...s, recipient: hashRecipient(this.recipientSecret, s.recipient) } : s, deleted, suppressionsKept };
  }

  async close(): Promise<void> {
    await this.writer.drain();
    await this.decisionQueue.drain();
    this.closed = true;
    await this.decisionWriter.close();
    if (this.db.open) this.db.close();
  }
}
