// The consent log in PostgreSQL: appends group-committed, one multi-row INSERT per batch under
// the table's append lock (context.ts).

import { consentRow } from '../rows/consent.js';
import { isoTime } from '../rows/shared.js';
import type { ConsentEvent, ConsentEventInput, ConsentStore } from '../types.js';
import { lock, nextSeq, type PgContext } from './context.js';

export function postgresConsent({ tx, queue, all }: PgContext): ConsentStore {
  const append = queue<ConsentEventInput, ConsentEvent>((items) =>
    tx(async (c) => {
      await lock(c, 'consent_events');
      const base = await nextSeq(c, 'consent_events');
      const events = items.map((e, i) => ({ ...e, at: isoTime(e.at), seq: base + i + 1 }));
      await c.query(
        `INSERT INTO consent_events (seq, customer, recipient, kind, source, evidence, at)
      SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[])`,
        [
          events.map((e) => e.seq),
          events.map((e) => e.customer),
          events.map((e) => e.recipient),
          events.map((e) => e.kind),
          events.map((e) => e.source),
          events.map((e) => e.evidence ?? null),
          events.map((e) => e.at),
        ],
      );
      return events;
    }),
  );
  return {
    append: (e) => append(e),
    since: async (after, limit = 10_000) =>
      (await all('SELECT * FROM consent_events WHERE seq > $1 ORDER BY seq LIMIT $2', [after, limit])).map(consentRow),
    history: async (customer, recipient) =>
      (await all('SELECT * FROM consent_events WHERE customer = $1 AND recipient = $2 ORDER BY seq', [customer, recipient])).map(
        consentRow,
      ),
  };
}
