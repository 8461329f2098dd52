// Rows of the review queue (review_queue) as both SQL backends return them, and the SQL shapes
// both backends' review stores share: the states, the callback columns a settlement sets, and the
// conditions on them. Shared so the two backends cannot drift.

import type { CallbackPost, CallbackState, DueCallback, HeldCallback, HeldItem, HeldItemInput, HeldState } from '../types.js';
import { isoTime, json, present, type Row } from './shared.js';

export function heldRow(r: Row): HeldItem {
  const h: HeldItem = {
    sid: r.sid as string,
    kind: r.kind as HeldItem['kind'],
    customer: r.customer as string,
    accountSid: r.account_sid as string,
    fields: json<HeldItem['fields']>(r.fields),
    raw: r.raw as string,
    decision: json<HeldItem['decision']>(r.decision),
    heldAt: r.held_at as string,
    state: r.state as HeldState,
  };
  const optional: Array<[keyof HeldItem, unknown]> = [
    ['endUser', r.end_user],
    ['statusCallback', r.status_callback],
    ['claimedAt', r.claimed_at],
    ['claimedBy', r.claimed_by],
    ['settledAt', r.settled_at],
    ['settledBy', r.settled_by],
    ['upstreamSid', r.upstream_sid],
  ];
  for (const [k, v] of optional) if (present(v)) (h as unknown as Record<string, unknown>)[k] = v;
  if (present(r.upstream_status)) h.upstreamStatus = Number(r.upstream_status);
  if (present(r.error_code)) h.errorCode = Number(r.error_code);
  if (present(r.callback_state)) {
    const cb: HeldCallback = { state: r.callback_state as CallbackState, attempts: Number(r.callback_attempts) };
    if (cb.state === 'pending' && present(r.callback_next_at)) cb.nextAt = r.callback_next_at as string;
    if (present(r.callback_error)) cb.lastError = r.callback_error as string;
    h.callback = cb;
  }
  return h;
}

/** A pending callback row as taken for an attempt. */
export function dueCallbackRow(r: Row): DueCallback {
  const d: DueCallback = {
    sid: r.sid as string,
    customer: r.customer as string,
    url: r.status_callback as string,
    body: r.callback_body as string,
    attempts: Number(r.callback_attempts),
  };
  if (present(r.callback_signature)) d.signature = r.callback_signature as string;
  return d;
}

/** The callback columns a settlement sets, in this order (CALLBACK_COLUMNS): state, body, signature, attempts, next_at. */
export function callbackColumns(cb: CallbackPost | undefined): [string | null, string | null, string | null, number, string | null] {
  return cb === undefined ? [null, null, null, 0, null] : ['pending', cb.body, cb.signature ?? null, 1, isoTime(cb.leaseUntil)];
}

/** The columns callbackColumns() gives values for, in its order (each backend writes its own placeholders). */
export const CALLBACK_COLUMNS = ['callback_state', 'callback_body', 'callback_signature', 'callback_attempts', 'callback_next_at'] as const;

/** The recipient a held item is indexed by (erasure of one number finds it). */
export function heldRecipient(item: HeldItemInput): string {
  const to = item.fields.To;
  return (Array.isArray(to) ? to[0] : to) ?? '';
}

/** The audit entry of a settlement (release or refusal), written in the settlement's transaction. */
export function settledAuditInput(
  h: HeldItem,
  action: string,
): { actor: string; action: string; subject: string; detail: Record<string, unknown>; at: string } {
  const detail: Record<string, unknown> = { customer: h.customer, kind: h.kind, decision: h.decision.id };
  if (h.upstreamStatus !== undefined) detail.upstreamStatus = h.upstreamStatus;
  if (h.upstreamSid !== undefined) detail.upstreamSid = h.upstreamSid;
  if (h.errorCode !== undefined) detail.errorCode = h.errorCode;
  return { actor: h.settledBy ?? 'unknown', action, subject: `held:${h.sid}`, detail, at: h.settledAt ?? new Date().toISOString() };
}

export const UNSETTLED: HeldState[] = ['held', 'releasing'];
export const REVIEW_LIST_MAX = 10_000;
/** An ended callback sent again: pending, attempts counted afresh (each backend sets callback_next_at). */
export const CALLBACK_REQUEUE = "callback_state = 'pending', callback_attempts = 0";
export const CALLBACK_ENDED = "callback_state IN ('given_up', 'refused')";
/** Retention keeps a settled item whose status callback is still owed. */
export const NO_PENDING_CALLBACK = "(callback_state IS NULL OR callback_state <> 'pending')";
