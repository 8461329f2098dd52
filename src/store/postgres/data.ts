// Data subject requests in PostgreSQL: export everything about a customer or a recipient, and
// erase it (in one transaction, audited without the erased number). A recipient is matched in its
// plain and keyed-hash forms; the opt-outs of an erased number are kept under its keyed hash.

import type pg from 'pg';
import { consentRow } from '../rows/consent.js';
import { decisionRow } from '../rows/decisions.js';
import { enforcementRow } from '../rows/enforcement.js';
import { reportRow } from '../rows/reports.js';
import { heldRow } from '../rows/review.js';
import { CUSTOMER_TABLES, SUPPRESSION_EVIDENCE } from '../rows/shared.js';
import { hashRecipient, recipientForms } from '../recipient-key.js';
import type { CredentialRecord, CustomerRecord, DataExport, DataStore, DataSubject, ErasureReport } from '../types.js';
import { insertAudit } from './audit.js';
import { lock, nextSeq, type Client, type PgContext } from './context.js';

function where(secret: string, s: DataSubject, recipientColumn: string, first = 1): { sql: string; args: unknown[] } {
  const parts: string[] = [];
  const args: unknown[] = [];
  if (s.customer !== undefined) {
    args.push(s.customer);
    parts.push(`customer = $${first + args.length - 1}`);
  }
  if (s.recipient !== undefined) {
    args.push(recipientForms(secret, s.recipient));
    parts.push(`${recipientColumn} = ANY($${first + args.length - 1}::text[])`);
  }
  if (parts.length === 0) throw new Error('a data subject needs a customer or a recipient');
  return { sql: parts.join(' AND '), args };
}

async function exportSubject({ all: q }: PgContext, secret: string, s: DataSubject): Promise<DataExport> {
  const w = where(secret, s, 'recipient');
  const out: DataExport = {
    subject: s,
    generatedAt: new Date().toISOString(),
    customer: null,
    credentials: [],
    consent: (await q(`SELECT * FROM consent_events WHERE ${w.sql} ORDER BY seq`, w.args)).map(consentRow),
    enforcement: [],
    reports: [],
    decisions: (await q(`SELECT * FROM decisions WHERE ${w.sql} ORDER BY at`, w.args)).map(decisionRow),
    held: (await q(`SELECT * FROM review_queue WHERE ${w.sql} ORDER BY held_at, sid`, w.args)).map(heldRow),
  };
  if (s.recipient === undefined && s.customer !== undefined) {
    const cust = await q('SELECT doc FROM customers WHERE id = $1', [s.customer]);
    out.customer = cust.length === 0 ? null : (cust[0].doc as CustomerRecord);
    out.credentials = (await q('SELECT doc FROM credentials WHERE customer = $1 ORDER BY id', [s.customer])).map((r) => {
      const { secretHash: _s, secretSealed: _x, ...rest } = r.doc as CredentialRecord;
      return rest;
    });
    out.enforcement = (await q('SELECT * FROM enforcement_events WHERE customer = $1 ORDER BY seq', [s.customer])).map(enforcementRow);
    out.reports = (await q('SELECT * FROM report_events WHERE customer = $1 ORDER BY seq', [s.customer])).map(reportRow);
  } else if (s.recipient !== undefined) {
    const forms = recipientForms(secret, s.recipient).map((f) => `%${f}%`);
    const args: unknown[] = [forms];
    if (s.customer !== undefined) args.push(s.customer);
    out.reports = (
      await q(
        `SELECT * FROM report_events WHERE detail::text LIKE ANY($1::text[])${s.customer !== undefined ? ' AND customer = $2' : ''} ORDER BY seq`,
        args,
      )
    ).map(reportRow);
  }
  return out;
}

const count = (r: pg.QueryResult) => r.rowCount ?? 0;

