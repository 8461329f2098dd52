// The review queue in PostgreSQL: each change is one statement (or one transaction with its audit
// entry), acknowledged after COMMIT. The claim is UPDATE ... WHERE state = 'held' RETURNING: of two
// nodes claiming at once, the second waits for the first's row lock, re-checks the condition and
// gets no row, so an item is forwarded at most once.

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
import { insertAudit } from './audit.js';
import type { PgContext } from './context.js';

/** The callback columns a settlement sets, numbered from $first (values: callbackColumns()). */
const CALLBACK_SET = (first: number): string => CALLBACK_COLUMNS.map((c, i) => `${c} = $${first + i}`).join(', ');

// eslint-disable-next-line max-lines-per-function, limits/max-lines-per-function -- one store's statements and their transactions, each a few lines
export function postgresReview({ pool, tx, all }: PgContext): ReviewStore {
  return {
    hold: async (h: HeldItemInput) =>
      heldRow(
        (
          await pool.query(
            `INSERT INTO review_queue (sid, kind, customer, end_user, account_sid, recipient, fields, raw, decision, status_callback, held_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING *`,
            [
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
            ],
          )
        ).rows[0] as Row,
      ),
    get: async (sid, customer) => {
      const rows = await all('SELECT * FROM review_queue WHERE sid = $1 AND ($2::text IS NULL OR customer = $2)', [sid, customer ?? null]);
      return rows.length === 0 ? null : heldRow(rows[0]);
    },
    list: async (query: HeldQuery = {}) => {
      const limit = Math.min(Math.max(1, query.limit ?? 1000), REVIEW_LIST_MAX);
      return (
        await all(
          'SELECT * FROM review_queue WHERE state = ANY($1::text[]) AND ($2::text IS NULL OR customer = $2) ORDER BY held_at, sid LIMIT $3',
          [query.states ?? UNSETTLED, query.customer ?? null, limit],
        )
      ).map(heldRow);
    },
    claim: async (sid, by, at) => {
      const rows = await all(
        "UPDATE review_queue SET state = 'releasing', claimed_at = $1, claimed_by = $2 WHERE sid = $3 AND state = 'held' RETURNING *",
        [isoTime(at), by, sid],
      );
      return rows.length === 0 ? null : heldRow(rows[0]);
    },
    released: (sid, o) =>
      tx(async (c) => {
        const rows = (
          await c.query(
            `UPDATE review_queue SET state = 'released', settled_at = $1, settled_by = $2, upstream_status = $3, upstream_sid = $4, error_code = $5,
        ${CALLBACK_SET(6)} WHERE sid = $11 AND state = 'releasing' RETURNING *`,
            [isoTime(o.at), o.by, o.upstreamStatus, o.upstreamSid ?? null, o.errorCode ?? null, ...callbackColumns(o.callback), sid],
          )
        ).rows as Row[];
        if (rows.length === 0) throw new Error(`held item ${sid} is not being released`);
        const h = heldRow(rows[0]);
        await insertAudit(c, [settledAuditInput(h, 'review.release')]);
        return h;
      }),
    unclaim: async (sid) => {
      await pool.query(
        "UPDATE review_queue SET state = 'held', claimed_at = NULL, claimed_by = NULL WHERE sid = $1 AND state = 'releasing'",
        [sid],
      );
    },
    refuse: (sid, by, at, errorCode, callback) =>
      tx(async (c) => {
        const rows = (
          await c.query(
            `UPDATE review_queue SET state = 'refused', settled_at = $1, settled_by = $2, error_code = $3, ${CALLBACK_SET(4)} WHERE sid = $9 AND state = 'held' RETURNING *`,
            [isoTime(at), by, errorCode, ...callbackColumns(callback), sid],
          )
        ).rows as Row[];
        if (rows.length === 0) return null;
        const h = heldRow(rows[0]);
        await insertAudit(c, [settledAuditInput(h, 'review.refuse')]);
        return h;
      }),
    purgeSettled: async (customer, olderThan) =>
      (
        await pool.query(
          `DELETE FROM review_queue WHERE customer = $1 AND state IN ('released', 'refused') AND settled_at < $2 AND ${NO_PENDING_CALLBACK}`,
          [customer, isoTime(olderThan)],
        )
      ).rowCount ?? 0,
    // SKIP LOCKED: nodes polling at once take disjoint callbacks instead of queueing on each other's rows.
    takeDueCallbacks: async (now, leaseUntil, limit) =>
      (
        await all(
          `UPDATE review_queue SET callback_attempts = callback_attempts + 1, callback_next_at = $1
      WHERE sid IN (SELECT sid FROM review_queue WHERE callback_state = 'pending' AND callback_next_at <= $2 ORDER BY callback_next_at LIMIT $3 FOR UPDATE SKIP LOCKED)
      RETURNING sid, customer, status_callback, callback_body, callback_signature, callback_attempts`,
          [isoTime(leaseUntil), isoTime(now), limit],
        )
      ).map(dueCallbackRow),
    callbackAttempted: async (sid, o) => {
      await pool.query(
        `UPDATE review_queue SET callback_state = $1, callback_next_at = $2, callback_error = coalesce($3, callback_error)
        WHERE sid = $4 AND callback_state = 'pending'`,
        [o.state, o.state === 'pending' && o.nextAt !== undefined ? isoTime(o.nextAt) : null, o.lastError ?? null, sid],
      );
    },
    requeueCallback: (sid, by, at) =>
      tx(async (c) => {
        const rows = (
          await c.query(
            `UPDATE review_queue SET ${CALLBACK_REQUEUE}, callback_next_at = $1 WHERE sid = $2 AND ${CALLBACK_ENDED} RETURNING *`,
            [isoTime(at), sid],
          )
        ).rows as Row[];
        if (rows.length === 0) return null;
        const h = heldRow(rows[0]);
        await insertAudit(c, [
          { actor: by, action: 'review.callback-requeue', subject: `held:${sid}`, detail: { customer: h.customer }, at: isoTime(at) },
        ]);
        return h;
      }),
  };
}
