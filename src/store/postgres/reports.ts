// The reports-and-cases log in PostgreSQL: appends group-committed, one multi-row INSERT per batch
// under the table's append lock (context.ts).

import { reportRow } from '../rows/reports.js';
import { isoTime } from '../rows/shared.js';
import type { ReportEvent, ReportEventInput, ReportStore } from '../types.js';
import { lock, nextSeq, type PgContext } from './context.js';

export function postgresReports({ tx, queue, all }: PgContext): ReportStore {
  const append = queue<ReportEventInput, ReportEvent>((items) =>
    tx(async (c) => {
      await lock(c, 'report_events');
      const base = await nextSeq(c, 'report_events');
      const events = items.map((e, i) => ({ ...e, at: isoTime(e.at), seq: base + i + 1 }));
      await c.query(
        `INSERT INTO report_events (seq, report_id, customer, kind, detail, actor, at)
      SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::text[], $7::timestamptz[])`,
        [
          events.map((e) => e.seq),
          events.map((e) => e.reportId),
          events.map((e) => e.customer),
          events.map((e) => e.kind),
          events.map((e) => JSON.stringify(e.detail)),
          events.map((e) => e.actor),
          events.map((e) => e.at),
        ],
      );
      return events;
    }),
  );
  return {
    append: (e) => append(e),
    byReport: async (id) => (await all('SELECT * FROM report_events WHERE report_id = $1 ORDER BY seq', [id])).map(reportRow),
    byCustomer: async (c) => (await all('SELECT * FROM report_events WHERE customer = $1 ORDER BY seq', [c])).map(reportRow),
  };
}
