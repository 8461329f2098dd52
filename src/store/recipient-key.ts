// Recipient numbers stored as keyed hashes (HMAC-SHA256) for customers who ask for it. The key
// lives in the configuration (WARDEN_RECIPIENT_KEY) or, when absent, is generated once and kept
// in the store's meta table so that every node hashes alike.

import { createHmac, randomBytes } from 'node:crypto';

export const HASH_PREFIX = 'h1:';

/** True when a stored recipient is a keyed hash rather than a number. */
export function isHashedRecipient(stored: string): boolean {
  return stored.startsWith(HASH_PREFIX);
}

/** The keyed hash of an E.164 number: `h1:` + hex HMAC-SHA256(secret, number). */
export function hashRecipient(secret: string, e164: string): string {
  return HASH_PREFIX + createHmac('sha256', secret).update(e164.trim()).digest('hex');
}

/** How a recipient is stored for a customer: the number itself, or its keyed hash. */
export function storedRecipient(secret: string, hashRecipients: boolean | undefined, e164: string): string {
  if (isHashedRecipient(e164)) return e164;
  return hashRecipients === true ? hashRecipient(secret, e164) : e164;
}

/** Every stored form a number may take (plain and hashed): used by lookups, export and erase. */
export function recipientForms(secret: string, e164: string): string[] {
  return isHashedRecipient(e164) ? [e164] : [e164, hashRecipient(secret, e164)];
}

export function newRecipientSecret(): string {
  return randomBytes(32).toString('base64url');
}
