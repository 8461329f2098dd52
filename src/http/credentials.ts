// Credential secrets (auth tokens, API key secrets) are stored as scrypt hashes and compared in
// constant time. scrypt is slow by design, so a verified credential is cached in memory, keyed by
// the credential ID and a SHA-256 of the secret, for a short TTL: the request path stays free of
// both I/O and key derivation. Revocation and tenancy changes clear the cache.

import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { CredentialRecord, CustomerRecord, TenancyStore } from '../store/types.js';
import { randomHexId } from '../core/ids.js';

const N = 16384;
const R = 8;
const P = 1;
const KEYLEN = 32;

function scrypt(secret: string, salt: Buffer, keylen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(secret, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

/** `scrypt$N$r$p$salt$hash`, salt and hash in base64. */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(secret, salt, KEYLEN, { N, r: R, p: P, maxmem: 64 * 1024 * 1024 });
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [n, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  if (![n, r, p].every((x) => Number.isInteger(x) && x > 0) || n > 1 << 20) return false;
  const salt = Buffer.from(parts[4], 'base64');
  const expected = Buffer.from(parts[5], 'base64');
  if (expected.length === 0) return false;
  const key = await scrypt(secret, salt, expected.length, { N: n, r, p, maxmem: 256 * 1024 * 1024 });
  return timingSafeEqual(key, expected);
}

/** A new random secret: 32 hex characters, like a Twilio auth token. */
export function newSecret(): string {
  return randomBytes(16).toString('hex');
}

/**
 * A Twilio-style SID: two-letter prefix plus 32 hex digits. Built from a random UUID, which Node
 * draws from a pre-filled entropy pool: no system call per message on the request path.
 */
export function newSid(prefix: string): string {
  return randomHexId(prefix);
}

export interface BasicCredentials {
  username: string;
  password: string;
}

export function parseBasicAuth(header: string | undefined): BasicCredentials | null {
  if (header === undefined || header.length > 1024) return null;
  const m = /^Basic\s+([A-Za-z0-9+/=._-]+)\s*$/i.exec(header);
  if (!m) return null;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return null;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export interface Principal {
  credentialId: string;
  customer: CustomerRecord;
  endUser?: string;
}

interface CacheEntry {
  principal: Principal | null;
  expires: number;
}

/**
 * A secret that must be verified (not cached) was refused before scrypt ran: too many failed
 * verifications from this client within the minute, or too many verifications waiting. Each
 * scrypt costs tens of milliseconds of CPU and 16 MiB, so unbounded guessing would be a denial of
 * service. The HTTP layer answers 429 with Retry-After (Twilio code 20429).
 */
export class VerificationThrottled extends Error {
  readonly statusCode = 429;
  constructor(
    readonly retryAfterSeconds: number,
    why: string,
  ) {
    super(`too many credential verifications ${why}; retry in ${retryAfterSeconds} s`);
  }
}

export interface VerificationLimits {
  /** scrypt verifications running at once (the rest wait their turn). */
  concurrent: number;
  /** Verifications allowed to wait for a turn; more are refused. */
  queued: number;
  /** Failed verifications per client (IP) per minute before its unverified secrets are refused. */
  failuresPerMinute: number;
}

export const DEFAULT_VERIFICATION_LIMITS: VerificationLimits = { concurrent: 4, queued: 256, failuresPerMinute: 30 };

export class Authenticator {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inflight = new Map<string, Promise<Principal | null>>();
  private readonly headerCache = new Map<string, CacheEntry & { generation: number; username: string }>();
  private generation = 0;
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly failures = new Map<string, { count: number; resetAt: number }>();

  constructor(
    private readonly tenancy: TenancyStore,
    private readonly ttlMs = 30_000,
    private readonly negativeTtlMs = 2_000,
    private readonly maxEntries = 10_000,
    private readonly limits: VerificationLimits = DEFAULT_VERIFICATION_LIMITS,
  ) {}

  /**
   * Verifies `id:secret`; null when unknown, revoked or wrong. `client` (the caller's address)
   * is charged for failures; a client over its failure budget, or a full verification queue,
   * gets VerificationThrottled instead of another scrypt run.
   */
  async verify(id: string, secret: string, client = ''): Promise<Principal | null> {
    if (id.length === 0 || id.length > 64 || secret.length === 0 || secret.length > 256) return null;
    const key = `${id}\u0000${createHash('sha256').update(secret).digest('base64')}`;
    const now = Date.now();
    const hit = this.cache.get(key);
    if (hit !== undefined && hit.expires > now) return hit.principal;
    const pending = this.inflight.get(key);
    if (pending !== undefined) return pending;
    const generation = this.generation;
    this.checkFailures(client, now);
    const work: Promise<Principal | null> = this.throttled(() => this.lookup(id, secret)).finally(() => {
      if (this.inflight.get(key) === work) this.inflight.delete(key);
    });
    this.inflight.set(key, work);
    const principal = await work;
    if (principal === null) this.chargeFailure(client, now);
    if (generation === this.generation) {
      if (this.cache.size >= this.maxEntries) this.cache.clear();
      this.cache.set(key, { principal, expires: now + (principal ? this.ttlMs : this.negativeTtlMs) });
    }
    return principal;
  }

  private checkFailures(client: string, now: number): void {
    const f = this.failures.get(client);
    if (f !== undefined && f.resetAt > now && f.count >= this.limits.failuresPerMinute) {
      throw new VerificationThrottled(Math.max(1, Math.ceil((f.resetAt - now) / 1000)), 'that failed from this client');
    }
  }

  private chargeFailure(client: string, now: number): void {
    let f = this.failures.get(client);
    if (f === undefined || f.resetAt <= now) {
      if (this.failures.size >= this.maxEntries) this.failures.clear();
      f = { count: 0, resetAt: now + 60_000 };
      this.failures.set(client, f);
    }
    f.count++;
  }

  /** Runs `work` when fewer than `limits.concurrent` verifications are running; refuses when the queue is full. */
  private async throttled<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.limits.concurrent) {
      if (this.waiting.length >= this.limits.queued) throw new VerificationThrottled(1, 'waiting');
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    this.running++;
    try {
      return await work();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }

  /** Verifications running and waiting (tests, metrics). */
  verificationLoad(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  /**
   * The principal of an Authorization header verified within the TTL, without decoding or hashing
   * it again (undefined when it must be verified). Keyed by the exact header text, so it can only
   * answer for the very credentials that were verified; it holds headers no longer than the TTL.
   */
  /** The verification of this exact header if it is cached and current (undefined: not cached). */
  cachedHeader(header: string | undefined): Principal | null | undefined {
    if (header === undefined) return undefined;
    const hit = this.headerCache.get(header);
    if (hit === undefined) return undefined;
    if (hit.expires <= Date.now() || hit.generation !== this.generation) {
      this.headerCache.delete(header);
      return undefined;
    }
    return hit.principal;
  }

  /**
   * The username (account SID or API key SID) of an Authorization header, for per-credential rate
   * limits: from the verified-header cache when the header is in it, so a busy client's header is
   * not decoded again on every request.
   */
  usernameOf(header: string | undefined): string | null {
    if (header !== undefined) {
      const hit = this.headerCache.get(header);
      if (hit !== undefined) return hit.username;
    }
    return parseBasicAuth(header)?.username ?? null;
  }

  async fromHeader(header: string | undefined, client = ''): Promise<Principal | null> {
    const cached = this.cachedHeader(header);
    if (cached !== undefined) return cached;
    const basic = parseBasicAuth(header);
    if (basic === null) return null;
    const generation = this.generation;
    const principal = await this.verify(basic.username, basic.password, client);
    if (header !== undefined && generation === this.generation) {
      if (this.headerCache.size >= this.maxEntries) this.headerCache.clear();
      this.headerCache.set(header, {
        principal,
        expires: Date.now() + (principal ? this.ttlMs : this.negativeTtlMs),
        generation,
        username: basic.username,
      });
    }
    return principal;
  }

  /** Forget every cached verification (credential revoked, customer changed). */
  invalidate(): void {
    this.generation++;
    this.cache.clear();
    this.headerCache.clear();
    // A lookup started before the change may have read the old record: later requests must not join it.
    this.inflight.clear();
  }

  private async lookup(id: string, secret: string): Promise<Principal | null> {
    const cred: CredentialRecord | null = await this.tenancy.getCredential(id);
    if (cred === null || (cred.revokedAt !== undefined && cred.revokedAt !== null)) {
      // Spend comparable time on unknown IDs so their existence does not leak through timing.
      await verifySecret(secret, DUMMY_HASH);
      return null;
    }
    if (!(await verifySecret(secret, cred.secretHash))) return null;
    const customer = await this.tenancy.getCustomer(cred.customer);
    if (customer === null) return null;
    const principal: Principal = { credentialId: cred.id, customer };
    if (typeof cred.endUser === 'string') principal.endUser = cred.endUser;
    return principal;
  }
}

const DUMMY_HASH = `scrypt$${N}$${R}$${P}$${Buffer.alloc(16).toString('base64')}$${Buffer.alloc(KEYLEN).toString('base64')}`;
