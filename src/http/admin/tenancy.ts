// Tenancy operations shared by the admin API and the `warden customers` CLI: create and update
// customers, issue and revoke credentials. Secrets are returned once. They are verified against
// scrypt hashes; an auth token is also kept sealed under the installation key (secret-box.ts),
// because relays to the customer's app are signed with it as Twilio signs. API-key secrets are
// only hashed. An explicit per-customer signing secret is sealed too.

import { canonicalAddress } from '../../core/phone-number.js';
import type { CredentialRecord, CustomerRecord, CustomerSettings, Stores } from '../../store/types.js';
import { credentialContext, signingSecretContext, type SecretBox } from '../../store/secret-box.js';
import { hashSecret, newSecret, newSid } from '../credentials.js';

export interface CustomerInput {
  id: string;
  name?: string;
  accountSid?: string;
  upstream?: { baseUrl?: string; accountSid?: string; authToken?: string };
  senders?: string[];
  webhookUrl?: string;
  settings?: CustomerSettings;
}

/** The stores tenancy writes to; `secrets` seals auth tokens and signing secrets (every opened storage layer has it). */
export type TenancyStores = Stores & { secrets?: SecretBox };

export class TenancyError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const ACCOUNT_SID = /^AC[0-9a-fA-F]{32}$/;
export const DEFAULT_UPSTREAM = 'https://api.twilio.com';

