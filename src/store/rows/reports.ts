// Rows of the reports-and-cases log (report_events) as both SQL backends return them.

import type { ReportEvent } from '../types.js';
import { json, type Row } from './shared.js';

export function reportRow(r: Row): ReportEvent {
  return {
    seq: Number(r.seq),
    reportId: r.report_id as string,
    customer: r.customer as string,
    kind: r.kind as ReportEvent['kind'],
    detail: json<Record<string, unknown>>(r.detail),
    actor: r.actor as string,
    at: r.at as string,
  };
}
