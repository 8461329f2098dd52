// The reports-and-cases log in SQLite: appends through the durable writer; seqs are the table's rowids.

import type Database from 'better-sqlite3';
import { reportRow } from '../rows/reports.js';
import { isoTime, type Row } from '../rows/shared.js';
import type { ReportEventInput, ReportStore } from '../types.js';
import type { Write } from './writer.js';

export function sqliteReports(db: Database.Database, write: Write): ReportStore {
  const insert = db.prepare('INSERT INTO report_events (report_id, customer, kind, detail, actor, at) VALUES (?, ?, ?, ?, ?, ?)');
  const byReport = db.prepare('SELECT * FROM report_events WHERE report_id = ? ORDER BY seq');
  const byCustomer = db.prepare('SELECT * FROM report_events WHERE customer = ? ORDER BY seq');
  return {
    append: (e: ReportEventInput) =>
      write(() => {
        const at = isoTime(e.at);
        const r = insert.run(e.reportId, e.customer, e.kind, JSON.stringify(e.detail), e.actor, at);
        return { ...e, at, seq: Number(r.lastInsertRowid) };
      }),
    byReport: async (id) => (byReport.all(id) as Row[]).map(reportRow),
    byCustomer: async (c) => (byCustomer.all(c) as Row[]).map(reportRow),
  };
}
