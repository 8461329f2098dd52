// The enforcement log in PostgreSQL: appends group-committed, one multi-row INSERT per batch under
// the table's append lock (context.ts).

import { enforcementRow } from '../rows/enforcement.js';
import { isoTime } from '../rows/shared.js';
import type { EnforcementEvent, EnforcementEventInput, EnforcementStore } from '../types.js';
import { lock, nextSeq, type PgContext } from './context.js';

export function postgresEnforcement({ tx, queue, all }: PgContext): EnforcementStore {
  const append = queue<EnforcementEventInput, EnforcementEvent>((items) =>
    tx(async (c) => {
      await lock(c, 'enforcement_events');
      const base = await nextSeq(c, 'enforcement_events');
      const events = items.map((e, i) => ({ ...e, at: isoTime(e.at), seq: base + i + 1 }));
      await c.query(
        `INSERT INTO enforcement_events (seq, customer, end_user, action, clause, reason, actor, at)
      SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::timestamptz[])`,
        [
          events.map((e) => e.seq),
          events.map((e) => e.customer),
          events.map((e) => e.endUser ?? null),
          events.map((e) => e.action),
          events.map((e) => e.clause ?? null),
          events.map((e) => e.reason),
          events.map((e) => e.actor),
          events.map((e) => e.at),
        ],
      );
      return events;
    }),
  );
  return {
    append: (e) => append(e),
    since: async (after, limit = 10_000) =>
      (await all('SELECT * FROM enforcement_events WHERE seq > $1 ORDER BY seq LIMIT $2', [after, limit])).map(enforcementRow),
    history: async (customer) =>
      (await all('SELECT * FROM enforcement_events WHERE customer = $1 ORDER BY seq', [customer])).map(enforcementRow),
  };
}
