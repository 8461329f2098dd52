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

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function randomBytesFromPool(n: number): Buffer {
  if (poolOffset + n > POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const out = pool.subarray(poolOffset, poolOffset + n);
  poolOffset += n;
  return out;
}

function random10(): Buffer {
  return randomBytesFromPool(10);
}

/** 32 random hex digits (128 bits) after `prefix`: Twilio-style SIDs ("SM" + 32 hex), without a UUID to strip. */
export function randomHexId(prefix: string): string {
  const r = randomBytesFromPool(16);
  let s = prefix;
  for (let k = 0; k < 16; k++) s += HEX[r[k]];
  return s;
}

/** A new UUIDv7 string, e.g. `019c7a3e-5b2f-7a41-9c3d-2f6e8b1a0c57`. */
export function uuidv7(now: number = Date.now()): string {
  const r = random10();
  if (now > lastMs) {
    lastMs = now;
    seq = ((r[0] & 0x07) << 8) | r[1]; // start low in the 12-bit space so a busy ms does not overflow
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
  const b6 = 0x70 | (seq >>> 8);
  const b7 = seq & 0xff;
  const b8 = 0x80 | (r[2] & 0x3f);
  return (
    HEX[(hi >>> 24) & 0xff] + HEX[(hi >>> 16) & 0xff] + HEX[(hi >>> 8) & 0xff] + HEX[hi & 0xff] + '-' +
    HEX[lo >>> 8] + HEX[lo & 0xff] + '-' +
    HEX[b6] + HEX[b7] + '-' +
    HEX[b8] + HEX[r[3]] + '-' +
    HEX[r[4]] + HEX[r[5]] + HEX[r[6]] + HEX[r[7]] + HEX[r[8]] + HEX[r[9]]
  );
}

/** The millisecond timestamp inside a UUIDv7, or null for another kind of ID. */
export function uuidv7Time(id: string): number | null {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id)) return null;
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
