// Rows of the decision log (decisions) as both SQL backends return them.

import type { DecisionRecord } from '../types.js';
import { json, opt, type Row } from './shared.js';

export function decisionRow(r: Row): DecisionRecord {
  const d: DecisionRecord = {
    id: r.id as string,
    customer: r.customer as string,
    messageId: r.message_id as string,
    channel: r.channel as string,
    action: r.action as string,
    score: Number(r.score),
    policyVersion: r.policy_version as string,
    reasons: json<unknown[]>(r.reasons),
    to: r.recipient as string,
    from: r.sender as string,
    body: (r.body as string | null) ?? null,
    at: r.at as string,
  };
  const endUser = opt<string>(r.end_user);
  if (endUser !== undefined) d.endUser = endUser;
  return d;
}
