// Data subject requests in SQLite: export everything about a customer or a recipient, and erase
// it (in one write, audited without the erased number). A recipient is matched in its plain and
// keyed-hash forms; the opt-outs of an erased number are kept under its keyed hash.

import type Database from 'better-sqlite3';
import { consentRow } from '../rows/consent.js';
import { decisionRow } from '../rows/decisions.js';
import { enforcementRow } from '../rows/enforcement.js';
import { reportRow } from '../rows/reports.js';
import { heldRow } from '../rows/review.js';
import { CUSTOMER_TABLES, SUPPRESSION_EVIDENCE, type Row } from '../rows/shared.js';
import { hashRecipient, recipientForms } from '../recipient-key.js';
import type { CredentialRecord, CustomerRecord, DataExport, DataStore, DataSubject, ErasureReport } from '../types.js';
import type { AuditInTx } from './audit.js';
import type { Write } from './writer.js';

type DB = Database.Database;

function where(secret: string, s: DataSubject, recipientColumn: string): { sql: string; args: unknown[] } {
  const parts: string[] = [];
  const args: unknown[] = [];
  if (s.customer !== undefined) {
    parts.push('customer = ?');
    args.push(s.customer);
  }
  if (s.recipient !== undefined) {
    const forms = recipientForms(secret, s.recipient);
    parts.push(`${recipientColumn} IN (${forms.map(() => '?').join(', ')})`);
    args.push(...forms);
  }
  if (parts.length === 0) throw new Error('a data subject needs a customer or a recipient');
  return { sql: parts.join(' AND '), args };
}

function exportSubject(db: DB, secret: string, s: DataSubject): DataExport {
  const c = where(secret, s, 'recipient');
  const out: DataExport = {
    subject: s,
    generatedAt: new Date().toISOString(),
    customer: null,
    credentials: [],
    consent: (db.prepare(`SELECT * FROM consent_events WHERE ${c.sql} ORDER BY seq`).all(...c.args) as Row[]).map(consentRow),
    enforcement: [],
    reports: [],
    decisions: (db.prepare(`SELECT * FROM decisions WHERE ${c.sql} ORDER BY at`).all(...c.args) as Row[]).map(decisionRow),
    held: (db.prepare(`SELECT * FROM review_queue WHERE ${c.sql} ORDER BY held_at, sid`).all(...c.args) as Row[]).map(heldRow),
  };
  if (s.recipient === undefined && s.customer !== undefined) {
    const cust = db.prepare('SELECT doc FROM customers WHERE id = ?').get(s.customer) as { doc: string } | undefined;
    out.customer = cust === undefined ? null : (JSON.parse(cust.doc) as CustomerRecord);
    out.credentials = (
      db.prepare('SELECT doc FROM credentials WHERE customer = ? ORDER BY id').all(s.customer) as Array<{ doc: string }>
    ).map((r) => {
      const { secretHash: _s, secretSealed: _x, ...rest } = JSON.parse(r.doc) as CredentialRecord;
      return rest;
    });
    out.enforcement = (db.prepare('SELECT * FROM enforcement_events WHERE customer = ? ORDER BY seq').all(s.customer) as Row[]).map(
      enforcementRow,
    );
    out.reports = (db.prepare('SELECT * FROM report_events WHERE customer = ? ORDER BY seq').all(s.customer) as Row[]).map(reportRow);
  } else if (s.recipient !== undefined) {
    const forms = recipientForms(secret, s.recipient);
    const like = forms.map(() => 'detail LIKE ?').join(' OR ');
    const cust = s.customer !== undefined ? ' AND customer = ?' : '';
    out.reports = (
      db
        .prepare(`SELECT * FROM report_events WHERE (${like})${cust} ORDER BY seq`)
        .all(...forms.map((f) => `%${f}%`), ...(s.customer !== undefined ? [s.customer] : [])) as Row[]
    ).map(reportRow);
  }
  return out;
}

