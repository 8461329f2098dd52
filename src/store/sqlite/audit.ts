// The hash-chained audit log in SQLite. The append that other stores call inside their own write
// (a review settlement, an erasure) is separate, so the entry commits with what it records.

import type Database from 'better-sqlite3';
import { chain, GENESIS_HASH, verifyPaged } from '../audit-hash.js';
import { auditRow } from '../rows/audit.js';
import { isoTime, type Row } from '../rows/shared.js';
import type { AuditEntry, AuditEntryInput, AuditStore } from '../types.js';
import type { Write } from './writer.js';

/** Appends one entry to the chain; call it only inside a write (the chain reads its last entry). */
export type AuditInTx = (input: AuditEntryInput) => AuditEntry;

export function sqliteAuditInTx(db: Database.Database): AuditInTx {
  const last = db.prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1');
  const insert = db.prepare(
    'INSERT INTO audit_log (seq, actor, action, subject, detail, at, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  return (input) => {
    const l = last.get() as { seq: number; hash: string } | undefined;
    const [entry] = chain(l?.seq ?? 0, l?.hash ?? GENESIS_HASH, [{ ...input, at: isoTime(input.at) }]);
    insert.run(
      entry.seq,
      entry.actor,
      entry.action,
      entry.subject,
      entry.detail === undefined ? null : JSON.stringify(entry.detail),
      entry.at,
      entry.prevHash,
      entry.hash,
    );
    return entry;
  };
}

export function sqliteAudit(db: Database.Database, write: Write, auditInTx: AuditInTx): AuditStore {
  const list = db.prepare('SELECT * FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?');
  return {
    append: (input: AuditEntryInput) => write(() => auditInTx(input)),
    list: async (after, limit) => (list.all(after, limit) as Row[]).map(auditRow),
    verify: () => verifyPaged((after) => (list.all(after, 5000) as Row[]).map(auditRow)),
  };
}