/** Erases one number (within one customer if given); returns what was deleted and the suppressions kept. */
async function eraseRecipient(
  c: Client,
  secret: string,
  s: DataSubject & { recipient: string },
  at: string,
): Promise<{ deleted: Record<string, number>; suppressionsKept: number }> {
  const deleted: Record<string, number> = {};
  let suppressionsKept = 0;
  // Under the consent log's append lock: the suppression entries are numbered after the last seq.
  await lock(c, 'consent_events');
  const w = where(secret, s, 'recipient');
  const latest = (
    await c.query(
      `SELECT DISTINCT ON (customer) customer, kind FROM consent_events WHERE ${w.sql} ORDER BY customer, date_trunc('second', at) DESC, seq DESC`,
      w.args,
    )
  ).rows as Array<{ customer: string; kind: string }>;
  deleted.consent = count(await c.query(`DELETE FROM consent_events WHERE ${w.sql}`, w.args));
  deleted.decisions = count(await c.query(`DELETE FROM decisions WHERE ${w.sql}`, w.args));
  deleted.held = count(await c.query(`DELETE FROM review_queue WHERE ${w.sql}`, w.args));
  deleted.scheduled = count(await c.query(`DELETE FROM scheduled_jobs WHERE id IN (SELECT sid FROM message_map WHERE ${w.sql})`, w.args));
  deleted.messages = count(await c.query(`DELETE FROM message_map WHERE ${w.sql}`, w.args));
  const hashed = hashRecipient(secret, s.recipient);
  let seq = await nextSeq(c, 'consent_events');
  for (const l of latest) {
    if (l.kind !== 'opt-out') continue;
    await c.query('INSERT INTO consent_events (seq, customer, recipient, kind, source, evidence, at) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
      ++seq,
      l.customer,
      hashed,
      'opt-out',
      'admin',
      SUPPRESSION_EVIDENCE,
      at,
    ]);
    suppressionsKept++;
  }
  let redacted = 0;
  for (const f of recipientForms(secret, s.recipient).filter((x) => x !== hashed)) {
    const args: unknown[] = [f, hashed, `%${f}%`];
    if (s.customer !== undefined) args.push(s.customer);
    redacted += count(
      await c.query(
        `UPDATE report_events SET detail = replace(detail::text, $1, $2)::jsonb WHERE detail::text LIKE $3${s.customer !== undefined ? ' AND customer = $4' : ''}`,
        args,
      ),
    );
  }
  deleted.reportsRedacted = redacted;
  return { deleted, suppressionsKept };
}

async function eraseSubject(c: Client, secret: string, s: DataSubject, actor: string): Promise<ErasureReport> {
  const at = new Date().toISOString();
  let deleted: Record<string, number> = {};
  let suppressionsKept = 0;
  if (s.recipient !== undefined) {
    ({ deleted, suppressionsKept } = await eraseRecipient(c, secret, { ...s, recipient: s.recipient }, at));
  } else if (s.customer !== undefined) {
    for (const [name, table] of CUSTOMER_TABLES)
      deleted[name] = count(await c.query(`DELETE FROM ${table} WHERE customer = $1`, [s.customer]));
    deleted.customer = count(await c.query('DELETE FROM customers WHERE id = $1', [s.customer]));
  } else {
    throw new Error('a data subject needs a customer or a recipient');
  }
  // The erasure itself is audited, without the erased number.
  const subject = s.recipient !== undefined ? `recipient:${hashRecipient(secret, s.recipient)}` : `customer:${s.customer}`;
  await insertAudit(c, [{ actor, action: 'data.erase', subject, detail: { customer: s.customer ?? null, deleted, suppressionsKept }, at }]);
  return { subject: s.recipient !== undefined ? { ...s, recipient: hashRecipient(secret, s.recipient) } : s, deleted, suppressionsKept };
}

/** `recipientSecret` is read at each call: the store set is opened before the key is known. */
export function postgresData(ctx: PgContext, recipientSecret: () => string): DataStore {
  return {
    export: (s) => exportSubject(ctx, recipientSecret(), s),
    erase: (s, actor) => ctx.tx((c) => eraseSubject(c, recipientSecret(), s, actor)),
  };
}
