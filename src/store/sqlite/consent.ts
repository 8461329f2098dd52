// The consent log in SQLite: appends through the durable writer; seqs are the table's rowids.

import type Database from 'better-sqlite3';
import { consentRow } from '../rows/consent.js';
import { isoTime, type Row } from '../rows/shared.js';
import type { ConsentEventInput, ConsentStore } from '../types.js';
import type { Write } from './writer.js';

export function sqliteConsent(db: Database.Database, write: Write): ConsentStore {
  const insert = db.prepare('INSERT INTO consent_events (customer, recipient, kind, source, evidence, at) VALUES (?, ?, ?, ?, ?, ?)');
  const since = db.prepare('SELECT * FROM consent_events WHERE seq > ? ORDER BY seq LIMIT ?');
  const history = db.prepare('SELECT * FROM consent_events WHERE customer = ? AND recipient = ? ORDER BY seq');
  return {
    append: (e: ConsentEventInput) =>
      write(() => {
        const at = isoTime(e.at);
        const r = insert.run(e.customer, e.recipient, e.kind, e.source, e.evidence ?? null, at);
        return { ...e, at, seq: Number(r.lastInsertRowid) };
      }),
    since: async (after, limit = 10_000) => (since.all(after, limit) as Row[]).map(consentRow),
    history: async (customer, recipient) => (history.all(customer, recipient) as Row[]).map(consentRow),
  };
}
