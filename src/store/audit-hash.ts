// The audit log's hash chain: each entry's hash covers its content and the previous entry's hash,
// so any edit, deletion or reordering breaks the chain from that entry on.

import { createHash } from 'node:crypto';
import type { AuditEntry, AuditEntryInput } from './types.js';

export const GENESIS_HASH = '0'.repeat(64);

function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(obj[k])}`)
    .join(',')}}`;
}

export function auditHash(seq: number, prevHash: string, e: AuditEntryInput): string {
  const body = canonical({ seq, actor: e.actor, action: e.action, subject: e.subject, detail: e.detail ?? null, at: e.at });
  return createHash('sha256').update(prevHash).update('\n').update(body).digest('hex');
}

/** Chains a batch after `prev`; returns complete entries. */
export function chain(prevSeq: number, prevHash: string, inputs: AuditEntryInput[]): AuditEntry[] {
  const out: AuditEntry[] = [];
  let seq = prevSeq;
  let prev = prevHash;
  for (const e of inputs) {
    seq += 1;
    const hash = auditHash(seq, prev, e);
    out.push({ ...e, seq, prevHash: prev, hash });
    prev = hash;
  }
  return out;
}

/** Returns the first seq whose entry does not chain, or null. `entries` in seq order, from the start. */
export function verifyChain(entries: AuditEntry[], startPrevHash = GENESIS_HASH): number | null {
  let prev = startPrevHash;
  for (const e of entries) {
    const { seq, prevHash, hash, ...input } = e;
    if (prevHash !== prev || auditHash(seq, prevHash, input) !== hash) return seq;
    prev = hash;
  }
  return null;
}

/** Verifies the whole chain a page at a time: `page(after)` returns entries with seq > after, in order. */
export async function verifyPaged(page: (after: number) => Promise<AuditEntry[]> | AuditEntry[]): Promise<number | null> {
  let after = 0;
  let prev = GENESIS_HASH;
  for (;;) {
    const entries = await page(after);
    if (entries.length === 0) return null;
    const broken = verifyChain(entries, prev);
    if (broken !== null) return broken;
    after = entries[entries.length - 1].seq;
    prev = entries[entries.length - 1].hash;
  }
}
