// Validates an untrusted object as a Message. Shared by every adapter (CLI, HTTP, library) so
// that all of them accept and refuse exactly the same input, with the same error text.

import { canonicalRecipient } from './phone-number.js';
import type { Channel, Message } from './types.js';

const CHANNELS: ReadonlySet<string> = new Set(['sms', 'mms', 'voice', 'chat']);
const MAX_BODY = 10_000;

export type ParseResult = { ok: true; message: Message } | { ok: false; error: string };

function str(v: unknown): v is string {
  return typeof v === 'string';
}

export function parseMessage(raw: unknown, fallbackId: string): ParseResult {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return { ok: false, error: 'message must be a JSON object' };
  const o = raw as Record<string, unknown>;
  const bad = (field: string, why: string): ParseResult => ({ ok: false, error: `field "${field}" ${why}` });
  if (o.id !== undefined && !str(o.id) && typeof o.id !== 'number') return bad('id', 'must be a string');
  if (o.body !== undefined && !str(o.body)) return bad('body', 'must be a string');
  const body = (o.body as string | undefined) ?? '';
  if (body.length > MAX_BODY) return bad('body', `is longer than ${MAX_BODY} characters`);
  const channel = o.channel ?? 'sms';
  if (!str(channel) || !CHANNELS.has(channel)) return bad('channel', 'must be one of sms, mms, voice, chat');
  for (const f of ['customer', 'endUser', 'from', 'to', 'timestamp'] as const) {
    if (o[f] !== undefined && !str(o[f])) return bad(f, 'must be a string');
  }
  if (o.mediaUrls !== undefined && (!Array.isArray(o.mediaUrls) || !o.mediaUrls.every(str))) {
    return bad('mediaUrls', 'must be an array of strings');
  }
  // Phone channels: the recipient in its canonical form (see phone-number.ts), so that opt-outs
  // and everything else keyed by it match however the number was written. A chat recipient is an
  // identifier of the chat platform, taken as written; no recipient at all screens content only.
  let to = (o.to as string | undefined) ?? '';
  if (to !== '' && channel !== 'chat') {
    const canonical = canonicalRecipient(to, (o.from as string | undefined) ?? '');
    if (canonical === null) return bad('to', 'is not a phone number (E.164 such as +14155550100) or channel address');
    to = canonical;
  }
  const message: Message = {
    id: o.id === undefined ? fallbackId : String(o.id),
    customer: (o.customer as string | undefined) ?? 'default',
    channel: channel as Channel,
    from: (o.from as string | undefined) ?? '',
    to,
    body,
  };
  if (o.endUser !== undefined) message.endUser = o.endUser as string;
  if (o.mediaUrls !== undefined) message.mediaUrls = o.mediaUrls as string[];
  if (o.timestamp !== undefined) message.timestamp = o.timestamp as string;
  return { ok: true, message };
}
