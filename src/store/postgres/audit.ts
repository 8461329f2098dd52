// The hash-chained audit log in PostgreSQL. insertAudit() runs in the caller's transaction, so a
// review settlement or an erasure commits with its entry; appends are group-committed.

import { chain, GENESIS_HASH, verifyPaged } from '../audit-hash.js';
import { auditRow } from '../rows/audit.js';
import { isoTime } from '../rows/shared.js';
import type { AuditEntry, AuditEntryInput, AuditStore } from '../types.js';
import { lock, type Client, type PgContext } from './context.js';

export async function insertAudit(c: Client, inputs: AuditEntryInput[]): Promise<AuditEntry[]> {
  await lock(c, 'audit_log');
  const last = (await c.query('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1')).rows[0] as
    { seq: number; hash: string } | undefined;
  const entries = chain(
    last?.seq ?? 0,
    last?.hash ?? GENESIS_HASH,
    inputs.map((e) => ({ ...e, at: isoTime(e.at) })),
  );
  await c.query(
    `INSERT INTO audit_log (seq, actor, action, subject, detail, at, prev_hash, hash)
    SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::timestamptz[], $7::text[], $8::text[])`,
    [
      entries.map((e) => e.seq),
      entries.map((e) => e.actor),
      entries.map((e) => e.action),
      entries.map((e) => e.subject),
      entries.map((e) => (e.detail === undefined ? null : JSON.stringify(e.detail))),
      entries.map((e) => e.at),
      entries.map((e) => e.prevHash),
      entries.map((e) => e.hash),
    ],
  );
  return entries;
}

export function postgresAudit({ tx, queue, all }: PgContext): AuditStore {
  const append = queue<AuditEntryInput, AuditEntry>((items) => tx((c) => insertAudit(c, items)));
  return {
    append: (e) => append(e),
    list: async (after, limit) => (await all('SELECT * FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2', [after, limit])).map(auditRow),
    verify: () =>
      verifyPaged(async (after) => (await all('SELECT * FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 5000', [after])).map(auditRow)),
  };
}
