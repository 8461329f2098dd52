// Rows of the hash-chained audit log (audit_log) as both SQL backends return them.

import type { AuditEntry } from '../types.js';
import { json, present, type Row } from './shared.js';

export function auditRow(r: Row): AuditEntry {
  const e: AuditEntry = {
    seq: Number(r.seq),
    actor: r.actor as string,
    action: r.action as string,
    subject: r.subject as string,
    at: r.at as string,
    prevHash: r.prev_hash as string,
    hash: r.hash as string,
  };
  if (present(r.detail)) e.detail = json<Record<string, unknown>>(r.detail);
  return e;
}
