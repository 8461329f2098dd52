// The decision log in PostgreSQL: records group-committed, one multi-row INSERT (unnest) per batch.

import { decisionRow } from '../rows/decisions.js';
import { isoTime } from '../rows/shared.js';
import type { DecisionRecord, DecisionStore } from '../types.js';
import type { PgContext } from './context.js';

const COLUMNS = [
  'customer',
  'id',
  'end_user',
  'message_id',
  'channel',
  'action',
  'score',
  'policy_version',
  'reasons',
  'recipient',
  'sender',
  'body',
  'at',
];
const TYPES = ['text', 'text', 'text', 'text', 'text', 'text', 'float8', 'text', 'jsonb', 'text', 'text', 'text', 'timestamptz'];
const INSERT = `INSERT INTO decisions (${COLUMNS.join(', ')}) SELECT * FROM unnest(${TYPES.map((t, i) => `$${i + 1}::${t}[]`).join(', ')})`;

export function postgresDecisions({ pool, queue, all }: PgContext): DecisionStore {
  const record = queue<DecisionRecord, void>(async (items) => {
    const values: unknown[][] = [
      items.map((d) => d.customer),
      items.map((d) => d.id),
      items.map((d) => d.endUser ?? null),
      items.map((d) => d.messageId),
      items.map((d) => d.channel),
      items.map((d) => d.action),
      items.map((d) => d.score),
      items.map((d) => d.policyVersion),
      items.map((d) => JSON.stringify(d.reasons)),
      items.map((d) => d.to),
      items.map((d) => d.from),
      items.map((d) => d.body),
      items.map((d) => isoTime(d.at)),
    ];
    await pool.query(INSERT, values);
    return items.map(() => undefined);
  });
  return {
    record: (d) => record(d),
    recordMany: (ds) =>
      Promise.all(
        ds.map((d) =>
          record(d).then(
            () => null,
            (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
          ),
        ),
      ),
    get: async (customer, id) => {
      const rows = await all('SELECT * FROM decisions WHERE customer = $1 AND id = $2', [customer, id]);
      return rows.length === 0 ? null : decisionRow(rows[0]);
    },
    list: async (customer, limit, before) =>
      (
        await all(
          "SELECT * FROM decisions WHERE customer = $1 AND at < coalesce($2::timestamptz, 'infinity') ORDER BY at DESC, id DESC LIMIT $3",
          [customer, before !== undefined ? isoTime(before) : null, limit],
        )
      ).map(decisionRow),
    purgeBodies: async (customer, olderThan) =>
      (
        await pool.query('UPDATE decisions SET body = NULL WHERE customer = $1 AND at < $2 AND body IS NOT NULL', [
          customer,
          isoTime(olderThan),
        ])
      ).rowCount ?? 0,
    purgeDecisions: async (customer, olderThan) =>
      (await pool.query('DELETE FROM decisions WHERE customer = $1 AND at < $2', [customer, isoTime(olderThan)])).rowCount ?? 0,
  };
}
