// The review queue in SQLite. It gates what reaches the upstream: every change goes through the
// durable writer (synchronous=FULL, group commit) and is acknowledged after commit. The claim is
// one UPDATE ... WHERE state = 'held' RETURNING, so only one caller ever gets the row; a
// settlement's audit entry is written in the settlement's transaction.

import type Database from 'better-sqlite3';
import {
  CALLBACK_COLUMNS,
  CALLBACK_ENDED,
  CALLBACK_REQUEUE,
  callbackColumns,
  dueCallbackRow,
  heldRecipient,
  heldRow,
  NO_PENDING_CALLBACK,
  REVIEW_LIST_MAX,
  settledAuditInput,
  UNSETTLED,
} from '../rows/review.js';
import { isoTime, type Row } from '../rows/shared.js';
import type { HeldItemInput, HeldQuery, ReviewStore } from '../types.js';
import type { AuditInTx } from './audit.js';
import type { Write } from './writer.js';

const CALLBACK_SET = CALLBACK_COLUMNS.map((c) => `${c} = ?`).join(', ');

function statements(db: Database.Database) {
  return {
    insert:
      db.prepare(`INSERT INTO review_queue (sid, kind, customer, end_user, account_sid, recipient, fields, raw, decision, status_callback, held_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`),
    get: db.prepare('SELECT * FROM review_queue WHERE sid = ?'),
    claim: db.prepare(
      "UPDATE review_queue SET state = 'releasing', claimed_at = ?, claimed_by = ? WHERE sid = ? AND state = 'held' RETURNING *",
    ),
    released:
      db.prepare(`UPDATE review_queue SET state = 'released', settled_at = ?, settled_by = ?, upstream_status = ?, upstream_sid = ?, error_code = ?,
      ${CALLBACK_SET} WHERE sid = ? AND state = 'releasing' RETURNING *`),
    unclaim: db.prepare(
      "UPDATE review_queue SET state = 'held', claimed_at = NULL, claimed_by = NULL WHERE sid = ? AND state = 'releasing'",
    ),
    refuse: db.prepare(
      `UPDATE review_queue SET state = 'refused', settled_at = ?, settled_by = ?, error_code = ?, ${CALLBACK_SET} WHERE sid = ? AND state = 'held' RETURNING *`,
    ),
    purge: db.prepare(
      `DELETE FROM review_queue WHERE customer = ? AND state IN ('released', 'refused') AND settled_at < ? AND ${NO_PENDING_CALLBACK}`,
    ),
    anyDue: db.prepare("SELECT 1 FROM review_queue WHERE callback_state = 'pending' AND callback_next_at <= ? LIMIT 1"),
    takeDue: db.prepare(`UPDATE review_queue SET callback_attempts = callback_attempts + 1, callback_next_at = ?
      WHERE sid IN (SELECT sid FROM review_queue WHERE callback_state = 'pending' AND callback_next_at <= ? ORDER BY callback_next_at LIMIT ?)
      RETURNING sid, customer, status_callback, callback_body, callback_signature, callback_attempts`),
    attempted: db.prepare(`UPDATE review_queue SET callback_state = ?, callback_next_at = ?, callback_error = coalesce(?, callback_error)
      WHERE sid = ? AND callback_state = 'pending'`),
    requeue: db.prepare(
      `UPDATE review_queue SET ${CALLBACK_REQUEUE}, callback_next_at = ? WHERE sid = ? AND ${CALLBACK_ENDED} RETURNING *`,
    ),
  };
}

export function sqliteReview(db: Database.Database, write: Write, auditInTx: AuditInTx): ReviewStore {
  const r = statements(db);
  return {
    hold: (h: HeldItemInput) =>
      write(() =>
        heldRow(
          r.insert.get(
            h.sid,
            h.kind,
            h.customer,
            h.endUser ?? null,
            h.accountSid,
            heldRecipient(h),
            JSON.stringify(h.fields),
            h.raw,
            JSON.stringify(h.decision),
            h.statusCallback ?? null,
            isoTime(h.heldAt),
          ) as Row,
        ),
      ),
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
      if (query.customer !== undefined) {
        sql += ' AND customer = ?';
        args.push(query.customer);
      }
      return (db.prepare(`${sql} ORDER BY held_at, sid LIMIT ?`).all(...args, limit) as Row[]).map(heldRow);
    },
    claim: (sid, by, at) =>
      write(() => {
        const row = r.claim.get(isoTime(at), by, sid) as Row | undefined;
        return row === undefined ? null : heldRow(row);
      }),
    released: (sid, o) =>
      write(() => {
        const row = r.released.get(
          isoTime(o.at),
          o.by,
          o.upstreamStatus,
          o.upstreamSid ?? null,
          o.errorCode ?? null,
          ...callbackColumns(o.callback),
          sid,
        ) as Row | undefined;
        if (row === undefined) throw new Error(`held item ${sid} is not being released`);
        const h = heldRow(row);
        auditInTx(settledAuditInput(h, 'review.release'));
        return h;
      }),
    unclaim: (sid) =>
      write(() => {
        r.unclaim.run(sid);
      }),
    refuse: (sid, by, at, errorCode, callback) =>
      write(() => {
        const row = r.refuse.get(isoTime(at), by, errorCode, ...callbackColumns(callback), sid) as Row | undefined;
        if (row === undefined) return null;
        const h = heldRow(row);
        auditInTx(settledAuditInput(h, 'review.refuse'));
        return h;
      }),
    purgeSettled: (customer, olderThan) => write(() => r.purge.run(customer, isoTime(olderThan)).changes),
    takeDueCallbacks: async (now, leaseUntil, limit) => {
      // Every node polls; a read finds out whether there is anything to take without queueing a
      // write behind the durable writer (most polls find nothing).
      if (r.anyDue.get(isoTime(now)) === undefined) return [];
      return write(() => (r.takeDue.all(isoTime(leaseUntil), isoTime(now), limit) as Row[]).map(dueCallbackRow));
    },
    callbackAttempted: (sid, o) =>
      write(() => {
        r.attempted.run(o.state, o.state === 'pending' && o.nextAt !== undefined ? isoTime(o.nextAt) : null, o.lastError ?? null, sid);
      }),
    requeueCallback: (sid, by, at) =>
      write(() => {
        const row = r.requeue.get(isoTime(at), sid) as Row | undefined;
        if (row === undefined) return null;
        const h = heldRow(row);
        auditInTx({
          actor: by,
          action: 'review.callback-requeue',
          subject: `held:${sid}`,
          detail: { customer: h.customer },
          at: isoTime(at),
        });
        return h;
      }),
  };
}
