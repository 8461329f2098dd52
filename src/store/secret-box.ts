// Secrets Warden must read back, sealed at rest under the installation key: AES-256-GCM with a
// random 96-bit nonce, and the record the secret belongs to as associated data, so a sealed value
// copied onto another record does not open. Used for customers' auth tokens (relays to the app
// are signed with them, as Twilio signs) and explicit signing secrets; API-key secrets are only
// ever verified, so they stay scrypt hashes (credentials.ts).
//
// The installation key comes from the configuration (WARDEN_SECRET_KEY) or, when absent, is
// generated once and kept in the store's meta table like the recipient key, so every node opens
// what another sealed. Keeping it in the configuration keeps it out of a database dump.

import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const PREFIX = 'gcm1:';
const NONCE = 12;
const TAG = 16;

export class SecretBox {
  private readonly key: Buffer;

  /** `secret`: the installation key as configured or generated (at least 16 characters). */
  constructor(secret: string) {
    if (secret.length < 16) throw new Error('the secret key (WARDEN_SECRET_KEY) must be at least 16 characters');
    // A fixed-length AES key from whatever text the operator chose.
    this.key = Buffer.from(hkdfSync('sha256', secret, 'warden', 'secret-box v1', 32));
  }

  /** `gcm1:` + base64url(nonce | tag | ciphertext); `context` names the record it belongs to. */
  seal(plain: string, context: string): string {
    const nonce = randomBytes(NONCE);
    const c = createCipheriv('aes-256-gcm', this.key, nonce);
    c.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return PREFIX + Buffer.concat([nonce, c.getAuthTag(), body]).toString('base64url');
  }

  /** The plain secret; throws when the value was sealed under another key or for another record. */
  open(sealed: string, context: string): string {
    if (!isSealed(sealed)) throw new Error('not a sealed secret');
    const raw = Buffer.from(sealed.slice(PREFIX.length), 'base64url');
    if (raw.length < NONCE + TAG) throw new Error('sealed secret truncated');
    const d = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, NONCE));
    d.setAAD(Buffer.from(context, 'utf8'));
    d.setAuthTag(raw.subarray(NONCE, NONCE + TAG));
    return Buffer.concat([d.update(raw.subarray(NONCE + TAG)), d.final()]).toString('utf8');
  }
}

export function isSealed(v: string): boolean {
  return v.startsWith(PREFIX);
}

export function newInstallationKey(): string {
  return randomBytes(32).toString('base64url');
}

/** The associated data of a credential's sealed secret and of a customer's signing secret. */
export const credentialContext = (id: string): string => `credential:${id}`;
export const signingSecretContext = (customer: string): string => `signing-secret:${customer}`;
