// The message map and the durable scheduler in PostgreSQL. Each compare-and-set is one
// UPDATE ... WHERE ... RETURNING; nodes taking due jobs at once skip each other's rows (SKIP LOCKED).

import type pg from 'pg';
import { BY_UPSTREAM_MAX, jobRow, mappedMessageRow, mappedRecipient } from '../rows/messages.js';
import { isoTime, type Row } from '../rows/shared.js';
import type { MappedMessageInput, MessageMapStore, SchedulerStore } from '../types.js';

export function postgresMessageStores(pool: pg.Pool): { messages: MessageMapStore; scheduler: SchedulerStore } {
  const all = async (sql: string, args: unknown[]) => (await pool.query(sql, args)).rows as Row[];
  const one = async (sql: string, args: unknown[]) => (await all(sql, args))[0];
  const messages: MessageMapStore = {
    put: async (x: MappedMessageInput) =>
      mappedMessageRow(
        (await one(
          `INSERT INTO message_map (sid, customer, account_sid, kind, origin, upstream_sid, status_callback,
        created_at, updated_at, status, error_code, send_at, fields, recipient) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10, $11, $12, $13) RETURNING *`,
          [
            x.sid,
            x.customer,
            x.accountSid,
            x.kind,
            x.origin,
            x.upstreamSid ?? null,
            x.statusCallback ?? null,
            isoTime(x.createdAt),
            x.status,
            x.errorCode ?? null,
            x.sendAt !== undefined ? isoTime(x.sendAt) : null,
            JSON.stringify(x.fields),
            mappedRecipient(x),
          ],
        )) as Row,
      ),
    get: async (sid, customer) => {
      const r = await one('SELECT * FROM message_map WHERE sid = $1 AND ($2::text IS NULL OR customer = $2)', [sid, customer ?? null]);
      return r === undefined ? null : mappedMessageRow(r);
    },
    byUpstream: async (customer, sids) => {
      const list = sids.slice(0, BY_UPSTREAM_MAX);
      if (list.length === 0) return [];
      return (await all('SELECT * FROM message_map WHERE customer = $1 AND upstream_sid = ANY($2::text[])', [customer, list])).map(
        mappedMessageRow,
      );
    },
    transition: async (sid, from, p) => {
      const r = await one(
        `UPDATE message_map SET status = $1, upstream_sid = coalesce($2, upstream_sid), error_code = coalesce($3, error_code), updated_at = $4
        WHERE sid = $5 AND ($6::text[] IS NULL OR status = ANY($6::text[])) RETURNING *`,
        [p.status, p.upstreamSid ?? null, p.errorCode ?? null, isoTime(p.at), sid, from],
      );
      return r === undefined ? null : mappedMessageRow(r);
    },
    owned: async (customer, accountSid, limit) =>
      (
        await all(
          `SELECT * FROM message_map WHERE customer = $1 AND account_sid = $2 AND upstream_sid IS NULL
        AND origin <> 'forwarded' ORDER BY created_at DESC, sid DESC LIMIT $3`,
          [customer, accountSid, limit],
        )
      ).map(mappedMessageRow),
  };
  const scheduler: SchedulerStore = {
    schedule: async (x) => {
      await pool.query('INSERT INTO scheduled_jobs (id, topic, customer, due_at, payload) VALUES ($1, $2, $3, $4, $5)', [
        x.id,
        x.topic,
        x.customer,
        isoTime(x.dueAt),
        x.payload,
      ]);
    },
    cancel: async (id) =>
      ((await pool.query("UPDATE scheduled_jobs SET state = 'canceled' WHERE id = $1 AND state = 'pending'", [id])).rowCount ?? 0) === 1,
    takeDue: async (now, leaseUntil, limit) =>
      (
        await all(
          `UPDATE scheduled_jobs SET state = 'running', attempts = attempts + 1, lease_until = $1
        WHERE id IN (SELECT id FROM scheduled_jobs WHERE due_at <= $2 AND (state = 'pending' OR (state = 'running' AND lease_until < $2))
          ORDER BY due_at LIMIT $3 FOR UPDATE SKIP LOCKED) RETURNING *`,
          [isoTime(leaseUntil), isoTime(now), limit],
        )
      )
        .map(jobRow)
        .sort((a, b) => a.dueAt.localeCompare(b.dueAt)),
    complete: async (id) => {
      await pool.query("UPDATE scheduled_jobs SET state = 'done', lease_until = NULL WHERE id = $1 AND state = 'running'", [id]);
    },
    get: async (id) => {
      const r = await one('SELECT * FROM scheduled_jobs WHERE id = $1', [id]);
      return r === undefined ? null : jobRow(r);
    },
  };
  return { messages, scheduler };
}
