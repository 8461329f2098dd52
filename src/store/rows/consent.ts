// Rows of the consent log (consent_events) as both SQL backends return them.

import type { ConsentEvent } from '../types.js';
import { opt, type Row } from './shared.js';

export function consentRow(r: Row): ConsentEvent {
  const e: ConsentEvent = {
    seq: Number(r.seq),
    customer: r.customer as string,
    recipient: r.recipient as string,
    kind: r.kind as ConsentEvent['kind'],
    source: r.source as ConsentEvent['source'],
    at: r.at as string,
  };
  const evidence = opt<string>(r.evidence);
  if (evidence !== undefined) e.evidence = evidence;
  return e;
}
