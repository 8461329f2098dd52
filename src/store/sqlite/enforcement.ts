// The enforcement log in SQLite: appends through the durable writer; seqs are the table's rowids.

import type Database from 'better-sqlite3';
import { enforcementRow } from '../rows/enforcement.js';
import { isoTime, type Row } from '../rows/shared.js';
import type { EnforcementEventInput, EnforcementStore } from '../types.js';
import type { Write } from './writer.js';

export function sqliteEnforcement(db: Database.Database, write: Write): EnforcementStore {
  const insert = db.prepare(
    'INSERT INTO enforcement_events (customer, end_user, action, clause, reason, actor, at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const since = db.prepare('SELECT * FROM enforcement_events WHERE seq > ? ORDER BY seq LIMIT ?');
  const history = db.prepare('SELECT * FROM enforcement_events WHERE customer = ? ORDER BY seq');
  return {
    append: (e: EnforcementEventInput) =>
      write(() => {
        const at = isoTime(e.at);
        const r = insert.run(e.customer, e.endUser ?? null, e.action, e.clause ?? null, e.reason, e.actor, at);
        return { ...e, at, seq: Number(r.lastInsertRowid) };
      }),
    since: async (after, limit = 10_000) => (since.all(after, limit) as Row[]).map(enforcementRow),
    history: async (customer) => (history.all(customer) as Row[]).map(enforcementRow),
  };
}