function checkUrl(u: string, field: string): void {
  let parsed: URL;
  try {
    parsed = new URL(u);
  } catch {
    throw new TenancyError(400, `${field} must be an absolute http(s) URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new TenancyError(400, `${field} must be an absolute http(s) URL`);
}

const SERVICE_SID = /^MG[0-9a-fA-F]{32}$/;
const CHANNEL = /^(whatsapp|messenger|rcs):/i;
/** Alphanumeric sender IDs: letters, digits and spaces, at most 11, at least one letter. */
const SENDER_ID = /^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$/;

/**
 * One registered sender in the form sends are compared in: a phone number in E.164, a Messaging
 * Service SID (`MG` and 32 hex digits, hex lowercased as Twilio writes it), a channel address
 * with its number in E.164 (`whatsapp:+14155550100`), or an alphanumeric sender ID as written.
 */
export function canonicalSender(raw: string): string {
  const s = raw.trim();
  if (SERVICE_SID.test(s)) return `MG${s.slice(2).toLowerCase()}`;
  if (/^MG[0-9a-fA-F]*$/.test(s))
    throw new TenancyError(400, `sender "${s.slice(0, 64)}" looks like a Messaging Service SID but is not MG followed by 32 hex digits`);
  if (CHANNEL.test(s)) {
    const c = canonicalAddress(s);
    if (c === null || !/^[a-z]+:\+\d{6,15}$/.test(c))
      throw new TenancyError(
        400,
        `sender "${s.slice(0, 64)}" is not a channel address with an E.164 number, such as whatsapp:+14155550100`,
      );
    return c;
  }
  const number = /^[+\d\s().-]+$/.test(s) ? canonicalAddress(s) : null;
  if (number !== null) return number;
  if (SENDER_ID.test(s)) return s;
  throw new TenancyError(
    400,
    `sender "${s.slice(0, 64)}" is neither an E.164 number, a Messaging Service SID (MG…), a whatsapp:+… address, nor an alphanumeric sender ID`,
  );
}

function canonicalSenders(senders: string[]): string[] {
  return [...new Set(senders.map(canonicalSender))];
}

function checkSettings(settings: CustomerSettings | undefined): void {
  if (settings?.refusalMode !== undefined && settings.refusalMode !== 'sync' && settings.refusalMode !== 'async')
    throw new TenancyError(400, "settings.refusalMode must be 'sync' or 'async'");
}

/**
 * Settings as stored: an explicit signing secret sealed for this customer (an empty one removes
 * it, so relays are signed with the auth token again).
 */
function storedSettings(stores: TenancyStores, id: string, given: CustomerSettings, base: CustomerSettings = {}): CustomerSettings {
  const out: CustomerSettings = { ...base, ...given };
  if (given.signingSecret === undefined) return out;
  if (given.signingSecret === '') {
    delete out.signingSecret;
    return out;
  }
  if (given.signingSecret.length < 8 || given.signingSecret.length > 200)
    throw new TenancyError(400, 'settings.signingSecret must be 8-200 characters (empty to remove it)');
  if (stores.secrets === undefined) throw new TenancyError(400, 'these stores cannot seal a signing secret');
  out.signingSecret = stores.secrets.seal(given.signingSecret, signingSecretContext(id));
  return out;
}

export async function createCustomer(stores: TenancyStores, input: CustomerInput): Promise<CustomerRecord> {
  if (!ID.test(input.id)) throw new TenancyError(400, 'id must be 1-64 letters, digits, dot, dash or underscore');
  if (await stores.tenancy.getCustomer(input.id)) throw new TenancyError(409, `customer ${input.id} exists`);
  const accountSid = input.accountSid ?? newSid('AC');
  if (!ACCOUNT_SID.test(accountSid)) throw new TenancyError(400, 'accountSid must be AC followed by 32 hex digits');
  if (await stores.tenancy.customerByAccountSid(accountSid)) throw new TenancyError(409, `account SID ${accountSid} is taken`);
  const upstream = { baseUrl: input.upstream?.baseUrl ?? DEFAULT_UPSTREAM } as CustomerRecord['upstream'];
  checkUrl(upstream.baseUrl, 'upstream.baseUrl');
  if (input.upstream?.accountSid !== undefined) upstream.accountSid = input.upstream.accountSid;
  if (input.upstream?.authToken !== undefined) upstream.authToken = input.upstream.authToken;
  if (input.webhookUrl !== undefined) checkUrl(input.webhookUrl, 'webhookUrl');
  checkSettings(input.settings);
  const c: CustomerRecord = {
    id: input.id,
    name: input.name ?? input.id,
    accountSid,
    upstream,
    senders: canonicalSenders(input.senders ?? []),
    settings: storedSettings(stores, input.id, input.settings ?? {}),
    createdAt: new Date().toISOString(),
  };
  if (input.webhookUrl !== undefined) c.webhookUrl = input.webhookUrl;
  await stores.tenancy.upsertCustomer(c);
  return c;
}

export async function updateCustomer(
  stores: TenancyStores,
  id: string,
  patch: Omit<CustomerInput, 'id' | 'accountSid'>,
): Promise<CustomerRecord> {
  const c = await stores.tenancy.getCustomer(id);
  if (c === null) throw new TenancyError(404, `no customer ${id}`);
  const next: CustomerRecord = { ...c, upstream: { ...c.upstream }, settings: { ...c.settings } };
  if (patch.name !== undefined) next.name = patch.name;
  if (patch.upstream !== undefined) {
    if (patch.upstream.baseUrl !== undefined) {
      checkUrl(patch.upstream.baseUrl, 'upstream.baseUrl');
      next.upstream.baseUrl = patch.upstream.baseUrl;
    }
    if (patch.upstream.accountSid !== undefined) next.upstream.accountSid = patch.upstream.accountSid;
    if (patch.upstream.authToken !== undefined) next.upstream.authToken = patch.upstream.authToken;
  }
  if (patch.senders !== undefined) next.senders = canonicalSenders(patch.senders);
  if (patch.webhookUrl !== undefined) {
    checkUrl(patch.webhookUrl, 'webhookUrl');
    next.webhookUrl = patch.webhookUrl;
  }
  checkSettings(patch.settings);
  if (patch.settings !== undefined) next.settings = storedSettings(stores, id, patch.settings, next.settings);
  await stores.tenancy.upsertCustomer(next);
  return next;
}

/** A customer as the admin API shows it: neither the upstream auth token nor the signing secret is echoed. */
export function redacted(c: CustomerRecord): CustomerRecord {
  return {
    ...c,
    upstream: { ...c.upstream, ...(c.upstream.authToken ? { authToken: '********' } : {}) },
    settings: { ...c.settings, ...(c.settings?.signingSecret ? { signingSecret: '********' } : {}) },
  };
}

export interface IssuedCredential {
  id: string;
  secret: string;
  customer: string;
  endUser?: string;
}

/**
 * Issues a credential. `auth-token` uses the customer's account SID (or the end user's subaccount
 * SID) as its ID, like Twilio, and is kept sealed as well as hashed; `api-key` gets a new SK SID
 * and is only hashed. A given secret is used as is (demo
 * seeding), otherwise a random one is generated.
 */
export async function issueCredential(
  stores: TenancyStores,
  customerId: string,
  opts: { kind: 'auth-token' | 'api-key'; endUser?: string; secret?: string; id?: string },
): Promise<IssuedCredential> {
  const c = await stores.tenancy.getCustomer(customerId);
  if (c === null) throw new TenancyError(404, `no customer ${customerId}`);
  if (opts.endUser !== undefined && !ID.test(opts.endUser) && !ACCOUNT_SID.test(opts.endUser))
    throw new TenancyError(400, 'endUser must be an identifier or a subaccount SID');
  const id =
    opts.id ??
    (opts.kind === 'api-key' ? newSid('SK') : opts.endUser !== undefined && ACCOUNT_SID.test(opts.endUser) ? opts.endUser : c.accountSid);
  const existing = await stores.tenancy.getCredential(id);
  if (existing !== null && (existing.revokedAt === undefined || existing.revokedAt === null)) {
    throw new TenancyError(409, `credential ${id} exists; revoke it first to rotate`);
  }
  const secret = opts.secret ?? newSecret();
  const rec: CredentialRecord = { id, customer: c.id, secretHash: await hashSecret(secret), createdAt: new Date().toISOString() };
  // An auth token is what the customer's app validates relays with: kept sealed so Warden can sign them.
  if (opts.kind === 'auth-token' && stores.secrets !== undefined) rec.secretSealed = stores.secrets.seal(secret, credentialContext(id));
  if (opts.endUser !== undefined) rec.endUser = opts.endUser;
  await stores.tenancy.addCredential(rec);
  const out: IssuedCredential = { id, secret, customer: c.id };
  if (opts.endUser !== undefined) out.endUser = opts.endUser;
  return out;
}
