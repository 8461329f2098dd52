// Rows of the enforcement log (enforcement_events) as both SQL backends return them.

import type { EnforcementEvent } from '../types.js';
import { opt, type Row } from './shared.js';

export function enforcementRow(r: Row): EnforcementEvent {
  const e: EnforcementEvent = {
    seq: Number(r.seq),
    customer: r.customer as string,
    action: r.action as EnforcementEvent['action'],
    reason: r.reason as string,
    actor: r.actor as string,
    at: r.at as string,
  };
  const endUser = opt<string>(r.end_user);
  if (endUser !== undefined) e.endUser = endUser;
  const clause = opt<string>(r.clause);
  if (clause !== undefined) e.clause = clause;
  return e;
}
