// The secret Warden signs what it posts to a customer's app with (relayed inbound messages and
// status callbacks, and the status callbacks it owes for held messages): X-Twilio-Signature over
// the app's URL and the posted fields, as Twilio signs, so an app validating with `twilio.webhook()`
// or `validateRequest` and its own auth token accepts them. In order:
//   1. the customer's explicit signing secret (settings.signingSecret, sealed);
//   2. the customer's own auth token (the credential named by its account SID, sealed at issue);
//   3. the upstream auth token, for credentials issued before auth tokens were kept sealed
//      (logged once per customer: such an app rejects the relays until its token is reissued).
// Opened secrets are cached per customer until tenancy changes (Gateway.tenancyChanged, through
// the change channel) or for at most the credential TTL (a change the channel cannot carry, such
// as `warden customers update` against a single node's SQLite file, is seen within it), so a relay
// costs no database read and no decryption once warm.

import type { CustomerRecord, TenancyStore } from '../../store/types.js';
import { credentialContext, signingSecretContext, type SecretBox } from '../../store/secret-box.js';
import type { FormFields } from './resources.js';
import { computeSignature } from './signature.js';

export type SigningSource = 'signing-secret' | 'auth-token' | 'upstream-token' | 'none';

interface Entry {
  secret: string | undefined;
  source: SigningSource;
}
interface Cached extends Entry {
  expires: number;
}

const MAX_ENTRIES = 10_000;

export class RelaySigner {
  private readonly cache = new Map<string, Cached>();
  private readonly warned = new Set<string>();
  private generation = 0;

  constructor(
    private readonly tenancy: TenancyStore,
    private readonly secrets: SecretBox | undefined,
    private readonly warn: (detail: Record<string, unknown>, msg: string) => void,
    private readonly ttlMs = 30_000,
  ) {}

  /** The secret relays to this customer's app are signed with, and where it came from. */
  async secretFor(customer: CustomerRecord): Promise<Entry> {
    const hit = this.cache.get(customer.id);
    if (hit !== undefined && hit.expires > Date.now()) return hit;
    const generation = this.generation;
    const entry = await this.resolve(customer);
    // A tenancy change while resolving may have made this answer stale: use it, do not keep it.
    if (generation === this.generation) {
      if (this.cache.size >= MAX_ENTRIES) this.cache.clear();
      this.cache.set(customer.id, { ...entry, expires: Date.now() + this.ttlMs });
    }
    return entry;
  }

  /** X-Twilio-Signature for a post of `fields` to `url` on behalf of the customer (undefined: nothing to sign with). */
  async sign(customer: CustomerRecord, url: string, fields: FormFields): Promise<string | undefined> {
    const { secret } = await this.secretFor(customer);
    return secret === undefined ? undefined : computeSignature(secret, url, fields);
  }

  /** Forget every opened secret (a customer or credential changed). */
  invalidate(): void {
    this.generation++;
    this.cache.clear();
  }

  private async resolve(c: CustomerRecord): Promise<Entry> {
    const explicit = c.settings?.signingSecret;
    if (explicit !== undefined && explicit !== '') {
      const s = this.open(explicit, signingSecretContext(c.id), c.id, 'signing secret');
      if (s !== undefined) return { secret: s, source: 'signing-secret' };
    }
    const cred = await this.tenancy.getCredential(c.accountSid);
    const live = cred !== null && cred.customer === c.id && (cred.revokedAt === undefined || cred.revokedAt === null);
    if (live && cred.secretSealed !== undefined) {
      const s = this.open(cred.secretSealed, credentialContext(cred.id), c.id, 'auth token');
      if (s !== undefined) return { secret: s, source: 'auth-token' };
    }
    const fallback = c.upstream.authToken;
    this.warnOnce(
      c.id,
      {
        customer: c.id,
        signedWith: fallback !== undefined ? 'upstream auth token' : 'nothing (unsigned)',
        fix: 'reissue the auth token (warden customers revoke, then credential) or set a signing secret',
      },
      live
        ? 'the auth token was issued before Warden kept it sealed: relays to the app cannot be signed with it'
        : 'the customer has no live auth token: relays to the app cannot be signed with it',
    );
    return { secret: fallback, source: fallback !== undefined ? 'upstream-token' : 'none' };
  }

  private open(sealed: string, context: string, customer: string, what: string): string | undefined {
    if (this.secrets === undefined) return undefined;
    try {
      return this.secrets.open(sealed, context);
    } catch {
      // Sealed under another installation key (WARDEN_SECRET_KEY changed) or copied between records.
      this.warnOnce(`${customer}\0${what}`, { customer }, `the ${what} does not open with this installation's secret key`);
      return undefined;
    }
  }

  private warnOnce(key: string, detail: Record<string, unknown>, msg: string): void {
    if (this.warned.has(key)) return;
    if (this.warned.size >= MAX_ENTRIES) this.warned.clear();
    this.warned.add(key);
    this.warn(detail, msg);
  }
}
