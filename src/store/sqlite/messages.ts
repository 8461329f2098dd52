// The message map and the durable scheduler in SQLite. Writes go through the store's group-commit
// writer (acknowledged after commit); each compare-and-set is one UPDATE ... WHERE ... RETURNING,
// so of two processes sharing the file only one wins it.

import type Database from 'better-sqlite3';
import { BY_UPSTREAM_MAX, jobRow, mappedMessageRow, mappedRecipient } from '../rows/messages.js';
import { isoTime, type Row } from '../rows/shared.js';
import type { MappedMessageInput, MessageMapStore, SchedulerStore } from '../types.js';
import type { Write } from './writer.js';

export function sqliteMessageStores(db: Database.Database, write: Write): { messages: MessageMapStore; scheduler: SchedulerStore } {
  const m = {
    insert:
      db.prepare(`INSERT INTO message_map (sid, customer, account_sid, kind, recipient, origin, upstream_sid, status_callback, created_at, updated_at, status, error_code, send_at, fields)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`),
    get: db.prepare('SELECT * FROM message_map WHERE sid = ?'),
    setAny:
      db.prepare(`UPDATE message_map SET status = ?, upstream_sid = coalesce(?, upstream_sid), error_code = coalesce(?, error_code), updated_at = ?
      WHERE sid = ? RETURNING *`),
    owned: db.prepare(`SELECT * FROM message_map WHERE customer = ? AND account_sid = ? AND upstream_sid IS NULL AND origin <> 'forwarded'
      ORDER BY created_at DESC, sid DESC LIMIT ?`),
  };
  const j = {
    insert: db.prepare('INSERT INTO scheduled_jobs (id, topic, customer, due_at, payload) VALUES (?, ?, ?, ?, ?)'),
    cancel: db.prepare("UPDATE scheduled_jobs SET state = 'canceled' WHERE id = ? AND state = 'pending'"),
    take: db.prepare(`UPDATE scheduled_jobs SET state = 'running', attempts = attempts + 1, lease_until = ?
      WHERE id IN (SELECT id FROM scheduled_jobs WHERE due_at <= ? AND (state = 'pending' OR (state = 'running' AND lease_until < ?)) ORDER BY due_at LIMIT ?)
      RETURNING *`),
    complete: db.prepare("UPDATE scheduled_jobs SET state = 'done', lease_until = NULL WHERE id = ? AND state = 'running'"),
    get: db.prepare('SELECT * FROM scheduled_jobs WHERE id = ?'),
  };
  const messages: MessageMapStore = {
    put: (x: MappedMessageInput) =>
      write(() =>
        mappedMessageRow(
          m.insert.get(
            x.sid,
            x.customer,
            x.accountSid,
            x.kind,
            mappedRecipient(x),
            x.origin,
            x.upstreamSid ?? null,
            x.statusCallback ?? null,
            isoTime(x.createdAt),
            isoTime(x.createdAt),
            x.status,
            x.errorCode ?? null,
            x.sendAt !== undefined ? isoTime(x.sendAt) : null,
            JSON.stringify(x.fields),
          ) as Row,
        ),
      ),
    get: async (sid, customer) => {
      const r = m.get.get(sid) as Row | undefined;
      return r === undefined || (customer !== undefined && r.customer !== customer) ? null : mappedMessageRow(r);
    },
    byUpstream: async (customer, sids) => {
      const list = sids.slice(0, BY_UPSTREAM_MAX);
      if (list.length === 0) return [];
      const rows = db
        .prepare(`SELECT * FROM message_map WHERE customer = ? AND upstream_sid IN (${list.map(() => '?').join(', ')})`)
        .all(customer, ...list) as Row[];
      return rows.map(mappedMessageRow);
    },
    transition: (sid, from, p) =>
      write(() => {
        const args = [p.status, p.upstreamSid ?? null, p.errorCode ?? null, isoTime(p.at), sid];
        const r =
          from === null
            ? (m.setAny.get(...args) as Row | undefined)
            : (db
                .prepare(
                  `UPDATE message_map SET status = ?, upstream_sid = coalesce(?, upstream_sid), error_code = coalesce(?, error_code), updated_at = ?
            WHERE sid = ? AND status IN (${from.map(() => '?').join(', ')}) RETURNING *`,
                )
                .get(...args, ...from) as Row | undefined);
        return r === undefined ? null : mappedMessageRow(r);
      }),
    owned: async (customer, accountSid, limit) => (m.owned.all(customer, accountSid, limit) as Row[]).map(mappedMessageRow),
  };
  const scheduler: SchedulerStore = {
    schedule: (x) =>
      write(() => {
        j.insert.run(x.id, x.topic, x.customer, isoTime(x.dueAt), x.payload);
      }),
    cancel: (id) => write(() => j.cancel.run(id).changes === 1),
    takeDue: (now, leaseUntil, limit) =>
      write(() =>
        (j.take.all(isoTime(leaseUntil), isoTime(now), isoTime(now), limit) as Row[])
          .map(jobRow)
          .sort((a, b) => a.dueAt.localeCompare(b.dueAt)),
      ),
    complete: (id) =>
      write(() => {
        j.complete.run(id);
      }),
    get: async (id) => {
      const r = j.get.get(id) as Row | undefined;
      return r === undefined ? null : jobRow(r);
    },
  };
  return { messages, scheduler };
}
