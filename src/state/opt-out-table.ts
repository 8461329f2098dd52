// Opt-out membership in memory: an open-addressing hash table keyed by a 64-bit hash of
// (customer, recipient), held in four Uint32Arrays (hash high, hash low, instant, value): 16 bytes
// a slot. It keeps the instant (whole seconds) and seq of the latest consent event applied for the
// key, and whether it is an opt-out. The latest is the one with the latest instant, seq breaking
// ties: an event older than the one applied changes nothing, in whatever order events arrive, and
// an event applied twice does no harm.
// False positives need a 64-bit collision: about n^2 / 2^65, ~3e-6 at 10 million records.

const EMPTY = 0;
const OPTED_OUT = 0x80000000;
const SEQ_MASK = 0x7fffffff;

/** Two independent 32-bit hashes (FNV-1a variants with murmur finalisers) of customer \0 recipient. */
function hash64(customer: string, recipient: string, out: Uint32Array): void {
  let h1 = 0x811c9dc5 | 0;
  let h2 = 0x9747b28c | 0;
  for (let i = 0; i < customer.length; i++) {
    const c = customer.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  h1 = Math.imul(h1 ^ 0xff, 0x01000193);
  h2 = Math.imul(h2 ^ 0xff, 0x5bd1e995);
  for (let i = 0; i < recipient.length; i++) {
    const c = recipient.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  h1 ^= h1 >>> 16;
  h1 = Math.imul(h1, 0x85ebca6b);
  h1 ^= h1 >>> 13;
  h1 = Math.imul(h1, 0xc2b2ae35);
  h1 ^= h1 >>> 16;
  h2 ^= h2 >>> 16;
  h2 = Math.imul(h2, 0x85ebca6b);
  h2 ^= h2 >>> 13;
  h2 = Math.imul(h2, 0xc2b2ae35);
  h2 ^= h2 >>> 16;
  out[0] = h1 >>> 0;
  // The low word is never 0 so that (0, 0) marks an empty slot.
  out[1] = h2 >>> 0 || 1;
}

export class OptOutTable {
  private hi: Uint32Array;
  private lo: Uint32Array;
  private at: Uint32Array;
  private val: Uint32Array;
  private mask: number;
  private used = 0;
  private optedOutCount = 0;
  private readonly h = new Uint32Array(2);

  constructor(initialCapacity = 1024) {
    let cap = 1024;
    while (cap < initialCapacity / 0.75) cap *= 2;
    this.hi = new Uint32Array(cap);
    this.lo = new Uint32Array(cap);
    this.at = new Uint32Array(cap);
    this.val = new Uint32Array(cap);
    this.mask = cap - 1;
  }

  /** Keys held (opted out or opted back in). */
  get size(): number {
    return this.used;
  }
  /** Keys currently opted out. */
  get optedOut(): number {
    return this.optedOutCount;
  }
  get capacity(): number {
    return this.mask + 1;
  }
  get bytes(): number {
    return this.capacity * 16;
  }

  private slot(hi: number, lo: number): number {
    let i = (lo ^ Math.imul(hi, 0x9e3779b1)) & this.mask;
    for (;;) {
      const l = this.lo[i];
      if (l === EMPTY || (l === lo && this.hi[i] === hi)) return i;
      i = (i + 1) & this.mask;
    }
  }

  has(customer: string, recipient: string): boolean {
    hash64(customer, recipient, this.h);
    const i = this.slot(this.h[0], this.h[1]);
    return this.lo[i] !== EMPTY && (this.val[i] & OPTED_OUT) !== 0;
  }

  /**
   * Applies a consent event: of the events applied for a key, the one with the latest instant
   * (`atSeconds`, seconds since the epoch) decides, the higher seq among those of one second.
   */
  apply(customer: string, recipient: string, optedOut: boolean, seq: number, atSeconds = 0): void {
    if ((this.used + 1) / this.capacity > 0.75) this.grow();
    hash64(customer, recipient, this.h);
    const hi = this.h[0];
    const lo = this.h[1];
    const i = this.slot(hi, lo);
    const s = seq & SEQ_MASK;
    const t = Math.min(Math.max(0, Math.floor(atSeconds)), 0xffffffff);
    if (this.lo[i] === EMPTY) {
      this.hi[i] = hi;
      this.lo[i] = lo;
      this.used++;
    } else if (this.at[i] > t || (this.at[i] === t && (this.val[i] & SEQ_MASK) > s)) {
      return; // an older event arriving late, or replayed
    }
    const was = (this.val[i] & OPTED_OUT) !== 0;
    this.at[i] = t;
    this.val[i] = (s | (optedOut ? OPTED_OUT : 0)) >>> 0;
    if (was !== optedOut) this.optedOutCount += optedOut ? 1 : -1;
  }

  clear(): void {
    this.hi.fill(0);
    this.lo.fill(0);
    this.at.fill(0);
    this.val.fill(0);
    this.used = 0;
    this.optedOutCount = 0;
  }

  private grow(): void {
    const { hi, lo, at, val } = this;
    const cap = this.capacity * 2;
    this.hi = new Uint32Array(cap);
    this.lo = new Uint32Array(cap);
    this.at = new Uint32Array(cap);
    this.val = new Uint32Array(cap);
    this.mask = cap - 1;
    for (let j = 0; j < lo.length; j++) {
      if (lo[j] === EMPTY) continue;
      const i = this.slot(hi[j], lo[j]);
      this.hi[i] = hi[j];
      this.lo[i] = lo[j];
      this.at[i] = at[j];
      this.val[i] = val[j];
    }
  }
}
