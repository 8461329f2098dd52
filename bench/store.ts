// Store benchmarks (not timed tests): `npm run bench:store [-- --records N --seconds S]`.
//   1. opt-out membership from memory: lookups/s and bytes per record at N records (default 10M)
//   2. durable opt-out writes under concurrency (group commit): SQLite, and PostgreSQL when
//      WARDEN_TEST_DATABASE_URL is set
//   3. shared rate-limit checks through Redis (atomic Lua, auto-pipelined) when WARDEN_TEST_REDIS_URL is set

import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { OptOutTable } from '../src/state/opt-out-table.js';
import { openStores } from '../src/store/open-stores.js';
import { DEFAULT_CONFIG, type WardenConfig } from '../src/config.js';
import { RedisShared } from '../src/store/redis/redis-shared.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const RECORDS = arg('records', 10_000_000);
const SECONDS = arg('seconds', 5);
const CONCURRENCY = arg('concurrency', 64);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const gc = (globalThis as { gc?: () => void }).gc;

function optOutBench(): void {
  gc?.();
  const before = process.memoryUsage();
  const t = new OptOutTable(RECORDS);
  const t0 = performance.now();
  for (let i = 0; i < RECORDS; i++) t.apply(`cust${i % 1000}`, `+1${String(2000000000 + i)}`, true, i + 1);
  const loadMs = performance.now() - t0;
  gc?.();
  const after = process.memoryUsage();
  const grew = after.arrayBuffers - before.arrayBuffers + Math.max(0, after.heapUsed - before.heapUsed);
  // Lookups: half present, half absent; keys prepared outside the timed loop.
  const K = 1 << 20;
  const cs: string[] = new Array(K);
  const rs: string[] = new Array(K);
  for (let i = 0; i < K; i++) {
    const j = Math.floor(Math.random() * RECORDS);
    cs[i] = `cust${j % 1000}`;
    rs[i] = `+1${String((i & 1) === 0 ? 2000000000 + j : 3000000000 + j)}`;
  }
  let hits = 0;
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < SECONDS * 1000) {
    for (let i = 0; i < K; i++) if (t.has(cs[i], rs[i])) hits++;
    n += K;
  }
  const secs = (performance.now() - start) / 1000;
  console.log(
    `opt-out table: ${fmt(RECORDS)} records loaded in ${(loadMs / 1000).toFixed(1)} s; ` +
      `table ${(t.bytes / 2 ** 20).toFixed(0)} MiB = ${(t.bytes / RECORDS).toFixed(1)} B/record (capacity ${fmt(t.capacity)}); ` +
      `process.memoryUsage grew ${(grew / 2 ** 20).toFixed(0)} MiB = ${(grew / RECORDS).toFixed(1)} B/record; rss ${(after.rss / 2 ** 20).toFixed(0)} MiB`,
  );
  console.log(`opt-out lookups: ${fmt(n / secs)} /s (${fmt(n)} in ${secs.toFixed(1)} s, hit rate ${(hits / n).toFixed(3)})`);
}

async function writeBench(label: string, config: WardenConfig): Promise<void> {
  const s = await openStores(config, { log: () => undefined });
  let acked = 0;
  let running = true;
  const worker = async (w: number) => {
    let i = 0;
    while (running) {
      await s.consent.append({
        customer: `bench${w % 10}`,
        recipient: `+1555${w}${i++}`,
        kind: 'opt-out',
        source: 'keyword',
        evidence: 'STOP',
        at: new Date().toISOString(),
      });
      acked++;
    }
  };
  const t0 = performance.now();
  const workers = Array.from({ length: CONCURRENCY }, (_, w) => worker(w));
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  running = false;
  await Promise.all(workers);
  const secs = (performance.now() - t0) / 1000;
  const stored = (await s.consent.since(0, 10_000_000)).length;
  console.log(
    `${label}: ${fmt(acked / secs)} durable opt-out appends/s acknowledged (${fmt(acked)} in ${secs.toFixed(1)} s, ${CONCURRENCY} concurrent clients; ${fmt(stored)} rows read back)`,
  );
  await s.close();
}

async function redisBench(url: string): Promise<void> {
  const prefix = `bench:${randomBytes(4).toString('hex')}:`;
  const r = await RedisShared.open(url, { prefix });
  let n = 0;
  let running = true;
  const worker = async (w: number) => {
    while (running) {
      const res = await r.counters.take(`sender:${w % 100}`, 1_000_000, 60_000, Date.now());
      if (res.failedOpen === true) throw new Error('Redis failed open during the benchmark');
      n++;
    }
  };
  const t0 = performance.now();
  const workers = Array.from({ length: 256 }, (_, w) => worker(w));
  await new Promise((res) => setTimeout(res, SECONDS * 1000));
  running = false;
  await Promise.all(workers);
  const secs = (performance.now() - t0) / 1000;
  console.log(
    `redis rate-limit checks: ${fmt(n / secs)} atomic take()/s (${fmt(n)} in ${secs.toFixed(1)} s, 256 concurrent callers, auto-pipelined Lua)`,
  );
  await r.close();
}

async function main(): Promise<void> {
  console.log(
    `machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
  );
  optOutBench();
  const dir = mkdtempSync(join(tmpdir(), 'warden-bench-'));
  await writeBench('sqlite (WAL, synchronous=FULL)', { ...DEFAULT_CONFIG, dataDir: join(dir, 'data') });
  rmSync(dir, { recursive: true, force: true });
  const dbUrl = process.env.WARDEN_TEST_DATABASE_URL;
  if (dbUrl !== undefined && dbUrl !== '') {
    const schema = `bench_${randomBytes(4).toString('hex')}`;
    await writeBench('postgres (synchronous_commit=on)', { ...DEFAULT_CONFIG, databaseUrl: dbUrl, databaseSchema: schema, poolSize: 10 });
    const c = new pg.Client({ connectionString: dbUrl });
    await c.connect();
    await c.query(`DROP SCHEMA ${schema} CASCADE`);
    await c.end();
  } else {
    console.log('postgres: skipped (set WARDEN_TEST_DATABASE_URL)');
  }
  const redisUrl = process.env.WARDEN_TEST_REDIS_URL;
  if (redisUrl !== undefined && redisUrl !== '') await redisBench(redisUrl);
  else console.log('redis: skipped (set WARDEN_TEST_REDIS_URL)');
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
