// What every row mapper and both SQL backends share: the untyped row a driver returns, the
// instant normalisation every stored time goes through, and the tables erasure walks.

/** A row as better-sqlite3 or pg returns it: column name to value. */
export type Row = Record<string, unknown>;

/** A nullable column as an optional field (SQL NULL and a missing column both read as absent). */
export const opt = <T>(v: unknown): T | undefined => (v === null || v === undefined ? undefined : (v as T));

export const present = (v: unknown): boolean => v !== null && v !== undefined;

/** A JSON column: SQLite stores TEXT, PostgreSQL's jsonb arrives parsed. */
export const json = <T>(v: unknown): T => (typeof v === 'string' ? JSON.parse(v) : v) as T;

/**
 * Every stored instant is canonical ISO-8601 UTC, so text comparison (SQLite) and timestamptz
 * (PostgreSQL) order the same way; an unparseable instant is refused before it reaches SQL.
 */
export const isoTime = (at: string): string => {
  const t = Date.parse(at);
  if (Number.isNaN(t)) throw new Error(`invalid instant "${at}"`);
  return new Date(t).toISOString();
};

/** Erasure of a customer: each table holding its rows, by the name the erasure report counts it under. */
export const CUSTOMER_TABLES = [
  ['consent', 'consent_events'],
  ['enforcement', 'enforcement_events'],
  ['reports', 'report_events'],
  ['decisions', 'decisions'],
  ['held', 'review_queue'],
  ['credentials', 'credentials'],
  ['webhookEvents', 'webhook_events'],
  // A subject's scheduled jobs go with its mapped messages (a job's id is its message's SID).
  ['messages', 'message_map'],
  ['scheduled', 'scheduled_jobs'],
] as const;

/** The evidence of the opt-out an erasure keeps for a number, under its keyed hash. */
export const SUPPRESSION_EVIDENCE = 'kept as a keyed-hash suppression entry after erasure';
