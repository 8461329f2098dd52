// Settling a message or call held for review: released (forwarded upstream as the app sent it)
// or refused (failed with the refusal's error code), and the app told through its StatusCallback.
// The message keeps the SID the app was given: the message map records the upstream's beside it.
// Used by the admin review routes; the review queue's atomic claim makes one settlement win.

import type { CallbackPost } from '../../store/types.js';
import type { Gateway } from '../gateway.js';
import { first, type FormFields } from '../twilio/resources.js';
import { errorForClause, topReason, twilioError } from '../twilio/twilio-errors.js';
import { UpstreamClient, UpstreamError, type UpstreamResponse } from '../twilio/upstream.js';

/** The held item exists but is no longer held: another node or admin claimed or settled it. */
export class HeldConflict extends Error {
  constructor(
    readonly sid: string,
    readonly state: string,
  ) {
    super(
      state === 'releasing'
        ? `${sid} is being released by another request`
        : state === 'held'
          ? `${sid} changed while this request ran; try again`
          : `${sid} was already ${state}`,
    );
  }
}

export interface SettleResult {
  status: string;
  upstreamStatus?: number;
  upstreamSid?: string;
  errorCode?: number;
}

/**
 * Releases or refuses a held message; tells the app through its StatusCallback. The review queue
 * is claimed first (held -> releasing, or held -> refused, atomically in the store), so of two
 * nodes or admins settling at once only one forwards or refuses; the other gets HeldConflict.
 * An unreachable upstream puts the item back to held (and the UpstreamError propagates).
 */
export async function settleHeld(gw: Gateway, sid: string, action: 'release' | 'refuse', actor: string): Promise<SettleResult | null> {
  const review = gw.deps.stores.review;
  const current = await review.get(sid);
  if (current === null) return null;
  if (current.state !== 'held') throw new HeldConflict(sid, current.state);
  const customer = await gw.deps.stores.tenancy.getCustomer(current.customer);
  if (customer === null) throw new Error(`customer ${current.customer} no longer exists`);
  const isMessage = current.kind === 'message';
  const callback: FormFields = {
    AccountSid: current.accountSid,
    From: first(current.fields, 'From'),
    To: first(current.fields, 'To'),
    ApiVersion: '2010-04-01',
  };
  callback[isMessage ? 'MessageSid' : 'CallSid'] = sid;
  if (isMessage) callback.SmsSid = sid;
  let result: SettleResult;
  const at = () => new Date().toISOString();
  // The status callback the app is owed, signed as the provider signs its own: with the
  // customer's own auth token (or explicit signing secret), which is what the app validates with.
  let post: CallbackPost | undefined;
  const signingSecret = current.statusCallback ? (await gw.signer.secretFor(customer)).secret : undefined;
  const owed = (fields: FormFields) =>
    current.statusCallback ? gw.callbacks.prepare(current.statusCallback, fields, signingSecret) : undefined;
  if (action === 'release') {
    const held = await review.claim(sid, actor, at());
    if (held === null) throw new HeldConflict(sid, (await review.get(sid))?.state ?? 'settled');
    let res: UpstreamResponse;
    try {
      res = await gw.upstream.send({
        customer,
        operation: isMessage ? 'release-message' : 'release-call',
        method: 'POST',
        path: `/2010-04-01/Accounts/${UpstreamClient.accountSid(customer)}/${isMessage ? 'Messages' : 'Calls'}.json`,
        contentType: 'application/x-www-form-urlencoded',
        body: held.raw,
        accept: 'application/json',
      });
    } catch (e) {
      // Nothing reached the upstream: the item is held again, for a later release or refusal.
      if (e instanceof UpstreamError) await review.unclaim(sid);
      throw e;
    }
    let upstreamSid: string | undefined;
    let errorCode: number | undefined;
    try {
      upstreamSid = (JSON.parse(res.body.toString('utf8')) as { sid?: string }).sid;
    } catch {
      /* not JSON */
    }
    const ok = res.status < 300;
    const status = ok ? 'queued' : 'failed';
    callback[isMessage ? 'MessageStatus' : 'CallStatus'] = status;
    if (isMessage) callback.SmsStatus = status;
    if (!ok) {
      try {
        errorCode = (JSON.parse(res.body.toString('utf8') || '{}') as { code?: number }).code;
      } catch {
        /* not JSON */
      }
      errorCode = typeof errorCode === 'number' ? errorCode : 30001;
      callback.ErrorCode = String(errorCode);
    }
    post = owed(callback);
    await review.released(sid, {
      by: actor,
      at: at(),
      upstreamStatus: res.status,
      ...(upstreamSid ? { upstreamSid } : {}),
      ...(errorCode !== undefined ? { errorCode } : {}),
      ...(post ? { callback: post } : {}),
    });
    // From now on the app's SID names the upstream's message (fetch, lists, status callbacks).
    // (Fetch falls back to the review queue's upstream SID should this write fail.)
    await gw.deps.stores.messages
      .transition(sid, null, {
        status,
        ...(upstreamSid ? { upstreamSid } : {}),
        ...(errorCode !== undefined ? { errorCode } : {}),
        at: at(),
      })
      .catch(() => null);
    result = { status, upstreamStatus: res.status };
    if (upstreamSid) result.upstreamSid = upstreamSid;
  } else {
    const code = twilioError(errorForClause(topReason(current.decision)?.clause)).code;
    callback[isMessage ? 'MessageStatus' : 'CallStatus'] = isMessage ? 'failed' : 'canceled';
    if (isMessage) callback.SmsStatus = 'failed';
    callback.ErrorCode = String(code);
    post = owed(callback);
    const refused = await review.refuse(sid, actor, at(), code, post);
    if (refused === null) throw new HeldConflict(sid, (await review.get(sid))?.state ?? 'settled');
    await gw.deps.stores.messages.transition(sid, null, { status: isMessage ? 'failed' : 'canceled', errorCode: code, at: at() });
    result = { status: isMessage ? 'failed' : 'canceled', errorCode: code };
  }
  // Committed with the settlement above; the first attempt is this node's.
  if (post && current.statusCallback) await gw.callbacks.deliver(sid, current.customer, current.statusCallback, post);
  return result;
}
