// Rows of the message map and the scheduler's jobs, as both SQL backends return them, turned into
// the store contract's records (src/store/types.ts). Shared so the two backends cannot drift.

import type { JobState, MappedMessage, MappedMessageInput, ScheduledJob } from '../types.js';
import { json, present, type Row } from './shared.js';

export function mappedMessageRow(r: Row): MappedMessage {
  const m: MappedMessage = {
    sid: r.sid as string,
    customer: r.customer as string,
    accountSid: r.account_sid as string,
    kind: r.kind as MappedMessage['kind'],
    origin: r.origin as MappedMessage['origin'],
    createdAt: r.created_at as string,
    updatedAt: r.updated_at as string,
    status: r.status as string,
    fields: json<MappedMessage['fields']>(r.fields),
  };
  if (present(r.upstream_sid)) m.upstreamSid = r.upstream_sid as string;
  if (present(r.status_callback)) m.statusCallback = r.status_callback as string;
  if (present(r.error_code)) m.errorCode = Number(r.error_code);
  if (present(r.send_at)) m.sendAt = r.send_at as string;
  return m;
}

export function jobRow(r: Row): ScheduledJob {
  const j: ScheduledJob = {
    id: r.id as string,
    topic: r.topic as string,
    customer: r.customer as string,
    dueAt: r.due_at as string,
    payload: r.payload as string,
    state: r.state as JobState,
    attempts: Number(r.attempts),
  };
  if (present(r.lease_until)) j.leaseUntil = r.lease_until as string;
  return j;
}

/** Most upstream SIDs one byUpstream call looks up (a list page is at most 1000). */
export const BY_UPSTREAM_MAX = 1000;

/** The recipient column (erasure by recipient): To as the app wrote it, like the review queue's. */
export function mappedRecipient(m: MappedMessageInput): string {
  const to = m.fields.To;
  return (Array.isArray(to) ? to[0] : to) ?? '';
}
