// Decision IDs are UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits. Stores key
// decisions by (customer, id), so time-ordered IDs append at the end of that index instead of
// landing on a random page of it: a random UUIDv4 key made each decision insert in SQLite ~5x
// dearer (`node dist/bench/store.js` measures it). Within one millisecond the 12-bit rand_a field
// counts up from a random start, so IDs minted by one process sort in the order they were made.
// Twilio-style SIDs (randomHexId) draw on the same pool of random bytes.

import { randomFillSync } from 'node:crypto';

const POOL_SIZE = 16 * 256;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let poolOffset = POOL_SIZE;
let lastMs = -1;
let seq = 0;

// IDs are written as ASCII into a scratch buffer and read out as one string: building them by
// concatenating two-digit pieces made a chain of ~20 intermediate strings per ID (~800 bytes of
// garbage a decision, ~40% slower).
const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');
const scratch = Buffer.alloc(36, '-');

function randomBytesFromPool(n: number): number {
  if (poolOffset + n > POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const at = poolOffset;
  poolOffset += n;
  return at;
}

/** Writes byte `b` as two hex digits at `o` in the scratch buffer; returns the next offset. */
function hexByte(b: number, o: number): number {
  scratch[o] = HEX_DIGITS[b >>> 4];
  scratch[o + 1] = HEX_DIGITS[b & 15];
  return o + 2;
}

/** 32 random hex digits (128 bits) after `prefix`: Twilio-style SIDs ("SM" + 32 hex), without a UUID to strip. */
export function randomHexId(prefix: string): string {
  const at = randomBytesFromPool(16);
  return prefix + pool.toString('hex', at, at + 16);
}

/** A new UUIDv7 string, e.g. `019c7a3e-5b2f-7a41-9c3d-2f6e8b1a0c57`. */
export function uuidv7(now: number = Date.now()): string {
  const r = randomBytesFromPool(10);
  if (now > lastMs) {
    lastMs = now;
    seq = ((pool[r] & 0x07) << 8) | pool[r + 1]; // start low in the 12-bit space so a busy ms does not overflow
  } else {
    seq++;
    if (seq > 0xfff) {
      // More than ~2,000 IDs in one millisecond: borrow the next millisecond to stay ordered.
      lastMs++;
      seq = 0;
    }
  }
  const ms = lastMs;
  const hi = Math.floor(ms / 0x10000); // top 32 bits of the 48-bit timestamp
  const lo = ms % 0x10000;
  let o = hexByte((hi >>> 24) & 0xff, 0);
  o = hexByte((hi >>> 16) & 0xff, o);
  o = hexByte((hi >>> 8) & 0xff, o);
  o = hexByte(hi & 0xff, o) + 1;
  o = hexByte(lo >>> 8, o);
  o = hexByte(lo & 0xff, o) + 1;
  o = hexByte(0x70 | (seq >>> 8), o);
  o = hexByte(seq & 0xff, o) + 1;
  o = hexByte(0x80 | (pool[r + 2] & 0x3f), o);
  o = hexByte(pool[r + 3], o) + 1;
  for (let k = 4; k < 10; k++) o = hexByte(pool[r + k], o);
  return scratch.toString('latin1', 0, 36);
}

/** The millisecond timestamp inside a UUIDv7, or null for another kind of ID. */
export function uuidv7Time(id: string): number | null {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id)) return null;
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