/** Erases one number (within one customer if given); returns what was deleted and the suppressions kept. */
function eraseRecipient(
  db: DB,
  secret: string,
  s: DataSubject & { recipient: string },
  at: string,
): { deleted: Record<string, number>; suppressionsKept: number } {
  const deleted: Record<string, number> = {};
  let suppressionsKept = 0;
  const c = where(secret, s, 'recipient');
  // Customers for whom this number is currently opted out keep a hashed suppression entry. The
  // current state is the latest event by instant (to the second), then seq, as the projection orders them.
  const latest = db
    .prepare(
      `SELECT customer, kind FROM (SELECT customer, kind, row_number() OVER (PARTITION BY customer ORDER BY substr(at, 1, 19) DESC, seq DESC) AS n
    FROM consent_events WHERE ${c.sql}) WHERE n = 1`,
    )
    .all(...c.args) as Array<{ customer: string; kind: string }>;
  deleted.consent = db.prepare(`DELETE FROM consent_events WHERE ${c.sql}`).run(...c.args).changes;
  deleted.decisions = db.prepare(`DELETE FROM decisions WHERE ${c.sql}`).run(...c.args).changes;
  deleted.held = db.prepare(`DELETE FROM review_queue WHERE ${c.sql}`).run(...c.args).changes;
  deleted.scheduled = db
    .prepare(`DELETE FROM scheduled_jobs WHERE id IN (SELECT sid FROM message_map WHERE ${c.sql})`)
    .run(...c.args).changes;
  deleted.messages = db.prepare(`DELETE FROM message_map WHERE ${c.sql}`).run(...c.args).changes;
  const hashed = hashRecipient(secret, s.recipient);
  for (const l of latest) {
    if (l.kind !== 'opt-out') continue;
    db.prepare('INSERT INTO consent_events (customer, recipient, kind, source, evidence, at) VALUES (?, ?, ?, ?, ?, ?)').run(
      l.customer,
      hashed,
      'opt-out',
      'admin',
      SUPPRESSION_EVIDENCE,
      at,
    );
    suppressionsKept++;
  }
  let redacted = 0;
  for (const f of recipientForms(secret, s.recipient).filter((x) => x !== hashed)) {
    redacted += db
      .prepare(
        `UPDATE report_events SET detail = replace(detail, ?, ?) WHERE detail LIKE ?${s.customer !== undefined ? ' AND customer = ?' : ''}`,
      )
      .run(f, hashed, `%${f}%`, ...(s.customer !== undefined ? [s.customer] : [])).changes;
  }
  deleted.reportsRedacted = redacted;
  return { deleted, suppressionsKept };
}

function eraseSubject(db: DB, secret: string, auditInTx: AuditInTx, s: DataSubject, actor: string): ErasureReport {
  const at = new Date().toISOString();
  let deleted: Record<string, number> = {};
  let suppressionsKept = 0;
  if (s.recipient !== undefined) {
    ({ deleted, suppressionsKept } = eraseRecipient(db, secret, { ...s, recipient: s.recipient }, at));
  } else if (s.customer !== undefined) {
    for (const [name, table] of CUSTOMER_TABLES)
      deleted[name] = db.prepare(`DELETE FROM ${table} WHERE customer = ?`).run(s.customer).changes;
    deleted.customer = db.prepare('DELETE FROM customers WHERE id = ?').run(s.customer).changes;
  } else {
    throw new Error('a data subject needs a customer or a recipient');
  }
  // The erasure itself is audited, without the erased number.
  const subject = s.recipient !== undefined ? `recipient:${hashRecipient(secret, s.recipient)}` : `customer:${s.customer}`;
  auditInTx({ actor, action: 'data.erase', subject, detail: { customer: s.customer ?? null, deleted, suppressionsKept }, at });
  return { subject: s.recipient !== undefined ? { ...s, recipient: hashRecipient(secret, s.recipient) } : s, deleted, suppressionsKept };
}

/** `recipientSecret` is read at each call: the store set is opened before the key is known. */
export function sqliteData(db: DB, write: Write, auditInTx: AuditInTx, recipientSecret: () => string): DataStore {
  return {
    export: async (s) => exportSubject(db, recipientSecret(), s),
    erase: (s, actor) => write(() => eraseSubject(db, recipientSecret(), auditInTx, s, actor)),
  };
}
